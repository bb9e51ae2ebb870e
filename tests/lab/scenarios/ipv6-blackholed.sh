# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The client has an IPv6 address and default route, but r1 silently drops everything IPv6 it
# would forward out of the client's LAN; IPv4 works.
DESCRIPTION="IPv6 default route present but blackholed upstream; IPv4 works"
MIRRORS="a host with SLAAC/static IPv6 behind a provider or firewall that does not route IPv6"
# Outbound, certbot (urllib3) tries the CA's AAAA first, waits out its 45 s connect timeout and
# then uses IPv4: the ACME API works, slowly. Inbound, the replies to the validator's IPv6
# HTTP-01 connection are dropped too.
#
# Pebble vs Let's Encrypt: Let's Encrypt's VA (Boulder va/http.go) dials the first AAAA and, on a
# dial error (a 10 s dial timeout included), falls back to the first A record, so with Let's
# Encrypt this domain validates over IPv4 and certbot gets its certificate. Pebble dials the AAAA
# and never falls back ("dial tcp [2001:db8:1::2]:80: i/o timeout"), so in the lab certbot fails.
# The doctor is asserted against Let's Encrypt's behaviour: a warning (IPv6 broken), exit 0.
EXPECT_ISSUED=no
EXPECT_EXIT=0
EXPECT_CODES=(tcp.acme.ipv6-broken:warn)
CERTBOT_TIMEOUT=100
LE_DIFFERENCE="Let's Encrypt falls back to IPv4 after the IPv6 dial timeout and issues; Pebble does not, so certbot fails in the lab"

scenario_setup() {
    nsx r1 ip6tables -A FORWARD -i to-client -j DROP
}

scenario_verify() {
    # certbot failed for the reason Pebble differs on: the validation timed out on IPv6 and no
    # validation request ever reached nginx over IPv4.
    grep -qE 'Detail: Get "http://www\.lab-example\.com.*(i/o timeout|Timeout exceeded)' "$1/certbot.out" ||
        { echo "certbot did not fail on an HTTP-01 validation timeout"; return 1; }
    if grep -q 'acme-challenge' "$LAB_TMP/nginx-client/logs/access.log"; then
        echo "a validation request reached nginx: Pebble fell back to IPv4 after all"
        return 1
    fi
}

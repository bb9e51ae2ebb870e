# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The domain's AAAA points at an address nobody routes: r2 (the Internet's edge in the lab) has
# no route for 2001:db8:dead::/48 and answers ICMPv6 "no route to destination", so connecting
# fails at once with ENETUNREACH, from the client and from the CA alike. The A record works.
DESCRIPTION="the domain's AAAA is an address no router has a route for (ICMPv6 no route); the A works"
MIRRORS="a stale AAAA left after a move or a provider renumbering, an AAAA copied from a template, an IPv6 prefix that is not announced"
EXPECT_ISSUED=no
EXPECT_EXIT=0
EXPECT_CODES=(http01.reachability.unreachable:warn)
LE_DIFFERENCE="Let's Encrypt dials the AAAA first and falls back to the A record after a dial error such as 'network unreachable', so it would issue (the doctor warns); Pebble does not fall back, so certbot fails in the lab"
DOCTOR_ARGS=("$USER_DOMAIN")
DEAD6=2001:db8:dead::80

scenario_setup() {
    lab_dead_aaaa "$DEAD6"
}

scenario_verify() {
    local err
    err=$(nsx r2 ip -6 route get "$DEAD6" 2>&1) && { echo "r2 has a route to $DEAD6: $err"; return 1; }
    lab_dead_aaaa_hit || return 1
    # certbot failed because Pebble dialled the AAAA and did not fall back to the A record.
    grep -q "dial tcp \[$DEAD6\]:80: connect: network is unreachable" "$1/certbot.out" ||
        { echo "certbot did not fail on Pebble's IPv6 dial to $DEAD6"; return 1; }
    if grep -q "^$CA4 .*acme-challenge" "$LAB_TMP/nginx-client/logs/access.log"; then
        echo "a validation request from the CA reached nginx over IPv4: Pebble fell back after all"
        return 1
    fi
}

scenario_doctor_check() {
    lab_finding_contains "$1/doctor.json" http01.reachability.unreachable \
        "$USER_DOMAIN at $DEAD6: Fetching http://$USER_DOMAIN/.well-known/acme-challenge/" &&
        lab_finding_contains "$1/doctor.json" http01.reachability.unreachable ": Network unreachable"
}

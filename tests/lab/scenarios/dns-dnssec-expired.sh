# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# lab-example.com signed by ldns-signzone 30 days ago with signatures that expired 3 days ago (a
# zone whose re-signing stopped), served by NSD on ns1/ns2. Both unbound resolvers validate with
# the zone's KSK as trust anchor: the DNSKEY set's own signature has expired, so they cannot
# trust the zone's keys and answer SERVFAIL for every name in it, with an Extended DNS Error
# (unbound 1.17: 9 DNSKEY Missing while it primes the anchor, 6 DNSSEC Bogus afterwards). Pebble
# resolves through its own and cannot even look the name up. The doctor names the first break:
# the RRSIG over the DNSKEY set by the KSK, and when it expired.
DESCRIPTION="lab-example.com's RRSIGs expired 3 days ago; the validating resolvers answer SERVFAIL"
MIRRORS="'DNS problem: SERVFAIL looking up A for www.example.com - the domain's nameservers may be malfunctioning' after a DNS host's re-signing stopped (or a self-signed zone's cron job died)"
EXPECT_ISSUED=no
EXPECT_EXIT=1
# The CAA lookup fails the same way (Let's Encrypt refuses on a CAA SERVFAIL too); the HTTP-01
# checks have no address to probe.
EXPECT_CODES=(dns.domain.dnssec-bogus:fail dns.caa.lookup-failed:fail http01.reachability.no-addresses:fail)
DOCTOR_ARGS=("$USER_DOMAIN" --webroot "$LAB_TMP/webroot" --dnssec-anchor "$LAB_TMP/dnssec/anchor.key")

scenario_setup() {
    lab_authdns_up --stub "ns1 ns2" --ca-stub "ns1 ns2" --dnssec expired
}

scenario_verify() {
    local out s
    # The servers really serve signatures that expired at DNSSEC_EXPIRATION.
    for s in "$NS1_4" "$NS2_4"; do
        nsx client dig +norec +dnssec +time=1 +tries=1 "@$s" "$USER_DOMAIN" A |
            grep -Eq "RRSIG[[:space:]]+A 13 3 300 $DNSSEC_EXPIRATION [0-9]+ $DNSSEC_ZSK_TAG $AUTHDNS_ZONE\\." ||
            { echo "$s serves no RRSIG by key $DNSSEC_ZSK_TAG expiring $DNSSEC_EXPIRATION over $USER_DOMAIN A"; return 1; }
    done
    ((DNSSEC_EXPIRATION < $(date -u +%Y%m%d%H%M%S))) || { echo "the signatures expire at $DNSSEC_EXPIRATION, not in the past"; return 1; }
    # Both validating resolvers answer SERVFAIL, and the answer is there with checking disabled.
    out=$(nsx client dig +time=2 +tries=1 "$USER_DOMAIN" A)
    grep -q 'status: SERVFAIL' <<<"$out" ||
        { echo "the client's resolver does not answer SERVFAIL: $(grep status: <<<"$out")"; return 1; }
    grep -Eq 'EDE: (6|7|9) ' <<<"$out" ||
        { echo "the client's resolver sends no DNSSEC Extended DNS Error: $(grep -i 'ede' <<<"$out")"; return 1; }
    [[ $(nsx client dig +cd +time=2 +tries=1 +short "$USER_DOMAIN" A) == "$CLIENT4" ]] ||
        { echo "with +cd the client's resolver does not answer $CLIENT4"; return 1; }
    out=$(nsx ca dig +time=2 +tries=1 @127.0.0.1 "$USER_DOMAIN" A)
    grep -q 'status: SERVFAIL' <<<"$out" ||
        { echo "the CA's resolver does not answer SERVFAIL: $(grep status: <<<"$out")"; return 1; }
    [[ $(nsx ca dig +cd +time=2 +tries=1 +short @127.0.0.1 "$USER_DOMAIN" A) == "$CLIENT4" ]] ||
        { echo "with +cd the CA's resolver does not answer $CLIENT4"; return 1; }
    # certbot failed because Pebble's lookup failed, not for any other reason (Pebble says "could
    # not resolve URL"; Boulder says "DNS problem: SERVFAIL looking up A for ...").
    grep -q "could not resolve URL \"http://$USER_DOMAIN:80/" "$1/certbot.out" ||
        { echo "certbot's error is not Pebble's failed lookup: $(grep -i detail "$1/certbot.out" | head -2)"; return 1; }
    grep -Eq "validation failure <$USER_DOMAIN\\. (A|AAAA) IN>: .*signature expired" "$LAB_TMP/log/unbound-ca.log" ||
        { echo "the CA's unbound logs no expired-signature failure for $USER_DOMAIN A"; return 1; }
}

scenario_doctor_check() {
    local when
    when=$(date -u -d "${DNSSEC_EXPIRATION:0:8} ${DNSSEC_EXPIRATION:8:2}:${DNSSEC_EXPIRATION:10:2}:${DNSSEC_EXPIRATION:12:2}" '+%Y-%m-%d %H:%M:%S UTC')
    lab_finding_contains "$1/doctor.json" dns.domain.dnssec-bogus \
        "RRSIG over lab-example.com DNSKEY by lab-example.com key $DNSSEC_KSK_TAG (ECDSAP256SHA256) expired at $when" &&
        lab_finding_contains "$1/doctor.json" dns.domain.dnssec-bogus "(the resolver system resolver from /etc/resolv.conf: $RESOLVER4:53 agrees: SERVFAIL for A with EDE " &&
        python3 - "$1/doctor.json" <<'PY'
import json, sys
codes = [f["code"] for c in json.load(open(sys.argv[1]))["checks"] for f in c["findings"]]
if "dns.domain.no-nameservers" in codes:
    sys.exit("dns.domain says the zone cannot be found: the SOA lookup's SERVFAIL is the DNSSEC failure again")
PY
}

# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# lab-example.com is signed and valid (ldns-signzone), but its parent — a signed "com" served by
# the same NSD servers, the resolvers' and the doctor's trust anchor — publishes the DS of a KSK
# the zone no longer has: the DS left at the registrar after a key rollover or a move to a DNS
# host with other keys. Both unbound resolvers find no DNSKEY matching the DS and answer SERVFAIL
# for every name in the zone; Pebble cannot look the name up.
DESCRIPTION="com's DS for lab-example.com names a KSK the zone no longer publishes; validating resolvers answer SERVFAIL"
MIRRORS="'DNS problem: SERVFAIL looking up A for www.example.com' after moving the domain to another DNS host (or rolling the KSK) without replacing the DS at the registrar"
EXPECT_ISSUED=no
EXPECT_EXIT=1
EXPECT_CODES=(dns.domain.dnssec-bogus:fail dns.caa.lookup-failed:fail)
DOCTOR_ARGS=("$USER_DOMAIN" --webroot "$LAB_TMP/webroot" --dnssec-anchor "$LAB_TMP/dnssec/anchor.key")

scenario_setup() {
    lab_authdns_up --stub "ns1 ns2" --ca-stub "ns1 ns2" --dnssec valid --dnssec-parent stale
}

scenario_verify() {
    local out ds s
    ((DNSSEC_DS_TAG != DNSSEC_KSK_TAG)) || { echo "the stale DS names the current KSK $DNSSEC_KSK_TAG"; return 1; }
    for s in "$NS1_4" "$NS2_4"; do
        # The parent serves the stale DS, signed by its own ZSK; the zone serves its current KSK.
        ds=$(nsx client dig +norec +time=1 +tries=1 +short "@$s" DS "$AUTHDNS_ZONE")
        [[ $ds == "$DNSSEC_DS_TAG "* ]] ||
            { echo "$s answers DS $ds for $AUTHDNS_ZONE, want key tag $DNSSEC_DS_TAG"; return 1; }
        nsx client dig +norec +dnssec +time=1 +tries=1 "@$s" DS "$AUTHDNS_ZONE" |
            grep -Eq "RRSIG[[:space:]]+DS 13 2 300 [0-9]+ [0-9]+ [0-9]+ $DNSSEC_PARENT_ZONE\\." ||
            { echo "$s serves no RRSIG by $DNSSEC_PARENT_ZONE over the DS"; return 1; }
        nsx client dig +norec +time=1 +tries=1 "@$s" DNSKEY "$AUTHDNS_ZONE" |
            grep -Eq "DNSKEY[[:space:]]+257 3 13 " ||
            { echo "$s serves no KSK for $AUTHDNS_ZONE"; return 1; }
    done
    # Both validating resolvers answer SERVFAIL; with checking disabled the answer is there.
    out=$(nsx client dig +time=2 +tries=1 "$USER_DOMAIN" A)
    grep -q 'status: SERVFAIL' <<<"$out" ||
        { echo "the client's resolver does not answer SERVFAIL: $(grep status: <<<"$out")"; return 1; }
    grep -Eq 'EDE: [0-9]+ ' <<<"$out" ||
        { echo "the client's resolver sends no Extended DNS Error"; return 1; }
    [[ $(nsx client dig +cd +time=2 +tries=1 +short "$USER_DOMAIN" A) == "$CLIENT4" ]] ||
        { echo "with +cd the client's resolver does not answer $CLIENT4"; return 1; }
    out=$(nsx ca dig +time=2 +tries=1 @127.0.0.1 "$USER_DOMAIN" A)
    grep -q 'status: SERVFAIL' <<<"$out" ||
        { echo "the CA's resolver does not answer SERVFAIL: $(grep status: <<<"$out")"; return 1; }
    grep -q "could not resolve URL \"http://$USER_DOMAIN:80/" "$1/certbot.out" ||
        { echo "certbot's error is not Pebble's failed lookup: $(grep -i detail "$1/certbot.out" | head -2)"; return 1; }
}

scenario_doctor_check() {
    lab_finding_contains "$1/doctor.json" dns.domain.dnssec-bogus \
        "the DS at $DNSSEC_PARENT_ZONE for $AUTHDNS_ZONE names key tag $DNSSEC_DS_TAG (ECDSAP256SHA256) but no DNSKEY of $AUTHDNS_ZONE matches it" &&
        lab_finding_contains "$1/doctor.json" dns.domain.dnssec-bogus "$DNSSEC_KSK_TAG (ECDSAP256SHA256)" &&
        lab_finding_contains "$1/doctor.json" dns.domain.dnssec-bogus "agrees: SERVFAIL for A with EDE "
}

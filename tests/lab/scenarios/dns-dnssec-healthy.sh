# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# lab-example.com signed by a real signer (ldns-signzone: ECDSA P-256 KSK and ZSK, NSEC), served
# by NSD on ns1/ns2 and validated by both unbound resolvers, whose trust anchor is the zone's KSK;
# the doctor gets the same KSK with --dnssec-anchor and validates the chain itself.
DESCRIPTION="lab-example.com signed (ldns-signzone, ECDSAP256SHA256), validated by unbound and the doctor"
MIRRORS="acme-doctor www.example.com --webroot for a domain whose DNS host signs the zone (DNSSEC on)"
EXPECT_ISSUED=yes
EXPECT_EXIT=0
EXPECT_CLEAN=yes
DOCTOR_ARGS=("$USER_DOMAIN" --webroot "$LAB_TMP/webroot" --dnssec-anchor "$LAB_TMP/dnssec/anchor.key")

scenario_setup() {
    lab_authdns_up --stub "ns1 ns2" --ca-stub "ns1 ns2" --dnssec valid
}

scenario_verify() {
    local out s
    # The servers serve the signed zone: an RRSIG by the ZSK over www's A.
    for s in "$NS1_4" "$NS2_4"; do
        nsx client dig +norec +dnssec +time=1 +tries=1 "@$s" "$USER_DOMAIN" A |
            grep -Eq "RRSIG[[:space:]]+A 13 3 300 [0-9]+ [0-9]+ $DNSSEC_ZSK_TAG $AUTHDNS_ZONE\\." ||
            { echo "$s serves no RRSIG by key $DNSSEC_ZSK_TAG over $USER_DOMAIN A"; return 1; }
    done
    # Both resolvers validate: the answer comes with the AD (authenticated data) flag.
    out=$(nsx client dig +dnssec +time=2 +tries=1 "$USER_DOMAIN" A)
    grep -Eq 'flags: qr rd ra ad;' <<<"$out" ||
        { echo "the client's resolver does not validate $USER_DOMAIN A (no AD flag): $(grep flags: <<<"$out")"; return 1; }
    out=$(nsx ca dig +dnssec +time=2 +tries=1 @127.0.0.1 "$USER_DOMAIN" A)
    grep -Eq 'flags: qr rd ra ad;' <<<"$out" ||
        { echo "the CA's resolver does not validate $USER_DOMAIN A (no AD flag): $(grep flags: <<<"$out")"; return 1; }
}

scenario_doctor_check() {
    python3 - "$1/doctor.json" "$USER_DOMAIN" "$DNSSEC_KSK_TAG" "$DNSSEC_ZSK_TAG" <<'PY'
import json, sys
report, name, ksk, zsk = sys.argv[1:]
checks = {c["id"]: c for c in json.load(open(report))["checks"]}
for cid in ("dns.domain", "dns.caa", "http01.reachability", "http01.token"):
    if checks[cid]["status"] != "pass":
        sys.exit(f"{cid} is {checks[cid]['status']}: {checks[cid]['summary']}")
ev = {e["label"]: e["value"] for e in checks["dns.domain"]["evidence"]}
v = ev.get(f"{name} DNSSEC")
if v is None:
    sys.exit(f"dns.domain has no '{name} DNSSEC' evidence: {sorted(ev)}")
want = [f"secure: {name} A (key {zsk})", f"lab-example.com DNSKEY (trust anchor key {ksk})"]
for w in want:
    if w not in v:
        sys.exit(f"'{name} DNSSEC' is {v!r}; it lacks {w!r}")
if not v.startswith("secure"):
    sys.exit(f"'{name} DNSSEC' is {v!r}, not secure")
PY
}

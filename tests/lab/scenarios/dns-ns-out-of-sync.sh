# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The user's zone on two real authoritative servers (NSD), and ns2 serves a stale copy: an older
# serial, the old server's IPv4 address for www (198.51.100.80, which r2 cannot route: nothing
# answers there) and no AAAA, as before the move to the new server. The client's resolver
# (unbound) happens to ask ns1, so everything looks right from the user's side; the CA's resolver
# (a second unbound next to Pebble, as Let's Encrypt runs its own) happens to ask ns2. Naming one
# server per resolver makes the draw deterministic; in the wild each lookup picks either one.
DESCRIPTION="ns2 serves a stale zone (old serial, old www address); the CA's resolver lands on it"
MIRRORS="a secondary nameserver that stopped receiving zone transfers after the site moved: 'dig shows the right IP but Let's Encrypt connects to the old one'"
STALE_SERIAL=2024050101
STALE_WWW4=198.51.100.80
EXPECT_ISSUED=no
EXPECT_EXIT=0
EXPECT_CODES=(dns.domain.out-of-sync:warn)
LE_DIFFERENCE="Let's Encrypt's resolvers pick either nameserver for each lookup, so validation fails only when one lands on the stale ns2 (intermittently, more often with several perspectives); the lab's CA resolver asks ns2 only, so certbot fails every time"
DOCTOR_ARGS=("$USER_DOMAIN" --webroot "$LAB_TMP/webroot")

scenario_setup() {
    lab_authdns_up --stub ns1 --ca-stub ns2
    lab_authdns_zone ns2 "$STALE_SERIAL" "$STALE_WWW4" ""
    # Count (no verdict) the DNS queries each server gets from each resolver.
    local ns
    for ns in ns1 ns2; do
        nsx "$ns" iptables -A INPUT -s "$RESOLVER4" -p udp --dport 53
        nsx "$ns" ip6tables -A INPUT -s "$RESOLVER6" -p udp --dport 53
        nsx "$ns" iptables -A INPUT -s "$CA4" -p udp --dport 53
        nsx "$ns" ip6tables -A INPUT -s "$CA6" -p udp --dport 53
    done
}

# Packets counted by the INPUT rules above for source SRC at server NS.
authdns_queries_from() { # NS SRC4 SRC6
    local n4 n6
    n4=$(nsx "$1" iptables -L INPUT -v -x -n | awk -v s="$2" '$8 == s { print $1 }')
    n6=$(nsx "$1" ip6tables -L INPUT -v -x -n | awk -v s="$3" '$7 == s { print $1 }')
    echo $((${n4:-0} + ${n6:-0}))
}

scenario_verify() {
    # The two servers really answer differently, asked directly without recursion.
    local s1 s2 a1 a2
    s1=$(lab_authdns_serial "$NS1_4") s2=$(lab_authdns_serial "$NS2_4")
    a1=$(nsx client dig +norec +time=1 +tries=1 +short "@$NS1_4" "$USER_DOMAIN" A)
    a2=$(nsx client dig +norec +time=1 +tries=1 +short "@$NS2_4" "$USER_DOMAIN" A)
    [[ $s1 == "$AUTHDNS_SERIAL" && $a1 == "$CLIENT4" ]] ||
        { echo "ns1 answers serial $s1, A $a1; want $AUTHDNS_SERIAL, $CLIENT4"; return 1; }
    [[ $s2 == "$STALE_SERIAL" && $a2 == "$STALE_WWW4" ]] ||
        { echo "ns2 answers serial $s2, A $a2; want $STALE_SERIAL, $STALE_WWW4"; return 1; }
    [[ -z $(nsx client dig +norec +time=1 +tries=1 +short "@$NS2_6" "$USER_DOMAIN" AAAA) ]] ||
        { echo "ns2 has an AAAA for $USER_DOMAIN"; return 1; }
    # Each resolver asked only the server it was given.
    local c1 c2 r1 r2
    r1=$(authdns_queries_from ns1 "$RESOLVER4" "$RESOLVER6") r2=$(authdns_queries_from ns2 "$RESOLVER4" "$RESOLVER6")
    c1=$(authdns_queries_from ns1 "$CA4" "$CA6") c2=$(authdns_queries_from ns2 "$CA4" "$CA6")
    ((r1 > 0 && r2 == 0)) || { echo "client's resolver asked ns1 $r1 times, ns2 $r2 times"; return 1; }
    ((c2 > 0 && c1 == 0)) || { echo "CA's resolver asked ns1 $c1 times, ns2 $c2 times"; return 1; }
    # certbot failed because the CA connected to the stale address.
    grep -q "$STALE_WWW4" "$1/certbot.out" ||
        { echo "certbot's error does not name $STALE_WWW4"; return 1; }
}

scenario_doctor_check() {
    python3 - "$1/doctor.json" "$NS1_4" "$NS2_4" "$AUTHDNS_SERIAL" "$STALE_SERIAL" "$CLIENT4" "$STALE_WWW4" <<'PY'
import json, sys
report, ns1, ns2, serial, stale, www4, stale4 = sys.argv[1:]
checks = {c["id"]: c for c in json.load(open(report))["checks"]}
f = [f for f in checks["dns.domain"]["findings"] if f["code"] == "dns.domain.out-of-sync"]
if not f:
    sys.exit("no dns.domain.out-of-sync finding")
s = f[0]["summary"]
new_side, _, old_side = s.partition(" but ")
if ns2 in new_side:
    new_side, old_side = old_side, new_side
want = {
    "ns1": (new_side, [f"ns1.lab-example.com ({ns1})", f"serial {serial}", f"A {www4}"]),
    "ns2": (old_side, [f"ns2.lab-example.com ({ns2})", f"serial {stale}", f"A {stale4}", "AAAA: none"]),
}
for who, (side, words) in want.items():
    for w in words:
        if w not in side:
            sys.exit(f"out-of-sync summary: {who}'s side lacks {w!r}: {s}")
# The doctor asked the servers directly: nothing about unsupported SOA/NS lookups.
codes = [f["code"] for f in checks["dns.domain"]["findings"]]
if "dns.domain.ns-not-checked" in codes:
    sys.exit("dns.domain says the nameservers were not checked")
for cid in ("http01.reachability", "http01.token"):
    if checks[cid]["status"] != "pass":
        sys.exit(f"{cid} is {checks[cid]['status']} (the client's resolver gives ns1's answer): {checks[cid]['summary']}")
PY
}

# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The user's zone on two real authoritative servers (NSD, in sync), delegated to by a real
# recursive resolver (unbound) for the client and another for the CA: the doctor finds the zone
# and its nameservers through the resolver and asks each server directly over UDP and TCP.
DESCRIPTION="lab-example.com on two authoritative servers (NSD) in sync, resolved through unbound"
MIRRORS="acme-doctor www.example.com --webroot for a domain at a DNS host with two nameservers"
EXPECT_ISSUED=yes
EXPECT_EXIT=0
EXPECT_CLEAN=yes
DOCTOR_ARGS=("$USER_DOMAIN" --webroot "$LAB_TMP/webroot")

scenario_setup() {
    lab_authdns_up --stub "ns1 ns2" --ca-stub "ns1 ns2"
    # Count (no verdict) the DNS queries the servers get from the CA's resolver.
    local ns
    for ns in ns1 ns2; do
        nsx "$ns" iptables -A INPUT -s "$CA4" -p udp --dport 53
        nsx "$ns" ip6tables -A INPUT -s "$CA6" -p udp --dport 53
    done
}

scenario_verify() {
    local s a
    for s in "$NS1_4" "$NS1_6" "$NS2_4" "$NS2_6"; do
        [[ $(lab_authdns_serial "$s") == "$AUTHDNS_SERIAL" ]] ||
            { echo "$s does not answer SOA serial $AUTHDNS_SERIAL"; return 1; }
        nsx client dig +norec +tcp +time=1 +tries=1 "@$s" "$USER_DOMAIN" A | grep -q 'flags: qr aa;' ||
            { echo "$s gives no authoritative answer over TCP"; return 1; }
    done
    a=$(nsx client dig +time=2 +tries=1 +short "$USER_DOMAIN" A)
    [[ $a == "$CLIENT4" ]] || { echo "the client's resolver answers $a for $USER_DOMAIN"; return 1; }
    # Pebble validated through the delegation, not through challtestsrv.
    local n=0 ns
    for ns in ns1 ns2; do
        n=$((n + $(nsx "$ns" iptables -L INPUT -v -x -n | awk '{ s += $1 } END { print s + 0 }')))
        n=$((n + $(nsx "$ns" ip6tables -L INPUT -v -x -n | awk '{ s += $1 } END { print s + 0 }')))
    done
    ((n > 0)) || { echo "the CA's resolver never asked ns1 or ns2"; return 1; }
}

scenario_doctor_check() {
    python3 - "$1/doctor.json" "$AUTHDNS_SERIAL" "$NS1_4" "$NS1_6" "$NS2_4" "$NS2_6" <<'PY'
import json, sys
report, serial, *addrs = sys.argv[1:]
checks = {c["id"]: c for c in json.load(open(report))["checks"]}
for cid in ("dns.domain", "dns.caa", "http01.reachability", "http01.token"):
    if checks[cid]["status"] != "pass":
        sys.exit(f"{cid} is {checks[cid]['status']}: {checks[cid]['summary']}")
d = checks["dns.domain"]
if any(f["code"] == "dns.domain.ns-not-checked" for f in d["findings"]):
    sys.exit("dns.domain did not check the nameservers")
name = d["facts"]["names"][0]
if name["zone"] != "lab-example.com":
    sys.exit(f"zone {name['zone']!r}, want lab-example.com")
got = sorted(s["addr"] for s in name["nameservers"])
if got != sorted(addrs):
    sys.exit(f"nameserver addresses {got}, want {sorted(addrs)}")
serials = set(name["serials"].values())
if serials != {int(serial)} or len(name["serials"]) != len(addrs):
    sys.exit(f"serials {name['serials']}, want {serial} from each of {len(addrs)} servers")
PY
}

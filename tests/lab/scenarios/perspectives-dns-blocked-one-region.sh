# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The user's zone on two real authoritative servers (NSD, tests/lab/authdns.sh); ns2 drops DNS
# (udp and tcp/53, IPv4 and IPv6) from the Tokyo vantage subnet. The doctor checks DNS-01 and
# asks the Globalping fake to query each nameserver from the eight vantage points.
DESCRIPTION="ns2 drops DNS from the JP vantage subnet; dns01.perspectives from 8 vantage points"
MIRRORS="a nameserver behind a geo-IP or rate-limit rule (a self-hosted secondary, a DNS host's DDoS filter) that drops one region"
EXPECT_ISSUED=yes
EXPECT_EXIT=0
EXPECT_CODES=(dns01.perspectives.geo-block:warn dns01.perspectives.quorum-at-risk:warn)
DOCTOR_OFFLINE=no
DOCTOR_ARGS=(--challenge dns-01 --globalping-url "$GLOBALPING_URL" "$USER_DOMAIN")
# certbot proves control with DNS-01 too: its hooks put the TXT record on both servers, and
# Pebble resolves it through its own unbound (--ca-stub), from the ca namespace.
CERTBOT_AUTH=(--manual --preferred-challenges dns
    --manual-auth-hook "$LAB_TMP/dns01-hook add" --manual-cleanup-hook "$LAB_TMP/dns01-hook del")

scenario_setup() {
    lab_authdns_up --stub "ns1 ns2" --ca-stub "ns1 ns2"
    lab_vantage_up
    lab_authdns_block ns2 "${VP_NET4[vp-jp]}" "${VP_NET6[vp-jp]}"
    {
        printf '#!/bin/bash\nLAB_TMP=%q ZONE=%q NS1=%q NS2=%q\n' "$LAB_TMP" "$AUTHDNS_ZONE" "$NS1_4" "$NS2_4"
        cat <<'HOOK'
# certbot --manual hook (add|del): the challenge TXT record in both NSD zone files; NSD rereads a
# zone file whose mtime changed on SIGHUP. "add" waits (bounded) until both servers answer it.
set -eu
name=_acme-challenge.${CERTBOT_DOMAIN%."$ZONE"}
for ns in ns1 ns2; do
    z=$LAB_TMP/authdns/$ns/$ZONE.zone
    sed -i "/^$name /d" "$z"
    [[ $1 == add ]] && printf '%s 60 IN TXT "%s"\n' "$name" "$CERTBOT_VALIDATION" >>"$z"
    touch -d '+1 second' "$z"
    kill -HUP "$(awk -v n="nsd-$ns" '$2 == n { print $1 }' "$LAB_TMP/pids")"
done
[[ $1 == add ]] || exit 0
for addr in "$NS1" "$NS2"; do
    for _ in $(seq 50); do
        dig +norec +time=1 +tries=1 +short "@$addr" TXT "$name.$ZONE" | grep -qF "$CERTBOT_VALIDATION" && continue 2
        sleep 0.1
    done
    echo "dns01-hook: $addr does not answer the TXT record" >&2
    exit 1
done
HOOK
    } >"$LAB_TMP/dns01-hook"
    chmod 0755 "$LAB_TMP/dns01-hook"
}

scenario_verify() {
    local ipt n
    for ipt in iptables ip6tables; do
        n=$(lab_vantage_hits ns2 "$ipt" INPUT vp-jp)
        ((n > 0)) || { echo "ns2's $ipt DROP rule for vp-jp saw no packets"; return 1; }
    done
    grep -q "dns-01 challenge for $USER_DOMAIN" "$1/certbot.log" || { echo "certbot did not use DNS-01"; return 1; }
    # The same vantage point still gets answers from ns1; the others from both.
    grep -q "vantage vp-jp: dns .*\"resolver\":\"$NS1_4\".* -> finished" "$LAB_TMP/log/globalping-fake.log" ||
        { echo "vp-jp got no answer from ns1 ($NS1_4)"; return 1; }
}

scenario_doctor_check() {
    python3 - "$1/doctor.json" "${VP_PLACE[vp-jp]}" "$NS2_4" "$NS2_6" "$NS1_4" "$NS1_6" <<'PY'
import json, sys
report, place, ns2_4, ns2_6, ns1_4, ns1_6 = sys.argv[1:]
findings = [f for c in json.load(open(report))["checks"] for f in c["findings"]
            if f["severity"] in ("warn", "fail")]
for addr in (ns2_4, ns2_6):
    want = f"nameserver ns2.lab-example.com ({addr}): blocked from country JP: {place} [timeout]"
    if not any(f["code"] == "dns01.perspectives.geo-block" and want in f["summary"] for f in findings):
        sys.exit(f"no dns01.perspectives.geo-block saying {want!r}")
# ns1 answers everywhere, and the zone as a whole is reachable from every place.
for f in findings:
    s = f["summary"]
    if f"({ns1_4})" in s or f"({ns1_6})" in s or "zone lab-example.com" in s:
        sys.exit(f"unexpected {f['code']}: {s}")
PY
}

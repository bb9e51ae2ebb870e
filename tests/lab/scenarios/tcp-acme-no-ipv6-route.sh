# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The client keeps its global IPv6 address but has no IPv6 default route: connecting to the CA's
# AAAA fails at once with ENETUNREACH, and clients use IPv4 without waiting.
DESCRIPTION="the client has an IPv6 address but no IPv6 default route; IPv4 works"
MIRRORS="a host with a static or SLAAC IPv6 address whose router sends no RA or whose gateway was never configured (VPS images, containers, hosts after a network change)"
# certbot gets its certificate over IPv4. The domain publishes no AAAA here: a host without an
# IPv6 route cannot answer the validator over IPv6 (the SYN arrives, the SYN-ACK has no route
# back). With the healthy base's AAAA, Pebble's IPv6 validation times out and certbot fails
# (Let's Encrypt would fall back to the A record after its 10 s dial timeout); that is an
# inbound problem, not what tcp.acme.no-ipv6-route is about.
EXPECT_ISSUED=yes
EXPECT_EXIT=0
EXPECT_CODES=(tcp.acme.no-ipv6-route:info)

# Packets of a counting rule (no target) in the client's OUTPUT chain. IPT: iptables|ip6tables.
client_output_packets() {
    nsx client "$1" -L OUTPUT -v -x -n | awk 'NR > 2 && $3 != "DROP" && $3 != "REJECT" { s += $1 } END { print s + 0 }'
}

scenario_setup() {
    nsx client ip -6 route del default
    lab_dns_set "$USER_DOMAIN" "$CLIENT4" ""
    # Counting rules: what left the client for the CA's API, per family.
    nsx client ip6tables -A OUTPUT -d "$CA6"
    nsx client iptables -A OUTPUT -p tcp -d "$CA4" --dport 443
}

scenario_verify() {
    [[ -z $(nsx client ip -6 route show default) ]] || { echo "the client still has an IPv6 default route"; return 1; }
    nsx client ip -6 addr show dev eth0 scope global | grep -q "inet6 $CLIENT6/" ||
        { echo "the client lost its IPv6 address $CLIENT6"; return 1; }
    local err
    err=$(nsx client ip -6 route get "$CA6" 2>&1) && { echo "the client has a route to $CA6: $err"; return 1; }
    [[ $err == *"Network is unreachable"* ]] || { echo "ip -6 route get $CA6: $err"; return 1; }
    # A connect fails at once (no packet sent), with ENETUNREACH.
    err=$(nsx client timeout 5 python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET6)
t = time.monotonic()
try:
    s.connect((sys.argv[1], 443))
except OSError as e:
    print(e.errno, round(time.monotonic() - t, 3))
' "$CA6")
    [[ $err == "101 0.0"* ]] || { echo "connect to [$CA6]:443 did not fail at once with ENETUNREACH (errno, seconds: $err)"; return 1; }
    local v6 v4
    v6=$(client_output_packets ip6tables)
    v4=$(client_output_packets iptables)
    ((v6 == 0)) || { echo "$v6 IPv6 packets left the client for $CA6"; return 1; }
    ((v4 > 0)) || { echo "no IPv4 packet went to $CA4:443: certbot's certificate did not come over IPv4"; return 1; }
}

scenario_doctor_check() {
    lab_finding_contains "$1/doctor.json" tcp.acme.no-ipv6-route \
        "IPv6 to $CA_HOST fails at once ([$CA6]:443: unreachable: Network is unreachable (os error 101)); IPv4 works"
}

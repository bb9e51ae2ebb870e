# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The r1-r2 link has an MTU of 1280 and r2 drops the ICMP "fragmentation needed" / "packet too
# big" it would send, so the CA's full-size packets (its certificate chain) vanish: TCP connects
# and the TLS handshake hangs.
DESCRIPTION="path-MTU blackhole: 1280-byte link between r1 and r2, ICMP too-big suppressed"
MIRRORS="PPPoE, VPN or tunnel links with a firewall that drops ICMP: handshakes hang after ClientHello"
EXPECT_ISSUED=no
EXPECT_EXIT=1
EXPECT_CODES=(path.mtu.blackhole)
CERTBOT_TIMEOUT=30

scenario_setup() {
    nsx r1 ip link set dev to-r2 mtu 1280
    nsx r2 ip link set dev to-r1 mtu 1280
    nsx r2 iptables -A OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP
    nsx r2 ip6tables -A OUTPUT -p icmpv6 --icmpv6-type packet-too-big -j DROP
}

scenario_verify() {
    local v4 v6
    v4=$(lab_rule_hits r2 iptables OUTPUT)
    v6=$(lab_rule_hits r2 ip6tables OUTPUT)
    ((v4 + v6 > 0)) || { echo "r2 suppressed no ICMP too-big message"; return 1; }
}

scenario_doctor_check() {
    lab_finding_contains "$1/doctor.json" path.mtu.blackhole "completes with MSS"
}

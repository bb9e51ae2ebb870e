# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The client's edge router rejects outbound 443 to the CA with ICMP "host unreachable" (IPv4)
# and "address unreachable" (IPv6), as routers and firewalls with an ICMP reject policy do.
DESCRIPTION="outbound TCP 443 to the CA rejected on r1 with ICMP unreachable"
MIRRORS="a firewall whose reject policy answers with ICMP (firewalld's default, many routers), or a missing route upstream"
EXPECT_ISSUED=no
EXPECT_EXIT=1
EXPECT_CODES=(tcp.acme.unreachable path.trace.rejected acme.directory.unreachable)

scenario_setup() {
    nsx r1 iptables -A FORWARD -i to-client -p tcp -d "$CA4" --dport 443 -j REJECT --reject-with icmp-host-unreachable
    nsx r1 ip6tables -A FORWARD -i to-client -p tcp -d "$CA6" --dport 443 -j REJECT --reject-with icmp6-addr-unreachable
}

scenario_verify() {
    local v4 v6
    v4=$(lab_rule_hits r1 iptables FORWARD)
    v6=$(lab_rule_hits r1 ip6tables FORWARD)
    ((v4 > 0 && v6 > 0)) || { echo "the r1 rules saw IPv4 $v4 and IPv6 $v6 packets"; return 1; }
}

scenario_doctor_check() {
    lab_finding_contains "$1/doctor.json" tcp.acme.unreachable "$CA4" &&
        lab_finding_contains "$1/doctor.json" path.trace.rejected "hop 1 ($R1_LAN4)" &&
        # The HTTP client sees EHOSTUNREACH, or (Linux retrying the SYN after a soft ICMP error)
        # its deadline; either way the directory check must say unreachable, not timeout.
        { lab_finding_contains "$1/doctor.json" acme.directory.unreachable "No route to host" ||
            lab_finding_contains "$1/doctor.json" acme.directory.unreachable "tcp.acme heard ICMP unreachable for"; }
}

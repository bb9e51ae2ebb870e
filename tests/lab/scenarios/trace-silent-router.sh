# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# r2 forwards everything but never sends ICMP time exceeded: its hop shows as '*' and the trace
# goes on to the CA.
DESCRIPTION="r2 sends no ICMP time exceeded (a silent router)"
MIRRORS="provider routers that rate-limit or filter ICMP: traceroute shows * * * in the middle"
EXPECT_ISSUED=yes
EXPECT_EXIT=0
EXPECT_CLEAN=yes

scenario_setup() {
    nsx r2 iptables -A OUTPUT -p icmp --icmp-type time-exceeded -j DROP
    nsx r2 ip6tables -A OUTPUT -p icmpv6 --icmpv6-type time-exceeded -j DROP
}

scenario_verify() {
    local v4
    v4=$(lab_rule_hits r2 iptables OUTPUT)
    ((v4 > 0)) || { echo "r2 suppressed no time-exceeded message (IPv4 rule hits: $v4)"; return 1; }
}

scenario_doctor_check() {
    lab_trace_hops "$1/doctor.json" "$CA4" "$R1_LAN4 * $CA4" &&
        lab_trace_hops "$1/doctor.json" "$CA6" "$R1_LAN6 * $CA6"
}

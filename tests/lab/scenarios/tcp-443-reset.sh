# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The client's edge router answers outbound TCP 443 to the CA with a reset.
DESCRIPTION="outbound TCP 443 to the CA rejected with a TCP reset on r1"
MIRRORS="a firewall configured to REJECT rather than drop, or a host firewall (ufw/firewalld reject policy)"
EXPECT_ISSUED=no
EXPECT_EXIT=1
EXPECT_CODES=(tcp.acme.refused)

scenario_setup() {
    nsx r1 iptables -A FORWARD -i to-client -p tcp -d "$CA4" --dport 443 -j REJECT --reject-with tcp-reset
    nsx r1 ip6tables -A FORWARD -i to-client -p tcp -d "$CA6" --dport 443 -j REJECT --reject-with tcp-reset
}

scenario_verify() {
    local v4 v6
    v4=$(lab_rule_hits r1 iptables FORWARD)
    v6=$(lab_rule_hits r1 ip6tables FORWARD)
    ((v4 > 0 && v6 > 0)) || { echo "the r1 rules saw IPv4 $v4 and IPv6 $v6 packets"; return 1; }
}

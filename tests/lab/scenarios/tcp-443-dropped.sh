# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The client's edge router silently drops outbound TCP 443 to the CA (both families).
DESCRIPTION="outbound TCP 443 to the CA dropped on r1"
MIRRORS="an egress firewall (cloud security group, hosting provider, corporate default-deny) that drops HTTPS out"
EXPECT_ISSUED=no
EXPECT_EXIT=1
EXPECT_CODES=(tcp.acme.timeout)
# certbot waits 45 s per address before giving up; it is cut at 30 s (a hang is the ground truth).
CERTBOT_TIMEOUT=30

scenario_setup() {
    nsx r1 iptables -A FORWARD -i to-client -p tcp -d "$CA4" --dport 443 -j DROP
    nsx r1 ip6tables -A FORWARD -i to-client -p tcp -d "$CA6" --dport 443 -j DROP
}

scenario_verify() {
    local v4 v6
    v4=$(lab_rule_hits r1 iptables FORWARD)
    v6=$(lab_rule_hits r1 ip6tables FORWARD)
    ((v4 > 0 && v6 > 0)) || { echo "the r1 rules saw IPv4 $v4 and IPv6 $v6 packets"; return 1; }
}

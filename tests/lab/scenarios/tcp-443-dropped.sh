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

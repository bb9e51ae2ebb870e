# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The second router drops outbound 443 to the CA as it arrives (raw PREROUTING, before the TTL is
# looked at, as a filtering appliance does): the trace gets an answer from hop 1 only, and the
# report places the drop between hop 1 and hop 2.
DESCRIPTION="outbound TCP 443 to the CA dropped on r2 (the second hop)"
MIRRORS="an upstream provider or data-centre firewall that drops HTTPS out, past the local router"
EXPECT_ISSUED=no
EXPECT_EXIT=1
EXPECT_CODES=(tcp.acme.timeout path.trace.stops)
CERTBOT_TIMEOUT=30

scenario_setup() {
    nsx r2 iptables -t raw -A PREROUTING -i to-r1 -p tcp -d "$CA4" --dport 443 -j DROP
    nsx r2 ip6tables -t raw -A PREROUTING -i to-r1 -p tcp -d "$CA6" --dport 443 -j DROP
}

scenario_verify() {
    local v4
    v4=$(nsx r2 iptables -t raw -L PREROUTING -v -n -x | awk 'NR > 2 { s += $1 } END { print s + 0 }')
    ((v4 > 0)) || { echo "the r2 rule saw no packets"; return 1; }
}

scenario_doctor_check() {
    lab_finding_contains "$1/doctor.json" path.trace.stops "last answer from hop 1 ($R1_LAN4)" &&
        lab_finding_contains "$1/doctor.json" path.trace.stops "between hop 1 and hop 2"
}

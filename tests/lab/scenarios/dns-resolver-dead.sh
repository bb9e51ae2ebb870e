# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The client's resolver never answers: its queries are dropped on the way (Pebble's own
# resolution, which does not pass through r1, is unaffected).
DESCRIPTION="the client's resolver does not answer (DNS to it dropped on r2)"
MIRRORS="a dead or firewalled resolver in /etc/resolv.conf (stopped systemd-resolved upstream, blocked UDP/TCP 53)"
EXPECT_ISSUED=no
EXPECT_EXIT=1
EXPECT_CODES=(dns.acme.timeout)

scenario_setup() {
    local ipt proto dst
    for ipt in iptables ip6tables; do
        dst=$DNS4
        [[ $ipt == ip6tables ]] && dst=$DNS6
        for proto in udp tcp; do
            nsx r2 "$ipt" -A FORWARD -i to-r1 -p "$proto" -d "$dst" --dport 53 -j DROP
        done
    done
}

scenario_verify() {
    local v4
    v4=$(lab_rule_hits r2 iptables FORWARD)
    ((v4 > 0)) || { echo "no DNS query was dropped on r2"; return 1; }
}

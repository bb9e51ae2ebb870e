# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# A long, lossy path: 100 ms added each way on r2 (200 ms RTT) by the NFQUEUE delayer and 2 %
# random loss on r1, for every forwarded packet in both families.
DESCRIPTION="200 ms RTT and 2% loss on the path"
MIRRORS="a server on another continent, a satellite or congested mobile uplink"
EXPECT_ISSUED=yes
EXPECT_EXIT=0
EXPECT_CLEAN=yes
CERTBOT_TIMEOUT=55

scenario_setup() {
    lab_delay r2 100 10
    local ipt
    for ipt in iptables ip6tables; do
        nsx r1 "$ipt" -A FORWARD -m statistic --mode random --probability 0.02 -j DROP
    done
}

scenario_verify() {
    # The delay was on the path: the RTT to the CA is at least 180 ms.
    local avg
    avg=$(nsx client ping -c 5 -i 0.2 -W 2 "$CA4" | awk -F/ '/^rtt/ { print int($5) }')
    ((${avg:-0} >= 180)) || { echo "RTT to the CA ${avg:-?} ms, expected about 200"; return 1; }
}

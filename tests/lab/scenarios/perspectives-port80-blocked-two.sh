# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The user's server drops port 80 from two vantage subnets (Singapore and São Paulo), IPv4 and
# IPv6. The doctor probes its default 8 places; Let's Encrypt validates from 4 remote perspectives
# and tolerates 1 failure, so two failing places mean validation would fail.
DESCRIPTION="client drops tcp/80 from the SG and BR vantage subnets (2 of the 8 default places)"
MIRRORS="a geo-IP block (ipset/geoip DROP, fail2ban/CrowdSec bans, a cloud WAF country rule) on port 80"
EXPECT_ISSUED=yes
EXPECT_EXIT=1
EXPECT_CODES=(http01.perspectives.quorum-fail:fail http01.perspectives.geo-block)
LE_DIFFERENCE="Pebble validates from the ca namespace only, which is not blocked, so certbot gets a certificate; Let's Encrypt validates from 4 remote perspectives as well and refuses when 2 of them fail (During secondary validation: ... Timeout during connect)"
DOCTOR_OFFLINE=no
DOCTOR_ARGS=(--globalping-url "$GLOBALPING_URL" "$USER_DOMAIN")
PERSPECTIVES_BLOCKED=(vp-sg vp-br)

scenario_setup() {
    lab_vantage_up
    local ns
    for ns in "${PERSPECTIVES_BLOCKED[@]}"; do
        lab_vantage_block "$ns" 80
    done
}

scenario_verify() {
    local ns ipt n
    for ns in "${PERSPECTIVES_BLOCKED[@]}"; do
        for ipt in iptables ip6tables; do
            n=$(lab_vantage_hits client "$ipt" INPUT "$ns")
            ((n > 0)) || { echo "the client's $ipt DROP rule for $ns saw no packets"; return 1; }
        done
    done
    for ns in vp-us vp-de; do
        lab_vantage_reached "$ns" || return 1
    done
}

scenario_doctor_check() {
    local f=$1/doctor.json ns
    lab_finding_contains "$f" http01.perspectives.quorum-fail "validation would fail: 2 of 8 perspectives failed" || return 1
    for ns in "${PERSPECTIVES_BLOCKED[@]}"; do
        lab_finding_contains "$f" http01.perspectives.geo-block "${VP_PLACE[$ns]} [timeout]" || return 1
    done
}

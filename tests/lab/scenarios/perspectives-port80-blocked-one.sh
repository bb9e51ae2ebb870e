# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The user's server drops port 80 from one vantage subnet (Johannesburg), IPv4 and IPv6. With
# the doctor's default 8 perspectives the CA's quorum tolerates 2 failures: validation would
# pass, with a warning that names the place.
DESCRIPTION="client drops tcp/80 from the ZA vantage subnet; 8 perspectives"
MIRRORS="a country or ASN block that catches one region, e.g. a hosting provider's abuse filter"
EXPECT_ISSUED=yes
EXPECT_EXIT=0
EXPECT_CODES=(http01.perspectives.quorum-at-risk:warn http01.perspectives.geo-block:warn)
DOCTOR_OFFLINE=no
DOCTOR_ARGS=(--globalping-url "$GLOBALPING_URL" "$USER_DOMAIN")

scenario_setup() {
    lab_vantage_up
    lab_vantage_block vp-za 80
}

scenario_verify() {
    local ipt n ns
    for ipt in iptables ip6tables; do
        n=$(lab_vantage_hits client "$ipt" INPUT vp-za)
        ((n > 0)) || { echo "the client's $ipt DROP rule for vp-za saw no packets"; return 1; }
    done
    for ns in "${VANTAGE_NS[@]}"; do
        [[ $ns == vp-za ]] || lab_vantage_reached "$ns" || return 1
    done
}

scenario_doctor_check() {
    local f=$1/doctor.json
    lab_finding_contains "$f" http01.perspectives.quorum-at-risk "validation would pass (7 of 8 perspectives reached it" || return 1
    lab_finding_contains "$f" http01.perspectives.geo-block "blocked from country ZA: ${VP_PLACE[vp-za]} [timeout]"
}

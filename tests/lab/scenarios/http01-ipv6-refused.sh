# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The domain has an AAAA record, but port 80 over IPv6 is closed (TCP reset) while IPv4 works.
DESCRIPTION="AAAA points at the server, but IPv6 port 80 is refused; IPv4 port 80 works"
MIRRORS="a web server listening on IPv4 only, or an ip6tables policy that nobody updated"
EXPECT_ISSUED=no
EXPECT_EXIT=0
EXPECT_CODES=(http01.reachability.refused:warn)
LE_DIFFERENCE="Let's Encrypt tries IPv6 first and falls back to IPv4 after a dial error such as a refused connection, so it would issue (the doctor warns); Pebble does not fall back, so certbot fails in the lab"
DOCTOR_ARGS=("$USER_DOMAIN")

scenario_setup() {
    nsx client ip6tables -A INPUT -p tcp --dport 80 -j REJECT --reject-with tcp-reset
}

scenario_verify() {
    local v6
    v6=$(lab_rule_hits client ip6tables INPUT)
    ((v6 > 0)) || { echo "the client's IPv6 port 80 rule saw no packets"; return 1; }
}

scenario_doctor_check() {
    lab_finding_contains "$1/doctor.json" http01.reachability.refused "$CLIENT6"
}

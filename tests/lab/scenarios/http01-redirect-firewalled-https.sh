# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# Port 80 redirects everything to https://, and port 443 on the server is firewalled: the CA
# follows the redirect and times out.
DESCRIPTION="port 80 redirects to HTTPS, and port 443 is dropped by the server's firewall"
MIRRORS="a 'force HTTPS' redirect on a server whose 443 is closed to the world (or only open to a CDN)"
EXPECT_ISSUED=no
EXPECT_EXIT=1
EXPECT_CODES=(http01.reachability.timeout)
CERTBOT_TIMEOUT=50
DOCTOR_ARGS=("$USER_DOMAIN")

scenario_setup() {
    lab_client_site "server {
        listen 80; listen [::]:80 ipv6only=on;
        server_name $USER_DOMAIN;
        location / { return 301 https://\$host\$request_uri; }
    }"
    nsx client iptables -A INPUT -p tcp --dport 443 -j DROP
    nsx client ip6tables -A INPUT -p tcp --dport 443 -j DROP
}

scenario_verify() {
    local v4 v6
    v4=$(lab_rule_hits client iptables INPUT)
    v6=$(lab_rule_hits client ip6tables INPUT)
    ((v4 + v6 > 0)) || { echo "the client's port 443 rules saw no packets"; return 1; }
}

# The timeout must be the redirect target's, in Boulder's words.
scenario_doctor_check() {
    lab_finding_contains "$1/doctor.json" http01.reachability.timeout "Fetching https://$USER_DOMAIN/.well-known/acme-challenge/" &&
        lab_finding_contains "$1/doctor.json" http01.reachability.timeout "Timeout during connect (likely firewall problem)"
}

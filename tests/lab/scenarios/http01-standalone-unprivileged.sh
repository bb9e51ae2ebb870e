# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# certbot --standalone and acme-doctor --standalone run as nobody without capabilities on a
# client where nothing listens on port 80 (nginx stopped): binding port 80 fails with EACCES
# (net.ipv4.ip_unprivileged_port_start is 1024), not EADDRINUSE.
DESCRIPTION="--standalone as an unprivileged user: port 80 is free but binding it is not permitted"
MIRRORS="certbot --standalone run without sudo, from a user's crontab or an unprivileged container or CI job"
EXPECT_ISSUED=no
EXPECT_EXIT=1
EXPECT_CODES=(http01.token.cannot-bind:fail http01.reachability.refused:fail)
CERTBOT_AUTH=(--standalone)
CERTBOT_UNPRIVILEGED=yes
DOCTOR_UNPRIVILEGED=yes
DOCTOR_ARGS=("$USER_DOMAIN" --standalone)

scenario_setup() {
    lab_stop nginx-client
}

scenario_verify() {
    local start listening err
    start=$(nsx client sysctl -n net.ipv4.ip_unprivileged_port_start)
    ((start > 80)) || { echo "net.ipv4.ip_unprivileged_port_start is $start in the client: anyone may bind 80"; return 1; }
    listening=$(nsx client ss -Hltn 'sport = :80')
    [[ -z $listening ]] || { echo "something listens on port 80: $listening"; return 1; }
    # What nobody gets for port 80 in the client: EACCES.
    err=$(nsx client setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
        /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET6)
try:
    s.bind(("::", 80))
except OSError as e:
    print(e.errno)
')
    [[ $err == 13 ]] || { echo "nobody binding [::]:80 got errno '$err', not EACCES (13)"; return 1; }
    grep -q "Could not bind TCP port 80 because you don't have the appropriate permissions" "$1/certbot.out" ||
        { echo "certbot did not fail on binding port 80"; return 1; }
}

scenario_doctor_check() {
    local start
    start=$(nsx client sysctl -n net.ipv4.ip_unprivileged_port_start)
    lab_finding_contains "$1/doctor.json" http01.token.cannot-bind \
        "--standalone cannot bind [::]:80 (port 80 on every address, IPv4 included): Permission denied (os error 13); ports below $start need root or CAP_NET_BIND_SERVICE (net.ipv4.ip_unprivileged_port_start is $start)"
}

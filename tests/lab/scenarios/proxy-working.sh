# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# Egress only through a proxy: r1 drops the client's direct TCP 443 to the CA; tinyproxy in the
# proxy namespace does CONNECT to 443, and HTTPS_PROXY points at it.
DESCRIPTION="direct HTTPS blocked, working CONNECT proxy in HTTPS_PROXY"
MIRRORS="a corporate network where only the explicit proxy reaches the Internet"
EXPECT_ISSUED=yes
EXPECT_EXIT=0
EXPECT_CLEAN=yes

scenario_setup() {
    local conf=$LAB_TMP/tinyproxy.conf
    cat >"$conf" <<CONF
User nobody
Group nogroup
Port $PROXY_PORT
Timeout 30
LogLevel Info
MaxClients 20
Allow 192.0.2.0/24
Allow 2001:db8:1::/64
ConnectPort 443
CONF
    lab_bg proxy tinyproxy tinyproxy -d -c "$conf"
    lab_wait_tcp proxy "$PROXY4" "$PROXY_PORT" tinyproxy
    nsx r1 iptables -A FORWARD -i to-client -p tcp -d "$CA4" --dport 443 -j DROP
    nsx r1 ip6tables -A FORWARD -i to-client -p tcp -d "$CA6" --dport 443 -j DROP
    CLIENT_ENV=("HTTPS_PROXY=http://$PROXY4:$PROXY_PORT" "https_proxy=http://$PROXY4:$PROXY_PORT")
}

scenario_verify() {
    # Every way out was through the proxy: it logged CONNECTs to the CA.
    grep -q "CONNECT $CA_HOST:443" "$LAB_TMP/log/tinyproxy.log" ||
        { echo "tinyproxy logged no CONNECT $CA_HOST:443"; return 1; }
}

# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The client's resolver answers NXDOMAIN for the CA's name. pebble-challtestsrv cannot answer
# NXDOMAIN (a name without records gets an empty NOERROR answer), so, as on many real networks,
# a filtering forwarder stands between the client and the DNS: dnsmasq on a second address of the
# dns namespace, forwarding everything else to challtestsrv.
DESCRIPTION="the CA's name answered NXDOMAIN by the client's resolver (dnsmasq address=/name/)"
MIRRORS="a DNS filter in NXDOMAIN mode (Pi-hole, AdGuard, corporate RPZ) or a broken split-horizon zone"
EXPECT_ISSUED=no
EXPECT_EXIT=1
EXPECT_CODES=(dns.acme.nxdomain)

scenario_setup() {
    local filter4=203.0.113.54 filter6=2001:db8:53::54
    nsx dns ip addr add "$filter4/28" dev eth0
    nsx dns ip -6 addr add "$filter6/64" dev eth0 nodad
    lab_bg dns dnsmasq dnsmasq -k --no-hosts --no-resolv --bind-interfaces \
        --listen-address="$filter4" --listen-address="$filter6" --port 53 \
        --server="$DNS4" --address="/$CA_HOST/" --user=root --pid-file= --log-facility=-
    lab_wait_tcp dns "$filter4" 53 dnsmasq
    lab_resolv_conf client "$filter4"
}

scenario_verify() {
    nsx client dig +time=2 +tries=1 "$CA_HOST" A | grep -q 'status: NXDOMAIN' ||
        { echo "the client's resolver did not answer NXDOMAIN"; return 1; }
}

# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The healthy base, unchanged: everything a working server has.
DESCRIPTION="healthy base: DNS, routes, IPv4+IPv6, trust store and clock all right"
MIRRORS="a server that can get and renew its certificate"
EXPECT_ISSUED=yes
EXPECT_EXIT=0
EXPECT_CLEAN=yes

scenario_verify() {
    # Pebble's validation really fetched the token from the client's nginx.
    grep -q 'GET /.well-known/acme-challenge/' "$LAB_TMP/nginx-client/logs/access.log" ||
        { echo "no HTTP-01 validation request reached nginx"; return 1; }
}

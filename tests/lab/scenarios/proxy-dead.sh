# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# HTTPS_PROXY names a proxy that is not there (nothing listens on the proxy's port).
DESCRIPTION="HTTPS_PROXY points at a dead proxy"
MIRRORS="a stale proxy setting in /etc/environment or a shell profile after the proxy was decommissioned"
EXPECT_ISSUED=no
EXPECT_EXIT=1
EXPECT_CODES=(acme.directory.proxy-unreachable proxy.env.unreachable)

scenario_setup() {
    CLIENT_ENV=("HTTPS_PROXY=http://$PROXY4:$PROXY_PORT" "https_proxy=http://$PROXY4:$PROXY_PORT")
}

scenario_verify() {
    # certbot's own words: it went to the proxy and could not connect.
    grep -q 'Cannot connect to proxy' "$1/certbot.log" ||
        { echo "certbot did not fail on connecting to the proxy"; return 1; }
}

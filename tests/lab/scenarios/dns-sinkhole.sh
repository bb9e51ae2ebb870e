# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The CA's name resolves to the unspecified addresses, as a DNS filter's block answer.
DESCRIPTION="the CA's name answered 0.0.0.0 and :: (sinkhole)"
MIRRORS="Pi-hole/AdGuard in NULL blocking mode, or a resolver-level ad/malware blocklist that lists the CA"
EXPECT_ISSUED=no
EXPECT_EXIT=1
EXPECT_CODES=(dns.acme.private-answer)

scenario_setup() {
    lab_dns_set "$CA_HOST" 0.0.0.0 ::
}

scenario_verify() {
    [[ $(nsx client dig +short +time=2 +tries=1 "$CA_HOST" A) == 0.0.0.0 ]] ||
        { echo "the client's resolver did not answer 0.0.0.0"; return 1; }
}

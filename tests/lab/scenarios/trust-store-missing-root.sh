# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The client's trust store does not hold the root the CA's chain ends at: Debian's public bundle
# (real roots, no lab root), like an old system that predates ISRG Root X1.
DESCRIPTION="client trust store lacking the CA's root"
MIRRORS="an outdated ca-certificates (no ISRG Root X1), a minimal container without a CA bundle, or SSL_CERT_FILE pointing at the wrong file"
EXPECT_ISSUED=no
EXPECT_EXIT=1
EXPECT_CODES=(tls.acme.unknown-issuer)

scenario_setup() {
    if [[ -s /etc/ssl/certs/ca-certificates.crt ]]; then
        lab_client_trust /etc/ssl/certs/ca-certificates.crt
    else
        lab_client_trust "$LAB_DIR/data/dst-root-ca-x3.pem"
    fi
}

scenario_verify() {
    grep -q 'unable to get local issuer certificate' "$1/certbot.out" ||
        { echo "certbot did not fail on an unknown issuer"; return 1; }
}

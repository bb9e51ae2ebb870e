# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The expired DST Root CA X3 (2021-09-30) sits in the client's store next to the right root.
DESCRIPTION="expired DST Root CA X3 added to the client's trust store"
MIRRORS="systems that kept DST Root CA X3 after 2021 (old OpenSSL 1.0.x picked the expired path and failed)"
# Modern verifiers (OpenSSL 1.1+, rustls) find the valid path, so certbot issues: a warning.
EXPECT_ISSUED=yes
EXPECT_EXIT=0
EXPECT_CODES=(trust.store.dst-root-x3:warn)

scenario_setup() {
    lab_client_trust "$LAB_ROOT" "$LAB_DIR/data/dst-root-ca-x3.pem"
}

# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The domain has a CAA record that allows only another CA.
DESCRIPTION="CAA at the domain allows only another CA (issue \"other-ca.example\")"
MIRRORS="a CAA record left over from a previous CA, or added by a DNS host's 'security' default"
EXPECT_ISSUED=yes
EXPECT_EXIT=1
EXPECT_CODES=(dns.caa.forbidden)
LE_DIFFERENCE="Let's Encrypt checks CAA and refuses with a caa error; Pebble does not check CAA, so certbot gets a certificate in the lab"
DOCTOR_ARGS=("$USER_DOMAIN")

scenario_setup() {
    lab_dns_api add-caa "{\"host\":\"$USER_DOMAIN.\",\"policies\":[{\"tag\":\"issue\",\"value\":\"other-ca.example\"}]}"
}

scenario_verify() {
    nsx client dig +short CAA "$USER_DOMAIN" | grep -q other-ca.example ||
        { echo "the client's resolver does not answer the CAA record"; return 1; }
}

scenario_doctor_check() {
    lab_finding_contains "$1/doctor.json" dns.caa.forbidden "letsencrypt.org"
}

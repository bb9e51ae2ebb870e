# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The healthy base with the user's domain given: the inbound checks (DNS, CAA, the HTTP-01 path
# probed as the CA probes it, a real token through --webroot) must all pass.
DESCRIPTION="the user's domain checked as the CA will see it (HTTP-01, --webroot)"
MIRRORS="acme-doctor www.example.com --webroot /var/www/html before the first issuance"
EXPECT_ISSUED=yes
EXPECT_EXIT=0
EXPECT_CLEAN=yes
DOCTOR_ARGS=("$USER_DOMAIN" --webroot "$LAB_TMP/webroot")

scenario_doctor_check() {
    python3 - "$1/doctor.json" <<'PY'
import json, sys
checks = {c["id"]: c for c in json.load(open(sys.argv[1]))["checks"]}
for cid in ("dns.domain", "dns.caa", "http01.reachability", "http01.token"):
    if checks[cid]["status"] != "pass":
        sys.exit(f"{cid} is {checks[cid]['status']}: {checks[cid]['summary']}")
PY
}

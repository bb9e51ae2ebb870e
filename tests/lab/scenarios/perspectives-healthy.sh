# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# Eight vantage points on their own subnets, spread over five continents and all five RIRs, and
# the Globalping API fake that runs each probe inside its vantage namespace: all of them reach
# the user's port 80, so the CA's multi-perspective quorum would pass.
DESCRIPTION="the HTTP-01 path seen from 8 vantage points through the Globalping fake; all reach port 80"
MIRRORS="acme-doctor www.example.com with Globalping (--perspectives 8) on a server open to the world"
EXPECT_ISSUED=yes
EXPECT_EXIT=0
EXPECT_CLEAN=yes
DOCTOR_OFFLINE=no
DOCTOR_ARGS=(--globalping-url "$GLOBALPING_URL" "$USER_DOMAIN")

scenario_setup() {
    lab_vantage_up
}

scenario_verify() {
    local ns
    for ns in "${VANTAGE_NS[@]}"; do
        lab_vantage_reached "$ns" || return 1
    done
}

scenario_doctor_check() {
    python3 - "$1/doctor.json" <<'PY'
import json, sys
checks = {c["id"]: c for c in json.load(open(sys.argv[1]))["checks"]}
c = checks["http01.perspectives"]
if c["status"] != "pass":
    sys.exit(f"http01.perspectives is {c['status']}: {c.get('reason') or c['summary']}")
targets = (c.get("facts") or {}).get("targets", [])
for t in targets:
    v = t["verdict"]
    if not v["pass"] or v["perspectives"] != 8 or v["passed"] != 8:
        sys.exit(f"{t['target']}: {v}")
if len(targets) != 2:
    sys.exit(f"expected IPv6 and IPv4 targets, got {[t['target'] for t in targets]}")
PY
}

# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The doctor runs as nobody with every capability dropped: the TCP traceroute still works
# (IP_RECVERR needs no privilege), and ping says which privilege would enable it.
DESCRIPTION="the doctor without root or capabilities (setpriv)"
MIRRORS="running the doctor as an ordinary user or from an unprivileged CI job"
EXPECT_ISSUED=yes
EXPECT_EXIT=0
EXPECT_CLEAN=yes
DOCTOR_UNPRIVILEGED=yes

scenario_doctor_check() {
    lab_trace_hops "$1/doctor.json" "$CA4" "$R1_LAN4 $R2_T4 $CA4" || return 1
    # ping_group_range is per network namespace: read the client's.
    python3 - "$1/doctor.json" "$(nsx client cat /proc/sys/net/ipv4/ping_group_range)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ping = next(c for c in r["checks"] if c["id"] == "path.ping")
rng = sys.argv[2].split()
if not (int(rng[0]) <= 65534 <= int(rng[1])):
    codes = [f["code"] for f in ping["findings"]]
    if "path.ping.not-permitted" not in codes:
        sys.exit(f"unprivileged ping should report path.ping.not-permitted, got {codes}")
PY
}

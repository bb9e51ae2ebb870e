# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The client's clock runs two years ahead (libfaketime for certbot and the doctor alike).
DESCRIPTION="client clock two years ahead"
MIRRORS="a VM restored from a snapshot, a dead RTC battery, or NTP blocked and the clock set by hand"
# The CA's certificate (90 days) looks expired to the client; Pebble's clock is right.
EXPECT_ISSUED=no
EXPECT_EXIT=1
EXPECT_CODES=(system.clock.skew-fail tls.acme.expired)
CLIENT_CLOCK_OFFSET=+730d

scenario_verify() {
    # The doctor really ran under the faked clock (its report's start time is two years on).
    local year
    year=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["started_at"][:4])' "$1/doctor.json" 2>/dev/null) ||
        { echo "no started_at in the doctor's report"; return 1; }
    ((year >= $(date -u +%Y) + 1)) || { echo "doctor report started_at year $year: clock not faked"; return 1; }
}

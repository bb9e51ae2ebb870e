# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The healthy path, traced: path.trace must list exactly the lab's routers, in order, and reach the
# CA over both families.
DESCRIPTION="TCP traceroute to the CA over the healthy path (r1, r2, CA)"
MIRRORS="checking which networks a server's traffic to the CA crosses"
EXPECT_ISSUED=yes
EXPECT_EXIT=0
EXPECT_CLEAN=yes

scenario_doctor_check() {
    lab_trace_hops "$1/doctor.json" "$CA4" "$R1_LAN4 $R2_T4 $CA4" &&
        lab_trace_hops "$1/doctor.json" "$CA6" "$R1_LAN6 $R2_T6 $CA6"
}

# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The healthy base, unchanged: everything a working server has.
DESCRIPTION="healthy base: DNS, routes, IPv4+IPv6, trust store and clock all right"
MIRRORS="a server that can get and renew its certificate"
EXPECT_ISSUED=yes
EXPECT_EXIT=0
EXPECT_CLEAN=yes

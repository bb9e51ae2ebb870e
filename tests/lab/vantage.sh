# shellcheck shell=bash disable=SC2034  # constants used by run and the scenarios
# Vantage points for the perspective checks (http01/tlsalpn01/dns01.perspectives): eight
# namespaces standing for the probe places the doctor asks Globalping for by default, each on its
# own documentation-range subnet behind r2, and the Globalping API fake (examples/globalping_fake.rs,
# the in-process fake of tests/support/globalping.rs as a program) in its own namespace `gp`.
# Each probe's measurement runs inside its vantage namespace (ip netns exec), so the firewalls
# on the way decide what it sees. Sourced by lib.sh; docs/lab.md has the address plan.

# One vantage point per country of the doctor's default spread (src/perspectives/mod.rs SPREAD,
# --perspectives 8): every continent but Oceania and all five RIRs. The fake takes each place
# (city, ASN, network) from tests/support/globalping.rs default_probes().
VANTAGE_NS=(vp-us vp-de vp-sg vp-br vp-gb vp-jp vp-za vp-ca)
declare -A VP_COUNTRY=([vp-us]=US [vp-de]=DE [vp-sg]=SG [vp-br]=BR [vp-gb]=GB [vp-jp]=JP [vp-za]=ZA [vp-ca]=CA)
# How the report names each place (Place::label in src/perspectives/mod.rs).
declare -A VP_PLACE=(
    [vp-us]="Ashburn, US (AS16509 Amazon.com, Inc.)"
    [vp-de]="Frankfurt, DE (AS24940 Hetzner Online GmbH)"
    [vp-sg]="Singapore, SG (AS14061 DigitalOcean, LLC)"
    [vp-br]="São Paulo, BR (AS28573 Claro NXT)"
    [vp-gb]="London, GB (AS2856 British Telecommunications PLC)"
    [vp-jp]="Tokyo, JP (AS2516 KDDI Corporation)"
    [vp-za]="Johannesburg, ZA (AS37100 SEACOM)"
    [vp-ca]="Toronto, CA (AS812 Rogers Communications)"
)
# Addresses: vantage N (1-8) is on 198.51.100.16N/28 and 2001:db8:fN::/64, r2 .16N+1 / ::1,
# the vantage point .16N+2 / ::2.
declare -A VP_NET4 VP_ADDR4 VP_R2_4 VP_NET6 VP_ADDR6 VP_R2_6
_n=0
for _ns in "${VANTAGE_NS[@]}"; do
    _n=$((_n + 1))
    VP_NET4[$_ns]=198.51.100.$((16 * _n))/28
    VP_R2_4[$_ns]=198.51.100.$((16 * _n + 1))
    VP_ADDR4[$_ns]=198.51.100.$((16 * _n + 2))
    VP_NET6[$_ns]=2001:db8:f$_n::/64
    VP_R2_6[$_ns]=2001:db8:f$_n::1
    VP_ADDR6[$_ns]=2001:db8:f$_n::2
done
unset _n _ns
# The API fake: gp 198.51.100.250 / 2001:db8:fa::50, r2 .241 / ::1.
GP4=198.51.100.250 R2_GP4=198.51.100.241
GP6=2001:db8:fa::50 R2_GP6=2001:db8:fa::1
# What the doctor gets as --globalping-url (the form of its default, https://api.globalping.io/v1/).
GLOBALPING_URL="http://$GP4/v1/"
LAB_NAMESPACES+=("${VANTAGE_NS[@]}" gp)

# The fake's program (cargo build --example globalping_fake).
lab_globalping_fake() {
    echo "${GLOBALPING_FAKE:-$LAB_DIR/../../target/debug/examples/globalping_fake}"
}

# Links every vantage namespace and gp to r2, gives the vantage points the lab's resolver, and
# starts the API fake in gp with one probe per vantage point. Call from scenario_setup; the
# doctor then needs DOCTOR_OFFLINE=no and --globalping-url "$GLOBALPING_URL".
lab_vantage_up() {
    local ns fake
    fake=$(lab_globalping_fake)
    [[ -x $fake ]] || lab_die "no Globalping fake at $fake: run cargo build --example globalping_fake, or set GLOBALPING_FAKE"
    local -a vantage=()
    for ns in "${VANTAGE_NS[@]}"; do
        lab_link "$ns" eth0 "${VP_ADDR4[$ns]}" "${VP_ADDR6[$ns]}" r2 "to-$ns" \
            "${VP_R2_4[$ns]}" "${VP_R2_6[$ns]}" 28 64
        nsx "$ns" ip route add default via "${VP_R2_4[$ns]}"
        nsx "$ns" ip -6 route add default via "${VP_R2_6[$ns]}"
        lab_resolv_conf "$ns" "$DNS4"
        vantage+=(--vantage "$ns=${VP_COUNTRY[$ns]}")
    done
    lab_link gp eth0 "$GP4" "$GP6" r2 to-gp "$R2_GP4" "$R2_GP6" 28 64
    nsx gp ip route add default via "$R2_GP4"
    nsx gp ip -6 route add default via "$R2_GP6"
    lab_bg gp globalping-fake "$fake" serve --listen "$GP4:80" "${vantage[@]}"
    lab_wait_tcp client "$GP4" 80 globalping-fake || lab_die "the Globalping fake did not start"
}

# Drops TCP to PORT on the client (the user's server) from vantage point NS, IPv4 and IPv6:
# a firewall or geo-IP rule that blocks that part of the world.
lab_vantage_block() { # NS PORT
    nsx client iptables -A INPUT -s "${VP_NET4[$1]}" -p tcp --dport "$2" -j DROP
    nsx client ip6tables -A INPUT -s "${VP_NET6[$1]}" -p tcp --dport "$2" -j DROP
}

# Packets that DROP/REJECT rules matching vantage NS's subnet counted in a chain.
lab_vantage_hits() { # HOST-NS IPT CHAIN VANTAGE-NS
    local net=${VP_NET4[$4]}
    [[ $2 == ip6tables ]] && net=${VP_NET6[$4]}
    nsx "$1" "$2" -L "$3" -v -x -n |
        awk -v s="$net" '$3 == "DROP" || $3 == "REJECT" { for (i = 4; i <= NF; i++) if ($i == s) t += $1 } END { print t + 0 }'
}

# Asserts that the client's nginx logged the HTTP-01 path requested from vantage NS (the probe
# really went through the network), over IPv4 and IPv6.
lab_vantage_reached() { # NS
    local log=$LAB_TMP/nginx-client/logs/access.log a
    for a in "${VP_ADDR4[$1]}" "${VP_ADDR6[$1]}"; do
        grep -q "^$a .*/.well-known/acme-challenge/" "$log" ||
            { echo "nginx logged no challenge request from $1 ($a)"; return 1; }
    done
}

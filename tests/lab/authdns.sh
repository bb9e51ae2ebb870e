# shellcheck shell=bash disable=SC2034  # constants used by the scenarios
# Real authoritative DNS for the user's zone, for scenarios that need it (sourced by lib.sh; the
# healthy base does not start any of this: challtestsrv answers every name there).
#
#   lab_authdns_up [--stub "ns1 ns2"] [--ca-stub "ns1 ns2"] [--dnssec valid|expired ...]
#
# starts NSD as the two authoritative servers of lab-example.com, each in its own namespace behind
# r2 (ns1 203.0.113.85 / 2001:db8:85::53, ns2 203.0.113.101 / 2001:db8:101::53), and unbound as
# the client's recursive resolver (203.0.113.55 / 2001:db8:53::55, a second address of the dns
# namespace): a stub-zone delegates lab-example.com to the servers named by --stub (default both,
# chosen by unbound as resolvers do), a forward-zone sends every other name (the CA's) to
# challtestsrv. The client's resolv.conf then names the resolver. With --ca-stub, the CA gets its
# own unbound too (127.0.0.1:53 in the ca namespace, asking the servers named from 203.0.113.10 /
# 2001:db8:ca::10), and Pebble is restarted to resolve through it, so validation follows the
# real delegation; without it Pebble keeps asking challtestsrv (which has the same www records).
# Naming one server in --stub or --ca-stub makes a run deterministic where the servers disagree.
# --dnssec signs the zone and makes both resolvers validate it (tests/lab/dnssec.sh).
#
#   lab_authdns_zone ns2 SERIAL WWW4 WWW6
#
# gives one server its own zone contents after lab_authdns_up (both start in sync at
# AUTHDNS_SERIAL): NSD reloads, and the call waits until the server answers with the new serial.
# Empty WWW4/WWW6: no record.
#
#   lab_authdns_block ns2 SRC4 [SRC6]
#
# drops DNS (udp and tcp/53) from a source prefix at a server, in its INPUT chain (the rule hits
# are lab_rule_hits ns2 iptables INPUT / ip6tables INPUT): a nameserver firewalled from one region.
#
#   lab_authdns_count ADDR...; lab_authdns_queries ns1 ADDR
#
# count the queries (udp and tcp/53) a server got from an address, e.g. to prove which server a
# resolver asked (RESOLVER4/RESOLVER6 for the client's resolver, CA4/CA6 for the CA's).
#
# Exported for scenarios: NS1_4 NS1_6 NS2_4 NS2_6 RESOLVER4 RESOLVER6 AUTHDNS_ZONE
# AUTHDNS_SERIAL (the in-sync serial).

LAB_NAMESPACES+=(ns1 ns2)

AUTHDNS_ZONE=lab-example.com
AUTHDNS_SERIAL=2024060102
NS1_4=203.0.113.85 R2_NS1_4=203.0.113.81
NS1_6=2001:db8:85::53 R2_NS1_6=2001:db8:85::1
NS2_4=203.0.113.101 R2_NS2_4=203.0.113.97
NS2_6=2001:db8:101::53 R2_NS2_6=2001:db8:101::1
RESOLVER4=203.0.113.55
RESOLVER6=2001:db8:53::55

# Writes NAME's zone file: SOA (serial SERIAL), NS ns1/ns2 with their addresses, the apex and www
# at WWW4/WWW6. When NAME's NSD runs, reloads it and waits (bounded) for the new serial.
lab_authdns_zone() { # NAME SERIAL WWW4 WWW6
    local name=$1 serial=$2 www4=$3 www6=$4 d=$LAB_TMP/authdns/$1 h
    mkdir -p "$d"
    {
        # shellcheck disable=SC2016  # zone-file directives, not shell variables
        printf '$ORIGIN %s.\n$TTL 300\n' "$AUTHDNS_ZONE"
        printf '@ IN SOA ns1.%s. hostmaster.%s. ( %s 3600 900 1209600 300 )\n' \
            "$AUTHDNS_ZONE" "$AUTHDNS_ZONE" "$serial"
        printf '@ IN NS ns1.%s.\n@ IN NS ns2.%s.\n' "$AUTHDNS_ZONE" "$AUTHDNS_ZONE"
        printf 'ns1 IN A %s\nns1 IN AAAA %s\nns2 IN A %s\nns2 IN AAAA %s\n' \
            "$NS1_4" "$NS1_6" "$NS2_4" "$NS2_6"
        for h in @ www; do
            [[ -z $www4 ]] || printf '%s IN A %s\n' "$h" "$www4"
            [[ -z $www6 ]] || printf '%s IN AAAA %s\n' "$h" "$www6"
        done
    } >"$d/zone.new"
    # With --dnssec, NSD serves the zone as ldns-signzone signed it (dnssec.sh).
    [[ -z $DNSSEC_MODE ]] || lab_dnssec_sign "$d/zone.new"
    mv "$d/zone.new" "$d/$AUTHDNS_ZONE.zone"
    local pid addr
    pid=$(lab_pid_of "nsd-$name")
    [[ -n $pid ]] || return 0
    addr=$NS1_4
    [[ $name == ns2 ]] && addr=$NS2_4
    # NSD rereads zone files whose mtime changed on SIGHUP.
    touch -d '+1 second' "$d/$AUTHDNS_ZONE.zone"
    kill -HUP "$pid"
    for _ in $(seq 50); do
        [[ $(lab_authdns_serial "$addr") == "$serial" ]] && return 0
        sleep 0.1
    done
    lab_die "nsd-$name did not load serial $serial; its log: $(tail -5 "$LAB_TMP/log/nsd-$name.log")"
}

# The SOA serial a server answers (no recursion), asked from the client namespace.
lab_authdns_serial() { # SERVER-ADDRESS
    nsx client dig +norec +time=1 +tries=1 +short "@$1" SOA "$AUTHDNS_ZONE" 2>/dev/null | awk '{ print $3 }'
}

# One NSD in namespace NAME at ADDR4/ADDR6, serving $LAB_TMP/authdns/NAME's zone.
lab_authdns_nsd() { # NAME ADDR4 ADDR6
    local name=$1 d=$LAB_TMP/authdns/$1
    cat >"$d/nsd.conf" <<EOF
server:
    ip-address: $2
    ip-address: $3
    port: 53
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$d"
    database: ""
    zonelistfile: "$d/zone.list"
    xfrdfile: "$d/xfrd.state"
    xfrdir: "$d"
    pidfile: "$d/nsd.pid"
    logfile: "$LAB_TMP/log/nsd-$name.log"
    verbosity: 2
    hide-version: yes
    identity: "$name.$AUTHDNS_ZONE"
    # No response rate limiting: the lab's few clients share one /24 and runs must not
    # depend on query rates.
    rrl-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: "$AUTHDNS_ZONE"
    zonefile: "$AUTHDNS_ZONE.zone"
$(lab_dnssec_nsd_zone "$d")
EOF
    nsd-checkconf "$d/nsd.conf" || lab_die "nsd-checkconf rejected $d/nsd.conf"
    lab_bg "$name" "nsd-$name" nsd -d -c "$d/nsd.conf"
}

# An unbound recursive resolver in namespace NS (process NAME) listening on ADDR4/ADDR6 and
# asking from OUT4/OUT6 (so a server's firewall sees a known source): a stub-zone sends the zone's
# queries to the servers in STUBS ("ns1 ns2", "ns1", ...), which it chooses between by their
# response times as resolvers do; a forward-zone sends every other name (the CA's) to challtestsrv.
lab_authdns_unbound() { # NS NAME ADDR4 ADDR6 OUT4 OUT6 STUBS
    local ns=$1 name=$2 d=$LAB_TMP/authdns/$2 s stubs=""
    mkdir -p "$d"
    for s in $7; do
        case $s in
        ns1) stubs+="    stub-addr: $NS1_4"$'\n'"    stub-addr: $NS1_6"$'\n' ;;
        ns2) stubs+="    stub-addr: $NS2_4"$'\n'"    stub-addr: $NS2_6"$'\n' ;;
        *) lab_die "lab_authdns_up: no server $s" ;;
        esac
    done
    [[ -n $stubs ]] || lab_die "lab_authdns_up: $name needs at least one of ns1 ns2"
    cat >"$d/unbound.conf" <<EOF
server:
    interface: $3
    interface: $4
    outgoing-interface: $5
    outgoing-interface: $6
    port: 53
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "$d"
    pidfile: "$d/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    log-servfail: yes
    # Only the lab's networks (and the namespace itself) ask.
    access-control: 127.0.0.0/8 allow
    access-control: ::1/128 allow
    access-control: 192.0.2.0/24 allow
    access-control: 198.51.100.0/24 allow
    access-control: 203.0.113.0/24 allow
    access-control: 2001:db8::/32 allow
$(lab_dnssec_unbound_conf)
    num-threads: 1
    # A scenario lasts well under a minute; nothing cached outlives it.
    cache-max-ttl: 60
remote-control:
    control-enable: no
stub-zone:
    name: "$AUTHDNS_ZONE"
$stubs
$(lab_dnssec_unbound_stub "$stubs")
forward-zone:
    name: "."
    forward-addr: $DNS4
EOF
    unbound-checkconf "$d/unbound.conf" >/dev/null || lab_die "unbound-checkconf rejected $d/unbound.conf"
    lab_bg "$ns" "$name" unbound -d -c "$d/unbound.conf"
}

lab_authdns_up() {
    local stub="ns1 ns2" ca_stub="" dnssec="" alg=ECDSAP256SHA256 nsec3=no parent=""
    while (($#)); do
        case $1 in
        --stub) stub=$2 && shift ;;
        --ca-stub) ca_stub=$2 && shift ;;
        --dnssec) dnssec=$2 && shift ;;
        --dnssec-alg) alg=$2 && shift ;;
        --nsec3) nsec3=yes ;;
        --dnssec-parent) parent=$2 && shift ;;
        *) lab_die "lab_authdns_up: unknown argument $1" ;;
        esac
        shift
    done
    local t
    for t in nsd nsd-checkconf unbound unbound-checkconf; do
        command -v "$t" >/dev/null || lab_die "lab_authdns_up: $t missing; install: apt-get install -y $LAB_PACKAGES"
    done
    lab_link ns1 eth0 "$NS1_4" "$NS1_6" r2 to-ns1 "$R2_NS1_4" "$R2_NS1_6" 28 64
    lab_link ns2 eth0 "$NS2_4" "$NS2_6" r2 to-ns2 "$R2_NS2_4" "$R2_NS2_6" 28 64
    nsx ns1 ip route add default via "$R2_NS1_4"
    nsx ns1 ip -6 route add default via "$R2_NS1_6"
    nsx ns2 ip route add default via "$R2_NS2_4"
    nsx ns2 ip -6 route add default via "$R2_NS2_6"
    # Both servers start in sync; lab_authdns_zone changes one afterwards.
    rm -rf "${LAB_TMP:?}/authdns"
    # Unsigned unless --dnssec (a previous scenario's keys do not carry over).
    DNSSEC_MODE=""
    DNSSEC_PARENT=""
    [[ -z $dnssec ]] || lab_dnssec_keys "$dnssec" "$alg" "$nsec3" "$parent"
    lab_authdns_zone ns1 "$AUTHDNS_SERIAL" "$CLIENT4" "$CLIENT6"
    lab_authdns_zone ns2 "$AUTHDNS_SERIAL" "$CLIENT4" "$CLIENT6"
    lab_authdns_nsd ns1 "$NS1_4" "$NS1_6"
    lab_authdns_nsd ns2 "$NS2_4" "$NS2_6"

    # The client's resolver: a second address in the dns namespace, next to challtestsrv.
    nsx dns ip addr add "$RESOLVER4/28" dev eth0
    nsx dns ip -6 addr add "$RESOLVER6/64" dev eth0 nodad
    lab_authdns_unbound dns unbound "$RESOLVER4" "$RESOLVER6" "$RESOLVER4" "$RESOLVER6" "$stub"
    # The CA's own resolver (Let's Encrypt runs unbound next to its validators): on loopback in
    # the ca namespace, asking the servers from the CA's addresses; Pebble restarts to use it.
    if [[ -n $ca_stub ]]; then
        lab_authdns_unbound ca unbound-ca 127.0.0.1 ::1 "$CA4" "$CA6" "$ca_stub"
    fi

    lab_wait_tcp ns1 "$NS1_4" 53 nsd-ns1
    lab_wait_tcp ns2 "$NS2_4" 53 nsd-ns2
    lab_wait_tcp dns "$RESOLVER4" 53 unbound
    lab_resolv_conf client "$RESOLVER4"
    if [[ -n $ca_stub ]]; then
        lab_wait_tcp ca 127.0.0.1 53 unbound-ca
        # The same Pebble as in lab_up, with its own resolver instead of challtestsrv.
        lab_stop pebble
        lab_bg ca pebble env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
            pebble -config "$LAB_TMP/pebble.json" -dnsserver 127.0.0.1:53
        lab_wait_tcp ca 127.0.0.1 443 pebble
    fi
}

# Drops DNS from SRC4 (and SRC6) at server NAME: udp and tcp port 53, both families.
lab_authdns_block() { # NAME SRC4 [SRC6]
    local p
    for p in udp tcp; do
        nsx "$1" iptables -A INPUT -s "$2" -p "$p" --dport 53 -j DROP
        [[ -z ${3:-} ]] || nsx "$1" ip6tables -A INPUT -s "$3" -p "$p" --dport 53 -j DROP
    done
}

# Counts (no verdict) the DNS queries, udp and tcp/53, each server gets from each ADDR: rules
# without a target in the servers' INPUT chains. lab_authdns_queries NS ADDR reads the count.
lab_authdns_count() { # ADDR...
    local ns a p ipt
    for ns in ns1 ns2; do
        for a in "$@"; do
            ipt=iptables
            [[ $a == *:* ]] && ipt=ip6tables
            for p in udp tcp; do
                nsx "$ns" "$ipt" -A INPUT -s "$a" -p "$p" --dport 53
            done
        done
    done
}
lab_authdns_queries() { # NS ADDR
    local ipt=iptables-save
    [[ $2 == *:* ]] && ipt=ip6tables-save
    nsx "$1" "$ipt" -c -t filter | awk -v s="$2" '
        $2 == "-A" && $3 == "INPUT" && $5 ~ ("^" s "/") && !/ -j / {
            c = $1; gsub(/[^0-9:]/, "", c); split(c, x, ":"); n += x[1]
        }
        END { print n + 0 }'
}

# shellcheck shell=bash disable=SC2034  # constants used by run, bench and the scenarios
# The lab's healthy base: namespaces, links, addresses, routes, the lab PKI and the real
# components (Pebble, pebble-challtestsrv, nginx). Sourced by tests/lab/run and tests/lab/bench;
# docs/lab.md has the diagram and the address plan.
#
# Every process the lab starts is recorded with its PID in $LAB_TMP/pids and ended by PID in
# lab_down. Nothing here sends a packet outside the namespaces created below: every address is
# on a veth link between two lab namespaces.

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Every namespace the lab may create. lab_cleanup_leftovers removes exactly these.
LAB_NAMESPACES=(client r1 r2 ca dns proxy mitm)

CA_HOST=acme-v02.api.letsencrypt.org
CA_DIR_URL="https://$CA_HOST/dir"
USER_DOMAIN=www.lab-example.com

# Address plan (documentation ranges stand in for public addresses; ULA only on the transit
# link between the routers, where an ISP would number its own infrastructure).
CLIENT4=192.0.2.2 R1_LAN4=192.0.2.1
CLIENT6=2001:db8:1::2 R1_LAN6=2001:db8:1::1
R1_T4=198.51.100.1 R2_T4=198.51.100.2
R1_T6=fd00:ac:de:12::1 R2_T6=fd00:ac:de:12::2
CA4=203.0.113.10 R2_CA4=203.0.113.1
CA6=2001:db8:ca::10 R2_CA6=2001:db8:ca::1
PROXY4=203.0.113.38 R2_PROXY4=203.0.113.33
PROXY6=2001:db8:31::38 R2_PROXY6=2001:db8:31::1
DNS4=203.0.113.53 R2_DNS4=203.0.113.49
DNS6=2001:db8:53::53 R2_DNS6=2001:db8:53::1
MITM4=203.0.113.66 R2_MITM4=203.0.113.65
MITM6=2001:db8:66::66 R2_MITM6=2001:db8:66::1
PROXY_PORT=3128

# libfaketime (package faketime) for the clock scenario, wherever the architecture puts it.
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
for _f in /usr/lib/*/faketime/libfaketime.so.1; do
    [[ -e $_f ]] && FAKETIME_LIB=$_f && break
done
unset _f
# Debian packages the lab needs (.ci/run installs them from this list).
LAB_PACKAGES=$(grep -v '^#' "$LAB_DIR/packages.txt" | tr '\n' ' ')
CLIENT_ENV=()

lab_log() { printf '%s\n' "$*" >&2; }
lab_die() {
    lab_log "lab: $*"
    exit 2
}

nsx() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

# Starts a long-running process inside a namespace and records its PID (ip netns exec execs the
# command, so $! is the process itself).
lab_bg() {
    local ns=$1 name=$2
    shift 2
    # 9>&-: the lab lock stays with the runner, so a killed runner does not leave it held.
    ip netns exec "$ns" "$@" >"$LAB_TMP/log/$name.log" 2>&1 </dev/null 9>&- &
    echo "$! $name" >>"$LAB_TMP/pids"
}

lab_pid_of() { awk -v n="$1" '$2 == n { p = $1 } END { if (p) print p }' "$LAB_TMP/pids"; }

lab_stop() {
    local pid
    pid=$(lab_pid_of "$1")
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    sed -i "/^$pid $1\$/d" "$LAB_TMP/pids"
}

# Waits until something accepts TCP on host:port from inside ns.
lab_wait_tcp() {
    local ns=$1 host=$2 port=$3 name=$4
    for _ in $(seq 100); do
        if nsx "$ns" timeout 1 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    lab_log "lab: $name did not start listening on $host:$port; its log:"
    cat "$LAB_TMP/log/$name.log" >&2 || true
    return 1
}

# veth pair between two namespaces with IPv4 and IPv6 on both ends.
lab_link() {
    local ns1=$1 if1=$2 a4=$3 a6=$4 ns2=$5 if2=$6 b4=$7 b6=$8 p4=$9 p6=${10}
    ip link add "$if1" netns "$ns1" type veth peer name "$if2" netns "$ns2"
    nsx "$ns1" ip addr add "$a4/$p4" dev "$if1"
    nsx "$ns1" ip -6 addr add "$a6/$p6" dev "$if1" nodad
    nsx "$ns2" ip addr add "$b4/$p4" dev "$if2"
    nsx "$ns2" ip -6 addr add "$b6/$p6" dev "$if2" nodad
    nsx "$ns1" ip link set "$if1" up
    nsx "$ns2" ip link set "$if2" up
}

# The lab PKI, made once per run: a root and intermediate standing in for ISRG's, the CA API's
# certificate, and a private "inspection" root for the interception scenario.
lab_pki() {
    local d=$LAB_TMP/pki
    mkdir -p "$d"
    (
        cd "$d" || exit 1
        gen() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
        ca_ext='basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash'
        leaf_ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:$CA_HOST"
        printf '%s\n' "$ca_ext" >ca.ext
        printf '%s\nauthorityKeyIdentifier=keyid\n' "$ca_ext" >int.ext
        printf '%s\nauthorityKeyIdentifier=keyid\n' "$leaf_ext" >leaf.ext
        gen labroot
        openssl req -x509 -new -key labroot.key -days 3650 -subj "/O=acme-doctor lab/CN=Lab Root X1" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -out labroot.pem 2>/dev/null
        gen labint
        openssl req -new -key labint.key -subj "/O=acme-doctor lab/CN=Lab R3" -out labint.csr
        openssl x509 -req -in labint.csr -CA labroot.pem -CAkey labroot.key -CAcreateserial \
            -days 1825 -extfile int.ext -out labint.pem 2>/dev/null
        gen api
        openssl req -new -key api.key -subj "/CN=$CA_HOST" -out api.csr
        openssl x509 -req -in api.csr -CA labint.pem -CAkey labint.key -CAcreateserial \
            -days 90 -extfile leaf.ext -out api.pem 2>/dev/null
        cat api.pem labint.pem >api-chain.pem
        gen inspect
        openssl req -x509 -new -key inspect.key -days 3650 \
            -subj "/O=Example Corp Security Gateway/CN=Example Corp SSL Inspection CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -out inspect.pem 2>/dev/null
        gen mitm
        openssl req -new -key mitm.key -subj "/CN=$CA_HOST" -out mitm.csr
        openssl x509 -req -in mitm.csr -CA inspect.pem -CAkey inspect.key -CAcreateserial \
            -days 30 -extfile leaf.ext -out mitm.pem 2>/dev/null
    )
    [[ -s $d/api-chain.pem && -s $d/mitm.pem ]] || lab_die "could not make the lab PKI with openssl"
    chmod 0755 "$d"
    chmod 0644 "$d"/*.pem "$d"/*.key
    LAB_ROOT=$d/labroot.pem
}

# The client's trust store, as every program in the client namespace sees /etc/ssl/certs.
lab_client_trust() {
    mkdir -p /etc/netns/client/ssl/certs
    cat "$@" >/etc/netns/client/ssl/certs/ca-certificates.crt
}

lab_resolv_conf() { # NS RESOLVER-IP
    mkdir -p "/etc/netns/$1"
    printf 'nameserver %s\n' "$2" >"/etc/netns/$1/resolv.conf"
}

# pebble-challtestsrv management API, called from inside the dns namespace.
lab_dns_api() { # PATH JSON
    nsx dns curl -fsS --max-time 5 -X POST -d "$2" "http://127.0.0.1:8055/$1" >/dev/null ||
        lab_die "challtestsrv /$1 $2 failed"
}
lab_dns_set() { # HOST IPv4 IPv6  (replaces both record sets)
    lab_dns_api clear-a "{\"host\":\"$1.\"}"
    lab_dns_api clear-aaaa "{\"host\":\"$1.\"}"
    [[ -z $2 ]] || lab_dns_api add-a "{\"host\":\"$1.\",\"addresses\":[\"$2\"]}"
    [[ -z $3 ]] || lab_dns_api add-aaaa "{\"host\":\"$1.\",\"addresses\":[\"$3\"]}"
}

lab_nginx_conf() { # DIR SERVER-BLOCK
    local d=$1
    mkdir -p "$d/tmp" "$d/logs"
    cat >"$d/nginx.conf" <<EOF
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log;
events { worker_connections 256; }
http {
    access_log $d/logs/access.log;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    default_type application/octet-stream;
    $2
}
EOF
}

lab_up() {
    [[ -n ${LAB_TMP:-} ]] || lab_die "LAB_TMP not set"
    # Each scenario starts from nothing: no logs or state of the previous one.
    rm -rf "${LAB_TMP:?}/log" "${LAB_TMP:?}"/nginx-* "${LAB_TMP:?}/webroot" "${LAB_TMP:?}/home"
    mkdir -p "$LAB_TMP/log"
    : >"$LAB_TMP/pids"
    local ns
    for ns in "${LAB_NAMESPACES[@]}"; do
        ip netns add "$ns"
        nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
        nsx "$ns" ip link set lo up
    done
    for ns in r1 r2; do
        nsx "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    done

    lab_link client eth0 "$CLIENT4" "$CLIENT6" r1 to-client "$R1_LAN4" "$R1_LAN6" 24 64
    lab_link r1 to-r2 "$R1_T4" "$R1_T6" r2 to-r1 "$R2_T4" "$R2_T6" 30 64
    lab_link ca eth0 "$CA4" "$CA6" r2 to-ca "$R2_CA4" "$R2_CA6" 28 64
    lab_link dns eth0 "$DNS4" "$DNS6" r2 to-dns "$R2_DNS4" "$R2_DNS6" 28 64
    lab_link proxy eth0 "$PROXY4" "$PROXY6" r2 to-proxy "$R2_PROXY4" "$R2_PROXY6" 28 64
    lab_link mitm eth0 "$MITM4" "$MITM6" r2 to-mitm "$R2_MITM4" "$R2_MITM6" 28 64

    nsx client ip route add default via "$R1_LAN4"
    nsx client ip -6 route add default via "$R1_LAN6"
    nsx r1 ip route add default via "$R2_T4"
    nsx r1 ip -6 route add default via "$R2_T6"
    # r2 is the edge of the lab: it knows the client's prefix and its own links, nothing else,
    # so a packet to any other address dies here with an ICMP unreachable.
    nsx r2 ip route add 192.0.2.0/24 via "$R1_T4"
    nsx r2 ip -6 route add 2001:db8:1::/64 via "$R1_T6"
    nsx ca ip route add default via "$R2_CA4"
    nsx ca ip -6 route add default via "$R2_CA6"
    nsx dns ip route add default via "$R2_DNS4"
    nsx dns ip -6 route add default via "$R2_DNS6"
    nsx proxy ip route add default via "$R2_PROXY4"
    nsx proxy ip -6 route add default via "$R2_PROXY6"
    nsx mitm ip route add default via "$R2_MITM4"
    nsx mitm ip -6 route add default via "$R2_MITM6"

    lab_resolv_conf client "$DNS4"
    lab_resolv_conf proxy "$DNS4"
    lab_resolv_conf mitm "$DNS4"
    lab_client_trust "$LAB_ROOT"
    # Programs that read OpenSSL's config keep finding it under the bind-mounted /etc/ssl.
    [[ -f /etc/ssl/openssl.cnf ]] && cp /etc/ssl/openssl.cnf /etc/netns/client/ssl/

    # dns: pebble-challtestsrv answers for every name; names it has no record for get an empty
    # answer (no default address), so only the records set below exist.
    lab_bg dns challtestsrv pebble-challtestsrv -defaultIPv4 "" -defaultIPv6 "" \
        -dns01 "$DNS4:53,[$DNS6]:53" -management 127.0.0.1:8055 \
        -http01 "" -https01 "" -tlsalpn01 ""
    lab_wait_tcp dns 127.0.0.1 8055 challtestsrv
    lab_dns_set "$CA_HOST" "$CA4" "$CA6"
    lab_dns_set "$USER_DOMAIN" "$CLIENT4" "$CLIENT6"

    # ca: Pebble on 443 with the lab chain; its VA resolves through challtestsrv and validates
    # HTTP-01 on port 80 like Let's Encrypt.
    cat >"$LAB_TMP/pebble.json" <<EOF
{"pebble": {"listenAddress": ":443", "managementListenAddress": "127.0.0.1:15000",
  "certificate": "$LAB_TMP/pki/api-chain.pem", "privateKey": "$LAB_TMP/pki/api.key",
  "httpPort": 80, "tlsPort": 443, "ocspResponderURL": "", "externalAccountBindingRequired": false}}
EOF
    lab_bg ca pebble env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
        pebble -config "$LAB_TMP/pebble.json" -dnsserver "$DNS4:53"
    lab_wait_tcp ca 127.0.0.1 443 pebble

    # client: nginx serving the HTTP-01 webroot on port 80, IPv4 and IPv6.
    mkdir -p "$LAB_TMP/webroot/.well-known/acme-challenge"
    chmod -R 0755 "$LAB_TMP/webroot"
    lab_nginx_conf "$LAB_TMP/nginx-client" "server {
        listen 80; listen [::]:80 ipv6only=on;
        server_name $USER_DOMAIN;
        location /.well-known/acme-challenge/ { root $LAB_TMP/webroot; }
        location / { return 404; }
    }"
    lab_bg client nginx-client nginx -e "$LAB_TMP/nginx-client/logs/error.log" \
        -c "$LAB_TMP/nginx-client/nginx.conf" -g 'daemon off; user root;'
    lab_wait_tcp client 127.0.0.1 80 nginx-client
}

lab_down() {
    if [[ -n ${LAB_FG_PID:-} ]]; then
        # timeout passes the signal on to the client command it watches.
        kill -TERM "$LAB_FG_PID" 2>/dev/null || true
        wait "$LAB_FG_PID" 2>/dev/null || true
        LAB_FG_PID=""
    fi
    [[ -n ${LAB_TMP:-} && -f $LAB_TMP/pids ]] || {
        lab_cleanup_leftovers
        return 0
    }
    local pid name
    while read -r pid name; do
        kill -TERM "$pid" 2>/dev/null || true
    done <"$LAB_TMP/pids"
    for _ in $(seq 30); do
        local alive=0
        while read -r pid name; do
            kill -0 "$pid" 2>/dev/null && alive=1
        done <"$LAB_TMP/pids"
        [[ $alive == 0 ]] && break
        sleep 0.1
    done
    while read -r pid name; do
        kill -KILL "$pid" 2>/dev/null || true
    done <"$LAB_TMP/pids"
    : >"$LAB_TMP/pids"
    lab_cleanup_leftovers
}

# Removes the lab's namespaces (their veths go with them), the processes still inside them (by
# PID, from `ip netns pids`) and the /etc/netns files the lab writes. Safe to run any time.
lab_cleanup_leftovers() {
    local ns pid
    for ns in "${LAB_NAMESPACES[@]}"; do
        if [[ -e /run/netns/$ns ]]; then
            for pid in $(ip netns pids "$ns" 2>/dev/null); do
                kill -KILL "$pid" 2>/dev/null || true
            done
            ip netns del "$ns" 2>/dev/null || true
        fi
        rm -rf "/etc/netns/$ns"
    done
}

# The argv that runs a command in the client namespace under a wall-clock limit, with the
# client's environment only: a clean environment plus what the scenario sets (CLIENT_ENV: proxy
# variables; CLIENT_CLOCK_OFFSET: a libfaketime offset such as +730d). The limit itself runs
# outside the faked clock. Sets CLIENT_ARGV.
client_argv() {
    local secs=$1
    shift
    local e=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$LAB_TMP/home" LANG=C.UTF-8)
    e+=("${CLIENT_ENV[@]}")
    if [[ -n ${CLIENT_CLOCK_OFFSET:-} ]]; then
        e+=(LD_PRELOAD="$FAKETIME_LIB" FAKETIME="$CLIENT_CLOCK_OFFSET" FAKETIME_DONT_FAKE_MONOTONIC=1)
    fi
    mkdir -p "$LAB_TMP/home"
    CLIENT_ARGV=(timeout -k 5 "$secs" ip netns exec client env -i "${e[@]}" "$@")
}

# Runs client_argv's command in the background and waits for it, so that a signal to the lab
# is handled at once (bash defers traps until a foreground child ends); lab_down ends it by PID.
# Redirect the call's output as usual.
LAB_FG_PID=""
client_run() {
    client_argv "$@"
    "${CLIENT_ARGV[@]}" 9>&- &
    LAB_FG_PID=$!
    local rc=0
    wait "$LAB_FG_PID" || rc=$?
    LAB_FG_PID=""
    return "$rc"
}

# Delays every packet forwarded by a router by DELAY-MS +/- JITTER-MS (both directions, both
# families) with the userspace NFQUEUE delayer; --queue-bypass lets packets through unharmed if
# the delayer is not running.
lab_delay() { # NS DELAY-MS JITTER-MS
    local ns=$1 ipt
    # A copy of shared/tools/netdelay.py, so the lab does not depend on where shared/ is.
    lab_bg "$ns" "netdelay-$ns" python3 "$LAB_DIR/netdelay.py" --queue 10 --delay-ms "$2" --jitter-ms "$3"
    for _ in $(seq 50); do
        grep -q '^netdelay:' "$LAB_TMP/log/netdelay-$ns.log" 2>/dev/null && break
        sleep 0.1
    done
    grep -q '^netdelay:' "$LAB_TMP/log/netdelay-$ns.log" ||
        lab_die "netdelay did not start: $(cat "$LAB_TMP/log/netdelay-$ns.log")"
    for ipt in iptables ip6tables; do
        nsx "$ns" "$ipt" -I FORWARD -j NFQUEUE --queue-num 10 --queue-bypass
    done
}

# The namespace names are fixed, so two labs cannot run at once: the second one would tear down
# the first one's namespaces. Held until the process exits.
lab_lock() {
    exec 9>/run/acme-doctor-lab.lock
    flock -n 9 || lab_die "another lab run (tests/lab/run or bench) is in progress; wait for it to finish"
}

# Packets that hit the DROP/REJECT rules of a chain (proof that a scenario's firewall rule was
# on the path the traffic took). IPT is iptables or ip6tables.
lab_rule_hits() { # NS IPT CHAIN
    nsx "$1" "$2" -L "$3" -v -x -n | awk '$3 == "DROP" || $3 == "REJECT" { s += $1 } END { print s + 0 }'
}

# lab_trace_hops REPORT TARGET "HOP HOP ..." — asserts that path.trace's trace to TARGET lists
# exactly these hop addresses in order ('*' for a hop that did not answer) and reached TARGET.
lab_trace_hops() {
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
report, target, want = sys.argv[1], sys.argv[2], sys.argv[3].split()
checks = json.load(open(report))["checks"]
trace = next(c for c in checks if c["id"] == "path.trace")
for t in (trace.get("facts") or {}).get("traces", []):
    if t["target"].rsplit(":", 1)[0].strip("[]") != target:
        continue
    got = []
    for h in t["hops"]:
        addrs = sorted({p["from"] for p in h["probes"] if p.get("from")})
        got.append(addrs[0] if len(addrs) == 1 else ("*" if not addrs else ",".join(addrs)))
    if got != want or t.get("reached_at") != len(want):
        sys.exit(f"trace to {target}: hops {got} reached_at {t.get('reached_at')}, want {want}")
    sys.exit(0)
sys.exit(f"no trace to {target} in path.trace (status {trace['status']}: {trace.get('reason') or trace['summary']})")
PY
}

# lab_dead_aaaa ADDR — gives the user's domain the AAAA ADDR (its A stays the client's), an
# address r2 has no route for, so r2 answers ICMPv6 "no route to destination"; counting rules on
# r2 see those messages to the client (the doctor) and to the CA (the validation).
lab_dead_aaaa() {
    lab_dns_set "$USER_DOMAIN" "$CLIENT4" "$1"
    nsx r2 ip6tables -A OUTPUT -p icmpv6 --icmpv6-type no-route -d "$CLIENT6"
    nsx r2 ip6tables -A OUTPUT -p icmpv6 --icmpv6-type no-route -d "$CA6"
}

# lab_dead_aaaa_hit — fails, saying why, unless r2 sent "no route" to both the client and the CA.
lab_dead_aaaa_hit() {
    local client ca
    client=$(_lab_no_route_sent "$CLIENT6") ca=$(_lab_no_route_sent "$CA6")
    ((client > 0 && ca > 0)) ||
        { echo "r2 sent ICMPv6 no-route to the client $client times, to the CA $ca times"; return 1; }
}

_lab_no_route_sent() {
    nsx r2 ip6tables -L OUTPUT -v -x -n | awk -v d="$1" '$8 == d || $8 == d "/128" { s += $1 } END { print s + 0 }'
}

# lab_finding_contains REPORT CODE TEXT — asserts that a finding CODE's summary contains TEXT.
lab_finding_contains() {
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
report, code, text = sys.argv[1:4]
for c in json.load(open(report))["checks"]:
    for f in c["findings"]:
        if f["code"] == code and text in f["summary"]:
            sys.exit(0)
sys.exit(f"no {code} finding whose summary contains {text!r}")
PY
}

# lab_client_site SERVER-BLOCK — replaces the client's nginx site and reloads it.
lab_client_site() {
    lab_nginx_conf "$LAB_TMP/nginx-client" "$1"
    nsx client nginx -c "$LAB_TMP/nginx-client/nginx.conf" -s reload
    sleep 0.5
}

# shellcheck source-path=SCRIPTDIR source=authdns.sh
source "$LAB_DIR/authdns.sh"
# shellcheck source-path=SCRIPTDIR source=vantage.sh
source "$LAB_DIR/vantage.sh"
# shellcheck source-path=SCRIPTDIR source=dnssec.sh
source "$LAB_DIR/dnssec.sh"

# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# TLS-ALPN-01 with the same dead AAAA as http01-aaaa-unreachable (r2 answers ICMPv6 "no route"
# for 2001:db8:dead::/48). The client runs the usual tls-alpn-01 setup behind nginx: nginx's
# stream module reads the ALPN of each connection to port 443 (ssl_preread) and passes
# acme-tls/1 to the ACME client (lego on 127.0.0.1:5001), everything else to the HTTPS site.
# certbot has no tls-alpn-01, so lego is the ground truth here.
DESCRIPTION="tls-alpn-01 (lego behind nginx ssl_preread): the domain's AAAA has no route (ICMPv6 no route); the A works"
MIRRORS="a stale or unannounced AAAA on a server validated with tls-alpn-01 (lego, Caddy, Traefik, nginx ALPN routing)"
EXPECT_ISSUED=no
EXPECT_EXIT=0
EXPECT_CODES=(tlsalpn01.reachability.unreachable:warn)
LE_DIFFERENCE="For tls-alpn-01 Let's Encrypt tries the first AAAA and falls back to the first A after any error, so it would issue (the doctor warns); Pebble does not fall back ('Failed to connect to [2001:db8:dead::80]:443'), so lego fails in the lab"
DOCTOR_ARGS=("$USER_DOMAIN" --challenge tls-alpn-01)
ACME_CLIENT=lego
LEGO_AUTH=(--tls --tls.port 127.0.0.1:5001)
DEAD6=2001:db8:dead::80

scenario_setup() {
    local d=$LAB_TMP/nginx-client
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
        -subj "/CN=$USER_DOMAIN" -addext "subjectAltName=DNS:$USER_DOMAIN" \
        -keyout "$d/site.key" -out "$d/site.pem" 2>/dev/null
    # The healthy base's nginx, plus port 443: stream (ALPN routing) in front of the site.
    cat >"$d/nginx.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log;
events { worker_connections 256; }
stream {
    map \$ssl_preread_alpn_protocols \$tls_backend {
        ~\\bacme-tls/1\\b 127.0.0.1:5001;
        default 127.0.0.1:8443;
    }
    log_format alpn '\$remote_addr alpn=\$ssl_preread_alpn_protocols upstream=\$upstream_addr';
    access_log $d/logs/stream.log alpn;
    server {
        listen 443; listen [::]:443 ipv6only=on;
        ssl_preread on;
        proxy_pass \$tls_backend;
    }
}
http {
    access_log $d/logs/access.log;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    default_type application/octet-stream;
    server {
        listen 80; listen [::]:80 ipv6only=on;
        server_name $USER_DOMAIN;
        location /.well-known/acme-challenge/ { root $LAB_TMP/webroot; }
        location / { return 404; }
    }
    server {
        listen 127.0.0.1:8443 ssl;
        server_name $USER_DOMAIN;
        ssl_certificate $d/site.pem;
        ssl_certificate_key $d/site.key;
        location / { return 404; }
    }
}
CONF
    lab_stop nginx-client
    lab_bg client nginx-client nginx -e "$d/logs/error.log" -c "$d/nginx.conf" -g 'daemon off; user root;'
    lab_wait_tcp client 127.0.0.1 443 nginx-client
    lab_dead_aaaa "$DEAD6"
}

scenario_verify() {
    local log=$LAB_TMP/nginx-client/logs/stream.log
    cp "$log" "$1/nginx-client-stream.log" 2>/dev/null || true
    lab_dead_aaaa_hit || return 1
    grep -q "Failed to connect to \[$DEAD6\]:443 for the tls-alpn-01 challenge" "$1/certbot.out" ||
        { echo "lego did not fail on Pebble's connection to [$DEAD6]:443"; return 1; }
    # Pebble never came over IPv4; the doctor's handshake did and went to the HTTPS site.
    if grep -q "^$CA4 " "$log"; then
        echo "the CA connected to port 443 over IPv4: Pebble fell back after all"
        return 1
    fi
    grep -q "^$CLIENT4 alpn=http/1.1 upstream=127.0.0.1:8443" "$log" ||
        { echo "nginx did not route the doctor's IPv4 handshake to the HTTPS site"; return 1; }
}

scenario_doctor_check() {
    lab_finding_contains "$1/doctor.json" tlsalpn01.reachability.unreachable \
        "$USER_DOMAIN at [$DEAD6]:443: Network unreachable"
}

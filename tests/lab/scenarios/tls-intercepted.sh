# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# A TLS-inspecting box on the path: r2 redirects the client's TCP 443 for the CA to the mitm
# namespace, where nginx terminates TLS with a certificate for the CA's name issued by a private
# "inspection" root and re-originates TLS to the real CA. The client's store trusts that root,
# as a managed corporate machine does.
DESCRIPTION="TLS interception on the path with an inspection root the client trusts"
MIRRORS="corporate TLS inspection (Zscaler, Fortinet, Palo Alto, Blue Coat) or antivirus HTTPS scanning"
# certbot trusts whatever the system store trusts (REQUESTS_CA_BUNDLE), so it gets through; a
# snap/pip certbot with its own bundle would not. The doctor must name the interception without
# calling the run a failure: the chain does not end at the CA's expected root.
EXPECT_ISSUED=yes
EXPECT_EXIT=0
EXPECT_CODES=(tls.acme.intercepted)

scenario_setup() {
    local pki=$LAB_TMP/pki conf=$LAB_TMP/nginx-mitm
    lab_nginx_conf "$conf" "server {
        listen 443 ssl; listen [::]:443 ssl ipv6only=on;
        ssl_certificate $pki/mitm.pem;
        ssl_certificate_key $pki/mitm.key;
        location / {
            proxy_pass https://$CA4;
            proxy_ssl_server_name on;
            proxy_ssl_name $CA_HOST;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $pki/labroot.pem;
            proxy_http_version 1.1;
            proxy_set_header Host \$host;
            proxy_buffering off;
        }
    }"
    lab_bg mitm nginx-mitm nginx -e "$conf/logs/error.log" -c "$conf/nginx.conf" -g 'daemon off; user root;'
    lab_wait_tcp mitm 127.0.0.1 443 nginx-mitm
    nsx r2 iptables -t nat -A PREROUTING -i to-r1 -p tcp -d "$CA4" --dport 443 \
        -j DNAT --to-destination "$MITM4:443"
    nsx r2 ip6tables -t nat -A PREROUTING -i to-r1 -p tcp -d "$CA6" --dport 443 \
        -j DNAT --to-destination "[$MITM6]:443"
    lab_client_trust "$LAB_ROOT" "$pki/inspect.pem"
}

scenario_verify() {
    # certbot's ACME requests really crossed the inspection box.
    grep -q '"POST /' "$LAB_TMP/nginx-mitm/logs/access.log" ||
        { echo "no ACME POST reached the mitm nginx"; return 1; }
}

# shellcheck shell=bash disable=SC2034  # the runner reads these variables
# The web server sends every path, the challenge path included, to the application: the token
# file in the webroot is never served.
DESCRIPTION="an nginx catch-all location answers the challenge path with the application's page"
MIRRORS="a CMS or framework front controller (try_files ... /index.php) or a rewrite rule catching /.well-known/"
EXPECT_ISSUED=no
EXPECT_EXIT=1
EXPECT_CODES=(http01.token.wrong-content)
DOCTOR_ARGS=("$USER_DOMAIN" --webroot "$LAB_TMP/webroot")

scenario_setup() {
    lab_client_site "server {
        listen 80; listen [::]:80 ipv6only=on;
        server_name $USER_DOMAIN;
        location / { default_type text/html; return 200 '<html><body>Welcome to the app</body></html>'; }
    }"
}

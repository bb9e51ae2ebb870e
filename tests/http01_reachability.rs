//! http01.reachability against HTTP fixtures on 127.0.0.1 and ::1: every misbehaviour is named,
//! and a healthy server stays quiet.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::dns::{addrs, Answer, DnsFixture};
use support::doctor;
use support::http01::{always, route, Conn, HttpFixture, Reply, SSH_BANNER, TLS_ALERT};

const NAME: &str = "www.example.com";
const CHECK: &str = "http01.reachability";

struct Lab {
    dns: DnsFixture,
}

impl Lab {
    async fn new() -> Lab {
        Lab::with(&[
            (NAME, addrs(&["127.0.0.1", "::1"])),
            ("v4.example.com", addrs(&["127.0.0.1"])),
        ])
        .await
    }

    async fn with(names: &[(&str, Answer)]) -> Lab {
        Lab {
            dns: DnsFixture::start(names).await,
        }
    }

    async fn run(&self, http: u16, https: u16, extra: &[&str]) -> support::Run {
        let resolver = self.dns.addr.to_string();
        let http = http.to_string();
        let https = https.to_string();
        let mut args = vec![
            "--resolver",
            &resolver,
            "--only",
            CHECK,
            "--format",
            "json",
            "--http-port",
            &http,
            "--https-port",
            &https,
        ];
        if !extra.contains(&"--timeout") {
            args.extend_from_slice(&["--timeout", "2"]);
        }
        args.extend_from_slice(extra);
        if !extra
            .iter()
            .any(|a| a.contains("example.com") || a.parse::<std::net::IpAddr>().is_ok())
        {
            args.push(NAME);
        }
        doctor(&args, &[]).await
    }
}

fn severities(run: &support::Run) -> Vec<(String, String)> {
    run.check(CHECK)["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap_or_default().to_string(),
                f["severity"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn no_warn_or_fail(run: &support::Run) {
    let bad: Vec<_> = severities(run)
        .into_iter()
        .filter(|(_, s)| s != "info")
        .collect();
    assert!(bad.is_empty(), "{bad:?}\n{}", run.stdout);
    assert_eq!(run.status(CHECK), "pass", "{}", run.stdout);
}

fn summary(run: &support::Run, code: &str) -> String {
    run.finding(code)["summary"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn facts(run: &support::Run) -> Value {
    run.check(CHECK)["facts"].clone()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_404_is_quiet_and_says_where_it_looked_from() {
    let lab = Lab::new().await;
    let web = HttpFixture::start(
        Some(always(Reply::status(404))),
        Some(always(Reply::status(404))),
    )
    .await;
    let run = lab.run(web.port, free_port(), &[]).await;
    no_warn_or_fail(&run);
    assert!(run.has("http01.reachability.inside-view"));
    let f = facts(&run);
    let id = &f["identifiers"][0];
    assert_eq!(id["probes"].as_array().unwrap().len(), 2, "{f}");
    // IPv6 first, as the CA tries it.
    assert_eq!(id["probes"][0]["addr"], "::1");
    assert_eq!(id["ca_order"]["addr"], "::1");
    assert!(id["url"]
        .as_str()
        .unwrap()
        .contains("/.well-known/acme-challenge/"));
    assert_eq!(run.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_200_catch_all_is_quiet() {
    let lab = Lab::new().await;
    let web = HttpFixture::start(
        Some(always(Reply::body(200, "welcome"))),
        Some(always(Reply::body(200, "welcome"))),
    )
    .await;
    let run = lab.run(web.port, free_port(), &[]).await;
    no_warn_or_fail(&run);
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_to_https_with_an_unverified_certificate_is_followed() {
    let lab = Lab::new().await;
    let tls = HttpFixture::start_tls(Some(always(Reply::status(404))), None).await;
    let target = format!("https://v4.example.com:{}/elsewhere/", tls.port);
    let web = HttpFixture::start(
        Some(always(Reply::redirect(301, &target))),
        Some(always(Reply::redirect(301, &target))),
    )
    .await;
    let run = lab.run(web.port, tls.port, &[]).await;
    no_warn_or_fail(&run);
    let hops = &facts(&run)["identifiers"][0]["probes"][0]["hops"];
    assert_eq!(hops.as_array().unwrap().len(), 2, "{hops}");
    assert_eq!(hops[1]["status"], 404);
    assert!(hops[1]["url"].as_str().unwrap().starts_with("https://"));
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_loop() {
    let lab = Lab::new().await;
    let c = || {
        route(|p| {
            // The challenge path → /a → /b → /a: a loop two hops in.
            if p == "/a" {
                Reply::redirect(302, "/b")
            } else {
                Reply::redirect(302, "/a")
            }
        })
    };
    let web = HttpFixture::start(Some(c()), Some(c())).await;
    let run = lab.run(web.port, free_port(), &[]).await;
    assert!(
        run.has("http01.reachability.bad-redirect"),
        "{}",
        run.stdout
    );
    assert!(summary(&run, "http01.reachability.bad-redirect").contains("Redirect loop detected"));
    assert_eq!(run.status(CHECK), "fail");
}

#[tokio::test(flavor = "multi_thread")]
async fn endless_redirects_stop_at_ten() {
    let lab = Lab::new().await;
    let c = || {
        route(|p| {
            let n: u32 = p.trim_start_matches("/r").parse().unwrap_or(0);
            Reply::redirect(301, &format!("/r{}", n + 1))
        })
    };
    let web = HttpFixture::start(Some(c()), Some(c())).await;
    let run = lab.run(web.port, free_port(), &[]).await;
    assert!(summary(&run, "http01.reachability.bad-redirect").contains("Too many redirects"));
    let hops = &facts(&run)["identifiers"][0]["probes"][0]["hops"];
    assert_eq!(
        hops.as_array().unwrap().len(),
        11,
        "the first request and 10 redirects"
    );
    assert!(run.elapsed < Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_to_a_bad_port_is_refused_with_boulders_words() {
    let lab = Lab::new().await;
    let web = HttpFixture::start(
        Some(always(Reply::redirect(
            301,
            "http://www.example.com:8080/x",
        ))),
        Some(always(Reply::redirect(
            301,
            "http://www.example.com:8080/x",
        ))),
    )
    .await;
    let https = free_port();
    let run = lab.run(web.port, https, &[]).await;
    let s = summary(&run, "http01.reachability.bad-redirect");
    assert!(
        s.contains(&format!(
            "Invalid port in redirect target. Only ports {} and {https} are supported, not 8080",
            web.port
        )),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_missing_slash_status_303_and_reserved_target() {
    let lab = Lab::new().await;
    for (reply, text) in [
        (
            Reply::redirect(301, "https://www.example.com.well-known/acme-challenge/x"),
            "missing '/' in redirect target",
        ),
        (
            Reply::redirect(303, "/elsewhere"),
            "received disallowed redirect status code",
        ),
        (
            Reply::redirect(302, "http://10.1.2.3/x"),
            "10.1.2.3 is a reserved address",
        ),
    ] {
        let web = HttpFixture::start(Some(always(reply.clone())), Some(always(reply))).await;
        let run = lab.run(web.port, free_port(), &[]).await;
        let s = summary(&run, "http01.reachability.bad-redirect");
        assert!(s.contains(text), "{s}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_to_https_port_speaking_plain_http() {
    let lab = Lab::new().await;
    let plain = HttpFixture::start(Some(always(Reply::status(404))), None).await;
    let target = format!("https://v4.example.com:{}/", plain.port);
    let web = HttpFixture::start(
        Some(always(Reply::redirect(301, &target))),
        Some(always(Reply::redirect(301, &target))),
    )
    .await;
    let run = lab.run(web.port, plain.port, &[]).await;
    let s = summary(&run, "http01.reachability.http-on-https-port");
    assert!(s.contains("Server only speaks HTTP, not TLS"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_to_https_target_that_breaks_the_handshake() {
    let lab = Lab::new().await;
    let broken = HttpFixture::start(Some(TLS_ALERT), None).await;
    let target = format!("https://v4.example.com:{}/", broken.port);
    let web = HttpFixture::start(
        Some(always(Reply::redirect(302, &target))),
        Some(always(Reply::redirect(302, &target))),
    )
    .await;
    let run = lab.run(web.port, broken.port, &[]).await;
    let s = summary(&run, "http01.reachability.https-redirect-failed");
    assert!(s.contains("HandshakeFailure"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_to_https_target_without_tls_1_2() {
    let lab = Lab::new().await;
    // What a TLS 1.0-only server sends to a ClientHello with 1.2 as the minimum.
    let old = HttpFixture::start(
        Some(Conn::Raw(&[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46])),
        None,
    )
    .await;
    let target = format!("https://v4.example.com:{}/", old.port);
    let web = HttpFixture::start(
        Some(always(Reply::redirect(301, &target))),
        Some(always(Reply::redirect(301, &target))),
    )
    .await;
    let run = lab.run(web.port, old.port, &[]).await;
    let s = summary(&run, "http01.reachability.https-redirect-failed");
    assert!(
        s.contains("redirected to an HTTPS server that doesn't support TLSv1.2 or better"),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_sent_to_https_port_page() {
    let lab = Lab::new().await;
    let page = "<html><head><title>400 The plain HTTP request was sent to HTTPS port</title></head><body><center><h1>400 Bad Request</h1></center><center>The plain HTTP request was sent to HTTPS port</center></body></html>";
    let web = HttpFixture::start(
        Some(always(Reply::body(400, page))),
        Some(always(Reply::body(400, page))),
    )
    .await;
    let run = lab.run(web.port, free_port(), &[]).await;
    assert!(
        run.has("http01.reachability.http-on-https-port"),
        "{}",
        run.stdout
    );
    assert!(!run.has("http01.reachability.unexpected-status"));
}

#[tokio::test(flavor = "multi_thread")]
async fn nginx_testcookie_page() {
    let lab = Lab::new().await;
    let page = r#"<html><body><script type="text/javascript" src="/aes.min.js" ></script><script>function toNumbers(d){var e=[];d.replace(/(..)/g,function(d){e.push(parseInt(d,16))});return e}var a=toNumbers("abc");</script></body></html>"#;
    let web = HttpFixture::start(
        Some(always(Reply::body(200, page))),
        Some(always(Reply::body(200, page))),
    )
    .await;
    let run = lab.run(web.port, free_port(), &[]).await;
    assert!(
        run.has("http01.reachability.nginx-testcookie"),
        "{}",
        run.stdout
    );
    assert_eq!(run.status(CHECK), "fail");
}

#[tokio::test(flavor = "multi_thread")]
async fn router_login_pages() {
    let lab = Lab::new().await;
    for server in ["micro_httpd", "cisco-IOS", "LANCOM 1793VA 10.50.0123"] {
        let r = Reply::body(401, "<title>Login</title>").server(server);
        let web = HttpFixture::start(Some(always(r.clone())), Some(always(r))).await;
        let run = lab.run(web.port, free_port(), &[]).await;
        let s = summary(&run, "http01.reachability.router-login");
        assert!(s.contains(server), "{s}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cloudflare_in_front_is_noted_for_http01() {
    let lab = Lab::new().await;
    let r = Reply::status(404)
        .server("cloudflare")
        .header("CF-RAY", "8a1b2c3d4e5f-FRA");
    let web = HttpFixture::start(Some(always(r.clone())), Some(always(r))).await;
    let run = lab.run(web.port, free_port(), &[]).await;
    let f = run.finding("http01.reachability.cdn");
    assert_eq!(f["severity"], "info");
    let s = f["summary"].as_str().unwrap();
    assert!(
        s.contains("Cloudflare") && s.contains("tls-alpn-01 cannot work"),
        "{s}"
    );
    no_warn_or_fail(&run);
}

#[tokio::test(flavor = "multi_thread")]
async fn ipv6_closed_while_ipv4_open_falls_back_like_the_ca() {
    let lab = Lab::new().await;
    let web = HttpFixture::start(Some(always(Reply::status(404))), None).await;
    let run = lab.run(web.port, free_port(), &[]).await;
    let f = run.finding("http01.reachability.refused");
    assert!(
        f["summary"].as_str().unwrap().contains("::1"),
        "{}",
        f["summary"]
    );
    assert!(f["summary"]
        .as_str()
        .unwrap()
        .contains("Connection refused"));
    // The CA falls back to the first A after a dial error, so this is a warning.
    assert_eq!(f["severity"], "warn");
    assert_eq!(run.status(CHECK), "warn");
    let ca = &facts(&run)["identifiers"][0]["ca_order"];
    assert_eq!(ca["hops"].as_array().unwrap().len(), 2, "{ca}");
    assert!(ca["outcome"].as_str().unwrap().starts_with("404"));
}

#[tokio::test(flavor = "multi_thread")]
async fn ipv6_dropped_times_out_within_the_deadline() {
    let lab = Lab::new().await;
    let web = HttpFixture::start(Some(always(Reply::status(404))), Some(Conn::Drop)).await;
    let run = lab.run(web.port, free_port(), &["--timeout", "1"]).await;
    let s = summary(&run, "http01.reachability.timeout");
    assert!(
        s.contains("Timeout during connect (likely firewall problem)"),
        "{s}"
    );
    assert!(s.contains("::1"));
    assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_on_ipv6_fails_because_the_ca_does_not_fall_back() {
    let lab = Lab::new().await;
    let web = HttpFixture::start(Some(always(Reply::status(404))), Some(Conn::Reset)).await;
    let run = lab.run(web.port, free_port(), &[]).await;
    let f = run.finding("http01.reachability.reset");
    assert!(f["summary"]
        .as_str()
        .unwrap()
        .contains("Connection reset by peer"));
    assert_eq!(f["severity"], "fail");
    assert_eq!(run.status(CHECK), "fail");
}

#[tokio::test(flavor = "multi_thread")]
async fn never_answering_server_ends_in_a_read_timeout() {
    let lab = Lab::new().await;
    let web = HttpFixture::start(Some(Conn::Hang), Some(Conn::Hang)).await;
    let run = lab.run(web.port, free_port(), &["--timeout", "1"]).await;
    let s = summary(&run, "http01.reachability.read-timeout");
    assert!(s.contains("Timeout after connect"), "{s}");
    assert_eq!(run.status(CHECK), "fail");
    assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
}

#[tokio::test(flavor = "multi_thread")]
async fn addresses_that_answer_differently() {
    let lab = Lab::new().await;
    let web = HttpFixture::start(
        Some(always(Reply::status(404))),
        Some(always(Reply::body(200, "old site").server("Apache/2.4.41"))),
    )
    .await;
    let run = lab.run(web.port, free_port(), &[]).await;
    let s = summary(&run, "http01.reachability.discrepancy");
    assert!(s.contains("Apache") && s.contains("nginx"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unexpected_status_and_malformed_answers() {
    let lab = Lab::new().await;
    let web = HttpFixture::start(
        Some(always(Reply::status(403))),
        Some(always(Reply::status(403))),
    )
    .await;
    let run = lab.run(web.port, free_port(), &[]).await;
    assert!(summary(&run, "http01.reachability.unexpected-status").contains("403"));

    let web = HttpFixture::start(Some(SSH_BANNER), Some(SSH_BANNER)).await;
    let run = lab.run(web.port, free_port(), &[]).await;
    assert!(
        run.has("http01.reachability.bad-response"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn huge_body_is_capped() {
    let lab = Lab::new().await;
    let web = HttpFixture::start(Some(Conn::Huge), Some(Conn::Huge)).await;
    let run = lab.run(web.port, free_port(), &[]).await;
    no_warn_or_fail(&run);
    assert!(run.elapsed < Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread")]
async fn no_addresses() {
    let lab = Lab::with(&[]).await;
    let run = lab.run(free_port(), free_port(), &[]).await;
    let s = summary(&run, "http01.reachability.no-addresses");
    assert!(s.contains(NAME) && s.contains("NXDOMAIN"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn wildcards_and_other_challenges_are_skipped_with_a_reason() {
    let lab = Lab::new().await;
    let run = lab.run(free_port(), free_port(), &["*.example.com"]).await;
    assert_eq!(run.status(CHECK), "skipped");
    assert!(run.check(CHECK)["reason"]
        .as_str()
        .unwrap()
        .contains("wildcard"));

    let run = lab
        .run(
            free_port(),
            free_port(),
            &["--challenge", "dns-01", "www.example.com"],
        )
        .await;
    assert_eq!(run.status(CHECK), "skipped");

    let web = HttpFixture::start(
        Some(always(Reply::status(404))),
        Some(always(Reply::status(404))),
    )
    .await;
    let run = lab
        .run(web.port, free_port(), &["*.example.com", "www.example.com"])
        .await;
    no_warn_or_fail(&run);
    assert_eq!(facts(&run)["wildcards_skipped"][0], "*.example.com");
}

#[tokio::test(flavor = "multi_thread")]
async fn ip_identifier_is_probed_at_itself() {
    let lab = Lab::new().await;
    let web = HttpFixture::start(Some(always(Reply::status(404))), None).await;
    let run = lab.run(web.port, free_port(), &["127.0.0.1"]).await;
    no_warn_or_fail(&run);
    let id = &facts(&run)["identifiers"][0];
    assert_eq!(id["identifier"], "127.0.0.1");
    assert_eq!(id["probes"].as_array().unwrap().len(), 1);
    assert!(id["url"].as_str().unwrap().starts_with("http://127.0.0.1:"));
}

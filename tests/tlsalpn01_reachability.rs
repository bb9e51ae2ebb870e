//! tlsalpn01.reachability against TLS fixtures on 127.0.0.1 and ::1.

mod support;

use std::time::Duration;

use support::dns::{addrs, DnsFixture};
use support::doctor;
use support::http01::{always, Conn, HttpFixture, Reply, TLS_ALERT};

const NAME: &str = "www.example.com";
const CHECK: &str = "tlsalpn01.reachability";

async fn run_with(https: u16, extra: &[&str]) -> support::Run {
    let dns = DnsFixture::start(&[(NAME, addrs(&["127.0.0.1", "::1"]))]).await;
    let resolver = dns.addr.to_string();
    let port = https.to_string();
    let mut args = vec![
        "--resolver",
        &resolver,
        "--only",
        CHECK,
        "--format",
        "json",
        "--https-port",
        &port,
    ];
    if !extra.contains(&"--challenge") {
        args.extend_from_slice(&["--challenge", "tls-alpn-01"]);
    }
    if !extra.contains(&"--timeout") {
        args.extend_from_slice(&["--timeout", "2"]);
    }
    args.extend_from_slice(extra);
    if !extra.iter().any(|a| a.contains("example.com")) {
        args.push(NAME);
    }
    doctor(&args, &[]).await
}

fn summary(run: &support::Run, code: &str) -> String {
    run.finding(code)["summary"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_tls_on_both_addresses_is_quiet() {
    let web = HttpFixture::start_tls(
        Some(always(Reply::status(200))),
        Some(always(Reply::status(200))),
    )
    .await;
    let run = run_with(web.port, &[]).await;
    assert_eq!(run.status(CHECK), "pass", "{}", run.stdout);
    assert!(run.codes().is_empty(), "{:?}", run.codes());
    let c = run.check(CHECK);
    assert!(c["summary"].as_str().unwrap().contains("acme-tls/1"));
    let probes = c["facts"]["identifiers"][0]["probes"].as_array().unwrap();
    assert_eq!(probes.len(), 2);
    assert!(probes
        .iter()
        .all(|p| p["tls"]["version"].as_str().unwrap().starts_with("TLS")));
    assert_eq!(run.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn ipv6_closed_is_a_warning_because_the_ca_falls_back() {
    let web = HttpFixture::start_tls(Some(always(Reply::status(200))), None).await;
    let run = run_with(web.port, &[]).await;
    let f = run.finding("tlsalpn01.reachability.refused");
    assert!(f["summary"].as_str().unwrap().contains("[::1]"), "{f}");
    assert_eq!(f["severity"], "warn");
    let ca = &run.check(CHECK)["facts"]["identifiers"][0]["ca_order"];
    assert_eq!(ca.as_array().unwrap().len(), 2, "{ca}");
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_on_the_tls_port() {
    let web = HttpFixture::start(
        Some(always(Reply::status(400))),
        Some(always(Reply::status(400))),
    )
    .await;
    let run = run_with(web.port, &[]).await;
    let s = summary(&run, "tlsalpn01.reachability.not-tls");
    assert!(s.contains("Server only speaks HTTP, not TLS"), "{s}");
    assert_eq!(run.status(CHECK), "fail");
}

#[tokio::test(flavor = "multi_thread")]
async fn handshake_alert_and_reset() {
    let web = HttpFixture::start(Some(TLS_ALERT), Some(TLS_ALERT)).await;
    let run = run_with(web.port, &[]).await;
    assert!(summary(&run, "tlsalpn01.reachability.handshake-failed").contains("HandshakeFailure"));

    let web = HttpFixture::start(Some(Conn::Reset), Some(Conn::Reset)).await;
    let run = run_with(web.port, &[]).await;
    assert!(summary(&run, "tlsalpn01.reachability.reset").contains("Connection reset by peer"));
}

#[tokio::test(flavor = "multi_thread")]
async fn stalled_handshake_and_dropped_syns_time_out_quickly() {
    let web = HttpFixture::start(Some(Conn::Hang), Some(Conn::Drop)).await;
    let run = run_with(web.port, &["--timeout", "1"]).await;
    let findings = run.check(CHECK)["findings"].as_array().unwrap().clone();
    let texts: Vec<&str> = findings
        .iter()
        .filter(|f| f["code"] == "tlsalpn01.reachability.timeout")
        .map(|f| f["summary"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("Timeout during connect")));
    assert!(texts.iter().any(|t| t.contains("Timeout after connect")));
    assert_eq!(run.status(CHECK), "fail");
    assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
}

#[tokio::test(flavor = "multi_thread")]
async fn cdn_in_front_fails_tls_alpn() {
    let r = Reply::status(403).server("cloudflare");
    let web = HttpFixture::start_tls(Some(always(r.clone())), Some(always(r))).await;
    let run = run_with(web.port, &[]).await;
    let f = run.finding("tlsalpn01.reachability.cdn");
    assert_eq!(f["severity"], "fail");
    assert!(f["summary"].as_str().unwrap().contains("Cloudflare"));
}

#[tokio::test(flavor = "multi_thread")]
async fn no_addresses_and_applicability() {
    let run = run_with(free_port(), &["nowhere.example.com"]).await;
    assert!(summary(&run, "tlsalpn01.reachability.no-addresses").contains("nowhere.example.com"));

    let run = run_with(free_port(), &["*.example.com"]).await;
    assert_eq!(run.status(CHECK), "skipped");
    assert!(run.check(CHECK)["reason"]
        .as_str()
        .unwrap()
        .contains("wildcard"));

    let run = run_with(free_port(), &["--challenge", "http-01", NAME]).await;
    assert_eq!(run.status(CHECK), "skipped", "{}", run.stdout);
}

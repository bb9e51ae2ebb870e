//! tcp.acme against loopback endpoints: connected, refused, dropped, per family.

mod support;

use support::dns::{addrs, DnsFixture};
use support::tcp::{closed_port, dual_stack_listener, BlackHole};
use support::{doctor, Run};

async fn run_tcp(ips: &[&str], port: u16, env: &[(&str, &str)]) -> Run {
    let dns = DnsFixture::start(&[("acme.test", addrs(ips))]).await;
    let resolver = dns.addr.to_string();
    let ca = format!("https://acme.test:{port}/directory");
    doctor(
        &[
            "--ca",
            &ca,
            "--resolver",
            &resolver,
            "--only",
            "tcp.acme",
            "--format",
            "json",
            "--timeout",
            "1",
        ],
        env,
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_dual_stack_is_quiet() {
    let (port, _srv) = dual_stack_listener().await;
    let run = run_tcp(&["127.0.0.1", "::1"], port, &[]).await;
    assert_eq!(run.status("tcp.acme"), "pass", "{}", run.stdout);
    let facts = &run.check("tcp.acme")["facts"];
    assert_eq!(facts["reachable"].as_array().unwrap().len(), 2);
    assert_eq!(facts["reachable"][0], format!("[::1]:{port}"), "IPv6 first");
    assert!(
        run.codes().iter().all(|c| !c.starts_with("tcp.")),
        "{:?}",
        run.codes()
    );
    assert_eq!(run.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_everywhere() {
    let port = closed_port("127.0.0.1").port();
    let run = run_tcp(&["127.0.0.1"], port, &[]).await;
    let f = run.finding("tcp.acme.refused");
    assert!(f["summary"]
        .as_str()
        .unwrap()
        .contains(&format!("127.0.0.1:{port}")));
    assert_eq!(run.status("tcp.acme"), "fail");
    assert_eq!(run.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn dropped_everywhere_times_out_within_deadline() {
    let hole = BlackHole::bind("127.0.0.1:0");
    let run = run_tcp(&["127.0.0.1"], hole.addr.port(), &[]).await;
    assert!(
        run.has("tcp.acme.timeout"),
        "{:?}\n{}",
        run.codes(),
        run.stdout
    );
    assert!(run.elapsed.as_secs_f32() < 4.0, "took {:?}", run.elapsed);
    assert_eq!(run.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn ipv6_blackholed_while_ipv4_works() {
    // The same port: IPv4 accepts, IPv6 drops.
    let hole = BlackHole::bind("[::1]:0");
    let port = hole.addr.port();
    let v4 = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("same port on IPv4");
    let run = run_tcp(&["127.0.0.1", "::1"], port, &[]).await;
    drop(v4);
    let f = run.finding("tcp.acme.ipv6-broken");
    assert_eq!(f["severity"], "warn");
    assert_eq!(run.status("tcp.acme"), "warn");
    assert_eq!(run.code, 0, "a warning alone does not fail the run");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_of_two_ipv4_addresses_fails() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    // 127.0.0.2 is loopback too, but nothing listens there.
    let run = run_tcp(&["127.0.0.1", "127.0.0.2"], port, &[]).await;
    let f = run.finding("tcp.acme.partial");
    assert!(f["summary"].as_str().unwrap().contains("127.0.0.2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn direct_failure_is_information_when_a_proxy_is_used() {
    let port = closed_port("127.0.0.1").port();
    let run = run_tcp(
        &["127.0.0.1"],
        port,
        &[("HTTPS_PROXY", "http://user:hunter2@127.0.0.1:9")],
    )
    .await;
    let f = run.finding("tcp.acme.direct-blocked-proxy-used");
    assert_eq!(f["severity"], "info");
    assert!(f["summary"]
        .as_str()
        .unwrap()
        .contains("http://127.0.0.1:9"));
    assert!(!run.stdout.contains("hunter2"));
    assert_eq!(run.status("tcp.acme"), "pass");
}

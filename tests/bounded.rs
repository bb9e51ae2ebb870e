//! The whole outbound run is bounded with the default deadlines, even when every packet is
//! dropped: the resolver never answers, or it answers and port 443 swallows every SYN.

mod support;

use std::time::Duration;

use support::dns::{addrs, DnsFixture};
use support::doctor;
use support::tcp::BlackHole;

const LIMIT: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread")]
async fn silent_resolver_ends_within_15_s_with_the_right_diagnosis() {
    let (hole, _hold) = DnsFixture::black_hole().await;
    let resolver = hole.to_string();
    let run = doctor(&["--resolver", &resolver, "--format", "json"], &[]).await;
    assert!(run.elapsed < LIMIT, "took {:?}", run.elapsed);
    assert!(run.has("dns.acme.timeout"), "{:?}", run.codes());
    assert_eq!(run.code, 1);
    for c in run.json()["checks"].as_array().unwrap() {
        assert_ne!(c["status"], "crashed", "{c:#}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn dropped_port_443_ends_within_15_s_with_the_right_diagnosis() {
    let port = BlackHole::bind("127.0.0.1:0");
    let dns = DnsFixture::start(&[("acme.test", addrs(&["127.0.0.1"]))]).await;
    let resolver = dns.addr.to_string();
    let ca = format!("https://acme.test:{}/directory", port.addr.port());
    let run = doctor(
        &["--ca", &ca, "--resolver", &resolver, "--format", "json"],
        &[],
    )
    .await;
    assert!(run.elapsed < LIMIT, "took {:?}", run.elapsed);
    assert!(run.has("tcp.acme.timeout"), "{:?}", run.codes());
    assert_eq!(run.status("tls.acme"), "skipped");
    assert_eq!(run.code, 1);
}

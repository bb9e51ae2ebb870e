//! dns.acme against the DNS fixture: each finding fires, and a healthy answer stays quiet.

mod support;

use support::dns::{addrs, Answer, DnsFixture};
use support::doctor;

const CA: &str = "https://acme.test/directory";

async fn run_with(answer: Answer) -> support::Run {
    let dns = DnsFixture::start(&[("acme.test", answer)]).await;
    let resolver = dns.addr.to_string();
    doctor(
        &[
            "--ca",
            CA,
            "--resolver",
            &resolver,
            "--only",
            "dns.acme",
            "--format",
            "json",
            "--timeout",
            "2",
        ],
        &[],
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_answer_is_quiet() {
    let dns = DnsFixture::start(&[
        ("acme.test", Answer::Cname("edge.acme.test".into())),
        ("edge.acme.test", addrs(&["198.51.100.7", "2001:db8::7"])),
    ])
    .await;
    let resolver = dns.addr.to_string();
    let run = doctor(
        &[
            "--ca",
            CA,
            "--resolver",
            &resolver,
            "--only",
            "dns.acme",
            "--format",
            "json",
        ],
        &[],
    )
    .await;
    assert_eq!(run.status("dns.acme"), "pass", "{}", run.stdout);
    assert!(run.codes().is_empty(), "{:?}", run.codes());
    let facts = &run.check("dns.acme")["facts"];
    assert_eq!(facts["ipv4"][0], "198.51.100.7");
    assert_eq!(facts["ipv6"][0], "2001:db8::7");
    assert_eq!(facts["cname_chain"][0], "edge.acme.test");
    assert_eq!(run.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn nxdomain() {
    let dns = DnsFixture::start(&[]).await;
    let resolver = dns.addr.to_string();
    let run = doctor(
        &[
            "--ca",
            CA,
            "--resolver",
            &resolver,
            "--only",
            "dns.acme",
            "--format",
            "json",
        ],
        &[],
    )
    .await;
    assert!(run.has("dns.acme.nxdomain"), "{:?}", run.codes());
    assert_eq!(run.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn servfail() {
    let run = run_with(Answer::ServFail).await;
    assert!(run.has("dns.acme.servfail"), "{:?}", run.codes());
    assert_eq!(run.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn refused() {
    let run = run_with(Answer::Refused).await;
    assert!(run.has("dns.acme.refused"), "{:?}", run.codes());
}

#[tokio::test(flavor = "multi_thread")]
async fn timeout_is_bounded() {
    let (addr, _hold) = DnsFixture::black_hole().await;
    let resolver = addr.to_string();
    let run = doctor(
        &[
            "--ca",
            CA,
            "--resolver",
            &resolver,
            "--only",
            "dns.acme",
            "--format",
            "json",
            "--timeout",
            "1",
        ],
        &[],
    )
    .await;
    assert!(run.has("dns.acme.timeout"), "{:?}", run.codes());
    assert!(run.elapsed.as_secs() < 5, "took {:?}", run.elapsed);
}

#[tokio::test(flavor = "multi_thread")]
async fn resolver_unreachable() {
    // Nothing listens on this port: UDP gets ICMP port unreachable, TCP a reset.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let resolver = port.to_string();
    let run = doctor(
        &[
            "--ca",
            CA,
            "--resolver",
            &resolver,
            "--only",
            "dns.acme",
            "--format",
            "json",
            "--timeout",
            "1",
        ],
        &[],
    )
    .await;
    assert!(
        run.has("dns.acme.resolver-unreachable") || run.has("dns.acme.timeout"),
        "{:?}",
        run.codes()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_aaaa_is_info_only() {
    let run = run_with(addrs(&["198.51.100.7"])).await;
    assert!(run.has("dns.acme.no-aaaa"));
    assert_eq!(run.status("dns.acme"), "pass");
    assert_eq!(run.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_addresses() {
    let run = run_with(Answer::Addrs(vec![])).await;
    assert!(run.has("dns.acme.no-addresses"), "{:?}", run.codes());
}

#[tokio::test(flavor = "multi_thread")]
async fn sinkhole_answer_for_lets_encrypt() {
    let dns =
        DnsFixture::start(&[("acme-v02.api.letsencrypt.org", addrs(&["0.0.0.0", "::"]))]).await;
    let resolver = dns.addr.to_string();
    let run = doctor(
        &[
            "--resolver",
            &resolver,
            "--only",
            "dns.acme",
            "--format",
            "json",
        ],
        &[],
    )
    .await;
    let f = run.finding("dns.acme.private-answer");
    assert_eq!(f["severity"], "fail");
    assert!(f["summary"].as_str().unwrap().contains("0.0.0.0"));
    assert_eq!(run.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn private_answer_for_custom_ca_is_info() {
    let run = run_with(addrs(&["127.0.0.1"])).await;
    assert_eq!(run.finding("dns.acme.private-answer")["severity"], "info");
    assert_eq!(run.code, 0);
}

//! tlsalpn01.perspectives against the fake Globalping API: its probes make real TLS handshakes
//! and HTTPS requests to a loopback fixture, with per-place faults.

mod support;

use support::dns::{addrs, DnsFixture};
use support::globalping::{bad_request, default_probes, rate_limited, Fault, GlobalpingFake};
use support::http01::{always, HttpFixture, Reply};
use support::{doctor, Run};

const NAME: &str = "www.example.com";
const ID: &str = "tlsalpn01.perspectives";

struct Lab {
    dns: DnsFixture,
    https: HttpFixture,
    fake: GlobalpingFake,
}

async fn lab() -> Lab {
    Lab {
        dns: DnsFixture::start(&[(NAME, addrs(&["127.0.0.1"]))]).await,
        https: HttpFixture::start_tls(Some(always(Reply::status(200))), None).await,
        fake: GlobalpingFake::start(default_probes(), &[(NAME, &["127.0.0.1"])]).await,
    }
}

impl Lab {
    async fn run(&self, extra: &[&str]) -> Run {
        let resolver = self.dns.addr.to_string();
        let port = self.https.port.to_string();
        let mut args = vec![
            "--resolver",
            &resolver,
            "--only",
            ID,
            "--challenge",
            "tls-alpn-01",
            "--format",
            "json",
            "--timeout",
            "2",
            "--https-port",
            &port,
            "--globalping-url",
            &self.fake.url,
        ];
        args.extend_from_slice(extra);
        args.push(NAME);
        doctor(&args, &[]).await
    }
}

fn summary(r: &Run, code: &str) -> String {
    r.finding(code)["summary"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_port_443_everywhere() {
    let lab = lab().await;
    let r = lab.run(&[]).await;
    assert_eq!(r.status(ID), "pass", "{}\n{}", r.stdout, r.stderr);
    let bad: Vec<_> = r.check(ID)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .cloned()
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    assert!(summary(&r, "tlsalpn01.perspectives.third-party").contains("www.example.com"));
    let (body, _) = &lab.fake.created()[0];
    assert_eq!(body["measurementOptions"]["protocol"], "HTTPS");
    assert_eq!(body["measurementOptions"]["port"], lab.https.port);
    assert!(r.check(ID)["summary"]
        .as_str()
        .unwrap()
        .contains("8/8 perspectives"));
}

#[tokio::test(flavor = "multi_thread")]
async fn two_of_four_dropped_fails() {
    let lab = lab().await;
    lab.fake.set_fault("US", Fault::Timeout);
    lab.fake.set_fault("BR", Fault::Refused);
    let r = lab.run(&["--perspectives", "4"]).await;
    assert_eq!(r.status(ID), "fail", "{}", r.stdout);
    assert!(summary(&r, "tlsalpn01.perspectives.quorum-fail").contains("validation would fail"));
    let g = summary(&r, "tlsalpn01.perspectives.geo-block");
    assert!(
        g.contains("Ashburn, US") && g.contains("São Paulo, BR"),
        "{g}"
    );
    assert!(g.contains("port 443"), "{g}");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_waf_place_is_a_warning() {
    let lab = lab().await;
    lab.fake.set_fault("JP", Fault::Forbidden);
    let r = lab.run(&[]).await;
    assert_eq!(r.status(ID), "warn", "{}", r.stdout);
    assert!(summary(&r, "tlsalpn01.perspectives.quorum-at-risk").contains("7 of 8"));
    assert!(summary(&r, "tlsalpn01.perspectives.geo-block").contains("HTTP 403"));
}

#[tokio::test(flavor = "multi_thread")]
async fn blocked_everywhere() {
    let lab = lab().await;
    for c in ["US", "DE", "SG", "BR", "GB", "JP", "ZA", "CA"] {
        lab.fake.set_fault(c, Fault::Refused);
    }
    let r = lab.run(&[]).await;
    assert!(summary(&r, "tlsalpn01.perspectives.blocked-everywhere").contains("connection refused"));
}

#[tokio::test(flavor = "multi_thread")]
async fn api_answers_are_explained() {
    let lab = lab().await;
    let r = lab.run(&["--from", "Atlantis"]).await;
    assert!(summary(&r, "tlsalpn01.perspectives.no-probes").contains("422"));
    lab.fake.script(rate_limited());
    let r = lab.run(&[]).await;
    assert!(summary(&r, "tlsalpn01.perspectives.rate-limited").contains("GLOBALPING_TOKEN"));
    lab.fake.script(bad_request());
    let r = lab.run(&[]).await;
    assert!(summary(&r, "tlsalpn01.perspectives.api-error").contains("400"));
}

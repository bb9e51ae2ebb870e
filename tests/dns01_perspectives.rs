//! dns01.perspectives: the zone's nameservers (authoritative fixtures on 127.0.0.2 and
//! 127.0.0.3) queried from the fake Globalping's probes with real UDP queries.

mod support;

use support::authoritative::{example_zone, run, two_servers, AuthLab};
use support::globalping::{bad_request, default_probes, rate_limited, Fault, GlobalpingFake};
use support::Run;

const ID: &str = "dns01.perspectives";

async fn lab() -> (AuthLab, GlobalpingFake) {
    let lab = two_servers(
        &example_zone(1),
        support::authoritative::Behaviour::Normal,
        &[],
        &[],
    )
    .await;
    (lab, GlobalpingFake::start(default_probes(), &[]).await)
}

async fn go(lab: &AuthLab, fake: &GlobalpingFake, extra: &[&str]) -> Run {
    let mut args = vec!["--challenge", "dns-01", "--globalping-url", &fake.url];
    args.extend_from_slice(extra);
    args.push("www.example.com");
    run(lab, ID, &args).await
}

fn summary(r: &Run, code: &str) -> String {
    r.finding(code)["summary"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_nameservers_answer_everywhere() {
    let (lab, fake) = lab().await;
    let r = go(&lab, &fake, &[]).await;
    assert_eq!(r.status(ID), "pass", "{}\n{}", r.stdout, r.stderr);
    let bad: Vec<_> = r.check(ID)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .cloned()
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    let created = fake.created();
    assert_eq!(created.len(), 2);
    let resolvers: Vec<_> = created
        .iter()
        .map(|(b, _)| b["measurementOptions"]["resolver"].clone())
        .collect();
    assert!(resolvers.contains(&"127.0.0.2".into()) && resolvers.contains(&"127.0.0.3".into()));
    assert_eq!(created[0].0["type"], "dns");
    assert_eq!(created[0].0["target"], "_acme-challenge.www.example.com");
    assert_eq!(created[0].0["measurementOptions"]["query"]["type"], "TXT");
    // The second server is asked from the same probes.
    assert_eq!(created[1].0["locations"], "fake0001");
    assert!(
        summary(&r, "dns01.perspectives.third-party").contains("_acme-challenge.www.example.com")
    );
    let s = r.check(ID)["summary"].as_str().unwrap().to_string();
    assert!(s.contains("zone example.com: 8/8"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_nameserver_blocked_from_one_region_is_named() {
    let (lab, fake) = lab().await;
    fake.block_dns("DE", "127.0.0.3");
    fake.block_dns("GB", "127.0.0.3");
    fake.block_dns("SG", "127.0.0.3");
    let r = go(&lab, &fake, &[]).await;
    // The other server answers everywhere: a warning, not a failed zone.
    assert_eq!(r.status(ID), "warn", "{}", r.stdout);
    let g = summary(&r, "dns01.perspectives.geo-block");
    assert!(
        g.contains("127.0.0.3") && g.contains("Frankfurt, DE") && g.contains("London, GB"),
        "{g}"
    );
    assert!(g.contains("timeout"), "{g}");
    assert!(summary(&r, "dns01.perspectives.quorum-fail").contains("127.0.0.3"));
}

#[tokio::test(flavor = "multi_thread")]
async fn one_place_without_dns_is_at_risk() {
    let (lab, fake) = lab().await;
    fake.set_fault("ZA", Fault::Timeout);
    let r = go(&lab, &fake, &[]).await;
    assert!(summary(&r, "dns01.perspectives.quorum-at-risk").contains("7 of 8"));
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_everywhere() {
    let (lab, fake) = lab().await;
    for c in ["US", "DE", "SG", "BR", "GB", "JP", "ZA", "CA"] {
        fake.set_fault(c, Fault::Refused);
    }
    let r = go(&lab, &fake, &[]).await;
    assert_eq!(r.status(ID), "fail", "{}", r.stdout);
    let s = summary(&r, "dns01.perspectives.blocked-everywhere");
    assert!(s.contains("zone example.com") || s.contains("all 8"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn api_answers_are_explained() {
    let (lab, fake) = lab().await;
    let r = go(&lab, &fake, &["--from", "Atlantis"]).await;
    assert!(summary(&r, "dns01.perspectives.no-probes").contains("422"));
    fake.script(rate_limited());
    let r = go(&lab, &fake, &[]).await;
    assert!(summary(&r, "dns01.perspectives.rate-limited").contains("429"));
    fake.script(bad_request());
    let r = go(&lab, &fake, &[]).await;
    assert!(summary(&r, "dns01.perspectives.api-error").contains("400"));
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_skips() {
    let (lab, fake) = lab().await;
    let r = go(&lab, &fake, &["--offline"]).await;
    assert_eq!(r.status(ID), "skipped");
    assert!(fake.created().is_empty());
}

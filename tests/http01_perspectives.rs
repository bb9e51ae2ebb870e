//! http01.perspectives against the fake Globalping API, whose probes make real HTTP requests to
//! loopback fixtures with per-place faults (dropped, refused, 403 from a WAF).

mod support;

use std::time::Duration;

use serde_json::Value;
use support::dns::{addrs, DnsFixture};
use support::globalping::{
    bad_request, default_probes, place, probe, rate_limited, Fault, GlobalpingFake,
};
use support::http01::{always, route, HttpFixture, Reply};
use support::{doctor, Run};

const NAME: &str = "www.example.com";
const ID: &str = "http01.perspectives";

struct Lab {
    dns: DnsFixture,
    http: HttpFixture,
    fake: GlobalpingFake,
}

async fn lab_with(v6: bool, http: HttpFixture, probes: Vec<support::globalping::FakeProbe>) -> Lab {
    let a: &[&str] = if v6 {
        &["127.0.0.1", "::1"]
    } else {
        &["127.0.0.1"]
    };
    Lab {
        dns: DnsFixture::start(&[(NAME, addrs(a))]).await,
        http,
        fake: GlobalpingFake::start(probes, &[(NAME, a)]).await,
    }
}

async fn lab() -> Lab {
    let http = HttpFixture::start(
        Some(always(Reply::status(404))),
        Some(always(Reply::status(404))),
    )
    .await;
    lab_with(false, http, default_probes()).await
}

impl Lab {
    async fn run(&self, extra: &[&str]) -> Run {
        self.run_env(extra, &[]).await
    }
    async fn run_env(&self, extra: &[&str], env: &[(&str, &str)]) -> Run {
        self.run_at(&self.fake.url, extra, env).await
    }
    async fn run_at(&self, url: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
        let resolver = self.dns.addr.to_string();
        let port = self.http.port.to_string();
        let mut args = vec![
            "--resolver",
            &resolver,
            "--only",
            ID,
            "--format",
            "json",
            "--timeout",
            "2",
            "--http-port",
            &port,
            "--https-port",
            &port,
            "--globalping-url",
            url,
        ];
        args.extend_from_slice(extra);
        args.push(NAME);
        doctor(&args, env).await
    }
}

fn summary(r: &Run, code: &str) -> String {
    r.finding(code)["summary"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn severity(r: &Run, code: &str) -> String {
    r.finding(code)["severity"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn no_warn_or_fail(r: &Run) {
    let bad: Vec<Value> = r.check(ID)["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f["severity"] != "info")
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_everywhere_passes_quietly() {
    let lab = lab().await;
    let r = lab.run(&[]).await;
    assert_eq!(r.status(ID), "pass", "{}\n{}", r.stdout, r.stderr);
    no_warn_or_fail(&r);
    let c = r.check(ID);
    let s = c["summary"].as_str().unwrap();
    assert!(
        s.contains("8/8 perspectives") && s.contains("validation would pass"),
        "{s}"
    );
    assert!(s.contains("5 RIR(s)"), "{s}");
    // Per perspective: country, city, network/ASN, result and time.
    let ev = c["evidence"].to_string();
    assert!(
        ev.contains("Frankfurt, DE (AS24940 Hetzner Online GmbH): HTTP 404 in"),
        "{ev}"
    );
    let t = &c["facts"]["targets"][0];
    assert_eq!(t["target"], "www.example.com over IPv4");
    assert_eq!(t["perspectives"].as_array().unwrap().len(), 8);
    assert_eq!(t["verdict"]["pass"], true);
    // The third party is named.
    assert!(summary(&r, "http01.perspectives.third-party").contains("Globalping"));
    // The request is what the CA does: GET over plain HTTP to the challenge path.
    let created = lab.fake.created();
    assert_eq!(created.len(), 1);
    let (body, auth) = &created[0];
    assert_eq!(body["type"], "http");
    assert_eq!(body["target"], NAME);
    let o = &body["measurementOptions"];
    assert_eq!(o["protocol"], "HTTP");
    assert_eq!(o["request"]["method"], "GET");
    assert!(o["request"]["path"]
        .as_str()
        .unwrap()
        .starts_with("/.well-known/acme-challenge/"));
    assert_eq!(o["port"], lab.http.port);
    assert_eq!(o["ipVersion"], 4);
    assert_eq!(body["locations"].as_array().unwrap().len(), 8);
    assert!(auth.is_none());
    // Polling respects the guidelines: 500 ms after each answer.
    let gaps = lab.fake.poll_gaps();
    assert!(!gaps.is_empty());
    assert!(
        gaps.iter().all(|g| *g >= Duration::from_millis(450)),
        "{gaps:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn dropped_from_two_of_eight_fails_and_names_them() {
    // Eight places probed, the CA validates from four: two failing places can be two of them.
    let lab = lab().await;
    lab.fake.set_fault("DE", Fault::Timeout);
    lab.fake.set_fault("SG", Fault::Timeout);
    let r = lab.run(&[]).await;
    if std::env::var("SHOW").is_ok() {
        eprintln!("{}", serde_json::to_string_pretty(&r.check(ID)).unwrap());
    }
    assert_eq!(r.status(ID), "fail", "{}", r.stdout);
    let q = summary(&r, "http01.perspectives.quorum-fail");
    assert!(
        q.contains("validation would fail")
            && q.contains("2 of 8 perspectives failed")
            && q.contains("tolerates 1 failure"),
        "{q}"
    );
    let g = summary(&r, "http01.perspectives.geo-block");
    assert!(
        g.contains("Frankfurt, DE") && g.contains("Singapore, SG"),
        "{g}"
    );
    assert!(g.contains("timeout") && g.contains("dropped"), "{g}");
    assert!(g.contains("open port 80 for /.well-known/acme-challenge/") && g.contains("dns-01"));
    assert_eq!(severity(&r, "http01.perspectives.geo-block"), "fail");
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_from_one_place_passes_with_a_warning() {
    let lab = lab().await;
    lab.fake.set_fault("BR", Fault::Refused);
    let r = lab.run(&[]).await;
    assert_eq!(r.status(ID), "warn", "{}", r.stdout);
    let q = summary(&r, "http01.perspectives.quorum-at-risk");
    assert!(
        q.contains("validation would pass") && q.contains("7 of 8"),
        "{q}"
    );
    let g = summary(&r, "http01.perspectives.geo-block");
    assert!(g.contains("country BR") && g.contains("refused"), "{g}");
    assert_eq!(severity(&r, "http01.perspectives.geo-block"), "warn");
    assert!(!r.has("http01.perspectives.quorum-fail"));
}

#[tokio::test(flavor = "multi_thread")]
async fn waf_403_in_one_region_is_named() {
    let lab = lab().await;
    lab.fake.set_fault("DE", Fault::Forbidden);
    lab.fake.set_fault("GB", Fault::Forbidden);
    lab.fake.set_fault("ZA", Fault::Forbidden);
    let r = lab.run(&[]).await;
    // 3 of 8 fail: more than the 2 the CA allows.
    assert!(r.has("http01.perspectives.quorum-fail"), "{}", r.stdout);
    let g = summary(&r, "http01.perspectives.geo-block");
    assert!(g.contains("HTTP 403") && g.contains("WAF"), "{g}");
}

#[tokio::test(flavor = "multi_thread")]
async fn passing_only_in_one_rir_fails() {
    let probes = vec![
        probe(place(
            "US",
            "NA",
            "Northern America",
            "Ashburn",
            16509,
            "Amazon.com, Inc.",
        )),
        probe(place(
            "US",
            "NA",
            "Northern America",
            "Dallas",
            7922,
            "Comcast",
        )),
        probe(place(
            "CA",
            "NA",
            "Northern America",
            "Toronto",
            812,
            "Rogers Communications",
        )),
        probe(place(
            "DE",
            "EU",
            "Western Europe",
            "Frankfurt",
            24940,
            "Hetzner Online GmbH",
        )),
    ];
    let http = HttpFixture::start(Some(always(Reply::status(404))), None).await;
    let lab = lab_with(false, http, probes).await;
    lab.fake.set_fault("DE", Fault::Timeout);
    let r = lab
        .run(&["--perspectives", "5", "--from", "NA", "--from", "Germany"])
        .await;
    let q = summary(&r, "http01.perspectives.quorum-fail");
    assert!(q.contains("1 RIR (ARIN)"), "{q}");
    let locs = lab.fake.created()[0].0["locations"].clone();
    assert_eq!(locs[0]["magic"], "NA");
    assert_eq!(locs[1]["magic"], "Germany");
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_probes_are_not_counted() {
    let lab = lab().await;
    lab.fake.set_fault("ZA", Fault::Offline);
    let r = lab.run(&[]).await;
    assert_eq!(r.status(ID), "pass", "{}", r.stdout);
    let t = &r.check(ID)["facts"]["targets"][0];
    assert_eq!(t["no_result"], 1);
    assert_eq!(t["verdict"]["perspectives"], 7);
}

#[tokio::test(flavor = "multi_thread")]
async fn blocked_everywhere() {
    let lab = lab().await;
    for c in ["US", "DE", "SG", "BR", "GB", "JP", "ZA", "CA"] {
        lab.fake.set_fault(c, Fault::Timeout);
    }
    let r = lab.run(&[]).await;
    let s = summary(&r, "http01.perspectives.blocked-everywhere");
    assert!(s.contains("all 8 perspectives failed (timeout)"), "{s}");
    assert!(!r.has("http01.perspectives.geo-block"));
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_followed_with_the_same_probes() {
    let http = HttpFixture::start(
        Some(route(|p| {
            if p.starts_with("/.well-known/acme-challenge/") {
                Reply::redirect(301, "/moved/here")
            } else {
                Reply::status(404)
            }
        })),
        None,
    )
    .await;
    let lab = lab_with(false, http, default_probes()).await;
    let r = lab.run(&[]).await;
    assert_eq!(r.status(ID), "pass", "{}", r.stdout);
    let created = lab.fake.created();
    assert_eq!(created.len(), 2, "{created:?}");
    let first_id = "fake0001";
    assert_eq!(created[1].0["locations"], first_id);
    assert_eq!(
        created[1].0["measurementOptions"]["request"]["path"],
        "/moved/here"
    );
    let p = &r.check(ID)["facts"]["targets"][0]["perspectives"][0];
    assert_eq!(p["via"].as_array().unwrap().len(), 2, "{p}");
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_to_a_bad_port_fails_like_the_ca() {
    let http = HttpFixture::start(
        Some(always(Reply::redirect(
            302,
            "http://www.example.com:8080/x",
        ))),
        None,
    )
    .await;
    let lab = lab_with(false, http, default_probes()).await;
    let r = lab.run(&[]).await;
    let s = summary(&r, "http01.perspectives.blocked-everywhere");
    assert!(s.contains("redirect refused"), "{s}");
    assert_eq!(lab.fake.created().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn ipv4_and_ipv6_are_probed_separately() {
    let http = HttpFixture::start(
        Some(always(Reply::status(404))),
        Some(always(Reply::status(404))),
    )
    .await;
    let lab = lab_with(true, http, default_probes()).await;
    lab.fake.set_fault("JP", Fault::Timeout);
    let r = lab.run(&[]).await;
    let s = r.check(ID)["summary"].as_str().unwrap().to_string();
    assert!(s.contains("over IPv6") && s.contains("over IPv4"), "{s}");
    let versions: Vec<Value> = lab
        .fake
        .created()
        .iter()
        .map(|(b, _)| b["measurementOptions"]["ipVersion"].clone())
        .collect();
    assert!(
        versions.contains(&6.into()) && versions.contains(&4.into()),
        "{versions:?}"
    );
    assert!(summary(&r, "http01.perspectives.quorum-at-risk").contains("over IPv"));
}

#[tokio::test(flavor = "multi_thread")]
async fn ipv6_refused_everywhere_falls_back_to_ipv4_like_the_ca() {
    // Nothing listens on ::1: every IPv6 connection is refused, IPv4 answers.
    let http = HttpFixture::start(Some(always(Reply::status(404))), None).await;
    let lab = lab_with(true, http, default_probes()).await;
    let r = lab.run(&[]).await;
    assert_eq!(r.status(ID), "warn", "{}", r.stdout);
    let s = summary(&r, "http01.perspectives.blocked-everywhere");
    assert!(
        s.contains("over IPv6") && s.contains("connection refused"),
        "{s}"
    );
    assert_eq!(
        severity(&r, "http01.perspectives.blocked-everywhere"),
        "warn"
    );
    let c = r.check(ID)["summary"].as_str().unwrap().to_string();
    assert!(
        c.contains("in the CA's order (IPv6 first, then IPv4): 8/8 perspectives reached it in 5 RIR(s); validation would pass"),
        "{c}"
    );
    // IPv4 was asked of the same probes as IPv6.
    let created = lab.fake.created();
    assert_eq!(created[0].0["measurementOptions"]["ipVersion"], 6);
    assert_eq!(created[1].0["measurementOptions"]["ipVersion"], 4);
    assert_eq!(created[1].0["locations"], "fake0001");
}

#[tokio::test(flavor = "multi_thread")]
async fn ipv6_403_does_not_fall_back() {
    // A WAF that answers 403 over IPv6 is not a dial error: the CA does not try IPv4.
    let http = HttpFixture::start(
        Some(always(Reply::status(404))),
        Some(always(Reply::status(403))),
    )
    .await;
    let lab = lab_with(true, http, default_probes()).await;
    let r = lab.run(&[]).await;
    assert_eq!(r.status(ID), "fail", "{}", r.stdout);
    let fails: Vec<Value> = r.check(ID)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "fail")
        .cloned()
        .collect();
    assert!(
        fails
            .iter()
            .any(|f| f["summary"].as_str().unwrap().contains("in the CA's order")),
        "{fails:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_is_explained_and_the_token_stays_secret() {
    let lab = lab().await;
    lab.fake.script(rate_limited());
    let r = lab.run(&[]).await;
    let s = summary(&r, "http01.perspectives.rate-limited");
    assert!(
        s.contains("429") && s.contains("limit 250") && s.contains("resets in 1234 s"),
        "{s}"
    );
    assert!(
        s.contains("GLOBALPING_TOKEN") && s.contains("anonymous"),
        "{s}"
    );
    assert_eq!(r.status(ID), "warn");

    let r = lab
        .run_env(&[], &[("GLOBALPING_TOKEN", "gp-secret-token-42")])
        .await;
    let (_, auth) = lab.fake.created().last().cloned().unwrap();
    assert_eq!(auth.as_deref(), Some("Bearer gp-secret-token-42"));
    assert!(!r.stdout.contains("gp-secret-token-42") && !r.stderr.contains("gp-secret-token-42"));
    assert!(summary(&r, "http01.perspectives.rate-limited").contains("with the token"));
}

#[tokio::test(flavor = "multi_thread")]
async fn no_probes_is_explained() {
    let lab = lab().await;
    let r = lab.run(&["--from", "Atlantis"]).await;
    let s = summary(&r, "http01.perspectives.no-probes");
    assert!(
        s.contains("422") && s.contains("No matching IPv4 probes"),
        "{s}"
    );
    assert!(s.contains("broader --from"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn api_errors_are_findings() {
    let lab = lab().await;
    lab.fake.script(bad_request());
    let r = lab.run(&[]).await;
    let s = summary(&r, "http01.perspectives.api-error");
    assert!(
        s.contains("400 validation_error") && s.contains("locations[0].magic"),
        "{s}"
    );

    // An API that is not there at all.
    let closed = support::tcp::closed_port("127.0.0.1");
    let url = format!("http://{closed}/v1/");
    let r = lab.run_at(&url, &[], &[]).await;
    assert!(summary(&r, "http01.perspectives.api-error").contains("cannot reach the API"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_api_ends_in_findings() {
    let lab = lab().await;
    // Accepts and never answers: bounded by the request timeout.
    let hang = HttpFixture::start(Some(support::http01::Conn::Hang), None).await;
    let url = format!("http://127.0.0.1:{}/v1/", hang.port);
    let r = lab.run_at(&url, &[], &[]).await;
    assert!(summary(&r, "http01.perspectives.api-error").contains("did not answer within"));
    assert!(r.elapsed < Duration::from_secs(20), "{:?}", r.elapsed);
    // A 16 MiB answer is not read to the end.
    let huge = HttpFixture::start(Some(support::http01::Conn::Huge), None).await;
    let url = format!("http://127.0.0.1:{}/v1/", huge.port);
    let r = lab.run_at(&url, &[], &[]).await;
    assert!(summary(&r, "http01.perspectives.api-error").contains("larger than"));
    // A create answer without an id.
    lab.fake.script(support::globalping::Scripted {
        status: 202,
        body: serde_json::json!({"id": 5, "probesCount": "x"}),
        headers: vec![],
    });
    let r = lab.run(&[]).await;
    assert!(summary(&r, "http01.perspectives.api-error").contains("malformed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn off_and_offline_skip_with_a_reason() {
    let lab = lab().await;
    let r = lab.run(&["--perspectives", "off"]).await;
    assert_eq!(r.status(ID), "skipped");
    assert!(r.check(ID)["reason"]
        .as_str()
        .unwrap()
        .contains("--perspectives off"));
    let r = lab.run(&["--offline"]).await;
    assert_eq!(r.status(ID), "skipped");
    assert!(r.check(ID)["reason"]
        .as_str()
        .unwrap()
        .contains("--offline"));
    assert!(lab.fake.created().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_loopback_name_is_not_sent_to_the_public_api() {
    let lab = lab().await;
    let resolver = lab.dns.addr.to_string();
    // A dead proxy: even a bug here could not reach the real service.
    let dead = format!("http://{}", support::tcp::closed_port("127.0.0.1"));
    let r = doctor(
        &[
            "--resolver",
            &resolver,
            "--only",
            ID,
            "--format",
            "json",
            "--timeout",
            "2",
            NAME,
        ],
        &[("HTTPS_PROXY", &dead), ("ALL_PROXY", &dead)],
    )
    .await;
    assert_eq!(r.status(ID), "skipped", "{}", r.stdout);
    let reason = r.check(ID)["reason"].as_str().unwrap().to_string();
    assert!(
        reason.contains("private or loopback") && reason.contains("not sent"),
        "{reason}"
    );
}

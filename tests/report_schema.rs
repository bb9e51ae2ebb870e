//! Real reports validate against docs/report.schema.json.

mod support;

use support::dns::{addrs, DnsFixture};
use support::doctor;

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("docs/report.schema.json").unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn assert_valid(v: &jsonschema::Validator, doc: &serde_json::Value) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn passing_and_failing_reports_match_the_schema() {
    let v = validator();
    let (port, _srv) = support::tcp::dual_stack_listener().await;
    let dns = DnsFixture::start(&[("acme.test", addrs(&["127.0.0.1", "::1"]))]).await;
    let resolver = dns.addr.to_string();
    let ca = format!("https://acme.test:{port}/directory");
    for args in [
        vec![
            "--ca",
            ca.as_str(),
            "--resolver",
            &resolver,
            "--format",
            "json",
            "--timeout",
            "1",
            // No third-party probe network from tests.
            "--offline",
            "example.com",
        ],
        vec![
            "--resolver",
            &resolver,
            "--format",
            "json",
            "--timeout",
            "1",
            "-4",
        ],
        vec![
            "--ca",
            ca.as_str(),
            "--resolver",
            &resolver,
            "--format",
            "json",
            "--only",
            "tcp.acme",
        ],
    ] {
        let run = doctor(&args, &[]).await;
        assert_valid(&v, &run.json());
    }
}

#[test]
fn schema_rejects_a_broken_report() {
    let v = validator();
    let bad = serde_json::json!({"schema_version": 1, "checks": [{"id": "x"}]});
    assert!(!v.is_valid(&bad));
}

//! Command-line behaviour: exit codes, messages for bad input, the catalogue listing.

mod support;

use support::dns::DnsFixture;
use support::doctor;

async fn bad(args: &[&str], needle: &str) {
    let run = doctor(args, &[]).await;
    assert_eq!(run.code, 2, "{args:?} must exit 2; stderr: {}", run.stderr);
    assert!(run.stdout.is_empty(), "no report on bad input");
    assert!(
        run.stderr.contains(needle),
        "{args:?}: stderr {:?} lacks {needle:?}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_arguments_exit_2_with_the_exact_problem() {
    bad(&["exa_mple.com"], "bad character '_'").await;
    bad(&[&format!("{}.example.com", "a".repeat(64))], "at most 63").await;
    bad(&["example.invalidtld"], "not under a public suffix").await;
    bad(&["foo.*.example.com"], "leftmost").await;
    bad(&["--ca", "nosuchca"], "not a known CA").await;
    bad(&["--ca", "http://acme.test/dir"], "https").await;
    bad(&["--resolver", "not-an-ip"], "not an IP address").await;
    bad(&["--timeout", "0"], "out of range").await;
    bad(&["--timeout", "soon"], "not a number").await;
    bad(&["--only", "dns.nope"], "unknown check id \"dns.nope\"").await;
    bad(&["--format", "xml"], "invalid value 'xml'").await;
    bad(&["-4", "-6"], "cannot be used with").await;
    bad(
        &["--trust-store", "/nonexistent/bundle.pem"],
        "--trust-store /nonexistent/bundle.pem",
    )
    .await;
    bad(
        &["--ca-root", "/nonexistent/root.pem"],
        "--ca-root /nonexistent/root.pem",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn identifiers_are_normalised_and_recorded() {
    let dns = DnsFixture::start(&[]).await;
    let resolver = dns.addr.to_string();
    let run = doctor(
        &[
            "--resolver",
            &resolver,
            "--only",
            "dns.acme",
            "--format",
            "json",
            "https://Bücher.example.org/path",
            "*.example.com",
            "2001:db8::1",
            "example.net.",
        ],
        &[],
    )
    .await;
    let ids = run.json()["plan"]["identifiers"].clone();
    assert_eq!(ids[0]["value"], "xn--bcher-kva.example.org");
    assert_eq!(
        ids[0]["notes"].as_array().unwrap().len(),
        2,
        "URL note and punycode note"
    );
    assert_eq!(ids[1]["kind"], "wildcard");
    assert_eq!(ids[2]["kind"], "ip");
    assert_eq!(ids[3]["value"], "example.net");
}

#[tokio::test(flavor = "multi_thread")]
async fn checks_subcommand_lists_every_code() {
    let run = doctor(&["checks"], &[]).await;
    assert_eq!(run.code, 0);
    for c in &acme_doctor::catalogue::Catalogue::get().checks {
        assert!(run.stdout.contains(&c.id), "{}", c.id);
        for f in &c.findings {
            assert!(run.stdout.contains(&f.code), "{}", f.code);
        }
    }
    let json = doctor(&["checks", "--format", "json"], &[]).await;
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(v["checks"].as_array().unwrap().len() >= 7);
}

#[tokio::test(flavor = "multi_thread")]
async fn help_documents_exit_codes() {
    let run = doctor(&["--help"], &[]).await;
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("Exit status:"));
    assert!(run.stdout.contains("2  acme-doctor could not run"));
}

#[tokio::test(flavor = "multi_thread")]
async fn fail_on_warn_turns_warnings_into_exit_1() {
    // IPv4 accepts, IPv6 drops: tcp.acme warns.
    let hole = support::tcp::BlackHole::bind("[::1]:0");
    let port = hole.addr.port();
    let _v4 = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let dns = DnsFixture::start(&[("acme.test", support::dns::addrs(&["127.0.0.1", "::1"]))]).await;
    let resolver = dns.addr.to_string();
    let ca = format!("https://acme.test:{port}/directory");
    let args = [
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
    ];
    let run = doctor(&args, &[]).await;
    assert_eq!(run.json()["verdict"]["status"], "warn");
    assert_eq!(run.code, 0);
    let mut warn_args = args.to_vec();
    warn_args.extend(["--fail-on", "warn"]);
    let run = doctor(&warn_args, &[]).await;
    assert_eq!(run.json()["verdict"]["exit_code"], 1);
    assert_eq!(run.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn text_report_has_verdict_and_remediation() {
    let dns = DnsFixture::start(&[]).await;
    let resolver = dns.addr.to_string();
    let run = doctor(&["--resolver", &resolver, "--only", "dns.acme"], &[]).await;
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("dns.acme.nxdomain"));
    assert!(run
        .stdout
        .contains("dig +short acme-v02.api.letsencrypt.org @1.1.1.1"));
    assert!(run.stdout.contains("Verdict: FAIL"));
    assert!(
        run.stderr.is_empty(),
        "stderr is for terminals only: {}",
        run.stderr
    );
}

//! Every report format for one fixed fixture run, snapshotted with insta (timings, ports,
//! times, temporary paths and the host's OS filtered out), plus the redaction guarantees:
//! placeholders are stable, strict hides the domain, and secrets never appear in any format.

mod support;

use support::acme_server::{Behaviour, Lab};
use support::proxy::{ProxyFixture, ProxyMode};

/// Runs the binary against the lab with `--only acme.directory` and the given extra arguments.
async fn run(lab: &Lab, extra: &[&str], env: &[(&str, &str)]) -> support::Run {
    let url = lab.server.directory_url();
    let resolver = lab.dns.addr.to_string();
    let root = lab.server.root_pem();
    let mut args = vec![
        "--ca",
        &url,
        "--resolver",
        &resolver,
        "--trust-store",
        &root,
        "--ca-root",
        &root,
        "--only",
        "acme.directory",
        "--timeout",
        "3",
    ];
    args.extend_from_slice(extra);
    support::doctor(&args, env).await
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("snapshots");
    s.set_prepend_module_to_snapshot(false);
    for (re, with) in [
        (r"\d+(\.\d+)? ms", "[ms] ms"),
        (r#""duration_ms": \d+"#, r#""duration_ms": "[ms]""#),
        (r#"time="[0-9.]+""#, r#"time="[s]""#),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[time]"),
        (r"(/tmp|/var/folders)/[^\s'`\x22|<)]+", "[temp path]"),
        (
            r"(127\.0\.0\.1|acme\.test|localhost|\]):\d{2,5}",
            "$1:[port]",
        ),
        (r"\[::1\]:\d+", "[::1]:[port]"),
        (r"port \d{2,5}", "port [port]"),
        (r"acme-doctor \d+\.\d+\.\d+", "acme-doctor [version]"),
        (r#""version": "[^"]+""#, r#""version": "[version]""#),
        (r#""os": "[^"]+""#, r#""os": "[os]""#),
        (r"\| OS \| [^|\n]+ \|", "| OS | [os] |"),
        (r#"name="os" value="[^"]*""#, r#"name="os" value="[os]""#),
        (r#""ipv(4|6)": (true|false)"#, r#""ipv$1": "[route]""#),
        (r"(no route|route) / (no route|route)", "[route] / [route]"),
        (
            r#"name="ipv(4|6)" value="(true|false)""#,
            r#"name="ipv$1" value="[route]""#,
        ),
        (r"\d+ bytes", "[n] bytes"),
        // Checks outside --only are left out below, so that checks added later do not change
        // these snapshots; so are the counts that include them.
        (r"\d+ skipped", "[n] skipped"),
        (r#""skipped": \d+"#, r#""skipped": "[n]""#),
        (r#" tests="\d+""#, r#" tests="[n]""#),
        (r#" skipped="\d+""#, r#" skipped="[n]""#),
        (
            r#"(?m)^ *<testcase [^>]*>\n *<skipped message="not selected by --only"/>\n *</testcase>\n"#,
            "",
        ),
        (r"(?m)^.*not selected by --only.*\n", ""),
        // The fixture PKI is generated per run.
        (r"\b[0-9A-Fa-f]{64}\b", "[sha256]"),
        (
            r#""date_header": "[^"]+""#,
            r#""date_header": "[http-date]""#,
        ),
        (r#""response_ms": \d+"#, r#""response_ms": "[ms]""#),
        (
            r#"name="tool.version" value="[^"]*""#,
            r#"name="tool.version" value="[version]""#,
        ),
    ] {
        s.add_filter(re, with);
    }
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn every_format_for_a_captive_portal() {
    let lab = Lab::start(Behaviour::CaptivePortal).await;
    let settings = settings();
    for (name, extra) in [
        ("text", vec!["--format", "text"]),
        ("json", vec!["--format", "json"]),
        ("markdown_standard", vec!["--format", "markdown"]),
        (
            "markdown_strict",
            vec![
                "--format",
                "markdown",
                "--redact",
                "strict",
                "www.example.org",
            ],
        ),
        ("junit", vec!["--format", "junit"]),
    ] {
        // The text table follows COLUMNS: make it wide enough that nothing wraps, so that a
        // duration of 9 or 10 ms cannot move a line break, and squeeze the padding.
        let r = run(&lab, &extra, &[("COLUMNS", "400")]).await;
        assert_eq!(r.code, 1, "{name}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.is_empty(),
            "{name}: stderr is not a terminal: {}",
            r.stderr
        );
        let stdout = if name == "json" {
            let mut doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
            doc["checks"]
                .as_array_mut()
                .unwrap()
                .retain(|c| c["reason"] != "not selected by --only");
            serde_json::to_string_pretty(&doc).unwrap()
        } else {
            r.stdout.clone()
        };
        let mut settings = settings.clone();
        if name == "text" {
            settings.add_filter(r"[ ]{2,}", "  ");
            settings.add_filter(r"[ ]+\n", "\n");
        }
        settings.bind(|| insta::assert_snapshot!(format!("format_{name}"), stdout));
    }
}

/// A proxy password in the environment never reaches any format at any redaction level,
/// whether the report goes to stdout or to a file.
#[tokio::test(flavor = "multi_thread")]
async fn proxy_credentials_never_appear() {
    let lab = Lab::start(Behaviour::Healthy).await;
    let proxy = ProxyFixture::start(ProxyMode::Open).await;
    let user = "alice-proxyuser";
    let password = "s3cr3t-hunter2";
    let url = proxy.url_with(user, password);
    let dir = tempfile::tempdir().unwrap();
    for format in ["text", "json", "markdown", "junit"] {
        for redact in ["none", "standard", "strict"] {
            let out = dir.path().join(format!("{format}-{redact}.out"));
            let out = out.to_str().unwrap();
            for to_file in [false, true] {
                let mut extra = vec![
                    "--only",
                    "acme.directory,proxy.env",
                    "--format",
                    format,
                    "--redact",
                    redact,
                    "-v",
                ];
                if to_file {
                    extra.extend(["--output", out]);
                }
                let r = run(&lab, &extra, &[("HTTPS_PROXY", &url)]).await;
                let text = if to_file {
                    assert!(r.stdout.is_empty(), "--output leaves stdout empty");
                    std::fs::read_to_string(out).unwrap()
                } else {
                    r.stdout.clone()
                };
                assert!(text.contains("proxy.env"), "{format}/{redact}: {text}");
                for secret in [password, user] {
                    assert!(
                        !text.contains(secret) && !r.stderr.contains(secret),
                        "{format}/{redact} shows {secret}:\n{text}"
                    );
                }
            }
        }
    }
    assert!(proxy.tunnels() > 0, "the run went through the proxy");
}

/// Standard hides paths with one placeholder per value everywhere; strict also hides the
/// domain wherever it appears (plan, command line, identifiers), none hides nothing.
#[tokio::test(flavor = "multi_thread")]
async fn placeholders_are_stable_and_complete() {
    let lab = Lab::start(Behaviour::Healthy).await;
    let root = lab.server.root_pem();
    let domain = "shop.example.org";
    let json = |r: &support::Run| r.json();

    let none = run(&lab, &["--format", "json", domain], &[]).await;
    assert!(none.stdout.contains(&root) && none.stdout.contains(domain));

    let std_run = run(
        &lab,
        &["--format", "json", "--redact", "standard", domain],
        &[],
    )
    .await;
    assert!(!std_run.stdout.contains(&root), "{}", std_run.stdout);
    let cmd = json(&std_run)["plan"]["command_line"].clone();
    // --trust-store and --ca-root name the same file: the same placeholder both times.
    let pos = |flag: &str| {
        let a = cmd.as_array().unwrap();
        let i = a.iter().position(|v| v == flag).unwrap();
        a[i + 1].as_str().unwrap().to_string()
    };
    assert_eq!(pos("--trust-store"), "[path-1]");
    assert_eq!(pos("--ca-root"), "[path-1]");
    assert_eq!(json(&std_run)["plan"]["trust_store"], "[path-1]");
    assert!(std_run.stdout.contains(domain), "standard keeps the domain");

    let strict = run(
        &lab,
        &["--format", "markdown", "--redact", "strict", domain],
        &[],
    )
    .await;
    assert!(!strict.stdout.contains(domain), "{}", strict.stdout);
    assert!(!strict.stdout.contains("example.org"), "{}", strict.stdout);
    assert!(
        strict.stdout.contains("`[domain-1]` (dns)"),
        "{}",
        strict.stdout
    );
    let last = strict.stdout.trim_end().lines().last().unwrap();
    assert!(
        last.starts_with("Reproduce with: `acme-doctor ") && last.contains("'[domain-1]'"),
        "{last}"
    );

    // Markdown defaults to standard.
    let md = run(&lab, &["--format", "markdown", domain], &[]).await;
    assert!(!md.stdout.contains(&root) && md.stdout.contains(domain));
}

/// JUnit output is well-formed XML whose counts match the report.
#[tokio::test(flavor = "multi_thread")]
async fn junit_is_well_formed() {
    use quick_xml::events::Event;
    let lab = Lab::start(Behaviour::CaptivePortal).await;
    let r = run(&lab, &["--format", "junit"], &[]).await;
    let mut reader = quick_xml::Reader::from_str(&r.stdout);
    let (mut cases, mut failures, mut skipped) = (0, 0, 0);
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testcase" => cases += 1,
                b"failure" => failures += 1,
                b"skipped" => skipped += 1,
                _ => {}
            },
            _ => {}
        }
    }
    // Everything outside --only is skipped; the one check run fails.
    assert!(cases >= 10, "{}", r.stdout);
    assert_eq!((failures, skipped), (1, cases - 1), "{}", r.stdout);
}

/// --output replaces the file whole, prints nothing, keeps the exit code; a file that cannot
/// be written is exit 2 with the reason on stderr.
#[tokio::test(flavor = "multi_thread")]
async fn output_file() {
    let lab = Lab::start(Behaviour::CaptivePortal).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    std::fs::write(&out, "stale").unwrap();
    let r = run(
        &lab,
        &["--format", "json", "-o", out.to_str().unwrap()],
        &[],
    )
    .await;
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.is_empty() && r.stderr.is_empty(),
        "{r:?}",
        r = r.stderr
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc["verdict"]["status"], "fail");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left"
    );

    let bad = dir.path().join("missing-dir/report.json");
    let r = run(
        &lab,
        &["--format", "json", "-o", bad.to_str().unwrap()],
        &[],
    )
    .await;
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("missing-dir"), "{}", r.stderr);
}

/// On a terminal (a pty from util-linux `script`), stderr carries a line per check that settles
/// on its status; with --output the settled lines stay as the only thing on the terminal.
/// Without a terminal (every other test here) stderr stays empty.
#[tokio::test(flavor = "multi_thread")]
async fn progress_on_a_terminal() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("util-linux script is not installed; the pty case is not exercised");
        return;
    }
    let lab = Lab::start(Behaviour::CaptivePortal).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.txt");
    let cmd = format!(
        "{} --ca {} --resolver {} --trust-store {root} --ca-root {root} --only acme.directory --timeout 3 --output {}",
        env!("CARGO_BIN_EXE_acme-doctor"),
        lab.server.directory_url(),
        lab.dns.addr,
        out.display(),
        root = lab.server.root_pem(),
    );
    let run = tokio::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("TERM", "xterm")
        .env("COLUMNS", "160")
        .output()
        .await
        .unwrap();
    let tty = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{tty}");
    for line in [
        "dns.acme",
        "acme.directory",
        "fail",
        "not selected by --only",
    ] {
        assert!(
            tty.contains(line),
            "{line} missing from the terminal:\n{tty}"
        );
    }
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("Verdict: FAIL"));
}

/// Strict redaction hides the domain and the public addresses it resolves to, wherever they
/// appear; standard keeps them.
#[tokio::test(flavor = "multi_thread")]
async fn strict_hides_the_domain_and_its_addresses() {
    use support::dns::{addrs, DnsFixture};
    let dns = DnsFixture::start(&[("shop.example.com", addrs(&["198.51.100.77"]))]).await;
    let resolver = dns.addr.to_string();
    let args = |level: &'static str| {
        vec![
            "--resolver".to_string(),
            resolver.clone(),
            "--only".into(),
            "dns.domain".into(),
            "--format".into(),
            "markdown".into(),
            "--redact".into(),
            level.into(),
            "--offline".into(),
            "shop.example.com".into(),
        ]
    };
    let strict_args = args("strict");
    let strict = support::doctor(
        &strict_args.iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
    )
    .await;
    assert!(
        !strict.stdout.contains("shop.example.com"),
        "{}",
        strict.stdout
    );
    assert!(
        !strict.stdout.contains("198.51.100.77"),
        "{}",
        strict.stdout
    );
    assert!(strict.stdout.contains("[domain-1]"), "{}", strict.stdout);
    let standard_args = args("standard");
    let standard = support::doctor(
        &standard_args.iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
    )
    .await;
    assert!(standard.stdout.contains("shop.example.com"));
    assert!(
        standard.stdout.contains("198.51.100.77"),
        "{}",
        standard.stdout
    );
}

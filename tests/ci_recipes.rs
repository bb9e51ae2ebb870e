//! Every acme-doctor command line in docs/ci.md, run against the ACME fixtures: a healthy CA
//! gives exit 0 and a well-formed report where the recipe expects it, a captive portal gives
//! exit 1, and an output that cannot be written gives exit 2 (what the cron recipe tells apart).

mod support;

use support::acme_server::{Behaviour, Lab};

/// The acme-doctor command lines in docs/ci.md's code blocks, as argument lists (program name
/// dropped). A command ends where the shell takes over: a closing quote, a redirection, `||`.
fn recipes() -> Vec<Vec<String>> {
    let doc = std::fs::read_to_string("docs/ci.md").expect("docs/ci.md");
    let mut in_code = false;
    let mut out = Vec::new();
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if !in_code || line.trim_start().starts_with('#') {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("acme-doctor ") {
            let before = rest[..i].chars().next_back();
            let tail = &rest[i + "acme-doctor ".len()..];
            rest = tail;
            if !matches!(before, None | Some(' ' | '"' | '/' | '\'')) {
                continue;
            }
            let end = ["\"", "'", ">", "<", "|", ";", "&"]
                .iter()
                .filter_map(|s| tail.find(s))
                .min()
                .unwrap_or(tail.len());
            let args: Vec<String> = tail[..end].split_whitespace().map(String::from).collect();
            if args
                .first()
                .is_some_and(|a| a.starts_with('-') || a.contains('.'))
            {
                out.push(args);
            }
        }
    }
    out
}

fn format_of(args: &[String]) -> &str {
    args.iter()
        .position(|a| a == "--format")
        .map(|i| args[i + 1].as_str())
        .unwrap_or("text")
}

/// Checks that `text` is a report in `format`.
fn well_formed(format: &str, text: &str) {
    match format {
        "json" => {
            let v: serde_json::Value = serde_json::from_str(text).expect("JSON report");
            assert!(v["verdict"]["status"].is_string(), "{text}");
        }
        "junit" => {
            let mut r = quick_xml::Reader::from_str(text);
            let mut cases = 0;
            loop {
                match r.read_event().expect("well-formed JUnit XML") {
                    quick_xml::events::Event::Eof => break,
                    quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)
                        if e.name().as_ref() == b"testcase" =>
                    {
                        cases += 1
                    }
                    _ => {}
                }
            }
            assert!(cases > 0, "{text}");
        }
        "markdown" => assert!(text.starts_with("## acme-doctor: "), "{text}"),
        _ => assert!(text.contains("Verdict: "), "{text}"),
    }
}

/// Runs one recipe against the lab, its --output redirected into `dir`.
async fn run_recipe(
    lab: &Lab,
    recipe: &[String],
    dir: &std::path::Path,
) -> (support::Run, Option<String>) {
    let mut args: Vec<String> = Vec::new();
    let mut output = None;
    let mut it = recipe.iter();
    while let Some(a) = it.next() {
        args.push(a.clone());
        if a == "--output" || a == "-o" {
            let original = it.next().expect("--output FILE");
            let name = std::path::Path::new(original).file_name().unwrap();
            let p = dir.join(name);
            let _ = std::fs::remove_file(&p);
            args.push(p.display().to_string());
            output = Some(p);
        }
    }
    let url = lab.server.directory_url();
    let root = lab.server.root_pem();
    for extra in [
        "--ca",
        &url,
        "--resolver",
        &lab.dns.addr.to_string(),
        "--trust-store",
        &root,
        "--ca-root",
        &root,
        "--only",
        "acme.directory",
        "--timeout",
        "3",
    ] {
        args.push(extra.to_string());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = support::doctor(&refs, &[]).await;
    let written = output.map(|p| std::fs::read_to_string(&p).unwrap_or_default());
    (run, written)
}

#[test]
fn the_document_has_every_recipe() {
    let r = recipes();
    assert!(r.len() >= 7, "{r:?}");
    for format in ["junit", "markdown", "json", "text"] {
        assert!(
            r.iter().any(|a| format_of(a) == format),
            "no {format} recipe"
        );
    }
    // The test adds these itself; a recipe that sets them would clash.
    for a in r.iter().flatten() {
        assert!(
            ![
                "--ca",
                "--resolver",
                "--trust-store",
                "--ca-root",
                "--only",
                "--timeout"
            ]
            .contains(&a.as_str()),
            "{a}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn recipes_pass_on_a_healthy_ca() {
    let lab = Lab::start(Behaviour::Healthy).await;
    let dir = tempfile::tempdir().unwrap();
    for recipe in recipes() {
        let (run, written) = run_recipe(&lab, &recipe, dir.path()).await;
        assert_eq!(run.code, 0, "{recipe:?}\n{}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.is_empty(), "{recipe:?}: {}", run.stderr);
        match written {
            Some(text) => {
                assert!(run.stdout.is_empty(), "{recipe:?} prints with --output");
                well_formed(format_of(&recipe), &text);
            }
            None => well_formed(format_of(&recipe), &run.stdout),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn recipes_fail_behind_a_captive_portal() {
    let lab = Lab::start(Behaviour::CaptivePortal).await;
    let dir = tempfile::tempdir().unwrap();
    for recipe in recipes() {
        let (run, written) = run_recipe(&lab, &recipe, dir.path()).await;
        assert_eq!(run.code, 1, "{recipe:?}\n{}\n{}", run.stdout, run.stderr);
        let text = written.unwrap_or(run.stdout);
        well_formed(format_of(&recipe), &text);
        assert!(
            text.contains("acme.directory.html-page"),
            "{recipe:?}: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unwritable_output_is_exit_2() {
    let lab = Lab::start(Behaviour::Healthy).await;
    let dir = tempfile::tempdir().unwrap();
    let recipe = recipes()
        .into_iter()
        .find(|r| r.iter().any(|a| a == "--output"))
        .unwrap();
    let (run, _) = run_recipe(&lab, &recipe, &dir.path().join("no-such-dir")).await;
    assert_eq!(run.code, 2, "{recipe:?}\n{}", run.stderr);
    assert!(run.stderr.contains("no-such-dir"), "{}", run.stderr);
}

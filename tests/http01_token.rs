//! http01.token: a real token through a webroot served by a fixture, or served standalone on a
//! moved HTTP port; every mismatch is named and the token file never outlives the run.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::dns::{addrs, DnsFixture};
use support::doctor;
use support::http01::{always, Conn, HttpFixture, Reply};

const NAME: &str = "www.example.com";
const CHECK: &str = "http01.token";

async fn dns() -> DnsFixture {
    DnsFixture::start(&[(NAME, addrs(&["127.0.0.1", "::1"]))]).await
}

fn args(dns: &DnsFixture, http: u16, extra: &[String]) -> Vec<String> {
    let mut a: Vec<String> = [
        "--resolver",
        &dns.addr.to_string(),
        "--only",
        CHECK,
        "--format",
        "json",
        "--timeout",
        "2",
        "--http-port",
        &http.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.extend(extra.iter().cloned());
    a.push(NAME.into());
    a
}

async fn run(dns: &DnsFixture, http: u16, extra: &[String]) -> support::Run {
    let a = args(dns, http, extra);
    let refs: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
    doctor(&refs, &[]).await
}

fn webroot_arg(dir: &Path) -> Vec<String> {
    vec!["--webroot".into(), dir.display().to_string()]
}

/// Nothing left behind: no token file and no directory we created.
fn assert_clean(root: &Path) {
    assert!(
        !root.join(".well-known").exists(),
        "left behind: {:?}",
        std::fs::read_dir(root.join(".well-known/acme-challenge"))
            .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
    );
}

fn severities(run: &support::Run) -> Vec<String> {
    run.check(CHECK)["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|f| f["severity"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn webroot_round_trip_passes_and_cleans_up() {
    let dns = dns().await;
    let root = tempfile::tempdir().unwrap();
    let web = HttpFixture::start(
        Some(Conn::Webroot(root.path().into())),
        Some(Conn::Webroot(root.path().into())),
    )
    .await;
    let run = run(&dns, web.port, &webroot_arg(root.path())).await;
    assert_eq!(run.status(CHECK), "pass", "{}", run.stdout);
    assert!(severities(&run).is_empty(), "{}", run.stdout);
    let facts = &run.check(CHECK)["facts"];
    assert_eq!(facts["mode"], "webroot");
    let probes = facts["identifiers"][0]["probes"].as_array().unwrap();
    assert_eq!(probes.len(), 2);
    assert!(probes.iter().all(|p| p["matched"] == true), "{facts}");
    assert_clean(root.path());
    assert_eq!(run.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn existing_challenge_directory_is_kept() {
    let dns = dns().await;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join(".well-known/acme-challenge");
    std::fs::create_dir_all(&dir).unwrap();
    let web = HttpFixture::start(
        Some(Conn::Webroot(root.path().into())),
        Some(Conn::Webroot(root.path().into())),
    )
    .await;
    let run = run(&dns, web.port, &webroot_arg(root.path())).await;
    assert_eq!(run.status(CHECK), "pass", "{}", run.stdout);
    assert!(dir.is_dir());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "token removed");
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_webroot_gives_404() {
    let dns = dns().await;
    let served = tempfile::tempdir().unwrap();
    let given = tempfile::tempdir().unwrap();
    let web = HttpFixture::start(
        Some(Conn::Webroot(served.path().into())),
        Some(Conn::Webroot(served.path().into())),
    )
    .await;
    let run = run(&dns, web.port, &webroot_arg(given.path())).await;
    let f = run.finding("http01.token.not-found");
    assert!(f["summary"].as_str().unwrap().contains("404"), "{f}");
    assert_eq!(f["severity"], "fail");
    assert_clean(given.path());
}

#[tokio::test(flavor = "multi_thread")]
async fn rewrite_rule_catches_the_path() {
    let dns = dns().await;
    let root = tempfile::tempdir().unwrap();
    let page = "<!DOCTYPE html><html><body>WordPress front page</body></html>";
    let web = HttpFixture::start(
        Some(always(Reply::body(200, page))),
        Some(always(Reply::body(200, page))),
    )
    .await;
    let run = run(&dns, web.port, &webroot_arg(root.path())).await;
    let f = run.finding("http01.token.wrong-content");
    assert!(
        f["summary"]
            .as_str()
            .unwrap()
            .contains("WordPress front page"),
        "{f}"
    );
    assert_clean(root.path());
}

#[tokio::test(flavor = "multi_thread")]
async fn forbidden_and_unreachable() {
    let dns = dns().await;
    let root = tempfile::tempdir().unwrap();
    let web = HttpFixture::start(
        Some(always(Reply::status(403))),
        Some(always(Reply::status(403))),
    )
    .await;
    let run1 = run(&dns, web.port, &webroot_arg(root.path())).await;
    assert!(run1.finding("http01.token.bad-status")["summary"]
        .as_str()
        .unwrap()
        .contains("403"));
    assert_clean(root.path());

    // Nothing listens: the error path removes the file too.
    let run2 = run(&dns, free_port(), &webroot_arg(root.path())).await;
    let s = run2.finding("http01.token.fetch-failed")["summary"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(s.contains("Connection refused"), "{s}");
    assert_clean(root.path());
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_ipv6_address_serves_a_stale_site() {
    let dns = dns().await;
    let root = tempfile::tempdir().unwrap();
    let web = HttpFixture::start(
        Some(Conn::Webroot(root.path().into())),
        Some(always(Reply::status(404).server("Apache"))),
    )
    .await;
    let run = run(&dns, web.port, &webroot_arg(root.path())).await;
    let f = run.finding("http01.token.not-found");
    assert!(f["summary"].as_str().unwrap().contains("::1"), "{f}");
    // The CA tries IPv6 first and does not fall back after an HTTP answer.
    assert_eq!(f["severity"], "fail");
}

#[tokio::test(flavor = "multi_thread")]
async fn unwritable_webroot() {
    let dns = dns().await;
    let root = tempfile::tempdir().unwrap();
    // A file where the directory should be: creating it fails whatever the user's privileges.
    std::fs::write(root.path().join(".well-known"), "not a directory").unwrap();
    let run = run(&dns, free_port(), &webroot_arg(root.path())).await;
    assert!(run.has("http01.token.webroot-failed"), "{}", run.stdout);
    assert_eq!(run.status(CHECK), "fail");
}

#[tokio::test(flavor = "multi_thread")]
async fn standalone_serves_the_token_like_certbot() {
    let dns = dns().await;
    let port = free_port();
    let run = run(&dns, port, &["--standalone".into()]).await;
    assert_eq!(run.status(CHECK), "pass", "{}", run.stdout);
    let facts = &run.check(CHECK)["facts"];
    assert_eq!(facts["mode"], "standalone");
    assert!(facts["identifiers"][0]["probes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["matched"] == true));
    // The port is released afterwards.
    assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn standalone_port_busy() {
    let dns = dns().await;
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let run = run(&dns, port, &["--standalone".into()]).await;
    let f = run.finding("http01.token.port-busy");
    assert!(f["summary"].as_str().unwrap().contains(&port.to_string()));
    assert_eq!(run.status(CHECK), "fail");
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_removes_the_token_file() {
    let dns = dns().await;
    let root = tempfile::tempdir().unwrap();
    let web = HttpFixture::start(Some(Conn::Hang), Some(Conn::Hang)).await;
    let mut a = args(&dns, web.port, &webroot_arg(root.path()));
    // A long timeout, so the run is still waiting when the signal comes.
    let t = a.iter().position(|s| s == "--timeout").unwrap();
    a[t + 1] = "20".into();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_acme-doctor"))
        .args(&a)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let dir = root.path().join(".well-known/acme-challenge");
    let start = Instant::now();
    while !dir.is_dir() || std::fs::read_dir(&dir).unwrap().count() == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "token never written"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("exits promptly after Ctrl-C")
        .unwrap();
    assert_eq!(exit.code(), Some(130));
    assert_clean(root.path());
}

#[tokio::test(flavor = "multi_thread")]
async fn needs_webroot_or_standalone() {
    let dns = dns().await;
    let run = run(&dns, free_port(), &[]).await;
    assert_eq!(run.status(CHECK), "skipped");
    assert!(run.check(CHECK)["reason"]
        .as_str()
        .unwrap()
        .contains("--webroot"));
}

#[tokio::test(flavor = "multi_thread")]
async fn name_without_address_says_the_token_was_not_fetched() {
    let dns = DnsFixture::start(&[("other.example.com", addrs(&["127.0.0.1"]))]).await;
    let http = HttpFixture::start(Some(always(Reply::status(404))), None).await;
    let root = tempfile::tempdir().unwrap();
    let r = run(&dns, http.port, &webroot_arg(root.path())).await;
    let s = r.check(CHECK)["summary"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        s.contains("www.example.com: not fetched, the name has no address")
            && !s.contains("0 of 0"),
        "{s}"
    );
    assert_clean(root.path());
}

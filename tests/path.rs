//! path.ping and path.trace on loopback, privileged and (when we are root) without privileges.

mod support;

use support::dns::{addrs, DnsFixture};
use support::doctor;

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

async fn fixture() -> (DnsFixture, tokio::net::TcpListener) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    (
        DnsFixture::start(&[("acme.test", addrs(&["127.0.0.1"]))]).await,
        l,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn trace_reaches_loopback_at_the_first_hop() {
    let (dns, l) = fixture().await;
    let resolver = dns.addr.to_string();
    let ca = format!(
        "https://acme.test:{}/directory",
        l.local_addr().unwrap().port()
    );
    let run = doctor(
        &[
            "--ca",
            &ca,
            "--resolver",
            &resolver,
            "--only",
            "path.trace",
            "--format",
            "json",
            "--timeout",
            "1",
        ],
        &[],
    )
    .await;
    let c = run.check("path.trace");
    assert_eq!(c["status"], "pass", "{c:#}");
    assert_eq!(c["facts"]["traces"][0]["reached_at"], 1);
    assert!(c["findings"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn ping_measures_or_says_what_privilege_is_missing() {
    let (dns, l) = fixture().await;
    let resolver = dns.addr.to_string();
    let ca = format!(
        "https://acme.test:{}/directory",
        l.local_addr().unwrap().port()
    );
    let run = doctor(
        &[
            "--ca",
            &ca,
            "--resolver",
            &resolver,
            "--only",
            "path.ping",
            "--format",
            "json",
        ],
        &[],
    )
    .await;
    let c = run.check("path.ping");
    if run.has("path.ping.not-permitted") {
        assert!(!is_root(), "root may always open raw ICMP sockets");
        assert!(run.finding("path.ping.not-permitted")["summary"]
            .as_str()
            .unwrap()
            .contains("ping_group_range"));
    } else {
        assert_eq!(c["status"], "pass", "{c:#}");
        assert_eq!(c["facts"]["results"][0]["received"], 4, "{c:#}");
    }
}

/// Drops to nobody with no capabilities: ping degrades with the exact fix, the trace still works.
#[tokio::test(flavor = "multi_thread")]
async fn unprivileged_run_still_traces() {
    if !is_root()
        || std::process::Command::new("setpriv")
            .arg("--version")
            .output()
            .is_err()
    {
        eprintln!("skipped: needs root and setpriv to drop privileges");
        return;
    }
    let (dns, l) = fixture().await;
    let resolver = dns.addr.to_string();
    let ca = format!(
        "https://acme.test:{}/directory",
        l.local_addr().unwrap().port()
    );
    let out = tokio::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
        ])
        .arg(env!("CARGO_BIN_EXE_acme-doctor"))
        .args([
            "--ca",
            &ca,
            "--resolver",
            &resolver,
            "--only",
            "path.trace,path.ping",
            "--format",
            "json",
            "--timeout",
            "1",
        ])
        .output()
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let checks = v["checks"].as_array().unwrap();
    let trace = checks.iter().find(|c| c["id"] == "path.trace").unwrap();
    assert_eq!(trace["facts"]["traces"][0]["reached_at"], 1, "{trace:#}");
    let ping = checks.iter().find(|c| c["id"] == "path.ping").unwrap();
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range").unwrap();
    let lo_hi: Vec<u64> = range
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    if !(lo_hi[0] <= 65534 && 65534 <= lo_hi[1]) {
        let f = &ping["findings"][0];
        assert_eq!(f["code"], "path.ping.not-permitted", "{ping:#}");
        assert!(f["summary"].as_str().unwrap().contains("ping_group_range"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn trace_subcommand_prints_a_hop_table() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = l.local_addr().unwrap().to_string();
    let run = doctor(&["trace", &target, "-n", "--wait", "1"], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("[SYN-ACK]"), "{}", run.stdout);
    assert!(run.stdout.contains("destination reached at hop 1"));
    let json = doctor(
        &["trace", &target, "-n", "--wait", "1", "--format", "json"],
        &[],
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["traces"][0]["reached_at"], 1);
    let bad = doctor(&["trace", "exa_mple.com"], &[]).await;
    assert_eq!(bad.code, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_direct_trace_is_information_behind_a_proxy() {
    // A port where nothing listens is "reached" by RST; to get a trace that stops we need a
    // dropped port: the backlog-full listener drops SYNs without any answer.
    let hole = support::tcp::BlackHole::bind("127.0.0.1:0");
    let dns = DnsFixture::start(&[("acme.test", addrs(&["127.0.0.1"]))]).await;
    let resolver = dns.addr.to_string();
    let ca = format!("https://acme.test:{}/directory", hole.addr.port());
    let args = [
        "--ca",
        ca.as_str(),
        "--resolver",
        &resolver,
        "--only",
        "path.trace",
        "--format",
        "json",
        "--timeout",
        "1",
    ];
    let direct = doctor(&args, &[]).await;
    assert_eq!(direct.finding("path.trace.no-hops")["severity"], "info");
    let proxied = doctor(&args, &[("HTTPS_PROXY", "http://127.0.0.1:9")]).await;
    let f = proxied.finding("path.trace.no-hops");
    assert!(
        f["detail"]
            .as_str()
            .unwrap()
            .contains("through the proxy http://127.0.0.1:9"),
        "{f:#}"
    );
}

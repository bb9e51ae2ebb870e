//! Wall time of a full outbound run against fixtures. Not a timed test: it prints figures and
//! asserts nothing about them. Run with `scripts/bench`.

mod support;

use std::time::Duration;

use support::acme_server::{AcmeServer, Behaviour};
use support::dns::{addrs, DnsFixture};
use support::tcp::BlackHole;

async fn time_runs(label: &str, args: &[&str], n: usize) {
    let mut times: Vec<Duration> = Vec::new();
    let mut verdict = String::new();
    for _ in 0..n {
        let run = support::doctor(args, &[]).await;
        times.push(run.elapsed);
        verdict = format!(
            "exit {} ({})",
            run.code,
            run.json()["verdict"]["message"]
                .as_str()
                .unwrap_or_default()
        );
    }
    times.sort();
    println!(
        "{label:<40} median {:>7.0} ms  min {:>7.0} ms  max {:>7.0} ms  over {n} runs; {verdict}",
        times[n / 2].as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0,
        times[n - 1].as_secs_f64() * 1000.0
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run with scripts/bench"]
async fn full_run_wall_times() {
    let server = AcmeServer::start(Behaviour::Healthy).await;
    let dns = DnsFixture::start(&[("acme.test", addrs(&["127.0.0.1"]))]).await;
    let resolver = dns.addr.to_string();
    let url = server.directory_url();
    let root = server.root_pem();
    let healthy = [
        "--ca",
        &url,
        "--resolver",
        &resolver,
        "--trust-store",
        &root,
        "--ca-root",
        &root,
        "--format",
        "json",
    ];
    time_runs("healthy fixture", &healthy, 5).await;

    let (hole, _hold) = DnsFixture::black_hole().await;
    let hole = hole.to_string();
    let dropped = [
        "--ca",
        &url,
        "--resolver",
        &hole,
        "--trust-store",
        &root,
        "--ca-root",
        &root,
        "--format",
        "json",
    ];
    time_runs("every packet dropped (resolver too)", &dropped, 3).await;

    let tcp_hole = BlackHole::bind("127.0.0.1:0");
    let url443 = format!("https://acme.test:{}/directory", tcp_hole.addr.port());
    let port_dropped = [
        "--ca",
        &url443,
        "--resolver",
        &resolver,
        "--trust-store",
        &root,
        "--ca-root",
        &root,
        "--format",
        "json",
    ];
    time_runs("DNS answers, port 443 dropped", &port_dropped, 3).await;
}

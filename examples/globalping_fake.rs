//! The Globalping API fake of the integration tests (`tests/support/globalping.rs`) as a program,
//! for the root-only network lab (`tests/lab/vantage.sh`, docs/lab.md). Every probe is a
//! vantage point: a network namespace with a place (country, city, network) taken from the
//! fake's `default_probes()`. A measurement runs inside the probe's namespace as this program's
//! `probe` command, so the namespace's routes, resolv.conf and the firewalls on the way decide
//! what it sees.
//!
//! ```text
//! cargo build --example globalping_fake
//! globalping_fake serve --listen ADDR:PORT --vantage NS=COUNTRY [--vantage NS=COUNTRY ...]
//! globalping_fake probe REQUEST-JSON   # one measurement from here; prints the result JSON
//! ```
//!
//! `serve` needs root (it runs `ip netns exec`); it prints one line with its URL and probes
//! when it is ready and runs until it is killed.

#[allow(dead_code)]
#[path = "../tests/support/globalping.rs"]
mod globalping;
#[allow(dead_code)]
#[path = "../tests/support/http01.rs"]
mod http01;
#[allow(dead_code)]
#[path = "../tests/support/tcp.rs"]
mod tcp;

use std::process::ExitCode;

const USAGE: &str = "usage: globalping_fake serve --listen ADDR:PORT --vantage NS=COUNTRY [--vantage NS=COUNTRY ...]
       globalping_fake probe REQUEST-JSON";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("probe") if args.len() == 2 => probe(&args[1]),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn runtime(multi: bool) -> tokio::runtime::Runtime {
    let mut b = if multi {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    b.enable_all().build().expect("tokio runtime")
}

fn probe(request: &str) -> ExitCode {
    let body: serde_json::Value = match serde_json::from_str(request) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("globalping_fake probe: the request is not JSON: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime(false).block_on(globalping::probe_here(&body));
    println!("{result}");
    ExitCode::SUCCESS
}

fn serve(args: &[String]) -> ExitCode {
    let mut listen = None;
    let mut vantages: Vec<(String, String)> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (a.as_str(), it.next()) {
            ("--listen", Some(v)) => listen = Some(v.clone()),
            ("--vantage", Some(v)) => match v.split_once('=') {
                Some((ns, cc)) if !ns.is_empty() && !cc.is_empty() => {
                    vantages.push((ns.to_string(), cc.to_ascii_uppercase()))
                }
                _ => {
                    eprintln!("globalping_fake: --vantage wants NS=COUNTRY, not {v:?}");
                    return ExitCode::from(2);
                }
            },
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(listen) = listen else {
        eprintln!("globalping_fake: --listen is required\n{USAGE}");
        return ExitCode::from(2);
    };
    if vantages.is_empty() {
        eprintln!("globalping_fake: give at least one --vantage NS=COUNTRY\n{USAGE}");
        return ExitCode::from(2);
    }
    // The places are the in-process fake's, so the lab and the tests agree on them.
    let places = globalping::default_probes();
    let mut probes = Vec::new();
    for (ns, cc) in &vantages {
        let Some(p) = places.iter().find(|p| p.location["country"] == cc.as_str()) else {
            let known: Vec<&str> = places
                .iter()
                .filter_map(|p| p.location["country"].as_str())
                .collect();
            eprintln!(
                "globalping_fake: no probe place for country {cc} (have {})",
                known.join(" ")
            );
            return ExitCode::from(2);
        };
        probes.push(p.clone().in_netns(ns));
    }
    runtime(true).block_on(async move {
        let fake = globalping::GlobalpingFake::start_on(&listen, probes, &[]).await;
        let list: Vec<String> = fake
            .state
            .lock()
            .unwrap()
            .probes
            .iter()
            .map(|p| {
                let l = &p.location;
                format!(
                    "{}={}, {} (AS{} {})",
                    p.netns.as_deref().unwrap_or("-"),
                    l["city"].as_str().unwrap_or(""),
                    l["country"].as_str().unwrap_or(""),
                    l["asn"],
                    l["network"].as_str().unwrap_or("")
                )
            })
            .collect();
        println!(
            "globalping-fake: listening on {} with probes {}",
            fake.url,
            list.join("; ")
        );
        std::future::pending::<()>().await;
    });
    ExitCode::SUCCESS
}

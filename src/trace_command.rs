//! `acme-doctor trace`: the TCP traceroute on its own, with a hop table or JSON.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::rr::RecordType;
use serde::Serialize;

use crate::cli::{Format, TraceArgs};
use crate::net::dns::Resolver;
use crate::net::trace::{self, ProbeResult, Trace, TraceOptions};

#[derive(Debug, Serialize)]
pub struct TraceReport {
    pub host: String,
    pub port: u16,
    pub traces: Vec<NamedTrace>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct NamedTrace {
    #[serde(flatten)]
    pub trace: Trace,
    /// Reverse DNS names of hop addresses, where found.
    pub names: Vec<(IpAddr, String)>,
}

/// Why `trace` could not produce a report: bad input (exit 2) or nothing to trace (exit 1).
#[derive(Debug)]
pub enum TraceError {
    Usage(String),
    NoTarget(String),
}

/// Resolves the target, traces each address family in parallel and returns the report.
pub async fn run(args: &TraceArgs) -> Result<TraceReport, TraceError> {
    let (host, port) = args.host_port().map_err(TraceError::Usage)?;
    let resolver =
        Resolver::new(args.resolver, Duration::from_secs(3)).map_err(TraceError::Usage)?;
    let mut targets: Vec<IpAddr> = Vec::new();
    let mut errors = Vec::new();
    if let Ok(ip) = host.parse::<IpAddr>() {
        targets.push(ip);
    } else {
        let (a, aaaa) = tokio::join!(
            resolver.addrs(&host, RecordType::A),
            resolver.addrs(&host, RecordType::AAAA)
        );
        for (r, t) in [(aaaa, "AAAA"), (a, "A")] {
            match r {
                Ok(ans) => targets.extend(ans.addrs.first().copied()),
                Err(e) => errors.push(format!("{t} {host}: {e}")),
            }
        }
    }
    targets.retain(|ip| !(args.ipv4 && ip.is_ipv6() || args.ipv6 && ip.is_ipv4()));
    if targets.is_empty() {
        return Err(TraceError::NoTarget(format!(
            "no address to trace for {host}: {}",
            errors.join("; ")
        )));
    }
    let opts = TraceOptions {
        max_hops: args.max_hops,
        probes_per_hop: args.probes,
        wait: args.wait,
    };
    let handles: Vec<_> = targets
        .iter()
        .map(|ip| tokio::spawn(trace::trace(SocketAddr::new(*ip, port), opts)))
        .collect();
    let mut traces = Vec::new();
    for h in handles {
        let t = h
            .await
            .map_err(|e| TraceError::NoTarget(format!("trace task failed: {e}")))?;
        let names = if args.no_rdns {
            Vec::new()
        } else {
            reverse_names(&resolver, &t).await
        };
        traces.push(NamedTrace { trace: t, names });
    }
    Ok(TraceReport {
        host,
        port,
        traces,
        errors,
    })
}

/// PTR names for every hop address, looked up together with a short deadline.
pub async fn reverse_names(resolver: &Resolver, t: &Trace) -> Vec<(IpAddr, String)> {
    let addrs: Vec<IpAddr> = t.hops.iter().flat_map(|h| h.addrs()).collect();
    let lookups = addrs.iter().map(|ip| {
        let r = resolver.clone();
        let ip = *ip;
        tokio::spawn(async move {
            r.reverse(ip, Duration::from_millis(800))
                .await
                .map(|n| (ip, n))
        })
    });
    let mut out = Vec::new();
    for l in lookups.collect::<Vec<_>>() {
        if let Ok(Some(p)) = l.await {
            out.push(p);
        }
    }
    out
}

pub fn render(report: &TraceReport, format: Format) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(report).expect("trace serialises") + "\n",
        Format::Text => {
            let mut out = String::new();
            for e in &report.errors {
                out.push_str(&format!("note: {e}\n"));
            }
            for t in &report.traces {
                out.push_str(&hop_table(&report.host, &t.trace, &t.names));
                out.push('\n');
            }
            out
        }
    }
}

/// A traceroute-style hop table.
pub fn hop_table(host: &str, t: &Trace, names: &[(IpAddr, String)]) -> String {
    let mut out = format!(
        "TCP traceroute to {host} ({}) port {}, {} probes per hop, {}\n",
        t.target.ip(),
        t.target.port(),
        t.hops.first().map(|h| h.probes.len()).unwrap_or(0),
        t.method
    );
    for h in &t.hops {
        let mut line = format!("{:>3} ", h.ttl);
        if !h.answered() {
            line.push_str(&" *".repeat(h.probes.len().max(1)));
        }
        for a in h.addrs() {
            match names.iter().find(|(ip, _)| *ip == a) {
                Some((_, n)) => line.push_str(&format!(" {n} ({a})")),
                None => line.push_str(&format!(" {a}")),
            }
        }
        for p in &h.probes {
            match p {
                ProbeResult::NoReply if h.answered() => line.push_str("  *"),
                ProbeResult::Reached { rst, .. } => {
                    line.push_str(if *rst { "  [RST]" } else { "  [SYN-ACK]" })
                }
                ProbeResult::Unreachable {
                    icmp_type,
                    icmp_code,
                    ..
                } => line.push_str(&format!("  !U(type {icmp_type} code {icmp_code})")),
                ProbeResult::Error { message } => line.push_str(&format!("  error: {message}")),
                _ => {}
            }
        }
        for r in h.rtts_ms() {
            line.push_str(&format!("  {r:.3} ms"));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    match t.reached_at {
        Some(ttl) => out.push_str(&format!("destination reached at hop {ttl} in {} ms\n", t.elapsed_ms)),
        None => match t.last_answer() {
            Some(h) => out.push_str(&format!(
                "destination not reached: last answer from hop {} ({}); nothing beyond it answered\n",
                h.ttl,
                h.addrs().iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")
            )),
            None => out.push_str("destination not reached: no hop answered\n"),
        },
    }
    out
}

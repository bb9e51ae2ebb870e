//! `path.ping`: ICMP round-trip times and loss to the CA's addresses.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::checks::dns_acme::DnsAcmeFacts;
use crate::engine::{finding, BoxFuture, Check, Ctx, FindingExt, Outcome};
use crate::net::icmp::{self, PingStats};
use crate::report::model::{Finding, Sensitivity};

pub struct PathPing;

const ECHOES: u16 = 4;

#[derive(Debug, Clone, Serialize)]
pub struct PathPingFacts {
    pub results: Vec<PingStats>,
}

impl Check for PathPing {
    fn id(&self) -> &'static str {
        "path.ping"
    }

    fn needs(&self) -> &'static [&'static str] {
        &["dns.acme"]
    }

    fn run(&self, ctx: Arc<Ctx>) -> BoxFuture<'static, Outcome> {
        Box::pin(async move { run(&ctx).await })
    }
}

async fn run(ctx: &Ctx) -> Outcome {
    let dns = ctx
        .facts::<DnsAcmeFacts>("dns.acme")
        .expect("runner guarantees dns.acme facts");
    let addrs: Vec<IpAddr> = dns
        .addrs()
        .into_iter()
        .filter(|ip| ctx.plan.family.allows(ip))
        .collect();
    let wait = ctx.plan.timeout.min(Duration::from_secs(2));
    let mut out = Outcome::new("");
    let mut tasks = Vec::new();
    for v6 in [true, false] {
        let fam: Vec<IpAddr> = addrs
            .iter()
            .copied()
            .filter(|a| a.is_ipv6() == v6)
            .collect();
        if fam.is_empty() {
            continue;
        }
        match icmp::client(v6) {
            Ok(client) => {
                for a in fam {
                    let c = client.clone();
                    tasks.push(tokio::spawn(async move {
                        icmp::ping(&c, a, ECHOES, Duration::from_millis(100), wait).await
                    }));
                }
            }
            Err(e) => {
                let range = e
                    .ping_group_range
                    .clone()
                    .unwrap_or_else(|| "unreadable".into());
                out.finding(
                    finding(
                        "path.ping.not-permitted",
                        format!(
                            "cannot open an ICMP{} socket ({}); net.ipv4.ping_group_range is \"{range}\"",
                            if v6 { "v6" } else { "" },
                            e.message
                        ),
                    )
                    .with("ping_group_range", range, Sensitivity::Public),
                );
            }
        }
    }
    let mut results = Vec::new();
    for t in tasks {
        if let Ok(s) = t.await {
            results.push(s);
        }
    }
    let (summary, findings) = summarise(&results, wait);
    for f in findings {
        out.finding(f);
    }
    for s in &results {
        out.evidence(
            s.addr.to_string(),
            format!(
                "{} sent, {} received, rtt {:?} ms",
                s.sent, s.received, s.rtt_ms
            ),
            Sensitivity::Public,
        );
    }
    if results.is_empty() && !out.findings.is_empty() {
        out.summary = "ICMP not permitted for this user; round-trip times not measured".into();
        return out;
    }
    out.summary = summary;
    out.with_facts(PathPingFacts { results })
}

/// The one-line summary and the findings for a set of ping results.
fn summarise(results: &[PingStats], wait: Duration) -> (String, Vec<Finding>) {
    let mut parts = Vec::new();
    let mut findings = Vec::new();
    for s in results {
        match s.min_avg_max() {
            Some((min, avg, max)) => {
                parts.push(format!(
                    "{} {:.1}/{:.1}/{:.1} ms, {:.0}% loss",
                    s.addr,
                    min,
                    avg,
                    max,
                    s.loss_pct()
                ));
                if s.received < s.sent {
                    findings.push(finding(
                        "path.ping.loss",
                        format!(
                            "{}: {} of {} echoes lost ({:.0}%)",
                            s.addr,
                            s.sent - s.received,
                            s.sent,
                            s.loss_pct()
                        ),
                    ));
                }
            }
            None => {
                parts.push(format!("{} no reply", s.addr));
                let why = s
                    .error
                    .as_ref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default();
                findings.push(finding(
                    "path.ping.no-reply",
                    format!(
                        "{}: no reply to {} echo requests within {} ms each{why}",
                        s.addr,
                        s.sent,
                        wait.as_millis()
                    ),
                ));
            }
        }
    }
    (format!("rtt min/avg/max: {}", parts.join("; ")), findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(addr: &str, sent: u32, rtts: &[f64]) -> PingStats {
        PingStats {
            addr: addr.parse().unwrap(),
            sent,
            received: rtts.len() as u32,
            rtt_ms: rtts.to_vec(),
            error: None,
        }
    }

    #[test]
    fn healthy_is_quiet_loss_and_silence_are_information() {
        let w = Duration::from_secs(1);
        let (s, f) = summarise(&[stats("198.51.100.7", 4, &[10.0, 12.0, 11.0, 11.0])], w);
        assert!(f.is_empty());
        assert!(s.contains("10.0/11.0/12.0 ms, 0% loss"), "{s}");
        let (_, f) = summarise(&[stats("198.51.100.7", 4, &[10.0, 12.0])], w);
        assert_eq!(f[0].code, "path.ping.loss");
        assert!(f[0].summary.contains("2 of 4 echoes lost (50%)"));
        let (_, f) = summarise(&[stats("2001:db8::7", 4, &[])], w);
        assert_eq!(f[0].code, "path.ping.no-reply");
        assert!(f
            .iter()
            .all(|f| f.severity == crate::report::model::Severity::Info));
    }
}

//! `path.trace`: where along the route do packets to the CA's port stop?

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::checks::dns_acme::DnsAcmeFacts;
use crate::engine::{finding, BoxFuture, Check, Ctx, FindingExt, Outcome};
use crate::net::trace::{self, ProbeResult, Trace, TraceOptions};
use crate::plan::Plan;
use crate::report::model::{Finding, Sensitivity};
use crate::trace_command::{hop_table, reverse_names};

pub struct PathTrace;

#[derive(Debug, Clone, Serialize)]
pub struct PathTraceFacts {
    pub traces: Vec<Trace>,
    pub names: Vec<(IpAddr, String)>,
}

fn wait(plan: &Plan) -> Duration {
    plan.timeout.min(Duration::from_secs(3))
}

impl Check for PathTrace {
    fn id(&self) -> &'static str {
        "path.trace"
    }

    fn needs(&self) -> &'static [&'static str] {
        &["dns.acme"]
    }

    /// Two waves of probes (or one, and the silent hops before a rejecting router asked again
    /// a second later), then reverse lookups of 0.8 s.
    fn deadline(&self, plan: &Plan) -> Duration {
        wait(plan) * 2 + Duration::from_secs(3)
    }

    fn run(&self, ctx: Arc<Ctx>) -> BoxFuture<'static, Outcome> {
        Box::pin(async move { run(&ctx).await })
    }
}

async fn run(ctx: &Ctx) -> Outcome {
    let dns = ctx
        .facts::<DnsAcmeFacts>("dns.acme")
        .expect("runner guarantees dns.acme facts");
    let port = ctx.plan.ca.api_port();
    let host = ctx.plan.ca.api_host().to_string();
    // One address per family: the path to the others is almost always the same.
    let targets: Vec<SocketAddr> = [dns.ipv6.first(), dns.ipv4.first()]
        .into_iter()
        .flatten()
        .filter(|ip| ctx.plan.family.allows(ip))
        .map(|ip| SocketAddr::new(*ip, port))
        .collect();
    let opts = TraceOptions {
        wait: wait(&ctx.plan),
        ..TraceOptions::default()
    };
    let handles: Vec<_> = targets
        .iter()
        .map(|t| tokio::spawn(trace::trace(*t, opts)))
        .collect();
    let mut traces = Vec::new();
    for h in handles {
        if let Ok(t) = h.await {
            traces.push(t);
        }
    }
    let mut names = Vec::new();
    for t in &traces {
        names.extend(reverse_names(&ctx.resolver, t).await);
    }

    let mut out = Outcome::new(
        traces
            .iter()
            .map(|t| match t.reached_at {
                _ if t.unsent().is_some() => format!(
                    "{} not traced: {}",
                    t.target,
                    t.unsent().unwrap_or_default()
                ),
                Some(1) => format!("{} reached at the first hop", t.target),
                Some(ttl) => format!("{} reached in {ttl} hops", t.target),
                None => format!(
                    "{} not reached (routers answered at {} hop(s))",
                    t.target,
                    t.hops.iter().filter(|h| h.answered()).count()
                ),
            })
            .collect::<Vec<_>>()
            .join("; "),
    );
    // Through a proxy the direct route does not matter for issuance; keep it as information.
    let proxy = crate::net::proxy::ProxyEnv::from_env().for_host(&host);
    for t in &traces {
        out.evidence(
            format!("hops to {}", t.target),
            hop_table(&host, t, &names),
            Sensitivity::Public,
        );
        for f in diagnose(t) {
            out.finding(match &proxy {
                Some(p) => f.severity(crate::report::model::Severity::Info).detail(format!(
                    "ACME clients here connect through the proxy {}, so the direct route does not affect issuance.",
                    p.display()
                )),
                None => f,
            });
        }
    }
    out.with_facts(PathTraceFacts { traces, names })
}

/// Turns one trace into findings: where it stops, or who rejects.
fn diagnose(t: &Trace) -> Vec<Finding> {
    let mut out = Vec::new();
    if t.unsent().is_some() {
        // Nothing left this host: a path cannot be blamed (tcp.acme names the missing route).
        return out;
    }
    for h in &t.hops {
        for p in &h.probes {
            if let ProbeResult::Unreachable {
                from: Some(from),
                icmp_type,
                icmp_code,
                ..
            } = p
            {
                if *from != t.target.ip() {
                    out.push(
                        finding(
                            "path.trace.rejected",
                            format!(
                                "hop {} ({from}) answered a SYN to {} with ICMP destination unreachable (type {icmp_type}, code {icmp_code}{})",
                                t.hop_of(*from).unwrap_or(h.ttl),
                                t.target,
                                unreachable_name(t.target.is_ipv4(), *icmp_type, *icmp_code)
                            ),
                        )
                        .with("router", from.to_string(), Sensitivity::Public),
                    );
                    return out;
                }
            }
        }
    }
    if t.reached_at.is_some() {
        return out;
    }
    match t.last_answer() {
        Some(h) => {
            let addrs: Vec<String> = h.addrs().iter().map(|a| a.to_string()).collect();
            out.push(
                finding(
                    "path.trace.stops",
                    format!(
                        "{}: last answer from hop {} ({}); nothing beyond it answers: outbound port {} is dropped between hop {} and hop {} (in hop {}'s forwarding or at hop {})",
                        t.target,
                        h.ttl,
                        addrs.join(", "),
                        t.target.port(),
                        h.ttl,
                        h.ttl + 1,
                        h.ttl,
                        h.ttl + 1
                    ),
                )
                .with("last hop", addrs.join(", "), Sensitivity::Public),
            );
        }
        None => out.push(finding(
            "path.trace.no-hops",
            format!(
                "{}: no router and not the destination answered any of {} probes",
                t.target,
                t.hops.iter().map(|h| h.probes.len()).sum::<usize>()
            ),
        )),
    }
    out
}

fn unreachable_name(v4: bool, t: u8, c: u8) -> &'static str {
    match (v4, t, c) {
        (true, 3, 0) => ": network unreachable",
        (true, 3, 1) => ": host unreachable",
        (true, 3, 3) => ": port unreachable",
        (true, 3, 9) | (true, 3, 10) | (true, 3, 13) => ": administratively prohibited",
        (false, 1, 0) => ": no route to destination",
        (false, 1, 1) => ": administratively prohibited",
        (false, 1, 3) => ": address unreachable",
        (false, 1, 4) => ": port unreachable",
        (false, 1, 5) | (false, 1, 6) => ": rejected by policy",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::trace::Hop;

    fn hop(ttl: u8, p: Vec<ProbeResult>) -> Hop {
        Hop { ttl, probes: p }
    }
    fn tr(hops: Vec<Hop>, reached: Option<u8>) -> Trace {
        Trace {
            target: "203.0.113.9:443".parse().unwrap(),
            method: String::new(),
            hops,
            reached_at: reached,
            elapsed_ms: 0,
        }
    }
    fn at(a: &str) -> ProbeResult {
        ProbeResult::Hop {
            from: a.parse().unwrap(),
            rtt_us: 100,
        }
    }

    #[test]
    fn stops_after_last_answering_hop() {
        let t = tr(
            vec![
                hop(1, vec![at("192.0.2.1")]),
                hop(2, vec![at("192.0.2.2")]),
                hop(3, vec![ProbeResult::NoReply]),
            ],
            None,
        );
        let f = diagnose(&t);
        assert_eq!(f[0].code, "path.trace.stops");
        assert!(f[0].summary.contains("last answer from hop 2 (192.0.2.2)"));
        assert!(
            f[0].summary.contains("between hop 2 and hop 3"),
            "{}",
            f[0].summary
        );
    }

    #[test]
    fn nothing_sent_is_not_blamed_on_the_path() {
        let err = || {
            ProbeResult::Error {
            message: "Network is unreachable (os error 101): this host has no route to 2001:db8::1, so nothing was sent".into(),
        }
        };
        let t = tr(vec![hop(1, vec![err(), err()]), hop(2, vec![err()])], None);
        assert!(t.unsent().unwrap().contains("no route"));
        assert!(diagnose(&t).is_empty());
        let mixed = tr(vec![hop(1, vec![err(), ProbeResult::NoReply])], None);
        assert!(mixed.unsent().is_none());
        assert_eq!(diagnose(&mixed)[0].code, "path.trace.no-hops");
    }

    #[test]
    fn reached_is_quiet_and_rejection_is_named() {
        let ok = tr(
            vec![
                hop(1, vec![at("192.0.2.1")]),
                hop(
                    2,
                    vec![ProbeResult::Reached {
                        from: "203.0.113.9".parse().unwrap(),
                        rtt_us: 1,
                        rst: false,
                    }],
                ),
            ],
            Some(2),
        );
        assert!(diagnose(&ok).is_empty());
        let rej = tr(
            vec![
                hop(1, vec![at("192.0.2.1")]),
                hop(
                    2,
                    vec![ProbeResult::Unreachable {
                        from: Some("192.0.2.2".parse().unwrap()),
                        rtt_us: 1,
                        icmp_type: 3,
                        icmp_code: 13,
                    }],
                ),
            ],
            None,
        );
        let f = diagnose(&rej);
        assert_eq!(f[0].code, "path.trace.rejected");
        assert!(f[0].summary.contains("administratively prohibited"));
        let none = tr(vec![hop(1, vec![ProbeResult::NoReply])], None);
        assert_eq!(diagnose(&none)[0].code, "path.trace.no-hops");
    }
}

#[cfg(test)]
mod rejection_hop {
    use super::*;
    use crate::net::trace::Hop;

    /// r1 answers TTL 1 with time exceeded and rejects what it would forward: the rejection is
    /// hop 1's, even though it arrives on the TTL 2 probe.
    #[test]
    fn rejecting_router_is_numbered_where_it_first_answered() {
        let r1: IpAddr = "192.0.2.1".parse().unwrap();
        let t = Trace {
            target: "203.0.113.9:443".parse().unwrap(),
            method: String::new(),
            hops: vec![
                Hop {
                    ttl: 1,
                    probes: vec![ProbeResult::Hop {
                        from: r1,
                        rtt_us: 1,
                    }],
                },
                Hop {
                    ttl: 2,
                    probes: vec![ProbeResult::Unreachable {
                        from: Some(r1),
                        rtt_us: 1,
                        icmp_type: 3,
                        icmp_code: 1,
                    }],
                },
            ],
            reached_at: None,
            elapsed_ms: 0,
        };
        let f = diagnose(&t);
        assert!(
            f[0].summary.starts_with("hop 1 (192.0.2.1)"),
            "{}",
            f[0].summary
        );
        assert!(f[0].summary.contains("host unreachable"));
    }
}

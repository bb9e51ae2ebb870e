//! `tcp.acme`: does the CA's API port accept TCP connections, per address and family?

use std::net::SocketAddr;
use std::sync::Arc;

use serde::Serialize;

use crate::checks::dns_acme::DnsAcmeFacts;
use crate::engine::{finding, BoxFuture, Check, Ctx, FindingExt, Outcome};
use crate::net::proxy::ProxyEnv;
use crate::net::tcp::{self, ConnectError};
use crate::report::model::{Finding, Sensitivity, Severity};

pub struct TcpAcme;

#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub addr: SocketAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ConnectError>,
}

/// Facts for `tls.acme` and the path checks.
#[derive(Debug, Clone, Serialize)]
pub struct TcpAcmeFacts {
    /// Addresses that accepted a connection, IPv6 first.
    pub reachable: Vec<SocketAddr>,
    /// The proxy ACME clients here go through for the API host, credentials removed.
    pub proxy: Option<String>,
    pub attempts: Vec<Attempt>,
}

impl Check for TcpAcme {
    fn id(&self) -> &'static str {
        "tcp.acme"
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
    let port = ctx.plan.ca.api_port();
    let host = ctx.plan.ca.api_host().to_string();
    let addrs: Vec<SocketAddr> = dns
        .addrs()
        .into_iter()
        .filter(|ip| ctx.plan.family.allows(ip))
        .map(|ip| SocketAddr::new(ip, port))
        .collect();
    let timeout = ctx.plan.timeout;
    let attempts: Vec<Attempt> = futures_join(addrs.iter().map(|&addr| async move {
        match tcp::connect(addr, timeout).await {
            Ok((_stream, rtt)) => Attempt {
                addr,
                connect_ms: Some(rtt.as_millis() as u64),
                error: None,
            },
            Err(e) => Attempt {
                addr,
                connect_ms: None,
                error: Some(e),
            },
        }
    }))
    .await;

    let proxy = ProxyEnv::from_env().for_host(&host).map(|p| p.display());
    let reachable: Vec<SocketAddr> = attempts
        .iter()
        .filter(|a| a.error.is_none())
        .map(|a| a.addr)
        .collect();
    let mut out = Outcome::new(summary(&attempts));
    for a in &attempts {
        let v = match (&a.connect_ms, &a.error) {
            (Some(ms), _) => format!("connected in {ms} ms"),
            (_, Some(e)) => e.to_string(),
            _ => String::new(),
        };
        out.evidence(format!("{}", a.addr), v, Sensitivity::Public);
    }

    let mut findings = diagnose(&host, &attempts);
    if let Some(p) = &proxy {
        if !findings.is_empty() {
            // Through a proxy the direct path is irrelevant to issuance; say so once and keep the
            // direct results as information.
            let lines: Vec<String> = findings.iter().map(|f| f.summary.clone()).collect();
            findings = vec![finding(
                "tcp.acme.direct-blocked-proxy-used",
                format!(
                    "direct connections fail ({}); clients here go through the proxy {p}",
                    lines.join("; ")
                ),
            )];
        }
    }
    for f in findings {
        out.finding(f);
    }
    // acme.directory explains its own connect timeout with these when every address failed.
    let out = out.with_measured(attempts.clone());
    if reachable.is_empty() && proxy.is_none() {
        return out;
    }
    out.with_facts(TcpAcmeFacts {
        reachable,
        proxy,
        attempts,
    })
}

/// Runs futures concurrently and returns their outputs in order.
async fn futures_join<F: std::future::Future<Output = Attempt> + Send + 'static>(
    futs: impl Iterator<Item = F>,
) -> Vec<Attempt> {
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        if let Ok(a) = h.await {
            out.push(a);
        }
    }
    out
}

fn summary(attempts: &[Attempt]) -> String {
    attempts
        .iter()
        .map(|a| match (&a.connect_ms, &a.error) {
            (Some(ms), _) => format!("{} ok {ms} ms", a.addr),
            (_, Some(e)) => format!("{} {}", a.addr, e.label()),
            _ => a.addr.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn family(attempts: &[Attempt], v6: bool) -> Vec<&Attempt> {
    attempts.iter().filter(|a| a.addr.is_ipv6() == v6).collect()
}

/// Whether a connect error is of one kind (refused, timed out, unreachable).
type IsKind = fn(&ConnectError) -> bool;

fn failed<'a>(list: &[&'a Attempt]) -> Vec<&'a Attempt> {
    list.iter().copied().filter(|a| a.error.is_some()).collect()
}

fn describe(list: &[&Attempt]) -> String {
    list.iter()
        .map(|a| match &a.error {
            Some(e) => format!("{}: {e}", a.addr),
            None => format!("{}: connected", a.addr),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Turns per-address results into findings, worst first.
fn diagnose(host: &str, attempts: &[Attempt]) -> Vec<Finding> {
    let v4 = family(attempts, false);
    let v6 = family(attempts, true);
    let ok = |l: &[&Attempt]| l.iter().any(|a| a.error.is_none());
    let mut out = Vec::new();

    if !ok(&v4) && !ok(&v6) {
        let all = failed(attempts.iter().collect::<Vec<_>>().as_slice());
        // One finding per way of failing: a reset, silence and an ICMP unreachable have
        // different causes and fixes, even when different families fail differently.
        let kinds: [(&str, IsKind); 3] = [
            ("tcp.acme.refused", |e| matches!(e, ConnectError::Refused)),
            ("tcp.acme.timeout", |e| {
                matches!(e, ConnectError::Timeout { .. })
            }),
            ("tcp.acme.unreachable", |e| {
                matches!(
                    e,
                    ConnectError::Unreachable { .. } | ConnectError::Local { .. }
                )
            }),
        ];
        for (code, pred) in kinds {
            let group: Vec<&Attempt> = all
                .iter()
                .copied()
                .filter(|a| a.error.as_ref().is_some_and(pred))
                .collect();
            if group.is_empty() {
                continue;
            }
            let mut f = finding(
                code,
                format!("no address of {host} accepts TCP: {}", describe(&group)),
            );
            for a in &group {
                f = f.with(
                    a.addr.to_string(),
                    a.error.as_ref().map(|e| e.to_string()).unwrap_or_default(),
                    Sensitivity::Public,
                );
            }
            out.push(f);
        }
        return out;
    }

    let no_route = |l: &[&Attempt]| {
        !l.is_empty()
            && l.iter().all(|a| {
                matches!(&a.error, Some(ConnectError::Unreachable { message }) if message.contains("etwork is unreachable"))
                    || matches!(&a.error, Some(ConnectError::Local { .. }))
            })
    };
    if !v6.is_empty() && !ok(&v6) {
        if no_route(&v6) {
            out.push(finding(
                "tcp.acme.no-ipv6-route",
                format!(
                    "IPv6 to {host} fails at once ({}); IPv4 works",
                    describe(&v6)
                ),
            ));
        } else {
            out.push(finding(
                "tcp.acme.ipv6-broken",
                format!(
                    "IPv6 fails ({}) while IPv4 works ({})",
                    describe(&v6),
                    describe(&v4)
                ),
            ));
        }
    } else if !v4.is_empty() && !ok(&v4) {
        let f = finding(
            "tcp.acme.ipv4-broken",
            format!(
                "IPv4 fails ({}) while IPv6 works ({})",
                describe(&v4),
                describe(&v6)
            ),
        );
        out.push(if no_route(&v4) {
            f.severity(Severity::Info)
        } else {
            f
        });
    }
    for (name, fam) in [("IPv4", &v4), ("IPv6", &v6)] {
        if ok(fam) && !failed(fam).is_empty() {
            out.push(finding(
                "tcp.acme.partial",
                format!(
                    "{name}: {} of {} addresses fail ({})",
                    failed(fam).len(),
                    fam.len(),
                    describe(fam)
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(addr: &str, err: Option<ConnectError>) -> Attempt {
        Attempt {
            addr: addr.parse().unwrap(),
            connect_ms: err.is_none().then_some(10),
            error: err,
        }
    }
    fn codes(f: Vec<Finding>) -> Vec<String> {
        f.into_iter().map(|f| f.code).collect()
    }

    #[test]
    fn healthy_is_quiet() {
        assert!(diagnose(
            "h",
            &[at("198.51.100.1:443", None), at("[2001:db8::1]:443", None)]
        )
        .is_empty());
    }

    #[test]
    fn each_failure_mode_is_named_when_everything_fails() {
        let a = [
            at("198.51.100.1:443", Some(ConnectError::Refused)),
            at("[2001:db8::1]:443", Some(ConnectError::Timeout { ms: 5 })),
        ];
        assert_eq!(
            codes(diagnose("h", &a)),
            ["tcp.acme.refused", "tcp.acme.timeout"]
        );
    }

    #[test]
    fn ipv6_blackhole_vs_no_route() {
        let t = [
            at("198.51.100.1:443", None),
            at("[2001:db8::1]:443", Some(ConnectError::Timeout { ms: 5 })),
        ];
        assert_eq!(codes(diagnose("h", &t)), ["tcp.acme.ipv6-broken"]);
        let nr = ConnectError::Unreachable {
            message: "Network is unreachable (os error 101)".into(),
        };
        let n = [
            at("198.51.100.1:443", None),
            at("[2001:db8::1]:443", Some(nr)),
        ];
        assert_eq!(codes(diagnose("h", &n)), ["tcp.acme.no-ipv6-route"]);
    }

    #[test]
    fn unreachable_and_ipv4_broken() {
        let icmp = || {
            Some(ConnectError::Unreachable {
                message: "No route to host (os error 113)".into(),
            })
        };
        assert_eq!(
            codes(diagnose("h", &[at("198.51.100.1:443", icmp())])),
            ["tcp.acme.unreachable"]
        );
        let a = [
            at("198.51.100.1:443", icmp()),
            at("[2001:db8::1]:443", None),
        ];
        let f = diagnose("h", &a);
        assert_eq!(f[0].code, "tcp.acme.ipv4-broken");
        assert_eq!(f[0].severity, Severity::Warn);
    }

    #[test]
    fn os_errors_map_to_wire_outcomes() {
        use std::io::{Error, ErrorKind};
        assert_eq!(
            tcp::classify(&Error::from_raw_os_error(113)).label(),
            "unreachable"
        );
        assert_eq!(
            tcp::classify(&Error::from_raw_os_error(101)).label(),
            "unreachable"
        );
        assert_eq!(
            tcp::classify(&Error::from(ErrorKind::ConnectionRefused)).label(),
            "refused"
        );
    }

    #[test]
    fn partial_within_family() {
        let a = [
            at("198.51.100.1:443", None),
            at("198.51.100.2:443", Some(ConnectError::Timeout { ms: 5 })),
        ];
        assert_eq!(codes(diagnose("h", &a)), ["tcp.acme.partial"]);
    }
}

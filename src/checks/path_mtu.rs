//! `path.mtu`: does the server's first large flight (its certificate chain) reach us, and if
//! not, which segment size does?

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use socket2::SockRef;

use crate::checks::tcp_acme::TcpAcmeFacts;
use crate::engine::{finding, BoxFuture, Check, Ctx, FindingExt, Outcome};
use crate::net::tls::{self, TlsError, Versions};
use crate::plan::Plan;
use crate::report::model::{Finding, Sensitivity};

pub struct PathMtu;

/// Clamped maximum segment sizes tried after a stall, largest first.
const CLAMPS: [u32; 4] = [1400, 1200, 1000, 536];

#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    /// The MSS we advertised (`None`: the kernel's default).
    pub clamp: Option<u32>,
    /// The MSS in effect once connected.
    pub mss: Option<u32>,
    /// The kernel's path MTU estimate (IPv4 only).
    pub path_mtu: Option<u32>,
    pub outcome: String,
    pub completed: bool,
    pub stalled: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PathMtuFacts {
    pub target: SocketAddr,
    pub probes: Vec<Probe>,
}

fn wait(plan: &Plan) -> Duration {
    plan.timeout.min(Duration::from_secs(4))
}

impl Check for PathMtu {
    fn id(&self) -> &'static str {
        "path.mtu"
    }

    fn needs(&self) -> &'static [&'static str] {
        &["tcp.acme"]
    }

    /// One handshake, then the clamped ones in parallel.
    fn deadline(&self, plan: &Plan) -> Duration {
        wait(plan) * 2 + plan.timeout * 2 + Duration::from_secs(1)
    }

    fn run(&self, ctx: Arc<Ctx>) -> BoxFuture<'static, Outcome> {
        Box::pin(async move { run(&ctx).await })
    }
}

async fn run(ctx: &Ctx) -> Outcome {
    let tcp = ctx
        .facts::<TcpAcmeFacts>("tcp.acme")
        .expect("runner guarantees tcp.acme facts");
    let Some(target) = tcp.reachable.first().copied() else {
        return Outcome::skipped("no address accepted TCP directly (clients here use a proxy)");
    };
    let host = ctx.plan.ca.api_host().to_string();
    let (timeout, wait) = (ctx.plan.timeout, wait(&ctx.plan));
    let first = probe(target, &host, None, timeout, wait).await;
    let mut probes = vec![first.clone()];
    if first.stalled {
        let handles: Vec<_> = CLAMPS
            .iter()
            .map(|&m| {
                let h = host.clone();
                tokio::spawn(async move { probe(target, &h, Some(m), timeout, wait).await })
            })
            .collect();
        for h in handles {
            if let Ok(p) = h.await {
                probes.push(p);
            }
        }
    }
    let mut out = Outcome::new(summary(target, &probes));
    for p in &probes {
        out.evidence(
            match p.clamp {
                Some(m) => format!("handshake with MSS clamped to {m}"),
                None => "handshake with the default MSS".into(),
            },
            p.outcome.clone(),
            Sensitivity::Public,
        );
    }
    for f in diagnose(target, &probes) {
        out.finding(f);
    }
    out.with_facts(PathMtuFacts { target, probes })
}

/// One TLS handshake over a fresh connection, optionally with a clamped MSS.
async fn probe(
    target: SocketAddr,
    host: &str,
    clamp: Option<u32>,
    timeout: Duration,
    wait: Duration,
) -> Probe {
    let mut p = Probe {
        clamp,
        mss: None,
        path_mtu: None,
        outcome: String::new(),
        completed: false,
        stalled: false,
    };
    let sock = match if target.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    } {
        Ok(s) => s,
        Err(e) => {
            p.outcome = format!("cannot create a socket: {e}");
            return p;
        }
    };
    if let Some(m) = clamp {
        if let Err(e) = SockRef::from(&sock).set_tcp_mss(m) {
            p.outcome = format!("cannot set TCP_MAXSEG {m}: {e}");
            return p;
        }
    }
    let stream = match tokio::time::timeout(timeout, sock.connect(target)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            p.outcome = format!("TCP connect failed: {e}");
            return p;
        }
        Err(_) => {
            p.outcome = format!("TCP connect timed out after {} ms", timeout.as_millis());
            return p;
        }
    };
    p.mss = SockRef::from(&stream).tcp_mss().ok();
    if target.is_ipv4() {
        p.path_mtu = nix::sys::socket::getsockopt(&stream, nix::sys::socket::sockopt::IpMtu)
            .ok()
            .map(|m| m as u32);
    }
    // Verification is tls.acme's job; here only whether the server's flight arrives matters.
    let attempt = tls::handshake(stream, host, Versions::Modern, &[], wait).await;
    match attempt.result {
        Ok(n) => {
            p.completed = true;
            p.outcome = format!(
                "{} completed in {} ms (MSS {})",
                n.version,
                n.elapsed_ms,
                p.mss.map(|m| m.to_string()).unwrap_or_else(|| "?".into())
            );
        }
        Err(TlsError::Timeout { ms }) => {
            p.stalled = true;
            p.outcome = format!("stalled: no handshake within {ms} ms after TCP connected");
        }
        Err(e) => p.outcome = format!("ended without a stall: {e}"),
    }
    p
}

fn header_overhead(target: SocketAddr) -> u32 {
    if target.is_ipv4() {
        40
    } else {
        60
    }
}

fn summary(target: SocketAddr, probes: &[Probe]) -> String {
    let first = &probes[0];
    let mtu = first
        .path_mtu
        .map(|m| format!(", path MTU {m}"))
        .unwrap_or_default();
    if !first.stalled {
        return format!("{target}: {}{mtu}", first.outcome);
    }
    match probes
        .iter()
        .filter(|p| p.completed)
        .filter_map(|p| p.clamp)
        .max()
    {
        Some(m) => format!("{target}: stalls with full-size segments, completes with MSS {m}"),
        None => format!("{target}: stalls with every segment size tried"),
    }
}

/// Findings from the default handshake and, after a stall, the clamped ones.
fn diagnose(target: SocketAddr, probes: &[Probe]) -> Vec<Finding> {
    let Some(first) = probes.first() else {
        return Vec::new();
    };
    let overhead = header_overhead(target);
    if !first.stalled {
        if first.completed {
            if let Some(m) = first.path_mtu.filter(|m| *m < 1500) {
                return vec![finding(
                    "path.mtu.small",
                    format!("path MTU to {target} is {m} bytes; the handshake completed"),
                )];
            }
        }
        return Vec::new();
    }
    let default_mss = first
        .mss
        .map(|m| m.to_string())
        .unwrap_or_else(|| "default".into());
    match probes.iter().filter(|p| p.completed).filter_map(|p| p.clamp).max() {
        Some(best) => {
            let failed: Vec<String> = probes.iter().filter(|p| p.stalled).map(|p| p.clamp.map(|m| m.to_string()).unwrap_or_else(|| default_mss.clone())).collect();
            vec![finding(
                "path.mtu.blackhole",
                format!(
                    "{target}: TCP connects but the TLS handshake stalls with MSS {}; it completes with MSS {best}: the path MTU is between {} and {} bytes and ICMP 'packet too big' does not come back",
                    failed.join(", "),
                    best + overhead,
                    failed.iter().filter_map(|f| f.parse::<u32>().ok()).filter(|f| *f > best).min().map(|f| f + overhead - 1).unwrap_or(1500)
                ),
            )
            .with("largest MSS that passes", best.to_string(), Sensitivity::Public)]
        }
        None => vec![finding(
            "path.mtu.stall-not-mtu",
            format!("{target}: the handshake stalls with MSS {default_mss} and with every clamp down to {}", CLAMPS[CLAMPS.len() - 1]),
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(clamp: Option<u32>, completed: bool) -> Probe {
        Probe {
            clamp,
            mss: Some(clamp.unwrap_or(1460)),
            path_mtu: None,
            outcome: String::new(),
            completed,
            stalled: !completed,
        }
    }

    #[test]
    fn names_the_largest_size_that_passes() {
        let t: SocketAddr = "198.51.100.7:443".parse().unwrap();
        let f = diagnose(
            t,
            &[
                p(None, false),
                p(Some(1400), false),
                p(Some(1200), true),
                p(Some(1000), true),
                p(Some(536), true),
            ],
        );
        assert_eq!(f[0].code, "path.mtu.blackhole");
        assert!(
            f[0].summary.contains("completes with MSS 1200"),
            "{}",
            f[0].summary
        );
        assert!(
            f[0].summary.contains("between 1240 and 1439"),
            "{}",
            f[0].summary
        );
    }

    #[test]
    fn healthy_small_and_not_mtu() {
        let t: SocketAddr = "198.51.100.7:443".parse().unwrap();
        assert!(diagnose(t, &[p(None, true)]).is_empty());
        let mut small = p(None, true);
        small.path_mtu = Some(1420);
        assert_eq!(diagnose(t, &[small])[0].code, "path.mtu.small");
        let all: Vec<Probe> = std::iter::once(p(None, false))
            .chain(CLAMPS.iter().map(|m| p(Some(*m), false)))
            .collect();
        assert_eq!(diagnose(t, &all)[0].code, "path.mtu.stall-not-mtu");
    }
}

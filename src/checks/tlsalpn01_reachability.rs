//! `tlsalpn01.reachability`: does port 443 of every address answer a TLS 1.2+ handshake for the
//! name, and is anything (a CDN) in front that would make tls-alpn-01 impossible?
//!
//! The `acme-tls/1` protocol itself can only be answered by the ACME client while it holds the
//! validation certificate, so this check tests the path to port 443 and what answers there.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::checks::http01_reachability::{addr_sensitivity, cdn, join_all};
use crate::engine::{finding, BoxFuture, Check, Ctx, FindingExt, Outcome};
use crate::identifier::Identifier;
use crate::net::tcp;
use crate::net::validation::{
    self, dial_error, http_get, tls_connect, tls_info, FetchError, TlsInfo,
};
use crate::plan::{Challenge, Plan};
use crate::report::model::{Finding, Severity};

pub struct TlsAlpn01Reachability;

impl Check for TlsAlpn01Reachability {
    fn id(&self) -> &'static str {
        "tlsalpn01.reachability"
    }

    fn applies(&self, plan: &Plan) -> Result<(), String> {
        if plan.identifiers.is_empty() {
            return Err("no domain or IP given".into());
        }
        if plan.challenge != Challenge::TlsAlpn01 {
            return Err(format!(
                "the plan uses {}, not tls-alpn-01",
                plan.challenge.label()
            ));
        }
        if names(plan).is_empty() {
            return Err(
                "a wildcard cannot be validated with tls-alpn-01 (dns-01 is required)".into(),
            );
        }
        Ok(())
    }

    fn deadline(&self, plan: &Plan) -> Duration {
        // DNS, then per-address probes and the CA's order (two attempts) in parallel.
        plan.timeout * 5 + Duration::from_secs(3)
    }

    fn run(&self, ctx: Arc<Ctx>) -> BoxFuture<'static, Outcome> {
        Box::pin(async move { run(&ctx).await })
    }
}

fn names(plan: &Plan) -> Vec<String> {
    plan.identifiers
        .iter()
        .filter(|p| !matches!(p.identifier, Identifier::Dns { wildcard: true, .. }))
        .map(|p| p.identifier.value())
        .collect()
}

/// What one address answered.
#[derive(Debug, Clone, Serialize)]
pub struct TlsProbe {
    pub addr: SocketAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsInfo>,
    /// The Server header of an HTTP request over the TLS connection, when one came back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cdn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<FetchError>,
    pub ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct IdentifierFacts {
    pub identifier: String,
    pub probes: Vec<TlsProbe>,
    /// The CA's order: the first AAAA, then the first A after any error.
    pub ca_order: Vec<TlsProbe>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TlsAlpn01ReachabilityFacts {
    pub port: u16,
    pub identifiers: Vec<IdentifierFacts>,
}

async fn probe_addr(addr: SocketAddr, host: &str, dial: Duration, io: Duration) -> TlsProbe {
    let start = Instant::now();
    let mut p = TlsProbe {
        addr,
        tls: None,
        server: None,
        cdn: None,
        error: None,
        ms: 0,
    };
    let r = async {
        let (s, _) = tcp::connect(addr, dial).await.map_err(dial_error)?;
        let deadline = Instant::now() + io;
        let tls = tls_connect(s, host, deadline, &[b"http/1.1"]).await?;
        p.tls = Some(tls_info(&tls));
        // What serves HTTPS here tells whether a CDN terminates TLS. A server that does not
        // speak HTTP over TLS is fine for tls-alpn-01, so a failure here is not an error.
        let url = url::Url::parse(&format!("https://{}/", bracket(host))).ok();
        if let Some(url) = url {
            if let Ok(head) = http_get(tls, &url, deadline, 0).await {
                p.server = validation::header(&head.headers, "server");
                p.cdn = cdn(&head.headers).map(|s| s.to_string());
            }
        }
        Ok::<_, FetchError>(())
    }
    .await;
    p.error = r.err();
    p.ms = start.elapsed().as_millis() as u64;
    p
}

fn bracket(host: &str) -> String {
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(a)) => format!("[{a}]"),
        _ => host.to_string(),
    }
}

async fn run(ctx: &Ctx) -> Outcome {
    let plan = &ctx.plan;
    let port = plan.https_port;
    let dial = validation::DIAL_TIMEOUT.min(plan.timeout);
    let io = plan.timeout;
    let names = names(plan);
    let results = join_all(
        names
            .iter()
            .map(|name| async move {
                let resolved = validation::resolve(&ctx.resolver, plan.family, name).await;
                let per = join_all(
                    resolved
                        .addrs
                        .iter()
                        .map(|ip| probe_addr(SocketAddr::new(*ip, port), name, dial, io))
                        .collect(),
                )
                .await;
                // The CA: the first AAAA, then the first A after *any* error (va/tlsalpn.go).
                let first_v6 = resolved.addrs.iter().find(|a| a.is_ipv6());
                let first_v4 = resolved.addrs.iter().find(|a| a.is_ipv4());
                let mut ca = Vec::new();
                for ip in [first_v6, first_v4].into_iter().flatten() {
                    let p = probe_addr(SocketAddr::new(*ip, port), name, dial, io).await;
                    let ok = p.error.is_none();
                    ca.push(p);
                    if ok {
                        break;
                    }
                }
                (name.clone(), resolved, per, ca)
            })
            .collect(),
    )
    .await;

    let mut out = Outcome::new("");
    let mut facts = TlsAlpn01ReachabilityFacts {
        port,
        identifiers: Vec::new(),
    };
    let mut summary = Vec::new();
    for (name, resolved, per, ca) in results {
        for f in diagnose(&name, &resolved, &per, &ca, port) {
            out.finding(f);
        }
        for p in &per {
            out.evidence(
                format!("{name} at {}", p.addr),
                match (&p.tls, &p.error) {
                    (_, Some(e)) => e.to_string(),
                    (Some(t), None) => format!(
                        "TLS {} in {} ms{}",
                        t.version,
                        p.ms,
                        p.server
                            .as_ref()
                            .map(|s| format!(", Server: {s}"))
                            .unwrap_or_default()
                    ),
                    _ => String::new(),
                },
                addr_sensitivity(&p.addr.ip()),
            );
        }
        let ok = per.iter().filter(|p| p.error.is_none()).count();
        summary.push(format!(
            "{name}: TLS on port {port} at {ok} of {} address(es)",
            per.len()
        ));
        facts.identifiers.push(IdentifierFacts {
            identifier: name,
            probes: per,
            ca_order: ca,
        });
    }
    out.summary = format!(
        "{}; only the ACME client can answer acme-tls/1, during validation",
        summary.join("; ")
    );
    out.with_facts(facts)
}

pub fn error_code(e: &FetchError) -> &'static str {
    match e {
        FetchError::DialTimeout { .. } | FetchError::ReadTimeout { .. } => {
            "tlsalpn01.reachability.timeout"
        }
        FetchError::Refused => "tlsalpn01.reachability.refused",
        FetchError::Unreachable { .. } => "tlsalpn01.reachability.unreachable",
        FetchError::Reset => "tlsalpn01.reachability.reset",
        FetchError::NotTls => "tlsalpn01.reachability.not-tls",
        _ => "tlsalpn01.reachability.handshake-failed",
    }
}

fn diagnose(
    name: &str,
    resolved: &validation::Resolved,
    per: &[TlsProbe],
    ca: &[TlsProbe],
    port: u16,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if resolved.addrs.is_empty() {
        let why = if resolved.errors.is_empty() {
            "no A or AAAA records".to_string()
        } else {
            resolved.errors.join("; ")
        };
        out.push(finding(
            "tlsalpn01.reachability.no-addresses",
            format!("{name}: nothing to probe ({why})"),
        ));
        return out;
    }
    let ca_fails = !ca.iter().any(|p| p.error.is_none());
    let ca_text = match ca.iter().find(|p| p.error.is_none()) {
        Some(p) => format!(
            "In the CA's order (IPv6 first, IPv4 after any error) the handshake succeeds at {}.",
            p.addr
        ),
        None => "In the CA's order (IPv6 first, IPv4 after any error) every attempt fails.".into(),
    };
    for p in per {
        if let Some(e) = &p.error {
            let text = match e {
                FetchError::TlsTooOld => "the server offers no TLS version 1.2 or later".into(),
                other => other.to_string(),
            };
            let f = finding(error_code(e), format!("{name} at {}: {text}", p.addr))
                .detail(ca_text.clone())
                .with(
                    p.addr.to_string(),
                    text.clone(),
                    addr_sensitivity(&p.addr.ip()),
                );
            out.push(f.severity(if ca_fails {
                Severity::Fail
            } else {
                Severity::Warn
            }));
        }
    }
    if let Some(p) = per.iter().find(|p| p.cdn.is_some()) {
        out.push(finding(
            "tlsalpn01.reachability.cdn",
            format!(
                "{name}: port {port} at {} is answered by {} (Server: {}); the CDN terminates TLS, so the CA's acme-tls/1 handshake never reaches your ACME client",
                p.addr,
                p.cdn.as_deref().unwrap_or_default(),
                p.server.as_deref().unwrap_or_default()
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_and_old_tls_have_codes() {
        assert_eq!(
            error_code(&FetchError::Unreachable {
                message: "No route to host".into()
            }),
            "tlsalpn01.reachability.unreachable"
        );
        assert_eq!(
            error_code(&FetchError::TlsTooOld),
            "tlsalpn01.reachability.handshake-failed"
        );
    }
}

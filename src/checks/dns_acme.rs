//! `dns.acme`: does the CA's API host resolve, through the resolver clients here use?

use std::net::IpAddr;
use std::sync::Arc;

use hickory_proto::rr::RecordType;
use serde::Serialize;

use crate::engine::{finding, BoxFuture, Check, Ctx, FindingExt, Outcome};
use crate::net::addr::non_public_range;
use crate::net::dns::{Answer, DnsError};
use crate::plan::IpFamily;
use crate::report::model::{Sensitivity, Severity};

pub struct DnsAcme;

/// Facts for `tcp.acme` and `tls.acme`.
#[derive(Debug, Clone, Serialize)]
pub struct DnsAcmeFacts {
    pub host: String,
    pub resolver: String,
    pub cname_chain: Vec<String>,
    pub ipv4: Vec<IpAddr>,
    pub ipv6: Vec<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv4_error: Option<DnsError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6_error: Option<DnsError>,
    pub elapsed_ms: u64,
}

impl DnsAcmeFacts {
    /// Every address, IPv6 first as dual-stack clients try them.
    pub fn addrs(&self) -> Vec<IpAddr> {
        self.ipv6.iter().chain(self.ipv4.iter()).copied().collect()
    }
}

impl Check for DnsAcme {
    fn id(&self) -> &'static str {
        "dns.acme"
    }

    fn run(&self, ctx: Arc<Ctx>) -> BoxFuture<'static, Outcome> {
        Box::pin(async move { run(&ctx).await })
    }
}

async fn lookup(
    ctx: &Ctx,
    host: &str,
    rtype: RecordType,
    wanted: bool,
) -> Option<Result<Answer, DnsError>> {
    if wanted {
        Some(ctx.resolver.addrs(host, rtype).await)
    } else {
        None
    }
}

async fn run(ctx: &Ctx) -> Outcome {
    let plan = &ctx.plan;
    let host = plan.ca.api_host().to_string();
    let (a, aaaa) = tokio::join!(
        lookup(ctx, &host, RecordType::A, plan.family != IpFamily::V6Only),
        lookup(
            ctx,
            &host,
            RecordType::AAAA,
            plan.family != IpFamily::V4Only
        ),
    );
    let resolver = ctx.resolver.description.clone();
    let mut facts = DnsAcmeFacts {
        host: host.clone(),
        resolver: resolver.clone(),
        cname_chain: Vec::new(),
        ipv4: Vec::new(),
        ipv6: Vec::new(),
        ipv4_error: None,
        ipv6_error: None,
        elapsed_ms: 0,
    };
    for (res, v6) in [(&a, false), (&aaaa, true)] {
        match res {
            Some(Ok(ans)) => {
                if facts.cname_chain.is_empty() {
                    facts.cname_chain = ans.cname_chain.clone();
                }
                facts.elapsed_ms = facts.elapsed_ms.max(ans.elapsed_ms);
                if v6 {
                    facts.ipv6 = ans.addrs.clone()
                } else {
                    facts.ipv4 = ans.addrs.clone()
                }
            }
            Some(Err(e)) => {
                if v6 {
                    facts.ipv6_error = Some(e.clone())
                } else {
                    facts.ipv4_error = Some(e.clone())
                }
            }
            None => {}
        }
    }

    let mut out = Outcome::new("");
    // The resolver's own addresses decide how sensitive it is: a LAN or loopback resolver is
    // private, a public one (1.1.1.1) is not.
    for server in &ctx.resolver.servers {
        let s = if non_public_range(&server.ip()).is_some() {
            Sensitivity::PrivateIp
        } else {
            Sensitivity::Public
        };
        out.evidence("resolver", server.to_string(), s);
    }
    if !facts.cname_chain.is_empty() {
        out.evidence(
            "CNAME chain",
            format!("{host} → {}", facts.cname_chain.join(" → ")),
            Sensitivity::Public,
        );
    }

    let errors: Vec<&DnsError> = [&facts.ipv4_error, &facts.ipv6_error]
        .into_iter()
        .flatten()
        .collect();
    let all = facts.addrs();
    if all.is_empty() {
        // The worst error decides: a definite NXDOMAIN beats an empty AAAA answer.
        let e = errors
            .iter()
            .find(|e| !matches!(e, DnsError::NoRecords { .. }))
            .or(errors.first())
            .copied()
            .cloned()
            .unwrap_or(DnsError::NoRecords { rtype: "A".into() });
        out.summary = format!("{host}: {e}");
        out.finding(error_finding(&host, &resolver, &e));
        return out;
    }

    let custom_ca = plan.ca.name == "custom";
    let odd: Vec<String> = all
        .iter()
        .filter_map(|ip| non_public_range(ip).map(|range| format!("{ip} ({range})")))
        .collect();
    if !odd.is_empty() {
        let mut f = finding(
            "dns.acme.private-answer",
            format!("{host} resolves to {} through {resolver}", odd.join(", ")),
        )
        .with("answers", odd.join(", "), Sensitivity::PrivateIp);
        // A private or test CA (a directory URL given with --ca) may well live on a private
        // network; only the public CAs' names being redirected is a fault.
        if custom_ca {
            f = f.severity(Severity::Info).detail(
                "The CA was given as a directory URL, so a private address may be intended.",
            );
        }
        out.finding(f);
    }
    if facts.ipv6.is_empty() && plan.family == IpFamily::Any {
        let why = facts
            .ipv6_error
            .as_ref()
            .map(|e| e.to_string())
            .unwrap_or_default();
        out.finding(finding(
            "dns.acme.no-aaaa",
            format!("no AAAA for {host} ({why}); clients will use IPv4"),
        ));
    }
    if facts.ipv4.is_empty() && plan.family != IpFamily::V6Only {
        if let Some(e) = &facts.ipv4_error {
            if !matches!(e, DnsError::NoRecords { .. }) {
                out.finding(error_finding(&host, &resolver, e).severity(Severity::Warn));
            }
        }
    }
    out.summary = format!(
        "{} A, {} AAAA in {} ms via {}",
        facts.ipv4.len(),
        facts.ipv6.len(),
        facts.elapsed_ms,
        resolver
    );
    for ip in &all {
        out.evidence(
            if ip.is_ipv4() { "A" } else { "AAAA" },
            ip.to_string(),
            Sensitivity::Public,
        );
    }
    out.with_facts(facts)
}

fn error_finding(host: &str, resolver: &str, e: &DnsError) -> crate::report::model::Finding {
    let code = match e {
        DnsError::NxDomain => "dns.acme.nxdomain",
        DnsError::ServFail => "dns.acme.servfail",
        DnsError::Refused | DnsError::OtherRcode { .. } => "dns.acme.refused",
        DnsError::Timeout { .. } => "dns.acme.timeout",
        DnsError::Unreachable { .. } | DnsError::Other { .. } => "dns.acme.resolver-unreachable",
        DnsError::NoRecords { .. } => "dns.acme.no-addresses",
    };
    finding(code, format!("{host}: {e} (resolver {resolver})")).with(
        "resolver",
        resolver,
        Sensitivity::PrivateIp,
    )
}

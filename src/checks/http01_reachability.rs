//! `http01.reachability`: does `http://<id>/.well-known/acme-challenge/<random>` answer at every
//! address, fetched the way the CA's validation authority fetches it?

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::engine::{finding, BoxFuture, Check, Ctx, FindingExt, Outcome};
use crate::identifier::Identifier;
use crate::net::validation::{self, Answer, FetchError, First, Hop, Trace, Validator};
use crate::plan::{Challenge, Plan};
use crate::report::model::{Finding, Sensitivity, Severity};

pub struct Http01Reachability;

/// The names this check probes, and the wildcards it leaves out.
pub fn http01_names(plan: &Plan) -> (Vec<String>, Vec<String>) {
    let mut names = Vec::new();
    let mut wildcards = Vec::new();
    for p in &plan.identifiers {
        match &p.identifier {
            Identifier::Dns { wildcard: true, .. } => wildcards.push(p.identifier.value()),
            other => names.push(other.value()),
        }
    }
    (names, wildcards)
}

/// Shared applicability of the http-01 checks.
pub fn http01_applies(plan: &Plan) -> Result<(), String> {
    if plan.identifiers.is_empty() {
        return Err("no domain or IP given".into());
    }
    if plan.challenge != Challenge::Http01 {
        return Err(format!(
            "the plan uses {}, not http-01",
            plan.challenge.label()
        ));
    }
    let (names, wildcards) = http01_names(plan);
    if names.is_empty() {
        return Err(format!(
            "{} cannot be validated with http-01 (a wildcard needs dns-01)",
            wildcards.join(", ")
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub addr: IpAddr,
    pub hops: Vec<Hop>,
    pub outcome: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct IdentifierFacts {
    pub identifier: String,
    pub url: String,
    pub addrs: Vec<IpAddr>,
    pub probes: Vec<Probe>,
    /// Boulder's own order: the first AAAA, then the first A after a dial error.
    pub ca_order: Probe,
}

#[derive(Debug, Clone, Serialize)]
pub struct Http01ReachabilityFacts {
    pub identifiers: Vec<IdentifierFacts>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub wildcards_skipped: Vec<String>,
}

impl Check for Http01Reachability {
    fn id(&self) -> &'static str {
        "http01.reachability"
    }

    fn applies(&self, plan: &Plan) -> Result<(), String> {
        http01_applies(plan)
    }

    fn deadline(&self, plan: &Plan) -> Duration {
        // DNS, then the per-address probes and Boulder's order in parallel (each bounded by
        // the chain deadline of 2 × timeout + 1 s).
        plan.timeout * 4 + Duration::from_secs(3)
    }

    fn run(&self, ctx: Arc<Ctx>) -> BoxFuture<'static, Outcome> {
        Box::pin(async move { run(&ctx).await })
    }
}

pub fn validator(ctx: &Ctx) -> Validator {
    let p = &ctx.plan;
    Validator::new(
        ctx.resolver.clone(),
        p.family,
        p.timeout,
        p.http_port,
        p.https_port,
    )
}

/// The result of probing one identifier: per address, and in the CA's order.
pub struct Probed {
    pub name: String,
    pub url: url::Url,
    pub resolved: validation::Resolved,
    pub per_addr: Vec<(IpAddr, Trace)>,
    pub ca: Option<Trace>,
}

/// Fetches `path_token` for `name` at every address and in Boulder's order, concurrently.
pub async fn probe(ctx: &Ctx, v: &Validator, name: &str, token: &str) -> Probed {
    let resolved = validation::resolve(&ctx.resolver, ctx.plan.family, name).await;
    let url = v.challenge_url(name, token);
    let mut handles = Vec::new();
    for ip in &resolved.addrs {
        let (v, url, ip) = (v.clone(), url.clone(), *ip);
        handles.push(tokio::spawn(async move {
            (ip, v.fetch(url, First::Pinned(ip)).await)
        }));
    }
    let ca = if resolved.addrs.is_empty() {
        None
    } else {
        let (v, url) = (v.clone(), url.clone());
        let first = match name.parse::<IpAddr>() {
            Ok(ip) => First::Pinned(ip),
            Err(_) => First::CaOrder,
        };
        Some(tokio::spawn(async move { v.fetch(url, first).await }))
    };
    let mut per_addr = Vec::new();
    for h in handles {
        if let Ok(r) = h.await {
            per_addr.push(r);
        }
    }
    let ca = match ca {
        Some(h) => h.await.ok(),
        None => None,
    };
    Probed {
        name: name.to_string(),
        url,
        resolved,
        per_addr,
        ca,
    }
}

/// `http://a → 301 → https://b → 404 (nginx)` for evidence.
pub fn describe(t: &Trace) -> String {
    let mut parts: Vec<String> = t
        .hops
        .iter()
        .map(|h| {
            let at = h.addr.map(|a| format!(" [{a}]")).unwrap_or_default();
            match h.status {
                Some(s) => format!(
                    "{}{at} → {s}{}",
                    h.url,
                    h.server
                        .as_ref()
                        .map(|s| format!(" (Server: {s})"))
                        .unwrap_or_default()
                ),
                None => format!("{}{at}", h.url),
            }
        })
        .collect();
    if let Err(e) = &t.result {
        parts.push(format!("✗ {e}"));
    }
    parts.join(" ⇒ ")
}

pub fn outcome_label(t: &Trace) -> String {
    match &t.result {
        Ok(a) => format!("{} after {} request(s)", a.status, t.answered()),
        Err(e) => e.to_string(),
    }
}

async fn run(ctx: &Ctx) -> Outcome {
    let (names, wildcards) = http01_names(&ctx.plan);
    let v = validator(ctx);
    let token = validation::random_token();
    // Identifiers are few; probing them one after another would multiply the deadline.
    let handles: Vec<_> = names.iter().map(|n| probe(ctx, &v, n, &token)).collect();
    let probed = join_all(handles).await;

    let mut out = Outcome::new("");
    let mut facts = Http01ReachabilityFacts {
        identifiers: Vec::new(),
        wildcards_skipped: wildcards.clone(),
    };
    if !wildcards.is_empty() {
        out.evidence(
            "not probed",
            format!(
                "{}: a wildcard cannot use http-01 (dns-01 is required)",
                wildcards.join(", ")
            ),
            Sensitivity::Hostname,
        );
    }
    let mut summary = Vec::new();
    let mut probed_any = false;
    for p in &probed {
        for f in diagnose(p, ctx.plan.challenge) {
            out.finding(f);
        }
        for (ip, t) in &p.per_addr {
            probed_any = true;
            out.evidence(
                format!("{} at {ip}", p.name),
                describe(t),
                addr_sensitivity(ip),
            );
        }
        if let Some(ca) = &p.ca {
            out.evidence(
                format!("{} in the CA's order", p.name),
                describe(ca),
                ca.hops
                    .first()
                    .and_then(|h| h.addr)
                    .map(|a| addr_sensitivity(&a.ip()))
                    .unwrap_or(Sensitivity::Public),
            );
        }
        summary.push(summarise(p));
        let probe_facts = |ip: IpAddr, t: &Trace| Probe {
            addr: ip,
            hops: t.hops.clone(),
            outcome: outcome_label(t),
        };
        if let Some(ca) = &p.ca {
            facts.identifiers.push(IdentifierFacts {
                identifier: p.name.clone(),
                url: p.url.to_string(),
                addrs: p.resolved.addrs.clone(),
                probes: p
                    .per_addr
                    .iter()
                    .map(|(ip, t)| probe_facts(*ip, t))
                    .collect(),
                ca_order: probe_facts(
                    ca.hops
                        .first()
                        .and_then(|h| h.addr)
                        .map(|a| a.ip())
                        .unwrap_or(p.resolved.addrs[0]),
                    ca,
                ),
            });
        }
    }
    if probed_any {
        out.finding(finding(
            "http01.reachability.inside-view",
            "these probes ran from this host, not from the CA's validators on the Internet",
        ));
    }
    out.summary = summary.join("; ");
    out.with_facts(facts)
}

/// Polls futures together (there is no `futures` crate here) and returns results in order.
pub async fn join_all<F: std::future::Future>(futs: Vec<F>) -> Vec<F::Output> {
    let mut out = Vec::new();
    // Sequential awaits of already-created futures would not overlap; pin them into a join.
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futs.into_iter().map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if results[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => results[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.extend(results.into_iter().flatten());
    out
}

fn summarise(p: &Probed) -> String {
    if p.per_addr.is_empty() {
        return format!("{}: no address", p.name);
    }
    let per: Vec<String> = p
        .per_addr
        .iter()
        .map(|(ip, t)| match &t.result {
            Ok(a) => format!("{ip} answered {}", a.status),
            Err(e) => format!("{ip} {}", e.label()),
        })
        .collect();
    let ca =
        p.ca.as_ref()
            .map(|t| match &t.result {
                Ok(a) => format!("the CA's order reaches {} ({})", a.addr.ip(), a.status),
                Err(_) => "the CA's order fails".to_string(),
            })
            .unwrap_or_default();
    format!("{}: {}; {ca}", p.name, per.join(", "))
}

/// The identifier's addresses: private ranges are tagged as such, public ones as the domain's
/// own addresses, which strict redaction hides along with the domain.
pub fn addr_sensitivity(ip: &IpAddr) -> Sensitivity {
    if crate::net::addr::non_public_range(ip).is_some() {
        Sensitivity::PrivateIp
    } else {
        Sensitivity::DomainAddress
    }
}

/// The finding code for a fetch that got no usable HTTP answer.
pub fn error_code(e: &FetchError) -> &'static str {
    match e {
        FetchError::DialTimeout { .. } => "http01.reachability.timeout",
        FetchError::Refused => "http01.reachability.refused",
        FetchError::Unreachable { .. } => "http01.reachability.unreachable",
        FetchError::Reset => "http01.reachability.reset",
        FetchError::ReadTimeout { .. } => "http01.reachability.read-timeout",
        FetchError::Redirect(_) | FetchError::Dns { .. } => "http01.reachability.bad-redirect",
        FetchError::NotTls => "http01.reachability.http-on-https-port",
        FetchError::TlsTooOld | FetchError::Tls { .. } => {
            "http01.reachability.https-redirect-failed"
        }
        FetchError::Protocol { .. } => "http01.reachability.bad-response",
    }
}

/// Let's Debug's list: home routers whose own login page answers when port 80 is not forwarded.
const ROUTER_SERVERS: &[&str] = &[
    "micro_httpd",
    "cisco-IOS",
    "LANCOM",
    "Mini web server 1.0 ZTE corp 2005.",
];

fn router(server: &str) -> bool {
    ROUTER_SERVERS
        .iter()
        .any(|r| server == *r || (*r == "LANCOM" && server.starts_with("LANCOM")))
}

/// The CDN named by response headers, if any.
pub fn cdn(h: &hyper::header::HeaderMap) -> Option<&'static str> {
    let server = validation::header(h, "server")
        .unwrap_or_default()
        .to_ascii_lowercase();
    if server.contains("cloudflare") || h.contains_key("cf-ray") {
        Some("Cloudflare")
    } else if server.contains("cloudfront") || h.contains_key("x-amz-cf-id") {
        Some("Amazon CloudFront")
    } else if server.contains("akamaighost") {
        Some("Akamai")
    } else if h
        .get("x-served-by")
        .is_some_and(|v| v.to_str().unwrap_or_default().contains("cache-"))
    {
        Some("Fastly")
    } else {
        None
    }
}

fn contains(body: &[u8], needle: &str) -> bool {
    body.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// nginx ("The plain HTTP request was sent to HTTPS port") and Apache ("speaking plain HTTP to
/// an SSL-enabled server port") error pages: port 80 lands on a TLS listener.
fn plain_http_page(body: &[u8]) -> bool {
    contains(body, "The plain HTTP request was sent to HTTPS port")
        || contains(body, "speaking plain HTTP to an SSL-enabled server port")
}

/// The JavaScript challenge page of nginx's testcookie module.
fn testcookie_page(body: &[u8]) -> bool {
    contains(body, "src=\"/aes.js\"")
        || contains(body, "src=\"/aes.min.js\"")
        || contains(body, "var a=toNumbers")
}

/// Findings for one identifier, worst first.
pub fn diagnose(p: &Probed, challenge: Challenge) -> Vec<Finding> {
    let mut out = Vec::new();
    let name = &p.name;
    if p.resolved.addrs.is_empty() {
        let why = if p.resolved.errors.is_empty() {
            "no A or AAAA records".to_string()
        } else {
            p.resolved.errors.join("; ")
        };
        out.push(finding(
            "http01.reachability.no-addresses",
            format!("{name}: nothing to probe ({why})"),
        ));
        return out;
    }
    let ca_fails = p.ca.as_ref().is_some_and(|t| t.result.is_err());
    let ca_text = p
        .ca
        .as_ref()
        .map(|t| match &t.result {
            Ok(a) => format!(
                "In the CA's order (IPv6 first, IPv4 only after a dial error) the request reaches {} and gets {}.",
                a.addr.ip(),
                a.status
            ),
            Err(_) => format!(
                "In the CA's order (IPv6 first, IPv4 only after a dial error) validation fails: \"{}\".",
                t.ca_message()
            ),
        })
        .unwrap_or_default();
    // An address that fails matters most when the CA's own order fails too; when the CA
    // would fall back to a working address it is a warning.
    let sev = if ca_fails {
        Severity::Fail
    } else {
        Severity::Warn
    };
    let mut answered: Vec<(IpAddr, &Trace, &Answer)> = Vec::new();
    for (ip, t) in &p.per_addr {
        match &t.result {
            Err(e) => {
                let f = finding(
                    error_code(e),
                    format!("{name} at {ip}: {}", t.fetch_message()),
                )
                .detail(format!("{}\n{ca_text}", describe(t)))
                .with(ip.to_string(), e.to_string(), addr_sensitivity(ip));
                out.push(f.severity(sev));
            }
            Ok(a) => {
                answered.push((*ip, t, a));
                let server = a.server().unwrap_or_default();
                let at = format!("{name} at {ip}");
                if plain_http_page(&a.body) {
                    out.push(
                        finding(
                            "http01.reachability.http-on-https-port",
                            format!(
                                "{at}: answered {} with a \"plain HTTP request sent to HTTPS port\" page (Server: {server})",
                                a.status
                            ),
                        )
                        .detail(describe(t)),
                    );
                } else if testcookie_page(&a.body) {
                    out.push(
                        finding(
                            "http01.reachability.nginx-testcookie",
                            format!("{at}: answered {} with nginx testcookie's JavaScript challenge page", a.status),
                        )
                        .detail(describe(t)),
                    );
                } else if router(&server) {
                    out.push(
                        finding(
                            "http01.reachability.router-login",
                            format!("{at}: answered by a router's own web interface (Server: {server}), not your web server"),
                        )
                        .detail(describe(t)),
                    );
                } else if !(200..300).contains(&a.status) && a.status != 404 {
                    out.push(
                        finding(
                            "http01.reachability.unexpected-status",
                            format!(
                                "{at}: {} from {} (the CA needs 200 with the token; a healthy server answers 404 for an unknown token)",
                                a.status, a.url
                            ),
                        )
                        .detail(describe(t)),
                    );
                }
                if let Some(c) = cdn(&a.headers) {
                    let meaning = match challenge {
                        Challenge::Http01 => "http-01 works only if it passes /.well-known/acme-challenge/ through to the origin; tls-alpn-01 cannot work through it",
                        Challenge::TlsAlpn01 => "tls-alpn-01 cannot work through it",
                        Challenge::Dns01 => "dns-01 is not affected",
                    };
                    if !out
                        .iter()
                        .any(|f| f.code == "http01.reachability.cdn" && f.summary.contains(name))
                    {
                        out.push(finding(
                            "http01.reachability.cdn",
                            format!("{at}: served through {c} (Server: {server}); {meaning}"),
                        ));
                    }
                }
            }
        }
    }
    if answered.len() > 1 {
        let sig = |t: &Trace, a: &Answer| (a.status, a.server(), t.answered());
        let first = sig(answered[0].1, answered[0].2);
        if answered.iter().any(|(_, t, a)| sig(t, a) != first) {
            let each: Vec<String> = answered
                .iter()
                .map(|(ip, t, a)| {
                    format!(
                        "{ip}: {} (Server: {}, {} request(s))",
                        a.status,
                        a.server().unwrap_or_else(|| "none".into()),
                        t.answered()
                    )
                })
                .collect();
            out.push(finding(
                "http01.reachability.discrepancy",
                format!("{name}: addresses answer differently: {}", each.join("; ")),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_and_tls_errors_have_codes() {
        assert_eq!(
            error_code(&FetchError::Unreachable {
                message: "No route to host".into()
            }),
            "http01.reachability.unreachable"
        );
        assert_eq!(
            error_code(&FetchError::TlsTooOld),
            "http01.reachability.https-redirect-failed"
        );
        assert_eq!(
            error_code(&FetchError::NotTls),
            "http01.reachability.http-on-https-port"
        );
    }

    #[test]
    fn page_detectors() {
        assert!(plain_http_page(
            b"<center>The plain HTTP request was sent to HTTPS port</center>"
        ));
        assert!(plain_http_page(
            b"Reason: You're speaking plain HTTP to an SSL-enabled server port.<br />"
        ));
        assert!(testcookie_page(
            b"<script type=\"text/javascript\" src=\"/aes.min.js\" ></script>"
        ));
        assert!(router("micro_httpd") && router("LANCOM 1781VA") && !router("nginx"));
    }
}

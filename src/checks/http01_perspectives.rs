//! `http01.perspectives`: the challenge URL fetched from many places on the Internet through a
//! public probe network (Globalping), judged by the CA's multi-perspective quorum. Also the
//! shared analysis used by `tlsalpn01.perspectives` and `dns01.perspectives`.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use url::Url;

use crate::checks::http01_reachability::{http01_applies, http01_names};
use crate::engine::{finding, BoxFuture, Check, Ctx, FindingExt, Outcome};
use crate::net::validation::{self, is_redirect, next_hop, RedirectRules, MAX_REDIRECTS};
use crate::perspectives::globalping::{advice, Globalping};
use crate::perspectives::quorum::{self, Verdict};
use crate::perspectives::{
    self, Backend, BackendError, Failure, Locations, Place, ProbeResult, Request,
};
use crate::plan::Plan;
use crate::report::model::{Finding, Sensitivity, Severity};

pub struct Http01Perspectives;

impl Check for Http01Perspectives {
    fn id(&self) -> &'static str {
        "http01.perspectives"
    }

    fn applies(&self, plan: &Plan) -> Result<(), String> {
        http01_applies(plan)?;
        perspectives::refuse(plan).map_or(Ok(()), Err)
    }

    fn deadline(&self, plan: &Plan) -> Duration {
        // A first measurement and up to a few redirect hops, IPv4 and IPv6 side by side.
        budget(plan) * 4 + Duration::from_secs(5)
    }

    fn run(&self, ctx: Arc<Ctx>) -> BoxFuture<'static, Outcome> {
        Box::pin(async move { run_web(&ctx, Web::Http01).await })
    }
}

/// How long one measurement may take, creation to last poll: real probes give up after about
/// 10 s; a short --timeout shortens it for tests.
pub fn budget(plan: &Plan) -> Duration {
    (plan.timeout * 4).clamp(Duration::from_secs(6), Duration::from_secs(40))
}

/// The probe network for this run.
pub async fn backend(ctx: &Ctx) -> Result<Arc<dyn Backend>, BackendError> {
    let trust = ctx.trust().await;
    Ok(Arc::new(Globalping::new(
        ctx.plan.globalping_url.clone(),
        ctx.plan.globalping_token.clone(),
        (*trust.store).clone(),
        ctx.plan.timeout.max(Duration::from_secs(3)),
        budget(&ctx.plan),
    )?))
}

/// How a perspective failed, in the words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Failure(Failure),
    Status(u16),
    Rcode(String),
    Redirect(String),
}

impl Mode {
    pub fn label(&self) -> String {
        match self {
            Mode::Failure(f) => f.label().to_string(),
            Mode::Status(403) => "HTTP 403 (a WAF or geo-IP rule)".to_string(),
            Mode::Status(s) => format!("HTTP {s}"),
            Mode::Rcode(r) => r.clone(),
            Mode::Redirect(r) => format!("redirect refused: {r}"),
        }
    }
    /// What a failure mode says about its cause.
    fn cause(&self) -> &'static str {
        match self {
            Mode::Failure(Failure::Timeout) => {
                "packets are silently dropped there (a firewall or geo-IP DROP rule)"
            }
            Mode::Failure(Failure::Refused) | Mode::Failure(Failure::Reset) => {
                "connections are actively rejected there (a firewall REJECT rule or a filtering device)"
            }
            Mode::Status(403) | Mode::Status(451) => {
                "the web server, CDN or WAF answers 403 to those places (geo-IP blocking or bot protection)"
            }
            Mode::Rcode(_) => "the nameserver refuses those places",
            _ => "those places get a different answer",
        }
    }
}

/// One perspective's result for one target.
#[derive(Debug, Clone, Serialize)]
pub struct Perspective {
    pub place: Place,
    pub ok: bool,
    /// What it got: "HTTP 404", "timeout", "NOERROR, 0 answer(s)".
    pub result: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ms: Option<u64>,
    /// The URLs requested, when redirects were followed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<String>,
    /// The probe's own error text, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One target seen from every perspective, and the CA's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct TargetFacts {
    pub target: String,
    pub measurements: Vec<String>,
    pub perspectives: Vec<Perspective>,
    /// Probes that went offline or had no result in time: not counted either way.
    pub no_result: usize,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct PerspectivesFacts {
    pub network: String,
    pub endpoint: String,
    pub targets: Vec<TargetFacts>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_probed: Vec<String>,
}

/// "Frankfurt, DE (AS16509 Amazon): HTTP 404 in 120 ms"
pub fn line(p: &Perspective) -> String {
    let ms = p.ms.map(|m| format!(" in {m} ms")).unwrap_or_default();
    let via = if p.via.len() > 1 {
        format!(" via {}", p.via.join(" → "))
    } else {
        String::new()
    };
    let msg = p
        .message
        .as_ref()
        .map(|m| format!(" ({m})"))
        .unwrap_or_default();
    format!("{}: {}{msg}{ms}{via}", p.place.label(), p.result)
}

/// Failures that share a place: the most specific attribute every failing perspective
/// shares and no passing one has, else the failing countries.
fn cluster(ps: &[Perspective]) -> String {
    let failed: Vec<&Perspective> = ps.iter().filter(|p| !p.ok).collect();
    let passed: Vec<&Perspective> = ps.iter().filter(|p| p.ok).collect();
    type Key = fn(&Place) -> String;
    // Places people block by come first; a network shared across countries last.
    let keys: [(&str, Key); 4] = [
        ("country", |p| p.country.clone()),
        ("region", |p| p.region.clone()),
        ("continent", |p| p.continent.clone()),
        ("network", |p| format!("AS{} {}", p.asn, p.network)),
    ];
    for (what, key) in keys {
        let first = key(&failed[0].place);
        if !first.is_empty()
            && failed.iter().all(|p| key(&p.place) == first)
            && !passed.iter().any(|p| key(&p.place) == first)
        {
            return format!("{what} {first}");
        }
    }
    let mut by_country: BTreeMap<String, usize> = BTreeMap::new();
    for p in &failed {
        *by_country.entry(p.place.country.clone()).or_default() += 1;
    }
    let list: Vec<String> = by_country
        .iter()
        .map(|(c, n)| {
            let total = ps.iter().filter(|p| &p.place.country == c).count();
            format!("{c} ({n} of {total})")
        })
        .collect();
    format!("countries {}", list.join(", "))
}

fn modes(ps: &[Perspective]) -> Vec<Mode> {
    let mut m: Vec<Mode> = ps.iter().filter_map(|p| p.mode.clone()).collect();
    m.sort();
    m.dedup();
    m
}

/// Quorum, geo-block and blocked-everywhere findings for one target. `prefix` is the check id;
/// `fix` what to do about it; `sev_cap` the worst severity (a nameserver among several).
pub fn judge(
    prefix: &str,
    target: &str,
    ps: &[Perspective],
    fix: &str,
    sev_cap: Severity,
) -> (Verdict, Vec<Finding>) {
    let verdict = quorum::evaluate(
        &ps.iter()
            .map(|p| (p.ok, quorum::rir(&p.place.country, &p.place.continent)))
            .collect::<Vec<_>>(),
    );
    let mut out = Vec::new();
    if ps.is_empty() {
        return (verdict, out);
    }
    let cap = |s: Severity| s.min(sev_cap);
    let table: Vec<String> = ps.iter().map(line).collect();
    let table = table.join("\n");
    let failed: Vec<&Perspective> = ps.iter().filter(|p| !p.ok).collect();
    let mode_text = modes(ps)
        .iter()
        .map(|m| format!("{} — {}", m.label(), m.cause()))
        .collect::<Vec<_>>()
        .join("; ");
    if failed.len() == ps.len() {
        out.push(
            finding(
                &format!("{prefix}.blocked-everywhere"),
                format!(
                    "{target}: all {} perspectives failed ({}): validation would fail",
                    ps.len(),
                    modes(ps)
                        .iter()
                        .map(Mode::label)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .detail(table.clone())
            .severity(cap(Severity::Fail)),
        );
        return (verdict, out);
    }
    if !verdict.pass {
        out.push(
            finding(
                &format!("{prefix}.quorum-fail"),
                format!(
                    "{target}: validation would fail: {} ({} of {} perspectives reached it)",
                    verdict.reason, verdict.passed, verdict.perspectives
                ),
            )
            .detail(table.clone())
            .severity(cap(Severity::Fail)),
        );
    } else if !failed.is_empty() {
        out.push(
            finding(
                &format!("{prefix}.quorum-at-risk"),
                format!(
                    "{target}: validation would pass ({} of {} perspectives reached it; the CA tolerates {} failure(s) among its {} remote perspectives), but {} more failing place(s) would fail it",
                    verdict.passed,
                    verdict.perspectives,
                    verdict.allowed_failures,
                    verdict.ca_remotes,
                    verdict.allowed_failures + 1 - failed.len().min(verdict.allowed_failures),
                ),
            )
            .detail(table.clone())
            .severity(cap(Severity::Warn)),
        );
    }
    if !failed.is_empty() {
        let places: Vec<String> = failed
            .iter()
            .map(|p| format!("{} [{}]", p.place.label(), p.result))
            .collect();
        out.push(
            finding(
                &format!("{prefix}.geo-block"),
                format!(
                    "{target}: blocked from {}: {}; {mode_text}. Fix: {fix}",
                    cluster(ps),
                    places.join(", ")
                ),
            )
            .detail(table)
            .severity(cap(if verdict.pass {
                Severity::Warn
            } else {
                Severity::Fail
            })),
        );
    }
    (verdict, out)
}

/// A measurement that could not be made.
pub fn api_finding(prefix: &str, network: &str, target: &str, e: &BackendError) -> Finding {
    let code = match e {
        BackendError::RateLimited { .. } => "rate-limited",
        BackendError::NoProbes { .. } => "no-probes",
        _ => "api-error",
    };
    finding(
        &format!("{prefix}.{code}"),
        format!("{network} could not measure {target}: {e}; {}", advice(e)),
    )
}

/// The third party that saw the identifier.
pub fn third_party(prefix: &str, backend: &dyn Backend, names: &[String]) -> Finding {
    finding(
        &format!("{prefix}.third-party"),
        format!(
            "{} ({}) and its volunteer probes were given {} to measure",
            backend.name(),
            backend.endpoint(),
            names.join(", ")
        ),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Web {
    Http01,
    TlsAlpn01,
}

/// Where probing one name stands.
struct Track {
    place: Place,
    via: Vec<Url>,
    result: ProbeResult,
    /// Set when the chain ends in a refused redirect.
    redirect_error: Option<String>,
}

fn request_for(url: &Url, rules: RedirectRules, ip_version: Option<u8>) -> Request {
    let https = url.scheme() == "https";
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Request::Http {
        target: host.to_string(),
        https,
        port: url.port().unwrap_or(if https {
            rules.https_port
        } else {
            rules.http_port
        }),
        path: match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        },
        ip_version: if host.parse::<IpAddr>().is_ok() {
            None
        } else {
            ip_version
        },
    }
}

type Chased = Result<(Vec<String>, Vec<Track>), BackendError>;

/// The CA's address order for one place: IPv6 first; IPv4 after a dial error (HTTP-01) or after
/// any error (TLS-ALPN-01), as Boulder does.
fn ca_order(v6: Option<&Perspective>, v4: Option<&Perspective>, web: Web) -> Option<Perspective> {
    match (v6, v4) {
        (None, None) => None,
        (Some(p), None) | (None, Some(p)) => Some(p.clone()),
        (Some(p6), Some(p4)) => {
            let dial = matches!(
                p6.mode,
                Some(Mode::Failure(
                    Failure::Timeout | Failure::Refused | Failure::Unreachable
                ))
            );
            let falls_back = !p6.ok && (dial || web == Web::TlsAlpn01);
            let used = if falls_back { p4 } else { p6 };
            Some(Perspective {
                result: if falls_back {
                    format!("IPv6 {}, then IPv4 {}", p6.result, p4.result)
                } else {
                    format!("IPv6 {}", p6.result)
                },
                ..used.clone()
            })
        }
    }
}

/// Probes `url` from the spread of locations and follows redirects with further measurements
/// of the same probes, as the CA would (Boulder's rules).
async fn chase(
    backend: &dyn Backend,
    locations: &Locations,
    url: Url,
    rules: RedirectRules,
    ip_version: Option<u8>,
    follow: bool,
    until: tokio::time::Instant,
) -> Chased {
    let first = backend
        .measure(&request_for(&url, rules, ip_version), locations)
        .await?;
    let same = Locations::Same(first.id.clone());
    let mut ids = vec![first.id.clone()];
    let mut tracks: Vec<Track> = first
        .probes
        .into_iter()
        .map(|p| Track {
            place: p.place,
            via: vec![url.clone()],
            result: p.result,
            redirect_error: None,
        })
        .collect();
    if !follow {
        return Ok((ids, tracks));
    }
    for _ in 0..=MAX_REDIRECTS {
        // Which probes were redirected where.
        let mut groups: BTreeMap<String, (Url, Vec<usize>)> = BTreeMap::new();
        for (i, t) in tracks.iter_mut().enumerate() {
            if t.redirect_error.is_some() {
                continue;
            }
            let ProbeResult::Http {
                status,
                location: Some(loc),
                ..
            } = &t.result
            else {
                continue;
            };
            if !is_redirect(*status) {
                continue;
            }
            let current = t.via.last().expect("at least one URL").clone();
            match next_hop(rules, &current, *status, loc, &t.via) {
                Ok(next) => {
                    groups
                        .entry(next.to_string())
                        .or_insert_with(|| (next.clone(), Vec::new()))
                        .1
                        .push(i);
                }
                Err(e) => t.redirect_error = Some(e.to_string()),
            }
        }
        if groups.is_empty() {
            break;
        }
        if tokio::time::Instant::now() >= until {
            // Out of time: the redirected probes have no final result (not a failure).
            for (_, (_, members)) in groups {
                for i in members {
                    tracks[i].result = ProbeResult::Unfinished;
                }
            }
            break;
        }
        for (_, (next, members)) in groups {
            let m = backend
                .measure(&request_for(&next, rules, ip_version), &same)
                .await?;
            ids.push(m.id.clone());
            for i in members {
                let t = &mut tracks[i];
                t.via.push(next.clone());
                // The same probes come back in the same order.
                t.result = m
                    .probes
                    .get(i)
                    .map(|p| p.result.clone())
                    .unwrap_or(ProbeResult::Unfinished);
            }
        }
    }
    Ok((ids, tracks))
}

/// Turns a probe's last answer into a perspective: reached (any answer a healthy server gives
/// for an unknown token) or failed, and how.
fn perspective(t: Track, web: Web) -> Option<Perspective> {
    let via: Vec<String> = t.via.iter().map(|u| u.to_string()).collect();
    let (ok, mode) = match (&t.redirect_error, &t.result) {
        (Some(e), _) => (false, Some(Mode::Redirect(e.clone()))),
        (None, ProbeResult::Offline | ProbeResult::Unfinished) => return None,
        (None, ProbeResult::Http { status, .. }) => {
            let healthy = match web {
                Web::Http01 => *status == 404 || (200..300).contains(status),
                // Any HTTP answer over TLS shows port 443 is open to this place, except a
                // refusal aimed at it.
                Web::TlsAlpn01 => !matches!(status, 403 | 451),
            };
            if healthy && (web == Web::TlsAlpn01 || !is_redirect(*status)) {
                (true, None)
            } else {
                (false, Some(Mode::Status(*status)))
            }
        }
        (None, ProbeResult::Failed { failure, .. }) => (false, Some(Mode::Failure(*failure))),
        (None, ProbeResult::Dns { rcode, .. }) => (false, Some(Mode::Rcode(rcode.clone()))),
    };
    let result = match &t.redirect_error {
        Some(e) => format!("{} then {e}", t.result.label()),
        None => t.result.label(),
    };
    let message = match &t.result {
        ProbeResult::Failed { message, .. } if !message.is_empty() => Some(message.clone()),
        _ => None,
    };
    Some(Perspective {
        place: t.place,
        ok,
        result,
        mode,
        ms: t.result.ms(),
        via,
        message,
    })
}

/// The names a check will send to the probe network, and the ones it keeps to itself.
async fn names_to_probe(ctx: &Ctx, names: &[String]) -> (Vec<(String, Vec<IpAddr>)>, Vec<String>) {
    let mut keep = Vec::new();
    let mut not = Vec::new();
    for n in names {
        let r = validation::resolve(&ctx.resolver, ctx.plan.family, n).await;
        if r.addrs.is_empty() {
            not.push(format!(
                "{n}: no address to probe (see http01.reachability / dns.domain)"
            ));
        } else if perspectives::only_private(&r.addrs) && perspectives::public_default(&ctx.plan) {
            not.push(format!(
                "{n}: resolves only to private or loopback addresses, which public probes cannot reach; not sent to Globalping"
            ));
        } else {
            keep.push((n.clone(), r.addrs));
        }
    }
    (keep, not)
}

pub async fn run_web(ctx: &Ctx, web: Web) -> Outcome {
    let (prefix, names) = match web {
        Web::Http01 => ("http01.perspectives", http01_names(&ctx.plan).0),
        Web::TlsAlpn01 => ("tlsalpn01.perspectives", http01_names(&ctx.plan).0),
    };
    let (targets, not_probed) = names_to_probe(ctx, &names).await;
    if targets.is_empty() {
        return Outcome::skipped(not_probed.join("; "));
    }
    let backend = match backend(ctx).await {
        Ok(b) => b,
        Err(e) => {
            let mut out = Outcome::new(format!("no probe network: {e}"));
            out.finding(api_finding(prefix, "Globalping", &names.join(", "), &e));
            return out;
        }
    };
    let plan = &ctx.plan;
    let rules = RedirectRules {
        http_port: plan.http_port,
        https_port: plan.https_port,
    };
    let locations = Locations::Spread(perspectives::locations(plan.perspectives, &plan.from));
    let token = validation::random_token();
    let until = tokio::time::Instant::now() + budget(plan) * 3;
    let mut jobs = Vec::new();
    for (name, addrs) in &targets {
        let literal = name.parse::<IpAddr>().is_ok();
        let mut families: Vec<Option<u8>> = Vec::new();
        if literal {
            families.push(None);
        } else {
            // Each family on its own, IPv6 first as the CA tries it; IPv4 then reuses the
            // IPv6 probes so the CA's fallback can be judged per place.
            if addrs.iter().any(|a| a.is_ipv6()) {
                families.push(Some(6));
            }
            if addrs.iter().any(|a| a.is_ipv4()) {
                families.push(Some(4));
            }
        }
        let host = if name.contains(':') {
            format!("[{name}]")
        } else {
            name.clone()
        };
        let url = match web {
            Web::Http01 => format!(
                "http://{host}:{}/.well-known/acme-challenge/{token}",
                plan.http_port
            ),
            Web::TlsAlpn01 => format!("https://{host}:{}/", plan.https_port),
        };
        let Ok(url) = Url::parse(&url) else { continue };
        let (backend, spread, name) = (backend.clone(), locations.clone(), name.clone());
        jobs.push(async move {
            let mut done: Vec<(String, Option<u8>, Chased)> = Vec::new();
            for fam in families {
                let label = match fam {
                    Some(6) => format!("{name} over IPv6"),
                    Some(_) => format!("{name} over IPv4"),
                    None => name.clone(),
                };
                let locations = match done.first() {
                    Some((_, _, Ok((ids, _)))) => Locations::Same(ids[0].clone()),
                    _ => spread.clone(),
                };
                let r = chase(
                    backend.as_ref(),
                    &locations,
                    url.clone(),
                    rules,
                    fam,
                    web == Web::Http01,
                    until,
                )
                .await;
                done.push((label, fam, r));
            }
            (name, done)
        });
    }
    let results = crate::checks::http01_reachability::join_all(jobs).await;

    let fix = match web {
        Web::Http01 => "open port 80 for /.well-known/acme-challenge/ to the whole Internet during validation (the CA publishes no address list), or use dns-01",
        Web::TlsAlpn01 => "open port 443 to the whole Internet during validation (the CA publishes no address list), or use dns-01",
    };
    let mut out = Outcome::new("");
    let mut facts = PerspectivesFacts {
        network: backend.name().to_string(),
        endpoint: backend.endpoint(),
        targets: Vec::new(),
        not_probed: not_probed.clone(),
    };
    for n in &not_probed {
        out.evidence("not probed", n.clone(), Sensitivity::Hostname);
    }
    let mut summary = Vec::new();
    for (name, families) in results {
        // With both families the CA falls back to IPv4, so one family alone is a warning and
        // the CA's order decides.
        let both = families.len() > 1;
        let cap = if both { Severity::Warn } else { Severity::Fail };
        let mut per_family: Vec<Vec<Option<Perspective>>> = Vec::new();
        for (label, _fam, r) in families {
            match r {
                Err(e) => {
                    summary.push(format!("{label}: not measured ({})", short(&e)));
                    out.finding(api_finding(prefix, backend.name(), &label, &e));
                }
                Ok((ids, tracks)) => {
                    let total = tracks.len();
                    let all: Vec<Option<Perspective>> =
                        tracks.into_iter().map(|t| perspective(t, web)).collect();
                    let ps: Vec<Perspective> = all.iter().flatten().cloned().collect();
                    if ps.is_empty() {
                        let e = BackendError::Timeout {
                            secs: budget(plan).as_secs(),
                        };
                        out.finding(
                            api_finding(prefix, backend.name(), &label, &e)
                                .detail(format!("{total} probe(s) returned no result in time")),
                        );
                    }
                    let (verdict, findings) = judge(prefix, &label, &ps, fix, cap);
                    for f in findings {
                        out.finding(f);
                    }
                    for p in &ps {
                        out.evidence(format!("{label} from"), line(p), Sensitivity::Hostname);
                    }
                    summary.push(verdict_text(&label, &verdict));
                    facts.targets.push(TargetFacts {
                        target: label,
                        measurements: ids,
                        no_result: total - ps.len(),
                        perspectives: ps,
                        verdict,
                    });
                    per_family.push(all);
                }
            }
        }
        if both && per_family.len() == 2 && per_family[0].len() == per_family[1].len() {
            let label = format!("{name} in the CA's order (IPv6 first, then IPv4)");
            let ps: Vec<Perspective> = per_family[0]
                .iter()
                .zip(&per_family[1])
                .filter_map(|(v6, v4)| ca_order(v6.as_ref(), v4.as_ref(), web))
                .collect();
            let (verdict, findings) = judge(prefix, &label, &ps, fix, Severity::Fail);
            for f in findings {
                if f.severity == Severity::Fail && !f.code.ends_with("geo-block") {
                    out.finding(f);
                }
            }
            summary.push(verdict_text(&label, &verdict));
        }
    }
    let sent: Vec<String> = targets.iter().map(|(n, _)| n.clone()).collect();
    out.finding(third_party(prefix, backend.as_ref(), &sent));
    out.summary = summary.join("; ");
    out.with_facts(facts)
}

pub fn short(e: &BackendError) -> &'static str {
    match e {
        BackendError::RateLimited { .. } => "rate limited",
        BackendError::NoProbes { .. } => "no matching probes",
        BackendError::Invalid { .. } => "request rejected",
        BackendError::Timeout { .. } => "API timeout",
        _ => "API error",
    }
}

pub fn verdict_text(label: &str, v: &Verdict) -> String {
    if v.perspectives == 0 {
        return format!("{label}: no perspective returned a result");
    }
    format!(
        "{label}: {}/{} perspectives reached it in {} RIR(s); validation would {}",
        v.passed,
        v.perspectives,
        v.passing_rirs.len(),
        if v.pass { "pass" } else { "fail" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(country: &str, continent: &str, ok: bool, mode: Option<Mode>) -> Perspective {
        Perspective {
            place: Place {
                country: country.into(),
                continent: continent.into(),
                city: "X".into(),
                asn: 1,
                network: "N".into(),
                ..Default::default()
            },
            ok,
            result: if ok {
                "HTTP 404".into()
            } else {
                "timeout".into()
            },
            mode,
            ms: Some(1),
            via: vec![],
            message: None,
        }
    }

    #[test]
    fn judge_names_clusters() {
        let t = Some(Mode::Failure(Failure::Timeout));
        let ps = vec![
            p("US", "NA", true, None),
            p("DE", "EU", true, None),
            p("SG", "AS", true, None),
            p("BR", "SA", false, t.clone()),
        ];
        let (v, f) = judge("http01.perspectives", "a", &ps, "fix", Severity::Fail);
        assert!(v.pass);
        let geo = f.iter().find(|f| f.code.ends_with("geo-block")).unwrap();
        assert!(geo.summary.contains("country BR"), "{}", geo.summary);
        assert!(geo.summary.contains("dropped"), "{}", geo.summary);
        assert_eq!(geo.severity, Severity::Warn);
        let (_, f) = judge("x", "a", &ps, "fix", Severity::Info);
        assert!(f.iter().all(|f| f.severity == Severity::Info));
    }
}

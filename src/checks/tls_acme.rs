//! `tls.acme`: does a TLS handshake with the CA's API host work, and does the certificate it
//! serves chain to the CA's real root through this machine's trust store?

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustls::pki_types::CertificateDer;
use rustls::{CertificateError, RootCertStore};
use serde::Serialize;

use crate::ca::{ExpectedRoot, RootMatch};
use crate::checks::tcp_acme::TcpAcmeFacts;
use crate::engine::{finding, BoxFuture, Check, Ctx, FindingExt, Outcome};
use crate::net::proxy::{self, ProxyEnv, ProxyError};
use crate::net::tcp::{self, ConnectError};
use crate::net::tls::{
    self, find_anchor, name_matches, rfc3339, Attempt, CertInfo, LegacyReply, Stream, TlsError,
    Versions,
};
use crate::net::trust::{requests_bundles, RootCert, TrustMaterial, TrustSource};
use crate::report::model::{Finding, Sensitivity, Severity};

pub struct TlsAcme;

/// The root a served chain terminates at.
#[derive(Debug, Clone, Serialize)]
pub struct Anchor {
    pub subject: String,
    pub sha256: String,
    pub not_after: String,
    pub in_mozilla: bool,
    /// Whether it is one of the roots the CA's certificate is expected to chain to.
    pub expected: bool,
}

/// Facts for later checks (acme.directory, reports).
#[derive(Debug, Clone, Serialize)]
pub struct TlsAcmeFacts {
    pub host: String,
    pub port: u16,
    /// The address handshaken with, or the proxy tunnelled through.
    pub via: String,
    pub version: String,
    pub cipher: String,
    pub alpn: Option<String>,
    /// Whether a TLS 1.2-only handshake also worked.
    pub tls12: bool,
    pub chain: Vec<CertInfo>,
    pub anchor: Option<Anchor>,
    /// Chain verified against the system store (or --trust-store), name and dates included.
    pub verified_store: bool,
    /// Chain verified against Mozilla's roots (webpki-roots).
    pub verified_mozilla: bool,
    pub store: String,
}

impl Check for TlsAcme {
    fn id(&self) -> &'static str {
        "tls.acme"
    }

    fn needs(&self) -> &'static [&'static str] {
        &["tcp.acme"]
    }

    /// Two handshakes run in parallel (one timeout), then possibly a legacy probe (another).
    fn deadline(&self, plan: &crate::plan::Plan) -> Duration {
        plan.timeout * 3 + Duration::from_secs(1)
    }

    fn run(&self, ctx: Arc<Ctx>) -> BoxFuture<'static, Outcome> {
        Box::pin(async move { run(&ctx).await })
    }
}

/// How connections to the API host are opened.
#[derive(Clone)]
enum Route {
    Direct(Vec<SocketAddr>),
    Proxy(proxy::Proxy),
}

#[derive(Debug)]
enum OpenError {
    Connect(ConnectError),
    /// The CONNECT failure, the proxy (display form, no credentials) and the variable naming it.
    Proxy(ProxyError, String, String),
}

impl Route {
    fn describe(&self) -> String {
        match self {
            Route::Direct(a) => a
                .first()
                .map(|a| a.to_string())
                .unwrap_or_else(|| "no address".into()),
            Route::Proxy(p) => format!("proxy {}", p.display()),
        }
    }

    async fn open(
        &self,
        host: &str,
        port: u16,
        deadline: Duration,
    ) -> Result<(Box<dyn Stream>, String), OpenError> {
        match self {
            Route::Proxy(p) => proxy::connect(p, host, port, deadline)
                .await
                .map(|(t, _)| {
                    (
                        Box::new(t) as Box<dyn Stream>,
                        format!("proxy {}", p.display()),
                    )
                })
                .map_err(|e| OpenError::Proxy(e, p.display(), p.var.clone())),
            Route::Direct(addrs) => {
                let start = Instant::now();
                let mut last = ConnectError::Unreachable {
                    message: "no address accepted TCP".into(),
                };
                for a in addrs {
                    match tcp::connect(*a, deadline.saturating_sub(start.elapsed())).await {
                        Ok((s, _)) => return Ok((Box::new(s) as Box<dyn Stream>, a.to_string())),
                        Err(e) => last = e,
                    }
                }
                Err(OpenError::Connect(last))
            }
        }
    }
}

struct Tried {
    via: String,
    attempt: Result<Attempt, OpenError>,
}

async fn attempt(
    route: &Route,
    host: &str,
    port: u16,
    versions: Versions,
    stores: &[(&'static str, Arc<RootCertStore>)],
    deadline: Duration,
) -> Tried {
    let start = Instant::now();
    match route.open(host, port, deadline).await {
        Err(e) => Tried {
            via: route.describe(),
            attempt: Err(e),
        },
        Ok((stream, via)) => {
            let rest = deadline.saturating_sub(start.elapsed());
            Tried {
                via,
                attempt: Ok(tls::handshake(stream, host, versions, stores, rest).await),
            }
        }
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

async fn run(ctx: &Ctx) -> Outcome {
    let plan = &ctx.plan;
    let host = plan.ca.api_host().to_string();
    let port = plan.ca.api_port();
    let Some(tcp) = ctx.facts::<TcpAcmeFacts>("tcp.acme") else {
        return Outcome::skipped("tcp.acme published no facts");
    };
    let route = match ProxyEnv::from_env().for_host(&host) {
        Some(p) => Route::Proxy(p),
        None if tcp.reachable.is_empty() => {
            return Outcome::skipped(format!(
                "no address of {host} accepted TCP on port {port} (see tcp.acme)"
            ))
        }
        None => Route::Direct(tcp.reachable.clone()),
    };
    let trust = ctx.trust().await;
    let store_label: &'static str = match trust.origin {
        TrustSource::File { .. } => "trust-store",
        _ => "system",
    };
    let stores = [
        (store_label, trust.store.clone()),
        ("mozilla", trust.mozilla.clone()),
    ];
    let t = plan.timeout;
    let (modern, old) = tokio::join!(
        attempt(&route, &host, port, Versions::Modern, &stores, t),
        attempt(&route, &host, port, Versions::Tls12Only, &stores, t),
    );

    let mut out = Outcome::new("");
    out.evidence("trust store", &trust.source, Sensitivity::Path);
    let target = format!("{host}:{port}");
    let via = modern.via.clone();
    match &route {
        Route::Proxy(p) => out.evidence("proxy", p.display(), Sensitivity::PrivateIp),
        Route::Direct(_) => out.evidence("address", &via, Sensitivity::Public),
    }

    let a = match modern.attempt {
        Err(OpenError::Proxy(e, proxy, var)) => {
            out.summary = format!("CONNECT to {target} through {proxy} failed: {e}");
            out.finding(
                finding(
                    "tls.acme.proxy-tunnel",
                    format!("no tunnel to {target} through {proxy} (from {var}): {e}"),
                )
                .with("proxy", proxy, Sensitivity::PrivateIp),
            );
            return out;
        }
        Err(OpenError::Connect(ConnectError::Timeout { ms })) => {
            out.summary = format!("TCP connect to {via} timed out after {ms} ms");
            out.finding(finding(
                "tls.acme.timeout",
                format!(
                    "TCP connect to {via} for the TLS handshake with {host} timed out after {ms} ms"
                ),
            ));
            return out;
        }
        Err(OpenError::Connect(e)) => {
            out.summary = format!("cannot connect to {via}: {e}");
            out.finding(finding(
                "tls.acme.handshake-failed",
                format!("cannot open a connection to {via} for the TLS handshake with {host}: {e}"),
            ));
            return out;
        }
        Ok(a) => a,
    };

    // Stops at the first certificate that is not X.509, so infos[i] is always chain[i] and a
    // broken leaf leaves no infos at all.
    let infos: Vec<CertInfo> = a
        .chain
        .iter()
        .map_while(|c| CertInfo::parse(c.as_ref()).ok())
        .collect();
    let neg = match &a.result {
        Ok(n) => n.clone(),
        Err(e) => {
            let mut f = handshake_failure(e, &route, &host, port, &via, t).await;
            let note = match &old.attempt {
                Ok(Attempt { result: Ok(n), .. }) => Some(format!(
                    "A TLS 1.2-only handshake did succeed ({} {}): something on the path breaks the TLS 1.3 ClientHello, and only clients limited to TLS 1.2 get through.",
                    n.version, n.cipher
                )),
                Ok(Attempt { result: Err(e2), .. }) => {
                    Some(format!("A TLS 1.2-only handshake failed too: {e2}."))
                }
                Err(_) => None,
            };
            if let Some(note) = note {
                f.detail = Some(match f.detail.take() {
                    Some(d) => format!("{d}\n{note}"),
                    None => note,
                });
            }
            out.summary = f.summary.clone();
            out.finding(f);
            return out;
        }
    };

    out.evidence("TLS version", &neg.version, Sensitivity::Public);
    out.evidence("cipher suite", &neg.cipher, Sensitivity::Public);
    out.evidence(
        "ALPN",
        neg.alpn.clone().unwrap_or_else(|| "none".into()),
        Sensitivity::Public,
    );
    for (i, c) in infos.iter().enumerate() {
        out.evidence(
            format!("certificate {i}"),
            format!(
                "{} — issued by {} — {} to {} — SHA-256 {}{}",
                c.subject,
                c.issuer,
                c.not_before,
                c.not_after,
                c.sha256,
                if i == 0 && !c.sct { " — no SCT" } else { "" }
            ),
            Sensitivity::Public,
        );
    }

    let now = unix_now();
    let verdict = |label: &str| {
        a.verdicts
            .iter()
            .find(|v| v.store == label)
            .map(|v| v.result.clone())
            .unwrap_or(Err(rustls::Error::General("not verified".into())))
    };
    let store_verdict = verdict(store_label);
    let mozilla_verdict = verdict("mozilla");
    out.evidence(
        "verification against the trust store",
        verdict_text(&store_verdict),
        Sensitivity::Public,
    );
    out.evidence(
        "verification against Mozilla's roots",
        verdict_text(&mozilla_verdict),
        Sensitivity::Public,
    );

    let search = find_anchor(&a.chain, &infos, &trust.roots);
    let anchor = search.anchor;
    let chain_findings = judge_chain(
        ChainInput {
            host: &host,
            chain: &a.chain,
            infos: &infos,
            anchor,
            near: search.near.as_ref(),
            trust: &trust,
            expected: &plan.expected_roots,
            ca: &plan.ca.display,
            store_verdict: &store_verdict,
            mozilla_verdict: &mozilla_verdict,
            now,
        },
        &mut out,
    );
    for f in chain_findings {
        out.finding(f);
    }

    let tls12 = match &old.attempt {
        Ok(Attempt { result: Ok(_), .. }) => true,
        Ok(Attempt { result: Err(e), .. }) => {
            out.finding(finding(
                "tls.acme.no-tls12",
                format!(
                    "{host} completed a {} handshake, but a TLS 1.2-only handshake failed: {e}",
                    neg.version
                ),
            ));
            false
        }
        Err(_) => false,
    };

    let expected = anchor.is_some_and(|r| {
        plan.expected_roots.is_empty() || plan.expected_roots.iter().any(|e| matches(r, e))
    });
    let facts = TlsAcmeFacts {
        host: host.clone(),
        port,
        via: via.clone(),
        version: neg.version.clone(),
        cipher: neg.cipher.clone(),
        alpn: neg.alpn.clone(),
        tls12,
        chain: infos.clone(),
        anchor: anchor.map(|r| Anchor {
            subject: r.subject.clone(),
            sha256: r.sha256.clone(),
            not_after: rfc3339(r.not_after),
            in_mozilla: r.in_mozilla,
            expected,
        }),
        verified_store: store_verdict.is_ok(),
        verified_mozilla: mozilla_verdict.is_ok(),
        store: trust.source.clone(),
    };
    let verdict = match (facts.verified_store, &facts.anchor) {
        (true, Some(a)) if a.expected => "verified, the CA's root",
        (true, Some(_)) => "verifies here, but not one of the CA's roots",
        (true, None) => "verified",
        (false, _) => "not verified",
    };
    out.summary = format!(
        "{} {} with {target} via {via}{}; chain {} ({verdict})",
        neg.version,
        neg.cipher,
        neg.alpn
            .as_deref()
            .map(|p| format!(", ALPN {p}"))
            .unwrap_or_default(),
        match anchor {
            Some(r) => format!("anchored at {}", r.subject),
            None => "anchored at no root in the store".into(),
        },
    );
    out.with_facts(facts)
}

fn verdict_text(v: &Result<(), rustls::Error>) -> String {
    match v {
        Ok(()) => "verified".into(),
        Err(e) => format!("rejected: {e}"),
    }
}

pub fn matches(root: &RootCert, e: &ExpectedRoot) -> bool {
    match &e.matcher {
        RootMatch::Sha256(h) => root.sha256.eq_ignore_ascii_case(h),
        RootMatch::SubjectCn(cn) => root.in_mozilla && root.cn.as_deref() == Some(cn.as_str()),
    }
}

struct ChainInput<'a> {
    host: &'a str,
    chain: &'a [CertificateDer<'static>],
    infos: &'a [CertInfo],
    anchor: Option<&'a RootCert>,
    near: Option<&'a (&'a RootCert, rustls::Error)>,
    trust: &'a TrustMaterial,
    expected: &'a [ExpectedRoot],
    ca: &'a str,
    store_verdict: &'a Result<(), rustls::Error>,
    mozilla_verdict: &'a Result<(), rustls::Error>,
    now: i64,
}

/// Each way the served chain can be wrong is judged on its own, so that (say) an expired leaf
/// from an interception box reports both.
fn judge_chain(c: ChainInput<'_>, out: &mut Outcome) -> Vec<Finding> {
    let mut fs = Vec::new();
    let host = c.host;
    let Some(leaf) = c.chain.first() else {
        fs.push(finding(
            "tls.acme.handshake-failed",
            format!("{host} completed the handshake without sending a certificate"),
        ));
        return fs;
    };
    let Some(leaf_info) = c.infos.first() else {
        fs.push(finding(
            "tls.acme.chain-rejected",
            format!("the certificate {host} sent is not valid X.509"),
        ));
        return fs;
    };
    let clock = rfc3339(c.now);

    if let Err(e) = name_matches(leaf, host) {
        fs.push(
            finding(
                "tls.acme.name-mismatch",
                format!(
                    "the certificate served for {host} is for {} (subject {}), not {host}",
                    if leaf_info.names.is_empty() {
                        "no DNS name".into()
                    } else {
                        leaf_info.names.join(", ")
                    },
                    leaf_info.subject
                ),
            )
            .detail(e),
        );
    }

    // Only the certificates on the path to the anchor count: a server may also send extra
    // ones (an expired cross-sign) that verifiers skip.
    for i in path(c.infos, c.anchor.map(|r| r.subject_raw.as_slice())) {
        let ci = &c.infos[i];
        let which = if i == 0 {
            "the certificate".to_string()
        } else {
            format!("intermediate {i} ({})", ci.subject)
        };
        if c.now > ci.not_after_unix {
            fs.push(finding(
                "tls.acme.expired",
                format!(
                    "{which} served for {host} expired on {} (valid {} to {}); this machine's clock says {clock}. If this is the CA's real certificate, check the clock (system.clock)",
                    ci.not_after, ci.not_before, ci.not_after
                ),
            ));
            break;
        }
        if c.now < ci.not_before_unix {
            fs.push(finding(
                "tls.acme.not-yet-valid",
                format!(
                    "{which} served for {host} is valid only from {} (valid {} to {}); this machine's clock says {clock}. If this is the CA's real certificate, this clock is behind (see system.clock)",
                    ci.not_before, ci.not_before, ci.not_after
                ),
            ));
            break;
        }
    }

    let top = c.infos.last().unwrap_or(leaf_info);
    match c.anchor {
        Some(root) => {
            out.evidence(
                "anchor",
                format!("{} (SHA-256 {})", root.subject, root.sha256),
                Sensitivity::Public,
            );
            if root.expired_at(c.now) {
                fs.push(finding(
                    "tls.acme.expired-root",
                    format!(
                        "the chain for {host} ends at {} (SHA-256 {}), which expired on {}; this machine's clock says {clock}",
                        root.subject,
                        root.sha256,
                        rfc3339(root.not_after)
                    ),
                ));
            }
            if !c.expected.is_empty() && !c.expected.iter().any(|e| matches(root, e)) {
                let sct = if leaf_info.sct {
                    ""
                } else {
                    " The certificate has no embedded SCTs, which the CA's real certificates always carry."
                };
                let where_ = if root.in_mozilla {
                    "It is a public root in Mozilla's list, but not this CA's: the name may be redirected to another server"
                        .to_string()
                } else {
                    format!(
                        "It is in this machine's store ({}) but not in Mozilla's root list: the mark of a TLS-inspection proxy or antivirus re-signing connections",
                        c.trust.source
                    )
                };
                // Whether ACME clients here get through anyway: the store verifies the chain and
                // every bundle Python requests (certbot) would use also has this root. Then the
                // interception is worth knowing (warn) but does not stop issuance.
                let bundles = requests_bundles(&|k| std::env::var(k).ok());
                let lacking: Vec<String> = bundles
                    .iter()
                    .filter(|b| {
                        !b.roots(&c.trust.mozilla)
                            .iter()
                            .any(|r| r.sha256 == root.sha256)
                    })
                    .map(|b| format!("{} ({})", b.path.display(), b.found))
                    .collect();
                let passes = c.store_verdict.is_ok() && lacking.is_empty();
                let consequence = if passes {
                    " Clients using this store get through, and so does certbot's requests bundle, so issuance works through the inspection box.".to_string()
                } else if !lacking.is_empty() {
                    format!(
                        " The bundle certbot/Python requests use does not trust that root: {}.",
                        lacking.join(", ")
                    )
                } else {
                    String::new()
                };
                let mut f = finding(
                    "tls.acme.intercepted",
                    format!(
                        "the certificate for {host} was issued by {} and chains to {} (SHA-256 {}), not to a root of {} (expected {}). {where_}.{sct}{consequence}",
                        leaf_info.issuer,
                        root.subject,
                        root.sha256,
                        c.ca,
                        c.expected
                            .iter()
                            .map(|e| e.describe())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                );
                if passes {
                    f = f.severity(Severity::Warn);
                }
                fs.push(
                    f.with("leaf issuer", &leaf_info.issuer, Sensitivity::Public)
                        .with("root", &root.subject, Sensitivity::Public)
                        .with("root SHA-256", &root.sha256, Sensitivity::Public)
                        .with(
                            "root in Mozilla's list",
                            root.in_mozilla.to_string(),
                            Sensitivity::Public,
                        ),
                );
            }
        }
        None if c.near.is_some() => {
            if let Some((root, e)) = c.near {
                fs.push(finding(
                    "tls.acme.chain-rejected",
                    format!(
                        "the chain for {host} leads to {} (SHA-256 {}) but is rejected: {e}",
                        root.subject, root.sha256
                    ),
                ));
            }
        }
        None => {
            let sent: Vec<&[u8]> = c.infos.iter().map(|i| i.subject_raw.as_slice()).collect();
            let leaf_issuer_sent = sent.contains(&leaf_info.issuer_raw.as_slice());
            let leaf_issuer_root = !c.trust.roots_named(&leaf_info.issuer_raw).is_empty();
            // A leaf that names where its issuer is published (AIA caIssuers) was issued by an
            // intermediate; one without it may come straight from an unknown root (Pebble's
            // test CA, interception boxes), which is an unknown issuer, not a missing link.
            if !leaf_info.self_issued()
                && !leaf_issuer_sent
                && !leaf_issuer_root
                && !leaf_info.ca_issuers.is_empty()
            {
                fs.push(finding(
                    "tls.acme.incomplete-chain",
                    format!(
                        "{host} sent {} certificate(s) but not the intermediate that issued its certificate ({}, published at {}); that issuer is not a root in {} either, so clients that do not fetch missing intermediates fail",
                        c.infos.len(),
                        leaf_info.issuer,
                        leaf_info.ca_issuers.join(", "),
                        c.trust.source
                    ),
                ));
            } else {
                let mozilla = if c.mozilla_verdict.is_ok() {
                    "it does verify against Mozilla's roots, so this store lacks the CA's root (see trust.store)".to_string()
                } else if c
                    .trust
                    .mozilla
                    .roots
                    .iter()
                    .any(|m| m.subject.as_ref() == strip_seq(&top.issuer_raw))
                {
                    "Mozilla's list has a root of that name, but the chain does not verify against it".to_string()
                } else {
                    "Mozilla's list has no such root either".to_string()
                };
                let sct = if leaf_info.sct {
                    ""
                } else {
                    "; the certificate has no embedded SCTs, which publicly trusted certificates always carry (a private CA, perhaps a TLS-inspection box whose root is not installed)"
                };
                fs.push(finding(
                    "tls.acme.unknown-issuer",
                    format!(
                        "the chain for {host} ends at {} (issued by {}), which is not a root in {} ({} roots); {mozilla}{sct}",
                        top.subject,
                        top.issuer,
                        c.trust.source,
                        c.trust.roots.len(),
                    ),
                ));
            }
        }
    }

    // What rustls rejected for a reason none of the above covers (bad signature, wrong key
    // usage, unsupported algorithm, ...).
    if fs.is_empty() {
        if let Err(e) = c.store_verdict {
            let covered = matches!(
                e,
                rustls::Error::InvalidCertificate(
                    CertificateError::UnknownIssuer
                        | CertificateError::Expired
                        | CertificateError::ExpiredContext { .. }
                        | CertificateError::NotValidYet
                        | CertificateError::NotValidYetContext { .. }
                        | CertificateError::NotValidForName
                        | CertificateError::NotValidForNameContext { .. }
                )
            );
            if !covered || c.anchor.is_none() {
                fs.push(finding(
                    "tls.acme.chain-rejected",
                    format!("the certificate chain for {host} was rejected: {e}"),
                ));
            }
        }
    }
    fs
}

/// Indices of the served certificates from the leaf up the issuer links, stopping where the
/// issuer is `anchor` (or where the links run out).
fn path(infos: &[CertInfo], anchor: Option<&[u8]>) -> Vec<usize> {
    let mut out = Vec::new();
    let mut cur = 0;
    while cur < infos.len() && !out.contains(&cur) {
        out.push(cur);
        let issuer = &infos[cur].issuer_raw;
        if Some(issuer.as_slice()) == anchor || infos[cur].self_issued() {
            break;
        }
        match (0..infos.len()).find(|&j| !out.contains(&j) && infos[j].subject_raw == *issuer) {
            Some(j) => cur = j,
            None => break,
        }
    }
    out
}

/// A DER Name without its outer SEQUENCE header, the form webpki keeps anchor subjects in.
fn strip_seq(name: &[u8]) -> &[u8] {
    if name.len() < 2 || name[0] != 0x30 {
        return name;
    }
    let hdr = match name[1] {
        l if l < 0x80 => 2,
        0x81 => 3,
        0x82 => 4,
        _ => return name,
    };
    name.get(hdr..).unwrap_or(name)
}

/// Turns a failed modern handshake into a finding; for ambiguous failures a second connection
/// sends a TLS 1.0 ClientHello to tell a legacy-only server from a box that drops handshakes.
async fn handshake_failure(
    e: &TlsError,
    route: &Route,
    host: &str,
    port: u16,
    via: &str,
    t: Duration,
) -> Finding {
    let target = format!("{host}:{port}");
    if let TlsError::Timeout { ms } = e {
        return finding(
            "tls.acme.timeout",
            format!("TCP to {via} connected, but the TLS handshake with {target} did not complete within {ms} ms"),
        );
    }
    let needs_probe = matches!(
        e,
        TlsError::LegacyVersion
            | TlsError::Eof
            | TlsError::Reset
            | TlsError::Alert { .. }
            | TlsError::Incompatible { .. }
    );
    let probe = if needs_probe {
        match route.open(host, port, t).await {
            Ok((s, _)) => Some(tls::legacy_probe(s, host, t).await),
            Err(_) => None,
        }
    } else {
        None
    };
    let probe_text = probe
        .as_ref()
        .map(|p| format!("; a TLS 1.0 ClientHello got: {}", p.describe()))
        .unwrap_or_default();
    let legacy_version = match &probe {
        Some(LegacyReply::ServerHello { version }) if *version < 0x0303 => Some(*version),
        _ => None,
    };
    let proto_alert = matches!(
        e,
        TlsError::Alert {
            protocol_version: true,
            ..
        }
    );
    if matches!(e, TlsError::LegacyVersion) || proto_alert || legacy_version.is_some() {
        let spoken = legacy_version
            .map(tls::wire_version)
            .unwrap_or_else(|| "a version below TLS 1.2".into());
        return finding(
            "tls.acme.legacy-only",
            format!(
                "{target} via {via} speaks only {spoken}: the TLS 1.2/1.3 handshake failed ({e}){probe_text}"
            ),
        )
        .detail(format!("modern handshake: {e}{probe_text}"));
    }
    // A reset or close is what happened, whatever a TLS 1.0 hello then got (the same drop, or
    // an answer showing the peer drops only modern hellos); only a legacy ServerHello above
    // explains it differently.
    if matches!(e, TlsError::Eof | TlsError::Reset) {
        let how = if *e == TlsError::Reset {
            "reset the connection (TCP RST)"
        } else {
            "closed the connection without a word"
        };
        return finding(
            "tls.acme.reset",
            format!(
                "TCP to {via} connected, but something {how} as soon as the ClientHello for {host} was sent{probe_text}"
            ),
        );
    }
    finding(
        "tls.acme.handshake-failed",
        format!("the TLS handshake with {target} via {via} failed: {e}{probe_text}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn isrg_x1() -> CertInfo {
        let pem = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/isrg-root-x1.pem"
        ))
        .unwrap();
        let der = rustls_pemfile::certs(&mut pem.as_slice())
            .next()
            .unwrap()
            .unwrap();
        CertInfo::parse(der.as_ref()).unwrap()
    }

    #[test]
    fn names_compare_with_mozilla_anchor_subjects() {
        let x1 = isrg_x1();
        assert!(x1.self_issued() && x1.is_ca);
        let mozilla = webpki_roots::TLS_SERVER_ROOTS;
        assert!(mozilla
            .iter()
            .any(|a| a.subject.as_ref() == strip_seq(&x1.subject_raw)));
        assert!(!mozilla
            .iter()
            .any(|a| a.subject.as_ref() == x1.subject_raw.as_slice()));
    }

    #[test]
    fn path_stops_at_a_self_issued_certificate() {
        let x1 = isrg_x1();
        assert_eq!(path(&[x1.clone(), x1.clone()], None), vec![0]);
        assert_eq!(
            path(std::slice::from_ref(&x1), Some(&x1.subject_raw)),
            vec![0]
        );
        assert!(path(&[], None).is_empty());
    }
}

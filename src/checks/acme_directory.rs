//! `acme.directory`: does the CA's ACME directory answer as an ACME client expects, and does
//! newNonce hand out a nonce? Also records the server's clock and timing for `system.clock`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use url::Url;

use crate::checks::tcp_acme::Attempt;
use crate::engine::{finding, BoxFuture, Check, Ctx, FindingExt, Outcome};
use crate::net::http::{Fetched, HttpClient, HttpError, BODY_CAP};
use crate::net::proxy::{self, ProxyEnv, ProxyError};
use crate::net::tcp::ConnectError;
use crate::plan::Plan;
use crate::report::model::{Finding, Sensitivity, Severity};

pub struct AcmeDirectory;

/// The RFC 8555 §7.1.1 directory. Unknown keys (Let's Encrypt adds a random one) are ignored.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Directory {
    pub new_nonce: Option<String>,
    pub new_account: Option<String>,
    pub new_order: Option<String>,
    pub revoke_cert: Option<String>,
    pub key_change: Option<String>,
    /// RFC 9773 (ARI).
    pub renewal_info: Option<String>,
    /// Optional in RFC 8555; Google Trust Services has it.
    pub new_authz: Option<String>,
    pub meta: Option<Meta>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    pub terms_of_service: Option<String>,
    pub website: Option<String>,
    #[serde(default)]
    pub caa_identities: Vec<String>,
    #[serde(default)]
    pub external_account_required: bool,
    /// Profile name to description or URL (draft-aaron-acme-profiles). Values vary by CA.
    #[serde(default)]
    pub profiles: BTreeMap<String, serde_json::Value>,
}

impl Directory {
    /// The RFC 8555 resources a client needs that this directory lacks.
    pub fn missing(&self) -> Vec<&'static str> {
        [
            ("newNonce", &self.new_nonce),
            ("newAccount", &self.new_account),
            ("newOrder", &self.new_order),
            ("revokeCert", &self.revoke_cert),
            ("keyChange", &self.key_change),
        ]
        .into_iter()
        .filter(|(_, v)| v.as_deref().is_none_or(|s| s.trim().is_empty()))
        .map(|(k, _)| k)
        .collect()
    }
}

/// Facts for `system.clock` and later checks. Published whenever an HTTP response arrived,
/// even an error page, since its Date header still tells the server's time.
#[derive(Debug, Clone, Serialize)]
pub struct DirectoryFacts {
    pub url: String,
    pub status: u16,
    pub http_version: String,
    pub content_type: Option<String>,
    /// The raw Date header.
    pub date_header: Option<String>,
    /// The Date header parsed; `None` when absent or invalid.
    #[serde(skip)]
    pub server_date: Option<SystemTime>,
    /// Local clock when the request was sent and when the response head arrived.
    #[serde(skip)]
    pub sent_at: SystemTime,
    #[serde(skip)]
    pub received_at: SystemTime,
    pub received_at_local: String,
    pub response_ms: u64,
    pub body_bytes: usize,
    pub body_truncated: bool,
    /// Set when the body parsed as a directory.
    pub directory: Option<Directory>,
    pub caa_identities: Vec<String>,
    pub profiles: Vec<String>,
    pub external_account_required: bool,
    pub renewal_info: Option<String>,
    pub nonce: bool,
    /// The proxy the request went through, without credentials.
    pub proxy: Option<String>,
}

impl Check for AcmeDirectory {
    fn id(&self) -> &'static str {
        "acme.directory"
    }

    /// A GET, a HEAD and, when a proxy refuses, one CONNECT to learn its status: three
    /// operations of `plan.timeout` each at most, plus loading the trust store.
    fn deadline(&self, plan: &Plan) -> Duration {
        plan.timeout * 3 + Duration::from_secs(2)
    }

    fn run(&self, ctx: Arc<Ctx>) -> BoxFuture<'static, Outcome> {
        Box::pin(async move { run(&ctx).await })
    }
}

/// RFC 3339 in UTC, to the millisecond.
pub fn rfc3339(t: SystemTime) -> String {
    let ms = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as i128)
        .unwrap_or(0);
    time::OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| format!("{t:?}"))
}

async fn run(ctx: &Ctx) -> Outcome {
    let plan = &ctx.plan;
    let url = plan.ca.directory_url.clone();
    let host = plan.ca.api_host().to_string();
    let proxy = ProxyEnv::from_env().for_host(&host);
    let mut out = Outcome::new("");
    out.evidence("directory", url.as_str(), Sensitivity::Public);
    if let Some(p) = &proxy {
        out.evidence("proxy", p.display(), Sensitivity::Hostname);
    }
    let client = match HttpClient::new(ctx, proxy.clone()).await {
        Ok(c) => c,
        Err(e) => {
            out.summary = e.to_string();
            out.finding(error_finding(&e, &url));
            return out;
        }
    };

    let got = match client.get(&url, BODY_CAP).await {
        Ok(f) => f,
        Err(e) => {
            let e = match (e, &proxy) {
                (HttpError::ProxyRefused { proxy: name, .. }, Some(p)) => {
                    // reqwest does not tell the proxy's status; ask the proxy ourselves.
                    let status =
                        match proxy::connect(p, &host, plan.ca.api_port(), plan.timeout).await {
                            Err(ProxyError::Refused { status }) => Some(status),
                            _ => None,
                        };
                    HttpError::ProxyRefused {
                        proxy: name,
                        status,
                    }
                }
                (e, _) => e,
            };
            out.summary = e.to_string();
            let mut f = error_finding(&e, &url);
            if let Some(icmp) = rejected_by_icmp(ctx, &e, proxy.is_some()).await {
                // Linux treats an ICMP host-unreachable during the handshake as a soft error and
                // keeps retrying the SYN, so the HTTP client only sees its deadline pass;
                // tcp.acme's own connects heard the rejection.
                f = finding(
                    "acme.directory.unreachable",
                    format!("GET {url}: {e}, but the path rejects the connection: tcp.acme heard ICMP unreachable for {icmp}; see tcp.acme and path.trace"),
                )
                .detail(format!("{} ({})", e, e.label()));
            }
            out.finding(f);
            return out;
        }
    };

    let content_type = got.header("content-type");
    let date_header = got.header("date");
    let server_date = date_header
        .as_deref()
        .and_then(|d| httpdate::parse_http_date(d.trim()).ok());
    let mut facts = DirectoryFacts {
        url: url.to_string(),
        status: got.status,
        http_version: got.version.clone(),
        content_type: content_type.clone(),
        date_header,
        server_date,
        sent_at: got.sent_at,
        received_at: got.received_at,
        received_at_local: rfc3339(got.received_at),
        response_ms: got.elapsed.as_millis() as u64,
        body_bytes: got.body.len(),
        body_truncated: got.truncated,
        directory: None,
        caa_identities: Vec::new(),
        profiles: Vec::new(),
        external_account_required: false,
        renewal_info: None,
        nonce: false,
        proxy: proxy.as_ref().map(|p| p.display()),
    };
    let head = format!(
        "{} {} ({}, {} ms)",
        got.status,
        content_type.as_deref().unwrap_or("no content type"),
        got.version,
        facts.response_ms
    );
    out.evidence("response", &head, Sensitivity::Public);

    if let Some(f) = body_finding(&got, &url, content_type.as_deref()) {
        out.summary = f.summary.clone();
        out.finding(f);
        return out.with_facts(facts);
    }
    let dir: Directory = match serde_json::from_slice::<serde_json::Value>(&got.body)
        .map(serde_json::from_value::<Directory>)
    {
        Err(e) => {
            let f = finding(
                "acme.directory.not-json",
                format!(
                    "{url} answered {} but the body is not valid JSON: {e} (line {}, column {}); it starts with {:?}",
                    got.status,
                    e.line(),
                    e.column(),
                    excerpt(&got.body, 80)
                ),
            );
            out.summary = f.summary.clone();
            out.finding(f);
            return out.with_facts(facts);
        }
        Ok(Err(e)) => {
            let f = finding(
                "acme.directory.missing-resources",
                format!("{url} returned JSON that is not an ACME directory: {e}"),
            );
            out.summary = f.summary.clone();
            out.finding(f);
            return out.with_facts(facts);
        }
        Ok(Ok(d)) => d,
    };
    let meta = dir.meta.clone().unwrap_or_default();
    facts.caa_identities = meta.caa_identities.clone();
    facts.profiles = meta.profiles.keys().cloned().collect();
    facts.external_account_required = meta.external_account_required;
    facts.renewal_info = dir.renewal_info.clone();
    facts.directory = Some(dir.clone());

    let missing = dir.missing();
    if !missing.is_empty() {
        out.finding(finding(
            "acme.directory.missing-resources",
            format!(
                "the directory at {url} lacks {} (RFC 8555 §7.1.1)",
                missing.join(", ")
            ),
        ));
    }
    if meta.external_account_required {
        out.finding(finding(
            "acme.directory.eab-required",
            format!(
                "{url} sets meta.externalAccountRequired: accounts need EAB credentials (a key id and HMAC key) from {}",
                plan.ca.display
            ),
        ));
    }

    if let Some(nonce_url) = dir.new_nonce.as_deref().filter(|s| !s.trim().is_empty()) {
        match nonce(&client, nonce_url).await {
            Ok(n) => {
                facts.nonce = true;
                out.evidence(
                    "Replay-Nonce",
                    format!("{} bytes", n.len()),
                    Sensitivity::Public,
                );
            }
            Err(f) => out.finding(f),
        }
    }

    let fails = out
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Fail)
        .count();
    out.summary = if fails == 0 {
        format!(
            "{head}: {} resources, nonce ok{}{}",
            [
                &dir.new_nonce,
                &dir.new_account,
                &dir.new_order,
                &dir.revoke_cert,
                &dir.key_change,
                &dir.renewal_info,
                &dir.new_authz
            ]
            .iter()
            .filter(|r| r.is_some())
            .count(),
            if facts.caa_identities.is_empty() {
                String::new()
            } else {
                format!(", CAA identities {}", facts.caa_identities.join(", "))
            },
            if facts.profiles.is_empty() {
                String::new()
            } else {
                format!(", profiles {}", facts.profiles.join(", "))
            }
        ) + &facts
            .proxy
            .as_deref()
            .map(|p| format!(", via proxy {p}"))
            .unwrap_or_default()
    } else {
        out.findings
            .iter()
            .find(|f| f.severity == Severity::Fail)
            .map(|f| f.summary.clone())
            .unwrap_or_default()
    };
    out.with_facts(facts)
}

/// Status and content checks before parsing: errors, redirects, HTML pages, oversize bodies.
fn body_finding(got: &Fetched, url: &Url, content_type: Option<&str>) -> Option<Finding> {
    let status = got.status;
    if (300..400).contains(&status) {
        let location = got.header("location").unwrap_or_else(|| "nowhere".into());
        return Some(finding(
            "acme.directory.http-error",
            format!("{url} answered {status}, a redirect to {location}; ACME clients expect the directory itself"),
        ).with("Location", location, Sensitivity::Hostname));
    }
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    let looks_html = ct.contains("html") || {
        let start = String::from_utf8_lossy(&got.body[..got.body.len().min(512)])
            .trim_start()
            .to_ascii_lowercase();
        start.starts_with("<!doctype html") || start.starts_with("<html")
    };
    if looks_html {
        let title = html_title(&got.body);
        return Some(finding(
            "acme.directory.html-page",
            format!(
                "{url} answered {status} with an HTML page{} instead of the JSON directory",
                title
                    .as_deref()
                    .map(|t| format!(" titled {t:?}"))
                    .unwrap_or_default()
            ),
        ));
    }
    if status >= 400 {
        return Some(finding(
            "acme.directory.http-error",
            format!("{url} answered {status}: {:?}", excerpt(&got.body, 200)),
        ));
    }
    if let Err(e) = got.complete_body() {
        return Some(finding(
            "acme.directory.not-json",
            format!(
                "{url} answered {status} with a body past the {} KiB cap; a directory is about 1 KiB, so this is not one ({e})",
                BODY_CAP / 1024
            ),
        ));
    }
    None
}

/// HEAD newNonce must answer with a Replay-Nonce header (RFC 8555 §7.2).
async fn nonce(client: &HttpClient, nonce_url: &str) -> Result<String, Finding> {
    let url = Url::parse(nonce_url).map_err(|e| {
        finding(
            "acme.directory.no-nonce",
            format!("newNonce {nonce_url:?} is not a URL: {e}"),
        )
    })?;
    let got = client.head(&url).await.map_err(|e| {
        finding(
            "acme.directory.no-nonce",
            format!("HEAD {url} failed: {}", client.scrub(&e.to_string())),
        )
    })?;
    match got.header("replay-nonce") {
        Some(n) if !n.trim().is_empty() && (200..300).contains(&got.status) => Ok(n),
        Some(_) if !(200..300).contains(&got.status) => Err(finding(
            "acme.directory.no-nonce",
            format!("HEAD {url} answered {} instead of 200/204", got.status),
        )),
        _ => Err(finding(
            "acme.directory.no-nonce",
            format!(
                "HEAD {url} answered {} without a Replay-Nonce header",
                got.status
            ),
        )),
    }
}

/// For a connect timeout without a proxy: the addresses tcp.acme found rejected by ICMP
/// unreachable, when every address it tried was (none reachable, none merely silent).
async fn rejected_by_icmp(ctx: &Ctx, e: &HttpError, via_proxy: bool) -> Option<String> {
    if via_proxy
        || !matches!(
            e,
            HttpError::ConnectTimeout { .. } | HttpError::Timeout { .. }
        )
    {
        return None;
    }
    let attempts = ctx
        .measured_if_run::<Vec<Attempt>>("tcp.acme", Duration::from_secs(1))
        .await?;
    if attempts.is_empty() {
        return None;
    }
    let mut rejected = Vec::new();
    for a in attempts.iter() {
        match &a.error {
            Some(ConnectError::Unreachable { message }) => {
                rejected.push(format!("{} ({message})", a.addr))
            }
            _ => return None,
        }
    }
    Some(rejected.join(", "))
}

fn error_finding(e: &HttpError, url: &Url) -> Finding {
    let see = "see tcp.acme / tls.acme for the diagnosis";
    let (code, summary) = match e {
        HttpError::Timeout { .. } | HttpError::ConnectTimeout { .. } => {
            ("acme.directory.timeout", format!("GET {url}: {e}"))
        }
        HttpError::ProxyUnreachable { .. } => (
            "acme.directory.proxy-unreachable",
            format!("GET {url}: {e}"),
        ),
        HttpError::ProxyRefused { .. } => {
            ("acme.directory.proxy-refused", format!("GET {url}: {e}"))
        }
        HttpError::ProxyAuth { .. } => ("acme.directory.proxy-auth", format!("GET {url}: {e}")),
        HttpError::Dns { .. } => (
            "acme.directory.unreachable",
            format!("GET {url}: {e}; see dns.acme for the diagnosis"),
        ),
        _ => (
            "acme.directory.unreachable",
            format!("GET {url}: {e}; {see}"),
        ),
    };
    finding(code, summary).detail(format!("{} ({})", e, e.label()))
}

/// The first `max` characters of a body, on one line.
fn excerpt(body: &[u8], max: usize) -> String {
    let s = String::from_utf8_lossy(&body[..body.len().min(max * 4)]);
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = one.chars().take(max).collect();
    if one.chars().count() > max {
        out.push('…');
    }
    out
}

/// The text of the first `<title>` element, for naming a captive portal or block page.
fn html_title(body: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(body);
    let lower = s.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let t: String = s[start..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!t.is_empty()).then(|| t.chars().take(120).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lets_encrypt_shape_ignoring_unknown_keys() {
        let d: Directory = serde_json::from_str(
            r#"{"keyChange":"k","newAccount":"a","newNonce":"n","newOrder":"o","revokeCert":"r",
            "renewalInfo":"ri","xY3kQ9aZ1bc":"https://community.letsencrypt.org/t/adding-random-entries-to-the-directory/33417",
            "meta":{"caaIdentities":["letsencrypt.org"],"profiles":{"classic":"c","shortlived":"s"},
            "termsOfService":"t","website":"w"}}"#,
        )
        .unwrap();
        assert!(d.missing().is_empty());
        let m = d.meta.unwrap();
        assert_eq!(m.caa_identities, vec!["letsencrypt.org"]);
        assert!(!m.external_account_required);
        assert_eq!(m.profiles.len(), 2);
    }

    #[test]
    fn reports_missing_resources() {
        let d: Directory = serde_json::from_str(r#"{"newAccount":"a","newOrder":""}"#).unwrap();
        assert_eq!(
            d.missing(),
            vec!["newNonce", "newOrder", "revokeCert", "keyChange"]
        );
    }

    #[test]
    fn title_and_excerpt() {
        assert_eq!(
            html_title(b"<html><head><TITLE>\n Hotel  WiFi Login </title>").as_deref(),
            Some("Hotel WiFi Login")
        );
        assert_eq!(html_title(b"<html><body>no title</body>"), None);
        assert_eq!(excerpt(b"a\n  b c", 3), "a b…");
    }
}

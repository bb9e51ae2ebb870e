//! HTTPS requests made the way an ACME client makes them (reqwest with rustls, the run's trust
//! material, our resolver, the environment's proxies), but bounded: deadlines on connect and on
//! the whole exchange, a capped body read, no redirects followed, and errors classified by what
//! happened on the wire. Proxy credentials never leave this module in a message.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hickory_proto::rr::RecordType;
use reqwest::header::HeaderMap;
use serde::Serialize;
use url::Url;

use crate::engine::Ctx;
use crate::net::dns::{DnsError, Resolver};
use crate::net::proxy::Proxy;
use crate::net::tcp::{self, ConnectError};
use crate::plan::IpFamily;

/// Bodies we read are small JSON documents; anything past this is hostile or not what we asked for.
pub const BODY_CAP: usize = 256 * 1024;

/// What went wrong with a request, as seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum HttpError {
    #[error("cannot resolve {host}: {error}")]
    Dns { host: String, error: DnsError },
    #[error("connection refused (TCP reset) by {target}")]
    ConnectRefused { target: String },
    #[error("{target} unreachable: {message}")]
    Unreachable { target: String, message: String },
    #[error("no connection established with {target} within {ms} ms (the TCP connect or the TLS handshake stalled)")]
    ConnectTimeout { target: String, ms: u64 },
    #[error("TLS handshake with {target} failed: {message}")]
    Tls { target: String, message: String },
    #[error("cannot use the proxy {proxy}: {message}")]
    ProxyUnreachable { proxy: String, message: String },
    #[error("the proxy {proxy} refused to CONNECT{}", status.map(|s| format!(" ({s})")).unwrap_or_default())]
    ProxyRefused { proxy: String, status: Option<u16> },
    #[error("the proxy {proxy} demands authentication (407); credentials {}", if *credentials_sent { "were sent and rejected" } else { "were not supplied" })]
    ProxyAuth {
        proxy: String,
        credentials_sent: bool,
    },
    #[error("no complete response from {target} within {ms} ms")]
    Timeout { target: String, ms: u64 },
    #[error("the body exceeded the {cap} byte cap")]
    BodyTooLarge { cap: usize },
    #[error("{message}")]
    Other { message: String },
}

impl HttpError {
    pub fn label(&self) -> &'static str {
        match self {
            HttpError::Dns { .. } => "dns",
            HttpError::ConnectRefused { .. } => "connect-refused",
            HttpError::Unreachable { .. } => "unreachable",
            HttpError::ConnectTimeout { .. } => "connect-timeout",
            HttpError::Tls { .. } => "tls",
            HttpError::ProxyUnreachable { .. } => "proxy-unreachable",
            HttpError::ProxyRefused { .. } => "proxy-refused",
            HttpError::ProxyAuth { .. } => "proxy-auth",
            HttpError::Timeout { .. } => "timeout",
            HttpError::BodyTooLarge { .. } => "body-too-large",
            HttpError::Other { .. } => "other",
        }
    }
}

/// A response with its timing. The body holds at most the cap.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    /// `HTTP/1.1`, `HTTP/2.0`.
    pub version: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The body went past the cap and reading stopped there.
    pub truncated: bool,
    /// Local wall-clock time when the request was sent and when the response head arrived.
    pub sent_at: SystemTime,
    pub received_at: SystemTime,
    /// From sending to the response head.
    pub elapsed: Duration,
}

impl Fetched {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }

    /// The body, or `BodyTooLarge` when reading stopped at the cap.
    pub fn complete_body(&self) -> Result<&[u8], HttpError> {
        if self.truncated {
            Err(HttpError::BodyTooLarge {
                cap: self.body.len(),
            })
        } else {
            Ok(&self.body)
        }
    }
}

/// A failed DNS lookup inside reqwest, kept typed so classification need not parse text.
#[derive(Debug)]
struct LookupFailed {
    host: String,
    error: DnsError,
}

impl std::fmt::Display for LookupFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot resolve {}: {}", self.host, self.error)
    }
}

impl StdError for LookupFailed {}

/// Hands reqwest our resolver, so `--resolver` and the address family apply to HTTP too.
struct HickoryResolve {
    resolver: Resolver,
    family: IpFamily,
}

impl reqwest::dns::Resolve for HickoryResolve {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = self.resolver.clone();
        let family = self.family;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let v6 = async {
                if family == IpFamily::V4Only {
                    None
                } else {
                    Some(resolver.addrs(&host, RecordType::AAAA).await)
                }
            };
            let v4 = async {
                if family == IpFamily::V6Only {
                    None
                } else {
                    Some(resolver.addrs(&host, RecordType::A).await)
                }
            };
            let (v6, v4) = tokio::join!(v6, v4);
            let mut addrs: Vec<SocketAddr> = Vec::new();
            let mut errors = Vec::new();
            // IPv6 first, as dual-stack clients try it.
            for r in [v6, v4].into_iter().flatten() {
                match r {
                    Ok(a) => addrs.extend(a.addrs.iter().map(|ip| SocketAddr::new(*ip, 0))),
                    Err(e) => errors.push(e),
                }
            }
            if addrs.is_empty() {
                // A definite error (NXDOMAIN, timeout) says more than an empty AAAA answer.
                let error = errors
                    .iter()
                    .find(|e| !matches!(e, DnsError::NoRecords { .. }))
                    .or(errors.first())
                    .cloned()
                    .unwrap_or(DnsError::NoRecords { rtype: "A".into() });
                return Err(Box::new(LookupFailed { host, error }) as _);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Verifies chain, signatures and name like rustls' own verifier but lets validity-period
/// errors through: they say more about the local clock than about the server.
#[derive(Debug)]
struct DateTolerant(Arc<rustls::client::WebPkiServerVerifier>);

impl rustls::client::danger::ServerCertVerifier for DateTolerant {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        use rustls::CertificateError as C;
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                C::Expired
                | C::ExpiredContext { .. }
                | C::NotValidYet
                | C::NotValidYetContext { .. },
            )) => Ok(rustls::client::danger::ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// A client configured like an ACME client's, with this run's trust, resolver and proxy.
pub struct HttpClient {
    client: reqwest::Client,
    /// The proxy the environment applies to the target host (reqwest picks it from the same
    /// variables); used to attribute failures and to scrub credentials.
    proxy: Option<Proxy>,
    timeout: Duration,
    /// Strings that must never appear in a message (proxy user names and passwords).
    secrets: Vec<String>,
}

impl HttpClient {
    /// Builds the client. `proxy` is what `ProxyEnv::from_env().for_host(host)` says applies;
    /// reqwest itself reads HTTPS_PROXY/ALL_PROXY/NO_PROXY as ACME clients do.
    pub async fn new(ctx: &Ctx, proxy: Option<Proxy>) -> Result<HttpClient, HttpError> {
        Self::build(ctx, proxy, false).await
    }

    /// Like `new`, but certificate validity dates are not checked (chain and name still are).
    /// For reading the CA's clock when this machine's clock is so far off that every
    /// certificate looks expired or not yet valid.
    pub async fn new_ignoring_cert_dates(
        ctx: &Ctx,
        proxy: Option<Proxy>,
    ) -> Result<HttpClient, HttpError> {
        Self::build(ctx, proxy, true).await
    }

    async fn build(
        ctx: &Ctx,
        proxy: Option<Proxy>,
        ignore_dates: bool,
    ) -> Result<HttpClient, HttpError> {
        let trust = ctx.trust().await;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| HttpError::Other {
                message: format!("TLS configuration: {e}"),
            })?;
        let mut tls = if ignore_dates {
            let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
                trust.store.clone(),
                provider,
            )
            .build()
            .map_err(|e| HttpError::Other {
                message: format!("TLS verifier: {e}"),
            })?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(DateTolerant(inner)))
                .with_no_client_auth()
        } else {
            builder
                .with_root_certificates(trust.store.clone())
                .with_no_client_auth()
        };
        // reqwest sets ALPN only on configs it builds itself; offer what it would.
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let timeout = ctx.plan.timeout;
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .dns_resolver(Arc::new(HickoryResolve {
                resolver: ctx.resolver.clone(),
                family: ctx.plan.family,
            }))
            .connect_timeout(timeout)
            // A hair longer than the connect deadline, so a peer that never completes the
            // TCP/TLS handshake is reported as such rather than as a slow response.
            .timeout(timeout + Duration::from_millis(250))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("acme-doctor/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::Other {
                message: format!("HTTP client: {e}"),
            })?;
        let secrets = proxy.as_ref().map(secrets_of).unwrap_or_default();
        Ok(HttpClient {
            client,
            proxy,
            timeout,
            secrets,
        })
    }

    pub fn proxy(&self) -> Option<&Proxy> {
        self.proxy.as_ref()
    }

    pub async fn get(&self, url: &Url, cap: usize) -> Result<Fetched, HttpError> {
        self.send(self.client.get(url.clone()), url, cap).await
    }

    pub async fn head(&self, url: &Url) -> Result<Fetched, HttpError> {
        self.send(self.client.head(url.clone()), url, 0).await
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        url: &Url,
        cap: usize,
    ) -> Result<Fetched, HttpError> {
        let start = Instant::now();
        // reqwest's own timeout covers the body too; this outer one only guards against a
        // future that ignores it.
        let deadline = tokio::time::Instant::now() + self.timeout + Duration::from_millis(500);
        let sent_at = SystemTime::now();
        let mut resp = match tokio::time::timeout_at(deadline, req.send()).await {
            Err(_) => return Err(self.timeout_error(url, start)),
            Ok(Err(e)) => return Err(self.classify(&e, url, start)),
            Ok(Ok(r)) => r,
        };
        let received_at = SystemTime::now();
        let elapsed = start.elapsed();
        let status = resp.status().as_u16();
        let version = format!("{:?}", resp.version());
        let headers = resp.headers().clone();
        let mut body = Vec::new();
        let mut truncated = false;
        loop {
            match tokio::time::timeout_at(deadline, resp.chunk()).await {
                Err(_) => return Err(self.timeout_error(url, start)),
                Ok(Err(e)) => return Err(self.classify(&e, url, start)),
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => {
                    let room = cap - body.len();
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        truncated = true;
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
            }
        }
        Ok(Fetched {
            status,
            version,
            headers,
            body,
            truncated,
            sent_at,
            received_at,
            elapsed,
        })
    }

    fn timeout_error(&self, url: &Url, start: Instant) -> HttpError {
        HttpError::Timeout {
            target: target(url),
            ms: start.elapsed().as_millis() as u64,
        }
    }

    /// Scrubs a message of proxy credentials, wherever they came from.
    pub fn scrub(&self, text: &str) -> String {
        scrub(text, &self.secrets)
    }

    fn classify(&self, e: &reqwest::Error, url: &Url, start: Instant) -> HttpError {
        let e = self.classify_raw(e, url, start);
        // Every message passes the scrubber: reqwest and hyper may include URLs in them.
        match e {
            HttpError::Unreachable { target, message } => HttpError::Unreachable {
                target,
                message: self.scrub(&message),
            },
            HttpError::Tls { target, message } => HttpError::Tls {
                target,
                message: self.scrub(&message),
            },
            HttpError::ProxyUnreachable { proxy, message } => HttpError::ProxyUnreachable {
                proxy,
                message: self.scrub(&message),
            },
            HttpError::Other { message } => HttpError::Other {
                message: self.scrub(&message),
            },
            other => other,
        }
    }

    fn classify_raw(&self, e: &reqwest::Error, url: &Url, start: Instant) -> HttpError {
        let ms = start.elapsed().as_millis() as u64;
        let target = target(url);
        let chain = chain(e);
        if let Some(l) = chain.iter().find_map(|c| c.downcast_ref::<LookupFailed>()) {
            // reqwest resolves the proxy's name through us too.
            if let Some(p) = self
                .proxy
                .as_ref()
                .filter(|p| p.host.eq_ignore_ascii_case(&l.host))
            {
                return HttpError::ProxyUnreachable {
                    proxy: p.display(),
                    message: l.to_string(),
                };
            }
            return HttpError::Dns {
                host: l.host.clone(),
                error: l.error.clone(),
            };
        }
        if let Some(p) = &self.proxy {
            let proxy = p.display();
            // hyper-util's CONNECT tunnel error type is private and drops the proxy's status
            // code, so its Display text ("tunnel error: ...") is all reqwest exposes here.
            let tunnel = chain
                .iter()
                .map(|c| c.to_string())
                .find(|s| s.starts_with("tunnel error"));
            if let Some(t) = tunnel {
                if t.contains("proxy authorization required") {
                    return HttpError::ProxyAuth {
                        proxy,
                        credentials_sent: p.has_credentials(),
                    };
                }
                if t.contains("unsuccessful") {
                    return HttpError::ProxyRefused {
                        proxy,
                        status: None,
                    };
                }
                if t.contains("unexpected end of file") {
                    return HttpError::ProxyUnreachable {
                        proxy,
                        message: "the proxy closed the connection during CONNECT".into(),
                    };
                }
                // "failed to create underlying connection" and I/O errors fall through to the
                // typed io::Error below, which says what happened on the wire.
            }
            if let Some(io) = chain
                .iter()
                .find_map(|c| c.downcast_ref::<std::io::Error>())
            {
                // Only while connecting is the proxy the peer; later I/O errors come from the
                // tunnelled connection to the CA.
                if e.is_connect() && tls_error(&chain).is_none() {
                    let ce = tcp::classify(io);
                    let message = match ce {
                        ConnectError::Timeout { .. } => format!("no answer within {ms} ms"),
                        other => other.to_string(),
                    };
                    return HttpError::ProxyUnreachable { proxy, message };
                }
            }
            if e.is_connect() && e.is_timeout() {
                return HttpError::ProxyUnreachable {
                    proxy,
                    message: format!("no tunnel to {target} within {ms} ms"),
                };
            }
        }
        if let Some(t) = tls_error(&chain) {
            return HttpError::Tls {
                target,
                message: t.to_string(),
            };
        }
        if e.is_timeout() {
            return if e.is_connect() {
                HttpError::ConnectTimeout { target, ms }
            } else {
                HttpError::Timeout { target, ms }
            };
        }
        if let Some(io) = chain
            .iter()
            .find_map(|c| c.downcast_ref::<std::io::Error>())
            .filter(|_| e.is_connect())
        {
            return match tcp::classify(io) {
                ConnectError::Refused => HttpError::ConnectRefused { target },
                ConnectError::Timeout { .. } => HttpError::ConnectTimeout { target, ms },
                ConnectError::Unreachable { message } | ConnectError::Local { message } => {
                    HttpError::Unreachable { target, message }
                }
            };
        }
        // What is left broke after connecting: a reset or a malformed response.
        HttpError::Other {
            message: chain
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(": "),
        }
    }
}

fn target(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(443)
    )
}

fn chain<'a>(e: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = vec![e];
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push(c);
        cur = c.source();
    }
    out
}

/// The rustls error in a chain. tokio-rustls wraps it in an io::Error (and hyper-util wraps
/// that in another), and io::Error's `source()` skips the wrapped error, so unwrap them by hand.
fn tls_error<'a>(chain: &[&'a (dyn StdError + 'static)]) -> Option<&'a rustls::Error> {
    chain.iter().find_map(|c| {
        let mut cur: &(dyn StdError + 'static) = *c;
        loop {
            if let Some(t) = cur.downcast_ref::<rustls::Error>() {
                return Some(t);
            }
            cur = cur.downcast_ref::<std::io::Error>()?.get_ref()?;
        }
    })
}

/// The user name and password of a proxy URL, raw and percent-decoded.
fn secrets_of(p: &Proxy) -> Vec<String> {
    let u = p.url_with_credentials();
    let mut out = Vec::new();
    for raw in [u.username(), u.password().unwrap_or("")] {
        if raw.is_empty() {
            continue;
        }
        out.push(raw.to_string());
        let decoded = url::form_urlencoded::parse(format!("x={raw}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        if !decoded.is_empty() && decoded != raw {
            out.push(decoded);
        }
    }
    out
}

/// Removes credentials from text: the user-info part of any URL, and every known secret.
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == ')' || c == '"')
            .unwrap_or(tail.len());
        match tail[..end].rfind('@') {
            Some(at) => {
                out.push_str("***@");
                rest = &tail[at + 1..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    for s in secrets {
        out = out.replace(s.as_str(), "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_userinfo_and_secrets() {
        let s = scrub(
            "error sending request via http://alice:s3cret@proxy:3128/ (alice s3cret)",
            &["s3cret".into(), "alice".into()],
        );
        assert_eq!(
            s,
            "error sending request via http://***@proxy:3128/ (*** ***)"
        );
        assert_eq!(
            scrub("https://acme.test:443/directory", &[]),
            "https://acme.test:443/directory"
        );
        assert_eq!(scrub("socks5://u:p@h", &[]), "socks5://***@h");
    }

    #[test]
    fn proxy_secrets_include_decoded_forms() {
        let env = crate::net::proxy::ProxyEnv::from_vars(|k| {
            (k == "HTTPS_PROXY").then(|| "http://bob:p%40ss@proxy:8080".to_string())
        });
        let p = env.for_host("acme.test").unwrap();
        let s = secrets_of(&p);
        assert!(s.contains(&"p%40ss".to_string()));
        assert!(s.contains(&"p@ss".to_string()));
        assert!(s.contains(&"bob".to_string()));
    }
}

//! HTTP fetches made the way the CA's validation authority (Boulder) makes them for HTTP-01:
//! connections pinned to one address at a time, a single dial timeout (10 s, or less when the
//! run's per-operation timeout is shorter), `Accept: */*`, no keep-alive, a capped body read,
//! Boulder's redirect rules, HTTPS redirect targets reached with TLS 1.2+ and the certificate
//! NOT verified, and Boulder's address order (the first AAAA, then the first A only after a
//! dial error). Errors carry Boulder's own wording so users can match them with the CA's message.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::rr::RecordType;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::header::{HeaderMap, ACCEPT, CONNECTION, HOST, LOCATION, SERVER, USER_AGENT};
use hyper_util::rt::TokioIo;
use rustls::client::danger::{ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};
use url::Url;

use crate::net::addr::non_public_range;
use crate::net::dns::{DnsError, Resolver};
use crate::net::tcp::{self, ConnectError};
use crate::plan::IpFamily;

/// Boulder follows at most this many redirects.
pub const MAX_REDIRECTS: usize = 10;
/// Boulder refuses redirect targets whose path is longer than this.
pub const MAX_PATH: usize = 2000;
/// Boulder's `singleDialTimeout`.
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(10);
/// Enough for an error page to be recognised; a token is under 100 bytes.
pub const BODY_CAP: usize = 8 * 1024;
pub const UA: &str = concat!(
    "Mozilla/5.0 (compatible; acme-doctor/",
    env!("CARGO_PKG_VERSION"),
    " emulating Let's Encrypt validation server)"
);

/// Why Boulder would refuse to follow a redirect. Display texts are Boulder's (va/http.go).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RedirectError {
    #[error("Too many redirects")]
    TooMany,
    #[error("received disallowed redirect status code")]
    DisallowedStatus { status: u16 },
    #[error("Redirect loop detected")]
    Loop,
    #[error("Redirect target too long")]
    TooLong,
    #[error("Invalid protocol scheme in redirect target. Only \"http\" and \"https\" protocol schemes are supported, not {scheme:?}")]
    Scheme { scheme: String },
    #[error(
        "Invalid port in redirect target. Only ports {http} and {https} are supported, not {port}"
    )]
    Port { port: u16, http: u16, https: u16 },
    #[error("Invalid empty host in redirect target")]
    EmptyHost,
    #[error("Invalid host in redirect target {host:?}. Check webserver config for missing '/' in redirect target.")]
    MissingSlash { host: String },
    #[error("Invalid host in redirect target: {ip} is a reserved address ({range})")]
    Reserved { ip: IpAddr, range: String },
    #[error("Invalid hostname in redirect target, must end in IANA registered TLD")]
    NoTld { host: String },
    #[error("Invalid redirect target {location:?}: {message}")]
    BadLocation { location: String, message: String },
}

/// The ports that stand for 80 and 443 (test fixtures move them).
#[derive(Debug, Clone, Copy)]
pub struct RedirectRules {
    pub http_port: u16,
    pub https_port: u16,
}

/// Whether Go's client (and so Boulder) treats a status as a redirect to follow.
pub fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Boulder's redirect policy as a pure function: `via` holds every URL requested so far
/// (the first request included); returns the next URL to request.
pub fn next_hop(
    rules: RedirectRules,
    current: &Url,
    status: u16,
    location: &str,
    via: &[Url],
) -> Result<Url, RedirectError> {
    if via.len() > MAX_REDIRECTS {
        return Err(RedirectError::TooMany);
    }
    if !matches!(status, 301 | 302 | 307 | 308) {
        return Err(RedirectError::DisallowedStatus { status });
    }
    let mut next = current
        .join(location)
        .map_err(|e| RedirectError::BadLocation {
            location: location.chars().take(200).collect(),
            message: e.to_string(),
        })?;
    next.set_fragment(None);
    let scheme = next.scheme().to_string();
    if scheme != "http" && scheme != "https" {
        return Err(RedirectError::Scheme { scheme });
    }
    if let Some(port) = next.port() {
        if port != rules.http_port && port != rules.https_port {
            return Err(RedirectError::Port {
                port,
                http: rules.http_port,
                https: rules.https_port,
            });
        }
    }
    match next.host() {
        None => return Err(RedirectError::EmptyHost),
        Some(url::Host::Domain(d)) => {
            let host = d.to_ascii_lowercase();
            if host.is_empty() {
                return Err(RedirectError::EmptyHost);
            }
            if host.ends_with(".well-known") {
                return Err(RedirectError::MissingSlash { host });
            }
            let known = psl::suffix(host.as_bytes()).is_some_and(|s| s.is_known());
            if !known {
                return Err(RedirectError::NoTld { host });
            }
        }
        Some(url::Host::Ipv4(a)) => reserved(IpAddr::V4(a))?,
        Some(url::Host::Ipv6(a)) => reserved(IpAddr::V6(a))?,
    }
    if next.path().len() > MAX_PATH {
        return Err(RedirectError::TooLong);
    }
    if via.iter().any(|v| v.as_str() == next.as_str()) {
        return Err(RedirectError::Loop);
    }
    Ok(next)
}

fn reserved(ip: IpAddr) -> Result<(), RedirectError> {
    match non_public_range(&ip) {
        Some(range) => Err(RedirectError::Reserved {
            ip,
            range: range.to_string(),
        }),
        None => Ok(()),
    }
}

/// What went wrong, in Boulder's words (va/va.go detailedError, va/http.go).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FetchError {
    #[error("Timeout during connect (likely firewall problem)")]
    DialTimeout { ms: u64 },
    #[error("Connection refused")]
    Refused,
    /// The dial failed at once: no route (ENETUNREACH, or EHOSTUNREACH after an ICMP host
    /// unreachable) or a local refusal; `message` is the operating system's error.
    #[error("{}", unreachable_text(message))]
    Unreachable { message: String },
    #[error("Connection reset by peer")]
    Reset,
    #[error("Timeout after connect (your server may be slow or overloaded)")]
    ReadTimeout { ms: u64 },
    #[error("Server only speaks HTTP, not TLS")]
    NotTls,
    #[error("validation attempt was redirected to an HTTPS server that doesn't support TLSv1.2 or better. See https://community.letsencrypt.org/t/rejecting-sha-1-csrs-and-validation-using-tls-1-0-1-1-urls/175144")]
    TlsTooOld,
    #[error("TLS handshake failed: {message}")]
    Tls { message: String },
    #[error("{0}")]
    Redirect(RedirectError),
    #[error("DNS problem: {error} looking up {rtype} for {host}")]
    Dns {
        host: String,
        rtype: String,
        error: DnsError,
    },
    #[error("Error getting validation data: {message}")]
    Protocol { message: String },
}

/// Boulder's words where it has some: "Network unreachable" for ENETUNREACH. For any other
/// failure of this kind (EHOSTUNREACH, a local firewall's EACCES or EPERM) Boulder says only
/// "Error getting validation data", so the operating system's words follow in parentheses.
fn unreachable_text(message: &str) -> String {
    if message.contains("os error 101") || message.contains("Network is unreachable") {
        return "Network unreachable".to_string();
    }
    let os = message.split(" (os error").next().unwrap_or(message).trim();
    if os.is_empty() {
        "Error getting validation data".to_string()
    } else {
        format!("Error getting validation data ({os})")
    }
}

impl FetchError {
    /// Boulder falls back from IPv6 to IPv4 only on these.
    pub fn is_dial(&self) -> bool {
        matches!(
            self,
            FetchError::DialTimeout { .. } | FetchError::Refused | FetchError::Unreachable { .. }
        )
    }

    pub fn label(&self) -> &'static str {
        match self {
            FetchError::DialTimeout { .. } => "connect-timeout",
            FetchError::Refused => "refused",
            FetchError::Unreachable { .. } => "unreachable",
            FetchError::Reset => "reset",
            FetchError::ReadTimeout { .. } => "read-timeout",
            FetchError::NotTls => "not-tls",
            FetchError::TlsTooOld => "tls-too-old",
            FetchError::Tls { .. } => "tls",
            FetchError::Redirect(_) => "redirect",
            FetchError::Dns { .. } => "dns",
            FetchError::Protocol { .. } => "protocol",
        }
    }
}

/// One request of a chain.
#[derive(Debug, Clone, Serialize)]
pub struct Hop {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    pub ms: u64,
}

/// The final answer of a chain.
#[derive(Debug, Clone)]
pub struct Answer {
    pub url: Url,
    pub addr: SocketAddr,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// Reading stopped at the cap.
    pub truncated: bool,
}

impl Answer {
    pub fn server(&self) -> Option<String> {
        header(&self.headers, SERVER.as_str())
    }
}

pub fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// A whole fetch: every request made, and how it ended.
#[derive(Debug, Clone)]
pub struct Trace {
    pub hops: Vec<Hop>,
    pub result: Result<Answer, FetchError>,
}

impl Trace {
    /// The failing request's URL and address, for Boulder-style messages.
    pub fn last(&self) -> Option<&Hop> {
        self.hops.last()
    }

    /// Requests that got an HTTP answer (a dial that failed over to IPv4 is not one).
    pub fn answered(&self) -> usize {
        self.hops.iter().filter(|h| h.status.is_some()).count()
    }

    /// The message the CA would show: `<IP>: Fetching <url>: <error>` for connection errors.
    pub fn ca_message(&self) -> String {
        if let Err(FetchError::Dns { .. }) = &self.result {
            return self.fetch_message();
        }
        let ip = self
            .last()
            .and_then(|h| h.addr)
            .map(|a| format!("{}: ", a.ip()))
            .unwrap_or_default();
        format!("{ip}{}", self.fetch_message())
    }

    /// `Fetching <url>: <error>`, for messages that name the address already.
    pub fn fetch_message(&self) -> String {
        let Err(e) = &self.result else {
            return String::new();
        };
        let url = self.last().map(|h| h.url.clone()).unwrap_or_default();
        match e {
            FetchError::Dns { .. } => e.to_string(),
            other => format!("Fetching {url}: {other}"),
        }
    }
}

/// Where the first request goes.
#[derive(Debug, Clone, Copy)]
pub enum First {
    /// Only this address, as a per-address probe.
    Pinned(IpAddr),
    /// Boulder's order: the first AAAA, then the first A after a dial error.
    CaOrder,
}

/// A fetcher configured like Boulder's VA for this run.
#[derive(Clone)]
pub struct Validator {
    pub resolver: Resolver,
    pub family: IpFamily,
    pub rules: RedirectRules,
    pub dial_timeout: Duration,
    /// Per response (head, then body).
    pub io_timeout: Duration,
    /// The whole chain, redirects and fallback included.
    pub chain_timeout: Duration,
    pub body_cap: usize,
}

impl Validator {
    pub fn new(
        resolver: Resolver,
        family: IpFamily,
        timeout: Duration,
        http_port: u16,
        https_port: u16,
    ) -> Validator {
        Validator {
            resolver,
            family,
            rules: RedirectRules {
                http_port,
                https_port,
            },
            dial_timeout: DIAL_TIMEOUT.min(timeout),
            io_timeout: timeout,
            chain_timeout: timeout * 2 + Duration::from_secs(1),
            body_cap: BODY_CAP,
        }
    }

    /// The URL Boulder fetches for `token` at `host`, on the (possibly moved) HTTP port.
    pub fn challenge_url(&self, host: &str, token: &str) -> Url {
        let host = match host.parse::<IpAddr>() {
            Ok(IpAddr::V6(a)) => format!("[{a}]"),
            _ => host.to_string(),
        };
        let mut u = Url::parse(&format!("http://{host}/.well-known/acme-challenge/{token}"))
            .expect("a valid identifier makes a valid URL");
        if self.rules.http_port != 80 {
            let _ = u.set_port(Some(self.rules.http_port));
        }
        u
    }

    /// Fetches `url` following Boulder's redirect rules, within the chain deadline.
    pub async fn fetch(&self, url: Url, first: First) -> Trace {
        let mut hops = Vec::new();
        let deadline = Instant::now() + self.chain_timeout;
        let result = match tokio::time::timeout(
            self.chain_timeout,
            self.chain(url.clone(), first, &mut hops, deadline),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(FetchError::ReadTimeout {
                ms: self.chain_timeout.as_millis() as u64,
            }),
        };
        Trace { hops, result }
    }

    async fn chain(
        &self,
        mut url: Url,
        first: First,
        hops: &mut Vec<Hop>,
        deadline: Instant,
    ) -> Result<Answer, FetchError> {
        let mut via: Vec<Url> = Vec::new();
        let mut pinned = match first {
            First::Pinned(ip) => Some(ip),
            First::CaOrder => None,
        };
        loop {
            via.push(url.clone());
            let answer = self.request(&url, pinned.take(), hops, deadline).await?;
            let location = header(&answer.headers, LOCATION.as_str());
            match location {
                Some(loc) if is_redirect(answer.status) => {
                    url = next_hop(self.rules, &url, answer.status, &loc, &via)
                        .map_err(FetchError::Redirect)?;
                }
                _ => return Ok(answer),
            }
        }
    }

    /// One request: resolve (unless pinned), dial in Boulder's order, exchange.
    async fn request(
        &self,
        url: &Url,
        pinned: Option<IpAddr>,
        hops: &mut Vec<Hop>,
        deadline: Instant,
    ) -> Result<Answer, FetchError> {
        let https = url.scheme() == "https";
        let port = url.port().unwrap_or(if https {
            self.rules.https_port
        } else {
            self.rules.http_port
        });
        let host = url.host_str().unwrap_or_default().to_string();
        let candidates: Vec<IpAddr> = match (pinned, url.host()) {
            (Some(ip), _) => vec![ip],
            (None, Some(url::Host::Ipv4(a))) => vec![IpAddr::V4(a)],
            (None, Some(url::Host::Ipv6(a))) => vec![IpAddr::V6(a)],
            _ => self.ca_order_addresses(&host).await?,
        };
        let mut last_err = None;
        for ip in candidates {
            let addr = SocketAddr::new(ip, port);
            let start = Instant::now();
            hops.push(Hop {
                url: url.to_string(),
                addr: Some(addr),
                status: None,
                server: None,
                ms: 0,
            });
            let res = self.exchange(url, addr, https, deadline).await;
            let hop = hops.last_mut().expect("just pushed");
            hop.ms = start.elapsed().as_millis() as u64;
            match res {
                Ok(a) => {
                    hop.status = Some(a.status);
                    hop.server = a.server();
                    return Ok(a);
                }
                // Boulder retries the first A only when dialling the AAAA failed.
                Err(e) if e.is_dial() => last_err = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_err.unwrap_or(FetchError::Protocol {
            message: format!("no address to try for {host}"),
        }))
    }

    /// Boulder's candidates: the first AAAA, then the first A.
    async fn ca_order_addresses(&self, host: &str) -> Result<Vec<IpAddr>, FetchError> {
        let (v6, v4) = tokio::join!(
            async {
                if self.family == IpFamily::V4Only {
                    None
                } else {
                    Some(self.resolver.addrs(host, RecordType::AAAA).await)
                }
            },
            async {
                if self.family == IpFamily::V6Only {
                    None
                } else {
                    Some(self.resolver.addrs(host, RecordType::A).await)
                }
            }
        );
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for (r, rtype) in [(v6, "AAAA"), (v4, "A")] {
            match r {
                Some(Ok(a)) => out.extend(a.addrs.first().copied()),
                Some(Err(e)) => errors.push((rtype, e)),
                None => {}
            }
        }
        if out.is_empty() {
            let (rtype, error) = errors
                .iter()
                .find(|(_, e)| !matches!(e, DnsError::NoRecords { .. }))
                .or(errors.first())
                .cloned()
                .unwrap_or((
                    "A",
                    DnsError::NoRecords {
                        rtype: "A".to_string(),
                    },
                ));
            return Err(FetchError::Dns {
                host: host.to_string(),
                rtype: rtype.to_string(),
                error,
            });
        }
        Ok(out)
    }

    async fn exchange(
        &self,
        url: &Url,
        addr: SocketAddr,
        https: bool,
        deadline: Instant,
    ) -> Result<Answer, FetchError> {
        let (stream, _) = tcp::connect(addr, self.dial_timeout)
            .await
            .map_err(dial_error)?;
        let io_deadline = deadline.min(Instant::now() + self.io_timeout);
        if https {
            let host = url.host_str().unwrap_or_default();
            let tls = tls_connect(stream, host, io_deadline, &[b"http/1.1"]).await?;
            self.http_exchange(tls, url, addr, io_deadline).await
        } else {
            self.http_exchange(stream, url, addr, io_deadline).await
        }
    }

    async fn http_exchange<S>(
        &self,
        stream: S,
        url: &Url,
        addr: SocketAddr,
        deadline: Instant,
    ) -> Result<Answer, FetchError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let head = http_get(stream, url, deadline, self.body_cap).await?;
        Ok(Answer {
            url: url.clone(),
            addr,
            status: head.status,
            headers: head.headers,
            body: head.body,
            truncated: head.truncated,
        })
    }
}

pub struct HttpHead {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub truncated: bool,
}

/// One GET over an open connection, like Boulder's: `Accept: */*`, no keep-alive, body read
/// up to `cap` bytes, everything before `deadline`.
pub async fn http_get<S>(
    stream: S,
    url: &Url,
    deadline: Instant,
    cap: usize,
) -> Result<HttpHead, FetchError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let start = Instant::now();
    let timeout = |start: Instant| FetchError::ReadTimeout {
        ms: start.elapsed().as_millis() as u64,
    };
    let deadline = tokio::time::Instant::from_std(deadline);
    let (mut sender, conn) = tokio::time::timeout_at(
        deadline,
        hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream)),
    )
    .await
    .map_err(|_| timeout(start))?
    .map_err(hyper_error)?;
    let driver = tokio::spawn(conn);
    // The connection task ends with the response or the deadline; never let it outlive us.
    struct Abort(tokio::task::AbortHandle);
    impl Drop for Abort {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let _abort = Abort(driver.abort_handle());
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    };
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let req = hyper::Request::get(path)
        .header(HOST, host)
        .header(ACCEPT, "*/*")
        .header(USER_AGENT, UA)
        .header(CONNECTION, "close")
        .body(Empty::<Bytes>::new())
        .map_err(|e| FetchError::Protocol {
            message: e.to_string(),
        })?;
    let resp = tokio::time::timeout_at(deadline, sender.send_request(req))
        .await
        .map_err(|_| timeout(start))?
        .map_err(hyper_error)?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let mut body_stream = resp.into_body();
    let mut body = Vec::new();
    let mut truncated = false;
    if cap > 0 {
        loop {
            match tokio::time::timeout_at(deadline, body_stream.frame()).await {
                Err(_) => return Err(timeout(start)),
                Ok(None) => break,
                Ok(Some(Err(e))) => return Err(hyper_error(e)),
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        let room = cap - body.len();
                        if data.len() > room {
                            body.extend_from_slice(&data[..room]);
                            truncated = true;
                            break;
                        }
                        body.extend_from_slice(&data);
                    }
                }
            }
        }
    }
    Ok(HttpHead {
        status,
        headers,
        body,
        truncated,
    })
}

pub fn dial_error(e: ConnectError) -> FetchError {
    match e {
        ConnectError::Timeout { ms } => FetchError::DialTimeout { ms },
        ConnectError::Refused => FetchError::Refused,
        ConnectError::Unreachable { message } | ConnectError::Local { message } => {
            FetchError::Unreachable { message }
        }
    }
}

fn io_error(e: &std::io::Error) -> Option<FetchError> {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionReset | ConnectionAborted | BrokenPipe => Some(FetchError::Reset),
        TimedOut => Some(FetchError::ReadTimeout { ms: 0 }),
        _ => None,
    }
}

/// hyper's error kinds are typed; the I/O cause sits in its source chain.
fn hyper_error(e: hyper::Error) -> FetchError {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(c) = cur {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            if let Some(f) = io_error(io) {
                return f;
            }
        }
        cur = c.source();
    }
    let message = if e.is_incomplete_message() {
        "the connection closed before a complete HTTP response arrived".to_string()
    } else if e.is_parse() {
        format!("malformed HTTP response: {e}")
    } else {
        e.to_string()
    };
    FetchError::Protocol { message }
}

/// Accepts any certificate, as the CA does when following a redirect to HTTPS (and as a
/// reachability probe must, since the certificate is not what is being tested). Signatures
/// are still checked so the handshake itself is genuine.
#[derive(Debug)]
struct AcceptAnyCert(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    crate::net::tls::provider_signatures!(0);
}

/// What a TLS handshake negotiated.
#[derive(Debug, Clone, Serialize)]
pub struct TlsInfo {
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpn: Option<String>,
}

/// A TLS 1.2+ handshake that does not verify the certificate, offering `alpn`.
pub async fn tls_connect(
    stream: tokio::net::TcpStream,
    host: &str,
    deadline: Instant,
    alpn: &[&[u8]],
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, FetchError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| FetchError::Tls {
            message: e.to_string(),
        })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let name = match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(ip) => ServerName::IpAddress(ip.into()),
        Err(_) => ServerName::try_from(host.to_string()).map_err(|e| FetchError::Tls {
            message: format!("{host}: {e}"),
        })?,
    };
    let start = Instant::now();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    match tokio::time::timeout_at(
        tokio::time::Instant::from_std(deadline),
        connector.connect(name, stream),
    )
    .await
    {
        Err(_) => Err(FetchError::ReadTimeout {
            ms: start.elapsed().as_millis() as u64,
        }),
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(tls_error(&e)),
    }
}

pub fn tls_info(s: &tokio_rustls::client::TlsStream<tokio::net::TcpStream>) -> TlsInfo {
    let (_, conn) = s.get_ref();
    TlsInfo {
        version: conn
            .protocol_version()
            .map(|v| format!("{v:?}").replace("V1_", "1."))
            .unwrap_or_default(),
        alpn: conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
    }
}

/// tokio-rustls hands rustls errors back wrapped in an io::Error.
fn tls_error(e: &std::io::Error) -> FetchError {
    if let Some(t) = e.get_ref().and_then(|r| r.downcast_ref::<rustls::Error>()) {
        return match t {
            // A record whose type byte is not TLS: the peer answered in plain text ("HTTP/1.1 400").
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => {
                FetchError::NotTls
            }
            rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion)
            | rustls::Error::PeerIncompatible(
                rustls::PeerIncompatible::ServerDoesNotSupportTls12Or13,
            ) => FetchError::TlsTooOld,
            other => FetchError::Tls {
                message: other.to_string(),
            },
        };
    }
    if let Some(f) = io_error(e) {
        return f;
    }
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        return FetchError::Tls {
            message: "the server closed the connection during the TLS handshake".into(),
        };
    }
    FetchError::Tls {
        message: e.to_string(),
    }
}

/// An identifier's addresses as the CA looks them up: AAAA and A, IPv6 first.
#[derive(Debug, Clone, Serialize)]
pub struct Resolved {
    pub host: String,
    pub addrs: Vec<IpAddr>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// Resolves `host` for A and AAAA (an IP literal is its own address), within the family.
pub async fn resolve(resolver: &Resolver, family: IpFamily, host: &str) -> Resolved {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Resolved {
            host: host.to_string(),
            addrs: vec![ip],
            errors: Vec::new(),
        };
    }
    let (v6, v4) = tokio::join!(
        async {
            if family == IpFamily::V4Only {
                None
            } else {
                Some(resolver.addrs(host, RecordType::AAAA).await)
            }
        },
        async {
            if family == IpFamily::V6Only {
                None
            } else {
                Some(resolver.addrs(host, RecordType::A).await)
            }
        }
    );
    let mut out = Resolved {
        host: host.to_string(),
        addrs: Vec::new(),
        errors: Vec::new(),
    };
    for (r, rtype) in [(v6, "AAAA"), (v4, "A")] {
        match r {
            Some(Ok(a)) => out.addrs.extend(a.addrs),
            Some(Err(e)) => out.errors.push(format!("{rtype}: {e}")),
            None => {}
        }
    }
    out
}

/// A fresh token shaped like an ACME one: 32 random bytes, base64url without padding.
pub fn random_token() -> String {
    use base64::Engine;
    use ring::rand::SecureRandom;
    let mut b = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .expect("the system random source works");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_says_what_the_os_said() {
        let text =
            |errno: i32| dial_error(tcp::classify(&std::io::Error::from_raw_os_error(errno)));
        // ENETUNREACH: Boulder's own words.
        assert_eq!(text(101).to_string(), "Network unreachable");
        // EHOSTUNREACH (an ICMP host unreachable) and a local EACCES: Boulder's catch-all with
        // the cause.
        assert_eq!(
            text(113).to_string(),
            "Error getting validation data (No route to host)"
        );
        assert_eq!(
            text(13).to_string(),
            "Error getting validation data (Permission denied)"
        );
        assert!(text(113).is_dial());
    }

    const RULES: RedirectRules = RedirectRules {
        http_port: 80,
        https_port: 443,
    };

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn hop(from: &str, status: u16, loc: &str, via: &[&str]) -> Result<Url, RedirectError> {
        let via: Vec<Url> = via.iter().map(|s| u(s)).collect();
        next_hop(RULES, &u(from), status, loc, &via)
    }

    const START: &str = "http://example.com/.well-known/acme-challenge/t";

    #[test]
    fn follows_allowed_redirects() {
        for status in [301, 302, 307, 308] {
            let n = hop(START, status, "https://example.com/x", &[START]).unwrap();
            assert_eq!(n.as_str(), "https://example.com/x");
        }
        // Relative locations resolve against the current URL; explicit 80/443 are fine.
        let n = hop(START, 301, "/other", &[START]).unwrap();
        assert_eq!(n.as_str(), "http://example.com/other");
        assert!(hop(START, 301, "http://example.com:443/x", &[START]).is_ok());
        assert!(hop(START, 301, "https://www.example.com:443/x?q=1", &[START]).is_ok());
        assert!(hop(START, 301, "http://198.51.100.7/x", &[START]).is_ok());
    }

    #[test]
    fn refuses_what_boulder_refuses() {
        assert_eq!(
            hop(START, 303, "/x", &[START]),
            Err(RedirectError::DisallowedStatus { status: 303 })
        );
        let e = hop(START, 301, "http://example.com:8080/x", &[START]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid port in redirect target. Only ports 80 and 443 are supported, not 8080"
        );
        assert!(matches!(
            hop(START, 301, "ftp://example.com/x", &[START]),
            Err(RedirectError::Scheme { .. })
        ));
        let e = hop(
            START,
            301,
            "https://example.com.well-known/acme-challenge/t",
            &[START],
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid host in redirect target \"example.com.well-known\". Check webserver config for missing '/' in redirect target."
        );
        assert!(matches!(
            hop(START, 301, "http://10.0.0.1/x", &[START]),
            Err(RedirectError::Reserved { .. })
        ));
        assert!(matches!(
            hop(START, 301, "http://[::1]/x", &[START]),
            Err(RedirectError::Reserved { .. })
        ));
        assert!(matches!(
            hop(START, 301, "http://intranet.notatld/x", &[START]),
            Err(RedirectError::NoTld { .. })
        ));
        let long = format!("http://example.com/{}", "a".repeat(MAX_PATH + 1));
        assert_eq!(
            hop(START, 301, &long, &[START]),
            Err(RedirectError::TooLong)
        );
        assert!(matches!(
            hop(START, 301, "http://[bad", &[START]),
            Err(RedirectError::BadLocation { .. })
        ));
    }

    #[test]
    fn detects_loops_and_counts() {
        assert_eq!(
            hop(START, 302, START, &[START]),
            Err(RedirectError::Loop),
            "a redirect to itself"
        );
        let a = "http://example.com/a";
        assert_eq!(
            hop(a, 302, START, &[START, a]),
            Err(RedirectError::Loop),
            "a redirect back to an earlier URL"
        );
        // Ten redirects are followed; the eleventh is refused.
        let via: Vec<String> = (0..=MAX_REDIRECTS)
            .map(|i| format!("http://example.com/{i}"))
            .collect();
        let refs: Vec<&str> = via.iter().map(|s| s.as_str()).collect();
        assert!(hop(refs[9], 302, "/next", &refs[..MAX_REDIRECTS]).is_ok());
        assert_eq!(
            hop(refs[10], 302, "/next", &refs),
            Err(RedirectError::TooMany)
        );
    }

    #[test]
    fn moved_ports_stand_for_80_and_443() {
        let rules = RedirectRules {
            http_port: 8080,
            https_port: 8443,
        };
        let from = u("http://example.com:8080/x");
        assert!(next_hop(
            rules,
            &from,
            301,
            "https://example.com:8443/y",
            std::slice::from_ref(&from)
        )
        .is_ok());
        assert!(matches!(
            next_hop(
                rules,
                &from,
                301,
                "https://example.com:9999/y",
                std::slice::from_ref(&from)
            ),
            Err(RedirectError::Port { port: 9999, .. })
        ));
    }

    #[test]
    fn ca_message_has_boulders_shape() {
        let t = Trace {
            hops: vec![Hop {
                url: START.into(),
                addr: Some("[2001:db8::1]:80".parse().unwrap()),
                status: None,
                server: None,
                ms: 10000,
            }],
            result: Err(FetchError::DialTimeout { ms: 10000 }),
        };
        assert_eq!(
            t.ca_message(),
            format!(
                "2001:db8::1: Fetching {START}: Timeout during connect (likely firewall problem)"
            )
        );
        assert!(FetchError::Refused.is_dial());
        assert!(!FetchError::Reset.is_dial());
    }
}

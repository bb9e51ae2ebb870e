//! An HTTPS ACME directory server on 127.0.0.1 that misbehaves on demand (hyper 1 over
//! tokio-rustls), with its own test root and an `acme.test` leaf written out as PEM.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Body, Bytes, Frame, Incoming};
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;

pub const HOST: &str = "acme.test";

/// How the server answers.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// A realistic Let's Encrypt directory, nonce included.
    Healthy,
    /// 500 with an RFC 7807 problem document.
    ServerError,
    /// A captive portal's login page.
    CaptivePortal,
    /// JSON cut off in the middle.
    Malformed,
    /// A directory without newNonce.
    MissingNonce,
    /// HEAD newNonce answers 200 without Replay-Nonce.
    NoReplayNonce,
    /// 8 MiB of body.
    Huge,
    /// Headers at once, then one byte a second.
    SlowDrip,
    /// Healthy, with a Date header this many seconds off the real time.
    DateOffset(i64),
    /// Healthy, with no Date header at all.
    NoDate,
    /// meta.externalAccountRequired = true, like ZeroSSL and Google.
    Eab,
    /// A 302 to somewhere else.
    Redirect,
    /// Healthy, but the server certificate expired yesterday, as it looks to a machine whose
    /// clock runs far ahead.
    ExpiredCertificate,
    /// Healthy, but meta lists no profiles (a CA or endpoint without ACME profiles).
    NoProfiles,
}

/// The test PKI: a root and a leaf for `acme.test`, and the root's PEM on disk.
pub struct Pki {
    pub dir: tempfile::TempDir,
    /// The root certificate, for `--trust-store` and `--ca-root`.
    pub root_pem: PathBuf,
    pub chain: Vec<CertificateDer<'static>>,
    key_der: Vec<u8>,
}

impl Pki {
    pub fn new() -> Pki {
        Self::with_leaf_expired(false)
    }

    pub fn with_leaf_expired(expired: bool) -> Pki {
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "acme-doctor Test Root");
        ca.distinguished_name
            .push(DnType::OrganizationName, "acme-doctor fixtures");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().expect("ca key");
        let ca_cert = ca.self_signed(&ca_key).expect("self-signed root");
        let issuer = Issuer::new(ca, ca_key);

        let mut leaf = CertificateParams::new(vec![HOST.to_string()]).expect("leaf params");
        leaf.distinguished_name.push(DnType::CommonName, HOST);
        leaf.use_authority_key_identifier_extension = true;
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        if expired {
            let now = time::OffsetDateTime::now_utc();
            leaf.not_before = now - time::Duration::days(90);
            leaf.not_after = now - time::Duration::days(1);
        }
        let leaf_key = KeyPair::generate().expect("leaf key");
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer).expect("leaf");

        let dir = tempfile::tempdir().expect("tempdir");
        let root_pem = dir.path().join("test-root.pem");
        std::fs::write(&root_pem, ca_cert.pem()).expect("write root pem");
        Pki {
            dir,
            root_pem,
            chain: vec![leaf_cert.der().clone(), ca_cert.der().clone()],
            key_der: leaf_key.serialize_der(),
        }
    }

    fn server_config(&self) -> rustls::ServerConfig {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()));
        let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(self.chain.clone(), key)
        .expect("server cert");
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        cfg
    }
}

/// A running directory server; it stops when dropped.
pub struct AcmeServer {
    pub addr: SocketAddr,
    pub pki: Pki,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for AcmeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl AcmeServer {
    pub async fn start(behaviour: Behaviour) -> AcmeServer {
        let pki = Pki::with_leaf_expired(matches!(behaviour, Behaviour::ExpiredCertificate));
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(pki.server_config()));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let port = addr.port();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let behaviour = behaviour.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut http = hyper::server::conn::http1::Builder::new();
                    if matches!(behaviour, Behaviour::NoDate) {
                        http.auto_date_header(false);
                    }
                    let service = hyper::service::service_fn(move |req| {
                        let b = behaviour.clone();
                        async move { Ok::<_, Infallible>(respond(&b, port, req)) }
                    });
                    let _ = http.serve_connection(TokioIo::new(tls), service).await;
                });
            }
        });
        AcmeServer { addr, pki, task }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn directory_url(&self) -> String {
        format!("https://{HOST}:{}/directory", self.port())
    }

    pub fn root_pem(&self) -> String {
        self.pki.root_pem.display().to_string()
    }
}

type Out = BoxBody<Bytes, Infallible>;

fn full(s: impl Into<Bytes>) -> Out {
    Full::new(s.into()).boxed()
}

pub fn directory_json(port: u16, eab: bool, with_nonce: bool) -> String {
    let base = format!("https://{HOST}:{port}");
    let nonce = if with_nonce {
        format!(r#""newNonce": "{base}/acme/new-nonce","#)
    } else {
        String::new()
    };
    let eab = if eab {
        r#", "externalAccountRequired": true"#
    } else {
        ""
    };
    format!(
        r#"{{
  "keyChange": "{base}/acme/key-change",
  "meta": {{
    "caaIdentities": ["letsencrypt.org"],
    "profiles": {{
      "classic": "https://letsencrypt.org/docs/profiles#classic",
      "shortlived": "https://letsencrypt.org/docs/profiles#shortlived",
      "tlsserver": "https://letsencrypt.org/docs/profiles#tlsserver"
    }},
    "termsOfService": "https://letsencrypt.org/documents/LE-SA-v1.6-August-18-2025.pdf",
    "website": "https://letsencrypt.org"{eab}
  }},
  "newAccount": "{base}/acme/new-acct",
  {nonce}
  "newOrder": "{base}/acme/new-order",
  "renewalInfo": "{base}/acme/renewal-info",
  "revokeCert": "{base}/acme/revoke-cert",
  "qX7tLq2bN4w": "https://community.letsencrypt.org/t/adding-random-entries-to-the-directory/33417"
}}"#
    )
}

fn json(status: u16, body: impl Into<Bytes>) -> Response<Out> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(full(body))
        .expect("response")
}

fn respond(b: &Behaviour, port: u16, req: Request<Incoming>) -> Response<Out> {
    let path = req.uri().path().to_string();
    if path == "/acme/new-nonce" {
        let mut r = Response::builder()
            .status(200)
            .header("cache-control", "no-store");
        if !matches!(b, Behaviour::NoReplayNonce) {
            r = r.header("replay-nonce", "oFvnlFP1wIhRlYS2jTaXbA");
        }
        return r.body(Empty::new().boxed()).expect("response");
    }
    if path != "/directory" || req.method() != Method::GET {
        return json(
            404,
            r#"{"type":"urn:ietf:params:acme:error:malformed","detail":"not found"}"#,
        );
    }
    match b {
        Behaviour::Healthy
        | Behaviour::NoReplayNonce
        | Behaviour::NoDate
        | Behaviour::ExpiredCertificate => {
            json(200, directory_json(port, false, true))
        }
        Behaviour::Eab => json(200, directory_json(port, true, true)),
        Behaviour::NoProfiles => {
            let full = directory_json(port, false, true);
            let start = full.find("\"profiles\"").expect("profiles in the directory");
            let end = start + full[start..].find("},").expect("end of profiles") + 2;
            json(200, format!("{}{}", &full[..start], &full[end..]))
        }
        Behaviour::MissingNonce => json(200, directory_json(port, false, false)),
        Behaviour::DateOffset(secs) => {
            let now = SystemTime::now();
            let at = if *secs >= 0 {
                now + Duration::from_secs(*secs as u64)
            } else {
                now - Duration::from_secs(secs.unsigned_abs())
            };
            let mut r = json(200, directory_json(port, false, true));
            r.headers_mut().insert(
                "date",
                httpdate::fmt_http_date(at).parse().expect("date header"),
            );
            r
        }
        Behaviour::ServerError => Response::builder()
            .status(500)
            .header("content-type", "application/problem+json")
            .body(full(
                r#"{"type":"urn:ietf:params:acme:error:serverInternal","detail":"The service is down for maintenance","status":500}"#,
            ))
            .expect("response"),
        Behaviour::CaptivePortal => Response::builder()
            .status(200)
            .header("content-type", "text/html; charset=utf-8")
            .body(full(
                "<!DOCTYPE html>\n<html><head><title>Hotel Guest WiFi - Please log in</title></head>\n<body><form>Room number: <input name=room></form></body></html>",
            ))
            .expect("response"),
        Behaviour::Malformed => json(200, r#"{"newNonce": "https://acme.test/acme/new-nonce", "newAccount": "#),
        Behaviour::Huge => {
            let mut body = br#"{"pad": ""#.to_vec();
            body.resize(8 << 20, b'x');
            json(200, body)
        }
        Behaviour::SlowDrip => Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Drip::new(600).boxed())
            .expect("response"),
        Behaviour::Redirect => Response::builder()
            .status(302)
            .header("location", "https://portal.example/login?next=directory")
            .body(Empty::new().boxed())
            .expect("response"),
    }
}

/// A body that sends one byte a second.
struct Drip {
    left: usize,
    tick: tokio::time::Interval,
}

impl Drip {
    fn new(bytes: usize) -> Drip {
        Drip {
            left: bytes,
            tick: tokio::time::interval(Duration::from_secs(1)),
        }
    }
}

impl Body for Drip {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        match self.tick.poll_tick(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(_) => {
                self.left -= 1;
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b" ")))))
            }
        }
    }
}

/// A TCP port that accepts connections and never says a word (a black hole after SYN-ACK).
pub async fn silent_listener() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    (addr, task)
}

/// A loopback port with nothing listening: connections are refused.
pub fn closed_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

/// A directory server plus a DNS fixture answering `acme.test` with 127.0.0.1: what the
/// binary needs to reach the server by name, as it would reach a real CA.
pub struct Lab {
    pub server: AcmeServer,
    pub dns: super::dns::DnsFixture,
    /// Overrides the directory URL (e.g. to point at a closed or silent port).
    pub url: Option<String>,
    /// Overrides the trust store (e.g. an unrelated root).
    pub trust_store: Option<String>,
}

impl Lab {
    pub async fn start(behaviour: Behaviour) -> Lab {
        let server = AcmeServer::start(behaviour).await;
        let dns = super::dns::DnsFixture::start(&[(HOST, super::dns::addrs(&["127.0.0.1"]))]).await;
        Lab {
            server,
            dns,
            url: None,
            trust_store: None,
        }
    }

    /// Runs the binary with `--only check` against this lab.
    pub async fn run(
        &self,
        check: &str,
        timeout: &str,
        format: &str,
        env: &[(&str, &str)],
    ) -> super::Run {
        let url = self
            .url
            .clone()
            .unwrap_or_else(|| self.server.directory_url());
        let resolver = self.dns.addr.to_string();
        let root = self.server.root_pem();
        let trust = self.trust_store.clone().unwrap_or_else(|| root.clone());
        super::doctor(
            &[
                "--ca",
                &url,
                "--resolver",
                &resolver,
                "--trust-store",
                &trust,
                "--ca-root",
                &root,
                "--only",
                check,
                "--format",
                format,
                "--timeout",
                timeout,
            ],
            env,
        )
        .await
    }

    pub async fn json(&self, check: &str, env: &[(&str, &str)]) -> super::Run {
        self.run(check, "3", "json", env).await
    }
}

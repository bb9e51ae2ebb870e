//! TLS handshakes that record what the peer sent, and certificate helpers.
//!
//! The handshake verifier here is for inspection only: it asks rustls' WebPKI verifier for a
//! verdict against each store, records the verdicts and the whole served chain, and then lets the
//! handshake finish so the chain, version and cipher can be reported even when the chain would
//! be rejected. Nothing is ever sent over such a connection.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::{ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::RootCertStore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use x509_parser::prelude::{FromDer, GeneralName, ParsedExtension, X509Certificate};

use crate::net::trust::{common_name, RootCert};

/// Upper-case hex SHA-256, the form fingerprints are shown in.
pub fn sha256_hex(der: &[u8]) -> String {
    hex::encode_upper(Sha256::digest(der))
}

/// Any byte stream a handshake can run over: a TCP socket or a proxy tunnel.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// One certificate as served, parsed for the report.
#[derive(Debug, Clone, Serialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub subject_cn: Option<String>,
    pub issuer_cn: Option<String>,
    pub not_before: String,
    pub not_after: String,
    #[serde(skip)]
    pub not_before_unix: i64,
    #[serde(skip)]
    pub not_after_unix: i64,
    pub sha256: String,
    /// Embedded signed certificate timestamps (every publicly trusted leaf has them).
    pub sct: bool,
    /// DNS names and IP addresses in the subjectAltName.
    pub names: Vec<String>,
    pub is_ca: bool,
    /// Where the issuer's certificate can be fetched (Authority Information Access,
    /// caIssuers); public CAs put this in every certificate they issue from an intermediate.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ca_issuers: Vec<String>,
    #[serde(skip)]
    pub subject_raw: Vec<u8>,
    #[serde(skip)]
    pub issuer_raw: Vec<u8>,
}

impl CertInfo {
    pub fn parse(der: &[u8]) -> Result<CertInfo, String> {
        let (_, c) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
        let mut names = Vec::new();
        let mut sct = false;
        let mut ca_issuers = Vec::new();
        for ext in c.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::SubjectAlternativeName(san) => {
                    for n in &san.general_names {
                        match n {
                            GeneralName::DNSName(d) => names.push(d.to_string()),
                            GeneralName::IPAddress(b) => names.push(ip_string(b)),
                            _ => {}
                        }
                    }
                }
                ParsedExtension::SCT(list) => sct = !list.is_empty(),
                ParsedExtension::AuthorityInfoAccess(aia) => {
                    for d in aia.iter() {
                        if d.access_method
                            == x509_parser::oid_registry::OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS
                        {
                            if let GeneralName::URI(u) = d.access_location {
                                ca_issuers.push(u.to_string());
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let v = c.validity();
        Ok(CertInfo {
            subject: c.subject().to_string(),
            issuer: c.issuer().to_string(),
            subject_cn: common_name(c.subject()),
            issuer_cn: common_name(c.issuer()),
            not_before: rfc3339(v.not_before.timestamp()),
            not_after: rfc3339(v.not_after.timestamp()),
            not_before_unix: v.not_before.timestamp(),
            not_after_unix: v.not_after.timestamp(),
            sha256: sha256_hex(der),
            sct,
            names,
            is_ca: c.is_ca(),
            ca_issuers,
            subject_raw: c.subject().as_raw().to_vec(),
            issuer_raw: c.issuer().as_raw().to_vec(),
        })
    }

    pub fn self_issued(&self) -> bool {
        self.subject_raw == self.issuer_raw
    }
}

fn ip_string(b: &[u8]) -> String {
    match b.len() {
        4 => std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => hex::encode(b),
    }
}

pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("@{unix}"))
}

/// A store's verdict on the served chain, in rustls' own terms.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub store: &'static str,
    pub result: Result<(), rustls::Error>,
}

#[derive(Debug, Default)]
struct Recorded {
    chain: Vec<CertificateDer<'static>>,
    verdicts: Vec<Verdict>,
}

/// A verifier that records the chain and each store's verdict, then accepts (inspection only).
#[derive(Debug)]
struct RecordingVerifier {
    stores: Vec<(&'static str, Option<Arc<WebPkiServerVerifier>>)>,
    provider: Arc<CryptoProvider>,
    record: Mutex<Recorded>,
}

impl RecordingVerifier {
    fn new(stores: &[(&'static str, Arc<RootCertStore>)], provider: Arc<CryptoProvider>) -> Self {
        let stores = stores
            .iter()
            .map(|(label, roots)| {
                // An empty store cannot build a verifier; its verdict is "unknown issuer".
                let v =
                    WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
                        .build()
                        .ok();
                (*label, v)
            })
            .collect();
        RecordingVerifier {
            stores,
            provider,
            record: Mutex::new(Recorded::default()),
        }
    }

    fn take(&self) -> Recorded {
        std::mem::take(&mut *self.record.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The handshake-signature half of a `ServerCertVerifier` that checks certificates its own way
/// but signatures as rustls does, with the algorithms of the crypto provider in `self.$field`.
macro_rules! provider_signatures {
    ($field:tt) => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &rustls::pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.$field.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &rustls::pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.$field.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.$field
                .signature_verification_algorithms
                .supported_schemes()
        }
    };
}
pub(crate) use provider_signatures;

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdicts = self
            .stores
            .iter()
            .map(|(label, v)| Verdict {
                store: label,
                result: match v {
                    Some(v) => v
                        .verify_server_cert(
                            end_entity,
                            intermediates,
                            server_name,
                            ocsp_response,
                            now,
                        )
                        .map(|_| ()),
                    None => Err(rustls::Error::InvalidCertificate(
                        rustls::CertificateError::UnknownIssuer,
                    )),
                },
            })
            .collect();
        let mut chain = vec![end_entity.clone().into_owned()];
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        *self.record.lock().unwrap_or_else(|e| e.into_inner()) = Recorded { chain, verdicts };
        Ok(ServerCertVerified::assertion())
    }

    provider_signatures!(provider);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Versions {
    /// TLS 1.3 and 1.2, as a current client offers.
    Modern,
    /// TLS 1.2 only, as older ACME clients speak.
    Tls12Only,
}

/// What went wrong on the wire during a handshake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TlsError {
    #[error("no handshake within {ms} ms")]
    Timeout { ms: u64 },
    #[error("the peer closed the connection during the handshake")]
    Eof,
    #[error("the connection was reset during the handshake (TCP RST)")]
    Reset,
    #[error("the server answered with a TLS version below 1.2")]
    LegacyVersion,
    /// The ServerHello carried the TLS 1.3 downgrade sentinel while choosing TLS 1.2: something
    /// between us and a TLS 1.3 server forced the older version.
    #[error("the server chose TLS 1.2 but signalled that it supports TLS 1.3: a middlebox forced a downgrade")]
    Downgrade,
    #[error("the server sent a fatal alert: {description}")]
    Alert {
        description: String,
        protocol_version: bool,
    },
    #[error("no common ground with the server: {message}")]
    Incompatible { message: String },
    #[error("TLS protocol error: {message}")]
    Protocol { message: String },
    #[error("I/O error: {message}")]
    Io { message: String },
}

impl TlsError {
    pub fn label(&self) -> &'static str {
        match self {
            TlsError::Timeout { .. } => "timeout",
            TlsError::Eof => "eof",
            TlsError::Reset => "reset",
            TlsError::LegacyVersion => "legacy-version",
            TlsError::Downgrade => "downgrade",
            TlsError::Alert { .. } => "alert",
            TlsError::Incompatible { .. } => "incompatible",
            TlsError::Protocol { .. } => "protocol",
            TlsError::Io { .. } => "io",
        }
    }
}

fn classify(e: &io::Error) -> TlsError {
    // tokio-rustls hands rustls errors back as io::Error(InvalidData) with the rustls::Error
    // inside; take the typed error back out.
    if let Some(r) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return match r {
            rustls::Error::PeerIncompatible(
                rustls::PeerIncompatible::ServerDoesNotSupportTls12Or13,
            ) => TlsError::LegacyVersion,
            rustls::Error::PeerIncompatible(p) => TlsError::Incompatible {
                message: format!("{p:?}"),
            },
            rustls::Error::PeerMisbehaved(
                rustls::PeerMisbehaved::AttemptedDowngradeToTls12WhenTls13IsSupported,
            ) => TlsError::Downgrade,
            rustls::Error::AlertReceived(a) => TlsError::Alert {
                description: format!("{a:?}"),
                protocol_version: *a == rustls::AlertDescription::ProtocolVersion,
            },
            other => TlsError::Protocol {
                message: other.to_string(),
            },
        };
    }
    match e.kind() {
        io::ErrorKind::UnexpectedEof => TlsError::Eof,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => TlsError::Reset,
        _ => TlsError::Io {
            message: e.to_string(),
        },
    }
}

/// What a completed handshake negotiated.
#[derive(Debug, Clone, Serialize)]
pub struct Negotiated {
    pub version: String,
    pub cipher: String,
    pub alpn: Option<String>,
    pub elapsed_ms: u64,
}

/// A handshake attempt: its outcome, and whatever chain the server sent before it ended.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub versions: Versions,
    pub result: Result<Negotiated, TlsError>,
    pub chain: Vec<CertificateDer<'static>>,
    pub verdicts: Vec<Verdict>,
}

/// Runs one client handshake over `stream` within `deadline`, verifying against each store.
pub async fn handshake<S: Stream>(
    stream: S,
    host: &str,
    versions: Versions,
    stores: &[(&'static str, Arc<RootCertStore>)],
    deadline: Duration,
) -> Attempt {
    let start = Instant::now();
    let provider = provider();
    let verifier = Arc::new(RecordingVerifier::new(stores, provider.clone()));
    let protocol: &[&rustls::SupportedProtocolVersion] = match versions {
        Versions::Modern => &[&rustls::version::TLS13, &rustls::version::TLS12],
        Versions::Tls12Only => &[&rustls::version::TLS12],
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(protocol)
        .map(|b| {
            let mut c = b
                .dangerous()
                .with_custom_certificate_verifier(verifier.clone())
                .with_no_client_auth();
            c.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            c
        });
    let fail = |e: TlsError| Attempt {
        versions,
        result: Err(e),
        chain: Vec::new(),
        verdicts: Vec::new(),
    };
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            return fail(TlsError::Protocol {
                message: e.to_string(),
            })
        }
    };
    let name = match ServerName::try_from(host.to_string()) {
        Ok(n) => n,
        Err(e) => {
            return fail(TlsError::Protocol {
                message: format!("{host:?} is not a valid server name: {e}"),
            })
        }
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let result = tokio::time::timeout(deadline, connector.connect(name, stream)).await;
    let rec = verifier.take();
    let result = match result {
        Err(_) => Err(TlsError::Timeout {
            ms: start.elapsed().as_millis() as u64,
        }),
        Ok(Err(e)) => Err(classify(&e)),
        Ok(Ok(tls)) => {
            let (_, conn) = tls.get_ref();
            Ok(Negotiated {
                version: conn
                    .protocol_version()
                    .map(version_name)
                    .unwrap_or_else(|| "unknown".into()),
                cipher: conn
                    .negotiated_cipher_suite()
                    .map(|s| format!("{:?}", s.suite()))
                    .unwrap_or_else(|| "unknown".into()),
                alpn: conn
                    .alpn_protocol()
                    .map(|p| String::from_utf8_lossy(p).into_owned()),
                elapsed_ms: start.elapsed().as_millis() as u64,
            })
        }
    };
    Attempt {
        versions,
        result,
        chain: rec.chain,
        verdicts: rec.verdicts,
    }
}

fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        other => format!("{other:?}"),
    }
}

/// Which root a served chain leads to.
#[derive(Debug, Default)]
pub struct AnchorSearch<'a> {
    /// The root the chain verifies to, validity periods and the server name aside (those are
    /// judged separately).
    pub anchor: Option<&'a RootCert>,
    /// A root the chain names as issuer but does not verify to, and why (bad signature, wrong
    /// key usage, ...).
    pub near: Option<(&'a RootCert, rustls::Error)>,
}

/// Tries each root whose subject is an issuer in the served chain, on its own; an expired root
/// is the anchor only when no current one works.
pub fn find_anchor<'a>(
    chain: &[CertificateDer<'static>],
    infos: &[CertInfo],
    roots: &'a [RootCert],
) -> AnchorSearch<'a> {
    let mut out = AnchorSearch::default();
    let Some(leaf) = chain.first() else {
        return out;
    };
    let Ok(parsed) = rustls::server::ParsedCertificate::try_from(leaf) else {
        return out;
    };
    // A moment inside every served certificate's validity window, so that an expired leaf or
    // intermediate does not hide which root the chain leads to.
    let lo = infos.iter().map(|c| c.not_before_unix).max().unwrap_or(0);
    let hi = infos.iter().map(|c| c.not_after_unix).min().unwrap_or(0);
    let at = if lo <= hi {
        lo.max(0) as u64 + ((hi - lo) as u64) / 2
    } else {
        infos
            .first()
            .map(|c| c.not_before_unix.max(0) as u64 + 1)
            .unwrap_or(0)
    };
    let at = UnixTime::since_unix_epoch(Duration::from_secs(at));
    let algs = provider().signature_verification_algorithms.all;
    // Unexpired roots first: a chain that also reaches an expired root (a stale cross-sign to
    // DST Root CA X3) is anchored at the current one, as modern verifiers see it.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let mut candidates: Vec<&RootCert> = roots
        .iter()
        .filter(|r| infos.iter().any(|c| c.issuer_raw == r.subject_raw))
        .collect();
    candidates.sort_by_key(|r| r.expired_at(now));
    for r in candidates {
        let mut one = RootCertStore::empty();
        if one.add(CertificateDer::from(r.der.clone())).is_err() {
            continue;
        }
        match rustls::client::verify_server_cert_signed_by_trust_anchor(
            &parsed,
            &one,
            &chain[1..],
            at,
            algs,
        ) {
            // A path that fails only on dates still ends at this root: the dates are judged
            // separately (no single moment may suit an expired cross-sign and a fresh leaf).
            Ok(())
            | Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Expired
                | rustls::CertificateError::ExpiredContext { .. }
                | rustls::CertificateError::NotValidYet
                | rustls::CertificateError::NotValidYetContext { .. },
            )) => {
                out.anchor = Some(r);
                return out;
            }
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)) => {}
            Err(e) => {
                if out.near.is_none() {
                    out.near = Some((r, e));
                }
            }
        }
    }
    out
}

/// Whether the leaf is valid for `host` (names only).
pub fn name_matches(leaf: &CertificateDer<'_>, host: &str) -> Result<(), String> {
    let parsed = rustls::server::ParsedCertificate::try_from(leaf).map_err(|e| e.to_string())?;
    let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
    rustls::client::verify_server_name(&parsed, &name).map_err(|e| e.to_string())
}

/// What a server said to a hand-built TLS 1.0 ClientHello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum LegacyReply {
    /// A ServerHello with this version (0x0301 = TLS 1.0, 0x0302 = TLS 1.1, ...).
    ServerHello {
        version: u16,
    },
    Alert {
        level: u8,
        description: u8,
    },
    Closed,
    Reset,
    Timeout,
    /// Something that is not a TLS record (first bytes, hex).
    NotTls {
        head: String,
    },
}

impl LegacyReply {
    pub fn describe(&self) -> String {
        match self {
            LegacyReply::ServerHello { version } => {
                format!("ServerHello with {}", wire_version(*version))
            }
            LegacyReply::Alert { level, description } => format!(
                "{} alert {} ({description})",
                if *level == 2 { "fatal" } else { "warning" },
                alert_name(*description)
            ),
            LegacyReply::Closed => "connection closed without a reply".into(),
            LegacyReply::Reset => "connection reset (TCP RST)".into(),
            LegacyReply::Timeout => "no reply before the deadline".into(),
            LegacyReply::NotTls { head } => format!("a reply that is not TLS ({head})"),
        }
    }
}

fn alert_name(d: u8) -> &'static str {
    match d {
        0 => "close_notify",
        10 => "unexpected_message",
        40 => "handshake_failure",
        47 => "illegal_parameter",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        112 => "unrecognized_name",
        _ => "other",
    }
}

pub fn wire_version(v: u16) -> String {
    match v {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        v => format!("version 0x{v:04x}"),
    }
}

/// A TLS 1.0 ClientHello as an old client sends it: no supported_versions extension, so a
/// server that can only speak TLS 1.0/1.1 still answers with its own version.
pub fn legacy_client_hello(host: &str) -> Vec<u8> {
    let mut ext = Vec::new();
    // server_name, when the host is a name.
    if host.parse::<std::net::IpAddr>().is_err() && host.len() < 200 {
        let h = host.as_bytes();
        let list_len = h.len() + 3;
        ext.extend([0x00, 0x00]);
        ext.extend(u16be(list_len + 2));
        ext.extend(u16be(list_len));
        ext.push(0x00);
        ext.extend(u16be(h.len()));
        ext.extend(h);
    }
    // supported_groups: secp256r1, secp384r1.
    ext.extend([0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x17, 0x00, 0x18]);
    // ec_point_formats: uncompressed.
    ext.extend([0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);

    let mut body = vec![0x03, 0x01];
    // The random need not be random: nothing is ever encrypted on this connection.
    body.extend([0x5a; 32]);
    body.push(0x00); // no session id
    let ciphers: [u16; 6] = [0xc013, 0xc014, 0x002f, 0x0035, 0x000a, 0x00ff];
    body.extend(u16be(ciphers.len() * 2));
    for c in ciphers {
        body.extend(c.to_be_bytes());
    }
    body.extend([0x01, 0x00]); // null compression
    body.extend(u16be(ext.len()));
    body.extend(ext);

    let mut hs = vec![0x01];
    hs.extend(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend(body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend(u16be(hs.len()));
    rec.extend(hs);
    rec
}

fn u16be(n: usize) -> [u8; 2] {
    (n as u16).to_be_bytes()
}

/// Sends a TLS 1.0 ClientHello and reads the first record of the reply (capped at 64 KiB).
pub async fn legacy_probe<S: Stream>(mut stream: S, host: &str, deadline: Duration) -> LegacyReply {
    const CAP: usize = 64 * 1024;
    let work = async {
        if let Err(e) = stream.write_all(&legacy_client_hello(host)).await {
            return io_reply(&e);
        }
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) if buf.is_empty() => return LegacyReply::Closed,
                Ok(0) => return not_tls(&buf),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) if buf.is_empty() => return io_reply(&e),
                Err(_) => return not_tls(&buf),
            }
            match tls_parser::parse_tls_plaintext(&buf) {
                Ok((_, rec)) => {
                    for m in &rec.msg {
                        match m {
                            tls_parser::TlsMessage::Handshake(
                                tls_parser::TlsMessageHandshake::ServerHello(sh),
                            ) => {
                                return LegacyReply::ServerHello {
                                    version: sh.version.0,
                                }
                            }
                            tls_parser::TlsMessage::Alert(a) => {
                                return LegacyReply::Alert {
                                    level: a.severity.0,
                                    description: a.code.0,
                                }
                            }
                            _ => {}
                        }
                    }
                    return not_tls(&buf);
                }
                Err(tls_parser::Err::Incomplete(_)) if buf.len() < CAP => continue,
                Err(_) => return not_tls(&buf),
            }
        }
    };
    tokio::time::timeout(deadline, work)
        .await
        .unwrap_or(LegacyReply::Timeout)
}

fn io_reply(e: &io::Error) -> LegacyReply {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => LegacyReply::Closed,
        _ => LegacyReply::Reset,
    }
}

fn not_tls(buf: &[u8]) -> LegacyReply {
    LegacyReply::NotTls {
        head: hex::encode(&buf[..buf.len().min(16)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_hello_parses_as_tls10_client_hello() {
        let hello = legacy_client_hello("acme-v02.api.letsencrypt.org");
        let (rest, rec) = tls_parser::parse_tls_plaintext(&hello).unwrap();
        assert!(rest.is_empty());
        assert_eq!(rec.hdr.version.0, 0x0301);
        match &rec.msg[0] {
            tls_parser::TlsMessage::Handshake(tls_parser::TlsMessageHandshake::ClientHello(ch)) => {
                assert_eq!(ch.version.0, 0x0301);
                assert_eq!(ch.ciphers.len(), 6);
                let ext = ch.ext.unwrap();
                let (_, exts) = tls_parser::parse_tls_client_hello_extensions(ext).unwrap();
                assert!(exts.iter().any(|e| matches!(
                    e,
                    tls_parser::TlsExtension::SNI(v) if v[0].1 == b"acme-v02.api.letsencrypt.org"
                )));
                assert!(!exts
                    .iter()
                    .any(|e| matches!(e, tls_parser::TlsExtension::SupportedVersions(_))));
            }
            other => panic!("not a ClientHello: {other:?}"),
        }
    }
}

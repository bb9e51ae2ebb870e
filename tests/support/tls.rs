//! TLS servers on 127.0.0.1 random ports: well-behaved rustls servers with chosen chains and
//! versions, and misbehaving peers (legacy TLS 1.0, resets, silence, alerts).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the fixture answers each connection.
pub enum Behaviour {
    /// A rustls server sending `chain` (leaf first) with these protocol versions.
    Tls {
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        versions: Vec<&'static rustls::SupportedProtocolVersion>,
    },
    /// Answers any ClientHello with a hand-built TLS 1.0 ServerHello.
    LegacyHello,
    /// Resets a modern ClientHello but answers a TLS 1.0 one with a TLS 1.0 ServerHello, like
    /// a version-intolerant old server.
    IntolerantLegacy,
    /// Resets the connection (SO_LINGER 0) once the ClientHello arrives.
    Reset,
    /// Accepts and never says anything.
    Silent,
    /// A TLS 1.2 server behind a box that resets any ClientHello offering TLS 1.3 cipher suites
    /// (a TLS 1.3-intolerant middlebox).
    Tls13Intolerant {
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    },
    /// Answers any ClientHello with this fatal alert (40 handshake_failure, 70 protocol_version).
    Alert(u8),
    /// A TLS server behind a path-MTU blackhole: when the client's MSS lets the server send
    /// segments larger than `max_mss`, those segments "never arrive" (the fixture stays silent);
    /// with a smaller MSS the handshake completes.
    MtuBlackhole {
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        max_mss: u32,
    },
}

pub fn tls(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Behaviour {
    Behaviour::Tls {
        chain,
        key,
        versions: vec![&rustls::version::TLS13, &rustls::version::TLS12],
    }
}

/// A running TLS fixture; it stops when dropped.
pub struct TlsFixture {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsFixture {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A TLS 1.0 ServerHello (cipher TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA) and ServerHelloDone.
fn legacy_server_hello() -> Vec<u8> {
    let mut body = vec![0x03, 0x01];
    body.extend([0x11; 32]);
    body.push(0x00);
    body.extend([0xc0, 0x13, 0x00]);
    let mut hs = vec![0x02, 0x00, 0x00, body.len() as u8];
    hs.extend(body);
    hs.extend([0x0e, 0x00, 0x00, 0x00]);
    let mut rec = vec![0x16, 0x03, 0x01, 0x00, hs.len() as u8];
    rec.extend(hs);
    rec
}

async fn read_hello(s: &mut TcpStream) -> Vec<u8> {
    let mut buf = vec![0u8; 16 * 1024];
    match tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await {
        Ok(Ok(n)) => buf.truncate(n),
        _ => buf.clear(),
    }
    buf
}

fn reset(s: TcpStream) {
    let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
    drop(s);
}

/// Whether a ClientHello lists TLS 1.3 in its supported_versions extension (tls-parser).
fn offers_tls13(hello: &[u8]) -> bool {
    let Ok((_, rec)) = tls_parser::parse_tls_plaintext(hello) else {
        return false;
    };
    rec.msg.iter().any(|m| match m {
        tls_parser::TlsMessage::Handshake(tls_parser::TlsMessageHandshake::ClientHello(ch)) => ch
            .ext
            .and_then(|e| tls_parser::parse_tls_client_hello_extensions(e).ok())
            .is_some_and(|(_, exts)| {
                exts.iter().any(|x| {
                    matches!(x, tls_parser::TlsExtension::SupportedVersions(v)
                        if v.iter().any(|v| v.0 == 0x0304))
                })
            }),
        _ => false,
    })
}

/// The client_version in a ClientHello record, parsed with tls-parser.
fn client_version(hello: &[u8]) -> Option<u16> {
    let (_, rec) = tls_parser::parse_tls_plaintext(hello).ok()?;
    rec.msg.iter().find_map(|m| match m {
        tls_parser::TlsMessage::Handshake(tls_parser::TlsMessageHandshake::ClientHello(ch)) => {
            Some(ch.version.0)
        }
        _ => None,
    })
}

async fn serve_one(mut s: TcpStream, b: Arc<Behaviour>, config: Option<Arc<rustls::ServerConfig>>) {
    let acceptor = config.clone().map(tokio_rustls::TlsAcceptor::from);
    match &*b {
        Behaviour::Tls13Intolerant { .. } => {
            // Look at the ClientHello without consuming it, as a middlebox would.
            let mut buf = vec![0u8; 16 * 1024];
            let n = match tokio::time::timeout(Duration::from_secs(10), s.peek(&mut buf)).await {
                Ok(Ok(n)) => n,
                _ => return,
            };
            if offers_tls13(&buf[..n]) {
                reset(s);
            } else if let Some(a) = acceptor {
                if let Ok(Ok(mut tls)) =
                    tokio::time::timeout(Duration::from_secs(10), a.accept(s)).await
                {
                    let mut buf = [0u8; 1024];
                    let _ = tokio::time::timeout(Duration::from_secs(10), tls.read(&mut buf)).await;
                }
            }
        }
        Behaviour::MtuBlackhole { max_mss, .. } => {
            let mss = socket2::SockRef::from(&s).tcp_mss().unwrap_or(u32::MAX);
            if mss > *max_mss {
                // Full-size segments are lost on the way: the client sees a stall.
                tokio::time::sleep(Duration::from_secs(30)).await;
                return;
            }
            if let Some(a) = acceptor {
                if let Ok(Ok(mut tls)) =
                    tokio::time::timeout(Duration::from_secs(10), a.accept(s)).await
                {
                    let mut buf = [0u8; 1024];
                    let _ = tokio::time::timeout(Duration::from_secs(10), tls.read(&mut buf)).await;
                }
            }
        }
        Behaviour::Tls { .. } => {
            if let Some(a) = acceptor {
                if let Ok(Ok(mut tls)) =
                    tokio::time::timeout(Duration::from_secs(10), a.accept(s)).await
                {
                    // Hold the session until the client goes away.
                    let mut buf = [0u8; 1024];
                    let _ = tokio::time::timeout(Duration::from_secs(10), tls.read(&mut buf)).await;
                }
            }
        }
        Behaviour::LegacyHello => {
            if !read_hello(&mut s).await.is_empty() {
                let _ = s.write_all(&legacy_server_hello()).await;
                let mut buf = [0u8; 1024];
                let _ = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await;
            }
        }
        Behaviour::IntolerantLegacy => {
            let hello = read_hello(&mut s).await;
            if client_version(&hello) == Some(0x0301) {
                let _ = s.write_all(&legacy_server_hello()).await;
                let mut buf = [0u8; 1024];
                let _ = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await;
            } else {
                reset(s);
            }
        }
        Behaviour::Reset => {
            let _ = read_hello(&mut s).await;
            reset(s);
        }
        Behaviour::Silent => {
            let mut buf = [0u8; 4096];
            while let Ok(n) = s.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        }
        Behaviour::Alert(code) => {
            if !read_hello(&mut s).await.is_empty() {
                let _ = s
                    .write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, *code])
                    .await;
                let _ = s.shutdown().await;
            }
        }
    }
}

impl TlsFixture {
    pub async fn start(b: Behaviour) -> TlsFixture {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let config = match &b {
            Behaviour::Tls13Intolerant { chain, key } => Some(Arc::new(
                rustls::ServerConfig::builder_with_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .with_protocol_versions(&[&rustls::version::TLS12])
                .expect("versions")
                .with_no_client_auth()
                .with_single_cert(chain.clone(), key.clone_key())
                .expect("server cert"),
            )),
            Behaviour::MtuBlackhole { chain, key, .. } => Some(Arc::new(
                rustls::ServerConfig::builder_with_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .with_safe_default_protocol_versions()
                .expect("versions")
                .with_no_client_auth()
                .with_single_cert(chain.clone(), key.clone_key())
                .expect("server cert"),
            )),
            Behaviour::Tls {
                chain,
                key,
                versions,
            } => {
                let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .with_protocol_versions(versions)
                .expect("versions")
                .with_no_client_auth()
                .with_single_cert(chain.clone(), key.clone_key())
                .expect("server cert");
                cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
                Some(Arc::new(cfg))
            }
            _ => None,
        };
        let b = Arc::new(b);
        let task = tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                tokio::spawn(serve_one(s, b.clone(), config.clone()));
            }
        });
        TlsFixture { addr, task }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

/// An HTTP CONNECT proxy on loopback that tunnels every CONNECT to `target`, whatever host it
/// names (as if it resolved the name itself), and records the request lines it saw.
pub struct ConnectProxy {
    pub addr: SocketAddr,
    pub seen: Arc<std::sync::Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ConnectProxy {
    pub async fn start(target: SocketAddr) -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
                        match client.read(&mut byte).await {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    let line = String::from_utf8_lossy(&head)
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    log.lock().unwrap().push(line);
                    let Ok(mut upstream) = TcpStream::connect(target).await else {
                        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                        return;
                    };
                    if client
                        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .await
                        .is_ok()
                    {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
            }
        });
        ConnectProxy { addr, seen, task }
    }
}

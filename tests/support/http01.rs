//! Web servers for the inbound HTTP-01 / TLS-ALPN-01 checks: one port on 127.0.0.1 and ::1,
//! each address with its own behaviour, optionally behind TLS (a self-signed certificate, as the
//! CA does not verify it). Every misbehaviour the checks name has a behaviour here.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::TcpListener;

use super::tcp::BlackHole;

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: vec![("Server".into(), "nginx".into())],
            body: b"<html><body>not found</body></html>".to_vec(),
        }
    }
    pub fn body(status: u16, body: &str) -> Reply {
        Reply {
            body: body.as_bytes().to_vec(),
            ..Reply::status(status)
        }
    }
    pub fn server(mut self, server: &str) -> Reply {
        self.headers.retain(|(k, _)| k != "Server");
        self.headers.push(("Server".into(), server.into()));
        self
    }
    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }
    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply::status(status).header("Location", location)
    }
}

pub type Route = Arc<dyn Fn(&str) -> Reply + Send + Sync>;

/// What one address does with a connection.
#[derive(Clone)]
pub enum Conn {
    /// Answers HTTP; the route maps the request path to a reply.
    Http(Route),
    /// Serves files from a webroot under /.well-known/acme-challenge/, 404 otherwise.
    Webroot(PathBuf),
    /// 200 with a 16 MiB body.
    Huge,
    /// Accepts, reads the request and never answers.
    Hang,
    /// Reads the request, then resets the connection.
    Reset,
    /// Accepts and closes at once.
    Close,
    /// Reads what the client sends, answers with these bytes and closes.
    Raw(&'static [u8]),
    /// Drops SYNs: connects time out.
    Drop,
}

/// A fatal handshake_failure alert, as a TLS server with no common cipher or version sends.
pub const TLS_ALERT: Conn = Conn::Raw(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
/// Another protocol on the port.
pub const SSH_BANNER: Conn = Conn::Raw(b"SSH-2.0-OpenSSH_9.6\r\n");

pub fn always(r: Reply) -> Conn {
    Conn::Http(Arc::new(move |_| r.clone()))
}

pub fn route(f: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Conn {
    Conn::Http(Arc::new(f))
}

/// A running fixture; it stops when dropped.
pub struct HttpFixture {
    pub port: u16,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _holes: Vec<BlackHole>,
}

impl Drop for HttpFixture {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl HttpFixture {
    /// Plain HTTP on one port: `v4` on 127.0.0.1, `v6` on ::1; `None` leaves that address closed.
    pub async fn start(v4: Option<Conn>, v6: Option<Conn>) -> HttpFixture {
        Self::start_on(v4, v6, false).await
    }

    /// The same over TLS with a self-signed certificate for www.example.com.
    pub async fn start_tls(v4: Option<Conn>, v6: Option<Conn>) -> HttpFixture {
        Self::start_on(v4, v6, true).await
    }

    async fn start_on(v4: Option<Conn>, v6: Option<Conn>, tls: bool) -> HttpFixture {
        let acceptor = tls.then(acceptor);
        for _ in 0..50 {
            // A port free on both families; BlackHole binds its own socket.
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let port = probe.local_addr().expect("addr").port();
            drop(probe);
            let mut tasks = Vec::new();
            let mut holes = Vec::new();
            let mut ok = true;
            for (ip, conn) in [("127.0.0.1", &v4), ("::1", &v6)] {
                let Some(conn) = conn else { continue };
                let addr = SocketAddr::new(ip.parse().expect("ip"), port);
                if let Conn::Drop = conn {
                    match std::panic::catch_unwind(|| BlackHole::bind(&addr.to_string())) {
                        Ok(h) => holes.push(h),
                        Err(_) => ok = false,
                    }
                    continue;
                }
                match TcpListener::bind(addr).await {
                    Ok(l) => tasks.push(tokio::spawn(serve(l, conn.clone(), acceptor.clone()))),
                    Err(_) => ok = false,
                }
            }
            if ok {
                return HttpFixture {
                    port,
                    tasks,
                    _holes: holes,
                };
            }
            for t in tasks {
                t.abort();
            }
        }
        panic!("no port free on both 127.0.0.1 and ::1");
    }
}

fn acceptor() -> tokio_rustls::TlsAcceptor {
    let cert = rcgen::generate_simple_self_signed(vec!["www.example.com".to_string()])
        .expect("self-signed certificate");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        cert.signing_key.serialize_der(),
    ));
    let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert.cert.der().clone()], key)
    .expect("server cert");
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    tokio_rustls::TlsAcceptor::from(Arc::new(cfg))
}

async fn serve(l: TcpListener, conn: Conn, tls: Option<tokio_rustls::TlsAcceptor>) {
    let mut held = Vec::new();
    while let Ok((s, _)) = l.accept().await {
        let conn = conn.clone();
        let tls = tls.clone();
        held.push(tokio::spawn(async move {
            match conn {
                Conn::Close => drop(s),
                Conn::Reset => {
                    let mut s = s;
                    let mut buf = [0u8; 1024];
                    let _ = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await;
                    let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
                    drop(s);
                }
                Conn::Raw(bytes) => {
                    use tokio::io::AsyncWriteExt;
                    let mut s = s;
                    let mut buf = [0u8; 4096];
                    let _ = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await;
                    let _ = s.write_all(bytes).await;
                    let _ = s.shutdown().await;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Conn::Hang => {
                    let _s = s;
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
                other => match tls {
                    Some(a) => {
                        if let Ok(t) = a.accept(s).await {
                            http(t, other).await
                        }
                    }
                    None => http(s, other).await,
                },
            }
        }));
    }
}

async fn http<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(s: S, conn: Conn) {
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let conn = conn.clone();
        async move { Ok::<_, Infallible>(respond(&conn, req.uri().path())) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(s), svc)
        .await;
}

fn respond(conn: &Conn, path: &str) -> Response<Full<Bytes>> {
    let reply = match conn {
        Conn::Http(route) => route(path),
        Conn::Huge => Reply {
            status: 200,
            headers: vec![],
            body: vec![b'x'; 16 << 20],
        },
        Conn::Webroot(dir) => match path.strip_prefix("/.well-known/acme-challenge/") {
            Some(name) if !name.contains('/') && !name.contains("..") && !name.is_empty() => {
                match std::fs::read(dir.join(".well-known/acme-challenge").join(name)) {
                    Ok(b) => Reply {
                        status: 200,
                        headers: vec![("Server".into(), "nginx".into())],
                        body: b,
                    },
                    Err(_) => Reply::status(404),
                }
            }
            _ => Reply::status(404),
        },
        _ => Reply::status(500),
    };
    let mut b = Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(Full::new(Bytes::from(reply.body)))
        .expect("fixture response")
}

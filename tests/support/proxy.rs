//! An HTTP CONNECT proxy on 127.0.0.1 (hyper 1 server with upgrades). Whatever host a CONNECT
//! names, the tunnel goes to 127.0.0.1 on the requested port, so tests never leave loopback.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::Engine;
use http_body_util::Empty;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone)]
pub enum ProxyMode {
    /// Tunnels every CONNECT.
    Open,
    /// Answers every CONNECT with 403.
    Forbid,
    /// Demands Basic credentials (407 without or with wrong ones), then tunnels.
    Auth { user: String, password: String },
}

pub struct ProxyFixture {
    pub addr: SocketAddr,
    /// CONNECT requests that were tunnelled.
    pub tunnels: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ProxyFixture {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ProxyFixture {
    pub async fn start(mode: ProxyMode) -> ProxyFixture {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let tunnels = Arc::new(AtomicUsize::new(0));
        let count = tunnels.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let mode = mode.clone();
                let count = count.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let mode = mode.clone();
                        let count = count.clone();
                        async move { Ok::<_, Infallible>(handle(&mode, &count, req)) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tcp), service)
                        .with_upgrades()
                        .await;
                });
            }
        });
        ProxyFixture {
            addr,
            tunnels,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://USER:PASSWORD@127.0.0.1:PORT`
    pub fn url_with(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@{}", self.addr)
    }

    pub fn tunnels(&self) -> usize {
        self.tunnels.load(Ordering::SeqCst)
    }
}

fn reply(status: StatusCode) -> Response<Empty<Bytes>> {
    let mut r = Response::new(Empty::new());
    *r.status_mut() = status;
    r
}

fn handle(
    mode: &ProxyMode,
    count: &Arc<AtomicUsize>,
    req: Request<Incoming>,
) -> Response<Empty<Bytes>> {
    if req.method() != Method::CONNECT {
        return reply(StatusCode::METHOD_NOT_ALLOWED);
    }
    match mode {
        ProxyMode::Forbid => return reply(StatusCode::FORBIDDEN),
        ProxyMode::Auth { user, password } => {
            let want = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            );
            let got = req
                .headers()
                .get(hyper::header::PROXY_AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            if got != Some(want.as_str()) {
                let mut r = reply(StatusCode::PROXY_AUTHENTICATION_REQUIRED);
                r.headers_mut().insert(
                    hyper::header::PROXY_AUTHENTICATE,
                    "Basic realm=\"fixture\"".parse().expect("header"),
                );
                return r;
            }
        }
        ProxyMode::Open => {}
    }
    let Some(port) = req.uri().port_u16() else {
        return reply(StatusCode::BAD_REQUEST);
    };
    count.fetch_add(1, Ordering::SeqCst);
    tokio::spawn(async move {
        let Ok(upgraded) = hyper::upgrade::on(req).await else {
            return;
        };
        let Ok(mut target) = TcpStream::connect(("127.0.0.1", port)).await else {
            return;
        };
        let mut client = TokioIo::new(upgraded);
        let _ = tokio::io::copy_bidirectional(&mut client, &mut target).await;
    });
    reply(StatusCode::OK)
}

/// A proxy address with nothing listening.
pub fn dead_proxy() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    format!("http://{}", l.local_addr().expect("addr"))
}

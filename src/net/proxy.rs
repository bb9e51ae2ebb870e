//! The proxy an ACME client would use, from the environment, and CONNECT tunnels through it.
//!
//! Variable precedence follows curl and reqwest: `https_proxy`/`HTTPS_PROXY`, then
//! `all_proxy`/`ALL_PROXY`; `no_proxy`/`NO_PROXY` lists hosts, domains (matching subdomains),
//! IPs and CIDRs that bypass it, and `*` bypasses everything. Credentials are kept apart from
//! everything that is displayed, so they cannot reach a report.

use std::net::IpAddr;
use std::time::{Duration, Instant};

type Empty = http_body_util::Empty<hyper::body::Bytes>;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use url::Url;

use crate::net::tcp::{self, ConnectError};

#[derive(Debug, Clone, Serialize)]
pub struct ProxyVar {
    pub name: String,
    /// The value with any password replaced by `***`.
    pub value: String,
}

#[derive(Debug, Clone, Default)]
pub struct ProxyEnv {
    pub vars: Vec<ProxyVar>,
    https: Option<(String, String)>,
    no_proxy: Option<String>,
}

/// A proxy that applies to a host.
#[derive(Debug, Clone)]
pub struct Proxy {
    /// Which variable set it.
    pub var: String,
    pub url: Url,
    pub host: String,
    pub port: u16,
    /// `Proxy-Authorization` header value; never displayed.
    auth: Option<String>,
}

impl Proxy {
    /// The proxy URL without credentials.
    pub fn display(&self) -> String {
        format!("{}://{}:{}", self.url.scheme(), self.host, self.port)
    }
    pub fn has_credentials(&self) -> bool {
        self.auth.is_some()
    }
    /// The URL with credentials, for handing to reqwest only.
    pub fn url_with_credentials(&self) -> &Url {
        &self.url
    }
}

pub fn redact_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            if !u.username().is_empty() {
                let _ = u.set_username("***");
            }
            u.to_string()
        }
        // Unparseable values may still hold a password; show only their shape.
        Err(_) if raw.contains('@') => "(unparseable value with credentials)".into(),
        Err(_) => raw.to_string(),
    }
}

impl ProxyEnv {
    pub fn from_env() -> ProxyEnv {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> ProxyEnv {
        let mut env = ProxyEnv::default();
        for name in [
            "https_proxy",
            "HTTPS_PROXY",
            "all_proxy",
            "ALL_PROXY",
            "http_proxy",
            "HTTP_PROXY",
            "no_proxy",
            "NO_PROXY",
        ] {
            if let Some(v) = get(name).filter(|v| !v.trim().is_empty()) {
                env.vars.push(ProxyVar {
                    name: name.into(),
                    value: redact_url(&v),
                });
                let lower = name.to_ascii_lowercase();
                if (lower == "https_proxy" || lower == "all_proxy") && env.https.is_none() {
                    env.https = Some((name.into(), v.trim().to_string()));
                } else if lower == "no_proxy" && env.no_proxy.is_none() {
                    env.no_proxy = Some(v);
                }
            }
        }
        env
    }

    /// The proxy an HTTPS request to `host` goes through, or an error for a value that does
    /// not parse (reported by `proxy.env`).
    pub fn for_host(&self, host: &str) -> Option<Proxy> {
        self.proxy_for(host).ok().flatten()
    }

    pub fn proxy_for(&self, host: &str) -> Result<Option<Proxy>, String> {
        let Some((var, raw)) = &self.https else {
            return Ok(None);
        };
        if self.bypassed(host) {
            return Ok(None);
        }
        let with_scheme = if raw.contains("://") {
            raw.clone()
        } else {
            format!("http://{raw}")
        };
        let url =
            Url::parse(&with_scheme).map_err(|e| format!("{var}={}: {e}", redact_url(raw)))?;
        let phost = url
            .host_str()
            .ok_or_else(|| format!("{var}={}: no host", redact_url(raw)))?
            .to_string();
        let port = url.port_or_known_default().unwrap_or(1080);
        let auth = if url.username().is_empty() {
            None
        } else {
            let user = percent_decode(url.username());
            let pass = percent_decode(url.password().unwrap_or(""));
            Some(format!("Basic {}", base64(&format!("{user}:{pass}"))))
        };
        Ok(Some(Proxy {
            var: var.clone(),
            url,
            host: phost.trim_matches(['[', ']']).to_string(),
            port,
            auth,
        }))
    }

    pub fn no_proxy(&self) -> Option<&str> {
        self.no_proxy.as_deref()
    }

    /// Whether NO_PROXY covers `host`.
    pub fn bypassed(&self, host: &str) -> bool {
        let Some(list) = &self.no_proxy else {
            return false;
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let ip: Option<IpAddr> = host.parse().ok();
        list.split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .any(|entry| {
                if entry == "*" {
                    return true;
                }
                if let (Some(ip), Ok(net)) = (ip, entry.parse::<ipnet::IpNet>()) {
                    return net.contains(&ip);
                }
                if let (Some(ip), Ok(eip)) = (ip, entry.parse::<IpAddr>()) {
                    return ip == eip;
                }
                let dom = entry
                    .trim_start_matches("*.")
                    .trim_start_matches('.')
                    .to_ascii_lowercase();
                host == dom || host.ends_with(&format!(".{dom}"))
            })
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn base64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ProxyError {
    #[error("cannot resolve the proxy host {host}")]
    Resolve { host: String },
    #[error("cannot connect to the proxy: {0}")]
    Connect(ConnectError),
    #[error("the proxy demands authentication (407)")]
    AuthRequired,
    #[error("the proxy refused CONNECT with {status}")]
    Refused { status: u16 },
    #[error("no answer from the proxy within {ms} ms")]
    Timeout { ms: u64 },
    #[error("the proxy broke the connection: {message}")]
    Protocol { message: String },
}

impl ProxyError {
    pub fn label(&self) -> &'static str {
        match self {
            ProxyError::Resolve { .. } => "resolve",
            ProxyError::Connect(_) => "connect",
            ProxyError::AuthRequired => "auth-required",
            ProxyError::Refused { .. } => "refused",
            ProxyError::Timeout { .. } => "timeout",
            ProxyError::Protocol { .. } => "protocol",
        }
    }
}

pub type Tunnel = TokioIo<hyper::upgrade::Upgraded>;

/// Opens a CONNECT tunnel to `host:port` through `proxy`, within `deadline` overall.
pub async fn connect(
    proxy: &Proxy,
    host: &str,
    port: u16,
    deadline: Duration,
) -> Result<(Tunnel, Duration), ProxyError> {
    let start = Instant::now();
    let addr = tokio::time::timeout(
        deadline,
        tokio::net::lookup_host((proxy.host.as_str(), proxy.port)),
    )
    .await
    .map_err(|_| ProxyError::Timeout {
        ms: start.elapsed().as_millis() as u64,
    })?
    .ok()
    .and_then(|mut it| it.next())
    .ok_or_else(|| ProxyError::Resolve {
        host: proxy.host.clone(),
    })?;
    let (stream, _) = tcp::connect(addr, deadline.saturating_sub(start.elapsed()))
        .await
        .map_err(ProxyError::Connect)?;
    let rest = deadline.saturating_sub(start.elapsed());
    let handshake = async {
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake::<_, Empty>(TokioIo::new(stream))
                .await
                .map_err(|e| ProxyError::Protocol {
                    message: e.to_string(),
                })?;
        tokio::spawn(conn.with_upgrades());
        let target = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let mut req = Request::connect(target.clone()).header(hyper::header::HOST, target);
        if let Some(a) = &proxy.auth {
            req = req.header(hyper::header::PROXY_AUTHORIZATION, a);
        }
        let req = req.body(Empty::new()).map_err(|e| ProxyError::Protocol {
            message: e.to_string(),
        })?;
        let res = sender
            .send_request(req)
            .await
            .map_err(|e| ProxyError::Protocol {
                message: e.to_string(),
            })?;
        match res.status() {
            s if s.is_success() => hyper::upgrade::on(res)
                .await
                .map(TokioIo::new)
                .map_err(|e| ProxyError::Protocol {
                    message: e.to_string(),
                }),
            StatusCode::PROXY_AUTHENTICATION_REQUIRED => Err(ProxyError::AuthRequired),
            s => Err(ProxyError::Refused { status: s.as_u16() }),
        }
    };
    match tokio::time::timeout(rest, handshake).await {
        Ok(r) => r.map(|t| (t, start.elapsed())),
        Err(_) => Err(ProxyError::Timeout {
            ms: start.elapsed().as_millis() as u64,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> ProxyEnv {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ProxyEnv::from_vars(|k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn credentials_never_displayed() {
        let e = env(&[("HTTPS_PROXY", "http://alice:s3cret@proxy.corp:3128")]);
        let p = e.for_host("acme-v02.api.letsencrypt.org").unwrap();
        assert_eq!(p.display(), "http://proxy.corp:3128");
        assert!(p.has_credentials());
        assert!(!format!("{:?}", e.vars).contains("s3cret"));
        assert!(!format!("{:?}", e.vars).contains("alice"));
        assert_eq!(p.auth.as_deref(), Some("Basic YWxpY2U6czNjcmV0"));
    }

    #[test]
    fn no_proxy_rules() {
        let e = env(&[
            ("https_proxy", "proxy:8080"),
            ("NO_PROXY", "letsencrypt.org, 10.0.0.0/8,192.0.2.1"),
        ]);
        assert!(e.for_host("acme-v02.api.letsencrypt.org").is_none());
        assert!(e.for_host("10.1.2.3").is_none());
        assert!(e.for_host("192.0.2.1").is_none());
        assert_eq!(e.for_host("acme.zerossl.com").unwrap().port, 8080);
        assert!(env(&[("HTTPS_PROXY", "http://p:1"), ("no_proxy", "*")])
            .for_host("x.org")
            .is_none());
        assert!(env(&[("ALL_PROXY", "http://p:1")])
            .for_host("x.org")
            .is_some());
        assert!(env(&[("HTTP_PROXY", "http://p:1")])
            .for_host("x.org")
            .is_none());
    }
}

//! `http01.token`: a real round trip. A random token is placed where the ACME client would put
//! it (`--webroot DIR`) or served on the HTTP port as certbot's standalone mode does
//! (`--standalone`), fetched through the domain at every address the way the CA fetches it, and
//! compared with what was placed. The token file is always removed: on success, on error, on a
//! panic or timeout (a guard's `Drop`), and on Ctrl-C or SIGTERM (a signal handler that removes
//! every pending file before exiting).

use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use serde::Serialize;

use crate::checks::http01_reachability::{
    addr_sensitivity, describe, http01_applies, http01_names, join_all, outcome_label, probe,
    validator, Probed,
};
use crate::engine::{finding, BoxFuture, Check, Ctx, FindingExt, Outcome};
use crate::net::validation::{self, Trace};
use crate::plan::Plan;
use crate::report::model::{Finding, Sensitivity, Severity};

pub struct Http01Token;

impl Check for Http01Token {
    fn id(&self) -> &'static str {
        "http01.token"
    }

    fn applies(&self, plan: &Plan) -> Result<(), String> {
        http01_applies(plan)?;
        if plan.webroot.is_none() && !plan.standalone {
            return Err(
                "a real token needs --webroot DIR (the web server's document root) or --standalone"
                    .into(),
            );
        }
        Ok(())
    }

    fn deadline(&self, plan: &Plan) -> Duration {
        plan.timeout * 4 + Duration::from_secs(3)
    }

    fn run(&self, ctx: Arc<Ctx>) -> BoxFuture<'static, Outcome> {
        Box::pin(async move { run(&ctx).await })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenProbe {
    pub addr: IpAddr,
    pub outcome: String,
    pub matched: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Http01TokenFacts {
    pub mode: String,
    pub url_path: String,
    pub identifiers: Vec<TokenIdentifier>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenIdentifier {
    pub identifier: String,
    pub probes: Vec<TokenProbe>,
}

// ---- the token file and its cleanup ---------------------------------------------------------

/// Paths to remove if the process is interrupted: token files, then directories we created.
fn pending() -> &'static Mutex<Vec<PathBuf>> {
    static PENDING: OnceLock<Mutex<Vec<PathBuf>>> = OnceLock::new();
    PENDING.get_or_init(|| Mutex::new(Vec::new()))
}

fn remove_paths(paths: &[PathBuf]) {
    for p in paths {
        // A directory is removed only when empty: remove_dir refuses otherwise, which keeps
        // anything the user (or a concurrent ACME client) put there.
        let _ = std::fs::remove_file(p).or_else(|_| std::fs::remove_dir(p));
    }
}

/// Removes every pending path; called from the signal handler.
fn remove_pending() {
    let paths = match pending().lock() {
        Ok(mut g) => std::mem::take(&mut *g),
        Err(p) => std::mem::take(&mut *p.into_inner()),
    };
    remove_paths(&paths);
}

/// Installs, once per process, a handler that removes pending token files on Ctrl-C or
/// SIGTERM and then exits with the conventional status (130 or 143). Without it the default
/// action would kill the process and leave the file behind.
fn install_signal_cleanup() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        tokio::spawn(async {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{signal, SignalKind};
                let (Ok(mut int), Ok(mut term)) = (
                    signal(SignalKind::interrupt()),
                    signal(SignalKind::terminate()),
                ) else {
                    return;
                };
                let code = tokio::select! {
                    _ = int.recv() => 130,
                    _ = term.recv() => 143,
                };
                remove_pending();
                std::process::exit(code);
            }
            #[cfg(not(unix))]
            {
                if tokio::signal::ctrl_c().await.is_ok() {
                    remove_pending();
                    std::process::exit(130);
                }
            }
        });
    });
}

/// A token file under the webroot; dropping it removes the file and any directory it created.
pub struct TokenFile {
    pub path: PathBuf,
    /// The file first, then created directories, deepest first.
    remove: Vec<PathBuf>,
}

impl TokenFile {
    pub fn write(webroot: &Path, token: &str, content: &str) -> io::Result<TokenFile> {
        let mut guard = TokenFile {
            path: PathBuf::new(),
            remove: Vec::new(),
        };
        let well_known = webroot.join(".well-known");
        let dir = well_known.join("acme-challenge");
        for d in [&well_known, &dir] {
            if !d.is_dir() {
                std::fs::create_dir(d)?;
                guard.track(d.clone());
            }
        }
        let path = dir.join(token);
        guard.track(path.clone());
        guard.path = path.clone();
        std::fs::write(&path, content)?;
        Ok(guard)
    }

    /// Removal order is the reverse of creation.
    fn track(&mut self, p: PathBuf) {
        self.remove.insert(0, p.clone());
        if let Ok(mut g) = pending().lock() {
            g.insert(0, p);
        }
    }
}

impl Drop for TokenFile {
    fn drop(&mut self) {
        remove_paths(&self.remove);
        if let Ok(mut g) = pending().lock() {
            g.retain(|p| !self.remove.contains(p));
        }
    }
}

// ---- standalone ------------------------------------------------------------------------------

/// certbot's standalone mode in miniature: the token on every address of the HTTP port.
pub struct Standalone {
    task: tokio::task::JoinHandle<()>,
    pub bound: SocketAddr,
}

impl Drop for Standalone {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Why the standalone server could not start: the wildcard address it tried to bind and the
/// operating system's error.
#[derive(Debug)]
pub struct BindError {
    pub addr: SocketAddr,
    pub error: io::Error,
}

/// Binds the wildcard address as certbot does: one dual-stack IPv6 socket, or IPv4 alone on a
/// host without IPv6.
fn bind_any(port: u16) -> Result<std::net::TcpListener, BindError> {
    use socket2::{Domain, Socket, Type};
    let v6_addr = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port);
    let v4_addr = SocketAddr::new(IpAddr::from([0, 0, 0, 0]), port);
    let at = |addr: SocketAddr| move |error: io::Error| BindError { addr, error };
    let v6 = (|| {
        let s = Socket::new(Domain::IPV6, Type::STREAM, None)?;
        s.set_only_v6(false)?;
        // As certbot (Python's HTTPServer) does: a listener still refuses to share the port,
        // but connections of an earlier run in TIME_WAIT do not block it.
        s.set_reuse_address(true)?;
        s.bind(&v6_addr.into())?;
        Ok::<_, io::Error>(s)
    })();
    let (s, addr) = match v6 {
        Ok(s) => (s, v6_addr),
        Err(e)
            if e.kind() == io::ErrorKind::AddrInUse
                || e.kind() == io::ErrorKind::PermissionDenied =>
        {
            return Err(at(v6_addr)(e))
        }
        Err(_) => {
            let s = Socket::new(Domain::IPV4, Type::STREAM, None).map_err(at(v4_addr))?;
            s.set_reuse_address(true).map_err(at(v4_addr))?;
            s.bind(&v4_addr.into()).map_err(at(v4_addr))?;
            (s, v4_addr)
        }
    };
    s.listen(128).map_err(at(addr))?;
    s.set_nonblocking(true).map_err(at(addr))?;
    Ok(s.into())
}

/// The lowest port an unprivileged process may bind in this network namespace (Linux
/// `net.ipv4.ip_unprivileged_port_start`, IPv6 included), when the system says.
fn unprivileged_port_start() -> Option<u16> {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The finding's summary for a port that cannot be bound: the address, the OS error and, for
/// a permission error, the privilege the port needs.
pub fn bind_error_summary(e: &BindError, unprivileged_start: Option<u16>) -> String {
    let port = e.addr.port();
    let scope = if e.addr.is_ipv6() {
        format!("port {port} on every address, IPv4 included")
    } else {
        format!("port {port} on every IPv4 address")
    };
    let why = match unprivileged_start {
        Some(start) if e.error.kind() == io::ErrorKind::PermissionDenied && port < start => {
            format!(
                "; ports below {start} need root or CAP_NET_BIND_SERVICE (net.ipv4.ip_unprivileged_port_start is {start})"
            )
        }
        _ => String::new(),
    };
    format!(
        "--standalone cannot bind {} ({scope}): {}{why}",
        e.addr, e.error
    )
}

impl Standalone {
    pub fn start(port: u16, token: &str, content: &str) -> Result<Standalone, BindError> {
        let std_listener = bind_any(port)?;
        let addr = std_listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port));
        let at = |error: io::Error| BindError { addr, error };
        let listener = tokio::net::TcpListener::from_std(std_listener).map_err(at)?;
        let bound = listener.local_addr().map_err(at)?;
        let path = format!("/.well-known/acme-challenge/{token}");
        let content = Bytes::from(content.to_string());
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((s, _)) = listener.accept().await {
                let (path, content) = (path.clone(), content.clone());
                conns.spawn(async move {
                    let svc = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                        let hit = req.uri().path() == path;
                        let content = content.clone();
                        async move {
                            let (status, body) = if hit {
                                (200, content)
                            } else {
                                (404, Bytes::from_static(b"not found"))
                            };
                            Ok::<_, Infallible>(
                                hyper::Response::builder()
                                    .status(status)
                                    .header("Content-Type", "text/plain")
                                    .body(Full::new(body))
                                    .expect("static response"),
                            )
                        }
                    });
                    let _ = tokio::time::timeout(
                        Duration::from_secs(30),
                        hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(s), svc),
                    )
                    .await;
                });
            }
        });
        Ok(Standalone { task, bound })
    }
}

/// The finding code for a port that cannot be bound.
pub fn bind_error_code(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::AddrInUse => "http01.token.port-busy",
        _ => "http01.token.cannot-bind",
    }
}

// ---- the check -------------------------------------------------------------------------------

/// Boulder strips trailing whitespace before comparing (va/http.go).
fn matches(body: &[u8], expected: &str) -> bool {
    let end = body
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map(|i| i + 1)
        .unwrap_or(0);
    &body[..end] == expected.as_bytes()
}

fn snippet(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned();
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

enum Mode {
    Webroot(TokenFile),
    Standalone(Standalone),
}

async fn run(ctx: &Ctx) -> Outcome {
    let plan = &ctx.plan;
    let token = validation::random_token();
    // Shaped like a key authorization: token "." thumbprint.
    let content = format!("{token}.{}", validation::random_token());
    let mut out = Outcome::new("");
    install_signal_cleanup();

    let mode = if let Some(root) = &plan.webroot {
        match TokenFile::write(root, &token, &content) {
            Ok(f) => {
                out.evidence(
                    "token file",
                    f.path.display().to_string(),
                    Sensitivity::Path,
                );
                Mode::Webroot(f)
            }
            Err(e) => {
                let dir = root.join(".well-known/acme-challenge");
                out.summary = format!("cannot write a token under {}: {e}", dir.display());
                out.finding(
                    finding(
                        "http01.token.webroot-failed",
                        format!("cannot write a token file under {}: {e}", dir.display()),
                    )
                    .with(
                        "webroot",
                        root.display().to_string(),
                        Sensitivity::Path,
                    ),
                );
                return out;
            }
        }
    } else {
        match Standalone::start(plan.http_port, &token, &content) {
            Ok(s) => {
                out.evidence("served on", s.bound.to_string(), Sensitivity::Public);
                Mode::Standalone(s)
            }
            Err(e) => {
                out.summary = format!("cannot bind {}: {}", e.addr, e.error);
                out.finding(
                    finding(
                        bind_error_code(&e.error),
                        bind_error_summary(&e, unprivileged_port_start()),
                    )
                    .with("address", e.addr.to_string(), Sensitivity::Public)
                    .with("error", e.error.to_string(), Sensitivity::Public),
                );
                return out;
            }
        }
    };
    let mode_label = match &mode {
        Mode::Webroot(_) => "webroot",
        Mode::Standalone(_) => "standalone",
    };

    let (names, wildcards) = http01_names(plan);
    let v = validator(ctx);
    // Every operation inside is bounded already; this inner budget, shorter than the check's
    // deadline, makes sure the run ends here, where the token is removed, and never in the
    // runner's abort (whose cleanup could race with the process exiting).
    let budget = plan.timeout * 3 + Duration::from_secs(1);
    let probed = match tokio::time::timeout(
        budget,
        join_all(names.iter().map(|n| probe(ctx, &v, n, &token)).collect()),
    )
    .await
    {
        Ok(p) => p,
        Err(_) => {
            drop(mode);
            out.summary = format!("no result within {} s", budget.as_secs());
            out.finding(finding(
                "http01.token.fetch-failed",
                format!(
                    "fetching the token did not finish within {} s; the token was removed",
                    budget.as_secs()
                ),
            ));
            return out;
        }
    };
    // The token is no longer needed: remove it before anything else can go wrong.
    let removed = match mode {
        Mode::Webroot(f) => {
            let path = f.path.clone();
            drop(f);
            Some((path.exists(), path))
        }
        Mode::Standalone(s) => {
            drop(s);
            None
        }
    };
    if let Some((still_there, path)) = removed {
        out.evidence(
            "token file removed",
            if still_there {
                format!("NO: remove {} by hand", path.display())
            } else {
                "yes".to_string()
            },
            Sensitivity::Path,
        );
    }
    if !wildcards.is_empty() {
        out.evidence(
            "not probed",
            format!(
                "{}: a wildcard cannot use http-01 (dns-01 is required)",
                wildcards.join(", ")
            ),
            Sensitivity::Hostname,
        );
    }

    let mut facts = Http01TokenFacts {
        mode: mode_label.into(),
        url_path: format!("/.well-known/acme-challenge/{token}"),
        identifiers: Vec::new(),
    };
    let mut summary = Vec::new();
    for p in &probed {
        let (findings, probes) = diagnose(p, &content, mode_label);
        for f in findings {
            out.finding(f);
        }
        let ok = probes.iter().filter(|t| t.matched).count();
        summary.push(if probes.is_empty() {
            format!(
                "{}: not fetched, the name has no address to fetch it from (dns.domain says why)",
                p.name
            )
        } else {
            format!(
                "{}: token served correctly at {ok} of {} address(es)",
                p.name,
                probes.len()
            )
        });
        for (ip, t) in &p.per_addr {
            out.evidence(
                format!("{} at {ip}", p.name),
                describe(t),
                addr_sensitivity(ip),
            );
        }
        facts.identifiers.push(TokenIdentifier {
            identifier: p.name.clone(),
            probes,
        });
    }
    out.summary = summary.join("; ");
    out.with_facts(facts)
}

fn diagnose(p: &Probed, content: &str, mode: &str) -> (Vec<Finding>, Vec<TokenProbe>) {
    let mut out = Vec::new();
    let mut probes = Vec::new();
    let name = &p.name;
    if p.resolved.addrs.is_empty() {
        out.push(finding(
            "http01.token.fetch-failed",
            format!(
                "{name}: no address to fetch the token from ({})",
                p.resolved.errors.join("; ")
            ),
        ));
        return (out, probes);
    }
    let verdict = |t: &Trace| -> Result<(), (&'static str, String)> {
        match &t.result {
            Err(_) => Err(("http01.token.fetch-failed", t.fetch_message())),
            Ok(a) if a.status == 200 && !a.truncated && matches(&a.body, content) => Ok(()),
            Ok(a) if a.status == 404 => Err((
                "http01.token.not-found",
                format!(
                    "404 from {} (the token file is not where the server looks)",
                    a.url
                ),
            )),
            Ok(a) if a.status == 200 => Err((
                "http01.token.wrong-content",
                format!(
                    "200 from {} with other content: \"{}\"",
                    a.url,
                    snippet(&a.body)
                ),
            )),
            Ok(a) => Err((
                "http01.token.bad-status",
                format!("Invalid response from {}: {}", a.url, a.status),
            )),
        }
    };
    let ca_fails = p.ca.as_ref().is_some_and(|t| verdict(t).is_err());
    for (ip, t) in &p.per_addr {
        let v = verdict(t);
        probes.push(TokenProbe {
            addr: *ip,
            outcome: outcome_label(t),
            matched: v.is_ok(),
        });
        if let Err((code, what)) = v {
            let mut f = finding(code, format!("{name} at {ip} ({mode}): {what}"))
                .detail(describe(t))
                .with(ip.to_string(), outcome_label(t), addr_sensitivity(ip));
            // When the CA's own order reaches a good address first, a bad one is a warning.
            if !ca_fails {
                f = f.severity(Severity::Warn);
            }
            out.push(f);
        }
    }
    (out, probes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_removes_file_and_created_dirs_even_on_panic() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join(".well-known/acme-challenge");
        let r = std::panic::catch_unwind(|| {
            let f = TokenFile::write(root.path(), "tok", "tok.x").unwrap();
            assert!(f.path.exists());
            panic!("boom");
        });
        assert!(r.is_err());
        assert!(!dir.join("tok").exists());
        assert!(!root.path().join(".well-known").exists());
        assert!(!pending()
            .lock()
            .unwrap()
            .iter()
            .any(|p| p.starts_with(root.path())));
    }

    #[test]
    fn guard_keeps_directories_it_did_not_create() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join(".well-known/acme-challenge");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("other"), "x").unwrap();
        drop(TokenFile::write(root.path(), "tok2", "tok2.x").unwrap());
        assert!(!dir.join("tok2").exists());
        assert!(dir.join("other").exists());
    }

    #[test]
    fn bind_errors_have_codes() {
        assert_eq!(
            bind_error_code(&io::Error::from(io::ErrorKind::PermissionDenied)),
            "http01.token.cannot-bind"
        );
        assert_eq!(
            bind_error_code(&io::Error::from(io::ErrorKind::AddrInUse)),
            "http01.token.port-busy"
        );
    }

    #[test]
    fn bind_error_summary_names_the_address_and_the_privilege() {
        let denied = BindError {
            addr: "[::]:80".parse().unwrap(),
            error: io::Error::from_raw_os_error(13),
        };
        assert_eq!(
            bind_error_summary(&denied, Some(1024)),
            "--standalone cannot bind [::]:80 (port 80 on every address, IPv4 included): \
             Permission denied (os error 13); ports below 1024 need root or \
             CAP_NET_BIND_SERVICE (net.ipv4.ip_unprivileged_port_start is 1024)"
        );
        // A system that lets everyone bind port 80 denied it for another reason: no claim.
        assert!(!bind_error_summary(&denied, Some(0)).contains("CAP_NET_BIND_SERVICE"));
        let busy = BindError {
            addr: "0.0.0.0:8080".parse().unwrap(),
            error: io::Error::from_raw_os_error(98),
        };
        let s = bind_error_summary(&busy, Some(1024));
        assert!(
            s.starts_with(
                "--standalone cannot bind 0.0.0.0:8080 (port 8080 on every IPv4 address): "
            ),
            "{s}"
        );
        assert!(!s.contains("CAP_NET_BIND_SERVICE"), "{s}");
    }

    #[test]
    fn comparison_trims_trailing_whitespace_only() {
        assert!(matches(b"abc.def\r\n", "abc.def"));
        assert!(!matches(b" abc.def", "abc.def"));
        assert!(!matches(b"abc.de", "abc.def"));
    }
}

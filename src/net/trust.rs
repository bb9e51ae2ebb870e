//! Trust material for one run: the roots this machine trusts and Mozilla's roots.
//!
//! The system store is loaded the way rustls-native-certs loads it for every Rust client on
//! this machine (SSL_CERT_FILE / SSL_CERT_DIR if set, else the openssl-probe locations), so what
//! we report is what such a client sees. `--trust-store FILE` replaces it with one PEM bundle.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, TrustAnchor};
use rustls::RootCertStore;
use serde::Serialize;
use x509_parser::prelude::{FromDer, X509Certificate, X509Name};

use crate::net::tls::sha256_hex;

/// A root certificate from a store, parsed once.
#[derive(Debug, Clone, Serialize)]
pub struct RootCert {
    #[serde(skip)]
    pub der: Vec<u8>,
    pub subject: String,
    /// DER of the subject Name, for matching issuers byte for byte.
    #[serde(skip)]
    pub subject_raw: Vec<u8>,
    /// Subject common name, if any.
    pub cn: Option<String>,
    pub sha256: String,
    /// Seconds since the Unix epoch.
    pub not_before: i64,
    /// Seconds since the Unix epoch.
    pub not_after: i64,
    /// Same subject and key as one of Mozilla's roots (webpki-roots).
    pub in_mozilla: bool,
}

impl RootCert {
    pub fn parse(der: &[u8], mozilla: &RootCertStore) -> Result<RootCert, String> {
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
        let anchor = anchor_of(der);
        let in_mozilla = anchor.as_ref().is_some_and(|a| {
            mozilla.roots.iter().any(|m| {
                m.subject.as_ref() == a.subject.as_ref()
                    && m.subject_public_key_info.as_ref() == a.subject_public_key_info.as_ref()
            })
        });
        Ok(RootCert {
            der: der.to_vec(),
            subject: cert.subject().to_string(),
            subject_raw: cert.subject().as_raw().to_vec(),
            cn: common_name(cert.subject()),
            sha256: sha256_hex(der),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            in_mozilla,
        })
    }

    pub fn expired_at(&self, now: i64) -> bool {
        self.not_after < now
    }
}

/// The trust anchor rustls would derive from this certificate.
fn anchor_of(der: &[u8]) -> Option<TrustAnchor<'static>> {
    let mut store = RootCertStore::empty();
    store.add(CertificateDer::from(der.to_vec())).ok()?;
    store.roots.into_iter().next()
}

pub fn common_name(name: &X509Name<'_>) -> Option<String> {
    name.iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string)
}

/// Common name of one of Mozilla's anchors (whose subject is stored without its SEQUENCE tag).
pub fn anchor_common_name(anchor: &TrustAnchor<'_>) -> Option<String> {
    let body = anchor.subject.as_ref();
    let mut der = vec![0x30];
    let len = body.len();
    if len < 0x80 {
        der.push(len as u8);
    } else if len <= 0xff {
        der.extend([0x81, len as u8]);
    } else {
        der.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    der.extend_from_slice(body);
    let (_, name) = X509Name::from_der(&der).ok()?;
    common_name(&name)
}

/// Where the roots were loaded from.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TrustSource {
    /// `--trust-store FILE`.
    File { path: PathBuf },
    /// rustls-native-certs with SSL_CERT_FILE / SSL_CERT_DIR set.
    Env {
        ssl_cert_file: Option<PathBuf>,
        ssl_cert_dir: Vec<PathBuf>,
    },
    /// rustls-native-certs' default on Unix: the openssl-probe locations.
    System {
        file: Option<PathBuf>,
        dirs: Vec<PathBuf>,
    },
    /// The OS certificate store (macOS keychains, Windows ROOT store).
    Platform,
    /// Nothing could be loaded at all.
    None,
}

impl TrustSource {
    pub fn describe(&self) -> String {
        let list = |v: &[PathBuf]| {
            v.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(":")
        };
        match self {
            TrustSource::File { path } => format!("--trust-store {}", path.display()),
            TrustSource::Env {
                ssl_cert_file,
                ssl_cert_dir,
            } => {
                let mut parts = Vec::new();
                if let Some(f) = ssl_cert_file {
                    parts.push(format!("SSL_CERT_FILE={}", f.display()));
                }
                if !ssl_cert_dir.is_empty() {
                    parts.push(format!("SSL_CERT_DIR={}", list(ssl_cert_dir)));
                }
                parts.join(", ")
            }
            TrustSource::System { file, dirs } => {
                let mut parts = Vec::new();
                if let Some(f) = file {
                    parts.push(f.display().to_string());
                }
                if !dirs.is_empty() {
                    parts.push(format!("{} (directory)", list(dirs)));
                }
                if parts.is_empty() {
                    "system store (no certificate file or directory found)".into()
                } else {
                    format!("system store: {}", parts.join(", "))
                }
            }
            TrustSource::Platform => {
                if cfg!(windows) {
                    "Windows ROOT certificate store".into()
                } else {
                    "macOS keychain trust settings".into()
                }
            }
            TrustSource::None => "none".into(),
        }
    }

    /// Every file and directory the roots were read from.
    pub fn paths(&self) -> Vec<PathBuf> {
        match self {
            TrustSource::File { path } => vec![path.clone()],
            TrustSource::Env {
                ssl_cert_file,
                ssl_cert_dir,
            } => ssl_cert_file.iter().chain(ssl_cert_dir).cloned().collect(),
            TrustSource::System { file, dirs } => file.iter().chain(dirs).cloned().collect(),
            TrustSource::Platform | TrustSource::None => Vec::new(),
        }
    }
}

/// A file or certificate that could not be loaded.
#[derive(Debug, Clone, Serialize)]
pub struct LoadError {
    pub path: Option<PathBuf>,
    pub message: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: {}", p.display(), self.message),
            None => f.write_str(&self.message),
        }
    }
}

pub struct TrustMaterial {
    /// Where the roots came from, for the report.
    pub source: String,
    pub origin: TrustSource,
    pub roots: Vec<RootCert>,
    pub errors: Vec<LoadError>,
    pub store: Arc<RootCertStore>,
    pub mozilla: Arc<RootCertStore>,
}

fn mozilla_store() -> RootCertStore {
    RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

impl TrustMaterial {
    pub fn load(path: Option<&Path>) -> TrustMaterial {
        let (origin, result) = match path {
            Some(p) => (
                TrustSource::File {
                    path: p.to_path_buf(),
                },
                rustls_native_certs::load_certs_from_paths(Some(p), None),
            ),
            None => (native_source(), rustls_native_certs::load_native_certs()),
        };
        let mut errors = Vec::new();
        let mut unattributed = false;
        for e in &result.errors {
            match &e.kind {
                rustls_native_certs::ErrorKind::Io { path, .. } => errors.push(LoadError {
                    path: Some(path.clone()),
                    message: format!(
                        "{}: {}",
                        e.context,
                        std::error::Error::source(e)
                            .map(|s| s.to_string())
                            .unwrap_or_default()
                    ),
                }),
                _ => match &origin {
                    // One file: the error is about it.
                    TrustSource::File { path } => errors.push(LoadError {
                        path: Some(path.clone()),
                        message: e.to_string(),
                    }),
                    _ => unattributed = true,
                },
            }
        }
        if unattributed {
            // PEM errors from the native loader carry no path: load each source file on its own
            // to say which ones are broken.
            errors.extend(attribute_pem_errors(&origin.paths()));
        }
        TrustMaterial::from_certs(origin, result.certs, errors)
    }

    fn from_certs(
        origin: TrustSource,
        certs: Vec<CertificateDer<'static>>,
        mut errors: Vec<LoadError>,
    ) -> TrustMaterial {
        let mozilla = mozilla_store();
        let mut roots = Vec::new();
        let mut store = RootCertStore::empty();
        let file = match &origin {
            TrustSource::File { path } => Some(path.clone()),
            _ => None,
        };
        for der in certs {
            match RootCert::parse(der.as_ref(), &mozilla) {
                Ok(root) => {
                    if let Err(e) = store.add(der) {
                        errors.push(LoadError {
                            path: file.clone(),
                            message: format!("{}: not usable as a trust anchor: {e}", root.subject),
                        });
                    }
                    roots.push(root);
                }
                Err(e) => errors.push(LoadError {
                    path: file.clone(),
                    message: format!(
                        "certificate with SHA-256 {} is not valid X.509: {e}",
                        sha256_hex(der.as_ref())
                    ),
                }),
            }
        }
        TrustMaterial {
            source: origin.describe(),
            origin,
            roots,
            errors,
            store: Arc::new(store),
            mozilla: Arc::new(mozilla),
        }
    }

    pub fn failed(error: String) -> TrustMaterial {
        TrustMaterial {
            source: "none".into(),
            origin: TrustSource::None,
            roots: Vec::new(),
            errors: vec![LoadError {
                path: None,
                message: error,
            }],
            store: Arc::new(RootCertStore::empty()),
            mozilla: Arc::new(mozilla_store()),
        }
    }

    /// Store roots whose subject is exactly this DER Name.
    pub fn roots_named(&self, subject_raw: &[u8]) -> Vec<&RootCert> {
        self.roots
            .iter()
            .filter(|r| r.subject_raw == subject_raw)
            .collect()
    }
}

/// What rustls-native-certs reads here, mirroring its own precedence.
fn native_source() -> TrustSource {
    let file = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
    let dirs: Vec<PathBuf> = std::env::var_os("SSL_CERT_DIR")
        .map(|d| {
            std::env::split_paths(&d)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    if file.is_some() || !dirs.is_empty() {
        return TrustSource::Env {
            ssl_cert_file: file,
            ssl_cert_dir: dirs,
        };
    }
    if cfg!(any(windows, target_os = "macos")) {
        return TrustSource::Platform;
    }
    let probe = openssl_probe::probe();
    TrustSource::System {
        file: probe.cert_file,
        dirs: probe.cert_dir,
    }
}

/// A CA bundle Python `requests` (and so certbot) reads.
#[derive(Debug, Clone, Serialize)]
pub struct PythonBundle {
    /// How it was found: the variable naming it, or the certifi package.
    pub found: String,
    /// The file actually read.
    pub path: PathBuf,
}

impl PythonBundle {
    pub fn roots(&self, mozilla: &RootCertStore) -> Vec<RootCert> {
        rustls_native_certs::load_certs_from_paths(Some(&self.path), None)
            .certs
            .iter()
            .filter_map(|c| RootCert::parse(c.as_ref(), mozilla).ok())
            .collect()
    }
}

/// The bundles Python `requests` would use for certbot here, found without running Python:
///
/// 1. REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE when set (requests then ignores certifi);
/// 2. else the certifi package the interpreter named in certbot's `#!` line imports first, when
///    a certbot is installed (PATH, /opt/certbot/bin; the snap is its own prefix);
/// 3. else every certifi package in the usual places (system and /usr/local site- and
///    dist-packages, $VIRTUAL_ENV, ~/.local, /opt/certbot, the certbot snap), since a Python
///    ACME client installed later would use one of them.
///
/// Debian's python3-certifi is patched to return the system bundle instead of its own
/// cacert.pem; that patch is recognised by the path in its core.py.
pub fn requests_bundles(env: &dyn Fn(&str) -> Option<String>) -> Vec<PythonBundle> {
    for var in ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"] {
        if let Some(v) = env(var).filter(|v| !v.is_empty()) {
            return vec![PythonBundle {
                found: var.to_string(),
                path: PathBuf::from(v),
            }];
        }
    }
    if let Some(prefix) = certbot_prefix(env) {
        // Python imports the first certifi on sys.path; for the system Python /usr/local's
        // packages come before the distribution's.
        let mut libs = Vec::new();
        if prefix == Path::new("/usr") {
            libs.push(PathBuf::from("/usr/local/lib"));
        }
        libs.push(prefix.join("lib"));
        if let Some(first) = certifi_under(&libs).into_iter().next() {
            return vec![first];
        }
    }
    let mut libs: Vec<PathBuf> = vec![
        "/usr/lib".into(),
        "/usr/lib64".into(),
        "/usr/local/lib".into(),
        "/usr/local/lib64".into(),
        "/opt/certbot/lib".into(),
        "/snap/certbot/current/lib".into(),
    ];
    if let Some(v) = env("VIRTUAL_ENV") {
        libs.push(Path::new(&v).join("lib"));
    }
    if let Some(h) = env("HOME") {
        libs.push(Path::new(&h).join(".local/lib"));
    }
    certifi_under(&libs)
}

/// The installation prefix of the Python that runs certbot (`/usr` for `#!/usr/bin/python3`).
fn certbot_prefix(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = env("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push("/opt/certbot/bin".into());
    let certbot = dirs
        .iter()
        .map(|d| d.join("certbot"))
        .find(|p| p.is_file())?;
    let real = std::fs::canonicalize(&certbot).unwrap_or(certbot);
    if real.starts_with("/snap") || real.ends_with("snap") {
        return Some("/snap/certbot/current".into());
    }
    // Only the first line: a certbot script is small, but read no more than needed.
    let mut head = [0u8; 256];
    let n = std::io::Read::read(&mut std::fs::File::open(&real).ok()?, &mut head).ok()?;
    let line = std::str::from_utf8(&head[..n]).ok()?.lines().next()?;
    let interp = line.strip_prefix("#!")?.split_whitespace().next()?;
    // `#!/usr/bin/env python3` names no path; the system prefix is the best guess.
    if interp.ends_with("/env") {
        return Some("/usr".into());
    }
    Path::new(interp).parent()?.parent().map(Path::to_path_buf)
}

/// certifi packages under `lib/python3*/{site,dist}-packages` (and Debian's `lib/python3`).
fn certifi_under(libs: &[PathBuf]) -> Vec<PythonBundle> {
    let mut out: Vec<PythonBundle> = Vec::new();
    for lib in libs {
        let Ok(rd) = std::fs::read_dir(lib) else {
            continue;
        };
        let mut pys: Vec<PathBuf> = rd
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
            .map(|e| e.path())
            .collect();
        pys.sort();
        for py in pys {
            for sub in ["site-packages", "dist-packages"] {
                let pkg = py.join(sub).join("certifi");
                let pem = pkg.join("cacert.pem");
                if !pem.is_file() && !pkg.join("core.py").is_file() {
                    continue;
                }
                let core = std::fs::read_to_string(pkg.join("core.py")).unwrap_or_default();
                let used = if core.contains("/etc/ssl/certs/ca-certificates.crt") {
                    PathBuf::from("/etc/ssl/certs/ca-certificates.crt")
                } else {
                    pem
                };
                if !out.iter().any(|b| b.path == used) {
                    out.push(PythonBundle {
                        found: format!("certifi in {}", pkg.display()),
                        path: used,
                    });
                }
            }
        }
    }
    out
}

fn attribute_pem_errors(paths: &[PathBuf]) -> Vec<LoadError> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            if let Ok(rd) = std::fs::read_dir(p) {
                files.extend(rd.flatten().map(|e| e.path()).filter(|p| p.is_file()));
            }
        } else {
            files.push(p.clone());
        }
    }
    // Hash-named symlinks in /etc/ssl/certs point at the same files: report each file once.
    let mut files: Vec<PathBuf> = files
        .into_iter()
        .map(|f| std::fs::canonicalize(&f).unwrap_or(f))
        .collect();
    files.sort();
    files.dedup();
    let mut out = Vec::new();
    for f in files {
        for e in rustls_native_certs::load_certs_from_paths(Some(&f), None).errors {
            if !matches!(e.kind, rustls_native_certs::ErrorKind::Io { .. }) {
                out.push(LoadError {
                    path: Some(f.clone()),
                    message: e.to_string(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name)
    }

    #[test]
    fn loads_real_roots_and_tells_mozilla_membership() {
        let t = TrustMaterial::load(Some(&data("isrg-root-x1.pem")));
        assert!(t.errors.is_empty(), "{:?}", t.errors);
        assert_eq!(t.roots.len(), 1);
        assert_eq!(t.store.roots.len(), 1);
        let x1 = &t.roots[0];
        assert_eq!(x1.sha256, crate::ca::ISRG_ROOT_X1_SHA256);
        assert_eq!(x1.cn.as_deref(), Some("ISRG Root X1"));
        assert!(x1.in_mozilla);
        // 2035-06-04 11:04:38 UTC
        assert_eq!(x1.not_after, 2064567878);
        assert!(t.source.contains("isrg-root-x1.pem"));

        let t = TrustMaterial::load(Some(&data("dst-root-ca-x3.pem")));
        let dst = &t.roots[0];
        assert_eq!(dst.sha256, crate::ca::DST_ROOT_CA_X3_SHA256);
        assert!(!dst.in_mozilla, "removed from Mozilla's list in 2021");
        assert!(dst.expired_at(1_700_000_000));
        assert!(!dst.expired_at(1_600_000_000));
    }

    #[test]
    fn mozilla_names_parse() {
        let m = mozilla_store();
        let names: Vec<String> = m.roots.iter().filter_map(anchor_common_name).collect();
        assert!(names.iter().any(|n| n == "ISRG Root X1"), "{names:?}");
        assert!(names.len() > 100);
    }
}

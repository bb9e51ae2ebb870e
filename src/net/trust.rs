//! Trust material for one run: the roots this machine trusts and Mozilla's roots.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;

/// A root certificate from a store, parsed once.
#[derive(Debug, Clone)]
pub struct RootCert {
    pub der: Vec<u8>,
    pub subject: String,
    pub sha256: String,
    /// Seconds since the Unix epoch.
    pub not_after: i64,
}

pub struct TrustMaterial {
    /// Where the roots came from, for the report.
    pub source: String,
    pub roots: Vec<RootCert>,
    pub errors: Vec<String>,
    pub store: Arc<RootCertStore>,
    pub mozilla: Arc<RootCertStore>,
}

impl TrustMaterial {
    /// TEMPORARY (http branch): just enough loading for the HTTP checks' tests, until the
    /// trust helper's full implementation lands; on merge, take theirs.
    pub fn load(path: Option<&Path>) -> TrustMaterial {
        let (source, certs) = match path {
            Some(p) => {
                let Ok(pem) = std::fs::read(p) else {
                    return TrustMaterial::failed(format!("cannot read {}", p.display()));
                };
                let certs: Vec<_> = rustls_pemfile::certs(&mut pem.as_slice())
                    .filter_map(Result::ok)
                    .collect();
                (p.display().to_string(), certs)
            }
            None => (
                "system".to_string(),
                rustls_native_certs::load_native_certs().certs,
            ),
        };
        let mut store = RootCertStore::empty();
        store.add_parsable_certificates(certs);
        let mut m = TrustMaterial::failed(String::new());
        m.errors.clear();
        m.source = source;
        m.store = Arc::new(store);
        m
    }

    pub fn failed(error: String) -> TrustMaterial {
        TrustMaterial {
            source: "none".into(),
            roots: Vec::new(),
            errors: vec![error],
            store: Arc::new(RootCertStore::empty()),
            mozilla: Arc::new(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            }),
        }
    }
}

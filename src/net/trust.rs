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
    pub fn load(path: Option<&Path>) -> TrustMaterial {
        let _ = path;
        TrustMaterial::failed("not yet loaded".into())
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

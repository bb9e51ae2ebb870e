//! The catalogue of checks and findings, compiled in from `checks/*.toml`.
//!
//! The TOML files are the source of truth for titles, severities, explanations and remediation;
//! Rust code only refers to finding codes. A code that is not in the catalogue is a bug caught by
//! the catalogue tests, never a runtime surprise for users (it still renders, as a failure).

use std::sync::OnceLock;

use serde::Deserialize;

use crate::report::model::Severity;

/// Every catalogue file, in report order.
const FILES: &[(&str, &str)] = &[
    ("dns.acme", include_str!("../checks/dns.acme.toml")),
    ("tcp.acme", include_str!("../checks/tcp.acme.toml")),
    ("path.ping", include_str!("../checks/path.ping.toml")),
    ("path.trace", include_str!("../checks/path.trace.toml")),
    ("path.mtu", include_str!("../checks/path.mtu.toml")),
    ("tls.acme", include_str!("../checks/tls.acme.toml")),
    (
        "acme.directory",
        include_str!("../checks/acme.directory.toml"),
    ),
    ("trust.store", include_str!("../checks/trust.store.toml")),
    ("system.clock", include_str!("../checks/system.clock.toml")),
    ("proxy.env", include_str!("../checks/proxy.env.toml")),
    ("dns.domain", include_str!("../checks/dns.domain.toml")),
    ("dns.caa", include_str!("../checks/dns.caa.toml")),
    (
        "http01.reachability",
        include_str!("../checks/http01.reachability.toml"),
    ),
    ("http01.token", include_str!("../checks/http01.token.toml")),
    (
        "http01.perspectives",
        include_str!("../checks/http01.perspectives.toml"),
    ),
    (
        "tlsalpn01.reachability",
        include_str!("../checks/tlsalpn01.reachability.toml"),
    ),
    (
        "tlsalpn01.perspectives",
        include_str!("../checks/tlsalpn01.perspectives.toml"),
    ),
    (
        "dns01.delegation",
        include_str!("../checks/dns01.delegation.toml"),
    ),
    (
        "dns01.perspectives",
        include_str!("../checks/dns01.perspectives.toml"),
    ),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckEntry {
    pub id: String,
    pub title: String,
    /// What the check measures, in a sentence or two.
    pub tests: String,
    #[serde(default)]
    pub needs: Vec<String>,
    #[serde(default, rename = "finding")]
    pub findings: Vec<FindingEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingEntry {
    pub code: String,
    pub severity: Severity,
    pub title: String,
    pub explanation: String,
    #[serde(default)]
    pub remediation: Vec<String>,
    #[serde(default)]
    pub links: Vec<String>,
    /// CA or client error texts this finding explains (for support engineers and `explain`).
    #[serde(default)]
    pub ca_errors: Vec<String>,
}

pub struct Catalogue {
    pub checks: Vec<CheckEntry>,
}

impl Catalogue {
    /// Parses the compiled-in files. Panics only if a shipped TOML file is malformed, which the
    /// catalogue tests rule out before a release.
    pub fn get() -> &'static Catalogue {
        static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
        CATALOGUE.get_or_init(|| Catalogue::parse(FILES).expect("compiled-in catalogue is valid"))
    }

    pub fn parse(files: &[(&str, &str)]) -> Result<Catalogue, String> {
        let mut checks = Vec::new();
        for (id, text) in files {
            let entry: CheckEntry =
                toml::from_str(text).map_err(|e| format!("checks/{id}.toml: {e}"))?;
            if entry.id != *id {
                return Err(format!("checks/{id}.toml declares id {:?}", entry.id));
            }
            for f in &entry.findings {
                if !f.code.starts_with(&format!("{id}.")) {
                    return Err(format!("checks/{id}.toml: code {} not under {id}.", f.code));
                }
            }
            checks.push(entry);
        }
        Ok(Catalogue { checks })
    }

    pub fn check(&self, id: &str) -> Option<&CheckEntry> {
        self.checks.iter().find(|c| c.id == id)
    }

    pub fn finding(&self, code: &str) -> Option<&FindingEntry> {
        self.checks
            .iter()
            .flat_map(|c| c.findings.iter())
            .find(|f| f.code == code)
    }

    /// Position of a check in report order.
    pub fn position(&self, id: &str) -> usize {
        self.checks
            .iter()
            .position(|c| c.id == id)
            .unwrap_or(usize::MAX)
    }

    pub fn codes(&self) -> impl Iterator<Item = &FindingEntry> {
        self.checks.iter().flat_map(|c| c.findings.iter())
    }
}

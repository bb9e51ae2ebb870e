//! What one run will do, independent of how it was asked for (command line today, a config file
//! or a library caller tomorrow).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::ca::{CaProfile, ExpectedRoot};
use crate::identifier::Parsed;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpFamily {
    Any,
    V4Only,
    V6Only,
}

impl IpFamily {
    pub fn allows(self, addr: &std::net::IpAddr) -> bool {
        match self {
            IpFamily::Any => true,
            IpFamily::V4Only => addr.is_ipv4(),
            IpFamily::V6Only => addr.is_ipv6(),
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            IpFamily::Any => "any",
            IpFamily::V4Only => "ipv4",
            IpFamily::V6Only => "ipv6",
        }
    }
}

/// The ACME challenge type the user intends to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Challenge {
    #[serde(rename = "http-01")]
    Http01,
    #[serde(rename = "tls-alpn-01")]
    TlsAlpn01,
    #[serde(rename = "dns-01")]
    Dns01,
}

impl Challenge {
    pub fn label(self) -> &'static str {
        match self {
            Challenge::Http01 => "http-01",
            Challenge::TlsAlpn01 => "tls-alpn-01",
            Challenge::Dns01 => "dns-01",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Warn,
    Fail,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub ca: CaProfile,
    /// The roots the CA's API certificate must chain to: `--ca-root` or the profile's.
    pub expected_roots: Vec<ExpectedRoot>,
    pub identifiers: Vec<Parsed>,
    pub resolver: Option<SocketAddr>,
    pub trust_store: Option<PathBuf>,
    pub family: IpFamily,
    /// Deadline for a single network operation (connect, handshake, query, request).
    pub timeout: Duration,
    pub only: Vec<String>,
    pub skip: Vec<String>,
    pub fail_on: FailOn,
    pub command_line: Vec<String>,
    /// Inbound checks: the challenge type, and how to serve a real token.
    pub challenge: Challenge,
    /// `--webroot DIR`: where the web server serves `/.well-known/acme-challenge/` from.
    pub webroot: Option<PathBuf>,
    /// `--standalone`: serve the token ourselves on port 80 when it is free.
    pub standalone: bool,
    /// Test seams (hidden options): ports used instead of 80, 443 and 53 for probes of the
    /// user's domain and its nameservers, so fixtures can run unprivileged on loopback.
    pub http_port: u16,
    pub https_port: u16,
    pub dns_port: u16,
    /// Multi-perspective probes: how many probe locations (0 = off).
    pub perspectives: usize,
    /// Globalping location filters (`--from`), in its magic-location syntax.
    pub from: Vec<String>,
    /// No third-party services at all (Globalping).
    pub offline: bool,
    /// The Globalping API base URL (`--globalping-url`).
    pub globalping_url: url::Url,
    /// `GLOBALPING_TOKEN`; a secret that never reaches a report.
    pub globalping_token: Option<String>,
    /// DNSSEC trust anchors: `--dnssec-anchor` or the root's key-signing keys.
    pub dnssec_anchors: Vec<crate::net::dnssec::Anchor>,
}

impl Plan {
    /// Whether a check was deselected with `--only`/`--skip`, and why.
    pub fn deselected(&self, id: &str) -> Option<String> {
        if self.skip.iter().any(|s| s == id) {
            return Some("skipped with --skip".into());
        }
        if !self.only.is_empty() && !self.only.iter().any(|s| s == id) {
            return Some("not selected by --only".into());
        }
        None
    }
}

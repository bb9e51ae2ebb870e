//! Multi-perspective probes: ask a public probe network to look at the challenge path from many
//! places, the way the CA's remote perspectives do. The network is behind [`Backend`] so other
//! networks (RIPE Atlas for DNS, a self-hosted fleet) can be added next to Globalping.

pub mod globalping;
pub mod quorum;

use std::net::IpAddr;

use serde::Serialize;

use crate::engine::BoxFuture;
use crate::plan::Plan;

/// Where a probe stands, as the network reports it.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Place {
    pub continent: String,
    pub region: String,
    pub country: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    pub city: String,
    pub asn: u32,
    pub network: String,
    pub latitude: f64,
    pub longitude: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl Place {
    /// "Frankfurt, DE (AS16509 Amazon.com, Inc.)"
    pub fn label(&self) -> String {
        format!(
            "{}, {} (AS{} {})",
            self.city, self.country, self.asn, self.network
        )
    }
}

/// How a probe's attempt failed. The probe networks report errors as text only, so this is
/// the one place that classifies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Failure {
    Timeout,
    Refused,
    Reset,
    Unreachable,
    Dns,
    Tls,
    Other,
}

impl Failure {
    pub fn label(self) -> &'static str {
        match self {
            Failure::Timeout => "timeout",
            Failure::Refused => "connection refused",
            Failure::Reset => "connection reset",
            Failure::Unreachable => "network unreachable",
            Failure::Dns => "DNS lookup failed",
            Failure::Tls => "TLS handshake failed",
            Failure::Other => "error",
        }
    }
}

/// What one probe got.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ProbeResult {
    Http {
        status: u16,
        #[serde(skip_serializing_if = "Option::is_none")]
        location: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        server: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        address: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        ms: Option<u64>,
    },
    Dns {
        rcode: String,
        answers: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        ms: Option<u64>,
    },
    Failed {
        failure: Failure,
        message: String,
    },
    /// The probe went offline during the measurement.
    Offline,
    /// Still running when our polling budget ran out.
    Unfinished,
}

impl ProbeResult {
    pub fn label(&self) -> String {
        match self {
            ProbeResult::Http { status, .. } => format!("HTTP {status}"),
            ProbeResult::Dns { rcode, answers, .. } => {
                format!("{rcode}, {} answer(s)", answers.len())
            }
            ProbeResult::Failed { failure, .. } => failure.label().to_string(),
            ProbeResult::Offline => "probe went offline".into(),
            ProbeResult::Unfinished => "no result in time".into(),
        }
    }
    pub fn ms(&self) -> Option<u64> {
        match self {
            ProbeResult::Http { ms, .. } | ProbeResult::Dns { ms, .. } => *ms,
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ProbeOutcome {
    pub place: Place,
    pub result: ProbeResult,
}

#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    pub id: String,
    pub probes: Vec<ProbeOutcome>,
}

/// One location filter. `magic` is Globalping's fuzzy syntax ("Germany", "AS13335",
/// "aws-us-east-1"); `country` an ISO code.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub magic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Locations {
    Spread(Vec<Location>),
    /// The probes of an earlier measurement, in the same order.
    Same(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Http {
        target: String,
        https: bool,
        port: u16,
        path: String,
        ip_version: Option<u8>,
    },
    Dns {
        /// The name to query.
        name: String,
        rtype: &'static str,
        /// The server to ask (an authoritative nameserver).
        server: IpAddr,
        port: u16,
    },
}

/// Why a measurement could not be made at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum BackendError {
    #[error("the API rejected the request (400 {error_type}): {message}")]
    Invalid { error_type: String, message: String },
    #[error("no probes match the requested locations (422): {message}")]
    NoProbes { message: String },
    #[error("{}", rate_limit_text(.limit, .remaining, .reset_secs, .authenticated, .message))]
    RateLimited {
        limit: Option<u64>,
        remaining: Option<u64>,
        reset_secs: Option<u64>,
        authenticated: bool,
        message: String,
    },
    #[error("the API answered HTTP {status}: {message}")]
    Status { status: u16, message: String },
    #[error("cannot reach the API: {message}")]
    Unreachable { message: String },
    #[error("the API did not answer within {secs} s")]
    Timeout { secs: u64 },
    #[error("the API's answer is malformed: {message}")]
    Malformed { message: String },
}

fn rate_limit_text(
    limit: &Option<u64>,
    remaining: &Option<u64>,
    reset: &Option<u64>,
    authenticated: &bool,
    message: &str,
) -> String {
    let n = |v: &Option<u64>| v.map(|v| v.to_string()).unwrap_or_else(|| "?".into());
    format!(
        "rate limit reached (429): {message} (limit {} tests/hour {}, {} remaining, resets in {} s)",
        n(limit),
        if *authenticated {
            "with the token"
        } else {
            "anonymous"
        },
        n(remaining),
        n(reset)
    )
}

/// A probe network.
pub trait Backend: Send + Sync {
    /// The network's name, for reports ("Globalping").
    fn name(&self) -> &'static str;
    /// Where its API lives, for reports.
    fn endpoint(&self) -> String;
    /// Runs one measurement to the end (or until its budget runs out).
    fn measure<'a>(
        &'a self,
        req: &'a Request,
        locations: &'a Locations,
    ) -> BoxFuture<'a, Result<Measurement, BackendError>>;
}

/// Countries spread over every RIR and continent, the way the CA spreads its perspectives:
/// ARIN, RIPE, APNIC, LACNIC, AFRINIC first, then more places in each.
const SPREAD: &[&str] = &[
    "US", "DE", "SG", "BR", "GB", "JP", "ZA", "CA", "AU", "NL", "IN", "CL", "FR", "KR", "MX", "PL",
];

/// The default locations for `n` probes, or `--from` when given.
pub fn locations(n: usize, from: &[String]) -> Vec<Location> {
    let n = n.max(1);
    if !from.is_empty() {
        let k = from.len().min(n);
        return from[..k]
            .iter()
            .enumerate()
            .map(|(i, m)| Location {
                magic: Some(m.clone()),
                country: None,
                limit: (n / k + usize::from(i < n % k)).max(1),
            })
            .collect();
    }
    let k = SPREAD.len().min(n);
    SPREAD[..k]
        .iter()
        .enumerate()
        .map(|(i, c)| Location {
            magic: None,
            country: Some((*c).to_string()),
            limit: n / k + usize::from(i < n % k),
        })
        .collect()
}

/// Why a perspective check must not run, if it must not.
pub fn refuse(plan: &Plan) -> Option<String> {
    if plan.offline {
        return Some("--offline: no third-party probe network is used".into());
    }
    if plan.perspectives == 0 {
        return Some("--perspectives off".into());
    }
    None
}

/// The public Globalping API is the default; a developer's loopback or private name must not
/// be sent there (its probes cannot reach it anyway).
pub fn public_default(plan: &Plan) -> bool {
    plan.globalping_url.host_str() == Some("api.globalping.io")
}

/// Names every address as non-public when none of them is reachable from the Internet.
pub fn only_private(addrs: &[IpAddr]) -> bool {
    !addrs.is_empty()
        && addrs
            .iter()
            .all(|a| crate::net::addr::non_public_range(a).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_covers_rirs_and_counts() {
        let mk = |n| locations(n, &[]);
        let l = mk(8);
        assert_eq!(l.iter().map(|l| l.limit).sum::<usize>(), 8);
        let rirs: std::collections::BTreeSet<_> = l
            .iter()
            .filter_map(|l| quorum::rir(l.country.as_deref()?, ""))
            .collect();
        assert!(rirs.len() >= 5, "{rirs:?}");
        let l = mk(40);
        assert_eq!(l.len(), SPREAD.len());
        assert_eq!(l.iter().map(|l| l.limit).sum::<usize>(), 40);
    }

    #[test]
    fn from_splits_the_count() {
        let l = locations(5, &["Germany".into(), "AS13335".into()]);
        assert_eq!(l[0].limit + l[1].limit, 5);
        assert_eq!(l[0].magic.as_deref(), Some("Germany"));
    }
}

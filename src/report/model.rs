//! The report as data: what every formatter renders and what `--format json` serialises.
//! Field names here are the JSON schema (`docs/report.schema.json`); change both together.

use serde::Serialize;

/// Bumped whenever a field is renamed or removed; additions keep the version.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warn,
    Fail,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Fail => "fail",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skipped,
    TimedOut,
    Crashed,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skipped => "skipped",
            Status::TimedOut => "timed-out",
            Status::Crashed => "crashed",
        }
    }

    /// A check that timed out or crashed did not prove the path works, so for the verdict it
    /// weighs like a failure.
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Fail | Status::TimedOut | Status::Crashed)
    }
}

/// How sensitive a piece of evidence is. Decided where the value is measured so that report
/// redaction never has to guess from the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sensitivity {
    Public,
    ClientIp,
    PrivateIp,
    Hostname,
    Path,
    Secret,
    /// A domain name or IP address the user asked about (hidden by `--redact strict`).
    Domain,
    /// A public address one of the user's domains resolves to (hidden by `--redact strict`).
    DomainAddress,
}

impl Sensitivity {
    pub fn label(self) -> &'static str {
        match self {
            Sensitivity::Public => "public",
            Sensitivity::ClientIp => "client-ip",
            Sensitivity::PrivateIp => "private-ip",
            Sensitivity::Hostname => "hostname",
            Sensitivity::Path => "path",
            Sensitivity::Secret => "secret",
            Sensitivity::Domain => "domain",
            Sensitivity::DomainAddress => "domain-address",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub label: String,
    pub value: String,
    pub sensitivity: Sensitivity,
}

impl Evidence {
    pub fn new(
        label: impl Into<String>,
        value: impl Into<String>,
        sensitivity: Sensitivity,
    ) -> Self {
        Evidence {
            label: label.into(),
            value: value.into(),
            sensitivity,
        }
    }

    pub fn public(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self::new(label, value, Sensitivity::Public)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable code from the catalogue, e.g. `tls.acme.intercepted`.
    pub code: String,
    pub severity: Severity,
    /// One line with the measured values.
    pub summary: String,
    /// The raw error chain or longer explanation of what was seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Why this matters, from the catalogue.
    pub explanation: String,
    /// What to do, from the catalogue: commands and steps.
    pub remediation: Vec<String>,
    pub links: Vec<String>,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub id: String,
    pub title: String,
    pub status: Status,
    /// Why the check was skipped, timed out or crashed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The key measurement in one line ("2 A, 1 AAAA in 12 ms").
    pub summary: String,
    pub duration_ms: u64,
    /// Typed measurements for machines (addresses, versions, chains).
    pub facts: serde_json::Value,
    pub evidence: Vec<Evidence>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Environment {
    pub os: String,
    pub resolver: String,
    pub ipv4: bool,
    pub ipv6: bool,
    pub proxy: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IdentifierReport {
    pub input: String,
    pub kind: String,
    pub value: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanReport {
    pub ca: String,
    pub directory_url: String,
    pub api_host: String,
    pub expected_roots: Vec<String>,
    pub identifiers: Vec<IdentifierReport>,
    pub resolver: Option<String>,
    pub trust_store: Option<String>,
    pub ip_family: String,
    pub challenge: String,
    pub timeout_ms: u64,
    pub only: Vec<String>,
    pub skip: Vec<String>,
    pub fail_on: String,
    /// The command line as given, program name first (redacted like everything else).
    pub command_line: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Counts {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skipped: usize,
    pub timed_out: usize,
    pub crashed: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// pass, warn or fail: the worst status among the checks.
    pub status: String,
    pub exit_code: i32,
    pub counts: Counts,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: ToolInfo,
    pub started_at: String,
    pub duration_ms: u64,
    pub plan: PlanReport,
    pub environment: Environment,
    pub checks: Vec<CheckReport>,
    pub verdict: Verdict,
}

//! Command-line definitions. The only module that knows clap: it turns arguments into a Plan.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::ca;
use crate::catalogue::Catalogue;
use crate::identifier;
use crate::plan::{FailOn, IpFamily, Plan};

const AFTER_HELP: &str = "\
Exit status:
  0  no check failed (warnings allowed unless --fail-on warn)
  1  at least one check failed, timed out or crashed (or warned, with --fail-on warn)
  2  acme-doctor could not run: bad arguments or unreadable files

Examples:
  acme-doctor                          outbound checks against Let's Encrypt
  acme-doctor example.com www.example.com
  acme-doctor --ca letsencrypt-staging --format json
  acme-doctor example.com --format markdown   paste into the forum (redacted)
  acme-doctor --format junit --output report.xml
  acme-doctor checks                   list every check and finding code";

#[derive(Debug, Parser)]
#[command(
    name = "acme-doctor",
    version,
    about = "Diagnose why ACME certificate issuance fails: DNS, TCP, TLS, trust store, clock and proxy on the way to the CA",
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every check and every finding code from the catalogue.
    Checks {
        #[arg(long, value_enum, default_value_t = ChecksFormat::Text)]
        format: ChecksFormat,
    },
    /// TCP traceroute to HOST[:PORT] (default: the CA's API host, port 443), without root.
    Trace(TraceArgs),
    /// Print a shell completion script (e.g. `acme-doctor completions bash > /etc/bash_completion.d/acme-doctor`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page in roff (e.g. `acme-doctor man > acme-doctor.1`).
    Man,
}

#[derive(Debug, Args)]
pub struct TraceArgs {
    /// Host name or IP address, optionally with :PORT ([IPv6]:PORT).
    #[arg(value_name = "HOST[:PORT]")]
    pub target: Option<String>,
    /// The CA whose API host is traced when no HOST is given.
    #[arg(long, value_name = "CA", default_value = "letsencrypt")]
    pub ca: String,
    /// DNS resolver to use instead of the system's (IP or IP:PORT).
    #[arg(long, value_name = "IP[:PORT]", value_parser = parse_resolver)]
    pub resolver: Option<SocketAddr>,
    /// Trace over IPv4 only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// Trace over IPv6 only.
    #[arg(short = '6')]
    pub ipv6: bool,
    /// Highest TTL probed.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u8).range(1..=64))]
    pub max_hops: u8,
    /// Probes per hop.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=10))]
    pub probes: u8,
    /// How long each probe waits for an answer, in seconds.
    #[arg(long, value_name = "SECONDS", default_value = "2", value_parser = parse_timeout)]
    pub wait: Duration,
    /// Do not look up hop names.
    #[arg(short = 'n', long)]
    pub no_rdns: bool,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

impl TraceArgs {
    /// The host and port to trace.
    pub fn host_port(&self) -> Result<(String, u16), String> {
        let Some(t) = &self.target else {
            let p = ca::profile(&self.ca)?;
            return Ok((p.api_host().to_string(), p.api_port()));
        };
        if let Ok(sa) = t.parse::<SocketAddr>() {
            return Ok((sa.ip().to_string(), sa.port()));
        }
        if let Ok(ip) = t.trim_matches(['[', ']']).parse::<IpAddr>() {
            return Ok((ip.to_string(), 443));
        }
        let (host, port) = match t.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>()
                    .map_err(|_| format!("{t:?}: bad port {p:?}"))?,
            ),
            None => (t.as_str(), 443),
        };
        let parsed = identifier::parse(host)?;
        match parsed.identifier {
            identifier::Identifier::Dns {
                name,
                wildcard: false,
            } => Ok((name, port)),
            identifier::Identifier::Ip { addr } => Ok((addr.to_string(), port)),
            _ => Err(format!("{t:?}: cannot trace a wildcard name")),
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ChecksFormat {
    Text,
    Json,
    /// The catalogue as docs/checks.md.
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Formats of the diagnosis report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// A table for people at a terminal.
    Text,
    /// One JSON document (docs/report.schema.json).
    Json,
    /// For the Let's Encrypt community forum or a GitHub issue (redacted by default).
    Markdown,
    /// JUnit XML: one testcase per check, for CI test reports.
    Junit,
}

/// How much of the report is hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RedactArg {
    /// Hide nothing but secrets (proxy credentials, tokens), which never appear.
    None,
    /// Also hide this machine's addresses, private addresses, local host names, user names and paths.
    Standard,
    /// Also hide the domains being checked and their addresses.
    Strict,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ChallengeArg {
    #[value(name = "http-01")]
    Http01,
    #[value(name = "tls-alpn-01")]
    TlsAlpn01,
    #[value(name = "dns-01")]
    Dns01,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FailOnArg {
    Warn,
    Fail,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Domain names or IP addresses the certificate will cover (a pasted URL is reduced to its host).
    #[arg(value_name = "DOMAIN|IP")]
    pub identifiers: Vec<String>,

    /// The CA: letsencrypt, letsencrypt-staging, zerossl, google, sslcom, or an https:// ACME directory URL.
    #[arg(long, value_name = "CA", default_value = "letsencrypt")]
    pub ca: String,

    /// PEM file with the roots the CA's API certificate must chain to, instead of the profile's.
    #[arg(long, value_name = "FILE")]
    pub ca_root: Option<PathBuf>,

    /// DNS resolver to use instead of the system's (IP or IP:PORT).
    #[arg(long, value_name = "IP[:PORT]", value_parser = parse_resolver)]
    pub resolver: Option<SocketAddr>,

    /// PEM bundle to trust instead of the system store (SSL_CERT_FILE and SSL_CERT_DIR are honoured too).
    #[arg(long, value_name = "FILE")]
    pub trust_store: Option<PathBuf>,

    /// DNSSEC trust anchors (DNSKEY or DS records in zone-file format, like unbound's root.key) instead of the root's built-in keys.
    #[arg(long, value_name = "FILE")]
    pub dnssec_anchor: Option<PathBuf>,

    /// Use IPv4 only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// Use IPv6 only.
    #[arg(short = '6')]
    pub ipv6: bool,

    /// Deadline for each network operation, in seconds.
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = parse_timeout)]
    pub timeout: Duration,

    /// Run only these checks (and what they need); comma-separated or repeated.
    #[arg(long, value_name = "CHECK-ID", value_delimiter = ',')]
    pub only: Vec<String>,

    /// Skip these checks (and what needs them); comma-separated or repeated.
    #[arg(long, value_name = "CHECK-ID", value_delimiter = ',')]
    pub skip: Vec<String>,

    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,

    /// What to hide from the report [default: standard for markdown, none otherwise].
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub redact: Option<RedactArg>,

    /// Write the report to FILE (atomically: whole or not at all) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit 1 on warnings too, not only on failures.
    #[arg(long, value_enum, value_name = "LEVEL", default_value = "fail")]
    pub fail_on: FailOnArg,

    /// Show evidence, info findings and timings.
    #[arg(short, long)]
    pub verbose: bool,

    /// The challenge type the certificate will be validated with.
    #[arg(long, value_enum, default_value = "http-01")]
    pub challenge: ChallengeArg,

    /// Web server document root: write a real token under DIR/.well-known/acme-challenge/ and fetch it through the domain.
    #[arg(long, value_name = "DIR", conflicts_with = "standalone")]
    pub webroot: Option<PathBuf>,

    /// Serve a real token on port 80 briefly, as certbot --standalone does (needs port 80 free).
    #[arg(long)]
    pub standalone: bool,

    /// Port probed instead of 80 for HTTP-01 (for test fixtures).
    #[arg(long, hide = true, default_value_t = 80)]
    pub http_port: u16,

    /// Port probed instead of 443 for TLS on the user's domain (for test fixtures).
    #[arg(long, hide = true, default_value_t = 443)]
    pub https_port: u16,

    /// Port used instead of 53 for queries to authoritative nameservers (for test fixtures).
    #[arg(long, hide = true, default_value_t = 53)]
    pub dns_port: u16,

    /// Probe the challenge path from N places through Globalping, or "off".
    #[arg(long, value_name = "N|off", default_value = "8", value_parser = parse_perspectives)]
    pub perspectives: usize,

    /// Where to probe from, in Globalping's location syntax (e.g. "Germany", "AS13335", "aws-us-east-1"); repeatable.
    #[arg(long, value_name = "LOCATION")]
    pub from: Vec<String>,

    /// Use no third-party service (Globalping); checks that need one are skipped.
    #[arg(long)]
    pub offline: bool,

    /// Globalping API base URL (another deployment, or a test fake).
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://api.globalping.io/v1/"
    )]
    pub globalping_url: url::Url,
}

fn parse_perspectives(s: &str) -> Result<usize, String> {
    if s.eq_ignore_ascii_case("off") {
        return Ok(0);
    }
    match s.parse::<usize>() {
        Ok(n) if (1..=50).contains(&n) => Ok(n),
        _ => Err(format!(
            "{s:?}: give a number of probe locations from 1 to 50, or off"
        )),
    }
}

fn parse_resolver(s: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    let bare = s.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| {
            format!(
                "{s:?} is not an IP address or IP:PORT (for IPv6 with a port: [2001:db8::53]:53)"
            )
        })
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim_end_matches('s')
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(0.1..=120.0).contains(&secs) {
        return Err(format!("{secs} s is out of range; use 0.1 to 120 seconds"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Output options that are not part of what the run does.
pub struct Output {
    pub format: ReportFormat,
    pub verbose: bool,
    pub redact: crate::report::redact::Level,
    pub output: Option<PathBuf>,
    /// Values from the command line that the redactor must know about (file paths).
    pub sensitive: Vec<crate::report::model::Evidence>,
}

impl RunArgs {
    /// Validates everything that can be validated before the network is touched.
    pub fn into_plan(self, command_line: Vec<String>) -> Result<(Plan, Output), String> {
        use crate::report::model::{Evidence, Sensitivity};
        use crate::report::redact::Level;
        let redact = match self.redact {
            Some(RedactArg::None) => Level::None,
            Some(RedactArg::Standard) => Level::Standard,
            Some(RedactArg::Strict) => Level::Strict,
            None if self.format == ReportFormat::Markdown => Level::Standard,
            None => Level::None,
        };
        let sensitive: Vec<Evidence> = [
            &self.ca_root,
            &self.trust_store,
            &self.dnssec_anchor,
            &self.webroot,
            &self.output,
        ]
        .into_iter()
        .flatten()
        .map(|p| Evidence::new("path", p.display().to_string(), Sensitivity::Path))
        .collect();
        let profile = ca::profile(&self.ca)?;
        let expected_roots = match &self.ca_root {
            Some(p) => ca::roots_from_pem(p)?,
            None => profile.expected_roots.clone(),
        };
        if let Some(d) = &self.webroot {
            if !d.is_dir() {
                return Err(format!("--webroot {}: not a directory", d.display()));
            }
        }
        if let Some(p) = &self.trust_store {
            std::fs::metadata(p).map_err(|e| format!("--trust-store {}: {e}", p.display()))?;
        }
        let dnssec_anchors = match &self.dnssec_anchor {
            Some(p) => crate::net::dnssec::anchors_from_file(p)
                .map_err(|e| format!("--dnssec-anchor {e}"))?,
            None => crate::net::dnssec::root_anchors(),
        };
        let mut identifiers = Vec::new();
        for raw in &self.identifiers {
            identifiers.push(identifier::parse(raw)?);
        }
        let known: Vec<&str> = Catalogue::get()
            .checks
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        for id in self.only.iter().chain(self.skip.iter()) {
            if !known.contains(&id.as_str()) {
                return Err(format!(
                    "unknown check id {id:?}; known checks: {}",
                    known.join(", ")
                ));
            }
        }
        let family = match (self.ipv4, self.ipv6) {
            (true, _) => IpFamily::V4Only,
            (_, true) => IpFamily::V6Only,
            _ => IpFamily::Any,
        };
        let plan = Plan {
            ca: profile,
            expected_roots,
            identifiers,
            resolver: self.resolver,
            trust_store: self.trust_store,
            family,
            timeout: self.timeout,
            only: self.only,
            skip: self.skip,
            fail_on: match self.fail_on {
                FailOnArg::Warn => FailOn::Warn,
                FailOnArg::Fail => FailOn::Fail,
            },
            command_line,
            challenge: match self.challenge {
                ChallengeArg::Http01 => crate::plan::Challenge::Http01,
                ChallengeArg::TlsAlpn01 => crate::plan::Challenge::TlsAlpn01,
                ChallengeArg::Dns01 => crate::plan::Challenge::Dns01,
            },
            webroot: self.webroot,
            standalone: self.standalone,
            http_port: self.http_port,
            https_port: self.https_port,
            dns_port: self.dns_port,
            perspectives: if self.offline { 0 } else { self.perspectives },
            from: self.from,
            offline: self.offline,
            globalping_url: self.globalping_url,
            globalping_token: std::env::var("GLOBALPING_TOKEN")
                .ok()
                .filter(|t| !t.trim().is_empty()),
            dnssec_anchors,
        };
        Ok((
            plan,
            Output {
                format: self.format,
                verbose: self.verbose,
                redact,
                output: self.output,
                sensitive,
            },
        ))
    }
}

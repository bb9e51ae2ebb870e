//! What `dns.domain` and `dns01.delegation` both do with a zone's nameservers: turn their
//! discovery into findings, and fold per-server problems into one finding per code. The two
//! checks differ only in their codes and in how they name the zone.

use std::collections::BTreeMap;

use crate::engine::{finding, FindingExt};
use crate::net::authoritative::Transport;
use crate::net::nameservers::{Discovery, NameServer, Probe, Problem};
use crate::report::model::{Evidence, Finding, Sensitivity, Severity};

/// A check's finding codes for nameserver trouble.
pub struct Codes {
    /// The resolver cannot answer NS queries (NOTIMP): nothing to ask.
    pub not_checked: &'static str,
    pub no_nameservers: &'static str,
    /// NS hosts without an address.
    pub no_address: &'static str,
    pub problem: fn(Problem) -> &'static str,
}

/// How the findings speak of the zone: `subject` is e.g. "zone example.com of www.example.com",
/// `zone` the zone alone, `not_asked` what the not-checked finding adds.
pub struct Zone<'a> {
    pub zone: &'a str,
    pub subject: &'a str,
    pub not_asked: &'a str,
}

/// The servers to ask, with findings for what discovery could not find and the evidence that
/// lists them. Empty when there is nobody to ask.
pub fn servers(
    discovery: Discovery,
    z: &Zone,
    resolver: &str,
    codes: &Codes,
    findings: &mut Vec<Finding>,
    evidence: &mut Vec<Evidence>,
) -> Vec<NameServer> {
    let servers = match discovery {
        Discovery::Unsupported(why) => {
            findings.push(finding(
                codes.not_checked,
                format!("{}: {why}; {}", z.subject, z.not_asked),
            ));
            return Vec::new();
        }
        Discovery::NoNs(why) => {
            findings.push(finding(
                codes.no_nameservers,
                format!("{}: {why}", z.subject),
            ));
            return Vec::new();
        }
        Discovery::Found {
            servers,
            unresolvable,
        } => {
            if !unresolvable.is_empty() {
                findings.push(
                    finding(
                        codes.no_address,
                        format!(
                            "nameserver(s) of {} without an address through {resolver}: {}",
                            z.zone,
                            unresolvable.join(", ")
                        ),
                    )
                    .severity(if servers.is_empty() {
                        Severity::Fail
                    } else {
                        Severity::Warn
                    }),
                );
            }
            servers
        }
    };
    if !servers.is_empty() {
        evidence.push(Evidence::new(
            format!("zone {} nameservers", z.zone),
            servers
                .iter()
                .map(|s| s.label())
                .collect::<Vec<_>>()
                .join(", "),
            Sensitivity::Public,
        ));
    }
    servers
}

/// One finding per code for the servers that failed, each listing server, transport and what
/// happened. Warn while some server answers over UDP (resolvers retry elsewhere), fail when
/// none does.
pub fn problems(probes: &[Probe], z: &Zone, port: u16, codes: &Codes) -> Vec<Finding> {
    let any_udp_ok = probes
        .iter()
        .any(|p| p.transport == Transport::Udp && p.problem().is_none());
    let mut by_code: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for p in probes {
        if let Some((problem, words)) = p.problem() {
            by_code
                .entry((codes.problem)(problem))
                .or_default()
                .push(format!("{}: {words}", p.label()));
        }
    }
    by_code
        .into_iter()
        .map(|(code, list)| {
            finding(
                code,
                format!("{}, port {port}: {}", z.subject, list.join("; ")),
            )
            .severity(if any_udp_ok {
                Severity::Warn
            } else {
                Severity::Fail
            })
        })
        .collect()
}

//! A zone's nameservers: found through the resolver, then each asked directly over UDP and over
//! TCP (used by `dns.domain` and `dns01.delegation`).

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, RecordType};
use serde::Serialize;
use tokio::task::JoinSet;

use crate::net::authoritative::{self, rcode_name, show, QueryError, Response, Transport};
use crate::net::dns::Resolver;
use crate::plan::IpFamily;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NameServer {
    pub host: String,
    pub addr: IpAddr,
}

impl NameServer {
    pub fn label(&self) -> String {
        format!("{} ({})", self.host, self.addr)
    }
}

/// What the NS lookup found, before any server is asked.
#[derive(Debug, Clone)]
pub enum Discovery {
    /// The NS lookup itself failed or came back empty.
    NoNs(String),
    /// The resolver does not implement NS queries (NOTIMP), as test DNS servers may not.
    Unsupported(String),
    /// NS hosts that have no address, next to the servers that do.
    Found {
        servers: Vec<NameServer>,
        unresolvable: Vec<String>,
    },
}

const MAX_NS: usize = 16;

/// The zone's NS set through the resolver, and each host's addresses (as the resolver sees
/// them, which is where the glue ends up) in the families the plan allows.
pub async fn discover(
    resolver: &Resolver,
    zone: &Name,
    family: IpFamily,
    deadline: Duration,
) -> Discovery {
    let resp =
        match authoritative::recursive(&resolver.servers, zone, RecordType::NS, deadline).await {
            Ok(r) => r,
            Err(e) => return Discovery::NoNs(format!("NS lookup for {}: {e}", show(zone))),
        };
    if resp.rcode() == ResponseCode::NotImp {
        return Discovery::Unsupported(format!(
            "the resolver does not implement NS queries (NOTIMP for NS {})",
            show(zone)
        ));
    }
    if resp.rcode() != ResponseCode::NoError {
        return Discovery::NoNs(format!(
            "NS lookup for {}: the resolver answered {}",
            show(zone),
            authoritative::describe(&resp)
        ));
    }
    let hosts: BTreeSet<String> = resp
        .records(RecordType::NS)
        .iter()
        .filter_map(|r| match r.data() {
            RData::NS(ns) => Some(show(&ns.0).to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    if hosts.is_empty() {
        return Discovery::NoNs(format!("no NS records for {}", show(zone)));
    }
    // Real zones have 2 to 13 nameservers; a hostile answer with thousands must not turn into
    // thousands of lookups and probes.
    let hosts: BTreeSet<String> = hosts.into_iter().take(MAX_NS).collect();
    let mut lookups = JoinSet::new();
    for host in hosts.iter() {
        for rtype in [RecordType::A, RecordType::AAAA] {
            let resolver = resolver.clone();
            let host = host.clone();
            lookups.spawn(async move {
                let r = resolver.addrs(&host, rtype).await;
                (host, r)
            });
        }
    }
    let mut servers = BTreeSet::new();
    while let Some(Ok((host, r))) = lookups.join_next().await {
        if let Ok(ans) = r {
            for addr in ans.addrs {
                if family.allows(&addr) {
                    servers.insert(NameServer {
                        host: host.clone(),
                        addr,
                    });
                }
            }
        }
    }
    let unresolvable = hosts
        .iter()
        .filter(|h| !servers.iter().any(|s| &s.host == *h))
        .cloned()
        .collect();
    Discovery::Found {
        servers: servers.into_iter().collect(),
        unresolvable,
    }
}

/// One server asked over one transport.
#[derive(Debug, Clone)]
pub struct Probe {
    pub server: NameServer,
    pub transport: Transport,
    pub answers: Vec<(Name, RecordType, Result<Response, QueryError>)>,
}

/// What was wrong with a server's answers, worst first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Timeout,
    Refused,
    Unreachable,
    Malformed,
    /// REFUSED, or NOERROR without the AA bit: the server does not serve the zone (lame).
    Lame,
    ServFail,
}

impl Probe {
    /// The first problem among this probe's answers, with the words for the report.
    pub fn problem(&self) -> Option<(Problem, String)> {
        for (name, rtype, r) in &self.answers {
            let what = format!("{rtype} {}", show(name));
            let p = match r {
                Err(e @ QueryError::Timeout { .. }) => (Problem::Timeout, format!("{what}: {e}")),
                Err(e @ QueryError::Refused { .. }) => (Problem::Refused, format!("{what}: {e}")),
                Err(e @ QueryError::Unreachable { .. }) => {
                    (Problem::Unreachable, format!("{what}: {e}"))
                }
                Err(e @ QueryError::Malformed { .. }) => {
                    (Problem::Malformed, format!("{what}: {e}"))
                }
                Ok(resp) => match resp.rcode() {
                    ResponseCode::Refused => (Problem::Lame, format!("{what}: REFUSED")),
                    ResponseCode::ServFail => (Problem::ServFail, format!("{what}: SERVFAIL")),
                    ResponseCode::NoError | ResponseCode::NXDomain if !resp.authoritative() => (
                        Problem::Lame,
                        format!(
                            "{what}: {} without the authoritative-answer flag",
                            rcode_name(resp.rcode())
                        ),
                    ),
                    ResponseCode::NoError | ResponseCode::NXDomain => continue,
                    other => (Problem::ServFail, format!("{what}: {}", rcode_name(other))),
                },
            };
            return Some(p);
        }
        None
    }

    pub fn response(&self, name: &Name, rtype: RecordType) -> Option<&Response> {
        self.answers
            .iter()
            .find(|(n, t, _)| n == name && *t == rtype)
            .and_then(|(_, _, r)| r.as_ref().ok())
    }

    pub fn label(&self) -> String {
        format!("{} over {}", self.server.label(), self.transport.label())
    }
}

/// Asks every server every query over UDP and TCP, all at once, each under `deadline`.
pub async fn probe(
    servers: &[NameServer],
    port: u16,
    queries: &[(Name, RecordType)],
    deadline: Duration,
) -> Vec<Probe> {
    let mut set = JoinSet::new();
    for (i, s) in servers.iter().enumerate() {
        for transport in [Transport::Udp, Transport::Tcp] {
            for (j, (name, rtype)) in queries.iter().enumerate() {
                let addr = SocketAddr::new(s.addr, port);
                let (name, rtype) = (name.clone(), *rtype);
                set.spawn(async move {
                    let r =
                        authoritative::query(addr, &name, rtype, false, transport, deadline).await;
                    (i, transport, j, name, rtype, r)
                });
            }
        }
    }
    let mut results = Vec::new();
    while let Some(joined) = set.join_next().await {
        if let Ok(r) = joined {
            results.push(r);
        }
    }
    results.sort_by_key(|(i, t, j, ..)| (*i, *t, *j));
    let mut probes: Vec<Probe> = Vec::new();
    for (i, transport, _, name, rtype, r) in results {
        match probes.last_mut() {
            Some(p) if p.server == servers[i] && p.transport == transport => {
                p.answers.push((name, rtype, r))
            }
            _ => probes.push(Probe {
                server: servers[i].clone(),
                transport,
                answers: vec![(name, rtype, r)],
            }),
        }
    }
    probes
}

/// A record set in a form two servers' answers can be compared by.
pub fn rrset(resp: &Response, rtype: RecordType) -> Vec<String> {
    if resp.rcode() == ResponseCode::NXDomain {
        return vec!["NXDOMAIN".into()];
    }
    let mut v: Vec<String> = resp
        .message
        .answers()
        .iter()
        .filter(|r| r.record_type() == rtype || r.record_type() == RecordType::CNAME)
        .map(|r| match r.data() {
            RData::TXT(t) => format!(
                "TXT \"{}\"",
                t.iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect::<String>()
            ),
            RData::SOA(s) => format!("SOA serial {}", s.serial()),
            other => format!("{} {other}", r.record_type()),
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

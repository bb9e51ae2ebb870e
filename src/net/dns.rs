//! DNS lookups with deadlines and typed outcomes (hickory-resolver underneath).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, RecordType};
use hickory_proto::xfer::Protocol;
use hickory_proto::ProtoErrorKind;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::ResolveErrorKind;
use serde::Serialize;

/// What went wrong with a query, as seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DnsError {
    #[error("NXDOMAIN: the name does not exist")]
    NxDomain,
    #[error("no {rtype} records (NOERROR, empty answer)")]
    NoRecords { rtype: String },
    #[error("SERVFAIL from the resolver")]
    ServFail,
    #[error("REFUSED by the resolver")]
    Refused,
    #[error("the resolver answered {rcode}")]
    OtherRcode { rcode: String },
    #[error("no answer within {ms} ms")]
    Timeout { ms: u64 },
    #[error("cannot reach the resolver: {message}")]
    Unreachable { message: String },
    #[error("{message}")]
    Other { message: String },
}

impl DnsError {
    pub fn label(&self) -> &'static str {
        match self {
            DnsError::NxDomain => "nxdomain",
            DnsError::NoRecords { .. } => "no-records",
            DnsError::ServFail => "servfail",
            DnsError::Refused => "refused",
            DnsError::OtherRcode { .. } => "rcode",
            DnsError::Timeout { .. } => "timeout",
            DnsError::Unreachable { .. } => "unreachable",
            DnsError::Other { .. } => "other",
        }
    }
    pub fn is_timeout(&self) -> bool {
        matches!(self, DnsError::Timeout { .. })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// CNAME targets followed from the query name, in order.
    pub cname_chain: Vec<String>,
    pub addrs: Vec<IpAddr>,
    pub elapsed_ms: u64,
}

/// Which resolver answers, and how to describe it to the user.
#[derive(Clone)]
pub struct Resolver {
    inner: Arc<hickory_resolver::TokioResolver>,
    pub description: String,
    pub servers: Vec<SocketAddr>,
    timeout: Duration,
}

impl Resolver {
    /// `--resolver` when given, else the system configuration (resolv.conf on Unix).
    pub fn new(explicit: Option<SocketAddr>, timeout: Duration) -> Result<Resolver, String> {
        let (config, mut opts, description) = match explicit {
            Some(addr) => {
                let mut cfg = ResolverConfig::new();
                cfg.add_name_server(NameServerConfig::new(addr, Protocol::Udp));
                cfg.add_name_server(NameServerConfig::new(addr, Protocol::Tcp));
                let mut opts = ResolverOpts::default();
                opts.use_hosts_file = hickory_resolver::config::ResolveHosts::Never;
                (cfg, opts, format!("{addr} (--resolver)"))
            }
            None => match hickory_resolver::system_conf::read_system_conf() {
                Ok((cfg, opts)) => {
                    let list: Vec<String> = dedup(cfg.name_servers().iter().map(|n| n.socket_addr))
                        .iter()
                        .map(|a| a.to_string())
                        .collect();
                    (cfg, opts, format!("system resolver from /etc/resolv.conf: {}", list.join(", ")))
                }
                Err(e) => return Err(format!("cannot read the system resolver configuration (/etc/resolv.conf): {e}; use --resolver IP")),
            },
        };
        // Split the per-operation budget between two tries so one lost UDP packet does not
        // fail the lookup, while a dead resolver still ends within the deadline.
        opts.timeout = timeout / 2;
        opts.attempts = 1;
        opts.cache_size = 64;
        opts.ip_strategy = hickory_resolver::config::LookupIpStrategy::Ipv4AndIpv6;
        let servers = dedup(config.name_servers().iter().map(|n| n.socket_addr));
        let inner = hickory_resolver::Resolver::builder_with_config(
            config,
            TokioConnectionProvider::default(),
        )
        .with_options(opts)
        .build();
        Ok(Resolver {
            inner: Arc::new(inner),
            description,
            servers,
            timeout,
        })
    }

    /// Looks up A or AAAA records, following CNAMEs, within the per-operation deadline.
    pub async fn addrs(&self, name: &str, rtype: RecordType) -> Result<Answer, DnsError> {
        let start = Instant::now();
        let fqdn = if name.ends_with('.') {
            name.to_string()
        } else {
            format!("{name}.")
        };
        let res = tokio::time::timeout(
            self.timeout + Duration::from_millis(250),
            self.inner.lookup(fqdn, rtype),
        )
        .await;
        let elapsed_ms = start.elapsed().as_millis() as u64;
        let lookup = match res {
            Err(_) => return Err(DnsError::Timeout { ms: elapsed_ms }),
            Ok(Err(e)) => return Err(classify(&e, rtype, elapsed_ms)),
            Ok(Ok(l)) => l,
        };
        let mut cname_chain = Vec::new();
        let mut addrs = Vec::new();
        for r in lookup.records() {
            match r.data() {
                RData::CNAME(c) => {
                    cname_chain.push(c.0.to_utf8().trim_end_matches('.').to_string())
                }
                RData::A(a) if rtype == RecordType::A => addrs.push(IpAddr::V4(a.0)),
                RData::AAAA(a) if rtype == RecordType::AAAA => addrs.push(IpAddr::V6(a.0)),
                _ => {}
            }
        }
        if addrs.is_empty() {
            return Err(DnsError::NoRecords {
                rtype: rtype.to_string(),
            });
        }
        Ok(Answer {
            cname_chain,
            addrs,
            elapsed_ms,
        })
    }
}

impl Resolver {
    /// The PTR name of an address, or `None` when there is none within `deadline`.
    pub async fn reverse(&self, ip: IpAddr, deadline: Duration) -> Option<String> {
        let l = tokio::time::timeout(deadline, self.inner.reverse_lookup(ip))
            .await
            .ok()?
            .ok()?;
        l.iter()
            .next()
            .map(|n| n.0.to_utf8().trim_end_matches('.').to_string())
    }
}

fn dedup(it: impl Iterator<Item = SocketAddr>) -> Vec<SocketAddr> {
    let mut v: Vec<SocketAddr> = Vec::new();
    for a in it {
        if !v.contains(&a) {
            v.push(a);
        }
    }
    v
}

fn classify(e: &hickory_resolver::ResolveError, rtype: RecordType, elapsed_ms: u64) -> DnsError {
    let ResolveErrorKind::Proto(p) = e.kind() else {
        return DnsError::Other {
            message: e.to_string(),
        };
    };
    match p.kind() {
        ProtoErrorKind::NoRecordsFound { response_code, .. } => match *response_code {
            ResponseCode::NXDomain => DnsError::NxDomain,
            ResponseCode::NoError => DnsError::NoRecords {
                rtype: rtype.to_string(),
            },
            ResponseCode::ServFail => DnsError::ServFail,
            ResponseCode::Refused => DnsError::Refused,
            other => DnsError::OtherRcode {
                rcode: other.to_string(),
            },
        },
        ProtoErrorKind::Timeout => DnsError::Timeout { ms: elapsed_ms },
        ProtoErrorKind::Io(io) => DnsError::Unreachable {
            message: io.to_string(),
        },
        ProtoErrorKind::NoConnections => DnsError::Unreachable {
            message: "no connection to any configured resolver".into(),
        },
        _ => DnsError::Other {
            message: p.to_string(),
        },
    }
}

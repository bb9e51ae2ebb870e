//! One module per catalogue file: each turns primitive results into findings.

use std::sync::Arc;

use crate::engine::Check;

pub mod acme_directory;
pub mod dns01_delegation;
pub mod dns_acme;
pub mod dns_caa;
pub mod dns_domain;
pub mod path_ping;
pub mod path_trace;
pub mod proxy_env;
pub mod system_clock;
pub mod tcp_acme;

/// Every check, in any order: the report sorts by catalogue order.
pub fn all() -> Vec<Arc<dyn Check>> {
    vec![
        Arc::new(dns_acme::DnsAcme),
        Arc::new(tcp_acme::TcpAcme),
        Arc::new(path_ping::PathPing),
        Arc::new(path_trace::PathTrace),
        Arc::new(acme_directory::AcmeDirectory),
        Arc::new(system_clock::SystemClock),
        Arc::new(proxy_env::ProxyEnvCheck),
        Arc::new(dns_domain::DnsDomain),
        Arc::new(dns_caa::DnsCaa),
        Arc::new(dns01_delegation::Dns01Delegation),
    ]
}

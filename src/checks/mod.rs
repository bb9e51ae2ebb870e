//! One module per catalogue file: each turns primitive results into findings.

use std::sync::Arc;

use crate::engine::Check;

pub mod acme_directory;
pub mod dns01_delegation;
pub mod dns01_perspectives;
pub mod dns_acme;
pub mod dns_caa;
pub mod dns_domain;
pub mod http01_perspectives;
pub mod http01_reachability;
pub mod http01_token;
pub mod path_mtu;
pub mod path_ping;
pub mod path_trace;
pub mod proxy_env;
pub mod system_clock;
pub mod tcp_acme;
pub mod tls_acme;
pub mod tlsalpn01_perspectives;
pub mod tlsalpn01_reachability;
pub mod trust_store;
pub mod zone_servers;

/// Every check, in any order: the report sorts by catalogue order.
pub fn all() -> Vec<Arc<dyn Check>> {
    vec![
        Arc::new(dns_acme::DnsAcme),
        Arc::new(tcp_acme::TcpAcme),
        Arc::new(tls_acme::TlsAcme),
        Arc::new(trust_store::TrustStore),
        Arc::new(path_ping::PathPing),
        Arc::new(path_trace::PathTrace),
        Arc::new(path_mtu::PathMtu),
        Arc::new(acme_directory::AcmeDirectory),
        Arc::new(system_clock::SystemClock),
        Arc::new(proxy_env::ProxyEnvCheck),
        Arc::new(http01_reachability::Http01Reachability),
        Arc::new(http01_token::Http01Token),
        Arc::new(tlsalpn01_reachability::TlsAlpn01Reachability),
        Arc::new(dns_domain::DnsDomain),
        Arc::new(dns_caa::DnsCaa),
        Arc::new(dns01_delegation::Dns01Delegation),
        Arc::new(http01_perspectives::Http01Perspectives),
        Arc::new(tlsalpn01_perspectives::TlsAlpn01Perspectives),
        Arc::new(dns01_perspectives::Dns01Perspectives),
    ]
}

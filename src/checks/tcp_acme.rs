//! `tcp.acme`: minimal producer of `TcpAcmeFacts` so `tls.acme` can run on this branch.
//! The lead engineer's full check replaces this file; the struct is the agreed interface.

use std::net::SocketAddr;
use std::sync::Arc;

use serde::Serialize;

use crate::checks::dns_acme::DnsAcmeFacts;
use crate::engine::{BoxFuture, Check, Ctx, Outcome};
use crate::net::proxy::ProxyEnv;
use crate::net::tcp;

pub struct TcpAcme;

#[derive(Debug, Clone, Serialize)]
pub struct TcpAcmeFacts {
    /// Addresses that accepted TCP on the API port, IPv6 first.
    pub reachable: Vec<SocketAddr>,
    /// Display form of the HTTPS proxy that applies to the API host, if any.
    pub proxy: Option<String>,
}

impl Check for TcpAcme {
    fn id(&self) -> &'static str {
        "tcp.acme"
    }

    fn needs(&self) -> &'static [&'static str] {
        &["dns.acme"]
    }

    fn run(&self, ctx: Arc<Ctx>) -> BoxFuture<'static, Outcome> {
        Box::pin(async move {
            let Some(dns) = ctx.facts::<DnsAcmeFacts>("dns.acme") else {
                return Outcome::new("no DNS facts");
            };
            let port = ctx.plan.ca.api_port();
            let proxy = ProxyEnv::from_env()
                .for_host(&dns.host)
                .map(|p| p.display());
            let mut reachable = Vec::new();
            for ip in dns.addrs() {
                let addr = SocketAddr::new(ip, port);
                if tcp::connect(addr, ctx.plan.timeout).await.is_ok() {
                    reachable.push(addr);
                }
            }
            if reachable.is_empty() && proxy.is_none() {
                return Outcome::new(format!(
                    "no address of {} accepted TCP on port {port}",
                    dns.host
                ));
            }
            Outcome::new(format!(
                "{} address(es) reachable on port {port}",
                reachable.len()
            ))
            .with_facts(TcpAcmeFacts { reachable, proxy })
        })
    }
}

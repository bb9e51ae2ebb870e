//! Network primitives with deadlines and typed errors. No opinions here: checks decide what a
//! result means for the user.

pub mod addr;
pub mod authoritative;
pub mod dns;
pub mod dnssec;
pub mod http;
pub mod icmp;
pub mod nameservers;
pub mod proxy;
pub mod tcp;
pub mod tls;
pub mod trace;
pub mod trust;
pub mod validation;

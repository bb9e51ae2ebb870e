//! What kind of address an answer is: public, or a range no public service lives in.

use std::net::IpAddr;

/// Returns the name of the non-public range `ip` falls in, or `None` for a public address.
/// Documentation ranges count as public here: they never appear on the Internet, but test labs
/// use them to stand in for public hosts.
pub fn non_public_range(ip: &IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_unspecified() || o[0] == 0 {
                Some("0.0.0.0/8 (unspecified: a DNS filter's block answer)")
            } else if v4.is_loopback() {
                Some("127.0.0.0/8 (loopback)")
            } else if v4.is_private() {
                Some("RFC 1918 private range")
            } else if v4.is_link_local() {
                Some("169.254.0.0/16 (link-local)")
            } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
                Some("100.64.0.0/10 (carrier-grade NAT)")
            } else if o[0] == 146 && o[1] == 112 && o[2] == 61 && (104..=110).contains(&o[3]) {
                Some("146.112.61.104-110 (Cisco Umbrella/OpenDNS block page)")
            } else if v4.is_multicast() || v4.is_broadcast() || o[0] >= 240 {
                Some("multicast or reserved range")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return non_public_range(&IpAddr::V4(v4));
            }
            let s = v6.segments();
            if v6.is_unspecified() {
                Some(":: (unspecified: a DNS filter's block answer)")
            } else if v6.is_loopback() {
                Some("::1 (loopback)")
            } else if (s[0] & 0xfe00) == 0xfc00 {
                Some("fc00::/7 (unique local)")
            } else if (s[0] & 0xffc0) == 0xfe80 {
                Some("fe80::/10 (link-local)")
            } else if v6.is_multicast() {
                Some("ff00::/8 (multicast)")
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        for a in [
            "0.0.0.0",
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.1.1",
            "100.64.0.1",
            "146.112.61.106",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(non_public_range(&a.parse().unwrap()).is_some(), "{a}");
        }
        for a in [
            "172.65.32.248",
            "198.51.100.7",
            "2606:4700:60:0:f53d:5624:85c7:3a2c",
            "2001:db8::1",
        ] {
            assert!(non_public_range(&a.parse().unwrap()).is_none(), "{a}");
        }
    }
}

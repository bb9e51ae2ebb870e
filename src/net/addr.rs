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

/// How the CA sees an address of the user's domain, by IANA's special-purpose registries
/// (iana-ipv4-special-registry, iana-ipv6-special-registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// Not globally reachable: the CA refuses to validate against it.
    Reserved(&'static str),
    /// A documentation range: also refused by the CA, but test labs use these to stand in for
    /// public hosts, so callers report it as a note rather than a failure.
    Documentation(&'static str),
}

/// Classifies an address the way a CA's validation policy would. `None` is a public address.
pub fn special_purpose(ip: &IpAddr) -> Option<Special> {
    if let Some(r) = non_public_range(ip) {
        return Some(Special::Reserved(r));
    }
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if (o[0], o[1], o[2]) == (192, 0, 2) {
                Some(Special::Documentation(
                    "192.0.2.0/24 (documentation, TEST-NET-1)",
                ))
            } else if (o[0], o[1], o[2]) == (198, 51, 100) {
                Some(Special::Documentation(
                    "198.51.100.0/24 (documentation, TEST-NET-2)",
                ))
            } else if (o[0], o[1], o[2]) == (203, 0, 113) {
                Some(Special::Documentation(
                    "203.0.113.0/24 (documentation, TEST-NET-3)",
                ))
            } else if o[0] == 198 && (o[1] & 0xfe) == 18 {
                Some(Special::Reserved("198.18.0.0/15 (benchmarking)"))
            } else if (o[0], o[1], o[2]) == (192, 0, 0) && o[3] != 9 && o[3] != 10 {
                Some(Special::Reserved(
                    "192.0.0.0/24 (IETF protocol assignments)",
                ))
            } else if (o[0], o[1], o[2]) == (192, 88, 99) {
                Some(Special::Reserved(
                    "192.88.99.0/24 (deprecated 6to4 relay anycast)",
                ))
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            if s[0] == 0x2001 && s[1] == 0x0db8 {
                Some(Special::Documentation("2001:db8::/32 (documentation)"))
            } else if (s[0] & 0xfff0) == 0x3ff0 {
                Some(Special::Documentation("3fff::/20 (documentation)"))
            } else if s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0 {
                Some(Special::Reserved("100::/64 (discard-only)"))
            } else if s[0] == 0x2001 && s[1] == 0x0002 && s[2] == 0 {
                Some(Special::Reserved("2001:2::/48 (benchmarking)"))
            } else if s[0] == 0x2001 && s[1] == 0 {
                Some(Special::Reserved("2001::/32 (Teredo)"))
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

    #[test]
    fn special_purpose_ranges() {
        for (a, doc) in [
            ("198.51.100.7", true),
            ("192.0.2.1", true),
            ("203.0.113.9", true),
            ("2001:db8::1", true),
            ("10.0.0.1", false),
            ("198.18.0.1", false),
            ("192.0.0.8", false),
            ("100::1", false),
            ("2001:2::1", false),
            ("::ffff:127.0.0.1", false),
        ] {
            match special_purpose(&a.parse().unwrap()) {
                Some(Special::Documentation(_)) => assert!(doc, "{a}"),
                Some(Special::Reserved(_)) => assert!(!doc, "{a}"),
                None => panic!("{a} is special"),
            }
        }
        for a in [
            "172.65.32.248",
            "192.0.0.9",
            "2606:4700:60::1",
            "2a00:1450::1",
        ] {
            assert_eq!(special_purpose(&a.parse().unwrap()), None, "{a}");
        }
    }
}

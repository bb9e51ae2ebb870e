//! Identifiers from the command line: the names and addresses a certificate would cover.
//!
//! Users paste all sorts of things here (URLs, names with a trailing dot, Unicode names). What can
//! be normalised is normalised with a note; what the CA would reject is rejected with the exact
//! reason, phrased like Boulder's policy checks so the message matches what the CA would say.

use std::net::IpAddr;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Identifier {
    Dns { name: String, wildcard: bool },
    Ip { addr: IpAddr },
}

impl Identifier {
    pub fn kind(&self) -> &'static str {
        match self {
            Identifier::Dns { wildcard: true, .. } => "wildcard",
            Identifier::Dns { .. } => "dns",
            Identifier::Ip { .. } => "ip",
        }
    }

    /// The value as it would appear in an ACME order.
    pub fn value(&self) -> String {
        match self {
            Identifier::Dns {
                name,
                wildcard: true,
            } => format!("*.{name}"),
            Identifier::Dns { name, .. } => name.clone(),
            Identifier::Ip { addr } => addr.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub input: String,
    pub identifier: Identifier,
    pub notes: Vec<String>,
}

const MAX_NAME: usize = 253;
const MAX_LABEL: usize = 63;

/// Parses one command-line identifier. The error is a complete sentence naming the problem.
pub fn parse(input: &str) -> Result<Parsed, String> {
    let mut notes = Vec::new();
    let mut text = input.trim().to_string();
    if text.is_empty() {
        return Err(
            "empty identifier: give a domain name such as example.com or an IP address".into(),
        );
    }

    if text.contains("://") {
        let url = url::Url::parse(&text)
            .map_err(|e| format!("{input:?} looks like a URL but does not parse: {e}"))?;
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_string(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => a.to_string(),
            None => return Err(format!("{input:?} is a URL without a host")),
        };
        notes.push(format!("a URL was given; using its host {host}"));
        if !text.is_ascii() && host.contains("xn--") {
            notes.push(format!(
                "internationalised name converted to punycode: {host}"
            ));
        }
        text = host;
    }

    let unbracketed = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(&text);
    if let Ok(addr) = unbracketed.parse::<IpAddr>() {
        return Ok(Parsed {
            input: input.to_string(),
            identifier: Identifier::Ip { addr },
            notes,
        });
    }
    if text.contains(':') || text.contains('/') {
        return Err(format!(
            "{input:?}: a domain name cannot contain ':' or '/'; give only the host name (example.com), not a port or path"
        ));
    }

    if let Some(stripped) = text.strip_suffix('.') {
        if stripped.ends_with('.') {
            return Err(format!("{input:?}: empty label (two dots in a row)"));
        }
        notes.push("trailing dot removed (the fully qualified form names the same domain)".into());
        text = stripped.to_string();
    }

    let mut wildcard = false;
    if let Some(rest) = text.strip_prefix("*.") {
        wildcard = true;
        text = rest.to_string();
    }
    if text.contains('*') {
        return Err(format!(
            "{input:?}: a wildcard is only allowed as the whole leftmost label, as in *.example.com"
        ));
    }

    let ascii = if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        let a = idna::domain_to_ascii(&text).map_err(|_| {
            format!("{input:?}: not a valid internationalised domain name (IDNA conversion failed)")
        })?;
        notes.push(format!("internationalised name converted to punycode: {a}"));
        a
    };
    check_name(input, &ascii)?;
    Ok(Parsed {
        input: input.to_string(),
        identifier: Identifier::Dns {
            name: ascii,
            wildcard,
        },
        notes,
    })
}

fn check_name(input: &str, name: &str) -> Result<(), String> {
    if name.len() > MAX_NAME {
        return Err(format!(
            "{input:?}: the name is {} characters long; a DNS name is at most {MAX_NAME}",
            name.len()
        ));
    }
    let labels: Vec<&str> = name.split('.').collect();
    for label in &labels {
        if label.is_empty() {
            return Err(format!(
                "{input:?}: empty label (a leading dot or two dots in a row)"
            ));
        }
        if label.len() > MAX_LABEL {
            return Err(format!(
                "{input:?}: label {label:?} is {} characters long; a DNS label is at most {MAX_LABEL}",
                label.len()
            ));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(format!(
                "{input:?}: bad character {c:?} in label {label:?}; only letters, digits and hyphens are allowed"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "{input:?}: label {label:?} starts or ends with a hyphen"
            ));
        }
        if label.len() >= 4 && &label[2..4] == "--" {
            if !label.starts_with("xn--") {
                return Err(format!(
                    "{input:?}: label {label:?} has hyphens in the third and fourth positions, which is reserved for punycode (xn--)"
                ));
            }
            let (_, decoded) = idna::domain_to_unicode(label);
            if decoded.is_err() {
                return Err(format!("{input:?}: label {label:?} is not valid punycode"));
            }
        }
    }
    if labels.len() < 2 {
        return Err(format!(
            "{input:?}: a certificate name needs at least two labels (example.com)"
        ));
    }
    let suffix = psl::suffix(name.as_bytes()).filter(|s| s.is_known());
    let Some(suffix) = suffix else {
        let tld = labels.last().copied().unwrap_or_default();
        return Err(format!(
            "{input:?}: not under a public suffix: .{tld} is not a top-level domain in the Public Suffix List"
        ));
    };
    if suffix.as_bytes().len() == name.len() {
        return Err(format!(
            "{input:?}: {name} is itself a public suffix; certificates are issued for names registered under it"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Parsed {
        parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }
    fn err(s: &str) -> String {
        parse(s).expect_err(s)
    }

    #[test]
    fn normalises_with_notes() {
        let p = ok("https://Example.COM:8443/path?q=1");
        assert_eq!(p.identifier.value(), "example.com");
        assert!(p.notes[0].contains("URL"));
        let p = ok("example.com.");
        assert_eq!(p.identifier.value(), "example.com");
        assert!(p.notes[0].contains("trailing dot"));
        let p = ok("bücher.de");
        assert_eq!(p.identifier.value(), "xn--bcher-kva.de");
        assert!(p.notes[0].contains("punycode"));
        let p = ok("*.example.org");
        assert_eq!(p.identifier.kind(), "wildcard");
        assert_eq!(p.identifier.value(), "*.example.org");
    }

    #[test]
    fn ip_literals() {
        assert_eq!(ok("192.0.2.7").identifier.kind(), "ip");
        assert_eq!(ok("[2001:db8::1]").identifier.value(), "2001:db8::1");
        assert_eq!(ok("http://[2001:db8::1]/x").identifier.kind(), "ip");
    }

    #[test]
    fn rejects_with_exact_reason() {
        assert!(err(&format!("{}.com", "a".repeat(64))).contains("at most 63"));
        assert!(err(&format!("{}.com", "a.".repeat(130))).contains("at most 253"));
        assert!(err("exa_mple.com").contains("bad character '_'"));
        assert!(err("-bad.com").contains("hyphen"));
        assert!(err("ab--cd.com").contains("third and fourth"));
        assert!(err("example.notatld").contains("not under a public suffix"));
        assert!(err("co.uk").contains("itself a public suffix"));
        assert!(err("localhost").contains("two labels"));
        assert!(err("foo.*.example.com").contains("leftmost"));
        assert!(err("a..b.com").contains("empty label"));
        assert!(err("example.com:443").contains("port"));
        assert!(err("").contains("empty"));
    }
}

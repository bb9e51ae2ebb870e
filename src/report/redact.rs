//! `--redact`: replaces sensitive values with stable placeholders before any format renders.
//!
//! Redaction works on values, not on patterns: every value that was tagged when it was measured
//! (evidence sensitivity), that the plan knows (identifiers, paths, resolver) or that describes
//! this machine (hostname, user name, home directory, interface addresses, resolv.conf servers,
//! proxy credentials) is collected first, then every occurrence of each one anywhere in the
//! report (summaries, details, facts, the command line) is replaced, longest value first, so a
//! value that leaked into free text is caught as well as the evidence field it came from.

use std::collections::HashMap;
use std::net::IpAddr;

use serde_json::Value;

use super::model::{Evidence, Report, Sensitivity};
use crate::net::addr::non_public_range;

/// How much a report hides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Only secrets (which no level shows).
    None,
    /// Also the client's addresses, private addresses, local host names, user names and paths.
    Standard,
    /// Also the domains being checked and their addresses.
    Strict,
}

/// What a collected value is, which decides its placeholder and the levels that hide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tagged(Sensitivity),
    User,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Tagged(s) => s.label(),
            Kind::User => "user",
        }
    }

    fn hidden_at(self, level: Level) -> bool {
        match self {
            Kind::Tagged(Sensitivity::Public) => false,
            Kind::Tagged(Sensitivity::Secret) => true,
            Kind::Tagged(Sensitivity::Domain | Sensitivity::DomainAddress) => {
                level == Level::Strict
            }
            Kind::Tagged(
                Sensitivity::ClientIp
                | Sensitivity::PrivateIp
                | Sensitivity::Hostname
                | Sensitivity::Path,
            )
            | Kind::User => level != Level::None,
        }
    }
}

/// Values shorter than this are not replaced in free text: a two-letter host name would
/// otherwise shred every word containing it. Evidence fields holding them are still replaced.
const MIN_FREE_TEXT_LEN: usize = 3;

/// The value → placeholder table for one report.
#[derive(Debug, Default)]
pub struct Redactor {
    /// Longest value first, so `www.example.com` wins over `example.com`.
    table: Vec<(String, String)>,
    exact: HashMap<String, String>,
}

impl Redactor {
    /// Builds the table from the report, the caller's extra tagged values (paths given on the
    /// command line) and this machine's own identifying values.
    pub fn new(report: &Report, level: Level, extra: &[Evidence]) -> Redactor {
        let mut found: Vec<(String, Kind)> = Vec::new();
        let mut push = |v: &str, k: Kind| {
            let v = v.trim();
            if !v.is_empty() && k.hidden_at(level) {
                found.push((v.to_string(), k));
            }
        };
        // Secrets first so that a secret that is also, say, a path is never shown as a path.
        for (v, k) in proxy_secrets() {
            push(&v, k);
        }
        for e in all_evidence(report).chain(extra.iter()) {
            if e.sensitivity == Sensitivity::Secret {
                push(&e.value, Kind::Tagged(Sensitivity::Secret));
            }
        }
        for id in &report.plan.identifiers {
            let kind = if id.kind == "ip" {
                Sensitivity::DomainAddress
            } else {
                Sensitivity::Domain
            };
            push(&id.value, Kind::Tagged(kind));
            push(id.value.trim_start_matches("*."), Kind::Tagged(kind));
        }
        if let Some(p) = &report.plan.trust_store {
            push(p, Kind::Tagged(Sensitivity::Path));
        }
        for e in extra.iter().chain(all_evidence(report)) {
            push(&e.value, Kind::Tagged(e.sensitivity));
            if e.sensitivity != Sensitivity::Public {
                for part in parts(&e.value) {
                    push(&part, Kind::Tagged(e.sensitivity));
                }
            }
        }
        for (v, k) in machine_values() {
            push(&v, k);
        }

        // A path inside a sentence ("1 roots from /etc/ssl/cert.pem") that is also tagged on
        // its own: replacing the inner path covers it and keeps one placeholder per file.
        let paths: Vec<String> = found
            .iter()
            .filter(|(_, k)| *k == Kind::Tagged(Sensitivity::Path))
            .map(|(v, _)| v.clone())
            .collect();
        found.retain(|(v, k)| {
            if *k != Kind::Tagged(Sensitivity::Path) {
                return true;
            }
            let mut rest = v.clone();
            for p in paths.iter().filter(|p| p.len() < v.len()) {
                rest = replace_bounded(&rest, p, "");
            }
            rest == *v || rest.contains('/') || rest.contains('\\')
        });
        let mut counters: HashMap<&'static str, usize> = HashMap::new();
        let mut exact: HashMap<String, String> = HashMap::new();
        for (value, kind) in found {
            if exact.contains_key(&value) {
                continue;
            }
            let n = counters.entry(kind.prefix()).or_insert(0);
            *n += 1;
            exact.insert(value, format!("[{}-{}]", kind.prefix(), n));
        }
        // What the user typed (an IDN, a URL, a trailing dot) is the same identifier: same
        // placeholder, unless it already contains the normalised value, which then covers it.
        for id in &report.plan.identifiers {
            let input = id.input.trim();
            if input.contains(id.value.as_str()) || exact.contains_key(input) {
                continue;
            }
            if let Some(p) = exact.get(&id.value).cloned() {
                exact.insert(input.to_string(), p);
            }
        }
        let mut table: Vec<(String, String)> = exact
            .iter()
            .filter(|(v, _)| v.chars().count() >= MIN_FREE_TEXT_LEN)
            .map(|(v, p)| (v.clone(), p.clone()))
            .collect();
        table.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Redactor { table, exact }
    }

    /// The placeholder a value was given, if it is hidden.
    pub fn placeholder(&self, value: &str) -> Option<&str> {
        self.exact.get(value.trim()).map(|s| s.as_str())
    }

    /// Replaces every hidden value in free text.
    pub fn text(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (value, placeholder) in &self.table {
            if out.contains(value.as_str()) {
                out = replace_bounded(&out, value, placeholder);
            }
        }
        out
    }

    /// A copy of the report with every hidden value replaced.
    pub fn report(&self, report: &Report) -> Report {
        let mut r = report.clone();
        let t = |s: &mut String| *s = self.text(s);
        let ev = |e: &mut Evidence| {
            e.value = match self.placeholder(&e.value) {
                Some(p) => p.to_string(),
                None => self.text(&e.value),
            };
            e.label = self.text(&e.label);
        };
        let p = &mut r.plan;
        for s in [&mut p.ca, &mut p.directory_url, &mut p.api_host] {
            t(s);
        }
        for s in p
            .expected_roots
            .iter_mut()
            .chain(p.only.iter_mut())
            .chain(p.skip.iter_mut())
            .chain(p.command_line.iter_mut())
        {
            t(s);
        }
        for id in &mut p.identifiers {
            t(&mut id.input);
            t(&mut id.value);
            id.notes.iter_mut().for_each(t);
        }
        for s in [&mut p.resolver, &mut p.trust_store].into_iter().flatten() {
            t(s);
        }
        let e = &mut r.environment;
        t(&mut e.os);
        t(&mut e.resolver);
        if let Some(s) = &mut e.proxy {
            t(s);
        }
        for c in &mut r.checks {
            t(&mut c.title);
            t(&mut c.summary);
            if let Some(s) = &mut c.reason {
                t(s);
            }
            self.value(&mut c.facts);
            c.evidence.iter_mut().for_each(ev);
            for f in &mut c.findings {
                t(&mut f.summary);
                if let Some(d) = &mut f.detail {
                    t(d);
                }
                t(&mut f.explanation);
                f.remediation.iter_mut().for_each(t);
                f.links.iter_mut().for_each(t);
                f.evidence.iter_mut().for_each(ev);
            }
        }
        t(&mut r.verdict.message);
        r
    }

    fn value(&self, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.text(s),
            Value::Array(a) => a.iter_mut().for_each(|v| self.value(v)),
            Value::Object(o) => {
                // Keys can be measured values too (a map from address to result).
                let entries: Vec<(String, Value)> = std::mem::take(o).into_iter().collect();
                for (k, mut v) in entries {
                    self.value(&mut v);
                    o.insert(self.text(&k), v);
                }
            }
            _ => {}
        }
    }
}

/// The addresses and host names inside a composite value ("10.0.0.1, 10.0.0.2", a proxy URL,
/// "192.168.1.1:53"): summaries quote them one at a time, so each must be replaced on its own.
/// Loopback is left alone, as everywhere here: it is the same on every machine.
fn parts(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    for token in value.split(|c: char| c == ',' || c == ';' || c.is_whitespace()) {
        let token = token.trim_matches(|c: char| matches!(c, '(' | ')' | '"' | '\''));
        if token.is_empty() || token == value {
            continue;
        }
        if let Some(ip) = ip_of(token) {
            if !ip.is_loopback() {
                out.push(ip.to_string());
            }
        }
    }
    if let Ok(url) = url::Url::parse(value.trim()) {
        if let Some(host) = url.host_str() {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = bare == "localhost" || ip_of(bare).is_some_and(|ip| ip.is_loopback());
            if !loopback && url.scheme() != "file" {
                out.push(bare.to_string());
            }
        }
    } else if let Some(ip) = ip_of(value.trim()) {
        if !ip.is_loopback() {
            out.push(ip.to_string());
        }
    }
    out.retain(|p| p != value.trim());
    out
}

fn ip_of(token: &str) -> Option<IpAddr> {
    token
        .parse::<IpAddr>()
        .ok()
        .or_else(|| token.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
}

fn all_evidence(report: &Report) -> impl Iterator<Item = &Evidence> {
    report.checks.iter().flat_map(|c| {
        c.evidence
            .iter()
            .chain(c.findings.iter().flat_map(|f| f.evidence.iter()))
    })
}

/// Characters that continue a name or an address: a match next to one of them is part of a
/// longer token (`10.0.0.1` inside `10.0.0.10`, `bob` inside `bobcat`) and is left alone.
fn continues(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// Replaces `value` where it stands as a whole token. A dot after the match only ends the
/// token when no name character follows it (`example.com.` at the end of a sentence, but not
/// `example.com.au`); a dot before it is fine (`www.example.com` hides the registered domain).
fn replace_bounded(text: &str, value: &str, placeholder: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut prev: Option<char> = None;
    while let Some(i) = rest.find(value) {
        let before = rest[..i].chars().next_back().or(prev);
        let after_str = &rest[i + value.len()..];
        let mut after = after_str.chars();
        let a0 = after.next();
        let left_ok = !before.is_some_and(continues);
        let right_ok = match a0 {
            None => true,
            Some('.') => !after.next().is_some_and(continues),
            Some(c) => !continues(c),
        };
        if left_ok && right_ok {
            out.push_str(&rest[..i]);
            out.push_str(placeholder);
            prev = placeholder.chars().next_back();
            rest = after_str;
        } else {
            // Step past the first character of this match and keep looking.
            let step = rest[i..].chars().next().map(char::len_utf8).unwrap_or(1);
            out.push_str(&rest[..i + step]);
            prev = rest[..i + step].chars().next_back();
            rest = &rest[i + step..];
        }
    }
    out.push_str(rest);
    out
}

/// Credentials in the proxy variables. `net::proxy` already strips them from everything it
/// displays; this is the second lock, for any path that prints a raw value.
fn proxy_secrets() -> Vec<(String, Kind)> {
    let mut out = Vec::new();
    for name in [
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "http_proxy",
        "HTTP_PROXY",
    ] {
        let Ok(raw) = std::env::var(name) else {
            continue;
        };
        let with_scheme = if raw.contains("://") {
            raw.clone()
        } else {
            format!("http://{raw}")
        };
        let Ok(url) = url::Url::parse(&with_scheme) else {
            continue;
        };
        if url.password().is_none() && url.username().is_empty() {
            continue;
        }
        let secret = Kind::Tagged(Sensitivity::Secret);
        out.push((raw.trim().to_string(), secret));
        if let Some(p) = url.password() {
            out.push((format!("{}:{p}", url.username()), secret));
            out.push((p.to_string(), secret));
            let decoded = percent_decode(p);
            if decoded != p {
                out.push((decoded, secret));
            }
        }
        // A user name alone stays unless it is long enough not to be an ordinary word
        // ("proxy", "admin") that the report uses elsewhere.
        if url.username().len() >= 8 {
            out.push((url.username().to_string(), secret));
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

/// What identifies this machine and its user, whether or not a check measured it.
fn machine_values() -> Vec<(String, Kind)> {
    let mut out = Vec::new();
    for var in ["USER", "LOGNAME", "SUDO_USER"] {
        if let Ok(u) = std::env::var(var) {
            // `root` names nobody, and the word is everywhere in a report about trust roots.
            if u != "root" && u.len() >= MIN_FREE_TEXT_LEN {
                out.push((u, Kind::User));
            }
        }
    }
    if let Ok(home) = std::env::var("HOME") {
        if home.len() > 1 {
            out.push((home, Kind::Tagged(Sensitivity::Path)));
        }
    }
    if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
    {
        let h = h.trim().to_string();
        if h != "localhost" && !h.is_empty() {
            if let Some((short, _)) = h.split_once('.') {
                out.push((short.to_string(), Kind::Tagged(Sensitivity::Hostname)));
            }
            out.push((h, Kind::Tagged(Sensitivity::Hostname)));
        }
    }
    let mut ips: Vec<IpAddr> = Vec::new();
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "macos"))]
    if let Ok(addrs) = nix::ifaddrs::getifaddrs() {
        for a in addrs {
            let Some(sa) = a.address else { continue };
            if let Some(v4) = sa.as_sockaddr_in() {
                ips.push(IpAddr::V4(v4.ip()));
            } else if let Some(v6) = sa.as_sockaddr_in6() {
                ips.push(IpAddr::V6(v6.ip()));
            }
        }
    }
    ips.extend(default_gateways());
    if let Ok((cfg, _)) = hickory_resolver::system_conf::read_system_conf() {
        ips.extend(cfg.name_servers().iter().map(|n| n.socket_addr.ip()));
    }
    for ip in ips {
        if ip.is_loopback() || ip.is_unspecified() {
            // Loopback is the same on every machine and names nothing.
            continue;
        }
        let kind = if non_public_range(&ip).is_some() {
            Sensitivity::PrivateIp
        } else {
            Sensitivity::ClientIp
        };
        out.push((ip.to_string(), Kind::Tagged(kind)));
    }
    out
}

/// The IPv4 default gateways: the first hop of every trace, usually a home or office router.
/// /proc/net/route holds them as little-endian hex (Linux only; elsewhere none are added).
fn default_gateways() -> Vec<IpAddr> {
    let Ok(table) = std::fs::read_to_string("/proc/net/route") else {
        return Vec::new();
    };
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.get(1) != Some(&"00000000") {
                return None;
            }
            let gw = u32::from_str_radix(f.get(2)?, 16).ok()?;
            (gw != 0).then(|| IpAddr::V4(std::net::Ipv4Addr::from(gw.to_le_bytes())))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::*;

    fn report() -> Report {
        let check = CheckReport {
            id: "tcp.acme".into(),
            title: "TCP".into(),
            status: Status::Fail,
            reason: None,
            summary: "10.1.2.3:443 refused; proxy token tok-abcdef123 rejected".into(),
            duration_ms: 1,
            facts: serde_json::json!({"addr": "10.1.2.3", "by": {"10.1.2.3": "www.shop.test"}}),
            evidence: vec![
                Evidence::new("address", "10.1.2.3", Sensitivity::PrivateIp),
                Evidence::new("token", "tok-abcdef123", Sensitivity::Secret),
                Evidence::new("domain address", "203.0.113.9", Sensitivity::DomainAddress),
                Evidence::new("hop", "10.1.2.30", Sensitivity::PrivateIp),
            ],
            findings: vec![Finding {
                code: "tcp.acme.refused".into(),
                severity: Severity::Fail,
                summary: "www.shop.test (203.0.113.9) and 10.1.2.3 refused".into(),
                detail: Some("connect 10.1.2.3:443: refused".into()),
                explanation: String::new(),
                remediation: vec![],
                links: vec![],
                evidence: vec![],
            }],
        };
        Report {
            schema_version: SCHEMA_VERSION,
            tool: ToolInfo {
                name: "acme-doctor".into(),
                version: "0".into(),
            },
            started_at: String::new(),
            duration_ms: 0,
            plan: PlanReport {
                ca: "letsencrypt".into(),
                directory_url: String::new(),
                api_host: String::new(),
                expected_roots: vec![],
                identifiers: vec![IdentifierReport {
                    input: "https://www.shop.test/".into(),
                    kind: "dns".into(),
                    value: "www.shop.test".into(),
                    notes: vec![],
                }],
                resolver: None,
                trust_store: None,
                ip_family: "any".into(),
                challenge: "http-01".into(),
                timeout_ms: 1,
                only: vec![],
                skip: vec![],
                fail_on: "fail".into(),
                command_line: vec!["acme-doctor".into(), "www.shop.test".into()],
            },
            environment: Environment {
                os: String::new(),
                resolver: "system resolver: 10.1.2.3:53".into(),
                ipv4: true,
                ipv6: false,
                proxy: None,
            },
            checks: vec![check],
            verdict: Verdict {
                status: "fail".into(),
                exit_code: 1,
                counts: Counts {
                    pass: 0,
                    warn: 0,
                    fail: 1,
                    skipped: 0,
                    timed_out: 0,
                    crashed: 0,
                },
                message: String::new(),
            },
        }
    }

    fn redacted(level: Level) -> String {
        let r = report();
        serde_json::to_string(&Redactor::new(&r, level, &[]).report(&r)).unwrap()
    }

    #[test]
    fn secrets_go_at_every_level_even_in_free_text() {
        for level in [Level::None, Level::Standard, Level::Strict] {
            let s = redacted(level);
            assert!(!s.contains("tok-abcdef123"), "{level:?}: {s}");
            assert!(s.contains("[secret-"), "{s}");
        }
        let none = redacted(Level::None);
        assert!(none.contains("10.1.2.3") && none.contains("www.shop.test"));
    }

    #[test]
    fn standard_hides_private_addresses_everywhere_with_one_placeholder() {
        let s = redacted(Level::Standard);
        assert!(
            !s.contains("10.1.2.3\"") && !s.contains("10.1.2.3:") && !s.contains("10.1.2.3 "),
            "{s}"
        );
        let r = report();
        let red = Redactor::new(&r, Level::Standard, &[]);
        let p = red.placeholder("10.1.2.3").unwrap().to_string();
        let out = red.report(&r);
        assert!(
            out.checks[0].summary.starts_with(&format!("{p}:443")),
            "{}",
            out.checks[0].summary
        );
        assert_eq!(out.checks[0].facts["addr"], p.as_str());
        assert!(
            out.checks[0].facts["by"].get(&p).is_some(),
            "object keys too"
        );
        assert_eq!(out.environment.resolver, format!("system resolver: {p}:53"));
        assert!(out.checks[0].findings[0]
            .detail
            .as_deref()
            .unwrap()
            .contains(&p));
        // A longer address sharing the prefix keeps its own placeholder.
        let hop = red.placeholder("10.1.2.30").unwrap();
        assert_ne!(hop, p);
        assert_eq!(out.checks[0].evidence[3].value, hop);
        // Standard keeps the domain and its public address.
        assert!(
            s.contains("www.shop.test") && s.contains("203.0.113.9"),
            "{s}"
        );
    }

    #[test]
    fn a_file_keeps_one_placeholder_inside_sentences() {
        let mut r = report();
        r.plan.trust_store = Some("/srv/pki/root.pem".into());
        r.checks[0].summary = "1 roots from --trust-store /srv/pki/root.pem".into();
        r.checks[0].evidence.push(Evidence::new(
            "source",
            "--trust-store /srv/pki/root.pem",
            Sensitivity::Path,
        ));
        let out = Redactor::new(&r, Level::Standard, &[]).report(&r);
        assert_eq!(out.plan.trust_store.as_deref(), Some("[path-1]"));
        assert_eq!(out.checks[0].summary, "1 roots from --trust-store [path-1]");
        assert_eq!(out.checks[0].evidence[4].value, "--trust-store [path-1]");
    }

    #[test]
    fn strict_hides_the_domain_and_its_addresses() {
        let s = redacted(Level::Strict);
        assert!(
            !s.contains("shop.test") && !s.contains("203.0.113.9"),
            "{s}"
        );
        let r = report();
        let out = Redactor::new(&r, Level::Strict, &[]).report(&r);
        assert_eq!(out.plan.command_line[1], "[domain-1]");
        assert_eq!(out.plan.identifiers[0].input, "https://[domain-1]/");
        assert!(out.checks[0].findings[0]
            .summary
            .starts_with("[domain-1] ([domain-address-1])"));
    }

    #[test]
    fn composite_values_are_split() {
        assert_eq!(parts("10.0.0.1, 0.0.0.0"), vec!["10.0.0.1", "0.0.0.0"]);
        assert_eq!(parts("http://proxy.corp:3128"), vec!["proxy.corp"]);
        assert_eq!(parts("http://127.0.0.1:3128"), Vec::<String>::new());
        assert_eq!(parts("192.168.1.1:53"), vec!["192.168.1.1"]);
        assert!(!default_gateways().iter().any(|g| g.is_unspecified()));
    }

    #[test]
    fn whole_tokens_only() {
        let r = |t: &str, v: &str| replace_bounded(t, v, "[x-1]");
        assert_eq!(r("at 10.0.0.1:53.", "10.0.0.1"), "at [x-1]:53.");
        assert_eq!(
            r("10.0.0.10 and 10.0.0.1", "10.0.0.1"),
            "10.0.0.10 and [x-1]"
        );
        assert_eq!(r("www.example.com", "example.com"), "www.[x-1]");
        assert_eq!(r("example.com.au", "example.com"), "example.com.au");
        assert_eq!(r("bobcat bob", "bob"), "bobcat [x-1]");
        assert_eq!(r("/home/bob/x.pem", "/home/bob"), "[x-1]/x.pem");
        assert_eq!(r("fe80::1 ::1", "::1"), "fe80::1 [x-1]");
        assert_eq!(r("ab ab", "ab"), "[x-1] [x-1]");
    }
}

//! Let's Encrypt's multi-perspective quorum (boulder va/va.go; CA/B Forum BR 3.2.2.9), as a pure
//! function: with up to 5 remote perspectives at most 1 may fail, with 6 or more at most 2, and
//! the passing perspectives must span at least 2 regional internet registries.
//!
//! The probes are places the CA's perspectives may stand in, not the perspectives themselves:
//! the tolerance is the CA's (1 failure among its remote perspectives), however many places
//! were probed. Two failing places can hold two of the CA's perspectives, which fails it.

use std::collections::BTreeSet;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Rir {
    #[serde(rename = "ARIN")]
    Arin,
    #[serde(rename = "RIPE NCC")]
    Ripe,
    #[serde(rename = "APNIC")]
    Apnic,
    #[serde(rename = "LACNIC")]
    Lacnic,
    #[serde(rename = "AFRINIC")]
    Afrinic,
}

impl Rir {
    pub fn label(self) -> &'static str {
        match self {
            Rir::Arin => "ARIN",
            Rir::Ripe => "RIPE NCC",
            Rir::Apnic => "APNIC",
            Rir::Lacnic => "LACNIC",
            Rir::Afrinic => "AFRINIC",
        }
    }
}

/// Latin American and Caribbean countries served by LACNIC although on the North American
/// continent.
const LACNIC_NA: &[&str] = &[
    "MX", "GT", "BZ", "SV", "HN", "NI", "CR", "PA", "CU", "DO", "HT", "AW", "CW", "SX", "BQ", "TT",
];
/// Middle East, Caucasus and Central Asia: RIPE NCC although in Asia.
const RIPE_AS: &[&str] = &[
    "AE", "SA", "IL", "IR", "IQ", "JO", "KW", "LB", "OM", "QA", "SY", "YE", "BH", "PS", "TR", "CY",
    "GE", "AM", "AZ", "KZ", "KG", "TJ", "TM", "UZ", "RU",
];
const EUROPE: &[&str] = &[
    "AD", "AL", "AT", "BA", "BE", "BG", "BY", "CH", "CZ", "DE", "DK", "EE", "ES", "FI", "FO", "FR",
    "GB", "GG", "GI", "GR", "HR", "HU", "IE", "IM", "IS", "IT", "JE", "LI", "LT", "LU", "LV", "MC",
    "MD", "ME", "MK", "MT", "NL", "NO", "PL", "PT", "RO", "RS", "SE", "SI", "SK", "SM", "UA", "VA",
    "XK", "GL",
];
const AFRICA_EXTRA: &[&str] = &[
    "ZA", "EG", "NG", "KE", "MA", "DZ", "TN", "GH", "MU", "RE", "YT",
];
const LATAM: &[&str] = &[
    "AR", "BO", "BR", "CL", "CO", "EC", "GY", "PE", "PY", "SR", "UY", "VE", "FK", "GF",
];
const ASIA_PACIFIC: &[&str] = &[
    "AU", "NZ", "JP", "KR", "CN", "HK", "TW", "SG", "MY", "ID", "TH", "VN", "PH", "IN", "PK", "BD",
    "LK", "NP", "MM", "KH", "LA", "MN", "FJ", "PG", "MO", "BN",
];
const ARIN_EXTRA: &[&str] = &["US", "CA", "PR", "BS", "JM", "BM", "BB", "AG", "KY", "VI"];

/// The RIR serving a country (ISO 3166-1 alpha-2), or failing a known country, its continent
/// (Globalping's two-letter continent codes: AF AN AS EU NA OC SA).
pub fn rir(country: &str, continent: &str) -> Option<Rir> {
    let c = country.to_ascii_uppercase();
    let c = c.as_str();
    if LACNIC_NA.contains(&c) || LATAM.contains(&c) {
        return Some(Rir::Lacnic);
    }
    if RIPE_AS.contains(&c) || EUROPE.contains(&c) {
        return Some(Rir::Ripe);
    }
    if ARIN_EXTRA.contains(&c) {
        return Some(Rir::Arin);
    }
    if ASIA_PACIFIC.contains(&c) {
        return Some(Rir::Apnic);
    }
    if AFRICA_EXTRA.contains(&c) {
        return Some(Rir::Afrinic);
    }
    match continent.to_ascii_uppercase().as_str() {
        "EU" => Some(Rir::Ripe),
        "AF" => Some(Rir::Afrinic),
        "AS" | "OC" => Some(Rir::Apnic),
        "SA" => Some(Rir::Lacnic),
        "NA" | "AN" => Some(Rir::Arin),
        _ => None,
    }
}

/// Remote perspectives a CA validates from: Let's Encrypt's 4 (since 2024), which is also the
/// CA/B Forum's minimum for every public CA since 2026-06-15 (5 from 2026-12-15: the same
/// tolerance).
pub const CA_REMOTE_PERSPECTIVES: usize = 4;

/// Failures the CA tolerates among `remotes` perspectives.
pub fn max_failures(remotes: usize) -> usize {
    if remotes >= 6 {
        2
    } else {
        1
    }
}

/// The CA's verdict on a set of perspectives.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Verdict {
    pub perspectives: usize,
    pub passed: usize,
    pub failed: usize,
    /// The CA's tolerance among its `ca_remotes` remote perspectives.
    pub allowed_failures: usize,
    pub ca_remotes: usize,
    pub passing_rirs: Vec<Rir>,
    pub pass: bool,
    /// Why it fails, in the CA's terms; empty when it passes.
    pub reason: String,
}

/// `results`: per perspective, whether it reached the server, and its RIR.
pub fn evaluate(results: &[(bool, Option<Rir>)]) -> Verdict {
    let n = results.len();
    let passed = results.iter().filter(|(ok, _)| *ok).count();
    let failed = n - passed;
    let allowed = max_failures(CA_REMOTE_PERSPECTIVES);
    let rirs: BTreeSet<Rir> = results
        .iter()
        .filter(|(ok, _)| *ok)
        .filter_map(|(_, r)| *r)
        .collect();
    let mut reasons = Vec::new();
    if n == 0 {
        reasons.push("no perspective answered".to_string());
    } else if failed > allowed {
        reasons.push(format!(
            "{failed} of {n} perspectives failed; the CA validates from {CA_REMOTE_PERSPECTIVES} remote perspectives and tolerates {allowed} failure{}, so failing places like these can hold more of them than that",
            if allowed == 1 { "" } else { "s" }
        ));
    }
    if n > 0 && rirs.len() < 2 {
        reasons.push(format!(
            "the passing perspectives span {} RIR{} ({}), the CA needs at least 2",
            rirs.len(),
            if rirs.len() == 1 { "" } else { "s" },
            if rirs.is_empty() {
                "none".to_string()
            } else {
                rirs.iter()
                    .map(|r| r.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ));
    }
    Verdict {
        perspectives: n,
        passed,
        failed,
        allowed_failures: allowed,
        ca_remotes: CA_REMOTE_PERSPECTIVES,
        passing_rirs: rirs.into_iter().collect(),
        pass: reasons.is_empty(),
        reason: reasons.join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Option<Rir> = Some(Rir::Arin);
    const R: Option<Rir> = Some(Rir::Ripe);
    const P: Option<Rir> = Some(Rir::Apnic);

    #[test]
    fn quorum_table() {
        // 4 remotes (Let's Encrypt today): one may fail, not two.
        assert!(evaluate(&[(true, A), (true, R), (true, P), (false, A)]).pass);
        let v = evaluate(&[(true, A), (true, R), (false, P), (false, A)]);
        assert!(!v.pass && v.reason.contains("2 of 4"), "{v:?}");
        assert!(!evaluate(&[(true, A), (true, R), (true, P), (false, A), (false, R)]).pass);
        // More places probed than the CA has perspectives: still the CA's tolerance of one.
        let eight = [
            (true, A),
            (true, R),
            (true, P),
            (true, A),
            (true, R),
            (true, P),
            (false, R),
            (false, P),
        ];
        let v = evaluate(&eight);
        assert!(!v.pass, "{v:?}");
        assert!(
            v.reason.contains("2 of 8 perspectives failed")
                && v.reason
                    .contains("validates from 4 remote perspectives and tolerates 1 failure,"),
            "{}",
            v.reason
        );
        assert!(evaluate(&eight[..7]).pass);
        assert_eq!((v.allowed_failures, v.ca_remotes), (1, 4));
        // The CA/B Forum table itself.
        assert_eq!(max_failures(5), 1);
        assert_eq!(max_failures(6), 2);
    }

    #[test]
    fn one_rir_is_not_enough() {
        let v = evaluate(&[(true, A), (true, A), (true, A), (true, A), (false, R)]);
        assert!(!v.pass);
        assert!(v.reason.contains("1 RIR (ARIN)"), "{}", v.reason);
        assert!(!evaluate(&[]).pass);
    }

    #[test]
    fn countries_map_to_rirs() {
        assert_eq!(rir("US", "NA"), A);
        assert_eq!(rir("MX", "NA"), Some(Rir::Lacnic));
        assert_eq!(rir("BR", "SA"), Some(Rir::Lacnic));
        assert_eq!(rir("de", "EU"), R);
        assert_eq!(rir("AE", "AS"), R);
        assert_eq!(rir("RU", "EU"), R);
        assert_eq!(rir("JP", "AS"), P);
        assert_eq!(rir("EG", "AF"), Some(Rir::Afrinic));
        assert_eq!(rir("XX", "OC"), P);
        assert_eq!(rir("", ""), None);
    }
}

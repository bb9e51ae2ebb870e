//! CAA evaluation (RFC 8659, with RFC 8657's `accounturi` and `validationmethods`), as a pure
//! function of the records found: no network here, so every rule is unit-tested.
//!
//! The lookup side (in `checks::dns_caa`) climbs from the name towards the public suffix and
//! hands over the first non-empty record set with the name it sits at (the "relevant" set).

use hickory_proto::rr::rdata::caa::read_issuer;

/// One CAA record as published: flags, tag and raw value bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaaRecord {
    pub flags: u8,
    pub tag: String,
    pub value: Vec<u8>,
}

impl CaaRecord {
    pub fn new(flags: u8, tag: &str, value: &str) -> Self {
        CaaRecord {
            flags,
            tag: tag.into(),
            value: value.as_bytes().to_vec(),
        }
    }
    pub fn critical(&self) -> bool {
        self.flags & 0x80 != 0
    }
    /// Zone-file form, as a user would paste it.
    pub fn display(&self, owner: &str) -> String {
        format!(
            "{owner}. CAA {} {} \"{}\"",
            self.flags,
            self.tag,
            String::from_utf8_lossy(&self.value)
        )
    }
}

/// Tags a CA understands (RFC 8659 plus the registered contact and mail tags). An unknown tag
/// with the critical flag forbids issuance.
const KNOWN_TAGS: &[&str] = &[
    "issue",
    "issuewild",
    "iodef",
    "contactemail",
    "contactphone",
    "issuemail",
    "issuevmc",
];

/// What is being asked for.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The CA's issuer domain names (`meta.caaIdentities`).
    pub identities: &'a [String],
    pub wildcard: bool,
    /// The challenge type that will be used ("http-01", "dns-01", "tls-alpn-01").
    pub method: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No CAA record anywhere up the tree: every CA may issue.
    NoRecords,
    /// Some record at `at` authorises the CA. `accounturi` is set when it restricts issuance
    /// to one ACME account (which cannot be checked from here).
    Permitted {
        at: String,
        record: String,
        accounturi: Option<String>,
        /// The set has no issue/issuewild property at all (only iodef and the like).
        unrestricted: bool,
    },
    Forbidden {
        at: String,
        reason: Reason,
        /// The records that decided, in zone-file form.
        records: Vec<String>,
        /// The exact record to add (or the change to make).
        fix: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A critical record with a tag the CA does not understand.
    CriticalUnknown { tag: String },
    /// The CA is not among the issuers named (`issuers` lists those that are).
    NotListed { issuers: Vec<String> },
    /// The CA is named, but only for other validation methods.
    MethodNotAllowed { allowed: Vec<String> },
}

/// Evaluates the relevant record set `records` found at `at` (no trailing dot).
pub fn evaluate(at: &str, records: &[CaaRecord], req: &Request<'_>) -> Verdict {
    if records.is_empty() {
        return Verdict::NoRecords;
    }
    let primary = req.identities.first().cloned().unwrap_or_default();
    if let Some(r) = records
        .iter()
        .find(|r| r.critical() && !KNOWN_TAGS.contains(&r.tag.to_ascii_lowercase().as_str()))
    {
        return Verdict::Forbidden {
            at: at.into(),
            reason: Reason::CriticalUnknown { tag: r.tag.clone() },
            records: vec![r.display(at)],
            fix: format!(
                "remove {} or clear its critical flag: {}",
                r.display(at),
                CaaRecord {
                    flags: r.flags & 0x7f,
                    ..r.clone()
                }
                .display(at)
            ),
        };
    }
    let with_tag = |t: &str| -> Vec<&CaaRecord> {
        records
            .iter()
            .filter(|r| r.tag.eq_ignore_ascii_case(t))
            .collect()
    };
    let issuewild = with_tag("issuewild");
    let (tag, set) = if req.wildcard && !issuewild.is_empty() {
        ("issuewild", issuewild)
    } else {
        ("issue", with_tag("issue"))
    };
    if set.is_empty() {
        return Verdict::Permitted {
            at: at.into(),
            record: records[0].display(at),
            accounturi: None,
            unrestricted: true,
        };
    }
    let mut issuers = Vec::new();
    let mut method_allowed: Option<Vec<String>> = None;
    for r in &set {
        // An unparsable value authorises nobody (RFC 8659 section 4.2).
        let Ok((Some(name), params)) = read_issuer(&r.value) else {
            continue;
        };
        let issuer = name.to_ascii().trim_end_matches('.').to_ascii_lowercase();
        issuers.push(issuer.clone());
        if !req
            .identities
            .iter()
            .any(|i| i.trim_end_matches('.').eq_ignore_ascii_case(&issuer))
        {
            continue;
        }
        let param = |k: &str| {
            params
                .iter()
                .find(|kv| kv.key().eq_ignore_ascii_case(k))
                .map(|kv| kv.value().to_string())
        };
        if let Some(methods) = param("validationmethods") {
            let allowed: Vec<String> = methods
                .split(',')
                .map(|m| m.trim().to_ascii_lowercase())
                .collect();
            if !allowed.iter().any(|m| m == req.method) {
                method_allowed = Some(allowed);
                continue;
            }
        }
        return Verdict::Permitted {
            at: at.into(),
            record: r.display(at),
            accounturi: param("accounturi"),
            unrestricted: false,
        };
    }
    let deciding: Vec<String> = set.iter().map(|r| r.display(at)).collect();
    match method_allowed {
        Some(allowed) => Verdict::Forbidden {
            at: at.into(),
            fix: format!(
                "{at}. CAA 0 {tag} \"{primary}; validationmethods={}\"",
                allowed
                    .iter()
                    .chain(std::iter::once(&req.method.to_string()))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            reason: Reason::MethodNotAllowed { allowed },
            records: deciding,
        },
        None => Verdict::Forbidden {
            at: at.into(),
            fix: format!("{at}. CAA 0 {tag} \"{primary}\""),
            reason: Reason::NotListed { issuers },
            records: deciding,
        },
    }
}

/// The names to look CAA up at: the name itself, then each parent down to (but not including)
/// the public suffix. For a wildcard, the base name without `*.`.
pub fn climb(name: &str) -> Vec<String> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let suffix_len = psl::suffix(name.as_bytes())
        .map(|s| s.as_bytes().len())
        .unwrap_or(0);
    let mut out = Vec::new();
    let mut cur = name.as_str();
    loop {
        if cur.len() <= suffix_len {
            break;
        }
        out.push(cur.to_string());
        match cur.split_once('.') {
            Some((_, rest)) => cur = rest,
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        vec!["letsencrypt.org".into()]
    }
    fn req<'a>(ids: &'a [String], wildcard: bool, method: &'a str) -> Request<'a> {
        Request {
            identities: ids,
            wildcard,
            method,
        }
    }
    fn issue(v: &str) -> CaaRecord {
        CaaRecord::new(0, "issue", v)
    }

    #[test]
    fn no_records_permit_everyone() {
        let i = ids();
        assert_eq!(
            evaluate("example.com", &[], &req(&i, false, "http-01")),
            Verdict::NoRecords
        );
    }

    #[test]
    fn listed_ca_is_permitted_case_insensitively() {
        let i = ids();
        let v = evaluate(
            "example.com",
            &[issue("sectigo.com"), issue("LetsEncrypt.org")],
            &req(&i, false, "http-01"),
        );
        assert!(
            matches!(v, Verdict::Permitted { ref record, accounturi: None, unrestricted: false, .. } if record.contains("LetsEncrypt.org")),
            "{v:?}"
        );
    }

    #[test]
    fn other_ca_forbids_with_exact_fix() {
        let i = ids();
        let v = evaluate(
            "example.com",
            &[issue("sectigo.com")],
            &req(&i, false, "http-01"),
        );
        let Verdict::Forbidden {
            at, reason, fix, ..
        } = v
        else {
            panic!("{v:?}")
        };
        assert_eq!(at, "example.com");
        assert_eq!(
            reason,
            Reason::NotListed {
                issuers: vec!["sectigo.com".into()]
            }
        );
        assert_eq!(fix, "example.com. CAA 0 issue \"letsencrypt.org\"");
    }

    #[test]
    fn empty_issuer_forbids_everyone() {
        let i = ids();
        let v = evaluate("example.com", &[issue(";")], &req(&i, false, "http-01"));
        assert!(
            matches!(v, Verdict::Forbidden { reason: Reason::NotListed { ref issuers }, .. } if issuers.is_empty()),
            "{v:?}"
        );
    }

    #[test]
    fn unparsable_value_authorises_nobody() {
        let i = ids();
        let v = evaluate(
            "example.com",
            &[issue("letsencrypt.org; =broken")],
            &req(&i, false, "http-01"),
        );
        assert!(matches!(v, Verdict::Forbidden { .. }), "{v:?}");
    }

    #[test]
    fn wildcard_uses_issuewild_when_present() {
        let i = ids();
        let recs = [
            issue("letsencrypt.org"),
            CaaRecord::new(0, "issuewild", "sectigo.com"),
        ];
        let v = evaluate("example.com", &recs, &req(&i, true, "dns-01"));
        let Verdict::Forbidden { fix, .. } = v else {
            panic!("{v:?}")
        };
        assert_eq!(fix, "example.com. CAA 0 issuewild \"letsencrypt.org\"");
        // The same set allows the non-wildcard name.
        assert!(matches!(
            evaluate("example.com", &recs, &req(&i, false, "dns-01")),
            Verdict::Permitted { .. }
        ));
        // Without issuewild, issue governs wildcards too.
        assert!(matches!(
            evaluate(
                "example.com",
                &[issue("letsencrypt.org")],
                &req(&i, true, "dns-01")
            ),
            Verdict::Permitted { .. }
        ));
        // issuewild ";" forbids wildcards only.
        let recs = [
            issue("letsencrypt.org"),
            CaaRecord::new(0, "issuewild", ";"),
        ];
        assert!(matches!(
            evaluate("example.com", &recs, &req(&i, true, "dns-01")),
            Verdict::Forbidden { .. }
        ));
        assert!(matches!(
            evaluate("example.com", &recs, &req(&i, false, "dns-01")),
            Verdict::Permitted { .. }
        ));
    }

    #[test]
    fn critical_unknown_tag_forbids_known_critical_does_not() {
        let i = ids();
        let v = evaluate(
            "example.com",
            &[issue("letsencrypt.org"), CaaRecord::new(128, "tbs", "x")],
            &req(&i, false, "http-01"),
        );
        let Verdict::Forbidden { reason, fix, .. } = v else {
            panic!("{v:?}")
        };
        assert_eq!(reason, Reason::CriticalUnknown { tag: "tbs".into() });
        assert!(fix.contains("example.com. CAA 0 tbs \"x\""), "{fix}");
        // Non-critical unknown tags are ignored; critical known tags are fine.
        assert!(matches!(
            evaluate(
                "example.com",
                &[
                    CaaRecord::new(0, "tbs", "x"),
                    CaaRecord::new(128, "issue", "letsencrypt.org")
                ],
                &req(&i, false, "http-01")
            ),
            Verdict::Permitted { .. }
        ));
    }

    #[test]
    fn only_iodef_is_unrestricted() {
        let i = ids();
        let v = evaluate(
            "example.com",
            &[CaaRecord::new(0, "iodef", "mailto:sec@example.com")],
            &req(&i, false, "http-01"),
        );
        assert!(
            matches!(
                v,
                Verdict::Permitted {
                    unrestricted: true,
                    ..
                }
            ),
            "{v:?}"
        );
    }

    #[test]
    fn accounturi_is_reported() {
        let i = ids();
        let v = evaluate(
            "example.com",
            &[issue(
                "letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/123",
            )],
            &req(&i, false, "http-01"),
        );
        assert!(
            matches!(v, Verdict::Permitted { accounturi: Some(ref a), .. } if a.ends_with("/acct/123")),
            "{v:?}"
        );
    }

    #[test]
    fn validationmethods_restrict() {
        let i = ids();
        let recs = [issue("letsencrypt.org; validationmethods=dns-01")];
        assert!(matches!(
            evaluate("example.com", &recs, &req(&i, false, "dns-01")),
            Verdict::Permitted { .. }
        ));
        let v = evaluate("example.com", &recs, &req(&i, false, "http-01"));
        let Verdict::Forbidden { reason, fix, .. } = v else {
            panic!("{v:?}")
        };
        assert_eq!(
            reason,
            Reason::MethodNotAllowed {
                allowed: vec!["dns-01".into()]
            }
        );
        assert_eq!(
            fix,
            "example.com. CAA 0 issue \"letsencrypt.org; validationmethods=dns-01,http-01\""
        );
        // Another record without the restriction still authorises.
        let recs = [
            issue("letsencrypt.org; validationmethods=dns-01"),
            issue("letsencrypt.org"),
        ];
        assert!(matches!(
            evaluate("example.com", &recs, &req(&i, false, "http-01")),
            Verdict::Permitted { .. }
        ));
    }

    #[test]
    fn any_of_several_identities_matches() {
        let i = vec!["pki.goog".to_string(), "google.com".to_string()];
        assert!(matches!(
            evaluate(
                "example.com",
                &[issue("google.com")],
                &req(&i, false, "http-01")
            ),
            Verdict::Permitted { .. }
        ));
    }

    #[test]
    fn climb_stops_at_the_public_suffix() {
        assert_eq!(
            climb("a.b.example.co.uk"),
            ["a.b.example.co.uk", "b.example.co.uk", "example.co.uk"]
        );
        assert_eq!(climb("Example.com."), ["example.com"]);
    }
}

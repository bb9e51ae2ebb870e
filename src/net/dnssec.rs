//! DNSSEC validation of the user's answers, done here instead of trusted to the resolver: a
//! resolver that does not validate hides a broken chain that the CA's validating resolvers will
//! refuse, and one that does says only SERVFAIL. Everything is fetched through the resolver with
//! checking disabled (CD) and DO set, then checked from the answer up to a trust anchor with
//! hickory's DNSSEC primitives (RRSIG verification, DS digests), so each break is named: which
//! record, which key tag, which zone, which time.
//!
//! Scope: positive answers (the RRsets in an answer section, CNAMEs included). A missing DS is
//! accepted as an insecure delegation when the parent's denial records (NSEC/NSEC3) are signed by
//! the parent's keys; their type bitmaps are not interpreted.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hickory_proto::dnssec::rdata::{DNSSECRData, DNSKEY, DS, RRSIG};
use hickory_proto::dnssec::{Algorithm, PublicKey, TrustAnchors, Verifier};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use super::authoritative;

/// A name as the report shows it; the root zone is ".".
fn show(n: &Name) -> String {
    if n.is_root() {
        ".".into()
    } else {
        authoritative::show(n)
    }
}

/// A trust anchor: a key (or the digest of one, as in IANA's root-anchors and unbound's
/// root.key) that is trusted for a zone without a DS above it.
#[derive(Debug, Clone)]
pub enum Anchor {
    Key { zone: Name, key: DNSKEY },
    Digest { zone: Name, ds: DS },
}

impl Anchor {
    fn zone(&self) -> &Name {
        match self {
            Anchor::Key { zone, .. } | Anchor::Digest { zone, .. } => zone,
        }
    }

    fn trusts(&self, zone: &Name, key: &DNSKEY) -> bool {
        if self.zone() != zone {
            return false;
        }
        match self {
            Anchor::Key { key: k, .. } => {
                k.algorithm() == key.algorithm()
                    && k.public_key().public_bytes() == key.public_key().public_bytes()
            }
            Anchor::Digest { ds, .. } => ds.covers(zone, key).unwrap_or(false),
        }
    }
}

/// The root zone's key-signing keys as hickory ships them (KSK-2017 tag 20326, KSK-2024 tag
/// 38696).
pub fn root_anchors() -> Vec<Anchor> {
    let built_in = TrustAnchors::default();
    (0..built_in.len())
        .filter_map(|i| built_in.get(i))
        .map(|k| Anchor::Key {
            zone: Name::root(),
            key: DNSKEY::with_flags(257, k.clone()),
        })
        .collect()
}

/// Reads DNSKEY and DS records in zone-file presentation format, one record per line (owner
/// names absolute; `;` comments allowed): the format of unbound's `root.key`, IANA's
/// root-anchors in DS form, and `dig +nocomments DNSKEY <zone>` output.
pub fn anchors_from_file(path: &Path) -> Result<Vec<Anchor>, String> {
    use hickory_proto::serialize::txt::{trust_anchor, Parser};
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut anchors = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let record = line.split(';').next().unwrap_or_default().trim();
        if record.is_empty() {
            continue;
        }
        let bad = |e: String| format!("{} line {}: {e}", path.display(), n + 1);
        let words: Vec<String> = record
            .split_whitespace()
            .map(|w| w.to_ascii_uppercase())
            .collect();
        if words.iter().any(|w| w == "DNSKEY") {
            let entries = trust_anchor::Parser::new(record)
                .parse()
                .map_err(|e| bad(e.to_string()))?;
            for entry in entries {
                if let trust_anchor::Entry::DNSKEY(r) = entry {
                    anchors.push(Anchor::Key {
                        zone: r.name().clone(),
                        key: r.data().clone(),
                    });
                }
            }
        } else if words.iter().any(|w| w == "DS") {
            // unbound's trust-anchor-file and ldns-keygen's .ds files leave the TTL out.
            let (_, sets) = Parser::new(format!("$TTL 3600\n{record}"), None, Some(Name::root()))
                .parse()
                .map_err(|e| bad(e.to_string()))?;
            for r in sets.values().flat_map(|s| s.records_without_rrsigs()) {
                if let RData::DNSSEC(DNSSECRData::DS(ds)) = r.data() {
                    anchors.push(Anchor::Digest {
                        zone: r.name().clone(),
                        ds: ds.clone(),
                    });
                }
            }
        } else {
            return Err(bad(format!(
                "{record:?} is not a DNSKEY or DS record in zone-file format"
            )));
        }
    }
    if anchors.is_empty() {
        return Err(format!("{}: no DNSKEY or DS record in it", path.display()));
    }
    Ok(anchors)
}

/// The outcome of validating one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Signed and chained to a trust anchor; the chain, answer first.
    Secure(Vec<String>),
    /// A zone on the way is not signed (no DS at its parent): nothing to validate.
    Insecure(String),
    /// Signed, but the signatures or the chain do not hold: a validating resolver answers
    /// SERVFAIL.
    Bogus(String),
    /// Validation could not be completed (the resolver failed, stripped DNSSEC records, or an
    /// algorithm is not supported here).
    Indeterminate(String),
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Secure(chain) => write!(f, "secure: {}", chain.join(" ← ")),
            Verdict::Insecure(why) => write!(f, "insecure (unsigned): {why}"),
            Verdict::Bogus(why) => write!(f, "bogus: {why}"),
            Verdict::Indeterminate(why) => write!(f, "not validated: {why}"),
        }
    }
}

/// A zone's keys once the chain to them is known.
#[derive(Debug, Clone)]
enum ZoneKeys {
    Secure {
        keys: Vec<DNSKEY>,
        chain: Vec<String>,
    },
    Insecure(String),
    Bogus(String),
    Indeterminate(String),
}

pub struct Validator<'a> {
    resolvers: &'a [SocketAddr],
    anchors: &'a [Anchor],
    timeout: Duration,
    now: u32,
    zones: Mutex<HashMap<Name, ZoneKeys>>,
}

fn rrsigs<'m>(records: &'m [Record], owner: &Name, covered: RecordType) -> Vec<&'m RRSIG> {
    records
        .iter()
        .filter(|r| r.name() == owner)
        .filter_map(|r| match r.data() {
            RData::DNSSEC(DNSSECRData::RRSIG(s)) if s.type_covered() == covered => Some(s),
            _ => None,
        })
        .collect()
}

fn rrset(records: &[Record], owner: &Name, rtype: RecordType) -> Vec<Record> {
    records
        .iter()
        .filter(|r| r.name() == owner && r.record_type() == rtype)
        .cloned()
        .collect()
}

fn key_tag(key: &DNSKEY) -> u16 {
    key.calculate_key_tag().unwrap_or(0)
}

fn utc(t: u32) -> String {
    time::OffsetDateTime::from_unix_timestamp(i64::from(t))
        .ok()
        .and_then(|d| {
            d.format(&time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| t.to_string())
}

/// RFC 1982 serial arithmetic: RRSIG times wrap around in 2106.
fn serial_le(a: u32, b: u32) -> bool {
    a == b || b.wrapping_sub(a) < 1 << 31
}

/// An algorithm by its IANA mnemonic; hickory names the ones it cannot verify "Unknown".
fn alg_name(alg: Algorithm) -> String {
    match alg {
        Algorithm::Unknown(n) => match n {
            6 => "DSA-NSEC3-SHA1".into(),
            12 => "ECC-GOST".into(),
            16 => "ED448".into(),
            253 => "PRIVATEDNS".into(),
            254 => "PRIVATEOID".into(),
            n => format!("algorithm {n}"),
        },
        known => known.to_string(),
    }
}

/// Algorithms that validators must not validate (RFC 8624: RSAMD5, DSA, DSA-NSEC3-SHA1,
/// ECC-GOST): a zone signed only with them is treated as unsigned everywhere. Any other
/// algorithm acme-doctor cannot verify (ED448, with hickory's ring backend) is verified by the
/// resolvers that support it, so acme-doctor cannot tell secure from bogus there.
#[allow(deprecated)]
fn must_not_validate(alg: Algorithm) -> bool {
    matches!(
        alg,
        Algorithm::RSAMD5 | Algorithm::DSA | Algorithm::Unknown(6) | Algorithm::Unknown(12)
    )
}

/// Why no signature over an RRset verified.
#[derive(Debug, Clone)]
enum Failure {
    /// At least one signature was checked and failed (expired, no such key, does not verify).
    Bogus(String),
    /// Signatures in an algorithm acme-doctor cannot verify are among them: a resolver that
    /// can may find the set secure.
    Unverifiable(String),
}

impl Failure {
    fn zone_keys(self) -> ZoneKeys {
        match self {
            Failure::Bogus(why) => ZoneKeys::Bogus(why),
            Failure::Unverifiable(why) => ZoneKeys::Indeterminate(why),
        }
    }
}

impl<'a> Validator<'a> {
    pub fn new(resolvers: &'a [SocketAddr], anchors: &'a [Anchor], timeout: Duration) -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as u32)
            .unwrap_or_default();
        Validator {
            resolvers,
            anchors,
            timeout,
            now,
            zones: Mutex::new(HashMap::new()),
        }
    }

    async fn fetch(&self, name: &Name, rtype: RecordType) -> Result<Message, String> {
        match authoritative::recursive_with(self.resolvers, name, rtype, true, self.timeout).await {
            Ok(r) => Ok(r.message),
            Err(e) => Err(format!("{rtype} {} through the resolver: {e}", show(name))),
        }
    }

    /// Validates the positive answer for `name`/`rtype`: every RRset in the answer section
    /// (each CNAME of a chain and the final records). `None` when there is nothing to validate
    /// (no such records).
    pub async fn validate(&self, name: &Name, rtype: RecordType) -> Option<Verdict> {
        let msg = match self.fetch(name, rtype).await {
            Ok(m) => m,
            Err(e) => return Some(Verdict::Indeterminate(e)),
        };
        if msg.response_code() != ResponseCode::NoError {
            return None;
        }
        let answers = msg.answers();
        let mut sets: Vec<(Name, RecordType)> = Vec::new();
        for r in answers {
            let t = r.record_type();
            if t == RecordType::RRSIG || sets.iter().any(|(n, s)| n == r.name() && *s == t) {
                continue;
            }
            sets.push((r.name().clone(), t));
        }
        if !sets.iter().any(|(_, t)| *t == rtype) {
            return None;
        }
        let mut chain = Vec::new();
        let mut insecure = None;
        for (owner, t) in sets {
            let records = rrset(answers, &owner, t);
            let sigs = rrsigs(answers, &owner, t);
            match self.rrset(&owner, t, &records, &sigs).await {
                Verdict::Secure(c) => {
                    if chain.is_empty() {
                        chain = c;
                    } else {
                        chain.insert(0, format!("{} {t}", show(&owner)));
                    }
                }
                Verdict::Insecure(why) => insecure = Some(why),
                other => return Some(other),
            }
        }
        Some(match insecure {
            Some(why) => Verdict::Insecure(why),
            None => Verdict::Secure(chain),
        })
    }

    /// The security of a zone: its DNSKEY set validated up to a trust anchor, or why not.
    /// Where DNS-01 puts its TXT record, a bogus zone fails the CA's TXT lookup before any
    /// record exists.
    pub async fn zone(&self, zone: &Name) -> Verdict {
        match self.keys(zone).await {
            ZoneKeys::Secure { chain, .. } => Verdict::Secure(chain),
            ZoneKeys::Insecure(why) => Verdict::Insecure(why),
            ZoneKeys::Bogus(why) => Verdict::Bogus(why),
            ZoneKeys::Indeterminate(why) => Verdict::Indeterminate(why),
        }
    }

    /// One RRset with its signatures.
    async fn rrset(
        &self,
        owner: &Name,
        rtype: RecordType,
        records: &[Record],
        sigs: &[&RRSIG],
    ) -> Verdict {
        let what = format!("{} {rtype}", show(owner));
        if sigs.is_empty() {
            // Unsigned data is fine only in an unsigned zone.
            let zone = match self.zone_of(owner).await {
                Ok(z) => z,
                Err(e) => return Verdict::Indeterminate(e),
            };
            return match self.zone(&zone).await {
                Verdict::Secure(chain) => Verdict::Bogus(format!(
                    "{what} has no RRSIG, but its zone {} is signed ({}); the zone's signer skipped it or something between strips signatures",
                    show(&zone),
                    chain.join(" ← ")
                )),
                other => other,
            };
        }
        // Each signer is a zone at or above the owner; one good signature is enough.
        let mut problems = Vec::new();
        let mut unverifiable = Vec::new();
        for signer in distinct_signers(sigs) {
            if !signer.zone_of(owner) {
                problems.push(format!(
                    "RRSIG over {what} names signer {}, which is not a parent of the name",
                    show(&signer)
                ));
                continue;
            }
            let mine: Vec<&RRSIG> = sigs
                .iter()
                .copied()
                .filter(|s| s.signer_name() == &signer)
                .collect();
            match self.keys(&signer).await {
                ZoneKeys::Secure { keys, chain } => {
                    match self.verify(&what, owner, records, &mine, &keys) {
                        Ok(tag) => {
                            let mut c = vec![format!("{what} (key {tag})")];
                            c.extend(chain);
                            return Verdict::Secure(c);
                        }
                        Err(Failure::Bogus(why)) => problems.push(why),
                        Err(Failure::Unverifiable(why)) => unverifiable.push(why),
                    }
                }
                ZoneKeys::Insecure(why) => return Verdict::Insecure(why),
                ZoneKeys::Bogus(why) => problems.push(why),
                ZoneKeys::Indeterminate(why) => return Verdict::Indeterminate(why),
            }
        }
        if !unverifiable.is_empty() {
            return Verdict::Indeterminate(unverifiable.join("; "));
        }
        Verdict::Bogus(problems.join("; "))
    }

    /// Checks `sigs` over `records` against `keys`; the tag of the key that verified, or the
    /// most telling reason none did.
    fn verify(
        &self,
        what: &str,
        owner: &Name,
        records: &[Record],
        sigs: &[&RRSIG],
        keys: &[DNSKEY],
    ) -> Result<u16, Failure> {
        let mut reasons = Vec::new();
        let mut unverifiable = false;
        for sig in sigs {
            let tag = sig.key_tag();
            let alg = sig.algorithm();
            let name = alg_name(alg);
            let by = format!(
                "RRSIG over {what} by {} key {tag} ({name})",
                show(sig.signer_name())
            );
            if !alg.is_supported() {
                unverifiable = true;
                reasons.push(format!(
                    "{by}: acme-doctor cannot verify {name} signatures (a validating resolver that supports {name} can; one that does not treats the zone as unsigned)"
                ));
                continue;
            }
            let expiration = sig.sig_expiration().get();
            let inception = sig.sig_inception().get();
            if !serial_le(self.now, expiration) {
                reasons.push(format!(
                    "{by} expired at {} (now {} by this host's clock; system.clock checks the clock): the zone is not being re-signed",
                    utc(expiration),
                    utc(self.now)
                ));
                continue;
            }
            if !serial_le(inception, self.now) {
                reasons.push(format!(
                    "{by} is valid only from {} (now {} by this host's clock): the signer's clock or this host's is wrong",
                    utc(inception),
                    utc(self.now)
                ));
                continue;
            }
            let candidates: Vec<&DNSKEY> = keys
                .iter()
                .filter(|k| key_tag(k) == tag && k.algorithm() == alg && !k.revoke())
                .collect();
            if candidates.is_empty() {
                let have: Vec<String> = keys
                    .iter()
                    .map(|k| format!("{} ({})", key_tag(k), alg_name(k.algorithm())))
                    .collect();
                reasons.push(format!(
                    "{by}: no such key in the DNSKEY set of {} (it has {})",
                    show(sig.signer_name()),
                    have.join(", ")
                ));
                continue;
            }
            if candidates.iter().any(|k| {
                k.verify_rrsig(owner, DNSClass::IN, sig, records.iter())
                    .is_ok()
            }) {
                return Ok(tag);
            }
            reasons.push(format!(
                "{by} does not verify: the records differ from what was signed, or the signature is corrupt"
            ));
        }
        if reasons.is_empty() {
            reasons.push(format!("no RRSIG over {what}"));
        }
        let why = reasons.join("; ");
        Err(if unverifiable {
            Failure::Unverifiable(why)
        } else {
            Failure::Bogus(why)
        })
    }

    /// The zone holding `name`: the owner of the SOA in the answer or the authority section.
    async fn zone_of(&self, name: &Name) -> Result<Name, String> {
        let msg = self.fetch(name, RecordType::SOA).await?;
        msg.answers()
            .iter()
            .chain(msg.name_servers())
            .find(|r| r.record_type() == RecordType::SOA)
            .map(|r| r.name().clone())
            .ok_or_else(|| format!("no SOA for {} or its zone through the resolver", show(name)))
    }

    /// The validated DNSKEY set of `zone` (memoised: the same parents serve every name).
    fn keys<'s>(&'s self, zone: &'s Name) -> crate::engine::BoxFuture<'s, ZoneKeys> {
        Box::pin(async move {
            if let Some(k) = self.zones.lock().ok().and_then(|m| m.get(zone).cloned()) {
                return k;
            }
            let k = self.keys_uncached(zone).await;
            if let Ok(mut m) = self.zones.lock() {
                m.insert(zone.clone(), k.clone());
            }
            k
        })
    }

    async fn keys_uncached(&self, zone: &Name) -> ZoneKeys {
        let z = show(zone);
        let (dnskey, ds) = tokio::join!(self.fetch(zone, RecordType::DNSKEY), async {
            if zone.is_root() {
                None
            } else {
                Some(self.fetch(zone, RecordType::DS).await)
            }
        });
        let dnskey = match dnskey {
            Ok(m) => m,
            Err(e) => return ZoneKeys::Indeterminate(e),
        };
        let key_records = rrset(dnskey.answers(), zone, RecordType::DNSKEY);
        let keys: Vec<DNSKEY> = key_records
            .iter()
            .filter_map(|r| match r.data() {
                RData::DNSSEC(DNSSECRData::DNSKEY(k)) => Some(k.clone()),
                _ => None,
            })
            .collect();
        let key_sigs = rrsigs(dnskey.answers(), zone, RecordType::DNSKEY);
        let self_signed = |entry: &[&DNSKEY]| -> Result<u16, Failure> {
            let owned: Vec<DNSKEY> = entry.iter().map(|k| (*k).clone()).collect();
            self.verify(
                &format!("{z} DNSKEY"),
                zone,
                &key_records,
                &key_sigs,
                &owned,
            )
        };

        // A trust anchor for this very zone ends the climb.
        let anchored: Vec<&DNSKEY> = keys
            .iter()
            .filter(|k| self.anchors.iter().any(|a| a.trusts(zone, k)))
            .collect();
        if self.anchors.iter().any(|a| a.zone() == zone) {
            if keys.is_empty() {
                return ZoneKeys::Indeterminate(format!(
                    "the resolver returned no DNSKEY for {z}, which has a trust anchor: it strips DNSSEC records or ignores the DO bit"
                ));
            }
            if anchored.is_empty() {
                return ZoneKeys::Bogus(format!(
                    "the DNSKEY set of {z} (tags {}) holds none of the trust anchor's keys: the anchor is outdated (a key rollover) or the answers are forged",
                    tags(&keys)
                ));
            }
            return match self_signed(&anchored) {
                Ok(tag) => ZoneKeys::Secure {
                    keys,
                    chain: vec![format!("{z} DNSKEY (trust anchor key {tag})")],
                },
                Err(f) => f.zone_keys(),
            };
        }

        let ds = match ds {
            Some(Ok(m)) => m,
            Some(Err(e)) => return ZoneKeys::Indeterminate(e),
            None => {
                return ZoneKeys::Indeterminate(format!("no trust anchor for {z}"));
            }
        };
        let ds_records = rrset(ds.answers(), zone, RecordType::DS);
        if ds_records.is_empty() {
            return self.unsigned_delegation(zone, &ds).await;
        }
        let ds_sigs = rrsigs(ds.answers(), zone, RecordType::DS);
        let Some(parent) = ds_sigs.first().map(|s| s.signer_name().clone()) else {
            return ZoneKeys::Bogus(format!(
                "the DS set of {z} comes without an RRSIG from its parent zone"
            ));
        };
        if !parent.zone_of(zone) || &parent == zone {
            return ZoneKeys::Bogus(format!(
                "the DS set of {z} is signed by {}, which is not its parent",
                show(&parent)
            ));
        }
        let parent_chain = match self.keys(&parent).await {
            ZoneKeys::Secure { keys, chain } => {
                let what = format!("{z} DS");
                match self.verify(&what, zone, &ds_records, &ds_sigs, &keys) {
                    Ok(_) => chain,
                    Err(f) => return f.zone_keys(),
                }
            }
            other => return other,
        };
        let digests: Vec<&DS> = ds_records
            .iter()
            .filter_map(|r| match r.data() {
                RData::DNSSEC(DNSSECRData::DS(d)) => Some(d),
                _ => None,
            })
            .collect();
        if !digests.iter().any(|d| d.algorithm().is_supported()) {
            let algs = digests
                .iter()
                .map(|d| alg_name(d.algorithm()))
                .collect::<Vec<_>>()
                .join(", ");
            if digests.iter().all(|d| must_not_validate(d.algorithm())) {
                return ZoneKeys::Insecure(format!(
                    "the DS records of {z} name only algorithms that validators must not validate ({algs}, RFC 8624), so they treat {z} as unsigned"
                ));
            }
            return ZoneKeys::Indeterminate(format!(
                "the DS records of {z} name only key algorithms acme-doctor cannot verify ({algs}): a validating resolver that supports them validates {z}, one that does not treats it as unsigned"
            ));
        }
        if keys.is_empty() {
            return ZoneKeys::Bogus(format!(
                "{} has a DS for {z} (key tag {}), but {z} answers no DNSKEY: the zone was unsigned (or moved to a DNS host that does not sign) without removing the DS at the registrar",
                show(&parent),
                ds_tags(&digests)
            ));
        }
        let entry: Vec<&DNSKEY> = keys
            .iter()
            .filter(|k| digests.iter().any(|d| d.covers(zone, k).unwrap_or(false)))
            .collect();
        if entry.is_empty() {
            return ZoneKeys::Bogus(format!(
                "the DS at {} for {z} names key tag {} but no DNSKEY of {z} matches it (it has {}): the DS at the registrar is stale (after a key rollover or a change of DNS host); publish the DS of the current key-signing key",
                show(&parent),
                ds_tags(&digests),
                tags(&keys)
            ));
        }
        match self_signed(&entry) {
            Ok(tag) => {
                let mut chain = vec![format!("{z} DNSKEY (key {tag}, DS at {})", show(&parent))];
                chain.extend(parent_chain);
                ZoneKeys::Secure { keys, chain }
            }
            Err(f) => f.zone_keys(),
        }
    }

    /// No DS for `zone`: insecure when the parent is unsigned, or signed and its denial records
    /// carry valid signatures.
    async fn unsigned_delegation(&self, zone: &Name, ds: &Message) -> ZoneKeys {
        let z = show(zone);
        let authority = ds.name_servers();
        let parent = authority
            .iter()
            .find(|r| r.record_type() == RecordType::SOA)
            .map(|r| r.name().clone())
            .filter(|p| p != zone && p.zone_of(zone))
            .unwrap_or_else(|| zone.base_name());
        match self.keys(&parent).await {
            ZoneKeys::Secure { keys, .. } => {
                let mut proofs = 0;
                for r in authority {
                    let t = r.record_type();
                    if t != RecordType::NSEC && t != RecordType::NSEC3 {
                        continue;
                    }
                    let set = rrset(authority, r.name(), t);
                    let sigs = rrsigs(authority, r.name(), t);
                    let what = format!("{} {t}", show(r.name()));
                    match self.verify(&what, r.name(), &set, &sigs, &keys) {
                        Ok(_) => {}
                        Err(Failure::Bogus(why)) => {
                            return ZoneKeys::Bogus(format!(
                                "the denial of a DS for {z} does not validate: {why}"
                            ))
                        }
                        Err(Failure::Unverifiable(why)) => {
                            return ZoneKeys::Indeterminate(format!(
                                "the denial of a DS for {z} cannot be checked: {why}"
                            ))
                        }
                    }
                    proofs += 1;
                }
                if proofs == 0 {
                    return ZoneKeys::Bogus(format!(
                        "{} is signed but answers no DS for {z} without NSEC/NSEC3 proof: a validator cannot tell an unsigned delegation from a stripped DS",
                        show(&parent)
                    ));
                }
                ZoneKeys::Insecure(format!(
                    "{z} is not signed: no DS for it at {} (signed denial)",
                    show(&parent)
                ))
            }
            ZoneKeys::Insecure(why) => ZoneKeys::Insecure(why),
            other => other,
        }
    }
}

fn tags(keys: &[DNSKEY]) -> String {
    keys.iter()
        .map(|k| format!("{} ({})", key_tag(k), alg_name(k.algorithm())))
        .collect::<Vec<_>>()
        .join(", ")
}

fn ds_tags(digests: &[&DS]) -> String {
    digests
        .iter()
        .map(|d| format!("{} ({})", d.key_tag(), alg_name(d.algorithm())))
        .collect::<Vec<_>>()
        .join(", ")
}

fn distinct_signers(sigs: &[&RRSIG]) -> Vec<Name> {
    let mut out: Vec<Name> = Vec::new();
    for s in sigs {
        if !out.contains(s.signer_name()) {
            out.push(s.signer_name().clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_arithmetic_wraps() {
        assert!(serial_le(10, 20));
        assert!(!serial_le(20, 10));
        assert!(serial_le(u32::MAX - 5, 3));
        assert!(serial_le(7, 7));
    }

    #[test]
    fn built_in_root_anchors_are_the_two_ksks() {
        let tags: Vec<u16> = root_anchors()
            .iter()
            .map(|a| match a {
                Anchor::Key { key, .. } => key_tag(key),
                Anchor::Digest { ds, .. } => ds.key_tag(),
            })
            .collect();
        assert_eq!(tags, vec![20326, 38696]);
    }

    #[test]
    fn anchor_file_with_ds_and_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("root.key");
        std::fs::write(
            &p,
            ". 172800 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n",
        )
        .unwrap();
        let a = anchors_from_file(&p).unwrap();
        assert!(matches!(&a[0], Anchor::Digest { ds, .. } if ds.key_tag() == 20326));
        // The built-in KSK-2017 matches that DS.
        let Anchor::Key { key, .. } = &root_anchors()[0] else {
            panic!()
        };
        assert!(a[0].trusts(&Name::root(), key));
        // ldns-keygen's .ds file and unbound's trust-anchor-file leave the TTL out.
        std::fs::write(
            &p,
            "lab-example.com.\tIN\tDS\t1757 13 2 6dba58a519117868b2293831faef478fe946f7fa3a7c0daf39cf2389414b9bd7\n",
        )
        .unwrap();
        let a = anchors_from_file(&p).unwrap();
        assert!(matches!(&a[0], Anchor::Digest { zone, ds }
            if ds.key_tag() == 1757 && zone.to_string() == "lab-example.com."));
        std::fs::write(&p, "; only a comment\n").unwrap();
        assert!(anchors_from_file(&p)
            .unwrap_err()
            .contains("no DNSKEY or DS"));
        std::fs::write(&p, "example. 60 IN A 192.0.2.1\n").unwrap();
        assert!(anchors_from_file(&p)
            .unwrap_err()
            .contains("line 1: \"example. 60 IN A 192.0.2.1\" is not a DNSKEY or DS record"));
        std::fs::write(&p, ". IN DS 20326 8 2 zz\n").unwrap();
        assert!(anchors_from_file(&p).unwrap_err().contains("line 1:"));
    }
}

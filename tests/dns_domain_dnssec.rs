//! dns.domain validates DNSSEC itself: a signed chain from a test root (given with
//! `--dnssec-anchor`) down to example.com, served by a resolver that does not validate, so
//! every verdict below is acme-doctor's own. Each break of the chain is named precisely.

mod support;

use hickory_proto::rr::RecordType;
use support::authoritative::{
    example_zone, quiet, run, run_anchored, signed_root_for, summary, two_servers, AuthLab,
    Behaviour, SigFault, Signing, Zone,
};

const ID: &str = "dns.domain";

fn root_for(child: &Zone) -> Zone {
    signed_root_for(child)
}

/// A signed root that delegates example.com without a DS (the tests add their own).
fn root() -> Zone {
    signed_root_for(&example_zone(1))
}

async fn start(child: &Zone, root: &Zone) -> AuthLab {
    two_servers(child, Behaviour::Normal, &[root], &[]).await
}

/// Runs dns.domain for www.example.com with `anchor` as the only trust anchor.
async fn validate(lab: &AuthLab, anchor: &str) -> support::Run {
    run_anchored(lab, ID, &["www.example.com"], anchor).await
}

fn evidence(r: &support::Run) -> String {
    r.check(ID)["evidence"].to_string()
}

fn bogus(r: &support::Run) -> String {
    let s = summary(r, "dns.domain.dnssec-bogus");
    assert!(
        s.contains("does not validate and answered anyway"),
        "the fixture resolver does not validate, so the verdict must be the doctor's own: {s}"
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_chain_is_secure_and_quiet() {
    let child = example_zone(1).signed();
    let root = root_for(&child);
    let lab = start(&child, &root).await;
    let r = validate(&lab, &root.anchor()).await;
    quiet(&r);
    assert!(!r.has("dns.domain.dnssec-bogus"));
    let ev = evidence(&r);
    let tag = child.dnssec.as_ref().unwrap().tag();
    assert!(
        ev.contains("secure: www.example.com A")
            && ev.contains(&format!("example.com DNSKEY (key {tag}, DS at .)"))
            && ev.contains("trust anchor key"),
        "{ev}"
    );
    assert_eq!(r.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn unsigned_zone_under_a_signed_parent_is_insecure_and_quiet() {
    let child = example_zone(1);
    let root = root_for(&child);
    let lab = start(&child, &root).await;
    let r = validate(&lab, &root.anchor()).await;
    quiet(&r);
    let ev = evidence(&r);
    assert!(
        ev.contains("insecure (unsigned): example.com is not signed: no DS for it at ."),
        "{ev}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_signature_is_named_with_its_time() {
    let child =
        example_zone(1)
            .signed()
            .sig_fault("www.example.com", RecordType::A, SigFault::Expired);
    let root = root_for(&child);
    let lab = start(&child, &root).await;
    let r = validate(&lab, &root.anchor()).await;
    let s = bogus(&r);
    let tag = child.dnssec.as_ref().unwrap().tag();
    assert!(
        s.contains(&format!(
            "RRSIG over www.example.com A by example.com key {tag} (ECDSAP256SHA256) expired at"
        )) && s.contains("UTC")
            && s.contains("not being re-signed"),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn signature_from_the_future_is_named() {
    let child =
        example_zone(1)
            .signed()
            .sig_fault("www.example.com", RecordType::A, SigFault::NotYetValid);
    let root = root_for(&child);
    let lab = start(&child, &root).await;
    let s = bogus(&validate(&lab, &root.anchor()).await);
    assert!(s.contains("is valid only from"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn corrupt_signature_does_not_verify() {
    let child =
        example_zone(1)
            .signed()
            .sig_fault("www.example.com", RecordType::A, SigFault::Corrupt);
    let root = root_for(&child);
    let lab = start(&child, &root).await;
    let s = bogus(&validate(&lab, &root.anchor()).await);
    assert!(
        s.contains("www.example.com A") && s.contains("does not verify"),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_signature_in_a_signed_zone() {
    let child =
        example_zone(1)
            .signed()
            .sig_fault("www.example.com", RecordType::A, SigFault::Missing);
    let root = root_for(&child);
    let lab = start(&child, &root).await;
    let s = bogus(&validate(&lab, &root.anchor()).await);
    assert!(
        s.contains("www.example.com A has no RRSIG, but its zone example.com is signed"),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_ds_after_a_key_change() {
    let child = example_zone(1).signed();
    let old_key = Signing::generate();
    let root = root().rec("example.com", old_key.ds("example.com"));
    let lab = start(&child, &root).await;
    let s = bogus(&validate(&lab, &root.anchor()).await);
    let new_tag = child.dnssec.as_ref().unwrap().tag();
    assert!(
        s.contains(&format!(
            "the DS at . for example.com names key tag {} (ECDSAP256SHA256) but no DNSKEY of example.com matches it (it has {new_tag} (ECDSAP256SHA256))",
            old_key.tag()
        )) && s.contains("publish the DS of the current key-signing key"),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ds_left_at_the_parent_of_an_unsigned_zone() {
    let child = example_zone(1);
    let root = root().rec("example.com", Signing::generate().ds("example.com"));
    let lab = start(&child, &root).await;
    let s = bogus(&validate(&lab, &root.anchor()).await);
    assert!(
        s.contains("has a DS for example.com") && s.contains("answers no DNSKEY"),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn trust_anchor_not_in_the_root_key_set() {
    let child = example_zone(1).signed();
    let root = root_for(&child);
    let lab = start(&child, &root).await;
    let other = Zone::new("", 1).signed();
    let s = bogus(&validate(&lab, &other.anchor()).await);
    assert!(
        s.contains("the DNSKEY set of . (tags")
            && s.contains("holds none of the trust anchor's keys"),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn resolver_without_dnssec_records_is_not_validated_and_stays_quiet() {
    // The default anchors are the real root's keys; the fixture world has no root zone, as a
    // resolver that strips DNSSEC records looks.
    let child = example_zone(1);
    let lab = two_servers(&child, Behaviour::Normal, &[], &[]).await;
    let r = run(&lab, ID, &["www.example.com"]).await;
    quiet(&r);
    let ev = evidence(&r);
    assert!(
        ev.contains("not validated: the resolver returned no DNSKEY for ."),
        "{ev}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unreadable_anchor_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("anchor.key");
    std::fs::write(&file, "example. 60 IN A 192.0.2.1\n").unwrap();
    let r = support::doctor(
        &["--dnssec-anchor", file.to_str().unwrap(), "example.com"],
        &[],
    )
    .await;
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--dnssec-anchor") && r.stderr.contains("is not a DNSKEY or DS record"),
        "{}",
        r.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn validating_resolver_and_own_validation_agree() {
    use support::authoritative::Fault;
    let child =
        example_zone(1)
            .signed()
            .sig_fault("www.example.com", RecordType::A, SigFault::Expired);
    let root = root_for(&child);
    let lab = two_servers(
        &child,
        Behaviour::Normal,
        &[&root],
        &[(
            "www.example.com",
            RecordType::A,
            Fault::Bogus(7, "signature expired"),
        )],
    )
    .await;
    let r = validate(&lab, &root.anchor()).await;
    let s = summary(&r, "dns.domain.dnssec-bogus");
    assert!(
        s.contains("expired at")
            && s.contains("agrees: SERVFAIL for A with EDE 7 Signature Expired"),
        "{s}"
    );
    assert!(!r.has("dns.domain.resolver-error"), "{:?}", r.codes());
}

/// A validating resolver fails every lookup in a bogus zone, the SOA lookup that finds the zone
/// too (unbound: EDE 9 when the zone's own DNSKEY signature has expired): one dnssec-bogus
/// finding, not also "cannot find the zone".
#[tokio::test(flavor = "multi_thread")]
async fn bogus_zone_is_not_also_a_missing_zone() {
    use support::authoritative::Fault;
    let child =
        example_zone(1)
            .signed()
            .sig_fault("www.example.com", RecordType::A, SigFault::Expired);
    let root = root_for(&child);
    let faults: Vec<(&str, RecordType, Fault)> = [
        ("www.example.com", RecordType::A),
        ("www.example.com", RecordType::AAAA),
        ("www.example.com", RecordType::SOA),
        ("example.com", RecordType::SOA),
    ]
    .into_iter()
    .map(|(n, t)| {
        (
            n,
            t,
            Fault::Bogus(9, "signature expired for trust anchor example.com."),
        )
    })
    .collect();
    let lab = two_servers(&child, Behaviour::Normal, &[&root], &faults).await;
    let r = validate(&lab, &root.anchor()).await;
    let s = summary(&r, "dns.domain.dnssec-bogus");
    assert!(
        s.contains("expired at") && s.contains("agrees: SERVFAIL for A with EDE 9"),
        "{s}"
    );
    assert!(!r.has("dns.domain.no-nameservers"), "{:?}", r.codes());
    assert_eq!(r.code, 1);
}

/// A zone signed in ED448 (algorithm 16), which acme-doctor cannot verify but unbound can: in the
/// lab (ldns-signzone -a ED448, the KSK as anchor) unbound answered with AD while acme-doctor
/// said bogus ("algorithm Unknown is not supported here"). Not validated, named, and quiet.
#[tokio::test(flavor = "multi_thread")]
async fn zone_in_an_algorithm_acme_doctor_cannot_verify_is_not_called_bogus() {
    use support::authoritative::Signing;
    let child = example_zone(1).signed_with(Signing::ed448());
    let root = root_for(&child);
    let lab = start(&child, &root).await;

    // Anchored at the zone itself, as in the lab.
    let r = validate(&lab, &child.anchor()).await;
    quiet(&r);
    assert_eq!(r.code, 0);
    let tag = child.dnssec.as_ref().unwrap().tag();
    let ev = evidence(&r);
    assert!(
        ev.contains(&format!(
            "not validated: RRSIG over example.com DNSKEY by example.com key {tag} (ED448): acme-doctor cannot verify ED448 signatures"
        )),
        "{ev}"
    );

    // Below a signed parent whose DS names the ED448 key: not "insecure" either, since
    // resolvers that support ED448 do validate it.
    let r = validate(&lab, &root.anchor()).await;
    quiet(&r);
    let ev = evidence(&r);
    assert!(
        ev.contains(
            "not validated: the DS records of example.com name only key algorithms acme-doctor cannot verify (ED448)"
        ),
        "{ev}"
    );
}

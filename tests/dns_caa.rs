//! dns.caa through the authoritative fixtures: each verdict fires with the record that decided
//! and the exact record to add; the healthy zone stays quiet. The rules themselves are
//! unit-tested in src/caa.rs.

mod support;

use hickory_proto::rr::RecordType;
use support::acme_server::{AcmeServer, Behaviour as DirBehaviour};
use support::authoritative::{
    example_zone, quiet, run, run_anchored, signed_root_for, summary, two_servers, Behaviour,
    Fault, SigFault, Zone,
};

const ID: &str = "dns.caa";

async fn lab_with(zone: Zone, others: &[&Zone]) -> support::authoritative::AuthLab {
    two_servers(&zone, Behaviour::Normal, others, &[]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn permitting_record_is_quiet() {
    let lab = lab_with(
        example_zone(1).caa("example.com", 0, "issue", "letsencrypt.org"),
        &[],
    )
    .await;
    let r = run(&lab, ID, &["www.example.com"]).await;
    assert_eq!(r.status(ID), "pass", "{}", r.stdout);
    quiet(&r);
    assert!(r.codes().is_empty(), "{:?}", r.codes());
    let n = &r.check(ID)["facts"]["names"][0];
    assert_eq!(n["relevant_at"], "example.com");
    assert!(n["verdict"].as_str().unwrap().contains("permitted"));
    assert!(r.check(ID)["facts"]["identities_source"]
        .as_str()
        .unwrap()
        .contains("profile"));
}

#[tokio::test(flavor = "multi_thread")]
async fn no_records_anywhere_is_quiet() {
    let lab = lab_with(example_zone(1), &[]).await;
    let r = run(&lab, ID, &["www.example.com"]).await;
    assert_eq!(r.status(ID), "pass");
    assert!(r.codes().is_empty(), "{:?}", r.codes());
    assert!(r.check(ID)["summary"]
        .as_str()
        .unwrap()
        .contains("no CAA records"));
}

#[tokio::test(flavor = "multi_thread")]
async fn other_ca_forbids_with_the_record_to_add() {
    let lab = lab_with(
        example_zone(1).caa("example.com", 0, "issue", "sectigo.com"),
        &[],
    )
    .await;
    let r = run(&lab, ID, &["www.example.com"]).await;
    let s = summary(&r, "dns.caa.forbidden");
    assert!(
        s.contains("example.com. CAA 0 issue \"sectigo.com\"")
            && s.contains("example.com. CAA 0 issue \"letsencrypt.org\""),
        "{s}"
    );
    assert_eq!(r.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn closest_record_set_wins() {
    // The parent forbids, but the name's own set allows: the climb stops at the first set.
    let lab = lab_with(
        example_zone(1).caa("example.com", 0, "issue", ";").caa(
            "www.example.com",
            0,
            "issue",
            "letsencrypt.org",
        ),
        &[],
    )
    .await;
    let r = run(&lab, ID, &["www.example.com"]).await;
    quiet(&r);
    let r = run(&lab, ID, &["example.com"]).await;
    assert!(summary(&r, "dns.caa.forbidden").contains("forbids issuance by every CA"));
}

#[tokio::test(flavor = "multi_thread")]
async fn cname_target_records_apply() {
    let zone = example_zone(1)
        .caa("example.com", 0, "issue", "letsencrypt.org")
        .cname("shop.example.com", "shop.example.net");
    let net = Zone::new("example.net", 1)
        .a("shop.example.net", "203.0.113.8")
        .caa("shop.example.net", 0, "issue", "digicert.com");
    let lab = lab_with(zone, &[&net]).await;
    let r = run(&lab, ID, &["shop.example.com"]).await;
    let s = summary(&r, "dns.caa.forbidden");
    assert!(
        s.contains("digicert.com") && s.contains("shop.example.com. CAA 0 issue"),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn wildcard_uses_issuewild() {
    let lab = lab_with(
        example_zone(1)
            .caa("example.com", 0, "issue", "letsencrypt.org")
            .caa("example.com", 0, "issuewild", ";"),
        &[],
    )
    .await;
    let r = run(&lab, ID, &["--challenge", "dns-01", "*.example.com"]).await;
    let s = summary(&r, "dns.caa.forbidden");
    assert!(
        s.contains("*.example.com")
            && s.contains("example.com. CAA 0 issuewild \"letsencrypt.org\""),
        "{s}"
    );
    let r = run(&lab, ID, &["--challenge", "dns-01", "example.com"]).await;
    quiet(&r);
}

#[tokio::test(flavor = "multi_thread")]
async fn critical_unknown_tag() {
    let lab = lab_with(
        example_zone(1)
            .caa("example.com", 0, "issue", "letsencrypt.org")
            .caa("example.com", 128, "tbs", "unknown"),
        &[],
    )
    .await;
    let r = run(&lab, ID, &["example.com"]).await;
    let s = summary(&r, "dns.caa.critical-unknown");
    assert!(
        s.contains("example.com. CAA 128 tbs \"unknown\"")
            && s.contains("example.com. CAA 0 tbs \"unknown\""),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn validation_method_not_allowed() {
    let lab = lab_with(
        example_zone(1).caa(
            "example.com",
            0,
            "issue",
            "letsencrypt.org; validationmethods=dns-01",
        ),
        &[],
    )
    .await;
    let r = run(&lab, ID, &["example.com"]).await;
    let s = summary(&r, "dns.caa.method-forbidden");
    assert!(
        s.contains("not http-01")
            && s.contains("\"letsencrypt.org; validationmethods=dns-01,http-01\""),
        "{s}"
    );
    let r = run(&lab, ID, &["--challenge", "dns-01", "example.com"]).await;
    quiet(&r);
}

#[tokio::test(flavor = "multi_thread")]
async fn account_bound() {
    let lab = lab_with(
        example_zone(1).caa(
            "example.com",
            0,
            "issue",
            "letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/4242",
        ),
        &[],
    )
    .await;
    let r = run(&lab, ID, &["example.com"]).await;
    let f = r.finding("dns.caa.account-bound");
    assert_eq!(f["severity"], "info");
    assert!(f["summary"].as_str().unwrap().contains("/acct/4242"));
    assert_eq!(r.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn lookup_failure_blocks_issuance() {
    let lab = two_servers(
        &example_zone(1),
        Behaviour::Normal,
        &[],
        &[("example.com", RecordType::CAA, Fault::ServFail)],
    )
    .await;
    let r = run(&lab, ID, &["www.example.com"]).await;
    let s = summary(&r, "dns.caa.lookup-failed");
    assert!(s.contains("example.com") && s.contains("SERVFAIL"), "{s}");
    assert_eq!(r.code, 1);

    let lab = two_servers(
        &example_zone(1),
        Behaviour::Normal,
        &[],
        &[("www.example.com", RecordType::CAA, Fault::Drop)],
    )
    .await;
    let r = run(&lab, ID, &["www.example.com"]).await;
    assert!(summary(&r, "dns.caa.lookup-failed").contains("no answer within"));
    assert!(r.elapsed.as_secs() < 8, "{:?}", r.elapsed);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_ca_identity() {
    let lab = lab_with(
        example_zone(1).caa("example.com", 0, "issue", "letsencrypt.org"),
        &[],
    )
    .await;
    let r = run(
        &lab,
        ID,
        &["--ca", "https://acme.test/directory", "example.com"],
    )
    .await;
    assert_eq!(r.finding("dns.caa.no-identities")["severity"], "warn");
}

#[tokio::test(flavor = "multi_thread")]
async fn identities_come_from_the_directory() {
    // A custom CA has no identities in its profile; the directory's meta.caaIdentities
    // (letsencrypt.org in the fixture) decides.
    let dir = AcmeServer::start(DirBehaviour::Healthy).await;
    let acme = Zone::new("acme.test", 1).a("acme.test", "127.0.0.1");
    let lab = lab_with(
        example_zone(1).caa("example.com", 0, "issue", "letsencrypt.org"),
        &[&acme],
    )
    .await;
    let url = dir.directory_url();
    let root = dir.root_pem();
    let r = run(
        &lab,
        "dns.caa,acme.directory",
        &[
            "--ca",
            &url,
            "--trust-store",
            &root,
            "--ca-root",
            &root,
            "example.com",
        ],
    )
    .await;
    assert_eq!(r.status("acme.directory"), "pass", "{}", r.stdout);
    assert_eq!(r.status(ID), "pass", "{}", r.stdout);
    let facts = &r.check(ID)["facts"];
    assert_eq!(facts["identities"][0], "letsencrypt.org");
    assert!(facts["identities_source"]
        .as_str()
        .unwrap()
        .contains("meta.caaIdentities"));
}

#[tokio::test(flavor = "multi_thread")]
async fn ip_only_plans_do_not_apply() {
    let lab = lab_with(example_zone(1), &[]).await;
    let r = run(&lab, ID, &["203.0.113.10"]).await;
    assert_eq!(r.status(ID), "skipped");
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_caa_is_validated_and_quiet() {
    let zone = example_zone(1)
        .caa("example.com", 0, "issue", "letsencrypt.org")
        .signed();
    let root = signed_root_for(&zone);
    let lab = lab_with(zone, &[&root]).await;
    let r = run_anchored(&lab, ID, &["www.example.com"], &root.anchor()).await;
    quiet(&r);
    let ev = r.check(ID)["evidence"].to_string();
    assert!(ev.contains("secure: example.com CAA"), "{ev}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bogus_caa_signature_is_a_refusal() {
    let zone = example_zone(1)
        .caa("example.com", 0, "issue", "letsencrypt.org")
        .signed()
        .sig_fault("example.com", RecordType::CAA, SigFault::Expired);
    let root = signed_root_for(&zone);
    let lab = lab_with(zone, &[&root]).await;
    let r = run_anchored(&lab, ID, &["www.example.com"], &root.anchor()).await;
    let s = summary(&r, "dns.caa.dnssec-bogus");
    assert!(
        s.contains("the CAA records at example.com fail DNSSEC validation")
            && s.contains("RRSIG over example.com CAA")
            && s.contains("expired at"),
        "{s}"
    );
    assert_eq!(r.code, 1);
}

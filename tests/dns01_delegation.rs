//! dns01.delegation through the authoritative fixtures: CNAME delegation, the TXT zone's
//! servers over UDP and TCP, and TXT records compared across servers.

mod support;

use hickory_proto::rr::RecordType;
use support::authoritative::{
    example_zone, quiet, run, run_anchored, server, signed_root_for, summary, two_servers, AuthLab,
    Behaviour, Fault, Signing, Zone,
};

const ID: &str = "dns01.delegation";
const DNS01: &[&str] = &["--challenge", "dns-01"];

async fn go(lab: &AuthLab, name: &str) -> support::Run {
    let mut args = DNS01.to_vec();
    args.push(name);
    run(lab, ID, &args).await
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_zone_is_quiet() {
    let lab = two_servers(&example_zone(1), Behaviour::Normal, &[], &[]).await;
    let r = go(&lab, "www.example.com").await;
    assert_eq!(r.status(ID), "pass", "{}", r.stdout);
    quiet(&r);
    assert!(r.codes().is_empty(), "{:?}", r.codes());
    let n = &r.check(ID)["facts"]["names"][0];
    assert_eq!(n["target"], "_acme-challenge.www.example.com");
    assert_eq!(n["zone"], "example.com");
    assert_eq!(n["nameservers"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn acme_dns_style_cname_delegation() {
    let zone = example_zone(1).cname(
        "_acme-challenge.example.com",
        "d420c923-bbd7.auth.example.net",
    );
    let auth = Zone::new("auth.example.net", 7)
        .ns("auth.example.net", "ns.auth.example.net")
        .a("ns.auth.example.net", "127.0.0.4")
        .txt("d420c923-bbd7.auth.example.net", "old-token");
    let lab = AuthLab::start(
        &[&zone, &auth],
        &[],
        &[
            server("127.0.0.2", &[&zone], Behaviour::Normal),
            server("127.0.0.3", &[&zone], Behaviour::Normal),
            server("127.0.0.4", &[&auth], Behaviour::Normal),
        ],
    )
    .await;
    let r = go(&lab, "example.com").await;
    quiet(&r);
    let s = summary(&r, "dns01.delegation.cname");
    assert!(
        s.contains("_acme-challenge.example.com → d420c923-bbd7.auth.example.net"),
        "{s}"
    );
    let n = &r.check(ID)["facts"]["names"][0];
    assert_eq!(n["zone"], "auth.example.net");
    assert_eq!(n["nameservers"][0]["addr"], "127.0.0.4");
    assert!(summary(&r, "dns01.delegation.existing-txt").contains("old-token"));
}

#[tokio::test(flavor = "multi_thread")]
async fn lookup_failed() {
    let lab = two_servers(
        &example_zone(1),
        Behaviour::Normal,
        &[],
        &[(
            "_acme-challenge.example.com",
            RecordType::TXT,
            Fault::ServFail,
        )],
    )
    .await;
    let r = go(&lab, "example.com").await;
    assert!(summary(&r, "dns01.delegation.lookup-failed").contains("SERVFAIL"));
    assert_eq!(r.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn cname_into_nowhere_has_no_zone() {
    let zone = example_zone(1).cname("_acme-challenge.example.com", "x.gone.example.org");
    let lab = two_servers(&zone, Behaviour::Normal, &[], &[]).await;
    let r = go(&lab, "example.com").await;
    assert!(summary(&r, "dns01.delegation.no-zone").contains("x.gone.example.org"));
    assert_eq!(r.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_nameservers() {
    let lab = two_servers(
        &example_zone(1),
        Behaviour::Normal,
        &[],
        &[("example.com", RecordType::NS, Fault::ServFail)],
    )
    .await;
    let r = go(&lab, "example.com").await;
    assert!(summary(&r, "dns01.delegation.no-nameservers").contains("SERVFAIL"));
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_server() {
    let lab = two_servers(&example_zone(1), Behaviour::Drop, &[], &[]).await;
    let r = go(&lab, "example.com").await;
    let f = r.finding("dns01.delegation.ns-unreachable");
    let s = f["summary"].as_str().unwrap();
    assert!(
        s.contains("127.0.0.3") && s.contains("no answer within"),
        "{s}"
    );
    assert_eq!(f["severity"], "warn");

    let lab = two_servers(&example_zone(1), Behaviour::NoTcp, &[], &[]).await;
    let r = go(&lab, "example.com").await;
    let s = summary(&r, "dns01.delegation.ns-unreachable");
    assert!(
        s.contains("127.0.0.3) over TCP") && s.contains("refused"),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_server() {
    let lab = two_servers(&example_zone(1), Behaviour::Refused, &[], &[]).await;
    let r = go(&lab, "example.com").await;
    assert!(summary(&r, "dns01.delegation.ns-failing").contains("REFUSED"));
}

#[tokio::test(flavor = "multi_thread")]
async fn txt_out_of_sync() {
    let fresh = example_zone(2).txt("_acme-challenge.example.com", "token-2");
    let stale = example_zone(1);
    let lab = AuthLab::start(
        &[&fresh],
        &[],
        &[
            server("127.0.0.2", &[&fresh], Behaviour::Normal),
            server("127.0.0.3", &[&stale], Behaviour::Normal),
        ],
    )
    .await;
    let r = go(&lab, "example.com").await;
    let s = summary(&r, "dns01.delegation.txt-out-of-sync");
    assert!(s.contains("token-2") && s.contains("no TXT"), "{s}");
    assert!(!r.has("dns01.delegation.existing-txt"));
}

#[tokio::test(flavor = "multi_thread")]
async fn applies_to_wildcards_and_dns01_only() {
    let lab = two_servers(&example_zone(1), Behaviour::Normal, &[], &[]).await;
    let r = run(&lab, ID, &["example.com"]).await;
    assert_eq!(r.status(ID), "skipped");
    assert!(r.check(ID)["reason"].as_str().unwrap().contains("http-01"));
    let r = run(&lab, ID, &["*.example.com"]).await;
    assert_eq!(r.status(ID), "pass", "{}", r.stdout);
    let r = go(&lab, "203.0.113.10").await;
    assert_eq!(r.status(ID), "skipped");
}

#[tokio::test(flavor = "multi_thread")]
async fn resolver_without_soa_support_is_a_note() {
    let lab = two_servers(
        &example_zone(1),
        Behaviour::Normal,
        &[],
        &[(
            "_acme-challenge.example.com",
            RecordType::SOA,
            Fault::NotImp,
        )],
    )
    .await;
    let r = go(&lab, "example.com").await;
    quiet(&r);
    assert!(summary(&r, "dns01.delegation.ns-not-checked").contains("NOTIMP"));
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_zone_is_quiet_and_its_chain_shown() {
    let zone = example_zone(1).signed();
    let root = signed_root_for(&zone);
    let lab = two_servers(&zone, Behaviour::Normal, &[&root], &[]).await;
    let mut args = DNS01.to_vec();
    args.push("www.example.com");
    let r = run_anchored(&lab, ID, &args, &root.anchor()).await;
    quiet(&r);
    let ev = r.check(ID)["evidence"].to_string();
    assert!(ev.contains("secure: example.com DNSKEY"), "{ev}");
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_ds_makes_the_txt_zone_bogus() {
    let zone = example_zone(1).signed();
    let old_key = Signing::generate();
    let root = signed_root_for(&example_zone(1)).rec("example.com", old_key.ds("example.com"));
    let lab = two_servers(&zone, Behaviour::Normal, &[&root], &[]).await;
    let mut args = DNS01.to_vec();
    args.push("www.example.com");
    let r = run_anchored(&lab, ID, &args, &root.anchor()).await;
    let s = summary(&r, "dns01.delegation.dnssec-bogus");
    assert!(
        s.contains("zone example.com (holds the TXT for www.example.com) fails DNSSEC validation")
            && s.contains(&format!("names key tag {}", old_key.tag())),
        "{s}"
    );
    assert_eq!(r.code, 1);
}

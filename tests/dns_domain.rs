//! dns.domain against in-process authoritative servers: every finding fires, the healthy zone
//! stays free of warnings.

mod support;

use hickory_proto::rr::RecordType;
use support::authoritative::{
    example_zone, quiet, run, server, summary, two_servers, AuthLab, Behaviour, Fault, Zone,
};

const ID: &str = "dns.domain";

#[tokio::test(flavor = "multi_thread")]
async fn healthy_zone_is_quiet_and_notes_documentation_addresses() {
    let zone = example_zone(1);
    let lab = two_servers(&zone, Behaviour::Normal, &[], &[]).await;
    let r = run(&lab, ID, &["example.com"]).await;
    assert_eq!(r.status(ID), "pass", "{}", r.stdout);
    quiet(&r);
    let f = r.finding("dns.domain.documentation-address");
    assert_eq!(f["severity"], "info");
    let s = f["summary"].as_str().unwrap();
    assert!(
        s.contains("198.51.100.7") && s.contains("2001:db8::7"),
        "{s}"
    );
    let facts = &r.check(ID)["facts"]["names"][0];
    assert_eq!(facts["zone"], "example.com");
    assert_eq!(facts["registered_domain"], "example.com");
    assert_eq!(facts["nameservers"].as_array().unwrap().len(), 2);
    assert_eq!(facts["serials"].as_object().unwrap().len(), 2);
    assert_eq!(r.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn cname_chain_is_followed_and_shown() {
    let zone = example_zone(1)
        .cname("shop.example.com", "edge.example.net")
        .ns("example.com", "ns1.example.com");
    let net = Zone::new("example.net", 1).a("edge.example.net", "203.0.113.80");
    let lab = two_servers(&zone, Behaviour::Normal, &[&net], &[]).await;
    let r = run(&lab, ID, &["shop.example.com"]).await;
    quiet(&r);
    assert_eq!(
        r.check(ID)["facts"]["names"][0]["cname_chain"][0],
        "edge.example.net"
    );
    assert!(r.stdout.contains("shop.example.com → edge.example.net"));
    assert!(summary(&r, "dns.domain.documentation-address").contains("203.0.113.80"));
}

#[tokio::test(flavor = "multi_thread")]
async fn nxdomain() {
    let zone = example_zone(1);
    let lab = two_servers(&zone, Behaviour::Normal, &[], &[]).await;
    let r = run(&lab, ID, &["nope.example.com"]).await;
    assert!(summary(&r, "dns.domain.nxdomain").contains("nope.example.com"));
    assert_eq!(r.finding("dns.domain.nxdomain")["severity"], "fail");
    assert_eq!(r.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_address_fails_for_http01_and_is_info_for_dns01() {
    let zone = example_zone(1).txt("mail.example.com", "v=spf1 -all");
    let lab = two_servers(&zone, Behaviour::Normal, &[], &[]).await;
    let r = run(&lab, ID, &["mail.example.com"]).await;
    assert_eq!(r.finding("dns.domain.no-address")["severity"], "fail");
    let r = run(&lab, ID, &["--challenge", "dns-01", "mail.example.com"]).await;
    assert_eq!(r.finding("dns.domain.no-address")["severity"], "info");
    assert_eq!(r.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn resolver_error() {
    let zone = example_zone(1);
    let lab = two_servers(
        &zone,
        Behaviour::Normal,
        &[],
        &[
            ("www.example.com", RecordType::A, Fault::ServFail),
            ("www.example.com", RecordType::AAAA, Fault::ServFail),
        ],
    )
    .await;
    let r = run(&lab, ID, &["www.example.com"]).await;
    let s = summary(&r, "dns.domain.resolver-error");
    assert!(s.contains("SERVFAIL"), "{s}");
    assert_eq!(r.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn reserved_address() {
    let zone = example_zone(1)
        .a("intranet.example.com", "10.1.2.3")
        .a("intranet.example.com", "fd00::5");
    let lab = two_servers(&zone, Behaviour::Normal, &[], &[]).await;
    let r = run(&lab, ID, &["intranet.example.com"]).await;
    let s = summary(&r, "dns.domain.reserved-address");
    assert!(s.contains("10.1.2.3") && s.contains("fd00::5"), "{s}");
    assert_eq!(r.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_nameservers() {
    let zone = example_zone(1);
    let lab = two_servers(
        &zone,
        Behaviour::Normal,
        &[],
        &[("example.com", RecordType::NS, Fault::ServFail)],
    )
    .await;
    let r = run(&lab, ID, &["example.com"]).await;
    let s = summary(&r, "dns.domain.no-nameservers");
    assert!(s.contains("SERVFAIL"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn nameserver_without_address() {
    let zone = example_zone(1).ns("example.com", "ns3.example.com");
    let lab = two_servers(&zone, Behaviour::Normal, &[], &[]).await;
    let r = run(&lab, ID, &["example.com"]).await;
    let f = r.finding("dns.domain.ns-no-address");
    assert!(f["summary"].as_str().unwrap().contains("ns3.example.com"));
    assert_eq!(f["severity"], "warn");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_server_times_out() {
    let zone = example_zone(1);
    let lab = two_servers(&zone, Behaviour::Drop, &[], &[]).await;
    let r = run(&lab, ID, &["example.com"]).await;
    let f = r.finding("dns.domain.ns-timeout");
    let s = f["summary"].as_str().unwrap();
    assert!(
        s.contains("127.0.0.3") && s.contains("UDP") && s.contains("TCP"),
        "{s}"
    );
    assert!(!s.contains("127.0.0.2"), "{s}");
    assert_eq!(f["severity"], "warn");
    assert!(r.elapsed.as_secs() < 8, "{:?}", r.elapsed);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_server_silent_is_a_failure() {
    let zone = example_zone(1);
    let lab = AuthLab::start(
        &[&zone],
        &[],
        &[
            server("127.0.0.2", &[&zone], Behaviour::Drop),
            server("127.0.0.3", &[&zone], Behaviour::Drop),
        ],
    )
    .await;
    let r = run(&lab, ID, &["example.com"]).await;
    assert_eq!(r.finding("dns.domain.ns-timeout")["severity"], "fail");
    assert_eq!(r.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn tcp_refused_and_dead_server() {
    // ns2 serves UDP only; ns3's address has nothing listening at all.
    let zone = example_zone(1)
        .ns("example.com", "ns3.example.com")
        .a("ns3.example.com", "127.0.0.9");
    let lab = two_servers(&zone, Behaviour::NoTcp, &[], &[]).await;
    let r = run(&lab, ID, &["example.com"]).await;
    let s = summary(&r, "dns.domain.ns-unreachable");
    assert!(
        s.contains("ns2.example.com (127.0.0.3) over TCP") && s.contains("refused"),
        "{s}"
    );
    assert!(!s.contains("127.0.0.3) over UDP"), "{s}");
    assert!(s.contains("ns3.example.com (127.0.0.9) over UDP"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn lame_servers() {
    let zone = example_zone(1);
    let lab = two_servers(&zone, Behaviour::Refused, &[], &[]).await;
    let r = run(&lab, ID, &["example.com"]).await;
    assert!(summary(&r, "dns.domain.ns-lame").contains("REFUSED"));

    let lab = two_servers(&zone, Behaviour::NotAuthoritative, &[], &[]).await;
    let r = run(&lab, ID, &["example.com"]).await;
    assert!(summary(&r, "dns.domain.ns-lame").contains("authoritative"));
}

#[tokio::test(flavor = "multi_thread")]
async fn servfail_server() {
    let zone = example_zone(1);
    let lab = two_servers(&zone, Behaviour::ServFail, &[], &[]).await;
    let r = run(&lab, ID, &["example.com"]).await;
    let s = summary(&r, "dns.domain.ns-servfail");
    assert!(s.contains("127.0.0.3") && s.contains("SERVFAIL"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn out_of_sync_servers() {
    let new = example_zone(2)
        .without("example.com", RecordType::A)
        .a("example.com", "203.0.113.99");
    let old = example_zone(1);
    let lab = AuthLab::start(
        &[&new],
        &[],
        &[
            server("127.0.0.2", &[&new], Behaviour::Normal),
            server("127.0.0.3", &[&old], Behaviour::Normal),
        ],
    )
    .await;
    let r = run(&lab, ID, &["example.com"]).await;
    let f = r.finding("dns.domain.out-of-sync");
    let s = f["summary"].as_str().unwrap();
    assert!(
        s.contains("serial 1") && s.contains("serial 2") && s.contains("203.0.113.99"),
        "{s}"
    );
    // Each server once (its UDP and TCP answers agree), and only what differs.
    assert!(
        s.contains("ns1.example.com (127.0.0.2) say [")
            && s.contains("ns2.example.com (127.0.0.3) say [")
            && !s.contains("over udp")
            && !s.contains("CAA"),
        "{s}"
    );
    assert_eq!(f["severity"], "warn");
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_mismatches() {
    let zone = example_zone(1);
    let lab = two_servers(&zone, Behaviour::Normal, &[], &[]).await;
    let r = run(&lab, ID, &["*.example.com"]).await;
    assert!(summary(&r, "dns.domain.wildcard-needs-dns01").contains("*.example.com"));
    assert_eq!(r.code, 1);
    let r = run(&lab, ID, &["--challenge", "dns-01", "*.example.com"]).await;
    assert!(!r.has("dns.domain.wildcard-needs-dns01"));
    let r = run(&lab, ID, &["--challenge", "dns-01", "203.0.113.10"]).await;
    assert!(summary(&r, "dns.domain.ip-with-dns01").contains("203.0.113.10"));
    assert_eq!(r.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn not_applicable_without_identifiers() {
    let zone = example_zone(1);
    let lab = two_servers(&zone, Behaviour::Normal, &[], &[]).await;
    let r = run(&lab, ID, &[]).await;
    assert_eq!(r.status(ID), "skipped");
    assert_eq!(r.check(ID)["reason"], "no domain or IP given");
}

#[tokio::test(flavor = "multi_thread")]
async fn dnssec_bogus_with_the_resolvers_reason() {
    let zone = example_zone(1);
    let lab = two_servers(
        &zone,
        Behaviour::Normal,
        &[],
        &[
            (
                "www.example.com",
                RecordType::A,
                Fault::Bogus(7, "signature expired from 127.0.0.2 for www.example.com. A"),
            ),
            ("www.example.com", RecordType::AAAA, Fault::Bogus(7, "")),
        ],
    )
    .await;
    let r = run(&lab, ID, &["www.example.com"]).await;
    let f = r.finding("dns.domain.dnssec-bogus");
    let s = f["summary"].as_str().unwrap();
    assert!(
        s.contains("EDE 7 Signature Expired: signature expired from 127.0.0.2")
            && s.contains("checking disabled"),
        "{s}"
    );
    assert!(!r.has("dns.domain.resolver-error"), "{:?}", r.codes());
    assert_eq!(r.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn servers_disagreeing_on_caa_are_out_of_sync() {
    let new = example_zone(1).caa("example.com", 0, "issue", "letsencrypt.org");
    let old = example_zone(1);
    let lab = AuthLab::start(
        &[&new],
        &[],
        &[
            server("127.0.0.2", &[&new], Behaviour::Normal),
            server("127.0.0.3", &[&old], Behaviour::Normal),
        ],
    )
    .await;
    let r = run(&lab, ID, &["example.com"]).await;
    let s = summary(&r, "dns.domain.out-of-sync");
    assert!(s.contains("letsencrypt.org"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn resolver_without_soa_or_ns_support_is_a_note() {
    // pebble-challtestsrv answers NOTIMP to SOA and NS: the lab must not fail on that.
    let zone = example_zone(1);
    let lab = two_servers(
        &zone,
        Behaviour::Normal,
        &[],
        &[("www.example.com", RecordType::SOA, Fault::NotImp)],
    )
    .await;
    let r = run(&lab, ID, &["www.example.com"]).await;
    quiet(&r);
    assert!(summary(&r, "dns.domain.ns-not-checked").contains("NOTIMP"));

    let lab = two_servers(
        &zone,
        Behaviour::Normal,
        &[],
        &[("example.com", RecordType::NS, Fault::NotImp)],
    )
    .await;
    let r = run(&lab, ID, &["www.example.com"]).await;
    quiet(&r);
    assert!(summary(&r, "dns.domain.ns-not-checked").contains("NOTIMP for NS"));
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_answers_end_in_findings() {
    let zone = example_zone(1);
    let lab = two_servers(&zone, Behaviour::Garbage, &[], &[]).await;
    let r = run(&lab, ID, &["example.com"]).await;
    // Over UDP a datagram that is not a DNS answer is ignored until the deadline, as
    // resolvers do; over TCP the malformed message is named.
    let t = summary(&r, "dns.domain.ns-timeout");
    assert!(t.contains("127.0.0.3) over UDP"), "{t}");
    let m = summary(&r, "dns.domain.ns-servfail");
    assert!(
        m.contains("127.0.0.3) over TCP") && m.contains("malformed"),
        "{m}"
    );
    assert!(r.elapsed.as_secs() < 8, "{:?}", r.elapsed);
}

#[tokio::test(flavor = "multi_thread")]
async fn wildcard_and_base_name_are_looked_up_once() {
    let zone = example_zone(1);
    let lab = two_servers(&zone, Behaviour::Normal, &[], &[]).await;
    let r = run(
        &lab,
        ID,
        &["--challenge", "dns-01", "*.example.com", "example.com"],
    )
    .await;
    quiet(&r);
    assert_eq!(
        r.check(ID)["facts"]["names"].as_array().unwrap().len(),
        1,
        "{}",
        r.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn dead_resolver_ends_in_one_bounded_finding() {
    let (addr, _hold) = support::dns::DnsFixture::black_hole().await;
    let resolver = addr.to_string();
    let r = support::doctor(
        &[
            "--resolver",
            &resolver,
            "--only",
            ID,
            "--format",
            "json",
            "--timeout",
            "1",
            "example.com",
        ],
        &[],
    )
    .await;
    assert!(summary(&r, "dns.domain.resolver-error").contains("no answer within"));
    assert!(!r.has("dns.domain.no-nameservers"), "{:?}", r.codes());
    assert!(r.elapsed.as_secs() < 5, "{:?}", r.elapsed);
}

async fn ip_run(dir: support::acme_server::Behaviour) -> support::Run {
    let dir = support::acme_server::AcmeServer::start(dir).await;
    let acme = Zone::new("acme.test", 1).a("acme.test", "127.0.0.1");
    let lab = two_servers(&example_zone(1), Behaviour::Normal, &[&acme], &[]).await;
    let url = dir.directory_url();
    let root = dir.root_pem();
    run(
        &lab,
        "dns.domain,acme.directory",
        &[
            "--ca",
            &url,
            "--trust-store",
            &root,
            "--ca-root",
            &root,
            "203.0.113.10",
        ],
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn ip_identifier_with_the_shortlived_profile_is_a_reminder() {
    let r = ip_run(support::acme_server::Behaviour::Healthy).await;
    assert_eq!(r.status("acme.directory"), "pass", "{}", r.stdout);
    let f = r.finding("dns.domain.ip-profile");
    assert_eq!(f["severity"], "info");
    let s = f["summary"].as_str().unwrap();
    assert!(
        s.contains("203.0.113.10")
            && s.contains("advertises the shortlived profile")
            && s.contains("certbot --required-profile shortlived"),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ip_identifier_without_the_profile_fails() {
    let r = ip_run(support::acme_server::Behaviour::NoProfiles).await;
    assert_eq!(r.status("acme.directory"), "pass", "{}", r.stdout);
    let s = summary(&r, "dns.domain.ip-profile");
    assert!(
        s.contains(
            "Let's Encrypt issues IP-address certificates only under the shortlived profile"
        ) && s.contains("advertises no profiles"),
        "{s}"
    );
    assert_eq!(r.code, 1);
}

//! tls.acme against DNS + TLS fixtures on loopback: each finding fires, and a healthy
//! Let's Encrypt-like chain stays quiet.

mod support;

use std::path::{Path, PathBuf};

use rcgen::ExtendedKeyUsagePurpose;
use rustls::pki_types::CertificateDer;
use support::dns::{addrs, DnsFixture};
use support::pki::{days, write_pem, Ca};
use support::tls::{tls, Behaviour, TlsFixture};
use support::{doctor, Run};

/// A Let's Encrypt-like hierarchy: root, intermediate, leaf for acme.test.
struct Pki {
    root: Ca,
    int: Ca,
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let root = Ca::valid_root("Test Security Research Group", "Test Root X1");
        let int = root.intermediate("Test Encrypt", "T1", days(-100), days(900));
        Pki {
            root,
            int,
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn file(&self, name: &str, pems: &[&str]) -> PathBuf {
        write_pem(self.dir.path(), name, pems)
    }

    /// Leaf + intermediate, as a correctly configured server sends them.
    fn chain(&self, leaf: &support::pki::Leaf) -> Vec<CertificateDer<'static>> {
        vec![leaf.der.clone(), self.int.der.clone()]
    }
}

/// Runs `--only tls.acme` against a fixture serving on a random port as acme.test.
async fn run(
    fixture: &TlsFixture,
    trust_store: &Path,
    ca_root: &Path,
    env: &[(&str, &str)],
    timeout: &str,
) -> Run {
    let dns = DnsFixture::start(&[("acme.test", addrs(&["127.0.0.1"]))]).await;
    let ca = format!("https://acme.test:{}/directory", fixture.port());
    let resolver = dns.addr.to_string();
    doctor(
        &[
            "--ca",
            &ca,
            "--resolver",
            &resolver,
            "--trust-store",
            trust_store.to_str().unwrap(),
            "--ca-root",
            ca_root.to_str().unwrap(),
            "--only",
            "tls.acme",
            "--format",
            "json",
            "--timeout",
            timeout,
        ],
        env,
    )
    .await
}

async fn serve(pki: &Pki, leaf: support::pki::Leaf) -> TlsFixture {
    TlsFixture::start(tls(pki.chain(&leaf), leaf.key)).await
}

fn summary(run: &Run, code: &str) -> String {
    run.finding(code)["summary"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn no_warn_or_fail(run: &Run) {
    for c in run.json()["checks"].as_array().unwrap() {
        for f in c["findings"].as_array().cloned().unwrap_or_default() {
            assert_eq!(f["severity"], "info", "unexpected finding: {f}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_chain_is_quiet() {
    let pki = Pki::new();
    let leaf = pki.int.valid_leaf(&["acme.test"]);
    let leaf_sha = acme_doctor::net::tls::sha256_hex(leaf.der.as_ref());
    let fx = serve(&pki, leaf).await;
    let root = pki.file("root.pem", &[&pki.root.pem]);
    let run = run(&fx, &root, &root, &[], "3").await;
    assert_eq!(run.status("tls.acme"), "pass", "{}", run.stdout);
    no_warn_or_fail(&run);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let facts = &run.check("tls.acme")["facts"];
    assert_eq!(facts["version"], "TLSv1.3");
    assert_eq!(facts["alpn"], "h2");
    assert_eq!(facts["tls12"], true);
    assert_eq!(facts["verified_store"], true);
    assert_eq!(facts["verified_mozilla"], false);
    assert_eq!(facts["chain"].as_array().unwrap().len(), 2);
    assert_eq!(facts["chain"][0]["sha256"], leaf_sha.as_str());
    assert!(facts["chain"][1]["subject"]
        .as_str()
        .unwrap()
        .contains("CN=T1"));
    assert_eq!(facts["anchor"]["expected"], true);
    assert_eq!(
        facts["anchor"]["sha256"],
        acme_doctor::net::tls::sha256_hex(pki.root.der.as_ref()).as_str()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn interception_root_in_store_but_not_expected() {
    let pki = Pki::new();
    let corp = Ca::valid_root("Example Corp", "Example Corp TLS Inspection CA");
    let leaf = corp.valid_leaf(&["acme.test"]);
    let fx = TlsFixture::start(tls(vec![leaf.der.clone()], leaf.key)).await;
    let store = pki.file("store.pem", &[&pki.root.pem, &corp.pem]);
    let expected = pki.file("root.pem", &[&pki.root.pem]);
    // certbot's requests bundle lacks the inspection root: certbot would fail.
    let bundle = expected.to_str().unwrap();
    let run = run(
        &fx,
        &store,
        &expected,
        &[("REQUESTS_CA_BUNDLE", bundle)],
        "3",
    )
    .await;
    let f = run.finding("tls.acme.intercepted");
    assert_eq!(f["severity"], "fail");
    let s = summary(&run, "tls.acme.intercepted");
    assert!(s.contains("Example Corp TLS Inspection CA"), "{s}");
    assert!(
        s.contains(&acme_doctor::net::tls::sha256_hex(corp.der.as_ref())),
        "{s}"
    );
    assert!(s.contains("not in Mozilla's root list"), "{s}");
    assert!(
        s.contains("does not trust that root") && s.contains(bundle),
        "{s}"
    );
    assert_eq!(run.code, 1);
    // The handshake itself worked, so the facts are there for later checks.
    assert_eq!(run.check("tls.acme")["facts"]["anchor"]["expected"], false);
}

/// A managed machine whose store and certbot bundle both trust the inspection root: issuance
/// works, so the interception is reported as a warning.
#[tokio::test(flavor = "multi_thread")]
async fn interception_trusted_everywhere_is_a_warning() {
    let pki = Pki::new();
    let corp = Ca::valid_root("Example Corp", "Example Corp TLS Inspection CA");
    let leaf = corp.valid_leaf(&["acme.test"]);
    let fx = TlsFixture::start(tls(vec![leaf.der.clone()], leaf.key)).await;
    let store = pki.file("store.pem", &[&pki.root.pem, &corp.pem]);
    let expected = pki.file("root.pem", &[&pki.root.pem]);
    let bundle = store.to_str().unwrap();
    let run = run(
        &fx,
        &store,
        &expected,
        &[("REQUESTS_CA_BUNDLE", bundle)],
        "3",
    )
    .await;
    assert_eq!(run.finding("tls.acme.intercepted")["severity"], "warn");
    assert!(summary(&run, "tls.acme.intercepted").contains("issuance works"));
    assert_eq!(run.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_leaf() {
    let pki = Pki::new();
    let leaf = pki.int.leaf(&["acme.test"], days(-100), days(-2));
    let fx = serve(&pki, leaf).await;
    let root = pki.file("root.pem", &[&pki.root.pem]);
    let run = run(&fx, &root, &root, &[], "3").await;
    let s = summary(&run, "tls.acme.expired");
    assert!(s.contains("clock says"), "{s}");
    assert!(!run.has("tls.acme.intercepted"));
    assert!(!run.has("tls.acme.unknown-issuer"));
    assert_eq!(run.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn not_yet_valid_leaf() {
    let pki = Pki::new();
    let leaf = pki.int.leaf(&["acme.test"], days(3), days(90));
    let fx = serve(&pki, leaf).await;
    let root = pki.file("root.pem", &[&pki.root.pem]);
    let run = run(&fx, &root, &root, &[], "3").await;
    assert!(summary(&run, "tls.acme.not-yet-valid").contains("valid only from"));
    assert!(!run.has("tls.acme.expired"));
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_name() {
    let pki = Pki::new();
    let leaf = pki.int.valid_leaf(&["portal.example"]);
    let fx = serve(&pki, leaf).await;
    let root = pki.file("root.pem", &[&pki.root.pem]);
    let run = run(&fx, &root, &root, &[], "3").await;
    let s = summary(&run, "tls.acme.name-mismatch");
    assert!(
        s.contains("portal.example") && s.contains("acme.test"),
        "{s}"
    );
    assert!(!run.has("tls.acme.unknown-issuer"));
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_issuer() {
    let pki = Pki::new();
    let other = Ca::valid_root("Nobody", "Unknown Root");
    let other_int = other.intermediate("Nobody", "Unknown Intermediate", days(-10), days(300));
    let leaf = other_int.valid_leaf(&["acme.test"]);
    let fx = TlsFixture::start(tls(vec![leaf.der.clone(), other_int.der.clone()], leaf.key)).await;
    let root = pki.file("root.pem", &[&pki.root.pem]);
    let run = run(&fx, &root, &root, &[], "3").await;
    let s = summary(&run, "tls.acme.unknown-issuer");
    assert!(s.contains("Unknown Root"), "{s}");
    assert!(!run.has("tls.acme.incomplete-chain"));
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_intermediate() {
    let pki = Pki::new();
    let leaf = pki
        .int
        .leaf_with_ca_issuers(&["acme.test"], "http://t1.i.test.invalid/");
    let fx = TlsFixture::start(tls(vec![leaf.der.clone()], leaf.key)).await;
    let root = pki.file("root.pem", &[&pki.root.pem]);
    let run = run(&fx, &root, &root, &[], "3").await;
    let s = summary(&run, "tls.acme.incomplete-chain");
    assert!(
        s.contains("CN=T1") && s.contains("http://t1.i.test.invalid/"),
        "{s}"
    );
    assert!(!run.has("tls.acme.unknown-issuer"));
    assert_eq!(
        run.check("tls.acme")["facts"]["chain"][0]["ca_issuers"][0],
        "http://t1.i.test.invalid/"
    );
}

/// Pebble's API certificate is issued straight from its test root and names no caIssuers:
/// without that root installed it is an unknown issuer, not a missing intermediate.
#[tokio::test(flavor = "multi_thread")]
async fn leaf_from_an_uninstalled_root_is_unknown_issuer() {
    let pki = Pki::new();
    let minica = Ca::valid_root("Pebble", "Pebble Minica Root");
    let leaf = minica.valid_leaf(&["acme.test"]);
    let fx = TlsFixture::start(tls(vec![leaf.der.clone()], leaf.key)).await;
    let root = pki.file("root.pem", &[&pki.root.pem]);
    let run = run(&fx, &root, &root, &[], "3").await;
    assert!(summary(&run, "tls.acme.unknown-issuer").contains("Pebble Minica Root"));
    assert!(!run.has("tls.acme.incomplete-chain"));
}

#[tokio::test(flavor = "multi_thread")]
async fn chain_through_expired_root() {
    let pki = Pki::new();
    let old = Ca::root(
        "Digital Signature Test Co.",
        "DST Test Root X3",
        days(-4000),
        days(-30),
    );
    let int = old.intermediate("Test Encrypt", "R3", days(-60), days(300));
    let leaf = int.valid_leaf(&["acme.test"]);
    let fx = TlsFixture::start(tls(vec![leaf.der.clone(), int.der.clone()], leaf.key)).await;
    let root = pki.file("old.pem", &[&old.pem]);
    let run = run(&fx, &root, &root, &[], "3").await;
    let s = summary(&run, "tls.acme.expired-root");
    assert!(s.contains("DST Test Root X3"), "{s}");
    assert!(!run.has("tls.acme.expired"), "{:?}", run.codes());
}

#[tokio::test(flavor = "multi_thread")]
async fn client_auth_only_leaf_is_rejected() {
    let pki = Pki::new();
    let leaf = pki.int.leaf_with(
        &["acme.test"],
        days(-1),
        days(30),
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let fx = serve(&pki, leaf).await;
    let root = pki.file("root.pem", &[&pki.root.pem]);
    let run = run(&fx, &root, &root, &[], "3").await;
    let s = summary(&run, "tls.acme.chain-rejected");
    assert!(s.contains("Test Root X1"), "{s}");
    assert!(!run.has("tls.acme.unknown-issuer"));
}

#[tokio::test(flavor = "multi_thread")]
async fn tls12_only_server_is_fine() {
    let pki = Pki::new();
    let leaf = pki.int.valid_leaf(&["acme.test"]);
    let fx = TlsFixture::start(Behaviour::Tls {
        chain: pki.chain(&leaf),
        key: leaf.key,
        versions: vec![&rustls::version::TLS12],
    })
    .await;
    let root = pki.file("root.pem", &[&pki.root.pem]);
    let run = run(&fx, &root, &root, &[], "3").await;
    no_warn_or_fail(&run);
    assert_eq!(run.check("tls.acme")["facts"]["version"], "TLSv1.2");
    assert_eq!(run.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn tls13_only_path_warns_no_tls12() {
    let pki = Pki::new();
    let leaf = pki.int.valid_leaf(&["acme.test"]);
    let fx = TlsFixture::start(Behaviour::Tls {
        chain: pki.chain(&leaf),
        key: leaf.key,
        versions: vec![&rustls::version::TLS13],
    })
    .await;
    let root = pki.file("root.pem", &[&pki.root.pem]);
    let run = run(&fx, &root, &root, &[], "3").await;
    assert_eq!(run.finding("tls.acme.no-tls12")["severity"], "warn");
    assert_eq!(run.status("tls.acme"), "warn");
    assert_eq!(run.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn legacy_server_answering_tls10() {
    let pki = Pki::new();
    let fx = TlsFixture::start(Behaviour::LegacyHello).await;
    let root = pki.file("root.pem", &[&pki.root.pem]);
    let run = run(&fx, &root, &root, &[], "3").await;
    let s = summary(&run, "tls.acme.legacy-only");
    assert!(s.contains("TLS 1.0"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn version_intolerant_legacy_server_found_by_probe() {
    let pki = Pki::new();
    let fx = TlsFixture::start(Behaviour::IntolerantLegacy).await;
    let root = pki.file("root.pem", &[&pki.root.pem]);
    let run = run(&fx, &root, &root, &[], "3").await;
    let s = summary(&run, "tls.acme.legacy-only");
    assert!(
        s.contains("reset") && s.contains("ServerHello with TLS 1.0"),
        "{s}"
    );
    assert!(!run.has("tls.acme.reset"));
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_on_client_hello() {
    let pki = Pki::new();
    let fx = TlsFixture::start(Behaviour::Reset).await;
    let root = pki.file("root.pem", &[&pki.root.pem]);
    let run = run(&fx, &root, &root, &[], "3").await;
    let s = summary(&run, "tls.acme.reset");
    assert!(s.contains("TCP RST"), "{s}");
    assert!(!run.has("tls.acme.legacy-only"));
}

#[tokio::test(flavor = "multi_thread")]
async fn silent_server_times_out_quickly() {
    let pki = Pki::new();
    let fx = TlsFixture::start(Behaviour::Silent).await;
    let root = pki.file("root.pem", &[&pki.root.pem]);
    let run = run(&fx, &root, &root, &[], "1").await;
    assert!(summary(&run, "tls.acme.timeout").contains("did not complete"));
    assert!(run.elapsed.as_secs_f64() < 3.5, "took {:?}", run.elapsed);
    assert_eq!(run.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn handshake_failure_alert() {
    let pki = Pki::new();
    let fx = TlsFixture::start(Behaviour::Alert(40)).await;
    let root = pki.file("root.pem", &[&pki.root.pem]);
    let run = run(&fx, &root, &root, &[], "3").await;
    let s = summary(&run, "tls.acme.handshake-failed");
    assert!(
        s.contains("HandshakeFailure") && s.contains("handshake_failure"),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn protocol_version_alert_is_legacy_only() {
    let pki = Pki::new();
    let fx = TlsFixture::start(Behaviour::Alert(70)).await;
    let root = pki.file("root.pem", &[&pki.root.pem]);
    let run = run(&fx, &root, &root, &[], "3").await;
    let s = summary(&run, "tls.acme.legacy-only");
    assert!(s.contains("ProtocolVersion"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_that_refuses_gives_proxy_tunnel() {
    let pki = Pki::new();
    let leaf = pki.int.valid_leaf(&["acme.test"]);
    let fx = serve(&pki, leaf).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = format!("http://user:hunter2@{}", closed.local_addr().unwrap());
    drop(closed);
    let root = pki.file("root.pem", &[&pki.root.pem]);
    let run = run(&fx, &root, &root, &[("HTTPS_PROXY", &proxy)], "2").await;
    let s = summary(&run, "tls.acme.proxy-tunnel");
    assert!(s.contains("refused"), "{s}");
    assert!(!run.stdout.contains("hunter2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn handshake_goes_through_the_https_proxy() {
    let pki = Pki::new();
    let leaf = pki.int.valid_leaf(&["acme.test"]);
    let fx = serve(&pki, leaf).await;
    let proxy = support::tls::ConnectProxy::start(fx.addr).await;
    let url = format!("http://{}", proxy.addr);
    let root = pki.file("root.pem", &[&pki.root.pem]);
    let run = run(&fx, &root, &root, &[("HTTPS_PROXY", &url)], "3").await;
    no_warn_or_fail(&run);
    let facts = &run.check("tls.acme")["facts"];
    assert_eq!(facts["via"], format!("proxy {url}").as_str());
    assert_eq!(facts["verified_store"], true);
    let seen = proxy.seen.lock().unwrap().clone();
    let connect = format!("CONNECT acme.test:{} HTTP/1.1", fx.port());
    assert!(seen.contains(&connect), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn interception_without_installed_root_is_unknown_issuer_without_scts() {
    let pki = Pki::new();
    let corp = Ca::valid_root("Example Corp", "Example Corp TLS Inspection CA");
    let leaf = corp.valid_leaf(&["acme.test"]);
    let fx = TlsFixture::start(tls(vec![leaf.der.clone(), corp.der.clone()], leaf.key)).await;
    let root = pki.file("root.pem", &[&pki.root.pem]);
    let run = run(&fx, &root, &root, &[], "3").await;
    let s = summary(&run, "tls.acme.unknown-issuer");
    assert!(s.contains("Example Corp TLS Inspection CA"), "{s}");
    assert!(s.contains("no embedded SCTs"), "{s}");
    assert!(!run.has("tls.acme.incomplete-chain"));
}

/// The September 2021 situation: the server sends leaf, intermediate and the current root
/// cross-signed by an old root that has since expired.
#[tokio::test(flavor = "multi_thread")]
async fn stale_cross_sign_fails_only_without_the_current_root() {
    let pki = Pki::new();
    let old = Ca::root(
        "Digital Signature Test Co.",
        "DST Test Root X3",
        days(-7000),
        days(-40),
    );
    // Like ISRG Root X1 signed by DST Root CA X3 today: the cross-sign itself has expired too.
    let cross = pki.root.cross_signed_by(&old, days(-1500), days(-50));
    let leaf = pki.int.valid_leaf(&["acme.test"]);
    let fx = TlsFixture::start(tls(
        vec![leaf.der.clone(), pki.int.der.clone(), cross],
        leaf.key,
    ))
    .await;
    let both = pki.file("both.pem", &[&old.pem, &pki.root.pem]);
    let current = pki.file("current.pem", &[&pki.root.pem]);
    let run_both = run(&fx, &both, &current, &[], "3").await;
    no_warn_or_fail(&run_both);
    assert_eq!(
        run_both.check("tls.acme")["facts"]["anchor"]["expected"],
        true
    );

    let only_old = pki.file("old.pem", &[&old.pem]);
    let run_old = run(&fx, &only_old, &only_old, &[], "3").await;
    assert!(summary(&run_old, "tls.acme.expired-root").contains("DST Test Root X3"));
    // On that path the expired cross-sign counts.
    assert!(summary(&run_old, "tls.acme.expired").contains("intermediate 2"));
}

/// A box that resets every ClientHello offering TLS 1.3: modern clients fail, and the report
/// says a TLS 1.2-only client gets through.
#[tokio::test(flavor = "multi_thread")]
async fn tls13_intolerant_path_notes_that_tls12_works() {
    let pki = Pki::new();
    let leaf = pki.int.valid_leaf(&["acme.test"]);
    let fx = TlsFixture::start(Behaviour::Tls13Intolerant {
        chain: pki.chain(&leaf),
        key: leaf.key,
    })
    .await;
    let root = pki.file("root.pem", &[&pki.root.pem]);
    let run = run(&fx, &root, &root, &[], "3").await;
    let f = run.finding("tls.acme.reset");
    let detail = f["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("TLS 1.2-only handshake did succeed"), "{f}");
    assert_eq!(run.code, 1);
}

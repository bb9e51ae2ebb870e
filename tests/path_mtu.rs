//! path.mtu against TLS fixtures: healthy, an emulated path-MTU blackhole, and a server that
//! never answers the ClientHello.

mod support;

use support::dns::{addrs, DnsFixture};
use support::pki::Ca;
use support::tls::{tls, Behaviour, TlsFixture};
use support::{doctor, Run};

fn chain() -> (
    Vec<rustls::pki_types::CertificateDer<'static>>,
    rustls::pki_types::PrivateKeyDer<'static>,
) {
    let root = Ca::valid_root("Test Security Research Group", "Test Root X1");
    let leaf = root.valid_leaf(&["acme.test"]);
    (vec![leaf.der.clone()], leaf.key)
}

async fn run(b: Behaviour) -> Run {
    let fixture = TlsFixture::start(b).await;
    let dns = DnsFixture::start(&[("acme.test", addrs(&["127.0.0.1"]))]).await;
    let resolver = dns.addr.to_string();
    let ca = format!("https://acme.test:{}/directory", fixture.port());
    doctor(
        &[
            "--ca",
            &ca,
            "--resolver",
            &resolver,
            "--only",
            "path.mtu",
            "--format",
            "json",
            "--timeout",
            "1",
        ],
        &[],
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_handshake_is_quiet() {
    let (c, k) = chain();
    let r = run(tls(c, k)).await;
    let check = r.check("path.mtu");
    assert_eq!(check["status"], "pass", "{check:#}");
    assert!(check["findings"].as_array().unwrap().is_empty());
    assert_eq!(
        check["facts"]["probes"].as_array().unwrap().len(),
        1,
        "no clamped retries when nothing stalls"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn blackhole_is_found_and_sized() {
    let (chain, key) = chain();
    let r = run(Behaviour::MtuBlackhole {
        chain,
        key,
        max_mss: 1300,
    })
    .await;
    let f = r.finding("path.mtu.blackhole");
    let s = f["summary"].as_str().unwrap();
    assert!(s.contains("completes with MSS 1200"), "{s}");
    assert_eq!(r.status("path.mtu"), "fail");
    assert_eq!(r.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn silent_server_is_not_an_mtu_problem() {
    let r = run(Behaviour::Silent).await;
    assert!(r.has("path.mtu.stall-not-mtu"), "{:?}", r.codes());
    assert!(r.elapsed.as_secs() < 8, "{:?}", r.elapsed);
}

mod support;
use support::acme_server::{AcmeServer, Behaviour};
use support::dns::{addrs, DnsFixture};
#[tokio::test(flavor = "multi_thread")]
#[ignore]
async fn show() {
    let server = AcmeServer::start(Behaviour::DateOffset(600)).await;
    let dns = DnsFixture::start(&[("acme.test", addrs(&["127.0.0.1", "::1"]))]).await;
    let resolver = dns.addr.to_string();
    let url = server.directory_url();
    let root = server.root_pem();
    let run = support::doctor(
        &[
            "--ca",
            &url,
            "--resolver",
            &resolver,
            "--trust-store",
            &root,
            "--ca-root",
            &root,
            "example.com",
        ],
        &[],
    )
    .await;
    println!("{}", run.stdout);
    let run = support::doctor(
        &[
            "--ca",
            &url,
            "--resolver",
            &resolver,
            "--trust-store",
            &root,
            "--ca-root",
            &root,
            "-v",
        ],
        &[("HTTPS_PROXY", "http://bob:pw@127.0.0.1:1")],
    )
    .await;
    println!("{}", run.stdout);
}

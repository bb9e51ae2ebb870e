//! acme.directory against the HTTPS directory fixture: every finding fires, the healthy
//! directory stays quiet, hostile bodies end bounded, and proxy credentials never leak.

mod support;

use std::time::Duration;

use support::acme_server::{closed_port, silent_listener, Behaviour, Lab, Pki};
use support::proxy::{dead_proxy, ProxyFixture, ProxyMode};

const ID: &str = "acme.directory";

/// No warn or fail finding anywhere in the run.
fn quiet(run: &support::Run) {
    let bad: Vec<_> = run.json()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["findings"].as_array().cloned().unwrap_or_default())
        .filter(|f| f["severity"] != "info")
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
}

fn summary(run: &support::Run, code: &str) -> String {
    run.finding(code)["summary"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_directory_is_quiet() {
    let lab = Lab::start(Behaviour::Healthy).await;
    let run = lab.json(ID, &[]).await;
    assert_eq!(run.status(ID), "pass", "{}", run.stdout);
    quiet(&run);
    assert!(run.codes().is_empty(), "{:?}", run.codes());
    assert_eq!(run.code, 0);
    let facts = &run.check(ID)["facts"];
    assert_eq!(facts["status"], 200);
    assert_eq!(facts["http_version"], "HTTP/1.1");
    assert_eq!(facts["caa_identities"][0], "letsencrypt.org");
    assert_eq!(facts["profiles"].as_array().unwrap().len(), 3);
    assert_eq!(facts["nonce"], true);
    assert_eq!(facts["external_account_required"], false);
    assert!(facts["renewal_info"]
        .as_str()
        .unwrap()
        .ends_with("/acme/renewal-info"));
    assert!(facts["date_header"].as_str().unwrap().ends_with("GMT"));
    let s = run.check(ID)["summary"].as_str().unwrap().to_string();
    assert!(s.contains("200") && s.contains("nonce ok"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn server_error() {
    let lab = Lab::start(Behaviour::ServerError).await;
    let run = lab.json(ID, &[]).await;
    let s = summary(&run, "acme.directory.http-error");
    assert!(
        s.contains("500") && s.contains("down for maintenance"),
        "{s}"
    );
    assert_eq!(run.status(ID), "fail");
    assert_eq!(run.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_is_not_followed() {
    let lab = Lab::start(Behaviour::Redirect).await;
    let run = lab.json(ID, &[]).await;
    let s = summary(&run, "acme.directory.http-error");
    assert!(s.contains("302") && s.contains("portal.example"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn captive_portal_page() {
    let lab = Lab::start(Behaviour::CaptivePortal).await;
    let run = lab.json(ID, &[]).await;
    let s = summary(&run, "acme.directory.html-page");
    assert!(s.contains("Hotel Guest WiFi - Please log in"), "{s}");
    assert_eq!(run.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_json() {
    let lab = Lab::start(Behaviour::Malformed).await;
    let run = lab.json(ID, &[]).await;
    let s = summary(&run, "acme.directory.not-json");
    assert!(s.contains("line 1, column"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_new_nonce() {
    let lab = Lab::start(Behaviour::MissingNonce).await;
    let run = lab.json(ID, &[]).await;
    let s = summary(&run, "acme.directory.missing-resources");
    assert!(s.contains("newNonce") && !s.contains("newOrder"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn nonce_header_missing() {
    let lab = Lab::start(Behaviour::NoReplayNonce).await;
    let run = lab.json(ID, &[]).await;
    let s = summary(&run, "acme.directory.no-nonce");
    assert!(s.contains("Replay-Nonce") && s.contains("200"), "{s}");
    assert_eq!(run.check(ID)["facts"]["nonce"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn huge_body_is_capped_quickly() {
    let lab = Lab::start(Behaviour::Huge).await;
    let run = lab.json(ID, &[]).await;
    let s = summary(&run, "acme.directory.not-json");
    assert!(s.contains("256 KiB cap"), "{s}");
    assert_eq!(run.check(ID)["facts"]["body_bytes"], 256 * 1024);
    assert!(
        run.elapsed < Duration::from_secs(5),
        "took {:?}",
        run.elapsed
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_drip_ends_at_the_deadline() {
    let lab = Lab::start(Behaviour::SlowDrip).await;
    let run = lab.run(ID, "2", "json", &[]).await;
    assert!(run.has("acme.directory.timeout"), "{}", run.stdout);
    // One operation's deadline (2 s) plus process start-up, well under the check's budget.
    assert!(
        run.elapsed < Duration::from_secs(5),
        "took {:?}",
        run.elapsed
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn eab_required_is_info() {
    let lab = Lab::start(Behaviour::Eab).await;
    let run = lab.json(ID, &[]).await;
    let f = run.finding("acme.directory.eab-required");
    assert_eq!(f["severity"], "info");
    assert!(f["summary"].as_str().unwrap().contains("EAB"));
    assert_eq!(run.check(ID)["facts"]["external_account_required"], true);
    assert_eq!(run.status(ID), "pass");
    assert_eq!(run.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_refused() {
    let mut lab = Lab::start(Behaviour::Healthy).await;
    lab.url = Some(format!(
        "https://acme.test:{}/directory",
        closed_port().port()
    ));
    let run = lab.json(ID, &[]).await;
    let s = summary(&run, "acme.directory.unreachable");
    assert!(
        s.contains("refused") && s.contains("tcp.acme / tls.acme"),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn untrusted_certificate() {
    let mut lab = Lab::start(Behaviour::Healthy).await;
    let other = Pki::new();
    lab.trust_store = Some(other.root_pem.display().to_string());
    let run = lab.json(ID, &[]).await;
    let s = summary(&run, "acme.directory.unreachable");
    // The unrelated root has the same name, so rustls finds it and the signature fails.
    assert!(
        s.contains("TLS handshake") && s.contains("invalid peer certificate"),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unresolvable_name() {
    let mut lab = Lab::start(Behaviour::Healthy).await;
    lab.url = Some(format!(
        "https://missing.test:{}/directory",
        lab.server.port()
    ));
    let run = lab.json(ID, &[]).await;
    let s = summary(&run, "acme.directory.unreachable");
    assert!(s.contains("NXDOMAIN") && s.contains("dns.acme"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn black_hole_times_out() {
    let mut lab = Lab::start(Behaviour::Healthy).await;
    let (addr, _hold) = silent_listener().await;
    lab.url = Some(format!("https://acme.test:{}/directory", addr.port()));
    let run = lab.run(ID, "1", "json", &[]).await;
    assert!(run.has("acme.directory.timeout"), "{}", run.stdout);
    assert!(
        run.elapsed < Duration::from_secs(4),
        "took {:?}",
        run.elapsed
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_not_listening() {
    let lab = Lab::start(Behaviour::Healthy).await;
    let proxy = dead_proxy();
    let run = lab.json(ID, &[("HTTPS_PROXY", &proxy)]).await;
    let s = summary(&run, "acme.directory.proxy-unreachable");
    assert!(s.contains(&proxy) && s.contains("refused"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_forbids_connect() {
    let lab = Lab::start(Behaviour::Healthy).await;
    let proxy = ProxyFixture::start(ProxyMode::Forbid).await;
    let run = lab.json(ID, &[("HTTPS_PROXY", &proxy.url())]).await;
    let s = summary(&run, "acme.directory.proxy-refused");
    assert!(s.contains("403"), "{s}");
}

const PASSWORD: &str = "Tr0ub4dor-pw-9137";

fn assert_no_secret(run: &support::Run) {
    for secret in [PASSWORD, "wrong-pw-5521", "alice-user"] {
        assert!(
            !run.stdout.contains(secret),
            "{secret} in stdout:\n{}",
            run.stdout
        );
        assert!(
            !run.stderr.contains(secret),
            "{secret} in stderr:\n{}",
            run.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_demands_credentials() {
    let lab = Lab::start(Behaviour::Healthy).await;
    let proxy = ProxyFixture::start(ProxyMode::Auth {
        user: "alice-user".into(),
        password: PASSWORD.into(),
    })
    .await;
    let run = lab.json(ID, &[("HTTPS_PROXY", &proxy.url())]).await;
    let s = summary(&run, "acme.directory.proxy-auth");
    assert!(s.contains("407") && s.contains("not supplied"), "{s}");

    // Wrong credentials: rejected, and neither the user nor the password shows anywhere.
    let url = proxy.url_with("alice-user", "wrong-pw-5521");
    for format in ["json", "text"] {
        let run = lab.run(ID, "3", format, &[("HTTPS_PROXY", &url)]).await;
        assert_eq!(run.code, 1, "{}", run.stdout);
        assert_no_secret(&run);
        if format == "json" {
            let s = summary(&run, "acme.directory.proxy-auth");
            assert!(s.contains("rejected"), "{s}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn through_authenticated_proxy() {
    let lab = Lab::start(Behaviour::Healthy).await;
    let proxy = ProxyFixture::start(ProxyMode::Auth {
        user: "alice-user".into(),
        password: PASSWORD.into(),
    })
    .await;
    let url = proxy.url_with("alice-user", PASSWORD);
    for format in ["json", "text"] {
        let run = lab.run(ID, "3", format, &[("HTTPS_PROXY", &url)]).await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert_no_secret(&run);
        if format == "json" {
            quiet(&run);
            assert_eq!(
                run.check(ID)["facts"]["proxy"],
                format!("http://{}", proxy.addr)
            );
        }
    }
    assert!(proxy.tunnels() >= 2, "the requests went through the proxy");
}

#[tokio::test(flavor = "multi_thread")]
async fn silent_proxy_ends_at_the_deadline() {
    let lab = Lab::start(Behaviour::Healthy).await;
    let (addr, _hold) = silent_listener().await;
    let proxy = format!("http://{addr}");
    let run = lab.run(ID, "1", "json", &[("HTTPS_PROXY", &proxy)]).await;
    let s = summary(&run, "acme.directory.proxy-unreachable");
    assert!(s.contains(&proxy) && s.contains("within"), "{s}");
    assert!(
        run.elapsed < Duration::from_secs(4),
        "took {:?}",
        run.elapsed
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_name_does_not_resolve() {
    // The DNS fixture answers NXDOMAIN for every name but acme.test.
    let lab = Lab::start(Behaviour::Healthy).await;
    let run = lab
        .json(ID, &[("HTTPS_PROXY", "http://proxy.missing.test:3128")])
        .await;
    let s = summary(&run, "acme.directory.proxy-unreachable");
    assert!(
        s.contains("cannot resolve proxy.missing.test") && s.contains("NXDOMAIN"),
        "{s}"
    );
}

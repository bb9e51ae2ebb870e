//! proxy.env against the CONNECT proxy fixture: every finding fires and no credential leaks.

mod support;

use support::acme_server::{Behaviour, Lab};
use support::proxy::{dead_proxy, ProxyFixture, ProxyMode};

const ID: &str = "proxy.env";
const PASSWORD: &str = "c0rrect-h0rse-8812";

fn assert_no_secret(run: &support::Run, secrets: &[&str]) {
    for s in secrets {
        assert!(!run.stdout.contains(s), "{s} in stdout:\n{}", run.stdout);
        assert!(!run.stderr.contains(s), "{s} in stderr:\n{}", run.stderr);
    }
}

fn summary(run: &support::Run, code: &str) -> String {
    run.finding(code)["summary"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn no_proxy_configured_passes() {
    let lab = Lab::start(Behaviour::Healthy).await;
    let run = lab.json(ID, &[]).await;
    assert_eq!(run.status(ID), "pass");
    assert!(run.codes().is_empty(), "{:?}", run.codes());
    assert!(run.check(ID)["summary"]
        .as_str()
        .unwrap()
        .contains("no proxy configured"));
    assert_eq!(run.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn working_proxy_is_in_use() {
    let lab = Lab::start(Behaviour::Healthy).await;
    let proxy = ProxyFixture::start(ProxyMode::Open).await;
    let run = lab.json(ID, &[("https_proxy", &proxy.url())]).await;
    let s = summary(&run, "proxy.env.in-use");
    assert!(s.contains(&proxy.url()) && s.contains("https_proxy"), "{s}");
    assert_eq!(run.status(ID), "pass");
    assert!(run.check(ID)["facts"]["tunnel_ms"].is_u64());
    assert_eq!(proxy.tunnels(), 1);
    assert_eq!(run.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_proxy_bypasses_the_api_host() {
    let lab = Lab::start(Behaviour::Healthy).await;
    let proxy = ProxyFixture::start(ProxyMode::Open).await;
    let run = lab
        .json(
            ID,
            &[
                ("HTTPS_PROXY", &proxy.url()),
                ("NO_PROXY", "localhost,.test"),
            ],
        )
        .await;
    let s = summary(&run, "proxy.env.bypassed");
    assert!(s.contains("acme.test"), "{s}");
    assert_eq!(proxy.tunnels(), 0);
    assert_eq!(run.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn unparseable_proxy_with_credentials() {
    let lab = Lab::start(Behaviour::Healthy).await;
    let value = format!("http://bob:{PASSWORD}@[::1");
    for format in ["json", "text"] {
        let run = lab.run(ID, "3", format, &[("HTTPS_PROXY", &value)]).await;
        assert_eq!(run.code, 1, "{}", run.stdout);
        assert_no_secret(&run, &[PASSWORD]);
        if format == "json" {
            assert!(run.has("proxy.env.invalid"), "{:?}", run.codes());
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn dead_proxy_is_unreachable() {
    let lab = Lab::start(Behaviour::Healthy).await;
    let proxy = dead_proxy();
    let run = lab.json(ID, &[("HTTPS_PROXY", &proxy)]).await;
    let s = summary(&run, "proxy.env.unreachable");
    assert!(s.contains(&proxy) && s.contains("refused"), "{s}");
    assert_eq!(run.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_refuses_connect() {
    let lab = Lab::start(Behaviour::Healthy).await;
    let proxy = ProxyFixture::start(ProxyMode::Forbid).await;
    let run = lab.json(ID, &[("ALL_PROXY", &proxy.url())]).await;
    let s = summary(&run, "proxy.env.connect-refused");
    assert!(s.contains("403"), "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_demands_auth() {
    let lab = Lab::start(Behaviour::Healthy).await;
    let proxy = ProxyFixture::start(ProxyMode::Auth {
        user: "carol".into(),
        password: PASSWORD.into(),
    })
    .await;
    let run = lab.json(ID, &[("HTTPS_PROXY", &proxy.url())]).await;
    let s = summary(&run, "proxy.env.auth-required");
    assert!(s.contains("407") && s.contains("not supplied"), "{s}");

    let wrong = proxy.url_with("carol", "bad-secret-4471");
    for format in ["json", "text"] {
        let run = lab.run(ID, "3", format, &[("HTTPS_PROXY", &wrong)]).await;
        assert_eq!(run.code, 1);
        assert_no_secret(&run, &["bad-secret-4471"]);
        if format == "json" {
            assert!(summary(&run, "proxy.env.auth-required").contains("rejected"));
            assert_eq!(run.check(ID)["facts"]["credentials"], true);
        }
    }

    // The right credentials open the tunnel, and still never show.
    let right = proxy.url_with("carol", PASSWORD);
    for format in ["json", "text"] {
        let run = lab.run(ID, "3", format, &[("HTTPS_PROXY", &right)]).await;
        assert_eq!(run.code, 0, "{}", run.stdout);
        assert_no_secret(&run, &[PASSWORD]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn silent_proxy_times_out() {
    let lab = Lab::start(Behaviour::Healthy).await;
    let (addr, _hold) = support::acme_server::silent_listener().await;
    let proxy = format!("http://{addr}");
    let run = lab.run(ID, "1", "json", &[("HTTPS_PROXY", &proxy)]).await;
    let s = summary(&run, "proxy.env.unreachable");
    assert!(s.contains("no answer from the proxy"), "{s}");
    assert!(
        run.elapsed < std::time::Duration::from_secs(4),
        "took {:?}",
        run.elapsed
    );
}

//! system.clock against the directory fixture sending a Date header off by a chosen amount.

mod support;

use support::acme_server::{Behaviour, Lab};

const ID: &str = "system.clock";

#[tokio::test(flavor = "multi_thread")]
async fn clocks_agree() {
    let lab = Lab::start(Behaviour::Healthy).await;
    let run = lab.json(ID, &[]).await;
    assert_eq!(run.status(ID), "pass", "{}", run.stdout);
    assert!(run.codes().is_empty(), "{:?}", run.codes());
    let offset = run.check(ID)["facts"]["offset_secs"].as_f64().unwrap();
    assert!(offset.abs() < 5.0, "offset {offset}");
    assert_eq!(run.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hours_off_fails() {
    let lab = Lab::start(Behaviour::DateOffset(2 * 3600)).await;
    let run = lab.json(ID, &[]).await;
    let f = run.finding("system.clock.skew-fail");
    let s = f["summary"].as_str().unwrap();
    assert!(
        s.contains("+2 h 0 min") && s.contains("this machine is behind"),
        "{s}"
    );
    assert!(f["remediation"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r.as_str().unwrap().contains("timedatectl set-ntp true")));
    let offset = run.check(ID)["facts"]["offset_secs"].as_f64().unwrap();
    assert!((offset - 7200.0).abs() < 5.0, "offset {offset}");
    assert!(!run.has("system.clock.skew-warn"));
    assert_eq!(run.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn five_minutes_behind_warns() {
    let lab = Lab::start(Behaviour::DateOffset(-300)).await;
    let run = lab.json(ID, &[]).await;
    let s = run.finding("system.clock.skew-warn")["summary"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        s.contains("-5 min") && s.contains("this machine is ahead"),
        "{s}"
    );
    assert_eq!(run.status(ID), "warn");
    assert_eq!(run.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_date_header() {
    let lab = Lab::start(Behaviour::NoDate).await;
    let run = lab.json(ID, &[]).await;
    let f = run.finding("system.clock.no-date");
    assert_eq!(f["severity"], "info");
    assert!(f["summary"].as_str().unwrap().contains("no Date header"));
    assert_eq!(run.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn error_page_still_gives_the_date() {
    // The directory fails, but its 500 response still carries the server's clock.
    let lab = Lab::start(Behaviour::ServerError).await;
    let run = lab.json("system.clock,acme.directory", &[]).await;
    assert!(run.has("acme.directory.http-error"));
    assert_eq!(run.status(ID), "pass", "{}", run.stdout);
}

/// A clock far off makes every certificate look expired, so acme.directory fails; the clock
/// check still reads the CA's Date, with certificate dates unchecked.
#[tokio::test(flavor = "multi_thread")]
async fn reads_the_date_when_certificate_dates_fail() {
    let lab = Lab::start(Behaviour::ExpiredCertificate).await;
    let run = lab.json("system.clock,acme.directory", &[]).await;
    assert_eq!(run.status("acme.directory"), "fail", "{}", run.stdout);
    let c = run.check(ID);
    assert_eq!(c["status"], "pass", "{c:#}");
    assert!(
        c["facts"]["source"]
            .as_str()
            .unwrap()
            .contains("certificate dates unchecked"),
        "{c:#}"
    );
    assert!(c["facts"]["offset_secs"].as_f64().unwrap().abs() < 5.0);
}

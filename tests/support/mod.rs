//! In-process fixtures for integration tests. Everything binds to loopback on random ports.
#![allow(dead_code)]

pub mod acme_server;
pub mod authoritative;
pub mod dns;
pub mod globalping;
pub mod http01;
pub mod pki;
pub mod proxy;
pub mod tcp;
pub mod tls;

use std::time::{Duration, Instant};

use serde_json::Value;

/// The outcome of running the acme-doctor binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The report entry of one check.
    pub fn check(&self, id: &str) -> Value {
        self.json()["checks"]
            .as_array()
            .expect("checks array")
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no check {id} in report:\n{}", self.stdout))
    }

    pub fn status(&self, id: &str) -> String {
        self.check(id)["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Every finding code in the report.
    pub fn codes(&self) -> Vec<String> {
        self.json()["checks"]
            .as_array()
            .expect("checks array")
            .iter()
            .flat_map(|c| c["findings"].as_array().cloned().unwrap_or_default())
            .map(|f| f["code"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    pub fn has(&self, code: &str) -> bool {
        self.codes().iter().any(|c| c == code)
    }

    /// The finding with this code, for asserting on its summary and evidence.
    pub fn finding(&self, code: &str) -> Value {
        self.json()["checks"]
            .as_array()
            .expect("checks array")
            .iter()
            .flat_map(|c| c["findings"].as_array().cloned().unwrap_or_default())
            .find(|f| f["code"] == code)
            .unwrap_or_else(|| panic!("no finding {code} in report:\n{}", self.stdout))
    }
}

/// Runs the binary with `args` and a clean proxy environment; `env` adds variables.
pub async fn doctor(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_acme-doctor"));
    cmd.args(args);
    for v in [
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    ] {
        cmd.env_remove(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.kill_on_drop(true);
    let start = Instant::now();
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("acme-doctor finished within 60 s")
        .expect("acme-doctor runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

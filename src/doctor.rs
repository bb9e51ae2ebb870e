//! One diagnosis from plan to report: environment, checks, verdict.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Instant;

use crate::engine;
use crate::net::dns::Resolver;
use crate::net::proxy::ProxyEnv;
use crate::plan::{FailOn, Plan};
use crate::report::model::*;

pub async fn diagnose(plan: Plan) -> Report {
    diagnose_with_progress(plan, None).await
}

/// `diagnose`, telling `progress` as checks start and finish.
pub async fn diagnose_with_progress(plan: Plan, progress: Option<engine::Progress>) -> Report {
    let started = Instant::now();
    let started_at = now_rfc3339();
    let plan = Arc::new(plan);
    let resolver = Resolver::new(plan.resolver, plan.timeout);
    let (checks, resolver_desc) = match resolver {
        Ok(r) => {
            let desc = r.description.clone();
            (
                engine::run_with_progress(plan.clone(), r, crate::checks::all(), progress).await,
                desc,
            )
        }
        Err(e) => (Vec::new(), e),
    };
    let environment = Environment {
        os: os_description(),
        resolver: resolver_desc,
        ipv4: has_route("192.0.2.1:9"),
        ipv6: has_route("[2001:db8::1]:9"),
        proxy: ProxyEnv::from_env()
            .for_host(plan.ca.api_host())
            .map(|p| p.display()),
    };
    let verdict = verdict(&checks, plan.fail_on);
    Report {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo {
            name: "acme-doctor".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        started_at,
        duration_ms: started.elapsed().as_millis() as u64,
        plan: plan_report(&plan),
        environment,
        checks,
        verdict,
    }
}

fn plan_report(plan: &Plan) -> PlanReport {
    PlanReport {
        ca: plan.ca.name.clone(),
        directory_url: plan.ca.directory_url.to_string(),
        api_host: plan.ca.api_host().to_string(),
        expected_roots: plan.expected_roots.iter().map(|r| r.describe()).collect(),
        identifiers: plan
            .identifiers
            .iter()
            .map(|p| IdentifierReport {
                input: p.input.clone(),
                kind: p.identifier.kind().into(),
                value: p.identifier.value(),
                notes: p.notes.clone(),
            })
            .collect(),
        resolver: plan.resolver.map(|r| r.to_string()),
        trust_store: plan.trust_store.as_ref().map(|p| p.display().to_string()),
        ip_family: plan.family.label().into(),
        challenge: plan.challenge.label().into(),
        timeout_ms: plan.timeout.as_millis() as u64,
        only: plan.only.clone(),
        skip: plan.skip.clone(),
        fail_on: match plan.fail_on {
            FailOn::Warn => "warn".into(),
            FailOn::Fail => "fail".into(),
        },
        command_line: plan.command_line.clone(),
    }
}

pub fn verdict(checks: &[CheckReport], fail_on: FailOn) -> Verdict {
    let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
    let counts = Counts {
        pass: count(Status::Pass),
        warn: count(Status::Warn),
        fail: count(Status::Fail),
        skipped: count(Status::Skipped),
        timed_out: count(Status::TimedOut),
        crashed: count(Status::Crashed),
    };
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| c.status.is_failure())
        .map(|c| c.id.as_str())
        .collect();
    let warned: Vec<&str> = checks
        .iter()
        .filter(|c| c.status == Status::Warn)
        .map(|c| c.id.as_str())
        .collect();
    let (status, message) = if checks.is_empty() {
        ("fail", "no check could run".to_string())
    } else if !failed.is_empty() {
        (
            "fail",
            format!("{} check(s) failed: {}", failed.len(), failed.join(", ")),
        )
    } else if !warned.is_empty() {
        (
            "warn",
            format!(
                "no failures; {} warning(s): {}",
                warned.len(),
                warned.join(", ")
            ),
        )
    } else {
        ("pass", "no problems found".to_string())
    };
    let exit_code = match (status, fail_on) {
        ("fail", _) => 1,
        ("warn", FailOn::Warn) => 1,
        _ => 0,
    };
    Verdict {
        status: status.into(),
        exit_code,
        counts,
        message,
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn os_description() -> String {
    let pretty = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_string())
        });
    match pretty {
        Some(p) => format!("{p} ({} {})", std::env::consts::OS, std::env::consts::ARCH),
        None => format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
    }
}

/// Whether the kernel has a route for the family. A UDP connect only consults the routing table;
/// no packet is sent.
fn has_route(probe: &str) -> bool {
    let target: SocketAddr = probe.parse().expect("static probe address");
    let bind = if target.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    UdpSocket::bind(bind)
        .and_then(|s| s.connect(target))
        .is_ok()
}

//! `system.clock`: is the local clock close to the CA's? A skewed clock makes certificates look
//! "not yet valid" or expired, and JWS/nonce exchanges fail in confusing ways.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::checks::acme_directory::{rfc3339, DirectoryFacts};
use crate::engine::{finding, BoxFuture, Check, Ctx, Outcome};
use crate::report::model::Sensitivity;

pub struct SystemClock;

/// Past this, warn: TLS still works but logs and validity checks drift.
pub const WARN_SECS: f64 = 60.0;
/// Past this, fail: certificates and the CA's own API certificate look invalid.
pub const FAIL_SECS: f64 = 3600.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skew {
    Ok,
    Warn,
    Fail,
}

/// How a measured offset (seconds, server minus local) is judged.
pub fn judge(offset_secs: f64) -> Skew {
    let a = offset_secs.abs();
    if a > FAIL_SECS {
        Skew::Fail
    } else if a > WARN_SECS {
        Skew::Warn
    } else {
        Skew::Ok
    }
}

/// Server time minus local time, in seconds. The local reference is the midpoint between
/// sending the request and receiving the response head, where the server most likely stamped
/// its Date. The Date header is truncated to the second, so half a second is added to centre it.
pub fn offset_secs(server_date: SystemTime, sent: SystemTime, received: SystemTime) -> f64 {
    let rtt = received.duration_since(sent).unwrap_or(Duration::ZERO);
    let mid = sent + rtt / 2;
    let server = server_date + Duration::from_millis(500);
    match server.duration_since(mid) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// A readable offset: "+2 h 3 min 4 s" (server ahead) or "-75 s" (server behind).
pub fn human(offset_secs: f64) -> String {
    let sign = if offset_secs < 0.0 { "-" } else { "+" };
    let s = offset_secs.abs().round() as u64;
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{sign}{h} h {m} min {sec} s")
    } else if m > 0 {
        format!("{sign}{m} min {sec} s")
    } else {
        format!("{sign}{:.1} s", offset_secs.abs())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ClockFacts {
    pub local_time: String,
    pub server_time: Option<String>,
    /// Server minus local, seconds; positive when this machine is behind.
    pub offset_secs: Option<f64>,
    pub response_ms: u64,
    pub source: String,
}

impl Check for SystemClock {
    fn id(&self) -> &'static str {
        "system.clock"
    }

    /// Waits for acme.directory's response, or makes its own request.
    fn deadline(&self, plan: &crate::plan::Plan) -> Duration {
        plan.timeout * 5 + Duration::from_secs(3)
    }

    fn run(&self, ctx: Arc<Ctx>) -> BoxFuture<'static, Outcome> {
        Box::pin(async move { run(&ctx).await })
    }
}

/// The CA's Date header and when it was sent and received.
struct Reading {
    url: String,
    date_header: Option<String>,
    server_date: Option<SystemTime>,
    sent_at: SystemTime,
    received_at: SystemTime,
    response_ms: u64,
    note: &'static str,
}

/// acme.directory's response when it got one; otherwise a HEAD of the directory with
/// certificate dates unchecked, since a wrong clock is exactly what makes them fail.
async fn reading(ctx: &Ctx) -> Result<Reading, String> {
    let wait = ctx.plan.timeout * 3 + Duration::from_secs(2);
    if let Some(d) = ctx
        .facts_if_run::<DirectoryFacts>("acme.directory", wait)
        .await
    {
        return Ok(Reading {
            url: d.url.clone(),
            date_header: d.date_header.clone(),
            server_date: d.server_date,
            sent_at: d.sent_at,
            received_at: d.received_at,
            response_ms: d.response_ms,
            note: "",
        });
    }
    // Asking again is only worth it when the CA's port is reachable at all (or a proxy is in
    // use, which tcp.acme reports as facts too); otherwise the same connect would just time out.
    if ctx.plan.deselected("tcp.acme").is_none()
        && ctx
            .facts_if_run::<crate::checks::tcp_acme::TcpAcmeFacts>("tcp.acme", wait)
            .await
            .is_none()
    {
        return Err("the CA's API port does not accept connections (see tcp.acme)".into());
    }
    let host = ctx.plan.ca.api_host().to_string();
    let proxy = crate::net::proxy::ProxyEnv::from_env().for_host(&host);
    let client = crate::net::http::HttpClient::new_ignoring_cert_dates(ctx, proxy)
        .await
        .map_err(|e| e.to_string())?;
    let url = ctx.plan.ca.directory_url.clone();
    let got = client
        .get(&url, 64 * 1024)
        .await
        .map_err(|e| client.scrub(&e.to_string()))?;
    let date_header = got.header("date");
    Ok(Reading {
        url: url.to_string(),
        server_date: date_header
            .as_deref()
            .and_then(|d| httpdate::parse_http_date(d.trim()).ok()),
        date_header,
        sent_at: got.sent_at,
        received_at: got.received_at,
        response_ms: got.elapsed.as_millis() as u64,
        note: " (read with certificate dates unchecked: they depend on this clock)",
    })
}

async fn run(ctx: &Ctx) -> Outcome {
    let d = match reading(ctx).await {
        Ok(d) => d,
        Err(e) => {
            return Outcome::skipped(format!(
                "no response from the CA to compare clocks with: {e}"
            ))
        }
    };
    let local = rfc3339(d.received_at);
    let mut facts = ClockFacts {
        local_time: local.clone(),
        server_time: None,
        offset_secs: None,
        response_ms: d.response_ms,
        source: format!("Date header of {}{}", d.url, d.note),
    };
    let mut out = Outcome::new("");
    out.evidence("local clock at response", &local, Sensitivity::Public);
    let Some(server) = d.server_date else {
        let what = match &d.date_header {
            Some(raw) => format!("an invalid Date header {raw:?}"),
            None => "no Date header".to_string(),
        };
        out.summary = format!("cannot compare clocks: {} sent {what}", d.url);
        out.finding(finding("system.clock.no-date", out.summary.clone()));
        return out.with_facts(facts);
    };
    let server_s = rfc3339(server);
    out.evidence("server clock (Date)", &server_s, Sensitivity::Public);
    let offset = offset_secs(server, d.sent_at, d.received_at);
    facts.server_time = Some(server_s.clone());
    facts.offset_secs = Some((offset * 10.0).round() / 10.0);
    let ahead = if offset > 0.0 {
        "this machine is behind"
    } else {
        "this machine is ahead"
    };
    let measured = format!(
        "local clock {local}, CA clock {server_s}: offset {} ({ahead}; response took {} ms)",
        human(offset),
        d.response_ms
    );
    match judge(offset) {
        Skew::Fail => out.finding(finding("system.clock.skew-fail", measured.clone())),
        Skew::Warn => out.finding(finding("system.clock.skew-warn", measured.clone())),
        Skew::Ok => {}
    }
    out.summary = format!(
        "offset {} against the CA's Date header (±1 s resolution)",
        human(offset)
    );
    if judge(offset) != Skew::Ok {
        out.summary = measured;
    }
    out.with_facts(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds() {
        assert_eq!(judge(0.0), Skew::Ok);
        assert_eq!(judge(60.0), Skew::Ok);
        assert_eq!(judge(-60.5), Skew::Warn);
        assert_eq!(judge(3600.0), Skew::Warn);
        assert_eq!(judge(3601.0), Skew::Fail);
        assert_eq!(judge(-7200.0), Skew::Fail);
    }

    #[test]
    fn offset_uses_midpoint() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        // Request took 4 s; the server stamped 1700000002 (the midpoint): no skew.
        let o = offset_secs(t0 + Duration::from_secs(2), t0, t0 + Duration::from_secs(4));
        assert!((o - 0.5).abs() < 1e-9, "{o}");
        // Server two hours ahead.
        let o = offset_secs(t0 + Duration::from_secs(7200), t0, t0);
        assert_eq!(judge(o), Skew::Fail);
        // Server 90 s behind.
        let o = offset_secs(t0 - Duration::from_secs(90), t0, t0);
        assert!(o < -89.0 && o > -90.0, "{o}");
        assert_eq!(judge(o), Skew::Warn);
    }

    #[test]
    fn human_offsets() {
        assert_eq!(human(7384.0), "+2 h 3 min 4 s");
        assert_eq!(human(-75.0), "-1 min 15 s");
        assert_eq!(human(0.4), "+0.4 s");
    }
}

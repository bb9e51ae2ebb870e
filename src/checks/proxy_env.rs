//! `proxy.env`: which proxy an ACME client on this machine will use for the CA's API, and does
//! that proxy open a CONNECT tunnel to it?
//!
//! With no proxy variable set this check passes with the summary "no proxy configured" rather
//! than being skipped: "no proxy" is a measured fact about the environment (and one users ask
//! about), not a check that did not run.

use std::sync::Arc;

use serde::Serialize;

use crate::engine::{finding, BoxFuture, Check, Ctx, FindingExt, Outcome};
use crate::net::proxy::{self, ProxyEnv, ProxyError, ProxyVar};
use crate::report::model::Sensitivity;

pub struct ProxyEnvCheck;

#[derive(Debug, Clone, Serialize)]
pub struct ProxyEnvFacts {
    /// Proxy variables set, values redacted.
    pub vars: Vec<ProxyVar>,
    /// The proxy an HTTPS request to the API host goes through, without credentials.
    pub proxy: Option<String>,
    /// Which variable chose it.
    pub variable: Option<String>,
    pub credentials: bool,
    /// NO_PROXY covers the API host.
    pub bypassed: bool,
    /// Time to an established CONNECT tunnel.
    pub tunnel_ms: Option<u64>,
}

impl Check for ProxyEnvCheck {
    fn id(&self) -> &'static str {
        "proxy.env"
    }

    fn run(&self, ctx: Arc<Ctx>) -> BoxFuture<'static, Outcome> {
        Box::pin(async move { run(&ctx).await })
    }
}

async fn run(ctx: &Ctx) -> Outcome {
    let plan = &ctx.plan;
    let host = plan.ca.api_host().to_string();
    let port = plan.ca.api_port();
    let env = ProxyEnv::from_env();
    let mut facts = ProxyEnvFacts {
        vars: env.vars.clone(),
        proxy: None,
        variable: None,
        credentials: false,
        bypassed: false,
        tunnel_ms: None,
    };
    let mut out = Outcome::new("");
    for v in &env.vars {
        out.evidence(&v.name, &v.value, Sensitivity::Hostname);
    }
    let https_vars: Vec<&str> = env
        .vars
        .iter()
        .map(|v| v.name.as_str())
        .filter(|n| {
            let l = n.to_ascii_lowercase();
            l == "https_proxy" || l == "all_proxy"
        })
        .collect();
    if https_vars.is_empty() {
        out.summary = if env.vars.is_empty() {
            "no proxy configured: ACME clients connect directly".into()
        } else {
            format!(
                "no HTTPS proxy configured ({} set; HTTP_PROXY does not apply to the HTTPS API): ACME clients connect directly",
                env.vars.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", ")
            )
        };
        return out.with_facts(facts);
    }

    if env.bypassed(&host) {
        facts.bypassed = true;
        out.summary = format!(
            "NO_PROXY ({}) covers {host}: ACME clients connect directly",
            env.no_proxy().unwrap_or_default()
        );
        out.finding(finding("proxy.env.bypassed", out.summary.clone()));
        return out.with_facts(facts);
    }

    let p = match env.proxy_for(&host) {
        Err(e) => {
            // The message is built from the redacted value.
            out.summary = format!("cannot parse the proxy setting: {e}");
            out.finding(finding("proxy.env.invalid", out.summary.clone()));
            return out.with_facts(facts);
        }
        Ok(None) => {
            out.summary = "no proxy applies to the API host".into();
            return out.with_facts(facts);
        }
        Ok(Some(p)) => p,
    };
    facts.proxy = Some(p.display());
    facts.variable = Some(p.var.clone());
    facts.credentials = p.has_credentials();
    let creds = if p.has_credentials() {
        "with credentials"
    } else {
        "without credentials"
    };
    let mut in_use = finding(
        "proxy.env.in-use",
        format!(
            "ACME clients will reach {host}:{port} through {} (from {}, {creds})",
            p.display(),
            p.var
        ),
    );
    if let Some(c) = case_conflict(&env.vars) {
        in_use = in_use.detail(c);
    }
    out.finding(in_use);

    match proxy::connect(&p, &host, port, plan.timeout).await {
        Ok((_tunnel, took)) => {
            facts.tunnel_ms = Some(took.as_millis() as u64);
            out.summary = format!(
                "{} opened a CONNECT tunnel to {host}:{port} in {} ms",
                p.display(),
                took.as_millis()
            );
        }
        Err(e) => {
            let (code, summary) = match &e {
                ProxyError::AuthRequired => (
                    "proxy.env.auth-required",
                    format!(
                        "{} answered 407 Proxy Authentication Required to CONNECT {host}:{port}; credentials {} ({})",
                        p.display(),
                        if p.has_credentials() { "were supplied in the proxy URL and rejected" } else { "were not supplied" },
                        p.var
                    ),
                ),
                ProxyError::Refused { status } => (
                    "proxy.env.connect-refused",
                    format!(
                        "{} refused CONNECT {host}:{port} with HTTP {status}",
                        p.display()
                    ),
                ),
                ProxyError::Resolve { .. }
                | ProxyError::Connect(_)
                | ProxyError::Timeout { .. }
                | ProxyError::Protocol { .. } => (
                    "proxy.env.unreachable",
                    format!("{} ({}): {e}", p.display(), p.var),
                ),
            };
            out.summary = summary.clone();
            out.finding(finding(code, summary).detail(format!("{e} ({})", e.label())));
        }
    }
    out.with_facts(facts)
}

/// Both spellings of a variable set to different values: clients disagree on which wins
/// (curl and Python prefer the lower-case one, Go and reqwest the upper-case one), so different
/// ACME clients on this machine may use different proxies.
fn case_conflict(vars: &[ProxyVar]) -> Option<String> {
    let mut notes = Vec::new();
    for (i, a) in vars.iter().enumerate() {
        for b in &vars[i + 1..] {
            if a.name != b.name && a.name.eq_ignore_ascii_case(&b.name) && a.value != b.value {
                notes.push(format!("{}={} but {}={}", a.name, a.value, b.name, b.value));
            }
        }
    }
    (!notes.is_empty()).then(|| {
        format!(
            "{}: curl and Python clients (acme.sh, certbot) use the lower-case variable, Go clients (lego, Caddy) the upper-case one",
            notes.join("; ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str, value: &str) -> ProxyVar {
        ProxyVar {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn case_conflicts() {
        assert!(case_conflict(&[
            var("https_proxy", "http://a:1"),
            var("HTTPS_PROXY", "http://a:1")
        ])
        .is_none());
        let c = case_conflict(&[
            var("https_proxy", "http://a:1"),
            var("HTTPS_PROXY", "http://b:2"),
        ])
        .unwrap();
        assert!(
            c.contains("https_proxy=http://a:1 but HTTPS_PROXY=http://b:2"),
            "{c}"
        );
        assert!(case_conflict(&[var("https_proxy", "http://a:1"), var("NO_PROXY", "x")]).is_none());
    }
}

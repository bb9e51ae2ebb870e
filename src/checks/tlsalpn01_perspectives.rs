//! `tlsalpn01.perspectives`: port 443 seen from many places through the probe network. The
//! network has no TLS-ALPN measurement, so an HTTPS request stands in for it: it shows whether
//! a TCP connection and a TLS handshake on port 443 get through from each place.

use std::sync::Arc;
use std::time::Duration;

use crate::checks::http01_perspectives::{budget, run_web, Web};
use crate::engine::{BoxFuture, Check, Ctx, Outcome};
use crate::plan::{Challenge, Plan};

pub struct TlsAlpn01Perspectives;

impl Check for TlsAlpn01Perspectives {
    fn id(&self) -> &'static str {
        "tlsalpn01.perspectives"
    }

    fn applies(&self, plan: &Plan) -> Result<(), String> {
        if plan.identifiers.is_empty() {
            return Err("no domain or IP given".into());
        }
        if plan.challenge != Challenge::TlsAlpn01 {
            return Err(format!(
                "the plan uses {}, not tls-alpn-01",
                plan.challenge.label()
            ));
        }
        if crate::checks::http01_reachability::http01_names(plan)
            .0
            .is_empty()
        {
            return Err(
                "a wildcard cannot be validated with tls-alpn-01 (dns-01 is required)".into(),
            );
        }
        crate::perspectives::refuse(plan).map_or(Ok(()), Err)
    }

    fn deadline(&self, plan: &Plan) -> Duration {
        budget(plan) * 2 + Duration::from_secs(5)
    }

    fn run(&self, ctx: Arc<Ctx>) -> BoxFuture<'static, Outcome> {
        Box::pin(async move { run_web(&ctx, Web::TlsAlpn01).await })
    }
}

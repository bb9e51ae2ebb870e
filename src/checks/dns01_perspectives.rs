//! `dns01.perspectives`: each authoritative nameserver of the zone that holds the challenge TXT
//! record, queried from many places through the probe network, to find nameservers that are
//! unreachable (geo-blocked, rate-limited, anycast holes) from some of the CA's perspectives.

use std::sync::Arc;
use std::time::Duration;

use crate::checks::dns01_delegation::Dns01Facts;
use crate::checks::http01_perspectives::{
    api_finding, backend, budget, judge, line, third_party, verdict_text, Mode, Perspective,
    PerspectivesFacts, TargetFacts,
};
use crate::engine::{BoxFuture, Check, Ctx, Outcome};
use crate::net::nameservers::NameServer;
use crate::perspectives::{self, Locations, ProbeResult, Request};
use crate::plan::Plan;
use crate::report::model::{Sensitivity, Severity};

pub struct Dns01Perspectives;

const PREFIX: &str = "dns01.perspectives";
const FIX: &str = "allow UDP and TCP port 53 from the whole Internet to every authoritative nameserver (no geo-IP or rate-limit rules that drop the CA), remove or fix the failing nameserver in the NS set, or delegate _acme-challenge to a DNS provider that answers everywhere";

impl Check for Dns01Perspectives {
    fn id(&self) -> &'static str {
        PREFIX
    }

    fn needs(&self) -> &'static [&'static str] {
        &["dns01.delegation"]
    }

    fn applies(&self, plan: &Plan) -> Result<(), String> {
        crate::checks::dns01_delegation::Dns01Delegation.applies(plan)?;
        perspectives::refuse(plan).map_or(Ok(()), Err)
    }

    fn deadline(&self, plan: &Plan) -> Duration {
        // The first nameserver picks the probes, the others reuse them side by side.
        budget(plan) * 2 + Duration::from_secs(5)
    }

    fn run(&self, ctx: Arc<Ctx>) -> BoxFuture<'static, Outcome> {
        Box::pin(async move { run(&ctx).await })
    }
}

fn perspective(p: crate::perspectives::ProbeOutcome) -> Option<Perspective> {
    let (ok, mode) = match &p.result {
        ProbeResult::Offline | ProbeResult::Unfinished => return None,
        // Any authoritative answer shows the server is reachable from there; a REFUSED or
        // SERVFAIL aimed at a place is not.
        ProbeResult::Dns { rcode, .. } => {
            let ok = matches!(rcode.as_str(), "NOERROR" | "NXDOMAIN");
            (ok, (!ok).then(|| Mode::Rcode(rcode.clone())))
        }
        ProbeResult::Failed { failure, .. } => (false, Some(Mode::Failure(*failure))),
        ProbeResult::Http { status, .. } => (false, Some(Mode::Status(*status))),
    };
    let message = match &p.result {
        ProbeResult::Failed { message, .. } if !message.is_empty() => Some(message.clone()),
        _ => None,
    };
    Some(Perspective {
        message,
        result: p.result.label(),
        ms: p.result.ms(),
        place: p.place,
        ok,
        mode,
        via: Vec::new(),
    })
}

async fn run(ctx: &Ctx) -> Outcome {
    let Some(del) = ctx.facts::<Dns01Facts>("dns01.delegation") else {
        return Outcome::skipped("dns01.delegation published no facts");
    };
    let plan = &ctx.plan;
    let mut zones: Vec<(String, String, Vec<NameServer>)> = Vec::new();
    let mut not_probed = Vec::new();
    for d in &del.names {
        let Some(zone) = &d.zone else {
            not_probed.push(format!(
                "{}: no zone found (see dns01.delegation)",
                d.target
            ));
            continue;
        };
        let addrs: Vec<_> = d.nameservers.iter().map(|n| n.addr).collect();
        if addrs.is_empty() {
            not_probed.push(format!(
                "{zone}: no nameserver address (see dns01.delegation)"
            ));
        } else if perspectives::only_private(&addrs) && perspectives::public_default(plan) {
            not_probed.push(format!(
                "{zone}: its nameservers have only private or loopback addresses, which public probes cannot reach; not sent to Globalping"
            ));
        } else if !zones.iter().any(|(z, t, _)| z == zone && *t == d.target) {
            zones.push((zone.clone(), d.target.clone(), d.nameservers.clone()));
        }
    }
    if zones.is_empty() {
        return Outcome::skipped(not_probed.join("; "));
    }
    let backend = match backend(ctx).await {
        Ok(b) => b,
        Err(e) => {
            let mut out = Outcome::new(format!("no probe network: {e}"));
            out.finding(api_finding(PREFIX, "Globalping", "the nameservers", &e));
            return out;
        }
    };
    let spread = Locations::Spread(perspectives::locations(plan.perspectives, &plan.from));
    let mut out = Outcome::new("");
    let mut facts = PerspectivesFacts {
        network: backend.name().to_string(),
        endpoint: backend.endpoint(),
        targets: Vec::new(),
        not_probed: not_probed.clone(),
    };
    for n in &not_probed {
        out.evidence("not probed", n.clone(), Sensitivity::Hostname);
    }
    let mut summary = Vec::new();
    let mut sent = Vec::new();
    for (zone, target, servers) in &zones {
        let mk = |ns: &NameServer| Request::Dns {
            name: target.trim_end_matches('.').to_string(),
            rtype: "TXT",
            server: ns.addr,
            port: plan.dns_port,
        };
        sent.push(target.trim_end_matches('.').to_string());
        // The first nameserver picks the probes; the others reuse them, so every server is
        // seen from the same places and a perspective can be judged across servers.
        let first = backend.measure(&mk(&servers[0]), &spread).await;
        let mut results = Vec::new();
        match first {
            Err(e) => {
                summary.push(format!("{zone}: not measured"));
                out.finding(api_finding(PREFIX, backend.name(), zone, &e));
                continue;
            }
            Ok(m) => {
                let same = Locations::Same(m.id.clone());
                results.push((servers[0].clone(), Ok(m)));
                let rest: Vec<_> = servers[1..]
                    .iter()
                    .map(|ns| {
                        let (backend, same, req) = (backend.clone(), same.clone(), mk(ns));
                        async move { backend.measure(&req, &same).await }
                    })
                    .collect();
                let rest = crate::checks::http01_reachability::join_all(rest).await;
                results.extend(servers[1..].iter().cloned().zip(rest));
            }
        }
        let several = servers.len() > 1;
        // Per perspective index: did any server answer from there?
        let mut any_ok: Vec<Option<(crate::perspectives::Place, bool)>> = Vec::new();
        for (ns, r) in results {
            let label = format!("{zone} nameserver {}", ns.label());
            match r {
                Err(e) => out.finding(api_finding(PREFIX, backend.name(), &label, &e)),
                Ok(m) => {
                    let total = m.probes.len();
                    let mut ps = Vec::new();
                    for (i, p) in m.probes.into_iter().enumerate() {
                        let Some(p) = perspective(p) else { continue };
                        if any_ok.len() <= i {
                            any_ok.resize(i + 1, None);
                        }
                        let e = any_ok[i].get_or_insert((p.place.clone(), false));
                        e.1 |= p.ok;
                        ps.push(p);
                    }
                    // With several nameservers, resolvers retry another one: one server's
                    // failures are a warning; the zone as a whole is judged below.
                    let cap = if several {
                        Severity::Warn
                    } else {
                        Severity::Fail
                    };
                    let (verdict, findings) = judge(PREFIX, &label, &ps, FIX, cap);
                    for f in findings {
                        out.finding(f);
                    }
                    for p in &ps {
                        out.evidence(
                            format!("{} from", ns.label()),
                            line(p),
                            Sensitivity::Hostname,
                        );
                    }
                    summary.push(verdict_text(&label, &verdict));
                    facts.targets.push(TargetFacts {
                        target: label,
                        measurements: vec![m.id],
                        no_result: total - ps.len(),
                        perspectives: ps,
                        verdict,
                    });
                }
            }
        }
        if several {
            let ps: Vec<Perspective> = any_ok
                .into_iter()
                .flatten()
                .map(|(place, ok)| Perspective {
                    place,
                    ok,
                    result: if ok {
                        "a nameserver answered".into()
                    } else {
                        "no nameserver answered".into()
                    },
                    mode: (!ok).then_some(Mode::Failure(crate::perspectives::Failure::Timeout)),
                    ms: None,
                    via: Vec::new(),
                    message: None,
                })
                .collect();
            let (verdict, findings) = judge(
                PREFIX,
                &format!("zone {zone} (any nameserver)"),
                &ps,
                FIX,
                Severity::Fail,
            );
            for f in findings
                .into_iter()
                .filter(|f| !f.code.ends_with("geo-block"))
            {
                if f.severity == Severity::Fail {
                    out.finding(f);
                }
            }
            summary.push(verdict_text(&format!("zone {zone}"), &verdict));
        }
    }
    out.finding(third_party(PREFIX, backend.as_ref(), &sent));
    out.summary = summary.join("; ");
    out.with_facts(facts)
}

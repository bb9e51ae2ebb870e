//! `dns.caa`: would the CA's CAA check let it issue for each name? Looks CAA up through the
//! resolver from the name up to the public suffix and evaluates the relevant set with
//! `crate::caa` against the CA's identities.

use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, RecordType};
use serde::Serialize;
use tokio::task::JoinSet;

use crate::caa::{self, CaaRecord, Reason, Request, Verdict};
use crate::checks::acme_directory::DirectoryFacts;
use crate::engine::{finding, BoxFuture, Check, Ctx, FindingExt, Outcome};
use crate::identifier::Identifier;
use crate::net::authoritative::{self, describe, fqdn};
use crate::net::dnssec::{Validator, Verdict as DnssecVerdict};
use crate::plan::Plan;
use crate::report::model::Sensitivity;

pub struct DnsCaa;

#[derive(Debug, Clone, Serialize)]
pub struct CaaFacts {
    pub identities: Vec<String>,
    /// Where the identities came from: the directory's meta.caaIdentities or the CA profile.
    pub identities_source: String,
    pub names: Vec<NameCaa>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NameCaa {
    pub name: String,
    pub wildcard: bool,
    /// Where the relevant record set sits, if any.
    pub relevant_at: Option<String>,
    pub records: Vec<String>,
    pub verdict: String,
}

impl Check for DnsCaa {
    fn id(&self) -> &'static str {
        "dns.caa"
    }

    fn applies(&self, plan: &Plan) -> Result<(), String> {
        if plan.identifiers.is_empty() {
            return Err("no domain or IP given".into());
        }
        if !plan
            .identifiers
            .iter()
            .any(|p| matches!(p.identifier, Identifier::Dns { .. }))
        {
            return Err("CAA applies to domain names; only IP addresses were given".into());
        }
        Ok(())
    }

    /// Waits for acme.directory's identities (its own deadline is 3 timeouts + 2 s) while the
    /// CAA lookups run.
    fn deadline(&self, plan: &Plan) -> Duration {
        plan.timeout * 4 + Duration::from_secs(3)
    }

    fn run(&self, ctx: Arc<Ctx>) -> BoxFuture<'static, Outcome> {
        Box::pin(async move { run(ctx).await })
    }
}

/// The CAA record set at each name of the climb, in climb order.
type Climb = Vec<(String, Result<Vec<CaaRecord>, String>)>;

async fn lookup(ctx: &Ctx, names: Vec<String>) -> Climb {
    let mut set = JoinSet::new();
    for (i, n) in names.iter().enumerate() {
        let servers = ctx.resolver.servers.clone();
        let timeout = ctx.plan.timeout;
        let n = n.clone();
        set.spawn(async move {
            let r = match fqdn(&n) {
                Err(e) => Err(e),
                Ok(q) => {
                    match authoritative::recursive(&servers, &q, RecordType::CAA, timeout).await {
                        Err(e) => Err(e.to_string()),
                        Ok(resp) => match resp.rcode() {
                            ResponseCode::NoError | ResponseCode::NXDomain => Ok(resp
                                .records(RecordType::CAA)
                                .iter()
                                .filter_map(|r| match r.data() {
                                    RData::CAA(c) => Some(CaaRecord {
                                        flags: c.flags(),
                                        tag: c.tag().as_str().to_string(),
                                        value: c.raw_value().to_vec(),
                                    }),
                                    _ => None,
                                })
                                .collect()),
                            _ => Err(format!("the resolver answered {}", describe(&resp))),
                        },
                    }
                }
            };
            (i, n, r)
        });
    }
    let mut out = Vec::new();
    while let Some(Ok(r)) = set.join_next().await {
        out.push(r);
    }
    out.sort_by_key(|(i, ..)| *i);
    out.into_iter().map(|(_, n, r)| (n, r)).collect()
}

/// The entry of a climb the CA acts on: the first non-empty set, or a failure before it.
fn decisive(climb: &Climb) -> Option<(&String, &Result<Vec<CaaRecord>, String>)> {
    climb
        .iter()
        .find(|(_, r)| !matches!(r, Ok(recs) if recs.is_empty()))
        .map(|(at, r)| (at, r))
}

async fn run(ctx: Arc<Ctx>) -> Outcome {
    let plan = ctx.plan.clone();
    let names: Vec<(String, bool)> = plan
        .identifiers
        .iter()
        .filter_map(|p| match &p.identifier {
            Identifier::Dns { name, wildcard } => Some((name.clone(), *wildcard)),
            Identifier::Ip { .. } => None,
        })
        .collect();
    let validator = Validator::new(&ctx.resolver.servers, &plan.dnssec_anchors, plan.timeout);
    let climbs = async {
        let mut out = Vec::new();
        // Each climb's lookups already run at once; names are few.
        for (name, _) in &names {
            let climb = lookup(&ctx, caa::climb(name)).await;
            // The CA's resolvers validate the CAA set they act on; a bogus one is a SERVFAIL.
            let dnssec = match decisive(&climb) {
                Some((at, Ok(_))) => match fqdn(at) {
                    Ok(q) => tokio::time::timeout(
                        plan.timeout * 2,
                        validator.validate(&q, RecordType::CAA),
                    )
                    .await
                    .unwrap_or(None),
                    Err(_) => None,
                },
                _ => None,
            };
            out.push((climb, dnssec));
        }
        out
    };
    let directory = ctx.facts_if_run::<DirectoryFacts>(
        "acme.directory",
        plan.timeout * 3 + Duration::from_secs(2),
    );
    let (climbs, directory) = tokio::join!(climbs, directory);
    let (identities, source) = match directory {
        Some(d) if !d.caa_identities.is_empty() => (
            d.caa_identities.clone(),
            format!("meta.caaIdentities of {}", d.url),
        ),
        _ => (
            plan.ca.caa_identities.clone(),
            format!("the {} CA profile", plan.ca.name),
        ),
    };

    let mut out = Outcome::new("");
    out.evidence(
        "CA identities",
        format!("{} (from {source})", identities.join(", ")),
        Sensitivity::Public,
    );
    let mut facts = CaaFacts {
        identities: identities.clone(),
        identities_source: source.clone(),
        names: Vec::new(),
    };
    let method = plan.challenge.label();
    let mut summary = Vec::new();
    for ((name, wildcard), (climb, dnssec)) in names.iter().zip(climbs) {
        let shown = if *wildcard {
            format!("*.{name}")
        } else {
            name.clone()
        };
        let mut nf = NameCaa {
            name: shown.clone(),
            wildcard: *wildcard,
            relevant_at: None,
            records: Vec::new(),
            verdict: String::new(),
        };
        // The relevant set is the first non-empty one; a failed lookup before it stops the
        // climb, as the CA cannot know what it would have said.
        let mut relevant: Option<(String, Vec<CaaRecord>)> = None;
        let mut failed: Option<(String, String)> = None;
        match decisive(&climb) {
            Some((at, Ok(recs))) => relevant = Some((at.clone(), recs.clone())),
            Some((at, Err(e))) => failed = Some((at.clone(), e.clone())),
            None => {}
        }
        if let Some((at, e)) = failed {
            out.finding(finding(
                "dns.caa.lookup-failed",
                format!("CAA lookup for {at} (for {shown}) failed: {e}; the CA refuses to issue when CAA cannot be checked"),
            ));
            nf.verdict = format!("lookup failed at {at}");
            summary.push(format!("{shown}: CAA lookup failed"));
            facts.names.push(nf);
            continue;
        }
        let Some((at, recs)) = relevant else {
            nf.verdict = "no CAA records: any CA may issue".into();
            summary.push(format!("{shown}: no CAA records"));
            facts.names.push(nf);
            continue;
        };
        nf.relevant_at = Some(at.clone());
        nf.records = recs.iter().map(|r| r.display(&at)).collect();
        out.evidence(
            format!("CAA at {at}"),
            nf.records.join(" | "),
            Sensitivity::Public,
        );
        match &dnssec {
            Some(DnssecVerdict::Bogus(why)) => {
                out.finding(finding(
                    "dns.caa.dnssec-bogus",
                    format!("{shown}: the CAA records at {at} fail DNSSEC validation: {why}; the CA's validating resolvers get SERVFAIL and the CA refuses to issue"),
                ));
                nf.verdict = format!("CAA at {at} is DNSSEC-bogus");
                summary.push(format!("{shown}: CAA at {at} fails DNSSEC"));
                facts.names.push(nf);
                continue;
            }
            Some(v) => out.evidence(
                format!("CAA at {at} DNSSEC"),
                v.to_string(),
                Sensitivity::Public,
            ),
            None => {}
        }
        if identities.is_empty() {
            out.finding(finding(
                "dns.caa.no-identities",
                format!(
                    "{shown}: CAA records at {at} ({}) restrict issuance, but this CA publishes no CAA identity (no meta.caaIdentities), so they cannot be checked",
                    nf.records.join(", ")
                ),
            ));
            nf.verdict = "not evaluated: CA identities unknown".into();
            summary.push(format!("{shown}: CAA at {at} not evaluated"));
            facts.names.push(nf);
            continue;
        }
        let verdict = caa::evaluate(
            &at,
            &recs,
            &Request {
                identities: &identities,
                wildcard: *wildcard,
                method,
            },
        );
        match &verdict {
            Verdict::NoRecords => unreachable!("the relevant set is not empty"),
            Verdict::Permitted {
                record,
                accounturi,
                unrestricted,
                ..
            } => {
                nf.verdict = if *unrestricted {
                    format!("permitted: no issue property at {at}")
                } else {
                    format!("permitted by {record}")
                };
                summary.push(format!("{shown}: {}", nf.verdict));
                if let Some(acct) = accounturi {
                    out.finding(
                        finding(
                            "dns.caa.account-bound",
                            format!("{shown}: {record} lets only the ACME account {acct} issue; other accounts (a new client install, another server) will be refused"),
                        )
                        .with("accounturi", acct.clone(), Sensitivity::Public),
                    );
                }
            }
            Verdict::Forbidden {
                reason,
                records,
                fix,
                ..
            } => {
                let (code, why) = match reason {
                    Reason::CriticalUnknown { tag } => (
                        "dns.caa.critical-unknown",
                        format!("{} has the critical flag on the unknown tag {tag:?}, which forbids issuance by every CA", records.join(", ")),
                    ),
                    Reason::NotListed { issuers } if issuers.is_empty() => (
                        "dns.caa.forbidden",
                        format!("{} forbids issuance by every CA", records.join(", ")),
                    ),
                    Reason::NotListed { issuers } => (
                        "dns.caa.forbidden",
                        format!(
                            "{} allow(s) only {}, not {}",
                            records.join(", "),
                            issuers.join(", "),
                            identities.join(" / ")
                        ),
                    ),
                    Reason::MethodNotAllowed { allowed } => (
                        "dns.caa.method-forbidden",
                        format!(
                            "{} allow(s) {} only with validationmethods {}, not {method}",
                            records.join(", "),
                            identities[0],
                            allowed.join(",")
                        ),
                    ),
                };
                out.finding(finding(code, format!("{shown}: {why}. Fix: {fix}")).with(
                    "record to add",
                    fix.clone(),
                    Sensitivity::Public,
                ));
                nf.verdict = format!("forbidden: {why}");
                summary.push(format!("{shown}: forbidden by CAA at {at}"));
            }
        }
        facts.names.push(nf);
    }
    out.summary = summary.join("; ");
    out.with_facts(facts)
}

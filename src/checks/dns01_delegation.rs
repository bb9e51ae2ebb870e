//! `dns01.delegation`: where the dns-01 TXT record for each name will live (following an
//! `_acme-challenge` CNAME, acme-dns style), and whether every nameserver of that zone answers
//! over UDP and TCP with the same TXT records.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use serde::Serialize;
use tokio::task::JoinSet;

use crate::checks::zone_servers;
use crate::engine::{finding, BoxFuture, Check, Ctx, Outcome};
use crate::identifier::Identifier;
use crate::net::authoritative::{self, describe, fqdn, show, ZoneLookup};
use crate::net::dnssec::{Validator, Verdict};
use crate::net::nameservers::{self, NameServer, Problem};
use crate::plan::{Challenge, Plan};
use crate::report::model::{Evidence, Finding, Sensitivity};

pub struct Dns01Delegation;

const CODES: zone_servers::Codes = zone_servers::Codes {
    not_checked: "dns01.delegation.ns-not-checked",
    no_nameservers: "dns01.delegation.no-nameservers",
    no_address: "dns01.delegation.no-nameservers",
    problem: |p| match p {
        Problem::Timeout | Problem::Refused | Problem::Unreachable => {
            "dns01.delegation.ns-unreachable"
        }
        Problem::Lame | Problem::ServFail | Problem::Malformed => "dns01.delegation.ns-failing",
    },
};

#[derive(Debug, Clone, Serialize, Default)]
pub struct Delegation {
    pub owner: String,
    pub cname_chain: Vec<String>,
    /// Where the TXT record must be created.
    pub target: String,
    pub zone: Option<String>,
    pub nameservers: Vec<NameServer>,
    pub existing_txt: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Dns01Facts {
    pub names: Vec<Delegation>,
}

impl Check for Dns01Delegation {
    fn id(&self) -> &'static str {
        "dns01.delegation"
    }

    fn applies(&self, plan: &Plan) -> Result<(), String> {
        if plan.identifiers.is_empty() {
            return Err("no domain or IP given".into());
        }
        let wildcard = plan
            .identifiers
            .iter()
            .any(|p| matches!(p.identifier, Identifier::Dns { wildcard: true, .. }));
        if plan.challenge != Challenge::Dns01 && !wildcard {
            return Err(format!(
                "the plan uses {}, not dns-01, and has no wildcard",
                plan.challenge.label()
            ));
        }
        if !plan
            .identifiers
            .iter()
            .any(|p| matches!(p.identifier, Identifier::Dns { .. }))
        {
            return Err("dns-01 applies to domain names; only IP addresses were given".into());
        }
        Ok(())
    }

    /// The CNAME lookup, the zone climb and the NS lookups run one after another.
    fn deadline(&self, plan: &Plan) -> Duration {
        plan.timeout * 6 + Duration::from_secs(1)
    }

    fn run(&self, ctx: Arc<Ctx>) -> BoxFuture<'static, Outcome> {
        Box::pin(async move { run(ctx).await })
    }
}

struct Report {
    findings: Vec<Finding>,
    evidence: Vec<Evidence>,
    facts: Delegation,
}

async fn run(ctx: Arc<Ctx>) -> Outcome {
    let mut tasks = JoinSet::new();
    let mut n = 0;
    let mut seen: Vec<&String> = Vec::new();
    for p in &ctx.plan.identifiers {
        if let Identifier::Dns { name, .. } = &p.identifier {
            // *.example.com and example.com share _acme-challenge.example.com.
            if seen.contains(&name) {
                continue;
            }
            seen.push(name);
            let ctx = ctx.clone();
            let name = name.clone();
            let i = n;
            n += 1;
            tasks.spawn(async move { (i, check_name(&ctx, &name).await) });
        }
    }
    let mut reports = Vec::new();
    while let Some(Ok(r)) = tasks.join_next().await {
        reports.push(r);
    }
    reports.sort_by_key(|(i, _)| *i);
    let mut out = Outcome::new("");
    let mut facts = Dns01Facts::default();
    let mut parts = Vec::new();
    for (_, r) in reports {
        out.findings.extend(r.findings);
        out.evidence.extend(r.evidence);
        parts.push(match &r.facts.zone {
            Some(zone) => format!(
                "TXT for {} goes at {} in zone {zone} ({} nameserver address(es))",
                r.facts.owner,
                r.facts.target,
                r.facts.nameservers.len()
            ),
            None => format!(
                "{}: the zone for the TXT record was not found",
                r.facts.owner
            ),
        });
        facts.names.push(r.facts);
    }
    out.summary = parts.join("; ");
    out.with_facts(facts)
}

async fn check_name(ctx: &Ctx, name: &str) -> Report {
    let plan = &ctx.plan;
    let resolver = ctx.resolver.description.clone();
    let owner_s = format!("_acme-challenge.{name}");
    let mut rep = Report {
        findings: Vec::new(),
        evidence: Vec::new(),
        facts: Delegation {
            owner: owner_s.clone(),
            target: owner_s.clone(),
            ..Default::default()
        },
    };
    let Ok(owner) = fqdn(&owner_s) else {
        return rep;
    };
    let resp = match authoritative::recursive(
        &ctx.resolver.servers,
        &owner,
        RecordType::TXT,
        plan.timeout,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => {
            rep.findings.push(finding(
                "dns01.delegation.lookup-failed",
                format!("TXT {owner_s} through {resolver}: {e}"),
            ));
            return rep;
        }
    };
    if !matches!(resp.rcode(), ResponseCode::NoError | ResponseCode::NXDomain) {
        rep.findings.push(finding(
            "dns01.delegation.lookup-failed",
            format!("TXT {owner_s} through {resolver}: {}", describe(&resp)),
        ));
        return rep;
    }
    let chain = resp.cname_chain(&owner);
    let target = chain.last().cloned().unwrap_or_else(|| owner.clone());
    rep.facts.cname_chain = chain.iter().map(show).collect();
    rep.facts.target = show(&target);
    if !chain.is_empty() {
        rep.findings.push(finding(
            "dns01.delegation.cname",
            format!(
                "{owner_s} is delegated by CNAME: {owner_s} → {}; the TXT record must be created at {} (acme-dns style), not in the zone of {name}",
                rep.facts.cname_chain.join(" → "),
                rep.facts.target
            ),
        ));
    }

    let zone = match authoritative::find_zone(&ctx.resolver.servers, &target, plan.timeout).await {
        ZoneLookup::Found(z) => z,
        ZoneLookup::Failed { at, error } => {
            rep.findings.push(finding(
                "dns01.delegation.no-zone",
                format!(
                    "cannot find the zone that holds {}: SOA {} through {resolver}: {error}",
                    rep.facts.target,
                    show(&at)
                ),
            ));
            return rep;
        }
        ZoneLookup::Unsupported { at } => {
            rep.findings.push(finding(
                "dns01.delegation.ns-not-checked",
                format!(
                    "{resolver} answered NOTIMP to SOA {}: the zone that holds {} cannot be found through it, so its nameservers were not asked",
                    show(&at),
                    rep.facts.target
                ),
            ));
            return rep;
        }
        ZoneLookup::NotFound => {
            rep.findings.push(finding(
                "dns01.delegation.no-zone",
                format!(
                    "no zone (SOA) found for {} or any parent through {resolver}",
                    rep.facts.target
                ),
            ));
            return rep;
        }
    };
    rep.facts.zone = Some(show(&zone));
    let validator = Validator::new(&ctx.resolver.servers, &plan.dnssec_anchors, plan.timeout);
    let (discovery, dnssec) = tokio::join!(
        nameservers::discover(&ctx.resolver, &zone, plan.family, plan.timeout),
        tokio::time::timeout(plan.timeout * 3, validator.zone(&zone)),
    );
    match dnssec {
        Ok(Verdict::Bogus(why)) => rep.findings.push(finding(
            "dns01.delegation.dnssec-bogus",
            format!(
                "zone {} (holds the TXT for {name}) fails DNSSEC validation: {why}; the CA's validating resolvers will answer SERVFAIL to the TXT lookup",
                show(&zone)
            ),
        )),
        Ok(v) => rep.evidence.push(Evidence::new(
            format!("zone {} DNSSEC", show(&zone)),
            v.to_string(),
            Sensitivity::Hostname,
        )),
        Err(_) => {}
    }
    let zone_shown = show(&zone);
    let subject = format!("zone {zone_shown} (holds the TXT for {name})");
    let z = zone_servers::Zone {
        zone: &zone_shown,
        subject: &subject,
        not_asked: "its nameservers were not asked",
    };
    let servers = zone_servers::servers(
        discovery,
        &z,
        &resolver,
        &CODES,
        &mut rep.findings,
        &mut rep.evidence,
    );
    rep.facts.nameservers = servers.clone();
    if servers.is_empty() {
        return rep;
    }
    let queries = [(target.clone(), RecordType::TXT)];
    let probes = nameservers::probe(&servers, plan.dns_port, &queries, plan.timeout).await;
    rep.findings
        .extend(zone_servers::problems(&probes, &z, plan.dns_port, &CODES));

    let mut views: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for p in probes.iter().filter(|p| p.problem().is_none()) {
        if let Some(resp) = p.response(&target, RecordType::TXT) {
            let txt: Vec<String> = nameservers::rrset(resp, RecordType::TXT)
                .into_iter()
                .filter(|r| r.starts_with("TXT"))
                .collect();
            views.entry(txt).or_default().push(p.label());
        }
    }
    if views.len() > 1 {
        let described: Vec<String> = views
            .iter()
            .map(|(txt, who)| {
                format!(
                    "{} have [{}]",
                    who.join(", "),
                    if txt.is_empty() {
                        "no TXT".to_string()
                    } else {
                        txt.join(", ")
                    }
                )
            })
            .collect();
        rep.findings.push(finding(
            "dns01.delegation.txt-out-of-sync",
            format!(
                "the nameservers of {} disagree about TXT {}: {}",
                show(&zone),
                rep.facts.target,
                described.join(" but ")
            ),
        ));
    } else if let Some((txt, _)) = views.iter().next() {
        if !txt.is_empty() {
            rep.facts.existing_txt = txt.clone();
            rep.findings.push(finding(
                "dns01.delegation.existing-txt",
                format!(
                    "{} already has {} on every nameserver: {}",
                    rep.facts.target,
                    txt.len(),
                    txt.join(", ")
                ),
            ));
        }
    }
    rep
}

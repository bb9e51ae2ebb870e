//! `dns.domain`: the user's names as the CA's resolvers will see them: the recursive answer
//! (CNAMEs, NXDOMAIN, reserved addresses) and every authoritative nameserver asked directly over
//! UDP and TCP (lame, unreachable, failing or out-of-sync servers).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::rr::{RData, RecordType};
use serde::Serialize;
use tokio::task::JoinSet;

use crate::checks::acme_directory::DirectoryFacts;
use crate::checks::zone_servers;
use crate::engine::{finding, BoxFuture, Check, Ctx, FindingExt, Outcome};
use crate::identifier::Identifier;
use crate::net::addr::{special_purpose, Special};
use crate::net::authoritative::{self, fqdn, show, ZoneLookup};
use crate::net::dns::DnsError;
use crate::net::dnssec::{Validator, Verdict};
use crate::net::nameservers::{self, NameServer, Problem};
use crate::plan::{Challenge, IpFamily, Plan};
use crate::report::model::{Evidence, Finding, Sensitivity, Severity};

pub struct DnsDomain;

const CODES: zone_servers::Codes = zone_servers::Codes {
    not_checked: "dns.domain.ns-not-checked",
    no_nameservers: "dns.domain.no-nameservers",
    no_address: "dns.domain.ns-no-address",
    problem: |p| match p {
        Problem::Timeout => "dns.domain.ns-timeout",
        Problem::Refused | Problem::Unreachable => "dns.domain.ns-unreachable",
        Problem::Lame => "dns.domain.ns-lame",
        Problem::ServFail | Problem::Malformed => "dns.domain.ns-servfail",
    },
};

#[derive(Debug, Clone, Serialize, Default)]
pub struct NameFacts {
    pub name: String,
    pub registered_domain: Option<String>,
    pub zone: Option<String>,
    pub cname_chain: Vec<String>,
    pub addrs: Vec<IpAddr>,
    pub nameservers: Vec<NameServer>,
    /// SOA serial per server (UDP answers).
    pub serials: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct DnsDomainFacts {
    pub names: Vec<NameFacts>,
}

impl Check for DnsDomain {
    fn id(&self) -> &'static str {
        "dns.domain"
    }

    fn applies(&self, plan: &Plan) -> Result<(), String> {
        if plan.identifiers.is_empty() {
            return Err("no domain or IP given".into());
        }
        Ok(())
    }

    /// Zone discovery climbs label by label and NS addresses follow the NS lookup, so a few
    /// operations run one after another before the servers are asked all at once.
    fn deadline(&self, plan: &Plan) -> Duration {
        plan.timeout * 6 + Duration::from_secs(1)
    }

    fn run(&self, ctx: Arc<Ctx>) -> BoxFuture<'static, Outcome> {
        Box::pin(async move { run(ctx).await })
    }
}

struct NameReport {
    findings: Vec<Finding>,
    evidence: Vec<Evidence>,
    facts: NameFacts,
}

async fn run(ctx: Arc<Ctx>) -> Outcome {
    let plan = ctx.plan.clone();
    let mut out = Outcome::new("");
    let mut tasks = JoinSet::new();
    let mut order = Vec::new();
    for p in &plan.identifiers {
        match &p.identifier {
            Identifier::Ip { addr } => {
                if plan.challenge == Challenge::Dns01 {
                    out.finding(finding(
                        "dns.domain.ip-with-dns01",
                        format!("{addr} is an IP address: dns-01 cannot validate IP identifiers (RFC 8738); use --challenge http-01 or tls-alpn-01"),
                    ));
                }
                address_findings(&addr.to_string(), &[*addr], &mut out.findings);
            }
            Identifier::Dns { name, wildcard } => {
                if *wildcard && plan.challenge != Challenge::Dns01 {
                    out.finding(finding(
                        "dns.domain.wildcard-needs-dns01",
                        format!(
                            "*.{name} is a wildcard: the CA only validates wildcards with dns-01, not {}",
                            plan.challenge.label()
                        ),
                    ));
                }
                // *.example.com and example.com look up the same name: once is enough.
                if order.contains(name) {
                    continue;
                }
                order.push(name.clone());
                let ctx = ctx.clone();
                let name = name.clone();
                let i = order.len() - 1;
                tasks.spawn(async move { (i, check_name(&ctx, &name).await) });
            }
        }
    }
    let ips: Vec<String> = plan
        .identifiers
        .iter()
        .filter_map(|p| match &p.identifier {
            Identifier::Ip { addr } => Some(addr.to_string()),
            Identifier::Dns { .. } => None,
        })
        .collect();
    if !ips.is_empty() {
        ip_profile(&ctx, &ips, &mut out).await;
    }
    let mut reports: Vec<(usize, NameReport)> = Vec::new();
    while let Some(j) = tasks.join_next().await {
        if let Ok(r) = j {
            reports.push(r);
        }
    }
    reports.sort_by_key(|(i, _)| *i);
    let mut facts = DnsDomainFacts::default();
    let mut parts = Vec::new();
    for (_, r) in reports {
        out.findings.extend(r.findings);
        out.evidence.extend(r.evidence);
        parts.push(format!(
            "{}: {} address(es), {} nameserver address(es) asked over UDP and TCP",
            r.facts.name,
            r.facts.addrs.len(),
            r.facts.nameservers.len()
        ));
        facts.names.push(r.facts);
    }
    out.summary = if parts.is_empty() {
        "no DNS names to look up (IP identifiers only)".into()
    } else {
        parts.join("; ")
    };
    out.with_facts(facts)
}

/// The profile Let's Encrypt issues IP-address certificates under (its only one that allows
/// them, with a lifetime of about six days).
const IP_PROFILE: &str = "shortlived";

/// IP identifiers need a profile that allows them: is it in the directory's `meta.profiles`?
async fn ip_profile(ctx: &Ctx, ips: &[String], out: &mut Outcome) {
    let plan = &ctx.plan;
    let ips = ips.join(", ");
    let dir = ctx
        .facts_if_run::<DirectoryFacts>("acme.directory", plan.timeout * 3 + Duration::from_secs(2))
        .await;
    let Some(d) = dir else {
        out.evidence(
            "IP certificate profile",
            "not checked: acme.directory did not read the CA's directory",
            Sensitivity::Public,
        );
        return;
    };
    let advertised = if d.profiles.is_empty() {
        "no profiles (no meta.profiles)".to_string()
    } else {
        format!("the profiles {}", d.profiles.join(", "))
    };
    let request =
        format!("certbot --required-profile {IP_PROFILE}; lego run --profile {IP_PROFILE}");
    let f = if d.profiles.iter().any(|p| p == IP_PROFILE) {
        finding(
            "dns.domain.ip-profile",
            format!("{ips}: {} advertises the {IP_PROFILE} profile, which IP-address certificates need; request it ({request})", d.url),
        )
        .severity(Severity::Info)
    } else if plan.ca.name.starts_with("letsencrypt")
        || d.caa_identities.iter().any(|i| i == "letsencrypt.org")
    {
        finding(
            "dns.domain.ip-profile",
            format!("{ips}: Let's Encrypt issues IP-address certificates only under the {IP_PROFILE} profile, and {} advertises {advertised}", d.url),
        )
    } else {
        finding(
            "dns.domain.ip-profile",
            format!("{ips}: {} advertises {advertised}; whether {} issues IP-address certificates, and under which profile, is the CA's documentation's to say", d.url, plan.ca.display),
        )
        .severity(Severity::Info)
    };
    out.finding(f);
}

fn address_findings(name: &str, addrs: &[IpAddr], findings: &mut Vec<Finding>) {
    let mut reserved = Vec::new();
    let mut docs = Vec::new();
    for ip in addrs {
        match special_purpose(ip) {
            Some(Special::Reserved(r)) => reserved.push(format!("{ip} ({r})")),
            Some(Special::Documentation(r)) => docs.push(format!("{ip} ({r})")),
            None => {}
        }
    }
    if !reserved.is_empty() {
        findings.push(
            finding(
                "dns.domain.reserved-address",
                format!(
                    "{name} points to {}: the CA refuses to validate against non-public addresses",
                    reserved.join(", ")
                ),
            )
            .with("addresses", reserved.join(", "), Sensitivity::PrivateIp),
        );
    }
    if !docs.is_empty() {
        findings.push(
            finding(
                "dns.domain.documentation-address",
                format!(
                    "{name} points to {}: a documentation range, fine in a test lab, refused by a public CA",
                    docs.join(", ")
                ),
            )
            .with("addresses", docs.join(", "), Sensitivity::Public),
        );
    }
}

async fn check_name(ctx: &Ctx, name: &str) -> NameReport {
    let plan = &ctx.plan;
    let mut rep = NameReport {
        findings: Vec::new(),
        evidence: Vec::new(),
        facts: NameFacts {
            name: name.to_string(),
            registered_domain: psl::domain_str(name).map(str::to_string),
            ..Default::default()
        },
    };
    let Ok(qname) = fqdn(name) else {
        // The identifier parser already rejects such names; nothing to ask about.
        return rep;
    };
    let resolver = ctx.resolver.description.clone();
    let want = |fam: IpFamily| plan.family != fam;
    let validator = Validator::new(&ctx.resolver.servers, &plan.dnssec_anchors, plan.timeout);
    let (a, aaaa, zone, dnssec) = tokio::join!(
        async {
            if want(IpFamily::V6Only) {
                Some(ctx.resolver.addrs(name, RecordType::A).await)
            } else {
                None
            }
        },
        async {
            if want(IpFamily::V4Only) {
                Some(ctx.resolver.addrs(name, RecordType::AAAA).await)
            } else {
                None
            }
        },
        authoritative::find_zone(&ctx.resolver.servers, &qname, plan.timeout),
        validate(&validator, &qname, plan),
    );
    if let Some(v) = &dnssec {
        rep.evidence.push(Evidence::new(
            format!("{name} DNSSEC"),
            v.to_string(),
            Sensitivity::Hostname,
        ));
    }

    // The recursive view: what the CA's resolver will hand its validators.
    let mut errors: Vec<(&str, DnsError)> = Vec::new();
    for (label, r) in [("A", a), ("AAAA", aaaa)] {
        match r {
            Some(Ok(ans)) => {
                if rep.facts.cname_chain.is_empty() {
                    rep.facts.cname_chain = ans.cname_chain.clone();
                }
                rep.facts.addrs.extend(ans.addrs);
            }
            Some(Err(e)) => errors.push((label, e)),
            None => {}
        }
    }
    if !rep.facts.cname_chain.is_empty() {
        rep.evidence.push(Evidence::new(
            format!("{name} CNAME chain"),
            format!("{name} → {}", rep.facts.cname_chain.join(" → ")),
            Sensitivity::Hostname,
        ));
    }
    for ip in &rep.facts.addrs {
        rep.evidence.push(Evidence::new(
            format!("{name} {}", if ip.is_ipv4() { "A" } else { "AAAA" }),
            ip.to_string(),
            // The domain's own addresses: strict redaction hides them with the domain.
            if crate::net::addr::non_public_range(ip).is_some() {
                Sensitivity::PrivateIp
            } else {
                Sensitivity::DomainAddress
            },
        ));
    }
    let via = if rep.facts.cname_chain.is_empty() {
        String::new()
    } else {
        format!(" (via CNAME {})", rep.facts.cname_chain.join(" → "))
    };
    let needs_addrs = plan.challenge != Challenge::Dns01;
    // When the resolver itself fails, the zone lookup through it fails too; say it once.
    let resolver_failed = errors
        .iter()
        .any(|(_, e)| e.is_timeout() || matches!(e, DnsError::Unreachable { .. }));
    let bogus = match errors.iter().find(|(_, e)| *e == DnsError::ServFail) {
        Some((t, _)) => {
            let rtype = if *t == "A" {
                RecordType::A
            } else {
                RecordType::AAAA
            };
            dnssec_failure(ctx, &qname, rtype).await
        }
        None => None,
    };
    let own_bogus = match &dnssec {
        Some(Verdict::Bogus(why)) => Some(why),
        _ => None,
    };
    // A validating resolver fails every lookup in a bogus zone, the SOA lookup that finds the
    // zone too: that is the same failure, said once.
    let dnssec_failed = own_bogus.is_some() || bogus.is_some();
    if dnssec_failed {
        let summary = match (own_bogus, &bogus) {
            (Some(why), Some(at_resolver)) => {
                format!("{name}: DNSSEC validation fails: {why} (the resolver {resolver} agrees: {at_resolver})")
            }
            (Some(why), None) => format!(
                "{name}: DNSSEC validation fails: {why}; {resolver} does not validate and answered anyway, but the CA's validating resolvers will answer SERVFAIL"
            ),
            (None, Some(at_resolver)) => format!(
                "{name}: DNSSEC validation fails at {resolver}: {at_resolver}{}",
                match &dnssec {
                    Some(v) => format!(" (acme-doctor's own validation: {v})"),
                    None => String::new(),
                }
            ),
            (None, None) => unreachable!("one of the two is set"),
        };
        rep.findings
            .push(finding("dns.domain.dnssec-bogus", summary));
    } else if errors.iter().any(|(_, e)| *e == DnsError::NxDomain) {
        rep.findings.push(
            finding(
                "dns.domain.nxdomain",
                format!("{name}{via} does not exist: NXDOMAIN from {resolver}"),
            )
            .severity(if needs_addrs {
                Severity::Fail
            } else {
                Severity::Warn
            }),
        );
    } else {
        let hard: Vec<String> = errors
            .iter()
            .filter(|(_, e)| !matches!(e, DnsError::NoRecords { .. }))
            .map(|(t, e)| format!("{t} {name}: {e}"))
            .collect();
        if !hard.is_empty() {
            rep.findings.push(
                finding(
                    "dns.domain.resolver-error",
                    format!("{} (resolver {resolver})", hard.join("; ")),
                )
                .severity(if rep.facts.addrs.is_empty() {
                    Severity::Fail
                } else {
                    Severity::Warn
                }),
            );
        } else if rep.facts.addrs.is_empty() {
            let mut f = finding(
                "dns.domain.no-address",
                format!(
                    "{name}{via} has no A or AAAA record (NOERROR, empty answers from {resolver})"
                ),
            );
            if !needs_addrs {
                f = f
                    .severity(Severity::Info)
                    .detail("dns-01 does not connect to the name, so no address is needed.");
            }
            rep.findings.push(f);
        }
    }
    address_findings(name, &rep.facts.addrs, &mut rep.findings);

    // The authoritative view: every server of the zone, over both transports.
    let zone = match zone {
        ZoneLookup::Found(z) => z,
        ZoneLookup::Failed { .. } if resolver_failed || dnssec_failed => return rep,
        ZoneLookup::Failed { at, error } => {
            rep.findings.push(finding(
                "dns.domain.no-nameservers",
                format!(
                    "cannot find the zone of {name}: SOA {} through {resolver}: {error}",
                    show(&at)
                ),
            ));
            return rep;
        }
        ZoneLookup::Unsupported { at } => {
            rep.findings.push(finding(
                "dns.domain.ns-not-checked",
                format!(
                    "{resolver} answered NOTIMP to SOA {}: the zone of {name} and its nameservers cannot be found through it, so only the recursive answers were checked",
                    show(&at)
                ),
            ));
            return rep;
        }
        ZoneLookup::NotFound => {
            rep.findings.push(finding(
                "dns.domain.no-nameservers",
                format!("no zone (SOA) found for {name} or any parent through {resolver}"),
            ));
            return rep;
        }
    };
    rep.facts.zone = Some(show(&zone));
    let zone_shown = show(&zone);
    let subject = format!("zone {zone_shown} of {name}");
    let z = zone_servers::Zone {
        zone: &zone_shown,
        subject: &subject,
        not_asked: "only the recursive answers were checked",
    };
    let discovery = nameservers::discover(&ctx.resolver, &zone, plan.family, plan.timeout).await;
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
    let mut queries = vec![(zone.clone(), RecordType::SOA)];
    if plan.family != IpFamily::V6Only {
        queries.push((qname.clone(), RecordType::A));
    }
    if plan.family != IpFamily::V4Only {
        queries.push((qname.clone(), RecordType::AAAA));
    }
    // Some old or broken servers fail CAA queries (type 257), which makes the CA refuse.
    queries.push((qname.clone(), RecordType::CAA));
    let probes = nameservers::probe(&servers, plan.dns_port, &queries, plan.timeout).await;

    let problems_subject = format!("zone {zone_shown} (for {name})");
    rep.findings.extend(zone_servers::problems(
        &probes,
        &zone_servers::Zone {
            subject: &problems_subject,
            ..z
        },
        plan.dns_port,
        &CODES,
    ));

    // Out of sync: healthy servers that disagree on the serial or the addresses.
    let mut views: BTreeMap<Vec<(String, String)>, Vec<&nameservers::Probe>> = BTreeMap::new();
    for p in probes.iter().filter(|p| p.problem().is_none()) {
        let mut view = Vec::new();
        for (n, t) in &queries {
            if let Some(resp) = p.response(n, *t) {
                if *t == RecordType::SOA {
                    if let Some(RData::SOA(soa)) =
                        resp.records(RecordType::SOA).first().map(|r| r.data())
                    {
                        rep.facts.serials.insert(p.server.label(), soa.serial());
                    }
                }
                let set = nameservers::rrset(resp, *t);
                view.push((
                    t.to_string(),
                    if set.is_empty() {
                        "none".to_string()
                    } else {
                        set.join(", ")
                    },
                ));
            }
        }
        views.entry(view).or_default().push(p);
    }
    if views.len() > 1 {
        rep.findings.push(finding(
            "dns.domain.out-of-sync",
            format!(
                "the nameservers of {} disagree about {name}: {}; the CA's resolver asks any one of them, so validation depends on which",
                show(&zone),
                describe_disagreement(&views)
            ),
        ));
    }
    rep
}

/// "ns1 (addr) say [SOA: …; A: …] but ns2 (addr) say [...]": only the record types on which
/// the groups differ, and a server once when its UDP and TCP answers agree.
fn describe_disagreement(
    views: &BTreeMap<Vec<(String, String)>, Vec<&nameservers::Probe>>,
) -> String {
    let value = |view: &Vec<(String, String)>, t: &str| {
        view.iter()
            .find(|(k, _)| k == t)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| "no answer".into())
    };
    let mut types: Vec<String> = Vec::new();
    for view in views.keys() {
        for (t, _) in view {
            if !types.contains(t) {
                types.push(t.clone());
            }
        }
    }
    let differing: Vec<&String> = types
        .iter()
        .filter(|t| {
            let mut seen: Vec<String> = views.keys().map(|v| value(v, t)).collect();
            seen.dedup();
            seen.len() > 1
        })
        .collect();
    views
        .iter()
        .map(|(view, probes)| {
            let mut who: Vec<String> = Vec::new();
            for p in probes {
                let both = probes.iter().filter(|q| q.server == p.server).count() > 1;
                let label = if both { p.server.label() } else { p.label() };
                if !who.contains(&label) {
                    who.push(label);
                }
            }
            let what: Vec<String> = differing
                .iter()
                .map(|t| format!("{t}: {}", value(view, t)))
                .collect();
            format!("{} say [{}]", who.join(", "), what.join("; "))
        })
        .collect::<Vec<_>>()
        .join(" but ")
}

/// Validates the name's addresses (A, or AAAA when A has none or IPv4 is off) up to a trust
/// anchor. The chain is walked one zone after another, so it gets its own overall bound.
async fn validate(
    v: &Validator<'_>,
    qname: &hickory_proto::rr::Name,
    plan: &Plan,
) -> Option<Verdict> {
    let bound = plan.timeout * 4;
    let work = async {
        let mut last = None;
        for (t, skip) in [
            (RecordType::A, plan.family == IpFamily::V6Only),
            (RecordType::AAAA, plan.family == IpFamily::V4Only),
        ] {
            if skip {
                continue;
            }
            match v.validate(qname, t).await {
                Some(Verdict::Bogus(why)) => return Some(Verdict::Bogus(why)),
                Some(other) if last.is_none() => last = Some(other),
                _ => {}
            }
        }
        last
    };
    match tokio::time::timeout(bound, work).await {
        Ok(v) => v,
        Err(_) => Some(Verdict::Indeterminate(format!(
            "the chain of trust was not fetched within {} s",
            bound.as_secs()
        ))),
    }
}

/// Tells a DNSSEC failure from another SERVFAIL the way `dig +cd` does: a validating resolver
/// that fails the query but answers it with checking disabled (CD) found the signatures bogus.
/// The reason comes from the resolver's Extended DNS Errors (RFC 8914) when it sends them.
/// `validate` says what acme-doctor itself finds in the chain.
async fn dnssec_failure(
    ctx: &Ctx,
    name: &hickory_proto::rr::Name,
    rtype: RecordType,
) -> Option<String> {
    let servers = &ctx.resolver.servers;
    let timeout = ctx.plan.timeout;
    let (checked, unchecked) = tokio::join!(
        authoritative::recursive_with(servers, name, rtype, false, timeout),
        authoritative::recursive_with(servers, name, rtype, true, timeout),
    );
    let checked = checked.ok()?;
    if checked.rcode() != hickory_proto::op::ResponseCode::ServFail {
        return None;
    }
    let ede: Vec<String> = authoritative::extended_errors(&checked.message)
        .iter()
        .filter(|e| e.is_dnssec())
        .map(|e| e.to_string())
        .collect();
    let passes_unchecked = unchecked.is_ok_and(|u| {
        matches!(
            u.rcode(),
            hickory_proto::op::ResponseCode::NoError | hickory_proto::op::ResponseCode::NXDomain
        )
    });
    match (ede.is_empty(), passes_unchecked) {
        (false, _) => Some(format!(
            "SERVFAIL for {rtype} with {}{}",
            ede.join("; "),
            if passes_unchecked {
                "; with checking disabled (CD) the answer comes back"
            } else {
                ""
            }
        )),
        (true, true) => Some(format!(
            "SERVFAIL for {rtype}, but the answer comes back with checking disabled (CD): the signatures do not validate (the resolver sent no Extended DNS Error with the exact reason)"
        )),
        (true, false) => None,
    }
}

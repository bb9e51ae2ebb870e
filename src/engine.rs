//! The check runner: every check starts at once, waits for the facts it needs, and runs under
//! its own deadline. A failed dependency skips its dependants with the reason; a panic becomes
//! `crashed`; the report keeps catalogue order whatever order checks finish in.

use std::any::Any;
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::catalogue::Catalogue;
use crate::net::dns::Resolver;
use crate::plan::Plan;
use crate::report::model::{CheckReport, Evidence, Finding, Sensitivity, Severity, Status};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One diagnostic check. Its id names its catalogue file and module.
pub trait Check: Send + Sync {
    fn id(&self) -> &'static str;
    /// Ids of the checks whose facts this one needs.
    fn needs(&self) -> &'static [&'static str] {
        &[]
    }
    /// `Err(reason)` when the check does not apply to this plan.
    fn applies(&self, _plan: &Plan) -> Result<(), String> {
        Ok(())
    }
    /// The whole check's budget. Network operations inside have their own, shorter deadlines;
    /// this one only catches what escaped them.
    fn deadline(&self, plan: &Plan) -> Duration {
        plan.timeout * 2 + Duration::from_secs(1)
    }
    fn run(&self, ctx: Arc<Ctx>) -> BoxFuture<'static, Outcome>;
}

/// What a check hands back.
#[derive(Default)]
pub struct Outcome {
    pub summary: String,
    pub findings: Vec<Finding>,
    pub evidence: Vec<Evidence>,
    pub facts: serde_json::Value,
    /// Typed facts for dependants; `None` means dependants cannot run.
    pub typed: Option<Arc<dyn Any + Send + Sync>>,
    /// What the check measured, published whether it passed or not, for checks that explain
    /// their own failure with it (not for dependants: those need `typed`).
    pub measured: Option<Arc<dyn Any + Send + Sync>>,
    /// Set when the check decided at run time that it has nothing to do (e.g. no proxy set).
    pub skipped: Option<String>,
}

impl Outcome {
    pub fn new(summary: impl Into<String>) -> Self {
        Outcome {
            summary: summary.into(),
            ..Default::default()
        }
    }

    pub fn skipped(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Outcome {
            summary: reason.clone(),
            skipped: Some(reason),
            ..Default::default()
        }
    }

    pub fn with_facts<T: serde::Serialize + Any + Send + Sync>(mut self, facts: T) -> Self {
        self.facts = serde_json::to_value(&facts).unwrap_or(serde_json::Value::Null);
        self.typed = Some(Arc::new(facts));
        self
    }

    pub fn with_measured<T: Any + Send + Sync>(mut self, measured: T) -> Self {
        self.measured = Some(Arc::new(measured));
        self
    }

    pub fn finding(&mut self, f: Finding) {
        self.findings.push(f);
    }

    pub fn evidence(&mut self, label: impl Into<String>, value: impl Into<String>, s: Sensitivity) {
        self.evidence.push(Evidence::new(label, value, s));
    }

    pub fn status(&self) -> Status {
        if self.skipped.is_some() {
            return Status::Skipped;
        }
        match self.findings.iter().map(|f| f.severity).max() {
            Some(Severity::Fail) => Status::Fail,
            Some(Severity::Warn) => Status::Warn,
            _ => Status::Pass,
        }
    }
}

/// Builds a finding from its catalogue entry. The catalogue supplies severity, explanation and
/// remediation; the caller supplies what was measured.
pub fn finding(code: &str, summary: impl Into<String>) -> Finding {
    let entry = Catalogue::get().finding(code);
    Finding {
        code: code.to_string(),
        severity: entry.map(|e| e.severity).unwrap_or(Severity::Fail),
        summary: summary.into(),
        detail: None,
        explanation: entry
            .map(|e| e.explanation.trim().to_string())
            .unwrap_or_else(|| {
                format!("internal: finding code {code} is missing from the catalogue")
            }),
        remediation: entry.map(|e| e.remediation.clone()).unwrap_or_default(),
        links: entry.map(|e| e.links.clone()).unwrap_or_default(),
        evidence: Vec::new(),
    }
}

/// Chainable additions to a finding.
pub trait FindingExt {
    fn detail(self, d: impl Into<String>) -> Self;
    fn with(self, label: impl Into<String>, value: impl Into<String>, s: Sensitivity) -> Self;
    /// Overrides the catalogue severity where the measured situation is milder or worse.
    fn severity(self, s: Severity) -> Self;
}

impl FindingExt for Finding {
    fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }
    fn with(mut self, label: impl Into<String>, value: impl Into<String>, s: Sensitivity) -> Self {
        self.evidence.push(Evidence::new(label, value, s));
        self
    }
    fn severity(mut self, s: Severity) -> Self {
        self.severity = s;
        self
    }
}

struct Done {
    status: Status,
    summary: String,
    typed: Option<Arc<dyn Any + Send + Sync>>,
    measured: Option<Arc<dyn Any + Send + Sync>>,
}

/// What a finished check hands to the others: facts for dependants and its measurements.
#[derive(Default)]
struct Published {
    typed: Option<Arc<dyn Any + Send + Sync>>,
    measured: Option<Arc<dyn Any + Send + Sync>>,
}

/// What the runner tells an observer (the terminal progress display) while checks run.
#[derive(Debug, Clone)]
pub enum ProgressEvent {
    /// Every check of the run, in report order, before any starts.
    Planned(Vec<(&'static str, String)>),
    /// The check's dependencies are met and it starts measuring.
    Started(&'static str),
    Finished {
        id: &'static str,
        status: Status,
        summary: String,
        duration_ms: u64,
    },
}

pub type Progress = Arc<dyn Fn(ProgressEvent) + Send + Sync>;

/// Shared state for one run.
pub struct Ctx {
    pub plan: Arc<Plan>,
    pub resolver: Resolver,
    done: HashMap<&'static str, watch::Receiver<Option<Arc<Done>>>>,
    trust: tokio::sync::OnceCell<Arc<crate::net::trust::TrustMaterial>>,
    started: Instant,
    progress: Option<Progress>,
}

impl Ctx {
    /// Typed facts published by a finished check, if it published any.
    pub fn facts<T: Any + Send + Sync>(&self, id: &str) -> Option<Arc<T>> {
        let rx = self.done.get(id)?;
        let done = rx.borrow().clone()?;
        done.typed.clone()?.downcast::<T>().ok()
    }

    /// Typed facts of a check this one does not depend on but uses when it is part of the run:
    /// waits for it to finish (bounded by `limit`), `None` when it is not run, fails, or is late.
    pub async fn facts_if_run<T: Any + Send + Sync>(
        &self,
        id: &str,
        limit: Duration,
    ) -> Option<Arc<T>> {
        let done = tokio::time::timeout(limit, self.wait(id)).await.ok()??;
        done.typed.clone()?.downcast::<T>().ok()
    }

    /// What a check measured (`Outcome::with_measured`), whether it passed or failed: waits
    /// for it to finish (bounded by `limit`); `None` when it is not run, published nothing, or
    /// is late.
    pub async fn measured_if_run<T: Any + Send + Sync>(
        &self,
        id: &str,
        limit: Duration,
    ) -> Option<Arc<T>> {
        let done = tokio::time::timeout(limit, self.wait(id)).await.ok()??;
        done.measured.clone()?.downcast::<T>().ok()
    }

    /// The trust material (system or `--trust-store` roots, Mozilla's roots), loaded once per
    /// run and shared by the checks that need it.
    pub async fn trust(&self) -> Arc<crate::net::trust::TrustMaterial> {
        let plan = self.plan.clone();
        self.trust
            .get_or_init(|| async move {
                let p = plan.trust_store.clone();
                Arc::new(
                    tokio::task::spawn_blocking(move || {
                        crate::net::trust::TrustMaterial::load(p.as_deref())
                    })
                    .await
                    .unwrap_or_else(|e| crate::net::trust::TrustMaterial::failed(e.to_string())),
                )
            })
            .await
            .clone()
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    async fn wait(&self, id: &str) -> Option<Arc<Done>> {
        let mut rx = self.done.get(id)?.clone();
        loop {
            if let Some(d) = rx.borrow().clone() {
                return Some(d);
            }
            rx.changed().await.ok()?;
        }
    }
}

/// Runs the given checks and returns their reports in catalogue order.
pub async fn run(
    plan: Arc<Plan>,
    resolver: Resolver,
    checks: Vec<Arc<dyn Check>>,
) -> Vec<CheckReport> {
    run_with_progress(plan, resolver, checks, None).await
}

/// `run`, telling `progress` when each check starts and finishes.
pub async fn run_with_progress(
    plan: Arc<Plan>,
    resolver: Resolver,
    checks: Vec<Arc<dyn Check>>,
    progress: Option<Progress>,
) -> Vec<CheckReport> {
    let catalogue = Catalogue::get();
    if let Some(p) = &progress {
        let mut planned: Vec<(&'static str, String)> = checks
            .iter()
            .map(|c| {
                let title = catalogue
                    .check(c.id())
                    .map(|e| e.title.clone())
                    .unwrap_or_else(|| c.id().to_string());
                (c.id(), title)
            })
            .collect();
        planned.sort_by_key(|(id, _)| catalogue.position(id));
        p(ProgressEvent::Planned(planned));
    }
    let selected = selection(&plan, &checks);
    let mut senders = HashMap::new();
    let mut receivers = HashMap::new();
    for c in &checks {
        let (tx, rx) = watch::channel(None);
        senders.insert(c.id(), tx);
        receivers.insert(c.id(), rx);
    }
    let ctx = Arc::new(Ctx {
        plan: plan.clone(),
        resolver,
        done: receivers,
        trust: tokio::sync::OnceCell::new(),
        started: Instant::now(),
        progress,
    });

    let mut tasks = Vec::new();
    for check in checks {
        let ctx = ctx.clone();
        let tx = senders.remove(check.id()).expect("one sender per check");
        let is_selected = selected.contains(check.id());
        tasks.push(tokio::spawn(async move {
            let report = run_one(&ctx, check.as_ref(), is_selected).await;
            if let Some(p) = &ctx.progress {
                p(ProgressEvent::Finished {
                    id: check.id(),
                    status: report.0.status,
                    summary: report.0.summary.clone(),
                    duration_ms: report.0.duration_ms,
                });
            }
            let _ = tx.send(Some(Arc::new(Done {
                status: report.0.status,
                summary: report.0.summary.clone(),
                typed: report.1.typed,
                measured: report.1.measured,
            })));
            report.0
        }));
    }
    let mut reports = Vec::new();
    for t in tasks {
        // run_one never panics (the check itself runs in its own task), so a JoinError here
        // would be a runtime shutdown; there is nothing to report for it.
        if let Ok(r) = t.await {
            reports.push(r);
        }
    }
    reports.sort_by_key(|r| catalogue.position(&r.id));
    reports
}

/// The checks that will run: `--only` pulls in what the chosen checks need; `--skip` wins.
fn selection(plan: &Plan, checks: &[Arc<dyn Check>]) -> BTreeSet<&'static str> {
    let by_id: HashMap<&str, &Arc<dyn Check>> = checks.iter().map(|c| (c.id(), c)).collect();
    let mut out = BTreeSet::new();
    let mut stack: Vec<&'static str> = checks
        .iter()
        .map(|c| c.id())
        .filter(|id| plan.only.is_empty() || plan.only.iter().any(|o| o == id))
        .collect();
    while let Some(id) = stack.pop() {
        if plan.skip.iter().any(|s| s == id) || !out.insert(id) {
            continue;
        }
        if let Some(c) = by_id.get(id) {
            stack.extend(c.needs().iter().copied());
        }
    }
    out
}

async fn run_one(ctx: &Arc<Ctx>, check: &dyn Check, selected: bool) -> (CheckReport, Published) {
    let id = check.id();
    let title = Catalogue::get()
        .check(id)
        .map(|c| c.title.clone())
        .unwrap_or_else(|| id.to_string());
    let skipped = |reason: String| {
        (
            CheckReport {
                id: id.to_string(),
                title: title.clone(),
                status: Status::Skipped,
                reason: Some(reason.clone()),
                summary: reason,
                duration_ms: 0,
                facts: serde_json::Value::Null,
                evidence: Vec::new(),
                findings: Vec::new(),
            },
            Published::default(),
        )
    };
    if !selected {
        return skipped(
            ctx.plan
                .deselected(id)
                .unwrap_or_else(|| "not selected".into()),
        );
    }
    if let Err(reason) = check.applies(&ctx.plan) {
        return skipped(reason);
    }
    for need in check.needs() {
        match ctx.wait(need).await {
            Some(done) if done.typed.is_some() => {}
            Some(done) => {
                return skipped(format!(
                    "needs {need}, which {}: {}",
                    verb(done.status),
                    done.summary
                ));
            }
            None => return skipped(format!("needs {need}, which is not part of this run")),
        }
    }

    if let Some(p) = &ctx.progress {
        p(ProgressEvent::Started(id));
    }
    let start = Instant::now();
    let deadline = check.deadline(&ctx.plan);
    let fut = check.run(ctx.clone());
    let handle = tokio::spawn(fut);
    let abort = handle.abort_handle();
    let result = tokio::time::timeout(deadline, handle).await;
    let duration_ms = start.elapsed().as_millis() as u64;
    let base = |status: Status, reason: Option<String>, summary: String| CheckReport {
        id: id.to_string(),
        title: title.clone(),
        status,
        reason,
        summary,
        duration_ms,
        facts: serde_json::Value::Null,
        evidence: Vec::new(),
        findings: Vec::new(),
    };
    match result {
        Ok(Ok(outcome)) => {
            let status = outcome.status();
            let mut r = base(status, outcome.skipped.clone(), outcome.summary);
            r.facts = outcome.facts;
            r.evidence = outcome.evidence;
            r.findings = outcome.findings;
            (
                r,
                Published {
                    typed: outcome.typed,
                    measured: outcome.measured,
                },
            )
        }
        Ok(Err(join)) => {
            let msg = panic_message(join);
            let reason = format!("the check crashed: {msg}; please report this as a bug");
            (
                base(Status::Crashed, Some(reason.clone()), reason),
                Published::default(),
            )
        }
        Err(_) => {
            abort.abort();
            let reason = format!(
                "did not finish within its {} s deadline",
                deadline.as_secs_f32()
            );
            (
                base(Status::TimedOut, Some(reason.clone()), reason),
                Published::default(),
            )
        }
    }
}

fn verb(status: Status) -> &'static str {
    match status {
        Status::Pass => "passed without usable facts",
        Status::Warn => "warned without usable facts",
        Status::Fail => "failed",
        Status::Skipped => "was skipped",
        Status::TimedOut => "timed out",
        Status::Crashed => "crashed",
    }
}

fn panic_message(e: tokio::task::JoinError) -> String {
    if !e.is_panic() {
        return "cancelled".into();
    }
    let p = e.into_panic();
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic without a message".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{FailOn, IpFamily};

    struct Fake {
        id: &'static str,
        needs: &'static [&'static str],
        behaviour: fn() -> BoxFuture<'static, Outcome>,
    }

    impl Check for Fake {
        fn id(&self) -> &'static str {
            self.id
        }
        fn needs(&self) -> &'static [&'static str] {
            self.needs
        }
        fn deadline(&self, _: &Plan) -> Duration {
            Duration::from_millis(1000)
        }
        fn run(&self, _: Arc<Ctx>) -> BoxFuture<'static, Outcome> {
            (self.behaviour)()
        }
    }

    fn plan(only: &[&str], skip: &[&str]) -> Arc<Plan> {
        Arc::new(Plan {
            ca: crate::ca::profile("letsencrypt").unwrap(),
            expected_roots: Vec::new(),
            identifiers: Vec::new(),
            resolver: None,
            trust_store: None,
            family: IpFamily::Any,
            timeout: Duration::from_secs(1),
            only: only.iter().map(|s| s.to_string()).collect(),
            skip: skip.iter().map(|s| s.to_string()).collect(),
            fail_on: FailOn::Fail,
            command_line: Vec::new(),
            challenge: crate::plan::Challenge::Http01,
            webroot: None,
            standalone: false,
            http_port: 80,
            https_port: 443,
            dns_port: 53,
            perspectives: 0,
            from: Vec::new(),
            offline: true,
            globalping_url: url::Url::parse("https://api.globalping.io/v1/").unwrap(),
            globalping_token: None,
            dnssec_anchors: Vec::new(),
        })
    }

    fn passes() -> BoxFuture<'static, Outcome> {
        Box::pin(async { Outcome::new("ok").with_facts(1u32) })
    }
    fn fails() -> BoxFuture<'static, Outcome> {
        Box::pin(async {
            let mut o = Outcome::new("broken");
            o.finding(finding("dns.acme.nxdomain", "x"));
            o
        })
    }
    fn panics() -> BoxFuture<'static, Outcome> {
        Box::pin(async { panic!("boom") })
    }
    fn hangs() -> BoxFuture<'static, Outcome> {
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Outcome::new("never")
        })
    }
    fn slow_pass() -> BoxFuture<'static, Outcome> {
        Box::pin(async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            Outcome::new("ok").with_facts(2u32)
        })
    }

    async fn go(plan: Arc<Plan>, checks: Vec<Fake>) -> Vec<CheckReport> {
        let resolver =
            Resolver::new(Some("127.0.0.1:9".parse().unwrap()), Duration::from_secs(1)).unwrap();
        let checks = checks
            .into_iter()
            .map(|c| Arc::new(c) as Arc<dyn Check>)
            .collect();
        run(plan, resolver, checks).await
    }

    fn by_id<'a>(r: &'a [CheckReport], id: &str) -> &'a CheckReport {
        r.iter().find(|c| c.id == id).unwrap()
    }

    #[tokio::test]
    async fn statuses_dependencies_and_order() {
        let checks = vec![
            // Listed out of catalogue order on purpose.
            Fake {
                id: "tls.acme",
                needs: &["tcp.acme"],
                behaviour: passes,
            },
            Fake {
                id: "tcp.acme",
                needs: &["dns.acme"],
                behaviour: passes,
            },
            Fake {
                id: "dns.acme",
                needs: &[],
                behaviour: fails,
            },
            Fake {
                id: "trust.store",
                needs: &[],
                behaviour: panics,
            },
            Fake {
                id: "system.clock",
                needs: &[],
                behaviour: hangs,
            },
            Fake {
                id: "proxy.env",
                needs: &[],
                behaviour: slow_pass,
            },
        ];
        let start = Instant::now();
        let r = go(plan(&[], &[]), checks).await;
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "deadline bounds the run"
        );
        let ids: Vec<&str> = r.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "dns.acme",
                "tcp.acme",
                "tls.acme",
                "trust.store",
                "system.clock",
                "proxy.env"
            ]
        );
        assert_eq!(by_id(&r, "dns.acme").status, Status::Fail);
        let tcp = by_id(&r, "tcp.acme");
        assert_eq!(tcp.status, Status::Skipped);
        assert!(tcp
            .reason
            .as_deref()
            .unwrap()
            .contains("needs dns.acme, which failed"));
        assert!(by_id(&r, "tls.acme")
            .reason
            .as_deref()
            .unwrap()
            .contains("needs tcp.acme, which was skipped"));
        let crash = by_id(&r, "trust.store");
        assert_eq!(crash.status, Status::Crashed);
        assert!(crash.reason.as_deref().unwrap().contains("boom"));
        assert_eq!(by_id(&r, "system.clock").status, Status::TimedOut);
        assert_eq!(by_id(&r, "proxy.env").status, Status::Pass);
    }

    /// Reads what tcp.acme measured although tcp.acme failed, as acme.directory does.
    struct Reader;

    impl Check for Reader {
        fn id(&self) -> &'static str {
            "acme.directory"
        }
        fn deadline(&self, _: &Plan) -> Duration {
            Duration::from_millis(1000)
        }
        fn run(&self, ctx: Arc<Ctx>) -> BoxFuture<'static, Outcome> {
            Box::pin(async move {
                let m = ctx
                    .measured_if_run::<u32>("tcp.acme", Duration::from_millis(500))
                    .await;
                Outcome::new(format!("measured {m:?}"))
            })
        }
    }

    fn fails_with_measurements() -> BoxFuture<'static, Outcome> {
        Box::pin(async {
            let mut o = Outcome::new("broken");
            o.finding(finding("dns.acme.nxdomain", "x"));
            o.with_measured(7u32)
        })
    }

    #[tokio::test]
    async fn measurements_of_a_failed_check_reach_others_but_not_dependants() {
        let checks: Vec<Arc<dyn Check>> = vec![
            Arc::new(Fake {
                id: "tcp.acme",
                needs: &[],
                behaviour: fails_with_measurements,
            }),
            Arc::new(Fake {
                id: "tls.acme",
                needs: &["tcp.acme"],
                behaviour: passes,
            }),
            Arc::new(Reader),
        ];
        let resolver =
            Resolver::new(Some("127.0.0.1:9".parse().unwrap()), Duration::from_secs(1)).unwrap();
        let r = run(plan(&[], &[]), resolver, checks).await;
        assert_eq!(by_id(&r, "tcp.acme").status, Status::Fail);
        assert_eq!(by_id(&r, "tls.acme").status, Status::Skipped);
        assert_eq!(by_id(&r, "acme.directory").summary, "measured Some(7)");
    }

    #[tokio::test]
    async fn only_pulls_in_needs_and_skip_wins() {
        let mk = || {
            vec![
                Fake {
                    id: "dns.acme",
                    needs: &[],
                    behaviour: passes,
                },
                Fake {
                    id: "tcp.acme",
                    needs: &["dns.acme"],
                    behaviour: passes,
                },
                Fake {
                    id: "trust.store",
                    needs: &[],
                    behaviour: passes,
                },
            ]
        };
        let r = go(plan(&["tcp.acme"], &[]), mk()).await;
        assert_eq!(by_id(&r, "dns.acme").status, Status::Pass);
        assert_eq!(by_id(&r, "tcp.acme").status, Status::Pass);
        assert_eq!(
            by_id(&r, "trust.store").reason.as_deref(),
            Some("not selected by --only")
        );

        let r = go(plan(&[], &["dns.acme"]), mk()).await;
        assert_eq!(
            by_id(&r, "dns.acme").reason.as_deref(),
            Some("skipped with --skip")
        );
        assert_eq!(by_id(&r, "tcp.acme").status, Status::Skipped);
        assert_eq!(by_id(&r, "trust.store").status, Status::Pass);
    }

    #[tokio::test]
    async fn independent_checks_overlap() {
        let checks = (0..5)
            .map(|i| Fake {
                id: [
                    "dns.acme",
                    "trust.store",
                    "system.clock",
                    "proxy.env",
                    "acme.directory",
                ][i],
                needs: &[],
                behaviour: slow_pass,
            })
            .collect();
        let start = Instant::now();
        go(plan(&[], &[]), checks).await;
        assert!(
            start.elapsed() < Duration::from_millis(800),
            "five 200 ms checks ran concurrently"
        );
    }
}

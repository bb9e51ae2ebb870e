//! `trust.store`: do the roots this machine trusts include the CA's root, and do they carry
//! anything known to break ACME clients (an expired DST Root CA X3, an impostor root)? Also looks
//! at the Python certifi bundle certbot uses instead of the system store.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::ca::{ExpectedRoot, RootMatch, DST_ROOT_CA_X3_SHA256};
use crate::checks::tls_acme::matches;
use crate::engine::{finding, BoxFuture, Check, Ctx, FindingExt, Outcome};
use crate::net::tls::rfc3339;
use crate::net::trust::{anchor_common_name, requests_bundles, RootCert, TrustMaterial};
use crate::report::model::Sensitivity;

pub struct TrustStore;

#[derive(Debug, Clone, Serialize)]
pub struct TrustStoreFacts {
    pub source: String,
    pub count: usize,
    /// Names of the expected roots present in the store.
    pub expected_found: Vec<String>,
    /// Expected roots that could be judged (pinned ones, and named ones Mozilla has).
    pub expected_judged: Vec<String>,
    pub load_errors: usize,
    pub dst_root_ca_x3: bool,
    pub certifi: Vec<CertifiBundle>,
}

/// A CA bundle Python `requests` (and so certbot) would use.
#[derive(Debug, Clone, Serialize)]
pub struct CertifiBundle {
    /// Where it was found (a certifi package, or the variable that names it).
    pub found: String,
    /// The file actually read (Debian's certifi points at the system bundle).
    pub path: PathBuf,
    pub count: usize,
    pub has_expected: bool,
}

impl Check for TrustStore {
    fn id(&self) -> &'static str {
        "trust.store"
    }

    fn run(&self, ctx: Arc<Ctx>) -> BoxFuture<'static, Outcome> {
        Box::pin(async move {
            let trust = ctx.trust().await;
            let expected = ctx.plan.expected_roots.clone();
            // Reading a few certificate bundles is blocking file I/O.
            tokio::task::spawn_blocking(move || {
                judge(&trust, &expected, &|k| std::env::var(k).ok())
            })
            .await
            .unwrap_or_else(|e| Outcome::new(format!("could not inspect certifi: {e}")))
        })
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn is_dst(r: &RootCert, now: i64) -> bool {
    r.sha256 == DST_ROOT_CA_X3_SHA256
        || (r.cn.as_deref() == Some("DST Root CA X3") && r.expired_at(now))
}

/// Expected roots that can be judged here: pinned ones always; ones matched by name only when
/// Mozilla's list has that name (otherwise we cannot tell the real root from another).
fn judged(expected: &[ExpectedRoot], trust: &TrustMaterial) -> Vec<ExpectedRoot> {
    let mozilla_names: Vec<String> = trust
        .mozilla
        .roots
        .iter()
        .filter_map(anchor_common_name)
        .collect();
    expected
        .iter()
        .filter(|e| match &e.matcher {
            RootMatch::Sha256(_) => true,
            RootMatch::SubjectCn(cn) => mozilla_names.iter().any(|n| n == cn),
        })
        .cloned()
        .collect()
}

fn judge(
    trust: &TrustMaterial,
    expected: &[ExpectedRoot],
    env: &dyn Fn(&str) -> Option<String>,
) -> Outcome {
    let now = now();
    let mut out = Outcome::new("");
    out.evidence("source", &trust.source, Sensitivity::Path);
    let judged = judged(expected, trust);
    let found: Vec<String> = judged
        .iter()
        .filter(|e| trust.roots.iter().any(|r| matches(r, e)))
        .map(|e| e.name.clone())
        .collect();

    if trust.roots.is_empty() {
        out.finding(finding(
            "trust.store.empty",
            format!(
                "no root certificates loaded from {}; every HTTPS client using this store fails. Install them with: {}",
                trust.source,
                install_command()
            ),
        ));
    }

    if !trust.errors.is_empty() {
        let mut f = finding(
            "trust.store.load-errors",
            format!(
                "{} problem(s) loading {}: {}",
                trust.errors.len(),
                trust.source,
                trust
                    .errors
                    .iter()
                    .take(5)
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        );
        for e in &trust.errors {
            f = f.with(
                e.path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "error".into()),
                &e.message,
                Sensitivity::Path,
            );
        }
        out.finding(f);
    }

    if !trust.roots.is_empty() && !judged.is_empty() && found.is_empty() {
        out.finding(finding(
            "trust.store.missing-root",
            format!(
                "none of the CA's roots is in {} ({} roots): {}",
                trust.source,
                trust.roots.len(),
                judged
                    .iter()
                    .map(|e| e.describe())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ));
    }

    for r in &trust.roots {
        let impostor_of = expected.iter().find(|e| {
            (r.cn.as_deref() == Some(e.name.as_str()) || r.subject == e.name) && !matches(r, e)
        });
        if let Some(e) = impostor_of {
            if !expected.iter().any(|x| matches(r, x)) {
                out.finding(
                    finding(
                        "trust.store.impostor-root",
                        format!(
                            "{} has a root named {} with SHA-256 {}, which is not the real {} ({})",
                            trust.source,
                            r.subject,
                            r.sha256,
                            e.name,
                            match &e.matcher {
                                RootMatch::Sha256(h) => format!("SHA-256 {h}"),
                                RootMatch::SubjectCn(_) => "not the one in Mozilla's list".into(),
                            }
                        ),
                    )
                    .with("impostor SHA-256", &r.sha256, Sensitivity::Public),
                );
            }
        }
    }

    let dst: Vec<&RootCert> = trust.roots.iter().filter(|r| is_dst(r, now)).collect();
    if let Some(d) = dst.first() {
        out.finding(finding(
            "trust.store.dst-root-x3",
            format!(
                "{} still contains DST Root CA X3 (SHA-256 {}), which expired on {}; OpenSSL 1.0.x and old GnuTLS clients may build the chain through it and fail",
                trust.source,
                d.sha256,
                rfc3339(d.not_after)
            ),
        ));
    }

    let expired: Vec<&RootCert> = trust
        .roots
        .iter()
        .filter(|r| r.expired_at(now) && !is_dst(r, now))
        .collect();
    if !expired.is_empty() {
        let mut f = finding(
            "trust.store.expired-roots",
            format!(
                "{} expired root(s) in {}: {}",
                expired.len(),
                trust.source,
                expired
                    .iter()
                    .take(10)
                    .map(|r| format!("{} (expired {})", r.subject, rfc3339(r.not_after)))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        );
        for r in &expired {
            f = f.with(&r.subject, &r.sha256, Sensitivity::Public);
        }
        out.finding(f);
    }

    let bundles = requests_bundles(env)
        .into_iter()
        .map(|b| {
            let roots = b.roots(&trust.mozilla);
            CertifiBundle {
                found: b.found,
                count: roots.len(),
                has_expected: judged.iter().any(|e| roots.iter().any(|r| matches(r, e))),
                path: b.path,
            }
        })
        .collect::<Vec<_>>();
    let lacking: Vec<&CertifiBundle> = bundles
        .iter()
        .filter(|b| !judged.is_empty() && !b.has_expected)
        .collect();
    if !lacking.is_empty() {
        let mut f = finding(
            "trust.store.certifi-missing-root",
            format!(
                "the CA bundle Python requests/certbot use lacks the CA's roots ({}): {}",
                judged
                    .iter()
                    .map(|e| e.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                lacking
                    .iter()
                    .map(|b| format!("{} ({} roots, from {})", b.path.display(), b.count, b.found))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        );
        for b in &lacking {
            f = f.with("bundle", b.path.display().to_string(), Sensitivity::Path);
        }
        out.finding(f);
    }

    out.summary = format!(
        "{} roots from {}; {}",
        trust.roots.len(),
        trust.source,
        if expected.is_empty() {
            "no expected root for this CA (give --ca-root to check for one)".to_string()
        } else if judged.is_empty() {
            "the CA's roots are matched by name only and Mozilla's list lacks those names, so their presence is not judged".to_string()
        } else if found.is_empty() {
            "none of the CA's roots present".to_string()
        } else {
            format!("CA root(s) present: {}", found.join(", "))
        }
    );
    out.with_facts(TrustStoreFacts {
        source: trust.source.clone(),
        count: trust.roots.len(),
        expected_found: found,
        expected_judged: judged.iter().map(|e| e.name.clone()).collect(),
        load_errors: trust.errors.len(),
        dst_root_ca_x3: !dst.is_empty(),
        certifi: bundles,
    })
}

/// The install command for this distribution, from /etc/os-release.
fn install_command() -> String {
    let text = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let ids: String = text
        .lines()
        .filter(|l| l.starts_with("ID=") || l.starts_with("ID_LIKE="))
        .map(|l| {
            l.split_once('=')
                .map(|x| x.1)
                .unwrap_or("")
                .trim_matches('"')
        })
        .collect::<Vec<_>>()
        .join(" ");
    let has = |w: &str| ids.split_whitespace().any(|i| i == w);
    if has("alpine") {
        "apk add ca-certificates && update-ca-certificates".into()
    } else if has("debian") || has("ubuntu") {
        "apt-get install --reinstall ca-certificates && update-ca-certificates".into()
    } else if has("fedora") || has("rhel") || has("centos") {
        "dnf reinstall ca-certificates && update-ca-trust".into()
    } else if has("suse") || has("opensuse") {
        "zypper install ca-certificates && update-ca-certificates".into()
    } else if has("arch") {
        "pacman -S ca-certificates".into()
    } else {
        "apt-get install ca-certificates (Debian/Ubuntu), dnf install ca-certificates (Fedora/RHEL), apk add ca-certificates (Alpine)".into()
    }
}

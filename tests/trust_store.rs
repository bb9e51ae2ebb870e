//! trust.store against bundles built from rcgen roots and the real ISRG Root X1 and
//! DST Root CA X3 certificates in tests/data.

mod support;

use std::path::{Path, PathBuf};

use acme_doctor::ca::{DST_ROOT_CA_X3_SHA256, ISRG_ROOT_X1_SHA256};
use acme_doctor::net::tls::sha256_hex;
use support::pki::{days, dst_root_ca_x3_pem, isrg_root_x1_pem, write_pem, Ca};
use support::{doctor, Run};

fn pem_der(pem: &str) -> Vec<u8> {
    let der = rustls_pemfile::certs(&mut pem.as_bytes())
        .next()
        .expect("one certificate")
        .expect("valid PEM");
    der.to_vec()
}

#[test]
fn real_root_pems_match_the_pinned_fingerprints() {
    assert_eq!(
        sha256_hex(&pem_der(&isrg_root_x1_pem())),
        ISRG_ROOT_X1_SHA256
    );
    assert_eq!(
        sha256_hex(&pem_der(&dst_root_ca_x3_pem())),
        DST_ROOT_CA_X3_SHA256
    );
}

/// Runs `--only trust.store` for the default Let's Encrypt profile with `store` as the trust
/// store; `REQUESTS_CA_BUNDLE` pins the Python bundle so the machine's own certifi stays out.
async fn run(store: &Path, requests_bundle: &Path) -> Run {
    doctor(
        &[
            "--trust-store",
            store.to_str().unwrap(),
            "--only",
            "trust.store",
            "--format",
            "json",
        ],
        &[("REQUESTS_CA_BUNDLE", requests_bundle.to_str().unwrap())],
    )
    .await
}

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        Dir(tempfile::tempdir().unwrap())
    }
    fn file(&self, name: &str, pems: &[&str]) -> PathBuf {
        write_pem(self.0.path(), name, pems)
    }
}

fn severities(run: &Run) -> Vec<String> {
    run.check("trust.store")["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|f| f["severity"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn store_with_isrg_root_x1_is_quiet() {
    let d = Dir::new();
    let store = d.file("store.pem", &[&isrg_root_x1_pem()]);
    let run = run(&store, &store).await;
    assert_eq!(run.status("trust.store"), "pass", "{}", run.stdout);
    assert!(run.codes().is_empty(), "{:?}", run.codes());
    let facts = &run.check("trust.store")["facts"];
    assert_eq!(facts["count"], 1);
    assert_eq!(facts["expected_found"][0], "ISRG Root X1");
    assert_eq!(facts["certifi"][0]["found"], "REQUESTS_CA_BUNDLE");
    assert_eq!(facts["certifi"][0]["has_expected"], true);
    assert_eq!(run.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn store_without_isrg_roots_misses_the_root() {
    let d = Dir::new();
    let other = Ca::valid_root("Someone Else", "Some Other Root");
    let store = d.file("store.pem", &[&other.pem]);
    let good = d.file("good.pem", &[&isrg_root_x1_pem()]);
    let run = run(&store, &good).await;
    let f = run.finding("trust.store.missing-root");
    let s = f["summary"].as_str().unwrap();
    assert!(
        s.contains("ISRG Root X1") && s.contains(ISRG_ROOT_X1_SHA256),
        "{s}"
    );
    assert_eq!(run.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn dst_root_ca_x3_is_flagged() {
    let d = Dir::new();
    let store = d.file("store.pem", &[&isrg_root_x1_pem(), &dst_root_ca_x3_pem()]);
    let run = run(&store, &store).await;
    let s = run.finding("trust.store.dst-root-x3")["summary"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        s.contains(DST_ROOT_CA_X3_SHA256) && s.contains("2021-09-30"),
        "{s}"
    );
    // DST has its own finding; it is not counted again among the other expired roots.
    assert!(!run.has("trust.store.expired-roots"));
    assert!(!run.has("trust.store.missing-root"));
    assert_eq!(run.check("trust.store")["facts"]["dst_root_ca_x3"], true);
    assert_eq!(run.status("trust.store"), "warn");
}

#[tokio::test(flavor = "multi_thread")]
async fn impostor_isrg_root_x1() {
    let d = Dir::new();
    let fake = Ca::valid_root("Internet Security Research Group", "ISRG Root X1");
    let store = d.file("store.pem", &[&isrg_root_x1_pem(), &fake.pem]);
    let run = run(&store, &store).await;
    let s = run.finding("trust.store.impostor-root")["summary"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(s.contains(&sha256_hex(fake.der.as_ref())), "{s}");
    assert!(
        !s.contains(&format!("SHA-256 {ISRG_ROOT_X1_SHA256},")),
        "{s}"
    );
    assert_eq!(severities(&run), vec!["warn"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_store() {
    let d = Dir::new();
    let store = d.file("empty.pem", &[]);
    let good = d.file("good.pem", &[&isrg_root_x1_pem()]);
    let run = run(&store, &good).await;
    let s = run.finding("trust.store.empty")["summary"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(s.contains("ca-certificates"), "{s}");
    // An empty store is one failure, not also a missing root.
    assert!(!run.has("trust.store.missing-root"));
    assert_eq!(run.code, 1);
}

const GARBAGE: &str =
    "-----BEGIN CERTIFICATE-----\nthis is not base64 at all!!\n-----END CERTIFICATE-----\n";

#[tokio::test(flavor = "multi_thread")]
async fn garbage_pem_is_a_load_error_with_its_path() {
    let d = Dir::new();
    let store = d.file("mixed.pem", &[&isrg_root_x1_pem(), GARBAGE]);
    let mixed = run(&store, &store).await;
    let f = mixed.finding("trust.store.load-errors");
    assert_eq!(f["severity"], "warn");
    assert!(f["summary"].as_str().unwrap().contains("mixed.pem"), "{f}");
    assert!(!mixed.has("trust.store.empty"));

    let only = d.file("garbage.pem", &[GARBAGE]);
    let run = run(&only, &store).await;
    assert!(run.has("trust.store.empty") && run.has("trust.store.load-errors"));
}

#[tokio::test(flavor = "multi_thread")]
async fn other_expired_roots_are_info() {
    let d = Dir::new();
    let old = Ca::root("Old Corp", "Old Corp Root 2001", days(-9000), days(-400));
    let store = d.file("store.pem", &[&isrg_root_x1_pem(), &old.pem]);
    let run = run(&store, &store).await;
    let f = run.finding("trust.store.expired-roots");
    assert_eq!(f["severity"], "info");
    assert!(f["summary"]
        .as_str()
        .unwrap()
        .contains("Old Corp Root 2001"));
    assert_eq!(run.status("trust.store"), "pass");
    assert_eq!(run.code, 0);
}

/// A virtualenv with an old certifi (only DST Root CA X3 in it) and no REQUESTS_CA_BUNDLE.
struct Venv {
    d: Dir,
    store: PathBuf,
    pem: PathBuf,
}

impl Venv {
    fn new() -> Venv {
        let d = Dir::new();
        let store = d.file("store.pem", &[&isrg_root_x1_pem()]);
        let pkg = d.0.path().join("venv/lib/python3.12/site-packages/certifi");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("cacert.pem"), dst_root_ca_x3_pem()).unwrap();
        std::fs::write(
            pkg.join("core.py"),
            "def where():\n    return _CACERT_PATH\n",
        )
        .unwrap();
        std::fs::create_dir_all(d.0.path().join("venv/bin")).unwrap();
        std::fs::create_dir_all(d.0.path().join("home")).unwrap();
        std::fs::create_dir_all(d.0.path().join("empty-path")).unwrap();
        Venv {
            pem: pkg.join("cacert.pem"),
            store,
            d,
        }
    }

    fn path(&self, p: &str) -> String {
        self.d.0.path().join(p).display().to_string()
    }

    async fn run(&self, env: &[(&str, &str)]) -> Run {
        let home = self.path("home");
        let mut all = vec![
            ("HOME", home.as_str()),
            ("REQUESTS_CA_BUNDLE", ""),
            ("CURL_CA_BUNDLE", ""),
        ];
        all.extend_from_slice(env);
        doctor(
            &[
                "--trust-store",
                self.store.to_str().unwrap(),
                "--only",
                "trust.store",
                "--format",
                "json",
            ],
            &all,
        )
        .await
    }
}

/// No certbot installed: every certifi in the usual places counts, $VIRTUAL_ENV's included.
#[tokio::test(flavor = "multi_thread")]
async fn stale_certifi_in_a_virtualenv() {
    let v = Venv::new();
    let venv = v.path("venv");
    let empty = v.path("empty-path");
    let run = v
        .run(&[("VIRTUAL_ENV", venv.as_str()), ("PATH", empty.as_str())])
        .await;
    let f = run.finding("trust.store.certifi-missing-root");
    assert_eq!(f["severity"], "warn");
    let s = f["summary"].as_str().unwrap();
    assert!(s.contains(&v.pem.display().to_string()), "{s}");
    // The system store itself is fine.
    assert!(!run.has("trust.store.missing-root"));
}

/// certbot installed in that virtualenv: its `#!` line leads to the stale certifi, even with
/// no $VIRTUAL_ENV set.
#[tokio::test(flavor = "multi_thread")]
async fn certifi_next_to_certbots_python() {
    let v = Venv::new();
    let bin = v.path("venv/bin");
    std::fs::write(
        v.d.0.path().join("venv/bin/certbot"),
        format!("#!{bin}/python3\nimport certbot.main\n"),
    )
    .unwrap();
    let run = v.run(&[("PATH", bin.as_str())]).await;
    let facts = &run.check("trust.store")["facts"]["certifi"];
    assert_eq!(facts.as_array().unwrap().len(), 1, "{facts}");
    assert_eq!(facts[0]["path"], v.pem.display().to_string().as_str());
    assert!(run.has("trust.store.certifi-missing-root"));
}

#[tokio::test(flavor = "multi_thread")]
async fn native_loading_honours_ssl_cert_file_and_dir() {
    let d = Dir::new();
    let file = d.file("bundle.pem", &[&isrg_root_x1_pem()]);
    let certs = d.0.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::write(certs.join("broken.pem"), GARBAGE).unwrap();
    let dir = certs.to_str().unwrap();
    let run = doctor(
        &["--only", "trust.store", "--format", "json"],
        &[
            ("SSL_CERT_FILE", file.to_str().unwrap()),
            ("SSL_CERT_DIR", dir),
            ("REQUESTS_CA_BUNDLE", file.to_str().unwrap()),
        ],
    )
    .await;
    let facts = &run.check("trust.store")["facts"];
    let source = facts["source"].as_str().unwrap();
    assert!(
        source.contains("SSL_CERT_FILE=") && source.contains("SSL_CERT_DIR="),
        "{source}"
    );
    assert_eq!(facts["count"], 1);
    let f = run.finding("trust.store.load-errors");
    assert!(f["summary"].as_str().unwrap().contains("broken.pem"), "{f}");
}

/// ZeroSSL's roots are matched by name among Mozilla's roots: a store with only ISRG Root X1
/// misses them, and a self-made root with one of those names is an impostor.
#[tokio::test(flavor = "multi_thread")]
async fn roots_matched_by_name_for_zerossl() {
    let d = Dir::new();
    let fake = Ca::valid_root(
        "The USERTRUST Network",
        "USERTrust RSA Certification Authority",
    );
    let store = d.file("store.pem", &[&isrg_root_x1_pem(), &fake.pem]);
    let run = doctor(
        &[
            "--ca",
            "zerossl",
            "--trust-store",
            store.to_str().unwrap(),
            "--only",
            "trust.store",
            "--format",
            "json",
        ],
        &[("REQUESTS_CA_BUNDLE", store.to_str().unwrap())],
    )
    .await;
    let missing = run.finding("trust.store.missing-root");
    assert!(missing["summary"]
        .as_str()
        .unwrap()
        .contains("USERTrust RSA Certification Authority (by name, in Mozilla's roots)"));
    let impostor = run.finding("trust.store.impostor-root");
    assert!(impostor["summary"]
        .as_str()
        .unwrap()
        .contains(&sha256_hex(fake.der.as_ref())));
}

//! The catalogue is the contract between code, tests and docs: these tests keep them in step.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use acme_doctor::catalogue::Catalogue;
use acme_doctor::report::model::Severity;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Quoted strings in a file that look like finding codes of known checks.
fn quoted_codes(text: &str, cat: &Catalogue) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for piece in text.split('"').skip(1).step_by(2) {
        if cat
            .checks
            .iter()
            .any(|c| piece.starts_with(&format!("{}.", c.id)))
            && piece
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '.' || ch == '-')
        {
            out.insert(piece.to_string());
        }
    }
    out
}

#[test]
fn entries_are_complete_and_unique() {
    let cat = Catalogue::get();
    let mut ids = BTreeSet::new();
    let mut codes = BTreeSet::new();
    for c in &cat.checks {
        assert!(ids.insert(c.id.clone()), "duplicate check {}", c.id);
        assert!(
            !c.tests.trim().is_empty() && c.tests.trim() != "TBD",
            "{}: describe what it tests",
            c.id
        );
        for n in &c.needs {
            assert!(cat.check(n).is_some(), "{} needs unknown check {n}", c.id);
        }
        for f in &c.findings {
            assert!(codes.insert(f.code.clone()), "duplicate code {}", f.code);
            assert!(!f.explanation.trim().is_empty(), "{}: explanation", f.code);
            if f.severity > Severity::Info {
                assert!(
                    !f.remediation.is_empty(),
                    "{}: a warn/fail finding needs remediation",
                    f.code
                );
            }
        }
    }
}

#[test]
fn every_check_in_the_catalogue_is_implemented_with_matching_needs() {
    let cat = Catalogue::get();
    let implemented = acme_doctor::checks::all();
    for c in &cat.checks {
        let imp = implemented
            .iter()
            .find(|i| i.id() == c.id)
            .unwrap_or_else(|| panic!("{} is in the catalogue but not in checks::all()", c.id));
        let needs: Vec<String> = imp.needs().iter().map(|s| s.to_string()).collect();
        assert_eq!(
            needs, c.needs,
            "{}: needs in code and catalogue differ",
            c.id
        );
    }
    for i in &implemented {
        assert!(
            cat.check(i.id()).is_some(),
            "{} is implemented but has no checks/{}.toml",
            i.id(),
            i.id()
        );
    }
}

#[test]
fn codes_used_in_source_exist() {
    let cat = Catalogue::get();
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    for f in files {
        let text = fs::read_to_string(&f).unwrap();
        for code in quoted_codes(&text, cat) {
            // Check ids themselves are quoted too; only finding codes need an entry.
            if cat.check(&code).is_none() {
                assert!(
                    cat.finding(&code).is_some(),
                    "{}: {code} is not in the catalogue",
                    f.display()
                );
            }
        }
    }
}

#[test]
fn every_finding_code_has_a_test_that_names_it() {
    let cat = Catalogue::get();
    let mut files = Vec::new();
    rust_files(Path::new("tests"), &mut files);
    rust_files(Path::new("src"), &mut files);
    let mut tested = BTreeSet::new();
    for f in files {
        let text = fs::read_to_string(&f).unwrap();
        // In src/ only the unit-test part counts.
        let text = if f.starts_with("src") {
            text.split_once("#[cfg(test)]")
                .map(|(_, t)| t.to_string())
                .unwrap_or_default()
        } else {
            text
        };
        tested.extend(quoted_codes(&text, cat));
    }
    let untested: Vec<&str> = cat
        .codes()
        .map(|f| f.code.as_str())
        .filter(|c| !tested.contains(*c))
        .collect();
    assert!(
        untested.is_empty(),
        "finding codes no test names: {untested:?}"
    );
}

#[test]
fn docs_checks_md_is_generated_from_the_catalogue() {
    let want = acme_doctor::report::checks_list::markdown(Catalogue::get());
    let have = fs::read_to_string("docs/checks.md").unwrap_or_default();
    if have != want {
        if std::env::var_os("UPDATE_DOCS").is_some() {
            fs::write("docs/checks.md", &want).unwrap();
        } else {
            panic!("docs/checks.md is stale: run UPDATE_DOCS=1 cargo test --test catalogue");
        }
    }
}

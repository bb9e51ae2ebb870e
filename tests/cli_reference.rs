//! `--help`, shell completions and the man page all come from the clap definitions; the
//! snapshots show what a change to the options does to each of them.

use std::process::Command;

fn acme_doctor(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_acme-doctor"))
        .args(args)
        // Help wraps to the terminal width; fix it so the snapshot does not depend on it.
        .env("COLUMNS", "100")
        .output()
        .expect("acme-doctor runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("snapshots");
    s.set_prepend_module_to_snapshot(false);
    s.add_filter(r"acme-doctor(\\?-| )\d+\.\d+\.\d+", "acme-doctor [version]");
    s.add_filter(r"v\d+\.\d+\.\d+", "v[version]");
    s
}

#[test]
fn help() {
    let help = acme_doctor(&["--help"]);
    for opt in ["--format", "--redact", "--output", "completions", "man"] {
        assert!(help.contains(opt), "{opt} missing from --help");
    }
    settings().bind(|| insta::assert_snapshot!("help", help));
}

#[test]
fn bash_completion() {
    let script = acme_doctor(&["completions", "bash"]);
    assert!(script.contains("complete -F _acme__doctor"), "{script}");
    assert!(script.contains("--redact") && script.contains("--output"));
    assert!(script.contains("markdown") && script.contains("junit"));
    settings().bind(|| insta::assert_snapshot!("completions_bash", script));
}

#[test]
fn every_shell_gets_a_script() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = acme_doctor(&["completions", shell]);
        assert!(script.contains("redact"), "{shell}: {script}");
    }
}

#[test]
fn man_page() {
    let man = acme_doctor(&["man"]);
    assert!(
        man.starts_with(".ie") || man.starts_with(".TH"),
        "{}",
        &man[..80.min(man.len())]
    );
    assert!(man.contains(".TH acme-doctor 1"), "{man}");
    assert!(man.contains("\\-\\-redact"), "{man}");
    settings().bind(|| insta::assert_snapshot!("man", man));
}

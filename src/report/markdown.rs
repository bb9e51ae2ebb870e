//! `--format markdown`: a report to paste into the Let's Encrypt community forum (Discourse) or
//! a GitHub issue.
//!
//! Long evidence is folded with HTML `<details><summary>`, not Discourse's `[details="…"]`:
//! both GitHub and Discourse render the HTML form (Discourse's sanitizer allows `details` and
//! `summary`, and its details plugin styles them), while the BBCode form shows up as literal
//! text on GitHub. One output that renders in both places means nobody has to pick a flavour.
//! A blank line after `</summary>` is needed for GitHub to render Markdown inside the block.

use super::model::{CheckReport, Evidence, Finding, Report, Severity, Status};

/// Evidence lists longer than this (or with a multi-line or long value) are folded.
const INLINE_EVIDENCE_MAX: usize = 3;
const INLINE_VALUE_MAX: usize = 100;

fn badge(s: Status) -> &'static str {
    match s {
        Status::Pass => "✅ pass",
        Status::Warn => "⚠️ warn",
        Status::Fail => "❌ fail",
        Status::Skipped => "⏭️ skipped",
        Status::TimedOut => "⏱️ timed out",
        Status::Crashed => "💥 crashed",
    }
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let v = &report.verdict;
    out.push_str(&format!(
        "## acme-doctor: {} — {}\n\n",
        v.status.to_uppercase(),
        inline(&v.message)
    ));
    environment(&mut out, report);

    out.push_str("### Summary\n\n| Status | Check | Result | Time |\n|---|---|---|---:|\n");
    for c in &report.checks {
        let time = match c.status {
            Status::Skipped => String::new(),
            _ => format!("{} ms", c.duration_ms),
        };
        out.push_str(&format!(
            "| {} | {} (`{}`) | {} | {} |\n",
            badge(c.status),
            cell(&c.title),
            c.id,
            cell(&c.summary),
            time
        ));
    }
    let n = &v.counts;
    out.push_str(&format!(
        "\n{} pass, {} warn, {} fail, {} timed out, {} crashed, {} skipped in {} ms.\n",
        n.pass, n.warn, n.fail, n.timed_out, n.crashed, n.skipped, report.duration_ms
    ));

    for c in &report.checks {
        if matches!(
            c.status,
            Status::Warn | Status::Fail | Status::TimedOut | Status::Crashed
        ) {
            check_section(&mut out, c);
        }
    }

    out.push_str(&format!(
        "\n---\nReproduce with: {}\n",
        code_span(&shell_line(&report.plan.command_line))
    ));
    out
}

fn environment(out: &mut String, report: &Report) {
    let p = &report.plan;
    let e = &report.environment;
    let route = |b: bool| if b { "route" } else { "no route" };
    let identifiers = if p.identifiers.is_empty() {
        "none (outbound checks only)".to_string()
    } else {
        p.identifiers
            .iter()
            .map(|i| format!("`{}` ({})", i.value, i.kind))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let rows = [
        (
            "Tool",
            format!("{} {}", report.tool.name, report.tool.version),
        ),
        ("Started", report.started_at.clone()),
        ("OS", cell(&e.os)),
        (
            "CA",
            format!("{} — {}", cell(&p.ca), cell(&p.directory_url)),
        ),
        ("Identifiers", identifiers),
        ("Challenge", p.challenge.clone()),
        ("Resolver", cell(&e.resolver)),
        (
            "IPv4 / IPv6",
            format!(
                "{} / {} (run with: {})",
                route(e.ipv4),
                route(e.ipv6),
                p.ip_family
            ),
        ),
        ("Proxy", cell(e.proxy.as_deref().unwrap_or("none"))),
        ("Command", code_span(&shell_line(&p.command_line))),
    ];
    out.push_str("| | |\n|---|---|\n");
    for (k, v) in rows {
        out.push_str(&format!("| {k} | {v} |\n"));
    }
    out.push('\n');
}

fn check_section(out: &mut String, c: &CheckReport) {
    out.push_str(&format!(
        "\n### {} `{}` — {}\n\n",
        badge(c.status),
        c.id,
        inline(&c.title)
    ));
    out.push_str(&format!("{}\n", inline(&c.summary)));
    if let Some(r) = &c.reason {
        if r != &c.summary {
            out.push_str(&format!("\n{}\n", inline(r)));
        }
    }
    for f in c.findings.iter().filter(|f| f.severity > Severity::Info) {
        finding(out, f);
    }
    let infos: Vec<&Finding> = c
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Info)
        .collect();
    if !infos.is_empty() {
        out.push_str("\nAlso noted:\n\n");
        for f in infos {
            out.push_str(&format!("- `{}`: {}\n", f.code, inline(&f.summary)));
        }
    }
    evidence(out, "Measured", &c.evidence);
    if !c.facts.is_null() {
        let json = serde_json::to_string_pretty(&c.facts).unwrap_or_default();
        folded(out, "Measurements (JSON)", "json", &json);
    }
}

fn finding(out: &mut String, f: &Finding) {
    out.push_str(&format!(
        "\n**{} `{}`**: {}\n\n{}\n",
        f.severity.label(),
        f.code,
        inline(&f.summary),
        inline(&f.explanation)
    ));
    if let Some(d) = &f.detail {
        if d.contains('\n') || d.len() > INLINE_VALUE_MAX {
            folded(out, "Detail", "text", d);
        } else {
            out.push_str(&format!("\nDetail: {}\n", code_span(d)));
        }
    }
    if !f.remediation.is_empty() {
        out.push_str("\nWhat to do:\n\n");
        for r in &f.remediation {
            out.push_str(&format!("- {}\n", inline(r)));
        }
    }
    if !f.links.is_empty() {
        out.push_str(&format!("\nSee: {}\n", f.links.join(" · ")));
    }
    evidence(out, "Evidence", &f.evidence);
}

fn evidence(out: &mut String, title: &str, items: &[Evidence]) {
    if items.is_empty() {
        return;
    }
    let long = items.len() > INLINE_EVIDENCE_MAX
        || items
            .iter()
            .any(|e| e.value.contains('\n') || e.value.len() > INLINE_VALUE_MAX);
    if long {
        let body: Vec<String> = items
            .iter()
            .map(|e| {
                if e.value.contains('\n') {
                    format!("{}:\n  {}", e.label, e.value.replace('\n', "\n  "))
                } else {
                    format!("{}: {}", e.label, e.value)
                }
            })
            .collect();
        folded(
            out,
            &format!("{title} ({} items)", items.len()),
            "text",
            &body.join("\n"),
        );
    } else {
        out.push_str(&format!("\n{title}:\n\n"));
        for e in items {
            out.push_str(&format!(
                "- {}: {}\n",
                inline(&e.label),
                code_span(&e.value)
            ));
        }
    }
}

/// A collapsible block that GitHub and Discourse both render folded.
fn folded(out: &mut String, summary: &str, lang: &str, body: &str) {
    let fence = fence_for(body);
    out.push_str(&format!(
        "\n<details><summary>{}</summary>\n\n{fence}{lang}\n{}\n{fence}\n\n</details>\n",
        html(summary),
        body.trim_end()
    ));
}

/// A fence longer than any backtick run inside, so the content cannot close it.
fn fence_for(body: &str) -> String {
    let longest = body
        .split(|c| c != '`')
        .map(|run| run.len())
        .max()
        .unwrap_or(0);
    "`".repeat((longest + 1).max(3))
}

fn code_span(s: &str) -> String {
    let s = s.replace('\n', " ");
    let longest = s
        .split(|c| c != '`')
        .map(|run| run.len())
        .max()
        .unwrap_or(0);
    let ticks = "`".repeat(longest + 1);
    // A span that starts or ends with a backtick needs a space to keep it apart.
    if s.starts_with('`') || s.ends_with('`') {
        format!("{ticks} {s} {ticks}")
    } else {
        format!("{ticks}{s}{ticks}")
    }
}

/// Escapes text so that measured values cannot turn into markup (a `<` in an HTML error page
/// title, `*` in a glob, `|` in a table).
fn inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\n' => out.push(' '),
            '\\' | '`' | '*' | '<' | '>' | '[' | ']' | '|' | '_' => {
                out.push('\\');
                out.push(ch);
            }
            _ => out.push(ch),
        }
    }
    out
}

fn cell(s: &str) -> String {
    inline(s)
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The command line as a POSIX shell would need it typed.
pub fn shell_line(args: &[String]) -> String {
    let mut words = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i == 0 {
            words.push("acme-doctor".to_string());
            continue;
        }
        let safe = !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c));
        if safe {
            words.push(a.clone());
        } else {
            words.push(format!("'{}'", a.replace('\'', r"'\''")));
        }
    }
    if words.is_empty() {
        words.push("acme-doctor".into());
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_evidence_folds_short_evidence_stays_inline() {
        let hops: Vec<Evidence> = (1..=6)
            .map(|i| Evidence::public(format!("hop {i}"), format!("192.0.2.{i} {i}.0 ms")))
            .collect();
        let mut out = String::new();
        evidence(&mut out, "Evidence", &hops);
        assert!(
            out.starts_with("\n<details><summary>Evidence (6 items)</summary>\n\n```text\nhop 1: 192.0.2.1 1.0 ms\n"),
            "{out}"
        );
        assert!(out.ends_with("```\n\n</details>\n"), "{out}");
        let mut out = String::new();
        evidence(&mut out, "Evidence", &hops[..2]);
        assert_eq!(
            out,
            "\nEvidence:\n\n- hop 1: `192.0.2.1 1.0 ms`\n- hop 2: `192.0.2.2 2.0 ms`\n"
        );
        let mut out = String::new();
        folded(&mut out, "chain <3>", "text", "a\n```\nb");
        assert!(
            out.contains("<summary>chain &lt;3&gt;</summary>") && out.contains("````text"),
            "{out}"
        );
    }

    #[test]
    fn escapes_and_fences() {
        assert_eq!(inline("<b>|x*"), r"\<b\>\|x\*");
        assert_eq!(fence_for("a ``` b"), "````");
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(
            shell_line(&[
                "/x/acme-doctor".into(),
                "--trust-store".into(),
                "[path-1]".into(),
                "it's".into()
            ]),
            r"acme-doctor --trust-store '[path-1]' 'it'\''s'"
        );
    }
}

//! `--format text`: a table of checks for people at a terminal, then what to do.

use comfy_table::presets::NOTHING;
use comfy_table::{Cell, ContentArrangement, Table};

use super::model::{CheckReport, Finding, Report, Severity, Status};

fn glyph(s: Status) -> &'static str {
    match s {
        Status::Pass => "✔ pass",
        Status::Warn => "! warn",
        Status::Fail => "✘ FAIL",
        Status::Skipped => "- skip",
        Status::TimedOut => "✘ TIMEOUT",
        Status::Crashed => "✘ CRASH",
    }
}

pub fn render(report: &Report, verbose: bool) -> String {
    let mut out = String::new();
    let plan = &report.plan;
    out.push_str(&format!(
        "acme-doctor {} · CA {} ({}) · resolver: {}\n",
        report.tool.version, plan.ca, plan.directory_url, report.environment.resolver
    ));
    for id in &plan.identifiers {
        out.push_str(&format!("identifier: {} ({})", id.value, id.kind));
        for n in &id.notes {
            out.push_str(&format!(" — note: {n}"));
        }
        out.push('\n');
    }
    out.push('\n');

    let mut table = Table::new();
    table
        .load_preset(NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if let Some((w, _)) = terminal_width() {
        table.set_width(w);
    } else {
        table.set_width(120);
    }
    // Checks that do not apply (no domain given, another challenge type, not selected) would
    // bury the ones that ran; -v lists them. Skips caused by a failed dependency stay visible.
    let mut hidden = 0;
    for c in &report.checks {
        let reason = c.reason.as_deref().unwrap_or_default();
        // A check that started and then skipped (no response to compare, say) stays visible.
        if !verbose
            && c.status == Status::Skipped
            && c.duration_ms == 0
            && !reason.starts_with("needs ")
        {
            // What the user deselected is not worth a line at all.
            if !reason.contains("--only") && !reason.contains("--skip") {
                hidden += 1;
            }
            continue;
        }
        let time = match c.status {
            Status::Skipped => String::new(),
            _ => format!("{} ms", c.duration_ms),
        };
        let name = if verbose {
            format!("{} ({})", c.title, c.id)
        } else {
            c.title.clone()
        };
        table.add_row(vec![
            Cell::new(glyph(c.status)),
            Cell::new(name),
            Cell::new(&c.summary),
            Cell::new(time),
        ]);
    }
    out.push_str(&table.to_string());
    out.push('\n');

    if hidden > 0 {
        out.push_str(&format!(
            "({hidden} checks did not apply to this run; -v lists them with the reason)\n"
        ));
    }
    for c in &report.checks {
        render_check_details(&mut out, c, verbose);
    }
    out.push_str(&format!(
        "\nVerdict: {} — {} ({} pass, {} warn, {} fail, {} skipped) in {} ms\n",
        report.verdict.status.to_uppercase(),
        report.verdict.message,
        report.verdict.counts.pass,
        report.verdict.counts.warn,
        report.verdict.counts.fail
            + report.verdict.counts.timed_out
            + report.verdict.counts.crashed,
        report.verdict.counts.skipped,
        report.duration_ms
    ));
    out
}

fn render_check_details(out: &mut String, c: &CheckReport, verbose: bool) {
    let shown: Vec<&Finding> = c
        .findings
        .iter()
        .filter(|f| verbose || f.severity > Severity::Info || c.status != Status::Pass)
        .collect();
    let reason = match c.status {
        Status::TimedOut | Status::Crashed => c.reason.as_deref(),
        _ => None,
    };
    if shown.is_empty() && reason.is_none() && (!verbose || c.evidence.is_empty()) {
        return;
    }
    out.push_str(&format!("\n{} — {}\n", c.id, c.title));
    if let Some(r) = reason {
        out.push_str(&format!("  {r}\n"));
    }
    for f in shown {
        out.push_str(&format!(
            "  [{}] {}: {}\n",
            f.severity.label(),
            f.code,
            f.summary
        ));
        if f.severity > Severity::Info || verbose {
            for line in wrap(&f.explanation, 92) {
                out.push_str(&format!("      {line}\n"));
            }
            if let Some(d) = &f.detail {
                out.push_str(&format!("      detail: {d}\n"));
            }
            for r in &f.remediation {
                out.push_str(&format!("      → {r}\n"));
            }
            for l in &f.links {
                out.push_str(&format!("      see {l}\n"));
            }
        }
        if verbose {
            for e in &f.evidence {
                out.push_str(&format!("      · {}: {}\n", e.label, e.value));
            }
        }
    }
    if verbose {
        for e in &c.evidence {
            out.push_str(&format!("  · {}: {}\n", e.label, e.value));
        }
    }
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + word.len() + 1 > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn terminal_width() -> Option<(u16, u16)> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .map(|w| (w, 0))
}

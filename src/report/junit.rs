//! `--format junit`: one testsuite, one testcase per check, for CI systems that display JUnit
//! (GitLab's test report, GitHub test-report actions, Jenkins).
//!
//! fail and timed-out are `<failure>`; crashed is `<error>` (the tool broke, not the network);
//! skipped checks are `<skipped>` with the reason; warnings pass with their findings in
//! `<system-out>`, so CI shows them without failing the build.

use std::io;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use super::model::{CheckReport, Report, Severity, Status};

pub fn render(report: &Report) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec cannot fail; the only io::Error source is the sink.
    write(&mut w, report).expect("writing XML into memory");
    let mut s = String::from_utf8(w.into_inner()).expect("quick-xml writes UTF-8");
    s.push('\n');
    s
}

fn write(w: &mut Writer<Vec<u8>>, report: &Report) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let n = &report.verdict.counts;
    let tests = report.checks.len().to_string();
    let failures = (n.fail + n.timed_out).to_string();
    let errors = n.crashed.to_string();
    let skipped = n.skipped.to_string();
    let time = secs(report.duration_ms);
    let suite_name = format!("acme-doctor {}", report.plan.ca);
    w.create_element("testsuites")
        .with_attribute(("name", "acme-doctor"))
        .with_attribute(("tests", tests.as_str()))
        .with_attribute(("failures", failures.as_str()))
        .with_attribute(("errors", errors.as_str()))
        .with_attribute(("skipped", skipped.as_str()))
        .with_attribute(("time", time.as_str()))
        .write_inner_content(|w| {
            w.create_element("testsuite")
                .with_attribute(("name", clean(&suite_name).as_str()))
                .with_attribute(("tests", tests.as_str()))
                .with_attribute(("failures", failures.as_str()))
                .with_attribute(("errors", errors.as_str()))
                .with_attribute(("skipped", skipped.as_str()))
                .with_attribute(("time", time.as_str()))
                .with_attribute(("timestamp", clean(&report.started_at).as_str()))
                .write_inner_content(|w| {
                    properties(w, report)?;
                    for c in &report.checks {
                        testcase(w, c)?;
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
    Ok(())
}

fn properties(w: &mut Writer<Vec<u8>>, report: &Report) -> io::Result<()> {
    let p = &report.plan;
    let e = &report.environment;
    let identifiers: Vec<&str> = p.identifiers.iter().map(|i| i.value.as_str()).collect();
    let props = [
        ("tool.version", report.tool.version.clone()),
        ("ca", p.ca.clone()),
        ("directory_url", p.directory_url.clone()),
        ("identifiers", identifiers.join(" ")),
        ("os", e.os.clone()),
        ("resolver", e.resolver.clone()),
        ("ipv4", e.ipv4.to_string()),
        ("ipv6", e.ipv6.to_string()),
        ("command_line", super::markdown::shell_line(&p.command_line)),
        ("verdict", report.verdict.message.clone()),
    ];
    w.create_element("properties").write_inner_content(|w| {
        for (name, value) in &props {
            w.create_element("property")
                .with_attribute(("name", *name))
                .with_attribute(("value", clean(value).as_str()))
                .write_empty()?;
        }
        Ok(())
    })?;
    Ok(())
}

fn testcase(w: &mut Writer<Vec<u8>>, c: &CheckReport) -> io::Result<()> {
    let classname = format!("acme-doctor.{}", c.id);
    let name = format!("{} — {}", c.id, c.title);
    let time = secs(c.duration_ms);
    let el = w
        .create_element("testcase")
        .with_attribute(("classname", clean(&classname).as_str()))
        .with_attribute(("name", clean(&name).as_str()))
        .with_attribute(("time", time.as_str()));
    let body = findings_text(c);
    el.write_inner_content(|w| {
        let message = clean(c.reason.as_deref().unwrap_or(&c.summary));
        match c.status {
            Status::Fail | Status::TimedOut | Status::Crashed => {
                let tag = if c.status == Status::Crashed {
                    "error"
                } else {
                    "failure"
                };
                w.create_element(tag)
                    .with_attribute(("message", message.as_str()))
                    .with_attribute(("type", c.status.label()))
                    .write_text_content(BytesText::new(&clean(&body)))?;
            }
            Status::Skipped => {
                w.create_element("skipped")
                    .with_attribute(("message", message.as_str()))
                    .write_empty()?;
            }
            Status::Pass | Status::Warn => {}
        }
        if matches!(c.status, Status::Pass | Status::Warn) {
            w.create_element("system-out")
                .write_text_content(BytesText::new(&clean(&format!("{}\n{body}", c.summary))))?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Findings as plain text: what CI shows when the testcase is opened.
fn findings_text(c: &CheckReport) -> String {
    let mut out = String::new();
    if let Some(r) = &c.reason {
        out.push_str(&format!("{r}\n"));
    }
    for f in &c.findings {
        out.push_str(&format!(
            "[{}] {}: {}\n",
            f.severity.label(),
            f.code,
            f.summary
        ));
        if f.severity > Severity::Info {
            out.push_str(&format!("  {}\n", f.explanation));
            if let Some(d) = &f.detail {
                out.push_str(&format!("  detail: {d}\n"));
            }
            for r in &f.remediation {
                out.push_str(&format!("  -> {r}\n"));
            }
            for l in &f.links {
                out.push_str(&format!("  see {l}\n"));
            }
        }
    }
    out
}

fn secs(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

/// XML 1.0 cannot carry most control characters even escaped; a hostile peer's bytes in a
/// summary must not make the document invalid.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && !matches!(c, '\t' | '\n' | '\r') {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_cannot_break_the_document() {
        assert_eq!(clean("a\u{1b}[31mb\tc\n"), "a\u{fffd}[31mb\tc\n");
    }
}

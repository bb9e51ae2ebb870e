//! `--format json`: one document on stdout, described by docs/report.schema.json.

use super::model::Report;

pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("the report model always serialises");
    s.push('\n');
    s
}

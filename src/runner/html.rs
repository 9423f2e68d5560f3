//! `report.html`: the evidence report of `src/report/`, or, should it fail to
//! render, the plain summary table below (the run's verdicts must not be lost
//! to a template error).

use std::fmt::Write as _;

use crate::domain::text::escape_html;
use crate::evidence::model::Evidence;

/// The report for `evidence`, whose evidence.json is already written in
/// `dir` (the folder is sealed unsigned next); should it not render, the
/// interim table and a warning saying so.
pub fn report(e: &Evidence, dir: &std::path::Path) -> (String, Option<String>) {
    let evidence_path = dir.join(crate::report::EVIDENCE_FILE);
    let sealing = crate::report::seal::Sealing::Unsigned;
    match crate::report::render_in(e, dir, &evidence_path, &sealing) {
        Ok(html) => (html, None),
        Err(err) => (
            render(e),
            Some(format!(
                "the evidence report could not be rendered ({err}); report.html is a plain summary"
            )),
        ),
    }
}

/// A plain, self-contained page: one row per checklist item, then the scenarios.
pub fn render(e: &Evidence) -> String {
    let mut items = String::new();
    for i in &e.items {
        let _ = writeln!(
            items,
            "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td><code>{}</code></td></tr>",
            escape_html(&i.id),
            escape_html(&i.title),
            i.verdict.label().to_lowercase().replace(' ', "-"),
            i.verdict.label(),
            escape_html(i.reason.as_deref().unwrap_or("")),
            escape_html(&i.references.join(" ")),
        );
    }
    let mut scenarios = String::new();
    for s in &e.scenarios {
        let _ = writeln!(
            scenarios,
            "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td><code>{}</code></td></tr>",
            escape_html(&s.name),
            escape_html(&s.checklist_ids.join(" ")),
            s.verdict.label().to_lowercase().replace(' ', "-"),
            s.verdict.label(),
            escape_html(s.reason.as_deref().unwrap_or("")),
            escape_html(&s.references.join(" ")),
        );
    }
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vipps-golive run {run}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 2rem; }}
th, td {{ border: 1px solid #ccc; padding: .4rem .6rem; text-align: left; vertical-align: top; }}
th {{ background: #f4f4f4; }}
.pass {{ color: #0a6b2d; font-weight: bold; }} .fail {{ color: #b00020; font-weight: bold; }}
.not-applicable, .needs-attestation {{ color: #666; }} .warning {{ color: #8a5a00; }}
</style></head>
<body>
<h1>vipps-golive run</h1>
<p>Run <code>{run}</code> against <strong>{target}</strong> (<code>{base}</code>), MSN {msn}.
Started {start}, finished {end}. {exchanges} exchanges in <code>journal.jsonl</code>.</p>
<h2>Checklist</h2>
<table><thead><tr><th>ID</th><th>item</th><th>verdict</th><th>why</th><th>references</th></tr></thead>
<tbody>
{items}</tbody></table>
<h2>Scenarios</h2>
<table><thead><tr><th>scenario</th><th>checklist</th><th>verdict</th><th>why</th><th>references</th></tr></thead>
<tbody>
{scenarios}</tbody></table>
</body></html>
"#,
        run = escape_html(&e.run.run_id),
        target = escape_html(&e.run.target),
        base = escape_html(&e.run.base_url),
        msn = escape_html(&e.run.msn),
        start = e.run.started_at.to_rfc3339(),
        end = e.run.finished_at.to_rfc3339(),
        exchanges = e.exchanges.len(),
    )
}

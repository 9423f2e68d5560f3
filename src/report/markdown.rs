//! `report DIR --markdown`: the checklist table as GitHub-flavoured Markdown,
//! for a CI job summary or a pull-request comment (issue 25).
//!
//! Built from the same view as the HTML page ([`super::view::build`]), so the
//! headline and the verdicts can never disagree with report.html. Every value
//! that came from traffic or a feature file is escaped: a reference or a
//! reason is text, never Markdown, HTML or a table delimiter.

use super::view;
use crate::evidence::model::Evidence;

/// The headline, whose traffic it judges, and one row per checklist item:
/// ID, verdict, a one-line reason and the references behind it.
pub fn render(evidence: &Evidence) -> String {
    let page = view::build(evidence);
    let mut md = String::new();
    md.push_str(&format!(
        "### vipps-golive {}: {}\n\n",
        page.run.kind,
        escape(&page.summary.headline)
    ));
    md.push_str(&format!(
        "Judged: {}. Run `{}`, target {}.\n\n",
        escape(&page.run.provenance),
        code(&page.run.run_id),
        escape(&page.run.target)
    ));
    md.push_str("| ID | Verdict | Why | References |\n|---|---|---|---|\n");
    for item in &evidence.items {
        let reason = match (&item.reason, &item.attestation) {
            (Some(r), _) => one_line(r),
            (None, Some(a)) => one_line(&format!("attested by {}", a.by)),
            (None, None) => String::new(),
        };
        md.push_str(&format!(
            "| {} | **{}** | {} | {} |\n",
            escape(&item.id),
            item.verdict.label(),
            escape(&reason),
            item.references
                .iter()
                .map(|r| escape(r))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let counts: Vec<String> = page
        .summary
        .counts
        .iter()
        .filter(|c| c.n > 0)
        .map(|c| format!("{} {}", c.n, c.label))
        .collect();
    if !counts.is_empty() {
        md.push_str(&format!("\n{}.\n", counts.join(", ")));
    }
    md
}

/// The first line of `text`, cut at 200 characters: a table cell is no place
/// for a stack of hints; the full reason is in report.html.
fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    let mut cut: String = line.chars().take(200).collect();
    if cut.len() < line.len() {
        cut.push('…');
    }
    cut
}

/// Backslash-escapes every ASCII punctuation mark that Markdown or HTML could
/// read (GFM allows a backslash before any of them), and turns line breaks
/// into spaces so a value stays inside its cell.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '!' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// An inline code span for a value known to be tame (a run id); anything
/// with a backtick falls back to escaped text.
fn code(text: &str) -> String {
    if text.contains('`') || text.contains('\n') {
        escape(text)
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hostile_value_stays_text_inside_its_cell() {
        let e = escape("a|b\n<script>x</script> [l](http://x) `c` *d*");
        assert!(!e.contains('\n'));
        assert_eq!(e.matches("\\|").count(), 1);
        assert!(e.contains("\\<script\\>"));
        assert!(e.contains("\\[l\\](http://x)"));
        assert!(e.contains("\\`c\\`"));
    }

    #[test]
    fn a_long_reason_is_one_short_line() {
        let r = one_line(&format!("{}\nsecond line", "x".repeat(500)));
        assert_eq!(r.chars().count(), 201);
        assert!(!r.contains("second"));
    }
}

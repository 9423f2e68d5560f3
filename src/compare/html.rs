//! `compare.html`: the comparison as a page, with the report's look.
//!
//! Like the evidence report it is one self-contained file: inline CSS, no
//! script, nothing fetched. Handlebars escapes every value.

use std::sync::OnceLock;

use handlebars::Handlebars;
use serde::Serialize;

use super::{Class, Comparison, Difference};

const TEMPLATE: &str = include_str!("../report/templates/compare.hbs");
const STYLE: &str = include_str!("../report/templates/style.css");

#[derive(Serialize)]
struct Row<'a> {
    id: &'a str,
    scenario: &'a str,
    checklist: String,
    operation: &'a str,
    kind: &'static str,
    css: &'static str,
    summary: &'a str,
    simulator: String,
    target: String,
    simulator_reference: Option<&'a str>,
    target_reference: Option<&'a str>,
    deviation: Option<&'a super::DeviationRef>,
    allowed_by: Option<&'a str>,
}

#[derive(Serialize)]
struct Group<'a> {
    anchor: &'static str,
    title: &'static str,
    about: &'static str,
    /// `rows.len()` (handlebars has no length of a list).
    count: usize,
    rows: Vec<Row<'a>>,
}

impl<'a> Group<'a> {
    fn new(
        anchor: &'static str,
        title: &'static str,
        about: &'static str,
        rows: Vec<Row<'a>>,
    ) -> Self {
        Group {
            anchor,
            title,
            about,
            count: rows.len(),
            rows,
        }
    }
}

#[derive(Serialize)]
struct ScenarioLine<'a> {
    name: &'a str,
    checklist: String,
    simulator_verdict: &'static str,
    target_verdict: &'static str,
    compared: bool,
    reason: Option<&'a str>,
    differences: usize,
}

/// A checklist item's verdict on each side, linking to each side's card.
#[derive(Serialize)]
struct ItemLine {
    id: String,
    /// The checklist's wording, its Markdown marks taken out.
    wording: String,
    simulator_verdict: &'static str,
    simulator_css: &'static str,
    target_verdict: &'static str,
    target_css: &'static str,
    /// The two sides' verdicts differ.
    differs: bool,
}

fn item_line(row: &super::ItemRow) -> ItemLine {
    let wording = crate::domain::checklist::find(&row.id).map_or_else(
        || row.id.clone(),
        |i| i.wording.replace("**", "").replace('`', ""),
    );
    ItemLine {
        id: row.id.clone(),
        wording,
        simulator_verdict: row.simulator_verdict.label(),
        simulator_css: crate::report::view::verdict_class(row.simulator_verdict),
        target_verdict: row.target_verdict.label(),
        target_css: crate::report::view::verdict_class(row.target_verdict),
        differs: row.simulator_verdict != row.target_verdict,
    }
}

#[derive(Serialize)]
struct Page<'a> {
    #[serde(flatten)]
    c: &'a Comparison,
    banner: &'static str,
    headline: String,
    compared: usize,
    scenario_count: usize,
    groups: Vec<Group<'a>>,
    scenario_lines: Vec<ScenarioLine<'a>>,
    item_lines: Vec<ItemLine>,
    unused: &'a [String],
}

fn pretty(v: &serde_json::Value) -> String {
    if v.is_null() {
        return "(no such request)".into();
    }
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

fn row(d: &Difference) -> Row<'_> {
    Row {
        id: &d.id,
        scenario: &d.scenario,
        checklist: d.checklist_ids.join(" "),
        operation: &d.operation,
        kind: d.kind.label(),
        css: match d.class {
            Class::Unexpected => "fail",
            Class::Known => "warning",
            Class::Allowed => "na",
        },
        summary: &d.summary,
        simulator: pretty(&d.simulator),
        target: pretty(&d.target),
        simulator_reference: d.simulator_reference.as_deref(),
        target_reference: d.target_reference.as_deref(),
        deviation: d.deviation.as_ref(),
        allowed_by: d.allowed_by.as_deref(),
    }
}

/// Renders `compare.html`.
pub fn render(c: &Comparison) -> Result<String, String> {
    templates()?
        .render("compare", &page(c))
        .map_err(|e| e.to_string())
}

/// What the template shows of `c`.
fn page(c: &Comparison) -> Page<'_> {
    let rows = |class: Class| -> Vec<Row<'_>> {
        c.differences
            .iter()
            .filter(|d| d.class == class)
            .map(row)
            .collect()
    };
    let compared = c.scenarios.iter().filter(|s| s.compared).count();
    // `has_unexpected` also sees a scenario that passed on one side and
    // failed on the other: with one, the green headline is impossible.
    let (banner, headline) = if c.has_unexpected() {
        (
            "not-ready",
            format!(
                "{} unexpected difference(s): the simulator and the target disagree",
                c.counts.unexpected.max(1)
            ),
        )
    } else if compared == 0 {
        (
            "incomplete",
            "No scenario ran on both sides: nothing was compared".into(),
        )
    } else {
        (
            "ready",
            format!("No unexpected difference in {compared} scenario(s) compared"),
        )
    };
    Page {
        c,
        banner,
        headline,
        compared,
        scenario_count: c.scenarios.len(),
        groups: vec![
            Group::new(
                "unexpected",
                "Unexpected differences",
                "Neither a documented deviation of the simulator nor in the allow-list. Send these rows (and compare.json) to whoever keeps the simulator, or to Vipps when the target looks wrong.",
                rows(Class::Unexpected),
            ),
            Group::new(
                "known",
                "Known deviations of the simulator (counted apart)",
                "Choices the simulator made where the sources are silent or disagree, listed in docs/fidelity.md. Shown so nobody is surprised; they do not fail the comparison.",
                rows(Class::Known),
            ),
            Group::new(
                "allowed",
                "Allowed by the allow-list",
                "Matched by a line of the --allow-list file.",
                rows(Class::Allowed),
            ),
        ],
        scenario_lines: c
            .scenarios
            .iter()
            .map(|s| ScenarioLine {
                name: &s.name,
                checklist: s.checklist_ids.join(" "),
                simulator_verdict: s.simulator_verdict.label(),
                target_verdict: s.target_verdict.label(),
                compared: s.compared,
                reason: s.reason.as_deref(),
                differences: s.differences,
            })
            .collect(),
        item_lines: c.items.iter().map(item_line).collect(),
        unused: &c.unused_allow_entries,
    }
}

/// The page's templates, parsed once per process (they are embedded, the
/// same bytes every time).
fn templates() -> Result<&'static Handlebars<'static>, String> {
    static TEMPLATES: OnceLock<Result<Handlebars<'static>, String>> = OnceLock::new();
    TEMPLATES
        .get_or_init(|| {
            let mut hb = Handlebars::new();
            for (name, text) in [("compare", TEMPLATE), ("style", STYLE)] {
                hb.register_template_string(name, text)
                    .map_err(|e| e.to_string())?;
            }
            Ok(hb)
        })
        .as_ref()
        .map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;
    use serde_json::json;

    use super::super::{Counts, DeviationRef, DiffKind, ScenarioRow, Side};
    use super::*;
    use crate::evidence::model::Verdict;

    fn side(target: &str) -> Side {
        Side {
            target: target.into(),
            base_url: "http://127.0.0.1:7777".into(),
            msn: "778899".into(),
            run_id: "20250102-100000-abcd".into(),
            folder: format!("{target}-run"),
            exchanges: 12,
        }
    }

    fn difference(class: Class, full: bool) -> Difference {
        Difference {
            id: "capture | POST /epayment/v1/payments/{ref1}/capture | status".into(),
            kind: DiffKind::Status,
            class,
            scenario: "capture".into(),
            checklist_ids: vec!["EP-CAPTURE".into()],
            operation: "POST /epayment/v1/payments/{ref1}/capture".into(),
            summary: "200 on the simulator, 409 on the target".into(),
            simulator: json!({"state": "AUTHORIZED"}),
            target: if full {
                json!({"title": "Conflict"})
            } else {
                json!(null)
            },
            simulator_reference: full.then(|| "acme-1".into()),
            target_reference: full.then(|| "acme-2".into()),
            deviation: full.then(|| DeviationRef {
                id: "D-1".into(),
                title: "a known deviation".into(),
                doc: "docs/fidelity.md#d-1".into(),
            }),
            allowed_by: full.then(|| "capture | *".into()),
        }
    }

    /// A comparison with a row of every class; `full` fills every optional
    /// field, else leaves every one out.
    fn comparison(full: bool) -> Comparison {
        let at = chrono::Utc.with_ymd_and_hms(2025, 1, 2, 10, 0, 0).unwrap();
        Comparison {
            schema_version: super::super::COMPARE_SCHEMA_VERSION,
            tool_version: "0.1.0".into(),
            compare_id: "cmp-1".into(),
            started_at: at,
            finished_at: at,
            simulator: side("simulator"),
            target: side("test"),
            counts: Counts {
                unexpected: usize::from(full),
                known: 1,
                allowed: 1,
            },
            scenarios: vec![ScenarioRow {
                name: "capture".into(),
                checklist_ids: vec!["EP-CAPTURE".into()],
                compared: full,
                reason: (!full).then(|| "not run on the target".into()),
                simulator_verdict: Verdict::Pass,
                target_verdict: Verdict::Fail,
                differences: 3,
            }],
            items: if full {
                vec![super::super::ItemRow {
                    id: "EP-CAPTURE".into(),
                    simulator_verdict: Verdict::Pass,
                    target_verdict: Verdict::Fail,
                }]
            } else {
                Vec::new()
            },
            differences: [Class::Unexpected, Class::Known, Class::Allowed]
                .into_iter()
                .map(|class| difference(class, full))
                .collect(),
            unused_allow_entries: if full {
                vec!["refund | *".into()]
            } else {
                Vec::new()
            },
        }
    }

    #[test]
    fn every_template_renders_in_strict_mode_with_every_field_present_and_absent() {
        let mut hb = templates().unwrap().clone();
        hb.set_strict_mode(true);
        for name in hb.get_templates().keys() {
            // `compare` is the page; `style` is CSS, placed whole.
            assert!(
                ["compare", "style"].contains(&name.as_str()),
                "template `{name}` has no representative view in this test: add one"
            );
        }
        for full in [true, false] {
            let mut empty = comparison(full);
            empty.differences.clear();
            empty.scenarios.clear();
            for c in [comparison(full), empty] {
                let page = serde_json::to_value(page(&c)).unwrap();
                if let Err(e) = hb.render("compare", &page) {
                    panic!("compare.hbs (full: {full}) failed in strict mode: {e}");
                }
            }
        }
        // And through `render`, as `compare` calls it.
        assert!(render(&comparison(true)).unwrap().contains("D-1"));
    }

    #[test]
    fn a_scenario_passing_on_one_side_only_makes_the_headline_red_whatever_the_counts() {
        let mut c = comparison(false);
        c.differences.clear();
        c.counts = Counts::default();
        c.scenarios[0].compared = true;
        let html = render(&c).unwrap();
        assert!(!html.contains("No unexpected difference"), "{html}");
        assert!(html.contains("not-ready"));
        c.scenarios[0].target_verdict = Verdict::Pass;
        assert!(render(&c).unwrap().contains("No unexpected difference"));
    }

    #[test]
    fn the_templates_are_parsed_once_per_process() {
        let first: *const Handlebars<'static> = templates().unwrap();
        let second: *const Handlebars<'static> = templates().unwrap();
        assert_eq!(first, second);
    }
}

//! `compare.html`: the comparison as a page, with the report's look.
//!
//! Like the evidence report it is one self-contained file: inline CSS, no
//! script, nothing fetched. Handlebars escapes every value.

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
    let rows = |class: Class| -> Vec<Row<'_>> {
        c.differences
            .iter()
            .filter(|d| d.class == class)
            .map(row)
            .collect()
    };
    let compared = c.scenarios.iter().filter(|s| s.compared).count();
    let (banner, headline) = if c.counts.unexpected > 0 {
        (
            "not-ready",
            format!(
                "{} unexpected difference(s): the simulator and the target disagree",
                c.counts.unexpected
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
    let page = Page {
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
        unused: &c.unused_allow_entries,
    };
    let mut hb = Handlebars::new();
    hb.register_template_string("compare", TEMPLATE)
        .map_err(|e| e.to_string())?;
    hb.register_template_string("style", STYLE)
        .map_err(|e| e.to_string())?;
    hb.render("compare", &page).map_err(|e| e.to_string())
}

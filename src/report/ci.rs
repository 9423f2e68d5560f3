//! `junit.xml` and `cucumber.json`: what CI reads, written from the same
//! [`Evidence`] as the report, after the rules judged the run, so the three
//! can never disagree.
//!
//! cucumber-rs's own writers saw only the steps: a failure found by a rule
//! (QA-HEADERS over the recorded exchanges) had no failing test case, a
//! scenario that was never started was missing instead of skipped, and the
//! messages were cucumber's ("Step panicked. Captured output: ...").
//! Here every scenario is a test case with its checklist IDs, and a second
//! suite, `checklist`, holds one test case per checklist item whose result is
//! the item's verdict. docs/evidence-schema.md documents both formats.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::evidence::model::{
    Evidence, ItemResult, ScenarioResult, StepOutcome, StepResult, Verdict,
};

/// The name of the suite (and of the cucumber.json feature) of checklist items.
pub(crate) const CHECKLIST_SUITE: &str = "checklist";

/// What CI makes of a verdict.
enum Outcome {
    /// Passed; a WARNING says why in its output.
    Passed,
    /// `<failure>`: the shop's integration did something the checklist
    /// refuses. The message, then the whole account (the message when empty).
    Failed(String, String),
    /// `<skipped>`: not applicable, or a person must confirm it.
    Skipped(String),
    /// `<error>`: the target failed (5xx, timeout, no answer), not the shop:
    /// INCONCLUSIVE (the run exits 3 when nothing failed).
    Errored(String),
}

fn outcome(verdict: Verdict, reason: Option<&str>) -> Outcome {
    let said = |v: Verdict| match reason {
        Some(r) if !r.is_empty() => format!("{}: {r}", v.label()),
        _ => v.label().to_owned(),
    };
    // Every verdict named, so a new one has to be placed here on purpose.
    match verdict {
        // A person's word passes CI; its `verdict` property says ATTESTED.
        Verdict::Pass | Verdict::Warning | Verdict::Attested => Outcome::Passed,
        Verdict::Fail => Outcome::Failed(said(verdict), String::new()),
        Verdict::Inconclusive => Outcome::Errored(said(verdict)),
        Verdict::NotApplicable
        | Verdict::NeedsAttestation
        | Verdict::PartlyProven
        | Verdict::NotRun => Outcome::Skipped(said(verdict)),
    }
}

/// The step that made the scenario fail: the first that failed or matched
/// no step definition.
fn failed_step(s: &ScenarioResult) -> Option<&StepResult> {
    s.steps
        .iter()
        .find(|st| matches!(st.outcome, StepOutcome::Failed | StepOutcome::Undefined))
}

/// A failed scenario in the user's words: the step, then what the target
/// answered and what to do (the step's message carries both).
fn scenario_failure(s: &ScenarioResult) -> String {
    match failed_step(s) {
        Some(step) => {
            let said = step.message.as_deref().unwrap_or("failed");
            format!("{} {}: {said}", step.keyword, step.text)
        }
        None => s.reason.clone().unwrap_or_else(|| "FAIL".to_owned()),
    }
}

fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds().max(0) as f64 / 1000.0
}

/// The steps as a CI page shows them in a test case's output.
fn step_lines(steps: &[StepResult]) -> String {
    let mut out = String::new();
    for st in steps {
        let mark = match st.outcome {
            StepOutcome::Passed => "passed   ",
            StepOutcome::Failed => "FAILED   ",
            StepOutcome::Undefined => "UNDEFINED",
            StepOutcome::Skipped => "skipped  ",
        };
        let _ = writeln!(out, "{mark} {} {}", st.keyword, st.text);
        if let Some(m) = &st.message {
            let _ = writeln!(out, "          {m}");
        }
    }
    out
}

/// An attribute value XML 1.0 can hold (see [`escape`]).
fn xml(text: &str) -> String {
    escape(text, true)
}

/// Text that XML 1.0 can hold: characters it forbids (most C0 controls)
/// are dropped, and the markup characters escaped; in an attribute a
/// newline is escaped too, or a reader would take it for a space.
fn escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' | '\r' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A message attribute short enough for a CI page's summary; the whole
/// text is in the element's body.
fn short(message: &str) -> String {
    const MAX: usize = 1000;
    match message.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &message[..at]),
        None => message.to_owned(),
    }
}

/// A test case's `<property>`.
fn property(out: &mut String, name: &str, value: &str) {
    property_at(out, 8, name, value);
}

/// A `<property>`, indented `depth` spaces.
fn property_at(out: &mut String, depth: usize, name: &str, value: &str) {
    let _ = writeln!(
        out,
        "{:depth$}<property name=\"{}\" value=\"{}\"/>",
        "",
        xml(name),
        xml(value)
    );
}

/// One `<testcase>`: properties, then its result, then its output.
fn testcase(out: &mut String, head: &str, properties: &str, result: &Outcome, output: &str) {
    let _ = writeln!(out, "    <testcase {head}>");
    if !properties.is_empty() {
        let _ = write!(out, "      <properties>\n{properties}      </properties>\n");
    }
    match result {
        Outcome::Passed => {}
        Outcome::Failed(message, body) => {
            let body = if body.is_empty() { message } else { body };
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"FAIL\">{}</failure>",
                xml(&short(message)),
                escape(body, false)
            );
        }
        Outcome::Skipped(m) => {
            let _ = writeln!(out, "      <skipped message=\"{}\"/>", xml(&short(m)));
        }
        Outcome::Errored(m) => {
            let _ = writeln!(
                out,
                "      <error message=\"{}\" type=\"INCONCLUSIVE\">{}</error>",
                xml(&short(m)),
                escape(m, false)
            );
        }
    }
    if !output.is_empty() {
        let _ = writeln!(
            out,
            "      <system-out>{}</system-out>",
            escape(output, false)
        );
    }
    let _ = writeln!(out, "    </testcase>");
}

/// Counts of one suite.
#[derive(Default, Clone, Copy)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    time: f64,
}

impl Counts {
    fn add(&mut self, result: &Outcome, time: f64) {
        self.tests += 1;
        self.time += time;
        match result {
            Outcome::Passed => {}
            Outcome::Failed(..) => self.failures += 1,
            Outcome::Skipped(_) => self.skipped += 1,
            Outcome::Errored(_) => self.errors += 1,
        }
    }

    fn attributes(&self) -> String {
        format!(
            "tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\"",
            self.tests, self.failures, self.errors, self.skipped, self.time
        )
    }
}

/// One suite's opening tag and body.
struct Suite {
    head: String,
    properties: String,
    body: String,
    counts: Counts,
}

impl Suite {
    fn write(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "  <testsuite {} {}>",
            self.head,
            self.counts.attributes()
        );
        if !self.properties.is_empty() {
            let _ = write!(
                out,
                "    <properties>\n{}    </properties>\n",
                self.properties
            );
        }
        out.push_str(&self.body);
        let _ = writeln!(out, "  </testsuite>");
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// The scenarios, one suite per feature file in the order they ran.
fn scenario_suites(e: &Evidence) -> Vec<Suite> {
    let mut suites: Vec<(String, Suite)> = Vec::new();
    for s in &e.scenarios {
        let uri = s.source.as_ref().map(|src| src.uri.clone());
        let key = uri.clone().unwrap_or_else(|| s.feature.clone());
        if suites.last().map(|(k, _)| k) != Some(&key) {
            let file = uri
                .as_deref()
                .map(|u| format!(" file=\"{}\"", xml(u)))
                .unwrap_or_default();
            let head = format!(
                "name=\"{}\"{file} timestamp=\"{}\"",
                xml(&s.feature),
                timestamp(s.started_at)
            );
            let suite = Suite {
                head,
                properties: String::new(),
                body: String::new(),
                counts: Counts::default(),
            };
            suites.push((key, suite));
        }
        if let Some((_, suite)) = suites.last_mut() {
            scenario_case(suite, s);
        }
    }
    suites.into_iter().map(|(_, s)| s).collect()
}

fn scenario_case(suite: &mut Suite, s: &ScenarioResult) {
    let result = match outcome(s.verdict, s.reason.as_deref()) {
        Outcome::Failed(..) => Outcome::Failed(scenario_failure(s), String::new()),
        // Whose failure it was, then the step and what the target answered.
        Outcome::Errored(_) => Outcome::Errored(format!(
            "INCONCLUSIVE (the target failed, not the shop): {}",
            scenario_failure(s)
        )),
        other => other,
    };
    let time = seconds(s.started_at, s.finished_at);
    let mut head = format!(
        "name=\"{}\" classname=\"{}\"",
        xml(&s.name),
        xml(&s.feature)
    );
    if let Some(src) = &s.source {
        let _ = write!(head, " file=\"{}\" line=\"{}\"", xml(&src.uri), src.line);
    }
    let _ = write!(head, " time=\"{time:.3}\"");
    let mut properties = String::new();
    for id in &s.checklist_ids {
        property(&mut properties, "checklist_id", id);
    }
    property(&mut properties, "verdict", s.verdict.label());
    let tags: Vec<String> = s.tags.iter().map(|t| format!("@{t}")).collect();
    property(&mut properties, "tags", &tags.join(" "));
    for r in &s.references {
        property(&mut properties, "reference", r);
    }
    let mut output = step_lines(&s.steps);
    if let (Verdict::Warning, Some(reason)) = (s.verdict, &s.reason) {
        output = format!("WARNING: {reason}\n{output}");
    }
    testcase(&mut suite.body, &head, &properties, &result, &output);
    suite.counts.add(&result, time);
}

/// What the rules found of `item`, with what to do: the body of its failure.
fn item_output(e: &Evidence, item: &ItemResult) -> String {
    let mut out = format!("{} {}: {}\n", item.id, item.verdict.label(), item.title);
    if let Some(reason) = &item.reason {
        let _ = writeln!(out, "{reason}");
    }
    const SHOWN: usize = 20;
    let findings: Vec<_> = e
        .findings
        .iter()
        .filter(|f| f.checklist_id == item.id)
        .collect();
    // A finding's message names its request and time already.
    for f in findings.iter().take(SHOWN) {
        let _ = writeln!(out, "- {}; {}", f.message, f.advice);
    }
    if findings.len() > SHOWN {
        let _ = writeln!(
            out,
            "... and {} more in report.html",
            findings.len() - SHOWN
        );
    }
    for s in &item.scenarios {
        let _ = writeln!(out, "scenario: {s}");
    }
    out
}

/// The `checklist` suite: one test case per item, its verdict as the result.
fn checklist_suite(e: &Evidence) -> Suite {
    let mut suite = Suite {
        head: format!(
            "name=\"{CHECKLIST_SUITE}\" timestamp=\"{}\"",
            timestamp(e.run.started_at)
        ),
        properties: String::new(),
        body: String::new(),
        counts: Counts::default(),
    };
    let mut suite_property = |name: &str, value: &str| {
        property_at(&mut suite.properties, 6, name, value);
    };
    suite_property("run_id", &e.run.run_id);
    suite_property("target", &e.run.target);
    if let Some(class) = &e.run.target_class {
        suite_property("target_class", class);
    }
    if let Some(traffic) = &e.run.traffic {
        suite_property("traffic", traffic);
    }
    for item in &e.items {
        let result = match outcome(item.verdict, item.reason.as_deref()) {
            Outcome::Failed(message, _) => Outcome::Failed(message, item_output(e, item)),
            other => other,
        };
        let head = format!(
            "name=\"{}\" classname=\"{CHECKLIST_SUITE}\" time=\"0.000\"",
            xml(&item.id)
        );
        let mut properties = String::new();
        property(&mut properties, "checklist_id", &item.id);
        property(&mut properties, "title", &item.title);
        property(&mut properties, "verdict", item.verdict.label());
        for s in &item.scenarios {
            property(&mut properties, "scenario", s);
        }
        for r in &item.references {
            property(&mut properties, "reference", r);
        }
        if let Some(a) = &item.attestation {
            property(&mut properties, "attested_by", &a.by);
        }
        let output = match (&result, item.verdict) {
            (Outcome::Passed, Verdict::Warning) => item_output(e, item),
            _ => String::new(),
        };
        testcase(&mut suite.body, &head, &properties, &result, &output);
        suite.counts.add(&result, 0.0);
    }
    suite
}

/// `junit.xml`: a suite per feature file (a test case per scenario, every
/// one of them), then the `checklist` suite.
pub(crate) fn junit(e: &Evidence) -> String {
    let mut suites = scenario_suites(e);
    suites.push(checklist_suite(e));
    let mut total = Counts::default();
    for s in &suites {
        total.tests += s.counts.tests;
        total.failures += s.counts.failures;
        total.errors += s.counts.errors;
        total.skipped += s.counts.skipped;
    }
    total.time = seconds(e.run.started_at, e.run.finished_at);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"vipps-golive {}\" {}>",
        xml(&e.run.run_id),
        total.attributes()
    );
    for s in &suites {
        s.write(&mut out);
    }
    out.push_str("</testsuites>\n");
    out
}

/// A cucumber.json id: lower case, words joined by `-`.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

fn step_json(st: &StepResult, note: Option<&str>) -> Value {
    let status = match st.outcome {
        StepOutcome::Passed => "passed",
        StepOutcome::Failed => "failed",
        StepOutcome::Skipped => "skipped",
        StepOutcome::Undefined => "undefined",
    };
    let mut result = json!({ "status": status });
    if let Some(m) = st.message.as_deref().or(note) {
        result["error_message"] = m.into();
    }
    let mut step = json!({
        // Cucumber's own files keep the space after the keyword.
        "keyword": format!("{} ", st.keyword),
        "name": st.text,
        "result": result,
    });
    if let Some(line) = st.line {
        step["line"] = line.into();
    }
    step
}

fn element_json(feature_id: &str, s: &ScenarioResult) -> Value {
    let tags: Vec<Value> = s
        .tags
        .iter()
        .map(|t| json!({ "name": format!("@{t}") }))
        .collect();
    // A scenario that was never started says why on its first step.
    let not_started = match outcome(s.verdict, s.reason.as_deref()) {
        Outcome::Skipped(why) => Some(why),
        _ => None,
    };
    let steps: Vec<Value> = s
        .steps
        .iter()
        .enumerate()
        .map(|(i, st)| step_json(st, not_started.as_deref().filter(|_| i == 0)))
        .collect();
    let mut element = json!({
        "id": format!("{feature_id};{}", slug(&s.name)),
        "keyword": s.source.as_ref().map_or("Scenario", |src| src.keyword.as_str()),
        "type": "scenario",
        "name": s.name,
        "description": "",
        "tags": tags,
        "steps": steps,
    });
    if let Some(src) = &s.source {
        element["line"] = src.line.into();
    }
    // A FAIL that no step shows (a hook failed): an after hook carries it,
    // so the scenario is failed here as in the report.
    if s.verdict == Verdict::Fail && failed_step(s).is_none() {
        element["after"] = json!([{ "result": {
            "status": "failed",
            "error_message": scenario_failure(s),
        }}]);
    }
    element
}

fn checklist_feature(e: &Evidence) -> Value {
    let elements: Vec<Value> = e
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let status = match outcome(item.verdict, item.reason.as_deref()) {
                Outcome::Passed => "passed",
                Outcome::Failed(..) => "failed",
                Outcome::Skipped(_) => "skipped",
                // cucumber.json has no "error": red, as the run's exit 3 is,
                // its message saying INCONCLUSIVE and why.
                Outcome::Errored(_) => "failed",
            };
            let mut result = json!({ "status": status });
            if let Some(reason) = &item.reason {
                result["error_message"] = reason.as_str().into();
            }
            json!({
                "id": format!("{CHECKLIST_SUITE};{}", slug(&item.id)),
                "keyword": "Item",
                "type": "scenario",
                "name": item.id,
                "description": item.title,
                "line": i + 1,
                "tags": [{ "name": format!("@{}", item.id) }],
                "steps": [{
                    "keyword": "Then ",
                    "name": format!("the verdict is {}", item.verdict.label()),
                    "line": i + 1,
                    "result": result,
                }],
            })
        })
        .collect();
    json!({
        "uri": CHECKLIST_SUITE,
        "id": CHECKLIST_SUITE,
        "keyword": "Checklist",
        "name": CHECKLIST_SUITE,
        "description": "The go-live checklist: one element per item, its verdict as the step's result.",
        "line": 1,
        "tags": [],
        "elements": elements,
    })
}

/// `cucumber.json`: one feature per feature file (every scenario, every
/// step), then a `checklist` feature with one element per item.
pub(crate) fn cucumber_json(e: &Evidence) -> String {
    let mut features: Vec<(String, Value)> = Vec::new();
    for s in &e.scenarios {
        let uri = s.source.as_ref().map(|src| src.uri.clone());
        let key = uri.clone().unwrap_or_else(|| s.feature.clone());
        if features.last().map(|(k, _)| k) != Some(&key) {
            let id = slug(&s.feature);
            let line = s.source.as_ref().map_or(1, |src| src.feature_line);
            let feature = json!({
                "uri": uri.unwrap_or_else(|| s.feature.clone()),
                "id": id,
                "keyword": "Feature",
                "name": s.feature,
                "description": "",
                "line": line,
                "tags": [],
                "elements": [],
            });
            features.push((key, feature));
        }
        if let Some((_, feature)) = features.last_mut() {
            let id = feature["id"].as_str().unwrap_or_default().to_owned();
            if let Some(elements) = feature["elements"].as_array_mut() {
                elements.push(element_json(&id, s));
            }
        }
    }
    let mut all: Vec<Value> = features.into_iter().map(|(_, f)| f).collect();
    all.push(checklist_feature(e));
    serde_json::to_string_pretty(&all).unwrap_or_else(|_| "[]".to_owned())
}

/// Its tests, and the XML reader other rooms' tests use to read junit.xml.
#[cfg(test)]
pub(crate) mod tests;

//! junit.xml and cucumber.json from one evidence: every scenario, the
//! checklist suite, and messages in the user's words.

use chrono::{TimeZone as _, Utc};
use quick_xml::events::Event;
use serde_json::Value;

use super::*;
use crate::evidence::model::{
    ExchangeRef, Finding, ItemResult, ScenarioSource, Severity, StepOutcome, StepResult, Verdict,
};
use crate::evidence::{FolderKind, RunMeta, TargetInfo};

/// An element of the parsed XML: name, attributes, children and text.
#[derive(Debug, Default)]
pub(crate) struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    pub text: String,
}

impl Node {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn all(&self, name: &str) -> Vec<&Node> {
        self.children.iter().filter(|c| c.name == name).collect()
    }
    pub fn one(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
    /// The values of `<property name="...">` under `<properties>`.
    pub fn properties(&self, name: &str) -> Vec<String> {
        self.one("properties")
            .map(|p| {
                p.all("property")
                    .into_iter()
                    .filter(|q| q.attr("name") == Some(name))
                    .filter_map(|q| q.attr("value").map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Parses `xml` into its root element, failing on anything malformed.
pub(crate) fn parse(xml: &str) -> Node {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack = vec![Node::default()];
    let open = |e: &quick_xml::events::BytesStart<'_>| Node {
        name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                let key = String::from_utf8(a.key.as_ref().to_vec()).unwrap();
                (key, a.unescape_value().unwrap().into_owned())
            })
            .collect(),
        ..Node::default()
    };
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => stack.push(open(&e)),
            Event::Empty(e) => {
                let node = open(&e);
                stack.last_mut().unwrap().children.push(node);
            }
            Event::End(_) => {
                let node = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(node);
            }
            Event::Text(t) => stack.last_mut().unwrap().text += &t.unescape().unwrap(),
            Event::CData(t) => {
                stack.last_mut().unwrap().text += std::str::from_utf8(&t).unwrap();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unbalanced XML");
    stack.pop().unwrap().children.pop().unwrap()
}

fn at(seconds: i64) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, 0).unwrap() + chrono::Duration::seconds(seconds)
}

fn step(keyword: &str, text: &str, outcome: StepOutcome, message: Option<&str>) -> StepResult {
    StepResult {
        keyword: keyword.into(),
        text: text.into(),
        outcome,
        message: message.map(str::to_owned),
        line: Some(10),
    }
}

fn scenario(name: &str, tags: &[&str], verdict: Verdict, reason: Option<&str>) -> ScenarioResult {
    let tags: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
    ScenarioResult {
        name: name.into(),
        feature: "Endpoints to integrate".into(),
        checklist_ids: tags
            .iter()
            .filter(|t| crate::domain::checklist::find(t).is_some())
            .cloned()
            .collect(),
        tags,
        verdict,
        reason: reason.map(str::to_owned),
        references: Vec::new(),
        started_at: at(0),
        finished_at: at(2),
        steps: Vec::new(),
        source: Some(ScenarioSource {
            uri: "features/endpoints.feature".into(),
            feature_line: 1,
            line: 20,
            keyword: "Scenario".into(),
        }),
    }
}

fn item(id: &str, verdict: Verdict, reason: Option<&str>) -> ItemResult {
    ItemResult {
        id: id.into(),
        title: format!("the {id} item"),
        verdict,
        reason: reason.map(str::to_owned),
        scenarios: Vec::new(),
        references: Vec::new(),
        attestation: None,
    }
}

const REFUND_500: &str = "HTTP 500 Internal error (trace id abc): An internal error occurred (the target failed; try again later)";

/// A run with a refund answered 500, a scenario the target cannot run, one
/// that needs a person, and a QA-HEADERS failure only a rule found.
fn evidence() -> crate::evidence::model::Evidence {
    let mut refund = scenario(
        "The shop refunds part of a captured payment",
        &["EP-REFUND", "simulator"],
        Verdict::Fail,
        Some(REFUND_500),
    );
    refund.steps = vec![
        step(
            "Given",
            "a payment of 249.00 NOK that the customer has approved",
            StepOutcome::Passed,
            None,
        ),
        step(
            "When",
            "the shop refunds 50.00 NOK",
            StepOutcome::Failed,
            Some(REFUND_500),
        ),
        step(
            "Then",
            "the payment is AUTHORIZED with 249.00 NOK captured and 50.00 NOK refunded",
            StepOutcome::Skipped,
            None,
        ),
    ];
    let mut headers = scenario(
        "Every request carries the headers",
        &["QA-HEADERS", "simulator"],
        Verdict::Pass,
        None,
    );
    headers.steps = vec![step(
        "Then",
        "every request of this scenario carried the Vipps headers",
        StepOutcome::Passed,
        None,
    )];
    let mut return_page = scenario(
        "The shop's return page opens in a fresh browser",
        &["PF-REDIRECTS", "simulator"],
        Verdict::NotApplicable,
        Some("needs the shop's own return page (hint: --return-url URL)"),
    );
    return_page.steps = vec![step(
        "Given",
        "the shop's own return page",
        StepOutcome::Skipped,
        None,
    )];
    let design = scenario(
        "The shop follows the design guidelines",
        &["PF-DESIGN", "manual"],
        Verdict::NeedsAttestation,
        Some("a person must confirm it"),
    );
    let finding = Finding {
        checklist_id: "QA-HEADERS".into(),
        rule: "headers.placeholder".into(),
        severity: Severity::Fail,
        message: "`Vipps-System-Name` is a placeholder left from an example".into(),
        advice: "send your system's own name".into(),
        exchange: Some(ExchangeRef {
            id: "e1".into(),
            time: at(1),
            method: "POST".into(),
            path: "/epayment/v1/payments".into(),
            reference: None,
        }),
    };
    RunMeta::new(FolderKind::Run, at(0))
        .evidence(TargetInfo::new("simulator", ""))
        .span(at(0), at(3))
        .scenarios(vec![refund, headers, return_page, design])
        .items(vec![
            item("EP-REFUND", Verdict::Fail, Some(REFUND_500)),
            item(
                "QA-HEADERS",
                Verdict::Fail,
                Some("`Vipps-System-Name` is a placeholder left from an example"),
            ),
            item("EP-CREATE", Verdict::Pass, None),
            item(
                "QA-STATES",
                Verdict::Warning,
                Some("EXPIRED was not reached"),
            ),
            item(
                "PF-REDIRECTS",
                Verdict::NotApplicable,
                Some("needs the shop's own return page"),
            ),
            item(
                "PF-DESIGN",
                Verdict::NeedsAttestation,
                Some("a person must confirm it"),
            ),
        ])
        .findings(vec![finding])
        .finish()
}

fn suite<'a>(root: &'a Node, name: &str) -> &'a Node {
    root.all("testsuite")
        .into_iter()
        .find(|s| s.attr("name") == Some(name))
        .unwrap_or_else(|| panic!("no suite {name}"))
}

fn case<'a>(suite: &'a Node, name: &str) -> &'a Node {
    suite
        .all("testcase")
        .into_iter()
        .find(|c| c.attr("name") == Some(name))
        .unwrap_or_else(|| panic!("no testcase {name}"))
}

#[test]
fn junit_holds_every_scenario_with_its_checklist_ids_and_skips_what_did_not_run() {
    let root = parse(&junit(&evidence()));
    assert_eq!(root.name, "testsuites");
    let endpoints = suite(&root, "Endpoints to integrate");
    assert_eq!(endpoints.attr("file"), Some("features/endpoints.feature"));
    assert_eq!(endpoints.all("testcase").len(), 4, "every scenario");
    assert_eq!(endpoints.attr("tests"), Some("4"));
    assert_eq!(endpoints.attr("failures"), Some("1"));
    assert_eq!(endpoints.attr("skipped"), Some("2"));

    let refund = case(endpoints, "The shop refunds part of a captured payment");
    assert_eq!(refund.properties("checklist_id"), ["EP-REFUND"]);
    assert_eq!(refund.properties("tags"), ["@EP-REFUND @simulator"]);
    assert_eq!(refund.attr("line"), Some("20"));
    assert_eq!(refund.attr("time"), Some("2.000"));
    let failure = refund.one("failure").expect("the refund failed");
    let message = failure.attr("message").unwrap();
    assert!(
        message.starts_with("When the shop refunds 50.00 NOK: HTTP 500"),
        "the step, then the answer: {message}"
    );
    assert!(message.contains("try again later"), "what to do: {message}");

    let na = case(endpoints, "The shop's return page opens in a fresh browser");
    let skipped = na.one("skipped").expect("not applicable is skipped");
    assert_eq!(
        skipped.attr("message"),
        Some("NOT APPLICABLE: needs the shop's own return page (hint: --return-url URL)")
    );
    assert!(na.one("failure").is_none());
    let design = case(endpoints, "The shop follows the design guidelines");
    assert_eq!(
        design.one("skipped").unwrap().attr("message"),
        Some("NEEDS ATTESTATION: a person must confirm it")
    );
    let headers = case(endpoints, "Every request carries the headers");
    assert!(headers.one("failure").is_none() && headers.one("skipped").is_none());
}

#[test]
fn junit_has_a_checklist_suite_whose_results_are_the_item_verdicts() {
    let root = parse(&junit(&evidence()));
    let checklist = suite(&root, "checklist");
    assert_eq!(checklist.all("testcase").len(), 6, "one per item");
    assert_eq!(checklist.properties("target"), ["simulator"]);

    // A failure only a rule found fails CI where the report says FAIL, with
    // what is wrong, where, and what to do.
    let headers = case(checklist, "QA-HEADERS");
    assert_eq!(headers.properties("verdict"), ["FAIL"]);
    let failure = headers.one("failure").expect("QA-HEADERS fails");
    assert_eq!(
        failure.attr("message"),
        Some("FAIL: `Vipps-System-Name` is a placeholder left from an example")
    );
    assert!(
        failure
            .text
            .contains("- `Vipps-System-Name` is a placeholder left from an example; send your system's own name"),
        "{}",
        failure.text
    );

    assert!(case(checklist, "EP-REFUND").one("failure").is_some());
    let create = case(checklist, "EP-CREATE");
    assert!(create.one("failure").is_none() && create.one("skipped").is_none());
    let warning = case(checklist, "QA-STATES");
    assert!(
        warning.one("failure").is_none(),
        "a WARNING does not fail CI"
    );
    assert!(warning
        .one("system-out")
        .unwrap()
        .text
        .contains("EXPIRED was not reached"));
    assert_eq!(
        case(checklist, "PF-REDIRECTS")
            .one("skipped")
            .unwrap()
            .attr("message"),
        Some("NOT APPLICABLE: needs the shop's own return page")
    );
    assert_eq!(
        case(checklist, "PF-DESIGN")
            .one("skipped")
            .unwrap()
            .attr("message"),
        Some("NEEDS ATTESTATION: a person must confirm it")
    );
    // The totals count both suites.
    assert_eq!(root.attr("tests"), Some("10"));
    assert_eq!(root.attr("failures"), Some("3"));
    assert_eq!(root.attr("skipped"), Some("4"));
}

#[test]
fn junit_never_carries_cucumber_panic_text_or_source_locations() {
    let xml = junit(&evidence());
    for bad in [
        "Step panicked",
        "Captured output",
        "Matched:",
        "src/steps/",
        ".rs:",
    ] {
        assert!(!xml.contains(bad), "{bad} in {xml}");
    }
}

#[test]
fn text_xml_cannot_hold_is_dropped_and_markup_escaped() {
    let mut e = evidence();
    e.scenarios[0].steps[1].message = Some("a <b> & \"c\" \u{1b}[31mred\u{7}\nnext".into());
    let xml = junit(&e);
    let root = parse(&xml);
    let refund = case(
        suite(&root, "Endpoints to integrate"),
        "The shop refunds part of a captured payment",
    );
    assert_eq!(
        refund.one("failure").unwrap().attr("message"),
        Some("When the shop refunds 50.00 NOK: a <b> & \"c\" [31mred\nnext")
    );
}

fn cucumber(e: &crate::evidence::model::Evidence) -> Vec<Value> {
    serde_json::from_str::<Value>(&cucumber_json(e))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn cucumber_json_marks_the_step_that_failed_and_skips_the_rest() {
    let features = cucumber(&evidence());
    let endpoints = &features[0];
    assert_eq!(endpoints["uri"], "features/endpoints.feature");
    assert_eq!(endpoints["id"], "endpoints-to-integrate");
    assert_eq!(endpoints["line"], 1);
    let elements = endpoints["elements"].as_array().unwrap();
    assert_eq!(elements.len(), 4, "every scenario");
    let refund = &elements[0];
    assert_eq!(
        refund["id"],
        "endpoints-to-integrate;the-shop-refunds-part-of-a-captured-payment"
    );
    assert_eq!(refund["line"], 20);
    assert_eq!(
        refund["tags"],
        serde_json::json!([{ "name": "@EP-REFUND" }, { "name": "@simulator" }])
    );
    let statuses: Vec<&str> = refund["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["result"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["passed", "failed", "skipped"]);
    assert_eq!(refund["steps"][1]["name"], "the shop refunds 50.00 NOK");
    assert_eq!(refund["steps"][1]["keyword"], "When ");
    assert_eq!(refund["steps"][1]["result"]["error_message"], REFUND_500);

    // Never started: present, its steps skipped, the reason on the first.
    let na = &elements[2];
    assert_eq!(na["steps"][0]["result"]["status"], "skipped");
    assert!(na["steps"][0]["result"]["error_message"]
        .as_str()
        .unwrap()
        .starts_with("NOT APPLICABLE: "));
}

#[test]
fn cucumber_json_ends_with_the_checklist_and_its_verdicts() {
    let features = cucumber(&evidence());
    let checklist = features.last().unwrap();
    assert_eq!(checklist["id"], "checklist");
    let status = |id: &str| {
        checklist["elements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == id)
            .unwrap()["steps"][0]["result"]["status"]
            .clone()
    };
    assert_eq!(status("QA-HEADERS"), "failed");
    assert_eq!(status("EP-CREATE"), "passed");
    assert_eq!(status("QA-STATES"), "passed");
    assert_eq!(status("PF-REDIRECTS"), "skipped");
    assert_eq!(status("PF-DESIGN"), "skipped");
}

#[test]
fn a_fail_no_step_shows_fails_the_scenario_through_an_after_hook() {
    let mut e = evidence();
    e.scenarios[1].verdict = Verdict::Fail;
    e.scenarios[1].reason = Some("the before hook failed".into());
    let features = cucumber(&e);
    let headers = &features[0]["elements"][1];
    assert_eq!(headers["after"][0]["result"]["status"], "failed");
    assert_eq!(
        headers["after"][0]["result"]["error_message"],
        "the before hook failed"
    );
}

#[test]
fn an_inconclusive_item_is_a_junit_error_not_a_failure_and_the_new_words_are_placed() {
    let mut e = evidence();
    e.items = vec![
        item(
            "EP-CAPTURE",
            Verdict::Inconclusive,
            Some("the target answered HTTP 500"),
        ),
        item(
            "PF-REDIRECTS",
            Verdict::PartlyProven,
            Some("not proven: the return page"),
        ),
        item("PF-DESIGN", Verdict::Attested, Some("attested by Kari")),
        item(
            "EP-REFUND",
            Verdict::NotRun,
            Some("the run stopped before it"),
        ),
    ];
    let root = parse(&junit(&e));
    let checklist = suite(&root, "checklist");
    let capture = case(checklist, "EP-CAPTURE");
    assert!(
        capture.one("failure").is_none(),
        "the target's failure is not the shop's"
    );
    let error = capture.one("error").expect("INCONCLUSIVE is a junit error");
    assert_eq!(error.attr("type"), Some("INCONCLUSIVE"));
    assert_eq!(
        error.attr("message"),
        Some("INCONCLUSIVE: the target answered HTTP 500")
    );
    assert_eq!(checklist.attr("errors"), Some("1"));
    assert_eq!(
        case(checklist, "PF-REDIRECTS")
            .one("skipped")
            .unwrap()
            .attr("message"),
        Some("PARTLY PROVEN: not proven: the return page")
    );
    let design = case(checklist, "PF-DESIGN");
    assert!(design.one("skipped").is_none() && design.one("failure").is_none());
    assert_eq!(design.properties("verdict"), ["ATTESTED"]);
    assert!(case(checklist, "EP-REFUND").one("skipped").is_some());
}

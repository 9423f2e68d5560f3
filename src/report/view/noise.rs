//! Signal over noise (issue 24 point 6): an error a scenario provoked on
//! purpose is labelled expected, and identical rows are shown once with a
//! count, so the red that remains is the red that matters.

use std::collections::HashMap;

use super::{FindingView, Index, ProblemView};
use crate::evidence::model::StepOutcome;

/// The scenario that provoked the error answered in `exchange_id` on
/// purpose: the exchange was sent by a scenario with a step that expected a
/// refusal ("Then the shop is refused ...") and passed, so the refusal came
/// as asked. None for an error no step asked for (those stay alarming).
pub(super) fn provoked_by(index: &Index<'_>, exchange_id: &str) -> Option<String> {
    let exchange = index.exchanges_by_id.get(exchange_id)?;
    let scenario = index.scenario_by_name.get(exchange.scenario.as_deref()?)?;
    scenario
        .steps
        .iter()
        .any(|s| s.outcome == StepOutcome::Passed && s.text.contains("refused"))
        .then(|| scenario.name.clone())
}

/// Identical error answers (same status, title, detail, error code,
/// explanation and expectedness) as one row with their count, in the order
/// each first came; the row links to the first of them.
pub(super) fn group_problems(problems: Vec<ProblemView>) -> Vec<ProblemView> {
    group(
        problems,
        |p| &mut p.count,
        |p| {
            format!(
                "{}\0{}\0{:?}\0{:?}\0{}\0{:?}",
                p.status, p.title, p.detail, p.error_code, p.explanation, p.expected
            )
        },
    )
}

/// Identical findings (same item, rule, severity, message and advice) as
/// one row with their count; the row links to the first exchange.
pub(super) fn group_findings(findings: Vec<FindingView>) -> Vec<FindingView> {
    group(
        findings,
        |f| &mut f.count,
        |f| {
            format!(
                "{}\0{}\0{}\0{}\0{}",
                f.checklist_id, f.rule, f.severity, f.message, f.advice
            )
        },
    )
}

/// Folds each row into the first earlier row with the same `key`, adding
/// to its count; a map keeps it linear for an audit of thousands of rows.
fn group<T>(
    rows: Vec<T>,
    count: impl Fn(&mut T) -> &mut usize,
    key: impl Fn(&T) -> String,
) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for mut row in rows {
        match at.get(&key(&row)) {
            Some(&i) => {
                let n = *count(&mut row);
                *count(&mut out[i]) += n;
            }
            None => {
                at.insert(key(&row), out.len());
                out.push(row);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone as _, Utc};
    use serde_json::json;

    use crate::evidence::model::{Evidence, Verdict};
    use crate::evidence::{FolderKind, RunMeta, TargetInfo};

    fn exchange(id: &str, scenario: &str) -> serde_json::Value {
        json!({
            "schema_version": 1, "id": id, "started_at": "2025-03-01T10:00:01Z",
            "duration_ms": 3, "method": "POST",
            "url": "http://127.0.0.1:7777/epayment/v1/payments/acme-1/capture",
            "request_headers": [], "request_body": null, "status": 400,
            "response_headers": [], "response_body": null, "error": null, "attempt": 1,
            "reference": "acme-1", "checklist_ids": ["QA-ERRORS"], "scenario": scenario
        })
    }

    fn problem(exchange_id: &str, title: &str) -> serde_json::Value {
        json!({ "exchange_id": exchange_id, "status": 400, "title": title,
                "detail": "too much", "explanation": "capture less" })
    }

    fn scenario(name: &str, then: &str) -> serde_json::Value {
        json!({
            "name": name, "feature": "Errors", "tags": ["QA-ERRORS"],
            "checklist_ids": ["QA-ERRORS"], "verdict": "PASS",
            "started_at": "2025-03-01T10:00:00Z", "finished_at": "2025-03-01T10:00:02Z",
            "steps": [{ "keyword": "Then", "text": then, "outcome": "passed" }]
        })
    }

    /// A run where "Refused" asked for its 400 and "Unlucky" did not; the
    /// unlucky 500 came three times, and a placeholder header was found on
    /// eleven requests.
    fn evidence() -> Evidence {
        let at = Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, 0).unwrap();
        let placeholder = |i: usize| {
            json!({ "checklist_id": "QA-HEADERS", "rule": "headers.placeholder",
                    "severity": "fail", "message": "`Vipps-System-Name` is a placeholder",
                    "advice": "send your own", "exchange": { "id": format!("p{i}"),
                    "time": "2025-03-01T10:00:01Z", "method": "POST", "path": "/x" } })
        };
        let mut findings: Vec<_> = (0..11).map(placeholder).collect();
        findings.push(
            json!({ "checklist_id": "QA-HEADERS", "rule": "headers.missing",
            "severity": "fail", "message": "`Vipps-System-Version` is missing",
            "advice": "send it" }),
        );
        let mut e = RunMeta::new(FolderKind::Run, at)
            .evidence(TargetInfo::new("simulator", ""))
            .span(at, at)
            .scenarios(
                serde_json::from_value(json!([
                    scenario(
                        "Refused",
                        "the shop is refused with a problem explained in plain words"
                    ),
                    scenario("Unlucky", "the payment is CAPTURED"),
                ]))
                .unwrap(),
            )
            .items(
                serde_json::from_value(json!([{
                    "id": "QA-HEADERS", "title": "headers", "verdict": Verdict::Fail
                }]))
                .unwrap(),
            )
            .findings(serde_json::from_value(json!(findings)).unwrap())
            .finish();
        e.exchanges = serde_json::from_value(json!([
            exchange("x1", "Refused"),
            exchange("x2", "Unlucky"),
            exchange("x3", "Unlucky"),
            exchange("x4", "Unlucky"),
        ]))
        .unwrap();
        e.references = serde_json::from_value(json!([{
            "reference": "acme-1", "msn": "123456",
            "exchange_ids": ["x1", "x2", "x3", "x4"],
            "problems": [
                problem("x1", "Capture amount too high"),
                problem("x2", "Internal error"),
                problem("x3", "Internal error"),
                problem("x4", "Internal error"),
            ]
        }]))
        .unwrap();
        e
    }

    fn render() -> String {
        let seal = crate::report::seal::SealView {
            mark: "UNSIGNED",
            class: "unsigned",
            meaning: String::new(),
            key_fingerprint: None,
            signed_at: None,
            evidence_sha256: None,
            journal_sha256: None,
            run_id: "run-1".into(),
            check_command: String::new(),
            print_footer: String::new(),
        };
        crate::report::render(&evidence(), &seal).unwrap()
    }

    #[test]
    fn an_error_a_scenario_asked_for_is_expected_and_one_it_did_not_is_not() {
        let view = super::super::build(&evidence());
        let expected: Vec<_> = view
            .problems
            .iter()
            .map(|p| (p.title.as_str(), p.expected.as_deref()))
            .collect();
        assert_eq!(
            expected,
            [
                ("Capture amount too high", Some("Refused")),
                ("Internal error", None)
            ]
        );
        let html = render();
        assert!(
            html.contains(r#"<span class="expected-mark">expected</span> Capture amount too high"#)
        );
        assert!(!html.contains(r#"<span class="expected-mark">expected</span> Internal error"#));
    }

    #[test]
    fn identical_error_answers_and_findings_are_one_row_with_a_count() {
        let view = super::super::build(&evidence());
        let counts: Vec<_> = view
            .problems
            .iter()
            .map(|p| (p.title.as_str(), p.count))
            .collect();
        assert_eq!(
            counts,
            [("Capture amount too high", 1), ("Internal error", 3)]
        );
        // In the reference's card too, not only in the list at the top.
        let card: Vec<_> = view.references[0]
            .problems
            .iter()
            .map(|p| p.count)
            .collect();
        assert_eq!(card, [1, 3]);
        let findings: Vec<_> = view
            .findings
            .iter()
            .map(|f| (f.rule.as_str(), f.count))
            .collect();
        assert_eq!(
            findings,
            [("headers.placeholder", 11), ("headers.missing", 1)]
        );
        // The row links to the first of the eleven.
        assert_eq!(view.findings[0].exchange_anchor.as_deref(), Some("ex-p0"));
        assert_eq!(view.areas[0].items[0].findings.len(), 2);
        let html = render();
        assert!(html.contains("×11"), "no count on the placeholder rows");
        assert!(html.contains("×3"), "no count on the identical 500s");
    }
}

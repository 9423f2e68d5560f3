use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::*;
use crate::domain::exchange::SCHEMA_VERSION;
use crate::evidence::model::{
    Attestation, Finding, GoLive, GoLiveReference, ScenarioResult, StepResult,
};
use crate::evidence::{FolderKind, RunMeta, TargetInfo};

fn now() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_780_000_000, 0).unwrap()
}

fn get(n: u32, reference: &str, path: &str, body: Value) -> Exchange {
    Exchange {
        schema_version: SCHEMA_VERSION,
        id: format!("x-{reference}-{n}"),
        started_at: now(),
        duration_ms: 10,
        method: "GET".into(),
        url: format!("http://127.0.0.1:7777/epayment/v1/payments/{reference}{path}"),
        request_headers: Vec::new(),
        request_body: Value::Null,
        status: Some(200),
        response_headers: Vec::new(),
        response_body: body,
        error: None,
        attempt: 1,
        reference: Some(reference.into()),
        checklist_ids: vec!["GL-TEST".into()],
        scenario: None,
        kind: None,
    }
}

/// The GET of a payment (AUTHORIZED, 2.00 NOK authorized) and of its event
/// log, ending in `last`.
fn reads(
    reference: &str,
    captured: i64,
    refunded: i64,
    cancelled: i64,
    last: &str,
) -> Vec<Exchange> {
    let nok = |value: i64| json!({"currency": "NOK", "value": value});
    let payment = json!({
        "reference": reference,
        "state": "AUTHORIZED",
        "aggregate": {
            "authorizedAmount": nok(200),
            "capturedAmount": nok(captured),
            "refundedAmount": nok(refunded),
            "cancelledAmount": nok(cancelled),
        },
    });
    let event = |name: &str| json!({"name": name, "amount": nok(200), "timestamp": now().to_rfc3339(), "success": true});
    vec![
        get(1, reference, "", payment),
        get(
            2,
            reference,
            "/events",
            json!([event("CREATED"), event("AUTHORIZED"), event(last)]),
        ),
    ]
}

fn item(id: &str, verdict: Verdict) -> ItemResult {
    ItemResult {
        id: id.into(),
        title: id.into(),
        verdict,
        reason: None,
        scenarios: Vec::new(),
        references: Vec::new(),
        attestation: None,
    }
}

fn scenario(name: &str, id: &str, verdict: Verdict) -> ScenarioResult {
    ScenarioResult {
        name: name.into(),
        feature: "f".into(),
        tags: vec![id.into()],
        checklist_ids: vec![id.into()],
        verdict,
        reason: None,
        references: Vec::new(),
        started_at: now(),
        finished_at: now(),
        source: None,
        steps: vec![StepResult {
            keyword: "Then".into(),
            text: "it works".into(),
            outcome: StepOutcome::Passed,
            message: None,
            line: None,
        }],
    }
}

fn golive(refs: [&str; 3]) -> GoLive {
    GoLive {
        checklist_id: "GL-TEST".into(),
        references: ["CAPTURED", "REFUNDED", "CANCELLED"]
            .iter()
            .zip(refs)
            .map(|(o, r)| GoLiveReference {
                outcome: (*o).into(),
                reference: Some(r.into()),
            })
            .collect(),
    }
}

/// A run whose GL-TEST is PASS on three references read back as `exchanges`.
fn gl_run(exchanges: Vec<Exchange>) -> Evidence {
    RunMeta::new(FolderKind::Run, now())
        .evidence(TargetInfo::new("simulator", "http://127.0.0.1:7777"))
        .golive(Some(golive(["c", "r", "x"])))
        .items(vec![item("GL-TEST", Verdict::Pass)])
        .exchanges(exchanges)
        .finish()
}

fn honest() -> Vec<Exchange> {
    [
        reads("c", 200, 0, 0, "CAPTURED"),
        reads("r", 200, 200, 0, "REFUNDED"),
        reads("x", 0, 0, 200, "CANCELLED"),
    ]
    .concat()
}

fn said(found: &[Contradiction]) -> String {
    found.iter().map(|c| format!("{c}\n")).collect()
}

#[test]
fn a_go_live_pass_shown_by_every_last_read_holds() {
    assert_eq!(contradictions(&gl_run(honest())), []);
}

#[test]
fn a_captured_reference_whose_last_read_shows_nothing_captured_contradicts_the_pass() {
    let mut x = honest();
    // A later read of `c` (the lying target) shows nothing captured.
    x.extend(reads("c", 0, 0, 0, "CAPTURED").into_iter().map(|mut e| {
        e.id.push_str("-later");
        e
    }));
    let found = contradictions(&gl_run(x));
    let text = said(&found);
    assert!(!found.is_empty());
    assert!(
        found
            .iter()
            .all(|c| c.item == "GL-TEST" && c.subject == "`c`"),
        "{text}"
    );
    assert!(
        text.contains("the evidence contradicts the verdict: GL-TEST `c` PASS, but it is offered as ending CAPTURED, and its last answered read (exchange `x-c-1-later`) shows NOK 2.00 authorized, NOK 0.00 captured"),
        "{text}"
    );
    // The reference card (built from the same reads) says the same.
    assert!(
        text.contains("its reference card shows NOK 2.00 authorized, NOK 0.00 captured"),
        "{text}"
    );
}

#[test]
fn a_hand_edited_reference_card_contradicts_the_pass_too() {
    let mut e = gl_run(honest());
    let card = e
        .references
        .iter_mut()
        .find(|r| r.reference == "r")
        .unwrap();
    card.aggregate.as_mut().unwrap().refunded = 0;
    let text = said(&contradictions(&e));
    assert!(
        text.contains(
            "GL-TEST `r` PASS, but it is offered as ending REFUNDED, and its reference card shows"
        ),
        "{text}"
    );
    assert!(!text.contains("last answered read"), "{text}");
}

#[test]
fn each_outcome_is_judged_by_its_own_amounts() {
    // CAPTURED in part only, or with something refunded, is not CAPTURED.
    for (captured, refunded) in [(100, 0), (200, 50)] {
        let x = [
            reads("c", captured, refunded, 0, "CAPTURED"),
            reads("r", 200, 200, 0, "REFUNDED"),
            reads("x", 0, 0, 200, "CANCELLED"),
        ]
        .concat();
        let found = contradictions(&gl_run(x));
        assert!(found.iter().any(|c| c.subject == "`c`"), "{}", said(&found));
    }
    // CANCELLED holds on an event log that ends CANCELLED, even at 0 cancelled.
    let x = [
        reads("c", 200, 0, 0, "CAPTURED"),
        reads("r", 200, 200, 0, "REFUNDED"),
        reads("x", 0, 0, 0, "CANCELLED"),
    ]
    .concat();
    assert_eq!(contradictions(&gl_run(x)), []);
    // Neither cancelled nor ending CANCELLED: contradicted.
    let x = [
        reads("c", 200, 0, 0, "CAPTURED"),
        reads("r", 200, 200, 0, "REFUNDED"),
        reads("x", 0, 0, 0, "AUTHORIZED"),
    ]
    .concat();
    let text = said(&contradictions(&gl_run(x)));
    assert!(text.contains("and its event log ends AUTHORIZED"), "{text}");
}

#[test]
fn a_go_live_pass_without_references_or_reads_is_contradicted() {
    let mut e = gl_run(Vec::new());
    let text = said(&contradictions(&e));
    assert!(text.contains("`c` PASS, but it is offered as ending CAPTURED, yet the evidence holds no answered read of it"), "{text}");
    e.golive.as_mut().unwrap().references[1].reference = None;
    assert!(said(&contradictions(&e)).contains("it names no reference that ends REFUNDED"));
    e.golive = None;
    assert!(said(&contradictions(&e))
        .contains("GL-TEST PASS, but the evidence names no GL-TEST references"));
}

#[test]
fn a_run_item_passes_only_on_a_passed_scenario_and_no_failed_one_or_failing_finding() {
    let build = |scenarios: Vec<ScenarioResult>, findings: Vec<Finding>| {
        RunMeta::new(FolderKind::Run, now())
            .evidence(TargetInfo::new("simulator", "http://127.0.0.1:7777"))
            .items(vec![
                item("EP-CAPTURE", Verdict::Pass),
                item("EP-REFUND", Verdict::Fail),
            ])
            .scenarios(scenarios)
            .findings(findings)
            .finish()
    };
    let passed = scenario("Capture", "EP-CAPTURE", Verdict::Pass);
    assert_eq!(contradictions(&build(vec![passed.clone()], Vec::new())), []);

    let text = said(&contradictions(&build(Vec::new(), Vec::new())));
    assert!(
        text.contains("EP-CAPTURE PASS, but no scenario tagged @EP-CAPTURE passed"),
        "{text}"
    );

    let failed = scenario("Capture twice", "EP-CAPTURE", Verdict::Fail);
    let text = said(&contradictions(&build(
        vec![passed.clone(), failed],
        Vec::new(),
    )));
    assert!(
        text.contains(
            "EP-CAPTURE scenario `Capture twice` PASS, but that scenario, tagged with it, FAILED"
        ),
        "{text}"
    );

    let finding = |severity| Finding {
        checklist_id: "EP-CAPTURE".into(),
        rule: "body.capture".into(),
        severity,
        message: "the capture sent no amount".into(),
        advice: String::new(),
        exchange: None,
    };
    let text = said(&contradictions(&build(
        vec![passed.clone()],
        vec![finding(Severity::Fail)],
    )));
    assert!(text.contains("EP-CAPTURE finding `body.capture` PASS, but the rules found a failure: the capture sent no amount"), "{text}");
    // Advice and warnings claim nothing the PASS denies.
    assert_eq!(
        contradictions(&build(vec![passed], vec![finding(Severity::Info)])),
        []
    );
}

#[test]
fn a_passed_scenario_with_a_failed_step_and_an_unattested_manual_pass_are_contradicted() {
    let mut s = scenario("Capture", "EP-CAPTURE", Verdict::Pass);
    s.steps[0].outcome = StepOutcome::Failed;
    let mut e = RunMeta::new(FolderKind::Run, now())
        .evidence(TargetInfo::new("simulator", "http://127.0.0.1:7777"))
        .items(vec![item("PF-DESIGN", Verdict::Pass)])
        .scenarios(vec![s])
        .finish();
    let text = said(&contradictions(&e));
    assert!(
        text.contains("scenario `Capture` PASS, but its step `Then it works` failed"),
        "{text}"
    );
    assert!(
        text.contains("PF-DESIGN PASS, but no attestation for it is recorded"),
        "{text}"
    );
    e.attestations.push(Attestation {
        checklist_id: "PF-DESIGN".into(),
        by: "Kari Nordmann, design lead".into(),
        at: now(),
    });
    assert!(!said(&contradictions(&e)).contains("PF-DESIGN"));
}

#[test]
fn an_audit_item_is_checked_against_its_findings_alone() {
    let e = RunMeta::new(FolderKind::Audit, now())
        .evidence(TargetInfo::new("custom", "journal.jsonl"))
        .items(vec![item("EP-CAPTURE", Verdict::Pass)])
        .finish();
    assert_eq!(contradictions(&e), []);
}

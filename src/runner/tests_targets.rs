//! `run` against targets other than the embedded simulator: a standalone
//! simulator without its control API, a target that lies, and production
//! (refused without the flag; guided, with a simulator standing in).

use std::net::SocketAddr;
use std::sync::Arc;

use crate::clock::VirtualClock;
use crate::evidence::model::Verdict;
use crate::runner::{self, RunOptions};
use crate::simulator::{serve, SimConfig, Simulator};
use crate::steps::target::{Decision, Person};
use crate::steps::StepError;
use futures::future::BoxFuture;

use crate::testing::targets_support;
use targets_support::{answer_on_landing_page, custom_target, doctored_target, sim_credentials};

fn options(base: &str, out: &std::path::Path) -> RunOptions {
    let mut o = RunOptions::new(custom_target(base), out.to_path_buf());
    // The standalone simulator answers approvals at once: a virtual clock
    // keeps the 5 s / 2 s polling schedule without real waiting.
    o.clock = Some(VirtualClock::new());
    o
}

async fn standalone(control: bool) -> serve::Standalone {
    let config = SimConfig {
        control_enabled: control,
        ..SimConfig::default()
    };
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    serve::bind(Simulator::new(config), addr).await.unwrap()
}

fn verdict_of(evidence: &crate::evidence::model::Evidence, id: &str) -> Verdict {
    evidence.items.iter().find(|i| i.id == id).unwrap().verdict
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standalone_simulator_without_control_makes_exactly_the_provoked_states_not_applicable() {
    let server = standalone(false).await;
    let out = tempfile::tempdir().unwrap();
    let outcome = runner::run(options(server.base_url(), out.path()))
        .await
        .unwrap();
    let e = &outcome.evidence;

    let mut not_applicable: Vec<&str> = e
        .scenarios
        .iter()
        .filter(|s| s.verdict == Verdict::NotApplicable)
        .map(|s| s.name.as_str())
        .collect();
    not_applicable.sort_unstable();
    assert_eq!(
        not_applicable,
        [
            "Nobody answers, and the payment expires",
            "The customer rejects the payment in the app",
            "The shop's return page opens in a fresh browser",
        ]
    );
    for s in &e.scenarios {
        assert_ne!(s.verdict, Verdict::Fail, "{s:#?}");
        if s.verdict == Verdict::NotApplicable && s.name.contains("customer rejects") {
            assert!(s.reason.as_deref().unwrap().contains("--control"), "{s:#?}");
        }
    }
    // The states it could not reach are named, never passed or failed: the
    // item is proven only in part (issue 20 point 4).
    assert_eq!(verdict_of(e, "QA-STATES"), Verdict::PartlyProven);
    let states = e.items.iter().find(|i| i.id == "QA-STATES").unwrap();
    let why = states.reason.as_deref().unwrap();
    assert!(why.contains("ABORTED, EXPIRED"), "{why}");
    assert_eq!(verdict_of(e, "PF-REDIRECTS"), Verdict::PartlyProven);
    assert_eq!(verdict_of(e, "EP-CAPTURE"), Verdict::Pass);
    assert_eq!(verdict_of(e, "GL-TEST"), Verdict::Pass);
    assert!(!outcome.failed());
}

/// A scenario says what it needs in its tags (issue 19 point 8): the tag
/// alone keeps it from starting, and a scenario of the shop's own that does
/// not say is still NOT APPLICABLE, found out by the step, never passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn needs_come_from_tags_and_an_undeclared_need_is_still_not_applicable() {
    let server = standalone(false).await;
    let features = tempfile::tempdir().unwrap();
    std::fs::write(
        features.path().join("own.feature"),
        "Feature: The shop's own\n\n  @QA-STATES @simulator @needs-rejection\n  Scenario: Declared, and the step text says nothing of it\n    Given a payment of 249.00 NOK waiting for the customer\n\n  @QA-STATES @simulator\n  Scenario: Undeclared\n    Given a payment of 249.00 NOK waiting for the customer\n    When the customer rejects the payment\n    Then the shop polls until the payment is ABORTED\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut o = options(server.base_url(), out.path());
    o.features = Some(features.path().to_path_buf());
    let outcome = runner::run(o).await.unwrap();
    let e = &outcome.evidence;
    for name in [
        "Declared, and the step text says nothing of it",
        "Undeclared",
    ] {
        let s = e.scenarios.iter().find(|s| s.name == name).unwrap();
        assert_eq!(s.verdict, Verdict::NotApplicable, "{s:#?}");
        assert!(
            s.reason.as_deref().unwrap_or("").contains("--control"),
            "{s:#?}"
        );
    }
    // The declared one was never started: it made no payment.
    let declared = e
        .scenarios
        .iter()
        .find(|s| s.name.starts_with("Declared"))
        .unwrap();
    assert!(declared.references.is_empty(), "{declared:#?}");
    assert_eq!(verdict_of(e, "QA-STATES"), Verdict::NotApplicable);
}

/// How the lying target lies.
#[derive(Clone, Copy)]
enum Lie {
    /// CAPTURED is taken out of every event log.
    NoCaptured,
    /// GET payment shows nothing refunded.
    HiddenRefund,
    /// GET payment shows nothing captured.
    NothingCaptured,
}

/// A target that lies: the simulator's answers, with one falsified.
async fn lying_target(lie: Lie) -> (wiremock::MockServer, Arc<Simulator>) {
    let doctor = move |req: &wiremock::Request, status: u16, mut body: Vec<u8>| {
        let is_get_payment = req.method.as_str() == "GET"
            && req.url.path().starts_with("/epayment/v1/payments/")
            && req.url.path().matches('/').count() == 4;
        let zeroed = match lie {
            Lie::HiddenRefund => Some("refundedAmount"),
            Lie::NothingCaptured => Some("capturedAmount"),
            Lie::NoCaptured => None,
        };
        if let (Some(field), true) = (zeroed, is_get_payment) {
            if let Ok(mut p) = serde_json::from_slice::<serde_json::Value>(&body) {
                p["aggregate"][field]["value"] = 0.into();
                body = serde_json::to_vec(&p).unwrap();
            }
        }
        if matches!(lie, Lie::NoCaptured) && req.url.path().ends_with("/events") {
            if let Ok(serde_json::Value::Array(events)) = serde_json::from_slice(&body) {
                let kept: Vec<_> = events
                    .into_iter()
                    .filter(|e| e["name"] != "CAPTURED")
                    .collect();
                body = serde_json::to_vec(&kept).unwrap();
            }
        }
        (status, body)
    };
    doctored_target(SimConfig::default(), Box::new(doctor)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_log_without_captured_fails_the_capture_item() {
    let (server, _sim) = lying_target(Lie::NoCaptured).await;
    let out = tempfile::tempdir().unwrap();
    let mut o = options(&server.uri(), out.path());
    o.tags = Some("@EP-CAPTURE or @EP-CREATE".into());
    let outcome = runner::run(o).await.unwrap();
    let e = &outcome.evidence;
    assert_eq!(verdict_of(e, "EP-CAPTURE"), Verdict::Fail, "{:#?}", e.items);
    let reason = e
        .items
        .iter()
        .find(|i| i.id == "EP-CAPTURE")
        .unwrap()
        .reason
        .clone();
    assert!(reason.unwrap().contains("event log reads"));
    assert_eq!(verdict_of(e, "EP-CREATE"), Verdict::Pass);
    assert!(outcome.failed(), "the run must exit 1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aggregate_that_hides_a_refund_fails_the_refund_item() {
    let (server, _sim) = lying_target(Lie::HiddenRefund).await;
    let out = tempfile::tempdir().unwrap();
    let mut o = options(&server.uri(), out.path());
    o.tags = Some("@EP-REFUND or @EP-GET".into());
    let outcome = runner::run(o).await.unwrap();
    let e = &outcome.evidence;
    assert_eq!(verdict_of(e, "EP-REFUND"), Verdict::Fail, "{:#?}", e.items);
    let reason = e
        .items
        .iter()
        .find(|i| i.id == "EP-REFUND")
        .unwrap()
        .reason
        .clone();
    assert!(reason.unwrap().contains("refunded"));
    assert_eq!(verdict_of(e, "EP-GET"), Verdict::Pass);
    assert!(outcome.failed(), "the run must exit 1");
}

/// Issue 20: a target that reports nothing captured on every GET proves no
/// go-live outcome that needs a capture, in `run` or in `verify`; the rules
/// judge the amounts the target reported, not what a step believed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aggregate_that_shows_nothing_captured_proves_no_go_live_reference() {
    use crate::runner::verify::{self, VerifyOptions};
    let (server, _sim) = lying_target(Lie::NothingCaptured).await;
    let out = tempfile::tempdir().unwrap();
    let mut o = options(&server.uri(), out.path());
    o.tags = Some("@GL-TEST".into());
    let outcome = runner::run(o).await.unwrap();
    let e = &outcome.evidence;
    let gl = e.items.iter().find(|i| i.id == "GL-TEST").unwrap();
    assert_eq!(gl.verdict, Verdict::Fail, "{gl:#?}");
    // The scenarios passed (each step saw the event log it expected): the
    // verdict is the rules', over the amounts the target reported.
    let why = gl.reason.as_deref().unwrap();
    assert!(
        why.contains("no reference ended CAPTURED, REFUNDED"),
        "{why}"
    );
    assert!(
        why.contains(
            "the aggregate shows nothing captured (NOK 0.00), though its event log ends CAPTURED"
        ),
        "{why}"
    );
    assert!(outcome.failed(), "the run must exit 1");
    // Neither payment that needed a capture is offered as a go-live reference.
    let offered = |outcome: &str| {
        e.golive
            .as_ref()
            .unwrap()
            .references
            .iter()
            .find(|r| r.outcome == outcome)
            .unwrap()
            .reference
            .clone()
    };
    assert_eq!(offered("CAPTURED"), None, "{:#?}", e.golive);
    assert_eq!(offered("REFUNDED"), None, "{:#?}", e.golive);

    // The shop's own references, read back from the same target, prove the
    // same: nothing that needs a capture.
    let made: Vec<String> = e
        .scenarios
        .iter()
        .flat_map(|s| s.references.iter().cloned())
        .collect();
    assert!(made.len() >= 3, "{:#?}", e.scenarios);
    let verified = verify::run(VerifyOptions {
        config: custom_target(&server.uri()),
        references: made,
        from_file: None,
        prod: false,
        out: out.path().join("verify"),
    })
    .await
    .unwrap();
    assert!(verified.failed());
    let gl = verified
        .evidence
        .items
        .iter()
        .find(|i| i.id == "GL-TEST")
        .unwrap();
    assert_eq!(gl.verdict, Verdict::Fail, "{gl:#?}");
    let why = gl.reason.as_deref().unwrap();
    assert!(
        why.contains("no reference ends CAPTURED, REFUNDED"),
        "{why}"
    );
    assert!(
        why.contains(
            "the aggregate shows nothing captured (NOK 0.00), though its event log ends CAPTURED"
        ),
        "{why}"
    );
    assert!(
        why.contains("the aggregate shows NOK 2.00 refunded, more than the NOK 0.00 captured"),
        "{why}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_judges_the_shops_own_references() {
    use crate::cli::{TargetArgs, VerifyArgs};
    let server = standalone(true).await;
    let out = tempfile::tempdir().unwrap();
    let mut o = options(server.base_url(), out.path());
    o.tags = Some("@GL-TEST".into());
    let made = runner::run(o).await.unwrap();
    let refs: Vec<String> = made
        .evidence
        .golive
        .unwrap()
        .references
        .into_iter()
        .map(|r| r.reference.unwrap())
        .collect();

    let target = TargetArgs {
        base_url: Some(server.base_url().to_owned()),
        client_id: Some("sim-client-id-123456".into()),
        client_secret: Some("sim-client-secret-123456".into()),
        subscription_key: Some("sim-subscription-key-123456".into()),
        msn: Some("123456".into()),
        env_file: Some(out.path().join("no.env")),
        ..TargetArgs::default()
    };
    std::fs::write(out.path().join("no.env"), "# empty\n").unwrap();
    let verify_out = out.path().join("verify");
    let args = |references: Vec<String>| VerifyArgs {
        target: target.clone(),
        references,
        from_file: None,
        prod: false,
        out: verify_out.clone(),
    };
    crate::commands::verify::run_async(&args(refs.clone()))
        .await
        .unwrap();

    let err = crate::commands::verify::run_async(&args(vec![
        refs[0].clone(),
        "golive-never-made-0001".into(),
    ]))
    .await
    .unwrap_err();
    assert!(err.to_string().contains("GL-TEST"), "{err}");
    let evidence: serde_json::Value =
        serde_json::from_slice(&std::fs::read(verify_out.join("latest/evidence.json")).unwrap())
            .unwrap();
    assert_eq!(evidence["kind"], "verify");
    let gl = evidence["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "GL-TEST")
        .unwrap();
    assert_eq!(gl["verdict"], "FAIL");
    assert!(
        gl["reason"].as_str().unwrap().contains("unknown reference"),
        "{gl:#}"
    );
    // The harness's own reads never stand in for the shop's GET and events calls.
    for id in ["EP-GET", "EP-EVENTS"] {
        let row = evidence["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap();
        assert_eq!(row["verdict"], "NOT_APPLICABLE", "{row:#}");
        assert!(row["reason"].as_str().unwrap().contains("audit"), "{row:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_is_refused_without_the_flag_before_anything_is_sent() {
    let server = wiremock::MockServer::start().await;
    let out = tempfile::tempdir().unwrap();
    let mut o = options(&server.uri(), out.path());
    o.production_stand_in = true;
    let err = runner::run(o).await.unwrap_err();
    assert!(err.to_string().contains("--allow-real-money"), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 0);
}

#[tokio::test]
async fn force_approve_on_production_is_refused_before_anything_is_sent() {
    use crate::api::{Client, ClientOptions, ForceApproveRequest};
    let server = wiremock::MockServer::start().await;
    let mut o = ClientOptions::new(
        server.uri().parse().unwrap(),
        sim_credentials(),
        VirtualClock::new(),
        crate::evidence::MemoryRecorder::new(),
    );
    o.production = true;
    let client = Client::new(o).unwrap();
    let err = client
        .force_approve("golive-prod-check-1", &ForceApproveRequest::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("refused"), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 0);
}

/// The "person" of the production test: opens the landing page link and
/// presses the button, as a person in the app would.
struct LandingPage;

impl Person for LandingPage {
    fn ask<'a>(
        &'a self,
        decision: Decision,
        _reference: &'a str,
        link: &'a str,
    ) -> BoxFuture<'a, Result<(), StepError>> {
        Box::pin(async move {
            let action = match decision {
                Decision::Approve => "approve",
                Decision::Reject => "reject",
            };
            answer_on_landing_page(link, action).await
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guided_production_run_approves_one_at_a_time_and_cleans_up_after() {
    let server = standalone(true).await;
    let out = tempfile::tempdir().unwrap();
    let mut o = options(server.base_url(), out.path());
    o.production_stand_in = true;
    o.allow_real_money = true;
    o.person = Some(Arc::new(LandingPage));
    o.tags = Some("@GL-PROD".into());
    let outcome = runner::run(o).await.unwrap();
    let e = &outcome.evidence;
    assert_eq!(e.run.target, "production");
    assert_eq!(verdict_of(e, "GL-PROD"), Verdict::Pass, "{:#?}", e.items);
    assert_eq!(verdict_of(e, "GL-TEST"), Verdict::NotApplicable);
    let golive = e.golive.as_ref().unwrap();
    assert_eq!(golive.checklist_id, "GL-PROD");
    assert!(golive.references.iter().all(|r| r.reference.is_some()));
    // Amounts are capped at 100 øre.
    for r in &e.references {
        if let Some(a) = &r.aggregate {
            assert!(a.authorized <= 100, "{r:#?}");
        }
    }
    // Scenarios ran one at a time.
    let mut runs: Vec<_> = e
        .scenarios
        .iter()
        .map(|s| (s.started_at, s.finished_at))
        .collect();
    runs.sort();
    for w in runs.windows(2) {
        assert!(w[0].1 <= w[1].0, "two scenarios overlapped");
    }
    // The cleanup: nothing is left authorized, nothing captured unrefunded.
    let cleanup: Vec<_> = e
        .exchanges
        .iter()
        .filter(|x| x.scenario.as_deref() == Some("cleanup after the production run"))
        .collect();
    assert!(
        cleanup.iter().any(|x| x.url.ends_with("/cancel")),
        "no cancel in the cleanup"
    );
    assert!(
        cleanup.iter().any(|x| x.url.ends_with("/refund")),
        "no refund in the cleanup"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_environment_path_gives_the_golive_references_and_waits_for_no_person() {
    // A standalone simulator stands in for apitest.vipps.no (this machine has
    // no network); the run treats it exactly as --env test.
    let server = standalone(false).await;
    let out = tempfile::tempdir().unwrap();
    let mut o = options(server.base_url(), out.path());
    o.test_stand_in = true;
    o.test_phone = Some("4791234567".into());
    o.non_interactive = true;
    let outcome = runner::run(o).await.unwrap();
    let e = &outcome.evidence;
    assert_eq!(e.run.target, "test");

    let mut not_applicable: Vec<&str> = e
        .scenarios
        .iter()
        .filter(|s| s.verdict == Verdict::NotApplicable)
        .map(|s| s.name.as_str())
        .collect();
    not_applicable.sort_unstable();
    assert_eq!(
        not_applicable,
        [
            "A payment that stays authorized",
            "Nobody answers, and the payment expires",
            "The customer rejects the payment in the app",
            "The shop still reads the outcome when a webhook arrived first",
            "The shop's return page opens in a fresh browser",
        ]
    );
    let slow = e
        .scenarios
        .iter()
        .find(|s| s.name == "Nobody answers, and the payment expires")
        .unwrap();
    assert!(slow.reason.as_deref().unwrap().contains("--include-slow"));
    assert!(e.scenarios.iter().all(|s| s.verdict != Verdict::Fail));
    assert_eq!(verdict_of(e, "GL-TEST"), Verdict::Pass, "{:#?}", e.items);
    let golive = e.golive.as_ref().unwrap();
    assert_eq!(golive.checklist_id, "GL-TEST");
    assert!(golive.references.iter().all(|r| r.reference.is_some()));
    assert!(!outcome.failed());
}

/// On the test environment a person rejects in the app: the run waits for
/// the answer (polling, with a countdown) and the scenario passes on what the
/// target then says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_test_environment_a_person_rejects_and_the_run_waits_for_it() {
    let server = standalone(false).await;
    let out = tempfile::tempdir().unwrap();
    let mut o = options(server.base_url(), out.path());
    o.test_stand_in = true;
    o.test_phone = Some("4791234567".into());
    o.person = Some(Arc::new(LandingPage));
    o.tags = Some("@QA-STATES".into());
    let outcome = runner::run(o).await.unwrap();
    let rejected = outcome
        .evidence
        .scenarios
        .iter()
        .find(|s| s.name == "The customer rejects the payment in the app")
        .unwrap();
    assert_eq!(rejected.verdict, Verdict::Pass, "{rejected:#?}");
}

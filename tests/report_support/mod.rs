//! A realistic evidence fixture for the report tests and bench: the real
//! client drives the embedded simulator through the GL-TEST trio, a provoked
//! error, an abort and an expiry, with canary credentials; the evidence is
//! then filled the way a run fills it (references read from the recorded
//! exchanges by `evidence::build`, verdicts per item).
//!
//! Until the Gherkin runner lands its own evidence, this stands in for it.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use chrono::{Months, Utc};
use vipps_golive::api::{
    Amount, Client, ClientOptions, CreatePaymentRequest, Customer, ForceApproveRequest,
    PollOptions, UserFlow,
};
use vipps_golive::clock::VirtualClock;
use vipps_golive::config::Credentials;
use vipps_golive::domain::checklist::ITEMS;
use vipps_golive::evidence::build;
use vipps_golive::evidence::model::*;
use vipps_golive::evidence::{Journal, MemoryRecorder, SharedRecorder, Tee};
use vipps_golive::simulator::mock::SimServer;
use vipps_golive::simulator::{Account, SimConfig, Simulator};

/// Planted credentials: none may reach the report or the evidence.
pub const CLIENT_ID: &str = "CANARY-ID-5e1d";
pub const CLIENT_SECRET: &str = "CANARY-SECRET-5e1d";
pub const SUBSCRIPTION_KEY: &str = "CANARY-KEY-5e1d";
pub const CANARY_STEM: &str = "CANARY-";
pub const MSN: &str = "778899";
const PHONE: &str = "4791234567";

/// What a fixture run left.
pub struct FixtureRun {
    pub evidence: Evidence,
    /// Every reference the run made.
    pub references: Vec<String>,
}

struct Flow {
    name: &'static str,
    ids: &'static [&'static str],
}

const FLOWS: [Flow; 6] = [
    Flow {
        name: "full capture ends CAPTURED",
        // Its headers and reference are what QA-HEADERS and PF-REFERENCE
        // judge: a PASS stands on a scenario that passed (`report --check`).
        ids: &[
            "EP-CREATE",
            "EP-GET",
            "EP-EVENTS",
            "EP-CAPTURE",
            "QA-HEADERS",
            "PF-REFERENCE",
            "GL-TEST",
        ],
    },
    Flow {
        name: "partial then full refund ends REFUNDED",
        ids: &["EP-REFUND", "GL-TEST"],
    },
    Flow {
        name: "cancel after partial capture ends CANCELLED",
        ids: &["EP-CANCEL", "GL-TEST"],
    },
    Flow {
        name: "capture more than authorized is a Problem",
        ids: &["QA-ERRORS"],
    },
    Flow {
        name: "the user rejects: ABORTED",
        ids: &["QA-STATES"],
    },
    Flow {
        name: "nobody answers: EXPIRED (polled per guideline)",
        ids: &["QA-STATES", "PF-POLLING"],
    },
];

async fn authorized(c: &Client, reference: &str, amount: i64) {
    let request = CreatePaymentRequest::new(Amount::nok(amount), reference, UserFlow::WebRedirect)
        .return_url(format!("https://shop.example/return?reference={reference}"))
        .description("Two mugs");
    let created = c.create_payment(&request).await.expect("create");
    c.force_approve(
        reference,
        &ForceApproveRequest {
            customer: Some(Customer::phone(PHONE)),
            token: created.approve_token(),
        },
    )
    .await
    .expect("approve");
    c.poll_until_final(reference, &PollOptions::default())
        .await
        .expect("poll");
}

async fn read_back(c: &Client, reference: &str) {
    c.get_payment(reference).await.expect("get");
    c.payment_events(reference).await.expect("events");
}

/// Runs the flows against a fresh embedded simulator, journaling into
/// `dir/journal.jsonl`, and returns the evidence a run would write.
pub async fn run(dir: &Path) -> FixtureRun {
    let clock = VirtualClock::new();
    let mut config = SimConfig::default();
    config.accounts.insert(
        0,
        Account {
            merchant_name: "Fixture shop".into(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            subscription_key: SUBSCRIPTION_KEY.into(),
            msn: MSN.into(),
            currency: "NOK".into(),
        },
    );
    let server = SimServer::start_on(Simulator::with_clock(config, clock.clone())).await;
    let journal = Arc::new(Journal::create(dir.join("journal.jsonl")).expect("journal"));
    let memory = MemoryRecorder::new();
    let recorder: SharedRecorder = Arc::new(Tee(vec![journal, memory.clone()]));
    let credentials = Credentials {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        subscription_key: SUBSCRIPTION_KEY.into(),
        msn: MSN.into(),
    };
    let client = Client::new(ClientOptions::new(
        server.uri().parse().expect("uri"),
        credentials,
        clock.clone(),
        recorder,
    ))
    .expect("client");

    let started_at = clock_now(&clock);
    let refs: Vec<String> = (1..=FLOWS.len())
        .map(|i| format!("fixture-order-{:04}-a", 1000 + i))
        .collect();
    let mut scenarios = Vec::new();
    for (i, flow) in FLOWS.iter().enumerate() {
        let c = client.tagged(flow.ids, Some(flow.name));
        let r = refs[i].as_str();
        let scenario_start = clock_now(&clock);
        let mut verdict = Verdict::Pass;
        let mut reason = None;
        match i {
            0 => {
                authorized(&c, r, 24_900).await;
                c.capture_payment(r, Amount::nok(24_900))
                    .await
                    .expect("capture");
            }
            1 => {
                authorized(&c, r, 24_900).await;
                c.capture_payment(r, Amount::nok(24_900))
                    .await
                    .expect("capture");
                c.refund_payment(r, Amount::nok(5_000))
                    .await
                    .expect("refund");
                c.refund_payment(r, Amount::nok(19_900))
                    .await
                    .expect("refund");
            }
            2 => {
                authorized(&c, r, 24_900).await;
                c.capture_payment(r, Amount::nok(10_000))
                    .await
                    .expect("capture");
                c.cancel_payment(r, None).await.expect("cancel");
            }
            3 => {
                authorized(&c, r, 24_900).await;
                let e = c
                    .capture_payment(r, Amount::nok(25_000))
                    .await
                    .expect_err("an over-capture is refused");
                assert_eq!(e.error_code(), Some(6090));
                reason = Some("Problem 6090 as expected".to_owned());
            }
            4 => {
                let request =
                    CreatePaymentRequest::new(Amount::nok(24_900), r, UserFlow::WebRedirect)
                        .return_url(format!("https://shop.example/return?reference={r}"));
                c.create_payment(&request).await.expect("create");
                let url = format!("{}/__sim/payments/{r}/abort", server.uri());
                let answer = reqwest::Client::new()
                    .post(url)
                    .header("Merchant-Serial-Number", MSN)
                    .send()
                    .await
                    .expect("control");
                assert!(answer.status().is_success());
            }
            _ => {
                let request =
                    CreatePaymentRequest::new(Amount::nok(24_900), r, UserFlow::PushMessage)
                        .customer(Customer::phone(PHONE));
                c.create_payment(&request).await.expect("create");
                let options = PollOptions {
                    timeout: std::time::Duration::from_secs(15 * 60),
                    ..PollOptions::default()
                };
                c.poll_until_final(r, &options).await.expect("poll");
                verdict = Verdict::Pass;
            }
        }
        read_back(&c, r).await;
        scenarios.push(ScenarioResult {
            name: flow.name.into(),
            feature: "Go-live flows".into(),
            tags: flow
                .ids
                .iter()
                .map(|s| s.to_string())
                .chain(["simulator".to_string()])
                .collect(),
            checklist_ids: flow.ids.iter().map(|s| s.to_string()).collect(),
            verdict,
            reason,
            references: vec![r.to_owned()],
            started_at: scenario_start,
            finished_at: clock_now(&clock),
            steps: vec![
                StepResult {
                    keyword: "Given".into(),
                    text: "an authorized payment of NOK 249.00".into(),
                    outcome: StepOutcome::Passed,
                    message: None,
                    line: None,
                },
                StepResult {
                    keyword: "Then".into(),
                    text: "the payment is read back with GET and the event log".into(),
                    outcome: StepOutcome::Passed,
                    message: None,
                    line: None,
                },
            ],
            source: None,
        });
    }

    let exchanges = memory.exchanges();
    let mut references = build::references(&exchanges, MSN);
    for r in &mut references {
        if let Some(i) = refs.iter().position(|x| x == &r.reference) {
            r.scenario = Some(FLOWS[i].name.into());
        }
    }
    // A delivery as the webhook receiver would record it (the fixture runs none).
    if let Some(first) = references.first_mut() {
        if let Some(ev) = first.events.last() {
            first.webhooks.push(WebhookDelivery {
                received_at: ev.timestamp,
                event_name: ev.name.clone(),
                signature_valid: true,
            });
        }
    }

    let attested_at = clock_now(&clock);
    let items = ITEMS
        .iter()
        .map(|item| {
            let scenarios_for: Vec<String> = FLOWS
                .iter()
                .filter(|f| f.ids.contains(&item.id))
                .map(|f| f.name.to_string())
                .collect();
            let refs_for: Vec<String> = FLOWS
                .iter()
                .zip(&refs)
                .filter(|(f, _)| f.ids.contains(&item.id))
                .map(|(_, r)| r.clone())
                .collect();
            let (verdict, reason, attestation) = match item.id {
                "GL-PROD" => (
                    Verdict::NotApplicable,
                    Some("production is not this target: run with --env production".to_owned()),
                    None,
                ),
                "PF-DESIGN" => (Verdict::NeedsAttestation, None, None),
                "PF-SUPPORT" => (
                    Verdict::Pass,
                    None,
                    Some(Attestation {
                        checklist_id: "PF-SUPPORT".into(),
                        by: "Kari Nordmann, QA lead".into(),
                        at: attested_at,
                    }),
                ),
                "QA-HISTORY" => (
                    Verdict::NotApplicable,
                    Some("not exercised by this fixture".to_owned()),
                    None,
                ),
                "PF-REDIRECTS" => (
                    Verdict::Warning,
                    Some("the returnUrl page was not fetched: shop.example is not reachable from a simulator run".to_owned()),
                    None,
                ),
                _ => (Verdict::Pass, None, None),
            };
            ItemResult {
                id: item.id.into(),
                title: item.title.into(),
                verdict,
                reason,
                scenarios: scenarios_for,
                references: refs_for,
                attestation,
            }
        })
        .collect();

    let finished_at = clock_now(&clock);
    let evidence = Evidence {
        schema_version: EVIDENCE_SCHEMA_VERSION,
        kind: RunKind::Run,
        complete: true,
        run: RunInfo {
            run_id: "20261201T203605Z-fixt01".into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            target: "simulator".into(),
            base_url: server.uri(),
            msn: MSN.into(),
            started_at,
            finished_at,
            stale_after: started_at
                .checked_add_months(Months::new(1))
                .unwrap_or(started_at),
            tags: None,
            system_name: Some("vipps-golive".into()),
            system_version: Some(env!("CARGO_PKG_VERSION").into()),
            traffic: None,
            harness_left_out: None,
            target_class: None,
            clock: None,
            virtual_span: None,
        },
        golive: Some(GoLive {
            checklist_id: "GL-TEST".into(),
            references: ["CAPTURED", "REFUNDED", "CANCELLED"]
                .iter()
                .zip(&refs)
                .map(|(o, r)| GoLiveReference {
                    outcome: (*o).into(),
                    reference: Some(r.clone()),
                })
                .collect(),
        }),
        items,
        scenarios,
        references,
        findings: vec![Finding {
            checklist_id: "PF-POLLING".into(),
            rule: "polling.interval".into(),
            severity: Severity::Info,
            message: "polls came every 2.0 s on average".into(),
            advice: "keep the guideline's interval; never poll faster than every second".into(),
            exchange: None,
        }],
        attestations: Vec::new(),
        webhook_checks: Vec::new(),
        interrupted: Vec::new(),
        exchanges,
        input: None,
    };
    FixtureRun {
        evidence,
        references: refs,
    }
}

fn clock_now(clock: &Arc<VirtualClock>) -> chrono::DateTime<Utc> {
    use vipps_golive::clock::Clock as _;
    clock.now()
}

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_vipps-golive");

/// Writes a run folder as a run does: journal (already there), evidence.json,
/// report.html (rendered by `vipps-golive report DIR`, the report's only
/// public door, so its seal shows this folder's hashes and mark), and a
/// manifest (signed when a key is given). The manifest is written once
/// before the report, so that the report reads the mark it is about to get
/// (UNSIGNED, or SIGNED by this key at this time), and again after, over
/// the report too.
pub fn write_folder(dir: &Path, evidence: &Evidence, key: Option<&ed25519_dalek::SigningKey>) {
    write_evidence(&dir.join("evidence.json"), evidence);
    let signing = key.map(|key| vipps_golive::evidence::manifest::Signing {
        key,
        at: Utc::now(),
    });
    let seal = || {
        vipps_golive::evidence::manifest::write(dir, &evidence.run.run_id, signing).unwrap();
    };
    seal();
    let out = std::process::Command::new(BIN)
        .arg("report")
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "vipps-golive report failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    seal();
}

/// `html` without its seal (the box on page one and the printed footer),
/// which describes the folder the page sits in, not the evidence: for
/// comparing pages rendered in different folders.
pub fn without_seal(html: &str) -> String {
    let mut page = html.to_owned();
    if let (Some(a), Some(b)) = (page.find("@page {"), page.find("</style>")) {
        page.replace_range(a..b, "");
    }
    if let Some(a) = page.find(r#"<section id="seal""#) {
        let b = a + page[a..].find("</section>").unwrap() + "</section>".len();
        page.replace_range(a..b, "");
    }
    page
}

/// `evidence.json` as a run writes it: pretty JSON and a final newline.
pub fn write_evidence(path: &Path, evidence: &Evidence) {
    let mut bytes = serde_json::to_vec_pretty(evidence).unwrap();
    bytes.push(b'\n');
    vipps_golive::evidence::write_atomic(path, &bytes).unwrap();
}

/// The report page of `evidence`, rendered by `vipps-golive report
/// evidence.json --out FILE` in a scratch folder of its own.
pub fn render(evidence: &Evidence) -> String {
    let scratch = tempfile::tempdir().unwrap();
    let source = scratch.path().join("evidence.json");
    write_evidence(&source, evidence);
    let page = scratch.path().join("page.html");
    let out = std::process::Command::new(BIN)
        .arg("report")
        .arg(&source)
        .arg("--out")
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "vipps-golive report failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(page).unwrap()
}

/// Reads an evidence.json back.
pub fn load(path: &Path) -> Evidence {
    let text = std::fs::read_to_string(path).unwrap();
    Evidence::from_json(&path.display().to_string(), &text).unwrap()
}

//! `recover::evidence_from_journal` names the attempts a journal holds
//! without an outcome (moved from tests/report_recover.rs, which keeps the
//! tests of `report --from-journal` through the binary).

use std::sync::Arc;

use crate::api::{
    Amount, Client, ClientOptions, CreatePaymentRequest, Customer, ForceApproveRequest,
    PollOptions, UserFlow,
};
use crate::clock::{Clock, VirtualClock};
use crate::config::Credentials;
use crate::evidence::model::InterruptedAttempt;
use crate::evidence::{Journal, SharedRecorder};
use crate::report;
use crate::simulator::mock::SimServer;
use crate::simulator::{SimConfig, Simulator};

/// A journal of three authorized payments against the embedded simulator;
/// returns the references and the simulator's base URL.
async fn journal_of_a_run(path: &std::path::Path) -> (Vec<String>, String) {
    let clock = VirtualClock::new();
    let server =
        SimServer::start_on(Simulator::with_clock(SimConfig::default(), clock.clone())).await;
    let recorder: SharedRecorder = Arc::new(Journal::create(path).unwrap());
    let credentials = Credentials {
        client_id: "sim-client-id-123456".into(),
        client_secret: "sim-client-secret-123456".into(),
        subscription_key: "sim-subscription-key-123456".into(),
        msn: "123456".into(),
    };
    let client = Client::new(ClientOptions::new(
        server.uri().parse().unwrap(),
        credentials,
        clock,
        recorder,
    ))
    .unwrap();
    let mut references = Vec::new();
    for i in 1..=3 {
        let r = format!("fixture-order-{:04}-a", 1000 + i);
        let request = CreatePaymentRequest::new(Amount::nok(1000), &r, UserFlow::WebRedirect)
            .return_url(format!("https://shop.example/return?reference={r}"))
            .description("Two mugs");
        let created = client.create_payment(&request).await.unwrap();
        client
            .force_approve(
                &r,
                &ForceApproveRequest {
                    customer: Some(Customer::phone("4791234567")),
                    token: created.approve_token(),
                },
            )
            .await
            .unwrap();
        client
            .poll_until_final(&r, &PollOptions::default())
            .await
            .unwrap();
        references.push(r);
    }
    (references, server.uri())
}

#[tokio::test(flavor = "multi_thread")]
async fn interrupted_attempts_recovered_from_a_journal_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (references, base_url) = journal_of_a_run(&dir.path().join("journal.jsonl")).await;
    let exchanges = Journal::read(dir.path().join("journal.jsonl")).unwrap();
    let r = references[2].clone();
    let attempt = InterruptedAttempt {
        id: "attempt-9f".into(),
        started_at: crate::clock::SystemClock.now(),
        method: "POST".into(),
        url: format!("{base_url}/epayment/v1/payments/{r}/capture"),
        reference: Some(r.clone()),
        idempotency_key: Some("4f1c-capture-key".into()),
    };
    let evidence = report::recover::evidence_from_journal("run-x", None, exchanges, vec![attempt]);
    assert!(!evidence.complete);
    // A journal without a header (written before headers, or by hand) does
    // not say whether its loopback URL was the embedded simulator or a
    // standalone one: only "a URL on this machine" is sure (issue 20 point 11).
    assert_eq!(evidence.run.target, "custom");
    assert_eq!(
        evidence.run.target_class.as_deref(),
        Some("a URL on this machine (loopback)")
    );
    let dir = tempfile::tempdir().unwrap();
    let seal = report::seal::view(
        dir.path(),
        &dir.path().join("evidence.json"),
        "run-x",
        evidence.complete,
        &report::seal::Sealing::AsRecorded,
    );
    assert_eq!(seal.mark, "INCOMPLETE");
    let html = report::render(&evidence, &seal).unwrap();
    assert!(html.contains(r#"<span class="seal-mark">INCOMPLETE</span>"#));
    assert!(
        html.contains("1 request(s) were sent with no answer recorded and may have taken effect")
    );
    let section = &html[html.find("id=\"interrupted\"").unwrap()..];
    assert!(section.contains(&format!("/epayment/v1/payments/{r}/capture")));
    assert!(section.contains("4f1c-capture-key"));
}

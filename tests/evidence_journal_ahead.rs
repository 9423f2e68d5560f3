//! The journal is written ahead (design.md, "Evidence is written ahead"):
//! each attempt before its request leaves, its outcome after, and nothing
//! is sent that could not be recorded.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::Utc;
use vipps_golive::api::{Amount, ApiError, Client, ClientOptions, CreatePaymentRequest, UserFlow};
use vipps_golive::clock::VirtualClock;
use vipps_golive::config::Credentials;
use vipps_golive::evidence::journal::interrupted;
use vipps_golive::evidence::{Attempt, Entry, Journal, RawExchange, Recorder};
use vipps_golive::simulator::{mock::SimServer, SimConfig, Simulator};

fn sim_credentials() -> Credentials {
    Credentials {
        client_id: "sim-client-id-123456".into(),
        client_secret: "sim-client-secret-123456".into(),
        subscription_key: "sim-subscription-key-123456".into(),
        msn: "123456".into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_exchange_is_preceded_by_its_attempt_with_the_idempotency_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let journal = Arc::new(Journal::create(&path).unwrap());
    let clock = VirtualClock::new();
    let server =
        SimServer::start_on(Simulator::with_clock(SimConfig::default(), clock.clone())).await;
    let options = ClientOptions::new(
        url::Url::parse(&server.uri()).unwrap(),
        sim_credentials(),
        clock,
        journal.clone(),
    );
    let client = Client::new(options).unwrap();
    client
        .create_payment(
            &CreatePaymentRequest::new(Amount::nok(100), "ahead-ref-1", UserFlow::WebRedirect)
                .return_url("https://shop.example/r"),
        )
        .await
        .unwrap();

    let entries = Journal::read_entries(&path).unwrap();
    let mut attempts = 0;
    for (i, entry) in entries.iter().enumerate() {
        if let Entry::Exchange(x) = entry {
            let ahead = entries[..i]
                .iter()
                .find_map(|e| match e {
                    Entry::Attempt(a) if a.id == x.id => Some(a),
                    _ => None,
                })
                .unwrap_or_else(|| panic!("exchange {} has no attempt before it", x.id));
            attempts += 1;
            assert_eq!(ahead.method, x.method);
            if x.method == "POST" && x.url.ends_with("/payments") {
                assert_eq!(ahead.reference.as_deref(), Some("ahead-ref-1"));
                let sent = x
                    .request_headers
                    .iter()
                    .find(|(k, _)| k == "Idempotency-Key")
                    .map(|(_, v)| v.clone());
                assert_eq!(ahead.idempotency_key, sent);
            }
        }
    }
    assert!(attempts >= 2, "token and create");
    assert!(interrupted(&entries).is_empty());
    // Readers of exchanges are unaffected by the attempt lines.
    assert_eq!(Journal::read(&path).unwrap().len(), attempts);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_attempt_that_cannot_be_recorded_is_not_sent() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let seen = accepted.clone();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(s);
        }
    });
    // Every write to /dev/full fails with ENOSPC.
    let journal = Arc::new(Journal::open_append("/dev/full").unwrap());
    let options = ClientOptions::new(
        url::Url::parse(&base).unwrap(),
        sim_credentials(),
        VirtualClock::new(),
        journal.clone(),
    );
    let client = Client::new(options).unwrap();

    let err = client.access_token().await.unwrap_err();

    assert!(matches!(err, ApiError::Evidence { .. }), "{err:?}");
    assert!(err.to_string().contains("was not sent"), "{err}");
    assert_eq!(accepted.load(Ordering::SeqCst), 0, "a request left");
    assert!(journal.failure().is_some());
    let exit: vipps_golive::Error = err.into();
    assert_eq!(
        exit.exit_code(),
        // 4: the evidence could not be recorded (README, "Exit status").
        std::process::ExitCode::from(4)
    );
}

#[test]
fn old_journals_without_attempt_lines_still_read_and_unpaired_attempts_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let journal = Journal::create(&path).unwrap();
    let raw = RawExchange {
        started_at: Utc::now(),
        duration_ms: 1,
        method: "GET".into(),
        url: "http://127.0.0.1:9/epayment/v1/payments/r-1".into(),
        request_headers: vec![],
        request_body: vec![],
        status: Some(200),
        response_headers: vec![],
        response_body: b"{}".to_vec(),
        error: None,
        attempt: 1,
        reference: Some("r-1".into()),
        checklist_ids: vec![],
        scenario: None,
    };
    let old = vipps_golive::evidence::Exchange::from_raw(raw);
    journal.append(&old).unwrap();
    assert_eq!(Journal::read(&path).unwrap(), vec![old.clone()]);
    assert!(Journal::interrupted(&path).unwrap().is_empty());

    let pending = Attempt::new(
        "pending-1".into(),
        Utc::now(),
        "POST",
        "http://127.0.0.1:9/epayment/v1/payments/r-1/capture?access_token=CANARY-q",
        1,
        Some("r-1".into()),
        Some("key-1".into()),
        vec!["EP-CAPTURE".into()],
        None,
    );
    journal.attempt_started(&pending).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("CANARY"), "{text}");
    let open = Journal::interrupted(&path).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].id, "pending-1");
    assert_eq!(open[0].reference.as_deref(), Some("r-1"));
    assert_eq!(open[0].idempotency_key.as_deref(), Some("key-1"));
    assert!(!open[0].url.contains('?'), "{}", open[0].url);
    assert_eq!(Journal::read(&path).unwrap(), vec![old]);
}

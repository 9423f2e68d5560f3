//! The canary through the real client: planted credentials resolved by the
//! configuration loader, real requests to wiremock on loopback (success,
//! retry, error and no-connection paths), and a journal on disk. None of the
//! planted values may appear in the journal file, the TRACE logs or any Debug.
//! (Its own test binary: a scoped tracing subscriber must not race with other
//! tests' callsites.)

use crate::client_support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_support::{call_every_endpoint, mount_every_endpoint, policy, Harness};
use serde_json::json;
use url::Url;
use vipps_golive::api::{Client, ClientOptions, RetryPolicy};
use vipps_golive::clock::{Clock, VirtualClock};
use vipps_golive::config::{load_with, Environment, Target, TargetInput};
use vipps_golive::domain::redact::fingerprint;
use vipps_golive::evidence::{Journal, MemoryRecorder, SharedRecorder, Tee};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CLIENT_ID: &str = "CANARY-ID-c41e";
const CLIENT_SECRET: &str = "CANARY-SECRET-c41e";
const SUBSCRIPTION_KEY: &str = "CANARY-KEY-c41e";
const TOKEN: &str = "CANARY-TOKEN-c41e";
const WEBHOOK_SECRET: &str = "CANARY-WEBHOOK-c41e";
const STEM: &str = "CANARY-";
const PHONE: &str = "4791234567";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(STEM), "a canary leaked into {what}:\n{text}");
    assert!(
        !text.contains(PHONE),
        "the phone number leaked into {what}:\n{text}"
    );
}

#[tokio::test]
async fn real_client_requests_leak_no_planted_secret_into_journal_logs_or_debug() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // Arrange: a loopback server whose token and webhook answers carry canaries.
    let server = MockServer::start().await;
    let clock = VirtualClock::new();
    let now = clock.now().timestamp();
    Mock::given(method("POST"))
        .and(path("/accesstoken/get"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": "3600", "ext_expires_in": "0",
            "expires_on": (now + 3600).to_string(), "not_before": now.to_string(),
            "resource": "00000002-0000-0000-c000-000000000000", "access_token": TOKEN,
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/webhooks/v1/webhooks"))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"id": "7d3e2b10-4c5f-4a8e-9f61-0b2c3d4e5f60", "secret": WEBHOOK_SECRET}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/epayment/v1/payments/flaky-ref-1"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/epayment/v1/payments/missing-ref-1"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "type": "https://developer.vippsmobilepay.com/docs/APIs/epayment-api/api-guide/errors",
            "title": "Not found", "status": 404, "traceId": "00-aa-bb-01",
            "detail": "No payment with this reference",
        })))
        .mount(&server)
        .await;
    mount_every_endpoint(&server).await;

    // The credentials go through the configuration loader, as in a real run.
    // `--base-url URL`, as the command line gives it to the loader.
    let args = TargetInput {
        base_url: Some(server.uri()),
        ..Default::default()
    };
    let env = Environment::from_vars([
        ("VIPPS_CLIENT_ID", CLIENT_ID),
        ("VIPPS_CLIENT_SECRET", CLIENT_SECRET),
        ("VIPPS_SUBSCRIPTION_KEY", SUBSCRIPTION_KEY),
        ("VIPPS_MSN", "123456"),
    ]);
    let (config, provenance) = load_with(&args, &env).unwrap();
    assert!(matches!(config.target, Target::Custom(_)));
    let dir = tempfile::tempdir().unwrap();
    let journal_path = dir.path().join("journal.jsonl");
    let journal = Arc::new(Journal::create(&journal_path).unwrap());
    let memory = MemoryRecorder::new();
    let recorder: SharedRecorder = Arc::new(Tee(vec![journal.clone(), memory.clone()]));
    let mut options = ClientOptions::from_config(
        &config,
        config.target.base_url().unwrap(),
        clock.clone(),
        recorder.clone(),
    )
    .unwrap();
    options.retry = policy();
    options.timeout = Duration::from_secs(5);
    let client = Client::new(options.clone()).unwrap();
    let h = Harness {
        server,
        clock: clock.clone(),
        recorder: memory.clone(),
        client,
    };

    // Act: every endpoint, a retried 503, a 404 Problem, and a
    // target that refuses connections.
    call_every_endpoint(&h).await;
    h.client.get_payment("flaky-ref-1").await.unwrap();
    let not_found = h.client.get_payment("missing-ref-1").await.unwrap_err();
    let mut dead = options.clone();
    dead.base_url = Url::parse("http://127.0.0.1:9/").unwrap();
    dead.retry = RetryPolicy {
        max_attempts: 2,
        ..policy()
    };
    let unreachable = Client::new(dead)
        .unwrap()
        .get_payment("any-ref-1")
        .await
        .unwrap_err();

    // Assert: the values were really sent...
    let sent = h.server.received_requests().await.unwrap();
    assert!(sent.iter().any(|r| r
        .headers
        .get("Ocp-Apim-Subscription-Key")
        .is_some_and(|v| v == SUBSCRIPTION_KEY)));
    // ...and recorded, redacted.
    let journal_text = std::fs::read_to_string(&journal_path).unwrap();
    let recorded = Journal::read(&journal_path).unwrap();
    assert!(
        recorded.len() >= 20,
        "only {} exchanges recorded",
        recorded.len()
    );
    assert!(journal_text.contains(&format!("Bearer …{}", fingerprint(TOKEN))));
    assert!(journal_text.contains(&format!("…{}", fingerprint(WEBHOOK_SECRET))));
    assert!(
        journal_text.contains("********67"),
        "phone masked, not dropped"
    );
    assert_clean("journal file", &journal_text);
    assert_clean("memory exchanges", &format!("{:?}", memory.exchanges()));
    for (what, text) in [
        ("config", format!("{config:?} {provenance:?}")),
        ("client options", format!("{options:?}")),
        ("client", format!("{:?}", h.client)),
        ("404 error", format!("{not_found} {not_found:?}")),
        ("connection error", format!("{unreachable} {unreachable:?}")),
    ] {
        assert_clean(what, &text);
    }
    let captured = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        captured.contains("/epayment/v1/payments"),
        "no logs captured: {captured}"
    );
    assert_clean("TRACE logs", &captured);
}

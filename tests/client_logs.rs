//! Debug-level logs name method, path, status, attempt and traceId, and
//! never a secret. (Its own test binary: a scoped tracing subscriber must not
//! race with other tests' callsites.)

use crate::client_support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use client_support::*;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn debug_logs_name_method_path_and_status_but_no_secret() {
    let buf = LogBuffer::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let h = harness().await;
    // Mounted first: wiremock answers with the first matching mock.
    Mock::given(method("GET"))
        .and(path("/epayment/v1/payments/failing-ref-1"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(
                json!({"title": "Not found", "status": 404, "traceId": "00-aa-bb-01"}),
            ),
        )
        .mount(&h.server)
        .await;
    mount_every_endpoint(&h.server).await;

    call_every_endpoint(&h).await;
    let _ = h.client.get_payment("failing-ref-1").await;

    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("/epayment/v1/payments"),
        "debug logs missing: {logs}"
    );
    assert!(logs.contains("00-aa-bb-01"), "traceId missing from logs");
    for planted in [
        CLIENT_ID,
        CLIENT_SECRET,
        SUBSCRIPTION_KEY,
        ACCESS_TOKEN,
        "planted-webhook-secret",
    ] {
        assert!(!logs.contains(planted), "`{planted}` leaked into the logs");
    }
}

#[tokio::test]
async fn recorded_exchanges_never_hold_a_planted_secret() {
    let h = harness().await;
    mount_every_endpoint(&h.server).await;

    call_every_endpoint(&h).await;

    let ex = h.recorder.exchanges();
    assert!(ex.len() >= 19, "every request was recorded: {}", ex.len());
    let journal = serde_json::to_string(&ex).unwrap();
    for planted in [
        CLIENT_ID,
        CLIENT_SECRET,
        SUBSCRIPTION_KEY,
        ACCESS_TOKEN,
        "planted-webhook-secret",
    ] {
        assert!(
            !journal.contains(planted),
            "`{planted}` reached the recorder"
        );
    }
}

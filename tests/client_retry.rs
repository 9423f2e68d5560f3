//! Retries: transient failures are retried with the same Idempotency-Key,
//! bounded, honouring Retry-After on the virtual clock; other 4xx never are.

use crate::client_support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use client_support::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;
use vipps_golive::api::{Amount, ApiError, Client, ErrorBody};
use vipps_golive::clock::{Clock, VirtualClock};
use vipps_golive::evidence::MemoryRecorder;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const CAPTURE: &str = "/epayment/v1/payments/acme-shop-order1-1/capture";

async fn mount_capture(h: &Harness, t: ResponseTemplate, times: Option<u64>) {
    let m = Mock::given(method("POST"))
        .and(path(CAPTURE))
        .respond_with(t);
    let m = match times {
        Some(n) => m.up_to_n_times(n),
        None => m,
    };
    m.mount(&h.server).await;
}

async fn mount_capture_ok(h: &Harness) {
    mount_capture(
        h,
        ResponseTemplate::new(200).set_body_json(modification_body(REF)),
        None,
    )
    .await;
}

async fn keys(h: &Harness) -> Vec<String> {
    h.business_requests()
        .await
        .iter()
        .map(|r| header(r, "idempotency-key").unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn retries_of_one_operation_reuse_its_key_and_a_new_operation_gets_a_fresh_one() {
    let h = harness().await;
    mount_capture(&h, ResponseTemplate::new(500), Some(2)).await;
    mount_capture_ok(&h).await;

    h.client
        .capture_payment(REF, Amount::nok(100))
        .await
        .unwrap();
    h.client
        .capture_payment(REF, Amount::nok(100))
        .await
        .unwrap();

    let k = keys(&h).await;
    assert_eq!(
        k.len(),
        4,
        "3 attempts of the first capture, 1 of the second"
    );
    assert_eq!(k[0], k[1]);
    assert_eq!(k[1], k[2]);
    assert_ne!(k[2], k[3]);
    let attempts: Vec<u32> = h
        .recorder
        .exchanges()
        .iter()
        .filter(|e| e.url.ends_with("/capture"))
        .map(|e| e.attempt)
        .collect();
    assert_eq!(attempts, vec![1, 2, 3, 1]);
}

async fn assert_not_retried(status: u16) {
    let h = harness().await;
    mount_capture(
        &h,
        ResponseTemplate::new(status).set_body_json(json!({"type": "https://httpstatuses.io/400", "title": "Nope", "status": status, "traceId": "00-1-2-01"})),
        None,
    )
    .await;

    let err = h
        .client
        .capture_payment(REF, Amount::nok(100))
        .await
        .unwrap_err();

    assert_eq!(
        h.business_requests().await.len(),
        1,
        "HTTP {status} was retried"
    );
    assert_eq!(err.status(), Some(status));
    assert_eq!(err.attempts(), 1);
    assert_eq!(h.clock.offset(), Duration::ZERO, "no backoff was waited");
}

#[tokio::test]
async fn a_400_is_answered_once_and_never_retried() {
    assert_not_retried(400).await;
}

#[tokio::test]
async fn a_409_is_answered_once_and_never_retried() {
    assert_not_retried(409).await;
}

#[tokio::test]
async fn a_403_and_a_404_are_never_retried() {
    assert_not_retried(403).await;
    assert_not_retried(404).await;
}

async fn assert_retried_after(status: u16, retry_after_secs: u64) {
    let h = harness().await;
    mount_capture(
        &h,
        ResponseTemplate::new(status)
            .insert_header("Retry-After", retry_after_secs.to_string().as_str()),
        Some(1),
    )
    .await;
    mount_capture_ok(&h).await;

    let before = h.clock.offset();
    h.client
        .capture_payment(REF, Amount::nok(100))
        .await
        .unwrap();

    let k = keys(&h).await;
    assert_eq!(k.len(), 2, "HTTP {status} was retried once");
    assert_eq!(k[0], k[1], "the retry reused the key");
    assert!(
        h.clock.offset() - before >= Duration::from_secs(retry_after_secs),
        "waited {:?}, Retry-After was {retry_after_secs}s",
        h.clock.offset() - before
    );
}

#[tokio::test]
async fn a_429_is_retried_with_the_same_key_after_its_retry_after() {
    assert_retried_after(429, 7).await;
}

#[tokio::test]
async fn a_423_is_retried_with_the_same_key_after_its_retry_after() {
    assert_retried_after(423, 3).await;
}

#[tokio::test]
async fn a_500_is_retried_with_the_same_key_after_its_retry_after() {
    assert_retried_after(500, 2).await;
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let h = harness().await;
    let when = h.clock.now() + chrono::Duration::seconds(30);
    let date = when.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    mount_capture(
        &h,
        ResponseTemplate::new(503).insert_header("Retry-After", date.as_str()),
        Some(1),
    )
    .await;
    mount_capture_ok(&h).await;

    h.client
        .capture_payment(REF, Amount::nok(100))
        .await
        .unwrap();

    assert!(
        h.clock.offset() >= Duration::from_secs(29),
        "waited {:?}",
        h.clock.offset()
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_ends_the_operation_instead_of_waiting() {
    let h = harness().await;
    mount_capture(
        &h,
        ResponseTemplate::new(429).insert_header("Retry-After", "3600"),
        None,
    )
    .await;

    let err = h
        .client
        .capture_payment(REF, Amount::nok(100))
        .await
        .unwrap_err();

    assert_eq!(h.business_requests().await.len(), 1);
    assert!(
        matches!(err, ApiError::Http { status: 429, retry_after: Some(d), .. } if d == Duration::from_secs(3600))
    );
    assert_eq!(h.clock.offset(), Duration::ZERO);
}

#[tokio::test]
async fn attempts_are_bounded_with_exponential_backoff() {
    let h = harness().await;
    mount_capture(&h, ResponseTemplate::new(503), None).await;

    let err = h
        .client
        .capture_payment(REF, Amount::nok(100))
        .await
        .unwrap_err();

    assert_eq!(h.business_requests().await.len(), 4, "max_attempts is 4");
    assert_eq!(err.attempts(), 4);
    assert_eq!(err.status(), Some(503));
    assert!(err.is_transient());
    // 0.5 s + 1 s + 2 s without jitter, on the virtual clock.
    let waited = h.clock.offset();
    assert!(
        waited >= Duration::from_millis(3500) && waited < Duration::from_millis(3600),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_timeout_is_retried_with_the_same_key_and_every_attempt_is_recorded() {
    let h = harness_with(|o| o.timeout = Duration::from_millis(300)).await;
    mount_capture(
        &h,
        ResponseTemplate::new(200)
            .set_body_json(modification_body(REF))
            .set_delay(Duration::from_secs(3)),
        Some(1),
    )
    .await;
    mount_capture_ok(&h).await;

    h.client
        .capture_payment(REF, Amount::nok(100))
        .await
        .unwrap();

    let k = keys(&h).await;
    assert_eq!(k.len(), 2);
    assert_eq!(k[0], k[1]);
    let ex: Vec<_> = h
        .recorder
        .exchanges()
        .into_iter()
        .filter(|e| e.url.ends_with("/capture"))
        .collect();
    assert_eq!(ex.len(), 2);
    assert_eq!((ex[0].attempt, ex[0].status), (1, None));
    assert!(ex[0]
        .error
        .as_deref()
        .unwrap_or_default()
        .contains("no response"));
    assert_eq!((ex[1].attempt, ex[1].status), (2, Some(200)));
}

#[tokio::test]
async fn a_target_that_never_answers_in_time_gives_a_timeout_error() {
    let h = harness_with(|o| o.timeout = Duration::from_millis(200)).await;
    mount_capture(
        &h,
        ResponseTemplate::new(200).set_delay(Duration::from_secs(3)),
        None,
    )
    .await;

    let err = h
        .client
        .capture_payment(REF, Amount::nok(100))
        .await
        .unwrap_err();

    assert!(
        matches!(err, ApiError::Timeout { attempts: 4, .. }),
        "{err:?}"
    );
    assert!(err.is_unreachable());
}

/// A loopback server that answers the token request, drops the first
/// `drops` business connections without a response, then answers 200.
async fn dropping_server(drops: u32) -> (Url, Arc<AtomicU32>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(AtomicU32::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut buf = vec![0u8; 16 * 1024];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match sock.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let head = String::from_utf8_lossy(&got).to_string();
            let body = if head.starts_with("POST /accesstoken/get") {
                token_body(chrono::Utc::now().timestamp(), 3600).to_string()
            } else {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                if n <= drops {
                    drop(sock);
                    continue;
                }
                modification_body(REF).to_string()
            };
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        }
    });
    (Url::parse(&format!("http://{addr}")).unwrap(), seen)
}

#[tokio::test]
async fn a_dropped_connection_is_retried_and_the_operation_succeeds() {
    let (url, seen) = dropping_server(2).await;
    let clock = VirtualClock::new();
    let recorder = MemoryRecorder::new();
    let client = Client::new(options(url, clock.clone(), recorder.clone())).unwrap();

    let res = client.capture_payment(REF, Amount::nok(100)).await;

    assert!(res.is_ok(), "{res:?}");
    assert_eq!(seen.load(Ordering::SeqCst), 3);
    let ex: Vec<_> = recorder
        .exchanges()
        .into_iter()
        .filter(|e| e.url.ends_with("/capture"))
        .collect();
    assert_eq!(
        ex.iter().map(|e| e.attempt).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(ex[0].error.is_some() && ex[0].status.is_none());
}

#[tokio::test]
async fn a_closed_port_is_unreachable_after_the_bounded_attempts() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    drop(listener);
    let clock = VirtualClock::new();
    let recorder = MemoryRecorder::new();
    let client = Client::new(options(url, clock.clone(), recorder.clone())).unwrap();

    let err = client.get_payment(REF).await.unwrap_err();

    assert!(err.is_unreachable(), "{err:?}");
    assert_eq!(err.attempts(), 4);
    assert_eq!(
        recorder.exchanges().len(),
        4,
        "every failed connection is recorded"
    );
    assert!(recorder
        .exchanges()
        .iter()
        .all(|e| e.status.is_none() && e.error.is_some()));
}

#[tokio::test]
async fn a_401_fetches_a_fresh_token_and_retries_once_with_the_same_key() {
    let h = harness().await;
    mount_capture(
        &h,
        ResponseTemplate::new(401).set_body_json(json!({"statusCode": 401, "message": "Unauthorized. Access token is missing or invalid."})),
        Some(1),
    )
    .await;
    mount_capture_ok(&h).await;

    h.client
        .capture_payment(REF, Amount::nok(100))
        .await
        .unwrap();

    assert_eq!(
        h.token_requests().await.len(),
        2,
        "the token was fetched again"
    );
    let k = keys(&h).await;
    assert_eq!(k.len(), 2);
    assert_eq!(k[0], k[1]);
}

#[tokio::test]
async fn a_persistent_401_is_returned_after_one_fresh_token() {
    let h = harness().await;
    mount_capture(
        &h,
        ResponseTemplate::new(401).set_body_json(json!({"statusCode": 401, "message": "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."})),
        None,
    )
    .await;

    let err = h
        .client
        .capture_payment(REF, Amount::nok(100))
        .await
        .unwrap_err();

    assert_eq!(h.business_requests().await.len(), 2);
    assert!(err.is_credentials_refused());
    assert!(matches!(err.body(), Some(ErrorBody::Gateway(_))));
    assert!(err.explain().contains("subscription key"));
}

#[tokio::test]
async fn a_callers_own_idempotency_key_is_sent_on_every_attempt() {
    let h = harness().await;
    mount_capture(&h, ResponseTemplate::new(500), Some(1)).await;
    mount_capture_ok(&h).await;

    h.client
        .with_idempotency_key("cap-acme-shop-order1-1-a")
        .unwrap()
        .capture_payment(REF, Amount::nok(100))
        .await
        .unwrap();

    assert_eq!(keys(&h).await, vec!["cap-acme-shop-order1-1-a"; 2]);
}

#[test]
fn an_idempotency_key_over_50_characters_is_refused() {
    let clock = VirtualClock::new();
    let client = Client::new(options(
        Url::parse("http://127.0.0.1:9").unwrap(),
        clock,
        MemoryRecorder::new(),
    ))
    .unwrap();

    assert!(client.with_idempotency_key("k".repeat(50)).is_ok());
    assert!(matches!(
        client.with_idempotency_key("k".repeat(51)),
        Err(ApiError::InvalidInput { .. })
    ));
}

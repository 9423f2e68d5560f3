//! The access token is fetched once, reused, and renewed before it expires.

use crate::client_support;

use std::time::Duration;

use client_support::*;
use serde_json::json;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn mount_get(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path_regex("^/epayment/v1/payments/[^/]+$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(payment_body(REF, "CREATED")))
        .mount(server)
        .await;
}

#[tokio::test]
async fn one_token_request_serves_many_calls() {
    let h = harness().await;
    mount_get(&h.server).await;

    for _ in 0..10 {
        h.client.get_payment(REF).await.unwrap();
    }

    assert_eq!(h.token_requests().await.len(), 1);
    assert_eq!(h.business_requests().await.len(), 10);
}

#[tokio::test]
async fn the_token_is_renewed_three_minutes_before_it_expires() {
    let h = harness().await;
    mount_get(&h.server).await;
    h.client.get_payment(REF).await.unwrap();

    // 3600 s lifetime: at 3400 s the token is still used...
    h.clock.advance(Duration::from_secs(3400));
    h.client.get_payment(REF).await.unwrap();
    assert_eq!(h.token_requests().await.len(), 1);

    // ...and at 3430 s (within the 180 s margin) it is renewed.
    h.clock.advance(Duration::from_secs(30));
    h.client.get_payment(REF).await.unwrap();
    assert_eq!(h.token_requests().await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_one_token_request() {
    let h = harness().await;
    mount_get(&h.server).await;

    let calls = (0..16).map(|_| {
        let c = h.client.clone();
        tokio::spawn(async move { c.get_payment(REF).await })
    });
    for r in futures_join(calls).await {
        r.unwrap();
    }

    assert_eq!(h.token_requests().await.len(), 1);
}

async fn futures_join<T: Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn numeric_token_fields_are_accepted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/accesstoken/get"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 0,
            "access_token": ACCESS_TOKEN
        })))
        .mount(&server)
        .await;
    mount_get(&server).await;
    let clock = vipps_golive::clock::VirtualClock::new();
    let client = vipps_golive::api::Client::new(options(
        url::Url::parse(&server.uri()).unwrap(),
        clock,
        vipps_golive::evidence::MemoryRecorder::new(),
    ))
    .unwrap();

    client.get_payment(REF).await.unwrap();

    assert_eq!(client.access_token().await.unwrap().expose(), ACCESS_TOKEN);
}

#[tokio::test]
async fn the_token_request_is_retried_on_a_5xx() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/accesstoken/get"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let clock = vipps_golive::clock::VirtualClock::new();
    mount_token(&server, &clock, 3600).await;
    mount_get(&server).await;
    let client = vipps_golive::api::Client::new(options(
        url::Url::parse(&server.uri()).unwrap(),
        clock,
        vipps_golive::evidence::MemoryRecorder::new(),
    ))
    .unwrap();

    client.get_payment(REF).await.unwrap();

    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

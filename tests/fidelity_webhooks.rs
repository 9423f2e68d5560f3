//! Webhooks API (register, list, delete) and signed delivery to a receiver
//! on 127.0.0.1, verified with this file's own HMAC code (behaviour.md §9;
//! issue 3 points 1 and 8).

use crate::common;

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use common::*;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// §9.3: base64(HMAC-SHA256(utf8(secret), "POST\n<path+query>\n<date>;<host>;<hash>")).
fn sign(secret: &str, path_and_query: &str, date: &str, host: &str, content_hash: &str) -> String {
    let to_sign = format!("POST\n{path_and_query}\n{date};{host};{content_hash}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(to_sign.as_bytes());
    B64.encode(mac.finalize().into_bytes())
}

fn content_hash(body: &[u8]) -> String {
    B64.encode(Sha256::digest(body))
}

#[test]
fn own_hmac_code_reproduces_the_published_test_vector() {
    let body = br#"{"some-unique-content":"ee6e441b-cc4a-46f8-895d-a5af79bcc233/hello-world"}"#;
    let hash = content_hash(body);
    assert_eq!(hash, "lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4=");
    let sig = sign(
        "A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A==",
        "/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63",
        "Thu, 30 Mar 2023 08:38:32 GMT",
        "webhook.site",
        &hash,
    );
    assert_eq!(sig, "agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U=");
}

async fn register(sim: &Sim, url: &str, events: &[&str]) -> Resp {
    let call = sim
        .api(Method::POST, "/webhooks/v1/webhooks")
        .await
        .without("Idempotency-Key")
        .json(&json!({ "url": url, "events": events }));
    sim.send(call).await
}

async fn list(sim: &Sim) -> Vec<Value> {
    let r = sim
        .send(sim.api(Method::GET, "/webhooks/v1/webhooks").await)
        .await;
    r.assert_status(200);
    r.json()["webhooks"]
        .as_array()
        .expect("webhooks array")
        .clone()
}

#[tokio::test]
async fn register_list_and_delete_a_webhook() {
    let sim = Sim::start().await;
    let reg = register(
        &sim,
        "https://shop.example/hooks/vipps",
        &["epayments.payment.captured.v1"],
    )
    .await;
    reg.assert_status(201);
    let b = reg.json();
    let id = b["id"].as_str().expect("id").to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "id is a UUID");
    assert!(
        b["secret"].as_str().map(|s| !s.is_empty()).unwrap_or(false),
        "secret shown once"
    );

    let hooks = list(&sim).await;
    let found = hooks.iter().find(|h| h["id"] == json!(id)).expect("listed");
    assert_eq!(found["url"], "https://shop.example/hooks/vipps");
    assert_eq!(found["events"], json!(["epayments.payment.captured.v1"]));
    assert!(
        found.get("secret").is_none(),
        "the secret is only shown at registration"
    );

    let del = sim
        .send(
            sim.api(Method::DELETE, format!("/webhooks/v1/webhooks/{id}"))
                .await,
        )
        .await;
    del.assert_status(204);
    assert!(
        list(&sim).await.iter().all(|h| h["id"] != json!(id)),
        "gone after delete"
    );
}

#[tokio::test]
async fn webhooks_are_listed_per_sales_unit() {
    let sim = Sim::start().await;
    register(
        &sim,
        "https://shop.example/hooks/one",
        &["epayments.payment.created.v1"],
    )
    .await
    .assert_status(201);
    let other = sim
        .send(
            sim.api_as(UNIT_2, Method::GET, "/webhooks/v1/webhooks")
                .await,
        )
        .await;
    other.assert_status(200);
    assert!(
        other.json()["webhooks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["url"] != "https://shop.example/hooks/one"),
        "another unit does not see it"
    );
}

#[tokio::test]
async fn register_with_an_invalid_url_or_no_events_is_a_400_problem() {
    let sim = Sim::start().await;
    for (url, events) in [
        ("not a url", vec!["epayments.payment.created.v1"]),
        ("https://shop.example/h", vec![]),
    ] {
        let resp = register(&sim, url, &events).await;
        assert_eq!(resp.status, 400, "{url} {events:?}: {}", resp.brief());
    }
}

#[tokio::test]
async fn deleting_an_unknown_webhook_is_refused() {
    let sim = Sim::start().await;
    let resp = sim
        .send(
            sim.api(
                Method::DELETE,
                format!("/webhooks/v1/webhooks/{}", uuid::Uuid::new_v4()),
            )
            .await,
        )
        .await;
    assert!(matches!(resp.status, 400 | 404), "{}", resp.brief());
}

/// Waits (real time, nudging the virtual clock for retries) until `done` holds.
async fn wait_for(
    sim: &Sim,
    receiver: &MockServer,
    done: impl Fn(&[wiremock::Request]) -> bool,
) -> Vec<wiremock::Request> {
    for i in 0..100 {
        let got = receiver.received_requests().await.unwrap_or_default();
        if done(&got) {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        if i % 5 == 4 {
            sim.advance(5).await;
        }
    }
    receiver.received_requests().await.unwrap_or_default()
}

fn header(req: &wiremock::Request, name: &str) -> String {
    req.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

fn verify(req: &wiremock::Request, secret: &str) -> Result<Value, String> {
    let hash = header(req, "x-ms-content-sha256");
    if hash != content_hash(&req.body) {
        return Err(format!(
            "x-ms-content-sha256 `{hash}` is not the SHA-256 of the body"
        ));
    }
    let date = header(req, "x-ms-date");
    chrono::DateTime::parse_from_rfc2822(&date)
        .map_err(|e| format!("x-ms-date `{date}` is not RFC 1123: {e}"))?;
    let host = header(req, "host");
    let pq = match req.url.query() {
        Some(q) => format!("{}?{q}", req.url.path()),
        None => req.url.path().to_owned(),
    };
    let auth = header(req, "authorization");
    let want = format!(
        "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={}",
        sign(secret, &pq, &date, &host, &hash)
    );
    if auth != want {
        return Err(format!("Authorization `{auth}` is not `{want}`"));
    }
    serde_json::from_slice(&req.body).map_err(|e| format!("body is not JSON: {e}"))
}

#[tokio::test]
async fn events_are_delivered_signed_in_order_with_the_webhook_event_payload() {
    let sim = Sim::start().await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let url = format!("{}/vipps/hook?shop=1", receiver.uri());
    let reg = register(
        &sim,
        &url,
        &[
            "epayments.payment.created.v1",
            "epayments.payment.authorized.v1",
            "epayments.payment.captured.v1",
        ],
    )
    .await;
    reg.assert_status(201);
    let secret = reg.json()["secret"].as_str().unwrap().to_owned();

    let r = sim.authorized(24900).await;
    let k = key();
    sim.capture_key(&r, 10000, &k).await.assert_status(200);
    sim.refund(&r, 100).await.assert_status(200); // not subscribed: must not arrive

    let got = wait_for(&sim, &receiver, |g| g.len() >= 3).await;
    let mut names = Vec::new();
    for req in &got {
        let body = verify(req, &secret).unwrap_or_else(|e| panic!("delivery signature: {e}"));
        if let Err(v) = schema::validate_named("epayment", "WebhookEvent", &body) {
            if schema::availability().is_ok() {
                panic!("delivery body violates WebhookEvent: {v:?}: {body}");
            }
        }
        assert_eq!(body["msn"], MSN);
        assert_eq!(body["reference"], json!(r));
        names.push(body["name"].as_str().unwrap_or("").to_owned());
        if body["name"] == "CAPTURED" {
            assert_eq!(body["amount"], amount(10000));
            assert_eq!(body["idempotencyKey"], json!(k));
        }
    }
    assert_eq!(
        names,
        ["CREATED", "AUTHORIZED", "CAPTURED"],
        "in order, only subscribed events"
    );
    let host = header(&got[0], "host");
    assert_eq!(
        host,
        receiver.address().to_string(),
        "host is the URL authority"
    );
    // The simulator's deliveries stand in for Vipps's: they never carry the
    // mark of vipps-golive's own requests (issue 20).
    for req in &got {
        assert_eq!(header(req, "x-vipps-golive-run"), "");
        assert!(!header(req, "user-agent").starts_with("vipps-golive/"));
    }
}

#[tokio::test]
async fn a_failed_delivery_is_retried_and_holds_back_later_events_of_that_payment() {
    let sim = Sim::start().await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(5)
        .mount(&receiver)
        .await;
    let reg = register(
        &sim,
        &format!("{}/hook", receiver.uri()),
        &[
            "epayments.payment.authorized.v1",
            "epayments.payment.captured.v1",
        ],
    )
    .await;
    reg.assert_status(201);
    let secret = reg.json()["secret"].as_str().unwrap().to_owned();
    let r = sim.authorized(1000).await;
    sim.capture(&r, 500).await.assert_status(200);

    // 2 failures + AUTHORIZED + CAPTURED
    let got = wait_for(&sim, &receiver, |g| g.len() >= 4).await;
    let names: Vec<String> = got
        .iter()
        .map(|q| {
            verify(q, &secret)
                .map(|b| b["name"].as_str().unwrap_or("").to_owned())
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    assert!(names.len() >= 4, "retried until accepted: {names:?}");
    assert_eq!(
        &names[..3],
        ["AUTHORIZED", "AUTHORIZED", "AUTHORIZED"],
        "AUTHORIZED retried first: {names:?}"
    );
    assert_eq!(
        names.last().map(String::as_str),
        Some("CAPTURED"),
        "CAPTURED after AUTHORIZED succeeded: {names:?}"
    );
}

#[tokio::test]
async fn deliveries_are_listed_by_the_control_api() {
    let sim = Sim::start().await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    register(
        &sim,
        &format!("{}/hook", receiver.uri()),
        &["epayments.payment.created.v1"],
    )
    .await
    .assert_status(201);
    let r = sim.created(1000).await;
    wait_for(&sim, &receiver, |g| !g.is_empty()).await;
    // The receiver has the request; the outcome may be recorded a moment later.
    let mut resp = sim.control_get("/__sim/webhooks/deliveries").await;
    for _ in 0..30 {
        if resp.text.contains(&r) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        resp = sim.control_get("/__sim/webhooks/deliveries").await;
    }
    resp.assert_status(200);
    assert!(
        resp.text.contains(&r),
        "the delivery of {r} is listed: {:.500}",
        resp.text
    );
}

#[tokio::test]
async fn a_deleted_webhook_receives_nothing_more() {
    let sim = Sim::start().await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let reg = register(
        &sim,
        &format!("{}/hook", receiver.uri()),
        &["epayments.payment.created.v1"],
    )
    .await;
    let id = reg.json()["id"].as_str().unwrap().to_owned();
    sim.send(
        sim.api(Method::DELETE, format!("/webhooks/v1/webhooks/{id}"))
            .await,
    )
    .await
    .assert_status(204);
    sim.created(1000).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    sim.advance(10).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());
}

#[tokio::test]
async fn an_expiry_on_the_virtual_clock_is_delivered_as_an_expired_event() {
    let sim = Sim::start().await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let reg = register(
        &sim,
        &format!("{}/hook", receiver.uri()),
        &["epayments.payment.expired.v1"],
    )
    .await;
    reg.assert_status(201);
    let secret = reg.json()["secret"].as_str().unwrap().to_owned();
    let r = sim.created(1000).await;
    sim.advance(601).await;
    let got = wait_for(&sim, &receiver, |g| !g.is_empty()).await;
    assert!(
        !got.is_empty(),
        "an EXPIRED delivery arrives without any API call on the payment"
    );
    let body = verify(&got[0], &secret).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(body["name"], "EXPIRED");
    assert_eq!(body["reference"], json!(r));
}

#[tokio::test]
async fn an_approval_through_the_control_api_is_delivered_without_a_later_api_call() {
    let sim = Sim::start().await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let reg = register(
        &sim,
        &format!("{}/hook", receiver.uri()),
        &["epayments.payment.authorized.v1"],
    )
    .await;
    reg.assert_status(201);
    let r = sim.created(1000).await;
    sim.control(&format!("/__sim/payments/{r}/approve"), None)
        .await
        .assert_status(200);
    let got = wait_for(&sim, &receiver, |g| !g.is_empty()).await;
    assert!(
        !got.is_empty(),
        "the AUTHORIZED event of a simulated user approval is delivered"
    );
}

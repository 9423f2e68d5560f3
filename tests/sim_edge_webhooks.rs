//! Webhook delivery end to end: a wiremock MockServer on 127.0.0.1 plays the
//! shop's webhook endpoint; signatures are checked by a verifier written here,
//! independently of the simulator's signing code.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use vipps_golive::simulator::webhooks::spawn_dispatcher;
use vipps_golive::simulator::{OutboundEvent, SimConfig, Simulator};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ALL: [&str; 2] = [
    "epayments.payment.authorized.v1",
    "epayments.payment.captured.v1",
];

fn event(name: &str, reference: &str) -> OutboundEvent {
    OutboundEvent {
        msn: "123456".into(),
        name: name.into(),
        reference: reference.into(),
        payload: json!({
            "msn": "123456", "reference": reference, "pspReference": "1234567",
            "name": name, "amount": { "currency": "NOK", "value": 1000 },
            "timestamp": "2026-01-01T00:00:00Z", "success": true
        }),
    }
}

fn fast(sim: &Arc<Simulator>) {
    sim.with_engine(|e| {
        e.hooks.settings.retry_delays = vec![Duration::from_millis(100)];
        e.hooks.settings.timeout = Duration::from_millis(500);
    });
}

fn register(sim: &Arc<Simulator>, url: &str, events: &[&str]) -> String {
    let events: Vec<String> = events.iter().map(|s| (*s).to_owned()).collect();
    sim.with_engine(|e| e.hooks.register("123456", url, &events))
        .expect("registration accepted")
        .1
}

fn push(sim: &Arc<Simulator>, events: Vec<OutboundEvent>) {
    sim.with_engine(|e| {
        let now = e.now();
        e.hooks.enqueue(events, now);
    });
}

/// Recomputes the §9.3 signature from what the shop received.
fn verify(req: &Request, secret: &str) -> Result<(), String> {
    let h = |n: &str| {
        req.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or(format!("missing {n}"))
    };
    let date = h("x-ms-date")?;
    let host = h("host")?;
    let hash = h("x-ms-content-sha256")?;
    let auth = h("authorization")?;
    let body_hash = B64.encode(Sha256::digest(&req.body));
    if body_hash != hash {
        return Err("content hash does not match the body".into());
    }
    let pq = match req.url.query() {
        Some(q) => format!("{}?{q}", req.url.path()),
        None => req.url.path().to_owned(),
    };
    let to_sign = format!("POST\n{pq}\n{date};{host};{hash}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    let expected = format!(
        "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={}",
        B64.encode(mac.finalize().into_bytes())
    );
    if auth != expected {
        return Err(format!("signature mismatch: {auth} vs {expected}"));
    }
    chrono::DateTime::parse_from_rfc2822(&date).map_err(|e| format!("bad date: {e}"))?;
    Ok(())
}

async fn wait_for(shop: &MockServer, n: usize) -> Vec<Request> {
    for _ in 0..100 {
        let got = shop.received_requests().await.unwrap_or_default();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shop.received_requests().await.unwrap_or_default()
}

fn name_and_ref(req: &Request) -> (String, String) {
    let v: Value = serde_json::from_slice(&req.body).unwrap();
    (
        v["name"].as_str().unwrap().to_owned(),
        v["reference"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_registered_event_is_delivered_signed_as_the_spec_says() {
    let shop = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&shop)
        .await;
    let sim = Simulator::new(SimConfig::default());
    let secret = register(&sim, &format!("{}/vipps/hook?shop=1", shop.uri()), &ALL);
    let _dispatcher = spawn_dispatcher(&sim);

    push(&sim, vec![event("AUTHORIZED", "order-1")]);

    let got = wait_for(&shop, 1).await;
    assert_eq!(got.len(), 1);
    verify(&got[0], &secret).unwrap();
    // Host carries the non-default port (OPEN §9.3, chosen: included).
    let host = got[0].headers.get("host").unwrap().to_str().unwrap();
    assert_eq!(host, shop.address().to_string());
    assert_eq!(
        name_and_ref(&got[0]),
        ("AUTHORIZED".into(), "order-1".into())
    );
}

#[tokio::test]
async fn events_nobody_asked_for_are_not_sent() {
    let shop = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&shop)
        .await;
    let sim = Simulator::new(SimConfig::default());
    register(&sim, &shop.uri(), &["epayments.payment.captured.v1"]);
    let _dispatcher = spawn_dispatcher(&sim);

    push(
        &sim,
        vec![event("CREATED", "order-2"), event("CAPTURED", "order-2")],
    );

    let got = wait_for(&shop, 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let got_after = shop.received_requests().await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got_after.len(), 1);
    assert_eq!(name_and_ref(&got[0]).0, "CAPTURED");
}

#[tokio::test]
async fn a_failing_authorized_holds_back_captured_for_that_payment_only() {
    let shop = MockServer::start().await;
    // The first two AUTHORIZED deliveries for order-a fail; everything else succeeds.
    Mock::given(method("POST"))
        .and(body_string_contains("\"reference\":\"order-a\""))
        .and(body_string_contains("AUTHORIZED"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&shop)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .with_priority(2)
        .mount(&shop)
        .await;
    let sim = Simulator::new(SimConfig::default());
    fast(&sim);
    let secret = register(&sim, &shop.uri(), &ALL);
    let _dispatcher = spawn_dispatcher(&sim);

    push(
        &sim,
        vec![
            event("AUTHORIZED", "order-a"),
            event("CAPTURED", "order-a"),
            event("AUTHORIZED", "order-b"),
            event("CAPTURED", "order-b"),
        ],
    );

    let got = wait_for(&shop, 6).await;
    let seen: Vec<(String, String)> = got.iter().map(name_and_ref).collect();
    assert_eq!(seen.len(), 6, "{seen:?}");
    for r in &got {
        verify(r, &secret).unwrap();
    }
    let pos = |n: &str, r: &str| {
        seen.iter()
            .rposition(|(a, b)| a == n && b == r)
            .unwrap_or(usize::MAX)
    };
    let a_attempts = seen
        .iter()
        .filter(|(n, r)| n == "AUTHORIZED" && r == "order-a")
        .count();
    assert_eq!(a_attempts, 3);
    // CAPTURED for order-a only after its AUTHORIZED finally succeeded...
    assert!(pos("CAPTURED", "order-a") > pos("AUTHORIZED", "order-a"));
    // ...while order-b went ahead meanwhile.
    assert!(pos("CAPTURED", "order-b") < pos("AUTHORIZED", "order-a"));

    let outcomes: Vec<String> = sim.with_engine(|e| {
        e.hooks
            .attempts()
            .map(|a| format!("{}:{}:{}", a.reference, a.attempt, a.outcome))
            .collect()
    });
    assert!(outcomes.contains(&"order-a:1:retrying".to_owned()));
    assert!(outcomes.contains(&"order-a:3:delivered".to_owned()));
}

#[tokio::test]
async fn no_answer_within_the_timeout_counts_as_a_failure_and_is_retried() {
    let shop = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&shop)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(2)
        .mount(&shop)
        .await;
    let sim = Simulator::new(SimConfig::default());
    fast(&sim);
    register(&sim, &shop.uri(), &ALL);
    let _dispatcher = spawn_dispatcher(&sim);

    push(&sim, vec![event("CAPTURED", "order-t")]);

    let got = wait_for(&shop, 2).await;
    assert_eq!(got.len(), 2);
    let first = sim
        .with_engine(|e| e.hooks.attempts().next().cloned())
        .unwrap();
    assert_eq!(first.status, None);
    assert!(first.error.unwrap().contains("no answer"));
}

#[tokio::test]
async fn the_dispatcher_stops_on_shutdown_and_leaves_deliveries_pending() {
    let sim = Simulator::new(SimConfig::default());
    register(&sim, "http://127.0.0.1:9/unreachable", &ALL);
    let dispatcher = spawn_dispatcher(&sim);
    dispatcher.shutdown().await;

    push(&sim, vec![event("CAPTURED", "order-s")]);
    tokio::time::sleep(Duration::from_millis(200)).await;

    assert_eq!(sim.with_engine(|e| e.hooks.pending()), 1);
    assert_eq!(sim.with_engine(|e| e.hooks.attempts().count()), 0);
}

//! Both adapters must answer byte for byte the same: one suite of requests is
//! sent through wiremock and through the standalone server, each on its own
//! fresh simulator, and status, content type and body are compared after
//! normalizing the volatile values (trace ids, pspReferences, timestamps,
//! tokens, ids, the base URL).

use crate::sim_support;

use serde_json::{json, Value};
use sim_support::{client, Adapter};
use vipps_golive::simulator::SimConfig;

const MSN: &str = "123456";
const CLIENT_ID: &str = "sim-client-id-123456";
const CLIENT_SECRET: &str = "sim-client-secret-123456";
const KEY: &str = "sim-subscription-key-123456";

/// What one request got back.
#[derive(Debug, PartialEq)]
struct Seen {
    step: &'static str,
    status: u16,
    content_type: Option<String>,
    body: String,
}

const VOLATILE_KEYS: [&str; 10] = [
    "traceId",
    "pspReference",
    "timestamp",
    "access_token",
    "expires_on",
    "not_before",
    "id",
    "secret",
    "instance",
    "idempotencyKey",
];

/// Collects the volatile strings of a JSON body.
fn volatile(v: &Value, key: Option<&str>, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                volatile(x, Some(k), out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| volatile(x, key, out)),
        Value::String(s) => {
            let by_key = key.is_some_and(|k| VOLATILE_KEYS.contains(&k) && k != "instance")
                // An Order Management `instance` is a trace id; an ePayment one is a path.
                || (key == Some("instance") && s.starts_with("00-"));
            let looks =
                uuid::Uuid::parse_str(s).is_ok() || chrono::DateTime::parse_from_rfc3339(s).is_ok();
            if by_key || looks {
                out.push(s.clone());
            }
            // Landing and deep-link URLs carry a per-payment token.
            if let Some((_, t)) = s.split_once("token=") {
                out.push(t.split('&').next().unwrap_or(t).to_owned());
            }
        }
        Value::Number(n) if key.is_some_and(|k| k == "pspReference") => out.push(n.to_string()),
        _ => {}
    }
}

fn normalize(body: &[u8], base: &str) -> String {
    let mut text = String::from_utf8_lossy(body).into_owned();
    let mut found = Vec::new();
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        volatile(&v, None, &mut found);
    }
    found.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for s in found.iter().filter(|s| !s.is_empty()) {
        text = text.replace(s.as_str(), "<volatile>");
    }
    let host = base.trim_start_matches("http://");
    text.replace(base, "<base>").replace(host, "<host>")
}

async fn suite(a: &Adapter) -> Vec<Seen> {
    let c = client();
    let base = a.url("");
    let mut seen = Vec::new();
    let mut record = |step: &'static str, status: u16, ct: Option<String>, body: Vec<u8>| {
        seen.push(Seen {
            step,
            status,
            content_type: ct,
            body: normalize(&body, &base),
        });
    };
    async fn parts(r: reqwest::Response) -> (u16, Option<String>, Vec<u8>) {
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        (status, ct, r.bytes().await.unwrap().to_vec())
    }

    let r = c
        .post(a.url("/accesstoken/get"))
        .header("client_id", CLIENT_ID)
        .header("client_secret", CLIENT_SECRET)
        .header("Ocp-Apim-Subscription-Key", KEY)
        .header("Merchant-Serial-Number", MSN)
        .send()
        .await
        .unwrap();
    let (s, ct, b) = parts(r).await;
    let token = serde_json::from_slice::<Value>(&b)
        .ok()
        .and_then(|v| v["access_token"].as_str().map(str::to_owned))
        .unwrap_or_default();
    record("token", s, ct, b);

    let authed = |rb: reqwest::RequestBuilder| {
        rb.bearer_auth(&token)
            .header("Ocp-Apim-Subscription-Key", KEY)
            .header("Merchant-Serial-Number", MSN)
            .header("Vipps-System-Name", "parity")
            .header("Vipps-System-Version", "1.0.0")
            .header("Vipps-System-Plugin-Name", "parity")
            .header("Vipps-System-Plugin-Version", "1.0.0")
    };
    let create = json!({
        "amount": { "currency": "NOK", "value": 1000 },
        "paymentMethod": { "type": "WALLET" },
        "reference": "parity-order-0001",
        "userFlow": "WEB_REDIRECT",
        "returnUrl": "https://shop.example/return?order=parity-order-0001",
        "paymentDescription": "Parity test"
    });
    let steps: Vec<(&'static str, reqwest::RequestBuilder)> =
        vec![
        (
            "create",
            authed(c.post(a.url("/epayment/v1/payments")))
                .header("Idempotency-Key", "parity-key-0001")
                .json(&create),
        ),
        (
            "get",
            authed(c.get(a.url("/epayment/v1/payments/parity-order-0001"))),
        ),
        (
            "capture before approval",
            authed(c.post(a.url("/epayment/v1/payments/parity-order-0001/capture")))
                .header("Idempotency-Key", "parity-key-0002")
                .json(&json!({ "modificationAmount": { "currency": "NOK", "value": 1000 } })),
        ),
        (
            "validation error",
            authed(c.post(a.url("/epayment/v1/payments")))
                .header("Idempotency-Key", "parity-key-0003")
                .json(&json!({ "amount": { "currency": "NOK", "value": -5 }, "reference": "x" })),
        ),
        (
            "malformed json",
            authed(c.post(a.url("/epayment/v1/payments")))
                .header("Idempotency-Key", "parity-key-0004")
                .header("content-type", "application/json")
                .body("{\"amount\":"),
        ),
        (
            "unknown reference",
            authed(c.get(a.url("/epayment/v1/payments/no-such-order-0001"))),
        ),
        ("no token", c.get(a.url("/epayment/v1/payments/parity-order-0001"))),
        (
            "om receipt",
            authed(c.post(a.url("/order-management/v2/ecom/receipts/parity-order-0001"))).json(
                &json!({
                    "orderLines": [{ "name": "Socks", "id": "1", "totalAmount": 1000,
                        "totalAmountExcludingTax": 800, "totalTaxAmount": 200, "taxRate": 2500 }],
                    "bottomLine": { "currency": "NOK" }
                }),
            ),
        ),
        (
            "om receipt again",
            authed(c.post(a.url("/order-management/v2/ECOM/receipts/parity-order-0001"))).json(
                &json!({
                    "orderLines": [{ "name": "Socks", "id": "1", "totalAmount": 1000,
                        "totalAmountExcludingTax": 800, "totalTaxAmount": 200, "taxRate": 2500 }],
                    "bottomLine": { "currency": "NOK" }
                }),
            ),
        ),
        (
            "om get",
            authed(c.get(a.url("/order-management/v2/eCom/parity-order-0001"))),
        ),
        (
            "om bad category",
            authed(c.put(a.url("/order-management/v2/ecom/categories/parity-order-0001")))
                .json(&json!({ "category": "FOOD", "orderDetailsUrl": "not a url" })),
        ),
        (
            "webhook register",
            authed(c.post(a.url("/webhooks/v1/webhooks"))).json(&json!({
                "url": "https://shop.example/hooks",
                "events": ["epayments.payment.captured.v1"]
            })),
        ),
        (
            "webhook register http",
            authed(c.post(a.url("/webhooks/v1/webhooks"))).json(&json!({
                "url": "http://shop.example/hooks",
                "events": ["epayments.payment.captured.v1"]
            })),
        ),
        ("webhook list", authed(c.get(a.url("/webhooks/v1/webhooks")))),
        ("unknown path", c.get(a.url("/nothing/here"))),
    ];
    for (step, rb) in steps {
        let (s, ct, b) = parts(rb.send().await.unwrap()).await;
        record(step, s, ct, b);
    }
    seen
}

#[tokio::test]
async fn both_adapters_answer_the_same_suite_identically() {
    let adapters = Adapter::both(SimConfig::default()).await;
    let mock = suite(&adapters[0]).await;
    let standalone = suite(&adapters[1]).await;

    for (m, s) in mock.iter().zip(&standalone) {
        assert_eq!(m, s, "step `{}` differs between the adapters", m.step);
    }
    assert_eq!(mock.len(), standalone.len());
    // The suite must really exercise the APIs, not only compare two refusals.
    let status = |step: &str| mock.iter().find(|x| x.step == step).unwrap().status;
    assert_eq!(status("token"), 200);
    assert_eq!(status("create"), 201);
    assert_eq!(status("get"), 200);
    assert_eq!(status("capture before approval"), 400);
    assert_eq!(status("validation error"), 400);
    assert_eq!(status("unknown reference"), 404);
    assert_eq!(status("no token"), 401);
    assert_eq!(status("om receipt"), 201);
    assert_eq!(status("om receipt again"), 409);
    assert_eq!(status("om get"), 200);
    assert_eq!(status("om bad category"), 400);
    assert_eq!(status("webhook register"), 201);
    assert_eq!(status("webhook register http"), 400);
    assert_eq!(status("webhook list"), 200);
}

//! The edge end to end over HTTP with real payments: webhooks registered
//! through the API, faults on real operations, Order Management and the
//! Webhooks API behind authentication, many concurrent shops.

use crate::sim_support;

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sim_support::{client, Adapter};
use vipps_golive::simulator::SimConfig;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "sim-subscription-key-123456";

/// A client of the simulator acting as MSN 123456.
struct Shop {
    c: reqwest::Client,
    token: String,
}

impl Shop {
    async fn login(a: &Adapter) -> Shop {
        let c = client();
        let r: Value = c
            .post(a.url("/accesstoken/get"))
            .header("client_id", "sim-client-id-123456")
            .header("client_secret", "sim-client-secret-123456")
            .header("Ocp-Apim-Subscription-Key", KEY)
            .header("Merchant-Serial-Number", "123456")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Shop {
            c,
            token: r["access_token"].as_str().unwrap().to_owned(),
        }
    }

    fn req(&self, m: reqwest::Method, url: String) -> reqwest::RequestBuilder {
        self.c
            .request(m, url)
            .bearer_auth(&self.token)
            .header("Ocp-Apim-Subscription-Key", KEY)
            .header("Merchant-Serial-Number", "123456")
            .header("Vipps-System-Name", "e2e")
            .header("Vipps-System-Version", "1")
            .header("Vipps-System-Plugin-Name", "e2e")
            .header("Vipps-System-Plugin-Version", "1")
    }

    async fn create(&self, a: &Adapter, reference: &str) -> u16 {
        self.req(reqwest::Method::POST, a.url("/epayment/v1/payments"))
            .header("Idempotency-Key", format!("create-{reference}"))
            .json(&json!({
                "amount": { "currency": "NOK", "value": 1000 },
                "paymentMethod": { "type": "WALLET" },
                "reference": reference,
                "userFlow": "WEB_REDIRECT",
                "returnUrl": "https://shop.example/return",
                "paymentDescription": "e2e"
            }))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    async fn approve(&self, a: &Adapter, reference: &str) -> u16 {
        self.c
            .post(a.url(&format!("/__sim/payments/{reference}/approve")))
            .header("Merchant-Serial-Number", "123456")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    async fn capture(&self, a: &Adapter, reference: &str) -> Result<u16, reqwest::Error> {
        self.req(
            reqwest::Method::POST,
            a.url(&format!("/epayment/v1/payments/{reference}/capture")),
        )
        .header("Idempotency-Key", format!("capture-{reference}"))
        .json(&json!({ "modificationAmount": { "currency": "NOK", "value": 1000 } }))
        .send()
        .await
        .map(|r| r.status().as_u16())
    }

    async fn get(&self, a: &Adapter, reference: &str) -> Value {
        self.req(
            reqwest::Method::GET,
            a.url(&format!("/epayment/v1/payments/{reference}")),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
    }
}

fn verify(req: &Request, secret: &str) -> bool {
    let h = |n: &str| req.headers.get(n).unwrap().to_str().unwrap().to_owned();
    let hash = B64.encode(Sha256::digest(&req.body));
    let to_sign = format!(
        "POST\n{}\n{};{};{}",
        req.url.path(),
        h("x-ms-date"),
        h("host"),
        hash
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    let sig = B64.encode(mac.finalize().into_bytes());
    h("x-ms-content-sha256") == hash
        && h("authorization")
            == format!(
                "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={sig}"
            )
}

#[tokio::test]
async fn a_webhook_registered_through_the_api_gets_each_lifecycle_event_signed_and_in_order() {
    for a in Adapter::both(SimConfig::default()).await {
        let receiver = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&receiver)
            .await;
        let shop = Shop::login(&a).await;
        let reg: Value = shop
            .req(reqwest::Method::POST, a.url("/webhooks/v1/webhooks"))
            .json(&json!({
                "url": format!("{}/vipps/webhooks", receiver.uri()),
                "events": [
                    "epayments.payment.created.v1",
                    "epayments.payment.authorized.v1",
                    "epayments.payment.captured.v1"
                ]
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let secret = reg["secret"].as_str().unwrap().to_owned();

        assert_eq!(shop.create(&a, "hook-order-0001").await, 201);
        assert_eq!(shop.approve(&a, "hook-order-0001").await, 200);
        assert_eq!(shop.capture(&a, "hook-order-0001").await.unwrap(), 200);

        let mut got = Vec::new();
        for _ in 0..100 {
            got = receiver.received_requests().await.unwrap();
            if got.len() >= 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let names: Vec<String> = got
            .iter()
            .map(|r| {
                let v: Value = serde_json::from_slice(&r.body).unwrap();
                assert_eq!(v["reference"], "hook-order-0001");
                assert_eq!(v["msn"], "123456");
                v["name"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(names, ["CREATED", "AUTHORIZED", "CAPTURED"], "{}", a.name());
        assert!(got.iter().all(|r| verify(r, &secret)), "{}", a.name());

        let log: Value = client()
            .get(a.url("/__sim/webhooks/deliveries?reference=hook-order-0001"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(log["deliveries"].as_array().unwrap().len(), 3);
        assert_eq!(
            log["deliveries"][2]["eventType"],
            "epayments.payment.captured.v1"
        );
        assert_eq!(log["deliveries"][2]["outcome"], "delivered");
    }
}

#[tokio::test]
async fn the_webhooks_api_lists_deletes_and_refuses_unknown_ids() {
    for a in Adapter::both(SimConfig::default()).await {
        let shop = Shop::login(&a).await;
        let reg: Value = shop
            .req(reqwest::Method::POST, a.url("/webhooks/v1/webhooks"))
            .json(&json!({ "url": "https://shop.example/h", "events": ["epayments.payment.captured.v1"] }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = reg["id"].as_str().unwrap();

        let listed: Value = shop
            .req(reqwest::Method::GET, a.url("/webhooks/v1/webhooks"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let deleted = shop
            .req(
                reqwest::Method::DELETE,
                a.url(&format!("/webhooks/v1/webhooks/{id}")),
            )
            .send()
            .await
            .unwrap();
        let again = shop
            .req(
                reqwest::Method::DELETE,
                a.url(&format!("/webhooks/v1/webhooks/{id}")),
            )
            .send()
            .await
            .unwrap();

        assert_eq!(
            listed,
            json!({ "webhooks": [{ "id": id, "url": "https://shop.example/h", "events": ["epayments.payment.captured.v1"] }] })
        );
        assert_eq!(deleted.status(), 204);
        assert_eq!(again.status(), 404);
        assert_eq!(
            again.headers()["content-type"],
            "application/problem+json; charset=utf-8"
        );
    }
}

#[tokio::test]
async fn order_management_and_webhooks_refuse_a_request_without_a_token() {
    for a in Adapter::both(SimConfig::default()).await {
        let om = client()
            .get(a.url("/order-management/v2/ecom/order-1"))
            .header("Ocp-Apim-Subscription-Key", KEY)
            .header("Merchant-Serial-Number", "123456")
            .send()
            .await
            .unwrap();
        let hooks = client()
            .get(a.url("/webhooks/v1/webhooks"))
            .header("Ocp-Apim-Subscription-Key", KEY)
            .header("Merchant-Serial-Number", "123456")
            .send()
            .await
            .unwrap();
        assert_eq!(om.status(), 401, "{}", a.name());
        assert_eq!(hooks.status(), 401, "{}", a.name());
    }
}

#[tokio::test]
async fn a_capture_whose_connection_drops_still_took_effect() {
    let a = Adapter::standalone(SimConfig::default()).await;
    let shop = Shop::login(&a).await;
    shop.create(&a, "drop-order-0001").await;
    shop.approve(&a, "drop-order-0001").await;
    client()
        .post(a.url("/__sim/faults"))
        .json(&json!({ "method": "POST", "path": "/epayment/v1/payments/*/capture", "kind": "drop_after_effect" }))
        .send()
        .await
        .unwrap();

    let dropped = shop.capture(&a, "drop-order-0001").await;
    let retried = shop.capture(&a, "drop-order-0001").await;
    let payment = shop.get(&a, "drop-order-0001").await;

    assert!(dropped.is_err(), "{dropped:?}");
    // The retry with the same key replays instead of capturing twice.
    assert_eq!(retried.unwrap(), 200);
    assert_eq!(payment["aggregate"]["capturedAmount"]["value"], 1000);
}

#[tokio::test]
async fn an_injected_423_leaves_the_payment_untouched() {
    for a in Adapter::both(SimConfig::default()).await {
        let shop = Shop::login(&a).await;
        shop.create(&a, "lock-order-0001").await;
        shop.approve(&a, "lock-order-0001").await;
        client()
            .post(a.url("/__sim/faults"))
            .json(&json!({ "path": "/epayment/v1/payments/*/capture", "kind": "error423" }))
            .send()
            .await
            .unwrap();

        let locked = shop.capture(&a, "lock-order-0001").await.unwrap();
        let payment = shop.get(&a, "lock-order-0001").await;

        assert_eq!(locked, 423);
        assert_eq!(payment["aggregate"]["capturedAmount"]["value"], 0);
    }
}

#[tokio::test]
async fn sixty_four_shops_create_approve_and_capture_at_once() {
    let a = std::sync::Arc::new(
        Adapter::standalone(SimConfig {
            rate_limits: false,
            ..SimConfig::default()
        })
        .await,
    );
    let mut tasks = Vec::new();
    for t in 0..64 {
        let a = a.clone();
        tasks.push(tokio::spawn(async move {
            let shop = Shop::login(&a).await;
            let mut done = 0;
            for n in 0..5 {
                let r = format!("conc-{t:02}-{n:02}-order");
                assert_eq!(shop.create(&a, &r).await, 201);
                assert_eq!(shop.approve(&a, &r).await, 200);
                assert_eq!(shop.capture(&a, &r).await.unwrap(), 200);
                let p = shop.get(&a, &r).await;
                assert_eq!(p["aggregate"]["capturedAmount"]["value"], 1000);
                done += 1;
            }
            done
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 320);
}

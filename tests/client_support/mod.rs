//! Shared arrangement for the client tests: a wiremock server on loopback, a
//! virtual clock, a memory recorder and a client with planted credentials.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use url::Url;
use vipps_golive::api::epayment::{Customer, ForceApproveRequest, QrFormat};
use vipps_golive::api::order_management::{
    BottomLine, Category, CategoryType, ImageUpload, OrderLine, PaymentType, Receipt,
};
use vipps_golive::api::webhooks::RegisterWebhook;
use vipps_golive::api::{Amount, CreatePaymentRequest, Currency, UserFlow};
use vipps_golive::api::{Client, ClientOptions, RetryPolicy};
use vipps_golive::clock::VirtualClock;
use vipps_golive::config::{Credentials, SystemHeaders};
use vipps_golive::evidence::MemoryRecorder;
use vipps_golive::Secret;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub const CLIENT_ID: &str = "planted-client-id-4f2a9c";
pub const CLIENT_SECRET: &str = "planted-client-secret-8d1e77";
pub const SUBSCRIPTION_KEY: &str = "planted-subscription-key-55b0e3";
pub const ACCESS_TOKEN: &str = "eyJplanted.access-token.c0ffee";
pub const MSN: &str = "123456";

pub fn credentials() -> Credentials {
    Credentials {
        client_id: Secret::new(CLIENT_ID),
        client_secret: Secret::new(CLIENT_SECRET),
        subscription_key: Secret::new(SUBSCRIPTION_KEY),
        msn: MSN.into(),
    }
}

pub fn system() -> SystemHeaders {
    SystemHeaders {
        system_name: "acme-shop".into(),
        system_version: "3.1.2".into(),
        plugin_name: "acme-vipps".into(),
        plugin_version: "4.5.6".into(),
    }
}

pub struct Harness {
    pub server: MockServer,
    pub clock: Arc<VirtualClock>,
    pub recorder: Arc<MemoryRecorder>,
    pub client: Client,
}

impl Harness {
    /// Requests the server received, except token requests.
    pub async fn business_requests(&self) -> Vec<Request> {
        self.requests()
            .await
            .into_iter()
            .filter(|r| r.url.path() != "/accesstoken/get")
            .collect()
    }

    pub async fn token_requests(&self) -> Vec<Request> {
        self.requests()
            .await
            .into_iter()
            .filter(|r| r.url.path() == "/accesstoken/get")
            .collect()
    }

    pub async fn requests(&self) -> Vec<Request> {
        self.server.received_requests().await.unwrap_or_default()
    }
}

/// A token body with string fields, valid `expires_in` seconds from `now_epoch`.
pub fn token_body(now_epoch: i64, expires_in: i64) -> serde_json::Value {
    json!({
        "token_type": "Bearer",
        "expires_in": expires_in.to_string(),
        "ext_expires_in": "0",
        "expires_on": (now_epoch + expires_in).to_string(),
        "not_before": now_epoch.to_string(),
        "resource": "00000002-0000-0000-c000-000000000000",
        "access_token": ACCESS_TOKEN,
    })
}

pub async fn mount_token(server: &MockServer, clock: &VirtualClock, expires_in: i64) {
    use vipps_golive::clock::Clock;
    Mock::given(method("POST"))
        .and(path("/accesstoken/get"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(token_body(clock.now().timestamp(), expires_in)),
        )
        .mount(server)
        .await;
}

/// Retries without jitter so waits are predictable.
pub fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(500),
        max_backoff: Duration::from_secs(10),
        max_retry_after: Duration::from_secs(120),
        jitter: false,
    }
}

pub fn options(
    base_url: Url,
    clock: Arc<VirtualClock>,
    recorder: Arc<MemoryRecorder>,
) -> ClientOptions {
    ClientOptions {
        base_url,
        credentials: credentials(),
        system: system(),
        production: false,
        clock,
        recorder,
        retry: policy(),
        timeout: Duration::from_secs(5),
        run_id: None,
    }
}

/// A harness whose token endpoint answers with a one-hour token.
pub async fn harness() -> Harness {
    harness_with(|_| {}).await
}

pub async fn harness_with(adjust: impl FnOnce(&mut ClientOptions)) -> Harness {
    let server = MockServer::start().await;
    let clock = VirtualClock::new();
    let recorder = MemoryRecorder::new();
    mount_token(&server, &clock, 3600).await;
    let mut o = options(
        Url::parse(&server.uri()).unwrap(),
        clock.clone(),
        recorder.clone(),
    );
    adjust(&mut o);
    let client = Client::new(o).unwrap();
    Harness {
        server,
        clock,
        recorder,
        client,
    }
}

pub fn header<'a>(r: &'a Request, name: &str) -> Option<&'a str> {
    r.headers.get(name).and_then(|v| v.to_str().ok())
}

/// A minimal GET payment body in `state`.
pub fn payment_body(reference: &str, state: &str) -> serde_json::Value {
    let zero = json!({"currency": "NOK", "value": 0});
    json!({
        "aggregate": {"authorizedAmount": zero, "cancelledAmount": zero, "capturedAmount": zero, "refundedAmount": zero},
        "amount": {"currency": "NOK", "value": 24900},
        "state": state,
        "paymentMethod": {"type": "WALLET"},
        "profile": {},
        "pspReference": "4f0e7c1a-2b7d-4e52-9a0e-31c5a7d0be11",
        "reference": reference,
    })
}

/// A ModificationResponse body.
pub fn modification_body(reference: &str) -> serde_json::Value {
    let zero = json!({"currency": "NOK", "value": 0});
    json!({
        "amount": {"currency": "NOK", "value": 24900},
        "state": "AUTHORIZED",
        "aggregate": {"authorizedAmount": {"currency": "NOK", "value": 24900}, "cancelledAmount": zero, "capturedAmount": {"currency": "NOK", "value": 10000}, "refundedAmount": zero},
        "pspReference": "2107719904",
        "reference": reference,
    })
}

pub const REF: &str = "acme-shop-order1-1";

pub async fn mount_every_endpoint(server: &MockServer) {
    let mounts = [
        ("POST", "^/epayment/v1/payments$", ResponseTemplate::new(201).set_body_json(json!({"reference": REF, "redirectUrl": "https://landing.example/?v=2&token=eyJ.t.k"}))),
        ("GET", "^/epayment/v1/payments/[^/]+$", ResponseTemplate::new(200).set_body_json(payment_body(REF, "AUTHORIZED"))),
        ("GET", "^/epayment/v1/payments/[^/]+/events$", ResponseTemplate::new(200).set_body_json(json!([{"reference": REF, "pspReference": "1", "name": "CREATED", "amount": {"currency": "NOK", "value": 24900}, "timestamp": "2024-05-02T09:14:03.112Z", "idempotencyKey": "k", "success": true}]))),
        ("POST", "^/epayment/v1/payments/[^/]+/(cancel|capture|refund)$", ResponseTemplate::new(200).set_body_json(modification_body(REF))),
        ("POST", "^/epayment/v1/test/payments/[^/]+/approve$", ResponseTemplate::new(200)),
        ("POST", "^/order-management/v1/images$", ResponseTemplate::new(200).set_body_json(json!({"imageId": "socks-1"}))),
        ("POST", "^/order-management/v2/ecom/receipts/[^/]+$", ResponseTemplate::new(201).set_body_json(json!("r-1"))),
        ("PUT", "^/order-management/v2/ecom/categories/[^/]+$", ResponseTemplate::new(200).set_body_json(json!("c-1"))),
        ("GET", "^/order-management/v2/ecom/[^/]+$", ResponseTemplate::new(200).set_body_json(json!({"category": {"category": "GENERAL", "orderDetailsUrl": "https://shop.example/o/1"}}))),
        ("POST", "^/webhooks/v1/webhooks$", ResponseTemplate::new(201).set_body_json(json!({"id": "7d3e2b10-4c5f-4a8e-9f61-0b2c3d4e5f60", "secret": "planted-webhook-secret-1234"}))),
        ("GET", "^/webhooks/v1/webhooks$", ResponseTemplate::new(200).set_body_json(json!({"webhooks": [{"id": "w1", "url": "https://shop.example/hook", "events": ["epayments.payment.captured.v1"]}]}))),
        ("DELETE", "^/webhooks/v1/webhooks/[^/]+$", ResponseTemplate::new(204)),
    ];
    for (m, p, t) in mounts {
        Mock::given(method(m))
            .and(path_regex(p))
            .respond_with(t)
            .mount(server)
            .await;
    }
}

pub fn receipt() -> Receipt {
    Receipt {
        order_lines: vec![OrderLine {
            name: "Mug".into(),
            id: "mug-1".into(),
            total_amount: 24900,
            total_amount_excluding_tax: 19920,
            total_tax_amount: 4980,
            tax_rate: Some(2500),
            tax_percentage: None,
            unit_info: None,
            discount: None,
            product_url: None,
            is_return: None,
            is_shipping: None,
        }],
        bottom_line: BottomLine {
            currency: Currency::NOK,
            tip_amount: None,
            pos_id: None,
            receipt_number: Some("0042".into()),
        },
    }
}

/// Calls every operation of the client once (create once per userFlow).
pub async fn call_every_endpoint(h: &Harness) {
    let c = h
        .client
        .tagged(&["QA-HEADERS"], Some("headers on every request"));
    for flow in UserFlow::ALL {
        let mut req =
            CreatePaymentRequest::new(Amount::nok(24900), REF, flow).description("Two mugs");
        match flow {
            UserFlow::WebRedirect => {
                req = req.return_url(format!("https://shop.example/return?ref={REF}"))
            }
            UserFlow::NativeRedirect => req = req.return_url("acmeshop://return"),
            UserFlow::Qr => {
                req.qr_format = Some(QrFormat {
                    format: "IMAGE/SVG+XML".into(),
                    size: None,
                })
            }
            UserFlow::PushMessage => req = req.customer(Customer::phone("4791234567")),
        }
        c.create_payment(&req).await.unwrap();
    }
    c.get_payment(REF).await.unwrap();
    c.payment_events(REF).await.unwrap();
    c.cancel_payment(REF, None).await.unwrap();
    c.cancel_payment(REF, Some(true)).await.unwrap();
    c.capture_payment(REF, Amount::nok(10000)).await.unwrap();
    c.refund_payment(REF, Amount::nok(5000)).await.unwrap();
    c.force_approve(
        REF,
        &ForceApproveRequest {
            customer: Some(Customer::phone("4791234567")),
            token: Some("eyJ.t.k".into()),
        },
    )
    .await
    .unwrap();
    c.upload_image(&ImageUpload::from_bytes("socks-1", b"\x89PNG fake"))
        .await
        .unwrap();
    c.add_receipt(PaymentType::Ecom, REF, &receipt())
        .await
        .unwrap();
    c.put_category(
        PaymentType::Ecom,
        REF,
        &Category {
            category: CategoryType::General,
            order_details_url: Some("https://shop.example/o/1".into()),
            image_id: Some("socks-1".into()),
        },
    )
    .await
    .unwrap();
    c.get_order(PaymentType::Ecom, REF).await.unwrap();
    c.register_webhook(&RegisterWebhook {
        url: "https://shop.example/hook".into(),
        events: vec!["epayments.payment.captured.v1".into()],
    })
    .await
    .unwrap();
    c.list_webhooks().await.unwrap();
    c.delete_webhook("w1").await.unwrap();
}

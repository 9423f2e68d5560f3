//! A small scripted shop for the tests that drive the binary (`pack`): the
//! careful and the sloppy shop of the in-crate audit tests
//! (src/commands/tests_audit_shop.rs), written against the public API only
//! (the simulator and the virtual clock) so that a test under tests/ can
//! record a shop's journal and hand it to `vipps-golive`.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use vipps_golive::clock::VirtualClock;
use vipps_golive::simulator::mock::SimServer;
use vipps_golive::simulator::{SimConfig, Simulator};

pub const MSN: &str = "123456";

/// What the sloppy shop gets wrong (each on its own, so a test can name it).
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Never sends Vipps-System-Plugin-Name.
    pub missing_header: bool,
    /// References like `12345678` and `01234567`.
    pub numeric_references: bool,
    /// Polls every 100 ms.
    pub fast_polling: bool,
    /// Captures after the webhook without reading the payment.
    pub no_get_after_webhook: bool,
    /// One Idempotency-Key for a capture and the refund after it.
    pub reused_keys: bool,
    /// Registers its webhook on http://127.0.0.1:9443.
    pub webhook_port_9443: bool,
}

impl Faults {
    pub fn all() -> Faults {
        Faults {
            missing_header: true,
            numeric_references: true,
            fast_polling: true,
            no_get_after_webhook: true,
            reused_keys: true,
            webhook_port_9443: true,
        }
    }
}

pub struct Shop {
    http: reqwest::Client,
    base: String,
    clock: Arc<VirtualClock>,
    token: String,
    faults: Faults,
    orders: u32,
    /// Where the shop's return page lives.
    return_base: String,
}

impl Shop {
    pub async fn open(base: &str, clock: Arc<VirtualClock>, faults: Faults) -> Shop {
        let mut shop = Shop {
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            base: base.trim_end_matches('/').to_owned(),
            clock,
            token: String::new(),
            faults,
            orders: 0,
            return_base: "https://shop.example".into(),
        };
        shop.renew_token().await;
        shop
    }

    /// A new access token (a long session outlives one on the virtual clock).
    pub async fn renew_token(&mut self) {
        self.token.clear();
        let req = self
            .http
            .post(format!("{}/accesstoken/get", self.base))
            .header("client_id", "sim-client-id-123456")
            .header("client_secret", "sim-client-secret-123456");
        let resp = self.headers(req).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        self.token = body["access_token"].as_str().unwrap().to_owned();
    }

    pub fn headers(&self, mut req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if !self.token.is_empty() {
            req = req.header("Authorization", format!("Bearer {}", self.token));
        }
        req = req
            .header("Ocp-Apim-Subscription-Key", "sim-subscription-key-123456")
            .header("Merchant-Serial-Number", MSN)
            .header("Vipps-System-Name", "golive-test-shop")
            .header("Vipps-System-Version", "2.4.1")
            .header("Vipps-System-Plugin-Version", "1.0.3");
        if !self.faults.missing_header {
            req = req.header("Vipps-System-Plugin-Name", "golive-test-checkout");
        }
        req
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.headers(self.http.request(method, format!("{}{path}", self.base)));
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub fn wait(&self, ms: u64) {
        self.clock.advance(Duration::from_millis(ms));
    }

    /// What the customer does in the app (not the shop's traffic: /__sim/ is not journaled).
    pub async fn customer(&self, reference: &str, action: &str) {
        let (status, _) = self
            .call(
                "POST",
                &format!("/__sim/payments/{reference}/{action}"),
                Some(json!({})),
                None,
            )
            .await;
        assert!(status < 300, "{action} {reference}: {status}");
    }

    pub fn next_reference(&mut self) -> String {
        self.orders += 1;
        if self.faults.numeric_references {
            // One digits-only, then one with a leading zero.
            if self.orders % 2 == 1 {
                format!("{}", 12_345_670 + self.orders)
            } else {
                format!("0{}", 1_234_560 + self.orders)
            }
        } else {
            format!("goodshop-order{}-1", 1000 + self.orders)
        }
    }

    pub async fn register_webhook(&self) {
        let url = if self.faults.webhook_port_9443 {
            "http://127.0.0.1:9443/vipps/webhooks"
        } else {
            "https://shop.example/vipps/webhooks"
        };
        let events: Vec<String> = [
            "created",
            "aborted",
            "expired",
            "cancelled",
            "captured",
            "refunded",
            "authorized",
            "terminated",
        ]
        .iter()
        .map(|e| format!("epayments.payment.{e}.v1"))
        .collect();
        let (status, body) = self
            .call(
                "POST",
                "/webhooks/v1/webhooks",
                Some(json!({"url": url, "events": events})),
                None,
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }

    pub async fn create(&mut self, value: i64) -> String {
        let reference = self.next_reference();
        let body = json!({
            "amount": {"currency": "NOK", "value": value},
            "paymentMethod": {"type": "WALLET"},
            "reference": reference,
            "userFlow": "WEB_REDIRECT",
            "returnUrl": format!("{}/vipps/return?reference={reference}", self.return_base),
            "paymentDescription": "Two mugs",
        });
        let key = uuid::Uuid::new_v4().to_string();
        let (status, resp) = self
            .call("POST", "/epayment/v1/payments", Some(body), Some(&key))
            .await;
        assert_eq!(status, 201, "{resp}");
        reference
    }

    pub async fn get(&self, reference: &str) -> String {
        let (status, body) = self
            .call(
                "GET",
                &format!("/epayment/v1/payments/{reference}"),
                None,
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["state"].as_str().unwrap_or_default().to_owned()
    }

    /// Polls until a final state, on the guideline schedule (or the sloppy one).
    pub async fn poll(&self, reference: &str) -> String {
        let (first, every) = if self.faults.fast_polling {
            (100, 100)
        } else {
            (5_000, 2_000)
        };
        self.wait(first);
        loop {
            let state = self.get(reference).await;
            if state != "CREATED" {
                return state;
            }
            self.wait(every);
        }
    }

    pub async fn modify(&self, reference: &str, op: &str, value: Option<i64>, key: &str) -> u16 {
        let body = value.map(|v| json!({"modificationAmount": {"currency": "NOK", "value": v}}));
        let (status, body) = self
            .call(
                "POST",
                &format!("/epayment/v1/payments/{reference}/{op}"),
                body,
                Some(key),
            )
            .await;
        assert!(
            status == 200 || status == 409,
            "{op} {reference}: {status} {body}"
        );
        status
    }

    pub async fn events(&self, reference: &str) {
        let (status, _) = self
            .call(
                "GET",
                &format!("/epayment/v1/payments/{reference}/events"),
                None,
                None,
            )
            .await;
        assert_eq!(status, 200);
    }

    /// A customer pays and approves; the shop polls to AUTHORIZED.
    pub async fn paid(&mut self, value: i64) -> String {
        let reference = self.create(value).await;
        if self.faults.fast_polling {
            // Hammers GET while the customer is still in the app.
            for _ in 0..3 {
                self.wait(100);
                self.get(&reference).await;
            }
        } else {
            // The customer approves in the app after a few seconds.
            self.wait(3_000);
        }
        self.customer(&reference, "approve").await;
        assert_eq!(self.poll(&reference).await, "AUTHORIZED");
        reference
    }

    /// Everything a careful shop does before go-live.
    pub async fn careful_session(&mut self) {
        self.register_webhook().await;

        // Partial capture, capture of the rest, partial refund.
        let a = self.paid(1_000).await;
        self.modify(&a, "capture", Some(400), &uuid::Uuid::new_v4().to_string())
            .await;
        self.get(&a).await;
        self.modify(&a, "capture", Some(600), &uuid::Uuid::new_v4().to_string())
            .await;
        self.get(&a).await;
        self.modify(&a, "refund", Some(300), &uuid::Uuid::new_v4().to_string())
            .await;
        self.get(&a).await;
        self.events(&a).await;
        let (status, body) = self
            .call(
                "PUT",
                &format!("/order-management/v2/ecom/categories/{a}"),
                Some(json!({"category": "GENERAL", "orderDetailsUrl": format!("https://shop.example/orders/{a}")})),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");

        // Full capture, full refund.
        let b = self.paid(2_000).await;
        self.modify(
            &b,
            "capture",
            Some(2_000),
            &uuid::Uuid::new_v4().to_string(),
        )
        .await;
        self.get(&b).await;
        self.modify(&b, "refund", Some(2_000), &uuid::Uuid::new_v4().to_string())
            .await;
        self.get(&b).await;
        self.events(&b).await;

        // A reservation cancelled (CANCELLED).
        let c = self.paid(500).await;
        self.modify(&c, "cancel", None, &uuid::Uuid::new_v4().to_string())
            .await;
        self.get(&c).await;
        self.events(&c).await;

        // Cancelled before approval (TERMINATED), rejected (ABORTED), left to expire (EXPIRED).
        let d = self.create(700).await;
        self.wait(5_000);
        assert_eq!(self.get(&d).await, "CREATED");
        self.modify(&d, "cancel", None, &uuid::Uuid::new_v4().to_string())
            .await;
        assert_eq!(self.get(&d).await, "TERMINATED");
        for action in ["abort", "expire"] {
            let r = self.create(800).await;
            self.wait(5_000);
            assert_eq!(self.get(&r).await, "CREATED");
            self.customer(&r, action).await;
            self.wait(2_000);
            let state = self.poll_now(&r).await;
            assert!(state == "ABORTED" || state == "EXPIRED", "{state}");
            self.events(&r).await;
        }
    }

    pub async fn poll_now(&self, reference: &str) -> String {
        self.get(reference).await
    }

    /// The sloppy shop: the same kind of session with its faults.
    pub async fn sloppy_session(&mut self) {
        self.register_webhook().await;
        let a = self.paid(1_000).await;
        let shared = "capture-key-1";
        self.modify(&a, "capture", Some(1_000), shared).await;
        self.get(&a).await;
        // The refund reuses the capture's key.
        self.modify(
            &a,
            "refund",
            Some(500),
            if self.faults.reused_keys {
                shared
            } else {
                "refund-key-1"
            },
        )
        .await;

        // Relies on the webhook: captures without ever reading the payment.
        let b = self.create(900).await;
        self.customer(&b, "approve").await;
        // The webhook arrives a few seconds later.
        self.wait(4_000);
        if !self.faults.no_get_after_webhook {
            self.poll(&b).await;
        }
        self.modify(&b, "capture", Some(900), &uuid::Uuid::new_v4().to_string())
            .await;
    }
}

pub async fn simulator() -> (SimServer, Arc<VirtualClock>, tempfile::TempDir, PathBuf) {
    let clock = VirtualClock::new();
    let server =
        SimServer::start_on(Simulator::with_clock(SimConfig::default(), clock.clone())).await;
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("shop.jsonl");
    server
        .simulator()
        .with_engine(|e| e.journal.stream_to(&journal))
        .unwrap();
    (server, clock, dir, journal)
}

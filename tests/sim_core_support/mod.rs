//! Shared helpers for the in-process simulator core tests: raw requests, JSON written in the test.
#![allow(dead_code)]

use std::sync::Arc;

use serde_json::{json, Value};
use vipps_golive::simulator::{SimConfig, SimRequest, SimResponse, Simulator};

pub const MSN: &str = "123456";
pub const KEY: &str = "sim-subscription-key-123456";
pub const CLIENT_ID: &str = "sim-client-id-123456";
pub const SECRET: &str = "sim-client-secret-123456";
pub const USER: &str = "4791234567";

pub struct Sim {
    pub sim: Arc<Simulator>,
    pub token: String,
}

pub fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn json_of(r: &SimResponse) -> Value {
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

/// The ErrorCode in a Problem's extraDetails.
pub fn error_code(r: &SimResponse) -> Option<String> {
    json_of(r)["extraDetails"]
        .as_array()?
        .iter()
        .find(|d| d["name"] == "ErrorCode")
        .and_then(|d| d["reason"].as_str().map(str::to_owned))
}

/// The field names in a Problem's extraDetails (other than ErrorCode).
pub fn fields(r: &SimResponse) -> Vec<String> {
    json_of(r)["extraDetails"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|d| d["name"] != "ErrorCode")
                .filter_map(|d| d["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

impl Sim {
    /// Rate limits off, so that long flows on one reference are not throttled.
    pub fn new() -> Self {
        Self::with(SimConfig {
            rate_limits: false,
            ..SimConfig::default()
        })
    }

    pub fn with(config: SimConfig) -> Self {
        let sim = Simulator::new(config);
        sim.set_base_url("http://127.0.0.1:9999");
        let mut s = Sim {
            sim,
            token: String::new(),
        };
        s.token = s.fresh_token();
        s
    }

    pub fn fresh_token(&self) -> String {
        let r = self.raw(
            "POST",
            "/accesstoken/get",
            None,
            h(&[
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
                ("Ocp-Apim-Subscription-Key", KEY),
            ]),
            "",
        );
        assert_eq!(r.status, 200, "token: {}", String::from_utf8_lossy(&r.body));
        json_of(&r)["access_token"].as_str().unwrap().to_owned()
    }

    pub fn raw(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
        headers: Vec<(String, String)>,
        body: &str,
    ) -> SimResponse {
        self.sim
            .handle(SimRequest::new(
                method,
                path,
                query,
                headers,
                body.to_owned(),
            ))
            .response
    }

    /// Authenticated headers plus `extra`.
    pub fn auth(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v = h(&[
            ("Authorization", &format!("Bearer {}", self.token)),
            ("Ocp-Apim-Subscription-Key", KEY),
            ("Merchant-Serial-Number", MSN),
            ("Content-Type", "application/json"),
        ]);
        v.extend(h(extra));
        v
    }

    pub fn call(&self, method: &str, path: &str, idem: Option<&str>, body: &str) -> SimResponse {
        let extra: Vec<(&str, &str)> = idem.map(|k| ("Idempotency-Key", k)).into_iter().collect();
        self.raw(method, path, None, self.auth(&extra), body)
    }

    pub fn create_body(reference: &str, value: i64) -> Value {
        json!({
            "amount": {"currency": "NOK", "value": value},
            "paymentMethod": {"type": "WALLET"},
            "reference": reference,
            "userFlow": "WEB_REDIRECT",
            "returnUrl": "https://shop.example/return?ref=x",
            "paymentDescription": "Two mugs",
        })
    }

    pub fn create_with(&self, body: &Value, key: &str) -> SimResponse {
        self.call(
            "POST",
            "/epayment/v1/payments",
            Some(key),
            &body.to_string(),
        )
    }

    pub fn create(&self, reference: &str, value: i64) -> SimResponse {
        let r = self.create_with(
            &Self::create_body(reference, value),
            &format!("create-{reference}"),
        );
        assert_eq!(
            r.status,
            201,
            "create: {}",
            String::from_utf8_lossy(&r.body)
        );
        r
    }

    pub fn approve(&self, reference: &str) {
        let r = self.call(
            "POST",
            &format!("/epayment/v1/test/payments/{reference}/approve"),
            None,
            &json!({"customer": {"phoneNumber": USER}}).to_string(),
        );
        assert_eq!(
            r.status,
            200,
            "approve: {}",
            String::from_utf8_lossy(&r.body)
        );
    }

    pub fn get(&self, reference: &str) -> Value {
        let r = self.call(
            "GET",
            &format!("/epayment/v1/payments/{reference}"),
            None,
            "",
        );
        assert_eq!(r.status, 200, "get: {}", String::from_utf8_lossy(&r.body));
        json_of(&r)
    }

    pub fn events(&self, reference: &str) -> Vec<Value> {
        let r = self.call(
            "GET",
            &format!("/epayment/v1/payments/{reference}/events"),
            None,
            "",
        );
        assert_eq!(r.status, 200);
        json_of(&r).as_array().cloned().unwrap_or_default()
    }

    pub fn modify(&self, reference: &str, op: &str, value: i64, key: &str) -> SimResponse {
        self.call(
            "POST",
            &format!("/epayment/v1/payments/{reference}/{op}"),
            Some(key),
            &json!({"modificationAmount": {"currency": "NOK", "value": value}}).to_string(),
        )
    }

    pub fn cancel(&self, reference: &str, key: &str, body: &str) -> SimResponse {
        self.call(
            "POST",
            &format!("/epayment/v1/payments/{reference}/cancel"),
            Some(key),
            body,
        )
    }

    pub fn control(&self, method: &str, path: &str, body: &str) -> SimResponse {
        self.raw(method, path, None, Vec::new(), body)
    }

    pub fn advance(&self, seconds: u64) {
        let r = self.control(
            "POST",
            "/__sim/clock/advance",
            &json!({"seconds": seconds}).to_string(),
        );
        assert_eq!(r.status, 200);
    }
}

/// The value of `aggregate.<name>.value`.
pub fn agg(p: &Value, name: &str) -> i64 {
    p["aggregate"][name]["value"].as_i64().unwrap()
}

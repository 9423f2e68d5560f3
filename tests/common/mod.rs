//! Shared harness of the fidelity suite: starts a simulator, speaks raw HTTP
//! to it (reqwest + JSON written in the tests), and checks every Vipps API
//! response against the official OpenAPI schemas (see `schema`).
//!
//! Nothing here uses the project's own client or simulator types beyond
//! starting the server: the suite is an independent check of the wire.
#![allow(dead_code)]

pub mod html;
pub mod png;
pub mod schema;

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Client, Method};
use serde_json::{json, Value};
use vipps_golive::simulator::mock::SimServer;
use vipps_golive::simulator::SimConfig;

pub const CLIENT_ID: &str = "sim-client-id-123456";
pub const CLIENT_SECRET: &str = "sim-client-secret-123456";
pub const SUB_KEY: &str = "sim-subscription-key-123456";
pub const MSN: &str = "123456";
pub const CLIENT_ID_2: &str = "sim-client-id-654321";
pub const CLIENT_SECRET_2: &str = "sim-client-secret-654321";
pub const SUB_KEY_2: &str = "sim-subscription-key-654321";
pub const MSN_2: &str = "654321";
/// Test users the default SimConfig knows.
pub const USER: &str = "4791234567";
pub const USER_2: &str = "4712345678";

/// One sales unit's credentials, as a shop holds them.
#[derive(Debug, Clone, Copy)]
pub struct Unit {
    pub client_id: &'static str,
    pub client_secret: &'static str,
    pub sub_key: &'static str,
    pub msn: &'static str,
}

pub const UNIT: Unit = Unit {
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    sub_key: SUB_KEY,
    msn: MSN,
};
pub const UNIT_2: Unit = Unit {
    client_id: CLIENT_ID_2,
    client_secret: CLIENT_SECRET_2,
    sub_key: SUB_KEY_2,
    msn: MSN_2,
};

/// A running simulator plus an HTTP client that never follows redirects
/// (the landing page's 303 is asserted, not followed blindly).
pub struct Sim {
    pub base: String,
    pub http: Client,
    _server: SimServer,
}

/// A request under construction.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// Per-request timeout (default: the client's 30 s).
    pub timeout: Option<Duration>,
}

impl Call {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Call {
            method,
            path: path.into(),
            headers: Vec::new(),
            body: None,
            timeout: None,
        }
    }

    /// Sets a header, replacing any earlier value of the same name.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Removes a header.
    pub fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self
    }

    pub fn json(self, body: &Value) -> Self {
        let bytes = serde_json::to_vec(body).expect("serialize test body");
        self.raw(bytes, "application/json")
    }

    pub fn raw(mut self, bytes: impl Into<Vec<u8>>, content_type: &str) -> Self {
        self.body = Some(bytes.into());
        self.header("Content-Type", content_type)
    }

    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }

    pub fn idem(self, key: impl Into<String>) -> Self {
        self.header("Idempotency-Key", key)
    }
}

/// A response as the tests see it.
#[derive(Debug, Clone)]
pub struct Resp {
    pub method: Method,
    pub path: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub bytes: Vec<u8>,
}

impl Resp {
    /// The body as JSON; panics with the body text when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|e| {
            panic!(
                "{} {} -> {}: body is not JSON ({e}): {:.300}",
                self.method, self.path, self.status, self.text
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The `ErrorCode` of a Problem's extraDetails, if any.
    pub fn error_code(&self) -> Option<String> {
        let v: Value = serde_json::from_slice(&self.bytes).ok()?;
        v.get("extraDetails")?
            .as_array()?
            .iter()
            .find(|d| d["name"] == "ErrorCode")
            .and_then(|d| d["reason"].as_str().map(str::to_owned))
    }

    /// Short description for assertion messages.
    pub fn brief(&self) -> String {
        format!(
            "{} {} -> {} {:.400}",
            self.method, self.path, self.status, self.text
        )
    }

    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "unexpected status: {}", self.brief());
        self
    }
}

/// True when `s` is a W3C traceparent: `00-<32 hex>-<16 hex>-01`.
pub fn is_traceparent(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let hex = |p: &str, n: usize| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit());
    parts.len() == 4
        && parts[0] == "00"
        && hex(parts[1], 32)
        && hex(parts[2], 16)
        && parts[3] == "01"
}

/// Asserts an ePayment Problem (behaviour.md §5.1) with this status and, when
/// given, this ErrorCode.
pub fn assert_problem(resp: &Resp, status: u16, code: Option<&str>) {
    assert_eq!(resp.status, status, "status: {}", resp.brief());
    let ct = resp.header("content-type").unwrap_or_default();
    assert!(
        ct.contains("json"),
        "problem content type `{ct}`: {}",
        resp.brief()
    );
    let body = resp.json();
    for field in ["type", "title", "status", "traceId"] {
        assert!(
            body.get(field).is_some(),
            "problem lacks `{field}`: {}",
            resp.brief()
        );
    }
    assert_eq!(
        body["status"],
        json!(status),
        "problem status field: {}",
        resp.brief()
    );
    let trace = body["traceId"].as_str().unwrap_or_default();
    assert!(
        is_traceparent(trace),
        "traceId `{trace}` is not 00-<32hex>-<16hex>-01"
    );
    if let Some(code) = code {
        assert_eq!(
            resp.error_code().as_deref(),
            Some(code),
            "ErrorCode: {}",
            resp.brief()
        );
    }
}

/// A reference unique to this test run: `^[a-zA-Z0-9-]{8,50}$`.
pub fn reference(tag: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let tag: String = tag
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(24)
        .collect();
    format!("fid-{tag}-{}", &id[..16])
}

pub fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn amount(value: i64) -> Value {
    json!({ "currency": "NOK", "value": value })
}

/// A valid WEB_REDIRECT create body.
pub fn web_body(reference: &str, value: i64) -> Value {
    json!({
        "amount": { "currency": "NOK", "value": value },
        "paymentMethod": { "type": "WALLET" },
        "reference": reference,
        "userFlow": "WEB_REDIRECT",
        "returnUrl": format!("https://shop.example/return?ref={reference}"),
        "paymentDescription": "Two mugs",
        "customer": { "phoneNumber": USER },
        "metadata": { "cartId": "c-991" }
    })
}

/// A valid order line / receipt (Order Management `Receipt`, taxPercentage
/// so that both the 2.3.24 and the v2.1 schema accept it).
pub fn receipt(value: i64) -> Value {
    json!({
        "orderLines": [{
            "name": "Mug",
            "id": "mug-1",
            "totalAmount": value,
            "totalAmountExcludingTax": value * 4 / 5,
            "totalTaxAmount": value - value * 4 / 5,
            "taxPercentage": 25
        }],
        "bottomLine": { "currency": "NOK" }
    })
}

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .expect("reqwest client")
}

impl Sim {
    /// The in-process simulator with the default SimConfig (control on).
    pub async fn start() -> Sim {
        Self::start_with(SimConfig::default()).await
    }

    pub async fn start_with(config: SimConfig) -> Sim {
        let server = SimServer::start_with(config).await;
        let base = server.uri().to_string().trim_end_matches('/').to_owned();
        Sim {
            base,
            http: client(),
            _server: server,
        }
    }

    /// Rate limits off: tests that make many calls on one reference.
    pub async fn start_unlimited() -> Sim {
        Self::start_with(SimConfig {
            rate_limits: false,
            ..SimConfig::default()
        })
        .await
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{}", self.base, path)
        }
    }

    /// Sends a call, checks the body against the official schema (when the
    /// path belongs to a Vipps API) and returns the response.
    pub async fn send(&self, call: Call) -> Resp {
        let resp = self.send_unchecked(call).await;
        schema::check_response(&resp);
        resp
    }

    /// Sends without the schema check (for fault and malformed-input tests
    /// where the answer is expected to be outside the spec).
    pub async fn send_unchecked(&self, call: Call) -> Resp {
        self.try_send(call).await.expect("request failed")
    }

    pub async fn try_send(&self, call: Call) -> Result<Resp, reqwest::Error> {
        let mut req = self.http.request(call.method.clone(), self.url(&call.path));
        for (k, v) in &call.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        if let Some(body) = &call.body {
            req = req.body(body.clone());
        }
        if let Some(t) = call.timeout {
            req = req.timeout(t);
        }
        let r = req.send().await?;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = r.bytes().await?.to_vec();
        Ok(Resp {
            method: call.method,
            path: call.path,
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        })
    }

    /// `POST /accesstoken/get` for a unit; the raw response.
    pub async fn token_resp(&self, unit: Unit) -> Resp {
        self.send(
            Call::new(Method::POST, "/accesstoken/get")
                .header("client_id", unit.client_id)
                .header("client_secret", unit.client_secret)
                .header("Ocp-Apim-Subscription-Key", unit.sub_key)
                .header("Merchant-Serial-Number", unit.msn),
        )
        .await
    }

    pub async fn token_for(&self, unit: Unit) -> String {
        let r = self.token_resp(unit).await;
        r.assert_status(200);
        r.json()["access_token"]
            .as_str()
            .expect("access_token string")
            .to_owned()
    }

    pub async fn token(&self) -> String {
        self.token_for(UNIT).await
    }

    /// A call carrying every header a model merchant sends (behaviour.md §11).
    pub async fn api(&self, method: Method, path: impl Into<String>) -> Call {
        self.api_as(UNIT, method, path).await
    }

    pub async fn api_as(&self, unit: Unit, method: Method, path: impl Into<String>) -> Call {
        let token = self.token_for(unit).await;
        let mut call = Call::new(method.clone(), path)
            .header("Authorization", format!("Bearer {token}"))
            .header("Ocp-Apim-Subscription-Key", unit.sub_key)
            .header("Merchant-Serial-Number", unit.msn)
            .header("Vipps-System-Name", "fidelity")
            .header("Vipps-System-Version", "1.0.0")
            .header("Vipps-System-Plugin-Name", "fidelity-tests")
            .header("Vipps-System-Plugin-Version", "1.0.0");
        if method == Method::POST {
            call = call.idem(key());
        }
        call
    }

    pub async fn create(&self, body: &Value) -> Resp {
        self.create_as(UNIT, body).await
    }

    pub async fn create_as(&self, unit: Unit, body: &Value) -> Resp {
        let call = self
            .api_as(unit, Method::POST, "/epayment/v1/payments")
            .await
            .json(body);
        self.send(call).await
    }

    /// Creates a WEB_REDIRECT payment and asserts 201; returns the reference.
    pub async fn created(&self, value: i64) -> String {
        let r = reference("p");
        self.create(&web_body(&r, value)).await.assert_status(201);
        r
    }

    /// Creates and force-approves a payment; returns the reference.
    pub async fn authorized(&self, value: i64) -> String {
        let r = self.created(value).await;
        self.approve(&r).await.assert_status(200);
        r
    }

    pub async fn get(&self, reference: &str) -> Resp {
        self.get_as(UNIT, reference).await
    }

    pub async fn get_as(&self, unit: Unit, reference: &str) -> Resp {
        let call = self
            .api_as(
                unit,
                Method::GET,
                format!("/epayment/v1/payments/{reference}"),
            )
            .await;
        self.send(call).await
    }

    /// GET payment, asserting 200; the JSON.
    pub async fn payment(&self, reference: &str) -> Value {
        let r = self.get(reference).await;
        r.assert_status(200);
        r.json()
    }

    pub async fn events(&self, reference: &str) -> Vec<Value> {
        let call = self
            .api(
                Method::GET,
                format!("/epayment/v1/payments/{reference}/events"),
            )
            .await;
        let r = self.send(call).await;
        r.assert_status(200);
        r.json().as_array().expect("event log is an array").clone()
    }

    pub async fn event_names(&self, reference: &str) -> Vec<String> {
        self.events(reference)
            .await
            .iter()
            .map(|e| e["name"].as_str().unwrap_or("<none>").to_owned())
            .collect()
    }

    pub async fn modify(&self, op: &str, reference: &str, body: Option<Value>, key: &str) -> Resp {
        let mut call = self
            .api(
                Method::POST,
                format!("/epayment/v1/payments/{reference}/{op}"),
            )
            .await
            .idem(key);
        if let Some(b) = body {
            call = call.json(&b);
        }
        self.send(call).await
    }

    pub async fn capture(&self, reference: &str, value: i64) -> Resp {
        self.capture_key(reference, value, &key()).await
    }

    pub async fn capture_key(&self, reference: &str, value: i64, key: &str) -> Resp {
        self.modify(
            "capture",
            reference,
            Some(json!({ "modificationAmount": amount(value) })),
            key,
        )
        .await
    }

    pub async fn refund(&self, reference: &str, value: i64) -> Resp {
        self.refund_key(reference, value, &key()).await
    }

    pub async fn refund_key(&self, reference: &str, value: i64, key: &str) -> Resp {
        self.modify(
            "refund",
            reference,
            Some(json!({ "modificationAmount": amount(value) })),
            key,
        )
        .await
    }

    pub async fn cancel(&self, reference: &str) -> Resp {
        self.modify("cancel", reference, None, &key()).await
    }

    /// Force approve with the test user (the .NET SDK's form).
    pub async fn approve(&self, reference: &str) -> Resp {
        let call = self
            .api(
                Method::POST,
                format!("/epayment/v1/test/payments/{reference}/approve"),
            )
            .await
            .json(&json!({ "customer": { "phoneNumber": USER } }));
        self.send(call).await
    }

    /// `POST /__sim/...` with an optional JSON body (MSN of unit 1 by header).
    pub async fn control(&self, path: &str, body: Option<Value>) -> Resp {
        let mut call = Call::new(Method::POST, path).header("Merchant-Serial-Number", MSN);
        if let Some(b) = body {
            call = call.json(&b);
        }
        self.send_unchecked(call).await
    }

    pub async fn control_get(&self, path: &str) -> Resp {
        self.send_unchecked(Call::new(Method::GET, path).header("Merchant-Serial-Number", MSN))
            .await
    }

    /// Advances the simulator's virtual clock.
    pub async fn advance(&self, seconds: u64) {
        let r = self
            .control("/__sim/clock/advance", Some(json!({ "seconds": seconds })))
            .await;
        assert!(r.status < 300, "clock advance failed: {}", r.brief());
    }
}

/// Reads the four aggregate amounts of a payment or modification response.
pub fn agg(v: &Value) -> [i64; 4] {
    let a = &v["aggregate"];
    [
        a["authorizedAmount"]["value"]
            .as_i64()
            .expect("authorizedAmount"),
        a["capturedAmount"]["value"]
            .as_i64()
            .expect("capturedAmount"),
        a["refundedAmount"]["value"]
            .as_i64()
            .expect("refundedAmount"),
        a["cancelledAmount"]["value"]
            .as_i64()
            .expect("cancelledAmount"),
    ]
}

/// Decodes the claims of a JWT without checking its signature.
pub fn jwt_claims(token: &str) -> Value {
    use base64::Engine as _;
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT has three dot-separated parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1].trim_end_matches('='))
        .expect("JWT claims are base64url");
    serde_json::from_slice(&bytes).expect("JWT claims are JSON")
}

/// The value of a query parameter in a URL string.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    parsed
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

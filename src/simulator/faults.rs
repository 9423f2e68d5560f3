//! Injected faults: `/__sim/faults` arms a fault for the next N matching
//! requests (delay, 500, 429 with Retry-After, 423 "Order processing", or a
//! connection dropped after the operation took effect).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{problem, Engine, Reply, SimConfig, SimRequest, SimResponse};

/// At most this many faults are armed at once (the control API is local, but
/// a runaway test must not grow the engine without bound).
pub(crate) const MAX_ARMED: usize = 256;

/// What an armed fault does to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The operation runs; the answer is sent `delayMs` late.
    Delay,
    /// 500 Problem (3010 Internal error) instead of the operation.
    Error500,
    /// 429 in the gateway shape with `Retry-After`, instead of the operation.
    Error429,
    /// 423 Problem 6160 "Order processing", instead of the operation.
    Error423,
    /// The operation takes effect, then the connection closes without an answer.
    DropAfterEffect,
}

/// One armed fault, as listed by `GET /__sim/faults`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArmedFault {
    pub id: String,
    /// Upper-case method, or `None` for any.
    pub method: Option<String>,
    /// Path glob; `*` stands for exactly one segment.
    pub path: String,
    /// How many more matching requests it applies to.
    pub times: u32,
    pub kind: FaultKind,
    pub delay_ms: Option<u64>,
    pub retry_after_seconds: Option<u64>,
}

/// The body of `POST /__sim/faults`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FaultRequest {
    method: Option<String>,
    path: String,
    #[serde(default = "one")]
    times: u32,
    kind: FaultKind,
    delay_ms: Option<u64>,
    retry_after_seconds: Option<u64>,
}

fn one() -> u32 {
    1
}

/// A fault armed for one request.
#[derive(Debug, Clone)]
pub struct Fault {
    kind: FaultKind,
    delay: Option<Duration>,
    retry_after_seconds: u64,
    /// The request it hit, without body or headers (for the Problem's `instance`).
    method: String,
    path: String,
}

impl Fault {
    fn request(&self) -> SimRequest {
        SimRequest::new(
            &self.method,
            &self.path,
            None,
            Vec::<(String, String)>::new(),
            Vec::new(),
        )
    }

    /// What kind of fault this is.
    pub fn kind(&self) -> FaultKind {
        self.kind
    }

    /// The reply that replaces the operation (500, 429, 423), or `None` to let it run
    /// (delay, drop after effect).
    pub(crate) fn reply_before_effect(&self) -> Option<Reply> {
        let response = match self.kind {
            FaultKind::Delay | FaultKind::DropAfterEffect => return None,
            FaultKind::Error500 => problem::problem(
                &self.request(),
                500,
                "Internal error",
                "An internal error occurred (injected by the simulator).",
                Some(3010),
                &[],
            ),
            FaultKind::Error429 => problem::gateway(
                429,
                &format!(
                    "Rate limit is exceeded. Try again in {} seconds.",
                    self.retry_after_seconds
                ),
            )
            .with_header("retry-after", self.retry_after_seconds.to_string()),
            FaultKind::Error423 => problem::problem(
                &self.request(),
                423,
                "Order processing",
                "Another operation on this payment is in progress. Try again later.",
                Some(6160),
                &[],
            ),
        };
        Some(Reply {
            response,
            delay: self.delay,
            drop_connection: false,
            processing_until: None,
        })
    }

    /// What to do with the response once the operation took effect (delay it, or
    /// drop the connection instead of sending it).
    pub(crate) fn reply_after_effect(&self, response: SimResponse) -> Reply {
        Reply {
            response,
            delay: self.delay,
            drop_connection: self.kind == FaultKind::DropAfterEffect,
            processing_until: None,
        }
    }
}

/// The armed faults, in the order they were armed (the first match wins).
#[derive(Debug, Default)]
pub struct Faults {
    armed: Vec<ArmedFault>,
}

impl Faults {
    pub fn new(_config: &SimConfig) -> Self {
        Faults { armed: Vec::new() }
    }

    /// The armed faults.
    pub fn list(&self) -> &[ArmedFault] {
        &self.armed
    }

    /// The fault that matches `req`, counting it down (and disarming it at zero).
    pub fn take(&mut self, req: &SimRequest) -> Option<Fault> {
        if self.armed.is_empty() {
            return None;
        }
        let i = self.armed.iter().position(|f| {
            f.method
                .as_deref()
                .map_or(true, |m| m.eq_ignore_ascii_case(&req.method))
                && glob_matches(&f.path, &req.path)
        })?;
        let armed = &mut self.armed[i];
        let fault = Fault {
            kind: armed.kind,
            delay: armed.delay_ms.map(Duration::from_millis),
            retry_after_seconds: armed.retry_after_seconds.unwrap_or(1),
            method: req.method.clone(),
            path: req.path.clone(),
        };
        armed.times = armed.times.saturating_sub(1);
        if armed.times == 0 {
            self.armed.remove(i);
        }
        Some(fault)
    }
}

/// `*` matches exactly one non-empty segment; other segments compare
/// case-insensitively (the token path is matched that way too).
pub(crate) fn glob_matches(pattern: &str, path: &str) -> bool {
    let p: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let s: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    p.len() == s.len()
        && p.iter()
            .zip(&s)
            .all(|(p, s)| *p == "*" || p.eq_ignore_ascii_case(s))
}

/// `/__sim/faults...`; `None` for other paths.
pub(crate) fn handle_control(engine: &mut Engine, req: &SimRequest) -> Option<SimResponse> {
    let segs = req.segments();
    if segs.len() < 2 || segs[1] != "faults" {
        return None;
    }
    let faults = &mut engine.faults;
    Some(match (req.method.as_str(), segs.len()) {
        ("GET", 2) => SimResponse::json(200, &json!({ "faults": faults.list() })),
        ("DELETE", 2) => {
            faults.armed.clear();
            SimResponse::empty(204)
        }
        ("DELETE", 3) => {
            let before = faults.armed.len();
            faults.armed.retain(|f| f.id != segs[2]);
            if faults.armed.len() < before {
                SimResponse::empty(204)
            } else {
                problem::not_found(req)
            }
        }
        ("POST", 2) => arm(faults, req),
        (_, 2) => problem::method_not_allowed(req, "GET, POST, DELETE"),
        (_, 3) => problem::method_not_allowed(req, "DELETE"),
        _ => problem::not_found(req),
    })
}

fn arm(faults: &mut Faults, req: &SimRequest) -> SimResponse {
    let bad = |field: &str, reason: String| {
        problem::problem(
            req,
            400,
            "Bad Request",
            "The fault could not be armed.",
            None,
            &[(field.to_owned(), reason)],
        )
    };
    let body: FaultRequest = match serde_json::from_slice(&req.body) {
        Ok(b) => b,
        Err(e) => return bad("body", format!("Expected a fault description: {e}.")),
    };
    if !body.path.starts_with('/') {
        return bad("path", "The path must start with `/`.".into());
    }
    if body.times == 0 {
        return bad("times", "times must be at least 1.".into());
    }
    if body.kind == FaultKind::Delay && body.delay_ms.is_none() {
        return bad("delayMs", "A delay fault needs delayMs.".into());
    }
    if body.delay_ms.is_some_and(|d| d > 600_000) {
        return bad("delayMs", "delayMs must be at most 600000.".into());
    }
    if faults.armed.len() >= MAX_ARMED {
        return bad(
            "faults",
            format!("At most {MAX_ARMED} faults can be armed; DELETE /__sim/faults first."),
        );
    }
    let armed = ArmedFault {
        id: uuid::Uuid::new_v4().to_string(),
        method: body.method.map(|m| m.to_ascii_uppercase()),
        path: body.path,
        times: body.times,
        kind: body.kind,
        delay_ms: body.delay_ms,
        retry_after_seconds: body.retry_after_seconds,
    };
    let out: Value = serde_json::to_value(&armed).unwrap_or(Value::Null);
    faults.armed.push(armed);
    SimResponse::json(201, &out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, path: &str) -> SimRequest {
        SimRequest::new(method, path, None, Vec::<(String, String)>::new(), "")
    }

    fn armed(kind: FaultKind, times: u32) -> Faults {
        let mut f = Faults::default();
        f.armed.push(ArmedFault {
            id: "x".into(),
            method: Some("POST".into()),
            path: "/epayment/v1/payments/*/capture".into(),
            times,
            kind,
            delay_ms: None,
            retry_after_seconds: Some(7),
        });
        f
    }

    #[test]
    fn star_matches_exactly_one_segment() {
        assert!(glob_matches(
            "/epayment/v1/payments/*/capture",
            "/epayment/v1/payments/abc-12345/capture"
        ));
        assert!(!glob_matches(
            "/epayment/v1/payments/*/capture",
            "/epayment/v1/payments/capture"
        ));
        assert!(!glob_matches(
            "/epayment/v1/payments/*",
            "/epayment/v1/payments/a/capture"
        ));
    }

    #[test]
    fn a_fault_applies_to_its_count_of_requests_then_disarms() {
        let mut f = armed(FaultKind::Error500, 2);
        let r = req("POST", "/epayment/v1/payments/ref-12345678/capture");
        assert!(f.take(&r).is_some());
        assert!(f.take(&r).is_some());
        assert!(f.take(&r).is_none());
    }

    #[test]
    fn a_fault_ignores_other_methods() {
        let mut f = armed(FaultKind::Error500, 1);
        assert!(f
            .take(&req("GET", "/epayment/v1/payments/ref-12345678/capture"))
            .is_none());
    }

    #[test]
    fn error429_carries_retry_after_in_the_gateway_shape() {
        let mut f = armed(FaultKind::Error429, 1);
        let fault = f
            .take(&req("POST", "/epayment/v1/payments/r/capture"))
            .unwrap();
        let reply = fault.reply_before_effect().unwrap();
        assert_eq!(reply.response.status, 429);
        assert_eq!(reply.response.header("retry-after"), Some("7"));
        let body: Value = serde_json::from_slice(&reply.response.body).unwrap();
        assert_eq!(body["statusCode"], 429);
    }

    #[test]
    fn error423_is_problem_6160() {
        let mut f = armed(FaultKind::Error423, 1);
        let fault = f
            .take(&req("POST", "/epayment/v1/payments/r/capture"))
            .unwrap();
        let reply = fault.reply_before_effect().unwrap();
        let body: Value = serde_json::from_slice(&reply.response.body).unwrap();
        assert_eq!(reply.response.status, 423);
        assert_eq!(body["extraDetails"][0]["reason"], "6160");
    }

    #[test]
    fn drop_after_effect_lets_the_operation_run_then_drops() {
        let mut f = armed(FaultKind::DropAfterEffect, 1);
        let fault = f
            .take(&req("POST", "/epayment/v1/payments/r/capture"))
            .unwrap();
        assert!(fault.reply_before_effect().is_none());
        assert!(
            fault
                .reply_after_effect(SimResponse::empty(200))
                .drop_connection
        );
    }
}

//! `/__sim/` test hooks outside the Vipps namespace (behaviour.md §14): the
//! customer approves, rejects or lets a payment expire; the clock moves; everything resets.

use std::time::Duration;

use serde_json::{json, Value};

use super::ledger::EventName;
use super::{problem, routes, Engine, SimRequest, SimResponse};

/// Handles `/__sim/payments/...`, `/__sim/clock...`, `/__sim/reset`; `None` when the path is not one of them.
pub fn handle(engine: &mut Engine, req: &SimRequest) -> Option<SimResponse> {
    let segs = req.segments();
    match segs.as_slice() {
        ["__sim", "payments", reference, action] => {
            let action = match *action {
                "approve" | "abort" | "expire" => *action,
                _ => return None,
            };
            if req.method != "POST" {
                return Some(problem::method_not_allowed(req, "POST"));
            }
            Some(payment_action(engine, req, reference, action))
        }
        ["__sim", "payments", reference] => {
            if req.method != "GET" {
                return Some(problem::method_not_allowed(req, "GET"));
            }
            let msn = msn(engine, req);
            Some(match engine.ledger.get(&msn, reference) {
                Some(p) => routes::payment_view(p, &engine.base_url),
                None => unknown(req, &msn, reference),
            })
        }
        ["__sim", "clock"] => {
            if req.method != "GET" {
                return Some(problem::method_not_allowed(req, "GET"));
            }
            Some(clock_view(engine))
        }
        ["__sim", "clock", "advance"] => {
            if req.method != "POST" {
                return Some(problem::method_not_allowed(req, "POST"));
            }
            Some(advance(engine, req))
        }
        ["__sim", "reset"] => {
            if req.method != "POST" {
                return Some(problem::method_not_allowed(req, "POST"));
            }
            engine.reset();
            Some(SimResponse::json(200, &json!({ "reset": true })))
        }
        _ => None,
    }
}

/// The MSN a control request acts for: header, then `?msn=`, then the first account.
fn msn(engine: &Engine, req: &SimRequest) -> String {
    req.header("merchant-serial-number")
        .map(str::to_owned)
        .or_else(|| req.query_param("msn"))
        .or_else(|| engine.config.accounts.first().map(|a| a.msn.clone()))
        .unwrap_or_default()
}

fn unknown(req: &SimRequest, msn: &str, reference: &str) -> SimResponse {
    super::routes::reference_not_found(req, msn, reference)
}

fn body_object(req: &SimRequest) -> Result<serde_json::Map<String, Value>, SimResponse> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(Value::Null) => Ok(serde_json::Map::new()),
        _ => Err(problem::problem(
            req,
            400,
            "Bad Request",
            "The body must be a JSON object.",
            None,
            &[("Body".into(), "The body must be a JSON object.".into())],
        )),
    }
}

fn payment_action(
    engine: &mut Engine,
    req: &SimRequest,
    reference: &str,
    action: &str,
) -> SimResponse {
    let msn = msn(engine, req);
    if engine.ledger.get(&msn, reference).is_none() {
        return unknown(req, &msn, reference);
    }
    let body = match body_object(req) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let now = engine.now();
    let result = match action {
        "approve" => {
            if let Some(phone) = body.get("phoneNumber").and_then(Value::as_str) {
                if !engine.config.test_users.iter().any(|u| u == phone) {
                    return problem::problem(
                        req,
                        400,
                        "Customer not found",
                        "No test user has this phone number.",
                        Some(7010),
                        &[(
                            "phoneNumber".into(),
                            "Not one of the simulator's test users.".into(),
                        )],
                    );
                }
            }
            engine
                .ledger
                .authorize(&msn, reference, now, &mut engine.outbox)
        }
        "abort" => engine.ledger.finish_unapproved(
            &msn,
            reference,
            EventName::Aborted,
            now,
            &mut engine.outbox,
        ),
        _ => engine.ledger.finish_unapproved(
            &msn,
            reference,
            EventName::Expired,
            now,
            &mut engine.outbox,
        ),
    };
    match result {
        Ok(()) => match engine.ledger.get(&msn, reference) {
            Some(p) => routes::payment_view(p, &engine.base_url),
            None => unknown(req, &msn, reference),
        },
        // The payment is not waiting for the customer any more.
        Err(e) => problem::problem(req, 409, e.title, &e.detail, Some(e.code), &[]),
    }
}

fn clock_view(engine: &Engine) -> SimResponse {
    SimResponse::json(
        200,
        &json!({
            "now": super::ledger::timestamp(engine.now()),
            "offsetSeconds": engine.clock.offset().as_secs(),
        }),
    )
}

fn advance(engine: &mut Engine, req: &SimRequest) -> SimResponse {
    let body = match body_object(req) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let seconds = match body.get("seconds") {
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 1e10),
        _ => None,
    };
    let Some(seconds) = seconds else {
        return problem::problem(
            req,
            400,
            "Bad Request",
            "Send {\"seconds\": N} with N >= 0.",
            None,
            &[(
                "seconds".into(),
                "A non-negative number is required.".into(),
            )],
        );
    };
    // Keep the clock far from chrono's limits (its arithmetic panics on overflow).
    const MAX_OFFSET_SECS: f64 = 200.0 * 365.0 * 86_400.0;
    if engine.clock.offset().as_secs_f64() + seconds > MAX_OFFSET_SECS {
        return problem::problem(
            req,
            400,
            "Bad Request",
            "The clock cannot be moved more than 200 years ahead.",
            None,
            &[("seconds".into(), "Too far ahead.".into())],
        );
    }
    engine.clock.advance(Duration::from_secs_f64(seconds));
    let now = engine.now();
    engine.ledger.expire_due(now, &mut engine.outbox);
    clock_view(engine)
}

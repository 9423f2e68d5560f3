//! The virtual clock, expiry and the `/__sim/` control hooks (behaviour.md §8, §14).

use crate::sim_core_support;

use serde_json::json;
use sim_core_support::*;

#[test]
fn payment_expires_ten_simulated_minutes_after_creation() {
    let sim = Sim::new();
    sim.create("expiry-0001", 1000);
    sim.advance(599);
    assert_eq!(sim.get("expiry-0001")["state"], "CREATED");
    sim.advance(1);
    // The token lives an hour, so it is still good.
    let p = sim.get("expiry-0001");
    assert_eq!(p["state"], "EXPIRED");
    let ev = sim.events("expiry-0001");
    assert_eq!(ev.last().unwrap()["name"], "EXPIRED");
    assert_eq!(ev.last().unwrap()["amount"]["value"], 1000);
}

#[test]
fn an_authorized_payment_does_not_expire() {
    let sim = Sim::new();
    sim.create("expiry-0002", 1000);
    sim.approve("expiry-0002");
    sim.advance(3000);
    assert_eq!(sim.get("expiry-0002")["state"], "AUTHORIZED");
}

#[test]
fn expires_at_sets_the_expiry_of_a_long_living_payment() {
    let sim = Sim::new();
    let now = sim.sim.with_engine(|e| e.now());
    let mut body = Sim::create_body("long-living-0001", 1000);
    body["userFlow"] = "QR".into();
    body.as_object_mut().unwrap().remove("returnUrl");
    body["expiresAt"] = (now + chrono::Duration::hours(2)).to_rfc3339().into();
    body["receipt"] = json!({
        "orderLines": [{"name": "Mug", "id": "1", "totalAmount": 1000,
          "totalAmountExcludingTax": 800, "totalTaxAmount": 200, "taxRate": 2500}],
        "bottomLine": {"currency": "NOK"}});
    let r = sim.create_with(&body, "k1");
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    sim.advance(3000);
    assert_eq!(sim.get("long-living-0001")["state"], "CREATED");
    // The token expires after an hour; get a new one.
    let mut sim = sim;
    sim.advance(4300);
    sim.token = sim.fresh_token();
    assert_eq!(sim.get("long-living-0001")["state"], "EXPIRED");
}

#[test]
fn control_approve_authorizes_and_returns_the_payment() {
    let sim = Sim::new();
    sim.create("ctl-approve-0001", 1000);
    let r = sim.control(
        "POST",
        "/__sim/payments/ctl-approve-0001/approve",
        r#"{"phoneNumber": "4791234567"}"#,
    );
    assert_eq!(r.status, 200);
    assert_eq!(json_of(&r)["state"], "AUTHORIZED");
}

#[test]
fn control_abort_moves_a_created_payment_to_aborted() {
    let sim = Sim::new();
    sim.create("ctl-abort-0001", 1000);
    let r = sim.control("POST", "/__sim/payments/ctl-abort-0001/abort", "");
    assert_eq!(r.status, 200);
    assert_eq!(sim.get("ctl-abort-0001")["state"], "ABORTED");
    assert_eq!(
        sim.events("ctl-abort-0001").last().unwrap()["name"],
        "ABORTED"
    );
}

#[test]
fn control_expire_moves_a_created_payment_to_expired_at_once() {
    let sim = Sim::new();
    sim.create("ctl-expire-0001", 1000);
    let r = sim.control("POST", "/__sim/payments/ctl-expire-0001/expire", "");
    assert_eq!(r.status, 200);
    assert_eq!(sim.get("ctl-expire-0001")["state"], "EXPIRED");
}

#[test]
fn control_actions_on_a_finished_payment_are_409() {
    let sim = Sim::new();
    sim.create("ctl-done-0001", 1000);
    sim.approve("ctl-done-0001");
    let r = sim.control("POST", "/__sim/payments/ctl-done-0001/abort", "");
    assert_eq!(r.status, 409);
    assert_eq!(sim.get("ctl-done-0001")["state"], "AUTHORIZED");
}

#[test]
fn control_uses_the_msn_query_parameter() {
    let sim = Sim::new();
    sim.create("ctl-msn-0001", 1000);
    let r = sim.raw(
        "POST",
        "/__sim/payments/ctl-msn-0001/approve",
        Some("msn=654321"),
        Vec::new(),
        "",
    );
    assert_eq!(r.status, 404);
    let r = sim.raw(
        "POST",
        "/__sim/payments/ctl-msn-0001/approve",
        Some("msn=123456"),
        Vec::new(),
        "",
    );
    assert_eq!(r.status, 200);
}

#[test]
fn clock_endpoint_reports_the_offset_and_advance_moves_it() {
    let sim = Sim::new();
    let r = sim.control("GET", "/__sim/clock", "");
    assert_eq!(json_of(&r)["offsetSeconds"], 0);
    let r = sim.control("POST", "/__sim/clock/advance", r#"{"seconds": 90}"#);
    assert_eq!(r.status, 200);
    assert_eq!(json_of(&r)["offsetSeconds"], 90);
    assert!(json_of(&r)["now"].is_string());
    let bad = sim.control("POST", "/__sim/clock/advance", r#"{"seconds": -5}"#);
    assert_eq!(bad.status, 400);
}

#[test]
fn reset_forgets_payments() {
    let mut sim = Sim::new();
    sim.create("reset-0001", 1000);
    let r = sim.control("POST", "/__sim/reset", "");
    assert_eq!(r.status, 200);
    sim.token = sim.fresh_token();
    let r = sim.call("GET", "/epayment/v1/payments/reset-0001", None, "");
    assert_eq!(r.status, 404);
}

#[test]
fn control_is_not_served_when_disabled() {
    let sim = Sim::with(vipps_golive::simulator::SimConfig {
        control_enabled: false,
        ..Default::default()
    });
    let r = sim.control("POST", "/__sim/clock/advance", r#"{"seconds": 90}"#);
    assert_eq!(r.status, 404);
}

#[test]
fn expire_due_is_cheap_with_many_pending_payments() {
    use vipps_golive::simulator::ledger::{Currency, Flow, Ledger, MethodType, Money, NewPayment};
    let mut ledger = Ledger::new(&Default::default());
    let mut out = Vec::new();
    let now = chrono::Utc::now();
    for i in 0..20_000 {
        let new = NewPayment {
            reference: format!("cheap-{i:08}"),
            amount: Money {
                currency: Currency::Nok,
                value: 1000,
            },
            method: MethodType::Wallet,
            flow: Flow::WebRedirect,
            return_url: None,
            description: None,
            metadata: None,
            customer_phone: None,
            scope: None,
            expires_at: None,
            qr_png_size: None,
            qr_target_url: false,
        };
        ledger.create(MSN, new, "t".into(), "k", now, &mut out);
    }
    out.clear();
    let started = std::time::Instant::now();
    for _ in 0..100_000 {
        ledger.expire_due(now, &mut out);
    }
    assert!(out.is_empty());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    ledger.expire_due(now + chrono::Duration::minutes(10), &mut out);
    assert_eq!(out.len(), 20_000);
}

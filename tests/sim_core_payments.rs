//! ePayment operations, state machine and money (behaviour.md §3, §7).

use crate::sim_core_support;

use serde_json::json;
use sim_core_support::*;
use vipps_golive::simulator::token::peek_claims;
use vipps_golive::simulator::SimConfig;

#[test]
fn create_answers_201_with_a_landing_url_carrying_a_jwt_after_two_equals_signs() {
    let sim = Sim::new();
    let r = sim.create("web-flow-0001", 24900);
    let b = json_of(&r);
    assert_eq!(b["reference"], "web-flow-0001");
    let url = b["redirectUrl"].as_str().unwrap();
    assert!(url.starts_with(
        "http://127.0.0.1:9999/dwo-api-application/v1/deeplink/vippsgateway?v=2&token="
    ));
    // The Postman script takes the token with split('=')[2].
    let token = url.split('=').nth(2).unwrap();
    assert!(peek_claims(token).is_some(), "token must be a JWT");
}

#[test]
fn native_redirect_gives_a_vippsmt_deeplink() {
    let sim = Sim::new();
    let mut body = Sim::create_body("native-0001", 1000);
    body["userFlow"] = "NATIVE_REDIRECT".into();
    let r = sim.create_with(&body, "k1");
    assert_eq!(r.status, 201);
    assert!(json_of(&r)["redirectUrl"]
        .as_str()
        .unwrap()
        .starts_with("vippsMT://?v=2&token="));
}

#[test]
fn qr_gives_an_image_url_and_targeturl_gives_the_landing_url() {
    let sim = Sim::new();
    let mut body = Sim::create_body("qr-flow-0001", 1000);
    body["userFlow"] = "QR".into();
    let r = sim.create_with(&body, "k1");
    assert!(json_of(&r)["redirectUrl"]
        .as_str()
        .unwrap()
        .contains("/qr-image/v1?v=2&token="));
    body["reference"] = "qr-flow-0002".into();
    body["qrFormat"] = json!({"format": "TEXT/TARGETURL"});
    let r = sim.create_with(&body, "k2");
    assert!(json_of(&r)["redirectUrl"]
        .as_str()
        .unwrap()
        .contains("/deeplink/vippsgateway?v=2&token="));
}

#[test]
fn push_message_has_no_redirect_url_and_needs_a_customer() {
    let sim = Sim::new();
    let mut body = Sim::create_body("push-flow-0001", 1000);
    body["userFlow"] = "PUSH_MESSAGE".into();
    let r = sim.create_with(&body, "k1");
    assert_eq!(r.status, 400);
    assert_eq!(error_code(&r).as_deref(), Some("4140"));
    body["customer"] = json!({"phoneNumber": USER});
    let r = sim.create_with(&body, "k2");
    assert_eq!(r.status, 201);
    assert_eq!(json_of(&r), json!({"reference": "push-flow-0001"}));
}

#[test]
fn get_payment_has_the_full_shape_and_passes_metadata_back() {
    let sim = Sim::new();
    let mut body = Sim::create_body("get-shape-0001", 24900);
    body["metadata"] = json!({"cartId": "c-991"});
    sim.create_with(&body, "k1");
    let p = sim.get("get-shape-0001");
    assert_eq!(p["state"], "CREATED");
    assert_eq!(p["amount"], json!({"currency": "NOK", "value": 24900}));
    assert_eq!(p["paymentMethod"], json!({"type": "WALLET"}));
    assert_eq!(p["profile"], json!({}));
    assert_eq!(p["metadata"], json!({"cartId": "c-991"}));
    assert!(uuid::Uuid::parse_str(p["pspReference"].as_str().unwrap()).is_ok());
    for a in [
        "authorizedAmount",
        "cancelledAmount",
        "capturedAmount",
        "refundedAmount",
    ] {
        assert_eq!(p["aggregate"][a], json!({"currency": "NOK", "value": 0}));
    }
    assert!(p["redirectUrl"].is_string());
}

#[test]
fn unknown_reference_is_404_with_5090() {
    let sim = Sim::new();
    let r = sim.call("GET", "/epayment/v1/payments/nothing-here-1", None, "");
    assert_eq!(r.status, 404);
    assert_eq!(error_code(&r).as_deref(), Some("5090"));
    assert!(json_of(&r)["detail"]
        .as_str()
        .unwrap()
        .contains("does not exist for MSN 123456"));
}

#[test]
fn payments_are_kept_per_msn() {
    let sim = Sim::new();
    sim.create("per-msn-0001", 1000);
    // The second sales unit gets its own token and does not see the first unit's payment.
    let r = sim.raw(
        "POST",
        "/accesstoken/get",
        None,
        h(&[
            ("client_id", "sim-client-id-654321"),
            ("client_secret", "sim-client-secret-654321"),
            ("Ocp-Apim-Subscription-Key", "sim-subscription-key-654321"),
        ]),
        "",
    );
    let tok = json_of(&r)["access_token"].as_str().unwrap().to_owned();
    let headers = |extra: &[(&str, &str)]| {
        let mut v = h(&[
            ("Authorization", &format!("Bearer {tok}")),
            ("Ocp-Apim-Subscription-Key", "sim-subscription-key-654321"),
            ("Merchant-Serial-Number", "654321"),
        ]);
        v.extend(h(extra));
        v
    };
    let r = sim.raw(
        "GET",
        "/epayment/v1/payments/per-msn-0001",
        None,
        headers(&[]),
        "",
    );
    assert_eq!(r.status, 404);
    let body = Sim::create_body("per-msn-0001", 2000).to_string();
    let r = sim.raw(
        "POST",
        "/epayment/v1/payments",
        None,
        headers(&[
            ("Idempotency-Key", "k-other"),
            ("Content-Type", "application/json"),
        ]),
        &body,
    );
    assert_eq!(
        r.status, 201,
        "the same reference under another MSN is another payment"
    );
    assert_eq!(agg(&sim.get("per-msn-0001"), "authorizedAmount"), 0);
    assert_eq!(sim.get("per-msn-0001")["amount"]["value"], 1000);
}

#[test]
fn force_approve_authorizes_and_answers_200_with_no_body() {
    let sim = Sim::new();
    let r = sim.create("approve-0001", 24900);
    let token = json_of(&r)["redirectUrl"]
        .as_str()
        .unwrap()
        .split('=')
        .nth(2)
        .unwrap()
        .to_owned();
    let r = sim.call(
        "POST",
        "/epayment/v1/test/payments/approve-0001/approve",
        None,
        &json!({"customer": {"phoneNumber": USER}, "token": token}).to_string(),
    );
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    let p = sim.get("approve-0001");
    assert_eq!(p["state"], "AUTHORIZED");
    assert_eq!(agg(&p, "authorizedAmount"), 24900);
}

#[test]
fn force_approve_with_an_unknown_phone_is_7010() {
    let sim = Sim::new();
    sim.create("approve-0002", 1000);
    let r = sim.call(
        "POST",
        "/epayment/v1/test/payments/approve-0002/approve",
        None,
        &json!({"customer": {"phoneNumber": "4700000000"}}).to_string(),
    );
    assert_eq!(r.status, 400);
    assert_eq!(error_code(&r).as_deref(), Some("7010"));
    assert_eq!(sim.get("approve-0002")["state"], "CREATED");
}

#[test]
fn force_approve_with_another_payments_token_is_refused() {
    let sim = Sim::new();
    let other = sim.create("approve-0003", 1000);
    sim.create("approve-0004", 1000);
    let token = json_of(&other)["redirectUrl"]
        .as_str()
        .unwrap()
        .split('=')
        .nth(2)
        .unwrap()
        .to_owned();
    let r = sim.call(
        "POST",
        "/epayment/v1/test/payments/approve-0004/approve",
        None,
        &json!({"token": token}).to_string(),
    );
    assert_eq!(r.status, 400);
    assert_eq!(sim.get("approve-0004")["state"], "CREATED");
}

#[test]
fn force_approve_with_no_body_works() {
    let sim = Sim::new();
    sim.create("approve-0005", 1000);
    let r = sim.call(
        "POST",
        "/epayment/v1/test/payments/approve-0005/approve",
        None,
        "",
    );
    assert_eq!(r.status, 200);
}

#[test]
fn full_flow_capture_partial_then_refund_moves_the_aggregate_but_not_the_state() {
    let sim = Sim::new();
    sim.create("flow-0001", 24900);
    sim.approve("flow-0001");
    let r = sim.modify("flow-0001", "capture", 10000, "cap-1");
    assert_eq!(r.status, 200);
    let m = json_of(&r);
    assert_eq!(m["state"], "AUTHORIZED");
    assert_eq!(agg(&m, "capturedAmount"), 10000);
    assert!(m["pspReference"].is_string());
    let r = sim.modify("flow-0001", "refund", 5000, "ref-1");
    assert_eq!(r.status, 200);
    let p = sim.get("flow-0001");
    assert_eq!(p["state"], "AUTHORIZED");
    assert_eq!(
        (
            agg(&p, "authorizedAmount"),
            agg(&p, "capturedAmount"),
            agg(&p, "refundedAmount")
        ),
        (24900, 10000, 5000)
    );
}

#[test]
fn event_log_is_chronological_with_the_documented_keys_and_psp_references() {
    let sim = Sim::new();
    sim.create("events-0001", 24900);
    sim.approve("events-0001");
    sim.modify("events-0001", "capture", 10000, "cap-events-1");
    sim.cancel("events-0001", "cancel-events-1", "");
    let ev = sim.events("events-0001");
    let names: Vec<&str> = ev.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["CREATED", "AUTHORIZED", "CAPTURED", "CANCELLED"]);
    let payment_psp = sim.get("events-0001")["pspReference"].clone();
    assert_eq!(ev[0]["pspReference"], payment_psp);
    for e in &ev[1..] {
        let psp = e["pspReference"].as_str().unwrap();
        assert!(
            psp.bytes().all(|b| b.is_ascii_digit()),
            "later pspReferences are numeric: {psp}"
        );
    }
    assert_eq!(ev[0]["idempotencyKey"], "create-events-0001");
    assert_eq!(
        ev[1]["idempotencyKey"], "create-events-0001",
        "AUTHORIZED repeats the create key"
    );
    assert_eq!(ev[2]["idempotencyKey"], "cap-events-1");
    assert!(ev[3]["idempotencyKey"].is_null(), "CANCELLED has no key");
    let amounts: Vec<i64> = ev
        .iter()
        .map(|e| e["amount"]["value"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, [24900, 24900, 10000, 14900]);
    for e in &ev {
        assert_eq!(e["reference"], "events-0001");
        assert_eq!(e["success"], true);
        assert!(e["timestamp"].as_str().unwrap().ends_with('Z'));
    }
    let ts: Vec<&str> = ev
        .iter()
        .map(|e| e["timestamp"].as_str().unwrap())
        .collect();
    let mut sorted = ts.clone();
    sorted.sort();
    assert_eq!(ts, sorted);
}

#[test]
fn cancel_before_authorization_terminates_with_cancelled_equal_to_amount() {
    let sim = Sim::new();
    sim.create("terminate-0001", 24900);
    let r = sim.cancel("terminate-0001", "c1", "");
    assert_eq!(r.status, 200);
    assert_eq!(json_of(&r)["state"], "TERMINATED");
    let p = sim.get("terminate-0001");
    assert_eq!(p["state"], "TERMINATED");
    assert_eq!(
        (agg(&p, "authorizedAmount"), agg(&p, "cancelledAmount")),
        (0, 24900)
    );
    let names: Vec<String> = sim
        .events("terminate-0001")
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["CREATED", "TERMINATED"]);
}

#[test]
fn cancel_accepts_no_body_an_empty_object_or_the_flag() {
    let sim = Sim::new();
    for (i, body) in ["", "{}", r#"{"cancelTransactionOnly": false}"#]
        .iter()
        .enumerate()
    {
        let reference = format!("cancel-body-{i:04}");
        sim.create(&reference, 1000);
        sim.approve(&reference);
        let r = sim.cancel(&reference, "c1", body);
        assert_eq!(r.status, 200, "body {body:?}");
        assert_eq!(agg(&json_of(&r), "cancelledAmount"), 1000);
    }
}

#[test]
fn cancel_transaction_only_on_an_authorized_payment_is_6060() {
    let sim = Sim::new();
    sim.create("cto-0001", 1000);
    sim.approve("cto-0001");
    let r = sim.cancel("cto-0001", "c1", r#"{"cancelTransactionOnly": true}"#);
    assert_eq!(r.status, 400);
    assert_eq!(error_code(&r).as_deref(), Some("6060"));
    assert_eq!(agg(&sim.get("cto-0001"), "cancelledAmount"), 0);
}

#[test]
fn capture_before_authorization_is_6080() {
    let sim = Sim::new();
    sim.create("early-cap-0001", 1000);
    let r = sim.modify("early-cap-0001", "capture", 1000, "k");
    assert_eq!(r.status, 400);
    assert_eq!(error_code(&r).as_deref(), Some("6080"));
}

#[test]
fn capture_more_than_authorized_is_6090() {
    let sim = Sim::new();
    sim.create("big-cap-0001", 1000);
    sim.approve("big-cap-0001");
    assert_eq!(sim.modify("big-cap-0001", "capture", 600, "k1").status, 200);
    let r = sim.modify("big-cap-0001", "capture", 401, "k2");
    assert_eq!(error_code(&r).as_deref(), Some("6090"));
    assert_eq!(sim.modify("big-cap-0001", "capture", 400, "k3").status, 200);
}

#[test]
fn capture_after_cancel_is_refused_with_6070() {
    let sim = Sim::new();
    sim.create("cap-cancel-0001", 1000);
    sim.approve("cap-cancel-0001");
    sim.modify("cap-cancel-0001", "capture", 300, "k1");
    sim.cancel("cap-cancel-0001", "c1", "");
    let r = sim.modify("cap-cancel-0001", "capture", 100, "k2");
    assert_eq!(error_code(&r).as_deref(), Some("6070"));
}

#[test]
fn cancel_after_full_capture_is_6040() {
    let sim = Sim::new();
    sim.create("full-cap-0001", 1000);
    sim.approve("full-cap-0001");
    sim.modify("full-cap-0001", "capture", 1000, "k1");
    let r = sim.cancel("full-cap-0001", "c1", "");
    assert_eq!(error_code(&r).as_deref(), Some("6040"));
}

#[test]
fn cancel_of_an_aborted_payment_is_6050() {
    let sim = Sim::new();
    sim.create("aborted-0001", 1000);
    assert_eq!(
        sim.control("POST", "/__sim/payments/aborted-0001/abort", "")
            .status,
        200
    );
    let r = sim.cancel("aborted-0001", "c1", "");
    assert_eq!(error_code(&r).as_deref(), Some("6050"));
}

#[test]
fn second_cancel_changes_nothing_and_answers_200() {
    let sim = Sim::new();
    sim.create("twice-0001", 1000);
    sim.approve("twice-0001");
    assert_eq!(sim.cancel("twice-0001", "c1", "").status, 200);
    let r = sim.cancel("twice-0001", "c2", "");
    assert_eq!(r.status, 200);
    assert_eq!(agg(&json_of(&r), "cancelledAmount"), 1000);
    assert_eq!(sim.events("twice-0001").len(), 3);
}

#[test]
fn refund_before_capture_is_6150_and_before_reservation_6020() {
    let sim = Sim::new();
    sim.create("refund-0001", 1000);
    let r = sim.modify("refund-0001", "refund", 100, "r1");
    assert_eq!(error_code(&r).as_deref(), Some("6020"));
    sim.approve("refund-0001");
    let r = sim.modify("refund-0001", "refund", 100, "r2");
    assert_eq!(error_code(&r).as_deref(), Some("6150"));
}

#[test]
fn refund_more_than_captured_is_6150() {
    let sim = Sim::new();
    sim.create("refund-0002", 1000);
    sim.approve("refund-0002");
    sim.modify("refund-0002", "capture", 500, "c1");
    let r = sim.modify("refund-0002", "refund", 501, "r1");
    assert_eq!(error_code(&r).as_deref(), Some("6150"));
    assert_eq!(sim.modify("refund-0002", "refund", 500, "r2").status, 200);
}

#[test]
fn capture_in_another_currency_is_a_400() {
    let sim = Sim::new();
    sim.create("currency-0001", 1000);
    sim.approve("currency-0001");
    let r = sim.call(
        "POST",
        "/epayment/v1/payments/currency-0001/capture",
        Some("k1"),
        &json!({"modificationAmount": {"currency": "EUR", "value": 100}}).to_string(),
    );
    assert_eq!(r.status, 400);
    assert_eq!(agg(&sim.get("currency-0001"), "capturedAmount"), 0);
}

#[test]
fn payments_in_eur_keep_eur_in_every_amount() {
    // EUR is for Finnish sales units (behaviour.md §4), so this unit is one.
    let mut config = SimConfig::default();
    for a in &mut config.accounts {
        a.currency = "EUR".into();
    }
    let sim = Sim::with(config);
    let mut body = Sim::create_body("eur-pay-0001", 1);
    body["amount"]["currency"] = "EUR".into();
    assert_eq!(sim.create_with(&body, "k").status, 201);
    sim.approve("eur-pay-0001");
    let p = sim.get("eur-pay-0001");
    assert_eq!(p["aggregate"]["authorizedAmount"]["currency"], "EUR");
    assert!(sim
        .events("eur-pay-0001")
        .iter()
        .all(|e| e["amount"]["currency"] == "EUR"));
}

#[test]
fn profile_scope_gives_a_sub_after_authorization() {
    let sim = Sim::new();
    let mut body = Sim::create_body("profile-0001", 1000);
    body["profile"] = json!({"scope": "name email"});
    sim.create_with(&body, "k");
    assert_eq!(sim.get("profile-0001")["profile"], json!({}));
    sim.approve("profile-0001");
    assert!(sim.get("profile-0001")["profile"]["sub"].is_string());
}

#[test]
fn wrong_method_on_a_known_path_is_405() {
    let sim = Sim::new();
    let r = sim.call("DELETE", "/epayment/v1/payments/abcdefgh-1", None, "");
    assert_eq!(r.status, 405);
    let r = sim.call("GET", "/epayment/v1/payments/abcdefgh-1/capture", None, "");
    assert_eq!(r.status, 405);
    let r = sim.call("GET", "/epayment/v1/payments", None, "");
    assert_eq!(r.status, 405);
}

#[test]
fn events_become_webhook_payloads_in_the_outbox() {
    use vipps_golive::simulator::ledger::{Currency, Flow, MethodType, Money, NewPayment};
    let sim = Sim::new();
    let out = sim.sim.with_engine(|e| {
        let mut out = Vec::new();
        let now = e.now();
        let new = NewPayment {
            reference: "outbox-0001".into(),
            amount: Money {
                currency: Currency::Nok,
                value: 24900,
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
        e.ledger
            .create(MSN, new, "t".into(), "key-1", now, &mut out);
        e.ledger
            .authorize(MSN, "outbox-0001", now, &mut out)
            .unwrap();
        out
    });
    assert_eq!(out.len(), 2);
    let p = &out[1].payload;
    assert_eq!(out[1].name, "AUTHORIZED");
    assert_eq!(out[1].msn, MSN);
    for f in [
        "msn",
        "reference",
        "pspReference",
        "name",
        "amount",
        "timestamp",
        "idempotencyKey",
        "success",
    ] {
        assert!(p.get(f).is_some(), "webhook payload lacks {f}: {p}");
    }
    assert_eq!(p["idempotencyKey"], "key-1");
    assert_eq!(p["amount"], json!({"currency": "NOK", "value": 24900}));
}

//! Idempotency (behaviour.md §6).

use crate::sim_core_support;

use sim_core_support::*;

#[test]
fn same_key_and_body_on_create_replays_the_first_response_exactly() {
    let sim = Sim::new();
    let body = Sim::create_body("idem-create-0001", 1000);
    let first = sim.create_with(&body, "key-1");
    let second = sim.create_with(&body, "key-1");
    assert_eq!(first.status, 201);
    assert_eq!(first, second);
    assert_eq!(sim.events("idem-create-0001").len(), 1, "no second CREATED");
}

#[test]
fn same_key_with_a_reordered_but_equal_body_is_still_a_replay() {
    let sim = Sim::new();
    let body = Sim::create_body("idem-create-0002", 1000);
    let first = sim.create_with(&body, "key-1");
    let pretty = serde_json::to_string_pretty(&body).unwrap();
    let second = sim.call("POST", "/epayment/v1/payments", Some("key-1"), &pretty);
    assert_eq!(first, second);
}

#[test]
fn same_key_with_another_body_on_create_is_409_4020() {
    let sim = Sim::new();
    sim.create_with(&Sim::create_body("idem-create-0003", 1000), "key-1");
    let r = sim.create_with(&Sim::create_body("idem-create-0003", 2000), "key-1");
    assert_eq!(r.status, 409);
    assert_eq!(error_code(&r).as_deref(), Some("4020"));
}

#[test]
fn new_key_on_an_existing_reference_is_409_4150() {
    let sim = Sim::new();
    sim.create_with(&Sim::create_body("idem-create-0004", 1000), "key-1");
    let r = sim.create_with(&Sim::create_body("idem-create-0004", 1000), "key-2");
    assert_eq!(r.status, 409);
    assert_eq!(error_code(&r).as_deref(), Some("4150"));
    assert!(json_of(&r)["detail"]
        .as_str()
        .unwrap()
        .contains("already exists"));
}

#[test]
fn capture_retried_with_the_same_key_happens_once() {
    let sim = Sim::new();
    sim.create("idem-cap-0001", 1000);
    sim.approve("idem-cap-0001");
    let first = sim.modify("idem-cap-0001", "capture", 300, "cap-1");
    let second = sim.modify("idem-cap-0001", "capture", 300, "cap-1");
    assert_eq!(first, second);
    assert_eq!(agg(&sim.get("idem-cap-0001"), "capturedAmount"), 300);
    let captures = sim
        .events("idem-cap-0001")
        .iter()
        .filter(|e| e["name"] == "CAPTURED")
        .count();
    assert_eq!(captures, 1);
}

#[test]
fn capture_with_the_same_key_and_another_amount_is_409_4010() {
    let sim = Sim::new();
    sim.create("idem-cap-0002", 1000);
    sim.approve("idem-cap-0002");
    sim.modify("idem-cap-0002", "capture", 300, "cap-1");
    let r = sim.modify("idem-cap-0002", "capture", 400, "cap-1");
    assert_eq!(r.status, 409);
    assert_eq!(error_code(&r).as_deref(), Some("4010"));
    assert_eq!(agg(&sim.get("idem-cap-0002"), "capturedAmount"), 300);
}

#[test]
fn refund_with_the_same_key_and_another_amount_is_409_4150() {
    let sim = Sim::new();
    sim.create("idem-ref-0001", 1000);
    sim.approve("idem-ref-0001");
    sim.modify("idem-ref-0001", "capture", 1000, "cap-1");
    sim.modify("idem-ref-0001", "refund", 100, "ref-1");
    let r = sim.modify("idem-ref-0001", "refund", 200, "ref-1");
    assert_eq!(r.status, 409);
    assert_eq!(error_code(&r).as_deref(), Some("4150"));
}

#[test]
fn cancel_with_the_same_key_and_another_body_is_409_4020() {
    let sim = Sim::new();
    sim.create("idem-can-0001", 1000);
    sim.approve("idem-can-0001");
    sim.cancel("idem-can-0001", "c-1", "{}");
    let r = sim.cancel("idem-can-0001", "c-1", r#"{"cancelTransactionOnly": true}"#);
    assert_eq!(r.status, 409);
    assert_eq!(error_code(&r).as_deref(), Some("4020"));
}

#[test]
fn a_first_4xx_is_replayed_even_after_the_payment_changed() {
    let sim = Sim::new();
    sim.create("idem-4xx-0001", 1000);
    // Capture before authorization fails with 6080 ...
    let first = sim.modify("idem-4xx-0001", "capture", 500, "cap-1");
    assert_eq!(error_code(&first).as_deref(), Some("6080"));
    sim.approve("idem-4xx-0001");
    // ... and the same key keeps getting that answer, with no capture happening.
    let second = sim.modify("idem-4xx-0001", "capture", 500, "cap-1");
    assert_eq!(first, second);
    assert_eq!(agg(&sim.get("idem-4xx-0001"), "capturedAmount"), 0);
    // A new key does the capture.
    assert_eq!(
        sim.modify("idem-4xx-0001", "capture", 500, "cap-2").status,
        200
    );
}

#[test]
fn keys_are_scoped_per_operation_and_reference() {
    let sim = Sim::new();
    for r in ["idem-scope-0001", "idem-scope-0002"] {
        sim.create(r, 1000);
        sim.approve(r);
        assert_eq!(sim.modify(r, "capture", 500, "shared-key").status, 200);
    }
    assert_eq!(
        sim.modify("idem-scope-0001", "refund", 100, "shared-key")
            .status,
        200
    );
}

#[test]
fn missing_idempotency_key_is_a_400_naming_the_header() {
    let sim = Sim::new();
    let body = Sim::create_body("idem-missing-0001", 1000).to_string();
    let r = sim.call("POST", "/epayment/v1/payments", None, &body);
    assert_eq!(r.status, 400);
    assert_eq!(fields(&r), vec!["Idempotency-Key".to_owned()]);
}

#[test]
fn idempotency_key_over_50_chars_is_a_400() {
    let sim = Sim::new();
    let body = Sim::create_body("idem-long-0001", 1000);
    let r = sim.create_with(&body, &"k".repeat(51));
    assert_eq!(r.status, 400);
    assert_eq!(fields(&r), vec!["Idempotency-Key".to_owned()]);
    assert_eq!(sim.create_with(&body, &"k".repeat(50)).status, 201);
}

#[test]
fn many_retries_keep_memory_per_payment_bounded() {
    let sim = Sim::new();
    sim.create("idem-bound-0001", 65_000_000);
    sim.approve("idem-bound-0001");
    for i in 0..200 {
        let r = sim.modify("idem-bound-0001", "capture", 1, &format!("k-{i}"));
        assert_eq!(r.status, 200);
    }
    // The latest keys still replay.
    let again = sim.modify("idem-bound-0001", "capture", 1, "k-199");
    assert_eq!(again.status, 200);
    assert_eq!(agg(&json_of(&again), "capturedAmount"), 200);
}

//! Rate limits (behaviour.md §8): on by default, counted on the virtual clock.

use crate::sim_core_support;

use sim_core_support::*;
use vipps_golive::simulator::SimConfig;

#[test]
fn sixth_capture_in_a_minute_gets_a_gateway_429_with_retry_after() {
    let sim = Sim::with(SimConfig::default());
    sim.create("limit-cap-0001", 10_000);
    sim.approve("limit-cap-0001");
    for i in 0..5 {
        assert_eq!(
            sim.modify("limit-cap-0001", "capture", 10, &format!("k{i}"))
                .status,
            200
        );
    }
    let r = sim.modify("limit-cap-0001", "capture", 10, "k5");
    assert_eq!(r.status, 429);
    assert_eq!(json_of(&r)["statusCode"], 429);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
    assert_eq!(agg(&sim.get("limit-cap-0001"), "capturedAmount"), 50);
    // A minute later on the virtual clock, it is allowed again.
    sim.advance(wait);
    assert_eq!(
        sim.modify("limit-cap-0001", "capture", 10, "k6").status,
        200
    );
}

#[test]
fn reads_are_limited_to_120_per_minute_per_reference() {
    let sim = Sim::with(SimConfig::default());
    sim.create("limit-get-0001", 1000);
    for _ in 0..120 {
        assert_eq!(
            sim.call("GET", "/epayment/v1/payments/limit-get-0001", None, "")
                .status,
            200
        );
    }
    let r = sim.call("GET", "/epayment/v1/payments/limit-get-0001", None, "");
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
    // The event log is counted on its own.
    assert_eq!(
        sim.call(
            "GET",
            "/epayment/v1/payments/limit-get-0001/events",
            None,
            ""
        )
        .status,
        200
    );
}

#[test]
fn create_is_limited_per_reference() {
    let sim = Sim::with(SimConfig::default());
    let body = Sim::create_body("limit-create-0001", 1000);
    for _ in 0..5 {
        assert_ne!(sim.create_with(&body, "same-key").status, 429);
    }
    assert_eq!(sim.create_with(&body, "same-key").status, 429);
    sim.create("limit-create-0002", 1000);
}

#[test]
fn limits_are_off_when_configured_off() {
    let sim = Sim::new();
    sim.create("limit-off-0001", 10_000);
    sim.approve("limit-off-0001");
    for i in 0..20 {
        assert_eq!(
            sim.modify("limit-off-0001", "capture", 10, &format!("k{i}"))
                .status,
            200
        );
    }
}

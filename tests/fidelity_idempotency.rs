//! Idempotency per behaviour.md §6 (issue 3 point 4). The event log is the
//! witness that a replay had no second effect.

use crate::common;

use common::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn create_replayed_with_the_same_key_and_body_returns_the_first_201_and_creates_once() {
    let sim = Sim::start().await;
    let r = reference("idem");
    let k = key();
    let call = sim
        .api(Method::POST, "/epayment/v1/payments")
        .await
        .idem(k)
        .json(&web_body(&r, 1000));
    let first = sim.send(call.clone()).await;
    first.assert_status(201);
    let second = sim.send(call).await;
    second.assert_status(201);
    assert_eq!(
        second.json(),
        first.json(),
        "the first response is replayed"
    );
    assert_eq!(sim.event_names(&r).await, ["CREATED"]);
}

#[tokio::test]
async fn capture_replayed_with_the_same_key_captures_once() {
    let sim = Sim::start().await;
    let r = sim.authorized(1000).await;
    let k = key();
    let first = sim.capture_key(&r, 300, &k).await;
    first.assert_status(200);
    let second = sim.capture_key(&r, 300, &k).await;
    second.assert_status(200);
    assert_eq!(agg(&second.json()), agg(&first.json()), "replayed body");
    assert_eq!(agg(&sim.payment(&r).await), [1000, 300, 0, 0]);
    assert_eq!(
        sim.event_names(&r)
            .await
            .iter()
            .filter(|n| *n == "CAPTURED")
            .count(),
        1
    );
}

#[tokio::test]
async fn refund_and_cancel_replayed_with_the_same_key_take_effect_once() {
    let sim = Sim::start().await;
    let r = sim.authorized(1000).await;
    sim.capture(&r, 600).await.assert_status(200);
    let k = key();
    sim.refund_key(&r, 100, &k).await.assert_status(200);
    sim.refund_key(&r, 100, &k).await.assert_status(200);
    let ck = key();
    sim.modify("cancel", &r, None, &ck).await.assert_status(200);
    sim.modify("cancel", &r, None, &ck).await.assert_status(200);
    assert_eq!(agg(&sim.payment(&r).await), [1000, 600, 100, 400]);
    let names = sim.event_names(&r).await;
    assert_eq!(
        names.iter().filter(|n| *n == "REFUNDED").count(),
        1,
        "{names:?}"
    );
    assert_eq!(
        names.iter().filter(|n| *n == "CANCELLED").count(),
        1,
        "{names:?}"
    );
}

#[tokio::test]
async fn a_first_4xx_is_replayed_for_the_same_key_even_after_the_state_changed() {
    let sim = Sim::start().await;
    let r = sim.created(1000).await;
    let k = key();
    let first = sim.capture_key(&r, 100, &k).await;
    assert_problem(&first, 400, Some("6080"));
    sim.approve(&r).await.assert_status(200);
    let retry = sim.capture_key(&r, 100, &k).await;
    assert_eq!(
        retry.status,
        400,
        "the first 4xx is replayed, not re-tried: {}",
        retry.brief()
    );
    assert_eq!(retry.error_code().as_deref(), Some("6080"));
    assert_eq!(agg(&sim.payment(&r).await)[1], 0, "no capture took place");
    assert!(!sim.event_names(&r).await.contains(&"CAPTURED".to_owned()));
}

#[tokio::test]
async fn same_key_with_a_different_capture_body_is_a_409_conflict() {
    let sim = Sim::start().await;
    let r = sim.authorized(1000).await;
    let k = key();
    sim.capture_key(&r, 100, &k).await.assert_status(200);
    let conflict = sim.capture_key(&r, 200, &k).await;
    assert_problem(&conflict, 409, None);
    assert_eq!(agg(&sim.payment(&r).await)[1], 100);
}

#[tokio::test]
async fn same_key_with_a_different_refund_body_is_a_409_conflict() {
    let sim = Sim::start().await;
    let r = sim.authorized(1000).await;
    sim.capture(&r, 1000).await.assert_status(200);
    let k = key();
    sim.refund_key(&r, 100, &k).await.assert_status(200);
    assert_problem(&sim.refund_key(&r, 150, &k).await, 409, None);
    assert_eq!(agg(&sim.payment(&r).await)[2], 100);
}

#[tokio::test]
async fn same_key_with_a_different_create_body_is_a_409_conflict() {
    let sim = Sim::start().await;
    let r = reference("idc");
    let k = key();
    let call = sim
        .api(Method::POST, "/epayment/v1/payments")
        .await
        .idem(k.clone());
    sim.send(call.clone().json(&web_body(&r, 1000)))
        .await
        .assert_status(201);
    let conflict = sim.send(call.json(&web_body(&r, 2000))).await;
    assert_problem(&conflict, 409, None);
    assert_eq!(sim.payment(&r).await["amount"], amount(1000));
}

#[tokio::test]
async fn a_new_key_for_an_existing_reference_is_refused() {
    // OPEN(§16.6): 409 likely (create declares 409), 400 possible; code 4150 per the agent toolkit.
    let sim = Sim::start().await;
    let r = sim.created(1000).await;
    let again = sim.create(&web_body(&r, 1000)).await;
    assert!(matches!(again.status, 400 | 409), "{}", again.brief());
    assert_problem(&again, again.status, None);
    assert_eq!(sim.event_names(&r).await, ["CREATED"], "no second payment");
}

#[tokio::test]
async fn a_new_key_for_another_capture_is_a_second_capture() {
    let sim = Sim::start().await;
    let r = sim.authorized(1000).await;
    sim.capture(&r, 100).await.assert_status(200);
    sim.capture(&r, 100).await.assert_status(200);
    assert_eq!(agg(&sim.payment(&r).await)[1], 200);
}

#[tokio::test]
async fn replay_is_separate_per_sales_unit() {
    // A key reused by another unit must not replay the first unit's answer.
    let sim = Sim::start().await;
    let k = key();
    let (r1, r2) = (reference("u1"), reference("u2"));
    let c1 = sim
        .api_as(UNIT, Method::POST, "/epayment/v1/payments")
        .await
        .idem(k.clone())
        .json(&web_body(&r1, 1000));
    sim.send(c1).await.assert_status(201);
    let c2 = sim
        .api_as(UNIT_2, Method::POST, "/epayment/v1/payments")
        .await
        .idem(k)
        .json(&web_body(&r2, 1000));
    let resp = sim.send(c2).await;
    resp.assert_status(201);
    assert_eq!(resp.json()["reference"], json!(r2));
}

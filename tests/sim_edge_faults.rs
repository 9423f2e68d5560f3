//! Faults and the journal, over HTTP, through both adapters.

use crate::sim_support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sim_support::{client, Adapter};
use vipps_golive::simulator::SimConfig;

async fn arm(a: &Adapter, fault: Value) -> reqwest::Response {
    client()
        .post(a.url("/__sim/faults"))
        .json(&fault)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn error500_replaces_the_next_n_matching_requests_then_disarms() {
    for a in Adapter::both(SimConfig::default()).await {
        let armed = arm(
            &a,
            json!({ "method": "GET", "path": "/epayment/v1/payments/*", "times": 2, "kind": "error500" }),
        )
        .await;
        assert_eq!(armed.status(), 201, "{}", a.name());
        let url = a.url("/epayment/v1/payments/order-12345678");

        let s1 = client().get(&url).send().await.unwrap();
        let s2 = client().get(&url).send().await.unwrap();
        let s3 = client().get(&url).send().await.unwrap();

        assert_eq!(s1.status(), 500, "{}", a.name());
        let body: Value = s1.json().await.unwrap();
        assert_eq!(body["extraDetails"][0]["reason"], "3010");
        assert_eq!(s2.status(), 500);
        assert_ne!(s3.status(), 500, "{}: the fault must disarm", a.name());
    }
}

#[tokio::test]
async fn error429_answers_in_the_gateway_shape_with_retry_after() {
    for a in Adapter::both(SimConfig::default()).await {
        arm(
            &a,
            json!({ "path": "/epayment/v1/payments/*/capture", "kind": "error429", "retryAfterSeconds": 3 }),
        )
        .await;

        let r = client()
            .post(a.url("/epayment/v1/payments/order-12345678/capture"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();

        assert_eq!(r.status(), 429, "{}", a.name());
        assert_eq!(r.headers()["retry-after"], "3");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["statusCode"], 429);
    }
}

#[tokio::test]
async fn a_delay_fault_answers_late() {
    for a in Adapter::both(SimConfig::default()).await {
        arm(
            &a,
            json!({ "path": "/epayment/v1/payments/*", "kind": "delay", "delayMs": 400 }),
        )
        .await;
        let started = Instant::now();

        client()
            .get(a.url("/epayment/v1/payments/order-12345678"))
            .send()
            .await
            .unwrap();

        assert!(
            started.elapsed() >= Duration::from_millis(400),
            "{}",
            a.name()
        );
    }
}

#[tokio::test]
async fn drop_after_effect_closes_the_standalone_connection_without_an_answer() {
    let a = Adapter::standalone(SimConfig::default()).await;
    arm(
        &a,
        json!({ "path": "/epayment/v1/payments/*", "kind": "drop_after_effect" }),
    )
    .await;

    let r = client()
        .get(a.url("/epayment/v1/payments/order-12345678"))
        .send()
        .await;

    assert!(r.is_err(), "expected no answer, got {r:?}");
    let journal = client()
        .get(a.url("/__sim/journal"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let last: Value = serde_json::from_str(journal.lines().last().unwrap()).unwrap();
    assert_eq!(last["status"], Value::Null);
    assert!(last["error"].as_str().unwrap().contains("dropped"));
}

#[tokio::test]
async fn faults_are_listed_and_cleared() {
    let a = Adapter::standalone(SimConfig::default()).await;
    arm(
        &a,
        json!({ "path": "/a/*", "kind": "error423", "times": 3 }),
    )
    .await;
    arm(&a, json!({ "path": "/b", "kind": "error500" })).await;

    let listed: Value = client()
        .get(a.url("/__sim/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cleared = client()
        .delete(a.url("/__sim/faults"))
        .send()
        .await
        .unwrap();
    let after: Value = client()
        .get(a.url("/__sim/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    assert_eq!(listed["faults"].as_array().unwrap().len(), 2);
    assert_eq!(listed["faults"][0]["times"], 3);
    assert_eq!(cleared.status(), 204);
    assert_eq!(after["faults"], json!([]));
}

#[tokio::test]
async fn a_fault_with_an_unknown_kind_is_400() {
    let a = Adapter::standalone(SimConfig::default()).await;
    let r = arm(&a, json!({ "path": "/a", "kind": "explode" })).await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn control_is_refused_when_the_simulator_was_started_without_it() {
    let config = SimConfig {
        control_enabled: false,
        ..SimConfig::default()
    };
    for a in Adapter::both(config).await {
        let r = arm(&a, json!({ "path": "/a", "kind": "error500" })).await;
        assert_eq!(r.status(), 404, "{}", a.name());
    }
}

#[tokio::test]
async fn the_journal_returns_the_newest_requests_as_jsonl_without_control_traffic() {
    let config = SimConfig {
        journal_capacity: 3,
        ..SimConfig::default()
    };
    for a in Adapter::both(config).await {
        for i in 0..5 {
            client()
                .get(a.url(&format!("/epayment/v1/payments/order-{i}-abcdefgh")))
                .send()
                .await
                .unwrap();
        }
        let r = client()
            .get(a.url("/__sim/journal?limit=2"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["x-sim-journal-total"], "5");
        let text = r.text().await.unwrap();

        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{}", a.name());
        assert_eq!(lines[1]["reference"], "order-4-abcdefgh");
        assert!(lines
            .iter()
            .all(|l| !l["url"].as_str().unwrap().contains("/__sim")));
    }
}

#[tokio::test]
async fn the_journal_file_gets_every_request_as_a_json_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.jsonl");
    let a = Adapter::standalone(SimConfig::default()).await;
    a.simulator()
        .with_engine(|e| e.journal.stream_to(&path))
        .unwrap();

    for i in 0..3 {
        client()
            .get(a.url(&format!("/epayment/v1/payments/order-{i}-abcdefgh")))
            .send()
            .await
            .unwrap();
    }
    let mut lines = 0;
    for _ in 0..50 {
        lines = std::fs::read_to_string(&path).unwrap().lines().count();
        if lines == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    assert_eq!(lines, 3);
}

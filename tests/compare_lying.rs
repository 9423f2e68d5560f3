//! `compare`, driven as a user runs it, against a target that lies about the
//! money: a proxy in front of a simulator that reads one amount of every
//! payment as 0 (the event log untouched). The target's own run fails where
//! it checks that amount; `compare` must say so and exit 1 (issue 23).

use std::process::Output;

use serde_json::Value;
use vipps_golive::simulator::SimConfig;

use crate::doctored_support::doctored_target;

/// A GET of a payment (not of its events) with `field` of its aggregate read as 0.
fn zeroing(field: &'static str) -> Box<crate::doctored_support::Doctor> {
    Box::new(move |req: &wiremock::Request, status: u16, body: Vec<u8>| {
        let path = req.url.path();
        let payment_read = req.method.as_str() == "GET"
            && path.starts_with("/epayment/v1/payments/")
            && !path.ends_with("/events");
        if !(payment_read && status == 200) {
            return (status, body);
        }
        let Ok(mut v) = serde_json::from_slice::<Value>(&body) else {
            return (status, body);
        };
        if let Some(amount) = v.pointer_mut(&format!("/aggregate/{field}/value")) {
            *amount = Value::from(0);
        }
        (status, serde_json::to_vec(&v).unwrap())
    })
}

/// `vipps-golive compare --base-url base` with the simulator's demo unit.
async fn compare_binary(base: String, out: std::path::PathBuf) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_vipps-golive"))
            .args([
                "compare",
                "--base-url",
                &base,
                "--client-id",
                "sim-client-id-123456",
                "--client-secret",
                "sim-client-secret-123456",
                "--subscription-key",
                "sim-subscription-key-123456",
                "--msn",
                "123456",
                "--non-interactive",
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn compare_json(out: &std::path::Path) -> Value {
    let path = out.join("compare/latest/compare.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Runs compare against a target lying about `field`; returns its output and compare.json.
pub(crate) async fn against_a_target_zeroing(field: &'static str) -> (Output, Value, String) {
    let config = SimConfig {
        control_enabled: true,
        ..SimConfig::default()
    };
    let (server, _sim) = doctored_target(config, zeroing(field)).await;
    let out = tempfile::tempdir().unwrap();
    let o = compare_binary(server.uri(), out.path().to_path_buf()).await;
    let json = compare_json(out.path());
    let html = std::fs::read_to_string(out.path().join("compare/latest/compare.html")).unwrap();
    (o, json, html)
}

fn rows<'a>(c: &'a Value, kind: &str) -> Vec<&'a Value> {
    c["differences"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == kind)
        .collect()
}

fn assert_caught(o: &Output, c: &Value, html: &str, field: &str) {
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(c["counts"]["unexpected"].as_u64().unwrap() > 0, "{c:#}");
    assert!(!html.contains("No unexpected difference"));
    let amounts = rows(c, "amounts");
    assert!(!amounts.is_empty(), "no amounts row:\n{stdout}");
    for d in &amounts {
        assert_eq!(d["class"], "unexpected", "{d:#}");
        assert!(d["summary"].as_str().unwrap().contains(field), "{d:#}");
        assert_eq!(d["target"][field]["value"], 0, "{d:#}");
    }
    // Every scenario that passed on the simulator and failed on the target
    // is a row of its own, and unexpected.
    for s in c["scenarios"].as_array().unwrap() {
        if s["simulator_verdict"] == "PASS" && s["target_verdict"] == "FAIL" {
            let name = s["name"].as_str().unwrap();
            assert!(
                rows(c, "verdict")
                    .iter()
                    .any(|d| d["scenario"] == name && d["class"] == "unexpected"),
                "{name} passed on the simulator, failed on the target, and no verdict row says so"
            );
            assert!(s["differences"].as_u64().unwrap() >= 1, "{s:#}");
        }
    }
    assert!(stdout.contains("DIFFERS"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_reading_every_capture_as_zero_differs_and_compare_exits_1() {
    let (o, c, html) = against_a_target_zeroing("capturedAmount").await;
    assert_caught(&o, &c, &html, "capturedAmount");
    assert!(
        !rows(&c, "verdict").is_empty(),
        "the target's own run fails where it checks the captured amount"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_reading_every_refund_as_zero_differs_and_compare_exits_1() {
    let (o, c, html) = against_a_target_zeroing("refundedAmount").await;
    assert_caught(&o, &c, &html, "refundedAmount");
}

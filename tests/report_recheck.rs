//! Every PASS re-derived from evidence.json alone (issue 20 point 3): a
//! hand-edited evidence.json fails `report --check` with the contradiction
//! beside the broken seal, and a target that lies about amounts or events
//! fails the items it lied about, never passes them. Through the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use vipps_golive::simulator::SimConfig;

use crate::doctored_support::doctored_target;

const BIN: &str = env!("CARGO_BIN_EXE_vipps-golive");

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `vipps-golive run ARGS --out OUT`, with the simulator's demo keys.
fn run(args: &[&str], out: &Path) -> Output {
    Command::new(BIN)
        .arg("run")
        .args(args)
        .arg("--out")
        .arg(out)
        .env("VIPPS_CLIENT_ID", "sim-client-id-123456")
        .env("VIPPS_CLIENT_SECRET", "sim-client-secret-123456")
        .env("VIPPS_SUBSCRIPTION_KEY", "sim-subscription-key-123456")
        .env("VIPPS_MSN", "123456")
        .output()
        .unwrap()
}

fn latest(out: &Path) -> PathBuf {
    out.join("latest").canonicalize().unwrap()
}

fn evidence(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("evidence.json")).unwrap()).unwrap()
}

fn verdict(e: &Value, id: &str) -> String {
    e["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap()["verdict"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_go_live_pass_edited_onto_a_read_of_nothing_captured_fails_the_check_beside_the_broken_seal() {
    let out = tempfile::tempdir().unwrap();
    let made = run(&["--tags", "@GL-TEST"], out.path());
    assert_eq!(made.status.code(), Some(0), "{}", text(&made));
    let dir = latest(out.path());
    let clean = Command::new(BIN)
        .args(["report", "--check"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));
    assert!(
        text(&clean).contains("verdicts: every PASS is supported by evidence.json"),
        "{}",
        text(&clean)
    );

    // The CAPTURED reference's reads now show nothing captured; GL-TEST
    // still says PASS.
    let mut e = evidence(&dir);
    assert_eq!(verdict(&e, "GL-TEST"), "PASS");
    let captured = e["golive"]["references"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["outcome"] == "CAPTURED")
        .unwrap()["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut edited = 0;
    for x in e["exchanges"].as_array_mut().unwrap() {
        let read = x["method"] == "GET"
            && x["url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/payments/{captured}"));
        if read && x["response_body"]["aggregate"].is_object() {
            x["response_body"]["aggregate"]["capturedAmount"]["value"] = 0.into();
            edited += 1;
        }
    }
    assert!(edited > 0, "no read of `{captured}` to edit");
    std::fs::write(
        dir.join("evidence.json"),
        serde_json::to_vec_pretty(&e).unwrap(),
    )
    .unwrap();

    let checked = Command::new(BIN)
        .args(["report", "--check"])
        .arg(&dir)
        .output()
        .unwrap();
    let said = text(&checked);
    assert_eq!(checked.status.code(), Some(1), "{said}");
    // Both problems, each said plainly.
    assert!(said.contains("changed  evidence.json"), "{said}");
    assert!(
        said.contains(&format!(
            "the evidence contradicts the verdict: GL-TEST `{captured}` PASS, but it is offered as ending CAPTURED, and its last answered read"
        )),
        "{said}"
    );
    assert!(said.contains("NOK 0.00 captured"), "{said}");
    assert!(said.contains("does not match its manifest"), "{said}");
}

/// A target whose answers are the simulator's, with `doctor` applied to the
/// body of every GET of a payment and of its event log.
async fn lying(doctor: fn(&str, &mut Value)) -> wiremock::MockServer {
    let (server, _sim) = doctored_target(
        SimConfig::default(),
        Box::new(move |req: &wiremock::Request, status: u16, body: Vec<u8>| {
            let path = req.url.path();
            if req.method.as_str() != "GET" || !path.starts_with("/epayment/v1/payments/") {
                return (status, body);
            }
            match serde_json::from_slice::<Value>(&body) {
                Ok(mut v) => {
                    doctor(path, &mut v);
                    (status, serde_json::to_vec(&v).unwrap())
                }
                Err(_) => (status, body),
            }
        }),
    )
    .await;
    server
}

/// Runs the binary against `server` with `tags`, off the async runtime that
/// serves the target.
async fn run_against(server: &wiremock::MockServer, tags: &str) -> (Output, Value) {
    let (base, tags) = (server.uri(), tags.to_owned());
    let ran = tokio::task::spawn_blocking(move || {
        let out = tempfile::tempdir().unwrap();
        let output = run(&["--base-url", &base, "--tags", &tags], out.path());
        let dir = latest(out.path());
        (output, evidence(&dir))
    })
    .await
    .unwrap();
    // On the wall clock (no virtual one against a URL), every exchange is
    // dated within the run's span.
    assert!(ran.1["run"]["clock"].is_null(), "{:#}", ran.1["run"]);
    crate::evidence_clock::assert_dated_within_its_span(&ran.1);
    ran
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_reports_nothing_captured_fails_go_live_and_capture() {
    let server = lying(|path, v| {
        if !path.ends_with("/events") && v["aggregate"].is_object() {
            v["aggregate"]["capturedAmount"]["value"] = 0.into();
        }
    })
    .await;
    let (output, e) = run_against(&server, "@GL-TEST or @EP-CAPTURE").await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(verdict(&e, "GL-TEST"), "FAIL", "{:#}", e["items"]);
    assert_eq!(verdict(&e, "EP-CAPTURE"), "FAIL", "{:#}", e["items"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_drops_refunded_events_fails_refund_and_go_live() {
    let server = lying(|path, v| {
        if path.ends_with("/events") {
            if let Value::Array(events) = v {
                events.retain(|e| e["name"] != "REFUNDED");
            }
        }
    })
    .await;
    let (output, e) = run_against(&server, "@GL-TEST or @EP-REFUND").await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(verdict(&e, "EP-REFUND"), "FAIL", "{:#}", e["items"]);
    assert_eq!(verdict(&e, "GL-TEST"), "FAIL", "{:#}", e["items"]);
}

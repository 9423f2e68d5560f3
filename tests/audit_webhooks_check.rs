//! `webhooks-check`, driven as a user runs it, against tiny receivers on
//! loopback: one that verifies everything (the signature, the date, and
//! replays), one that verifies but acts on each event once and so accepts a
//! replay, one that checks everything but the HMAC itself, and a careless
//! one (takes anything once, chokes on repeats and on events for payments it
//! does not know). Each check's folder is read back: one exchange per probe
//! delivery, the secret nowhere.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{HeaderMap, Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use vipps_golive::api::webhooks::verify_signature;
use vipps_golive::Secret;

pub(crate) const SECRET: &str = "a-webhook-secret-from-registration";

type Handler = Arc<dyn Fn(&HeaderMap, &[u8]) -> u16 + Send + Sync>;

/// Serves `handler` on a free loopback port; gives the webhook URL.
pub(crate) async fn receiver(handler: Handler) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let h = handler.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let h = h.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let bytes = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let status = h(&parts.headers, &bytes);
                        Ok::<_, Infallible>(
                            Response::builder()
                                .status(status)
                                .body(Full::new(Bytes::new()))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}/vipps/webhook")
}

/// Verifies the signature and the date, refuses a delivery whose signature
/// it has already accepted (a replay, 409), and acknowledges a redelivery
/// (the same event signed anew) without acting on it twice.
pub(crate) fn correct() -> Handler {
    let signatures: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    Arc::new(move |headers: &HeaderMap, body: &[u8]| {
        let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
        let host = h("host").unwrap_or_default();
        if verify_signature(&Secret::new(SECRET), "/vipps/webhook", host, h, body).is_err() {
            return 401;
        }
        let fresh = h("x-ms-date")
            .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
            .is_some_and(|d| (chrono::Utc::now() - d.to_utc()).num_seconds().abs() <= 300);
        if !fresh {
            return 401;
        }
        if !signatures
            .lock()
            .unwrap()
            .insert(h("authorization").unwrap_or_default().to_owned())
        {
            return 409;
        }
        // A redelivered event is acknowledged and not acted on again.
        200
    })
}

/// Verifies everything, but remembers only the events it acted on: a
/// replay inside the date window is acknowledged like a redelivery.
fn accepts_replays() -> Handler {
    Arc::new(move |headers: &HeaderMap, body: &[u8]| {
        let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
        let host = h("host").unwrap_or_default();
        if verify_signature(&Secret::new(SECRET), "/vipps/webhook", host, h, body).is_err() {
            return 401;
        }
        let fresh = h("x-ms-date")
            .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
            .is_some_and(|d| (chrono::Utc::now() - d.to_utc()).num_seconds().abs() <= 300);
        if fresh {
            200
        } else {
            401
        }
    })
}

pub(crate) fn careless() -> Handler {
    let seen: Mutex<HashSet<Vec<u8>>> = Mutex::new(HashSet::new());
    let authorized: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    Arc::new(move |_headers: &HeaderMap, body: &[u8]| {
        if !seen.lock().unwrap().insert(body.to_vec()) {
            return 500;
        }
        let event: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let reference = event["reference"].as_str().unwrap_or_default().to_owned();
        match event["name"].as_str() {
            Some("AUTHORIZED") => {
                authorized.lock().unwrap().insert(reference);
                200
            }
            _ if !authorized.lock().unwrap().contains(&reference) => 404,
            _ => 200,
        }
    })
}

/// Checks that the three headers are there, the body hash and the date, but
/// never the HMAC itself: issue 20 found webhooks-check passed it 6/6.
fn signature_never_checked() -> Handler {
    Arc::new(move |headers: &HeaderMap, body: &[u8]| {
        use base64::Engine as _;
        use sha2::Digest as _;
        let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
        let (Some(date), Some(hash), Some(auth)) =
            (h("x-ms-date"), h("x-ms-content-sha256"), h("authorization"))
        else {
            return 401;
        };
        let ours = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(body));
        let fresh = chrono::DateTime::parse_from_rfc2822(date)
            .is_ok_and(|d| (chrono::Utc::now() - d.to_utc()).num_seconds().abs() <= 300);
        if hash != ours || !fresh || !auth.contains("Signature=") {
            return 401;
        }
        200
    })
}

/// What one `webhooks-check` left: its exit code, stdout, stderr, and the
/// evidence.json and report.html of its folder.
struct Checked {
    code: i32,
    stdout: String,
    stderr: String,
    evidence: Value,
    report: String,
    journal: String,
}

async fn webhooks_check(url: &str) -> Checked {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_owned();
    let url = url.to_owned();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_vipps-golive"))
            .args([
                "webhooks-check",
                "--url",
                &url,
                "--timeout",
                "5",
                "--msn",
                "654321",
                "--out",
            ])
            .arg(&dir)
            .env("VIPPS_WEBHOOK_SECRET", SECRET)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let folder = std::fs::read_dir(out.path())
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("webhooks-check-")
        })
        .map(|e| e.path());
    let read = |name: &str| {
        folder
            .as_ref()
            .and_then(|f| std::fs::read_to_string(f.join(name)).ok())
            .unwrap_or_default()
    };
    Checked {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        evidence: serde_json::from_str(&read("evidence.json")).unwrap_or(Value::Null),
        report: read("report.html"),
        journal: read("journal.jsonl"),
    }
}

impl Checked {
    fn verdicts(&self) -> Vec<(String, String)> {
        self.evidence["webhook_checks"]
            .as_array()
            .unwrap_or_else(|| panic!("no webhook_checks: {}\n{}", self.stdout, self.stderr))
            .iter()
            .map(|c| {
                (
                    c["case"].as_str().unwrap().to_owned(),
                    c["verdict"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    fn verdict(&self, case: &str) -> String {
        self.verdicts()
            .into_iter()
            .find(|(c, _)| c == case)
            .map(|(_, v)| v)
            .unwrap_or_default()
    }

    fn item(&self, id: &str) -> String {
        self.evidence["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .map(|i| i["verdict"].as_str().unwrap().to_owned())
            .unwrap()
    }
}

const FORGED: [&str; 9] = [
    "unsigned",
    "bad-signature",
    "wrong-secret",
    "tampered",
    "wrong-host",
    "no-date",
    "no-content-hash",
    "no-authorization",
    "stale",
];

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_that_verifies_everything_passes_every_probe_and_the_folder_holds_each() {
    let url = receiver(correct()).await;

    let c = webhooks_check(&url).await;

    assert_eq!(c.code, 0, "{}\n{}", c.stdout, c.stderr);
    let cases: Vec<String> = c.verdicts().iter().map(|(case, _)| case.clone()).collect();
    assert_eq!(
        cases,
        [
            "signed",
            "unsigned",
            "bad-signature",
            "wrong-secret",
            "tampered",
            "wrong-host",
            "no-date",
            "no-content-hash",
            "no-authorization",
            "stale",
            "replay",
            "duplicate",
            "out-of-order",
        ]
    );
    for (case, verdict) in c.verdicts() {
        assert_eq!(verdict, "PASS", "{case}: {}", c.stdout);
    }
    assert_eq!(c.item("PF-POLLING"), "PASS");
    assert_eq!(c.evidence["run"]["msn"], "654321");

    // One exchange per delivery (out-of-order sends two), of kind
    // webhooks-check, named by its probe, linked from the probe, in the
    // evidence, the report and the journal written ahead.
    let exchanges = c.evidence["exchanges"].as_array().unwrap();
    assert_eq!(exchanges.len(), 14);
    for check in c.evidence["webhook_checks"].as_array().unwrap() {
        let case = check["case"].as_str().unwrap();
        let ids = check["exchanges"].as_array().unwrap();
        assert_eq!(
            ids.len(),
            if case == "out-of-order" { 2 } else { 1 },
            "{case}"
        );
        for id in ids {
            let e = exchanges.iter().find(|e| &e["id"] == id).unwrap();
            assert_eq!(e["kind"], "webhooks-check");
            assert_eq!(e["scenario"], format!("webhooks-check: {case}"));
            assert_eq!(e["status"], check["status"], "{case}");
            assert_eq!(e["request_body"]["msn"], "654321");
            assert!(
                c.report.contains(&format!("ex-{}", id.as_str().unwrap())),
                "the report shows {case}'s exchange"
            );
            assert!(c.journal.contains(id.as_str().unwrap()));
        }
    }
    assert_eq!(
        c.journal
            .lines()
            .filter(|l| l.contains("\"kind\":\"attempt\""))
            .count(),
        14
    );
    for text in [
        &c.stdout,
        &c.stderr,
        &c.report,
        &c.journal,
        &c.evidence.to_string(),
    ] {
        assert!(!text.contains(SECRET), "the secret leaked");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_that_never_checks_the_hmac_fails_and_is_told_which_probes_it_accepted() {
    let url = receiver(signature_never_checked()).await;

    let c = webhooks_check(&url).await;

    assert_eq!(c.code, 1, "{}\n{}", c.stdout, c.stderr);
    for case in ["bad-signature", "wrong-secret", "wrong-host"] {
        assert_eq!(c.verdict(case), "FAIL", "{case}: {}", c.stdout);
        assert!(
            c.stderr.contains(&format!("{case} (accepted, 200)")),
            "{case} named: {}",
            c.stderr
        );
    }
    for case in ["signed", "tampered", "no-date", "stale"] {
        assert_eq!(c.verdict(case), "PASS", "{case}: {}", c.stdout);
    }
    assert_eq!(c.item("PF-POLLING"), "FAIL");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_that_accepts_a_replay_passes_with_a_warning_that_says_why() {
    let url = receiver(accepts_replays()).await;

    let c = webhooks_check(&url).await;

    assert_eq!(
        c.code, 0,
        "a warning does not fail: {}\n{}",
        c.stdout, c.stderr
    );
    assert_eq!(c.verdict("replay"), "WARNING");
    for case in FORGED
        .iter()
        .chain(&["signed", "duplicate", "out-of-order"])
    {
        assert_eq!(c.verdict(case), "PASS", "{case}: {}", c.stdout);
    }
    assert!(
        c.stdout.contains("1 warning(s), not failures: replay")
            && c.stdout
                .contains("anyone who captured one delivery can resend it"),
        "{}",
        c.stdout
    );
    assert!(c
        .report
        .contains("anyone who captured one delivery can resend it"));
    assert_eq!(c.item("PF-POLLING"), "WARNING");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_careless_receiver_is_named_for_each_wrong_answer() {
    let url = receiver(careless()).await;

    let c = webhooks_check(&url).await;

    assert_eq!(c.code, 1);
    assert_eq!(c.verdict("signed"), "PASS");
    for case in FORGED {
        assert_eq!(c.verdict(case), "FAIL", "{case}");
    }
    // Repeats of the signed body choke it (500): neither a refusal nor an
    // acknowledgement.
    assert_eq!(c.verdict("replay"), "FAIL");
    assert_eq!(c.verdict("duplicate"), "FAIL");
    assert_eq!(c.verdict("out-of-order"), "FAIL");
    let unsigned = &c.evidence["webhook_checks"][1];
    assert!(
        unsigned["explanation"]
            .as_str()
            .unwrap()
            .starts_with("accepted (200)"),
        "{unsigned}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_that_is_not_there_is_unreachable_not_failed() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    drop(listener);

    let c = webhooks_check(&url).await;

    assert_eq!(c.code, 3, "{}", c.stderr);
    assert!(!c.stderr.contains(SECRET) && !c.stdout.contains(SECRET));
}

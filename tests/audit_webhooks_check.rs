//! `webhooks-check` against two tiny receivers on loopback: a correct one
//! (checks the signature, refuses stale dates, acknowledges duplicates and any
//! order) and a careless one (takes anything once, chokes on repeats and on
//! events for payments it does not know).

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{HeaderMap, Request, Response};
use hyper_util::rt::TokioIo;
use vipps_golive::api::webhooks::verify_signature;
use vipps_golive::commands::webhooks_check::{check, evidence};
use vipps_golive::evidence::model::Verdict;
use vipps_golive::Secret;

const SECRET: &str = "a-webhook-secret-from-registration";

type Handler = Arc<dyn Fn(&HeaderMap, &[u8]) -> u16 + Send + Sync>;

/// Serves `handler` on a free loopback port; gives the webhook URL.
async fn receiver(handler: Handler) -> String {
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

fn correct() -> Handler {
    let seen: Mutex<HashSet<Vec<u8>>> = Mutex::new(HashSet::new());
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
        // A repeat is acknowledged and not acted on again.
        seen.lock().unwrap().insert(body.to_vec());
        200
    })
}

fn careless() -> Handler {
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

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_that_never_checks_the_hmac_fails_the_wrong_secret_probe() {
    let url = receiver(signature_never_checked()).await;

    let checks = check(&url, &Secret::new(SECRET), Duration::from_secs(5))
        .await
        .unwrap();

    let forged = checks.iter().find(|c| c.case == "wrong-secret").unwrap();
    assert_eq!(forged.verdict, Verdict::Fail, "{forged:?}");
    assert!(
        forged.explanation.starts_with("accepted (200)"),
        "{forged:?}"
    );
    let e = evidence(&url, checks);
    let polling = e.items.iter().find(|i| i.id == "PF-POLLING").unwrap();
    assert_eq!(polling.verdict, Verdict::Fail);
}

fn verdicts(checks: &[vipps_golive::evidence::model::WebhookCheck]) -> Vec<(&str, Verdict)> {
    checks
        .iter()
        .map(|c| (c.case.as_str(), c.verdict))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_correct_receiver_passes_every_probe() {
    let url = receiver(correct()).await;

    let checks = check(&url, &Secret::new(SECRET), Duration::from_secs(5))
        .await
        .unwrap();

    assert_eq!(
        verdicts(&checks),
        [
            ("signed", Verdict::Pass),
            ("unsigned", Verdict::Pass),
            ("tampered", Verdict::Pass),
            ("wrong-secret", Verdict::Pass),
            ("no-date", Verdict::Pass),
            ("no-content-hash", Verdict::Pass),
            ("no-authorization", Verdict::Pass),
            ("stale", Verdict::Pass),
            ("duplicate", Verdict::Pass),
            ("out-of-order", Verdict::Pass),
        ]
    );
    assert_eq!(checks[1].status, Some(401));
    let e = evidence(&url, checks);
    assert_eq!(
        e.items
            .iter()
            .find(|i| i.id == "PF-POLLING")
            .unwrap()
            .verdict,
        Verdict::Pass
    );
    assert_eq!(e.webhook_checks.len(), 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_careless_receiver_is_named_for_each_wrong_answer() {
    let url = receiver(careless()).await;

    let checks = check(&url, &Secret::new(SECRET), Duration::from_secs(5))
        .await
        .unwrap();

    assert_eq!(
        verdicts(&checks),
        [
            ("signed", Verdict::Pass),
            ("unsigned", Verdict::Fail),
            ("tampered", Verdict::Fail),
            ("wrong-secret", Verdict::Fail),
            ("no-date", Verdict::Fail),
            ("no-content-hash", Verdict::Fail),
            ("no-authorization", Verdict::Fail),
            ("stale", Verdict::Fail),
            ("duplicate", Verdict::Fail),
            ("out-of-order", Verdict::Fail),
        ]
    );
    assert!(
        checks[1].explanation.starts_with("accepted (200)"),
        "{}",
        checks[1].explanation
    );
    let duplicate = checks.iter().find(|c| c.case == "duplicate").unwrap();
    assert_eq!(duplicate.status, Some(500));
    let e = evidence(&url, checks);
    assert_eq!(
        e.items
            .iter()
            .find(|i| i.id == "PF-POLLING")
            .unwrap()
            .verdict,
        Verdict::Fail
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_that_is_not_there_is_unreachable_not_failed() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    drop(listener);

    let err = check(&url, &Secret::new(SECRET), Duration::from_secs(2))
        .await
        .unwrap_err();

    assert_eq!(err.exit_code(), std::process::ExitCode::from(3));
    assert!(!format!("{err:?}{err}").contains(SECRET));
}

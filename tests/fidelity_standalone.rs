//! The same wire through the standalone hyper adapter (`simulator::serve`),
//! which shops keep running all day: core flow, body limit, control.

use crate::common;

use std::net::SocketAddr;

use reqwest::Method;
use serde_json::json;
use vipps_golive::simulator::{serve, SimConfig, Simulator};

async fn start(cfg: SimConfig) -> (String, Box<dyn std::any::Any + Send>) {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = serve::bind(Simulator::new(cfg), addr)
        .await
        .expect("bind 127.0.0.1:0");
    let base = server
        .base_url()
        .to_string()
        .trim_end_matches('/')
        .to_owned();
    (base, Box::new(server))
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn token(http: &reqwest::Client, base: &str) -> String {
    let r = http
        .post(format!("{base}/accesstoken/get"))
        .header("client_id", common::CLIENT_ID)
        .header("client_secret", common::CLIENT_SECRET)
        .header("Ocp-Apim-Subscription-Key", common::SUB_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<serde_json::Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn api(http: &reqwest::Client, m: Method, url: String, token: &str) -> reqwest::RequestBuilder {
    http.request(m, url)
        .header("Authorization", format!("Bearer {token}"))
        .header("Ocp-Apim-Subscription-Key", common::SUB_KEY)
        .header("Merchant-Serial-Number", common::MSN)
        .header("Idempotency-Key", common::key())
}

#[tokio::test]
async fn standalone_server_runs_create_approve_capture_and_get() {
    let (base, _srv) = start(SimConfig::default()).await;
    let http = client();
    let t = token(&http, &base).await;
    let r = common::reference("hyper");
    let created = api(
        &http,
        Method::POST,
        format!("{base}/epayment/v1/payments"),
        &t,
    )
    .json(&common::web_body(&r, 1000))
    .send()
    .await
    .unwrap();
    assert_eq!(created.status(), 201);
    let url = created.json::<serde_json::Value>().await.unwrap()["redirectUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        url.starts_with(&base),
        "redirectUrl points at this server: {url}"
    );
    let ap = api(
        &http,
        Method::POST,
        format!("{base}/epayment/v1/test/payments/{r}/approve"),
        &t,
    )
    .json(&json!({ "customer": { "phoneNumber": common::USER } }))
    .send()
    .await
    .unwrap();
    assert_eq!(ap.status(), 200);
    let cap = api(
        &http,
        Method::POST,
        format!("{base}/epayment/v1/payments/{r}/capture"),
        &t,
    )
    .json(&json!({ "modificationAmount": common::amount(400) }))
    .send()
    .await
    .unwrap();
    assert_eq!(cap.status(), 200);
    let p: serde_json::Value = api(
        &http,
        Method::GET,
        format!("{base}/epayment/v1/payments/{r}"),
        &t,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(common::agg(&p), [1000, 400, 0, 0]);
}

#[tokio::test]
async fn standalone_server_answers_a_body_over_1_mb_with_a_400_problem() {
    let (base, _srv) = start(SimConfig::default()).await;
    let http = client();
    let t = token(&http, &base).await;
    let big = vec![b' '; 2 * 1024 * 1024];
    let resp = api(
        &http,
        Method::POST,
        format!("{base}/epayment/v1/payments"),
        &t,
    )
    .header("Content-Type", "application/json")
    .body(big)
    .send()
    .await;
    match resp {
        Ok(r) => assert_eq!(r.status(), 400),
        // Closing the connection after answering early is allowed if the 400 was sent;
        // a reset before any answer is not.
        Err(e) => panic!("no answer to an over-long body: {e}"),
    }
}

#[tokio::test]
async fn standalone_server_refuses_control_when_started_without_it() {
    let (base, _srv) = start(SimConfig {
        control_enabled: false,
        ..SimConfig::default()
    })
    .await;
    let resp = client()
        .get(format!("{base}/__sim/journal"))
        .send()
        .await
        .unwrap();
    assert!(matches!(resp.status().as_u16(), 403 | 404));
}

#[tokio::test]
async fn standalone_server_really_drops_the_connection_after_the_effect() {
    let (base, _srv) = start(SimConfig::default()).await;
    let http = client();
    let t = token(&http, &base).await;
    let r = common::reference("drop");
    let created = api(
        &http,
        Method::POST,
        format!("{base}/epayment/v1/payments"),
        &t,
    )
    .json(&common::web_body(&r, 1000))
    .send()
    .await
    .unwrap();
    assert_eq!(created.status(), 201);
    let ap = http
        .post(format!("{base}/__sim/payments/{r}/approve"))
        .header("Merchant-Serial-Number", common::MSN)
        .send()
        .await
        .unwrap();
    assert_eq!(ap.status(), 200);
    let f = http
        .post(format!("{base}/__sim/faults"))
        .json(&json!({ "method": "POST", "path": "/epayment/v1/payments/*/capture", "times": 1, "kind": "drop_after_effect" }))
        .send()
        .await
        .unwrap();
    assert!(f.status().is_success());
    let started = std::time::Instant::now();
    let dropped = api(
        &http,
        Method::POST,
        format!("{base}/epayment/v1/payments/{r}/capture"),
        &t,
    )
    .json(&json!({ "modificationAmount": common::amount(300) }))
    .timeout(std::time::Duration::from_secs(10))
    .send()
    .await;
    assert!(dropped.is_err(), "no answer");
    assert!(
        started.elapsed().as_secs() < 5,
        "dropped at once, not a timeout"
    );
    let p: serde_json::Value = api(
        &http,
        Method::GET,
        format!("{base}/epayment/v1/payments/{r}"),
        &t,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(common::agg(&p)[1], 300, "the capture took effect");
}

#[tokio::test]
async fn standalone_server_serves_64_concurrent_clients() {
    let (base, _srv) = start(SimConfig {
        rate_limits: false,
        ..SimConfig::default()
    })
    .await;
    let http = client();
    let t = token(&http, &base).await;
    let r = common::reference("many");
    let created = api(
        &http,
        Method::POST,
        format!("{base}/epayment/v1/payments"),
        &t,
    )
    .json(&common::web_body(&r, 1000))
    .send()
    .await
    .unwrap();
    assert_eq!(created.status(), 201);
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (http, url, t) = (
                client(),
                format!("{base}/epayment/v1/payments/{r}"),
                t.clone(),
            );
            tokio::spawn(async move {
                let mut ok = 0;
                for _ in 0..10 {
                    let resp = api(&http, Method::GET, url.clone(), &t)
                        .send()
                        .await
                        .unwrap();
                    if resp.status() == 200 {
                        ok += 1;
                    }
                }
                ok
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(
        total, 640,
        "every request of 64 concurrent clients answered 200"
    );
}

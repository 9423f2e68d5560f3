//! The simulator's processing time (`SimConfig::processing`, `--processing-ms`)
//! drives the client's 423 retry (issue 14 point 6): a capture sent while
//! another one is being processed gets 423 (6160) with Retry-After, and the
//! client retries with the same Idempotency-Key once the time has passed on
//! the clock it shares with the simulator.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use url::Url;
use vipps_golive::api::{Amount, Client, ClientOptions, Currency, RetryPolicy};
use vipps_golive::config::{Credentials, SystemHeaders};
use vipps_golive::evidence::MemoryRecorder;
use vipps_golive::simulator::mock::SimServer;
use vipps_golive::simulator::{SimConfig, Simulator};
use vipps_golive::Secret;

const MSN: &str = "123456";

fn client_for(server: &SimServer, recorder: Arc<MemoryRecorder>) -> Client {
    let clock = server.simulator().clock();
    let mut o = ClientOptions::new(
        Url::parse(&server.uri()).expect("url"),
        Credentials {
            client_id: Secret::new("sim-client-id-123456"),
            client_secret: Secret::new("sim-client-secret-123456"),
            subscription_key: Secret::new("sim-subscription-key-123456"),
            msn: MSN.into(),
        },
        clock,
        recorder,
    );
    o.system = SystemHeaders {
        system_name: "acme-shop".into(),
        system_version: "3.1.2".into(),
        plugin_name: "acme-vipps".into(),
        plugin_version: "4.5.6".into(),
    };
    o.retry = RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(500),
        max_backoff: Duration::from_secs(30),
        max_retry_after: Duration::from_secs(120),
        jitter: false,
    };
    Client::new(o).expect("client")
}

#[tokio::test]
async fn the_client_retries_a_423_from_a_busy_payment_with_the_same_key() {
    let processing = Duration::from_secs(5);
    let sim = Simulator::new(SimConfig {
        rate_limits: false,
        processing,
        ..SimConfig::default()
    });
    let server = SimServer::start_on(sim).await;
    let recorder = MemoryRecorder::new();
    let client = client_for(&server, recorder.clone());

    let reference = format!("busy-{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    let mut create = vipps_golive::api::CreatePaymentRequest::new(
        Amount::new(Currency::NOK, 1000),
        reference.clone(),
        vipps_golive::api::UserFlow::WebRedirect,
    );
    create.return_url = Some("https://shop.example/return".into());
    client.create_payment(&create).await.expect("create");
    client
        .force_approve(
            &reference,
            &vipps_golive::api::epayment::ForceApproveRequest {
                customer: Some(vipps_golive::api::epayment::Customer::phone("4791234567")),
                token: None,
            },
        )
        .await
        .expect("approve");

    // Another system of the shop captures first, over plain HTTP: its answer
    // waits for the processing time; its effect is there at once.
    let first = {
        let token: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/accesstoken/get", server.uri()))
            .header("client_id", "sim-client-id-123456")
            .header("client_secret", "sim-client-secret-123456")
            .header("Ocp-Apim-Subscription-Key", "sim-subscription-key-123456")
            .header("Merchant-Serial-Number", MSN)
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token json");
        let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap_or(""));
        reqwest::Client::new()
            .post(format!(
                "{}/epayment/v1/payments/{reference}/capture",
                server.uri()
            ))
            .header("Authorization", bearer)
            .header("Ocp-Apim-Subscription-Key", "sim-subscription-key-123456")
            .header("Merchant-Serial-Number", MSN)
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
            .json(&json!({ "modificationAmount": { "currency": "NOK", "value": 300 } }))
            .send()
    };
    let second = async {
        for _ in 0..500 {
            let p = client.get_payment(&reference).await.expect("get");
            if p.aggregate.captured_amount.value == 300 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        client
            .capture_payment(&reference, Amount::new(Currency::NOK, 200))
            .await
    };
    let (first, second) = tokio::join!(first, second);
    assert_eq!(first.expect("first capture").status().as_u16(), 200);
    let second = second.expect("the client's capture succeeds after retrying");
    assert_eq!(second.aggregate.captured_amount.value, 500);

    let captures: Vec<_> = recorder
        .exchanges()
        .into_iter()
        .filter(|e| e.method == "POST" && e.url.ends_with("/capture"))
        .collect();
    let statuses: Vec<Option<u16>> = captures.iter().map(|e| e.status).collect();
    assert_eq!(statuses.first(), Some(&Some(423)), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&Some(200)), "{statuses:?}");
    let keys: Vec<String> = captures
        .iter()
        .map(|e| {
            e.request_headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("idempotency-key"))
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        })
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] == w[1]),
        "one key for every attempt: {keys:?}"
    );
    let body = &captures[0].response_body;
    assert_eq!(body["extraDetails"][0]["reason"], "6160", "{body}");
}

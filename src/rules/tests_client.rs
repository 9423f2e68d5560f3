//! The rules judge the harness's own client the way `run` will: its traffic
//! against the embedded simulator breaks none of the QA-HEADERS, PF-REFERENCE
//! and PF-POLLING rules, and a hand-broken copy of that traffic is caught.

use crate::api::{
    Amount, Client, ClientOptions, CreatePaymentRequest, Customer, ForceApproveRequest,
    PollOptions, ReferenceGenerator, UserFlow,
};
use crate::clock::VirtualClock;
use crate::config::Credentials;
use crate::evidence::model::{Severity, Verdict};
use crate::evidence::{Exchange, MemoryRecorder};
use crate::rules::{judge, verdict, RuleOptions};
use crate::simulator::{mock::SimServer, SimConfig, Simulator};

async fn client_traffic() -> Vec<Exchange> {
    let clock = VirtualClock::new();
    let server =
        SimServer::start_on(Simulator::with_clock(SimConfig::default(), clock.clone())).await;
    let credentials = Credentials {
        client_id: "sim-client-id-123456".into(),
        client_secret: "sim-client-secret-123456".into(),
        subscription_key: "sim-subscription-key-123456".into(),
        msn: "123456".into(),
    };
    let recorder = MemoryRecorder::new();
    let client = Client::new(ClientOptions::new(
        server.uri().parse().unwrap(),
        credentials,
        clock,
        recorder.clone(),
    ))
    .unwrap();
    let references = ReferenceGenerator::new("golive-rules");
    for _ in 0..3 {
        let reference = references.fresh();
        let request =
            CreatePaymentRequest::new(Amount::nok(10_000), &reference, UserFlow::WebRedirect)
                .return_url(format!("https://shop.example/return?reference={reference}"))
                .description("Rules");
        let created = client.create_payment(&request).await.unwrap();
        client
            .force_approve(
                &reference,
                &ForceApproveRequest {
                    customer: Some(Customer::phone("4791234567")),
                    token: created.approve_token(),
                },
            )
            .await
            .unwrap();
        client
            .poll_until_final(&reference, &PollOptions::default())
            .await
            .unwrap();
        client
            .capture_payment(&reference, Amount::nok(4_000))
            .await
            .unwrap();
        client.get_payment(&reference).await.unwrap();
    }
    recorder.exchanges()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_harness_client_breaks_no_rule_on_its_own_traffic() {
    let exchanges = client_traffic().await;

    let findings = judge(&exchanges, RuleOptions::default());

    let serious: Vec<_> = findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
        .collect();
    assert!(serious.is_empty(), "{serious:#?}");
    for id in ["QA-HEADERS", "PF-REFERENCE", "PF-POLLING", "PF-REDIRECTS"] {
        assert_eq!(verdict(&findings, id), None, "{id}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_traffic_with_a_header_dropped_fails_qa_headers() {
    let mut exchanges = client_traffic().await;
    for e in &mut exchanges {
        e.request_headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("Vipps-System-Version"));
    }

    let findings = judge(&exchanges, RuleOptions::default());

    assert_eq!(verdict(&findings, "QA-HEADERS"), Some(Verdict::Fail));
    // Ten listed with their exchange, the rest counted in one line.
    let missing: Vec<_> = findings
        .iter()
        .filter(|f| f.rule == "headers.missing")
        .collect();
    assert_eq!(missing.iter().filter(|f| f.exchange.is_some()).count(), 10);
    assert!(missing
        .iter()
        .any(|f| f.exchange.is_none() && f.message.contains("more exchanges")));
}

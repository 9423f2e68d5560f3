//! Every request carries the required headers; every POST an Idempotency-Key;
//! every endpoint is reached with the right method, path and body; nothing
//! secret reaches the logs.

use crate::client_support;

use client_support::*;
use serde_json::json;
use vipps_golive::api::webhooks::RegisterWebhook;
use vipps_golive::api::Amount;

#[tokio::test]
async fn every_business_request_carries_auth_subscription_msn_and_system_headers() {
    let h = harness().await;
    mount_every_endpoint(&h.server).await;

    call_every_endpoint(&h).await;

    let reqs = h.business_requests().await;
    assert_eq!(reqs.len(), 18, "4 creates + 14 other operations");
    for r in &reqs {
        let at = format!("{} {}", r.method, r.url.path());
        assert_eq!(
            header(r, "authorization"),
            Some(&*format!("Bearer {ACCESS_TOKEN}")),
            "{at}"
        );
        assert_eq!(
            header(r, "ocp-apim-subscription-key"),
            Some(SUBSCRIPTION_KEY),
            "{at}"
        );
        assert_eq!(header(r, "merchant-serial-number"), Some(MSN), "{at}");
        assert_eq!(header(r, "vipps-system-name"), Some("acme-shop"), "{at}");
        assert_eq!(header(r, "vipps-system-version"), Some("3.1.2"), "{at}");
        assert_eq!(
            header(r, "vipps-system-plugin-name"),
            Some("acme-vipps"),
            "{at}"
        );
        assert_eq!(
            header(r, "vipps-system-plugin-version"),
            Some("4.5.6"),
            "{at}"
        );
        if r.method.as_str() == "POST" {
            let key = header(r, "idempotency-key")
                .unwrap_or_else(|| panic!("no Idempotency-Key on {at}"));
            assert!(!key.is_empty() && key.len() <= 50, "{at}: {key}");
        }
    }
}

#[tokio::test]
async fn every_post_gets_its_own_idempotency_key() {
    let h = harness().await;
    mount_every_endpoint(&h.server).await;

    call_every_endpoint(&h).await;

    let keys: Vec<String> = h
        .business_requests()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .map(|r| header(r, "idempotency-key").unwrap_or_default().to_owned())
        .collect();
    let unique: std::collections::HashSet<_> = keys.iter().collect();
    assert_eq!(
        keys.len(),
        12,
        "4 creates, 2 cancels, capture, refund, approve, image, receipt, webhook"
    );
    assert_eq!(
        unique.len(),
        keys.len(),
        "a key was reused across operations: {keys:?}"
    );
}

#[tokio::test]
async fn token_request_sends_credentials_headers_and_an_empty_body() {
    let h = harness().await;
    mount_every_endpoint(&h.server).await;

    h.client.get_payment(REF).await.unwrap();

    let t = h.token_requests().await;
    assert_eq!(t.len(), 1);
    let r = &t[0];
    assert_eq!(r.method.as_str(), "POST");
    assert_eq!(header(r, "client_id"), Some(CLIENT_ID));
    assert_eq!(header(r, "client_secret"), Some(CLIENT_SECRET));
    assert_eq!(
        header(r, "ocp-apim-subscription-key"),
        Some(SUBSCRIPTION_KEY)
    );
    assert_eq!(header(r, "merchant-serial-number"), Some(MSN));
    assert_eq!(header(r, "vipps-system-name"), Some("acme-shop"));
    assert!(r.body.is_empty());
    assert!(header(r, "authorization").is_none());
}

#[tokio::test]
async fn request_bodies_follow_the_api_shapes() {
    let h = harness().await;
    mount_every_endpoint(&h.server).await;

    call_every_endpoint(&h).await;

    let reqs = h.business_requests().await;
    let bodies_at = |p: &str| -> Vec<serde_json::Value> {
        reqs.iter()
            .filter(|r| r.url.path() == p)
            .map(|r| serde_json::from_slice(&r.body).unwrap_or(serde_json::Value::Null))
            .collect()
    };
    let creates = bodies_at("/epayment/v1/payments");
    assert_eq!(creates.len(), 4);
    let push = creates
        .iter()
        .find(|b| b["userFlow"] == "PUSH_MESSAGE")
        .unwrap();
    assert_eq!(push["customer"], json!({"phoneNumber": "4791234567"}));
    assert!(push.get("returnUrl").is_none(), "None fields are left out");
    let qr = creates.iter().find(|b| b["userFlow"] == "QR").unwrap();
    assert_eq!(qr["qrFormat"], json!({"format": "IMAGE/SVG+XML"}));
    assert_eq!(creates[0]["paymentMethod"], json!({"type": "WALLET"}));

    let cancels: Vec<_> = reqs
        .iter()
        .filter(|r| r.url.path().ends_with("/cancel"))
        .collect();
    assert!(cancels[0].body.is_empty(), "plain cancel sends no body");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&cancels[1].body).unwrap(),
        json!({"cancelTransactionOnly": true})
    );
    assert_eq!(
        bodies_at(&format!("/epayment/v1/payments/{REF}/capture"))[0],
        json!({"modificationAmount": {"currency": "NOK", "value": 10000}})
    );
    assert_eq!(
        bodies_at(&format!("/epayment/v1/test/payments/{REF}/approve"))[0],
        json!({"customer": {"phoneNumber": "4791234567"}, "token": "eyJ.t.k"})
    );
    assert_eq!(
        bodies_at("/order-management/v1/images")[0]["type"],
        "base64"
    );
    assert_eq!(
        bodies_at(&format!("/order-management/v2/ecom/receipts/{REF}"))[0]["orderLines"][0]
            ["taxRate"],
        2500
    );
}

#[tokio::test]
async fn registered_webhook_secret_is_a_secret_and_listing_reads_every_field() {
    let h = harness().await;
    mount_every_endpoint(&h.server).await;

    let reg = h
        .client
        .register_webhook(&RegisterWebhook {
            url: "https://shop.example/hook".into(),
            events: vec!["epayments.payment.captured.v1".into()],
        })
        .await
        .unwrap();
    let list = h.client.list_webhooks().await.unwrap();

    assert_eq!(reg.secret.expose(), "planted-webhook-secret-1234");
    assert!(!format!("{reg:?}").contains("planted-webhook-secret"));
    assert_eq!(list[0].events, vec!["epayments.payment.captured.v1"]);
}

#[tokio::test]
async fn recorder_sees_every_request_with_tags_and_reference() {
    let h = harness().await;
    mount_every_endpoint(&h.server).await;

    h.client
        .tagged(&["EP-CAPTURE"], Some("partial capture"))
        .capture_payment(REF, Amount::nok(100))
        .await
        .unwrap();

    let ex = h.recorder.exchanges();
    assert_eq!(ex.len(), 2, "token and capture: {ex:?}");
    let capture = ex.iter().find(|e| e.url.ends_with("/capture")).unwrap();
    assert_eq!(capture.checklist_ids, vec!["EP-CAPTURE"]);
    assert_eq!(capture.scenario.as_deref(), Some("partial capture"));
    assert_eq!(capture.reference.as_deref(), Some(REF));
    assert_eq!(capture.attempt, 1);
    assert_eq!(capture.status, Some(200));
}

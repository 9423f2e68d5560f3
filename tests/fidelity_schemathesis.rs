//! What Schemathesis found with the official specs (issue 23 point 4,
//! `scripts/schemathesis.sh`), one raw-HTTP test per fix, each failing before
//! it: requests the specs declare invalid that the simulator accepted.

use crate::common;

use common::*;
use reqwest::Method;
use serde_json::json;

const SYSTEM_HEADERS: [&str; 4] = [
    "Vipps-System-Name",
    "Vipps-System-Version",
    "Vipps-System-Plugin-Name",
    "Vipps-System-Plugin-Version",
];

fn token_call() -> Call {
    Call::new(Method::POST, "/accesstoken/get")
        .header("client_id", CLIENT_ID)
        .header("client_secret", CLIENT_SECRET)
        .header("Ocp-Apim-Subscription-Key", SUB_KEY)
}

/// The token and Webhooks specs declare every `Vipps-System-*` header
/// `maxLength: 30`, as ePayment does; 31 characters were accepted.
#[tokio::test]
async fn token_and_webhooks_refuse_a_vipps_system_header_over_30_characters() {
    let sim = Sim::start().await;
    for name in SYSTEM_HEADERS {
        let r = sim.send(token_call().header(name, "x".repeat(31))).await;
        assert_problem(&r, 400, None);
        assert!(r.text.contains(name), "names the header: {}", r.brief());
        sim.send(token_call().header(name, "x".repeat(30)))
            .await
            .assert_status(200);

        let calls = [
            sim.api(Method::GET, "/webhooks/v1/webhooks").await,
            sim.api(Method::POST, "/webhooks/v1/webhooks")
                .await
                .without("Idempotency-Key")
                .json(&json!({ "url": "https://example.com/hook", "events": ["epayments.payment.captured.v1"] })),
            sim.api(
                Method::DELETE,
                format!("/webhooks/v1/webhooks/{}", uuid::Uuid::new_v4()),
            )
            .await,
        ];
        for call in calls {
            let r = sim.send(call.header(name, "x".repeat(31))).await;
            assert_problem(&r, 400, None);
            assert!(r.text.contains(name), "names the header: {}", r.brief());
        }
    }
    let ok = sim
        .send(
            sim.api(Method::GET, "/webhooks/v1/webhooks")
                .await
                .header("Vipps-System-Name", "x".repeat(30)),
        )
        .await;
    ok.assert_status(200);
}

/// The Order Management spec declares them `maxLength: 100`; 101 characters
/// were accepted. The answer is the OM ErrorResponse naming the header.
#[tokio::test]
async fn order_management_refuses_a_vipps_system_header_over_100_characters() {
    let sim = Sim::start().await;
    let path = "/order-management/v3/categories?orderId=schemathesis-1";
    for name in SYSTEM_HEADERS {
        let r = sim
            .send(
                sim.api(Method::GET, path)
                    .await
                    .header(name, "x".repeat(101)),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.brief());
        assert_eq!(
            r.json()["invalidParams"][0]["name"],
            json!(name),
            "{}",
            r.brief()
        );
        sim.send(
            sim.api(Method::GET, path)
                .await
                .header(name, "x".repeat(100)),
        )
        .await
        .assert_status(200);
    }
}

/// The token spec's optional `Merchant-Serial-Number` (`^[0-9]{4,6}$`): a
/// malformed one, or another unit's, was ignored and a token issued.
#[tokio::test]
async fn token_call_with_an_msn_that_is_not_the_clients_own_gets_403() {
    let sim = Sim::start().await;
    for msn in ["aaaaaaa", "1234567", MSN_2, ""] {
        let r = sim
            .send(token_call().header("Merchant-Serial-Number", msn))
            .await;
        assert_problem(&r, 403, None);
        assert_eq!(r.json()["title"], "Invalid MSN", "{}", r.brief());
    }
    sim.send(token_call().header("Merchant-Serial-Number", MSN))
        .await
        .assert_status(200);
    sim.send(token_call()).await.assert_status(200);
}

/// The Webhooks spec's `RegisterRequest` is `additionalProperties: false`; a
/// body with an unknown property was registered.
#[tokio::test]
async fn webhook_registration_with_an_unknown_property_is_refused() {
    let sim = Sim::start().await;
    let body = json!({
        "url": "https://example.com/hook",
        "events": ["epayments.payment.captured.v1"],
        "secret": "chosen-by-the-shop",
    });
    let r = sim
        .send(
            sim.api(Method::POST, "/webhooks/v1/webhooks")
                .await
                .without("Idempotency-Key")
                .json(&body),
        )
        .await;
    assert_problem(&r, 400, None);
    assert!(
        r.text.contains("secret"),
        "names the property: {}",
        r.brief()
    );
    let listed = sim
        .send(sim.api(Method::GET, "/webhooks/v1/webhooks").await)
        .await;
    assert_eq!(listed.json()["webhooks"], json!([]), "{}", listed.brief());
}

/// Order Management v3's `AddCategoryRequest.imageId` is a string, not
/// nullable (v2's `Order.imageId` is `nullable: true`); `"imageId": null`
/// created a category.
#[tokio::test]
async fn v3_category_with_a_null_image_id_is_refused() {
    let sim = Sim::start().await;
    let body = json!({
        "orderId": "schemathesis-2",
        "paymentType": "ECOM",
        "type": "RECEIPT",
        "url": "https://www.example.com",
        "imageId": null,
    });
    let r = sim
        .send(
            sim.api(Method::POST, "/order-management/v3/categories")
                .await
                .without("Idempotency-Key")
                .json(&body),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.brief());
    assert_eq!(
        r.json()["invalidParams"][0]["name"],
        "ImageId",
        "{}",
        r.brief()
    );
    let mut without = body.clone();
    without.as_object_mut().map(|m| m.remove("imageId"));
    sim.send(
        sim.api(Method::POST, "/order-management/v3/categories")
            .await
            .without("Idempotency-Key")
            .json(&without),
    )
    .await
    .assert_status(201);
}

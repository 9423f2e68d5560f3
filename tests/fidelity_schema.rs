//! Schema validation: the official OpenAPI specs load, the converted schemas
//! accept the spec-shaped examples of behaviour.md and reject broken ones, and
//! one walk over every endpoint validates each response body.
//!
//! Every other fidelity test validates its responses too (common::Sim::send);
//! this file proves the validator is not vacuous and prints the tally.

use crate::common;

use common::schema::{self, Lookup};
use common::*;
use reqwest::Method;
use serde_json::json;

fn specs_or_skip(test: &str) -> bool {
    match schema::availability() {
        Ok(()) => true,
        Err(why) => {
            eprintln!("SKIPPED {test}: {why}");
            false
        }
    }
}

#[test]
fn official_specs_load_or_the_reason_for_skipping_is_printed() {
    match schema::availability() {
        Ok(()) => {
            for (m, p, s) in [
                ("POST", "/epayment/v1/payments", 201),
                ("GET", "/epayment/v1/payments/abcdefgh1", 200),
                ("POST", "/accesstoken/get", 200),
                ("GET", "/webhooks/v1/webhooks", 200),
                ("PUT", "/order-management/v2/ecom/categories/abcdefgh1", 200),
            ] {
                assert!(
                    matches!(schema::lookup(m, p, s), Some(Lookup::Schema { .. })),
                    "{m} {p} {s} has a schema"
                );
            }
        }
        Err(why) => eprintln!("SKIPPED schema validation: {why}"),
    }
}

#[test]
fn path_templates_resolve_to_the_declared_responses() {
    if !specs_or_skip("path templates") {
        return;
    }
    assert!(matches!(
        schema::lookup("POST", "/epayment/v1/test/payments/abcdefgh1/approve", 200),
        Some(Lookup::NoContent { .. })
    ));
    assert!(matches!(
        schema::lookup("GET", "/epayment/v1/payments/abcdefgh1", 404),
        Some(Lookup::Undeclared { .. })
    ));
    assert!(matches!(
        schema::lookup(
            "DELETE",
            "/webhooks/v1/webhooks/7d3e2b10-4c5f-4a8e-9f61-0b2c3d4e5f60",
            204
        ),
        Some(Lookup::NoContent { .. })
    ));
    assert_eq!(
        schema::lookup("GET", "/__sim/clock", 200),
        Some(Lookup::NotAnApi)
    );
    // Order Management: the receipts path, not the `{paymentType}/{orderId}` one.
    match schema::lookup("POST", "/order-management/v2/ECOM/receipts/abc-123", 201) {
        Some(Lookup::Schema { template, .. }) => {
            assert_eq!(template, "/v2/{paymentType}/receipts/{orderId}")
        }
        other => panic!("unexpected lookup {other:?}"),
    }
}

#[test]
fn get_payment_example_of_behaviour_md_validates_and_a_broken_one_does_not() {
    if !specs_or_skip("GetPaymentResponse") {
        return;
    }
    let good = json!({
        "aggregate": {
            "authorizedAmount": { "currency": "NOK", "value": 24900 },
            "cancelledAmount":  { "currency": "NOK", "value": 0 },
            "capturedAmount":   { "currency": "NOK", "value": 10000 },
            "refundedAmount":   { "currency": "NOK", "value": 0 }
        },
        "amount": { "currency": "NOK", "value": 24900 },
        "state": "AUTHORIZED",
        "paymentMethod": { "type": "WALLET" },
        "profile": {},
        "pspReference": "4f0e7c1a-2b7d-4e52-9a0e-31c5a7d0be11",
        "reference": "shop42-order-7781-a",
        "metadata": { "cartId": "c-991" }
    });
    assert_eq!(
        schema::validate_named("epayment", "GetPaymentResponse", &good),
        Ok(())
    );
    for broken in [
        json!({ "state": "CAPTURED" }), // an event name, never a state
        json!({ "profile": null }),     // profile is always an object
        json!({ "amount": { "currency": "SEK", "value": 1 } }),
        json!({ "reference": "short" }),
    ] {
        let mut b = good.clone();
        for (k, v) in broken.as_object().unwrap() {
            b[k] = v.clone();
        }
        assert!(
            schema::validate_named("epayment", "GetPaymentResponse", &b).is_err(),
            "{broken} rejected"
        );
    }
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("aggregate");
    assert!(schema::validate_named("epayment", "GetPaymentResponse", &missing).is_err());
}

#[test]
fn payment_event_quirk_requires_name_instead_of_the_removed_payment_action() {
    if !specs_or_skip("PaymentEvent") {
        return;
    }
    let event = json!({
        "reference": "shop42-order-7781-a", "pspReference": "2107715530", "name": "AUTHORIZED",
        "amount": { "currency": "NOK", "value": 24900 }, "timestamp": "2024-05-02T09:14:41.870Z",
        "idempotencyKey": null, "success": true
    });
    assert_eq!(
        schema::validate_named("epayment", "PaymentEvent", &event),
        Ok(())
    );
    let mut no_name = event.clone();
    no_name.as_object_mut().unwrap().remove("name");
    assert!(schema::validate_named("epayment", "PaymentEvent", &no_name).is_err());
}

#[test]
fn receipt_ref_to_order_management_2_3_24_resolves_offline() {
    if !specs_or_skip("Receipt") {
        return;
    }
    // QUIRK(Customer oneOf): the three Customer alternatives declare no
    // `required`, so any customer object matches all three and `oneOf` fails.
    // It only concerns request bodies, which this suite does not validate.
    let mut with_receipt = web_body("shop42-order-7781-a", 24900);
    with_receipt.as_object_mut().unwrap().remove("customer");
    with_receipt["receipt"] = receipt(24900);
    assert_eq!(
        schema::validate_named("epayment", "CreatePaymentRequest", &with_receipt),
        Ok(())
    );
    with_receipt["receipt"]["orderLines"] = json!([{ "name": "Mug" }]);
    assert!(schema::validate_named("epayment", "CreatePaymentRequest", &with_receipt).is_err());
}

#[test]
fn token_webhook_and_order_management_examples_validate() {
    if !specs_or_skip("examples") {
        return;
    }
    let token = json!({
        "token_type": "Bearer", "expires_in": "3599", "ext_expires_in": "0",
        "expires_on": "1717000000", "not_before": "1716996400",
        "resource": "00000002-0000-0000-c000-000000000000", "access_token": "eyJ0eXAi.eyJ.sig"
    });
    assert_eq!(
        schema::validate_named("token", "AuthorizationTokenResponse", &token),
        Ok(())
    );
    let mut numeric = token.clone();
    numeric["expires_in"] = json!(3599);
    assert!(schema::validate_named("token", "AuthorizationTokenResponse", &numeric).is_err());

    let reg = json!({ "id": "7d3e2b10-4c5f-4a8e-9f61-0b2c3d4e5f60", "secret": "b9f1c0de" });
    assert_eq!(
        schema::validate_named("webhooks", "RegisterResponse", &reg),
        Ok(())
    );
    let extra = json!({ "id": "7d3e2b10-4c5f-4a8e-9f61-0b2c3d4e5f60", "secret": "s", "url": "x" });
    assert!(
        schema::validate_named("webhooks", "RegisterResponse", &extra).is_err(),
        "additionalProperties: false"
    );

    let hook = json!({ "msn": "123456", "reference": "shop42-order-7781-a", "pspReference": "2107715530",
        "name": "AUTHORIZED", "amount": { "currency": "NOK", "value": 24900 },
        "timestamp": "2024-05-02T09:14:41.870Z", "idempotencyKey": "k", "success": true });
    assert_eq!(
        schema::validate_named("epayment", "WebhookEvent", &hook),
        Ok(())
    );
    let order = json!({ "category": "GENERAL", "orderDetailsUrl": "https://shop.example/o/1" });
    assert_eq!(
        schema::validate_named("order-management", "Order", &order),
        Ok(())
    );
}

/// One walk over every endpoint; every body must validate. Prints the tally.
#[tokio::test]
async fn every_endpoint_answers_bodies_that_validate_against_the_official_schemas() {
    if !specs_or_skip("endpoint walk") {
        return;
    }
    let sim = Sim::start_unlimited().await;
    let mut failures = Vec::new();
    let mut check = |r: &Resp| {
        if let Err(v) = schema::check(r) {
            failures.push(format!("{} {} -> {}: {v:?}", r.method, r.path, r.status));
        }
    };
    let send = |c: Call| {
        let sim = &sim;
        async move { sim.send_unchecked(c).await }
    };

    check(&sim.token_resp(UNIT).await);
    for flow in ["WEB_REDIRECT", "NATIVE_REDIRECT", "QR", "PUSH_MESSAGE"] {
        let r = reference("schema");
        let mut body = web_body(&r, 1000);
        body["userFlow"] = json!(flow);
        let c = sim
            .api(Method::POST, "/epayment/v1/payments")
            .await
            .json(&body);
        check(&send(c).await);
    }
    let r = sim.authorized(24900).await;
    check(&sim.get(&r).await);
    let c = sim
        .api(Method::GET, format!("/epayment/v1/payments/{r}/events"))
        .await;
    check(&send(c).await);
    check(&sim.capture(&r, 10000).await);
    check(&sim.refund(&r, 5000).await);
    check(&sim.cancel(&r).await);
    check(&sim.capture(&r, 1).await); // a Problem (400) after cancel
    let c = sim
        .api(Method::GET, format!("/epayment/v1/payments/{r}/events"))
        .await;
    check(&send(c).await);

    let hook = sim
        .api(Method::POST, "/webhooks/v1/webhooks")
        .await
        .json(&json!({ "url": "https://shop.example/hooks", "events": ["epayments.payment.captured.v1"] }));
    let reg = send(hook).await;
    check(&reg);
    check(&send(sim.api(Method::GET, "/webhooks/v1/webhooks").await).await);
    if let Some(id) = reg.json()["id"].as_str() {
        check(
            &send(
                sim.api(Method::DELETE, format!("/webhooks/v1/webhooks/{id}"))
                    .await,
            )
            .await,
        );
    }
    let bad_hook = sim
        .api(Method::POST, "/webhooks/v1/webhooks")
        .await
        .json(&json!({ "url": "not a url", "events": [] }));
    check(&send(bad_hook).await);

    let order = reference("om");
    use base64::Engine as _;
    let img = base64::engine::general_purpose::STANDARD.encode(png::grey(200, 200));
    let image_id = reference("img");
    check(
        &send(
            sim.api(Method::POST, "/order-management/v1/images")
                .await
                .json(&json!({ "imageId": image_id, "src": img, "type": "base64" })),
        )
        .await,
    );
    check(&send(sim.api(Method::PUT, format!("/order-management/v2/ecom/categories/{order}")).await.json(
        &json!({ "category": "GENERAL", "orderDetailsUrl": "https://shop.example/o/1", "imageId": image_id }),
    )).await);
    check(
        &send(
            sim.api(
                Method::POST,
                format!("/order-management/v2/ecom/receipts/{order}"),
            )
            .await
            .json(&receipt(1000)),
        )
        .await,
    );
    check(
        &send(
            sim.api(Method::GET, format!("/order-management/v2/ecom/{order}"))
                .await,
        )
        .await,
    );

    let t = schema::tally();
    eprintln!(
        "schema tally: {} responses validated; undeclared statuses seen: {:?}",
        t.validated, t.undeclared
    );
    assert!(
        failures.is_empty(),
        "schema violations:\n{}",
        failures.join("\n")
    );
}

//! Every error shape the APIs send becomes one typed `ApiError` that keeps
//! what was said and explains it; force approve never leaves for production.

use crate::client_support;

use client_support::*;
use serde_json::json;
use vipps_golive::api::epayment::ForceApproveRequest;
use vipps_golive::api::{Amount, ApiError, ErrorBody};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_problem_keeps_title_detail_trace_id_instance_and_error_code() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(format!("/epayment/v1/payments/{REF}/capture")))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("content-type", "application/problem+json")
                .set_body_json(json!({
                    "type": "https://httpstatuses.io/400",
                    "title": "Capture amount too high",
                    "detail": "The total capture amount exceeds the reserved amount.",
                    "instance": format!("/v1/payments/{REF}/capture"),
                    "status": 400,
                    "traceId": "00-6a1f0c2b9d8e47a5b3c2d1e0f9a8b7c6-1a2b3c4d5e6f7a8b-01",
                    "extraDetails": [{"name": "ErrorCode", "reason": "6090"}]
                })),
        )
        .mount(&h.server)
        .await;

    let err = h
        .client
        .capture_payment(REF, Amount::nok(99999))
        .await
        .unwrap_err();

    assert_eq!(err.status(), Some(400));
    assert_eq!(err.error_code(), Some(6090));
    assert_eq!(
        err.trace_id(),
        Some("00-6a1f0c2b9d8e47a5b3c2d1e0f9a8b7c6-1a2b3c4d5e6f7a8b-01")
    );
    let p = err.problem().unwrap();
    assert_eq!(p.title.as_deref(), Some("Capture amount too high"));
    assert_eq!(
        p.instance.as_deref(),
        Some(format!("/v1/payments/{REF}/capture").as_str())
    );
    assert!(err.explain().contains("capture at most"));
    assert!(err.to_string().contains("ErrorCode 6090"), "{err}");
    assert!(!err.is_unreachable() && !err.is_credentials_refused() && !err.is_transient());
}

#[tokio::test]
async fn a_validation_problem_keeps_its_field_errors() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/epayment/v1/payments"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "type": "https://httpstatuses.io/400", "title": "Bad Request", "status": 400,
            "detail": "One or more validation errors occurred.", "traceId": "00-0d4c-01",
            "extraDetails": [{"name": "Reference", "reason": "The field Reference must match the regular expression '^[a-zA-Z0-9-]{8,50}$'."}]
        })))
        .mount(&h.server)
        .await;

    let err = h
        .client
        .create_payment(&vipps_golive::api::CreatePaymentRequest::new(
            Amount::nok(1000),
            "bad ref",
            vipps_golive::api::UserFlow::Qr,
        ))
        .await
        .unwrap_err();

    assert_eq!(err.error_code(), None);
    let fields = err.problem().unwrap().field_errors();
    assert_eq!(fields[0].0, "Reference");
    assert!(err.explain().contains("invalid"));
}

#[tokio::test]
async fn the_gateway_shape_is_kept_and_explained_by_status() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path(format!("/epayment/v1/payments/{REF}")))
        .respond_with(ResponseTemplate::new(403).set_body_json(
            json!({"statusCode": 403, "message": "Merchant Not Allowed for Ecommerce Payment"}),
        ))
        .mount(&h.server)
        .await;

    let err = h.client.get_payment(REF).await.unwrap_err();

    let Some(ErrorBody::Gateway(g)) = err.body() else {
        panic!("{err:?}")
    };
    assert_eq!(g.status_code, Some(403));
    assert_eq!(
        g.message.as_deref(),
        Some("Merchant Not Allowed for Ecommerce Payment")
    );
    assert!(err.explain().contains("not allowed"));
    assert!(err.is_credentials_refused());
}

#[tokio::test]
async fn an_aad_token_error_is_kept_and_refuses_the_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/accesstoken/get"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "unauthorized_client",
            "error_description": "AADSTS700016: Application with identifier 'x' was not found in the directory 'y'.",
            "error_codes": [700016],
            "timestamp": "2021-03-23 06:46:31Z",
            "trace_id": "3c1a-trace",
            "correlation_id": "9b2e"
        })))
        .mount(&server)
        .await;
    let clock = vipps_golive::clock::VirtualClock::new();
    let client = vipps_golive::api::Client::new(options(
        url::Url::parse(&server.uri()).unwrap(),
        clock,
        vipps_golive::evidence::MemoryRecorder::new(),
    ))
    .unwrap();

    let err = client.get_payment(REF).await.unwrap_err();

    let Some(ErrorBody::Token(t)) = err.body() else {
        panic!("{err:?}")
    };
    assert_eq!(t.error, "unauthorized_client");
    assert_eq!(t.error_codes.as_deref(), Some(&[700016][..]));
    assert_eq!(err.trace_id(), Some("3c1a-trace"));
    assert!(err.is_credentials_refused());
    assert!(err.explain().contains("client_id"));
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "no business call after a refused token"
    );
}

#[tokio::test]
async fn a_404_and_a_409_are_explained_by_status() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path(format!("/epayment/v1/payments/{REF}")))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!({"title": "Reference not found", "status": 404, "traceId": "00-a-b-01"}),
        ))
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/epayment/v1/payments/{REF}/refund")))
        .respond_with(
            ResponseTemplate::new(409).set_body_json(json!({"title": "Conflict", "status": 409})),
        )
        .mount(&h.server)
        .await;

    let not_found = h.client.get_payment(REF).await.unwrap_err();
    let conflict = h
        .client
        .refund_payment(REF, Amount::nok(100))
        .await
        .unwrap_err();

    assert!(not_found.explain().contains("MSN"));
    assert!(conflict.explain().contains("Idempotency-Key"));
}

#[tokio::test]
async fn a_non_json_error_body_is_kept_as_text() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path(format!("/epayment/v1/payments/{REF}/events")))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad gateway</html>"))
        .mount(&h.server)
        .await;

    let err = h.client.payment_events(REF).await.unwrap_err();

    assert!(matches!(err.body(), Some(ErrorBody::Other { text }) if text.contains("Bad gateway")));
    assert_eq!(err.attempts(), 4);
}

#[tokio::test]
async fn a_success_with_an_unreadable_body_is_a_decode_error() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path(format!("/epayment/v1/payments/{REF}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"unexpected": true})))
        .mount(&h.server)
        .await;

    let err = h.client.get_payment(REF).await.unwrap_err();

    assert!(
        matches!(err, ApiError::Decode { status: 200, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn force_approve_on_production_is_refused_before_anything_is_sent() {
    let h = harness_with(|o| o.production = true).await;

    let err = h
        .client
        .force_approve(REF, &ForceApproveRequest::default())
        .await
        .unwrap_err();

    assert!(
        matches!(err, ApiError::ForceApproveOnProduction { ref reference } if reference == REF)
    );
    assert_eq!(h.requests().await.len(), 0, "not even a token request");
    assert!(h.recorder.exchanges().is_empty());
}

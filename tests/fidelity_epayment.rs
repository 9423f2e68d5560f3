//! Every ePayment operation and userFlow (behaviour.md §3; issue 3 points 1, 3, 7).

use crate::common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

async fn create_flow(sim: &Sim, flow: &str, edit: impl FnOnce(&mut Value)) -> (String, Resp) {
    let r = reference(flow);
    let mut body = web_body(&r, 24900);
    body["userFlow"] = json!(flow);
    edit(&mut body);
    let resp = sim.create(&body).await;
    (r, resp)
}

#[tokio::test]
async fn create_web_redirect_is_201_with_a_redirect_url_whose_token_follows_two_equals_signs() {
    let sim = Sim::start().await;
    let (r, resp) = create_flow(&sim, "WEB_REDIRECT", |_| {}).await;
    resp.assert_status(201);
    let b = resp.json();
    assert_eq!(b["reference"], json!(r));
    let url = b["redirectUrl"].as_str().expect("redirectUrl");
    assert!(
        url.starts_with("http://") || url.starts_with("https://"),
        "{url}"
    );
    // The official Postman script takes the token with split('=')[2].
    let parts: Vec<&str> = url.split('=').collect();
    assert!(
        parts.len() >= 3 && !parts[2].is_empty(),
        "two `=` before the token: {url}"
    );
    assert!(
        query_param(url, "token")
            .map(|t| !t.is_empty())
            .unwrap_or(false),
        "token= query parameter: {url}"
    );
    assert_eq!(
        parts[2].split('&').next(),
        query_param(url, "token").as_deref(),
        "split('=')[2] is the token"
    );
}

#[tokio::test]
async fn create_native_redirect_returns_a_vipps_mt_deeplink() {
    let sim = Sim::start().await;
    let (_, resp) = create_flow(&sim, "NATIVE_REDIRECT", |_| {}).await;
    resp.assert_status(201);
    let url = resp.json()["redirectUrl"]
        .as_str()
        .expect("redirectUrl")
        .to_owned();
    assert!(
        url.starts_with("vippsMT://"),
        "test-environment app scheme: {url}"
    );
}

#[tokio::test]
async fn create_push_message_returns_only_the_reference() {
    let sim = Sim::start().await;
    let (r, resp) = create_flow(&sim, "PUSH_MESSAGE", |b| {
        b.as_object_mut().unwrap().remove("returnUrl");
    })
    .await;
    resp.assert_status(201);
    assert_eq!(
        resp.json(),
        json!({ "reference": r }),
        "no redirectUrl for PUSH_MESSAGE"
    );
}

#[tokio::test]
async fn create_qr_returns_an_image_url_that_answers_an_svg_by_default() {
    let sim = Sim::start().await;
    let (_, resp) = create_flow(&sim, "QR", |b| {
        b.as_object_mut().unwrap().remove("customer");
    })
    .await;
    resp.assert_status(201);
    let url = resp.json()["redirectUrl"]
        .as_str()
        .expect("redirectUrl")
        .to_owned();
    let img = sim.send(Call::new(Method::GET, url.clone())).await;
    img.assert_status(200);
    let ct = img.header("content-type").unwrap_or_default();
    assert!(
        ct.starts_with("image/svg+xml"),
        "default IMAGE/SVG+XML, got `{ct}` from {url}"
    );
    assert!(img.text.contains("<svg"), "an SVG document");
}

#[tokio::test]
async fn create_qr_with_png_format_answers_a_png_image() {
    let sim = Sim::start().await;
    let (_, resp) = create_flow(&sim, "QR", |b| {
        b.as_object_mut().unwrap().remove("customer");
        b["qrFormat"] = json!({ "format": "IMAGE/PNG", "size": 200 });
    })
    .await;
    resp.assert_status(201);
    let url = resp.json()["redirectUrl"]
        .as_str()
        .expect("redirectUrl")
        .to_owned();
    let img = sim.send(Call::new(Method::GET, url)).await;
    img.assert_status(200);
    assert!(img
        .header("content-type")
        .unwrap_or_default()
        .starts_with("image/png"));
    assert!(img.bytes.starts_with(b"\x89PNG"), "PNG magic bytes");
}

#[tokio::test]
async fn create_qr_with_text_targeturl_returns_the_target_url_itself() {
    let sim = Sim::start().await;
    let (_, resp) = create_flow(&sim, "QR", |b| {
        b.as_object_mut().unwrap().remove("customer");
        b["qrFormat"] = json!({ "format": "TEXT/TARGETURL" });
    })
    .await;
    resp.assert_status(201);
    let url = resp.json()["redirectUrl"]
        .as_str()
        .expect("redirectUrl")
        .to_owned();
    assert!(url::Url::parse(&url).is_ok(), "a URL: {url}");
    let target = sim.send(Call::new(Method::GET, url.clone())).await;
    let ct = target.header("content-type").unwrap_or_default();
    assert!(
        !ct.starts_with("image/"),
        "the target URL, not the image: {url} ({ct})"
    );
}

#[tokio::test]
async fn get_payment_after_create_is_created_with_zero_aggregate_and_an_empty_profile() {
    let sim = Sim::start().await;
    let r = sim.created(24900).await;
    let p = sim.payment(&r).await;
    assert_eq!(p["state"], "CREATED");
    assert_eq!(p["reference"], json!(r));
    assert_eq!(p["amount"], amount(24900));
    assert_eq!(agg(&p), [0, 0, 0, 0]);
    assert_eq!(
        p["profile"],
        json!({}),
        "profile is always present, {{}} until sub is known"
    );
    assert_eq!(p["paymentMethod"]["type"], "WALLET");
    assert_eq!(
        p["metadata"],
        json!({ "cartId": "c-991" }),
        "metadata passed back exactly"
    );
    for currency in [
        "authorizedAmount",
        "capturedAmount",
        "refundedAmount",
        "cancelledAmount",
    ] {
        assert_eq!(
            p["aggregate"][currency]["currency"], "NOK",
            "aggregates use the payment currency"
        );
    }
}

#[tokio::test]
async fn get_payment_psp_reference_is_the_one_of_the_created_event() {
    let sim = Sim::start().await;
    let r = sim.authorized(24900).await;
    sim.capture(&r, 100).await.assert_status(200);
    let p = sim.payment(&r).await;
    let events = sim.events(&r).await;
    let created = events
        .iter()
        .find(|e| e["name"] == "CREATED")
        .expect("CREATED event");
    assert_eq!(p["pspReference"], created["pspReference"]);
}

#[tokio::test]
async fn force_approve_returns_200_with_an_empty_body_and_authorizes() {
    let sim = Sim::start().await;
    let r = sim.created(24900).await;
    let resp = sim.approve(&r).await;
    resp.assert_status(200);
    assert!(resp.bytes.is_empty(), "empty body: {}", resp.brief());
    let p = sim.payment(&r).await;
    assert_eq!(p["state"], "AUTHORIZED");
    assert_eq!(agg(&p), [24900, 0, 0, 0]);
}

#[tokio::test]
async fn force_approve_with_token_and_customer_like_the_postman_collection_authorizes() {
    let sim = Sim::start().await;
    let r = reference("pm");
    let created = sim.create(&web_body(&r, 24900)).await;
    created.assert_status(201);
    let url = created.json()["redirectUrl"].as_str().unwrap().to_owned();
    let token = url.split('=').nth(2).unwrap().to_owned();
    let call = sim
        .api(
            Method::POST,
            format!("/epayment/v1/test/payments/{r}/approve"),
        )
        .await
        .json(&json!({ "customer": { "phoneNumber": USER }, "token": token }));
    sim.send(call).await.assert_status(200);
    assert_eq!(sim.payment(&r).await["state"], "AUTHORIZED");
}

#[tokio::test]
async fn capture_answers_a_modification_response_and_the_state_stays_authorized() {
    let sim = Sim::start().await;
    let r = sim.authorized(24900).await;
    let resp = sim.capture(&r, 24900).await;
    resp.assert_status(200);
    let b = resp.json();
    assert_eq!(b["state"], "AUTHORIZED", "a full capture is not a state");
    assert_eq!(b["reference"], json!(r));
    assert_eq!(b["amount"], amount(24900));
    assert_eq!(agg(&b), [24900, 24900, 0, 0]);
}

#[tokio::test]
async fn partial_captures_and_refunds_add_up_in_the_aggregate() {
    let sim = Sim::start().await;
    let r = sim.authorized(24900).await;
    sim.capture(&r, 10000).await.assert_status(200);
    sim.capture(&r, 5000).await.assert_status(200);
    sim.refund(&r, 3000).await.assert_status(200);
    let b = sim.refund(&r, 2000).await;
    b.assert_status(200);
    assert_eq!(b.json()["state"], "AUTHORIZED");
    assert_eq!(agg(&b.json()), [24900, 15000, 5000, 0]);
    assert_eq!(agg(&sim.payment(&r).await), [24900, 15000, 5000, 0]);
}

#[tokio::test]
async fn cancel_accepts_no_body_an_empty_object_and_the_cancel_transaction_only_flag() {
    let sim = Sim::start().await;
    for body in [
        None,
        Some(json!({})),
        Some(json!({ "cancelTransactionOnly": false })),
    ] {
        let r = sim.authorized(1000).await;
        let resp = sim.modify("cancel", &r, body.clone(), &key()).await;
        assert_eq!(
            resp.status,
            200,
            "cancel with body {body:?}: {}",
            resp.brief()
        );
        assert_eq!(agg(&resp.json()), [1000, 0, 0, 1000]);
    }
}

#[tokio::test]
async fn cancel_transaction_only_on_an_authorized_payment_is_refused_with_6060() {
    let sim = Sim::start().await;
    let r = sim.authorized(1000).await;
    let resp = sim
        .modify(
            "cancel",
            &r,
            Some(json!({ "cancelTransactionOnly": true })),
            &key(),
        )
        .await;
    assert_problem(&resp, 400, Some("6060"));
    assert_eq!(
        agg(&sim.payment(&r).await),
        [1000, 0, 0, 0],
        "nothing released"
    );
}

#[tokio::test]
async fn cancel_transaction_only_on_a_created_payment_terminates_it() {
    let sim = Sim::start().await;
    let r = sim.created(1000).await;
    let resp = sim
        .modify(
            "cancel",
            &r,
            Some(json!({ "cancelTransactionOnly": true })),
            &key(),
        )
        .await;
    resp.assert_status(200);
    assert_eq!(resp.json()["state"], "TERMINATED");
}

#[tokio::test]
async fn create_approve_full_capture_full_refund_gives_exactly_one_event_of_each_like_the_dotnet_test(
) {
    let sim = Sim::start().await;
    let r = sim.authorized(24900).await;
    sim.capture(&r, 24900).await.assert_status(200);
    sim.refund(&r, 24900).await.assert_status(200);
    let mut names = sim.event_names(&r).await;
    names.sort();
    assert_eq!(names, ["AUTHORIZED", "CAPTURED", "CREATED", "REFUNDED"]);
    let p = sim.payment(&r).await;
    assert_eq!(p["state"], "AUTHORIZED", "refunded is not a state");
    assert_eq!(agg(&p), [24900, 24900, 24900, 0]);
}

#[tokio::test]
async fn unknown_reference_is_404_on_every_operation() {
    let sim = Sim::start().await;
    let r = reference("nobody");
    let get = sim.get(&r).await;
    assert_problem(&get, 404, None);
    let ev = sim
        .send(
            sim.api(Method::GET, format!("/epayment/v1/payments/{r}/events"))
                .await,
        )
        .await;
    assert_eq!(ev.status, 404, "{}", ev.brief());
    assert_problem(&sim.capture(&r, 100).await, 404, None);
    assert_problem(&sim.refund(&r, 100).await, 404, None);
    assert_problem(&sim.cancel(&r).await, 404, None);
    let ap = sim.approve(&r).await;
    assert_eq!(ap.status, 404, "{}", ap.brief());
}

#[tokio::test]
async fn a_payment_of_one_msn_is_404_for_another_msn() {
    let sim = Sim::start().await;
    let r = sim.authorized(1000).await;
    assert_problem(&sim.get_as(UNIT_2, &r).await, 404, None);
    let c = sim
        .api_as(
            UNIT_2,
            Method::POST,
            format!("/epayment/v1/payments/{r}/capture"),
        )
        .await
        .json(&json!({ "modificationAmount": amount(100) }));
    assert_problem(&sim.send(c).await, 404, None);
    assert_eq!(
        agg(&sim.payment(&r).await),
        [1000, 0, 0, 0],
        "untouched by the other unit"
    );
}

#[tokio::test]
async fn the_same_reference_can_be_used_by_two_sales_units_independently() {
    let sim = Sim::start().await;
    let r = reference("both");
    sim.create_as(UNIT, &web_body(&r, 1000))
        .await
        .assert_status(201);
    sim.create_as(UNIT_2, &web_body(&r, 2000))
        .await
        .assert_status(201);
    assert_eq!(sim.get_as(UNIT, &r).await.json()["amount"], amount(1000));
    assert_eq!(sim.get_as(UNIT_2, &r).await.json()["amount"], amount(2000));
}

#[tokio::test]
async fn unknown_reference_404_carries_error_code_5090_reference_not_found() {
    let sim = Sim::start().await;
    let resp = sim.capture(&reference("nobody"), 100).await;
    assert_problem(&resp, 404, Some("5090"));
}

#[tokio::test]
async fn problem_instance_is_the_backend_path_without_the_epayment_prefix() {
    let sim = Sim::start().await;
    let r = sim.authorized(1000).await;
    let resp = sim.capture(&r, 5000).await;
    assert_problem(&resp, 400, Some("6090"));
    assert_eq!(
        resp.json()["instance"],
        json!(format!("/v1/payments/{r}/capture"))
    );
}

#[tokio::test]
async fn force_approve_for_a_phone_number_that_is_no_test_user_is_refused() {
    // §3.7: the user must exist and be verified; candidates 10010/10020/10030 or 7010.
    let sim = Sim::start().await;
    let r = sim.created(1000).await;
    let call = sim
        .api(
            Method::POST,
            format!("/epayment/v1/test/payments/{r}/approve"),
        )
        .await
        .json(&json!({ "customer": { "phoneNumber": "4799999999" } }));
    let resp = sim.send(call).await;
    assert_problem(&resp, 400, None);
    let code = resp.error_code().unwrap_or_default();
    assert!(
        ["10010", "10020", "10030", "7010"].contains(&code.as_str()),
        "ErrorCode {code}"
    );
    assert_eq!(sim.payment(&r).await["state"], "CREATED");
}

#[tokio::test]
async fn force_approve_with_the_token_of_another_payment_is_refused() {
    let sim = Sim::start().await;
    let (a, b) = (reference("ta"), reference("tb"));
    let ca = sim.create(&web_body(&a, 1000)).await;
    sim.create(&web_body(&b, 1000)).await.assert_status(201);
    let token_a = query_param(ca.json()["redirectUrl"].as_str().unwrap(), "token").unwrap();
    let call = sim
        .api(
            Method::POST,
            format!("/epayment/v1/test/payments/{b}/approve"),
        )
        .await
        .json(&json!({ "token": token_a }));
    assert_problem(&sim.send(call).await, 400, None);
    assert_eq!(sim.payment(&b).await["state"], "CREATED");
}

//! Order Management: images, categories (upsert), receipts (once), get,
//! `paymentType` in any case (behaviour.md §10; issue 3 point 1).

use crate::common;

use base64::Engine as _;
use common::*;
use reqwest::Method;
use serde_json::{json, Value};

async fn om(sim: &Sim, method: Method, path: String, body: Option<Value>) -> Resp {
    let mut call = sim.api(method, path).await.without("Idempotency-Key");
    if let Some(b) = body {
        call = call.json(&b);
    }
    sim.send(call).await
}

fn png_b64() -> String {
    base64::engine::general_purpose::STANDARD.encode(png::grey(200, 200))
}

#[tokio::test]
async fn image_upload_returns_its_id_and_a_second_upload_of_the_same_id_is_refused() {
    let sim = Sim::start().await;
    let id = reference("img");
    let body = json!({ "imageId": id, "src": png_b64(), "type": "base64" });
    let first = om(
        &sim,
        Method::POST,
        "/order-management/v1/images".into(),
        Some(body.clone()),
    )
    .await;
    first.assert_status(200);
    assert_eq!(first.json()["imageId"], json!(id));
    // OPEN(§16.16): images are immutable; 409 presumed, 400 possible.
    let second = om(
        &sim,
        Method::POST,
        "/order-management/v1/images".into(),
        Some(body),
    )
    .await;
    assert!(matches!(second.status, 400 | 409), "{}", second.brief());
}

#[tokio::test]
async fn image_upload_validates_type_id_and_base64() {
    let sim = Sim::start().await;
    for body in [
        json!({ "imageId": reference("i"), "src": png_b64(), "type": "url" }),
        json!({ "imageId": "bad id with spaces", "src": png_b64(), "type": "base64" }),
        json!({ "imageId": reference("i"), "src": "%%% not base64 %%%", "type": "base64" }),
        json!({ "imageId": reference("i"), "type": "base64" }),
    ] {
        let resp = om(
            &sim,
            Method::POST,
            "/order-management/v1/images".into(),
            Some(body.clone()),
        )
        .await;
        assert_eq!(resp.status, 400, "{body:.80}: {}", resp.brief());
    }
}

#[tokio::test]
async fn category_is_an_upsert_where_the_last_one_wins() {
    let sim = Sim::start().await;
    let order = reference("cat");
    let put = |cat: &'static str| json!({ "category": cat, "orderDetailsUrl": "https://shop.example/o/1" });
    let first = om(
        &sim,
        Method::PUT,
        format!("/order-management/v2/ecom/categories/{order}"),
        Some(put("GENERAL")),
    )
    .await;
    first.assert_status(200);
    assert!(
        first.json().is_string(),
        "a bare JSON string id: {}",
        first.text
    );
    om(
        &sim,
        Method::PUT,
        format!("/order-management/v2/ecom/categories/{order}"),
        Some(put("RECEIPT")),
    )
    .await
    .assert_status(200);
    let got = om(
        &sim,
        Method::GET,
        format!("/order-management/v2/ecom/{order}"),
        None,
    )
    .await;
    got.assert_status(200);
    assert_eq!(
        got.json()["category"]["category"],
        "RECEIPT",
        "{}",
        got.text
    );
}

#[tokio::test]
async fn category_rejects_an_unknown_category() {
    let sim = Sim::start().await;
    let order = reference("cat");
    let resp = om(
        &sim,
        Method::PUT,
        format!("/order-management/v2/ecom/categories/{order}"),
        Some(json!({ "category": "SHOES", "orderDetailsUrl": "https://shop.example/o/1" })),
    )
    .await;
    assert_eq!(resp.status, 400, "{}", resp.brief());
}

#[tokio::test]
async fn receipt_is_accepted_once_and_shown_on_the_order() {
    let sim = Sim::start().await;
    let order = reference("rcpt");
    let first = om(
        &sim,
        Method::POST,
        format!("/order-management/v2/ecom/receipts/{order}"),
        Some(receipt(24900)),
    )
    .await;
    first.assert_status(201);
    assert!(
        first.json().is_string(),
        "a bare JSON string id: {}",
        first.text
    );
    // OPEN(§16.16): a second receipt is refused; 409 presumed, 400 possible.
    let second = om(
        &sim,
        Method::POST,
        format!("/order-management/v2/ecom/receipts/{order}"),
        Some(receipt(100)),
    )
    .await;
    assert!(matches!(second.status, 400 | 409), "{}", second.brief());
    let got = om(
        &sim,
        Method::GET,
        format!("/order-management/v2/ecom/{order}"),
        None,
    )
    .await;
    got.assert_status(200);
    assert_eq!(
        got.json()["receipt"]["orderLines"][0]["totalAmount"],
        24900,
        "the first receipt stays"
    );
}

#[tokio::test]
async fn receipt_without_order_lines_is_refused() {
    let sim = Sim::start().await;
    let order = reference("rcpt");
    let resp = om(
        &sim,
        Method::POST,
        format!("/order-management/v2/ecom/receipts/{order}"),
        Some(json!({ "orderLines": [], "bottomLine": { "currency": "NOK" } })),
    )
    .await;
    assert_eq!(resp.status, 400, "{}", resp.brief());
}

#[tokio::test]
async fn payment_type_is_matched_in_any_case() {
    let sim = Sim::start().await;
    let order = reference("case");
    om(
        &sim,
        Method::PUT,
        format!("/order-management/v2/eCom/categories/{order}"),
        Some(json!({ "category": "GENERAL", "orderDetailsUrl": "https://shop.example/o/2" })),
    )
    .await
    .assert_status(200);
    for pt in ["ecom", "ECOM", "eCom"] {
        let got = om(
            &sim,
            Method::GET,
            format!("/order-management/v2/{pt}/{order}"),
            None,
        )
        .await;
        got.assert_status(200);
        assert_eq!(got.json()["category"]["category"], "GENERAL", "{pt}");
    }
}

#[tokio::test]
async fn order_data_can_be_added_before_the_payment_exists() {
    let sim = Sim::start().await;
    let order = reference("early");
    om(
        &sim,
        Method::POST,
        format!("/order-management/v2/ecom/receipts/{order}"),
        Some(receipt(1000)),
    )
    .await
    .assert_status(201);
    sim.create(&web_body(&order, 1000)).await.assert_status(201);
    om(
        &sim,
        Method::GET,
        format!("/order-management/v2/ecom/{order}"),
        None,
    )
    .await
    .assert_status(200);
}

#[tokio::test]
async fn an_order_with_no_data_is_404() {
    let sim = Sim::start().await;
    let resp = om(
        &sim,
        Method::GET,
        format!("/order-management/v2/ecom/{}", reference("none")),
        None,
    )
    .await;
    assert_eq!(resp.status, 404, "{}", resp.brief());
}

#[tokio::test]
async fn order_management_without_bearer_is_401() {
    let sim = Sim::start().await;
    let call = sim
        .api(
            Method::GET,
            format!("/order-management/v2/ecom/{}", reference("x")),
        )
        .await
        .without("Authorization");
    assert_eq!(sim.send(call).await.status, 401);
}

#[tokio::test]
async fn order_data_is_kept_per_sales_unit() {
    let sim = Sim::start().await;
    let order = reference("msn");
    om(
        &sim,
        Method::POST,
        format!("/order-management/v2/ecom/receipts/{order}"),
        Some(receipt(1000)),
    )
    .await
    .assert_status(201);
    let other = sim
        .api_as(
            UNIT_2,
            Method::GET,
            format!("/order-management/v2/ecom/{order}"),
        )
        .await;
    assert_eq!(sim.send(other).await.status, 404);
}

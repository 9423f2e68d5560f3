//! Fidelity, second round (issue 14): one raw-HTTP test per fix, and the
//! documented choices of docs/fidelity.md. Every test starts its own
//! in-process simulator and speaks HTTP to it with hand-written JSON.

use crate::common;

use std::time::Duration;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use vipps_golive::simulator::SimConfig;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const LANDING: &str = "/dwo-api-application/v1/deeplink/vippsgateway";

fn with_units(json_text: &str) -> SimConfig {
    let mut config = SimConfig {
        rate_limits: false,
        ..SimConfig::default()
    };
    vipps_golive::simulator::units::apply(json_text, &mut config).expect("units file");
    config
}

fn push_body(reference: &str) -> Value {
    json!({
        "amount": amount(1000),
        "paymentMethod": { "type": "WALLET" },
        "reference": reference,
        "userFlow": "PUSH_MESSAGE",
        "customer": { "phoneNumber": USER },
        "paymentDescription": "Push"
    })
}

fn long_living_body(reference: &str) -> Value {
    let at = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    json!({
        "amount": amount(1000),
        "paymentMethod": { "type": "WALLET" },
        "reference": reference,
        "userFlow": "QR",
        "expiresAt": at,
        "receipt": receipt(1000),
        "paymentDescription": "Season ticket"
    })
}

fn card_body(reference: &str) -> Value {
    let mut b = web_body(reference, 1000);
    b["paymentMethod"] = json!({ "type": "CARD" });
    b
}

// ---------------------------------------------------------------- point 1

#[tokio::test]
async fn a_fresh_sales_unit_is_refused_long_living_and_push_message_with_their_codes() {
    let sim = Sim::start().await;
    let r = sim.create_as(UNIT_2, &push_body(&reference("push"))).await;
    assert_problem(&r, 400, Some("5080"));
    let r = sim
        .create_as(UNIT_2, &long_living_body(&reference("long")))
        .await;
    assert_problem(&r, 400, Some("5050"));
    // The approved built-in unit may do both.
    sim.create(&push_body(&reference("push")))
        .await
        .assert_status(201);
    sim.create(&long_living_body(&reference("long")))
        .await
        .assert_status(201);
}

#[tokio::test]
async fn card_is_not_available_in_the_test_environment_unless_the_units_file_enables_it() {
    let sim = Sim::start().await;
    for unit in [UNIT, UNIT_2] {
        let r = sim.create_as(unit, &card_body(&reference("card"))).await;
        assert_problem(&r, 400, Some("4160"));
    }
    let sim = Sim::start_with(with_units(
        r#"{"units":[{"msn":"654321","card":true,"pushMessage":true}]}"#,
    ))
    .await;
    sim.create_as(UNIT_2, &card_body(&reference("card")))
        .await
        .assert_status(201);
    sim.create_as(UNIT_2, &push_body(&reference("push")))
        .await
        .assert_status(201);
    // What the file leaves out is not approved.
    let r = sim
        .create_as(UNIT_2, &long_living_body(&reference("long")))
        .await;
    assert_problem(&r, 400, Some("5050"));
}

// ---------------------------------------------------------------- point 2

#[tokio::test]
async fn an_idempotency_key_is_never_forgotten_while_its_payment_exists() {
    let sim = Sim::start_unlimited().await;
    let r = sim.authorized(10_000).await;
    let k = key();
    let first = sim.capture_key(&r, 1, &k).await;
    first.assert_status(200);
    for _ in 0..69 {
        sim.capture(&r, 1).await.assert_status(200);
    }
    let again = sim.capture_key(&r, 1, &k).await;
    again.assert_status(200);
    assert_eq!(
        agg(&again.json()),
        agg(&first.json()),
        "the replay answers as the first call did"
    );
    let p = sim.payment(&r).await;
    assert_eq!(agg(&p)[1], 70, "70 captures of 1 øre, not 71");
    let with_k = sim
        .events(&r)
        .await
        .into_iter()
        .filter(|e| e["name"] == "CAPTURED" && e["idempotencyKey"] == json!(k))
        .count();
    assert_eq!(with_k, 1, "one CAPTURED event carries `k`");
}

// ---------------------------------------------------------------- point 3

#[tokio::test]
async fn a_400_on_capture_refund_or_cancel_binds_the_key_to_its_first_body() {
    let sim = Sim::start_unlimited().await;
    let r = sim.authorized(1000).await;
    sim.capture(&r, 500).await.assert_status(200);
    let cases: [(&str, Value, Option<Value>, &str); 3] = [
        (
            "capture",
            json!({ "modificationAmount": { "currency": "NOK" } }),
            Some(json!({ "modificationAmount": amount(100) })),
            "4010",
        ),
        (
            "refund",
            json!({ "modificationAmount": { "currency": "NOK", "value": 1.5 } }),
            Some(json!({ "modificationAmount": amount(100) })),
            "4150",
        ),
        (
            "cancel",
            json!({ "cancelTransactionOnly": "yes" }),
            None,
            "4020",
        ),
    ];
    for (op, bad, good, conflict) in cases {
        let k = key();
        let first = sim.modify(op, &r, Some(bad.clone()), &k).await;
        assert_eq!(first.status, 400, "{op}: {}", first.brief());
        let same = sim.modify(op, &r, Some(bad), &k).await;
        assert_eq!(same.status, 400, "{op} replay: {}", same.brief());
        assert_eq!(
            same.text, first.text,
            "{op}: the first 400 is replayed byte for byte"
        );
        let fixed = sim.modify(op, &r, good, &k).await;
        assert_problem(&fixed, 409, Some(conflict));
    }
    let p = sim.payment(&r).await;
    assert_eq!(agg(&p), [1000, 500, 0, 0], "no corrected body took effect");
}

#[tokio::test]
async fn a_refused_create_binds_its_key_to_the_first_body_too() {
    let sim = Sim::start().await;
    let r = reference("create400");
    let k = key();
    let mut bad = web_body(&r, 1000);
    bad["amount"] = amount(50); // 6010 Amount too small
    let send = |body: Value| {
        let k = k.clone();
        let sim = &sim;
        async move {
            let call = sim
                .api(Method::POST, "/epayment/v1/payments")
                .await
                .idem(k)
                .json(&body);
            sim.send(call).await
        }
    };
    let first = send(bad.clone()).await;
    assert_problem(&first, 400, Some("6010"));
    let same = send(bad).await;
    assert_eq!(same.text, first.text, "replayed byte for byte");
    let fixed = send(web_body(&r, 1000)).await;
    assert_problem(&fixed, 409, Some("4020"));
    assert_eq!(
        sim.get(&r).await.status,
        404,
        "the corrected body did not create"
    );
}

// ---------------------------------------------------------------- point 4

async fn register(sim: &Sim, url: &str) -> Resp {
    let call = sim
        .api(Method::POST, "/webhooks/v1/webhooks")
        .await
        .without("Idempotency-Key")
        .json(&json!({ "url": url, "events": ["epayments.payment.authorized.v1"] }));
    sim.send(call).await
}

#[tokio::test]
async fn webhooks_go_only_to_ports_80_443_and_8080_except_on_loopback_where_it_is_recorded() {
    let sim = Sim::start().await;
    for url in [
        "https://shop.example:8443/hook",
        "https://shop.example:9000/hook",
        "https://203.0.113.7:3000/hook",
    ] {
        let r = register(&sim, url).await;
        assert_eq!(r.status, 400, "{url}: {}", r.brief());
        assert!(
            r.text.contains("8080"),
            "{url}: the reason names the ports: {}",
            r.text
        );
    }
    for url in [
        "https://shop.example/hook",
        "https://shop.example:443/hook",
        "https://shop.example:8080/hook",
    ] {
        let r = register(&sim, url).await;
        assert_eq!(r.status, 201, "{url}: {}", r.brief());
        assert_eq!(r.header("x-vipps-golive-deviation"), None, "{url}");
    }
    let r = register(&sim, "http://127.0.0.1:9999/hook").await;
    r.assert_status(201);
    let note = r.header("x-vipps-golive-deviation").unwrap_or_default();
    assert!(
        note.contains("port 9999") && note.contains("http://"),
        "the leniency is said: {note}"
    );
    let regs = sim
        .control_get("/__sim/webhooks/registrations")
        .await
        .json();
    let loopback = regs["registrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["url"] == "http://127.0.0.1:9999/hook")
        .cloned()
        .expect("listed");
    assert_eq!(loopback["deviations"].as_array().map(Vec::len), Some(2));
    // The journal keeps the note for `audit`.
    let journal = sim.control_get("/__sim/journal").await.text;
    assert!(journal.contains("port 9999"), "journal: {journal}");
}

// ---------------------------------------------------------------- point 5

fn token_of(redirect: &str) -> String {
    query_param(redirect, "token").expect("token in redirectUrl")
}

async fn landing_post(sim: &Sim, token: &str, action: &str) -> Resp {
    let call = Call::new(Method::POST, format!("{LANDING}?v=2&token={token}")).raw(
        format!("action={action}").into_bytes(),
        "application/x-www-form-urlencoded",
    );
    sim.send_unchecked(call).await
}

#[tokio::test]
async fn the_landing_page_lives_5_minutes_and_a_one_time_qr_payment_expires_after_5() {
    let sim = Sim::start().await;
    let r = reference("land");
    let created = sim.create(&web_body(&r, 1000)).await;
    created.assert_status(201);
    let token = token_of(created.json()["redirectUrl"].as_str().unwrap());
    sim.advance(6 * 60).await;
    let page = sim
        .send_unchecked(Call::new(
            Method::GET,
            format!("{LANDING}?v=2&token={token}"),
        ))
        .await;
    assert_eq!(page.status, 410, "{}", page.brief());
    let post = landing_post(&sim, &token, "approve").await;
    assert_eq!(post.status, 410, "{}", post.brief());
    assert_eq!(
        sim.payment(&r).await["state"],
        "CREATED",
        "not authorized at +6 min"
    );
    sim.advance(4 * 60 + 1).await;
    assert_eq!(
        sim.payment(&r).await["state"],
        "EXPIRED",
        "expired at +10 min"
    );

    // One-time QR: alive at +4 min, expired after 5.
    let q = reference("qr");
    let mut body = web_body(&q, 1000);
    body["userFlow"] = json!("QR");
    body.as_object_mut().unwrap().remove("customer");
    sim.create(&body).await.assert_status(201);
    sim.advance(4 * 60).await;
    assert_eq!(sim.payment(&q).await["state"], "CREATED");
    sim.advance(61).await;
    assert_eq!(
        sim.payment(&q).await["state"],
        "EXPIRED",
        "QR gone at +5 min"
    );
    assert_eq!(sim.event_names(&q).await, ["CREATED", "EXPIRED"]);
}

#[tokio::test]
async fn the_landing_page_approves_within_its_window() {
    let sim = Sim::start().await;
    let r = reference("land");
    let created = sim.create(&web_body(&r, 1000)).await;
    let token = token_of(created.json()["redirectUrl"].as_str().unwrap());
    sim.advance(4 * 60 + 50).await;
    let post = landing_post(&sim, &token, "approve").await;
    assert_eq!(post.status, 303, "{}", post.brief());
    assert_eq!(sim.payment(&r).await["state"], "AUTHORIZED");
}

// ---------------------------------------------------------------- point 6

#[tokio::test]
async fn a_modification_during_processing_gets_423_then_succeeds_with_the_same_key() {
    let processing = Duration::from_secs(5);
    let sim = Sim::start_with(SimConfig {
        rate_limits: false,
        processing,
        ..SimConfig::default()
    })
    .await;
    let r = sim.authorized(1000).await;
    let first_key = key();
    let second_key = key();
    let first = sim.capture_key(&r, 300, &first_key);
    let second = async {
        // The first capture takes effect at once; its answer waits for processing.
        for _ in 0..200 {
            if agg(&sim.payment(&r).await)[1] == 300 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let locked = sim
            .send_unchecked(
                sim.api(Method::POST, format!("/epayment/v1/payments/{r}/capture"))
                    .await
                    .idem(second_key.clone())
                    .json(&json!({ "modificationAmount": amount(200) })),
            )
            .await;
        assert_problem(&locked, 423, Some("6160"));
        assert!(
            locked.header("retry-after").is_some(),
            "Retry-After is sent"
        );
        let refund = sim
            .send_unchecked(
                sim.api(Method::POST, format!("/epayment/v1/payments/{r}/refund"))
                    .await
                    .idem(key())
                    .json(&json!({ "modificationAmount": amount(100) })),
            )
            .await;
        assert_eq!(refund.status, 423, "any modification: {}", refund.brief());
        // Reads are not blocked.
        sim.get(&r).await.assert_status(200);
        // Once processing is over (virtual clock), the same key goes through.
        sim.advance(processing.as_secs() + 1).await;
        let retried = sim.capture_key(&r, 200, &second_key).await;
        retried.assert_status(200);
        agg(&retried.json())
    };
    let (first, after) = tokio::join!(first, second);
    first.assert_status(200);
    assert_eq!(after, [1000, 500, 0, 0]);
    let captured = sim
        .events(&r)
        .await
        .iter()
        .filter(|e| e["name"] == "CAPTURED")
        .count();
    assert_eq!(captured, 2, "the 423 had no effect");
}

// ---------------------------------------------------------------- point 7

async fn deliveries(sim: &Sim) -> Vec<Value> {
    sim.control_get("/__sim/webhooks/deliveries").await.json()["deliveries"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn clock_now(sim: &Sim) -> chrono::DateTime<chrono::Utc> {
    let c = sim.control_get("/__sim/clock").await.json();
    c["now"]
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .expect("clock now")
}

#[tokio::test]
async fn webhook_retries_follow_the_documented_schedule_for_days_on_the_virtual_clock() {
    let sim = Sim::start().await;
    let receiver = MockServer::start().await;
    // Down for 30 attempts (about two days), then up.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(30)
        .with_priority(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(5)
        .mount(&receiver)
        .await;
    let call = sim
        .api(Method::POST, "/webhooks/v1/webhooks")
        .await
        .without("Idempotency-Key")
        .json(
            &json!({ "url": format!("{}/hook", receiver.uri()), "events": [
            "epayments.payment.authorized.v1", "epayments.payment.captured.v1"] }),
        );
    sim.send(call).await.assert_status(201);
    let r = sim.authorized(1000).await;
    sim.capture(&r, 1000).await.assert_status(200);

    let mut seen = 0;
    for _ in 0..2000 {
        let list = deliveries(&sim).await;
        if list
            .iter()
            .any(|d| d["eventType"] == "epayments.payment.captured.v1")
        {
            break;
        }
        if list.len() > seen {
            seen = list.len();
            let last = &list[seen - 1];
            assert_ne!(last["outcome"], "gave_up", "gave up: {last}");
            if let Some(next) = last["nextAttemptAt"].as_str() {
                let next = chrono::DateTime::parse_from_rfc3339(next).expect("nextAttemptAt");
                let wait = (next.with_timezone(&chrono::Utc) - clock_now(&sim).await)
                    .num_seconds()
                    .max(0) as u64;
                sim.advance(wait + 1).await;
            }
        } else {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let list = deliveries(&sim).await;
    let authorized: Vec<&Value> = list
        .iter()
        .filter(|d| d["eventType"] == "epayments.payment.authorized.v1")
        .collect();
    assert_eq!(authorized.len(), 31, "30 failures, then delivered");
    assert_eq!(authorized[30]["outcome"], "delivered");
    let at = |d: &Value| {
        chrono::DateTime::parse_from_rfc3339(d["at"].as_str().unwrap_or_default())
            .expect("attempt time")
    };
    let gaps: Vec<i64> = authorized
        .windows(2)
        .map(|w| (at(w[1]) - at(w[0])).num_seconds())
        .collect();
    // ~2 s x4, 60 s, 120 s, hourly, then daily.
    assert!(gaps[..4].iter().all(|g| (2..=4).contains(g)), "{gaps:?}");
    assert!((60..=62).contains(&gaps[4]), "{gaps:?}");
    assert!((120..=122).contains(&gaps[5]), "{gaps:?}");
    assert!(
        gaps[6..28].iter().all(|g| (3600..=3602).contains(g)),
        "{gaps:?}"
    );
    assert!(
        gaps[28..].iter().all(|g| (86_400..=86_402).contains(g)),
        "{gaps:?}"
    );
    assert!(
        list.iter()
            .any(|d| d["eventType"] == "epayments.payment.captured.v1"
                && d["outcome"] == "delivered"),
        "CAPTURED follows once AUTHORIZED is through"
    );
}

// ---------------------------------------------------------------- point 8

#[tokio::test]
async fn order_management_v3_categories_are_added_listed_read_and_deleted() {
    let sim = Sim::start().await;
    let order = reference("om3");
    let body = json!({ "orderId": order, "paymentType": "ECOM", "type": "RECEIPT",
        "url": "https://shop.example/orders/1" });
    let add = sim
        .send(
            sim.api(Method::POST, "/order-management/v3/categories")
                .await
                .without("Idempotency-Key")
                .json(&body),
        )
        .await;
    add.assert_status(201);
    let id = add.json()["categoryId"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "a uuid: {id}");

    let list = sim
        .send(
            sim.api(
                Method::GET,
                format!("/order-management/v3/categories?orderId={order}"),
            )
            .await
            .without("Idempotency-Key"),
        )
        .await;
    list.assert_status(200);
    let cats = list.json()["categories"].as_array().cloned().unwrap();
    assert_eq!(cats.len(), 1);
    assert_eq!(cats[0]["categoryId"], json!(id));
    assert_eq!(cats[0]["type"], "RECEIPT");

    let path = format!("/order-management/v3/categories/{id}");
    let one = sim
        .send(sim.api(Method::GET, &path).await.without("Idempotency-Key"))
        .await;
    one.assert_status(200);
    assert_eq!(one.json()["orderId"], json!(order));
    sim.send(
        sim.api(Method::DELETE, &path)
            .await
            .without("Idempotency-Key"),
    )
    .await
    .assert_status(200);
    let gone = sim
        .send(sim.api(Method::GET, &path).await.without("Idempotency-Key"))
        .await;
    assert_eq!(gone.status, 404);

    let bad = sim
        .send(
            sim.api(Method::POST, "/order-management/v3/categories")
                .await
                .without("Idempotency-Key")
                .json(&json!({ "orderId": order, "paymentType": "ECOM", "type": "NOPE" })),
        )
        .await;
    assert_eq!(bad.status, 400);
    let names: Vec<String> = bad.json()["invalidParams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(
        names.contains(&"Type".to_owned()) && names.contains(&"Url".to_owned()),
        "{names:?}"
    );
}

#[tokio::test]
async fn header_errors_on_order_management_routes_use_its_error_shape() {
    let sim = Sim::start().await;
    let path = "/order-management/v2/ecom/receipts/om-header-0001";
    let body =
        json!({ "orderLines": receipt(1000)["orderLines"], "bottomLine": { "currency": "NOK" } });
    for (call, status) in [
        (
            sim.api(Method::POST, path)
                .await
                .without("Merchant-Serial-Number")
                .json(&body),
            400,
        ),
        (
            sim.api(Method::POST, path)
                .await
                .header("Merchant-Serial-Number", MSN_2)
                .json(&body),
            403,
        ),
    ] {
        let r = sim.send_unchecked(call).await;
        assert_eq!(r.status, status, "{}", r.brief());
        let ct = r.header("content-type").unwrap_or_default();
        assert!(ct.starts_with("application/json"), "content type `{ct}`");
        let v = r.json();
        assert!(v.get("extraDetails").is_none(), "no ePayment shape: {v}");
        assert!(v["title"].is_string() && v["instance"].is_string(), "{v}");
    }
    // The ePayment routes keep their Problem shape.
    let r = sim
        .send_unchecked(
            sim.api(Method::GET, "/epayment/v1/payments/om-header-0001")
                .await
                .without("Merchant-Serial-Number"),
        )
        .await;
    assert!(r
        .header("content-type")
        .unwrap_or_default()
        .starts_with("application/problem+json"));
}

// ---------------------------------------------------- documented choices

#[tokio::test]
async fn a_create_body_that_is_not_declared_json_is_415_unless_switched_off() {
    let sim = Sim::start().await;
    let r = reference("ct");
    let bytes = serde_json::to_vec(&web_body(&r, 1000)).unwrap();
    for ct in ["text/plain", ""] {
        let mut call = sim.api(Method::POST, "/epayment/v1/payments").await;
        call = if ct.is_empty() {
            let mut c = call.raw(bytes.clone(), "application/json");
            c = c.without("Content-Type");
            c
        } else {
            call.raw(bytes.clone(), ct)
        };
        let resp = sim.send_unchecked(call).await;
        assert_problem(&resp, 415, None);
    }
    // Charset parameters and +json types are JSON.
    let call = sim
        .api(Method::POST, "/epayment/v1/payments")
        .await
        .raw(bytes.clone(), "application/json; charset=utf-8");
    sim.send(call).await.assert_status(201);

    let sim = Sim::start_with(with_units(r#"{"rules":{"strictContentType":false}}"#)).await;
    let call = sim
        .api(Method::POST, "/epayment/v1/payments")
        .await
        .raw(bytes, "text/plain");
    sim.send(call).await.assert_status(201);
}

#[tokio::test]
async fn qr_format_on_another_flow_is_ignored_unless_made_strict() {
    let mut body = web_body(&reference("qrf"), 1000);
    body["qrFormat"] = json!({ "format": "IMAGE/PNG", "size": 400 });
    let sim = Sim::start().await;
    sim.create(&body).await.assert_status(201);
    let sim = Sim::start_with(with_units(r#"{"rules":{"qrFormatOnlyWithQr":true}}"#)).await;
    body["reference"] = json!(reference("qrf"));
    let r = sim.create(&body).await;
    assert_problem(&r, 400, None);
}

#[tokio::test]
async fn references_of_51_to_64_characters_need_the_newer_limit_switched_on() {
    let long = format!("ref-{}", "a".repeat(60));
    assert_eq!(long.len(), 64);
    let sim = Sim::start().await;
    let r = sim.create(&web_body(&long, 1000)).await;
    assert_problem(&r, 400, None);
    let sim = Sim::start_with(with_units(r#"{"rules":{"referenceMaxLen":64}}"#)).await;
    // Unchecked: the v1.4.1 schema itself says maxLength 50.
    let call = sim
        .api(Method::POST, "/epayment/v1/payments")
        .await
        .json(&web_body(&long, 1000));
    sim.send_unchecked(call).await.assert_status(201);
    let call = sim
        .api(Method::GET, format!("/epayment/v1/payments/{long}"))
        .await;
    sim.send_unchecked(call).await.assert_status(200);
}

#[tokio::test]
async fn a_special_test_amount_fails_on_the_landing_page_but_not_with_force_approve() {
    let sim = Sim::start().await;
    let r = reference("amt");
    let created = sim.create(&web_body(&r, 151)).await;
    created.assert_status(201);
    let token = token_of(created.json()["redirectUrl"].as_str().unwrap());
    let post = landing_post(&sim, &token, "approve").await;
    assert_eq!(post.status, 402, "{}", post.brief());
    assert!(post.text.contains("Insufficient funds"), "{}", post.text);
    assert_eq!(sim.payment(&r).await["state"], "CREATED");
    sim.approve(&r).await.assert_status(200);
    assert_eq!(sim.payment(&r).await["state"], "AUTHORIZED");

    let sim = Sim::start_with(with_units(r#"{"rules":{"specialAmounts":false}}"#)).await;
    let r = reference("amt");
    let created = sim.create(&web_body(&r, 151)).await;
    let token = token_of(created.json()["redirectUrl"].as_str().unwrap());
    assert_eq!(landing_post(&sim, &token, "approve").await.status, 303);
}

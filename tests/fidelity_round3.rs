//! Fidelity, third round (issue 23): one raw-HTTP test per deviation fixed,
//! each failing before its fix. Every test starts its own in-process
//! simulator and speaks HTTP to it with hand-written JSON.

use crate::common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use vipps_golive::simulator::SimConfig;

/// The built-in unit 123456, moved to `market` by a units file.
fn unit_in(market: &str) -> SimConfig {
    let mut config = SimConfig {
        rate_limits: false,
        ..SimConfig::default()
    };
    let file = format!(
        r#"{{"units":[{{"msn":"123456","market":"{market}","longLiving":true,"pushMessage":true}}]}}"#
    );
    vipps_golive::simulator::units::apply(&file, &mut config).expect("units file");
    config
}

fn money(currency: &str, value: i64) -> Value {
    json!({ "currency": currency, "value": value })
}

/// Creates and force-approves a payment of `value` in `currency`.
async fn authorized_in(sim: &Sim, currency: &str, value: i64) -> String {
    let r = reference("mkt");
    let mut body = web_body(&r, value);
    body["amount"] = money(currency, value);
    sim.create(&body).await.assert_status(201);
    sim.approve(&r).await.assert_status(200);
    r
}

async fn capture_in(sim: &Sim, r: &str, currency: &str, value: i64) -> Resp {
    let body = json!({ "modificationAmount": money(currency, value) });
    sim.modify("capture", r, Some(body), &key()).await
}

const DAY: u64 = 24 * 3600;

// ------------------------------------------------- deviation 1 and market

#[tokio::test]
async fn in_denmark_and_finland_capture_and_cancel_end_after_14_days() {
    for (market, currency) in [("DK", "DKK"), ("FI", "EUR")] {
        let sim = Sim::start_with(unit_in(market)).await;
        // The market decides the currency: NOK is refused with 5040.
        let mut nok = web_body(&reference("nok"), 1000);
        nok["amount"] = money("NOK", 1000);
        assert_problem(&sim.create(&nok).await, 400, Some("5040"));

        let within = authorized_in(&sim, currency, 1000).await;
        let late = authorized_in(&sim, currency, 1000).await;
        let cancelled_late = authorized_in(&sim, currency, 1000).await;
        sim.advance(13 * DAY).await;
        capture_in(&sim, &within, currency, 400)
            .await
            .assert_status(200);
        sim.advance(2 * DAY).await;
        assert_problem(
            &capture_in(&sim, &late, currency, 100).await,
            400,
            Some("6100"),
        );
        assert_problem(&sim.cancel(&cancelled_late).await, 400, Some("6030"));
        assert_problem(
            &capture_in(&sim, &within, currency, 100).await,
            400,
            Some("6100"),
        );
        // Refunds keep their own 365 days.
        let body = json!({ "modificationAmount": money(currency, 100) });
        sim.modify("refund", &within, Some(body), &key())
            .await
            .assert_status(200);
    }
}

#[tokio::test]
async fn in_norway_the_deadline_stays_180_days() {
    let sim = Sim::start_with(unit_in("NO")).await;
    let r = authorized_in(&sim, "NOK", 1000).await;
    sim.advance(15 * DAY).await;
    capture_in(&sim, &r, "NOK", 100).await.assert_status(200);
    sim.advance(170 * DAY).await;
    assert_problem(&capture_in(&sim, &r, "NOK", 100).await, 400, Some("6100"));
}

// ------------------------------------------------------------ deviation 2

#[tokio::test]
async fn at_the_deadline_the_reservation_is_released_with_a_cancelled_event() {
    let sim = Sim::start_unlimited().await;
    let r = sim.authorized(1000).await;
    sim.capture(&r, 300).await.assert_status(200);
    sim.advance(179 * DAY).await;
    assert_eq!(agg(&sim.payment(&r).await), [1000, 300, 0, 0]);
    sim.advance(2 * DAY).await;
    let p = sim.payment(&r).await;
    assert_eq!(
        agg(&p),
        [1000, 300, 0, 700],
        "what was still reserved is cancelled"
    );
    assert_eq!(p["state"], "AUTHORIZED");
    let events = sim.events(&r).await;
    let last = events.last().unwrap();
    assert_eq!(last["name"], "CANCELLED");
    assert_eq!(last["amount"]["value"], 700);
    assert!(last["idempotencyKey"].is_null());
    // Stamped at the deadline (180 days after approval), not when read.
    let approved = events.iter().find(|e| e["name"] == "AUTHORIZED").unwrap();
    let at =
        |e: &Value| chrono::DateTime::parse_from_rfc3339(e["timestamp"].as_str().unwrap()).unwrap();
    let after = at(last) - at(approved);
    assert!(
        (after - chrono::Duration::days(180)).num_seconds().abs() <= 1,
        "{after}"
    );
    // Still refusable as a capture past its deadline, and refundable.
    assert_problem(&sim.capture(&r, 100).await, 400, Some("6100"));
    sim.refund(&r, 300).await.assert_status(200);
    // Reading again releases nothing twice.
    assert_eq!(sim.events(&r).await.len(), events.len() + 1);
}

#[tokio::test]
async fn a_payment_captured_in_full_has_nothing_to_release_at_the_deadline() {
    let sim = Sim::start_unlimited().await;
    let r = sim.authorized(1000).await;
    sim.capture(&r, 1000).await.assert_status(200);
    sim.advance(181 * DAY).await;
    assert_eq!(agg(&sim.payment(&r).await), [1000, 1000, 0, 0]);
    assert_eq!(
        sim.event_names(&r).await,
        ["CREATED", "AUTHORIZED", "CAPTURED"]
    );
}

#[tokio::test]
async fn a_units_file_market_and_currency_must_agree() {
    let mut config = SimConfig::default();
    let e = vipps_golive::simulator::units::apply(
        r#"{"units":[{"msn":"123456","market":"FI","currency":"DKK"}]}"#,
        &mut config,
    )
    .unwrap_err();
    assert!(e.contains("FI") && e.contains("EUR"), "{e}");
    vipps_golive::simulator::units::apply(
        r#"{"units":[{"msn":"123456","currency":"EUR"}]}"#,
        &mut config,
    )
    .unwrap();
    assert_eq!(
        config.market_of("123456"),
        vipps_golive::simulator::units::Market::Fi,
        "a currency alone names its market"
    );
}

/// The example units file in docs/ loads, with a Danish and a Finnish unit.
#[tokio::test]
async fn the_documented_danish_and_finnish_units_file_loads() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/units-dk-fi.json");
    let mut config = SimConfig::default();
    vipps_golive::simulator::units::load(std::path::Path::new(path), &mut config).unwrap();
    use vipps_golive::simulator::units::Market;
    let markets: Vec<Market> = config
        .accounts
        .iter()
        .map(|a| config.market_of(&a.msn))
        .collect();
    assert!(markets.contains(&Market::Dk) && markets.contains(&Market::Fi));
}

// ------------------------------------------------------------ deviation 3

#[tokio::test]
async fn an_order_management_image_lower_than_167_px_is_refused() {
    use base64::Engine as _;
    let sim = Sim::start().await;
    let upload = |w: u32, h: u32| {
        let src = base64::engine::general_purpose::STANDARD.encode(png::grey(w, h));
        json!({ "imageId": reference("img"), "src": src, "type": "base64" })
    };
    for (w, h) in [(100, 100), (166, 166), (400, 120)] {
        let call = sim
            .api(Method::POST, "/order-management/v1/images")
            .await
            .json(&upload(w, h));
        let r = sim.send(call).await;
        r.assert_status(400);
        let reason = r.json()["invalidParams"][0]["reason"].to_string();
        assert!(reason.contains("167"), "{w}x{h}: {reason}");
    }
    for (w, h) in [(167, 167), (120, 400)] {
        let call = sim
            .api(Method::POST, "/order-management/v1/images")
            .await
            .json(&upload(w, h));
        sim.send(call).await.assert_status(200);
    }
}

// ------------------------------------------------------------ deviation 4

async fn register(sim: &Sim, url: &str, events: &[&str]) -> Resp {
    let call = sim
        .api(Method::POST, "/webhooks/v1/webhooks")
        .await
        .without("Idempotency-Key")
        .json(&json!({ "url": url, "events": events }));
    sim.send(call).await
}

#[tokio::test]
async fn every_documented_event_type_registers_in_one_call_and_epayment_events_still_arrive() {
    use wiremock::{matchers::method, Mock, MockServer, ResponseTemplate};
    let sim = Sim::start().await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let all = [
        "epayments.payment.authorized.v1",
        "recurring.agreement-activated.v1",
        "recurring.agreement-rejected.v1",
        "recurring.agreement-stopped.v1",
        "recurring.agreement-expired.v1",
        "recurring.charge-reserved.v1",
        "recurring.charge-captured.v1",
        "recurring.charge-canceled.v1",
        "recurring.charge-failed.v1",
        "recurring.charge-creation-failed.v1",
        "user.checked-in.v1",
        "login.merchant-initiated.ping.v1",
    ];
    let url = format!("{}/hook", receiver.uri());
    register(&sim, &url, &all).await.assert_status(201);
    // A Recurring-only registration too.
    register(&sim, &url, &["recurring.charge-captured.v1"])
        .await
        .assert_status(201);
    // QR check-in takes one registration per unit (the events page).
    let second = register(&sim, &url, &["user.checked-in.v1"]).await;
    second.assert_status(400);
    // A made-up name is still refused.
    register(&sim, &url, &["epayments.payment.invented.v1"])
        .await
        .assert_status(400);

    let r = sim.authorized(1000).await;
    let mut got = Vec::new();
    for _ in 0..50 {
        got = receiver.received_requests().await.unwrap_or_default();
        if !got.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        got.len(),
        1,
        "only the ePayment event the simulator produces"
    );
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(body["name"], "AUTHORIZED");
    assert_eq!(body["reference"], r.as_str());
}

// ------------------------------------------------------------ deviation 5

#[tokio::test]
async fn a_create_key_reused_with_another_body_is_409_whether_the_first_succeeded_or_not() {
    let sim = Sim::start_unlimited().await;
    let create = |body: Value, k: String| {
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
    // First create succeeded: another reference, or another amount, is a 409.
    let k = key();
    let first = reference("first");
    create(web_body(&first, 1000), k.clone())
        .await
        .assert_status(201);
    let second = reference("second");
    let r = create(web_body(&second, 1000), k.clone()).await;
    assert_problem(&r, 409, Some("4020"));
    assert_problem(
        &create(web_body(&first, 2000), k.clone()).await,
        409,
        Some("4020"),
    );
    assert_eq!(sim.get(&second).await.status, 404, "no second payment");
    // The same body is a replay of the 201.
    let again = create(web_body(&first, 1000), k.clone()).await;
    again.assert_status(201);
    assert_eq!(again.json()["reference"], first.as_str());

    // First create failed validation: the same, 409 for another body.
    let k = key();
    let mut bad = web_body(&reference("bad"), 1000);
    bad["amount"]["value"] = json!(1);
    assert_problem(&create(bad, k.clone()).await, 400, None);
    let r = create(web_body(&reference("good"), 1000), k).await;
    assert_problem(&r, 409, Some("4020"));
}

// ------------------------------------------------------------ deviation 7

/// `--processing-ms` follows the virtual clock: on the standalone server a
/// capture processed for a minute answers as soon as the clock is advanced,
/// and meanwhile another capture of the payment gets 423.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advancing_the_clock_ends_the_processing_without_waiting_for_it() {
    use vipps_golive::simulator::{serve, Simulator};
    let sim = Simulator::new(SimConfig {
        rate_limits: false,
        processing: std::time::Duration::from_secs(60),
        ..SimConfig::default()
    });
    let server = serve::bind(sim, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = server.base_url().to_owned();
    let token: Value = http
        .post(format!("{base}/accesstoken/get"))
        .header("client_id", CLIENT_ID)
        .header("client_secret", CLIENT_SECRET)
        .header("Ocp-Apim-Subscription-Key", SUB_KEY)
        .header("Merchant-Serial-Number", MSN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let api = |method: reqwest::Method, path: String| {
        http.request(method, format!("{base}{path}"))
            .header("Authorization", &bearer)
            .header("Ocp-Apim-Subscription-Key", SUB_KEY)
            .header("Merchant-Serial-Number", MSN)
            .header("Idempotency-Key", key())
    };
    let r = reference("busy");
    let created = api(Method::POST, "/epayment/v1/payments".into())
        .json(&web_body(&r, 1000))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let approved = api(
        Method::POST,
        format!("/epayment/v1/test/payments/{r}/approve"),
    )
    .json(&json!({ "customer": { "phoneNumber": USER } }))
    .send()
    .await
    .unwrap();
    assert_eq!(approved.status(), 200);

    let capture = || {
        api(Method::POST, format!("/epayment/v1/payments/{r}/capture"))
            .json(&json!({ "modificationAmount": { "currency": "NOK", "value": 100 } }))
            .send()
    };
    let started = std::time::Instant::now();
    let first = tokio::spawn(capture());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let busy = capture().await.unwrap();
    assert_eq!(busy.status(), 423, "the payment is still being processed");
    let advanced = http
        .post(format!("{base}/__sim/clock/advance"))
        .json(&json!({ "seconds": 61 }))
        .send()
        .await
        .unwrap();
    assert!(advanced.status().is_success());
    let first = tokio::time::timeout(std::time::Duration::from_secs(10), first)
        .await
        .expect("the capture answers once the clock has moved past its processing")
        .unwrap()
        .unwrap();
    assert_eq!(first.status(), 200);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let payment: Value = api(Method::GET, format!("/epayment/v1/payments/{r}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        agg(&payment),
        [1000, 100, 0, 0],
        "the refused capture took no effect"
    );
    server.shutdown().await;
}

// ------------------------------------------------------------ deviation 6

fn express_body(reference: &str) -> Value {
    let mut b = web_body(reference, 1000);
    b["profile"] = json!({ "scope": "name address email phoneNumber" });
    b["shipping"] = json!({
        "fixedOptions": [{
            "brand": "POSTEN",
            "isDefault": true,
            "priority": 0,
            "options": [
                { "id": "posten-home", "name": "Home delivery", "isDefault": false, "priority": 1,
                  "amount": { "currency": "NOK", "value": 9900 } },
                { "id": "posten-pickup", "name": "Pick-up point", "isDefault": true, "priority": 0,
                  "amount": { "currency": "NOK", "value": 4900 } }
            ]
        }]
    });
    b
}

#[tokio::test]
async fn express_on_a_unit_not_approved_for_it_is_refused_with_5020() {
    let sim = Sim::start().await;
    let r = sim.create(&express_body(&reference("exp"))).await;
    assert_problem(&r, 400, Some("5020"));
    // The fresh unit too.
    let r = sim
        .create_as(UNIT_2, &express_body(&reference("exp")))
        .await;
    assert_problem(&r, 400, Some("5020"));
}

#[tokio::test]
async fn an_express_unit_returns_user_and_shipping_details_once_approved() {
    let mut config = SimConfig::default();
    vipps_golive::simulator::units::apply(
        r#"{"units":[{"msn":"123456","express":true,"longLiving":true,"pushMessage":true}]}"#,
        &mut config,
    )
    .unwrap();
    let sim = Sim::start_with(config).await;
    let r = reference("exp");
    sim.create(&express_body(&r)).await.assert_status(201);
    let created = sim.payment(&r).await;
    assert!(
        created.get("shippingDetails").is_none(),
        "nothing before approval"
    );
    sim.approve(&r).await.assert_status(200);
    let p = sim.payment(&r).await;
    let shipping = &p["shippingDetails"];
    assert_eq!(
        shipping["shippingOptionId"], "posten-pickup",
        "the default option"
    );
    assert_eq!(shipping["shippingCost"], 4900);
    for field in ["addressLine1", "city", "country", "postCode"] {
        assert!(shipping["address"][field].is_string(), "{field}: {p:#}");
    }
    let user = &p["userDetails"];
    assert_eq!(user["mobileNumber"], USER);
    for field in ["userId", "firstName", "lastName", "email"] {
        assert!(user[field].is_string(), "{field}: {p:#}");
    }
    // Express needs the scope it shares.
    let mut no_scope = express_body(&reference("exp"));
    no_scope["profile"] = json!({ "scope": "name" });
    sim.create(&no_scope).await.assert_status(400);
    // A payment without shipping stays as it was.
    let plain = sim.authorized(1000).await;
    let p = sim.payment(&plain).await;
    assert!(p.get("userDetails").is_none() && p.get("shippingDetails").is_none());
}

#[test]
fn the_units_flag_documents_the_market_with_an_example() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_vipps-golive"))
        .args(["simulator", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    for words in [
        "`market` (NO, DK or FI",
        "docs/units-dk-fi.json",
        "\"market\": \"DK\"",
    ] {
        assert!(help.contains(words), "{words} is not in --help:\n{help}");
    }
}

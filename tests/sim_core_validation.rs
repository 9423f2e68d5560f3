//! Validation through the routes (behaviour.md §4, §5, §11): Problem bodies naming the field.

use crate::sim_core_support;

use serde_json::{json, Value};
use sim_core_support::*;
use vipps_golive::simulator::SimConfig;

/// A fresh key per call: a refused create binds its key to that body (issue 14 point 3).
fn create(sim: &Sim, body: &Value) -> vipps_golive::simulator::SimResponse {
    let key = format!("k-validation-{}", uuid::Uuid::new_v4().simple());
    sim.create_with(body, &key)
}

fn problem_shape(r: &vipps_golive::simulator::SimResponse) {
    let b = json_of(r);
    assert_eq!(b["status"], r.status);
    assert!(b["type"].is_string() && b["title"].is_string());
    let trace = b["traceId"].as_str().unwrap();
    let parts: Vec<&str> = trace.split('-').collect();
    assert_eq!(
        (parts.len(), parts[0], parts[1].len(), parts[2].len()),
        (4, "00", 32, 16)
    );
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/problem+json"));
}

#[test]
fn malformed_json_is_a_400_problem_naming_the_body() {
    let sim = Sim::new();
    let r = sim.call("POST", "/epayment/v1/payments", Some("k"), "{\"amount\": ");
    assert_eq!(r.status, 400);
    problem_shape(&r);
    assert_eq!(fields(&r), vec!["Body".to_owned()]);
}

#[test]
fn bad_reference_in_the_body_names_reference() {
    let sim = Sim::new();
    for bad in ["short", "has space-00", "ÆØÅ-ref-000", &"x".repeat(51)] {
        let mut b = Sim::create_body("placeholder-1", 1000);
        b["reference"] = bad.into();
        let r = create(&sim, &b);
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(fields(&r), vec!["Reference".to_owned()]);
        problem_shape(&r);
    }
}

#[test]
fn bad_reference_in_the_path_is_a_400() {
    let sim = Sim::new();
    let r = sim.call("GET", "/epayment/v1/payments/a%20b", None, "");
    assert_eq!(r.status, 400);
}

#[test]
fn wrong_types_and_unknown_enums_name_the_field() {
    let sim = Sim::new();
    let cases = [
        (
            json!({"amount": {"currency": "NOK", "value": "100"}}),
            "Amount.Value",
        ),
        (
            json!({"amount": {"currency": "SEK", "value": 1000}}),
            "Amount.Currency",
        ),
        (
            json!({"paymentMethod": {"type": "CASH"}}),
            "PaymentMethod.Type",
        ),
        (json!({"userFlow": "FAX"}), "UserFlow"),
        (json!({"paymentDescription": "ab"}), "PaymentDescription"),
        (json!({"metadata": {"a": 1}}), "Metadata"),
        (
            json!({"customerInteraction": "MAYBE"}),
            "CustomerInteraction",
        ),
    ];
    for (patch, field) in cases {
        let mut b = Sim::create_body("types-0001", 1000);
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        let r = create(&sim, &b);
        assert_eq!(r.status, 400, "{patch}");
        assert_eq!(fields(&r), vec![field.to_owned()], "{patch}");
    }
}

#[test]
fn missing_required_fields_are_named() {
    let sim = Sim::new();
    for field in ["amount", "paymentMethod", "reference", "userFlow"] {
        let mut b = Sim::create_body("missing-0001", 1000);
        b.as_object_mut().unwrap().remove(field);
        let r = create(&sim, &b);
        assert_eq!(r.status, 400, "{field}");
        let named = fields(&r);
        assert!(
            named[0]
                .to_ascii_lowercase()
                .starts_with(&field.to_ascii_lowercase()),
            "{named:?}"
        );
    }
}

#[test]
fn amount_rules_give_the_catalogue_codes() {
    let sim = Sim::new();
    let cases = [
        (json!(249.5), "4040"),
        (json!(65_000_001), "4040"),
        (json!(-1), "4040"),
        (json!(99), "6010"),
    ];
    for (value, code) in cases {
        let mut b = Sim::create_body("amount-0001", 1000);
        b["amount"]["value"] = value.clone();
        let r = create(&sim, &b);
        assert_eq!(error_code(&r).as_deref(), Some(code), "{value}");
    }
    let mut b = Sim::create_body("amount-0002", 65_000_000);
    assert_eq!(create(&sim, &b).status, 201);
    // DKK belongs to Danish units (behaviour.md §4): the default units are Norwegian.
    b["reference"] = "amount-0003".into();
    b["amount"]["currency"] = "DKK".into();
    assert_eq!(error_code(&create(&sim, &b)).as_deref(), Some("5040"));
    let mut config = SimConfig::default();
    for a in &mut config.accounts {
        a.currency = "DKK".into();
    }
    let danish = Sim::with(config);
    b["reference"] = "amount-0004".into();
    b["amount"]["value"] = 1.into();
    assert_eq!(create(&danish, &b).status, 201, "DKK minimum is 1 øre");
}

#[test]
fn card_needs_web_redirect() {
    let sim = Sim::new();
    let mut b = Sim::create_body("card-0001", 1000);
    b["paymentMethod"]["type"] = "CARD".into();
    b["userFlow"] = "NATIVE_REDIRECT".into();
    assert_eq!(create(&sim, &b).status, 400);
    b["userFlow"] = "WEB_REDIRECT".into();
    // No freestanding CARD in the test environment (behaviour.md §14) ...
    let r = create(&sim, &b);
    assert_eq!((r.status, error_code(&r).as_deref()), (400, Some("4160")));
    // ... unless the sales unit is given the capability.
    let mut config = SimConfig::default();
    if let Some(c) = config.capabilities.get_mut("123456") {
        c.card = true;
    }
    let sim = Sim::with(config);
    assert_eq!(create(&sim, &b).status, 201);
}

#[test]
fn return_url_rules() {
    let sim = Sim::new();
    let mut b = Sim::create_body("return-0001", 1000);
    b.as_object_mut().unwrap().remove("returnUrl");
    let r = create(&sim, &b);
    assert_eq!((r.status, error_code(&r).as_deref()), (400, Some("4140")));
    b["returnUrl"] = "http://shop.example/".into();
    assert_eq!(error_code(&create(&sim, &b)).as_deref(), Some("4090"));
    // OPEN(§16.5): NATIVE_REDIRECT without returnUrl is accepted.
    b.as_object_mut().unwrap().remove("returnUrl");
    b["userFlow"] = "NATIVE_REDIRECT".into();
    assert_eq!(create(&sim, &b).status, 201);
}

#[test]
fn customer_rules_give_4070_4060_and_7010() {
    let sim = Sim::new();
    let mut b = Sim::create_body("customer-0001", 1000);
    b["customer"] = json!({"phoneNumber": "12345"});
    assert_eq!(error_code(&create(&sim, &b)).as_deref(), Some("4070"));
    b["customer"] = json!({"personalQr": "abc"});
    assert_eq!(error_code(&create(&sim, &b)).as_deref(), Some("4060"));
    b["customer"] = json!({"phoneNumber": "4799999999"});
    b["userFlow"] = "PUSH_MESSAGE".into();
    assert_eq!(error_code(&create(&sim, &b)).as_deref(), Some("7010"));
}

#[test]
fn metadata_limits_give_4100_4120_4130() {
    let sim = Sim::new();
    let mut b = Sim::create_body("metadata-0001", 1000);
    b["metadata"] = json!({"a":"1","b":"2","c":"3","d":"4","e":"5","f":"6"});
    assert_eq!(error_code(&create(&sim, &b)).as_deref(), Some("4100"));
    b["metadata"] = json!({ "k".repeat(101): "v" });
    assert_eq!(error_code(&create(&sim, &b)).as_deref(), Some("4120"));
    b["metadata"] = json!({ "k": "v".repeat(501) });
    assert_eq!(error_code(&create(&sim, &b)).as_deref(), Some("4130"));
}

#[test]
fn expires_at_needs_push_or_qr_and_a_receipt() {
    let sim = Sim::new();
    let in_a_day = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let mut b = Sim::create_body("expires-0001", 1000);
    b["expiresAt"] = in_a_day.into();
    assert_eq!(fields(&create(&sim, &b)), vec!["ExpiresAt".to_owned()]);
    b["userFlow"] = "QR".into();
    assert_eq!(error_code(&create(&sim, &b)).as_deref(), Some("6130"));
}

#[test]
fn expires_at_limit_of_60_days_can_be_switched_on() {
    let sim = Sim::new();
    sim.sim
        .with_engine(|e| e.ledger.rules.expires_at_max = chrono::Duration::days(60));
    let mut b = Sim::create_body("expires-0002", 1000);
    b["userFlow"] = "QR".into();
    b["expiresAt"] = (chrono::Utc::now() + chrono::Duration::days(45))
        .to_rfc3339()
        .into();
    b["receipt"] = json!({"orderLines": [{"name": "A", "id": "1", "totalAmount": 1000,
        "totalAmountExcludingTax": 800, "totalTaxAmount": 200, "taxPercentage": 25}],
        "bottomLine": {"currency": "NOK"}});
    assert_eq!(create(&sim, &b).status, 201);
}

#[test]
fn qr_format_only_with_qr_and_size_in_range() {
    let sim = Sim::new();
    let mut b = Sim::create_body("qrformat-0001", 1000);
    b["qrFormat"] = json!({"format": "IMAGE/PNG", "size": 500});
    // "Only applicable" to QR (spec): ignored on other flows, unless made strict.
    assert_eq!(create(&sim, &b).status, 201);
    let mut config = SimConfig::default();
    config.rules.qr_format_only_with_qr = true;
    let strict = Sim::with(config);
    assert_eq!(fields(&create(&strict, &b)), vec!["QrFormat".to_owned()]);
    b["reference"] = "qrformat-0002".into();
    b["userFlow"] = "QR".into();
    b["qrFormat"] = json!({"format": "IMAGE/PNG", "size": 99});
    assert_eq!(fields(&create(&sim, &b)), vec!["QrFormat.Size".to_owned()]);
    b["qrFormat"] = json!({"format": "IMAGE/GIF"});
    assert_eq!(
        fields(&create(&sim, &b)),
        vec!["QrFormat.Format".to_owned()]
    );
}

#[test]
fn profile_scope_with_an_unknown_word_is_4080() {
    let sim = Sim::new();
    let mut b = Sim::create_body("scope-0001", 1000);
    b["profile"] = json!({"scope": "name shoeSize"});
    assert_eq!(error_code(&create(&sim, &b)).as_deref(), Some("4080"));
}

#[test]
fn airline_data_needs_all_four_fields_with_their_lengths() {
    let sim = Sim::new();
    let mut b = Sim::create_body("airline-0001", 1000);
    b["industryData"] = json!({"airlineData": {"agencyInvoiceNumber": "123", "airlineCode": "074",
        "airlineDesignatorCode": "KL", "passengerName": "Ola Nordmann"}});
    assert_eq!(create(&sim, &b).status, 201);
    b["reference"] = "airline-0002".into();
    b["industryData"]["airlineData"]["airlineCode"] = "07".into();
    assert_eq!(
        fields(&create(&sim, &b)),
        vec!["IndustryData.AirlineData.AirlineCode".to_owned()]
    );
    b["industryData"]["airlineData"]
        .as_object_mut()
        .unwrap()
        .remove("passengerName");
    b["industryData"]["airlineData"]["airlineCode"] = "074".into();
    assert_eq!(
        fields(&create(&sim, &b)),
        vec!["IndustryData.AirlineData.PassengerName".to_owned()]
    );
}

#[test]
fn system_headers_over_30_chars_are_refused() {
    let sim = Sim::new();
    let long = "x".repeat(31);
    let headers = sim.auth(&[("Idempotency-Key", "k"), ("Vipps-System-Name", &long)]);
    let body = Sim::create_body("sysheader-0001", 1000).to_string();
    let r = sim.raw("POST", "/epayment/v1/payments", None, headers, &body);
    assert_eq!(r.status, 400);
    assert_eq!(fields(&r), vec!["Vipps-System-Name".to_owned()]);
}

#[test]
fn capture_without_modification_amount_is_a_400_naming_it() {
    let sim = Sim::new();
    sim.create("capbody-0001", 1000);
    sim.approve("capbody-0001");
    let r = sim.call(
        "POST",
        "/epayment/v1/payments/capbody-0001/capture",
        Some("k"),
        "{}",
    );
    assert_eq!(r.status, 400);
    assert_eq!(fields(&r), vec!["ModificationAmount".to_owned()]);
}

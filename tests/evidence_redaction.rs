//! Redaction at the boundary: every header, body field and URL parameter that
//! can carry a credential or a phone number.

use chrono::Utc;
use serde_json::json;
use vipps_golive::domain::redact::fingerprint;
use vipps_golive::evidence::{redact, Exchange, RawExchange};

fn raw() -> RawExchange {
    RawExchange {
        started_at: Utc::now(),
        duration_ms: 12,
        method: "POST".into(),
        url: "https://apitest.vipps.no/epayment/v1/payments".into(),
        request_headers: vec![],
        request_body: vec![],
        status: Some(200),
        response_headers: vec![],
        response_body: vec![],
        error: None,
        attempt: 1,
        reference: Some("acme-1-1".into()),
        checklist_ids: vec!["EP-CREATE".into()],
        scenario: None,
    }
}

fn masked(value: &str) -> String {
    format!("…{}", fingerprint(value))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap()
}

#[test]
fn authorization_keeps_its_scheme_and_the_first_eight_hex_of_the_value() {
    let token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.payload.signature";
    let sig = "SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=c2lnbmF0dXJl";
    let mut r = raw();
    r.request_headers = vec![
        ("Authorization".into(), format!("Bearer {token}")),
        ("proxy-authorization".into(), "Basic dXNlcjpwYXNz".into()),
    ];
    r.response_headers = vec![("authorization".into(), format!("HMAC-SHA256 {sig}"))];

    let e = redact::exchange(r);

    assert_eq!(
        header(&e.request_headers, "Authorization"),
        format!("Bearer {}", masked(token))
    );
    assert_eq!(
        header(&e.request_headers, "proxy-authorization"),
        format!("Basic {}", masked("dXNlcjpwYXNz"))
    );
    assert_eq!(
        header(&e.response_headers, "authorization"),
        format!("HMAC-SHA256 {}", masked(sig))
    );
    assert_eq!(masked(token).chars().count(), 9);
}

#[test]
fn subscription_key_client_id_and_client_secret_headers_are_masked_whatever_their_case() {
    let mut r = raw();
    r.request_headers = vec![
        ("Ocp-Apim-Subscription-Key".into(), "sub-key-value".into()),
        ("OCP-APIM-SUBSCRIPTION-KEY".into(), "sub-key-upper".into()),
        ("client_id".into(), "client-id-value".into()),
        ("Client_Secret".into(), "client-secret-value".into()),
        ("Merchant-Serial-Number".into(), "123456".into()),
        ("Idempotency-Key".into(), "idem-1".into()),
    ];

    let e = redact::exchange(r);

    assert_eq!(
        header(&e.request_headers, "Ocp-Apim-Subscription-Key"),
        masked("sub-key-value")
    );
    assert_eq!(
        header(&e.request_headers, "OCP-APIM-SUBSCRIPTION-KEY"),
        masked("sub-key-upper")
    );
    assert_eq!(
        header(&e.request_headers, "client_id"),
        masked("client-id-value")
    );
    assert_eq!(
        header(&e.request_headers, "Client_Secret"),
        masked("client-secret-value")
    );
    assert_eq!(
        header(&e.request_headers, "Merchant-Serial-Number"),
        "123456"
    );
    assert_eq!(header(&e.request_headers, "Idempotency-Key"), "idem-1");
}

#[test]
fn secret_fields_are_masked_anywhere_in_a_json_body() {
    let mut r = raw();
    r.response_body = json!({
        "token_type": "Bearer",
        "expires_in": "3600",
        "access_token": "at-value",
        "nested": {
            "client_secret": "cs-value",
            "list": [{"secret": "webhook-secret"}, {"token": "tok-value"}],
            "refresh_token": "rt-value",
            "password": "pw-value"
        }
    })
    .to_string()
    .into_bytes();

    let e = redact::exchange(r);

    assert_eq!(
        e.response_body,
        json!({
            "token_type": "Bearer",
            "expires_in": "3600",
            "access_token": masked("at-value"),
            "nested": {
                "client_secret": masked("cs-value"),
                "list": [{"secret": masked("webhook-secret")}, {"token": masked("tok-value")}],
                "refresh_token": masked("rt-value"),
                "password": masked("pw-value")
            }
        })
    );
}

#[test]
fn phone_numbers_keep_only_their_last_two_digits() {
    let mut r = raw();
    r.request_body = json!({
        "amount": {"currency": "NOK", "value": 1000},
        "customer": {"phoneNumber": "4791234567"},
        "reference": "acme-shop-123-order1",
        "userFlow": "PUSH_MESSAGE",
        "profile": {"scope": "name phoneNumber"}
    })
    .to_string()
    .into_bytes();
    r.response_body = json!({
        "userDetails": {"phoneNumber": 4712345678_u64},
        "customer": {"msisdn-ish": "+47 91234567"},
        "events": [{"customer": "4747753942"}]
    })
    .to_string()
    .into_bytes();

    let e = redact::exchange(r);

    assert_eq!(e.request_body["customer"]["phoneNumber"], "********67");
    assert_eq!(e.request_body["profile"]["scope"], "name phoneNumber");
    assert_eq!(e.request_body["reference"], "acme-shop-123-order1");
    assert_eq!(e.request_body["amount"]["value"], 1000);
    assert_eq!(e.response_body["userDetails"]["phoneNumber"], "********78");
    assert_eq!(e.response_body["customer"]["msisdn-ish"], "+** ******67");
    assert_eq!(e.response_body["events"][0]["customer"], "********42");
}

#[test]
fn token_query_parameters_are_masked_and_other_urls_are_untouched() {
    let mut r = raw();
    r.url = "https://landing.vipps.no/?v=2&token=landing-token-value&x=1".into();
    let plain = "https://apitest.vipps.no/epayment/v1/payments/acme-1%2D1/events?a=b%20c";
    let mut r2 = raw();
    r2.url = plain.into();
    let mut r3 = raw();
    r3.url = "http://127.0.0.1:1/cb?access_token=at-in-url".into();

    let (e, e2, e3) = (
        redact::exchange(r),
        redact::exchange(r2),
        redact::exchange(r3),
    );

    assert!(!e.url.contains("landing-token-value"), "{}", e.url);
    assert!(e.url.contains("v=2") && e.url.contains("x=1"), "{}", e.url);
    assert!(
        e.url.contains(&fingerprint("landing-token-value")),
        "{}",
        e.url
    );
    assert_eq!(e2.url, plain);
    assert!(!e3.url.contains("at-in-url"), "{}", e3.url);
}

#[test]
fn urls_inside_json_bodies_lose_their_tokens_too() {
    let mut r = raw();
    r.response_body = json!({
        "reference": "acme-1-1",
        "redirectUrl": "https://landing.vipps.no?token=eyJraWQiOiJqd3RrZXkiLCJhbGc"
    })
    .to_string()
    .into_bytes();

    let e = redact::exchange(r);

    let url = e.response_body["redirectUrl"].as_str().unwrap();
    assert!(!url.contains("eyJraWQiOiJqd3RrZXkiLCJhbGc"), "{url}");
    assert!(url.starts_with("https://landing.vipps.no?token=…"), "{url}");
}

#[test]
fn non_json_bodies_are_kept_as_text_but_scrubbed() {
    let mut r = raw();
    r.request_body =
        b"grant_type=client_credentials&client_id=form-id&client_secret=form-secret".to_vec();
    r.response_body = b"upstream said: Authorization: Bearer leaked-bearer-token-123 \xff".to_vec();
    r.error = Some("error sending request for url (http://127.0.0.1/x?token=err-token)".into());

    let e = redact::exchange(r);

    let req = e.request_body.as_str().unwrap();
    let resp = e.response_body.as_str().unwrap();
    let err = e.error.unwrap();
    assert!(req.contains("grant_type=client_credentials"), "{req}");
    assert!(
        !req.contains("form-secret") && !req.contains("form-id"),
        "{req}"
    );
    assert!(!resp.contains("leaked-bearer-token-123"), "{resp}");
    assert!(resp.contains('\u{fffd}'), "lossy UTF-8: {resp}");
    assert!(!err.contains("err-token"), "{err}");
}

#[test]
fn truncated_json_bodies_are_still_scrubbed_as_text() {
    let mut r = raw();
    r.response_body =
        br#"{"token_type":"Bearer","access_token":"cut-short-token","expires_in":"36"#.to_vec();

    let e = redact::exchange(r);

    let body = e.response_body.as_str().unwrap();
    assert!(!body.contains("cut-short-token"), "{body}");
}

#[test]
fn empty_bodies_are_null_and_ids_are_unique_v4_uuids() {
    let ids: std::collections::HashSet<String> =
        (0..200).map(|_| redact::exchange(raw()).id).collect();

    assert_eq!(ids.len(), 200);
    for id in &ids {
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
    }
    let e: Exchange = Exchange::from_raw(raw());
    assert_eq!(e.request_body, serde_json::Value::Null);
    assert_eq!(e.schema_version, vipps_golive::evidence::SCHEMA_VERSION);
}

#[test]
fn redacting_an_exchange_twice_gives_the_same_values() {
    let mut r = raw();
    r.request_headers = vec![("Authorization".into(), "Bearer abcdefgh123".into())];
    let once = redact::exchange(r);

    let again = redact::headers(once.request_headers.clone());

    assert_eq!(again, once.request_headers);
}

mod property {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn no_planted_token_survives_wherever_it_is_put(token in "[A-Za-z0-9._~+/=-]{12,40}") {
            let mut r = raw();
            r.url = format!("https://landing.vipps.no/?token={token}&v=2");
            r.request_headers = vec![
                ("authorization".into(), format!("Bearer {token}")),
                ("Ocp-Apim-Subscription-Key".into(), token.clone()),
            ];
            r.request_body = format!("grant_type=client_credentials&client_secret={token}").into_bytes();
            r.response_body = json!({"access_token": token, "deep": [{"refresh_token": token}]})
                .to_string()
                .into_bytes();
            r.error = Some(format!("bad response: Bearer {token}"));

            let e = redact::exchange(r);

            let stored = serde_json::to_string(&e).unwrap();
            prop_assert!(!stored.contains(&token), "{} leaked in {}", token, stored);
        }
    }
}

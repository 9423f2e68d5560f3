//! [`super::exchange_jsonl`] writes the line [`super::exchange`] gives, field
//! for field, whether a body's redaction is kept or not.

use chrono::{TimeZone, Utc};

use super::{exchange, exchange_jsonl, register_secret};
use crate::domain::exchange::RawExchange;

const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqc29ubC1jYW5hcnkifQ.c2lnbmF0dXJlLWpzb25s";

fn raw(
    method: &str,
    url: &str,
    request_headers: &[(&str, &str)],
    request_body: &str,
    response_body: &str,
) -> RawExchange {
    let pairs = |h: &[(&str, &str)]| -> Vec<(String, String)> {
        h.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    RawExchange {
        started_at: Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap(),
        duration_ms: 0,
        method: method.to_owned(),
        url: url.to_owned(),
        request_headers: pairs(request_headers),
        request_body: request_body.as_bytes().to_vec(),
        status: Some(200),
        response_headers: pairs(&[("content-type", "application/json")]),
        response_body: response_body.as_bytes().to_vec(),
        error: None,
        attempt: 1,
        reference: Some("ref-1".to_owned()),
        checklist_ids: vec!["EP-GET".to_owned()],
        scenario: None,
    }
}

/// The line of `raw`, its `id` blanked.
fn fast(raw: &RawExchange) -> String {
    let mut out = Vec::new();
    exchange_jsonl(raw.clone(), &mut out);
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.ends_with('\n') && text.matches('\n').count() == 1,
        "{text}"
    );
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["id"] = "".into();
    serde_json::to_string(&v).unwrap()
}

/// What [`exchange`] makes of `raw`, its `id` blanked, in the same form.
fn slow(raw: &RawExchange) -> String {
    let mut v = serde_json::to_value(exchange(raw.clone())).unwrap();
    v["id"] = "".into();
    serde_json::to_string(&v).unwrap()
}

/// Writes the line three times (the later ones from the kept redaction)
/// and checks each against [`exchange`]; returns it.
fn same_line(raw: &RawExchange) -> String {
    let first = fast(raw);
    assert_eq!(first, slow(raw));
    for _ in 0..2 {
        assert_eq!(fast(raw), first);
    }
    // Byte for byte too, but for the id: the field order is the Exchange's.
    let mut out = Vec::new();
    exchange_jsonl(raw.clone(), &mut out);
    let ex = exchange(raw.clone());
    let mut expected = serde_json::to_vec(&ex).unwrap();
    expected.push(b'\n');
    let blank = |b: &[u8], id: &str| String::from_utf8_lossy(b).replacen(id, "", 1);
    let id = serde_json::from_slice::<serde_json::Value>(&out).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(blank(&out, &id), blank(&expected, &ex.id));
    first
}

#[test]
fn a_polled_payment_answer_gives_the_line_exchange_gives() {
    let body = format!(
        r#"{{"amount":{{"currency":"NOK","value":1000}},"state":"CREATED","reference":"ref-1","redirectUrl":"http://127.0.0.1:1/deeplink?v=2&token={JWT}","profile":{{}}}}"#
    );
    let r = raw(
        "GET",
        "http://127.0.0.1:1/epayment/v1/payments/ref-1",
        &[
            ("authorization", "Bearer jsonl-bearer-canary-1"),
            ("ocp-apim-subscription-key", "jsonl-key-canary-2"),
            ("merchant-serial-number", "123456"),
        ],
        "",
        &body,
    );
    let line = same_line(&r);
    for canary in [JWT, "jsonl-bearer-canary-1", "jsonl-key-canary-2"] {
        assert!(!line.contains(canary), "{canary} in {line}");
    }
    assert!(line.contains("CREATED"), "{line}");
}

#[test]
fn a_token_answer_never_reaches_the_line_in_clear() {
    let r = raw(
        "POST",
        "http://127.0.0.1:1/accesstoken/get",
        &[
            ("client_id", "jsonl-client-id-canary"),
            ("client_secret", "jsonl-client-secret-canary"),
        ],
        "",
        r#"{"access_token":"jsonl-access-token-canary","token_type":"Bearer","expires_in":"3600"}"#,
    );
    let line = same_line(&r);
    for canary in [
        "jsonl-access-token-canary",
        "jsonl-client-id-canary",
        "jsonl-client-secret-canary",
    ] {
        assert!(!line.contains(canary), "{canary} in {line}");
    }
    assert!(line.contains(&super::mask("jsonl-access-token-canary")));
}

#[test]
fn a_jwt_in_an_odd_header_or_body_field_is_redacted_every_time() {
    let r = raw(
        "POST",
        "http://127.0.0.1:1/epayment/v1/payments",
        &[
            ("x-odd-header", &format!("see {JWT}")),
            ("host", "127.0.0.1:1"),
        ],
        &format!(
            r#"{{"reference":"ref-1","metadata":{{"note":"{JWT}"}},"customer":{{"phoneNumber":"4791234567"}},"list":["x","{JWT}"]}}"#
        ),
        r#"{"reference":"ref-1"}"#,
    );
    let line = same_line(&r);
    assert!(!line.contains(JWT), "{line}");
    assert!(!line.contains("4791234567"), "{line}");
}

#[test]
fn urls_errors_and_text_bodies_are_redacted_as_exchange_does() {
    let mut r = raw(
        "POST",
        "http://user:jsonl-pw-canary@127.0.0.1:1/x?client_secret=jsonl-cs-canary&a=1",
        &[("content-type", "text/plain")],
        "grant_type=client_credentials&client_secret=jsonl-form-canary",
        "not json: Bearer jsonl-text-bearer-canary",
    );
    r.error = Some("failed for http://127.0.0.1:1/?token=jsonl-err-canary".to_owned());
    let line = same_line(&r);
    for canary in [
        "jsonl-pw-canary",
        "jsonl-cs-canary",
        "jsonl-form-canary",
        "jsonl-text-bearer-canary",
        "jsonl-err-canary",
    ] {
        assert!(!line.contains(canary), "{canary} in {line}");
    }
}

#[test]
fn a_kept_body_is_redacted_again_once_a_secret_in_it_is_registered() {
    let body = r#"{"reference":"ref-1","paymentDescription":"jsonl-late-secret-canary-9"}"#;
    let r = raw(
        "GET",
        "http://127.0.0.1:1/p/jsonl-late-secret-canary-9",
        &[("x-note", "jsonl-late-secret-canary-9")],
        "",
        body,
    );
    let before = same_line(&r);
    assert!(before.contains("jsonl-late-secret-canary-9"));
    register_secret("jsonl-late-secret-canary-9");
    let after = same_line(&r);
    assert!(!after.contains("jsonl-late-secret-canary-9"), "{after}");
}

#[test]
fn the_exchange_s_own_credential_echoed_in_a_kept_body_is_hidden() {
    // The body is kept first without the credential in play...
    let body = r#"{"detail":"jsonl-echo-canary-4 was refused"}"#;
    let plain = raw("GET", "http://127.0.0.1:1/p", &[], "", body);
    same_line(&plain);
    // ...then the same body answers a request carrying it as a credential.
    let r = raw(
        "GET",
        "http://127.0.0.1:1/p",
        &[("ocp-apim-subscription-key", "jsonl-echo-canary-4")],
        "",
        body,
    );
    let line = same_line(&r);
    assert!(!line.contains("jsonl-echo-canary-4"), "{line}");
}

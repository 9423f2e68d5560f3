//! The audit streams: every line is judged and copied in journal order, and a
//! bad line deep in the file is named by its number.

use crate::audit::{audit, Filter};
use crate::evidence::{Exchange, SCHEMA_VERSION};
use crate::rules::RuleOptions;
use chrono::{DateTime, Duration, Utc};

fn get(i: i64) -> String {
    let t0 = DateTime::<Utc>::from_timestamp(1_780_000_000, 0).unwrap();
    let e = Exchange {
        schema_version: SCHEMA_VERSION,
        id: format!("x-{i}"),
        started_at: t0 + Duration::seconds(i),
        duration_ms: 0,
        method: "GET".into(),
        url: format!("http://127.0.0.1:7777/epayment/v1/payments/stream-order{i}-1"),
        request_headers: vec![("Merchant-Serial-Number".into(), "123456".into())],
        request_body: serde_json::Value::Null,
        status: Some(404),
        response_headers: Vec::new(),
        response_body: serde_json::Value::Null,
        error: None,
        attempt: 1,
        reference: None,
        checklist_ids: Vec::new(),
        scenario: None,
        kind: None,
    };
    serde_json::to_string(&e).unwrap()
}

#[test]
fn a_long_journal_is_judged_and_copied_in_order() {
    let mut lines: Vec<String> = (0..6_000).map(get).collect();
    lines.insert(3_336, "{\"truncated\": ".into());
    let journal = lines.join("\n") + "\n";
    let mut copy = Vec::new();

    let outcome = audit(
        journal.as_bytes(),
        &Filter::default(),
        RuleOptions::default(),
        &mut copy,
    )
    .unwrap();

    assert_eq!(outcome.lines, 6_001);
    assert_eq!(outcome.judged, 6_000);
    assert_eq!(outcome.bad_lines.len(), 1);
    assert_eq!(outcome.bad_lines[0].line, 3_337);
    let expected: Vec<String> = (0..6_000).map(get).collect();
    assert_eq!(String::from_utf8(copy).unwrap(), expected.join("\n") + "\n");
    assert_eq!(outcome.observed.errors, 6_000);
    // Over KEEP_ALL_EXCHANGES: only exchanges behind findings are kept.
    assert!(!outcome.all_exchanges);
}

#[test]
fn past_the_cap_the_exchanges_that_decide_an_item_are_kept_whatever_the_findings() {
    // Issue 24 point 7: 6 000 error answers fill the exchanges kept behind
    // findings; a capture answered 200 at the end decides EP-CAPTURE and is
    // kept all the same, and so is each error answer's first few.
    let mut lines: Vec<String> = (0..6_000).map(get).collect();
    let mut capture: Exchange = serde_json::from_str(&get(6_000)).unwrap();
    capture.id = "the-capture".into();
    capture.method = "POST".into();
    capture.url = "http://127.0.0.1:7777/epayment/v1/payments/stream-order1-1/capture".into();
    capture.status = Some(200);
    lines.push(serde_json::to_string(&capture).unwrap());
    let journal = lines.join("\n") + "\n";

    let outcome = audit(
        journal.as_bytes(),
        &Filter::default(),
        RuleOptions::default(),
        std::io::sink(),
    )
    .unwrap();

    assert!(!outcome.all_exchanges);
    assert_eq!(outcome.judged, 6_001);
    let ids: Vec<&str> = outcome.exchanges.iter().map(|e| e.id.as_str()).collect();
    assert!(ids.contains(&"the-capture"), "{} kept", ids.len());
    assert!(ids.contains(&"x-0"));
    assert!(ids.len() <= crate::audit::KEEP_OFFENDING + 9 * crate::audit::KEEP_WITNESSES);
    // In journal order, each once.
    let mut sorted = outcome.exchanges.clone();
    sorted.sort_by_key(|e| e.started_at);
    assert_eq!(
        sorted.iter().map(|e| &e.id).collect::<Vec<_>>(),
        outcome.exchanges.iter().map(|e| &e.id).collect::<Vec<_>>()
    );
}

/// Credentials where the fast check of a line must still see them: a JWT
/// in a reference, a header name and an event name, a bearer token in the
/// error text, a secret field in JSON held in a string (escaped quotes), a
/// JWT spelled with a `\u` escape. None reaches the copy; the clean lines
/// around them are copied byte for byte.
#[test]
fn a_credential_in_an_odd_place_is_redacted_in_the_copy() {
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvZGQtcGxhY2UifQ.b2RkLXNpZ25hdHVyZQ";
    let escaped_jwt = jwt.replacen('e', "\\u0065", 1);
    let clean = get(0);
    let with = |from: &str, to: &str| {
        let line = get(1).replacen(from, to, 1);
        assert_ne!(line, get(1), "{from}");
        line
    };
    let odd = [
        with("\"reference\":null", &format!("\"reference\":\"{jwt}\"")),
        with(
            "[\"Merchant-Serial-Number\",\"123456\"]",
            &format!("[\"Merchant-Serial-Number\",\"123456\"],[\"x-{jwt}\",\"1\"]"),
        ),
        with(
            "\"response_body\":null",
            &format!("\"response_body\":[{{\"name\":\"{jwt}\"}}]"),
        ),
        with(
            "\"error\":null",
            "\"error\":\"upstream: bearer CANARY-odd-bearer-1\"",
        ),
        with(
            "\"request_body\":null",
            "\"request_body\":\"{\\\"password\\\":\\\"CANARY-odd-password-2\\\"}\"",
        ),
        with("\"error\":null", &format!("\"error\":\"{escaped_jwt}\"")),
    ];
    let mut journal = String::new();
    for line in &odd {
        journal.push_str(&clean);
        journal.push('\n');
        journal.push_str(line);
        journal.push('\n');
    }
    let mut copy = Vec::new();
    let outcome = audit(
        journal.as_bytes(),
        &Filter::default(),
        RuleOptions::default(),
        &mut copy,
    )
    .unwrap();
    assert_eq!(outcome.judged, 2 * odd.len() as u64);
    let copy = String::from_utf8(copy).unwrap();
    for canary in [jwt, "CANARY-odd-bearer-1", "CANARY-odd-password-2"] {
        assert!(!copy.contains(canary), "{canary} in {copy}");
    }
    assert!(!copy.contains(&escaped_jwt), "{copy}");
    let lines: Vec<&str> = copy.lines().collect();
    assert_eq!(lines.len(), 2 * odd.len());
    for pair in lines.chunks(2) {
        assert_eq!(pair[0], clean);
        let e: Exchange = serde_json::from_str(pair[1]).unwrap();
        assert_eq!(e.id, "x-1", "{}", pair[1]);
    }
}

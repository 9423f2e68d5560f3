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

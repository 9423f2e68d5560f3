//! `evidence.json` pinned as a snapshot, its volatile values (times, ports,
//! ids, keys, fingerprints, durations) normalised, so a change to its shape
//! shows up in review as a diff of `tests/snapshots/`.
//!
//! Update with `INSTA_UPDATE=always cargo test --test report_snapshot` (or
//! `cargo insta review`) after a deliberate change, and document it in
//! `docs/evidence-schema.md`.

use crate::report_support;

use regex::Regex;
use serde_json::Value;

/// Keys whose values differ on every run whatever their shape.
const VOLATILE_KEYS: &[&str] = &[
    "duration_ms",
    "pspReference",
    "psp_reference",
    "traceId",
    "trace_id",
    "token",
];

fn normalise(value: &mut Value, rules: &[(Regex, &str)]) {
    match value {
        Value::String(s) => {
            for (re, with) in rules {
                if re.is_match(s) {
                    *s = re.replace_all(s, *with).into_owned();
                }
            }
        }
        Value::Array(items) => {
            // Header pairs: a volatile header's value goes.
            if let [Value::String(name), Value::String(v)] = items.as_mut_slice() {
                let lower = name.to_ascii_lowercase();
                if ["date", "x-request-id", "vipps-trace-id", "traceparent"]
                    .contains(&lower.as_str())
                {
                    *v = "[volatile]".into();
                }
            }
            for v in items {
                normalise(v, rules);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if VOLATILE_KEYS.contains(&k.as_str()) && !v.is_null() {
                    *v = Value::String("[volatile]".into());
                } else {
                    normalise(v, rules);
                }
            }
        }
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn evidence_json_of_a_fixture_run_keeps_its_shape() {
    let dir = tempfile::tempdir().unwrap();
    let run = report_support::run(dir.path()).await;
    let mut evidence = run.evidence.clone();
    // Keep the snapshot readable: the expiry flow polls 300 times; three
    // polls and three exchanges per reference show the shape as well.
    for r in &mut evidence.references {
        r.polls.truncate(3);
        r.exchange_ids.truncate(3);
    }
    let kept: Vec<String> = evidence
        .references
        .iter()
        .flat_map(|r| r.exchange_ids.clone())
        .collect();
    let first_token = evidence
        .exchanges
        .iter()
        .position(|e| e.reference.is_none());
    evidence.exchanges = evidence
        .exchanges
        .iter()
        .enumerate()
        .filter(|(i, e)| kept.contains(&e.id) || Some(*i) == first_token)
        .map(|(_, e)| e.clone())
        .collect();

    let mut value = serde_json::to_value(&evidence).unwrap();
    let rules = [
        (
            Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})").unwrap(),
            "[time]",
        ),
        (Regex::new(r"127\.0\.0\.1:\d+").unwrap(), "127.0.0.1:[port]"),
        (
            Regex::new(
                r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
            )
            .unwrap(),
            "[uuid]",
        ),
        (Regex::new(r"…[0-9a-f]{8}").unwrap(), "…[fingerprint]"),
        (Regex::new(r"\b[0-9a-f]{32,}\b").unwrap(), "[hex]"),
        (Regex::new(r"\b\d{9,}\b").unwrap(), "[number]"),
    ];
    normalise(&mut value, &rules);
    let text = serde_json::to_string_pretty(&value).unwrap();
    assert!(!text.contains(report_support::CANARY_STEM));
    insta::assert_snapshot!("fixture_evidence", text);
}

//! The JSONL journal: appended and handed to the OS as each exchange happens,
//! read back tolerating a crash mid-write.

use std::io::Write;
use std::sync::Arc;

use chrono::Utc;
use vipps_golive::evidence::journal::JournalError;
use vipps_golive::evidence::{Exchange, Journal, RawExchange, Recorder};

fn exchange(reference: &str) -> Exchange {
    Exchange::from_raw(RawExchange {
        started_at: Utc::now(),
        duration_ms: 3,
        method: "GET".into(),
        url: format!("https://apitest.vipps.no/epayment/v1/payments/{reference}"),
        request_headers: vec![("Authorization".into(), "Bearer some-token-value".into())],
        request_body: vec![],
        status: Some(200),
        response_headers: vec![],
        response_body: br#"{"state":"AUTHORIZED"}"#.to_vec(),
        error: None,
        attempt: 1,
        reference: Some(reference.into()),
        checklist_ids: vec!["EP-GET".into()],
        scenario: Some("journal test".into()),
    })
}

#[test]
fn each_exchange_is_on_disk_while_the_journal_is_still_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run/journal.jsonl");
    let journal = Journal::create(&path).unwrap();
    let first = exchange("acme-1-1");

    journal.record(&first);
    let text = std::fs::read_to_string(&path).unwrap();

    assert_eq!(text.lines().count(), 1);
    assert!(text.ends_with('\n'));
    let line: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
    assert_eq!(line["schema_version"], 1);
    assert_eq!(line["id"], first.id.as_str());
    assert_eq!(Journal::read(&path).unwrap(), vec![first]);
    drop(journal);
}

#[test]
fn open_append_keeps_what_was_there_and_create_starts_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    Journal::create(&path)
        .unwrap()
        .record(&exchange("acme-1-1"));

    Journal::open_append(&path)
        .unwrap()
        .record(&exchange("acme-2-1"));
    let appended = Journal::read(&path).unwrap();
    Journal::create(&path).unwrap();
    let fresh = Journal::read(&path).unwrap();

    assert_eq!(appended.len(), 2);
    assert_eq!(appended[1].reference.as_deref(), Some("acme-2-1"));
    assert!(fresh.is_empty());
}

#[test]
fn concurrent_recorders_never_interleave_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let journal = Arc::new(Journal::create(&path).unwrap());

    let handles: Vec<_> = (0..8)
        .map(|t| {
            let journal = journal.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    journal.record(&exchange(&format!("acme-{t}-{i}")));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }

    let read = Journal::read(&path).unwrap();
    assert_eq!(read.len(), 400);
}

#[test]
fn a_truncated_last_line_is_dropped_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let journal = Journal::create(&path).unwrap();
    journal.record(&exchange("acme-1-1"));
    journal.record(&exchange("acme-2-1"));
    let whole = serde_json::to_string(&exchange("acme-3-1")).unwrap();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(&whole.as_bytes()[..whole.len() / 2]).unwrap();

    let read = Journal::read(&path).unwrap();

    assert_eq!(read.len(), 2);
    assert_eq!(read[1].reference.as_deref(), Some("acme-2-1"));
}

#[test]
fn malformed_lines_in_the_middle_are_reported_by_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let good = serde_json::to_string(&exchange("acme-1-1")).unwrap();
    std::fs::write(
        &path,
        format!("{good}\nnot json\n\n{{\"schema_version\":1}}\n{good}\n{{\"no_version\":true}}\n"),
    )
    .unwrap();

    let err = Journal::read(&path).unwrap_err();

    match &err {
        JournalError::Malformed { lines, .. } => {
            let numbers: Vec<usize> = lines.iter().map(|(n, _)| *n).collect();
            assert_eq!(numbers, vec![2, 4, 6], "{err}");
        }
        other => panic!("expected Malformed, got {other}"),
    }
    assert!(err.to_string().contains("line 2: not JSON"), "{err}");
}

#[test]
fn a_journal_from_a_newer_schema_is_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let mut v = serde_json::to_value(exchange("acme-1-1")).unwrap();
    v["schema_version"] = 99.into();
    std::fs::write(&path, format!("{v}\n")).unwrap();

    let err = Journal::read(&path).unwrap_err();

    assert!(err.to_string().contains("upgrade vipps-golive"), "{err}");
}

#[test]
fn a_failing_write_is_reported_not_panicked() {
    // /dev/full accepts the open and fails every write with ENOSPC.
    if !std::path::Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full on this system");
        return;
    }
    let journal = Journal::open_append("/dev/full").unwrap();

    journal.record(&exchange("acme-1-1"));
    let err = journal.append(&exchange("acme-1-1")).unwrap_err();

    assert!(err.to_string().contains("could not append"), "{err}");
}

#[test]
fn reading_a_missing_journal_names_the_file() {
    let err = Journal::read("/nonexistent/journal.jsonl").unwrap_err();

    assert!(
        err.to_string().contains("/nonexistent/journal.jsonl"),
        "{err}"
    );
}

//! How fast and how lean `audit` streams a long journal: writes a journal of
//! `BENCH_AUDIT_LINES` (1 000 000) exchange lines shaped like the simulator's
//! (`--journal`), then runs `vipps-golive audit --journal FILE` on it, in this
//! process through the library's public entry (`vipps_golive::run_cli`), and
//! reports lines per second, the time and the peak resident memory of the
//! whole command (the folder it writes included). `cargo bench --bench audit`.
//!
//! Each payment is nine lines: create, two polls while CREATED, one at
//! AUTHORIZED, a capture and its read, a refund and its read, the event log.

use std::ffi::OsStr;
use std::io::{BufWriter, Write};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use vipps_golive::evidence::model::Evidence;
use vipps_golive::evidence::{Exchange, SCHEMA_VERSION};

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// User + system CPU seconds of this process so far (clock ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = f.get(11)?.parse().ok()?;
            let stime: f64 = f.get(12)?.parse().ok()?;
            Some((utime + stime) / 100.0)
        })
        .unwrap_or(0.0)
}

fn headers(post: bool) -> Vec<(String, String)> {
    let mut h = vec![
        ("host".to_owned(), "127.0.0.1:7777".to_owned()),
        ("authorization".to_owned(), "Bearer …1a2b3c4d".to_owned()),
        (
            "ocp-apim-subscription-key".to_owned(),
            "…5e6f7a8b".to_owned(),
        ),
        ("merchant-serial-number".to_owned(), "123456".to_owned()),
        ("vipps-system-name".to_owned(), "bench-shop".to_owned()),
        ("vipps-system-version".to_owned(), "1.2.3".to_owned()),
        (
            "vipps-system-plugin-name".to_owned(),
            "bench-checkout".to_owned(),
        ),
        ("vipps-system-plugin-version".to_owned(), "4.5.6".to_owned()),
        ("content-type".to_owned(), "application/json".to_owned()),
        ("accept".to_owned(), "*/*".to_owned()),
    ];
    if post {
        h.push((
            "idempotency-key".to_owned(),
            uuid::Uuid::new_v4().to_string(),
        ));
    }
    h
}

fn payment_body(reference: &str, state: &str, captured: i64, refunded: i64) -> Value {
    json!({
        "aggregate": {
            "authorizedAmount": {"currency": "NOK", "value": 1000},
            "cancelledAmount": {"currency": "NOK", "value": 0},
            "capturedAmount": {"currency": "NOK", "value": captured},
            "refundedAmount": {"currency": "NOK", "value": refunded}
        },
        "amount": {"currency": "NOK", "value": 1000},
        "state": state,
        "paymentMethod": {"type": "WALLET"},
        "profile": {},
        "pspReference": "7686f7788898767977",
        "reference": reference
    })
}

#[allow(clippy::too_many_arguments)]
fn line(
    out: &mut impl Write,
    at: DateTime<Utc>,
    method: &str,
    path: &str,
    request: Value,
    status: u16,
    response: Value,
) {
    let e = Exchange {
        schema_version: SCHEMA_VERSION,
        id: uuid::Uuid::new_v4().to_string(),
        started_at: at,
        duration_ms: 0,
        method: method.to_owned(),
        url: format!("http://127.0.0.1:7777{path}"),
        request_headers: headers(method == "POST"),
        request_body: request,
        status: Some(status),
        response_headers: vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("x-request-id".to_owned(), uuid::Uuid::new_v4().to_string()),
        ],
        response_body: response,
        error: None,
        attempt: 1,
        reference: None,
        checklist_ids: Vec::new(),
        scenario: None,
        kind: None,
    };
    serde_json::to_writer(&mut *out, &e).unwrap();
    out.write_all(b"\n").unwrap();
}

/// Writes whole payments (nine lines each) until `lines` are written; returns
/// how many were.
fn write_journal(path: &std::path::Path, lines: u64) -> u64 {
    let mut out = BufWriter::new(std::fs::File::create(path).unwrap());
    let t0 = DateTime::<Utc>::from_timestamp(1_780_000_000, 0).unwrap();
    let mut written = 0;
    let mut n = 0u64;
    while written < lines {
        n += 1;
        let r = format!("bench-shop-order{n}-1");
        let p = format!("/epayment/v1/payments/{r}");
        let t = t0 + Duration::milliseconds(n as i64 * 50);
        let money = |v: i64| json!({"modificationAmount": {"currency": "NOK", "value": v}});
        line(
            &mut out,
            t,
            "POST",
            "/epayment/v1/payments",
            json!({
            "amount": {"currency": "NOK", "value": 1000}, "paymentMethod": {"type": "WALLET"},
            "reference": r, "userFlow": "WEB_REDIRECT",
            "returnUrl": format!("https://shop.example/return?reference={r}"),
            "paymentDescription": "Two mugs"}),
            201,
            json!({"redirectUrl": format!("http://127.0.0.1:7777/landing/{r}"), "reference": r}),
        );
        line(
            &mut out,
            t + Duration::seconds(5),
            "GET",
            &p,
            Value::Null,
            200,
            payment_body(&r, "CREATED", 0, 0),
        );
        line(
            &mut out,
            t + Duration::seconds(7),
            "GET",
            &p,
            Value::Null,
            200,
            payment_body(&r, "CREATED", 0, 0),
        );
        line(
            &mut out,
            t + Duration::seconds(9),
            "GET",
            &p,
            Value::Null,
            200,
            payment_body(&r, "AUTHORIZED", 0, 0),
        );
        line(
            &mut out,
            t + Duration::seconds(10),
            "POST",
            &format!("{p}/capture"),
            money(1000),
            200,
            payment_body(&r, "AUTHORIZED", 1000, 0),
        );
        line(
            &mut out,
            t + Duration::seconds(11),
            "GET",
            &p,
            Value::Null,
            200,
            payment_body(&r, "AUTHORIZED", 1000, 0),
        );
        line(
            &mut out,
            t + Duration::seconds(12),
            "POST",
            &format!("{p}/refund"),
            money(400),
            200,
            payment_body(&r, "AUTHORIZED", 1000, 400),
        );
        line(
            &mut out,
            t + Duration::seconds(13),
            "GET",
            &p,
            Value::Null,
            200,
            payment_body(&r, "AUTHORIZED", 1000, 400),
        );
        line(
            &mut out,
            t + Duration::seconds(14),
            "GET",
            &format!("{p}/events"),
            Value::Null,
            200,
            json!([
                {"name": "CREATED", "amount": {"currency": "NOK", "value": 1000}, "timestamp": t.to_rfc3339(), "success": true},
                {"name": "AUTHORIZED", "amount": {"currency": "NOK", "value": 1000}, "timestamp": t.to_rfc3339(), "success": true},
                {"name": "CAPTURED", "amount": {"currency": "NOK", "value": 1000}, "timestamp": t.to_rfc3339(), "success": true},
                {"name": "REFUNDED", "amount": {"currency": "NOK", "value": 400}, "timestamp": t.to_rfc3339(), "success": true}
            ]),
        );
        written += 9;
    }
    out.flush().unwrap();
    written
}

fn main() {
    let lines: u64 = std::env::var("BENCH_AUDIT_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    // BENCH_AUDIT_JOURNAL=FILE keeps the journal there and reuses it when it
    // exists (for profiling the audit alone); else a temporary one is written.
    let path = std::env::var_os("BENCH_AUDIT_JOURNAL")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("journal.jsonl"));
    let t = Instant::now();
    let written = if path.exists() {
        std::fs::read(&path)
            .map(|b| count_lines(&b))
            .unwrap_or(lines)
    } else {
        write_journal(&path, lines)
    };
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "journal: {lines} lines asked, {:.0} MB, written in {:.1} s",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let rss_before = status_kib("VmRSS:");
    println!("memory: RSS before the audits {} MB", rss_before / 1024);
    {
        let out = dir.path().join("reports");
        let cpu_before = cpu_seconds();
        let t = Instant::now();
        // `vipps-golive audit --journal FILE --out DIR`: every judged line is
        // copied into the evidence folder's journal.jsonl, and the folder is
        // written and sealed, as a user's audit does.
        let code = vipps_golive::run_cli([
            OsStr::new("vipps-golive"),
            OsStr::new("audit"),
            OsStr::new("--journal"),
            path.as_os_str(),
            OsStr::new("--out"),
            out.as_os_str(),
        ]);
        let elapsed = t.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu_before;
        let evidence_path = out.join("latest").join("evidence.json");
        let text = std::fs::read_to_string(&evidence_path).unwrap_or_else(|e| {
            panic!(
                "the audit wrote no {} ({code:?}): {e}",
                evidence_path.display()
            )
        });
        let evidence = Evidence::from_json("evidence.json", &text).unwrap();
        println!(
            "audit: {written} lines in {elapsed:.2} s ({:.0} lines/s), {cpu:.2} s CPU, {} findings, exit {code:?}; peak RSS so far {} MB; load {}",
            written as f64 / elapsed,
            evidence.findings.len(),
            status_kib("VmHWM:") / 1024,
            std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().take(3).collect::<Vec<_>>().join(" ")
        );
    }
}

/// Lines in a journal that is already there (`BENCH_AUDIT_JOURNAL`).
fn count_lines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|b| **b == b'\n').count() as u64
}

//! Times that add up (issue 20 point 10): on the embedded simulator the
//! exchanges are dated on the virtual clock that polling and expiry move
//! forward, so the evidence records that clock and the run's span on it, and
//! no exchange is dated outside its run's span on the clock it is dated on.
//! Through the binary.

use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Utc};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_vipps-golive");

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

/// Every time evidence.json dates on the run's clock lies within the run's
/// span on that clock; the scenarios (wall clock) within the wall span.
pub fn assert_dated_within_its_span(e: &Value) {
    let run = &e["run"];
    let wall = (at(&run["started_at"]), at(&run["finished_at"]));
    let clock = match run["clock"].as_str() {
        Some("virtual") => (
            at(&run["virtual_span"]["started_at"]),
            at(&run["virtual_span"]["finished_at"]),
        ),
        None => wall,
        Some(other) => panic!("unknown clock {other:?}"),
    };
    let within = |what: &str, t: DateTime<Utc>, (from, to): (DateTime<Utc>, DateTime<Utc>)| {
        assert!(
            from <= t && t <= to,
            "{what} dated {t} lies outside the run's span {from} .. {to}"
        );
    };
    let list = |key: &str| e[key].as_array().cloned().unwrap_or_default();
    for x in list("exchanges") {
        within(
            &format!("exchange {}", x["id"]),
            at(&x["started_at"]),
            clock,
        );
    }
    for a in list("interrupted") {
        within(&format!("attempt {}", a["id"]), at(&a["started_at"]), clock);
    }
    for r in list("references") {
        for poll in r["polls"].as_array().unwrap() {
            within(&format!("a poll of {}", r["reference"]), at(poll), clock);
        }
    }
    for f in list("findings") {
        if f["exchange"].is_object() {
            within(
                &format!("finding {}", f["rule"]),
                at(&f["exchange"]["time"]),
                clock,
            );
        }
    }
    for s in list("scenarios") {
        within(
            &format!("scenario {}", s["name"]),
            at(&s["started_at"]),
            wall,
        );
        within(
            &format!("scenario {}", s["name"]),
            at(&s["finished_at"]),
            wall,
        );
    }
}

fn latest(out: &Path) -> std::path::PathBuf {
    out.join("latest").canonicalize().unwrap()
}

#[test]
fn a_run_on_the_embedded_simulator_records_its_virtual_clock_and_dates_every_exchange_within_it() {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(BIN)
        .args(["run", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(0));
    let dir = latest(out.path());
    let e: Value =
        serde_json::from_slice(&std::fs::read(dir.join("evidence.json")).unwrap()).unwrap();
    assert_eq!(e["run"]["clock"], "virtual", "{:#}", e["run"]);
    // The expiry and the polls moved the virtual clock well past the wall
    // clock's end: that is what the span on it is for.
    let span = &e["run"]["virtual_span"];
    assert!(
        at(&span["finished_at"]) - at(&span["started_at"]) > chrono::Duration::seconds(60),
        "{span:#}"
    );
    assert!(at(&span["finished_at"]) > at(&e["run"]["finished_at"]));
    assert_dated_within_its_span(&e);

    // The report says so in one sentence.
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        html.contains("Requests are dated on the simulator&#x27;s virtual clock, which waits (polling, payment expiry) move forward instead of passing, so this "),
        "no clock note in the report"
    );
}

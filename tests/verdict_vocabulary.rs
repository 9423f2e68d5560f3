//! Verdicts that claim no more than the traffic proves (issue 20 points 4
//! and 11), through the binary: a target that answers 5xx gives
//! INCONCLUSIVE and exit 3, never FAIL or PASS; a run killed or a journal
//! cut short is recovered with its own target and start, and the items it
//! never reached are NOT RUN.

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use vipps_golive::simulator::serve::{self, Standalone};
use vipps_golive::simulator::{SimConfig, Simulator};

fn golive() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vipps-golive"));
    // The simulator's credentials for MSN 123456, never a developer's own.
    for (k, v) in [
        ("VIPPS_CLIENT_ID", "sim-client-id-123456"),
        ("VIPPS_CLIENT_SECRET", "sim-client-secret-123456"),
        ("VIPPS_SUBSCRIPTION_KEY", "sim-subscription-key-123456"),
        ("VIPPS_MSN", "123456"),
    ] {
        cmd.env(k, v);
    }
    cmd
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

async fn standalone() -> Standalone {
    let config = SimConfig {
        control_enabled: true,
        ..SimConfig::default()
    };
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    serve::bind(Simulator::new(config), addr).await.unwrap()
}

/// The one run folder under `out`.
fn run_dir(out: &Path) -> PathBuf {
    std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir() && !p.ends_with("latest"))
        .unwrap()
}

fn evidence(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("evidence.json")).unwrap()).unwrap()
}

fn item<'a>(e: &'a Value, id: &str) -> &'a Value {
    e["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_answers_5xx_makes_its_items_inconclusive_and_the_run_exit_3() {
    // Arrange: every capture answered 500, whatever the retries.
    let server = standalone().await;
    let armed = reqwest::Client::new()
        .post(format!("{}/__sim/faults", server.base_url()))
        .json(&serde_json::json!({
            "method": "POST",
            "path": "/epayment/v1/payments/*/capture",
            "kind": "error500",
            "times": 1000
        }))
        .send()
        .await
        .unwrap();
    assert!(armed.status().is_success());
    let out = tempfile::tempdir().unwrap();

    // Act
    let output = golive()
        .args(["run", "--base-url", server.base_url(), "--out"])
        .arg(out.path())
        .args(["--tags", "@EP-CAPTURE or @EP-CREATE"])
        .output()
        .unwrap();

    // Assert: the target's failure is nobody's verdict but INCONCLUSIVE.
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(3), "{stdout}\n{stderr}");
    let e = evidence(&run_dir(out.path()));
    let capture = item(&e, "EP-CAPTURE");
    assert_eq!(capture["verdict"], "INCONCLUSIVE", "{capture:#}");
    let why = capture["reason"].as_str().unwrap();
    assert!(
        why.contains("HTTP 500") && why.contains("/capture"),
        "{why}"
    );
    assert!(why.contains("not the shop's"), "{why}");
    assert_eq!(item(&e, "EP-CREATE")["verdict"], "PASS");
    for s in e["scenarios"].as_array().unwrap() {
        assert_ne!(s["verdict"], "FAIL", "{s:#}");
        if s["checklist_ids"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "EP-CAPTURE")
        {
            assert_eq!(s["verdict"], "INCONCLUSIVE", "{s:#}");
        }
    }
    // The terminal and the report say it in the same words.
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("EP-CAPTURE    INCONCLUSIVE")),
        "{stdout}"
    );
    assert!(stdout.contains("0 failed, 3 inconclusive"), "{stdout}");
    assert!(
        stderr.contains("INCONCLUSIVE: the target failed"),
        "{stderr}"
    );
    let html = std::fs::read_to_string(run_dir(out.path()).join("report.html")).unwrap();
    assert!(html.contains("Inconclusive: the target failed"), "headline");
}

/// Waits until `path` has at least `lines` lines (or panics after 20 s).
fn wait_for_lines(path: &Path, lines: usize) {
    let start = Instant::now();
    loop {
        let n = std::fs::File::open(path)
            .map(|f| std::io::BufReader::new(f).lines().count())
            .unwrap_or(0);
        if n >= lines {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{n} lines");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base_url_run_killed_halfway_is_recovered_with_its_target_its_span_and_not_run_items() {
    // Arrange: one scenario at a time against a standalone simulator on the
    // system clock (every poll waits 5 real seconds), killed once it began.
    let server = standalone().await;
    let out = tempfile::tempdir().unwrap();
    let mut child = golive()
        .args(["run", "--base-url", server.base_url(), "--concurrency", "1"])
        .arg("--out")
        .arg(out.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let dir = {
        let start = Instant::now();
        loop {
            if let Some(d) = std::fs::read_dir(out.path())
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.join("journal.jsonl").exists())
            {
                break d;
            }
            assert!(start.elapsed() < Duration::from_secs(20));
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_for_lines(&dir.join("journal.jsonl"), 6);
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!dir.join("evidence.json").exists(), "killed before its end");
    let header: Value = serde_json::from_str(
        std::fs::read_to_string(dir.join("journal.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["kind"], "run", "{header:#}");

    // Act
    let output = golive()
        .args(["report", "--from-journal"])
        .arg(&dir)
        .output()
        .unwrap();

    // Assert: the target and the start are the run's, not guessed.
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let e = evidence(&dir);
    assert_eq!(e["complete"], false);
    assert_eq!(e["run"]["target"], "custom", "{:#}", e["run"]);
    assert_eq!(e["run"]["target_class"], "a URL on this machine (loopback)");
    assert!(
        e["run"]["base_url"]
            .as_str()
            .unwrap()
            .starts_with(server.base_url().trim_end_matches('/')),
        "{:#}",
        e["run"]
    );
    assert_eq!(e["run"]["started_at"], header["started_at"]);
    assert_eq!(e["run"]["run_id"], header["run_id"]);
    let started: chrono::DateTime<chrono::Utc> =
        e["run"]["started_at"].as_str().unwrap().parse().unwrap();
    let finished: chrono::DateTime<chrono::Utc> =
        e["run"]["finished_at"].as_str().unwrap().parse().unwrap();
    assert!(finished > started, "{:#}", e["run"]);
    // What it never reached is NOT RUN, and nothing NOT RUN has traffic.
    let items = e["items"].as_array().unwrap();
    let not_run: Vec<&Value> = items.iter().filter(|i| i["verdict"] == "NOT_RUN").collect();
    assert!(!not_run.is_empty(), "{items:#?}");
    for i in &not_run {
        assert!(i["references"].as_array().unwrap().is_empty(), "{i:#}");
        assert!(
            i["reason"].as_str().unwrap().contains("never started"),
            "{i:#}"
        );
    }
    assert!(items.iter().any(|i| i["verdict"] == "FAIL"), "{items:#?}");
    assert_eq!(item(&e, "GL-PROD")["verdict"], "NOT_APPLICABLE");
    assert_eq!(item(&e, "PF-DESIGN")["verdict"], "NEEDS_ATTESTATION");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("NOT RUN"));
    assert!(html.contains("until the last line of its journal"));
}

#[test]
fn a_journal_cut_short_marks_the_items_it_never_reached_not_run() {
    // Arrange: a whole run on the embedded simulator, one scenario at a
    // time, with an attestation; then its journal cut after the first
    // exchange of EP-CREATE, as a kill there would have left it.
    let out = tempfile::tempdir().unwrap();
    let run = golive()
        .args(["run", "--concurrency", "1", "--out"])
        .arg(out.path())
        .args(["--tags", "@EP-CREATE or @EP-CANCEL or @PF-DESIGN"])
        .args(["--attest", "PF-DESIGN=Kari Nordmann, design lead"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{:?}", text(&run));
    let dir = run_dir(out.path());
    let journal = std::fs::read_to_string(dir.join("journal.jsonl")).unwrap();
    let lines: Vec<&str> = journal.lines().collect();
    let cut = lines
        .iter()
        .position(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v.get("kind").is_none()
                && v["checklist_ids"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c == "EP-CREATE"))
        })
        .unwrap();
    let killed = tempfile::tempdir().unwrap();
    std::fs::write(
        killed.path().join("journal.jsonl"),
        format!("{}\n", lines[..=cut].join("\n")),
    )
    .unwrap();

    // Act
    let output = golive()
        .args(["report", "--from-journal"])
        .arg(killed.path())
        .output()
        .unwrap();

    // Assert
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let e = evidence(killed.path());
    assert_eq!(e["run"]["target"], "simulator", "the header's word");
    assert_eq!(item(&e, "EP-CREATE")["verdict"], "FAIL");
    let cancel = item(&e, "EP-CANCEL");
    assert_eq!(cancel["verdict"], "NOT_RUN", "{cancel:#}");
    assert!(
        cancel["reason"]
            .as_str()
            .unwrap()
            .contains("\"Cancelling a payment the customer has not approved ends it\""),
        "{cancel:#}"
    );
    // Not selected by the tags: not applicable, as the run would have said.
    assert_eq!(item(&e, "EP-REFUND")["verdict"], "NOT_APPLICABLE");
    // The person's word survives the kill: ATTESTED, with who and when.
    let design = item(&e, "PF-DESIGN");
    assert_eq!(design["verdict"], "ATTESTED", "{design:#}");
    assert_eq!(design["attestation"]["by"], "Kari Nordmann, design lead");

    // A journal from before headers: the same cut without its first line
    // still reads, and never-reached items are NOT RUN there too.
    let old = tempfile::tempdir().unwrap();
    std::fs::write(
        old.path().join("journal.jsonl"),
        format!("{}\n", lines[1..=cut].join("\n")),
    )
    .unwrap();
    let output = golive()
        .args(["report", "--from-journal"])
        .arg(old.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let e = evidence(old.path());
    assert_eq!(item(&e, "EP-CANCEL")["verdict"], "NOT_RUN");
    assert_eq!(item(&e, "EP-CREATE")["verdict"], "FAIL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_against_a_target_that_answers_5xx_is_inconclusive_not_failed() {
    // Arrange: an unknown reference is the shop's failure (404, exit 1)...
    let server = standalone().await;
    let out = tempfile::tempdir().unwrap();
    let verify = || {
        golive()
            .args(["verify", "--base-url", server.base_url(), "--out"])
            .arg(out.path())
            .arg("shop-1001-unknown")
            .output()
            .unwrap()
    };
    let unknown = verify();
    assert_eq!(unknown.status.code(), Some(1), "{:?}", text(&unknown));

    // ...but the same reference, when every read answers 500, is the target's.
    let armed = reqwest::Client::new()
        .post(format!("{}/__sim/faults", server.base_url()))
        .json(&serde_json::json!({
            "method": "GET",
            "path": "/epayment/v1/payments/*",
            "kind": "error500",
            "times": 1000
        }))
        .send()
        .await
        .unwrap();
    assert!(armed.status().is_success());
    let output = verify();

    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("GL-TEST       INCONCLUSIVE")),
        "{stdout}"
    );
    assert!(stdout.contains("HTTP 500"), "{stdout}");
    assert!(stderr.contains("INCONCLUSIVE"), "{stderr}");
}

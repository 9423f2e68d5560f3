//! `report DIR` renders again from evidence.json alone; `report
//! --from-journal DIR` renders what a run stopped halfway recorded, marked
//! INCOMPLETE; a newer evidence schema is refused with a clear message.

use crate::report_support;

use std::io::Write as _;
use std::process::{Command, Output};

use vipps_golive::evidence::Journal;

const BIN: &str = env!("CARGO_BIN_EXE_vipps-golive");

fn cli(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn report_renders_the_same_page_again_from_the_evidence_alone() {
    let dir = tempfile::tempdir().unwrap();
    let run = report_support::run(dir.path()).await;
    report_support::write_folder(dir.path(), &run.evidence, None);
    let before = std::fs::read(dir.path().join("report.html")).unwrap();
    // Only evidence.json is needed: move it to an empty folder.
    let other = tempfile::tempdir().unwrap();
    let evidence = other.path().join("evidence.json");
    std::fs::copy(dir.path().join("evidence.json"), &evidence).unwrap();

    let out = cli(&["report", evidence.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // The same page but for its seal, which describes the folder a page
    // sits in (this one has no journal and no manifest: INCOMPLETE).
    let elsewhere = std::fs::read_to_string(other.path().join("report.html")).unwrap();
    assert_eq!(
        report_support::without_seal(&elsewhere),
        report_support::without_seal(&String::from_utf8(before.clone()).unwrap())
    );
    assert!(elsewhere.contains(r#"<span class="seal-mark">INCOMPLETE</span>"#));

    // In the run folder itself the manifest still holds: same bytes.
    let out = cli(&["report", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("no longer matches"), "{}", text(&out));
    assert!(vipps_golive::evidence::manifest::check(dir.path(), None)
        .unwrap()
        .intact());
}

#[test]
fn a_newer_evidence_schema_is_refused_with_exit_2_and_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("evidence.json"),
        r#"{"schema_version": 3, "future": true}"#,
    )
    .unwrap();
    let out = cli(&["report", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("schema version 3, newer than this tool reads (2)"),
        "{t}"
    );
    assert!(t.contains("hint: use a newer vipps-golive"), "{t}");
    assert!(!dir.path().join("report.html").exists());
}

#[test]
fn evidence_of_the_interim_runner_points_at_from_journal() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("evidence.json"),
        r#"{"schema_version": 1, "flows": []}"#,
    )
    .unwrap();
    let out = cli(&["report", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("--from-journal"), "{}", text(&out));
}

#[test]
fn a_folder_without_evidence_points_at_from_journal() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli(&["report", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("--from-journal"), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_killed_halfway_is_reported_from_its_journal_as_incomplete() {
    // Arrange: the journal of a run, its last line cut short by the kill, and
    // no evidence.json, report.html or manifest (they are written at the end).
    let dir = tempfile::tempdir().unwrap();
    let run = report_support::run(dir.path()).await;
    let journal = dir.path().join("journal.jsonl");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&journal)
        .unwrap();
    file.write_all(br#"{"schema_version":1,"id":"cut-sh"#)
        .unwrap();
    drop(file);

    let out = cli(&["report", "--from-journal", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("INCOMPLETE report"));

    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    let top = &html[..html.find("<h1>").unwrap()];
    assert!(top.contains("INCOMPLETE"));
    assert!(html.contains("INCOMPLETE: do not send this."));
    for r in &run.references {
        assert!(
            html.contains(&format!("id=\"ref-{r}\"")),
            "{r} is in the report"
        );
    }
    assert!(!html.contains(report_support::CANARY_STEM));
    // The evidence it rebuilt is kept beside the journal, marked incomplete.
    let evidence = report_support::load(&dir.path().join("evidence.json"));
    assert!(!evidence.complete);
    assert_eq!(evidence.exchanges.len(), run.evidence.exchanges.len());
    assert_eq!(evidence.run.msn, report_support::MSN);
    assert_eq!(evidence.items.len(), 17);
    // Its states are read from the journal, as the full run read them.
    let captured = evidence
        .references
        .iter()
        .find(|r| r.reference == run.references[0])
        .unwrap();
    assert_eq!(captured.aggregate.as_ref().unwrap().captured, 24_900);
    // A proof card per item, in checklist order, and each that was not run
    // says what was not tested and why (issue 24 point 1).
    let cards: Vec<&str> = html
        .split(r#"<article class="proof" id="proof-"#)
        .skip(1)
        .collect();
    let ids: Vec<&str> = cards.iter().map(|c| &c[..c.find('"').unwrap()]).collect();
    let order: Vec<&str> = evidence.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, order);
    let mut not_run = 0;
    for card in &cards {
        let card = &card[..card.find("</article>").unwrap()];
        if !card.contains(r#"<span class="verdict notrun">NOT RUN</span>"#) {
            continue;
        }
        not_run += 1;
        let at = card.find("<dt>Not tested</dt><dd>").unwrap();
        let said = &card[at..];
        let said = &said[..said.find("</dd>").unwrap()];
        assert!(said.contains("NOT RUN") && said.contains(": "), "{said}");
    }
    assert!(not_run > 0, "the cut run left items not run");
}

#[tokio::test(flavor = "multi_thread")]
async fn from_journal_refuses_a_finished_run_unless_told_where_to_write() {
    let dir = tempfile::tempdir().unwrap();
    let run = report_support::run(dir.path()).await;
    report_support::write_folder(dir.path(), &run.evidence, None);
    let folder = dir.path().to_str().unwrap();
    let out = cli(&["report", "--from-journal", folder]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("is a finished run"), "{}", text(&out));
    // With --out it renders elsewhere and leaves the sealed folder alone.
    let elsewhere = tempfile::tempdir().unwrap();
    let target = elsewhere.path().join("journal-report.html");
    let out = cli(&[
        "report",
        "--from-journal",
        folder,
        "--out",
        target.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(target.is_file());
    assert!(vipps_golive::evidence::manifest::check(dir.path(), None)
        .unwrap()
        .intact());
}

#[test]
fn a_real_run_killed_with_sigkill_halfway_is_reported_from_its_journal() {
    let out_dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["run", "--out", out_dir.path().to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the journal holds a few exchanges, then kill -9.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let run_dir = loop {
        let found = std::fs::read_dir(out_dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.is_dir() && !p.is_symlink());
        if let Some(dir) = found {
            // Outcomes, not attempts: with every scenario running at once,
            // the first lines are mostly attempts written ahead.
            let outcomes = std::fs::read_to_string(dir.join("journal.jsonl"))
                .map(|t| {
                    t.lines()
                        .filter(|l| l.ends_with('}') && !l.contains("\"kind\":\"attempt\""))
                        .count()
                })
                .unwrap_or(0);
            if outcomes >= 10 {
                break dir;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run wrote no journal"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    if run_dir.join("manifest.json").exists() {
        eprintln!("NOTICE: the run finished before it could be killed; nothing to recover");
        return;
    }

    let out = cli(&["report", "--from-journal", run_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let html = std::fs::read_to_string(run_dir.join("report.html")).unwrap();
    assert!(html[..html.find("<h1>").unwrap()].contains("INCOMPLETE"));
    let evidence = report_support::load(&run_dir.join("evidence.json"));
    assert!(!evidence.complete);
    // At least 10 outcomes were in the journal when the run was killed.
    assert!(
        evidence.exchanges.len() >= 5,
        "{}",
        evidence.exchanges.len()
    );
    assert!(!evidence.references.is_empty());
    // An attempt the kill cut off before its answer is named as such.
    for a in &evidence.interrupted {
        assert!(
            html.contains(&a.id),
            "interrupted attempt {} is named",
            a.id
        );
    }
    // Everything the journal recorded is in the report.
    for e in &evidence.exchanges {
        assert!(html.contains(&format!("id=\"ex-{}\"", e.id)));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_attempt_the_journal_holds_without_an_outcome_is_named_in_the_report() {
    // Arrange: a fixture run's journal, then a capture whose attempt line was
    // written ahead and whose answer never came (the process was killed).
    let dir = tempfile::tempdir().unwrap();
    let run = report_support::run(dir.path()).await;
    let r = run.references[2].clone();
    let journal = Journal::open_append(dir.path().join("journal.jsonl")).unwrap();
    journal
        .append_attempt(&vipps_golive::evidence::Attempt {
            schema_version: 1,
            kind: vipps_golive::evidence::ATTEMPT_KIND.into(),
            id: "killed-capture-1".into(),
            started_at: run.evidence.run.finished_at,
            method: "POST".into(),
            url: format!(
                "{}/epayment/v1/payments/{r}/capture",
                run.evidence.run.base_url
            ),
            attempt: 1,
            reference: Some(r.clone()),
            idempotency_key: Some("5b7e-capture-key".into()),
            checklist_ids: vec!["EP-CAPTURE".into()],
            scenario: None,
        })
        .unwrap();
    drop(journal);

    let out = cli(&["report", "--from-journal", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("1 interrupted attempt(s)"),
        "{}",
        text(&out)
    );
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    let section = &html[html.find("id=\"interrupted\"").unwrap()..];
    assert!(section.contains("may have taken effect"));
    assert!(section.contains(&format!("/epayment/v1/payments/{r}/capture")));
    assert!(section.contains("5b7e-capture-key"));
    let evidence = report_support::load(&dir.path().join("evidence.json"));
    assert_eq!(evidence.interrupted.len(), 1);
    assert_eq!(evidence.interrupted[0].id, "killed-capture-1");
}

/// `report DIR` on a folder of each kind writes the same bytes again, so
/// the folder still matches its manifest (issue 24 point 7).
/// A folder without a manifest (a killed run's) is rendered again the same
/// and still has no seal to check (`public_key`: `None` and `sealed` false).
fn rerenders_byte_identically(
    dir: &std::path::Path,
    public_key: Option<&std::path::Path>,
    sealed: bool,
) {
    let before = std::fs::read(dir.join("report.html")).unwrap();
    let out = cli(&["report", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let after = std::fs::read(dir.join("report.html")).unwrap();
    assert!(
        before == after,
        "`report {}` wrote other bytes ({} before, {} after)",
        dir.display(),
        before.len(),
        after.len()
    );
    let mut check = Command::new(BIN);
    check.args(["report", "--check", dir.to_str().unwrap()]);
    if let Some(key) = public_key {
        check.arg("--public-key").arg(key);
    }
    let out = check.output().unwrap();
    if sealed {
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    } else {
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(
            text(&out).contains("has no manifest.json"),
            "{}",
            text(&out)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_kind_of_folder_renders_again_byte_for_byte_and_keeps_its_seal() {
    let f = crate::report_axe::folders().await;
    for dir in [&f.run, &f.verify, &f.audit, &f.pack, &f.webhooks] {
        rerenders_byte_identically(dir, None, true);
    }
    rerenders_byte_identically(&f.killed, None, false);
    // Signed: a plain re-render keeps the mark SIGNED and the signature holds.
    let key = f.rec.dir.path().join("golive.key");
    assert!(cli(&["report", "--gen-key", key.to_str().unwrap()])
        .status
        .success());
    let signed = cli(&[
        "report",
        f.pack.to_str().unwrap(),
        "--sign-key",
        key.to_str().unwrap(),
    ]);
    assert_eq!(signed.status.code(), Some(0), "{}", text(&signed));
    rerenders_byte_identically(&f.pack, Some(&key.with_extension("key.pub")), true);
    assert!(std::fs::read_to_string(f.pack.join("report.html"))
        .unwrap()
        .contains(r#"<span class="seal-mark">SIGNED</span>"#));

    // An audit of more than the 5 000 exchanges kept in full: its report
    // says how many it shows, and it renders again byte for byte.
    let journal = std::fs::read_to_string(&f.rec.journal).unwrap();
    let lines = journal.lines().count();
    let big = f.rec.dir.path().join("big.jsonl");
    std::fs::write(&big, journal.repeat(5_001 / lines + 1)).unwrap();
    let judged = lines * (5_001 / lines + 1);
    let out_dir = f.rec.dir.path().join("big-audit");
    let out = cli(&[
        "audit",
        "--journal",
        big.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
    let dir = out_dir.join("latest");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let evidence: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("evidence.json")).unwrap()).unwrap();
    let kept = evidence["exchanges"].as_array().unwrap().len();
    assert!(kept < judged, "{kept} of {judged}");
    assert!(
        html.contains(&format!(
            "{kept} of {judged} exchanges shown; all {judged} in <code>journal.jsonl</code>"
        )),
        "{}",
        &html[html.find("exchange-count").unwrap_or(0)..][..300]
    );
    // Each kind of exchange that decides an item is kept, findings or not:
    // the shop's creates and captures, whose items pass.
    let kept_paths: Vec<(String, String)> = evidence["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap().to_owned(),
                e["url"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (method, ends) in [
        ("POST", "/payments"),
        ("POST", "/capture"),
        ("POST", "/refund"),
    ] {
        assert!(
            kept_paths
                .iter()
                .any(|(m, u)| m == method && u.ends_with(ends)),
            "no {method} …{ends} kept"
        );
    }
    rerenders_byte_identically(&dir, None, true);
}

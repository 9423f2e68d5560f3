//! Issue 21: `vipps-golive pack`, driven as a merchant runs it, over two
//! shops written in the tests (the careful and the sloppy shop of
//! `shop_support`, on the simulator with a virtual clock, its journal written
//! with `--journal`), each with a webhook receiver of `audit_webhooks_check`.
//! The careful shop, attested, gets REHEARSAL PASSED with every item PASS
//! or ATTESTED (GL-PROD aside: NOT APPLICABLE to test-environment traffic); the sloppy one gets NOT READY, each item failed for the
//! right reason.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use sha2::Digest as _;
use vipps_golive::evidence::model::{Evidence, Verdict};
use vipps_golive::simulator::mock::SimServer;

use crate::audit_webhooks_check::{careless, correct, receiver, SECRET};
use crate::shop_support::{simulator, Faults, Shop};

/// A shop's session recorded: the running simulator (the references are read
/// back from it) and the journal it wrote.
pub(crate) struct Recorded {
    pub(crate) server: SimServer,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) journal: PathBuf,
}

pub(crate) async fn record(faults: Option<Faults>) -> Recorded {
    let (server, clock, dir, journal) = simulator().await;
    let mut shop = Shop::open(&server.uri(), clock, faults.unwrap_or_default()).await;
    match faults {
        None => {
            shop.careful_session().await;
            // A payment left CAPTURED, for GL-TEST's third outcome.
            let r = shop.paid(1_500).await;
            let key = uuid::Uuid::new_v4().to_string();
            shop.modify(&r, "capture", Some(1_500), &key).await;
            shop.get(&r).await;
            shop.events(&r).await;
        }
        Some(_) => {
            shop.sloppy_session().await;
            // The shop's own code approves with the test-only endpoint.
            let r = shop.create(600).await;
            let (status, body) = shop
                .call(
                    "POST",
                    &format!("/epayment/v1/test/payments/{r}/approve"),
                    Some(serde_json::json!({})),
                    None,
                )
                .await;
            assert!(status < 300, "{status} {body}");
        }
    }
    // Closing the file stream waits until every line is on disk.
    server.simulator().with_engine(|e| {
        let config = e.config.clone();
        e.journal = vipps_golive::simulator::journal::SimJournal::new(&config);
    });
    Recorded {
        server,
        dir,
        journal,
    }
}

/// Runs `vipps-golive pack` with the simulator's credentials, off the
/// runtime's threads (the simulator answers on them).
pub(crate) async fn pack(args: Vec<String>, cwd: &Path) -> Output {
    let cwd = cwd.to_owned();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_vipps-golive"))
            .current_dir(cwd)
            .arg("pack")
            .args(args)
            .env("VIPPS_CLIENT_ID", "sim-client-id-123456")
            .env("VIPPS_CLIENT_SECRET", "sim-client-secret-123456")
            .env("VIPPS_SUBSCRIPTION_KEY", "sim-subscription-key-123456")
            .env("VIPPS_MSN", "123456")
            .env_remove("VIPPS_WEBHOOK_SECRET")
            .env("NO_PROXY", "*")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

pub(crate) fn folder(out: &Path) -> PathBuf {
    std::fs::read_dir(out)
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("pack-"))
        .unwrap()
        .path()
}

fn evidence_in(dir: &Path) -> Evidence {
    let text = std::fs::read_to_string(dir.join("evidence.json")).unwrap();
    Evidence::from_json("evidence.json", &text).unwrap()
}

fn item(e: &Evidence, id: &str) -> (Verdict, String) {
    let i = e.items.iter().find(|i| i.id == id).unwrap();
    (i.verdict, i.reason.clone().unwrap_or_default())
}

pub(crate) fn args(rec: &Recorded, hook: &str, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "--journal",
        rec.journal.to_str().unwrap(),
        "--base-url",
        &rec.server.uri(),
        "--webhook-url",
        hook,
        "--webhook-secret",
        SECRET,
        "--out",
        out.to_str().unwrap(),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    a.extend(extra.iter().map(|s| (*s).to_owned()));
    a
}

#[tokio::test(flavor = "multi_thread")]
async fn the_careful_shop_attested_gets_rehearsal_passed_in_one_sealed_folder() {
    let rec = record(None).await;
    let hook = receiver(correct()).await;
    let out = rec.dir.path().join("reports");
    let key = rec.dir.path().join("golive.key");
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_vipps-golive"))
        .args(["report", "--gen-key", key.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let attest = [
        "--attest",
        "QA-ERRORS=Kari Nordmann, QA lead",
        "--attest",
        "PF-DESIGN=Ola Nordmann, designer",
        "--attest",
        "PF-SUPPORT=Per Hansen, head of support",
        "--sign-key",
        key.to_str().unwrap(),
    ];

    let output = pack(args(&rec, &hook, &out, &attest), rec.dir.path()).await;

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("REHEARSAL PASSED"), "{stdout}");
    let dir = folder(&out);
    let e = evidence_in(&dir);
    assert_eq!(e.kind, vipps_golive::evidence::model::RunKind::Pack);
    for i in &e.items {
        let attested = i.attestation.is_some();
        let ok = i.verdict == Verdict::Pass
            || (i.verdict == Verdict::Attested && i.attestation.is_some())
            || (i.id == "GL-PROD" && i.verdict == Verdict::NotApplicable);
        assert!(ok, "{} {:?} {:?}\n{stdout}", i.id, i.verdict, i.reason);
        let manual = ["QA-ERRORS", "PF-DESIGN", "PF-SUPPORT"].contains(&i.id.as_str());
        assert_eq!(attested, manual, "{}", i.id);
    }
    // GL-TEST: the references found in the traffic, read back now.
    let golive = e.golive.as_ref().unwrap();
    assert!(golive.references.iter().all(|r| r.reference.is_some()));
    assert!(dir.join("readback.jsonl").is_file());
    // The shop heads the report; vipps-golive's own requests never do.
    assert_eq!(e.run.system_name.as_deref(), Some("golive-test-shop"));
    assert_eq!(e.run.system_version.as_deref(), Some("2.4.1"));
    assert_eq!(e.run.msn, "123456");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("Go-live pack: golive-test-shop 2.4.1, MSN 123456"));
    assert!(html.contains("REHEARSAL PASSED"));
    assert!(
        !html.contains("Ready to copy"),
        "no copy box for a rehearsal"
    );
    // The input journal's SHA-256 and what was read survive in evidence.json.
    let input = e.input.as_ref().unwrap();
    let bytes = std::fs::read(&rec.journal).unwrap();
    let sha: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(input.sources[0].sha256, sha);
    assert!(html.contains(&sha));
    // The probes are in the folder with their requests and answers.
    assert_eq!(e.webhook_checks.len(), 13);
    assert!(e.webhook_checks.iter().all(|c| c.verdict == Verdict::Pass));
    let probes = std::fs::read_to_string(dir.join("webhooks.jsonl")).unwrap();
    assert!(!probes.contains(SECRET));
    // One folder, sealed: `report --check` finds nothing changed, and latest points at it.
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_vipps-golive"))
        .args(["report", "--check", dir.to_str().unwrap(), "--public-key"])
        .arg(key.with_extension("key.pub"))
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0), "{check:?}");
    assert!(dir.join("manifest.sig").is_file());
    let latest = std::fs::read_link(out.join("latest")).unwrap();
    assert_eq!(latest.file_name(), dir.file_name());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sloppy_shop_is_not_ready_and_each_item_fails_for_its_reason() {
    let rec = record(Some(Faults::all())).await;
    let hook = receiver(careless()).await;
    let out = rec.dir.path().join("reports");

    let output = pack(args(&rec, &hook, &out, &[]), rec.dir.path()).await;

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("NOT READY: fix "), "{stdout}");
    let e = evidence_in(&folder(&out));
    let found = |id: &str, rule: &str| {
        e.findings
            .iter()
            .any(|f| f.checklist_id == id && f.rule == rule)
    };
    for (id, rule) in [
        ("QA-HEADERS", "headers.missing"),
        ("QA-HEADERS", "idempotency.key-reused"),
        ("PF-REFERENCE", "reference.digits-only"),
        ("PF-REFERENCE", "reference.leading-zero"),
        ("PF-POLLING", "polling.too-fast"),
        ("PF-POLLING", "polling.never-read"),
        ("PF-POLLING", "webhooks.port"),
        ("QA-STATES", "endpoints.test-only"),
    ] {
        assert!(found(id, rule), "no {id} {rule}\n{stdout}");
    }
    for id in ["QA-HEADERS", "PF-REFERENCE", "PF-POLLING", "GL-TEST"] {
        assert_eq!(item(&e, id).0, Verdict::Fail, "{id}\n{stdout}");
    }
    // The receiver takes forged deliveries: PF-POLLING says so too.
    assert!(item(&e, "PF-POLLING").1.contains("webhook receiver"));
    // No CANCELLED payment in the traffic: GL-TEST names what is missing.
    assert!(
        item(&e, "GL-TEST").1.contains("CANCELLED"),
        "{:?}",
        item(&e, "GL-TEST")
    );
    for id in ["QA-ERRORS", "PF-DESIGN", "PF-SUPPORT"] {
        assert_eq!(item(&e, id).0, Verdict::NeedsAttestation, "{id}");
    }
    let html = std::fs::read_to_string(folder(&out).join("report.html")).unwrap();
    assert!(html.contains("NOT READY: fix "));
    assert!(!html.contains("Ready to copy"));
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_three_manual_items_can_be_attested_and_nothing_is_written_otherwise() {
    let rec = record(None).await;
    let out = rec.dir.path().join("reports");
    let mut a = args(&rec, "http://127.0.0.1:9/hook", &out, &[]);
    a.extend(["--attest".to_owned(), "EP-CAPTURE=Kari, CTO".to_owned()]);

    let output = pack(a, rec.dir.path()).await;

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("EP-CAPTURE cannot be attested"), "{stderr}");
    assert!(!out.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_receiver_is_exit_3_and_the_folder_stays_unsealed() {
    let rec = record(None).await;
    let out = rec.dir.path().join("reports");

    let output = pack(
        args(&rec, "http://127.0.0.1:9/hook", &out, &[]),
        rec.dir.path(),
    )
    .await;

    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let dir = folder(&out);
    assert!(!dir.join("manifest.json").exists());
    let status: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("status.json")).unwrap()).unwrap();
    assert_eq!(status["status"], "failed");
}

/// Issue 21 point 6: `audit --attest` is taken for the three manual items,
/// and what the audit read (lines, skipped lines, the input's SHA-256) is in
/// evidence.json, so the section survives a re-render.
#[tokio::test(flavor = "multi_thread")]
async fn audit_takes_attestations_and_keeps_what_it_read_through_a_rerender() {
    let rec = record(None).await;
    let mut text = std::fs::read_to_string(&rec.journal).unwrap();
    text.push_str("this is not json\n");
    let journal = rec.dir.path().join("with-a-bad-line.jsonl");
    std::fs::write(&journal, &text).unwrap();
    let out = rec.dir.path().join("audits");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_vipps-golive"))
        .args(["audit", "--journal", journal.to_str().unwrap()])
        .args(["--attest", "QA-ERRORS=Kari Nordmann, QA lead"])
        .args(["--out", out.to_str().unwrap()])
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let dir = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("audit-"))
        .unwrap()
        .path();
    let e = evidence_in(&dir);
    let qa = e.items.iter().find(|i| i.id == "QA-ERRORS").unwrap();
    assert_eq!(qa.verdict, Verdict::Attested);
    assert_eq!(
        qa.attestation.as_ref().unwrap().by,
        "Kari Nordmann, QA lead"
    );
    assert_eq!(item(&e, "PF-DESIGN").0, Verdict::NeedsAttestation);
    let input = e.input.as_ref().unwrap();
    let sha: String = sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(input.sources[0].sha256, sha);
    assert_eq!(input.bad_line_count, 1);
    std::fs::remove_file(dir.join("report.html")).unwrap();
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_vipps-golive"))
        .args(["report", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(again.status.success(), "{again:?}");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("What was read"), "{html}");
    assert!(html.contains(&sha));
    assert!(html.contains(&format!("line {} skipped: not JSON", input.lines)));
    // A non-manual item cannot be attested.
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_vipps-golive"))
        .args(["audit", "--journal", journal.to_str().unwrap()])
        .args(["--attest", "EP-GET=Kari", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
}

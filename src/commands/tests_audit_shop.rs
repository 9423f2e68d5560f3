//! A small scripted "shop" drives the simulator the way a shop's checkout,
//! order view and back office would, in two versions: a careful one and a
//! sloppy one. `audit` passes the careful one and names every fault of the
//! sloppy one with the right checklist ID.
//!
//! The simulator runs in-process with a virtual clock: the shop "waits" by
//! moving the clock, so the journal's timestamps show the shop's polling
//! schedule without the test sleeping.

use std::path::{Path, PathBuf};

use crate::cli::AuditArgs;
use crate::evidence::model::{Evidence, Verdict};
use crate::simulator::mock::SimServer;

/// The same shop the binary-driven `pack` tests use (written against the
/// public API only), so the two never drift apart.
#[path = "../../tests/shop_support/mod.rs"]
mod shop_support;
use shop_support::{simulator, Faults, Shop, MSN};

struct Recorded {
    _server: SimServer,
    _dir: tempfile::TempDir,
    out: PathBuf,
    journal: PathBuf,
    base: String,
}

async fn record(faults: Option<Faults>) -> Recorded {
    let (server, clock, dir, journal) = simulator().await;
    let mut shop = Shop::open(&server.uri(), clock, faults.unwrap_or_default()).await;
    match faults {
        None => shop.careful_session().await,
        Some(_) => shop.sloppy_session().await,
    }
    // Closing the file stream waits until every line is on disk.
    server.simulator().with_engine(|e| {
        let config = e.config.clone();
        e.journal = crate::simulator::journal::SimJournal::new(&config);
    });
    Recorded {
        base: server.uri(),
        out: dir.path().join("reports"),
        journal,
        _server: server,
        _dir: dir,
    }
}

fn args(journal: Option<&Path>, simulator: Option<&str>, out: &Path) -> AuditArgs {
    AuditArgs {
        journal: journal.map(Path::to_owned),
        simulator: simulator.map(str::to_owned),
        since: None,
        msn: None,
        check_return_url: false,
        attest: Vec::new(),
        out: out.to_owned(),
    }
}

fn evidence_in(out: &Path) -> Evidence {
    let dir = std::fs::read_dir(out)
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("audit-"))
        .unwrap()
        .path();
    let text = std::fs::read_to_string(dir.join("evidence.json")).unwrap();
    Evidence::from_json("evidence.json", &text).unwrap()
}

fn verdict_of(e: &Evidence, id: &str) -> Verdict {
    e.items.iter().find(|i| i.id == id).unwrap().verdict
}

#[tokio::test(flavor = "multi_thread")]
async fn the_careful_shop_passes_the_audit() {
    let rec = record(None).await;
    let mut summary = Vec::new();

    let result =
        crate::commands::audit::run_async(&args(Some(&rec.journal), None, &rec.out), &mut summary)
            .await;

    let summary = String::from_utf8_lossy(&summary);
    assert!(result.is_ok(), "{result:?}\n{summary}");
    let e = evidence_in(&rec.out);
    for id in [
        "EP-CREATE",
        "EP-GET",
        "EP-EVENTS",
        "EP-CANCEL",
        "EP-CAPTURE",
        "EP-REFUND",
        "QA-STATES",
        "QA-HEADERS",
        "QA-HISTORY",
        "PF-REFERENCE",
        "PF-POLLING",
        "PF-REDIRECTS",
    ] {
        assert_eq!(verdict_of(&e, id), Verdict::Pass, "{id}\n{summary}");
    }
    assert_eq!(verdict_of(&e, "PF-DESIGN"), Verdict::NeedsAttestation);
    assert_eq!(e.items.len(), 17);
    assert_eq!(e.run.system_name.as_deref(), Some("golive-test-shop"));
    assert_eq!(e.run.system_version.as_deref(), Some("2.4.1"));
    assert_eq!(e.run.msn, MSN);
    assert!(e.run.started_at < e.run.finished_at);
    assert!(!e.exchanges.is_empty());
    assert!(e.references.len() >= 6, "one per payment the shop made");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sloppy_shop_has_every_fault_named_with_its_checklist_id() {
    let rec = record(Some(Faults::all())).await;
    let mut summary = Vec::new();

    let result =
        crate::commands::audit::run_async(&args(Some(&rec.journal), None, &rec.out), &mut summary)
            .await;

    let summary = String::from_utf8_lossy(&summary);
    let err = result.expect_err("the sloppy shop must fail");
    assert_eq!(err.exit_code(), std::process::ExitCode::from(1));
    let e = evidence_in(&rec.out);
    let named = |id: &str, rule: &str| {
        e.findings
            .iter()
            .any(|f| f.checklist_id == id && f.rule == rule)
    };
    for (id, rule, fault) in [
        ("QA-HEADERS", "headers.missing", "a missing header"),
        (
            "PF-REFERENCE",
            "reference.digits-only",
            "numeric references",
        ),
        (
            "PF-REFERENCE",
            "reference.leading-zero",
            "a reference with a leading zero",
        ),
        ("PF-POLLING", "polling.too-fast", "polling every 100 ms"),
        (
            "PF-POLLING",
            "polling.never-read",
            "no GET after the webhook",
        ),
        (
            "QA-HEADERS",
            "idempotency.key-reused",
            "reused idempotency keys",
        ),
        ("PF-POLLING", "webhooks.port", "a webhook on port 9443"),
    ] {
        assert!(named(id, rule), "{fault}: no {id} {rule}\n{summary}");
    }
    for id in ["QA-HEADERS", "PF-REFERENCE", "PF-POLLING"] {
        assert_eq!(verdict_of(&e, id), Verdict::Fail, "{id}");
    }
    // Each finding points at the exchange behind it, and evidence.json carries it.
    let missing = e
        .findings
        .iter()
        .find(|f| f.rule == "headers.missing")
        .unwrap();
    let at = missing.exchange.as_ref().unwrap();
    assert!(e.exchanges.iter().any(|x| x.id == at.id));
    assert!(
        missing.message.contains("Vipps-System-Plugin-Name"),
        "{}",
        missing.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_fault_at_a_time_is_named_alone() {
    // The polling fault alone: the rest of the checklist stays clean.
    let (server, clock, _dir, _journal) = simulator().await;
    let mut shop = Shop::open(
        &server.uri(),
        clock,
        Faults {
            fast_polling: true,
            ..Faults::default()
        },
    )
    .await;
    let r = shop.paid(1_000).await;
    shop.modify(
        &r,
        "capture",
        Some(1_000),
        &uuid::Uuid::new_v4().to_string(),
    )
    .await;
    shop.get(&r).await;
    let out = _dir.path().join("reports");

    let result =
        crate::commands::audit::run_async(&args(None, Some(&server.uri()), &out), &mut Vec::new())
            .await;

    assert!(result.is_err());
    let e = evidence_in(&out);
    assert_eq!(verdict_of(&e, "PF-POLLING"), Verdict::Fail);
    assert_eq!(verdict_of(&e, "QA-HEADERS"), Verdict::Pass);
    assert_eq!(verdict_of(&e, "PF-REFERENCE"), Verdict::Pass);
    assert_eq!(e.run.target, "simulator");
    assert!(e.findings.iter().any(|f| f.rule == "polling.too-fast"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_or_truncated_line_is_reported_by_number_and_skipped() {
    let rec = record(None).await;
    let original = std::fs::read_to_string(&rec.journal).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    let mut broken: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    broken.insert(2, "{\"kind\":\"attempt\",\"id\":\"a-1\"}".into());
    broken.insert(3, "this is not json".into());
    let mut text = broken.join("\n");
    text.push('\n');
    text.push_str(&lines[0][..lines[0].len() / 2]); // a write cut short
    let journal = rec.out.with_file_name("broken.jsonl");
    std::fs::write(&journal, text).unwrap();

    let mut summary = Vec::new();
    let result =
        crate::commands::audit::run_async(&args(Some(&journal), None, &rec.out), &mut summary)
            .await;

    assert!(result.is_ok(), "{result:?}");
    let dir = std::fs::read_dir(&rec.out)
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("audit-"))
        .unwrap()
        .path();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("line 4 skipped: not JSON"), "{html}");
    assert!(
        html.contains(&format!("line {} skipped: truncated", broken.len() + 1)),
        "{html}"
    );
    assert!(html.contains("1 line(s) of another kind"), "{html}");
}

#[tokio::test(flavor = "multi_thread")]
async fn since_and_msn_filters_leave_traffic_out() {
    let rec = record(None).await;
    let mut a = args(Some(&rec.journal), None, &rec.out);
    a.msn = Some("654321".into());

    let result = crate::commands::audit::run_async(&a, &mut Vec::new()).await;

    assert!(result.is_err(), "nothing under MSN 654321 to judge");
    let e = evidence_in(&rec.out);
    assert!(e.exchanges.is_empty());
    assert_eq!(e.run.msn, "654321");

    // --since after the whole session: nothing left either; a bad time is usage (exit 2).
    let out = rec.out.with_file_name("since");
    let mut a = args(Some(&rec.journal), None, &out);
    a.since = Some("2999-01-01".into());
    assert!(crate::commands::audit::run_async(&a, &mut Vec::new())
        .await
        .is_err());
    assert!(evidence_in(&out).exchanges.is_empty());
    a.since = Some("yesterday".into());
    let err = crate::commands::audit::run_async(&a, &mut Vec::new())
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), std::process::ExitCode::from(2));
    let _ = rec.base;
}

#[tokio::test(flavor = "multi_thread")]
async fn check_return_url_fails_a_return_page_that_needs_the_session() {
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    // The shop's return page answers 401 to a browser without its session cookie.
    let page = MockServer::start().await;
    Mock::given(path("/vipps/return"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&page)
        .await;
    // A careful session, with the returnUrl rewritten to point at that page
    // (the simulator itself only takes https returnUrls).
    let rec = record(None).await;
    let text = std::fs::read_to_string(&rec.journal).unwrap().replace(
        "https://shop.example/vipps/return",
        &format!("{}/vipps/return", page.uri()),
    );
    let journal = rec.out.with_file_name("rewritten.jsonl");
    std::fs::write(&journal, text).unwrap();
    let mut a = args(Some(&journal), None, &rec.out);
    a.check_return_url = true;

    let result = crate::commands::audit::run_async(&a, &mut Vec::new()).await;

    assert!(result.is_err());
    let e = evidence_in(&rec.out);
    let f = e
        .findings
        .iter()
        .find(|f| f.rule == "redirects.needs-session")
        .expect("needs-session finding");
    assert_eq!(f.checklist_id, "PF-REDIRECTS");
    assert!(f.message.contains("401"), "{}", f.message);
    assert_eq!(verdict_of(&e, "PF-REDIRECTS"), Verdict::Fail);
    // The loopback http returnUrl itself is only a warning (fine against the simulator).
    assert!(e
        .findings
        .iter()
        .any(|f| f.rule == "redirects.loopback-http"));
}

/// `audit` reads journal lines borrowed, and only the body fields the rules
/// need; `run` hands the rules whole exchanges. On the careful and the sloppy
/// shop's traffic, and on the same traffic written with spaced-out JSON (which
/// is read differently), both give the same findings and the same observations.
#[tokio::test(flavor = "multi_thread")]
async fn the_fast_reading_of_a_journal_judges_as_whole_exchanges_do() {
    use crate::audit::{audit, Filter};
    use crate::evidence::Exchange;
    use crate::rules::{RuleOptions, RuleSet};

    for faults in [None, Some(Faults::all())] {
        let rec = record(faults).await;
        let text = std::fs::read_to_string(&rec.journal).unwrap();
        let exchanges: Vec<Exchange> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(exchanges.len() > 10, "{} exchanges", exchanges.len());
        let mut rules = RuleSet::new(RuleOptions {
            audit: true,
            ..RuleOptions::default()
        });
        for e in &exchanges {
            rules.observe(e);
        }
        let (whole_findings, whole_seen) = rules.finish_with_observed();
        assert!(faults.is_none() || !whole_findings.is_empty());

        let pretty: String = exchanges
            .iter()
            // One line still, but spaced out (JSON strings hold no raw newline).
            .map(|e| serde_json::to_string_pretty(e).unwrap().replace('\n', " ") + "\n")
            .collect();
        for journal in [text.clone(), pretty] {
            let outcome = audit(
                journal.as_bytes(),
                &Filter::default(),
                RuleOptions::default(),
                std::io::sink(),
            )
            .unwrap();
            assert_eq!(outcome.findings, whole_findings);
            assert_eq!(outcome.observed, whole_seen);
            assert_eq!(outcome.exchanges, exchanges);
        }
    }
}

/// Issue 20: the harness's own requests (a `verify` reading the shop's
/// references on the same simulator) are never judged as the shop's traffic.
/// Here only vipps-golive's client talks to the simulator: the audit judges
/// nothing, says why, and never heads the report with the harness's name.
#[tokio::test(flavor = "multi_thread")]
async fn the_harness_own_requests_are_never_judged_as_the_shops() {
    use crate::api::{Amount, Client, ClientOptions, CreatePaymentRequest, PollOptions, UserFlow};
    use crate::config::Credentials;
    use crate::evidence::MemoryRecorder;

    let (server, clock, dir, journal) = simulator().await;
    let client = Client::new(ClientOptions::new(
        server.uri().parse().unwrap(),
        Credentials {
            client_id: "sim-client-id-123456".into(),
            client_secret: "sim-client-secret-123456".into(),
            subscription_key: "sim-subscription-key-123456".into(),
            msn: "123456".into(),
        },
        clock,
        MemoryRecorder::new(),
    ))
    .unwrap();
    let request = CreatePaymentRequest::new(
        Amount::nok(1_000),
        "harness-ref-0001-a",
        UserFlow::WebRedirect,
    )
    .return_url("https://shop.example/return?reference=harness-ref-0001-a");
    client.create_payment(&request).await.unwrap();
    let _ = client
        .poll_until_final("harness-ref-0001-a", &PollOptions::default())
        .await;
    client.payment_events("harness-ref-0001-a").await.unwrap();
    server.simulator().with_engine(|e| {
        let config = e.config.clone();
        e.journal = crate::simulator::journal::SimJournal::new(&config);
    });
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(
        text.to_ascii_lowercase().contains("vipps-golive/"),
        "the simulator journals the User-Agent"
    );

    let out = dir.path().join("reports");
    let mut summary = Vec::new();
    let result =
        crate::commands::audit::run_async(&args(Some(&journal), None, &out), &mut summary).await;
    assert!(result.is_err(), "nothing of the shop's to judge");
    let e = evidence_in(&out);
    assert!(e.exchanges.is_empty(), "{:#?}", e.exchanges);
    assert_ne!(e.run.system_name.as_deref(), Some("vipps-golive"));
    assert_eq!(verdict_of(&e, "EP-EVENTS"), Verdict::Fail);
}

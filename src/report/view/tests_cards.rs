//! The proof cards (issue 24 point 1): one per item in checklist order,
//! worded as the checklist words it, at most three deciding exchanges that
//! the page holds, and what was not tested said with why.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};

use super::cards::{self, CardView, Words, DECIDING, MORE_LINKS};
use super::{build, ReportView};
use crate::domain::checklist::{ChecklistId, ITEMS};
use crate::domain::exchange::Exchange;
use crate::evidence::model::{
    Evidence, ExchangeRef, Finding, ItemResult, RunKind, ScenarioResult, Severity, Verdict,
};
use crate::evidence::{FolderKind, RunMeta, TargetInfo};

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).unwrap()
}

fn exchange(n: i64, method: &str, path: &str, status: Option<u16>, ids: &[&str]) -> Exchange {
    let reference = path
        .strip_prefix("/epayment/v1/payments/")
        .map(|rest| rest.split('/').next().unwrap_or(rest).to_owned());
    Exchange {
        schema_version: 1,
        id: format!("x{n:03}"),
        started_at: t0() + Duration::seconds(n),
        duration_ms: 5,
        method: method.into(),
        url: format!("http://127.0.0.1:7777{path}"),
        request_headers: vec![("Merchant-Serial-Number".into(), "123456".into())],
        request_body: serde_json::Value::Null,
        status,
        response_headers: Vec::new(),
        response_body: serde_json::json!({"ok": n}),
        error: status.is_none().then(|| "timed out".to_owned()),
        attempt: 1,
        reference,
        checklist_ids: ids.iter().map(|s| (*s).to_owned()).collect(),
        scenario: Some("captures".into()),
        kind: None,
    }
}

fn scenario(name: &str, id: &str, verdict: Verdict, reason: Option<&str>) -> ScenarioResult {
    ScenarioResult {
        name: name.into(),
        feature: "Endpoints".into(),
        tags: vec![id.into()],
        checklist_ids: vec![id.into()],
        verdict,
        reason: reason.map(str::to_owned),
        references: Vec::new(),
        started_at: t0(),
        finished_at: t0(),
        steps: Vec::new(),
        source: None,
    }
}

fn finding(id: &str, rule: &str, severity: Severity, exchange: Option<&Exchange>) -> Finding {
    Finding {
        checklist_id: id.into(),
        rule: rule.into(),
        severity,
        message: format!("{rule} broke"),
        advice: "fix it".into(),
        exchange: exchange.map(|e| ExchangeRef {
            id: e.id.clone(),
            time: e.started_at,
            method: e.method.clone(),
            path: crate::domain::operation::path_of(&e.url).to_owned(),
            reference: None,
        }),
    }
}

/// A run: EP-CAPTURE proven by five captures on five payments (and more
/// behind it than a card links), QA-HEADERS failed by findings (one on an
/// exchange the evidence did not keep), PF-REDIRECTS not run, GL-PROD not
/// applicable; the items written in reverse checklist order.
fn evidence() -> Evidence {
    let mut exchanges = Vec::new();
    for n in 0..5 {
        let path = format!("/epayment/v1/payments/shop-cap-{n}/capture");
        exchanges.push(exchange(n, "POST", &path, Some(200), &["EP-CAPTURE"]));
    }
    for n in 5..25 {
        let path = format!("/epayment/v1/payments/shop-cap-{}", n % 5);
        exchanges.push(exchange(n, "GET", &path, Some(200), &["EP-CAPTURE"]));
    }
    exchanges.push(exchange(
        30,
        "POST",
        "/epayment/v1/payments",
        Some(201),
        &[],
    ));
    exchanges.push(exchange(
        31,
        "GET",
        "/epayment/v1/payments/shop-h-1",
        Some(200),
        &[],
    ));
    let gone = exchange(99, "GET", "/epayment/v1/payments/shop-gone", Some(200), &[]);
    let findings = vec![
        finding(
            "QA-HEADERS",
            "headers.name",
            Severity::Warning,
            Some(&exchanges[25]),
        ),
        finding(
            "QA-HEADERS",
            "headers.missing",
            Severity::Fail,
            Some(&exchanges[26]),
        ),
        finding("QA-HEADERS", "headers.missing", Severity::Fail, Some(&gone)),
        finding(
            "QA-HEADERS",
            "headers.missing",
            Severity::Fail,
            Some(&exchanges[26]),
        ),
        finding("QA-HEADERS", "headers.note", Severity::Info, None),
    ];
    let items = ITEMS
        .iter()
        .rev()
        .map(|i| {
            let (verdict, reason, scenarios): (Verdict, Option<&str>, Vec<String>) = match i.id {
                "EP-CAPTURE" => (Verdict::Pass, None, vec!["captures".into()]),
                "QA-HEADERS" => (Verdict::Fail, Some("a header is missing"), Vec::new()),
                "PF-REDIRECTS" => (
                    Verdict::NotRun,
                    Some("the run stopped"),
                    vec!["return page".into(), "never recorded".into()],
                ),
                "GL-PROD" => (
                    Verdict::NotApplicable,
                    Some("comes from production"),
                    Vec::new(),
                ),
                _ => (Verdict::Pass, None, Vec::new()),
            };
            ItemResult {
                id: i.id.into(),
                title: i.title.into(),
                verdict,
                reason: reason.map(str::to_owned),
                scenarios,
                references: if i.id == "EP-CAPTURE" {
                    vec!["shop-cap-0".into()]
                } else {
                    Vec::new()
                },
                attestation: None,
            }
        })
        .collect();
    RunMeta::new(FolderKind::Run, t0())
        .evidence(TargetInfo::new("simulator", "http://127.0.0.1:7777/"))
        .items(items)
        .scenarios(vec![
            scenario("captures", "EP-CAPTURE", Verdict::Pass, None),
            scenario(
                "return page",
                "PF-REDIRECTS",
                Verdict::NotRun,
                Some("the run was killed before it"),
            ),
        ])
        .findings(findings)
        .exchanges(exchanges)
        .finish()
}

fn card<'v>(view: &'v ReportView, id: &str) -> &'v CardView {
    view.cards.iter().find(|c| c.id == id).unwrap()
}

/// The anchors of every exchange the page shows in full.
fn exchange_anchors(view: &ReportView) -> HashSet<String> {
    view.references
        .iter()
        .flat_map(|r| r.exchanges.iter())
        .chain(view.other_exchanges.iter())
        .map(|e| e.anchor.clone())
        .collect()
}

/// The wording as plain text, without its Markdown marks.
fn plain(markdown: &str) -> String {
    markdown.replace('`', "").replace("**", "")
}

#[test]
fn there_is_one_card_per_item_in_checklist_order_worded_as_the_checklist_words_it() {
    let view = build(&evidence());
    let ids: Vec<&str> = view.cards.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ChecklistId::ALL.map(ChecklistId::as_str));
    for (card, item) in view.cards.iter().zip(ITEMS.iter()) {
        let text: String = card.wording.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(text, plain(item.wording), "{}", card.id);
        assert_eq!(card.proof, item.proof);
        assert_eq!(card.anchor, format!("proof-{}", item.id));
        assert_eq!(card.item_anchor, format!("item-{}", item.id));
    }
    // The checklist table carries the same wording beside each ID.
    let rows: Vec<_> = view.areas.iter().flat_map(|a| a.items.iter()).collect();
    for (row, card) in rows.iter().zip(view.cards.iter()) {
        assert_eq!(row.wording, card.wording);
        assert_eq!(row.proof_anchor, card.anchor);
    }
}

#[test]
fn the_wording_keeps_the_checklists_code_and_emphasis() {
    let run = |text: &str, code, strong| Words {
        text: text.into(),
        code,
        strong,
    };
    assert_eq!(
        cards::words("Full **and** partial capture `POST .../{reference}/capture`"),
        [
            run("Full ", false, false),
            run("and", false, true),
            run(" partial capture ", false, false),
            run("POST .../{reference}/capture", true, false),
        ]
    );
    // Stars inside code are code; an unclosed mark does not lose text.
    assert_eq!(
        cards::words("`a**b` c `d"),
        [
            run("a**b", true, false),
            run(" c ", false, false),
            run("d", true, false)
        ]
    );
    assert!(cards::words("").is_empty());
}

#[test]
fn a_card_shows_at_most_three_deciding_exchanges_and_links_only_to_exchanges_the_page_has() {
    let view = build(&evidence());
    let anchors = exchange_anchors(&view);
    for card in &view.cards {
        assert!(card.deciding.len() <= DECIDING, "{}", card.id);
        assert!(card.more.len() <= MORE_LINKS, "{}", card.id);
        for a in card
            .deciding
            .iter()
            .map(|d| &d.exchange.anchor)
            .chain(card.more.iter().map(|m| &m.anchor))
        {
            assert!(anchors.contains(a), "{}: {a} is not on the page", card.id);
        }
        assert_eq!(
            card.behind,
            card.deciding.len() + card.more.len() + card.more_untold,
            "{}",
            card.id
        );
    }
    // The captures decide EP-CAPTURE, one payment each; the 22 others are
    // linked (12) or counted (10).
    let capture = card(&view, "EP-CAPTURE");
    assert_eq!(capture.deciding.len(), 3);
    let paths: Vec<&str> = capture
        .deciding
        .iter()
        .map(|d| d.exchange.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "/epayment/v1/payments/shop-cap-0/capture",
            "/epayment/v1/payments/shop-cap-1/capture",
            "/epayment/v1/payments/shop-cap-2/capture"
        ]
    );
    assert_eq!(capture.behind, 25);
    assert_eq!(capture.more.len(), MORE_LINKS);
    assert_eq!(capture.more_untold, 10);
    assert_eq!(capture.proven.len(), 1);
    assert_eq!(capture.proven[0].anchor.as_deref(), Some("sc-captures"));
    assert!(capture.basis.starts_with("PROVEN"));
    assert!(capture.provenance.contains("embedded simulator"));
}

#[test]
fn a_failed_item_is_decided_by_the_exchanges_its_findings_name() {
    let view = build(&evidence());
    let headers = card(&view, "QA-HEADERS");
    let ids: Vec<&str> = headers
        .deciding
        .iter()
        .map(|d| d.exchange.id.as_str())
        .collect();
    // Fail before warning; the same exchange once; the one not kept skipped.
    assert_eq!(ids[..2], ["x031", "x030"]);
    assert!(headers.deciding[0].why.starts_with("fail headers.missing"));
    assert!(headers.deciding[1].why.starts_with("warning headers.name"));
    let rules: Vec<(&str, &str, usize)> = headers
        .rules
        .iter()
        .map(|r| (r.rule.as_str(), r.severity, r.count))
        .collect();
    assert_eq!(
        rules,
        [
            ("headers.missing", "fail", 3),
            ("headers.name", "warning", 1),
            ("headers.note", "info", 1)
        ]
    );
    assert!(headers.rules_note.is_none(), "the rules found something");
    assert!(headers.basis.contains("NOT TO HOLD"));
}

#[test]
fn an_item_not_run_or_not_applicable_says_what_was_not_tested_and_why() {
    let view = build(&evidence());
    let redirects = card(&view, "PF-REDIRECTS");
    assert!(redirects.basis.starts_with("NOT RUN"));
    let lines: Vec<(&str, &str, Option<&str>)> = redirects
        .not_tested
        .iter()
        .map(|l| (l.what.as_str(), l.verdict, l.why.as_deref()))
        .collect();
    assert_eq!(
        lines,
        [
            (
                "return page",
                "NOT RUN",
                Some("the run was killed before it")
            ),
            (
                "never recorded",
                "NOT RUN",
                Some("no result of it was recorded")
            ),
        ]
    );
    assert!(
        redirects.deciding.is_empty(),
        "nothing decides what did not run"
    );
    assert!(redirects.not_tested_note.is_empty());

    let prod = card(&view, "GL-PROD");
    assert_eq!(prod.not_tested.len(), 1);
    assert_eq!(
        prod.not_tested[0].why.as_deref(),
        Some("comes from production")
    );
    assert!(prod.deciding.is_empty());

    // A manual item is a person's word: no exchange decides it.
    let design = card(&view, "PF-DESIGN");
    assert!(design.deciding.is_empty());
    assert!(design.rules_note.is_none());

    // An item with nothing left out says so.
    let capture = card(&view, "EP-CAPTURE");
    assert!(capture.not_tested.is_empty());
    assert!(!capture.not_tested_note.is_empty());
}

#[test]
fn the_rendered_cards_link_to_anchors_the_page_has() {
    let evidence = evidence();
    let seal = crate::report::seal::SealView {
        mark: "UNSIGNED",
        class: "unsigned",
        meaning: "m".into(),
        key_fingerprint: None,
        signed_at: None,
        evidence_sha256: None,
        journal_sha256: None,
        run_id: evidence.run.run_id.clone(),
        check_command: "vipps-golive report --check FOLDER".into(),
        print_footer: "run".into(),
    };
    let html = crate::report::render(&evidence, &seal).unwrap();
    let start = html.find(r#"<section id="proof""#).unwrap();
    let end = start + html[start..].find("</section>").unwrap();
    let section = &html[start..end];
    assert_eq!(section.matches(r#"<article class="proof""#).count(), 17);
    assert!(section.contains(
        "Full <strong>and</strong> partial capture <code>POST .../{reference}/capture</code>"
    ));
    let mut links = 0;
    for piece in section.split(r##"href="#"##).skip(1) {
        let target = &piece[..piece.find('"').unwrap()];
        assert!(
            html.contains(&format!(r#"id="{target}""#)),
            "the card links to #{target}, which the page lacks"
        );
        links += 1;
    }
    assert!(links > 17, "{links} links");
    // Each card is reached from its row of the checklist table.
    for item in ITEMS {
        assert!(html.contains(&format!(r##"href="#proof-{}""##, item.id)));
    }
}

#[test]
fn a_rehearsal_proves_only_as_a_rehearsal_and_the_shops_traffic_as_traffic() {
    let mut e = evidence();
    e.kind = RunKind::Run;
    let run = build(&e);
    let capture = card(&run, "EP-CAPTURE");
    assert!(capture
        .basis
        .starts_with("PROVEN by vipps-golive's rehearsal"));
    assert!(capture.basis.contains("not the shop's"));

    e.kind = RunKind::Audit;
    let audit = build(&e);
    assert_eq!(card(&audit, "EP-CAPTURE").basis, "PROVEN by the traffic");
}

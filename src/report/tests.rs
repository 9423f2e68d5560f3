//! Every template renders, in handlebars' strict mode, with a representative
//! view: a field a template names that the view lacks, a partial that is not
//! registered or a helper that does not exist fails here instead of leaving a
//! hole in somebody's report.

use handlebars::Handlebars;
use serde_json::Value;

use super::templates;
use super::view::cards::{DecidingView, ExchangeLink, ProofLine, RuleLine, Words};
use super::view::*;

/// The registry the report uses, made strict: a missing field is an error.
fn strict() -> Handlebars<'static> {
    let mut hb = templates().unwrap().clone();
    hb.set_strict_mode(true);
    hb
}

fn some(full: bool, text: &str) -> Option<String> {
    full.then(|| text.to_owned())
}

fn finding() -> FindingView {
    FindingView {
        checklist_id: "QA-HEADERS".into(),
        rule: "headers.system-name".into(),
        severity: "fail",
        message: "Vipps-System-Name is missing".into(),
        advice: "send it on every request".into(),
        exchange_anchor: Some("ex-1".into()),
        exchange_label: Some("POST /epayment/v1/payments".into()),
        count: 11,
    }
}

fn exchange(full: bool) -> ExchangeView {
    ExchangeView {
        id: "0b5c".into(),
        anchor: "ex-0b5c".into(),
        method: "POST".into(),
        url: "http://127.0.0.1:7777/epayment/v1/payments".into(),
        path: "/epayment/v1/payments".into(),
        status: "201".into(),
        status_class: "pass",
        started_at: "2025-01-02 10:00:00.000 UTC".into(),
        duration_ms: 12,
        attempt: if full { 2 } else { 1 },
        request_html: "POST /epayment/v1/payments\n\n{&quot;a&quot;:1}".into(),
        response_html: "HTTP 201\n\n{}".into(),
        error: some(full, "connection reset"),
        checklist_ids: if full {
            "EP-CREATE".into()
        } else {
            String::new()
        },
        label: some(full, "webhooks-check: signed"),
    }
}

fn problem(full: bool) -> ProblemView {
    ProblemView {
        reference: some(full, "acme-1"),
        reference_anchor: some(full, "ref-acme-1"),
        exchange_id: "0b5c".into(),
        exchange_anchor: "ex-0b5c".into(),
        status: 400,
        title: "Bad Request".into(),
        detail: some(full, "Amount must be positive"),
        trace_id: some(full, "trace-1"),
        error_code: some(full, "1234"),
        explanation: "Fix the amount.".into(),
        expected: some(full, "A reference the API cannot use is refused"),
        count: if full { 8 } else { 1 },
    }
}

fn interrupted(full: bool) -> InterruptedView {
    InterruptedView {
        id: "a1".into(),
        started_at: "2025-01-02 10:00:01 UTC".into(),
        method: "POST".into(),
        url: "/epayment/v1/payments/acme-1/capture".into(),
        reference: some(full, "acme-1"),
        reference_anchor: some(full, "ref-acme-1"),
        idempotency_key: some(full, "idem-1"),
    }
}

fn ref_link(full: bool) -> RefLink {
    RefLink {
        reference: "acme-1".into(),
        anchor: "ref-acme-1".into(),
        state: some(full, "CAPTURED"),
    }
}

fn reference(full: bool) -> ReferenceView {
    ReferenceView {
        reference: "acme-1".into(),
        anchor: "ref-acme-1".into(),
        msn: "778899".into(),
        scenario: some(full, "full capture ends CAPTURED"),
        checklist_ids: vec!["EP-CAPTURE".into()],
        state: some(full, "AUTHORIZED"),
        ending: some(full, "CAPTURED"),
        aggregate: full.then(|| AggregateView {
            authorized: "NOK 10.00".into(),
            captured: "NOK 10.00".into(),
            refunded: "NOK 0.00".into(),
            cancelled: "NOK 0.00".into(),
        }),
        events: vec![EventView {
            name: "CAPTURED".into(),
            amount: "NOK 10.00".into(),
            time: "2025-01-02 10:00:02 UTC".into(),
            offset: "+2.0 s".into(),
            psp_reference: some(full, "psp-1"),
            idempotency_key: some(full, "idem-2"),
            success: full,
            left: "50".into(),
        }],
        polls: vec![PollView {
            n: 1,
            time: "2025-01-02 10:00:05 UTC".into(),
            offset: "+5.0 s".into(),
            gap: some(full, "2.0 s"),
            left: "60".into(),
        }],
        poll_dots: vec!["60".into()],
        polls_inline: some(full, "+5.0 s"),
        poll_summary: some(full, "1 GET, first after 5.0 s"),
        webhooks: vec![WebhookView {
            received_at: "2025-01-02 10:00:03 UTC".into(),
            event_name: "epayments.payment.captured.v1".into(),
            signature_valid: full,
        }],
        problems: vec![problem(full)],
        interrupted: vec![interrupted(full)],
        exchanges: vec![exchange(full)],
    }
}

fn words() -> Vec<Words> {
    super::view::cards::words("Full **and** partial capture `POST .../capture`")
}

fn proof_line(full: bool) -> ProofLine {
    ProofLine {
        what: "full capture ends CAPTURED".into(),
        verdict: "NOT RUN",
        verdict_class: "notrun",
        why: some(full, "the run stopped before it"),
        anchor: some(full, "sc-full-capture"),
    }
}

/// A proof card; `full` fills every optional field and list, else none.
fn card(full: bool) -> CardView {
    let list = |n: usize| if full { n } else { 0 };
    CardView {
        id: "EP-CAPTURE".into(),
        anchor: "proof-EP-CAPTURE".into(),
        item_anchor: "item-EP-CAPTURE".into(),
        area: "Endpoints to integrate",
        wording: words(),
        proof: "one partial capture followed by capture of the rest".into(),
        verdict: "PASS",
        verdict_class: "pass",
        basis: "PROVEN by the traffic",
        provenance: "vipps-golive's own client, against the embedded simulator".into(),
        reason: some(full, "captured in full"),
        attestation: some(full, "attested by Kari Nordmann, CTO on 2025-01-02"),
        proven: (0..list(1)).map(|_| proof_line(full)).collect(),
        proven_note: some(!full, "nothing yet"),
        rules: (0..list(1))
            .map(|_| RuleLine {
                rule: "headers.missing".into(),
                severity: "fail",
                count: 3,
                message: "Vipps-System-Name is missing".into(),
            })
            .collect(),
        rules_note: some(full, "the rules found nothing against it"),
        references: (0..list(1)).map(|_| ref_link(full)).collect(),
        not_tested: (0..list(1)).map(|_| proof_line(full)).collect(),
        not_tested_note: if full {
            String::new()
        } else {
            "nothing left out".into()
        },
        deciding: (0..list(1))
            .map(|_| DecidingView {
                why: "the call itself".into(),
                exchange: exchange(full),
            })
            .collect(),
        more: (0..list(1))
            .map(|_| ExchangeLink {
                anchor: "ex-0b5d".into(),
                label: "GET /epayment/v1/payments/acme-1 → 200".into(),
            })
            .collect(),
        more_untold: list(4),
        behind: list(6),
    }
}

/// A page with one of everything; `full` fills every optional field, else
/// leaves every one out (the other side of each `{{#if}}`).
/// The page the template sees: the view and the seal beside it (as
/// [`super::render`] puts them).
fn page(full: bool) -> Value {
    let mut page = serde_json::to_value(view(full)).unwrap();
    let hash = |s: &str| full.then(|| s.repeat(64));
    let seal = super::seal::SealView {
        mark: if full { "SIGNED" } else { "INCOMPLETE" },
        class: if full { "signed" } else { "incomplete" },
        meaning: "what the mark means".into(),
        key_fingerprint: hash("f"),
        signed_at: full.then(|| "2026-01-01T00:00:00Z".into()),
        evidence_sha256: hash("a"),
        journal_sha256: hash("b"),
        run_id: "run-1".into(),
        check_command: "vipps-golive report --check FOLDER".into(),
        print_footer: "run run-1".into(),
    };
    page["seal"] = serde_json::to_value(seal).unwrap();
    page
}

fn view(full: bool) -> ReportView {
    ReportView {
        title: "vipps-golive evidence".into(),
        incomplete: !full,
        summary: Summary {
            class: "ready",
            headline: "Ready to send".into(),
            details: vec!["every item passed".into()],
            counts: vec![Count {
                label: "PASS",
                class: "pass",
                n: 1,
            }],
        },
        run: RunView {
            run_id: "20250102-100000-abcd".into(),
            kind: "run",
            tool_version: "0.1.0".into(),
            target: "simulator".into(),
            base_url: "http://127.0.0.1:7777".into(),
            msn: "778899".into(),
            started_at: "2025-01-02 10:00:00 UTC".into(),
            finished_at: "2025-01-02 10:00:10 UTC".into(),
            duration: "10.0 s".into(),
            stale_after: "2025-02-02".into(),
            tags: some(full, "@simulator"),
            system: some(full, "acme-shop 1.2"),
            provenance: "vipps-golive's own client, against the embedded simulator".into(),
            harness_left_out: some(full, "3 exchange(s) left out"),
            clock_note: some(full, "Requests are dated on the simulator's virtual clock."),
        },
        golive: full.then(|| GoLiveView {
            checklist_id: "GL-TEST".into(),
            references: vec![
                GoLiveRefView {
                    outcome: "CAPTURED".into(),
                    reference: Some("acme-1".into()),
                    anchor: Some("ref-acme-1".into()),
                },
                GoLiveRefView {
                    outcome: "REFUNDED".into(),
                    reference: Some("acme-2".into()),
                    anchor: None,
                },
                GoLiveRefView {
                    outcome: "CANCELLED".into(),
                    reference: None,
                    anchor: None,
                },
            ],
            copy_text: "GL-TEST: acme-1".into(),
            complete: true,
            sendable: true,
            note: String::new(),
            heading: "references",
        }),
        areas: vec![AreaView {
            title: "ePayment",
            items: vec![ItemView {
                id: "EP-CAPTURE".into(),
                anchor: "item-EP-CAPTURE".into(),
                proof_anchor: "proof-EP-CAPTURE".into(),
                title: "Capture".into(),
                wording: words(),
                proof: "a capture answered 200".into(),
                verdict: "PASS",
                verdict_class: "pass",
                reason: some(full, "captured in full"),
                scenarios: vec![ScenarioLink {
                    name: "full capture ends CAPTURED".into(),
                    verdict: if full { "PASS" } else { "" },
                    verdict_class: "pass",
                    anchor: some(full, "sc-full-capture"),
                }],
                references: vec![ref_link(full)],
                attestation: some(full, "Kari Nordmann, CTO"),
                findings: vec![finding()],
            }],
        }],
        cards: vec![card(full)],
        wording_source: "shared/checklist.md",
        problems: vec![problem(full)],
        findings: vec![finding()],
        interrupted: vec![interrupted(full)],
        references: vec![reference(full)],
        scenarios: vec![ScenarioView {
            name: "full capture ends CAPTURED".into(),
            anchor: "sc-full-capture".into(),
            feature: "payments.feature".into(),
            tags: "@EP-CAPTURE".into(),
            verdict: "PASS",
            verdict_class: "pass",
            reason: some(full, "every step passed"),
            references: vec![ref_link(full)],
            duration: "1.2 s".into(),
            steps: vec![StepView {
                keyword: "When".into(),
                text: "the shop captures 10.00 NOK".into(),
                outcome: "passed",
                message: some(full, "captured"),
            }],
        }],
        webhook_checks: vec![WebhookCheckView {
            case: "a bad signature".into(),
            expected: "4xx".into(),
            status: "401".into(),
            verdict: "PASS",
            verdict_class: "pass",
            explanation: "refused as it must be".into(),
            exchanges: if full {
                vec!["ex-0b5c".into()]
            } else {
                Vec::new()
            },
        }],
        other_exchanges: vec![exchange(full)],
        exchange_count: 2,
        left_out: full.then_some(LeftOut {
            shown: 1,
            judged: 5_048,
            own: 1,
        }),
        attestations: vec![AttestationView {
            checklist_id: "GL-PROD".into(),
            by: "Kari Nordmann, CTO".into(),
            at: "2025-01-02".into(),
        }],
        input: if full {
            vec!["1 line(s) read, 1 exchange(s) judged".to_owned()]
        } else {
            Vec::new()
        },
    }
}

/// Every list in `value` emptied: the page of a run that made nothing.
fn without_lists(value: &mut Value) {
    match value {
        Value::Array(items) => items.clear(),
        Value::Object(map) => map.values_mut().for_each(without_lists),
        _ => {}
    }
}

#[test]
fn every_template_renders_in_strict_mode_with_every_field_present_and_absent() {
    let hb = strict();
    for full in [true, false] {
        let page = page(full);
        // A partial is rendered with what it is placed for: one element of a list.
        let contexts = [
            ("report", &page),
            ("style", &page),
            ("reference", &page["references"][0]),
            ("exchange", &page["other_exchanges"][0]),
            ("exline", &page["other_exchanges"][0]),
            ("problem", &page["problems"][0]),
            ("interrupted", &page["interrupted"][0]),
            ("proof", &page["cards"][0]),
            ("words", &page["cards"][0]["wording"]),
        ];
        for name in hb.get_templates().keys() {
            let Some((_, context)) = contexts.iter().find(|(n, _)| n == name) else {
                panic!("template `{name}` has no representative view in this test: add one");
            };
            if let Err(e) = hb.render(name, context) {
                panic!("template `{name}` (full: {full}) failed in strict mode: {e}");
            }
        }
    }
    let mut empty = page(false);
    without_lists(&mut empty);
    if let Err(e) = hb.render("report", &empty) {
        panic!("the report of an empty run failed in strict mode: {e}");
    }
}

#[test]
fn strict_mode_catches_a_field_the_view_lacks() {
    // The test above is only as good as strict mode; pin what it catches.
    let mut hb = strict();
    hb.register_template_string("typo", "{{run.run_idd}}")
        .unwrap();
    let page = page(true);
    assert!(hb.render("typo", &page).is_err());
    hb.register_template_string("partial", "{{> no_such_partial}}")
        .unwrap();
    assert!(hb.render("partial", &page).is_err());
    hb.register_template_string("helper", "{{no_such_helper run}}")
        .unwrap();
    assert!(hb.render("helper", &page).is_err());
}

#[test]
fn the_templates_are_parsed_once_per_process() {
    let first: *const Handlebars<'static> = templates().unwrap();
    let second: *const Handlebars<'static> = templates().unwrap();
    assert_eq!(first, second);
}

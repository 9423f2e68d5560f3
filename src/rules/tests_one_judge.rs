//! One judge: the same exchanges get the same item verdicts and findings
//! whether `run` judged them as its own traffic or `audit` read them from a
//! shop's journal. The traffic breaks QA-HEADERS (a Vipps-System header
//! missing, another too long), PF-REFERENCE (a reference of digits only) and
//! PF-POLLING (a poll answered 429), and is otherwise a careful shop's.

use crate::audit::{self, Filter, Source};
use crate::evidence::model::{Finding, ItemResult, ScenarioResult, Verdict};
use crate::evidence::{Exchange, SCHEMA_VERSION};
use crate::rules::{judge_with_observed, RuleOptions};
use crate::runner::items::{items, Environment, Inputs};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

const JUDGED: [&str; 3] = ["QA-HEADERS", "PF-REFERENCE", "PF-POLLING"];

fn t0() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_780_000_000, 0).unwrap()
}

/// Every header a careful shop sends, with the token call's exception.
fn headers(token_call: bool) -> Vec<(String, String)> {
    let mut h = vec![
        ("Ocp-Apim-Subscription-Key", "…1a2b3c4d"),
        ("Merchant-Serial-Number", "123456"),
        ("Vipps-System-Name", "woocommerce"),
        ("Vipps-System-Version", "8.4.1"),
        ("Vipps-System-Plugin-Name", "vipps-woo-plugin"),
        ("Vipps-System-Plugin-Version", "2.1.0"),
    ];
    if !token_call {
        h.insert(0, ("Authorization", "Bearer …0a1b2c3d"));
    }
    h.into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn exchange(n: u32, at_ms: i64, method: &str, path: &str, status: u16) -> Exchange {
    Exchange {
        schema_version: SCHEMA_VERSION,
        id: format!("x-{n}"),
        started_at: t0() + Duration::milliseconds(at_ms),
        duration_ms: 40,
        method: method.into(),
        url: format!("https://apitest.vipps.no{path}"),
        request_headers: headers(path.starts_with("/accesstoken")),
        request_body: Value::Null,
        status: Some(status),
        response_headers: Vec::new(),
        response_body: Value::Null,
        error: None,
        attempt: 1,
        reference: None,
        checklist_ids: Vec::new(),
        scenario: None,
        kind: None,
    }
}

fn create(n: u32, at_ms: i64, reference: &str) -> Exchange {
    let mut e = exchange(n, at_ms, "POST", "/epayment/v1/payments", 201);
    e.request_headers
        .push(("Idempotency-Key".into(), format!("create-{reference}")));
    e.request_body = json!({
        "amount": {"currency": "NOK", "value": 24900},
        "paymentMethod": {"type": "WALLET"},
        "reference": reference,
        "returnUrl": format!("https://shop.example/return?reference={reference}"),
        "userFlow": "WEB_REDIRECT",
    });
    e.response_body = json!({"reference": reference, "redirectUrl": "https://pay.example/x"});
    e.reference = Some(reference.into());
    e
}

fn poll(n: u32, at_ms: i64, reference: &str, status: u16, state: &str) -> Exchange {
    let mut e = exchange(
        n,
        at_ms,
        "GET",
        &format!("/epayment/v1/payments/{reference}"),
        status,
    );
    if status == 200 {
        e.response_body = json!({
            "reference": reference,
            "state": state,
            "aggregate": {
                "authorizedAmount": {"currency": "NOK", "value": 24900},
                "capturedAmount": {"currency": "NOK", "value": 0},
                "refundedAmount": {"currency": "NOK", "value": 0},
                "cancelledAmount": {"currency": "NOK", "value": 0},
            },
        });
    }
    e.reference = Some(reference.into());
    e
}

/// Two payments, each polled on the guideline's schedule to AUTHORIZED.
fn traffic() -> Vec<Exchange> {
    let good = "acme-shop-order1-1";
    let digits = "12345678";
    let mut out = vec![exchange(1, 0, "POST", "/accesstoken/get", 200)];
    out.push(create(2, 100, good));
    out.push(poll(3, 5_200, good, 200, "CREATED"));
    // The plugin version left out of one poll.
    let mut missing = poll(4, 7_200, good, 200, "AUTHORIZED");
    missing
        .request_headers
        .retain(|(k, _)| k != "Vipps-System-Plugin-Version");
    out.push(missing);
    out.push(create(5, 8_000, digits));
    // A system version of 31 characters.
    let mut long = poll(6, 13_100, digits, 200, "CREATED");
    for (k, v) in &mut long.request_headers {
        if k == "Vipps-System-Version" {
            *v = "8.4.1-build.20261206.abcdef0123".into();
        }
    }
    out.push(long);
    out.push(poll(7, 15_100, digits, 429, ""));
    out.push(poll(8, 17_200, digits, 200, "AUTHORIZED"));
    out
}

/// How `run` judges its own exchanges: the rules, then the items beside the
/// scenarios (here one passing scenario for each judged item).
fn judged_as_run(exchanges: &[Exchange]) -> (Vec<ItemResult>, Vec<Finding>) {
    let (findings, observed) = judge_with_observed(exchanges, RuleOptions::default());
    let scenarios: Vec<ScenarioResult> = JUDGED
        .iter()
        .map(|id| ScenarioResult {
            name: format!("the scenario for {id}"),
            feature: "one judge".into(),
            tags: vec![(*id).into()],
            checklist_ids: vec![(*id).into()],
            verdict: Verdict::Pass,
            reason: None,
            references: Vec::new(),
            started_at: t0(),
            finished_at: t0(),
            steps: Vec::new(),
            source: None,
        })
        .collect();
    let items = items(&Inputs {
        environment: Environment::Simulator,
        scenarios: &scenarios,
        findings: &findings,
        observed: &observed,
        attestations: &[],
        golive: &[],
    });
    (items, findings)
}

/// How `audit` judges a shop's journal: the same exchanges, one JSON line each.
fn judged_as_audit(exchanges: &[Exchange]) -> (Vec<ItemResult>, Vec<Finding>) {
    let journal: String = exchanges
        .iter()
        .map(|e| serde_json::to_string(e).unwrap() + "\n")
        .collect();
    let outcome = audit::audit(
        journal.as_bytes(),
        &Filter::default(),
        RuleOptions::default(),
        std::io::sink(),
    )
    .unwrap();
    let source = Source {
        kind: "journal",
        location: "journal.jsonl".into(),
    };
    let evidence = audit::evidence("one-judge", &source, &Filter::default(), &outcome);
    (evidence.items, evidence.findings)
}

fn of<'a>(items: &'a [ItemResult], id: &str) -> &'a ItemResult {
    items.iter().find(|i| i.id == id).unwrap()
}

fn about<'a>(findings: &'a [Finding], id: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.checklist_id == id).collect()
}

#[test]
fn run_and_audit_give_the_same_exchanges_the_same_verdicts_and_findings() {
    let exchanges = traffic();

    let (run_items, run_findings) = judged_as_run(&exchanges);
    let (audit_items, audit_findings) = judged_as_audit(&exchanges);

    for id in JUDGED {
        let (run, audit) = (of(&run_items, id), of(&audit_items, id));
        assert_eq!(run.verdict, Verdict::Fail, "{id} in run: {run:#?}");
        assert_eq!(
            (run.verdict, &run.reason),
            (audit.verdict, &audit.reason),
            "{id}"
        );
        assert_eq!(about(&run_findings, id), about(&audit_findings, id), "{id}");
    }
}

#[test]
fn each_fault_is_named_by_the_rule_it_breaks() {
    let (_, findings) = judged_as_run(&traffic());

    let rules: Vec<(&str, &str)> = findings
        .iter()
        .filter(|f| JUDGED.contains(&f.checklist_id.as_str()))
        .map(|f| {
            (
                f.rule.as_str(),
                f.exchange.as_ref().map_or("", |x| x.id.as_str()),
            )
        })
        .collect();

    assert!(rules.contains(&("headers.missing", "x-4")), "{rules:?}");
    assert!(rules.contains(&("headers.too-long", "x-6")), "{rules:?}");
    assert!(
        rules.contains(&("reference.digits-only", "x-5")),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("polling.rate-limited", "x-7")),
        "{rules:?}"
    );
}

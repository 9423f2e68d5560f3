//! `report --from-journal DIR`: evidence rebuilt from the journal of a run
//! that did not finish (killed, crashed, power lost), so the report shows
//! everything done before the stop, marked INCOMPLETE, with every attempt
//! that may have taken effect named.
//!
//! Nothing is judged here: without the run's own verdicts every checklist
//! row is FAIL "not proven", which is what an incomplete run is for go-live.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Months, Utc};

use crate::api::{ApiError, ErrorBody};
use crate::checklist::ITEMS;
use crate::evidence::model::{
    Aggregate, EventRecord, Evidence, InterruptedAttempt, ItemResult, ProblemRecord,
    ReferenceEvidence, RunInfo, RunKind, Verdict, EVIDENCE_SCHEMA_VERSION,
};
use crate::evidence::{Exchange, Journal};

use super::{ReportError, JOURNAL_FILE};

/// Reads `dir/journal.jsonl` and builds incomplete evidence from it.
pub fn from_journal(dir: &Path) -> Result<Evidence, ReportError> {
    let exchanges = Journal::read(dir.join(JOURNAL_FILE))?;
    let run_id = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown".into());
    // Write-ahead attempt lines (attempts without an outcome) are read by the
    // journal of the hardening work; until then a killed run's last request
    // is simply absent from this list.
    Ok(evidence_from_exchanges(&run_id, exchanges, Vec::new()))
}

/// Incomplete evidence: run facts, references and problems as recorded,
/// every item FAIL "not proven".
pub fn evidence_from_exchanges(
    run_id: &str,
    exchanges: Vec<Exchange>,
    interrupted: Vec<InterruptedAttempt>,
) -> Evidence {
    let started_at = exchanges
        .iter()
        .map(|e| e.started_at)
        .chain(interrupted.iter().map(|a| a.started_at))
        .min()
        .unwrap_or_else(Utc::now);
    let finished_at = exchanges
        .iter()
        .map(|e| e.started_at + chrono::Duration::milliseconds(e.duration_ms as i64))
        .chain(interrupted.iter().map(|a| a.started_at))
        .max()
        .unwrap_or(started_at);
    let first_url = exchanges
        .iter()
        .map(|e| e.url.as_str())
        .chain(interrupted.iter().map(|a| a.url.as_str()))
        .next()
        .unwrap_or_default();
    let (target, base_url) = target_of(first_url);
    let header = |name: &str| {
        exchanges.iter().find_map(|e| {
            e.request_headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        })
    };
    let references = references_from_exchanges(&exchanges);

    let items = ITEMS
        .iter()
        .map(|item| {
            let mut refs = Vec::new();
            let mut scenarios = Vec::new();
            for e in exchanges
                .iter()
                .filter(|e| e.checklist_ids.iter().any(|id| id == item.id))
            {
                if let Some(r) = &e.reference {
                    if !refs.contains(r) {
                        refs.push(r.clone());
                    }
                }
                if let Some(s) = &e.scenario {
                    if !scenarios.contains(s) {
                        scenarios.push(s.clone());
                    }
                }
            }
            ItemResult {
                id: item.id.into(),
                title: item.title.into(),
                verdict: Verdict::Fail,
                reason: Some(
                    "not proven: the run stopped before a verdict (INCOMPLETE); what it recorded is below"
                        .into(),
                ),
                scenarios,
                references: refs,
                attestation: None,
            }
        })
        .collect();

    Evidence {
        schema_version: EVIDENCE_SCHEMA_VERSION,
        kind: RunKind::Run,
        complete: false,
        run: RunInfo {
            run_id: run_id.to_owned(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            target,
            base_url,
            msn: header("Merchant-Serial-Number").unwrap_or_default(),
            started_at,
            finished_at,
            stale_after: started_at
                .checked_add_months(Months::new(1))
                .unwrap_or(started_at),
            tags: None,
            system_name: header("Vipps-System-Name"),
            system_version: header("Vipps-System-Version"),
        },
        golive: None,
        items,
        scenarios: Vec::new(),
        references,
        findings: Vec::new(),
        attestations: Vec::new(),
        webhook_checks: Vec::new(),
        interrupted,
        exchanges,
    }
}

/// `(target, base URL as shown)` from a request URL.
fn target_of(url: &str) -> (String, String) {
    let Ok(u) = url::Url::parse(url) else {
        return ("custom".into(), String::new());
    };
    let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
    let base = match u.port() {
        Some(p) => format!("{}://{host}:{p}", u.scheme()),
        None => format!("{}://{host}", u.scheme()),
    };
    let target = match host.trim_end_matches('.') {
        "apitest.vipps.no" => "test",
        "api.vipps.no" => "production",
        "127.0.0.1" | "localhost" | "[::1]" | "::1" => "simulator",
        _ => "custom",
    };
    (target.into(), base)
}

/// The payment path's reference and what follows it, for an ePayment URL.
fn payment_path(url: &str) -> Option<(String, String)> {
    let u = url::Url::parse(url).ok()?;
    let rest = u.path().strip_prefix("/epayment/v1/payments/")?;
    let (reference, tail) = rest.split_once('/').unwrap_or((rest, ""));
    Some((reference.to_owned(), tail.to_owned()))
}

fn amount(v: &serde_json::Value) -> Option<(String, i64)> {
    Some((
        v.get("currency")?.as_str()?.to_owned(),
        v.get("value")?.as_i64()?,
    ))
}

fn aggregate(body: &serde_json::Value) -> Option<Aggregate> {
    let a = body.get("aggregate")?;
    let (currency, authorized) = amount(a.get("authorizedAmount")?)?;
    let value = |k: &str| a.get(k).and_then(amount).map(|(_, v)| v).unwrap_or(0);
    Some(Aggregate {
        currency,
        authorized,
        captured: value("capturedAmount"),
        refunded: value("refundedAmount"),
        cancelled: value("cancelledAmount"),
    })
}

fn events(body: &serde_json::Value) -> Option<Vec<EventRecord>> {
    body.as_array()?
        .iter()
        .map(|e| {
            let (currency, amount) = e.get("amount").and_then(amount)?;
            Some(EventRecord {
                name: e.get("name")?.as_str()?.to_owned(),
                currency,
                amount,
                timestamp: e
                    .get("timestamp")?
                    .as_str()?
                    .parse::<DateTime<Utc>>()
                    .ok()?,
                psp_reference: e
                    .get("pspReference")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
                idempotency_key: e
                    .get("idempotencyKey")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
                success: e.get("success").and_then(|v| v.as_bool()).unwrap_or(true),
            })
        })
        .collect()
}

/// An error answer as people need it, when the exchange carries one.
pub fn problem_of(e: &Exchange) -> Option<ProblemRecord> {
    let status = e.status.filter(|s| *s >= 400)?;
    let bytes = serde_json::to_vec(&e.response_body).unwrap_or_default();
    let body = ErrorBody::parse(&bytes);
    let (title, detail, trace_id, error_code) = match &body {
        ErrorBody::Problem(p) => (
            p.title.clone().unwrap_or_else(|| format!("HTTP {status}")),
            p.detail.clone(),
            p.trace().map(str::to_owned),
            p.error_code().map(|c| c.to_string()),
        ),
        other => (format!("HTTP {status}"), Some(other.summary()), None, None),
    };
    let path = url::Url::parse(&e.url)
        .map(|u| u.path().to_owned())
        .unwrap_or_default();
    let explanation = ApiError::Http {
        endpoint: crate::api::error::Endpoint {
            method: e.method.clone(),
            path,
        },
        status,
        body: Box::new(body),
        retry_after: None,
        attempts: e.attempt,
    }
    .explain();
    Some(ProblemRecord {
        exchange_id: e.id.clone(),
        status,
        title,
        detail,
        trace_id,
        error_code,
        explanation,
    })
}

/// References with state, aggregate, events, polls and problems, from a
/// stream of exchanges (the last answer of each kind wins).
pub fn references_from_exchanges(exchanges: &[Exchange]) -> Vec<ReferenceEvidence> {
    let mut by_ref: BTreeMap<String, ReferenceEvidence> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for e in exchanges {
        let from_path = payment_path(&e.url);
        let Some(reference) = e
            .reference
            .clone()
            .or_else(|| from_path.as_ref().map(|(r, _)| r.clone()))
        else {
            continue;
        };
        let msn = e
            .request_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("Merchant-Serial-Number"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let r = by_ref.entry(reference.clone()).or_insert_with(|| {
            order.push(reference.clone());
            ReferenceEvidence {
                reference: reference.clone(),
                msn,
                scenario: e.scenario.clone(),
                checklist_ids: Vec::new(),
                state: None,
                aggregate: None,
                events: Vec::new(),
                polls: Vec::new(),
                webhooks: Vec::new(),
                problems: Vec::new(),
                exchange_ids: Vec::new(),
            }
        });
        r.exchange_ids.push(e.id.clone());
        for id in &e.checklist_ids {
            if !r.checklist_ids.contains(id) {
                r.checklist_ids.push(id.clone());
            }
        }
        if let Some(p) = problem_of(e) {
            r.problems.push(p);
        }
        let ok = e.status.is_some_and(|s| (200..300).contains(&s));
        match from_path.as_ref().map(|(_, tail)| tail.as_str()) {
            Some("") if e.method == "GET" => {
                r.polls.push(e.started_at);
                if ok {
                    if let Some(s) = e.response_body.get("state").and_then(|s| s.as_str()) {
                        r.state = Some(s.to_owned());
                    }
                    if let Some(a) = aggregate(&e.response_body) {
                        r.aggregate = Some(a);
                    }
                }
            }
            Some("events") if e.method == "GET" && ok => {
                if let Some(ev) = events(&e.response_body) {
                    r.events = ev;
                }
            }
            _ => {}
        }
    }
    order
        .into_iter()
        .filter_map(|r| by_ref.remove(&r))
        .collect()
}

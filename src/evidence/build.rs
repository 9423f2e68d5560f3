//! From recorded exchanges to the references section of `evidence.json`.
//!
//! Everything here is read from what the target answered, as the journal
//! recorded it: the state and aggregate of the last successful GET, the event
//! log of the last successful events read, when each GET went out, and every
//! error answer with the client's plain-language explanation. Nothing comes
//! from what a step meant to do, so a target that lies is shown lying.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::model::{Aggregate, EventRecord, ProblemRecord, ReferenceEvidence};
use super::Exchange;
use crate::domain::operation::{path_of, Operation};
use crate::domain::problem::ErrorBody;

/// A path segment with its percent-escapes decoded: the reference as the
/// shop wrote it, so `a%2Db-12345` and `a-b-12345` are one payment.
fn decode(segment: &str) -> String {
    if !segment.contains('%') {
        return segment.to_owned();
    }
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(hi * 16 + lo);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The payment reference an exchange concerns: the one the client tagged, else
/// the one its path names (see [`Operation::reference`]), else a create body's
/// `reference`.
pub(crate) fn reference_of(exchange: &Exchange) -> Option<String> {
    if let Some(r) = &exchange.reference {
        return Some(r.clone());
    }
    match Operation::of(&exchange.method, path_of(&exchange.url)) {
        Operation::Create => match exchange.request_body.get("reference") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        },
        op => op.reference().map(decode),
    }
}

/// A header's value, by case-insensitive name.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Builds one [`ReferenceEvidence`] per payment reference seen, in the order
/// each was first seen. `msn` is used where a request carried no
/// Merchant-Serial-Number header.
pub fn references<'a>(
    exchanges: impl IntoIterator<Item = &'a Exchange>,
    msn: &str,
) -> Vec<ReferenceEvidence> {
    let mut order: Vec<String> = Vec::new();
    let mut by_ref: HashMap<String, ReferenceEvidence> = HashMap::new();
    for exchange in exchanges {
        let Some(reference) = reference_of(exchange) else {
            continue;
        };
        let entry = by_ref.entry(reference.clone()).or_insert_with(|| {
            order.push(reference.clone());
            ReferenceEvidence {
                reference: reference.clone(),
                msn: header(&exchange.request_headers, "Merchant-Serial-Number")
                    .unwrap_or(msn)
                    .to_owned(),
                scenario: None,
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
        apply(entry, exchange);
    }
    order
        .into_iter()
        .filter_map(|r| by_ref.remove(&r))
        .collect()
}

fn apply(entry: &mut ReferenceEvidence, exchange: &Exchange) {
    entry.exchange_ids.push(exchange.id.clone());
    if entry.scenario.is_none() {
        entry.scenario.clone_from(&exchange.scenario);
    }
    for id in &exchange.checklist_ids {
        if !entry.checklist_ids.contains(id) {
            entry.checklist_ids.push(id.clone());
        }
    }
    let op = Operation::of(&exchange.method, path_of(&exchange.url));
    let get = matches!(op, Operation::Get(_));
    if get {
        entry.polls.push(exchange.started_at);
    }
    match exchange.status {
        Some(200) if get => {
            if let Some(state) = exchange.response_body.get("state").and_then(Value::as_str) {
                entry.state = Some(state.to_owned());
            }
            if let Some(aggregate) = exchange.response_body.get("aggregate").and_then(aggregate) {
                entry.aggregate = Some(aggregate);
            }
        }
        Some(200) if matches!(op, Operation::Events(_)) => {
            if let Some(list) = exchange.response_body.as_array() {
                entry.events = list.iter().filter_map(event).collect();
            }
        }
        Some(status) if status >= 400 => entry.problems.push(problem(exchange, status)),
        _ => {}
    }
}

fn amount(v: &Value) -> Option<(String, i64)> {
    Some((
        v.get("currency")?.as_str()?.to_owned(),
        v.get("value")?.as_i64()?,
    ))
}

fn aggregate(v: &Value) -> Option<Aggregate> {
    let (currency, authorized) = amount(v.get("authorizedAmount")?)?;
    let value = |field: &str| v.get(field).and_then(amount).map_or(0, |(_, n)| n);
    Some(Aggregate {
        currency,
        authorized,
        captured: value("capturedAmount"),
        refunded: value("refundedAmount"),
        cancelled: value("cancelledAmount"),
    })
}

fn event(v: &Value) -> Option<EventRecord> {
    let (currency, amount) = v.get("amount").and_then(amount)?;
    let timestamp = v
        .get("timestamp")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))?;
    let text = |field: &str| v.get(field).and_then(Value::as_str).map(str::to_owned);
    Some(EventRecord {
        name: text("name")?,
        currency,
        amount,
        timestamp,
        psp_reference: text("pspReference"),
        idempotency_key: text("idempotencyKey"),
        success: v.get("success").and_then(Value::as_bool).unwrap_or(true),
    })
}

/// An error answer as people need it: title, detail, traceId, code, and the
/// client's explanation of what it means and what to do.
pub fn problem(exchange: &Exchange, status: u16) -> ProblemRecord {
    let bytes = match &exchange.response_body {
        Value::Null => Vec::new(),
        Value::String(s) => s.clone().into_bytes(),
        other => other.to_string().into_bytes(),
    };
    let body = ErrorBody::parse(&bytes);
    let (title, detail, trace_id, error_code) = match &body {
        ErrorBody::Problem(p) => (
            p.title.clone(),
            p.detail.clone(),
            p.trace().map(str::to_owned),
            p.error_code().map(|c| c.to_string()),
        ),
        ErrorBody::Gateway(g) => (g.message.clone(), None, None, None),
        ErrorBody::Token(t) => (
            Some(t.error.clone()),
            t.error_description.clone(),
            t.trace_id.clone(),
            t.error_codes
                .as_ref()
                .and_then(|c| c.first())
                .map(u64::to_string),
        ),
        ErrorBody::Other { text } => (None, Some(text.clone()), None, None),
        ErrorBody::Empty => (None, None, None, None),
    };
    ProblemRecord {
        exchange_id: exchange.id.clone(),
        status,
        title: title.unwrap_or_else(|| format!("HTTP {status}")),
        detail,
        trace_id,
        error_code,
        explanation: body.explain(status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn exchange(method: &str, path: &str, status: u16, body: Value) -> Exchange {
        Exchange {
            schema_version: 1,
            id: format!("x-{method}-{path}-{status}"),
            started_at: Utc::now(),
            duration_ms: 1,
            method: method.into(),
            url: format!("http://127.0.0.1:9/{}", path.trim_start_matches('/')),
            request_headers: vec![("Merchant-Serial-Number".into(), "123456".into())],
            request_body: Value::Null,
            status: Some(status),
            response_headers: vec![],
            response_body: body,
            error: None,
            attempt: 1,
            reference: None,
            checklist_ids: vec![],
            scenario: None,
            kind: None,
        }
    }

    #[test]
    fn an_exchange_is_filed_under_the_payment_its_path_or_create_body_names() {
        let cases = [
            ("POST", "https://h/epayment/v1/payments", None),
            (
                "GET",
                "https://h/epayment/v1/payments/abc-12345?x=1",
                Some("abc-12345"),
            ),
            (
                "GET",
                "/epayment/v1/payments/abc-12345/events",
                Some("abc-12345"),
            ),
            (
                "POST",
                "https://h/epayment/v1/payments/abc-12345/capture",
                Some("abc-12345"),
            ),
            (
                "POST",
                "https://h/epayment/v1/test/payments/abc-12345/approve",
                Some("abc-12345"),
            ),
            (
                "POST",
                "https://h/order-management/v2/ecom/receipts/abc-12345",
                Some("abc-12345"),
            ),
            (
                "PUT",
                "https://h/order-management/v2/ecom/categories/abc-12345",
                Some("abc-12345"),
            ),
            ("POST", "https://h/accesstoken/get", None),
            (
                "GET",
                "https://h/epayment/v1/payments/a%2Db-12345",
                Some("a-b-12345"),
            ),
        ];
        for (method, url, reference) in cases {
            let mut e = exchange(method, "/", 200, Value::Null);
            e.url = url.into();
            assert_eq!(reference_of(&e).as_deref(), reference, "{method} {url}");
        }
        let mut create = exchange("POST", "/epayment/v1/payments", 201, Value::Null);
        create.request_body = json!({"reference": "shop-1234567"});
        assert_eq!(reference_of(&create).as_deref(), Some("shop-1234567"));
    }

    #[test]
    fn state_aggregate_events_and_polls_come_from_the_answers() {
        let get = exchange(
            "GET",
            "/epayment/v1/payments/shop-1234567",
            200,
            json!({"state": "AUTHORIZED", "aggregate": {
                "authorizedAmount": {"currency": "NOK", "value": 24900},
                "capturedAmount": {"currency": "NOK", "value": 10000},
                "refundedAmount": {"currency": "NOK", "value": 0},
                "cancelledAmount": {"currency": "NOK", "value": 0}}}),
        );
        let events = exchange(
            "GET",
            "/epayment/v1/payments/shop-1234567/events",
            200,
            json!([{"reference": "shop-1234567", "pspReference": "p1", "name": "CAPTURED",
                "amount": {"currency": "NOK", "value": 10000}, "timestamp": "2026-12-01T10:00:00Z",
                "idempotencyKey": "k1", "success": true}]),
        );
        let refs = references([&get, &events, &get], "999");
        assert_eq!(refs.len(), 1);
        let r = &refs[0];
        assert_eq!(r.msn, "123456");
        assert_eq!(r.state.as_deref(), Some("AUTHORIZED"));
        assert_eq!(r.aggregate.as_ref().map(|a| a.captured), Some(10000));
        assert_eq!(r.events.len(), 1);
        assert_eq!(r.events[0].idempotency_key.as_deref(), Some("k1"));
        assert_eq!(
            r.polls.len(),
            2,
            "two GETs of the payment, the events read is not a poll"
        );
        assert_eq!(r.exchange_ids.len(), 3);
    }

    #[test]
    fn an_error_answer_becomes_a_problem_with_an_explanation() {
        let e = exchange(
            "POST",
            "/epayment/v1/payments/shop-1234567/capture",
            400,
            json!({"type": "x", "title": "Bad Request", "detail": "Too much", "status": 400,
                "traceId": "t-1", "extraDetails": [{"name": "ErrorCode", "reason": "6090"}]}),
        );
        let refs = references([&e], "123456");
        let p = &refs[0].problems[0];
        assert_eq!(p.status, 400);
        assert_eq!(p.title, "Bad Request");
        assert_eq!(p.trace_id.as_deref(), Some("t-1"));
        assert_eq!(p.error_code.as_deref(), Some("6090"));
        assert!(!p.explanation.is_empty());
    }
}

//! The go-live references (GL-TEST, GL-PROD): which outcome a reference
//! proves, or why it proves none, from the answers the target recorded.
//!
//! `run` keeps the references its scenarios made, `verify` reads the shop's;
//! both ask [`judge`] over their recorded exchanges, so the same answers give
//! the same verdict whichever command read them. The last answered GET of the
//! payment and of its event log are read as raw JSON: amounts come from what
//! the target said, never from what a client parsed or a step believed, so a
//! target whose aggregate contradicts its event log proves nothing.

use chrono::{DateTime, Months, Utc};
use serde_json::Value;

use crate::domain::amount::money;
use crate::domain::checklist::ChecklistId;
use crate::domain::exchange::Exchange;
use crate::domain::operation::{path_of, Operation};
use crate::domain::state::EventName;
use crate::evidence::model::{GoLive, GoLiveReference};

/// The outcomes each go-live item needs, in the checklist's order.
pub fn outcomes(id: ChecklistId) -> &'static [EventName] {
    if id == ChecklistId::GlProd {
        &[
            EventName::Authorized,
            EventName::Captured,
            EventName::Refunded,
            EventName::Cancelled,
        ]
    } else {
        &[
            EventName::Captured,
            EventName::Refunded,
            EventName::Cancelled,
        ]
    }
}

/// How many of the shop's last references per outcome `pack` reads back.
pub const CANDIDATES: usize = 3;

/// The go-live outcomes, in the checklist's order (AUTHORIZED for GL-PROD only).
const ENDINGS: [EventName; 4] = [
    EventName::Authorized,
    EventName::Captured,
    EventName::Refunded,
    EventName::Cancelled,
];

/// The outcome each payment of the shop's traffic ended in, as far as the
/// traffic shows it (its last event log read, or the state and aggregate of
/// its last answer): the references `pack` reads back live and judges with
/// [`judge`]. Only the last [`CANDIDATES`] per outcome are kept, so memory
/// stays small whatever the journal's length; a payment that moves on (a
/// capture, then a refund) leaves its earlier outcome.
#[derive(Debug, Default)]
pub struct Endings {
    /// Per outcome of [`ENDINGS`], the latest references last.
    last: [Vec<String>; 4],
}

impl Endings {
    pub fn observe(&mut self, view: &super::View<'_>) {
        let (Some(reference), true) = (view.reference, view.ok()) else {
            return;
        };
        let Some(outcome) = ending(view) else {
            return;
        };
        for list in &mut self.last {
            list.retain(|r| r != reference);
        }
        if let Some(at) = ENDINGS.iter().position(|e| *e == outcome) {
            let list = &mut self.last[at];
            list.push(reference.to_owned());
            if list.len() > CANDIDATES {
                list.remove(0);
            }
        }
    }

    /// Per outcome, the references latest first.
    pub fn finish(self) -> Vec<(&'static str, Vec<String>)> {
        ENDINGS
            .iter()
            .zip(self.last)
            .map(|(e, mut refs)| {
                refs.reverse();
                (e.as_str(), refs)
            })
            .collect()
    }
}

/// The go-live outcome one answer shows its payment in, if any: the last
/// event of an event log, else an AUTHORIZED state's aggregate (the money's
/// last move: refunded, cancelled, captured, or only authorized). A payment
/// in any other state ends in no go-live outcome.
fn ending(view: &super::View<'_>) -> Option<EventName> {
    let body = view.body;
    if matches!(view.op, Operation::Events(_)) {
        let last = body.events.last()?;
        return ENDINGS
            .iter()
            .copied()
            .find(|e| e.as_str() == last.as_ref());
    }
    if body.state.as_deref() != Some("AUTHORIZED") {
        // TERMINATED, ABORTED, EXPIRED, CREATED: no go-live outcome.
        return None;
    }
    let positive = |v: Option<i64>| v.is_some_and(|v| v > 0);
    Some(if positive(body.refunded) {
        EventName::Refunded
    } else if positive(body.cancelled) {
        EventName::Cancelled
    } else if positive(body.captured) {
        EventName::Captured
    } else {
        EventName::Authorized
    })
}

/// One reference, judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    pub reference: String,
    /// The outcome it proves, or why it proves none (plain words).
    pub proves: Result<EventName, String>,
}

/// Judges `reference` for `id` over `exchanges` (in journal order): the last
/// answered GET of the payment and of its event log must show state
/// AUTHORIZED, an event log that ends in one of `id`'s outcomes, an aggregate
/// that agrees with that outcome and with the event log's amounts, and a
/// payment created at most one month before `now`.
pub fn judge(
    exchanges: &[Exchange],
    reference: &str,
    id: ChecklistId,
    now: DateTime<Utc>,
) -> Judged {
    Judged {
        reference: reference.to_owned(),
        proves: proves(exchanges, reference, id, now),
    }
}

fn proves(
    exchanges: &[Exchange],
    reference: &str,
    id: ChecklistId,
    now: DateTime<Utc>,
) -> Result<EventName, String> {
    let payment = last_answer(exchanges, reference, Read::Payment)?;
    let log = last_answer(exchanges, reference, Read::Events)?;
    let events = events(log)?;
    created_recently(&events, now)?;
    match payment.get("state").and_then(Value::as_str) {
        Some("AUTHORIZED") => {}
        Some(state) => {
            return Err(format!(
                "the payment is {state}, not one of the go-live outcomes"
            ))
        }
        None => return Err("its GET answer has no state".into()),
    }
    let wanted = outcomes(id);
    let last = events.iter().rev().find(|e| e.success).map(|e| e.name);
    let outcome = wanted
        .iter()
        .copied()
        .find(|o| Some(o.as_str()) == last)
        .ok_or_else(|| {
            let names: Vec<&str> = wanted.iter().map(|o| o.as_str()).collect();
            format!(
                "its event log ends {}, not one of {}",
                last.unwrap_or("with no event"),
                names.join(", ")
            )
        })?;
    let aggregate = Aggregate::of(payment)?;
    aggregate.shows(outcome)?;
    aggregate.agrees_with(&events)?;
    aggregate.captured_in_full(outcome)?;
    Ok(outcome)
}

/// For each outcome `id` needs, the first reference that proves it.
pub fn references(id: ChecklistId, judged: &[Judged]) -> GoLive {
    GoLive {
        checklist_id: id.into(),
        references: outcomes(id)
            .iter()
            .map(|o| GoLiveReference {
                outcome: o.as_str().into(),
                reference: judged
                    .iter()
                    .find(|j| j.proves.as_ref() == Ok(o))
                    .map(|j| j.reference.clone()),
            })
            .collect(),
    }
}

/// Why each reference that proves nothing does not: "`ref`: why".
pub fn problems(judged: &[Judged]) -> Vec<String> {
    judged
        .iter()
        .filter_map(|j| {
            j.proves
                .as_ref()
                .err()
                .map(|why| format!("`{}`: {why}", j.reference))
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Read {
    Payment,
    Events,
}

/// Whether `e` is a read of `reference` of the kind `read`. The path names
/// the reference as sent: percent-escapes are undone before comparing.
pub(super) fn reads(e: &Exchange, reference: &str, read: Read) -> bool {
    let named = match (Operation::of(&e.method, path_of(&e.url)), read) {
        (Operation::Get(r), Read::Payment) | (Operation::Events(r), Read::Events) => r,
        _ => return false,
    };
    named == reference
        || percent_encoding::percent_decode_str(named)
            .decode_utf8()
            .is_ok_and(|d| d == reference)
}

/// The body of the last answered read, or why there is none to judge. A
/// read that got no answer (after an answered one) is passed over: the
/// answer before it is still what the target said.
fn last_answer<'a>(
    exchanges: &'a [Exchange],
    reference: &str,
    read: Read,
) -> Result<&'a Value, String> {
    let what = match read {
        Read::Payment => "it could not be read",
        Read::Events => "its event log could not be read",
    };
    let mut unanswered = None;
    for e in exchanges.iter().rev().filter(|e| reads(e, reference, read)) {
        match e.status {
            Some(s) if (200..300).contains(&s) => return Ok(&e.response_body),
            Some(404) if read == Read::Payment => {
                return Err("unknown reference: the API does not know it for this MSN".into())
            }
            Some(s) => {
                let title = e
                    .response_body
                    .get("title")
                    .and_then(Value::as_str)
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default();
                return Err(format!("{what}: the target answered HTTP {s}{title}"));
            }
            None => {
                unanswered.get_or_insert(e);
            }
        }
    }
    Err(match unanswered {
        Some(e) => format!("{what}: {}", e.error.as_deref().unwrap_or("no answer came")),
        None => match read {
            Read::Payment => format!("it was never read (GET /epayment/v1/payments/{reference})"),
            Read::Events => "its event log was never read (GET .../events)".into(),
        },
    })
}

/// One entry of the event log, as recorded.
#[derive(Debug)]
struct Event<'a> {
    name: &'a str,
    amount: i64,
    timestamp: Option<&'a str>,
    /// `success: false` marks an operation that failed: it moved no money.
    success: bool,
}

fn events(log: &Value) -> Result<Vec<Event<'_>>, String> {
    let list = log
        .as_array()
        .ok_or("its event log is not a list of events")?;
    if list.is_empty() {
        return Err("its event log is empty".into());
    }
    Ok(list
        .iter()
        .map(|e| Event {
            name: e.get("name").and_then(Value::as_str).unwrap_or("UNKNOWN"),
            amount: e
                .pointer("/amount/value")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            timestamp: e.get("timestamp").and_then(Value::as_str),
            success: e.get("success").and_then(Value::as_bool) != Some(false),
        })
        .collect())
}

/// Vipps accepts go-live examples at most one month old: the payment's
/// creation (its CREATED event, else its first) must be that recent.
fn created_recently(events: &[Event<'_>], now: DateTime<Utc>) -> Result<(), String> {
    let created = events
        .iter()
        .find(|e| e.name == EventName::Created.as_str())
        .or_else(|| events.first())
        .and_then(|e| e.timestamp)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .ok_or("its event log does not say when the payment was created")?
        .with_timezone(&Utc);
    let limit = now.checked_sub_months(Months::new(1)).unwrap_or(now);
    if created < limit {
        return Err(format!(
            "evidence older than one month (created {}); Vipps accepts examples at most a month old",
            created.to_rfc3339()
        ));
    }
    Ok(())
}

/// The payment's `aggregate`, in minor units.
#[derive(Debug)]
struct Aggregate<'a> {
    currency: &'a str,
    authorized: i64,
    captured: i64,
    refunded: i64,
    cancelled: i64,
}

impl<'a> Aggregate<'a> {
    fn of(payment: &'a Value) -> Result<Aggregate<'a>, String> {
        let value = |field: &str| {
            payment
                .pointer(&format!("/aggregate/{field}/value"))
                .and_then(Value::as_i64)
                .ok_or_else(|| format!("its GET answer has no aggregate.{field}.value"))
        };
        let currency = ["/aggregate/authorizedAmount/currency", "/amount/currency"]
            .iter()
            .find_map(|p| payment.pointer(p).and_then(Value::as_str))
            .unwrap_or("");
        Ok(Aggregate {
            currency,
            authorized: value("authorizedAmount")?,
            captured: value("capturedAmount")?,
            refunded: value("refundedAmount")?,
            cancelled: value("cancelledAmount")?,
        })
    }

    fn money(&self, minor: i64) -> String {
        money(self.currency, minor).trim_start().to_owned()
    }

    /// What `outcome` needs of the amounts.
    /// A payment kept as the one that ends CAPTURED was captured in full
    /// (issue 20): a partial capture shows that capture works, not that the
    /// shop completes an order.
    fn captured_in_full(&self, outcome: EventName) -> Result<(), String> {
        if outcome == EventName::Captured && self.captured != self.authorized {
            return Err(format!(
                "the aggregate shows {} captured of {} authorized; the payment that ends CAPTURED must be captured in full",
                self.money(self.captured),
                self.money(self.authorized)
            ));
        }
        Ok(())
    }

    fn shows(&self, outcome: EventName) -> Result<(), String> {
        let ends = outcome.as_str();
        let none = |what: &str, amount: i64| {
            if amount == 0 {
                Ok(())
            } else {
                Err(format!(
                    "the aggregate shows {} {what}, though a payment that ends {ends} has nothing {what}",
                    self.money(amount)
                ))
            }
        };
        let some = |what: &str, amount: i64| {
            if amount > 0 {
                Ok(())
            } else {
                Err(format!(
                    "the aggregate shows nothing {what} ({}), though its event log ends {ends}",
                    self.money(amount)
                ))
            }
        };
        match outcome {
            EventName::Authorized => {
                some("authorized", self.authorized)?;
                none("captured", self.captured)?;
                none("refunded", self.refunded)?;
                none("cancelled", self.cancelled)
            }
            EventName::Captured => {
                some("captured", self.captured)?;
                none("refunded", self.refunded)?;
                none("cancelled", self.cancelled)
            }
            EventName::Refunded => some("refunded", self.refunded),
            EventName::Cancelled => some("cancelled", self.cancelled),
            _ => Err(format!("{ends} is not a go-live outcome")),
        }
    }

    /// Amounts that hold of every payment, and the aggregate against the
    /// event log: each amount is the sum of its successful events.
    fn agrees_with(&self, events: &[Event<'_>]) -> Result<(), String> {
        if self.captured > self.authorized {
            return Err(format!(
                "the aggregate shows {} captured, more than the {} authorized",
                self.money(self.captured),
                self.money(self.authorized)
            ));
        }
        if self.refunded > self.captured {
            return Err(format!(
                "the aggregate shows {} refunded, more than the {} captured",
                self.money(self.refunded),
                self.money(self.captured)
            ));
        }
        let sum = |names: &[EventName]| -> i64 {
            events
                .iter()
                .filter(|e| e.success && names.iter().any(|n| n.as_str() == e.name))
                .map(|e| e.amount)
                .sum()
        };
        // A termination cancels what is left authorized, as a cancel does.
        let checks = [
            (
                "captured",
                self.captured,
                "CAPTURED",
                sum(&[EventName::Captured]),
            ),
            (
                "refunded",
                self.refunded,
                "REFUNDED",
                sum(&[EventName::Refunded]),
            ),
            (
                "cancelled",
                self.cancelled,
                "CANCELLED",
                sum(&[EventName::Cancelled, EventName::Terminated]),
            ),
        ];
        for (what, aggregate, name, events) in checks {
            if aggregate != events {
                return Err(format!(
                    "the aggregate shows {} {what}, but its {name} events add up to {}",
                    self.money(aggregate),
                    self.money(events)
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::exchange::SCHEMA_VERSION;
    use chrono::Duration;
    use serde_json::json;

    const REF: &str = "golive-ref-0001";

    fn now() -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_780_000_000, 0).unwrap()
    }

    fn read(n: u32, path: &str, status: Option<u16>, body: Value) -> Exchange {
        Exchange {
            schema_version: SCHEMA_VERSION,
            id: format!("x-{n}"),
            started_at: now(),
            duration_ms: 40,
            method: "GET".into(),
            url: format!("https://apitest.vipps.no/epayment/v1/payments/{path}"),
            request_headers: Vec::new(),
            request_body: Value::Null,
            status,
            response_headers: Vec::new(),
            response_body: body,
            error: status.is_none().then(|| "connection reset".into()),
            attempt: 1,
            reference: Some(REF.into()),
            checklist_ids: Vec::new(),
            scenario: None,
            kind: None,
        }
    }

    /// GET payment: AUTHORIZED, 2.00 NOK authorized, and the other amounts.
    fn payment(state: &str, captured: i64, refunded: i64, cancelled: i64) -> Value {
        let nok = |value: i64| json!({"currency": "NOK", "value": value});
        json!({
            "reference": REF,
            "state": state,
            "amount": nok(200),
            "aggregate": {
                "authorizedAmount": nok(200),
                "capturedAmount": nok(captured),
                "refundedAmount": nok(refunded),
                "cancelledAmount": nok(cancelled),
            },
        })
    }

    /// GET events: CREATED and AUTHORIZED `age` before now, then `rest`.
    fn log(age: Duration, rest: &[(&str, i64)]) -> Value {
        let at = |d: Duration| (now() - d).to_rfc3339();
        let mut events = vec![
            json!({"reference": REF, "name": "CREATED", "amount": {"currency": "NOK", "value": 200}, "timestamp": at(age), "success": true}),
            json!({"reference": REF, "name": "AUTHORIZED", "amount": {"currency": "NOK", "value": 200}, "timestamp": at(age), "success": true}),
        ];
        for (name, value) in rest {
            events.push(json!({"reference": REF, "name": name, "amount": {"currency": "NOK", "value": value}, "timestamp": at(Duration::zero()), "success": true}));
        }
        Value::Array(events)
    }

    fn exchanges(payment: Value, events: Value) -> Vec<Exchange> {
        vec![
            read(1, REF, Some(200), payment),
            read(2, &format!("{REF}/events"), Some(200), events),
        ]
    }

    fn judged(x: &[Exchange], id: ChecklistId) -> Result<EventName, String> {
        judge(x, REF, id, now()).proves
    }

    fn test(payment: Value, events: Value) -> Result<EventName, String> {
        judged(&exchanges(payment, events), ChecklistId::GlTest)
    }

    fn fails_with(result: Result<EventName, String>, words: &str) {
        match result {
            Err(why) => assert!(why.contains(words), "{why:?} does not say {words:?}"),
            Ok(o) => panic!("proves {o:?}, expected a problem saying {words:?}"),
        }
    }

    fn hour() -> Duration {
        Duration::hours(1)
    }

    #[test]
    fn each_outcome_is_proven_by_consistent_answers() {
        assert_eq!(
            test(
                payment("AUTHORIZED", 200, 0, 0),
                log(hour(), &[("CAPTURED", 200)])
            ),
            Ok(EventName::Captured)
        );
        assert_eq!(
            test(
                payment("AUTHORIZED", 200, 200, 0),
                log(hour(), &[("CAPTURED", 200), ("REFUNDED", 200)])
            ),
            Ok(EventName::Refunded)
        );
        assert_eq!(
            test(
                payment("AUTHORIZED", 0, 0, 200),
                log(hour(), &[("CANCELLED", 200)])
            ),
            Ok(EventName::Cancelled)
        );
        let x = exchanges(payment("AUTHORIZED", 0, 0, 0), log(hour(), &[]));
        assert_eq!(judged(&x, ChecklistId::GlProd), Ok(EventName::Authorized));
        // GL-TEST asks for no reference that stays authorized.
        fails_with(
            judged(&x, ChecklistId::GlTest),
            "its event log ends AUTHORIZED, not one of CAPTURED, REFUNDED, CANCELLED",
        );
    }

    #[test]
    fn a_partial_refund_and_a_cancel_after_a_partial_capture_still_count() {
        assert_eq!(
            test(
                payment("AUTHORIZED", 200, 50, 0),
                log(hour(), &[("CAPTURED", 200), ("REFUNDED", 50)])
            ),
            Ok(EventName::Refunded)
        );
        assert_eq!(
            test(
                payment("AUTHORIZED", 100, 0, 100),
                log(hour(), &[("CAPTURED", 100), ("CANCELLED", 100)])
            ),
            Ok(EventName::Cancelled)
        );
    }

    #[test]
    fn an_aggregate_that_contradicts_the_outcome_or_the_event_log_proves_nothing() {
        // Captured 0 although the log ends CAPTURED (the lying target).
        fails_with(
            test(
                payment("AUTHORIZED", 0, 0, 0),
                log(hour(), &[("CAPTURED", 200)]),
            ),
            "the aggregate shows nothing captured (NOK 0.00), though its event log ends CAPTURED",
        );
        // Refunded more than captured.
        fails_with(
            test(
                payment("AUTHORIZED", 0, 200, 0),
                log(hour(), &[("CAPTURED", 200), ("REFUNDED", 200)]),
            ),
            "the aggregate shows NOK 2.00 refunded, more than the NOK 0.00 captured",
        );
        // Events that add up to another amount than the aggregate's.
        fails_with(
            test(
                payment("AUTHORIZED", 200, 0, 0),
                log(hour(), &[("CAPTURED", 100)]),
            ),
            "the aggregate shows NOK 2.00 captured, but its CAPTURED events add up to NOK 1.00",
        );
        fails_with(
            test(
                payment("AUTHORIZED", 200, 100, 0),
                log(hour(), &[("CAPTURED", 200), ("REFUNDED", 200)]),
            ),
            "its REFUNDED events add up to NOK 2.00",
        );
        fails_with(
            test(
                payment("AUTHORIZED", 0, 0, 200),
                log(hour(), &[("CANCELLED", 150)]),
            ),
            "its CANCELLED events add up to NOK 1.50",
        );
        // Nothing cancelled although the log ends CANCELLED.
        fails_with(
            test(
                payment("AUTHORIZED", 0, 0, 0),
                log(hour(), &[("CANCELLED", 200)]),
            ),
            "shows nothing cancelled",
        );
        // Ends CAPTURED, yet something was refunded.
        fails_with(
            test(
                payment("AUTHORIZED", 200, 100, 0),
                log(hour(), &[("REFUNDED", 100), ("CAPTURED", 200)]),
            ),
            "NOK 1.00 refunded, though a payment that ends CAPTURED has nothing refunded",
        );
        // Stays authorized, yet something was captured.
        fails_with(
            judged(
                &exchanges(
                    payment("AUTHORIZED", 200, 0, 0),
                    log(hour(), &[("CAPTURED", 200), ("AUTHORIZED", 200)]),
                ),
                ChecklistId::GlProd,
            ),
            "has nothing captured",
        );
        // Captured more than was authorized.
        fails_with(
            test(
                payment("AUTHORIZED", 300, 0, 0),
                log(hour(), &[("CAPTURED", 300)]),
            ),
            "NOK 3.00 captured, more than the NOK 2.00 authorized",
        );
        // Captured in part only.
        fails_with(
            test(
                payment("AUTHORIZED", 100, 0, 0),
                log(hour(), &[("CAPTURED", 100)]),
            ),
            "NOK 1.00 captured of NOK 2.00 authorized",
        );
        // No aggregate at all.
        fails_with(
            test(
                json!({"state": "AUTHORIZED"}),
                log(hour(), &[("CAPTURED", 200)]),
            ),
            "no aggregate.authorizedAmount.value",
        );
    }

    #[test]
    fn a_failed_operation_in_the_log_moves_no_money_and_ends_nothing() {
        let mut events = log(hour(), &[("CAPTURED", 200)]);
        if let Value::Array(list) = &mut events {
            list.push(json!({"name": "REFUNDED", "amount": {"currency": "NOK", "value": 200}, "timestamp": now().to_rfc3339(), "success": false}));
        }
        assert_eq!(
            test(payment("AUTHORIZED", 200, 0, 0), events),
            Ok(EventName::Captured)
        );
    }

    #[test]
    fn a_wrong_state_or_an_event_log_ending_elsewhere_proves_nothing() {
        fails_with(
            test(
                payment("TERMINATED", 0, 0, 200),
                log(hour(), &[("TERMINATED", 200)]),
            ),
            "the payment is TERMINATED, not one of the go-live outcomes",
        );
        fails_with(
            test(payment("AUTHORIZED", 0, 0, 0), log(hour(), &[])),
            "its event log ends AUTHORIZED",
        );
        fails_with(
            test(payment("AUTHORIZED", 0, 0, 0), json!([])),
            "its event log is empty",
        );
        fails_with(
            test(payment("AUTHORIZED", 0, 0, 0), json!({"oops": 1})),
            "not a list of events",
        );
    }

    #[test]
    fn evidence_older_than_a_month_proves_nothing() {
        fails_with(
            test(
                payment("AUTHORIZED", 200, 0, 0),
                log(Duration::days(32), &[("CAPTURED", 200)]),
            ),
            "evidence older than one month",
        );
        assert_eq!(
            test(
                payment("AUTHORIZED", 200, 0, 0),
                log(Duration::days(27), &[("CAPTURED", 200)])
            ),
            Ok(EventName::Captured)
        );
    }

    #[test]
    fn a_missing_or_failed_read_proves_nothing() {
        let events = log(hour(), &[("CAPTURED", 200)]);
        let good = payment("AUTHORIZED", 200, 0, 0);
        let path = format!("{REF}/events");
        fails_with(judged(&[], ChecklistId::GlTest), "it was never read");
        fails_with(
            judged(
                &[read(1, REF, Some(200), good.clone())],
                ChecklistId::GlTest,
            ),
            "its event log was never read",
        );
        fails_with(
            judged(
                &[read(1, REF, Some(404), json!({"title": "Not Found"}))],
                ChecklistId::GlTest,
            ),
            "unknown reference",
        );
        fails_with(
            judged(
                &[
                    read(1, REF, Some(200), good.clone()),
                    read(2, &path, Some(500), json!({"title": "Internal error"})),
                ],
                ChecklistId::GlTest,
            ),
            "its event log could not be read: the target answered HTTP 500 (Internal error)",
        );
        fails_with(
            judged(
                &[
                    read(1, REF, None, Value::Null),
                    read(2, &path, Some(200), events.clone()),
                ],
                ChecklistId::GlTest,
            ),
            "it could not be read: connection reset",
        );
        // The last answer counts: a later lie undoes an earlier honest read,
        // and a later read that got no answer does not.
        let mut x = exchanges(good.clone(), events.clone());
        x.push(read(3, REF, Some(200), payment("AUTHORIZED", 0, 0, 0)));
        fails_with(judged(&x, ChecklistId::GlTest), "shows nothing captured");
        let mut x = exchanges(good, events);
        x.push(read(3, REF, None, Value::Null));
        assert_eq!(judged(&x, ChecklistId::GlTest), Ok(EventName::Captured));
        // Another reference's reads are not this one's.
        let other = exchanges(
            payment("AUTHORIZED", 200, 0, 0),
            log(hour(), &[("CAPTURED", 200)]),
        );
        assert!(judge(&other, "golive-ref-0002", ChecklistId::GlTest, now())
            .proves
            .is_err());
    }

    #[test]
    fn the_first_reference_proving_each_outcome_is_offered() {
        let judged = [
            Judged {
                reference: "a".into(),
                proves: Err("the aggregate shows nothing captured".into()),
            },
            Judged {
                reference: "b".into(),
                proves: Ok(EventName::Captured),
            },
            Judged {
                reference: "c".into(),
                proves: Ok(EventName::Captured),
            },
            Judged {
                reference: "d".into(),
                proves: Ok(EventName::Cancelled),
            },
        ];
        let golive = references(ChecklistId::GlTest, &judged);
        assert_eq!(golive.checklist_id, "GL-TEST");
        let offered: Vec<(&str, Option<&str>)> = golive
            .references
            .iter()
            .map(|r| (r.outcome.as_str(), r.reference.as_deref()))
            .collect();
        assert_eq!(
            offered,
            [
                ("CAPTURED", Some("b")),
                ("REFUNDED", None),
                ("CANCELLED", Some("d"))
            ]
        );
        assert_eq!(
            problems(&judged),
            ["`a`: the aggregate shows nothing captured"]
        );
    }
}

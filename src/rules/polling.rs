//! PF-POLLING: after a create the shop reads the payment with GET until a
//! final state, even when a webhook or the returnUrl came first; the first
//! poll no sooner than the guideline start (5 s), then about every 2 s, never
//! faster than the floor (1 s); no 429; polling stops at a final state.
//!
//! Choice: a GET after the payment is known final is a read, not a poll (a
//! shop reads the aggregate after a capture); more than [`READS_AFTER_FINAL`]
//! GETs in a row after a final state with no change of the payment in between
//! is polling that did not stop.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::domain::checklist::ChecklistId;
use crate::evidence::model::{ExchangeRef, Severity};

use super::{Operation, RuleOptions, Sink, View};

/// GETs tolerated after a final state before "polling did not stop".
pub const READS_AFTER_FINAL: u32 = 3;

/// States after which a payment changes only by the shop's own calls.
pub fn is_final(state: &str) -> bool {
    matches!(state, "AUTHORIZED" | "ABORTED" | "EXPIRED" | "TERMINATED")
}

/// One payment's polling so far (about 80 bytes).
#[derive(Debug, Clone)]
struct Payment {
    created_at: DateTime<Utc>,
    create_id: Box<str>,
    reference: Box<str>,
    last_get: Option<DateTime<Utc>>,
    final_seen: bool,
    gets_after_final: u32,
    flagged_fast: bool,
    flagged_after_final: bool,
    /// The shop changed the payment (capture, cancel, ...).
    modified: bool,
    /// The next GET reads the result of the shop's own change: a read, not a poll.
    changed: bool,
}

/// What one GET of a payment says about its polling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The first GET came sooner than the guideline start.
    Early,
    /// Two polls closer than the floor.
    TooFast,
    /// Still polling after a final state.
    AfterFinal,
}

#[derive(Debug, Default)]
pub struct Polling {
    payments: HashMap<u64, Payment>,
}

impl Polling {
    pub fn observe(&mut self, view: &View<'_>, options: &RuleOptions, sink: &mut Sink) {
        if view.status == Some(429) {
            sink.raise(ChecklistId::PfPolling, "polling.rate-limited", Severity::Fail, Some(view), || {
                (
                    format!("{} was answered 429 Too Many Requests", view.describe()),
                    "poll no faster than every 2 s and make at most 5 modifications a minute per reference; a 429 means the integration is misusing the API (honour Retry-After when retrying)".into(),
                )
            });
        }
        let Some(key) = view.payment_key() else {
            return;
        };
        match view.op {
            Operation::Create if view.status == Some(201) => {
                self.payments.insert(
                    key,
                    Payment {
                        created_at: view.started_at,
                        create_id: view.id.into(),
                        reference: view.reference.unwrap_or("").into(),
                        last_get: None,
                        final_seen: false,
                        gets_after_final: 0,
                        flagged_fast: false,
                        flagged_after_final: false,
                        modified: false,
                        changed: false,
                    },
                );
            }
            Operation::Get(_) => {
                let Some(p) = self.payments.get_mut(&key) else {
                    return;
                };
                let state = view.body.state.as_deref().filter(|_| view.ok());
                for problem in step(p, view.started_at, state, options) {
                    raise(problem, view, options, sink);
                }
            }
            op if op.is_modification() || matches!(op, Operation::ForceApprove(_)) => {
                if let Some(p) = self.payments.get_mut(&key) {
                    p.gets_after_final = 0;
                    p.flagged_after_final = false;
                    p.modified |= view.op.is_modification();
                    p.changed = true;
                }
            }
            _ => {}
        }
    }

    /// Payments never read to a final state.
    pub fn finish(&mut self, end: Option<DateTime<Utc>>, options: &RuleOptions, sink: &mut Sink) {
        let mut open: Vec<&Payment> = self.payments.values().filter(|p| !p.final_seen).collect();
        open.sort_by_key(|p| p.created_at);
        let timeout = chrono::Duration::from_std(options.payment_timeout).unwrap_or_default();
        let start = chrono::Duration::from_std(options.poll_start).unwrap_or_default();
        let never_read = if options.audit {
            Severity::Fail
        } else {
            Severity::Info
        };
        for p in open {
            let at = ExchangeRef {
                id: p.create_id.to_string(),
                time: p.created_at,
                method: "POST".into(),
                path: "/epayment/v1/payments".into(),
                reference: Some(p.reference.to_string()),
            };
            let journal_left = end.map_or(chrono::Duration::zero(), |e| {
                e - p.last_get.unwrap_or(p.created_at)
            });
            match p.last_get {
                // Created at the very end of the journal: no poll due yet
                // (unless the shop already acted on it without reading it).
                None if journal_left < start && !p.modified => {}
                // In `run`, some scenarios create a payment only to test the
                // create itself: there it is advice, not a failure.
                None => sink.raise_at(ChecklistId::PfPolling, "polling.never-read", never_read, at, || {
                    (
                        format!("reference `{}` was created but never read with GET", p.reference),
                        "after every create, poll GET /epayment/v1/payments/{reference} (first after 5 s, then every 2 s) until AUTHORIZED, ABORTED, EXPIRED or TERMINATED, even when a webhook or the returnUrl arrived first: both are best effort and may never come".into(),
                    )
                }),
                Some(_) if journal_left >= timeout => sink.raise_at(ChecklistId::PfPolling, "polling.stopped-early", Severity::Warning, at, || {
                    (
                        format!("reference `{}` was polled, but polling stopped before a final state", p.reference),
                        "keep polling until AUTHORIZED, ABORTED, EXPIRED or TERMINATED (at most 10 minutes for a normal payment)".into(),
                    )
                }),
                Some(_) => {}
            }
        }
    }
}

/// The decision for one GET of a payment at `at` answered with `state`.
fn step(p: &mut Payment, at: DateTime<Utc>, state: Option<&str>, o: &RuleOptions) -> Vec<Problem> {
    let mut problems = Vec::new();
    let since = |t: DateTime<Utc>| (at - t).to_std().unwrap_or_default();
    if std::mem::take(&mut p.changed) {
        // Reading the result of the shop's own capture, cancel or refund.
    } else if p.final_seen {
        p.gets_after_final += 1;
        if p.gets_after_final > READS_AFTER_FINAL && !p.flagged_after_final {
            p.flagged_after_final = true;
            problems.push(Problem::AfterFinal);
        }
    } else {
        match p.last_get {
            None if since(p.created_at) < o.poll_start => problems.push(Problem::Early),
            Some(last) if since(last) < o.poll_floor && !p.flagged_fast => {
                p.flagged_fast = true;
                problems.push(Problem::TooFast);
            }
            _ => {}
        }
    }
    p.last_get = Some(at);
    if state.is_some_and(is_final) {
        p.final_seen = true;
    }
    problems
}

fn raise(problem: Problem, view: &View<'_>, o: &RuleOptions, sink: &mut Sink) {
    let reference = view.reference.unwrap_or("");
    match problem {
        Problem::Early => sink.raise(ChecklistId::PfPolling, "polling.early-first-poll", Severity::Warning, Some(view), || {
            (
                format!("the first poll of `{reference}` came less than {} s after its create ({})", o.poll_start.as_secs(), view.describe()),
                "start polling 5 s after the create (the customer needs that long to open the app), then poll every 2 s".into(),
            )
        }),
        Problem::TooFast => sink.raise(ChecklistId::PfPolling, "polling.too-fast", Severity::Fail, Some(view), || {
            (
                format!("`{reference}` was polled twice within {} ms ({})", o.poll_floor.as_millis(), view.describe()),
                format!("poll about every {} s and never faster than once a second: faster polling is answered 429 and does not find out sooner", o.poll_interval.as_secs()),
            )
        }),
        Problem::AfterFinal => sink.raise(ChecklistId::PfPolling, "polling.after-final", Severity::Warning, Some(view), || {
            (
                format!("`{reference}` was still polled after it reached a final state ({})", view.describe()),
                "stop polling once the state is AUTHORIZED, ABORTED, EXPIRED or TERMINATED; read it again only after your own capture, refund or cancel".into(),
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn payment(at: DateTime<Utc>) -> Payment {
        Payment {
            created_at: at,
            create_id: "x".into(),
            reference: "acme-1".into(),
            last_get: None,
            final_seen: false,
            gets_after_final: 0,
            flagged_fast: false,
            flagged_after_final: false,
            modified: false,
            changed: false,
        }
    }

    proptest! {
        /// Polling on the guideline schedule (first after >= 5 s, then every
        /// 1 to 4 s) until a final state is never flagged; and any two polls
        /// closer than a second are, once.
        #[test]
        fn the_polling_decision_table(
            first in 5_000i64..20_000,
            gaps in proptest::collection::vec(1_000i64..4_000, 0..20),
            fast_at in proptest::option::of(0usize..20),
        ) {
            let o = RuleOptions::default();
            let t0 = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
            let mut p = payment(t0);
            let mut at = t0 + chrono::Duration::milliseconds(first);
            let mut all = step(&mut p, at, Some("CREATED"), &o);
            for (i, g) in gaps.iter().enumerate() {
                let g = if Some(i) == fast_at { 100 } else { *g };
                at += chrono::Duration::milliseconds(g);
                all.extend(step(&mut p, at, Some("CREATED"), &o));
            }
            all.extend(step(&mut p, at + chrono::Duration::seconds(2), Some("AUTHORIZED"), &o));
            let expect_fast = fast_at.is_some_and(|i| i < gaps.len());
            prop_assert_eq!(all.contains(&Problem::TooFast), expect_fast);
            prop_assert_eq!(all.iter().filter(|p| **p == Problem::TooFast).count() <= 1, true);
            prop_assert!(!all.contains(&Problem::Early));
            prop_assert!(p.final_seen);
        }
    }

    #[test]
    fn a_first_poll_too_soon_and_polling_past_final_are_named() {
        let o = RuleOptions::default();
        let t0 = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        let mut p = payment(t0);
        assert_eq!(
            step(
                &mut p,
                t0 + chrono::Duration::seconds(1),
                Some("AUTHORIZED"),
                &o
            ),
            vec![Problem::Early]
        );
        for i in 0..READS_AFTER_FINAL {
            assert!(step(
                &mut p,
                t0 + chrono::Duration::seconds(3 + i64::from(i)),
                Some("AUTHORIZED"),
                &o
            )
            .is_empty());
        }
        assert_eq!(
            step(
                &mut p,
                t0 + chrono::Duration::seconds(20),
                Some("AUTHORIZED"),
                &o
            ),
            vec![Problem::AfterFinal]
        );
    }
}

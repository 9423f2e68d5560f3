//! Coverage (audit only): which of the six ePayment endpoints the shop used
//! (EP-*), whether it did both a partial and a full capture and refund, which
//! states and events it saw and whether it read the payment after each of its
//! own changes (QA-STATES), and whether it added order information (QA-HISTORY).

use std::collections::{BTreeSet, HashMap};

use crate::domain::checklist::ChecklistId;
use crate::evidence::model::{Severity, Verdict};

use super::{Operation, Sink, View};

/// The eight states and events QA-STATES asks for, in checklist order (the
/// domain's list, by name: the rules read names from recorded JSON).
pub use crate::domain::state::QA_STATE_NAMES as STATES;

/// Per payment: the amount asked for and whether a change is still unread.
#[derive(Debug, Default, Clone, Copy)]
struct Payment {
    amount: i64,
    captured: i64,
    refunded: i64,
    /// A cancel, capture or refund succeeded and no GET or event log followed yet.
    unread_change: bool,
}

/// What the shop's traffic covered.
#[derive(Debug, Default)]
pub struct Coverage {
    create: bool,
    get: bool,
    events: bool,
    cancel: bool,
    partial_capture: bool,
    full_capture: bool,
    partial_refund: bool,
    full_refund: bool,
    history: bool,
    seen: BTreeSet<&'static str>,
    payments: HashMap<u64, Payment>,
}

fn saw(seen: &mut BTreeSet<&'static str>, name: &str) {
    if let Some(s) = STATES.iter().find(|s| **s == name) {
        seen.insert(s);
    }
}

impl Coverage {
    pub fn observe(&mut self, view: &View<'_>) {
        if let Operation::OrderManagement { write: true, .. } = view.op {
            self.history |= view.ok();
            return;
        }
        if !view.ok() {
            return;
        }
        let Some(key) = view.payment_key() else {
            return;
        };
        let body = view.body;
        match view.op {
            Operation::Create => {
                self.create = true;
                let amount = body.amount.unwrap_or(0);
                self.payments.insert(
                    key,
                    Payment {
                        amount,
                        ..Payment::default()
                    },
                );
                saw(&mut self.seen, "CREATED");
            }
            Operation::Get(_) => {
                self.get = true;
                if let Some(state) = &body.state {
                    saw(&mut self.seen, state);
                }
                for (amount, event) in [
                    (body.captured, "CAPTURED"),
                    (body.refunded, "REFUNDED"),
                    (body.cancelled, "CANCELLED"),
                ] {
                    if amount.unwrap_or(0) > 0 {
                        saw(&mut self.seen, event);
                    }
                }
                if let Some(p) = self.payments.get_mut(&key) {
                    p.unread_change = false;
                }
            }
            Operation::Events(_) => {
                self.events = true;
                for name in &body.events {
                    saw(&mut self.seen, name);
                }
                if let Some(p) = self.payments.get_mut(&key) {
                    p.unread_change = false;
                }
            }
            Operation::Cancel(_) | Operation::Capture(_) | Operation::Refund(_) => {
                let p = self.payments.entry(key).or_default();
                p.unread_change = true;
                let asked = body.modification.unwrap_or(0);
                match view.op {
                    Operation::Cancel(_) => self.cancel = true,
                    Operation::Capture(_) => {
                        let authorized = body.authorized.unwrap_or(p.amount);
                        let captured = body.captured.unwrap_or(p.captured + asked);
                        // Full: this one capture took the whole amount;
                        // partial: it left some (or followed an earlier one).
                        if captured - p.captured == authorized && authorized > 0 {
                            self.full_capture = true;
                        } else {
                            self.partial_capture = true;
                        }
                        p.captured = captured;
                    }
                    _ => {
                        let captured = body.captured.unwrap_or(p.captured);
                        let refunded = body.refunded.unwrap_or(p.refunded + asked);
                        if refunded - p.refunded == captured && captured > 0 {
                            self.full_refund = true;
                        } else {
                            self.partial_refund = true;
                        }
                        p.refunded = refunded;
                    }
                }
            }
            _ => {}
        }
    }

    /// The states and events of [`STATES`] seen so far, in checklist order.
    pub fn states_seen(&self) -> Vec<&'static str> {
        STATES
            .iter()
            .copied()
            .filter(|s| self.seen.contains(s))
            .collect()
    }

    /// The coverage findings: one per endpoint or state not exercised.
    pub fn finish(&mut self, sink: &mut Sink) {
        let missing =
            |sink: &mut Sink, id: ChecklistId, rule: &'static str, what: &str, how: &str| {
                let (what, how) = (what.to_owned(), how.to_owned());
                sink.raise_general(id, rule, Severity::Fail, || (what, how));
            };
        if !self.create {
            missing(
                sink,
                ChecklistId::EpCreate,
                "coverage.create",
                "no payment was created (no POST /epayment/v1/payments answered 201)",
                "create a payment from the shop's checkout against the simulator",
            );
        }
        if !self.get {
            missing(sink, ChecklistId::EpGet, "coverage.get", "the payment was never read (no GET /epayment/v1/payments/{reference} answered 200)", "poll GET payment after each create and read it after each change");
        }
        if !self.events {
            missing(
                sink,
                ChecklistId::EpEvents,
                "coverage.events",
                "the event log was never read (no GET .../{reference}/events answered 200)",
                "read the event log, e.g. in the order view for customer support",
            );
        }
        if !self.cancel {
            missing(
                sink,
                ChecklistId::EpCancel,
                "coverage.cancel",
                "no payment was cancelled (no POST .../cancel answered 200)",
                "cancel one payment before capture (an abandoned order) and one reserved payment",
            );
        }
        for (done, rule, what) in [
            (
                self.partial_capture,
                "coverage.partial-capture",
                "no partial capture (a capture of less than the reserved amount)",
            ),
            (
                self.full_capture,
                "coverage.full-capture",
                "no full capture (one capture of the whole reserved amount)",
            ),
        ] {
            if !done {
                missing(
                    sink,
                    ChecklistId::EpCapture,
                    rule,
                    what,
                    "capture part of one payment and then the rest, and one payment in full",
                );
            }
        }
        for (done, rule, what) in [
            (
                self.partial_refund,
                "coverage.partial-refund",
                "no partial refund (a refund of less than the captured amount)",
            ),
            (
                self.full_refund,
                "coverage.full-refund",
                "no full refund (one refund of the whole captured amount)",
            ),
        ] {
            if !done {
                missing(
                    sink,
                    ChecklistId::EpRefund,
                    rule,
                    what,
                    "refund part of one captured payment, and one in full",
                );
            }
        }
        let unseen: Vec<&str> = STATES
            .iter()
            .copied()
            .filter(|s| !self.seen.contains(s))
            .collect();
        if !unseen.is_empty() {
            let what = format!(
                "the shop never saw {} (read with GET or the event log)",
                unseen.join(", ")
            );
            missing(sink, ChecklistId::QaStates, "coverage.states", &what, "drive every outcome against the simulator: approve, reject (POST /__sim/payments/{ref}/abort), let one expire (/__sim/payments/{ref}/expire), cancel before approval (TERMINATED), capture, refund and cancel; and check the shop shows each correctly");
        }
        let unread = self.payments.values().filter(|p| p.unread_change).count();
        if unread > 0 {
            sink.raise_general(ChecklistId::QaStates, "coverage.not-read-after-change", Severity::Warning, || {
                (
                    format!("{unread} payment(s) were captured, refunded or cancelled and never read again"),
                    "read the payment (GET or the event log) after each capture, refund and cancel, so the order shows what Vipps holds".into(),
                )
            });
        }
        if !self.history {
            sink.raise_general(ChecklistId::QaHistory, "coverage.history", Severity::Warning, || {
                (
                    "no receipt, category or image was added through the Order Management API".into(),
                    "add a receipt (order lines) or a category with a link to the order to the payment history; mandatory for merchants under content monitoring".into(),
                )
            });
        }
    }
}

/// QA-STATES for the harness's own run, from the states its traffic showed
/// (`seen`, [`super::Observed::states`]): every one of [`STATES`] must have
/// been read back. Those missing make it PARTLY PROVEN when `target_cannot` says
/// why the target could not reach them (a scenario it could not run), and a
/// FAIL otherwise. `None` when all were read back.
///
/// `audit` judges the same coverage as a finding ([`Coverage::finish`]): a
/// shop's journal has no scenarios to say what its target could not do.
pub fn run_states(seen: &[&str], target_cannot: Option<&str>) -> Option<(Verdict, String)> {
    let missing: Vec<&str> = STATES
        .iter()
        .copied()
        .filter(|s| !seen.contains(s))
        .collect();
    if missing.is_empty() {
        return None;
    }
    Some(match target_cannot {
        // The others were read back: the item is proven in part, never
        // passed, and the states missing are named.
        Some(why) => (
            Verdict::PartlyProven,
            format!("not reached on this target: {} ({why})", missing.join(", ")),
        ),
        None => (
            Verdict::Fail,
            format!("never read back: {}", missing.join(", ")),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_that_read_every_state_back_has_nothing_against_qa_states() {
        assert_eq!(run_states(&STATES, None), None);
    }

    #[test]
    fn states_never_read_back_fail_unless_the_target_could_not_reach_them() {
        let seen = [
            "CREATED",
            "AUTHORIZED",
            "CAPTURED",
            "REFUNDED",
            "CANCELLED",
            "TERMINATED",
        ];
        assert_eq!(
            run_states(&seen, None),
            Some((Verdict::Fail, "never read back: ABORTED, EXPIRED".into()))
        );
        assert_eq!(
            run_states(&seen, Some("needs --control")),
            Some((
                Verdict::PartlyProven,
                "not reached on this target: ABORTED, EXPIRED (needs --control)".into()
            ))
        );
    }
}

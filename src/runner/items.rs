//! One verdict per checklist item, from the scenarios, the rules over the
//! recorded exchanges, and what the target answered.
//!
//! The rules ([`crate::rules`]) judge the exchanges: here their judgement is
//! only put beside the scenarios' outcomes (which items ran, which the target
//! could not run), never made again, so `run` and `audit` give the same
//! traffic the same verdict.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::domain::checklist::{ChecklistId, ITEMS};
use crate::domain::exchange::Exchange;
use crate::evidence::model::{Attestation, Finding, GoLive, ItemResult, ScenarioResult, Verdict};
use crate::rules::golive::{self, Judged};
use crate::rules::{verdicts, Observed};
use crate::steps::KeptReference;

/// Which go-live item the run can prove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Simulator,
    Test,
    Production,
}

impl Environment {
    /// The scenario tag of the target it stands for.
    pub fn tag(self) -> &'static str {
        match self {
            Environment::Simulator => "simulator",
            Environment::Test => "test",
            Environment::Production => "production",
        }
    }
}

/// Everything the verdicts are computed from.
pub struct Inputs<'a> {
    pub environment: Environment,
    pub scenarios: &'a [ScenarioResult],
    /// The rules' findings over the run's exchanges ([`crate::rules::judge_with_observed`]).
    pub findings: &'a [Finding],
    /// What the rules saw besides findings (the states read back).
    pub observed: &'a Observed,
    pub attestations: &'a [Attestation],
    /// The go-live references the scenarios kept, as the rules judged them
    /// over the recorded exchanges ([`judge_kept`]).
    pub golive: &'a [Judged],
}

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
                manual(&mut row, item.key, i.attestations);
            } else if matches!(item.key, ChecklistId::GlTest | ChecklistId::GlProd) {
                golive(&mut row, item.key, i, &scenarios);
            } else {
                (row.verdict, row.reason) =
                    verdicts::from_scenarios(&scenarios, i.environment.tag());
                if item.key == ChecklistId::QaStates {
                    states(&mut row, i.observed, &scenarios);
                }
                rules(&mut row, i.findings);
                if item.key == ChecklistId::QaErrors {
                    qa_errors(&mut row, i);
                }
            }
            row
        })
        .collect()
}

fn set(row: &mut ItemResult, verdict: Verdict, reason: impl Into<String>) {
    row.verdict = verdict;
    row.reason = Some(reason.into());
}

fn manual(row: &mut ItemResult, id: ChecklistId, attestations: &[Attestation]) {
    let attestation = attestations.iter().find(|a| a.checklist_id == row.id);
    let (verdict, why) = verdicts::manual(id, attestation);
    set(row, verdict, why);
    row.attestation = attestation.cloned();
}

/// QA-ERRORS: the scenarios are its traffic half (the API's error answers,
/// explained); the shop's screens need a person, as in every command.
fn qa_errors(row: &mut ItemResult, i: &Inputs<'_>) {
    let attestation = i.attestations.iter().find(|a| a.checklist_id == row.id);
    let shown = crate::rules::errors_shown(
        i.observed.errors,
        "the target gave, explained in plain words",
    );
    let (verdict, mut why) =
        verdicts::qa_errors((row.verdict, row.reason.take()), &shown, attestation);
    if verdict == Verdict::NeedsAttestation {
        why.push_str(" (hint: --attest QA-ERRORS=\"Name, role\")");
    }
    set(row, verdict, why);
    row.attestation = attestation.cloned();
}

/// QA-STATES: the scenarios passed, so the rules say whether the traffic read
/// every state back, and whether a state missing is the target's doing.
fn states(row: &mut ItemResult, observed: &Observed, scenarios: &[&ScenarioResult]) {
    if !matches!(row.verdict, Verdict::Pass | Verdict::PartlyProven) {
        return;
    }
    let target_cannot = scenarios
        .iter()
        .find(|s| s.verdict == Verdict::NotApplicable)
        .map(|s| s.reason.as_deref().unwrap_or_default());
    if let Some((verdict, why)) =
        crate::rules::coverage::run_states(&observed.states, target_cannot)
    {
        set(row, verdict, why);
    }
}

/// The rules' judgement of the item: a FAIL overrides the scenarios, a
/// WARNING only a PASS (an item no scenario ran stays not applicable).
fn rules(row: &mut ItemResult, findings: &[Finding]) {
    match crate::rules::item(findings, &row.id) {
        Some((Verdict::Fail, why)) => set(row, Verdict::Fail, why),
        Some((Verdict::Warning, why)) if row.verdict == Verdict::Pass => {
            set(row, Verdict::Warning, why)
        }
        _ => {}
    }
}

fn golive(row: &mut ItemResult, id: ChecklistId, i: &Inputs<'_>, scenarios: &[&ScenarioResult]) {
    let production = id == ChecklistId::GlProd;
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
    let refs = golive::references(id, i.golive);
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
        // The references are vipps-golive's own: a rehearsal on any target.
        row.reason = Some(match i.environment {
            Environment::Simulator => "a rehearsal with vipps-golive's own client, not on Vipps: Vipps asks for references the shop's own system made (`vipps-golive verify --env test REF...`)".into(),
            Environment::Test | Environment::Production => "a rehearsal with vipps-golive's own client: the path works on Vipps, but Vipps asks for references the shop's own system made (`vipps-golive verify --env test REF...`)".into(),
        });
        return;
    }
    // A reference missing because a scenario failed, the target failed, it
    // could not run here or the run stopped: that scenario's verdict.
    let (verdict, why) = verdicts::from_scenarios(scenarios, i.environment.tag());
    if !matches!(verdict, Verdict::Pass | Verdict::Warning) {
        return set(row, verdict, why.unwrap_or_default());
    }
    // The scenarios passed, yet the rules found no proof in the traffic:
    // say what each kept reference showed instead.
    let mut why = format!("no reference ended {}", missing.join(", "));
    for problem in golive::problems(i.golive) {
        why.push_str(&format!("; {problem}"));
    }
    set(row, Verdict::Fail, why);
}

/// The go-live references kept by scenarios tagged with `id`, each judged
/// by the rules over the run's recorded exchanges: the keep step says what
/// the scenario expected; what the reference proves is the rules' to say.
pub fn judge_kept(
    id: ChecklistId,
    kept: &[(String, KeptReference)],
    exchanges: &[Exchange],
    now: DateTime<Utc>,
) -> Vec<Judged> {
    kept.iter()
        .filter(|(ids, _)| ids.contains(id.as_str()))
        .map(|(_, k)| golive::judge(exchanges, &k.reference, id, now))
        .collect()
}

/// The go-live box: for each outcome `id` needs, the first kept reference
/// the rules found proves it.
pub fn golive_refs(id: ChecklistId, judged: &[Judged]) -> GoLive {
    golive::references(id, judged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(name: &str, id: &str, verdict: Verdict, tags: &[&str]) -> ScenarioResult {
        ScenarioResult {
            name: name.into(),
            feature: "f".into(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            checklist_ids: vec![id.into()],
            verdict,
            reason: (verdict != Verdict::Pass).then(|| format!("why {name}")),
            references: vec![],
            started_at: Utc::now(),
            finished_at: Utc::now(),
            steps: vec![],
            source: None,
        }
    }

    fn verdict_of(scenarios: &[ScenarioResult], attestations: &[Attestation], id: &str) -> Verdict {
        let observed = Observed::default();
        let rows = items(&Inputs {
            environment: Environment::Simulator,
            scenarios,
            findings: &[],
            observed: &observed,
            attestations,
            golive: &[],
        });
        rows.into_iter().find(|r| r.id == id).unwrap().verdict
    }

    #[test]
    fn qa_errors_in_run_follows_the_one_rule_never_plain_pass() {
        let passed = [scenario(
            "refused",
            "QA-ERRORS",
            Verdict::Pass,
            &["simulator"],
        )];
        assert_eq!(
            verdict_of(&passed, &[], "QA-ERRORS"),
            Verdict::NeedsAttestation
        );
        let attested = [Attestation {
            checklist_id: "QA-ERRORS".into(),
            by: "Ola, support lead".into(),
            at: Utc::now(),
        }];
        assert_eq!(
            verdict_of(&passed, &attested, "QA-ERRORS"),
            Verdict::Attested
        );
        let failed = [scenario(
            "refused",
            "QA-ERRORS",
            Verdict::Fail,
            &["simulator"],
        )];
        assert_eq!(verdict_of(&failed, &attested, "QA-ERRORS"), Verdict::Fail);
        let target = [scenario(
            "refused",
            "QA-ERRORS",
            Verdict::Inconclusive,
            &["simulator"],
        )];
        assert_eq!(verdict_of(&target, &[], "QA-ERRORS"), Verdict::Inconclusive);
    }

    #[test]
    fn manual_items_are_attested_not_passed_and_stopped_runs_leave_items_not_run() {
        let attested = [Attestation {
            checklist_id: "PF-DESIGN".into(),
            by: "Kari Nordmann, design lead".into(),
            at: Utc::now(),
        }];
        assert_eq!(verdict_of(&[], &attested, "PF-DESIGN"), Verdict::Attested);
        assert_eq!(verdict_of(&[], &[], "PF-DESIGN"), Verdict::NeedsAttestation);
        let stopped = [scenario(
            "capture",
            "EP-CAPTURE",
            Verdict::NotRun,
            &["simulator"],
        )];
        assert_eq!(verdict_of(&stopped, &[], "EP-CAPTURE"), Verdict::NotRun);
    }
}

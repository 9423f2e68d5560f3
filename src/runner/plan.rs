//! Which scenarios a run starts, decided before anything runs: the tag
//! filter first, then what the target can do, the flags and the
//! attestations given.

use std::collections::HashSet;

use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::gherkin::{Feature, Scenario};
use cucumber::tag::Ext as _;

use super::events::ScenarioKey;
use super::features;
use super::items::Environment;
use super::RunOptions;
use crate::evidence::model::Verdict;
use crate::evidence::PlannedScenario;
use crate::steps::{self, Need, Target};

/// One scenario the tag filter let through.
pub(super) struct Planned<'f> {
    /// Which scenario.
    pub key: ScenarioKey,
    /// Its feature.
    pub feature: &'f Feature,
    /// The scenario itself.
    pub scenario: &'f Scenario,
    /// Why it is not started; `None` when it runs.
    pub skip: Option<(Verdict, String)>,
}

/// Every scenario the tag filter lets through, in feature order, each
/// either to run or with why not.
pub(super) fn plan<'f>(
    features: &'f [Feature],
    tag_filter: Option<&TagOperation>,
    target: &dyn Target,
    environment: Environment,
    o: &RunOptions,
) -> Vec<Planned<'f>> {
    let mut planned = Vec::new();
    for feature in features {
        for scenario in &feature.scenarios {
            if tag_filter.is_some_and(|f| !f.eval(scenario.tags.iter())) {
                continue;
            }
            planned.push(Planned {
                key: features::key(feature, scenario),
                feature,
                scenario,
                skip: not_started(scenario, target, environment, o),
            });
        }
    }
    planned
}

/// `planned` as the journal's header keeps it: name, checklist IDs and
/// why not started.
pub(super) fn for_journal(planned: &[Planned<'_>]) -> Vec<PlannedScenario> {
    planned
        .iter()
        .map(|p| PlannedScenario {
            name: p.scenario.name.clone(),
            checklist_ids: steps::checklist_ids(&p.scenario.tags),
            skipped: p.skip.clone(),
        })
        .collect()
}

/// The scenarios of `planned` that run.
pub(super) fn selected(planned: &[Planned<'_>]) -> HashSet<ScenarioKey> {
    planned
        .iter()
        .filter(|p| p.skip.is_none())
        .map(|p| p.key.clone())
        .collect()
}

/// How many scenarios run at once: all of them on a simulator, 4 on the
/// test environment, `--concurrency` where given; always 1 in production,
/// where a person approves each payment.
pub(super) fn concurrency(o: &RunOptions, environment: Environment, selected: usize) -> usize {
    if environment == Environment::Production {
        return 1;
    }
    o.concurrency
        .unwrap_or(match environment {
            Environment::Simulator => selected.max(1),
            _ => 4,
        })
        .max(1)
}

/// Why a scenario is not started, decided before the run.
fn not_started(
    scenario: &Scenario,
    target: &dyn Target,
    environment: Environment,
    o: &RunOptions,
) -> Option<(Verdict, String)> {
    let tags = &scenario.tags;
    let has = |t: &str| tags.iter().any(|x| x == t);
    if has("manual") {
        let ids = steps::checklist_ids(tags);
        let attested = ids.iter().all(|id| o.attest.iter().any(|(a, _)| a == id));
        return (!attested).then(|| {
            (
                Verdict::NeedsAttestation,
                steps::target::needs_attestation(),
            )
        });
    }
    if !has(target.tag()) {
        return Some((
            Verdict::NotApplicable,
            format!(
                "not run on the {} target (its tags name where it runs)",
                target.tag()
            ),
        ));
    }
    if has("slow") && environment != Environment::Simulator && !o.include_slow {
        return Some((
            Verdict::NotApplicable,
            "takes 10 real minutes on this target (hint: --include-slow)".into(),
        ));
    }
    tags.iter()
        .filter_map(|t| Need::from_tag(t))
        .filter(|n| *n != Need::Attestation)
        .find_map(|n| target.cannot(n))
        .map(|why| (Verdict::NotApplicable, why))
}

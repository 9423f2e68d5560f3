//! What the cucumber run tells us, turned into events, and the evidence log
//! that keeps them for `evidence.json`.
//!
//! Cucumber reports a scenario's end through the run's `after` hook (with
//! its World: the references it made) and each step through a writer; both
//! become events of the run's [`EventStream`], and [`RunLog`] is the
//! consumer that puts them back together per scenario.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use cucumber::{event, gherkin, parser, Event, Writer};

use super::events::{Consumer, EventKind, EventStream, RunEvent, ScenarioKey};
use super::features::key;
use crate::evidence::model::{ScenarioResult, ScenarioSource, StepOutcome, StepResult, Verdict};
use crate::evidence::run::ScenarioInfo;
use crate::evidence::{MemoryRecorder, RecordError, Recorder as _};
use crate::steps::{self, GoLiveWorld, KeptReference, NOT_APPLICABLE};

/// The message of a panic (a step's `Err` is turned into one by cucumber).
pub fn panic_message(info: &event::Info) -> String {
    let message = if let Some(s) = info.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = info.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        "the step panicked".into()
    };
    crate::domain::redact::text(&message)
}

fn step_error(e: &event::StepError) -> String {
    match e {
        event::StepError::Panic(info) => panic_message(info),
        other => other.to_string(),
    }
}

/// Verdict and reason from how the scenario finished.
pub fn verdict(
    ev: &event::ScenarioFinished,
    feature: &gherkin::Feature,
    scenario: &gherkin::Scenario,
) -> (Verdict, Option<String>) {
    match ev {
        event::ScenarioFinished::StepPassed => (Verdict::Pass, None),
        event::ScenarioFinished::StepSkipped => (Verdict::Fail, Some(undefined(feature, scenario))),
        event::ScenarioFinished::BeforeHookFailed(info) => {
            (Verdict::Fail, Some(panic_message(info)))
        }
        event::ScenarioFinished::StepFailed(_, _, e) => {
            let message = step_error(e);
            match message.strip_prefix(NOT_APPLICABLE) {
                Some(reason) => (Verdict::NotApplicable, Some(reason.to_owned())),
                None => (Verdict::Fail, Some(message)),
            }
        }
    }
}

/// Why a scenario that stopped on a step no definition matches failed:
/// that step, and the closest wording that exists.
fn undefined(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> String {
    use cucumber::World as _;
    let known = GoLiveWorld::collection();
    let background = feature.background.iter().flat_map(|b| &b.steps);
    background
        .chain(&scenario.steps)
        .find(|step| matches!(known.find(step), Ok(None)))
        .map(|step| super::features::no_step_matches(step.keyword.trim(), step.ty, &step.value))
        .unwrap_or_else(|| {
            "a step matches no step definition (hint: docs/features.md lists the steps)".into()
        })
}

/// The scenario as evidence.json lists it, before anything happened to it:
/// every step it will run (the feature's background first), each skipped.
pub fn info<'a>(
    feature: &'a gherkin::Feature,
    scenario: &'a gherkin::Scenario,
) -> ScenarioInfo<'a> {
    let background = feature.background.iter().flat_map(|b| &b.steps);
    let steps = background
        .chain(&scenario.steps)
        .map(|step| StepResult {
            keyword: step.keyword.trim().to_owned(),
            text: step.value.clone(),
            outcome: StepOutcome::Skipped,
            message: None,
            line: Some(step.position.line),
        })
        .collect();
    ScenarioInfo {
        feature: &feature.name,
        name: &scenario.name,
        tags: &scenario.tags,
        checklist_ids: steps::checklist_ids(&scenario.tags),
        steps,
        source: Some(ScenarioSource {
            uri: super::features::feature_path(feature),
            feature_line: feature.position.line,
            line: scenario.position.line,
            keyword: scenario.keyword.trim().to_owned(),
        }),
    }
}

/// The scenario's steps (every one, skipped) with the steps that ran put
/// in their place, matched by line and text.
fn overlay(result: &mut ScenarioResult, ran: Vec<StepResult>) {
    for step in ran {
        let same = |p: &StepResult| p.line == step.line && p.text == step.text;
        match result.steps.iter_mut().find(|p| same(p)) {
            Some(planned) => *planned = step,
            None => result.steps.push(step),
        }
    }
}

/// Tells `events` that a scenario ended (called from the `after` hook), with
/// the verdict cucumber gave it and the references its World made.
pub fn finished(
    events: &EventStream,
    feature: &gherkin::Feature,
    scenario: &gherkin::Scenario,
    ev: &event::ScenarioFinished,
    world: Option<&GoLiveWorld>,
) {
    let (verdict, reason) = verdict(ev, feature, scenario);
    // The judge reads the outcome against the traffic behind it: a failure
    // the target caused is INCONCLUSIVE, a person's word is ATTESTED.
    let last = world.and_then(|w| {
        w.ctx()
            .ok()
            .and_then(|ctx| ctx.exchanges.last_of(&w.scenario))
    });
    let attested = world.map(|w| w.attested.as_slice()).unwrap_or_default();
    let (verdict, reason) =
        crate::rules::verdicts::scenario(verdict, reason, &scenario.tags, last.as_ref(), attested);
    let started_at = world.map(|w| w.started_at).unwrap_or_else(Utc::now);
    let result = info(feature, scenario).ran(
        verdict,
        reason,
        world.map(|w| w.references.clone()).unwrap_or_default(),
        (started_at, Utc::now()),
    );
    let kept = world.map(|w| w.kept.clone()).unwrap_or_default();
    events.emit(EventKind::ScenarioFinished {
        scenario: &key(feature, scenario),
        result: &result,
        kept: &kept,
    });
}

/// A cucumber writer that tells each step's outcome as a
/// [`EventKind::StepFinished`].
#[derive(Clone)]
pub struct StepLog(pub Arc<EventStream>);

impl Writer<GoLiveWorld> for StepLog {
    type Cli = cucumber::cli::Empty;

    async fn handle_event(
        &mut self,
        ev: parser::Result<Event<event::Cucumber<GoLiveWorld>>>,
        _cli: &Self::Cli,
    ) {
        let Ok(ev) = ev else { return };
        let event::Cucumber::Feature(feature, fev) = ev.value else {
            return;
        };
        let (scenario, sev) = match fev {
            event::Feature::Scenario(s, r) => (s, r.event),
            event::Feature::Rule(_, event::Rule::Scenario(s, r)) => (s, r.event),
            _ => return,
        };
        let (step, outcome) = match sev {
            event::Scenario::Step(step, ev) | event::Scenario::Background(step, ev) => (step, ev),
            _ => return,
        };
        let (outcome, message) = match outcome {
            event::Step::Started => return,
            event::Step::Passed(..) => (StepOutcome::Passed, None),
            // A step no definition matches: skipped, which `fail_on_skipped`
            // turns into a failure with `NotFound`.
            event::Step::Skipped | event::Step::Failed(_, _, _, event::StepError::NotFound) => (
                StepOutcome::Undefined,
                Some(super::features::no_step_matches(
                    step.keyword.trim(),
                    step.ty,
                    &step.value,
                )),
            ),
            event::Step::Failed(_, _, _, e) => (StepOutcome::Failed, Some(step_error(&e))),
        };
        self.0.emit(EventKind::StepFinished {
            scenario: &key(&feature, &scenario),
            step: &StepResult {
                keyword: step.keyword.trim().to_owned(),
                text: step.value.clone(),
                outcome,
                message,
                line: Some(step.position.line),
            },
        });
    }
}

/// The evidence log: the consumer that keeps what `evidence.json` needs of
/// the stream (every exchange, every step, each scenario's result and kept
/// references).
#[derive(Debug)]
pub struct RunLog {
    /// Every exchange, in order; the steps read it while the run goes on.
    exchanges: Arc<MemoryRecorder>,
    /// Each scenario told so far, with the references it kept.
    scenarios: Mutex<HashMap<ScenarioKey, (ScenarioResult, Vec<KeptReference>)>>,
    /// Each scenario's steps, in the order they finished.
    steps: Mutex<HashMap<ScenarioKey, Vec<StepResult>>>,
}

impl RunLog {
    pub fn new() -> Arc<RunLog> {
        Arc::new(RunLog {
            exchanges: MemoryRecorder::new(),
            scenarios: Mutex::default(),
            steps: Mutex::default(),
        })
    }

    /// The exchanges recorded so far (shared: the steps read them live).
    pub fn exchanges(&self) -> Arc<MemoryRecorder> {
        self.exchanges.clone()
    }

    /// True once `scenario` finished, was skipped or was not reached.
    pub fn has(&self, scenario: &ScenarioKey) -> bool {
        self.scenarios
            .lock()
            .is_ok_and(|s| s.contains_key(scenario))
    }

    /// The scenarios of `order` that were told, in that order, each with
    /// its steps; and the references they kept, each labelled with its
    /// scenario's checklist IDs.
    pub fn scenarios(
        &self,
        order: &[ScenarioKey],
    ) -> (Vec<ScenarioResult>, Vec<(String, KeptReference)>) {
        let mut told = self
            .scenarios
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default();
        let mut steps = self
            .steps
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default();
        let mut scenarios = Vec::new();
        let mut kept = Vec::new();
        for key in order {
            let Some((mut result, kept_here)) = told.remove(key) else {
                continue;
            };
            overlay(&mut result, steps.remove(key).unwrap_or_default());
            let ids = result.checklist_ids.join(" ");
            kept.extend(kept_here.into_iter().map(|k| (ids.clone(), k)));
            scenarios.push(result);
        }
        (scenarios, kept)
    }

    fn keep(&self, scenario: &ScenarioKey, result: &ScenarioResult, kept: &[KeptReference]) {
        if let Ok(mut all) = self.scenarios.lock() {
            all.insert(scenario.clone(), (result.clone(), kept.to_vec()));
        }
    }
}

impl Consumer for RunLog {
    fn consume(&self, event: &RunEvent<'_>) -> Result<(), RecordError> {
        match &event.kind {
            EventKind::ExchangeRecorded { exchange } => self.exchanges.record(exchange),
            EventKind::StepFinished { scenario, step } => {
                if let Ok(mut steps) = self.steps.lock() {
                    steps
                        .entry((*scenario).clone())
                        .or_default()
                        .push((*step).clone());
                }
            }
            EventKind::ScenarioFinished {
                scenario,
                result,
                kept,
            } => self.keep(scenario, result, kept),
            EventKind::ScenarioSkipped { scenario, result }
            | EventKind::ScenarioNotReached { scenario, result } => {
                self.keep(scenario, result, &[])
            }
            _ => {}
        }
        Ok(())
    }
}

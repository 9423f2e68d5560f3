//! What the cucumber run tells us: step outcomes (a writer) and each
//! scenario's verdict with its World's references (the `after` hook).

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use cucumber::{event, gherkin, parser, Event, Writer};

use crate::evidence::model::{Attestation, StepOutcome, StepResult, Verdict};
use crate::steps::{GoLiveWorld, KeptReference, NOT_APPLICABLE};

use super::features::key;

/// A scenario's outcome as the `after` hook saw it.
#[derive(Debug, Clone)]
pub struct Finished {
    pub feature: String,
    pub name: String,
    pub tags: Vec<String>,
    pub verdict: Verdict,
    pub reason: Option<String>,
    pub references: Vec<String>,
    pub kept: Vec<KeptReference>,
    pub attested: Vec<Attestation>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

/// Everything collected during a run, shared between the hook and the writer.
#[derive(Debug, Default)]
pub struct Collected {
    pub finished: Mutex<Vec<((String, usize), Finished)>>,
    pub steps: Mutex<HashMap<(String, usize), Vec<StepResult>>>,
}

/// The message of a panic (a step's `Err` is turned into one by cucumber).
pub fn panic_message(info: &event::Info) -> String {
    let message = if let Some(s) = info.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = info.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        "the step panicked".into()
    };
    crate::evidence::redact::text(&message)
}

fn step_error(e: &event::StepError) -> String {
    match e {
        event::StepError::Panic(info) => panic_message(info),
        other => other.to_string(),
    }
}

/// Verdict and reason from how the scenario finished.
pub fn verdict(ev: &event::ScenarioFinished) -> (Verdict, Option<String>) {
    match ev {
        event::ScenarioFinished::StepPassed => (Verdict::Pass, None),
        event::ScenarioFinished::StepSkipped => (
            Verdict::Fail,
            Some("a step matches no step definition (hint: `vipps-golive checklist` lists the scenarios; check the step's wording)".into()),
        ),
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

impl Collected {
    /// Records a finished scenario (called from the `after` hook).
    pub fn finish(
        &self,
        feature: &gherkin::Feature,
        scenario: &gherkin::Scenario,
        ev: &event::ScenarioFinished,
        world: Option<&GoLiveWorld>,
    ) -> Finished {
        let (verdict, reason) = verdict(ev);
        let finished = Finished {
            feature: feature.name.clone(),
            name: scenario.name.clone(),
            tags: scenario.tags.clone(),
            verdict,
            reason,
            references: world.map(|w| w.references.clone()).unwrap_or_default(),
            kept: world.map(|w| w.kept.clone()).unwrap_or_default(),
            attested: world.map(|w| w.attested.clone()).unwrap_or_default(),
            started_at: world.map(|w| w.started_at).unwrap_or_else(Utc::now),
            finished_at: Utc::now(),
        };
        if let Ok(mut all) = self.finished.lock() {
            all.push((key(feature, scenario), finished.clone()));
        }
        finished
    }
}

/// A cucumber writer that keeps each step's outcome for `evidence.json`.
#[derive(Debug, Clone)]
pub struct StepLog(pub Arc<Collected>);

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
            event::Step::Skipped => (
                StepOutcome::Skipped,
                Some("no step definition matches this text".to_owned()),
            ),
            event::Step::Failed(_, _, _, e) => (StepOutcome::Failed, Some(step_error(&e))),
        };
        if let Ok(mut steps) = self.0.steps.lock() {
            steps
                .entry(key(&feature, &scenario))
                .or_default()
                .push(StepResult {
                    keyword: step.keyword.trim().to_owned(),
                    text: step.value.clone(),
                    outcome,
                    message,
                });
        }
    }
}

/// An in-memory sink for cucumber's own writers (JUnit, JSON): the files are
/// written by the run folder code, not by the writers.
#[derive(Debug, Clone, Default)]
pub struct Buffer(pub Arc<Mutex<Vec<u8>>>);

impl Buffer {
    pub fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .map(|mut b| std::mem::take(&mut *b))
            .unwrap_or_default()
    }
}

impl io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.0.lock() {
            Ok(mut b) => {
                b.extend_from_slice(buf);
                Ok(buf.len())
            }
            Err(_) => Err(io::Error::other("buffer poisoned")),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

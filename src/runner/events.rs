//! A run as a stream of events: the one interface between the runner and
//! whoever watches it.
//!
//! The runner says what happened, in the past tense (in the shape of
//! nextest's reporter events), and each event carries what its consumers
//! read, no more (the exchanges carry their own times); it prints nothing and keeps
//! no file of its own. Each [`Consumer`] makes of the stream what it is for:
//! - the journal ([`JournalWriter`]) writes every attempt ahead and every
//!   exchange as it is recorded, so a killed run loses nothing;
//! - the evidence log ([`super::collect::RunLog`]) keeps the exchanges, the
//!   steps and each scenario's result for `evidence.json`;
//! - the terminal progress lives in the face (`commands::run`), which alone
//!   knows the terminal.
//!
//! Consumers are called synchronously, in the order given, from whichever
//! task the event happened on: scenarios run concurrently, so a consumer must
//! be cheap and take its own locks.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::domain::exchange::{Attempt, Exchange};
use crate::evidence::model::{Attestation, ScenarioResult, StepResult};
use crate::evidence::{Journal, JournalHeader, PlannedScenario, RecordError, Recorder};
use crate::steps::KeptReference;

/// Which scenario: its feature file and the line it starts on. Unique within
/// a run (an outline's examples each have their own line).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScenarioKey {
    /// The feature file as shown (`features/endpoints.feature`).
    pub path: String,
    /// The scenario's line in that file.
    pub line: usize,
}

/// One thing that happened during a run.
#[derive(Debug, Clone)]
pub struct RunEvent<'a> {
    /// What happened.
    pub kind: EventKind<'a>,
}

/// What happened. Events of one scenario come in order (started, its
/// attempts, exchanges and steps, finished); events of different scenarios
/// interleave, since scenarios run concurrently.
#[derive(Debug, Clone)]
pub enum EventKind<'a> {
    /// The target is prepared and the scenarios are chosen; nothing has
    /// been sent yet (the connection check comes next). The first event.
    RunStarted {
        /// The run id: the folder's name under `--out`.
        run_id: &'a str,
        /// `simulator`, `test`, `production` or `custom`.
        target: &'a str,
        /// The target's base URL as shown (no user info, no query).
        base_url: &'a str,
        /// When the run started (its folder was made).
        started_at: DateTime<Utc>,
        /// The tag expression the run was filtered with, if any.
        tags: Option<&'a str>,
        /// `--attest` as given.
        attestations: &'a [Attestation],
        /// Every scenario the tag filter let through, in feature order,
        /// each to run or with why not.
        planned: &'a [PlannedScenario],
    },
    /// A scenario started: its World was made and its client tagged.
    ScenarioStarted {
        /// Its name, as written in the feature (read by the runner's tests,
        /// which check each scenario is started before it finishes).
        #[cfg(test)]
        name: &'a str,
    },
    /// A request is about to leave; it has not been sent yet. A consumer
    /// that fails on this event stops the request (nothing is sent that
    /// could not be written ahead).
    AttemptStarted {
        /// The attempt, redacted, with the id its exchange will carry.
        attempt: &'a Attempt,
    },
    /// A request got its answer, or failed without one; already redacted.
    ExchangeRecorded {
        /// The exchange, as the journal and evidence.json keep it.
        exchange: &'a Exchange,
    },
    /// A step of a scenario finished (passed, failed or skipped). May
    /// arrive after its scenario's [`EventKind::ScenarioFinished`]: cucumber
    /// reports steps through its writer, scenarios through the run's hook.
    StepFinished {
        /// The scenario the step belongs to.
        scenario: &'a ScenarioKey,
        /// The step and its outcome.
        step: &'a StepResult,
    },
    /// A scenario that ran has ended, with its verdict.
    ScenarioFinished {
        /// Which scenario.
        scenario: &'a ScenarioKey,
        /// Its result as evidence.json lists it, steps not yet attached.
        result: &'a ScenarioResult,
        /// Go-live references it kept, with the outcome each ended in.
        kept: &'a [KeptReference],
    },
    /// A scenario was never started: the target cannot run it, it needs a
    /// flag or a person's attestation. Decided before the run, told after
    /// the scenarios that ran.
    ScenarioSkipped {
        /// Which scenario.
        scenario: &'a ScenarioKey,
        /// Its result: NOT APPLICABLE or NEEDS ATTESTATION, and why.
        result: &'a ScenarioResult,
    },
    /// A scenario was chosen to run but the run stopped before it
    /// (`--fail-fast`, or Ctrl-C in production).
    ScenarioNotReached {
        /// Which scenario.
        scenario: &'a ScenarioKey,
        /// Its result: NOT APPLICABLE, "the run stopped before it".
        result: &'a ScenarioResult,
    },
    /// Ctrl-C stopped a production run; what it made is being cancelled
    /// and refunded next.
    RunInterrupted,
    /// The production cleanup could not undo a payment.
    CleanupFailed {
        /// The payment's reference.
        reference: &'a str,
        /// `refund` or `cancel`.
        action: &'static str,
        /// Why, as the client put it (redacted when shown).
        error: &'a str,
    },
    /// Something a person should know that changes no verdict (the report
    /// fell back to its plain page, `latest` was left alone).
    Warning {
        /// What happened, in plain words.
        message: &'a str,
    },
    /// The run folder is written and complete; the last event.
    RunFinished,
}

/// Something that watches a run. See the module documentation for the
/// consumers there are.
pub trait Consumer: Send + Sync {
    /// Takes one event. An error on [`EventKind::AttemptStarted`] stops that
    /// request; any error is kept and stops the run at its next check (no
    /// verdict without its evidence).
    fn consume(&self, event: &RunEvent<'_>) -> Result<(), RecordError>;
}

/// The run's events, handed to every consumer in turn. It is also the
/// client's [`Recorder`]: each attempt and exchange becomes an event.
pub struct EventStream {
    consumers: Vec<Arc<dyn Consumer>>,
    /// The first error a consumer returned.
    failure: Mutex<Option<RecordError>>,
}

impl EventStream {
    /// A stream to `consumers`, called in this order.
    pub fn new(consumers: Vec<Arc<dyn Consumer>>) -> EventStream {
        EventStream {
            consumers,
            failure: Mutex::new(None),
        }
    }

    /// Tells every consumer that `kind` happened now.
    pub fn emit(&self, kind: EventKind<'_>) {
        let _ = self.send(kind);
    }

    /// [`Self::emit`], stopping at the first consumer that fails (the
    /// failure is also kept for [`Recorder::failure`]).
    fn send(&self, kind: EventKind<'_>) -> Result<(), RecordError> {
        let event = RunEvent { kind };
        for consumer in &self.consumers {
            if let Err(e) = consumer.consume(&event) {
                if let Ok(mut first) = self.failure.lock() {
                    first.get_or_insert_with(|| e.clone());
                }
                return Err(e);
            }
        }
        Ok(())
    }
}

impl Recorder for EventStream {
    fn record(&self, exchange: &Exchange) {
        self.emit(EventKind::ExchangeRecorded { exchange });
    }

    fn attempt_started(&self, attempt: &Attempt) -> Result<(), RecordError> {
        self.send(EventKind::AttemptStarted { attempt })
    }

    fn failure(&self) -> Option<RecordError> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }
}

/// The journal as a consumer: each attempt written ahead, each exchange
/// appended, every line handed to the OS at once (see [`Journal`]).
///
/// It comes first in the stream, so it also holds back what would claim
/// more than the journal holds: once a write has failed, a scenario's end
/// is not passed on (issue 20 point 9). The run stops on the failure; no
/// consumer after it (the terminal, the evidence log) hears a verdict for
/// a scenario whose exchanges may not all be on disk.
pub struct JournalWriter(pub Arc<Journal>);

impl Consumer for JournalWriter {
    fn consume(&self, event: &RunEvent<'_>) -> Result<(), RecordError> {
        match event.kind {
            // The journal's first line: a run killed at any later instant
            // still says which target it ran against, since when, and what
            // it meant to run.
            EventKind::RunStarted {
                run_id,
                target,
                base_url,
                started_at,
                tags,
                attestations,
                planned,
            } => self
                .0
                .append_header(&JournalHeader {
                    schema_version: crate::evidence::SCHEMA_VERSION,
                    kind: crate::evidence::HEADER_KIND.into(),
                    run_id: run_id.to_owned(),
                    started_at,
                    target: target.to_owned(),
                    base_url: base_url.to_owned(),
                    tool_version: env!("CARGO_PKG_VERSION").into(),
                    tags: tags.map(str::to_owned),
                    attestations: attestations.to_vec(),
                    scenarios: planned.to_vec(),
                })
                .map_err(|e| RecordError(e.to_string())),
            EventKind::AttemptStarted { attempt } => self.0.attempt_started(attempt),
            EventKind::ExchangeRecorded { exchange } => {
                self.0.record(exchange);
                self.0.failure().map_or(Ok(()), Err)
            }
            EventKind::ScenarioFinished { .. }
            | EventKind::ScenarioSkipped { .. }
            | EventKind::ScenarioNotReached { .. }
            | EventKind::RunFinished { .. } => self.0.failure().map_or(Ok(()), Err),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeps the name of every event it sees; fails on the ones it is told to.
    struct Names {
        seen: Mutex<Vec<&'static str>>,
        fail_attempts: bool,
    }

    impl Consumer for Names {
        fn consume(&self, event: &RunEvent<'_>) -> Result<(), RecordError> {
            let name = match event.kind {
                EventKind::AttemptStarted { .. } if self.fail_attempts => {
                    return Err(RecordError("disk full".into()))
                }
                EventKind::AttemptStarted { .. } => "attempt",
                EventKind::ExchangeRecorded { .. } => "exchange",
                EventKind::Warning { .. } => "warning",
                _ => "other",
            };
            self.seen.lock().unwrap().push(name);
            Ok(())
        }
    }

    fn names(fail_attempts: bool) -> Arc<Names> {
        Arc::new(Names {
            seen: Mutex::new(Vec::new()),
            fail_attempts,
        })
    }

    fn attempt() -> Attempt {
        Attempt::new(
            "x-1".into(),
            chrono::Utc::now(),
            "POST",
            "http://127.0.0.1/epayment/v1/payments",
            1,
            None,
            None,
            Vec::new(),
            None,
        )
    }

    #[test]
    fn every_consumer_sees_every_event_in_order() {
        let (a, b) = (names(false), names(false));
        let stream = EventStream::new(vec![a.clone(), b.clone()]);
        stream.attempt_started(&attempt()).unwrap();
        stream.emit(EventKind::Warning { message: "w" });
        for n in [a, b] {
            assert_eq!(*n.seen.lock().unwrap(), ["attempt", "warning"]);
        }
        assert!(stream.failure().is_none());
    }

    #[test]
    fn a_consumer_that_cannot_write_ahead_stops_the_request_and_the_run() {
        let (journal, after) = (names(true), names(false));
        let stream = EventStream::new(vec![journal, after.clone()]);
        let err = stream.attempt_started(&attempt()).unwrap_err();
        assert!(err.0.contains("disk full"), "{err}");
        assert!(
            after.seen.lock().unwrap().is_empty(),
            "a later consumer saw an attempt that will not be sent"
        );
        assert!(stream.failure().is_some(), "the run's check sees it");
    }

    #[test]
    fn no_scenario_end_is_passed_on_once_the_journal_has_failed() {
        use crate::evidence::model::{ScenarioResult, Verdict};
        use chrono::Utc;
        let Ok(journal) = Journal::open_append("/dev/full") else {
            eprintln!("skipped: no /dev/full on this system");
            return;
        };
        let (journal, terminal) = (Arc::new(journal), names(false));
        let stream = EventStream::new(vec![
            Arc::new(JournalWriter(journal.clone())),
            terminal.clone(),
        ]);
        let scenario = ScenarioKey {
            path: "features/endpoints.feature".into(),
            line: 3,
        };
        let result = ScenarioResult {
            name: "The shop captures".into(),
            feature: "Endpoints".into(),
            tags: Vec::new(),
            checklist_ids: Vec::new(),
            verdict: Verdict::Pass,
            reason: None,
            references: Vec::new(),
            started_at: Utc::now(),
            finished_at: Utc::now(),
            source: None,
            steps: Vec::new(),
        };
        let finished = || EventKind::ScenarioFinished {
            scenario: &scenario,
            result: &result,
            kept: &[],
        };
        // Before any write failed, the end reaches the terminal.
        stream.emit(finished());
        assert_eq!(*terminal.seen.lock().unwrap(), ["other"]);
        // The attempt cannot be written (the disk is full): from then on no
        // scenario's end, PASS or not, is passed on.
        assert!(stream.attempt_started(&attempt()).is_err());
        stream.emit(finished());
        assert_eq!(*terminal.seen.lock().unwrap(), ["other"]);
        assert!(stream.failure().is_some());
    }

    #[test]
    fn the_journal_writes_attempts_ahead_and_exchanges_after() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Arc::new(Journal::create(dir.path().join("journal.jsonl")).unwrap());
        let stream = EventStream::new(vec![Arc::new(JournalWriter(journal))]);
        stream.attempt_started(&attempt()).unwrap();
        let interrupted = Journal::interrupted(dir.path().join("journal.jsonl")).unwrap();
        assert_eq!(
            interrupted.len(),
            1,
            "the attempt is on disk before it is sent"
        );
    }
}

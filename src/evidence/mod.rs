//! Evidence: every exchange with the target, redacted at the boundary, and the
//! append-only journal that keeps them.
//!
//! The client hands each finished exchange to a [`Recorder`] as a
//! [`RawExchange`]; [`Exchange::from_raw`] redacts it (see [`redact`]) before
//! anything else sees it, so no consumer can leak what it never received. The
//! record types and the redaction are the domain's ([`crate::domain::exchange`],
//! [`crate::domain::redact`]), shared with the simulator's journal; they are
//! re-exported here, where the evidence room has always offered them.
//!
//! Every command's folder is named, dated and built through [`run`]
//! ([`RunMeta`], [`EvidenceBuilder`]) and written through [`RunFolder`].
//!
//! A shop's test can keep its own journal of what its client sent, in the
//! format `vipps-golive audit --journal` reads; the bearer token never
//! reaches the file:
//!
//! ```
//! use vipps_golive::evidence::{Exchange, Journal, RawExchange, Recorder};
//!
//! let dir = tempfile::tempdir()?;
//! let journal = Journal::create(dir.path().join("journal.jsonl"))?;
//! let raw = RawExchange {
//!     started_at: chrono::Utc::now(),
//!     duration_ms: 12,
//!     method: "GET".into(),
//!     url: "http://127.0.0.1:7777/epayment/v1/payments/shop42-order-7781-a".into(),
//!     request_headers: vec![("Authorization".into(), "Bearer eyJhbGciOiJSUzI1NiJ9.secret".into())],
//!     request_body: Vec::new(),
//!     status: Some(200),
//!     response_headers: Vec::new(),
//!     response_body: br#"{"state":"AUTHORIZED"}"#.to_vec(),
//!     error: None,
//!     attempt: 1,
//!     reference: Some("shop42-order-7781-a".into()),
//!     checklist_ids: vec!["EP-GET".into()],
//!     scenario: None,
//! };
//! journal.record(&Exchange::from_raw(raw));
//!
//! let text = std::fs::read_to_string(dir.path().join("journal.jsonl"))?;
//! assert!(!text.contains("eyJhbGciOiJSUzI1NiJ9"));
//! let back = Journal::read(dir.path().join("journal.jsonl"))?;
//! assert_eq!(back[0].status, Some(200));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod build;
pub mod folder;
pub mod journal;
pub mod manifest;
pub mod model;
pub mod run;

use std::sync::{Arc, Mutex};

pub use crate::domain::exchange::{Attempt, Exchange, RawExchange, ATTEMPT_KIND, SCHEMA_VERSION};
pub use crate::domain::redact;
pub use folder::{write_atomic, Latest, RunFolder, WriteError};
pub use journal::{Entry, Journal, JournalError, JournalHeader, PlannedScenario, HEADER_KIND};
pub use run::{EvidenceBuilder, FolderKind, RunMeta, TargetInfo};

/// Why an exchange or an attempt could not be recorded.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the evidence could not be recorded: {0}")]
pub struct RecordError(pub String);

/// Receives every exchange the client makes. Implementations must be cheap.
///
/// `attempt_started` is called, and must have reached the OS, before the
/// request is sent: an error there stops the request (nothing is sent that
/// could not be recorded). `record` never fails the request it records; a
/// recorder that could not keep an exchange says so through `failure`, and
/// the run stops on it rather than report a verdict without its evidence.
pub trait Recorder: Send + Sync {
    /// Records one exchange (already redacted).
    fn record(&self, exchange: &Exchange);

    /// Records, ahead of sending, that an attempt is about to leave.
    fn attempt_started(&self, _attempt: &Attempt) -> Result<(), RecordError> {
        Ok(())
    }

    /// The first thing that could not be recorded, if any.
    fn failure(&self) -> Option<RecordError> {
        None
    }
}

/// Shared handle to a recorder.
pub type SharedRecorder = Arc<dyn Recorder>;

/// Discards everything.
#[derive(Debug, Default)]
pub struct NullRecorder;

impl Recorder for NullRecorder {
    fn record(&self, _exchange: &Exchange) {}
}

/// Keeps exchanges in memory (tests, and the run's in-process consumers).
#[derive(Debug, Default)]
pub struct MemoryRecorder {
    exchanges: Mutex<Vec<Exchange>>,
}

impl MemoryRecorder {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }
    /// A copy of everything recorded so far.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// The last exchange recorded for `scenario`, if any: what a scenario
    /// that just ended last heard from the target.
    pub fn last_of(&self, scenario: &str) -> Option<Exchange> {
        let all = self.exchanges.lock().ok()?;
        all.iter()
            .rev()
            .find(|e| e.scenario.as_deref() == Some(scenario))
            .cloned()
    }
}

impl Recorder for MemoryRecorder {
    fn record(&self, exchange: &Exchange) {
        if let Ok(mut v) = self.exchanges.lock() {
            v.push(exchange.clone());
        }
    }
}

/// Sends each exchange to several recorders.
pub struct Tee(pub Vec<SharedRecorder>);

impl Recorder for Tee {
    fn record(&self, exchange: &Exchange) {
        for r in &self.0 {
            r.record(exchange);
        }
    }

    fn attempt_started(&self, attempt: &Attempt) -> Result<(), RecordError> {
        for r in &self.0 {
            r.attempt_started(attempt)?;
        }
        Ok(())
    }

    fn failure(&self) -> Option<RecordError> {
        self.0.iter().find_map(|r| r.failure())
    }
}

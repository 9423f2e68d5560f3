//! Evidence: every exchange with the target, redacted at the boundary, and the
//! append-only journal that keeps them.
//!
//! The client hands each finished exchange to a [`Recorder`] as a
//! [`RawExchange`]; [`Exchange::from_raw`] redacts it (see [`redact`]) before
//! anything else sees it, so no consumer can leak what it never received.
//!
//! Every command's folder is named, dated and built through [`run`]
//! ([`RunMeta`], [`EvidenceBuilder`]) and written through [`RunFolder`].

pub mod build;
pub mod folder;
pub mod journal;
pub mod manifest;
pub mod model;
pub mod redact;
pub mod run;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use folder::{write_atomic, Latest, RunFolder, WriteError};
pub use journal::{Entry, Journal, JournalError};
pub use run::{EvidenceBuilder, FolderKind, RunMeta, TargetInfo};

/// Version of the JSON written for exchanges and journals.
pub const SCHEMA_VERSION: u32 = 1;

/// One request/response as the client saw it, before redaction. Never stored.
#[derive(Clone)]
pub struct RawExchange {
    /// When the request was sent.
    pub started_at: DateTime<Utc>,
    /// How long until the response (or error) arrived.
    pub duration_ms: u64,
    /// HTTP method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Request headers, names as sent.
    pub request_headers: Vec<(String, String)>,
    /// Request body bytes (may be empty).
    pub request_body: Vec<u8>,
    /// Response status; `None` when no response came (connection error, timeout).
    pub status: Option<u16>,
    /// Response headers.
    pub response_headers: Vec<(String, String)>,
    /// Response body bytes.
    pub response_body: Vec<u8>,
    /// Transport error, when there was no response.
    pub error: Option<String>,
    /// 1 for the first attempt, 2.. for retries of the same operation.
    pub attempt: u32,
    /// Payment reference the exchange concerns, when known.
    pub reference: Option<String>,
    /// Checklist IDs the exchange is evidence for (EP-CREATE, ...).
    pub checklist_ids: Vec<String>,
    /// Scenario name, when run by a scenario.
    pub scenario: Option<String>,
}

/// One redacted request/response: what journals, rules and reports see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// Version of this record's shape.
    pub schema_version: u32,
    /// Unique id of the exchange.
    pub id: String,
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    /// Body as JSON when it parses, else as a (redacted) string; `null` when empty.
    pub request_body: serde_json::Value,
    pub status: Option<u16>,
    pub response_headers: Vec<(String, String)>,
    pub response_body: serde_json::Value,
    pub error: Option<String>,
    pub attempt: u32,
    pub reference: Option<String>,
    pub checklist_ids: Vec<String>,
    pub scenario: Option<String>,
}

impl Exchange {
    /// Redacts `raw` (see [`redact`]) into a storable exchange.
    pub fn from_raw(raw: RawExchange) -> Exchange {
        redact::exchange(raw)
    }
}

/// One attempt about to be sent: written ahead, before the request leaves,
/// so a run killed at any instant still names every request that may have
/// had an effect. Its outcome is the [`Exchange`] with the same `id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// Version of this record's shape.
    pub schema_version: u32,
    /// Always `attempt`: tells this line from an exchange in the journal.
    pub kind: String,
    /// The id the outcome (the [`Exchange`]) will carry.
    pub id: String,
    pub started_at: DateTime<Utc>,
    pub method: String,
    /// URL, redacted (see [`redact::url`]).
    pub url: String,
    /// 1 for the first attempt, 2.. for retries of the same operation.
    pub attempt: u32,
    #[serde(default)]
    pub reference: Option<String>,
    /// The Idempotency-Key sent (POST only): what a person needs to repeat
    /// the operation safely, or to ask Vipps whether it happened.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    #[serde(default)]
    pub checklist_ids: Vec<String>,
    #[serde(default)]
    pub scenario: Option<String>,
}

/// The `kind` of an [`Attempt`] line.
pub const ATTEMPT_KIND: &str = "attempt";

impl Attempt {
    /// An attempt record, its URL redacted and its free text scrubbed.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: String,
        started_at: DateTime<Utc>,
        method: &str,
        url: &str,
        attempt: u32,
        reference: Option<String>,
        idempotency_key: Option<String>,
        checklist_ids: Vec<String>,
        scenario: Option<String>,
    ) -> Attempt {
        Attempt {
            schema_version: SCHEMA_VERSION,
            kind: ATTEMPT_KIND.into(),
            id,
            started_at,
            method: method.to_owned(),
            url: redact::url(url),
            attempt,
            reference: reference.map(|r| redact::text(&r)),
            idempotency_key: idempotency_key.map(|k| redact::text(&k)),
            checklist_ids,
            scenario,
        }
    }
}

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

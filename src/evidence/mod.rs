//! Evidence: every exchange with the target, redacted at the boundary, and the
//! append-only journal that keeps them.
//!
//! The client hands each finished exchange to a [`Recorder`] as a
//! [`RawExchange`]; [`Exchange::from_raw`] redacts it (see [`redact`]) before
//! anything else sees it, so no consumer can leak what it never received.

pub mod build;
pub mod journal;
pub mod model;
pub mod redact;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use journal::{Journal, JournalError};

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

/// Receives every exchange the client makes. Implementations must be cheap and
/// must not fail the request: errors are reported through `tracing`.
pub trait Recorder: Send + Sync {
    /// Records one exchange (already redacted).
    fn record(&self, exchange: &Exchange);
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
}

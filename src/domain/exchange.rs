//! The exchange record: one request and its response as the journal keeps
//! it, shared by the client's journal, the simulator's journal, `audit` and
//! the report, and the [`Attempt`] written ahead of each request.
//!
//! A [`RawExchange`] is what a client or the simulator saw, secrets and all;
//! it is never stored. [`Exchange::from_raw`] redacts it (see
//! [`super::redact`]) before anything else sees it, so no consumer can leak
//! what it never received.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::redact;

/// Version of the JSON written for exchanges and journals.
pub const SCHEMA_VERSION: u32 = 1;

/// How vipps-golive's own client names itself (`User-Agent:
/// vipps-golive/<version>`): the mark by which an audit of a shop's traffic
/// tells the harness's requests (a `verify`, a `run` against the same
/// simulator) from the shop's, and never counts them as the shop's.
pub const HARNESS_USER_AGENT: &str = concat!("vipps-golive/", env!("CARGO_PKG_VERSION"));

/// Whether a `User-Agent` value is vipps-golive's own client's, any version.
pub(crate) fn is_harness_user_agent(value: &str) -> bool {
    value.trim_start().starts_with("vipps-golive/")
}

/// The header every request vipps-golive itself sends carries, its value the
/// run id of the folder that records it (`x-vipps-golive-run:
/// 20261201T101500Z-1a2b3c`). A mark of its own beside the `User-Agent`,
/// because a shop may set its own User-Agent to anything, vipps-golive's
/// included; with the run id a line of a simulator's or a proxy's journal
/// names the folder that made it. The simulator's webhook deliveries do not
/// carry it: they stand in for Vipps's.
pub const HARNESS_RUN_HEADER: &str = "x-vipps-golive-run";

/// The mark's value when no run records the request (a client built by a
/// library user, a helper request outside any folder): still a mark.
pub const HARNESS_RUN_UNNAMED: &str = concat!("vipps-golive/", env!("CARGO_PKG_VERSION"));

/// Whether a request with these headers was sent by vipps-golive itself:
/// it carries [`HARNESS_RUN_HEADER`] (any value) or vipps-golive's
/// `User-Agent`. `audit` leaves such exchanges out of the shop's traffic.
pub fn is_harness_request<'a>(mut headers: impl Iterator<Item = (&'a str, &'a str)>) -> bool {
    headers.any(|(name, value)| {
        name.eq_ignore_ascii_case(HARNESS_RUN_HEADER)
            || (name.eq_ignore_ascii_case("user-agent") && is_harness_user_agent(value))
    })
}

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
    /// What the exchange is when it is not a call of a Vipps API:
    /// [`WEBHOOKS_CHECK_KIND`] for a probe `webhooks-check` sent to the
    /// shop's webhook receiver. Absent for API traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// The `kind` of an [`Exchange`] that is a `webhooks-check` probe.
pub const WEBHOOKS_CHECK_KIND: &str = "webhooks-check";

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

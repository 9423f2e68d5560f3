//! `evidence.json`: the document a run, a `verify` or an `audit` leaves behind,
//! and the only input of the report.
//!
//! The shape is versioned by [`EVIDENCE_SCHEMA_VERSION`] and documented in
//! `docs/evidence-schema.md`; a reader refuses a newer version. Producers
//! (run, verify, audit) fill it from what the target answered and what the
//! journal recorded; the report only renders it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Exchange;

/// Version of the `evidence.json` shape. Version 1 was the interim runner's
/// flat list of flows.
pub const EVIDENCE_SCHEMA_VERSION: u32 = 2;

/// The whole evidence of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Always [`EVIDENCE_SCHEMA_VERSION`] when written by this version.
    pub schema_version: u32,
    /// What produced it.
    pub kind: RunKind,
    /// `false` when rebuilt from the journal of a run that did not finish.
    pub complete: bool,
    /// Who, where and when.
    pub run: RunInfo,
    /// The GL-TEST or GL-PROD references, when the run produced or verified them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub golive: Option<GoLive>,
    /// One row per checklist ID, in checklist order (all 17, always).
    pub items: Vec<ItemResult>,
    /// Every scenario that ran (or was found not applicable).
    #[serde(default)]
    pub scenarios: Vec<ScenarioResult>,
    /// Every payment reference the run made or read, with what the API said of it.
    #[serde(default)]
    pub references: Vec<ReferenceEvidence>,
    /// What the rules found in the recorded exchanges.
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// Attestations given for the manual items.
    #[serde(default)]
    pub attestations: Vec<Attestation>,
    /// Results of `webhooks-check`, when run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhook_checks: Vec<WebhookCheck>,
    /// Attempts that were sent but have no recorded outcome (the run was
    /// killed or the connection died): each may have taken effect.
    #[serde(default)]
    pub interrupted: Vec<InterruptedAttempt>,
    /// Every recorded exchange, redacted, in journal order.
    #[serde(default)]
    pub exchanges: Vec<Exchange>,
    /// What an `audit` or a `pack` read: its inputs (each with its SHA-256),
    /// the lines, the filters and what was skipped. Absent for the other
    /// commands and in folders written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<InputRead>,
}

/// What a judge of recorded traffic read (`audit`, `pack`): kept in
/// evidence.json so the report's "what was read" section survives a re-render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputRead {
    /// Each input, in the order read.
    pub sources: Vec<InputSource>,
    /// Lines read (across every input, numbered in the order given).
    pub lines: u64,
    /// Exchanges judged as the shop's.
    pub judged: u64,
    /// Exchanges the filters left out.
    pub filtered_out: u64,
    /// `--since`, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// `--msn`, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msn: Option<String>,
    /// Lines of another kind (write-ahead attempts), skipped.
    pub other_kinds: u64,
    /// The first unreadable lines, each with why.
    #[serde(default)]
    pub bad_lines: Vec<SkippedLine>,
    /// Every unreadable line, counted.
    pub bad_line_count: u64,
    /// Whether `exchanges` holds every exchange judged (else only those
    /// behind findings; every one is in the folder's journal.jsonl).
    pub all_exchanges: bool,
}

/// One input read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSource {
    /// `journal` (a file) or `simulator` (a running simulator's journal).
    pub kind: String,
    /// The file as given, or the simulator's URL.
    pub location: String,
    /// SHA-256 of the bytes read, lowercase hex.
    pub sha256: String,
    /// How many bytes were read.
    pub bytes: u64,
}

/// An unreadable line, by number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedLine {
    /// 1-based, across the inputs in the order given.
    pub line: u64,
    pub reason: String,
}

/// Which command produced the evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    Run,
    Verify,
    Audit,
    /// `pack`: the shop's traffic, its references read back, its webhook
    /// receiver probed and the attestations, in one folder.
    Pack,
}

/// Where and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub run_id: String,
    /// `vipps-golive` version that wrote the file.
    pub tool_version: String,
    /// `simulator`, `test`, `production` or `custom`.
    pub target: String,
    /// The base URL as shown to people: no user info, no query.
    pub base_url: String,
    /// Merchant serial number (for an audit: the MSN audited, when one).
    pub msn: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// One month after `started_at`: Vipps accepts examples at most a month old.
    pub stale_after: DateTime<Utc>,
    /// The tag expression the run was filtered with, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<String>,
    /// Vipps-System-Name / -Version seen (audit) or sent (run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_version: Option<String>,
    /// Whose traffic the folder judges, in plain words: the shop's (audit,
    /// verify, webhooks-check) or vipps-golive's own client's (run, compare).
    /// Absent in folders written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<String>,
    /// The class of the target, in plain words: the embedded simulator, a URL
    /// on this machine, a custom URL, the Vipps test environment, Vipps
    /// production, a running simulator's journal or a recorded journal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_class: Option<String>,
    /// How many exchanges of the traffic read were sent by vipps-golive
    /// itself (marked by `x-vipps-golive-run` or its `User-Agent`) and left
    /// out of the shop's traffic: an audit only. Absent when not counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harness_left_out: Option<u64>,
    /// The clock the exchanges are dated on: `virtual` when the client
    /// waited on a virtual clock (the embedded simulator's, which polling
    /// and expiry move forward instead of sleeping); absent, the wall clock
    /// of `started_at` and `finished_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<String>,
    /// The run's span on the virtual clock, when `clock` is `virtual`: every
    /// exchange, poll and interrupted attempt is dated within it, while
    /// `started_at` and `finished_at` (and the scenarios) are wall-clock time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_span: Option<Span>,
}

/// `clock` of a run whose exchanges are dated on the virtual clock.
pub const VIRTUAL_CLOCK: &str = "virtual";

/// A span of time on one clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

/// The references a go-live request quotes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoLive {
    /// `GL-TEST` or `GL-PROD`.
    pub checklist_id: String,
    /// One per required outcome, in the checklist's order (CAPTURED, REFUNDED,
    /// CANCELLED; with AUTHORIZED first for production).
    pub references: Vec<GoLiveReference>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoLiveReference {
    /// `AUTHORIZED`, `CAPTURED`, `REFUNDED` or `CANCELLED`.
    pub outcome: String,
    /// `None` when the run did not produce one (the item then fails).
    pub reference: Option<String>,
}

/// A verdict, on a checklist item or a scenario. Each says no more than the
/// traffic proves: only PASS claims the traffic proved the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// The traffic proves it.
    Pass,
    /// The traffic shows it does not hold.
    Fail,
    /// It holds, with something to fix.
    Warning,
    /// The target failed (answered 5xx, timed out, could not be reached)
    /// where the evidence was to come from: not the shop's fault, not proven.
    Inconclusive,
    /// Some of its scenarios proved their part; the reason names the one that
    /// did not, and why (e.g. the shop's return page was not given).
    PartlyProven,
    /// This target cannot prove it, and the reason says why.
    NotApplicable,
    /// A person must confirm it.
    NeedsAttestation,
    /// A person confirmed it (who, role and when are in its attestation);
    /// their word, not the traffic's proof.
    Attested,
    /// The run stopped before it got there (killed, interrupted, fail-fast).
    NotRun,
}

impl Verdict {
    /// Every verdict, in the order the report counts them.
    pub const ALL: [Verdict; 9] = [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::Warning,
        Verdict::Inconclusive,
        Verdict::PartlyProven,
        Verdict::NotApplicable,
        Verdict::NeedsAttestation,
        Verdict::Attested,
        Verdict::NotRun,
    ];

    /// As printed: `PASS`, `NOT APPLICABLE`, ...
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Warning => "WARNING",
            Verdict::Inconclusive => "INCONCLUSIVE",
            Verdict::PartlyProven => "PARTLY PROVEN",
            Verdict::NotApplicable => "NOT APPLICABLE",
            Verdict::NeedsAttestation => "NEEDS ATTESTATION",
            Verdict::Attested => "ATTESTED",
            Verdict::NotRun => "NOT RUN",
        }
    }

    /// Only FAIL fails a run (exit 1). INCONCLUSIVE is the target's failure
    /// (exit 3 when nothing failed); the others are listed, never failed.
    pub(crate) fn fails_run(self) -> bool {
        self == Verdict::Fail
    }

    /// The target, not the shop, kept it from being judged (exit 3 when
    /// nothing failed).
    pub(crate) fn target_failed(self) -> bool {
        self == Verdict::Inconclusive
    }
}

/// One checklist row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemResult {
    /// Checklist ID, e.g. `EP-CAPTURE`.
    pub id: String,
    pub title: String,
    pub verdict: Verdict,
    /// Why, for anything but a plain PASS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Names of the scenarios behind the verdict.
    #[serde(default)]
    pub scenarios: Vec<String>,
    /// References that prove it.
    #[serde(default)]
    pub references: Vec<String>,
    /// Who attested, for PF-DESIGN and PF-SUPPORT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<Attestation>,
}

/// One scenario's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    pub name: String,
    /// Feature name (file stem when the feature has no name).
    pub feature: String,
    /// All tags, without `@`.
    pub tags: Vec<String>,
    /// The checklist IDs among the tags.
    pub checklist_ids: Vec<String>,
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// References the scenario made or read.
    #[serde(default)]
    pub references: Vec<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// Every step, in order (background first): those that ran with their
    /// outcome, the rest `skipped`. Empty in folders written before steps
    /// were listed in full.
    #[serde(default)]
    pub steps: Vec<StepResult>,
    /// Where the scenario is written (junit.xml and cucumber.json name it).
    /// Absent in older folders and for scenarios not read from a feature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ScenarioSource>,
}

/// Where a scenario is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioSource {
    /// The feature file as given (`features/endpoints.feature`).
    pub uri: String,
    /// The line of its `Feature:`.
    pub feature_line: usize,
    /// The scenario's line; for an example of a Scenario Outline, the
    /// example row's line.
    pub line: usize,
    /// `Scenario` or `Scenario Outline` (as written).
    pub keyword: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// `Given`, `When`, `Then`, `And`, `But`.
    pub keyword: String,
    pub text: String,
    pub outcome: StepOutcome,
    /// The failure message, when it failed or matched no step definition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The step's line in its feature file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepOutcome {
    Passed,
    Failed,
    /// Not run: an earlier step failed, or the scenario never started.
    /// (Folders written before `undefined` existed also use it for a step
    /// that matched no definition, with a message saying so.)
    Skipped,
    /// No step definition matches its text: the scenario fails.
    Undefined,
}

/// A payment reference and what the API said of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceEvidence {
    pub reference: String,
    pub msn: String,
    /// Scenario that made or read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// Checklist IDs it is evidence for.
    #[serde(default)]
    pub checklist_ids: Vec<String>,
    /// State from the last GET (`CREATED`, `AUTHORIZED`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Aggregate from the last GET.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<Aggregate>,
    /// The event log as last read.
    #[serde(default)]
    pub events: Vec<EventRecord>,
    /// When each GET of the payment went out (the polling timeline).
    #[serde(default)]
    pub polls: Vec<DateTime<Utc>>,
    /// Webhook deliveries received for it.
    #[serde(default)]
    pub webhooks: Vec<WebhookDelivery>,
    /// Errors the API answered for it.
    #[serde(default)]
    pub problems: Vec<ProblemRecord>,
    /// IDs of every exchange behind it (see [`Evidence::exchanges`]).
    #[serde(default)]
    pub exchange_ids: Vec<String>,
}

/// Amounts in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregate {
    pub currency: String,
    pub authorized: i64,
    pub captured: i64,
    pub refunded: i64,
    pub cancelled: i64,
}

/// One entry of the event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// `CREATED`, `AUTHORIZED`, `CAPTURED`, ...
    pub name: String,
    pub currency: String,
    /// Minor units.
    pub amount: i64,
    pub timestamp: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psp_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    pub success: bool,
}

/// One webhook delivery received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    pub received_at: DateTime<Utc>,
    pub event_name: String,
    /// The HMAC signature checked out.
    pub signature_valid: bool,
}

/// An error answer, as people need it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemRecord {
    /// The exchange that carried it.
    pub exchange_id: String,
    pub status: u16,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// The numeric error code from `extraDetails` (e.g. `5090`), when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Plain-language explanation and what to do (the client's `explain()`).
    pub explanation: String,
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Advice; never changes a verdict.
    Info,
    /// The item gets WARNING unless something failed it.
    Warning,
    /// The item FAILS.
    Fail,
}

/// What a rule found in the recorded exchanges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The checklist ID it concerns.
    pub checklist_id: String,
    /// The rule's short name, e.g. `headers.missing`.
    pub rule: String,
    pub severity: Severity,
    /// What is wrong, in plain words.
    pub message: String,
    /// What to change.
    pub advice: String,
    /// The offending exchange, when one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<ExchangeRef>,
}

/// Points at one exchange of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExchangeRef {
    pub id: String,
    pub time: DateTime<Utc>,
    pub method: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// A person's word for a manual item (`--attest PF-DESIGN="Name, role"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attestation {
    pub checklist_id: String,
    /// Who, as given.
    pub by: String,
    pub at: DateTime<Utc>,
}

/// One probe of `webhooks-check` (the list: docs/audit.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookCheck {
    /// The probe's name: `signed`, `unsigned`, `bad-signature`,
    /// `wrong-secret`, `tampered`, `wrong-host`, `no-date`,
    /// `no-content-hash`, `no-authorization`, `stale`, `replay`,
    /// `duplicate`, `out-of-order`.
    pub case: String,
    /// Should the receiver accept it (2xx)?
    pub expected_accept: bool,
    /// The answer expected, as shown: `2xx`, `4xx`, or `4xx (2xx warns)`
    /// (`replay`). Absent in folders written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// Status the receiver answered, `None` when it did not answer.
    pub status: Option<u16>,
    /// PASS, FAIL, or WARNING (a `replay` the receiver accepted).
    pub verdict: Verdict,
    pub explanation: String,
    /// The ids of the exchanges (in `exchanges`, kind `webhooks-check`) that
    /// carried the probe: its requests and the receiver's answers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exchanges: Vec<String>,
}

/// An attempt sent with no outcome recorded: it may have taken effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterruptedAttempt {
    /// The exchange id the outcome would have carried.
    pub id: String,
    pub started_at: DateTime<Utc>,
    pub method: String,
    /// URL as shown (no query).
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// Why an evidence file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceReadError {
    #[error("could not read `{path}`")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is not readable evidence")]
    Parse {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "`{path}` has evidence schema version {found}, newer than this tool reads ({supported}) (hint: use a newer vipps-golive)"
    )]
    TooNew {
        path: String,
        found: u32,
        supported: u32,
    },
}

impl Evidence {
    /// Reads and parses an `evidence.json` file (see [`Evidence::from_json`]).
    pub fn read(path: &std::path::Path) -> Result<Evidence, EvidenceReadError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| EvidenceReadError::Io {
            path: shown.clone(),
            source,
        })?;
        Evidence::from_json(&shown, &text)
    }

    /// Parses `evidence.json` text, refusing a newer schema version before
    /// looking at anything else.
    pub fn from_json(path: &str, text: &str) -> Result<Evidence, EvidenceReadError> {
        #[derive(Deserialize)]
        struct Version {
            schema_version: u32,
        }
        let version: Version =
            serde_json::from_str(text).map_err(|source| EvidenceReadError::Parse {
                path: path.to_owned(),
                source,
            })?;
        if version.schema_version > EVIDENCE_SCHEMA_VERSION {
            return Err(EvidenceReadError::TooNew {
                path: path.to_owned(),
                found: version.schema_version,
                supported: EVIDENCE_SCHEMA_VERSION,
            });
        }
        serde_json::from_str(text).map_err(|source| EvidenceReadError::Parse {
            path: path.to_owned(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_schema_is_refused_by_name() {
        let err = Evidence::from_json("e.json", r#"{"schema_version": 99}"#).unwrap_err();
        assert!(err.to_string().contains("99"), "{err}");
        assert!(matches!(err, EvidenceReadError::TooNew { .. }));
    }

    #[test]
    fn verdict_labels_and_wire_names() {
        assert_eq!(Verdict::NotApplicable.label(), "NOT APPLICABLE");
        assert_eq!(
            serde_json::to_string(&Verdict::NeedsAttestation).unwrap(),
            "\"NEEDS_ATTESTATION\""
        );
        assert!(!Verdict::NotApplicable.fails_run());
        assert!(Verdict::Fail.fails_run());
        for (v, wire, label) in [
            (Verdict::Inconclusive, "INCONCLUSIVE", "INCONCLUSIVE"),
            (Verdict::PartlyProven, "PARTLY_PROVEN", "PARTLY PROVEN"),
            (Verdict::Attested, "ATTESTED", "ATTESTED"),
            (Verdict::NotRun, "NOT_RUN", "NOT RUN"),
        ] {
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{wire}\""));
            assert_eq!(v.label(), label);
            assert!(!v.fails_run(), "{label} never fails a run by itself");
        }
        assert!(Verdict::Inconclusive.target_failed());
        assert!(!Verdict::Fail.target_failed());
    }
}

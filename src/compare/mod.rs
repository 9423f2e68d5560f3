//! `compare`: the same scenarios against the simulator and a real target, and
//! every place where their answers differ.
//!
//! The two runs are ordinary `run`s (same features, same steps, same client);
//! this module only reads their evidence. It is pure: two [`Evidence`] in, a
//! [`Comparison`] out, so it is tested without any server.
//!
//! How exchanges are paired. References are random per run, so within each
//! scenario a reference is named by the order it first appeared (`{ref1}`,
//! `{ref2}`) and every request becomes an operation key such as
//! `POST /epayment/v1/payments/{ref1}/capture`. Then, per scenario:
//! - plumbing is left out: the landing page and `/__sim/` (how a customer is
//!   stood in for differs by target) and token requests that were granted (a
//!   refused one is an answer and is compared);
//! - a retry replaces its earlier attempt (a 429 or 423 answered, then
//!   retried, is timing, not behaviour), and a run of identical GETs (polling)
//!   counts as its last one;
//! - the n-th occurrence of a key on one side is paired with the n-th on the
//!   other. What has no partner is a difference of its own.
//!
//! Per pair: the status, the Problem error code, and the body's shape (keys
//! and JSON types, so ids, times, traceIds and pspReferences never differ by
//! value); and where both answered a payment's state and aggregate (a GET of
//! the payment, a capture, a refund...), the state and every amount of it
//! (`amount`, `authorizedAmount`, `capturedAmount`, `refundedAmount`,
//! `cancelledAmount`: value and currency). Per reference: the state and
//! amounts the last GET read, and the event names and amounts the last
//! event-log read listed. Per scenario: the verdict on each side.
//!
//! A scenario that passes on one side and fails on the other is always an
//! unexpected difference, whatever else matched: neither a known deviation
//! nor the allow-list can hide it (issue 23).
//!
//! Every difference is then classed: a known deviation of the simulator
//! (listed in `docs/fidelity.md`, [`known`]) is shown but counted apart; one
//! matched by the user's allow-list ([`allow`]) is shown as allowed; the rest
//! are unexpected, and only those make `compare` exit 1.

pub mod allow;
pub mod html;
pub mod known;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::domain::exchange::Exchange;
use crate::domain::operation::{path_of, Operation};
use crate::domain::problem::Problem;
use crate::evidence::model::{Evidence, ScenarioResult, Verdict};

pub use allow::AllowList;

/// Version of `compare.json`'s shape.
/// 2: the kinds `amounts` and `verdict` (issue 23); a reader of version 1
/// would not know them.
pub const COMPARE_SCHEMA_VERSION: u32 = 2;

/// File names in a compare folder.
pub const COMPARE_JSON: &str = "compare.json";
pub const COMPARE_HTML: &str = "compare.html";

/// What was compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffKind {
    /// The HTTP status of a paired request (with the error code and title beside it).
    Status,
    /// Same status, another Problem error code.
    ErrorCode,
    /// Same status, other keys or JSON types in the body.
    BodyShape,
    /// The state the payment was last read in.
    State,
    /// The event names and amounts of the last event-log read.
    Events,
    /// Same status, another amount (value or currency) in `amount` or `aggregate`.
    Amounts,
    /// The scenario's verdict differs (PASS on one side, FAIL on the other, ...).
    Verdict,
    /// A request made against the simulator that has no partner on the target.
    OnlyOnSimulator,
    /// A request made against the target that has no partner on the simulator.
    OnlyOnTarget,
}

impl DiffKind {
    pub fn label(self) -> &'static str {
        match self {
            DiffKind::Status => "status",
            DiffKind::ErrorCode => "error code",
            DiffKind::BodyShape => "body shape",
            DiffKind::State => "state",
            DiffKind::Events => "events",
            DiffKind::Amounts => "amounts",
            DiffKind::Verdict => "verdict",
            DiffKind::OnlyOnSimulator => "only on the simulator",
            DiffKind::OnlyOnTarget => "only on the target",
        }
    }

    fn id_part(self) -> &'static str {
        match self {
            DiffKind::Status => "status",
            DiffKind::ErrorCode => "error-code",
            DiffKind::BodyShape => "body-shape",
            DiffKind::State => "state",
            DiffKind::Events => "events",
            DiffKind::Amounts => "amounts",
            DiffKind::Verdict => "verdict",
            DiffKind::OnlyOnSimulator => "only-on-simulator",
            DiffKind::OnlyOnTarget => "only-on-target",
        }
    }
}

/// How a difference counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Not explained: `compare` exits 1.
    Unexpected,
    /// A deviation of the simulator documented in `docs/fidelity.md`: shown, counted apart.
    Known,
    /// Matched by the allow-list file.
    Allowed,
}

/// A documented deviation a difference was matched to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviationRef {
    pub id: String,
    pub title: String,
    /// Where it is documented, e.g. `docs/fidelity.md#compare-known-deviations`.
    pub doc: String,
}

/// One row: one thing that differs, with both answers side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// Stable across runs (`<scenario> | <operation> | <kind>`): what an
    /// allow-list line matches.
    pub id: String,
    pub kind: DiffKind,
    pub class: Class,
    pub scenario: String,
    /// Checklist IDs of the scenario.
    pub checklist_ids: Vec<String>,
    /// The operation (`POST /epayment/v1/payments/{ref1}/capture #1`) or the
    /// reference (`{ref1}`) for state and events.
    pub operation: String,
    /// What differs, in plain words.
    pub summary: String,
    /// The simulator's answer (`null` when it has none).
    pub simulator: Value,
    /// The target's answer (`null` when it has none).
    pub target: Value,
    /// The references behind the row, on each side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulator_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_reference: Option<String>,
    /// The documented deviation, when [`Class::Known`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deviation: Option<DeviationRef>,
    /// The allow-list line that matched, when [`Class::Allowed`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_by: Option<String>,
}

/// One side of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Side {
    /// `simulator`, `test` or `custom`.
    pub target: String,
    pub base_url: String,
    pub msn: String,
    pub run_id: String,
    /// The run folder, relative to the compare folder.
    pub folder: String,
    pub exchanges: usize,
}

/// A checklist item's verdict on each side (NOT RUN where a side has no
/// verdict for it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemRow {
    pub id: String,
    pub simulator_verdict: Verdict,
    pub target_verdict: Verdict,
}

/// The items either side judged, in checklist order.
fn pair_items(simulator: &Evidence, target: &Evidence) -> Vec<ItemRow> {
    let verdict = |e: &Evidence, id: &str| {
        e.items
            .iter()
            .find(|i| i.id == id)
            .map_or(Verdict::NotRun, |i| i.verdict)
    };
    let mut ids: Vec<&str> = simulator
        .items
        .iter()
        .chain(&target.items)
        .map(|i| i.id.as_str())
        .collect();
    ids.sort_by_key(|id| (crate::domain::checklist::order(id), *id));
    ids.dedup();
    ids.into_iter()
        .map(|id| ItemRow {
            id: id.to_owned(),
            simulator_verdict: verdict(simulator, id),
            target_verdict: verdict(target, id),
        })
        .collect()
}

/// A scenario and whether it was compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioRow {
    pub name: String,
    pub checklist_ids: Vec<String>,
    pub compared: bool,
    /// Why not, when not compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub simulator_verdict: Verdict,
    pub target_verdict: Verdict,
    /// Differences in it, of any class.
    pub differences: usize,
}

/// The counts that decide the exit status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub unexpected: usize,
    pub known: usize,
    pub allowed: usize,
}

/// `compare.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub schema_version: u32,
    pub tool_version: String,
    pub compare_id: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub simulator: Side,
    pub target: Side,
    pub counts: Counts,
    pub scenarios: Vec<ScenarioRow>,
    /// Every checklist item's verdict on each side, in checklist order; its
    /// proof card is in that side's report (`<folder>/report.html#proof-ID`).
    #[serde(default)]
    pub items: Vec<ItemRow>,
    pub differences: Vec<Difference>,
    /// Allow-list lines that matched no difference (the API may have changed back).
    #[serde(default)]
    pub unused_allow_entries: Vec<String>,
}

impl Comparison {
    /// True when a difference is neither known nor allowed (exit status 1),
    /// or a scenario passed on one side and failed on the other (always a
    /// difference, whatever the rows say).
    pub fn has_unexpected(&self) -> bool {
        self.counts.unexpected > 0
            || self
                .scenarios
                .iter()
                .any(|s| split_verdicts(s.simulator_verdict, s.target_verdict))
    }
}

/// PASS on one side and FAIL on the other.
pub fn split_verdicts(a: Verdict, b: Verdict) -> bool {
    matches!(
        (a, b),
        (Verdict::Pass, Verdict::Fail) | (Verdict::Fail, Verdict::Pass)
    )
}

/// Where each run's evidence came from (for the [`Side`] rows).
#[derive(Debug, Clone, Default)]
pub struct Folders {
    pub compare_id: String,
    pub simulator: String,
    pub target: String,
    pub started_at: Option<DateTime<Utc>>,
}

/// Compares the simulator's run with the target's.
pub fn compare(
    simulator: &Evidence,
    target: &Evidence,
    allow: &AllowList,
    folders: &Folders,
) -> Comparison {
    let (scenarios, mut differences) = pair_scenarios(simulator, target);
    let used = classify(&mut differences, allow);
    let counted = |class| differences.iter().filter(|d| d.class == class).count();
    let counts = Counts {
        unexpected: counted(Class::Unexpected),
        known: counted(Class::Known),
        allowed: counted(Class::Allowed),
    };
    let side = |e: &Evidence, folder: &str| Side {
        target: e.run.target.clone(),
        base_url: e.run.base_url.clone(),
        msn: e.run.msn.clone(),
        run_id: e.run.run_id.clone(),
        folder: folder.to_owned(),
        exchanges: e.exchanges.len(),
    };
    Comparison {
        schema_version: COMPARE_SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        compare_id: folders.compare_id.clone(),
        started_at: folders.started_at.unwrap_or(target.run.started_at),
        finished_at: Utc::now(),
        simulator: side(simulator, &folders.simulator),
        target: side(target, &folders.target),
        counts,
        scenarios,
        items: pair_items(simulator, target),
        differences,
        unused_allow_entries: allow
            .lines()
            .filter(|l| !used.contains(*l))
            .map(str::to_owned)
            .collect(),
    }
}

/// Each of the target's scenarios beside the simulator's of the same name:
/// a row per scenario, and the differences of those both sides ran.
fn pair_scenarios(simulator: &Evidence, target: &Evidence) -> (Vec<ScenarioRow>, Vec<Difference>) {
    let sim_results: HashMap<&str, &ScenarioResult> = simulator
        .scenarios
        .iter()
        .map(|s| (s.name.as_str(), s))
        .collect();
    let mut scenarios = Vec::new();
    let mut differences = Vec::new();
    for t in &target.scenarios {
        let Some(s) = sim_results.get(t.name.as_str()) else {
            scenarios.push(ScenarioRow {
                name: t.name.clone(),
                checklist_ids: t.checklist_ids.clone(),
                compared: false,
                reason: Some("the simulator run has no such scenario".into()),
                simulator_verdict: Verdict::NotApplicable,
                target_verdict: t.verdict,
                differences: 0,
            });
            continue;
        };
        let reason = not_compared(s, t);
        let mut found = if reason.is_none() {
            let sim_trace = Trace::of(&simulator.exchanges, &s.name);
            let target_trace = Trace::of(&target.exchanges, &t.name);
            diff_scenario(t, &sim_trace, &target_trace)
        } else {
            Vec::new()
        };
        found.extend(diff_verdict(s, t, reason.is_none()));
        scenarios.push(ScenarioRow {
            name: t.name.clone(),
            checklist_ids: t.checklist_ids.clone(),
            compared: reason.is_none(),
            reason,
            simulator_verdict: s.verdict,
            target_verdict: t.verdict,
            differences: found.len(),
        });
        differences.extend(found);
    }
    (scenarios, differences)
}

/// The verdict row of a scenario: when both sides ran it and their verdicts
/// differ, or (even when it was not compared) one passed and the other failed.
fn diff_verdict(s: &ScenarioResult, t: &ScenarioResult, compared: bool) -> Option<Difference> {
    if s.verdict == t.verdict || !(compared || split_verdicts(s.verdict, t.verdict)) {
        return None;
    }
    let side = |r: &ScenarioResult| {
        let mut v = json!({ "verdict": r.verdict.label() });
        if let Some(reason) = &r.reason {
            v["reason"] = json!(reason);
        }
        v
    };
    Some(Rows { scenario: t }.row(
        DiffKind::Verdict,
        "scenario".into(),
        format!(
            "the scenario is {} on the simulator and {} on the target",
            s.verdict.label(),
            t.verdict.label()
        ),
        (side(s), side(t)),
        (None, None),
    ))
}

/// Why a scenario both sides know is not compared: one side did not run it.
fn not_compared(s: &ScenarioResult, t: &ScenarioResult) -> Option<String> {
    match (s.verdict, t.verdict) {
        (_, Verdict::NotApplicable) => Some(format!(
            "not applicable on the target: {}",
            t.reason.as_deref().unwrap_or("no reason given")
        )),
        (Verdict::NotApplicable, _) => Some(format!(
            "not applicable on the simulator: {}",
            s.reason.as_deref().unwrap_or("no reason given")
        )),
        (Verdict::NeedsAttestation, _) | (_, Verdict::NeedsAttestation) => {
            Some("a person attests it; nothing is sent".into())
        }
        _ => None,
    }
}

/// Marks each difference known (a documented deviation) or allowed (by a
/// line of the allow-list); what a side did after the two diverged counts
/// as the divergence does. Returns the allow-list lines that matched.
fn classify(differences: &mut [Difference], allow: &AllowList) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for d in differences.iter_mut() {
        if d.kind == DiffKind::Verdict {
            // A verdict is what a shop acts on: a PASS here and a FAIL there
            // is never explained away (issue 23); a lesser split (PASS and
            // WARNING) only by the user's own allow-list.
            let split = split_verdicts(verdict_of(&d.simulator), verdict_of(&d.target));
            if let (false, Some(line)) = (split, allow.matching(&d.id)) {
                used.insert(line.to_owned());
                d.class = Class::Allowed;
                d.allowed_by = Some(line.to_owned());
            }
            continue;
        }
        if let Some(k) = known::classify(d) {
            d.class = Class::Known;
            d.deviation = Some(DeviationRef {
                id: k.id.into(),
                title: k.title.into(),
                doc: format!("docs/fidelity.md#{}", known::ANCHOR),
            });
        } else if let Some(line) = allow.matching(&d.id) {
            used.insert(line.to_owned());
            d.class = Class::Allowed;
            d.allowed_by = Some(line.to_owned());
        }
    }
    let divergence: HashMap<(&str, &str), Difference> = differences
        .iter()
        .filter(|d| d.kind == DiffKind::Status)
        .map(|d| ((d.scenario.as_str(), d.operation.as_str()), d.clone()))
        .collect();
    let causes: Vec<Option<Difference>> = differences
        .iter()
        .map(|d| {
            let at = d.operation.strip_prefix("after ")?;
            let cause = divergence.get(&(d.scenario.as_str(), at))?;
            (d.class == Class::Unexpected).then(|| cause.clone())
        })
        .collect();
    for (d, cause) in differences.iter_mut().zip(causes) {
        if let Some(cause) = cause {
            d.class = cause.class;
            d.deviation = cause.deviation;
            d.allowed_by = cause.allowed_by;
        }
    }
    used
}

/// The verdict a [`DiffKind::Verdict`] row shows for one side.
fn verdict_of(side: &Value) -> Verdict {
    match side["verdict"].as_str() {
        Some("PASS") => Verdict::Pass,
        Some("FAIL") => Verdict::Fail,
        _ => Verdict::Warning,
    }
}

/// One operation of a scenario, after retries and polls are folded.
#[derive(Debug)]
struct OpRec<'a> {
    /// `POST /epayment/v1/payments/{ref1}/capture`.
    key: String,
    exchange: &'a Exchange,
    /// Ordinal of its reference in the scenario (1-based), when it has one.
    reference: Option<usize>,
}

/// A scenario's requests on one side.
#[derive(Debug, Default)]
struct Trace<'a> {
    ops: Vec<OpRec<'a>>,
    /// References in order of first appearance.
    references: Vec<String>,
    /// Per reference ordinal: the last answered GET of the payment and of its events.
    last_get: BTreeMap<usize, &'a Exchange>,
    last_events: BTreeMap<usize, &'a Exchange>,
}

impl<'a> Trace<'a> {
    fn of(exchanges: &'a [Exchange], scenario: &str) -> Trace<'a> {
        let mut t = Trace::default();
        for ex in exchanges
            .iter()
            .filter(|e| e.scenario.as_deref() == Some(scenario))
        {
            let path = path_of(&ex.url);
            let op = Operation::of(&ex.method, path);
            let granted = ex.status.is_some_and(|s| (200..300).contains(&s));
            match op {
                Operation::Landing => continue,
                Operation::Token if granted => continue,
                _ => {}
            }
            let reference = ex
                .reference
                .as_deref()
                .filter(|r| !r.is_empty())
                .map(|r| t.ordinal(r));
            let normal = normal_path(path, reference.zip(ex.reference.as_deref()));
            let key = format!("{} {}", ex.method.to_ascii_uppercase(), normal);
            let is_get = ex.method.eq_ignore_ascii_case("GET");
            let folds = t
                .ops
                .last()
                .is_some_and(|last| last.key == key && (ex.attempt > 1 || is_get));
            let rec = OpRec {
                key,
                exchange: ex,
                reference,
            };
            if folds {
                if let Some(last) = t.ops.last_mut() {
                    *last = rec;
                }
            } else {
                t.ops.push(rec);
            }
            if let (Some(n), true) = (reference, granted) {
                match op {
                    Operation::Get(_) => {
                        t.last_get.insert(n, ex);
                    }
                    Operation::Events(_) => {
                        t.last_events.insert(n, ex);
                    }
                    _ => {}
                }
            }
        }
        t
    }

    fn ordinal(&mut self, reference: &str) -> usize {
        match self.references.iter().position(|r| r == reference) {
            Some(i) => i + 1,
            None => {
                self.references.push(reference.to_owned());
                self.references.len()
            }
        }
    }

    fn reference(&self, ordinal: usize) -> Option<String> {
        self.references.get(ordinal.wrapping_sub(1)).cloned()
    }

    /// `(key, occurrence)` for every operation, in order.
    fn keyed(&self) -> Vec<((String, usize), &OpRec<'a>)> {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        self.ops
            .iter()
            .map(|op| {
                let n = seen.entry(op.key.as_str()).or_default();
                *n += 1;
                ((op.key.clone(), *n), op)
            })
            .collect()
    }
}

/// `path` with ids the server made up (a webhook's UUID) as `{id}`, and the
/// segment equal to the scenario's n-th reference as `{refN}` (a whole
/// segment, never a substring: a reference may be a prefix of another).
fn normal_path(path: &str, reference: Option<(usize, &str)>) -> String {
    path.split('/')
        .map(|seg| match reference {
            _ if uuid::Uuid::try_parse(seg).is_ok() => "{id}".to_owned(),
            Some((n, r)) if seg == r => format!("{{ref{n}}}"),
            _ => seg.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every difference of one scenario both sides ran: operation by operation,
/// then per payment reference.
fn diff_scenario(
    scenario: &ScenarioResult,
    sim: &Trace<'_>,
    target: &Trace<'_>,
) -> Vec<Difference> {
    let rows = Rows { scenario };
    let mut out = Vec::new();
    let sim_ops = sim.keyed();
    let target_keyed = target.keyed();
    let Paired {
        diverged,
        only_sim,
        keys: paired,
        compared,
    } = diff_paired(&rows, (sim, &sim_ops), (target, &target_keyed), &mut out);
    let only_target: Vec<(String, &OpRec<'_>)> = target_keyed
        .iter()
        .filter(|(key, _)| !paired.contains(key))
        .map(|(key, op)| (format!("{} #{}", key.0, key.1), *op))
        .collect();
    diff_unpaired(
        &rows,
        DiffKind::OnlyOnSimulator,
        &only_sim,
        sim,
        diverged.as_deref(),
        &mut out,
    );
    diff_unpaired(
        &rows,
        DiffKind::OnlyOnTarget,
        &only_target,
        target,
        diverged.as_deref(),
        &mut out,
    );
    diff_references(&rows, (sim, target), &compared, &mut out);
    out
}

/// Makes the difference rows of one scenario.
struct Rows<'s> {
    scenario: &'s ScenarioResult,
}

impl Rows<'_> {
    /// One difference, unexpected until [`classify`] says otherwise.
    fn row(
        &self,
        kind: DiffKind,
        operation: String,
        summary: String,
        (simulator, target): (Value, Value),
        refs: (Option<String>, Option<String>),
    ) -> Difference {
        Difference {
            id: format!(
                "{} | {} | {}",
                self.scenario.name,
                operation,
                kind.id_part()
            ),
            kind,
            class: Class::Unexpected,
            scenario: self.scenario.name.clone(),
            checklist_ids: self.scenario.checklist_ids.clone(),
            operation,
            summary,
            simulator,
            target,
            simulator_reference: refs.0,
            target_reference: refs.1,
            deviation: None,
            allowed_by: None,
        }
    }
}

/// An operation's key in a trace (`POST /epayment/v1/payments/{ref1}/capture`)
/// and which occurrence of it.
type OpKey = (String, usize);

/// The operations of one side, each with its key, in order.
type Keyed<'t> = [(OpKey, &'t OpRec<'t>)];

/// What pairing the two sides' operations found besides the differences.
struct Paired<'t> {
    /// The first operation answered with another status: where the runs diverged.
    diverged: Option<String>,
    /// The simulator's operations the target did not send.
    only_sim: Vec<(String, &'t OpRec<'t>)>,
    /// The keys both sides sent.
    keys: BTreeSet<OpKey>,
    /// The pairs of exchanges (simulator id, target id) whose payment state
    /// and amounts were compared already.
    compared: BTreeSet<(String, String)>,
}

/// The operations both sides sent, answer beside answer.
fn diff_paired<'t>(
    rows: &Rows<'_>,
    (sim, sim_ops): (&Trace<'_>, &Keyed<'t>),
    (target, target_keyed): (&Trace<'_>, &Keyed<'_>),
    out: &mut Vec<Difference>,
) -> Paired<'t> {
    let target_ops: HashMap<&(String, usize), &OpRec<'_>> =
        target_keyed.iter().map(|(k, op)| (k, *op)).collect();
    let mut paired = BTreeSet::new();
    let mut compared = BTreeSet::new();
    let mut only_sim = Vec::new();
    // The first request answered with another status: what the other side
    // did after it follows from it, and is folded into one row per side.
    let mut diverged: Option<String> = None;
    for (key, s) in sim_ops {
        let operation = format!("{} #{}", key.0, key.1);
        let Some(t) = target_ops.get(key) else {
            only_sim.push((operation, *s));
            continue;
        };
        paired.insert(key.clone());
        let refs = (
            s.reference.and_then(|n| sim.reference(n)),
            t.reference.and_then(|n| target.reference(n)),
        );
        for (kind, summary) in diff_exchange(s.exchange, t.exchange) {
            if kind == DiffKind::Status && diverged.is_none() {
                diverged = Some(operation.clone());
            }
            let answers = match kind {
                DiffKind::BodyShape => (
                    json!({ "status": s.exchange.status, "shape": shape(&s.exchange.response_body) }),
                    json!({ "status": t.exchange.status, "shape": shape(&t.exchange.response_body) }),
                ),
                _ => (answer(s.exchange), answer(t.exchange)),
            };
            out.push(rows.row(kind, operation.clone(), summary, answers, refs.clone()));
        }
        if s.exchange.status == t.exchange.status {
            for (kind, summary, answers) in diff_payment(s.exchange, t.exchange) {
                out.push(rows.row(kind, operation.clone(), summary, answers, refs.clone()));
            }
            compared.insert((s.exchange.id.clone(), t.exchange.id.clone()));
        }
    }
    Paired {
        diverged,
        only_sim,
        keys: paired,
        compared,
    }
}

/// Operations only one side sent (`kind` says which): after the runs
/// diverged, one row for all of them; before, one row each.
fn diff_unpaired(
    rows: &Rows<'_>,
    kind: DiffKind,
    unpaired: &[(String, &OpRec<'_>)],
    trace: &Trace<'_>,
    diverged: Option<&str>,
    out: &mut Vec<Difference>,
) {
    let on_simulator = kind == DiffKind::OnlyOnSimulator;
    let (this, other) = if on_simulator {
        ("simulator", "target")
    } else {
        ("target", "simulator")
    };
    let reference = |op: &OpRec<'_>| op.reference.and_then(|n| trace.reference(n));
    let side_refs = |r: Option<String>| if on_simulator { (r, None) } else { (None, r) };
    let place = |v: Value| {
        if on_simulator {
            (v, Value::Null)
        } else {
            (Value::Null, v)
        }
    };
    match (diverged, unpaired) {
        (_, []) => {}
        (Some(at), ops) => {
            let listed: Vec<Value> = ops
                .iter()
                .map(|(operation, op)| json!({ "request": operation, "answer": answer(op.exchange) }))
                .collect();
            out.push(rows.row(
                kind,
                format!("after {at}"),
                format!(
                    "the {this} run went on with {} request(s) the {other} run did not send, after the two answered {at} differently: {}",
                    ops.len(),
                    ops.iter().map(|(o, _)| o.as_str()).collect::<Vec<_>>().join(", ")
                ),
                place(Value::Array(listed)),
                side_refs(ops.first().and_then(|(_, op)| reference(op))),
            ));
        }
        (None, ops) => {
            for (operation, op) in ops {
                out.push(rows.row(
                    kind,
                    operation.clone(),
                    format!(
                        "the {this} run sent this request ({}); the {other} run did not",
                        answer_line(op.exchange)
                    ),
                    place(answer(op.exchange)),
                    side_refs(reference(op)),
                ));
            }
        }
    }
}

/// Per reference: the state and amounts each side last read (unless that
/// very pair of reads was compared already), and the event log.
fn diff_references(
    rows: &Rows<'_>,
    (sim, target): (&Trace<'_>, &Trace<'_>),
    compared: &BTreeSet<(String, String)>,
    out: &mut Vec<Difference>,
) {
    let ordinals: BTreeSet<usize> = sim
        .last_get
        .keys()
        .chain(target.last_get.keys())
        .chain(sim.last_events.keys())
        .chain(target.last_events.keys())
        .copied()
        .collect();
    for n in ordinals {
        let refs = (sim.reference(n), target.reference(n));
        let operation = format!("{{ref{n}}}");
        if let (Some(a), Some(b)) = (sim.last_get.get(&n), target.last_get.get(&n)) {
            if !compared.contains(&(a.id.clone(), b.id.clone())) {
                for (kind, summary, answers) in diff_payment(a, b) {
                    out.push(rows.row(kind, operation.clone(), summary, answers, refs.clone()));
                }
            }
        }
        let (s_events, t_events) = (
            sim.last_events.get(&n).map(|e| events_of(e)),
            target.last_events.get(&n).map(|e| events_of(e)),
        );
        if let (Some(a), Some(b)) = (&s_events, &t_events) {
            if a != b {
                out.push(rows.row(
                    DiffKind::Events,
                    operation.clone(),
                    format!(
                        "the event log reads {} on the simulator and {} on the target",
                        list_or_none(a),
                        list_or_none(b)
                    ),
                    (json!(a), json!(b)),
                    refs.clone(),
                ));
            }
        }
    }
}

/// The amounts of a payment's answer that are compared by value.
const AMOUNT_PATHS: [(&str, &str); 5] = [
    ("amount", "/amount"),
    ("authorizedAmount", "/aggregate/authorizedAmount"),
    ("capturedAmount", "/aggregate/capturedAmount"),
    ("refundedAmount", "/aggregate/refundedAmount"),
    ("cancelledAmount", "/aggregate/cancelledAmount"),
];

/// One amount as read: `10000 NOK`, or what stood there instead.
fn amount_at(body: &Value, pointer: &str) -> Value {
    match body.pointer(pointer) {
        None => Value::Null,
        Some(a) => json!({ "value": a.get("value"), "currency": a.get("currency") }),
    }
}

fn amount_text(v: &Value) -> String {
    match (v.get("value"), v.get("currency")) {
        (Some(Value::Number(n)), Some(Value::String(c))) => format!("{n} {c}"),
        (Some(value), Some(currency)) => format!("{value} {currency}"),
        _ => "nothing".into(),
    }
}

/// The state and every amount of two successful answers about one payment
/// (a GET of it, or a modification's answer), when both carry them: the
/// values a shop books from, so they are compared by value, not by shape.
fn diff_payment(sim: &Exchange, target: &Exchange) -> Vec<(DiffKind, String, (Value, Value))> {
    let about_payment = |e: &Exchange| {
        e.status.is_some_and(|s| (200..300).contains(&s))
            && e.response_body
                .get("aggregate")
                .is_some_and(Value::is_object)
    };
    if !(about_payment(sim) && about_payment(target)) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let (a, b) = (state_of(sim), state_of(target));
    if a != b {
        out.push((
            DiffKind::State,
            format!("the payment was read as {a} on the simulator and {b} on the target"),
            (json!(a), json!(b)),
        ));
    }
    let mut differing = Vec::new();
    let (mut on_sim, mut on_target) = (serde_json::Map::new(), serde_json::Map::new());
    for (name, pointer) in AMOUNT_PATHS {
        let (x, y) = (
            amount_at(&sim.response_body, pointer),
            amount_at(&target.response_body, pointer),
        );
        if x != y {
            differing.push(format!(
                "{name} {} on the simulator and {} on the target",
                amount_text(&x),
                amount_text(&y)
            ));
            on_sim.insert(name.to_owned(), x);
            on_target.insert(name.to_owned(), y);
        }
    }
    if !differing.is_empty() {
        out.push((
            DiffKind::Amounts,
            format!("the payment reads {}", differing.join("; ")),
            (Value::Object(on_sim), Value::Object(on_target)),
        ));
    }
    out
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "nothing".into()
    } else {
        items.join(", ")
    }
}

/// Status, error code and shape of one pair, as `(kind, plain words)`.
fn diff_exchange(sim: &Exchange, target: &Exchange) -> Vec<(DiffKind, String)> {
    let (s_code, t_code) = (error_code(sim), error_code(target));
    if sim.status != target.status {
        return vec![(
            DiffKind::Status,
            format!(
                "the simulator answered {}, the target {}",
                answer_line(sim),
                answer_line(target)
            ),
        )];
    }
    if s_code != t_code {
        return vec![(
            DiffKind::ErrorCode,
            format!(
                "both answered {}, with error code {} on the simulator and {} on the target",
                status_text(sim.status),
                code_text(s_code),
                code_text(t_code)
            ),
        )];
    }
    let (a, b) = (shape(&sim.response_body), shape(&target.response_body));
    if a == b {
        return Vec::new();
    }
    let mut parts = Vec::new();
    let only_sim: Vec<&String> = a.keys().filter(|k| !b.contains_key(*k)).collect();
    let only_target: Vec<&String> = b.keys().filter(|k| !a.contains_key(*k)).collect();
    let retyped: Vec<String> = a
        .iter()
        .filter_map(|(k, t)| {
            b.get(k)
                .filter(|u| *u != t)
                .map(|u| format!("{k} is {t} on the simulator, {u} on the target"))
        })
        .collect();
    if !only_target.is_empty() {
        parts.push(format!("only the target has {}", join_paths(&only_target)));
    }
    if !only_sim.is_empty() {
        parts.push(format!("only the simulator has {}", join_paths(&only_sim)));
    }
    parts.extend(retyped);
    vec![(DiffKind::BodyShape, parts.join("; "))]
}

fn join_paths(paths: &[&String]) -> String {
    const SHOWN: usize = 8;
    let mut s = paths
        .iter()
        .take(SHOWN)
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if paths.len() > SHOWN {
        s.push_str(&format!(" and {} more", paths.len() - SHOWN));
    }
    s
}

fn status_text(status: Option<u16>) -> String {
    match status {
        Some(s) => format!("HTTP {s}"),
        None => "no answer".into(),
    }
}

fn code_text(code: Option<u32>) -> String {
    code.map_or_else(|| "none".into(), |c| c.to_string())
}

/// `HTTP 400 (error code 5080, "PUSH_MESSAGE not allowed")`.
fn answer_line(ex: &Exchange) -> String {
    let mut s = status_text(ex.status);
    if ex.status.is_none() {
        if let Some(e) = &ex.error {
            s.push_str(&format!(" ({e})"));
        }
        return s;
    }
    let problem = problem(ex);
    let mut extra = Vec::new();
    if let Some(code) = problem.as_ref().and_then(Problem::error_code) {
        extra.push(format!("error code {code}"));
    }
    if let Some(title) = problem.and_then(|p| p.title) {
        extra.push(format!("\"{title}\""));
    }
    if !extra.is_empty() {
        s.push_str(&format!(" ({})", extra.join(", ")));
    }
    s
}

/// One side's answer, as shown in the row.
fn answer(ex: &Exchange) -> Value {
    let problem = problem(ex);
    let mut v = json!({
        "status": ex.status,
        "errorCode": problem.as_ref().and_then(Problem::error_code),
        "title": problem.as_ref().and_then(|p| p.title.clone()),
        "detail": problem.as_ref().and_then(|p| p.detail.clone()),
        "error": ex.error,
        "exchange": ex.id,
    });
    // Only what the side said: an absent title is absent, not `null`.
    if let Value::Object(map) = &mut v {
        map.retain(|_, value| !value.is_null());
    }
    v
}

fn problem(ex: &Exchange) -> Option<Problem> {
    if ex.status.is_some_and(|s| s < 400) {
        return None;
    }
    serde_json::from_value::<Problem>(ex.response_body.clone()).ok()
}

fn error_code(ex: &Exchange) -> Option<u32> {
    problem(ex).as_ref().and_then(Problem::error_code)
}

fn state_of(ex: &Exchange) -> String {
    ex.response_body["state"]
        .as_str()
        .unwrap_or("(no state)")
        .to_owned()
}

/// `CAPTURED 10000` per event, in order.
fn events_of(ex: &Exchange) -> Vec<String> {
    let Some(events) = ex.response_body.as_array() else {
        return vec!["(not a list)".into()];
    };
    events
        .iter()
        .map(|e| {
            let name = e["name"].as_str().unwrap_or("(no name)");
            match e["amount"]["value"].as_i64() {
                Some(v) => format!("{name} {v}"),
                None => name.to_owned(),
            }
        })
        .collect()
}

/// The keys and JSON types of a body: `{"$.aggregate.capturedAmount.value": "number", ...}`.
/// Array elements share the path `[]`; differing element types are joined with `|`.
pub fn shape(body: &Value) -> BTreeMap<String, String> {
    let mut types: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
    walk(body, "$".into(), &mut types);
    types
        .into_iter()
        .map(|(k, v)| (k, v.into_iter().collect::<Vec<_>>().join("|")))
        .collect()
}

fn walk(v: &Value, path: String, out: &mut BTreeMap<String, BTreeSet<&'static str>>) {
    let name = match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    match v {
        Value::Array(items) => {
            for item in items {
                walk(item, format!("{path}[]"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                walk(item, format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
    out.entry(path).or_default().insert(name);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(
        id: &str,
        scenario: &str,
        method: &str,
        path: &str,
        status: u16,
        body: Value,
    ) -> Exchange {
        let reference = path
            .split('/')
            .nth(4)
            .map(str::to_owned)
            .or_else(|| body["reference"].as_str().map(str::to_owned));
        Exchange {
            schema_version: 1,
            id: id.into(),
            started_at: Utc::now(),
            duration_ms: 1,
            method: method.into(),
            url: format!("http://127.0.0.1:1{path}"),
            request_headers: vec![],
            request_body: Value::Null,
            status: Some(status),
            response_headers: vec![],
            response_body: body,
            error: None,
            attempt: 1,
            reference,
            checklist_ids: vec![],
            scenario: Some(scenario.into()),
            kind: None,
        }
    }

    fn trace_keys(exchanges: &[Exchange]) -> Vec<String> {
        Trace::of(exchanges, "s")
            .ops
            .iter()
            .map(|o| o.key.clone())
            .collect()
    }

    #[test]
    fn references_become_ordinals_and_polls_and_retries_fold() {
        let p = "/epayment/v1/payments";
        let mut retry = ex(
            "4",
            "s",
            "POST",
            &format!("{p}/shop-1/capture"),
            200,
            json!({}),
        );
        retry.attempt = 2;
        let exchanges = vec![
            ex("0", "s", "POST", "/accesstoken/get", 200, json!({})),
            ex(
                "1",
                "s",
                "GET",
                &format!("{p}/shop-1"),
                200,
                json!({"state": "CREATED"}),
            ),
            ex(
                "2",
                "s",
                "GET",
                &format!("{p}/shop-1"),
                200,
                json!({"state": "AUTHORIZED"}),
            ),
            ex(
                "3",
                "s",
                "POST",
                &format!("{p}/shop-1/capture"),
                429,
                json!({}),
            ),
            retry,
            ex(
                "5",
                "s",
                "GET",
                &format!("{p}/shop-10/events"),
                200,
                json!([]),
            ),
            ex(
                "6",
                "s",
                "GET",
                "/__sim/payments/shop-1/approve",
                200,
                json!({}),
            ),
            ex(
                "8",
                "s",
                "DELETE",
                "/webhooks/v1/webhooks/6b639836-5ec2-416c-b94a-65ec665ac3dd",
                204,
                Value::Null,
            ),
            ex("7", "other", "GET", &format!("{p}/shop-1"), 200, json!({})),
        ];
        assert_eq!(
            trace_keys(&exchanges),
            [
                "GET /epayment/v1/payments/{ref1}",
                "POST /epayment/v1/payments/{ref1}/capture",
                "GET /epayment/v1/payments/{ref2}/events",
                "DELETE /webhooks/v1/webhooks/{id}",
            ]
        );
        let t = Trace::of(&exchanges, "s");
        assert_eq!(
            t.ops[0].exchange.id, "2",
            "the last poll stands for the run of polls"
        );
        assert_eq!(t.ops[1].exchange.id, "4", "the retry replaces the 429");
        assert_eq!(state_of(t.last_get[&1]), "AUTHORIZED");
    }

    #[test]
    fn a_refused_token_is_an_answer_and_is_compared() {
        let exchanges = vec![ex("0", "s", "POST", "/accesstoken/get", 401, json!({}))];
        assert_eq!(trace_keys(&exchanges), ["POST /accesstoken/get"]);
    }

    #[test]
    fn shape_is_keys_and_types_never_values() {
        let a = json!({"reference": "a-1", "aggregate": {"capturedAmount": {"value": 1}}, "events": [{"n": 1}, {"n": "x"}]});
        let b = json!({"reference": "b-2", "aggregate": {"capturedAmount": {"value": 999}}, "events": [{"n": 2}, {"n": "y"}]});
        assert_eq!(shape(&a), shape(&b));
        assert_eq!(shape(&a)["$.events[].n"], "number|string");
        let c = json!({"reference": 5, "aggregate": {}, "events": []});
        let d = diff_exchange(
            &ex("1", "s", "GET", "/x", 200, a.clone()),
            &ex("2", "s", "GET", "/x", 200, c),
        );
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].0, DiffKind::BodyShape);
        assert!(
            d[0].1
                .contains("only the simulator has `$.aggregate.capturedAmount`"),
            "{}",
            d[0].1
        );
        assert!(
            d[0].1
                .contains("$.reference is string on the simulator, number on the target"),
            "{}",
            d[0].1
        );
    }

    #[test]
    fn a_status_difference_is_one_row_with_both_codes() {
        let problem = |code: &str| json!({"title": "Bad Request", "extraDetails": [{"name": "ErrorCode", "reason": code}]});
        let d = diff_exchange(
            &ex(
                "1",
                "s",
                "POST",
                "/epayment/v1/payments",
                201,
                json!({"reference": "r"}),
            ),
            &ex(
                "2",
                "s",
                "POST",
                "/epayment/v1/payments",
                400,
                problem("5080"),
            ),
        );
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].0, DiffKind::Status);
        assert!(
            d[0].1.contains("HTTP 201") && d[0].1.contains("error code 5080"),
            "{}",
            d[0].1
        );
        let d = diff_exchange(
            &ex("1", "s", "POST", "/x", 400, problem("6050")),
            &ex("2", "s", "POST", "/x", 400, problem("6190")),
        );
        assert_eq!(d[0].0, DiffKind::ErrorCode);
    }

    fn scenario(verdict: Verdict) -> ScenarioResult {
        ScenarioResult {
            name: "s".into(),
            feature: "f".into(),
            tags: vec![],
            checklist_ids: vec!["EP-CAPTURE".into()],
            verdict,
            reason: None,
            references: vec![],
            started_at: Utc::now(),
            finished_at: Utc::now(),
            steps: vec![],
            source: None,
        }
    }

    fn payment(state: &str, captured: i64, refunded: i64) -> Value {
        let m = |v: i64| json!({"value": v, "currency": "NOK"});
        json!({
            "reference": "r", "state": state, "amount": m(1000),
            "aggregate": {
                "authorizedAmount": m(1000), "capturedAmount": m(captured),
                "refundedAmount": m(refunded), "cancelledAmount": m(0)
            }
        })
    }

    /// One scenario's rows, the simulator's GET answering `sim`, the target's `target`.
    fn read_rows(sim: Value, target: Value) -> Vec<Difference> {
        let p = "/epayment/v1/payments";
        let a = vec![ex("1", "s", "GET", &format!("{p}/sim-1"), 200, sim)];
        let b = vec![ex("2", "s", "GET", &format!("{p}/tgt-1"), 200, target)];
        diff_scenario(
            &scenario(Verdict::Pass),
            &Trace::of(&a, "s"),
            &Trace::of(&b, "s"),
        )
    }

    #[test]
    fn a_captured_amount_the_target_reads_as_zero_is_a_difference_of_its_own() {
        let rows = read_rows(payment("AUTHORIZED", 1000, 0), payment("AUTHORIZED", 0, 0));
        assert_eq!(
            rows.len(),
            1,
            "one row per read, not one per reference too: {rows:?}"
        );
        assert_eq!(rows[0].kind, DiffKind::Amounts);
        assert_eq!(rows[0].operation, "GET /epayment/v1/payments/{ref1} #1");
        assert!(
            rows[0]
                .summary
                .contains("capturedAmount 1000 NOK on the simulator and 0 NOK on the target"),
            "{}",
            rows[0].summary
        );
        assert_eq!(rows[0].simulator["capturedAmount"]["value"], 1000);
        assert_eq!(rows[0].target["capturedAmount"]["value"], 0);
        assert_eq!(rows[0].class, Class::Unexpected);
    }

    #[test]
    fn every_aggregate_amount_and_the_state_are_compared_by_value() {
        let rows = read_rows(
            payment("AUTHORIZED", 1000, 500),
            payment("AUTHORIZED", 1000, 0),
        );
        assert_eq!(rows.len(), 1);
        assert!(
            rows[0].summary.contains("refundedAmount 500 NOK"),
            "{}",
            rows[0].summary
        );
        let rows = read_rows(payment("AUTHORIZED", 0, 0), payment("TERMINATED", 0, 0));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].kind, DiffKind::State);
        let mut eur = payment("AUTHORIZED", 0, 0);
        eur["aggregate"]["cancelledAmount"]["currency"] = json!("EUR");
        let rows = read_rows(payment("AUTHORIZED", 0, 0), eur);
        assert_eq!(rows[0].kind, DiffKind::Amounts);
        assert!(
            rows[0]
                .summary
                .contains("cancelledAmount 0 NOK on the simulator and 0 EUR"),
            "{}",
            rows[0].summary
        );
        assert!(read_rows(payment("AUTHORIZED", 7, 3), payment("AUTHORIZED", 7, 3)).is_empty());
    }

    #[test]
    fn the_last_reads_of_a_reference_are_compared_even_when_unpaired() {
        let p = "/epayment/v1/payments";
        let a = vec![
            ex(
                "1",
                "s",
                "GET",
                &format!("{p}/sim-1"),
                200,
                payment("AUTHORIZED", 0, 0),
            ),
            ex(
                "2",
                "s",
                "POST",
                &format!("{p}/sim-1/capture"),
                200,
                json!({}),
            ),
            ex(
                "3",
                "s",
                "GET",
                &format!("{p}/sim-1"),
                200,
                payment("AUTHORIZED", 1000, 0),
            ),
        ];
        let b = vec![ex(
            "4",
            "s",
            "GET",
            &format!("{p}/tgt-1"),
            200,
            payment("AUTHORIZED", 0, 0),
        )];
        let rows = diff_scenario(
            &scenario(Verdict::Pass),
            &Trace::of(&a, "s"),
            &Trace::of(&b, "s"),
        );
        assert!(
            rows.iter()
                .any(|d| d.kind == DiffKind::Amounts && d.operation == "{ref1}"),
            "{rows:?}"
        );
    }

    #[test]
    fn a_pass_against_a_fail_is_unexpected_whatever_the_allow_list_says() {
        let row = diff_verdict(&scenario(Verdict::Pass), &scenario(Verdict::Fail), false)
            .expect("a split verdict is a row even when the scenario was not compared");
        assert_eq!(row.kind, DiffKind::Verdict);
        assert_eq!(row.id, "s | scenario | verdict");
        let allow = AllowList::parse("s | *\n* | * | verdict\n").unwrap();
        let mut rows = vec![row];
        classify(&mut rows, &allow);
        assert_eq!(rows[0].class, Class::Unexpected);
        // A lesser split, on a compared scenario, the user may allow.
        let mut rows =
            vec![
                diff_verdict(&scenario(Verdict::Pass), &scenario(Verdict::Warning), true).unwrap(),
            ];
        classify(&mut rows, &allow);
        assert_eq!(rows[0].class, Class::Allowed);
        assert!(diff_verdict(&scenario(Verdict::Pass), &scenario(Verdict::Pass), true).is_none());
        assert!(
            diff_verdict(
                &scenario(Verdict::NotApplicable),
                &scenario(Verdict::Fail),
                false
            )
            .is_none(),
            "a scenario one side could not run is listed as not compared, not as a difference"
        );
    }

    #[test]
    fn a_split_verdict_alone_makes_the_comparison_unexpected() {
        let c = Comparison {
            schema_version: COMPARE_SCHEMA_VERSION,
            tool_version: String::new(),
            compare_id: String::new(),
            started_at: Utc::now(),
            finished_at: Utc::now(),
            simulator: Side {
                target: String::new(),
                base_url: String::new(),
                msn: String::new(),
                run_id: String::new(),
                folder: String::new(),
                exchanges: 0,
            },
            target: Side {
                target: String::new(),
                base_url: String::new(),
                msn: String::new(),
                run_id: String::new(),
                folder: String::new(),
                exchanges: 0,
            },
            counts: Counts::default(),
            scenarios: vec![ScenarioRow {
                name: "s".into(),
                checklist_ids: vec![],
                compared: true,
                reason: None,
                simulator_verdict: Verdict::Pass,
                target_verdict: Verdict::Fail,
                differences: 0,
            }],
            items: Vec::new(),
            differences: vec![],
            unused_allow_entries: vec![],
        };
        assert!(c.has_unexpected());
    }

    #[test]
    fn a_segment_is_replaced_never_a_substring() {
        assert_eq!(
            normal_path("/epayment/v1/payments/ab/events", Some((1, "ab"))),
            "/epayment/v1/payments/{ref1}/events"
        );
        assert_eq!(
            normal_path("/order-management/v2/ab-x", Some((1, "ab"))),
            "/order-management/v2/ab-x"
        );
    }
}

#[cfg(test)]
mod tests_compare;

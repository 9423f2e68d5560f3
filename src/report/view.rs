//! The report's view model: everything the templates show, computed here from
//! an [`Evidence`] so that the templates only place text (no logic, no
//! lookups). Nothing but this model reaches handlebars.
//!
//! The view is a pure function of the evidence (no clock, no environment), so
//! rendering the same `evidence.json` twice gives the same bytes and a
//! re-render does not disturb the folder's manifest.

pub(super) mod cards;
mod noise;
#[cfg(test)]
mod tests_cards;

pub use cards::CardView;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::checklist::{self, ChecklistId};
use crate::domain::exchange::Exchange;
use crate::domain::operation::path_of;
use crate::domain::text::escape_html_text;
use crate::evidence::model::{
    Aggregate, Evidence, InterruptedAttempt, ProblemRecord, ReferenceEvidence, RunKind,
    ScenarioResult, Severity, Verdict,
};

/// Bodies longer than this are cut in the HTML (the whole body stays in
/// `evidence.json`); keeps a run with uploaded images quick to open.
const BODY_LIMIT: usize = 16_000;

/// Above this many GETs a reference's polls are listed on one line, not in a table.
const POLL_ROWS: usize = 12;

/// The whole page.
#[derive(Debug, Serialize)]
pub struct ReportView {
    pub title: String,
    pub incomplete: bool,
    pub summary: Summary,
    pub run: RunView,
    pub golive: Option<GoLiveView>,
    pub areas: Vec<AreaView>,
    /// One proof card per checklist item, in checklist order.
    pub cards: Vec<CardView>,
    /// Where the cards' wording of each item comes from.
    pub wording_source: &'static str,
    pub problems: Vec<ProblemView>,
    pub findings: Vec<FindingView>,
    pub interrupted: Vec<InterruptedView>,
    pub references: Vec<ReferenceView>,
    pub scenarios: Vec<ScenarioView>,
    pub webhook_checks: Vec<WebhookCheckView>,
    pub other_exchanges: Vec<ExchangeView>,
    /// Exchanges in this report (evidence.json's).
    pub exchange_count: usize,
    /// When an audit or a pack kept only some of the traffic it judged
    /// (issue 24 point 7): how many it shows of how many.
    pub left_out: Option<LeftOut>,
    pub attestations: Vec<AttestationView>,
    /// What an audit or a pack read (evidence.json's `input`), one line each.
    pub input: Vec<String>,
}

/// "Can I send this?"
#[derive(Debug, Serialize)]
pub struct Summary {
    /// `ready`, `rehearsal`, `not-ready` or `incomplete`: the banner's colour.
    pub class: &'static str,
    pub headline: String,
    pub details: Vec<String>,
    pub counts: Vec<Count>,
}

#[derive(Debug, Serialize)]
pub struct Count {
    pub label: &'static str,
    pub class: &'static str,
    pub n: usize,
}

#[derive(Debug, Serialize)]
pub struct RunView {
    pub run_id: String,
    pub kind: &'static str,
    pub tool_version: String,
    pub target: String,
    pub base_url: String,
    pub msn: String,
    pub started_at: String,
    pub finished_at: String,
    pub duration: String,
    pub stale_after: String,
    pub tags: Option<String>,
    pub system: Option<String>,
    /// Whose traffic, against which target, in plain words.
    pub provenance: String,
    /// An audit: how many of vipps-golive's own exchanges were left out, said.
    pub harness_left_out: Option<String>,
    /// The one sentence that explains a virtual clock, when the run had one.
    pub clock_note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct GoLiveView {
    pub checklist_id: String,
    pub references: Vec<GoLiveRefView>,
    /// The block to paste into the go-live request (shown only when
    /// `sendable`).
    pub copy_text: String,
    pub complete: bool,
    /// Whether these are go-live references a merchant may send (see
    /// [`rehearsal`]); when not, `note` says whose they are instead.
    pub sendable: bool,
    pub note: String,
    /// The section's heading after the checklist ID.
    pub heading: &'static str,
}

#[derive(Debug, Serialize)]
pub struct GoLiveRefView {
    pub outcome: String,
    pub reference: Option<String>,
    pub anchor: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AreaView {
    pub title: &'static str,
    pub items: Vec<ItemView>,
}

#[derive(Debug, Serialize)]
pub struct ItemView {
    pub id: String,
    pub anchor: String,
    /// Its proof card.
    pub proof_anchor: String,
    pub title: String,
    /// The item as the checklist words it.
    pub wording: Vec<cards::Words>,
    pub proof: String,
    pub verdict: &'static str,
    pub verdict_class: &'static str,
    pub reason: Option<String>,
    pub scenarios: Vec<ScenarioLink>,
    pub references: Vec<RefLink>,
    pub attestation: Option<String>,
    pub findings: Vec<FindingView>,
}

#[derive(Debug, Serialize)]
pub struct ScenarioLink {
    pub name: String,
    pub verdict: &'static str,
    pub verdict_class: &'static str,
    pub anchor: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RefLink {
    pub reference: String,
    pub anchor: String,
    /// Final state, as a hint beside the link.
    pub state: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ReferenceView {
    pub reference: String,
    pub anchor: String,
    pub msn: String,
    pub scenario: Option<String>,
    pub checklist_ids: Vec<String>,
    pub state: Option<String>,
    /// The adjustment the reference ended with (CAPTURED, REFUNDED, ...).
    pub ending: Option<String>,
    pub aggregate: Option<AggregateView>,
    pub events: Vec<EventView>,
    /// One table row per GET (when few).
    pub polls: Vec<PollView>,
    /// Timeline dots for every GET.
    pub poll_dots: Vec<String>,
    /// Every GET as one line of text, when there are too many for a table.
    pub polls_inline: Option<String>,
    pub poll_summary: Option<String>,
    pub webhooks: Vec<WebhookView>,
    pub problems: Vec<ProblemView>,
    pub interrupted: Vec<InterruptedView>,
    pub exchanges: Vec<ExchangeView>,
}

#[derive(Debug, Serialize)]
pub struct AggregateView {
    pub authorized: String,
    pub captured: String,
    pub refunded: String,
    pub cancelled: String,
}

#[derive(Debug, Serialize)]
pub struct EventView {
    pub name: String,
    pub amount: String,
    pub time: String,
    pub offset: String,
    pub psp_reference: Option<String>,
    pub idempotency_key: Option<String>,
    pub success: bool,
    /// Position on the timeline bar, 0..=100.
    pub left: String,
}

#[derive(Debug, Serialize)]
pub struct PollView {
    pub n: usize,
    pub time: String,
    pub offset: String,
    pub gap: Option<String>,
    pub left: String,
}

#[derive(Debug, Serialize)]
pub struct WebhookView {
    pub received_at: String,
    pub event_name: String,
    pub signature_valid: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProblemView {
    pub reference: Option<String>,
    pub reference_anchor: Option<String>,
    pub exchange_id: String,
    pub exchange_anchor: String,
    pub status: u16,
    pub title: String,
    pub detail: Option<String>,
    pub trace_id: Option<String>,
    pub error_code: Option<String>,
    pub explanation: String,
    /// The scenario that provoked this error on purpose (its steps expected
    /// the refusal, and it came): the report labels it "expected".
    pub expected: Option<String>,
    /// How many identical answers this row stands for (issue 24 point 6).
    pub count: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingView {
    pub checklist_id: String,
    pub rule: String,
    pub severity: &'static str,
    pub message: String,
    pub advice: String,
    pub exchange_anchor: Option<String>,
    pub exchange_label: Option<String>,
    /// How many identical findings this row stands for; the link is to the first.
    pub count: usize,
}

#[derive(Debug, Serialize)]
pub struct InterruptedView {
    pub id: String,
    pub started_at: String,
    pub method: String,
    pub url: String,
    pub reference: Option<String>,
    pub reference_anchor: Option<String>,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ScenarioView {
    pub name: String,
    pub anchor: String,
    pub feature: String,
    pub tags: String,
    pub verdict: &'static str,
    pub verdict_class: &'static str,
    pub reason: Option<String>,
    pub references: Vec<RefLink>,
    pub duration: String,
    pub steps: Vec<StepView>,
}

#[derive(Debug, Serialize)]
pub struct StepView {
    pub keyword: String,
    pub text: String,
    pub outcome: &'static str,
    pub message: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct WebhookCheckView {
    pub case: String,
    pub expected: String,
    pub status: String,
    pub verdict: &'static str,
    pub verdict_class: &'static str,
    pub explanation: String,
    /// Anchors of the exchanges that carried the probe.
    pub exchanges: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct AttestationView {
    pub checklist_id: String,
    pub by: String,
    pub at: String,
}

#[derive(Debug, Serialize)]
pub struct ExchangeView {
    pub id: String,
    pub anchor: String,
    pub method: String,
    pub url: String,
    pub path: String,
    pub status: String,
    pub status_class: &'static str,
    pub started_at: String,
    pub duration_ms: u64,
    pub attempt: u32,
    /// The request as text (line, headers, body), already HTML-escaped for
    /// element content (`&`, `<`, `>` only): placed with `{{{ }}}` inside
    /// `<pre>`, never in an attribute. Escaping the bodies' many quotes as
    /// handlebars does would grow a 5 000-exchange report by a fifth.
    pub request_html: String,
    /// The response as text, escaped the same way.
    pub response_html: String,
    pub error: Option<String>,
    pub checklist_ids: String,
    /// What sent it, when not an API call: `webhooks-check: <probe>`.
    pub label: Option<String>,
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn time_ms(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string()
}

fn seconds(ms: i64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// `N min S s` for whole runs.
fn duration(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let ms = (to - from).num_milliseconds().max(0);
    if ms < 60_000 {
        seconds(ms)
    } else {
        format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

/// Minor units as `NOK 249.00`: the domain's formatting, one for every room.
pub use crate::domain::amount::money;

/// An id usable in `href="#..."` (references match `[a-zA-Z0-9-]` already;
/// anything else is replaced so a hostile value cannot break the attribute).
pub fn anchor(prefix: &str, id: &str) -> String {
    let clean: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{prefix}-{clean}")
}

pub(crate) fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Warning => "warning",
        Verdict::Inconclusive => "inconclusive",
        Verdict::PartlyProven => "partly",
        Verdict::NotApplicable => "na",
        Verdict::NeedsAttestation => "attest",
        Verdict::Attested => "attested",
        Verdict::NotRun => "notrun",
    }
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Fail => "fail",
    }
}

fn percent(at: DateTime<Utc>, from: DateTime<Utc>, span_ms: i64) -> String {
    if span_ms <= 0 {
        return "0".into();
    }
    let p = (at - from).num_milliseconds() as f64 * 100.0 / span_ms as f64;
    format!("{:.2}", p.clamp(0.0, 100.0))
}

fn headers_text(headers: &[(String, String)]) -> String {
    let mut out = String::new();
    for (name, value) in headers {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push('\n');
    }
    out
}

fn body_text(body: &serde_json::Value) -> String {
    let text = match body {
        serde_json::Value::Null => return String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    };
    if text.len() <= BODY_LIMIT {
        return text;
    }
    let mut cut = BODY_LIMIT;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{}\n… {} more bytes, in evidence.json",
        &text[..cut],
        text.len() - cut
    )
}

/// A message as text: its first line, headers, a blank line and the body.
fn message_text(first: &str, headers: &[(String, String)], body: &serde_json::Value) -> String {
    let mut out = format!("{first}\n{}", headers_text(headers));
    let body = body_text(body);
    if !body.is_empty() {
        out.push('\n');
        out.push_str(&body);
    }
    out
}

fn exchange_view(e: &Exchange) -> ExchangeView {
    let (status, status_class) = match e.status {
        Some(s) if s < 300 => (s.to_string(), "ok"),
        Some(s) if s < 400 => (s.to_string(), "redirect"),
        Some(s) => (s.to_string(), "error"),
        None => ("no answer".to_owned(), "error"),
    };
    ExchangeView {
        id: e.id.clone(),
        anchor: anchor("ex", &e.id),
        method: e.method.clone(),
        path: path_of(&e.url).to_owned(),
        url: e.url.clone(),
        status,
        status_class,
        started_at: time_ms(e.started_at),
        duration_ms: e.duration_ms,
        attempt: e.attempt,
        request_html: escape_html_text(&message_text(
            &format!("{} {}", e.method, path_of(&e.url)),
            &e.request_headers,
            &e.request_body,
        )),
        response_html: escape_html_text(&message_text(
            &match e.status {
                Some(s) => format!("HTTP {s}"),
                None => "no response".to_owned(),
            },
            &e.response_headers,
            &e.response_body,
        )),
        error: e.error.clone(),
        checklist_ids: e.checklist_ids.join(" "),
        label: e.kind.as_ref().map(|kind| match &e.scenario {
            Some(s) => s.clone(),
            None => kind.clone(),
        }),
    }
}

fn problem_view(p: &ProblemRecord, reference: Option<&str>, index: &Index<'_>) -> ProblemView {
    ProblemView {
        reference: reference.map(str::to_owned),
        reference_anchor: reference.map(|r| anchor("ref", r)),
        exchange_id: p.exchange_id.clone(),
        exchange_anchor: anchor("ex", &p.exchange_id),
        status: p.status,
        title: p.title.clone(),
        detail: p.detail.clone(),
        trace_id: p.trace_id.clone(),
        error_code: p.error_code.clone(),
        explanation: p.explanation.clone(),
        expected: noise::provoked_by(index, &p.exchange_id),
        count: 1,
    }
}

fn interrupted_view(a: &InterruptedAttempt, known: &HashSet<&str>) -> InterruptedView {
    InterruptedView {
        id: a.id.clone(),
        started_at: time_ms(a.started_at),
        method: a.method.clone(),
        url: a.url.clone(),
        reference: a.reference.clone(),
        reference_anchor: a
            .reference
            .as_deref()
            .filter(|r| known.contains(r))
            .map(|r| anchor("ref", r)),
        idempotency_key: a.idempotency_key.clone(),
    }
}

fn aggregate_view(a: &Aggregate) -> AggregateView {
    AggregateView {
        authorized: money(&a.currency, a.authorized),
        captured: money(&a.currency, a.captured),
        refunded: money(&a.currency, a.refunded),
        cancelled: money(&a.currency, a.cancelled),
    }
}

/// Builds the page's model from the evidence alone.
pub fn build(evidence: &Evidence) -> ReportView {
    let index = Index::of(evidence);
    let findings = findings(evidence);
    let areas = areas(evidence, &index, &findings);
    let cards = cards::cards(evidence, &index);
    let (references, problems, in_reference) = references(evidence, &index);
    let other_exchanges: Vec<ExchangeView> = evidence
        .exchanges
        .iter()
        .filter(|e| !in_reference.contains(e.id.as_str()))
        .map(exchange_view)
        .collect();
    let summary = summary(evidence);
    let sendable = sendable(evidence, &summary);
    ReportView {
        title: title(evidence),
        incomplete: !evidence.complete,
        run: run_view(evidence),
        golive: golive_view(evidence, &index.known_refs, sendable),
        summary,
        input: evidence
            .input
            .as_ref()
            .map(|i| {
                let kept = left_out(evidence).map_or(evidence.exchanges.len(), |l| l.shown);
                input_notes(i, evidence.run.harness_left_out, kept)
            })
            .unwrap_or_default(),
        areas,
        cards,
        wording_source: checklist::WORDING_SOURCE,
        problems,
        findings,
        interrupted: evidence
            .interrupted
            .iter()
            .map(|a| interrupted_view(a, &index.known_refs))
            .collect(),
        references,
        scenarios: evidence
            .scenarios
            .iter()
            .map(|s| scenario_view(s, &index))
            .collect(),
        webhook_checks: evidence
            .webhook_checks
            .iter()
            .map(|w| WebhookCheckView {
                case: w.case.clone(),
                expected: w.expected.clone().unwrap_or_else(|| {
                    if w.expected_accept {
                        "accept (2xx)"
                    } else {
                        "reject"
                    }
                    .to_owned()
                }),
                exchanges: w.exchanges.iter().map(|id| anchor("ex", id)).collect(),
                status: w
                    .status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "no answer".into()),
                verdict: w.verdict.label(),
                verdict_class: verdict_class(w.verdict),
                explanation: w.explanation.clone(),
            })
            .collect(),
        other_exchanges,
        exchange_count: evidence.exchanges.len(),
        left_out: left_out(evidence),
        attestations: evidence
            .attestations
            .iter()
            .map(|a| AttestationView {
                checklist_id: a.checklist_id.clone(),
                by: a.by.clone(),
                at: time(a.at),
            })
            .collect(),
    }
}

/// "N of M exchanges shown; all M in journal.jsonl".
#[derive(Debug, Serialize)]
pub struct LeftOut {
    /// Exchanges of the judged traffic in this report (N).
    pub shown: usize,
    /// Exchanges judged, every one in journal.jsonl (M).
    pub judged: u64,
    /// Exchanges in this report that vipps-golive sent itself (a pack's
    /// read-back and webhook probes): not part of the traffic judged.
    pub own: usize,
}

/// How many of the judged traffic's exchanges evidence.json keeps, when an
/// audit or a pack kept only some; `None` when it keeps every one.
fn left_out(evidence: &Evidence) -> Option<LeftOut> {
    let input = evidence.input.as_ref().filter(|i| !i.all_exchanges)?;
    let own = evidence
        .exchanges
        .iter()
        .filter(|e| {
            e.kind.is_some()
                || crate::domain::exchange::is_harness_request(
                    e.request_headers
                        .iter()
                        .map(|(n, v)| (n.as_str(), v.as_str())),
                )
        })
        .count();
    Some(LeftOut {
        shown: evidence.exchanges.len() - own,
        judged: input.judged,
        own,
    })
}

/// The evidence's lookups: exchanges by id, the references it knows and
/// the state each was last read in, scenarios by name.
struct Index<'e> {
    exchanges_by_id: HashMap<&'e str, &'e Exchange>,
    known_refs: HashSet<&'e str>,
    states: HashMap<&'e str, Option<&'e str>>,
    scenario_by_name: HashMap<&'e str, &'e ScenarioResult>,
}

impl<'e> Index<'e> {
    fn of(evidence: &'e Evidence) -> Index<'e> {
        Index {
            exchanges_by_id: evidence
                .exchanges
                .iter()
                .map(|e| (e.id.as_str(), e))
                .collect(),
            known_refs: evidence
                .references
                .iter()
                .map(|r| r.reference.as_str())
                .collect(),
            states: evidence
                .references
                .iter()
                .map(|r| (r.reference.as_str(), r.state.as_deref()))
                .collect(),
            scenario_by_name: evidence
                .scenarios
                .iter()
                .map(|s| (s.name.as_str(), s))
                .collect(),
        }
    }

    /// A link to a reference's section, with the state it was last read in.
    fn ref_link(&self, r: &str) -> RefLink {
        RefLink {
            reference: r.to_owned(),
            anchor: anchor("ref", r),
            state: self.states.get(r).copied().flatten().map(str::to_owned),
        }
    }
}

fn findings(evidence: &Evidence) -> Vec<FindingView> {
    let views = evidence
        .findings
        .iter()
        .map(|f| FindingView {
            checklist_id: f.checklist_id.clone(),
            rule: f.rule.clone(),
            severity: severity(f.severity),
            message: f.message.clone(),
            advice: f.advice.clone(),
            exchange_anchor: f.exchange.as_ref().map(|x| anchor("ex", &x.id)),
            exchange_label: f
                .exchange
                .as_ref()
                .map(|x| format!("{} {} at {}", x.method, x.path, time_ms(x.time))),
            count: 1,
        })
        .collect();
    noise::group_findings(views)
}

/// The checklist rows, grouped by area. Rows in checklist order whatever
/// order the producer wrote them in; an ID the catalogue does not know goes
/// last, under its own heading.
fn areas(evidence: &Evidence, index: &Index<'_>, findings: &[FindingView]) -> Vec<AreaView> {
    let mut items: Vec<_> = evidence.items.iter().collect();
    items.sort_by_key(|i| checklist::order(&i.id));
    let mut areas: Vec<AreaView> = Vec::new();
    for item in items {
        let catalogue = checklist::find(&item.id);
        let area_title = catalogue.map(|c| c.area.title()).unwrap_or("Other");
        let view = ItemView {
            id: item.id.clone(),
            anchor: anchor("item", &item.id),
            proof_anchor: anchor("proof", &item.id),
            title: item.title.clone(),
            wording: cards::words(catalogue.map_or(item.title.as_str(), |c| c.wording)),
            proof: catalogue.map(|c| c.proof.to_owned()).unwrap_or_default(),
            verdict: item.verdict.label(),
            verdict_class: verdict_class(item.verdict),
            reason: item.reason.clone().or_else(|| {
                (item.verdict == Verdict::NeedsAttestation && item.attestation.is_none()).then(
                    || {
                        format!(
                            "not attested yet: a person checks it and the run records who and when (`--attest {}=\"Name, role\"`)",
                            item.id
                        )
                    },
                )
            }),
            scenarios: item
                .scenarios
                .iter()
                .map(|name| {
                    let s = index.scenario_by_name.get(name.as_str());
                    ScenarioLink {
                        name: name.clone(),
                        verdict: s.map(|s| s.verdict.label()).unwrap_or(""),
                        verdict_class: s.map(|s| verdict_class(s.verdict)).unwrap_or(""),
                        anchor: s.map(|s| anchor("sc", &s.name)),
                    }
                })
                .collect(),
            references: item.references.iter().map(|r| index.ref_link(r)).collect(),
            // Who and when, unless the reason already says it (the judge
            // writes it into an ATTESTED item's reason for the terminal).
            attestation: item
                .attestation
                .as_ref()
                .filter(|a| !item.reason.as_deref().is_some_and(|r| r.contains(&a.by)))
                .map(|a| format!("attested by {} on {}", a.by, time(a.at))),
            findings: findings
                .iter()
                .filter(|f| f.checklist_id == item.id)
                .cloned()
                .collect(),
        };
        match areas.last_mut() {
            Some(a) if a.title == area_title => a.items.push(view),
            _ => areas.push(AreaView {
                title: area_title,
                items: vec![view],
            }),
        }
    }
    areas
}

/// Each reference's section; every problem the API answered, in reference
/// order; and the ids of the exchanges shown under a reference (the rest
/// are listed apart).
fn references<'e>(
    evidence: &'e Evidence,
    index: &Index<'e>,
) -> (Vec<ReferenceView>, Vec<ProblemView>, HashSet<&'e str>) {
    let mut in_reference: HashSet<&str> = HashSet::new();
    let mut problems = Vec::new();
    let mut references = Vec::new();
    for r in &evidence.references {
        let exchanges: Vec<&Exchange> = r
            .exchange_ids
            .iter()
            .filter_map(|id| index.exchanges_by_id.get(id.as_str()).copied())
            .collect();
        in_reference.extend(r.exchange_ids.iter().map(String::as_str));
        let answered: Vec<ProblemView> = r
            .problems
            .iter()
            .map(|p| problem_view(p, Some(&r.reference), index))
            .collect();
        problems.extend(answered.iter().cloned());
        references.push(reference_view(
            evidence,
            r,
            exchanges,
            answered,
            &index.known_refs,
        ));
    }
    (references, noise::group_problems(problems), in_reference)
}

/// One reference's section: what the API last said of it, its timelines
/// (events and polls on one origin), its problems and its exchanges.
fn reference_view(
    evidence: &Evidence,
    r: &ReferenceEvidence,
    exchanges: Vec<&Exchange>,
    problems: Vec<ProblemView>,
    known_refs: &HashSet<&str>,
) -> ReferenceView {
    // The timelines share one origin: the first thing known of the reference.
    let times = || {
        exchanges
            .iter()
            .map(|e| e.started_at)
            .chain(r.events.iter().map(|e| e.timestamp))
            .chain(r.polls.iter().copied())
    };
    let (origin, span) = match (times().min(), times().max()) {
        (Some(o), Some(e)) => (o, (e - o).num_milliseconds()),
        _ => (evidence.run.started_at, 0),
    };
    let offset = |t: DateTime<Utc>| format!("+{}", seconds((t - origin).num_milliseconds()));
    let events = r
        .events
        .iter()
        .map(|e| EventView {
            name: e.name.clone(),
            amount: money(&e.currency, e.amount),
            time: time_ms(e.timestamp),
            offset: offset(e.timestamp),
            psp_reference: e.psp_reference.clone(),
            idempotency_key: e.idempotency_key.clone(),
            success: e.success,
            left: percent(e.timestamp, origin, span),
        })
        .collect();
    let polls = Polls::of(&r.polls, origin, span);
    let ending = r
        .events
        .iter()
        .rev()
        .find(|e| e.success)
        .map(|e| e.name.clone());
    ReferenceView {
        reference: r.reference.clone(),
        anchor: anchor("ref", &r.reference),
        msn: r.msn.clone(),
        scenario: r.scenario.clone(),
        checklist_ids: r.checklist_ids.clone(),
        state: r.state.clone(),
        ending,
        aggregate: r.aggregate.as_ref().map(aggregate_view),
        events,
        polls: polls.rows,
        poll_dots: polls.dots,
        polls_inline: polls.inline,
        poll_summary: polls.summary,
        webhooks: r
            .webhooks
            .iter()
            .map(|w| WebhookView {
                received_at: time_ms(w.received_at),
                event_name: w.event_name.clone(),
                signature_valid: w.signature_valid,
            })
            .collect(),
        problems: noise::group_problems(problems),
        interrupted: evidence
            .interrupted
            .iter()
            .filter(|a| a.reference.as_deref() == Some(r.reference.as_str()))
            .map(|a| interrupted_view(a, known_refs))
            .collect(),
        exchanges: exchanges.into_iter().map(exchange_view).collect(),
    }
}

/// A reference's polls as the page shows them.
struct Polls {
    /// A row each (none when there are many: see `inline`).
    rows: Vec<PollView>,
    /// Where each poll sits on the timeline.
    dots: Vec<String>,
    /// Many polls as one line instead of rows.
    inline: Option<String>,
    /// How many, when the first, how often.
    summary: Option<String>,
}

impl Polls {
    fn of(polls: &[DateTime<Utc>], origin: DateTime<Utc>, span: i64) -> Polls {
        let offset = |t: DateTime<Utc>| format!("+{}", seconds((t - origin).num_milliseconds()));
        let rows: Vec<PollView> = polls
            .iter()
            .enumerate()
            .map(|(i, t)| PollView {
                n: i + 1,
                time: time_ms(*t),
                offset: offset(*t),
                gap: (i > 0).then(|| seconds((*t - polls[i - 1]).num_milliseconds())),
                left: percent(*t, origin, span),
            })
            .collect();
        // A payment polled to expiry has ~300 GETs: a table row each would be
        // most of a large report's layout work, so many polls become one line.
        let dots = rows.iter().map(|p| p.left.clone()).collect();
        let (rows, inline) = if rows.len() > POLL_ROWS {
            let line = rows
                .iter()
                .map(|p| format!("{}. {}", p.n, p.offset))
                .collect::<Vec<_>>()
                .join(" · ");
            (Vec::new(), Some(line))
        } else {
            (rows, None)
        };
        let summary = match (polls.first(), polls.last()) {
            (Some(first), Some(last)) if polls.len() > 1 => Some(format!(
                "{} GETs; the first {} after the first request, then on average every {}",
                polls.len(),
                seconds((*first - origin).num_milliseconds()),
                seconds((*last - *first).num_milliseconds() / (polls.len() as i64 - 1)),
            )),
            (Some(first), _) => Some(format!(
                "1 GET, {} after the first request",
                seconds((*first - origin).num_milliseconds())
            )),
            _ => None,
        };
        Polls {
            rows,
            dots,
            inline,
            summary,
        }
    }
}

/// Why the go-live references of `evidence` are not ones to send, or `None`
/// when they are: only references the shop's own system made, read back live
/// from the real Vipps test environment or production (`verify --env test`
/// or `--env production`), are go-live evidence (issue 20). The references a
/// `run` keeps are vipps-golive's own, whatever the target.
pub fn rehearsal(evidence: &Evidence) -> Option<String> {
    let target = evidence.run.target.as_str();
    let live = matches!(target, "test" | "production");
    let prove = "Prove the shop's own references with `vipps-golive verify --env test REF...`.";
    match evidence.kind {
        RunKind::Verify if live => None,
        RunKind::Verify => Some(format!(
            "These references were read from {}, not from Vipps: not go-live evidence. Read them back with --env test or --env production.",
            evidence.run.base_url
        )),
        RunKind::Run if target == "simulator" => Some(format!(
            "Made by vipps-golive's own client; they exist only in the simulator. Not go-live references. {prove}"
        )),
        RunKind::Run if live => Some(format!(
            "Made by vipps-golive's own client on the Vipps {target} environment: a rehearsal of the path, not the shop's own references. {prove}"
        )),
        RunKind::Run => Some(format!(
            "Made by vipps-golive's own client against {}: not go-live references. {prove}",
            evidence.run.base_url
        )),
        RunKind::Audit => Some(
            "An audit judges the shop's recorded traffic; it offers no go-live references.".into(),
        ),
        RunKind::Pack if live => None,
        RunKind::Pack => Some(format!(
            "The shop's references were read back from {}, not from Vipps: a rehearsal, not go-live evidence. Record the shop's traffic through the proxy to the test environment (`simulator --env test --journal FILE`) and pack it with --env test.",
            evidence.run.base_url
        )),
    }
}

/// Whether the copy box of go-live references is shown: for a pack only
/// under READY TO SEND (issue 21), for the others when the references are
/// the shop's, read back live ([`rehearsal`]).
fn sendable(evidence: &Evidence, summary: &Summary) -> bool {
    match evidence.kind {
        RunKind::Pack => summary.class == "ready",
        _ => rehearsal(evidence).is_none(),
    }
}

/// The page's title: a pack is headed by the shop it speaks of.
fn title(evidence: &Evidence) -> String {
    let run = &evidence.run;
    if evidence.kind != RunKind::Pack {
        return format!("vipps-golive evidence: run {}", run.run_id);
    }
    let shop = match (&run.system_name, &run.system_version) {
        (Some(n), Some(v)) => format!("{n} {v}"),
        (Some(n), None) => n.clone(),
        _ => "(Vipps-System-Name not sent)".to_owned(),
    };
    format!("Go-live pack: {shop}, MSN {} ({})", run.msn, run.run_id)
}

/// What an audit or a pack read, one sentence each, as the report's "what
/// was read" section and the audit's stderr say it.
pub fn input_notes(
    input: &crate::evidence::model::InputRead,
    left_out: Option<u64>,
    kept: usize,
) -> Vec<String> {
    let mut notes: Vec<String> = input
        .sources
        .iter()
        .map(|s| {
            format!(
                "read {} `{}`: {} bytes, SHA-256 {}",
                s.kind, s.location, s.bytes, s.sha256
            )
        })
        .collect();
    notes.push(format!(
        "{} line(s) read, {} exchange(s) judged",
        input.lines, input.judged
    ));
    if let Some(n) = left_out.filter(|n| *n > 0) {
        notes.push(harness_left_out(n));
    }
    if input.filtered_out > 0 || input.since.is_some() || input.msn.is_some() {
        notes.push(format!(
            "{} exchange(s) left out by the filters{}{}",
            input.filtered_out,
            input
                .since
                .map(|s| format!(" (since {})", s.to_rfc3339()))
                .unwrap_or_default(),
            input
                .msn
                .as_ref()
                .map(|m| format!(
                    " (MSN {m}; requests without a Merchant-Serial-Number are left out too)"
                ))
                .unwrap_or_default(),
        ));
    }
    if input.other_kinds > 0 {
        notes.push(format!(
            "{} line(s) of another kind (e.g. write-ahead attempts) skipped",
            input.other_kinds
        ));
    }
    for b in &input.bad_lines {
        notes.push(format!("line {} skipped: {}", b.line, b.reason));
    }
    if input.bad_line_count > input.bad_lines.len() as u64 {
        notes.push(format!(
            "{} more unreadable line(s) skipped",
            input.bad_line_count - input.bad_lines.len() as u64
        ));
    }
    if !input.all_exchanges {
        notes.push(format!("evidence.json carries {kept} of the {} exchanges judged: the first of each kind that decided an item (a create, a capture, an error answer, ...) and those behind findings; all {} are in journal.jsonl", input.judged, input.judged));
    }
    notes
}

/// The go-live references and the text a person copies into the request.
fn golive_view(
    evidence: &Evidence,
    known_refs: &HashSet<&str>,
    sendable: bool,
) -> Option<GoLiveView> {
    let note = rehearsal(evidence).or_else(|| {
        (!sendable).then(|| "Not ready to send: see the headline for what to fix first.".to_owned())
    });
    let heading = match (sendable, evidence.kind) {
        (true, _) => "references",
        (false, RunKind::Pack | RunKind::Verify | RunKind::Audit) => {
            "references: not to be sent yet"
        }
        (false, RunKind::Run) => "rehearsal: references made by vipps-golive, not go-live evidence",
    };
    evidence.golive.as_ref().map(|g| {
        let mut copy_text = format!("{} (MSN {})\n", g.checklist_id, evidence.run.msn);
        for r in &g.references {
            copy_text.push_str(&format!(
                "{}: {}\n",
                r.outcome,
                r.reference.as_deref().unwrap_or("(none)")
            ));
        }
        GoLiveView {
            checklist_id: g.checklist_id.clone(),
            complete: g.references.iter().all(|r| r.reference.is_some()),
            references: g
                .references
                .iter()
                .map(|r| GoLiveRefView {
                    outcome: r.outcome.clone(),
                    reference: r.reference.clone(),
                    anchor: r
                        .reference
                        .as_deref()
                        .filter(|x| known_refs.contains(x))
                        .map(|x| anchor("ref", x)),
                })
                .collect(),
            copy_text,
            sendable,
            heading,
            note: note.clone().unwrap_or_default(),
        }
    })
}

/// Whose traffic a folder judges and against what, in plain words, from
/// evidence.json; a folder written before this was recorded gets it from its
/// kind and target the same way the builder would have.
pub fn provenance(evidence: &Evidence) -> String {
    let run = &evidence.run;
    let traffic = run
        .traffic
        .clone()
        .unwrap_or_else(|| crate::evidence::run::traffic(evidence.kind).into());
    let class = run.target_class.clone().unwrap_or_else(|| {
        crate::evidence::run::target_class(evidence.kind, &run.target, &run.base_url).into()
    });
    format!("{traffic}, against {class}")
}

/// Why the exchanges' times run past the run's end, when they are on a
/// virtual clock (issue 20 point 10): one sentence, with the span on it.
pub fn clock_note(evidence: &Evidence) -> Option<String> {
    let span = evidence.run.virtual_span.as_ref()?;
    Some(format!(
        "Requests are dated on the simulator's virtual clock, which waits (polling, payment expiry) move forward instead of passing, so this {} run spans {} on it ({} to {}).",
        duration(evidence.run.started_at, evidence.run.finished_at),
        duration(span.started_at, span.finished_at),
        time(span.started_at),
        time(span.finished_at)
    ))
}

fn run_view(evidence: &Evidence) -> RunView {
    RunView {
        provenance: provenance(evidence),
        clock_note: clock_note(evidence),
        run_id: evidence.run.run_id.clone(),
        kind: match evidence.kind {
            RunKind::Run => "run",
            RunKind::Verify => "verify",
            RunKind::Audit => "audit",
            RunKind::Pack => "pack",
        },
        tool_version: evidence.run.tool_version.clone(),
        target: evidence.run.target.clone(),
        base_url: evidence.run.base_url.clone(),
        msn: evidence.run.msn.clone(),
        started_at: time(evidence.run.started_at),
        finished_at: time(evidence.run.finished_at),
        // A run that stopped ends, as far as its journal knows, with the
        // last line it wrote: it ran at least that long.
        duration: match evidence.complete {
            true => duration(evidence.run.started_at, evidence.run.finished_at),
            false => format!(
                "at least {}, until the last line of its journal",
                duration(evidence.run.started_at, evidence.run.finished_at)
            ),
        },
        stale_after: time(evidence.run.stale_after),
        tags: evidence.run.tags.clone(),
        system: match (&evidence.run.system_name, &evidence.run.system_version) {
            (Some(n), Some(v)) => Some(format!("{n} {v}")),
            (Some(n), None) => Some(n.clone()),
            _ => None,
        },
        harness_left_out: evidence.run.harness_left_out.map(harness_left_out),
    }
}

/// The sentence for [`crate::evidence::model::RunInfo::harness_left_out`]: said even when none, so a
/// reader knows the audit looked.
pub fn harness_left_out(n: u64) -> String {
    format!(
        "{n} exchange(s) sent by vipps-golive itself (x-vipps-golive-run header or its User-Agent) left out: the tool's own requests are never the shop's traffic"
    )
}

fn scenario_view(s: &ScenarioResult, index: &Index<'_>) -> ScenarioView {
    ScenarioView {
        name: s.name.clone(),
        anchor: anchor("sc", &s.name),
        feature: s.feature.clone(),
        tags: s
            .tags
            .iter()
            .map(|t| format!("@{t}"))
            .collect::<Vec<_>>()
            .join(" "),
        verdict: s.verdict.label(),
        verdict_class: verdict_class(s.verdict),
        reason: s.reason.clone(),
        references: s.references.iter().map(|r| index.ref_link(r)).collect(),
        duration: duration(s.started_at, s.finished_at),
        steps: s
            .steps
            .iter()
            .map(|st| StepView {
                keyword: st.keyword.clone(),
                text: st.text.clone(),
                outcome: match st.outcome {
                    crate::evidence::model::StepOutcome::Passed => "passed",
                    crate::evidence::model::StepOutcome::Failed
                    | crate::evidence::model::StepOutcome::Undefined => "failed",
                    crate::evidence::model::StepOutcome::Skipped => "skipped",
                },
                message: st.message.clone(),
            })
            .collect(),
    }
}

/// The headline of a pack (issue 21 point 4): READY TO SEND only when every
/// required item passed or was attested and the shop's references were read
/// back live from Vipps; REHEARSAL PASSED when the same holds against a
/// simulator; NOT READY otherwise, with what to fix.
fn pack_headline(
    evidence: &Evidence,
    attest: &[&str],
    golive_missing: &[String],
) -> (&'static str, String) {
    // Passed, attested, warned (said on its row) or not applicable: nothing
    // to fix. Anything else (failed, inconclusive, partly proven, not run)
    // is, with its reason.
    let settled = |v: Verdict| {
        matches!(
            v,
            Verdict::Pass
                | Verdict::Attested
                | Verdict::Warning
                | Verdict::NotApplicable
                | Verdict::NeedsAttestation
        )
    };
    let mut fix: Vec<String> = evidence
        .items
        .iter()
        .filter(|i| !settled(i.verdict))
        .map(|i| {
            let what = match i.verdict {
                Verdict::Fail => String::new(),
                v => format!("{}: ", v.label()),
            };
            match &i.reason {
                Some(why) => format!("{} ({what}{why})", i.id),
                None => format!("{} ({})", i.id, i.verdict.label()),
            }
        })
        .collect();
    if !attest.is_empty() {
        fix.push(format!(
            "a person attests {} (`--attest ID=\"Name, role\"`)",
            attest.join(", ")
        ));
    }
    if evidence.golive.is_none() {
        fix.push("no go-live references were read back".to_owned());
    } else if !golive_missing.is_empty() && !fix.iter().any(|f| f.starts_with("GL-")) {
        fix.push(format!("no reference ending {}", golive_missing.join(", ")));
    }
    if !fix.is_empty() {
        return ("not-ready", format!("NOT READY: fix {}.", fix.join("; ")));
    }
    let id = evidence
        .golive
        .as_ref()
        .map_or(ChecklistId::GlTest.as_str(), |g| g.checklist_id.as_str());
    match rehearsal(evidence) {
        Some(why) => (
            "rehearsal",
            format!("REHEARSAL PASSED: every required item passed or was attested. {why}"),
        ),
        None => (
            "ready",
            format!("READY TO SEND: the {id} references below, with this folder."),
        ),
    }
}

/// The IDs of the items with verdict `v`, in the evidence's order.
fn ids_with(evidence: &Evidence, v: Verdict) -> Vec<&str> {
    evidence
        .items
        .iter()
        .filter(|i| i.verdict == v)
        .map(|i| i.id.as_str())
        .collect()
}

/// How many items have each verdict: the five every report has always
/// counted, then the others only where some item has them (a report with no
/// INCONCLUSIVE item need not say so).
fn counts(evidence: &Evidence) -> Vec<Count> {
    let count = |v: Verdict| evidence.items.iter().filter(|i| i.verdict == v).count();
    let always = [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::Warning,
        Verdict::NotApplicable,
        Verdict::NeedsAttestation,
    ];
    Verdict::ALL
        .into_iter()
        .filter(|v| always.contains(v) || count(*v) > 0)
        .map(|v| Count {
            label: v.label(),
            class: verdict_class(v),
            n: count(v),
        })
        .collect()
}

/// The lines under the headline, each verdict but PASS named in its words.
fn details(evidence: &Evidence, golive_missing: &[String]) -> Vec<String> {
    let mut details = vec![format!("Judged: {}.", provenance(evidence))];
    if !evidence.complete {
        details.push(
            "The run stopped before it finished: this report holds what the journal recorded up to then.".to_owned(),
        );
        if !evidence.interrupted.is_empty() {
            details.push(format!(
                "{} request(s) were sent with no answer recorded and may have taken effect; see \"Interrupted attempts\".",
                evidence.interrupted.len()
            ));
        }
    }
    // An incomplete run judged nothing: listing all 17 as failed says less
    // than the line above.
    let lines = [
        (Verdict::Fail, "Failed", evidence.complete),
        (
            Verdict::Inconclusive,
            "Inconclusive (the target failed, not the shop)",
            true,
        ),
        (
            Verdict::PartlyProven,
            "Partly proven (each row names what was not)",
            true,
        ),
        (
            Verdict::NotRun,
            "Not run (the run stopped before them)",
            evidence.complete,
        ),
    ];
    for (verdict, words, shown) in lines {
        let ids = ids_with(evidence, verdict);
        if shown && !ids.is_empty() {
            details.push(format!("{words}: {}.", ids.join(", ")));
        }
    }
    if !golive_missing.is_empty() {
        details.push(format!(
            "No reference ending {}.",
            golive_missing.join(", ")
        ));
    }
    let attest = ids_with(evidence, Verdict::NeedsAttestation);
    if !attest.is_empty() {
        details.push(format!(
            "A person must attest {} before go-live (`--attest ID=\"Name, role\"`).",
            attest.join(" and ")
        ));
    }
    details.push(format!(
        "Vipps accepts examples at most one month old: this evidence goes stale after {}.",
        time(evidence.run.stale_after)
    ));
    details
}

/// "Can I send this?": the banner's class, headline and details, the same
/// for the report and a command's stdout.
pub fn summary(evidence: &Evidence) -> Summary {
    let counts = counts(evidence);
    let failed = ids_with(evidence, Verdict::Fail);
    let inconclusive = ids_with(evidence, Verdict::Inconclusive);
    let golive_missing = evidence
        .golive
        .as_ref()
        .map(|g| {
            g.references
                .iter()
                .filter(|r| r.reference.is_none())
                .map(|r| r.outcome.clone())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let details = details(evidence, &golive_missing);

    let simulator = evidence.run.target == "simulator";
    let attest = ids_with(evidence, Verdict::NeedsAttestation);
    let (class, headline) = if evidence.kind == RunKind::Pack && evidence.complete {
        pack_headline(evidence, &attest, &golive_missing)
    } else if !evidence.complete {
        ("incomplete", "INCOMPLETE: do not send this.".to_owned())
    } else if !failed.is_empty() {
        (
            "not-ready",
            format!("Not ready: {} checklist item(s) failed.", failed.len()),
        )
    } else if !inconclusive.is_empty() {
        (
            "not-ready",
            format!(
                "Inconclusive: the target failed (answered 5xx, timed out or could not be reached) where {} item(s) were to be proven. Not the shop's fault, and not evidence: run again when the target answers.",
                inconclusive.len()
            ),
        )
    } else if simulator && evidence.kind == RunKind::Run {
        (
            "rehearsal",
            "Rehearsal passed against the simulator: these references exist only in the simulator, so this is not evidence for Vipps. Prove the shop's own references with `vipps-golive verify --env test REF...`.".to_owned(),
        )
    } else if let Some(why) = rehearsal(evidence).filter(|_| evidence.kind != RunKind::Audit) {
        (
            "rehearsal",
            format!("Rehearsal passed, not evidence for Vipps. {why}"),
        )
    } else if evidence.golive.is_none() || !golive_missing.is_empty() {
        (
            "not-ready",
            "Not ready: the go-live references are missing.".to_owned(),
        )
    } else {
        let id = evidence
            .golive
            .as_ref()
            .map(|g| g.checklist_id.as_str())
            .unwrap_or(ChecklistId::GlTest.as_str());
        (
            "ready",
            format!("Ready to send: the {id} references below, with this report."),
        )
    };
    Summary {
        class,
        headline,
        details,
        counts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_shown_in_major_units() {
        assert_eq!(money("NOK", 24_900), "NOK 249.00");
        assert_eq!(money("DKK", 5), "DKK 0.05");
        assert_eq!(money("EUR", -150), "EUR -1.50");
    }

    #[test]
    fn anchors_keep_only_safe_characters() {
        assert_eq!(anchor("ref", "shop-42-a"), "ref-shop-42-a");
        assert_eq!(anchor("sc", "a \"b\" <c>"), "sc-a__b___c_");
    }

    fn pack(target: &str, verdict: impl Fn(&str) -> Verdict) -> Evidence {
        use crate::evidence::model::{GoLive, GoLiveReference, ItemResult};
        use crate::evidence::{FolderKind, RunMeta, TargetInfo};
        let items = checklist::ITEMS
            .iter()
            .map(|i| ItemResult {
                id: i.id.into(),
                title: i.title.into(),
                verdict: verdict(i.id),
                reason: Some(format!("why {}", i.id)),
                scenarios: Vec::new(),
                references: Vec::new(),
                attestation: None,
            })
            .collect();
        let golive = GoLive {
            checklist_id: "GL-TEST".into(),
            references: ["CAPTURED", "REFUNDED", "CANCELLED"]
                .iter()
                .map(|o| GoLiveReference {
                    outcome: (*o).into(),
                    reference: Some(format!("shop-{o}-1")),
                })
                .collect(),
        };
        RunMeta::new(FolderKind::Pack, Utc::now())
            .evidence(TargetInfo::new(target, "https://apitest.vipps.no/"))
            .items(items)
            .golive(Some(golive))
            .finish()
    }

    #[test]
    fn a_pack_is_ready_to_send_only_when_all_passed_and_read_back_from_vipps() {
        let all = |_: &str| Verdict::Pass;
        let ready = build(&pack("test", all));
        assert_eq!(ready.summary.class, "ready");
        assert!(ready.summary.headline.starts_with("READY TO SEND"));
        assert!(ready.golive.as_ref().unwrap().sendable, "the copy box");

        let rehearsal = build(&pack("simulator", all));
        assert_eq!(rehearsal.summary.class, "rehearsal");
        assert!(rehearsal.summary.headline.starts_with("REHEARSAL PASSED"));
        assert!(!rehearsal.golive.as_ref().unwrap().sendable);

        let unattested = build(&pack("test", |id| {
            if id == "PF-DESIGN" {
                Verdict::NeedsAttestation
            } else {
                Verdict::Pass
            }
        }));
        assert_eq!(unattested.summary.class, "not-ready");
        assert!(
            unattested
                .summary
                .headline
                .contains("a person attests PF-DESIGN"),
            "{}",
            unattested.summary.headline
        );
        assert!(!unattested.golive.as_ref().unwrap().sendable);

        let failed = build(&pack("test", |id| {
            if id == "PF-POLLING" {
                Verdict::Fail
            } else {
                Verdict::Pass
            }
        }));
        assert!(
            failed
                .summary
                .headline
                .starts_with("NOT READY: fix PF-POLLING (why PF-POLLING)"),
            "{}",
            failed.summary.headline
        );
        // A warning is said in the row, and does not stop a pack.
        let warned = build(&pack("test", |id| {
            if id == "QA-STATES" {
                Verdict::Warning
            } else {
                Verdict::Pass
            }
        }));
        assert_eq!(warned.summary.class, "ready");
    }
}

//! The checklist rules as pure functions over a stream of exchanges.
//!
//! `run` applies them to its own journal, so its QA-HEADERS, PF-REFERENCE and
//! PF-POLLING verdicts come from recorded traffic, not from what the client
//! meant to send; `audit` applies the same rules to a shop's journal. A rule
//! sees one exchange at a time and keeps only what it needs (a few words per
//! payment reference or idempotency key), so an audit of a million-line
//! journal stays within bounded memory.
//!
//! The interface is [`RuleSet`]: `observe` each exchange in journal order, then
//! `finish` for the findings; [`verdict`] turns findings into an item verdict.
//! One file per rule family: [`headers`], [`idempotency`], [`reference`],
//! [`polling`], [`coverage`], [`redirects`], [`webhooks`]. Each keeps its own
//! small state and writes findings into a shared [`Sink`], which keeps the
//! first few findings of each rule and counts the rest, so a shop that breaks
//! a rule on every request gets a readable report, not a million lines.
//! [`golive`] judges what a go-live reference proves (GL-TEST, GL-PROD), for
//! `run` and `verify` alike; [`recheck`] re-derives every PASS from a written
//! `evidence.json` alone, for the commands that write one and `report --check`.

pub mod body;
pub mod coverage;
pub mod golive;
pub mod headers;
pub mod idempotency;
pub mod pack;
pub mod polling;
pub mod receiver;
pub mod recheck;
pub mod redirects;
pub mod reference;
pub mod verdicts;
pub mod webhooks;

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::checklist::ChecklistId;
use crate::domain::exchange::Exchange;
use crate::evidence::model::{ExchangeRef, Finding, Severity, Verdict};

pub use crate::domain::operation::{path_of, Operation};
pub use body::Body;

/// What the rules are judged against.
#[derive(Debug, Clone)]
pub struct RuleOptions {
    /// Earliest acceptable first poll after a create (guideline: 5 s).
    pub poll_start: Duration,
    /// Expected interval between polls (guideline: about 2 s).
    pub poll_interval: Duration,
    /// Never poll faster than this (1 s).
    pub poll_floor: Duration,
    /// Judging a shop's traffic (`audit`) rather than the harness's own (`run`):
    /// coverage findings (which endpoints, states) are reported only then.
    pub audit: bool,
    /// How long a payment may stay CREATED before it must have expired (10 min):
    /// a shop whose journal goes on this long after its last poll of a
    /// payment that never reached a final state stopped polling too early.
    pub payment_timeout: Duration,
    /// How many findings each rule keeps with their exchange; the rest are
    /// counted in one summary finding.
    pub max_findings_per_rule: usize,
    /// Where the traffic went, when the command knows (`pack --env`): what
    /// only going live can get right is judged more strictly for traffic to
    /// a Vipps environment (issue 21 point 5).
    pub environment: TrafficEnv,
}

/// Where a journal's traffic went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrafficEnv {
    /// Not said (an audit of a journal): a simulator or a Vipps environment.
    #[default]
    Unknown,
    /// A simulator, the shop's rehearsal.
    Simulator,
    /// The Vipps test environment (through the recording proxy).
    Test,
    /// Vipps production.
    Production,
}

impl TrafficEnv {
    /// Traffic to a real Vipps environment.
    pub fn is_live(self) -> bool {
        matches!(self, TrafficEnv::Test | TrafficEnv::Production)
    }
}

impl Default for RuleOptions {
    fn default() -> Self {
        RuleOptions {
            poll_start: Duration::from_secs(5),
            poll_interval: Duration::from_secs(2),
            poll_floor: Duration::from_secs(1),
            audit: false,
            payment_timeout: Duration::from_secs(600),
            max_findings_per_rule: 10,
            environment: TrafficEnv::Unknown,
        }
    }
}

/// Every rule, fed one exchange at a time.
#[derive(Debug)]
pub struct RuleSet {
    options: RuleOptions,
    sink: Sink,
    headers: headers::Headers,
    idempotency: idempotency::Idempotency,
    reference: reference::References,
    polling: polling::Polling,
    coverage: coverage::Coverage,
    redirects: redirects::Redirects,
    webhooks: webhooks::Webhooks,
    endings: golive::Endings,
    seen: Observed,
}

/// What the rules saw besides findings: what `audit` puts at the head of its
/// report (who sent the traffic, when) and what it checks afterwards.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// Exchanges observed.
    pub exchanges: u64,
    /// Time of the first and the last exchange.
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
    /// Distinct Vipps-System-Name / -Version values, in order of first use (at most 5 each).
    pub system_names: Vec<String>,
    pub system_versions: Vec<String>,
    /// Distinct Merchant-Serial-Number values (at most 10).
    pub msns: Vec<String>,
    /// Distinct returnUrls sent on create (at most 20), for `--check-return-url`.
    pub return_urls: Vec<ReturnUrl>,
    /// Answers with status 400 or above.
    pub errors: u64,
    /// Which of the eight states and events of QA-STATES the traffic read
    /// back ([`coverage::STATES`]), in checklist order; filled by `finish`.
    pub states: Vec<&'static str>,
    /// The go-live outcome each of the shop's last payments ended in, as
    /// its traffic showed it: the references `pack` reads back (latest
    /// first per outcome, at most [`golive::CANDIDATES`] each); filled by `finish`.
    pub endings: Vec<(&'static str, Vec<String>)>,
}

/// A returnUrl and the create that sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnUrl {
    pub url: String,
    pub exchange: ExchangeRef,
}

fn remember(list: &mut Vec<String>, value: &str, max: usize) {
    if !value.is_empty() && list.len() < max && !list.iter().any(|v| v == value) {
        list.push(value.to_owned());
    }
}

impl RuleSet {
    pub fn new(options: RuleOptions) -> RuleSet {
        RuleSet {
            sink: Sink::new(options.max_findings_per_rule),
            headers: headers::Headers::default(),
            idempotency: idempotency::Idempotency::default(),
            reference: reference::References::default(),
            polling: polling::Polling::default(),
            coverage: coverage::Coverage::default(),
            redirects: redirects::Redirects::default(),
            webhooks: webhooks::Webhooks,
            endings: golive::Endings::default(),
            seen: Observed::default(),
            options,
        }
    }

    /// Feeds one exchange, in journal order.
    pub fn observe(&mut self, exchange: &Exchange) {
        let body = Body::of_values(&exchange.request_body, &exchange.response_body);
        self.observe_view(&View::new(Meta::of(exchange), &body));
    }

    /// Feeds one exchange already read into a [`View`], in journal order.
    pub fn observe_view(&mut self, view: &View<'_>) {
        self.seen.exchanges += 1;
        if self.seen.first.is_none() {
            self.seen.first = Some(view.started_at);
        }
        self.seen.last = Some(
            self.seen
                .last
                .map_or(view.started_at, |l| l.max(view.started_at)),
        );
        if view.status.is_some_and(|s| s >= 400) {
            self.seen.errors += 1;
        }
        if view.op == Operation::Landing {
            // The customer's browser, not the shop: judged by no rule.
            return;
        }
        // The harness provokes errors on purpose (a bad reference, a reused
        // Idempotency-Key, an unknown payment) for QA-ERRORS: what the other
        // rules would find in those requests is the point of the scenario,
        // not a fault of its integration. Their headers still count: the
        // client sends every header on every request, provoked or not. A
        // shop's traffic carries no such tag.
        if !self.options.audit && view.provoked {
            self.headers.observe(view, &mut self.sink);
            return;
        }
        if let Some(v) = view.header("Vipps-System-Name") {
            remember(&mut self.seen.system_names, v, 5);
        }
        if let Some(v) = view.header("Vipps-System-Version") {
            remember(&mut self.seen.system_versions, v, 5);
        }
        if let Some(v) = view.msn {
            remember(&mut self.seen.msns, v, 10);
        }
        self.headers.observe(view, &mut self.sink);
        self.idempotency.observe(view, &mut self.sink);
        self.reference.observe(view, &mut self.sink);
        self.polling.observe(view, &self.options, &mut self.sink);
        self.coverage.observe(view);
        let live = self.options.environment.is_live();
        if let Some(url) = self.redirects.observe(view, &mut self.sink, live) {
            if self.seen.return_urls.len() < 20
                && !self.seen.return_urls.iter().any(|r| r.url == url)
            {
                self.seen.return_urls.push(ReturnUrl {
                    url,
                    exchange: view.exchange_ref(),
                });
            }
        }
        // A registration is the shop's own only in an audit: in `run` it is
        // the harness's receiver, on loopback by necessity, and says nothing
        // about where the shop will receive webhooks.
        if self.options.audit {
            self.webhooks.observe(view, &mut self.sink, live);
            test_only(view, self.options.environment, &mut self.sink);
            self.endings.observe(view);
        }
    }

    /// How many findings have been recorded so far (kept or counted): lets a
    /// caller keep the exchange that just caused one.
    pub fn findings_so_far(&self) -> u64 {
        self.sink.total
    }

    /// The findings and what was seen.
    pub fn finish_with_observed(mut self) -> (Vec<Finding>, Observed) {
        let end = self.seen.last;
        self.polling.finish(end, &self.options, &mut self.sink);
        if self.options.audit {
            self.coverage.finish(&mut self.sink);
        }
        self.seen.states = self.coverage.states_seen();
        self.seen.endings = self.endings.finish();
        // QA-ERRORS' traffic half, as advice: what the exchanges show of the
        // API's error answers. The shop's screens are a person's to attest
        // ([`verdicts::qa_errors`]), so this never changes a verdict.
        let errors = self.seen.errors;
        if errors > 0 {
            self.sink.raise_general(
                ChecklistId::QaErrors,
                "errors.shown",
                Severity::Info,
                || {
                    (
                        format!("{errors} error answer(s) (HTTP 400 or above) are in the traffic, each linked with its title, detail and traceId"),
                        "a person checks that the shop shows each error to customers and staff in words they understand, and attests it".into(),
                    )
                },
            );
        }
        (self.sink.into_findings(), self.seen)
    }
}

/// A test-only endpoint (`/epayment/v1/test/...`, force approve) called by
/// the shop's own code: it answers only in the test environment, so code
/// that calls it breaks in production (issue 21 point 5). It FAILS in a
/// production journal and warns otherwise. Judged under QA-STATES: the shop
/// must reach AUTHORIZED the way production does, by the customer approving.
fn test_only(view: &View<'_>, env: TrafficEnv, sink: &mut Sink) {
    const TEST: &str = "/epayment/v1/test/";
    let test_path = view
        .path
        .get(..TEST.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(TEST));
    if !test_path && !matches!(view.op, Operation::ForceApprove(_)) {
        return;
    }
    let severity = if env == TrafficEnv::Production {
        Severity::Fail
    } else {
        Severity::Warning
    };
    sink.raise(
        ChecklistId::QaStates,
        "endpoints.test-only",
        severity,
        Some(view),
        || {
            (
                format!(
                    "the shop called the test-only endpoint {}: it exists only in the test environment",
                    view.describe()
                ),
                "keep force approve in test scripts, never in the shop's code: in production only the customer approves, in the app, and the shop learns it by polling GET".to_owned(),
            )
        },
    );
}

/// Runs every rule over `exchanges`.
pub fn judge<'a>(
    exchanges: impl IntoIterator<Item = &'a Exchange>,
    options: RuleOptions,
) -> Vec<Finding> {
    judge_with_observed(exchanges, options).0
}

/// Runs every rule over `exchanges`: the findings, and what was seen.
pub fn judge_with_observed<'a>(
    exchanges: impl IntoIterator<Item = &'a Exchange>,
    options: RuleOptions,
) -> (Vec<Finding>, Observed) {
    let mut rules = RuleSet::new(options);
    for e in exchanges {
        rules.observe(e);
    }
    rules.finish_with_observed()
}

/// How many findings' messages an item's reason names.
const REASONS_PER_ITEM: usize = 3;

/// The rules' judgement of one checklist item, the same for every command
/// that judges exchanges (`run`, `audit`, ...): the verdict the findings give
/// it ([`verdict`]) and, as its reason, the messages of the first few findings
/// that fail or warn. `None` when the rules have nothing against it.
pub fn item(findings: &[Finding], checklist_id: &str) -> Option<(Verdict, String)> {
    let verdict = verdict(findings, checklist_id)?;
    let reasons: Vec<&str> = findings
        .iter()
        .filter(|f| f.checklist_id == checklist_id && f.severity != Severity::Info)
        .map(|f| f.message.as_str())
        .take(REASONS_PER_ITEM)
        .collect();
    Some((verdict, reasons.join("; ")))
}

/// An item's verdict when a shop's recorded traffic is judged (`audit`):
/// what traffic cannot show needs a person (PF-DESIGN, PF-SUPPORT, and
/// QA-ERRORS: the journal shows the errors the shop received, not what it
/// showed); go-live references are `verify`'s; no exchange at all fails every
/// item; PF-REDIRECTS without a returnUrl is not applicable; otherwise the
/// findings decide, and none against an item is a PASS.
pub fn audit_item(
    id: ChecklistId,
    findings: &[Finding],
    judged: u64,
    observed: &Observed,
) -> (Verdict, Option<String>) {
    match id {
        ChecklistId::PfDesign | ChecklistId::PfSupport => {
            return (
                Verdict::NeedsAttestation,
                Some("not visible in API traffic: a person attests".into()),
            )
        }
        ChecklistId::QaErrors => {
            // The same rule as `run`: the traffic half is what the journal
            // shows, and only a person can speak for the shop's screens.
            let (verdict, why) = verdicts::qa_errors(
                (Verdict::Pass, None),
                &errors_shown(observed.errors, "the shop received"),
                None,
            );
            return (verdict, Some(why));
        }
        ChecklistId::GlTest | ChecklistId::GlProd => {
            return (
                Verdict::NotApplicable,
                Some("an audit judges the shop's recorded traffic; go-live references are proven with `vipps-golive verify --env test REF...` or `run --env production`".into()),
            )
        }
        _ => {}
    }
    if judged == 0 {
        return (
            Verdict::Fail,
            Some("the journal holds no exchanges to judge (after the filters)".into()),
        );
    }
    if id == ChecklistId::PfRedirects && observed.return_urls.is_empty() {
        return (
            Verdict::NotApplicable,
            Some("no create carried a returnUrl".into()),
        );
    }
    match item(findings, id.as_str()) {
        None => (Verdict::Pass, None),
        Some((v, why)) => (v, Some(why)),
    }
}

/// The traffic half of QA-ERRORS in words: how many error answers the
/// exchanges show (`whose`: "the shop received", "the client explained").
pub fn errors_shown(errors: u64, whose: &str) -> String {
    format!("the traffic shows the {errors} error answer(s) {whose}, each with its title, detail and traceId")
}

/// The verdict the findings give a checklist item: FAIL if any finding for it
/// fails, WARNING if any warns, else `None` (the rules have nothing against it;
/// the caller decides whether that is a PASS).
pub fn verdict(findings: &[Finding], checklist_id: &str) -> Option<Verdict> {
    findings
        .iter()
        .filter(|f| f.checklist_id == checklist_id)
        .map(|f| f.severity)
        .max()
        .and_then(|s| match s {
            Severity::Fail => Some(Verdict::Fail),
            Severity::Warning => Some(Verdict::Warning),
            Severity::Info => None,
        })
}

/// An exchange's request headers, as parsed: owned (`run`'s exchanges) or
/// borrowed from a journal line (`audit`).
#[derive(Debug, Clone, Copy)]
pub enum HeaderList<'a> {
    Owned(&'a [(String, String)]),
    Borrowed(&'a [(Cow<'a, str>, Cow<'a, str>)]),
}

impl<'a> HeaderList<'a> {
    /// Every header as (name, value), in the order sent.
    pub fn pairs(self) -> impl Iterator<Item = (&'a str, &'a str)> {
        let (owned, borrowed) = match self {
            HeaderList::Owned(h) => (h, &[][..]),
            HeaderList::Borrowed(h) => (&[][..], h),
        };
        let owned = owned.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        let borrowed = borrowed.iter().map(|(k, v)| (k.as_ref(), v.as_ref()));
        owned.chain(borrowed)
    }

    /// The values of every header `name` (case-insensitive), in the order sent.
    pub fn values<'n>(self, name: &'n str) -> impl Iterator<Item = &'a str> + 'n
    where
        'a: 'n,
    {
        self.pairs()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// A header by name (case-insensitive); the first one sent.
    pub fn get(self, name: &str) -> Option<&'a str> {
        self.values(name).next()
    }

    /// Whether any header `name` (case-insensitive) has exactly `value`.
    pub fn has(self, name: &str, value: &str) -> bool {
        self.values(name).any(|v| v == value)
    }
}

/// The parts of an exchange the rules read besides its bodies.
#[derive(Debug, Clone, Copy)]
pub struct Meta<'a> {
    pub id: &'a str,
    pub started_at: DateTime<Utc>,
    pub method: &'a str,
    pub url: &'a str,
    pub headers: HeaderList<'a>,
    pub status: Option<u16>,
    /// The reference the exchange was tagged with, when known.
    pub reference: Option<&'a str>,
    /// Sent by the harness on purpose, as evidence for QA-ERRORS.
    pub provoked: bool,
}

impl<'a> Meta<'a> {
    pub fn of(exchange: &'a Exchange) -> Meta<'a> {
        Meta {
            id: &exchange.id,
            started_at: exchange.started_at,
            method: &exchange.method,
            url: &exchange.url,
            headers: HeaderList::Owned(&exchange.request_headers),
            status: exchange.status,
            reference: exchange.reference.as_deref(),
            provoked: exchange
                .checklist_ids
                .iter()
                .any(|c| c == ChecklistId::QaErrors),
        }
    }
}

/// An exchange as the rules read it: path, operation, MSN and reference
/// worked out once, and the few body fields the rules need ([`Body`]).
#[derive(Debug)]
pub struct View<'a> {
    pub id: &'a str,
    pub started_at: DateTime<Utc>,
    pub method: &'a str,
    /// Path without scheme, host or query.
    pub path: &'a str,
    pub op: Operation<'a>,
    /// The Merchant-Serial-Number header, when sent.
    pub msn: Option<&'a str>,
    /// The payment reference: from the path, or the create body.
    pub reference: Option<&'a str>,
    /// The response's status, when an answer came.
    pub status: Option<u16>,
    pub headers: HeaderList<'a>,
    pub body: &'a Body<'a>,
    /// Sent by the harness on purpose, as evidence for QA-ERRORS.
    pub provoked: bool,
}

impl<'a> View<'a> {
    pub fn new(meta: Meta<'a>, body: &'a Body<'a>) -> View<'a> {
        let path = path_of(meta.url);
        let op = Operation::of(meta.method, path);
        // The payment calls name their reference in the path; a create in its
        // body. Anything else (Order Management, calls the rules do not read)
        // keeps the reference it was tagged with, so a finding points at the
        // payment the journal says.
        let reference = match op {
            Operation::Get(r)
            | Operation::Events(r)
            | Operation::Cancel(r)
            | Operation::Capture(r)
            | Operation::Refund(r)
            | Operation::ForceApprove(r) => Some(r),
            Operation::Create => body.reference.as_deref(),
            _ => meta.reference,
        };
        View {
            id: meta.id,
            started_at: meta.started_at,
            method: meta.method,
            path,
            op,
            msn: meta.headers.get("Merchant-Serial-Number"),
            reference,
            status: meta.status,
            headers: meta.headers,
            body,
            provoked: meta.provoked,
        }
    }

    /// A request header by name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.get(name)
    }

    /// Answered 2xx.
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// Points at this exchange.
    pub fn exchange_ref(&self) -> ExchangeRef {
        ExchangeRef {
            id: self.id.to_owned(),
            time: self.started_at,
            method: self.method.to_owned(),
            path: self.path.to_owned(),
            reference: self.reference.map(str::to_owned),
        }
    }

    /// `POST /epayment/v1/payments` as people read it.
    pub fn describe(&self) -> String {
        format!(
            "{} {} at {}",
            self.method,
            self.path,
            self.started_at.format("%Y-%m-%d %H:%M:%S%.3fZ")
        )
    }

    /// A key for per-payment state: the MSN and the reference, hashed.
    pub fn payment_key(&self) -> Option<u64> {
        self.reference
            .map(|r| hash_of(&(self.msn.unwrap_or(""), r)))
    }
}

/// A 64-bit hash: per-payment and per-key state is keyed by hashes, not by
/// copies of the strings, to keep memory small (a collision could at worst
/// merge two payments' state: 1 in 2^64 per pair).
pub fn hash_of(value: &impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// Collects findings, keeping the first `cap` of each rule and counting the rest.
#[derive(Debug)]
pub struct Sink {
    cap: usize,
    findings: Vec<Finding>,
    /// Per rule name: how many were raised, and the first one's severity and
    /// checklist ID (for the summary line).
    counts: HashMap<&'static str, (u64, Severity, ChecklistId)>,
    total: u64,
}

impl Sink {
    fn new(cap: usize) -> Sink {
        Sink {
            cap,
            findings: Vec::new(),
            counts: HashMap::new(),
            total: 0,
        }
    }

    /// Raises a finding. `text` gives (message, advice) and is only called
    /// when the finding is kept.
    pub fn raise(
        &mut self,
        checklist_id: ChecklistId,
        rule: &'static str,
        severity: Severity,
        at: Option<&View<'_>>,
        text: impl FnOnce() -> (String, String),
    ) {
        self.push(
            checklist_id,
            rule,
            severity,
            || at.map(View::exchange_ref),
            text,
        );
    }

    /// Raises a finding about an exchange already out of sight.
    pub fn raise_at(
        &mut self,
        checklist_id: ChecklistId,
        rule: &'static str,
        severity: Severity,
        at: ExchangeRef,
        text: impl FnOnce() -> (String, String),
    ) {
        self.push(checklist_id, rule, severity, || Some(at), text);
    }

    /// Raises a finding about the whole journal.
    pub fn raise_general(
        &mut self,
        checklist_id: ChecklistId,
        rule: &'static str,
        severity: Severity,
        text: impl FnOnce() -> (String, String),
    ) {
        self.push(checklist_id, rule, severity, || None, text);
    }

    fn push(
        &mut self,
        checklist_id: ChecklistId,
        rule: &'static str,
        severity: Severity,
        at: impl FnOnce() -> Option<ExchangeRef>,
        text: impl FnOnce() -> (String, String),
    ) {
        self.total += 1;
        let entry = self
            .counts
            .entry(rule)
            .or_insert((0, severity, checklist_id));
        entry.0 += 1;
        if entry.0 as usize > self.cap {
            return;
        }
        let (message, advice) = text();
        self.findings.push(Finding {
            checklist_id: checklist_id.into(),
            rule: rule.to_owned(),
            severity,
            message,
            advice,
            exchange: at(),
        });
    }

    fn into_findings(mut self) -> Vec<Finding> {
        let mut more: Vec<_> = self
            .counts
            .iter()
            .filter(|(_, (n, _, _))| *n as usize > self.cap)
            .map(|(rule, (n, sev, id))| (*rule, *n, *sev, *id))
            .collect();
        more.sort_by_key(|(rule, ..)| *rule);
        for (rule, n, severity, id) in more {
            self.findings.push(Finding {
                checklist_id: id.into(),
                rule: rule.to_owned(),
                severity,
                message: format!(
                    "{} more exchanges broke `{rule}` (only the first {} are listed)",
                    n - self.cap as u64,
                    self.cap
                ),
                advice:
                    "fix the cause shown in the listed findings; it repeats throughout the journal"
                        .into(),
                exchange: None,
            });
        }
        // Stable: within one ID the journal order is kept.
        self.findings
            .sort_by_key(|f| crate::domain::checklist::order(&f.checklist_id));
        self.findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn finding(id: &str, severity: Severity, message: &str) -> Finding {
        Finding {
            checklist_id: id.into(),
            rule: "x.y".into(),
            severity,
            message: message.into(),
            advice: String::new(),
            exchange: None,
        }
    }

    #[test]
    fn an_item_fails_on_a_failing_finding_and_names_the_first_three_that_count() {
        let findings = [
            finding("PF-REFERENCE", Severity::Info, "shape"),
            finding("PF-REFERENCE", Severity::Warning, "one"),
            finding("QA-HEADERS", Severity::Fail, "not this item"),
            finding("PF-REFERENCE", Severity::Fail, "two"),
            finding("PF-REFERENCE", Severity::Fail, "three"),
            finding("PF-REFERENCE", Severity::Fail, "four"),
        ];
        assert_eq!(
            item(&findings, "PF-REFERENCE"),
            Some((Verdict::Fail, "one; two; three".into()))
        );
        assert_eq!(
            item(&findings[..2], "PF-REFERENCE"),
            Some((Verdict::Warning, "one".into()))
        );
        assert_eq!(item(&findings[..1], "PF-REFERENCE"), None);
        assert_eq!(item(&findings, "PF-POLLING"), None);
    }

    fn create(reference: &str, tags: &[&str]) -> Exchange {
        Exchange {
            schema_version: 1,
            id: format!("x-{reference}"),
            started_at: Utc::now(),
            duration_ms: 1,
            method: "POST".into(),
            url: "http://127.0.0.1:9/epayment/v1/payments".into(),
            request_headers: vec![
                ("Authorization".into(), "Bearer …0a1b2c3d".into()),
                ("Ocp-Apim-Subscription-Key".into(), "…1a2b3c4d".into()),
                ("Merchant-Serial-Number".into(), "123456".into()),
                ("Vipps-System-Name".into(), "woocommerce".into()),
                ("Vipps-System-Version".into(), "4.5.6".into()),
                ("Vipps-System-Plugin-Name".into(), "vipps-woo".into()),
                ("Idempotency-Key".into(), format!("key-{reference}")),
            ],
            request_body: json!({"reference": reference}),
            status: Some(400),
            response_headers: vec![],
            response_body: Value::Null,
            error: None,
            attempt: 1,
            reference: Some(reference.into()),
            checklist_ids: tags.iter().map(|t| (*t).to_owned()).collect(),
            scenario: None,
            kind: None,
        }
    }

    #[test]
    fn what_the_harness_provokes_is_judged_by_its_headers_alone() {
        // A bad reference sent on purpose, without Vipps-System-Plugin-Version.
        let provoked = create("ab", &["QA-ERRORS"]);

        let run = judge([&provoked], RuleOptions::default());
        let audit = judge(
            [&provoked],
            RuleOptions {
                audit: true,
                ..RuleOptions::default()
            },
        );

        let ids = |f: &[Finding]| -> Vec<String> {
            let mut ids: Vec<String> = f.iter().map(|f| f.rule.clone()).collect();
            ids.dedup();
            ids
        };
        // The error answer itself is QA-ERRORS' traffic half: advice only.
        assert_eq!(ids(&run), ["errors.shown", "headers.missing"]);
        assert!(ids(&audit).contains(&"reference.length".to_owned()));
        assert!(ids(&audit).contains(&"headers.missing".to_owned()));
    }

    #[test]
    fn the_error_answers_are_qa_errors_traffic_half_shown_as_advice_in_run_and_audit() {
        let provoked = create("ab", &["QA-ERRORS"]);
        for audit in [false, true] {
            let (findings, observed) = judge_with_observed(
                [&provoked],
                RuleOptions {
                    audit,
                    ..RuleOptions::default()
                },
            );
            let shown: Vec<&Finding> = findings
                .iter()
                .filter(|f| f.rule == "errors.shown")
                .collect();
            assert_eq!(shown.len(), 1, "audit {audit}: {findings:#?}");
            assert_eq!(shown[0].checklist_id, "QA-ERRORS");
            assert_eq!(shown[0].severity, Severity::Info);
            assert!(shown[0].message.starts_with("1 error answer"), "{shown:?}");
            // Never plain PASS: the shop's screens need a person, as in `run`.
            let (verdict, why) = audit_item(ChecklistId::QaErrors, &findings, 1, &observed);
            assert_eq!(verdict, Verdict::NeedsAttestation, "{why:?}");
        }
    }

    fn exchange(method: &str, path: &str, body: Value, status: u16, answer: Value) -> Exchange {
        let mut e = create("acme-order-1001", &[]);
        e.method = method.into();
        e.url = format!("http://127.0.0.1:9{path}");
        e.request_body = body;
        e.status = Some(status);
        e.response_body = answer;
        e
    }

    fn shop(env: TrafficEnv) -> RuleOptions {
        RuleOptions {
            audit: true,
            environment: env,
            ..RuleOptions::default()
        }
    }

    fn severity_of(findings: &[Finding], rule: &str) -> Option<Severity> {
        findings.iter().find(|f| f.rule == rule).map(|f| f.severity)
    }

    #[test]
    fn a_test_only_endpoint_fails_production_traffic_and_warns_otherwise() {
        let approve = exchange(
            "POST",
            "/epayment/v1/test/payments/acme-order-1001/approve",
            json!({}),
            200,
            Value::Null,
        );
        for (env, expected) in [
            (TrafficEnv::Production, Severity::Fail),
            (TrafficEnv::Test, Severity::Warning),
            (TrafficEnv::Simulator, Severity::Warning),
            (TrafficEnv::Unknown, Severity::Warning),
        ] {
            let findings = judge([&approve], shop(env));
            let f = findings
                .iter()
                .find(|f| f.rule == "endpoints.test-only")
                .unwrap_or_else(|| panic!("{env:?}: {findings:?}"));
            assert_eq!(
                (f.severity, f.checklist_id.as_str()),
                (expected, "QA-STATES")
            );
        }
        // The harness's own run is not the shop's code.
        assert!(judge([&approve], RuleOptions::default())
            .iter()
            .all(|f| f.rule != "endpoints.test-only"));
    }

    #[test]
    fn loopback_and_http_urls_fail_traffic_to_a_vipps_environment() {
        let mut created = exchange(
            "POST",
            "/epayment/v1/payments",
            json!({"reference": "acme-order-1001", "returnUrl": "http://localhost:8000/return?reference=acme-order-1001"}),
            201,
            json!({"reference": "acme-order-1001"}),
        );
        created.reference = None;
        let hook = exchange(
            "POST",
            "/webhooks/v1/webhooks",
            json!({"url": "http://127.0.0.1/vipps/webhook", "events": []}),
            201,
            json!({}),
        );
        let on = |env| judge([&created, &hook], shop(env));
        let (sim, test) = (on(TrafficEnv::Simulator), on(TrafficEnv::Test));
        for rule in [
            "redirects.loopback-http",
            "webhooks.not-https",
            "webhooks.not-reachable",
        ] {
            assert_eq!(severity_of(&sim, rule), Some(Severity::Warning), "{rule}");
            assert_eq!(severity_of(&test, rule), Some(Severity::Fail), "{rule}");
        }
    }

    #[test]
    fn the_last_payments_ending_each_outcome_are_the_references_to_read_back() {
        let answer = |reference: &str, captured: i64, refunded: i64| {
            exchange(
                "GET",
                &format!("/epayment/v1/payments/{reference}"),
                Value::Null,
                200,
                json!({"state": "AUTHORIZED", "aggregate": {
                    "authorizedAmount": {"currency": "NOK", "value": 1000},
                    "capturedAmount": {"currency": "NOK", "value": captured},
                    "refundedAmount": {"currency": "NOK", "value": refunded},
                    "cancelledAmount": {"currency": "NOK", "value": 0}}}),
            )
        };
        let log = exchange(
            "GET",
            "/epayment/v1/payments/acme-order-3/events",
            Value::Null,
            200,
            json!([{"name": "CREATED"}, {"name": "AUTHORIZED"}, {"name": "CANCELLED"}]),
        );
        let journal = [
            answer("acme-order-1", 1000, 0),
            answer("acme-order-2", 1000, 0),
            // acme-order-2 moves on: refunded, no longer CAPTURED.
            answer("acme-order-2", 1000, 1000),
            log,
        ];
        let (_, seen) = judge_with_observed(&journal, shop(TrafficEnv::Unknown));
        let of = |outcome: &str| {
            seen.endings
                .iter()
                .find(|(o, _)| *o == outcome)
                .map(|(_, r)| r.clone())
                .unwrap()
        };
        assert_eq!(of("CAPTURED"), ["acme-order-1"]);
        assert_eq!(of("REFUNDED"), ["acme-order-2"]);
        assert_eq!(of("CANCELLED"), ["acme-order-3"]);
        assert!(of("AUTHORIZED").is_empty());
    }
}

#[cfg(test)]
mod tests_client;

#[cfg(test)]
mod tests_one_judge;

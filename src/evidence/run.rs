//! What every evidence folder shares, decided in one place: the run id, the
//! time span and the date the evidence goes stale, the target it speaks of,
//! and the `evidence.json` around a command's own verdicts.
//!
//! Each command that writes a folder (`run`, `verify`, `audit`,
//! `webhooks-check`, `compare`, `report --from-journal`) starts from
//! [`RunMeta::new`] (or [`RunMeta::existing`] for a folder already on disk),
//! creates its folder through it, and builds its evidence with
//! [`RunMeta::evidence`]: the command supplies its verdicts, the builder
//! supplies everything a reader of any folder relies on being the same.
//! Before this, five commands minted run ids and stale dates each their own
//! way, and one day one of them would have drifted.

use std::io;
use std::path::Path;

use chrono::{DateTime, Months, Utc};

use super::build;
use super::folder::RunFolder;
use super::model::{
    Attestation, Evidence, Finding, GoLive, InputRead, InterruptedAttempt, ItemResult, RunInfo,
    RunKind, ScenarioResult, ScenarioSource, Span, StepResult, Verdict, WebhookCheck,
    EVIDENCE_SCHEMA_VERSION, VIRTUAL_CLOCK,
};
use super::Exchange;

/// Which command writes the folder: it decides the run id's shape and the
/// evidence's [`RunKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderKind {
    /// `run`: `20261201T101500Z-1a2b3c`.
    Run,
    /// `verify`: `20261201T101500Z-verify-1a2b3c`.
    Verify,
    /// `audit`: `audit-20261201T101500Z-1a2b3c`.
    Audit,
    /// `webhooks-check`: `webhooks-check-20261201T101500Z-1a2b3c`.
    WebhooksCheck,
    /// `compare`: `20261201T101500Z-compare-1a2b3c` (its two sides are runs).
    Compare,
    /// `pack`: `pack-20261201T101500Z-1a2b3c`.
    Pack,
}

impl FolderKind {
    /// The `kind` its `evidence.json` carries. A webhooks-check judges the
    /// shop's own receiver, as an audit judges the shop's own traffic; a
    /// comparison's evidence is that of its two runs.
    pub(crate) fn evidence_kind(self) -> RunKind {
        match self {
            FolderKind::Run | FolderKind::Compare => RunKind::Run,
            FolderKind::Verify => RunKind::Verify,
            FolderKind::Audit | FolderKind::WebhooksCheck => RunKind::Audit,
            FolderKind::Pack => RunKind::Pack,
        }
    }

    /// A new run id: the start to the second (UTC, so ids sort by time), and
    /// six random hex digits so two runs in the same second never share a folder.
    fn run_id(self, started_at: DateTime<Utc>) -> String {
        let at = started_at.format("%Y%m%dT%H%M%SZ");
        let tail = &uuid::Uuid::new_v4().simple().to_string()[..6];
        match self {
            FolderKind::Run => format!("{at}-{tail}"),
            FolderKind::Verify => format!("{at}-verify-{tail}"),
            FolderKind::Audit => format!("audit-{at}-{tail}"),
            FolderKind::WebhooksCheck => format!("webhooks-check-{at}-{tail}"),
            FolderKind::Compare => format!("{at}-compare-{tail}"),
            FolderKind::Pack => format!("pack-{at}-{tail}"),
        }
    }
}

/// One month after `started_at`: Vipps accepts go-live examples at most a
/// month old, so that is when the evidence goes stale.
pub fn stale_after(started_at: DateTime<Utc>) -> DateTime<Utc> {
    started_at
        .checked_add_months(Months::new(1))
        .unwrap_or(started_at)
}

/// A folder's identity: which command, which run id, started when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunMeta {
    kind: FolderKind,
    run_id: String,
    started_at: DateTime<Utc>,
}

impl RunMeta {
    /// A new folder's identity, its run id minted from `started_at`.
    pub fn new(kind: FolderKind, started_at: DateTime<Utc>) -> RunMeta {
        RunMeta {
            kind,
            run_id: kind.run_id(started_at),
            started_at,
        }
    }

    /// The identity of a folder already on disk (`report --from-journal`):
    /// its run id is the folder's name, its start what the journal says.
    pub fn existing(kind: FolderKind, run_id: &str, started_at: DateTime<Utc>) -> RunMeta {
        RunMeta {
            kind,
            run_id: run_id.to_owned(),
            started_at,
        }
    }

    /// The command that writes the folder.
    pub fn kind(&self) -> FolderKind {
        self.kind
    }

    /// The run id: the folder's name under the output folder.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// When the command started.
    pub fn started_at(&self) -> DateTime<Utc> {
        self.started_at
    }

    /// Creates `<out>/<run-id>/`, marked incomplete until it is finished.
    pub(crate) fn create_folder(&self, out: &Path) -> io::Result<RunFolder> {
        RunFolder::create(out, &self.run_id, self.started_at)
    }

    /// The evidence of this run about `target`. Its span runs from the
    /// command's start to when [`EvidenceBuilder::finish`] is called, unless
    /// [`EvidenceBuilder::span`] gives the traffic's own.
    pub fn evidence(&self, target: TargetInfo) -> EvidenceBuilder {
        EvidenceBuilder::new(self, target)
    }
}

/// The target a folder speaks of, as `evidence.json` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetInfo {
    /// `simulator`, `test`, `production` or `custom`.
    pub name: String,
    /// The base URL as shown to people: no user info, no query.
    pub base_url: String,
}

impl TargetInfo {
    /// A target by its name and its URL as shown.
    pub fn new(name: impl Into<String>, base_url: impl Into<String>) -> TargetInfo {
        TargetInfo {
            name: name.into(),
            base_url: base_url.into(),
        }
    }
}

/// Whose traffic a folder of `kind` judges (issue 20: provenance on every
/// verdict).
pub fn traffic(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Run => "vipps-golive's own client (a rehearsal, not the shop's traffic)",
        RunKind::Verify => "the shop's own references, read back by vipps-golive",
        RunKind::Audit => "the shop's own traffic",
        RunKind::Pack => "the shop's own traffic, its references read back by vipps-golive",
    }
}

/// The class of a folder's target, from its name and its URL as shown.
pub fn target_class(kind: RunKind, name: &str, base_url: &str) -> &'static str {
    match (kind, name) {
        (RunKind::Audit, "simulator") => "a running simulator's journal",
        (RunKind::Pack, "simulator" | "custom") => "a simulator (references read back from it)",
        (_, "simulator") => "the embedded simulator",
        (_, "test") => "the Vipps test environment",
        (_, "production") => "Vipps production",
        _ => match url::Url::parse(base_url) {
            Ok(url) if crate::domain::host::is_loopback(&url) => "a URL on this machine (loopback)",
            Ok(_) => "a custom URL",
            Err(_) => "a recorded journal",
        },
    }
}

/// Builds one `evidence.json`: the command gives its verdicts and what it
/// recorded; the run id, tool version, span, stale date, schema version and
/// the references section are filled in here, the same way for every command.
#[derive(Debug, Clone)]
pub struct EvidenceBuilder {
    kind: RunKind,
    complete: bool,
    run_id: String,
    target: TargetInfo,
    msn: String,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    virtual_span: Option<Span>,
    tags: Option<String>,
    system_name: Option<String>,
    system_version: Option<String>,
    golive: Option<GoLive>,
    items: Vec<ItemResult>,
    scenarios: Vec<ScenarioResult>,
    findings: Vec<Finding>,
    attestations: Vec<Attestation>,
    webhook_checks: Vec<WebhookCheck>,
    interrupted: Vec<InterruptedAttempt>,
    exchanges: Vec<Exchange>,
    harness_left_out: Option<u64>,
    input: Option<InputRead>,
}

impl EvidenceBuilder {
    fn new(meta: &RunMeta, target: TargetInfo) -> EvidenceBuilder {
        EvidenceBuilder {
            kind: meta.kind.evidence_kind(),
            complete: true,
            run_id: meta.run_id.clone(),
            target,
            msn: String::new(),
            started_at: meta.started_at,
            finished_at: None,
            virtual_span: None,
            tags: None,
            system_name: None,
            system_version: None,
            golive: None,
            items: Vec::new(),
            scenarios: Vec::new(),
            findings: Vec::new(),
            attestations: Vec::new(),
            webhook_checks: Vec::new(),
            interrupted: Vec::new(),
            exchanges: Vec::new(),
            harness_left_out: None,
            input: None,
        }
    }

    /// The span of the traffic judged, when it is not the command's own
    /// (an audit of a recorded journal, a run rebuilt from its journal).
    /// The evidence goes stale a month after `started_at`.
    pub fn span(mut self, started_at: DateTime<Utc>, finished_at: DateTime<Utc>) -> Self {
        self.started_at = started_at;
        self.finished_at = Some(finished_at);
        self
    }

    /// The run's span on the virtual clock its exchanges are dated on
    /// (the embedded simulator's); `None` when they carry wall-clock time.
    pub fn virtual_span(mut self, span: Option<Span>) -> Self {
        self.virtual_span = span;
        self
    }

    /// Marks evidence that is not the whole run (rebuilt from a journal, or
    /// a run interrupted before its end).
    pub fn complete(mut self, complete: bool) -> Self {
        self.complete = complete;
        self
    }

    /// The merchant serial number; also the one assumed for a reference
    /// whose requests carried none.
    pub fn msn(mut self, msn: impl Into<String>) -> Self {
        self.msn = msn.into();
        self
    }

    /// The tag expression the run was filtered with.
    pub fn tags(mut self, tags: Option<String>) -> Self {
        self.tags = tags;
        self
    }

    /// Vipps-System-Name and -Version: sent (run, verify) or seen (audit).
    pub fn system(mut self, name: Option<String>, version: Option<String>) -> Self {
        self.system_name = name;
        self.system_version = version;
        self
    }

    /// The GL-TEST or GL-PROD references.
    pub fn golive(mut self, golive: Option<GoLive>) -> Self {
        self.golive = golive;
        self
    }

    /// One row per checklist ID, in checklist order.
    pub fn items(mut self, items: Vec<ItemResult>) -> Self {
        self.items = items;
        self
    }

    /// Every scenario, run or not.
    pub fn scenarios(mut self, scenarios: Vec<ScenarioResult>) -> Self {
        self.scenarios = scenarios;
        self
    }

    /// What the rules found.
    pub fn findings(mut self, findings: Vec<Finding>) -> Self {
        self.findings = findings;
        self
    }

    /// Attestations given for the manual items.
    pub fn attestations(mut self, attestations: Vec<Attestation>) -> Self {
        self.attestations = attestations;
        self
    }

    /// The probes of a webhooks-check.
    pub fn webhook_checks(mut self, checks: Vec<WebhookCheck>) -> Self {
        self.webhook_checks = checks;
        self
    }

    /// Attempts sent with no recorded outcome.
    pub fn interrupted(mut self, interrupted: Vec<InterruptedAttempt>) -> Self {
        self.interrupted = interrupted;
        self
    }

    /// The exchanges evidence.json carries; the references section is read
    /// from them.
    pub fn exchanges(mut self, exchanges: Vec<Exchange>) -> Self {
        self.exchanges = exchanges;
        self
    }

    /// How many exchanges vipps-golive itself sent were left out of the
    /// traffic judged (an audit).
    pub fn harness_left_out(mut self, n: u64) -> Self {
        self.harness_left_out = Some(n);
        self
    }

    /// What an audit or a pack read (inputs, lines, filters, skipped lines).
    pub fn input(mut self, input: InputRead) -> Self {
        self.input = Some(input);
        self
    }

    /// The evidence. Its span ends now unless [`Self::span`] said when.
    pub fn finish(self) -> Evidence {
        let finished_at = self.finished_at.unwrap_or_else(Utc::now);
        let traffic = traffic(self.kind);
        let target_class = target_class(self.kind, &self.target.name, &self.target.base_url);
        Evidence {
            schema_version: EVIDENCE_SCHEMA_VERSION,
            kind: self.kind,
            complete: self.complete,
            references: build::references(&self.exchanges, &self.msn),
            run: RunInfo {
                run_id: self.run_id,
                tool_version: env!("CARGO_PKG_VERSION").into(),
                target: self.target.name,
                base_url: self.target.base_url,
                msn: self.msn,
                started_at: self.started_at,
                finished_at,
                stale_after: stale_after(self.started_at),
                tags: self.tags,
                system_name: self.system_name,
                system_version: self.system_version,
                traffic: Some(traffic.into()),
                target_class: Some(target_class.into()),
                harness_left_out: self.harness_left_out,
                clock: self.virtual_span.map(|_| VIRTUAL_CLOCK.to_owned()),
                virtual_span: self.virtual_span,
            },
            golive: self.golive,
            items: self.items,
            scenarios: self.scenarios,
            findings: self.findings,
            attestations: self.attestations,
            webhook_checks: self.webhook_checks,
            interrupted: self.interrupted,
            exchanges: self.exchanges,
            input: self.input,
        }
    }
}

/// A scenario as evidence.json lists it.
#[derive(Debug, Clone)]
pub struct ScenarioInfo<'a> {
    /// The feature's name.
    pub feature: &'a str,
    /// The scenario's name.
    pub name: &'a str,
    /// All its tags, without `@`.
    pub tags: &'a [String],
    /// The checklist IDs among the tags.
    pub checklist_ids: Vec<String>,
    /// Every step as written, each `skipped` until it runs.
    pub steps: Vec<StepResult>,
    /// Where it is written.
    pub source: Option<ScenarioSource>,
}

impl ScenarioInfo<'_> {
    /// A scenario that ran: its verdict, the references it made or read,
    /// when it ran, and its steps.
    pub fn ran(
        self,
        verdict: Verdict,
        reason: Option<String>,
        references: Vec<String>,
        span: (DateTime<Utc>, DateTime<Utc>),
    ) -> ScenarioResult {
        ScenarioResult {
            name: self.name.to_owned(),
            feature: self.feature.to_owned(),
            tags: self.tags.to_vec(),
            checklist_ids: self.checklist_ids,
            verdict,
            reason,
            references,
            started_at: span.0,
            finished_at: span.1,
            steps: self.steps,
            source: self.source,
        }
    }

    /// A scenario that never started (the target cannot run it, it needs a
    /// person, or the run stopped before it), decided at `at`.
    pub(crate) fn not_run(
        self,
        verdict: Verdict,
        reason: String,
        at: DateTime<Utc>,
    ) -> ScenarioResult {
        self.ran(verdict, Some(reason), Vec::new(), (at, at))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn provenance_says_whose_traffic_and_what_target() {
        assert!(traffic(RunKind::Run).starts_with("vipps-golive's own client"));
        assert_eq!(traffic(RunKind::Audit), "the shop's own traffic");
        for (kind, name, url, class) in [
            (RunKind::Run, "simulator", "", "the embedded simulator"),
            (
                RunKind::Run,
                "test",
                "https://apitest.vipps.no/",
                "the Vipps test environment",
            ),
            (
                RunKind::Run,
                "custom",
                "http://127.0.0.1:7777/",
                "a URL on this machine (loopback)",
            ),
            (
                RunKind::Run,
                "custom",
                "https://sim.example/",
                "a custom URL",
            ),
            (
                RunKind::Audit,
                "simulator",
                "http://127.0.0.1:7777",
                "a running simulator's journal",
            ),
            (RunKind::Audit, "custom", "shop.jsonl", "a recorded journal"),
            (
                RunKind::Verify,
                "production",
                "https://api.vipps.no/",
                "Vipps production",
            ),
        ] {
            assert_eq!(target_class(kind, name, url), class, "{name} {url}");
        }
    }

    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 31, 10, 15, 0).unwrap()
    }

    #[test]
    fn each_command_mints_its_own_run_id_shape() {
        let id = |kind| RunMeta::new(kind, at()).run_id().to_owned();
        let shapes = [
            (FolderKind::Run, "20260131T101500Z-"),
            (FolderKind::Verify, "20260131T101500Z-verify-"),
            (FolderKind::Audit, "audit-20260131T101500Z-"),
            (
                FolderKind::WebhooksCheck,
                "webhooks-check-20260131T101500Z-",
            ),
            (FolderKind::Compare, "20260131T101500Z-compare-"),
        ];
        for (kind, prefix) in shapes {
            let id = id(kind);
            let tail = id.strip_prefix(prefix).unwrap_or_else(|| panic!("{id}"));
            assert_eq!(tail.len(), 6, "{id}");
            assert!(tail.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
        }
        assert_ne!(id(FolderKind::Run), id(FolderKind::Run));
    }

    #[test]
    fn evidence_goes_stale_a_month_after_it_started_even_at_a_months_end() {
        assert_eq!(
            stale_after(at()),
            Utc.with_ymd_and_hms(2026, 2, 28, 10, 15, 0).unwrap()
        );
    }

    #[test]
    fn the_builder_fills_what_every_folder_shares() {
        let meta = RunMeta::new(FolderKind::Verify, at());
        let e = meta
            .evidence(TargetInfo::new("test", "https://apitest.vipps.no/"))
            .msn("123456")
            .finish();
        assert_eq!(e.schema_version, EVIDENCE_SCHEMA_VERSION);
        assert_eq!(e.kind, RunKind::Verify);
        assert!(e.complete);
        assert_eq!(e.run.run_id, meta.run_id());
        assert_eq!(e.run.tool_version, env!("CARGO_PKG_VERSION"));
        assert_eq!(e.run.target, "test");
        assert_eq!(e.run.msn, "123456");
        assert_eq!(e.run.started_at, at());
        assert!(e.run.finished_at >= at());
        assert_eq!(e.run.stale_after, stale_after(at()));
    }

    #[test]
    fn a_span_of_recorded_traffic_moves_the_stale_date_with_it() {
        let traffic = at() - chrono::Duration::days(3);
        let e = RunMeta::new(FolderKind::Audit, at())
            .evidence(TargetInfo::new("custom", "shop.jsonl"))
            .span(traffic, traffic)
            .complete(false)
            .finish();
        assert_eq!(e.kind, RunKind::Audit);
        assert!(!e.complete);
        assert_eq!((e.run.started_at, e.run.finished_at), (traffic, traffic));
        assert_eq!(e.run.stale_after, stale_after(traffic));
    }

    #[test]
    fn a_scenario_that_never_ran_has_one_instant_no_references_and_its_steps_skipped() {
        use crate::evidence::model::StepOutcome;
        let tags = vec!["EP-GET".to_owned(), "simulator".to_owned()];
        let step = StepResult {
            keyword: "When".into(),
            text: "the shop reads the payment".into(),
            outcome: StepOutcome::Skipped,
            message: None,
            line: Some(7),
        };
        let s = ScenarioInfo {
            feature: "Endpoints",
            name: "Read",
            tags: &tags,
            checklist_ids: vec!["EP-GET".into()],
            steps: vec![step.clone()],
            source: None,
        }
        .not_run(Verdict::NotApplicable, "why".into(), at());
        assert_eq!((s.started_at, s.finished_at), (at(), at()));
        assert_eq!(s.reason.as_deref(), Some("why"));
        assert!(s.references.is_empty());
        // Listed in full, none run: cucumber.json shows them skipped.
        assert_eq!(s.steps, [step]);
        assert_eq!(s.tags, tags);
    }
}

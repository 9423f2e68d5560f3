//! Runs the Gherkin features against a target and turns what happened into
//! the journal, `evidence.json`, and from the evidence `junit.xml`,
//! `cucumber.json` and the report.
//!
//! `commands::run` only parses flags into [`RunOptions`] and prints what the
//! run tells it; everything checklist-specific is here and in `steps/`.
//!
//! A run is told as a stream of events ([`events`]): the runner prints
//! nothing and writes no file directly. The journal, the evidence log and
//! the face's terminal progress are consumers of that one stream.
//!
//! The phases of [`run`], each its own function: check the flags and read
//! the features; make the folder ([`crate::evidence::RunMeta`]); prepare the
//! target (`target.rs`); decide which scenarios run (`plan.rs`); check the
//! connection; run the scenarios (`execute.rs`); clean up production; then
//! judge the recorded exchanges and write the evidence.
//!
//! Concurrency: on the simulator every scenario runs at once, sharing one
//! virtual clock. A client sleep moves that clock to the sleeper's deadline
//! (never by the sum of concurrent sleeps, see [`DeadlineClock`]), and expiry
//! is provoked per payment through the control API, so one scenario's waiting
//! never expires another's payment.

pub mod collect;
mod error;
pub mod events;
mod execute;
pub mod features;
mod folder;
pub mod html;
pub mod items;
mod plan;
mod target;
pub mod verify;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::gherkin::Feature;

use crate::api::{Client, ClientOptions, ReferenceGenerator};
use crate::clock::SharedClock;
use crate::config::Config;
use crate::domain::checklist::ChecklistId;
use crate::domain::exchange::Exchange;
use crate::domain::redact;
use crate::evidence::model::{Attestation, Evidence, ScenarioResult, Span, Verdict};
use crate::evidence::{
    FolderKind, Journal, MemoryRecorder, Recorder as _, RunFolder, RunMeta, TargetInfo,
};
use crate::simulator::SimConfig;
use crate::steps::target::Person;
use crate::steps::{KeptReference, RunContext};

use collect::RunLog;
pub use error::RunError;
use events::{Consumer, EventKind, EventStream, JournalWriter};
use items::Environment;
use plan::Planned;
use target::Prepared;

/// Everything a run needs.
pub struct RunOptions {
    pub config: Config,
    /// Output folder; the run writes `<out>/<run-id>/`.
    pub out: PathBuf,
    /// Cucumber tag expression (`@EP-CAPTURE and not @slow`).
    pub tags: Option<String>,
    /// A folder of `.feature` files instead of the embedded ones.
    pub features: Option<PathBuf>,
    /// Scenarios at once (default: all on the simulator, 4 on test, 1 on production).
    pub concurrency: Option<usize>,
    pub fail_fast: bool,
    /// `(checklist ID, who)` from `--attest`.
    pub attest: Vec<(String, String)>,
    /// The test user's phone (test environment).
    pub test_phone: Option<String>,
    /// Never wait for a person (CI): such scenarios are NOT APPLICABLE.
    pub non_interactive: bool,
    /// Run `@slow` scenarios on real targets (EXPIRED takes 10 real minutes).
    pub include_slow: bool,
    /// Required for production.
    pub allow_real_money: bool,
    /// Largest amount sent in production, in øre.
    pub max_amount: i64,
    /// The shop's own return page, for PF-REDIRECTS.
    pub return_url: Option<url::Url>,
    /// The embedded simulator's configuration.
    pub simulator: SimConfig,
    /// Tests only (no flag sets it): treat the `--base-url` target as
    /// production, so the guided run can be tested against a simulator.
    pub production_stand_in: bool,
    /// Tests only (no flag sets it): treat the `--base-url` target as the
    /// test environment (force approve with `--test-phone`, a person rejects).
    pub test_stand_in: bool,
    /// Who approves in production and rejects in the test environment: the
    /// face gives the person at the terminal, tests a stand-in. Without one a
    /// production run is refused and the test environment's rejections are
    /// NOT APPLICABLE.
    pub person: Option<Arc<dyn Person>>,
    /// The client's clock for a `--base-url` target (default: the system
    /// clock). Tests set a virtual one so polling waits cost no real time.
    pub clock: Option<SharedClock>,
    /// Who else watches the run's events, after the journal and the
    /// evidence log (the face adds the terminal progress).
    pub consumers: Vec<Arc<dyn Consumer>>,
}

impl RunOptions {
    /// Defaults for `config`: embedded features, no attestations, 100 øre cap.
    pub fn new(config: Config, out: PathBuf) -> RunOptions {
        RunOptions {
            config,
            out,
            tags: None,
            features: None,
            concurrency: None,
            fail_fast: false,
            attest: Vec::new(),
            test_phone: None,
            non_interactive: false,
            include_slow: false,
            allow_real_money: false,
            max_amount: 100,
            return_url: None,
            simulator: SimConfig::default(),
            production_stand_in: false,
            test_stand_in: false,
            person: None,
            clock: None,
            consumers: Vec::new(),
        }
    }
}

/// What a run leaves.
#[derive(Debug)]
pub struct RunOutcome {
    pub evidence: Evidence,
    /// `<out>/<run-id>/`.
    pub dir: PathBuf,
}

impl RunOutcome {
    /// True when any checklist item or any scenario failed (exit status 1):
    /// a scenario of the shop's own with no checklist tag fails the run too.
    pub fn failed(&self) -> bool {
        self.evidence.items.iter().any(|i| i.verdict.fails_run())
            || self.failed_scenarios().next().is_some()
    }

    /// The scenarios that failed, by name.
    pub fn failed_scenarios(&self) -> impl Iterator<Item = &str> {
        self.evidence
            .scenarios
            .iter()
            .filter(|s| s.verdict.fails_run())
            .map(|s| s.name.as_str())
    }

    /// True when at least one scenario ran to a verdict of its own (passed,
    /// failed or warned), rather than being not applicable or waiting for a
    /// person's attestation.
    pub fn ran_any(&self) -> bool {
        self.evidence.scenarios.iter().any(|s| {
            matches!(
                s.verdict,
                Verdict::Pass
                    | Verdict::Fail
                    | Verdict::Warning
                    | Verdict::Inconclusive
                    | Verdict::Attested
            )
        })
    }

    /// True when the target, not the shop, kept an item or a scenario from
    /// being judged (exit 3 when nothing failed).
    pub fn inconclusive(&self) -> bool {
        self.evidence
            .items
            .iter()
            .any(|i| i.verdict.target_failed())
            || self
                .evidence
                .scenarios
                .iter()
                .any(|s| s.verdict.target_failed())
    }
}

/// Step failures reach cucumber as panics (that is how it learns of them);
/// their message is in the evidence and the scenario line, so the default
/// hook's "thread panicked at src/steps/..." is left out. Other panics print.
fn quiet_step_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let from_step = info
                .location()
                .is_some_and(|l| l.file().replace('\\', "/").contains("src/steps/"));
            if !from_step {
                default(info);
            }
        }));
    });
}

/// Runs the features against the configured target and writes the run folder.
pub async fn run(o: RunOptions) -> Result<RunOutcome, RunError> {
    quiet_step_panics();
    let production = o.config.target.is_production() || o.production_stand_in;
    check_flags(&o, production)?;
    let features = match &o.features {
        Some(dir) => features::from_dir(dir),
        None => features::embedded(),
    }
    .map_err(|e| RunError::Usage(e.to_string()))?;
    let tag_filter = match &o.tags {
        Some(expr) => Some(expr.parse::<TagOperation>().map_err(|e| {
            RunError::Usage(format!("`--tags {expr}` is not a tag expression: {e}"))
        })?),
        None => None,
    };

    let meta = RunMeta::new(FolderKind::Run, Utc::now());
    let folder = folder::create(&meta, &o.out)?;
    let result = run_in(&o, &folder, &meta, production, features, tag_filter).await;
    if let Err(e) = &result {
        // No manifest and a status that says why: recognisably incomplete,
        // and `latest` stays on the last complete run.
        // An interrupted run and one whose evidence contradicts a verdict
        // wrote and sealed their folder: it stays as written. A run that
        // lost evidence stays `incomplete`, as a full disk leaves it anyway.
        match e {
            RunError::Interrupted(_) | RunError::Contradicted(_) => {}
            RunError::Evidence(why) => {
                let _ = folder.lost(&redact::text(why));
            }
            _ => {
                let _ = folder.fail(&redact::text(&e.to_string()));
            }
        }
    }
    result
}

/// Refuses, before anything is made, production without
/// `--allow-real-money` and an `--attest` that names no manual item.
fn check_flags(o: &RunOptions, production: bool) -> Result<(), RunError> {
    if production && !o.allow_real_money {
        return Err(RunError::Usage(
            "production moves real money and is refused without --allow-real-money (hint: vipps-golive run --env production --allow-real-money)".into(),
        ));
    }
    for (id, by) in &o.attest {
        match crate::domain::checklist::find(id) {
            Some(item) if crate::rules::verdicts::needs_person(item.key) && !by.trim().is_empty() => {}
            _ => {
                return Err(RunError::Usage(format!(
                    "`--attest {id}=...` names no item a person confirms (hint: --attest PF-DESIGN=\"Name, role\", PF-SUPPORT=... or QA-ERRORS=...)"
                )))
            }
        }
    }
    Ok(())
}

/// The run, in its folder: every phase in order, every event to the stream.
async fn run_in(
    o: &RunOptions,
    folder: &RunFolder,
    meta: &RunMeta,
    production: bool,
    features: Vec<Feature>,
    tag_filter: Option<TagOperation>,
) -> Result<RunOutcome, RunError> {
    let dir = folder.dir().to_owned();
    let stream = Stream::open(o, folder)?;
    let events = &stream.events;
    let prepared = target::prepare(o, production).await?;
    // On a virtual clock the exchanges are dated ahead of the wall clock:
    // the run's span on that clock is kept too (issue 20 point 10).
    let clock_started = prepared.clock.now();
    let planned = plan::plan(
        &features,
        tag_filter.as_ref(),
        prepared.target.as_ref(),
        prepared.environment,
        o,
    );
    let selected = plan::selected(&planned);
    let concurrency = plan::concurrency(o, prepared.environment, selected.len());
    let attestations = attestations(o);
    events.emit(EventKind::RunStarted {
        run_id: meta.run_id(),
        target: &target_name(o),
        base_url: &crate::config::display_url(&prepared.base_url),
        started_at: meta.started_at(),
        tags: o.tags.as_deref(),
        attestations: &attestations,
        planned: &plan::for_journal(&planned),
    });

    let (client, client_options) =
        connect(o, &prepared, events, production, (&dir, meta.run_id())).await?;
    let ctx = Arc::new(context(
        o,
        meta,
        &prepared,
        (client.clone(), client_options),
        stream.log.exchanges(),
        attestations.clone(),
        production,
    ));
    let how = execute::Execution {
        concurrency,
        fail_fast: o.fail_fast,
        stop_on_ctrl_c: production,
    };
    let executed =
        execute::execute(features.clone(), selected, ctx.clone(), events.clone(), how).await;
    if production {
        if executed.interrupted {
            events.emit(EventKind::RunInterrupted);
        }
        cleanup(&client, &ctx, events).await;
    }

    stream.settle(&dir)?;
    tell_unrun(&planned, &stream.log, events);
    let mut recorded = stream.recorded(&planned, attestations, !executed.interrupted, folder);
    recorded.virtual_span = prepared.virtual_clock.then(|| Span {
        started_at: clock_started,
        finished_at: prepared.clock.now(),
    });
    let evidence = evidence(o, meta, &prepared, recorded);
    write(folder, &evidence, events)?;
    events.emit(EventKind::RunFinished);
    if executed.interrupted {
        return Err(RunError::Interrupted(
            "the run was interrupted (Ctrl-C); what it left was cleaned up".into(),
        ));
    }
    Ok(RunOutcome { evidence, dir })
}

/// The run's event stream, and the two consumers the runner reads back:
/// the journal (synced before any verdict) and the evidence log.
struct Stream {
    journal: Arc<Journal>,
    log: Arc<RunLog>,
    events: Arc<EventStream>,
}

impl Stream {
    /// The journal in `folder`, the evidence log, then `o`'s own consumers.
    fn open(o: &RunOptions, folder: &RunFolder) -> Result<Stream, RunError> {
        let journal = Arc::new(Journal::create(folder.path("journal.jsonl")).map_err(|e| {
            RunError::Evidence(format!(
                "cannot create the journal in `{}`: {e}",
                folder.dir().display()
            ))
        })?);
        let log = RunLog::new();
        let mut consumers: Vec<Arc<dyn Consumer>> =
            vec![Arc::new(JournalWriter(journal.clone())), log.clone()];
        consumers.extend(o.consumers.iter().cloned());
        Ok(Stream {
            journal,
            log,
            events: Arc::new(EventStream::new(consumers)),
        })
    }

    /// Stops the run if anything could not be recorded, then makes the
    /// journal durable: nothing is judged that is not on disk.
    fn settle(&self, dir: &Path) -> Result<(), RunError> {
        recorded(&self.events, dir, "the last scenario")?;
        self.journal
            .sync()
            .map_err(|e| RunError::Evidence(format!("{e}; `{}` is incomplete", dir.display())))
    }

    /// What the run recorded of the `planned` scenarios, for its evidence.
    fn recorded(
        &self,
        planned: &[Planned<'_>],
        attestations: Vec<Attestation>,
        complete: bool,
        folder: &RunFolder,
    ) -> Recorded {
        let order: Vec<_> = planned.iter().map(|p| p.key.clone()).collect();
        let (scenarios, kept) = self.log.scenarios(&order);
        Recorded {
            scenarios,
            kept,
            exchanges: self.log.exchanges().exchanges(),
            attestations,
            complete,
            // Attempts written ahead with no outcome (after Ctrl-C, for
            // example): each may have taken effect.
            unanswered: Journal::interrupted(folder.path("journal.jsonl")).unwrap_or_default(),
            virtual_span: None,
        }
    }
}

/// `--attest` as given, dated now.
fn attestations(o: &RunOptions) -> Vec<Attestation> {
    o.attest
        .iter()
        .map(|(id, by)| Attestation {
            checklist_id: id.clone(),
            by: by.clone(),
            at: Utc::now(),
        })
        .collect()
}

/// What could not be recorded stops the run: no verdict without evidence.
fn recorded(events: &EventStream, dir: &Path, done: &str) -> Result<(), RunError> {
    let Some(e) = events.failure() else {
        return Ok(());
    };
    Err(RunError::Evidence(format!(
        "{e} (after {done}); the run stopped, `{}` is incomplete (hint: free disk space or choose another --out)",
        dir.display()
    )))
}

/// The run's client, after one token request: a target that cannot be
/// reached or refuses the credentials ends the run now (exit 3), not as 40
/// failed scenarios.
async fn connect(
    o: &RunOptions,
    prepared: &Prepared,
    events: &Arc<EventStream>,
    production: bool,
    (dir, run_id): (&Path, &str),
) -> Result<(Client, ClientOptions), RunError> {
    let mut client_options = ClientOptions::new(
        prepared.base_url.clone(),
        prepared.credentials.clone(),
        prepared.clock.clone(),
        events.clone(),
    );
    client_options.system = o.config.system.clone();
    client_options.production = production;
    client_options.run_id = Some(run_id.to_owned());
    let client = Client::new(client_options.clone()).map_err(|e| RunError::Usage(e.to_string()))?;
    let check = client.tagged(&[], Some("connection check"));
    if let Err(e) = check.access_token().await {
        recorded(events, dir, "the access token request")?;
        if e.is_unreachable() || e.is_credentials_refused() {
            return Err(RunError::Unreachable(redact::text(&format!(
                "{} ({})",
                e,
                e.explain()
            ))));
        }
    }
    Ok((client, client_options))
}

/// What every scenario of the run shares.
fn context(
    o: &RunOptions,
    meta: &RunMeta,
    prepared: &Prepared,
    (client, client_options): (Client, ClientOptions),
    exchanges: Arc<MemoryRecorder>,
    attestations: Vec<Attestation>,
    production: bool,
) -> RunContext {
    let customer_phone = match prepared.environment {
        Environment::Test => o.test_phone.clone(),
        Environment::Simulator => Some("4791234567".into()),
        Environment::Production => None,
    };
    RunContext {
        client,
        client_options,
        target: prepared.target.clone(),
        exchanges,
        // References name the run's start, so two runs never share one.
        references: ReferenceGenerator::new(&format!(
            "golive-{}",
            meta.started_at().format("%Y%m%d%H%M%S")
        )),
        attestations,
        max_amount: production.then_some(o.max_amount.max(1)),
        return_page: o.return_url.clone(),
        customer_phone,
        made: Mutex::new(Vec::new()),
    }
}

/// Tells the scenarios that did not run, in feature order, after those
/// that did: skipped (decided before the run) or not reached (the run
/// stopped before them).
fn tell_unrun(planned: &[Planned<'_>], log: &RunLog, events: &EventStream) {
    let now = Utc::now();
    for p in planned.iter().filter(|p| !log.has(&p.key)) {
        let info = collect::info(p.feature, p.scenario);
        match &p.skip {
            Some((verdict, reason)) => events.emit(EventKind::ScenarioSkipped {
                scenario: &p.key,
                result: &info.not_run(*verdict, reason.clone(), now),
            }),
            None => events.emit(EventKind::ScenarioNotReached {
                scenario: &p.key,
                result: &info.not_run(Verdict::NotRun, "the run stopped before it".into(), now),
            }),
        }
    }
}

/// The target as evidence.json names it (a stand-in is named for what it
/// stands in for).
fn target_name(o: &RunOptions) -> String {
    if o.production_stand_in {
        "production".into()
    } else if o.test_stand_in {
        "test".into()
    } else {
        o.config.target.name().into()
    }
}

/// What a run recorded, for its evidence.
struct Recorded {
    /// Every scenario, in feature order, with its steps.
    scenarios: Vec<ScenarioResult>,
    /// Go-live references kept, each with its scenario's checklist IDs.
    kept: Vec<(String, KeptReference)>,
    /// Every exchange, in journal order.
    exchanges: Vec<Exchange>,
    /// `--attest` as given.
    attestations: Vec<Attestation>,
    /// False when Ctrl-C stopped the run.
    complete: bool,
    /// Attempts written ahead with no outcome.
    unanswered: Vec<crate::evidence::model::InterruptedAttempt>,
    /// The run's span on its virtual clock, when it had one.
    virtual_span: Option<Span>,
}

/// The run's evidence: the rules over its recorded exchanges, one verdict
/// per checklist item, and the go-live references.
fn evidence(o: &RunOptions, meta: &RunMeta, prepared: &Prepared, r: Recorded) -> Evidence {
    // The rules judge the run's own traffic as they judge a shop's; what the
    // errors feature provokes on purpose they judge by its headers alone.
    let (findings, observed) =
        crate::rules::judge_with_observed(&r.exchanges, crate::rules::RuleOptions::default());
    // What each kept go-live reference proves is the rules' judgement of
    // its last recorded reads, the same as `verify` asks of a shop's.
    let id = match prepared.environment {
        Environment::Production => ChecklistId::GlProd,
        _ => ChecklistId::GlTest,
    };
    let judged = items::judge_kept(id, &r.kept, &r.exchanges, Utc::now());
    let items = items::items(&items::Inputs {
        environment: prepared.environment,
        scenarios: &r.scenarios,
        findings: &findings,
        observed: &observed,
        attestations: &r.attestations,
        golive: &judged,
    });
    let golive = items::golive_refs(id, &judged);
    let shown = crate::config::display_url(&prepared.base_url);
    meta.evidence(TargetInfo::new(target_name(o), shown))
        .complete(r.complete)
        .virtual_span(r.virtual_span)
        .msn(prepared.credentials.msn.clone())
        .tags(o.tags.clone())
        .system(
            Some(o.config.system.system_name.clone()),
            Some(o.config.system.system_version.clone()),
        )
        .golive(Some(golive))
        .items(items)
        .scenarios(r.scenarios)
        .findings(findings)
        .attestations(r.attestations)
        .interrupted(r.unanswered)
        .exchanges(r.exchanges)
        .finish()
}

/// The run folder's files: evidence.json, then junit.xml, cucumber.json
/// and report.html, all three from that evidence, then the manifest.
fn write(folder: &RunFolder, evidence: &Evidence, events: &EventStream) -> Result<(), RunError> {
    let junit = crate::report::ci::junit(evidence);
    let cucumber_json = crate::report::ci::cucumber_json(evidence);
    let files: [(&str, &[u8]); 2] = [
        ("junit.xml", junit.as_bytes()),
        ("cucumber.json", cucumber_json.as_bytes()),
    ];
    for message in folder::finish(folder, evidence, &files)? {
        events.emit(EventKind::Warning { message: &message });
    }
    Ok(())
}

/// Production: refund what was captured and cancel what is left authorized.
/// Every call is recorded like any other: the cleanup is evidence too.
async fn cleanup(client: &Client, ctx: &RunContext, events: &EventStream) {
    let client = client.tagged(
        &[ChecklistId::GlProd.as_str()],
        Some("cleanup after the production run"),
    );
    let made: Vec<String> = ctx.made.lock().map(|m| m.clone()).unwrap_or_default();
    let failed = |reference: &str, action, e: crate::api::ApiError| {
        events.emit(EventKind::CleanupFailed {
            reference,
            action,
            error: &e.to_string(),
        })
    };
    for reference in made {
        let Ok(p) = client.get_payment(&reference).await else {
            continue;
        };
        let refundable = p.aggregate.refundable();
        if refundable > 0 {
            if let Err(e) = client
                .refund_payment(&reference, crate::api::Amount::nok(refundable))
                .await
            {
                failed(&reference, "refund", e);
            }
        }
        if p.state == crate::api::State::Authorized && p.aggregate.capturable() > 0 {
            if let Err(e) = client.cancel_payment(&reference, None).await {
                failed(&reference, "cancel", e);
            }
        }
        if p.state == crate::api::State::Created {
            let _ = client.cancel_payment(&reference, None).await;
        }
    }
}

#[cfg(test)]
mod ci_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{SystemHeaders, Target as ConfigTarget};

    /// Keeps a line per event, as a consumer the face could be.
    #[derive(Default)]
    struct Told(Mutex<Vec<String>>);

    impl Consumer for Told {
        fn consume(
            &self,
            event: &events::RunEvent<'_>,
        ) -> Result<(), crate::evidence::RecordError> {
            let line = match &event.kind {
                EventKind::RunStarted { .. } => "run started".to_owned(),
                EventKind::ScenarioStarted { name, .. } => format!("started {name}"),
                EventKind::ScenarioFinished { result, .. } => format!("finished {}", result.name),
                EventKind::ScenarioSkipped { result, .. } => format!("skipped {}", result.name),
                EventKind::ExchangeRecorded { .. } => "exchange".to_owned(),
                EventKind::RunFinished => "run finished".to_owned(),
                _ => return Ok(()),
            };
            self.0.lock().unwrap().push(line);
            Ok(())
        }
    }

    fn options(out: &Path, told: Arc<Told>) -> RunOptions {
        let config = Config {
            target: ConfigTarget::Simulator,
            credentials: None,
            system: SystemHeaders::default(),
        };
        let mut o = RunOptions::new(config, out.to_owned());
        o.tags = Some("@EP-GET or @PF-DESIGN".into());
        o.consumers.push(told);
        o
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_run_tells_its_consumers_what_happened_in_order() {
        let out = tempfile::tempdir().unwrap();
        let told = Arc::new(Told::default());
        let outcome = run(options(out.path(), told.clone())).await.unwrap();
        let told = told.0.lock().unwrap().clone();

        assert_eq!(told.first().map(String::as_str), Some("run started"));
        assert_eq!(told.last().map(String::as_str), Some("run finished"));
        for s in &outcome.evidence.scenarios {
            let at = |what: &str| told.iter().position(|l| *l == format!("{what} {}", s.name));
            match s.verdict {
                Verdict::Pass => {
                    let (started, finished) = (at("started").unwrap(), at("finished").unwrap());
                    assert!(started < finished, "{}: {told:#?}", s.name);
                    assert!(!s.steps.is_empty(), "{}: its steps were kept", s.name);
                }
                _ => {
                    assert!(at("skipped").is_some(), "{}: {told:#?}", s.name);
                    assert!(at("started").is_none(), "{}: {told:#?}", s.name);
                }
            }
        }
        assert!(
            outcome
                .evidence
                .scenarios
                .iter()
                .any(|s| s.verdict == Verdict::NeedsAttestation),
            "the manual scenario is told as skipped"
        );
        let exchanges = told.iter().filter(|l| *l == "exchange").count();
        assert_eq!(exchanges, outcome.evidence.exchanges.len());
        let journal = std::fs::read_to_string(outcome.dir.join("journal.jsonl")).unwrap();
        assert!(
            journal.lines().count() >= exchanges,
            "the journal consumer wrote every exchange (and every attempt ahead)"
        );
    }

    /// The face sits on top and alone prints, knows clap and picks exit
    /// codes: the runner tells what happened and returns data.
    #[test]
    fn the_runner_names_nothing_of_the_face() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/runner");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            // The runner's test modules (`tests_*.rs`) drive it as the face does.
            let name = path.file_name().unwrap().to_string_lossy();
            if name.starts_with("tests_") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for room in ["output", "cli", "commands", "error", "Error"] {
                let face = format!("crate::{room}");
                assert!(!text.contains(&face), "{} names {face}", path.display());
            }
        }
    }
}

#[cfg(test)]
mod tests_targets;

#[cfg(test)]
mod tests_production_interrupt;

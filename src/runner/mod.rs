//! Runs the Gherkin features against a target and turns what happened into
//! `evidence.json`, `junit.xml`, `cucumber.json` and the journal.
//!
//! `commands::run` only parses flags into [`RunOptions`] and prints the
//! [`RunOutcome`]; everything checklist-specific is here and in `steps/`.
//!
//! Concurrency: on the simulator every scenario runs at once, sharing one
//! virtual clock. A client sleep moves that clock to the sleeper's deadline
//! (never by the sum of concurrent sleeps, see [`DeadlineClock`]), and expiry
//! is provoked per payment through the control API, so one scenario's waiting
//! never expires another's payment.

pub mod collect;
pub mod features;
pub mod html;
pub mod items;
pub mod output;
pub mod verify;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::tag::Ext as _;
use cucumber::{writer, World as _, WriterExt as _};
use futures::FutureExt as _;

use crate::api::{Client, ClientOptions, ReferenceGenerator};
use crate::clock::{Clock, SharedClock, SleepFuture, SystemClock, VirtualClock};
use crate::config::{Config, Credentials, Target as ConfigTarget};
use crate::evidence::model::{
    Attestation, Evidence, RunInfo, RunKind, ScenarioResult, Verdict, EVIDENCE_SCHEMA_VERSION,
};
use crate::evidence::{redact, Journal, MemoryRecorder, RunFolder, SharedRecorder, Tee};
use crate::simulator::mock::SimServer;
use crate::simulator::{SimConfig, Simulator};
use crate::steps::target::{Person, ProductionTarget, SimulatorTarget, TestTarget};
use crate::steps::{self, GoLiveWorld, KeptReference, Need, RunContext, Target};
use crate::Error;

use collect::{Buffer, Collected, StepLog};
use items::Environment;

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
    /// True when any checklist item failed (exit status 1).
    pub fn failed(&self) -> bool {
        self.evidence.items.iter().any(|i| i.verdict.fails_run())
    }
}

/// A virtual clock shared by concurrent scenarios: a sleep moves it to the
/// sleeper's deadline, so ten scenarios each waiting 5 s move it 5 s, not 50.
#[derive(Debug)]
pub struct DeadlineClock {
    inner: Arc<VirtualClock>,
    lock: Mutex<()>,
}

impl DeadlineClock {
    pub fn new(inner: Arc<VirtualClock>) -> Arc<DeadlineClock> {
        Arc::new(DeadlineClock {
            inner,
            lock: Mutex::new(()),
        })
    }
}

impl Clock for DeadlineClock {
    fn now(&self) -> DateTime<Utc> {
        self.inner.now()
    }
    fn sleep(&self, d: Duration) -> SleepFuture<'_> {
        let deadline = self.inner.now() + chrono::Duration::from_std(d).unwrap_or_default();
        if let Ok(_guard) = self.lock.lock() {
            let now = self.inner.now();
            if deadline > now {
                self.inner
                    .advance((deadline - now).to_std().unwrap_or_default());
            }
        }
        Box::pin(tokio::task::yield_now())
    }
}

fn sim_credentials(config: &Config) -> Result<Credentials, Error> {
    if let Some(c) = &config.credentials {
        return Ok(c.clone());
    }
    let account = SimConfig::default_accounts()
        .into_iter()
        .next()
        .ok_or_else(|| Error::Usage("the simulator has no account".into()))?;
    Ok(Credentials {
        client_id: account.client_id.into(),
        client_secret: account.client_secret.into(),
        subscription_key: account.subscription_key.into(),
        msn: account.msn,
    })
}

/// Why a scenario is not started, decided before the run.
fn not_started(
    scenario: &cucumber::gherkin::Scenario,
    target: &dyn Target,
    environment: Environment,
    o: &RunOptions,
) -> Option<(Verdict, String)> {
    let tags = &scenario.tags;
    let has = |t: &str| tags.iter().any(|x| x == t);
    if has("manual") {
        let ids = steps::checklist_ids(tags);
        let attested = ids.iter().all(|id| o.attest.iter().any(|(a, _)| a == id));
        return (!attested).then(|| {
            (
                Verdict::NeedsAttestation,
                steps::target::needs_attestation(),
            )
        });
    }
    if !has(target.tag()) {
        return Some((
            Verdict::NotApplicable,
            format!(
                "not run on the {} target (its tags name where it runs)",
                target.tag()
            ),
        ));
    }
    if has("slow") && environment != Environment::Simulator && !o.include_slow {
        return Some((
            Verdict::NotApplicable,
            "takes 10 real minutes on this target (hint: --include-slow)".into(),
        ));
    }
    tags.iter()
        .filter_map(|t| Need::from_tag(t))
        .filter(|n| *n != Need::Attestation)
        .find_map(|n| target.cannot(n))
        .map(|why| (Verdict::NotApplicable, why))
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
pub async fn run(o: RunOptions) -> Result<RunOutcome, Error> {
    quiet_step_panics();
    let production = o.config.target.is_production() || o.production_stand_in;
    if production && !o.allow_real_money {
        return Err(Error::Usage(
            "production moves real money and is refused without --allow-real-money (hint: vipps-golive run --env production --allow-real-money)".into(),
        ));
    }
    for (id, by) in &o.attest {
        match crate::checklist::find(id) {
            Some(item) if item.manual && !by.trim().is_empty() => {}
            _ => {
                return Err(Error::Usage(format!(
                    "`--attest {id}=...` names no manual item (hint: --attest PF-DESIGN=\"Name, role\" or PF-SUPPORT=...)"
                )))
            }
        }
    }
    let features = match &o.features {
        Some(dir) => features::from_dir(dir),
        None => features::embedded(),
    }
    .map_err(|e| Error::Usage(e.to_string()))?;
    let tag_filter =
        match &o.tags {
            Some(expr) => Some(expr.parse::<TagOperation>().map_err(|e| {
                Error::Usage(format!("`--tags {expr}` is not a tag expression: {e}"))
            })?),
            None => None,
        };

    let started_at = Utc::now();
    let run_id = format!(
        "{}-{}",
        started_at.format("%Y%m%dT%H%M%SZ"),
        &uuid::Uuid::new_v4().simple().to_string()[..6]
    );
    let folder = output::create(&o.out, &run_id, started_at)?;
    let result = run_in(
        &o, &folder, &run_id, started_at, production, features, tag_filter,
    )
    .await;
    if let Err(e) = &result {
        // No manifest and a status that says why: recognisably incomplete,
        // and `latest` stays on the last complete run.
        if !matches!(e, Error::Failed(_)) {
            let _ = folder.fail(&redact::text(&e.to_string()));
        }
    }
    result
}

#[allow(clippy::too_many_arguments)]
async fn run_in(
    o: &RunOptions,
    folder: &RunFolder,
    run_id: &str,
    started_at: DateTime<Utc>,
    production: bool,
    features: Vec<cucumber::gherkin::Feature>,
    tag_filter: Option<TagOperation>,
) -> Result<RunOutcome, Error> {
    let dir = folder.dir().to_owned();
    let journal = Arc::new(Journal::create(folder.path("journal.jsonl")).map_err(|e| {
        Error::Evidence(format!(
            "cannot create the journal in `{}`: {e}",
            dir.display()
        ))
    })?);
    let memory = MemoryRecorder::new();
    let recorder: SharedRecorder = Arc::new(Tee(vec![journal.clone(), memory.clone()]));
    // What could not be recorded stops the run: no verdict without evidence.
    let check_recorded = |done: &str| -> Result<(), Error> {
        let Some(e) = recorder.failure() else {
            return Ok(());
        };
        Err(Error::Evidence(format!(
            "{e} (after {done}); the run stopped, `{}` is incomplete (hint: free disk space or choose another --out)",
            dir.display()
        )))
    };

    // The target: where, with which keys, on which clock, and what it can do.
    let (base_url, credentials, clock, target, environment, _server): (
        url::Url,
        Credentials,
        SharedClock,
        Arc<dyn Target>,
        Environment,
        Option<SimServer>,
    ) = match &o.config.target {
        ConfigTarget::Simulator => {
            let virtual_clock = VirtualClock::new();
            let mut sim_config = o.simulator.clone();
            if let Some(c) = &o.config.credentials {
                // Credentials given for the simulator are the ones the run uses.
                sim_config.accounts.insert(
                    0,
                    crate::simulator::Account {
                        merchant_name: "Your sales unit".into(),
                        client_id: c.client_id.expose().to_owned(),
                        client_secret: c.client_secret.expose().to_owned(),
                        subscription_key: c.subscription_key.expose().to_owned(),
                        msn: c.msn.clone(),
                        currency: "NOK".into(),
                    },
                );
            }
            let sim = Simulator::with_clock(sim_config, virtual_clock.clone());
            let server = SimServer::start_on(sim).await;
            let base = url::Url::parse(&server.uri())
                .map_err(|e| Error::Usage(format!("the simulator's URL did not parse: {e}")))?;
            let target = SimulatorTarget::new(Some(base.clone()), true, o.return_url.is_some());
            (
                base,
                sim_credentials(&o.config)?,
                DeadlineClock::new(virtual_clock),
                Arc::new(target),
                Environment::Simulator,
                Some(server),
            )
        }
        other => {
            let base = other
                .base_url()
                .ok_or_else(|| Error::Usage("the target has no base URL".into()))?;
            let credentials = match (&o.config.credentials, other) {
                (Some(c), _) => c.clone(),
                (None, ConfigTarget::Custom(_)) => sim_credentials(&o.config)?,
                (None, _) => {
                    return Err(Error::Usage(format!(
                        "credentials are required for the {} target (hint: set VIPPS_CLIENT_ID, VIPPS_CLIENT_SECRET, VIPPS_SUBSCRIPTION_KEY and VIPPS_MSN, or --env-file)",
                        other.name()
                    )))
                }
            };
            // The person is the face's (a terminal, or a test's stand-in):
            // the runner never prints.
            let person = o.person.clone();
            let (target, environment): (Arc<dyn Target>, Environment) = if production {
                let person = person.ok_or_else(|| {
                    Error::Usage(
                        "a production run needs a person to approve each payment in the app (hint: run it from a terminal)".into(),
                    )
                })?;
                (
                    Arc::new(ProductionTarget {
                        person,
                        return_page: o.return_url.is_some(),
                    }),
                    Environment::Production,
                )
            } else if matches!(other, ConfigTarget::Test) || o.test_stand_in {
                (
                    Arc::new(TestTarget {
                        test_phone: o.test_phone.clone(),
                        person: person.filter(|_| !o.non_interactive),
                        return_page: o.return_url.is_some(),
                    }),
                    Environment::Test,
                )
            } else {
                // A custom URL: a standalone simulator or a proxy in front of one.
                let control = SimulatorTarget::probe_control(&base)
                    .await
                    .then(|| base.clone());
                let loopback = crate::domain::host::is_loopback(&base);
                (
                    Arc::new(SimulatorTarget::new(
                        control,
                        loopback,
                        o.return_url.is_some(),
                    )),
                    Environment::Simulator,
                )
            };
            (
                base,
                credentials,
                o.clock
                    .clone()
                    .unwrap_or_else(|| Arc::new(SystemClock) as SharedClock),
                target,
                environment,
                None,
            )
        }
    };

    let mut client_options = ClientOptions::new(
        base_url.clone(),
        credentials.clone(),
        clock,
        recorder.clone(),
    );
    client_options.system = o.config.system.clone();
    client_options.production = production;
    let client = Client::new(client_options.clone()).map_err(|e| Error::Usage(e.to_string()))?;

    // Unreachable or refused credentials: exit 3 now, not 40 failed scenarios.
    let check = client.tagged(&[], Some("connection check"));
    if let Err(e) = check.access_token().await {
        check_recorded("the access token request")?;
        if e.is_unreachable() || e.is_credentials_refused() {
            return Err(Error::Unreachable {
                message: redact::text(&format!("{} ({})", e, e.explain())),
                source: None,
            });
        }
    }

    let attestations: Vec<Attestation> = o
        .attest
        .iter()
        .map(|(id, by)| Attestation {
            checklist_id: id.clone(),
            by: by.clone(),
            at: Utc::now(),
        })
        .collect();
    let test_phone = match environment {
        Environment::Test => o.test_phone.clone(),
        Environment::Simulator => Some("4791234567".into()),
        Environment::Production => None,
    };
    let ctx = Arc::new(RunContext {
        client: client.clone(),
        client_options,
        target: target.clone(),
        exchanges: memory.clone(),
        references: ReferenceGenerator::new(&format!("golive-{}", &run_id[..15].replace('T', ""))),
        attestations: attestations.clone(),
        max_amount: production.then_some(o.max_amount.max(1)),
        return_page: o.return_url.clone(),
        customer_phone: test_phone,
        made: Mutex::new(Vec::new()),
    });

    // Decide, before anything runs, which scenarios the target can do.
    let mut skipped: HashMap<(String, usize), (Verdict, String)> = HashMap::new();
    let mut selected: HashSet<(String, usize)> = HashSet::new();
    for f in &features {
        for s in &f.scenarios {
            if let Some(filter) = &tag_filter {
                if !filter.eval(s.tags.iter()) {
                    continue;
                }
            }
            let key = features::key(f, s);
            match not_started(s, target.as_ref(), environment, o) {
                Some(v) => {
                    skipped.insert(key, v);
                }
                None => {
                    selected.insert(key);
                }
            }
        }
    }
    let concurrency = o.concurrency.unwrap_or(match environment {
        Environment::Simulator => selected.len().max(1),
        Environment::Test => 4,
        Environment::Production => 1,
    });
    let concurrency = if environment == Environment::Production {
        1
    } else {
        concurrency.max(1)
    };

    let collected = Arc::new(Collected::default());
    let junit = Buffer::default();
    let json = Buffer::default();
    let cucumber_writer = StepLog(collected.clone())
        .tee::<GoLiveWorld, _>(writer::JUnit::for_tee(junit.clone(), 0))
        .tee::<GoLiveWorld, _>(writer::Json::for_tee(json.clone()))
        .normalized::<GoLiveWorld>();
    let after_collected = collected.clone();
    let selected = Arc::new(selected);
    let filter_selected = selected.clone();
    let mut cucumber = GoLiveWorld::cucumber::<&str>()
        .with_parser(features::InMemory(features.clone()))
        .with_writer(cucumber_writer)
        .fail_on_skipped()
        .with_cli(cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default())
        .max_concurrent_scenarios(concurrency)
        .before(|_, _, scenario, world| {
            async move { world.start(&scenario.name, &scenario.tags) }.boxed_local()
        })
        .after(move |feature, _, scenario, ev, world| {
            let collected = after_collected.clone();
            async move {
                let finished = collected.finish(feature, scenario, ev, world.as_deref());
                progress_line(&finished.name, finished.verdict, finished.reason.as_deref());
            }
            .boxed_local()
        });
    if o.fail_fast {
        cucumber = cucumber.fail_fast();
    }
    let running = RUN_CONTEXT.scope(
        ctx.clone(),
        cucumber.filter_run((), move |f, _, s| {
            filter_selected.contains(&features::key(f, s))
        }),
    );
    let interrupted = if production {
        tokio::select! {
            _ = running => false,
            _ = tokio::signal::ctrl_c() => true,
        }
    } else {
        running.await;
        false
    };
    if production {
        if interrupted {
            crate::output::diag("interrupted: cancelling and refunding what the run left");
        }
        cleanup(&client, &ctx).await;
    }

    check_recorded("the last scenario")?;
    if let Err(e) = journal.sync() {
        return Err(Error::Evidence(format!(
            "{e}; `{}` is incomplete",
            dir.display()
        )));
    }

    // Evidence, from what the target answered.
    let exchanges = memory.exchanges();
    let finished: HashMap<(String, usize), collect::Finished> = collected
        .finished
        .lock()
        .map(|f| f.iter().cloned().collect())
        .unwrap_or_default();
    let mut step_log = collected
        .steps
        .lock()
        .map(|s| s.clone())
        .unwrap_or_default();
    let mut scenarios = Vec::new();
    let mut kept: Vec<(String, KeptReference)> = Vec::new();
    let now = Utc::now();
    for f in &features {
        for s in &f.scenarios {
            let key = features::key(f, s);
            let ids = steps::checklist_ids(&s.tags);
            let result = if let Some(done) = finished.get(&key) {
                for k in &done.kept {
                    kept.push((ids.join(" "), k.clone()));
                }
                ScenarioResult {
                    name: done.name.clone(),
                    feature: done.feature.clone(),
                    tags: s.tags.clone(),
                    checklist_ids: ids,
                    verdict: done.verdict,
                    reason: done.reason.clone(),
                    references: done.references.clone(),
                    started_at: done.started_at,
                    finished_at: done.finished_at,
                    steps: step_log.remove(&key).unwrap_or_default(),
                }
            } else if let Some((verdict, reason)) = skipped.get(&key) {
                progress_line(&s.name, *verdict, Some(reason));
                ScenarioResult {
                    name: s.name.clone(),
                    feature: f.name.clone(),
                    tags: s.tags.clone(),
                    checklist_ids: ids,
                    verdict: *verdict,
                    reason: Some(reason.clone()),
                    references: Vec::new(),
                    started_at: now,
                    finished_at: now,
                    steps: Vec::new(),
                }
            } else if selected.contains(&key) {
                // Selected but never finished: --fail-fast or Ctrl-C stopped the run.
                ScenarioResult {
                    name: s.name.clone(),
                    feature: f.name.clone(),
                    tags: s.tags.clone(),
                    checklist_ids: ids,
                    verdict: Verdict::NotApplicable,
                    reason: Some("not run: the run stopped before it".into()),
                    references: Vec::new(),
                    started_at: now,
                    finished_at: now,
                    steps: Vec::new(),
                }
            } else {
                continue;
            };
            scenarios.push(result);
        }
    }
    // The rules judge the run's own traffic as they judge a shop's; what the
    // errors feature provokes on purpose they judge by its headers alone.
    let (findings, observed) =
        crate::rules::judge_with_observed(&exchanges, crate::rules::RuleOptions::default());
    let items = items::items(&items::Inputs {
        environment,
        scenarios: &scenarios,
        findings: &findings,
        observed: &observed,
        attestations: &attestations,
        kept: &kept,
    });
    let golive = match environment {
        Environment::Production => Some(items::golive_refs("GL-PROD", &kept)),
        _ => Some(items::golive_refs("GL-TEST", &kept)),
    };
    let finished_at = Utc::now();
    let evidence = Evidence {
        schema_version: EVIDENCE_SCHEMA_VERSION,
        kind: RunKind::Run,
        complete: !interrupted,
        run: RunInfo {
            run_id: run_id.to_owned(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            target: if o.production_stand_in {
                "production".into()
            } else if o.test_stand_in {
                "test".into()
            } else {
                o.config.target.name().into()
            },
            base_url: crate::config::display_url(&base_url),
            msn: credentials.msn.clone(),
            started_at,
            finished_at,
            stale_after: started_at
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(started_at),
            tags: o.tags.clone(),
            system_name: Some(o.config.system.system_name.clone()),
            system_version: Some(o.config.system.system_version.clone()),
        },
        golive,
        items,
        scenarios,
        references: crate::evidence::build::references(&exchanges, &credentials.msn),
        findings,
        attestations,
        webhook_checks: Vec::new(),
        // Attempts written ahead with no outcome (after Ctrl-C, for example):
        // each may have taken effect.
        interrupted: Journal::interrupted(folder.path("journal.jsonl")).unwrap_or_default(),
        exchanges,
    };
    let html = html::report(&evidence);
    output::finish(folder, &evidence, &junit.take(), &json.take(), &html)?;
    if interrupted {
        return Err(Error::Failed(
            "the run was interrupted (Ctrl-C); what it left was cleaned up".into(),
        ));
    }
    Ok(RunOutcome { evidence, dir })
}

/// The task-local the Worlds read their run from.
use crate::steps::RUN as RUN_CONTEXT;

/// One line per scenario as it ends (a result: stdout).
fn progress_line(name: &str, verdict: Verdict, reason: Option<&str>) {
    match reason {
        Some(why) if verdict != Verdict::Pass => {
            crate::output::result(&format!("  {:<17} {name} ({why})", verdict.label()))
        }
        _ => crate::output::result(&format!("  {:<17} {name}", verdict.label())),
    }
}

/// Production: refund what was captured and cancel what is left authorized.
/// Every call is recorded like any other: the cleanup is evidence too.
async fn cleanup(client: &Client, ctx: &RunContext) {
    let client = client.tagged(&["GL-PROD"], Some("cleanup after the production run"));
    let made: Vec<String> = ctx.made.lock().map(|m| m.clone()).unwrap_or_default();
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
                crate::output::diag(&format!("cleanup: refund of `{reference}` failed: {e}"));
            }
        }
        if p.state == crate::api::State::Authorized && p.aggregate.capturable() > 0 {
            if let Err(e) = client.cancel_payment(&reference, None).await {
                crate::output::diag(&format!("cleanup: cancel of `{reference}` failed: {e}"));
            }
        }
        if p.state == crate::api::State::Created {
            let _ = client.cancel_payment(&reference, None).await;
        }
    }
}

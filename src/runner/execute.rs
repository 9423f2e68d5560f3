//! The scenarios run through cucumber: each scenario's start and end, and
//! each step, told as events. junit.xml and cucumber.json are not
//! cucumber's: they are written from the evidence (`report::ci`), after the
//! rules, so they say what the report says.

use std::collections::HashSet;
use std::sync::Arc;

use cucumber::gherkin::Feature;
use cucumber::{World as _, WriterExt as _};
use futures::FutureExt as _;

use super::collect::{self, StepLog};
use super::events::{EventKind, EventStream, ScenarioKey};
use super::features;
use crate::steps::{GoLiveWorld, RunContext, RUN};

/// How the scenarios were run.
pub(super) struct Execution {
    /// How many scenarios at once.
    pub concurrency: usize,
    /// Stop at the first failed scenario.
    pub fail_fast: bool,
    /// Stop on Ctrl-C (production: what was made is cleaned up after).
    pub stop_on_ctrl_c: bool,
}

/// What cucumber leaves besides the events.
pub(super) struct Executed {
    /// Ctrl-C stopped the run.
    pub interrupted: bool,
}

/// Runs the `selected` scenarios of `features`, each World reading its run
/// from `ctx`, everything that happens told to `events`.
pub(super) async fn execute(
    features: Vec<Feature>,
    selected: HashSet<ScenarioKey>,
    ctx: Arc<RunContext>,
    events: Arc<EventStream>,
    how: Execution,
) -> Executed {
    let cucumber_writer = StepLog(events.clone()).normalized::<GoLiveWorld>();
    let (started, finished) = (events.clone(), events);
    let mut cucumber = GoLiveWorld::cucumber::<&str>()
        .with_parser(features::InMemory(features))
        .with_writer(cucumber_writer)
        .fail_on_skipped()
        .with_cli(cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default())
        .max_concurrent_scenarios(how.concurrency)
        .before(move |_, _, scenario, world| {
            started.emit(EventKind::ScenarioStarted {
                #[cfg(test)]
                name: &scenario.name,
            });
            let steps = scenario.steps.iter().map(|s| s.value.as_str());
            world.start(&scenario.name, &scenario.tags, steps);
            async {}.boxed_local()
        })
        .after(move |feature, _, scenario, ev, world| {
            collect::finished(&finished, feature, scenario, ev, world.as_deref());
            async {}.boxed_local()
        });
    if how.fail_fast {
        cucumber = cucumber.fail_fast();
    }
    let running = RUN.scope(
        ctx,
        cucumber.filter_run((), move |f, _, s| selected.contains(&features::key(f, s))),
    );
    let interrupted = if how.stop_on_ctrl_c {
        tokio::select! {
            _ = running => false,
            _ = tokio::signal::ctrl_c() => true,
        }
    } else {
        running.await;
        false
    };
    Executed { interrupted }
}

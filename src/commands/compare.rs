//! `vipps-golive compare`: the same scenarios against the simulator and a
//! real target, and every difference (see [`crate::compare`]).
//!
//! Two ordinary runs, then a pure comparison of their evidence:
//! 1. the target (`--env test` or `--base-url URL`), exactly as `run` would;
//! 2. an in-process simulator, reached over loopback HTTP like the target,
//!    standing in for the same kind of target (for the test environment:
//!    force approve and the test user's phone; for a URL: the control API),
//!    so both runs send the same requests.
//!
//! Production is refused before anything is sent: a comparison needs
//! payments made for the purpose, and those must not be real money.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use chrono::Utc;

use crate::cli::CompareArgs;
use crate::clock::VirtualClock;
use crate::compare::{self, AllowList, Comparison, Folders, COMPARE_HTML, COMPARE_JSON};
use crate::config::{self, Config, Credentials, Target};
use crate::evidence::folder::{Latest, RunFolder};
use crate::evidence::{FolderKind, RunMeta};
use crate::output;
use crate::runner::{self, RunOptions, RunOutcome};
use crate::simulator::{serve, SimConfig, Simulator};
use crate::Error;

/// Runs the comparison; see `vipps-golive compare --help`.
pub fn run(args: &CompareArgs) -> Result<(), Error> {
    super::block_on(run_async(args))
}

async fn run_async(args: &CompareArgs) -> Result<(), Error> {
    let outcome = compare_runs(args).await?;
    print_summary(&outcome.comparison, &outcome.dir);
    if outcome.comparison.has_unexpected() {
        return Err(Error::Failed(format!(
            "{} unexpected difference(s) between the simulator and the target",
            outcome.comparison.counts.unexpected
        )));
    }
    Ok(())
}

/// What a comparison leaves.
#[derive(Debug)]
pub struct CompareOutcome {
    pub comparison: Comparison,
    /// `<out>/compare/<id>/`.
    pub dir: std::path::PathBuf,
}

/// Both runs, the comparison, and its folder written; prints nothing but
/// the runs' progress. (`compare` is this plus the summary and exit status.)
pub async fn compare_runs(args: &CompareArgs) -> Result<CompareOutcome, Error> {
    let (config, _provenance) = config::load(&args.target.input())?;
    match &config.target {
        Target::Simulator => {
            return Err(Error::Usage(
                "compare needs a target to compare the simulator with (hint: --env test, or --base-url URL)".into(),
            ))
        }
        Target::Production => {
            return Err(Error::Usage(format!(
                "compare never runs against production ({}): it makes payments to compare answers, and there they would be real money (hint: --env test)",
                shown_url(&config)
            )))
        }
        Target::Test | Target::Custom(_) => {}
    }
    // Says so when nobody is there to approve; side_options reads the same.
    super::unattended(args.non_interactive, false)?;
    let allow = match &args.allow_list {
        Some(path) => AllowList::load(path).map_err(Error::Usage)?,
        None => AllowList::default(),
    };

    let meta = RunMeta::new(FolderKind::Compare, Utc::now());
    let out = args.out.join("compare");
    let folder = meta.create_folder(&out).map_err(|e| {
        Error::Evidence(format!(
            "cannot create the compare folder under `{}`: {e}",
            out.display()
        ))
    })?;

    output::diag(&format!(
        "compare: 1/2 the scenarios against the target ({})",
        shown_url(&config)
    ));
    let target = runner::run(side_options(args, config.clone(), folder.dir(), "target"))
        .await
        .inspect_err(|e| {
            let _ = folder.fail(&format!("the target run stopped: {e}"));
        })?;
    drop_latest(&folder.dir().join("target"));

    output::diag("compare: 2/2 the same scenarios against the simulator");
    let simulated = simulator_side(args, &config, folder.dir())
        .await
        .inspect_err(|e| {
            let _ = folder.fail(&format!("the simulator run stopped: {e}"));
        })?;
    drop_latest(&folder.dir().join("simulator"));

    let relative = |o: &RunOutcome| {
        o.dir
            .strip_prefix(folder.dir())
            .unwrap_or(&o.dir)
            .display()
            .to_string()
    };
    let comparison = compare::compare(
        &simulated.evidence,
        &target.evidence,
        &allow,
        &Folders {
            compare_id: meta.run_id().to_owned(),
            simulator: relative(&simulated),
            target: relative(&target),
            started_at: Some(meta.started_at()),
        },
    );
    write(&folder, &comparison)?;
    Ok(CompareOutcome {
        comparison,
        dir: folder.dir().to_path_buf(),
    })
}

/// The target's base URL as shown to people (no user info, no query).
fn shown_url(config: &Config) -> String {
    config
        .target
        .base_url()
        .map(|u| config::display_url(&u))
        .unwrap_or_else(|| "the embedded simulator".into())
}

/// The options of one side: the same scenario selection on both.
fn side_options(args: &CompareArgs, config: Config, dir: &Path, side: &str) -> RunOptions {
    let mut o = RunOptions::new(config, dir.join(side));
    o.person = Some(Arc::new(super::person::TerminalPerson));
    o.consumers.push(Arc::new(super::run::Progress));
    o.tags = args.tags.clone();
    o.features = args.features.clone();
    o.concurrency = args.concurrency;
    o.include_slow = args.include_slow;
    o.test_phone = args.test_phone.clone();
    o.non_interactive = super::nobody_waiting(args.non_interactive).is_some();
    o
}

/// Starts a simulator on loopback and runs the scenarios against it as the
/// same kind of target as the real one.
async fn simulator_side(
    args: &CompareArgs,
    config: &Config,
    dir: &Path,
) -> Result<RunOutcome, Error> {
    let sim_config = SimConfig {
        control_enabled: true,
        ..SimConfig::default()
    };
    let account = SimConfig::default_accounts()
        .into_iter()
        .next()
        .ok_or_else(|| Error::Usage("the simulator has no sales unit (a bug)".into()))?;
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let server = serve::bind(Simulator::new(sim_config), addr)
        .await
        .map_err(|source| Error::Io {
            context: "cannot start the simulator to compare with".into(),
            source,
        })?;
    let base = server
        .base_url()
        .parse()
        .map_err(|e| Error::Usage(format!("the simulator's URL does not parse: {e}")))?;
    let sim_target = Config {
        target: Target::Custom(base),
        credentials: Some(Credentials {
            client_id: account.client_id.into(),
            client_secret: account.client_secret.into(),
            subscription_key: account.subscription_key.into(),
            msn: account.msn,
        }),
        system: config.system.clone(),
    };
    let mut o = side_options(args, sim_target, dir, "simulator");
    // The simulator answers at once: a virtual clock keeps the polling
    // schedule without waiting for it. It stands in for the same kind of
    // target, so both runs take the same path through each scenario.
    o.clock = Some(VirtualClock::new());
    o.test_stand_in = matches!(config.target, Target::Test);
    o.non_interactive = true;
    let outcome = runner::run(o).await;
    server.shutdown().await;
    Ok(outcome?)
}

/// A side's `latest` link would make the compare folder's manifest hash
/// that run twice; the compare folder itself is what `latest` points at.
fn drop_latest(side_out: &Path) {
    let latest = side_out.join(crate::evidence::folder::LATEST);
    if std::fs::symlink_metadata(&latest).is_ok_and(|m| m.file_type().is_symlink()) {
        let _ = std::fs::remove_file(latest);
    }
}

fn write(folder: &RunFolder, comparison: &Comparison) -> Result<(), Error> {
    let evidence_error = |what: &str, e: &dyn std::fmt::Display| {
        Error::Evidence(format!(
            "cannot write {what} in `{}`: {e}",
            folder.dir().display()
        ))
    };
    let json =
        serde_json::to_vec_pretty(comparison).map_err(|e| evidence_error(COMPARE_JSON, &e))?;
    folder
        .write(COMPARE_JSON, &json)
        .map_err(|e| evidence_error(COMPARE_JSON, &e))?;
    let html = compare::html::render(comparison).map_err(|e| evidence_error(COMPARE_HTML, &e))?;
    folder
        .write(COMPARE_HTML, html.as_bytes())
        .map_err(|e| evidence_error(COMPARE_HTML, &e))?;
    match folder.finish() {
        Ok(Latest::Moved) => {}
        Ok(Latest::LeftAlone(why)) => output::diag(&why),
        Err(e) => return Err(evidence_error("manifest.json", &e)),
    }
    Ok(())
}

/// One line per difference (unexpected first), then the counts, on stdout.
pub fn print_summary(c: &Comparison, dir: &Path) {
    output::result("");
    let mut rows: Vec<&compare::Difference> = c.differences.iter().collect();
    rows.sort_by_key(|d| match d.class {
        compare::Class::Unexpected => 0,
        compare::Class::Known => 1,
        compare::Class::Allowed => 2,
    });
    for d in rows {
        let class = match d.class {
            compare::Class::Unexpected => "DIFFERS",
            compare::Class::Known => "KNOWN",
            compare::Class::Allowed => "ALLOWED",
        };
        output::result(&format!(
            "{class:<8} {} | {} | {}: {}",
            d.scenario,
            d.operation,
            d.kind.label(),
            d.summary
        ));
    }
    let compared = c.scenarios.iter().filter(|s| s.compared).count();
    output::result(&format!(
        "\n{compared} of {} scenarios compared; {} unexpected difference(s), {} known deviation(s) counted apart, {} allowed",
        c.scenarios.len(),
        c.counts.unexpected,
        c.counts.known,
        c.counts.allowed
    ));
    for line in &c.unused_allow_entries {
        output::diag(&format!(
            "note: the allow-list line `{line}` matched no difference (remove it?)"
        ));
    }
    output::result(&format!(
        "compare: {} and {}",
        dir.join(COMPARE_HTML).display(),
        dir.join(COMPARE_JSON).display()
    ));
}

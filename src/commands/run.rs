//! `vipps-golive run`: the checklist's features against a target, with evidence.
//!
//! Only plumbing lives here: flags to [`RunOptions`], the run, and the
//! summary. The scenarios are in `features/`, their steps in `src/steps/`,
//! the verdicts in `src/runner/`.

use std::sync::Arc;

use crate::cli::RunArgs;
use crate::config;
use crate::evidence::model::{Evidence, ScenarioResult, Verdict};
use crate::evidence::RecordError;
use crate::output;
use crate::runner::events::{Consumer, EventKind, RunEvent};
use crate::runner::{self, RunOptions};
use crate::Error;

/// Runs the features against a target (default: the embedded simulator).
///
/// Writes `<out>/<run-id>/` (journal.jsonl, evidence.json, junit.xml,
/// cucumber.json, report.html, manifest.json) and points `<out>/latest` at it.
/// Exit status 0 when no item failed, 1 when one did, 2 for bad usage or
/// configuration, 3 when the target could not be reached, refused the
/// credentials, or failed so that an item is INCONCLUSIVE (and none failed).
/// PARTLY PROVEN, NOT APPLICABLE, NEEDS ATTESTATION, ATTESTED and NOT RUN
/// are listed, never failed.
///
/// Example: `vipps-golive run --out reports`
pub fn run(args: &RunArgs) -> Result<(), Error> {
    super::block_on(run_async(args))
}

async fn run_async(args: &RunArgs) -> Result<(), Error> {
    let (config, _provenance) = config::load(&args.target.input())?;
    // Before anything connects (loading opens no socket, and a production
    // URL given the wrong way is refused there first): is anybody there?
    let unattended = super::unattended(args.non_interactive, config.target.is_production())?;
    let mut o = RunOptions::new(config, args.out.clone());
    o.person = Some(Arc::new(super::person::TerminalPerson));
    o.consumers.push(Arc::new(Progress));
    o.tags = args.tags.clone();
    o.features = args.features.clone();
    o.concurrency = args.concurrency;
    o.fail_fast = args.fail_fast;
    o.include_slow = args.include_slow;
    o.test_phone = args.test_phone.clone();
    o.non_interactive = unattended;
    o.allow_real_money = args.allow_real_money;
    o.max_amount = args.max_amount;
    o.return_url = match &args.return_url {
        Some(u) => Some(
            url::Url::parse(u)
                .map_err(|e| Error::Usage(format!("`--return-url {u}` is not a URL: {e}")))?,
        ),
        None => None,
    };
    for a in &args.attest {
        let (id, by) = a.split_once('=').ok_or_else(|| {
            Error::Usage(format!(
                "`--attest {a}` needs ID=WHO (hint: --attest PF-DESIGN=\"Kari Nordmann, design lead\")"
            ))
        })?;
        o.attest.push((id.trim().to_owned(), by.trim().to_owned()));
    }
    let outcome = runner::run(o).await?;
    print_summary(&outcome.evidence, &outcome.dir);
    if outcome.failed() {
        let failed: Vec<&str> = outcome
            .evidence
            .items
            .iter()
            .filter(|i| i.verdict.fails_run())
            .map(|i| i.id.as_str())
            .collect();
        let scenarios: Vec<&str> = outcome.failed_scenarios().collect();
        return Err(Error::Failed(if failed.is_empty() {
            format!("scenario(s) failed: {}", scenarios.join(", "))
        } else {
            format!("checklist item(s) failed: {}", failed.join(", "))
        }));
    }
    if outcome.inconclusive() {
        let items: Vec<&str> = outcome
            .evidence
            .items
            .iter()
            .filter(|i| i.verdict.target_failed())
            .map(|i| i.id.as_str())
            .collect();
        return Err(Error::Inconclusive(format!(
            "INCONCLUSIVE: the target failed (answered 5xx, timed out or could not be reached), not the shop; not proven: {} (hint: run again when the target answers; the report names each request)",
            if items.is_empty() { "some scenarios".to_owned() } else { items.join(", ") }
        )));
    }
    if !outcome.ran_any() {
        // A run that proved nothing is not a pass (issue 20 point 8).
        return Err(Error::Usage(
            "nothing ran: every selected scenario was NOT APPLICABLE on this target or waits for an attestation (hint: check --tags, --features and the scenarios' target tags, e.g. @simulator)".into(),
        ));
    }
    Ok(())
}

/// The terminal's view of a run's events: one line per scenario as it ends
/// (a result: stdout), and what a person must know now (stderr).
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress;

impl Consumer for Progress {
    fn consume(&self, event: &RunEvent<'_>) -> Result<(), RecordError> {
        match &event.kind {
            EventKind::ScenarioFinished { result, .. }
            | EventKind::ScenarioSkipped { result, .. } => scenario_line(result),
            EventKind::RunInterrupted => {
                output::diag("interrupted: cancelling and refunding what the run left")
            }
            EventKind::CleanupFailed {
                reference,
                action,
                error,
            } => output::diag(&format!(
                "cleanup: {action} of `{reference}` failed: {error}"
            )),
            EventKind::Warning { message } => output::diag(&format!("warning: {message}")),
            _ => {}
        }
        // Printing never fails the run.
        Ok(())
    }
}

/// `  PASS              name`, with why for anything but a pass.
fn scenario_line(s: &ScenarioResult) {
    let (verdict, name) = (s.verdict.label(), &s.name);
    match &s.reason {
        Some(why) if s.verdict != Verdict::Pass => {
            output::result(&format!("  {verdict:<17} {name} ({why})"))
        }
        _ => output::result(&format!("  {verdict:<17} {name}")),
    }
}

/// `36 scenarios, 0 failed` and every other verdict some scenario has:
/// `, 2 inconclusive, 1 not run`.
fn scenario_counts(scenarios: &[ScenarioResult]) -> String {
    let count = |v: Verdict| scenarios.iter().filter(|s| s.verdict == v).count();
    let mut line = format!(
        "{} scenarios, {} failed",
        scenarios.len(),
        count(Verdict::Fail)
    );
    for v in [Verdict::Inconclusive, Verdict::Attested, Verdict::NotRun] {
        let n = count(v);
        if n > 0 {
            line.push_str(&format!(", {n} {}", v.label().to_lowercase()));
        }
    }
    line
}

/// The summary per checklist ID, on stdout (printing never fails the run).
pub fn print_summary(evidence: &Evidence, dir: &std::path::Path) {
    output::result("");
    output::result(&format!(
        "Judged: {}",
        crate::report::view::provenance(evidence)
    ));
    for item in &evidence.items {
        output::result(&match &item.reason {
            Some(why) => format!("{:<13} {:<17} {why}", item.id, item.verdict.label()),
            None => format!("{:<13} {}", item.id, item.verdict.label()),
        });
    }
    let golive_applies = |id: &str| {
        evidence
            .items
            .iter()
            .any(|i| i.id == id && i.verdict != Verdict::NotApplicable)
    };
    if let Some(golive) = evidence
        .golive
        .as_ref()
        .filter(|g| golive_applies(&g.checklist_id))
    {
        // A rehearsal's references are never shown as go-live references.
        let rehearsal = crate::report::view::rehearsal(evidence);
        if let Some(why) = &rehearsal {
            output::result(&format!(
                "\n{} rehearsal references, made by vipps-golive (not go-live evidence): {why}",
                golive.checklist_id
            ));
        }
        for r in &golive.references {
            let reference = r.reference.as_deref().unwrap_or("(none)");
            output::result(&match rehearsal {
                Some(_) => format!("  {:<10} {reference}", r.outcome),
                None => format!("{} {:<10} {reference}", golive.checklist_id, r.outcome),
            });
        }
    }
    output::result(&format!(
        "\n{}; {} exchanges recorded",
        scenario_counts(&evidence.scenarios),
        evidence.exchanges.len()
    ));
    output::result(&format!("report: {}", dir.join("report.html").display()));
}

//! `vipps-golive verify`: judge references the shop's own system made.

use crate::cli::VerifyArgs;
use crate::config;
use crate::output;
use crate::runner::verify::{self, VerifyOptions, VerifyOutcome};
use crate::Error;

/// Reads each reference through GET and the event log and judges them
/// against GL-TEST (or GL-PROD with `--prod`).
///
/// Example: `vipps-golive verify --env test shop-1001-a shop-1002-a shop-1003-a`
pub fn run(args: &VerifyArgs) -> Result<(), Error> {
    super::block_on(run_async(args))
}

/// [`run`] on the caller's runtime: the flags to [`VerifyOptions`], the
/// verify, then what it found on the terminal. Returns [`Error::Failed`]
/// (exit 1) when the references do not prove the go-live item, and
/// [`Error::Inconclusive`] (exit 3) when the target failed reading them.
pub async fn run_async(args: &VerifyArgs) -> Result<(), Error> {
    let (config, _) = config::load(&args.target.input())?;
    let outcome = verify::run(VerifyOptions {
        config,
        references: args.references.clone(),
        from_file: args.from_file.clone(),
        prod: args.prod,
        out: args.out.clone(),
    })
    .await?;
    print(&outcome);
    if outcome.failed() {
        return Err(Error::Failed(format!(
            "{} is not proven by these references",
            outcome.checklist_id()
        )));
    }
    if outcome.inconclusive() {
        return Err(Error::Inconclusive(format!(
            "INCONCLUSIVE: the target failed (answered 5xx or not at all) reading the references, so {} could not be judged; not the shop's fault (hint: verify again when the target answers)",
            outcome.checklist_id()
        )));
    }
    Ok(())
}

/// One line per reference, then the summary per checklist ID (stdout);
/// warnings on stderr.
fn print(outcome: &VerifyOutcome) {
    for j in &outcome.judged {
        match (&j.outcome, &j.problem) {
            (Some(o), _) => output::result(&format!("  {}: ends {o}", j.reference)),
            (None, Some(p)) => output::result(&format!("  {}: {p}", j.reference)),
            _ => {}
        }
    }
    for w in &outcome.warnings {
        output::diag(&format!("warning: {w}"));
    }
    super::run::print_summary(&outcome.evidence, &outcome.dir);
}

//! The one place a run or a verify writes its folder, through the evidence
//! room's [`RunFolder`]: created marked incomplete, each file written
//! atomically, the manifest last, `latest` moved only to a complete run.
//! Failures here are evidence failures (exit 4).

use std::path::Path;

use super::RunError;
use crate::evidence::folder::EVIDENCE_FILE;
use crate::evidence::model::Evidence;
use crate::evidence::{Latest, RunFolder, RunMeta};
use crate::report::REPORT_FILE;
use crate::rules::recheck;

/// Creates `<out>/<run-id>/`, marked incomplete.
pub fn create(meta: &RunMeta, out: &Path) -> Result<RunFolder, RunError> {
    meta.create_folder(out).map_err(|source| {
        RunError::Evidence(format!(
            "cannot create the report folder `{}`: {source}",
            out.join(meta.run_id()).display()
        ))
    })
}

/// Writes evidence.json, then report.html (rendered now, so that its seal
/// shows the SHA-256 of the evidence.json on disk) and `files` (an empty one
/// is left out), then finishes the folder (status, manifest.json with every
/// file's SHA-256, `latest`), then re-checks every PASS from the
/// evidence.json written, read back ([`recheck::written`]). Returns the
/// warnings to show (the report fell back to a plain page; `latest` was left
/// alone); [`RunError::Contradicted`] when the evidence does not support a PASS.
pub fn finish(
    folder: &RunFolder,
    evidence: &Evidence,
    files: &[(&str, &[u8])],
) -> Result<Vec<String>, RunError> {
    let failed = |e: crate::evidence::folder::WriteError| {
        RunError::Evidence(format!(
            "cannot write {} in `{}`: {} (hint: free disk space or choose another --out)",
            e.file,
            folder.dir().display(),
            e.source
        ))
    };
    folder.write_evidence(evidence).map_err(failed)?;
    let (html, warning) = super::html::report(evidence, folder.dir());
    let mut warnings: Vec<String> = warning.into_iter().collect();
    let mut all: Vec<(&str, &[u8])> = files.to_vec();
    all.push((REPORT_FILE, html.as_bytes()));
    match folder.finish_files(&all).map_err(failed)? {
        Latest::Moved => {}
        Latest::LeftAlone(why) => warnings.push(why),
    }
    let found = recheck::written(&folder.path(EVIDENCE_FILE)).map_err(|e| {
        RunError::Evidence(format!(
            "cannot read back the evidence just written in `{}` to re-check its verdicts: {e}",
            folder.dir().display()
        ))
    })?;
    if !found.is_empty() {
        return Err(RunError::Contradicted(recheck::describe(
            &found,
            folder.dir(),
        )));
    }
    Ok(warnings)
}

//! The one place a run or a verify writes its folder, through the evidence
//! room's [`RunFolder`]: created marked incomplete, each file written
//! atomically, the manifest last, `latest` moved only to a complete run.
//! Failures here are evidence failures (exit 4).

use std::path::Path;

use super::RunError;
use crate::evidence::folder::EVIDENCE_FILE;
use crate::evidence::model::Evidence;
use crate::evidence::{Latest, RunFolder, RunMeta};
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

/// Writes evidence.json and `files` (an empty one is left out), then
/// finishes the folder (status, manifest.json with every file's SHA-256,
/// `latest`), then re-checks every PASS from the evidence.json written, read
/// back ([`recheck::written`]). Returns why `latest` was left alone, when it
/// was; [`RunError::Contradicted`] when the evidence does not support a PASS.
pub fn finish(
    folder: &RunFolder,
    evidence: &Evidence,
    files: &[(&str, &[u8])],
) -> Result<Option<String>, RunError> {
    let left_alone = match folder.finish_evidence(evidence, files) {
        Ok(Latest::Moved) => None,
        Ok(Latest::LeftAlone(why)) => Some(why),
        Err(e) => {
            return Err(RunError::Evidence(format!(
                "cannot write {} in `{}`: {} (hint: free disk space or choose another --out)",
                e.file,
                folder.dir().display(),
                e.source
            )))
        }
    };
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
    Ok(left_alone)
}

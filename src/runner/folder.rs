//! The one place a run or a verify writes its folder, through the evidence
//! room's [`RunFolder`]: created marked incomplete, each file written
//! atomically, the manifest last, `latest` moved only to a complete run.
//! Failures here are evidence failures (exit 4).

use std::path::Path;

use super::RunError;
use crate::evidence::model::Evidence;
use crate::evidence::{Latest, RunFolder, RunMeta};

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
/// `latest`). Returns why `latest` was left alone, when it was.
pub fn finish(
    folder: &RunFolder,
    evidence: &Evidence,
    files: &[(&str, &[u8])],
) -> Result<Option<String>, RunError> {
    match folder.finish_evidence(evidence, files) {
        Ok(Latest::Moved) => Ok(None),
        Ok(Latest::LeftAlone(why)) => Ok(Some(why)),
        Err(e) => Err(RunError::Evidence(format!(
            "cannot write {} in `{}`: {} (hint: free disk space or choose another --out)",
            e.file,
            folder.dir().display(),
            e.source
        ))),
    }
}

//! The one place a run or a verify writes its folder, through issue 10's
//! [`RunFolder`]: created marked incomplete, each file written atomically,
//! the manifest last, `latest` moved only to a complete run.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::evidence::model::Evidence;
use crate::evidence::{Latest, RunFolder};
use crate::{output, Error};

/// Creates `<out>/<run_id>/`, marked incomplete.
pub fn create(out: &Path, run_id: &str, started_at: DateTime<Utc>) -> Result<RunFolder, Error> {
    RunFolder::create(out, run_id, started_at).map_err(|source| {
        Error::Evidence(format!(
            "cannot create the report folder `{}`: {source}",
            out.join(run_id).display()
        ))
    })
}

/// Writes evidence.json, junit.xml, cucumber.json and report.html, then
/// finishes the folder (status, manifest.json with every file's SHA-256,
/// `latest`). Any failure is an evidence failure (exit 4).
pub fn finish(
    folder: &RunFolder,
    evidence: &Evidence,
    junit: &[u8],
    cucumber_json: &[u8],
    html: &str,
) -> Result<(), Error> {
    let failed = |what: &str, e: std::io::Error| {
        Error::Evidence(format!(
            "cannot write {what} in `{}`: {e} (hint: free disk space or choose another --out)",
            folder.dir().display()
        ))
    };
    let json = serde_json::to_vec_pretty(evidence)
        .map_err(|e| Error::Evidence(format!("cannot serialize the evidence: {e}")))?;
    folder
        .write("evidence.json", &json)
        .map_err(|e| failed("evidence.json", e))?;
    if !junit.is_empty() {
        folder
            .write("junit.xml", junit)
            .map_err(|e| failed("junit.xml", e))?;
    }
    if !cucumber_json.is_empty() {
        folder
            .write("cucumber.json", cucumber_json)
            .map_err(|e| failed("cucumber.json", e))?;
    }
    folder
        .write("report.html", html.as_bytes())
        .map_err(|e| failed("report.html", e))?;
    match folder.finish().map_err(|e| failed("manifest.json", e))? {
        Latest::Moved => {}
        Latest::LeftAlone(why) => output::diag(&format!("warning: {why}")),
    }
    Ok(())
}

//! The run folder: the one place a run writes files. (Issue 10's `RunFolder`
//! replaces this module at merge: atomic writes, the incomplete marker and a
//! safe `latest` link.)

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::evidence::model::Evidence;
use crate::Error;

fn io(context: String) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Io { context, source }
}

/// Creates `<out>/<run_id>/`.
pub fn create(out: &Path, run_id: &str) -> Result<PathBuf, Error> {
    let dir = out.join(run_id);
    std::fs::create_dir_all(&dir).map_err(io(format!(
        "cannot create the report folder `{}`",
        dir.display()
    )))?;
    Ok(dir)
}

/// Writes one file of the run folder (to a temporary name, then renamed).
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), Error> {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes)
        .map_err(io(format!("cannot write `{name}` in `{}`", dir.display())))?;
    std::fs::rename(&tmp, dir.join(name))
        .map_err(io(format!("cannot write `{name}` in `{}`", dir.display())))
}

/// Writes evidence.json, junit.xml, cucumber.json, report.html, then
/// manifest.json (the SHA-256 of each file, the journal included) and points
/// `<out>/latest` at the folder.
pub fn finish(
    out: &Path,
    dir: &Path,
    evidence: &Evidence,
    junit: &[u8],
    cucumber_json: &[u8],
    html: &str,
) -> Result<(), Error> {
    let json = serde_json::to_vec_pretty(evidence)
        .map_err(|e| Error::Usage(format!("cannot serialize the evidence: {e}")))?;
    write(dir, "evidence.json", &json)?;
    write(dir, "junit.xml", junit)?;
    write(dir, "cucumber.json", cucumber_json)?;
    write(dir, "report.html", html.as_bytes())?;
    let mut files = serde_json::Map::new();
    for name in [
        "journal.jsonl",
        "evidence.json",
        "junit.xml",
        "cucumber.json",
        "report.html",
    ] {
        if let Ok(bytes) = std::fs::read(dir.join(name)) {
            files.insert(
                name.into(),
                serde_json::Value::String(hex::encode(Sha256::digest(&bytes))),
            );
        }
    }
    let manifest = serde_json::json!({
        "schema_version": evidence.schema_version,
        "run_id": evidence.run.run_id,
        "complete": evidence.complete,
        "sha256": files,
    });
    let manifest = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::Usage(format!("cannot serialize the manifest: {e}")))?;
    write(dir, "manifest.json", &manifest)?;
    point_latest(out, dir)
}

/// Points `<out>/latest` at the run folder: a symlink, replaced only when it is one.
fn point_latest(out: &Path, dir: &Path) -> Result<(), Error> {
    let latest = out.join("latest");
    if latest.is_symlink() {
        let _ = std::fs::remove_file(&latest);
    } else if latest.exists() {
        // Not a link this tool made: leave it.
        return Ok(());
    }
    let name = dir.file_name().map(PathBuf::from).unwrap_or_default();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&name, &latest).map_err(io(format!(
            "cannot point `{}` at the run",
            latest.display()
        )))
    }
    #[cfg(not(unix))]
    {
        let _ = name;
        Ok(())
    }
}

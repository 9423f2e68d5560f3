//! The run folder `<out>/<run-id>/`: created marked incomplete, every file
//! but the journal written whole or not at all, finished with a manifest,
//! and `<out>/latest` moved to it only then.
//!
//! What a reader of `<out>` can rely on (design.md, "Evidence is written
//! ahead"):
//! - `status.json` exists from the start and says `incomplete` until the run
//!   finishes; a run killed, or stopped because its evidence could not be
//!   recorded, leaves it so (with why, when the disk takes it); a run that
//!   stopped on another error says `failed`, with why.
//! - `manifest.json` (SHA-256 of every other file) is written last: a folder
//!   without one is an incomplete run.
//! - No file is ever seen half-written: [`write_atomic`] writes a temporary
//!   name in the same folder and renames it over the final one.
//! - `<out>/latest` moves only to a complete run, and only when it is absent
//!   or a link this tool made (see [`RunFolder::finish`]); a real file or
//!   folder of that name is never touched.

use ed25519_dalek::SigningKey;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::Evidence;
use super::SCHEMA_VERSION;

/// Name of the status marker in a run folder.
pub(crate) const STATUS_FILE: &str = "status.json";
/// Name of the evidence every command's folder holds.
pub(crate) const EVIDENCE_FILE: &str = "evidence.json";
/// Name of the manifest, written last.
pub(crate) const MANIFEST_FILE: &str = "manifest.json";
/// Name of the link to the last complete run, in the output folder.
pub(crate) const LATEST: &str = "latest";
/// Prefix of temporary files (never hashed, never shown).
pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// What `status.json` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub schema_version: u32,
    pub run_id: String,
    /// `incomplete` (running, or killed), `complete` or `failed`.
    pub status: String,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Why a failed run stopped, or what `incomplete` means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Status of a run in progress or killed.
pub const STATUS_INCOMPLETE: &str = "incomplete";
/// Status of a run that finished and wrote its manifest.
pub(crate) const STATUS_COMPLETE: &str = "complete";
/// Status of a run that stopped on an error.
pub const STATUS_FAILED: &str = "failed";

/// What happened to `<out>/latest` when a run finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Latest {
    /// It now points at this run.
    Moved,
    /// It was left as it was; the message says why (for stderr).
    LeftAlone(String),
}

/// One run's folder under the output folder.
#[derive(Debug)]
pub struct RunFolder {
    out: PathBuf,
    dir: PathBuf,
    run_id: String,
    started_at: DateTime<Utc>,
}

impl RunFolder {
    /// Creates `<out>/<run_id>/` (which must not exist yet) with a status
    /// marker saying the run is incomplete.
    pub fn create(
        out: impl Into<PathBuf>,
        run_id: &str,
        started_at: DateTime<Utc>,
    ) -> io::Result<RunFolder> {
        let out = out.into();
        // `--out` naming a file would otherwise say only "File exists".
        if out.exists() && !out.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "`{}` is a file, not a folder (hint: --out takes the folder the run folders go in, e.g. reports)",
                    out.display()
                ),
            ));
        }
        std::fs::create_dir_all(&out)?;
        let dir = out.join(run_id);
        // create_dir, not create_dir_all: two runs never share a folder.
        std::fs::create_dir(&dir)?;
        let folder = RunFolder {
            out,
            dir,
            run_id: run_id.to_owned(),
            started_at,
        };
        folder.write_status(
            STATUS_INCOMPLETE,
            None,
            Some("the run has not finished (or was killed): no manifest.json, the evidence may be partial".into()),
        )?;
        Ok(folder)
    }

    /// The run folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The output folder holding it.
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// The run id (the folder's name).
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The path of `name` in the run folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Writes `name` in the run folder atomically.
    pub fn write(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        write_atomic(&self.dir.join(name), bytes)
    }

    fn write_status(
        &self,
        status: &str,
        finished_at: Option<DateTime<Utc>>,
        detail: Option<String>,
    ) -> io::Result<()> {
        let status = Status {
            schema_version: SCHEMA_VERSION,
            run_id: self.run_id.clone(),
            status: status.into(),
            started_at: self.started_at,
            finished_at,
            detail,
        };
        let bytes = serde_json::to_vec_pretty(&status).map_err(io::Error::other)?;
        self.write(STATUS_FILE, &bytes)
    }

    /// Marks the run failed (no manifest; `latest` does not move).
    pub fn fail(&self, why: &str) -> io::Result<()> {
        self.write_status(STATUS_FAILED, Some(Utc::now()), Some(why.to_owned()))
    }

    /// Marks a run whose evidence could not be recorded: it stays
    /// `incomplete`, now saying why. That is the word a full disk leaves
    /// anyway (when even this small write fails), so a run that lost
    /// evidence says the same whatever the cause (issue 20 point 9).
    pub fn lost(&self, why: &str) -> io::Result<()> {
        self.write_status(
            STATUS_INCOMPLETE,
            Some(Utc::now()),
            Some(format!(
                "the evidence could not be recorded, so the run stopped: no manifest.json, the evidence is partial and no verdict stands ({why})"
            )),
        )
    }

    /// Finishes the run: the final status, then `manifest.json` with the
    /// SHA-256 of every other file, then `<out>/latest`.
    ///
    /// `latest` is replaced only when it is absent or a link this tool made:
    /// a symbolic link whose target is a bare folder name (a sibling run
    /// folder) that holds a `status.json` or a `manifest.json` (earlier
    /// versions wrote no status), or no longer exists. Anything else
    /// (a real file or folder, a link elsewhere) is the user's and is left
    /// alone; [`Latest::LeftAlone`] says so.
    pub fn finish(&self) -> io::Result<Latest> {
        self.finish_signed(None)
    }

    /// [`RunFolder::finish`], and with a key also `manifest.sig`: the
    /// Ed25519 signature of `manifest.json` (see [`super::manifest`]).
    pub(crate) fn finish_signed(&self, sign_key: Option<&SigningKey>) -> io::Result<Latest> {
        let signing = sign_key.map(|key| super::manifest::Signing {
            key,
            at: Utc::now(),
        });
        self.finish_signing(signing)
    }

    /// [`RunFolder::finish_signed`] with the signing time decided before
    /// (the report rendered first shows the key and the time it is signed at).
    pub(crate) fn finish_signing(
        &self,
        signing: Option<super::manifest::Signing<'_>>,
    ) -> io::Result<Latest> {
        self.write_status(STATUS_COMPLETE, Some(Utc::now()), None)?;
        super::manifest::write(&self.dir, &self.run_id, signing).map_err(io::Error::other)?;
        point_latest(&self.out, &self.run_id)
    }
}

/// A file of a run folder that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {file}")]
pub struct WriteError {
    /// The file's name in the folder (`manifest.json` when finishing failed).
    pub file: String,
    #[source]
    pub source: io::Error,
}

impl RunFolder {
    /// Writes `evidence.json` alone: first, so that the report rendered
    /// next can show the SHA-256 of the bytes on disk (issue 24 point 2).
    pub(crate) fn write_evidence(&self, evidence: &Evidence) -> Result<(), WriteError> {
        let failed = |source| WriteError {
            file: EVIDENCE_FILE.to_owned(),
            source,
        };
        let json = serde_json::to_vec_pretty(evidence)
            .map_err(io::Error::other)
            .map_err(failed)?;
        self.write(EVIDENCE_FILE, &json).map_err(failed)
    }

    /// Writes each of `files` (an empty one is left out), then finishes the
    /// folder; [`RunFolder::write_evidence`] came before.
    pub(crate) fn finish_files(&self, files: &[(&str, &[u8])]) -> Result<Latest, WriteError> {
        self.finish_files_signed(files, None)
    }

    /// [`RunFolder::finish_files`], and with `signing` also `manifest.sig`
    /// (`pack --sign-key`).
    pub(crate) fn finish_files_signed(
        &self,
        files: &[(&str, &[u8])],
        signing: Option<super::manifest::Signing<'_>>,
    ) -> Result<Latest, WriteError> {
        let failed = |file: &str| {
            let file = file.to_owned();
            move |source| WriteError { file, source }
        };
        for (name, bytes) in files.iter().filter(|(_, b)| !b.is_empty()) {
            self.write(name, bytes).map_err(failed(name))?;
        }
        self.finish_signing(signing).map_err(failed(MANIFEST_FILE))
    }
}

/// Writes `bytes` to `path` so that no reader ever sees a torn file: a
/// temporary name in the same folder, flushed to disk, then renamed over
/// `path`. On any error the temporary file is removed and `path` is as it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let temp = parent.join(format!(
        "{TEMP_PREFIX}{name}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ));
    let result = (|| {
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// True when `out/latest` is a link this tool made (see [`RunFolder::finish`]).
fn is_ours(out: &Path, link: &Path) -> bool {
    let Ok(target) = std::fs::read_link(link) else {
        return false;
    };
    let mut parts = target.components();
    let bare = matches!(
        (parts.next(), parts.next()),
        (Some(std::path::Component::Normal(_)), None)
    );
    if !bare {
        return false;
    }
    let sibling = out.join(&target);
    match std::fs::symlink_metadata(&sibling) {
        // Run folders of earlier versions have a manifest but no status.
        Ok(meta) => {
            meta.is_dir()
                && (sibling.join(STATUS_FILE).is_file() || sibling.join(MANIFEST_FILE).is_file())
        }
        // A link to a run folder since deleted: replacing it loses nothing.
        Err(e) => e.kind() == io::ErrorKind::NotFound,
    }
}

fn point_latest(out: &Path, run_id: &str) -> io::Result<Latest> {
    let latest = out.join(LATEST);
    match std::fs::symlink_metadata(&latest) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
        Ok(meta) if meta.file_type().is_symlink() && is_ours(out, &latest) => {}
        Ok(meta) => {
            let what = if meta.file_type().is_symlink() {
                "a link this tool did not make"
            } else if meta.is_dir() {
                "a real folder"
            } else {
                "a real file"
            };
            return Ok(Latest::LeftAlone(format!(
                "`{}` is {what}: left untouched; this run is in `{}`",
                latest.display(),
                out.join(run_id).display()
            )));
        }
    }
    link(out, &latest, run_id)
}

#[cfg(unix)]
fn link(out: &Path, latest: &Path, run_id: &str) -> io::Result<Latest> {
    // A new link under a temporary name renamed over the old one: `latest`
    // is never missing, and rename replaces the link, not what it points at.
    let temp = out.join(format!(
        "{TEMP_PREFIX}latest-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ));
    std::os::unix::fs::symlink(run_id, &temp)?;
    if let Err(e) = std::fs::rename(&temp, latest) {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    Ok(Latest::Moved)
}

#[cfg(not(unix))]
fn link(_out: &Path, latest: &Path, run_id: &str) -> io::Result<Latest> {
    Ok(Latest::LeftAlone(format!(
        "`{}` is not updated on this platform; this run is in `{run_id}`",
        latest.display()
    )))
}

/// Reads a run folder's `status.json`.
pub fn read_status(dir: &Path) -> io::Result<Status> {
    let bytes = std::fs::read(dir.join(STATUS_FILE))?;
    serde_json::from_slice(&bytes).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(out: &Path, id: &str) -> RunFolder {
        RunFolder::create(out, id, Utc::now()).unwrap()
    }

    #[test]
    fn an_out_that_is_a_file_is_said_in_words() {
        let out = tempfile::tempdir().unwrap();
        let file = out.path().join("report.txt");
        std::fs::write(&file, "x").unwrap();
        let err = RunFolder::create(&file, "run-1", Utc::now()).unwrap_err();
        assert!(err.to_string().contains("is a file, not a folder"), "{err}");
    }

    #[test]
    fn a_new_folder_says_incomplete_and_has_no_manifest() {
        let out = tempfile::tempdir().unwrap();
        let f = folder(out.path(), "run-1");
        assert_eq!(read_status(f.dir()).unwrap().status, STATUS_INCOMPLETE);
        assert!(!f.path(MANIFEST_FILE).exists());
        assert!(!out.path().join(LATEST).exists());
    }

    #[test]
    fn finish_writes_a_manifest_of_every_file_and_moves_latest() {
        let out = tempfile::tempdir().unwrap();
        let f = folder(out.path(), "run-1");
        f.write("evidence.json", b"{}").unwrap();
        assert_eq!(f.finish().unwrap(), Latest::Moved);
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(f.path(MANIFEST_FILE)).unwrap()).unwrap();
        let files: Vec<&str> = manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        assert_eq!(files, ["evidence.json", STATUS_FILE]);
        assert_eq!(read_status(f.dir()).unwrap().status, STATUS_COMPLETE);
        assert_eq!(
            std::fs::read_link(out.path().join(LATEST)).unwrap(),
            PathBuf::from("run-1")
        );

        let g = folder(out.path(), "run-2");
        assert_eq!(g.finish().unwrap(), Latest::Moved);
        assert_eq!(
            std::fs::read_link(out.path().join(LATEST)).unwrap(),
            PathBuf::from("run-2")
        );
    }

    #[test]
    fn a_real_latest_folder_or_file_or_foreign_link_is_never_touched() {
        let out = tempfile::tempdir().unwrap();
        std::fs::create_dir(out.path().join(LATEST)).unwrap();
        std::fs::write(out.path().join("latest/mine.txt"), "keep me").unwrap();
        let f = folder(out.path(), "run-1");
        assert!(matches!(f.finish().unwrap(), Latest::LeftAlone(_)));
        assert_eq!(
            std::fs::read_to_string(out.path().join("latest/mine.txt")).unwrap(),
            "keep me"
        );

        let out = tempfile::tempdir().unwrap();
        std::fs::write(out.path().join(LATEST), "a file").unwrap();
        let f = folder(out.path(), "run-1");
        assert!(matches!(f.finish().unwrap(), Latest::LeftAlone(_)));
        assert_eq!(
            std::fs::read_to_string(out.path().join(LATEST)).unwrap(),
            "a file"
        );

        #[cfg(unix)]
        {
            let out = tempfile::tempdir().unwrap();
            std::os::unix::fs::symlink("/tmp", out.path().join(LATEST)).unwrap();
            let f = folder(out.path(), "run-1");
            assert!(matches!(f.finish().unwrap(), Latest::LeftAlone(_)));
            assert_eq!(
                std::fs::read_link(out.path().join(LATEST)).unwrap(),
                PathBuf::from("/tmp")
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_link_to_a_run_of_an_earlier_version_or_to_a_deleted_run_is_ours() {
        let out = tempfile::tempdir().unwrap();
        std::fs::create_dir(out.path().join("old-run")).unwrap();
        std::fs::write(out.path().join("old-run").join(MANIFEST_FILE), "{}").unwrap();
        std::os::unix::fs::symlink("old-run", out.path().join(LATEST)).unwrap();
        assert_eq!(folder(out.path(), "run-1").finish().unwrap(), Latest::Moved);

        std::fs::remove_dir_all(out.path().join("run-1")).unwrap();
        assert_eq!(folder(out.path(), "run-2").finish().unwrap(), Latest::Moved);

        // A sibling folder that is not a run (no status, no manifest) is not ours.
        std::fs::create_dir(out.path().join("photos")).unwrap();
        std::fs::remove_file(out.path().join(LATEST)).unwrap();
        std::os::unix::fs::symlink("photos", out.path().join(LATEST)).unwrap();
        assert!(matches!(
            folder(out.path(), "run-3").finish().unwrap(),
            Latest::LeftAlone(_)
        ));
    }

    #[test]
    fn a_failed_run_keeps_latest_on_the_last_complete_run() {
        let out = tempfile::tempdir().unwrap();
        folder(out.path(), "run-1").finish().unwrap();
        let f = folder(out.path(), "run-2");
        f.fail("the disk is full").unwrap();
        let status = read_status(f.dir()).unwrap();
        assert_eq!(status.status, STATUS_FAILED);
        assert!(!f.path(MANIFEST_FILE).exists());
        assert_eq!(
            std::fs::read_link(out.path().join(LATEST)).unwrap(),
            PathBuf::from("run-1")
        );
    }

    #[test]
    fn an_atomic_write_that_fails_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("evidence.json");
        write_atomic(&path, b"old").unwrap();
        // A folder where the file would go makes the rename fail.
        let blocked = dir.path().join("blocked");
        std::fs::create_dir(&blocked).unwrap();
        std::fs::write(blocked.join("x"), "x").unwrap();
        assert!(write_atomic(&blocked, b"new").is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(TEMP_PREFIX))
            .collect();
        assert!(leftovers.is_empty());
    }
}

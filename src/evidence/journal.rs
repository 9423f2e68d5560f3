//! The append-only JSONL journal: one redacted [`Exchange`] per line, written
//! as it happens so a killed process loses nothing already recorded, and,
//! ahead of each request, an [`Attempt`] line (`"kind":"attempt"`) whose
//! outcome is the exchange with the same id. An attempt without an outcome
//! is a request that may have taken effect ([`Journal::interrupted`]).
//! Journals written before attempts existed read as before.
//!
//! A run's journal starts with a [`JournalHeader`] (`"kind":"run"`): which
//! run, against which target, since when, and which scenarios it meant to
//! run. `report --from-journal` takes the target, the span and what was
//! never reached from it; journals written before it existed have none and
//! are read as before (every reader skips it as a line of another kind).
//!
//! Each line is serialised first and handed to the OS in a single `write`
//! under a lock, so concurrent recorders never interleave within a line and a
//! crash can at worst leave a truncated last line, which [`Journal::read`]
//! tolerates.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::{Attestation, InterruptedAttempt, Verdict};
use super::{Attempt, Exchange, RecordError, Recorder, ATTEMPT_KIND, SCHEMA_VERSION};

/// The `kind` of a journal's [`JournalHeader`] line.
pub const HEADER_KIND: &str = "run";

/// A run journal's first line, written when the run starts (before anything
/// is sent), so a run killed at any instant still says what it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalHeader {
    pub schema_version: u32,
    /// Always [`HEADER_KIND`].
    pub kind: String,
    /// The run id: the folder's name.
    pub run_id: String,
    /// When the run started.
    pub started_at: DateTime<Utc>,
    /// `simulator`, `test`, `production` or `custom` (as `evidence.json`'s
    /// `run.target`).
    pub target: String,
    /// The target's base URL as shown (no user info, no query).
    pub base_url: String,
    /// The `vipps-golive` version that ran.
    #[serde(default)]
    pub tool_version: String,
    /// The tag expression the run was filtered with, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<String>,
    /// `--attest` as given (who, as given, and when).
    #[serde(default)]
    pub attestations: Vec<Attestation>,
    /// Every scenario the tag filter let through, in feature order.
    #[serde(default)]
    pub scenarios: Vec<PlannedScenario>,
}

/// A scenario a run meant to run, or decided before the run not to start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedScenario {
    pub name: String,
    #[serde(default)]
    pub checklist_ids: Vec<String>,
    /// Why it is not started (NOT APPLICABLE or NEEDS ATTESTATION); absent
    /// when it was to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<(Verdict, String)>,
}

/// One line of a journal.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// An attempt, written before its request was sent.
    Attempt(Attempt),
    /// A finished exchange (the outcome of the attempt with the same id).
    Exchange(Exchange),
}

/// Everything that can go wrong writing or reading a journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file could not be created, opened, written or read.
    #[error("journal `{path}`: could not {action}")]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: io::Error,
    },
    /// An exchange could not be serialised.
    #[error("journal `{path}`: could not serialise an exchange")]
    Serialize {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// Lines that are not exchanges (a truncated last line is not one of them).
    #[error("journal `{path}` has malformed lines: {}", describe(lines))]
    Malformed {
        path: PathBuf,
        /// 1-based line numbers and what is wrong with each.
        lines: Vec<(usize, String)>,
    },
}

fn describe(lines: &[(usize, String)]) -> String {
    lines
        .iter()
        .map(|(n, why)| format!("line {n}: {why}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Appends each exchange to a JSONL file and hands it to the OS at once.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    /// The first write that failed: the run stops on it.
    failure: Mutex<Option<RecordError>>,
}

impl Journal {
    /// Creates `path` (truncating an existing file) and its parent folders.
    pub fn create(path: impl AsRef<Path>) -> Result<Journal, JournalError> {
        Self::open(path.as_ref(), true)
    }

    /// Opens `path` for appending, creating it when missing.
    pub fn open_append(path: impl AsRef<Path>) -> Result<Journal, JournalError> {
        Self::open(path.as_ref(), false)
    }

    fn open(path: &Path, truncate: bool) -> Result<Journal, JournalError> {
        let io_err = |action, source| JournalError::Io {
            path: path.to_owned(),
            action,
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| io_err("create its folder", e))?;
        }
        let mut options = OpenOptions::new();
        if truncate {
            options.write(true).create(true).truncate(true);
        } else {
            options.append(true).create(true);
        }
        let file = options.open(path).map_err(|e| io_err("open it", e))?;
        Ok(Journal {
            path: path.to_owned(),
            file: Mutex::new(file),
            failure: Mutex::new(None),
        })
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one exchange as one line, in one write.
    pub fn append(&self, exchange: &Exchange) -> Result<(), JournalError> {
        let line = serde_json::to_vec(exchange).map_err(|source| JournalError::Serialize {
            path: self.path.clone(),
            source,
        })?;
        self.write_line(line)
    }

    /// Writes the run's header line; called once, before anything is sent.
    pub fn append_header(&self, header: &JournalHeader) -> Result<(), JournalError> {
        let line = serde_json::to_vec(header).map_err(|source| JournalError::Serialize {
            path: self.path.clone(),
            source,
        })?;
        self.write_line(line)
    }

    /// A run journal's header, when its first line is one (`None` for a
    /// journal written before headers, or by the simulator or proxy).
    pub fn header(path: impl AsRef<Path>) -> Result<Option<JournalHeader>, JournalError> {
        use crate::domain::input::{self, CappedLine, InputKind, JOURNAL_LINE_CAP};
        let path = path.as_ref();
        let read_err = |source| JournalError::Io {
            path: path.to_owned(),
            action: "read it",
            source,
        };
        // A regular file only (a FIFO would block), its first line capped.
        let file = input::open(path, InputKind::Journal).map_err(|e| match e {
            input::InputError::Io { source, .. } => read_err(source),
            other => read_err(io::Error::new(
                io::ErrorKind::InvalidInput,
                other.to_string(),
            )),
        })?;
        let mut first = Vec::new();
        // The header is written before anything else: only the first line
        // can be one, and reading it alone keeps a large journal cheap.
        let read =
            input::read_line_capped(&mut io::BufReader::new(file), &mut first, JOURNAL_LINE_CAP)
                .map_err(read_err)?;
        if read != Some(CappedLine::Whole) {
            return Ok(None);
        }
        Ok(
            match parse_line(String::from_utf8_lossy(&first).trim_end()) {
                Ok(Line::Header(h)) => Some(redacted_header(h)),
                _ => None,
            },
        )
    }

    /// Appends one attempt as one line, in one write (before its request is sent).
    pub fn append_attempt(&self, attempt: &Attempt) -> Result<(), JournalError> {
        let line = serde_json::to_vec(attempt).map_err(|source| JournalError::Serialize {
            path: self.path.clone(),
            source,
        })?;
        self.write_line(line)
    }

    fn write_line(&self, mut line: Vec<u8>) -> Result<(), JournalError> {
        // After a failed write the file may end in a torn line: writing on
        // would bury it mid-file, where readers refuse it. The first failure
        // is final; the run stops on it and sends nothing more.
        if let Some(first) = self.failure() {
            return Err(JournalError::Io {
                path: self.path.clone(),
                action: "append to it after an earlier write failed",
                source: io::Error::other(first.0),
            });
        }
        line.push(b'\n');
        // A poisoned lock only means another thread panicked mid-record; the
        // file handle itself is still fine, so keep journaling.
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        // File is unbuffered: write_all hands the bytes to the OS now (one
        // write(2) for a regular file), so they survive a killed process.
        file.write_all(&line).map_err(|source| JournalError::Io {
            path: self.path.clone(),
            action: "append to it",
            source,
        })
    }

    fn note_failure(&self, e: &JournalError) {
        let mut failure = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        if failure.is_none() {
            let cause = std::error::Error::source(e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            *failure = Some(RecordError(format!("{e}{cause}")));
        }
    }

    /// Asks the OS to put everything on disk (end of a run; survives power loss).
    pub fn sync(&self) -> Result<(), JournalError> {
        let file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.sync_data().map_err(|source| JournalError::Io {
            path: self.path.clone(),
            action: "sync it",
            source,
        })
    }

    /// Reads a journal's exchanges back (attempt lines are skipped).
    ///
    /// Blank lines are skipped. A last line without its newline that does not
    /// parse is a write cut short by a crash: it is dropped with a warning.
    /// Any other line that is not an exchange makes the whole read fail, with
    /// every such line listed by number.
    pub fn read(path: impl AsRef<Path>) -> Result<Vec<Exchange>, JournalError> {
        Ok(Self::read_entries(path)?
            .into_iter()
            .filter_map(|e| match e {
                Entry::Exchange(x) => Some(x),
                Entry::Attempt(_) => None,
            })
            .collect())
    }

    /// Reads every line back, attempts and exchanges, in order (same
    /// tolerance as [`Journal::read`]).
    ///
    /// The file must be a regular one (a FIFO or a device is refused at
    /// once) and is streamed: a line longer than
    /// [`JOURNAL_LINE_CAP`](crate::domain::input::JOURNAL_LINE_CAP) is
    /// skipped with a warning, never held whole.
    pub fn read_entries(path: impl AsRef<Path>) -> Result<Vec<Entry>, JournalError> {
        use crate::domain::input::{self, CappedLine, InputKind, JOURNAL_LINE_CAP};
        let path = path.as_ref();
        let read_err = |source| JournalError::Io {
            path: path.to_owned(),
            action: "read it",
            source,
        };
        let file = input::open(path, InputKind::Journal).map_err(|e| match e {
            input::InputError::Io { source, .. } => read_err(source),
            other => read_err(io::Error::new(
                io::ErrorKind::InvalidInput,
                other.to_string(),
            )),
        })?;
        let mut reader = io::BufReader::with_capacity(1 << 16, file);
        let mut buf = Vec::new();
        let mut entries = Vec::new();
        let mut bad = Vec::new();
        let mut number = 0;
        while let Some(read) =
            input::read_line_capped(&mut reader, &mut buf, JOURNAL_LINE_CAP).map_err(read_err)?
        {
            number += 1;
            if let CappedLine::TooLong { len } = read {
                tracing::warn!(path = %path.display(), line = number, bytes = len, "journal line longer than 16 MiB; skipped");
                continue;
            }
            let complete = buf.last() == Some(&b'\n');
            let line = String::from_utf8_lossy(&buf);
            if line.trim().is_empty() {
                continue;
            }
            match parse_line(line.trim_end_matches(['\n', '\r'])) {
                // Read back from a file anyone may have written or edited:
                // redacted again before anything renders it (issue 22).
                Ok(Line::Entry(e)) => entries.push(redacted(e)),
                Ok(Line::Header(_)) => {}
                Err(_) if !complete => {
                    tracing::warn!(
                        path = %path.display(),
                        line = number,
                        "journal ends with a truncated line (a write cut short); ignoring it"
                    );
                }
                Err(why) => bad.push((number, why)),
            }
        }
        if bad.is_empty() {
            Ok(entries)
        } else {
            Err(JournalError::Malformed {
                path: path.to_owned(),
                lines: bad,
            })
        }
    }

    /// The attempts of a journal that have no outcome: each was (or may have
    /// been) sent, and may have taken effect.
    pub fn interrupted(path: impl AsRef<Path>) -> Result<Vec<InterruptedAttempt>, JournalError> {
        Ok(interrupted(&Self::read_entries(path)?))
    }
}

/// The attempts in `entries` with no exchange of the same id, in order.
pub fn interrupted(entries: &[Entry]) -> Vec<InterruptedAttempt> {
    let done: std::collections::HashSet<&str> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Exchange(x) => Some(x.id.as_str()),
            Entry::Attempt(_) => None,
        })
        .collect();
    entries
        .iter()
        .filter_map(|e| match e {
            Entry::Attempt(a) if !done.contains(a.id.as_str()) => Some(InterruptedAttempt {
                id: a.id.clone(),
                started_at: a.started_at,
                method: a.method.clone(),
                url: shown_url(&a.url),
                reference: a.reference.clone(),
                idempotency_key: a.idempotency_key.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// The URL without its query (the model says "as shown").
fn shown_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => crate::domain::host::display_url(&u),
        Err(_) => url.split(['?', '#']).next().unwrap_or_default().to_owned(),
    }
}

/// One line of a journal as read: the header, or an entry.
enum Line {
    Header(JournalHeader),
    Entry(Entry),
}

/// An entry read back, with every credential redacted (a no-op on what this
/// tool wrote itself).
fn redacted(entry: Entry) -> Entry {
    use crate::domain::redact;
    match entry {
        Entry::Exchange(x) => Entry::Exchange(redact::stored(x)),
        Entry::Attempt(mut a) => {
            a.url = redact::url(&a.url);
            a.reference = a.reference.map(|r| redact::text(&r));
            a.idempotency_key = a.idempotency_key.map(|k| redact::text(&k));
            a.scenario = a.scenario.map(|s| redact::text(&s));
            Entry::Attempt(a)
        }
    }
}

/// A header read back, its free text redacted as an entry's is (issue 22:
/// a hand-edited or foreign journal's header reaches the report too).
fn redacted_header(mut h: JournalHeader) -> JournalHeader {
    use crate::domain::redact;
    h.run_id = redact::text(&h.run_id);
    h.target = redact::text(&h.target);
    h.base_url = redact::url(&h.base_url);
    h.tool_version = redact::text(&h.tool_version);
    h.tags = h.tags.map(|t| redact::text(&t));
    for a in &mut h.attestations {
        a.checklist_id = redact::text(&a.checklist_id);
        a.by = redact::text(&a.by);
    }
    for s in &mut h.scenarios {
        s.name = redact::text(&s.name);
        for id in &mut s.checklist_ids {
            *id = redact::text(id);
        }
        if let Some((_, why)) = &mut s.skipped {
            *why = redact::text(why);
        }
    }
    h
}

fn parse_line(line: &str) -> Result<Line, String> {
    // Syntax first: serde_json's syntax errors never quote the input.
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("not JSON ({e})"))?;
    match value.get("schema_version").and_then(|v| v.as_u64()) {
        None => return Err("no `schema_version`".into()),
        Some(v) if v > u64::from(SCHEMA_VERSION) => {
            return Err(format!(
                "schema_version {v} is newer than this program understands ({SCHEMA_VERSION}) (hint: upgrade vipps-golive)"
            ))
        }
        Some(_) => {}
    }
    match value.get("kind").and_then(|k| k.as_str()) {
        Some(HEADER_KIND) => serde_json::from_value(value)
            .map(Line::Header)
            .map_err(|e| format!("not a run header ({e})")),
        Some(ATTEMPT_KIND) => serde_json::from_value(value)
            .map(|a| Line::Entry(Entry::Attempt(a)))
            .map_err(|e| format!("not an attempt ({e})")),
        _ => serde_json::from_value(value)
            .map(|x| Line::Entry(Entry::Exchange(x)))
            .map_err(|e| format!("not an exchange ({e})")),
    }
}

impl Recorder for Journal {
    fn record(&self, exchange: &Exchange) {
        if let Err(e) = self.append(exchange) {
            // Recording must never fail the request it records; the run
            // reads `failure` and stops instead of reporting without evidence.
            tracing::error!(error = %e, source = ?std::error::Error::source(&e).map(ToString::to_string), "could not record an exchange");
            self.note_failure(&e);
        }
    }

    fn attempt_started(&self, attempt: &Attempt) -> Result<(), RecordError> {
        self.append_attempt(attempt).map_err(|e| {
            self.note_failure(&e);
            let cause = std::error::Error::source(&e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            RecordError(format!("{e}{cause}"))
        })
    }

    fn failure(&self) -> Option<RecordError> {
        self.failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

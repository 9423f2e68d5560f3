//! Bounded record of every request the simulator received: the last
//! `journal_capacity` exchanges in memory (`GET /__sim/journal`), optionally
//! streamed to a JSONL file (`--journal FILE`) for `audit`.
//!
//! Everything that leaves the journal (`GET /__sim/journal`, the file) is a
//! redacted [`Exchange`] built with [`Exchange::from_raw`]. Redaction (which
//! parses bodies) is done when an entry leaves, not under the engine lock: the
//! ring keeps the raw request and reply in process memory only (measured: this
//! halves the engine's time per GET). The file line is written before the
//! answer leaves, redacted and written after the engine lock is released
//! ([`PendingLine`]): a SIGKILL loses no answered
//! request, and the engine lock never waits on disk or on redaction. A file
//! that cannot be written makes the simulator answer 503 rather than answer
//! without a record ([`JournalUnavailable`]).
//!
//! Choice: `/__sim/` control traffic is NOT recorded. The journal is the shop's
//! traffic for `audit`; the harness's approve/expire calls are not the shop's.

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};

use super::{lock, try_lock, Engine, Reply, SimConfig, SimRequest, SimResponse};
use crate::domain::exchange::{Exchange, RawExchange};
use crate::domain::redact;

/// Failure to open the journal file.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the journal file `{path}` (hint: check the folder exists and is writable)")]
pub struct JournalFileError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// One request and its reply, as received (unredacted; never leaves the process
/// except through [`Entry::to_exchange`]). Packed into a few allocations: with
/// one `String` per header, freed 10 000 requests later, the heap fragmented and
/// the journal cost 80 MB of RSS in the 100 000-payment benchmark. The body is
/// copied rather than kept as `Bytes`, which would pin hyper's read buffer.
#[derive(Clone)]
struct Entry {
    started: DateTime<Utc>,
    method: Box<str>,
    path: Box<str>,
    query: Option<Box<str>>,
    /// `name\0value\0name\0value...`
    request_headers: Box<str>,
    request_body: Box<[u8]>,
    status: Option<u16>,
    response_headers: Box<str>,
    response_body: Box<[u8]>,
    dropped: bool,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print headers or bodies: they hold tokens and keys.
        f.debug_struct("Entry")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

fn pack(headers: &[(String, String)]) -> Box<str> {
    let mut out = String::with_capacity(headers.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (k, v) in headers {
        // NUL cannot occur in a header name or value that reached us.
        out.push_str(k);
        out.push('\0');
        out.push_str(v);
        out.push('\0');
    }
    out.into_boxed_str()
}

fn unpack(packed: &str) -> Vec<(String, String)> {
    let mut parts = packed.split('\0');
    let mut out = Vec::new();
    while let (Some(k), Some(v)) = (parts.next(), parts.next()) {
        out.push((k.to_owned(), v.to_owned()));
    }
    out
}

impl Entry {
    fn new(req: &SimRequest, reply: &Reply, started: DateTime<Utc>) -> Entry {
        Entry {
            started,
            method: req.method.as_str().into(),
            path: req.path.as_str().into(),
            query: req.query.as_deref().map(Into::into),
            request_headers: pack(&req.headers),
            request_body: req.body.to_vec().into_boxed_slice(),
            status: (!reply.drop_connection).then_some(reply.response.status),
            response_headers: pack(&reply.response.headers),
            response_body: reply.response.body.clone().into_boxed_slice(),
            dropped: reply.drop_connection,
        }
    }

    /// The redacted record.
    fn to_exchange(&self) -> Exchange {
        Exchange::from_raw(self.to_raw())
    }

    /// The redacted record as one JSON line (with its newline), appended to
    /// `out`: what [`Entry::to_exchange`] serialises to, at a fraction of the
    /// cost (see [`redact::exchange_jsonl`]). A shop polling a payment sends
    /// the same request and gets the same answer again and again: when this
    /// thread wrote the same exchange last for this path, at the same
    /// version of the registered secrets, its redacted tail is written again
    /// under a fresh head (id, time), and nothing is redacted twice.
    fn write_jsonl(&self, out: &mut Vec<u8>) {
        let version = redact::registry_version();
        let hit = TAILS.with(|cell| {
            let tails = cell.borrow();
            let Some(kept) = tails.get(&*self.path) else {
                return false;
            };
            if kept.version != version || !kept.entry.same_exchange(self) {
                return false;
            }
            redact::line_head(self.started, 0, out);
            out.extend_from_slice(&kept.tail);
            true
        });
        if hit {
            return;
        }
        let tail_at = redact::exchange_jsonl(self.to_raw(), out);
        // A version that moved meanwhile (a secret registered by this very
        // exchange, or by another thread) may not be the one this tail was
        // redacted with: keep it only when none moved.
        if redact::registry_version() != version || out.len() - tail_at > MAX_KEPT_TAIL {
            return;
        }
        TAILS.with(|cell| {
            let mut tails = cell.borrow_mut();
            if tails.len() >= MAX_KEPT_TAILS && !tails.contains_key(&*self.path) {
                tails.clear();
            }
            tails.insert(
                self.path.clone(),
                KeptTail {
                    entry: self.clone(),
                    version,
                    tail: out[tail_at..].into(),
                },
            );
        });
    }

    /// The same exchange but for its time: what its line's tail is made of.
    fn same_exchange(&self, other: &Entry) -> bool {
        self.method == other.method
            && self.path == other.path
            && self.query == other.query
            && self.request_headers == other.request_headers
            && self.request_body == other.request_body
            && self.status == other.status
            && self.response_headers == other.response_headers
            && self.response_body == other.response_body
            && self.dropped == other.dropped
    }

    /// The entry as received, for redaction.
    fn to_raw(&self) -> RawExchange {
        let request_headers = unpack(&self.request_headers);
        let host = request_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("host"))
            .map_or("127.0.0.1", |(_, v)| v.as_str());
        let url = match &self.query {
            Some(q) => format!("http://{host}{}?{q}", self.path),
            None => format!("http://{host}{}", self.path),
        };
        RawExchange {
            started_at: self.started,
            // The engine answers in microseconds; injected delays happen in the adapter.
            duration_ms: 0,
            method: self.method.to_string(),
            url,
            request_headers,
            request_body: self.request_body.to_vec(),
            status: self.status,
            response_headers: unpack(&self.response_headers),
            response_body: self.response_body.to_vec(),
            error: self
                .dropped
                .then(|| "connection dropped after the operation (injected fault)".to_owned()),
            attempt: 1,
            reference: reference_of(&self.path),
            checklist_ids: Vec::new(),
            scenario: None,
        }
    }
}

/// The redacted tail of the line this thread wrote last for a path, with
/// the exchange it was made from and the registry version it was made at
/// (see [`Entry::write_jsonl`]).
struct KeptTail {
    entry: Entry,
    version: u64,
    tail: Box<[u8]>,
}

/// Most paths whose last line a thread keeps; the list is emptied when full.
const MAX_KEPT_TAILS: usize = 256;

/// Largest tail kept (a payment's GET line is under 2 KiB).
const MAX_KEPT_TAIL: usize = 16 * 1024;

thread_local! {
    static TAILS: std::cell::RefCell<std::collections::HashMap<Box<str>, KeptTail>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// The journal file, written *before* the answer leaves (issue 22): a SIGKILL
/// at any instant loses no answered request. Lines go to the page cache, no
/// fsync (the OS keeps what a killed process wrote). A line is redacted
/// outside every lock, then queued; whoever holds the file writes every line
/// queued so far in one `write` (group commit), and each request answers
/// once the write that carried its line is done. Never under the engine's
/// lock (see [`PendingLine`]).
#[derive(Debug)]
pub struct JournalFile {
    /// The writer: only its holder writes to the file.
    state: Mutex<FileState>,
    /// Lines redacted and waiting for the next write.
    queue: Mutex<Queue>,
    /// The number of the last queued line whose write has ended (written or failed).
    settled: AtomicU64,
    /// Wakes the requests waiting for their line when a write ends.
    settled_wake: tokio::sync::Notify,
    /// How many requests wait on `settled_wake` (none: no wake to send).
    waiting: AtomicU64,
    /// The lines whose write failed (see [`Failures`]).
    failures: Mutex<Failures>,
    /// Whether any write failed yet (until then, nobody looks at `failures`).
    ever_failed: std::sync::atomic::AtomicBool,
    shown: String,
    /// When the last write failed (milliseconds since the journal opened + 1);
    /// 0 while the file is writable.
    failed_at: AtomicU64,
    opened: std::time::Instant,
}

#[derive(Debug)]
struct FileState {
    file: std::fs::File,
    /// Length of the file after the last whole line: a line cut by a full
    /// disk is truncated back to it, so the file holds only whole lines.
    len: u64,
    /// Why the last write failed, for the 503 Problem.
    error: Option<String>,
    /// The buffer of the last write, emptied, to take the queue's place at
    /// the next one: the queue never grows a fresh buffer from nothing.
    spare: Vec<u8>,
}

#[derive(Debug, Default)]
struct Queue {
    /// Lines, each with its newline, in the order they were queued.
    lines: Vec<u8>,
    /// The number of the last line queued (the first is 1).
    last: u64,
}

/// The numbers of the lines whose write failed, as ranges, so a request
/// learns its own line's fate however many writes ended since. Bounded:
/// past [`MAX_FAILURES`] ranges the oldest are forgotten, and a line older
/// than what is remembered counts as failed (a 503, never an answer
/// without a record).
#[derive(Debug, Default)]
struct Failures {
    ranges: VecDeque<(u64, u64, String)>,
    forgotten_upto: u64,
}

const MAX_FAILURES: usize = 1024;

impl Failures {
    fn of(&self, line: u64) -> Option<String> {
        if let Some((_, _, why)) = self
            .ranges
            .iter()
            .find(|(first, last, _)| (*first..=*last).contains(&line))
        {
            return Some(why.clone());
        }
        (line <= self.forgotten_upto)
            .then(|| "a write failed while this request waited for it".to_owned())
    }

    fn add(&mut self, first: u64, last: u64, why: String) {
        if self.ranges.len() >= MAX_FAILURES {
            if let Some((_, end, _)) = self.ranges.pop_front() {
                self.forgotten_upto = end;
            }
        }
        self.ranges.push_back((first, last, why));
    }
}

/// While the journal is failing, requests are refused before they reach the
/// engine (no effect without a record); one request a second goes through to
/// try the disk again, so the simulator recovers once space is freed.
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// The journal file cannot be written: the request it records must not be
/// answered as if it were recorded.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the simulator journal `{file}` cannot be written: {reason}")]
pub struct JournalUnavailable {
    pub file: String,
    pub reason: String,
}

impl JournalFile {
    fn open(path: &Path) -> Result<JournalFile, JournalFileError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| JournalFileError {
                path: path.to_owned(),
                source,
            })?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(JournalFile {
            state: Mutex::new(FileState {
                file,
                len,
                error: None,
                spare: Vec::new(),
            }),
            queue: Mutex::new(Queue::default()),
            settled: AtomicU64::new(0),
            settled_wake: tokio::sync::Notify::new(),
            waiting: AtomicU64::new(0),
            failures: Mutex::new(Failures::default()),
            ever_failed: std::sync::atomic::AtomicBool::new(false),
            shown: path.display().to_string(),
            failed_at: AtomicU64::new(0),
            opened: std::time::Instant::now(),
        })
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
    }

    /// `Err` while the file is failing and the last try was less than
    /// [`RETRY_AFTER`] ago: the request is refused before it has any effect.
    pub fn check(&self) -> Result<(), JournalUnavailable> {
        let failed = self.failed_at.load(Ordering::Acquire);
        if failed == 0 {
            return Ok(());
        }
        let retry = u64::try_from(RETRY_AFTER.as_millis()).unwrap_or(1000);
        let now = self.millis();
        if now.saturating_sub(failed) >= retry
            && self
                .failed_at
                .compare_exchange(failed, now, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            // This request is the one that tries the disk again.
            return Ok(());
        }
        let error = self.writer().error.clone();
        Err(self.unavailable(error))
    }

    fn unavailable(&self, reason: Option<String>) -> JournalUnavailable {
        JournalUnavailable {
            file: self.shown.clone(),
            reason: reason.unwrap_or_else(|| "a write failed".to_owned()),
        }
    }

    /// Queues `line` (redacted, with its newline); returns its number, and
    /// whether it leads a new batch (the queue was empty).
    fn enqueue(&self, line: &[u8]) -> (u64, bool) {
        let mut q = lock(&self.queue);
        let leads = q.lines.is_empty();
        q.lines.extend_from_slice(line);
        q.last += 1;
        (q.last, leads)
    }

    /// Whether the write of line `n` has ended, and how.
    fn outcome(&self, n: u64) -> Option<Result<(), JournalUnavailable>> {
        if self.settled.load(Ordering::Acquire) < n {
            return None;
        }
        if !self.ever_failed.load(Ordering::Acquire) {
            return Some(Ok(()));
        }
        Some(match lock(&self.failures).of(n) {
            None => Ok(()),
            Some(why) => Err(self.unavailable(Some(why))),
        })
    }

    /// Writes every queued line in one `write`, under the writer's lock
    /// `state`, then wakes whoever waits for them.
    fn flush(&self, state: &mut FileState) {
        let mut lines = std::mem::take(&mut state.spare);
        let last = {
            let mut q = lock(&self.queue);
            std::mem::swap(&mut q.lines, &mut lines);
            q.last
        };
        let first = self.settled.load(Ordering::Acquire) + 1;
        if lines.is_empty() || last < first {
            state.spare = lines;
            return;
        }
        match write_line(&mut state.file, &lines) {
            Ok(()) => {
                state.len += lines.len() as u64;
                if self.failed_at.swap(0, Ordering::AcqRel) != 0 {
                    tracing::warn!(file = %self.shown, "the simulator journal is writable again; answering requests again");
                }
                state.error = None;
            }
            Err((written, e)) => {
                if written > 0 {
                    // A line cut by a full disk would corrupt the next one.
                    let _ = state.file.set_len(state.len);
                }
                let reason = e.to_string();
                if self.failed_at.swap(self.millis(), Ordering::AcqRel) == 0 {
                    tracing::error!(
                        file = %self.shown,
                        error = %reason,
                        "cannot write the simulator journal; answering 503 until it can be written"
                    );
                }
                lock(&self.failures).add(first, last, reason.clone());
                self.ever_failed.store(true, Ordering::Release);
                state.error = Some(reason);
            }
        }
        self.settled.store(last, Ordering::Release);
        // Kept for the next write, unless a burst made it large.
        if lines.capacity() <= 1 << 20 {
            lines.clear();
            state.spare = lines;
        }
    }

    /// Appends `line` and returns once it is written (or its write failed),
    /// blocking the thread while another writes.
    fn write(&self, line: &[u8]) -> Result<(), JournalUnavailable> {
        let (n, _) = self.enqueue(line);
        let mut writer = self.writer();
        if self.outcome(n).is_none() {
            self.flush(&mut writer);
        }
        drop(writer);
        self.outcome(n)
            .unwrap_or_else(|| Err(self.unavailable(None)))
    }

    /// The writer's lock, waiting for it.
    fn writer(&self) -> Writer<'_> {
        Writer {
            state: lock(&self.state),
            _wake: WakeAll(self),
        }
    }

    /// The writer's lock, if nobody holds it.
    fn try_writer(&self) -> Option<Writer<'_>> {
        Some(Writer {
            state: try_lock(&self.state)?,
            _wake: WakeAll(self),
        })
    }

    /// [`JournalFile::write`] for an async runtime (group commit). The line
    /// that finds the queue empty leads a batch: its request writes every
    /// line queued by then in one `write`, as soon as the writer's lock is
    /// free. The lines queued behind it wait for that write without holding
    /// their thread. (Letting the thread's other ready requests queue first
    /// made batches of 16 lines but served a quarter fewer requests: the
    /// wait costs more than the `write`s it saves.)
    async fn write_async(&self, line: &[u8]) -> Result<(), JournalUnavailable> {
        let (n, leads) = self.enqueue(line);
        let mut leader = Leader {
            file: self,
            pending: leads,
        };
        // Most often nobody else is writing: no waiting at all.
        if leads {
            if let Some(mut writer) = self.try_writer() {
                self.flush(&mut writer);
                drop(writer);
                leader.pending = false;
                if let Some(done) = self.outcome(n) {
                    return done;
                }
            }
        }
        loop {
            let woken = self.settled_wake.notified();
            tokio::pin!(woken);
            // Counted and registered before looking, so a write that ends
            // in between still wakes it (see [`WakeAll`]).
            let _waiting = Waiting::new(&self.waiting);
            woken.as_mut().enable();
            if let Some(done) = self.outcome(n) {
                leader.pending = false;
                return done;
            }
            let writer = if leader.pending {
                self.try_writer()
            } else {
                None
            };
            let wrote = writer.map(|mut w| self.flush(&mut w)).is_some();
            if wrote {
                leader.pending = false;
            } else {
                // The batch's leader writes it (or the write before it ends): a wake.
                woken.await;
            }
        }
    }
}

/// The writer's lock. Whoever lets it go wakes every request waiting: for
/// its line, written now, or for the lock, free now (a wake while it was
/// still held would be lost on a request that then found it taken). Fields
/// drop in order: the lock first, then the wake.
struct Writer<'a> {
    state: MutexGuard<'a, FileState>,
    _wake: WakeAll<'a>,
}

/// Wakes the waiting requests, if any: a request counts itself in
/// ([`Waiting`]) before it looks at the lock and its line, and the writer
/// looks at the count after it let go of both; a fence on each side makes
/// sure one of the two sees the other.
struct WakeAll<'a>(&'a JournalFile);

impl Drop for WakeAll<'_> {
    fn drop(&mut self) {
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.0.waiting.load(Ordering::SeqCst) > 0 {
            self.0.settled_wake.notify_waiters();
        }
    }
}

/// One request counted among those waiting, while it is.
struct Waiting<'a>(&'a AtomicU64);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicU64) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        std::sync::atomic::fence(Ordering::SeqCst);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl std::ops::Deref for Writer<'_> {
    type Target = FileState;
    fn deref(&self) -> &FileState {
        &self.state
    }
}

impl std::ops::DerefMut for Writer<'_> {
    fn deref_mut(&mut self) -> &mut FileState {
        &mut self.state
    }
}

/// The request whose line leads a batch, until the batch is written. When
/// its request is dropped first (the client went away), the batch is
/// written there and then: the lines queued behind it never wait for a
/// write nobody does.
struct Leader<'a> {
    file: &'a JournalFile,
    pending: bool,
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if self.pending {
            self.file.flush(&mut self.file.writer());
        }
    }
}

/// `write_all`, but tells how much was written before an error.
fn write_line(file: &mut std::fs::File, line: &[u8]) -> Result<(), (usize, std::io::Error)> {
    let mut written = 0;
    while written < line.len() {
        match file.write(&line[written..]) {
            Ok(0) => {
                return Err((
                    written,
                    std::io::Error::new(std::io::ErrorKind::WriteZero, "wrote nothing"),
                ))
            }
            Ok(n) => written += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err((written, e)),
        }
    }
    Ok(())
}

/// A line to write once the engine lock is released: see
/// [`PendingLine::write`].
#[derive(Debug)]
pub struct PendingLine {
    file: Arc<JournalFile>,
    entry: Arc<Entry>,
}

impl PendingLine {
    /// Redacts the entry and appends its line. Called after the engine lock
    /// is released: redaction runs in parallel on every thread, and only the
    /// `write` itself is serialised.
    ///
    /// Order: two lines may land in the file in another order than the
    /// engine saw their requests only when both requests were in flight at
    /// once, and then neither could have depended on the other's answer. A
    /// request sent after an answer was received is always written after
    /// it, because no answer leaves before its line is written.
    pub fn write(self) -> Result<(), JournalUnavailable> {
        let line = self.line();
        self.file.write(&line)
    }

    /// [`PendingLine::write`] without holding the thread while another
    /// request writes: its line goes with the next write (group commit).
    pub async fn write_async(self) -> Result<(), JournalUnavailable> {
        let line = self.line();
        self.file.write_async(&line).await
    }

    fn line(&self) -> Vec<u8> {
        let mut line = Vec::with_capacity(2048);
        self.entry.write_jsonl(&mut line);
        line
    }
}

/// The in-memory ring and the optional file stream.
#[derive(Debug, Default)]
pub struct SimJournal {
    entries: VecDeque<Arc<Entry>>,
    capacity: usize,
    file: Option<Arc<JournalFile>>,
    /// Requests recorded since the start (or the last clear), kept or not.
    total: u64,
}

impl SimJournal {
    pub fn new(config: &SimConfig) -> Self {
        SimJournal {
            entries: VecDeque::with_capacity(config.journal_capacity.min(1024)),
            capacity: config.journal_capacity,
            file: None,
            total: 0,
        }
    }

    /// Also appends every exchange, as one JSON line, to `path` (created or
    /// appended to), before its answer leaves ([`PendingLine`]).
    pub fn stream_to(&mut self, path: &Path) -> Result<(), JournalFileError> {
        self.file = Some(Arc::new(JournalFile::open(path)?));
        Ok(())
    }

    /// `Err` when the journal file is failing: the request must be refused
    /// before it has an effect ([`JournalFile::check`]).
    pub fn check(&self) -> Result<(), JournalUnavailable> {
        self.file.as_ref().map_or(Ok(()), |f| f.check())
    }

    /// Forgets the in-memory entries (the file keeps what it has).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.total = 0;
    }

    /// The kept entries, oldest first, redacted.
    pub fn exchanges(&self, limit: Option<usize>) -> Vec<Exchange> {
        let skip = limit.map_or(0, |l| self.entries.len().saturating_sub(l));
        self.entries
            .iter()
            .skip(skip)
            .map(|e| e.to_exchange())
            .collect()
    }

    /// How many entries are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no entry is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Requests recorded since the start or the last clear.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Records one request and its reply (not `/__sim/` control traffic). The
    /// line for the file, if any, is returned to be written before the answer
    /// leaves ([`PendingLine::write`]).
    #[must_use = "the journal line must be written before the answer leaves"]
    pub fn record(
        &mut self,
        req: &SimRequest,
        reply: &Reply,
        started: DateTime<Utc>,
    ) -> Option<PendingLine> {
        if self.capacity == 0 && self.file.is_none() {
            return None;
        }
        if req.path.starts_with("/__sim/") || req.path == "/__sim" {
            return None;
        }
        let entry = Arc::new(Entry::new(req, reply, started));
        self.total += 1;
        let pending = self.file.as_ref().map(|file| PendingLine {
            file: file.clone(),
            entry: entry.clone(),
        });
        if self.capacity > 0 {
            if self.entries.len() >= self.capacity {
                self.entries.pop_front();
            }
            self.entries.push_back(entry);
        }
        pending
    }

    /// The last `limit` entries (all when `None`) as redacted JSON lines.
    pub fn to_jsonl(&self, limit: Option<usize>) -> Vec<u8> {
        let skip = limit.map_or(0, |l| self.entries.len().saturating_sub(l));
        let mut out = Vec::new();
        for e in self.entries.iter().skip(skip) {
            e.write_jsonl(&mut out);
        }
        out
    }
}

/// The payment reference in an ePayment or Order Management path, when there is one.
fn reference_of(path: &str) -> Option<String> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        [ep, "v1", "payments", r, ..] if ep.eq_ignore_ascii_case("epayment") => {
            Some((*r).to_owned())
        }
        ["order-management", "v2", _, kind, r] if *kind == "receipts" || *kind == "categories" => {
            Some((*r).to_owned())
        }
        ["order-management", "v2", _, r] => Some((*r).to_owned()),
        _ => None,
    }
}

/// `/__sim/journal` (JSONL, `?limit=N`); `None` for other paths.
pub(crate) fn handle_control(engine: &mut Engine, req: &SimRequest) -> Option<SimResponse> {
    let segs = req.segments();
    if segs.len() != 2 || segs[1] != "journal" {
        return None;
    }
    Some(match req.method.as_str() {
        "GET" => {
            let limit = req.query_param("limit").and_then(|l| l.parse().ok());
            SimResponse {
                status: 200,
                headers: vec![(
                    "content-type".into(),
                    "application/x-ndjson; charset=utf-8".into(),
                )],
                body: engine.journal.to_jsonl(limit),
            }
            .with_header("x-sim-journal-total", engine.journal.total().to_string())
        }
        "DELETE" => {
            engine.journal.clear();
            SimResponse::empty(204)
        }
        _ => super::problem::method_not_allowed(req, "GET, DELETE"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(path: &str) -> SimRequest {
        SimRequest::new(
            "GET",
            path,
            None,
            vec![("Host".to_owned(), "127.0.0.1:7777".to_owned())],
            "",
        )
    }

    fn journal(capacity: usize) -> SimJournal {
        SimJournal::new(&SimConfig {
            journal_capacity: capacity,
            ..SimConfig::default()
        })
    }

    #[test]
    fn the_journal_keeps_only_the_last_capacity_entries() {
        let mut j = journal(3);
        for i in 0..5 {
            let r = req(&format!("/epayment/v1/payments/ref-{i}"));
            let _ = j.record(&r, &SimResponse::empty(200).into(), Utc::now());
        }
        let kept = j.exchanges(None);
        assert_eq!(kept.len(), 3);
        assert!(kept[0].url.ends_with("ref-2"));
        assert_eq!(j.total(), 5);
        assert_eq!(kept[0].reference.as_deref(), Some("ref-2"));
    }

    #[test]
    fn what_leaves_the_journal_never_shows_the_bearer_token() {
        let mut j = journal(10);
        let r = SimRequest::new(
            "GET",
            "/epayment/v1/payments/ref-1",
            None,
            vec![(
                "Authorization".to_owned(),
                "Bearer very-secret-token-123".to_owned(),
            )],
            "",
        );
        let _ = j.record(&r, &SimResponse::empty(200).into(), Utc::now());
        let text = String::from_utf8(j.to_jsonl(None)).unwrap();
        assert!(!text.contains("very-secret-token-123"));
        assert!(!format!("{j:?}").contains("very-secret-token-123"));
    }

    #[test]
    fn packed_headers_come_back_as_they_were() {
        let h = vec![
            ("host".to_owned(), "127.0.0.1:1".to_owned()),
            ("x-empty".to_owned(), String::new()),
        ];
        assert_eq!(unpack(&pack(&h)), h);
        assert!(unpack(&pack(&[])).is_empty());
    }

    #[test]
    fn control_traffic_is_not_recorded() {
        let mut j = journal(10);
        let _ = j.record(
            &req("/__sim/reset"),
            &SimResponse::empty(204).into(),
            Utc::now(),
        );
        assert!(j.is_empty());
    }

    #[test]
    fn jsonl_limit_returns_the_newest_lines() {
        let mut j = journal(10);
        for i in 0..4 {
            let r = req(&format!("/epayment/v1/payments/ref-{i}"));
            let _ = j.record(&r, &SimResponse::empty(200).into(), Utc::now());
        }
        let text = String::from_utf8(j.to_jsonl(Some(2))).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[1].contains("ref-3"));
    }

    #[test]
    fn the_file_stream_gets_one_line_per_request() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut j = journal(10);
        j.stream_to(&path).unwrap();
        for i in 0..3 {
            let r = req(&format!("/epayment/v1/payments/ref-{i}"));
            let line = j.record(&r, &SimResponse::empty(200).into(), Utc::now());
            line.unwrap().write().unwrap();
            // Written before the answer would leave: no flush, no close needed.
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(text.lines().count(), i + 1);
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3);
        let first: Exchange = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first.method, "GET");
    }

    fn sim_with_file(path: &Path) -> Arc<super::super::Simulator> {
        let sim = super::super::Simulator::new(SimConfig {
            rate_limits: false,
            ..SimConfig::default()
        });
        sim.with_engine(|e| e.journal.stream_to(path)).unwrap();
        sim
    }

    fn call(
        sim: &super::super::Simulator,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, serde_json::Value) {
        let h = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>();
        let reply = sim.handle(SimRequest::new(method, path, None, h, body.to_owned()));
        let body = serde_json::from_slice(&reply.response.body).unwrap_or_default();
        (reply.response.status, body)
    }

    const TOKEN_HEADERS: [(&str, &str); 4] = [
        ("client_id", "sim-client-id-123456"),
        ("client_secret", "sim-client-secret-123456"),
        ("ocp-apim-subscription-key", "sim-subscription-key-123456"),
        ("merchant-serial-number", "123456"),
    ];

    #[test]
    fn the_simulator_s_own_token_answers_never_reach_the_journal_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let sim = sim_with_file(&path);
        let mut tokens = Vec::new();
        for _ in 0..3 {
            let (status, body) = call(&sim, "POST", "/accesstoken/get", &TOKEN_HEADERS, "");
            assert_eq!(status, 200);
            tokens.push(body["access_token"].as_str().unwrap().to_owned());
        }
        // The token used, then a payment read back (its link carries a JWT
        // of the simulator's own) several times, as a shop polls it.
        let bearer = format!("Bearer {}", tokens[2]);
        let auth = [
            ("authorization", bearer.as_str()),
            ("ocp-apim-subscription-key", "sim-subscription-key-123456"),
            ("merchant-serial-number", "123456"),
            ("idempotency-key", "journal-test-key-1"),
            ("content-type", "application/json"),
        ];
        let create = r#"{"amount":{"currency":"NOK","value":1000},"paymentMethod":{"type":"WALLET"},"reference":"journal-ref-1","userFlow":"WEB_REDIRECT","returnUrl":"https://shop.example/return","paymentDescription":"Two mugs"}"#;
        let (status, created) = call(&sim, "POST", "/epayment/v1/payments", &auth, create);
        assert_eq!(status, 201, "{created}");
        let link = created["redirectUrl"].as_str().unwrap().to_owned();
        let jwt = link.split("token=").nth(1).unwrap().to_owned();
        for _ in 0..3 {
            let (status, _) = call(
                &sim,
                "GET",
                "/epayment/v1/payments/journal-ref-1",
                &auth[..3],
                "",
            );
            assert_eq!(status, 200);
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 7);
        for t in &tokens {
            assert!(!text.contains(t.as_str()), "a token in clear");
            assert!(
                text.contains(&redact::mask(t)),
                "the token's fingerprint is kept"
            );
        }
        assert!(!text.contains(&jwt), "the payment link's JWT in clear");
        assert!(!text.contains("sim-client-secret-123456"));
        // The in-memory journal says the same.
        let memory = String::from_utf8(sim.with_engine(|e| e.journal.to_jsonl(None))).unwrap();
        assert!(!tokens.iter().any(|t| memory.contains(t.as_str())));
        let lines = |t: &str| -> Vec<serde_json::Value> {
            t.lines()
                .map(|l| {
                    let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                    v["id"] = "".into();
                    v
                })
                .collect()
        };
        assert_eq!(lines(&memory), lines(&text));
    }

    #[test]
    fn a_jwt_a_shop_sends_in_an_odd_header_or_field_is_redacted_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let sim = sim_with_file(&path);
        let jwt = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJqb3VybmFsLWNhbmFyeSJ9.c2lnLWNhbmFyeS14eXo";
        let odd = format!("token {jwt}");
        let body = format!(r#"{{"reference":"r","x":{{"deep":["{jwt}"]}},"note":"see {jwt}"}}"#);
        for _ in 0..3 {
            // The same request again and again: the kept redaction is used.
            call(
                &sim,
                "POST",
                "/epayment/v1/payments",
                &[("x-shop-debug", odd.as_str()), ("x-jwt", jwt)],
                &body,
            );
            call(
                &sim,
                "GET",
                "/epayment/v1/payments/r",
                &[("x-shop-debug", odd.as_str())],
                "",
            );
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 6);
        assert!(!text.contains(jwt), "{text}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_journal_that_cannot_be_written_refuses_until_it_can() {
        // /dev/full answers every write with ENOSPC, as a full disk does.
        let mut j = journal(10);
        j.stream_to(Path::new("/dev/full")).unwrap();
        assert!(j.check().is_ok());
        let r = req("/epayment/v1/payments/ref-1");
        let line = j.record(&r, &SimResponse::empty(200).into(), Utc::now());
        let err = line.unwrap().write().unwrap_err();
        assert!(err.reason.contains("No space left"), "{err}");
        // The next request is refused before it reaches the engine...
        assert!(j.check().is_err());
        // ...until a second has passed, when one request tries the disk again.
        std::thread::sleep(RETRY_AFTER + std::time::Duration::from_millis(50));
        assert!(j.check().is_ok());
        assert!(j.check().is_err());
    }

    /// A GET of a payment the shop created, with its own credentials.
    fn polling(sim: &super::super::Simulator, reference: &str) -> (Vec<(String, String)>, String) {
        let (_, token) = call(sim, "POST", "/accesstoken/get", &TOKEN_HEADERS, "");
        let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
        let key = format!("k-{reference}");
        let auth = [
            ("authorization", bearer.as_str()),
            ("ocp-apim-subscription-key", "sim-subscription-key-123456"),
            ("merchant-serial-number", "123456"),
            ("idempotency-key", key.as_str()),
            ("content-type", "application/json"),
        ];
        let create = format!(
            r#"{{"amount":{{"currency":"NOK","value":1000}},"paymentMethod":{{"type":"WALLET"}},"reference":"{reference}","userFlow":"WEB_REDIRECT","returnUrl":"https://shop.example/return","paymentDescription":"Polled"}}"#
        );
        let (status, _) = call(sim, "POST", "/epayment/v1/payments", &auth, &create);
        assert_eq!(status, 201);
        let headers = auth[..3]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        (headers, format!("/epayment/v1/payments/{reference}"))
    }

    /// Every line of the file parsed; the ids must all differ.
    fn parsed_lines(path: &Path) -> Vec<Exchange> {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.ends_with('\n'), "the file ends with a whole line");
        let lines: Vec<Exchange> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let ids: std::collections::HashSet<&str> = lines.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids.len(), lines.len(), "every line has its own id");
        lines
    }

    #[test]
    fn many_requests_at_once_each_get_their_line_async_and_blocking_alike() {
        // Group commit (issue 22): requests on an async runtime wait for the
        // write that carries their line; blocking callers (the wiremock
        // adapter) write the queue themselves. Mixed, under contention, no
        // request may wait forever and no line may be lost or cut.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let sim = sim_with_file(&path);
        let (headers, get) = polling(&sim, "group-commit-1");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap();
        let (tasks, each) = (32, 50);
        rt.block_on(async {
            let mut joined = Vec::new();
            for t in 0..tasks {
                let (sim, headers, get) = (sim.clone(), headers.clone(), get.clone());
                joined.push(tokio::spawn(async move {
                    for _ in 0..each {
                        let req = SimRequest::new("GET", &get, None, headers.clone(), "");
                        let reply = if t % 4 == 0 {
                            let sim = sim.clone();
                            tokio::task::spawn_blocking(move || sim.handle(req))
                                .await
                                .unwrap()
                        } else {
                            sim.handle_async(req).await
                        };
                        assert_eq!(reply.response.status, 200);
                    }
                }));
            }
            let all = async {
                for j in joined {
                    j.await.unwrap();
                }
            };
            tokio::time::timeout(std::time::Duration::from_secs(60), all)
                .await
                .expect("every request answered (no lost wake-up)");
        });
        let lines = parsed_lines(&path);
        // The token and the create, then every GET.
        assert_eq!(lines.len(), 2 + tasks * each);
        assert!(lines[2..]
            .iter()
            .all(|e| e.method == "GET" && e.status == Some(200)));
    }

    #[test]
    fn a_batch_whose_leader_is_dropped_is_written_all_the_same() {
        // A client that goes away drops its request's future: if that
        // request led a batch, the lines queued behind it are written anyway.
        let dir = tempfile::tempdir().unwrap();
        let mut j = journal(10);
        j.stream_to(&dir.path().join("j.jsonl")).unwrap();
        let file = j.file.clone().unwrap();
        use std::future::Future;
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let held = file.writer();
        let mut leader = Box::pin(file.write_async(b"{\"n\":1}\n"));
        let mut behind = Box::pin(file.write_async(b"{\"n\":2}\n"));
        assert!(
            leader.as_mut().poll(&mut cx).is_pending(),
            "the writer is held"
        );
        assert!(behind.as_mut().poll(&mut cx).is_pending());
        drop(held);
        drop(leader);
        match behind.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(done) => assert!(done.is_ok()),
            std::task::Poll::Pending => panic!("the line behind a dropped leader waits forever"),
        }
        let text = std::fs::read_to_string(dir.path().join("j.jsonl")).unwrap();
        assert_eq!(text, "{\"n\":1}\n{\"n\":2}\n");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn an_async_request_whose_line_cannot_be_written_gets_the_failure() {
        let mut j = journal(10);
        j.stream_to(Path::new("/dev/full")).unwrap();
        let r = req("/epayment/v1/payments/ref-1");
        let line = j.record(&r, &SimResponse::empty(200).into(), Utc::now());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let err = rt.block_on(line.unwrap().write_async()).unwrap_err();
        assert!(err.reason.contains("No space left"), "{err}");
        assert!(j.check().is_err());
    }

    #[test]
    fn a_repeated_exchange_reuses_its_redaction_until_a_secret_is_registered() {
        // The tail of a polled payment's line is kept and written again under
        // a fresh id and time; once a value in it is registered as secret,
        // the kept tail is stale and the next line hides the value.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let sim = sim_with_file(&path);
        let reference = format!("tail-cache-{}", uuid::Uuid::new_v4().simple());
        let (headers, get) = polling(&sim, &reference);
        for _ in 0..3 {
            let reply = sim.handle(SimRequest::new("GET", &get, None, headers.clone(), ""));
            assert_eq!(reply.response.status, 200);
        }
        let lines = parsed_lines(&path);
        let tails: Vec<String> = lines[2..]
            .iter()
            .map(|e| {
                let mut v = serde_json::to_value(e).unwrap();
                v["id"] = "".into();
                v["started_at"] = "".into();
                v.to_string()
            })
            .collect();
        assert_eq!(tails[0], tails[1]);
        assert_eq!(tails[1], tails[2]);
        assert!(tails[0].contains(&reference));
        redact::register_secret(&reference);
        let reply = sim.handle(SimRequest::new("GET", &get, None, headers.clone(), ""));
        assert_eq!(reply.response.status, 200);
        // (The record's own `reference` field is not redacted by value, by
        // any path: it names the payment.)
        let last = parsed_lines(&path).pop().unwrap();
        let shown = format!("{} {}", last.url, last.response_body);
        assert!(
            !shown.contains(&reference),
            "a stale kept tail was reused: {shown}"
        );
        assert!(shown.contains(&redact::mask(&reference)));
        assert!(tails[0].contains(&format!("payments/{reference}")));
    }
}

//! Bounded record of every request the simulator received: the last
//! `journal_capacity` exchanges in memory (`GET /__sim/journal`), optionally
//! streamed to a JSONL file (`--journal FILE`) for `audit`.
//!
//! Everything that leaves the journal (`GET /__sim/journal`, the file) is a
//! redacted [`Exchange`] built with [`Exchange::from_raw`]. Redaction (which
//! parses bodies) is done when an entry leaves, not under the engine lock: the
//! ring keeps the raw request and reply in process memory only (measured: this
//! halves the engine's time per GET). The file is written by a thread fed
//! through a bounded channel, which also redacts: the engine lock never waits
//! on disk or on redaction.
//!
//! Choice: `/__sim/` control traffic is NOT recorded. The journal is the shop's
//! traffic for `audit`; the harness's approve/expire calls are not the shop's.

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{Engine, Reply, SimConfig, SimRequest, SimResponse};
use crate::domain::exchange::{Exchange, RawExchange};

/// How many exchanges may wait for the file writer before new ones are dropped
/// (counted, and reported in the file) rather than blocking the engine.
const FILE_QUEUE: usize = 65_536;

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
        let request_headers = unpack(&self.request_headers);
        let host = request_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("host"))
            .map_or("127.0.0.1", |(_, v)| v.as_str());
        let url = match &self.query {
            Some(q) => format!("http://{host}{}?{q}", self.path),
            None => format!("http://{host}{}", self.path),
        };
        Exchange::from_raw(RawExchange {
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
        })
    }
}

/// The file side of the journal: a channel to the writer thread.
///
/// Field order matters: `tx` is dropped first (closing the channel), then
/// `_writer` joins the thread, so every queued line is on disk once the journal
/// is gone. Without the join, `vipps-golive simulator --journal` could exit
/// (Ctrl-C) with queued lines still unwritten.
#[derive(Debug)]
struct FileSink {
    tx: SyncSender<Entry>,
    dropped: Arc<AtomicU64>,
    _writer: Writer,
}

/// The writer thread, joined on drop (after the channel has closed).
#[derive(Debug)]
struct Writer(Option<std::thread::JoinHandle<()>>);

impl Drop for Writer {
    fn drop(&mut self) {
        if let Some(thread) = self.0.take() {
            let _ = thread.join();
        }
    }
}

/// The in-memory ring and the optional file stream.
#[derive(Debug, Default)]
pub struct SimJournal {
    entries: VecDeque<Entry>,
    capacity: usize,
    file: Option<FileSink>,
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

    /// Also appends every exchange, as one JSON line, to `path` (created or appended to).
    /// Dropping the journal closes the file: it waits until the writer thread
    /// has written and flushed every queued line.
    pub fn stream_to(&mut self, path: &Path) -> Result<(), JournalFileError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| JournalFileError {
                path: path.to_owned(),
                source,
            })?;
        let (tx, rx) = sync_channel(FILE_QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let counter = dropped.clone();
        let shown = path.display().to_string();
        let thread = std::thread::Builder::new()
            .name("sim-journal".into())
            .spawn(move || write_lines(file, rx, counter, shown))
            .map_err(|source| JournalFileError {
                path: path.to_owned(),
                source,
            })?;
        self.file = Some(FileSink {
            tx,
            dropped,
            _writer: Writer(Some(thread)),
        });
        Ok(())
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
            .map(Entry::to_exchange)
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

    /// Records one request and its reply (not `/__sim/` control traffic).
    pub fn record(&mut self, req: &SimRequest, reply: &Reply, started: DateTime<Utc>) {
        if self.capacity == 0 && self.file.is_none() {
            return;
        }
        if req.path.starts_with("/__sim/") || req.path == "/__sim" {
            return;
        }
        let entry = Entry::new(req, reply, started);
        self.total += 1;
        if let Some(sink) = &self.file {
            match sink.tx.try_send(entry.clone()) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    sink.dropped.fetch_add(1, Ordering::Relaxed);
                }
                Err(TrySendError::Disconnected(_)) => self.file = None,
            }
        }
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() >= self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    /// The last `limit` entries (all when `None`) as redacted JSON lines.
    pub fn to_jsonl(&self, limit: Option<usize>) -> Vec<u8> {
        let mut out = Vec::new();
        for e in self.exchanges(limit) {
            if serde_json::to_writer(&mut out, &e).is_ok() {
                out.push(b'\n');
            }
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

/// The writer thread: one JSON line per exchange, flushed whenever the queue is empty.
fn write_lines(file: std::fs::File, rx: Receiver<Entry>, dropped: Arc<AtomicU64>, shown: String) {
    let mut out = std::io::BufWriter::new(file);
    let mut reported = 0;
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(e) = next {
            let line = serde_json::to_vec(&e.to_exchange()).unwrap_or_default();
            if out
                .write_all(&line)
                .and_then(|_| out.write_all(b"\n"))
                .is_err()
            {
                tracing::error!(file = %shown, "cannot write the simulator journal; stopping it");
                return;
            }
            next = rx.try_recv().ok();
        }
        let now_dropped = dropped.load(Ordering::Relaxed);
        if now_dropped > reported {
            tracing::warn!(
                file = %shown,
                dropped = now_dropped,
                "the journal writer fell behind; some exchanges were not written"
            );
            reported = now_dropped;
        }
        if let Err(e) = out.flush() {
            tracing::error!(file = %shown, error = %e, "cannot flush the simulator journal");
            return;
        }
    }
    let _ = out.flush();
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
            j.record(&r, &SimResponse::empty(200).into(), Utc::now());
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
        j.record(&r, &SimResponse::empty(200).into(), Utc::now());
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
        j.record(
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
            j.record(&r, &SimResponse::empty(200).into(), Utc::now());
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
            j.record(&r, &SimResponse::empty(200).into(), Utc::now());
        }
        drop(j); // closes the channel and waits for the thread to flush
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3);
        let first: Exchange = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first.method, "GET");
    }
}

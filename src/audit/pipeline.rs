//! The audit's threads: one reads the journal in batches of whole lines,
//! one or more (see [`parsers`]) parse the lines of alternate batches, and
//! the caller's thread judges them in journal order (the rules keep state
//! across lines, so judging is sequential; parsing is most of the work and
//! is not).
//!
//! A parsed line holds no copies: its strings are spans of the batch's bytes
//! (or, for the few strings with escapes, indexes into the batch's own
//! strings), and the judging thread rebuilds the borrowed [`View`] from them.
//! Batches go to the parsers round robin and are taken back in the same
//! order, so line numbers, findings and the copied journal come out exactly
//! as one thread would give them.

use std::borrow::Cow;
use std::io::Read;
use std::ops::Range;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use chrono::{DateTime, Utc};

use crate::domain::exchange::SCHEMA_VERSION;
use crate::domain::input::JOURNAL_LINE_CAP;
use crate::domain::redact;
use crate::rules::{Body, HeaderList, Meta};

use super::line::LineRef;
use super::{parse, Line};

/// Threads parsing batches: one per core beside the judging thread's, at
/// least one, at most three. On 2 cores, one parser and the judging thread
/// each keep a core about as busy as the other (two parsers measured the
/// same, with a little more CPU: docs/audit.md).
pub fn parsers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get().saturating_sub(1))
        .clamp(1, 3)
}

/// A string of a parsed line: a span of the line's text, or one of the
/// batch's own strings (one that held escapes).
#[derive(Debug, Clone, Copy)]
enum S {
    Span(usize, usize),
    Own(usize),
}

/// An exchange line, parsed: [`LineRef`] and [`Body`] with every string a [`S`].
#[derive(Debug)]
struct Packed {
    id: S,
    started_at: DateTime<Utc>,
    method: S,
    url: S,
    headers: Range<usize>,
    status: Option<u16>,
    reference: Option<S>,
    provoked: bool,
    body_reference: Option<S>,
    amount: Option<i64>,
    modification: Option<i64>,
    return_url: Option<S>,
    hook_url: Option<S>,
    request_key: u64,
    state: Option<S>,
    authorized: Option<i64>,
    captured: Option<i64>,
    refunded: Option<i64>,
    cancelled: Option<i64>,
    events: Range<usize>,
    /// What [`redact::line_shows_a_credential`] says of the line, decided
    /// here, off the judging thread.
    shows_a_credential: bool,
}

/// One line of a batch: where it is, and what it was read as.
#[derive(Debug)]
struct Parsed {
    line: Range<usize>,
    what: What,
}

// Nearly every line is an exchange: boxing it would be an allocation a line.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum What {
    Exchange(Packed),
    /// Read the slow way (an owned exchange, another kind, bad, blank).
    Other(Line),
}

/// Whole lines of the journal and what each was read as.
#[derive(Debug, Default)]
pub struct Batch {
    bytes: Vec<u8>,
    lines: Vec<Parsed>,
    headers: Vec<(S, S)>,
    events: Vec<S>,
    owned: Vec<String>,
}

impl Batch {
    fn parse(bytes: Vec<u8>) -> Batch {
        let mut batch = Batch {
            bytes: Vec::new(),
            lines: Vec::with_capacity(bytes.len() / 512),
            ..Batch::default()
        };
        let mut start = 0;
        while start < bytes.len() {
            let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i + 1);
            let raw = &bytes[start..end];
            let what = match batch.pack(raw) {
                Some(p) => What::Exchange(p),
                None => What::Other(parse(raw)),
            };
            batch.lines.push(Parsed {
                line: start..end,
                what,
            });
            start = end;
        }
        batch.bytes = bytes;
        batch
    }

    /// Reads one line the fast way; `None` when it must go the slow way.
    fn pack(&mut self, raw: &[u8]) -> Option<Packed> {
        // Spans are counted from the start of the line as given, so the
        // judging side finds them in the same bytes.
        let text = std::str::from_utf8(raw).ok()?;
        let mut line =
            LineRef::parse(text.trim_ascii()).filter(|l| l.schema_version <= SCHEMA_VERSION)?;
        let response = std::mem::take(&mut line.response_body);
        let body = Body::of_request_json(line.request_body.get(), response);
        let meta = line.meta();
        let shows_a_credential = line.response_headers.show_a_credential
            || redact::line_shows_a_credential(text.trim_ascii(), meta.headers.pairs());
        let headers_start = self.headers.len();
        if let HeaderList::Borrowed(pairs) = meta.headers {
            for (k, v) in pairs {
                let pair = (self.s(text, k), self.s(text, v));
                self.headers.push(pair);
            }
        }
        let headers = headers_start..self.headers.len();
        let events_start = self.events.len();
        for e in &body.events {
            let e = self.s(text, e);
            self.events.push(e);
        }
        let events = events_start..self.events.len();
        let mut opt = |c: &Option<Cow<'_, str>>| c.as_ref().map(|c| self.s(text, c));
        let (body_reference, return_url, hook_url, state) = (
            opt(&body.reference),
            opt(&body.return_url),
            opt(&body.url),
            opt(&body.state),
        );
        let reference = meta.reference.map(|r| self.s(text, r));
        Some(Packed {
            id: self.s(text, meta.id),
            started_at: meta.started_at,
            method: self.s(text, meta.method),
            url: self.s(text, meta.url),
            headers,
            status: meta.status,
            reference,
            provoked: meta.provoked,
            body_reference,
            amount: body.amount,
            modification: body.modification,
            return_url,
            hook_url,
            request_key: body.request_key,
            state,
            authorized: body.authorized,
            captured: body.captured,
            refunded: body.refunded,
            cancelled: body.cancelled,
            events,
            shows_a_credential,
        })
    }

    /// `value` as a span of `line` when it lies in it, else as a string of our own.
    fn s(&mut self, line: &str, value: &str) -> S {
        let start = (value.as_ptr() as usize).wrapping_sub(line.as_ptr() as usize);
        if start <= line.len() && line.len() - start >= value.len() {
            S::Span(start, start + value.len())
        } else {
            self.owned.push(value.to_owned());
            S::Own(self.owned.len() - 1)
        }
    }

    /// The text of `s` in `line`. The span was taken from this very line
    /// as text, so it is UTF-8; it is checked again (only the span, not the
    /// whole line) rather than trusted, and a line whose spans do not hold
    /// goes the slow way.
    fn text<'a>(&'a self, line: &'a [u8], s: S) -> Option<&'a str> {
        match s {
            S::Span(a, b) => std::str::from_utf8(line.get(a..b)?).ok(),
            S::Own(i) => self.owned.get(i).map(String::as_str),
        }
    }

    /// Calls `each` for every line in order: its bytes, and either its
    /// exchange rebuilt as [`Meta`] and [`Body`] (with whether the line
    /// shows a credential, see [`redact::line_shows_a_credential`]) or what
    /// the slow way read.
    pub fn for_each(
        mut self,
        mut each: impl FnMut(&[u8], Result<(Meta<'_>, &Body<'_>, bool), Line>) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let lines = std::mem::take(&mut self.lines);
        let batch = &self;
        let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::new();
        for parsed in lines {
            let Some(raw) = batch.bytes.get(parsed.line.clone()) else {
                continue;
            };
            let p = match parsed.what {
                What::Other(line) => {
                    each(raw, Err(line))?;
                    continue;
                }
                What::Exchange(p) => p,
            };
            pairs.clear();
            match batch.rebuild(raw, &p, &mut pairs) {
                Some((meta, body)) => each(raw, Ok((meta, &body, p.shows_a_credential)))?,
                None => each(raw, Err(parse(raw)))?,
            }
        }
        Ok(())
    }

    /// The exchange `p` of `line` as the rules read it; its headers go into `pairs`.
    fn rebuild<'a: 'p, 'p>(
        &'a self,
        line: &'a [u8],
        p: &Packed,
        pairs: &'p mut Vec<(Cow<'a, str>, Cow<'a, str>)>,
    ) -> Option<(Meta<'p>, Body<'a>)> {
        let t = |s: S| self.text(line, s);
        // `Some(None)` for no string; `None` if a span is wrong.
        let o = |s: Option<S>| match s {
            None => Some(None),
            Some(s) => t(s).map(|v| Some(Cow::Borrowed(v))),
        };
        for &(k, v) in self.headers.get(p.headers.clone())? {
            pairs.push((Cow::Borrowed(t(k)?), Cow::Borrowed(t(v)?)));
        }
        let events = self
            .events
            .get(p.events.clone())?
            .iter()
            .map(|&e| t(e).map(Cow::Borrowed))
            .collect::<Option<Vec<_>>>()?;
        let body = Body {
            reference: o(p.body_reference)?,
            amount: p.amount,
            modification: p.modification,
            return_url: o(p.return_url)?,
            url: o(p.hook_url)?,
            request_key: p.request_key,
            state: o(p.state)?,
            authorized: p.authorized,
            captured: p.captured,
            refunded: p.refunded,
            cancelled: p.cancelled,
            events,
        };
        let meta = Meta {
            id: t(p.id)?,
            started_at: p.started_at,
            method: t(p.method)?,
            url: t(p.url)?,
            headers: HeaderList::Borrowed(pairs),
            status: p.status,
            reference: match p.reference {
                None => None,
                Some(r) => Some(t(r)?),
            },
            provoked: p.provoked,
        };
        Some((meta, body))
    }
}

/// The batches of `reader`, parsed, in journal order; the threads run in
/// `scope` and end when the input does, at a read error (which comes
/// through in its place), or when the receiving side stops asking.
pub struct Batches {
    parsed: Vec<Receiver<std::io::Result<Batch>>>,
    next: usize,
}

impl Iterator for Batches {
    type Item = std::io::Result<Batch>;

    fn next(&mut self) -> Option<Self::Item> {
        let n = self.parsed.len();
        let item = self.parsed.get(self.next % n)?.recv().ok()?;
        self.next += 1;
        Some(item)
    }
}

/// A line longer than [`JOURNAL_LINE_CAP`] stands in the batch as this
/// marker (so line numbers stay right), and is reported as too long.
pub const OVERLONG: &[u8] = b"\0vipps-golive: line over the cap\0";

/// Reads `reader` in blocks of whole lines, holding at most
/// [`JOURNAL_LINE_CAP`] of a line without a newline: the rest of a longer
/// line is read past and dropped, and the line becomes [`OVERLONG`]. A file
/// of zeros (one endless line) therefore costs a bounded amount of memory.
struct LineBlocks<R> {
    reader: R,
    block_size: usize,
    carry: Vec<u8>,
    /// Inside a line over the cap, skipping to its newline.
    skipping: bool,
}

impl<R: Read> LineBlocks<R> {
    fn new(reader: R, block_size: usize) -> Self {
        LineBlocks {
            reader,
            block_size: block_size.max(1),
            carry: Vec::new(),
            skipping: false,
        }
    }

    /// The next block of whole lines; empty at the end.
    fn next_block(&mut self) -> std::io::Result<Vec<u8>> {
        loop {
            let mut block = std::mem::take(&mut self.carry);
            let start = block.len();
            block.reserve(self.block_size);
            let read = (&mut self.reader)
                .take(self.block_size as u64)
                .read_to_end(&mut block)?;
            if read == 0 {
                // The end: what is left is the last line, without its newline.
                if std::mem::take(&mut self.skipping) {
                    block.extend_from_slice(OVERLONG);
                }
                return Ok(block);
            }
            if self.skipping {
                match memchr::memchr(b'\n', &block[start..]) {
                    // The long line ends here: the marker takes its place.
                    Some(i) => {
                        let rest = block.split_off(start + i);
                        block.truncate(start);
                        block.extend_from_slice(OVERLONG);
                        block.extend_from_slice(&rest);
                        self.skipping = false;
                    }
                    None => {
                        block.truncate(start);
                        self.carry = block;
                        continue;
                    }
                }
            }
            match memchr::memrchr(b'\n', &block) {
                Some(end) => {
                    self.carry = block.split_off(end + 1);
                    // Only the first line, begun in an earlier block, can be
                    // longer than a block, and so than the cap.
                    let first = memchr::memchr(b'\n', &block).unwrap_or(end);
                    if first > JOURNAL_LINE_CAP {
                        block.splice(..first, OVERLONG.iter().copied());
                    }
                    return Ok(block);
                }
                None => {
                    if block.len() > JOURNAL_LINE_CAP {
                        // No newline within the cap: drop what was read of it.
                        self.skipping = true;
                        block.clear();
                        block.shrink_to(self.block_size);
                    }
                    // No line ends in it yet: read on.
                    self.carry = block;
                }
            }
        }
    }
}

/// Starts the reader and `parsers` parsers in `scope`. Batches are about
/// `block_size` bytes of whole lines (a longer line makes a longer batch).
pub fn start<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    reader: impl Read + Send + 'scope,
    block_size: usize,
    parsers: usize,
) -> Batches {
    let mut to_parsers: Vec<SyncSender<std::io::Result<Vec<u8>>>> = Vec::new();
    let mut parsed = Vec::new();
    for _ in 0..parsers.max(1) {
        let (tx, rx) = sync_channel::<std::io::Result<Vec<u8>>>(2);
        let (out_tx, out_rx) = sync_channel(2);
        scope.spawn(move || {
            for bytes in rx {
                if out_tx.send(bytes.map(Batch::parse)).is_err() {
                    return;
                }
            }
        });
        to_parsers.push(tx);
        parsed.push(out_rx);
    }
    scope.spawn(move || {
        let mut lines = LineBlocks::new(reader, block_size);
        for k in 0.. {
            match lines.next_block() {
                Ok(b) if b.is_empty() => return,
                batch => {
                    let failed = batch.is_err();
                    let to = &to_parsers[k % to_parsers.len()];
                    if to.send(batch).is_err() || failed {
                        return;
                    }
                }
            }
        }
    });
    Batches { parsed, next: 0 }
}

//! [`exchange_jsonl`]: a raw exchange redacted and written as one JSON line,
//! the line `serde_json::to_vec(&exchange(raw))` gives (the same redaction,
//! field for field; only the fresh `id` differs), at a fraction of its cost.
//! The simulator's journal pays this cost before every answer (issue 22).
//!
//! What makes it cheaper:
//! - What was redacted before is not redacted again. Kept per thread: the
//!   redacted JSON text of a body, keyed by its bytes, and the redacted URL
//!   and request headers, keyed by them; each valid for the version of the
//!   registered values it was made with (and, for the URL and headers, for
//!   the same secrets of the exchange). A shop polling a payment sends the
//!   same request and gets the same answer bytes again and again; the
//!   simulator's own answers (with its payment links' JWTs) are most of what
//!   repeats. A body that carries a secret value by name (a token answer) is
//!   never kept. Both caches are bounded (entries and size).
//! - A value already registered is not registered again (no global lock).
//! - The by-value pass over a kept body is one search of its text for each
//!   secret of the exchange (a bearer token, a key).
//!
//! Untrusted data gets the full redaction: what was not seen before goes
//! through the same [`super::parsed_body`], [`super::headers`],
//! [`super::url`], [`super::text`] and [`super::scrub_values`] as
//! [`super::exchange`]; `tests_jsonl.rs` checks the lines are the same.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use aho_corasick::AhoCorasick;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::super::exchange::{RawExchange, SCHEMA_VERSION};
use super::{
    collect_secret_values, headers, known_matcher, parse_body, parsed_body, register_seen,
    scrub_values, secrets_in, text, url, walk_strings, KNOWN_VERSION,
};

/// Most bodies kept per thread; the cache is emptied when full.
const MAX_CACHED: usize = 256;

/// Largest body kept (a payment answer is under 2 KiB).
const MAX_CACHED_BODY: usize = 16 * 1024;

/// A body's redacted JSON text, valid while the registered values are those
/// of `version`.
struct Cached {
    version: u64,
    text: Box<RawValue>,
}

thread_local! {
    static BODIES: RefCell<HashMap<Box<[u8]>, Cached>> = RefCell::new(HashMap::new());
}

/// The record as [`super::super::exchange::Exchange`] serialises it, after
/// its head ([`line_head`]), with the bodies already JSON text. Field order
/// and names are the Exchange's.
#[derive(Serialize)]
struct Tail<'a> {
    method: &'a str,
    url: String,
    request_headers: Vec<(String, String)>,
    request_body: Box<RawValue>,
    status: Option<u16>,
    response_headers: Vec<(String, String)>,
    response_body: Box<RawValue>,
    error: Option<String>,
    attempt: u32,
    reference: Option<String>,
    checklist_ids: Vec<String>,
    scenario: Option<String>,
}

/// The registered values' automaton and the version it belongs to, read
/// together (the thread's copy, refreshed when the version moved).
fn versioned_matcher() -> (u64, Option<Arc<AhoCorasick>>) {
    let matcher = known_matcher();
    let version = super::MATCHER.with(|cell| cell.borrow().0);
    (version, matcher)
}

thread_local! {
    /// Values this thread saw registered, and the version of the registered
    /// values then: while it has not moved, they are registered still.
    static REMEMBERED: RefCell<(u64, HashSet<Box<str>>)> = RefCell::new((0, HashSet::new()));
}

/// [`register_seen`], skipped when this thread saw `value` registered and
/// the registered values have not changed since: the same effect without
/// the process-wide lock.
fn remember(value: &str) {
    let v = value.trim();
    let version = KNOWN_VERSION.load(Ordering::Acquire);
    let known = REMEMBERED.with(|cell| {
        let r = cell.borrow();
        r.0 == version && r.1.contains(v)
    });
    if known {
        return;
    }
    register_seen(v);
    let version = KNOWN_VERSION.load(Ordering::Acquire);
    REMEMBERED.with(|cell| {
        let mut r = cell.borrow_mut();
        if r.0 != version || r.1.len() >= MAX_CACHED {
            r.0 = version;
            r.1.clear();
        }
        r.1.insert(v.into());
    });
}

/// The kept redaction of `bytes`, when it is still valid.
fn cached(bytes: &[u8], version: u64) -> Option<Box<RawValue>> {
    if bytes.is_empty() || bytes.len() > MAX_CACHED_BODY {
        return None;
    }
    BODIES.with(|cell| {
        cell.borrow()
            .get(bytes)
            .filter(|c| c.version == version)
            .map(|c| c.text.clone())
    })
}

fn keep(bytes: &[u8], version: u64, text: &RawValue) {
    if bytes.is_empty() || bytes.len() > MAX_CACHED_BODY {
        return;
    }
    BODIES.with(|cell| {
        let mut map = cell.borrow_mut();
        if map.len() >= MAX_CACHED {
            map.clear();
        }
        map.insert(
            bytes.into(),
            Cached {
                version,
                text: text.to_owned(),
            },
        );
    });
}

/// Whether one of the exchange's own secret values may stand in `text` (a
/// value with a character JSON escapes is assumed to).
fn holds_any(text: &str, seen: &[String]) -> bool {
    seen.iter().any(|v| {
        v.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20)
            || memchr::memmem::find(text.as_bytes(), v.as_bytes()).is_some()
    })
}

fn raw_json(v: &Value) -> Box<RawValue> {
    serde_json::value::to_raw_value(v).unwrap_or_else(|_| null())
}

fn null() -> Box<RawValue> {
    RawValue::from_string("null".to_owned()).unwrap_or_default()
}

/// A body redacted as [`super::exchange`] redacts it, as JSON text.
/// `kept` is its kept redaction, if any; `parsed` what [`parse_body`] made
/// of `bytes`, when it was parsed.
fn body_text(
    bytes: &[u8],
    kept: Option<Box<RawValue>>,
    parsed: Option<Option<Value>>,
    (version, seen): (u64, &[String]),
    matcher: Option<&AhoCorasick>,
) -> Box<RawValue> {
    if bytes.is_empty() {
        return null();
    }
    if let Some(text) = kept {
        if !holds_any(text.get(), seen) {
            return text;
        }
    }
    let parsed = parsed.unwrap_or_else(|| parse_body(bytes));
    // Bodies that carry a secret value by name (a token answer) are not kept.
    let mut secrets = Vec::new();
    if let Some(v) = &parsed {
        collect_secret_values(v, &mut secrets);
    }
    let mut value = parsed_body(bytes, parsed.clone());
    walk_strings(&mut value, &mut |s: &mut String| {
        scrub_values(s, &[], matcher)
    });
    let text = raw_json(&value);
    if !holds_any(text.get(), seen) {
        if secrets.is_empty() {
            keep(bytes, version, &text);
        }
        return text;
    }
    // One of this exchange's secrets is in it: the full walk, not kept.
    let mut value = parsed_body(bytes, parsed);
    walk_strings(&mut value, &mut |s: &mut String| {
        scrub_values(s, seen, matcher)
    });
    raw_json(&value)
}

/// The URL and request headers of an exchange, redacted, kept per thread:
/// a shop polling a payment sends the same ones again and again. Valid for
/// the same registered values (`version`) and the same secrets of the
/// exchange (`seen`, which the by-value pass hides everywhere).
struct Head {
    version: u64,
    seen: Vec<String>,
    url: String,
    headers: Vec<(String, String)>,
}

thread_local! {
    static HEADS: RefCell<HashMap<Box<str>, Head>> = RefCell::new(HashMap::new());
}

/// The key of a URL and its headers (NUL cannot occur in either).
fn head_key(url: &str, headers: &[(String, String)]) -> String {
    let mut key = String::with_capacity(
        url.len()
            + headers
                .iter()
                .map(|(k, v)| k.len() + v.len() + 2)
                .sum::<usize>()
            + 1,
    );
    key.push_str(url);
    for (k, v) in headers {
        key.push('\0');
        key.push_str(k);
        key.push('\0');
        key.push_str(v);
    }
    key
}

/// The redacted URL and request headers of `raw` (see [`Head`]).
fn head(
    raw: &RawExchange,
    (version, seen): (u64, &[String]),
    matcher: Option<&AhoCorasick>,
) -> (String, Vec<(String, String)>) {
    let key = head_key(&raw.url, &raw.request_headers);
    let hit = HEADS.with(|cell| {
        cell.borrow()
            .get(key.as_str())
            .filter(|h| h.version == version && h.seen == seen)
            .map(|h| (h.url.clone(), h.headers.clone()))
    });
    if let Some(hit) = hit {
        return hit;
    }
    let by_value = |mut s: String| {
        scrub_values(&mut s, seen, matcher);
        s
    };
    let url = by_value(url(&raw.url));
    let headers: Vec<(String, String)> = headers(raw.request_headers.clone())
        .into_iter()
        .map(|(k, v)| (k, by_value(v)))
        .collect();
    if key.len() <= MAX_CACHED_BODY {
        HEADS.with(|cell| {
            let mut map = cell.borrow_mut();
            if map.len() >= MAX_CACHED {
                map.clear();
            }
            map.insert(
                key.into_boxed_str(),
                Head {
                    version,
                    seen: seen.to_vec(),
                    url: url.clone(),
                    headers: headers.clone(),
                },
            );
        });
    }
    (url, headers)
}

/// The head of a line: `{"schema_version":..,"id":"<fresh>","started_at":..,"duration_ms":..`,
/// the part of an exchange's line that differs between two identical
/// exchanges. [`exchange_jsonl`] writes the rest after it.
pub fn line_head(started_at: DateTime<Utc>, duration_ms: u64, out: &mut Vec<u8>) {
    use std::io::Write;
    let id = uuid::Uuid::new_v4();
    let mut buf = uuid::Uuid::encode_buffer();
    let _ = write!(
        out,
        "{{\"schema_version\":{SCHEMA_VERSION},\"id\":\"{}\",\"started_at\":",
        id.hyphenated().encode_lower(&mut buf)
    );
    let _ = serde_json::to_writer(&mut *out, &started_at);
    let _ = write!(out, ",\"duration_ms\":{duration_ms}");
}

/// Redacts `raw` as [`super::exchange`] does and appends its JSON line (with
/// the newline) to `out`. Returns where the line's tail starts in `out`:
/// everything after [`line_head`], the same bytes for the same exchange
/// while [`super::registry_version`] has not moved (a cache may keep it).
pub fn exchange_jsonl(raw: RawExchange, out: &mut Vec<u8>) -> usize {
    let (version, _) = versioned_matcher();
    // A body whose redaction is kept holds no secret value by name, so it
    // need not be parsed to find them.
    let kept = [
        cached(&raw.request_body, version),
        cached(&raw.response_body, version),
    ];
    let mut bodies = [
        kept[0]
            .is_none()
            .then(|| parse_body(&raw.request_body))
            .flatten(),
        kept[1]
            .is_none()
            .then(|| parse_body(&raw.response_body))
            .flatten(),
    ];
    // A kept body has none: bodies holding one are never kept.
    let seen = secrets_in(&raw, &bodies);
    for v in &seen {
        remember(v);
    }
    let (now, matcher) = versioned_matcher();
    let m = matcher.as_deref();
    // What was parsed goes on to be redacted (`None`: not parsed yet); a
    // kept redaction of an older version of the registered values is not used.
    let parsed = [kept[0].is_none(), kept[1].is_none()];
    let [request_kept, response_kept] = kept.map(|k| k.filter(|_| now == version));
    let request_parsed = parsed[0].then(|| bodies[0].take());
    let response_parsed = parsed[1].then(|| bodies[1].take());
    let (url, request_headers) = head(&raw, (now, &seen), m);
    let by_value = |mut s: String| {
        scrub_values(&mut s, &seen, m);
        s
    };
    let tail = Tail {
        method: &raw.method,
        url,
        request_headers,
        request_body: body_text(
            &raw.request_body,
            request_kept,
            request_parsed,
            (now, &seen),
            m,
        ),
        status: raw.status,
        response_headers: headers(raw.response_headers.clone())
            .into_iter()
            .map(|(k, v)| (k, by_value(v)))
            .collect(),
        response_body: body_text(
            &raw.response_body,
            response_kept,
            response_parsed,
            (now, &seen),
            m,
        ),
        error: raw.error.as_deref().map(|e| by_value(text(e))),
        attempt: raw.attempt,
        reference: raw.reference.clone(),
        checklist_ids: raw.checklist_ids.clone(),
        scenario: raw.scenario.clone(),
    };
    let start = out.len();
    line_head(raw.started_at, raw.duration_ms, out);
    let tail_at = out.len();
    if serde_json::to_writer(&mut *out, &tail).is_ok() {
        // `{"method":..}` follows the head's last field: its brace becomes a comma.
        out[tail_at] = b',';
        out.push(b'\n');
        tail_at
    } else {
        out.truncate(start);
        start
    }
}

//! Redaction at the boundary: turns a [`RawExchange`] into an [`Exchange`] that
//! holds no credential, token or full phone number.
//!
//! A secret is replaced by `…<first 8 hex of its SHA-256>` (see
//! [`fingerprint`]): enough to tell two keys apart or to see
//! that the same token was reused, nothing more. Every part of the exchange is
//! covered: headers, JSON bodies (any depth), non-JSON bodies, the URL, and the
//! transport error text (which often quotes the URL).
//!
//! Redaction goes by value as well as by name: every secret the process has
//! been told of ([`register_secret`]: the configured client id, client secret
//! and subscription key) and every credential or token seen in an exchange is
//! replaced wherever it appears, in any header, body, URL or message. A
//! server that echoes a client id inside an `error_description` therefore
//! leaks nothing.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use aho_corasick::{AhoCorasick, MatchKind};

use regex::{Captures, Regex};
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

use super::exchange::{Exchange, RawExchange, SCHEMA_VERSION};

mod jsonl;
pub use jsonl::{exchange_jsonl, line_head};
mod line;
#[cfg(test)]
mod tests_jsonl;

/// First 8 hex digits of the SHA-256 of `value`: how redacted values are shown
/// everywhere (journals, reports, `Secret`'s Debug).
pub fn fingerprint(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    hex::encode(&digest[..4])
}

/// Headers whose whole value is a secret (names compared case-insensitively).
const SECRET_HEADERS: &[&str] = &[
    "ocp-apim-subscription-key",
    "client_secret",
    "client_id",
    "client-secret",
    "client-id",
    "cookie",
    "set-cookie",
    "x-api-key",
];

/// Headers of the form `<scheme> <credentials>`: the scheme is kept.
const AUTH_HEADERS: &[&str] = &["authorization", "proxy-authorization", "www-authenticate"];

/// JSON keys (and query / form parameter names) whose value is a secret.
/// Compared after lowercasing and dropping `_` and `-`, so `access_token`,
/// `accessToken` and `Access-Token` all match.
const SECRET_KEYS: &[&str] = &[
    "accesstoken",
    "clientsecret",
    "clientid",
    "secret",
    "token",
    "refreshtoken",
    "idtoken",
    "password",
    "ocpapimsubscriptionkey",
    "subscriptionkey",
];

/// JSON keys holding a phone number (same normalisation).
const PHONE_KEYS: &[&str] = &[
    "phonenumber",
    "msisdn",
    "mobilenumber",
    "internationalmobilenumber",
];

/// Shortest value scrubbed by value: shorter ones (a 4-digit id) would
/// mangle ordinary text, and no real credential is that short.
pub(crate) const MIN_SECRET_LEN: usize = 6;

/// Most values kept besides the pinned ones (tokens seen): the oldest go
/// first, so a long-lived simulator stays bounded.
const MAX_SEEN: usize = 256;

#[derive(Default)]
struct Known {
    /// Configured credentials: kept for the life of the process.
    pinned: Vec<String>,
    /// Tokens and credentials seen in exchanges, oldest first.
    seen: std::collections::VecDeque<String>,
    /// Every value above in one automaton, rebuilt when they change: one
    /// pass over a string finds them all (a substring search per value per
    /// string cost the simulator's journal most of its time).
    matcher: Option<Arc<AhoCorasick>>,
}

impl Known {
    fn changed(&mut self) {
        let values: Vec<&String> = self.pinned.iter().chain(self.seen.iter()).collect();
        self.matcher = AhoCorasick::builder()
            // The longest value wins where two overlap: a value that
            // contains another is replaced whole.
            .match_kind(MatchKind::LeftmostLongest)
            .build(values)
            .ok()
            .map(Arc::new);
        KNOWN_VERSION.fetch_add(1, Ordering::AcqRel);
    }
}

fn known() -> &'static Mutex<Known> {
    static KNOWN: OnceLock<Mutex<Known>> = OnceLock::new();
    KNOWN.get_or_init(|| Mutex::new(Known::default()))
}

/// Bumped whenever the known values change, so each thread's copy of the
/// automaton is refreshed without taking the lock for every string.
static KNOWN_VERSION: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static MATCHER: std::cell::RefCell<(u64, Option<Arc<AhoCorasick>>)> =
        const { std::cell::RefCell::new((0, None)) };
}

/// The version of the registered values: it moves whenever one is added or
/// let go. Redacting the same raw data at the same version gives the same
/// bytes, so a redaction made at this version may be kept until it moves.
pub fn registry_version() -> u64 {
    KNOWN_VERSION.load(Ordering::Acquire)
}

/// The automaton of every value registered so far (`None`: none yet).
fn known_matcher() -> Option<Arc<AhoCorasick>> {
    let version = KNOWN_VERSION.load(Ordering::Acquire);
    MATCHER.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.0 != version {
            let k = known().lock().unwrap_or_else(|p| p.into_inner());
            *cached = (KNOWN_VERSION.load(Ordering::Acquire), k.matcher.clone());
        }
        cached.1.clone()
    })
}

/// Tells redaction of a secret value (a configured credential): from now on
/// it is replaced by `…<fingerprint>` wherever it appears in this process.
pub fn register_secret(value: &str) {
    let value = value.trim();
    if value.chars().count() < MIN_SECRET_LEN || is_masked(value) {
        return;
    }
    let mut k = known().lock().unwrap_or_else(|p| p.into_inner());
    if !k.pinned.iter().any(|v| v == value) {
        k.pinned.push(value.to_owned());
        k.changed();
    }
}

/// Tells redaction of a token or credential seen on the wire (bounded).
pub fn register_seen(value: &str) {
    let value = value.trim();
    if value.chars().count() < MIN_SECRET_LEN || is_masked(value) {
        return;
    }
    let mut k = known().lock().unwrap_or_else(|p| p.into_inner());
    if k.pinned.iter().any(|v| v == value) || k.seen.iter().any(|v| v == value) {
        return;
    }
    if k.seen.len() >= MAX_SEEN {
        k.seen.pop_front();
    }
    k.seen.push_back(value.to_owned());
    k.changed();
}

/// Replaces every occurrence of each of `values`, and of every value
/// `matcher` knows, in `s` by its mask. Longest first, so a value
/// containing another is replaced whole.
fn scrub_values(s: &mut String, values: &[String], matcher: Option<&AhoCorasick>) {
    if s.len() < MIN_SECRET_LEN {
        return;
    }
    if let Some(m) = matcher {
        if m.is_match(s.as_str()) {
            let mut out = String::with_capacity(s.len());
            m.replace_all_with(s.as_str(), &mut out, |_, found, out| {
                out.push_str(&mask(found));
                true
            });
            *s = out;
        }
    }
    // The exchange's own secrets, in case the bounded list has let one go.
    let mut present: Vec<&String> = values
        .iter()
        .filter(|v| v.len() >= MIN_SECRET_LEN && s.contains(v.as_str()))
        .collect();
    if present.is_empty() {
        return;
    }
    present.sort_by_key(|v| std::cmp::Reverse(v.len()));
    for v in present {
        if s.contains(v.as_str()) {
            *s = s.replace(v.as_str(), &mask(v));
        }
    }
}

/// The credential values an exchange carries: secret headers, bearer
/// credentials, and secret keys in a JSON response (an issued token).
fn secrets_in(raw: &RawExchange, bodies: &[Option<Value>; 2]) -> Vec<String> {
    let mut found = Vec::new();
    header_secrets(&raw.request_headers, &mut found);
    header_secrets(&raw.response_headers, &mut found);
    for v in bodies.iter().flatten() {
        collect_secret_values(v, &mut found);
    }
    found.retain(|v| v.chars().count() >= MIN_SECRET_LEN && !is_masked(v));
    found.sort();
    found.dedup();
    found
}

/// The credential values of `headers`: a bearer's (or any scheme's)
/// credentials, and the value of a secret header or a header named like a
/// secret key. Names compared without allocating (this runs for every line).
fn header_secrets(headers: &[(String, String)], found: &mut Vec<String>) {
    for (name, value) in headers {
        match header_kind(name) {
            HeaderKind::Credentials => {
                if let Some((_, cred)) = value.trim().split_once(char::is_whitespace) {
                    found.push(cred.trim().to_owned());
                }
            }
            HeaderKind::Secret => found.push(value.trim().to_owned()),
            HeaderKind::Plain => {}
        }
    }
}

/// What a header's name says of its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeaderKind {
    /// `Scheme credentials` (Authorization and its kin): the credentials are secret.
    Credentials,
    /// A credential header, or one named like a secret key: the whole value is secret.
    Secret,
    /// Nothing, by its name (its text is still scrubbed).
    Plain,
}

/// The one reading of a header's name (any case), for every place that
/// redacts, collects or looks for credentials in headers.
fn header_kind(name: &str) -> HeaderKind {
    if AUTH_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)) {
        HeaderKind::Credentials
    } else if SECRET_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)) || is_secret_key(name) {
        HeaderKind::Secret
    } else {
        HeaderKind::Plain
    }
}

fn collect_secret_values(v: &Value, found: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s) if is_secret_key(k) => found.push(s.clone()),
                    other => collect_secret_values(other, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_secret_values(v, found)),
        _ => {}
    }
}

/// Redacts a raw exchange into a storable one. The only way an exchange enters
/// the evidence: the client and the simulator's journal both call it.
///
/// Every credential or token the exchange carries is remembered (see
/// [`register_seen`]) and scrubbed from the whole exchange, so a value echoed
/// back in free text (an `error_description`, a header, an error) is hidden too.
pub fn exchange(raw: RawExchange) -> Exchange {
    // Each body is parsed once: its secrets are read, then it is redacted.
    let bodies = [
        parse_body(&raw.request_body),
        parse_body(&raw.response_body),
    ];
    let seen = secrets_in(&raw, &bodies);
    for v in &seen {
        register_seen(v);
    }
    let mut ex = by_name(raw, bodies);
    let matcher = known_matcher();
    let values = |s: &mut String| scrub_values(s, &seen, matcher.as_deref());
    by_value(&mut ex, values);
    ex
}

/// Redacts an exchange read from a file someone else wrote (an `audit`
/// input, a journal read back by `report --from-journal` or `pack`): the
/// same names, shapes and registered values as [`exchange`], applied to a
/// record that is already parsed. Redacting a redacted record changes
/// nothing, so every input can go through it.
pub fn stored(mut ex: Exchange) -> Exchange {
    let mut seen = Vec::new();
    header_secrets(&ex.request_headers, &mut seen);
    header_secrets(&ex.response_headers, &mut seen);
    collect_secret_values(&ex.request_body, &mut seen);
    collect_secret_values(&ex.response_body, &mut seen);
    seen.retain(|v| v.chars().count() >= MIN_SECRET_LEN && !is_masked(v));
    for v in &seen {
        register_seen(v);
    }
    ex.url = url(&ex.url);
    ex.request_headers = headers(std::mem::take(&mut ex.request_headers));
    ex.response_headers = headers(std::mem::take(&mut ex.response_headers));
    // Someone else's file may hold a token anywhere: in a header's name, the
    // reference, the scenario's name too.
    for (name, _) in ex
        .request_headers
        .iter_mut()
        .chain(&mut ex.response_headers)
    {
        scrub(name);
    }
    ex.reference = ex.reference.map(|r| text(&r));
    ex.scenario = ex.scenario.map(|s| text(&s));
    json(&mut ex.request_body, false);
    json(&mut ex.response_body, false);
    ex.error = ex.error.map(|e| text(&e));
    let matcher = known_matcher();
    by_value(&mut ex, |s: &mut String| {
        scrub_values(s, &seen, matcher.as_deref())
    });
    ex
}

/// Whether a journal line (its JSON text, and its request and response
/// headers as read) may hold a credential in clear: a credential header or
/// field whose value is not a fingerprint, a JWT or bearer token anywhere,
/// user info in a URL, a JSON escape (which could spell any of these), or a
/// value registered as secret. `false` for the lines this tool writes
/// itself, which are already redacted, so `audit` redacts only what needs
/// it (see [`stored`]). [`line_shows_a_credential`] and
/// [`line_holds_a_known_secret`] together.
pub fn line_needs_redaction<'a>(
    line: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> bool {
    line_shows_a_credential(line, headers) || line_holds_a_known_secret(line.as_bytes())
}

/// The part of [`line_needs_redaction`] that depends on the line alone (its
/// credential names and token shapes), not on the values registered so far:
/// it may be decided ahead, on another thread.
///
/// A line with a backslash is said to need redaction: an escape
/// (`\u0065yJ...`, `\"password\":` in a string) can spell a name or a
/// shape the text does not show; [`stored`] reads the decoded strings.
pub fn line_shows_a_credential<'a>(
    line: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> bool {
    headers
        .into_iter()
        .any(|(name, value)| header_shows_a_credential(name, value))
        || memchr::memchr(b'\\', line.as_bytes()).is_some()
        || line::shows_a_credential(line)
}

/// Whether one header, request or response, shows a credential in clear by
/// its name: an `Authorization`-like header that is not `Scheme …<fingerprint>`,
/// or a credential header whose value is not a fingerprint. (A server may
/// echo a credential back in its answer's headers.)
pub fn header_shows_a_credential(name: &str, value: &str) -> bool {
    match header_kind(name) {
        HeaderKind::Credentials => authorization_in_clear(value),
        HeaderKind::Secret => !value.is_empty() && !is_masked(value),
        HeaderKind::Plain => false,
    }
}

/// Whether `line` holds a value registered as secret (or seen as one).
pub fn line_holds_a_known_secret(line: &[u8]) -> bool {
    known_matcher().is_some_and(|m| m.is_match(line))
}

/// Whether [`authorization`] would change `value`; without allocating for
/// the usual `Scheme …<fingerprint>`.
fn authorization_in_clear(value: &str) -> bool {
    if let Some((scheme, credentials)) = value.split_once(' ') {
        if value.trim() == value && !scheme.contains(char::is_whitespace) && is_masked(credentials)
        {
            return false;
        }
    }
    authorization(value) != value
}

/// Applies `f` to every string of an exchange.
fn by_value(ex: &mut Exchange, mut f: impl FnMut(&mut String)) {
    f(&mut ex.url);
    for (_, v) in ex
        .request_headers
        .iter_mut()
        .chain(ex.response_headers.iter_mut())
    {
        f(v);
    }
    walk_strings(&mut ex.request_body, &mut f);
    walk_strings(&mut ex.response_body, &mut f);
    if let Some(e) = &mut ex.error {
        f(e);
    }
}

fn walk_strings(v: &mut Value, f: &mut impl FnMut(&mut String)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter_mut().for_each(|v| walk_strings(v, f)),
        Value::Object(map) => map.values_mut().for_each(|v| walk_strings(v, f)),
        _ => {}
    }
}

fn by_name(raw: RawExchange, [request, response]: [Option<Value>; 2]) -> Exchange {
    Exchange {
        schema_version: SCHEMA_VERSION,
        id: uuid::Uuid::new_v4().to_string(),
        started_at: raw.started_at,
        duration_ms: raw.duration_ms,
        method: raw.method,
        url: url(&raw.url),
        request_headers: headers(raw.request_headers),
        request_body: parsed_body(&raw.request_body, request),
        status: raw.status,
        response_headers: headers(raw.response_headers),
        response_body: parsed_body(&raw.response_body, response),
        error: raw.error.map(|e| text(&e)),
        attempt: raw.attempt,
        reference: raw.reference,
        checklist_ids: raw.checklist_ids,
        scenario: raw.scenario,
        kind: None,
    }
}

/// `…<fingerprint>` of `value`; a value already in that form is left alone so
/// redacting twice changes nothing.
pub fn mask(value: &str) -> String {
    if is_masked(value) {
        value.to_owned()
    } else {
        format!("…{}", fingerprint(value))
    }
}

fn is_masked(value: &str) -> bool {
    value
        .strip_prefix('…')
        .is_some_and(|h| h.len() == 8 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A phone number with all but its last two digits replaced by `*`.
pub(crate) fn mask_phone(value: &str) -> String {
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let mut seen = 0;
    value
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen + 2 > digits {
                    c
                } else {
                    '*'
                }
            } else {
                c
            }
        })
        .collect()
}

/// Whether `key`, lowercased and without `_` and `-`, is one of `names`
/// (compared without allocating: this runs for every key of every body).
fn key_in(key: &str, names: &[&str]) -> bool {
    // Every name is ASCII and at most 32 bytes: fold an ASCII key into a
    // buffer on the stack; a longer one cannot match, and a non-ASCII one
    // takes the slow way.
    let mut folded = [0u8; 32];
    let mut len = 0;
    for b in key.bytes() {
        if !b.is_ascii() {
            let slow: String = key
                .chars()
                .filter(|c| *c != '_' && *c != '-')
                .flat_map(char::to_lowercase)
                .collect();
            return names.contains(&slow.as_str());
        }
        if b == b'_' || b == b'-' {
            continue;
        }
        if len == folded.len() {
            return false;
        }
        folded[len] = b.to_ascii_lowercase();
        len += 1;
    }
    let folded = &folded[..len];
    names.iter().any(|n| n.as_bytes() == folded)
}

fn is_secret_key(key: &str) -> bool {
    key_in(key, SECRET_KEYS)
}

fn is_phone_key(key: &str) -> bool {
    key_in(key, PHONE_KEYS)
}

/// Redacts a list of headers (request or response).
pub fn headers(headers: Vec<(String, String)>) -> Vec<(String, String)> {
    headers
        .into_iter()
        .map(|(name, value)| {
            let value = match header_kind(&name) {
                HeaderKind::Credentials => authorization(&value),
                HeaderKind::Secret => mask(&value),
                HeaderKind::Plain => text(&value),
            };
            (name, value)
        })
        .collect()
}

/// `Bearer abc` -> `Bearer …<fp of abc>`; a value without a scheme is masked whole.
fn authorization(value: &str) -> String {
    match value.trim().split_once(char::is_whitespace) {
        Some((scheme, credentials)) => format!("{scheme} {}", mask(credentials.trim())),
        None => mask(value),
    }
}

/// Redacts a body: JSON is parsed and walked, anything else is kept as lossy
/// UTF-8 text and scrubbed. Empty is `null`.
pub fn body(bytes: &[u8]) -> Value {
    parsed_body(bytes, parse_body(bytes))
}

/// A body as JSON, when it is JSON (`None` when empty or not JSON).
fn parse_body(bytes: &[u8]) -> Option<Value> {
    if bytes.is_empty() {
        return None;
    }
    serde_json::from_slice::<Value>(bytes).ok()
}

/// [`body`], given what [`parse_body`] made of `bytes`.
fn parsed_body(bytes: &[u8], parsed: Option<Value>) -> Value {
    match parsed {
        _ if bytes.is_empty() => Value::Null,
        Some(mut v) => {
            json(&mut v, false);
            v
        }
        None => Value::String(text(&String::from_utf8_lossy(bytes))),
    }
}

/// Redacts a JSON value in place. `in_customer` is true under a `customer` key,
/// where any MSISDN-looking string is a phone number whatever its key.
pub fn json(value: &mut Value, in_customer: bool) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_secret_key(key) {
                    mask_json(v);
                } else if is_phone_key(key) {
                    phone_json(v);
                } else if key.eq_ignore_ascii_case("customer") {
                    if let Value::String(s) = v {
                        if looks_like_msisdn(s) {
                            *s = mask_phone(s);
                            continue;
                        }
                    }
                    json(v, true);
                } else {
                    json(v, in_customer);
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                json(v, in_customer);
            }
        }
        Value::String(s) => {
            if in_customer && looks_like_msisdn(s) {
                *s = mask_phone(s);
            } else {
                scrub(s);
            }
        }
        _ => {}
    }
}

fn mask_json(v: &mut Value) {
    *v = match &*v {
        Value::Null => Value::Null,
        Value::String(s) => Value::String(mask(s)),
        other => Value::String(mask(&other.to_string())),
    };
}

fn phone_json(v: &mut Value) {
    match v {
        Value::String(s) => *s = mask_phone(s),
        Value::Number(n) => *v = Value::String(mask_phone(&n.to_string())),
        Value::Null => {}
        // An unexpected shape under a phone key: hide it all rather than guess.
        other => *other = Value::String(mask(&other.to_string())),
    }
}

/// 8 to 15 digits, optionally after `+`, with spaces allowed: an MSISDN.
fn looks_like_msisdn(s: &str) -> bool {
    let t = s.trim().strip_prefix('+').unwrap_or(s.trim());
    let digits = t.chars().filter(char::is_ascii_digit).count();
    (8..=15).contains(&digits) && t.chars().all(|c| c.is_ascii_digit() || c == ' ')
}

/// Redacts a URL: secret query parameters masked, user info dropped. An unparseable URL
/// is scrubbed as text. A URL with nothing to hide is returned unchanged, byte
/// for byte, so rules can compare URLs.
pub fn url(raw: &str) -> String {
    let Ok(mut parsed) = Url::parse(raw) else {
        return text(raw);
    };
    let mut changed = false;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // User info is never kept, not even as a fingerprint (issue 22).
        let _ = parsed.set_username("");
        let _ = parsed.set_password(None);
        changed = true;
    }
    if parsed
        .query_pairs()
        .any(|(k, v)| (is_secret_key(&k) && !is_masked(&v)) || is_phone_key(&k))
    {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_key(&k) {
                    mask(&v)
                } else if is_phone_key(&k) {
                    mask_phone(&v)
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
        changed = true;
    }
    let mut out = if changed {
        parsed.to_string()
    } else {
        raw.to_owned()
    };
    // A registered secret in the path (`--base-url http://h/<secret>`) is
    // hidden here too, so an attempt line written ahead is redacted as its
    // outcome line is.
    scrub_values(&mut out, &[], known_matcher().as_deref());
    out
}

fn secret_key_alternation() -> &'static str {
    line::KEY_ALTERNATION
}

/// Scrubs free text (a non-JSON body, a header value, an error message):
/// `Bearer`/`Basic` credentials, `key=value` pairs and JSON-looking
/// `"key": "value"` pairs for secret keys, and `Header: value` lines.
pub fn text(s: &str) -> String {
    let mut out = s.to_owned();
    scrub(&mut out);
    out
}

/// [`text`] in place: `s` is reallocated only when a pattern matched, so the
/// common case (nothing secret in a JSON string) copies nothing.
fn scrub(s: &mut String) {
    scrub_values(s, &[], known_matcher().as_deref());
    if !might_hold_a_credential(s) {
        return;
    }
    static SCHEME: OnceLock<Option<Regex>> = OnceLock::new();
    static PAIR: OnceLock<Option<Regex>> = OnceLock::new();
    static QUOTED: OnceLock<Option<Regex>> = OnceLock::new();
    static HEADER: OnceLock<Option<Regex>> = OnceLock::new();
    static JWT: OnceLock<Option<Regex>> = OnceLock::new();

    let scheme = SCHEME.get_or_init(|| {
        // At least 6 characters, so prose such as "Bearer of" is left alone;
        // real tokens are far longer. `Basic` only counts after a header name
        // (see HEADER): in prose it is mostly an adjective ("Basic plan").
        Regex::new(r"(?i)\b(bearer|hmac-sha256)(\s+)([^\s,;&]{6,})").ok()
    });
    let pair = PAIR.get_or_init(|| {
        Regex::new(&format!(
            r#"(?i)(^|[?&;,(\s"'])({})=([^&\s;"',)]*)"#,
            secret_key_alternation()
        ))
        .ok()
    });
    let quoted = QUOTED.get_or_init(|| {
        Regex::new(&format!(
            r#"(?i)("(?:{})"\s*:\s*")((?:[^"\\]|\\.)*)(")"#,
            secret_key_alternation()
        ))
        .ok()
    });
    let header = HEADER.get_or_init(|| {
        Regex::new(r"(?im)^(\s*(?:authorization|ocp-apim-subscription-key|client[_-]secret|client[_-]id)\s*:\s*)(.+)$").ok()
    });

    // A JWT (`eyJ…` header, payload, signature) is a credential by its
    // shape alone, whatever key or text it stands in.
    let jwt = JWT.get_or_init(|| {
        Regex::new(r"eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*").ok()
    });
    replace(s, jwt.as_ref(), |c| mask(&c[0]));
    // The patterns are constants; a failed compile would be a bug caught by the
    // tests, and must not turn into a panic in production.
    replace(s, header.as_ref(), |c| {
        let name = c[1].to_ascii_lowercase();
        if name.contains("authorization") {
            format!("{}{}", &c[1], authorization(&c[2]))
        } else {
            format!("{}{}", &c[1], mask(c[2].trim()))
        }
    });
    replace(s, scheme.as_ref(), |c| {
        format!("{}{}{}", &c[1], &c[2], mask(&c[3]))
    });
    replace(s, pair.as_ref(), |c| {
        format!("{}{}={}", &c[1], &c[2], mask(&c[3]))
    });
    replace(s, quoted.as_ref(), |c| {
        format!("{}{}{}", &c[1], mask(&c[2]), &c[3])
    });
}

/// Whether `s` holds a word every pattern of [`scrub`] needs (a JWT's
/// `eyJ`, a scheme, a header or a secret key's name): one fast scan instead of four regex
/// searches for the many strings (amounts, states, URLs) that hold none.
fn might_hold_a_credential(s: &str) -> bool {
    // The ASCII scan below would miss a name spelled with a letter `(?i)`
    // folds: such a string is tried by every pattern.
    if line::folds_onto_ascii(s.as_bytes()) {
        return true;
    }
    static WORDS: OnceLock<Option<AhoCorasick>> = OnceLock::new();
    WORDS
        .get_or_init(|| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build([
                    "eyj",
                    "bearer",
                    "hmac-sha256",
                    "authorization",
                    "token",
                    "secret",
                    "password",
                    "client",
                    "subscription",
                ])
                .ok()
        })
        .as_ref()
        // Without the automaton (never expected), every pattern is tried.
        .map_or(true, |w| w.is_match(s))
}

/// Applies one pattern to `s`, replacing it only when something matched.
fn replace(s: &mut String, re: Option<&Regex>, rep: impl FnMut(&Captures) -> String) {
    let Some(re) = re else { return };
    if let Cow::Owned(replaced) = re.replace_all(s, rep) {
        *s = replaced;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_twice_changes_nothing() {
        let once = mask("abc");
        assert_eq!(once, "…ba7816bf");
        assert_eq!(mask(&once), once);
    }

    #[test]
    fn phone_keeps_last_two_digits() {
        assert_eq!(mask_phone("4791234567"), "********67");
        assert_eq!(mask_phone("+47 912"), "+** *12");
    }

    #[test]
    fn a_name_spelled_with_letters_the_patterns_fold_is_scrubbed_as_they_match_it() {
        for spelled in ["HMAC-\u{17F}HA256 abcdef123456", "bearer abcdef123456"] {
            assert!(!text(spelled).contains("abcdef123456"), "{spelled}");
        }
        let field = "{\"to\u{212A}en\": \"abcdef123456\"}";
        assert!(!text(field).contains("abcdef123456"), "{field}");
    }

    #[test]
    fn prose_that_merely_mentions_a_scheme_is_left_alone() {
        let prose = "Basic subscription, Bearer of good news";
        assert_eq!(text(prose), prose);
        assert!(!text("Authorization: Basic dXNlcjpwYXNz").contains("dXNlcjpwYXNz"));
    }

    #[test]
    fn a_registered_secret_in_a_url_path_is_hidden() {
        register_secret("path-secret-canary-77");
        let out = url("http://127.0.0.1:1/path-secret-canary-77/epayment");
        assert!(!out.contains("path-secret-canary-77"), "{out}");
    }

    #[test]
    fn a_jwt_is_hidden_by_its_shape_in_any_text() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJub2JvZHkifQ.c2lnbmF0dXJl";
        let out = text(&format!("issued {jwt} today"));
        assert!(!out.contains(jwt), "{out}");
        assert!(
            out.starts_with("issued …") && out.ends_with(" today"),
            "{out}"
        );
    }

    #[test]
    fn a_stored_exchange_is_redacted_by_name_and_a_redacted_one_is_left_alone() {
        let raw: Exchange = serde_json::from_value(serde_json::json!({
            "schema_version": 1, "id": "a", "started_at": "2026-01-01T00:00:00Z", "duration_ms": 1,
            "method": "POST", "url": "http://u:pw-canary-1@h/x?token=tok-canary-2",
            "request_headers": [["Authorization", "Bearer opaque-canary-3"], ["client_secret", "cs-canary-4"]],
            "request_body": {"password": "pw-canary-5"}, "status": 200, "response_headers": [],
            "response_body": {"access_token": "at-canary-6"}, "error": null, "attempt": 1,
            "reference": null, "checklist_ids": [], "scenario": null
        }))
        .unwrap();
        let text_of = |e: &Exchange| serde_json::to_string(e).unwrap();
        let line = text_of(&raw);
        let pairs: Vec<(&str, &str)> = raw
            .request_headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert!(line_needs_redaction(&line, pairs));
        let once = stored(raw);
        let out = text_of(&once);
        for c in [
            "pw-canary-1",
            "tok-canary-2",
            "opaque-canary-3",
            "cs-canary-4",
            "pw-canary-5",
            "at-canary-6",
        ] {
            assert!(!out.contains(c), "{c} in {out}");
        }
        let pairs: Vec<(&str, &str)> = once
            .request_headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert!(!line_needs_redaction(&out, pairs), "{out}");
        assert_eq!(text_of(&stored(once.clone())), out);
    }

    #[test]
    fn text_scrubs_bearer_and_form_pairs() {
        let out = text("grant_type=client_credentials&client_secret=s3cr3t&x=1 Bearer eyJabc.def");
        assert!(!out.contains("s3cr3t"), "{out}");
        assert!(!out.contains("eyJabc"), "{out}");
        assert!(out.contains("grant_type=client_credentials"), "{out}");
        assert!(out.contains("x=1"), "{out}");
    }
}

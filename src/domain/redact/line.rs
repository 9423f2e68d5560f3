//! Whether the text of a journal line shows a credential in clear, decided
//! without a regex search of the whole line (see [`super::line_needs_redaction`]).
//!
//! The answer is exactly that of [`clear_pattern`] (a regex kept as the
//! reference and for the rare line the fast way does not read, tested
//! against it below): a JWT, a `Bearer`/`HMAC-SHA256` credential, a
//! credential field or header in JSON with a value that is not a
//! fingerprint, a credential query parameter, or user info in `"url"`.
//!
//! One scan finds the few words every one of those begins with or holds
//! (`eyJ`, `bearer`, `token`, `secret`, `"url"`, ...: in a line this tool
//! wrote, a handful), and each place found is looked at where it stands.
//! Searching the whole line with the regex cost `audit` a third of its time:
//! its case-insensitive field names give it no literal to skip ahead by.

use std::sync::OnceLock;

use regex::Regex;

/// Names a credential field or header may have in JSON (`"name": value`),
/// lowercase: the names of [`KEY_ALTERNATION`] written out, and the
/// credential headers recorded as `["Name", "value"]`.
const FIELD_NAMES: &[&str] = &[
    "accesstoken",
    "access_token",
    "access-token",
    "clientsecret",
    "client_secret",
    "client-secret",
    "clientid",
    "client_id",
    "client-id",
    "refreshtoken",
    "refresh_token",
    "refresh-token",
    "idtoken",
    "id_token",
    "id-token",
    "secret",
    "token",
    "password",
    "ocp-apim-subscription-key",
    "subscriptionkey",
    "subscription_key",
    "subscription-key",
];

/// Header names that are also caught as JSON fields (`["Cookie", "..."]`).
const HEADER_NAMES: &[&str] = &["cookie", "set-cookie", "x-api-key"];

/// The credential names of query and form parameters and of JSON fields,
/// as a regex alternation (case-insensitive where used).
pub(super) const KEY_ALTERNATION: &str = r"access[_-]?token|client[_-]?secret|client[_-]?id|refresh[_-]?token|id[_-]?token|secret|token|password|ocp-apim-subscription-key|subscription[_-]?key";

/// The reference: whether `line` shows a credential in clear, as one regex.
pub(super) fn clear_pattern() -> Option<&'static Regex> {
    static CLEAR: OnceLock<Option<Regex>> = OnceLock::new();
    CLEAR
        .get_or_init(|| {
            Regex::new(&format!(
                r#"eyJ[A-Za-z0-9_-]{{6,}}\.[A-Za-z0-9_-]{{6,}}|(?i:bearer|hmac-sha256)\s+[^\s…"\\]|"(?i:{keys}|cookie|set-cookie|x-api-key|client-secret|client-id)"\s*[,:]\s*(?:"[^"…]|[0-9\[\x7B]|true|false)|[?&;](?i:{keys})=(?:[^&…"\s%]|%(?:[^E]|E[^2]|E2[^%]|E2%[^8]|E2%8[^0]|E2%80[^%]|E2%80%[^A]|E2%80%A[^6]))|"url"\s*:\s*"[A-Za-z][A-Za-z0-9+.-]*://[^/"?#]*@"#,
                keys = KEY_ALTERNATION
            ))
            .ok()
        })
        .as_ref()
}

/// The words looked for, lowercase: every match of [`clear_pattern`] but a
/// JWT (found by its `eyJ`) holds one. They are found leftmost-first and
/// without overlaps, so a word whose start another's end covers is never
/// seen: that loses nothing only because where one ends as another begins
/// (`secretoken`, `clientoken`), the second cannot begin a name the pattern
/// matches (a name begins after a quote or one of `?&;`). `"url"` would
/// overlap itself (`"url"url":` hid the second), so `url"` is looked for
/// and its opening quote checked where it is found.
const WORDS: &[&str] = &[
    "bearer",
    "hmac-sha256",
    "url\"",
    // Every name of FIELD_NAMES and HEADER_NAMES holds one of these.
    "token",
    "secret",
    "client",
    "password",
    "subscription",
    "cookie",
    "x-api-key",
];

/// The words' searcher (SIMD where the CPU has it); `None` where it cannot
/// be built, and the regex does the work.
fn words() -> Option<&'static aho_corasick::packed::Searcher> {
    static SEARCHER: OnceLock<Option<aho_corasick::packed::Searcher>> = OnceLock::new();
    SEARCHER
        .get_or_init(|| {
            aho_corasick::packed::Config::new()
                .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
                .builder()
                .extend(WORDS)
                .build()
        })
        .as_ref()
}

/// Bytes of a line lowercased at a time, on the stack.
const WINDOW: usize = 2048;

/// Calls `found` with each place (pattern, start, end) where one of
/// [`WORDS`] stands in `line`, whatever its case, until it says `true`.
/// The line is lowercased a window at a time; windows overlap by the
/// longest word less one, so every place lies whole in one of them.
fn find_words(
    words: &aho_corasick::packed::Searcher,
    line: &[u8],
    mut found: impl FnMut(usize, usize, usize) -> bool,
) -> bool {
    let overlap = WORDS.iter().map(|w| w.len()).max().unwrap_or(1) - 1;
    let mut folded = [0u8; WINDOW];
    let mut from = 0;
    loop {
        let to = (from + WINDOW).min(line.len());
        let window = &mut folded[..to - from];
        for (f, b) in window.iter_mut().zip(&line[from..to]) {
            *f = b.to_ascii_lowercase();
        }
        for m in words.find_iter(&*window) {
            if found(m.pattern().as_usize(), from + m.start(), from + m.end()) {
                return true;
            }
        }
        if to == line.len() {
            return false;
        }
        from = to - overlap;
    }
}

/// Whether `line` shows a credential in clear: the answer of
/// [`clear_pattern`], mostly without running it.
pub(super) fn shows_a_credential(line: &str) -> bool {
    let b = line.as_bytes();
    // A line holding a letter `(?i)` folds onto ASCII is searched with the
    // regex itself.
    let folds = folds_onto_ascii(b);
    let Some(words) = words().filter(|_| !folds) else {
        return clear_pattern().map_or(true, |re| re.is_match(line));
    };
    if memchr::memmem::find_iter(b, b"eyJ").any(|at| jwt(line, at)) {
        return true;
    }
    find_words(words, b, |word, start, end| match WORDS[word] {
        "bearer" | "hmac-sha256" => scheme_credential(line, end),
        "url\"" => user_info(line, start, end),
        _ => named_credential(line, start, end),
    })
}

/// Whether `text` holds one of the two letters outside ASCII that `(?i)`
/// folds onto ASCII (U+017F onto `s`, U+212A onto `k`), which a scan of
/// ASCII-lowercased text does not see as those letters.
pub(super) fn folds_onto_ascii(text: &[u8]) -> bool {
    memchr::memmem::find(text, "\u{17F}".as_bytes()).is_some()
        || memchr::memmem::find(text, "\u{212A}".as_bytes()).is_some()
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// `eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}` at `start`.
fn jwt(line: &str, start: usize) -> bool {
    let b = line.as_bytes();
    if b.get(start..start + 3) != Some(b"eyJ") {
        return false;
    }
    let run = |from: usize| {
        b[from.min(b.len())..]
            .iter()
            .take_while(|c| is_base64url(**c))
            .count()
    };
    let header = run(start + 3);
    let dot = start + 3 + header;
    header >= 6 && b.get(dot) == Some(&b'.') && run(dot + 1) >= 6
}

/// The char at byte `at` of `line`, if `at` is in it and on a char boundary.
fn char_at(line: &str, at: usize) -> Option<char> {
    line.get(at..)?.chars().next()
}

/// Skips whitespace (`\s`, Unicode) from `at`; where it ends.
fn skip_space(line: &str, at: usize) -> usize {
    match line.get(at..) {
        Some(rest) => at + (rest.len() - rest.trim_start().len()),
        None => at,
    }
}

/// `\s+[^\s…"\\]` at `at` (right after `Bearer` or `HMAC-SHA256`).
fn scheme_credential(line: &str, at: usize) -> bool {
    let after = skip_space(line, at);
    after > at && char_at(line, after).is_some_and(|c| !matches!(c, '…' | '"' | '\\'))
}

/// `"url"\s*:\s*"[A-Za-z][A-Za-z0-9+.-]*://[^/"?#]*@` at the `url"` found
/// at `start..end`.
fn user_info(line: &str, start: usize, end: usize) -> bool {
    let b = line.as_bytes();
    if start == 0 || &b[start - 1..end] != b"\"url\"" {
        return false;
    }
    let colon = skip_space(line, end);
    if b.get(colon) != Some(&b':') {
        return false;
    }
    let quote = skip_space(line, colon + 1);
    if b.get(quote) != Some(&b'"') || !b.get(quote + 1).is_some_and(u8::is_ascii_alphabetic) {
        return false;
    }
    let scheme = b[quote + 2..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-'))
        .count();
    let authority = quote + 2 + scheme;
    if b.get(authority..authority + 3) != Some(b"://") {
        return false;
    }
    b[authority + 3..]
        .iter()
        .find(|c| matches!(c, b'/' | b'"' | b'?' | b'#' | b'@'))
        == Some(&b'@')
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'-'
}

/// The name around the word found at `start..end` (letters, `_` and `-`,
/// the only bytes the names hold), then what stands either side of it: a
/// quoted JSON field or header name, or a query or form parameter.
fn named_credential(line: &str, start: usize, end: usize) -> bool {
    let b = line.as_bytes();
    let from = start
        - b[..start]
            .iter()
            .rev()
            .take_while(|c| is_name_byte(**c))
            .count();
    let to = end + b[end..].iter().take_while(|c| is_name_byte(**c)).count();
    let name = &line[from..to];
    let is = |names: &[&str]| names.iter().any(|n| n.eq_ignore_ascii_case(name));
    let before = from.checked_sub(1).map(|i| b[i]);
    match (before, b.get(to).copied()) {
        (Some(b'"'), Some(b'"')) if is(FIELD_NAMES) || is(HEADER_NAMES) => {
            field_value(line, to + 1)
        }
        (Some(b'?' | b'&' | b';'), Some(b'=')) if is(FIELD_NAMES) => parameter_value(line, to + 1),
        _ => false,
    }
}

/// `\s*[,:]\s*(?:"[^"…]|[0-9\[\x7B]|true|false)` at `at` (after a quoted name).
fn field_value(line: &str, at: usize) -> bool {
    let b = line.as_bytes();
    let sep = skip_space(line, at);
    if !matches!(b.get(sep), Some(b',' | b':')) {
        return false;
    }
    let value = skip_space(line, sep + 1);
    match b.get(value) {
        Some(b'"') => char_at(line, value + 1).is_some_and(|c| !matches!(c, '"' | '…')),
        Some(b'0'..=b'9' | b'[' | b'{') => true,
        _ => {
            let rest = &b[value.min(b.len())..];
            rest.starts_with(b"true") || rest.starts_with(b"false")
        }
    }
}

/// A value after `name=` that is not empty and not a fingerprint (`…`, or
/// `%E2%80%A6` escaped): `[^&…"\s%]`, or `%` and anything but `E2%80%A6`.
fn parameter_value(line: &str, at: usize) -> bool {
    match char_at(line, at) {
        None => false,
        Some('%') => {
            // The first char that differs from the escaped `…`, if one comes
            // before the line ends.
            let rest = line[at + 1..].chars();
            rest.zip("E2%80%A6".chars()).any(|(c, want)| c != want)
        }
        Some(c) => !matches!(c, '&' | '…' | '"') && !c.is_whitespace(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference(line: &str) -> bool {
        clear_pattern().unwrap().is_match(line)
    }

    #[test]
    fn every_name_of_the_pattern_is_written_out() {
        for name in FIELD_NAMES.iter().chain(HEADER_NAMES) {
            assert!(WORDS[3..].iter().any(|w| name.contains(w)), "{name}");
            let field = format!(r#"{{"{}":"x1"}}"#, name.to_ascii_uppercase());
            assert!(reference(&field) && shows_a_credential(&field), "{field}");
        }
        for name in FIELD_NAMES {
            let query = format!("http://h/p?a=1&{name}=v");
            assert!(reference(&query) && shows_a_credential(&query), "{query}");
        }
    }

    /// The fast way and the regex, on the lines and shapes that matter,
    /// odd places included.
    #[test]
    fn known_lines_are_read_as_the_pattern_reads_them() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJub2JvZHkifQ.c2lnbmF0dXJl";
        let cases: &[(&str, bool)] = &[
            (
                r#"{"request_headers":[["authorization","Bearer …1a2b3c4d"],["ocp-apim-subscription-key","…5e6f7a8b"]],"url":"http://127.0.0.1:7777/x"}"#,
                false,
            ),
            (r#"["Authorization","Bearer abc"]"#, true),
            (r#"["Authorization","bearer  "]"#, false),
            ("Bearer\u{a0}tok", true),
            (
                r#"{"access_token":"…1a2b3c4d","token_type":"Bearer"}"#,
                false,
            ),
            (r#"{"access_token":"abc"}"#, true),
            (r#"{"Access-Token" :  12}"#, true),
            (r#"{"token":true}"#, true),
            (r#"{"token":null}"#, false),
            (r#"{"xtoken":"abc"}"#, false),
            (r#"{"secret":""}"#, false),
            (r#"["Set-Cookie","a=b"]"#, true),
            (r#"{"url":"https://u:p@h/x"}"#, true),
            (r#"{"url" : "https://h/x?a=@"}"#, false),
            (r#"{"Url":"https://u:p@h/x"}"#, false),
            ("?client_secret=%E2%80%A6abc", false),
            ("?client_secret=%E2%80abc", true),
            ("?client_secret=%E2%80%A", false),
            ("?client_secret=%E2%80%A5x", true),
            ("?client_secret=%e2%80%a6abc", true),
            ("&password=%41", true),
            (";token=…ab", false),
            ("&token= x", false),
            ("tokentoken=x", false),
            // A JWT in odd places: a header name, an id, a reference, a path.
            (&format!(r#"{{"id":"{jwt}"}}"#), true),
            (&format!(r#"[["x-{jwt}","1"]]"#), true),
            (&format!("/epayment/v1/payments/{jwt}/events"), true),
            (&format!("x-api-k{jwt}"), true),
            (&format!("cooki{jwt}"), true),
            ("eyJabcdef.abcde", false),
            ("eyJabcde.abcdef", false),
            ("eyJabcdef.abcdef", true),
            (r#"{"url":"git-ssh://u@h"}"#, true),
            (r#"{"url":"git_ssh://u@h"}"#, false),
            ("EYJabcdef.abcdef", false),
            // Letters `(?i)` folds onto ASCII: the regex decides.
            (r#"{"ſecret":"x"}"#, true),
            ("\"to\u{212A}en\":\"x\"", true),
            // `"url"` ends with the quote another `"url"` begins with.
            (r#""url"url": "a://@"#, true),
            (r#"x"url"url":"http://u@h""#, true),
        ];
        for (line, clear) in cases {
            assert_eq!(reference(line), *clear, "the pattern on {line}");
            assert_eq!(shows_a_credential(line), *clear, "the fast way on {line}");
        }
    }

    /// A line longer than the window, with the credential across a
    /// window's edge at every offset: found all the same.
    #[test]
    fn a_word_across_a_window_edge_is_found() {
        let shapes = [
            r#""Client_Secret" : "abc""#,
            r#"["Ocp-Apim-Subscription-Key","abc"]"#,
            "BEARER abc",
            r#""url":"http://u@h""#,
        ];
        for shown in shapes {
            for before in WINDOW * 2 - 40..WINDOW * 2 + 4 {
                let line = format!("{}{shown}{}", "x".repeat(before), " ".repeat(3000));
                assert!(reference(&line), "{before}");
                assert!(shows_a_credential(&line), "{shown} after {before} bytes");
            }
        }
        let long = format!(
            "{}{}",
            r#""token":"…1a2b3c4d" "#.repeat(500),
            "x".repeat(9000)
        );
        assert!(!reference(&long) && !shows_a_credential(&long));
    }

    fn piece() -> impl Strategy<Value = String> {
        const PIECES: &[&str] = &[
            "\"",
            ":",
            ",",
            " ",
            "\u{a0}",
            "\n",
            "…",
            "%",
            "E",
            "2",
            "%E2%80%A6",
            "?",
            "&",
            ";",
            "=",
            "@",
            "/",
            "#",
            "8",
            "0",
            "A",
            "6",
            "%E2%80",
            "://",
            "http",
            "url",
            "\"url\"",
            "url\"",
            "URL",
            "a",
            "Z",
            "0",
            "-",
            "_",
            ".",
            "[",
            "\x7B",
            "true",
            "false",
            "True",
            "\\",
            "eyJ",
            "eyj",
            "abcdef",
            "bearer",
            "BeArEr",
            "hmac-sha256",
            "token",
            "Token",
            "access",
            "id",
            "refresh",
            "client",
            "secret",
            "password",
            "ocp-apim-subscription-key",
            "subscription",
            "key",
            "cookie",
            "set-",
            "x-api-key",
            "x-api-k",
            "ſ",
            "\u{212A}",
            "é",
            "ab",
            "abcde",
            "eyJab",
            "\"url\":\"http://",
            "\"url\" : \"a+b://",
            "\"token\":",
            "\"Client_Id\",\"",
            "?token=",
            "&password=",
            ";secret=",
            "Bearer ",
            "hmac-sha256\t",
            "\"…",
            "\"x",
            ": \"",
        ];
        proptest::sample::select(PIECES).prop_map(str::to_owned)
    }

    /// 20 000 texts per `cargo test`; `LINE_CASES=10000000 cargo test
    /// --release --lib any_text_is_read` for a longer search (the
    /// self-overlapping `"url"` was found by CI, once in many runs).
    fn cases() -> u32 {
        std::env::var("LINE_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20_000)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases()))]
        /// Whatever the text, the fast way answers as the regex does.
        #[test]
        fn any_text_is_read_as_the_pattern_reads_it(
            pieces in proptest::collection::vec(piece(), 0..32)
        ) {
            let line: String = pieces.concat();
            prop_assert_eq!(shows_a_credential(&line), reference(&line), "{:?}", line);
        }
    }
}

//! A journal line read without copying: the exchange's strings borrowed from
//! the line, the request body left as JSON text and the response body read
//! straight into the fields the rules need (see [`Body`]).
//!
//! This is `audit`'s fast way through a long journal (building an owned
//! [`Exchange`] with `serde_json::Value` bodies for every line cost most of
//! its time). It accepts exactly the lines [`Exchange`] accepts, with the same
//! field types, so a line it refuses goes the slow way and is reported (or
//! skipped as another kind) just as before; the first exchanges and those
//! behind findings are parsed again in full, to be kept.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::domain::checklist::ChecklistId;
use crate::domain::redact;
use crate::rules::body::ResponseFields;
use crate::rules::{HeaderList, Meta};

#[cfg(doc)]
use crate::{domain::exchange::Exchange, rules::Body};

/// An exchange line, borrowed. Field for field the shape of [`Exchange`]; the
/// fields named `_...` are parsed only so that a line an [`Exchange`] refuses
/// is refused here too, and never read.
#[derive(Debug, serde::Deserialize)]
pub struct LineRef<'a> {
    pub schema_version: u32,
    #[serde(borrow)]
    pub id: Text<'a>,
    #[serde(deserialize_with = "stamp")]
    pub started_at: DateTime<Utc>,
    #[serde(rename = "duration_ms")]
    _duration_ms: u64,
    #[serde(borrow)]
    pub method: Text<'a>,
    #[serde(borrow)]
    pub url: Text<'a>,
    #[serde(borrow)]
    pub request_headers: Pairs<'a>,
    #[serde(borrow)]
    pub request_body: &'a RawValue,
    pub status: Option<u16>,
    pub response_headers: CheckedPairs,
    /// Read straight into the fields the rules need: one pass over the
    /// longest part of most lines.
    #[serde(borrow)]
    pub response_body: ResponseFields<'a>,
    #[serde(borrow, rename = "error")]
    _error: Option<Text<'a>>,
    #[serde(rename = "attempt")]
    _attempt: u32,
    #[serde(borrow)]
    pub reference: Option<Text<'a>>,
    #[serde(borrow)]
    pub checklist_ids: Vec<Text<'a>>,
    #[serde(borrow, rename = "scenario")]
    _scenario: Option<Text<'a>>,
}

impl<'a> LineRef<'a> {
    /// Reads one line (without its newline); `None` when it is not an
    /// exchange this way (the caller then takes the slow way).
    pub fn parse(line: &'a str) -> Option<LineRef<'a>> {
        serde_json::from_str(line).ok()
    }

    /// What the rules read besides the bodies.
    pub fn meta(&self) -> Meta<'_> {
        Meta {
            id: &self.id.0,
            started_at: self.started_at,
            method: &self.method.0,
            url: &self.url.0,
            headers: HeaderList::Borrowed(&self.request_headers.0),
            status: self.status,
            reference: self.reference.as_ref().map(|r| r.0.as_ref()),
            provoked: self
                .checklist_ids
                .iter()
                .any(|c| *c.0 == ChecklistId::QaErrors),
        }
    }
}

/// An RFC 3339 time as `DateTime<Utc>` reads it. The shape this program
/// writes (`2026-01-01T12:00:00.123Z`, 0 to 9 digits of fraction) is read
/// directly; anything else goes through chrono, as before.
fn stamp<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let text = Text::deserialize(d)?;
    match utc_stamp(text.0.as_bytes()) {
        Some(t) => Ok(t),
        None => text
            .0
            .parse::<DateTime<chrono::FixedOffset>>()
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.f]Z`, or `None` for any other text.
fn utc_stamp(b: &[u8]) -> Option<DateTime<Utc>> {
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b.get(range)?.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let punct = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if b.len() < 20 || b.last() != Some(&b'Z') || punct.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let second = num(17..19)?;
    let nano = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            num(20..20 + digits.len())? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    // A leap second (60) is chrono's to read.
    if second > 59 {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    Some(
        date.and_hms_nano_opt(num(11..13)?, num(14..16)?, second, nano)?
            .and_utc(),
    )
}

/// A JSON string, borrowed from the line when it holds no escapes; anything
/// else is an error, as for a `String`.
#[derive(Debug)]
pub struct Text<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// Headers: `[[name, value], ...]`, as `Vec<(String, String)>` reads them.
#[derive(Debug)]
pub struct Pairs<'a>(pub Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'de: 'a, 'a> Deserialize<'de> for Pairs<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Pairs<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of [name, value] pairs")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Pairs<'a>, A::Error> {
                let mut pairs = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some((Text(k), Text(v))) = seq.next_element::<(Text<'a>, Text<'a>)>()? {
                    pairs.push((k, v));
                }
                Ok(Pairs(pairs))
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }
}

/// Headers that are read (so a line of the wrong shape is refused, as
/// `Vec<(String, String)>` would refuse it) but not kept: the rules read
/// none of the response headers. Only whether one of them shows a
/// credential in clear by its name is kept (a server may echo one back).
#[derive(Debug)]
pub struct CheckedPairs {
    /// [`redact::header_shows_a_credential`] of any of them.
    pub show_a_credential: bool,
}

impl<'de> Deserialize<'de> for CheckedPairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CheckedPairs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of [name, value] pairs")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CheckedPairs, A::Error> {
                let mut show_a_credential = false;
                while let Some((Text(k), Text(v))) = seq.next_element::<(Text<'de>, Text<'de>)>()? {
                    show_a_credential |= redact::header_shows_a_credential(&k, &v);
                }
                Ok(CheckedPairs { show_a_credential })
            }
        }
        d.deserialize_seq(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::exchange::Exchange;

    fn exchange_line() -> serde_json::Value {
        serde_json::json!({
            "schema_version": 1, "id": "e1", "started_at": "2026-01-01T00:00:00Z",
            "duration_ms": 3, "method": "POST", "url": "http://h/epayment/v1/payments",
            "request_headers": [["Merchant-Serial-Number", "123456"], ["x", "a\"b"]],
            "request_body": {"reference": "acme-1"}, "status": 201,
            "response_headers": [], "response_body": {"reference": "acme-1"},
            "error": null, "attempt": 1, "reference": null,
            "checklist_ids": ["EP-CREATE"], "scenario": "s"
        })
    }

    /// Whatever the change to a good line, both readings take it or both refuse it.
    #[test]
    fn takes_exactly_the_lines_an_exchange_takes() {
        let good = exchange_line();
        let mut variants = vec![good.clone()];
        let swaps: [(&str, serde_json::Value); 16] = [
            ("id", serde_json::json!(5)),
            ("started_at", serde_json::json!("yesterday")),
            ("duration_ms", serde_json::json!(-1)),
            ("method", serde_json::Value::Null),
            ("request_headers", serde_json::json!([["a"]])),
            ("request_headers", serde_json::json!([["a", "b", "c"]])),
            ("request_headers", serde_json::json!({"a": "b"})),
            ("response_headers", serde_json::json!([["a", 1]])),
            ("status", serde_json::json!(70000)),
            ("status", serde_json::Value::Null),
            ("error", serde_json::json!(false)),
            ("attempt", serde_json::json!(1.5)),
            ("reference", serde_json::json!("r\u{e9}f")),
            ("checklist_ids", serde_json::json!(["a", 2])),
            ("scenario", serde_json::json!([])),
            ("request_body", serde_json::json!([1, {"a": null}])),
        ];
        for (field, value) in swaps {
            let mut v = good.clone();
            v[field] = value;
            variants.push(v);
        }
        for field in [
            "id",
            "request_body",
            "response_headers",
            "schema_version",
            "error",
            "scenario",
        ] {
            let mut v = good.clone();
            v.as_object_mut().unwrap().remove(field);
            variants.push(v);
        }
        for v in variants {
            let text = v.to_string();
            let owned = serde_json::from_str::<Exchange>(&text).is_ok();
            let borrowed = LineRef::parse(&text).is_some();
            assert_eq!(owned, borrowed, "{text}");
        }
        // As an array, by position, neither takes it.
        let text = r#"[1,"e1","2026-01-01T00:00:00Z",3,"GET","/x",[],null,200,[],null,null,1,null,[],null]"#;
        assert_eq!(
            serde_json::from_str::<Exchange>(text).is_ok(),
            LineRef::parse(text).is_some()
        );
    }

    #[test]
    fn times_are_read_as_chrono_reads_them() {
        for text in [
            "2026-01-01T00:00:00Z",
            "2026-12-31T23:59:59.5Z",
            "2026-02-28T12:34:56.123456789Z",
            "2024-02-29T00:00:00.000001Z",
            "2026-06-30T23:59:60Z",
            "2026-01-01T00:00:00+01:00",
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00.1234567890Z",
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00z",
            "+2026-01-01T00:00:00Z",
            "2026-01-01T00:00:0aZ",
            "yesterday",
        ] {
            let json = serde_json::to_string(text).unwrap();
            let chrono = serde_json::from_str::<DateTime<Utc>>(&json).ok();
            let ours = stamp(&mut serde_json::Deserializer::from_str(&json)).ok();
            assert_eq!(ours, chrono, "{text}");
        }
    }

    proptest::proptest! {
        /// Every time this program writes (through chrono's serde) reads back the same.
        #[test]
        fn written_times_read_back(secs in 0i64..8_000_000_000, nanos in 0u32..1_000_000_000, trim in 0u32..4) {
            let nanos = nanos - nanos % 10u32.pow(3 * trim);
            let t = DateTime::<Utc>::from_timestamp(secs, nanos).unwrap();
            let json = serde_json::to_string(&t).unwrap();
            let text: String = serde_json::from_str(&json).unwrap();
            proptest::prop_assert_eq!(utc_stamp(text.as_bytes()), Some(t), "{}", json);
        }
    }

    #[test]
    fn strings_are_borrowed_unless_escaped() {
        let text = exchange_line().to_string();
        let line = LineRef::parse(&text).unwrap();
        assert!(matches!(line.id.0, Cow::Borrowed("e1")));
        let meta = line.meta();
        assert_eq!(meta.headers.get("merchant-serial-number"), Some("123456"));
        assert_eq!(meta.headers.get("X"), Some("a\"b"));
        assert_eq!(line.request_body.get(), r#"{"reference":"acme-1"}"#);
        let mut line = LineRef::parse(&text).unwrap();
        let response = std::mem::take(&mut line.response_body);
        let body = crate::rules::Body::of_request_json(line.request_body.get(), response);
        assert_eq!(body.reference.as_deref(), Some("acme-1"));
        assert!(!meta.provoked);
    }
}

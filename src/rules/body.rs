//! The few body fields the rules read, taken out once per exchange.
//!
//! `run` hands the rules exchanges whose bodies are already
//! `serde_json::Value`s ([`Body::of_values`]). `audit` reads millions of
//! journal lines, and building a `Value` for every body was about a third of
//! its time; it reads the same fields straight from the JSON text, borrowing
//! strings from the line and skipping the rest: the response's
//! ([`ResponseFields`]) in the same pass as the line (the audit's
//! `LineRef`), the request's in
//! [`Body::of_request_json`].
//!
//! Both readings must agree, field for field, on every body. The direct one
//! is strict: it takes only JSON objects (never an array read by position),
//! exact types and no duplicate fields, and on anything else it falls back to
//! the `Value` reading. A property test holds the two to each other.

use std::borrow::Cow;
use std::fmt;
use std::hash::Hasher;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// What the rules read of a request and its answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Body<'a> {
    /// Request `reference` (a create's).
    pub reference: Option<Cow<'a, str>>,
    /// Request `amount.value` (a create's).
    pub amount: Option<i64>,
    /// Request `modificationAmount.value` (capture, refund, cancel).
    pub modification: Option<i64>,
    /// Request `returnUrl` (a create's).
    pub return_url: Option<Cow<'a, str>>,
    /// Request `url` (a webhook registration's).
    pub url: Option<Cow<'a, str>>,
    /// The request body, hashed (see [`key_of_json`]): tells one operation from another.
    pub request_key: u64,
    /// Response `state`.
    pub state: Option<Cow<'a, str>>,
    /// Response `aggregate.{authorized,captured,refunded,cancelled}Amount.value`.
    pub authorized: Option<i64>,
    pub captured: Option<i64>,
    pub refunded: Option<i64>,
    pub cancelled: Option<i64>,
    /// The `name` of each element of a response that is an array (the event log).
    pub events: Vec<Cow<'a, str>>,
}

fn int_at(v: &Value, path: &[&str]) -> Option<i64> {
    let mut v = v;
    for p in path {
        v = v.get(p)?;
    }
    v.as_i64()
}

fn str_at<'a>(v: &'a Value, field: &str) -> Option<Cow<'a, str>> {
    v.get(field).and_then(Value::as_str).map(Cow::Borrowed)
}

/// A hash of a body's JSON text with the whitespace between tokens left out:
/// the same body hashes the same whether it was written compactly (as
/// journals are, and as `Value::to_string` writes) or spaced out. Keys are
/// taken in the order written, which for journals this program writes is the
/// sorted order `Value` keeps.
pub fn key_of_json(text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let bytes = text.as_bytes();
    let (mut in_string, mut escaped, mut start) = (false, false, 0);
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            h.write(&bytes[start..i]);
            start = i + 1;
        }
    }
    h.write(&bytes[start..]);
    h.finish()
}

impl<'a> Body<'a> {
    /// Reads the fields from parsed bodies (`run`'s exchanges).
    pub fn of_values(request: &'a Value, response: &'a Value) -> Body<'a> {
        Body {
            request_key: key_of_json(&request.to_string()),
            ..Body::of_parsed(request, response)
        }
    }

    fn of_parsed(request: &'a Value, response: &'a Value) -> Body<'a> {
        let agg = |f: &str| int_at(response, &["aggregate", f, "value"]);
        Body {
            reference: str_at(request, "reference"),
            amount: int_at(request, &["amount", "value"]),
            modification: int_at(request, &["modificationAmount", "value"]),
            return_url: str_at(request, "returnUrl"),
            url: str_at(request, "url"),
            request_key: 0,
            state: str_at(response, "state"),
            authorized: agg("authorizedAmount"),
            captured: agg("capturedAmount"),
            refunded: agg("refundedAmount"),
            cancelled: agg("cancelledAmount"),
            events: response
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e.get("name").and_then(Value::as_str).map(Cow::Borrowed))
                .collect(),
        }
    }

    /// Reads the request's fields from its JSON text (a single JSON value),
    /// borrowing strings that hold no escapes; the response's were read
    /// already, as part of the journal line. Gives the same as
    /// [`Body::of_values`] on the parsed text: an object's fields, nothing
    /// from any other value, and the `Value` reading on anything the direct
    /// one refuses (a duplicate field).
    pub fn of_request_json(request: &'a str, response: ResponseFields<'a>) -> Body<'a> {
        let fields = match serde_json::from_str::<MaybeObj<Request<'a>>>(request) {
            Ok(MaybeObj(r)) => {
                let r = r.unwrap_or_default();
                Body {
                    reference: r.reference.and_then(Str::into_str),
                    amount: r.amount.and_then(Money::value),
                    modification: r.modification_amount.and_then(Money::value),
                    return_url: r.return_url.and_then(Str::into_str),
                    url: r.url.and_then(Str::into_str),
                    ..Body::default()
                }
            }
            Err(_) => Body::owned_parse(request, "null"),
        };
        Body {
            request_key: key_of_json(request),
            state: response.state,
            authorized: response.authorized,
            captured: response.captured,
            refunded: response.refunded,
            cancelled: response.cancelled,
            events: response.events,
            ..fields
        }
    }

    /// The slow, always-faithful way: through `Value`.
    fn owned_parse(request: &str, response: &str) -> Body<'static> {
        let request: Value = serde_json::from_str(request).unwrap_or(Value::Null);
        let response: Value = serde_json::from_str(response).unwrap_or(Value::Null);
        Body::of_parsed(&request, &response).into_owned()
    }

    /// The same fields, with every string copied out of what it borrowed from.
    fn into_owned(self) -> Body<'static> {
        let own = |c: Option<Cow<'_, str>>| c.map(|s| Cow::Owned(s.into_owned()));
        Body {
            reference: own(self.reference),
            return_url: own(self.return_url),
            url: own(self.url),
            state: own(self.state),
            events: self
                .events
                .into_iter()
                .map(|s| Cow::Owned(s.into_owned()))
                .collect(),
            ..self
        }
    }
}

/// The visitor methods for every JSON value but an object and an array:
/// each gives `$none` (the value has none of the fields looked for).
macro_rules! scalars_give {
    ($t:ty, $none:expr) => {
        fn visit_str<E>(self, _: &str) -> Result<$t, E> {
            Ok($none)
        }
        non_strings_give!($t, $none);
    };
}

/// The visitor methods for a JSON boolean, number or null: each gives `$none`.
macro_rules! non_strings_give {
    ($t:ty, $none:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<$t, E> {
            Ok($none)
        }
        fn visit_i64<E>(self, _: i64) -> Result<$t, E> {
            Ok($none)
        }
        fn visit_u64<E>(self, _: u64) -> Result<$t, E> {
            Ok($none)
        }
        fn visit_f64<E>(self, _: f64) -> Result<$t, E> {
            Ok($none)
        }
        fn visit_unit<E>(self) -> Result<$t, E> {
            Ok($none)
        }
        fn visit_none<E>(self) -> Result<$t, E> {
            Ok($none)
        }
    };
}

fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// A response body's fields, read directly from any JSON value: a payment's
/// state and aggregate from an object, the event names from an array. An
/// error (a duplicate field, an element of the event log that is not an
/// object) means the caller reads through `Value` instead.
#[derive(Debug, Default)]
pub struct ResponseFields<'a> {
    state: Option<Cow<'a, str>>,
    authorized: Option<i64>,
    captured: Option<i64>,
    refunded: Option<i64>,
    cancelled: Option<i64>,
    events: Vec<Cow<'a, str>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for ResponseFields<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = ResponseFields<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ResponseFields<'a>, A::Error> {
                let r = Response::deserialize(MapAccessDeserializer::new(map))?;
                let mut fields = ResponseFields {
                    state: r.state.and_then(Str::into_str),
                    ..ResponseFields::default()
                };
                if let Some(a) = r.aggregate.and_then(|a| a.0) {
                    fields.authorized = a.authorized_amount.and_then(Money::value);
                    fields.captured = a.captured_amount.and_then(Money::value);
                    fields.refunded = a.refunded_amount.and_then(Money::value);
                    fields.cancelled = a.cancelled_amount.and_then(Money::value);
                }
                Ok(fields)
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<ResponseFields<'a>, A::Error> {
                let mut events = Vec::new();
                while let Some(Obj(e)) = seq.next_element::<Obj<Event<'a>>>()? {
                    events.extend(e.name.and_then(Str::into_str));
                }
                Ok(ResponseFields {
                    events,
                    ..ResponseFields::default()
                })
            }
            scalars_give!(ResponseFields<'a>, ResponseFields::default());
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A field as `Value::get(..).as_str()` reads it: a string, or anything else
/// (read through and dropped), never an error. Strings are borrowed when
/// they can be.
#[derive(Debug)]
struct Str<'a>(Option<Cow<'a, str>>);

impl<'a> Str<'a> {
    fn into_str(self) -> Option<Cow<'a, str>> {
        self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Str<'a>, E> {
                Ok(Str(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Str<'a>, E> {
                Ok(Str(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E>(self, v: String) -> Result<Str<'a>, E> {
                Ok(Str(Some(Cow::Owned(v))))
            }
            non_strings_give!(Str<'a>, Str(None));
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Str<'a>, A::Error> {
                skip_seq(seq)?;
                Ok(Str(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Str<'a>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Str(None))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A JSON object read into `T`, and nothing else: serde's derived structs
/// also take an array, field by field in order, which `Value::get` never
/// does. Any other value is an error (the caller then reads through `Value`).
#[derive(Debug)]
struct Obj<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Obj)
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// An object field that may be anything: `Some` when it is an object.
/// `null` and other values read as "no such object", as `Value::get` does.
#[derive(Debug)]
struct MaybeObj<T>(Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for MaybeObj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = MaybeObj<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<MaybeObj<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|t| MaybeObj(Some(t)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<MaybeObj<T>, A::Error> {
                skip_seq(seq)?;
                Ok(MaybeObj(None))
            }
            scalars_give!(MaybeObj<T>, MaybeObj(None));
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// `{"value": n}` as `Value::get("value").as_i64()` reads it.
#[derive(Debug, serde::Deserialize)]
struct MoneyFields {
    value: Option<Int>,
}

type Money = MaybeObj<MoneyFields>;

impl Money {
    fn value(self) -> Option<i64> {
        self.0.and_then(|m| m.value).and_then(|Int(v)| v)
    }
}

/// A number as `Value::as_i64` reads it: `Some` for an integer that fits
/// i64, `None` for anything else (a float, a string, a bigger integer).
#[derive(Debug)]
struct Int(Option<i64>);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Int, E> {
                Ok(Int(Some(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Int, E> {
                Ok(Int(i64::try_from(v).ok()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_unit<E>(self) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_none<E>(self) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Int, A::Error> {
                skip_seq(seq)?;
                Ok(Int(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Int, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Int(None))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request<'a> {
    #[serde(borrow)]
    reference: Option<Str<'a>>,
    amount: Option<Money>,
    modification_amount: Option<Money>,
    #[serde(borrow)]
    return_url: Option<Str<'a>>,
    #[serde(borrow)]
    url: Option<Str<'a>>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Aggregate {
    authorized_amount: Option<Money>,
    captured_amount: Option<Money>,
    refunded_amount: Option<Money>,
    cancelled_amount: Option<Money>,
}

#[derive(Debug, serde::Deserialize)]
struct Response<'a> {
    #[serde(borrow)]
    state: Option<Str<'a>>,
    aggregate: Option<MaybeObj<Aggregate>>,
}

#[derive(Debug, serde::Deserialize)]
struct Event<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// Both bodies read directly from their text, as `audit` reads them (a
    /// response the direct reading refuses makes `audit` read the whole
    /// line the slow way; here, the response alone).
    fn of_json<'a>(request: &'a str, response: &'a str) -> Body<'a> {
        let fields = serde_json::from_str::<ResponseFields<'a>>(response).unwrap_or_else(|_| {
            let b = Body::owned_parse("null", response);
            ResponseFields {
                state: b.state,
                authorized: b.authorized,
                captured: b.captured,
                refunded: b.refunded,
                cancelled: b.cancelled,
                events: b.events,
            }
        });
        Body::of_request_json(request, fields)
    }

    fn both(request: &str, response: &str) -> (Body<'static>, Body<'static>) {
        let rq: Value = serde_json::from_str(request).unwrap();
        let rs: Value = serde_json::from_str(response).unwrap();
        // The key is of the text: a float parsed and written again may
        // change its last digit, so `of_values` keys what `Value` writes.
        let slow = Body {
            request_key: key_of_json(request),
            ..Body::of_values(&rq, &rs)
        };
        let fast = of_json(request, response);
        (slow.into_owned(), fast.into_owned())
    }

    #[test]
    fn a_payment_and_a_create_are_read_directly_and_borrowed() {
        let request = r#"{"amount":{"currency":"NOK","value":1000},"reference":"acme-1","returnUrl":"https://s/r?reference=acme-1"}"#;
        let response = r#"{"aggregate":{"authorizedAmount":{"currency":"NOK","value":1000},"capturedAmount":{"currency":"NOK","value":400}},"state":"AUTHORIZED"}"#;
        let b = of_json(request, response);
        assert!(matches!(b.reference, Some(Cow::Borrowed("acme-1"))));
        assert!(matches!(b.state, Some(Cow::Borrowed("AUTHORIZED"))));
        assert_eq!(b.amount, Some(1000));
        assert_eq!(
            (b.authorized, b.captured, b.refunded),
            (Some(1000), Some(400), None)
        );
        let (slow, fast) = both(request, response);
        assert_eq!(slow, fast);
    }

    #[test]
    fn odd_bodies_read_as_value_reads_them() {
        for (request, response) in [
            // An array is never read field by field, in order.
            (r#"["acme-1", {"value": 5}]"#, r#"["AUTHORIZED"]"#),
            (r#"{"amount": [5]}"#, r#"{"aggregate": ["x"], "state": 5}"#),
            // Not an integer that fits i64.
            (
                r#"{"amount": {"value": 1.0}}"#,
                r#"{"aggregate": {"capturedAmount": {"value": 18446744073709551615}}}"#,
            ),
            (
                r#"{"amount": {"value": "10"}}"#,
                r#"{"aggregate": {"capturedAmount": {"value": 1e300}}}"#,
            ),
            // Duplicate fields: Value keeps the last.
            (
                r#"{"reference": "a", "reference": "b"}"#,
                r#"{"state": "CREATED", "state": "ABORTED"}"#,
            ),
            (
                r#"{"amount": {"value": 1, "value": 2}}"#,
                r#"{"aggregate": {"capturedAmount": {"value": 1}, "capturedAmount": null}}"#,
            ),
            // Escapes cannot be borrowed.
            (
                r#"{"returnUrl": "https://s/r?a=1\u0026reference=x\"y"}"#,
                r#"[{"name": "CAP\u0054URED"}, 5, {"name": null}]"#,
            ),
            (
                r#"{"url": null, "reference": {"x": 1}}"#,
                r#"[{"name": "CREATED"}, ["AUTHORIZED"]]"#,
            ),
            ("null", "\"text\""),
            ("  { \"reference\" : \"spaced-1\" }  ", "  12  "),
        ] {
            let (slow, fast) = both(request, response);
            assert_eq!(slow, fast, "{request} / {response}");
        }
    }

    #[test]
    fn spacing_does_not_change_a_body_key_but_content_does() {
        let compact = r#"{"a":"x y","b":[1,2]}"#;
        let spaced = "{ \"a\" : \"x y\",\n  \"b\" : [ 1, 2 ] }";
        assert_eq!(key_of_json(compact), key_of_json(spaced));
        assert_ne!(key_of_json(compact), key_of_json(r#"{"a":"xy","b":[1,2]}"#));
        assert_ne!(
            key_of_json(r#"{"a":"x\" y"}"#),
            key_of_json(r#"{"a":"x\"y"}"#)
        );
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let key = prop::sample::select(vec![
            "reference",
            "amount",
            "value",
            "modificationAmount",
            "returnUrl",
            "url",
            "state",
            "aggregate",
            "authorizedAmount",
            "capturedAmount",
            "refundedAmount",
            "cancelledAmount",
            "name",
            "currency",
            "other",
        ]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "[a-zA-Z0-9\"\\\\/ é\u{1F600}-]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map(key.clone().prop_map(str::to_owned), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// On any JSON, written compactly or spaced out, the direct reading
        /// gives exactly what the `Value` reading gives.
        #[test]
        fn the_direct_reading_agrees_with_value(request in json_value(), response in json_value(), pretty: bool) {
            let write = |v: &Value| if pretty { serde_json::to_string_pretty(v).unwrap() } else { v.to_string() };
            let (slow, fast) = both(&write(&request), &write(&response));
            prop_assert_eq!(slow, fast);
            let compact = request.to_string();
            prop_assert_eq!(key_of_json(&compact), key_of_json(&serde_json::to_string_pretty(&request).unwrap()));
            prop_assert_eq!(Body::of_values(&request, &response).request_key, key_of_json(&compact));
        }
    }

    #[test]
    fn an_event_log_gives_its_names() {
        let log = json!([{"name": "CREATED"}, {"name": "AUTHORIZED", "amount": {"value": 1}}])
            .to_string();
        let b = of_json("null", &log);
        assert_eq!(
            b.events,
            vec![Cow::Borrowed("CREATED"), Cow::Borrowed("AUTHORIZED")]
        );
    }
}

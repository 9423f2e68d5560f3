//! `Secret`: a credential whose value never leaves through Debug, Display or Serialize.

use std::fmt;

/// A credential (client secret, subscription key, access token...).
///
/// `Debug` and `Display` print `Secret(…<fingerprint>)`, `Serialize` writes the
/// same redacted form, so a secret that ends up in a log line, a panic message
/// or a journal shows only the first 8 hex digits of its SHA-256, enough to
/// tell two keys apart and nothing more. The value itself is reachable only
/// through [`Secret::expose`], which callers use at the last moment (building
/// a header).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Character length of the value (safe to show: it says nothing of the content).
    pub fn len(&self) -> usize {
        self.0.chars().count()
    }

    /// First 8 hex digits of the value's SHA-256.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.0)
    }
}

/// First 8 hex digits of the SHA-256 of `value`; redaction owns the rule.
pub use crate::domain::redact::fingerprint;

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(…{})", self.fingerprint())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "…{}", self.fingerprint())
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("…{}", self.fingerprint()))
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_display_and_serialize_never_show_the_value() {
        let s = Secret::new("hunter2-planted-value");
        for shown in [
            format!("{s:?}"),
            format!("{s}"),
            format!("{s:#?}"),
            serde_json::to_string(&s).unwrap_or_default(),
        ] {
            assert!(!shown.contains("hunter2"), "leaked in {shown}");
            assert!(shown.contains(&s.fingerprint()));
        }
    }

    #[test]
    fn fingerprint_is_first_eight_hex_of_sha256() {
        // sha256("abc") = ba7816bf...
        assert_eq!(fingerprint("abc"), "ba7816bf");
    }
}

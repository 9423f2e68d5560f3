//! QA-HEADERS: the headers every request to the API must carry, each
//! present, not empty, short enough and not a placeholder left from an example.

use std::sync::OnceLock;

use crate::domain::checklist::ChecklistId;
use crate::domain::headers::MAX_SYSTEM_HEADER_LEN;
use crate::domain::redact::mask;
use crate::evidence::model::Severity;

use super::{Operation, Sink, View};

/// Headers every API request carries (Authorization not on the token call).
pub const REQUIRED: [&str; 7] = [
    "Authorization",
    "Ocp-Apim-Subscription-Key",
    "Merchant-Serial-Number",
    "Vipps-System-Name",
    "Vipps-System-Version",
    "Vipps-System-Plugin-Name",
    "Vipps-System-Plugin-Version",
];

/// Values left from documentation, SDK samples and the Postman collections.
/// Compared lower-cased; redacted headers are compared by fingerprint.
pub const PLACEHOLDERS: &[&str] = &[
    "test",
    "testing",
    "string",
    "example",
    "sample",
    "acme",
    "acme-webshop",
    "acme-shop",
    "foo",
    "bar",
    "todo",
    "changeme",
    "change-me",
    "xxx",
    "null",
    "undefined",
    "none",
    "n/a",
    "your-system-name",
    "my-system",
    "vipps_system_name",
    "vipps_system_version",
    "vipps_system_plugin_name",
    "vipps_system_plugin_version",
    "<subscription-key>",
    "your-subscription-key",
    "ocp_apim_subscription_key",
];

/// What is wrong with one header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Missing,
    Empty,
    /// Longer than 30 characters (Vipps-System-*).
    TooLong(usize),
    /// An unresolved `{{variable}}` or a sample value.
    Placeholder,
    /// Not `^[0-9]{4,7}$` (Merchant-Serial-Number).
    MsnPattern,
    /// Authorization without the `Bearer` scheme.
    NotBearer,
}

impl Problem {
    fn rule(self) -> &'static str {
        match self {
            Problem::Missing => "headers.missing",
            Problem::Empty => "headers.empty",
            Problem::TooLong(_) => "headers.too-long",
            Problem::Placeholder => "headers.placeholder",
            Problem::MsnPattern => "headers.msn-pattern",
            Problem::NotBearer => "headers.not-bearer",
        }
    }

    fn describe(self, name: &str) -> String {
        match self {
            Problem::Missing => format!("`{name}` is missing"),
            Problem::Empty => format!("`{name}` is empty"),
            Problem::TooLong(n) => {
                format!("`{name}` is {n} characters long (at most {MAX_SYSTEM_HEADER_LEN})")
            }
            Problem::Placeholder => format!("`{name}` is a placeholder left from an example"),
            Problem::MsnPattern => format!("`{name}` is not 4 to 7 digits"),
            Problem::NotBearer => format!("`{name}` is not `Bearer <access token>`"),
        }
    }
}

fn masked_placeholders() -> &'static Vec<String> {
    static MASKED: OnceLock<Vec<String>> = OnceLock::new();
    MASKED.get_or_init(|| PLACEHOLDERS.iter().map(|p| mask(p)).collect())
}

fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    if v.starts_with("{{") || v.starts_with("<") && v.ends_with('>') {
        return true;
    }
    // No allocation: this runs for seven headers of every exchange.
    PLACEHOLDERS.iter().any(|p| p.eq_ignore_ascii_case(v))
        || (v.starts_with('…') && masked_placeholders().iter().any(|m| m == v))
}

/// The decision table for one header: what is wrong with `value` (as
/// recorded, so redacted for Authorization and the subscription key), if anything.
pub fn judge(name: &str, value: Option<&str>) -> Option<Problem> {
    let Some(value) = value else {
        return Some(Problem::Missing);
    };
    if value.trim().is_empty() {
        return Some(Problem::Empty);
    }
    if name.eq_ignore_ascii_case("Authorization") {
        let Some((scheme, token)) = value.trim().split_once(' ') else {
            return Some(Problem::NotBearer);
        };
        if scheme != "Bearer" {
            return Some(Problem::NotBearer);
        }
        return is_placeholder(token).then_some(Problem::Placeholder);
    }
    if is_placeholder(value) {
        return Some(Problem::Placeholder);
    }
    if name.eq_ignore_ascii_case("Merchant-Serial-Number") {
        let ok = (4..=7).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit());
        return (!ok).then_some(Problem::MsnPattern);
    }
    let len = value.chars().count();
    let system = name
        .get(..13)
        .is_some_and(|p| p.eq_ignore_ascii_case("vipps-system-"));
    if system && len > MAX_SYSTEM_HEADER_LEN {
        return Some(Problem::TooLong(len));
    }
    None
}

/// The header rule's state: each required header's last value and its
/// verdict. Each exchange is judged on its own, but a shop sends the same
/// values on every request, so a value seen just before is not judged again.
#[derive(Debug, Default)]
pub struct Headers {
    last: [Option<(String, Option<Problem>)>; REQUIRED.len()],
}

impl Headers {
    pub fn observe(&mut self, view: &View<'_>, sink: &mut Sink) {
        if matches!(view.op, Operation::Landing) {
            return;
        }
        let mut problems: Vec<(&'static str, Problem)> = Vec::new();
        for (name, last) in REQUIRED.into_iter().zip(&mut self.last) {
            // The token call authenticates with client_id / client_secret.
            if name == "Authorization" && view.op == Operation::Token {
                continue;
            }
            let value = view.header(name);
            let problem = match (value, &mut *last) {
                (Some(v), Some((seen, problem))) if seen == v => *problem,
                (Some(v), _) => {
                    let problem = judge(name, Some(v));
                    *last = Some((v.to_owned(), problem));
                    problem
                }
                (None, _) => judge(name, None),
            };
            if let Some(p) = problem {
                problems.push((name, p));
            }
        }
        // One finding per exchange and kind of problem, naming every header.
        let mut kinds: Vec<&'static str> = problems.iter().map(|(_, p)| p.rule()).collect();
        kinds.dedup();
        for rule in kinds {
            let these: Vec<String> = problems
                .iter()
                .filter(|(_, p)| p.rule() == rule)
                .map(|(n, p)| p.describe(n))
                .collect();
            sink.raise(
                ChecklistId::QaHeaders,
                rule,
                Severity::Fail,
                Some(view),
                || {
                    (
                        format!("{} on {}", these.join("; "), view.describe()),
                        advice(rule),
                    )
                },
            );
        }
    }
}

fn advice(rule: &str) -> String {
    match rule {
        "headers.missing" | "headers.empty" => "send Authorization, Ocp-Apim-Subscription-Key, Merchant-Serial-Number and the four Vipps-System-* headers on every request to Vipps (set them once in the HTTP client, not per call); if there is no plugin, repeat the system name and version in the plugin headers",
        "headers.too-long" => "keep each Vipps-System-* value at most 30 characters: a short lowercase name (`acme-shop`) and a version (`4.5.6`)",
        "headers.placeholder" => "replace the example value with your system's real name and version (or your real key/token): Vipps uses these headers to find your traffic when you ask for help",
        "headers.msn-pattern" => "send your sales unit's merchant serial number (4 to 7 digits) as Merchant-Serial-Number",
        _ => "send `Authorization: Bearer <access token>` from POST /accesstoken/get (`Bearer` with a capital B)",
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_decision_table_for_one_header() {
        assert_eq!(judge("Vipps-System-Name", None), Some(Problem::Missing));
        assert_eq!(judge("Vipps-System-Name", Some(" ")), Some(Problem::Empty));
        assert_eq!(
            judge("Vipps-System-Name", Some("acme")),
            Some(Problem::Placeholder)
        );
        assert_eq!(
            judge("Vipps-System-Name", Some("{{vipps_system_name}}")),
            Some(Problem::Placeholder)
        );
        assert_eq!(judge("Vipps-System-Name", Some("woocommerce")), None);
        assert_eq!(
            judge("Vipps-System-Version", Some(&"1".repeat(31))),
            Some(Problem::TooLong(31))
        );
        assert_eq!(
            judge("Merchant-Serial-Number", Some("12a456")),
            Some(Problem::MsnPattern)
        );
        assert_eq!(judge("Merchant-Serial-Number", Some("123456")), None);
        assert_eq!(
            judge("Authorization", Some("bearer …0a1b2c3d")),
            Some(Problem::NotBearer)
        );
        assert_eq!(
            judge("Authorization", Some(&format!("Bearer {}", mask("test")))),
            Some(Problem::Placeholder)
        );
        assert_eq!(
            judge("Ocp-Apim-Subscription-Key", Some(&mask("string"))),
            Some(Problem::Placeholder)
        );
        assert_eq!(
            judge("Ocp-Apim-Subscription-Key", Some(&mask("a-real-key"))),
            None
        );
    }

    proptest! {
        #[test]
        fn system_values_pass_exactly_when_short_and_not_samples(v in "[a-z0-9.-]{1,40}") {
            let verdict = judge("Vipps-System-Plugin-Name", Some(&v));
            let expected = if PLACEHOLDERS.contains(&v.as_str()) {
                Some(Problem::Placeholder)
            } else if v.len() > MAX_SYSTEM_HEADER_LEN {
                Some(Problem::TooLong(v.len()))
            } else {
                None
            };
            prop_assert_eq!(verdict, expected);
        }

        #[test]
        fn msn_passes_exactly_when_four_to_seven_digits(v in "[0-9a-z]{1,9}") {
            let ok = (4..=7).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit());
            let verdict = judge("Merchant-Serial-Number", Some(&v));
            prop_assert_eq!(verdict.is_none(), ok);
        }
    }
}

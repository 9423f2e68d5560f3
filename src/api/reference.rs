//! Payment references: a generator of the recommended `<prefix>-<order>-<attempt>`
//! shape, and a linter for the PF-REFERENCE rules that returns findings as data.

use std::collections::HashMap;
use std::fmt;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// Shortest reference the ePayment API accepts.
pub const MIN_LEN: usize = 8;
/// Longest reference the ePayment API v1.4.1 accepts (OPEN(§16.3): newer
/// material says 64; 50 is the limit that works everywhere).
pub const MAX_LEN: usize = 50;
/// Longest prefix the generator keeps, leaving room for order and attempt.
const MAX_PREFIX: usize = 20;

/// Makes references like `acme-shop-order123-1` that always pass the linter:
/// `[a-zA-Z0-9-]`, 8 to 50 characters, starting with a letter (so never
/// digits only and never a leading zero).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceGenerator {
    prefix: String,
}

impl ReferenceGenerator {
    /// A generator for `prefix` (e.g. the shop name, or `msn123456`). The
    /// prefix is cleaned: characters outside `[a-zA-Z0-9-]` dropped, at most
    /// 20 characters, and `ref-` put in front when it does not start with a letter.
    pub fn new(prefix: &str) -> Self {
        let mut p = clean(prefix);
        if !p.starts_with(|c: char| c.is_ascii_alphabetic()) {
            p = if p.is_empty() {
                "ref".into()
            } else {
                format!("ref-{p}")
            };
        }
        p.truncate(MAX_PREFIX);
        let p = p.trim_end_matches('-').to_owned();
        ReferenceGenerator { prefix: p }
    }

    /// The cleaned prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `<prefix>-<order>-<attempt>`. `attempt` starts at 1; a retry of the
    /// same cart uses 2, 3, ... The order part is cleaned like the prefix,
    /// shortened to fit 50 characters, and zero-padded to reach 8.
    pub fn reference(&self, order: &str, attempt: u32) -> String {
        let attempt = attempt.max(1).to_string();
        let mut order = clean(order);
        if order.is_empty() {
            order = "order".into();
        }
        let room = MAX_LEN - self.prefix.len() - attempt.len() - 2;
        if order.len() > room {
            order.truncate(room);
            order = order.trim_end_matches('-').to_owned();
        }
        let len = self.prefix.len() + order.len() + attempt.len() + 2;
        if len < MIN_LEN {
            order = format!("{}{order}", "0".repeat(MIN_LEN - len));
        }
        format!("{}-{order}-{attempt}", self.prefix)
    }

    /// A reference for a new order with a random 10-character order part.
    pub fn fresh(&self) -> String {
        const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
        let mut rng = rand::thread_rng();
        let order: String = (0..10)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect();
        self.reference(&order, 1)
    }
}

/// Keeps `[a-zA-Z0-9-]`, collapses runs of `-`, trims `-` at both ends.
fn clean(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let c = if c.is_ascii_alphanumeric() {
            c
        } else if c == '-' || c == '_' || c == ' ' || c == '.' || c == '/' {
            '-'
        } else {
            continue;
        };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        out.push(c);
    }
    out.trim_end_matches('-').to_owned()
}

/// A PF-REFERENCE rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceRule {
    /// Only `[a-zA-Z0-9-]` is allowed.
    Pattern,
    /// 8 to 50 characters.
    Length,
    /// Not digits only (slow lookups, easily confused with order numbers).
    DigitsOnly,
    /// No leading zero (lost when a system reads it as a number).
    LeadingZero,
    /// Unique per merchant serial number.
    Duplicate,
}

impl ReferenceRule {
    /// The rule in words.
    pub fn describe(self) -> &'static str {
        match self {
            ReferenceRule::Pattern => "only letters a-z/A-Z, digits and '-' are allowed",
            ReferenceRule::Length => "must be 8 to 50 characters long",
            ReferenceRule::DigitsOnly => "must not be digits only",
            ReferenceRule::LeadingZero => "must not start with a zero",
            ReferenceRule::Duplicate => "must be unique per merchant serial number",
        }
    }
}

impl fmt::Display for ReferenceRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceFinding {
    pub reference: String,
    /// The MSN, for [`ReferenceRule::Duplicate`] and set lints.
    pub msn: Option<String>,
    pub rule: ReferenceRule,
}

impl fmt::Display for ReferenceFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "reference `{}` {}", self.reference, self.rule)
    }
}

/// The rules one reference breaks, on its own (empty when it is clean).
pub fn lint_reference(reference: &str) -> Vec<ReferenceFinding> {
    let mut rules = Vec::new();
    if !reference
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        rules.push(ReferenceRule::Pattern);
    }
    let len = reference.chars().count();
    if !(MIN_LEN..=MAX_LEN).contains(&len) {
        rules.push(ReferenceRule::Length);
    }
    if !reference.is_empty() && reference.chars().all(|c| c.is_ascii_digit()) {
        rules.push(ReferenceRule::DigitsOnly);
    }
    if reference.starts_with('0') {
        rules.push(ReferenceRule::LeadingZero);
    }
    rules
        .into_iter()
        .map(|rule| ReferenceFinding {
            reference: reference.to_owned(),
            msn: None,
            rule,
        })
        .collect()
}

/// Lints a set of `(msn, reference)` pairs: each reference on its own, plus
/// [`ReferenceRule::Duplicate`] once for every reference seen again under the
/// same MSN (references are case-sensitive).
pub fn lint_references<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<ReferenceFinding> {
    let mut seen: HashMap<(&str, &str), u32> = HashMap::new();
    let mut findings = Vec::new();
    for (msn, reference) in pairs {
        let count = seen.entry((msn, reference)).or_insert(0);
        *count += 1;
        if *count == 1 {
            findings.extend(lint_reference(reference).into_iter().map(|mut f| {
                f.msn = Some(msn.to_owned());
                f
            }));
        } else if *count == 2 {
            findings.push(ReferenceFinding {
                reference: reference.to_owned(),
                msn: Some(msn.to_owned()),
                rule: ReferenceRule::Duplicate,
            });
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_makes_the_recommended_shape() {
        let g = ReferenceGenerator::new("acme-shop");
        assert_eq!(g.reference("order123", 1), "acme-shop-order123-1");
        assert_eq!(g.reference("order123", 2), "acme-shop-order123-2");
        assert_eq!(ReferenceGenerator::new("").reference("1", 1), "ref-01-1");
        assert!(ReferenceGenerator::new("0042").prefix().starts_with("ref-"));
    }

    #[test]
    fn linter_names_each_broken_rule() {
        let rules = |r: &str| {
            lint_reference(r)
                .into_iter()
                .map(|f| f.rule)
                .collect::<Vec<_>>()
        };
        assert!(rules("acme-shop-1").is_empty());
        assert_eq!(
            rules("0123456789"),
            vec![ReferenceRule::DigitsOnly, ReferenceRule::LeadingZero]
        );
        assert_eq!(rules("short"), vec![ReferenceRule::Length]);
        assert_eq!(rules("has space 123"), vec![ReferenceRule::Pattern]);
        assert_eq!(rules(&"a".repeat(51)), vec![ReferenceRule::Length]);
    }

    #[test]
    fn duplicates_count_per_msn_only() {
        let f = lint_references([
            ("123456", "acme-order-1"),
            ("654321", "acme-order-1"),
            ("123456", "acme-order-1"),
            ("123456", "acme-order-1"),
        ]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, ReferenceRule::Duplicate);
        assert_eq!(f[0].msn.as_deref(), Some("123456"));
    }
}

//! The reference lint (PF-REFERENCE): what makes a payment reference one the
//! ePayment API accepts and that stays useful. The client's generator is held
//! to it and the rules judge every recorded create with it, so the two can
//! never disagree about what a good reference is.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Shortest reference the ePayment API accepts.
pub const MIN_LEN: usize = 8;
/// Longest reference the ePayment API v1.4.1 accepts (OPEN(§16.3): newer
/// material says 64; 50 is the limit that works everywhere).
pub const MAX_LEN: usize = 50;

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
    pub(crate) fn describe(self) -> &'static str {
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

/// Follows the recommended shape `<shop>-<order>[-<attempt>]`: starts with a
/// letter and has at least two `-`-separated parts (`acme-order123`,
/// `acme-order123-2`). Advice, not a rule the API enforces.
pub(crate) fn recommended_shape(reference: &str) -> bool {
    reference.starts_with(|c: char| c.is_ascii_alphabetic())
        && reference.split('-').filter(|p| !p.is_empty()).count() >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn the_recommended_shape() {
        assert!(recommended_shape("acme-shop-123-order123abc"));
        assert!(recommended_shape("acme-1"));
        assert!(!recommended_shape("acmeorder123"));
        assert!(!recommended_shape("1-acme-order"));
    }
}

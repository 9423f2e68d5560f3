//! Payment references: a generator of the recommended `<prefix>-<order>-<attempt>`
//! shape. The PF-REFERENCE lint it is held to lives in the domain core
//! ([`crate::domain::reference`]), where the rules read it too; it is
//! re-exported here so the client's API keeps its names.

use rand::Rng;

pub use crate::domain::reference::{
    lint_reference, lint_references, ReferenceFinding, ReferenceRule, MAX_LEN, MIN_LEN,
};
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reference::recommended_shape;
    use proptest::prelude::*;

    #[test]
    fn generator_makes_the_recommended_shape() {
        let g = ReferenceGenerator::new("acme-shop");
        assert_eq!(g.reference("order123", 1), "acme-shop-order123-1");
        assert_eq!(g.reference("order123", 2), "acme-shop-order123-2");
        assert_eq!(ReferenceGenerator::new("").reference("1", 1), "ref-01-1");
        assert!(ReferenceGenerator::new("0042").prefix().starts_with("ref-"));
    }

    proptest! {
        #[test]
        fn a_recommended_reference_from_the_generator_always_lints_clean(
            prefix in "[a-zA-Z][a-zA-Z0-9]{0,15}", order in "[a-zA-Z0-9]{1,20}", attempt in 1u32..100
        ) {
            let r = ReferenceGenerator::new(&prefix).reference(&order, attempt);
            prop_assert!(lint_reference(&r).is_empty());
            prop_assert!(recommended_shape(&r));
        }
    }
}

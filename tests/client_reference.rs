//! References: the generator always makes ones the PF-REFERENCE linter
//! accepts, and the linter names each rule a reference breaks.

use proptest::prelude::*;
use vipps_golive::api::{lint_reference, lint_references, ReferenceGenerator, ReferenceRule};

proptest! {
    #[test]
    fn generated_references_always_lint_clean(prefix in ".{0,40}", order in ".{0,80}", attempt in 0u32..1_000_000) {
        let r = ReferenceGenerator::new(&prefix).reference(&order, attempt);
        prop_assert!(lint_reference(&r).is_empty(), "{r:?}: {:?}", lint_reference(&r));
    }

    #[test]
    fn fresh_references_lint_clean_and_differ(prefix in "[a-zA-Z0-9 _-]{0,30}") {
        let g = ReferenceGenerator::new(&prefix);
        let (a, b) = (g.fresh(), g.fresh());
        prop_assert!(lint_reference(&a).is_empty(), "{a}");
        prop_assert_ne!(a, b);
    }

    #[test]
    fn the_linter_agrees_with_the_api_pattern(s in "[a-zA-Z0-9-]{0,60}|.{0,20}") {
        let pattern_ok = s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && (8..=50).contains(&s.chars().count());
        let findings = lint_reference(&s);
        let breaks_pattern_or_length = findings
            .iter()
            .any(|f| matches!(f.rule, ReferenceRule::Pattern | ReferenceRule::Length));
        prop_assert_eq!(pattern_ok, !breaks_pattern_or_length);
    }
}

#[test]
fn the_generator_keeps_the_prefix_order_attempt_shape() {
    let g = ReferenceGenerator::new("msn123456");
    assert_eq!(g.reference("cart-991", 2), "msn123456-cart-991-2");
}

#[test]
fn a_digits_only_reference_with_a_leading_zero_breaks_two_rules() {
    let rules: Vec<_> = lint_reference("0012345678")
        .into_iter()
        .map(|f| f.rule)
        .collect();

    assert_eq!(
        rules,
        vec![ReferenceRule::DigitsOnly, ReferenceRule::LeadingZero]
    );
}

#[test]
fn the_same_reference_under_two_msns_is_no_duplicate() {
    let findings = lint_references([("123456", "acme-order-1"), ("654321", "acme-order-1")]);

    assert!(findings.is_empty());
}

#[test]
fn a_reference_reused_under_one_msn_is_reported_once() {
    let findings = lint_references([
        ("123456", "acme-order-1"),
        ("123456", "acme-order-1"),
        ("123456", "Acme-order-1"),
    ]);

    assert_eq!(
        findings.len(),
        1,
        "references are case-sensitive: {findings:?}"
    );
    assert_eq!(findings[0].rule, ReferenceRule::Duplicate);
}

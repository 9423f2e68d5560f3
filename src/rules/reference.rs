//! PF-REFERENCE: every reference a shop creates matches `^[a-zA-Z0-9-]{8,50}$`,
//! is not digits only, has no leading zero and is unique per MSN; advice
//! toward the recommended `<shop>-<order>[-<attempt>]` shape. The per-reference
//! lint is the domain's ([`crate::domain::reference`]), the one the client's
//! generator is held to.

use std::collections::{HashMap, HashSet};

use crate::domain::checklist::ChecklistId;
use crate::domain::reference::{lint_reference, recommended_shape, ReferenceRule};
use crate::evidence::model::Severity;

use super::{hash_of, Operation, Sink, View};

/// State: per (MSN, reference), the idempotency key and body of the create
/// that was answered 201; hashes only.
#[derive(Debug, Default)]
pub struct References {
    created: HashMap<u64, (u64, u64)>,
    linted: HashSet<u64>,
}

impl References {
    pub fn observe(&mut self, view: &View<'_>, sink: &mut Sink) {
        if view.op != Operation::Create {
            return;
        }
        let Some(reference) = view.reference else {
            sink.raise(ChecklistId::PfReference, "reference.missing", Severity::Fail, Some(view), || {
                (
                    format!("{} has no `reference` string in its body", view.describe()),
                    "send `reference` as a JSON string; a misspelled field name makes every payment share one rate-limit key and one lookup".into(),
                )
            });
            return;
        };
        let Some(key) = view.payment_key() else {
            return;
        };
        // Lint each reference once, not once per retry.
        if self.linted.insert(key) {
            for finding in lint_reference(reference) {
                let rule = match finding.rule {
                    ReferenceRule::Pattern => "reference.pattern",
                    ReferenceRule::Length => "reference.length",
                    ReferenceRule::DigitsOnly => "reference.digits-only",
                    ReferenceRule::LeadingZero => "reference.leading-zero",
                    ReferenceRule::Duplicate => "reference.duplicate",
                };
                sink.raise(ChecklistId::PfReference, rule, Severity::Fail, Some(view), || {
                    (
                        format!("reference `{reference}` {} ({})", finding.rule, view.describe()),
                        "use the recommended shape `<shop>-<order>[-<attempt>]`, e.g. `acme-shop-123-order123abc`: letters, digits and `-`, 8 to 50 characters, starting with a letter; purely numeric references are slow to look up and lose leading zeros".into(),
                    )
                });
            }
            if lint_reference(reference).is_empty() && !recommended_shape(reference) {
                sink.raise(ChecklistId::PfReference, "reference.shape", Severity::Info, Some(view), || {
                    (
                        format!("reference `{reference}` is valid but not in the recommended shape"),
                        "prefer `<shop>-<order>[-<attempt>]` (e.g. `acme-shop-123-order123abc`; prefix the MSN when there are several sales units, add `-2`, `-3` when the same cart is paid again): support staff and Vipps can then tell your payments apart at a glance".into(),
                    )
                });
            }
        }
        let idem = hash_of(&view.header("Idempotency-Key").unwrap_or(""));
        let body = view.body.request_key;
        match self.created.get(&key) {
            // A replay of the same create (same key, same body) is no duplicate.
            Some(&(k, b)) if k == idem && b == body => {}
            Some(_) => {
                sink.raise(ChecklistId::PfReference, "reference.duplicate", Severity::Fail, Some(view), || {
                    (
                        format!(
                            "reference `{reference}` was created again under MSN {} ({})",
                            view.msn.unwrap_or("(none)"),
                            view.describe()
                        ),
                        "make a new reference for every payment attempt (add `-2`, `-3` for a retry of the same cart); a reference is unique per merchant serial number for ever".into(),
                    )
                });
            }
            None => {
                if view.status == Some(201) {
                    self.created.insert(key, (idem, body));
                }
            }
        }
    }
}

//! Idempotency (part of QA-HEADERS): every create, cancel, capture and refund
//! carries an Idempotency-Key of at most 50 characters; a retry of the same
//! operation reuses its key (else a retried capture can capture twice); two
//! different operations never share one (else the second is answered with the
//! first one's result, or a conflict, and never happens).

use std::collections::HashMap;

use crate::domain::checklist::ChecklistId;
use crate::domain::headers::MAX_IDEMPOTENCY_KEY_LEN;
use crate::evidence::model::Severity;

use super::{hash_of, Sink, View};

/// What one POST's key says, given what came before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Missing,
    TooLong(usize),
    /// The same key on a different operation (path or body).
    Shared,
    /// The same operation, after a failure, with a new key.
    RetryNewKey,
}

/// An operation: MSN, method, path and body, hashed.
fn operation(view: &View<'_>) -> u64 {
    hash_of(&(
        view.msn.unwrap_or(""),
        view.method,
        view.path,
        view.body.request_key,
    ))
}

/// An answer after which the operation should be retried with the same key:
/// none at all, 5xx, 423, 429 (behaviour.md §6).
pub fn retryable(status: Option<u16>) -> bool {
    match status {
        None => true,
        Some(s) => s >= 500 || s == 423 || s == 429,
    }
}

/// State: per key, the operation it was first used for; per operation that
/// failed retryably, the key it was sent with. Eight bytes per key and per
/// failed operation.
#[derive(Debug, Default)]
pub struct Idempotency {
    ops_by_key: HashMap<u64, u64>,
    failed: HashMap<u64, u64>,
}

impl Idempotency {
    /// The decision for one POST that needs a key.
    pub fn judge(&mut self, key: Option<&str>, op: u64, status: Option<u16>) -> Option<Problem> {
        let Some(key) = key.filter(|k| !k.trim().is_empty()) else {
            return Some(Problem::Missing);
        };
        let len = key.chars().count();
        let key_hash = hash_of(&key);
        let mut problem = (len > MAX_IDEMPOTENCY_KEY_LEN).then_some(Problem::TooLong(len));
        match self.ops_by_key.get(&key_hash) {
            Some(first) if *first != op => problem = problem.or(Some(Problem::Shared)),
            Some(_) => {}
            None => {
                self.ops_by_key.insert(key_hash, op);
            }
        }
        if let Some(previous_key) = self.failed.get(&op) {
            if *previous_key != key_hash {
                problem = problem.or(Some(Problem::RetryNewKey));
            }
        }
        if retryable(status) {
            self.failed.insert(op, key_hash);
        } else {
            self.failed.remove(&op);
        }
        problem
    }

    pub fn observe(&mut self, view: &View<'_>, sink: &mut Sink) {
        if !view.op.needs_idempotency_key() {
            return;
        }
        let key = view.header("Idempotency-Key");
        let Some(problem) = self.judge(key, operation(view), view.status) else {
            return;
        };
        let (rule, what, advice) = match problem {
            Problem::Missing => (
                "idempotency.missing",
                "has no Idempotency-Key".to_owned(),
                "send an Idempotency-Key (a UUID) on every create, cancel, capture and refund, so a retry after a timeout cannot charge the customer twice",
            ),
            Problem::TooLong(n) => (
                "idempotency.too-long",
                format!("has an Idempotency-Key of {n} characters (at most {MAX_IDEMPOTENCY_KEY_LEN})"),
                "use a UUID (36 characters) or another key of at most 50 characters",
            ),
            Problem::Shared => (
                "idempotency.key-reused",
                format!(
                    "reuses the Idempotency-Key `{}` of a different operation",
                    key.unwrap_or_default()
                ),
                "make a new key for every new operation (each capture, each refund, each create); Vipps answers a reused key with the first operation's result or a conflict, and the second operation never happens",
            ),
            Problem::RetryNewKey => (
                "idempotency.retry-new-key",
                "retries an operation that failed (timeout, 5xx, 423 or 429) with a new Idempotency-Key".to_owned(),
                "keep the key of the first attempt for every retry of the same operation: with a new key a capture or refund whose first attempt did happen is done twice",
            ),
        };
        sink.raise(
            ChecklistId::QaHeaders,
            rule,
            Severity::Fail,
            Some(view),
            || (format!("{} {what}", view.describe()), advice.to_owned()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn missing_long_shared_and_renewed_keys_are_named() {
        let mut s = Idempotency::default();
        assert_eq!(s.judge(None, 1, Some(201)), Some(Problem::Missing));
        assert_eq!(
            s.judge(Some(&"k".repeat(51)), 1, Some(201)),
            Some(Problem::TooLong(51))
        );
        assert_eq!(s.judge(Some("a"), 2, Some(200)), None);
        assert_eq!(s.judge(Some("a"), 3, Some(200)), Some(Problem::Shared));
        // A retry with the same key after a 500 is right; with a new key, wrong.
        assert_eq!(s.judge(Some("b"), 4, Some(500)), None);
        assert_eq!(s.judge(Some("b"), 4, Some(200)), None);
        assert_eq!(s.judge(Some("c"), 5, None), None);
        assert_eq!(s.judge(Some("d"), 5, Some(200)), Some(Problem::RetryNewKey));
    }

    proptest! {
        /// Any sequence of operations, each with its own fresh key, retried
        /// any number of times with that key, is never flagged.
        #[test]
        fn one_key_per_operation_is_never_flagged(
            ops in proptest::collection::vec((0u64..20, proptest::option::of(200u16..600)), 1..60)
        ) {
            let mut s = Idempotency::default();
            for (op, status) in ops {
                let key = format!("key-{op}");
                prop_assert_eq!(s.judge(Some(&key), op, status), None);
            }
        }
    }
}

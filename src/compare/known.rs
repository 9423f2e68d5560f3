//! The simulator's documented deviations, as `compare` recognises them.
//!
//! Each entry is a row of "Known deviations as `compare` counts them" in
//! `docs/fidelity.md` (a test checks that every id is there). A difference
//! that matches one is shown, but counted apart: it is a choice the simulator
//! made where the sources are silent or disagree, not news about the API.
//! Matchers are narrow on purpose: a difference that only resembles a known
//! deviation stays unexpected.

use super::{DiffKind, Difference};

/// The heading's anchor in `docs/fidelity.md`.
pub const ANCHOR: &str = "known-deviations-as-compare-counts-them";

/// One documented deviation.
#[derive(Debug)]
pub struct KnownDeviation {
    pub id: &'static str,
    pub title: &'static str,
    matches: fn(&Facts<'_>) -> bool,
}

/// What the matchers look at.
#[derive(Debug)]
pub struct Facts<'a> {
    pub kind: DiffKind,
    /// The operation key, e.g. `POST /epayment/v1/payments #1`.
    pub operation: &'a str,
    pub statuses: (Option<u64>, Option<u64>),
    pub codes: (Option<u64>, Option<u64>),
}

impl Facts<'_> {
    fn status_pair(&self, a: u64, b: u64) -> bool {
        let s = (self.statuses.0.unwrap_or(0), self.statuses.1.unwrap_or(0));
        s == (a, b) || s == (b, a)
    }

    fn code_pair(&self, a: u64, b: u64) -> bool {
        let c = (self.codes.0.unwrap_or(0), self.codes.1.unwrap_or(0));
        c == (a, b) || c == (b, a)
    }
}

/// Every deviation `compare` counts apart.
pub const KNOWN: &[KnownDeviation] = &[
    KnownDeviation {
        id: "merchant-error-status",
        title: "The 5xxx merchant errors (5040, 5050, 5080) are answered 400; the real API may answer 403 (behaviour.md §5.2 OPEN)",
        matches: |f| {
            f.kind == DiffKind::Status
                && f.codes.0.is_some()
                && f.codes.0 == f.codes.1
                && f.codes.0.is_some_and(|c| (5000..6000).contains(&c))
                && f.status_pair(400, 403)
        },
    },
    KnownDeviation {
        id: "duplicate-reference-status",
        title: "A create with a reference already used is answered 409; the sources also allow 400 (§16.6)",
        matches: |f| {
            f.kind == DiffKind::Status
                && f.operation.starts_with("POST /epayment/v1/payments #")
                && f.status_pair(400, 409)
        },
    },
    KnownDeviation {
        id: "cancel-final-code",
        title: "Cancelling an ABORTED or EXPIRED payment gives 6050; the sources also allow 6190",
        matches: |f| f.kind == DiffKind::ErrorCode && f.code_pair(6050, 6190),
    },
    KnownDeviation {
        id: "concurrent-refusal",
        title: "A modification refused while another runs: 6090 here, or 423 (6160) when the real API is still processing",
        matches: |f| f.kind == DiffKind::Status && f.status_pair(400, 423) && f.code_pair(6090, 6160),
    },
    KnownDeviation {
        id: "second-cancel",
        title: "A second cancel of a TERMINATED payment is a 200 no-op here; the sources also allow a 400 (§16.10)",
        matches: |f| {
            f.kind == DiffKind::Status
                && f.operation.contains("/cancel #")
                && !f.operation.ends_with("/cancel #1")
                && f.status_pair(200, 400)
        },
    },
    KnownDeviation {
        id: "om-duplicate-status",
        title: "A second Order Management image or receipt is refused with 400; the sources also allow 409 (§16.16)",
        matches: |f| {
            f.kind == DiffKind::Status
                && f.operation.contains("/order-management/")
                && f.status_pair(400, 409)
        },
    },
];

/// The documented deviation `d` is an instance of, if any.
pub fn classify(d: &Difference) -> Option<&'static KnownDeviation> {
    let num = |v: &serde_json::Value, k: &str| v.get(k).and_then(serde_json::Value::as_u64);
    let facts = Facts {
        kind: d.kind,
        operation: &d.operation,
        statuses: (num(&d.simulator, "status"), num(&d.target, "status")),
        codes: (num(&d.simulator, "errorCode"), num(&d.target, "errorCode")),
    };
    KNOWN.iter().find(|k| (k.matches)(&facts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::Class;
    use serde_json::json;

    fn row(
        kind: DiffKind,
        operation: &str,
        sim: serde_json::Value,
        target: serde_json::Value,
    ) -> Difference {
        Difference {
            id: String::new(),
            kind,
            class: Class::Unexpected,
            scenario: String::new(),
            checklist_ids: vec![],
            operation: operation.into(),
            summary: String::new(),
            simulator: sim,
            target,
            simulator_reference: None,
            target_reference: None,
            deviation: None,
            allowed_by: None,
        }
    }

    #[test]
    fn every_known_deviation_is_documented_in_fidelity_md() {
        let doc = include_str!("../../docs/fidelity.md");
        assert!(doc.contains("## Known deviations as `compare` counts them"));
        for k in KNOWN {
            assert!(
                doc.contains(&format!("`{}`", k.id)),
                "{} is not in docs/fidelity.md",
                k.id
            );
        }
    }

    #[test]
    fn the_same_merchant_error_with_403_is_known_but_another_code_is_not() {
        let op = "POST /epayment/v1/payments #1";
        let d = row(
            DiffKind::Status,
            op,
            json!({"status": 400, "errorCode": 5080}),
            json!({"status": 403, "errorCode": 5080}),
        );
        assert_eq!(classify(&d).map(|k| k.id), Some("merchant-error-status"));
        let d = row(
            DiffKind::Status,
            op,
            json!({"status": 201, "errorCode": null}),
            json!({"status": 400, "errorCode": 5080}),
        );
        assert!(
            classify(&d).is_none(),
            "a gate the target has and the simulator not is news"
        );
        let d = row(
            DiffKind::Status,
            op,
            json!({"status": 400, "errorCode": 5050}),
            json!({"status": 403, "errorCode": 5080}),
        );
        assert!(classify(&d).is_none());
    }

    #[test]
    fn only_a_later_cancel_may_differ_as_the_second_cancel() {
        let (a, b) = (
            json!({"status": 200}),
            json!({"status": 400, "errorCode": 6050}),
        );
        let first = row(
            DiffKind::Status,
            "POST /epayment/v1/payments/{ref1}/cancel #1",
            a.clone(),
            b.clone(),
        );
        let second = row(
            DiffKind::Status,
            "POST /epayment/v1/payments/{ref1}/cancel #2",
            a,
            b,
        );
        assert!(classify(&first).is_none());
        assert_eq!(classify(&second).map(|k| k.id), Some("second-cancel"));
    }
}

//! The shop's webhook receiver, judged from its answers to the probes
//! `webhooks-check` sends: each probe's verdict, and the item they speak to
//! (PF-POLLING, which pairs webhooks with polling). The command sends and
//! records; only this judges.

use crate::domain::checklist::{ChecklistId, ITEMS};
use crate::evidence::model::{ItemResult, Verdict, WebhookCheck};

/// A 2xx status: the receiver accepted the delivery.
fn is_2xx(s: u16) -> bool {
    (200..300).contains(&s)
}

/// One probe judged: the receiver answered `status` (none: no answer) where
/// it should have accepted (2xx) or refused it with 4xx; `why` says what the
/// probe is about. A refusal must be a 4xx: a 5xx or a redirect says the
/// receiver broke or went elsewhere, not that it checked and said no
/// (issue 20).
pub fn probe(case: &str, expected_accept: bool, status: Option<u16>, why: &str) -> WebhookCheck {
    let accepted = status.is_some_and(is_2xx);
    let refused = status.is_some_and(|s| (400..500).contains(&s));
    let verdict = match (status, expected_accept) {
        (Some(_), true) if accepted => Verdict::Pass,
        (Some(_), false) if refused => Verdict::Pass,
        _ => Verdict::Fail,
    };
    let explanation = match (status, verdict) {
        (None, _) => format!("no answer: {why}"),
        (Some(_), Verdict::Pass) => why.to_owned(),
        (Some(s), _) if accepted => format!("accepted ({s}) but should not have been: {why}"),
        (Some(s), _) if !expected_accept => format!(
            "answered {s}, not a 4xx refusal (a 5xx or a redirect is not a check that said no): {why}"
        ),
        (Some(s), _) => format!("rejected ({s}) but should have been accepted: {why}"),
    };
    WebhookCheck {
        case: case.to_owned(),
        expected_accept,
        status,
        verdict,
        explanation,
    }
}

/// What the receiver answered each probe (`None`: no answer).
#[derive(Debug, Clone, Copy, Default)]
pub struct Answers {
    pub signed: Option<u16>,
    pub unsigned: Option<u16>,
    pub tampered: Option<u16>,
    pub wrong_secret: Option<u16>,
    pub stale: Option<u16>,
    pub duplicate: Option<u16>,
    pub captured_first: Option<u16>,
    pub authorized_after: Option<u16>,
    /// A correctly signed delivery without x-ms-date, without
    /// x-ms-content-sha256 and without Authorization, in that order.
    pub missing: [Option<u16>; 3],
}

impl Answers {
    /// True when the receiver answered no probe at all (unreachable, not
    /// failed).
    pub fn none(&self) -> bool {
        [
            self.signed,
            self.unsigned,
            self.tampered,
            self.wrong_secret,
            self.stale,
            self.duplicate,
            self.captured_first,
            self.authorized_after,
        ]
        .iter()
        .chain(self.missing.iter())
        .all(Option::is_none)
    }
}

/// Every probe judged: what each must get (accepted or refused) and why.
pub fn probes(a: &Answers) -> Vec<WebhookCheck> {
    // Out of order: both must be acknowledged; report the worse answer.
    let ooo = match (a.captured_first, a.authorized_after) {
        (Some(first), Some(after)) if is_2xx(first) => Some(after),
        (Some(first), _) => Some(first),
        (None, _) => None,
    };
    vec![
        probe("signed", true, a.signed, "a correctly signed delivery must be acknowledged with 2xx, or Vipps retries it for days"),
        probe("unsigned", false, a.unsigned, "a delivery without a signature may come from anyone: reject it (401) and do nothing"),
        probe("tampered", false, a.tampered, "the body no longer matches x-ms-content-sha256 and the signature: reject it; check the hash over the raw body bytes before parsing"),
        probe("wrong-secret", false, a.wrong_secret, "every header and the body hash are right, but the signature was made with another secret: verify the HMAC with your webhook secret, not only that the headers are there"),
        probe("no-date", false, a.missing[0], "x-ms-date is missing: the signature cannot be checked without it; reject the delivery"),
        probe("no-content-hash", false, a.missing[1], "x-ms-content-sha256 is missing: the body cannot be tied to the signature; reject the delivery"),
        probe("no-authorization", false, a.missing[2], "the Authorization header (the HMAC signature) is missing: anyone could have sent it; reject the delivery"),
        probe("stale", false, a.stale, "x-ms-date is 20 minutes old: a replayed delivery; reject dates more than a few minutes from now"),
        probe("duplicate", true, a.duplicate, "Vipps may deliver an event twice: acknowledge the repeat with 2xx and do not act on it twice"),
        probe("out-of-order", true, ooo, "CAPTURED arrived before AUTHORIZED: acknowledge both and read the payment with GET for the truth rather than trusting the order of webhooks"),
    ]
}

/// Every checklist item as the probes leave it: PF-POLLING fails when any
/// probe got the wrong answer (or none); the rest are not judged here.
pub fn items(checks: &[WebhookCheck]) -> Vec<ItemResult> {
    let failed = checks.iter().any(|c| c.verdict.fails_run());
    ITEMS
        .iter()
        .map(|item| {
            let (verdict, reason) = if item.key == ChecklistId::PfPolling {
                if failed {
                    (
                        Verdict::Fail,
                        "the webhook receiver answered a probe wrongly (see the webhook checks)"
                            .to_owned(),
                    )
                } else {
                    (
                        Verdict::Pass,
                        "webhooks-check only: the receiver answered every probe as expected"
                            .to_owned(),
                    )
                }
            } else {
                (
                    Verdict::NotApplicable,
                    "not judged by webhooks-check".to_owned(),
                )
            };
            ItemResult {
                id: item.id.to_owned(),
                title: item.title.to_owned(),
                verdict,
                reason: Some(reason),
                scenarios: Vec::new(),
                references: Vec::new(),
                attestation: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_passes_only_when_answered_as_it_should_be() {
        assert_eq!(probe("good", true, Some(204), "w").verdict, Verdict::Pass);
        assert_eq!(
            probe("bad-signature", false, Some(401), "w").verdict,
            Verdict::Pass
        );
        let accepted = probe("bad-signature", false, Some(200), "w");
        assert_eq!(accepted.verdict, Verdict::Fail);
        assert!(
            accepted.explanation.starts_with("accepted (200)"),
            "{accepted:?}"
        );
        let crashed = probe("bad-signature", false, Some(500), "w");
        assert_eq!(crashed.verdict, Verdict::Fail);
        assert!(
            crashed.explanation.starts_with("answered 500, not a 4xx"),
            "{crashed:?}"
        );
        assert_eq!(
            probe("bad-signature", false, Some(302), "w").verdict,
            Verdict::Fail
        );
        let silent = probe("good", true, None, "w");
        assert_eq!(silent.verdict, Verdict::Fail);
        assert!(silent.explanation.starts_with("no answer"), "{silent:?}");
    }

    #[test]
    fn one_wrong_answer_fails_pf_polling_and_nothing_else_is_judged() {
        let checks = vec![
            probe("good", true, Some(200), "w"),
            probe("bad-signature", false, Some(200), "w"),
        ];
        let items = items(&checks);
        assert_eq!(items.len(), ITEMS.len());
        for item in &items {
            let expected = if item.id == ChecklistId::PfPolling.as_str() {
                Verdict::Fail
            } else {
                Verdict::NotApplicable
            };
            assert_eq!(item.verdict, expected, "{item:?}");
        }
    }
}

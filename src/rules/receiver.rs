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

/// What a probe must get from a receiver that verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A delivery as Vipps sends it: acknowledged with 2xx.
    Accept,
    /// A forged, changed or stale delivery: refused with a 4xx.
    Refuse,
    /// An accepted delivery resent byte for byte: a 4xx shows the receiver
    /// noticed; a 2xx is a WARNING, not a failure, because from outside an
    /// idempotent receiver (that acts on each pspReference once) cannot be
    /// told from one that acts twice.
    RefuseOrWarn,
}

impl Expect {
    /// As the report and stdout say it.
    pub fn label(self) -> &'static str {
        match self {
            Expect::Accept => "2xx",
            Expect::Refuse => "4xx",
            Expect::RefuseOrWarn => "4xx (2xx warns)",
        }
    }
}

/// One probe of `webhooks-check`: its name, what it must get, and why.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pub case: &'static str,
    pub expect: Expect,
    pub why: &'static str,
}

/// How old the `stale` probe's `x-ms-date` is. Vipps does not say how old a
/// delivery may be (OPEN); five minutes is the usual window for signed
/// webhooks, and ten leaves five minutes of clock skew between this machine
/// and the receiver before a correct receiver is wrongly failed.
pub const STALE_MINUTES: i64 = 10;

/// Every probe, in the order `webhooks-check` sends them (the `replay` and
/// `duplicate` probes resend the `signed` delivery, so they come after it).
pub const PROBES: &[Probe] = &[
    Probe { case: "signed", expect: Expect::Accept, why: "a correctly signed delivery must be acknowledged with 2xx, or Vipps retries it for days" },
    Probe { case: "unsigned", expect: Expect::Refuse, why: "a delivery without a signature may come from anyone: reject it (401) and do nothing" },
    Probe { case: "bad-signature", expect: Expect::Refuse, why: "the date and the body hash are right but the Signature is no HMAC at all: verify the signature, not only the body hash" },
    Probe { case: "wrong-secret", expect: Expect::Refuse, why: "every header and the body hash are right, but the signature was made with another secret: verify the HMAC with your webhook secret, not only that the headers are there" },
    Probe { case: "tampered", expect: Expect::Refuse, why: "the body was changed after signing, so it no longer matches x-ms-content-sha256 and the signature: reject it; check the hash over the raw body bytes before parsing" },
    Probe { case: "wrong-host", expect: Expect::Refuse, why: "signed for another host: the host is part of the string to sign (x-ms-date;host;x-ms-content-sha256); build it from your registered URL's host" },
    Probe { case: "no-date", expect: Expect::Refuse, why: "x-ms-date is missing: the signature cannot be checked without it; reject the delivery" },
    Probe { case: "no-content-hash", expect: Expect::Refuse, why: "x-ms-content-sha256 is missing: the body cannot be tied to the signature; reject the delivery" },
    Probe { case: "no-authorization", expect: Expect::Refuse, why: "the Authorization header (the HMAC signature) is missing: anyone could have sent it; reject the delivery" },
    Probe { case: "stale", expect: Expect::Refuse, why: "x-ms-date is 10 minutes old: a captured delivery sent again later; reject dates more than 5 minutes from now" },
    Probe { case: "replay", expect: Expect::RefuseOrWarn, why: "the accepted `signed` delivery sent again byte for byte: anyone who captured one delivery can resend it while its date is fresh; remember the signatures you accepted, and act on each event once (deduplicate by pspReference or idempotencyKey) so a replay changes nothing" },
    Probe { case: "duplicate", expect: Expect::Accept, why: "the same event signed again with a new date, as Vipps redelivers it: acknowledge the repeat with 2xx (a 4xx makes Vipps retry for days) and do not act on it twice" },
    Probe { case: "out-of-order", expect: Expect::Accept, why: "CAPTURED arrived before AUTHORIZED: acknowledge both and read the payment with GET for the truth rather than trusting the order of webhooks" },
];

/// A 4xx status: the receiver looked and said no.
fn is_4xx(s: u16) -> bool {
    (400..500).contains(&s)
}

/// One probe judged from the receiver's answers to its deliveries (one, or
/// two for `out-of-order`; `None`: no answer): the first answer that is not
/// what the probe expects decides. A refusal must be a 4xx: a 5xx or a
/// redirect says the receiver broke or went elsewhere, not that it checked
/// and said no (issue 20).
pub fn probe(p: &Probe, answers: &[Option<u16>]) -> WebhookCheck {
    let status = answers
        .iter()
        .copied()
        .find(|s| !s.is_some_and(|s| expected(p.expect, s)))
        .or_else(|| answers.last().copied())
        .flatten();
    let answered = !answers.is_empty() && answers.iter().all(Option::is_some);
    let verdict = match (answered, status) {
        (true, Some(s)) if expected(p.expect, s) => Verdict::Pass,
        (true, Some(s)) if p.expect == Expect::RefuseOrWarn && is_2xx(s) => Verdict::Warning,
        _ => Verdict::Fail,
    };
    let why = p.why;
    let explanation = match (answered, status, verdict) {
        (false, _, _) | (_, None, _) => format!("no answer: {why}"),
        (_, Some(_), Verdict::Pass) => why.to_owned(),
        (_, Some(s), Verdict::Warning) => format!("accepted ({s}): {why}"),
        (_, Some(s), _) if is_2xx(s) => format!("accepted ({s}) but should not have been: {why}"),
        (_, Some(s), _) if p.expect != Expect::Accept => format!(
            "answered {s}, not a 4xx refusal (a 5xx or a redirect is not a check that said no): {why}"
        ),
        (_, Some(s), _) => format!("rejected ({s}) but should have been accepted: {why}"),
    };
    WebhookCheck {
        case: p.case.to_owned(),
        expected_accept: p.expect == Expect::Accept,
        expected: Some(p.expect.label().to_owned()),
        status,
        verdict,
        explanation,
        exchanges: Vec::new(),
    }
}

fn expected(expect: Expect, status: u16) -> bool {
    match expect {
        Expect::Accept => is_2xx(status),
        Expect::Refuse | Expect::RefuseOrWarn => is_4xx(status),
    }
}

/// Every probe of [`PROBES`] judged from `answers` (case, status), in the
/// order of [`PROBES`]; a probe with no answer recorded fails.
pub fn probes(answers: &[(&str, Option<u16>)]) -> Vec<WebhookCheck> {
    PROBES
        .iter()
        .map(|p| {
            let mine: Vec<Option<u16>> = answers
                .iter()
                .filter(|(case, _)| *case == p.case)
                .map(|(_, s)| *s)
                .collect();
            probe(p, &mine)
        })
        .collect()
}

/// True when the receiver answered no probe at all (unreachable, not failed).
pub fn none_answered(answers: &[(&str, Option<u16>)]) -> bool {
    answers.iter().all(|(_, s)| s.is_none())
}

/// Every checklist item as the probes leave it: PF-POLLING fails when any
/// probe got the wrong answer (or none), warns when one warned (a replay
/// accepted); the rest are not judged here.
pub fn items(checks: &[WebhookCheck]) -> Vec<ItemResult> {
    let named = |v: Verdict| {
        checks
            .iter()
            .filter(|c| c.verdict == v)
            .map(|c| c.case.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (failed, warned) = (named(Verdict::Fail), named(Verdict::Warning));
    ITEMS
        .iter()
        .map(|item| {
            let (verdict, reason) = if item.key == ChecklistId::PfPolling {
                if !failed.is_empty() {
                    (
                        Verdict::Fail,
                        format!("the webhook receiver answered a probe wrongly: {failed} (see the webhook checks)"),
                    )
                } else if !warned.is_empty() {
                    (
                        Verdict::Warning,
                        format!("the receiver verifies every forged delivery, but accepted: {warned} (see the webhook checks)"),
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

    fn spec(case: &str) -> &'static Probe {
        PROBES.iter().find(|p| p.case == case).unwrap()
    }

    #[test]
    fn a_probe_passes_only_when_answered_as_it_should_be() {
        assert_eq!(probe(spec("signed"), &[Some(204)]).verdict, Verdict::Pass);
        assert_eq!(
            probe(spec("wrong-secret"), &[Some(401)]).verdict,
            Verdict::Pass
        );
        let accepted = probe(spec("wrong-secret"), &[Some(200)]);
        assert_eq!(accepted.verdict, Verdict::Fail);
        assert!(
            accepted.explanation.starts_with("accepted (200)"),
            "{accepted:?}"
        );
        let crashed = probe(spec("wrong-secret"), &[Some(500)]);
        assert_eq!(crashed.verdict, Verdict::Fail);
        assert!(
            crashed.explanation.starts_with("answered 500, not a 4xx"),
            "{crashed:?}"
        );
        assert_eq!(
            probe(spec("wrong-secret"), &[Some(302)]).verdict,
            Verdict::Fail
        );
        let silent = probe(spec("signed"), &[None]);
        assert_eq!(silent.verdict, Verdict::Fail);
        assert!(silent.explanation.starts_with("no answer"), "{silent:?}");
        assert_eq!(probe(spec("signed"), &[]).verdict, Verdict::Fail);
    }

    #[test]
    fn an_accepted_replay_warns_and_says_why_it_matters() {
        let accepted = probe(spec("replay"), &[Some(200)]);
        assert_eq!(accepted.verdict, Verdict::Warning);
        assert!(
            accepted
                .explanation
                .contains("anyone who captured one delivery can resend it")
                && accepted.explanation.contains("pspReference"),
            "{accepted:?}"
        );
        assert!(!accepted.verdict.fails_run());
        assert_eq!(probe(spec("replay"), &[Some(409)]).verdict, Verdict::Pass);
        assert_eq!(probe(spec("replay"), &[Some(500)]).verdict, Verdict::Fail);
    }

    #[test]
    fn out_of_order_needs_both_deliveries_acknowledged() {
        let both = probes(&[("out-of-order", Some(200)), ("out-of-order", Some(202))]);
        let ooo = both.iter().find(|c| c.case == "out-of-order").unwrap();
        assert_eq!(ooo.verdict, Verdict::Pass);
        let first_refused = probes(&[("out-of-order", Some(404)), ("out-of-order", Some(200))]);
        let ooo = first_refused
            .iter()
            .find(|c| c.case == "out-of-order")
            .unwrap();
        assert_eq!((ooo.verdict, ooo.status), (Verdict::Fail, Some(404)));
    }

    #[test]
    fn every_forged_probe_must_be_refused_with_a_4xx() {
        for case in [
            "unsigned",
            "bad-signature",
            "wrong-secret",
            "tampered",
            "wrong-host",
            "no-date",
            "no-content-hash",
            "no-authorization",
            "stale",
        ] {
            assert_eq!(spec(case).expect, Expect::Refuse, "{case}");
            assert_eq!(probe(spec(case), &[Some(204)]).verdict, Verdict::Fail);
        }
        assert!(spec("stale")
            .why
            .contains(&format!("{STALE_MINUTES} minutes old")));
    }

    #[test]
    fn one_wrong_answer_fails_pf_polling_a_warning_warns_it_and_nothing_else_is_judged() {
        let checks = vec![
            probe(spec("signed"), &[Some(200)]),
            probe(spec("wrong-secret"), &[Some(200)]),
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
        let warned = items_verdict(&[
            probe(spec("signed"), &[Some(200)]),
            probe(spec("replay"), &[Some(200)]),
        ]);
        assert_eq!(warned.0, Verdict::Warning);
        assert!(warned.1.contains("replay"), "{}", warned.1);
    }

    fn items_verdict(checks: &[WebhookCheck]) -> (Verdict, String) {
        let item = items(checks)
            .into_iter()
            .find(|i| i.id == ChecklistId::PfPolling.as_str())
            .unwrap();
        (item.verdict, item.reason.unwrap_or_default())
    }
}

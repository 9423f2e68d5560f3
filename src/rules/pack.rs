//! A pack's verdicts (issue 21): every item as `audit` judges the shop's
//! traffic, GL-TEST or GL-PROD from the references read back live
//! ([`super::golive`]), PF-POLLING also from the shop's webhook receiver
//! ([`super::receiver`]), and the three items traffic cannot show from a
//! person's attestation. The command reads, sends and records; only this
//! decides.

use chrono::{DateTime, Utc};

use crate::domain::checklist::ChecklistId;
use crate::domain::exchange::Exchange;
use crate::evidence::model::{Attestation, GoLive, ItemResult, Verdict, WebhookCheck};

use super::golive::Judged;

/// The items a person may attest: what no traffic shows (the shop's
/// screens for errors, the design guidelines, customer support's work).
pub const ATTESTABLE: [ChecklistId; 3] = [
    ChecklistId::QaErrors,
    ChecklistId::PfDesign,
    ChecklistId::PfSupport,
];

/// `--attest ID="Name, role"`, read and dated `at`; anything but an
/// [`ATTESTABLE`] item with a name is refused, saying why.
pub fn attestation(raw: &str, at: DateTime<Utc>) -> Result<Attestation, String> {
    let names: Vec<&str> = ATTESTABLE.iter().map(|i| i.as_str()).collect();
    let hint = format!(
        "(hint: --attest PF-DESIGN=\"Kari Nordmann, CTO\"; attestable: {})",
        names.join(", ")
    );
    let Some((id, by)) = raw.split_once('=') else {
        return Err(format!("`--attest {raw}` is not ID=\"Name, role\" {hint}"));
    };
    let id = id.trim();
    let Some(item) = ATTESTABLE
        .iter()
        .find(|i| i.as_str().eq_ignore_ascii_case(id))
    else {
        return Err(format!(
            "`--attest {id}=...`: {id} cannot be attested, the traffic or the references prove it {hint}"
        ));
    };
    let by = by.trim().trim_matches('"').trim();
    if by.is_empty() {
        return Err(format!("`--attest {id}=` names nobody {hint}"));
    }
    Ok(Attestation {
        checklist_id: item.as_str().to_owned(),
        by: by.to_owned(),
        at,
    })
}

/// Gives each attestable row its attestation, when one was given: the
/// person's word replaces NEEDS ATTESTATION.
pub fn attest(items: &mut [ItemResult], attestations: &[Attestation]) {
    for row in items {
        if !ATTESTABLE.iter().any(|i| i.as_str() == row.id) {
            continue;
        }
        if let Some(a) = attestations.iter().find(|a| a.checklist_id == row.id) {
            row.verdict = Verdict::Attested;
            row.reason = Some(format!("attested by {} at {}", a.by, a.at.to_rfc3339()));
            row.attestation = Some(a.clone());
        }
    }
}

/// The go-live item from the references read back: PASS when a reference
/// proves each outcome; INCONCLUSIVE when one is missing and the target
/// failed while a reference was read (it might have been the missing proof:
/// not the shop's fault); else FAIL, naming the outcomes missing and why
/// each reference read proves nothing. The same for `verify` and `pack`.
pub fn golive_item(
    golive: &GoLive,
    judged: &[Judged],
    exchanges: &[Exchange],
) -> (Verdict, Option<String>) {
    let missing: Vec<&str> = golive
        .references
        .iter()
        .filter(|r| r.reference.is_none())
        .map(|r| r.outcome.as_str())
        .collect();
    if missing.is_empty() {
        return (Verdict::Pass, None);
    }
    let inconclusive: Vec<String> = judged
        .iter()
        .filter(|j| j.proves.is_err())
        .filter_map(|j| {
            super::verdicts::reference_target_failure(exchanges, &j.reference)
                .map(|why| format!("`{}`: {why}", j.reference))
        })
        .collect();
    if !inconclusive.is_empty() {
        return (
            Verdict::Inconclusive,
            Some(format!(
                "no reference ends {} as read, and the target failed: {}; not the shop's fault, not proven (hint: verify again when the target answers)",
                missing.join(", "),
                inconclusive.join("; ")
            )),
        );
    }
    let mut why = format!("no reference ends {}", missing.join(", "));
    let problems = super::golive::problems(judged);
    if !problems.is_empty() {
        why.push_str(&format!("; {}", problems.join("; ")));
    }
    (Verdict::Fail, Some(why))
}

/// How the go-live references were read back, for [`items`].
#[derive(Debug)]
pub enum ReadBack<'a> {
    /// Read back now: which item, what was found, each reference judged.
    Read {
        id: ChecklistId,
        golive: &'a GoLive,
        judged: &'a [Judged],
        /// What the target answered while they were read.
        exchanges: &'a [Exchange],
    },
    /// Nothing to read back from (no --env, --base-url or --simulator).
    NoTarget,
}

/// Every item of a pack, from the audit's rows of the shop's traffic
/// (`traffic`, one per checklist ID, as [`super::audit_item`] gives them).
pub fn items(
    mut traffic: Vec<ItemResult>,
    read_back: &ReadBack<'_>,
    checks: Option<&[WebhookCheck]>,
    attestations: &[Attestation],
) -> Vec<ItemResult> {
    for row in &mut traffic {
        let Some(id) = crate::domain::checklist::find(&row.id).map(|i| i.key) else {
            continue;
        };
        match (id, read_back) {
            (
                ChecklistId::GlTest | ChecklistId::GlProd,
                ReadBack::Read {
                    id: wanted,
                    golive,
                    judged,
                    exchanges,
                },
            ) => {
                if id == *wanted {
                    let (verdict, reason) = golive_item(golive, judged, exchanges);
                    row.verdict = verdict;
                    row.reason = reason;
                    row.references = judged.iter().map(|j| j.reference.clone()).collect();
                } else {
                    row.verdict = Verdict::NotApplicable;
                    row.reason = Some(format!(
                        "this pack proves {wanted}; {id} is proven by a pack of {} traffic",
                        if id == ChecklistId::GlProd {
                            "production (--env production)"
                        } else {
                            "test-environment (--env test)"
                        }
                    ));
                }
            }
            (ChecklistId::GlTest, ReadBack::NoTarget) => {
                row.verdict = Verdict::Fail;
                row.reason = Some("the shop's references were not read back (hint: --env test, or --base-url URL of the simulator the traffic went to)".into());
            }
            (ChecklistId::GlProd, ReadBack::NoTarget) => {
                row.verdict = Verdict::NotApplicable;
                row.reason =
                    Some("proven by a pack of production traffic (--env production)".into());
            }
            (ChecklistId::PfPolling, _) => receiver(row, checks),
            _ => {}
        }
    }
    attest(&mut traffic, attestations);
    traffic
}

/// PF-POLLING: the traffic's verdict, made worse by the receiver's when it
/// was probed; said when it was not.
fn receiver(row: &mut ItemResult, checks: Option<&[WebhookCheck]>) {
    let Some(checks) = checks else {
        let note = "the webhook receiver was not probed (--webhook-url)";
        row.reason = Some(match row.reason.take() {
            Some(why) => format!("{why}; {note}"),
            None => note.to_owned(),
        });
        return;
    };
    let Some(probed) = super::receiver::items(checks)
        .into_iter()
        .find(|i| i.id == ChecklistId::PfPolling.as_str())
    else {
        return;
    };
    let rank = |v: Verdict| match v {
        Verdict::Fail => 2,
        Verdict::Warning => 1,
        _ => 0,
    };
    if rank(probed.verdict) > rank(row.verdict) {
        row.verdict = probed.verdict;
    }
    let why = probed.reason.unwrap_or_default();
    row.reason = Some(match row.reason.take() {
        Some(traffic) if probed.verdict != Verdict::Pass => format!("{traffic}; {why}"),
        Some(traffic) => traffic,
        None if probed.verdict == Verdict::Pass => {
            "the traffic polls as it should, and the webhook receiver answered every probe as expected".to_owned()
        }
        None => why,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_three_items_traffic_cannot_show_can_be_attested() {
        let at = Utc::now();
        let a = attestation("QA-ERRORS=\"Kari Nordmann, QA lead\"", at).unwrap();
        assert_eq!(
            (a.checklist_id.as_str(), a.by.as_str()),
            ("QA-ERRORS", "Kari Nordmann, QA lead")
        );
        assert!(attestation("pf-design=Ola, designer", at).is_ok());
        for bad in ["EP-CAPTURE=Ola", "GL-TEST=Ola", "PF-SUPPORT=", "PF-SUPPORT"] {
            let why = attestation(bad, at).unwrap_err();
            assert!(why.contains("hint"), "{bad}: {why}");
        }
    }
}

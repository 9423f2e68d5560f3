//! How a scenario's outcome, an item's scenarios, a person's word and the
//! target's failures become a verdict that claims no more than the traffic
//! proves. The same functions serve every command: `run` (through the
//! runner's item table), `audit` ([`super::audit_item`]) and
//! `report --from-journal`.
//!
//! - A scenario that failed because the target answered 5xx, timed out or
//!   could not be reached is INCONCLUSIVE ([`scenario`]): a target error is
//!   not a shop defect, and it proves nothing either way.
//! - A manual scenario that ran because a person vouched for it is ATTESTED,
//!   never PASS: their word, not the traffic's proof.
//! - An item some of whose scenarios proved their part while another could
//!   not run on this target (the shop's return page not given, no person to
//!   reject) is PARTLY PROVEN, naming what was not ([`from_scenarios`]).
//! - QA-ERRORS has two halves ([`qa_errors`]): the API's error answers, shown
//!   from traffic, and what the shop's screens show customers and staff,
//!   which only a person can confirm. It is NEEDS ATTESTATION until a person
//!   attests it, in every command; the traffic half can only fail it.

use chrono::SecondsFormat;

use crate::domain::checklist::ChecklistId;
use crate::domain::exchange::Exchange;
use crate::evidence::model::{Attestation, ScenarioResult, Verdict};

/// The items only a person can fully confirm: `--attest ID="Name, role"`
/// is accepted for them.
pub fn needs_person(id: ChecklistId) -> bool {
    matches!(
        id,
        ChecklistId::PfDesign | ChecklistId::PfSupport | ChecklistId::QaErrors
    )
}

/// Why `exchange` shows the target failing rather than the shop: it was
/// answered 5xx, or not answered at all (timed out, refused, dropped).
/// `None` for any other answer.
pub fn target_failure(exchange: &Exchange) -> Option<String> {
    let what = format!(
        "`{} {}`",
        exchange.method,
        crate::domain::operation::path_of(&exchange.url)
    );
    match exchange.status {
        Some(status) if status >= 500 => Some(format!(
            "the target answered {what} with HTTP {status} (after {} attempt(s))",
            exchange.attempt
        )),
        Some(_) => None,
        None => Some(format!(
            "the target did not answer {what}: {}",
            exchange
                .error
                .as_deref()
                .unwrap_or("no response (timed out or the connection failed)")
        )),
    }
}

/// Why the target kept `reference` from being read: its last recorded
/// exchange was answered 5xx or not at all ([`target_failure`]). `None` when
/// its last exchange got any other answer (or there was none).
pub fn reference_target_failure(exchanges: &[Exchange], reference: &str) -> Option<String> {
    exchanges
        .iter()
        .rev()
        .find(|e| e.reference.as_deref() == Some(reference))
        .and_then(target_failure)
}

/// A scenario's verdict once the traffic behind it is known.
///
/// `verdict` and `reason` are what the scenario's steps gave; `last` is the
/// last exchange the scenario recorded; `attested` the attestations its
/// steps relied on. A failure whose last exchange the target failed is
/// INCONCLUSIVE; a passed `@manual` scenario is ATTESTED.
pub fn scenario(
    verdict: Verdict,
    reason: Option<String>,
    tags: &[String],
    last: Option<&Exchange>,
    attested: &[Attestation],
) -> (Verdict, Option<String>) {
    match verdict {
        Verdict::Fail => match last.and_then(target_failure) {
            // The step's own message stays with the step in the evidence;
            // the verdict says whose failure it was.
            Some(why) => (
                Verdict::Inconclusive,
                Some(format!(
                    "{why}: a target error, not the shop's; nothing was proven either way"
                )),
            ),
            None => (Verdict::Fail, reason),
        },
        Verdict::Pass if tags.iter().any(|t| t.trim_start_matches('@') == "manual") => {
            let who: Vec<String> = attested.iter().map(attested_by).collect();
            let why = if who.is_empty() {
                "a person vouched for it".to_owned()
            } else {
                who.join("; ")
            };
            (Verdict::Attested, Some(why))
        }
        _ => (verdict, reason),
    }
}

/// `attested by Kari Nordmann, design lead at 2026-01-02T10:00:00Z`.
pub fn attested_by(a: &Attestation) -> String {
    format!(
        "attested by {} at {}",
        a.by,
        a.at.to_rfc3339_opts(SecondsFormat::Secs, true)
    )
}

/// An item's verdict from its scenarios' verdicts, on the target whose
/// scenario tag is `target_tag` (`simulator`, `test`, `production`).
///
/// FAIL when one failed; INCONCLUSIVE when the target kept one from being
/// judged; NOT RUN or NOT APPLICABLE when none proved anything; PARTLY
/// PROVEN when some did while another, meant for this target, did not run
/// (a NOT APPLICABLE for a need, or NOT RUN); PASS otherwise. A scenario not
/// tagged for this target is not part of the item here: its NOT APPLICABLE
/// takes nothing away.
pub fn from_scenarios(
    scenarios: &[&ScenarioResult],
    target_tag: &str,
) -> (Verdict, Option<String>) {
    let named = |s: &ScenarioResult| match &s.reason {
        Some(why) => format!("{}: {why}", s.name),
        None => s.name.clone(),
    };
    let first = |v: Verdict| scenarios.iter().find(|s| s.verdict == v);
    if let Some(s) = first(Verdict::Fail) {
        return (Verdict::Fail, Some(named(s)));
    }
    if let Some(s) = first(Verdict::Inconclusive) {
        return (Verdict::Inconclusive, Some(named(s)));
    }
    let proven = |s: &&&ScenarioResult| matches!(s.verdict, Verdict::Pass | Verdict::Warning);
    if !scenarios.iter().any(|s| proven(&s)) {
        if let Some(s) = first(Verdict::NotRun) {
            return (Verdict::NotRun, Some(named(s)));
        }
        let why = scenarios
            .iter()
            .find_map(|s| s.reason.clone())
            .unwrap_or_else(|| "no scenario for it was selected".into());
        return (Verdict::NotApplicable, Some(why));
    }
    let for_target = |s: &ScenarioResult| s.tags.iter().any(|t| t == target_tag);
    let unproven: Vec<String> = scenarios
        .iter()
        .filter(|s| match s.verdict {
            Verdict::NotRun => true,
            Verdict::NotApplicable => for_target(s),
            _ => false,
        })
        .map(|s| {
            format!(
                "\"{}\" ({})",
                s.name,
                s.reason.as_deref().unwrap_or("not run")
            )
        })
        .collect();
    if unproven.is_empty() {
        (Verdict::Pass, None)
    } else {
        (
            Verdict::PartlyProven,
            Some(format!("not proven: {}", unproven.join("; "))),
        )
    }
}

/// PF-DESIGN and PF-SUPPORT: ATTESTED with who and when, or NEEDS
/// ATTESTATION with the flag that gives it.
pub fn manual(id: ChecklistId, attestation: Option<&Attestation>) -> (Verdict, String) {
    match attestation {
        Some(a) => (Verdict::Attested, attested_by(a)),
        None => (
            Verdict::NeedsAttestation,
            format!(
                "a person must confirm it (hint: --attest {}=\"Name, role\")",
                id.as_str()
            ),
        ),
    }
}

/// QA-ERRORS, the same rule in every command.
///
/// `traffic` is what the traffic half came to (the scenarios' verdict in
/// `run`; PASS in `audit`, whose journal shows the answers the shop got),
/// `shown` says what the traffic shows. A FAIL, INCONCLUSIVE, NOT RUN or
/// NOT APPLICABLE traffic half is the item's verdict; otherwise the shop's
/// screens decide: ATTESTED when a person vouched (PARTLY PROVEN still,
/// when part of the traffic half did not run), else NEEDS ATTESTATION.
pub fn qa_errors(
    traffic: (Verdict, Option<String>),
    shown: &str,
    attestation: Option<&Attestation>,
) -> (Verdict, String) {
    let (verdict, why) = traffic;
    if !matches!(
        verdict,
        Verdict::Pass | Verdict::Warning | Verdict::PartlyProven
    ) {
        return (verdict, why.unwrap_or_default());
    }
    let partly = match (verdict, &why) {
        (Verdict::PartlyProven, Some(why)) => format!("; the traffic half is {why}"),
        _ => String::new(),
    };
    match attestation {
        Some(a) if verdict == Verdict::PartlyProven => (
            Verdict::PartlyProven,
            format!("{shown}; the shop's screens {}{partly}", attested_by(a)),
        ),
        Some(a) => (
            Verdict::Attested,
            format!("{shown}; the shop's screens {}", attested_by(a)),
        ),
        None => (
            Verdict::NeedsAttestation,
            format!(
                "{shown}; what the shop shows customers and staff needs a person to attest it{partly}"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::Value;

    use super::*;

    fn exchange(status: Option<u16>, error: Option<&str>) -> Exchange {
        Exchange {
            schema_version: 1,
            id: "x1".into(),
            started_at: Utc::now(),
            duration_ms: 1,
            method: "POST".into(),
            url: "http://127.0.0.1:9/epayment/v1/payments/r-1/capture".into(),
            request_headers: vec![],
            request_body: Value::Null,
            status,
            response_headers: vec![],
            response_body: Value::Null,
            error: error.map(str::to_owned),
            attempt: 4,
            reference: Some("r-1".into()),
            checklist_ids: vec!["EP-CAPTURE".into()],
            scenario: Some("s".into()),
            kind: None,
        }
    }

    fn scenario_result(
        name: &str,
        verdict: Verdict,
        reason: Option<&str>,
        tags: &[&str],
    ) -> ScenarioResult {
        ScenarioResult {
            name: name.into(),
            feature: "f".into(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            checklist_ids: vec!["PF-REDIRECTS".into()],
            verdict,
            reason: reason.map(str::to_owned),
            references: vec![],
            started_at: Utc::now(),
            finished_at: Utc::now(),
            steps: vec![],
            source: None,
        }
    }

    fn attestation(id: &str) -> Attestation {
        Attestation {
            checklist_id: id.into(),
            by: "Kari Nordmann, design lead".into(),
            at: Utc.with_ymd_and_hms(2026, 1, 2, 10, 0, 0).unwrap(),
        }
    }

    #[test]
    fn a_failure_the_target_caused_is_inconclusive_and_names_the_request() {
        let tags = ["EP-CAPTURE".to_owned()];
        let step = Some("`POST /capture` answered HTTP 500".to_owned());
        let (v, why) = scenario(
            Verdict::Fail,
            step.clone(),
            &tags,
            Some(&exchange(Some(500), None)),
            &[],
        );
        assert_eq!(v, Verdict::Inconclusive);
        let why = why.unwrap();
        assert!(why.contains("HTTP 500"), "{why}");
        assert!(why.contains("/epayment/v1/payments/r-1/capture"), "{why}");
        assert!(why.contains("not the shop's"), "{why}");

        let (v, _) = scenario(
            Verdict::Fail,
            step.clone(),
            &tags,
            Some(&exchange(None, Some("timed out"))),
            &[],
        );
        assert_eq!(v, Verdict::Inconclusive);
        // A 4xx the checklist did not accept is the shop's (or the client's) failure.
        let (v, why) = scenario(
            Verdict::Fail,
            step.clone(),
            &tags,
            Some(&exchange(Some(400), None)),
            &[],
        );
        assert_eq!((v, why), (Verdict::Fail, step.clone()));
        // A failure with no traffic behind it stays a failure.
        assert_eq!(
            scenario(Verdict::Fail, step.clone(), &tags, None, &[]).0,
            Verdict::Fail
        );
        // A pass stays a pass whatever came before.
        assert_eq!(
            scenario(
                Verdict::Pass,
                None,
                &tags,
                Some(&exchange(Some(500), None)),
                &[]
            )
            .0,
            Verdict::Pass
        );
    }

    #[test]
    fn a_reference_whose_last_read_the_target_failed_names_the_failure() {
        let ok = exchange(Some(200), None);
        let down = exchange(Some(503), None);
        assert!(reference_target_failure(std::slice::from_ref(&ok), "r-1").is_none());
        assert!(reference_target_failure(&[ok.clone(), down.clone()], "r-1")
            .unwrap()
            .contains("HTTP 503"));
        // Read again after the failure, and answered: the target did its part.
        assert!(reference_target_failure(&[down.clone(), ok], "r-1").is_none());
        assert!(reference_target_failure(&[down], "other").is_none());
    }

    #[test]
    fn a_manual_scenario_a_person_vouched_for_is_attested_with_who_and_when() {
        let tags = ["PF-DESIGN".to_owned(), "manual".to_owned()];
        let (v, why) = scenario(
            Verdict::Pass,
            None,
            &tags,
            None,
            &[attestation("PF-DESIGN")],
        );
        assert_eq!(v, Verdict::Attested);
        assert_eq!(
            why.unwrap(),
            "attested by Kari Nordmann, design lead at 2026-01-02T10:00:00Z"
        );
        let (v, why) = manual(ChecklistId::PfDesign, None);
        assert_eq!(v, Verdict::NeedsAttestation);
        assert!(why.contains("--attest PF-DESIGN="), "{why}");
        assert_eq!(
            manual(ChecklistId::PfDesign, Some(&attestation("PF-DESIGN"))).0,
            Verdict::Attested
        );
    }

    #[test]
    fn an_item_whose_return_page_scenario_did_not_run_is_partly_proven_naming_it() {
        let safe = scenario_result(
            "The return address is safe",
            Verdict::Pass,
            None,
            &["PF-REDIRECTS", "simulator"],
        );
        let page = scenario_result(
            "The shop's return page opens in a fresh browser",
            Verdict::NotApplicable,
            Some("the shop's own return page was not given"),
            &["PF-REDIRECTS", "simulator", "needs-return-page"],
        );
        let (v, why) = from_scenarios(&[&safe, &page], "simulator");
        assert_eq!(v, Verdict::PartlyProven);
        let why = why.unwrap();
        assert!(
            why.contains("The shop's return page opens in a fresh browser"),
            "{why}"
        );
        assert!(why.contains("return page was not given"), "{why}");

        // A scenario meant for another target takes nothing away.
        let elsewhere = scenario_result(
            "Webhooks",
            Verdict::NotApplicable,
            Some("not run on the test target"),
            &["simulator"],
        );
        assert_eq!(
            from_scenarios(&[&safe, &elsewhere], "test"),
            (Verdict::Pass, None)
        );
        assert_eq!(from_scenarios(&[&safe], "simulator"), (Verdict::Pass, None));
    }

    #[test]
    fn failures_outrank_the_target_s_which_outrank_what_did_not_run() {
        let pass = scenario_result("a", Verdict::Pass, None, &["simulator"]);
        let failed = scenario_result("b", Verdict::Fail, Some("wrong"), &["simulator"]);
        let target = scenario_result("c", Verdict::Inconclusive, Some("HTTP 502"), &["simulator"]);
        let not_run = scenario_result(
            "d",
            Verdict::NotRun,
            Some("the run stopped before it"),
            &["simulator"],
        );
        assert_eq!(
            from_scenarios(&[&pass, &target, &failed], "simulator").0,
            Verdict::Fail
        );
        assert_eq!(
            from_scenarios(&[&pass, &target], "simulator"),
            (Verdict::Inconclusive, Some("c: HTTP 502".into()))
        );
        assert_eq!(from_scenarios(&[&not_run], "simulator").0, Verdict::NotRun);
        assert_eq!(
            from_scenarios(&[&pass, &not_run], "simulator").0,
            Verdict::PartlyProven
        );
        assert_eq!(from_scenarios(&[], "simulator").0, Verdict::NotApplicable);
    }

    #[test]
    fn qa_errors_needs_a_person_in_every_command_unless_its_traffic_half_failed() {
        let shown = "the traffic shows 8 error answers";
        let (v, why) = qa_errors((Verdict::Pass, None), shown, None);
        assert_eq!(v, Verdict::NeedsAttestation);
        assert!(
            why.starts_with(shown) && why.contains("a person to attest"),
            "{why}"
        );
        assert_eq!(
            qa_errors(
                (Verdict::Pass, None),
                shown,
                Some(&attestation("QA-ERRORS"))
            )
            .0,
            Verdict::Attested
        );
        assert_eq!(
            qa_errors(
                (Verdict::Fail, Some("no Problem body".into())),
                shown,
                Some(&attestation("QA-ERRORS"))
            ),
            (Verdict::Fail, "no Problem body".into())
        );
        assert_eq!(
            qa_errors((Verdict::Inconclusive, Some("502".into())), shown, None).0,
            Verdict::Inconclusive
        );
        let (v, why) = qa_errors(
            (Verdict::PartlyProven, Some("not proven: \"x\"".into())),
            shown,
            None,
        );
        assert_eq!(v, Verdict::NeedsAttestation);
        assert!(why.contains("not proven: \"x\""), "{why}");
        assert!(needs_person(ChecklistId::QaErrors));
        assert!(!needs_person(ChecklistId::EpCapture));
    }
}

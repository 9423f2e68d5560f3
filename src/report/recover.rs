//! `report --from-journal DIR`: evidence rebuilt from the journal of a run
//! that did not finish (killed, crashed, power lost), so the report shows
//! everything done before the stop, marked INCOMPLETE, with every attempt
//! that may have taken effect named.
//!
//! Nothing is judged here: without the run's own verdicts a checklist row
//! whose scenarios had begun is FAIL "not proven", which is what an
//! incomplete run is for go-live; a row the run never reached is NOT RUN.
//! The journal's header (written when the run started) gives the target,
//! the start, the attestations and which scenarios were to run; a journal
//! written before headers existed is read as before, its target inferred
//! from the first request's host.

use std::path::Path;

use chrono::Utc;

use crate::domain::checklist::{ChecklistId, ITEMS};
use crate::domain::exchange::Exchange;
use crate::evidence::model::{Attestation, Evidence, InterruptedAttempt, ItemResult, Verdict};
use crate::evidence::{FolderKind, Journal, JournalHeader, RunMeta, TargetInfo};

use super::{ReportError, JOURNAL_FILE};

/// Reads `dir/journal.jsonl` and builds incomplete evidence from it.
pub fn from_journal(dir: &Path) -> Result<Evidence, ReportError> {
    let path = dir.join(JOURNAL_FILE);
    let header = Journal::header(&path)?;
    let exchanges = Journal::read(&path)?;
    let run_id = header
        .as_ref()
        .map(|h| h.run_id.clone())
        .or_else(|| {
            dir.canonicalize()
                .ok()
                .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        })
        .unwrap_or_else(|| "unknown".into());
    // Every attempt line without an outcome: sent (or about to be) when the
    // run stopped, so it may have taken effect.
    let interrupted = Journal::interrupted(&path)?;
    Ok(evidence_from_journal(
        &run_id,
        header.as_ref(),
        exchanges,
        interrupted,
    ))
}

/// Incomplete evidence: run facts, references and problems as recorded;
/// each item FAIL "not proven" when its scenarios had begun, NOT RUN when
/// the run never reached it, and what the header says of the others.
pub(crate) fn evidence_from_journal(
    run_id: &str,
    header: Option<&JournalHeader>,
    exchanges: Vec<Exchange>,
    interrupted: Vec<InterruptedAttempt>,
) -> Evidence {
    let recorded = exchanges
        .iter()
        .map(|e| e.started_at)
        .chain(interrupted.iter().map(|a| a.started_at));
    // The run began when its header says (before its first request); it
    // ended, as far as anyone can know, with the last thing it recorded.
    let started_at = header
        .map(|h| h.started_at)
        .into_iter()
        .chain(recorded.clone())
        .min()
        .unwrap_or_else(Utc::now);
    let finished_at = exchanges
        .iter()
        .map(|e| e.started_at + chrono::Duration::milliseconds(e.duration_ms as i64))
        .chain(recorded)
        .max()
        .unwrap_or(started_at)
        .max(started_at);
    let (target, base_url) = match header {
        Some(h) => (h.target.clone(), h.base_url.clone()),
        None => {
            let first_url = exchanges
                .iter()
                .map(|e| e.url.as_str())
                .chain(interrupted.iter().map(|a| a.url.as_str()))
                .next()
                .unwrap_or_default();
            target_of(first_url)
        }
    };
    let header_of = |name: &str| {
        exchanges.iter().find_map(|e| {
            e.request_headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        })
    };
    let msn = header_of("Merchant-Serial-Number").unwrap_or_default();
    let items = items(header, &target, &exchanges, &interrupted);

    RunMeta::existing(FolderKind::Run, run_id, started_at)
        .evidence(TargetInfo::new(target, base_url))
        .span(started_at, finished_at)
        .complete(false)
        .msn(msn)
        .tags(header.and_then(|h| h.tags.clone()))
        .system(
            header_of("Vipps-System-Name"),
            header_of("Vipps-System-Version"),
        )
        .items(items)
        .attestations(header.map(|h| h.attestations.clone()).unwrap_or_default())
        .interrupted(interrupted)
        .exchanges(exchanges)
        .finish()
}

/// One row per checklist ID, from what the journal shows of each.
fn items(
    header: Option<&JournalHeader>,
    target: &str,
    exchanges: &[Exchange],
    interrupted: &[InterruptedAttempt],
) -> Vec<ItemResult> {
    ITEMS
        .iter()
        .map(|item| {
            let mut refs = Vec::new();
            let mut scenarios = Vec::new();
            for e in exchanges
                .iter()
                .filter(|e| e.checklist_ids.iter().any(|id| id == item.id))
            {
                if let Some(r) = &e.reference {
                    if !refs.contains(r) {
                        refs.push(r.clone());
                    }
                }
                if let Some(s) = &e.scenario {
                    if !scenarios.contains(s) {
                        scenarios.push(s.clone());
                    }
                }
            }
            // Attempts carry no checklist IDs: one for a reference of the
            // item's counts as reaching it.
            let reached = !scenarios.is_empty()
                || !refs.is_empty()
                || interrupted
                    .iter()
                    .any(|a| a.reference.as_ref().is_some_and(|r| refs.contains(r)));
            let attestation = header.and_then(|h| {
                h.attestations
                    .iter()
                    .find(|a| a.checklist_id == item.id)
                    .cloned()
            });
            let (verdict, reason) = unfinished(
                item.key,
                item.manual,
                reached,
                (header, attestation.as_ref()),
                target,
            );
            ItemResult {
                id: item.id.into(),
                title: item.title.into(),
                verdict,
                reason: Some(reason),
                scenarios,
                references: refs,
                attestation,
            }
        })
        .collect()
}

/// An item's verdict in a run that stopped: not proven once its scenarios
/// had begun, NOT RUN when the run was to reach it and never did; what the
/// run decided before it started for the others.
fn unfinished(
    id: ChecklistId,
    manual: bool,
    reached: bool,
    (header, attestation): (Option<&JournalHeader>, Option<&Attestation>),
    target: &str,
) -> (Verdict, String) {
    if manual {
        return match attestation {
            Some(a) => (
                Verdict::Attested,
                format!(
                    "attested by {} at {}",
                    a.by,
                    a.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            ),
            None => (
                Verdict::NeedsAttestation,
                format!(
                    "a person must confirm it (hint: --attest {}=\"Name, role\")",
                    id.as_str()
                ),
            ),
        };
    }
    match (id, target == "production") {
        (ChecklistId::GlProd, false) => {
            return (
                Verdict::NotApplicable,
                "comes from the guided production run (--env production --allow-real-money)".into(),
            )
        }
        (ChecklistId::GlTest, true) => {
            return (
                Verdict::NotApplicable,
                "comes from a run against the test environment (--env test)".into(),
            )
        }
        _ => {}
    }
    if reached {
        return (
            Verdict::Fail,
            "not proven: the run stopped before its verdict".into(),
        );
    }
    let Some(header) = header else {
        return (
            Verdict::NotRun,
            "the run stopped before it: the journal records no request for it".into(),
        );
    };
    let planned: Vec<_> = header
        .scenarios
        .iter()
        .filter(|s| s.checklist_ids.iter().any(|c| c == id.as_str()))
        .collect();
    let to_run: Vec<&str> = planned
        .iter()
        .filter(|s| s.skipped.is_none())
        .map(|s| s.name.as_str())
        .collect();
    if !to_run.is_empty() {
        return (
            Verdict::NotRun,
            format!(
                "the run stopped before it: {} never started",
                to_run
                    .iter()
                    .map(|n| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    match planned.iter().find_map(|s| s.skipped.clone()) {
        Some((verdict, why)) => (verdict, why),
        None => (
            Verdict::NotApplicable,
            "no scenario for it was selected".into(),
        ),
    }
}

/// `(target, base URL as shown)` from a request URL, for a journal written
/// before headers. A loopback URL may have been the embedded simulator or a
/// standalone one: only "custom" (a URL on this machine) is sure.
fn target_of(url: &str) -> (String, String) {
    let Ok(u) = url::Url::parse(url) else {
        return ("custom".into(), String::new());
    };
    let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
    let base = match u.port() {
        Some(p) => format!("{}://{host}:{p}", u.scheme()),
        None => format!("{}://{host}", u.scheme()),
    };
    let target = match crate::domain::host::HostClass::of(&u) {
        crate::domain::host::HostClass::VippsTest => "test",
        crate::domain::host::HostClass::VippsProduction => "production",
        crate::domain::host::HostClass::Loopback | crate::domain::host::HostClass::Other => {
            "custom"
        }
    };
    (target.into(), base)
}

//! `report --from-journal DIR`: evidence rebuilt from the journal of a run
//! that did not finish (killed, crashed, power lost), so the report shows
//! everything done before the stop, marked INCOMPLETE, with every attempt
//! that may have taken effect named.
//!
//! Nothing is judged here: without the run's own verdicts every checklist
//! row is FAIL "not proven", which is what an incomplete run is for go-live.

use std::path::Path;

use chrono::Utc;

use crate::domain::checklist::ITEMS;
use crate::domain::exchange::Exchange;
use crate::evidence::model::{Evidence, InterruptedAttempt, ItemResult, Verdict};
use crate::evidence::{FolderKind, Journal, RunMeta, TargetInfo};

use super::{ReportError, JOURNAL_FILE};

/// Reads `dir/journal.jsonl` and builds incomplete evidence from it.
pub fn from_journal(dir: &Path) -> Result<Evidence, ReportError> {
    let exchanges = Journal::read(dir.join(JOURNAL_FILE))?;
    let run_id = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown".into());
    // Every attempt line without an outcome: sent (or about to be) when the
    // run stopped, so it may have taken effect.
    let interrupted = Journal::interrupted(dir.join(JOURNAL_FILE))?;
    Ok(evidence_from_exchanges(&run_id, exchanges, interrupted))
}

/// Incomplete evidence: run facts, references and problems as recorded,
/// every item FAIL "not proven".
pub fn evidence_from_exchanges(
    run_id: &str,
    exchanges: Vec<Exchange>,
    interrupted: Vec<InterruptedAttempt>,
) -> Evidence {
    let started_at = exchanges
        .iter()
        .map(|e| e.started_at)
        .chain(interrupted.iter().map(|a| a.started_at))
        .min()
        .unwrap_or_else(Utc::now);
    let finished_at = exchanges
        .iter()
        .map(|e| e.started_at + chrono::Duration::milliseconds(e.duration_ms as i64))
        .chain(interrupted.iter().map(|a| a.started_at))
        .max()
        .unwrap_or(started_at);
    let first_url = exchanges
        .iter()
        .map(|e| e.url.as_str())
        .chain(interrupted.iter().map(|a| a.url.as_str()))
        .next()
        .unwrap_or_default();
    let (target, base_url) = target_of(first_url);
    let header = |name: &str| {
        exchanges.iter().find_map(|e| {
            e.request_headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        })
    };
    let msn = header("Merchant-Serial-Number").unwrap_or_default();

    let items = ITEMS
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
            ItemResult {
                id: item.id.into(),
                title: item.title.into(),
                verdict: Verdict::Fail,
                reason: Some("not proven: the run stopped before its verdict".into()),
                scenarios,
                references: refs,
                attestation: None,
            }
        })
        .collect();

    RunMeta::existing(FolderKind::Run, run_id, started_at)
        .evidence(TargetInfo::new(target, base_url))
        .span(started_at, finished_at)
        .complete(false)
        .msn(msn)
        .system(header("Vipps-System-Name"), header("Vipps-System-Version"))
        .items(items)
        .interrupted(interrupted)
        .exchanges(exchanges)
        .finish()
}

/// `(target, base URL as shown)` from a request URL.
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
        crate::domain::host::HostClass::Loopback => "simulator",
        crate::domain::host::HostClass::Other => "custom",
    };
    (target.into(), base)
}

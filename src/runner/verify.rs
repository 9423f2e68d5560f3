//! `verify`: references made by the shop's own system, read back through GET
//! and the event log and judged against GL-TEST or GL-PROD.

use std::sync::Arc;

use chrono::Utc;

use super::items::{outcomes, Environment};
use super::output;
use crate::api::{Client, ClientOptions};
use crate::checklist::ITEMS;
use crate::cli::VerifyArgs;
use crate::clock::SystemClock;
use crate::config::{self, Target as ConfigTarget};
use crate::evidence::model::{
    Evidence, GoLive, GoLiveReference, ItemResult, RunInfo, RunKind, Verdict,
    EVIDENCE_SCHEMA_VERSION,
};
use crate::evidence::{Journal, MemoryRecorder, SharedRecorder, Tee};
use crate::steps::payments::event_name;
use crate::Error;

/// What one reference turned out to be.
#[derive(Debug, Clone)]
pub struct Judged {
    pub reference: String,
    /// The go-live outcome it proves, when it proves one.
    pub outcome: Option<String>,
    /// Why it proves nothing, when it does not.
    pub problem: Option<String>,
}

/// Reads the references of `args` and writes the evidence folder.
pub async fn run(args: &VerifyArgs) -> Result<(), Error> {
    let (config, _) = config::load(&args.target.input())?;
    if matches!(config.target, ConfigTarget::Simulator) {
        return Err(Error::Usage(
            "verify reads references from a real target (hint: --env test, or --base-url for a running simulator)".into(),
        ));
    }
    let mut references = args.references.clone();
    if let Some(file) = &args.from_file {
        let text = std::fs::read_to_string(file).map_err(|source| Error::Io {
            context: format!("cannot read `{}`", file.display()),
            source,
        })?;
        references.extend(
            text.lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
        );
    }
    if references.is_empty() {
        return Err(Error::Usage(
            "no references given (hint: vipps-golive verify --env test REF... or --from-file refs.txt)".into(),
        ));
    }
    let credentials = config.credentials.clone().ok_or_else(|| {
        Error::Usage(format!(
            "credentials are required for the {} target (hint: set VIPPS_CLIENT_ID, VIPPS_CLIENT_SECRET, VIPPS_SUBSCRIPTION_KEY and VIPPS_MSN)",
            config.target.name()
        ))
    })?;
    let base_url = config
        .target
        .base_url()
        .ok_or_else(|| Error::Usage("the target has no base URL".into()))?;

    let started_at = Utc::now();
    let run_id = format!(
        "{}-verify-{}",
        started_at.format("%Y%m%dT%H%M%SZ"),
        &uuid::Uuid::new_v4().simple().to_string()[..6]
    );
    let folder = output::create(&args.out, &run_id, started_at)?;
    let dir = folder.dir().to_owned();
    let journal = Journal::create(folder.path("journal.jsonl")).map_err(|e| {
        Error::Evidence(format!(
            "cannot create the journal in `{}`: {e}",
            dir.display()
        ))
    })?;
    let memory = MemoryRecorder::new();
    let recorder: SharedRecorder = Arc::new(Tee(vec![Arc::new(journal), memory.clone()]));
    let mut options = ClientOptions::new(
        base_url.clone(),
        credentials.clone(),
        Arc::new(SystemClock),
        recorder,
    );
    options.system = config.system.clone();
    options.production = config.target.is_production();
    let id = if args.prod { "GL-PROD" } else { "GL-TEST" };
    let client = Client::new(options)
        .map_err(|e| Error::Usage(e.to_string()))?
        .tagged(&[id, "EP-GET", "EP-EVENTS"], Some("verify"));
    if let Err(e) = client.access_token().await {
        if e.is_unreachable() || e.is_credentials_refused() {
            return Err(Error::Unreachable {
                message: format!("{} ({})", e, e.explain()),
                source: None,
            });
        }
    }

    let mut judged = Vec::new();
    for r in &references {
        let j = judge(&client, r, args.prod).await;
        match (&j.outcome, &j.problem) {
            (Some(o), _) => crate::output::result(&format!("  {r}: ends {o}")),
            (None, Some(p)) => crate::output::result(&format!("  {r}: {p}")),
            _ => {}
        }
        judged.push(j);
    }

    let golive = GoLive {
        checklist_id: id.into(),
        references: outcomes(id)
            .iter()
            .map(|o| GoLiveReference {
                outcome: (*o).into(),
                reference: judged
                    .iter()
                    .find(|j| j.outcome.as_deref() == Some(*o))
                    .map(|j| j.reference.clone()),
            })
            .collect(),
    };
    let missing: Vec<&str> = golive
        .references
        .iter()
        .filter(|r| r.reference.is_none())
        .map(|r| r.outcome.as_str())
        .collect();
    let problems: Vec<String> = judged
        .iter()
        .filter_map(|j| {
            j.problem
                .as_ref()
                .map(|p| format!("`{}`: {p}", j.reference))
        })
        .collect();
    let read_ok = judged.iter().any(|j| j.outcome.is_some());
    let items = ITEMS
        .iter()
        .map(|item| {
            let (verdict, reason) = if item.id == id {
                if missing.is_empty() {
                    (Verdict::Pass, None)
                } else {
                    let mut why = format!("no reference ends {}", missing.join(", "));
                    if !problems.is_empty() {
                        why.push_str(&format!("; {}", problems.join("; ")));
                    }
                    (Verdict::Fail, Some(why))
                }
            } else if (item.id == "EP-GET" || item.id == "EP-EVENTS") && read_ok {
                (Verdict::Pass, None)
            } else {
                (
                    Verdict::NotApplicable,
                    Some(
                        "verify only reads references; run `vipps-golive run` for this item".into(),
                    ),
                )
            };
            ItemResult {
                id: item.id.into(),
                title: item.title.into(),
                verdict,
                reason,
                scenarios: Vec::new(),
                references: if item.id == id {
                    judged.iter().map(|j| j.reference.clone()).collect()
                } else {
                    Vec::new()
                },
                attestation: None,
            }
        })
        .collect();
    let exchanges = memory.exchanges();
    let evidence = Evidence {
        schema_version: EVIDENCE_SCHEMA_VERSION,
        kind: RunKind::Verify,
        complete: true,
        run: RunInfo {
            run_id,
            tool_version: env!("CARGO_PKG_VERSION").into(),
            target: config.target.name().into(),
            base_url: config::display_url(&base_url),
            msn: credentials.msn.clone(),
            started_at,
            finished_at: Utc::now(),
            stale_after: started_at
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(started_at),
            tags: None,
            system_name: Some(config.system.system_name.clone()),
            system_version: Some(config.system.system_version.clone()),
        },
        golive: Some(golive),
        items,
        scenarios: Vec::new(),
        references: crate::evidence::build::references(&exchanges, &credentials.msn),
        findings: crate::rules::judge(&exchanges, crate::rules::RuleOptions::default()),
        attestations: Vec::new(),
        webhook_checks: Vec::new(),
        interrupted: Vec::new(),
        exchanges,
    };
    let html = super::html::report(&evidence);
    output::finish(&folder, &evidence, b"", b"", &html)?;
    crate::commands::run::print_summary(&evidence, &dir);
    let _ = Environment::Test;
    if evidence.items.iter().any(|i| i.verdict.fails_run()) {
        return Err(Error::Failed(format!(
            "{id} is not proven by these references"
        )));
    }
    Ok(())
}

/// Reads one reference and says which go-live outcome it proves.
pub async fn judge(client: &Client, reference: &str, prod: bool) -> Judged {
    let bad = |problem: String| Judged {
        reference: reference.to_owned(),
        outcome: None,
        problem: Some(problem),
    };
    let payment = match client.get_payment(reference).await {
        Ok(p) => p,
        Err(e) if e.status() == Some(404) => {
            return bad("unknown reference: the API does not know it for this MSN".into())
        }
        Err(e) => return bad(format!("could not be read: {e}")),
    };
    let events = match client.payment_events(reference).await {
        Ok(e) => e,
        Err(e) => return bad(format!("its event log could not be read: {e}")),
    };
    if let Some(first) = events.first() {
        if first.timestamp < Utc::now() - chrono::Months::new(1) {
            return bad(format!(
                "evidence older than one month (created {}); Vipps accepts examples at most a month old",
                first.timestamp.to_rfc3339()
            ));
        }
    }
    if payment.state.as_str() != "AUTHORIZED" {
        return bad(format!(
            "the payment is {}, not one of the go-live outcomes",
            payment.state.as_str()
        ));
    }
    let last = events.last().map(event_name).unwrap_or_default();
    let wanted = outcomes(if prod { "GL-PROD" } else { "GL-TEST" });
    if wanted.contains(&last.as_str()) {
        Judged {
            reference: reference.to_owned(),
            outcome: Some(last),
            problem: None,
        }
    } else {
        bad(format!(
            "its event log ends {last}, not one of {}",
            wanted.join(", ")
        ))
    }
}

//! `verify`: references made by the shop's own system, read back through GET
//! and the event log and judged against GL-TEST or GL-PROD.
//!
//! Takes plain [`VerifyOptions`] and returns a [`VerifyOutcome`]; the face
//! (`commands::verify`) maps the flags to the options and prints the outcome.

use crate::domain::input::InputKind;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;

use super::folder;
use super::RunError;
use crate::api::{Client, ClientOptions};
use crate::clock::SystemClock;
use crate::config::{self, Config, Credentials, Target as ConfigTarget};
use crate::domain::checklist::{ChecklistId, ITEMS};
use crate::evidence::model::{Evidence, GoLive, ItemResult, Verdict};
use crate::evidence::{
    FolderKind, Journal, MemoryRecorder, RunMeta, SharedRecorder, TargetInfo, Tee,
};
use crate::rules::golive;

/// What `verify` reads, and where it writes.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The target (never the embedded simulator) and its credentials.
    pub config: Config,
    /// The references to read, in the order given.
    pub references: Vec<String>,
    /// A file of more references: one a line, `#` starts a comment.
    pub from_file: Option<PathBuf>,
    /// Judge GL-PROD instead of GL-TEST.
    pub prod: bool,
    /// Output folder; the verify writes `<out>/<run-id>/`.
    pub out: PathBuf,
}

/// What a verify leaves.
#[derive(Debug)]
pub struct VerifyOutcome {
    /// What was written to evidence.json.
    pub evidence: Evidence,
    /// `<out>/<run-id>/`.
    pub dir: PathBuf,
    /// Each reference as read, in the order given.
    pub judged: Vec<Judged>,
    /// Things a person should know that change no verdict.
    pub warnings: Vec<String>,
}

impl VerifyOutcome {
    /// `GL-TEST`, or `GL-PROD` for `--prod`.
    pub fn checklist_id(&self) -> &str {
        self.evidence
            .golive
            .as_ref()
            .map_or(ChecklistId::GlTest.as_str(), |g| g.checklist_id.as_str())
    }

    /// True when the go-live item is not proven (exit status 1).
    pub fn failed(&self) -> bool {
        self.evidence.items.iter().any(|i| i.verdict.fails_run())
    }

    /// True when the target failed reading the references so that the
    /// go-live item could not be judged (exit status 3).
    pub fn inconclusive(&self) -> bool {
        self.evidence
            .items
            .iter()
            .any(|i| i.verdict.target_failed())
    }
}

/// What one reference turned out to be.
#[derive(Debug, Clone)]
pub struct Judged {
    pub reference: String,
    /// The go-live outcome it proves, when it proves one.
    pub outcome: Option<String>,
    /// Why it proves nothing, when it does not.
    pub problem: Option<String>,
}

/// Reads the references of `o`, judges them and writes the evidence folder.
pub async fn run(o: VerifyOptions) -> Result<VerifyOutcome, RunError> {
    let (references, credentials, base_url) = check(&o)?;
    let id = if o.prod {
        ChecklistId::GlProd
    } else {
        ChecklistId::GlTest
    };
    let meta = RunMeta::new(FolderKind::Verify, Utc::now());
    let folder = folder::create(&meta, &o.out)?;
    let ReadBack {
        exchanges,
        judged,
        golive,
    } = read_back(
        &o.config,
        (&base_url, &credentials),
        (&folder.path("journal.jsonl"), folder.run_id()),
        &references,
        id,
    )
    .await?;
    let items = items(id, &golive, &judged, &exchanges);
    let judged: Vec<Judged> = judged.into_iter().map(Judged::from).collect();
    let evidence = meta
        .evidence(TargetInfo::new(
            o.config.target.name(),
            config::display_url(&base_url),
        ))
        .msn(credentials.msn.clone())
        .system(
            Some(o.config.system.system_name.clone()),
            Some(o.config.system.system_version.clone()),
        )
        .golive(Some(golive))
        .items(items)
        .findings(crate::rules::judge(
            &exchanges,
            crate::rules::RuleOptions::default(),
        ))
        .exchanges(exchanges)
        .finish();
    let warnings = folder::finish(&folder, &evidence, &[])?;
    Ok(VerifyOutcome {
        evidence,
        dir: folder.dir().to_owned(),
        judged,
        warnings,
    })
}

/// The references read back, judged.
#[derive(Debug)]
pub struct ReadBack {
    /// What the target answered, in the order read (also in the journal).
    pub exchanges: Vec<crate::evidence::Exchange>,
    /// Each reference, judged, in the order read.
    pub judged: Vec<golive::Judged>,
    /// For each outcome `id` needs, the first reference that proves it.
    pub golive: GoLive,
}

/// Reads each of `references` back (GET and the event log) through the
/// harness's client, every exchange written ahead to `journal` (a folder's
/// file, for the run `run_id`), and judges them for `id`: what `verify`
/// and `pack` share. Fails only when the target cannot be reached or
/// refuses the credentials, or the journal cannot be made.
pub async fn read_back(
    config: &Config,
    target: (&url::Url, &Credentials),
    (journal, run_id): (&std::path::Path, &str),
    references: &[String],
    id: ChecklistId,
) -> Result<ReadBack, RunError> {
    let memory = MemoryRecorder::new();
    let client = connect(config, (journal, run_id), &memory, target, id).await?;
    for r in references {
        read(&client, r).await;
    }
    // The rules judge what was recorded, not what the client made of it.
    let (exchanges, now) = (memory.exchanges(), Utc::now());
    let judged: Vec<golive::Judged> = references
        .iter()
        .map(|r| golive::judge(&exchanges, r, id, now))
        .collect();
    let golive = golive::references(id, &judged);
    Ok(ReadBack {
        exchanges,
        judged,
        golive,
    })
}

/// The references to read, and the credentials and base URL of a target
/// `verify` can read them from.
fn check(o: &VerifyOptions) -> Result<(Vec<String>, Credentials, url::Url), RunError> {
    if matches!(o.config.target, ConfigTarget::Simulator) {
        return Err(RunError::Usage(
            "verify reads references from a real target (hint: --env test, or --base-url for a running simulator)".into(),
        ));
    }
    let mut references = o.references.clone();
    if let Some(file) = &o.from_file {
        let text = crate::domain::input::read_to_string(file, InputKind::References)
            .map_err(|e| RunError::Usage(crate::domain::input::with_cause(&e)))?;
        references.extend(
            text.lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
        );
    }
    if references.is_empty() {
        return Err(RunError::Usage(
            "no references given (hint: vipps-golive verify --env test REF... or --from-file refs.txt)".into(),
        ));
    }
    let credentials = o.config.credentials.clone().ok_or_else(|| {
        RunError::Usage(format!(
            "credentials are required for the {} target (hint: set VIPPS_CLIENT_ID, VIPPS_CLIENT_SECRET, VIPPS_SUBSCRIPTION_KEY and VIPPS_MSN)",
            o.config.target.name()
        ))
    })?;
    let base_url = o
        .config
        .target
        .base_url()
        .ok_or_else(|| RunError::Usage("the target has no base URL".into()))?;
    Ok((references, credentials, base_url))
}

/// The client, recording to the folder's journal and to `memory`, after a
/// token request that shows the target can be reached with these keys.
async fn connect(
    config: &Config,
    (journal, run_id): (&std::path::Path, &str),
    memory: &Arc<MemoryRecorder>,
    (base_url, credentials): (&url::Url, &Credentials),
    id: ChecklistId,
) -> Result<Client, RunError> {
    let journal = Journal::create(journal).map_err(|e| {
        RunError::Evidence(format!(
            "cannot create the journal `{}`: {e}",
            journal.display()
        ))
    })?;
    let recorder: SharedRecorder = Arc::new(Tee(vec![Arc::new(journal), memory.clone()]));
    let mut options = ClientOptions::new(
        base_url.clone(),
        credentials.clone(),
        Arc::new(SystemClock),
        recorder,
    );
    options.system = config.system.clone();
    options.production = config.target.is_production();
    options.run_id = Some(run_id.to_owned());
    let client = Client::new(options)
        .map_err(|e| RunError::Usage(e.to_string()))?
        .tagged(
            &[
                id.as_str(),
                ChecklistId::EpGet.as_str(),
                ChecklistId::EpEvents.as_str(),
            ],
            Some("verify"),
        );
    if let Err(e) = client.access_token().await {
        if e.is_unreachable() || e.is_credentials_refused() {
            return Err(RunError::Unreachable(format!("{} ({})", e, e.explain())));
        }
    }
    Ok(client)
}

/// All 17 items: `id` from the outcomes found; every other item NOT
/// APPLICABLE, EP-GET and EP-EVENTS included: the reads were the harness's
/// own, so they say nothing of the shop's calls (`audit` judges those).
fn items(
    id: ChecklistId,
    golive: &GoLive,
    judged: &[golive::Judged],
    exchanges: &[crate::evidence::Exchange],
) -> Vec<ItemResult> {
    ITEMS
        .iter()
        .map(|item| {
            let (verdict, reason) = if item.key == id {
                crate::rules::pack::golive_item(golive, judged, exchanges)
            } else {
                // The reads were vipps-golive's own, not the shop's: they
                // prove the references, never the shop's GET or events calls.
                (
                    Verdict::NotApplicable,
                    Some(
                        "verify reads the references with vipps-golive's own client; the shop's own traffic is judged by `vipps-golive audit --journal FILE`, or with its references, webhook receiver and attestations in one folder by `vipps-golive pack` (docs/golive.md)".into(),
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
        .collect()
}

impl From<golive::Judged> for Judged {
    fn from(j: golive::Judged) -> Judged {
        let (outcome, problem) = match j.proves {
            Ok(o) => (Some(o.as_str().to_owned()), None),
            Err(why) => (None, Some(why)),
        };
        Judged {
            reference: j.reference,
            outcome,
            problem,
        }
    }
}

/// Reads one reference's payment and event log through the journaled
/// client; the answers are judged from the recording, so what the client
/// made of them does not matter here.
async fn read(client: &Client, reference: &str) {
    // The event log of a payment the target cannot show is not worth
    // asking for; a payment the client could not parse still is (the rules
    // read the raw answer).
    let unread = match client.get_payment(reference).await {
        Ok(_) => false,
        Err(e) => e.status().map_or(true, |s| !(200..300).contains(&s)),
    };
    if !unread {
        let _ = client.payment_events(reference).await;
    }
}

//! `vipps-golive pack`: the shop's go-live evidence, from its own traffic,
//! in one sealed folder (issue 21; the merchant's path: docs/golive.md).
//!
//! Nothing here judges. The traffic goes through the audit's pipeline
//! ([`crate::audit`]) into the rules; the references go through `verify`'s
//! read-back ([`crate::runner::verify::read_back`]) into
//! [`crate::rules::golive`]; the webhook receiver gets `webhooks-check`'s
//! probes ([`super::webhooks_check`]) judged by [`crate::rules::receiver`];
//! [`crate::rules::pack`] puts the verdicts together; the one evidence
//! builder writes evidence.json; the report's view says the headline. Every
//! URL passes [`crate::config::guard_url`] before anything is made or sent.
//!
//! The folder `<out>/pack-<id>/`:
//! - `journal.jsonl`: the shop's exchanges judged (vipps-golive's own,
//!   marked, are left out and counted);
//! - `readback.jsonl`: the references read back now, written ahead;
//! - `webhooks.jsonl`: the probes of the shop's receiver and its answers;
//! - `evidence.json` (kind `pack`), `report.html`, `status.json`, and
//!   `manifest.json` over all of them (`manifest.sig` with --sign-key).

use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use chrono::Utc;

use crate::audit::input::Journals;
use crate::audit::{self, Filter, Outcome};
use crate::cli::{EnvName, PackArgs};
use crate::config::{self, Config, Credentials, Target};
use crate::domain::checklist::ChecklistId;
use crate::evidence::model::{Attestation, Evidence, InputSource, WebhookCheck};
use crate::evidence::{Exchange, FolderKind, Journal, Latest, RunFolder, RunMeta, TargetInfo};
use crate::rules::golive::{self, Judged};
use crate::rules::pack::ReadBack;
use crate::rules::{RuleOptions, TrafficEnv};
use crate::runner::verify::read_back;
use crate::Error;

use super::webhooks_check::Receiver;

/// Build the shop's go-live pack: its traffic judged, its references read
/// back, its webhook receiver probed, the attestations, in one sealed folder.
///
/// Returns [`Error::Failed`] (exit 1) when an item failed, [`Error::Usage`]
/// (2) for bad input, [`Error::Unreachable`] (3) when the read-back target
/// or the webhook receiver could not be reached, [`Error::Evidence`] (4)
/// when the folder could not be written.
///
/// Example: `vipps-golive pack --journal shop.jsonl --env test --webhook-url https://shop.example/vipps/webhook --attest PF-DESIGN="Kari Nordmann, designer"`
pub fn run(args: &PackArgs) -> Result<(), Error> {
    super::block_on(run_async(args, &mut std::io::stdout().lock()))
}

/// Everything decided before a folder is made or a socket opened.
struct Plan {
    attestations: Vec<Attestation>,
    simulator: Option<url::Url>,
    receiver: Option<(Receiver, crate::Secret)>,
    target: Option<ReadTarget>,
    sign_key: Option<ed25519_dalek::SigningKey>,
}

/// Where the references are read back.
struct ReadTarget {
    config: Config,
    base_url: url::Url,
    credentials: Credentials,
    /// GL-PROD for production, else GL-TEST.
    id: ChecklistId,
    /// Where the traffic went, as far as the read-back target says.
    env: TrafficEnv,
}

/// [`run`], writing its summary to `out`.
pub async fn run_async(args: &PackArgs, out: &mut dyn Write) -> Result<(), Error> {
    let plan = plan(args)?;
    // The journals are opened (not read) before the folder is made: a
    // missing file is bad usage and leaves nothing behind.
    let journals = if args.journal.is_empty() {
        None
    } else {
        Some(super::audit::open_journals(&args.journal)?)
    };
    let meta = RunMeta::new(FolderKind::Pack, Utc::now());
    let folder = meta
        .create_folder(&args.out)
        .map_err(evidence_error(&args.out.join(meta.run_id())))?;
    let result = fill(args, &plan, journals, &folder).await;
    let sealed = folder.path(crate::evidence::folder::MANIFEST_FILE).exists();
    if let (Err(e), false) = (&result, sealed) {
        // No manifest: the folder is an incomplete pack, `latest` stays put.
        let _ = folder.fail(&crate::domain::redact::text(&e.to_string()));
    }
    let evidence = result?;
    let dir = folder.dir();
    super::finish_folder("pack", &summary(&evidence, dir), &evidence, dir, out)
}

/// The traffic, the read-back, the probes, the evidence and the sealed folder.
async fn fill(
    args: &PackArgs,
    plan: &Plan,
    journals: Option<Journals>,
    folder: &RunFolder,
) -> Result<Evidence, Error> {
    let env = plan.target.as_ref().map_or(TrafficEnv::Unknown, |t| t.env);
    let (outcome, sources) = traffic(plan, journals, folder, env).await?;
    let references = if args.refs.is_empty() {
        candidates(
            &outcome,
            plan.target.as_ref().map_or(ChecklistId::GlTest, |t| t.id),
        )
    } else {
        args.refs.clone()
    };
    let read = match &plan.target {
        Some(t) => Some(
            read_back(
                &t.config,
                (&t.base_url, &t.credentials),
                (&folder.path("readback.jsonl"), folder.run_id()),
                &references,
                t.id,
            )
            .await?,
        ),
        None => None,
    };
    let probes = match &plan.receiver {
        Some((receiver, secret)) => Some(probe(args, receiver, secret, folder).await?),
        None => None,
    };
    let evidence = evidence(plan, folder, (&outcome, sources), read.as_ref(), probes);
    // evidence.json, report.html, status, the manifest (signed with
    // --sign-key), `latest`; then every PASS re-derived from the
    // evidence.json written, read back, as for every other folder.
    let latest = audit::write_folder_signed(folder, &evidence, &[], plan.sign_key.as_ref())
        .map_err(|e| match e {
            audit::FolderError::Io(source) => Error::Evidence(format!(
                "cannot write the pack into `{}`: {source}",
                folder.dir().display()
            )),
            audit::FolderError::Contradicted(message) => Error::Failed(message),
        })?;
    if let Latest::LeftAlone(why) = latest {
        crate::output::diag(&format!("pack: {why}"));
    }
    Ok(evidence)
}

/// Checks every input and resolves every URL through the one guard.
fn plan(args: &PackArgs) -> Result<Plan, Error> {
    let attestations = super::audit::attestations(&args.attest)?;
    let simulator = args
        .simulator
        .as_deref()
        .map(|raw| config::guard_url("--simulator", raw, config::UrlRole::Simulator))
        .transpose()
        .map_err(Error::Usage)?
        .map(|g| g.url);
    let target = read_target(args, simulator.as_ref())?;
    let receiver = match (&args.webhook_url, &args.webhook_secret) {
        (Some(url), Some(secret)) => {
            let msn = target.as_ref().map(|t| t.credentials.msn.as_str());
            Some((Receiver::of(url, msn)?, secret.clone()))
        }
        (Some(_), None) => {
            return Err(Error::Usage(
                "--webhook-url needs the webhook secret (hint: --webhook-secret, or VIPPS_WEBHOOK_SECRET)".into(),
            ))
        }
        (None, _) => None,
    };
    let sign_key = args
        .sign_key
        .as_deref()
        .map(crate::evidence::manifest::read_signing_key)
        .transpose()
        .map_err(|e| Error::Usage(e.to_string()))?;
    Ok(Plan {
        attestations,
        simulator,
        receiver,
        target,
        sign_key,
    })
}

/// Where the references are read back: `--env test|production` or
/// `--base-url URL` (through `config::load`, the guard, with the
/// credentials of `run`), else the simulator of `--simulator URL`; none for
/// a journal alone (GL-TEST then fails, saying how to read them back).
fn read_target(args: &PackArgs, simulator: Option<&url::Url>) -> Result<Option<ReadTarget>, Error> {
    let mut input = args.target.input();
    let named = args.target.base_url.is_some() || args.target.env != EnvName::Simulator;
    if !named {
        let Some(sim) = simulator else {
            return Ok(None);
        };
        input.base_url = Some(sim.as_str().to_owned());
    }
    let (config, _) = config::load(&input)?;
    let credentials = config.credentials.clone().ok_or_else(|| {
        Error::Usage("the references cannot be read back without credentials (hint: set VIPPS_CLIENT_ID, VIPPS_CLIENT_SECRET, VIPPS_SUBSCRIPTION_KEY and VIPPS_MSN, or --env-file)".into())
    })?;
    let base_url = config
        .target
        .base_url()
        .ok_or_else(|| Error::Usage("the target has no base URL".into()))?;
    let (id, env) = match config.target {
        Target::Production => (ChecklistId::GlProd, TrafficEnv::Production),
        Target::Test => (ChecklistId::GlTest, TrafficEnv::Test),
        Target::Simulator | Target::Custom(_) => (ChecklistId::GlTest, TrafficEnv::Simulator),
    };
    Ok(Some(ReadTarget {
        config,
        base_url,
        credentials,
        id,
        env,
    }))
}

/// The shop's traffic judged by the audit's pipeline, each judged line
/// copied to the folder's journal.jsonl; with what was read.
async fn traffic(
    plan: &Plan,
    journals: Option<Journals>,
    folder: &RunFolder,
    env: TrafficEnv,
) -> Result<(Outcome, Vec<InputSource>), Error> {
    let copy = std::fs::File::create(folder.path("journal.jsonl"))
        .map_err(evidence_error(&folder.path("journal.jsonl")))?;
    let copy = BufWriter::with_capacity(256 * 1024, copy);
    let options = RuleOptions {
        environment: env,
        ..RuleOptions::default()
    };
    let filter = Filter::default();
    match (journals, &plan.simulator) {
        (Some((reader, tallies, _)), _) => {
            let outcome = audit::audit(reader, &filter, options, copy)
                .map_err(evidence_error(&folder.path("journal.jsonl")))?;
            Ok((outcome, tallies.iter().map(|t| t.source()).collect()))
        }
        (None, Some(url)) => {
            let bytes = super::audit::fetch_journal(url).await?;
            let location = url.as_str().trim_end_matches('/').to_owned();
            let sources = vec![audit::input::bytes("simulator", location, &bytes)];
            let outcome = audit::audit(std::io::Cursor::new(bytes), &filter, options, copy)
                .map_err(evidence_error(&folder.path("journal.jsonl")))?;
            Ok((outcome, sources))
        }
        (None, None) => Err(Error::Usage(
            "no traffic to pack (hint: give --journal FILE or --simulator URL)".into(),
        )),
    }
}

/// The references to read back when `--refs` names none: the shop's last
/// payments ending in each outcome `id` needs, as its traffic showed them.
fn candidates(outcome: &Outcome, id: ChecklistId) -> Vec<String> {
    let wanted: Vec<&str> = golive::outcomes(id).iter().map(|o| o.as_str()).collect();
    let mut refs: Vec<String> = Vec::new();
    for (ending, list) in &outcome.observed.endings {
        if wanted.contains(ending) {
            for r in list {
                if !refs.contains(r) {
                    refs.push(r.clone());
                }
            }
        }
    }
    refs
}

/// The probes of `webhooks-check`, sent to the shop's receiver and each
/// written ahead to the folder's webhooks.jsonl; judged by the rules.
async fn probe(
    args: &PackArgs,
    receiver: &Receiver,
    secret: &crate::Secret,
    folder: &RunFolder,
) -> Result<(Vec<WebhookCheck>, Vec<Exchange>), Error> {
    crate::domain::redact::register_secret(secret.expose());
    let journal = Journal::create(folder.path("webhooks.jsonl")).map_err(|e| {
        Error::Evidence(format!(
            "cannot create `{}`: {e}",
            folder.path("webhooks.jsonl").display()
        ))
    })?;
    let timeout = Duration::from_secs(args.webhook_timeout);
    let sent =
        super::webhooks_check::send_all(receiver, secret, timeout, &journal, folder.run_id())
            .await?;
    let answers: Vec<(&str, Option<u16>)> = sent.iter().map(|(c, e)| (*c, e.status)).collect();
    if crate::rules::receiver::none_answered(&answers) {
        return Err(Error::Unreachable {
            message: format!(
                "the webhook receiver did not answer any probe: `{}` (hint: is it running and reachable from here?)",
                receiver.shown
            ),
            source: None,
        });
    }
    let checks = super::webhooks_check::judged(&sent);
    Ok((checks, sent.into_iter().map(|(_, e)| e).collect()))
}

/// The pack's evidence.json, through the one builder: headed by the shop
/// (its system headers, MSN and traffic span), every item from
/// [`crate::rules::pack::items`].
fn evidence(
    plan: &Plan,
    folder: &RunFolder,
    (outcome, sources): (&Outcome, Vec<InputSource>),
    read: Option<&crate::runner::verify::ReadBack>,
    probes: Option<(Vec<WebhookCheck>, Vec<Exchange>)>,
) -> Evidence {
    let now = Utc::now();
    let seen = &outcome.observed;
    let (target, shown) = match (&plan.target, &plan.simulator) {
        (Some(t), _) => (
            match t.config.target {
                Target::Custom(_) | Target::Simulator => "simulator",
                _ => t.config.target.name(),
            },
            config::display_url(&t.base_url),
        ),
        (None, _) => (
            "journal",
            sources
                .iter()
                .map(|s| s.location.clone())
                .collect::<Vec<_>>()
                .join(", "),
        ),
    };
    let judged: &[Judged] = read.map_or(&[], |r| &r.judged);
    let read_back = match (read, &plan.target) {
        (Some(r), Some(t)) => ReadBack::Read {
            id: t.id,
            golive: &r.golive,
            judged,
            exchanges: &r.exchanges,
        },
        _ => ReadBack::NoTarget,
    };
    let (checks, probe_exchanges) = probes.unzip();
    let items = crate::rules::pack::items(
        audit::items(outcome),
        &read_back,
        checks.as_deref(),
        &plan.attestations,
    );
    let msn = match (seen.msns.is_empty(), &plan.target) {
        (true, Some(t)) => t.credentials.msn.clone(),
        _ => seen.msns.join(", "),
    };
    let mut exchanges = outcome.exchanges.clone();
    exchanges.extend(read.map(|r| r.exchanges.clone()).unwrap_or_default());
    exchanges.extend(probe_exchanges.unwrap_or_default());
    RunMeta::existing(FolderKind::Pack, folder.run_id(), now)
        .evidence(TargetInfo::new(target, shown))
        .span(seen.first.unwrap_or(now), seen.last.unwrap_or(now))
        .msn(msn)
        .system(
            (!seen.system_names.is_empty()).then(|| seen.system_names.join(", ")),
            (!seen.system_versions.is_empty()).then(|| seen.system_versions.join(", ")),
        )
        .golive(read.map(|r| r.golive.clone()))
        .items(items)
        .attestations(plan.attestations.clone())
        .harness_left_out(outcome.harness_own)
        .input(audit::input_read(outcome, &Filter::default(), sources))
        .findings(outcome.findings.clone())
        .webhook_checks(checks.unwrap_or_default())
        .exchanges(exchanges)
        .finish()
}

/// A folder that could not be made or written: exit 4.
fn evidence_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::Evidence(format!("cannot write `{}`: {e}", path.display()))
}

/// What stdout says: the shop, every item, the probes, the headline (the
/// report's own, from [`crate::report::view::summary`]) and the folder.
fn summary(e: &Evidence, dir: &Path) -> String {
    use std::fmt::Write as _;
    let run = &e.run;
    let read_back = if run.target == "journal" {
        "references not read back".to_owned()
    } else {
        format!(
            "references read back from {} ({})",
            run.base_url, run.target
        )
    };
    let mut s = format!(
        "Go-live pack of {} {} (MSN {}), traffic {} to {}, {read_back}\n",
        run.system_name
            .as_deref()
            .unwrap_or("(Vipps-System-Name not sent)"),
        run.system_version.as_deref().unwrap_or(""),
        if run.msn.is_empty() {
            "(not sent)"
        } else {
            &run.msn
        },
        run.started_at.to_rfc3339(),
        run.finished_at.to_rfc3339(),
    );
    if let Some(n) = run.harness_left_out.filter(|n| *n > 0) {
        let _ = writeln!(s, "Left out: {}", crate::report::view::harness_left_out(n));
    }
    for i in &e.items {
        let _ = writeln!(
            s,
            "  {:<13} {:<17} {}",
            i.id,
            i.verdict.label(),
            i.reason.as_deref().unwrap_or("")
        );
    }
    if let Some(g) = &e.golive {
        for r in &g.references {
            let _ = writeln!(
                s,
                "  {} {:<10} {}",
                g.checklist_id,
                r.outcome,
                r.reference.as_deref().unwrap_or("(none)")
            );
        }
    }
    let summary = crate::report::view::summary(e);
    let _ = writeln!(s, "{}", summary.headline);
    let _ = writeln!(s, "{}", dir.display());
    s
}

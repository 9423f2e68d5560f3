//! `vipps-golive audit`: judges a shop's recorded traffic against the checklist
//! rules and writes the evidence folder (see [`crate::audit`]).

use crate::domain::input::InputError;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};

use crate::audit::{self, Filter, Outcome, Source};
use crate::cli::AuditArgs;
use crate::evidence::model::{Evidence, Finding, InputSource, Severity, Verdict};
use crate::evidence::{FolderKind, Latest, RunMeta};
use crate::rules::redirects::{return_page, PageAnswer};
use crate::rules::{ReturnUrl, RuleOptions};
use crate::Error;

/// Lines read so far, on stderr every [`Progress::EVERY`] while a long
/// journal is audited; nothing for one audited sooner.
struct Progress {
    started: std::time::Instant,
    last: std::time::Instant,
    size: u64,
    shown: bool,
}

impl Progress {
    const EVERY: Duration = Duration::from_secs(2);

    fn new(size: u64) -> Progress {
        let now = std::time::Instant::now();
        Progress {
            started: now,
            last: now,
            size,
            shown: false,
        }
    }

    fn lines(&mut self, lines: u64) {
        if self.last.elapsed() < Self::EVERY {
            return;
        }
        self.last = std::time::Instant::now();
        self.shown = true;
        crate::output::diag(&format!(
            "audit: {lines} line(s) judged in {:.0} s (the journal is {:.0} MB)",
            self.started.elapsed().as_secs_f64(),
            self.size as f64 / 1e6
        ));
    }

    fn finish(&self) {
        if self.shown {
            crate::output::diag(&format!(
                "audit: read to the end in {:.1} s",
                self.started.elapsed().as_secs_f64()
            ));
        }
    }
}

/// How many returnUrls `--check-return-url` opens.
const RETURN_URLS_CHECKED: usize = 5;

/// Judge a shop's recorded traffic against the checklist rules.
///
/// Reads `--journal FILE` (or the live journal of `--simulator URL`) as a
/// stream, judges every exchange with the rules `run` uses, and writes
/// `<out>/<audit-id>/` with `journal.jsonl` (the audited lines),
/// `evidence.json` (kind `audit`), `report.html` and `manifest.json`.
/// Returns [`Error::Failed`] (exit 1) when a checklist item failed.
///
/// Example: `vipps-golive audit --journal shop-traffic.jsonl --since 2026-12-01`
pub fn run(args: &AuditArgs) -> Result<(), Error> {
    super::block_on(run_async(args, &mut std::io::stdout().lock()))
}

/// [`run`], writing its summary to `out` (tests).
pub async fn run_async(args: &AuditArgs, out: &mut dyn Write) -> Result<(), Error> {
    let filter = Filter {
        since: args.since.as_deref().map(parse_since).transpose()?,
        msn: args.msn.clone(),
    };
    let attestations = attestations(&args.attest)?;
    // Decided before any folder is made or socket opened.
    let simulator = args
        .simulator
        .as_deref()
        .map(|raw| crate::config::guard_url("--simulator", raw, crate::config::UrlRole::Simulator))
        .transpose()
        .map_err(Error::Usage)?
        .map(|g| g.url);
    let meta = RunMeta::new(FolderKind::Audit, Utc::now());
    let folder = meta.create_folder(&args.out).map_err(io(format!(
        "cannot create the report folder `{}`",
        args.out.join(meta.run_id()).display()
    )))?;
    let dir = folder.dir().to_owned();
    let copy = std::fs::File::create(dir.join("journal.jsonl")).map_err(io(format!(
        "cannot create `{}`",
        dir.join("journal.jsonl").display()
    )))?;
    let copy = BufWriter::with_capacity(256 * 1024, copy);

    let (source, mut outcome, sources) = read(args, &filter, simulator.as_ref(), copy).await?;
    if args.check_return_url {
        let urls = outcome.observed.return_urls.clone();
        let found = check_return_urls(&urls, meta.run_id()).await;
        outcome.findings.extend(found);
        outcome
            .findings
            .sort_by_key(|f| crate::domain::checklist::order(&f.checklist_id));
    }

    let evidence = audit::evidence_of(
        meta.run_id(),
        &source,
        &filter,
        &outcome,
        sources,
        &attestations,
    )
    .finish();
    if let Some(input) = &evidence.input {
        for n in crate::report::view::input_notes(
            input,
            evidence.run.harness_left_out,
            evidence.exchanges.len(),
        ) {
            crate::output::diag(&format!("audit: {n}"));
        }
    }
    let latest = audit::write_folder(&folder, &evidence, &[]).map_err(|e| match e {
        audit::FolderError::Io(source) => io(format!(
            "cannot write the evidence into `{}`",
            dir.display()
        ))(source),
        audit::FolderError::Contradicted(message) => Error::Failed(message),
    })?;
    if let Latest::LeftAlone(why) = latest {
        crate::output::diag(&format!("audit: {why}"));
    }
    super::finish_folder("audit", &summary(&evidence, &dir), &evidence, &dir, out)
}

/// `--attest ID="Name, role"` (QA-ERRORS, PF-DESIGN, PF-SUPPORT only), dated
/// now; anything else is bad usage (exit 2), refused before anything is read.
pub(crate) fn attestations(
    raw: &[String],
) -> Result<Vec<crate::evidence::model::Attestation>, Error> {
    let now = Utc::now();
    raw.iter()
        .map(|a| crate::rules::pack::attestation(a, now).map_err(Error::Usage))
        .collect()
}

/// An I/O failure, said with what was being done.
fn io(context: String) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Io { context, source }
}

/// Judges the journal file, or the running simulator's journal, copying
/// every line read to `copy`.
async fn read(
    args: &AuditArgs,
    filter: &Filter,
    simulator: Option<&url::Url>,
    copy: BufWriter<std::fs::File>,
) -> Result<(Source, Outcome, Vec<InputSource>), Error> {
    match (&args.journal, simulator) {
        (Some(path), _) => {
            let (reader, tallies, size) = open_journals(std::slice::from_ref(path))?;
            let mut progress = Progress::new(size);
            let outcome = audit::audit_reporting(
                reader,
                filter,
                RuleOptions::default(),
                copy,
                &mut |lines| progress.lines(lines),
            )
            .map_err(io(format!("cannot read the journal `{}`", path.display())))?;
            progress.finish();
            let source = Source {
                kind: "journal",
                location: path.display().to_string(),
            };
            Ok((
                source,
                outcome,
                tallies.iter().map(|t| t.source()).collect(),
            ))
        }
        (None, Some(url)) => {
            let bytes = fetch_journal(url).await?;
            let location = url.as_str().trim_end_matches('/').to_owned();
            let sources = vec![audit::input::bytes("simulator", location, &bytes)];
            let outcome = audit::audit(
                std::io::Cursor::new(bytes),
                filter,
                RuleOptions::default(),
                copy,
            )
            .map_err(io("cannot copy the simulator's journal".into()))?;
            let source = Source {
                kind: "simulator",
                location: url.as_str().trim_end_matches('/').to_owned(),
            };
            Ok((source, outcome, sources))
        }
        (None, None) => Err(Error::Usage(
            "nothing to audit (hint: give --journal FILE or --simulator URL)".into(),
        )),
    }
}

/// The journal files as one stream, each hashed as it is read (see
/// [`audit::input::journals`]); a file that cannot be opened is named.
pub(crate) fn open_journals(paths: &[std::path::PathBuf]) -> Result<audit::input::Journals, Error> {
    // A FIFO or a device (`/dev/zero`) is refused at once, not read forever.
    audit::input::journals(paths).map_err(|e| match e {
        InputError::Io { path, source, .. } => Error::Io {
            context: format!(
                "cannot open the journal `{}` (hint: the file `vipps-golive simulator --journal FILE` wrote)",
                path.display()
            ),
            source,
        },
        other => Error::Usage(other.to_string()),
    })
}

/// `--since`: RFC 3339, or a date (midnight UTC).
fn parse_since(value: &str) -> Result<DateTime<Utc>, Error> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Some(t) = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
    {
        return Ok(t.and_utc());
    }
    Err(Error::Usage(format!(
        "`--since {value}` is not a time (hint: 2026-12-01T09:00:00Z or 2026-12-01)"
    )))
}

/// Reads a running simulator's journal through `GET /__sim/journal`.
/// `base` has passed the guard, which refuses user info, a query and a
/// fragment for a simulator: the URL is safe to show as it is.
pub(crate) async fn fetch_journal(base: &url::Url) -> Result<Vec<u8>, Error> {
    let url = format!("{}/__sim/journal", base.as_str().trim_end_matches('/'));
    let client = crate::api::marked_http(None)
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| Error::Usage(format!("cannot build an HTTP client: {e}")))?;
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| Error::Unreachable {
            message: format!(
                "cannot read the journal at `{url}` (hint: is the simulator running?)"
            ),
            source: Some(Box::new(e)),
        })?;
    match response.status().as_u16() {
        200 => {}
        404 => {
            return Err(Error::Usage(format!(
                "`{url}` answered 404 (hint: start the simulator with --control so its journal can be read, or audit its --journal FILE)"
            )))
        }
        s => {
            return Err(Error::Unreachable {
                message: format!("`{url}` answered {s}"),
                source: None,
            })
        }
    }
    response
        .bytes()
        .await
        .map(|b| b.to_vec())
        .map_err(|e| Error::Unreachable {
            message: format!("the journal at `{url}` was cut off"),
            source: Some(Box::new(e)),
        })
}

/// Opens each returnUrl without cookies (no cookie store, no redirects
/// followed): the page must answer by itself, as it would in the phone's
/// default browser without the shop's session.
async fn check_return_urls(urls: &[ReturnUrl], run_id: &str) -> Vec<Finding> {
    let Ok(client) = crate::api::marked_http(Some(run_id))
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    for r in urls
        .iter()
        .filter(|r| r.url.starts_with("https://") || r.url.starts_with("http://"))
        .take(RETURN_URLS_CHECKED)
    {
        // The rules judge the answer; this only opens the page.
        let at = Some(r.exchange.clone());
        let finding = match client.get(&r.url).send().await {
            Ok(resp) => {
                let location = resp.headers().get("location").and_then(|l| l.to_str().ok());
                let status = resp.status().as_u16();
                return_page(&r.url, PageAnswer::Answered { status, location }, at)
            }
            Err(_) => return_page(&r.url, PageAnswer::Unreachable, at),
        };
        findings.extend(finding);
    }
    findings
}

fn summary(e: &Evidence, dir: &Path) -> String {
    use std::fmt::Write as _;
    let mut s = format!(
        "Audit of {} (Vipps-System-Name {}, Vipps-System-Version {}, MSN {}), {} to {}\n",
        e.run.base_url,
        e.run.system_name.as_deref().unwrap_or("(not sent)"),
        e.run.system_version.as_deref().unwrap_or("(not sent)"),
        if e.run.msn.is_empty() {
            "(not sent)"
        } else {
            &e.run.msn
        },
        e.run.started_at.to_rfc3339(),
        e.run.finished_at.to_rfc3339(),
    );
    if let Some(n) = e.run.harness_left_out {
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
    let counted = |sev| e.findings.iter().filter(|f| f.severity == sev).count();
    let _ = writeln!(
        s,
        "{} finding(s): {} fail, {} warning, {} advice",
        e.findings.len(),
        counted(Severity::Fail),
        counted(Severity::Warning),
        counted(Severity::Info)
    );
    for f in e.findings.iter().filter(|f| f.severity != Severity::Info) {
        let _ = writeln!(
            s,
            "  {} [{}] {}\n      -> {}",
            f.checklist_id, f.rule, f.message, f.advice
        );
    }
    let passed = e.items.iter().all(|i| i.verdict != Verdict::Fail);
    let _ = writeln!(
        s,
        "{}: {}",
        if passed { "PASS" } else { "FAIL" },
        dir.display()
    );
    s
}

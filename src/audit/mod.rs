//! `audit`: judges a shop's recorded traffic against the checklist rules.
//!
//! The journal is read as a stream, in batches of lines, and each exchange is
//! handed to the [`crate::rules::RuleSet`] and dropped: memory stays bounded
//! by what the rules keep per payment, whatever the journal's length. A line
//! that is not an exchange is reported with its number and skipped; lines of
//! another kind (the run journal's write-ahead `attempt` lines) are skipped
//! silently. The result is the same `evidence.json` shape `run` writes, with
//! kind `audit`.

pub mod input;
pub mod line;
mod pipeline;

use std::io::{Read, Write};

use chrono::{DateTime, Utc};

use crate::domain::checklist::ITEMS;
use crate::domain::exchange::{Exchange, SCHEMA_VERSION};
use crate::domain::redact;
use crate::domain::text::escape_html;
use crate::evidence::model::{
    Attestation, Evidence, Finding, InputRead, InputSource, ItemResult, SkippedLine,
};
use crate::evidence::run::EvidenceBuilder;
use crate::evidence::{FolderKind, RunMeta, TargetInfo};
use crate::rules::{Body, Meta, Observed, RuleOptions, RuleSet, View};

/// Below this many exchanges, evidence.json carries every one; above it, only
/// those behind a finding (the whole journal is copied beside it).
pub const KEEP_ALL_EXCHANGES: usize = 5_000;
/// At most this many exchanges behind findings are kept.
pub const KEEP_OFFENDING: usize = 1_000;
/// Above [`KEEP_ALL_EXCHANGES`], the first this many exchanges of each
/// [`witness_kind`] are kept too, whatever the findings: the exchanges that
/// decided the items the traffic passes (a create answered 201 for
/// EP-CREATE, a capture for EP-CAPTURE, ...), so a passing item still shows
/// its proof in the report.
pub const KEEP_WITNESSES: usize = 3;
/// How many kinds [`witness_kind`] tells apart.
const WITNESS_KINDS: usize = 9;

/// The kind of proof an exchange is, when it is one: an operation the
/// checklist names that succeeded (create, read, event log, cancel,
/// capture, refund, an Order Management write, a webhook registration), or
/// an error answer (QA-ERRORS).
fn witness_kind(view: &View<'_>) -> Option<usize> {
    use crate::domain::operation::Operation;
    if view.status.is_some_and(|s| s >= 400) {
        return Some(8);
    }
    if !view.ok() {
        return None;
    }
    match view.op {
        Operation::Create => Some(0),
        Operation::Get(_) => Some(1),
        Operation::Events(_) => Some(2),
        Operation::Cancel(_) => Some(3),
        Operation::Capture(_) => Some(4),
        Operation::Refund(_) => Some(5),
        Operation::OrderManagement { write: true, .. } => Some(6),
        Operation::WebhookRegister => Some(7),
        _ => None,
    }
}
/// At most this many unreadable lines are listed (all are counted).
pub const LIST_BAD_LINES: usize = 100;

/// Which exchanges to judge.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only exchanges started at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only requests sent with this Merchant-Serial-Number.
    pub msn: Option<String>,
}

impl Filter {
    fn admits(&self, view: &View<'_>) -> bool {
        if self.since.is_some_and(|s| view.started_at < s) {
            return false;
        }
        match &self.msn {
            None => true,
            Some(m) => view.headers.has("Merchant-Serial-Number", m),
        }
    }
}

/// A line that could not be read as an exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based.
    pub line: u64,
    pub reason: String,
}

/// What an audit of one journal found.
#[derive(Debug)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub observed: Observed,
    /// Every exchange judged when there were few; else, in journal order,
    /// each item's deciding exchanges ([`KEEP_WITNESSES`]) and those behind
    /// findings ([`KEEP_OFFENDING`]).
    pub exchanges: Vec<Exchange>,
    /// Whether `exchanges` is the whole (filtered) journal.
    pub all_exchanges: bool,
    /// Lines read, exchanges judged, lines left out by the filter.
    pub lines: u64,
    pub judged: u64,
    pub filtered_out: u64,
    /// Exchanges vipps-golive itself sent (its `x-vipps-golive-run` header
    /// or its `User-Agent`), left out: the harness's requests are never the
    /// shop's traffic.
    pub harness_own: u64,
    /// Lines of another kind (e.g. write-ahead `attempt` lines), skipped.
    pub other_kinds: u64,
    /// Unreadable lines (the first [`LIST_BAD_LINES`]) and how many in all.
    pub bad_lines: Vec<BadLine>,
    pub bad_line_count: u64,
}

#[derive(Debug)]
enum Line {
    Exchange(Box<Exchange>),
    OtherKind,
    Bad(String),
    Blank,
}

/// Reads one line of the journal, with its newline if it had one: a line
/// without one is the last, and a bad one is said to be cut short.
fn parse(line: &[u8]) -> Line {
    let complete = line.last() == Some(&b'\n');
    let text = line.trim_ascii();
    if text.is_empty() {
        return Line::Blank;
    }
    if text == pipeline::OVERLONG {
        return Line::Bad(format!(
            "longer than {} MiB: skipped, not read (hint: a journal line is one exchange of a few KB; is this the right file?)",
            crate::domain::input::JOURNAL_LINE_CAP >> 20
        ));
    }
    let parsed = match serde_json::from_slice::<Exchange>(text) {
        Ok(e) if e.schema_version > SCHEMA_VERSION => Line::Bad(format!(
            "schema_version {} is newer than this program reads ({SCHEMA_VERSION}) (hint: upgrade vipps-golive)",
            e.schema_version
        )),
        Ok(e) => Line::Exchange(Box::new(e)),
        Err(err) => match serde_json::from_slice::<serde_json::Value>(text) {
            Ok(v) if v.get("kind").is_some_and(serde_json::Value::is_string) => Line::OtherKind,
            Ok(_) => Line::Bad(format!("not an exchange ({err})")),
            Err(syntax) => Line::Bad(format!("not JSON ({syntax})")),
        },
    };
    match parsed {
        Line::Bad(reason) if !complete => {
            Line::Bad(format!("truncated last line (a write cut short): {reason}"))
        }
        other => other,
    }
}

/// Audits a journal read from `reader`, line by line. Every exchange the
/// filter admits is judged, and its line copied to `copy` (the evidence
/// folder's `journal.jsonl`). Never fails on a bad line; fails only when
/// reading or copying fails.
///
/// The input is read in batches of whole lines on a thread of its own, the
/// batches are parsed on others (one per spare core), and each line is
/// judged here, in journal order, and dropped (see [`pipeline`]). A line is read borrowed
/// ([`LineRef`]), with only the body fields the rules need ([`Body`]); a
/// line that way refuses takes the slow way (an owned [`Exchange`]), which
/// also names what is wrong with it. Measured in docs/audit.md.
pub fn audit(
    reader: impl Read + Send,
    filter: &Filter,
    options: RuleOptions,
    copy: impl Write,
) -> std::io::Result<Outcome> {
    audit_reporting(reader, filter, options, copy, &mut |_| {})
}

/// [`audit`], calling `progress` with the number of lines read so far after
/// each batch of lines (about a megabyte) is judged.
pub fn audit_reporting(
    reader: impl Read + Send,
    filter: &Filter,
    options: RuleOptions,
    copy: impl Write,
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<Outcome> {
    audit_in_blocks(
        reader,
        filter,
        options,
        copy,
        (BLOCK, pipeline::parsers()),
        progress,
    )
}

fn audit_in_blocks(
    reader: impl Read + Send,
    filter: &Filter,
    options: RuleOptions,
    copy: impl Write,
    (block_size, parsers): (usize, usize),
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<Outcome> {
    let mut judge = Judge::new(filter, options, copy);
    let mut number = 0u64;
    std::thread::scope(|scope| {
        for batch in pipeline::start(scope, reader, block_size, parsers) {
            batch?.for_each(|raw, read| {
                number += 1;
                match read {
                    Ok((meta, body, shows)) => {
                        judge.exchange(number, raw, &View::new(meta, body), ReadAs::Fast(shows))
                    }
                    Err(line) => judge.line(number, raw, line),
                }
            })?;
            progress(number);
        }
        Ok::<_, std::io::Error>(())
    })?;
    judge.finish()
}

/// Bytes read per batch.
const BLOCK: usize = 1 << 20;

/// How a line was read: the fast way, with whether its text shows a
/// credential ([`redact::line_shows_a_credential`]), or whole, the slow way.
#[derive(Clone, Copy)]
enum ReadAs<'e> {
    Fast(bool),
    Whole(&'e Exchange),
}

/// Judges exchanges, in journal order.
struct Judge<'f, W> {
    filter: &'f Filter,
    rules: RuleSet,
    out: Outcome,
    /// Past [`KEEP_ALL_EXCHANGES`], what is kept instead, by line number:
    /// the exchanges behind findings and the deciding ones, counted apart
    /// (`offending`, and `witnessed` per [`witness_kind`]).
    kept: std::collections::BTreeMap<u64, Exchange>,
    offending: usize,
    witnessed: [usize; WITNESS_KINDS],
    copy: W,
}

impl<'f, W: Write> Judge<'f, W> {
    fn new(filter: &'f Filter, options: RuleOptions, copy: W) -> Self {
        Judge {
            filter,
            rules: RuleSet::new(RuleOptions {
                audit: true,
                ..options
            }),
            out: Outcome {
                findings: Vec::new(),
                observed: Observed::default(),
                exchanges: Vec::new(),
                all_exchanges: true,
                lines: 0,
                judged: 0,
                filtered_out: 0,
                harness_own: 0,
                other_kinds: 0,
                bad_lines: Vec::new(),
                bad_line_count: 0,
            },
            kept: std::collections::BTreeMap::new(),
            offending: 0,
            witnessed: [0; WITNESS_KINDS],
            copy,
        }
    }

    /// Judges line `number` (1-based), whose bytes are `raw`.
    fn line(&mut self, number: u64, raw: &[u8], line: Line) -> std::io::Result<()> {
        let out = &mut self.out;
        out.lines = number;
        let exchange = match line {
            Line::Blank => return Ok(()),
            Line::Exchange(e) => e,
            Line::OtherKind => {
                out.other_kinds += 1;
                return Ok(());
            }
            Line::Bad(reason) => {
                out.bad_line_count += 1;
                if out.bad_lines.len() < LIST_BAD_LINES {
                    out.bad_lines.push(BadLine {
                        line: number,
                        reason,
                    });
                }
                return Ok(());
            }
        };
        let body = Body::of_values(&exchange.request_body, &exchange.response_body);
        let view = View::new(Meta::of(&exchange), &body);
        self.exchange(number, raw, &view, ReadAs::Whole(&exchange))
    }

    /// Judges the exchange on line `number`, read into `view`; `read` says
    /// how (when it was read the fast way and is to be kept, `raw` is
    /// parsed again in full).
    fn exchange(
        &mut self,
        number: u64,
        raw: &[u8],
        view: &View<'_>,
        read: ReadAs<'_>,
    ) -> std::io::Result<()> {
        let out = &mut self.out;
        out.lines = number;
        // Marked by its x-vipps-golive-run header or its User-Agent: a shop
        // can set its User-Agent to anything, the header is the tool's own.
        if crate::domain::exchange::is_harness_request(view.headers.pairs()) {
            out.harness_own += 1;
            return Ok(());
        }
        if !self.filter.admits(view) {
            out.filtered_out += 1;
            return Ok(());
        }
        out.judged += 1;
        // The input is someone else's file: a credential in clear in it must
        // not reach the folder (issue 22). Lines this tool wrote are already
        // redacted and are copied as they are.
        // Its names and shapes were looked at when it was parsed (the fast
        // way); the values registered so far can only be looked for here,
        // in order, after every earlier line was redacted.
        let clear = match read {
            ReadAs::Fast(shows) => shows || redact::line_holds_a_known_secret(raw.trim_ascii()),
            ReadAs::Whole(ex) => {
                let text = std::str::from_utf8(raw.trim_ascii()).unwrap_or("");
                let answer = ex.response_headers.iter();
                let headers = view
                    .headers
                    .pairs()
                    .chain(answer.map(|(k, v)| (k.as_str(), v.as_str())));
                redact::line_needs_redaction(text, headers)
            }
        };
        if !clear {
            self.copy.write_all(raw.trim_ascii())?;
            self.copy.write_all(b"\n")?;
        } else if let Ok(e) = serde_json::from_slice::<Exchange>(raw.trim_ascii()) {
            // (A line read as an exchange parses in full; were it ever not
            // to, it is judged but not copied, rather than copied in clear.)
            serde_json::to_writer(&mut self.copy, &redact::stored(e))?;
            self.copy.write_all(b"\n")?;
        }
        let before = self.rules.findings_so_far();
        self.rules.observe_view(view);
        let offends = self.rules.findings_so_far() > before;
        let keep_offending = offends && self.offending < KEEP_OFFENDING;
        let witness = witness_kind(view).filter(|k| self.witnessed[*k] < KEEP_WITNESSES);
        let keep_all = out.all_exchanges && out.exchanges.len() < KEEP_ALL_EXCHANGES;
        if out.all_exchanges && !keep_all {
            out.all_exchanges = false;
            out.exchanges = Vec::new();
        }
        if keep_offending {
            self.offending += 1;
        }
        if let Some(k) = witness {
            self.witnessed[k] += 1;
        }
        if !(keep_offending || witness.is_some() || keep_all) {
            return Ok(());
        }
        let whole = match read {
            ReadAs::Whole(e) => e.clone(),
            ReadAs::Fast(_) => match serde_json::from_slice::<Exchange>(raw.trim_ascii()) {
                Ok(e) => e,
                // Read borrowed, so it parses in full too; were it ever not
                // to, it is judged all the same and only not kept.
                Err(_) => return Ok(()),
            },
        };
        // Kept for evidence.json and the report: redacted like the copy.
        let whole = if clear { redact::stored(whole) } else { whole };
        if keep_offending || witness.is_some() {
            self.kept.insert(number, whole.clone());
        }
        if keep_all {
            out.exchanges.push(whole);
        }
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<Outcome> {
        self.copy.flush()?;
        let mut out = self.out;
        if !out.all_exchanges {
            out.exchanges = self.kept.into_values().collect();
        }
        let (findings, observed) = self.rules.finish_with_observed();
        // The rules judged the lines as read: a message may quote a value
        // that was a secret in clear (issue 22). Every credential of the
        // input has been registered by now (`redact::stored`), so its
        // fingerprint replaces it here as it does in the copy.
        out.findings = findings.into_iter().map(redacted_finding).collect();
        out.observed = observed;
        Ok(out)
    }
}

/// A finding whose words and pointer are redacted as the exchanges are.
fn redacted_finding(mut f: Finding) -> Finding {
    f.message = redact::text(&f.message);
    f.advice = redact::text(&f.advice);
    if let Some(x) = &mut f.exchange {
        x.path = redact::text(&x.path);
        x.reference = x.reference.as_deref().map(redact::text);
    }
    f
}

/// What was audited, for the report's head.
#[derive(Debug, Clone)]
pub struct Source {
    /// `journal` or `simulator`.
    pub kind: &'static str,
    /// The file or the simulator's URL.
    pub location: String,
}

/// Builds `evidence.json` (kind `audit`, all 17 items) for the folder
/// `run_id` names: its span is the audited traffic's, not the audit's own.
#[cfg(test)]
pub fn evidence(run_id: &str, source: &Source, filter: &Filter, outcome: &Outcome) -> Evidence {
    evidence_of(run_id, source, filter, outcome, Vec::new(), &[]).finish()
}

/// What an audit read (evidence.json's `input`): `sources` with their
/// SHA-256, the lines, the filters and what was skipped.
pub fn input_read(outcome: &Outcome, filter: &Filter, sources: Vec<InputSource>) -> InputRead {
    InputRead {
        sources,
        lines: outcome.lines,
        judged: outcome.judged,
        filtered_out: outcome.filtered_out,
        since: filter.since,
        msn: filter.msn.clone(),
        other_kinds: outcome.other_kinds,
        bad_lines: outcome
            .bad_lines
            .iter()
            .map(|b| SkippedLine {
                line: b.line,
                reason: b.reason.clone(),
            })
            .collect(),
        bad_line_count: outcome.bad_line_count,
        all_exchanges: outcome.all_exchanges,
    }
}

/// [`evidence`], not yet finished, with what was read (`sources`) and the
/// attestations given (`audit --attest`).
pub fn evidence_of(
    run_id: &str,
    source: &Source,
    filter: &Filter,
    outcome: &Outcome,
    sources: Vec<InputSource>,
    attestations: &[Attestation],
) -> EvidenceBuilder {
    let now = Utc::now();
    let meta = RunMeta::existing(FolderKind::Audit, run_id, now);
    let seen = &outcome.observed;
    let target = if source.kind == "simulator" {
        "simulator"
    } else {
        "custom"
    };
    meta.evidence(TargetInfo::new(target, source.location.clone()))
        .span(seen.first.unwrap_or(now), seen.last.unwrap_or(now))
        .msn(filter.msn.clone().unwrap_or_else(|| seen.msns.join(", ")))
        .system(
            (!seen.system_names.is_empty()).then(|| seen.system_names.join(", ")),
            (!seen.system_versions.is_empty()).then(|| seen.system_versions.join(", ")),
        )
        .items({
            let mut rows = items(outcome);
            crate::rules::pack::attest(&mut rows, attestations);
            rows
        })
        .attestations(attestations.to_vec())
        .harness_left_out(outcome.harness_own)
        .input(input_read(outcome, filter, sources))
        .findings(outcome.findings.clone())
        // The references are read from the exchanges kept (all of them for
        // a journal of up to KEEP_ALL_EXCHANGES; else those behind findings).
        .exchanges(outcome.exchanges.clone())
}

/// One row per checklist ID, in checklist order, as the shop's traffic
/// leaves it (before any attestation).
pub fn items(outcome: &Outcome) -> Vec<ItemResult> {
    ITEMS
        .iter()
        .map(|item| {
            let (verdict, reason) = crate::rules::audit_item(
                item.key,
                &outcome.findings,
                outcome.judged,
                &outcome.observed,
            );
            ItemResult {
                id: item.id.to_owned(),
                title: item.title.to_owned(),
                verdict,
                reason,
                scenarios: Vec::new(),
                references: Vec::new(),
                attestation: None,
            }
        })
        .collect()
}

/// Why a folder of the shop's evidence could not be finished.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    /// A file could not be written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The evidence.json written, read back, does not support one of its
    /// own PASS verdicts ([`crate::rules::recheck`]); the folder is sealed.
    #[error("{0}")]
    Contradicted(String),
}

/// Writes `evidence.json`, `report.html` and `manifest.json` into `dir`
/// (beside the `journal.jsonl` the audit copied there), then re-checks every
/// PASS from the evidence.json written, read back. One small function so
/// the lead can switch it to the run's folder writer and report renderer.
pub fn write_folder(
    folder: &crate::evidence::RunFolder,
    evidence: &Evidence,
    notes: &[String],
) -> Result<crate::evidence::Latest, FolderError> {
    write_folder_signed(folder, evidence, notes, None)
}

/// [`write_folder`], and with a key also `manifest.sig` (`pack --sign-key`):
/// the report shows the key and the time it is signed at.
pub(crate) fn write_folder_signed(
    folder: &crate::evidence::RunFolder,
    evidence: &Evidence,
    notes: &[String],
    sign_key: Option<&ed25519_dalek::SigningKey>,
) -> Result<crate::evidence::Latest, FolderError> {
    use crate::evidence::manifest;
    use crate::report::seal::Sealing;
    // evidence.json, the report, the status, the manifest (the same one
    // `run` writes, which `report --check` verifies), then `latest`, moved
    // only if it is ours.
    // evidence.json first: the report shows the SHA-256 of its bytes on disk.
    folder.write_evidence(evidence).map_err(|e| e.source)?;
    let at = Utc::now();
    let sealing = match sign_key {
        Some(key) => Sealing::Signed {
            fingerprint: manifest::fingerprint(&key.verifying_key()),
            at,
        },
        None => Sealing::Unsigned,
    };
    let signing = sign_key.map(|key| manifest::Signing { key, at });
    // The report and the manifest both hash journal.jsonl: read once.
    let latest = manifest::sealing(|| {
        let html = report_html_sealed(evidence, notes, folder.dir(), &sealing);
        folder.finish_files_signed(&[("report.html", html.as_bytes())], signing)
    })
    .map_err(|e| e.source)?;
    let path = folder.path(crate::evidence::folder::EVIDENCE_FILE);
    let found = crate::rules::recheck::written(&path).map_err(std::io::Error::other)?;
    if found.is_empty() {
        Ok(latest)
    } else {
        Err(FolderError::Contradicted(crate::rules::recheck::describe(
            &found,
            folder.dir(),
        )))
    }
}

/// The report (`crate::report::render`) with the audit's notes (lines skipped,
/// filters) added at the end; the minimal page below if the renderer fails.
/// `sealing` says how the folder is about to be sealed (the report shows it).
fn report_html_sealed(
    e: &Evidence,
    notes: &[String],
    dir: &std::path::Path,
    sealing: &crate::report::seal::Sealing,
) -> String {
    let evidence_path = dir.join(crate::evidence::folder::EVIDENCE_FILE);
    match crate::report::render_in(e, dir, &evidence_path, sealing) {
        Ok(page) if !notes.is_empty() => {
            let items: String = notes
                .iter()
                .map(|n| format!("<li>{}</li>", escape_html(n)))
                .collect();
            let section = format!(
                "<section id=\"audit-notes\"><h2>What the audit read</h2><ul>{items}</ul></section>\n</body>"
            );
            match page.rfind("</body>") {
                Some(at) => format!("{}{section}{}", &page[..at], &page[at + "</body>".len()..]),
                None => page + &section,
            }
        }
        Ok(page) => page,
        Err(err) => {
            tracing::warn!(error = %err, "the report renderer failed; writing the plain audit page");
            html(e, notes)
        }
    }
}

/// A minimal self-contained page: the fallback when the report renderer fails.
pub fn html(e: &Evidence, notes: &[String]) -> String {
    use std::fmt::Write as _;
    let mut rows = String::new();
    for i in &e.items {
        let _ = writeln!(
            rows,
            "<tr><td>{}</td><td>{}</td><td class=\"v\">{}</td><td>{}</td></tr>",
            escape_html(&i.id),
            escape_html(&i.title),
            i.verdict.label(),
            escape_html(i.reason.as_deref().unwrap_or(""))
        );
    }
    let mut found = String::new();
    for f in &e.findings {
        let at = f
            .exchange
            .as_ref()
            .map(|x| format!("{} {} {}", x.time.to_rfc3339(), x.method, x.path))
            .unwrap_or_default();
        let _ = writeln!(
            found,
            "<li><b>{}</b> {:?} <code>{}</code>: {}<br><i>{}</i> <small>{}</small></li>",
            escape_html(&f.checklist_id),
            f.severity,
            escape_html(&f.rule),
            escape_html(&f.message),
            escape_html(&f.advice),
            escape_html(&at)
        );
    }
    for c in &e.webhook_checks {
        let _ = writeln!(
            found,
            "<li><b>webhook {}</b> {}: answered {}, expected {}. {}</li>",
            escape_html(&c.case),
            c.verdict.label(),
            c.status.map_or("nothing".to_owned(), |s| s.to_string()),
            if c.expected_accept {
                "2xx"
            } else {
                "a rejection"
            },
            escape_html(&c.explanation)
        );
    }
    let notes: String = notes
        .iter()
        .map(|n| format!("<li>{}</li>", escape_html(n)))
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>vipps-golive audit {id}</title>\
<style>body{{font-family:system-ui,sans-serif;margin:2rem}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top}}</style></head><body>\
<h1>Audit of {src}</h1><p>Vipps-System-Name <b>{name}</b>, Vipps-System-Version <b>{version}</b>, MSN <b>{msn}</b>; traffic from {from} to {to}.</p>\
<table><tr><th>ID</th><th>item</th><th>verdict</th><th>why</th></tr>{rows}</table><h2>Findings</h2><ul>{found}</ul><h2>Notes</h2><ul>{notes}</ul></body></html>\n",
        id = escape_html(&e.run.run_id),
        src = escape_html(&e.run.base_url),
        name = escape_html(e.run.system_name.as_deref().unwrap_or("(not sent)")),
        version = escape_html(e.run.system_version.as_deref().unwrap_or("(not sent)")),
        msn = escape_html(&e.run.msn),
        from = e.run.started_at.to_rfc3339(),
        to = e.run.finished_at.to_rfc3339(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal() -> String {
        let line = |i: u32, extra: &str| {
            format!(
                r#"{{"schema_version":1,"id":"e{i}","started_at":"2026-01-01T00:00:{:02}Z","duration_ms":1,"method":"GET","url":"/epayment/v1/payments/acme-order{i}","request_headers":[["Merchant-Serial-Number","123456"]],"request_body":null,"status":200,"response_headers":[],"response_body":{{"state":"CREATED{extra}"}},"error":null,"attempt":1,"reference":null,"checklist_ids":[],"scenario":null}}"#,
                i % 60
            )
        };
        let mut text = String::new();
        for i in 0..40 {
            text.push_str(&line(i, ""));
            text.push_str(if i % 3 == 0 { "\r\n" } else { "\n" });
            if i == 7 {
                text.push_str("\n   \n{\"kind\":\"attempt\"}\nnot json\n");
            }
            if i == 20 {
                // Longer than several small blocks together.
                text.push_str(&line(1000, &"x".repeat(3000)));
                text.push('\n');
            }
            if i == 30 {
                // Strings with escapes (not spans of the line).
                text.push_str(r#"{"schema_version":1,"id":"e\u0031","started_at":"2026-01-01T00:01:00Z","duration_ms":1,"method":"POST","url":"/epayment/v1/payments","request_headers":[["Merchant-Serial-Number","12\u00334"],["Vipps-System-Name","a\"b"]],"request_body":{"reference":"acme-\u00e6-1","returnUrl":"http://s/r?a=1\u0026reference=acme-\u00e6-1","amount":{"value":100}},"status":201,"response_headers":[],"response_body":[{"name":"CAP\u0054URED"}],"error":null,"attempt":1,"reference":"r\u00e9f","checklist_ids":["QA-\u0045RRORS"],"scenario":null}"#);
                text.push('\n');
            }
        }
        // The last line, cut short.
        text.push_str(&line(99, "")[..50]);
        text
    }

    fn outcome(block: usize, parsers: usize) -> (Outcome, Vec<u8>) {
        let mut copy = Vec::new();
        let text = journal();
        let o = audit_in_blocks(
            text.as_bytes(),
            &Filter::default(),
            RuleOptions::default(),
            &mut copy,
            (block, parsers),
            &mut |_| {},
        )
        .unwrap();
        (o, copy)
    }

    /// Lines split across blocks, longer than a block, ending in CRLF, blank,
    /// of another kind, bad, or cut short: whatever the block size, the same
    /// lines are judged, counted and copied.
    #[test]
    fn every_block_size_reads_the_same_lines() {
        let (whole, whole_copy) = outcome(1 << 20, 1);
        assert_eq!(whole.judged, 42);
        assert_eq!(whole.other_kinds, 1);
        assert_eq!(whole.bad_line_count, 2);
        assert_eq!(whole.lines, 47);
        // The same as whole exchanges judged by `run`'s path.
        let exchanges: Vec<Exchange> = journal()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        assert_eq!(exchanges.len(), 42);
        let mut rules = RuleSet::new(RuleOptions {
            audit: true,
            ..RuleOptions::default()
        });
        exchanges.iter().for_each(|e| rules.observe(e));
        let (findings, observed) = rules.finish_with_observed();
        assert!(findings.iter().any(|f| f.rule == "redirects.insecure"));
        assert_eq!(whole.findings, findings);
        assert_eq!(whole.observed, observed);
        assert_eq!(whole.observed.msns, ["123456", "1234"]);
        assert_eq!(whole.exchanges, exchanges);
        assert!(whole.bad_lines[1].reason.starts_with("truncated last line"));
        for (block, parsers) in [1, 2, 3, 7, 64, 333, 1000, 4096]
            .into_iter()
            .flat_map(|b| [(b, 1), (b, 2), (b, 3)])
        {
            let (o, copy) = outcome(block, parsers);
            let at = format!("block {block}, {parsers} parsers");
            assert_eq!(o.lines, whole.lines, "{at}");
            assert_eq!(o.judged, whole.judged, "{at}");
            assert_eq!(o.bad_lines, whole.bad_lines, "{at}");
            assert_eq!(o.other_kinds, whole.other_kinds, "{at}");
            assert_eq!(o.findings, whole.findings, "{at}");
            assert_eq!(o.exchanges, whole.exchanges, "{at}");
            assert_eq!(copy, whole_copy, "{at}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(96))]
        /// Whatever bytes are changed, added or taken out, the audit judges
        /// exactly the lines that parse as whole exchanges, as `run`'s path
        /// judges them, and never panics.
        #[test]
        fn a_damaged_journal_is_judged_as_whole_exchanges_are(
            edits in proptest::collection::vec((0usize..1_000_000, 0u8..3, proptest::prelude::any::<u8>()), 1..40),
            block in 1usize..5000,
        ) {
            let mut bytes = journal().into_bytes();
            for (at, kind, byte) in edits {
                let at = at % (bytes.len() + 1);
                match kind {
                    0 if at < bytes.len() => bytes[at] = byte,
                    1 => bytes.insert(at, byte),
                    _ if at < bytes.len() => { bytes.remove(at); }
                    _ => {}
                }
            }
            let mut copy = Vec::new();
            let o = audit_in_blocks(&bytes[..], &Filter::default(), RuleOptions::default(), &mut copy, (block, 2), &mut |_| {}).unwrap();
            let exchanges: Vec<Exchange> = bytes
                .split(|b| *b == b'\n')
                .filter_map(|l| serde_json::from_slice::<Exchange>(l.trim_ascii()).ok())
                .filter(|e| e.schema_version <= SCHEMA_VERSION)
                .collect();
            let mut rules = RuleSet::new(RuleOptions { audit: true, ..RuleOptions::default() });
            exchanges.iter().for_each(|e| rules.observe(e));
            let (findings, observed) = rules.finish_with_observed();
            proptest::prop_assert_eq!(o.judged as usize, exchanges.len());
            proptest::prop_assert_eq!(&o.findings, &findings);
            proptest::prop_assert_eq!(&o.observed, &observed);
            proptest::prop_assert_eq!(&o.exchanges, &exchanges);
            proptest::prop_assert_eq!(copy.iter().filter(|b| **b == b'\n').count(), exchanges.len());
        }
    }

    /// Progress is told after each batch, in order, up to the last line.
    #[test]
    fn progress_counts_up_to_every_line() {
        let text = journal().repeat(30);
        let mut told = Vec::new();
        let o = audit_in_blocks(
            text.as_bytes(),
            &Filter::default(),
            RuleOptions::default(),
            std::io::sink(),
            (10_000, 2),
            &mut |n| told.push(n),
        )
        .unwrap();
        assert!(told.len() > 10, "{told:?}");
        assert!(told.windows(2).all(|w| w[0] < w[1]), "{told:?}");
        assert_eq!(told.last(), Some(&o.lines));
    }

    /// A copy that fails part way (a full disk) ends the audit with that
    /// error, and the reading and parsing threads stop with it.
    #[test]
    fn a_copy_error_is_the_audits_error() {
        struct Full(usize);
        impl Write for Full {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                if self.0 < buf.len() {
                    return Err(std::io::Error::other("No space left on device"));
                }
                self.0 -= buf.len();
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let text = journal().repeat(200);
        for parsers in [1, 2, 3] {
            let err = audit_in_blocks(
                text.as_bytes(),
                &Filter::default(),
                RuleOptions::default(),
                Full(20_000),
                (4096, parsers),
                &mut |_| {},
            )
            .unwrap_err();
            assert_eq!(err.to_string(), "No space left on device");
        }
    }

    /// A read that fails part way ends the audit with that error.
    #[test]
    fn a_read_error_is_the_audits_error() {
        struct Failing(Vec<u8>);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() {
                    return Err(std::io::Error::other("disk gone"));
                }
                let n = buf.len().min(self.0.len()).min(100);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0.drain(..n);
                Ok(n)
            }
        }
        for block in [64, 1 << 20] {
            let err = audit_in_blocks(
                Failing(journal().into_bytes()),
                &Filter::default(),
                RuleOptions::default(),
                std::io::sink(),
                (block, 2),
                &mut |_| {},
            )
            .unwrap_err();
            assert_eq!(err.to_string(), "disk gone");
        }
    }

    /// A line over the 16 MiB cap (here a run of zeros with no newline, then
    /// one more of them ended by a newline) is reported by number and
    /// skipped; the lines around it are judged as ever.
    #[test]
    fn a_line_over_the_cap_is_reported_and_skipped_not_held() {
        let cap = crate::domain::input::JOURNAL_LINE_CAP;
        let mut text = journal().lines().next().unwrap().to_owned();
        text.push('\n');
        text.push_str(&"0".repeat(cap + 10));
        text.push('\n');
        text.push_str(journal().lines().nth(1).unwrap());
        text.push('\n');
        text.push_str(&"\0".repeat(cap + 1));
        let o = audit_in_blocks(
            text.as_bytes(),
            &Filter::default(),
            RuleOptions::default(),
            std::io::sink(),
            (1 << 20, 1),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(o.judged, 2);
        assert_eq!(o.lines, 4);
        assert_eq!(o.bad_line_count, 2);
        assert_eq!(o.bad_lines[0].line, 2);
        assert!(
            o.bad_lines[0].reason.contains("longer than 16 MiB"),
            "{:?}",
            o.bad_lines
        );
        assert_eq!(o.bad_lines[1].line, 4);
    }
}

#[cfg(test)]
mod tests_stream;

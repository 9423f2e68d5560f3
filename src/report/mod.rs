//! The evidence report: `evidence.json` in, one self-contained HTML file out;
//! and the run folder's seal ([`manifest`]).
//!
//! [`view::build`] turns an [`Evidence`] into a view model and only that
//! reaches handlebars; the templates under `src/report/templates/` are
//! embedded in the binary. The page carries its CSS inline, runs no script
//! and fetches nothing (a Content-Security-Policy says so to the browser), so
//! it reads the same offline in a year.

/// The manifest lives with the run folder it seals; re-exported here for `report --check`.
pub use crate::evidence::manifest;
pub(crate) mod ci;
pub mod markdown;
pub mod recover;
pub(crate) mod seal;
pub mod view;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use handlebars::Handlebars;

use crate::evidence::model::{Evidence, EvidenceReadError};

/// File names in a run folder.
pub const EVIDENCE_FILE: &str = "evidence.json";
pub const REPORT_FILE: &str = "report.html";
pub const JOURNAL_FILE: &str = "journal.jsonl";

const REPORT: &str = include_str!("templates/report.hbs");
const REFERENCE: &str = include_str!("templates/reference.hbs");
const EXCHANGE: &str = include_str!("templates/exchange.hbs");
const EXLINE: &str = include_str!("templates/exline.hbs");
const PROBLEM: &str = include_str!("templates/problem.hbs");
const INTERRUPTED: &str = include_str!("templates/interrupted.hbs");
const PROOF: &str = include_str!("templates/proof.hbs");
const WORDS: &str = include_str!("templates/words.hbs");
const STYLE: &str = include_str!("templates/style.css");

/// Everything that can go wrong rendering a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("could not {action} `{path}`")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Evidence(#[from] EvidenceReadError),
    #[error("`{path}` has no evidence.json (hint: a run killed before its end leaves only a journal: `vipps-golive report --from-journal {path}`)")]
    NoEvidence { path: PathBuf },
    #[error("`{path}` has evidence schema version {found}, written by an earlier vipps-golive before the report existed (hint: `vipps-golive report --from-journal DIR` renders its folder from the journal)")]
    OldSchema { path: PathBuf, found: u32 },
    #[error("the report template failed: {0} (hint: this is a bug in vipps-golive)")]
    Template(String),
    #[error(transparent)]
    Manifest(#[from] manifest::ManifestError),
    #[error(transparent)]
    Journal(#[from] crate::evidence::JournalError),
    /// An input that is not a regular file, too large, or unreadable.
    #[error(transparent)]
    Input(#[from] crate::domain::input::InputError),
}

/// Renders the report of `evidence` as one HTML document, with its folder's
/// `seal` on page one and in every printed page's footer ([`seal::view`]).
pub fn render(evidence: &Evidence, seal: &seal::SealView) -> Result<String, ReportError> {
    #[derive(serde::Serialize)]
    struct Page<'a> {
        #[serde(flatten)]
        view: view::ReportView,
        seal: &'a seal::SealView,
    }
    let page = Page {
        view: view::build(evidence),
        seal,
    };
    templates()?
        .render("report", &page)
        .map_err(|e| ReportError::Template(e.to_string()))
}

/// [`render`] for the folder `dir` whose evidence.json is already on disk
/// at `evidence_path`, sealed as `sealing` says.
pub(crate) fn render_in(
    evidence: &Evidence,
    dir: &Path,
    evidence_path: &Path,
    sealing: &seal::Sealing,
) -> Result<String, ReportError> {
    let seal = seal::view(
        dir,
        evidence_path,
        &evidence.run.run_id,
        evidence.complete,
        sealing,
    );
    render(evidence, &seal)
}

/// The report's templates, parsed once per process: `run`, `audit` and
/// `compare` may each render several pages, and the templates are the same
/// bytes every time (embedded in the binary).
fn templates() -> Result<&'static Handlebars<'static>, ReportError> {
    static TEMPLATES: OnceLock<Result<Handlebars<'static>, String>> = OnceLock::new();
    TEMPLATES
        .get_or_init(|| {
            let mut hb = Handlebars::new();
            for (name, text) in [
                ("report", REPORT),
                ("reference", REFERENCE),
                ("exchange", EXCHANGE),
                ("exline", EXLINE),
                ("problem", PROBLEM),
                ("interrupted", INTERRUPTED),
                ("proof", PROOF),
                ("words", WORDS),
                ("style", STYLE),
            ] {
                hb.register_template_string(name, text)
                    .map_err(|e| e.to_string())?;
            }
            Ok(hb)
        })
        .as_ref()
        .map_err(|e| ReportError::Template(e.clone()))
}

/// Where evidence was read from: the file, and the run folder it sits in.
#[derive(Debug, Clone)]
pub struct Source {
    pub evidence_path: PathBuf,
    pub dir: PathBuf,
}

/// Resolves `DIR` or `DIR/evidence.json`.
pub fn locate(path: &Path) -> Result<Source, ReportError> {
    if path.is_dir() {
        let evidence_path = path.join(EVIDENCE_FILE);
        if !evidence_path.is_file() {
            return Err(ReportError::NoEvidence {
                path: path.to_owned(),
            });
        }
        return Ok(Source {
            evidence_path,
            dir: path.to_owned(),
        });
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_owned)
        .unwrap_or_else(|| PathBuf::from("."));
    Ok(Source {
        evidence_path: path.to_owned(),
        dir,
    })
}

/// Reads and parses an evidence file (a newer schema is refused).
pub fn load(path: &Path) -> Result<Evidence, ReportError> {
    let text =
        crate::domain::input::read_to_string(path, crate::domain::input::InputKind::Evidence)?;
    #[derive(serde::Deserialize)]
    struct Version {
        schema_version: u32,
    }
    // Version 1 (the interim runner's flows) cannot be shown as a checklist.
    if let Ok(Version { schema_version }) = serde_json::from_str::<Version>(&text) {
        if schema_version < 2 {
            return Err(ReportError::OldSchema {
                path: path.to_owned(),
                found: schema_version,
            });
        }
    }
    Ok(Evidence::from_json(&path.display().to_string(), &text)?)
}

/// Writes `html` to `path` through a temporary name and a rename.
pub fn write_html(path: &Path, html: &str) -> Result<(), ReportError> {
    Ok(manifest::write_atomic(path, html.as_bytes())?)
}

/// Writes `evidence` as pretty JSON to `path` (temporary name, then rename).
pub fn write_evidence(path: &Path, evidence: &Evidence) -> Result<(), ReportError> {
    let mut bytes = serde_json::to_vec_pretty(evidence)
        .map_err(|e| ReportError::Template(format!("cannot serialise the evidence: {e}")))?;
    bytes.push(b'\n');
    Ok(manifest::write_atomic(path, &bytes)?)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod tests_recover;

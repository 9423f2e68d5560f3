//! `vipps-golive report`: render the evidence report again, check a run
//! folder against its manifest, or report a run that was killed. The work is
//! in [`crate::report`]; this only reads the flags and prints.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::ReportArgs;
use crate::report::{self, manifest, ReportError, EVIDENCE_FILE, REPORT_FILE};
use crate::Error;

/// Render, check or recover, per the flags (see `vipps-golive report --help`).
///
/// Results go to `out` (stdout); notices to stderr. Exit status: 0 done (or
/// the folder is intact and every PASS in its evidence.json is supported by
/// it), 1 `--check` found a change, a bad signature or a verdict its
/// evidence contradicts, 2 the evidence, manifest or key could not be read.
///
/// Example: `vipps-golive report reports/latest`
pub fn run(args: &ReportArgs, out: &mut dyn Write) -> Result<(), Error> {
    let print = |out: &mut dyn Write, text: &str| {
        out.write_all(text.as_bytes()).map_err(|source| Error::Io {
            context: "cannot write to stdout".into(),
            source,
        })
    };
    if let Some(key_path) = &args.gen_key {
        let public = manifest::generate_key(key_path).map_err(ReportError::from)?;
        return print(
            out,
            &format!(
                "private key: {} (keep it secret)\npublic key:  {} (give it to whoever checks)\n",
                key_path.display(),
                public.display()
            ),
        );
    }
    if let Some(dir) = &args.from_journal {
        return from_journal(args, dir, out);
    }
    let Some(path) = &args.path else {
        return Err(Error::Usage(
            "give a run folder or an evidence.json (hint: `vipps-golive report reports/latest`)"
                .into(),
        ));
    };
    if args.check {
        return check(args, path, out);
    }

    let source = report::locate(path)?;
    let evidence = report::load(&source.evidence_path)?;
    if args.markdown {
        return print(out, &report::markdown::render(&evidence));
    }
    let signing = signing_key(args)?;
    let html = report::render_in(
        &evidence,
        &source.dir,
        &source.evidence_path,
        &sealing(signing.as_ref()),
    )?;
    let target = args
        .out
        .clone()
        .unwrap_or_else(|| source.dir.join(REPORT_FILE));
    report::write_html(&target, &html)?;
    print(out, &format!("report: {}\n", target.display()))?;
    seal_or_warn(
        signing.as_ref(),
        &source.dir,
        &evidence.run.run_id,
        &target,
        out,
    )
}

/// The `--sign-key`, read before rendering, with the signing time taken
/// once: the report shows the same key and time the manifest records.
fn signing_key(
    args: &ReportArgs,
) -> Result<Option<(ed25519_dalek::SigningKey, chrono::DateTime<chrono::Utc>)>, Error> {
    match &args.sign_key {
        Some(path) => {
            let key = manifest::read_signing_key(path).map_err(ReportError::from)?;
            Ok(Some((key, chrono::Utc::now())))
        }
        None => Ok(None),
    }
}

/// How the report shows its seal: signed by the key about to sign, or as
/// the folder's manifest records it (so a plain re-render keeps its bytes).
fn sealing(
    signing: Option<&(ed25519_dalek::SigningKey, chrono::DateTime<chrono::Utc>)>,
) -> report::seal::Sealing {
    match signing {
        Some((key, at)) => report::seal::Sealing::Signed {
            fingerprint: manifest::fingerprint(&key.verifying_key()),
            at: *at,
        },
        None => report::seal::Sealing::AsRecorded,
    }
}

fn check(args: &ReportArgs, dir: &Path, out: &mut dyn Write) -> Result<(), Error> {
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "`{}` is not a run folder (hint: --check takes the folder, e.g. reports/latest)",
            dir.display()
        )));
    }
    let key = match &args.public_key {
        Some(p) => Some(manifest::read_verifying_key(p).map_err(ReportError::from)?),
        None => None,
    };
    let result = match manifest::check(dir, key.as_ref()) {
        Ok(r) => r,
        // A folder without a manifest proves nothing: not met (1), not a usage error.
        Err(e @ manifest::ManifestError::Missing { .. }) => {
            return Err(Error::Failed(e.to_string()))
        }
        Err(e) => return Err(ReportError::from(e).into()),
    };
    let verdicts = recheck(dir)?;
    out.write_all(format!("{}{}", result.render(), verdicts.render()).as_bytes())
        .map_err(|source| Error::Io {
            context: "cannot write to stdout".into(),
            source,
        })?;
    let mut problems = Vec::new();
    if !result.intact() {
        let n = result.changed.len() + result.added.len() + result.removed.len();
        problems.push(format!(
            "`{}` does not match its manifest: {n} file(s) differ, signature {}",
            dir.display(),
            serde_json::to_value(result.signature)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        ));
    }
    if let Some(problem) = verdicts.problem(dir) {
        problems.push(problem);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Failed(problems.join("; and ")))
    }
}

/// What the re-check of a folder's verdicts found (issue 20 point 3).
enum Verdicts {
    /// The folder has no evidence.json (a compare folder, a killed run).
    NoEvidence,
    /// evidence.json is there but not readable evidence.
    Unreadable(String),
    /// Every PASS the evidence does not support (empty: all hold).
    Checked(Vec<crate::rules::recheck::Contradiction>),
}

/// Re-derives every PASS of `dir/evidence.json` from that file alone, with
/// the same check the command that wrote it ran ([`crate::rules::recheck`]).
/// A newer schema is refused as elsewhere (exit 2).
fn recheck(dir: &Path) -> Result<Verdicts, Error> {
    let path = dir.join(EVIDENCE_FILE);
    if !path.is_file() {
        return Ok(Verdicts::NoEvidence);
    }
    match crate::rules::recheck::written(&path) {
        Ok(found) => Ok(Verdicts::Checked(found)),
        Err(e @ crate::evidence::model::EvidenceReadError::TooNew { .. }) => {
            Err(ReportError::from(e).into())
        }
        Err(e) => Ok(Verdicts::Unreadable(format!(
            "{e}: {}",
            std::error::Error::source(&e).map_or(String::new(), |s| s.to_string())
        ))),
    }
}

impl Verdicts {
    /// Lines for the terminal, after the manifest's.
    fn render(&self) -> String {
        match self {
            Verdicts::NoEvidence => {
                "verdicts: not re-checked (the folder has no evidence.json)\n".into()
            }
            Verdicts::Unreadable(why) => format!("verdicts: NOT CHECKED: {why}\n"),
            Verdicts::Checked(found) if found.is_empty() => {
                "verdicts: every PASS is supported by evidence.json\n".into()
            }
            Verdicts::Checked(found) => {
                let mut text = format!(
                    "verdicts: {} PASS claim(s) evidence.json does not support\n",
                    found.len()
                );
                for c in found {
                    text.push_str(&format!("  {c}\n"));
                }
                text
            }
        }
    }

    /// Why the check fails, when it does.
    fn problem(&self, dir: &Path) -> Option<String> {
        match self {
            Verdicts::NoEvidence => None,
            Verdicts::Unreadable(why) => Some(format!(
                "the verdicts of `{}` cannot be re-checked: {why}",
                dir.display()
            )),
            Verdicts::Checked(found) if found.is_empty() => None,
            Verdicts::Checked(found) => Some(format!(
                "{}: {} verdict(s) of `{}` are not supported by its evidence.json",
                crate::rules::recheck::CONTRADICTS,
                found.len(),
                dir.display()
            )),
        }
    }
}

fn from_journal(args: &ReportArgs, dir: &Path, out: &mut dyn Write) -> Result<(), Error> {
    if dir.join(manifest::MANIFEST).is_file() && args.out.is_none() {
        return Err(Error::Usage(format!(
            "`{}` is a finished run (it has a manifest) (hint: `vipps-golive report {}`, or --out FILE to render its journal elsewhere)",
            dir.display(),
            dir.display()
        )));
    }
    let evidence = report::recover::from_journal(dir)?;
    let evidence_path = dir.join(EVIDENCE_FILE);
    // A killed run wrote no evidence.json; keep what the journal gives, but
    // never overwrite evidence a run wrote. Written before the report, whose
    // seal shows its SHA-256.
    if args.out.is_none() && !evidence_path.exists() {
        report::write_evidence(&evidence_path, &evidence)?;
    }
    let signing = signing_key(args)?;
    let html = report::render_in(&evidence, dir, &evidence_path, &sealing(signing.as_ref()))?;
    let target: PathBuf = args.out.clone().unwrap_or_else(|| dir.join(REPORT_FILE));
    report::write_html(&target, &html)?;
    let text = format!(
        "INCOMPLETE report: {} ({} exchanges, {} references, {} interrupted attempt(s))\n",
        target.display(),
        evidence.exchanges.len(),
        evidence.references.len(),
        evidence.interrupted.len()
    );
    out.write_all(text.as_bytes()).map_err(|source| Error::Io {
        context: "cannot write to stdout".into(),
        source,
    })?;
    if signing.is_some() {
        seal_or_warn(signing.as_ref(), dir, &evidence.run.run_id, &target, out)?;
    }
    Ok(())
}

/// With `--sign-key`, seals the folder again; without it, warns when the new
/// report.html no longer matches the folder's manifest.
fn seal_or_warn(
    signing: Option<&(ed25519_dalek::SigningKey, chrono::DateTime<chrono::Utc>)>,
    dir: &Path,
    run_id: &str,
    written: &Path,
    out: &mut dyn Write,
) -> Result<(), Error> {
    if let Some((key, at)) = signing {
        let signing = manifest::Signing { key, at: *at };
        let sealed = manifest::write(dir, run_id, Some(signing)).map_err(ReportError::from)?;
        let text = format!(
            "sealed: {} ({} files) and {}\n",
            dir.join(manifest::MANIFEST).display(),
            sealed.files.len(),
            manifest::SIGNATURE
        );
        return out.write_all(text.as_bytes()).map_err(|source| Error::Io {
            context: "cannot write to stdout".into(),
            source,
        });
    }
    if written.parent() == Some(dir) && dir.join(manifest::MANIFEST).is_file() {
        if let Ok(result) = manifest::check(dir, None) {
            if !result.changed.is_empty() || !result.added.is_empty() {
                crate::output::diag(&format!(
                    "note: the folder no longer matches its manifest.json ({}); `report --check` will list it (hint: --out FILE renders elsewhere, --sign-key FILE seals the folder again)",
                    [result.changed, result.added].concat().join(", ")
                ));
            }
        }
    }
    Ok(())
}

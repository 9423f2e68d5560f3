//! The seal as a reader of the report sees it (issue 24 point 2): whether
//! the folder is SIGNED (and by which key), UNSIGNED or INCOMPLETE, the
//! SHA-256 of `evidence.json` and `journal.jsonl`, the run id, and the one
//! command that checks the folder offline. Shown on page one and, through
//! the `@page` footer, on every printed page.
//!
//! Order matters, since `report.html` is itself listed in the manifest: the
//! folder's writer puts `evidence.json` on disk first, the seal hashes the
//! bytes there, the report is rendered with it, and only then is the
//! manifest (and its signature) written over every file, the report
//! included. A later `report DIR --sign-key` renders again with the mark
//! SIGNED before it seals; a plain `report DIR` reads the mark back from the
//! manifest, so rendering again gives the same bytes.

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::evidence::manifest;

/// How the folder is, or is about to be, sealed.
#[derive(Debug, Clone)]
pub(crate) enum Sealing {
    /// The writer seals it next with a manifest and no signature.
    Unsigned,
    /// The writer signs it next with the key of this fingerprint
    /// ([`manifest::fingerprint`]), recording this time.
    Signed {
        fingerprint: String,
        at: DateTime<Utc>,
    },
    /// As the folder's `manifest.json` says (a plain re-render): signed when
    /// it names a signer and `manifest.sig` is there, unsigned when it names
    /// none, not sealed when there is no manifest.
    AsRecorded,
}

/// What the page shows of the seal. Every field is text the templates place.
#[derive(Debug, Clone, Serialize)]
pub struct SealView {
    /// `SIGNED`, `UNSIGNED` or `INCOMPLETE`.
    pub mark: &'static str,
    /// `signed`, `unsigned` or `incomplete`: the mark's style.
    pub class: &'static str,
    /// One sentence saying what the mark means for this folder.
    pub meaning: String,
    pub key_fingerprint: Option<String>,
    pub signed_at: Option<String>,
    pub evidence_sha256: Option<String>,
    pub journal_sha256: Option<String>,
    pub run_id: String,
    /// The command that checks the folder offline.
    pub check_command: String,
    /// The printed pages' footer, escaped for a CSS string (placed raw
    /// inside `<style>`, where HTML escaping would show as text).
    pub print_footer: String,
}

/// The seal of the folder `dir` whose evidence is at `evidence_path`.
/// `complete` is the evidence's own word: a run that did not finish is
/// INCOMPLETE whatever else holds.
pub(crate) fn view(
    dir: &Path,
    evidence_path: &Path,
    run_id: &str,
    complete: bool,
    sealing: &Sealing,
) -> SealView {
    let (signer, sealed) = match sealing {
        Sealing::Unsigned => (None, true),
        Sealing::Signed { fingerprint, at } => (Some((fingerprint.clone(), *at)), true),
        Sealing::AsRecorded => recorded(dir),
    };
    let (mark, class, meaning) = match (&signer, complete && sealed) {
        (_, false) if !complete => (
            "INCOMPLETE",
            "incomplete",
            "The run did not finish: the evidence is partial and no verdict stands.".to_owned(),
        ),
        (_, false) => (
            "INCOMPLETE",
            "incomplete",
            "No manifest.json seals this folder: nothing proves its files are the ones written."
                .to_owned(),
        ),
        (Some(_), true) => (
            "SIGNED",
            "signed",
            "manifest.json lists the SHA-256 of every file of the folder, this report included, and manifest.sig is its Ed25519 signature by the key below.".to_owned(),
        ),
        (None, true) => (
            "UNSIGNED",
            "unsigned",
            "manifest.json lists the SHA-256 of every file of the folder, this report included; no key signed it, so it proves the files match, not who sealed them.".to_owned(),
        ),
    };
    let check_command = if signer.is_some() {
        "vipps-golive report --check FOLDER --public-key KEY.pub".to_owned()
    } else {
        "vipps-golive report --check FOLDER".to_owned()
    };
    let evidence_sha256 = sha256_of(evidence_path);
    let journal_sha256 = sha256_of(&dir.join(super::JOURNAL_FILE));
    let short = |h: &Option<String>| {
        h.as_deref()
            .map_or("none".to_owned(), |h| h[..16].to_owned())
    };
    let print_footer = css_string(&format!(
        "run {run_id} · {mark} · evidence.json sha256 {}… · journal.jsonl sha256 {}…",
        short(&evidence_sha256),
        short(&journal_sha256)
    ));
    SealView {
        mark,
        class,
        meaning,
        key_fingerprint: signer.as_ref().map(|(f, _)| f.clone()),
        signed_at: signer
            .as_ref()
            .map(|(_, at)| at.to_rfc3339_opts(SecondsFormat::Secs, true)),
        evidence_sha256,
        journal_sha256,
        run_id: run_id.to_owned(),
        check_command,
        print_footer,
    }
}

/// The signer `dir/manifest.json` names (when `manifest.sig` is there too),
/// and whether the folder is sealed at all.
fn recorded(dir: &Path) -> (Option<(String, DateTime<Utc>)>, bool) {
    match manifest::read(dir) {
        Ok((m, _)) => {
            let signed = dir.join(manifest::SIGNATURE).is_file();
            let signer = m
                .signer
                .filter(|_| signed)
                .map(|s| (s.key_fingerprint, s.signed_at));
            (signer, true)
        }
        Err(_) => (None, false),
    }
}

/// Lowercase hex SHA-256 of a file, or `None` when it cannot be read.
fn sha256_of(path: &Path) -> Option<String> {
    manifest::sha256_file(path).ok().map(|(sha256, _)| sha256)
}

/// `text` as the inside of a double-quoted CSS string that cannot end the
/// `<style>` element: quotes and backslashes escaped, `<` and control
/// characters as CSS hex escapes.
fn css_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '<' | '>' | '&' => out.push_str(&format!("\\{:x} ", c as u32)),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_css_string_cannot_close_the_style_element() {
        let s = css_string(r#"run </style><script>"x\"#);
        assert!(!s.contains('<'));
        assert_eq!(s, r#"run \3c /style\3e \3c script\3e \"x\\"#);
    }

    #[test]
    fn a_folder_without_manifest_is_incomplete_and_one_with_a_signer_is_signed() {
        let dir = tempfile::tempdir().unwrap();
        let ev = dir.path().join("evidence.json");
        std::fs::write(&ev, "{}").unwrap();
        let v = view(dir.path(), &ev, "r1", true, &Sealing::AsRecorded);
        assert_eq!(v.mark, "INCOMPLETE");
        assert_eq!(
            v.evidence_sha256.as_deref(),
            Some("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
        );
        assert_eq!(v.journal_sha256, None);

        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let at = Utc::now();
        manifest::write(dir.path(), "r1", Some(manifest::Signing { key: &key, at })).unwrap();
        let v = view(dir.path(), &ev, "r1", true, &Sealing::AsRecorded);
        assert_eq!(v.mark, "SIGNED");
        assert_eq!(
            v.key_fingerprint,
            Some(manifest::fingerprint(&key.verifying_key()))
        );
        assert!(v.check_command.contains("--public-key"));

        manifest::write(dir.path(), "r1", None).unwrap();
        let v = view(dir.path(), &ev, "r1", true, &Sealing::AsRecorded);
        assert_eq!(v.mark, "UNSIGNED");
        assert_eq!(v.key_fingerprint, None);

        let v = view(dir.path(), &ev, "r1", false, &Sealing::Unsigned);
        assert_eq!(v.mark, "INCOMPLETE");
    }
}

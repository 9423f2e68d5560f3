//! `manifest.json` and `manifest.sig`: what a run folder held when it was
//! sealed, and an optional Ed25519 signature over that list.
//!
//! The manifest lists every file of the folder (except itself and the
//! signature) with its SHA-256 and size, paths relative with `/`, sorted:
//!
//! ```json
//! {"schema_version":1,"run_id":"...","files":[{"path":"journal.jsonl","sha256":"<hex>","bytes":1234}]}
//! ```
//!
//! [`check`] hashes the folder again and names every file changed, added or
//! removed since; with a public key it also verifies `manifest.sig`, which
//! is the Ed25519 signature of the exact bytes of `manifest.json`, in
//! standard base64. A changed manifest is caught only by the signature: the
//! hashes alone prove the folder matches its manifest, the signature proves
//! the manifest is the one the key holder sealed.
//!
//! Keys (see `docs/evidence-schema.md`): a private key file is PKCS#8 PEM
//! (what `openssl genpkey -algorithm ed25519` writes) or the 32-byte seed in
//! base64; a public key file is SubjectPublicKeyInfo PEM (`openssl pkey
//! -pubout`) or the 32-byte key in base64. [`generate_key`] writes both.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// File name of the manifest in a run folder.
pub(crate) const MANIFEST: &str = "manifest.json";
/// File name of the signature beside it.
pub(crate) const SIGNATURE: &str = "manifest.sig";
/// Version of the manifest's shape.
pub(crate) const MANIFEST_SCHEMA_VERSION: u32 = 1;

/// The manifest of one run folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub run_id: String,
    /// Every file of the folder but the manifest and its signature, sorted by path.
    pub files: Vec<FileEntry>,
    /// Who sealed a signed folder, and when; absent when unsigned. Additive
    /// to schema version 1 (a reader that ignores it still checks the hashes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<Signer>,
}

/// The key that signed `manifest.sig`, named by its fingerprint, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    /// `sha256:` and the lowercase hex SHA-256 of the raw 32-byte Ed25519
    /// public key ([`fingerprint`]); `report --check` prints it.
    pub key_fingerprint: String,
    /// When the folder was signed (UTC, RFC 3339).
    pub signed_at: DateTime<Utc>,
}

/// A key and the time to record with its signature (the same time the
/// report shows, so it is taken once, before the report is rendered).
#[derive(Debug, Clone, Copy)]
pub struct Signing<'a> {
    pub key: &'a SigningKey,
    pub at: DateTime<Utc>,
}

/// The fingerprint of a public key: `sha256:` and the hex SHA-256 of its 32 raw bytes.
pub fn fingerprint(key: &VerifyingKey) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(key.as_bytes())))
}

/// One file: where, its SHA-256 (lowercase hex) and its size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the folder, with `/`.
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// Everything that can go wrong sealing or checking a folder.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("could not {action} `{path}`")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` has no manifest.json: the run did not finish, or the folder was never sealed (hint: `vipps-golive report --from-journal` renders what it holds)")]
    Missing { path: PathBuf },
    #[error("`{path}` is not a readable manifest")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("`{path}` has manifest schema version {found}, newer than this tool reads ({supported}) (hint: use a newer vipps-golive)")]
    TooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("`{path}` is not an Ed25519 {what} key: {why} (hint: {hint})")]
    Key {
        path: PathBuf,
        what: &'static str,
        why: String,
        hint: &'static str,
    },
    #[error(
        "`{path}` already exists (hint: choose another file name; a key is never overwritten)"
    )]
    KeyExists { path: PathBuf },
    /// A key file that is not a regular file, too large, or unreadable.
    #[error(transparent)]
    Input(#[from] crate::domain::input::InputError),
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ManifestError {
    let path = path.to_owned();
    move |source| ManifestError::Io {
        action,
        path,
        source,
    }
}

/// Hashes every file under `dir` (except the manifest and the signature).
pub fn build(dir: &Path, run_id: &str) -> Result<Manifest, ManifestError> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Manifest {
        schema_version: MANIFEST_SCHEMA_VERSION,
        run_id: run_id.to_owned(),
        files,
        signer: None,
    })
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<FileEntry>) -> Result<(), ManifestError> {
    for entry in std::fs::read_dir(dir).map_err(io("list", dir))? {
        let entry = entry.map_err(io("list", dir))?;
        let path = entry.path();
        // Follows symlinks: what a reader of the folder would open.
        let meta = std::fs::metadata(&path).map_err(io("read", &path))?;
        if meta.is_dir() {
            collect(root, &path, out)?;
            continue;
        }
        let relative = relative_path(root, &path);
        let temporary = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(super::folder::TEMP_PREFIX));
        if relative == MANIFEST || relative == SIGNATURE || temporary {
            continue;
        }
        let (sha256, bytes) = hash_file(&path)?;
        out.push(FileEntry {
            path: relative,
            sha256,
            bytes,
        });
    }
    Ok(())
}

fn relative_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn hash_file(path: &Path) -> Result<(String, u64), ManifestError> {
    sha256_file(path).map_err(io("read", path))
}

/// A file hashed while a folder is sealed: its path, size and modification
/// time when hashed, and its SHA-256.
type Hashed = (PathBuf, u64, Option<std::time::SystemTime>, String);

thread_local! {
    /// The files hashed inside [`sealing`] on this thread.
    static SEALING: std::cell::RefCell<Option<Vec<Hashed>>> = const { std::cell::RefCell::new(None) };
}

/// Runs `seal` (rendering a folder's report, which shows the hashes of
/// evidence.json and journal.jsonl, then writing its manifest) with each
/// file hashed once: a file asked for again, with the same size and
/// modification time, is not read again. A 1.25 GB journal.jsonl took 0.7 s
/// a reading. Only for the writing of one folder; checking one always reads.
pub(crate) fn sealing<T>(seal: impl FnOnce() -> T) -> T {
    struct Done;
    impl Drop for Done {
        fn drop(&mut self) {
            SEALING.with(|s| *s.borrow_mut() = None);
        }
    }
    SEALING.with(|s| *s.borrow_mut() = Some(Vec::new()));
    let _done = Done;
    seal()
}

/// Lowercase hex SHA-256 of the file at `path`, and its size (see [`sealing`]).
pub(crate) fn sha256_file(path: &Path) -> std::io::Result<(String, u64)> {
    let stat = |p: &Path| std::fs::metadata(p).map(|m| (m.len(), m.modified().ok()));
    let known = SEALING.with(|s| {
        let s = s.borrow();
        let hashed = s.as_ref()?;
        let (len, modified) = stat(path).ok()?;
        hashed
            .iter()
            .find(|h| h.0 == path && h.1 == len && h.2 == modified)
            .map(|h| (h.3.clone(), len))
    });
    if let Some(known) = known {
        return Ok(known);
    }
    let before = stat(path)?;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let bytes = std::io::copy(&mut file, &mut hasher)?;
    let sha256 = hex::encode(hasher.finalize());
    SEALING.with(|s| {
        if let Some(hashed) = s.borrow_mut().as_mut() {
            // Kept only if the file did not change while it was read.
            if stat(path).is_ok_and(|after| after == before && before.0 == bytes) {
                hashed.push((path.to_owned(), bytes, before.1, sha256.clone()));
            }
        }
    });
    Ok((sha256, bytes))
}

/// The exact bytes written as `manifest.json` (and signed).
pub fn to_bytes(manifest: &Manifest) -> Vec<u8> {
    // Serialising plain strings and numbers cannot fail.
    let mut bytes = serde_json::to_vec_pretty(manifest).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// Seals `dir`: writes `manifest.json` (to a temporary name, then renamed)
/// and, with a key, `manifest.sig`; a signed manifest names the key's
/// fingerprint and the signing time. Without a key an old signature is
/// removed, since it no longer matches.
pub fn write(
    dir: &Path,
    run_id: &str,
    signing: Option<Signing<'_>>,
) -> Result<Manifest, ManifestError> {
    let mut manifest = build(dir, run_id)?;
    manifest.signer = signing.map(|s| Signer {
        key_fingerprint: fingerprint(&s.key.verifying_key()),
        signed_at: s.at,
    });
    let bytes = to_bytes(&manifest);
    write_atomic(&dir.join(MANIFEST), &bytes)?;
    let sig_path = dir.join(SIGNATURE);
    match signing.map(|s| s.key) {
        Some(key) => {
            let signature = key.sign(&bytes);
            let text = base64::engine::general_purpose::STANDARD.encode(signature.to_bytes());
            write_atomic(&sig_path, format!("{text}\n").as_bytes())?;
        }
        None => {
            if sig_path.exists() {
                std::fs::remove_file(&sig_path).map_err(io("remove", &sig_path))?;
            }
        }
    }
    Ok(manifest)
}

/// Writes `path` through a temporary file in the same folder and a rename,
/// so a reader never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ManifestError> {
    super::folder::write_atomic(path, bytes).map_err(io("write", path))
}

/// What the signature says, when asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureStatus {
    /// No public key was given: the signature (if any) was not looked at.
    NotChecked,
    /// A public key was given but the folder has no `manifest.sig`.
    Missing,
    /// `manifest.sig` is not base64 of 64 bytes.
    Malformed,
    /// The signature does not verify with this key: another key signed, or
    /// the manifest changed after signing.
    Invalid,
    /// Signed by the holder of this key, over this manifest.
    Valid,
}

impl SignatureStatus {
    fn describe(self) -> &'static str {
        match self {
            SignatureStatus::NotChecked => {
                "not checked (hint: pass --public-key FILE to verify manifest.sig)"
            }
            SignatureStatus::Missing => "MISSING: the folder has no manifest.sig",
            SignatureStatus::Malformed => {
                "MALFORMED: manifest.sig is not a base64 Ed25519 signature"
            }
            SignatureStatus::Invalid => {
                "INVALID: manifest.json was not signed by this key, or changed after signing"
            }
            SignatureStatus::Valid => "valid: manifest.json was signed by this key",
        }
    }
}

/// What [`check`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub run_id: String,
    /// Files whose content differs from the manifest.
    pub changed: Vec<String>,
    /// Files the manifest does not list.
    pub added: Vec<String>,
    /// Files the manifest lists that are gone.
    pub removed: Vec<String>,
    pub signature: SignatureStatus,
    /// How many files the manifest lists.
    pub files: usize,
    /// Who the manifest says signed it, and when (not proof by itself: the
    /// signature, checked with `--public-key`, is).
    pub signer: Option<Signer>,
}

impl CheckReport {
    /// Nothing changed, and the signature verified when it was asked to.
    pub fn intact(&self) -> bool {
        self.changed.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && matches!(
                self.signature,
                SignatureStatus::NotChecked | SignatureStatus::Valid
            )
    }

    /// Plain text for the terminal: one line per file that differs.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "run {}: {} file(s) in the manifest",
            self.run_id, self.files
        );
        for (label, list) in [
            ("changed", &self.changed),
            ("added", &self.added),
            ("removed", &self.removed),
        ] {
            for path in list {
                let _ = writeln!(out, "  {label:<8} {path}");
            }
        }
        if self.changed.is_empty() && self.added.is_empty() && self.removed.is_empty() {
            let _ = writeln!(out, "  every file matches its SHA-256");
        }
        let _ = writeln!(out, "signature: {}", self.signature.describe());
        if let Some(signer) = &self.signer {
            let _ = writeln!(
                out,
                "signer: key {} at {} (as manifest.json records it)",
                signer.key_fingerprint,
                signer
                    .signed_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
        }
        out
    }
}

/// Reads `dir/manifest.json`, refusing a newer schema.
pub fn read(dir: &Path) -> Result<(Manifest, Vec<u8>), ManifestError> {
    let path = dir.join(MANIFEST);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ManifestError::Missing {
                path: dir.to_owned(),
            })
        }
        Err(e) => return Err(io("read", &path)(e)),
    };
    #[derive(Deserialize)]
    struct Version {
        schema_version: u32,
    }
    let parse = |source| ManifestError::Parse {
        path: path.clone(),
        source,
    };
    let version: Version = serde_json::from_slice(&bytes).map_err(parse)?;
    if version.schema_version > MANIFEST_SCHEMA_VERSION {
        return Err(ManifestError::TooNew {
            path,
            found: version.schema_version,
            supported: MANIFEST_SCHEMA_VERSION,
        });
    }
    let raw: RawManifest = serde_json::from_slice(&bytes).map_err(parse)?;
    let files = match (raw.files, raw.sha256) {
        (Some(files), _) => files,
        // The interim runner's manifest: `{"sha256": {"name": "<hex>"}}`,
        // no sizes. Still checked, by hash alone.
        (None, Some(map)) => map
            .into_iter()
            .map(|(path, sha256)| FileEntry {
                path,
                sha256,
                bytes: LEGACY_SIZE,
            })
            .collect(),
        (None, None) => {
            return Err(ManifestError::Parse {
                path: path.clone(),
                source: serde::de::Error::missing_field("files"),
            })
        }
    };
    let manifest = Manifest {
        schema_version: raw.schema_version,
        run_id: raw.run_id,
        files,
        signer: raw.signer,
    };
    Ok((manifest, bytes))
}

/// Size recorded for files of an interim-format manifest, which kept none.
const LEGACY_SIZE: u64 = u64::MAX;

/// `manifest.json` as read: the agreed shape, or the interim runner's.
#[derive(Deserialize)]
struct RawManifest {
    schema_version: u32,
    #[serde(default)]
    run_id: String,
    #[serde(default)]
    files: Option<Vec<FileEntry>>,
    #[serde(default)]
    sha256: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    signer: Option<Signer>,
}

/// Hashes `dir` again and compares it with its manifest; with a key, verifies
/// the signature over the manifest's exact bytes.
pub fn check(dir: &Path, public_key: Option<&VerifyingKey>) -> Result<CheckReport, ManifestError> {
    let (recorded, bytes) = read(dir)?;
    let now = build(dir, &recorded.run_id)?;
    let mut changed = Vec::new();
    let mut removed = Vec::new();
    for entry in &recorded.files {
        match now.files.iter().find(|f| f.path == entry.path) {
            None => removed.push(entry.path.clone()),
            Some(f)
                if f.sha256 != entry.sha256
                    || (entry.bytes != LEGACY_SIZE && f.bytes != entry.bytes) =>
            {
                changed.push(entry.path.clone())
            }
            Some(_) => {}
        }
    }
    let added = now
        .files
        .iter()
        .filter(|f| !recorded.files.iter().any(|r| r.path == f.path))
        .map(|f| f.path.clone())
        .collect();
    let signature = match public_key {
        None => SignatureStatus::NotChecked,
        Some(key) => verify(dir, &bytes, key)?,
    };
    Ok(CheckReport {
        run_id: recorded.run_id,
        changed,
        added,
        removed,
        signature,
        files: recorded.files.len(),
        signer: recorded.signer,
    })
}

fn verify(
    dir: &Path,
    manifest: &[u8],
    key: &VerifyingKey,
) -> Result<SignatureStatus, ManifestError> {
    let path = dir.join(SIGNATURE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(SignatureStatus::Missing),
        Err(e) => return Err(io("read", &path)(e)),
    };
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(text.trim()) else {
        return Ok(SignatureStatus::Malformed);
    };
    let Ok(bytes) = <[u8; 64]>::try_from(raw.as_slice()) else {
        return Ok(SignatureStatus::Malformed);
    };
    let signature = Signature::from_bytes(&bytes);
    Ok(if key.verify_strict(manifest, &signature).is_ok() {
        SignatureStatus::Valid
    } else {
        SignatureStatus::Invalid
    })
}

/// Reads a private key: PKCS#8 PEM, or the 32-byte seed in base64.
pub fn read_signing_key(path: &Path) -> Result<SigningKey, ManifestError> {
    // A FIFO or /dev/zero named as the key must not hang; a key is small.
    let text = crate::domain::input::read_to_string(path, crate::domain::input::InputKind::Key)?;
    let bad = |why: String| {
        ManifestError::Key {
        path: path.to_owned(),
        what: "private",
        why,
        hint: "make one with `vipps-golive report --gen-key FILE` or `openssl genpkey -algorithm ed25519 -out FILE`",
    }
    };
    if text.contains("-----BEGIN") {
        // The pkcs8 error names the structure only, never key material.
        return SigningKey::from_pkcs8_pem(&text).map_err(|e| bad(e.to_string()));
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| bad("neither PEM nor base64".into()))?;
    let seed = <[u8; 32]>::try_from(raw.as_slice())
        .map_err(|_| bad(format!("{} bytes, expected a 32-byte seed", raw.len())))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Reads a public key: SubjectPublicKeyInfo PEM, or the 32 bytes in base64.
pub fn read_verifying_key(path: &Path) -> Result<VerifyingKey, ManifestError> {
    // A FIFO or /dev/zero named as the key must not hang; a key is small.
    let text = crate::domain::input::read_to_string(path, crate::domain::input::InputKind::Key)?;
    let bad = |why: String| ManifestError::Key {
        path: path.to_owned(),
        what: "public",
        why,
        hint:
            "use the FILE.pub written by `report --gen-key FILE`, or `openssl pkey -in KEY -pubout`",
    };
    if text.contains("PRIVATE KEY") {
        return Err(bad("this is a private key; give the public one".into()));
    }
    if text.contains("-----BEGIN") {
        return VerifyingKey::from_public_key_pem(&text).map_err(|e| bad(e.to_string()));
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| bad("neither PEM nor base64".into()))?;
    let bytes = <[u8; 32]>::try_from(raw.as_slice())
        .map_err(|_| bad(format!("{} bytes, expected 32", raw.len())))?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| bad(e.to_string()))
}

/// Makes a new key pair: `path` gets the private key (PKCS#8 PEM, mode 0600
/// on Unix), `path.pub` the public key (SPKI PEM). Neither is overwritten.
/// Returns the public key's path.
pub fn generate_key(path: &Path) -> Result<PathBuf, ManifestError> {
    use rand::RngCore as _;
    let mut public_path = path.as_os_str().to_owned();
    public_path.push(".pub");
    let public_path = PathBuf::from(public_path);
    for p in [path, public_path.as_path()] {
        if p.exists() {
            return Err(ManifestError::KeyExists { path: p.to_owned() });
        }
    }
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let key = SigningKey::from_bytes(&seed);
    seed.fill(0);
    let encode_err = |e: String| ManifestError::Key {
        path: path.to_owned(),
        what: "private",
        why: e,
        hint: "report this as a bug",
    };
    let private = key
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|e| encode_err(e.to_string()))?;
    let public = key
        .verifying_key()
        .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|e| encode_err(e.to_string()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io("create", path))?;
    file.write_all(private.as_bytes())
        .map_err(io("write", path))?;
    std::fs::write(&public_path, public.as_bytes()).map_err(io("write", &public_path))?;
    Ok(public_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inside [`sealing`] a file is read once while it stays as it was; a
    /// changed one is read again; outside, every call reads.
    #[test]
    fn a_file_is_hashed_once_while_a_folder_is_sealed_and_again_if_it_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        std::fs::write(&path, b"one\n").unwrap();
        let hex_of = |b: &[u8]| hex::encode(Sha256::digest(b));
        sealing(|| {
            assert_eq!(sha256_file(&path).unwrap(), (hex_of(b"one\n"), 4));
            assert_eq!(SEALING.with(|s| s.borrow().as_ref().map(Vec::len)), Some(1));
            assert_eq!(sha256_file(&path).unwrap(), (hex_of(b"one\n"), 4));
            std::fs::write(&path, b"three\n").unwrap();
            assert_eq!(sha256_file(&path).unwrap(), (hex_of(b"three\n"), 6));
        });
        assert!(SEALING.with(|s| s.borrow().is_none()));
        std::fs::write(&path, b"four\n").unwrap();
        assert_eq!(sha256_file(&path).unwrap(), (hex_of(b"four\n"), 5));
    }

    #[test]
    fn an_interim_manifest_is_still_checked_by_hash() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "abc").unwrap();
        std::fs::write(
            dir.path().join(MANIFEST),
            r#"{"schema_version":1,"run_id":"old","sha256":{"a.txt":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad","gone.txt":"00"}}"#,
        )
        .unwrap();
        let report = check(dir.path(), None).unwrap();
        assert_eq!(report.run_id, "old");
        assert!(report.changed.is_empty());
        assert_eq!(report.removed, ["gone.txt"]);
        std::fs::write(dir.path().join("a.txt"), "abd").unwrap();
        assert_eq!(check(dir.path(), None).unwrap().changed, ["a.txt"]);
    }

    #[test]
    fn manifest_bytes_are_the_agreed_shape() {
        let m = Manifest {
            schema_version: 1,
            run_id: "r1".into(),
            files: vec![FileEntry {
                path: "a/b.txt".into(),
                sha256: "00".into(),
                bytes: 3,
            }],
            signer: None,
        };
        let v: serde_json::Value = serde_json::from_slice(&to_bytes(&m)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"schema_version":1,"run_id":"r1","files":[{"path":"a/b.txt","sha256":"00","bytes":3}]})
        );
    }
}

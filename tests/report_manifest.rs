//! The run folder's seal: `report --check` catches a single changed byte, an
//! added file and a removed file; the Ed25519 signature fails on a wrong key
//! and on an edited manifest. Through the library and through the binary.

use crate::report_support;

use std::path::Path;
use std::process::{Command, Output};

use base64::Engine as _;
use ed25519_dalek::SigningKey;
use vipps_golive::evidence::manifest::{self, SignatureStatus};

const BIN: &str = env!("CARGO_BIN_EXE_vipps-golive");

async fn sealed_folder(key: Option<&SigningKey>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let run = report_support::run(dir.path()).await;
    report_support::write_folder(dir.path(), &run.evidence, key);
    dir
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn cli(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn flip_one_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_manifest_lists_every_file_sorted_with_its_hash_and_size() {
    let dir = sealed_folder(None).await;
    std::fs::create_dir(dir.path().join("extra")).unwrap();
    std::fs::write(dir.path().join("extra/a.txt"), "abc").unwrap();
    let m = manifest::write(dir.path(), "run-1", None).unwrap();
    let paths: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "evidence.json",
            "extra/a.txt",
            "journal.jsonl",
            "report.html"
        ]
    );
    let abc = &m.files[1];
    assert_eq!(abc.bytes, 3);
    assert_eq!(
        abc.sha256,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let on_disk: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).unwrap()).unwrap();
    assert_eq!(on_disk["schema_version"], 1);
    assert_eq!(on_disk["run_id"], "run-1");
    assert!(!dir.path().join("manifest.sig").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_untouched_folder_checks_clean_and_exits_0() {
    let dir = sealed_folder(None).await;
    let report = manifest::check(dir.path(), None).unwrap();
    assert!(report.intact(), "{report:?}");
    let out = cli(&["report", "--check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("every file matches its SHA-256"));
}

#[tokio::test(flavor = "multi_thread")]
async fn one_changed_byte_is_caught_and_named_with_exit_1() {
    let dir = sealed_folder(None).await;
    flip_one_byte(&dir.path().join("journal.jsonl"));
    let report = manifest::check(dir.path(), None).unwrap();
    assert_eq!(report.changed, ["journal.jsonl"]);
    assert!(report.added.is_empty() && report.removed.is_empty());
    let out = cli(&["report", "--check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("changed  journal.jsonl"),
        "{}",
        text(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_added_file_and_a_removed_file_are_caught() {
    let dir = sealed_folder(None).await;
    std::fs::write(dir.path().join("notes.txt"), "added later").unwrap();
    std::fs::remove_file(dir.path().join("report.html")).unwrap();
    let report = manifest::check(dir.path(), None).unwrap();
    assert_eq!(report.added, ["notes.txt"]);
    assert_eq!(report.removed, ["report.html"]);
    assert!(report.changed.is_empty());
    let out = cli(&["report", "--check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(
        t.contains("added    notes.txt") && t.contains("removed  report.html"),
        "{t}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_signature_verifies_with_the_right_key_only() {
    let dir = sealed_folder(Some(&key(7))).await;
    let sig = std::fs::read_to_string(dir.path().join("manifest.sig")).unwrap();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(sig.trim())
        .unwrap();
    assert_eq!(raw.len(), 64);

    let right = key(7).verifying_key();
    let wrong = key(8).verifying_key();
    assert_eq!(
        manifest::check(dir.path(), Some(&right)).unwrap().signature,
        SignatureStatus::Valid
    );
    let report = manifest::check(dir.path(), Some(&wrong)).unwrap();
    assert_eq!(report.signature, SignatureStatus::Invalid);
    assert!(!report.intact());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_manifest_breaks_the_signature_even_when_the_hashes_agree() {
    let dir = sealed_folder(Some(&key(7))).await;
    // Someone changes the journal and writes a new manifest to match, without the key.
    flip_one_byte(&dir.path().join("journal.jsonl"));
    let (mut m, _) = manifest::read(dir.path()).unwrap();
    m.files = manifest::build(dir.path(), &m.run_id).unwrap().files;
    std::fs::write(dir.path().join("manifest.json"), manifest::to_bytes(&m)).unwrap();
    let report = manifest::check(dir.path(), Some(&key(7).verifying_key())).unwrap();
    assert!(report.changed.is_empty(), "the hashes agree now");
    assert_eq!(report.signature, SignatureStatus::Invalid);
    // Without a key nothing can tell.
    assert!(manifest::check(dir.path(), None).unwrap().intact());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_signs_with_a_generated_key_and_checks_with_its_public_half() {
    let dir = sealed_folder(None).await;
    let keys = tempfile::tempdir().unwrap();
    let private = keys.path().join("golive.key");
    let other = keys.path().join("other.key");
    let folder = dir.path().to_str().unwrap();

    let out = cli(&["report", "--gen-key", private.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(keys.path().join("golive.key.pub").is_file());
    let pem = std::fs::read_to_string(&private).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&private).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the private key is readable by others");
    }
    // A key is never overwritten.
    let again = cli(&["report", "--gen-key", private.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(cli(&["report", "--gen-key", other.to_str().unwrap()])
        .status
        .success());

    // Render again and seal with the key.
    let out = cli(&["report", folder, "--sign-key", private.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(dir.path().join("manifest.sig").is_file());

    let public = format!("{}.pub", private.display());
    let out = cli(&["report", "--check", folder, "--public-key", &public]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("signature: valid"));

    let wrong = format!("{}.pub", other.display());
    let out = cli(&["report", "--check", folder, "--public-key", &wrong]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("signature: INVALID"));

    // A private key where a public one belongs is refused as usage (2).
    let out = cli(&[
        "report",
        "--check",
        folder,
        "--public-key",
        private.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!text(&out).contains("PRIVATE KEY-----\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn base64_seed_keys_work_and_match_their_pem_form() {
    let keys = tempfile::tempdir().unwrap();
    let seed = keys.path().join("seed.b64");
    let public = keys.path().join("public.b64");
    let k = key(9);
    std::fs::write(
        &seed,
        base64::engine::general_purpose::STANDARD.encode(k.to_bytes()),
    )
    .unwrap();
    std::fs::write(
        &public,
        base64::engine::general_purpose::STANDARD.encode(k.verifying_key().to_bytes()),
    )
    .unwrap();
    assert_eq!(manifest::read_signing_key(&seed).unwrap(), k);
    assert_eq!(
        manifest::read_verifying_key(&public).unwrap(),
        k.verifying_key()
    );
    let bad = keys.path().join("bad");
    std::fs::write(&bad, "not a key").unwrap();
    let err = manifest::read_signing_key(&bad).unwrap_err().to_string();
    assert!(err.contains("not an Ed25519 private key"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn openssl_keys_are_read_when_openssl_is_installed() {
    let keys = tempfile::tempdir().unwrap();
    let private = keys.path().join("k.pem");
    let public = keys.path().join("k.pub.pem");
    let made = Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&private)
        .output();
    let Ok(made) = made else {
        eprintln!("NOTICE: openssl not found; skipping the openssl key test");
        return;
    };
    assert!(made.status.success());
    let out = Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public)
        .output()
        .unwrap();
    assert!(out.status.success());
    let k = manifest::read_signing_key(&private).unwrap();
    assert_eq!(
        manifest::read_verifying_key(&public).unwrap(),
        k.verifying_key()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_folder_without_a_manifest_is_not_proven() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("journal.jsonl"), "").unwrap();
    let out = cli(&["report", "--check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("has no manifest.json"));
}

fn sha256_hex(path: &Path) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

/// The seal box of page one: from `id="seal"` to its end.
fn seal_box(html: &str) -> &str {
    let start = html
        .find(r#"id="seal""#)
        .expect("the report shows its seal");
    let end = start + html[start..].find("</section>").unwrap();
    &html[start..end]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_folder_signed_later_shows_signed_with_the_fingerprint_and_its_hashes_on_page_one() {
    // Issue 24 point 2: render again with the mark SIGNED, then seal all,
    // the report included; the manifest names the signer and the time.
    let dir = sealed_folder(None).await;
    let folder = dir.path().to_str().unwrap();
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(seal_box(&html).contains(r#"<span class="seal-mark">UNSIGNED</span>"#));

    let keys = tempfile::tempdir().unwrap();
    let private = keys.path().join("golive.key");
    let private_s = private.to_str().unwrap();
    assert!(cli(&["report", "--gen-key", private_s]).status.success());
    let out = cli(&["report", folder, "--sign-key", private_s]);
    assert!(out.status.success(), "{}", text(&out));

    let public = manifest::read_verifying_key(&keys.path().join("golive.key.pub")).unwrap();
    let fingerprint = manifest::fingerprint(&public);
    let (m, _) = manifest::read(dir.path()).unwrap();
    let signer = m.signer.expect("a signed manifest names its signer");
    assert_eq!(signer.key_fingerprint, fingerprint);
    assert!((chrono::Utc::now() - signer.signed_at).num_seconds().abs() < 60);

    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    let seal = seal_box(&html);
    assert!(
        seal.contains(r#"<span class="seal-mark">SIGNED</span>"#),
        "{seal}"
    );
    assert!(seal.contains(&fingerprint), "{seal}");
    assert!(seal.contains(&sha256_hex(&dir.path().join("evidence.json"))));
    assert!(seal.contains(&sha256_hex(&dir.path().join("journal.jsonl"))));
    assert!(seal.contains(&m.run_id));
    assert!(seal.contains("vipps-golive report --check FOLDER --public-key KEY.pub"));
    // Every printed page: the @page footer names the run, the mark and the
    // start of the evidence hash, and counts the pages.
    let footer = &html[html.find("@bottom-left").unwrap()..];
    let footer = &footer[..footer.find('}').unwrap()];
    assert!(
        footer.contains(&m.run_id) && footer.contains("SIGNED"),
        "{footer}"
    );
    assert!(footer.contains(&sha256_hex(&dir.path().join("evidence.json"))[..16]));
    assert!(footer.contains(r#"page " counter(page) " of " counter(pages)"#));

    let public_s = keys.path().join("golive.key.pub");
    let check = cli(&[
        "report",
        "--check",
        folder,
        "--public-key",
        public_s.to_str().unwrap(),
    ]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
    assert!(text(&check).contains(&format!("signer: key {fingerprint}")));

    // A plain re-render reads the mark back from the manifest: same bytes,
    // and the folder still checks.
    let before = std::fs::read(dir.path().join("report.html")).unwrap();
    assert!(cli(&["report", folder]).status.success());
    assert_eq!(
        std::fs::read(dir.path().join("report.html")).unwrap(),
        before
    );
    let check = cli(&[
        "report",
        "--check",
        folder,
        "--public-key",
        public_s.to_str().unwrap(),
    ]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
}

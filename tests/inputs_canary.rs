//! Issue 22 point 1: what the tool *reads* is redacted before anything is
//! written or printed. A journal written by someone else, with a canary in
//! every credential header and field, a JWT in free text, user info in the
//! URL, an attempt line that carries a secret and credentials a server
//! echoed back in its answer's headers: `audit`, `pack` and
//! `report --from-journal` (at RUST_LOG=debug) let none of them reach
//! stdout, stderr or any file they write.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::json;

/// A JWT-shaped token: the shape alone must be enough to hide it.
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnktdXNlciJ9.c2lnbmF0dXJlLWNhbmFyeQ";

const CANARIES: &[&str] = &[
    JWT,
    "CANARY-bearer-opaque-7f3a",
    "CANARY-client-id-91",
    "CANARY-client-secret-92",
    "CANARY-subscription-93",
    "CANARY-cookie-94",
    "CANARY-set-cookie-95",
    "CANARY-api-key-96",
    "CANARY-body-client-secret-97",
    "CANARY-password-98",
    "CANARY-access-token-99",
    "CANARY-webhook-secret-100",
    "CANARY-url-password-101",
    "CANARY-query-token-102",
    "CANARY-error-bearer-103",
    "CANARY-attempt-password-104",
    "CANARY-header-password-105",
    "CANARY-header-bearer-106",
    "CANARY_ref_secret_107",
    "CANARY-echoed-basic-108",
    "CANARY-echoed-proxy-109",
];

fn golive() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vipps-golive"));
    for var in [
        "VIPPS_CLIENT_ID",
        "VIPPS_CLIENT_SECRET",
        "VIPPS_SUBSCRIPTION_KEY",
        "VIPPS_MSN",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("RUST_LOG", "debug").stdin(Stdio::null());
    cmd
}

/// A journal as a shop's own tooling might have written it: nothing redacted.
fn journal() -> String {
    let token = json!({
        "schema_version": 1, "id": "x-1", "started_at": "2026-01-01T10:00:00Z", "duration_ms": 5,
        "method": "POST", "url": "http://127.0.0.1:7777/accesstoken/get",
        "request_headers": [
            ["client_id", "CANARY-client-id-91"],
            ["client_secret", "CANARY-client-secret-92"],
            ["Ocp-Apim-Subscription-Key", "CANARY-subscription-93"],
            ["Merchant-Serial-Number", "123456"],
            ["Cookie", "session=CANARY-cookie-94"]
        ],
        "request_body": null, "status": 200,
        "response_headers": [["Set-Cookie", "CANARY-set-cookie-95; Path=/"]],
        "response_body": {"access_token": JWT, "token_type": "Bearer", "expires_in": 3600},
        "error": null, "attempt": 1, "reference": null, "checklist_ids": [], "scenario": null
    });
    let register = json!({
        "schema_version": 1, "id": "x-2", "started_at": "2026-01-01T10:00:01Z", "duration_ms": 5,
        "method": "POST",
        "url": "http://shop:CANARY-url-password-101@127.0.0.1:7777/webhooks/v1/webhooks?access_token=CANARY-query-token-102",
        "request_headers": [
            ["Authorization", "Bearer CANARY-bearer-opaque-7f3a"],
            ["X-Api-Key", "CANARY-api-key-96"],
            ["Merchant-Serial-Number", "123456"]
        ],
        "request_body": {
            "url": "https://shop.example/hook",
            "events": ["epayments.payment.created.v1"],
            "client_secret": "CANARY-body-client-secret-97",
            "nested": {"password": "CANARY-password-98", "accessToken": "CANARY-access-token-99"}
        },
        "status": 201, "response_headers": [],
        "response_body": {"id": "hook-1", "secret": "CANARY-webhook-secret-100", "note": format!("issued for {JWT}")},
        "error": "upstream said: Authorization: Bearer CANARY-error-bearer-103",
        "attempt": 1, "reference": null, "checklist_ids": [], "scenario": null
    });
    let attempt = json!({
        "schema_version": 1, "kind": "attempt", "id": "x-3", "started_at": "2026-01-01T10:00:02Z",
        "method": "GET",
        "url": "http://u:CANARY-attempt-password-104@127.0.0.1:7777/epayment/v1/payments/acme-1",
        "attempt": 1, "reference": "acme-1", "idempotency_key": null, "checklist_ids": [], "scenario": null
    });
    // A server that echoes credentials back in its answer's headers, on a
    // line that shows no other credential.
    let echoed = json!({
        "schema_version": 1, "id": "x-4", "started_at": "2026-01-01T10:00:03Z", "duration_ms": 5,
        "method": "GET", "url": "http://127.0.0.1:7777/epayment/v1/payments/acme-1",
        "request_headers": [["Merchant-Serial-Number", "123456"]],
        "request_body": null, "status": 200,
        "response_headers": [
            ["Authorization", "Basic CANARY-echoed-basic-108"],
            ["Proxy-Authorization", "Digest CANARY-echoed-proxy-109"]
        ],
        "response_body": {"reference": "acme-1", "state": "CREATED"},
        "error": null, "attempt": 1, "reference": "acme-1", "checklist_ids": [], "scenario": null
    });
    format!("{token}\n{register}\n{attempt}\n{echoed}\n")
}

/// Every canary absent from `text`, said with where it was found.
fn assert_clean(place: &str, text: &str) {
    for c in CANARIES {
        assert!(!text.contains(c), "{place} holds the canary `{c}`");
    }
}

/// Every file under `dir` (recursively), except `keep` (the input itself).
fn assert_folder_clean(dir: &Path, keep: Option<&Path>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if Some(path.as_path()) == keep {
            continue;
        }
        if path.is_dir() {
            assert_folder_clean(&path, keep);
        } else if let Ok(bytes) = std::fs::read(&path) {
            assert_clean(
                &path.display().to_string(),
                &String::from_utf8_lossy(&bytes),
            );
        }
    }
}

/// Runs `command --journal <the canary journal> --out <folder>` and checks
/// that nothing it printed or wrote holds a canary; the folder, for more.
fn judged_clean(command: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("shop.jsonl");
    std::fs::write(&input, journal()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let done = golive()
        .args([command, "--journal"])
        .arg(&input)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    // Passed or not (a pack of this traffic is not ready), but written.
    assert!(matches!(done.status.code(), Some(0) | Some(1)), "{stderr}");
    assert_clean("stdout", &String::from_utf8_lossy(&done.stdout));
    assert_clean("stderr", &stderr);
    assert_folder_clean(out.path(), None);
    out
}

#[test]
fn no_canary_of_an_audited_journal_reaches_any_output() {
    let out = judged_clean("audit");
    // The exchanges are still there to be judged, with fingerprints.
    let copied = std::fs::read_dir(out.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path().join("journal.jsonl"))
        .find(|p| p.exists())
        .expect("the folder's journal");
    let text = std::fs::read_to_string(copied).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains("Bearer …"), "{text}");
}

#[test]
fn no_canary_of_a_journal_packed_for_go_live_reaches_any_output() {
    let out = judged_clean("pack");
    assert!(
        std::fs::read_dir(out.path()).unwrap().count() > 0,
        "the pack folder is written"
    );
}

#[test]
fn no_canary_of_a_journal_read_back_by_report_reaches_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("journal.jsonl");
    std::fs::write(&input, journal()).unwrap();
    let done = golive()
        .args(["report", "--from-journal"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(0), "{stderr}");
    assert_clean("stdout", &String::from_utf8_lossy(&done.stdout));
    assert_clean("stderr", &stderr);
    assert_folder_clean(dir.path(), Some(&input));
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(
        html.contains("acme-1"),
        "the interrupted attempt is still shown"
    );
}

#[test]
fn no_canary_of_a_journal_header_read_back_by_report_reaches_any_output() {
    // A header as a hand-edited or foreign journal might carry it.
    let header = json!({
        "schema_version": 1, "kind": "run", "run_id": "run-canary",
        "started_at": "2026-01-01T09:59:59Z", "target": "custom",
        "base_url": "http://u:CANARY-header-password-105@127.0.0.1:7777",
        "tool_version": "0.1.0",
        "tags": format!("@smoke and not {JWT}"),
        "attestations": [{"checklist_id": "GL-TEST", "by": "ops Bearer CANARY-header-bearer-106", "at": "2026-01-01T09:59:59Z"}],
        "scenarios": [{"name": format!("pay with {JWT}"), "checklist_ids": ["EP-CREATE"]}]
    });
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("journal.jsonl");
    std::fs::write(&input, format!("{header}\n{}", journal())).unwrap();
    let done = golive()
        .args(["report", "--from-journal"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(0), "{stderr}");
    assert_clean("stdout", &String::from_utf8_lossy(&done.stdout));
    assert_clean("stderr", &stderr);
    assert_folder_clean(dir.path(), Some(&input));
    let evidence = std::fs::read_to_string(dir.path().join("evidence.json")).unwrap();
    assert!(evidence.contains("run-canary"), "the header was read");
}

#[test]
fn a_secret_a_rule_would_quote_in_a_finding_is_shown_by_its_fingerprint() {
    // The value is a client secret in the first line and the payment
    // reference of the second: the reference rule quotes the reference.
    let secret = "CANARY_ref_secret_107";
    let token = json!({
        "schema_version": 1, "id": "y-1", "started_at": "2026-01-01T10:00:00Z", "duration_ms": 5,
        "method": "POST", "url": "http://127.0.0.1:7777/accesstoken/get",
        "request_headers": [["client_id", "some-client-id-1"], ["client_secret", secret]],
        "request_body": null, "status": 200, "response_headers": [],
        "response_body": {"token_type": "Bearer"},
        "error": null, "attempt": 1, "reference": null, "checklist_ids": [], "scenario": null
    });
    let create = json!({
        "schema_version": 1, "id": "y-2", "started_at": "2026-01-01T10:00:01Z", "duration_ms": 5,
        "method": "POST", "url": "http://127.0.0.1:7777/epayment/v1/payments",
        "request_headers": [["Merchant-Serial-Number", "123456"]],
        "request_body": {"reference": secret, "amount": {"currency": "NOK", "value": 1000}},
        "status": 201, "response_headers": [],
        "response_body": {"reference": secret},
        "error": null, "attempt": 1, "reference": null, "checklist_ids": [], "scenario": null
    });
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("shop.jsonl");
    std::fs::write(&input, format!("{token}\n{create}\n")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let done = golive()
        .args(["audit", "--journal"])
        .arg(&input)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(matches!(done.status.code(), Some(0) | Some(1)), "{stderr}");
    assert_clean("stdout", &String::from_utf8_lossy(&done.stdout));
    assert_clean("stderr", &stderr);
    assert_folder_clean(out.path(), None);
    // The finding is still there, naming the reference by its fingerprint.
    let evidence = std::fs::read_dir(out.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path().join("evidence.json"))
        .find(|p| p.exists())
        .expect("evidence.json");
    let text = std::fs::read_to_string(evidence).unwrap();
    assert!(text.contains("reference `…"), "{text}");
}

/// A credential typed in the wrong place on the command line: clap's usage
/// error quotes the argument, but what it shows goes through the same
/// redaction as everything else (user info dropped, secret flags' and the
/// VIPPS_* variables' values and token shapes masked).
#[test]
fn no_canary_typed_in_the_wrong_place_reaches_a_usage_error() {
    const PASSWORD: &str = "CANARY-argv-password-110";
    const SECRET: &str = "CANARY-argv-secret-111";
    const ENV_SECRET: &str = "CANARY-env-secret-112";
    let url = format!("http://shop:{PASSWORD}@127.0.0.1:9/x");
    let misuses: Vec<Vec<String>> = vec![
        vec!["webhooks-check".into(), url.clone()],
        vec!["run".into(), "--env".into(), url.clone()],
        vec!["run".into(), format!("--env={url}")],
        vec![
            "webhooks-check".into(),
            "--url".into(),
            "http://127.0.0.1:9/x".into(),
            "--secret".into(),
            SECRET.into(),
            SECRET.into(),
        ],
        vec![
            "run".into(),
            format!("--client-secret={SECRET}"),
            SECRET.into(),
        ],
        vec!["run".into(), ENV_SECRET.into()],
        vec![
            "audit".into(),
            "--journal".into(),
            "j.jsonl".into(),
            JWT.into(),
        ],
        vec![
            "run".into(),
            "--nonsense".into(),
            format!("Bearer {SECRET}"),
        ],
    ];
    for args in misuses {
        let done = golive()
            .env("VIPPS_CLIENT_SECRET", ENV_SECRET)
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&done.stderr);
        let shown = format!("{stderr}{}", String::from_utf8_lossy(&done.stdout));
        assert_eq!(done.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("error:"), "{args:?}: {stderr}");
        for canary in [PASSWORD, SECRET, ENV_SECRET, JWT] {
            assert!(
                !shown.contains(canary),
                "{args:?} shows `{canary}`: {shown}"
            );
        }
    }
}

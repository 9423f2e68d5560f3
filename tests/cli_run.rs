//! `vipps-golive run` end to end: the client against the embedded simulator,
//! through the binary, with the files a reviewer receives.

use std::process::Command;

fn golive() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vipps-golive"));
    // The run must not pick up a developer's own credentials.
    for var in [
        "VIPPS_CLIENT_ID",
        "VIPPS_CLIENT_SECRET",
        "VIPPS_SUBSCRIPTION_KEY",
        "VIPPS_MSN",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

#[test]
fn a_run_against_the_embedded_simulator_passes_and_writes_its_evidence() {
    let out = tempfile::tempdir().unwrap();
    let status = golive()
        .current_dir(out.path())
        .args(["run", "--out", "reports"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert_eq!(status.status.code(), Some(0), "stderr:\n{stderr}");

    let latest = out.path().join("reports/latest");
    for file in [
        "journal.jsonl",
        "evidence.json",
        "report.html",
        "manifest.json",
    ] {
        assert!(latest.join(file).is_file(), "{file} missing");
    }
    let evidence: serde_json::Value =
        serde_json::from_slice(&std::fs::read(latest.join("evidence.json")).unwrap()).unwrap();
    assert_eq!(evidence["schema_version"], 1);
    let flows = evidence["flows"].as_array().unwrap();
    assert!(flows.len() >= 12);
    assert!(flows.iter().all(|f| f["verdict"] == "PASS"), "{flows:#?}");

    // The GL-TEST trio: references ending CAPTURED, REFUNDED and CANCELLED.
    for ending in ["CAPTURED", "REFUNDED", "CANCELLED"] {
        assert!(
            flows.iter().any(|f| f["checklist_ids"]
                .as_array()
                .unwrap()
                .contains(&"GL-TEST".into())
                && f["events"].as_array().unwrap().last() == Some(&ending.into())),
            "no GL-TEST reference ends {ending}"
        );
    }
    // Every state of the state machine was reached.
    for state in ["AUTHORIZED", "TERMINATED", "ABORTED", "EXPIRED"] {
        assert!(
            flows.iter().any(|f| f["state"] == state),
            "{state} not reached"
        );
    }

    // The manifest's hashes match the files.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(latest.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["files"].as_array().is_some_and(|f| !f.is_empty()));
    let check = vipps_golive::evidence::manifest::check(&latest, None).unwrap();
    assert!(check.intact(), "{check:?}");

    // The simulator's credentials were used, but none reached a file.
    for entry in std::fs::read_dir(&latest).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for secret in [
            "sim-client-secret-123456",
            "sim-subscription-key-123456",
            "sim-client-id-123456",
        ] {
            assert!(!text.contains(secret), "a credential reached a report file");
        }
        assert!(
            !text.contains("Bearer eyJ"),
            "a bearer token reached a report file"
        );
    }
}

#[test]
fn an_unreachable_target_ends_with_exit_status_3_and_a_clear_message() {
    let out = tempfile::tempdir().unwrap();
    let output = golive()
        .current_dir(out.path())
        .args([
            "run",
            "--base-url",
            "http://127.0.0.1:9",
            "--msn",
            "123456",
            "--out",
            "reports",
        ])
        .env("VIPPS_CLIENT_ID", "id-planted")
        .env("VIPPS_CLIENT_SECRET", "CANARY-run-secret")
        .env("VIPPS_SUBSCRIPTION_KEY", "CANARY-run-key")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "stderr:\n{stderr}");
    assert!(stderr.contains("could not be reached"), "{stderr}");
    assert!(!stderr.contains("CANARY"), "a secret reached the terminal");
}

#[test]
fn a_run_against_production_is_refused_before_anything_is_sent() {
    let output = golive()
        .args(["run", "--env", "production", "--msn", "123456"])
        .env("VIPPS_CLIENT_ID", "id")
        .env("VIPPS_CLIENT_SECRET", "secret")
        .env("VIPPS_SUBSCRIPTION_KEY", "key")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_simulator_run_with_your_own_credentials_uses_them_and_writes_none_of_them() {
    let out = tempfile::tempdir().unwrap();
    let output = golive()
        .current_dir(out.path())
        .args(["run", "--out", "reports"])
        .env("VIPPS_CLIENT_ID", "CANARY-own-client-id")
        .env("VIPPS_CLIENT_SECRET", "CANARY-own-client-secret")
        .env("VIPPS_SUBSCRIPTION_KEY", "CANARY-own-subscription-key")
        .env("VIPPS_MSN", "7654321")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr:\n{stderr}");
    assert!(!stderr.contains("CANARY"));
    let latest = out.path().join("reports/latest");
    let evidence = std::fs::read_to_string(latest.join("evidence.json")).unwrap();
    assert!(evidence.contains("\"msn\": \"7654321\""));
    for entry in std::fs::read_dir(&latest).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(
            !text.contains("CANARY"),
            "a credential reached a report file"
        );
    }
}

#[test]
fn a_simulator_account_never_shows_its_keys_in_debug() {
    let account = vipps_golive::simulator::Account {
        merchant_name: "Shop".into(),
        client_id: "CANARY-id".into(),
        client_secret: "CANARY-secret".into(),
        subscription_key: "CANARY-key".into(),
        msn: "123456".into(),
        currency: "NOK".into(),
    };
    let shown = format!(
        "{account:?} {:?}",
        vipps_golive::simulator::SimConfig::default()
    );
    assert!(!shown.contains("CANARY"), "{shown}");
    assert!(!shown.contains("sim-client-secret-123456"), "{shown}");
}

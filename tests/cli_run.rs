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
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert_eq!(
        status.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );

    let latest = out.path().join("reports/latest");
    for file in [
        "journal.jsonl",
        "evidence.json",
        "junit.xml",
        "cucumber.json",
        "report.html",
        "manifest.json",
    ] {
        assert!(latest.join(file).is_file(), "{file} missing");
    }
    let evidence: serde_json::Value =
        serde_json::from_slice(&std::fs::read(latest.join("evidence.json")).unwrap()).unwrap();
    assert_eq!(evidence["schema_version"], 2);
    assert_eq!(evidence["kind"], "run");
    assert_eq!(evidence["complete"], true);
    // Whose traffic, against what: said in evidence.json and on stdout.
    assert!(
        evidence["run"]["traffic"]
            .as_str()
            .unwrap()
            .starts_with("vipps-golive's own client"),
        "{:#}",
        evidence["run"]
    );
    assert_eq!(evidence["run"]["target_class"], "the embedded simulator");
    assert!(
        stdout.contains("Judged: vipps-golive's own client (a rehearsal, not the shop's traffic), against the embedded simulator"),
        "{stdout}"
    );

    // Every scenario the simulator can run passed; only the ones that need a
    // person or a flag are listed, never failed.
    let scenarios = evidence["scenarios"].as_array().unwrap();
    assert!(scenarios.len() >= 30, "{}", scenarios.len());
    for s in scenarios {
        let verdict = s["verdict"].as_str().unwrap();
        match s["name"].as_str().unwrap() {
            "The shop follows the design guidelines"
            | "Customer support can do its normal work in the shop's own system" => {
                assert_eq!(verdict, "NEEDS_ATTESTATION", "{s:#}")
            }
            "The shop's return page opens in a fresh browser" => {
                assert_eq!(verdict, "NOT_APPLICABLE", "{s:#}")
            }
            _ => assert_eq!(verdict, "PASS", "{s:#}"),
        }
    }

    // All 17 items in checklist order; GL-PROD needs production.
    let items = evidence["items"].as_array().unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    let expected: Vec<&str> = vipps_golive::domain::checklist::ITEMS
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids, expected);
    for item in items {
        let want = match item["id"].as_str().unwrap() {
            // QA-ERRORS: the API's error answers are shown from traffic,
            // the shop's screens need a person (as in `audit`).
            "PF-DESIGN" | "PF-SUPPORT" | "QA-ERRORS" => "NEEDS_ATTESTATION",
            "GL-PROD" => "NOT_APPLICABLE",
            // Its return-page scenario needs --return-url: never plain PASS.
            "PF-REDIRECTS" => "PARTLY_PROVEN",
            _ => "PASS",
        };
        assert_eq!(item["verdict"], want, "{item:#}");
    }

    // The GL-TEST trio: references ending CAPTURED, REFUNDED and CANCELLED,
    // and what the API said of each reads back the same.
    let golive = evidence["golive"]["references"].as_array().unwrap();
    for (row, ending) in golive.iter().zip(["CAPTURED", "REFUNDED", "CANCELLED"]) {
        assert_eq!(row["outcome"], ending);
        let reference = row["reference"].as_str().unwrap();
        let read = evidence["references"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["reference"] == reference)
            .unwrap();
        assert_eq!(
            read["events"].as_array().unwrap().last().unwrap()["name"],
            ending
        );
    }
    // Every state of the state machine was read back.
    let reached: Vec<&str> = evidence["references"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["state"].as_str())
        .collect();
    for state in ["AUTHORIZED", "TERMINATED", "ABORTED", "EXPIRED", "CREATED"] {
        assert!(reached.contains(&state), "{state} not reached");
    }
    // Rate limits on (the simulator's default), and not one 429 in the journal.
    let journal = std::fs::read_to_string(latest.join("journal.jsonl")).unwrap();
    assert!(!journal.contains("\"status\":429"), "a 429 in the journal");
    // Each exchange names its scenario and checklist IDs, and carries the
    // tool's mark with this run's id (issue 20: audit never counts it).
    let run_id = evidence["run"]["run_id"].as_str().unwrap();
    for e in evidence["exchanges"].as_array().unwrap() {
        assert!(e["scenario"].is_string(), "{e:#}");
        let mark = e["request_headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h[0] == "x-vipps-golive-run");
        assert_eq!(
            mark.map(|h| &h[1]),
            Some(&serde_json::json!(run_id)),
            "{e:#}"
        );
    }

    // The summary per checklist ID is on stdout.
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(stdout.contains("EP-CAPTURE    PASS"), "{stdout}");

    // The manifest's hashes match the files.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(latest.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["files"].as_array().is_some_and(|f| !f.is_empty()));
    let check = vipps_golive::evidence::manifest::check(&latest, None).unwrap();
    assert!(check.intact(), "{check:?}");
    // Page one shows the seal (issue 24 point 2): UNSIGNED, the run id and
    // the SHA-256 of evidence.json and journal.jsonl as they are on disk.
    let html = std::fs::read_to_string(latest.join("report.html")).unwrap();
    let seal = &html[html.find(r#"id="seal""#).expect("a seal on page one")..];
    let seal = &seal[..seal.find("</section>").unwrap()];
    assert!(
        seal.contains(r#"<span class="seal-mark">UNSIGNED</span>"#),
        "{seal}"
    );
    assert!(seal.contains(run_id));
    for file in ["evidence.json", "journal.jsonl"] {
        use sha2::Digest as _;
        let sha = hex::encode(sha2::Sha256::digest(
            std::fs::read(latest.join(file)).unwrap(),
        ));
        assert!(seal.contains(&sha), "{file} {sha} not in the seal:\n{seal}");
    }
    assert!(seal.contains("vipps-golive report --check FOLDER"));

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

#[test]
fn a_users_own_features_folder_runs_and_a_step_nobody_defined_fails_the_item() {
    let dir = tempfile::tempdir().unwrap();
    let features = dir.path().join("features");
    std::fs::create_dir(&features).unwrap();
    std::fs::write(
        features.join("mine.feature"),
        "Feature: Mine\n\n  @EP-CAPTURE @simulator\n  Scenario: Our own capture\n    Given a payment of 10.00 NOK that the customer has approved\n    When the shop captures 10.00 NOK\n    Then the payment is AUTHORIZED with 10.00 NOK captured\n\n  @EP-REFUND @simulator\n  Scenario: A step nobody wrote\n    Given the moon is full\n",
    )
    .unwrap();
    let output = golive()
        .current_dir(dir.path())
        .args(["run", "--features", "features", "--out", "reports"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr:\n{stderr}");
    let evidence: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("reports/latest/evidence.json")).unwrap(),
    )
    .unwrap();
    let scenarios = evidence["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 2);
    assert_eq!(scenarios[0]["verdict"], "PASS", "{scenarios:#?}");
    assert_eq!(scenarios[1]["verdict"], "FAIL");
    assert!(scenarios[1]["reason"]
        .as_str()
        .unwrap()
        .contains("matches no step definition"));
    let item = |id: &str| {
        evidence["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap()["verdict"]
            .clone()
    };
    assert_eq!(item("EP-CAPTURE"), "PASS");
    assert_eq!(item("EP-REFUND"), "FAIL");
}

/// Issue 20 point 8: a failed scenario fails the run whether or not it names
/// a checklist item, and a run in which nothing ran is not a pass.
#[test]
fn an_untagged_failure_fails_the_run_and_a_run_where_nothing_ran_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let features = dir.path().join("untagged");
    std::fs::create_dir(&features).unwrap();
    std::fs::write(
        features.join("mine.feature"),
        "Feature: Mine\n\n  @simulator\n  Scenario: No checklist tag\n    Given a payment of 2.00 NOK waiting for the customer\n    When the shop does something nobody defined\n",
    )
    .unwrap();
    let output = golive()
        .current_dir(dir.path())
        .args(["run", "--features", "untagged", "--out", "reports"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(
        stderr.contains("scenario(s) failed: No checklist tag"),
        "{stderr}"
    );

    let features = dir.path().join("elsewhere");
    std::fs::create_dir(&features).unwrap();
    std::fs::write(
        features.join("theirs.feature"),
        "Feature: Theirs\n\n  @EP-CREATE @test\n  Scenario: Only on the test environment\n    Given a payment of 2.00 NOK waiting for the customer\n",
    )
    .unwrap();
    let output = golive()
        .current_dir(dir.path())
        .args(["run", "--features", "elsewhere", "--out", "reports"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr:\n{stderr}");
    assert!(stderr.contains("nothing ran"), "{stderr}");
}

#[test]
fn checklist_lists_every_item_with_the_scenarios_that_cover_it() {
    let output = golive()
        .args(["checklist", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 17);
    for row in rows {
        assert!(
            !row["scenarios"].as_array().unwrap().is_empty(),
            "{} has no scenario",
            row["id"]
        );
    }
    let text = golive().arg("checklist").output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("GL-PROD"), "{text}");
    assert!(
        text.contains("The shop refunds part of a captured payment"),
        "{text}"
    );
}

#[test]
fn verify_without_references_or_against_the_embedded_simulator_is_a_usage_error() {
    let output = golive()
        .args([
            "verify",
            "--base-url",
            "http://127.0.0.1:9",
            "--msn",
            "123456",
        ])
        .env("VIPPS_CLIENT_ID", "id")
        .env("VIPPS_CLIENT_SECRET", "secret")
        .env("VIPPS_SUBSCRIPTION_KEY", "key")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no references given"));
    let output = golive()
        .args(["verify", "golive-ref-0001"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

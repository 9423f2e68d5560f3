//! Against the real Vipps test environment (apitest.vipps.no). Ignored by
//! default: it needs a merchant's test credentials and the network.
//!
//! ```sh
//! export VIPPS_CLIENT_ID=... VIPPS_CLIENT_SECRET=... VIPPS_SUBSCRIPTION_KEY=... VIPPS_MSN=...
//! export VIPPS_TEST_PHONE=4712345678   # the MT app's test user
//! cargo test --test real_test_env -- --ignored
//! ```

use std::process::Command;

#[test]
#[ignore = "needs test-environment credentials (VIPPS_CLIENT_ID, ...) and the network"]
fn the_checklist_passes_in_the_test_environment_and_yields_the_gl_test_trio() {
    let phone = std::env::var("VIPPS_TEST_PHONE").unwrap_or_default();
    let out = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vipps-golive"));
    cmd.args(["run", "--env", "test", "--non-interactive", "--out"])
        .arg(out.path());
    if !phone.is_empty() {
        cmd.args(["--test-phone", &phone]);
    }
    let output = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for ending in ["CAPTURED", "REFUNDED", "CANCELLED"] {
        assert!(
            stdout.contains(&format!("GL-TEST {ending}")),
            "no GL-TEST {ending} reference:\n{stdout}"
        );
    }
}

/// `compare --env test`: the simulator against the real test environment.
/// Differences are printed, not asserted away: the point is to see them. The
/// test asserts that the comparison ran and wrote its rows.
#[test]
#[ignore = "needs test-environment credentials (VIPPS_CLIENT_ID, ...) and the network"]
fn the_simulator_is_compared_with_the_test_environment() {
    let phone = std::env::var("VIPPS_TEST_PHONE").unwrap_or_default();
    let out = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vipps-golive"));
    cmd.args(["compare", "--env", "test", "--non-interactive", "--out"])
        .arg(out.path());
    if !phone.is_empty() {
        cmd.args(["--test-phone", &phone]);
    }
    let output = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json = std::fs::read(out.path().join("compare/latest/compare.json")).unwrap();
    let c: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(c["target"]["target"], "test");
    assert!(c["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["compared"] == true));
}

//! The `config` command through the binary. (Sources, precedence and every
//! problem listed at once are tested in the crate, src/commands/tests_config_loading.rs.)

use std::path::{Path, PathBuf};
use std::process::Command;

use vipps_golive::config::Field;

fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

// --- through the binary ---

fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vipps-golive"));
    for field in Field::ALL {
        cmd.env_remove(field.env_var());
    }
    cmd
}

#[test]
fn config_command_exits_2_and_lists_every_problem_without_a_stack_trace() {
    let dir = tempfile::tempdir().unwrap();

    let out = binary()
        .current_dir(dir.path())
        .args([
            "config",
            "--env",
            "test",
            "--client-secret",
            "planted-cli-secret",
            "--msn",
            "x",
        ])
        .output()
        .unwrap();

    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("client_id is missing"), "{stderr}");
    assert!(
        stderr.contains("subscription key (Ocp-Apim-Subscription-Key) is missing"),
        "{stderr}"
    );
    assert!(stderr.contains("must be 4 to 7 digits"), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{stderr}"
    );
    assert!(!stderr.contains("planted") && !stdout.contains("planted"));
}

#[test]
fn config_command_shows_fingerprints_and_sources_only() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        ".env",
        "VIPPS_CLIENT_SECRET=planted-dotenv-secret\nVIPPS_SUBSCRIPTION_KEY=planted-dotenv-key\n",
    );

    let out = binary()
        .current_dir(dir.path())
        .env("VIPPS_CLIENT_ID", "planted-env-id")
        .env("VIPPS_MSN", "7654321")
        .args(["config", "--env", "test"])
        .output()
        .unwrap();

    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("planted"), "{stdout}");
    let fp = vipps_golive::domain::redact::fingerprint("planted-dotenv-secret");
    assert!(stdout.contains(&format!("…{fp}")), "{stdout}");
    assert!(stdout.contains("https://apitest.vipps.no"), "{stdout}");
    assert!(stdout.contains("7654321"), "{stdout}");
    assert!(
        stdout.contains(".env file `.env` (key `VIPPS_CLIENT_SECRET`)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("environment variable `VIPPS_CLIENT_ID`"),
        "{stdout}"
    );
}

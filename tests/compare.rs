//! `compare` through the binary: what it refuses before any socket opens.
//! (The comparisons themselves are tested in the crate, src/compare/tests_compare.rs.)

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vipps-golive"))
}

#[test]
fn compare_needs_a_target_and_never_runs_against_production() {
    let out = tempfile::tempdir().unwrap();
    let o = bin()
        .args(["compare", "--out"])
        .arg(out.path())
        .env_remove("VIPPS_ENV")
        .env_remove("VIPPS_BASE_URL")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--env test"));

    for spelling in [
        "https://api.vipps.no",
        "https://API.Vipps.no./epayment",
        "http://api.vipps.no:8443",
    ] {
        let args = [
            "compare",
            "--base-url",
            spelling,
            "--client-id",
            "id-canary-7f3a",
            "--client-secret",
            "secret-canary-7f3a",
            "--subscription-key",
            "key-canary-7f3a",
            "--msn",
            "123456",
            "--out",
        ];
        // `--allow-real-money` is not a compare flag: clap refuses it (exit 2).
        let o = bin()
            .args(args)
            .arg(out.path())
            .arg("--allow-real-money")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{spelling}");
        let o = bin()
            .args(args)
            .arg(out.path())
            .env("HTTPS_PROXY", "http://127.0.0.1:9")
            .env("HTTP_PROXY", "http://127.0.0.1:9")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{spelling}: {stderr}");
        assert!(stderr.contains("production"), "{spelling}: {stderr}");
        assert!(!stderr.contains("secret-canary-7f3a"));
    }
    assert!(
        !out.path().join("compare").exists(),
        "nothing is written before the target is accepted"
    );
}

#[test]
fn a_missing_allow_list_is_a_usage_error_naming_the_file() {
    let out = tempfile::tempdir().unwrap();
    let o = bin()
        .args([
            "compare",
            "--base-url",
            "http://127.0.0.1:9",
            "--client-id",
            "a",
            "--client-secret",
            "b",
            "--subscription-key",
            "c",
            "--msn",
            "123456",
            "--allow-list",
            "/nonexistent/allow.txt",
            "--out",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/allow.txt"));
}

//! Issue 25: in CI nobody is waiting (CI=true or no terminal means
//! `--non-interactive`, said on the first line; a production run refuses),
//! and `report DIR --markdown` gives the checklist table for a job summary.

use std::process::{Command, Stdio};

fn golive() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vipps-golive"));
    for var in [
        "VIPPS_CLIENT_ID",
        "VIPPS_CLIENT_SECRET",
        "VIPPS_SUBSCRIPTION_KEY",
        "VIPPS_MSN",
        "CI",
    ] {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null());
    cmd
}

#[test]
fn with_ci_set_a_run_is_non_interactive_and_says_so_first() {
    let out = tempfile::tempdir().unwrap();
    let run = golive()
        .current_dir(out.path())
        .env("CI", "true")
        .args(["run", "--out", "reports", "--tags", "@EP-CREATE"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("non-interactive (CI is set)"),
        "first line: {first}"
    );
}

#[test]
fn without_a_terminal_a_run_is_non_interactive_too() {
    let out = tempfile::tempdir().unwrap();
    let run = golive()
        .current_dir(out.path())
        .args(["run", "--out", "reports", "--tags", "@EP-CREATE"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(
        stderr
            .lines()
            .next()
            .unwrap_or_default()
            .starts_with("non-interactive (stdin is not a terminal)"),
        "{stderr}"
    );
    // Asked for explicitly, it is not announced.
    let run = golive()
        .current_dir(out.path())
        .args([
            "run",
            "--out",
            "reports",
            "--tags",
            "@EP-CREATE",
            "--non-interactive",
        ])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&run.stderr).contains("non-interactive ("));
}

#[test]
fn a_production_run_in_ci_refuses_before_anything_connects() {
    let out = tempfile::tempdir().unwrap();
    for ci in ["true", "1", "yes"] {
        let run = golive()
            .current_dir(out.path())
            .env("CI", ci)
            .env("VIPPS_CLIENT_ID", "id")
            .env("VIPPS_CLIENT_SECRET", "never-shown-secret")
            .env("VIPPS_SUBSCRIPTION_KEY", "key")
            .env("VIPPS_MSN", "123456")
            // Anything that did try to connect would go here and fail differently.
            .env("HTTPS_PROXY", "http://127.0.0.1:9")
            .args([
                "run",
                "--env",
                "production",
                "--allow-real-money",
                "--out",
                "reports",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "CI={ci}: {stderr}");
        assert!(
            stderr.contains("needs a person at the terminal"),
            "{stderr}"
        );
        assert!(stderr.contains("CI is set"), "{stderr}");
        assert!(!stderr.contains("never-shown-secret"));
        assert!(!out.path().join("reports").exists(), "no folder is written");
    }
}

#[test]
fn report_markdown_prints_the_checklist_table_the_report_shows() {
    let out = tempfile::tempdir().unwrap();
    let run = golive()
        .current_dir(out.path())
        .args(["run", "--out", "reports", "--non-interactive"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    let latest = out.path().join("reports/latest");
    let before: Vec<_> = std::fs::read_dir(&latest).unwrap().collect();
    let md = golive()
        .args(["report", latest.to_str().unwrap(), "--markdown"])
        .output()
        .unwrap();
    assert_eq!(md.status.code(), Some(0));
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.starts_with("### vipps-golive run: "), "{md}");
    assert!(md.contains("| ID | Verdict | Why | References |"));
    let evidence: serde_json::Value =
        serde_json::from_slice(&std::fs::read(latest.join("evidence.json")).unwrap()).unwrap();
    let items = evidence["items"].as_array().unwrap();
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| ")).skip(1).collect();
    assert_eq!(rows.len(), items.len(), "{md}");
    for (row, item) in rows.iter().zip(items) {
        let id = item["id"].as_str().unwrap();
        assert!(row.starts_with(&format!("| {id} | ")), "{row}");
        let verdict = item["verdict"]
            .as_str()
            .unwrap()
            .replace('_', " ")
            .to_uppercase();
        assert!(
            row.contains(&format!("**{verdict}**")),
            "{row} vs {verdict}"
        );
    }
    assert!(md.contains("Judged: vipps-golive's own client"), "{md}");
    // It writes nothing: the sealed folder stays as it was.
    let after: Vec<_> = std::fs::read_dir(&latest).unwrap().collect();
    assert_eq!(before.len(), after.len());
    let check = golive()
        .args(["report", "--check", latest.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0));
}

/// The container and the action keep credentials out (issue 25): the image
/// runs as a non-root user and bakes in no VIPPS_* value; the action takes
/// no credential as an input (only env, from secrets); the build context
/// leaves out target/, reports/ and .env.
#[test]
fn the_image_and_the_action_carry_no_credentials() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    let user = dockerfile
        .lines()
        .rfind(|l| l.starts_with("USER "))
        .expect("a USER line");
    assert!(!user.contains("root") && user.trim() != "USER 0", "{user}");
    assert!(dockerfile.contains("VOLUME [\"/reports\"]"));
    assert!(dockerfile.contains("ENTRYPOINT [\"vipps-golive\"]"));
    for line in dockerfile
        .lines()
        .filter(|l| l.starts_with("ENV ") || l.starts_with("ARG "))
    {
        assert!(!line.contains("VIPPS_"), "baked in: {line}");
    }
    let ignore = std::fs::read_to_string(root.join(".dockerignore")).unwrap();
    for kept_out in ["target/", "reports/", ".env"] {
        assert!(ignore.lines().any(|l| l.trim() == kept_out), "{kept_out}");
    }
    let action = std::fs::read_to_string(root.join("action.yml")).unwrap();
    let inputs = action
        .split("\ninputs:\n")
        .nth(1)
        .and_then(|rest| rest.split("\noutputs:\n").next())
        .unwrap();
    for secret in ["secret", "client", "subscription", "key", "msn", "token"] {
        assert!(
            !inputs
                .to_ascii_lowercase()
                .lines()
                .any(|l| l.starts_with("  ") && !l.starts_with("   ") && l.contains(secret)),
            "an input names {secret}:\n{inputs}"
        );
    }
}

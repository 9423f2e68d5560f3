//! Issue 10, points 2, 3, 4, 6 and 9: the run folder, the journal written
//! ahead, a closed terminal, a disk that fills up, and where output goes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use vipps_golive::evidence::folder::{read_status, STATUS_INCOMPLETE};
use vipps_golive::evidence::Journal;

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
    cmd
}

/// The run folders under `out` (not `latest`), oldest first.
fn run_folders(out: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name() != "latest" && e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs
}

fn complete_run(out: &Path) -> PathBuf {
    let before = run_folders(out);
    let output = golive().args(["run", "--out"]).arg(out).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    run_folders(out)
        .into_iter()
        .find(|d| !before.contains(d))
        .unwrap()
}

#[test]
fn a_real_latest_folder_or_file_is_left_untouched_and_the_run_says_so() {
    let out = tempfile::tempdir().unwrap();
    let latest = out.path().join("latest");
    std::fs::create_dir(&latest).unwrap();
    std::fs::write(latest.join("notes.txt"), "my own notes").unwrap();

    let output = golive()
        .args(["run", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(latest.join("notes.txt")).unwrap(),
        "my own notes"
    );
    assert!(!latest.is_symlink());
    assert!(stderr.contains("left untouched"), "{stderr}");
    let run = run_folders(out.path()).pop().unwrap();
    assert!(run.join("manifest.json").is_file());

    // A real file likewise.
    let out = tempfile::tempdir().unwrap();
    let latest = out.path().join("latest");
    std::fs::write(&latest, "not a link").unwrap();
    let output = golive()
        .args(["run", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(std::fs::read_to_string(&latest).unwrap(), "not a link");
    assert!(stderr.contains("left untouched"), "{stderr}");

    // The tool's own link does move.
    let first = run_folders(out.path()).pop().unwrap();
    std::fs::remove_file(&latest).unwrap();
    std::os::unix::fs::symlink(first.file_name().unwrap(), &latest).unwrap();
    let second = complete_run(out.path());
    assert_eq!(
        std::fs::read_link(&latest).unwrap(),
        PathBuf::from(second.file_name().unwrap())
    );
}

#[test]
fn results_go_to_stdout_and_progress_to_stderr() {
    let out = tempfile::tempdir().unwrap();
    let output = golive()
        .args(["run", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("The shop captures the whole payment at once") && stdout.contains("PASS"),
        "{stdout}"
    );
    assert!(stdout.contains("EP-CAPTURE    PASS"), "{stdout}");
    assert!(stdout.contains("scenarios, 0 failed"), "{stdout}");
    assert!(stdout.contains("report: "), "{stdout}");
    assert!(
        !stderr.contains("PASS"),
        "a verdict went to stderr: {stderr}"
    );
}

#[test]
fn a_closed_pipe_on_stdout_and_stderr_does_not_abort_the_run() {
    let out = tempfile::tempdir().unwrap();
    let mut child = golive()
        .args(["run", "--out"])
        .arg(out.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading ends at once: every write gets EPIPE (as `| head -1` does).
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let latest = out.path().join("latest");
    for file in [
        "journal.jsonl",
        "evidence.json",
        "report.html",
        "manifest.json",
    ] {
        assert!(latest.join(file).is_file(), "{file} missing");
    }
}

#[test]
fn a_full_disk_behind_stdout_and_stderr_does_not_abort_the_run() {
    let out = tempfile::tempdir().unwrap();
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let status = golive()
        .args(["run", "--out"])
        .arg(out.path())
        .stdout(full())
        .stderr(full())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(out.path().join("latest/manifest.json").is_file());
}

#[test]
fn an_exchange_that_cannot_be_recorded_stops_the_run_with_exit_4_never_pass() {
    let out = tempfile::tempdir().unwrap();
    let first = complete_run(out.path());
    // Files larger than 16 KB cannot be written (EFBIG, SIGXFSZ ignored): the
    // journal fills up after a few exchanges, as on a full disk.
    let output = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 32; exec \"$0\" run --out \"$1\"")
        .arg(env!("CARGO_BIN_EXE_vipps-golive"))
        .arg(out.path())
        .env_remove("VIPPS_CLIENT_ID")
        .env_remove("VIPPS_CLIENT_SECRET")
        .env_remove("VIPPS_SUBSCRIPTION_KEY")
        .env_remove("VIPPS_MSN")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stdout}\n{stderr}");
    assert!(stderr.contains("could not be recorded"), "{stderr}");
    assert!(!stdout.contains("0 failed"), "{stdout}");

    let failed = run_folders(out.path())
        .into_iter()
        .find(|d| *d != first)
        .unwrap();
    assert!(!failed.join("manifest.json").exists());
    assert!(!failed.join("evidence.json").exists());
    // Issue 20 point 9: a run that lost evidence says `incomplete`, the word
    // a full disk leaves anyway (the README says the same), and why.
    let status = read_status(&failed).unwrap();
    assert_eq!(status.status, STATUS_INCOMPLETE, "{status:?}");
    assert!(
        status
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("the evidence could not be recorded"),
        "{status:?}"
    );
    // No PASS line for a scenario whose outcome the journal does not hold:
    // every attempt of a scenario printed PASS has its exchange.
    let journal = std::fs::read_to_string(failed.join("journal.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = journal
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    for line in stdout.lines() {
        let Some(name) = line.strip_prefix("  PASS") else {
            continue;
        };
        let name = name.trim();
        for attempt in lines
            .iter()
            .filter(|l| l["kind"] == "attempt" && l["scenario"] == name)
        {
            assert!(
                lines
                    .iter()
                    .any(|l| l["kind"] != "attempt" && l["id"] == attempt["id"]),
                "PASS printed for `{name}`, whose attempt {} has no recorded outcome\n{stdout}",
                attempt["id"]
            );
        }
    }
    assert_eq!(
        std::fs::read_link(out.path().join("latest")).unwrap(),
        PathBuf::from(first.file_name().unwrap())
    );
    // No torn or temporary file was left behind.
    for entry in std::fs::read_dir(&failed).unwrap() {
        let name = entry.unwrap().file_name();
        assert!(!name.to_string_lossy().starts_with(".tmp-"), "{name:?}");
    }
}

/// A standalone simulator child; killed when dropped.
struct Sim {
    child: Child,
    base: String,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn simulator(extra: &[&str]) -> Sim {
    let mut child = golive()
        .args(["simulator", "--port", "0", "--control", "--no-rate-limits"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        let line = lines.next().expect("the simulator said nothing").unwrap();
        if let Some(url) = line.strip_prefix("Vipps simulator listening on ") {
            break url.trim().to_owned();
        }
    };
    // Keep draining stdout so the simulator never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Sim { child, base }
}

/// A plain HTTP/1.1 POST (the tests need no async client for this).
fn post(base: &str, path: &str, body: &str) -> String {
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nMerchant-Serial-Number: 123456\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn a_run_killed_during_a_capture_leaves_the_attempt_in_the_journal_and_latest_alone() {
    let out = tempfile::tempdir().unwrap();
    let first = complete_run(out.path());

    let sim = simulator(&[]);
    let armed = post(
        &sim.base,
        "/__sim/faults",
        r#"{"method":"POST","path":"/epayment/v1/payments/*/capture","kind":"delay","delayMs":6000,"times":1}"#,
    );
    assert!(armed.starts_with("HTTP/1.1 2"), "{armed}");

    let mut run = golive()
        .args(["run", "--base-url", &sim.base, "--out"])
        .arg(out.path())
        .env("VIPPS_CLIENT_ID", "sim-client-id-123456")
        .env("VIPPS_CLIENT_SECRET", "sim-client-secret-123456")
        .env("VIPPS_SUBSCRIPTION_KEY", "sim-subscription-key-123456")
        .env("VIPPS_MSN", "123456")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    // Wait until the capture has been written ahead (it is then in flight for 6 s).
    let deadline = Instant::now() + Duration::from_secs(120);
    let journal = loop {
        let found = run_folders(out.path())
            .into_iter()
            .filter(|d| *d != first)
            .map(|d| d.join("journal.jsonl"))
            .find(|j| {
                std::fs::read_to_string(j).is_ok_and(|t| {
                    t.lines()
                        .any(|l| l.contains("\"kind\":\"attempt\"") && l.contains("/capture"))
                })
            });
        if let Some(j) = found {
            break j;
        }
        assert!(
            run.try_wait().unwrap().is_none(),
            "the run ended before its capture"
        );
        assert!(Instant::now() < deadline, "no capture attempt in time");
        std::thread::sleep(Duration::from_millis(50));
    };
    run.kill().unwrap(); // SIGKILL
    run.wait().unwrap();

    let interrupted = Journal::interrupted(&journal).unwrap();
    let capture = interrupted
        .iter()
        .find(|a| a.method == "POST" && a.url.ends_with("/capture"))
        .unwrap_or_else(|| panic!("no interrupted capture in {interrupted:#?}"));
    let reference = capture.reference.as_deref().unwrap();
    assert!(capture.url.contains(reference), "{capture:?}");
    let key = capture.idempotency_key.as_deref().unwrap();
    assert!(!key.is_empty());

    let folder = journal.parent().unwrap();
    assert!(!folder.join("manifest.json").exists());
    assert_eq!(read_status(folder).unwrap().status, STATUS_INCOMPLETE);
    assert_eq!(
        std::fs::read_link(out.path().join("latest")).unwrap(),
        PathBuf::from(first.file_name().unwrap())
    );
}

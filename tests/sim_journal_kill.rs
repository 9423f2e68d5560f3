//! Issue 22 point 3: the standalone simulator journals a request before it
//! answers it. Killed with SIGKILL under load, its journal holds every request
//! a client got an answer to; on a full disk it answers 503 (a Problem saying
//! the journal is unavailable) and says so in one line, instead of answering
//! traffic nobody could audit.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// A standalone simulator child journaling to a file; killed when dropped.
struct Sim {
    child: Child,
    addr: String,
    stderr: Arc<Mutex<String>>,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn simulator(journal: &Path) -> Sim {
    simulator_with(journal, &[])
}

fn simulator_with(journal: &Path, env: &[(&str, &str)]) -> Sim {
    let mut cmd = golive();
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .args(["simulator", "--port", "0", "--no-rate-limits", "--journal"])
        .arg(journal)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
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
    std::thread::spawn(move || for _ in lines {});
    let stderr = Arc::new(Mutex::new(String::new()));
    let mut err = child.stderr.take().unwrap();
    let sink = stderr.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = err.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let addr = base.trim_start_matches("http://").to_owned();
    Sim {
        child,
        addr,
        stderr,
    }
}

/// One keep-alive GET; `Some((status, body))` only for a whole answer.
fn get(stream: &mut BufReader<TcpStream>, addr: &str, path: &str) -> Option<(u16, String)> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream.get_mut().write_all(request.as_bytes()).ok()?;
    let mut status_line = String::new();
    if stream.read_line(&mut status_line).ok()? == 0 {
        return None;
    }
    let status: u16 = status_line.split_whitespace().nth(1)?.parse().ok()?;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).ok()?;
    Some((status, String::from_utf8_lossy(&body).into_owned()))
}

/// The request paths in the journal's whole lines (a line cut by the kill is
/// not counted: its request was never answered).
fn journaled_paths(journal: &Path) -> HashSet<String> {
    let text = std::fs::read(journal).unwrap();
    String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["url"].as_str().map(str::to_owned))
        .filter_map(|u| u.find("/epayment").map(|i| u[i..].to_owned()))
        .collect()
}

/// Drives `clients` keep-alive connections with GETs of unique paths until
/// `stop`; returns the paths that got a whole answer.
fn load(
    addr: &str,
    round: u32,
    clients: u32,
    stop: Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<Vec<String>>> {
    (0..clients)
        .map(|t| {
            let addr = addr.to_owned();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut answered = Vec::new();
                let Ok(tcp) = TcpStream::connect(&addr) else {
                    return answered;
                };
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                let mut stream = BufReader::new(tcp);
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let path = format!("/epayment/v1/payments/kill-r{round}-t{t}-n{n}");
                    match get(&mut stream, &addr, &path) {
                        Some(_) => answered.push(path),
                        None => break,
                    }
                }
                answered
            })
        })
        .collect()
}

#[test]
fn a_simulator_killed_under_load_has_journaled_every_request_it_answered() {
    let dir = tempfile::tempdir().unwrap();
    let mut total_answered = 0;
    for round in 0..3u32 {
        let journal = dir.path().join(format!("kill-{round}.jsonl"));
        let mut sim = simulator(&journal);
        let stop = Arc::new(AtomicBool::new(false));
        let clients = load(&sim.addr, round, 16, stop.clone());
        // Let the load build up, then kill without warning, mid-traffic.
        std::thread::sleep(Duration::from_millis(600 + 200 * u64::from(round)));
        sim.child.kill().unwrap(); // SIGKILL
        sim.child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        let answered: Vec<String> = clients
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect();
        assert!(
            answered.len() > 50,
            "round {round}: too little load to judge ({} answers)",
            answered.len()
        );
        let journaled = journaled_paths(&journal);
        let missing: Vec<&String> = answered
            .iter()
            .filter(|p| !journaled.contains(*p))
            .collect();
        assert!(
            missing.is_empty(),
            "round {round}: {} of {} answered requests are not in the journal, e.g. {:?}",
            missing.len(),
            answered.len(),
            missing.iter().take(3).collect::<Vec<_>>()
        );
        total_answered += answered.len();
    }
    assert!(total_answered > 150);
}

/// A small tmpfs for the journal, when this test may mount one (root on
/// Linux); unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount() -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallDisk { dir })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn a_simulator_whose_journal_disk_is_full_answers_503_and_says_so_once() {
    // A real full disk where the test can mount one; /dev/full (every write
    // fails with ENOSPC) otherwise.
    let disk = SmallDisk::mount();
    let journal: PathBuf = match &disk {
        Some(d) => d.dir.path().join("full.jsonl"),
        None if Path::new("/dev/full").exists() => {
            eprintln!("notice: cannot mount a tmpfs here; the full disk is /dev/full");
            PathBuf::from("/dev/full")
        }
        None => {
            eprintln!("notice: skipped: neither a tmpfs nor /dev/full is available");
            return;
        }
    };
    let sim = simulator(&journal);
    let tcp = TcpStream::connect(&sim.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut stream = BufReader::new(tcp);
    let mut answered = Vec::new();
    let mut refused = None;
    // 64 KiB hold a few hundred lines; each request is journaled or refused.
    for n in 0..5_000 {
        let path = format!("/epayment/v1/payments/full-{n:05}-{}", "x".repeat(40));
        let (status, body) = get(&mut stream, &sim.addr, &path).expect("an answer");
        if status == 503 {
            refused = Some(body);
            break;
        }
        answered.push(path);
    }
    let body = refused.expect("the simulator never noticed its journal could not be written");
    let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["status"], 503);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("journal cannot be written"),
        "{body}"
    );
    // Refused at once while the disk stays full, before reaching the engine.
    for _ in 0..20 {
        let (status, _) = get(&mut stream, &sim.addr, "/epayment/v1/payments/after-full").unwrap();
        assert_eq!(status, 503);
    }
    // Every request that got an ordinary answer is in the journal, which holds
    // only whole lines (the line cut by the full disk was taken back).
    if disk.is_some() {
        let text = std::fs::read_to_string(&journal).unwrap();
        for line in text.lines() {
            serde_json::from_str::<serde_json::Value>(line).expect("a whole JSON line");
        }
        let journaled = journaled_paths(&journal);
        assert!(answered.iter().all(|p| journaled.contains(p)));
        assert_eq!(journaled.len(), answered.len());
    }
    // One line on stderr says so, however many requests were refused.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !sim.stderr.lock().unwrap().contains("simulator journal") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let stderr = sim.stderr.lock().unwrap().clone();
    let said = stderr
        .lines()
        .filter(|l| l.contains("cannot write the simulator journal"))
        .count();
    assert_eq!(said, 1, "{stderr}");
    drop(sim);
    drop(disk);
}

#[test]
fn a_secret_given_up_front_is_hidden_from_the_first_request_on() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.jsonl");
    let secret = "CANARY-upfront-secret-55";
    let sim = simulator_with(&journal, &[("VIPPS_CLIENT_SECRET", secret)]);
    let body = format!(r#"{{"note":"{secret}"}}"#);
    let mut tcp = TcpStream::connect(&sim.addr).unwrap();
    write!(
        tcp,
        "POST /epayment/v1/payments HTTP/1.1\r\nHost: {}\r\nX-Shop-Debug: {secret}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        sim.addr,
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 "), "{answer}");
    // Written before the answer left: the line is there now.
    let text = std::fs::read_to_string(&journal).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(!text.contains(secret), "{text}");
}

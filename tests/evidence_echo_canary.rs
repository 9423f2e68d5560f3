//! The canary, by value (issue 10, point 5): a server that echoes every
//! planted credential and the token it issued back in a header, a JSON
//! string and an error text. Redaction by field name alone lets these
//! through; nothing may reach the terminal, the journal, the evidence or the
//! simulator's `--journal` file.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const CLIENT_ID: &str = "CANARY-ECHO-ID-51d2";
const CLIENT_SECRET: &str = "CANARY-ECHO-SECRET-51d2";
const SUBSCRIPTION_KEY: &str = "CANARY-ECHO-KEY-51d2";
const TOKEN: &str = "CANARY-ECHO-TOKEN-51d2";
const STEM: &str = "CANARY-";

fn golive() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vipps-golive"));
    cmd.env("VIPPS_CLIENT_ID", CLIENT_ID)
        .env("VIPPS_CLIENT_SECRET", CLIENT_SECRET)
        .env("VIPPS_SUBSCRIPTION_KEY", SUBSCRIPTION_KEY)
        .env("VIPPS_MSN", "123456");
    cmd
}

/// Header names (lowercased) and values.
type Headers = Vec<(String, String)>;

/// Reads one HTTP/1.1 request: (method, path, headers).
fn read_request(stream: &mut TcpStream) -> Option<(String, String, Headers)> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some((method, path, headers))
}

/// Serves forever: the token endpoint refuses (`issue_token` false) or issues
/// [`TOKEN`]; every other call answers 400 echoing everything it was sent,
/// alternately as a Problem (JSON string) and as plain error text.
fn echo_server(issue_token: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = std::sync::atomic::AtomicUsize::new(0);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Some((_method, path, headers)) = read_request(&mut stream) else {
                continue;
            };
            let get = |name: &str| {
                headers
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            let echoed = format!(
                "id {} secret {} key {} auth {}",
                get("client_id"),
                get("client_secret"),
                get("ocp-apim-subscription-key"),
                get("authorization"),
            );
            let (status, content_type, body) = if path.eq_ignore_ascii_case("/accesstoken/get") {
                if issue_token {
                    (
                        "200 OK",
                        "application/json",
                        serde_json::json!({"token_type": "Bearer", "expires_in": "3600",
                            "access_token": TOKEN, "note": format!("issued to {}", get("client_id"))})
                        .to_string(),
                    )
                } else {
                    (
                        "400 Bad Request",
                        "application/json",
                        serde_json::json!({"error": "unauthorized_client",
                            "error_description": format!("Application with identifier '{}' was not found ({echoed})", get("client_id")),
                            "error_codes": [700016]})
                        .to_string(),
                    )
                }
            } else if served.fetch_add(1, std::sync::atomic::Ordering::SeqCst) % 2 == 0 {
                (
                    "400 Bad Request",
                    "application/problem+json",
                    serde_json::json!({"type": "about:blank", "title": "Bad Request", "status": 400,
                        "detail": format!("echo: {echoed}"), "traceId": "t-1"})
                    .to_string(),
                )
            } else {
                (
                    "400 Bad Request",
                    "text/plain",
                    format!("error text: {echoed}"),
                )
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nX-Echo: {echoed}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    base
}

fn assert_clean(what: &str, text: &str) {
    for planted in [CLIENT_ID, CLIENT_SECRET, SUBSCRIPTION_KEY, TOKEN, STEM] {
        assert!(
            !text.contains(planted),
            "`{planted}` leaked into {what}:\n{text}"
        );
    }
}

fn assert_files_clean(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            assert_files_clean(&path);
        } else if let Ok(bytes) = std::fs::read(&path) {
            assert_clean(
                &path.display().to_string(),
                &String::from_utf8_lossy(&bytes),
            );
        }
    }
}

fn assert_output_clean(output: &Output) {
    assert_clean("stdout", &String::from_utf8_lossy(&output.stdout));
    assert_clean("stderr", &String::from_utf8_lossy(&output.stderr));
}

#[test]
fn credentials_echoed_by_a_refusing_token_endpoint_reach_no_terminal_or_file() {
    let base = echo_server(false);
    let out = tempfile::tempdir().unwrap();
    let output = golive()
        .args(["run", "--base-url", &base, "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert_output_clean(&output);
    let journal = std::fs::read_to_string(
        std::fs::read_dir(out.path())
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path()
            .join("journal.jsonl"),
    )
    .unwrap();
    assert!(journal.contains("unauthorized_client"), "{journal}");
    assert_files_clean(out.path());
}

#[test]
fn a_token_and_credentials_echoed_in_headers_bodies_and_error_text_reach_no_terminal_or_file() {
    let base = echo_server(true);
    let out = tempfile::tempdir().unwrap();
    let output = golive()
        .args(["run", "--base-url", &base, "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_output_clean(&output);
    let latest = out.path().join("latest");
    let journal = std::fs::read_to_string(latest.join("journal.jsonl")).unwrap();
    // The echoes were recorded, masked: the evidence is still there.
    assert!(journal.contains("x-echo"), "{journal}");
    assert!(journal.contains("error text"), "{journal}");
    assert!(journal.contains("echo: id"), "{journal}");
    assert_files_clean(out.path());
}

#[test]
fn a_client_id_echoed_by_the_simulator_reaches_neither_journal() {
    let sim_journal = tempfile::tempdir().unwrap();
    let sim_journal = sim_journal.path().join("shop.jsonl");
    let mut sim = Command::new(env!("CARGO_BIN_EXE_vipps-golive"))
        .args(["simulator", "--port", "0", "--journal"])
        .arg(&sim_journal)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(sim.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("the simulator said nothing").unwrap();
        if let Some(url) = line.strip_prefix("Vipps simulator listening on ") {
            break url.trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});

    let out = tempfile::tempdir().unwrap();
    // The simulator's own subscription key, so the gateway lets the token
    // request through to the check of the (planted) client id.
    let output = golive()
        .args(["run", "--base-url", &base, "--out"])
        .arg(out.path())
        .env("VIPPS_SUBSCRIPTION_KEY", "sim-subscription-key-123456")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert_output_clean(&output);
    assert_files_clean(out.path());

    // The simulator writes its journal in the background: wait for the line.
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        let text = std::fs::read_to_string(&sim_journal).unwrap_or_default();
        if text.contains("unauthorized_client") {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "the simulator journal stayed empty"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = sim.kill();
    let _ = sim.wait();
    assert!(text.contains("Application with identifier"), "{text}");
    assert_clean("the simulator's --journal", &text);
}

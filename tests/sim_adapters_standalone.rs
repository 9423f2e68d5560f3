//! The standalone hyper server: body limit, graceful shutdown, many clients,
//! and the `simulator` command's refusal of a port in use.

use crate::sim_support;

use std::time::Duration;

use serde_json::{json, Value};
use sim_support::{client, Adapter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vipps_golive::simulator::SimConfig;

fn standalone_addr(a: &Adapter) -> String {
    a.url("").trim_start_matches("http://").to_owned()
}

#[tokio::test]
async fn a_body_over_1_mb_is_refused_with_a_400_problem_before_it_is_read() {
    let a = Adapter::standalone(SimConfig::default()).await;
    let big = vec![b'x'; 1024 * 1024 + 1];

    let r = client()
        .post(a.url("/epayment/v1/payments"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();

    assert_eq!(r.status(), 400);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/problem+json"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["extraDetails"][0]["name"], "Body");
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_refused_too() {
    let a = Adapter::standalone(SimConfig::default()).await;
    let mut s = tokio::net::TcpStream::connect(standalone_addr(&a))
        .await
        .unwrap();
    s.write_all(
        b"POST /epayment/v1/payments HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
    )
    .await
    .unwrap();
    let chunk = vec![b'a'; 64 * 1024];
    let mut answer = Vec::new();
    // Send up to 2 MB in chunks; the server answers once it passes 1 MB.
    for _ in 0..32 {
        let head = format!("{:x}\r\n", chunk.len());
        if s.write_all(head.as_bytes()).await.is_err()
            || s.write_all(&chunk).await.is_err()
            || s.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);

    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
}

/// Sends `head` (a request without a body) on a fresh connection; the answer's start.
async fn raw_answer(a: &Adapter, head: &[u8]) -> String {
    let mut s = tokio::net::TcpStream::connect(standalone_addr(a))
        .await
        .unwrap();
    let _ = s.write_all(head).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn odd_headers_get_an_answer_and_the_server_keeps_serving() {
    let a = Adapter::standalone(SimConfig::default()).await;

    // A header value that is not UTF-8 (obs-text): answered like any unauthenticated call.
    let text = raw_answer(
        &a,
        b"GET /epayment/v1/payments/ref-1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\xc3\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(text.starts_with("HTTP/1.1 401"), "{text}");

    // A 1 MB header: refused by hyper's header limit, not a panic.
    let mut head = b"GET /epayment/v1/payments/ref-1 HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    head.extend(std::iter::repeat(b'a').take(1024 * 1024));
    head.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    let text = raw_answer(&a, &head).await;
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 431"),
        "{text}"
    );

    let r = client()
        .get(a.url("/epayment/v1/payments/ref-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn an_image_upload_may_exceed_1_mb() {
    // A 2 MB image is about 2.7 MB of base64; the image route allows 3 MB.
    let a = Adapter::standalone(SimConfig::default()).await;
    let body = json!({ "imageId": "big", "type": "base64", "src": "A".repeat(1_500_000) });

    let r = client()
        .post(a.url("/order-management/v1/images"))
        .json(&body)
        .send()
        .await
        .unwrap();

    // Not the body-limit Problem (authentication or validation decides instead).
    let text = r.text().await.unwrap();
    assert!(!text.contains("larger than"), "{text}");
}

#[tokio::test]
async fn shutdown_lets_an_open_request_finish() {
    let a = Adapter::standalone(SimConfig::default()).await;
    client()
        .post(a.url("/__sim/faults"))
        .json(&json!({ "path": "/slow", "kind": "delay", "delayMs": 500 }))
        .send()
        .await
        .unwrap();
    let url = a.url("/slow");
    let pending = tokio::spawn(async move { client().get(url).send().await });
    tokio::time::sleep(Duration::from_millis(100)).await;

    let Adapter::Standalone(server) = a else {
        unreachable!()
    };
    let addr = server.local_addr();
    server.shutdown().await;

    let answered = pending.await.unwrap();
    assert!(answered.is_ok(), "{answered:?}");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn sixty_four_concurrent_clients_all_get_answers() {
    let a = Adapter::standalone(SimConfig {
        rate_limits: false,
        ..SimConfig::default()
    })
    .await;
    let mut tasks = Vec::new();
    for t in 0..64 {
        let url = a.url(&format!("/epayment/v1/payments/order-{t}-abcdefgh"));
        tasks.push(tokio::spawn(async move {
            let c = client();
            let mut statuses = Vec::new();
            for _ in 0..50 {
                statuses.push(c.get(&url).send().await.map(|r| r.status().as_u16()));
            }
            statuses
        }));
    }
    let mut answered = 0;
    for t in tasks {
        for s in t.await.unwrap() {
            let s = s.expect("every request answered");
            assert!(s < 500, "status {s}");
            answered += 1;
        }
    }
    assert_eq!(answered, 64 * 50);
}

#[test]
fn the_simulator_command_exits_2_when_the_port_is_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vipps-golive"))
        .args(["simulator", "--port", &port])
        .output()
        .unwrap();

    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already in use"), "{err}");
}

#[test]
fn the_simulator_command_prints_its_url_and_credentials_and_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vipps-golive"))
        .args(["simulator", "--port", "0", "--control"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        let done = line.starts_with("Press Ctrl-C");
        printed.push(line);
        if done {
            break;
        }
    }
    let text = printed.join("\n");
    let base = text
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap()
        .to_owned();

    let answer = {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
        s.write_all(b"GET /__sim/faults HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    let term = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();

    assert!(text.contains("sim-client-id-123456"), "{text}");
    assert!(text.contains("sim-subscription-key-123456"), "{text}");
    assert!(
        text.contains(&format!("Control API: {base}/__sim/")),
        "{text}"
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(term.success());
    assert_eq!(status.code(), Some(0));
}

/// The server listens for SIGTERM before it prints anything: a signal sent
/// the moment the first line appears stops it cleanly (exit 0). Before, the
/// handler was installed after the banner, and a quick SIGTERM killed it.
#[test]
fn a_sigterm_as_soon_as_the_first_line_appears_still_stops_cleanly() {
    use std::io::{BufRead, BufReader};
    for _ in 0..5 {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vipps-golive"))
            .args(["simulator", "--port", "0"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next();
        assert!(matches!(first, Some(Ok(_))), "{first:?}");
        let term = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(term.success());
        drop(lines);
        assert_eq!(child.wait().unwrap().code(), Some(0));
    }
}

/// Runs `vipps-golive simulator ARGS` until it prints "Press Ctrl-C", stops it
/// with SIGTERM, and returns what it printed.
fn run_simulator_command(args: &[&str]) -> String {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vipps-golive"))
        .arg("simulator")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        let done = line.starts_with("Press Ctrl-C");
        printed.push(line);
        if done {
            break;
        }
    }
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    printed.join("\n")
}

#[test]
fn the_simulator_command_reads_a_units_file_and_never_prints_its_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("units.json");
    std::fs::write(
        &file,
        r#"{"units":[{"msn":"654321","pushMessage":true},
          {"msn":"777777","name":"Kiosk","clientId":"kiosk-client-id-1","clientSecret":"kiosk-secret-do-not-print","subscriptionKey":"kiosk-key-do-not-print","longLiving":true}],
          "rules":{"referenceMaxLen":64}}"#,
    )
    .unwrap();
    let text = run_simulator_command(&[
        "--port",
        "0",
        "--units",
        file.to_str().unwrap(),
        "--processing-ms",
        "250",
    ]);
    assert!(
        text.contains("MSN 123456") && text.contains("approved for: long-living, PUSH_MESSAGE"),
        "{text}"
    );
    assert!(text.contains("MSN 654321"), "{text}");
    assert!(
        text.contains("MSN 777777 (Kiosk): credentials from the units file"),
        "{text}"
    );
    assert!(!text.contains("do-not-print"), "{text}");
    assert!(text.contains("250 ms"), "{text}");
}

#[test]
fn the_simulator_command_exits_2_on_a_bad_units_file_or_a_production_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("units.json");
    std::fs::write(&file, r#"{"units":[{"msn":"123456","cards":true}]}"#).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vipps-golive"))
        .args([
            "simulator",
            "--port",
            "0",
            "--units",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cards"), "{err}");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vipps-golive"))
        .args([
            "simulator",
            "--port",
            "0",
            "--proxy",
            "https://api.vipps.no",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("production") && err.contains("--allow-real-money"),
        "{err}"
    );
}

#[test]
fn the_simulator_command_starts_as_a_recording_proxy() {
    let text = run_simulator_command(&["--port", "0", "--proxy", "http://127.0.0.1:9"]);
    assert!(
        text.contains("Recording proxy listening on http://127.0.0.1:")
            && text.contains("forwarding to http://127.0.0.1:9"),
        "{text}"
    );
}

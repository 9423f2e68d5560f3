//! Issue 22 point 4: a request body that trickles in (a byte a second) is
//! answered 408 once the body-read timeout has passed, on the standalone
//! server and on the recording proxy, instead of holding the connection open.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use vipps_golive::simulator::proxy::{self, Upstream};
use vipps_golive::simulator::serve::{self, ServeOptions};
use vipps_golive::simulator::{SimConfig, Simulator};

fn quick() -> SimConfig {
    SimConfig {
        body_read_timeout: Duration::from_millis(800),
        ..SimConfig::default()
    }
}

/// Sends the head of a POST announcing 100 bytes, then one byte a 300 ms;
/// returns the status line and how long the answer took.
fn trickle(addr: SocketAddr) -> (String, Duration) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    write!(
        s,
        "POST /epayment/v1/payments HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while started.elapsed() < Duration::from_secs(10) {
        let _ = s.write_all(b" ");
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&buf[..n]);
                if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            Err(_) => {}
        }
    }
    let text = String::from_utf8_lossy(&answer);
    (
        text.lines().next().unwrap_or("").to_owned(),
        started.elapsed(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trickling_body_gets_408_from_the_standalone_server() {
    let server = serve::bind(Simulator::new(quick()), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = server.local_addr();
    let (status, took) = tokio::task::spawn_blocking(move || trickle(addr))
        .await
        .unwrap();
    assert!(status.starts_with("HTTP/1.1 408"), "{status}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trickling_body_gets_408_from_the_recording_proxy() {
    let upstream = serve::bind(
        Simulator::new(SimConfig::default()),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let url = vipps_golive::config::guard_url(
        "--proxy",
        upstream.base_url(),
        vipps_golive::config::UrlRole::ProxyUpstream,
    )
    .unwrap()
    .url;
    let px = serve::bind_with(
        Simulator::new(quick()),
        "127.0.0.1:0".parse().unwrap(),
        ServeOptions {
            upstream: Some(Upstream::new(url, proxy::DEFAULT_TIMEOUT).unwrap()),
        },
    )
    .await
    .unwrap();
    let addr = px.local_addr();
    let (status, took) = tokio::task::spawn_blocking(move || trickle(addr))
        .await
        .unwrap();
    assert!(status.starts_with("HTTP/1.1 408"), "{status}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    px.shutdown().await;
    upstream.shutdown().await;
}

//! Issue 10, points 1, 7, 8 and the non-UTF-8 argument of point 9: what is
//! decided about the target and the inputs before anything is sent.

use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use vipps_golive::config::{classify_base_url, display_raw, Classified};

fn golive() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vipps-golive"));
    for var in [
        "VIPPS_CLIENT_ID",
        "VIPPS_CLIENT_SECRET",
        "VIPPS_SUBSCRIPTION_KEY",
        "VIPPS_MSN",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn with_credentials(cmd: &mut Command) -> &mut Command {
    cmd.env("VIPPS_CLIENT_ID", "guard-client-id")
        .env("VIPPS_CLIENT_SECRET", "CANARY-guard-secret")
        .env("VIPPS_SUBSCRIPTION_KEY", "CANARY-guard-key")
        .env("VIPPS_MSN", "123456")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Every spelling of a production host a user might type (issue 19 point 2):
/// case, trailing dot, percent-escapes, IDNA, user info, port, path, space
/// around it, no scheme, another Vipps domain.
pub const PRODUCTION_SPELLINGS: &[&str] = &[
    "https://api.vipps.no",
    "https://api.vipps.no/",
    "https://API.VIPPS.NO",
    "https://Api.Vipps.No/",
    "https://api.vipps.no.",
    "https://api.vipps.no./",
    "https://API.vipps.no.:443/",
    "https://api.vipps.no:443",
    "HTTPS://api.vipps.no",
    "https://api%2evipps%2eno",
    "https://api%2Evipps.no/",
    "https://\u{ff41}\u{ff50}\u{ff49}.vipps.no",
    "https://api\u{3002}vipps\u{3002}no",
    "  https://api.vipps.no  ",
    "https://api.vip\tps.no",
    "https://user:PLANTED-pw@api.vipps.no/",
    "https://api.vipps.no:8443/epayment",
    "https://api.vipps.no./epayment/v1/",
    "http://api.vipps.no",
    "HTTP://API.VIPPS.NO.",
    "api.vipps.no",
    "API.VIPPS.NO./x",
    "//api.vipps.no",
    "https://notapi.vipps.no",
    "https://API.VippsMobilePay.com.",
    "https://api.mobilepay.dk/",
];

#[test]
fn production_is_refused_as_a_base_url_however_its_host_is_spelled() {
    for spelling in PRODUCTION_SPELLINGS {
        let why = classify_base_url(spelling).expect_err(spelling);
        assert!(why.contains("--env production"), "{spelling:?}: {why}");
        assert!(!why.contains("PLANTED"), "{spelling:?}: {why}");
    }
    // Not production.
    assert_eq!(
        classify_base_url("https://apitest.vipps.no."),
        Ok(Classified::Test)
    );
    for custom in [
        "http://127.0.0.1:7777",
        "http://localhost:7777/",
        "http://[::1]:9",
        "http://[::ffff:127.0.0.1]:9",
        "https://api.vipps.no.evil.example",
        "https://vipps.no.example",
        "https://sim.example",
    ] {
        assert!(
            matches!(classify_base_url(custom), Ok(Classified::Custom(_))),
            "{custom}"
        );
    }
    // Plain http is for loopback only.
    for clear in [
        "http://sim.example",
        "http://10.0.0.7:7777",
        "http://apitest.vipps.no",
    ] {
        let why = classify_base_url(clear).expect_err(clear);
        assert!(why.contains("plain http"), "{clear}: {why}");
    }
}

#[test]
fn config_never_calls_a_production_spelling_custom() {
    for spelling in [
        "https://api.vipps.no.",
        "http://api.vipps.no",
        "https://api.vipps.no/epayment",
        "https://api.vipps.no:8443/",
    ] {
        let output = with_credentials(&mut golive())
            .args(["config", "--base-url", spelling])
            .output()
            .unwrap();
        let (stdout, stderr) = text(&output);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{spelling}: {stdout}{stderr}"
        );
        assert!(!stdout.contains("custom"), "{spelling}: {stdout}");
        assert!(stderr.contains("--env production"), "{spelling}: {stderr}");
    }
}

/// A proxy that counts the connections made to it and drops each at once.
/// With HTTP(S)_PROXY pointing here, any request the binary sends to any
/// host would first connect here.
pub fn counting_proxy() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (url, count)
}

fn run_through(proxy: &str, base_url: &str) -> Output {
    let out = tempfile::tempdir().unwrap();
    with_credentials(&mut golive())
        .current_dir(out.path())
        .args(["run", "--out", "reports", "--base-url", base_url])
        .env("HTTP_PROXY", proxy)
        .env("HTTPS_PROXY", proxy)
        .env("ALL_PROXY", proxy)
        .env("http_proxy", proxy)
        .env("https_proxy", proxy)
        .output()
        .unwrap()
}

#[test]
fn a_production_spelling_is_refused_before_any_connection_is_attempted() {
    let (proxy, connections) = counting_proxy();

    // The method works: a custom https target does go out (through the proxy).
    let control = run_through(&proxy, "https://custom-target.invalid");
    assert_eq!(control.status.code(), Some(3), "{:?}", text(&control));
    let before = connections.load(Ordering::SeqCst);
    assert!(before >= 1, "the control run made no connection");

    for spelling in [
        "https://api.vipps.no.",
        "http://api.vipps.no",
        "https://api.vipps.no/epayment",
        "https://api.vipps.no:8443/",
        "https://API.VIPPS.NO",
    ] {
        let output = run_through(&proxy, spelling);
        let (_, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{spelling}: {stderr}");
        assert!(stderr.contains("production"), "{spelling}: {stderr}");
        assert!(!stderr.contains("CANARY"), "{stderr}");
    }
    assert_eq!(
        connections.load(Ordering::SeqCst),
        before,
        "a production spelling opened a connection"
    );
}

#[test]
fn plain_http_to_a_host_that_is_not_loopback_is_refused_saying_why() {
    let (proxy, connections) = counting_proxy();
    let output = run_through(&proxy, "http://sim.example:7777");
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("plain http"), "{stderr}");
    assert!(stderr.contains("in clear"), "{stderr}");
    assert_eq!(connections.load(Ordering::SeqCst), 0);
}

#[test]
fn a_base_url_query_or_user_info_is_never_printed() {
    for args in [
        vec![
            "config",
            "--base-url",
            "http://127.0.0.1:1/?token=PLANTED-Q1",
        ],
        vec!["run", "--base-url", "http://127.0.0.1:1/?token=PLANTED-Q1"],
        vec![
            "config",
            "--base-url",
            "http://user:PLANTED-Q1@127.0.0.1:1/",
        ],
        vec!["config", "--base-url", "ht!tp://x/?PLANTED-Q1"],
    ] {
        let output = with_credentials(&mut golive())
            .args(&args)
            .output()
            .unwrap();
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            !stdout.contains("PLANTED") && !stderr.contains("PLANTED"),
            "{args:?}: {stdout}{stderr}"
        );
    }
    assert_eq!(
        display_raw("http://u:p@127.0.0.1:1/path?token=x#f"),
        "http://127.0.0.1:1/path"
    );
}

#[test]
fn postman_env_must_be_a_regular_file_of_bounded_size() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    std::fs::write(&big, vec![b' '; 2 * 1024 * 1024]).unwrap();
    let fifo = dir.path().join("fifo.json");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());

    for (path, expect) in [
        ("/dev/zero".into(), "not a regular file"),
        (fifo.display().to_string(), "not a regular file"),
        (dir.path().display().to_string(), "not a regular file"),
        (big.display().to_string(), "bytes"),
    ] {
        // A hang would stall here: stdin is closed and nothing writes the FIFO.
        let output = golive()
            .args(["config", "--env", "test", "--postman-env", &path])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let (_, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{path}: {stderr}");
        assert!(stderr.contains("--postman-env"), "{path}: {stderr}");
        assert!(stderr.contains(expect), "{path}: {stderr}");
    }
}

#[test]
fn an_argument_that_is_not_utf8_is_named() {
    use std::os::unix::ffi::OsStrExt;
    let bad = std::ffi::OsStr::from_bytes(b"CANARY-\xff\xfe");
    let output = golive()
        .arg("config")
        .arg("--client-id")
        .arg(bad)
        .output()
        .unwrap();
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--client-id"), "{stderr}");
    assert!(!stderr.contains("CANARY"), "{stderr}");

    let mut joined = b"--msn=".to_vec();
    joined.extend_from_slice(b"\xff");
    let output = golive()
        .arg("config")
        .arg(std::ffi::OsStr::from_bytes(&joined))
        .output()
        .unwrap();
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--msn"), "{stderr}");
}

#[test]
fn a_client_built_by_hand_refuses_production_and_plain_http_on_its_own() {
    use vipps_golive::api::{Client, ClientOptions};
    use vipps_golive::clock::VirtualClock;
    use vipps_golive::config::Credentials;
    use vipps_golive::evidence::MemoryRecorder;

    let options = |url: &str| {
        ClientOptions::new(
            url::Url::parse(url).unwrap(),
            Credentials {
                client_id: "id-123456".into(),
                client_secret: "secret-123456".into(),
                subscription_key: "key-123456".into(),
                msn: "123456".into(),
            },
            VirtualClock::new(),
            MemoryRecorder::new(),
        )
    };
    for url in ["https://api.vipps.no.", "https://API.vipps.no:8443/x"] {
        let err = Client::new(options(url)).unwrap_err();
        assert!(err.to_string().contains("production"), "{url}: {err}");
    }
    let err = Client::new(options("http://sim.example")).unwrap_err();
    assert!(err.to_string().contains("clear"), "{err}");
    let mut production = options("https://api.vipps.no");
    production.production = true;
    assert!(Client::new(production).is_ok());
    assert!(Client::new(options("http://127.0.0.1:9")).is_ok());
}

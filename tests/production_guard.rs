//! Issue 19 point 2: one target resolution, one guard. Every command that
//! opens a socket refuses a Vipps production host given as a URL, in every
//! spelling, with exit 2, a message saying how to reach production
//! deliberately, and no connection made; a webhook receiver is never a Vipps
//! host at all.

use std::process::{Command, Output, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::hardening_guard::{counting_proxy, PRODUCTION_SPELLINGS};

/// Runs the binary with credentials and every proxy variable pointing at
/// `proxy`; kills it after 20 s (an accepted `simulator --proxy` would serve
/// until stopped).
fn golive(args: &[&str], proxy: &str, cwd: &std::path::Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vipps-golive"));
    cmd.current_dir(cwd)
        .args(args)
        .env("VIPPS_CLIENT_ID", "guard-client-id")
        .env("VIPPS_CLIENT_SECRET", "PLANTED-guard-secret")
        .env("VIPPS_SUBSCRIPTION_KEY", "PLANTED-guard-key")
        .env("VIPPS_MSN", "123456")
        .env("VIPPS_WEBHOOK_SECRET", "PLANTED-webhook-secret")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env(var, proxy);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    child.wait_with_output().unwrap()
}

/// Each command with the place a URL goes: `{}` is replaced by the spelling.
const COMMANDS: &[&[&str]] = &[
    &["run", "--out", "reports", "--base-url", "{}"],
    &[
        "run",
        "--out",
        "reports",
        "--allow-real-money",
        "--base-url",
        "{}",
    ],
    &[
        "run",
        "--out",
        "reports",
        "--env",
        "production",
        "--allow-real-money",
        "--base-url",
        "{}",
    ],
    &[
        "verify",
        "--out",
        "reports",
        "--base-url",
        "{}",
        "ref-0001-abcdef",
    ],
    &["compare", "--out", "reports", "--base-url", "{}"],
    &["config", "--base-url", "{}"],
    &["simulator", "--port", "0", "--proxy", "{}"],
    &[
        "simulator",
        "--port",
        "0",
        "--proxy",
        "{}",
        "--env",
        "production",
        "--allow-real-money",
    ],
    &["audit", "--out", "reports", "--simulator", "{}"],
    &["webhooks-check", "--out", "reports", "--url", "{}"],
    &[
        "pack",
        "--out",
        "reports",
        "--journal",
        "shop.jsonl",
        "--base-url",
        "{}",
    ],
    &["pack", "--out", "reports", "--simulator", "{}"],
    &[
        "pack",
        "--out",
        "reports",
        "--journal",
        "shop.jsonl",
        "--webhook-url",
        "{}",
    ],
];

#[test]
fn every_command_refuses_every_production_spelling_before_a_socket_opens() {
    let (proxy, connections) = counting_proxy();
    for command in COMMANDS {
        for spelling in PRODUCTION_SPELLINGS {
            let dir = tempfile::tempdir().unwrap();
            let args: Vec<&str> = command
                .iter()
                .map(|a| if *a == "{}" { *spelling } else { *a })
                .collect();
            let output = golive(&args, &proxy, dir.path());
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{args:?}: {stdout}{stderr}");
            let says_how = if command[0] == "webhooks-check" || command.contains(&"--webhook-url") {
                stderr.contains("Vipps host")
            } else {
                stderr.contains("--env production") || stderr.contains("cannot be used with")
            };
            assert!(says_how, "{args:?}: {stderr}");
            assert!(
                !stdout.contains("PLANTED") && !stderr.contains("PLANTED"),
                "{args:?}: {stdout}{stderr}"
            );
            assert!(
                !dir.path().join("reports").exists(),
                "{args:?} wrote a report folder"
            );
        }
    }
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "a production spelling opened a connection"
    );
}

#[test]
fn a_webhook_receiver_or_a_simulator_is_never_the_vipps_test_environment() {
    let (proxy, connections) = counting_proxy();
    for (flag_args, expect) in [
        (["webhooks-check", "--url"], "Vipps host"),
        (["audit", "--simulator"], "not a simulator"),
    ] {
        for spelling in [
            "https://apitest.vipps.no",
            "https://APITEST.vipps.no./x",
            "apitest.vipps.no",
        ] {
            let dir = tempfile::tempdir().unwrap();
            let mut args = flag_args.to_vec();
            args.push(spelling);
            let output = golive(&args, &proxy, dir.path());
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(stderr.contains(expect), "{args:?}: {stderr}");
        }
    }
    assert_eq!(connections.load(Ordering::SeqCst), 0);
}

#[test]
fn production_is_proxied_only_as_env_production_with_allow_real_money() {
    let (proxy, _) = counting_proxy();
    let dir = tempfile::tempdir().unwrap();
    let output = golive(
        &["simulator", "--port", "0", "--env", "production"],
        &proxy,
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--allow-real-money"), "{stderr}");
    // --allow-real-money alone names no environment: clap refuses it.
    let output = golive(
        &["simulator", "--port", "0", "--allow-real-money"],
        &proxy,
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_receiver_url_with_user_info_is_refused_without_printing_it() {
    let (proxy, _) = counting_proxy();
    let dir = tempfile::tempdir().unwrap();
    let output = golive(
        &[
            "webhooks-check",
            "--url",
            "http://u:PLANTED-pass@127.0.0.1:9/x",
        ],
        &proxy,
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("credentials in the URL"), "{stderr}");
    assert!(!stderr.contains("PLANTED") && !stdout.contains("PLANTED"));
}

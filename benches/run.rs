//! Benchmarks of `vipps-golive run` (issue 11, point 13).
//!
//! 1. The default run (every embedded feature) against the embedded
//!    simulator: wall time, median of 5, build excluded. Target: under 1 s.
//! 2. The same features against a standalone simulator on loopback with
//!    150 ms added to every response and real polling waits (5 s, then every
//!    2 s): wall time over the longest scenario. Target: at most 1.5.
//!
//! Each run is `vipps-golive run`, in this process through the library's
//! public entry (`vipps_golive::run_cli`), so the figures are the command's.
//!
//! Run: `cargo bench --bench run` (figures in README.md, "Benchmarks").

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use vipps_golive::evidence::model::Evidence;
use vipps_golive::simulator::{serve, SimConfig, Simulator};

/// `vipps-golive run --out OUT` and the extra flags; the wall time, the exit
/// code and the evidence it wrote.
fn run_once(out: &Path, extra: &[&str]) -> (Duration, ExitCode, Evidence) {
    let mut args = vec!["vipps-golive", "run", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let start = Instant::now();
    let code = vipps_golive::run_cli(args);
    let took = start.elapsed();
    let path = out.join("latest").join("evidence.json");
    let text = std::fs::read_to_string(&path).unwrap();
    (
        took,
        code,
        Evidence::from_json("evidence.json", &text).unwrap(),
    )
}

fn embedded_once(out: &Path) -> Duration {
    let (took, code, _) = run_once(out, &[]);
    assert_eq!(code, ExitCode::SUCCESS, "the default run failed");
    took
}

/// A standalone simulator on loopback, on a runtime of its own (the run
/// starts its own), with 150 ms added to every response.
fn slow_simulator(runtime: &tokio::runtime::Runtime) -> (serve::Standalone, String) {
    runtime.block_on(async {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let server = serve::bind(Simulator::new(SimConfig::default()), addr)
            .await
            .expect("bind");
        let base = server.base_url().trim_end_matches('/').to_owned();
        // 150 ms on every response: a delay fault for every path length.
        let http = reqwest::Client::new();
        for segments in 1..=8 {
            let path = "/*".repeat(segments);
            let r = http
                .post(format!("{base}/__sim/faults"))
                .json(&serde_json::json!({
                    "path": path, "kind": "delay", "delayMs": 150, "times": 1_000_000
                }))
                .send()
                .await
                .expect("arm a fault");
            assert!(r.status().is_success(), "arming {path}: {}", r.status());
        }
        (server, base)
    })
}

fn latency_run(out: &Path, base: &str) -> (Duration, Duration, usize) {
    let (wall, _, evidence) = run_once(
        out,
        &[
            "--base-url",
            base,
            "--client-id",
            "sim-client-id-123456",
            "--client-secret",
            "sim-client-secret-123456",
            "--subscription-key",
            "sim-subscription-key-123456",
            "--msn",
            "123456",
        ],
    );
    let longest = evidence
        .scenarios
        .iter()
        .map(|s| (s.finished_at - s.started_at).to_std().unwrap_or_default())
        .max()
        .unwrap_or_default();
    (wall, longest, evidence.exchanges.len())
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    // Quiet: the per-scenario lines go to stderr; redirect it to see them.
    let _ = embedded_once(out.path()); // warm-up
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..5 {
        times.push(embedded_once(out.path()));
    }
    times.sort();
    println!(
        "default run, embedded simulator: median {:.0} ms (min {:.0} ms, max {:.0} ms, 5 runs)",
        times[2].as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0,
        times[4].as_secs_f64() * 1000.0
    );
    let (_server, base) = slow_simulator(&runtime);
    let (wall, longest, exchanges) = latency_run(out.path(), &base);
    println!(
        "standalone simulator, +150 ms per response, real polling: wall {:.1} s, longest scenario {:.1} s, ratio {:.2} ({exchanges} exchanges)",
        wall.as_secs_f64(),
        longest.as_secs_f64(),
        wall.as_secs_f64() / longest.as_secs_f64().max(0.001)
    );
}

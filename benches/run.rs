//! Benchmarks of `vipps-golive run` (issue 11, point 13).
//!
//! 1. The default run (every embedded feature) against the embedded
//!    simulator: wall time, median of 5, build excluded. Target: under 1 s.
//! 2. The same features against a standalone simulator on loopback with
//!    150 ms added to every response and real polling waits (5 s, then every
//!    2 s): wall time over the longest scenario. Target: at most 1.5.
//!
//! Run: `cargo bench --bench run` (figures in README.md, "Benchmarks").

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use vipps_golive::config::{Config, Credentials, SystemHeaders, Target};
use vipps_golive::runner::{self, RunOptions};
use vipps_golive::simulator::{serve, SimConfig, Simulator};

fn config(target: Target, credentials: Option<Credentials>) -> Config {
    Config {
        target,
        credentials,
        system: SystemHeaders::default(),
    }
}

async fn embedded_once(out: &std::path::Path) -> Duration {
    let o = RunOptions::new(config(Target::Simulator, None), out.to_path_buf());
    let start = Instant::now();
    let outcome = runner::run(o).await.expect("the run starts");
    let took = start.elapsed();
    assert!(!outcome.failed(), "the default run failed");
    took
}

async fn latency_run(out: &std::path::Path) -> (Duration, Duration, usize) {
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
    let credentials = Credentials {
        client_id: "sim-client-id-123456".into(),
        client_secret: "sim-client-secret-123456".into(),
        subscription_key: "sim-subscription-key-123456".into(),
        msn: "123456".into(),
    };
    let o = RunOptions::new(
        config(Target::Custom(base.parse().unwrap()), Some(credentials)),
        out.to_path_buf(),
    );
    let start = Instant::now();
    let outcome = runner::run(o).await.expect("the run starts");
    let wall = start.elapsed();
    let longest = outcome
        .evidence
        .scenarios
        .iter()
        .map(|s| (s.finished_at - s.started_at).to_std().unwrap_or_default())
        .max()
        .unwrap_or_default();
    let exchanges = outcome.evidence.exchanges.len();
    (wall, longest, exchanges)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    // Quiet: the per-scenario lines go to stderr; redirect it to see them.
    runtime.block_on(async {
        let _ = embedded_once(out.path()).await; // warm-up
        let mut times: Vec<Duration> = Vec::new();
        for _ in 0..5 {
            times.push(embedded_once(out.path()).await);
        }
        times.sort();
        println!(
            "default run, embedded simulator: median {:.0} ms (min {:.0} ms, max {:.0} ms, 5 runs)",
            times[2].as_secs_f64() * 1000.0,
            times[0].as_secs_f64() * 1000.0,
            times[4].as_secs_f64() * 1000.0
        );
        let (wall, longest, exchanges) = latency_run(out.path()).await;
        println!(
            "standalone simulator, +150 ms per response, real polling: wall {:.1} s, longest scenario {:.1} s, ratio {:.2} ({exchanges} exchanges)",
            wall.as_secs_f64(),
            longest.as_secs_f64(),
            wall.as_secs_f64() / longest.as_secs_f64().max(0.001)
        );
    });
}

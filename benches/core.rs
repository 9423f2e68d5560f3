//! Memory and speed of the simulator's engine in-process, with no HTTP in the way:
//! live heap and RSS for 100 000 payments, and GET payment through
//! `Simulator::handle` on one thread. `cargo bench --bench core`.
//! (The HTTP figures are in `benches/simulator.rs`.)

#[path = "../tests/sim_core_support/mod.rs"]
mod sim_core_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Counts live heap bytes, so the figure is the ledger's, not the allocator's slack.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

use sim_core_support::*;
use vipps_golive::simulator::SimRequest;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn hundred_thousand_payments_fit_well_under_300_mb() {
    let sim = Sim::new();
    let before = rss_kib();
    let live_before = LIVE.load(Ordering::Relaxed);
    let started = Instant::now();
    for i in 0..100_000 {
        let reference = format!("footprint-{i:08}");
        let mut body = Sim::create_body(&reference, 24900);
        body["metadata"] = serde_json::json!({"cartId": format!("c-{i}")});
        let r = sim.create_with(&body, &format!("create-{reference}"));
        assert_eq!(r.status, 201);
        if i % 2 == 0 {
            sim.approve(&reference);
            assert_eq!(
                sim.modify(&reference, "capture", 10000, &format!("cap-{i}"))
                    .status,
                200
            );
        }
    }
    let elapsed = started.elapsed();
    let grown_mib = (rss_kib().saturating_sub(before)) as f64 / 1024.0;
    let live_mib = LIVE.load(Ordering::Relaxed).saturating_sub(live_before) as f64 / 1_048_576.0;
    println!(
        "100000 payments (50000 approved+captured): RSS grew {grown_mib:.1} MiB, live heap grew {live_mib:.1} MiB, in {elapsed:?}"
    );
    assert_eq!(sim.sim.with_engine(|e| e.ledger.len()), 100_000);
    println!(
        "target: under 300 MB for 100 000 payments: {}",
        if grown_mib < 300.0 { "met" } else { "MISSED" }
    );
}

/// Issue 14 point 2: every Idempotency-Key is kept while its payment exists,
/// as a 64-bit hash. 10 000 payments x 20 captures of 1 øre, each with its own
/// 36-character key: the live heap per capture is its event plus its key entry.
fn idempotency_keys_are_kept_compactly() {
    let sim = Sim::with(vipps_golive::simulator::SimConfig {
        rate_limits: false,
        journal_capacity: 0,
        ..vipps_golive::simulator::SimConfig::default()
    });
    let payments = 10_000;
    let captures = 20;
    for i in 0..payments {
        let reference = format!("idem-mem-{i:08}");
        assert_eq!(sim.create(&reference, 100_000).status, 201);
        sim.approve(&reference);
    }
    let live_before = LIVE.load(Ordering::Relaxed);
    for i in 0..payments {
        let reference = format!("idem-mem-{i:08}");
        for c in 0..captures {
            let key = format!("{:08x}-0000-4000-8000-{:012x}", i, c);
            assert_eq!(sim.modify(&reference, "capture", 1, &key).status, 200);
        }
    }
    let grown = LIVE.load(Ordering::Relaxed).saturating_sub(live_before);
    let n = payments * captures;
    println!(
        "idempotency: {n} captures with distinct keys, all kept: live heap grew {:.1} MiB, {} bytes per capture (event + key entry)",
        grown as f64 / 1_048_576.0,
        grown / n
    );
}

/// GET payment through `Simulator::handle` on one thread, with the journal
/// off, in memory only (the default ring) and also written to a file before
/// each answer (issue 22): what the engine and the journal cost a request,
/// with no HTTP in the way.
fn get_payment_throughput_in_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, capacity, file) in [
        ("journal off", 0, false),
        ("journal in memory", 10_000, false),
        ("journal in memory and file", 10_000, true),
    ] {
        let sim = Sim::with(vipps_golive::simulator::SimConfig {
            rate_limits: false,
            journal_capacity: capacity,
            ..Default::default()
        });
        if file {
            sim.sim
                .with_engine(|e| e.journal.stream_to(&dir.path().join("core.jsonl")))
                .expect("journal file");
        }
        sim.create("throughput-0001", 24900);
        let headers = sim.auth(&[]);
        let n = 200_000;
        let started = Instant::now();
        for _ in 0..n {
            let r = sim
                .sim
                .handle(SimRequest::new(
                    "GET",
                    "/epayment/v1/payments/throughput-0001",
                    None,
                    headers.clone(),
                    "",
                ))
                .response;
            assert_eq!(r.status, 200);
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "GET payment in-process, one thread, {name}: {:.0} requests/s ({:.1} us a request)",
            n as f64 / secs,
            secs * 1e6 / n as f64
        );
    }
}

fn main() {
    if std::env::var("BENCH_CORE").as_deref() == Ok("get") {
        get_payment_throughput_in_process();
        return;
    }
    hundred_thousand_payments_fit_well_under_300_mb();
    get_payment_throughput_in_process();
    idempotency_keys_are_kept_compactly();
}

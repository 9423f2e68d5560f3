//! How long a merchant waits for a pack, and how big it is (issue 21): the
//! careful shop of the tests (tests/shop_support) drives an in-process
//! simulator until its journal holds `BENCH_PACK_EXCHANGES` (10 000)
//! exchanges; then `vipps-golive pack` (through the library's public entry,
//! `vipps_golive::run_cli`) judges it, reads the go-live references back
//! from that simulator, probes a webhook receiver on loopback, takes the
//! three attestations, and seals the folder. Reports the wall time of the
//! pack alone, and the size of the folder and of each file in it.
//! `cargo bench --bench pack`.

#[path = "../tests/shop_support/mod.rs"]
mod shop_support;

use std::time::Instant;

use shop_support::{simulator, Faults, Shop};

fn main() {
    let wanted: usize = std::env::var("BENCH_PACK_EXCHANGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (server, _clock, dir, journal, hook) = runtime.block_on(async {
        let (server, clock, dir, journal) = simulator().await;
        let mut shop = Shop::open(&server.uri(), clock.clone(), Faults::default()).await;
        // Every path once (the webhook registration among them: at most 25
        // per event), then orders paid, captured, refunded and read.
        shop.careful_session().await;
        let mut orders = 0;
        while server.simulator().with_engine(|e| e.journal.total()) < wanted as u64 {
            orders += 1;
            if orders % 100 == 0 {
                // A new access token before the old one expires on the virtual clock.
                shop.renew_token().await;
            }
            let r = shop.paid(1_000).await;
            for op in ["capture", "refund"] {
                let key = uuid::Uuid::new_v4().to_string();
                shop.modify(&r, op, Some(1_000), &key).await;
                shop.get(&r).await;
            }
            shop.events(&r).await;
        }
        // One payment left CAPTURED, for GL-TEST's third outcome.
        let r = shop.paid(1_500).await;
        let key = uuid::Uuid::new_v4().to_string();
        shop.modify(&r, "capture", Some(1_500), &key).await;
        shop.get(&r).await;
        server.simulator().with_engine(|e| {
            let config = e.config.clone();
            e.journal = vipps_golive::simulator::journal::SimJournal::new(&config);
        });
        // A receiver that acknowledges everything: the probes' time, not its verdict.
        let hook = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(wiremock::ResponseTemplate::new(200))
            .mount(&hook)
            .await;
        (server, clock, dir, journal, hook)
    });
    let lines = std::fs::read_to_string(&journal).unwrap().lines().count();
    let out = dir.path().join("reports");
    std::env::set_var("VIPPS_CLIENT_ID", "sim-client-id-123456");
    std::env::set_var("VIPPS_CLIENT_SECRET", "sim-client-secret-123456");
    std::env::set_var("VIPPS_SUBSCRIPTION_KEY", "sim-subscription-key-123456");
    std::env::set_var("VIPPS_MSN", "123456");
    let (base, hook_url) = (server.uri(), format!("{}/vipps/webhook", hook.uri()));
    let started = Instant::now();
    // run_cli starts its own runtime: call it from a plain thread while the
    // simulator and the receiver keep answering on this one's.
    let code = std::thread::spawn({
        let (journal, out) = (journal.clone(), out.clone());
        move || {
            vipps_golive::run_cli([
                "vipps-golive",
                "pack",
                "--journal",
                journal.to_str().unwrap(),
                "--base-url",
                &base,
                "--webhook-url",
                &hook_url,
                "--webhook-secret",
                "bench-webhook-secret",
                "--attest",
                "QA-ERRORS=Bench, QA",
                "--attest",
                "PF-DESIGN=Bench, design",
                "--attest",
                "PF-SUPPORT=Bench, support",
                "--out",
                out.to_str().unwrap(),
            ])
        }
    })
    .join()
    .unwrap();
    let elapsed = started.elapsed();
    let folder = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("pack-"))
        .unwrap()
        .path();
    let mut total = 0;
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&folder).unwrap().filter_map(Result::ok) {
        let size = entry.metadata().unwrap().len();
        total += size;
        files.push(format!(
            "{} {:.0} KB",
            entry.file_name().to_string_lossy(),
            size as f64 / 1e3
        ));
    }
    files.sort();
    println!(
        "pack of a {lines}-exchange journal ({:.1} MB): {:.2} s wall (exit {code:?}); folder {:.1} MB: {}",
        std::fs::metadata(&journal).unwrap().len() as f64 / 1e6,
        elapsed.as_secs_f64(),
        total as f64 / 1e6,
        files.join(", ")
    );
    drop(server);
}

//! Benchmark of the evidence report (issue 12, point 4): with 5 000
//! exchanges the file must open in Chromium in under 2 s.
//!
//! A fixture run of the real client against the embedded simulator is
//! replicated (new references, new exchange ids) up to 5 000 exchanges, then:
//! 1. the time `vipps-golive report evidence.json --out FILE` takes (median
//!    of 5; run in this process through the library's public entry
//!    `vipps_golive::run_cli`: reading the evidence, rendering, writing) and
//!    the file's size;
//! 2. where Chromium is installed, the wall time of a headless screenshot of
//!    the report minus that of an empty page (the browser's own start-up),
//!    median of 5: the time the report itself adds to opening it.
//!
//! 3. the wall time of printing the report to an A4 PDF in headless Chromium
//!    (once: it takes tens of seconds), and the pages printed (issue 24
//!    point 3: under 60 s).
//!
//! Usage: `cargo bench --bench report` (exits 1 when the open takes 2 s or
//! more, or the print 60 s or more).

#[path = "../tests/report_support/mod.rs"]
mod report_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use vipps_golive::evidence::model::Evidence;

const TARGET_EXCHANGES: usize = 5_000;
const LIMIT: Duration = Duration::from_secs(2);
const PRINT_LIMIT: Duration = Duration::from_secs(60);

fn scale(base: &Evidence, target: usize) -> Evidence {
    let mut out = base.clone();
    let mut copy = 1;
    while out.exchanges.len() < target {
        for r in &base.references {
            if out.exchanges.len() >= target {
                break;
            }
            let mut r2 = r.clone();
            r2.reference = format!("{}-c{copy}", r.reference);
            r2.exchange_ids.clear();
            for id in &r.exchange_ids {
                if out.exchanges.len() >= target {
                    break;
                }
                if let Some(e) = base.exchanges.iter().find(|e| &e.id == id) {
                    let mut e2 = e.clone();
                    e2.id = format!("{}-c{copy}", e.id);
                    e2.reference = Some(r2.reference.clone());
                    e2.url = e.url.replace(&r.reference, &r2.reference);
                    r2.exchange_ids.push(e2.id.clone());
                    out.exchanges.push(e2);
                }
            }
            for p in &mut r2.problems {
                p.exchange_id = format!("{}-c{copy}", p.exchange_id);
            }
            out.references.push(r2);
        }
        copy += 1;
    }
    out
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser", "google-chrome"].map(|n| d.join(n)))
        .find(|p| p.is_file())
}

fn open_once(browser: &Path, page: &Path, png: &Path) -> Duration {
    let _ = std::fs::remove_file(png);
    let start = Instant::now();
    let status = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--window-size=1280,900",
        ])
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("chromium runs");
    let took = start.elapsed();
    assert!(
        status.success() && png.is_file(),
        "chromium did not render {}",
        page.display()
    );
    took
}

/// Prints `page` to `pdf`; returns the wall time and the pages printed
/// (page objects, which Chromium writes uncompressed).
fn print_once(browser: &Path, page: &Path, pdf: &Path) -> (Duration, usize) {
    let profile = tempfile::tempdir().expect("temp dir");
    let start = Instant::now();
    let status = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("chromium runs");
    let took = start.elapsed();
    let bytes = std::fs::read(pdf).unwrap_or_default();
    assert!(
        status.success() && !bytes.is_empty(),
        "chromium printed no PDF"
    );
    let needle = b"/Type /Page";
    let pages = bytes
        .windows(needle.len() + 1)
        .filter(|w| w.starts_with(needle) && w[needle.len()] != b's')
        .count();
    (took, pages)
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let fixture = runtime.block_on(report_support::run(dir.path()));
    let evidence = scale(&fixture.evidence, TARGET_EXCHANGES);

    let source = dir.path().join("evidence.json");
    report_support::write_evidence(&source, &evidence);
    let page = dir.path().join("report.html");
    let mut renders = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let code = vipps_golive::run_cli([
            std::ffi::OsStr::new("vipps-golive"),
            std::ffi::OsStr::new("report"),
            source.as_os_str(),
            std::ffi::OsStr::new("--out"),
            page.as_os_str(),
        ]);
        renders.push(start.elapsed());
        assert_eq!(code, std::process::ExitCode::SUCCESS, "report");
    }
    let html = std::fs::read_to_string(&page).expect("read the report");
    // REPORT_BENCH_OUT=FILE keeps the page for a look.
    if let Some(keep) = std::env::var_os("REPORT_BENCH_OUT") {
        std::fs::write(keep, &html).expect("write REPORT_BENCH_OUT");
    }
    println!(
        "report of {} exchanges, {} references: {:.1} MB, rendered in {:?} (median of 5)",
        evidence.exchanges.len(),
        evidence.references.len(),
        html.len() as f64 / 1_048_576.0,
        median(renders)
    );

    let Some(browser) = chromium() else {
        println!(
            "NOTICE: chromium not found; the open time was not measured (apt-get install chromium)"
        );
        return;
    };
    let empty = dir.path().join("empty.html");
    std::fs::write(&empty, "<!doctype html><title>empty</title><p>empty</p>").expect("write");
    let png = dir.path().join("shot.png");
    // One warm-up each, so the disk cache and the first start do not count.
    open_once(&browser, &empty, &png);
    open_once(&browser, &page, &png);
    let mut baseline = Vec::new();
    let mut report_times = Vec::new();
    for _ in 0..5 {
        baseline.push(open_once(&browser, &empty, &png));
        report_times.push(open_once(&browser, &page, &png));
    }
    let (b, r) = (median(baseline), median(report_times));
    let added = r.saturating_sub(b);
    println!(
        "chromium headless: empty page {b:?}, report {r:?} (medians of 5): the report adds {added:?} (limit {LIMIT:?})"
    );
    let (printed, pages) = print_once(&browser, &page, &dir.path().join("report.pdf"));
    println!(
        "chromium headless: printed to {pages} A4 pages in {printed:?} (limit {PRINT_LIMIT:?})"
    );
    if added >= LIMIT {
        eprintln!("FAIL: the report takes {added:?} to open, over {LIMIT:?}");
        std::process::exit(1);
    }
    if printed >= PRINT_LIMIT {
        eprintln!("FAIL: the report takes {printed:?} to print, over {PRINT_LIMIT:?}");
        std::process::exit(1);
    }
}

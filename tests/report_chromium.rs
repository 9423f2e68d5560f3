//! The report in a real browser: headless Chromium (Debian's `chromium`)
//! opens the report of a fixture run, takes screenshots, and must log no
//! console message (a blocked fetch, a CSP violation or a script error would
//! each log one). Skipped, with a notice, where Chromium is absent.
//!
//! With `VIPPS_GOLIVE_SCREENSHOTS=docs` the screenshots are written to
//! `docs/report-top.png` and `docs/report-reference.png` (the README's).

use crate::report_support;

use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Screenshots `url` at `width`x`height`; returns the console lines Chromium logged.
fn screenshot(browser: &Path, url: &str, png: &Path, width: u32, height: u32) -> Vec<String> {
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(url)
        .output()
        .expect("chromium runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        png.is_file(),
        "chromium wrote no screenshot (status {:?}):\n{stderr}",
        output.status
    );
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect()
}

/// Pixels of an RGB(A) PNG as (width, height, rgb per pixel).
fn pixels(png: &Path) -> (u32, u32, Vec<[u8; 3]>) {
    let decoder = png::Decoder::new(std::fs::File::open(png).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert!(channels >= 3, "expected an RGB screenshot");
    let px = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    (info.width, info.height, px)
}

/// Share of pixels in the rows `rows` with exactly this colour.
fn share_of(png: &Path, rows: std::ops::Range<u32>, rgb: [u8; 3]) -> f64 {
    let (w, h, px) = pixels(png);
    let rows = rows.start.min(h)..rows.end.min(h);
    let total = (rows.end - rows.start) as usize * w as usize;
    let hits = rows
        .flat_map(|y| (0..w).map(move |x| (y * w + x) as usize))
        .filter(|i| px[*i] == rgb)
        .count();
    hits as f64 / total.max(1) as f64
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_opens_in_chromium_without_console_errors_and_shows_its_summary() {
    let Some(browser) = chromium() else {
        eprintln!(
            "NOTICE: chromium not found; skipping the browser test (apt-get install chromium)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let run = report_support::run(dir.path()).await;
    report_support::write_folder(dir.path(), &run.evidence, None);
    let report = dir.path().join("report.html");
    let url = format!("file://{}", report.display());

    let shots = match std::env::var("VIPPS_GOLIVE_SCREENSHOTS").as_deref() {
        Ok("docs") => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs"),
        _ => dir.path().to_owned(),
    };
    let top = shots.join("report-top.png");
    let console = screenshot(&browser, &url, &top, 1280, 900);
    assert!(
        console.is_empty(),
        "console messages:\n{}",
        console.join("\n")
    );

    // The summary banner (the simulator rehearsal's #2d5f8a) fills a good
    // part of the first screen: it loaded, and it is at the top.
    let banner = share_of(&top, 0..300, [0x2d, 0x5f, 0x8a]);
    assert!(
        banner > 0.10,
        "the summary banner is not visible at the top ({banner:.3})"
    );

    // One reference's detail. Headless Chromium paints nothing when a
    // fragment scrolls far down a page (seen with Chromium 156), so the
    // window is made tall (16000 px) enough to hold the first cards
    // unscrolled, below the checklist and its proof cards, and the second
    // reference's card (its top border, #5a6f8c) is cropped out.
    let tall = dir.path().join("tall.png");
    let console = screenshot(&browser, &url, &tall, 1280, 16000);
    assert!(
        console.is_empty(),
        "console messages:\n{}",
        console.join("\n")
    );
    let (w, h, px) = pixels(&tall);
    let band = [0x5a, 0x6f, 0x8c];
    let is_band = |y: u32| {
        let row = &px[(y * w) as usize..((y + 1) * w) as usize];
        row.iter().filter(|p| **p == band).count() > (w as usize) / 2
    };
    let card_tops: Vec<u32> = (0..h)
        .filter(|y| is_band(*y) && (*y == 0 || !is_band(*y - 1)))
        .collect();
    assert!(
        card_tops.len() >= 2,
        "reference cards painted: {card_tops:?}"
    );
    let card_top = card_tops[1];
    let from = card_top.saturating_sub(12);
    let height = 1100.min(h - from);
    let detail = shots.join("report-reference.png");
    write_png(
        &detail,
        w,
        height,
        &px[(from * w) as usize..((from + height) * w) as usize],
    );
    // The crop shows the card, not a blank page.
    let (_, _, crop) = pixels(&detail);
    let white = crop.iter().filter(|p| **p == [255, 255, 255]).count();
    assert!(
        (white as f64) < 0.97 * crop.len() as f64,
        "the reference detail is blank"
    );
}

fn write_png(path: &Path, width: u32, height: u32, px: &[[u8; 3]]) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut encoder = png::Encoder::new(file, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Best);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&px.concat()).unwrap();
}

/// The page's width as laid out in a `width`-pixel viewport: the report is
/// loaded in an iframe of that width by a probe page (the report itself
/// runs no script, and its Content-Security-Policy forbids any), which
/// writes `scrollWidth` into its own DOM for `--dump-dom` to print.
fn laid_out_width(browser: &Path, report: &Path, width: u32) -> u32 {
    let dir = report.parent().unwrap();
    let probe = dir.join("probe-width.html");
    std::fs::write(
        &probe,
        format!(
            r#"<!doctype html><html><body style="margin:0"><iframe id="f" src="{}" style="width:{width}px;height:800px;border:0"></iframe><pre id="out">pending</pre>
<script>document.getElementById('f').onload = function () {{
  document.getElementById('out').textContent = 'scrollWidth=' + this.contentDocument.documentElement.scrollWidth;
}};</script></body></html>"#,
            report.file_name().unwrap().to_str().unwrap()
        ),
    )
    .unwrap();
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--allow-file-access-from-files",
            "--virtual-time-budget=15000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", probe.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&output.stdout);
    let at = dom
        .find("scrollWidth=")
        .unwrap_or_else(|| panic!("the probe measured nothing:\n{dom}"));
    dom[at + "scrollWidth=".len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_phone_390_px_wide_the_report_needs_no_horizontal_scrolling() {
    // Issue 24 point 4: before, the page was 986 px wide at 390 px.
    let Some(browser) = chromium() else {
        eprintln!(
            "NOTICE: chromium not found; skipping the browser test (apt-get install chromium)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let run = report_support::run(dir.path()).await;
    report_support::write_folder(dir.path(), &run.evidence, None);
    let width = laid_out_width(&browser, &dir.path().join("report.html"), 390);
    assert!(
        width <= 390,
        "the report is {width} px wide in a 390 px viewport"
    );
    // The probe itself is sound: a page with a wide table does scroll.
    let wide = dir.path().join("wide.html");
    std::fs::write(&wide, r#"<!doctype html><table><tr><td style="white-space:nowrap">a very long line of text that is certainly wider than three hundred and ninety pixels</td></tr></table>"#).unwrap();
    assert!(laid_out_width(&browser, &wide, 390) > 390);
}

/// Pages of a PDF Chromium wrote: its page objects (`/Type /Page`, not the
/// `/Type /Pages` of the page tree), which Chromium writes uncompressed.
fn pdf_pages(pdf: &[u8]) -> usize {
    let needle = b"/Type /Page";
    pdf.windows(needle.len() + 1)
        .filter(|w| w.starts_with(needle) && w[needle.len()] != b's')
        .count()
}

#[test]
fn a_passing_run_prints_to_at_most_30_a4_pages() {
    // Issue 24 point 3: a passing run printed to 161 A4 pages, each exchange
    // with its full bodies; the print now holds one line per exchange.
    let Some(browser) = chromium() else {
        eprintln!(
            "NOTICE: chromium not found; skipping the browser test (apt-get install chromium)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vipps-golive"))
        .current_dir(dir.path())
        .env_remove("VIPPS_CLIENT_ID")
        .env_remove("VIPPS_CLIENT_SECRET")
        .env_remove("VIPPS_SUBSCRIPTION_KEY")
        .env_remove("VIPPS_MSN")
        .args(["run", "--out", "reports"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = dir.path().join("reports/latest/report.html");
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains(r#"<section id="exchange-list" class="print-only">"#));
    let pdf = dir.path().join("report.pdf");
    let printed = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", report.display()))
        .output()
        .expect("chromium runs");
    let pdf = std::fs::read(&pdf).unwrap_or_else(|_| {
        panic!(
            "chromium printed no PDF:\n{}",
            String::from_utf8_lossy(&printed.stderr)
        )
    });
    let pages = pdf_pages(&pdf);
    assert!(
        (1..=30).contains(&pages),
        "a passing run printed to {pages} A4 pages"
    );
}

//! Issue 20 point 5: every request vipps-golive sends carries its mark (the
//! `x-vipps-golive-run` header with the run id, and its User-Agent), the
//! simulator journals it, and `audit` leaves marked exchanges out of the
//! shop's traffic, by either mark, and says how many.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use vipps_golive::api::{Amount, Client, ClientOptions, CreatePaymentRequest, UserFlow};
use vipps_golive::clock::VirtualClock;
use vipps_golive::config::Credentials;
use vipps_golive::domain::exchange::{HARNESS_RUN_HEADER, HARNESS_USER_AGENT};
use vipps_golive::evidence::MemoryRecorder;
use vipps_golive::simulator::mock::SimServer;
use vipps_golive::simulator::{SimConfig, Simulator};

const RUN_ID: &str = "20261201T101500Z-abc123";

fn header<'a>(headers: &'a Value, name: &str) -> Option<&'a str> {
    headers.as_array()?.iter().find_map(|pair| {
        let pair = pair.as_array()?;
        pair[0]
            .as_str()?
            .eq_ignore_ascii_case(name)
            .then(|| pair[1].as_str())
            .flatten()
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn every_api_call_carries_the_run_id_and_the_simulator_journals_it() {
    let clock = VirtualClock::new();
    let server =
        SimServer::start_on(Simulator::with_clock(SimConfig::default(), clock.clone())).await;
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("sim.jsonl");
    server
        .simulator()
        .with_engine(|e| e.journal.stream_to(&journal))
        .unwrap();
    let recorder = MemoryRecorder::new();
    let mut options = ClientOptions::new(
        server.uri().parse().unwrap(),
        Credentials {
            client_id: "sim-client-id-123456".into(),
            client_secret: "sim-client-secret-123456".into(),
            subscription_key: "sim-subscription-key-123456".into(),
            msn: "123456".into(),
        },
        clock,
        recorder.clone(),
    );
    options.run_id = Some(RUN_ID.into());
    let client = Client::new(options).unwrap();

    let request =
        CreatePaymentRequest::new(Amount::nok(1_000), "mark-ref-0001-a", UserFlow::WebRedirect)
            .return_url("https://shop.example/return?reference=mark-ref-0001-a");
    client.create_payment(&request).await.unwrap();
    client.get_payment("mark-ref-0001-a").await.unwrap();
    server.simulator().with_engine(|e| {
        let config = e.config.clone();
        e.journal = vipps_golive::simulator::journal::SimJournal::new(&config);
    });

    // The simulator's journal: the token call, the create and the GET.
    let text = std::fs::read_to_string(&journal).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 3, "{text}");
    for line in &lines {
        let headers = &line["request_headers"];
        assert_eq!(header(headers, HARNESS_RUN_HEADER), Some(RUN_ID), "{line}");
        assert_eq!(header(headers, "user-agent"), Some(HARNESS_USER_AGENT));
    }
    // The client's own record says what it sent.
    for e in recorder.exchanges() {
        let mark = e
            .request_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(HARNESS_RUN_HEADER));
        assert_eq!(mark.map(|(_, v)| v.as_str()), Some(RUN_ID), "{e:?}");
    }
}

fn exchange(n: u32, path: &str, headers: &[(&str, &str)]) -> String {
    let mut all = vec![
        json!(["Ocp-Apim-Subscription-Key", "…0badc0de"]),
        json!(["Merchant-Serial-Number", "123456"]),
        json!(["Vipps-System-Name", "acme-shop"]),
        json!(["Vipps-System-Version", "2.4.1"]),
    ];
    all.extend(headers.iter().map(|(k, v)| json!([k, v])));
    json!({
        "schema_version": 1,
        "id": format!("ex-{n}"),
        "started_at": format!("2026-12-01T10:00:0{n}Z"),
        "duration_ms": 3,
        "method": "GET",
        "url": format!("http://127.0.0.1:7777{path}"),
        "request_headers": all,
        "request_body": null,
        "status": 200,
        "response_headers": [["content-type", "application/json"]],
        "response_body": {"reference": "shop-ref-0001-a", "state": "CREATED"},
        "error": null,
        "attempt": 1,
        "reference": null,
        "checklist_ids": [],
        "scenario": null
    })
    .to_string()
}

fn audit_dir(out: &Path) -> std::path::PathBuf {
    std::fs::read_dir(out)
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("audit-"))
        .unwrap()
        .path()
}

#[test]
fn audit_leaves_out_what_either_mark_names_and_says_how_many() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("shop.jsonl");
    let path = "/epayment/v1/payments/shop-ref-0001-a";
    let lines = [
        // The shop's own request.
        exchange(1, path, &[("User-Agent", "acme-shop/2.4.1")]),
        // The tool's, with a User-Agent a shop might also send: the header
        // alone marks it.
        exchange(
            2,
            path,
            &[
                ("User-Agent", "acme-shop/2.4.1"),
                ("x-vipps-golive-run", RUN_ID),
            ],
        ),
        // An older vipps-golive without the header: its User-Agent marks it.
        exchange(3, path, &[("User-Agent", "vipps-golive/0.0.9")]),
    ];
    std::fs::write(&journal, lines.join("\n") + "\n").unwrap();
    let out = dir.path().join("reports");

    let result = Command::new(env!("CARGO_BIN_EXE_vipps-golive"))
        .args(["audit", "--journal"])
        .arg(&journal)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();

    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        stdout.contains("Left out: 2 exchange(s) sent by vipps-golive itself"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let folder = audit_dir(&out);
    let evidence: Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("evidence.json")).unwrap())
            .unwrap();
    assert_eq!(evidence["run"]["harness_left_out"], 2);
    let ids: Vec<&str> = evidence["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert_eq!(ids, ["ex-1"], "only the shop's exchange is judged");
    let html = std::fs::read_to_string(folder.join("report.html")).unwrap();
    assert!(
        html.contains("id=\"harness-left-out\">2 exchange(s) sent by vipps-golive itself"),
        "the report says it"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_recording_proxy_journals_the_mark_of_a_request_sent_through_it() {
    use vipps_golive::config::{guard_url, UrlRole};
    use vipps_golive::simulator::proxy::{Upstream, DEFAULT_TIMEOUT};
    use vipps_golive::simulator::serve::{self, ServeOptions};

    let any = || "127.0.0.1:0".parse().unwrap();
    let upstream_config = SimConfig {
        control_enabled: false,
        ..SimConfig::default()
    };
    let up = serve::bind(Simulator::new(upstream_config), any())
        .await
        .unwrap();
    let upstream = guard_url("--proxy", up.base_url(), UrlRole::ProxyUpstream)
        .unwrap()
        .url;
    let px = serve::bind_with(
        Simulator::new(SimConfig::default()),
        any(),
        ServeOptions {
            upstream: Some(Upstream::new(upstream, DEFAULT_TIMEOUT).unwrap()),
        },
    )
    .await
    .unwrap();
    let mut options = ClientOptions::new(
        px.base_url().parse().unwrap(),
        Credentials {
            client_id: "sim-client-id-123456".into(),
            client_secret: "sim-client-secret-123456".into(),
            subscription_key: "sim-subscription-key-123456".into(),
            msn: "123456".into(),
        },
        std::sync::Arc::new(vipps_golive::clock::SystemClock),
        MemoryRecorder::new(),
    );
    options.run_id = Some(RUN_ID.into());
    Client::new(options).unwrap().access_token().await.unwrap();

    // Journaled once the answer has passed through.
    let mut journal = String::new();
    for _ in 0..200 {
        journal =
            String::from_utf8(px.simulator().with_engine(|e| e.journal.to_jsonl(None))).unwrap();
        if !journal.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let line: Value = serde_json::from_str(journal.lines().next().unwrap()).unwrap();
    assert_eq!(
        header(&line["request_headers"], HARNESS_RUN_HEADER),
        Some(RUN_ID),
        "{line}"
    );
    px.shutdown().await;
    up.shutdown().await;
}

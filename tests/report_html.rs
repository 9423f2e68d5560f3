//! The HTML report of a simulator run: shaped like the checklist, every
//! reference in it, self-contained, and no secret.

use crate::report_support;

use vipps_golive::domain::checklist::ITEMS;
use vipps_golive::evidence::model::{InterruptedAttempt, Verdict};

async fn fixture() -> (tempfile::TempDir, report_support::FixtureRun, String) {
    let dir = tempfile::tempdir().unwrap();
    let run = report_support::run(dir.path()).await;
    let html = report_support::render(&run.evidence);
    (dir, run, html)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_of_a_simulator_run_names_every_item_and_reference_and_no_secret() {
    let (_dir, run, html) = fixture().await;

    for item in ITEMS {
        assert!(
            html.contains(&format!("id=\"item-{}\"", item.id)),
            "no row for {}",
            item.id
        );
    }
    for r in &run.references {
        assert!(
            html.contains(&format!("id=\"ref-{r}\"")),
            "no section for {r}"
        );
    }
    for r in &run.evidence.references {
        assert!(html.contains(&r.reference));
    }
    assert!(
        !html.contains(report_support::CANARY_STEM),
        "a planted credential reached the report"
    );
    assert!(
        !html.contains("4791234567"),
        "a full phone number reached the report"
    );
    // The bearer token is shown only as its fingerprint.
    assert!(html.contains("Bearer …"));
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_come_in_checklist_order_with_their_verdicts() {
    let (_dir, _run, html) = fixture().await;
    let positions: Vec<usize> = ITEMS
        .iter()
        .map(|i| html.find(&format!("id=\"item-{}\"", i.id)).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    for label in ["PASS", "WARNING", "NOT APPLICABLE", "NEEDS ATTESTATION"] {
        assert!(html.contains(label), "no {label}");
    }
    // The reason for NOT APPLICABLE, and who attested PF-SUPPORT.
    assert!(html.contains("production is not this target"));
    assert!(html.contains("attested by Kari Nordmann, QA lead on "));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_top_answers_can_i_send_this() {
    let (_dir, run, html) = fixture().await;
    let top = &html[..html.find("id=\"checklist\"").unwrap()];
    assert!(top.contains("id=\"summary\""));
    assert!(top.contains("Rehearsal passed against the simulator"));
    assert!(top.contains(report_support::MSN));
    assert!(top.contains(&run.evidence.run.tool_version));
    assert!(top.contains("Stale after"));
    assert!(top.contains(
        &run.evidence
            .run
            .stale_after
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string()
    ));
    // A rehearsal's references are listed as vipps-golive's, never offered
    // to copy into the go-live request (issue 20).
    assert!(
        !top.contains("class=\"copy\""),
        "a rehearsal offers no copy box"
    );
    assert!(
        !top.contains("Ready to"),
        "a rehearsal is never ready to send"
    );
    assert!(top.contains("references made by vipps-golive, not go-live evidence"));
    assert!(top.contains("exist only in the simulator"));
    for r in run.references.iter().take(3) {
        assert!(top.contains(r.as_str()), "{r}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_reference_shows_state_aggregate_events_polls_and_folded_exchanges() {
    let (_dir, run, html) = fixture().await;
    let r = &run.references[1]; // refunded
    let start = html.find(&format!("id=\"ref-{r}\"")).unwrap();
    let end = start + html[start..].find("</article>").unwrap();
    let card = &html[start..end];
    assert!(card.contains("AUTHORIZED"));
    assert!(card.contains("ending REFUNDED"));
    assert!(card.contains("NOK 249.00"), "captured amount");
    assert!(card.contains("Event log"));
    assert!(card.contains("Polling"));
    assert!(card.contains("since the previous GET"));
    // Every request and response, folded.
    assert!(card.contains("<details id=\"ex-"));
    assert!(!card.contains("<details open"));
    assert!(card.contains("/capture"));
    assert!(card.contains("Idempotency-Key"));
    // The webhook delivery of the first reference.
    assert!(html.contains("Webhook deliveries received"));
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_show_title_detail_trace_id_code_and_what_to_do() {
    let (_dir, run, html) = fixture().await;
    let problem = run
        .evidence
        .references
        .iter()
        .flat_map(|r| &r.problems)
        .find(|p| p.error_code.as_deref() == Some("6090"))
        .expect("the over-capture's Problem");
    let errors = &html[html.find("id=\"errors\"").unwrap()..];
    assert!(errors.contains(&problem.title));
    if let Some(d) = &problem.detail {
        assert!(errors.contains(&escape(d)), "detail {d}");
    }
    let trace = problem.trace_id.as_ref().expect("a traceId");
    assert!(errors.contains(trace));
    assert!(errors.contains("error code 6090"));
    assert!(errors.contains("capture more than is left of the reservation"));
    assert!(errors.contains(&format!("href=\"#ex-{}\"", problem.exchange_id)));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_is_self_contained_and_needs_no_script() {
    let (_dir, _run, html) = fixture().await;
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"));
    assert!(!lower.contains(" src="));
    assert!(!lower.contains("<link"));
    assert!(!lower.contains("@import"));
    assert!(!lower.contains("url("));
    assert!(!lower.contains("href=\"http"));
    assert!(lower.contains("content-security-policy"));
    assert!(lower.contains("default-src 'none'"));
    assert!(lower.contains("@media print"));
}

#[tokio::test(flavor = "multi_thread")]
async fn rendering_is_a_pure_function_of_the_evidence() {
    let (_dir, run, html) = fixture().await;
    assert_eq!(html, report_support::render(&run.evidence));
    // And survives the round trip through evidence.json.
    let json = serde_json::to_string(&run.evidence).unwrap();
    let back = vipps_golive::evidence::model::Evidence::from_json("e.json", &json).unwrap();
    assert_eq!(html, report_support::render(&back));
}

#[tokio::test(flavor = "multi_thread")]
async fn values_from_the_wire_are_escaped() {
    let (_dir, mut run, _) = fixture().await;
    run.evidence.items[0].reason = Some("<script>alert(1)</script>".into());
    run.evidence.items[0].verdict = Verdict::Fail;
    run.evidence.scenarios[0].name = "\"><img src=x>".into();
    run.evidence.exchanges[0].response_body =
        serde_json::Value::String("</pre><script>alert(2)</script>".into());
    run.evidence.exchanges[0]
        .response_headers
        .push(("X-Evil".into(), "<b>bold</b> & more".into()));
    let html = report_support::render(&run.evidence);
    assert!(!html.contains("<script>alert"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<img src=x>"));
    assert!(!html.contains("<script>alert(2)"));
    assert!(html.contains("&lt;/pre&gt;&lt;script&gt;alert(2)&lt;/script&gt;"));
    assert!(html.contains("X-Evil: &lt;b&gt;bold&lt;/b&gt; &amp; more"));
    assert!(html.contains("Not ready: 1 checklist item(s) failed."));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_incomplete_run_is_marked_and_names_interrupted_attempts() {
    let (_dir, mut run, _) = fixture().await;
    run.evidence.complete = false;
    let r = run.references[0].clone();
    run.evidence.interrupted.push(InterruptedAttempt {
        id: "attempt-77".into(),
        started_at: run.evidence.run.finished_at,
        method: "POST".into(),
        url: format!("http://127.0.0.1:9/epayment/v1/payments/{r}/refund"),
        reference: Some(r.clone()),
        idempotency_key: Some("idem-key-77".into()),
    });
    let html = report_support::render(&run.evidence);
    let top = &html[..html.find("<h1>").unwrap()];
    assert!(top.contains("INCOMPLETE"), "INCOMPLETE at the very top");
    assert!(html.contains("INCOMPLETE: do not send this."));
    let section = &html[html.find("id=\"interrupted\"").unwrap()..];
    assert!(section.contains("may have taken effect"));
    assert!(section.contains(&format!("/epayment/v1/payments/{r}/refund")));
    assert!(section.contains("idem-key-77"));
    // Also under its reference.
    let card = &html[html.find(&format!("id=\"ref-{r}\"")).unwrap()..];
    assert!(
        card[..card.find("</article>").unwrap()].contains("Interrupted: may have taken effect.")
    );
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

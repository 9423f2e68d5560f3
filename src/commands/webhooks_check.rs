//! `vipps-golive webhooks-check`: does the shop's webhook receiver accept
//! what Vipps sends and refuse what anyone else could send?
//!
//! Thirteen probes (the list, with what each must get and why, is
//! [`crate::rules::receiver::PROBES`]; docs/audit.md shows it as a table),
//! each an ePayment webhook delivery (behaviour.md §9.2) signed as Vipps signs
//! them (§9.3, through the client's [`sign_delivery`]), or one forged,
//! changed, stale or replayed. A forged one must be refused with a 4xx; a
//! receiver that accepts any fails the check (exit 1). An accepted replay is
//! a WARNING: it matters (anyone who captured a delivery can resend it), but
//! a receiver that acts on each event once is safe all the same.
//!
//! Every probe's request and the receiver's answer are recorded as
//! exchanges of kind `webhooks-check` (named by the probe): written ahead to
//! the folder's `journal.jsonl` before each leaves, and kept in
//! `evidence.json` and the report. The webhook secret never reaches them:
//! it only keys the HMAC, and redaction scrubs it by value wherever a
//! receiver might echo it.
//!
//! Each probe carries vipps-golive's mark (`User-Agent`,
//! `x-vipps-golive-run`), like every request the tool sends: the signature
//! does not cover them, and a receiver's log can tell a probe from Vipps.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::api::webhooks::sign_delivery;
use crate::cli::WebhooksCheckArgs;
use crate::domain::exchange::{
    Attempt, Exchange, RawExchange, HARNESS_RUN_HEADER, HARNESS_USER_AGENT, WEBHOOKS_CHECK_KIND,
};
use crate::evidence::model::{Evidence, Verdict, WebhookCheck};
use crate::evidence::{FolderKind, Journal, RunMeta, TargetInfo};
use crate::rules::receiver::STALE_MINUTES;
use crate::secret::Secret;
use crate::Error;

/// The MSN a probe's body names when none was given: a placeholder.
const PLACEHOLDER_MSN: &str = "123456";

/// Most of a receiver's answer body kept in the evidence.
const ANSWER_LIMIT: usize = 64 * 1024;

/// Check that a shop's webhook receiver accepts what it must and refuses
/// what it must.
///
/// Sends the probes to `--url`, writes `<out>/<check-id>/` (journal.jsonl,
/// evidence.json with `webhook_checks` and the probes' exchanges,
/// report.html), prints one line per probe. Returns [`Error::Failed`]
/// (exit 1) when a probe got the wrong answer and [`Error::Unreachable`]
/// (exit 3) when the receiver answered none; warnings do not fail it.
///
/// Example: `vipps-golive webhooks-check --url https://shop.example/vipps/webhook --secret "$SECRET"`
pub fn run(args: &WebhooksCheckArgs) -> Result<(), Error> {
    super::block_on(async {
        let target = Receiver::of(&args.url, args.msn.as_deref())?;
        // Scrubbed by value from anything recorded, should a receiver echo it.
        crate::domain::redact::register_secret(args.secret.expose());
        let meta = RunMeta::new(FolderKind::WebhooksCheck, Utc::now());
        let dir = args.out.join(meta.run_id());
        let io = |context: String| move |source| Error::Io { context, source };
        let folder = meta
            .create_folder(&args.out)
            .map_err(io(format!("cannot create `{}`", dir.display())))?;
        let journal = Journal::create(folder.path("journal.jsonl")).map_err(|e| Error::Io {
            context: format!("cannot create the journal in `{}`", dir.display()),
            source: std::io::Error::other(e.to_string()),
        })?;
        let timeout = Duration::from_secs(args.timeout);
        let sent = send_all(&target, &args.secret, timeout, &journal, meta.run_id()).await?;
        let answers: Vec<(&str, Option<u16>)> =
            sent.iter().map(|(case, e)| (*case, e.status)).collect();
        if crate::rules::receiver::none_answered(&answers) {
            let why = "the webhook receiver did not answer any probe";
            let _ = folder.fail(why);
            return Err(Error::Unreachable {
                message: format!(
                    "{why}: `{}` (hint: is it running and reachable from here?)",
                    target.shown
                ),
                source: None,
            });
        }
        let checks = judged(&sent);
        let exchanges = sent.into_iter().map(|(_, e)| e).collect();
        let evidence = evidence_of(&meta, &target, checks, exchanges);
        let latest = crate::audit::write_folder(&folder, &evidence, &[]).map_err(|e| match e {
            crate::audit::FolderError::Io(source) => io(format!(
                "cannot write the evidence into `{}`",
                dir.display()
            ))(source),
            crate::audit::FolderError::Contradicted(message) => Error::Failed(message),
        })?;
        if let crate::evidence::Latest::LeftAlone(why) = latest {
            crate::output::diag(&format!("webhooks-check: {why}"));
        }
        crate::output::result(&summary(&evidence, &target.shown, &dir));
        outcome(&evidence.webhook_checks)
    })
}

/// The receiver as the probes address it: where, and what the signature covers.
pub(crate) struct Receiver {
    url: url::Url,
    /// As shown to people.
    pub(crate) shown: String,
    /// The URL's authority: what Vipps signs as `host`.
    host: String,
    /// The path and query: what Vipps signs.
    path: String,
    /// The MSN the probes' bodies name; `None` when not given.
    msn: Option<String>,
}

impl Receiver {
    pub(crate) fn of(raw: &str, msn: Option<&str>) -> Result<Receiver, Error> {
        // The one guard: never a Vipps host, never a URL that does not parse;
        // decided before any socket opens.
        let url = crate::config::guard_url("--url", raw, crate::config::UrlRole::WebhookReceiver)
            .map_err(Error::Usage)?
            .url;
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => String::new(),
        };
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        Ok(Receiver {
            shown: crate::domain::host::display_raw(raw),
            url,
            host,
            path,
            msn: msn.map(str::to_owned).filter(|m| !m.trim().is_empty()),
        })
    }
}

/// RFC 1123 date, as `x-ms-date` carries it.
fn rfc1123(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// One delivery to send: its probe, its body and the headers that make it
/// what it is (signed, mis-signed, or missing one).
#[derive(Clone)]
struct Delivery {
    case: &'static str,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
}

fn event(msn: &str, reference: &str, name: &str, at: DateTime<Utc>) -> Vec<u8> {
    let body = json!({
        "msn": msn,
        "reference": reference,
        "pspReference": format!("{}", at.timestamp_millis()),
        "name": name,
        "amount": {"currency": "NOK", "value": 1000},
        "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "idempotencyKey": uuid::Uuid::new_v4().to_string(),
        "success": true,
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The three signed headers of `body` as Vipps would send it at `at` to `host`.
fn signed(
    secret: &Secret,
    r: &Receiver,
    host: &str,
    at: DateTime<Utc>,
    body: &[u8],
) -> Vec<(String, String)> {
    let h = sign_delivery(secret, &r.path, host, &rfc1123(at), body);
    vec![
        ("x-ms-date".to_owned(), h.x_ms_date),
        ("x-ms-content-sha256".to_owned(), h.x_ms_content_sha256),
        ("authorization".to_owned(), h.authorization),
    ]
}

fn without(mut headers: Vec<(String, String)>, name: &str) -> Vec<(String, String)> {
    headers.retain(|(k, _)| k != name);
    headers
}

/// The deliveries, in the order sent (that of [`crate::rules::receiver::PROBES`]),
/// built before anything is sent.
fn deliveries(secret: &Secret, r: &Receiver) -> Vec<Delivery> {
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let now = Utc::now();
    let msn = r.msn.as_deref().unwrap_or(PLACEHOLDER_MSN);
    let reference = |n: &str| format!("golive-webhook-check-{tag}-{n}");
    let fresh = |n: &str| event(msn, &reference(n), "AUTHORIZED", now);
    let sign = |body: &[u8], at: DateTime<Utc>| signed(secret, r, &r.host, at, body);
    let d = |case, body: Vec<u8>, headers| Delivery {
        case,
        body,
        headers,
    };

    let signed_body = fresh("1");
    let valid = d("signed", signed_body.clone(), sign(&signed_body, now));
    let mut out = vec![valid.clone()];
    out.push(d("unsigned", fresh("2"), Vec::new()));
    // Date and body hash right; the Signature is 32 zero bytes, no HMAC.
    let body = fresh("3");
    let mut headers = sign(&body, now);
    if let Some((_, auth)) = headers.iter_mut().find(|(k, _)| k == "authorization") {
        use base64::Engine as _;
        let zero = base64::engine::general_purpose::STANDARD.encode([0u8; 32]);
        *auth = format!(
            "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={zero}"
        );
    }
    out.push(d("bad-signature", body, headers));
    // Every header present, the body hash and the date right: only the HMAC
    // is wrong (made with another secret).
    let body = fresh("4");
    let other = Secret::new(format!("not-the-registered-secret-{tag}"));
    out.push(d(
        "wrong-secret",
        body.clone(),
        signed(&other, r, &r.host, now, &body),
    ));
    let original = fresh("5");
    let changed = String::from_utf8_lossy(&original).replace("\"value\":1000", "\"value\":1");
    out.push(d("tampered", changed.into_bytes(), sign(&original, now)));
    // HTTP/1.1 cannot leave Host out (a server must answer 400 without it),
    // so the probe of the signed host is a delivery signed for another.
    let body = fresh("6");
    out.push(d(
        "wrong-host",
        body.clone(),
        signed(secret, r, "other.example", now, &body),
    ));
    for (case, header, n) in [
        ("no-date", "x-ms-date", "7"),
        ("no-content-hash", "x-ms-content-sha256", "8"),
        ("no-authorization", "authorization", "9"),
    ] {
        let body = fresh(n);
        out.push(d(case, body.clone(), without(sign(&body, now), header)));
    }
    let then = now - chrono::Duration::minutes(STALE_MINUTES);
    let body = event(msn, &reference("10"), "AUTHORIZED", then);
    out.push(d("stale", body.clone(), sign(&body, then)));
    out.push(Delivery {
        case: "replay",
        ..valid
    });
    // Vipps redelivers with a new signature: a date one second earlier
    // makes it differ from the replay's.
    let again = now - chrono::Duration::seconds(1);
    out.push(d(
        "duplicate",
        signed_body.clone(),
        sign(&signed_body, again),
    ));
    let captured = event(msn, &reference("11"), "CAPTURED", now);
    let authorized = event(
        msn,
        &reference("11"),
        "AUTHORIZED",
        now - chrono::Duration::seconds(5),
    );
    out.push(d("out-of-order", captured.clone(), sign(&captured, now)));
    out.push(d(
        "out-of-order",
        authorized.clone(),
        sign(&authorized, now),
    ));
    out
}

/// Sends every delivery in order, each written ahead to `journal` and
/// recorded with the receiver's answer: (probe, exchange) in the order sent.
pub(crate) async fn send_all(
    r: &Receiver,
    secret: &Secret,
    timeout: Duration,
    journal: &Journal,
    run_id: &str,
) -> Result<Vec<(&'static str, Exchange)>, Error> {
    let client = crate::api::marked_http(Some(run_id))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::Usage(format!("cannot build an HTTP client: {e}")))?;
    let recorded = |e: crate::evidence::JournalError| Error::Io {
        context: "cannot record a webhooks-check probe in the journal; it was not sent".into(),
        source: std::io::Error::other(e.to_string()),
    };
    let mut sent = Vec::new();
    for d in deliveries(secret, r) {
        let scenario = format!("{WEBHOOKS_CHECK_KIND}: {}", d.case);
        let checklist = vec![crate::domain::checklist::ChecklistId::PfPolling
            .as_str()
            .to_owned()];
        let id = uuid::Uuid::new_v4().to_string();
        let started_at = Utc::now();
        let ahead = Attempt::new(
            id.clone(),
            started_at,
            "POST",
            r.url.as_str(),
            1,
            None,
            None,
            checklist.clone(),
            Some(scenario.clone()),
        );
        journal.append_attempt(&ahead).map_err(recorded)?;
        let mut headers = vec![
            ("host".to_owned(), r.host.clone()),
            ("content-type".to_owned(), "application/json".to_owned()),
        ];
        headers.extend(d.headers.iter().cloned());
        let t0 = Instant::now();
        let mut req = client.post(r.url.clone()).body(d.body.clone());
        for (k, v) in headers.iter().filter(|(k, _)| k != "host") {
            req = req.header(k.as_str(), v.as_str());
        }
        let answer = answer_of(req.send().await).await;
        // What was sent, the tool's mark included (the client's defaults).
        headers.push(("user-agent".to_owned(), HARNESS_USER_AGENT.to_owned()));
        headers.push((HARNESS_RUN_HEADER.to_owned(), run_id.to_owned()));
        let mut exchange = Exchange::from_raw(RawExchange {
            started_at,
            duration_ms: u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX),
            method: "POST".into(),
            url: r.url.to_string(),
            request_headers: headers,
            request_body: d.body,
            status: answer.status,
            response_headers: answer.headers,
            response_body: answer.body,
            error: answer.error,
            attempt: 1,
            reference: None,
            checklist_ids: checklist,
            scenario: Some(scenario),
        });
        exchange.id = id;
        exchange.kind = Some(WEBHOOKS_CHECK_KIND.to_owned());
        journal.append(&exchange).map_err(recorded)?;
        sent.push((d.case, exchange));
    }
    Ok(sent)
}

/// What the receiver answered one delivery.
struct Answer {
    status: Option<u16>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    error: Option<String>,
}

async fn answer_of(result: Result<reqwest::Response, reqwest::Error>) -> Answer {
    let mut resp = match result {
        Ok(resp) => resp,
        Err(e) => {
            return Answer {
                status: None,
                headers: Vec::new(),
                body: Vec::new(),
                error: Some(if e.is_timeout() {
                    "no answer in time".to_owned()
                } else {
                    "no answer: the connection failed".to_owned()
                }),
            }
        }
    };
    let status = Some(resp.status().as_u16());
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    // Kept up to a limit: a receiver's answer is evidence, not a download.
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        let room = ANSWER_LIMIT.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= ANSWER_LIMIT {
            break;
        }
    }
    Answer {
        status,
        headers,
        body,
        error: None,
    }
}

/// Each probe judged by the rules, with the exchanges that carried it.
pub(crate) fn judged(sent: &[(&'static str, Exchange)]) -> Vec<WebhookCheck> {
    let answers: Vec<(&str, Option<u16>)> = sent.iter().map(|(c, e)| (*c, e.status)).collect();
    let mut checks = crate::rules::receiver::probes(&answers);
    for check in &mut checks {
        check.exchanges = sent
            .iter()
            .filter(|(c, _)| *c == check.case)
            .map(|(_, e)| e.id.clone())
            .collect();
    }
    checks
}

/// The evidence of a webhooks-check: the probes, their exchanges, and the
/// item they speak to (PF-POLLING, which pairs webhooks with polling); the
/// rest not judged.
fn evidence_of(
    meta: &RunMeta,
    r: &Receiver,
    checks: Vec<WebhookCheck>,
    exchanges: Vec<Exchange>,
) -> Evidence {
    let items = crate::rules::receiver::items(&checks);
    meta.evidence(TargetInfo::new("custom", r.shown.clone()))
        .msn(r.msn.clone().unwrap_or_default())
        .items(items)
        .webhook_checks(checks)
        .exchanges(exchanges)
        .finish()
}

/// What stdout says: a line per probe, the warnings, and the folder.
fn summary(e: &Evidence, shown: &str, dir: &std::path::Path) -> String {
    use std::fmt::Write as _;
    let mut out = format!("Webhook receiver {shown}:\n");
    for c in &e.webhook_checks {
        let _ = writeln!(
            out,
            "  {:<16} {:<7} answered {:<4} expected {:<15} {}",
            c.case,
            c.verdict.label(),
            c.status.map_or("none".to_owned(), |s| s.to_string()),
            c.expected
                .as_deref()
                .unwrap_or(if c.expected_accept { "2xx" } else { "4xx" }),
            c.explanation
        );
    }
    let warned: Vec<&str> = e
        .webhook_checks
        .iter()
        .filter(|c| c.verdict == Verdict::Warning)
        .map(|c| c.case.as_str())
        .collect();
    if !warned.is_empty() {
        let _ = writeln!(
            out,
            "{} warning(s), not failures: {} (see why above)",
            warned.len(),
            warned.join(", ")
        );
    }
    let _ = write!(out, "{}", dir.display());
    out
}

/// Exit 1 when a probe got the wrong answer, naming each and what it got.
fn outcome(checks: &[WebhookCheck]) -> Result<(), Error> {
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| c.verdict.fails_run())
        .map(|c| match c.status {
            Some(s) if (200..300).contains(&s) => format!("{} (accepted, {s})", c.case),
            Some(s) => format!("{} ({s})", c.case),
            None => format!("{} (no answer)", c.case),
        })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::Failed(format!(
            "the webhook receiver got {} probe(s) wrong: {}",
            failed.len(),
            failed.join(", ")
        )))
    }
}

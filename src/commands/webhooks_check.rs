//! `vipps-golive webhooks-check`: does the shop's webhook receiver accept
//! what it must and reject what it must not?
//!
//! Six probes, each an ePayment webhook delivery (behaviour.md §9.2) signed as
//! Vipps signs them (§9.3, through the client's [`sign_delivery`]):
//!
//! | case | sent | expected answer |
//! |---|---|---|
//! | `signed` | a correctly signed AUTHORIZED event | accepted (2xx) |
//! | `unsigned` | the same without `Authorization` and `x-ms-*` headers | rejected (non-2xx, 401 is best) |
//! | `tampered` | a signed event whose body was changed after signing | rejected |
//! | `stale` | a correctly signed event with `x-ms-date` 20 minutes old | rejected (a replayed delivery) |
//! | `duplicate` | the `signed` delivery again, byte for byte | accepted: Vipps may deliver twice; the handler must be idempotent |
//! | `out-of-order` | CAPTURED before AUTHORIZED for a new reference | both accepted: the receiver acknowledges and reads the truth with GET |
//!
//! Choice (OPEN in the docs): Vipps does not say how old a delivery may be;
//! 20 minutes is beyond any clock skew (Azure's HMAC scheme allows 15), so a
//! receiver that accepts it accepts replays.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::api::webhooks::{sign_delivery, SignedHeaders};
use crate::cli::WebhooksCheckArgs;
use crate::evidence::model::{Evidence, WebhookCheck};
use crate::evidence::{FolderKind, RunMeta, TargetInfo};
use crate::rules::receiver::Answers;
use crate::secret::Secret;
use crate::Error;

/// How old the `stale` probe's date is.
pub const STALE_MINUTES: i64 = 20;

/// Check that a shop's webhook receiver accepts what it must and rejects what it must not.
///
/// Sends the six probes to `--url`, writes `<out>/<check-id>/evidence.json`
/// (with `webhook_checks`) and `report.html`, prints one line per probe.
/// Returns [`Error::Failed`] (exit 1) when a probe got the wrong answer and
/// [`Error::Unreachable`] (exit 3) when the receiver answered none.
///
/// Example: `vipps-golive webhooks-check --url https://shop.example/vipps/webhook --secret "$SECRET"`
pub fn run(args: &WebhooksCheckArgs) -> Result<(), Error> {
    super::block_on(async {
        let checks = check(&args.url, &args.secret, Duration::from_secs(args.timeout)).await?;
        let mut out = String::new();
        for c in &checks {
            out.push_str(&format!(
                "  {:<13} {:<5} answered {:<4} expected {:<8} {}\n",
                c.case,
                c.verdict.label(),
                c.status.map_or("none".to_owned(), |s| s.to_string()),
                if c.expected_accept { "2xx" } else { "non-2xx" },
                c.explanation
            ));
        }
        let meta = RunMeta::new(FolderKind::WebhooksCheck, Utc::now());
        let evidence = evidence_of(&meta, &args.url, checks);
        let dir = args.out.join(meta.run_id());
        let latest = meta
            .create_folder(&args.out)
            .and_then(|folder| crate::audit::write_folder(&folder, &evidence, &[]))
            .map_err(|source| Error::Io {
                context: format!("cannot write the evidence into `{}`", dir.display()),
                source,
            })?;
        if let crate::evidence::Latest::LeftAlone(why) = latest {
            crate::output::diag(&format!("webhooks-check: {why}"));
        }
        crate::output::result(&format!(
            "Webhook receiver {}:\n{out}{}",
            crate::config::display_raw(&args.url),
            dir.display()
        ));
        let failed: Vec<&str> = evidence
            .webhook_checks
            .iter()
            .filter(|c| c.verdict.fails_run())
            .map(|c| c.case.as_str())
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
    })
}

/// RFC 1123 date, as `x-ms-date` carries it.
fn rfc1123(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// One delivery to send.
struct Delivery {
    body: Vec<u8>,
    headers: Option<SignedHeaders>,
    /// A signed header left out on purpose.
    omit: Option<&'static str>,
}

fn event(reference: &str, name: &str, at: DateTime<Utc>) -> Vec<u8> {
    let body = json!({
        "msn": "123456",
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

/// The probes, built before anything is sent: each is a delivery as Vipps
/// would send it, or one a receiver must refuse.
struct Deliveries {
    signed: Delivery,
    unsigned: Delivery,
    tampered: Delivery,
    forged: Delivery,
    stale: Delivery,
    captured: Delivery,
    authorized: Delivery,
    /// A correctly signed delivery without one of its headers, each.
    missing: [Delivery; 3],
}

fn deliveries(secret: &Secret, path: &str, host: &str) -> Deliveries {
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let now = Utc::now();
    let sign =
        |body: &[u8], at: DateTime<Utc>| sign_delivery(secret, path, host, &rfc1123(at), body);

    let first_ref = format!("golive-webhook-check-{tag}-1");
    let signed_body = event(&first_ref, "AUTHORIZED", now);
    let signed = Delivery {
        headers: Some(sign(&signed_body, now)),
        body: signed_body,
        omit: None,
    };
    let unsigned = Delivery {
        body: event(&format!("golive-webhook-check-{tag}-2"), "AUTHORIZED", now),
        headers: None,
        omit: None,
    };
    let tampered = {
        let original = event(&format!("golive-webhook-check-{tag}-3"), "AUTHORIZED", now);
        let headers = sign(&original, now);
        let changed = String::from_utf8_lossy(&original).replace("\"value\":1000", "\"value\":1");
        Delivery {
            body: changed.into_bytes(),
            headers: Some(headers),
            omit: None,
        }
    };
    // Every header present, the body hash and the date right: only the
    // HMAC is wrong (made with another secret). A receiver that checks that
    // the signature is there, but not that it is Vipps's, accepts it.
    let forged = {
        let body = event(&format!("golive-webhook-check-{tag}-6"), "AUTHORIZED", now);
        let other = Secret::new(format!("not-the-registered-secret-{tag}"));
        Delivery {
            headers: Some(sign_delivery(&other, path, host, &rfc1123(now), &body)),
            body,
            omit: None,
        }
    };
    let stale = {
        let then = now - chrono::Duration::minutes(STALE_MINUTES);
        let body = event(&format!("golive-webhook-check-{tag}-4"), "AUTHORIZED", then);
        Delivery {
            headers: Some(sign(&body, then)),
            body,
            omit: None,
        }
    };
    let ooo_ref = format!("golive-webhook-check-{tag}-5");
    let captured = event(&ooo_ref, "CAPTURED", now);
    let authorized = event(&ooo_ref, "AUTHORIZED", now - chrono::Duration::seconds(5));
    let captured = Delivery {
        headers: Some(sign(&captured, now)),
        body: captured,
        omit: None,
    };
    let authorized = Delivery {
        headers: Some(sign(&authorized, now)),
        body: authorized,
        omit: None,
    };

    // Each header a receiver needs, left out of an otherwise right delivery.
    let missing = ["x-ms-date", "x-ms-content-sha256", "authorization"].map(|header| {
        let body = event(
            &format!("golive-webhook-check-{tag}-7-{header}"),
            "AUTHORIZED",
            now,
        );
        Delivery {
            headers: Some(sign(&body, now)),
            omit: Some(header),
            body,
        }
    });
    Deliveries {
        signed,
        unsigned,
        tampered,
        forged,
        stale,
        captured,
        authorized,
        missing,
    }
}

/// Runs the ten probes against `url` and judges each answer.
pub async fn check(
    url: &str,
    secret: &Secret,
    timeout: Duration,
) -> Result<Vec<WebhookCheck>, Error> {
    // The one guard: never a Vipps host, never a URL that does not parse;
    // decided before any socket opens.
    let parsed = crate::config::guard_url("--url", url, crate::config::UrlRole::WebhookReceiver)
        .map_err(Error::Usage)?
        .url;
    let host = match (parsed.host_str(), parsed.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => String::new(),
    };
    let path = match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_owned(),
    };
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::Usage(format!("cannot build an HTTP client: {e}")))?;
    let d = deliveries(secret, &path, &host);
    let send = |d: &Delivery| {
        let mut req = client
            .post(parsed.clone())
            .header("content-type", "application/json")
            .body(d.body.clone());
        if let Some(h) = &d.headers {
            for (name, value) in [
                ("x-ms-date", &h.x_ms_date),
                ("x-ms-content-sha256", &h.x_ms_content_sha256),
                ("authorization", &h.authorization),
            ] {
                if d.omit != Some(name) {
                    req = req.header(name, value);
                }
            }
        }
        async move { req.send().await.ok().map(|r| r.status().as_u16()) }
    };

    // Sent in this order (struct fields are evaluated as written).
    let answers = Answers {
        signed: send(&d.signed).await,
        unsigned: send(&d.unsigned).await,
        tampered: send(&d.tampered).await,
        wrong_secret: send(&d.forged).await,
        stale: send(&d.stale).await,
        duplicate: send(&d.signed).await,
        captured_first: send(&d.captured).await,
        authorized_after: send(&d.authorized).await,
        missing: [
            send(&d.missing[0]).await,
            send(&d.missing[1]).await,
            send(&d.missing[2]).await,
        ],
    };
    if answers.none() {
        return Err(Error::Unreachable {
            message: format!("the webhook receiver `{}` did not answer any probe (hint: is it running and reachable from here?)", crate::domain::host::display_raw(url)),
            source: None,
        });
    }
    Ok(crate::rules::receiver::probes(&answers))
}

/// The evidence of a webhooks-check: the probes, and the item they speak to
/// (PF-POLLING, which pairs webhooks with polling); the rest not judged.
pub fn evidence(url: &str, checks: Vec<WebhookCheck>) -> Evidence {
    evidence_of(
        &RunMeta::new(FolderKind::WebhooksCheck, Utc::now()),
        url,
        checks,
    )
}

/// [`evidence`] for the folder `meta` names; the probes are dated when the
/// last one was answered.
fn evidence_of(meta: &RunMeta, url: &str, checks: Vec<WebhookCheck>) -> Evidence {
    let items = crate::rules::receiver::items(&checks);
    let shown = crate::domain::host::display_raw(url);
    let at = meta.started_at();
    meta.evidence(TargetInfo::new("custom", shown))
        .span(at, at)
        .items(items)
        .webhook_checks(checks)
        .finish()
}

//! The WEB_REDIRECT landing page, used the way a browser with scripts off
//! uses it: GET the page, submit its form, follow the 303 (issue 3 point 7).

use crate::common;

use common::*;
use reqwest::Method;

struct Landing {
    reference: String,
    return_url: String,
    page: Resp,
}

async fn open(sim: &Sim, value: i64, description: &str) -> Landing {
    let r = reference("land");
    let mut body = web_body(&r, value);
    body["paymentDescription"] = serde_json::json!(description);
    let created = sim.create(&body).await;
    created.assert_status(201);
    let url = created.json()["redirectUrl"].as_str().unwrap().to_owned();
    let page = sim.send(Call::new(Method::GET, url)).await;
    Landing {
        return_url: body["returnUrl"].as_str().unwrap().to_owned(),
        reference: r,
        page,
    }
}

/// Submits the form whose button matches `words`, as a browser would.
async fn submit(sim: &Sim, land: &Landing, words: &[&str]) -> Resp {
    let (action, body) = html::submission(&land.page.text, words).unwrap_or_else(|| {
        panic!(
            "no POST form with a {words:?} button: {:.2000}",
            land.page.text
        )
    });
    let page_url = url::Url::parse(&sim.url(land.page.path.as_str())).unwrap();
    let target = page_url.join(&action).unwrap().to_string();
    sim.send(
        Call::new(Method::POST, target).raw(body.into_bytes(), "application/x-www-form-urlencoded"),
    )
    .await
}

#[tokio::test]
async fn landing_page_shows_merchant_amount_description_and_two_buttons() {
    let sim = Sim::start().await;
    let land = open(&sim, 24900, "Two blue mugs").await;
    land.page.assert_status(200);
    assert!(land
        .page
        .header("content-type")
        .unwrap_or_default()
        .starts_with("text/html"));
    let html = &land.page.text;
    assert!(html.contains("249"), "the amount (249,00 kr) is shown");
    assert!(html.contains("Two blue mugs"), "the description is shown");
    assert!(
        html.contains("Golive Test Shop"),
        "the merchant name is shown"
    );
    assert!(
        html::submission(html, &["approve", "godkjenn", "accept", "betal"]).is_some(),
        "an approve form"
    );
    assert!(
        html::submission(html, &["reject", "avvis", "abort", "cancel", "avbryt"]).is_some(),
        "a reject form"
    );
}

#[tokio::test]
async fn approving_on_the_landing_page_without_javascript_authorizes_and_returns_to_return_url() {
    let sim = Sim::start().await;
    let land = open(&sim, 24900, "Two mugs").await;
    let resp = submit(&sim, &land, &["approve", "godkjenn", "accept", "betal"]).await;
    assert_eq!(resp.status, 303, "303 See Other: {}", resp.brief());
    let location = resp.header("location").unwrap_or_default();
    assert!(
        location.starts_with(&land.return_url),
        "on to returnUrl: `{location}`"
    );
    let p = sim.payment(&land.reference).await;
    assert_eq!(p["state"], "AUTHORIZED");
    assert_eq!(agg(&p), [24900, 0, 0, 0]);
}

#[tokio::test]
async fn rejecting_on_the_landing_page_aborts_and_returns_to_return_url() {
    let sim = Sim::start().await;
    let land = open(&sim, 24900, "Two mugs").await;
    let resp = submit(
        &sim,
        &land,
        &["reject", "avvis", "abort", "cancel", "avbryt"],
    )
    .await;
    assert_eq!(resp.status, 303, "303 See Other: {}", resp.brief());
    let location = resp.header("location").unwrap_or_default();
    assert!(
        location.starts_with(&land.return_url),
        "on to returnUrl: `{location}`"
    );
    assert_eq!(sim.payment(&land.reference).await["state"], "ABORTED");
}

#[tokio::test]
async fn a_second_submission_after_approval_changes_nothing() {
    let sim = Sim::start().await;
    let land = open(&sim, 1000, "Mug").await;
    submit(&sim, &land, &["approve", "godkjenn", "accept", "betal"]).await;
    let again = submit(
        &sim,
        &land,
        &["reject", "avvis", "abort", "cancel", "avbryt"],
    )
    .await;
    assert_ne!(again.status, 500, "{}", again.brief());
    assert_eq!(sim.payment(&land.reference).await["state"], "AUTHORIZED");
    assert_eq!(
        sim.event_names(&land.reference).await,
        ["CREATED", "AUTHORIZED"]
    );
}

#[tokio::test]
async fn landing_page_with_a_forged_token_does_not_show_a_payment() {
    let sim = Sim::start().await;
    let land = open(&sim, 1000, "Mug").await;
    let mut url = url::Url::parse(&sim.url(&land.page.path)).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            if k == "token" {
                (k.into_owned(), "forged".to_owned())
            } else {
                (k.into_owned(), v.into_owned())
            }
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    let resp = sim.send(Call::new(Method::GET, url.to_string())).await;
    assert!((400..500).contains(&resp.status), "{}", resp.brief());
}

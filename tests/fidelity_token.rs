//! Access Token API and authentication (behaviour.md §2, §5.2, §5.4, §11; issue 3 point 1).

use crate::common;

use common::*;
use reqwest::Method;
use serde_json::Value;

fn token_call(client_id: &str, secret: &str, key: Option<&str>) -> Call {
    let mut c = Call::new(Method::POST, "/accesstoken/get")
        .header("client_id", client_id)
        .header("client_secret", secret);
    if let Some(k) = key {
        c = c.header("Ocp-Apim-Subscription-Key", k);
    }
    c
}

#[tokio::test]
async fn token_response_has_every_field_as_a_string_and_bearer_type() {
    let sim = Sim::start().await;
    let r = sim.token_resp(UNIT).await;
    r.assert_status(200);
    let body = r.json();
    for field in [
        "token_type",
        "expires_in",
        "ext_expires_in",
        "expires_on",
        "not_before",
        "resource",
        "access_token",
    ] {
        assert!(
            body[field].is_string(),
            "`{field}` is a JSON string: {body}"
        );
    }
    assert_eq!(body["token_type"], "Bearer");
    let lifetime: i64 = body["expires_in"]
        .as_str()
        .unwrap()
        .parse()
        .expect("numeric string");
    assert!(
        (3500..=3600).contains(&lifetime),
        "test-environment lifetime about 1 hour, got {lifetime}"
    );
}

#[tokio::test]
async fn token_is_a_jwt_whose_exp_and_nbf_match_expires_on_and_not_before() {
    let sim = Sim::start().await;
    let body = sim.token_resp(UNIT).await.json();
    let claims = jwt_claims(body["access_token"].as_str().unwrap());
    let expires_on: i64 = body["expires_on"].as_str().unwrap().parse().unwrap();
    let not_before: i64 = body["not_before"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        claims["exp"].as_i64(),
        Some(expires_on),
        "exp == expires_on: {claims}"
    );
    assert_eq!(
        claims["nbf"].as_i64(),
        Some(not_before),
        "nbf == not_before: {claims}"
    );
    let expires_in: i64 = body["expires_in"].as_str().unwrap().parse().unwrap();
    assert!(
        (expires_on - not_before - expires_in).abs() <= 5,
        "expires_on - not_before ≈ expires_in"
    );
}

#[tokio::test]
async fn token_path_is_matched_case_insensitively_like_the_postman_collection_calls_it() {
    let sim = Sim::start().await;
    let r = sim
        .send(
            Call::new(Method::POST, "/accessToken/get")
                .header("client_id", CLIENT_ID)
                .header("client_secret", CLIENT_SECRET)
                .header("Ocp-Apim-Subscription-Key", SUB_KEY),
        )
        .await;
    r.assert_status(200);
}

#[tokio::test]
async fn unknown_client_id_gets_an_aad_shaped_400_unauthorized_client() {
    let sim = Sim::start().await;
    let r = sim
        .send(token_call(
            "00000000-1111-2222-3333-444444444444",
            CLIENT_SECRET,
            Some(SUB_KEY),
        ))
        .await;
    r.assert_status(400);
    let b = r.json();
    assert_eq!(b["error"], "unauthorized_client", "{b}");
    assert!(
        b["error_description"]
            .as_str()
            .unwrap_or("")
            .starts_with("AADSTS"),
        "{b}"
    );
    assert!(
        b["error_codes"]
            .as_array()
            .map(|a| !a.is_empty())
            .unwrap_or(false),
        "{b}"
    );
    for f in ["timestamp", "trace_id", "correlation_id", "error_uri"] {
        assert!(b[f].is_string(), "AAD body has `{f}`: {b}");
    }
}

#[tokio::test]
async fn wrong_client_secret_gets_a_401_with_an_aad_shaped_body() {
    // OPEN(§16.2): undocumented; issue 3 asks for an AAD-shaped 401.
    let sim = Sim::start().await;
    let r = sim
        .send(token_call(CLIENT_ID, "not-the-secret", Some(SUB_KEY)))
        .await;
    r.assert_status(401);
    let b = r.json();
    assert!(b["error"].is_string(), "AAD `error` field: {b}");
    assert!(
        b["error_description"]
            .as_str()
            .unwrap_or("")
            .starts_with("AADSTS"),
        "{b}"
    );
}

#[tokio::test]
async fn missing_subscription_key_on_the_token_call_gets_the_gateway_401() {
    let sim = Sim::start().await;
    let r = sim.send(token_call(CLIENT_ID, CLIENT_SECRET, None)).await;
    r.assert_status(401);
    let b = r.json();
    assert_eq!(b["statusCode"], 401, "{b}");
    assert!(
        b["message"]
            .as_str()
            .unwrap_or("")
            .contains("missing subscription key"),
        "{b}"
    );
}

#[tokio::test]
async fn wrong_subscription_key_on_the_token_call_gets_the_gateway_401() {
    let sim = Sim::start().await;
    let r = sim
        .send(token_call(
            CLIENT_ID,
            CLIENT_SECRET,
            Some("0123456789abcdef0123456789abcdef"),
        ))
        .await;
    r.assert_status(401);
    let b = r.json();
    assert_eq!(b["statusCode"], 401, "{b}");
    assert!(
        b["message"]
            .as_str()
            .unwrap_or("")
            .contains("invalid subscription key"),
        "{b}"
    );
}

async fn get_with(sim: &Sim, reference: &str, edit: impl FnOnce(Call) -> Call) -> Resp {
    let call = sim
        .api(Method::GET, format!("/epayment/v1/payments/{reference}"))
        .await;
    sim.send(edit(call)).await
}

#[tokio::test]
async fn business_call_without_bearer_token_is_401() {
    let sim = Sim::start().await;
    let r = sim.created(1000).await;
    let resp = get_with(&sim, &r, |c| c.without("Authorization")).await;
    resp.assert_status(401);
}

#[tokio::test]
async fn business_call_with_a_forged_bearer_token_is_401() {
    let sim = Sim::start().await;
    let r = sim.created(1000).await;
    let forged = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9.c2lnbmF0dXJl";
    let resp = get_with(&sim, &r, |c| {
        c.header("Authorization", format!("Bearer {forged}"))
    })
    .await;
    resp.assert_status(401);
}

#[tokio::test]
async fn business_call_with_the_token_but_no_bearer_prefix_is_401() {
    let sim = Sim::start().await;
    let r = sim.created(1000).await;
    let token = sim.token().await;
    let resp = get_with(&sim, &r, |c| c.header("Authorization", token)).await;
    resp.assert_status(401);
}

#[tokio::test]
async fn business_call_without_subscription_key_gets_the_gateway_401() {
    let sim = Sim::start().await;
    let r = sim.created(1000).await;
    let resp = get_with(&sim, &r, |c| c.without("Ocp-Apim-Subscription-Key")).await;
    resp.assert_status(401);
    let b: Value = resp.json();
    assert_eq!(b["statusCode"], 401, "gateway shape: {b}");
}

#[tokio::test]
async fn business_call_with_a_wrong_subscription_key_gets_the_gateway_401() {
    let sim = Sim::start().await;
    let r = sim.created(1000).await;
    let resp = get_with(&sim, &r, |c| {
        c.header("Ocp-Apim-Subscription-Key", SUB_KEY_2)
    })
    .await;
    // The token and business calls must use the same key (§11): 401 (gateway) or 403.
    assert!(matches!(resp.status, 401 | 403), "{}", resp.brief());
}

#[tokio::test]
async fn token_of_another_sales_unit_is_refused_for_this_msn() {
    let sim = Sim::start().await;
    let r = sim.created(1000).await;
    let token2 = sim.token_for(UNIT_2).await;
    let resp = get_with(&sim, &r, |c| {
        c.header("Authorization", format!("Bearer {token2}"))
    })
    .await;
    // §11: "A token for a different MSN fails" (status undocumented: 401 or 403).
    assert!(matches!(resp.status, 401 | 403), "{}", resp.brief());
}

#[tokio::test]
async fn token_stops_working_once_its_lifetime_has_passed_on_the_virtual_clock() {
    let sim = Sim::start().await;
    let r = sim.created(1000).await;
    let call = sim
        .api(Method::GET, format!("/epayment/v1/payments/{r}"))
        .await;
    sim.send(call.clone()).await.assert_status(200);
    sim.advance(3601).await;
    let resp = sim.send(call).await;
    resp.assert_status(401);
}

#[tokio::test]
async fn token_call_with_an_empty_form_body_like_the_sdks_send_is_accepted() {
    // §2.1: the deno SDK sends Content-Type form-urlencoded and no body; curl sends --data ''.
    let sim = Sim::start().await;
    for ct in ["application/x-www-form-urlencoded", "application/json"] {
        let r = sim
            .send(token_call(CLIENT_ID, CLIENT_SECRET, Some(SUB_KEY)).raw(Vec::new(), ct))
            .await;
        assert_eq!(r.status, 200, "{ct}: {}", r.brief());
    }
}

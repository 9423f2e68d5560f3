//! Access tokens and authentication (behaviour.md §2.1, §5.4, §11).

use crate::sim_core_support;

use sim_core_support::*;
use vipps_golive::simulator::token::peek_claims;

fn token_request(
    sim: &Sim,
    path: &str,
    client_id: &str,
    secret: &str,
    key: Option<&str>,
) -> vipps_golive::simulator::SimResponse {
    let mut headers = h(&[("client_id", client_id), ("client_secret", secret)]);
    if let Some(k) = key {
        headers.extend(h(&[("Ocp-Apim-Subscription-Key", k)]));
    }
    sim.raw("POST", path, None, headers, "")
}

#[test]
fn token_response_has_every_field_as_a_string_and_a_jwt_matching_them() {
    let sim = Sim::new();
    let r = token_request(&sim, "/accesstoken/get", CLIENT_ID, SECRET, Some(KEY));
    assert_eq!(r.status, 200);
    let body = json_of(&r);
    for f in [
        "token_type",
        "expires_in",
        "ext_expires_in",
        "expires_on",
        "not_before",
        "resource",
        "access_token",
    ] {
        assert!(body[f].is_string(), "{f} must be a JSON string: {body}");
    }
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], "3600");
    let jwt = body["access_token"].as_str().unwrap();
    assert_eq!(jwt.split('.').count(), 3);
    let claims = peek_claims(jwt).unwrap();
    assert_eq!(
        claims["exp"].to_string(),
        body["expires_on"].as_str().unwrap()
    );
    assert_eq!(
        claims["nbf"].to_string(),
        body["not_before"].as_str().unwrap()
    );
}

#[test]
fn token_path_is_matched_case_insensitively() {
    let sim = Sim::new();
    let r = token_request(&sim, "/accessToken/get", CLIENT_ID, SECRET, Some(KEY));
    assert_eq!(r.status, 200);
}

#[test]
fn token_lifetime_follows_the_virtual_clock() {
    let sim = Sim::new();
    sim.advance(86_400);
    let r = token_request(&sim, "/accesstoken/get", CLIENT_ID, SECRET, Some(KEY));
    let nbf: i64 = json_of(&r)["not_before"].as_str().unwrap().parse().unwrap();
    let real_now = chrono::Utc::now().timestamp();
    assert!(
        nbf >= real_now + 86_000,
        "not_before must be on the virtual clock"
    );
}

#[test]
fn unknown_client_id_gets_the_aad_400() {
    let sim = Sim::new();
    let r = token_request(&sim, "/accesstoken/get", "nobody", SECRET, Some(KEY));
    assert_eq!(r.status, 400);
    let b = json_of(&r);
    assert_eq!(b["error"], "unauthorized_client");
    assert_eq!(b["error_codes"][0], 700016);
    assert!(b["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS700016"));
}

#[test]
fn wrong_client_secret_gets_the_aad_401_without_echoing_the_secret() {
    let sim = Sim::new();
    let r = token_request(
        &sim,
        "/accesstoken/get",
        CLIENT_ID,
        "wrong-secret-xyz",
        Some(KEY),
    );
    assert_eq!(r.status, 401);
    let b = json_of(&r);
    assert_eq!(b["error"], "invalid_client");
    assert_eq!(b["error_codes"][0], 7000215);
    assert!(!String::from_utf8_lossy(&r.body).contains("wrong-secret-xyz"));
}

#[test]
fn missing_and_wrong_subscription_keys_get_the_gateway_401s() {
    let sim = Sim::new();
    let missing = token_request(&sim, "/accesstoken/get", CLIENT_ID, SECRET, None);
    assert_eq!(missing.status, 401);
    assert_eq!(json_of(&missing)["statusCode"], 401);
    assert!(json_of(&missing)["message"]
        .as_str()
        .unwrap()
        .starts_with("Access denied due to missing subscription key"));
    let wrong = token_request(&sim, "/accesstoken/get", CLIENT_ID, SECRET, Some("nope"));
    assert_eq!(wrong.status, 401);
    assert!(json_of(&wrong)["message"]
        .as_str()
        .unwrap()
        .starts_with("Access denied due to invalid subscription key"));
}

#[test]
fn token_endpoint_refuses_get_with_405() {
    let sim = Sim::new();
    let r = sim.raw("GET", "/accesstoken/get", None, Vec::new(), "");
    assert_eq!(r.status, 405);
}

#[test]
fn a_valid_token_opens_the_api() {
    let sim = Sim::new();
    sim.create("auth-ok-0001", 1000);
}

#[test]
fn missing_bearer_gets_a_gateway_401() {
    let sim = Sim::new();
    let headers = h(&[
        ("Ocp-Apim-Subscription-Key", KEY),
        ("Merchant-Serial-Number", MSN),
    ]);
    let r = sim.raw("GET", "/epayment/v1/payments/abcdefgh-1", None, headers, "");
    assert_eq!(r.status, 401);
    assert_eq!(json_of(&r)["statusCode"], 401);
}

#[test]
fn lowercase_bearer_scheme_is_refused() {
    let sim = Sim::new();
    let headers = h(&[
        ("Authorization", &format!("bearer {}", sim.token)),
        ("Ocp-Apim-Subscription-Key", KEY),
        ("Merchant-Serial-Number", MSN),
    ]);
    let r = sim.raw("GET", "/epayment/v1/payments/abcdefgh-1", None, headers, "");
    assert_eq!(r.status, 401);
}

#[test]
fn forged_token_is_refused() {
    let sim = Sim::new();
    let other = Sim::new();
    let headers = h(&[
        ("Authorization", &format!("Bearer {}", other.token)),
        ("Ocp-Apim-Subscription-Key", KEY),
        ("Merchant-Serial-Number", MSN),
    ]);
    let r = sim.raw("GET", "/epayment/v1/payments/abcdefgh-1", None, headers, "");
    assert_eq!(r.status, 401);
}

#[test]
fn token_expires_after_its_lifetime_on_the_virtual_clock() {
    let sim = Sim::new();
    sim.create("expiring-0001", 1000);
    sim.advance(3599);
    let ok = sim.call("GET", "/epayment/v1/payments/expiring-0001", None, "");
    assert_eq!(ok.status, 200);
    sim.advance(2);
    let r = sim.call("GET", "/epayment/v1/payments/expiring-0001", None, "");
    assert_eq!(r.status, 401);
    assert_eq!(
        json_of(&r)["message"],
        "Something went wrong, please try again later"
    );
    assert!(r.header("www-authenticate").unwrap().contains("expired"));
}

#[test]
fn token_used_with_another_accounts_subscription_key_is_refused() {
    let sim = Sim::new();
    let headers = h(&[
        ("Authorization", &format!("Bearer {}", sim.token)),
        ("Ocp-Apim-Subscription-Key", "sim-subscription-key-654321"),
        ("Merchant-Serial-Number", "654321"),
    ]);
    let r = sim.raw("GET", "/epayment/v1/payments/abcdefgh-1", None, headers, "");
    assert_eq!(r.status, 401);
}

#[test]
fn foreign_msn_gets_403_invalid_msn() {
    let sim = Sim::new();
    let mut headers = sim.auth(&[]);
    headers.retain(|(k, _)| k != "Merchant-Serial-Number");
    headers.extend(h(&[("Merchant-Serial-Number", "654321")]));
    let r = sim.raw("GET", "/epayment/v1/payments/abcdefgh-1", None, headers, "");
    assert_eq!(r.status, 403);
    assert_eq!(json_of(&r)["title"], "Invalid MSN");
}

#[test]
fn missing_msn_is_a_400_naming_the_header() {
    let sim = Sim::new();
    let mut headers = sim.auth(&[]);
    headers.retain(|(k, _)| k != "Merchant-Serial-Number");
    let r = sim.raw("GET", "/epayment/v1/payments/abcdefgh-1", None, headers, "");
    assert_eq!(r.status, 400);
    assert_eq!(fields(&r), vec!["Merchant-Serial-Number".to_owned()]);
}

#[test]
fn routes_authenticate_is_usable_by_other_apis() {
    let sim = Sim::new();
    let req = vipps_golive::simulator::SimRequest::new(
        "GET",
        "/webhooks/v1/webhooks",
        None,
        sim.auth(&[]),
        "",
    );
    let p = sim
        .sim
        .with_engine(|e| vipps_golive::simulator::routes::authenticate(e, &req))
        .unwrap();
    assert_eq!(p.msn, MSN);
    assert_eq!(p.subscription_key, KEY);
}

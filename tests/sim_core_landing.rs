//! The landing page and QR images (issue 3 point 7).

use crate::sim_core_support;

use serde_json::json;
use sim_core_support::*;
use vipps_golive::simulator::SimResponse;

fn landing_parts(redirect: &str) -> (String, String) {
    let url = url::Url::parse(redirect).unwrap();
    (url.path().to_owned(), url.query().unwrap().to_owned())
}

fn create_web(sim: &Sim, reference: &str, description: &str) -> (String, String) {
    let mut body = Sim::create_body(reference, 24900);
    body["paymentDescription"] = description.into();
    let r = sim.create_with(&body, &format!("k-{reference}"));
    assert_eq!(r.status, 201);
    landing_parts(json_of(&r)["redirectUrl"].as_str().unwrap())
}

fn html(r: &SimResponse) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

#[test]
fn landing_page_shows_merchant_amount_description_reference_and_two_forms_buttons() {
    let sim = Sim::new();
    let (path, query) = create_web(&sim, "landing-0001", "Two mugs");
    let r = sim.raw("GET", &path, Some(&query), Vec::new(), "");
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let page = html(&r);
    assert!(page.contains("Golive Test Shop"));
    assert!(page.contains("249,00 NOK"));
    assert!(page.contains("Two mugs"));
    assert!(page.contains("landing-0001"));
    assert!(page.contains("method=\"post\""));
    assert!(page.contains("value=\"approve\"") && page.contains("value=\"reject\""));
    // Works with scripts off and loads nothing from elsewhere.
    assert!(!page.contains("<script"));
    assert!(!page.contains("src=\"http"));
    assert!(!page.contains("href=\"http"));
}

#[test]
fn landing_page_escapes_user_text() {
    let sim = Sim::new();
    let (path, query) = create_web(&sim, "landing-0002", "<script>alert(1)</script>");
    let page = html(&sim.raw("GET", &path, Some(&query), Vec::new(), ""));
    assert!(!page.contains("<script>alert"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[test]
fn approving_on_the_landing_page_authorizes_and_redirects_to_return_url() {
    let sim = Sim::new();
    let (path, query) = create_web(&sim, "landing-0003", "Two mugs");
    let r = sim.raw(
        "POST",
        &path,
        Some(&query),
        h(&[("Content-Type", "application/x-www-form-urlencoded")]),
        "action=approve",
    );
    assert_eq!(r.status, 303);
    assert_eq!(
        r.header("location"),
        Some("https://shop.example/return?ref=x")
    );
    assert_eq!(sim.get("landing-0003")["state"], "AUTHORIZED");
    assert_eq!(
        sim.events("landing-0003").last().unwrap()["name"],
        "AUTHORIZED"
    );
}

#[test]
fn rejecting_on_the_landing_page_aborts_and_redirects_to_return_url() {
    let sim = Sim::new();
    let (path, query) = create_web(&sim, "landing-0004", "Two mugs");
    let r = sim.raw("POST", &path, Some(&query), Vec::new(), "action=reject");
    assert_eq!(r.status, 303);
    assert_eq!(sim.get("landing-0004")["state"], "ABORTED");
}

#[test]
fn landing_page_of_an_expired_payment_says_so() {
    let sim = Sim::new();
    let (path, query) = create_web(&sim, "landing-0005", "Two mugs");
    sim.advance(601);
    let r = sim.raw("GET", &path, Some(&query), Vec::new(), "");
    assert_eq!(r.status, 410);
    assert!(html(&r).contains("expired"));
    let r = sim.raw("POST", &path, Some(&query), Vec::new(), "action=approve");
    assert_eq!(r.status, 410);
    assert_eq!(sim.get("landing-0005")["state"], "EXPIRED");
}

#[test]
fn landing_page_with_an_unknown_token_is_a_clear_error_page() {
    let sim = Sim::new();
    let r = sim.raw(
        "GET",
        "/dwo-api-application/v1/deeplink/vippsgateway",
        Some("v=2&token=eyJhbGciOiJIUzI1NiJ9.e30.bogus"),
        Vec::new(),
        "",
    );
    assert_eq!(r.status, 404);
    assert!(html(&r).contains("not valid"));
}

#[test]
fn qr_url_serves_an_svg() {
    let sim = Sim::new();
    let mut body = Sim::create_body("qr-image-0001", 1000);
    body["userFlow"] = "QR".into();
    let r = sim.create_with(&body, "k");
    let (path, query) = landing_parts(json_of(&r)["redirectUrl"].as_str().unwrap());
    let img = sim.raw("GET", &path, Some(&query), Vec::new(), "");
    assert_eq!(img.status, 200);
    assert_eq!(img.header("content-type"), Some("image/svg+xml"));
    assert!(html(&img).contains("<svg"));
}

#[test]
fn qr_with_image_png_serves_a_png_of_about_the_requested_size() {
    let sim = Sim::new();
    let mut body = Sim::create_body("qr-image-0002", 1000);
    body["userFlow"] = "QR".into();
    body["qrFormat"] = json!({"format": "IMAGE/PNG", "size": 400});
    let r = sim.create_with(&body, "k");
    assert_eq!(r.status, 201);
    let (path, query) = landing_parts(json_of(&r)["redirectUrl"].as_str().unwrap());
    let img = sim.raw("GET", &path, Some(&query), Vec::new(), "");
    assert_eq!(img.header("content-type"), Some("image/png"));
    assert_eq!(&img.body[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(img.body[16..20].try_into().unwrap());
    assert!((200..=400).contains(&width), "width {width}");
}

//! The landing page a WEB_REDIRECT payment opens (approve / reject with plain
//! HTML forms, no scripts, no external resources) and the QR images of QR payments.

use std::fmt::Write as _;

use crate::domain::text::escape_html;

use super::ledger::{EventName, Payment, State};
use super::routes::{LANDING_PATH, QR_PATH};
use super::{Engine, SimRequest, SimResponse};

/// Serves the landing page and QR image paths; `None` for every other path.
pub fn handle(engine: &mut Engine, req: &SimRequest) -> Option<SimResponse> {
    // Cheap first test: this runs before every other route.
    let path = req.path.as_str();
    if path.eq_ignore_ascii_case(LANDING_PATH) {
        return Some(match req.method.as_str() {
            "GET" | "HEAD" => page(engine, req),
            "POST" => decide(engine, req),
            _ => super::problem::method_not_allowed(req, "GET, POST"),
        });
    }
    if path.eq_ignore_ascii_case(QR_PATH) {
        return Some(match req.method.as_str() {
            "GET" | "HEAD" => qr(engine, req),
            _ => super::problem::method_not_allowed(req, "GET"),
        });
    }
    None
}

/// `24900` NOK -> `249,00 NOK` (Norwegian style, space as thousands separator).
pub(crate) fn format_amount(value: i64, currency: &str) -> String {
    let major = (value / 100).abs();
    let minor = (value % 100).abs();
    let digits = major.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    let sign = if value < 0 { "-" } else { "" };
    format!("{sign}{grouped},{minor:02} {currency}")
}

fn shell(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{}</title><style>\
body{{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;color:#222}}\
.card{{border:1px solid #ddd;border-radius:8px;padding:1.25rem}}\
.amount{{font-size:1.8rem;font-weight:700;margin:.5rem 0}}\
button{{font-size:1.1rem;padding:.6rem 1.4rem;margin:.4rem .4rem 0 0;border-radius:6px;border:1px solid #888;cursor:pointer}}\
.approve{{background:#ff5b24;color:#fff;border-color:#ff5b24}}\
.note{{color:#666;font-size:.85rem}}</style></head>\
<body><p class=\"note\">Vipps MobilePay simulator (vipps-golive): test landing page</p>{body}</body></html>\n",
        escape_html(title)
    )
}

fn error_page(status: u16, title: &str, message: &str) -> SimResponse {
    let body = format!(
        "<div class=\"card\"><h1>{}</h1><p>{}</p></div>",
        escape_html(title),
        escape_html(message)
    );
    SimResponse::html(status, shell(title, &body))
}

fn merchant_name<'a>(engine: &'a Engine, msn: &str) -> &'a str {
    engine
        .config
        .accounts
        .iter()
        .find(|a| a.msn == msn)
        .map(|a| a.merchant_name.as_str())
        .unwrap_or("Unknown merchant")
}

/// The payment behind the `token` of the request (query, or form body on POST).
fn lookup<'a>(engine: &'a Engine, token: &str) -> Result<(&'a str, &'a Payment), SimResponse> {
    let unknown = || {
        error_page(
            404,
            "Payment link not valid",
            "This payment link is unknown or no longer valid. Go back to the shop and start the payment again.",
        )
    };
    let claims = engine.auth.read_payment_token(token).ok_or_else(unknown)?;
    let p = engine
        .ledger
        .find_by_token(&claims.msn, &claims.reference, token)
        .ok_or_else(unknown)?;
    let msn = engine
        .config
        .accounts
        .iter()
        .find(|a| a.msn == claims.msn)
        .map(|a| a.msn.as_str())
        .unwrap_or("");
    Ok((msn, p))
}

/// The landing page can be used for 5 minutes after creation (behaviour.md
/// §8; `LedgerOptions::landing_window`). After that the link is dead although
/// the payment stays CREATED until it expires.
fn window_closed(engine: &Engine, p: &Payment) -> Option<SimResponse> {
    let closes = p.created_at + engine.ledger.options.landing_window;
    (engine.now() > closes).then(|| {
        error_page(
            410,
            "Payment link expired",
            "This payment link was valid for 5 minutes and has expired. Go back to the shop and start the payment again.",
        )
    })
}

fn not_open(p: &Payment) -> SimResponse {
    let msg = match p.state {
        State::Expired => {
            "This payment has expired. Go back to the shop and start again.".to_owned()
        }
        State::Authorized => "This payment has already been approved.".to_owned(),
        State::Aborted => "This payment was rejected.".to_owned(),
        State::Terminated => "The shop cancelled this payment.".to_owned(),
        State::Created => String::new(),
    };
    error_page(
        410,
        &format!("Payment {}", p.state.as_str().to_ascii_lowercase()),
        &msg,
    )
}

fn page(engine: &Engine, req: &SimRequest) -> SimResponse {
    let token = req.query_param("token").unwrap_or_default();
    let (msn, p) = match lookup(engine, &token) {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    if p.state != State::Created {
        return not_open(p);
    }
    if let Some(resp) = window_closed(engine, p) {
        return resp;
    }
    let mut body = String::with_capacity(2048);
    let _ = write!(
        body,
        "<div class=\"card\"><h1>{}</h1><div class=\"amount\">{}</div>",
        escape_html(merchant_name(engine, msn)),
        escape_html(&format_amount(p.amount.value, p.amount.currency.as_str()))
    );
    if let Some(d) = &p.description {
        let _ = write!(body, "<p>{}</p>", escape_html(d));
    }
    let _ = write!(
        body,
        "<p class=\"note\">Reference: {}</p>\
<form method=\"post\" action=\"{}?v=2&amp;token={}\">\
<button class=\"approve\" type=\"submit\" name=\"action\" value=\"approve\">Approve</button>\
<button type=\"submit\" name=\"action\" value=\"reject\">Reject</button>\
</form></div>",
        escape_html(&p.reference),
        LANDING_PATH,
        escape_html(&token)
    );
    SimResponse::html(200, shell("Pay with Vipps MobilePay", &body))
}

fn decide(engine: &mut Engine, req: &SimRequest) -> SimResponse {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let token = req
        .query_param("token")
        .or_else(|| field("token"))
        .unwrap_or_default();
    let (msn, reference, return_url) = match lookup(engine, &token) {
        Ok((msn, p)) => {
            if p.state != State::Created {
                return not_open(p);
            }
            if let Some(resp) = window_closed(engine, p) {
                return resp;
            }
            if field("action").as_deref() == Some("approve") && engine.ledger.rules.special_amounts
            {
                if let Some(result) = super::ledger::special_amount_result(p.amount.value) {
                    // The card is refused; the payment stays CREATED (the customer
                    // may give up: it then expires), as in the test environment.
                    return error_page(
                        402,
                        "Payment failed",
                        &format!("{result} (test amount {} øre, behaviour.md §14). The payment was not approved.", p.amount.value),
                    );
                }
            }
            (
                msn.to_owned(),
                p.reference.to_string(),
                p.return_url.as_deref().map(str::to_owned),
            )
        }
        Err(resp) => return resp,
    };
    let now = engine.now();
    let result = match field("action").as_deref() {
        Some("approve") => engine
            .ledger
            .authorize(&msn, &reference, now, &mut engine.outbox),
        Some("reject") => engine.ledger.finish_unapproved(
            &msn,
            &reference,
            EventName::Aborted,
            now,
            &mut engine.outbox,
        ),
        _ => {
            return error_page(
                400,
                "Unknown action",
                "The form must send action=approve or action=reject.",
            )
        }
    };
    if let Err(e) = result {
        return error_page(409, e.title, &e.detail);
    }
    match return_url {
        Some(u) => SimResponse::see_other(&u),
        None => error_page(
            200,
            "Done",
            "You can close this page and go back to the shop.",
        ),
    }
}

fn qr(engine: &Engine, req: &SimRequest) -> SimResponse {
    let token = req.query_param("token").unwrap_or_default();
    let p = match lookup(engine, &token) {
        Ok((_, p)) => p,
        Err(resp) => return resp,
    };
    let target = format!("{}{LANDING_PATH}?v=2&token={token}", engine.base_url);
    let Ok(code) = qrcode::QrCode::new(target.as_bytes()) else {
        return error_page(500, "QR failed", "The QR code could not be drawn.");
    };
    match p.qr_png_size {
        Some(size) => match qr_png(&code, size) {
            Ok(body) => SimResponse {
                status: 200,
                headers: vec![("content-type".into(), "image/png".into())],
                body,
            },
            Err(_) => error_page(500, "QR failed", "The QR code could not be drawn."),
        },
        None => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(256, 256)
                .build();
            SimResponse {
                status: 200,
                headers: vec![("content-type".into(), "image/svg+xml".into())],
                body: svg.into_bytes(),
            }
        }
    }
}

/// A grayscale PNG of `code` with its quiet zone, about `size` pixels wide
/// (whole pixels per module, so never wider than `size` unless the code
/// itself is).
fn qr_png(code: &qrcode::QrCode, size: u32) -> Result<Vec<u8>, png::EncodingError> {
    let modules = code.width();
    let colors = code.to_colors();
    let quiet = 4usize;
    let total = modules + 2 * quiet;
    let scale = (size as usize / total).max(1);
    let px = total * scale;
    let mut pixels = Vec::with_capacity(px * px);
    for y in 0..px {
        let my = y / scale;
        for x in 0..px {
            let mx = x / scale;
            let dark = (quiet..quiet + modules).contains(&my)
                && (quiet..quiet + modules).contains(&mx)
                && colors[(my - quiet) * modules + (mx - quiet)] == qrcode::Color::Dark;
            pixels.push(if dark { 0 } else { 255 });
        }
    }
    let side = u32::try_from(px).map_err(|_| png::EncodingError::LimitsExceeded)?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_formatted_the_norwegian_way() {
        assert_eq!(format_amount(24900, "NOK"), "249,00 NOK");
        assert_eq!(format_amount(123456789, "NOK"), "1 234 567,89 NOK");
        assert_eq!(format_amount(5, "EUR"), "0,05 EUR");
    }

    #[test]
    fn png_decodes_to_the_code_with_its_quiet_zone() {
        let code = qrcode::QrCode::new(b"https://example.com/x").unwrap();
        let img = qr_png(&code, 300).unwrap();
        if let Ok(path) = std::env::var("SIM_PNG_OUT") {
            std::fs::write(path, &img).unwrap();
        }
        let mut reader = ::png::Decoder::new(img.as_slice()).read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size()];
        let frame = reader.next_frame(&mut pixels).unwrap();
        assert_eq!(frame.color_type, ::png::ColorType::Grayscale);
        assert_eq!(frame.bit_depth, ::png::BitDepth::Eight);
        // The modules and 4 of quiet zone on each side, whole pixels each.
        let total = code.width() + 8;
        let scale = 300 / total;
        let side = total * scale;
        assert_eq!((frame.width, frame.height), (side as u32, side as u32));
        // The centre pixel of module (x, y), the quiet zone counted.
        let at =
            |x: usize, y: usize| pixels[(y * scale + scale / 2) * side + x * scale + scale / 2];
        assert_eq!(at(1, 1), 255, "the quiet zone is light");
        // The top-left finder pattern: a dark ring, a light ring, a dark centre.
        assert_eq!(at(4, 4), 0);
        assert_eq!(at(5, 5), 255);
        assert_eq!(at(7, 7), 0);
    }
}

//! The landing page a WEB_REDIRECT payment opens (approve / reject with plain
//! HTML forms, no scripts, no external resources) and the QR images of QR payments.

use std::fmt::Write as _;

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

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `24900` NOK -> `249,00 NOK` (Norwegian style, space as thousands separator).
pub fn format_amount(value: i64, currency: &str) -> String {
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
        escape(title)
    )
}

fn error_page(status: u16, title: &str, message: &str) -> SimResponse {
    let body = format!(
        "<div class=\"card\"><h1>{}</h1><p>{}</p></div>",
        escape(title),
        escape(message)
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
        escape(merchant_name(engine, msn)),
        escape(&format_amount(p.amount.value, p.amount.currency.as_str()))
    );
    if let Some(d) = &p.description {
        let _ = write!(body, "<p>{}</p>", escape(d));
    }
    let _ = write!(
        body,
        "<p class=\"note\">Reference: {}</p>\
<form method=\"post\" action=\"{}?v=2&amp;token={}\">\
<button class=\"approve\" type=\"submit\" name=\"action\" value=\"approve\">Approve</button>\
<button type=\"submit\" name=\"action\" value=\"reject\">Reject</button>\
</form></div>",
        escape(&p.reference),
        LANDING_PATH,
        escape(&token)
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
        Some(size) => SimResponse {
            status: 200,
            headers: vec![("content-type".into(), "image/png".into())],
            body: png(&code, size),
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

/// A grayscale PNG of `code`, about `size` pixels wide (uncompressed deflate: small code, no dependency).
pub fn png(code: &qrcode::QrCode, size: u32) -> Vec<u8> {
    let modules = code.width();
    let colors = code.to_colors();
    let quiet = 4usize;
    let total = modules + 2 * quiet;
    let scale = (size as usize / total).max(1);
    let px = total * scale;
    // Raw scanlines: filter byte 0, then one gray byte per pixel.
    let mut raw = Vec::with_capacity((px + 1) * px);
    for y in 0..px {
        raw.push(0u8);
        let my = y / scale;
        for x in 0..px {
            let mx = x / scale;
            let dark = my >= quiet
                && mx >= quiet
                && my < quiet + modules
                && mx < quiet + modules
                && colors[(my - quiet) * modules + (mx - quiet)] == qrcode::Color::Dark;
            raw.push(if dark { 0 } else { 255 });
        }
    }
    // zlib stream of stored blocks.
    let mut z = vec![0x78, 0x01];
    let mut chunks = raw.chunks(65_535).peekable();
    while let Some(chunk) = chunks.next() {
        z.push(u8::from(chunks.peek().is_none()));
        let len = chunk.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(chunk);
    }
    z.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut out = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&(px as u32).to_be_bytes());
    ihdr.extend_from_slice(&(px as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grayscale
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finish().to_be_bytes());
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= 65_521;
        b %= 65_521;
    }
    (b << 16) | a
}

struct Crc(u32);

impl Crc {
    fn new() -> Self {
        Crc(0xffff_ffff)
    }
    fn update(&mut self, data: &[u8]) {
        for &byte in data {
            self.0 ^= u32::from(byte);
            for _ in 0..8 {
                let mask = (self.0 & 1).wrapping_neg();
                self.0 = (self.0 >> 1) ^ (0xedb8_8320 & mask);
            }
        }
    }
    fn finish(&self) -> u32 {
        !self.0
    }
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
    fn html_special_characters_are_escaped() {
        assert_eq!(
            escape("<script>\"x\"&'y'</script>"),
            "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn png_is_well_formed_with_a_valid_zlib_stream() {
        let code = qrcode::QrCode::new(b"https://example.com/x").unwrap();
        let img = png(&code, 300);
        if let Ok(path) = std::env::var("SIM_PNG_OUT") {
            std::fs::write(path, &img).unwrap();
        }
        assert_eq!(&img[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&img[12..16], b"IHDR");
        assert_eq!(&img[img.len() - 8..img.len() - 4], b"IEND");
    }

    #[test]
    fn crc_matches_the_png_reference_value() {
        let mut c = Crc::new();
        c.update(b"IEND");
        assert_eq!(c.finish(), 0xae42_6082);
    }
}

//! Order Management (behaviour.md §10): images, receipts (once only),
//! categories (upsert) and reading an order back, kept per MSN.
//!
//! No check that the payment exists (§10.1): data may come before or after it.
//! Errors use the Order Management shape of §10.4 (`invalidParams`), never 500.

use std::collections::{HashMap, HashSet};

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::{problem, routes, validate, Engine, SimConfig, SimRequest, SimResponse};

/// Largest decoded image (§10.2: 2 MB).
pub(crate) const MAX_IMAGE_BYTES: usize = 2 * 1024 * 1024;

/// The request body limit for image uploads: a 2 MB image is about 2.7 MB of
/// base64, so the general 1 MB limit would refuse images the real API takes.
pub(crate) const IMAGE_BODY_LIMIT: usize = 3 * 1024 * 1024;

/// The body limit that applies to `path` (adapters check it before reading the body).
pub(crate) fn body_limit(config: &SimConfig, path: &str) -> usize {
    if path.eq_ignore_ascii_case("/order-management/v1/images") {
        config.max_body_bytes.max(IMAGE_BODY_LIMIT)
    } else {
        config.max_body_bytes
    }
}

/// Category and receipt of one order.
#[derive(Debug, Default, Clone)]
struct Order {
    category: Option<Value>,
    receipt: Option<Value>,
}

/// Order Management state, per MSN.
#[derive(Debug, Default)]
pub struct Orders {
    /// (msn, imageId) of every uploaded image: nothing reads an image back,
    /// so only its id is kept.
    images: HashSet<(String, String)>,
    /// (msn, PAYMENTTYPE, orderId)
    orders: HashMap<(String, String, String), Order>,
    /// v3 categories: (msn, categoryId) -> the Category as GET shows it.
    categories: HashMap<(String, String), Value>,
    /// OPEN(§10.3): whether a category's `imageId` must name an uploaded image.
    /// Chose yes (404, the status PUT categories declares although orders are
    /// never checked), because a category pointing at nothing is a shop bug.
    pub require_known_image: bool,
}

impl Orders {
    pub fn new(_config: &SimConfig) -> Self {
        Orders {
            require_known_image: true,
            ..Orders::default()
        }
    }
}

/// Everything under `/order-management/`.
pub fn handle(engine: &mut Engine, req: &SimRequest) -> SimResponse {
    let principal = match routes::authenticate(engine, req) {
        Ok(p) => p,
        Err(resp) => return om_shaped(resp),
    };
    // The Order Management spec declares the Vipps-System-* headers on every
    // operation, `maxLength: 100` (found by Schemathesis; issue 23 point 4).
    if let Err(r) = validate::system_headers_at_most(req, 100) {
        return om_shaped(r.respond(req));
    }
    om_shaped(handle_for(&mut engine.orders, req, &principal.msn))
}

/// Turns an ePayment-shaped Problem (`application/problem+json`, `extraDetails`)
/// into the Order Management ErrorResponse (`application/json`,
/// `invalidParams`), which is what the Order Management spec declares for its
/// errors (issue 14 point 8). Gateway 401s (`{statusCode, message}`) stay as
/// they are: the gateway answers before the Order Management backend.
fn om_shaped(resp: SimResponse) -> SimResponse {
    let is_problem = resp
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/problem"));
    if !is_problem {
        return resp;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&resp.body) else {
        return resp;
    };
    let text = |k: &str| body[k].as_str().unwrap_or("").to_owned();
    let invalid: Vec<(String, String)> = body["extraDetails"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|e| e["name"] != "ErrorCode")
                .map(|e| {
                    (
                        e["name"].as_str().unwrap_or("").to_owned(),
                        e["reason"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let kind = match resp.status {
        400 => "https://datatracker.ietf.org/doc/html/rfc7231#section-6.5.1",
        403 => "https://datatracker.ietf.org/doc/html/rfc7231#section-6.5.3",
        404 => "https://datatracker.ietf.org/doc/html/rfc7231#section-6.5.4",
        405 => "https://datatracker.ietf.org/doc/html/rfc7231#section-6.5.5",
        _ => "https://datatracker.ietf.org/doc/html/rfc7231",
    };
    let mut out = om_error(resp.status, kind, &text("title"), &text("detail"), invalid);
    // Keep the headers that are not about the body (Allow on a 405).
    for (k, v) in resp.headers {
        if !k.eq_ignore_ascii_case("content-type") {
            out.headers.push((k, v));
        }
    }
    out
}

/// The routes, for an already authenticated `msn`.
pub fn handle_for(orders: &mut Orders, req: &SimRequest, msn: &str) -> SimResponse {
    let segs = req.segments();
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    match l.as_slice() {
        ["order-management", "v1", "images"] => match req.method.as_str() {
            "POST" => upload_image(orders, req, msn),
            _ => problem::method_not_allowed(req, "POST"),
        },
        ["order-management", "v2", _, "receipts", _] => match req.method.as_str() {
            "POST" => with_order(segs[2], segs[4], |pt, id| {
                add_receipt(orders, req, msn, pt, id)
            }),
            _ => problem::method_not_allowed(req, "POST"),
        },
        ["order-management", "v2", _, "categories", _] => match req.method.as_str() {
            "PUT" => with_order(segs[2], segs[4], |pt, id| {
                put_category(orders, req, msn, pt, id)
            }),
            _ => problem::method_not_allowed(req, "PUT"),
        },
        ["order-management", "v2", _, _] => match req.method.as_str() {
            "GET" => with_order(segs[2], segs[3], |pt, id| get_order(orders, msn, pt, id)),
            _ => problem::method_not_allowed(req, "GET"),
        },
        ["order-management", "v3", "categories"] => match req.method.as_str() {
            "POST" => add_category_v3(orders, req, msn),
            "GET" => list_categories_v3(orders, req, msn),
            _ => problem::method_not_allowed(req, "GET, POST"),
        },
        ["order-management", "v3", "categories", _] => {
            let id = segs[3].to_ascii_lowercase();
            let key = (msn.to_owned(), id.clone());
            match req.method.as_str() {
                "GET" => match orders.categories.get(&key) {
                    Some(c) => SimResponse::json(200, c),
                    None => not_found(&format!("No category with id '{id}'.")),
                },
                "DELETE" => match orders.categories.remove(&key) {
                    Some(_) => SimResponse::empty(200),
                    None => not_found(&format!("No category with id '{id}'.")),
                },
                _ => problem::method_not_allowed(req, "GET, DELETE"),
            }
        }
        _ => problem::not_found(req),
    }
}

/// Checks `paymentType` (any casing, §10.1) and `orderId`, then runs `f` with the
/// upper-cased payment type.
fn with_order(
    payment_type: &str,
    order_id: &str,
    f: impl FnOnce(&str, &str) -> SimResponse,
) -> SimResponse {
    let mut v = Errors::default();
    let pt = payment_type.to_ascii_uppercase();
    if pt != "ECOM" && pt != "RECURRING" {
        v.add(
            "paymentType",
            format!(
                "The value '{payment_type}' is not valid for PaymentType; use ECOM or RECURRING."
            ),
        );
    }
    if !valid_id(order_id) {
        v.add(
            "orderId",
            "The field orderId must match the regular expression '^[0-9A-Za-z-_\\.]+$'.".into(),
        );
    }
    if !v.is_empty() {
        return v.response();
    }
    f(&pt, order_id)
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

fn upload_image(orders: &mut Orders, req: &SimRequest, msn: &str) -> SimResponse {
    let body = match parse_object(req) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let mut v = Errors::default();
    let image_id = v.string(&body, "imageId", "ImageId", true);
    if let Some(id) = &image_id {
        if id.len() > 128 {
            v.add(
                "ImageId",
                "The field ImageId must be a string with a maximum length of 128.".into(),
            );
        } else if !valid_id(id) {
            v.add(
                "ImageId",
                "The field ImageId must match the regular expression '^[0-9A-Za-z-_\\.]+$'.".into(),
            );
        }
    }
    match v.string(&body, "type", "Type", true).as_deref() {
        Some("base64") | None => {}
        Some(other) => v.add(
            "Type",
            format!("The value '{other}' is not valid for Type; only 'base64' is accepted."),
        ),
    }
    if let Some(src) = v.string(&body, "src", "Src", true) {
        match decode_base64(&src) {
            None => v.add(
                "Src",
                "The field Src must be base64-encoded image data.".into(),
            ),
            Some(bytes) if bytes.len() > MAX_IMAGE_BYTES => v.add(
                "Src",
                format!("The image is {} bytes; the maximum is 2 MB.", bytes.len()),
            ),
            Some(bytes) if !is_png_or_jpeg(&bytes) => {
                v.add("Src", "The image must be in PNG or JPEG format.".into())
            }
            // OM spec (v2.1 and 2.3.24), `Image.src`: "Minimum height is
            // 167px, and max file size is 2MB" (issue 23, deviation 3).
            Some(bytes) => match image_height(&bytes) {
                None => v.add(
                    "Src",
                    "The image's height cannot be read: the PNG or JPEG header is incomplete."
                        .into(),
                ),
                Some(h) if h < MIN_IMAGE_HEIGHT => v.add(
                    "Src",
                    format!(
                        "The image is {h} px high; the minimum height is {MIN_IMAGE_HEIGHT} px."
                    ),
                ),
                Some(_) => {}
            },
        }
    }
    if !v.is_empty() {
        return v.response();
    }
    let Some(image_id) = image_id else {
        return v.response();
    };
    let key = (msn.to_owned(), image_id.clone());
    if orders.images.contains(&key) {
        // OPEN(§16.16): images are immutable; 409 presumed for a second upload.
        return conflict(&format!(
            "An image with id '{image_id}' already exists; images cannot be overwritten."
        ));
    }
    orders.images.insert(key);
    SimResponse::json(200, &json!({ "imageId": image_id }))
}

fn decode_base64(src: &str) -> Option<Vec<u8>> {
    let b = base64::engine::general_purpose::STANDARD;
    let nopad = base64::engine::general_purpose::STANDARD_NO_PAD;
    b.decode(src.trim())
        .or_else(|_| nopad.decode(src.trim()))
        .ok()
}

/// Smallest image height Order Management takes (OM spec, `Image.src`).
const MIN_IMAGE_HEIGHT: u32 = 167;

/// The height in pixels a PNG (its IHDR chunk) or JPEG (its first SOF
/// segment) declares; `None` when the header cannot be read.
fn image_height(bytes: &[u8]) -> Option<u32> {
    let be16 = |i: usize| Some(u16::from_be_bytes([*bytes.get(i)?, *bytes.get(i + 1)?]));
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        if bytes.get(12..16)? != b"IHDR" {
            return None;
        }
        return Some(u32::from_be_bytes(bytes.get(20..24)?.try_into().ok()?));
    }
    // JPEG: walk the segments after SOI to the first start-of-frame.
    let mut i = 2;
    loop {
        if *bytes.get(i)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(i + 1)?;
        match marker {
            0xFF => i += 1,
            0x01 | 0xD0..=0xD7 => i += 2,
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                return be16(i + 5).map(u32::from);
            }
            _ => i += 2 + usize::from(be16(i + 2)?),
        }
    }
}

fn is_png_or_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.starts_with(&[0xFF, 0xD8, 0xFF])
}

fn add_receipt(
    orders: &mut Orders,
    req: &SimRequest,
    msn: &str,
    payment_type: &str,
    order_id: &str,
) -> SimResponse {
    let body = match parse_object(req) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let mut v = Errors::default();
    validate_receipt(&body, &mut v);
    if !v.is_empty() {
        return v.response();
    }
    let key = (msn.to_owned(), payment_type.to_owned(), order_id.to_owned());
    let order = orders.orders.entry(key).or_default();
    if order.receipt.is_some() {
        // OPEN(§16.16): receipts are immutable and sent once; 409 presumed.
        return conflict(&format!(
            "A receipt for order '{order_id}' already exists; receipts cannot be changed."
        ));
    }
    order.receipt = Some(Value::Object(body));
    // The spec's 201 body is a bare JSON string id.
    SimResponse::json(201, &uuid::Uuid::new_v4().to_string())
}

fn put_category(
    orders: &mut Orders,
    req: &SimRequest,
    msn: &str,
    payment_type: &str,
    order_id: &str,
) -> SimResponse {
    let body = match parse_object(req) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let mut v = Errors::default();
    let category = v.category(&body, "category", "Category");
    let url = v.web_uri(&body, "orderDetailsUrl", "OrderDetailsUrl");
    let image_id = v.image_id(&body);
    if !v.is_empty() {
        return v.response();
    }
    if let Some(id) = &image_id {
        if orders.require_known_image && !orders.images.contains(&(msn.to_owned(), id.clone())) {
            return not_found(&format!(
                "No image with id '{id}' was uploaded (POST /order-management/v1/images first)."
            ));
        }
    }
    let mut stored = Map::new();
    stored.insert("category".into(), json!(category));
    stored.insert("orderDetailsUrl".into(), json!(url));
    if let Some(id) = image_id {
        stored.insert("imageId".into(), json!(id));
    }
    let key = (msn.to_owned(), payment_type.to_owned(), order_id.to_owned());
    // Upsert: the last one wins (§10.1), one category per order.
    orders.orders.entry(key).or_default().category = Some(Value::Object(stored));
    SimResponse::json(200, &uuid::Uuid::new_v4().to_string())
}

/// `POST /order-management/v3/categories` (spec v2.1, behaviour.md §10.1):
/// body `{orderId, paymentType, type, url, imageId?}`, 201 `{categoryId}`.
/// Unlike v2, an order may have several; each has its own id.
fn add_category_v3(orders: &mut Orders, req: &SimRequest, msn: &str) -> SimResponse {
    let body = match parse_object(req) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let mut v = Errors::default();
    let order_id = v.string(&body, "orderId", "OrderId", true);
    if let Some(o) = &order_id {
        if !valid_id(o) {
            v.add(
                "OrderId",
                "The field OrderId must match the regular expression '^[0-9A-Za-z-_\\.]+$'.".into(),
            );
        }
    }
    let payment_type = v.string(&body, "paymentType", "PaymentType", true);
    let payment_type = payment_type.and_then(|pt| {
        let up = pt.to_ascii_uppercase();
        if up == "ECOM" || up == "RECURRING" {
            Some(up)
        } else {
            v.add(
                "PaymentType",
                format!("The value '{pt}' is not valid for PaymentType; use ECOM or RECURRING."),
            );
            None
        }
    });
    let kind = v.category(&body, "type", "Type");
    let url = v.web_uri(&body, "url", "Url");
    // v3's AddCategoryRequest declares `imageId` a string, not nullable (v2's
    // Order says `nullable: true`): an explicit null is refused. Found by
    // Schemathesis; issue 23 point 4.
    if body.get("imageId").is_some_and(Value::is_null) {
        v.add("ImageId", "The ImageId field must be a string.".into());
    }
    let image_id = v.image_id(&body);
    if !v.is_empty() {
        return v.response();
    }
    if let Some(id) = &image_id {
        if orders.require_known_image && !orders.images.contains(&(msn.to_owned(), id.clone())) {
            // v3 declares no 404 on POST: an unknown image is a 400 here.
            let mut e = Errors::default();
            e.add(
                "ImageId",
                format!("No image with id '{id}' was uploaded (POST /order-management/v1/images first)."),
            );
            return e.response();
        }
    }
    let id = uuid::Uuid::new_v4().to_string();
    let mut c = Map::new();
    c.insert("categoryId".into(), json!(id));
    c.insert("orderId".into(), json!(order_id));
    c.insert("paymentType".into(), json!(payment_type));
    c.insert("type".into(), json!(kind));
    c.insert("url".into(), json!(url));
    if let Some(i) = image_id {
        c.insert("imageId".into(), json!(i));
    }
    orders
        .categories
        .insert((msn.to_owned(), id.clone()), Value::Object(c));
    SimResponse::json(201, &json!({ "categoryId": id }))
}

/// `GET /order-management/v3/categories?orderId=`: the categories of one order.
fn list_categories_v3(orders: &Orders, req: &SimRequest, msn: &str) -> SimResponse {
    let Some(order_id) = req.query_param("orderId").filter(|o| !o.is_empty()) else {
        let mut e = Errors::default();
        e.add("orderId", "The orderId query parameter is required.".into());
        return e.response();
    };
    let mut list: Vec<&Value> = orders
        .categories
        .iter()
        .filter(|((m, _), c)| m == msn && c["orderId"] == order_id.as_str())
        .map(|(_, c)| c)
        .collect();
    list.sort_by(|a, b| a["categoryId"].as_str().cmp(&b["categoryId"].as_str()));
    SimResponse::json(200, &json!({ "categories": list }))
}

const CATEGORIES: [&str; 6] = [
    "GENERAL",
    "RECEIPT",
    "ORDER_CONFIRMATION",
    "DELIVERY",
    "TICKET",
    "BOOKING",
];

fn is_web_uri(s: &str) -> bool {
    url::Url::parse(s)
        .map(|u| (u.scheme() == "https" || u.scheme() == "http") && u.host_str().is_some())
        .unwrap_or(false)
}

fn get_order(orders: &Orders, msn: &str, payment_type: &str, order_id: &str) -> SimResponse {
    let key = (msn.to_owned(), payment_type.to_owned(), order_id.to_owned());
    match orders.orders.get(&key) {
        Some(o) if o.category.is_some() || o.receipt.is_some() => {
            let mut out = Map::new();
            if let Some(c) = &o.category {
                out.insert("category".into(), c.clone());
            }
            if let Some(r) = &o.receipt {
                out.insert("receipt".into(), r.clone());
            }
            SimResponse::json(200, &Value::Object(out))
        }
        _ => not_found(&format!("No category or receipt for order '{order_id}'.")),
    }
}

fn validate_receipt(body: &Map<String, Value>, v: &mut Errors) {
    match body.get("orderLines") {
        None | Some(Value::Null) => v.add("OrderLines", "The OrderLines field is required.".into()),
        Some(Value::Array(lines)) if lines.is_empty() => v.add(
            "OrderLines",
            "The field OrderLines must be a string or array type with a minimum length of '1'."
                .into(),
        ),
        Some(Value::Array(lines)) => {
            for (i, line) in lines.iter().enumerate() {
                validate_line(line, &format!("OrderLines[{i}]"), v);
            }
        }
        Some(_) => v.add(
            "OrderLines",
            "The OrderLines field must be an array.".into(),
        ),
    }
    match body.get("bottomLine") {
        None | Some(Value::Null) => v.add("BottomLine", "The BottomLine field is required.".into()),
        Some(Value::Object(b)) => validate_bottom_line(b, v),
        Some(_) => v.add(
            "BottomLine",
            "The BottomLine field must be an object.".into(),
        ),
    }
}

fn validate_line(line: &Value, at: &str, v: &mut Errors) {
    let Some(line) = line.as_object() else {
        v.add(at, "Each order line must be an object.".into());
        return;
    };
    let mut sub = v.under(at);
    sub.string(line, "name", "Name", true);
    sub.string(line, "id", "Id", true);
    sub.integer(line, "totalAmount", "TotalAmount", true, None);
    sub.integer(
        line,
        "totalAmountExcludingTax",
        "TotalAmountExcludingTax",
        true,
        None,
    );
    sub.integer(line, "totalTaxAmount", "TotalTaxAmount", true, None);
    let pct = sub.integer(
        line,
        "taxPercentage",
        "TaxPercentage",
        false,
        Some((0, 100)),
    );
    let rate = sub.integer(line, "taxRate", "TaxRate", false, Some((0, 10_000)));
    let has = |k: &str| line.get(k).is_some_and(|x| !x.is_null());
    if pct.is_none() && rate.is_none() && !has("taxPercentage") && !has("taxRate") {
        sub.add_here(
            "TaxRate",
            "Either TaxRate or TaxPercentage must be set.".into(),
        );
    }
    sub.integer(line, "discount", "Discount", false, Some((0, i64::MAX)));
    sub.string(line, "productUrl", "ProductUrl", false);
    sub.boolean(line, "isReturn", "IsReturn");
    sub.boolean(line, "isShipping", "IsShipping");
    match line.get("unitInfo") {
        None | Some(Value::Null) => {}
        Some(Value::Object(u)) => {
            let mut ui = sub.under("UnitInfo");
            ui.integer(u, "unitPrice", "UnitPrice", false, Some((0, i64::MAX)));
            if let Some(q) = ui.string(u, "quantity", "Quantity", true) {
                if q.len() > 10 || !valid_quantity(&q) {
                    ui.add_here(
                        "Quantity",
                        "The field Quantity must match the regular expression '^\\d+([\\.]\\d{1,8})?$' (at most 10 characters).".into(),
                    );
                }
            }
            if let Some(unit) = ui.string(u, "quantityUnit", "QuantityUnit", false) {
                if !["PCS", "KG", "KM", "MINUTE", "LITRE", "KWH"].contains(&unit.as_str()) {
                    ui.add_here(
                        "QuantityUnit",
                        format!("The value '{unit}' is not valid for QuantityUnit."),
                    );
                }
            }
            sub.absorb(ui);
        }
        Some(_) => sub.add_here("UnitInfo", "The UnitInfo field must be an object.".into()),
    }
    v.absorb(sub);
}

fn valid_quantity(q: &str) -> bool {
    let (int, frac) = match q.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (q, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.map_or(true, |f| {
            (1..=8).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit())
        })
}

fn validate_bottom_line(b: &Map<String, Value>, v: &mut Errors) {
    let mut sub = v.under("BottomLine");
    if let Some(c) = sub.string(b, "currency", "Currency", true) {
        if !["NOK", "DKK", "EUR"].contains(&c.as_str()) {
            sub.add_here(
                "Currency",
                format!("The value '{c}' is not valid for Currency; use NOK, DKK or EUR."),
            );
        }
    }
    sub.integer(b, "tipAmount", "TipAmount", false, Some((0, i64::MAX)));
    sub.string(b, "posId", "PosId", false);
    sub.string(b, "receiptNumber", "ReceiptNumber", false);
    match b.get("paymentSources") {
        None | Some(Value::Null) => {}
        Some(Value::Object(p)) => {
            let mut ps = sub.under("PaymentSources");
            for (k, n) in [
                ("giftCard", "GiftCard"),
                ("card", "Card"),
                ("voucher", "Voucher"),
                ("cash", "Cash"),
            ] {
                ps.integer(p, k, n, false, Some((0, i64::MAX)));
            }
            sub.absorb(ps);
        }
        Some(_) => sub.add_here(
            "PaymentSources",
            "The PaymentSources field must be an object.".into(),
        ),
    }
    match b.get("barcode") {
        None | Some(Value::Null) => {}
        Some(Value::Object(bc)) => {
            let mut bv = sub.under("Barcode");
            if let Some(f) = bv.string(bc, "format", "Format", true) {
                if !["EAN-13", "CODE 39", "CODE 128"].contains(&f.as_str()) {
                    bv.add_here(
                        "Format",
                        format!("The value '{f}' is not valid for Format."),
                    );
                }
            }
            bv.string(bc, "data", "Data", true);
            sub.absorb(bv);
        }
        Some(_) => sub.add_here("Barcode", "The Barcode field must be an object.".into()),
    }
    v.absorb(sub);
}

/// Validation errors, named the way ASP.NET names them (`OrderLines[0].TotalAmount`).
#[derive(Debug, Default)]
struct Errors {
    prefix: String,
    list: Vec<(String, String)>,
}

impl Errors {
    fn under(&self, at: &str) -> Errors {
        let prefix = if self.prefix.is_empty() {
            at.to_owned()
        } else {
            format!("{}.{at}", self.prefix)
        };
        Errors {
            prefix,
            list: Vec::new(),
        }
    }

    fn absorb(&mut self, other: Errors) {
        self.list.extend(other.list);
    }

    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Adds an error with a name given in full.
    fn add(&mut self, name: &str, reason: String) {
        self.list.push((name.to_owned(), reason));
    }

    /// Adds an error for a field under this prefix.
    fn add_here(&mut self, field: &str, reason: String) {
        let name = if self.prefix.is_empty() {
            field.to_owned()
        } else {
            format!("{}.{field}", self.prefix)
        };
        self.list.push((name, reason));
    }

    /// A required category (`field` names it in the error: v2's Category,
    /// v3's Type), one of [`CATEGORIES`].
    fn category(&mut self, obj: &Map<String, Value>, key: &str, field: &str) -> Option<String> {
        let category = self.string(obj, key, field, true);
        if let Some(c) = &category {
            if !CATEGORIES.contains(&c.as_str()) {
                self.add(
                    field,
                    format!(
                        "The value '{c}' is not valid for {field}; use one of {}.",
                        CATEGORIES.join(", ")
                    ),
                );
            }
        }
        category
    }

    /// A required absolute http(s) URI.
    fn web_uri(&mut self, obj: &Map<String, Value>, key: &str, field: &str) -> Option<String> {
        let url = self.string(obj, key, field, true);
        if let Some(u) = &url {
            if !is_web_uri(u) {
                self.add(
                    field,
                    format!("The field {field} must be an absolute http(s) URI."),
                );
            }
        }
        url
    }

    /// An optional `imageId`: 1 to 128 of `[0-9A-Za-z-_.]`.
    fn image_id(&mut self, obj: &Map<String, Value>) -> Option<String> {
        let image_id = self.string(obj, "imageId", "ImageId", false);
        if let Some(id) = &image_id {
            if id.len() > 128 || !valid_id(id) {
                self.add(
                    "ImageId",
                    "The field ImageId must match the regular expression '^[0-9A-Za-z-_\\.]+$' (1 to 128 characters).".into(),
                );
            }
        }
        image_id
    }

    fn string(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        field: &str,
        required: bool,
    ) -> Option<String> {
        match obj.get(key) {
            Some(Value::String(s)) if required && s.is_empty() => {
                self.add_here(field, format!("The {field} field is required."));
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            None | Some(Value::Null) => {
                if required {
                    self.add_here(field, format!("The {field} field is required."));
                }
                None
            }
            Some(_) => {
                self.add_here(field, format!("The {field} field must be a string."));
                None
            }
        }
    }

    fn integer(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        field: &str,
        required: bool,
        range: Option<(i64, i64)>,
    ) -> Option<i64> {
        match obj.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.add_here(field, format!("The {field} field is required."));
                }
                None
            }
            Some(x) => match x.as_i64() {
                Some(n) => match range {
                    Some((lo, hi)) if n < lo || n > hi => {
                        let reason = if hi == i64::MAX {
                            format!("The field {field} must be at least {lo}.")
                        } else {
                            format!("The field {field} must be between {lo} and {hi}.")
                        };
                        self.add_here(field, reason);
                        None
                    }
                    _ => Some(n),
                },
                None => {
                    self.add_here(field, format!("The {field} field must be an integer."));
                    None
                }
            },
        }
    }

    fn boolean(&mut self, obj: &Map<String, Value>, key: &str, field: &str) {
        match obj.get(key) {
            None | Some(Value::Null) | Some(Value::Bool(_)) => {}
            Some(_) => self.add_here(field, format!("The {field} field must be true or false.")),
        }
    }

    fn response(&self) -> SimResponse {
        om_error(
            400,
            "https://datatracker.ietf.org/doc/html/rfc7231#section-6.5.1",
            "One or more validation errors occurred.",
            "BadRequest",
            self.list.clone(),
        )
    }
}

/// A body that must be a JSON object.
fn parse_object(req: &SimRequest) -> Result<Map<String, Value>, SimResponse> {
    let fail = |reason: String| {
        let mut e = Errors::default();
        e.add("$", reason);
        e.response()
    };
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(fail("The request body must be a JSON object.".into())),
        Err(e) if req.body.is_empty() => {
            Err(fail(format!("A non-empty request body is required ({e}).")))
        }
        Err(e) => Err(fail(format!("The JSON value could not be parsed: {e}."))),
    }
}

/// A 404 in the Order Management shape.
fn not_found(detail: &str) -> SimResponse {
    om_error(
        404,
        "https://datatracker.ietf.org/doc/html/rfc7231#section-6.5.4",
        "Not Found",
        detail,
        Vec::new(),
    )
}

/// A 409 in the Order Management shape (a second image or receipt).
fn conflict(detail: &str) -> SimResponse {
    om_error(
        409,
        "https://datatracker.ietf.org/doc/html/rfc7231#section-6.5.8",
        "Conflict",
        detail,
        Vec::new(),
    )
}

/// The Order Management error body (§10.4): `instance` carries the trace id.
///
/// The spec declares it as `application/json` (not problem+json), so that is sent.
fn om_error(
    status: u16,
    kind: &str,
    title: &str,
    detail: &str,
    invalid: Vec<(String, String)>,
) -> SimResponse {
    let mut body = Map::new();
    body.insert("type".into(), json!(kind));
    body.insert("title".into(), json!(title));
    body.insert("detail".into(), json!(detail));
    body.insert("instance".into(), json!(problem::trace_id()));
    if !invalid.is_empty() {
        let params: Vec<Value> = invalid
            .into_iter()
            .map(|(name, reason)| json!({ "name": name, "reason": reason }))
            .collect();
        body.insert("invalidParams".into(), Value::Array(params));
    }
    SimResponse::json(status, &Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first bytes of a PNG of `w` x `h` (enough for the height check).
    fn png_head(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend(w.to_be_bytes());
        b.extend(h.to_be_bytes());
        b.extend([8, 0, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    /// The first bytes of a baseline JPEG of `w` x `h`, an APP0 segment first.
    fn jpeg_head(w: u16, h: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, b'J', b'F'];
        b.extend([0xFF, 0xC0, 0, 11, 8]);
        b.extend(h.to_be_bytes());
        b.extend(w.to_be_bytes());
        b.extend([1, 1, 0x11, 0]);
        b
    }

    fn b64(bytes: &[u8]) -> String {
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
    }

    #[test]
    fn an_image_lower_than_167_px_is_refused_whatever_its_width() {
        assert_eq!(image_height(&png_head(100, 100)), Some(100));
        assert_eq!(image_height(&jpeg_head(400, 120)), Some(120));
        assert_eq!(image_height(&[0xFF, 0xD8, 0xFF]), None);
        for (i, img) in [
            png_head(100, 100),
            png_head(166, 166),
            png_head(400, 120),
            jpeg_head(400, 120),
        ]
        .iter()
        .enumerate()
        {
            let mut o = orders();
            let r = req(
                "POST",
                "/order-management/v1/images",
                json!({ "imageId": format!("low-{i}"), "src": b64(img), "type": "base64" }),
            );
            let resp = handle_for(&mut o, &r, "123456");
            assert_eq!(resp.status, 400, "image {i}");
            assert_eq!(body(&resp)["invalidParams"][0]["name"], "Src");
            assert!(body(&resp)["invalidParams"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("167"));
        }
        for (i, img) in [png_head(167, 167), png_head(100, 400), jpeg_head(200, 200)]
            .iter()
            .enumerate()
        {
            let mut o = orders();
            let r = req(
                "POST",
                "/order-management/v1/images",
                json!({ "imageId": format!("tall-{i}"), "src": b64(img), "type": "base64" }),
            );
            assert_eq!(handle_for(&mut o, &r, "123456").status, 200, "image {i}");
        }
    }

    fn req(method: &str, path: &str, body: Value) -> SimRequest {
        SimRequest::new(
            method,
            path,
            None,
            Vec::<(String, String)>::new(),
            serde_json::to_vec(&body).unwrap(),
        )
    }

    fn orders() -> Orders {
        Orders::new(&SimConfig::default())
    }

    fn body(r: &SimResponse) -> Value {
        serde_json::from_slice(&r.body).unwrap()
    }

    fn receipt() -> Value {
        json!({
            "orderLines": [{
                "name": "Socks", "id": "line_item_1", "totalAmount": 1000,
                "totalAmountExcludingTax": 800, "totalTaxAmount": 200, "taxRate": 2500,
                "unitInfo": { "unitPrice": 400, "quantity": "2.5", "quantityUnit": "KG" }
            }],
            "bottomLine": { "currency": "NOK" }
        })
    }

    #[test]
    fn a_png_upload_returns_its_image_id_and_a_second_upload_is_409() {
        let mut o = orders();
        let r = req(
            "POST",
            "/order-management/v1/images",
            json!({ "imageId": "socks-1", "src": b64(&png_head(200, 200)), "type": "base64" }),
        );
        let first = handle_for(&mut o, &r, "123456");
        assert_eq!(first.status, 200);
        assert_eq!(body(&first)["imageId"], "socks-1");
        assert_eq!(handle_for(&mut o, &r, "123456").status, 409);
        // Another MSN has its own images.
        assert_eq!(handle_for(&mut o, &r, "654321").status, 200);
    }

    #[test]
    fn an_upload_that_is_not_png_or_jpeg_is_400_with_invalid_params() {
        let mut o = orders();
        let r = req(
            "POST",
            "/order-management/v1/images",
            json!({ "imageId": "x", "src": "aGVsbG8gd29ybGQ=", "type": "base64" }),
        );
        let resp = handle_for(&mut o, &r, "123456");
        assert_eq!(resp.status, 400);
        assert_eq!(body(&resp)["invalidParams"][0]["name"], "Src");
    }

    #[test]
    fn an_image_id_with_a_slash_or_space_is_refused() {
        let mut o = orders();
        let r = req(
            "POST",
            "/order-management/v1/images",
            json!({ "imageId": "a b", "src": b64(&png_head(200, 200)), "type": "url" }),
        );
        let resp = handle_for(&mut o, &r, "123456");
        let names: Vec<String> = body(&resp)["invalidParams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(resp.status, 400);
        assert_eq!(names, vec!["ImageId", "Type"]);
    }

    #[test]
    fn a_receipt_is_accepted_once_and_read_back_under_any_payment_type_casing() {
        let mut o = orders();
        let post = req(
            "POST",
            "/order-management/v2/eCom/receipts/order-1",
            receipt(),
        );
        let first = handle_for(&mut o, &post, "123456");
        assert_eq!(first.status, 201);
        assert!(body(&first).is_string());
        assert_eq!(handle_for(&mut o, &post, "123456").status, 409);
        let get = req("GET", "/order-management/v2/ECOM/order-1", Value::Null);
        let got = handle_for(&mut o, &get, "123456");
        assert_eq!(got.status, 200);
        assert_eq!(body(&got)["receipt"], receipt());
        assert!(body(&got).get("category").is_none());
    }

    #[test]
    fn a_receipt_line_without_tax_or_total_names_each_field() {
        let mut o = orders();
        let mut r = receipt();
        r["orderLines"][0]
            .as_object_mut()
            .unwrap()
            .remove("taxRate");
        r["orderLines"][0]
            .as_object_mut()
            .unwrap()
            .remove("totalAmount");
        r["bottomLine"] = json!({});
        let resp = handle_for(
            &mut o,
            &req("POST", "/order-management/v2/ecom/receipts/o-2", r),
            "123456",
        );
        assert_eq!(resp.status, 400);
        let names: Vec<String> = body(&resp)["invalidParams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            names,
            vec![
                "OrderLines[0].TotalAmount",
                "OrderLines[0].TaxRate",
                "BottomLine.Currency"
            ]
        );
    }

    #[test]
    fn an_empty_order_lines_array_is_refused() {
        let mut o = orders();
        let r = json!({ "orderLines": [], "bottomLine": { "currency": "NOK" } });
        let resp = handle_for(
            &mut o,
            &req("POST", "/order-management/v2/ecom/receipts/o-3", r),
            "123456",
        );
        assert_eq!(resp.status, 400);
    }

    #[test]
    fn a_category_is_upserted_and_the_last_one_wins() {
        let mut o = orders();
        let path = "/order-management/v2/ecom/categories/o-4";
        let a = json!({ "category": "GENERAL", "orderDetailsUrl": "https://shop.example/o-4" });
        let b = json!({ "category": "TICKET", "orderDetailsUrl": "https://shop.example/t" });
        assert_eq!(
            handle_for(&mut o, &req("PUT", path, a), "123456").status,
            200
        );
        assert_eq!(
            handle_for(&mut o, &req("PUT", path, b.clone()), "123456").status,
            200
        );
        let got = handle_for(
            &mut o,
            &req("GET", "/order-management/v2/ecom/o-4", Value::Null),
            "123456",
        );
        assert_eq!(body(&got)["category"], b);
    }

    #[test]
    fn a_category_with_an_unknown_enum_value_or_unknown_image_is_refused() {
        let mut o = orders();
        let path = "/order-management/v2/ecom/categories/o-5";
        let bad = json!({ "category": "FOOD", "orderDetailsUrl": "https://shop.example" });
        assert_eq!(
            handle_for(&mut o, &req("PUT", path, bad), "123456").status,
            400
        );
        let unknown = json!({ "category": "GENERAL", "orderDetailsUrl": "https://shop.example", "imageId": "nope" });
        assert_eq!(
            handle_for(&mut o, &req("PUT", path, unknown), "123456").status,
            404
        );
    }

    #[test]
    fn orders_are_kept_per_msn_and_unknown_orders_are_404() {
        let mut o = orders();
        let post = req("POST", "/order-management/v2/ecom/receipts/o-6", receipt());
        assert_eq!(handle_for(&mut o, &post, "123456").status, 201);
        let get = req("GET", "/order-management/v2/ecom/o-6", Value::Null);
        assert_eq!(handle_for(&mut o, &get, "654321").status, 404);
        let recurring = req("GET", "/order-management/v2/recurring/o-6", Value::Null);
        assert_eq!(handle_for(&mut o, &recurring, "123456").status, 404);
    }

    #[test]
    fn an_unknown_payment_type_or_malformed_json_is_400_not_500() {
        let mut o = orders();
        let get = req("GET", "/order-management/v2/card/o-7", Value::Null);
        assert_eq!(handle_for(&mut o, &get, "123456").status, 400);
        let bad = SimRequest::new(
            "POST",
            "/order-management/v2/ecom/receipts/o-7",
            None,
            Vec::<(String, String)>::new(),
            "{not json",
        );
        let resp = handle_for(&mut o, &bad, "123456");
        assert_eq!(resp.status, 400);
        assert_eq!(
            body(&resp)["title"],
            "One or more validation errors occurred."
        );
    }
}

//! Request validation (behaviour.md §4, §11): raw JSON in, typed commands or
//! a [`Reject`] (turned into a Problem) out. Walks `serde_json::Value` by hand
//! so every error can name the field it is about, and never panics on input.

use chrono::{DateTime, Duration as CDuration, Utc};
use serde_json::{Map, Value};

use super::ledger::{Currency, Flow, MethodType, Money, NewPayment};
use super::{problem, SimRequest, SimResponse};

/// Largest amount in minor units (behaviour.md §4).
pub(crate) const MAX_AMOUNT: i64 = 65_000_000;

/// A refused request: becomes a 400 (or other status) Problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub status: u16,
    pub title: String,
    pub detail: String,
    /// ErrorCode of the §5.3 catalogue; schema errors have none.
    pub code: Option<u32>,
    /// `extraDetails` entries naming a field and what is wrong with it.
    pub extra: Vec<(String, String)>,
}

impl Reject {
    /// A schema error about one field (no ErrorCode, as the real API does for malformed bodies).
    pub fn field(name: &str, reason: impl Into<String>) -> Self {
        Reject {
            status: 400,
            title: "Bad Request".into(),
            detail: "One or more validation errors occurred.".into(),
            code: None,
            extra: vec![(name.to_owned(), reason.into())],
        }
    }

    /// A rule from the §5.3 catalogue, about one field.
    pub fn coded(code: u32, title: &str, name: &str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Reject {
            status: 400,
            title: title.to_owned(),
            detail: reason.clone(),
            code: Some(code),
            extra: vec![(name.to_owned(), reason)],
        }
    }

    /// The Problem response.
    pub fn respond(&self, req: &SimRequest) -> SimResponse {
        problem::problem(
            req,
            self.status,
            &self.title,
            &self.detail,
            self.code,
            &self.extra,
        )
    }
}

/// Options where behaviour.md is OPEN or versions differ.
#[derive(Debug, Clone)]
pub struct Rules {
    /// OPEN(§16.4): `expiresAt` must be before now + this (28 days in v1.4.1, 60 later).
    pub expires_at_max: CDuration,
    /// OPEN(§16.5): the spec requires `returnUrl` only for WEB_REDIRECT; default false.
    pub native_redirect_requires_return_url: bool,
    /// Longest `reference` (50 in v1.4.1, 64 in newer material; OPEN §16.3).
    pub reference_max_len: usize,
    /// Accept a JSON integer where `reference` and `customer.phoneNumber`
    /// (strings in the spec) are expected, reading it as its digits.
    ///
    /// Not in behaviour.md: chosen from an observation. The official ePayment
    /// Postman collection, which Vipps' quick start sends merchants to, posts
    /// `"reference": {{reference}}` and `"phoneNumber": {{internationalMobileNumber}}`
    /// unquoted, with a 19-digit reference. A collection whose every create
    /// failed would not have survived in use, so the live API most plausibly
    /// coerces numbers here (as Newtonsoft.Json does by default). Default true;
    /// false makes the simulator strict.
    pub numbers_as_strings: bool,
    /// A request body must be sent as `Content-Type: application/json` (or
    /// another `+json` type); anything else, or none, is a 415. The spec
    /// declares only `application/json` request bodies, and an ASP.NET backend
    /// answers 415 otherwise. Default true; false accepts any content type.
    pub strict_content_type: bool,
    /// Refuse `qrFormat` unless `userFlow` is QR. The spec only says it is
    /// "only applicable" to QR, and no source says the API refuses it, so by
    /// default it is accepted and ignored (false).
    pub qr_format_only_with_qr: bool,
    /// The test environment's special amounts (behaviour.md §14): approving a
    /// payment of 151, 182, 183, 184, 186, 187, 197, 201 or 202 øre on the
    /// landing page fails with the matching card result (force approve ignores
    /// them, as in the test environment). Default true.
    pub special_amounts: bool,
    /// Accept webhook URLs on a loopback host with `http://` or a port other
    /// than 80, 443 and 8080 (recorded as deviations), for testing on a laptop.
    /// Default true; false applies the real rules to loopback too.
    pub loopback_webhooks: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            expires_at_max: CDuration::days(28),
            native_redirect_requires_return_url: false,
            reference_max_len: 50,
            numbers_as_strings: true,
            strict_content_type: true,
            qr_format_only_with_qr: false,
            special_amounts: true,
            loopback_webhooks: true,
        }
    }
}

/// Checks the Content-Type of a request with a body ([`Rules::strict_content_type`]).
pub fn content_type(req: &SimRequest, rules: &Rules) -> Result<(), Reject> {
    if !rules.strict_content_type || req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let ct = req.header("content-type").unwrap_or("");
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
    {
        return Ok(());
    }
    let shown = if ct.is_empty() {
        "none".to_owned()
    } else {
        format!("`{}`", ct.chars().take(60).collect::<String>())
    };
    Err(Reject {
        status: 415,
        title: "Unsupported Media Type".into(),
        detail: format!(
            "The request body must be sent with Content-Type: application/json (got {shown})."
        ),
        code: None,
        extra: vec![(
            "Content-Type".into(),
            "Only application/json request bodies are accepted.".into(),
        )],
    })
}

/// QR rendering asked for at create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QrFormat {
    #[default]
    Svg,
    Png,
    TargetUrl,
}

/// A validated create request.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    pub payment: NewPayment,
    /// Express checkout (`shipping`): the option the simulated customer picks.
    pub shipping: Option<super::ledger::Shipping>,
    pub qr_format: QrFormat,
    pub qr_size: u32,
}

/// Checks a reference (body or path).
pub fn reference(value: &str, field: &str, rules: &Rules) -> Result<(), Reject> {
    let ok = value.len() >= 8
        && value.len() <= rules.reference_max_len
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Reject::field(
            field,
            format!(
                "The field {field} must match the regular expression '^[a-zA-Z0-9-]{{8,{}}}$'.",
                rules.reference_max_len
            ),
        ))
    }
}

/// Parses a JSON body that must be an object.
pub(crate) fn json_object(body: &[u8]) -> Result<Map<String, Value>, Reject> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Reject::field(
            "Body",
            "A non-empty request body is required.",
        ));
    }
    // Not blank, so `None` here is a JSON `null`.
    optional_object(body)?.ok_or_else(not_an_object)
}

/// Parses a body that may be left out: blank or `null` is `None`, else it must be an object.
fn optional_object(body: &[u8]) -> Result<Option<Map<String, Value>>, Reject> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Null) => Ok(None),
        Ok(Value::Object(m)) => Ok(Some(m)),
        Ok(_) => Err(not_an_object()),
        Err(e) => Err(Reject::field(
            "Body",
            format!("The request body is not valid JSON: {e}."),
        )),
    }
}

fn not_an_object() -> Reject {
    Reject::field("Body", "The request body must be a JSON object.")
}

/// `Idempotency-Key` (required, at most 50 chars).
pub fn idempotency_key(req: &SimRequest) -> Result<&str, Reject> {
    match req.header("idempotency-key").map(str::trim) {
        None | Some("") => Err(Reject::coded(
            4140,
            "Missing required parameter",
            "Idempotency-Key",
            "The Idempotency-Key header is required.",
        )),
        Some(k) if k.chars().count() > 50 => Err(Reject::field(
            "Idempotency-Key",
            "The Idempotency-Key header must be at most 50 characters.",
        )),
        Some(k) => Ok(k),
    }
}

/// `Vipps-System-*` headers: at most 30 chars each (behaviour.md §11; OPEN §16.18: rejected when longer).
/// The ePayment, access token and Webhooks specs declare `maxLength: 30`.
pub(crate) fn system_headers(req: &SimRequest) -> Result<(), Reject> {
    system_headers_at_most(req, 30)
}

/// `Vipps-System-*` headers: at most `max` chars each. The Order Management
/// spec declares `maxLength: 100` (behaviour.md §10, §16.18).
pub(crate) fn system_headers_at_most(req: &SimRequest, max: usize) -> Result<(), Reject> {
    for name in [
        "Vipps-System-Name",
        "Vipps-System-Version",
        "Vipps-System-Plugin-Name",
        "Vipps-System-Plugin-Version",
    ] {
        if let Some(v) = req.header(name) {
            if v.chars().count() > max {
                return Err(Reject::field(
                    name,
                    format!("The {name} header must be at most {max} characters."),
                ));
            }
        }
    }
    Ok(())
}

fn type_error(field: &str, expected: &str) -> Reject {
    Reject::field(
        field,
        format!("The JSON value of {field} could not be converted to {expected}."),
    )
}

fn required(field: &str) -> Reject {
    Reject::field(field, format!("The {field} field is required."))
}

/// Rewrites a non-negative JSON integer at `m[key]` into its digits (see
/// [`Rules::numbers_as_strings`]). Other values are left for the type checks.
fn integer_as_string(m: &mut Map<String, Value>, key: &str) {
    if let Some(Value::Number(n)) = m.get(key) {
        if let Some(u) = n.as_u64() {
            m.insert(key.to_owned(), Value::String(u.to_string()));
        }
    }
}

/// Applies [`Rules::numbers_as_strings`] to `reference` and `customer.phoneNumber`.
fn coerce_numeric_strings(m: &mut Map<String, Value>, rules: &Rules) {
    if !rules.numbers_as_strings {
        return;
    }
    integer_as_string(m, "reference");
    if let Some(Value::Object(c)) = m.get_mut("customer") {
        integer_as_string(c, "phoneNumber");
    }
}

/// A field that is absent or null.
fn absent(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Null))
}

fn opt_str<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<&'a str>, Reject> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(type_error(field, "string")),
    }
}

fn req_str<'a>(m: &'a Map<String, Value>, key: &str, field: &str) -> Result<&'a str, Reject> {
    opt_str(m, key, field)?.ok_or_else(|| required(field))
}

fn opt_obj<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<&'a Map<String, Value>>, Reject> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(type_error(field, "object")),
    }
}

fn enum_error(field: &str, value: &str, allowed: &str) -> Reject {
    Reject::field(
        field,
        format!("The value '{value}' is not valid for {field}; expected one of {allowed}."),
    )
}

/// Parses `{currency, value}` for `field` (Amount or ModificationAmount).
pub fn money(m: &Map<String, Value>, key: &str, field: &str) -> Result<Money, Reject> {
    let o = opt_obj(m, key, field)?.ok_or_else(|| required(field))?;
    let cur_field = format!("{field}.Currency");
    let cur = req_str(o, "currency", &cur_field)?;
    let currency =
        Currency::parse(cur).ok_or_else(|| enum_error(&cur_field, cur, "NOK, DKK, EUR"))?;
    let val_field = format!("{field}.Value");
    let value = match o.get("value") {
        None | Some(Value::Null) => return Err(required(&val_field)),
        Some(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                i
            } else if n.is_u64() {
                return Err(Reject::coded(
                    4040,
                    "Invalid amount",
                    &val_field,
                    format!("{val_field} must be at most {MAX_AMOUNT}."),
                ));
            } else {
                return Err(Reject::coded(
                    4040,
                    "Invalid amount",
                    &val_field,
                    format!("{val_field} must be an integer in minor units (øre/cent); decimals are not allowed."),
                ));
            }
        }
        Some(_) => return Err(type_error(&val_field, "integer (Int64)")),
    };
    if !(0..=MAX_AMOUNT).contains(&value) {
        return Err(Reject::coded(
            4040,
            "Invalid amount",
            &val_field,
            format!("{val_field} must be between 0 and {MAX_AMOUNT}."),
        ));
    }
    Ok(Money { currency, value })
}

/// `https://` or a custom scheme (behaviour.md §4 "Invalid URL" 4090).
fn url_ok(s: &str) -> bool {
    // The URL parser silently drops tabs and newlines; they must not reach a Location header.
    if s.chars().any(|c| c.is_control() || c == ' ') {
        return false;
    }
    match url::Url::parse(s) {
        Ok(u) => match u.scheme() {
            "https" => u.host_str().is_some_and(|h| !h.is_empty()),
            "http" | "javascript" | "data" | "file" | "ftp" | "about" | "blob" => false,
            _ => true,
        },
        Err(_) => false,
    }
}

fn check_url(value: &str, field: &str) -> Result<(), Reject> {
    if url_ok(value) {
        Ok(())
    } else {
        Err(Reject::coded(
            4090,
            "Invalid URL",
            field,
            format!("{field} must be an absolute https:// URL or use a custom URL scheme."),
        ))
    }
}

fn len_between(s: &str, min: usize, max: usize) -> bool {
    let n = s.chars().count();
    (min..=max).contains(&n)
}

/// Validates a create body (behaviour.md §3.1, §4). The checks run in the
/// order the real API reports them: the first that fails is the answer.
pub fn create(
    body: &[u8],
    now: DateTime<Utc>,
    rules: &Rules,
    test_users: &[String],
) -> Result<CreateRequest, Reject> {
    let mut m = json_object(body)?;
    coerce_numeric_strings(&mut m, rules);

    let amount = money(&m, "amount", "Amount")?;
    let method = payment_method(&m)?;
    let reference_value = req_str(&m, "reference", "Reference")?;
    reference(reference_value, "Reference", rules)?;
    let (flow, uf) = user_flow(&m)?;
    amount_and_method(&amount, method, flow)?;
    let return_url = urls(&m, flow, uf, rules)?;
    let customer_phone = customer(&m, flow, test_users)?;
    let description = description(&m)?;
    let metadata = metadata(&m)?;
    interaction_and_age(&m)?;
    let scope = profile_scope(&m)?;
    if let Some(r) = m.get("receipt") {
        if !r.is_null() {
            receipt(r)?;
        }
    }
    let expires_at = expires_at(&m, flow, now, rules)?;
    let (qr_format, qr_size) = qr_format(&m, flow, rules)?;
    industry_data(&m)?;
    let shipping = shipping(&m, scope.as_deref())?;

    Ok(CreateRequest {
        shipping,
        payment: NewPayment {
            reference: reference_value.to_owned(),
            amount,
            method,
            flow,
            return_url: return_url.map(str::to_owned),
            description: description.map(str::to_owned),
            metadata,
            customer_phone,
            scope,
            expires_at,
            qr_png_size: (qr_format == QrFormat::Png).then_some(qr_size),
            qr_target_url: qr_format == QrFormat::TargetUrl,
        },
        qr_format,
        qr_size,
    })
}

/// `paymentMethod.type`: WALLET or CARD.
fn payment_method(m: &Map<String, Value>) -> Result<MethodType, Reject> {
    let pm =
        opt_obj(m, "paymentMethod", "PaymentMethod")?.ok_or_else(|| required("PaymentMethod"))?;
    match req_str(pm, "type", "PaymentMethod.Type")? {
        "WALLET" => Ok(MethodType::Wallet),
        "CARD" => Ok(MethodType::Card),
        other => Err(enum_error("PaymentMethod.Type", other, "WALLET, CARD")),
    }
}

/// `userFlow`, and its text as sent (for the messages that quote it).
fn user_flow(m: &Map<String, Value>) -> Result<(Flow, &str), Reject> {
    let uf = req_str(m, "userFlow", "UserFlow")?;
    let flow = match uf {
        "PUSH_MESSAGE" => Flow::PushMessage,
        "NATIVE_REDIRECT" => Flow::NativeRedirect,
        "WEB_REDIRECT" => Flow::WebRedirect,
        "QR" => Flow::Qr,
        other => {
            return Err(enum_error(
                "UserFlow",
                other,
                "PUSH_MESSAGE, NATIVE_REDIRECT, WEB_REDIRECT, QR",
            ))
        }
    };
    Ok((flow, uf))
}

/// The currency's smallest amount (6010), and CARD only with WEB_REDIRECT (4160).
fn amount_and_method(amount: &Money, method: MethodType, flow: Flow) -> Result<(), Reject> {
    if amount.value < amount.currency.minimum() {
        return Err(Reject::coded(
            6010,
            "Amount too small",
            "Amount.Value",
            format!(
                "The amount must be at least {} in {}.",
                amount.currency.minimum(),
                amount.currency.as_str()
            ),
        ));
    }
    if method == MethodType::Card && flow != Flow::WebRedirect {
        return Err(Reject::coded(
            4160,
            "Invalid payment method type",
            "PaymentMethod.Type",
            "CARD requires userFlow WEB_REDIRECT.",
        ));
    }
    Ok(())
}

/// `returnUrl` (required for WEB_REDIRECT, and for NATIVE_REDIRECT where the
/// rules say so) and `receiptUrl`, each a usable URL when given.
fn urls<'m>(
    m: &'m Map<String, Value>,
    flow: Flow,
    uf: &str,
    rules: &Rules,
) -> Result<Option<&'m str>, Reject> {
    let return_url = opt_str(m, "returnUrl", "ReturnUrl")?;
    let needs_return = flow == Flow::WebRedirect
        || (flow == Flow::NativeRedirect && rules.native_redirect_requires_return_url);
    match return_url {
        Some(u) => check_url(u, "ReturnUrl")?,
        None if needs_return => {
            return Err(Reject::coded(
                4140,
                "Missing required parameter",
                "ReturnUrl",
                format!("ReturnUrl is required for userFlow {uf}."),
            ))
        }
        None => {}
    }
    if let Some(u) = opt_str(m, "receiptUrl", "ReceiptUrl")? {
        check_url(u, "ReceiptUrl")?;
    }
    Ok(return_url)
}

/// `paymentDescription`: 3 to 100 characters when given.
fn description(m: &Map<String, Value>) -> Result<Option<&str>, Reject> {
    let description = opt_str(m, "paymentDescription", "PaymentDescription")?;
    if let Some(d) = description {
        if !len_between(d, 3, 100) {
            return Err(Reject::field(
                "PaymentDescription",
                "The field PaymentDescription must be a string with a minimum length of 3 and a maximum length of 100.",
            ));
        }
    }
    Ok(description)
}

/// `customerInteraction` (one of two values) and `minimumUserAge` (0..150).
fn interaction_and_age(m: &Map<String, Value>) -> Result<(), Reject> {
    match m.get("customerInteraction") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s == "CUSTOMER_PRESENT" || s == "CUSTOMER_NOT_PRESENT" => {}
        Some(Value::String(s)) => {
            return Err(enum_error(
                "CustomerInteraction",
                s,
                "CUSTOMER_PRESENT, CUSTOMER_NOT_PRESENT",
            ))
        }
        Some(_) => return Err(type_error("CustomerInteraction", "string")),
    }
    match m.get("minimumUserAge") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.as_i64().is_some_and(|a| (0..=150).contains(&a)) => {}
        Some(_) => return Err(type_error("MinimumUserAge", "integer (0..150)")),
    }
    Ok(())
}

fn customer(
    m: &Map<String, Value>,
    flow: Flow,
    test_users: &[String],
) -> Result<Option<String>, Reject> {
    let Some(c) = opt_obj(m, "customer", "Customer")? else {
        if flow == Flow::PushMessage {
            return Err(Reject::coded(
                4140,
                "Missing required parameter",
                "Customer",
                "Customer is required for userFlow PUSH_MESSAGE.",
            ));
        }
        return Ok(None);
    };
    let present = ["phoneNumber", "personalQr", "customerToken"]
        .iter()
        .filter(|k| !absent(c.get(**k)))
        .count();
    if present != 1 {
        return Err(Reject::field(
            "Customer",
            "Exactly one of Customer.PhoneNumber, Customer.PersonalQr and Customer.CustomerToken must be set.",
        ));
    }
    if let Some(p) = opt_str(c, "phoneNumber", "Customer.PhoneNumber")? {
        if !(10..=15).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Reject::coded(
                4070,
                "Invalid phone number",
                "Customer.PhoneNumber",
                "Customer.PhoneNumber must be an MSISDN of 10 to 15 digits with country code, e.g. 4791234567.",
            ));
        }
        // The app would push to this user; one who does not exist cannot pay.
        if flow == Flow::PushMessage && !test_users.iter().any(|u| u == p) {
            return Err(Reject::coded(
                7010,
                "Customer not found",
                "Customer.PhoneNumber",
                "No test user has this phone number (hint: use one of the simulator's test users).",
            ));
        }
        return Ok(Some(p.to_owned()));
    }
    if let Some(q) = opt_str(c, "personalQr", "Customer.PersonalQr")? {
        if !len_between(q, 5, 255) {
            return Err(Reject::coded(
                4060,
                "Invalid PersonalQr",
                "Customer.PersonalQr",
                "Customer.PersonalQr must be 5 to 255 characters.",
            ));
        }
        return Ok(None);
    }
    match opt_str(c, "customerToken", "Customer.CustomerToken")? {
        Some(t) if !t.trim().is_empty() => Ok(None),
        _ => Err(Reject::coded(
            4050,
            "Invalid CustomerToken",
            "Customer.CustomerToken",
            "Customer.CustomerToken must be a non-empty string.",
        )),
    }
}

fn metadata(m: &Map<String, Value>) -> Result<Option<Vec<(String, String)>>, Reject> {
    let Some(md) = opt_obj(m, "metadata", "Metadata")? else {
        return Ok(None);
    };
    // 4110 (duplicate key) cannot be seen here: the JSON parser keeps the last value.
    if md.len() > 5 {
        return Err(Reject::coded(
            4100,
            "Metadata capacity exceeded",
            "Metadata",
            "Metadata can hold at most 5 key/value pairs.",
        ));
    }
    let mut pairs = Vec::with_capacity(md.len());
    for (k, v) in md {
        if k.chars().count() > 100 {
            return Err(Reject::coded(
                4120,
                "Metadata key too long",
                "Metadata",
                "A metadata key must be at most 100 characters.",
            ));
        }
        match v {
            Value::String(s) if s.chars().count() > 500 => {
                return Err(Reject::coded(
                    4130,
                    "Metadata value too long",
                    "Metadata",
                    "A metadata value must be at most 500 characters.",
                ))
            }
            Value::String(s) => pairs.push((k.clone(), s.clone())),
            _ => return Err(type_error("Metadata", "a map of string to string")),
        }
    }
    Ok(Some(pairs))
}

/// Express checkout's `shipping` (behaviour.md §15 "Even later": `shipping
/// {fixedOptions | dynamicOptions}` with `profile.scope` `name address email
/// phoneNumber`). Returns the option the simulated customer picks: the
/// default option of the default group of `fixedOptions`, else the first; a
/// `dynamicOptions` callback is never called (docs/fidelity.md).
fn shipping(
    m: &Map<String, Value>,
    scope: Option<&str>,
) -> Result<Option<super::ledger::Shipping>, Reject> {
    let Some(s) = opt_obj(m, "shipping", "Shipping")? else {
        return Ok(None);
    };
    const EXPRESS_SCOPE: [&str; 4] = ["name", "address", "email", "phoneNumber"];
    let words: Vec<&str> = scope.unwrap_or("").split_whitespace().collect();
    if !EXPRESS_SCOPE.iter().all(|w| words.contains(w)) {
        return Err(Reject::field(
            "Profile.Scope",
            "Express checkout (shipping) needs profile.scope `name address email phoneNumber`.",
        ));
    }
    let pick = |items: &[Value]| -> Option<Value> {
        items
            .iter()
            .find(|i| i["isDefault"] == Value::Bool(true))
            .or_else(|| items.first())
            .cloned()
    };
    if let Some(groups) = s.get("fixedOptions").filter(|v| !v.is_null()) {
        let groups = groups.as_array().filter(|g| !g.is_empty()).ok_or_else(|| {
            Reject::field(
                "Shipping.FixedOptions",
                "Shipping.FixedOptions must be a non-empty array.",
            )
        })?;
        let group = pick(groups).unwrap_or_default();
        let options = group["options"].as_array().cloned().unwrap_or_default();
        let Some(option) = pick(&options) else {
            return Err(Reject::field(
                "Shipping.FixedOptions.Options",
                "Each shipping group needs at least one option.",
            ));
        };
        let id = option["id"].as_str().filter(|s| !s.is_empty());
        let cost = option["amount"]["value"].as_i64().filter(|v| *v >= 0);
        let (Some(id), Some(cost)) = (id, cost) else {
            return Err(Reject::field(
                "Shipping.FixedOptions.Options",
                "A shipping option needs an `id` and an `amount` {currency, value}.",
            ));
        };
        let name = option["name"]
            .as_str()
            .or_else(|| group["brand"].as_str())
            .unwrap_or(id);
        return Ok(Some(super::ledger::Shipping {
            option_id: id.into(),
            option_name: name.into(),
            cost,
        }));
    }
    match s
        .get("dynamicOptions")
        .and_then(|d| d["callbackUrl"].as_str())
    {
        Some(_) => Ok(Some(super::ledger::Shipping {
            option_id: "simulated-dynamic-option".into(),
            option_name: "Simulated dynamic option".into(),
            cost: 0,
        })),
        None => Err(Reject::field(
            "Shipping",
            "Shipping needs `fixedOptions` or `dynamicOptions` with a `callbackUrl`.",
        )),
    }
}

fn profile_scope(m: &Map<String, Value>) -> Result<Option<String>, Reject> {
    let Some(p) = opt_obj(m, "profile", "Profile")? else {
        return Ok(None);
    };
    let Some(scope) = opt_str(p, "scope", "Profile.Scope")? else {
        return Ok(None);
    };
    const WORDS: [&str; 6] = [
        "name",
        "address",
        "email",
        "phoneNumber",
        "birthDate",
        "nin",
    ];
    let ok = !scope.trim().is_empty() && scope.split_whitespace().all(|w| WORDS.contains(&w));
    if !ok {
        return Err(Reject::coded(
            4080,
            "Invalid scope",
            "Profile.Scope",
            "Profile.Scope must be space-separated words from: name address email phoneNumber birthDate nin.",
        ));
    }
    Ok(Some(scope.to_owned()))
}

fn expires_at(
    m: &Map<String, Value>,
    flow: Flow,
    now: DateTime<Utc>,
    rules: &Rules,
) -> Result<Option<DateTime<Utc>>, Reject> {
    let Some(s) = opt_str(m, "expiresAt", "ExpiresAt")? else {
        return Ok(None);
    };
    let at = DateTime::parse_from_rfc3339(s)
        .map_err(|_| {
            Reject::field(
                "ExpiresAt",
                "Expiration date invalid: ExpiresAt must be an RFC 3339 date-time.",
            )
        })?
        .with_timezone(&Utc);
    if !matches!(flow, Flow::PushMessage | Flow::Qr) {
        return Err(Reject::field(
            "ExpiresAt",
            "ExpiresAt not allowed: long-living payments need userFlow PUSH_MESSAGE or QR.",
        ));
    }
    if absent(m.get("receipt")) {
        return Err(Reject::coded(
            6130,
            "Long living payments require a receipt",
            "Receipt",
            "A payment with ExpiresAt must include a receipt.",
        ));
    }
    if at <= now + CDuration::minutes(10) {
        return Err(Reject::coded(
            6120,
            "Expiration date too soon",
            "ExpiresAt",
            "ExpiresAt must be more than 10 minutes in the future.",
        ));
    }
    if at >= now + rules.expires_at_max {
        return Err(Reject::coded(
            6110,
            "Expiration date too late",
            "ExpiresAt",
            format!(
                "ExpiresAt must be less than {} days in the future.",
                rules.expires_at_max.num_days()
            ),
        ));
    }
    Ok(Some(at))
}

fn qr_format(m: &Map<String, Value>, flow: Flow, rules: &Rules) -> Result<(QrFormat, u32), Reject> {
    let Some(q) = opt_obj(m, "qrFormat", "QrFormat")? else {
        return Ok((QrFormat::Svg, 1024));
    };
    if flow != Flow::Qr {
        if rules.qr_format_only_with_qr {
            return Err(Reject::field(
                "QrFormat",
                "QrFormat is only allowed with userFlow QR.",
            ));
        }
        // "Only applicable when userFlow is QR" (spec): accepted, then ignored.
        return Ok((QrFormat::Svg, 1024));
    }
    let format = match opt_str(q, "format", "QrFormat.Format")? {
        // `format` is required inside `qrFormat` (spec: `required: [format]`);
        // only an absent `qrFormat` defaults to SVG.
        None => {
            return Err(Reject::field(
                "QrFormat.Format",
                "The Format field is required.",
            ))
        }
        Some("IMAGE/SVG+XML") => QrFormat::Svg,
        Some("IMAGE/PNG") => QrFormat::Png,
        Some("TEXT/TARGETURL") => QrFormat::TargetUrl,
        Some(other) => {
            return Err(enum_error(
                "QrFormat.Format",
                other,
                "TEXT/TARGETURL, IMAGE/SVG+XML, IMAGE/PNG",
            ))
        }
    };
    let size = match q.get("size") {
        None | Some(Value::Null) => 1024,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(s) if (100..=2000).contains(&s) => s as u32,
            _ => {
                return Err(Reject::field(
                    "QrFormat.Size",
                    "The field QrFormat.Size must be between 100 and 2000.",
                ))
            }
        },
        Some(_) => return Err(type_error("QrFormat.Size", "integer")),
    };
    Ok((format, size))
}

fn industry_data(m: &Map<String, Value>) -> Result<(), Reject> {
    let Some(ind) = opt_obj(m, "industryData", "IndustryData")? else {
        return Ok(());
    };
    let Some(a) = opt_obj(ind, "airlineData", "IndustryData.AirlineData")? else {
        return Ok(());
    };
    let rules: [(&str, &str, usize, usize, bool); 5] = [
        ("agencyInvoiceNumber", "AgencyInvoiceNumber", 1, 6, true),
        ("airlineCode", "AirlineCode", 3, 3, true),
        ("airlineDesignatorCode", "AirlineDesignatorCode", 2, 2, true),
        ("passengerName", "PassengerName", 1, 49, true),
        ("ticketNumber", "TicketNumber", 1, 150, false),
    ];
    for (key, name, min, max, needed) in rules {
        let field = format!("IndustryData.AirlineData.{name}");
        match opt_str(a, key, &field)? {
            None if needed => return Err(required(&field)),
            None => {}
            Some(v) if !len_between(v, min, max) => {
                return Err(Reject::field(
                    &field,
                    format!("The field {field} must be {min} to {max} characters."),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// A light check of the Order Management receipt schema (behaviour.md §10.4).
fn receipt(r: &Value) -> Result<(), Reject> {
    let Value::Object(r) = r else {
        return Err(type_error("Receipt", "object"));
    };
    let lines = match r.get("orderLines") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(Value::Array(_)) | None | Some(Value::Null) => {
            return Err(Reject::field(
                "Receipt.OrderLines",
                "Receipt.OrderLines must hold at least one order line.",
            ))
        }
        Some(_) => return Err(type_error("Receipt.OrderLines", "array")),
    };
    for (i, line) in lines.iter().enumerate() {
        let Value::Object(l) = line else {
            return Err(type_error(&format!("Receipt.OrderLines[{i}]"), "object"));
        };
        for (key, name) in [("name", "Name"), ("id", "Id")] {
            req_str(l, key, &format!("Receipt.OrderLines[{i}].{name}"))?;
        }
        for (key, name) in [
            ("totalAmount", "TotalAmount"),
            ("totalAmountExcludingTax", "TotalAmountExcludingTax"),
            ("totalTaxAmount", "TotalTaxAmount"),
        ] {
            let field = format!("Receipt.OrderLines[{i}].{name}");
            match l.get(key) {
                None | Some(Value::Null) => return Err(required(&field)),
                Some(Value::Number(n)) if n.as_i64().is_some() => {}
                Some(_) => return Err(type_error(&field, "integer (Int64)")),
            }
        }
        if absent(l.get("taxPercentage")) && absent(l.get("taxRate")) {
            return Err(Reject::field(
                &format!("Receipt.OrderLines[{i}].TaxRate"),
                "One of TaxRate and TaxPercentage is required.",
            ));
        }
    }
    let bl = opt_obj(r, "bottomLine", "Receipt.BottomLine")?
        .ok_or_else(|| required("Receipt.BottomLine"))?;
    req_str(bl, "currency", "Receipt.BottomLine.Currency")?;
    Ok(())
}

/// Capture and refund bodies: `{modificationAmount: {currency, value}}`.
pub fn modification(body: &[u8]) -> Result<Money, Reject> {
    let m = json_object(body)?;
    let amount = money(&m, "modificationAmount", "ModificationAmount")?;
    if amount.value == 0 {
        return Err(Reject::coded(
            4040,
            "Invalid amount",
            "ModificationAmount.Value",
            "ModificationAmount.Value must be greater than 0.",
        ));
    }
    Ok(amount)
}

/// Cancel body: none, `{}`, `null` or `{"cancelTransactionOnly": bool}` (OPEN §16.12: an
/// empty body is accepted whatever the content type says).
pub fn cancel(body: &[u8]) -> Result<bool, Reject> {
    let Some(m) = optional_object(body)? else {
        return Ok(false);
    };
    match m.get("cancelTransactionOnly") {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(type_error("CancelTransactionOnly", "boolean")),
    }
}

/// Force approve body: optional `{customer?: {phoneNumber}, token?}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForceApprove {
    pub phone: Option<String>,
    pub token: Option<String>,
}

pub fn force_approve(body: &[u8], rules: &Rules) -> Result<ForceApprove, Reject> {
    let Some(mut m) = optional_object(body)? else {
        return Ok(ForceApprove::default());
    };
    coerce_numeric_strings(&mut m, rules);
    let phone = match opt_obj(&m, "customer", "Customer")? {
        Some(c) => match opt_str(c, "phoneNumber", "Customer.PhoneNumber")? {
            Some(p) if (10..=15).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) => {
                Some(p.to_owned())
            }
            Some(_) => {
                return Err(Reject::coded(
                    4070,
                    "Invalid phone number",
                    "Customer.PhoneNumber",
                    "Customer.PhoneNumber must be 10 to 15 digits with country code.",
                ))
            }
            None => None,
        },
        None => None,
    };
    let token = opt_str(&m, "token", "Token")?.map(str::to_owned);
    Ok(ForceApprove { phone, token })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create_json(v: Value) -> Result<CreateRequest, Reject> {
        create(
            &serde_json::to_vec(&v).unwrap(),
            Utc::now(),
            &Rules::default(),
            &["4791234567".to_owned()],
        )
    }

    fn base() -> Value {
        serde_json::json!({
            "amount": {"currency": "NOK", "value": 24900},
            "paymentMethod": {"type": "WALLET"},
            "reference": "shop42-order-7781-a",
            "userFlow": "WEB_REDIRECT",
            "returnUrl": "https://shop.example/return",
        })
    }

    fn code(r: &Reject) -> Option<u32> {
        r.code
    }

    #[test]
    fn a_minimal_web_redirect_body_is_accepted() {
        let c = create_json(base()).unwrap();
        assert_eq!(c.payment.amount.value, 24900);
        assert_eq!(c.payment.flow, Flow::WebRedirect);
    }

    #[test]
    fn decimals_in_the_amount_give_4040() {
        let mut v = base();
        v["amount"]["value"] = serde_json::json!(249.5);
        assert_eq!(code(&create_json(v).unwrap_err()), Some(4040));
    }

    #[test]
    fn nok_below_one_krone_gives_6010_but_one_eur_cent_is_fine() {
        let mut v = base();
        v["amount"]["value"] = serde_json::json!(99);
        assert_eq!(code(&create_json(v.clone()).unwrap_err()), Some(6010));
        v["amount"] = serde_json::json!({"currency": "EUR", "value": 1});
        assert!(create_json(v).is_ok());
    }

    #[test]
    fn http_return_url_gives_4090_and_custom_scheme_passes() {
        let mut v = base();
        v["returnUrl"] = "http://shop.example/r".into();
        assert_eq!(code(&create_json(v.clone()).unwrap_err()), Some(4090));
        v["returnUrl"] = "myshop://return".into();
        assert!(create_json(v).is_ok());
    }

    #[test]
    fn return_url_with_a_newline_is_refused() {
        let mut v = base();
        v["returnUrl"] = "https://shop.example/r\r\nSet-Cookie: x=1".into();
        assert_eq!(code(&create_json(v).unwrap_err()), Some(4090));
    }

    #[test]
    fn two_customer_identifiers_are_refused_naming_customer() {
        let mut v = base();
        v["customer"] = serde_json::json!({"phoneNumber": "4791234567", "personalQr": "abcdef"});
        let r = create_json(v).unwrap_err();
        assert_eq!(r.extra[0].0, "Customer");
    }

    #[test]
    fn unknown_user_flow_names_the_field() {
        let mut v = base();
        v["userFlow"] = "TELEPATHY".into();
        let r = create_json(v).unwrap_err();
        assert_eq!(
            (r.status, r.extra[0].0.as_str(), r.code),
            (400, "UserFlow", None)
        );
    }

    #[test]
    fn expires_at_rules_give_6130_6120_6110() {
        let mut v = base();
        v["userFlow"] = "QR".into();
        let soon = (Utc::now() + CDuration::minutes(5)).to_rfc3339();
        let late = (Utc::now() + CDuration::days(29)).to_rfc3339();
        let fine = (Utc::now() + CDuration::days(2)).to_rfc3339();
        v["expiresAt"] = fine.clone().into();
        assert_eq!(code(&create_json(v.clone()).unwrap_err()), Some(6130));
        v["receipt"] = serde_json::json!({
            "orderLines": [{"name": "Mug", "id": "1", "totalAmount": 24900,
              "totalAmountExcludingTax": 19920, "totalTaxAmount": 4980, "taxRate": 2500}],
            "bottomLine": {"currency": "NOK"}});
        assert!(create_json(v.clone()).is_ok());
        v["expiresAt"] = soon.into();
        assert_eq!(code(&create_json(v.clone()).unwrap_err()), Some(6120));
        v["expiresAt"] = late.into();
        assert_eq!(code(&create_json(v).unwrap_err()), Some(6110));
    }

    #[test]
    fn metadata_with_six_pairs_gives_4100() {
        let mut v = base();
        v["metadata"] = serde_json::json!({"a":"1","b":"2","c":"3","d":"4","e":"5","f":"6"});
        assert_eq!(code(&create_json(v).unwrap_err()), Some(4100));
    }

    #[test]
    fn cancel_accepts_no_body_empty_object_and_the_flag() {
        assert_eq!(cancel(b""), Ok(false));
        assert_eq!(cancel(b"{}"), Ok(false));
        assert_eq!(cancel(br#"{"cancelTransactionOnly": true}"#), Ok(true));
        assert!(cancel(b"{").is_err());
    }

    #[test]
    fn integer_reference_and_phone_are_read_as_their_digits_like_the_official_collection_sends_them(
    ) {
        let body = br#"{"amount":{"currency":"NOK","value":1000},"paymentMethod":{"type":"WALLET"},
            "customer":{"phoneNumber":4791234567},"reference":1234561795630277517,
            "userFlow":"WEB_REDIRECT","returnUrl":"https://example.com/redirect"}"#;
        let users = vec!["4791234567".to_owned()];
        let c = create(body, Utc::now(), &Rules::default(), &users).unwrap();
        assert_eq!(c.payment.reference, "1234561795630277517");
        assert_eq!(c.payment.customer_phone.as_deref(), Some("4791234567"));

        let approve = force_approve(
            br#"{"customer":{"phoneNumber":4791234567}}"#,
            &Rules::default(),
        )
        .unwrap();
        assert_eq!(approve.phone.as_deref(), Some("4791234567"));

        let strict = Rules {
            numbers_as_strings: false,
            ..Rules::default()
        };
        let r = create(body, Utc::now(), &strict, &users).unwrap_err();
        assert_eq!(r.extra[0].0, "Reference");
    }

    #[test]
    fn a_negative_or_fractional_reference_is_still_a_type_error() {
        for reference in ["-12345678", "12345678.5"] {
            let body = format!(
                r#"{{"amount":{{"currency":"NOK","value":1000}},"paymentMethod":{{"type":"WALLET"}},
                "reference":{reference},"userFlow":"WEB_REDIRECT","returnUrl":"https://example.com/r"}}"#
            );
            let r = create(body.as_bytes(), Utc::now(), &Rules::default(), &[]).unwrap_err();
            assert_eq!(r.extra[0].0, "Reference", "{reference}");
        }
    }
}

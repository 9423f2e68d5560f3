//! Token endpoint, authentication and the ePayment routes (behaviour.md §2,
//! §3, §5, §6): requests in, calls on the ledger, responses shaped like the real ones out.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::ledger::{self, Idem, Money, Op, Payment, State, Stored};
use super::ratelimit::Kind;
use super::token::{AccessClaims, PaymentClaims, Signer};
use super::validate::{self, Reject};
use super::{problem, Engine, SimConfig, SimRequest, SimResponse};

/// The gateway's answer when the subscription key header is missing (behaviour.md §2.1).
pub(crate) const MISSING_KEY: &str = "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.";
/// The gateway's answer for an unknown subscription key.
pub(crate) const INVALID_KEY: &str = "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.";
/// The gateway's answer for a missing, invalid or expired token (behaviour.md §5.4).
pub(crate) const BAD_TOKEN: &str = "Something went wrong, please try again later";

/// The `resource` of a token response (an Azure AD v1 client-credentials shape).
const RESOURCE: &str = "00000002-0000-0000-c000-000000000000";
const ISSUER: &str = "https://vipps-golive.simulator/";

/// Path of the landing page (the legacy eCom deeplink form, behaviour.md §3.1).
pub(crate) const LANDING_PATH: &str = "/dwo-api-application/v1/deeplink/vippsgateway";
/// Path of QR images.
pub(crate) const QR_PATH: &str = "/qr-image/v1";

/// Token signing: one random key per simulator (forgotten on reset, so old tokens die with it).
#[derive(Debug, Default)]
pub struct Auth {
    pub signer: Signer,
}

impl Auth {
    pub fn new(_config: &SimConfig) -> Self {
        Auth {
            signer: Signer::random(),
        }
    }

    /// Issues an access token for account `acct` (tests use this to skip the HTTP round trip).
    pub fn issue(
        &self,
        config: &SimConfig,
        acct: usize,
        now: DateTime<Utc>,
    ) -> Option<(String, i64, i64)> {
        let a = config.accounts.get(acct)?;
        let nbf = now.timestamp();
        let exp = nbf + i64::try_from(config.token_lifetime.as_secs()).unwrap_or(3600);
        let claims = AccessClaims {
            iss: ISSUER.into(),
            aud: RESOURCE.into(),
            appid: a.client_id.clone(),
            acct,
            iat: nbf,
            nbf,
            exp,
            jti: uuid::Uuid::new_v4().simple().to_string(),
        };
        Some((self.signer.sign(&claims), nbf, exp))
    }

    /// The payment token placed in redirect URLs.
    pub fn payment_token(&self, msn: &str, reference: &str, now: DateTime<Utc>) -> String {
        // Short claims: the token is kept with every payment. (msn, ref) is unique per simulator key.
        self.signer.sign(&PaymentClaims {
            msn: msn.to_owned(),
            reference: reference.to_owned(),
            iat: now.timestamp(),
        })
    }

    /// (msn, reference) of a payment token this simulator issued.
    pub(crate) fn read_payment_token(&self, token: &str) -> Option<PaymentClaims> {
        self.signer.verify(token)
    }
}

/// Who a request authenticated as.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The MSN the request acts for (from the Merchant-Serial-Number header, checked against the token).
    pub msn: String,
    /// The subscription key used.
    pub subscription_key: String,
}

fn bad_token(why: &str) -> SimResponse {
    // The body is what the gateway sends; the standard header says what was wrong.
    problem::gateway(401, BAD_TOKEN).with_header(
        "www-authenticate",
        format!("Bearer error=\"invalid_token\", error_description=\"{why}\""),
    )
}

/// Checks Authorization (bearer token issued by this simulator and still valid),
/// Ocp-Apim-Subscription-Key (gateway-shaped 401) and Merchant-Serial-Number.
/// `Err` is the response to send.
pub fn authenticate(engine: &Engine, req: &SimRequest) -> Result<Principal, SimResponse> {
    let key = match req.header("ocp-apim-subscription-key") {
        None | Some("") => return Err(problem::gateway(401, MISSING_KEY)),
        Some(k) => k,
    };
    let Some((idx, acct)) = engine
        .config
        .accounts
        .iter()
        .enumerate()
        .find(|(_, a)| a.subscription_key == key)
    else {
        return Err(problem::gateway(401, INVALID_KEY));
    };
    let Some(auth) = req.header("authorization") else {
        return Err(bad_token("the Authorization header is missing"));
    };
    // Vipps: "`bearer` is not `Bearer`" (behaviour.md §11).
    let Some(jwt) = auth.strip_prefix("Bearer ") else {
        return Err(bad_token(
            "the Authorization header must be `Bearer <token>`",
        ));
    };
    let Some(claims) = engine.auth.signer.verify_access(jwt.trim()) else {
        return Err(bad_token("the token was not issued by this simulator"));
    };
    let now = engine.now().timestamp();
    if now >= claims.exp {
        return Err(bad_token("the token has expired"));
    }
    if now < claims.nbf {
        return Err(bad_token("the token is not valid yet"));
    }
    if claims.acct != idx || claims.appid != acct.client_id {
        return Err(bad_token(
            "the token was issued for another subscription key",
        ));
    }
    match req.header("merchant-serial-number").map(str::trim) {
        // OPEN(§16.6): the spec marks the header required, so leaving it out is a
        // 400 validation error rather than a silent default to the key's MSN.
        None | Some("") => Err(problem::problem(
            req,
            400,
            "Missing required parameter",
            "The Merchant-Serial-Number header is required.",
            Some(4140),
            &[(
                "Merchant-Serial-Number".into(),
                "The Merchant-Serial-Number header is required.".into(),
            )],
        )),
        Some(m) if m == acct.msn => Ok(Principal {
            msn: acct.msn.clone(),
            subscription_key: key.to_owned(),
        }),
        Some(m) => Err(problem::problem(
            req,
            403,
            "Invalid MSN",
            &format!(
                "Invalid MSN: `{}` does not belong to this subscription key.",
                truncate(m, 20)
            ),
            None,
            &[],
        )),
    }
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The token spec's optional `Merchant-Serial-Number` header (`^[0-9]{4,6}$`):
/// one that is not the client's own sales unit gets the 403 every other API
/// answers a foreign MSN with (behaviour.md §11: the token and the business
/// calls must use the same key and MSN). Found by Schemathesis; issue 23 point 4.
fn token_msn_refused(req: &SimRequest, own: &str) -> Option<SimResponse> {
    let m = req.header("merchant-serial-number")?;
    (m != own).then(|| {
        problem::problem(
            req,
            403,
            "Invalid MSN",
            &format!(
                "Invalid MSN: `{}` does not belong to this client_id.",
                truncate(m, 20)
            ),
            None,
            &[],
        )
    })
}

/// `POST /accesstoken/get`.
pub fn token(engine: &mut Engine, req: &SimRequest) -> SimResponse {
    if req.method != "POST" {
        return problem::method_not_allowed(req, "POST");
    }
    let key = match req.header("ocp-apim-subscription-key") {
        None | Some("") => return problem::gateway(401, MISSING_KEY),
        Some(k) => k,
    };
    if !engine
        .config
        .accounts
        .iter()
        .any(|a| a.subscription_key == key)
    {
        return problem::gateway(401, INVALID_KEY);
    }
    // The access token spec declares the Vipps-System-* headers, `maxLength: 30`
    // (found by Schemathesis; issue 23 point 4).
    if let Err(r) = validate::system_headers(req) {
        return r.respond(req);
    }
    let client_id = req.header("client_id").unwrap_or("");
    let Some(idx) = engine
        .config
        .accounts
        .iter()
        .position(|a| a.client_id == client_id)
    else {
        return problem::aad(
            400,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{}' was not found in the directory 'vipps-golive-simulator'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                truncate(client_id, 64)
            ),
        );
    };
    let acct = &engine.config.accounts[idx];
    if let Some(resp) = token_msn_refused(req, &acct.msn) {
        return resp;
    }
    if req.header("client_secret") != Some(acct.client_secret.as_str()) {
        // OPEN(§16.2): undocumented; the Azure AD answer for a wrong secret.
        return problem::aad(
            401,
            "invalid_client",
            7000215,
            &format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                acct.client_id
            ),
        );
    }
    let now = engine.now();
    let Some((jwt, nbf, exp)) = engine.auth.issue(&engine.config, idx, now) else {
        return problem::gateway(500, "token issue failed");
    };
    let lifetime = exp - nbf;
    // Every field is a JSON string (behaviour.md §2.1, OPEN §16.1: strings).
    SimResponse::json(
        200,
        &json!({
            "token_type": "Bearer",
            "expires_in": lifetime.to_string(),
            "ext_expires_in": "0",
            "expires_on": exp.to_string(),
            "not_before": nbf.to_string(),
            "resource": RESOURCE,
            "access_token": jwt,
        }),
    )
}

/// The ePayment operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route<'a> {
    Create,
    Get(&'a str),
    Events(&'a str),
    Cancel(&'a str),
    Capture(&'a str),
    Refund(&'a str),
    Approve(&'a str),
}

fn route(req: &SimRequest) -> Result<Route<'_>, SimResponse> {
    let mut segs = req.path.split('/').filter(|s| !s.is_empty());
    let mut parts: [&str; 7] = [""; 7];
    let mut n = 0;
    for s in segs.by_ref() {
        if n == parts.len() {
            return Err(problem::not_found(req));
        }
        parts[n] = s;
        n += 1;
    }
    let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    if n < 3 || !eq(parts[0], "epayment") || !eq(parts[1], "v1") {
        return Err(problem::not_found(req));
    }
    let (route, method) = if eq(parts[2], "payments") {
        match n {
            3 => (Route::Create, "POST"),
            4 => (Route::Get(parts[3]), "GET"),
            5 if eq(parts[4], "events") => (Route::Events(parts[3]), "GET"),
            5 if eq(parts[4], "cancel") => (Route::Cancel(parts[3]), "POST"),
            5 if eq(parts[4], "capture") => (Route::Capture(parts[3]), "POST"),
            5 if eq(parts[4], "refund") => (Route::Refund(parts[3]), "POST"),
            _ => return Err(problem::not_found(req)),
        }
    } else if eq(parts[2], "test") && n == 6 && eq(parts[3], "payments") && eq(parts[5], "approve")
    {
        (Route::Approve(parts[4]), "POST")
    } else {
        return Err(problem::not_found(req));
    };
    if req.method != method {
        return Err(problem::method_not_allowed(req, method));
    }
    Ok(route)
}

/// Everything under `/epayment/`.
pub fn epayment(engine: &mut Engine, req: &SimRequest) -> SimResponse {
    let route = match route(req) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let principal = match authenticate(engine, req) {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let result = match route {
        Route::Create => create(engine, req, &principal),
        Route::Get(r) => get(engine, req, &principal, r, false),
        Route::Events(r) => get(engine, req, &principal, r, true),
        Route::Cancel(r) => modify(engine, req, &principal, r, Op::Cancel),
        Route::Capture(r) => modify(engine, req, &principal, r, Op::Capture),
        Route::Refund(r) => modify(engine, req, &principal, r, Op::Refund),
        Route::Approve(r) => force_approve(engine, req, &principal, r),
    };
    match result {
        Ok(resp) | Err(Fail::Response(resp)) => resp,
        Err(Fail::Reject(r)) => r.respond(req),
    }
}

/// Why a route stopped early.
enum Fail {
    Reject(Reject),
    Response(SimResponse),
}

impl From<Reject> for Fail {
    fn from(r: Reject) -> Self {
        Fail::Reject(r)
    }
}

fn rate_limited(seconds: u64) -> SimResponse {
    problem::gateway(
        429,
        &format!("Rate limit is exceeded. Try again in {seconds} seconds."),
    )
    .with_header("retry-after", seconds.to_string())
}

fn limit(engine: &mut Engine, kind: Kind, scope: &str, reference: &str) -> Result<(), Fail> {
    let now = engine.now();
    engine
        .limits
        .check(kind, scope, reference, now)
        .map_err(|s| Fail::Response(rate_limited(s)))
}

fn not_found(req: &SimRequest, msn: &str, reference: &str) -> Fail {
    Fail::Response(reference_not_found(req, msn, reference))
}

/// 404 with code 5090: `reference` does not exist for `msn` (behaviour.md §3.2).
pub(crate) fn reference_not_found(req: &SimRequest, msn: &str, reference: &str) -> SimResponse {
    problem::problem(
        req,
        404,
        "Reference not found",
        &format!("The reference {reference} does not exist for MSN {msn}."),
        Some(5090),
        &[],
    )
}

/// The 409 for a known Idempotency-Key sent with another body.
fn idempotency_conflict(req: &SimRequest, key: &str, code: u32, title: &str) -> SimResponse {
    problem::problem(
        req,
        409,
        title,
        &format!("Idempotency-Key `{key}` already exists with another request body."),
        Some(code),
        &[],
    )
}

fn op_error(req: &SimRequest, e: &ledger::OpError) -> SimResponse {
    let status = if e.code == 5090 { 404 } else { 400 };
    problem::problem(req, status, e.title, &e.detail, Some(e.code), &[])
}

/// What to keep of a Problem answer for replay (its bytes: the traceId must repeat too).
fn stored_raw(resp: &SimResponse) -> Stored {
    Stored::Raw {
        status: resp.status,
        problem: resp
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/problem")),
        body: resp.body.clone().into_boxed_slice(),
    }
}

/// Rebuilds a kept answer, byte for byte.
fn replay(s: Stored, p: &Payment, base: &str) -> SimResponse {
    match s {
        Stored::Created => created_response(p, base),
        Stored::Modified(snap) => modification_view(p, snap),
        raw => replay_raw(raw),
    }
}

/// Rebuilds a kept raw answer (a Problem); other kinds need their payment.
fn replay_raw(s: Stored) -> SimResponse {
    match s {
        Stored::Created | Stored::Modified(_) => problem::gateway(500, "nothing to replay"),
        Stored::Raw {
            status,
            problem,
            body,
        } => {
            let ct = if problem {
                "application/problem+json; charset=utf-8"
            } else {
                "application/json; charset=utf-8"
            };
            SimResponse {
                status,
                headers: if body.is_empty() {
                    Vec::new()
                } else {
                    vec![("content-type".into(), ct.into())]
                },
                body: body.into_vec(),
            }
        }
    }
}

/// The redirect URL of a payment (behaviour.md §3.1; two `=` before the token).
pub(crate) fn redirect_url(p: &Payment, base: &str) -> Option<String> {
    use ledger::Flow::*;
    let token = &p.token;
    match p.flow {
        WebRedirect => Some(format!("{base}{LANDING_PATH}?v=2&token={token}")),
        NativeRedirect => Some(format!("vippsMT://?v=2&token={token}")),
        Qr if p.qr_target_url => Some(format!("{base}{LANDING_PATH}?v=2&token={token}")),
        Qr => Some(format!("{base}{QR_PATH}?v=2&token={token}")),
        PushMessage => None,
    }
}

fn created_response(p: &Payment, base: &str) -> SimResponse {
    let body = match redirect_url(p, base) {
        Some(u) => json!({ "redirectUrl": u, "reference": &*p.reference }),
        None => json!({ "reference": &*p.reference }),
    };
    SimResponse::json(201, &body)
}

fn create(engine: &mut Engine, req: &SimRequest, who: &Principal) -> Result<SimResponse, Fail> {
    validate::content_type(req, &engine.ledger.rules)?;
    validate::system_headers(req)?;
    let key = validate::idempotency_key(req)?;
    let hash = ledger::body_hash(&req.body);
    // A key first sent with a body that was refused stays bound to that body
    // (behaviour.md §6.2, §6.3): the same body gets the same 4xx, another body a 409.
    match engine.ledger.rejected_create(&who.msn, key, hash) {
        Idem::Fresh => {}
        Idem::Replay(s) => return Ok(replay_raw(s)),
        Idem::Conflict => return Ok(idempotency_conflict(req, key, 4020, "Idempotency error")),
    }
    // A key that made a payment is bound to that create's body too: another
    // body (another reference, amount, anything) is a 409, never a second
    // payment (§6.3; issue 23, deviation 5). The same body falls through to
    // the replay below.
    if let Some(first) = engine.ledger.created_with_key(&who.msn, key) {
        let first = first.to_owned();
        if engine
            .ledger
            .idempotency(&who.msn, &first, Op::Create, key, hash)
            == Idem::Conflict
        {
            return Ok(idempotency_conflict(req, key, 4020, "Idempotency error"));
        }
    }
    let refused = |engine: &mut Engine, resp: SimResponse| -> Result<SimResponse, Fail> {
        let keep = stored_raw(&resp);
        engine
            .ledger
            .remember_rejected_create(&who.msn, key, hash, keep);
        Ok(resp)
    };
    let now = engine.now();
    let c = match validate::create(
        &req.body,
        now,
        &engine.ledger.rules,
        &engine.config.test_users,
    ) {
        Ok(c) => c,
        Err(reject) => return refused(engine, reject.respond(req)),
    };
    let reference = c.payment.reference.clone();
    // The unit's market decides the currency it takes (units::Market).
    let known_unit = engine.config.accounts.iter().any(|a| a.msn == who.msn);
    let market = known_unit.then(|| engine.config.market_of(&who.msn).currency());
    if let Some(market) = market {
        let currency = c.payment.amount.currency.as_str();
        if currency != market {
            let resp = problem::problem(
                req,
                400,
                "Invalid currency for merchant",
                &format!("Currency `{currency}` is not allowed for MSN `{}`; its market currency is `{market}`.", who.msn),
                Some(5040),
                &[("Amount.Currency".into(), format!("The sales unit takes {market}."))],
            );
            return refused(engine, resp);
        }
    }
    if let Some(resp) = unit_gates(engine, req, &who.msn, &c.payment, c.shipping.is_some()) {
        return refused(engine, resp);
    }
    limit(engine, Kind::Create, &who.msn, &reference)?;
    if engine.ledger.get(&who.msn, &reference).is_some() {
        return match engine
            .ledger
            .idempotency(&who.msn, &reference, Op::Create, key, hash)
        {
            Idem::Replay(s) => match engine.ledger.get(&who.msn, &reference) {
                Some(p) => Ok(replay(s, p, &engine.base_url)),
                None => Err(not_found(req, &who.msn, &reference)),
            },
            Idem::Conflict => Ok(idempotency_conflict(req, key, 4020, "Idempotency error")),
            // OPEN(§16.6): a new key on an existing reference is a 409 with code 4150.
            Idem::Fresh => Ok(problem::problem(
                req,
                409,
                "Reference exists",
                &format!("Reference `{reference}` already exists."),
                Some(4150),
                &[],
            )),
        };
    }
    let token = engine.auth.payment_token(&who.msn, &reference, now);
    engine
        .ledger
        .create(&who.msn, c.payment, token, key, now, &mut engine.outbox);
    if let Some(s) = c.shipping {
        engine.ledger.set_shipping(&who.msn, &reference, s);
    }
    let Some(p) = engine.ledger.get(&who.msn, &reference) else {
        return Err(not_found(req, &who.msn, &reference));
    };
    let resp = created_response(p, &engine.base_url);
    engine
        .ledger
        .remember(&who.msn, &reference, Op::Create, key, hash, Stored::Created);
    Ok(resp)
}

/// The sales-unit approval gates (behaviour.md §3.1, §5.3, §14; issue 14
/// point 1): what the unit is not approved for is refused with its own code.
/// OPEN(§5.2): the status of 5xxx merchant-configuration errors is not
/// documented; 400 as for the other catalogue codes.
fn unit_gates(
    engine: &Engine,
    req: &SimRequest,
    msn: &str,
    p: &ledger::NewPayment,
    express: bool,
) -> Option<SimResponse> {
    let caps = engine.config.capabilities_of(msn);
    let refuse = |code: u32, title: &str, field: &str, detail: String| {
        Some(problem::problem(
            req,
            400,
            title,
            &detail,
            Some(code),
            &[(field.to_owned(), detail.clone())],
        ))
    };
    if p.expires_at.is_some() && !caps.long_living {
        return refuse(
            5050,
            "Long-living payment not allowed",
            "ExpiresAt",
            format!("MSN `{msn}` is not approved for long-living payments (expiresAt) (hint: ask Vipps MobilePay to enable them for the sales unit, or leave out expiresAt)."),
        );
    }
    if p.flow == ledger::Flow::PushMessage && !caps.push_message {
        return refuse(
            5080,
            "PUSH_MESSAGE not allowed",
            "UserFlow",
            format!("MSN `{msn}` is not approved for userFlow PUSH_MESSAGE (skip landing page) (hint: use WEB_REDIRECT, or ask Vipps MobilePay to approve the sales unit)."),
        );
    }
    if express && !caps.express {
        // behaviour.md §5.3: 5020 "Express payment not allowed".
        return refuse(
            5020,
            "Express payment not allowed",
            "Shipping",
            format!("MSN `{msn}` is not approved for Express checkout (shipping) (hint: leave out shipping, or ask Vipps MobilePay to enable Express for the sales unit; in the simulator, `\"express\": true` in --units FILE)."),
        );
    }
    if p.method == ledger::MethodType::Card && !caps.card {
        // OPEN: no code is documented for CARD in the test environment (§14:
        // "not available"); 4160 "Invalid payment method type" is the closest.
        return refuse(
            4160,
            "Invalid payment method type",
            "PaymentMethod.Type",
            format!("Payment method CARD is not available for MSN `{msn}` (the test environment has no freestanding card payments) (hint: use WALLET)."),
        );
    }
    None
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AggregateView {
    authorized_amount: Money,
    cancelled_amount: Money,
    captured_amount: Money,
    refunded_amount: Money,
}

fn aggregate(p: &Payment, s: ledger::Snapshot) -> AggregateView {
    AggregateView {
        authorized_amount: p.money(s.authorized),
        cancelled_amount: p.money(s.cancelled),
        captured_amount: p.money(s.captured),
        refunded_amount: p.money(s.refunded),
    }
}

#[derive(Serialize)]
struct MethodView {
    #[serde(rename = "type")]
    kind: ledger::MethodType,
}

#[derive(Serialize)]
struct ProfileView {
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PaymentView<'a> {
    aggregate: AggregateView,
    amount: Money,
    state: State,
    payment_method: MethodView,
    profile: ProfileView,
    psp_reference: String,
    reference: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    redirect_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<MetadataView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_details: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shipping_details: Option<serde_json::Value>,
}

/// Express checkout, once the customer has approved: who they are and
/// where it goes (behaviour.md §3.2 "userDetails/shippingDetails for
/// Express"). The simulated customer is the test user with a fixed address.
fn express_details(p: &Payment) -> (Option<serde_json::Value>, Option<serde_json::Value>) {
    let Some(s) = p.shipping.as_deref().filter(|_| p.authorized_at.is_some()) else {
        return (None, None);
    };
    let phone = p.customer_phone.as_deref().unwrap_or("4791234567");
    let user = json!({
        "userId": p.profile_sub.map(|u| u.hyphenated().to_string()).unwrap_or_default(),
        "firstName": "Test",
        "lastName": "User",
        "email": "test.user@example.com",
        "mobileNumber": phone,
    });
    let shipping = json!({
        "address": {
            "addressLine1": "Robert Levins gate 5",
            "city": "Oslo",
            "country": "NO",
            "postCode": "0154",
        },
        "shippingCost": s.cost,
        "shippingOptionId": &*s.option_id,
        "shippingOptionName": &*s.option_name,
    });
    (Some(user), Some(shipping))
}

/// Metadata pairs, serialized as a JSON object.
struct MetadataView<'a>(&'a [(Box<str>, Box<str>)]);

impl Serialize for MetadataView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(&**k, &**v)?;
        }
        m.end()
    }
}

/// The GetPaymentResponse of a payment (also used by the control API).
pub(crate) fn payment_view(p: &Payment, base: &str) -> SimResponse {
    let (user_details, shipping_details) = express_details(p);
    SimResponse::json(
        200,
        &PaymentView {
            aggregate: aggregate(p, p.snapshot()),
            amount: p.amount,
            state: p.state,
            payment_method: MethodView { kind: p.method },
            profile: ProfileView {
                sub: p.profile_sub.map(|u| u.hyphenated().to_string()),
            },
            psp_reference: p.psp_reference.hyphenated().to_string(),
            reference: &p.reference,
            redirect_url: redirect_url(p, base),
            metadata: p.metadata.as_deref().map(MetadataView),
            user_details,
            shipping_details,
        },
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventView<'a> {
    reference: &'a str,
    psp_reference: String,
    name: ledger::EventName,
    amount: Money,
    timestamp: String,
    idempotency_key: Option<&'a str>,
    success: bool,
}

/// The event log of a payment, oldest first.
pub(crate) fn events_view(p: &Payment) -> SimResponse {
    let events: Vec<EventView<'_>> = p
        .events
        .iter()
        .map(|e| EventView {
            reference: &p.reference,
            psp_reference: e.psp.to_string(),
            name: e.name,
            amount: p.money(e.amount),
            timestamp: ledger::timestamp(e.timestamp),
            idempotency_key: e.idempotency_key.as_deref(),
            success: e.success,
        })
        .collect();
    SimResponse::json(200, &events)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ModificationView<'a> {
    amount: Money,
    state: State,
    aggregate: AggregateView,
    psp_reference: String,
    reference: &'a str,
}

fn modification_view(p: &Payment, snap: ledger::Snapshot) -> SimResponse {
    SimResponse::json(
        200,
        &ModificationView {
            amount: p.amount,
            state: snap.state,
            aggregate: aggregate(p, snap),
            psp_reference: p.psp_reference.hyphenated().to_string(),
            reference: &p.reference,
        },
    )
}

fn get(
    engine: &mut Engine,
    req: &SimRequest,
    who: &Principal,
    reference: &str,
    events: bool,
) -> Result<SimResponse, Fail> {
    validate::reference(reference, "reference", &engine.ledger.rules)?;
    let kind = if events { Kind::Events } else { Kind::Get };
    limit(engine, kind, &who.subscription_key, reference)?;
    let p = engine
        .ledger
        .get(&who.msn, reference)
        .ok_or_else(|| not_found(req, &who.msn, reference))?;
    Ok(if events {
        events_view(p)
    } else {
        payment_view(p, &engine.base_url)
    })
}

/// The parsed body of a capture, refund or cancel.
enum Cmd {
    Cancel(bool),
    Capture(Money),
    Refund(Money),
}

fn parse_modification(op: Op, body: &[u8]) -> Result<Cmd, Reject> {
    Ok(match op {
        Op::Capture => Cmd::Capture(validate::modification(body)?),
        Op::Refund => Cmd::Refund(validate::modification(body)?),
        _ => Cmd::Cancel(validate::cancel(body)?),
    })
}

/// 423 with code 6160: another modification of the payment is being processed
/// (behaviour.md §5.2; `SimConfig::processing`).
fn order_processing(req: &SimRequest, reference: &str, seconds: u64) -> SimResponse {
    problem::problem(
        req,
        423,
        "Order processing",
        &format!("Another operation on reference `{reference}` is being processed. Retry with the same Idempotency-Key."),
        Some(6160),
        &[],
    )
    .with_header("retry-after", seconds.max(1).to_string())
}

fn modify(
    engine: &mut Engine,
    req: &SimRequest,
    who: &Principal,
    reference: &str,
    op: Op,
) -> Result<SimResponse, Fail> {
    validate::reference(reference, "reference", &engine.ledger.rules)?;
    validate::content_type(req, &engine.ledger.rules)?;
    validate::system_headers(req)?;
    let key = validate::idempotency_key(req)?;
    let kind = match op {
        Op::Cancel => Kind::Cancel,
        Op::Capture => Kind::Capture,
        Op::Refund => Kind::Refund,
        Op::Create => Kind::Create,
    };
    limit(engine, kind, &who.msn, reference)?;
    if engine.ledger.get(&who.msn, reference).is_none() {
        // A malformed body is still a 400 on an unknown reference.
        parse_modification(op, &req.body)?;
        return Err(not_found(req, &who.msn, reference));
    }
    let now = engine.now();
    if let Some(until) = engine.ledger.busy_until(&who.msn, reference, now) {
        let left = (until - now).num_milliseconds().max(0) as u64;
        return Ok(order_processing(req, reference, left.div_ceil(1000)));
    }
    let hash = ledger::body_hash(&req.body);
    match engine
        .ledger
        .idempotency(&who.msn, reference, op, key, hash)
    {
        Idem::Replay(s) => {
            return match engine.ledger.get(&who.msn, reference) {
                Some(p) => Ok(replay(s, p, &engine.base_url)),
                None => Err(not_found(req, &who.msn, reference)),
            }
        }
        Idem::Conflict => {
            let (code, title) = match op {
                Op::Capture => (4010, "Capture idempotency conflict"),
                Op::Refund => (4150, "Refund idempotency conflict"),
                _ => (4020, "Idempotency error"),
            };
            return Ok(idempotency_conflict(req, key, code, title));
        }
        Idem::Fresh => {}
    }
    // The body is validated after the idempotency lookup, and a 400 is kept
    // like any other first answer: the key stays bound to its first body, so
    // a "corrected" body with the same key is a 409, not a second attempt
    // (behaviour.md §6.2, §6.3; issue 14 point 3).
    let cmd = match parse_modification(op, &req.body) {
        Ok(c) => c,
        Err(reject) => {
            let resp = reject.respond(req);
            let keep = stored_raw(&resp);
            engine
                .ledger
                .remember(&who.msn, reference, op, key, hash, keep);
            return Ok(resp);
        }
    };
    let outbox = &mut engine.outbox;
    let result = match cmd {
        Cmd::Cancel(only) => engine
            .ledger
            .cancel(&who.msn, reference, only, key, now, outbox),
        Cmd::Capture(m) => engine
            .ledger
            .capture(&who.msn, reference, m, key, now, outbox),
        Cmd::Refund(m) => engine
            .ledger
            .refund(&who.msn, reference, m, key, now, outbox),
    };
    let (resp, keep) = match result {
        Ok(()) => match engine.ledger.get(&who.msn, reference) {
            Some(p) => (
                modification_view(p, p.snapshot()),
                Stored::Modified(p.snapshot()),
            ),
            None => return Err(not_found(req, &who.msn, reference)),
        },
        Err(e) => {
            let resp = op_error(req, &e);
            let keep = stored_raw(&resp);
            (resp, keep)
        }
    };
    // A first 4xx is kept too: retries with the same key get it again (behaviour.md §6.2).
    engine
        .ledger
        .remember(&who.msn, reference, op, key, hash, keep);
    let processing = engine.config.processing;
    if !processing.is_zero() && resp.status == 200 {
        // The effect is in the ledger now; the answer leaves when processing
        // ends, and until then other modifications of the payment get 423.
        let until =
            now + chrono::Duration::from_std(processing).unwrap_or(chrono::Duration::zero());
        engine.ledger.mark_busy(&who.msn, reference, now, until);
        engine.reply_until = Some(until);
    }
    Ok(resp)
}

fn force_approve(
    engine: &mut Engine,
    req: &SimRequest,
    who: &Principal,
    reference: &str,
) -> Result<SimResponse, Fail> {
    validate::reference(reference, "reference", &engine.ledger.rules)?;
    validate::content_type(req, &engine.ledger.rules)?;
    let body = validate::force_approve(&req.body, &engine.ledger.rules)?;
    let Some(p) = engine.ledger.get(&who.msn, reference) else {
        return Err(not_found(req, &who.msn, reference));
    };
    if let Some(phone) = &body.phone {
        if !engine.config.test_users.iter().any(|u| u == phone) {
            return Err(Reject::coded(
                7010,
                "Customer not found",
                "Customer.PhoneNumber",
                "No test user has this phone number (hint: use one of the simulator's test users).",
            )
            .into());
        }
    }
    if let Some(t) = &body.token {
        if t.as_str() != &*p.token {
            return Err(Reject::coded(
                10010,
                "Approve failed",
                "Token",
                "The token does not belong to this payment (hint: take it from the redirectUrl of the create response).",
            )
            .into());
        }
    }
    let now = engine.now();
    match engine
        .ledger
        .authorize(&who.msn, reference, now, &mut engine.outbox)
    {
        Ok(()) => Ok(SimResponse::empty(200)),
        Err(e) => Ok(op_error(req, &e)),
    }
}

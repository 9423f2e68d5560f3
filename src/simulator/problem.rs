//! Error bodies shaped like the real ones (behaviour.md §5): RFC 7807 Problems
//! for ePayment, the gateway's `{statusCode, message}` and AAD token errors.

use serde_json::{json, Value};

use super::{SimRequest, SimResponse};

/// A W3C traceparent-shaped trace id: `00-<32 hex>-<16 hex>-01`.
pub fn trace_id() -> String {
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string();
    format!("00-{a}-{}-01", &b[..16])
}

/// An ePayment Problem (`application/problem+json`).
///
/// `code` is the numeric ErrorCode of the §5.3 catalogue, sent as
/// `extraDetails: [{"name": "ErrorCode", "reason": "<code>"}]`; validation
/// problems pass `None` and name the field in `extra` instead.
pub fn problem(
    req: &SimRequest,
    status: u16,
    title: &str,
    detail: &str,
    code: Option<u32>,
    extra: &[(String, String)],
) -> SimResponse {
    let mut extra_details: Vec<Value> = extra
        .iter()
        .map(|(n, r)| json!({ "name": n, "reason": r }))
        .collect();
    if let Some(code) = code {
        extra_details.push(json!({ "name": "ErrorCode", "reason": code.to_string() }));
    }
    let body = json!({
        "type": format!("https://httpstatuses.io/{status}"),
        "title": title,
        "detail": detail,
        "instance": instance(&req.path),
        "status": status,
        "traceId": trace_id(),
        "extraDetails": if extra_details.is_empty() { Value::Null } else { Value::Array(extra_details) },
    });
    let mut resp = SimResponse::json(status, &body);
    resp.headers = vec![(
        "content-type".into(),
        "application/problem+json; charset=utf-8".into(),
    )];
    resp
}

/// The backend path without the `/epayment` prefix (behaviour.md §5.1).
fn instance(path: &str) -> String {
    path.strip_prefix("/epayment").unwrap_or(path).to_owned()
}

/// 503 when the journal file cannot be written: the simulator refuses to
/// answer a request it cannot record (issue 22), and says why.
pub fn journal_unavailable(
    req: &SimRequest,
    e: &super::journal::JournalUnavailable,
) -> SimResponse {
    problem(
        req,
        503,
        "Service Unavailable",
        &format!(
            "The simulator's journal cannot be written ({}), so this request was not answered: traffic nobody could audit is worse than none. Free disk space or fix the journal file; the simulator tries again every second.",
            e.reason
        ),
        None,
        &[],
    )
}

/// 408 when the request body did not arrive whole in time.
pub fn body_timeout(req: &SimRequest, after: std::time::Duration) -> SimResponse {
    problem(
        req,
        408,
        "Request Timeout",
        &format!(
            "The request body did not arrive within {} s; the request was not handled.",
            after.as_secs_f64()
        ),
        None,
        &[],
    )
}

/// 404 for a path no API serves, in the API's own error shape.
pub fn not_found(req: &SimRequest) -> SimResponse {
    problem(
        req,
        404,
        "Not Found",
        &format!("No resource at `{} {}`.", req.method, req.path),
        None,
        &[],
    )
}

/// 405 for a known path with the wrong method.
pub(crate) fn method_not_allowed(req: &SimRequest, allowed: &str) -> SimResponse {
    problem(
        req,
        405,
        "Method Not Allowed",
        &format!(
            "`{}` is not allowed on `{}`; use {allowed}.",
            req.method, req.path
        ),
        None,
        &[],
    )
    .with_header("allow", allowed)
}

/// 400 for a body over the limit.
pub(crate) fn body_too_large(req: &SimRequest, limit: usize) -> SimResponse {
    problem(
        req,
        400,
        "Bad Request",
        &format!("The request body is larger than {limit} bytes."),
        None,
        &[(
            "Body".into(),
            format!("The body must be at most {limit} bytes."),
        )],
    )
}

/// The gateway (Azure APIM) shape: `{"statusCode": N, "message": "..."}`.
pub fn gateway(status: u16, message: &str) -> SimResponse {
    SimResponse::json(status, &json!({ "statusCode": status, "message": message }))
}

/// The token service (Azure AD) shape.
pub(crate) fn aad(status: u16, error: &str, code: u32, description: &str) -> SimResponse {
    let now = chrono::Utc::now();
    SimResponse::json(
        status,
        &json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description}"),
            "error_codes": [code],
            "timestamp": now.format("%Y-%m-%d %H:%M:%SZ").to_string(),
            "trace_id": uuid::Uuid::new_v4().to_string(),
            "correlation_id": uuid::Uuid::new_v4().to_string(),
            "error_uri": format!("https://login.windows.net/error?code={code}"),
        }),
    )
}

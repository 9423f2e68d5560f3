//! Problem bodies: what an error answer of the Vipps APIs says, recognised by
//! its shape (RFC 7807 Problem, the gateway's `{statusCode, message}`, the
//! token service's Azure AD shape), and what it means in plain words for
//! customers, staff and the report.
//!
//! The explanation branches on the ErrorCode, then the status, never on the
//! title: titles are prose that Vipps may reword.

use serde::{Deserialize, Serialize};

/// One `extraDetails` entry of a Problem: `{name, reason}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraDetail {
    /// Field name, or `ErrorCode` for the numeric domain code.
    #[serde(default)]
    pub name: Option<String>,
    /// What is wrong, or the code itself.
    #[serde(default)]
    pub reason: Option<String>,
}

/// One `invalidParams` entry of an Order Management error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidParam {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// An RFC 7807 Problem as ePayment, Webhooks and Order Management send it
/// (behaviour.md §5.1, §9.1, §10.4). Every field is optional because the
/// three APIs each fill a different subset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub trace_id: Option<String>,
    #[serde(default)]
    pub instance: Option<String>,
    #[serde(default)]
    pub extra_details: Option<Vec<ExtraDetail>>,
    /// Order Management's field errors.
    #[serde(default)]
    pub invalid_params: Option<Vec<InvalidParam>>,
}

impl Problem {
    /// The numeric ErrorCode from `extraDetails` (`{"name": "ErrorCode", "reason": "6090"}`).
    pub fn error_code(&self) -> Option<u32> {
        self.extra_details
            .iter()
            .flatten()
            .filter(|d| {
                d.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case("ErrorCode"))
            })
            .find_map(|d| d.reason.as_deref().and_then(|r| r.trim().parse().ok()))
    }

    /// The field-level details (everything in `extraDetails` and
    /// `invalidParams` except the ErrorCode), as `(name, reason)`.
    pub fn field_errors(&self) -> Vec<(String, String)> {
        let extra = self.extra_details.iter().flatten().filter_map(|d| {
            let name = d.name.clone().unwrap_or_default();
            (!name.eq_ignore_ascii_case("ErrorCode"))
                .then(|| (name, d.reason.clone().unwrap_or_default()))
        });
        let invalid = self.invalid_params.iter().flatten().map(|p| {
            (
                p.name.clone().unwrap_or_default(),
                p.reason.clone().unwrap_or_default(),
            )
        });
        extra.chain(invalid).collect()
    }

    /// The trace id: `traceId`, or Order Management's traceparent-looking `instance`.
    pub fn trace(&self) -> Option<&str> {
        self.trace_id.as_deref().or_else(|| {
            self.instance
                .as_deref()
                .filter(|i| i.starts_with("00-") && !i.contains('/'))
        })
    }
}

/// The API gateway's own error shape (behaviour.md §5.4): `{statusCode, message}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayError {
    #[serde(default)]
    pub status_code: Option<u16>,
    #[serde(default)]
    pub message: Option<String>,
}

/// The token service's Azure AD shape (behaviour.md §2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenError {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
    #[serde(default)]
    pub error_codes: Option<Vec<u64>>,
    #[serde(default)]
    pub trace_id: Option<String>,
    #[serde(default)]
    pub correlation_id: Option<String>,
    #[serde(default)]
    pub timestamp: Option<String>,
}

/// What an error response's body was, recognised by shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum ErrorBody {
    /// RFC 7807 Problem (ePayment, Webhooks, Order Management).
    Problem(Problem),
    /// Gateway `{statusCode, message}`.
    Gateway(GatewayError),
    /// Token service `{error, error_description, error_codes}`.
    Token(TokenError),
    /// Anything else (kept as text, cut to 2 000 characters).
    Other { text: String },
    /// No body at all.
    Empty,
}

impl ErrorBody {
    /// Recognises the shape of an error body.
    pub fn parse(bytes: &[u8]) -> ErrorBody {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return ErrorBody::Empty;
        }
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
            if let Some(obj) = v.as_object() {
                if obj.contains_key("error") && obj.get("error").is_some_and(|e| e.is_string()) {
                    if let Ok(t) = serde_json::from_value::<TokenError>(v.clone()) {
                        return ErrorBody::Token(t);
                    }
                }
                if obj.contains_key("statusCode") && !obj.contains_key("title") {
                    if let Ok(g) = serde_json::from_value::<GatewayError>(v.clone()) {
                        return ErrorBody::Gateway(g);
                    }
                }
                if [
                    "title",
                    "type",
                    "detail",
                    "traceId",
                    "extraDetails",
                    "invalidParams",
                ]
                .iter()
                .any(|k| obj.contains_key(*k))
                {
                    if let Ok(p) = serde_json::from_value::<Problem>(v.clone()) {
                        return ErrorBody::Problem(p);
                    }
                }
                if let Some(m) = obj.get("message").and_then(|m| m.as_str()) {
                    return ErrorBody::Gateway(GatewayError {
                        status_code: None,
                        message: Some(m.to_owned()),
                    });
                }
            }
        }
        let text = String::from_utf8_lossy(bytes);
        ErrorBody::Other {
            text: text.chars().take(2000).collect(),
        }
    }

    /// A one-line summary of what the body says.
    pub fn summary(&self) -> String {
        match self {
            ErrorBody::Problem(p) => {
                let mut s = p.title.clone().unwrap_or_else(|| "problem".into());
                if let Some(d) = &p.detail {
                    s.push_str(": ");
                    s.push_str(d);
                }
                if let Some(c) = p.error_code() {
                    s.push_str(&format!(" (ErrorCode {c})"));
                }
                s
            }
            ErrorBody::Gateway(g) => g.message.clone().unwrap_or_else(|| "gateway error".into()),
            ErrorBody::Token(t) => match &t.error_description {
                Some(d) => format!("{}: {}", t.error, first_line(d)),
                None => t.error.clone(),
            },
            ErrorBody::Other { text } => first_line(text).chars().take(200).collect(),
            ErrorBody::Empty => "no body".into(),
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_owned()
}

impl ErrorBody {
    /// What an error answer with this body and `status` means and what to do,
    /// in plain words: by its ErrorCode when it has one, then by the token
    /// service's codes, then by the status.
    pub fn explain(&self, status: u16) -> String {
        if let ErrorBody::Problem(p) = self {
            if let Some(text) = p.error_code().and_then(explain_code) {
                return text.to_owned();
            }
        }
        if let ErrorBody::Token(t) = self {
            return explain_token(t);
        }
        explain_status(status, self).to_owned()
    }
}

/// Plain-language explanation of an ErrorCode from behaviour.md §5.3.
pub fn explain_code(code: u32) -> Option<&'static str> {
    Some(match code {
        3010 => "Vipps had an internal error. Retry later with the same Idempotency-Key; if it persists, contact Vipps with the traceId.",
        4010 => "This capture reused an Idempotency-Key with a different amount. Use a new key for a new capture, or repeat the original request exactly.",
        4020 => "This Idempotency-Key was already used for a different request. Use a fresh key for each new operation.",
        4040 => "The amount is invalid: send an integer number of minor units (øre/cents), not decimals.",
        4050 => "The customer token is invalid or expired; ask the customer to check in again.",
        4060 => "The personal QR content is invalid; scan the customer's QR again.",
        4070 => "The phone number is invalid: use the full MSISDN with country code, digits only (e.g. 4791234567).",
        4080 => "The profile scope is invalid: use space-separated values from name, address, email, phoneNumber, birthDate, nin.",
        4090 => "A URL is invalid: returnUrl and receiptUrl must be https:// or a custom app scheme.",
        4100..=4130 => "The metadata is invalid: at most 5 entries, unique keys up to 100 characters, values up to 500 characters.",
        4140 => "A required field is missing from the request; see the details for which one.",
        4150 => "A payment with this reference already exists for this sales unit (or a refund reused a key with a different body). Use a new reference, e.g. add an attempt suffix like -2.",
        4160 => "The payment method type is not valid for this request.",
        5010..=5080 => "The sales unit is not set up for this kind of payment. Ask Vipps (or check the merchant portal) to enable it, or use a different flow or currency.",
        5090 => "No payment with this reference exists for this merchant serial number. Check the reference and that the MSN matches the one used at create.",
        5100 => "This payment cannot be refunded. Use another refund channel, or contact Vipps with the traceId.",
        6010 => "The amount is below the minimum (NOK 1.00, or one øre/cent for DKK/EUR). Raise the amount.",
        6020 => "You tried to refund before the payment was reserved and captured. Wait for AUTHORIZED, capture, then refund.",
        6030 => "The cancel period (180 days after reservation) has passed; the reservation can no longer be cancelled.",
        6040 => "The payment is fully captured, so there is nothing left to cancel. Refund instead if the customer should get money back.",
        6050 => "The payment was never reserved (or has ended), so there is nothing to cancel.",
        6060 => "The payment is already authorized, and cancelTransactionOnly asked to cancel only unauthorized payments. Cancel without the flag to release the reservation.",
        6070 => "The payment has been cancelled, so it can no longer be captured. Create a new payment if the customer still wants to buy.",
        6080 => "You tried to capture before the customer approved. Poll until the state is AUTHORIZED, then capture.",
        6090 => "You tried to capture more than is left of the reservation; capture at most the authorized amount minus what is already captured and cancelled (see aggregate in GET payment).",
        6100 => "The capture period (180 days after reservation; 14 days in DK/FI without late capture) has passed. The reservation can no longer be captured.",
        6110 => "expiresAt is too far in the future; choose a time less than the maximum (28/60 days).",
        6120 => "expiresAt is too soon; it must be more than 10 minutes in the future.",
        6130 => "A long-living payment (expiresAt) needs a receipt in the create request.",
        6140 => "This sales unit must capture the full amount at once; capture the whole authorized amount.",
        6150 => "You tried to refund more than has been captured and not yet refunded. Refund at most capturedAmount minus refundedAmount.",
        6160 => "Another operation on this payment is in progress. Wait a moment and retry with the same Idempotency-Key.",
        6170 => "The payment is already fully captured.",
        6180 => "The payment is already fully refunded.",
        6190 => "The payment cannot be cancelled in its current state.",
        6200 => "The payment cannot be captured in its current state; check GET payment for its state.",
        6210 => "The payment cannot be refunded in its current state; capture first.",
        6220 => "The refund period (365 days) has passed; refund the customer another way.",
        6230 => "The payment is already reserved (authorized).",
        6250 => "The customer is in the middle of approving (e.g. 3-D Secure). Wait and retry the cancel in a moment.",
        6260 => "Funds are unavailable for this capture; retry later or ask the customer to pay another way.",
        6280 => "The capture failed at the card side; retry later with the same Idempotency-Key.",
        7010 => "No Vipps/MobilePay user can pay with this phone number (unknown, not in this market, or under age). Check the number or let the customer enter it on the landing page.",
        10010..=10070 => "Force approve failed for this test user. The test user must have approved one payment manually in the test app first (and have a valid test card); create a new test user if the card expired.",
        _ => return None,
    })
}

fn explain_status(status: u16, body: &ErrorBody) -> &'static str {
    match status {
        400 => "The request was rejected as invalid; the details name the field and the rule. Fix the request; repeating it unchanged will fail the same way.",
        401 => match body {
            ErrorBody::Gateway(g)
                if g.message.as_deref().is_some_and(|m| m.contains("subscription key")) =>
            {
                "The subscription key (Ocp-Apim-Subscription-Key) is missing or wrong for this environment. Copy the key from the merchant portal for this sales unit and environment."
            }
            _ => "The credentials were refused: the access token is missing, expired or for another sales unit/environment. Check client_id, client_secret, subscription key and MSN belong together and to this environment.",
        },
        403 => "The credentials are valid but not allowed to do this: the product is not enabled for the sales unit, or the MSN does not belong to these keys.",
        404 => "Nothing exists at this reference for this merchant serial number. Check the reference and the MSN.",
        409 => "The request conflicts with an earlier one: the same Idempotency-Key with a different body, or a reference that already exists. Repeat the original request exactly, or use a new reference and key.",
        423 => "The payment is locked by another operation in progress. Retry shortly with the same Idempotency-Key.",
        429 => "Too many requests for this payment (5/min for changes, 120/min for reads). Slow down and honour Retry-After; poll every 2 s at most.",
        500..=599 => "Vipps had a temporary problem. Retry later with the same Idempotency-Key; if it persists, contact Vipps with the traceId.",
        _ => "The target refused the request; see the status and details.",
    }
}

fn explain_token(t: &TokenError) -> String {
    let codes = t.error_codes.clone().unwrap_or_default();
    if codes.contains(&700016) || codes.contains(&70001) || t.error == "unauthorized_client" {
        "The client_id is not known in this environment. Check that the client_id belongs to the environment you target (test and production keys differ).".into()
    } else if codes.contains(&7000215) || t.error == "invalid_client" {
        "The client_secret is wrong for this client_id. Copy it again from the merchant portal (and check for spaces).".into()
    } else {
        "The token service refused the credentials. Check client_id, client_secret and the subscription key for this environment.".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_with_error_code_is_parsed_and_explained() {
        let body = br#"{"type":"https://httpstatuses.io/400","title":"Capture amount too high","detail":"too much","status":400,"traceId":"00-ab-cd-01","instance":"/v1/payments/x/capture","extraDetails":[{"name":"ErrorCode","reason":"6090"}]}"#;
        let parsed = ErrorBody::parse(body);
        let ErrorBody::Problem(p) = &parsed else {
            panic!("not a problem: {parsed:?}")
        };
        assert_eq!(p.error_code(), Some(6090));
        assert_eq!(p.trace(), Some("00-ab-cd-01"));
        assert!(explain_code(6090)
            .unwrap_or_default()
            .contains("capture at most"));
    }

    #[test]
    fn gateway_and_token_shapes_are_told_apart() {
        assert!(matches!(
            ErrorBody::parse(
                br#"{"statusCode":401,"message":"Access denied due to invalid subscription key."}"#
            ),
            ErrorBody::Gateway(GatewayError {
                status_code: Some(401),
                ..
            })
        ));
        assert!(matches!(
            ErrorBody::parse(br#"{"error":"unauthorized_client","error_description":"AADSTS700016: x","error_codes":[700016]}"#),
            ErrorBody::Token(TokenError { ref error, .. }) if error == "unauthorized_client"
        ));
        assert_eq!(ErrorBody::parse(b""), ErrorBody::Empty);
        assert!(matches!(
            ErrorBody::parse(b"<html>"),
            ErrorBody::Other { .. }
        ));
    }

    #[test]
    fn an_answer_is_explained_by_its_code_then_the_token_service_then_its_status() {
        let coded = ErrorBody::parse(
            br#"{"title":"x","extraDetails":[{"name":"ErrorCode","reason":"5090"}]}"#,
        );
        assert!(
            coded.explain(404).contains("MSN matches"),
            "{}",
            coded.explain(404)
        );

        let token = ErrorBody::parse(br#"{"error":"invalid_client","error_codes":[7000215]}"#);
        assert!(token.explain(401).contains("client_secret is wrong"));

        let key = ErrorBody::parse(
            br#"{"statusCode":401,"message":"Access denied due to invalid subscription key."}"#,
        );
        assert!(key.explain(401).contains("Ocp-Apim-Subscription-Key"));

        assert!(ErrorBody::Empty.explain(429).contains("Retry-After"));
        assert!(ErrorBody::Empty.explain(503).contains("temporary problem"));
        assert!(ErrorBody::Empty
            .explain(418)
            .contains("refused the request"));
    }
}

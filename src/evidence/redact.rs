//! Redaction at the boundary. (Filled by the evidence work of issue 2.)

use super::{Exchange, RawExchange, SCHEMA_VERSION};

/// Redacts a raw exchange. PLACEHOLDER: must redact Authorization,
/// Ocp-Apim-Subscription-Key, client_secret/client_id headers, access_token and
/// secret fields in bodies, and phone numbers.
pub fn exchange(raw: RawExchange) -> Exchange {
    Exchange {
        schema_version: SCHEMA_VERSION,
        id: uuid::Uuid::new_v4().to_string(),
        started_at: raw.started_at,
        duration_ms: raw.duration_ms,
        method: raw.method,
        url: raw.url,
        request_headers: Vec::new(),
        request_body: serde_json::Value::Null,
        status: raw.status,
        response_headers: Vec::new(),
        response_body: serde_json::Value::Null,
        error: raw.error,
        attempt: raw.attempt,
        reference: raw.reference,
        checklist_ids: raw.checklist_ids,
        scenario: raw.scenario,
    }
}

//! The Webhooks API: register (the secret comes back as a [`Secret`]), list, delete.

use reqwest::Method;
use serde::{Deserialize, Deserializer, Serialize};

use super::error::ApiError;
use super::transport::{seg, Call};
use super::Client;
use crate::secret::Secret;

const WEBHOOKS: &str = "/webhooks/v1/webhooks";

/// Registration body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterWebhook {
    /// HTTPS, reachable from the internet, port 80, 443 or 8080.
    pub url: String,
    pub events: Vec<String>,
}

/// Answer to a registration. The secret signs every delivery and is shown
/// only here, so it is kept as a [`Secret`] from the moment it is read.
#[derive(Debug, Clone, Deserialize)]
pub struct Registration {
    pub id: String,
    #[serde(deserialize_with = "secret")]
    pub secret: Secret,
}

fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
    String::deserialize(d).map(Secret::new)
}

/// One registered webhook, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    #[serde(default)]
    pub events: Vec<String>,
}

#[derive(Deserialize)]
struct WebhookList {
    #[serde(default)]
    webhooks: Vec<Webhook>,
}

impl Client {
    /// `POST /webhooks/v1/webhooks` (201 `{id, secret}`).
    pub async fn register_webhook(
        &self,
        request: &RegisterWebhook,
    ) -> Result<Registration, ApiError> {
        let call = Call::new(Method::POST, WEBHOOKS).json(request)?;
        self.execute(call).await?.json()
    }

    /// `GET /webhooks/v1/webhooks`.
    pub async fn list_webhooks(&self) -> Result<Vec<Webhook>, ApiError> {
        let call = Call::new(Method::GET, WEBHOOKS);
        Ok(self.execute(call).await?.json::<WebhookList>()?.webhooks)
    }

    /// `DELETE /webhooks/v1/webhooks/{id}` (204).
    pub async fn delete_webhook(&self, id: &str) -> Result<(), ApiError> {
        let call = Call::new(Method::DELETE, format!("{WEBHOOKS}/{}", seg(id)));
        self.execute(call).await.map(|_| ())
    }
}

/// The payload of an ePayment webhook delivery (behaviour.md §9.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEvent {
    #[serde(default)]
    pub msn: Option<String>,
    pub reference: String,
    /// The event's own pspReference, not the payment's.
    #[serde(default)]
    pub psp_reference: Option<String>,
    pub name: super::epayment::EventName,
    pub amount: super::epayment::Amount,
    pub timestamp: chrono::DateTime<chrono::Utc>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
    #[serde(default)]
    pub success: Option<bool>,
}

/// Why a webhook delivery's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the delivery has no `{0}` header")]
    MissingHeader(&'static str),
    #[error("`x-ms-content-sha256` does not match the body (the body was changed or re-encoded)")]
    ContentHash,
    #[error("the `Authorization` header is not `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=...`")]
    Malformed,
    #[error(
        "the signature does not match (hint: check the webhook secret returned at registration)"
    )]
    Mismatch,
}

/// The headers a signed delivery carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub x_ms_date: String,
    pub x_ms_content_sha256: String,
    pub authorization: String,
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn string_to_sign(path_and_query: &str, date: &str, host: &str, content_hash: &str) -> String {
    format!("POST\n{path_and_query}\n{date};{host};{content_hash}")
}

fn mac(secret: &Secret) -> hmac::Hmac<sha2::Sha256> {
    use hmac::Mac as _;
    // HMAC accepts keys of any length, so this cannot fail; the key is the
    // secret's UTF-8 bytes as given, not base64-decoded (§9.3).
    hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"))
}

/// Signs a delivery as Vipps does (behaviour.md §9.3): what a test double of
/// Vipps sends, and what [`verify_signature`] checks.
pub fn sign_delivery(
    secret: &Secret,
    path_and_query: &str,
    host: &str,
    date: &str,
    body: &[u8],
) -> SignedHeaders {
    use hmac::Mac as _;
    use sha2::Digest as _;
    let content_hash = b64(&sha2::Sha256::digest(body));
    let mut m = mac(secret);
    m.update(string_to_sign(path_and_query, date, host, &content_hash).as_bytes());
    let signature = b64(&m.finalize().into_bytes());
    SignedHeaders {
        x_ms_date: date.to_owned(),
        x_ms_content_sha256: content_hash,
        authorization: format!(
            "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}"
        ),
    }
}

/// Checks a received delivery: the body hash, then the HMAC (in constant
/// time). `header` looks a header up by lower-case name; `host` is the
/// registered URL's authority and `path_and_query` its path and query.
pub fn verify_signature<'a>(
    secret: &Secret,
    path_and_query: &str,
    host: &str,
    header: impl Fn(&str) -> Option<&'a str>,
    body: &[u8],
) -> Result<(), SignatureError> {
    use base64::Engine as _;
    use hmac::Mac as _;
    use sha2::Digest as _;
    let date = header("x-ms-date").ok_or(SignatureError::MissingHeader("x-ms-date"))?;
    let hash = header("x-ms-content-sha256")
        .ok_or(SignatureError::MissingHeader("x-ms-content-sha256"))?;
    let auth = header("authorization").ok_or(SignatureError::MissingHeader("authorization"))?;
    if b64(&sha2::Sha256::digest(body)) != hash {
        return Err(SignatureError::ContentHash);
    }
    let signature = auth
        .strip_prefix("HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=")
        .ok_or(SignatureError::Malformed)?;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .map_err(|_| SignatureError::Malformed)?;
    let mut m = mac(secret);
    m.update(string_to_sign(path_and_query, date, host, hash).as_bytes());
    m.verify_slice(&signature)
        .map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str =
        "A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A==";
    const PATH: &str = "/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63";
    const BODY: &[u8] =
        br#"{"some-unique-content":"ee6e441b-cc4a-46f8-895d-a5af79bcc233/hello-world"}"#;
    const DATE: &str = "Thu, 30 Mar 2023 08:38:32 GMT";

    #[test]
    fn signing_reproduces_the_published_test_vector() {
        let h = sign_delivery(&Secret::new(SECRET), PATH, "webhook.site", DATE, BODY);

        assert_eq!(
            h.x_ms_content_sha256,
            "lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4="
        );
        assert!(h
            .authorization
            .ends_with("&Signature=agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U="));
    }

    #[test]
    fn verification_accepts_the_vector_and_refuses_a_changed_body_or_secret() {
        let h = sign_delivery(&Secret::new(SECRET), PATH, "webhook.site", DATE, BODY);
        let lookup = |n: &str| match n {
            "x-ms-date" => Some(h.x_ms_date.as_str()),
            "x-ms-content-sha256" => Some(h.x_ms_content_sha256.as_str()),
            "authorization" => Some(h.authorization.as_str()),
            _ => None,
        };

        assert_eq!(
            verify_signature(&Secret::new(SECRET), PATH, "webhook.site", lookup, BODY),
            Ok(())
        );
        assert_eq!(
            verify_signature(&Secret::new(SECRET), PATH, "webhook.site", lookup, b"{}"),
            Err(SignatureError::ContentHash)
        );
        assert_eq!(
            verify_signature(&Secret::new("other"), PATH, "webhook.site", lookup, BODY),
            Err(SignatureError::Mismatch)
        );
    }
}

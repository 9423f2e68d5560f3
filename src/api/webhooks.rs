//! The Webhooks API: register (the secret comes back as a [`Secret`]), list, delete.

use reqwest::Method;
use serde::{Deserialize, Deserializer, Serialize};

use super::error::ApiError;
use super::transport::{seg, Call};
use super::Client;
use crate::secret::Secret;

const WEBHOOKS: &str = "/webhooks/v1/webhooks";

/// The ePayment event types a webhook can ask for.
pub const EPAYMENT_EVENTS: [&str; 8] = [
    "epayments.payment.created.v1",
    "epayments.payment.aborted.v1",
    "epayments.payment.expired.v1",
    "epayments.payment.cancelled.v1",
    "epayments.payment.captured.v1",
    "epayments.payment.refunded.v1",
    "epayments.payment.authorized.v1",
    "epayments.payment.terminated.v1",
];

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

//! Webhooks: the shop listens, and still polls for the outcome.

use std::time::Duration;

use cucumber::{given, when};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::params::Event;
use super::{fail, GoLiveWorld, StepError};
use crate::api::webhooks::RegisterWebhook;

/// A local receiver the target delivers webhooks to.
pub struct Receiver {
    server: Option<MockServer>,
    /// The registration to delete when done.
    pub id: String,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver").field("id", &self.id).finish()
    }
}

impl Drop for Receiver {
    // wiremock's MockServer blocks in its Drop; on the thread that drives the
    // whole run that would stop every scenario, so it is dropped elsewhere.
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(handle) => {
                    handle.spawn_blocking(move || drop(server));
                }
                Err(_) => drop(server),
            }
        }
    }
}

#[given("the shop listens for webhooks")]
async fn listens(w: &mut GoLiveWorld) -> Result<(), StepError> {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let registration = w
        .client()?
        .register_webhook(&RegisterWebhook {
            url: format!("{}/vipps/webhooks", server.uri()),
            events: vec!["epayments.payment.authorized.v1".into()],
        })
        .await?;
    w.webhooks = Some(Receiver {
        server: Some(server),
        id: registration.id,
    });
    Ok(())
}

#[when(expr = "the webhook for {event} arrives")]
async fn webhook_arrives(w: &mut GoLiveWorld, event: Event) -> Result<(), StepError> {
    let event = event.to_string();
    let reference = w.reference()?;
    let client = w.client()?;
    let Some(server) = w.webhooks.as_ref().and_then(|r| r.server.as_ref()) else {
        return fail("the shop is not listening for webhooks");
    };
    // Delivery is real traffic from the target's dispatcher: wait in real time.
    let mut arrived = false;
    for _ in 0..100 {
        let requests = server.received_requests().await.unwrap_or_default();
        arrived = requests.iter().any(|r| {
            serde_json::from_slice::<serde_json::Value>(&r.body)
                .map(|b| b["reference"] == reference.as_str() && b["name"] == event.as_str())
                .unwrap_or(false)
        });
        if arrived {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let id = w
        .webhooks
        .as_ref()
        .map(|r| r.id.clone())
        .unwrap_or_default();
    let _ = client.delete_webhook(&id).await;
    w.webhooks = None;
    if !arrived {
        return fail(format!(
            "no {event} webhook for `{reference}` arrived within 10 s"
        ));
    }
    Ok(())
}

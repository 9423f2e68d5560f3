//! Webhooks API, HMAC signing and delivery. PLACEHOLDER (simulator edge).

use chrono::{DateTime, Utc};

use super::{problem, Engine, OutboundEvent, SimConfig, SimRequest, SimResponse};

#[derive(Debug, Default)]
pub struct Registry {}

impl Registry {
    pub fn new(_config: &SimConfig) -> Self {
        Registry {}
    }
    /// Forgets registrations and pending deliveries.
    pub fn reset(&mut self) {}
    /// Queues deliveries of `events` to every registration that asked for them.
    pub fn enqueue(&mut self, _events: Vec<OutboundEvent>, _now: DateTime<Utc>) {}
}

/// Everything under `/webhooks/`.
pub fn handle_api(_engine: &mut Engine, req: &SimRequest) -> SimResponse {
    problem::not_found(req)
}

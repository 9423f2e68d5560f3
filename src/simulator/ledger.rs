//! The pure state machine: payments per MSN, aggregates, events, idempotency. No HTTP here.
//! PLACEHOLDER (simulator core, issue 3).

use chrono::{DateTime, Utc};

use super::{OutboundEvent, SimConfig};

#[derive(Debug, Default)]
pub struct Ledger {}

impl Ledger {
    pub fn new(_config: &SimConfig) -> Self {
        Ledger {}
    }

    /// Moves every CREATED payment whose expiry has passed to EXPIRED, pushing its events.
    pub fn expire_due(&mut self, _now: DateTime<Utc>, _outbox: &mut Vec<OutboundEvent>) {}
}

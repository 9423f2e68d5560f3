//! Bounded record of every request received. PLACEHOLDER (simulator edge).

use chrono::{DateTime, Utc};

use super::{Engine, Reply, SimConfig, SimRequest, SimResponse};

#[derive(Debug, Default)]
pub struct SimJournal {}

impl SimJournal {
    pub fn new(_config: &SimConfig) -> Self {
        SimJournal {}
    }
    pub fn clear(&mut self) {}
    pub fn record(&mut self, _req: &SimRequest, _reply: &Reply, _started: DateTime<Utc>) {}
}

/// `/__sim/journal`; `None` for other paths.
pub fn handle_control(_engine: &mut Engine, _req: &SimRequest) -> Option<SimResponse> {
    None
}

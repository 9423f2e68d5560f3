//! Injected faults: `/__sim/faults`. PLACEHOLDER (simulator edge).

use super::{Engine, Reply, SimConfig, SimRequest, SimResponse};

#[derive(Debug, Default)]
pub struct Faults {}

/// A fault armed for one request.
#[derive(Debug, Clone)]
pub struct Fault {}

impl Fault {
    /// The reply that replaces the operation (500, 429, 423, delay...), or `None` to let it run.
    pub fn reply_before_effect(&self) -> Option<Reply> {
        None
    }
    /// What to do with the response once the operation took effect (drop the connection, delay...).
    pub fn reply_after_effect(&self, response: SimResponse) -> Reply {
        response.into()
    }
}

impl Faults {
    pub fn new(_config: &SimConfig) -> Self {
        Faults {}
    }
    /// The fault that matches `req`, counting it down.
    pub fn take(&mut self, _req: &SimRequest) -> Option<Fault> {
        None
    }
}

/// `/__sim/faults...`; `None` for other paths.
pub fn handle_control(_engine: &mut Engine, _req: &SimRequest) -> Option<SimResponse> {
    None
}

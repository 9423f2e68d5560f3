//! `/__sim/` payments (approve, abort, expire), clock, reset. PLACEHOLDER (simulator core).

use super::{Engine, SimRequest, SimResponse};

/// Handles `/__sim/payments/...`, `/__sim/clock...`, `/__sim/reset`; `None` when the path is not one of them.
pub fn handle(_engine: &mut Engine, _req: &SimRequest) -> Option<SimResponse> {
    None
}

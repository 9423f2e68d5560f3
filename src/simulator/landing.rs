//! The landing page (approve / reject) and QR images. PLACEHOLDER (simulator core).

use super::{Engine, SimRequest, SimResponse};

/// Serves the landing page and QR image paths; `None` for every other path.
pub fn handle(_engine: &mut Engine, _req: &SimRequest) -> Option<SimResponse> {
    None
}

//! Order Management: images, receipts, categories. PLACEHOLDER (simulator edge).

use super::{problem, Engine, SimConfig, SimRequest, SimResponse};

#[derive(Debug, Default)]
pub struct Orders {}

impl Orders {
    pub fn new(_config: &SimConfig) -> Self {
        Orders {}
    }
}

/// Everything under `/order-management/`.
pub fn handle(_engine: &mut Engine, req: &SimRequest) -> SimResponse {
    problem::not_found(req)
}

//! Token endpoint, authentication and the ePayment routes. PLACEHOLDER (simulator core).

use super::{problem, Engine, SimConfig, SimRequest, SimResponse};

/// Issued tokens.
#[derive(Debug, Default)]
pub struct Auth {}

impl Auth {
    pub fn new(_config: &SimConfig) -> Self {
        Auth {}
    }
}

/// Who a request authenticated as.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The MSN the request acts for (from the Merchant-Serial-Number header, checked against the token).
    pub msn: String,
    /// The subscription key used.
    pub subscription_key: String,
}

/// Checks Authorization (bearer token issued by this simulator and still valid),
/// Ocp-Apim-Subscription-Key (gateway-shaped 401) and Merchant-Serial-Number.
/// `Err` is the response to send.
pub fn authenticate(_engine: &Engine, req: &SimRequest) -> Result<Principal, SimResponse> {
    Err(problem::gateway(
        401,
        &format!("unauthenticated: {}", req.path),
    ))
}

/// `POST /accesstoken/get`.
pub fn token(_engine: &mut Engine, req: &SimRequest) -> SimResponse {
    problem::not_found(req)
}

/// Everything under `/epayment/`.
pub fn epayment(_engine: &mut Engine, req: &SimRequest) -> SimResponse {
    problem::not_found(req)
}

//! Per-reference rate limits (behaviour.md §8). PLACEHOLDER (simulator core).

use super::SimConfig;

#[derive(Debug, Default)]
pub struct RateLimiter {}

impl RateLimiter {
    pub fn new(_config: &SimConfig) -> Self {
        RateLimiter {}
    }
}

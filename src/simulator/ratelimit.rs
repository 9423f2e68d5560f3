//! Per-reference rate limits (behaviour.md §8): modifications 5 per minute per
//! reference + MSN, reads 120 per minute per reference + subscription key,
//! counted in fixed one-minute windows on the virtual clock.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use chrono::{DateTime, Utc};

use super::SimConfig;

/// What is being limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Create,
    Capture,
    Cancel,
    Refund,
    Get,
    Events,
}

impl Kind {
    /// Requests allowed per window.
    pub fn limit(self) -> u32 {
        match self {
            Kind::Get | Kind::Events => 120,
            _ => 5,
        }
    }
}

const WINDOW_MS: i64 = 60_000;
/// Above this many tracked keys, finished windows are swept (bounded memory).
const SWEEP_AT: usize = 50_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    start_ms: i64,
    count: u32,
}

/// Counters per (kind, principal, reference), keyed by a 64-bit hash so no
/// allocation happens per request.
#[derive(Debug, Default)]
pub struct RateLimiter {
    enabled: bool,
    windows: HashMap<u64, Window>,
    /// When the last sweep ran: at most one per window, so a map full of live
    /// windows does not make every request a full scan.
    swept_ms: i64,
}

impl RateLimiter {
    pub fn new(config: &SimConfig) -> Self {
        RateLimiter {
            enabled: config.rate_limits,
            windows: HashMap::new(),
            swept_ms: i64::MIN,
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Number of tracked keys (tests: memory stays bounded).
    pub fn tracked(&self) -> usize {
        self.windows.len()
    }

    /// Counts one request. `Err(seconds)` when over the limit: retry after that many seconds.
    ///
    /// OPEN(§8): each operation is counted on its own (create, capture, cancel
    /// and refund each get 5 per minute per reference), as the docs list a
    /// limit per endpoint; `scope` is the MSN for modifications and the
    /// subscription key for reads.
    pub fn check(
        &mut self,
        kind: Kind,
        scope: &str,
        reference: &str,
        now: DateTime<Utc>,
    ) -> Result<(), u64> {
        if !self.enabled {
            return Ok(());
        }
        let now_ms = now.timestamp_millis();
        if self.windows.len() >= SWEEP_AT
            && now_ms.abs_diff(self.swept_ms) >= WINDOW_MS.unsigned_abs()
        {
            self.windows.retain(|_, w| now_ms - w.start_ms < WINDOW_MS);
            self.swept_ms = now_ms;
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (kind, scope, reference).hash(&mut h);
        let w = self.windows.entry(h.finish()).or_insert(Window {
            start_ms: now_ms,
            count: 0,
        });
        if now_ms - w.start_ms >= WINDOW_MS || now_ms < w.start_ms {
            *w = Window {
                start_ms: now_ms,
                count: 0,
            };
        }
        if w.count >= kind.limit() {
            let left_ms = (w.start_ms + WINDOW_MS - now_ms).max(1);
            return Err(((left_ms + 999) / 1000) as u64);
        }
        w.count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_capture_in_a_minute_is_limited_and_the_next_minute_is_free() {
        let mut r = RateLimiter::new(&SimConfig::default());
        let t = Utc::now();
        for _ in 0..5 {
            assert!(r.check(Kind::Capture, "123456", "ref-00001", t).is_ok());
        }
        let wait = r
            .check(Kind::Capture, "123456", "ref-00001", t)
            .unwrap_err();
        assert_eq!(wait, 60);
        // Another reference and another operation are counted apart.
        assert!(r.check(Kind::Capture, "123456", "ref-00002", t).is_ok());
        assert!(r.check(Kind::Refund, "123456", "ref-00001", t).is_ok());
        let later = t + chrono::Duration::seconds(60);
        assert!(r.check(Kind::Capture, "123456", "ref-00001", later).is_ok());
    }

    #[test]
    fn reads_allow_120_per_minute() {
        let mut r = RateLimiter::new(&SimConfig::default());
        let t = Utc::now();
        for _ in 0..120 {
            assert!(r.check(Kind::Get, "key", "ref-00001", t).is_ok());
        }
        assert!(r.check(Kind::Get, "key", "ref-00001", t).is_err());
    }

    #[test]
    fn disabled_limits_never_refuse() {
        let cfg = SimConfig {
            rate_limits: false,
            ..SimConfig::default()
        };
        let mut r = RateLimiter::new(&cfg);
        let t = Utc::now();
        for _ in 0..50 {
            assert!(r.check(Kind::Capture, "1", "ref-00001", t).is_ok());
        }
        assert_eq!(r.tracked(), 0);
    }

    #[test]
    fn memory_stays_bounded_with_many_references() {
        let mut r = RateLimiter::new(&SimConfig::default());
        let t = Utc::now();
        for i in 0..(SWEEP_AT + 10) {
            let _ = r.check(Kind::Get, "k", &format!("ref-{i:08}"), t);
        }
        let later = t + chrono::Duration::seconds(120);
        let _ = r.check(Kind::Get, "k", "ref-x0000000", later);
        assert!(r.tracked() < 100);
    }

    #[test]
    fn a_full_map_is_swept_at_most_once_a_window() {
        let mut r = RateLimiter::new(&SimConfig::default());
        let t = Utc::now();
        let at = |s: i64| t + chrono::Duration::seconds(s);
        for i in 0..SWEEP_AT {
            let _ = r.check(Kind::Get, "k", &format!("ref-{i:08}"), t);
        }
        // Full of live windows: this sweep frees nothing.
        let _ = r.check(Kind::Get, "k", "ref-x0000001", at(40));
        assert_eq!(r.tracked(), SWEEP_AT + 1);
        // The first windows have ended, but the last sweep was 25 s ago: no scan yet.
        let _ = r.check(Kind::Get, "k", "ref-x0000002", at(65));
        assert_eq!(r.tracked(), SWEEP_AT + 2);
        // A window after the last sweep, everything but this minute's window goes.
        let _ = r.check(Kind::Get, "k", "ref-x0000003", at(101));
        assert_eq!(r.tracked(), 2);
    }
}

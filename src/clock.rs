//! Time as the harness sees it: the system clock, or a virtual clock that the
//! embedded simulator and the client share so that waiting costs no real time.
//!
//! A shop's test that needs EXPIRED (ten simulated minutes) gives the
//! simulator and its own code one [`VirtualClock`]; a sleep on it moves the
//! clock instead of waiting:
//!
//! ```
//! use std::time::Duration;
//! use vipps_golive::clock::{Clock, VirtualClock};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let clock = VirtualClock::new();
//! let before = clock.now();
//! let started = std::time::Instant::now();
//! clock.sleep(Duration::from_secs(600)).await;
//! assert!(clock.now() - before >= chrono::Duration::seconds(600));
//! assert_eq!(clock.offset(), Duration::from_secs(600));
//! assert!(started.elapsed() < Duration::from_secs(5), "no real waiting");
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// A boxed future returned by [`Clock::sleep`].
pub type SleepFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Something that tells the time and can wait.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
    /// Waits `d`. On a virtual clock this advances the clock and returns at once.
    fn sleep(&self, d: Duration) -> SleepFuture<'_>;
}

/// Shared handle to a clock.
pub type SharedClock = Arc<dyn Clock>;

/// Wall-clock time and real sleeping.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn sleep(&self, d: Duration) -> SleepFuture<'_> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// Real time plus an offset that only grows: `sleep` and `advance` move the
/// offset forward instead of waiting. The embedded simulator and the client's
/// poller share one, so the polling schedule and payment expiry cost no real time.
#[derive(Debug, Default)]
pub struct VirtualClock {
    offset_ms: AtomicI64,
}

impl VirtualClock {
    /// A clock that starts at the real time.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Moves the clock forward by `d`, rounded up to whole milliseconds: a
    /// sleep must never end before its time (a 4.9996 s wait that moved the
    /// clock 4 999 ms made a poll look early to the PF-POLLING rule).
    pub fn advance(&self, d: Duration) {
        let ms = i64::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(i64::MAX / 2);
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// How far ahead of real time the clock is.
    pub fn offset(&self) -> Duration {
        Duration::from_millis(self.offset_ms.load(Ordering::SeqCst).max(0) as u64)
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }
    fn sleep(&self, d: Duration) -> SleepFuture<'_> {
        self.advance(d);
        // Yield once so that other tasks get to observe the new time.
        Box::pin(tokio::task::yield_now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sub_millisecond_remainder_is_rounded_up_never_lost() {
        let clock = VirtualClock::new();
        clock.advance(Duration::from_micros(4_999_600));
        assert_eq!(clock.offset(), Duration::from_millis(5_000));
    }

    #[tokio::test]
    async fn virtual_sleep_advances_instead_of_waiting() {
        let c = VirtualClock::new();
        let before = c.now();
        let real = std::time::Instant::now();
        c.sleep(Duration::from_secs(600)).await;
        assert!(c.now() - before >= chrono::Duration::seconds(600));
        assert!(real.elapsed() < Duration::from_secs(1));
    }
}

//! Polling per the guideline (behaviour.md §8): first GET 5 s after create,
//! then every 2 s, until a final state or a timeout, on the client's clock.

use std::time::Duration;

use super::epayment::GetPaymentResponse;
use super::error::ApiError;
use super::Client;

/// When to poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollOptions {
    /// Wait before the first GET (guideline: 5 s).
    pub first_delay: Duration,
    /// Wait between GETs (guideline: 2 s).
    pub interval: Duration,
    /// Give up after this long (default: the 10-minute payment lifetime plus
    /// a minute, so an unanswered payment is seen EXPIRED, not timed out).
    pub timeout: Duration,
}

impl Default for PollOptions {
    fn default() -> Self {
        PollOptions {
            first_delay: Duration::from_secs(5),
            interval: Duration::from_secs(2),
            timeout: Duration::from_secs(11 * 60),
        }
    }
}

/// A final state, read with GET.
#[derive(Debug, Clone)]
pub struct PollOutcome {
    /// The payment as last read (its state is final).
    pub payment: GetPaymentResponse,
    /// How many GETs it took.
    pub polls: u32,
    /// Time waited on the client's clock.
    pub waited: Duration,
}

impl Client {
    /// Polls `GET payment` until AUTHORIZED, ABORTED, EXPIRED or TERMINATED.
    ///
    /// Transient failures are retried inside each GET by the retry policy; any
    /// other error ends the poll. Ends with [`ApiError::PollTimeout`] when no
    /// final state came within `options.timeout`.
    pub async fn poll_until_final(
        &self,
        reference: &str,
        options: &PollOptions,
    ) -> Result<PollOutcome, ApiError> {
        let clock = self.inner.clock.clone();
        let start = clock.now();
        let elapsed =
            |now: chrono::DateTime<chrono::Utc>| (now - start).to_std().unwrap_or(Duration::ZERO);
        clock.sleep(options.first_delay).await;
        let mut polls = 0;
        loop {
            polls += 1;
            let payment = self.get_payment(reference).await?;
            let waited = elapsed(clock.now());
            if payment.state.is_final() {
                return Ok(PollOutcome {
                    payment,
                    polls,
                    waited,
                });
            }
            if waited + options.interval > options.timeout {
                return Err(ApiError::PollTimeout {
                    reference: reference.to_owned(),
                    last_state: payment.state.as_str().to_owned(),
                    polls,
                    waited,
                });
            }
            clock.sleep(options.interval).await;
        }
    }
}

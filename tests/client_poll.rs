//! The poller follows the guideline on the virtual clock: first GET after
//! 5 s, then every 2 s, until a final state or the timeout.

use crate::client_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use client_support::*;
use vipps_golive::api::{ApiError, PollOptions, State};
use vipps_golive::clock::{Clock, VirtualClock};
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

/// Answers GET payment with CREATED `created_for` times, then `then`, and
/// notes the virtual time of each GET.
struct Timed {
    clock: Arc<VirtualClock>,
    seen: Arc<Mutex<Vec<DateTime<Utc>>>>,
    created_for: usize,
    then: &'static str,
}

impl Respond for Timed {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut seen = self.seen.lock().unwrap();
        seen.push(self.clock.now());
        let state = if seen.len() <= self.created_for {
            "CREATED"
        } else {
            self.then
        };
        ResponseTemplate::new(200).set_body_json(payment_body(REF, state))
    }
}

async fn mount_timed(
    h: &Harness,
    created_for: usize,
    then: &'static str,
) -> Arc<Mutex<Vec<DateTime<Utc>>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    Mock::given(method("GET"))
        .and(path(format!("/epayment/v1/payments/{REF}")))
        .respond_with(Timed {
            clock: h.clock.clone(),
            seen: seen.clone(),
            created_for,
            then,
        })
        .mount(&h.server)
        .await;
    seen
}

#[tokio::test]
async fn first_poll_comes_after_five_seconds_then_every_two() {
    let h = harness().await;
    let seen = mount_timed(&h, 3, "AUTHORIZED").await;
    let start = h.clock.now();
    let real = std::time::Instant::now();

    let out = h
        .client
        .poll_until_final(REF, &PollOptions::default())
        .await
        .unwrap();

    assert_eq!(out.payment.state, State::Authorized);
    assert_eq!(out.polls, 4);
    let times = seen.lock().unwrap().clone();
    let first = (times[0] - start).num_milliseconds();
    assert!((5000..5500).contains(&first), "first GET at {first} ms");
    for pair in times.windows(2) {
        let gap = (pair[1] - pair[0]).num_milliseconds();
        assert!((2000..2500).contains(&gap), "gap {gap} ms");
    }
    assert!(out.waited >= Duration::from_secs(11));
    assert!(
        real.elapsed() < Duration::from_secs(3),
        "virtual time cost real time"
    );
}

#[tokio::test]
async fn polling_stops_at_each_final_state() {
    for final_state in ["ABORTED", "EXPIRED", "TERMINATED"] {
        let h = harness().await;
        mount_timed(&h, 1, final_state).await;

        let out = h
            .client
            .poll_until_final(REF, &PollOptions::default())
            .await
            .unwrap();

        assert_eq!(out.payment.state.as_str(), final_state);
        assert_eq!(out.polls, 2);
    }
}

#[tokio::test]
async fn a_configured_schedule_is_followed() {
    let h = harness().await;
    let seen = mount_timed(&h, 2, "AUTHORIZED").await;
    let start = h.clock.now();
    let opts = PollOptions {
        first_delay: Duration::from_secs(1),
        interval: Duration::from_secs(3),
        timeout: Duration::from_secs(60),
    };

    h.client.poll_until_final(REF, &opts).await.unwrap();

    let times = seen.lock().unwrap().clone();
    assert!((times[0] - start).num_milliseconds() >= 1000);
    assert!((times[1] - times[0]).num_milliseconds() >= 3000);
}

#[tokio::test]
async fn a_payment_that_stays_created_ends_in_a_poll_timeout() {
    let h = harness().await;
    mount_timed(&h, usize::MAX, "AUTHORIZED").await;
    let opts = PollOptions {
        timeout: Duration::from_secs(30),
        ..PollOptions::default()
    };

    let err = h.client.poll_until_final(REF, &opts).await.unwrap_err();

    let ApiError::PollTimeout {
        polls,
        waited,
        last_state,
        ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!(last_state, "CREATED");
    assert!(waited <= Duration::from_secs(30));
    // 5 s, then every 2 s up to 29 s: 13 GETs.
    assert_eq!(polls, 13);
}

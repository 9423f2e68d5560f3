//! The access token: `POST /accesstoken/get`, cached and refreshed before it
//! expires; concurrent callers share one refresh.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use reqwest::Method;
use serde::{Deserialize, Deserializer};

use super::error::ApiError;
use super::transport::{Auth, Call};
use super::Client;
use crate::secret::Secret;

/// Path of the token endpoint.
pub(crate) const TOKEN_PATH: &str = "/accesstoken/get";

/// How long before expiry the token is renewed (the node SDK's 3 minutes):
/// a token that expires between two retries of one operation is never sent.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(180);

/// The token response (behaviour.md §2.1). Every field is a JSON string in
/// the current spec; numbers are accepted too, as older revisions and the
/// node SDK have them.
#[derive(Deserialize)]
pub struct AccessTokenResponse {
    #[serde(default)]
    pub token_type: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub expires_in: Option<i64>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub expires_on: Option<i64>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub not_before: Option<i64>,
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(deserialize_with = "secret")]
    pub access_token: Secret,
}

impl std::fmt::Debug for AccessTokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokenResponse")
            .field("expires_in", &self.expires_in)
            .field("expires_on", &self.expires_on)
            .field("access_token", &self.access_token)
            .finish_non_exhaustive()
    }
}

fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
    String::deserialize(d).map(Secret::new)
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        S(String),
        N(i64),
        F(f64),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        None => None,
        Some(Raw::N(n)) => Some(n),
        Some(Raw::F(f)) => Some(f as i64),
        Some(Raw::S(s)) => s.trim().parse().ok(),
    })
}

impl AccessTokenResponse {
    /// When the token stops working, as seen from `now`: the earlier of
    /// `expires_on` and `now + expires_in`, so neither clock skew nor a
    /// missing field makes the client send a dead token. An `expires_on`
    /// already in the past is taken as skew and ignored.
    pub fn expires_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        // Checked: the value comes from the network, and an absurd lifetime
        // (beyond chrono's range) must not panic; it counts as not given.
        let by_in = self
            .expires_in
            .and_then(|s| chrono::Duration::try_seconds(s.max(0)))
            .and_then(|d| now.checked_add_signed(d));
        let by_on = self
            .expires_on
            .and_then(|s| Utc.timestamp_opt(s, 0).single())
            .filter(|t| *t > now);
        match (by_in, by_on) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            // Neither given: assume the shortest documented lifetime (1 hour in test).
            (None, None) => now + chrono::Duration::seconds(3600),
        }
    }
}

#[derive(Clone)]
struct Cached {
    token: Secret,
    refresh_at: DateTime<Utc>,
}

/// The cached token. A tokio mutex held across the fetch makes concurrent
/// callers wait for one refresh instead of each fetching their own.
#[derive(Default)]
pub(crate) struct TokenCache {
    slot: tokio::sync::Mutex<Option<Cached>>,
}

impl TokenCache {
    /// Forgets `used` if it is still the cached token (a newer one stays).
    pub(crate) async fn invalidate(&self, used: &Secret) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|c| &c.token == used) {
            *slot = None;
        }
    }
}

impl Client {
    /// A valid access token: the cached one, or a fresh one when none is
    /// cached or the cached one is within [`REFRESH_MARGIN`] of expiring
    /// (by the client's clock).
    pub async fn access_token(&self) -> Result<Secret, ApiError> {
        let mut slot = self.inner.token.slot.lock().await;
        let now = self.inner.clock.now();
        if let Some(c) = slot.as_ref() {
            if now < c.refresh_at {
                return Ok(c.token.clone());
            }
        }
        // Boxed: the token call goes through the same request loop, which
        // (for business calls) asks for a token; the box breaks the cycle.
        let resp = self.fetch_token().await?;
        let now = self.inner.clock.now();
        let expires_at = resp.expires_at(now);
        let lifetime = (expires_at - now).to_std().unwrap_or(Duration::ZERO);
        // Short-lived tokens (a simulator may hand out minutes) are renewed at
        // half their life rather than never being cached.
        let margin = REFRESH_MARGIN.min(lifetime / 2);
        let refresh_at = expires_at - chrono::Duration::from_std(margin).unwrap_or_default();
        *slot = Some(Cached {
            token: resp.access_token.clone(),
            refresh_at,
        });
        Ok(resp.access_token)
    }

    fn fetch_token(
        &self,
    ) -> Pin<Box<dyn Future<Output = Result<AccessTokenResponse, ApiError>> + Send + '_>> {
        Box::pin(async move {
            let mut call = Call::new(Method::POST, TOKEN_PATH);
            call.auth = Auth::TokenCredentials;
            let reply = self.execute(call).await?;
            reply.json::<AccessTokenResponse>()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_fields_are_read_as_strings_or_numbers() {
        let s: AccessTokenResponse = serde_json::from_str(
            r#"{"token_type":"Bearer","expires_in":"3599","ext_expires_in":"0","expires_on":"1717000000","not_before":"1716996400","resource":"r","access_token":"eyJ.a.b"}"#,
        )
        .unwrap();
        assert_eq!(s.expires_in, Some(3599));
        assert_eq!(s.expires_on, Some(1717000000));
        let n: AccessTokenResponse =
            serde_json::from_str(r#"{"expires_in":86398,"access_token":"eyJ.a.b"}"#).unwrap();
        assert_eq!(n.expires_in, Some(86398));
        assert!(!format!("{n:?}").contains("eyJ.a.b"));
    }

    #[test]
    fn expiry_is_the_earlier_of_expires_on_and_expires_in() {
        let now = Utc.timestamp_opt(1_000_000, 0).unwrap();
        let r = AccessTokenResponse {
            token_type: None,
            expires_in: Some(3600),
            expires_on: Some(1_000_000 + 600),
            not_before: None,
            resource: None,
            access_token: Secret::new("t"),
        };
        assert_eq!(r.expires_at(now), Utc.timestamp_opt(1_000_600, 0).unwrap());
    }

    #[test]
    fn an_absurd_expires_in_from_the_network_does_not_panic() {
        let now = Utc.timestamp_opt(1_000_000, 0).unwrap();
        for huge in [i64::MAX, 99_999_999_999_999] {
            let r: AccessTokenResponse =
                serde_json::from_str(&format!(r#"{{"expires_in":"{huge}","access_token":"t"}}"#))
                    .unwrap();
            // Out of range counts as not given: the one-hour fallback.
            assert_eq!(r.expires_at(now), now + chrono::Duration::seconds(3600));
        }
    }
}

//! The request loop every call goes through: headers, Idempotency-Key, the
//! retry policy with backoff and Retry-After on the injected clock, recording
//! of every attempt, and mapping of failures to [`ApiError`].

use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use rand::Rng;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use super::error::{is_retryable_status, ApiError, Endpoint, ErrorBody};
use super::token::TokenCache;
use super::{Client, ClientOptions};
use crate::clock::SharedClock;
use crate::config::{Credentials, SystemHeaders};
use crate::domain::exchange::{Attempt, Exchange, RawExchange};
use crate::evidence::SharedRecorder;
use crate::secret::Secret;

/// The recorded outcome of an attempt: carries the attempt's id, which is
/// how a reader pairs the two.
fn outcome_of(raw: RawExchange, exchange_id: &str) -> Exchange {
    let mut exchange = Exchange::from_raw(raw);
    exchange.id = exchange_id.to_owned();
    exchange
}

/// An answer: status, headers and body.
type Answer = (u16, Vec<(String, String)>, Vec<u8>);

/// One attempt sent, its outcome not yet recorded.
struct Sent {
    /// The id its attempt was written ahead with; its outcome carries it too.
    exchange_id: String,
    /// The request side, filled in; the answer is added when it is recorded.
    raw: RawExchange,
    /// The answer, or why there was none.
    outcome: Result<Answer, reqwest::Error>,
}

/// What an attempt leads to.
enum Next {
    /// The operation is over: its answer or its error.
    Return(Result<Reply, ApiError>),
    /// Try again (the policy's wait is already over).
    Retry,
    /// Try again with a fresh token: the first 401 of a business call.
    Reauthenticate,
}

/// How transient failures (connection errors, timeouts, 5xx, 423, 429) are
/// retried. Every other 4xx is an answer and is never retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Requests per operation in all, the first included (1 = no retries).
    pub max_attempts: u32,
    /// Wait before the first retry; doubles for each further retry.
    pub initial_backoff: Duration,
    /// Upper bound of the exponential backoff.
    pub max_backoff: Duration,
    /// A `Retry-After` longer than this ends the operation instead of waiting.
    pub max_retry_after: Duration,
    /// Spread each backoff randomly over its upper half, so many clients
    /// that failed together do not retry together.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(120),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The backoff after the `failed_attempt`-th attempt failed (1-based),
    /// before jitter: `initial_backoff * 2^(n-1)`, capped at `max_backoff`.
    pub(crate) fn backoff_ceiling(&self, failed_attempt: u32) -> Duration {
        let exp = failed_attempt.saturating_sub(1).min(20);
        self.initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff)
    }

    /// The wait before the next attempt, or `None` to give up. A `Retry-After`
    /// is a floor: the client never comes back sooner than the server asked.
    pub fn delay(&self, failed_attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if failed_attempt >= self.max_attempts {
            return None;
        }
        let ceiling = self.backoff_ceiling(failed_attempt);
        let backoff = if self.jitter && !ceiling.is_zero() {
            let half = ceiling / 2;
            half + rand::thread_rng().gen_range(Duration::ZERO..=half)
        } else {
            ceiling
        };
        match retry_after {
            Some(ra) if ra > self.max_retry_after => None,
            Some(ra) => Some(ra.max(backoff)),
            None => Some(backoff),
        }
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3),
/// the latter measured against `now`.
pub(crate) fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc);
    Some((when - now).to_std().unwrap_or(Duration::ZERO))
}

/// How a request authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// Business calls: `Authorization: Bearer <token>`.
    Bearer,
    /// `/accesstoken/get`: `client_id` and `client_secret` headers.
    TokenCredentials,
}

/// One operation, before it is sent.
pub(crate) struct Call {
    pub method: Method,
    /// Path from the base URL, segments already encoded.
    pub path: String,
    /// JSON body, when there is one. `Bytes`, so handing it to reqwest on
    /// each attempt shares the buffer instead of copying it.
    pub body: Option<Bytes>,
    /// Payment reference the call concerns, for the evidence.
    pub reference: Option<String>,
    pub auth: Auth,
}

impl Call {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Call {
            method,
            path: path.into(),
            body: None,
            reference: None,
            auth: Auth::Bearer,
        }
    }

    pub fn json<T: Serialize>(mut self, body: &T) -> Result<Self, ApiError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ApiError::InvalidInput {
            field: "request body",
            reason: e.to_string(),
        })?;
        self.body = Some(Bytes::from(bytes));
        Ok(self)
    }

    pub fn reference(mut self, reference: &str) -> Self {
        self.reference = Some(reference.to_owned());
        self
    }
}

/// A response with a success status.
#[derive(Debug)]
pub(crate) struct Reply {
    pub endpoint: Endpoint,
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_slice(&self.body).map_err(|source| ApiError::Decode {
            endpoint: self.endpoint.clone(),
            status: self.status,
            source,
        })
    }
}

/// What the clones of a client share.
pub(crate) struct Inner {
    pub http: reqwest::Client,
    pub base_url: Url,
    pub credentials: Credentials,
    pub system: SystemHeaders,
    pub production: bool,
    pub clock: SharedClock,
    pub recorder: SharedRecorder,
    pub retry: RetryPolicy,
    pub timeout: Duration,
    pub token: TokenCache,
    /// The value of `x-vipps-golive-run` on every request.
    pub run_mark: String,
}

impl Inner {
    pub fn new(o: ClientOptions) -> Result<Inner, ApiError> {
        // Defence in depth: the configuration already decides this, but a
        // client built by hand (a test, a library user) must not reach
        // production without its safeguards, nor send credentials in clear.
        let class = crate::domain::host::HostClass::of(&o.base_url);
        let shown = crate::config::display_url(&o.base_url);
        if class == crate::domain::host::HostClass::VippsProduction && !o.production {
            return Err(ApiError::InvalidInput {
                field: "base URL",
                reason: format!(
                    "`{shown}` is the Vipps production API but the client was not built for production (hint: set `ClientOptions::production`)"
                ),
            });
        }
        if o.base_url.scheme() != "https" && !class.is_loopback() {
            return Err(ApiError::InvalidInput {
                field: "base URL",
                reason: format!(
                    "`{shown}` is not https and not loopback: credentials would travel in clear"
                ),
            });
        }
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(crate::domain::exchange::HARNESS_USER_AGENT)
            .build()
            .map_err(|e| ApiError::InvalidInput {
                field: "HTTP client",
                reason: e.to_string(),
            })?;
        // Redaction by value: these never appear anywhere, whatever echoes them.
        for secret in [
            &o.credentials.client_id,
            &o.credentials.client_secret,
            &o.credentials.subscription_key,
        ] {
            crate::domain::redact::register_secret(secret.expose());
        }
        Ok(Inner {
            http,
            base_url: o.base_url,
            credentials: o.credentials,
            system: o.system,
            production: o.production,
            clock: o.clock,
            recorder: o.recorder,
            retry: o.retry,
            timeout: o.timeout,
            token: TokenCache::default(),
            run_mark: o
                .run_id
                .unwrap_or_else(|| crate::domain::exchange::HARNESS_RUN_UNNAMED.to_owned()),
        })
    }
}

/// What a path segment keeps as it is: RFC 3986's unreserved characters.
/// Everything else, `/` and `%` included, is percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes one path segment (references and ids are plain, but a
/// caller's typo must not change which path is hit).
pub(crate) fn seg(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

impl Client {
    /// Sends one operation: one Idempotency-Key for all its attempts, retries
    /// per the policy, every attempt recorded.
    pub(crate) async fn execute(&self, call: Call) -> Result<Reply, ApiError> {
        let inner = &self.inner;
        let endpoint = Endpoint {
            method: call.method.to_string(),
            path: call.path.clone(),
        };
        let url = format!(
            "{}{}",
            inner.base_url.as_str().trim_end_matches('/'),
            call.path
        );
        // One key for the whole operation, so a retry after a lost response
        // cannot capture twice. The token call gets its own, never the caller's.
        let idempotency_key =
            (call.method == Method::POST).then(|| match (&self.ctx.idempotency_key, call.auth) {
                (Some(k), Auth::Bearer) => k.clone(),
                _ => uuid::Uuid::new_v4().to_string(),
            });
        let mut attempt: u32 = 0;
        let mut reauthenticated = false;
        loop {
            attempt += 1;
            let token = match call.auth {
                Auth::Bearer => Some(self.access_token().await?),
                Auth::TokenCredentials => None,
            };
            let sent = self
                .send_attempt(
                    &call,
                    (&endpoint, &url),
                    idempotency_key.as_deref(),
                    attempt,
                    token.as_ref(),
                )
                .await?;
            let next = match sent.outcome {
                Ok(answer) => {
                    let first_401 = !reauthenticated;
                    let next = self
                        .answered(
                            &call,
                            &endpoint,
                            sent.raw,
                            &sent.exchange_id,
                            answer,
                            first_401,
                        )
                        .await;
                    if let Next::Reauthenticate = next {
                        // A 401 on a business call usually means the cached
                        // token expired early or was revoked: drop it and try
                        // once more with a fresh one (same Idempotency-Key).
                        // Only once, so wrong credentials cannot loop.
                        reauthenticated = true;
                        if let Some(t) = &token {
                            inner.token.invalidate(t).await;
                        }
                    }
                    next
                }
                Err(e) => {
                    self.unanswered(&endpoint, sent.raw, &sent.exchange_id, e)
                        .await
                }
            };
            match next {
                Next::Return(result) => return result,
                Next::Retry | Next::Reauthenticate => continue,
            }
        }
    }

    /// One attempt: its headers, written ahead to the journal (what cannot
    /// be recorded is not sent), then sent. Its outcome is not yet recorded.
    async fn send_attempt(
        &self,
        call: &Call,
        (endpoint, url): (&Endpoint, &str),
        idempotency_key: Option<&str>,
        attempt: u32,
        token: Option<&Secret>,
    ) -> Result<Sent, ApiError> {
        let inner = &self.inner;
        let headers = self.headers(call, token.map(|t| t.expose()), idempotency_key);
        let started_at = inner.clock.now();
        if let Some(t) = token {
            crate::domain::redact::register_seen(t.expose());
        }
        // Written ahead: the attempt reaches the journal before the
        // request leaves, so a run killed while it is in flight still
        // names it. What cannot be recorded is not sent.
        let exchange_id = uuid::Uuid::new_v4().to_string();
        let ahead = Attempt::new(
            exchange_id.clone(),
            started_at,
            &endpoint.method,
            url,
            attempt,
            call.reference.clone(),
            idempotency_key.map(str::to_owned),
            self.ctx.checklist_ids.clone(),
            self.ctx.scenario.clone(),
        );
        if let Err(e) = inner.recorder.attempt_started(&ahead) {
            return Err(ApiError::Evidence {
                endpoint: endpoint.clone(),
                reason: e.to_string(),
            });
        }
        let t0 = Instant::now();
        let outcome = self.send_once(call, url, &headers).await;
        let duration_ms = u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX);
        let raw = RawExchange {
            started_at,
            duration_ms,
            method: endpoint.method.clone(),
            url: url.to_owned(),
            request_headers: headers,
            request_body: call.body.as_deref().map(<[u8]>::to_vec).unwrap_or_default(),
            status: None,
            response_headers: Vec::new(),
            response_body: Vec::new(),
            error: None,
            attempt,
            reference: call.reference.clone(),
            checklist_ids: self.ctx.checklist_ids.clone(),
            scenario: self.ctx.scenario.clone(),
        };
        Ok(Sent {
            exchange_id,
            raw,
            outcome,
        })
    }

    /// An attempt that got an answer: recorded, then a success, a retry
    /// (5xx, 423, 429 per the policy; a first 401 with a fresh token), or
    /// the answer as an error.
    async fn answered(
        &self,
        call: &Call,
        endpoint: &Endpoint,
        mut raw: RawExchange,
        exchange_id: &str,
        (status, resp_headers, body): Answer,
        first_401: bool,
    ) -> Next {
        let inner = &self.inner;
        let attempt = raw.attempt;
        // Read before the headers move into the record.
        let retry_after = resp_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
            .and_then(|(_, v)| parse_retry_after(v, inner.clock.now()));
        raw.status = Some(status);
        raw.response_headers = resp_headers;
        raw.response_body = body.clone();
        inner.recorder.record(&outcome_of(raw, exchange_id));

        if (200..300).contains(&status) {
            tracing::debug!(method = %endpoint.method, path = %endpoint.path, status, attempt, "vipps call succeeded");
            return Next::Return(Ok(Reply {
                endpoint: endpoint.clone(),
                status,
                body,
            }));
        }
        let body_shape = ErrorBody::parse(&body);
        let trace_id = match &body_shape {
            ErrorBody::Problem(p) => p.trace().map(str::to_owned),
            ErrorBody::Token(t) => t.trace_id.clone(),
            _ => None,
        };
        tracing::debug!(method = %endpoint.method, path = %endpoint.path, status, attempt, trace_id = trace_id.as_deref().unwrap_or("-"), "vipps call failed");
        if status == 401 && call.auth == Auth::Bearer && first_401 {
            return Next::Reauthenticate;
        }
        if is_retryable_status(status) {
            if let Some(wait) = inner.retry.delay(attempt, retry_after) {
                inner.clock.sleep(wait).await;
                return Next::Retry;
            }
        }
        Next::Return(Err(ApiError::Http {
            endpoint: endpoint.clone(),
            status,
            body: Box::new(body_shape),
            retry_after,
            attempts: attempt,
        }))
    }

    /// An attempt that got no answer: recorded with why, then a retry per
    /// the policy, or a timeout or unreachable error.
    async fn unanswered(
        &self,
        endpoint: &Endpoint,
        mut raw: RawExchange,
        exchange_id: &str,
        e: reqwest::Error,
    ) -> Next {
        let inner = &self.inner;
        let attempt = raw.attempt;
        if e.is_builder() {
            // A header value reqwest will not send (e.g. not ASCII):
            // nothing left the process. The attempt was written
            // ahead, so close it, or it would read as interrupted.
            raw.error = Some("not sent: a header value cannot be sent".into());
            inner.recorder.record(&outcome_of(raw, exchange_id));
            return Next::Return(Err(ApiError::InvalidInput {
                field: "request",
                reason: "a header value cannot be sent (check the Vipps-System-* values and credentials are plain ASCII)".into(),
            }));
        }
        let timed_out = e.is_timeout();
        let message = if timed_out {
            format!("no response within {}ms", inner.timeout.as_millis())
        } else {
            describe_transport_error(&e)
        };
        raw.error = Some(message.clone());
        inner.recorder.record(&outcome_of(raw, exchange_id));
        tracing::debug!(method = %endpoint.method, path = %endpoint.path, attempt, error = %message, "vipps call got no response");
        if let Some(wait) = inner.retry.delay(attempt, None) {
            inner.clock.sleep(wait).await;
            return Next::Retry;
        }
        Next::Return(Err(if timed_out {
            ApiError::Timeout {
                endpoint: endpoint.clone(),
                timeout: inner.timeout,
                attempts: attempt,
            }
        } else {
            ApiError::Unreachable {
                endpoint: endpoint.clone(),
                message,
                attempts: attempt,
                source: Some(Box::new(e)),
            }
        }))
    }

    async fn send_once(
        &self,
        call: &Call,
        url: &str,
        headers: &[(String, String)],
    ) -> Result<(u16, Vec<(String, String)>, Vec<u8>), reqwest::Error> {
        let mut rb = self
            .inner
            .http
            .request(call.method.clone(), url)
            .timeout(self.inner.timeout);
        for (k, v) in headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        rb = match &call.body {
            Some(b) => rb.body(b.clone()),
            // An explicit empty body, so POSTs without one still say Content-Length: 0.
            None if call.method == Method::POST => rb.body(Vec::new()),
            None => rb,
        };
        let resp = rb.send().await?;
        let status = resp.status().as_u16();
        let resp_headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp.bytes().await?.to_vec();
        Ok((status, resp_headers, body))
    }

    /// The headers of one attempt, in the order they are sent. They include
    /// secrets: they go to reqwest and to the recorder, which redacts them.
    fn headers(
        &self,
        call: &Call,
        token: Option<&str>,
        idempotency_key: Option<&str>,
    ) -> Vec<(String, String)> {
        let inner = &self.inner;
        let c = &inner.credentials;
        let mut h: Vec<(String, String)> = Vec::with_capacity(12);
        match call.auth {
            Auth::Bearer => {
                if let Some(t) = token {
                    h.push(("Authorization".into(), format!("Bearer {t}")));
                }
            }
            Auth::TokenCredentials => {
                h.push(("client_id".into(), c.client_id.expose().to_owned()));
                h.push(("client_secret".into(), c.client_secret.expose().to_owned()));
            }
        }
        h.push((
            "Ocp-Apim-Subscription-Key".into(),
            c.subscription_key.expose().to_owned(),
        ));
        h.push(("Merchant-Serial-Number".into(), c.msn.clone()));
        let s = &inner.system;
        h.push(("Vipps-System-Name".into(), s.system_name.clone()));
        h.push(("Vipps-System-Version".into(), s.system_version.clone()));
        h.push(("Vipps-System-Plugin-Name".into(), s.plugin_name.clone()));
        h.push((
            "Vipps-System-Plugin-Version".into(),
            s.plugin_version.clone(),
        ));
        if let Some(k) = idempotency_key {
            h.push(("Idempotency-Key".into(), k.to_owned()));
        }
        if call.body.is_some() {
            h.push(("Content-Type".into(), "application/json".into()));
        }
        h.push((
            "Accept".into(),
            "application/json, application/problem+json".into(),
        ));
        // The tool's mark, listed here (not only as the HTTP client's
        // default) so the client's own journal shows what was sent.
        h.push((
            "User-Agent".into(),
            crate::domain::exchange::HARNESS_USER_AGENT.into(),
        ));
        h.push((
            crate::domain::exchange::HARNESS_RUN_HEADER.into(),
            inner.run_mark.clone(),
        ));
        h
    }
}

/// A short description of a transport error with its causes (no secrets:
/// reqwest errors carry the URL, and the client puts none in it).
fn describe_transport_error(e: &reqwest::Error) -> String {
    let mut msg = if e.is_connect() {
        "connection failed".to_owned()
    } else if e.is_body() || e.is_decode() {
        "the connection broke while reading the response".to_owned()
    } else if e.is_request() {
        "the request could not be completed".to_owned()
    } else {
        "transport error".to_owned()
    };
    let mut source = std::error::Error::source(e);
    let mut depth = 0;
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
        depth += 1;
        if depth > 3 {
            break;
        }
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        let now = DateTime::parse_from_rfc2822("Wed, 21 Oct 2015 07:28:00 GMT")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_honours_retry_after_as_a_floor() {
        let p = RetryPolicy {
            jitter: false,
            max_attempts: 10,
            ..RetryPolicy::default()
        };
        assert_eq!(p.delay(1, None), Some(Duration::from_millis(500)));
        assert_eq!(p.delay(2, None), Some(Duration::from_secs(1)));
        assert_eq!(p.delay(9, None), Some(Duration::from_secs(10)));
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3))),
            Some(Duration::from_secs(3))
        );
        assert_eq!(p.delay(1, Some(Duration::from_secs(600))), None);
        assert_eq!(p.delay(10, None), None);
    }

    #[test]
    fn jittered_backoff_stays_in_the_upper_half() {
        let p = RetryPolicy::default();
        for _ in 0..100 {
            let d = p.delay(3, None).unwrap();
            assert!(
                d >= Duration::from_secs(1) && d <= Duration::from_secs(2),
                "{d:?}"
            );
        }
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(seg("shop-1_a.b"), "shop-1_a.b");
        assert_eq!(seg("a/b c"), "a%2Fb%20c");
        assert_eq!(seg("50%?#&+ø"), "50%25%3F%23%26%2B%C3%B8");
    }
}

//! Webhooks API (behaviour.md §9.1), HMAC signing (§9.3, [`signing`]) and
//! delivery with retries, in order per registration and payment (§9.4).
//!
//! The engine only queues: [`Registry::enqueue`] runs under the engine lock, so
//! it serializes each payload once and wakes the dispatcher. The dispatcher
//! ([`spawn_dispatcher`]) takes due deliveries under the lock, releases it, sends
//! them with reqwest, and reports back under the lock. It never sends while
//! holding the lock.

pub mod signing;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::{
    problem, routes, validate, Engine, OutboundEvent, SimConfig, SimRequest, SimResponse, Simulator,
};

/// The ePayment event types (§9.2): the ones the simulator produces and delivers.
pub(crate) const EVENT_TYPES: [&str; 8] = [
    "epayments.payment.created.v1",
    "epayments.payment.aborted.v1",
    "epayments.payment.expired.v1",
    "epayments.payment.cancelled.v1",
    "epayments.payment.captured.v1",
    "epayments.payment.refunded.v1",
    "epayments.payment.authorized.v1",
    "epayments.payment.terminated.v1",
];

/// The other event types of the Webhooks API's event list
/// (developer.vippsmobilepay.com/docs/APIs/webhooks-api/events: Recurring,
/// QR, Login). A registration may ask for them, alone or beside ePayment
/// events, as a shop registering every event in one call does; the simulator
/// produces none of them, so none is ever delivered (docs/fidelity.md).
pub(crate) const OTHER_EVENT_TYPES: [&str; 11] = [
    "recurring.agreement-activated.v1",
    "recurring.agreement-rejected.v1",
    "recurring.agreement-stopped.v1",
    "recurring.agreement-expired.v1",
    "recurring.charge-reserved.v1",
    "recurring.charge-captured.v1",
    "recurring.charge-canceled.v1",
    "recurring.charge-failed.v1",
    "recurring.charge-creation-failed.v1",
    "user.checked-in.v1",
    "login.merchant-initiated.ping.v1",
];

/// Event types with a registration limit of their own: QR check-in takes
/// "up to one webhook registration per event" (the events page; §9.1).
const SINGLE_REGISTRATION: [&str; 1] = ["user.checked-in.v1"];

/// How registration and delivery behave. Change through
/// `sim.with_engine(|e| e.hooks.settings = ...)`; `reset` keeps them.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Deviation from §9.1 (HTTPS only): also accept `http://` URLs whose host is
    /// loopback (localhost, 127.0.0.0/8, [::1]), so a shop on a laptop can
    /// receive webhooks without TLS. Other http URLs are refused as the real API does.
    pub allow_loopback_http: bool,
    /// OPEN(§16.15): 5 per event (2023 spec) or 25 per event type per MSN (current
    /// docs); chose 25, the newer figure.
    pub max_per_event: usize,
    /// Deviation from §9.1 (ports 80, 443 and 8080 only): a loopback URL may use
    /// any port, so a shop can test on a laptop. Such a registration is marked
    /// (`GET /__sim/webhooks/registrations`, and an `x-vipps-golive-deviation`
    /// header on the 201 that the journal keeps for `audit`).
    pub allow_loopback_any_port: bool,
    /// No answer within this long counts as a failure (§9.4: 10 s).
    pub timeout: Duration,
    /// Wait after failed attempt n (1-based; the last value repeats), on the
    /// simulator's virtual clock. The default is the documented schedule
    /// (§9.4): about 2 s after each of the first four attempts, then 60 s, then
    /// 120 s, then hourly up to attempt 29, then daily ([`documented_schedule`]).
    pub retry_delays: Vec<Duration>,
    /// Attempts per delivery before it is dropped (and the next one for that
    /// registration and payment may go). Default: no limit but `max_age`.
    pub max_attempts: u32,
    /// A delivery still failing this long (virtual clock) after its first
    /// attempt is dropped (§9.4: 7 days).
    pub max_age: Duration,
    /// Deliveries sent at once.
    pub concurrency: usize,
    /// Deliveries waiting at most (beyond, new ones are dropped and counted).
    pub max_pending: usize,
    /// Delivery attempts kept for `GET /__sim/webhooks/deliveries`.
    pub attempts_kept: usize,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            allow_loopback_http: true,
            allow_loopback_any_port: true,
            max_per_event: 25,
            timeout: Duration::from_secs(10),
            retry_delays: documented_schedule(),
            max_attempts: u32::MAX,
            max_age: Duration::from_secs(7 * 24 * 3600),
            concurrency: 32,
            max_pending: 100_000,
            attempts_kept: 1_000,
        }
    }
}

/// The retry schedule of behaviour.md §9.4 ([S12-webhooks]): the wait after
/// failed attempt n is 2 s for n = 1..4, 60 s after the 5th, 120 s after the
/// 6th, one hour after attempts 7 to 28 (so attempt 29 is the last hourly
/// one), then one day (repeated until `max_age`, 7 days).
pub fn documented_schedule() -> Vec<Duration> {
    let mut d = vec![Duration::from_secs(2); 4];
    d.push(Duration::from_secs(60));
    d.push(Duration::from_secs(120));
    d.extend(std::iter::repeat(Duration::from_secs(3600)).take(22));
    d.push(Duration::from_secs(24 * 3600));
    d
}

/// The ports the real service delivers to (behaviour.md §9.1).
pub(crate) const SAFE_PORTS: [u16; 3] = [80, 443, 8080];

/// One registration.
#[derive(Debug, Clone)]
struct Registration {
    id: String,
    msn: String,
    url: url::Url,
    events: Vec<String>,
    /// Shown only in the 201 answer; used as the HMAC key.
    secret: Arc<str>,
    /// What the real API would refuse about this registration (loopback
    /// leniencies), for `GET /__sim/webhooks/registrations` and `audit`.
    deviations: Vec<String>,
}

/// A registration as `GET /webhooks/v1/webhooks` shows it (never the secret).
#[derive(Debug, Clone, Serialize)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
}

/// A delivery waiting in its (registration, payment) queue.
#[derive(Debug, Clone)]
struct Pending {
    event_type: String,
    body: Bytes,
    /// Attempts made so far.
    attempts: u32,
    /// When the first attempt was made (virtual clock).
    first_attempt: Option<DateTime<Utc>>,
}

/// (webhook id, payment reference): order is kept within one queue.
type QueueKey = (String, String);

/// One attempt, as `GET /__sim/webhooks/deliveries` lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    pub webhook_id: String,
    pub url: String,
    pub event_type: String,
    pub reference: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    pub at: DateTime<Utc>,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
    /// `delivered`, `retrying` or `gave_up`.
    pub outcome: &'static str,
    /// When the next attempt is due (virtual clock), when retrying.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub payload: Value,
}

/// Registrations, pending deliveries and the attempt log.
#[derive(Debug)]
pub struct Registry {
    pub settings: WebhookSettings,
    regs: Vec<Registration>,
    queues: HashMap<QueueKey, VecDeque<Pending>>,
    /// Queue heads waiting to be sent, by due time on the simulator's virtual
    /// clock (so a test can cover days of retries in milliseconds): the
    /// dispatcher finds due work without scanning every queue (a dead endpoint
    /// may hold 100 000).
    ready: BTreeMap<(DateTime<Utc>, u64), QueueKey>,
    seq: u64,
    pending: usize,
    dropped: u64,
    attempts: VecDeque<DeliveryAttempt>,
    wake: Arc<Notify>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            settings: WebhookSettings::default(),
            regs: Vec::new(),
            queues: HashMap::new(),
            ready: BTreeMap::new(),
            seq: 0,
            pending: 0,
            dropped: 0,
            attempts: VecDeque::new(),
            wake: Arc::new(Notify::new()),
        }
    }
}

/// Why a registration was refused: (field, reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub field: &'static str,
    pub reason: String,
}

/// What the dispatcher sends.
#[derive(Debug, Clone)]
struct Job {
    key: QueueKey,
    url: url::Url,
    secret: Arc<str>,
    body: Bytes,
    timeout: Duration,
}

/// What came of one attempt.
#[derive(Debug)]
struct Outcome {
    key: QueueKey,
    status: Option<u16>,
    error: Option<String>,
    duration: Duration,
}

impl Registry {
    pub fn new(config: &SimConfig) -> Self {
        let mut r = Registry::default();
        r.settings.allow_loopback_http = config.rules.loopback_webhooks;
        r.settings.allow_loopback_any_port = config.rules.loopback_webhooks;
        r
    }

    /// Forgets registrations, pending deliveries and attempts (settings stay).
    pub fn reset(&mut self) {
        self.regs.clear();
        self.queues.clear();
        self.ready.clear();
        self.pending = 0;
        self.dropped = 0;
        self.attempts.clear();
    }

    /// Deliveries waiting or in flight.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Deliveries dropped because `max_pending` was reached.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The recorded delivery attempts, oldest first.
    pub fn attempts(&self) -> impl Iterator<Item = &DeliveryAttempt> {
        self.attempts.iter()
    }

    /// Wakes the dispatcher (the clock moved: retries may be due).
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Every registration with what the real API would refuse about it.
    pub fn registrations(&self) -> Vec<Value> {
        self.regs
            .iter()
            .map(|r| {
                json!({
                    "id": r.id,
                    "msn": r.msn,
                    "url": r.url.to_string(),
                    "events": r.events,
                    "deviations": r.deviations,
                })
            })
            .collect()
    }

    /// What the real API would refuse about registration `id` (empty: nothing).
    pub fn deviations(&self, id: &str) -> &[String] {
        self.regs
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.deviations.as_slice())
            .unwrap_or(&[])
    }

    /// Registrations of `msn`.
    pub fn list(&self, msn: &str) -> Vec<WebhookView> {
        self.regs
            .iter()
            .filter(|r| r.msn == msn)
            .map(|r| WebhookView {
                id: r.id.clone(),
                url: r.url.to_string(),
                events: r.events.clone(),
            })
            .collect()
    }

    /// Registers `url` for `events` on behalf of `msn`; returns (id, secret).
    pub fn register(
        &mut self,
        msn: &str,
        url: &str,
        events: &[String],
    ) -> Result<(String, String), Refused> {
        let (parsed, deviations) = self.check_url(url)?;
        if events.is_empty() {
            return Err(Refused {
                field: "events",
                reason: "At least one event is required.".into(),
            });
        }
        let mut unique: Vec<String> = Vec::new();
        for e in events {
            if !EVENT_TYPES.contains(&e.as_str()) && !OTHER_EVENT_TYPES.contains(&e.as_str()) {
                return Err(Refused {
                    field: "events",
                    reason: format!("`{e}` is not a known event type."),
                });
            }
            if !unique.contains(e) {
                unique.push(e.clone());
            }
        }
        for e in &unique {
            let n = self
                .regs
                .iter()
                .filter(|r| r.msn == msn && r.events.contains(e))
                .count();
            let max = if SINGLE_REGISTRATION.contains(&e.as_str()) {
                1
            } else {
                self.settings.max_per_event
            };
            if n >= max {
                return Err(Refused {
                    field: "events",
                    reason: format!("At most {max} webhooks can be registered for `{e}`."),
                });
            }
        }
        let id = uuid::Uuid::new_v4().to_string();
        let mut key = [0u8; 48];
        rand::thread_rng().fill_bytes(&mut key);
        use base64::Engine as _;
        let secret = base64::engine::general_purpose::STANDARD.encode(key);
        self.regs.push(Registration {
            id: id.clone(),
            msn: msn.to_owned(),
            url: parsed,
            events: unique,
            secret: Arc::from(secret.as_str()),
            deviations,
        });
        Ok((id, secret))
    }

    /// Deletes registration `id` of `msn` and its pending deliveries; `false` when unknown.
    pub fn delete(&mut self, msn: &str, id: &str) -> bool {
        let before = self.regs.len();
        self.regs.retain(|r| !(r.id == id && r.msn == msn));
        if self.regs.len() == before {
            return false;
        }
        let mut removed = 0;
        self.queues.retain(|(w, _), q| {
            let keep = w != id;
            if !keep {
                removed += q.len();
            }
            keep
        });
        self.pending -= removed;
        true
    }

    /// Checks a webhook URL (§9.1): HTTPS on port 80, 443 or 8080. Loopback
    /// URLs may break both rules when the settings allow it; what they break is
    /// returned, so it can be shown and audited.
    fn check_url(&self, url: &str) -> Result<(url::Url, Vec<String>), Refused> {
        let bad = |reason: &str| Refused {
            field: "url",
            reason: reason.to_owned(),
        };
        let parsed = url::Url::parse(url).map_err(|_| bad("The URL must be an absolute URI."))?;
        if parsed.host_str().is_none() || parsed.cannot_be_a_base() {
            return Err(bad("The URL must be an absolute URI."));
        }
        let loopback = crate::domain::host::is_loopback(&parsed);
        let mut deviations = Vec::new();
        match parsed.scheme() {
            "https" => {}
            "http" if self.settings.allow_loopback_http && loopback => {
                deviations.push("http:// instead of https:// (the real API accepts only HTTPS)".to_owned());
            }
            "http" => return Err(bad("The URL must use HTTPS (the simulator also accepts http:// for localhost, 127.0.0.0/8 and [::1]).")),
            _ => return Err(bad("The URL must use HTTPS.")),
        }
        let port = parsed.port_or_known_default().unwrap_or(0);
        if !SAFE_PORTS.contains(&port) {
            if loopback && self.settings.allow_loopback_any_port {
                deviations.push(format!(
                    "port {port} (the real API delivers only to ports 80, 443 and 8080)"
                ));
            } else {
                return Err(bad(&format!(
                    "The URL must use one of the ports 80, 443 or 8080, not {port}."
                )));
            }
        }
        Ok((parsed, deviations))
    }

    /// Queues a delivery of each event to every registration of its MSN that
    /// asked for it. Called under the engine lock: never blocks, never sends.
    pub fn enqueue(&mut self, events: Vec<OutboundEvent>, now: DateTime<Utc>) {
        if self.regs.is_empty() || events.is_empty() {
            return;
        }
        let mut queued = false;
        for event in events {
            let event_type = format!("epayments.payment.{}.v1", event.name.to_ascii_lowercase());
            let mut body: Option<Bytes> = None;
            for reg in &self.regs {
                if reg.msn != event.msn || !reg.events.contains(&event_type) {
                    continue;
                }
                if self.pending >= self.settings.max_pending {
                    self.dropped += 1;
                    continue;
                }
                let body = body
                    .get_or_insert_with(|| {
                        Bytes::from(serde_json::to_vec(&event.payload).unwrap_or_default())
                    })
                    .clone();
                let key = (reg.id.clone(), event.reference.clone());
                let queue = self.queues.entry(key.clone()).or_default();
                let due = now;
                queue.push_back(Pending {
                    event_type: event_type.clone(),
                    body,
                    attempts: 0,
                    first_attempt: None,
                });
                if queue.len() == 1 {
                    self.seq += 1;
                    self.ready.insert((due, self.seq), key);
                }
                self.pending += 1;
                queued = true;
            }
        }
        if queued {
            self.wake.notify_one();
        }
    }

    /// Marks up to `limit` due queue heads in flight and returns them, with the
    /// earliest due time of the heads still waiting.
    fn take_due(&mut self, now: DateTime<Utc>, limit: usize) -> (Vec<Job>, Option<DateTime<Utc>>) {
        let mut jobs = Vec::new();
        while jobs.len() < limit {
            let Some(entry) = self.ready.first_entry() else {
                break;
            };
            if entry.key().0 > now {
                break;
            }
            let key = entry.remove();
            // Entries of deleted registrations are skipped here, lazily.
            let Some(head) = self.queues.get_mut(&key).and_then(VecDeque::front_mut) else {
                continue;
            };
            head.first_attempt.get_or_insert(now);
            let Some(reg) = self.regs.iter().find(|r| r.id == key.0) else {
                continue;
            };
            jobs.push(Job {
                url: reg.url.clone(),
                secret: reg.secret.clone(),
                body: head.body.clone(),
                timeout: self.settings.timeout,
                key,
            });
        }
        let next = self.ready.keys().next().map(|(due, _)| *due);
        (jobs, next)
    }

    fn schedule(&mut self, key: QueueKey, due: DateTime<Utc>) {
        self.seq += 1;
        self.ready.insert((due, self.seq), key);
    }

    /// Records an attempt and advances or reschedules its queue.
    fn complete(&mut self, outcome: Outcome, now: DateTime<Utc>) {
        let Some(queue) = self.queues.get_mut(&outcome.key) else {
            return; // the registration was deleted meanwhile
        };
        let Some(head) = queue.front_mut() else {
            return;
        };
        head.attempts += 1;
        let ok = outcome.status.is_some_and(|s| (200..300).contains(&s));
        let n = head.attempts as usize;
        let delays = &self.settings.retry_delays;
        let wait = delays
            .get(n.saturating_sub(1))
            .or(delays.last())
            .copied()
            .unwrap_or(Duration::from_secs(1));
        let next_due = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::days(1));
        let first = head.first_attempt.unwrap_or(now);
        let too_old = chrono::Duration::from_std(self.settings.max_age)
            .is_ok_and(|age| next_due - first > age);
        let gave_up = !ok && (head.attempts >= self.settings.max_attempts || too_old);
        // Built (the payload parsed) only when the log keeps attempts.
        let record = (self.settings.attempts_kept > 0).then(|| DeliveryAttempt {
            webhook_id: outcome.key.0.clone(),
            url: self
                .regs
                .iter()
                .find(|r| r.id == outcome.key.0)
                .map(|r| r.url.to_string())
                .unwrap_or_default(),
            event_type: head.event_type.clone(),
            reference: outcome.key.1.clone(),
            attempt: head.attempts,
            at: now,
            status: outcome.status,
            error: outcome.error,
            duration_ms: u64::try_from(outcome.duration.as_millis()).unwrap_or(u64::MAX),
            outcome: if ok {
                "delivered"
            } else if gave_up {
                "gave_up"
            } else {
                "retrying"
            },
            next_attempt_at: (!ok && !gave_up).then_some(next_due),
            payload: serde_json::from_slice(&head.body).unwrap_or(Value::Null),
        });
        if ok || gave_up {
            queue.pop_front();
            self.pending = self.pending.saturating_sub(1);
            if queue.is_empty() {
                self.queues.remove(&outcome.key);
            } else {
                // The next delivery for this registration and payment may go now.
                self.schedule(outcome.key.clone(), now);
            }
        } else {
            self.schedule(outcome.key.clone(), next_due);
        }
        if let Some(record) = record {
            // `while`: attempts_kept may have been lowered since the last attempt.
            while self.attempts.len() >= self.settings.attempts_kept {
                self.attempts.pop_front();
            }
            self.attempts.push_back(record);
        }
    }
}

/// The body of `POST /webhooks/v1/webhooks`.
/// The spec's `RegisterRequest` is `additionalProperties: false`: an unknown
/// property is refused (found by Schemathesis; issue 23 point 4).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    url: Option<String>,
    events: Option<Vec<String>>,
}

/// Everything under `/webhooks/`.
pub(crate) fn handle_api(engine: &mut Engine, req: &SimRequest) -> SimResponse {
    let principal = match routes::authenticate(engine, req) {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    // The Webhooks spec declares the Vipps-System-* headers on every operation,
    // `maxLength: 30` (found by Schemathesis; issue 23 point 4).
    if let Err(r) = validate::system_headers(req) {
        let extra = r.extra.first().map(|(n, why)| (n.as_str(), why.clone()));
        return hook_problem(req, r.status, &r.title, &r.detail, extra);
    }
    handle_api_for(&mut engine.hooks, req, &principal.msn)
}

/// The Webhooks API routes, for an already authenticated `msn`.
pub fn handle_api_for(hooks: &mut Registry, req: &SimRequest, msn: &str) -> SimResponse {
    let segs = req.segments();
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    match l.as_slice() {
        ["webhooks", "v1", "webhooks"] => match req.method.as_str() {
            "GET" => SimResponse::json(200, &json!({ "webhooks": hooks.list(msn) })),
            "POST" => register(hooks, req, msn),
            _ => problem::method_not_allowed(req, "GET, POST"),
        },
        ["webhooks", "v1", "webhooks", _] => match req.method.as_str() {
            "DELETE" => {
                if hooks.delete(msn, segs[3]) {
                    SimResponse::empty(204)
                } else {
                    hook_problem(
                        req,
                        404,
                        "Not Found",
                        &format!("No webhook with id `{}` for MSN `{msn}`.", segs[3]),
                        None,
                    )
                }
            }
            _ => problem::method_not_allowed(req, "DELETE"),
        },
        _ => problem::not_found(req),
    }
}

fn register(hooks: &mut Registry, req: &SimRequest, msn: &str) -> SimResponse {
    let body: RegisterBody = match serde_json::from_slice(&req.body) {
        Ok(b) => b,
        Err(e) => {
            return hook_problem(
                req,
                400,
                "Bad Request",
                "One or more validation errors occurred.",
                Some((
                    "body",
                    format!("The request body is not valid JSON for this operation: {e}."),
                )),
            )
        }
    };
    let Some(url) = body.url.filter(|u| !u.is_empty()) else {
        return hook_problem(
            req,
            400,
            "Bad Request",
            "One or more validation errors occurred.",
            Some((
                "url",
                "The property is required and cannot be null or empty.".into(),
            )),
        );
    };
    let Some(events) = body.events else {
        return hook_problem(
            req,
            400,
            "Bad Request",
            "One or more validation errors occurred.",
            Some((
                "events",
                "The property is required and cannot be null or empty.".into(),
            )),
        );
    };
    match hooks.register(msn, &url, &events) {
        Ok((id, secret)) => {
            let resp = SimResponse::json(201, &json!({ "id": id, "secret": secret }));
            let deviations = hooks.deviations(&id);
            if deviations.is_empty() {
                resp
            } else {
                // Recorded in the journal, so `audit` can flag it.
                resp.with_header(
                    "x-vipps-golive-deviation",
                    format!(
                        "webhook accepted only because it is loopback: {}",
                        deviations.join("; ")
                    ),
                )
            }
        }
        Err(r) => hook_problem(
            req,
            400,
            "Bad Request",
            "One or more validation errors occurred.",
            Some((r.field, r.reason)),
        ),
    }
}

/// The Webhooks API Problem (§9.1): `instance` is the path without `/webhooks`.
fn hook_problem(
    req: &SimRequest,
    status: u16,
    title: &str,
    detail: &str,
    extra: Option<(&str, String)>,
) -> SimResponse {
    let instance = req.path.strip_prefix("/webhooks").unwrap_or(&req.path);
    let body = json!({
        "type": format!("https://httpstatuses.io/{status}"),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "traceId": problem::trace_id(),
        "extraDetails": extra.map(|(n, r)| vec![json!({ "name": n, "reason": r })]),
    });
    let mut resp = SimResponse::json(status, &body);
    resp.headers = vec![(
        "content-type".into(),
        "application/problem+json; charset=utf-8".into(),
    )];
    resp
}

/// `/__sim/webhooks/deliveries` (`?reference=` filters) and
/// `/__sim/webhooks/registrations`; `None` for other paths.
pub(crate) fn handle_control(engine: &mut Engine, req: &SimRequest) -> Option<SimResponse> {
    let segs = req.segments();
    if segs.len() == 3 && segs[1] == "webhooks" && segs[2] == "registrations" {
        if req.method != "GET" {
            return Some(problem::method_not_allowed(req, "GET"));
        }
        return Some(SimResponse::json(
            200,
            &json!({ "registrations": engine.hooks.registrations() }),
        ));
    }
    if segs.len() != 3 || segs[1] != "webhooks" || segs[2] != "deliveries" {
        return None;
    }
    if req.method != "GET" {
        return Some(problem::method_not_allowed(req, "GET"));
    }
    let reference = req.query_param("reference");
    let list: Vec<&DeliveryAttempt> = engine
        .hooks
        .attempts()
        .filter(|a| reference.as_deref().map_or(true, |r| a.reference == r))
        .collect();
    Some(SimResponse::json(
        200,
        &json!({
            "deliveries": list,
            "pending": engine.hooks.pending(),
            "dropped": engine.hooks.dropped(),
        }),
    ))
}

/// The running dispatcher. Dropping it stops the dispatcher and its sends.
#[derive(Debug)]
pub struct Dispatcher {
    stop: Arc<Notify>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Dispatcher {
    /// Stops sending and waits for the task to end (in-flight sends are abandoned;
    /// their deliveries stay pending in the engine).
    pub async fn shutdown(mut self) {
        self.stop.notify_one();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Starts the task that sends queued deliveries. Must be called inside a tokio
/// runtime. Holds only a weak reference: it ends when the simulator is dropped.
pub fn spawn_dispatcher(sim: &Arc<Simulator>) -> Dispatcher {
    let stop = Arc::new(Notify::new());
    let wake = sim.with_engine(|e| e.hooks.wake.clone());
    let task = tokio::spawn(run_dispatcher(Arc::downgrade(sim), wake, stop.clone()));
    Dispatcher {
        stop,
        task: Some(task),
    }
}

async fn run_dispatcher(sim: Weak<Simulator>, wake: Arc<Notify>, stop: Arc<Notify>) {
    let client = match reqwest::Client::builder()
        // §9.1: no redirects are followed.
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook HTTP client; webhooks are off");
            return;
        }
    };
    // Dropping the set (on return or abort) aborts sends still in flight.
    let mut sends: JoinSet<Outcome> = JoinSet::new();
    loop {
        let Some(s) = sim.upgrade() else { return };
        let limit = s
            .with_engine(|e| e.hooks.settings.concurrency)
            .saturating_sub(sends.len());
        let (jobs, next, now) = s.with_engine(|e| {
            let now = e.now();
            let (jobs, next) = e.hooks.take_due(now, limit);
            (jobs, next, now)
        });
        drop(s);
        for job in jobs {
            sends.spawn(send(client.clone(), job));
        }
        // Wake at the next due retry (virtual time runs at least as fast as
        // real time; a clock advance wakes us through `wake`), or at least once
        // a second as a safety net.
        let wait = next
            .and_then(|due| (due - now).to_std().ok())
            .unwrap_or(Duration::ZERO);
        let wait = if next.is_some() {
            wait
        } else {
            Duration::from_secs(1)
        };
        let wait = wait.clamp(Duration::from_millis(5), Duration::from_secs(1));
        let until = tokio::time::Instant::now() + wait;
        tokio::select! {
            _ = stop.notified() => return,
            _ = wake.notified() => {}
            Some(done) = sends.join_next(), if !sends.is_empty() => {
                match done {
                    Ok(outcome) => {
                        let Some(s) = sim.upgrade() else { return };
                        s.with_engine(|e| {
                            let now = e.now();
                            e.hooks.complete(outcome, now);
                        });
                    }
                    Err(e) => tracing::error!(error = %e, "a webhook send task failed"),
                }
            }
            _ = tokio::time::sleep_until(until) => {}
        }
    }
}

/// Sends one signed delivery. The date is real time (not the simulator's
/// virtual clock): a shop checking `x-ms-date` against its own clock must agree.
async fn send(client: reqwest::Client, job: Job) -> Outcome {
    let sig = signing::sign(&job.url, &job.body, &job.secret, Utc::now());
    let started = std::time::Instant::now();
    let result = client
        .post(job.url.clone())
        .timeout(job.timeout)
        .header("content-type", "application/json")
        .header("x-ms-date", &sig.date)
        .header("x-ms-content-sha256", &sig.content_sha256)
        .header("authorization", &sig.authorization)
        .header("host", &sig.host)
        .body(job.body.clone())
        .send()
        .await;
    let (status, error) = match result {
        Ok(resp) => (Some(resp.status().as_u16()), None),
        Err(e) if e.is_timeout() => (
            None,
            Some(format!("no answer within {} ms", job.timeout.as_millis())),
        ),
        Err(e) => (None, Some(format!("{e}"))),
    };
    Outcome {
        key: job.key,
        status,
        error,
        duration: started.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        Registry::new(&SimConfig::default())
    }

    fn events(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn event(name: &str, reference: &str) -> OutboundEvent {
        OutboundEvent {
            msn: "123456".into(),
            name: name.into(),
            reference: reference.into(),
            payload: json!({ "name": name, "reference": reference }),
        }
    }

    #[test]
    fn https_is_accepted_and_plain_http_only_for_loopback() {
        let mut r = registry();
        let ev = events(&["epayments.payment.captured.v1"]);
        assert!(r
            .register("123456", "https://shop.example/hook", &ev)
            .is_ok());
        assert!(r
            .register("123456", "http://127.0.0.1:9000/hook", &ev)
            .is_ok());
        assert!(r.register("123456", "http://localhost/hook", &ev).is_ok());
        assert!(r.register("123456", "http://[::1]:80/hook", &ev).is_ok());
        let refused = r
            .register("123456", "http://shop.example/hook", &ev)
            .unwrap_err();
        assert_eq!(refused.field, "url");
        r.settings.allow_loopback_http = false;
        assert!(r
            .register("123456", "http://127.0.0.1:9000/hook", &ev)
            .is_err());
    }

    #[test]
    fn unknown_event_names_are_refused() {
        let mut r = registry();
        let refused = r
            .register(
                "123456",
                "https://shop.example/h",
                &events(&["epayments.payment.paid.v1"]),
            )
            .unwrap_err();
        assert_eq!(refused.field, "events");
    }

    #[test]
    fn the_26th_registration_for_one_event_is_refused_but_another_msn_may_register() {
        let mut r = registry();
        let ev = events(&["epayments.payment.authorized.v1"]);
        for _ in 0..25 {
            r.register("123456", "https://shop.example/h", &ev).unwrap();
        }
        assert!(r.register("123456", "https://shop.example/h", &ev).is_err());
        assert!(r.register("654321", "https://shop.example/h", &ev).is_ok());
    }

    #[test]
    fn events_queue_only_for_registrations_that_asked_for_them() {
        let mut r = registry();
        r.register(
            "123456",
            "https://a.example/h",
            &events(&["epayments.payment.captured.v1"]),
        )
        .unwrap();
        r.register(
            "654321",
            "https://b.example/h",
            &events(&["epayments.payment.authorized.v1"]),
        )
        .unwrap();
        r.enqueue(
            vec![event("AUTHORIZED", "ref-1"), event("CAPTURED", "ref-1")],
            Utc::now(),
        );
        assert_eq!(r.pending(), 1);
    }

    #[test]
    fn a_failing_head_holds_back_its_payment_but_not_other_payments() {
        let mut r = registry();
        r.settings.retry_delays = vec![Duration::from_secs(60)];
        r.register(
            "123456",
            "https://a.example/h",
            &events(&[
                "epayments.payment.authorized.v1",
                "epayments.payment.captured.v1",
            ]),
        )
        .unwrap();
        r.enqueue(
            vec![event("AUTHORIZED", "ref-1"), event("CAPTURED", "ref-1")],
            Utc::now(),
        );
        let (jobs, _) = r.take_due(Utc::now(), 10);
        assert_eq!(jobs.len(), 1);
        r.complete(
            Outcome {
                key: jobs[0].key.clone(),
                status: Some(500),
                error: None,
                duration: Duration::ZERO,
            },
            Utc::now(),
        );
        // The failed AUTHORIZED waits a minute; CAPTURED must not overtake it.
        let (jobs, next) = r.take_due(Utc::now(), 10);
        assert!(jobs.is_empty());
        assert!(next.is_some());
        // Another payment proceeds.
        r.enqueue(vec![event("AUTHORIZED", "ref-2")], Utc::now());
        let (jobs, _) = r.take_due(Utc::now(), 10);
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].key.1, "ref-2");
    }

    #[test]
    fn a_delivery_is_dropped_after_max_attempts_and_the_next_one_goes() {
        let mut r = registry();
        r.settings.retry_delays = vec![Duration::ZERO];
        r.settings.max_attempts = 2;
        r.register(
            "123456",
            "https://a.example/h",
            &events(&[
                "epayments.payment.authorized.v1",
                "epayments.payment.captured.v1",
            ]),
        )
        .unwrap();
        r.enqueue(
            vec![event("AUTHORIZED", "ref-1"), event("CAPTURED", "ref-1")],
            Utc::now(),
        );
        for _ in 0..2 {
            let (jobs, _) = r.take_due(Utc::now(), 10);
            r.complete(
                Outcome {
                    key: jobs[0].key.clone(),
                    status: None,
                    error: Some("refused".into()),
                    duration: Duration::ZERO,
                },
                Utc::now(),
            );
        }
        let outcomes: Vec<&str> = r.attempts().map(|a| a.outcome).collect();
        assert_eq!(outcomes, vec!["retrying", "gave_up"]);
        let (jobs, _) = r.take_due(Utc::now(), 10);
        assert_eq!(jobs.len(), 1);
        assert_eq!(r.pending(), 1);
    }

    #[test]
    fn the_default_schedule_is_the_documented_one_and_gives_up_after_seven_days() {
        let secs = Duration::from_secs;
        let d = documented_schedule();
        assert_eq!(d[..6], [2, 2, 2, 2, 60, 120].map(secs));
        assert!(d[6..28].iter().all(|x| *x == secs(3600)), "{d:?}");
        assert_eq!(d[28..], [secs(86_400)]);

        let mut r = registry();
        r.register(
            "123456",
            "https://a.example/h",
            &events(&["epayments.payment.authorized.v1"]),
        )
        .unwrap();
        let start = Utc::now();
        r.enqueue(vec![event("AUTHORIZED", "ref-1")], start);
        let mut now = start;
        for _ in 0..100 {
            let (jobs, _) = r.take_due(now, 10);
            let Some(job) = jobs.first() else { break };
            r.complete(
                Outcome {
                    key: job.key.clone(),
                    status: Some(503),
                    error: None,
                    duration: Duration::ZERO,
                },
                now,
            );
            match r.attempts().last().and_then(|a| a.next_attempt_at) {
                Some(next) => now = next,
                None => break,
            }
        }
        let last = r.attempts().last().unwrap();
        assert_eq!(last.outcome, "gave_up");
        // 29 attempts in the first day, then daily: the 35th is the last before day 7.
        assert_eq!(last.attempt, 35);
        let age = now - start;
        assert!(
            age > chrono::Duration::days(6) && age <= chrono::Duration::days(7),
            "{age}"
        );
        assert_eq!(r.pending(), 0);
    }

    #[test]
    fn a_non_standard_port_is_refused_unless_the_host_is_loopback() {
        let mut r = registry();
        let ev = events(&["epayments.payment.captured.v1"]);
        for bad in ["https://shop.example:8443/h", "https://10.1.2.3:9000/h"] {
            assert_eq!(r.register("123456", bad, &ev).unwrap_err().field, "url");
        }
        let (id, _) = r
            .register("123456", "https://localhost:9443/h", &ev)
            .unwrap();
        assert_eq!(r.deviations(&id).len(), 1);
        r.settings.allow_loopback_any_port = false;
        assert!(r
            .register("123456", "https://localhost:9443/h", &ev)
            .is_err());
    }

    #[test]
    fn deleting_a_registration_drops_its_pending_deliveries() {
        let mut r = registry();
        let (id, _) = r
            .register(
                "123456",
                "https://a.example/h",
                &events(&["epayments.payment.created.v1"]),
            )
            .unwrap();
        r.enqueue(vec![event("CREATED", "ref-1")], Utc::now());
        assert_eq!(r.pending(), 1);
        assert!(!r.delete("654321", &id));
        assert!(r.delete("123456", &id));
        assert_eq!(r.pending(), 0);
    }

    #[test]
    fn lowering_attempts_kept_shrinks_the_attempt_log() {
        let mut r = registry();
        r.settings.retry_delays = vec![Duration::ZERO];
        r.register(
            "123456",
            "https://a.example/h",
            &events(&["epayments.payment.created.v1"]),
        )
        .unwrap();
        r.enqueue(vec![event("CREATED", "ref-1")], Utc::now());
        let fail_once = |r: &mut Registry| {
            let (jobs, _) = r.take_due(Utc::now(), 10);
            r.complete(
                Outcome {
                    key: jobs[0].key.clone(),
                    status: Some(500),
                    error: None,
                    duration: Duration::ZERO,
                },
                Utc::now(),
            );
        };
        for _ in 0..4 {
            fail_once(&mut r);
        }
        assert_eq!(r.attempts().count(), 4);
        r.settings.attempts_kept = 2;
        fail_once(&mut r);
        let kept: Vec<u32> = r.attempts().map(|a| a.attempt).collect();
        assert_eq!(kept, vec![4, 5]);
    }
}

//! The pure state machine: payments per MSN, aggregates, events, idempotency
//! store and expiry schedule (behaviour.md §3, §6, §7). No HTTP here: routes
//! turn requests into calls on [`Ledger`] and its answers into responses.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use chrono::{DateTime, Duration as CDuration, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{OutboundEvent, SimConfig};

/// Payment currency (behaviour.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    Nok,
    Dkk,
    Eur,
}

impl Currency {
    /// Parses the wire value (`NOK`, `DKK`, `EUR`; case-sensitive as the enum is).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "NOK" => Some(Currency::Nok),
            "DKK" => Some(Currency::Dkk),
            "EUR" => Some(Currency::Eur),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Currency::Nok => "NOK",
            Currency::Dkk => "DKK",
            Currency::Eur => "EUR",
        }
    }

    /// Smallest payment amount in minor units (NOK 100 øre; DKK and EUR 1).
    pub fn minimum(self) -> i64 {
        match self {
            Currency::Nok => 100,
            Currency::Dkk | Currency::Eur => 1,
        }
    }
}

/// An amount in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Money {
    pub currency: Currency,
    pub value: i64,
}

/// Payment state (behaviour.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    Created,
    Authorized,
    Aborted,
    Expired,
    Terminated,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Created => "CREATED",
            State::Authorized => "AUTHORIZED",
            State::Aborted => "ABORTED",
            State::Expired => "EXPIRED",
            State::Terminated => "TERMINATED",
        }
    }
}

/// `paymentMethod.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MethodType {
    Wallet,
    Card,
}

/// `userFlow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Flow {
    PushMessage,
    NativeRedirect,
    WebRedirect,
    Qr,
}

/// Event names of the event log and webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventName {
    Created,
    Aborted,
    Expired,
    Cancelled,
    Captured,
    Refunded,
    Authorized,
    Terminated,
}

impl EventName {
    pub fn as_str(self) -> &'static str {
        match self {
            EventName::Created => "CREATED",
            EventName::Aborted => "ABORTED",
            EventName::Expired => "EXPIRED",
            EventName::Cancelled => "CANCELLED",
            EventName::Captured => "CAPTURED",
            EventName::Refunded => "REFUNDED",
            EventName::Authorized => "AUTHORIZED",
            EventName::Terminated => "TERMINATED",
        }
    }
}

/// An event's pspReference: the CREATED event carries the payment's UUID,
/// later events a numeric string of their own (behaviour.md §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Psp {
    Uuid(Uuid),
    Num(u64),
}

impl std::fmt::Display for Psp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Psp::Uuid(u) => write!(f, "{}", u.hyphenated()),
            Psp::Num(n) => write!(f, "{n}"),
        }
    }
}

/// One entry of a payment's event log.
#[derive(Debug, Clone)]
pub struct Event {
    pub name: EventName,
    pub psp: Psp,
    /// In the payment currency.
    pub amount: i64,
    pub timestamp: DateTime<Utc>,
    pub idempotency_key: Option<Box<str>>,
    pub success: bool,
}

/// The operations whose responses are kept for idempotent replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Create,
    Cancel,
    Capture,
    Refund,
}

/// A response kept for replay. Successful answers are kept as the few numbers
/// needed to rebuild them byte for byte (memory: 100 000 payments must stay small);
/// anything else (Problems) as raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// Status, whether it is a Problem, body.
    Raw {
        status: u16,
        problem: bool,
        body: Box<[u8]>,
    },
    /// The 201 of create: rebuilt from the payment (its fields never change).
    Created,
    /// A 200 ModificationResponse: the state and aggregate at that moment.
    Modified(Snapshot),
}

/// State and aggregate of a payment at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub state: State,
    pub authorized: i64,
    pub captured: i64,
    pub refunded: i64,
    pub cancelled: i64,
}

/// One remembered request. The key is kept as a 64-bit hash, not as text:
/// every key of a payment is kept for as long as the payment exists (a replay
/// must never take effect twice), so each entry must stay small.
#[derive(Debug, Clone)]
struct IdemEntry {
    op: Op,
    key: u64,
    hash: u64,
    response: Stored,
}

/// The compact form of an Idempotency-Key (see [`IdemEntry`]). Two distinct
/// keys of one payment collide with probability about 2^-64 per pair.
pub(crate) fn key_hash(key: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.as_bytes().hash(&mut h);
    h.finish()
}

/// A key's hash within one sales unit (the index of create keys).
fn unit_key_hash(msn: &str, key: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (msn, key).hash(&mut h);
    h.finish()
}

/// What the idempotency store says about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idem {
    /// Never seen: execute it.
    Fresh,
    /// Seen with the same body: send this again, do nothing else.
    Replay(Stored),
    /// Seen with another body.
    Conflict,
}

/// One metadata key/value pair.
pub type Pair = (Box<str>, Box<str>);

/// One payment.
#[derive(Debug, Clone)]
pub struct Payment {
    pub reference: Box<str>,
    pub amount: Money,
    pub state: State,
    pub method: MethodType,
    pub flow: Flow,
    /// The payment's pspReference (= the CREATED event's).
    pub psp_reference: Uuid,
    pub return_url: Option<Box<str>>,
    /// The token in the redirect URL (landing page, force approve); the URL
    /// itself is rebuilt from it when asked for, to save memory.
    pub token: Box<str>,
    pub description: Option<Box<str>>,
    /// Passed back as given (string to string).
    pub metadata: Option<Box<[Pair]>>,
    pub customer_phone: Option<Box<str>>,
    pub scope: Option<Box<str>>,
    pub profile_sub: Option<Uuid>,
    pub qr_png_size: Option<u32>,
    /// QR flow with `TEXT/TARGETURL`: the redirectUrl is the landing page itself.
    pub qr_target_url: bool,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub authorized_at: Option<DateTime<Utc>>,
    pub authorized: i64,
    pub captured: i64,
    pub refunded: i64,
    pub cancelled: i64,
    pub events: Vec<Event>,
    /// Express checkout: the shipping option chosen (None: not Express).
    pub shipping: Option<Box<Shipping>>,
    idem: Vec<IdemEntry>,
    expiry_key: Option<ExpiryKey>,
}

impl Payment {
    /// Amount still capturable.
    pub fn capturable(&self) -> i64 {
        self.authorized - self.captured - self.cancelled
    }

    /// State and aggregate now.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            state: self.state,
            authorized: self.authorized,
            captured: self.captured,
            refunded: self.refunded,
            cancelled: self.cancelled,
        }
    }

    pub fn money(&self, value: i64) -> Money {
        Money {
            currency: self.amount.currency,
            value,
        }
    }
}

/// The shipping option an Express payment's customer chose (the simulator
/// chooses for them: the default option of the default group, else the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipping {
    pub option_id: Box<str>,
    pub option_name: Box<str>,
    /// In the payment currency's minor units.
    pub cost: i64,
}

/// A payment to create (validated by `validate`).
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub reference: String,
    pub amount: Money,
    pub method: MethodType,
    pub flow: Flow,
    pub return_url: Option<String>,
    pub description: Option<String>,
    pub metadata: Option<Vec<(String, String)>>,
    pub customer_phone: Option<String>,
    pub scope: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// QR flow with `IMAGE/PNG`: the image size in pixels.
    pub qr_png_size: Option<u32>,
    /// QR flow with `TEXT/TARGETURL`.
    pub qr_target_url: bool,
}

/// A refused operation: an ErrorCode of the §5.3 catalogue (always HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpError {
    pub code: u32,
    pub title: &'static str,
    pub detail: String,
}

fn op_err(code: u32, title: &'static str, detail: String) -> OpError {
    OpError {
        code,
        title,
        detail,
    }
}

/// Behaviour switches where behaviour.md is OPEN.
#[derive(Debug, Clone)]
pub struct LedgerOptions {
    /// Default expiry after creation (10 minutes).
    pub payment_timeout: CDuration,
    /// OPEN(§16.10): a second cancel of an already cancelled AUTHORIZED
    /// payment, or a cancel of a TERMINATED one, answers 200 and changes
    /// nothing (true, default: the merchant's goal is already met, so a retry
    /// with a fresh key must not break the shop), or is refused with 6050 (false).
    pub repeat_cancel_is_noop: bool,
    /// Capture and cancel deadline after authorization for a unit of the
    /// Norwegian market (180 days); see [`LedgerOptions::capture_window_of`].
    pub capture_window: CDuration,
    /// The deadline of units in another market (Denmark, Finland: 14 days).
    pub market_windows: HashMap<Box<str>, CDuration>,
    /// Refund deadline after authorization (365 days).
    pub refund_window: CDuration,
    /// How long the landing page (and deeplink) can be used after creation
    /// (behaviour.md §8: 5 minutes, then 5 more in the app).
    pub landing_window: CDuration,
    /// Expiry of a one-time QR payment without `expiresAt` (behaviour.md §8:
    /// one-time QR codes expire after about 5 minutes [S14-qr-print]).
    pub qr_timeout: CDuration,
}

impl LedgerOptions {
    /// The capture and cancel deadline after authorization of the unit `msn`
    /// (its market's: behaviour.md §7 "Deadlines").
    pub fn capture_window_of(&self, msn: &str) -> CDuration {
        self.market_windows
            .get(msn)
            .copied()
            .unwrap_or(self.capture_window)
    }

    fn from_config(config: &SimConfig) -> Self {
        LedgerOptions {
            payment_timeout: CDuration::from_std(config.payment_timeout)
                .unwrap_or_else(|_| CDuration::minutes(10)),
            repeat_cancel_is_noop: true,
            capture_window: CDuration::days(super::units::Market::No.capture_days()),
            market_windows: config
                .accounts
                .iter()
                .map(|a| a.msn.as_str())
                .chain(config.capabilities.keys().map(String::as_str))
                .filter_map(|msn| {
                    let days = config.market_of(msn).capture_days();
                    (days != super::units::Market::No.capture_days())
                        .then(|| (Box::from(msn), CDuration::days(days)))
                })
                .collect(),
            refund_window: CDuration::days(365),
            landing_window: CDuration::from_std(config.landing_window)
                .unwrap_or_else(|_| CDuration::minutes(5)),
            qr_timeout: CDuration::from_std(config.qr_timeout)
                .unwrap_or_else(|_| CDuration::minutes(5)),
        }
    }
}

/// The card result a special test amount gives on approval (behaviour.md §14),
/// or `None` for an ordinary amount.
pub(crate) fn special_amount_result(value: i64) -> Option<&'static str> {
    Some(match value {
        151 => "Insufficient funds",
        182 => "Refused by issuer",
        183 => "Suspected fraud",
        184 => "Withdrawal amount limit exceeded",
        186 => "Expired card",
        187 => "Invalid card",
        197 => "3-D Secure denied",
        201 => "Unknown result (the payment stays pending for an hour)",
        202 => "Strong customer authentication required",
        _ => return None,
    })
}

/// An expiry instant plus a tie-breaker.
type ExpiryKey = (DateTime<Utc>, u64);

/// Payments per MSN, plus the expiry schedule.
#[derive(Debug)]
pub struct Ledger {
    /// Boxed so the hash table stays small (and cheap to grow) with 100 000 payments.
    units: HashMap<Box<str>, HashMap<Box<str>, Box<Payment>>>,
    /// Expiry instant (plus a tie-breaker) -> (msn, reference), for CREATED payments.
    expiries: BTreeMap<ExpiryKey, (Box<str>, Box<str>)>,
    /// Capture deadline (plus a tie-breaker) -> (msn, reference), for
    /// AUTHORIZED payments: there what is still reserved is released.
    deadlines: BTreeMap<ExpiryKey, (Box<str>, Box<str>)>,
    seq: u64,
    next_psp: u64,
    pub options: LedgerOptions,
    /// Validation switches (OPEN points of behaviour.md §16).
    pub rules: super::validate::Rules,
    /// Payments being processed (`SimConfig::processing`): (msn, reference) -> until.
    busy: HashMap<(Box<str>, Box<str>), DateTime<Utc>>,
    /// Creates refused before a payment existed: (msn, key hash) -> (body hash,
    /// answer), so the key stays bound to its first body (behaviour.md §6.2).
    rejected_creates: HashMap<(Box<str>, u64), (u64, Stored)>,
    /// The reference each successful create's Idempotency-Key made, by a hash
    /// of (msn, key): a key is bound to its first create's body, whatever
    /// the reference (behaviour.md §6.3), as a refused first create binds it.
    create_keys: HashMap<u64, Box<str>>,
    /// Insertion order of `rejected_creates`, oldest first (bounded memory).
    rejected_order: std::collections::VecDeque<(Box<str>, u64)>,
}

/// Refused creates remembered at most (oldest forgotten first). There is no
/// payment to hang them on, so unlike payment keys they are bounded.
pub const REJECTED_CREATES_KEPT: usize = 100_000;

/// Hashes a request body so that equal JSON (whitespace, key order) hashes equal.
pub fn body_hash(body: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => hash_value(&v, &mut h),
        Err(_) => {
            0xffu8.hash(&mut h);
            body.trim_ascii().hash(&mut h);
        }
    }
    h.finish()
}

fn hash_value(v: &Value, h: &mut impl Hasher) {
    match v {
        Value::Null => 0u8.hash(h),
        Value::Bool(b) => (1u8, b).hash(h),
        Value::Number(n) => (2u8, n.to_string()).hash(h),
        Value::String(s) => (3u8, s).hash(h),
        Value::Array(a) => {
            (4u8, a.len()).hash(h);
            a.iter().for_each(|x| hash_value(x, h));
        }
        Value::Object(m) => {
            (5u8, m.len()).hash(h);
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for k in keys {
                k.hash(h);
                hash_value(&m[k.as_str()], h);
            }
        }
    }
}

/// RFC 3339 with milliseconds, as the examples show.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Ledger {
    pub fn new(config: &SimConfig) -> Self {
        Ledger {
            units: HashMap::new(),
            expiries: BTreeMap::new(),
            deadlines: BTreeMap::new(),
            seq: 0,
            // Ten-digit numeric pspReferences like the examples' "2107715530".
            next_psp: 2_100_000_000 + u64::from(rand::random::<u32>() % 90_000_000),
            options: LedgerOptions::from_config(config),
            rules: config.rules.clone(),
            busy: HashMap::new(),
            rejected_creates: HashMap::new(),
            create_keys: HashMap::new(),
            rejected_order: std::collections::VecDeque::new(),
        }
    }

    /// What the idempotency store says about a create whose key was refused before.
    pub(crate) fn rejected_create(&self, msn: &str, key: &str, hash: u64) -> Idem {
        if self.rejected_creates.is_empty() {
            return Idem::Fresh;
        }
        match self.rejected_creates.get(&(Box::from(msn), key_hash(key))) {
            None => Idem::Fresh,
            Some((h, stored)) if *h == hash => Idem::Replay(stored.clone()),
            Some(_) => Idem::Conflict,
        }
    }

    /// Marks a payment as Express, with the shipping option its customer will choose.
    pub fn set_shipping(&mut self, msn: &str, reference: &str, shipping: Shipping) {
        if let Some(p) = self.get_mut(msn, reference) {
            p.shipping = Some(Box::new(shipping));
        }
    }

    /// The reference a successful create with `key` made on unit `msn`.
    pub fn created_with_key(&self, msn: &str, key: &str) -> Option<&str> {
        self.create_keys.get(&unit_key_hash(msn, key)).map(|r| &**r)
    }

    /// Remembers a refused create (its answer is replayed to the same key and body).
    pub(crate) fn remember_rejected_create(
        &mut self,
        msn: &str,
        key: &str,
        hash: u64,
        answer: Stored,
    ) {
        let k = (Box::from(msn), key_hash(key));
        if self.rejected_creates.contains_key(&k) {
            return;
        }
        while self.rejected_order.len() >= REJECTED_CREATES_KEPT {
            if let Some(old) = self.rejected_order.pop_front() {
                self.rejected_creates.remove(&old);
            }
        }
        self.rejected_order.push_back(k.clone());
        self.rejected_creates.insert(k, (hash, answer));
    }

    /// When the payment's current operation ends, if one is still running at `now`.
    pub(crate) fn busy_until(
        &self,
        msn: &str,
        reference: &str,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if self.busy.is_empty() {
            return None;
        }
        self.busy
            .get(&(Box::from(msn), Box::from(reference)))
            .copied()
            .filter(|until| *until > now)
    }

    /// Marks the payment busy until `until` (an operation is being processed).
    pub(crate) fn mark_busy(
        &mut self,
        msn: &str,
        reference: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) {
        if self.busy.len() >= 1024 {
            self.busy.retain(|_, t| *t > now);
        }
        self.busy.insert((msn.into(), reference.into()), until);
    }

    /// Number of payments held (all MSNs).
    pub fn len(&self) -> usize {
        self.units.values().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, msn: &str, reference: &str) -> Option<&Payment> {
        self.units.get(msn)?.get(reference).map(|p| &**p)
    }

    fn get_mut(&mut self, msn: &str, reference: &str) -> Option<&mut Payment> {
        self.units
            .get_mut(msn)?
            .get_mut(reference)
            .map(|p| &mut **p)
    }

    /// Finds the payment whose redirect token is `token` (landing page). Linear only
    /// over one MSN's payments when the caller knows the MSN.
    pub(crate) fn find_by_token(
        &self,
        msn: &str,
        reference: &str,
        token: &str,
    ) -> Option<&Payment> {
        self.get(msn, reference).filter(|p| &*p.token == token)
    }

    /// Checks the idempotency store of an existing payment.
    pub fn idempotency(&self, msn: &str, reference: &str, op: Op, key: &str, hash: u64) -> Idem {
        let Some(p) = self.get(msn, reference) else {
            return Idem::Fresh;
        };
        let key = key_hash(key);
        match p.idem.iter().find(|e| e.op == op && e.key == key) {
            None => Idem::Fresh,
            Some(e) if e.hash == hash => Idem::Replay(e.response.clone()),
            Some(_) => Idem::Conflict,
        }
    }

    /// Keeps the response of an operation for replay.
    pub(crate) fn remember(
        &mut self,
        msn: &str,
        reference: &str,
        op: Op,
        key: &str,
        hash: u64,
        response: Stored,
    ) {
        let Some(p) = self.get_mut(msn, reference) else {
            return;
        };
        let key = key_hash(key);
        if p.idem.iter().any(|e| e.op == op && e.key == key) {
            return;
        }
        // Never evicted: a key is remembered for as long as its payment exists
        // (issue 14 point 2). Rate limits (5 modifications a minute) keep the
        // list short in practice.
        p.idem.push(IdemEntry {
            op,
            key,
            hash,
            response,
        });
        p.idem.shrink_to_fit();
    }

    fn next_psp(&mut self) -> Psp {
        self.next_psp += 1;
        Psp::Num(self.next_psp)
    }

    /// The payment an operation acts on (5090 when unknown), with the pspReference of the
    /// event it may push. The number is drawn first, so a refused operation uses one up too.
    fn target(&mut self, msn: &str, reference: &str) -> Result<(Psp, &mut Payment), OpError> {
        let psp = self.next_psp();
        let p = self
            .get_mut(msn, reference)
            .ok_or_else(|| not_found(msn, reference))?;
        Ok((psp, p))
    }

    /// Creates a payment (the caller has checked the reference is new) and emits CREATED.
    pub fn create(
        &mut self,
        msn: &str,
        new: NewPayment,
        token: String,
        idempotency_key: &str,
        now: DateTime<Utc>,
        outbox: &mut Vec<OutboundEvent>,
    ) -> &Payment {
        let timeout = if new.flow == Flow::Qr {
            self.options.qr_timeout.min(self.options.payment_timeout)
        } else {
            self.options.payment_timeout
        };
        let expires_at = new.expires_at.unwrap_or(now + timeout);
        self.seq += 1;
        let expiry_key = (expires_at, self.seq);
        let reference: Box<str> = new.reference.into();
        self.expiries
            .insert(expiry_key, (msn.into(), reference.clone()));
        let psp_reference = Uuid::new_v4();
        let mut p = Payment {
            reference: reference.clone(),
            amount: new.amount,
            state: State::Created,
            method: new.method,
            flow: new.flow,
            psp_reference,
            return_url: new.return_url.map(Into::into),
            token: token.into(),
            description: new.description.map(Into::into),
            metadata: new.metadata.map(|m| {
                m.into_iter()
                    .map(|(k, v)| (k.into_boxed_str(), v.into_boxed_str()))
                    .collect()
            }),
            customer_phone: new.customer_phone.map(Into::into),
            scope: new.scope.map(Into::into),
            profile_sub: None,
            qr_png_size: new.qr_png_size,
            qr_target_url: new.qr_target_url,
            created_at: now,
            expires_at,
            authorized_at: None,
            authorized: 0,
            captured: 0,
            refunded: 0,
            cancelled: 0,
            events: Vec::with_capacity(2),
            shipping: None,
            idem: Vec::with_capacity(1),
            expiry_key: Some(expiry_key),
        };
        let amount = p.amount.value;
        push_event(
            msn,
            &mut p,
            EventName::Created,
            Psp::Uuid(psp_reference),
            amount,
            Some(idempotency_key),
            now,
            outbox,
        );
        self.create_keys
            .insert(unit_key_hash(msn, idempotency_key), reference.clone());
        let unit = self.units.entry(msn.into()).or_default();
        unit.insert(reference.clone(), Box::new(p));
        // The entry was just inserted.
        &unit[&*reference]
    }

    fn unschedule(&mut self, msn: &str, reference: &str) {
        if let Some(p) = self.get_mut(msn, reference) {
            if let Some(k) = p.expiry_key.take() {
                self.expiries.remove(&k);
            }
        }
    }

    /// The customer approves (landing page, app, force approve, control API).
    pub fn authorize(
        &mut self,
        msn: &str,
        reference: &str,
        now: DateTime<Utc>,
        outbox: &mut Vec<OutboundEvent>,
    ) -> Result<(), OpError> {
        let (psp, p) = self.target(msn, reference)?;
        match p.state {
            State::Created => {}
            State::Authorized => {
                return Err(op_err(
                    6230,
                    "Payment is already reserved",
                    format!("Reference `{reference}` is already AUTHORIZED."),
                ))
            }
            s => {
                return Err(op_err(
                    10020,
                    "Approve not allowed",
                    format!(
                        "Reference `{reference}` cannot be approved. Invalid state: {}.",
                        s.as_str()
                    ),
                ))
            }
        }
        p.state = State::Authorized;
        p.authorized = p.amount.value;
        p.authorized_at = Some(now);
        if p.scope.is_some() {
            p.profile_sub = Some(Uuid::new_v4());
        }
        // The AUTHORIZED event repeats the create call's key (behaviour.md §3.3).
        let key = p.events.first().and_then(|e| e.idempotency_key.clone());
        let amount = p.amount.value;
        push_event(
            msn,
            p,
            EventName::Authorized,
            psp,
            amount,
            key.as_deref(),
            now,
            outbox,
        );
        self.unschedule(msn, reference);
        self.seq += 1;
        let deadline = now + self.options.capture_window_of(msn);
        self.deadlines
            .insert((deadline, self.seq), (msn.into(), reference.into()));
        Ok(())
    }

    /// The customer rejects (ABORTED) or the time runs out (EXPIRED).
    pub(crate) fn finish_unapproved(
        &mut self,
        msn: &str,
        reference: &str,
        name: EventName,
        now: DateTime<Utc>,
        outbox: &mut Vec<OutboundEvent>,
    ) -> Result<(), OpError> {
        let (psp, p) = self.target(msn, reference)?;
        if p.state != State::Created {
            return Err(op_err(
                6190,
                "Payment cannot be changed",
                format!(
                    "Reference `{reference}` is not awaiting the customer. Invalid state: {}.",
                    p.state.as_str()
                ),
            ));
        }
        p.state = match name {
            EventName::Aborted => State::Aborted,
            _ => State::Expired,
        };
        let amount = p.amount.value;
        push_event(msn, p, name, psp, amount, None, now, outbox);
        self.unschedule(msn, reference);
        Ok(())
    }

    /// Cancel (behaviour.md §3.4).
    pub fn cancel(
        &mut self,
        msn: &str,
        reference: &str,
        transaction_only: bool,
        key: &str,
        now: DateTime<Utc>,
        outbox: &mut Vec<OutboundEvent>,
    ) -> Result<(), OpError> {
        let noop = self.options.repeat_cancel_is_noop;
        let window = self.options.capture_window_of(msn);
        let (psp, p) = self.target(msn, reference)?;
        match p.state {
            State::Created => {
                // OPEN(§16.8): only a TERMINATED event, no CANCELLED one.
                p.state = State::Terminated;
                p.cancelled = p.amount.value;
                let amount = p.amount.value;
                push_event(
                    msn,
                    p,
                    EventName::Terminated,
                    psp,
                    amount,
                    Some(key),
                    now,
                    outbox,
                );
                self.unschedule(msn, reference);
                Ok(())
            }
            State::Terminated if noop => Ok(()),
            State::Aborted | State::Expired | State::Terminated => Err(op_err(
                6050,
                "Cannot cancel a non-reserved payment",
                format!(
                    "Reference `{reference}` cannot be cancelled. Invalid state: {}.",
                    p.state.as_str()
                ),
            )),
            State::Authorized => {
                if transaction_only {
                    return Err(op_err(
                        6060,
                        "Cannot cancel authorized payment",
                        format!("Reference `{reference}` is authorized and cancelTransactionOnly was set; nothing was released."),
                    ));
                }
                // Before the repeat check: past the deadline the reservation
                // was released by the deadline itself, not by a cancel.
                if p.authorized_at.is_some_and(|t| now > t + window) {
                    return Err(op_err(
                        6030,
                        "Cancel period expired",
                        format!(
                            "Reference `{reference}` was authorized more than {} days ago.",
                            window.num_days()
                        ),
                    ));
                }
                if p.cancelled > 0 {
                    return if noop {
                        Ok(())
                    } else {
                        Err(op_err(
                            6050,
                            "Cannot cancel a non-reserved payment",
                            format!("Reference `{reference}` has already been cancelled."),
                        ))
                    };
                }
                if p.captured >= p.authorized {
                    return Err(op_err(
                        6040,
                        "Cannot cancel a captured payment",
                        format!("Reference `{reference}` has been captured in full."),
                    ));
                }
                let released = p.authorized - p.captured;
                p.cancelled = released;
                // The CANCELLED event carries no idempotency key (behaviour.md §3.3).
                push_event(
                    msn,
                    p,
                    EventName::Cancelled,
                    psp,
                    released,
                    None,
                    now,
                    outbox,
                );
                Ok(())
            }
        }
    }

    /// Capture (behaviour.md §3.5).
    pub fn capture(
        &mut self,
        msn: &str,
        reference: &str,
        amount: Money,
        key: &str,
        now: DateTime<Utc>,
        outbox: &mut Vec<OutboundEvent>,
    ) -> Result<(), OpError> {
        let window = self.options.capture_window_of(msn);
        let (psp, p) = self.target(msn, reference)?;
        check_currency(p, amount)?;
        match p.state {
            State::Authorized => {}
            State::Terminated => {
                return Err(op_err(
                    6070,
                    "Cannot capture a cancelled payment",
                    format!("Reference `{reference}` was cancelled before authorization."),
                ))
            }
            s => {
                return Err(op_err(
                    6080,
                    "Cannot capture before reservation",
                    format!(
                        "Reference `{reference}` cannot be captured. Invalid state: {}.",
                        s.as_str()
                    ),
                ))
            }
        }
        // Before the cancelled check: past the deadline the reservation was
        // released by the deadline, and the answer says why.
        if p.authorized_at.is_some_and(|t| now > t + window) {
            return Err(op_err(
                6100,
                "Capture period expired",
                format!(
                    "Reference `{reference}` was authorized more than {} days ago.",
                    window.num_days()
                ),
            ));
        }
        if p.cancelled > 0 {
            return Err(op_err(
                6070,
                "Cannot capture a cancelled payment",
                format!("Reference `{reference}` has been cancelled."),
            ));
        }
        if amount.value > p.capturable() {
            return Err(op_err(
                6090,
                "Capture amount too high",
                format!(
                    "The total capture amount exceeds the reserved amount: {} requested, {} left to capture.",
                    amount.value,
                    p.capturable()
                ),
            ));
        }
        p.captured += amount.value;
        push_event(
            msn,
            p,
            EventName::Captured,
            psp,
            amount.value,
            Some(key),
            now,
            outbox,
        );
        Ok(())
    }

    /// Refund (behaviour.md §3.6).
    pub fn refund(
        &mut self,
        msn: &str,
        reference: &str,
        amount: Money,
        key: &str,
        now: DateTime<Utc>,
        outbox: &mut Vec<OutboundEvent>,
    ) -> Result<(), OpError> {
        let window = self.options.refund_window;
        let (psp, p) = self.target(msn, reference)?;
        check_currency(p, amount)?;
        if p.state != State::Authorized {
            return Err(op_err(
                6020,
                "Attempted refund before reservation",
                format!(
                    "Reference `{reference}` cannot be refunded. Invalid state: {}.",
                    p.state.as_str()
                ),
            ));
        }
        if p.authorized_at.is_some_and(|t| now > t + window) {
            return Err(op_err(
                6220,
                "Refund period expired",
                format!(
                    "Reference `{reference}` was authorized more than {} days ago.",
                    window.num_days()
                ),
            ));
        }
        if p.captured > 0 && p.refunded >= p.captured {
            return Err(op_err(
                6180,
                "Payment already refunded",
                format!("Reference `{reference}` has been refunded in full."),
            ));
        }
        if amount.value > p.captured - p.refunded {
            return Err(op_err(
                6150,
                "Not enough refundable",
                format!(
                    "Cannot refund more than the captured amount: {} requested, {} refundable.",
                    amount.value,
                    p.captured - p.refunded
                ),
            ));
        }
        p.refunded += amount.value;
        push_event(
            msn,
            p,
            EventName::Refunded,
            psp,
            amount.value,
            Some(key),
            now,
            outbox,
        );
        Ok(())
    }

    /// Moves every CREATED payment whose expiry has passed to EXPIRED, and
    /// releases what is still reserved of every AUTHORIZED payment whose
    /// capture deadline has passed, pushing their events. Cheap when nothing
    /// is due: one look at the first entry of each sorted map.
    pub fn expire_due(&mut self, now: DateTime<Utc>, outbox: &mut Vec<OutboundEvent>) {
        self.release_due(now, outbox);
        while let Some((&(at, seq), _)) = self.expiries.first_key_value() {
            if at > now {
                break;
            }
            let Some((msn, reference)) = self.expiries.remove(&(at, seq)) else {
                break;
            };
            if let Some(p) = self.get_mut(&msn, &reference) {
                if p.state == State::Created && p.expiry_key == Some((at, seq)) {
                    // Timestamp the event at the expiry instant, not at the late observation.
                    let _ =
                        self.finish_unapproved(&msn, &reference, EventName::Expired, at, outbox);
                }
            }
        }
    }
}

impl Ledger {
    /// At the capture deadline "the payment is automatically cancelled"
    /// (ePayment API guide, "Capture payment", *Payment capture deadlines*;
    /// knowledge base *Reserve and capture*). Modelled as a cancel made by
    /// the deadline: what is still reserved (authorized - captured -
    /// cancelled) becomes `cancelledAmount`, a CANCELLED event for it
    /// (no idempotency key) is logged and sent at the deadline instant, and
    /// the state stays AUTHORIZED, as after a merchant's cancel (§7 table).
    /// Nothing happens when nothing is reserved any more (docs/fidelity.md).
    fn release_due(&mut self, now: DateTime<Utc>, outbox: &mut Vec<OutboundEvent>) {
        while let Some((&(at, seq), _)) = self.deadlines.first_key_value() {
            if at >= now {
                break;
            }
            let Some((msn, reference)) = self.deadlines.remove(&(at, seq)) else {
                break;
            };
            let psp = self.next_psp();
            let Some(p) = self.get_mut(&msn, &reference) else {
                continue;
            };
            let reserved = p.capturable();
            if p.state == State::Authorized && reserved > 0 {
                p.cancelled += reserved;
                push_event(
                    &msn,
                    p,
                    EventName::Cancelled,
                    psp,
                    reserved,
                    None,
                    at,
                    outbox,
                );
            }
        }
    }
}

fn not_found(msn: &str, reference: &str) -> OpError {
    op_err(
        5090,
        "Reference not found",
        format!("The reference {reference} does not exist for MSN {msn}."),
    )
}

fn check_currency(p: &Payment, amount: Money) -> Result<(), OpError> {
    // OPEN(§16.11): the sources are silent; a mismatch is refused with 400 and
    // code 5040 (the nearest catalogue entry, "Invalid currency").
    if amount.currency != p.amount.currency {
        return Err(op_err(
            5040,
            "Invalid currency",
            format!(
                "The currency `{}` does not match the payment currency `{}`.",
                amount.currency.as_str(),
                p.amount.currency.as_str()
            ),
        ));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn push_event(
    msn: &str,
    p: &mut Payment,
    name: EventName,
    psp: Psp,
    amount: i64,
    key: Option<&str>,
    now: DateTime<Utc>,
    outbox: &mut Vec<OutboundEvent>,
) {
    let ev = Event {
        name,
        psp,
        amount,
        timestamp: now,
        idempotency_key: key.map(Into::into),
        success: true,
    };
    outbox.push(OutboundEvent {
        msn: msn.to_owned(),
        name: name.as_str().to_owned(),
        reference: p.reference.to_string(),
        payload: webhook_payload(msn, p, &ev),
    });
    p.events.push(ev);
}

/// The §9.2 webhook body of one event.
pub(crate) fn webhook_payload(msn: &str, p: &Payment, ev: &Event) -> Value {
    json!({
        "msn": msn,
        "reference": &*p.reference,
        "pspReference": ev.psp.to_string(),
        "name": ev.name.as_str(),
        "amount": { "currency": p.amount.currency.as_str(), "value": ev.amount },
        "timestamp": timestamp(ev.timestamp),
        "idempotencyKey": ev.idempotency_key.as_deref(),
        "success": ev.success,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn new_payment(reference: &str, value: i64) -> NewPayment {
        NewPayment {
            reference: reference.into(),
            amount: Money {
                currency: Currency::Nok,
                value,
            },
            method: MethodType::Wallet,
            flow: Flow::WebRedirect,
            return_url: Some("https://shop.example/r".into()),
            description: None,
            metadata: None,
            customer_phone: None,
            scope: None,
            expires_at: None,
            qr_png_size: None,
            qr_target_url: false,
        }
    }

    fn nok(value: i64) -> Money {
        Money {
            currency: Currency::Nok,
            value,
        }
    }

    fn setup(value: i64) -> (Ledger, Vec<OutboundEvent>, DateTime<Utc>) {
        let mut l = Ledger::new(&SimConfig::default());
        let mut out = Vec::new();
        let now = Utc::now();
        l.create(
            "123456",
            new_payment("order-0001", value),
            "tok".into(),
            "k0",
            now,
            &mut out,
        );
        (l, out, now)
    }

    #[test]
    fn cancel_after_partial_capture_releases_the_remainder() {
        let (mut l, mut out, now) = setup(1000);
        l.authorize("123456", "order-0001", now, &mut out).unwrap();
        l.capture("123456", "order-0001", nok(250), "c1", now, &mut out)
            .unwrap();
        l.cancel("123456", "order-0001", false, "x1", now, &mut out)
            .unwrap();
        let p = l.get("123456", "order-0001").unwrap();
        assert_eq!((p.authorized, p.captured, p.cancelled), (1000, 250, 750));
        assert_eq!(p.state, State::Authorized);
        let last = p.events.last().unwrap();
        assert_eq!((last.name, last.amount), (EventName::Cancelled, 750));
        assert!(last.idempotency_key.is_none());
    }

    #[test]
    fn expiry_runs_only_once_the_instant_has_passed() {
        let (mut l, mut out, now) = setup(1000);
        l.expire_due(now + CDuration::minutes(9), &mut out);
        assert_eq!(l.get("123456", "order-0001").unwrap().state, State::Created);
        l.expire_due(now + CDuration::minutes(10), &mut out);
        let p = l.get("123456", "order-0001").unwrap();
        assert_eq!(p.state, State::Expired);
        assert_eq!(out.last().unwrap().name, "EXPIRED");
        assert!(l.expiries.is_empty());
    }

    #[test]
    fn authorized_payments_leave_the_expiry_schedule() {
        let (mut l, mut out, now) = setup(1000);
        l.authorize("123456", "order-0001", now, &mut out).unwrap();
        assert!(l.expiries.is_empty());
        l.expire_due(now + CDuration::days(1), &mut out);
        assert_eq!(
            l.get("123456", "order-0001").unwrap().state,
            State::Authorized
        );
    }

    #[test]
    fn capture_after_180_days_is_refused_with_6100() {
        let (mut l, mut out, now) = setup(1000);
        l.authorize("123456", "order-0001", now, &mut out).unwrap();
        let e = l
            .capture(
                "123456",
                "order-0001",
                nok(10),
                "c",
                now + CDuration::days(181),
                &mut out,
            )
            .unwrap_err();
        assert_eq!(e.code, 6100);
    }

    #[test]
    fn cancel_after_180_days_is_6030_and_refund_after_365_days_is_6220() {
        let (mut l, mut out, now) = setup(1000);
        l.authorize("123456", "order-0001", now, &mut out).unwrap();
        l.capture("123456", "order-0001", nok(500), "c", now, &mut out)
            .unwrap();
        let late = now + CDuration::days(181);
        let e = l
            .cancel("123456", "order-0001", false, "x", late, &mut out)
            .unwrap_err();
        assert_eq!(e.code, 6030);
        l.refund("123456", "order-0001", nok(100), "r1", late, &mut out)
            .unwrap();
        let e = l
            .refund(
                "123456",
                "order-0001",
                nok(100),
                "r2",
                now + CDuration::days(366),
                &mut out,
            )
            .unwrap_err();
        assert_eq!(e.code, 6220);
    }

    #[test]
    fn repeat_cancel_can_be_made_an_error() {
        let (mut l, mut out, now) = setup(1000);
        l.options.repeat_cancel_is_noop = false;
        l.authorize("123456", "order-0001", now, &mut out).unwrap();
        l.cancel("123456", "order-0001", false, "x1", now, &mut out)
            .unwrap();
        let e = l
            .cancel("123456", "order-0001", false, "x2", now, &mut out)
            .unwrap_err();
        assert_eq!(e.code, 6050);
    }

    #[test]
    fn equal_json_bodies_hash_equal_regardless_of_layout() {
        assert_eq!(
            body_hash(br#"{"a":1,"b":{"c":"x"}}"#),
            body_hash(b"{ \"b\": {\"c\": \"x\"}, \"a\": 1 }")
        );
        assert_ne!(body_hash(br#"{"a":1}"#), body_hash(br#"{"a":2}"#));
    }

    #[derive(Debug, Clone)]
    enum Action {
        Capture(i64),
        Refund(i64),
        Cancel,
    }

    fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            (0i64..1500).prop_map(Action::Capture),
            (0i64..1500).prop_map(Action::Refund),
            Just(Action::Cancel),
        ]
    }

    proptest! {
        #[test]
        fn money_invariants_hold_for_any_sequence(
            amount in 100i64..2000,
            approve in any::<bool>(),
            actions in proptest::collection::vec(action(), 0..25),
        ) {
            let (mut l, mut out, now) = setup(amount);
            if approve {
                l.authorize("123456", "order-0001", now, &mut out).unwrap();
            }
            for (i, a) in actions.iter().enumerate() {
                let key = format!("k{i}");
                let _ = match a {
                    Action::Capture(v) => l.capture("123456", "order-0001", nok(*v), &key, now, &mut out),
                    Action::Refund(v) => l.refund("123456", "order-0001", nok(*v), &key, now, &mut out),
                    Action::Cancel => l.cancel("123456", "order-0001", false, &key, now, &mut out),
                };
                let p = l.get("123456", "order-0001").unwrap();
                prop_assert!(p.captured + p.cancelled <= p.authorized.max(p.cancelled));
                if p.state == State::Authorized {
                    prop_assert!(p.captured + p.cancelled <= p.authorized);
                }
                prop_assert!(p.refunded <= p.captured);
                prop_assert!(p.captured >= 0 && p.refunded >= 0 && p.cancelled >= 0);
                let sum = |n: EventName| p.events.iter().filter(|e| e.name == n).map(|e| e.amount).sum::<i64>();
                prop_assert_eq!(sum(EventName::Captured), p.captured);
                prop_assert_eq!(sum(EventName::Refunded), p.refunded);
                prop_assert_eq!(sum(EventName::Cancelled) + sum(EventName::Terminated), p.cancelled);
                prop_assert_eq!(sum(EventName::Authorized), p.authorized);
            }
            // Every event also left through the outbox.
            let p = l.get("123456", "order-0001").unwrap();
            prop_assert_eq!(out.len(), p.events.len());
        }
    }
}

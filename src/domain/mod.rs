//! The domain core: facts about Vipps and the checklist that every room
//! shares, decided once. It imports nothing else from this crate, so any room
//! may import it and it can never drift towards one room's view.
//!
//! - [`amount`]: amounts in minor units and how people see them (`NOK 249.00`).
//! - [`checklist`]: the go-live checklist's items and [`checklist::ChecklistId`].
//! - [`exchange`]: the exchange record every journal keeps, and the attempt
//!   written ahead of each request.
//! - [`headers`]: the limits on header values (Vipps-System-*, Idempotency-Key).
//! - [`host`]: the class of a host (loopback, the Vipps test environment, Vipps
//!   production, other), however the host is spelled.
//! - [`operation`]: which API call an exchange was and the payment it names.
//! - [`problem`]: Problem bodies and what each error means in plain words.
//! - [`redact`]: what an exchange may not keep (credentials, tokens, phone
//!   numbers), removed before anything stores it.
//! - [`reference`]: the PF-REFERENCE lint.
//! - [`state`]: payment states and events, and the eight QA-STATES asks for.
//! - [`text`]: HTML escaping, for every page written without a template.

pub mod amount;
pub mod checklist;
pub mod exchange;
pub mod headers;
pub mod host;
pub mod operation;
pub mod problem;
pub mod redact;
pub mod reference;
pub mod state;
pub mod text;

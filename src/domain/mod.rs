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
//! - [`input`]: opening what the user names as input: a regular file, checked
//!   before it is read, whole only up to a cap that fits its kind.
//! - [`operation`]: which API call an exchange was and the payment it names.
//! - [`problem`]: Problem bodies and what each error means in plain words.
//! - [`redact`]: what an exchange may not keep (credentials, tokens, phone
//!   numbers), removed before anything stores it.
//! - [`reference`]: the PF-REFERENCE lint.
//! - [`state`]: payment states and events, and the eight QA-STATES asks for.
//! - [`text`]: HTML escaping, for every page written without a template.
//!
//! ```
//! use vipps_golive::domain::amount::Amount;
//! use vipps_golive::domain::checklist::ITEMS;
//! use vipps_golive::domain::host::HostClass;
//! use vipps_golive::domain::reference::lint_reference;
//!
//! // One decision of what a host is, however it is spelled.
//! let class = |u: &str| HostClass::of(&url::Url::parse(u).unwrap());
//! assert_eq!(class("https://API.Vipps.NO./epayment"), HostClass::VippsProduction);
//! assert_eq!(class("https://apitest.vipps.no"), HostClass::VippsTest);
//! assert_eq!(class("http://[::1]:7777"), HostClass::Loopback);
//!
//! // Amounts are minor units, shown as people read them.
//! assert_eq!(Amount::nok(24_900).to_string(), "NOK 249.00");
//!
//! // The PF-REFERENCE lint: a bare order number is a finding.
//! assert!(lint_reference("shop42-order-7781-a").is_empty());
//! assert!(!lint_reference("1").is_empty());
//!
//! // The checklist, with its stable IDs.
//! assert!(ITEMS.iter().any(|item| item.id == "GL-TEST"));
//! ```

pub mod amount;
pub mod checklist;
pub mod exchange;
pub mod headers;
pub mod host;
pub mod input;
pub mod operation;
pub mod problem;
pub mod redact;
pub mod reference;
pub mod state;
pub mod text;

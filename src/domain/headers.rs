//! Limits on the headers Vipps asks for, held once: the client refuses to send
//! a value over them, the configuration refuses to load one, and the rules
//! judge recorded traffic against the same numbers.

/// Longest value of each Vipps-System-* header (behaviour.md §11).
///
/// OPEN(§16.18): the ePayment, token and webhooks specs say 30, Order Management
/// says 100, and nobody says whether longer values are refused. We hold every
/// value to 30 so one set of headers is valid on every API.
pub const MAX_SYSTEM_HEADER_LEN: usize = 30;

/// Longest `Idempotency-Key` the API accepts (behaviour.md §6).
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 50;

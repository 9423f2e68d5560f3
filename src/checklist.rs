//! The go-live checklist: its 17 items with stable IDs, in checklist order.
//!
//! Every scenario tag, evidence row and audit finding names one of these IDs
//! (see `shared/checklist.md`). The report walks this list so its rows come in
//! checklist order whatever order the scenarios ended in.

use serde::Serialize;

/// One checklist item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Item {
    /// Stable ID, e.g. `EP-CAPTURE`.
    pub id: &'static str,
    /// The checklist area it belongs to.
    pub area: Area,
    /// The item as the checklist states it.
    pub title: &'static str,
    /// What proves it.
    pub proof: &'static str,
    /// Proven by a person's attestation, not by traffic.
    pub manual: bool,
}

/// The four areas of the checklist, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    Endpoints,
    QualityAssurance,
    Pitfalls,
    GoLive,
}

impl Area {
    /// The heading the checklist uses.
    pub fn title(self) -> &'static str {
        match self {
            Area::Endpoints => "Endpoints to integrate",
            Area::QualityAssurance => "Quality assurance",
            Area::Pitfalls => "Avoid integration pitfalls",
            Area::GoLive => "Flow to go live",
        }
    }
}

const fn item(id: &'static str, area: Area, title: &'static str, proof: &'static str) -> Item {
    Item {
        id,
        area,
        title,
        proof,
        manual: false,
    }
}

/// Every item, in checklist order.
pub const ITEMS: [Item; 17] = [
    item("EP-CREATE", Area::Endpoints, "Create payment (POST /epayment/v1/payments)",
        "201 with reference (and redirectUrl for WEB_REDIRECT, NATIVE_REDIRECT, QR); every userFlow tried where the target allows"),
    item("EP-GET", Area::Endpoints, "Get payment (GET /epayment/v1/payments/{reference})",
        "state and aggregate read back"),
    item("EP-EVENTS", Area::Endpoints, "Event log (GET /epayment/v1/payments/{reference}/events)",
        "the event log of every evidence reference"),
    item("EP-CANCEL", Area::Endpoints, "Cancel (POST .../{reference}/cancel)",
        "a CREATED payment ends TERMINATED; an AUTHORIZED one has its remainder cancelled (CANCELLED event)"),
    item("EP-CAPTURE", Area::Endpoints, "Full and partial capture (POST .../{reference}/capture)",
        "one partial capture followed by capture of the rest; one full capture"),
    item("EP-REFUND", Area::Endpoints, "Full and partial refund (POST .../{reference}/refund)",
        "one partial refund; one full refund"),
    item("QA-STATES", Area::QualityAssurance, "Handle every state and event",
        "a reference that reached each of CREATED, ABORTED, EXPIRED, CANCELLED, CAPTURED, REFUNDED, AUTHORIZED, TERMINATED, read back through GET and the event log"),
    item("QA-ERRORS", Area::QualityAssurance, "Log and handle every error, shown so customers and staff understand it",
        "provoked errors come back as RFC 7807 problems, shown with title, detail, traceId and a plain-language explanation"),
    item("QA-HEADERS", Area::QualityAssurance, "Send the HTTP headers on every request",
        "every recorded request carries the Merchant-Serial-Number, Vipps-System-* (at most 30 characters), subscription key and Authorization headers; every POST an Idempotency-Key (at most 50 characters)"),
    item("QA-HISTORY", Area::QualityAssurance, "Add receipts and/or images to the payment history (Order Management API)",
        "a receipt, a category with order-details link and an image attached to a reference, read back"),
    item("PF-REFERENCE", Area::Pitfalls, "Send a useful reference",
        "every reference matches ^[a-zA-Z0-9-]{8,50}$, is not digits only, has no leading zero, is unique per MSN"),
    item("PF-POLLING", Area::Pitfalls, "Poll for payment details; never rely on returnUrl or webhooks alone",
        "the final state read with GET even when a webhook arrived; first poll no sooner than the guideline start, then about every 2 s; no 429s"),
    item("PF-REDIRECTS", Area::Pitfalls, "Handle the returnUrl opened in the phone's default browser, without the session",
        "returnUrl is https (or a custom app scheme), carries the reference, and its page answers without cookies"),
    Item { manual: true, ..item("PF-DESIGN", Area::Pitfalls, "Follow the design guidelines",
        "manual: a person attests, the report records who and when") },
    Item { manual: true, ..item("PF-SUPPORT", Area::Pitfalls, "Customer support can do normal work in the merchant's own system",
        "manual: a person attests, the report records who and when") },
    item("GL-TEST", Area::GoLive, "Test environment: references ending CAPTURED, REFUNDED and CANCELLED",
        "three references, each read back with GET and the event log after the run"),
    item("GL-PROD", Area::GoLive, "Production: references ending AUTHORIZED, CAPTURED, REFUNDED and CANCELLED",
        "four references approved by a real person in the app, with the smallest amounts, verified through the API"),
];

/// The item with this ID (case-sensitive, as written in the checklist).
pub fn find(id: &str) -> Option<&'static Item> {
    ITEMS.iter().find(|i| i.id == id)
}

/// Position of an ID in checklist order (unknown IDs sort last).
pub fn order(id: &str) -> usize {
    ITEMS.iter().position(|i| i.id == id).unwrap_or(ITEMS.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checklist_has_seventeen_unique_ids_and_two_manual_items() {
        let mut ids: Vec<_> = ITEMS.iter().map(|i| i.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 17);
        let manual: Vec<_> = ITEMS.iter().filter(|i| i.manual).map(|i| i.id).collect();
        assert_eq!(manual, ["PF-DESIGN", "PF-SUPPORT"]);
        assert_eq!(order("EP-CREATE"), 0);
        assert_eq!(order("GL-PROD"), 16);
        assert!(find("XX-NOPE").is_none());
    }
}

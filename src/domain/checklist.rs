//! The go-live checklist: its 17 items with stable IDs, in checklist order,
//! and [`ChecklistId`], the type of those IDs.
//!
//! Every scenario tag, evidence row and audit finding names one of these IDs
//! (see `shared/checklist.md`). The report walks [`ITEMS`] so its rows come in
//! checklist order whatever order the scenarios ended in.
//!
//! The enum and the table are written once, row by row, by one macro: an ID
//! cannot exist without its row, nor a row without its variant, and the text
//! of each ID is spelled in one place.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where [`Item::wording`] comes from, as the report cites it.
pub const WORDING_SOURCE: &str = "the go-live checklist restated with stable IDs in shared/checklist.md, from the ePayment API's own checklist (github.com/vippsas/vipps-epayment-api, checklist.md)";

/// One checklist item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Item {
    /// Stable ID as written, e.g. `EP-CAPTURE` (what tags, evidence.json,
    /// JUnit and reports carry).
    pub id: &'static str,
    /// The same ID as a type, for code that branches on it.
    #[serde(skip)]
    pub key: ChecklistId,
    /// The checklist area it belongs to.
    pub area: Area,
    /// The item in short, as the terminal and the report's table name it.
    pub title: &'static str,
    /// The item word for word as the checklist writes it ([`WORDING_SOURCE`]),
    /// in its Markdown: `code` in backticks, **emphasis** in double stars.
    pub wording: &'static str,
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

/// Writes [`ChecklistId`], its text and [`ITEMS`] from one list of rows.
macro_rules! checklist {
    ($(
        $(#[$doc:meta])*
        $variant:ident = $id:literal, $area:ident, manual: $manual:literal,
            worded $wording:literal,
            $title:literal,
            $proof:literal;
    )*) => {
        /// A checklist ID. Written, serialised and displayed exactly as the
        /// checklist spells it (`EP-CREATE`); ordered in checklist order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ChecklistId {
            $($(#[$doc])* $variant,)*
        }

        impl ChecklistId {
            /// Every ID, in checklist order.
            pub const ALL: [ChecklistId; 17] = [$(ChecklistId::$variant,)*];

            /// The ID as the checklist writes it, e.g. `EP-CAPTURE`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ChecklistId::$variant => $id,)*
                }
            }
        }

        /// Every item, in checklist order.
        pub const ITEMS: [Item; 17] = [$(
            Item {
                id: $id,
                key: ChecklistId::$variant,
                area: Area::$area,
                title: $title,
                wording: $wording,
                proof: $proof,
                manual: $manual,
            },
        )*];
    };
}

checklist! {
    /// Create payment.
    EpCreate = "EP-CREATE", Endpoints, manual: false,
        worded "Create payment `POST /epayment/v1/payments`",
        "Create payment (POST /epayment/v1/payments)",
        "201 with reference (and redirectUrl for WEB_REDIRECT, NATIVE_REDIRECT, QR); every userFlow tried where the target allows";
    /// Get payment.
    EpGet = "EP-GET", Endpoints, manual: false,
        worded "Get payment `GET /epayment/v1/payments/{reference}`",
        "Get payment (GET /epayment/v1/payments/{reference})",
        "state and aggregate read back";
    /// Event log.
    EpEvents = "EP-EVENTS", Endpoints, manual: false,
        worded "Event log `GET /epayment/v1/payments/{reference}/events`",
        "Event log (GET /epayment/v1/payments/{reference}/events)",
        "the event log of every evidence reference";
    /// Cancel.
    EpCancel = "EP-CANCEL", Endpoints, manual: false,
        worded "Cancel `POST .../{reference}/cancel`",
        "Cancel (POST .../{reference}/cancel)",
        "a CREATED payment ends TERMINATED; an AUTHORIZED one has its remainder cancelled (CANCELLED event)";
    /// Full and partial capture.
    EpCapture = "EP-CAPTURE", Endpoints, manual: false,
        worded "Full **and** partial capture `POST .../{reference}/capture`",
        "Full and partial capture (POST .../{reference}/capture)",
        "one partial capture followed by capture of the rest; one full capture";
    /// Full and partial refund.
    EpRefund = "EP-REFUND", Endpoints, manual: false,
        worded "Full **and** partial refund `POST .../{reference}/refund`",
        "Full and partial refund (POST .../{reference}/refund)",
        "one partial refund; one full refund";
    /// Every state and event handled.
    QaStates = "QA-STATES", QualityAssurance, manual: false,
        worded "Handle every state and event: CREATED, ABORTED, EXPIRED, CANCELLED, CAPTURED, REFUNDED, AUTHORIZED, TERMINATED",
        "Handle every state and event",
        "a reference that reached each of CREATED, ABORTED, EXPIRED, CANCELLED, CAPTURED, REFUNDED, AUTHORIZED, TERMINATED, read back through GET and the event log";
    /// Every error logged, handled and explained.
    QaErrors = "QA-ERRORS", QualityAssurance, manual: false,
        worded "Log and handle every error, shown so customers and staff understand it",
        "Log and handle every error, shown so customers and staff understand it",
        "provoked errors come back as RFC 7807 problems, shown with title, detail, traceId and a plain-language explanation";
    /// The HTTP headers on every request.
    QaHeaders = "QA-HEADERS", QualityAssurance, manual: false,
        worded "Send the HTTP headers on every request",
        "Send the HTTP headers on every request",
        "every recorded request carries the Merchant-Serial-Number, Vipps-System-* (at most 30 characters), subscription key and Authorization headers; every POST an Idempotency-Key (at most 50 characters)";
    /// Receipts and images in the payment history.
    QaHistory = "QA-HISTORY", QualityAssurance, manual: false,
        worded "Add receipts and/or images to the payment history (Order Management API)",
        "Add receipts and/or images to the payment history (Order Management API)",
        "a receipt, a category with order-details link and an image attached to a reference, read back";
    /// A useful reference.
    PfReference = "PF-REFERENCE", Pitfalls, manual: false,
        worded "Send a useful `reference`",
        "Send a useful reference",
        "every reference matches ^[a-zA-Z0-9-]{8,50}$, is not digits only, has no leading zero, is unique per MSN";
    /// Polling for payment details.
    PfPolling = "PF-POLLING", Pitfalls, manual: false,
        worded "Poll for payment details; never rely on returnUrl or webhooks alone",
        "Poll for payment details; never rely on returnUrl or webhooks alone",
        "the final state read with GET even when a webhook arrived; first poll no sooner than the guideline start, then about every 2 s; no 429s";
    /// The returnUrl opened without the session.
    PfRedirects = "PF-REDIRECTS", Pitfalls, manual: false,
        worded "Handle the returnUrl opened in the phone's default browser, without the session",
        "Handle the returnUrl opened in the phone's default browser, without the session",
        "returnUrl is https (or a custom app scheme), carries the reference, and its page answers without cookies";
    /// The design guidelines (attested).
    PfDesign = "PF-DESIGN", Pitfalls, manual: true,
        worded "Follow the design guidelines",
        "Follow the design guidelines",
        "manual: a person attests, the report records who and when";
    /// Customer support in the merchant's own system (attested).
    PfSupport = "PF-SUPPORT", Pitfalls, manual: true,
        worded "Customer support can do normal work in the merchant's own system",
        "Customer support can do normal work in the merchant's own system",
        "manual: a person attests, the report records who and when";
    /// References in the test environment.
    GlTest = "GL-TEST", GoLive, manual: false,
        worded "In the test environment, references ending CAPTURED, REFUNDED and CANCELLED, verified through the API itself",
        "Test environment: references ending CAPTURED, REFUNDED and CANCELLED",
        "three references, each read back with GET and the event log after the run";
    /// References in production.
    GlProd = "GL-PROD", GoLive, manual: false,
        worded "In production, references ending AUTHORIZED, CAPTURED, REFUNDED and CANCELLED",
        "Production: references ending AUTHORIZED, CAPTURED, REFUNDED and CANCELLED",
        "four references approved by a real person in the app, with the smallest amounts, verified through the API";
}

impl ChecklistId {
    /// Its row of the checklist.
    pub fn item(self) -> &'static Item {
        // ITEMS is written in the enum's order by the same macro.
        &ITEMS[self as usize]
    }

    /// True for the items a person attests (PF-DESIGN, PF-SUPPORT).
    #[cfg(test)]
    pub(crate) fn is_manual(self) -> bool {
        self.item().manual
    }
}

/// The item with this ID (case-sensitive, as written in the checklist).
pub fn find(id: &str) -> Option<&'static Item> {
    id.parse::<ChecklistId>().ok().map(ChecklistId::item)
}

/// Position of an ID in checklist order (unknown IDs sort last).
pub fn order(id: &str) -> usize {
    id.parse::<ChecklistId>()
        .map_or(ITEMS.len(), |id| id as usize)
}

/// A string that is not a checklist ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{given}` is not a checklist ID (hint: the IDs are {})", known_ids())]
pub struct UnknownChecklistId {
    /// What was given.
    pub given: String,
}

fn known_ids() -> String {
    ChecklistId::ALL.map(ChecklistId::as_str).join(", ")
}

impl FromStr for ChecklistId {
    type Err = UnknownChecklistId;

    /// Case-sensitive, as tags and evidence write the IDs.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChecklistId::ALL
            .into_iter()
            .find(|id| id.as_str() == s)
            .ok_or_else(|| UnknownChecklistId {
                given: s.to_owned(),
            })
    }
}

impl fmt::Display for ChecklistId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for ChecklistId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<ChecklistId> for String {
    fn from(id: ChecklistId) -> String {
        id.as_str().to_owned()
    }
}

impl Serialize for ChecklistId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ChecklistId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

// Evidence keeps IDs as the strings it was written with (a journal from a
// newer version may name an ID this one does not know), so code compares an
// ID with text often: these make `row.id == ChecklistId::GlTest` read as such.
impl PartialEq<str> for ChecklistId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ChecklistId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for ChecklistId {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<ChecklistId> for str {
    fn eq(&self, other: &ChecklistId) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<ChecklistId> for &str {
    fn eq(&self, other: &ChecklistId) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<ChecklistId> for String {
    fn eq(&self, other: &ChecklistId) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<ChecklistId> for &String {
    fn eq(&self, other: &ChecklistId) -> bool {
        *self == other.as_str()
    }
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
        assert_eq!(order("XX-NOPE"), 17);
        assert!(find("XX-NOPE").is_none());
    }

    #[test]
    fn every_id_round_trips_through_its_string_display_and_json() {
        for (i, id) in ChecklistId::ALL.into_iter().enumerate() {
            let text = id.as_str();
            assert_eq!(text.parse::<ChecklistId>(), Ok(id));
            assert_eq!(id.to_string(), text);
            assert_eq!(String::from(id), text);

            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<ChecklistId>(&json).unwrap(), id);

            assert_eq!(id.item().id, text);
            assert_eq!(id.item().key, id);
            assert_eq!(ITEMS[i].key, id, "the table and the enum share one order");
            assert_eq!(order(text), i);
            assert_eq!(find(text).map(|item| item.key), Some(id));
        }
    }

    #[test]
    fn the_ids_are_spelled_as_the_checklist_spells_them() {
        let ids: Vec<&str> = ChecklistId::ALL.map(ChecklistId::as_str).to_vec();
        assert_eq!(
            ids,
            [
                "EP-CREATE",
                "EP-GET",
                "EP-EVENTS",
                "EP-CANCEL",
                "EP-CAPTURE",
                "EP-REFUND",
                "QA-STATES",
                "QA-ERRORS",
                "QA-HEADERS",
                "QA-HISTORY",
                "PF-REFERENCE",
                "PF-POLLING",
                "PF-REDIRECTS",
                "PF-DESIGN",
                "PF-SUPPORT",
                "GL-TEST",
                "GL-PROD",
            ]
        );
        assert!(ChecklistId::PfDesign.is_manual());
        assert!(!ChecklistId::GlProd.is_manual());
        assert_eq!(ChecklistId::QaErrors.item().area, Area::QualityAssurance);
    }

    /// The `ID | item` columns of shared/checklist.md's tables, copied
    /// verbatim: the wording the report quotes must be the checklist's.
    const CHECKLIST_MD: &str = r#"
| EP-CREATE  | Create payment `POST /epayment/v1/payments` |
| EP-GET     | Get payment `GET /epayment/v1/payments/{reference}` |
| EP-EVENTS  | Event log `GET /epayment/v1/payments/{reference}/events` |
| EP-CANCEL  | Cancel `POST .../{reference}/cancel` |
| EP-CAPTURE | Full **and** partial capture `POST .../{reference}/capture` |
| EP-REFUND  | Full **and** partial refund `POST .../{reference}/refund` |
| QA-STATES  | Handle every state and event: CREATED, ABORTED, EXPIRED, CANCELLED, CAPTURED, REFUNDED, AUTHORIZED, TERMINATED |
| QA-ERRORS  | Log and handle every error, shown so customers and staff understand it |
| QA-HEADERS | Send the HTTP headers on every request |
| QA-HISTORY | Add receipts and/or images to the payment history (Order Management API) |
| PF-REFERENCE | Send a useful `reference` |
| PF-POLLING   | Poll for payment details; never rely on returnUrl or webhooks alone |
| PF-REDIRECTS | Handle the returnUrl opened in the phone's default browser, without the session |
| PF-DESIGN    | Follow the design guidelines |
| PF-SUPPORT   | Customer support can do normal work in the merchant's own system |
| GL-TEST | In the test environment, references ending CAPTURED, REFUNDED and CANCELLED, verified through the API itself |
| GL-PROD | In production, references ending AUTHORIZED, CAPTURED, REFUNDED and CANCELLED |
"#;

    #[test]
    fn each_item_is_worded_word_for_word_as_the_checklist_writes_it() {
        let rows: Vec<(&str, &str)> = CHECKLIST_MD
            .lines()
            .filter_map(|line| {
                let mut cells = line.strip_prefix('|')?.strip_suffix('|')?.split(" | ");
                Some((cells.next()?.trim(), cells.next()?.trim()))
            })
            .collect();
        assert_eq!(rows.len(), 17);
        for ((id, wording), item) in rows.into_iter().zip(ITEMS.iter()) {
            assert_eq!(item.id, id, "checklist order");
            assert_eq!(item.wording, wording, "{id}");
        }
        assert!(WORDING_SOURCE.contains("shared/checklist.md"));
    }

    #[test]
    fn an_unknown_id_is_refused_with_a_message_naming_the_known_ones() {
        for given in ["XX-NOPE", "ep-create", " EP-CREATE", ""] {
            let err = given.parse::<ChecklistId>().unwrap_err();
            let message = err.to_string();
            assert!(message.contains(&format!("`{given}`")), "{message}");
            for id in ChecklistId::ALL {
                assert!(message.contains(id.as_str()), "{id} missing: {message}");
            }
        }
        let err = serde_json::from_str::<ChecklistId>("\"QA-NOPE\"").unwrap_err();
        assert!(err.to_string().contains("QA-NOPE"), "{err}");
    }

    #[test]
    fn an_id_compares_equal_to_its_text_either_way_round() {
        let text = String::from("GL-TEST");
        assert!(ChecklistId::GlTest == text);
        assert!(text == ChecklistId::GlTest);
        assert!(std::iter::once(&text).any(|t| t == ChecklistId::GlTest));
        assert!("GL-TEST" == ChecklistId::GlTest);
        assert!(ChecklistId::GlTest == "GL-TEST");
        assert!(ChecklistId::GlProd != text);
        assert!(
            ChecklistId::EpCreate < ChecklistId::GlProd,
            "checklist order"
        );
    }
}

//! Payment states and events: what GET reports ([`State`]) and what the event
//! log and webhooks carry ([`EventName`]), with the eight QA-STATES asks for.
//!
//! A captured, refunded or cancelled payment still has state AUTHORIZED; what
//! happened to the money is in the events (`shared/checklist.md`, "States and
//! events"). Unknown names are tolerated when reading: a new state from Vipps
//! must not break an audit.

use serde::{Deserialize, Serialize};

/// A payment's state as GET reports it. Final: everything but CREATED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    Created,
    Authorized,
    Aborted,
    Expired,
    Terminated,
    /// A state this client does not know yet (treated as not final).
    #[serde(other)]
    Unknown,
}

impl State {
    /// AUTHORIZED, ABORTED, EXPIRED and TERMINATED: polling stops there.
    pub(crate) fn is_final(self) -> bool {
        matches!(
            self,
            State::Authorized | State::Aborted | State::Expired | State::Terminated
        )
    }
    /// The name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Created => "CREATED",
            State::Authorized => "AUTHORIZED",
            State::Aborted => "ABORTED",
            State::Expired => "EXPIRED",
            State::Terminated => "TERMINATED",
            State::Unknown => "UNKNOWN",
        }
    }
}

/// An event in the event log and in webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventName {
    Created,
    Authorized,
    Aborted,
    Expired,
    Terminated,
    Captured,
    Refunded,
    Cancelled,
    /// An event this client does not know yet.
    #[serde(other)]
    Unknown,
}

impl EventName {
    /// The name the API uses.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventName::Created => "CREATED",
            EventName::Authorized => "AUTHORIZED",
            EventName::Aborted => "ABORTED",
            EventName::Expired => "EXPIRED",
            EventName::Terminated => "TERMINATED",
            EventName::Captured => "CAPTURED",
            EventName::Refunded => "REFUNDED",
            EventName::Cancelled => "CANCELLED",
            EventName::Unknown => "UNKNOWN",
        }
    }
}

/// The eight states and events QA-STATES asks for, in the checklist's order.
/// Every one is an event name; the five that are also states are read from
/// GET as well.
pub const QA_STATES: [EventName; 8] = [
    EventName::Created,
    EventName::Aborted,
    EventName::Expired,
    EventName::Cancelled,
    EventName::Captured,
    EventName::Refunded,
    EventName::Authorized,
    EventName::Terminated,
];

/// [`QA_STATES`] as the API writes them (`CREATED`, ...), for code that
/// matches the names read from recorded JSON.
pub const QA_STATE_NAMES: [&str; 8] = {
    let mut names = [""; 8];
    let mut i = 0;
    while i < QA_STATES.len() {
        names[i] = QA_STATES[i].as_str();
        i += 1;
    }
    names
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_events_round_trip_through_the_api_names() {
        for state in [
            State::Created,
            State::Authorized,
            State::Aborted,
            State::Expired,
            State::Terminated,
        ] {
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
            assert_eq!(serde_json::from_str::<State>(&json).unwrap(), state);
        }
        for event in QA_STATES {
            let json = serde_json::to_string(&event).unwrap();
            assert_eq!(json, format!("\"{}\"", event.as_str()));
            assert_eq!(serde_json::from_str::<EventName>(&json).unwrap(), event);
        }
    }

    #[test]
    fn a_name_vipps_adds_later_reads_as_unknown_and_is_not_final() {
        let state: State = serde_json::from_str("\"PENDING_SOMETHING\"").unwrap();
        assert_eq!(state, State::Unknown);
        assert!(!state.is_final());
        let event: EventName = serde_json::from_str("\"REAUTHORIZED\"").unwrap();
        assert_eq!(event, EventName::Unknown);
    }

    #[test]
    fn only_created_is_not_final() {
        assert!(!State::Created.is_final());
        for s in [
            State::Authorized,
            State::Aborted,
            State::Expired,
            State::Terminated,
        ] {
            assert!(s.is_final(), "{s:?}");
        }
    }

    #[test]
    fn qa_states_are_the_eight_of_the_checklist_in_its_order() {
        assert_eq!(
            QA_STATE_NAMES,
            [
                "CREATED",
                "ABORTED",
                "EXPIRED",
                "CANCELLED",
                "CAPTURED",
                "REFUNDED",
                "AUTHORIZED",
                "TERMINATED"
            ]
        );
    }
}

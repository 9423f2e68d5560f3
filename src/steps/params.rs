//! Typed step parameters: what a scenario writes, parsed once, as cucumber
//! `Parameter` types for its expressions (`{amount}`, `{flow}`, `{state}`,
//! `{event}`, `{events}`). A step receives the value, never the text.

use std::fmt;
use std::str::FromStr;

use cucumber::Parameter;

use crate::api::{EventName, State, UserFlow};

/// An amount as a scenario writes it (`249.00`, Norwegian kroner with two
/// decimals), in øre.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Parameter)]
#[param(name = "amount", regex = r"\d+\.\d\d")]
pub struct Nok(pub i64);

impl FromStr for Nok {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let not_an_amount = || format!("`{text}` is not an amount (hint: write it as 249.00)");
        let (major, minor) = text.split_once('.').ok_or_else(not_an_amount)?;
        if minor.len() != 2 || !minor.bytes().all(|b| b.is_ascii_digit()) {
            return Err(not_an_amount());
        }
        let major: i64 = major.parse().map_err(|_| not_an_amount())?;
        let minor: i64 = minor.parse().map_err(|_| not_an_amount())?;
        major
            .checked_mul(100)
            .and_then(|m| m.checked_add(minor))
            .map(Nok)
            .ok_or_else(not_an_amount)
    }
}

/// A user flow by its API name (`WEB_REDIRECT`, `NATIVE_REDIRECT`, `QR`,
/// `PUSH_MESSAGE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Parameter)]
#[param(name = "flow", regex = "WEB_REDIRECT|NATIVE_REDIRECT|PUSH_MESSAGE|QR")]
pub struct Flow(pub UserFlow);

impl FromStr for Flow {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        by_api_name(text, "a user flow").map(Flow)
    }
}

/// A payment state by its API name (`CREATED`, `AUTHORIZED`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Parameter)]
#[param(name = "state", regex = "[A-Z]+")]
pub struct PaymentState(pub State);

impl FromStr for PaymentState {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match by_api_name(text, "a payment state")? {
            State::Unknown => Err(format!("`{text}` is not a payment state")),
            state => Ok(PaymentState(state)),
        }
    }
}

/// An event of the event log or a webhook by its name (`CAPTURED`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Parameter)]
#[param(name = "event", regex = "[A-Z]+")]
pub struct Event(pub EventName);

impl FromStr for Event {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match by_api_name(text, "an event")? {
            EventName::Unknown => Err(format!("`{text}` is not an event")),
            event => Ok(Event(event)),
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// An event log as written: `CREATED, AUTHORIZED, CAPTURED`.
#[derive(Debug, Clone, PartialEq, Eq, Parameter)]
#[param(name = "events", regex = "[A-Z]+(?:, [A-Z]+)*")]
pub struct Events(pub Vec<EventName>);

impl FromStr for Events {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(',')
            .map(|name| name.trim().parse::<Event>().map(|e| e.0))
            .collect::<Result<_, _>>()
            .map(Events)
    }
}

fn by_api_name<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| format!("`{text}` is not {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_in_ore() {
        assert_eq!("249.00".parse::<Nok>(), Ok(Nok(24_900)));
        assert_eq!("0.50".parse::<Nok>(), Ok(Nok(50)));
        for bad in ["249", "2.5", "x.00", "1.0x", "99999999999999999999.00"] {
            assert!(bad.parse::<Nok>().is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_read_as_the_api_writes_them() {
        assert_eq!("QR".parse::<Flow>(), Ok(Flow(UserFlow::Qr)));
        assert_eq!(
            "AUTHORIZED".parse::<PaymentState>(),
            Ok(PaymentState(State::Authorized))
        );
        assert!("CAPTURED".parse::<PaymentState>().is_err());
        assert!("NOPE".parse::<Event>().is_err());
        assert_eq!(
            "CREATED, CAPTURED".parse::<Events>(),
            Ok(Events(vec![EventName::Created, EventName::Captured]))
        );
        assert_eq!(Event(EventName::Refunded).to_string(), "REFUNDED");
    }
}

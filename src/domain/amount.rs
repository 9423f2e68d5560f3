//! Amounts in minor units (øre, cents) and how people see them: `NOK 249.00`.
//!
//! The API never carries decimals: 24900 is NOK 249.00. Amounts are kept in
//! minor units everywhere and turned into major units only for people.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Currency of an amount. Unknown codes are tolerated when reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Currency {
    NOK,
    DKK,
    EUR,
    /// A currency this client does not know yet.
    #[serde(other)]
    Unknown,
}

impl Currency {
    /// The ISO 4217 code, as the API writes it (`UNKNOWN` for one this
    /// client did not recognise: its code was not kept).
    pub fn as_str(self) -> &'static str {
        match self {
            Currency::NOK => "NOK",
            Currency::DKK => "DKK",
            Currency::EUR => "EUR",
            Currency::Unknown => "UNKNOWN",
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amount in minor units (øre, cents): `{currency, value}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    pub currency: Currency,
    /// Minor units: 24900 is NOK 249.00.
    pub value: i64,
}

impl Amount {
    pub fn new(currency: Currency, value: i64) -> Self {
        Amount { currency, value }
    }
    /// NOK in øre.
    pub fn nok(value: i64) -> Self {
        Amount::new(Currency::NOK, value)
    }
    /// DKK in øre.
    #[cfg(test)]
    pub(crate) fn dkk(value: i64) -> Self {
        Amount::new(Currency::DKK, value)
    }
    /// EUR in cents.
    pub fn eur(value: i64) -> Self {
        Amount::new(Currency::EUR, value)
    }
}

/// As the report shows it: `NOK 249.00`.
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&money(self.currency.as_str(), self.value))
    }
}

/// Minor units as `NOK 249.00`: the currency code as given, a minus sign
/// before the digits, always two decimals. All three currencies the API
/// accepts have 100 minor units to the major one.
pub fn money(currency: &str, minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    // unsigned_abs: i64::MIN has no positive i64.
    let abs = minor.unsigned_abs();
    format!("{currency} {sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_shown_in_major_units_with_two_decimals() {
        assert_eq!(money("NOK", 24_900), "NOK 249.00");
        assert_eq!(money("DKK", 5), "DKK 0.05");
        assert_eq!(money("EUR", -150), "EUR -1.50");
        assert_eq!(money("NOK", 0), "NOK 0.00");
        assert_eq!(
            money("NOK", i64::MIN),
            "NOK -92233720368547758.08",
            "the most negative amount does not overflow"
        );
    }

    #[test]
    fn an_amount_displays_as_the_report_shows_money() {
        assert_eq!(Amount::nok(24_900).to_string(), "NOK 249.00");
        assert_eq!(Amount::dkk(1).to_string(), "DKK 0.01");
        assert_eq!(Amount::eur(100).to_string(), "EUR 1.00");
    }

    #[test]
    fn amounts_keep_their_wire_shape_and_tolerate_a_new_currency() {
        let json = serde_json::to_value(Amount::nok(100)).unwrap();
        assert_eq!(json, serde_json::json!({"currency": "NOK", "value": 100}));
        let read: Amount = serde_json::from_str(r#"{"currency":"SEK","value":5}"#).unwrap();
        assert_eq!(read, Amount::new(Currency::Unknown, 5));
    }
}

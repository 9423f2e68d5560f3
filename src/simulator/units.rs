//! What each simulated sales unit is approved for (behaviour.md §3.1, §14),
//! and the units file that sets it (`vipps-golive simulator --units FILE`).
//!
//! A real sales unit must be approved by Vipps MobilePay for long-living
//! payments (else 5050) and for PUSH_MESSAGE (else 5080), and CARD is not
//! available in the test environment at all. The first built-in unit is an
//! approved one; the second models a fresh unit without approvals, so a shop
//! can see these refusals here rather than in the test environment.
//!
//! The file is JSON:
//!
//! ```json
//! { "units": [
//!     { "msn": "123456", "longLiving": true, "pushMessage": true, "card": false },
//!     { "msn": "777777", "name": "Kiosk", "market": "DK",
//!       "clientId": "kiosk-id", "clientSecret": "kiosk-secret", "subscriptionKey": "kiosk-key",
//!       "pushMessage": true, "express": true }
//! ] }
//! ```
//!
//! An entry for a known MSN changes that unit; an entry for a new MSN adds a
//! unit and must then carry its credentials. A capability left out is `false`.
//! `market` (`NO`, `DK`, `FI`; default `NO`) decides the currency (NOK, DKK,
//! EUR) and the capture deadline (180 days, 14, 14); `currency` alone names
//! its market, and a `currency` that is not the market's is refused.
//! `docs/units-dk-fi.json` is an example with a Danish and a Finnish unit.
//!
//! An optional `"rules"` object sets the switches of docs/fidelity.md:
//! `referenceMaxLen` (50), `numbersAsStrings` (true), `strictContentType`
//! (true), `qrFormatOnlyWithQr` (false), `specialAmounts` (true),
//! `expiresAtMaxDays` (28), `nativeRedirectRequiresReturnUrl` (false),
//! `loopbackWebhooks` (true), `landingWindowSeconds` (300), `qrTimeoutSeconds` (300).

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Account, SimConfig};

/// The market a sales unit belongs to (behaviour.md §4, §7): it decides the
/// currency the unit takes (5040 for another) and the capture deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Market {
    /// Norway: NOK; capture and cancel up to 180 days after reservation.
    #[default]
    #[serde(rename = "NO")]
    No,
    /// Denmark: DKK; capture within 14 days, then the reservation is cancelled.
    #[serde(rename = "DK")]
    Dk,
    /// Finland: EUR; capture within 14 days, then the reservation is cancelled.
    #[serde(rename = "FI")]
    Fi,
}

impl Market {
    /// `NO`, `DK`, `FI`.
    pub fn as_str(self) -> &'static str {
        match self {
            Market::No => "NO",
            Market::Dk => "DK",
            Market::Fi => "FI",
        }
    }

    /// The currency of the market (behaviour.md §4: "DKK only for Danish
    /// merchants, EUR only for Finnish").
    pub fn currency(self) -> &'static str {
        match self {
            Market::No => "NOK",
            Market::Dk => "DKK",
            Market::Fi => "EUR",
        }
    }

    /// The market whose currency is `currency`.
    pub fn of_currency(currency: &str) -> Option<Market> {
        [Market::No, Market::Dk, Market::Fi]
            .into_iter()
            .find(|m| m.currency() == currency)
    }

    /// Days after reservation within which a capture or cancel is accepted:
    /// 180 in Norway, 14 in Denmark and Finland (behaviour.md §7 "Deadlines";
    /// ePayment API guide, "Capture payment", *Payment capture deadlines*;
    /// knowledge base *Reserve and capture*). Late capture is not modelled.
    pub fn capture_days(self) -> i64 {
        match self {
            Market::No => 180,
            Market::Dk | Market::Fi => 14,
        }
    }
}

/// What a sales unit may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    /// The unit's market: its currency and capture deadline (default `NO`).
    #[serde(default)]
    pub market: Market,
    /// Express checkout (`shipping`, or `profile.scope` with `address` and
    /// shipping): without it create fails with 5020 "Express payment not
    /// allowed" (behaviour.md §5.3). Off by default: a unit must be approved.
    #[serde(default)]
    pub express: bool,
    /// Long-living payments (`expiresAt`); without it create fails with 5050.
    #[serde(default)]
    pub long_living: bool,
    /// `userFlow: PUSH_MESSAGE` (skip landing page); without it create fails with 5080.
    #[serde(default)]
    pub push_message: bool,
    /// `paymentMethod.type: CARD`. The test environment has no freestanding card
    /// payments (behaviour.md §14), so every built-in unit has it off.
    #[serde(default)]
    pub card: bool,
}

impl Capabilities {
    /// A unit with the approvals a typical live shop has (no CARD: test environment).
    pub fn approved() -> Self {
        Capabilities {
            market: Market::No,
            express: false,
            long_living: true,
            push_message: true,
            card: false,
        }
    }

    /// A freshly created sales unit: nothing approved.
    pub fn fresh() -> Self {
        Capabilities::default()
    }
}

/// The built-in capabilities: MSN 123456 approved, MSN 654321 fresh.
pub(crate) fn default_capabilities() -> HashMap<String, Capabilities> {
    HashMap::from([
        ("123456".to_owned(), Capabilities::approved()),
        ("654321".to_owned(), Capabilities::fresh()),
    ])
}

/// One entry of the units file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UnitEntry {
    msn: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    market: Option<Market>,
    #[serde(default)]
    express: bool,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    subscription_key: Option<String>,
    // Not `#[serde(flatten)]`: serde cannot combine it with deny_unknown_fields.
    #[serde(default)]
    long_living: bool,
    #[serde(default)]
    push_message: bool,
    #[serde(default)]
    card: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitsFile {
    #[serde(default)]
    units: Vec<UnitEntry>,
    #[serde(default)]
    rules: Option<RulesEntry>,
}

/// The optional `rules` object: the switches of docs/fidelity.md.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RulesEntry {
    reference_max_len: Option<usize>,
    numbers_as_strings: Option<bool>,
    strict_content_type: Option<bool>,
    qr_format_only_with_qr: Option<bool>,
    special_amounts: Option<bool>,
    expires_at_max_days: Option<i64>,
    native_redirect_requires_return_url: Option<bool>,
    loopback_webhooks: Option<bool>,
    landing_window_seconds: Option<u64>,
    qr_timeout_seconds: Option<u64>,
}

/// Why a units file was refused. Never carries a credential value.
#[derive(Debug, thiserror::Error)]
pub enum UnitsError {
    /// Not a regular file, too large, or unreadable.
    #[error("{}", crate::domain::input::with_cause(.0))]
    Input(crate::domain::input::InputError),
    #[error("the units file `{path}` is not valid: {reason} (hint: see docs/simulator-server.md, \"Sales units\")")]
    Invalid { path: String, reason: String },
}

/// Reads a units file and applies it to `config`.
pub fn load(path: &Path, config: &mut SimConfig) -> Result<(), UnitsError> {
    let shown = path.display().to_string();
    let text = crate::domain::input::read_to_string(path, crate::domain::input::InputKind::Units)
        .map_err(UnitsError::Input)?;
    apply(&text, config).map_err(|reason| UnitsError::Invalid {
        path: shown,
        reason,
    })
}

/// Applies the JSON text of a units file to `config`; `Err` is the reason.
pub fn apply(text: &str, config: &mut SimConfig) -> Result<(), String> {
    let file: UnitsFile = serde_json::from_str(text).map_err(|e| {
        // serde's message names the field and position, never a value.
        format!("{e}")
    })?;
    if let Some(r) = &file.rules {
        if let Some(n) = r.reference_max_len {
            if !(8..=64).contains(&n) {
                return Err("`rules.referenceMaxLen` must be between 8 and 64".into());
            }
            config.rules.reference_max_len = n;
        }
        for (v, name) in [
            (r.landing_window_seconds, "landingWindowSeconds"),
            (r.qr_timeout_seconds, "qrTimeoutSeconds"),
        ] {
            if v.is_some_and(|n| !(1..=28 * 24 * 3600).contains(&n)) {
                return Err(format!("`rules.{name}` must be between 1 and 2419200"));
            }
        }
        if let Some(n) = r.landing_window_seconds {
            config.landing_window = std::time::Duration::from_secs(n);
        }
        if let Some(n) = r.qr_timeout_seconds {
            config.qr_timeout = std::time::Duration::from_secs(n);
        }
        let rules = &mut config.rules;
        if let Some(d) = r.expires_at_max_days {
            if !(1..=365).contains(&d) {
                return Err("`rules.expiresAtMaxDays` must be between 1 and 365".into());
            }
            rules.expires_at_max = chrono::Duration::days(d);
        }
        let set = |v: Option<bool>, field: &mut bool| {
            if let Some(v) = v {
                *field = v;
            }
        };
        set(r.numbers_as_strings, &mut rules.numbers_as_strings);
        set(r.strict_content_type, &mut rules.strict_content_type);
        set(r.qr_format_only_with_qr, &mut rules.qr_format_only_with_qr);
        set(r.special_amounts, &mut rules.special_amounts);
        set(r.loopback_webhooks, &mut rules.loopback_webhooks);
        set(
            r.native_redirect_requires_return_url,
            &mut rules.native_redirect_requires_return_url,
        );
    }
    for u in file.units {
        let msn_ok = (4..=7).contains(&u.msn.len()) && u.msn.bytes().all(|b| b.is_ascii_digit());
        if !msn_ok {
            return Err(format!("`msn` `{}` must be 4 to 7 digits", short(&u.msn)));
        }
        let market = entry_market(&u)?;
        let u = UnitEntry {
            currency: market.map(|m| m.currency().to_owned()),
            ..u
        };
        match config.accounts.iter_mut().find(|a| a.msn == u.msn) {
            Some(a) => {
                if let Some(n) = &u.name {
                    a.merchant_name = n.clone();
                }
                if let Some(c) = &u.currency {
                    a.currency = c.clone();
                }
                if let Some(v) = &u.client_id {
                    a.client_id = v.clone();
                }
                if let Some(v) = &u.client_secret {
                    a.client_secret = v.clone();
                }
                if let Some(v) = &u.subscription_key {
                    a.subscription_key = v.clone();
                }
            }
            None => {
                let (Some(client_id), Some(client_secret), Some(subscription_key)) =
                    (&u.client_id, &u.client_secret, &u.subscription_key)
                else {
                    return Err(format!(
                        "unit `{}` is new, so it needs `clientId`, `clientSecret` and `subscriptionKey`",
                        u.msn
                    ));
                };
                config.accounts.push(Account {
                    merchant_name: u.name.clone().unwrap_or_else(|| format!("Unit {}", u.msn)),
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                    subscription_key: subscription_key.clone(),
                    msn: u.msn.clone(),
                    currency: u.currency.clone().unwrap_or_else(|| "NOK".into()),
                });
            }
        }
        let market = match config.accounts.iter().find(|a| a.msn == u.msn) {
            Some(a) => Market::of_currency(&a.currency).unwrap_or_default(),
            None => Market::No,
        };
        let caps = Capabilities {
            market,
            express: u.express,
            long_living: u.long_living,
            push_message: u.push_message,
            card: u.card,
        };
        config.capabilities.insert(u.msn.clone(), caps);
    }
    // Two units sharing a subscription key or client id could not be told apart.
    for (i, a) in config.accounts.iter().enumerate() {
        for b in &config.accounts[i + 1..] {
            if a.subscription_key == b.subscription_key || a.client_id == b.client_id {
                return Err(format!(
                    "units `{}` and `{}` share a client id or subscription key",
                    a.msn, b.msn
                ));
            }
        }
    }
    Ok(())
}

/// The market an entry names: its `market`, else the one of its `currency`
/// (the market decides the currency; a currency alone names its market).
fn entry_market(u: &UnitEntry) -> Result<Option<Market>, String> {
    let currency_market = match u.currency.as_deref() {
        None => None,
        Some(c) => Some(
            Market::of_currency(c)
                .ok_or_else(|| format!("unit `{}`: `currency` must be NOK, DKK or EUR", u.msn))?,
        ),
    };
    match (u.market, currency_market) {
        (Some(m), Some(c)) if m != c => Err(format!(
            "unit `{}`: the market `{}` takes {}, not {} (hint: leave `currency` out, the market decides it)",
            u.msn,
            m.as_str(),
            m.currency(),
            c.currency()
        )),
        (m, c) => Ok(m.or(c)),
    }
}

fn short(s: &str) -> &str {
    match s.char_indices().nth(12) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_units_are_one_approved_and_one_fresh() {
        let c = SimConfig::default();
        assert_eq!(c.capabilities_of("123456"), Capabilities::approved());
        assert_eq!(c.capabilities_of("654321"), Capabilities::fresh());
        // A unit the file does not mention (a user's own credentials): approved.
        assert_eq!(c.capabilities_of("999999"), Capabilities::approved());
    }

    #[test]
    fn a_units_file_changes_a_unit_and_adds_one() {
        let mut c = SimConfig::default();
        apply(
            r#"{"units":[{"msn":"654321","pushMessage":true},
            {"msn":"777777","clientId":"k-id","clientSecret":"k-s","subscriptionKey":"k-k","card":true}]}"#,
            &mut c,
        )
        .unwrap();
        assert!(c.capabilities_of("654321").push_message);
        assert!(!c.capabilities_of("654321").long_living);
        assert!(c.capabilities_of("777777").card);
        assert!(c.accounts.iter().any(|a| a.msn == "777777"));
    }

    #[test]
    fn a_new_unit_without_credentials_or_an_unknown_field_is_refused() {
        let mut c = SimConfig::default();
        let e = apply(r#"{"units":[{"msn":"777777"}]}"#, &mut c).unwrap_err();
        assert!(e.contains("clientId"), "{e}");
        let e = apply(
            r#"{"units":[{"msn":"123456","longLiving":true,"cards":true}]}"#,
            &mut c,
        )
        .unwrap_err();
        assert!(e.contains("cards"), "{e}");
        let e = apply(r#"{"units":[{"msn":"12a"}]}"#, &mut c).unwrap_err();
        assert!(e.contains("4 to 7 digits"), "{e}");
    }

    #[test]
    fn the_rules_object_sets_the_fidelity_switches() {
        let mut c = SimConfig::default();
        apply(
            r#"{"rules":{"referenceMaxLen":64,"strictContentType":false,"qrFormatOnlyWithQr":true}}"#,
            &mut c,
        )
        .unwrap();
        assert_eq!(c.rules.reference_max_len, 64);
        assert!(!c.rules.strict_content_type);
        assert!(c.rules.qr_format_only_with_qr);
        assert!(c.rules.special_amounts);
        let e = apply(r#"{"rules":{"referenceMaxLen":65}}"#, &mut c).unwrap_err();
        assert!(e.contains("referenceMaxLen"), "{e}");
        apply(
            r#"{"rules":{"landingWindowSeconds":600,"qrTimeoutSeconds":120}}"#,
            &mut c,
        )
        .unwrap();
        assert_eq!(c.landing_window, std::time::Duration::from_secs(600));
        assert_eq!(c.qr_timeout, std::time::Duration::from_secs(120));
    }
}

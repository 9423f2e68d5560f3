//! Shared by the tests that run the checklist against a target other than the
//! embedded simulator (`runner::tests_targets`, `compare::tests_compare`,
//! `runner::tests_production_interrupt`):
//! the simulator's demo credentials, a `--base-url` configuration, a target
//! whose answers are doctored, and a person who answers on the landing page.

use crate::config::{Config, Credentials, SystemHeaders, Target};
use crate::steps::StepError;

/// The built-in unit MSN 123456.
pub fn sim_credentials() -> Credentials {
    Credentials {
        client_id: "sim-client-id-123456".into(),
        client_secret: "sim-client-secret-123456".into(),
        subscription_key: "sim-subscription-key-123456".into(),
        msn: "123456".into(),
    }
}

/// `--base-url base` with the demo credentials.
pub fn custom_target(base: &str) -> Config {
    Config {
        target: Target::Custom(base.parse().unwrap()),
        credentials: Some(sim_credentials()),
        system: SystemHeaders::default(),
    }
}

/// The doctored target is the one the binary-driven tests use (one file,
/// written against the public API, so both kinds of test compile it).
#[path = "../../tests/doctored_support/mod.rs"]
mod doctored;
pub use doctored::doctored_target;

/// Submits the landing page's form as a browser without scripts would:
/// `action` is `approve` or `reject`.
pub async fn answer_on_landing_page(link: &str, action: &str) -> Result<(), StepError> {
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(link)
        .form(&[("action", action)])
        .send()
        .await
        .map_err(|e| StepError::Check(e.to_string()))?;
    assert!(response.status().is_success() || response.status().is_redirection());
    Ok(())
}

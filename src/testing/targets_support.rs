//! Shared by the tests that run the checklist against a target other than the
//! embedded simulator (`runner::tests_targets`, `compare::tests_compare`,
//! `runner::tests_production_interrupt`):
//! the simulator's demo credentials, a `--base-url` configuration, a target
//! whose answers are doctored, and a person who answers on the landing page.

use std::sync::Arc;

use crate::config::{Config, Credentials, SystemHeaders, Target};
use crate::simulator::{SimConfig, SimRequest, Simulator};
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

/// What a doctored target changes in one answer: `(request, status, body)`
/// in, `(status, body)` out.
pub type Doctor = dyn Fn(&wiremock::Request, u16, Vec<u8>) -> (u16, Vec<u8>) + Send + Sync;

/// A target that answers as a simulator with `config` would, except where
/// `doctor` changes the answer.
pub async fn doctored_target(
    config: SimConfig,
    doctor: Box<Doctor>,
) -> (wiremock::MockServer, Arc<Simulator>) {
    use wiremock::{Request, Respond, ResponseTemplate};
    struct Doctored(Arc<Simulator>, Box<Doctor>);
    impl Respond for Doctored {
        fn respond(&self, req: &Request) -> ResponseTemplate {
            let headers = req
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()));
            let reply = self.0.handle(SimRequest::new(
                req.method.as_str(),
                req.url.path(),
                req.url.query(),
                headers,
                req.body.clone(),
            ));
            let (status, body) = (self.1)(req, reply.response.status, reply.response.body.clone());
            let mut t = ResponseTemplate::new(status);
            for (k, v) in &reply.response.headers {
                if !k.eq_ignore_ascii_case("content-length") {
                    t = t.insert_header(k.as_str(), v.as_str());
                }
            }
            t.set_body_raw(body, "application/json")
        }
    }
    let server = wiremock::MockServer::start().await;
    let sim = Simulator::new(config);
    sim.set_base_url(&server.uri());
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(Doctored(sim.clone(), doctor))
        .mount(&server)
        .await;
    (server, sim)
}

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

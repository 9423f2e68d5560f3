//! A target whose answers are doctored, for the binary-driven tests of a
//! lying target (`report_recheck`), and for the in-crate tests too
//! (`src/testing/targets_support.rs` includes this file): public API only.

use std::sync::Arc;

use vipps_golive::simulator::{SimConfig, SimRequest, Simulator};

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

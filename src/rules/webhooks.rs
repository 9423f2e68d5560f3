//! Webhook registrations (judged under PF-POLLING, the item that pairs
//! webhooks with polling): Vipps delivers only to https URLs reachable from
//! the internet on ports 80, 443 and 8080 (behaviour.md §9.1). A shop that
//! registers anything else gets webhooks from the simulator and none in the
//! real environment.
//!
//! The registration is read from the request body of
//! `POST /webhooks/v1/webhooks` in the journal, so this rule does not depend
//! on what the simulator accepted.

use crate::domain::checklist::ChecklistId;
use crate::evidence::model::Severity;

use super::{Operation, Sink, View};

/// Ports Vipps delivers webhooks to.
pub const SAFE_PORTS: [u16; 3] = [80, 443, 8080];

/// What is wrong with one webhook URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// A port Vipps does not deliver to.
    Port(u16),
    /// `http://`: Vipps delivers over https only.
    NotHttps,
    /// Loopback or a private address: not reachable from the internet.
    NotReachable,
    Unparsable,
}

/// The decision table for one registered URL.
pub fn judge(url: &str) -> Vec<Problem> {
    let Ok(u) = url::Url::parse(url) else {
        return vec![Problem::Unparsable];
    };
    let mut problems = Vec::new();
    if u.scheme() != "https" {
        problems.push(Problem::NotHttps);
    }
    match u.port_or_known_default() {
        Some(p) if SAFE_PORTS.contains(&p) => {}
        Some(p) => problems.push(Problem::Port(p)),
        None => problems.push(Problem::Unparsable),
    }
    let private = crate::domain::host::is_loopback(&u)
        || match u.host() {
            Some(url::Host::Domain(d)) => d.trim_end_matches('.').ends_with(".local"),
            Some(url::Host::Ipv4(ip)) => ip.is_private() || ip.is_link_local(),
            Some(url::Host::Ipv6(_)) => false,
            None => true,
        };
    if private {
        problems.push(Problem::NotReachable);
    }
    problems
}

#[derive(Debug, Default)]
pub struct Webhooks;

impl Webhooks {
    /// In a journal of traffic to a Vipps environment (`live`), an http or
    /// unreachable webhook URL fails: Vipps would deliver nothing to it
    /// (issue 21 point 5); against a simulator it only warns.
    pub fn observe(&mut self, view: &View<'_>, sink: &mut Sink, live: bool) {
        if view.op != Operation::WebhookRegister {
            return;
        }
        let Some(url) = view.body.url.as_deref() else {
            return;
        };
        let serious = if live {
            Severity::Fail
        } else {
            Severity::Warning
        };
        for problem in judge(url) {
            let (rule, severity, what, advice) = match problem {
                Problem::Port(p) => ("webhooks.port", Severity::Fail, format!("is on port {p}"), "register the webhook on port 443 (or 80 or 8080): Vipps delivers to no other port, so in the real environment the shop would get no webhooks at all"),
                Problem::NotHttps => ("webhooks.not-https", serious, "is not https".to_owned(), "register an https URL in the test and production environments (the simulator accepts http on loopback only for local work)"),
                Problem::NotReachable => ("webhooks.not-reachable", serious, "is not reachable from the internet".to_owned(), "register a public https URL in the test and production environments (Vipps delivers from callback-mt-*.vipps.no / callback-*.vipps.no)"),
                Problem::Unparsable => ("webhooks.unparsable", Severity::Fail, "is not a URL".to_owned(), "register an absolute https URL"),
            };
            sink.raise(ChecklistId::PfPolling, rule, severity, Some(view), || {
                (
                    format!("webhook URL `{url}` {what} ({})", view.describe()),
                    advice.to_owned(),
                )
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_webhook_url_decision_table() {
        assert!(judge("https://shop.example/vipps/webhooks").is_empty());
        assert!(judge("https://shop.example:8080/hook").is_empty());
        assert_eq!(
            judge("https://shop.example:9443/hook"),
            vec![Problem::Port(9443)]
        );
        assert_eq!(
            judge("http://127.0.0.1:9443/hook"),
            vec![
                Problem::NotHttps,
                Problem::Port(9443),
                Problem::NotReachable
            ]
        );
    }
}

//! PF-REDIRECTS: the returnUrl of every create is https (or a custom app
//! scheme) and carries the reference, so the page can look the payment up
//! when the phone opens it in another browser, without the shop's session.
//! Whether the page answers without cookies needs the network, which the
//! rules do not touch: `audit --check-return-url` and `run`'s return-page
//! step open it and hand the answer to [`return_page`], which judges it.

use std::collections::HashSet;

use crate::domain::checklist::ChecklistId;
use crate::evidence::model::{ExchangeRef, Finding, Severity};

use super::{hash_of, Operation, Sink, View};

/// What is wrong with one returnUrl.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// `http://` to a host that is not loopback.
    Insecure,
    /// `http://localhost...`: fine against the simulator, not in production.
    LoopbackHttp,
    /// Not a URL at all.
    Unparsable,
    /// The reference appears nowhere in it.
    NoReference,
}

/// The decision table for one returnUrl and the reference it was sent with.
pub fn judge(return_url: &str, reference: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    match url::Url::parse(return_url) {
        Err(_) => problems.push(Problem::Unparsable),
        Ok(u) if u.scheme() == "http" => {
            if crate::domain::host::is_loopback(&u) {
                problems.push(Problem::LoopbackHttp);
            } else {
                problems.push(Problem::Insecure);
            }
        }
        Ok(_) => {}
    }
    if !reference.is_empty() && !return_url.contains(reference) {
        let encoded: String = url::form_urlencoded::byte_serialize(reference.as_bytes()).collect();
        if !return_url.contains(&encoded) {
            problems.push(Problem::NoReference);
        }
    }
    problems
}

/// State: the returnUrls already judged (hashed), so one page is judged once.
#[derive(Debug, Default)]
pub struct Redirects {
    judged: HashSet<u64>,
}

impl Redirects {
    /// Judges a create's returnUrl; gives it back for `--check-return-url`.
    /// In a journal of traffic to a Vipps environment (`live`), an http
    /// returnUrl on loopback fails: the phone cannot open the shop's own
    /// machine (issue 21 point 5).
    pub fn observe(&mut self, view: &View<'_>, sink: &mut Sink, live: bool) -> Option<String> {
        if view.op != Operation::Create {
            return None;
        }
        let url = view.body.return_url.as_deref()?;
        let reference = view.reference.unwrap_or("");
        if !self.judged.insert(hash_of(&(url, reference))) {
            return Some(url.to_owned());
        }
        for problem in judge(url, reference) {
            let (rule, severity, what, advice) = match problem {
                Problem::Insecure => ("redirects.insecure", Severity::Fail, "is plain http", "use https (or your app's own scheme, e.g. `myshop://`) for the returnUrl: the phone opens it on any network"),
                Problem::LoopbackHttp if live => ("redirects.loopback-http", Severity::Fail, "is http on loopback in traffic to a Vipps environment", "the phone opens the returnUrl, and it cannot reach this machine: send a public https returnUrl in the test and production environments"),
                Problem::LoopbackHttp => ("redirects.loopback-http", Severity::Warning, "is http on loopback", "fine against the simulator on your machine; in the test and production environments the returnUrl must be https"),
                Problem::Unparsable => ("redirects.unparsable", Severity::Fail, "is not an absolute URL", "send an absolute https URL (or a custom app scheme) as returnUrl"),
                Problem::NoReference => ("redirects.no-reference", Severity::Fail, "does not carry the reference", "put the reference in the returnUrl (e.g. `https://shop.example/vipps/return?reference=acme-order-123`): it may open in another browser without the shop's session, and the page must find the payment and poll its state from the URL alone"),
            };
            sink.raise(ChecklistId::PfRedirects, rule, severity, Some(view), || {
                (
                    format!("returnUrl `{url}` {what} ({})", view.describe()),
                    advice.to_owned(),
                )
            });
        }
        Some(url.to_owned())
    }
}

/// What opening a return page gave, as the phone's browser opens it:
/// without cookies and without following a redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAnswer<'a> {
    /// An answer: its status and its `Location` header, if any.
    Answered {
        status: u16,
        location: Option<&'a str>,
    },
    /// No answer (no connection, a timeout).
    Unreachable,
}

/// The finding a return page's answer gives (PF-REDIRECTS), if any: the page
/// must answer by itself, without the shop's session. `at` is the create that
/// sent the returnUrl, when known.
pub fn return_page(url: &str, answer: PageAnswer<'_>, at: Option<ExchangeRef>) -> Option<Finding> {
    const NEEDS_SESSION: &str = "the return page must work without the shop's session: look the payment up by the reference in the URL, poll its state and show the result";
    let (rule, severity, message, advice) = match answer {
        PageAnswer::Answered { status, location } if status < 400 => {
            let to_login = location.is_some_and(|l| l.to_ascii_lowercase().contains("login"));
            if !to_login {
                return None;
            }
            (
                "redirects.needs-session",
                Severity::Fail,
                format!("returnUrl `{url}` without cookies redirects to a login page"),
                NEEDS_SESSION,
            )
        }
        PageAnswer::Answered { status, .. } => (
            "redirects.needs-session",
            Severity::Fail,
            format!("returnUrl `{url}` answered {status} when opened without cookies"),
            NEEDS_SESSION,
        ),
        PageAnswer::Unreachable => (
            "redirects.unreachable",
            Severity::Warning,
            format!("returnUrl `{url}` could not be opened from here"),
            "check the page by hand in a private browser window: it must answer without the shop's session",
        ),
    };
    Some(Finding {
        checklist_id: ChecklistId::PfRedirects.into(),
        rule: rule.into(),
        severity,
        message,
        advice: advice.into(),
        exchange: at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_return_page_must_answer_without_the_session() {
        let answered = |status, location| PageAnswer::Answered { status, location };
        let rule = |answer| {
            return_page("https://shop.example/r", answer, None).map(|f| (f.rule, f.severity))
        };
        assert_eq!(rule(answered(200, None)), None);
        assert_eq!(rule(answered(302, Some("/thanks?reference=acme-1"))), None);
        assert_eq!(
            rule(answered(302, Some("https://shop.example/Login?next=/r"))),
            Some(("redirects.needs-session".into(), Severity::Fail))
        );
        assert_eq!(
            rule(answered(401, None)),
            Some(("redirects.needs-session".into(), Severity::Fail))
        );
        assert_eq!(
            rule(answered(404, None)),
            Some(("redirects.needs-session".into(), Severity::Fail))
        );
        assert_eq!(
            rule(PageAnswer::Unreachable),
            Some(("redirects.unreachable".into(), Severity::Warning))
        );
    }

    #[test]
    fn the_return_url_decision_table() {
        assert!(judge("https://shop.example/r?reference=acme-1", "acme-1").is_empty());
        assert!(judge("myshop://return/acme-1", "acme-1").is_empty());
        assert_eq!(
            judge("http://shop.example/r/acme-1", "acme-1"),
            vec![Problem::Insecure]
        );
        assert_eq!(
            judge("http://127.0.0.1:8000/r/acme-1", "acme-1"),
            vec![Problem::LoopbackHttp]
        );
        assert_eq!(
            judge("https://shop.example/thanks", "acme-1"),
            vec![Problem::NoReference]
        );
        assert_eq!(judge("/thanks", ""), vec![Problem::Unparsable]);
    }
}

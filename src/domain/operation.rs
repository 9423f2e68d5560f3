//! The operation of an exchange: which API call a request was (create, get,
//! events, capture, refund, cancel, token, Order Management, webhooks, ...)
//! and the payment reference its path names, read from its method and path.
//!
//! Classified here once: the rules judge by it and the evidence builder files
//! each exchange under its payment by it, so an exchange the rules call a
//! poll is the one the report lists as a poll.
//!
//! Matching is case-insensitive and ignores empty segments and the version
//! segment, as the API gateway does: a shop that writes `/ePayment/v1/...` is
//! still polling. References are returned as written in the path
//! (percent-escapes undecoded): the rules key payments by what was sent.

/// The path of a URL (or of a bare path), without scheme, host, query or
/// fragment; `/` for a URL with no path.
pub fn path_of(url: &str) -> &str {
    let after_scheme = match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            match rest.find('/') {
                Some(j) => &rest[j..],
                None => "/",
            }
        }
        None => url,
    };
    let end = after_scheme.find(['?', '#']).unwrap_or(after_scheme.len());
    &after_scheme[..end]
}

/// Which API operation an exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation<'a> {
    /// `POST /accesstoken/get` (or `/miami/v1/token`).
    Token,
    /// `POST /epayment/v1/payments`.
    Create,
    /// `GET /epayment/v1/payments/{reference}`.
    Get(&'a str),
    /// `GET /epayment/v1/payments/{reference}/events`.
    Events(&'a str),
    /// `POST /epayment/v1/payments/{reference}/cancel`.
    Cancel(&'a str),
    /// `POST /epayment/v1/payments/{reference}/capture`.
    Capture(&'a str),
    /// `POST /epayment/v1/payments/{reference}/refund`.
    Refund(&'a str),
    /// `POST /epayment/v1/test/payments/{reference}/approve` (test environment only).
    ForceApprove(&'a str),
    /// Some other call under one payment, `/epayment/v1/payments/{reference}/{...}`:
    /// no operation the rules judge, but the payment it concerns is known.
    OtherPayment(&'a str),
    /// `POST /webhooks/v1/webhooks`.
    WebhookRegister,
    /// Any other Webhooks API call.
    Webhooks,
    /// Order Management: receipts, categories, images. `write` for anything
    /// but GET; `reference` when the path names a payment
    /// (`/order-management/v2/{paymentType}/{reference}`,
    /// `.../receipts/{reference}`, `.../categories/{reference}`; images name none).
    OrderManagement {
        write: bool,
        reference: Option<&'a str>,
    },
    /// Some other path under an API prefix.
    OtherApi,
    /// Not the API: the landing page, the browser's redirects, the
    /// simulator's control paths.
    Landing,
}

/// First path segments of the other Vipps APIs: their calls are API traffic
/// (headers are judged), though no rule reads their operation.
const OTHER_APIS: [&str; 5] = [
    "recurring",
    "agreements",
    "checkout",
    "vipps-login",
    "access-management",
];

impl<'a> Operation<'a> {
    /// Classifies a request by its method and its path (see [`path_of`]).
    pub fn of(method: &str, path: &'a str) -> Operation<'a> {
        let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        let post = eq(method, "POST");
        let get = eq(method, "GET");
        let segs: Vec<&'a str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let (first, rest) = match segs.split_first() {
            Some((first, rest)) => (*first, rest),
            None => ("", &[][..]),
        };
        if eq(first, "accesstoken") || eq(first, "miami") {
            return Operation::Token;
        }
        if eq(first, "order-management") {
            let reference = match rest {
                [_v2, _type, kind, r, ..] if eq(kind, "receipts") || eq(kind, "categories") => {
                    Some(*r)
                }
                [_v2, _type, kind, ..] if eq(kind, "images") => None,
                [_v2, _type, r, ..] => Some(*r),
                _ => None,
            };
            return Operation::OrderManagement {
                write: !get,
                reference,
            };
        }
        if eq(first, "webhooks") {
            return match rest {
                [_v1, w] if post && eq(w, "webhooks") => Operation::WebhookRegister,
                _ => Operation::Webhooks,
            };
        }
        if !eq(first, "epayment") {
            return if OTHER_APIS.iter().any(|p| eq(first, p)) {
                Operation::OtherApi
            } else {
                Operation::Landing
            };
        }
        match rest {
            [_v1, p] if post && eq(p, "payments") => Operation::Create,
            [_v1, p, r] if get && eq(p, "payments") => Operation::Get(r),
            [_v1, p, r, s] if get && eq(p, "payments") && eq(s, "events") => Operation::Events(r),
            [_v1, p, r, s] if post && eq(p, "payments") && eq(s, "cancel") => Operation::Cancel(r),
            [_v1, p, r, s] if post && eq(p, "payments") && eq(s, "capture") => {
                Operation::Capture(r)
            }
            [_v1, p, r, s] if post && eq(p, "payments") && eq(s, "refund") => Operation::Refund(r),
            [_v1, t, p, r, a] if post && eq(t, "test") && eq(p, "payments") && eq(a, "approve") => {
                Operation::ForceApprove(r)
            }
            [_v1, p, r, _, ..] if eq(p, "payments") => Operation::OtherPayment(r),
            _ => Operation::OtherApi,
        }
    }

    /// The payment reference the path names, as written there.
    pub fn reference(self) -> Option<&'a str> {
        match self {
            Operation::Get(r)
            | Operation::Events(r)
            | Operation::Cancel(r)
            | Operation::Capture(r)
            | Operation::Refund(r)
            | Operation::ForceApprove(r)
            | Operation::OtherPayment(r) => Some(r),
            Operation::OrderManagement { reference, .. } => reference,
            _ => None,
        }
    }

    /// A POST that must carry an Idempotency-Key (behaviour.md §6).
    pub(crate) fn needs_idempotency_key(self) -> bool {
        matches!(
            self,
            Operation::Create | Operation::Cancel(_) | Operation::Capture(_) | Operation::Refund(_)
        )
    }

    /// Cancel, capture or refund.
    pub(crate) fn is_modification(self) -> bool {
        matches!(
            self,
            Operation::Cancel(_) | Operation::Capture(_) | Operation::Refund(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_from_urls_and_bare_paths() {
        assert_eq!(
            path_of("http://127.0.0.1:7777/epayment/v1/payments?x=1"),
            "/epayment/v1/payments"
        );
        assert_eq!(path_of("https://h"), "/");
        assert_eq!(path_of("https://h?x=1"), "/");
        assert_eq!(path_of("/a/b#c"), "/a/b");
    }

    #[test]
    fn operations_are_classified_by_method_and_path() {
        let of = |m: &str, url: &'static str| Operation::of(m, path_of(url));
        assert_eq!(of("POST", "/epayment/v1/payments"), Operation::Create);
        assert_eq!(
            of("GET", "https://h/epayment/v1/payments/abc-12345?x=1"),
            Operation::Get("abc-12345")
        );
        assert_eq!(
            of("GET", "/epayment/v1/payments/r/events"),
            Operation::Events("r")
        );
        assert_eq!(
            of("POST", "/epayment/v1/payments/r/capture"),
            Operation::Capture("r")
        );
        assert_eq!(
            of("POST", "/ePayment/v1/Payments/r/Refund"),
            Operation::Refund("r"),
            "the gateway matches without regard to case"
        );
        assert_eq!(
            of("POST", "/epayment/v1/payments/r/frobnicate"),
            Operation::OtherPayment("r")
        );
        assert_eq!(
            of("POST", "/epayment/v1/test/payments/r/approve"),
            Operation::ForceApprove("r")
        );
        assert_eq!(of("POST", "/accessToken/get"), Operation::Token);
        assert_eq!(
            of("POST", "/webhooks/v1/webhooks"),
            Operation::WebhookRegister
        );
        assert_eq!(of("GET", "/webhooks/v1/webhooks"), Operation::Webhooks);
        assert_eq!(of("GET", "/landing/abc"), Operation::Landing);
        assert_eq!(of("POST", "/__sim/payments/r/approve"), Operation::Landing);
        assert_eq!(of("GET", "/recurring/v3/agreements"), Operation::OtherApi);
    }

    #[test]
    fn order_management_paths_name_their_payment_except_images() {
        let om = |m: &str, p: &'static str| Operation::of(m, p);
        assert_eq!(
            om("PUT", "/order-management/v2/ecom/categories/abc-12345"),
            Operation::OrderManagement {
                write: true,
                reference: Some("abc-12345")
            }
        );
        assert_eq!(
            om("POST", "/order-management/v2/ecom/receipts/abc-12345"),
            Operation::OrderManagement {
                write: true,
                reference: Some("abc-12345")
            }
        );
        assert_eq!(
            om("GET", "/order-management/v2/ecom/abc-12345"),
            Operation::OrderManagement {
                write: false,
                reference: Some("abc-12345")
            }
        );
        assert_eq!(
            om("POST", "/order-management/v1/images"),
            Operation::OrderManagement {
                write: true,
                reference: None
            }
        );
    }

    #[test]
    fn the_reference_is_the_one_the_path_names() {
        assert_eq!(Operation::Create.reference(), None);
        assert_eq!(Operation::Capture("r-1").reference(), Some("r-1"));
        assert_eq!(Operation::Token.reference(), None);
    }
}

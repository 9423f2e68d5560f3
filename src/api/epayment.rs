//! The ePayment API v1: create (every userFlow), get, events, cancel,
//! capture, refund and force approve, with typed requests and responses.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::order_management::Receipt;
use super::transport::{seg, Call};
use super::Client;

// The domain owns amounts, states and events; the client speaks them on the
// wire and re-exports them so `api::epayment::Amount` keeps working.
pub use crate::domain::amount::{Amount, Currency};
pub use crate::domain::state::{EventName, State};

/// How the customer meets the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserFlow {
    PushMessage,
    NativeRedirect,
    WebRedirect,
    #[serde(rename = "QR")]
    Qr,
}

impl UserFlow {
    /// All four flows.
    pub const ALL: [UserFlow; 4] = [
        UserFlow::WebRedirect,
        UserFlow::NativeRedirect,
        UserFlow::Qr,
        UserFlow::PushMessage,
    ];
}

/// `paymentMethod.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentMethodType {
    Wallet,
    Card,
    CardPassthrough,
    #[serde(other)]
    Unknown,
}

/// `paymentMethod` of a create request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethod {
    #[serde(rename = "type")]
    pub kind: PaymentMethodType,
}

/// `customer`: exactly one of the three (the API refuses more than one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub phone_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub personal_qr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub customer_token: Option<String>,
}

impl Customer {
    /// A customer by MSISDN, e.g. `4791234567`.
    pub fn phone(number: impl Into<String>) -> Self {
        Customer {
            phone_number: Some(number.into()),
            ..Customer::default()
        }
    }
}

/// `qrFormat` for the QR flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QrFormat {
    /// `TEXT/TARGETURL`, `IMAGE/SVG+XML` (default) or `IMAGE/PNG`.
    pub format: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub size: Option<u32>,
}

/// `CUSTOMER_PRESENT` (in store) or `CUSTOMER_NOT_PRESENT` (default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CustomerInteraction {
    CustomerPresent,
    CustomerNotPresent,
}

/// `profile` of a create request: the user data asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileRequest {
    /// Space-separated: `name address email phoneNumber birthDate nin`.
    pub scope: String,
}

/// The create-payment body. Optional fields are left out when `None`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePaymentRequest {
    pub amount: Amount,
    pub payment_method: PaymentMethod,
    pub reference: String,
    pub user_flow: UserFlow,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qr_format: Option<QrFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_interaction: Option<CustomerInteraction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileRequest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_url: Option<String>,
    /// `industryData` (airline data), passed through as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub industry_data: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_user_age: Option<u32>,
}

impl CreatePaymentRequest {
    /// A WALLET payment with only the required fields set.
    pub fn new(amount: Amount, reference: impl Into<String>, user_flow: UserFlow) -> Self {
        CreatePaymentRequest {
            amount,
            payment_method: PaymentMethod {
                kind: PaymentMethodType::Wallet,
            },
            reference: reference.into(),
            user_flow,
            return_url: None,
            customer: None,
            payment_description: None,
            metadata: None,
            expires_at: None,
            qr_format: None,
            customer_interaction: None,
            profile: None,
            receipt: None,
            receipt_url: None,
            industry_data: None,
            minimum_user_age: None,
        }
    }
    /// Sets `returnUrl` (required for WEB_REDIRECT).
    pub fn return_url(mut self, url: impl Into<String>) -> Self {
        self.return_url = Some(url.into());
        self
    }
    /// Sets `customer` (required for PUSH_MESSAGE).
    pub fn customer(mut self, customer: Customer) -> Self {
        self.customer = Some(customer);
        self
    }
    /// Sets `paymentDescription` (3 to 100 characters).
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.payment_description = Some(text.into());
        self
    }
}

/// 201 answer to create: `redirectUrl` is absent for PUSH_MESSAGE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePaymentResponse {
    #[serde(default)]
    pub redirect_url: Option<String>,
    pub reference: String,
}

impl CreatePaymentResponse {
    /// The force-approve token inside `redirectUrl` (its `token=` parameter).
    pub fn approve_token(&self) -> Option<String> {
        self.redirect_url
            .as_deref()
            .and_then(token_from_redirect_url)
    }
}

/// The `token=` value of a redirect URL (`...?v=2&token=eyJ...` or
/// `vipps://token=abc`), as force approve wants it.
pub(crate) fn token_from_redirect_url(url: &str) -> Option<String> {
    let start = url.find("token=")? + "token=".len();
    let rest = &url[start..];
    let end = rest.find(['&', '#']).unwrap_or(rest.len());
    let token = &rest[..end];
    (!token.is_empty()).then(|| token.to_owned())
}

/// Amounts authorized, captured, refunded and cancelled so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Aggregate {
    pub authorized_amount: Amount,
    pub cancelled_amount: Amount,
    pub captured_amount: Amount,
    pub refunded_amount: Amount,
}

impl Aggregate {
    /// What can still be captured: authorized − captured − cancelled.
    pub fn capturable(&self) -> i64 {
        self.authorized_amount.value - self.captured_amount.value - self.cancelled_amount.value
    }
    /// What can still be refunded: captured − refunded.
    pub(crate) fn refundable(&self) -> i64 {
        self.captured_amount.value - self.refunded_amount.value
    }
}

/// `paymentMethod` as GET reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethodInfo {
    #[serde(rename = "type")]
    pub kind: PaymentMethodType,
    #[serde(default)]
    pub card_bin: Option<String>,
}

/// `profile` of GET: `sub` once profile data was shared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default)]
    pub sub: Option<String>,
}

/// GET payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPaymentResponse {
    pub aggregate: Aggregate,
    pub amount: Amount,
    pub state: State,
    pub payment_method: PaymentMethodInfo,
    #[serde(default)]
    pub profile: Profile,
    pub psp_reference: String,
    pub reference: String,
    #[serde(default)]
    pub redirect_url: Option<String>,
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub capture_guaranteed_until: Option<String>,
}

/// One event of the event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentEvent {
    pub reference: String,
    #[serde(default)]
    pub psp_reference: Option<String>,
    /// Optional in the newer SDK types; `Unknown` when absent.
    #[serde(default = "unknown_event")]
    pub name: EventName,
    pub amount: Amount,
    pub timestamp: DateTime<Utc>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
    #[serde(default = "yes")]
    pub success: bool,
}

fn unknown_event() -> EventName {
    EventName::Unknown
}
fn yes() -> bool {
    true
}

/// Answer to cancel, capture and refund.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModificationResponse {
    pub amount: Amount,
    pub state: State,
    pub aggregate: Aggregate,
    pub psp_reference: String,
    pub reference: String,
}

/// Capture and refund body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModificationRequest {
    pub modification_amount: Amount,
}

/// Cancel body (newer spec).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelRequest {
    pub cancel_transaction_only: bool,
}

/// Force-approve body: both optional; Postman sends both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForceApproveRequest {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub customer: Option<Customer>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub token: Option<String>,
}

const PAYMENTS: &str = "/epayment/v1/payments";

impl Client {
    /// `POST /epayment/v1/payments` (201).
    pub async fn create_payment(
        &self,
        request: &CreatePaymentRequest,
    ) -> Result<CreatePaymentResponse, ApiError> {
        let call = Call::new(Method::POST, PAYMENTS)
            .json(request)?
            .reference(&request.reference);
        self.execute(call).await?.json()
    }

    /// `GET /epayment/v1/payments/{reference}`.
    pub async fn get_payment(&self, reference: &str) -> Result<GetPaymentResponse, ApiError> {
        let call =
            Call::new(Method::GET, format!("{PAYMENTS}/{}", seg(reference))).reference(reference);
        self.execute(call).await?.json()
    }

    /// `GET /epayment/v1/payments/{reference}/events`, oldest first.
    pub async fn payment_events(&self, reference: &str) -> Result<Vec<PaymentEvent>, ApiError> {
        let call = Call::new(Method::GET, format!("{PAYMENTS}/{}/events", seg(reference)))
            .reference(reference);
        self.execute(call).await?.json()
    }

    /// `POST .../{reference}/cancel`. `cancel_transaction_only: Some(true)`
    /// cancels only a payment not yet authorized (6060 otherwise).
    ///
    /// OPEN(§16.12): with `None` no body is sent at all (the v1.4.1 form, and
    /// what every spec version accepts, since the body is optional) rather
    /// than `{}` with a JSON content type.
    pub async fn cancel_payment(
        &self,
        reference: &str,
        cancel_transaction_only: Option<bool>,
    ) -> Result<ModificationResponse, ApiError> {
        let mut call = Call::new(
            Method::POST,
            format!("{PAYMENTS}/{}/cancel", seg(reference)),
        )
        .reference(reference);
        if let Some(flag) = cancel_transaction_only {
            call = call.json(&CancelRequest {
                cancel_transaction_only: flag,
            })?;
        }
        self.execute(call).await?.json()
    }

    /// `POST .../{reference}/capture` of `amount` (full or partial).
    pub async fn capture_payment(
        &self,
        reference: &str,
        amount: Amount,
    ) -> Result<ModificationResponse, ApiError> {
        self.modify(reference, "capture", amount).await
    }

    /// `POST .../{reference}/refund` of `amount` (full or partial).
    pub async fn refund_payment(
        &self,
        reference: &str,
        amount: Amount,
    ) -> Result<ModificationResponse, ApiError> {
        self.modify(reference, "refund", amount).await
    }

    /// Capture and refund share one shape: `{modificationAmount}` to `.../{reference}/{operation}`.
    async fn modify(
        &self,
        reference: &str,
        operation: &str,
        amount: Amount,
    ) -> Result<ModificationResponse, ApiError> {
        let call = Call::new(
            Method::POST,
            format!("{PAYMENTS}/{}/{operation}", seg(reference)),
        )
        .json(&ModificationRequest {
            modification_amount: amount,
        })?
        .reference(reference);
        self.execute(call).await?.json()
    }

    /// `POST /epayment/v1/test/payments/{reference}/approve` (test only; 200
    /// with no body). Refused with [`ApiError::ForceApproveOnProduction`]
    /// before anything is sent when the client targets production.
    pub async fn force_approve(
        &self,
        reference: &str,
        request: &ForceApproveRequest,
    ) -> Result<(), ApiError> {
        if self.inner.production {
            return Err(ApiError::ForceApproveOnProduction {
                reference: reference.to_owned(),
            });
        }
        let call = Call::new(
            Method::POST,
            format!("/epayment/v1/test/payments/{}/approve", seg(reference)),
        )
        .json(request)?
        .reference(reference);
        self.execute(call).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_request_leaves_out_unset_fields_and_uses_api_names() {
        let r = CreatePaymentRequest::new(Amount::nok(24900), "shop42-order-1", UserFlow::Qr);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"amount": {"currency": "NOK", "value": 24900},
                "paymentMethod": {"type": "WALLET"}, "reference": "shop42-order-1", "userFlow": "QR"})
        );
    }

    #[test]
    fn unknown_states_and_events_are_tolerated() {
        let s: State = serde_json::from_str("\"SOMETHING_NEW\"").unwrap();
        assert_eq!(s, State::Unknown);
        assert!(!s.is_final());
        let e: EventName = serde_json::from_str("\"CAPTURED\"").unwrap();
        assert_eq!(e, EventName::Captured);
    }

    #[test]
    fn approve_token_is_read_from_either_redirect_shape() {
        assert_eq!(
            token_from_redirect_url("https://x/vippsgateway?v=2&token=eyJ.a.b").as_deref(),
            Some("eyJ.a.b")
        );
        assert_eq!(
            token_from_redirect_url("vipps://token=abc123").as_deref(),
            Some("abc123")
        );
        assert_eq!(token_from_redirect_url("https://x/?a=1"), None);
    }
}

//! The Order Management API: images, receipts, categories and reading an
//! order back (the payment history the checklist's QA-HISTORY asks for).

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::epayment::Currency;
use super::error::ApiError;
use super::transport::{seg, Call, Reply};
use super::Client;

/// `paymentType` in the path: `ecom` serves both eCom and ePayment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentType {
    Ecom,
    Recurring,
}

impl PaymentType {
    /// The path segment. Lowercase as the docs write it; the API matches any casing.
    pub(crate) fn as_path(self) -> &'static str {
        match self {
            PaymentType::Ecom => "ecom",
            PaymentType::Recurring => "recurring",
        }
    }
}

/// `POST /order-management/v1/images` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageUpload {
    /// `^[0-9A-Za-z-_\.]+$`, 1 to 128 characters; images are immutable.
    pub image_id: String,
    /// Base64 of a PNG or JPEG (at least 167 px high, at most 2 MB).
    pub src: String,
    /// Always `base64`.
    #[serde(rename = "type")]
    pub kind: String,
}

impl ImageUpload {
    /// An upload of raw image bytes, base64-encoded here.
    pub fn from_bytes(image_id: impl Into<String>, bytes: &[u8]) -> Self {
        use base64::Engine as _;
        ImageUpload {
            image_id: image_id.into(),
            src: base64::engine::general_purpose::STANDARD.encode(bytes),
            kind: "base64".into(),
        }
    }
}

/// Answer to an image upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageResponse {
    pub image_id: String,
}

/// Category of an order in the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CategoryType {
    General,
    Receipt,
    OrderConfirmation,
    Delivery,
    Ticket,
    Booking,
    #[serde(other)]
    Unknown,
}

/// A category with its link to the order details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    pub category: CategoryType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_details_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
}

/// `unitInfo` of an order line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<i64>,
    /// A decimal as a string, e.g. `"2"` or `"0.5"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<String>,
    /// PCS, KG, KM, MINUTE, LITRE, KWH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_unit: Option<String>,
}

/// One line of a receipt. Amounts in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub name: String,
    pub id: String,
    pub total_amount: i64,
    pub total_amount_excluding_tax: i64,
    pub total_tax_amount: i64,
    /// Basis points: 2500 = 25 %. Set this or `tax_percentage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_rate: Option<u32>,
    /// Whole percent (deprecated in favour of `tax_rate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_percentage: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_info: Option<UnitInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_return: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_shipping: Option<bool>,
}

/// `bottomLine` of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BottomLine {
    pub currency: Currency,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tip_amount: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pos_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_number: Option<String>,
}

/// A receipt: order lines and a bottom line (also embeddable in create).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    pub order_lines: Vec<OrderLine>,
    pub bottom_line: BottomLine,
}

/// GET order: what has been attached to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    #[serde(default)]
    pub category: Option<Category>,
    #[serde(default)]
    pub receipt: Option<Receipt>,
}

/// Receipts and categories answer with a bare JSON string id (behaviour.md
/// §16.16); accept that, a plain text body, or nothing.
fn string_id(reply: &Reply) -> String {
    serde_json::from_slice::<String>(&reply.body)
        .unwrap_or_else(|_| String::from_utf8_lossy(&reply.body).trim().to_owned())
}

impl Client {
    /// `POST /order-management/v1/images`.
    pub async fn upload_image(&self, image: &ImageUpload) -> Result<ImageResponse, ApiError> {
        let call = Call::new(Method::POST, "/order-management/v1/images").json(image)?;
        let reply = self.execute(call).await?;
        // Tolerate an empty 2xx body: the id is the one we chose.
        if reply.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(ImageResponse {
                image_id: image.image_id.clone(),
            });
        }
        reply.json()
    }

    /// `POST /order-management/v2/{paymentType}/receipts/{orderId}` (once per order).
    /// Returns the id the API answers with.
    pub async fn add_receipt(
        &self,
        payment_type: PaymentType,
        order_id: &str,
        receipt: &Receipt,
    ) -> Result<String, ApiError> {
        let call = Call::new(
            Method::POST,
            format!(
                "/order-management/v2/{}/receipts/{}",
                payment_type.as_path(),
                seg(order_id)
            ),
        )
        .json(receipt)?
        .reference(order_id);
        Ok(string_id(&self.execute(call).await?))
    }

    /// `PUT /order-management/v2/{paymentType}/categories/{orderId}` (upsert).
    pub async fn put_category(
        &self,
        payment_type: PaymentType,
        order_id: &str,
        category: &Category,
    ) -> Result<String, ApiError> {
        let call = Call::new(
            Method::PUT,
            format!(
                "/order-management/v2/{}/categories/{}",
                payment_type.as_path(),
                seg(order_id)
            ),
        )
        .json(category)?
        .reference(order_id);
        Ok(string_id(&self.execute(call).await?))
    }

    /// `GET /order-management/v2/{paymentType}/{orderId}`.
    pub async fn get_order(
        &self,
        payment_type: PaymentType,
        order_id: &str,
    ) -> Result<Order, ApiError> {
        let call = Call::new(
            Method::GET,
            format!(
                "/order-management/v2/{}/{}",
                payment_type.as_path(),
                seg(order_id)
            ),
        )
        .reference(order_id);
        self.execute(call).await?.json()
    }
}

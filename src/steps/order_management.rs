//! Order Management: a receipt, a category with a link, and an image.

use cucumber::{then, when};

use super::params::Nok;
use super::{fail, GoLiveWorld, StepError};
use crate::api::order_management::{
    BottomLine, Category, CategoryType, ImageUpload, OrderLine, PaymentType, Receipt,
};
use crate::api::{ApiError, Currency};

fn image_id(reference: &str) -> String {
    format!("{reference}-img")
}

/// Side of the uploaded image: Vipps asks for at least 167 pixels of height.
const IMAGE_SIDE: u32 = 200;

/// A plain grey square PNG: what the picture shows does not matter, only that
/// it is an image Order Management accepts.
fn order_image() -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, IMAGE_SIDE, IMAGE_SIDE);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&vec![0x80; (IMAGE_SIDE * IMAGE_SIDE) as usize])?;
    writer.finish()?;
    Ok(out)
}

#[when("the shop uploads an image for the order")]
async fn uploads_image(w: &mut GoLiveWorld) -> Result<(), StepError> {
    let reference = w.reference()?;
    let png = order_image().map_err(|e| ApiError::InvalidInput {
        field: "image",
        reason: e.to_string(),
    })?;
    w.client()?
        .upload_image(&ImageUpload::from_bytes(image_id(&reference), &png))
        .await?;
    Ok(())
}

#[when(expr = "the shop adds a receipt with one line of {amount} NOK")]
async fn adds_receipt(w: &mut GoLiveWorld, amount: Nok) -> Result<(), StepError> {
    let reference = w.reference()?;
    let amount = w.amount(amount.0)?;
    let receipt = Receipt {
        order_lines: vec![OrderLine {
            name: "Golive mug".into(),
            id: "mug-1".into(),
            total_amount: amount,
            total_amount_excluding_tax: amount * 4 / 5,
            total_tax_amount: amount - amount * 4 / 5,
            tax_rate: Some(2500),
            tax_percentage: None,
            unit_info: None,
            discount: None,
            product_url: None,
            is_return: None,
            is_shipping: None,
        }],
        bottom_line: BottomLine {
            currency: Currency::NOK,
            tip_amount: None,
            pos_id: None,
            receipt_number: Some(reference.clone()),
        },
    };
    w.client()?
        .add_receipt(PaymentType::Ecom, &reference, &receipt)
        .await?;
    Ok(())
}

#[when(
    "the shop sets the category to an order confirmation with a link to the order and the image"
)]
async fn sets_category(w: &mut GoLiveWorld) -> Result<(), StepError> {
    let reference = w.reference()?;
    let category = Category {
        category: CategoryType::OrderConfirmation,
        order_details_url: Some(format!("https://shop.example/orders/{reference}")),
        image_id: Some(image_id(&reference)),
    };
    w.client()?
        .put_category(PaymentType::Ecom, &reference, &category)
        .await?;
    Ok(())
}

#[then("the payment history shows the receipt, the category and the image")]
async fn history_shows(w: &mut GoLiveWorld) -> Result<(), StepError> {
    let reference = w.reference()?;
    let order = w.client()?.get_order(PaymentType::Ecom, &reference).await?;
    let Some(receipt) = &order.receipt else {
        return fail("the receipt did not read back");
    };
    if receipt.order_lines.is_empty() {
        return fail("the receipt read back without its order line");
    }
    let Some(category) = &order.category else {
        return fail("the category did not read back");
    };
    if category.order_details_url.is_none() {
        return fail("the category read back without its link to the order");
    }
    if category.image_id.as_deref() != Some(image_id(&reference).as_str()) {
        return fail("the category read back without the image");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_image_is_a_png_tall_enough_for_vipps() {
        let bytes = order_image().unwrap();
        let reader = png::Decoder::new(bytes.as_slice()).read_info().unwrap();
        let info = reader.info();
        assert_eq!((info.width, info.height), (200, 200));
        assert!(info.height >= 167);
    }
}

//! Order Management and the Webhooks API never answer 5xx, whatever the body.

use proptest::prelude::*;
use serde_json::{json, Value};
use vipps_golive::simulator::om::{handle_for, Orders};
use vipps_golive::simulator::webhooks::{handle_api_for, Registry};
use vipps_golive::simulator::{SimConfig, SimRequest};

fn req(method: &str, path: &str, body: Vec<u8>) -> SimRequest {
    SimRequest::new(method, path, None, Vec::<(String, String)>::new(), body)
}

/// JSON values shaped like (and unlike) the real bodies.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "[a-zA-Z0-9 ./:_-]{0,20}".prop_map(Value::from),
        Just(json!("NOK")),
        Just(json!("https://shop.example/x")),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("orderLines".to_owned()),
                        Just("bottomLine".to_owned()),
                        Just("currency".to_owned()),
                        Just("taxRate".to_owned()),
                        Just("unitInfo".to_owned()),
                        Just("quantity".to_owned()),
                        Just("category".to_owned()),
                        Just("orderDetailsUrl".to_owned()),
                        Just("imageId".to_owned()),
                        Just("src".to_owned()),
                        Just("url".to_owned()),
                        Just("events".to_owned()),
                        "[a-z]{1,8}",
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn order_management_never_answers_5xx(body in json_value(), raw in prop::collection::vec(any::<u8>(), 0..64), pick in 0usize..4) {
        let mut orders = Orders::new(&SimConfig::default());
        let bytes = if pick == 3 { raw } else { serde_json::to_vec(&body).unwrap() };
        for (m, p) in [
            ("POST", "/order-management/v1/images"),
            ("POST", "/order-management/v2/ecom/receipts/o-1"),
            ("PUT", "/order-management/v2/RECURRING/categories/o-1"),
            ("GET", "/order-management/v2/eCom/o-1"),
            ("POST", "/order-management/v2/ecom/receipts/bad%20id"),
        ] {
            let status = handle_for(&mut orders, &req(m, p, bytes.clone()), "123456").status;
            prop_assert!(status < 500, "{} {} -> {}", m, p, status);
        }
    }

    #[test]
    fn the_webhooks_api_never_answers_5xx(body in json_value(), raw in prop::collection::vec(any::<u8>(), 0..64), pick in 0usize..4) {
        let mut hooks = Registry::new(&SimConfig::default());
        let bytes = if pick == 3 { raw } else { serde_json::to_vec(&body).unwrap() };
        for (m, p) in [
            ("POST", "/webhooks/v1/webhooks"),
            ("GET", "/webhooks/v1/webhooks"),
            ("DELETE", "/webhooks/v1/webhooks/not-a-uuid"),
            ("PATCH", "/webhooks/v1/webhooks"),
        ] {
            let status = handle_api_for(&mut hooks, &req(m, p, bytes.clone()), "123456").status;
            prop_assert!(status < 500, "{} {} -> {}", m, p, status);
        }
    }
}

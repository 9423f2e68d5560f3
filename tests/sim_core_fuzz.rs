//! No input makes the simulator core panic or answer 5xx.

use crate::sim_core_support;

use proptest::prelude::*;
use serde_json::Value;
use sim_core_support::*;

const ROUTES: &[(&str, &str)] = &[
    ("POST", "/accesstoken/get"),
    ("POST", "/epayment/v1/payments"),
    ("GET", "/epayment/v1/payments/fuzz-ref-0001"),
    ("GET", "/epayment/v1/payments/fuzz-ref-0001/events"),
    ("POST", "/epayment/v1/payments/fuzz-ref-0001/cancel"),
    ("POST", "/epayment/v1/payments/fuzz-ref-0001/capture"),
    ("POST", "/epayment/v1/payments/fuzz-ref-0001/refund"),
    ("POST", "/epayment/v1/test/payments/fuzz-ref-0001/approve"),
    ("GET", "/dwo-api-application/v1/deeplink/vippsgateway"),
    ("POST", "/dwo-api-application/v1/deeplink/vippsgateway"),
    ("GET", "/qr-image/v1"),
    ("POST", "/__sim/payments/fuzz-ref-0001/approve"),
    ("POST", "/__sim/payments/fuzz-ref-0001/abort"),
    ("POST", "/__sim/payments/fuzz-ref-0001/expire"),
    ("POST", "/__sim/clock/advance"),
    ("GET", "/__sim/clock"),
    ("POST", "/order-management/v1/images"),
    ("POST", "/order-management/v2/ecom/receipts/fuzz-order-1"),
    ("PUT", "/order-management/v2/ecom/categories/fuzz-order-1"),
    ("GET", "/order-management/v2/ecom/fuzz-order-1"),
    ("POST", "/order-management/v3/categories"),
    ("GET", "/order-management/v3/categories"),
    ("DELETE", "/order-management/v3/categories/fuzz-category-1"),
    ("POST", "/webhooks/v1/webhooks"),
    ("GET", "/webhooks/v1/webhooks"),
    ("DELETE", "/webhooks/v1/webhooks/fuzz-hook-1"),
];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
        prop_oneof![
            Just("NOK"),
            Just("EUR"),
            Just("QR"),
            Just("WEB_REDIRECT"),
            Just("WALLET"),
            Just("4791234567")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("amount".to_owned()),
                        Just("value".to_owned()),
                        Just("currency".to_owned()),
                        Just("reference".to_owned()),
                        Just("userFlow".to_owned()),
                        Just("customer".to_owned()),
                        Just("metadata".to_owned()),
                        Just("modificationAmount".to_owned()),
                        Just("seconds".to_owned()),
                        Just("qrFormat".to_owned()),
                        Just("expiresAt".to_owned()),
                        ".{0,8}"
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A valid create body with one field replaced by something random.
fn mutated_create() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            Just("amount"),
            Just("paymentMethod"),
            Just("reference"),
            Just("userFlow"),
            Just("returnUrl"),
            Just("customer"),
            Just("metadata"),
            Just("expiresAt"),
            Just("qrFormat"),
            Just("receipt"),
            Just("profile"),
            Just("industryData"),
        ],
        arb_json(),
    )
        .prop_map(|(field, v)| {
            let mut b = Sim::create_body("fuzz-ref-0001", 1000);
            b[field] = v;
            b
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_on_any_route_never_give_5xx(
        route in 0..ROUTES.len(),
        body in prop::collection::vec(any::<u8>(), 0..200),
        key in ".{0,60}",
    ) {
        let sim = Sim::new();
        sim.create("fuzz-ref-0001", 1000);
        let (method, path) = ROUTES[route];
        let mut headers = sim.auth(&[]);
        headers.push(("Idempotency-Key".into(), key));
        let r = sim.sim.handle(vipps_golive::simulator::SimRequest::new(method, path, Some("token=x&msn=1"), headers, body)).response;
        prop_assert!(r.status < 500, "{} {} -> {}", method, path, r.status);
    }

    #[test]
    fn random_json_on_any_route_never_gives_5xx(route in 0..ROUTES.len(), body in arb_json()) {
        let sim = Sim::new();
        sim.create("fuzz-ref-0001", 1000);
        sim.approve("fuzz-ref-0001");
        let (method, path) = ROUTES[route];
        let r = sim.call(method, path, Some("fuzz-key"), &body.to_string());
        prop_assert!(r.status < 500, "{} {} {} -> {}", method, path, body, r.status);
    }

    #[test]
    fn mutated_create_bodies_never_give_5xx(body in mutated_create()) {
        let sim = Sim::new();
        let r = sim.create_with(&body, "fuzz-key");
        prop_assert!(r.status == 201 || (400..500).contains(&r.status), "{} -> {}", body, r.status);
    }

    #[test]
    fn random_paths_and_methods_never_give_5xx(
        method in prop_oneof![Just("GET"), Just("POST"), Just("PUT"), Just("DELETE"), Just("PATCH"), Just("HEAD")],
        path in "/(epayment|accesstoken|__sim|dwo-api-application|qr-image|order-management|webhooks)(/[a-zA-Z0-9%._~-]{0,12}){0,7}",
    ) {
        let sim = Sim::new();
        let r = sim.raw(method, &path, None, sim.auth(&[("Idempotency-Key", "k")]), "{}");
        prop_assert!(r.status < 500, "{} {} -> {}", method, path, r.status);
    }

    #[test]
    fn random_modification_sequences_keep_the_money_invariants(
        ops in prop::collection::vec((0u8..4, 0i64..1500), 1..20),
    ) {
        let sim = Sim::new();
        sim.create("fuzz-ref-0001", 1000);
        sim.approve("fuzz-ref-0001");
        for (i, (op, value)) in ops.iter().enumerate() {
            let key = format!("k{i}");
            match op {
                0 => { sim.modify("fuzz-ref-0001", "capture", *value, &key); }
                1 => { sim.modify("fuzz-ref-0001", "refund", *value, &key); }
                2 => { sim.cancel("fuzz-ref-0001", &key, ""); }
                _ => { sim.modify("fuzz-ref-0001", "capture", *value, "k0"); }
            }
            let p = sim.get("fuzz-ref-0001");
            let (a, c, r, x) = (agg(&p, "authorizedAmount"), agg(&p, "capturedAmount"), agg(&p, "refundedAmount"), agg(&p, "cancelledAmount"));
            prop_assert!(c + x <= a);
            prop_assert!(r <= c);
            let ev = sim.events("fuzz-ref-0001");
            let sum = |n: &str| ev.iter().filter(|e| e["name"] == n).map(|e| e["amount"]["value"].as_i64().unwrap()).sum::<i64>();
            prop_assert_eq!(sum("CAPTURED"), c);
            prop_assert_eq!(sum("REFUNDED"), r);
            prop_assert_eq!(sum("CANCELLED"), x);
        }
    }
}

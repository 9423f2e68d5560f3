//! The recording proxy (issue 15 point 1): a standalone simulator started with
//! an upstream forwards the shop's traffic to it unchanged and journals both
//! sides. A second standalone simulator stands in for the real test
//! environment; wiremock stands in for a slow one.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Value};
use url::Url;
use vipps_golive::config::{self, UrlRole};
use vipps_golive::simulator::proxy::{self, Upstream};
use vipps_golive::simulator::serve::{self, ServeOptions, Standalone};
use vipps_golive::simulator::{SimConfig, Simulator};

const CLIENT_ID: &str = "sim-client-id-123456";
const CLIENT_SECRET: &str = "sim-client-secret-123456";
const SUB_KEY: &str = "sim-subscription-key-123456";
const MSN: &str = "123456";

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().expect("addr")
}

async fn upstream_sim() -> Standalone {
    // The stand-in for the test environment has no control API, as the real one.
    let config = SimConfig {
        control_enabled: false,
        ..SimConfig::default()
    };
    serve::bind(Simulator::new(config), any_port())
        .await
        .expect("bind upstream")
}

async fn proxy_to(base: &str, timeout: Duration) -> Standalone {
    let url = config::guard_url("--proxy", base, UrlRole::ProxyUpstream)
        .expect("upstream accepted")
        .url;
    let upstream = Upstream::new(url, timeout).expect("client");
    serve::bind_with(
        Simulator::new(SimConfig::default()),
        any_port(),
        ServeOptions {
            upstream: Some(upstream),
        },
    )
    .await
    .expect("bind proxy")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn token(base: &str) -> String {
    let r = http()
        .post(format!("{base}/accesstoken/get"))
        .header("client_id", CLIENT_ID)
        .header("client_secret", CLIENT_SECRET)
        .header("Ocp-Apim-Subscription-Key", SUB_KEY)
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.expect("json")["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

fn api(method: reqwest::Method, url: String, token: &str) -> reqwest::RequestBuilder {
    http()
        .request(method, url)
        .header("Authorization", format!("Bearer {token}"))
        .header("Ocp-Apim-Subscription-Key", SUB_KEY)
        .header("Merchant-Serial-Number", MSN)
}

#[tokio::test]
async fn traffic_passes_through_byte_for_byte_and_both_sides_are_journaled_redacted() {
    let up = upstream_sim().await;
    let px = proxy_to(up.base_url(), proxy::DEFAULT_TIMEOUT).await;
    // A token from the upstream, fetched through the proxy, works upstream.
    let tok = token(px.base_url()).await;
    let reference = format!("proxy-{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    let body = json!({
        "amount": { "currency": "NOK", "value": 1000 },
        "paymentMethod": { "type": "WALLET" },
        "reference": reference,
        "userFlow": "WEB_REDIRECT",
        "returnUrl": "https://shop.example/r",
        "paymentDescription": "Through the proxy"
    });
    let created = api(
        reqwest::Method::POST,
        format!("{}/epayment/v1/payments", px.base_url()),
        &tok,
    )
    .header("Idempotency-Key", "proxy-create-1")
    .json(&body)
    .send()
    .await
    .expect("create");
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("json");
    let redirect = created["redirectUrl"].as_str().unwrap_or_default();
    assert!(
        redirect.starts_with(up.base_url()),
        "the upstream's own answer: {redirect}"
    );

    let get = |base: String| {
        let tok = tok.clone();
        let reference = reference.clone();
        async move {
            let r = api(
                reqwest::Method::GET,
                format!("{base}/epayment/v1/payments/{reference}"),
                &tok,
            )
            .send()
            .await
            .expect("get");
            (r.status().as_u16(), r.bytes().await.expect("bytes"))
        }
    };
    let (via_proxy, direct) =
        tokio::join!(get(px.base_url().to_owned()), get(up.base_url().to_owned()));
    assert_eq!(via_proxy.0, 200);
    assert_eq!(via_proxy, direct, "the same bytes through the proxy");
    // The proxy kept no payment of its own: it only forwards.
    assert_eq!(px.simulator().with_engine(|e| e.ledger.len()), 0);
    assert_eq!(up.simulator().with_engine(|e| e.ledger.len()), 1);

    // Both sides are in the proxy's journal, redacted.
    // Each exchange is journaled once its body has passed through.
    let mut journal = String::new();
    for _ in 0..200 {
        journal = String::from_utf8(px.simulator().with_engine(|e| e.journal.to_jsonl(None)))
            .expect("utf-8");
        if journal.lines().count() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let lines: Vec<Value> = journal
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(
        lines.len(),
        3,
        "token, create, one GET through the proxy: {journal}"
    );
    let create = lines
        .iter()
        .find(|l| l["method"] == "POST" && l["url"].as_str().unwrap_or("").ends_with("/payments"))
        .expect("create journaled");
    assert_eq!(create["status"], 201);
    assert_eq!(create["request_body"]["reference"], json!(reference));
    assert_eq!(create["response_body"]["reference"], json!(reference));
    for secret in [CLIENT_SECRET, SUB_KEY, tok.as_str()] {
        assert!(
            !journal.contains(secret),
            "a credential reached the journal"
        );
    }
    px.shutdown().await;
    up.shutdown().await;
}

#[tokio::test]
async fn the_control_api_stays_local() {
    let up = upstream_sim().await;
    let px = proxy_to(up.base_url(), proxy::DEFAULT_TIMEOUT).await;
    let r = http()
        .get(format!("{}/__sim/clock", px.base_url()))
        .send()
        .await
        .expect("clock");
    // The upstream has no control API (404); the proxy's own answers.
    assert_eq!(r.status(), 200);
    px.shutdown().await;
    up.shutdown().await;
}

/// GET of a payment through `px`, without credentials: whatever answers.
async fn get_any_payment(px: &Standalone) -> reqwest::Response {
    http()
        .get(format!(
            "{}/epayment/v1/payments/any-ref-0001",
            px.base_url()
        ))
        .send()
        .await
        .expect("an answer starts")
}

#[tokio::test]
async fn an_upstream_that_is_down_gives_a_502_problem() {
    // Bind and drop to get a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let px = proxy_to(&format!("http://127.0.0.1:{port}"), Duration::from_secs(5)).await;
    let r = get_any_payment(&px).await;
    assert_eq!(r.status(), 502);
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(ct.starts_with("application/problem+json"), "{ct}");
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["status"], 502);
    assert!(
        v["detail"]
            .as_str()
            .unwrap_or("")
            .contains("could not be reached"),
        "{v}"
    );
    // The failure is journaled too.
    let n = px
        .simulator()
        .with_engine(|e| e.journal.to_jsonl(None))
        .len();
    assert!(n > 0);
    px.shutdown().await;
}

#[tokio::test]
async fn a_slow_upstream_times_out_with_a_504_problem() {
    use wiremock::{matchers::any, Mock, MockServer, ResponseTemplate};
    let slow = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&slow)
        .await;
    let px = proxy_to(&slow.uri(), Duration::from_millis(300)).await;
    let r = http()
        .get(format!(
            "{}/epayment/v1/payments/any-ref-0001",
            px.base_url()
        ))
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status(), 504);
    let v: Value = r.json().await.expect("json");
    assert!(
        v["detail"]
            .as_str()
            .unwrap_or("")
            .contains("did not answer within 300 ms"),
        "{v}"
    );
    px.shutdown().await;
}

#[test]
fn a_production_upstream_is_refused_as_a_url_in_any_spelling() {
    for spelling in [
        "https://api.vipps.no",
        "https://API.VIPPS.NO.",
        "https://api%2evipps%2eno:443/",
        "api.vipps.no",
    ] {
        let why =
            config::guard_url("--proxy", spelling, UrlRole::ProxyUpstream).expect_err(spelling);
        assert!(why.contains("--env production"), "{spelling}: {why}");
    }
    let test = config::guard_url(
        "--proxy",
        "https://apitest.vipps.no",
        UrlRole::ProxyUpstream,
    )
    .expect("the test environment is a fine upstream");
    assert_eq!(
        test.url,
        Url::parse("https://apitest.vipps.no").expect("url")
    );
}

/// The shop's request body is streamed to the upstream as it arrives: a raw
/// upstream sees the first chunk while the shop still holds back the second.
/// A proxy that read the body whole first would never pass the first chunk on.
#[tokio::test]
async fn the_request_body_streams_up_as_the_shop_sends_it() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind(any_port())
        .await
        .expect("bind");
    let up = format!("http://{}", listener.local_addr().expect("addr"));
    let (saw_first, first_seen) = tokio::sync::oneshot::channel::<()>();
    let upstream = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.expect("accept");
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        let mut saw_first = Some(saw_first);
        loop {
            let n = sock.read(&mut buf).await.expect("read");
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got);
            if text.contains("FIRST-PART") {
                if let Some(tx) = saw_first.take() {
                    let _ = tx.send(());
                }
            }
            if text.contains("SECOND-PART") {
                break;
            }
        }
        let body = b"{\"ok\":true}";
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        sock.write_all(head.as_bytes()).await.expect("write");
        sock.write_all(body).await.expect("write");
        String::from_utf8_lossy(&got).into_owned()
    });
    let px = proxy_to(&up, Duration::from_secs(10)).await;

    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(2);
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let send = tokio::spawn(
        http()
            .post(format!(
                "{}/order-management/v2/ecom/receipts/ref-1",
                px.base_url()
            ))
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(stream))
            .send(),
    );
    tx.send(Ok(b"{\"note\":\"FIRST-PART\",".to_vec()))
        .await
        .expect("send first");
    tokio::time::timeout(Duration::from_secs(5), first_seen)
        .await
        .expect("the upstream saw the first chunk before the second was sent")
        .expect("signal");
    tx.send(Ok(b"\"more\":\"SECOND-PART\"}".to_vec()))
        .await
        .expect("send second");
    drop(tx);
    let r = send.await.expect("join").expect("response");
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.expect("body"), "{\"ok\":true}");
    let seen = upstream.await.expect("upstream");
    assert!(seen.contains("FIRST-PART") && seen.contains("SECOND-PART"));

    // The journal has the whole body the shop sent.
    let mut journal = String::new();
    for _ in 0..50 {
        journal = String::from_utf8(px.simulator().with_engine(|e| e.journal.to_jsonl(None)))
            .expect("utf8");
        if journal.contains("SECOND-PART") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        journal.contains("FIRST-PART") && journal.contains("SECOND-PART"),
        "{journal}"
    );
}

/// A streamed body that grows past the limit (no Content-Length to refuse it
/// up front) ends with the simulator's own 400 Problem, journaled.
#[tokio::test]
async fn a_streamed_body_over_the_limit_is_cut_off_with_a_problem() {
    let up = upstream_sim().await;
    let px = proxy_to(up.base_url(), Duration::from_secs(10)).await;
    let chunk = vec![b' '; 64 * 1024];
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..40).map(|_| Ok(chunk.clone())).collect();
    let r = http()
        .post(format!("{}/epayment/v1/payments", px.base_url()))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await;
    match r {
        Ok(r) => {
            assert_eq!(r.status(), 400);
            let body: Value = r.json().await.expect("problem");
            assert!(body.to_string().to_lowercase().contains("large"), "{body}");
        }
        // The proxy may answer and close before the shop has finished sending.
        Err(e) => assert!(e.is_request() || e.is_body(), "{e}"),
    }
    let journal =
        String::from_utf8(px.simulator().with_engine(|e| e.journal.to_jsonl(None))).expect("utf8");
    assert!(journal.contains("\"status\":400"), "{journal}");
}

#[tokio::test]
async fn a_proxy_whose_journal_cannot_be_written_forwards_nothing_unrecorded() {
    // Every write to /dev/full fails with ENOSPC.
    if !std::path::Path::new("/dev/full").exists() {
        eprintln!("notice: skipped: no /dev/full on this system");
        return;
    }
    let up = upstream_sim().await;
    let url = config::guard_url("--proxy", up.base_url(), UrlRole::ProxyUpstream)
        .expect("upstream accepted")
        .url;
    let sim = Simulator::new(SimConfig::default());
    sim.with_engine(|e| e.journal.stream_to(std::path::Path::new("/dev/full")))
        .expect("/dev/full opens");
    let px = serve::bind_with(
        sim,
        any_port(),
        ServeOptions {
            upstream: Some(Upstream::new(url, proxy::DEFAULT_TIMEOUT).expect("client")),
        },
    )
    .await
    .expect("bind proxy");
    let get = || async {
        let r = get_any_payment(&px).await;
        (r.status().as_u16(), r.text().await)
    };
    // The first answer is forwarded, but cannot end unrecorded: its body is
    // broken off once the line fails to be written.
    let (status, body) = get().await;
    assert!(
        body.is_err() || status == 503,
        "answered {status} in full without a record: {body:?}"
    );
    // From then on the proxy refuses before forwarding anything.
    for _ in 0..3 {
        let (status, body) = get().await;
        assert_eq!(status, 503, "{body:?}");
        assert!(
            body.expect("a Problem body")
                .contains("journal cannot be written"),
            "the Problem says why"
        );
    }
    px.shutdown().await;
    up.shutdown().await;
}

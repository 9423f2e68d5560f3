//! Recording proxy (issue 15 point 1): `vipps-golive simulator --proxy URL`
//! forwards each request of the shop to a real upstream (the test
//! environment) unchanged, answers with the upstream's answer, and records
//! both sides in the simulator's journal, redacted as everywhere, so `audit`
//! runs on real traffic. `/__sim/` stays local.
//!
//! - Both directions stream. The request body goes up as the shop sends it,
//!   within the same limit as the simulator's (1 MB, 3 MB for images): a
//!   declared Content-Length over it is refused before anything is sent, and a
//!   body that grows past it ends the upload and gets the simulator's 400
//!   Problem; a copy is kept for the journal. The response is streamed back to
//!   the shop as it arrives, and a copy of at most [`RECORDED_BODY_LIMIT`]
//!   bytes is kept for the journal. A response larger than [`RESPONSE_LIMIT`]
//!   is cut off (the connection then ends with an error, never a silent
//!   truncation).
//! - No answer from the upstream within the timeout gives 504, an upstream that
//!   cannot be reached 502; both with a Problem body that says so.
//! - Production upstreams are refused unless `--allow-real-money`.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::Frame;
use url::Url;

use super::{problem, Reply, SimRequest, SimResponse, Simulator};

/// Largest upstream response passed on.
pub const RESPONSE_LIMIT: usize = 16 * 1024 * 1024;
/// Largest part of a response body kept in the journal.
pub const RECORDED_BODY_LIMIT: usize = 1024 * 1024;
/// Default time the upstream has to answer (headers), and to finish the body.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where and how to forward.
#[derive(Debug, Clone)]
pub struct Upstream {
    base: Url,
    client: reqwest::Client,
    timeout: Duration,
}

impl Upstream {
    /// An upstream at `base`. The face lets `base` through the one guard
    /// (`config::guard_url`) first: this room takes it as decided.
    pub fn new(base: Url, timeout: Duration) -> Result<Upstream, String> {
        let client = reqwest::Client::builder()
            // The shop sees the upstream's redirects itself.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| format!("cannot build the proxy's HTTP client: {e}"))?;
        Ok(Upstream {
            base,
            client,
            timeout,
        })
    }

    /// The upstream URL for a request path and query.
    fn target(&self, path: &str, query: Option<&str>) -> String {
        let base = self.base.as_str().trim_end_matches('/');
        match query {
            Some(q) => format!("{base}{path}?{q}"),
            None => format!("{base}{path}"),
        }
    }

    /// The authority shown in messages (no path, no credentials).
    fn shown(&self) -> String {
        let host = self.base.host_str().unwrap_or("upstream");
        match self.base.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        }
    }
}

/// Hop-by-hop headers (RFC 9110 §7.6.1): never forwarded, either way.
fn hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// Request headers the HTTP client sets itself from the URL and the body.
fn set_by_client(name: &str) -> bool {
    hop_by_hop(name) || name == "host" || name == "content-length"
}

/// A response body fed by a channel: the upstream's chunks as they arrive.
#[derive(Debug)]
pub struct ChannelBody {
    rx: tokio::sync::mpsc::Receiver<Result<Bytes, ProxyBodyError>>,
}

/// The upstream's body broke off, or was larger than [`RESPONSE_LIMIT`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProxyBodyError(String);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = ProxyBodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, ProxyBodyError>>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(Ok(b))) => Poll::Ready(Some(Ok(Frame::data(b)))),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// What the proxy answers: status, headers, and a body still arriving.
#[derive(Debug)]
pub struct Forwarded {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: ChannelBody,
}

/// The shop's request body as it arrives, passed on chunk by chunk: at most
/// `limit` bytes (more ends the upload with an error, answered with the same
/// 400 Problem as the simulator's), with a copy kept for the journal.
pub struct StreamedBody {
    body: hyper::body::Incoming,
    limit: usize,
    /// How long the whole body may take to arrive (then 408).
    timeout: Duration,
}

impl StreamedBody {
    pub fn new(body: hyper::body::Incoming, limit: usize, timeout: Duration) -> StreamedBody {
        StreamedBody {
            body,
            limit,
            timeout,
        }
    }
}

/// What was streamed up: the copy for the journal, and whether the limit was hit.
#[derive(Default)]
struct Tee {
    kept: std::sync::Mutex<Vec<u8>>,
    over_limit: std::sync::atomic::AtomicBool,
    /// The limit the body was held to.
    limit: usize,
    /// The body did not arrive whole in time: the upload was cut.
    too_slow: std::sync::atomic::AtomicBool,
}

impl Tee {
    fn take(&self) -> Bytes {
        match self.kept.lock() {
            Ok(mut kept) => Bytes::from(std::mem::take(&mut *kept)),
            Err(_) => Bytes::new(),
        }
    }
}

#[derive(Debug)]
struct OverLimit(usize);

impl std::fmt::Display for OverLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the request body is larger than {} bytes", self.0)
    }
}

impl std::error::Error for OverLimit {}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug)]
struct SlowBody;

impl std::fmt::Display for SlowBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for SlowBody {}

/// The shop's body as a stream for reqwest, counting and copying as it goes.
fn upload(streamed: StreamedBody, tee: Arc<Tee>) -> reqwest::Body {
    use futures::StreamExt as _;
    use http_body_util::BodyExt as _;
    let limit = streamed.limit;
    let mut total = 0usize;
    let deadline = tokio::time::Instant::now() + streamed.timeout;
    let slow = tee.clone();
    // A body that trickles in is cut at the deadline and answered 408,
    // rather than holding the connection and the upstream's open.
    let data = futures::stream::unfold(
        (streamed.body.into_data_stream(), false),
        move |(mut body, ended)| {
            let slow = slow.clone();
            async move {
                if ended {
                    return None;
                }
                match tokio::time::timeout_at(deadline, body.next()).await {
                    Ok(Some(chunk)) => Some((chunk.map_err(BoxError::from), (body, false))),
                    Ok(None) => None,
                    Err(_) => {
                        slow.too_slow
                            .store(true, std::sync::atomic::Ordering::SeqCst);
                        Some((Err(BoxError::from(SlowBody)), (body, true)))
                    }
                }
            }
        },
    );
    let stream = data.map(
        move |chunk: Result<Bytes, BoxError>| -> Result<Bytes, BoxError> {
            let chunk = chunk?;
            total += chunk.len();
            if total > limit {
                tee.over_limit
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                return Err(Box::new(OverLimit(limit)));
            }
            if let Ok(mut kept) = tee.kept.lock() {
                kept.extend_from_slice(&chunk);
            }
            Ok(chunk)
        },
    );
    reqwest::Body::wrap_stream(sync_stream(stream))
}

/// reqwest wants a `Sync` stream; the body is only ever polled by one task.
fn sync_stream<S: futures::Stream + Send + 'static>(
    stream: S,
) -> impl futures::Stream<Item = S::Item> + Send + Sync + 'static {
    let stream = std::sync::Mutex::new(Box::pin(stream));
    futures::stream::poll_fn(move |cx| match stream.lock() {
        Ok(mut s) => s.as_mut().poll_next(cx),
        Err(_) => Poll::Ready(None),
    })
}

/// Forwards `req` to the upstream, its body streamed up as the shop sends it
/// (`req.body` is filled in for the journal afterwards). `Err` is a local
/// answer (400/502/504 Problem), already recorded in the journal.
pub async fn forward(
    sim: &Arc<Simulator>,
    upstream: &Upstream,
    mut req: SimRequest,
    body: StreamedBody,
) -> Result<Forwarded, SimResponse> {
    let started = crate::clock::Clock::now(&*sim.clock());
    let tee = Arc::new(Tee {
        limit: body.limit,
        ..Tee::default()
    });
    let body_timeout = body.timeout;
    let sent = request(upstream, &req, body, &tee).send().await;
    let streamed_up = tee.take();
    if !streamed_up.is_empty() {
        req.body = streamed_up;
    }
    if tee.too_slow.load(std::sync::atomic::Ordering::SeqCst) {
        let answer = problem::body_timeout(&req, body_timeout);
        return Err(recorded(sim, &req, answer, started).await);
    }
    if tee.over_limit.load(std::sync::atomic::Ordering::SeqCst) {
        let answer = problem::body_too_large(&req, tee.limit);
        return Err(recorded(sim, &req, answer, started).await);
    }
    match sent {
        Ok(resp) => Ok(relay(sim.clone(), req, resp, started)),
        Err(e) => {
            let answer = unanswered(upstream, &req, &e);
            Err(recorded(sim, &req, answer, started).await)
        }
    }
}

/// `answer` once it is in the journal; 503 when the journal cannot be written.
async fn recorded(
    sim: &Simulator,
    req: &SimRequest,
    answer: SimResponse,
    started: chrono::DateTime<chrono::Utc>,
) -> SimResponse {
    match sim.record(req, &Reply::from(answer.clone()), started).await {
        Ok(()) => answer,
        Err(e) => problem::journal_unavailable(req, &e),
    }
}

/// The upstream request: the shop's method, path, query and headers (those
/// the client does not set itself), and its body streamed through `tee`.
fn request(
    upstream: &Upstream,
    req: &SimRequest,
    body: StreamedBody,
    tee: &Arc<Tee>,
) -> reqwest::RequestBuilder {
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut call = upstream
        .client
        .request(method, upstream.target(&req.path, req.query.as_deref()))
        .timeout(upstream.timeout);
    for (k, v) in &req.headers {
        // The streamed body keeps the shop's Content-Length, so the upstream
        // sees the same framing.
        if !set_by_client(k) || k == "content-length" {
            call = call.header(k.as_str(), v.as_str());
        }
    }
    // HTTP/1.1: a request has a body only when it says so (Content-Length
    // or Transfer-Encoding); otherwise a POST goes up with an empty one, as
    // before streaming, and a GET with none.
    let announces_body = req
        .headers
        .iter()
        .any(|(k, _)| k == "content-length" || k == "transfer-encoding");
    let post_like = !matches!(req.method.as_str(), "GET" | "HEAD");
    if announces_body {
        call = call.body(upload(body, tee.clone()));
    } else if post_like {
        call = call.body(Bytes::new());
    }
    call
}

/// The local answer when the upstream gave none: 504 after the timeout,
/// else 502, each saying why without the URL's path.
fn unanswered(upstream: &Upstream, req: &SimRequest, e: &reqwest::Error) -> SimResponse {
    let (status, title, detail) = if e.is_timeout() {
        (
            504,
            "Gateway Timeout",
            format!(
                "The upstream `{}` did not answer within {} ms (recording proxy).",
                upstream.shown(),
                upstream.timeout.as_millis()
            ),
        )
    } else {
        (
            502,
            "Bad Gateway",
            format!(
                "The upstream `{}` could not be reached (recording proxy): {}.",
                upstream.shown(),
                connect_reason(e)
            ),
        )
    };
    problem::problem(req, status, title, &detail, None, &[])
}

/// Streams the upstream's answer down to the shop as it arrives, on a task
/// of its own, and journals the exchange when the answer has ended (or
/// broke off, or grew past [`RESPONSE_LIMIT`]).
fn relay(
    sim: Arc<Simulator>,
    req: SimRequest,
    resp: reqwest::Response,
    started: chrono::DateTime<chrono::Utc>,
) -> Forwarded {
    let status = resp.status().as_u16();
    let headers: Vec<(String, String)> = resp
        .headers()
        .iter()
        .filter(|(k, _)| !hop_by_hop(k.as_str()))
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let recorded_headers = headers.clone();
    tokio::spawn(async move {
        let (kept, broken, last) = pass_on(resp, &tx).await;
        let reply = Reply {
            response: SimResponse {
                status,
                headers: recorded_headers,
                body: kept,
            },
            delay: None,
            drop_connection: broken.is_some(),
            processing_until: None,
        };
        // The answer ends only once it is journaled: the last chunk (or the
        // end of the body) waits for the line, and a journal that cannot be
        // written breaks the answer off instead of completing it unrecorded.
        match sim.record(&req, &reply, started).await {
            Ok(()) => {
                if let Some(last) = last {
                    let _ = tx.send(Ok(last)).await;
                }
            }
            Err(e) => {
                let _ = tx.send(Err(ProxyBodyError(e.to_string()))).await;
            }
        }
    });
    Forwarded {
        status,
        headers,
        body: ChannelBody { rx },
    }
}

/// Passes the upstream's body on to the shop as it arrives, all but the last
/// chunk, which is returned to be sent once the exchange is journaled. Returns
/// the copy kept for the journal and why the body broke off, if it did.
async fn pass_on(
    mut resp: reqwest::Response,
    tx: &tokio::sync::mpsc::Sender<Result<Bytes, ProxyBodyError>>,
) -> (Vec<u8>, Option<String>, Option<Bytes>) {
    let mut kept: Vec<u8> = Vec::new();
    let mut total = 0usize;
    let mut held: Option<Bytes> = None;
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                total += chunk.len();
                if total > RESPONSE_LIMIT {
                    let why = format!("the upstream answer is larger than {RESPONSE_LIMIT} bytes");
                    let _ = tx.send(Err(ProxyBodyError(why.clone()))).await;
                    return (kept, Some(why), None);
                }
                let room = RECORDED_BODY_LIMIT.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if let Some(previous) = held.replace(chunk) {
                    // The shop may have gone away; the journal still gets the exchange.
                    let _ = tx.send(Ok(previous)).await;
                }
            }
            Ok(None) => return (kept, None, held),
            Err(e) => {
                let why = format!("the upstream answer broke off: {e}");
                if let Some(previous) = held.take() {
                    let _ = tx.send(Ok(previous)).await;
                }
                let _ = tx.send(Err(ProxyBodyError(why.clone()))).await;
                return (kept, Some(why), None);
            }
        }
    }
}

/// A short reason for a failed upstream call, without the URL (it may carry a path with ids).
fn connect_reason(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut cause: Option<&dyn std::error::Error> = e.source();
    let mut last = if e.is_connect() {
        "connection refused or failed".to_owned()
    } else {
        "request failed".to_owned()
    };
    while let Some(c) = cause {
        last = c.to_string();
        cause = c.source();
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_keeps_the_base_path_and_the_query() {
        let u = Upstream::new(
            Url::parse("http://127.0.0.1:1/base/").unwrap(),
            DEFAULT_TIMEOUT,
        )
        .unwrap();
        assert_eq!(
            u.target("/epayment/v1/payments", Some("a=1")),
            "http://127.0.0.1:1/base/epayment/v1/payments?a=1"
        );
    }
}

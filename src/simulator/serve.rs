//! Adapter 2: the standalone server on hyper (`vipps-golive simulator`, the
//! benchmark). Unlike wiremock it limits bodies before reading them whole,
//! keeps no per-request copies, survives accept errors (EMFILE), can really
//! drop a connection, and shuts down gracefully.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::proxy::{self, Upstream};
use super::webhooks;
use super::{om, problem, SimConfig, SimRequest, SimResponse, Simulator};

/// The body of an answer: the engine's, whole, or the upstream's, streamed.
type ServeBody = Either<Full<Bytes>, proxy::ChannelBody>;

/// Options of [`bind_with`].
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Forward everything but `/__sim/` to this upstream (recording proxy).
    pub upstream: Option<Upstream>,
}

/// How long shutdown waits for open connections to finish their request.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Returned by the service to make hyper close the connection without answering.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped after the operation (injected fault)")
    }
}

impl std::error::Error for DropConnection {}

/// A running standalone simulator.
#[derive(Debug)]
pub struct Standalone {
    addr: SocketAddr,
    base_url: String,
    stop: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
    sim: Arc<Simulator>,
}

impl Standalone {
    /// `http://host:port`, as printed and as the engine puts in redirect URLs.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address (the port is the real one when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The simulator served.
    pub fn simulator(&self) -> &Arc<Simulator> {
        &self.sim
    }

    /// Stops accepting, lets open requests finish (up to [`SHUTDOWN_GRACE`]),
    /// stops the ticker and the webhook dispatcher.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
    }
}

/// Binds `addr` and serves `sim` until [`Standalone::shutdown`]. Also starts the
/// webhook dispatcher and a 1 s tick (payments expire, webhooks fire without traffic).
pub async fn bind(sim: Arc<Simulator>, addr: SocketAddr) -> io::Result<Standalone> {
    bind_with(sim, addr, ServeOptions::default()).await
}

/// [`bind`], with options (the recording proxy).
pub async fn bind_with(
    sim: Arc<Simulator>,
    addr: SocketAddr,
    options: ServeOptions,
) -> io::Result<Standalone> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let shown = if local.ip().is_unspecified() {
        SocketAddr::new(IpAddr::from([127, 0, 0, 1]), local.port())
    } else {
        local
    };
    let base_url = format!("http://{shown}");
    sim.set_base_url(&base_url);
    let config = sim.with_engine(|e| e.config.clone());
    let (stop, stopped) = watch::channel(false);
    let upstream = options.upstream.map(Arc::new);
    let server = tokio::spawn(serve(
        sim.clone(),
        listener,
        Arc::new(config),
        upstream,
        stopped,
    ));
    Ok(Standalone {
        addr: local,
        base_url,
        stop,
        server,
        sim,
    })
}

async fn serve(
    sim: Arc<Simulator>,
    listener: TcpListener,
    config: Arc<SimConfig>,
    upstream: Option<Arc<Upstream>>,
    mut stopped: watch::Receiver<bool>,
) {
    let dispatcher = webhooks::spawn_dispatcher(&sim);
    let ticker = {
        let sim = sim.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(1));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                sim.tick();
            }
        })
    };
    let mut connections = JoinSet::new();
    loop {
        // Reap finished connection tasks so the set stays small.
        while connections.try_join_next().is_some() {}
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(connection(
                        sim.clone(),
                        config.clone(),
                        upstream.clone(),
                        stream,
                        stopped.clone(),
                    ));
                }
                Err(e) => {
                    // EMFILE and friends: wait for descriptors to free up instead
                    // of ending the loop for good (as wiremock's does).
                    tracing::warn!(error = %e, "accept failed; retrying shortly");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    drop(listener);
    ticker.abort();
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("connections still open after the grace period; closing them");
    }
    connections.shutdown().await;
    dispatcher.shutdown().await;
}

async fn connection(
    sim: Arc<Simulator>,
    config: Arc<SimConfig>,
    upstream: Option<Arc<Upstream>>,
    stream: tokio::net::TcpStream,
    mut stopped: watch::Receiver<bool>,
) {
    let service = service_fn(move |req| handle(sim.clone(), config.clone(), upstream.clone(), req));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30));
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stopped.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// One request: limit the body, run the engine, wait out any delay (outside
/// every lock), answer or drop the connection.
async fn handle(
    sim: Arc<Simulator>,
    config: Arc<SimConfig>,
    upstream: Option<Arc<Upstream>>,
    req: Request<Incoming>,
) -> Result<Response<ServeBody>, DropConnection> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let limit = om::body_limit(&config, &path);
    let head = || {
        SimRequest::new(
            parts.method.as_str(),
            &path,
            parts.uri.query(),
            Vec::<(String, String)>::new(),
            Bytes::new(),
        )
    };
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Ok(to_response(problem::body_too_large(&head(), limit)));
    }
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            let value = match v.to_str() {
                Ok(text) => text.to_owned(),
                Err(_) => String::from_utf8_lossy(v.as_bytes()).into_owned(),
            };
            (k.as_str().to_owned(), value)
        })
        .collect();
    if let Some(up) = upstream.as_deref() {
        // `/__sim/` stays local; everything else goes to the real upstream,
        // the body streamed up as it arrives (within the same limit).
        if !(path.starts_with("/__sim/") || path == "/__sim") {
            // Nothing goes up that could not be recorded.
            if let Err(e) = sim.journal_check() {
                return Ok(to_response(problem::journal_unavailable(&head(), &e)));
            }
            let req = SimRequest::new(
                parts.method.as_str(),
                &path,
                parts.uri.query(),
                headers,
                Bytes::new(),
            );
            let streamed = proxy::StreamedBody::new(body, limit, config.body_read_timeout);
            return Ok(match proxy::forward(&sim, up, req, streamed).await {
                Ok(f) => {
                    let mut out = Response::new(Either::Right(f.body));
                    *out.status_mut() = hyper::StatusCode::from_u16(f.status)
                        .unwrap_or(hyper::StatusCode::BAD_GATEWAY);
                    set_headers(&mut out, f.headers);
                    out
                }
                Err(local) => to_response(local),
            });
        }
    }
    // A request without a body (a GET) needs no timer to read it.
    let read = if hyper::body::Body::is_end_stream(&body) {
        Ok(Limited::new(body, limit).collect().await)
    } else {
        tokio::time::timeout(
            config.body_read_timeout,
            Limited::new(body, limit).collect(),
        )
        .await
    };
    let Ok(read) = read else {
        return Ok(to_response(problem::body_timeout(
            &head(),
            config.body_read_timeout,
        )));
    };
    let bytes = match read {
        Ok(b) => b.to_bytes(),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return Ok(to_response(problem::body_too_large(&head(), limit)));
        }
        // The client went away mid-body: nobody to answer.
        Err(_) => return Err(DropConnection),
    };
    let sim_req = SimRequest::new(
        parts.method.as_str(),
        &path,
        parts.uri.query(),
        headers,
        bytes,
    );
    let reply = sim.handle_async(sim_req).await;
    sim.wait_out(&reply).await;
    if reply.drop_connection {
        return Err(DropConnection);
    }
    Ok(to_response(reply.response))
}

fn to_response(resp: SimResponse) -> Response<ServeBody> {
    let mut out = Response::new(Either::Left(Full::new(Bytes::from(resp.body))));
    *out.status_mut() = hyper::StatusCode::from_u16(resp.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    set_headers(&mut out, resp.headers);
    out
}

fn set_headers(out: &mut Response<ServeBody>, list: Vec<(String, String)>) {
    let headers = out.headers_mut();
    for (k, v) in list {
        if let (Ok(k), Ok(v)) = (
            hyper::header::HeaderName::try_from(k),
            hyper::header::HeaderValue::try_from(v),
        ) {
            headers.append(k, v);
        }
    }
}

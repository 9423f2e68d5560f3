//! Benchmark of the standalone simulator (issue 3, point 13).
//!
//! `cargo bench --bench simulator` (or `benches/run.sh`). Serves the simulator
//! on 127.0.0.1 in this process and drives it with a minimal HTTP/1.1
//! keep-alive load generator over raw TCP (so the client costs as little CPU as
//! possible on a 2-core machine), then reports:
//! - GET payment: requests per second with `BENCH_CONNECTIONS` (64) connections
//! - create -> force approve -> capture: chains per second, 64 connections
//! - resident memory (VmRSS) with `BENCH_PAYMENTS` (100 000) payments held
//! - the journal's cost (issue 22): GET payment against a bare hyper server,
//!   the simulator with its journal in memory and with a journal file, in
//!   `BENCH_ROUNDS` (3 x `BENCH_SECONDS`) rotated rounds of `BENCH_SLICE_MS`
//!   (1000) each (`BENCH_JOURNAL_COST=only`: this alone;
//!   `BENCH_TARGETS=file`: only the targets named, of `bare,memory,file`)
//!
//! Every phase is bounded in time (`BENCH_SECONDS`, default 5) and count.
//! Rate limits are off (they would cap GET at 120/min per reference); the
//! journal is on with its default capacity, as a shop would run it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use vipps_golive::simulator::serve;
use vipps_golive::simulator::{SimConfig, SimRequest, Simulator};

/// The binary's allocator (src/main.rs): the server measured as it ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const MSN: &str = "123456";
const KEY: &str = "sim-subscription-key-123456";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One keep-alive connection that sends a request and reads one response.
struct Conn {
    stream: BufReader<TcpStream>,
    host: String,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(Conn {
            stream: BufReader::with_capacity(16 * 1024, s),
            host: addr.to_string(),
            buf: Vec::with_capacity(4096),
        })
    }

    /// Sends one request; returns (status, body).
    async fn call(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let mut req = format!("{method} {path} HTTP/1.1\r\nhost: {}\r\n", self.host);
        for (k, v) in headers {
            req.push_str(k);
            req.push_str(": ");
            req.push_str(v);
            req.push_str("\r\n");
        }
        if !body.is_empty() || method != "GET" {
            req.push_str(&format!(
                "content-type: application/json\r\ncontent-length: {}\r\n",
                body.len()
            ));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        self.stream.get_mut().write_all(&bytes).await?;
        self.read_response().await
    }

    async fn read_response(&mut self) -> std::io::Result<(u16, Vec<u8>)> {
        self.buf.clear();
        // Scan buffered chunks for the end of the head instead of reading byte by byte.
        loop {
            let chunk = self.stream.fill_buf().await?;
            if chunk.is_empty() {
                return Err(std::io::Error::other("connection closed"));
            }
            let start = self.buf.len().saturating_sub(3);
            self.buf.extend_from_slice(chunk);
            let n = chunk.len();
            if let Some(end) = self.buf[start..]
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|p| start + p + 4)
            {
                // Give back what belongs to the body.
                let extra = self.buf.len() - end;
                self.stream.consume(n - extra);
                self.buf.truncate(end);
                break;
            }
            self.stream.consume(n);
            if self.buf.len() > 64 * 1024 {
                return Err(std::io::Error::other("response head too large"));
            }
        }
        let head = String::from_utf8_lossy(&self.buf);
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        let mut body = vec![0; len];
        self.stream.read_exact(&mut body).await?;
        Ok((status, body))
    }
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

struct Auth {
    headers: Vec<(String, String)>,
}

impl Auth {
    fn list(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

async fn token(addr: SocketAddr) -> Auth {
    let mut c = Conn::open(addr).await.expect("connect");
    let (status, body) = c
        .call(
            "POST",
            "/accesstoken/get",
            &[
                ("client_id", "sim-client-id-123456"),
                ("client_secret", "sim-client-secret-123456"),
                ("ocp-apim-subscription-key", KEY),
                ("merchant-serial-number", MSN),
            ],
            b"",
        )
        .await
        .expect("token request");
    let token = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["access_token"].as_str().map(str::to_owned))
        .unwrap_or_default();
    if status != 200 {
        eprintln!("warning: token endpoint answered {status}; figures below measure refusals");
    }
    Auth {
        headers: vec![
            ("authorization".into(), format!("Bearer {token}")),
            ("ocp-apim-subscription-key".into(), KEY.into()),
            ("merchant-serial-number".into(), MSN.into()),
            ("vipps-system-name".into(), "bench".into()),
            ("vipps-system-version".into(), "1.0.0".into()),
            ("vipps-system-plugin-name".into(), "bench".into()),
            ("vipps-system-plugin-version".into(), "1.0.0".into()),
        ],
    }
}

fn create_body(reference: &str) -> Vec<u8> {
    format!(
        r#"{{"amount":{{"currency":"NOK","value":1000}},"paymentMethod":{{"type":"WALLET"}},"reference":"{reference}","userFlow":"WEB_REDIRECT","returnUrl":"https://shop.example/return","paymentDescription":"Bench"}}"#
    )
    .into_bytes()
}

async fn create(c: &mut Conn, auth: &Auth, reference: &str) -> u16 {
    let mut h = auth.list();
    let key = format!("k-{reference}");
    h.push(("idempotency-key", &key));
    c.call("POST", "/epayment/v1/payments", &h, &create_body(reference))
        .await
        .map(|(s, _)| s)
        .unwrap_or(0)
}

/// Runs `f` on `conns` connections; each stops at the deadline (`seconds`) or when its own count is done.
async fn phase<F, Fut>(
    name: &str,
    addr: SocketAddr,
    conns: u64,
    seconds: u64,
    f: F,
) -> (u64, f64, u64)
where
    F: Fn(Conn, u64, Instant) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = (u64, u64)> + Send + 'static,
{
    let (ops, secs, errors) = drive(addr, conns, Duration::from_secs(seconds), f).await;
    println!(
        "{name}: {ops} in {secs:.2} s = {:.0}/s ({errors} non-2xx or failed)",
        ops as f64 / secs
    );
    (ops, secs, errors)
}

/// [`phase`] without a word: (done, seconds, non-2xx or failed). The clock
/// starts once every connection is open.
async fn drive<F, Fut>(addr: SocketAddr, conns: u64, span: Duration, f: F) -> (u64, f64, u64)
where
    F: Fn(Conn, u64, Instant) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = (u64, u64)> + Send + 'static,
{
    let mut open = Vec::new();
    for i in 0..conns {
        open.push((i, Conn::open(addr).await.expect("connect")));
    }
    let started = Instant::now();
    let deadline = started + span;
    let tasks: Vec<_> = open
        .into_iter()
        .map(|(i, conn)| tokio::spawn(f.clone()(conn, i, deadline)))
        .collect();
    let mut ops = 0;
    let mut errors = 0;
    for t in tasks {
        if let Ok((o, e)) = t.await {
            ops += o;
            errors += e;
        }
    }
    (ops, started.elapsed().as_secs_f64(), errors)
}

/// Each connection GETs its own payment (`bench-get-NNNNNN`; the bare
/// server answers anything) until the deadline: (200s, others).
fn get_payments(auth: &Arc<Auth>) -> impl Fn(Conn, u64, Instant) -> GetLoop + Send + Sync + Clone {
    let a = auth.clone();
    move |mut c, i, deadline| {
        let a = a.clone();
        Box::pin(async move {
            let path = format!("/epayment/v1/payments/bench-get-{i:06}");
            let h = a.list();
            let (mut ok, mut bad) = (0, 0);
            while Instant::now() < deadline {
                match c.call("GET", &path, &h, b"").await {
                    Ok((200, _)) => ok += 1,
                    Ok(_) => bad += 1,
                    Err(_) => {
                        bad += 1;
                        break;
                    }
                }
            }
            (ok, bad)
        })
    }
}

type GetLoop = std::pin::Pin<Box<dyn std::future::Future<Output = (u64, u64)> + Send>>;

fn main() {
    let conns = env_or("BENCH_CONNECTIONS", 64);
    let seconds = env_or("BENCH_SECONDS", 5);
    let payments = env_or("BENCH_PAYMENTS", 100_000);
    let workers = env_or("BENCH_WORKERS", 2) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        // `BENCH_JOURNAL_COST=only`: the journal's cost alone (for a profiler).
        if std::env::var("BENCH_JOURNAL_COST").as_deref() == Ok("only") {
            journal_cost(conns, seconds).await;
            return;
        }
        let rss_start = rss_mb();
        let sim = Simulator::new(SimConfig {
            rate_limits: false,
            journal_capacity: env_or("BENCH_JOURNAL", 10_000) as usize,
            ..SimConfig::default()
        });
        let server = serve::bind(sim.clone(), "127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("bind");
        let addr = server.local_addr();
        println!(
            "simulator on {} ({conns} connections, {seconds} s per phase, {workers} runtime workers, {} cores)",
            server.base_url(),
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        let auth = Arc::new(token(addr).await);

        // One payment per connection to read back.
        let mut c = Conn::open(addr).await.expect("connect");
        for i in 0..conns {
            create(&mut c, &auth, &format!("bench-get-{i:06}")).await;
        }
        // Memory with `payments` payments held, measured first so nothing else counts.
        let held_before = rss_mb();
        let per = payments.div_ceil(conns);
        let a = auth.clone();
        let (made, secs, _) = phase(
            "create for memory",
            addr,
            conns,
            3600,
            move |mut c, i, _deadline| {
                let a = a.clone();
                async move {
                    let (mut ok, mut bad) = (0, 0);
                    for n in 0..per {
                        match create(&mut c, &a, &format!("bench-mem-{i:03}-{n:08}")).await {
                            201 | 200 => ok += 1,
                            _ => bad += 1,
                        }
                    }
                        (ok, bad)
                }
            },
        )
        .await;
        let _ = secs;
        let rss = rss_mb();
        println!(
            "memory: RSS {rss:.0} MB with {made} more payments held (RSS at start {rss_start:.0} MB, before this phase {held_before:.0} MB; includes the journal of the last {} requests and the load generator; the GET and chain phases below then run among these payments)",
            SimConfig::default().journal_capacity
        );
        phase("GET payment", addr, conns, seconds, get_payments(&auth)).await;

        // The engine alone (no HTTP), one thread: what each GET costs under the lock.
        {
            let mut h: Vec<(String, String)> = auth.headers.clone();
            h.push(("host".into(), addr.to_string()));
            let started = Instant::now();
            let mut n = 0u32;
            while started.elapsed() < Duration::from_secs(1) {
                let req = SimRequest::new(
                    "GET",
                    "/epayment/v1/payments/bench-get-000000",
                    None,
                    h.clone(),
                    bytes::Bytes::new(),
                );
                let reply = sim.handle(req);
                assert_eq!(reply.response.status, 200);
                n += 1;
            }
            println!(
                "engine alone, one thread: {n} GET/s ({:.1} us each, lock held for most of it)",
                1e6 / f64::from(n)
            );
        }

        let a = auth.clone();
        if env_or("BENCH_CHAINS", 1) == 1 {
        phase(
            "create -> approve -> capture chains",
            addr,
            conns,
            seconds,
            move |mut c, i, deadline| {
                let a = a.clone();
                async move {
                    let (mut ok, mut bad) = (0, 0);
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        n += 1;
                        let r = format!("bench-chain-{i:03}-{n:08}");
                        let created = create(&mut c, &a, &r).await;
                        let mut h = a.list();
                        let key = format!("a-{r}");
                        h.push(("idempotency-key", &key));
                        let approved = c
                            .call(
                                "POST",
                                &format!("/epayment/v1/test/payments/{r}/approve"),
                                &h,
                                br#"{"customer":{"phoneNumber":"4791234567"}}"#,
                            )
                            .await
                            .map(|(s, _)| s)
                            .unwrap_or(0);
                        let key = format!("c-{r}");
                        let mut h = a.list();
                        h.push(("idempotency-key", &key));
                        let captured = c
                            .call(
                                "POST",
                                &format!("/epayment/v1/payments/{r}/capture"),
                                &h,
                                br#"{"modificationAmount":{"currency":"NOK","value":1000}}"#,
                            )
                            .await
                            .map(|(s, _)| s)
                            .unwrap_or(0);
                        if (200..300).contains(&created)
                            && (200..300).contains(&approved)
                            && (200..300).contains(&captured)
                        {
                            ok += 1;
                        } else {
                            if bad == 0 && i == 0 {
                                eprintln!("chain statuses: create {created}, approve {approved}, capture {captured}");
                            }
                            bad += 1;
                        }
                    }
                        (ok, bad)
                }
            },
        )
        .await;

        }

        server.shutdown().await;

        // Issue 22: what journaling each request before its answer costs,
        // against the ceiling of a bare hyper server on the same machine.
        if std::env::var("BENCH_JOURNAL_COST").as_deref() != Ok("0") {
            journal_cost(conns, seconds).await;
        }

        // Issue 15: latency the recording proxy adds (median of sequential GETs,
        // one keep-alive connection each, against a local upstream). Goal < 1 ms.
        if env_or("BENCH_PROXY", 1) == 1 {
            proxy_latency(env_or("BENCH_PROXY_REQUESTS", 2000) as usize).await;
        }

        // Optional: what the wiremock adapter retains per request (it keeps every
        // matched request; see simulator::mock).
        let mock_requests = env_or("BENCH_MOCK_REQUESTS", 0);
        if mock_requests > 0 {
            let vipps = vipps_golive::simulator::mock::SimServer::start_with(SimConfig {
                rate_limits: false,
                journal_capacity: 0,
                ..SimConfig::default()
            })
            .await;
            let addr: SocketAddr = vipps
                .uri()
                .trim_start_matches("http://")
                .parse()
                .expect("mock address");
            let auth = token(addr).await;
            let mut c = Conn::open(addr).await.expect("connect");
            create(&mut c, &auth, "bench-mock-0001").await;
            let h = auth.list();
            let before = rss_mb();
            for _ in 0..mock_requests {
                let _ = c.call("GET", "/epayment/v1/payments/bench-mock-0001", &h, b"").await;
            }
            let after = rss_mb();
            println!(
                "wiremock adapter: RSS grew {:.0} MB over {mock_requests} GETs ({:.2} KB a request, journal off)",
                after - before,
                (after - before) * 1024.0 / mock_requests as f64
            );
        }
    });
}

/// A bare hyper server answering every request with a fixed 200 of the size
/// of a GET payment answer: no engine, no journal. The ceiling of this machine
/// for the server side of a GET (hyper, loopback TCP, the load generator).
async fn bare_server(body: Vec<u8>) -> SocketAddr {
    use hyper::server::conn::http1;
    use hyper_util::rt::TokioIo;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind bare");
    let addr = listener.local_addr().expect("addr");
    let body = bytes::Bytes::from(body);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let body = body.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_req| {
                    let body = body.clone();
                    async move {
                        let mut resp = hyper::Response::new(http_body_util::Full::new(body));
                        resp.headers_mut().insert(
                            "content-type",
                            hyper::header::HeaderValue::from_static(
                                "application/json; charset=utf-8",
                            ),
                        );
                        Ok::<_, std::convert::Infallible>(resp)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// The bare-server ceiling, the simulator with its journal in memory only,
/// and the simulator journaling every request to a file before answering.
///
/// The three are served side by side and measured in turns, `BENCH_ROUNDS`
/// (3 x `seconds`) rounds of one slice (`BENCH_SLICE_MS`, 1000) each, the
/// order rotated every round. The figure is the ratio of the sums; each
/// round's ratio is kept too, and their median and range printed.
async fn journal_cost(conns: u64, seconds: u64) {
    // `BENCH_JOURNAL_DIR`: where the journal file goes (default: the temp folder).
    let dir = match std::env::var_os("BENCH_JOURNAL_DIR") {
        Some(d) => tempfile::tempdir_in(d),
        None => tempfile::tempdir(),
    }
    .expect("tempdir");
    let mut servers = Vec::new();
    let mut body = Vec::new();
    for file in [false, true] {
        let sim = Simulator::new(SimConfig {
            rate_limits: false,
            ..SimConfig::default()
        });
        if file {
            sim.with_engine(|e| e.journal.stream_to(&dir.path().join("bench.jsonl")))
                .expect("journal file");
        }
        let server = serve::bind(sim.clone(), "127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("bind");
        let addr = server.local_addr();
        let auth = Arc::new(token(addr).await);
        let mut c = Conn::open(addr).await.expect("connect");
        for i in 0..conns {
            create(&mut c, &auth, &format!("bench-get-{i:06}")).await;
        }
        let h = auth.list();
        body = c
            .call("GET", "/epayment/v1/payments/bench-get-000000", &h, b"")
            .await
            .expect("GET")
            .1;
        servers.push((sim, server, addr, auth));
    }
    let bare = bare_server(body).await;
    let none = Arc::new(Auth {
        headers: Vec::new(),
    });
    let targets = [
        ("bare hyper server, fixed answer", bare, none),
        (
            "GET payment, journal in memory only",
            servers[0].2,
            servers[0].3.clone(),
        ),
        (
            "GET payment, journal file (written before each answer)",
            servers[1].2,
            servers[1].3.clone(),
        ),
    ];
    // `BENCH_TARGETS=file` (or `bare,memory`...): only these, for a profiler.
    let wanted = match std::env::var("BENCH_TARGETS") {
        Ok(list) => ["bare", "memory", "file"].map(|t| list.split(',').any(|w| w.trim() == t)),
        Err(_) => [true; 3],
    };
    // This machine's speed drifts by a quarter within seconds (other
    // tenants): the three are measured in short slices, taking turns, the
    // order rotated every round, so each ratio compares figures taken within
    // a second or two, and the sums over all rounds compare like with like.
    let rounds = env_or("BENCH_ROUNDS", 3 * seconds).max(1) as usize;
    let slice = Duration::from_millis(env_or("BENCH_SLICE_MS", 1000));
    let mut counts = [0u64; 3];
    let mut ratios: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        let mut rates = [0.0; 3];
        for k in 0..3 {
            let t = (round + k) % 3;
            if !wanted[t] {
                continue;
            }
            let (_, addr, auth) = &targets[t];
            let (n, secs, _) = drive(*addr, conns, slice, get_payments(auth)).await;
            counts[t] += n;
            rates[t] = n as f64 / secs;
        }
        for j in 0..2 {
            ratios[j].push(100.0 * rates[j + 1] / rates[0]);
        }
    }
    let total = slice.as_secs_f64() * rounds as f64;
    for (t, (name, _, _)) in targets.iter().enumerate() {
        if wanted[t] {
            println!(
                "{name}: {} in {rounds} slices of {} ms = {:.0}/s",
                counts[t],
                slice.as_millis(),
                counts[t] as f64 / total
            );
        }
    }
    {
        // What one line costs to redact and serialise, on one thread.
        let sim = &servers[0].0;
        let rounds = env_or("BENCH_REDACT_ROUNDS", 1);
        for _ in 1..rounds {
            let _ = sim.with_engine(|e| e.journal.to_jsonl(Some(5_000)));
        }
        let started = Instant::now();
        let text = sim.with_engine(|e| e.journal.to_jsonl(Some(5_000)));
        let n = text.iter().filter(|b| **b == b'\n').count();
        println!(
            "redaction alone, one thread: {n} journal lines in {:.0} ms = {:.1} us a line",
            started.elapsed().as_secs_f64() * 1e3,
            started.elapsed().as_secs_f64() * 1e6 / n.max(1) as f64
        );
    }
    for (_, server, _, _) in servers {
        server.shutdown().await;
    }
    let lines =
        std::fs::read_to_string(dir.path().join("bench.jsonl")).map_or(0, |t| t.lines().count());
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let [memory, file] = [1, 2].map(|t| 100.0 * counts[t] as f64 / counts[0].max(1) as f64);
    println!(
        "journal cost: the simulator serves {memory:.0}% of the bare-server ceiling with its journal in memory, {file:.0}% journaling to a file ({rounds} rounds of {} ms each; per round, medians {:.0}% and {:.0}%, files from {:.0}% to {:.0}%; {lines} lines written; goal >= 50%)",
        slice.as_millis(),
        median(&mut ratios[0]),
        median(&mut ratios[1]),
        ratios[1].first().copied().unwrap_or(f64::NAN),
        ratios[1].last().copied().unwrap_or(f64::NAN),
    );
}

/// Median time of `n` sequential GETs of one payment on one connection.
async fn median_get(addr: SocketAddr, auth: &Auth, reference: &str, n: usize) -> Duration {
    let mut c = Conn::open(addr).await.expect("connect");
    let h = auth.list();
    let path = format!("/epayment/v1/payments/{reference}");
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let (status, _) = c.call("GET", &path, &h, b"").await.expect("GET");
        assert_eq!(status, 200, "GET through {addr}");
        times.push(started.elapsed());
    }
    times.sort();
    times[n / 2]
}

async fn proxy_latency(n: usize) {
    use vipps_golive::simulator::proxy::{self, Upstream};
    let upstream = serve::bind(
        Simulator::new(SimConfig {
            rate_limits: false,
            journal_capacity: 0,
            ..SimConfig::default()
        }),
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("bind upstream");
    let url = vipps_golive::config::guard_url(
        "--proxy",
        upstream.base_url(),
        vipps_golive::config::UrlRole::ProxyUpstream,
    )
    .expect("upstream")
    .url;
    let px = serve::bind_with(
        Simulator::new(SimConfig::default()),
        "127.0.0.1:0".parse().expect("addr"),
        serve::ServeOptions {
            upstream: Some(Upstream::new(url, proxy::DEFAULT_TIMEOUT).expect("client")),
        },
    )
    .await
    .expect("bind proxy");
    let auth = token(upstream.local_addr()).await;
    let mut c = Conn::open(upstream.local_addr()).await.expect("connect");
    create(&mut c, &auth, "bench-proxy-0001").await;
    // Warm both paths (connections, allocator) before measuring.
    median_get(upstream.local_addr(), &auth, "bench-proxy-0001", 200).await;
    median_get(px.local_addr(), &auth, "bench-proxy-0001", 200).await;
    let direct = median_get(upstream.local_addr(), &auth, "bench-proxy-0001", n).await;
    let proxied = median_get(px.local_addr(), &auth, "bench-proxy-0001", n).await;
    let added = proxied.saturating_sub(direct);
    println!(
        "recording proxy: median GET {} us direct, {} us through the proxy: {} us added (goal < 1000 us; {n} sequential GETs each, journal on)",
        direct.as_micros(),
        proxied.as_micros(),
        added.as_micros()
    );
    px.shutdown().await;
    upstream.shutdown().await;
}

//! `vipps-golive simulator`: the standalone simulator, or a recording proxy
//! in front of a Vipps environment. The face of [`crate::simulator::serve`]:
//! it resolves the upstream through the one guard, prints the banner and
//! waits for Ctrl-C; the server itself takes plain values.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::cli::{ProxyEnv, SimulatorArgs};
use crate::config::{self, UrlRole, PRODUCTION_BASE_URL, TEST_BASE_URL};
use crate::simulator::proxy::{self, Upstream};
use crate::simulator::serve::{self, ServeOptions};
use crate::simulator::{units, SimConfig, Simulator};
use crate::Error;

// The banner goes through `output`, which ignores a closed pipe or a full
// disk: `simulator | head -1` must not panic the server it started.
macro_rules! say {
    ($($t:tt)*) => { crate::output::result(&format!($($t)*)) };
}
macro_rules! tell {
    ($($t:tt)*) => { crate::output::diag(&format!($($t)*)) };
}

/// How `vipps-golive simulator` serves: plain values, so the server does not
/// depend on the command line (the CLI maps its arguments to this).
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to bind (`localhost` or an IP address).
    pub host: String,
    /// Port (0 picks a free one).
    pub port: u16,
    /// Also write every request to this JSONL file.
    pub journal: Option<PathBuf>,
    /// Serve `/__sim/`.
    pub control: bool,
    /// Apply the rate limits of behaviour.md §8.
    pub rate_limits: bool,
    /// Sales units and fidelity switches (see [`super::units`]).
    pub units: Option<PathBuf>,
    /// Processing time of each capture, refund and cancel (0: off).
    pub processing: Duration,
    /// Recording proxy: forward every request except `/__sim/` to this
    /// upstream, already let through by [`crate::config::guard_url`].
    pub proxy: Option<Url>,
    /// The upstream is Vipps production (`--env production --allow-real-money`).
    pub allow_real_money: bool,
    /// How long the upstream has to answer.
    pub proxy_timeout: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            host: "127.0.0.1".into(),
            port: 7777,
            journal: None,
            control: false,
            rate_limits: true,
            units: None,
            processing: Duration::ZERO,
            proxy: None,
            allow_real_money: false,
            proxy_timeout: proxy::DEFAULT_TIMEOUT,
        }
    }
}

impl ServeConfig {
    /// The engine's configuration: defaults, then the flags, then the units file.
    pub fn sim_config(&self) -> Result<SimConfig, Error> {
        let mut config = SimConfig {
            control_enabled: self.control,
            rate_limits: self.rate_limits,
            processing: self.processing,
            ..SimConfig::default()
        };
        // The in-memory journal is read only through the control API
        // (`GET /__sim/journal`, `audit --simulator`): without it, none is
        // kept (10 000 exchanges, some 30 MB; `--journal FILE` still gets
        // every line).
        if !self.control {
            config.journal_capacity = 0;
        }
        if let Some(path) = &self.units {
            units::load(path, &mut config).map_err(|e| Error::Usage(e.to_string()))?;
        }
        Ok(config)
    }
}

/// Maps the flags to the server's plain configuration. The upstream is
/// decided here, before any socket opens: `--proxy` goes through the one
/// guard (which refuses production in every spelling), and production is
/// reached only as `--env production --allow-real-money`.
pub fn serve_config(args: &SimulatorArgs) -> Result<ServeConfig, Error> {
    let proxy = match (&args.proxy, args.env) {
        (Some(raw), _) => Some(
            config::guard_url("--proxy", raw, UrlRole::ProxyUpstream)
                .map_err(Error::Usage)?
                .url,
        ),
        (None, Some(ProxyEnv::Test)) => Some(fixed(TEST_BASE_URL)?),
        (None, Some(ProxyEnv::Production)) if !args.allow_real_money => {
            return Err(Error::Usage(
                "--env production records traffic to the Vipps production API: real money moves (hint: add --allow-real-money if you mean it, or use --env test)".into(),
            ))
        }
        (None, Some(ProxyEnv::Production)) => Some(fixed(PRODUCTION_BASE_URL)?),
        (None, None) => None,
    };
    Ok(ServeConfig {
        host: args.host.clone(),
        port: args.port,
        journal: args.journal.clone(),
        control: args.control,
        rate_limits: !args.no_rate_limits,
        units: args.units.clone(),
        processing: Duration::from_millis(args.processing_ms),
        allow_real_money: args.env == Some(ProxyEnv::Production) && args.allow_real_money,
        proxy,
        proxy_timeout: proxy::DEFAULT_TIMEOUT,
    })
}

fn fixed(base: &str) -> Result<Url, Error> {
    Url::parse(base).map_err(|e| Error::Usage(format!("`{base}`: {e}")))
}

/// `vipps-golive simulator`: serves the simulator until Ctrl-C or SIGTERM.
///
/// Binds 127.0.0.1 by default and warns loudly for any other host. Prints the
/// base URL and the credentials it accepts. A port in use is a usage error (exit 2).
pub fn run(args: &SimulatorArgs) -> Result<(), Error> {
    let config = serve_config(args)?;
    super::block_on(run_async(&config))
}

async fn run_async(args: &ServeConfig) -> Result<(), Error> {
    // Listen before anything is printed: a SIGTERM sent as soon as the
    // banner appears must stop the server cleanly, not kill it mid-start.
    let stop = stop_signal();
    let ip: IpAddr = match args.host.as_str() {
        "localhost" => IpAddr::from([127, 0, 0, 1]),
        h => h.parse().map_err(|_| {
            Error::Usage(format!(
                "`{h}` is not an IP address (hint: use --host 127.0.0.1, or 0.0.0.0 for every interface)"
            ))
        })?,
    };
    let config = args.sim_config()?;
    // The shop's own credentials, when it has given them to this process:
    // hidden by value in the journal from the first request on, even where
    // they appear before (or without) the token request that names them.
    for var in super::SECRET_VARIABLES {
        if let Ok(value) = std::env::var(var) {
            crate::domain::redact::register_secret(&value);
        }
    }
    let upstream = match &args.proxy {
        None => None,
        Some(url) => Some(Upstream::new(url.clone(), args.proxy_timeout).map_err(Error::Usage)?),
    };
    let accounts = config.accounts.clone();
    let capabilities: Vec<_> = accounts
        .iter()
        .map(|a| config.capabilities_of(&a.msn))
        .collect();
    let sim = Simulator::new(config);
    if let Some(path) = &args.journal {
        sim.with_engine(|e| e.journal.stream_to(path))
            .map_err(|e| Error::Usage(format!("{e}")))?;
    }
    let addr = SocketAddr::new(ip, args.port);
    let options = ServeOptions { upstream };
    let server = serve::bind_with(sim, addr, options).await.map_err(|source| {
        if source.kind() == io::ErrorKind::AddrInUse {
            Error::Usage(format!(
                "port {} is already in use on {ip} (hint: pick another with --port, or --port 0 for any free one)",
                args.port
            ))
        } else {
            Error::Io {
                context: format!("cannot listen on `{addr}`"),
                source,
            }
        }
    })?;
    if !ip.is_loopback() {
        tell!(
            "WARNING: listening on {ip}, not loopback: anyone who can reach this machine can use the simulator{}.",
            if args.control { " and its control API" } else { "" }
        );
    }
    if let Some(url) = &args.proxy {
        say!(
            "Recording proxy listening on {}, forwarding to {} (journal: {})",
            server.base_url(),
            crate::config::display_url(url).trim_end_matches('/'),
            args.journal
                .as_ref()
                .map_or("in memory only; add --journal FILE".to_owned(), |p| p
                    .display()
                    .to_string())
        );
        if args.allow_real_money {
            tell!("WARNING: --allow-real-money: a production upstream moves real money.");
        }
        say!("Press Ctrl-C to stop.");
        stop.await;
        server.shutdown().await;
        return Ok(());
    }
    print_banner(args, server.base_url(), &accounts, &capabilities);
    say!("Press Ctrl-C to stop.");
    stop.await;
    tell!(
        "stopping (waiting up to {} s for open requests)",
        serve::SHUTDOWN_GRACE.as_secs()
    );
    server.shutdown().await;
    Ok(())
}

/// What the standalone simulator prints once it listens: its base URL, the
/// credentials it accepts and what is switched on.
fn print_banner(
    args: &ServeConfig,
    base_url: &str,
    accounts: &[crate::simulator::Account],
    capabilities: &[units::Capabilities],
) {
    say!("Vipps simulator listening on {}", base_url);
    // These are the simulator's own fixed demo credentials, not secrets of
    // anyone's: printing them is the point (the shop must be configured with them).
    say!("Credentials it accepts:");
    let builtin: Vec<(String, String, String)> = SimConfig::default_accounts()
        .into_iter()
        .map(|a| (a.client_id, a.client_secret, a.subscription_key))
        .collect();
    for (a, caps) in accounts.iter().zip(capabilities) {
        let mut approved = Vec::new();
        if caps.long_living {
            approved.push("long-living");
        }
        if caps.push_message {
            approved.push("PUSH_MESSAGE");
        }
        if caps.card {
            approved.push("CARD");
        }
        if caps.express {
            approved.push("Express");
        }
        let mut approved = if approved.is_empty() {
            "none (a fresh unit)".to_owned()
        } else {
            approved.join(", ")
        };
        // Said only for the markets a shop must notice (another currency, 14 days to capture).
        if caps.market != units::Market::No {
            approved.push_str(&format!(
                "; market {} ({}, capture within {} days)",
                caps.market.as_str(),
                caps.market.currency(),
                caps.market.capture_days()
            ));
        }
        let own = (
            a.client_id.clone(),
            a.client_secret.clone(),
            a.subscription_key.clone(),
        );
        if builtin.contains(&own) {
            // Fixed demo values, public by design: printed as they are.
            crate::output::result_public(&format!(
                "  MSN {} ({}): client_id={} client_secret={} Ocp-Apim-Subscription-Key={}; approved for: {approved}",
                a.msn, a.merchant_name, a.client_id, a.client_secret, a.subscription_key
            ));
        } else {
            // A unit from --units: its credentials may be someone's own; never printed.
            say!(
                "  MSN {} ({}): credentials from the units file; approved for: {approved}",
                a.msn,
                a.merchant_name
            );
        }
    }
    if !args.processing.is_zero() {
        say!(
            "Processing time: {} ms per capture, refund and cancel (meanwhile: 423)",
            args.processing.as_millis()
        );
    }
    if args.control {
        say!("Control API: {}/__sim/", base_url);
    } else {
        say!("Control API: off (start with --control to approve, expire, inject faults)");
    }
    if let Some(path) = &args.journal {
        say!("Journal: {}", path.display());
    }
}

/// Ctrl-C or SIGTERM, listened for from the moment this is called (the
/// returned future only waits): a signal that arrives before the first poll
/// is not lost, and never takes the default action of killing the process.
fn stop_signal() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let (Ok(mut term), Ok(mut interrupt)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            return Box::pin(async move {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = interrupt.recv() => {}
                }
            });
        }
    }
    Box::pin(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_in_memory_journal_is_kept_only_where_the_control_api_can_read_it() {
        let without = ServeConfig::default().sim_config().unwrap();
        assert_eq!(without.journal_capacity, 0);
        let with = ServeConfig {
            control: true,
            ..ServeConfig::default()
        }
        .sim_config()
        .unwrap();
        assert_eq!(with.journal_capacity, SimConfig::default().journal_capacity);
        assert!(with.journal_capacity > 0);
    }
}

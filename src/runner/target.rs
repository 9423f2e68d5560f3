//! Where a run goes: the target's URL, the keys, the clock the client
//! waits on, and what the target can do (approve, reject, expire), decided
//! before the first scenario starts.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::items::Environment;
use super::RunError;
use super::RunOptions;
use crate::clock::{Clock, SharedClock, SleepFuture, SystemClock, VirtualClock};
use crate::config::{Config, Credentials, Target as ConfigTarget};
use crate::simulator::mock::SimServer;
use crate::simulator::{SimConfig, Simulator};
use crate::steps::target::{ProductionTarget, SimulatorTarget, TestTarget};
use crate::steps::Target;

/// A virtual clock shared by concurrent scenarios: a sleep moves it to the
/// sleeper's deadline, so ten scenarios each waiting 5 s move it 5 s, not 50.
#[derive(Debug)]
pub struct DeadlineClock {
    inner: Arc<VirtualClock>,
    lock: Mutex<()>,
}

impl DeadlineClock {
    pub fn new(inner: Arc<VirtualClock>) -> Arc<DeadlineClock> {
        Arc::new(DeadlineClock {
            inner,
            lock: Mutex::new(()),
        })
    }
}

impl Clock for DeadlineClock {
    fn now(&self) -> DateTime<Utc> {
        self.inner.now()
    }
    fn sleep(&self, d: Duration) -> SleepFuture<'_> {
        let deadline = self.inner.now() + chrono::Duration::from_std(d).unwrap_or_default();
        if let Ok(_guard) = self.lock.lock() {
            let now = self.inner.now();
            if deadline > now {
                self.inner
                    .advance((deadline - now).to_std().unwrap_or_default());
            }
        }
        Box::pin(tokio::task::yield_now())
    }
}

/// The target of one run, ready for its client.
pub(super) struct Prepared {
    /// Where the client sends its requests.
    pub base_url: url::Url,
    /// The keys it sends.
    pub credentials: Credentials,
    /// What the client waits on (virtual on a simulator).
    pub clock: SharedClock,
    /// `clock` is virtual: waits move it instead of passing, so the
    /// exchanges it dates run ahead of the wall clock.
    pub virtual_clock: bool,
    /// What the target can do, for the steps.
    pub target: Arc<dyn Target>,
    /// Which go-live item the run can prove.
    pub environment: Environment,
    /// The embedded simulator, kept alive for as long as the run.
    pub _server: Option<SimServer>,
}

/// The target `o` names: the embedded simulator started, or a URL with the
/// keys it needs and the capabilities it has.
pub(super) async fn prepare(o: &RunOptions, production: bool) -> Result<Prepared, RunError> {
    match &o.config.target {
        ConfigTarget::Simulator => embedded(o).await,
        other => remote(o, other, production).await,
    }
}

/// The simulator's own first account, unless the user gave keys.
fn sim_credentials(config: &Config) -> Result<Credentials, RunError> {
    if let Some(c) = &config.credentials {
        return Ok(c.clone());
    }
    let account = SimConfig::default_accounts()
        .into_iter()
        .next()
        .ok_or_else(|| RunError::Usage("the simulator has no account".into()))?;
    Ok(Credentials {
        client_id: account.client_id.into(),
        client_secret: account.client_secret.into(),
        subscription_key: account.subscription_key.into(),
        msn: account.msn,
    })
}

/// Starts the embedded simulator on a virtual clock the scenarios share.
async fn embedded(o: &RunOptions) -> Result<Prepared, RunError> {
    let virtual_clock = VirtualClock::new();
    let mut sim_config = o.simulator.clone();
    if let Some(c) = &o.config.credentials {
        // Credentials given for the simulator are the ones the run uses.
        sim_config.accounts.insert(
            0,
            crate::simulator::Account {
                merchant_name: "Your sales unit".into(),
                client_id: c.client_id.expose().to_owned(),
                client_secret: c.client_secret.expose().to_owned(),
                subscription_key: c.subscription_key.expose().to_owned(),
                msn: c.msn.clone(),
                currency: "NOK".into(),
            },
        );
    }
    let sim = Simulator::with_clock(sim_config, virtual_clock.clone());
    let server = SimServer::start_on(sim).await;
    let base = url::Url::parse(&server.uri())
        .map_err(|e| RunError::Usage(format!("the simulator's URL did not parse: {e}")))?;
    let target = SimulatorTarget::new(Some(base.clone()), true, o.return_url.is_some());
    Ok(Prepared {
        base_url: base,
        credentials: sim_credentials(&o.config)?,
        clock: DeadlineClock::new(virtual_clock),
        virtual_clock: true,
        target: Arc::new(target),
        environment: Environment::Simulator,
        _server: Some(server),
    })
}

/// A target reached by URL: production, the test environment, or a
/// standalone simulator (or a proxy in front of one).
async fn remote(
    o: &RunOptions,
    target: &ConfigTarget,
    production: bool,
) -> Result<Prepared, RunError> {
    let base = target
        .base_url()
        .ok_or_else(|| RunError::Usage("the target has no base URL".into()))?;
    let credentials = match (&o.config.credentials, target) {
        (Some(c), _) => c.clone(),
        (None, ConfigTarget::Custom(_)) => sim_credentials(&o.config)?,
        (None, _) => {
            return Err(RunError::Usage(format!(
                "credentials are required for the {} target (hint: set VIPPS_CLIENT_ID, VIPPS_CLIENT_SECRET, VIPPS_SUBSCRIPTION_KEY and VIPPS_MSN, or --env-file)",
                target.name()
            )))
        }
    };
    // The person is the face's (a terminal, or a test's stand-in): the
    // runner never prints.
    let person = o.person.clone();
    let (capabilities, environment): (Arc<dyn Target>, Environment) = if production {
        let person = person.ok_or_else(|| {
            RunError::Usage(
                "a production run needs a person to approve each payment in the app (hint: run it from a terminal)".into(),
            )
        })?;
        (
            Arc::new(ProductionTarget {
                person,
                return_page: o.return_url.is_some(),
            }),
            Environment::Production,
        )
    } else if matches!(target, ConfigTarget::Test) || o.test_stand_in {
        (
            Arc::new(TestTarget {
                test_phone: o.test_phone.clone(),
                person: person.filter(|_| !o.non_interactive),
                return_page: o.return_url.is_some(),
            }),
            Environment::Test,
        )
    } else {
        // A custom URL: a standalone simulator or a proxy in front of one.
        let control = SimulatorTarget::probe_control(&base)
            .await
            .then(|| base.clone());
        let loopback = crate::domain::host::is_loopback(&base);
        (
            Arc::new(SimulatorTarget::new(
                control,
                loopback,
                o.return_url.is_some(),
            )),
            Environment::Simulator,
        )
    };
    Ok(Prepared {
        base_url: base,
        credentials,
        clock: o
            .clock
            .clone()
            .unwrap_or_else(|| Arc::new(SystemClock) as SharedClock),
        virtual_clock: o.clock.is_some(),
        target: capabilities,
        environment,
        _server: None,
    })
}

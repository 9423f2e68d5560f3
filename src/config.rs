//! Where the harness points and with which credentials: the target, the
//! credentials and the Vipps-System-* headers, resolved from flags, environment
//! variables, a `.env` file or a Postman environment file.
//!
//! Precedence, highest first: command-line flags, environment variables, the
//! `.env` file, the Postman environment file, defaults. Every problem found is
//! collected into one [`ConfigError`], so a user fixes everything in one go; no
//! message ever contains a secret value. [`load_with`] is the testable core: it
//! takes the parsed flags and an injected [`Environment`] and never reads
//! `std::env` itself.
//!
//! ```
//! use vipps_golive::config::{load_with, EnvName, Environment, Target, TargetInput};
//!
//! // `--env test`, credentials from environment variables.
//! let env = Environment::from_vars([
//!     ("VIPPS_CLIENT_ID", "my-client-id"),
//!     ("VIPPS_CLIENT_SECRET", "my-client-secret"),
//!     ("VIPPS_SUBSCRIPTION_KEY", "my-subscription-key"),
//!     ("VIPPS_MSN", "123456"),
//! ]);
//! let input = TargetInput { env: EnvName::Test, ..Default::default() };
//! let (config, _provenance) = load_with(&input, &env)?;
//! assert!(matches!(config.target, Target::Test));
//! // Secrets never show in Debug output.
//! assert!(!format!("{config:?}").contains("my-client-secret"));
//!
//! // Production is reached only through `--env production`: a production
//! // host given as a base URL, in any spelling, is refused before any socket opens.
//! let sneaky = TargetInput { base_url: Some(" HTTPS://API.Vipps.no./epayment".into()), ..input };
//! assert!(load_with(&sneaky, &env).is_err());
//! # Ok::<(), vipps_golive::config::ConfigError>(())
//! ```

use crate::domain::input::InputKind;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use url::Url;

use crate::domain::headers::MAX_SYSTEM_HEADER_LEN;
use crate::secret::Secret;

pub use crate::domain::host::{
    display_raw, display_url, HostClass, PRODUCTION_BASE_URL, TEST_BASE_URL,
};

/// The target and credentials as the user gave them, before anything is
/// resolved. The face maps its flags to this; config never sees clap.
#[derive(Debug, Clone, Default)]
pub struct TargetInput {
    /// The named target (`--env`).
    pub env: EnvName,
    /// Any other base URL (`--base-url`); overrides `env`.
    pub base_url: Option<String>,
    /// A `.env` file to read credentials from (default: `./.env` when present).
    pub env_file: Option<PathBuf>,
    /// A Postman environment file.
    pub postman_env: Option<PathBuf>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub subscription_key: Option<String>,
    pub msn: Option<String>,
    pub system_name: Option<String>,
    pub system_version: Option<String>,
    pub plugin_name: Option<String>,
    pub plugin_version: Option<String>,
}

/// The named targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EnvName {
    /// The embedded simulator.
    #[default]
    Simulator,
    /// https://apitest.vipps.no
    Test,
    /// https://api.vipps.no (real money)
    Production,
}

/// What the harness talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The embedded simulator (default).
    Simulator,
    /// https://apitest.vipps.no
    Test,
    /// https://api.vipps.no (real money).
    Production,
    /// Any other base URL (a standalone simulator, a proxy...).
    Custom(Url),
}

impl Target {
    /// True only for production: force approve is refused there, amounts are capped.
    pub(crate) fn is_production(&self) -> bool {
        matches!(self, Target::Production)
    }

    /// Base URL for the HTTP targets; `None` for the embedded simulator (its URL is
    /// known only once it has started).
    pub fn base_url(&self) -> Option<Url> {
        match self {
            Target::Simulator => None,
            Target::Test => Url::parse(TEST_BASE_URL).ok(),
            Target::Production => Url::parse(PRODUCTION_BASE_URL).ok(),
            Target::Custom(u) => Some(u.clone()),
        }
    }

    /// Short name for messages and reports.
    pub fn name(&self) -> &'static str {
        match self {
            Target::Simulator => "simulator",
            Target::Test => "test",
            Target::Production => "production",
            Target::Custom(_) => "custom",
        }
    }
}

/// API credentials of one sales unit.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub client_id: Secret,
    pub client_secret: Secret,
    pub subscription_key: Secret,
    /// Merchant serial number: not a secret, shown in reports.
    pub msn: String,
}

/// The four Vipps-System-* header values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemHeaders {
    pub system_name: String,
    pub system_version: String,
    pub plugin_name: String,
    pub plugin_version: String,
}

impl Default for SystemHeaders {
    fn default() -> Self {
        SystemHeaders {
            system_name: "vipps-golive".into(),
            system_version: env!("CARGO_PKG_VERSION").into(),
            plugin_name: "vipps-golive".into(),
            plugin_version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// Everything resolved: what the client needs to talk to a target.
#[derive(Debug, Clone)]
pub struct Config {
    pub target: Target,
    /// `None` only for the embedded simulator, which supplies its own.
    pub credentials: Option<Credentials>,
    pub system: SystemHeaders,
}

/// Everything wrong with the configuration, listed together so a user fixes it in one go.
#[derive(Debug, thiserror::Error)]
#[error("the configuration is incomplete or malformed:\n{}", problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError {
    /// One line per problem, each saying where to set the value.
    pub problems: Vec<String>,
}

/// One configurable value: where it can be set and how it is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    ClientId,
    ClientSecret,
    SubscriptionKey,
    Msn,
    SystemName,
    SystemVersion,
    PluginName,
    PluginVersion,
}

impl Field {
    /// Every field, in display order.
    pub const ALL: [Field; 8] = [
        Field::ClientId,
        Field::ClientSecret,
        Field::SubscriptionKey,
        Field::Msn,
        Field::SystemName,
        Field::SystemVersion,
        Field::PluginName,
        Field::PluginVersion,
    ];

    /// The four credentials.
    pub(crate) const CREDENTIALS: [Field; 4] = [
        Field::ClientId,
        Field::ClientSecret,
        Field::SubscriptionKey,
        Field::Msn,
    ];

    /// Name used in messages.
    pub fn label(self) -> &'static str {
        match self {
            Field::ClientId => "client_id",
            Field::ClientSecret => "client_secret",
            Field::SubscriptionKey => "subscription key (Ocp-Apim-Subscription-Key)",
            Field::Msn => "merchant serial number (MSN)",
            Field::SystemName => "Vipps-System-Name",
            Field::SystemVersion => "Vipps-System-Version",
            Field::PluginName => "Vipps-System-Plugin-Name",
            Field::PluginVersion => "Vipps-System-Plugin-Version",
        }
    }

    /// Command-line flag.
    pub fn flag(self) -> &'static str {
        match self {
            Field::ClientId => "--client-id",
            Field::ClientSecret => "--client-secret",
            Field::SubscriptionKey => "--subscription-key",
            Field::Msn => "--msn",
            Field::SystemName => "--system-name",
            Field::SystemVersion => "--system-version",
            Field::PluginName => "--plugin-name",
            Field::PluginVersion => "--plugin-version",
        }
    }

    /// Environment variable, also the key in a `.env` file.
    pub fn env_var(self) -> &'static str {
        match self {
            Field::ClientId => "VIPPS_CLIENT_ID",
            Field::ClientSecret => "VIPPS_CLIENT_SECRET",
            Field::SubscriptionKey => "VIPPS_SUBSCRIPTION_KEY",
            Field::Msn => "VIPPS_MSN",
            Field::SystemName => "VIPPS_SYSTEM_NAME",
            Field::SystemVersion => "VIPPS_SYSTEM_VERSION",
            Field::PluginName => "VIPPS_SYSTEM_PLUGIN_NAME",
            Field::PluginVersion => "VIPPS_SYSTEM_PLUGIN_VERSION",
        }
    }

    /// Variable name in the official Postman collections' environment.
    pub(crate) fn postman_key(self) -> &'static str {
        match self {
            Field::ClientId => "client_id",
            Field::ClientSecret => "client_secret",
            Field::SubscriptionKey => "Ocp-Apim-Subscription-Key",
            Field::Msn => "merchantSerialNumber",
            Field::SystemName => "vipps_system_name",
            Field::SystemVersion => "vipps_system_version",
            Field::PluginName => "vipps_system_plugin_name",
            Field::PluginVersion => "vipps_system_plugin_version",
        }
    }

    fn is_system_header(self) -> bool {
        matches!(
            self,
            Field::SystemName | Field::SystemVersion | Field::PluginName | Field::PluginVersion
        )
    }

    /// Where the value can be set, for hints.
    pub(crate) fn where_to_set(self) -> String {
        format!(
            "set {}, `{}` in the environment or the .env file, or `{}` in the Postman environment",
            self.flag(),
            self.env_var(),
            self.postman_key()
        )
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Where a resolved value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag (`--client-id`).
    Flag(&'static str),
    /// A process environment variable.
    Environment(&'static str),
    /// A key in a `.env` file.
    EnvFile { path: PathBuf, key: &'static str },
    /// A variable in a Postman environment file.
    Postman { path: PathBuf, key: &'static str },
    /// The built-in default.
    Default,
    /// Supplied by the embedded simulator (its own built-in account).
    Simulator,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Environment(var) => write!(f, "environment variable `{var}`"),
            Source::EnvFile { path, key } => {
                write!(f, ".env file `{}` (key `{key}`)", path.display())
            }
            Source::Postman { path, key } => {
                write!(f, "Postman environment `{}` (key `{key}`)", path.display())
            }
            Source::Default => f.write_str("default"),
            Source::Simulator => f.write_str("embedded simulator"),
        }
    }
}

/// Where each resolved value came from, for the `config` command.
#[derive(Debug, Clone)]
pub struct Provenance {
    /// How the target was chosen.
    pub target: Source,
    /// The source of every field (credentials the simulator supplies: [`Source::Simulator`]).
    pub fields: BTreeMap<Field, Source>,
    /// The `.env` file that was read, if any.
    pub env_file: Option<PathBuf>,
    /// The Postman environment that was read, if any.
    pub postman_env: Option<PathBuf>,
    /// Things worth knowing that do not stop the run.
    pub warnings: Vec<String>,
}

impl Provenance {
    /// Where `field` came from.
    pub fn source(&self, field: Field) -> Option<&Source> {
        self.fields.get(&field)
    }
}

/// The process environment as the loader sees it: the `VIPPS_*` variables and
/// the default `.env` file. Injected so tests never depend on the real process.
#[derive(Clone, Default)]
pub struct Environment {
    vars: HashMap<String, String>,
    /// Variables present but not valid UTF-8 (names only).
    not_unicode: Vec<&'static str>,
    /// The `.env` file read when `--env-file` is not given, if it exists.
    default_env_file: Option<PathBuf>,
}

impl fmt::Debug for Environment {
    // Names only: the values are credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<_> = self.vars.keys().collect();
        names.sort();
        f.debug_struct("Environment")
            .field("vars", &names)
            .field("default_env_file", &self.default_env_file)
            .finish()
    }
}

impl Environment {
    /// The real process: the `VIPPS_*` variables and `./.env`.
    pub(crate) fn from_process() -> Self {
        let mut env = Environment {
            default_env_file: Some(PathBuf::from(".env")),
            ..Default::default()
        };
        for field in Field::ALL {
            let name = field.env_var();
            if let Some(value) = std::env::var_os(name) {
                match value.into_string() {
                    Ok(v) => {
                        env.vars.insert(name.to_owned(), v);
                    }
                    Err(_) => env.not_unicode.push(name),
                }
            }
        }
        env
    }

    /// An environment made of these variables, with no default `.env` file.
    pub fn from_vars<I, K, V>(vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Environment {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            ..Default::default()
        }
    }

    /// Reads `path` as the `.env` file when `--env-file` is not given and `path` exists.
    #[cfg(test)]
    pub(crate) fn with_default_env_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.default_env_file = Some(path.into());
        self
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }
}

/// Resolves the configuration from the flags, the process environment and `./.env`.
pub fn load(args: &TargetInput) -> Result<(Config, Provenance), ConfigError> {
    load_with(args, &Environment::from_process())
}

/// A value from one layer, held as a [`Secret`] until validated so that even a
/// stray `{:?}` of the loader's state shows nothing.
struct Candidate {
    value: Secret,
    source: Source,
}

type Layer = BTreeMap<Field, Candidate>;

/// Resolves the configuration from `args` and `env` (the testable core of [`load`]).
///
/// Precedence, highest first: flags, environment variables, the `.env` file,
/// the Postman environment, defaults. Every problem is collected; the error
/// lists them all, each with where to set the value.
pub fn load_with(
    args: &TargetInput,
    env: &Environment,
) -> Result<(Config, Provenance), ConfigError> {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();

    let (target, target_source) = resolve_target(args, &mut problems, &mut warnings);

    let flags = flag_layer(args);
    let environment = env_layer(env, &mut problems);
    let (dotenv, env_file) = dotenv_layer(args, env, &mut problems);
    let (postman, postman_env, postman_base_url) = postman_layer(args, &mut problems);

    if let (Some(base), Some(target)) = (&postman_base_url, &target) {
        check_postman_base_url(base, target, &mut warnings);
    }

    // Pick each field from the highest layer that has it.
    let mut chosen: BTreeMap<Field, Candidate> = BTreeMap::new();
    for layer in [flags, environment, dotenv, postman] {
        for (field, candidate) in layer {
            chosen.entry(field).or_insert(candidate);
        }
    }

    for (field, candidate) in &chosen {
        validate(*field, candidate, &mut problems);
    }

    let mut fields = BTreeMap::new();
    let credentials = credentials(&chosen, target.as_ref(), &mut problems, &mut fields);

    let defaults = SystemHeaders::default();
    let mut header = |field: Field, default: &str| match chosen.get(&field) {
        Some(c) => c.value.expose().to_owned(),
        None => {
            fields.insert(field, Source::Default);
            default.to_owned()
        }
    };
    let system = SystemHeaders {
        system_name: header(Field::SystemName, &defaults.system_name),
        system_version: header(Field::SystemVersion, &defaults.system_version),
        plugin_name: header(Field::PluginName, &defaults.plugin_name),
        plugin_version: header(Field::PluginVersion, &defaults.plugin_version),
    };
    for (field, candidate) in chosen {
        fields.insert(field, candidate.source);
    }

    if !problems.is_empty() {
        return Err(ConfigError { problems });
    }
    let Some(target) = target else {
        // resolve_target pushes a problem whenever it returns None.
        return Err(ConfigError {
            problems: vec!["the target could not be resolved".into()],
        });
    };
    for w in &warnings {
        tracing::warn!("{w}");
    }
    tracing::debug!(
        target = target.name(),
        env_file = ?env_file,
        postman_env = ?postman_env,
        "configuration resolved"
    );
    Ok((
        Config {
            target,
            credentials,
            system,
        },
        Provenance {
            target: target_source,
            fields,
            env_file,
            postman_env,
            warnings,
        },
    ))
}

/// The credentials chosen, all four or none: missing ones are problems
/// (except for the simulator given none, which brings its own).
fn credentials(
    chosen: &Layer,
    target: Option<&Target>,
    problems: &mut Vec<String>,
    fields: &mut BTreeMap<Field, Source>,
) -> Option<Credentials> {
    let needs_credentials = !matches!(target, Some(Target::Simulator));
    let any_given = Field::CREDENTIALS.iter().any(|f| chosen.contains_key(f));
    if needs_credentials || any_given {
        for field in Field::CREDENTIALS {
            if !chosen.contains_key(&field) {
                let why = if needs_credentials {
                    String::new()
                } else {
                    // A partial set would mix the user's account with the
                    // simulator's, which no real account could do.
                    " (the simulator uses your credentials when any is given, so give all four or none)"
                        .to_owned()
                };
                problems.push(format!(
                    "{field} is missing{why} (hint: {})",
                    field.where_to_set()
                ));
            }
        }
        match (
            chosen.get(&Field::ClientId),
            chosen.get(&Field::ClientSecret),
            chosen.get(&Field::SubscriptionKey),
            chosen.get(&Field::Msn),
        ) {
            (Some(id), Some(secret), Some(key), Some(msn)) => Some(Credentials {
                client_id: id.value.clone(),
                client_secret: secret.value.clone(),
                subscription_key: key.value.clone(),
                msn: msn.value.expose().to_owned(),
            }),
            _ => None,
        }
    } else {
        for field in Field::CREDENTIALS {
            fields.insert(field, Source::Simulator);
        }
        None
    }
}

fn resolve_target(
    args: &TargetInput,
    problems: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> (Option<Target>, Source) {
    let Some(raw) = &args.base_url else {
        let target = match args.env {
            EnvName::Simulator => Target::Simulator,
            EnvName::Test => Target::Test,
            EnvName::Production => Target::Production,
        };
        let source = if args.env == EnvName::Simulator {
            Source::Default
        } else {
            Source::Flag("--env")
        };
        return (Some(target), source);
    };
    if args.env != EnvName::Simulator {
        warnings.push(format!(
            "--base-url overrides --env {}",
            match args.env {
                EnvName::Test => "test",
                _ => "production",
            }
        ));
    }
    match classify_base_url(raw) {
        Ok(Classified::Test) => (Some(Target::Test), Source::Flag("--base-url")),
        Ok(Classified::Custom(url)) => (Some(Target::Custom(url)), Source::Flag("--base-url")),
        Err(why) => {
            problems.push(why);
            (None, Source::Flag("--base-url"))
        }
    }
}

/// What a URL typed on the command line is for. The one guard,
/// [`guard_url`], decides from this which hosts and schemes it may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlRole {
    /// `--base-url`: the API the harness's client calls with the merchant's
    /// credentials.
    BaseUrl,
    /// `simulator --proxy`: where the recording proxy forwards the shop's
    /// requests, credentials included.
    ProxyUpstream,
    /// `audit --simulator`: a running simulator whose journal is read.
    Simulator,
    /// `webhooks-check --url`: the shop's own webhook receiver.
    WebhookReceiver,
}

/// A URL the guard let through, and the class of its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guarded {
    pub url: Url,
    pub class: HostClass,
}

/// The one gate between a URL a user typed and a socket, for every command.
///
/// Production is reached only through `--env production`: a Vipps production
/// host given as a URL, in any spelling (case, trailing dot, IDNA,
/// percent-escapes, user info, port, path, surrounding space, no scheme at
/// all), is refused whatever `role` it has. A shop's webhook receiver and a
/// simulator are never a Vipps host at all. Plain `http://` carrying
/// credentials (`--base-url`, `--proxy`) is accepted only for loopback. The
/// message starts with `flag` and never quotes user info or a query.
pub fn guard_url(flag: &str, raw: &str, role: UrlRole) -> Result<Guarded, String> {
    let hint = "(hint: give an absolute http(s) URL such as `http://127.0.0.1:7777`)";
    let url = match Url::parse(raw) {
        Ok(url) if url.host_str().is_some_and(|h| !h.is_empty()) => url,
        parsed => {
            let shown = format!("`{}`", display_raw(raw));
            // `api.vipps.no` without a scheme is still production: say so,
            // rather than only "not a URL".
            let guess = Url::parse(&format!("https://{}", raw.trim())).ok();
            if let Some(class) = guess
                .as_ref()
                .map(HostClass::of)
                .filter(|c| refused_vipps(*c, role))
            {
                return Err(vipps_refusal(flag, &shown, class, role));
            }
            return Err(match parsed {
                _ if raw.trim().is_empty() => format!("{flag} is empty {hint}"),
                Err(e) => format!("{flag} {shown} is not a valid URL: {e} {hint}"),
                Ok(_) => format!("{flag} {shown} has no host {hint}"),
            });
        }
    };
    let shown = format!("`{}`", display_url(&url));
    let class = HostClass::of(&url);
    // Production first: whatever else is wrong with the URL, the user is
    // told how production is reached deliberately.
    if refused_vipps(class, role) {
        return Err(vipps_refusal(flag, &shown, class, role));
    }
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!(
            "{flag} {shown} has scheme `{}`; only http and https are supported {hint}",
            url.scheme()
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{flag} {shown} carries credentials in the URL {hint}"
        ));
    }
    if role != UrlRole::WebhookReceiver && (url.query().is_some() || url.fragment().is_some()) {
        return Err(format!("{flag} {shown} has a query or fragment {hint}"));
    }
    let carries_credentials = matches!(role, UrlRole::BaseUrl | UrlRole::ProxyUpstream);
    if carries_credentials && url.scheme() == "http" && !class.is_loopback() {
        let what = if class == HostClass::VippsTest {
            " (the Vipps test environment)"
        } else {
            ""
        };
        return Err(format!(
            "{flag} {shown} uses plain http to a host that is not loopback{what}: credentials would travel in clear (hint: use https; plain http is accepted only for 127.0.0.1, ::1 and localhost)"
        ));
    }
    Ok(Guarded { url, class })
}

/// Production is never a URL; the test environment is neither a simulator
/// nor a shop's receiver.
fn refused_vipps(class: HostClass, role: UrlRole) -> bool {
    match class {
        HostClass::VippsProduction => true,
        HostClass::VippsTest => matches!(role, UrlRole::Simulator | UrlRole::WebhookReceiver),
        HostClass::Loopback | HostClass::Other => false,
    }
}

fn vipps_refusal(flag: &str, shown: &str, class: HostClass, role: UrlRole) -> String {
    match (role, class) {
        (UrlRole::WebhookReceiver, _) => format!(
            "{flag} {shown} is a Vipps host; a shop's webhook receiver never is (hint: give the URL of the shop's own endpoint)"
        ),
        (UrlRole::Simulator, HostClass::VippsTest) => format!(
            "{flag} {shown} is the Vipps test environment, not a simulator: its journal cannot be read (hint: record the shop's traffic with `simulator --proxy {TEST_BASE_URL} --journal FILE` and audit --journal FILE)"
        ),
        (UrlRole::Simulator, _) => format!(
            "{flag} {shown} is a Vipps production host, not a simulator: nothing is read from it (hint: audit the journal a recording proxy wrote with --journal FILE; production itself is reached only with `--env production`)"
        ),
        _ => format!(
            "{flag} {shown} is a Vipps production host; production is reached only with `--env production` (and `--allow-real-money` where money moves), never through {flag} (hint: use --env production to mean it, or --env test for the test environment)"
        ),
    }
}

/// What a `--base-url` resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classified {
    /// The Vipps test environment at its own base URL.
    Test,
    /// Another target.
    Custom(Url),
}

/// Decides what a `--base-url` points at, before anything is sent, through
/// [`guard_url`]: production is refused however it is written, and the test
/// environment at its own base URL is the test target.
pub fn classify_base_url(raw: &str) -> Result<Classified, String> {
    let guarded = guard_url("--base-url", raw, UrlRole::BaseUrl)?;
    Ok(match guarded.class {
        HostClass::VippsTest if crate::domain::host::is_canonical_base(&guarded.url) => {
            Classified::Test
        }
        _ => Classified::Custom(guarded.url),
    })
}

/// Same scheme, host and port (a missing port is the scheme's default).
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

fn check_postman_base_url(raw: &str, target: &Target, warnings: &mut Vec<String>) {
    let shown = display_raw(raw);
    match target.base_url() {
        // base_url never picks the target by itself: a run without --env must
        // stay on the offline simulator, whatever file happens to be passed.
        None => warnings.push(format!(
            "the Postman environment's base_url `{shown}` is ignored: the target is the embedded simulator (hint: pass --env test, --env production or --base-url to use it)"
        )),
        Some(url) => {
            let same = Url::parse(raw).is_ok_and(|p| same_origin(&p, &url));
            if !same {
                warnings.push(format!(
                    "the Postman environment's base_url `{shown}` differs from the target `{}`: its credentials may belong to another environment", display_url(&url)
                ));
            }
        }
    }
}

fn flag_layer(args: &TargetInput) -> Layer {
    let mut layer = Layer::new();
    for (field, value) in [
        (Field::ClientId, &args.client_id),
        (Field::ClientSecret, &args.client_secret),
        (Field::SubscriptionKey, &args.subscription_key),
        (Field::Msn, &args.msn),
        (Field::SystemName, &args.system_name),
        (Field::SystemVersion, &args.system_version),
        (Field::PluginName, &args.plugin_name),
        (Field::PluginVersion, &args.plugin_version),
    ] {
        if let Some(v) = value {
            layer.insert(
                field,
                Candidate {
                    value: Secret::new(v.as_str()),
                    source: Source::Flag(field.flag()),
                },
            );
        }
    }
    layer
}

fn env_layer(env: &Environment, problems: &mut Vec<String>) -> Layer {
    for name in &env.not_unicode {
        problems.push(format!("environment variable `{name}` is not valid UTF-8"));
    }
    let mut layer = Layer::new();
    for field in Field::ALL {
        if let Some(v) = env.get(field.env_var()) {
            layer.insert(
                field,
                Candidate {
                    value: Secret::new(v),
                    source: Source::Environment(field.env_var()),
                },
            );
        }
    }
    layer
}

fn dotenv_layer(
    args: &TargetInput,
    env: &Environment,
    problems: &mut Vec<String>,
) -> (Layer, Option<PathBuf>) {
    let mut layer = Layer::new();
    let path = match (&args.env_file, &env.default_env_file) {
        (Some(named), _) => {
            if !named.is_file() {
                problems.push(format!(
                    "--env-file `{}` does not exist or is not a file (hint: check the path, or leave out --env-file)",
                    named.display()
                ));
                return (layer, None);
            }
            named.clone()
        }
        (None, Some(default)) if default.is_file() => default.clone(),
        _ => return (layer, None),
    };
    let contents = match read_bounded(&path, InputKind::EnvFile) {
        Ok(c) => c,
        Err(why) => {
            problems.push(format!("the .env file `{}` {why}", path.display()));
            return (layer, Some(path));
        }
    };
    let text = String::from_utf8_lossy(&contents);
    // The iterator parses without touching the process environment (unlike
    // dotenvy::from_path), and keeps going after a bad line so every bad line
    // is reported.
    for (seen, item) in dotenvy::from_read_iter(contents.as_slice()).enumerate() {
        if seen > 10_000 {
            break;
        }
        match item {
            Ok((key, value)) => {
                if let Some(field) = Field::ALL.into_iter().find(|f| f.env_var() == key) {
                    layer.insert(
                        field,
                        Candidate {
                            value: Secret::new(value),
                            source: Source::EnvFile {
                                path: path.clone(),
                                key: field.env_var(),
                            },
                        },
                    );
                }
            }
            // Never show dotenvy's message for a bad line: it quotes the line,
            // which may hold a secret.
            Err(dotenvy::Error::LineParse(line, _)) => {
                let first = line.lines().next().unwrap_or("");
                let at = text
                    .lines()
                    .position(|l| l == first)
                    .map(|i| format!(" at line {}", i + 1))
                    .unwrap_or_default();
                problems.push(format!(
                    "the .env file `{}` could not be parsed{at} (hint: write `KEY=value`, quote values with spaces)",
                    path.display()
                ));
            }
            Err(dotenvy::Error::Io(e)) => {
                problems.push(format!(
                    "the .env file `{}` could not be read: {e}",
                    path.display()
                ));
                break;
            }
            Err(_) => {
                problems.push(format!(
                    "the .env file `{}` has a variable substitution that could not be resolved",
                    path.display()
                ));
            }
        }
    }
    (layer, Some(path))
}

fn postman_layer(
    args: &TargetInput,
    problems: &mut Vec<String>,
) -> (Layer, Option<PathBuf>, Option<String>) {
    let mut layer = Layer::new();
    let Some(path) = &args.postman_env else {
        return (layer, None, None);
    };
    let shown = path.display();
    // The same checks as --env-file: a regular file (not a FIFO, a device or
    // a folder), read with a size cap, so `/dev/zero` or a pipe cannot hang
    // the run or exhaust memory.
    let bytes = match read_bounded(path, InputKind::PostmanEnvironment) {
        Ok(b) => b,
        Err(why) => {
            problems.push(format!(
                "--postman-env `{shown}` {why} (hint: export the environment from Postman and pass the file's path)"
            ));
            return (layer, None, None);
        }
    };
    // Parsed as untyped JSON on purpose: serde's type errors quote values,
    // syntax errors do not.
    let json: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            problems.push(format!(
                "--postman-env `{shown}` is not valid JSON: {e} (hint: export the environment from Postman again)"
            ));
            return (layer, Some(path.clone()), None);
        }
    };
    let Some(values) = json.get("values").and_then(|v| v.as_array()) else {
        problems.push(format!(
            "--postman-env `{shown}` is not a Postman environment: it has no `values` list (hint: export an environment, not a collection)"
        ));
        return (layer, Some(path.clone()), None);
    };
    let mut base_url = None;
    for (i, entry) in values.iter().enumerate() {
        let Some(key) = entry.get("key").and_then(|k| k.as_str()) else {
            problems.push(format!(
                "--postman-env `{shown}`: entry {} of `values` has no string `key`",
                i + 1
            ));
            continue;
        };
        if entry.get("enabled").and_then(|e| e.as_bool()) == Some(false) {
            continue;
        }
        let value = match entry.get("value") {
            None | Some(serde_json::Value::Null) => continue,
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            Some(_) => {
                problems.push(format!(
                    "--postman-env `{shown}`: the value of `{}` is not a string",
                    key.escape_debug()
                ));
                continue;
            }
        };
        // Postman environments list every variable, with blank values for the
        // ones to fill in: blank means "not set" here, not "set to empty".
        if value.is_empty() {
            continue;
        }
        if key == "base_url" {
            base_url.get_or_insert(value);
            continue;
        }
        if let Some(field) = Field::ALL.into_iter().find(|f| f.postman_key() == key) {
            layer.entry(field).or_insert(Candidate {
                value: Secret::new(value),
                source: Source::Postman {
                    path: path.clone(),
                    key: field.postman_key(),
                },
            });
        }
    }
    (layer, Some(path.clone()), base_url)
}

/// Largest Postman environment read: real ones are a few kilobytes (a
/// `.env` file is held to 64 KiB: `domain::input::InputKind::cap`).
pub const MAX_CONFIG_FILE_BYTES: u64 = 1024 * 1024;

/// Reads a configuration file through the one input check
/// (`domain::input`): a regular file (a FIFO would block the open,
/// `/dev/zero` never ends), at most its kind's cap; the error is a phrase
/// that follows the file's name.
fn read_bounded(path: &Path, kind: InputKind) -> Result<Vec<u8>, String> {
    use crate::domain::input::{read, InputError};
    read(path, kind).map_err(|e| match e {
        InputError::NotAFile { what, .. } => format!(
            "is {what}, not a regular file (a folder, a device or a pipe cannot hold credentials)"
        ),
        InputError::TooLarge { cap, .. } => {
            format!("is larger than {cap} bytes, the most that is read")
        }
        InputError::Io { source, .. } => format!("could not be read: {source}"),
    })
}

/// Checks one value, pushing what is wrong without ever quoting a secret.
fn validate(field: Field, candidate: &Candidate, problems: &mut Vec<String>) {
    let value = candidate.value.expose();
    let from = &candidate.source;
    let hint = field.where_to_set();
    if value.is_empty() {
        problems.push(format!("{field} is empty (from {from}; hint: {hint})"));
        return;
    }
    if value.chars().any(char::is_control) {
        problems.push(format!(
            "{field} contains a control character or line break, which cannot go in an HTTP header (from {from})"
        ));
        return;
    }
    if value.trim() != value {
        problems.push(format!(
            "{field} has leading or trailing whitespace (from {from}; hint: remove it, it would not survive in an HTTP header)"
        ));
        return;
    }
    // A long malformed value may be a secret pasted into the wrong variable:
    // quote only values short enough to be a mistyped MSN or header.
    let len = value.chars().count();
    let quoted = if len <= 10 {
        format!(" `{}`", value.escape_debug())
    } else {
        String::new()
    };
    if field == Field::Msn && !is_valid_msn(value) {
        problems.push(format!(
            "{field}{quoted} must be 4 to 7 digits (got {len} characters, from {from})"
        ));
    }
    if field.is_system_header() && len > MAX_SYSTEM_HEADER_LEN {
        problems.push(format!(
            "{field} is {len} characters; Vipps allows at most {MAX_SYSTEM_HEADER_LEN} (from {from})"
        ));
    }
}

/// `^[0-9]{4,7}$`.
///
/// OPEN(§16.17): the ePayment and token specs say 4 to 6 digits, the deno SDK
/// says 4 to 7. We accept 7 so a real 7-digit MSN is never refused locally;
/// Vipps itself has the last word.
pub(crate) fn is_valid_msn(msn: &str) -> bool {
    (4..=7).contains(&msn.len()) && msn.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(raw: &str, role: UrlRole) -> String {
        guard_url("--x", raw, role).expect_err(raw)
    }

    #[test]
    fn production_is_refused_for_every_role_in_every_spelling() {
        for role in [
            UrlRole::BaseUrl,
            UrlRole::ProxyUpstream,
            UrlRole::Simulator,
            UrlRole::WebhookReceiver,
        ] {
            for raw in [
                "https://api.vipps.no",
                "https://API.Vipps.no./",
                "https://api.vippsmobilepay.com",
                "https://x.mobilepay.dk",
                "api.vipps.no",
                "https://u:p@api.vipps.no:8443/x?y#z",
            ] {
                let why = refused(raw, role);
                assert!(why.starts_with("--x "), "{why}");
                assert!(why.contains("Vipps"), "{raw}: {why}");
                assert!(!why.contains("u:p"), "{why}");
            }
        }
    }

    #[test]
    fn the_test_environment_is_an_api_and_an_upstream_but_never_a_receiver() {
        for role in [UrlRole::BaseUrl, UrlRole::ProxyUpstream] {
            let g = guard_url("--x", "https://apitest.vipps.no", role).unwrap();
            assert_eq!(g.class, HostClass::VippsTest);
        }
        assert!(
            refused("https://apitest.vipps.no", UrlRole::WebhookReceiver).contains("Vipps host")
        );
        assert!(refused("https://apitest.vipps.no", UrlRole::Simulator).contains("not a simulator"));
        // Without a scheme it is not a URL, but not a production refusal either.
        assert!(refused("apitest.vipps.no", UrlRole::ProxyUpstream).contains("not a valid URL"));
    }

    #[test]
    fn malformed_urls_are_refused_for_an_upstream() {
        for raw in [
            "ftp://apitest.vipps.no",
            "https://apitest.vipps.no/?x=1",
            "https://user:pw@apitest.vipps.no",
            "",
            "http://",
        ] {
            let why = refused(raw, UrlRole::ProxyUpstream);
            assert!(why.contains("hint"), "{raw}: {why}");
        }
        assert!(guard_url("--x", "http://127.0.0.1:7777", UrlRole::ProxyUpstream).is_ok());
        assert!(refused("http://sim.example", UrlRole::ProxyUpstream).contains("plain http"));
    }

    #[test]
    fn a_receiver_may_be_plain_http_with_a_query_but_never_carry_user_info() {
        let g = guard_url(
            "--url",
            "http://shop.example/hook?k=1",
            UrlRole::WebhookReceiver,
        )
        .unwrap();
        assert_eq!(g.class, HostClass::Other);
        let why = refused("http://u:SECRET@127.0.0.1:9/x", UrlRole::WebhookReceiver);
        assert!(
            why.contains("credentials in the URL") && !why.contains("SECRET"),
            "{why}"
        );
    }
}

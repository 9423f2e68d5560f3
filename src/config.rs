//! Where the harness points and with which credentials: the target, the
//! credentials and the Vipps-System-* headers, resolved from flags, environment
//! variables, a `.env` file or a Postman environment file.
//!
//! (The loader is filled by the configuration work of issue 2; the types below
//! are the contract the client and the CLI code against.)

use url::Url;

use crate::secret::Secret;

/// Base URL of the Vipps test environment.
pub const TEST_BASE_URL: &str = "https://apitest.vipps.no";
/// Base URL of Vipps production.
pub const PRODUCTION_BASE_URL: &str = "https://api.vipps.no";

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
    pub fn is_production(&self) -> bool {
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

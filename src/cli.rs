//! Command-line definitions (clap) only: no behaviour lives here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Prove a Vipps MobilePay ePayment integration meets the go-live checklist.
///
/// Exit status: 0 every required item passed; 1 an item or a scenario failed;
/// 2 bad usage or configuration, or a run in which nothing ran; 3 the target could not be reached or refused the
/// credentials; 4 the evidence could not be recorded (disk full, folder not
/// writable): the run stopped there and its folder is marked incomplete.
///
/// Results (each flow's verdict, the summary, the report path) go to
/// standard output; progress and diagnostics to standard error.
#[derive(Debug, Parser)]
#[command(name = "vipps-golive", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the checklist against a target (default: the embedded simulator).
    Run(RunArgs),
    /// Serve the simulator for a shop's own tests.
    ///
    /// Binds 127.0.0.1 by default, prints its base URL and the credentials it
    /// accepts, and runs until Ctrl-C.
    ///
    /// Example: vipps-golive simulator --port 7777 --journal shop-traffic.jsonl
    Simulator(SimulatorArgs),
    /// Judge references the shop's own system made (GET and the event log).
    ///
    /// Example: vipps-golive verify --env test shop-1001-a shop-1002-a shop-1003-a
    Verify(VerifyArgs),
    /// List the checklist IDs, their text, and the scenarios that cover each.
    Checklist(ChecklistArgs),
    /// Show the resolved configuration (secrets redacted) and where each value came from.
    ///
    /// Exits 2 and lists every problem when something is missing or malformed.
    ///
    /// Example: vipps-golive config --env test --env-file .env
    Config(ConfigArgs),
    /// Judge a shop's recorded traffic against the checklist rules.
    ///
    /// Reads the journal the simulator wrote (`vipps-golive simulator --journal
    /// FILE`) or, with --simulator, the live journal of a running simulator
    /// (needs --control), and writes the same evidence folder as `run`: one row
    /// per checklist ID, every finding with the exchange behind it and what to
    /// change. Exit status 0 when no item failed, 1 when one did.
    ///
    /// Example: vipps-golive audit --journal shop-traffic.jsonl --msn 123456
    Audit(AuditArgs),
    /// Check that a shop's webhook receiver accepts what it must and rejects what it must not.
    ///
    /// Sends six deliveries to URL, signed with S as Vipps signs them: a
    /// correct one, an unsigned one, one with a tampered body, one dated 20
    /// minutes ago, a duplicate, and an out-of-order pair; then reports which
    /// the receiver accepted (2xx) against the expected answer for each.
    ///
    /// Example: vipps-golive webhooks-check --url http://127.0.0.1:8000/vipps/webhook --secret "$SECRET"
    WebhooksCheck(WebhooksCheckArgs),
    /// Render the evidence report again, check a run folder, or report a killed run.
    ///
    /// `report DIR` (or `report DIR/evidence.json`) renders report.html from
    /// the evidence alone. `report --check DIR` hashes the folder again and
    /// lists every file changed, added or removed since the run: exit 0 when
    /// none, 1 when one did (or the signature does not verify).
    /// `report --from-journal DIR` renders what a run killed halfway recorded,
    /// marked INCOMPLETE.
    ///
    /// Example: vipps-golive report --check reports/latest --public-key golive.key.pub
    Report(ReportArgs),
    /// Run the same scenarios against the simulator and a real target, and list every difference.
    ///
    /// Runs the checklist's scenarios twice with the same client: against an
    /// in-process simulator and against --env test (or --base-url URL). Then
    /// compares, request by request, the status, the Problem error code and
    /// the body's shape, and per payment the state reached and the event
    /// log. Writes <out>/compare/<id>/ with compare.json, compare.html and
    /// both runs' folders. Differences the simulator documents as deviations
    /// (docs/fidelity.md) are shown but counted apart; --allow-list FILE
    /// accepts others. Exit status 0 when no other difference was found, 1
    /// when one was, 2 for bad usage, 3 when the target could not be reached.
    /// Production is refused: compare moves no real money.
    ///
    /// Example: vipps-golive compare --env test --env-file .env --test-phone 4791234567 --non-interactive
    Compare(CompareArgs),
    /// The shop's go-live evidence, from its own traffic, in one sealed folder.
    ///
    /// Judges the shop's recorded traffic (--journal FILE, repeatable, as the
    /// simulator or the recording proxy wrote it; or --simulator URL) with the
    /// rules `audit` uses, reads the shop's go-live references back live
    /// (--env test, --env production, or --base-url URL; found in the traffic
    /// unless --refs names them), probes the shop's webhook receiver
    /// (--webhook-url and --webhook-secret) as `webhooks-check` does, and
    /// takes a person's word for QA-ERRORS, PF-DESIGN and PF-SUPPORT
    /// (--attest). Writes <out>/pack-<id>/ sealed by one manifest.json
    /// (signed with --sign-key). The headline says READY TO SEND, REHEARSAL
    /// PASSED or NOT READY and what to fix. Exit status 0 when no item
    /// failed, 1 when one did, 2 bad usage, 3 a target could not be reached,
    /// 4 the folder could not be written. Step by step: docs/golive.md.
    ///
    /// Example: vipps-golive pack --journal shop.jsonl --env test --webhook-url https://shop.example/vipps/webhook --attest PF-DESIGN="Kari Nordmann, designer"
    Pack(PackArgs),
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["journal", "simulator"])))]
pub struct PackArgs {
    /// The shop's recorded traffic: a JSONL journal (`simulator --journal FILE`,
    /// or the recording proxy's); repeat for several, read in the order given.
    #[arg(long, value_name = "FILE", help_heading = "Traffic")]
    pub journal: Vec<PathBuf>,

    /// Base URL of a running simulator (started with --control): its live journal
    /// is the traffic, and the references are read back from it unless --env or --base-url says where.
    #[arg(long, value_name = "URL", help_heading = "Traffic")]
    pub simulator: Option<String>,

    /// Where the references are read back live (--env test | production, or --base-url URL), and the credentials.
    #[command(flatten)]
    pub target: TargetArgs,

    /// The go-live references (default: the shop's last payments ending CAPTURED,
    /// REFUNDED, CANCELLED, and AUTHORIZED for production, found in the traffic).
    #[arg(long, value_name = "REF", num_args = 1.., help_heading = "Go-live")]
    pub refs: Vec<String>,

    /// The shop's webhook receiver, probed as `webhooks-check` probes it.
    #[arg(
        long,
        value_name = "URL",
        requires = "webhook_secret",
        help_heading = "Webhooks"
    )]
    pub webhook_url: Option<String>,

    /// The webhook secret the registration returned [env: VIPPS_WEBHOOK_SECRET].
    #[arg(long, value_name = "SECRET", env = "VIPPS_WEBHOOK_SECRET", hide_env_values = true, value_parser = secret, help_heading = "Webhooks")]
    pub webhook_secret: Option<crate::Secret>,

    /// Seconds to wait for each answer of the webhook receiver.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 10,
        help_heading = "Webhooks"
    )]
    pub webhook_timeout: u64,

    /// A person attests what traffic cannot show: --attest PF-DESIGN="Name, role"
    /// (QA-ERRORS, PF-DESIGN or PF-SUPPORT; repeatable).
    #[arg(long, value_name = "ID=WHO", help_heading = "Go-live")]
    pub attest: Vec<String>,

    /// Sign the manifest with this Ed25519 private key (PKCS#8 PEM or base64 seed): manifest.sig.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub sign_key: Option<PathBuf>,

    /// Output folder; the pack writes <DIR>/pack-<id>/ and points <DIR>/latest at it.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "reports",
        help_heading = "Output"
    )]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// Output folder; each comparison writes <DIR>/compare/<id>/ and points <DIR>/compare/latest at it.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "reports",
        help_heading = "Output"
    )]
    pub out: PathBuf,

    /// Differences to accept: one pattern per line matched against a difference's id (`*` and `?` as wildcards, `#` comments).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub allow_list: Option<PathBuf>,

    /// Only scenarios matching this tag expression, e.g. "@EP-CAPTURE or @QA-ERRORS".
    #[arg(long, value_name = "EXPR", help_heading = "Scenarios")]
    pub tags: Option<String>,

    /// Run the .feature files of this folder instead of the built-in ones.
    #[arg(long, value_name = "DIR", help_heading = "Scenarios")]
    pub features: Option<PathBuf>,

    /// Scenarios at once against the target (default: 4 on test).
    #[arg(long, value_name = "N", help_heading = "Scenarios")]
    pub concurrency: Option<usize>,

    /// Run @slow scenarios on the target too (EXPIRED takes 10 real minutes on test).
    #[arg(long, help_heading = "Scenarios")]
    pub include_slow: bool,

    /// The test user's phone number (test environment), e.g. 4791234567.
    #[arg(long, value_name = "PHONE", help_heading = "Test environment")]
    pub test_phone: Option<String>,

    /// Never wait for a person: such scenarios are not compared (for CI).
    #[arg(long, help_heading = "Test environment")]
    pub non_interactive: bool,
}

/// Which target and which credentials.
#[derive(Debug, Clone, Args, Default)]
pub struct TargetArgs {
    /// Target environment.
    #[arg(long = "env", value_enum, default_value_t = EnvName::Simulator, help_heading = "Target")]
    pub env: EnvName,

    /// Any other base URL (a standalone simulator, a proxy); overrides --env.
    #[arg(long, value_name = "URL", help_heading = "Target")]
    pub base_url: Option<String>,

    /// A .env file to read credentials from (default: ./.env when present).
    #[arg(long, value_name = "FILE", help_heading = "Credentials")]
    pub env_file: Option<PathBuf>,

    /// A Postman environment file (the variable names of the official collections).
    #[arg(long, value_name = "FILE", help_heading = "Credentials")]
    pub postman_env: Option<PathBuf>,

    /// Client id [env: VIPPS_CLIENT_ID]. Prefer the environment: flags show in `ps`.
    #[arg(long, value_name = "ID", help_heading = "Credentials")]
    pub client_id: Option<String>,

    /// Client secret [env: VIPPS_CLIENT_SECRET]. Prefer the environment: flags show in `ps`.
    #[arg(long, value_name = "SECRET", help_heading = "Credentials")]
    pub client_secret: Option<String>,

    /// Ocp-Apim-Subscription-Key [env: VIPPS_SUBSCRIPTION_KEY].
    #[arg(long, value_name = "KEY", help_heading = "Credentials")]
    pub subscription_key: Option<String>,

    /// Merchant serial number [env: VIPPS_MSN].
    #[arg(long, value_name = "MSN", help_heading = "Credentials")]
    pub msn: Option<String>,

    /// Vipps-System-Name header [env: VIPPS_SYSTEM_NAME].
    #[arg(long, value_name = "NAME", help_heading = "System headers")]
    pub system_name: Option<String>,

    /// Vipps-System-Version header [env: VIPPS_SYSTEM_VERSION].
    #[arg(long, value_name = "VERSION", help_heading = "System headers")]
    pub system_version: Option<String>,

    /// Vipps-System-Plugin-Name header [env: VIPPS_SYSTEM_PLUGIN_NAME].
    #[arg(long, value_name = "NAME", help_heading = "System headers")]
    pub plugin_name: Option<String>,

    /// Vipps-System-Plugin-Version header [env: VIPPS_SYSTEM_PLUGIN_VERSION].
    #[arg(long, value_name = "VERSION", help_heading = "System headers")]
    pub plugin_version: Option<String>,
}

/// Named targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum EnvName {
    /// The embedded simulator.
    #[default]
    Simulator,
    /// https://apitest.vipps.no
    Test,
    /// https://api.vipps.no (real money)
    Production,
}

impl TargetArgs {
    /// The plain input config resolves (config never sees clap).
    pub fn input(&self) -> crate::config::TargetInput {
        crate::config::TargetInput {
            env: match self.env {
                EnvName::Simulator => crate::config::EnvName::Simulator,
                EnvName::Test => crate::config::EnvName::Test,
                EnvName::Production => crate::config::EnvName::Production,
            },
            base_url: self.base_url.clone(),
            env_file: self.env_file.clone(),
            postman_env: self.postman_env.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            subscription_key: self.subscription_key.clone(),
            msn: self.msn.clone(),
            system_name: self.system_name.clone(),
            system_version: self.system_version.clone(),
            plugin_name: self.plugin_name.clone(),
            plugin_version: self.plugin_version.clone(),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// Output folder; each run writes reports/<run-id>/ and points reports/latest at it.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "reports",
        help_heading = "Output"
    )]
    pub out: PathBuf,

    /// Only scenarios matching this tag expression, e.g. "@EP-CAPTURE or @GL-TEST".
    #[arg(long, value_name = "EXPR", help_heading = "Scenarios")]
    pub tags: Option<String>,

    /// Run the .feature files of this folder instead of the built-in ones.
    #[arg(long, value_name = "DIR", help_heading = "Scenarios")]
    pub features: Option<PathBuf>,

    /// Scenarios at once (default: all on the simulator, 4 on test, 1 on production).
    #[arg(long, value_name = "N", help_heading = "Scenarios")]
    pub concurrency: Option<usize>,

    /// Stop starting scenarios after the first failure.
    #[arg(long, help_heading = "Scenarios")]
    pub fail_fast: bool,

    /// Run @slow scenarios on real targets (EXPIRED takes 10 real minutes on test).
    #[arg(long, help_heading = "Scenarios")]
    pub include_slow: bool,

    /// A person confirms a manual item: --attest PF-DESIGN="Name, role" (repeatable).
    #[arg(long, value_name = "ID=WHO", help_heading = "Scenarios")]
    pub attest: Vec<String>,

    /// The test user's phone number (test environment), e.g. 4791234567.
    #[arg(long, value_name = "PHONE", help_heading = "Test environment")]
    pub test_phone: Option<String>,

    /// Never wait for a person: such scenarios are NOT APPLICABLE (for CI).
    #[arg(long, help_heading = "Test environment")]
    pub non_interactive: bool,

    /// The shop's own return page, checked without cookies (PF-REDIRECTS).
    #[arg(long, value_name = "URL", help_heading = "Scenarios")]
    pub return_url: Option<String>,

    /// Required for --env production: the run moves real money.
    #[arg(long, help_heading = "Production")]
    pub allow_real_money: bool,

    /// Largest amount sent in production, in øre.
    #[arg(
        long,
        value_name = "ØRE",
        default_value_t = 100,
        help_heading = "Production"
    )]
    pub max_amount: i64,
}

#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// References the shop's own system made.
    #[arg(value_name = "REF")]
    pub references: Vec<String>,

    /// Also read references from this file (one a line; # starts a comment).
    #[arg(long, value_name = "FILE")]
    pub from_file: Option<PathBuf>,

    /// Judge against GL-PROD (AUTHORIZED, CAPTURED, REFUNDED, CANCELLED) instead of GL-TEST.
    #[arg(long)]
    pub prod: bool,

    /// Output folder, as for `run`.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct ChecklistArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Output format of `checklist`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct SimulatorArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 7777)]
    pub port: u16,

    /// Address to bind. Anything but loopback exposes the simulator to the network.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,

    /// Also write every request received to this JSONL file (for `audit`).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,

    /// Serve /__sim/ control requests (approve, abort, expire, faults, clock, journal).
    ///
    /// Off by default: anyone who can reach the port could reset or expire payments.
    #[arg(long)]
    pub control: bool,

    /// Turn off the rate limits (5/min per reference for modifications, 120/min for reads).
    #[arg(long)]
    pub no_rate_limits: bool,

    /// A JSON file of sales units (market, capabilities, extra units) and
    /// fidelity switches. See docs/simulator-server.md.
    ///
    /// Each unit may set `market` (NO, DK or FI; default NO), which decides its
    /// currency (NOK, DKK, EUR) and its capture deadline (180 days, 14, 14),
    /// and the capabilities `longLiving`, `pushMessage`, `card` and `express`
    /// (a capability left out is false). A Danish and a Finnish unit:
    /// docs/units-dk-fi.json. Example:
    ///
    ///   {"units": [{"msn": "345678", "name": "Kaffebar", "market": "DK",
    ///     "clientId": "dk-id", "clientSecret": "dk-secret",
    ///     "subscriptionKey": "dk-key", "pushMessage": true}]}
    #[arg(long, value_name = "FILE")]
    pub units: Option<PathBuf>,

    /// Each capture, refund and cancel keeps its payment busy this long on the
    /// simulator's clock (advancing it ends the wait); another modification
    /// meanwhile gets 423 (code 6160), as the real API answers.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub processing_ms: u64,

    /// Recording proxy: forward every request (except /__sim/) to this upstream,
    /// e.g. https://apitest.vipps.no, and journal both sides (with --journal).
    /// A Vipps production host is refused here in any spelling: see --env.
    #[arg(long, value_name = "URL", conflicts_with = "env")]
    pub proxy: Option<String>,

    /// Recording proxy to a Vipps environment: `test` is the same as
    /// `--proxy https://apitest.vipps.no`; `production` is the only way to
    /// record traffic to production, and needs --allow-real-money.
    #[arg(long = "env", value_enum, value_name = "ENV")]
    pub env: Option<ProxyEnv>,

    /// With --env production: real money moves through the proxy.
    #[arg(long, requires = "env")]
    pub allow_real_money: bool,
}

/// The Vipps environment `simulator --env` records traffic to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProxyEnv {
    /// https://apitest.vipps.no
    Test,
    /// https://api.vipps.no (real money: needs --allow-real-money)
    Production,
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["journal", "simulator"])))]
pub struct AuditArgs {
    /// The JSONL journal to audit (as `vipps-golive simulator --journal FILE` writes it).
    #[arg(long, value_name = "FILE", help_heading = "Source")]
    pub journal: Option<PathBuf>,

    /// Base URL of a running simulator (started with --control): its live journal is audited.
    #[arg(long, value_name = "URL", help_heading = "Source")]
    pub simulator: Option<String>,

    /// Only traffic from this time on (RFC 3339, e.g. 2026-12-01T09:00:00Z, or a date).
    #[arg(long, value_name = "TIME", help_heading = "Filters")]
    pub since: Option<String>,

    /// Only requests sent with this Merchant-Serial-Number.
    #[arg(long, value_name = "MSN", help_heading = "Filters")]
    pub msn: Option<String>,

    /// Also open each returnUrl (at most 5) without cookies and check the page answers.
    #[arg(long, help_heading = "Checks")]
    pub check_return_url: bool,

    /// A person attests what traffic cannot show: --attest QA-ERRORS="Name, role"
    /// (QA-ERRORS, PF-DESIGN or PF-SUPPORT; repeatable).
    #[arg(long, value_name = "ID=WHO", help_heading = "Checks")]
    pub attest: Vec<String>,

    /// Output folder; the audit writes <out>/<audit-id>/.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "reports",
        help_heading = "Output"
    )]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct WebhooksCheckArgs {
    /// The shop's webhook endpoint, as registered with Vipps.
    #[arg(long, value_name = "URL")]
    pub url: String,

    /// The webhook secret the registration returned [env: VIPPS_WEBHOOK_SECRET].
    /// Prefer the environment: flags show in `ps`.
    #[arg(long, value_name = "SECRET", env = "VIPPS_WEBHOOK_SECRET", hide_env_values = true, value_parser = secret)]
    pub secret: crate::Secret,

    /// Output folder; the check writes <out>/<check-id>/evidence.json and report.html.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub out: PathBuf,

    /// Seconds to wait for each answer.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub timeout: u64,

    /// The merchant serial number the receiver expects in a delivery's `msn`
    /// [env: VIPPS_MSN]; recorded in the evidence.
    #[arg(long, value_name = "MSN", env = "VIPPS_MSN")]
    pub msn: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// A run folder, or its evidence.json.
    #[arg(
        value_name = "DIR|FILE",
        required_unless_present_any = ["from_journal", "gen_key"]
    )]
    pub path: Option<PathBuf>,

    /// Check the folder against its manifest.json, and every PASS against its evidence.json, instead of rendering.
    #[arg(long, conflicts_with_all = ["from_journal", "out", "sign_key"], help_heading = "Check")]
    pub check: bool,

    /// With --check: verify manifest.sig with this Ed25519 public key (PEM or base64).
    #[arg(long, value_name = "FILE", requires = "check", help_heading = "Check")]
    pub public_key: Option<PathBuf>,

    /// Seal the folder: rewrite manifest.json and sign it (Ed25519 private key, PKCS#8 PEM or base64 seed).
    #[arg(long, value_name = "FILE", help_heading = "Render")]
    pub sign_key: Option<PathBuf>,

    /// Render from the journal of a run that did not finish (marked INCOMPLETE).
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "path",
        help_heading = "Render"
    )]
    pub from_journal: Option<PathBuf>,

    /// Write the HTML here instead of report.html beside the evidence.
    #[arg(long, value_name = "FILE", help_heading = "Render")]
    pub out: Option<PathBuf>,

    /// Print the checklist table as GitHub-flavoured Markdown on stdout (for a
    /// CI job summary); writes nothing.
    #[arg(
        long,
        conflicts_with_all = ["check", "from_journal", "out", "sign_key"],
        help_heading = "Render"
    )]
    pub markdown: bool,

    /// Make an Ed25519 key pair: FILE (private, PKCS#8 PEM) and FILE.pub; nothing else is done.
    #[arg(long, value_name = "FILE", exclusive = true, help_heading = "Keys")]
    pub gen_key: Option<PathBuf>,
}

/// Wraps a secret flag at once, so `Debug` of the arguments never shows it.
fn secret(value: &str) -> Result<crate::Secret, String> {
    if value.is_empty() {
        return Err(
            "the secret is empty (hint: use the secret the webhook registration returned)".into(),
        );
    }
    Ok(crate::Secret::new(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}

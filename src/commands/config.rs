//! `vipps-golive config`: shows the resolved configuration, secrets redacted,
//! and where each value came from.

use std::io::Write;

use crate::cli::ConfigArgs;
use crate::config::{self, Config, Environment, Field, Provenance, Source};
use crate::simulator::SimConfig;

/// Show the resolved configuration (secrets redacted) and where each value came from.
///
/// Prints the target, the base URL, the MSN, the four Vipps-System-* headers
/// and, for each secret, only `…<first 8 hex of its SHA-256>` and its source.
/// When something is missing or malformed, returns
/// [`crate::Error::Config`] listing every problem (exit status 2).
///
/// Example: `vipps-golive config --env test --env-file .env`
pub fn run(args: &ConfigArgs, out: &mut dyn Write) -> Result<(), crate::Error> {
    run_with(args, &Environment::from_process(), out)
}

/// [`run`] with an injected environment (tests).
pub fn run_with(
    args: &ConfigArgs,
    env: &Environment,
    out: &mut dyn Write,
) -> Result<(), crate::Error> {
    let (config, provenance) = config::load_with(&args.target.input(), env)?;
    match out.write_all(render(&config, &provenance).as_bytes()) {
        // `vipps-golive config | head` is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|source| crate::Error::Io {
            context: "could not write the configuration to standard output".into(),
            source,
        }),
    }
}

/// The text `config` prints. Never contains a secret value.
pub fn render(config: &Config, provenance: &Provenance) -> String {
    let mut rows: Vec<(String, String, String)> = Vec::new();
    let from = |field: Field| {
        provenance
            .source(field)
            .map(ToString::to_string)
            .unwrap_or_else(|| "unknown".into())
    };
    rows.push((
        "target".into(),
        config.target.name().into(),
        provenance.target.to_string(),
    ));
    rows.push((
        "base URL".into(),
        config
            .target
            .base_url()
            .map(|u| config::display_url(&u))
            .unwrap_or_else(|| "(embedded, chosen when it starts)".into()),
        provenance.target.to_string(),
    ));
    match &config.credentials {
        Some(c) => {
            rows.push(("MSN".into(), c.msn.clone(), from(Field::Msn)));
            for (field, secret) in [
                (Field::ClientId, &c.client_id),
                (Field::ClientSecret, &c.client_secret),
                (Field::SubscriptionKey, &c.subscription_key),
            ] {
                rows.push((short(field).into(), secret.to_string(), from(field)));
            }
        }
        None => {
            // The simulator's built-in account is public (it is printed by
            // `vipps-golive simulator`), but show it the same way as any other.
            let account = SimConfig::default_accounts().into_iter().next();
            let sim = Source::Simulator.to_string();
            let msn = account.as_ref().map_or("-".into(), |a| a.msn.clone());
            rows.push(("MSN".into(), msn, sim.clone()));
            for (field, value) in [
                (
                    Field::ClientId,
                    account.as_ref().map(|a| a.client_id.clone()),
                ),
                (
                    Field::ClientSecret,
                    account.as_ref().map(|a| a.client_secret.clone()),
                ),
                (
                    Field::SubscriptionKey,
                    account.as_ref().map(|a| a.subscription_key.clone()),
                ),
            ] {
                let shown = value
                    .map(|v| format!("…{}", crate::secret::fingerprint(&v)))
                    .unwrap_or_else(|| "-".into());
                rows.push((short(field).into(), shown, sim.clone()));
            }
        }
    }
    for (field, value) in [
        (Field::SystemName, &config.system.system_name),
        (Field::SystemVersion, &config.system.system_version),
        (Field::PluginName, &config.system.plugin_name),
        (Field::PluginVersion, &config.system.plugin_version),
    ] {
        rows.push((field.label().into(), value.clone(), from(field)));
    }

    let w0 = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
    let mut text = String::new();
    for (name, value, source) in rows {
        text.push_str(&format!("{name:<w0$}  {value:<w1$}  ({source})\n"));
    }
    if let Some(p) = &provenance.env_file {
        text.push_str(&format!(".env file read: {}\n", p.display()));
    }
    if let Some(p) = &provenance.postman_env {
        text.push_str(&format!("Postman environment read: {}\n", p.display()));
    }
    for w in &provenance.warnings {
        text.push_str(&format!("warning: {w}\n"));
    }
    text
}

fn short(field: Field) -> &'static str {
    match field {
        Field::SubscriptionKey => "subscription key",
        Field::Msn => "MSN",
        other => other.label(),
    }
}

//! Configuration: sources and precedence, every problem listed at once, and
//! `commands::config::run_with` (moved from tests/config_loading.rs; the
//! `config` command through the binary is tested there).

use std::path::{Path, PathBuf};

use crate::cli::{ConfigArgs, EnvName, TargetArgs};
use crate::config::{load_with, Environment, Field, Source, Target};

fn test_args() -> TargetArgs {
    TargetArgs {
        env: EnvName::Test,
        ..Default::default()
    }
}

fn full_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("VIPPS_CLIENT_ID", "env-client-id"),
        ("VIPPS_CLIENT_SECRET", "env-client-secret"),
        ("VIPPS_SUBSCRIPTION_KEY", "env-subscription-key"),
        ("VIPPS_MSN", "222222"),
        ("VIPPS_SYSTEM_NAME", "env-system"),
    ]
}

fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn postman(dir: &Path, entries: &[(&str, &str, bool)]) -> PathBuf {
    let values: Vec<_> = entries
        .iter()
        .map(|(k, v, enabled)| serde_json::json!({"key": k, "value": v, "type": "default", "enabled": enabled}))
        .collect();
    let doc = serde_json::json!({
        "id": "5f1c", "name": "Vipps test", "values": values,
        "_postman_variable_scope": "environment"
    });
    write(dir, "vipps.postman_environment.json", &doc.to_string())
}

fn official_postman(dir: &Path) -> PathBuf {
    postman(
        dir,
        &[
            ("base_url", "https://apitest.vipps.no", true),
            ("client_id", "pm-client-id", true),
            ("client_secret", "pm-client-secret", true),
            ("Ocp-Apim-Subscription-Key", "pm-subscription-key", true),
            ("merchantSerialNumber", "444444", true),
            ("vipps_system_name", "pm-system", true),
            ("vipps_system_version", "pm-1.0", true),
            ("vipps_system_plugin_name", "pm-plugin", true),
            ("vipps_system_plugin_version", "pm-2.0", true),
            ("internationalMobileNumber", "4791234567", true),
        ],
    )
}

#[test]
fn postman_environment_with_the_official_variable_names_supplies_everything() {
    let dir = tempfile::tempdir().unwrap();
    let args = TargetArgs {
        postman_env: Some(official_postman(dir.path())),
        ..test_args()
    };

    let (config, provenance) = load_with(&args.input(), &Environment::default()).unwrap();

    let creds = config.credentials.unwrap();
    assert_eq!(creds.client_id.expose(), "pm-client-id");
    assert_eq!(creds.client_secret.expose(), "pm-client-secret");
    assert_eq!(creds.subscription_key.expose(), "pm-subscription-key");
    assert_eq!(creds.msn, "444444");
    assert_eq!(config.system.system_name, "pm-system");
    assert_eq!(config.system.system_version, "pm-1.0");
    assert_eq!(config.system.plugin_name, "pm-plugin");
    assert_eq!(config.system.plugin_version, "pm-2.0");
    assert!(matches!(
        provenance.source(Field::SubscriptionKey),
        Some(Source::Postman {
            key: "Ocp-Apim-Subscription-Key",
            ..
        })
    ));
    assert!(provenance.warnings.is_empty(), "{:?}", provenance.warnings);
}

#[test]
fn disabled_and_blank_postman_variables_count_as_unset() {
    let dir = tempfile::tempdir().unwrap();
    let file = postman(
        dir.path(),
        &[
            ("client_id", "pm-client-id", false),
            ("client_secret", "", true),
            ("Ocp-Apim-Subscription-Key", "pm-key", true),
            ("merchantSerialNumber", "444444", true),
        ],
    );
    let args = TargetArgs {
        postman_env: Some(file),
        ..test_args()
    };

    let err = load_with(&args.input(), &Environment::default()).unwrap_err();

    let text = err.to_string();
    assert!(text.contains("client_id is missing"), "{text}");
    assert!(text.contains("client_secret is missing"), "{text}");
    assert_eq!(err.problems.len(), 2, "{text}");
}

#[test]
fn each_layer_overrides_the_next_flags_env_dotenv_postman_default() {
    let dir = tempfile::tempdir().unwrap();
    let pm = official_postman(dir.path());
    let dotenv = write(
        dir.path(),
        "vipps.env",
        "VIPPS_CLIENT_SECRET=dotenv-client-secret\nVIPPS_SUBSCRIPTION_KEY=dotenv-key\nVIPPS_MSN=333333\n# a comment\nVIPPS_SYSTEM_VERSION=\"dotenv 3\"\n",
    );
    let env = Environment::from_vars([
        ("VIPPS_SUBSCRIPTION_KEY", "env-key"),
        ("VIPPS_MSN", "222222"),
        ("UNRELATED", "x"),
    ]);
    let args = TargetArgs {
        env_file: Some(dotenv.clone()),
        postman_env: Some(pm.clone()),
        msn: Some("111111".into()),
        ..test_args()
    };

    let (config, provenance) = load_with(&args.input(), &env).unwrap();

    let creds = config.credentials.unwrap();
    assert_eq!(creds.msn, "111111", "flag beats environment");
    assert_eq!(
        creds.subscription_key.expose(),
        "env-key",
        "environment beats .env"
    );
    assert_eq!(
        creds.client_secret.expose(),
        "dotenv-client-secret",
        ".env beats Postman"
    );
    assert_eq!(
        creds.client_id.expose(),
        "pm-client-id",
        "Postman fills the rest"
    );
    assert_eq!(config.system.system_version, "dotenv 3");
    assert_eq!(provenance.source(Field::Msn), Some(&Source::Flag("--msn")));
    assert_eq!(
        provenance.source(Field::SubscriptionKey),
        Some(&Source::Environment("VIPPS_SUBSCRIPTION_KEY"))
    );
    assert_eq!(
        provenance.source(Field::ClientSecret),
        Some(&Source::EnvFile {
            path: dotenv,
            key: "VIPPS_CLIENT_SECRET"
        })
    );
    assert_eq!(
        provenance.source(Field::ClientId),
        Some(&Source::Postman {
            path: pm,
            key: "client_id"
        })
    );
}

#[test]
fn unset_system_headers_fall_back_to_defaults() {
    let env = Environment::from_vars(full_env());

    let (config, provenance) = load_with(&test_args().input(), &env).unwrap();

    assert_eq!(config.system.system_name, "env-system");
    assert_eq!(config.system.plugin_name, "vipps-golive");
    assert_eq!(provenance.source(Field::PluginName), Some(&Source::Default));
}

#[test]
fn the_default_env_file_is_read_when_present_and_skipped_when_absent() {
    let dir = tempfile::tempdir().unwrap();
    let present = write(
        dir.path(),
        ".env",
        "VIPPS_CLIENT_ID=a1\nVIPPS_CLIENT_SECRET=b2\nVIPPS_SUBSCRIPTION_KEY=c3\nVIPPS_MSN=1234\n",
    );

    let (config, _) = load_with(
        &test_args().input(),
        &Environment::default().with_default_env_file(&present),
    )
    .unwrap();
    assert_eq!(config.credentials.unwrap().msn, "1234");

    let err = load_with(
        &test_args().input(),
        &Environment::default().with_default_env_file(dir.path().join("absent.env")),
    )
    .unwrap_err();
    assert_eq!(err.problems.len(), 4, "{err}");
}

#[test]
fn every_problem_is_listed_at_once_with_where_to_set_it() {
    let args = TargetArgs {
        env: EnvName::Production,
        msn: Some("12ab".into()),
        system_name: Some("x".repeat(31)),
        plugin_version: Some("1.0\n2.0".into()),
        ..Default::default()
    };
    let env = Environment::from_vars([("VIPPS_CLIENT_SECRET", "")]);

    let err = load_with(&args.input(), &env).unwrap_err();

    let text = err.to_string();
    assert_eq!(err.problems.len(), 6, "{text}");
    for expected in [
        "client_id is missing",
        "--client-id",
        "VIPPS_CLIENT_ID",
        "`client_id` in the Postman environment",
        "client_secret is empty (from environment variable `VIPPS_CLIENT_SECRET`",
        "subscription key (Ocp-Apim-Subscription-Key) is missing",
        "`Ocp-Apim-Subscription-Key` in the Postman environment",
        "merchant serial number (MSN) `12ab` must be 4 to 7 digits",
        "Vipps-System-Name",
        "is 31 characters; Vipps allows at most 30",
        "Vipps-System-Plugin-Version contains a control character",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn msn_must_be_four_to_seven_digits() {
    for (msn, ok) in [
        ("123", false),
        ("1234", true),
        ("1234567", true),
        ("12345678", false),
        ("12 345", false),
        ("١٢٣٤٥", false),
    ] {
        let env = Environment::from_vars(full_env());
        let args = TargetArgs {
            msn: Some(msn.into()),
            ..test_args()
        };
        assert_eq!(load_with(&args.input(), &env).is_ok(), ok, "msn {msn:?}");
    }
}

#[test]
fn system_headers_of_thirty_characters_pass_and_thirty_one_fail() {
    let env = Environment::from_vars(full_env());
    let ok = TargetArgs {
        system_version: Some("v".repeat(30)),
        ..test_args()
    };
    let too_long = TargetArgs {
        plugin_name: Some("p".repeat(31)),
        ..test_args()
    };

    assert!(load_with(&ok.input(), &env).is_ok());
    let err = load_with(&too_long.input(), &env).unwrap_err();
    assert!(
        err.problems[0].contains("Vipps-System-Plugin-Name"),
        "{err}"
    );
}

#[test]
fn the_simulator_needs_no_credentials_but_uses_a_complete_set_when_given() {
    let none = load_with(&TargetArgs::default().input(), &Environment::default()).unwrap();
    assert_eq!(none.0.target, Target::Simulator);
    assert!(none.0.credentials.is_none());
    assert_eq!(none.1.source(Field::ClientSecret), Some(&Source::Simulator));

    let given = load_with(
        &TargetArgs::default().input(),
        &Environment::from_vars(full_env()),
    )
    .unwrap();
    assert_eq!(given.0.credentials.unwrap().msn, "222222");

    let partial = load_with(
        &TargetArgs::default().input(),
        &Environment::from_vars([("VIPPS_MSN", "123456")]),
    )
    .unwrap_err();
    assert_eq!(partial.problems.len(), 3, "{partial}");
    assert!(
        partial.to_string().contains("all four or none"),
        "{partial}"
    );
}

#[test]
fn base_url_must_be_an_absolute_http_url() {
    for bad in [
        "apitest.vipps.no",
        "ftp://example.com",
        "http://",
        "https://user:pw-planted@example.com",
        "",
    ] {
        let args = TargetArgs {
            base_url: Some(bad.into()),
            ..Default::default()
        };
        let err = load_with(&args.input(), &Environment::from_vars(full_env())).unwrap_err();
        assert!(err.to_string().contains("--base-url"), "{bad}: {err}");
        assert!(!err.to_string().contains("pw-planted"), "{err}");
    }
}

#[test]
fn a_custom_base_url_needs_credentials_and_the_real_hosts_keep_their_names() {
    let local = TargetArgs {
        base_url: Some("http://127.0.0.1:7777".into()),
        ..Default::default()
    };
    assert_eq!(
        load_with(&local.input(), &Environment::default())
            .unwrap_err()
            .problems
            .len(),
        4
    );
    let (config, _) = load_with(&local.input(), &Environment::from_vars(full_env())).unwrap();
    assert!(matches!(config.target, Target::Custom(_)));

    let prod = TargetArgs {
        base_url: Some("https://api.vipps.no/".into()),
        ..Default::default()
    };
    // Production is reached only through --env production, never as a URL.
    let err = load_with(&prod.input(), &Environment::from_vars(full_env())).unwrap_err();
    assert!(err.to_string().contains("--env production"), "{err}");
}

#[test]
fn a_named_env_file_that_is_missing_is_a_problem() {
    let args = TargetArgs {
        env_file: Some("/nonexistent/vipps.env".into()),
        ..Default::default()
    };

    let err = load_with(&args.input(), &Environment::default()).unwrap_err();

    assert!(
        err.to_string()
            .contains("--env-file `/nonexistent/vipps.env` does not exist"),
        "{err}"
    );
}

#[test]
fn a_malformed_env_file_line_is_reported_by_number_without_its_content() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "bad.env",
        "VIPPS_MSN=123456\nVIPPS_CLIENT_SECRET='planted-unterminated\n",
    );
    let args = TargetArgs {
        env_file: Some(file),
        ..Default::default()
    };

    let err = load_with(&args.input(), &Environment::default()).unwrap_err();

    let text = err.to_string();
    assert!(text.contains("could not be parsed at line 2"), "{text}");
    assert!(!text.contains("planted"), "{text}");
}

#[test]
fn a_postman_file_that_is_not_json_names_the_file_and_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "env.json",
        "{\"values\": [ {\"key\": \"client_secret\", \"value\": \"planted\" ",
    );
    let args = TargetArgs {
        postman_env: Some(file.clone()),
        ..Default::default()
    };

    let err = load_with(&args.input(), &Environment::default()).unwrap_err();

    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "--postman-env `{}` is not valid JSON",
            file.display()
        )),
        "{text}"
    );
    assert!(text.contains("line 1"), "{text}");
    assert!(!text.contains("planted"), "{text}");
}

#[test]
fn a_postman_collection_is_not_mistaken_for_an_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "c.json",
        r#"{"info": {"name": "x"}, "item": []}"#,
    );
    let args = TargetArgs {
        postman_env: Some(file),
        ..Default::default()
    };

    let err = load_with(&args.input(), &Environment::default()).unwrap_err();

    assert!(err.to_string().contains("no `values` list"), "{err}");
}

#[test]
fn a_postman_base_url_never_moves_the_run_off_the_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let args = TargetArgs {
        postman_env: Some(official_postman(dir.path())),
        ..Default::default()
    };

    let (config, provenance) = load_with(&args.input(), &Environment::default()).unwrap();

    assert_eq!(config.target, Target::Simulator);
    assert!(
        provenance.warnings[0].contains("is ignored"),
        "{:?}",
        provenance.warnings
    );
}

#[test]
fn malformed_secrets_are_described_never_quoted() {
    let args = TargetArgs {
        client_id: Some(" planted-id".into()),
        client_secret: Some("planted\r\nInjected: header".into()),
        subscription_key: Some("planted-key\t".into()),
        // A secret pasted into the MSN by mistake.
        msn: Some("planted-secret-in-the-msn".into()),
        system_name: Some("planted-secret-in-the-system-name-header".into()),
        ..test_args()
    };

    let err = load_with(&args.input(), &Environment::default()).unwrap_err();

    let text = err.to_string();
    assert_eq!(err.problems.len(), 5, "{text}");
    assert!(!text.contains("planted"), "{text}");
    assert!(!format!("{err:?}").contains("planted"));
}

#[test]
fn config_run_with_writes_the_same_rendering_as_the_command() {
    let args = ConfigArgs {
        target: test_args(),
    };
    let mut out = Vec::new();

    crate::commands::config::run_with(&args, &Environment::from_vars(full_env()), &mut out)
        .unwrap();

    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("target"), "{text}");
    assert!(!text.contains("env-client-secret"), "{text}");
}

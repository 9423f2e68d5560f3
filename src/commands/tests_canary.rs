//! The canary: distinctive secret values planted in every input the harness
//! reads, followed through configuration (success and error paths), Debug and
//! Display, panics, redaction, the journal file and TRACE-level logs. None may
//! come out anywhere.

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use crate::cli::{ConfigArgs, EnvName, TargetArgs};
use crate::config::{load_with, Environment};
use crate::evidence::{Exchange, Journal, RawExchange, Recorder};
use crate::Secret;
use chrono::Utc;

const CLIENT_ID: &str = "CANARY-ID-7f3a";
const CLIENT_SECRET: &str = "CANARY-SECRET-7f3a";
const SUBSCRIPTION_KEY: &str = "CANARY-KEY-7f3a";
const TOKEN: &str = "CANARY-TOKEN-7f3a";
const PHONE: &str = "4798765432";
/// The common stem: catches any partial leak too.
const STEM: &str = "CANARY-";

/// Everything the tracing subscriber wrote.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(STEM), "a canary leaked into {what}:\n{text}");
    assert!(
        !text.contains(PHONE),
        "the phone number leaked into {what}:\n{text}"
    );
}

fn raw_with_canaries() -> RawExchange {
    RawExchange {
        started_at: Utc::now(),
        duration_ms: 7,
        method: "POST".into(),
        url: format!("http://127.0.0.1:9/accesstoken/get?token={TOKEN}&access_token={TOKEN}"),
        request_headers: vec![
            ("Authorization".into(), format!("Bearer {TOKEN}")),
            ("client_id".into(), CLIENT_ID.into()),
            ("client_secret".into(), CLIENT_SECRET.into()),
            ("Ocp-Apim-Subscription-Key".into(), SUBSCRIPTION_KEY.into()),
            ("X-Echo".into(), format!("Bearer {TOKEN}")),
        ],
        request_body: format!(
            r#"{{"customer":{{"phoneNumber":"{PHONE}"}},"client_secret":"{CLIENT_SECRET}","deep":[{{"password":"{CLIENT_SECRET}"}}]}}"#
        )
        .into_bytes(),
        status: Some(200),
        response_headers: vec![("authorization".into(), format!("bearer {TOKEN}"))],
        response_body: format!(
            r#"{{"access_token":"{TOKEN}","token_type":"Bearer","redirectUrl":"https://landing.vipps.no?token={TOKEN}","echo":"Authorization: Bearer {TOKEN}"}}"#
        )
        .into_bytes(),
        error: Some(format!(
            "error sending request for url (http://127.0.0.1:9/x?access_token={TOKEN}): client_secret={CLIENT_SECRET}"
        )),
        attempt: 1,
        reference: Some("acme-canary-1".into()),
        checklist_ids: vec!["EP-CREATE".into()],
        scenario: Some("canary".into()),
    }
}

#[test]
fn planted_secrets_appear_in_no_output_debug_panic_journal_or_log() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();

    tracing::subscriber::with_default(subscriber, || {
        let dir = tempfile::tempdir().unwrap();

        // Configuration, success path: every layer carries a canary.
        let dotenv = dir.path().join("canary.env");
        std::fs::write(
            &dotenv,
            format!("VIPPS_CLIENT_SECRET={CLIENT_SECRET}\nVIPPS_MSN=123456\n"),
        )
        .unwrap();
        let postman = dir.path().join("canary.postman_environment.json");
        std::fs::write(
            &postman,
            serde_json::json!({"values": [
                {"key": "client_id", "value": CLIENT_ID, "enabled": true},
                {"key": "Ocp-Apim-Subscription-Key", "value": SUBSCRIPTION_KEY, "enabled": true},
                {"key": "base_url", "value": "https://api.vipps.no", "enabled": true}
            ]})
            .to_string(),
        )
        .unwrap();
        let args = TargetArgs {
            env: EnvName::Test,
            env_file: Some(dotenv),
            postman_env: Some(postman),
            ..Default::default()
        };
        let env = Environment::from_vars([("VIPPS_SUBSCRIPTION_KEY", SUBSCRIPTION_KEY)]);
        assert_clean("Environment's Debug", &format!("{env:?}"));
        let (config, provenance) = load_with(&args.input(), &env).unwrap();
        let creds = config.credentials.clone().unwrap();
        assert_eq!(
            creds.client_secret.expose(),
            CLIENT_SECRET,
            "the value is still usable"
        );
        for (what, text) in [
            ("Config Debug", format!("{config:?}")),
            ("Config pretty Debug", format!("{config:#?}")),
            ("Credentials Debug", format!("{creds:?}")),
            (
                "Secret Display",
                format!(
                    "{} {} {}",
                    creds.client_id, creds.client_secret, creds.subscription_key
                ),
            ),
            ("Provenance Debug", format!("{provenance:?}")),
            (
                "config command",
                crate::commands::config::render(&config, &provenance),
            ),
        ] {
            assert_clean(what, &text);
        }
        let mut out = Vec::new();
        crate::commands::config::run_with(
            &ConfigArgs {
                target: args.clone(),
            },
            &env,
            &mut out,
        )
        .unwrap();
        assert_clean("config command output", &String::from_utf8_lossy(&out));

        // Configuration, error path: malformed and planted values.
        let bad = TargetArgs {
            env: EnvName::Production,
            client_id: Some(format!("{CLIENT_ID}\n")),
            client_secret: Some(format!(" {CLIENT_SECRET}")),
            msn: Some("x".into()),
            ..Default::default()
        };
        let bad_env = Environment::from_vars([(
            "VIPPS_SUBSCRIPTION_KEY",
            format!("{SUBSCRIPTION_KEY}\u{7}"),
        )]);
        let err = load_with(&bad.input(), &bad_env).unwrap_err();
        assert_eq!(err.problems.len(), 4, "{err}");
        assert_clean("ConfigError Display", &err.to_string());
        assert_clean("ConfigError Debug", &format!("{err:?}"));
        let top: crate::Error = err.into();
        assert_clean("top-level Error", &format!("{top} {top:?}"));

        // Panics: unwrap on a failed load, and a panic built from Debug.
        let payload = catch_unwind(AssertUnwindSafe(|| {
            load_with(&bad.input(), &bad_env).unwrap()
        }))
        .unwrap_err();
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(message.contains("ConfigError"), "{message}");
        assert_clean("unwrap panic message", &message);
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            secret: Secret,
            creds: crate::config::Credentials,
        }
        let holder = Holder {
            secret: Secret::new(TOKEN),
            creds: creds.clone(),
        };
        let payload = catch_unwind(AssertUnwindSafe(|| panic!("state: {holder:?}"))).unwrap_err();
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(message.contains("Secret(…"), "{message}");
        assert_clean("Debug panic message", &message);
        assert_clean(
            "Secret JSON",
            &serde_json::to_string(&holder.secret).unwrap(),
        );

        // Redaction and the journal.
        let exchange = Exchange::from_raw(raw_with_canaries());
        let as_json = serde_json::to_string(&exchange).unwrap();
        assert_clean("redacted exchange", &as_json);
        assert_clean("redacted exchange Debug", &format!("{exchange:?}"));
        let path = dir.path().join("journal.jsonl");
        let journal = Journal::create(&path).unwrap();
        journal.record(&exchange);
        journal.record(&Exchange::from_raw(raw_with_canaries()));
        assert_clean("journal file", &std::fs::read_to_string(&path).unwrap());
        assert_eq!(Journal::read(&path).unwrap().len(), 2);

        // Log something about each of these objects, as careless code would.
        tracing::trace!(?config, ?provenance, ?exchange, "everything at trace");
        tracing::debug!(secret = %creds.client_secret, "display at debug");
    });

    let captured = logs.text();
    assert!(
        captured.contains("everything at trace"),
        "the subscriber captured nothing: {captured}"
    );
    assert!(captured.contains("configuration resolved"), "{captured}");
    assert_clean("captured logs", &captured);
}

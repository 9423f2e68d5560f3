//! Ctrl-C during a guided production run (issue 11 point 8): the run stops
//! waiting and still cleans up: what was left authorized or waiting is
//! cancelled, and the cleanup is evidence. Its own test binary, because the
//! test sends SIGINT to its own process.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::clock::VirtualClock;
use crate::runner::{self, RunOptions};
use crate::simulator::{serve, SimConfig, Simulator};
use crate::steps::target::{Decision, Person};
use crate::steps::StepError;
use futures::future::BoxFuture;

use crate::testing::targets_support;
use targets_support::{answer_on_landing_page, custom_target};

/// Approves the first payment through the landing page; at the second, the
/// person presses Ctrl-C instead of answering.
struct InterruptsAtTheSecond {
    asked: AtomicUsize,
    interrupted: std::sync::Mutex<Option<String>>,
}

impl Person for InterruptsAtTheSecond {
    fn ask<'a>(
        &'a self,
        _decision: Decision,
        reference: &'a str,
        link: &'a str,
    ) -> BoxFuture<'a, Result<(), StepError>> {
        Box::pin(async move {
            if self.asked.fetch_add(1, Ordering::SeqCst) == 0 {
                answer_on_landing_page(link, "approve").await?;
            } else {
                *self.interrupted.lock().unwrap() = Some(reference.to_owned());
                let status = std::process::Command::new("kill")
                    .args(["-INT", &std::process::id().to_string()])
                    .status()
                    .unwrap();
                assert!(status.success());
            }
            Ok(())
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_a_wait_still_cancels_what_the_run_left() {
    let config = SimConfig {
        control_enabled: true,
        ..SimConfig::default()
    };
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = serve::bind(Simulator::new(config), addr).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut o = RunOptions::new(custom_target(server.base_url()), out.path().to_path_buf());
    o.clock = Some(VirtualClock::new());
    o.production_stand_in = true;
    o.allow_real_money = true;
    let person = Arc::new(InterruptsAtTheSecond {
        asked: AtomicUsize::new(0),
        interrupted: std::sync::Mutex::new(None),
    });
    o.person = Some(person.clone());
    o.tags = Some("@GL-PROD".into());
    // The run says it was interrupted (exit 1), after writing its folder.
    let err = runner::run(o)
        .await
        .expect_err("an interrupted run is not a success");
    assert!(err.to_string().contains("interrupted"), "{err}");
    let dir = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("evidence.json").is_file())
        .expect("the run folder has its evidence");
    let e = crate::report::load(&dir.join("evidence.json")).unwrap();
    let waiting = person
        .interrupted
        .lock()
        .unwrap()
        .clone()
        .expect("the person was asked twice");

    let cleanup: Vec<_> = e
        .exchanges
        .iter()
        .filter(|x| x.scenario.as_deref() == Some("cleanup after the production run"))
        .collect();
    assert!(!cleanup.is_empty(), "no cleanup after Ctrl-C");
    // The payment the person was asked about when Ctrl-C came is cancelled.
    assert!(
        cleanup
            .iter()
            .any(|x| x.url.ends_with(&format!("{waiting}/cancel")) && x.status == Some(200)),
        "the interrupted payment `{waiting}` was not cancelled: {:#?}",
        cleanup
            .iter()
            .map(|x| (&x.method, &x.url, x.status))
            .collect::<Vec<_>>()
    );
    // And the simulator agrees: the payment is no longer waiting for anyone.
    let state = server.simulator().with_engine(|engine| {
        engine
            .ledger
            .get("123456", &waiting)
            .map(|p| p.state.as_str())
    });
    assert_eq!(state, Some("TERMINATED"));
}

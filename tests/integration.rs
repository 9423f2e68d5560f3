//! Every integration test, compiled into one test binary.
//!
//! Each `tests/*.rs` file is a module here rather than a crate of its own
//! (Cargo.toml sets `autotests = false`). Sixty test binaries each linked the
//! whole dependency tree: minutes of linking and gigabytes of disk, enough to
//! fill CI's disk. One binary links once. Run one file's tests with
//! `cargo test --test integration <file>::`, e.g. `report_html::`.
//!
//! A new `tests/*.rs` file must be named below, or it would never run:
//! `every_test_file_is_a_module_here` fails until it is.

// Helpers shared by the test files, compiled once.
mod client_support;
mod common;
mod doctored_support;
mod report_support;
mod shop_support;
mod sim_core_support;
mod sim_support;

// The test files, one module each.
mod architecture;
mod audit_webhooks_check;
mod ci_unattended;
mod cli_ci_outputs;
mod cli_run;
mod client_errors;
mod client_headers;
mod client_logs;
mod client_poll;
mod client_reference;
mod client_retry;
mod client_token;
mod compare;
mod compare_lying;
mod config_loading;
mod evidence_client_canary;
mod evidence_clock;
mod evidence_echo_canary;
mod evidence_journal;
mod evidence_journal_ahead;
mod evidence_redaction;
mod fidelity_control;
mod fidelity_epayment;
mod fidelity_idempotency;
mod fidelity_landing;
mod fidelity_limits;
mod fidelity_om;
mod fidelity_round2;
mod fidelity_round3;
mod fidelity_schema;
mod fidelity_schemathesis;
mod fidelity_standalone;
mod fidelity_state;
mod fidelity_token;
mod fidelity_validation;
mod fidelity_webhooks;
mod hardening_guard;
mod hardening_run;
mod harness_mark;
mod inputs_canary;
mod inputs_not_files;
mod pack_shop;
mod production_guard;
mod real_test_env;
mod report_axe;
mod report_chromium;
mod report_html;
mod report_manifest;
mod report_recheck;
mod report_recover;
mod report_snapshot;
mod sim_adapters_parity;
mod sim_adapters_standalone;
mod sim_banner_closed_pipe;
mod sim_body_timeout;
mod sim_core_fuzz;
mod sim_core_idempotency;
mod sim_core_landing;
mod sim_core_payments;
mod sim_core_ratelimit;
mod sim_core_time;
mod sim_core_token;
mod sim_core_validation;
mod sim_edge_e2e;
mod sim_edge_faults;
mod sim_edge_processing;
mod sim_edge_proxy;
mod sim_edge_robust;
mod sim_edge_webhooks;
mod sim_journal_kill;
mod verdict_vocabulary;

/// A file in `tests/` that is not declared above would be silently skipped.
#[test]
fn every_test_file_is_a_module_here() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let this =
        std::fs::read_to_string(dir.join("integration.rs")).expect("read tests/integration.rs");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("read tests/") {
        let path = entry.expect("entry of tests/").path();
        let (Some(stem), Some("rs")) = (
            path.file_stem().and_then(|s| s.to_str()),
            path.extension().and_then(|e| e.to_str()),
        ) else {
            continue;
        };
        if stem != "integration" && !this.contains(&format!("\nmod {stem};\n")) {
            missing.push(format!("tests/{stem}.rs"));
        }
    }
    assert!(
        missing.is_empty(),
        "declare these in tests/integration.rs (`mod name;`) or they never run: {missing:?}"
    );
}

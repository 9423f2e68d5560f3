//! What CI reads (issue 20 points 7 and 8), through the binary: junit.xml
//! and cucumber.json agree with the report, a step no definition matches
//! fails the run and names the closest wording, and a run where nothing ran
//! is not a pass.

use std::path::Path;
use std::process::{Command, Output};

use quick_xml::events::Event;
use serde_json::Value;

fn golive(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vipps-golive"));
    for var in [
        "VIPPS_CLIENT_ID",
        "VIPPS_CLIENT_SECRET",
        "VIPPS_SUBSCRIPTION_KEY",
        "VIPPS_MSN",
    ] {
        cmd.env_remove(var);
    }
    cmd.current_dir(dir).args(args).output().unwrap()
}

/// One `<testcase>` of junit.xml.
#[derive(Debug, Default)]
struct Case {
    suite: String,
    name: String,
    properties: Vec<(String, String)>,
    failure: Option<String>,
    skipped: Option<String>,
}

fn attr(e: &quick_xml::events::BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .map(|a| a.unwrap())
        .find(|a| a.key.as_ref() == name.as_bytes())
        .map(|a| a.unescape_value().unwrap().into_owned())
}

/// Every test case of `xml`, with its suite; panics on malformed XML.
fn testcases(xml: &str) -> Vec<Case> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut suite, mut cases) = (String::new(), Vec::new());
    let mut current: Option<Case> = None;
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testsuite" => suite = attr(&e, "name").unwrap(),
                b"testcase" => {
                    current = Some(Case {
                        suite: suite.clone(),
                        name: attr(&e, "name").unwrap(),
                        ..Case::default()
                    })
                }
                b"property" => {
                    if let Some(c) = current.as_mut() {
                        c.properties
                            .push((attr(&e, "name").unwrap(), attr(&e, "value").unwrap()));
                    }
                }
                b"failure" => current.as_mut().unwrap().failure = attr(&e, "message"),
                b"skipped" => current.as_mut().unwrap().skipped = attr(&e, "message"),
                _ => {}
            },
            Event::End(e) if e.name().as_ref() == b"testcase" => {
                cases.push(current.take().unwrap())
            }
            Event::Eof => break,
            _ => {}
        }
    }
    cases
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join("reports/latest").join(file)).unwrap()
}

#[test]
fn every_scenario_and_every_item_is_in_junit_and_a_rule_failure_fails_its_item() {
    let dir = tempfile::tempdir().unwrap();
    // A placeholder left from an example: only the QA-HEADERS rule finds it.
    let output = golive(
        dir.path(),
        &["run", "--out", "reports", "--system-name", "acme-shop"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr:\n{stderr}");
    let evidence: Value = serde_json::from_str(&read(dir.path(), "evidence.json")).unwrap();
    let cases = testcases(&read(dir.path(), "junit.xml"));

    let scenarios = evidence["scenarios"].as_array().unwrap();
    let scenario_cases: Vec<&Case> = cases.iter().filter(|c| c.suite != "checklist").collect();
    assert_eq!(scenario_cases.len(), scenarios.len(), "every scenario");
    for s in scenarios {
        let name = s["name"].as_str().unwrap();
        let case = scenario_cases.iter().find(|c| c.name == name).unwrap();
        let ids: Vec<&str> = case
            .properties
            .iter()
            .filter(|(k, _)| k == "checklist_id")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(
            ids,
            s["checklist_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect::<Vec<_>>()
        );
        match s["verdict"].as_str().unwrap() {
            "PASS" => assert!(case.failure.is_none() && case.skipped.is_none(), "{case:?}"),
            "NOT_APPLICABLE" => assert!(
                case.skipped
                    .as_deref()
                    .unwrap()
                    .starts_with("NOT APPLICABLE: "),
                "{case:?}"
            ),
            "NEEDS_ATTESTATION" => assert!(
                case.skipped
                    .as_deref()
                    .unwrap()
                    .starts_with("NEEDS ATTESTATION: "),
                "{case:?}"
            ),
            other => panic!("{name}: {other}"),
        }
    }

    let items = evidence["items"].as_array().unwrap();
    let checklist: Vec<&Case> = cases.iter().filter(|c| c.suite == "checklist").collect();
    assert_eq!(checklist.len(), items.len());
    for item in items {
        let case = checklist.iter().find(|c| c.name == item["id"]).unwrap();
        assert_eq!(
            case.failure.is_some(),
            item["verdict"] == "FAIL",
            "{case:?} vs {item:#}"
        );
    }
    let headers = checklist.iter().find(|c| c.name == "QA-HEADERS").unwrap();
    assert!(
        headers.failure.as_deref().unwrap().contains("placeholder"),
        "{headers:?}"
    );

    let json: Value = serde_json::from_str(&read(dir.path(), "cucumber.json")).unwrap();
    let features = json.as_array().unwrap();
    let elements = features
        .iter()
        .flat_map(|f| f["elements"].as_array().unwrap());
    let listed = elements
        .clone()
        .filter(|e| e["id"].as_str().unwrap().contains(';'))
        .count();
    assert_eq!(
        listed,
        scenarios.len() + items.len(),
        "every scenario and item"
    );
    for f in &features[..features.len() - 1] {
        assert!(
            f["uri"].as_str().unwrap().ends_with(".feature"),
            "{}",
            f["uri"]
        );
        assert!(f["id"].is_string() && f["line"].is_u64(), "{f:#}");
        for e in f["elements"].as_array().unwrap() {
            for t in e["tags"].as_array().unwrap() {
                assert!(t["name"].as_str().unwrap().starts_with('@'), "{t}");
            }
        }
    }
    let headers = features.last().unwrap()["elements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "QA-HEADERS")
        .unwrap();
    assert_eq!(headers["steps"][0]["result"]["status"], "failed");
}

#[test]
fn a_step_no_definition_matches_fails_the_run_and_names_the_closest_wording() {
    let dir = tempfile::tempdir().unwrap();
    let features = dir.path().join("features");
    std::fs::create_dir(&features).unwrap();
    std::fs::write(
        features.join("typo.feature"),
        "Feature: Typo\n\n  @EP-REFUND @simulator\n  Scenario: A refund with a typo\n    Given a payment of 249.00 NOK that the customer has approved\n    And the shop has captured 249.00 NOK\n    When the shop refund 50 NOK\n    Then the payment is AUTHORIZED with 249.00 NOK captured and 50.00 NOK refunded\n",
    )
    .unwrap();
    let output = golive(
        dir.path(),
        &["run", "--features", "features", "--out", "reports"],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr:\n{stderr}");
    let told = "`When the shop refund 50 NOK` matches no step definition; the closest known step is `When the shop refunds 50.00 NOK`";
    assert!(
        stdout.contains(told) || stderr.contains(told),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );

    let cases = testcases(&read(dir.path(), "junit.xml"));
    let case = cases
        .iter()
        .find(|c| c.name == "A refund with a typo")
        .unwrap();
    let failure = case.failure.as_deref().unwrap();
    assert!(
        failure.starts_with("When the shop refund 50 NOK: "),
        "{failure}"
    );
    assert!(failure.contains(told), "{failure}");
    for bad in ["Step doesn't match", "Step panicked", "src/steps/"] {
        assert!(!failure.contains(bad), "{failure}");
    }

    let json: Value = serde_json::from_str(&read(dir.path(), "cucumber.json")).unwrap();
    let steps = json[0]["elements"][0]["steps"].as_array().unwrap();
    let statuses: Vec<&str> = steps
        .iter()
        .map(|s| s["result"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["passed", "passed", "undefined", "skipped"]);
    assert!(steps[2]["result"]["error_message"]
        .as_str()
        .unwrap()
        .contains(told));
}

#[test]
fn a_run_that_selects_no_scenario_is_exit_2_nothing_ran() {
    let dir = tempfile::tempdir().unwrap();
    let output = golive(
        dir.path(),
        &["run", "--tags", "@NO-SUCH-TAG", "--out", "reports"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr:\n{stderr}");
    assert!(stderr.contains("nothing ran"), "{stderr}");
}

//! `vipps-golive checklist`: each checklist ID, its text, and the scenarios that cover it.

use std::io::Write;

use serde::Serialize;

use crate::cli::{ChecklistArgs, Format};
use crate::domain::checklist::ITEMS;
use crate::runner::features;
use crate::Error;

#[derive(Debug, Serialize)]
struct Row {
    id: &'static str,
    area: &'static str,
    title: &'static str,
    proof: &'static str,
    manual: bool,
    scenarios: Vec<Covered>,
}

#[derive(Debug, Serialize)]
struct Covered {
    feature: String,
    scenario: String,
    /// Where it runs: simulator, test, production, manual.
    targets: Vec<String>,
}

/// Lists the checklist with the built-in scenarios behind each item.
///
/// Example: `vipps-golive checklist --format json`
pub fn run(args: &ChecklistArgs, out: &mut impl Write) -> Result<(), Error> {
    let features = features::embedded().map_err(|e| Error::Usage(e.to_string()))?;
    let rows: Vec<Row> = ITEMS
        .iter()
        .map(|item| Row {
            id: item.id,
            area: item.area.title(),
            title: item.title,
            proof: item.proof,
            manual: item.manual,
            scenarios: features
                .iter()
                .flat_map(|f| f.scenarios.iter().map(move |s| (f, s)))
                .filter(|(_, s)| s.tags.iter().any(|t| t == item.id))
                .map(|(f, s)| Covered {
                    feature: features::feature_path(f),
                    scenario: s.name.clone(),
                    targets: s
                        .tags
                        .iter()
                        .filter(|t| {
                            ["simulator", "test", "production", "manual"].contains(&t.as_str())
                        })
                        .cloned()
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let written = match args.format {
        Format::Json => serde_json::to_string_pretty(&rows)
            .map_err(|e| Error::Usage(e.to_string()))
            .and_then(|s| writeln!(out, "{s}").map_err(io)),
        Format::Text => rows
            .iter()
            .try_for_each(|r| {
                writeln!(out, "{}  {}", r.id, r.title)?;
                for s in &r.scenarios {
                    writeln!(
                        out,
                        "    {} [{}]  ({})",
                        s.scenario,
                        s.targets.join(" "),
                        s.feature
                    )?;
                }
                Ok(())
            })
            .map_err(io),
    };
    match written {
        // A closed pipe (`| head`) is not an error.
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

fn io(source: std::io::Error) -> Error {
    Error::Io {
        context: "cannot write the checklist".into(),
        source,
    }
}

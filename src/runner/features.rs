//! The Gherkin features: embedded in the binary, or read from `--features DIR`.

use std::path::{Path, PathBuf};

use cucumber::feature::Ext as _;
use cucumber::gherkin::{self, GherkinEnv};
use cucumber::parser::Parser;

use super::events::ScenarioKey;

/// The features of `features/`, compiled in so the binary runs from anywhere.
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "features/endpoints.feature",
        include_str!("../../features/endpoints.feature"),
    ),
    (
        "features/states.feature",
        include_str!("../../features/states.feature"),
    ),
    (
        "features/errors.feature",
        include_str!("../../features/errors.feature"),
    ),
    (
        "features/headers.feature",
        include_str!("../../features/headers.feature"),
    ),
    (
        "features/history.feature",
        include_str!("../../features/history.feature"),
    ),
    (
        "features/reference.feature",
        include_str!("../../features/reference.feature"),
    ),
    (
        "features/polling.feature",
        include_str!("../../features/polling.feature"),
    ),
    (
        "features/redirects.feature",
        include_str!("../../features/redirects.feature"),
    ),
    (
        "features/attestations.feature",
        include_str!("../../features/attestations.feature"),
    ),
    (
        "features/golive.feature",
        include_str!("../../features/golive.feature"),
    ),
];

/// Why features could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    #[error("cannot read the features folder `{path}`")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is not valid Gherkin: {message}")]
    Parse { path: String, message: String },
    #[error("`{path}` has no .feature files (hint: --features takes a folder of *.feature files)")]
    Empty { path: String },
}

/// Parses one feature text (with its Scenario Outlines expanded).
pub fn parse(path: &str, text: &str) -> Result<gherkin::Feature, FeatureError> {
    let mut feature =
        gherkin::Feature::parse(text, GherkinEnv::default()).map_err(|e| FeatureError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
    feature.path = Some(PathBuf::from(path));
    feature.expand_examples().map_err(|e| FeatureError::Parse {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// The embedded features.
pub fn embedded() -> Result<Vec<gherkin::Feature>, FeatureError> {
    EMBEDDED.iter().map(|(p, t)| parse(p, t)).collect()
}

/// Every `*.feature` file directly in `dir`, sorted by name.
pub fn from_dir(dir: &Path) -> Result<Vec<gherkin::Feature>, FeatureError> {
    let read = |source| FeatureError::Read {
        path: dir.display().to_string(),
        source,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("feature"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(FeatureError::Empty {
            path: dir.display().to_string(),
        });
    }
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).map_err(|source| FeatureError::Read {
                path: f.display().to_string(),
                source,
            })?;
            parse(&f.display().to_string(), &text)
        })
        .collect()
}

/// Hands already-parsed features to cucumber (no file system, no CLI).
pub struct InMemory(pub Vec<gherkin::Feature>);

impl<I> Parser<I> for InMemory {
    type Cli = cucumber::cli::Empty;
    type Output =
        futures::stream::Iter<std::vec::IntoIter<cucumber::parser::Result<gherkin::Feature>>>;

    fn parse(self, _input: I, _cli: Self::Cli) -> Self::Output {
        futures::stream::iter(self.0.into_iter().map(Ok).collect::<Vec<_>>())
    }
}

/// A scenario's key: its feature's path and its line.
pub fn key(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> ScenarioKey {
    ScenarioKey {
        path: feature_path(feature),
        line: scenario.position.line,
    }
}

/// The feature's path as shown (`features/endpoints.feature`).
pub fn feature_path(feature: &gherkin::Feature) -> String {
    feature
        .path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| feature.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_feature_parses_and_every_checklist_id_has_a_scenario() {
        let features = embedded().unwrap();
        for item in crate::domain::checklist::ITEMS {
            assert!(
                features.iter().any(|f| f
                    .scenarios
                    .iter()
                    .any(|s| s.tags.iter().any(|t| t == item.id))),
                "{} has no scenario",
                item.id
            );
        }
    }
}

//! The Gherkin features: embedded in the binary, or read from `--features DIR`.

use crate::domain::input::InputKind;
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
    /// A file that is not a regular one, too large, or unreadable.
    #[error("{}", crate::domain::input::with_cause(.0))]
    Input(crate::domain::input::InputError),
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
            // A FIFO named `x.feature` would block a plain read, a 2 GB one fill memory.
            let text = crate::domain::input::read_to_string(f, InputKind::Feature)
                .map_err(FeatureError::Input)?;
            parse(&f.display().to_string(), &text)
        })
        .collect()
}

/// What a step that no definition matches is told: its text and the
/// closest wording the built-in features use, so a typo ("the shop refund
/// 50 NOK") is fixed from the message alone. `ty` is the step's kind (an
/// `And` takes its kind from the step before it).
pub fn no_step_matches(keyword: &str, ty: gherkin::StepType, text: &str) -> String {
    let written = format!("{keyword} {text}");
    match closest(ty, text) {
        Some(known) => format!(
            "`{written}` matches no step definition; the closest known step is `{known}` (hint: docs/features.md lists the steps)"
        ),
        None => format!(
            "`{written}` matches no step definition (hint: docs/features.md lists the steps)"
        ),
    }
}

/// The built-in step closest to `text` by edit distance (case ignored, and
/// any number the same as any other: `50` is as good as `50.00`), as
/// `Given ...`/`When ...`/`Then ...`; a step of the same kind wins a near
/// tie, then the one closest as written.
fn closest(ty: gherkin::StepType, text: &str) -> Option<String> {
    static KNOWN: std::sync::OnceLock<Vec<(gherkin::StepType, String)>> =
        std::sync::OnceLock::new();
    let known = KNOWN.get_or_init(|| {
        let mut known: Vec<(gherkin::StepType, String)> = embedded()
            .unwrap_or_default()
            .iter()
            .flat_map(|f| {
                let background = f.background.iter().flat_map(|b| &b.steps);
                let scenarios = f.scenarios.iter().flat_map(|s| &s.steps);
                background.chain(scenarios)
            })
            .map(|s| (s.ty, s.value.clone()))
            .collect();
        known.sort_by(|a, b| (kind(a.0), &a.1).cmp(&(kind(b.0), &b.1)));
        known.dedup();
        known
    });
    let text = text.to_lowercase();
    let wording = numbers_as_one(&text);
    known
        .iter()
        .min_by_key(|(t, k)| {
            let k = k.to_lowercase();
            let other_kind = usize::from(*t != ty) * 2;
            let apart = strsim::levenshtein(&wording, &numbers_as_one(&k)) + other_kind;
            // Then the most pairs of letters in common as written, so
            // `50` finds `50.00` before `2.00`.
            let alike = (strsim::sorensen_dice(&text, &k) * 1e6) as u64;
            (apart, std::cmp::Reverse(alike))
        })
        .map(|(t, k)| format!("{} {k}", kind(*t)))
}

/// `text` with every number (`50`, `249.00`) written `0`.
fn numbers_as_one(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_number = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        // A point belongs to a number only between digits (`249.00`, not `3.`).
        let decimal = c == '.' && chars.peek().is_some_and(char::is_ascii_digit);
        let digit = c.is_ascii_digit() || (in_number && decimal);
        if digit && !in_number {
            out.push('0');
        } else if !digit {
            out.push(c);
        }
        in_number = digit;
    }
    out
}

fn kind(ty: gherkin::StepType) -> &'static str {
    match ty {
        gherkin::StepType::Given => "Given",
        gherkin::StepType::When => "When",
        gherkin::StepType::Then => "Then",
    }
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
    fn a_step_nobody_defined_is_told_the_closest_known_wording() {
        let told = no_step_matches("When", gherkin::StepType::When, "the shop refund 50 NOK");
        assert!(
            told.starts_with("`When the shop refund 50 NOK` matches no step definition; the closest known step is `When the shop refunds 50.00 NOK`"),
            "{told}"
        );
        assert_eq!(
            numbers_as_one("refunds 249.00 NOK, 2 of 3."),
            "refunds 0 NOK, 0 of 0."
        );
        // Case is ignored, and a step of the same kind wins.
        let told = no_step_matches("Then", gherkin::StepType::Then, "The Payment is captured");
        assert!(
            told.contains("closest known step is `Then the payment is "),
            "{told}"
        );
    }

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

//! The allow-list file of `compare --allow-list FILE`.
//!
//! One pattern a line, matched against a difference's `id` (as `compare.json`
//! shows it: `<scenario> | <operation> | <kind>`); `*` matches any run of
//! characters, `?` one character. Blank lines and lines starting with `#`
//! are ignored. Example:
//!
//! ```text
//! # The sandbox answers 403 for unapproved units; agreed with Vipps 2026-11.
//! The shop creates a payment with the PUSH_MESSAGE user flow | POST /epayment/v1/payments #1 | status
//! * | GET /epayment/v1/payments/{ref1} #* | body-shape
//! ```

use std::path::Path;

use globset::{Glob, GlobMatcher};

/// Parsed allow-list.
#[derive(Debug, Default)]
pub struct AllowList {
    entries: Vec<(String, GlobMatcher)>,
}

impl AllowList {
    /// Reads and parses `path`; the error names the file and the line.
    pub fn load(path: &Path) -> Result<AllowList, String> {
        let text =
            crate::domain::input::read_to_string(path, crate::domain::input::InputKind::AllowList)
                .map_err(|e| crate::domain::input::with_cause(&e))?;
        AllowList::parse(&text).map_err(|e| format!("allow-list `{}`: {e}", path.display()))
    }

    /// Parses the text of an allow-list.
    pub fn parse(text: &str) -> Result<AllowList, String> {
        let mut entries = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            // `[` and `{` appear in ids (`{ref1}`): only `*` and `?` are wildcards.
            let escaped: String = line
                .chars()
                .map(|c| match c {
                    '[' | ']' | '{' | '}' | '\\' => format!("[{c}]"),
                    c => c.to_string(),
                })
                .collect();
            let glob = Glob::new(&escaped)
                .map_err(|e| format!("line {}: `{line}` is not a pattern: {e}", n + 1))?;
            entries.push((line.to_owned(), glob.compile_matcher()));
        }
        Ok(AllowList { entries })
    }

    /// The first line matching `id`.
    pub fn matching(&self, id: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(_, m)| m.is_match(id))
            .map(|(line, _)| line.as_str())
    }

    /// Every pattern line, in file order.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(l, _)| l.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_ids_and_wildcards_match_and_braces_are_literal() {
        let list = AllowList::parse(
            "# comment\n\nScenario A | POST /epayment/v1/payments #1 | status\n* | GET /epayment/v1/payments/{ref1} #* | body-shape\n",
        )
        .unwrap();
        assert_eq!(list.lines().count(), 2);
        assert!(list
            .matching("Scenario A | POST /epayment/v1/payments #1 | status")
            .is_some());
        assert!(list
            .matching("Scenario A | POST /epayment/v1/payments #2 | status")
            .is_none());
        assert!(list
            .matching("Other | GET /epayment/v1/payments/{ref1} #3 | body-shape")
            .is_some());
        assert!(list
            .matching("Other | GET /epayment/v1/payments/{ref2} #3 | body-shape")
            .is_none());
    }

    #[test]
    fn a_missing_file_is_named() {
        let e = AllowList::load(Path::new("/nonexistent/allow.txt")).unwrap_err();
        assert!(e.contains("/nonexistent/allow.txt"), "{e}");
    }
}

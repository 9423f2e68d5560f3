//! Printing that never fails a run: results on standard output, progress and
//! diagnostics on standard error, every line scrubbed of secrets.
//!
//! A closed pipe (`run | head -1`), a closed terminal or a full disk
//! (`2>/dev/full`) must not abort a run that is writing evidence, so every
//! write here ignores its error: the files in the run folder are the record,
//! the terminal is a courtesy. (`println!` would panic with "failed printing
//! to stdout".) Every line also goes through [`crate::domain::redact::text`],
//! so a secret echoed in an error message never reaches the terminal.

use std::io::{self, Write};

use crate::domain::redact;

/// Writes a result line (a verdict, the summary, the report path) to stdout.
pub fn result(line: &str) {
    write_to(&mut io::stdout().lock(), line, true);
}

/// Writes a result line to stdout without scrubbing it. Only for text known to
/// hold nobody's secret: the simulator's fixed demo credentials, which its
/// banner prints so that a shop can be configured with them.
pub fn result_public(line: &str) {
    let mut out = io::stdout().lock();
    let _ = out.write_all(line.as_bytes());
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

/// Writes a diagnostic line (an error, a warning) to stderr.
pub fn diag(line: &str) {
    write_to(&mut io::stderr().lock(), line, true);
}

/// Writes `text` (scrubbed) and, when asked, a newline; ignores every error.
pub fn write_to(w: &mut dyn Write, text: &str, newline: bool) {
    let mut bytes = redact::text(text).into_bytes();
    if newline {
        bytes.push(b'\n');
    }
    let _ = w.write_all(&bytes);
    let _ = w.flush();
}

/// A stderr writer for the log subscriber: scrubs each record and never fails.
#[derive(Debug, Default, Clone, Copy)]
pub struct Diagnostics;

impl Write for Diagnostics {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let _ = io::stderr()
            .lock()
            .write_all(redact::text(&text).as_bytes());
        // Report everything written, even when stderr is gone: logging must
        // not fail the run.
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let _ = io::stderr().flush();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that fails like a closed pipe.
    struct Broken;

    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
    }

    #[test]
    fn a_broken_writer_is_ignored() {
        write_to(&mut Broken, "PASS", true);
    }

    #[test]
    fn a_registered_secret_never_reaches_the_terminal() {
        redact::register_secret("CANARY-output-secret-1");
        let mut out = Vec::new();
        write_to(
            &mut out,
            "Application with identifier 'CANARY-output-secret-1' was not found",
            true,
        );
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("CANARY-output-secret-1"), "{text}");
        assert!(text.ends_with('\n'));
    }
}

//! The inputs an audit or a pack reads: one journal file or several, or a
//! running simulator's journal, each hashed (SHA-256) and counted as it is
//! read, so the evidence names exactly the bytes it judged.

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::domain::input::{InputError, InputKind};
use crate::evidence::model::InputSource;

/// One input being read: its hash and length so far.
#[derive(Debug, Clone)]
pub struct Tally {
    kind: &'static str,
    location: String,
    state: Arc<Mutex<(Sha256, u64)>>,
}

impl Tally {
    fn new(kind: &'static str, location: String) -> Tally {
        Tally {
            kind,
            location,
            state: Arc::new(Mutex::new((Sha256::new(), 0))),
        }
    }

    /// What was read, once the reading is over.
    pub fn source(&self) -> InputSource {
        let (hash, bytes) = match self.state.lock() {
            Ok(s) => (s.0.clone().finalize(), s.1),
            Err(poisoned) => {
                let s = poisoned.into_inner();
                (s.0.clone().finalize(), s.1)
            }
        };
        InputSource {
            kind: self.kind.to_owned(),
            location: self.location.clone(),
            sha256: hash.iter().map(|b| format!("{b:02x}")).collect(),
            bytes,
        }
    }
}

/// A reader that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    tally: Tally,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Ok(mut s) = self.tally.state.lock() {
            s.0.update(&buf[..n]);
            s.1 += n as u64;
        }
        Ok(n)
    }
}

/// Several readers one after the other, with a newline put between two
/// when the first does not end in one: the last line of one journal never
/// runs into the first of the next.
struct Concat {
    readers: std::collections::VecDeque<Box<dyn Read + Send>>,
    last: Option<u8>,
    pending_newline: bool,
}

impl Read for Concat {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.pending_newline {
                self.pending_newline = false;
                buf[0] = b'\n';
                self.last = Some(b'\n');
                return Ok(1);
            }
            let Some(reader) = self.readers.front_mut() else {
                return Ok(0);
            };
            let n = reader.read(buf)?;
            if n > 0 {
                self.last = Some(buf[n - 1]);
                return Ok(n);
            }
            self.readers.pop_front();
            if !self.readers.is_empty() && self.last.is_some_and(|b| b != b'\n') {
                self.pending_newline = true;
            }
        }
    }
}

/// Journals opened: one stream, the tally of each, and their total size.
pub type Journals = (Box<dyn Read + Send>, Vec<Tally>, u64);

/// The journal files, opened in the order given and read as one stream,
/// each hashed as it is read; with their total size. Fails on the first
/// file that cannot be opened, naming it.
pub fn journals(paths: &[PathBuf]) -> Result<Journals, InputError> {
    let mut readers: std::collections::VecDeque<Box<dyn Read + Send>> = Default::default();
    let mut tallies = Vec::new();
    let mut size = 0;
    for path in paths {
        // Checked before it is opened: a FIFO or a device is refused, not read forever.
        let file = crate::domain::input::open(path, InputKind::Journal)?;
        size += file.metadata().map(|m| m.len()).unwrap_or(0);
        let tally = Tally::new("journal", path.display().to_string());
        readers.push_back(Box::new(Hashing {
            inner: io::BufReader::with_capacity(1 << 20, file),
            tally: tally.clone(),
        }));
        tallies.push(tally);
    }
    let stream = Concat {
        readers,
        last: None,
        pending_newline: false,
    };
    Ok((Box::new(stream), tallies, size))
}

/// Bytes already in memory (a running simulator's journal), hashed.
pub fn bytes(kind: &'static str, location: String, bytes: &[u8]) -> InputSource {
    let tally = Tally::new(kind, location);
    let mut reader = Hashing {
        inner: bytes,
        tally: tally.clone(),
    };
    let _ = io::copy(&mut reader, &mut io::sink());
    tally.source()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journals_are_read_as_one_stream_each_hashed_and_never_run_together() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.jsonl");
        let b = dir.path().join("b.jsonl");
        std::fs::write(&a, b"one\ntwo").unwrap();
        std::fs::write(&b, b"three\n").unwrap();
        let (mut stream, tallies, size) = journals(&[a, b]).unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        assert_eq!(text, "one\ntwo\nthree\n");
        assert_eq!(size, 13);
        let first = tallies[0].source();
        assert_eq!(first.bytes, 7);
        // sha256("one\ntwo")
        let expected: String = Sha256::digest(b"one\ntwo")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(first.sha256, expected);
        assert_eq!(tallies[1].source().bytes, 6);
        assert_eq!(bytes("simulator", "x".into(), b"one\ntwo").sha256, expected);
    }
}

//! Every file the tool reads as input is opened here: checked to be a
//! regular file *before* it is opened (a FIFO blocks the open, a device such
//! as `/dev/zero` never ends, a folder cannot be read), and, when it is read
//! whole, held to a cap that fits its kind (issue 22). The check is done again
//! on the opened file, so a path swapped in between is caught too; the cap is
//! enforced while reading, because a file can grow after the check.
//!
//! A journal is never read whole: it is streamed with a line cap
//! ([`JOURNAL_LINE_CAP`]) by whoever reads it.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The longest journal line read; a longer one is reported and skipped, so
/// memory stays bounded whatever the file holds (a file of zeros is one
/// endless line).
pub const JOURNAL_LINE_CAP: usize = 16 * 1024 * 1024;

/// What a file is read as: decides its cap and how it is named in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A signing key (`report --sign-key`, `--verify-key`).
    Key,
    /// A `.env` file of credentials.
    EnvFile,
    /// A Postman environment file.
    PostmanEnvironment,
    /// A compare allow-list.
    AllowList,
    /// A Gherkin `.feature` file.
    Feature,
    /// The simulator's sales units file.
    Units,
    /// A list of references, one a line (`verify --from-file`).
    References,
    /// An `evidence.json` (or another file of the folder) read back whole.
    Evidence,
    /// A journal: streamed line by line, never read whole (no cap on the file).
    Journal,
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

impl InputKind {
    /// The most bytes read from a file of this kind (`None`: streamed).
    pub fn cap(self) -> Option<u64> {
        match self {
            InputKind::Key | InputKind::EnvFile => Some(64 * KIB),
            InputKind::PostmanEnvironment
            | InputKind::AllowList
            | InputKind::Units
            | InputKind::References => Some(MIB),
            InputKind::Feature => Some(4 * MIB),
            // The largest evidence a run or an audit writes is tens of MB.
            InputKind::Evidence => Some(256 * MIB),
            InputKind::Journal => None,
        }
    }

    /// How the file is named in a message: "the key file `x`".
    pub fn noun(self) -> &'static str {
        match self {
            InputKind::Key => "key file",
            InputKind::EnvFile => ".env file",
            InputKind::PostmanEnvironment => "Postman environment",
            InputKind::AllowList => "allow-list",
            InputKind::Feature => "feature file",
            InputKind::Units => "units file",
            InputKind::References => "references file",
            InputKind::Evidence => "evidence file",
            InputKind::Journal => "journal",
        }
    }
}

/// An input that cannot be read, said with what it is and what to do.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("the {noun} `{path}` is {what}, not a regular file (hint: give the path of a file; a pipe, a device, a socket or a folder cannot be read as one)", noun = .kind.noun(), path = .path.display())]
    NotAFile {
        path: PathBuf,
        kind: InputKind,
        what: &'static str,
    },
    #[error("the {noun} `{path}` is larger than {cap}, the most a {noun} can be (hint: is this the right file?)", noun = .kind.noun(), path = .path.display(), cap = shown_size(*.cap))]
    TooLarge {
        path: PathBuf,
        kind: InputKind,
        cap: u64,
    },
    #[error("cannot read the {noun} `{path}`", noun = .kind.noun(), path = .path.display())]
    Io {
        path: PathBuf,
        kind: InputKind,
        #[source]
        source: std::io::Error,
    },
}

fn shown_size(bytes: u64) -> String {
    if bytes >= MIB && bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes % KIB == 0 {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// What a file type is, in words; `None` for a regular file.
fn not_regular(t: std::fs::FileType) -> Option<&'static str> {
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a named pipe (FIFO)");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("a device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

/// Opens `path` for reading once it is known to be a regular file.
pub fn open(path: &Path, kind: InputKind) -> Result<File, InputError> {
    let io = |source| InputError::Io {
        path: path.to_owned(),
        kind,
        source,
    };
    let refuse = |what| InputError::NotAFile {
        path: path.to_owned(),
        kind,
        what,
    };
    // Follows links, as open does; a FIFO is refused here, before open blocks on it.
    let meta = std::fs::metadata(path).map_err(io)?;
    if let Some(what) = not_regular(meta.file_type()) {
        return Err(refuse(what));
    }
    let file = File::open(path).map_err(io)?;
    let opened = file.metadata().map_err(io)?;
    if let Some(what) = not_regular(opened.file_type()) {
        return Err(refuse(what));
    }
    if let Some(cap) = kind.cap() {
        if opened.len() > cap {
            return Err(InputError::TooLarge {
                path: path.to_owned(),
                kind,
                cap,
            });
        }
    }
    Ok(file)
}

/// Reads the whole of `path`, a regular file of at most `kind`'s cap.
pub fn read(path: &Path, kind: InputKind) -> Result<Vec<u8>, InputError> {
    let file = open(path, kind)?;
    let cap = kind.cap().unwrap_or(u64::MAX);
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| InputError::Io {
            path: path.to_owned(),
            kind,
            source,
        })?;
    if bytes.len() as u64 > cap {
        return Err(InputError::TooLarge {
            path: path.to_owned(),
            kind,
            cap,
        });
    }
    Ok(bytes)
}

/// [`read`], as UTF-8 text.
pub fn read_to_string(path: &Path, kind: InputKind) -> Result<String, InputError> {
    String::from_utf8(read(path, kind)?).map_err(|e| InputError::Io {
        path: path.to_owned(),
        kind,
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()),
    })
}

/// One line of a streamed file, read by [`read_line_capped`].
#[derive(Debug, PartialEq, Eq)]
pub enum CappedLine {
    /// The line, with its newline if it had one (the last may not).
    Whole,
    /// Longer than the cap: what was read of it is dropped and the rest
    /// skipped up to its newline; `len` is its length in bytes.
    TooLong { len: u64 },
}

/// Reads the next line of `reader` into `buf` (cleared first), holding at
/// most `cap` bytes of it in memory: a longer line is skipped to its end
/// and reported as [`CappedLine::TooLong`], so a file of zeros (one endless
/// line) costs `cap` bytes, not its size. `None` at the end of the input.
pub fn read_line_capped(
    reader: &mut impl std::io::BufRead,
    buf: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<Option<CappedLine>> {
    buf.clear();
    let mut len: u64 = 0;
    let mut too_long = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            break;
        }
        let (chunk, done) = match memchr::memchr(b'\n', available) {
            Some(i) => (&available[..=i], true),
            None => (available, false),
        };
        let n = chunk.len();
        len += n as u64;
        if !too_long && buf.len() + n > cap {
            too_long = true;
            *buf = Vec::new();
        }
        if !too_long {
            buf.extend_from_slice(chunk);
        }
        reader.consume(n);
        if done {
            break;
        }
    }
    Ok(match (len, too_long) {
        (0, _) => None,
        (len, true) => Some(CappedLine::TooLong { len }),
        (_, false) => Some(CappedLine::Whole),
    })
}

/// The error's message with its cause, for a caller whose error is a string.
pub fn with_cause(e: &InputError) -> String {
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(dir.path(), InputKind::Key).unwrap_err();
        assert!(
            matches!(
                err,
                InputError::NotAFile {
                    what: "a folder",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("not a regular file"));
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_refused_without_reading_a_byte() {
        let err = read(Path::new("/dev/zero"), InputKind::Journal).unwrap_err();
        assert!(
            matches!(
                err,
                InputError::NotAFile {
                    what: "a device",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_at_once_rather_than_waited_on() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("notice: skipped: mkfifo is not available");
            return;
        }
        let started = std::time::Instant::now();
        let err = open(&fifo, InputKind::Feature).unwrap_err();
        assert!(matches!(err, InputError::NotAFile { .. }), "{err}");
        assert!(err.to_string().contains("named pipe"));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn a_file_over_its_kinds_cap_is_refused_and_one_at_the_cap_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("key.pem");
        std::fs::write(&big, vec![b'k'; 64 * 1024 + 1]).unwrap();
        let err = read(&big, InputKind::Key).unwrap_err();
        assert!(err.to_string().contains("larger than 64 KiB"), "{err}");
        std::fs::write(&big, vec![b'k'; 64 * 1024]).unwrap();
        assert_eq!(read(&big, InputKind::Key).unwrap().len(), 64 * 1024);
    }

    #[test]
    fn a_line_over_the_cap_is_skipped_to_its_end_and_the_next_is_read() {
        let text = b"short\n0123456789abcdef\nnext\nlast";
        let mut r = std::io::BufReader::with_capacity(4, &text[..]);
        let mut buf = Vec::new();
        let mut lines = Vec::new();
        while let Some(line) = read_line_capped(&mut r, &mut buf, 8).unwrap() {
            lines.push((line, String::from_utf8(buf.clone()).unwrap()));
        }
        assert_eq!(
            lines,
            vec![
                (CappedLine::Whole, "short\n".to_owned()),
                (CappedLine::TooLong { len: 17 }, String::new()),
                (CappedLine::Whole, "next\n".to_owned()),
                (CappedLine::Whole, "last".to_owned()),
            ]
        );
    }

    #[test]
    fn a_journal_has_no_cap_on_the_file() {
        assert_eq!(InputKind::Journal.cap(), None);
        assert_eq!(InputKind::Feature.cap(), Some(4 * MIB));
    }
}

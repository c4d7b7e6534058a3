//! RFC 1035 zone files: reading with `named-checkzone`-style checks, and canonical writing.
//!
//! ```
//! use zonectl_core::zonefile::{self, ReadOptions};
//!
//! let text = "$ORIGIN example.com.\n$TTL 1h\n@ NS ns1.example.net.\nwww A 192.0.2.1\n";
//! let loaded = zonefile::read_str(text, "example.com.zone", &ReadOptions::default()).unwrap();
//! assert_eq!(loaded.zone.len(), 2);
//! let canonical = zonefile::to_string(&loaded.zone);
//! assert!(canonical.contains("www 3600 IN A  192.0.2.1"));
//! ```

mod check;
mod expand;
mod reader;
mod writer;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::name::Name;
use crate::record::Zone;

pub(crate) use reader::read_file_listing;
pub use reader::{CheckedFile, check_file, read_file, read_str};
pub use writer::{to_string, write};

/// How to read a zone file.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The zone's origin. Without it, the file's first `$ORIGIN` is used, else the file name
    /// without `.zone`, `.db` or `.txt`.
    pub origin: Option<Name>,
    /// Treat a missing SOA or apex NS as an error, as `named-checkzone` does. Off by default:
    /// every provider zonectl manages supplies its own SOA and NS.
    pub strict: bool,
    /// Accept a file with no records as an empty zone (the `zonefile` provider's files may
    /// be emptied by a sync); otherwise it is an error, as a file with nothing in it is
    /// usually a mistake.
    pub allow_empty: bool,
    /// Stop reading after this many errors (the file is probably not a zone file).
    pub max_errors: usize,
    /// Let `$INCLUDE` read files outside the including file's directory. Off by default: a
    /// zone file from a pull request is untrusted input, and must not read (and echo in an
    /// error) `/etc/shadow`.
    pub allow_include_anywhere: bool,
    /// Refuse data outside the zone instead of skipping it with a warning. For a reader
    /// that writes the zone back: skipped lines would be lost.
    pub refuse_out_of_zone: bool,
    /// Check that every NS target inside the zone has an address (glue below a
    /// delegation), as `named-checkzone` and `kzonecheck` do. On for files a user checks or
    /// plans from; off for a provider reading its own files, which a user must be able to
    /// fix with that same provider.
    pub check_glue: bool,
    /// The most records the file and its includes may hold, `$GENERATE`d ones included: a
    /// bound on the memory and time an untrusted file can cost ([`DEFAULT_MAX_RECORDS`]).
    pub max_records: usize,
}

/// The records a zone file may hold unless told otherwise: more than any zone zonectl's
/// providers hold, and about 300 MB in memory.
pub const DEFAULT_MAX_RECORDS: usize = 1_000_000;

impl Default for ReadOptions {
    fn default() -> ReadOptions {
        ReadOptions {
            origin: None,
            strict: false,
            allow_empty: false,
            max_errors: 100,
            allow_include_anywhere: false,
            refuse_out_of_zone: false,
            check_glue: true,
            max_records: DEFAULT_MAX_RECORDS,
        }
    }
}

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The zone is not used.
    Error,
    /// The zone is used, possibly after a fix-up the message describes.
    Warning,
}

/// A problem found in a zone file, located at `file:line`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// The file, as given (an `$INCLUDE`d file by its resolved path).
    pub file: PathBuf,
    /// 1-based line; 0 when the problem concerns the whole zone.
    pub line: u32,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, naming the record.
    pub message: String,
}

/// Messages longer than this are cut: a 10 MB label echoed whole is no help.
const MAX_MESSAGE: usize = 400;

/// A message fit for one line of a terminal: control characters (a line break inside a
/// token, ESC, DEL) escaped as `\DDD`, as the canonical form writes them, and cut at a sane
/// length.
pub(crate) fn one_line(message: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(message.len().min(MAX_MESSAGE + 8));
    for c in message.chars() {
        if out.len() >= MAX_MESSAGE {
            out.push('…');
            break;
        }
        if c.is_control() {
            let _ = write!(out, "\\{:03}", u32::from(c).min(255));
        } else {
            out.push(c);
        }
    }
    out
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if self.line == 0 {
            write!(f, "{}: {severity}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}: {severity}: {}", self.file.display(), self.line, self.message)
        }
    }
}

impl Diagnostic {
    /// A diagnostic whose message is made one line (see [`one_line`]).
    pub(crate) fn new(file: &Path, line: u32, severity: Severity, message: &str) -> Diagnostic {
        Diagnostic { file: file.to_owned(), line, severity, message: one_line(message) }
    }
}

/// A zone read from a file, with the warnings found on the way.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The zone, normalized: duplicates merged, one TTL per record set.
    pub zone: Zone,
    /// Warnings, in the order found.
    pub warnings: Vec<Diagnostic>,
    /// Every file read: the one given, then each `$INCLUDE`d file.
    pub files: Vec<PathBuf>,
    /// Whether any file held a comment. Writing the zone back drops comments.
    pub had_comments: bool,
}

/// A zone file with at least one error. Holds every problem found, warnings included.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ZoneFileError {
    /// All problems, in the order found.
    pub diagnostics: Vec<Diagnostic>,
}

impl ZoneFileError {
    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Error)
    }

    fn single(file: &Path, line: u32, message: String) -> ZoneFileError {
        ZoneFileError { diagnostics: vec![Diagnostic::new(file, line, Severity::Error, &message)] }
    }
}

impl fmt::Display for ZoneFileError {
    /// The first error, and how many more there are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut errors = self.errors();
        match errors.next() {
            Some(first) => write!(f, "{first}")?,
            None => f.write_str("zone file error")?,
        }
        let more = errors.count();
        if more > 0 {
            write!(f, " (and {more} more error{})", if more == 1 { "" } else { "s" })?;
        }
        Ok(())
    }
}

/// The origin a file name implies: `example.com.zone` → `example.com.`.
pub fn origin_from_file_name(path: &Path) -> Option<Name> {
    let file = path.file_name()?.to_str()?;
    let stem = [".zone", ".db", ".txt"].iter().find_map(|ext| file.strip_suffix(ext)).unwrap_or(file);
    Name::parse(stem).ok()
}

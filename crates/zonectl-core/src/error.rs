//! The one public error type. Every provider maps its own failures into these kinds, so
//! callers can act on them (retry, ask for credentials, fix the record) without knowing
//! which provider answered.

use std::time::Duration;

use crate::name::Name;

/// A failed provider or engine operation.
///
/// Messages name the provider instance, the zone and the record where they are known, and
/// never hold a credential.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The zone or record does not exist.
    #[error("{provider}: {what} not found")]
    NotFound {
        /// The provider instance.
        provider: String,
        /// What was looked for (`zone example.com.`).
        what: String,
    },
    /// The credentials were refused or are missing.
    #[error("{provider}: not authenticated: {message}")]
    Unauthenticated {
        /// The provider instance.
        provider: String,
        /// What the provider said, or which credential is missing.
        message: String,
    },
    /// The credentials are valid but may not do this.
    #[error("{provider}: permission denied: {message}")]
    PermissionDenied {
        /// The provider instance.
        provider: String,
        /// What was refused.
        message: String,
    },
    /// Too many requests; try again after `retry_after` if known.
    #[error("{provider}: rate limited{}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// The provider instance.
        provider: String,
        /// How long the provider asked us to wait.
        retry_after: Option<Duration>,
    },
    /// A concurrent change conflicted, or the object already exists.
    #[error("{provider}: conflict: {message}")]
    Conflict {
        /// The provider instance.
        provider: String,
        /// What conflicted.
        message: String,
    },
    /// The provider (or a capability check before sending) refused a record.
    #[error("{provider}: zone {zone}: invalid record {record}: {message}")]
    InvalidRecord {
        /// The provider instance.
        provider: String,
        /// The zone.
        zone: Name,
        /// The record, in presentation form.
        record: String,
        /// Why.
        message: String,
    },
    /// The provider cannot do this at all (a type it lacks, a read-only record).
    #[error("{provider}: unsupported: {message}")]
    Unsupported {
        /// The provider instance.
        provider: String,
        /// What is unsupported.
        message: String,
    },
    /// The plan breaks the provider's rules or a safety threshold; nothing was sent.
    #[error("{provider}: zone {zone}: {}{}", problems.first().map(String::as_str).unwrap_or("refused"), more(problems.len()))]
    Refused {
        /// The provider instance.
        provider: String,
        /// The zone.
        zone: Name,
        /// Every problem, one line each, naming the record and the rule.
        problems: Vec<String>,
    },
    /// The configuration is wrong: a missing setting, a bad endpoint.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The request did not get an answer: connection, timeout, a server error.
    #[error("{provider}: {message}")]
    Transport {
        /// The provider instance.
        provider: String,
        /// What happened.
        message: String,
        /// Whether the provider may have carried out the request before the failure.
        ambiguous: bool,
    },
    /// A zone file could not be read.
    #[error(transparent)]
    ZoneFile(#[from] crate::zonefile::ZoneFileError),
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl Error {
    /// Whether trying the same operation again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::RateLimited { .. } | Error::Transport { .. } | Error::Conflict { .. })
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Error {
        Error::Io { path: path.to_owned(), source }
    }
}

fn more(n: usize) -> String {
    match n {
        0 | 1 => String::new(),
        2 => " (and 1 more problem)".into(),
        n => format!(" (and {} more problems)", n - 1),
    }
}

/// The result of provider and engine operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

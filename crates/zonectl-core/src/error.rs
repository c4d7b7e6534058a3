//! The one public error type. Every provider maps its own failures into these kinds, so
//! callers can act on them (retry, ask for credentials, fix the record, re-read) without
//! knowing which provider answered.

use std::sync::Arc;
use std::time::Duration;

use crate::name::Name;

/// The cause behind a [`Error::Transport`]: shared, so that an error can be cloned onto
/// every change of a bulk request it failed.
pub type Source = Arc<dyn std::error::Error + Send + Sync>;

/// A failed provider or engine operation.
///
/// Messages name the provider instance, the zone and the record where they are known, and
/// never hold a credential.
#[derive(Debug, Clone, thiserror::Error)]
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
    /// Too many requests: the service refused the request before acting on it; try again
    /// after `retry_after` if known.
    #[error("{provider}: rate limited by the service{}", if message.is_empty() { retry_after.map(|d| format!(" (retry after {})", crate::duration::show(d))).unwrap_or_default() } else { format!(": {message}") })]
    RateLimited {
        /// The provider instance.
        provider: String,
        /// How long the provider asked us to wait.
        retry_after: Option<Duration>,
        /// Why it was not waited out (empty: the retries ran out).
        message: String,
    },
    /// The change conflicts with the zone's state (the object already exists, or changed
    /// since it was read). Not retryable as it is: re-read and plan again.
    #[error("{provider}: conflict: {message}")]
    Conflict {
        /// The provider instance.
        provider: String,
        /// What conflicted.
        message: String,
    },
    /// The provider (or a capability check before sending) refused a record.
    #[error("{provider}: zone {zone}: {}{message}", record.as_ref().map(|r| format!("invalid record {r}: ")).unwrap_or_else(|| "refused: ".into()))]
    InvalidRecord {
        /// The provider instance.
        provider: String,
        /// The zone.
        zone: Name,
        /// The record, in presentation form, where it is known.
        record: Option<String>,
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
    /// The configuration is wrong: a missing setting, a bad endpoint. The message says
    /// what and where to fix it; the caller adds the file and table it came from.
    #[error("{0}")]
    InvalidConfig(String),
    /// No provider holds the zone, or several do and nothing says which are its targets.
    #[error("{0}")]
    Routing(String),
    /// A condition an edit set on the zone (an RFC 2136 prerequisite) does not hold;
    /// nothing was sent.
    #[error("zone {zone}: {message}")]
    ConditionFailed {
        /// The zone.
        zone: Name,
        /// What does not hold.
        message: String,
        /// The front door's own code for it (an RFC 2136 response code).
        code: u16,
    },
    /// The request did not get an answer: connection, timeout, a server error.
    #[error("{provider}: {message}")]
    Transport {
        /// The provider instance.
        provider: String,
        /// What happened.
        message: String,
        /// Whether the provider may have carried out the request before the failure: a
        /// write that met a dropped connection or a server error. Its outcome is unknown
        /// until the zone is read again.
        ambiguous: bool,
        /// The underlying failure.
        #[source]
        source: Option<Source>,
    },
    /// The provider answered, but not in a form zonectl understands (a body that is not
    /// the JSON its API documents, a redirect). Trying again will not change that.
    #[error("{provider}: unexpected answer: {message}")]
    Protocol {
        /// The provider instance.
        provider: String,
        /// What was unexpected.
        message: String,
    },
    /// An ACME challenge was placed, but not every authoritative server showed it in time.
    #[error("{name}: TXT value not seen after {} at: {}", crate::duration::show(*waited), servers.join(", "))]
    NotPropagated {
        /// Where the value was placed.
        name: Name,
        /// How long was waited.
        waited: std::time::Duration,
        /// The servers that did not show it, each with what it answered.
        servers: Vec<String>,
    },
    /// A zone file could not be read.
    #[error(transparent)]
    ZoneFile(#[from] crate::zonefile::ZoneFileError),
    /// A local file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: Arc<std::io::Error>,
    },
}

impl Error {
    /// Whether trying the same operation again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::RateLimited { .. } | Error::Transport { .. })
    }

    /// Whether the operation may have been carried out although it failed: the zone must be
    /// read again to know.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, Error::Transport { ambiguous: true, .. })
    }

    /// A local file error.
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Error {
        Error::Io { path: path.to_owned(), source: Arc::new(source) }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_and_protocol_errors_are_not_retried_transport_is() {
        let conflict = Error::Conflict { provider: "p".into(), message: "exists".into() };
        assert!(!conflict.is_retryable());
        let protocol = Error::Protocol { provider: "p".into(), message: "not JSON".into() };
        assert!(!protocol.is_retryable());
        let dropped = Error::Transport { provider: "p".into(), message: "x".into(), ambiguous: true, source: None };
        assert!(dropped.is_retryable() && dropped.is_ambiguous());
    }

    #[test]
    fn the_source_chain_is_kept() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let e = Error::Transport {
            provider: "p".into(),
            message: "GET /zones".into(),
            ambiguous: false,
            source: Some(Arc::new(io)),
        };
        let source = std::error::Error::source(&e).expect("a source");
        assert_eq!(source.to_string(), "reset by peer");
        let copy = e.clone();
        assert!(std::error::Error::source(&copy).is_some());
    }

    #[test]
    fn an_invalid_record_names_it_when_known() {
        let zone = Name::parse("example.com").unwrap();
        let named = Error::InvalidRecord {
            provider: "p".into(),
            zone: zone.clone(),
            record: Some("www.example.com. 30 IN A 192.0.2.1".into()),
            message: "TTL too low".into(),
        };
        assert_eq!(
            named.to_string(),
            "p: zone example.com.: invalid record www.example.com. 30 IN A 192.0.2.1: TTL too low"
        );
        let unnamed = Error::InvalidRecord { provider: "p".into(), zone, record: None, message: "bad".into() };
        assert_eq!(unnamed.to_string(), "p: zone example.com.: refused: bad");
    }
}

//! What a provider's API is like and how its error answers map to zonectl's one error type.

use std::time::Duration;

use serde_json::Value;
use zonectl_core::{Error, Name, Record};

use super::*;

/// What a provider's API is like, declared once by the provider module.
#[derive(Debug, Clone, Copy)]
pub struct Api {
    /// The documented request budget: requests per period, per account.
    pub rate_limit: Option<(u32, Duration)>,
    /// How its errors read.
    pub errors: ErrorFormat,
    /// Whether a 409 means "a concurrent request conflicted; this one was not carried out"
    /// (ZoneID), and is retried.
    pub retry_conflicts: bool,
    /// Whom the budget is counted for: the account, or the client's address.
    pub rate_scope: RateScope,
}

/// How an API words its errors.
#[derive(Clone, Copy)]
pub struct ErrorFormat {
    /// The human message of an error answer (in its body, or a header), if it has one.
    pub message: fn(&Response) -> Option<String>,
    /// Where the credentials come from, for a 401 (`LUADNS_API_USERNAME / LUADNS_API_TOKEN`).
    pub credentials: &'static str,
    /// An answer the API gives a meaning of its own (Domeneshop's 403 for a domain not in
    /// the account, mydomain.lu's EPP codes); `None` leaves it to the common mapping.
    pub special: fn(&Exchange<'_>) -> Option<Error>,
}

impl std::fmt::Debug for ErrorFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErrorFormat").field("credentials", &self.credentials).finish()
    }
}

/// An error answer with what was asked and about what: what [`ErrorFormat::special`] sees.
#[derive(Debug)]
pub struct Exchange<'a> {
    /// The provider instance.
    pub provider: &'a str,
    /// The request.
    pub request: &'a Request,
    /// The answer.
    pub response: &'a Response,
    /// The zone and record it concerned.
    pub about: About<'a>,
    /// The message [`ErrorFormat::message`] found, or a description of the body.
    pub message: String,
}

/// What a request is about, so that errors can name it.
#[derive(Debug, Clone, Copy, Default)]
pub struct About<'a> {
    /// The zone.
    pub zone: Option<&'a Name>,
    /// The record, for requests that change one.
    pub record: Option<&'a Record>,
}

impl<'a> About<'a> {
    /// A request about `zone`.
    pub fn zone(zone: &'a Name) -> About<'a> {
        About { zone: Some(zone), record: None }
    }

    /// A request about `record` in `zone`.
    pub fn record(zone: &'a Name, record: &'a Record) -> About<'a> {
        About { zone: Some(zone), record: Some(record) }
    }
}

impl HttpClient {
    pub(super) fn protocol(&self, message: String) -> Error {
        Error::Protocol { provider: self.provider.clone(), message }
    }

    /// The error an unsuccessful answer stands for.
    pub fn error(&self, response: &Response, request: &Request, about: About<'_>) -> Error {
        let provider = self.provider.clone();
        let body: Option<Value> = serde_json::from_slice(&response.body).ok();
        let status = response.status;
        let message = (self.api.errors.message)(response).unwrap_or_else(|| match &body {
            _ if response.body.is_empty() => format!("{status} with an empty body"),
            None => format!("{status} with a body that is not JSON"),
            Some(_) => format!("{status}"),
        });
        let exchange = Exchange { provider: &provider, request, response, about, message };
        if let Some(special) = (self.api.errors.special)(&exchange) {
            return special;
        }
        let message = exchange.message;
        let zone_text = about.zone.map_or_else(String::new, |z| format!("zone {z}: "));
        match status.as_u16() {
            400 | 422 => match about.zone {
                Some(zone) => Error::InvalidRecord {
                    provider,
                    zone: zone.clone(),
                    record: about.record.map(ToString::to_string),
                    message,
                },
                None => {
                    Error::Protocol { provider, message: format!("{} {}: {message}", request.method, request.path) }
                }
            },
            401 => Error::Unauthenticated {
                provider,
                message: format!("{message} (check the credentials, {})", self.api.errors.credentials),
            },
            402 => Error::PermissionDenied { provider, message: format!("{zone_text}payment required: {message}") },
            403 => Error::PermissionDenied { provider, message: format!("{zone_text}{message}") },
            404 => Error::NotFound {
                provider,
                what: match (about.record, about.zone) {
                    (Some(record), Some(zone)) => format!("zone {zone}: record {record}"),
                    (None, Some(zone)) => format!("zone {zone}"),
                    _ => request.path.clone(),
                },
            },
            409 => Error::Conflict { provider, message: format!("{zone_text}{message}") },
            429 => Error::RateLimited { provider, retry_after: retry_after(response), message: String::new() },
            300..=399 => Error::Protocol {
                provider,
                message: format!(
                    "{} {} was redirected ({status}) to {}",
                    request.method,
                    request.path,
                    response.header("location").unwrap_or("nowhere")
                ),
            },
            500..=599 => Error::Transport {
                provider,
                message: format!("{zone_text}HTTP {}: {message}", status.as_u16()),
                ambiguous: request.is_write(),
                source: None,
            },
            _ => Error::Protocol { provider, message: format!("{zone_text}HTTP {}: {message}", status.as_u16()) },
        }
    }
}

/// A reqwest error in one line, without the URL (which the caller names).
pub(super) fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_connect() { "cannot connect" } else { "connection failed" };
    // The innermost cause says what happened (`connection refused`, a TLS alert); the
    // layers above it (`client error (Connect)`, `error sending request for url …`) only
    // say where, which the caller does.
    let mut cause: &dyn std::error::Error = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let why = match cause.downcast_ref::<std::io::Error>() {
        Some(io) => io_words(io),
        None if std::ptr::addr_eq(cause, e as &dyn std::error::Error) => return what.to_owned(),
        None => cause.to_string(),
    };
    format!("{what}: {why}")
}

/// An I/O error in words, without the operating system's error number.
fn io_words(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_lowercase(),
        None => text,
    }
}

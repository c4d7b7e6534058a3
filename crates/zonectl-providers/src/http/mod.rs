//! The one HTTP client every provider uses: endpoint rules, authentication, timeouts,
//! retries with backoff inside a time budget, a rate limiter per account, paging in each
//! API's way, one mapping of answers to errors, and `tracing` events without secrets.
//!
//! A provider describes its API once, as an [`Api`] (its rate limit, its error bodies,
//! whether a 409 may be retried), and then only says what it asks and what it is about.

mod auth;
mod client;
mod errors;
mod limiter;
mod paging;
mod retry;

pub use auth::{Auth, digest};
pub use client::{HttpClient, Request, Response, check_endpoint, redact_url};
pub use errors::{About, Api, ErrorFormat, Exchange};
pub use limiter::{Acquired, RateLimiter, RateScope};
pub use paging::Paging;
pub use retry::{RetryPolicy, retry_after};

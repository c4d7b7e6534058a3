//! Retries: timing, the loop that sends a request again within the budget, and what the
//! server says about waiting (`Retry-After`, `X-Ratelimit-*`).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use tokio::time::Instant;
use zonectl_core::Error;
use zonectl_core::duration::show;

use super::errors::describe;
use super::*;

/// Retry timing.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// The first backoff; doubled each time, with full jitter.
    pub base_delay: Duration,
    /// No single wait is longer, whatever the server asks.
    pub max_delay: Duration,
    /// Timeout of one request.
    pub timeout: Duration,
    /// No retry starts past this time since the first try (object_store's
    /// `retry_timeout`), so a dead API fails in bounded time.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
            budget: Duration::from_secs(180),
        }
    }
}

impl HttpClient {
    /// Sends `request`, retrying what is safe to retry within the budget, and returns the
    /// final answer whatever its status. A request that got no answer is an error,
    /// ambiguous if it was a write that may have reached the server. A 429 is waited out
    /// (see [`HttpClient::rate_limited_wait`]) while the budget allows, and fails at once
    /// when the server asks for longer.
    pub async fn send(&self, request: &Request) -> Result<Response, Error> {
        let url = self.url(&request.path, &request.query)?;
        let shown = redact_url(&url);
        let started = Instant::now();
        let mut attempt = 0;
        // 429s are bounded by the time budget (each waits a window); other failures by it
        // and by the attempts.
        let mut refused = 0;
        loop {
            attempt += 1;
            if let Some(limiter) = &self.limiter {
                let acquired = limiter.acquire().await?;
                if acquired.waited >= Duration::from_secs(1) && !acquired.server_said {
                    let reason = format!("{} allows {}", self.provider, limiter.describe());
                    zonectl_core::meter::waited(&self.provider, acquired.waited, &reason);
                    tracing::info!(
                        target: "zonectl::http",
                        provider = %self.provider,
                        waited_ms = acquired.waited.as_millis() as u64,
                        "{}: waited {} for the rate limit",
                        self.provider,
                        show(acquired.waited)
                    );
                }
            }
            let sent_at = std::time::Instant::now();
            let outcome = self.attempt(&url, request).await;
            let ms = sent_at.elapsed().as_millis();
            let status = match &outcome {
                Ok(r) => r.status.as_str().to_owned(),
                Err(_) => "failed".to_owned(),
            };
            zonectl_core::meter::request(&self.provider, &status);
            tracing::debug!(
                target: "zonectl::http",
                provider = %self.provider,
                status = %status,
                "{} {} {shown} {status} {ms}ms attempt {attempt}",
                self.provider,
                request.method
            );
            if let Ok(response) = &outcome {
                self.note_budget(response).await?;
                if response.status == StatusCode::TOO_MANY_REQUESTS {
                    refused += 1;
                    attempt -= 1;
                    let wait = self.rate_limited_wait(response, refused);
                    let left = self.policy.budget.saturating_sub(started.elapsed());
                    if wait > left {
                        return Err(Error::RateLimited {
                            provider: self.provider.clone(),
                            retry_after: Some(wait),
                            message: format!(
                                "the service asks to wait {}, more than the {} left of this request's retry budget",
                                show(wait),
                                show(left)
                            ),
                        });
                    }
                    self.wait_out(wait).await?;
                    continue;
                }
            }
            let (retry, wait) = match &outcome {
                Ok(response) => {
                    let status = response.status;
                    let retry = (status.is_server_error() && request.idempotent)
                        || (status == StatusCode::CONFLICT && self.api.retry_conflicts);
                    (retry, retry_after(response).filter(|_| retry))
                }
                // A write that may have reached the server is not repeated blindly.
                Err((_, maybe_seen)) => (!(*maybe_seen && request.is_write() && !request.idempotent), None),
            };
            let wait = wait.unwrap_or_else(|| self.backoff(attempt)).min(self.policy.max_delay);
            let within_budget = started.elapsed() + wait <= self.policy.budget;
            if retry && attempt < self.policy.attempts && within_budget {
                tracing::debug!(
                    target: "zonectl::http",
                    provider = %self.provider,
                    "{}: retrying {} {} in {} (after {status})",
                    self.provider,
                    request.method,
                    request.path,
                    show(wait)
                );
                tokio::time::sleep(wait).await;
                continue;
            }
            return match outcome {
                Ok(response) => Ok(response),
                Err((e, maybe_seen)) => {
                    let what = if e.is_timeout() { "timed out".to_owned() } else { describe(&e) };
                    Err(Error::Transport {
                        provider: self.provider.clone(),
                        message: format!("{} {}: {what}", request.method, request.path),
                        ambiguous: maybe_seen && request.is_write(),
                        source: Some(Arc::new(e)),
                    })
                }
            };
        }
    }

    /// How long a 429 asks us to hold: the earlier of `Retry-After` and the window's end
    /// (`X-Ratelimit-Reset`) where the server says; else, where the API documents its window
    /// (ZoneID's minute), a whole window — by then any window of the server's, fixed or
    /// sliding, has let go of every request counted so far; else a backoff.
    pub(super) fn rate_limited_wait(&self, response: &Response, refused: u32) -> Duration {
        let asked = match (retry_after_header(response), reset_in(response)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let documented = self.limiter.as_ref().map(|l| l.per() + l.per() / 50);
        asked.or(documented).unwrap_or_else(|| self.backoff(refused)).max(Duration::from_millis(100))
    }

    /// Holds this request and every other on the budget — of this process and of every
    /// zonectl sharing the state directory — for `wait`, and says so once.
    async fn wait_out(&self, wait: Duration) -> Result<(), Error> {
        let news = match &self.limiter {
            Some(limiter) => limiter.pause_for(wait).await?,
            None => true,
        };
        let whose = match (self.api.rate_scope, &self.limiter) {
            (RateScope::Address, Some(l)) => {
                format!("another client on this address may have spent the {}", l.describe())
            }
            (RateScope::Account, Some(l)) => {
                format!("another client of this account may have spent the {}", l.describe())
            }
            (_, None) => "the service's word".to_owned(),
        };
        if news {
            tracing::info!(
                target: "zonectl::notice",
                "{}: rate limited by the service; waiting {} ({whose})",
                self.provider,
                show(wait)
            );
        }
        zonectl_core::meter::waited(&self.provider, wait, &format!("the service answered 429; {whose}"));
        match &self.limiter {
            // The limiter holds the request until the pause ends (or a later one another
            // sharer set).
            Some(_) => Ok(()),
            None => {
                tokio::time::sleep(wait).await;
                Ok(())
            }
        }
    }

    /// Exponential backoff with full jitter: a random wait up to base × 2^(attempt−1).
    pub(super) fn backoff(&self, attempt: u32) -> Duration {
        let ceiling =
            self.policy.base_delay.saturating_mul(1 << attempt.saturating_sub(1).min(16)).min(self.policy.max_delay);
        ceiling.mul_f64(fastrand::f64())
    }

    /// What the server says of the budget: what it counted (other clients' requests
    /// included) enters our window, and a spent budget with a known renewal holds every
    /// request until then.
    pub(super) async fn note_budget(&self, response: &Response) -> Result<(), Error> {
        let Some(limiter) = &self.limiter else { return Ok(()) };
        let number = |name: &str| response.header(name).and_then(|v| v.trim().parse::<u64>().ok());
        let (limit, remaining) = (number("x-ratelimit-limit"), number("x-ratelimit-remaining"));
        if let (Some(limit), Some(remaining)) = (limit, remaining) {
            limiter.server_counted((limit.saturating_sub(remaining), limit)).await?;
        }
        if remaining == Some(0)
            && response.status != StatusCode::TOO_MANY_REQUESTS
            && let Some(wait) = reset_in(response)
        {
            limiter.pause_for(wait.min(self.policy.budget)).await?;
        }
        Ok(())
    }
}

/// How long the server asks us to wait: `Retry-After` in seconds or as an HTTP date, else,
/// on a 429, until `X-Ratelimit-Reset` (a Unix time). Never a panic, whatever the header
/// holds (`1e30`, `inf`, a date long past).
pub fn retry_after(response: &Response) -> Option<Duration> {
    retry_after_header(response)
        .or_else(|| (response.status == StatusCode::TOO_MANY_REQUESTS).then(|| reset_in(response))?)
}

/// `Retry-After`, in seconds or as an HTTP date.
fn retry_after_header(response: &Response) -> Option<Duration> {
    let value = response.header("retry-after")?.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return Some(Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(Duration::MAX));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

pub(super) fn reset_in(response: &Response) -> Option<Duration> {
    let reset = response.header("x-ratelimit-reset")?.trim().parse::<u64>().ok()?;
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(reset.saturating_sub(now)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    fn response(status: u16, headers: &[(&'static str, &str)]) -> Response {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        Response { status: StatusCode::from_u16(status).unwrap(), headers: map, body: Vec::new() }
    }

    #[test]
    fn retry_after_in_every_form_and_never_a_panic() {
        let wait = |v: &str| retry_after(&response(503, &[("retry-after", v)]));
        assert_eq!(wait("3"), Some(Duration::from_secs(3)));
        assert_eq!(wait("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(wait("-4"), Some(Duration::ZERO));
        assert_eq!(wait("1e30"), Some(Duration::MAX));
        assert_eq!(wait("inf"), Some(Duration::MAX));
        assert_eq!(wait("NaN"), Some(Duration::ZERO));
        assert_eq!(wait("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO), "a date past is now");
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        let until = wait(&later).unwrap();
        assert!(until > Duration::from_secs(100) && until <= Duration::from_secs(120), "{until:?}");
        assert_eq!(wait("soon"), None);
    }
}

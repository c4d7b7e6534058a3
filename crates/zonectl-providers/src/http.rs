//! The one HTTP client every provider uses: endpoint rules, authentication, timeouts,
//! retries with backoff, a rate limiter per account, paging, and a trace without secrets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use zonectl_core::Error;

/// How a provider authenticates.
pub enum Auth {
    /// HTTP Basic: user and password (or API key).
    Basic {
        /// The user.
        user: String,
        /// The password or key; never shown.
        password: SecretString,
    },
    /// `Authorization: Bearer <token>`.
    Bearer(SecretString),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Basic { user, .. } => write!(f, "Basic({user}:***)"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
        }
    }
}

impl Auth {
    fn header(&self) -> HeaderValue {
        let text = match self {
            Auth::Basic { user, password } => {
                let pair = format!("{user}:{}", password.expose_secret());
                format!("Basic {}", data_encoding::BASE64.encode(pair.as_bytes()))
            }
            Auth::Bearer(token) => format!("Bearer {}", token.expose_secret()),
        };
        let mut value = HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
        value.set_sensitive(true);
        value
    }

    fn account(&self) -> String {
        match self {
            Auth::Basic { user, .. } => user.clone(),
            // A token is its own account; a digest of it keys the limiter without keeping it.
            Auth::Bearer(token) => format!("token:{:x}", fnv(token.expose_secret().as_bytes())),
        }
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

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
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
        }
    }
}

/// A request budget: `requests` per `per`, shared by every client of one account.
#[derive(Debug)]
pub struct RateLimiter {
    capacity: f64,
    per_second: f64,
    state: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
    /// The server said the budget is spent until then.
    paused_until: Option<Instant>,
}

impl RateLimiter {
    /// A token bucket holding `requests`, refilled over `per`.
    pub fn new(requests: u32, per: Duration) -> RateLimiter {
        let capacity = f64::from(requests);
        RateLimiter {
            capacity,
            per_second: capacity / per.as_secs_f64(),
            state: Mutex::new(Bucket { tokens: capacity, at: Instant::now(), paused_until: None }),
        }
    }

    /// The limiter of `account` at `endpoint`, shared process-wide, so concurrent tasks
    /// and providers on one account draw on one budget.
    pub fn shared(endpoint: &str, account: &str, requests: u32, per: Duration) -> Arc<RateLimiter> {
        static LIMITERS: OnceLock<Mutex<HashMap<String, Arc<RateLimiter>>>> = OnceLock::new();
        let mut all = LIMITERS.get_or_init(Default::default).lock().expect("not poisoned");
        all.entry(format!("{endpoint} {account}")).or_insert_with(|| Arc::new(RateLimiter::new(requests, per))).clone()
    }

    /// Waits until a request may be sent, and takes its token.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut b = self.state.lock().expect("not poisoned");
                let now = Instant::now();
                match b.paused_until {
                    Some(until) if until > now => until - now,
                    _ => {
                        b.paused_until = None;
                        b.tokens = (b.tokens + (now - b.at).as_secs_f64() * self.per_second).min(self.capacity);
                        b.at = now;
                        if b.tokens >= 1.0 {
                            b.tokens -= 1.0;
                            return;
                        }
                        Duration::from_secs_f64((1.0 - b.tokens) / self.per_second)
                    }
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Holds every request back until `until`: the server's count says the budget is spent.
    pub fn pause_until(&self, until: Instant) {
        let mut b = self.state.lock().expect("not poisoned");
        b.paused_until = Some(b.paused_until.map_or(until, |p| p.max(until)));
        b.tokens = 0.0;
    }
}

/// One request to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The path after the endpoint (`/zones/3/records`).
    pub path: String,
    /// Query parameters.
    pub query: Vec<(String, String)>,
    /// A JSON body.
    pub body: Option<serde_json::Value>,
    /// Whether sending it twice has the effect of sending it once. Requests that are not
    /// are never repeated after the server may have seen them: the caller re-reads and
    /// checks instead.
    pub idempotent: bool,
}

impl Request {
    /// A GET of `path`.
    pub fn get(path: impl Into<String>) -> Request {
        Request { method: Method::GET, path: path.into(), query: Vec::new(), body: None, idempotent: true }
    }

    /// A request with a JSON body.
    pub fn json(method: Method, path: impl Into<String>, body: serde_json::Value, idempotent: bool) -> Request {
        Request { method, path: path.into(), query: Vec::new(), body: Some(body), idempotent }
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: &str, value: impl ToString) -> Request {
        self.query.push((key.to_owned(), value.to_string()));
        self
    }
}

/// An answer, any status.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON of type `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self, provider: &str) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Transport {
            provider: provider.to_owned(),
            message: format!("unexpected answer to a {} (not the JSON expected: {e})", self.status),
            ambiguous: false,
        })
    }
}

/// Where `--debug` lines go.
pub type Trace = Arc<dyn Fn(&str) + Send + Sync>;

/// The client of one provider instance.
pub struct HttpClient {
    provider: String,
    endpoint: String,
    client: reqwest::Client,
    auth: Auth,
    limiter: Arc<RateLimiter>,
    policy: RetryPolicy,
    trace: Option<Trace>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("provider", &self.provider)
            .field("endpoint", &self.endpoint)
            .field("auth", &self.auth)
            .finish()
    }
}

/// Whether `endpoint` may be used: `https://` anywhere, plain `http://` only to loopback.
pub fn check_endpoint(provider: &str, endpoint: &str) -> Result<String, Error> {
    let url = reqwest::Url::parse(endpoint)
        .map_err(|e| Error::InvalidConfig(format!("{provider}: endpoint '{endpoint}': {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" => {
            let host = url.host_str().unwrap_or_default();
            let ip = host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>();
            let loopback = host == "localhost" || ip.is_ok_and(|ip| ip.is_loopback());
            if !loopback {
                return Err(Error::InvalidConfig(format!(
                    "{provider}: endpoint '{endpoint}': plain http:// is only allowed to loopback; use https://"
                )));
            }
        }
        other => {
            return Err(Error::InvalidConfig(format!("{provider}: endpoint '{endpoint}': unsupported scheme {other}")));
        }
    }
    Ok(endpoint.trim_end_matches('/').to_owned())
}

impl HttpClient {
    /// A client of `endpoint` (checked by [`check_endpoint`]) for the provider instance
    /// `provider`, drawing on the account's shared budget of `rate` requests per period.
    pub fn new(
        provider: &str,
        endpoint: &str,
        auth: Auth,
        rate: (u32, Duration),
        policy: RetryPolicy,
    ) -> Result<HttpClient, Error> {
        let endpoint = check_endpoint(provider, endpoint)?;
        let client = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("zonectl/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::InvalidConfig(format!("{provider}: HTTP client: {e}")))?;
        let limiter = RateLimiter::shared(&endpoint, &auth.account(), rate.0, rate.1);
        Ok(HttpClient { provider: provider.to_owned(), endpoint, client, auth, limiter, policy, trace: None })
    }

    /// Sends each request's line, status and timing to `trace` (`--debug`). Headers and
    /// bodies are not traced, so no secret can be.
    pub fn with_trace(mut self, trace: Option<Trace>) -> HttpClient {
        self.trace = trace;
        self
    }

    /// The provider instance's name.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// Sends `request`, retrying what is safe to retry, and returns the final answer
    /// whatever its status. Connection failures after the request may have reached the
    /// server are errors with `ambiguous: true` for requests that are not idempotent.
    pub async fn send(&self, request: &Request) -> Result<Response, Error> {
        let url = format!("{}{}", self.endpoint, request.path);
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.limiter.acquire().await;
            let started = std::time::Instant::now();
            let target = reqwest::Url::parse_with_params(&url, &request.query)
                .map_err(|e| Error::InvalidConfig(format!("{}: {url}: {e}", self.provider)))?;
            let mut builder = self
                .client
                .request(request.method.clone(), target)
                .header(ACCEPT, "application/json")
                .header(AUTHORIZATION, self.auth.header());
            if let Some(body) = &request.body {
                builder =
                    builder.header(CONTENT_TYPE, "application/json").body(serde_json::to_vec(body).expect("JSON"));
            }
            let outcome = match builder.send().await {
                Ok(answer) => {
                    let status = answer.status();
                    let headers = answer.headers().clone();
                    match answer.bytes().await {
                        Ok(body) => Ok(Response { status, headers, body: body.to_vec() }),
                        Err(e) => Err((e, true)),
                    }
                }
                Err(e) => {
                    let sent = !e.is_connect();
                    Err((e, sent))
                }
            };
            let elapsed = started.elapsed().as_millis();
            let line = |status: &str| {
                format!(
                    "{} {} {} {elapsed}ms {} attempt {attempt}",
                    self.provider,
                    request.method,
                    redact_query(&url, &request.query),
                    status
                )
            };
            let last = attempt >= self.policy.attempts;
            match outcome {
                Ok(response) => {
                    self.trace(&line(response.status.as_str()));
                    self.note_budget(&response);
                    let status = response.status;
                    let retry =
                        status == StatusCode::TOO_MANY_REQUESTS || (status.is_server_error() && request.idempotent);
                    if retry && !last {
                        let wait = self.server_wait(&response).unwrap_or_else(|| self.backoff(attempt));
                        tokio::time::sleep(wait.min(self.policy.max_delay)).await;
                        continue;
                    }
                    return Ok(response);
                }
                Err((e, maybe_seen)) => {
                    self.trace(&line("failed"));
                    let ambiguous = maybe_seen && !request.idempotent;
                    if !ambiguous && !last {
                        tokio::time::sleep(self.backoff(attempt)).await;
                        continue;
                    }
                    let what = if e.is_timeout() { "timed out".to_owned() } else { describe(&e) };
                    return Err(Error::Transport {
                        provider: self.provider.clone(),
                        message: format!("{} {}: {what}", request.method, request.path),
                        ambiguous,
                    });
                }
            }
        }
    }

    /// Every page of a list whose answers give the page count in a header (LuaDNS:
    /// `X-Total-Pages` or `X-Pages-Count`): sends `request` with `page=1`, `2`, … and
    /// returns the items of all pages. `check` turns a non-success answer into an error.
    pub async fn get_pages<T: serde::de::DeserializeOwned>(
        &self,
        request: &Request,
        page_count_headers: &[&str],
        check: impl Fn(Response) -> Result<Response, Error>,
    ) -> Result<Vec<T>, Error> {
        let mut items = Vec::new();
        let mut page = 1u64;
        loop {
            let response = check(self.send(&request.clone().query("page", page)).await?)?;
            items.extend(response.json::<Vec<T>>(&self.provider)?);
            let pages = page_count_headers.iter().find_map(|h| response.header(h)?.trim().parse::<u64>().ok());
            match pages {
                Some(pages) if page < pages => page += 1,
                _ => return Ok(items),
            }
        }
    }

    fn trace(&self, line: &str) {
        if let Some(trace) = &self.trace {
            trace(line);
        }
    }

    /// Exponential backoff with full jitter: a random wait up to base × 2^(attempt−1).
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self.policy.base_delay.saturating_mul(1 << (attempt - 1).min(16)).min(self.policy.max_delay);
        ceiling.mul_f64(jitter())
    }

    /// `Retry-After` (seconds), else `X-Ratelimit-Reset` (a Unix time) on a 429.
    fn server_wait(&self, response: &Response) -> Option<Duration> {
        if let Some(secs) = response.header("retry-after").and_then(|v| v.trim().parse::<f64>().ok()) {
            return Some(Duration::from_secs_f64(secs.max(0.0)));
        }
        if response.status == StatusCode::TOO_MANY_REQUESTS {
            return reset_in(response);
        }
        None
    }

    /// When the server says the budget is spent, hold every request until its reset.
    fn note_budget(&self, response: &Response) {
        let remaining = response.header("x-ratelimit-remaining").and_then(|v| v.parse::<u64>().ok());
        if let Some(wait) = reset_in(response).filter(|_| remaining == Some(0)) {
            self.limiter.pause_until(Instant::now() + wait.min(self.policy.max_delay));
        }
    }
}

fn reset_in(response: &Response) -> Option<Duration> {
    let reset = response.header("x-ratelimit-reset")?.trim().parse::<u64>().ok()?;
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(reset.saturating_sub(now)))
}

/// The URL for the trace; query values that could carry a secret are masked.
fn redact_query(url: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return url.to_owned();
    }
    let pairs: Vec<String> = query
        .iter()
        .map(|(k, v)| {
            let secret = ["token", "key", "secret", "password"].iter().any(|s| k.to_ascii_lowercase().contains(s));
            format!("{k}={}", if secret { "***" } else { v })
        })
        .collect();
    format!("{url}?{}", pairs.join("&"))
}

/// A reqwest error in one line, without the URL (which the caller names).
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_connect() { "cannot connect".to_owned() } else { "connection failed".to_owned() };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

/// A uniform draw in [0, 1) for jitter; quality hardly matters, independence between
/// clients does.
fn jitter() -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0);
    let seed = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let mut z = STATE.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed) ^ seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert!(check_endpoint("p", "https://api.luadns.com/v1").is_ok());
        assert!(check_endpoint("p", "http://127.0.0.1:8080/v1").is_ok());
        assert!(check_endpoint("p", "http://[::1]:8080/v1").is_ok());
        assert!(check_endpoint("p", "http://localhost:1/").is_ok());
        let err = check_endpoint("lua", "http://api.example.com/v1").unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid configuration: lua: endpoint 'http://api.example.com/v1': plain http:// is only allowed to loopback; use https://"
        );
        assert!(check_endpoint("p", "ftp://x/").is_err());
        assert!(check_endpoint("p", "not a url").is_err());
    }

    #[test]
    fn auth_debug_and_headers_hide_secrets() {
        let auth = Auth::Basic { user: "me@example.com".into(), password: SecretString::from("s3cret-key".to_owned()) };
        assert_eq!(format!("{auth:?}"), "Basic(me@example.com:***)");
        assert!(auth.header().is_sensitive());
        let bearer = Auth::Bearer(SecretString::from("vps_token".to_owned()));
        assert!(!format!("{bearer:?}").contains("vps_token"));
        assert!(!bearer.account().contains("vps_token"));
    }

    #[test]
    fn trace_masks_secret_query_values() {
        let q = vec![("token".to_owned(), "abc".to_owned()), ("limit".to_owned(), "10".to_owned())];
        assert_eq!(redact_query("https://x/y", &q), "https://x/y?token=***&limit=10");
    }

    #[tokio::test(start_paused = true)]
    async fn the_limiter_spaces_requests_past_its_budget() {
        let limiter = RateLimiter::new(10, Duration::from_secs(10));
        let start = tokio::time::Instant::now();
        for _ in 0..10 {
            limiter.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "the first 10 go at once");
        for _ in 0..5 {
            limiter.acquire().await;
        }
        // One token a second after the burst.
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(4900) && waited <= Duration::from_millis(5100), "{waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_requests() {
        let limiter = RateLimiter::new(100, Duration::from_secs(1));
        limiter.pause_until(Instant::now() + Duration::from_secs(3));
        let start = tokio::time::Instant::now();
        limiter.acquire().await;
        assert!(start.elapsed() >= Duration::from_millis(2900), "{:?}", start.elapsed());
    }
}

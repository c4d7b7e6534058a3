//! The one HTTP client every provider uses: endpoint rules, authentication, timeouts,
//! retries with backoff inside a time budget, a rate limiter per account, paging in each
//! API's way, one mapping of answers to errors, and `tracing` events without secrets.
//!
//! A provider describes its API once, as an [`Api`] (its rate limit, its error bodies,
//! whether a 409 may be retried), and then only says what it asks and what it is about.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, LOCATION};
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::time::Instant;
use zonectl_core::duration::show;
use zonectl_core::provider::ZoneLock;
use zonectl_core::{Error, Name, Record};

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

    /// Who is calling, for keying limiters and locks: the user, or a digest of a token (a
    /// token is its own account; the digest keys without keeping it).
    pub fn account(&self) -> String {
        match self {
            Auth::Basic { user, .. } => user.clone(),
            Auth::Bearer(token) => format!("token:{:016x}", digest(token.expose_secret().as_bytes())),
        }
    }
}

/// A digest that stays the same across runs and versions (FNV-1a), for names of lock files
/// and limiter keys; not for security.
pub fn digest(bytes: &[u8]) -> u64 {
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

/// A request budget: at most `requests` in any window of `per`, shared by every client of
/// one account.
///
/// The limiter remembers when its last `requests` requests were sent and holds a new one
/// until the oldest of them is a window (and a margin for the network) old: a sliding
/// window, so that no window of the server's — fixed or sliding, wherever it starts — sees
/// more than the budget, while an idle client may still send a burst of `requests` at once.
#[derive(Debug)]
pub struct RateLimiter {
    requests: usize,
    per: Duration,
    state: Mutex<Window>,
}

#[derive(Debug)]
struct Window {
    /// When the requests of the current window were sent, oldest first.
    sent: std::collections::VecDeque<Instant>,
    /// The server said the budget is spent until then.
    paused_until: Option<Instant>,
}

impl RateLimiter {
    /// At most `requests` in any window of `per`.
    pub fn new(requests: u32, per: Duration) -> RateLimiter {
        let requests = requests.max(1) as usize;
        RateLimiter {
            requests,
            per,
            state: Mutex::new(Window { sent: std::collections::VecDeque::with_capacity(requests), paused_until: None }),
        }
    }

    /// The limiter of `account` at `endpoint`, shared process-wide, so concurrent tasks
    /// and providers on one account draw on one budget.
    pub fn shared(endpoint: &str, account: &str, requests: u32, per: Duration) -> Arc<RateLimiter> {
        static LIMITERS: OnceLock<Mutex<HashMap<String, Arc<RateLimiter>>>> = OnceLock::new();
        let mut all = LIMITERS.get_or_init(Default::default).lock().expect("not poisoned");
        all.entry(format!("{endpoint} {account} {requests}/{}", per.as_millis()))
            .or_insert_with(|| Arc::new(RateLimiter::new(requests, per)))
            .clone()
    }

    /// Waits until a request may be sent, and counts it. Returns how long it waited.
    pub async fn acquire(&self) -> Duration {
        // Requests are counted when sent and by the server when received: a margin keeps
        // a window of ours from being a shade shorter than the server's.
        let window = self.per + self.per / 50;
        let started = Instant::now();
        loop {
            let wait = {
                let mut w = self.state.lock().expect("not poisoned");
                let now = Instant::now();
                match w.paused_until {
                    Some(until) if until > now => until - now,
                    _ => {
                        w.paused_until = None;
                        while w.sent.front().is_some_and(|&at| now.saturating_duration_since(at) >= window) {
                            w.sent.pop_front();
                        }
                        if w.sent.len() < self.requests {
                            w.sent.push_back(now);
                            return started.elapsed();
                        }
                        (w.sent[0] + window).saturating_duration_since(now)
                    }
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Holds every request back until `until`: the server's count says the budget is spent.
    pub fn pause_until(&self, until: Instant) {
        let mut w = self.state.lock().expect("not poisoned");
        w.paused_until = Some(w.paused_until.map_or(until, |p| p.max(until)));
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
    /// Headers beyond the usual (ZoneID's pager headers).
    pub headers: Vec<(HeaderName, String)>,
    /// A JSON body.
    pub body: Option<Value>,
    /// Whether sending it twice has the effect of sending it once. Requests that are not
    /// are never repeated after the server may have seen them: the caller re-reads and
    /// checks instead.
    pub idempotent: bool,
}

impl Request {
    /// A GET of `path`.
    pub fn get(path: impl Into<String>) -> Request {
        Request::new(Method::GET, path, None, true)
    }

    /// A request with a JSON body.
    pub fn json(method: Method, path: impl Into<String>, body: Value, idempotent: bool) -> Request {
        Request::new(method, path, Some(body), idempotent)
    }

    /// A DELETE of `path` (deleting twice leaves the same zone: idempotent).
    pub fn delete(path: impl Into<String>) -> Request {
        Request::new(Method::DELETE, path, None, true)
    }

    fn new(method: Method, path: impl Into<String>, body: Option<Value>, idempotent: bool) -> Request {
        Request { method, path: path.into(), query: Vec::new(), headers: Vec::new(), body, idempotent }
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: &str, value: impl ToString) -> Request {
        self.query.push((key.to_owned(), value.to_string()));
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: HeaderName, value: impl ToString) -> Request {
        self.headers.push((name, value.to_string()));
        self
    }

    /// Whether the request changes something (not a GET or HEAD): after a lost answer its
    /// outcome is unknown.
    pub fn is_write(&self) -> bool {
        !matches!(self.method, Method::GET | Method::HEAD)
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

    /// The body as JSON of type `T`; a body that is not is a protocol error, not retried.
    pub fn json<T: serde::de::DeserializeOwned>(&self, provider: &str) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Protocol {
            provider: provider.to_owned(),
            message: format!("a {} answer that is not the JSON expected: {e}", self.status),
        })
    }

    /// The last path segment of the `Location` header: the id of a created object.
    pub fn location_id(&self) -> Option<&str> {
        let location = self.headers.get(LOCATION)?.to_str().ok()?;
        let path = location.split(['?', '#']).next()?;
        path.trim_end_matches('/').rsplit('/').next().filter(|id| !id.is_empty())
    }
}

/// How a list is split into pages.
#[derive(Debug, Clone, Copy)]
pub enum Paging {
    /// One answer holds the whole list (a JSON array).
    Single,
    /// `page=1`, `2`, … in the query; the page count in the first of these response headers
    /// present (LuaDNS: `X-Total-Pages` or `X-Pages-Count`).
    PageQuery {
        /// Headers that may hold the page count.
        count_headers: &'static [&'static str],
    },
    /// ZoneID's pager headers: an answer with `x-pager-enabled: 1` is one page of
    /// `x-pager-pages`; the next ones are asked with `x-pager-page` and the answer's
    /// `x-pager-limit`. Pages are followed, never asked for: an unpaged list costs one
    /// request.
    PagerHeaders,
    /// Django REST Framework: `{"count","next","previous","results"}`, following `next` to
    /// the end; a bare array is the whole list.
    NextLink,
}

/// Pages past this many are refused: a server that never ends its list is broken.
const MAX_PAGES: usize = 10_000;

/// The client of one provider instance.
pub struct HttpClient {
    provider: String,
    endpoint: Url,
    client: reqwest::Client,
    auth: Auth,
    api: Api,
    limiter: Option<Arc<RateLimiter>>,
    policy: RetryPolicy,
    lock_dir: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("provider", &self.provider)
            .field("endpoint", &redact_url(&self.endpoint))
            .field("auth", &self.auth)
            .finish()
    }
}

/// Whether `endpoint` may be used: `https://` anywhere, plain `http://` only to loopback.
/// Messages never show a password written into the URL.
pub fn check_endpoint(endpoint: &str) -> Result<Url, Error> {
    let shown = || Url::parse(endpoint).map_or_else(|_| "(not a URL)".to_owned(), |u| redact_url(&u));
    let url = Url::parse(endpoint).map_err(|e| Error::InvalidConfig(format!("endpoint '{}': {e}", shown())))?;
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Domain(d)) => d == "localhost",
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if !loopback {
                return Err(Error::InvalidConfig(format!(
                    "endpoint '{}': plain http:// is only allowed to loopback; use https://",
                    shown()
                )));
            }
        }
        other => return Err(Error::InvalidConfig(format!("endpoint '{}': unsupported scheme {other}", shown()))),
    }
    let mut url = url;
    let trimmed = url.path().trim_end_matches('/').to_owned();
    url.set_path(&trimmed);
    Ok(url)
}

/// The URL as shown in traces and errors: a password in it is masked.
pub fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    shown.to_string()
}

impl HttpClient {
    /// A client of `endpoint` (checked by [`check_endpoint`]) for the provider instance
    /// `provider`, drawing on the account's shared budget where the API has one.
    pub fn new(provider: &str, endpoint: &str, auth: Auth, api: Api, policy: RetryPolicy) -> Result<HttpClient, Error> {
        let mut endpoint = check_endpoint(endpoint)?;
        // The credentials are the provider's own: a user and password written into the
        // endpoint are neither sent nor shown.
        let _ = endpoint.set_username("");
        let _ = endpoint.set_password(None);
        let client = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("zonectl/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::InvalidConfig(format!("HTTP client: {e}")))?;
        let limiter = api
            .rate_limit
            .map(|(requests, per)| RateLimiter::shared(endpoint.as_str(), &auth.account(), requests, per));
        Ok(HttpClient { provider: provider.to_owned(), endpoint, client, auth, api, limiter, policy, lock_dir: None })
    }

    /// Keeps zone locks (see [`HttpClient::zone_lock`]) in `dir`.
    pub fn with_lock_dir(mut self, dir: Option<std::path::PathBuf>) -> HttpClient {
        self.lock_dir = dir;
        self
    }

    /// The provider instance's name.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// Who the client calls as, with the endpoint: one account.
    pub fn account(&self) -> String {
        format!("{} {}", self.endpoint, self.auth.account())
    }

    /// The lock of `zone` at this account (see [`HttpClient::lock_named`]).
    pub async fn zone_lock(&self, zone: &Name) -> Result<ZoneLock, Error> {
        self.lock_named(&format!("zone {zone}")).await
    }

    /// A lock for `what` at this account (`zone example.com.`, `orders`): across
    /// processes through a file in the lock directory, or among this process's tasks only
    /// without one.
    pub async fn lock_named(&self, what: &str) -> Result<ZoneLock, Error> {
        let key = format!("{:016x}", digest(format!("{} {what}", self.account()).as_bytes()));
        match &self.lock_dir {
            Some(dir) => ZoneLock::file(&self.provider, &dir.join(format!("{key}.lock"))).await,
            None => Ok(ZoneLock::in_process(&key).await),
        }
    }

    /// Sends `request`, retrying what is safe to retry within the budget, and returns the
    /// final answer whatever its status. A request that got no answer is an error,
    /// ambiguous if it was a write that may have reached the server.
    pub async fn send(&self, request: &Request) -> Result<Response, Error> {
        let url = self.url(&request.path, &request.query)?;
        let shown = redact_url(&url);
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            if let Some(limiter) = &self.limiter {
                let waited = limiter.acquire().await;
                if waited >= Duration::from_secs(1) {
                    tracing::info!(
                        target: "zonectl::http",
                        provider = %self.provider,
                        waited_ms = waited.as_millis() as u64,
                        "{}: waited {} for the rate limit",
                        self.provider,
                        show(waited)
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
            tracing::debug!(
                target: "zonectl::http",
                provider = %self.provider,
                status = %status,
                "{} {} {shown} {status} {ms}ms attempt {attempt}",
                self.provider,
                request.method
            );
            let (retry, wait) = match &outcome {
                Ok(response) => {
                    self.note_budget(response);
                    let status = response.status;
                    let retry = status == StatusCode::TOO_MANY_REQUESTS
                        || (status.is_server_error() && request.idempotent)
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

    /// One try; on failure, whether the request may have reached the server.
    async fn attempt(&self, url: &Url, request: &Request) -> Result<Response, (reqwest::Error, bool)> {
        let mut builder = self
            .client
            .request(request.method.clone(), url.clone())
            .header(ACCEPT, "application/json")
            .header(AUTHORIZATION, self.auth.header());
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.header(CONTENT_TYPE, "application/json").body(serde_json::to_vec(body).expect("JSON"));
        }
        match builder.send().await {
            Ok(answer) => {
                let status = answer.status();
                let headers = answer.headers().clone();
                match answer.bytes().await {
                    Ok(body) => Ok(Response { status, headers, body: body.to_vec() }),
                    Err(e) => Err((e, true)),
                }
            }
            Err(e) => {
                let seen = !e.is_connect();
                Err((e, seen))
            }
        }
    }

    /// Sends `request` and turns any answer but a success into the matching error.
    pub async fn call(&self, request: &Request, about: About<'_>) -> Result<Response, Error> {
        let response = self.send(request).await?;
        if response.status.is_success() {
            return Ok(response);
        }
        Err(self.error(&response, request, about))
    }

    /// Every item of a list, in the API's way of paging.
    pub async fn get_all<T: serde::de::DeserializeOwned>(
        &self,
        request: &Request,
        paging: Paging,
        about: About<'_>,
    ) -> Result<Vec<T>, Error> {
        let mut items = Vec::new();
        let mut next = Some(request.clone());
        let mut page = 1u64;
        while let Some(asked) = next.take() {
            if page as usize > MAX_PAGES {
                return Err(self.protocol(format!("{} lists more than {MAX_PAGES} pages", request.path)));
            }
            let asked = match paging {
                Paging::PageQuery { .. } => asked.query("page", page),
                Paging::Single | Paging::NextLink | Paging::PagerHeaders => asked,
            };
            let response = self.call(&asked, about).await?;
            match paging {
                Paging::Single => items.extend(response.json::<Vec<T>>(&self.provider)?),
                Paging::PageQuery { count_headers } => {
                    items.extend(response.json::<Vec<T>>(&self.provider)?);
                    let pages = count_headers.iter().find_map(|h| response.header(h)?.trim().parse::<u64>().ok());
                    if pages.is_some_and(|pages| page < pages) {
                        next = Some(request.clone());
                    }
                }
                Paging::PagerHeaders => {
                    items.extend(response.json::<Vec<T>>(&self.provider)?);
                    let enabled = response.header("x-pager-enabled").is_some_and(|v| v.trim() == "1");
                    let pages = response.header("x-pager-pages").and_then(|v| v.trim().parse::<u64>().ok());
                    let limit = response.header("x-pager-limit").unwrap_or("100").trim().to_owned();
                    if enabled && pages.is_some_and(|pages| page < pages) {
                        next = Some(
                            request
                                .clone()
                                .header(HeaderName::from_static("x-pager-page"), page + 1)
                                .header(HeaderName::from_static("x-pager-limit"), limit),
                        );
                    }
                }
                Paging::NextLink => match response.json::<Value>(&self.provider)? {
                    Value::Array(list) => items.extend(self.items::<T>(list)?),
                    Value::Object(mut object) => {
                        let Some(Value::Array(list)) = object.remove("results") else {
                            return Err(
                                self.protocol(format!("{}: neither a list nor a page of results", request.path))
                            );
                        };
                        items.extend(self.items::<T>(list)?);
                        if let Some(link) = object.get("next").and_then(Value::as_str) {
                            next = Some(self.follow(request, link)?);
                        }
                    }
                    _ => return Err(self.protocol(format!("{}: neither a list nor a page of results", request.path))),
                },
            }
            page += 1;
        }
        Ok(items)
    }

    fn items<T: serde::de::DeserializeOwned>(&self, list: Vec<Value>) -> Result<Vec<T>, Error> {
        serde_json::from_value(Value::Array(list))
            .map_err(|e| self.protocol(format!("a list item that is not what the API documents: {e}")))
    }

    /// The request for a `next` link: only to this endpoint (the link's scheme and host may
    /// be a proxy's view of it; its path must lie under the endpoint's), never elsewhere
    /// with our credentials.
    fn follow(&self, request: &Request, link: &str) -> Result<Request, Error> {
        let url = self.endpoint.join(link).map_err(|e| self.protocol(format!("next page link '{link}': {e}")))?;
        let base = self.endpoint.path().trim_end_matches('/');
        let path = url
            .path()
            .strip_prefix(base)
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
            .ok_or_else(|| self.protocol(format!("next page link '{link}' leads away from the API at {base}")))?;
        let query = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        Ok(Request { path: path.to_owned(), query, ..request.clone() })
    }

    fn protocol(&self, message: String) -> Error {
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
            429 => Error::RateLimited { provider, retry_after: retry_after(response) },
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

    fn url(&self, path: &str, query: &[(String, String)]) -> Result<Url, Error> {
        let mut url = self.endpoint.clone();
        let joined = format!("{}{path}", self.endpoint.path().trim_end_matches('/'));
        url.set_path(&joined);
        url.set_query(None);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// Exponential backoff with full jitter: a random wait up to base × 2^(attempt−1).
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self.policy.base_delay.saturating_mul(1 << (attempt - 1).min(16)).min(self.policy.max_delay);
        ceiling.mul_f64(fastrand::f64())
    }

    /// When the server says the budget is spent and when it renews, hold every request
    /// until then (another client on the account may have spent it).
    fn note_budget(&self, response: &Response) {
        let Some(limiter) = &self.limiter else { return };
        let remaining = response.header("x-ratelimit-remaining").and_then(|v| v.trim().parse::<u64>().ok());
        if remaining == Some(0)
            && let Some(wait) = reset_in(response)
        {
            limiter.pause_until(Instant::now() + wait.min(self.policy.max_delay));
        }
    }
}

/// How long the server asks us to wait: `Retry-After` in seconds or as an HTTP date, else,
/// on a 429, until `X-Ratelimit-Reset` (a Unix time). Never a panic, whatever the header
/// holds (`1e30`, `inf`, a date long past).
pub fn retry_after(response: &Response) -> Option<Duration> {
    if let Some(value) = response.header("retry-after").map(str::trim) {
        if let Ok(secs) = value.parse::<f64>() {
            return Some(Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(Duration::MAX));
        }
        if let Ok(at) = httpdate::parse_http_date(value) {
            return Some(at.duration_since(SystemTime::now()).unwrap_or_default());
        }
    }
    if response.status == StatusCode::TOO_MANY_REQUESTS {
        return reset_in(response);
    }
    None
}

fn reset_in(response: &Response) -> Option<Duration> {
    let reset = response.header("x-ratelimit-reset")?.trim().parse::<u64>().ok()?;
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(reset.saturating_sub(now)))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&'static str, &str)]) -> Response {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        Response { status: StatusCode::from_u16(status).unwrap(), headers: map, body: Vec::new() }
    }

    #[test]
    fn endpoints() {
        assert!(check_endpoint("https://api.luadns.com/v1").is_ok());
        assert!(check_endpoint("http://127.0.0.1:8080/v1").is_ok());
        assert!(check_endpoint("http://[::1]:8080/v1").is_ok());
        assert!(check_endpoint("http://localhost:1/").is_ok());
        let err = check_endpoint("http://api.example.com/v1").unwrap_err().to_string();
        assert_eq!(
            err,
            "endpoint 'http://api.example.com/v1': plain http:// is only allowed to loopback; use https://"
        );
        assert!(check_endpoint("ftp://x/").is_err());
        assert!(check_endpoint("not a url").is_err());
        assert_eq!(check_endpoint("https://x.example/v2/dns/").unwrap().path(), "/v2/dns");
    }

    #[test]
    fn a_password_in_the_endpoint_is_never_shown() {
        let err = check_endpoint("http://me:s3cret@api.example.com/v1").unwrap_err().to_string();
        assert!(!err.contains("s3cret") && err.contains("me:***@"), "{err}");
        let auth = Auth::Basic { user: "u".into(), password: SecretString::from("p".to_owned()) };
        let api = Api { rate_limit: None, errors: test_format(), retry_conflicts: false };
        let client =
            HttpClient::new("p", "http://me:s3cret@127.0.0.1:1/v1", auth, api, RetryPolicy::default()).unwrap();
        assert!(!format!("{client:?}").contains("s3cret"));
        let sent = client.url("/zones", &[]).unwrap();
        assert_eq!(sent.as_str(), "http://127.0.0.1:1/v1/zones", "the URL sent carries no credentials");
    }

    fn test_format() -> ErrorFormat {
        ErrorFormat { message: |_| None, credentials: "X", special: |_| None }
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

    #[test]
    fn created_ids_from_location() {
        let id = |v: &str| response(201, &[("location", v)]).location_id().map(str::to_owned);
        assert_eq!(id("https://api.domeneshop.no/v0/domains/1/dns/42").as_deref(), Some("42"));
        assert_eq!(id("/v0/domains/1/dns/42/").as_deref(), Some("42"));
        assert_eq!(id("/v0/x/7?y=1").as_deref(), Some("7"));
        assert_eq!(response(201, &[]).location_id(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn the_limiter_never_lets_more_than_its_budget_into_any_window() {
        let limiter = RateLimiter::new(10, Duration::from_secs(10));
        let start = tokio::time::Instant::now();
        let mut sent = Vec::new();
        for _ in 0..35 {
            limiter.acquire().await;
            sent.push(start.elapsed());
        }
        assert!(sent[..10].iter().all(|t| t.is_zero()), "an idle client sends its budget at once: {sent:?}");
        assert!(sent[10] >= Duration::from_secs(10), "the 11th waits for the window: {:?}", sent[10]);
        // Every window of 10 seconds, wherever it starts, holds at most 10.
        for (i, &at) in sent.iter().enumerate() {
            let in_window = sent[i..].iter().take_while(|&&t| t < at + Duration::from_secs(10)).count();
            assert!(in_window <= 10, "{in_window} requests in the 10 s from {at:?}");
        }
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

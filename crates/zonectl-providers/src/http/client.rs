//! The client of one provider instance: endpoint rules, requests and answers, one try of a
//! request, and the account's locks.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, LOCATION};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;
use zonectl_core::provider::ZoneLock;
use zonectl_core::{Error, Name};

use super::*;

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

/// The client of one provider instance.
pub struct HttpClient {
    pub(super) provider: String,
    pub(super) endpoint: Url,
    pub(super) client: reqwest::Client,
    pub(super) auth: Auth,
    pub(super) api: Api,
    pub(super) limiter: Option<Arc<RateLimiter>>,
    pub(super) policy: RetryPolicy,
    pub(super) lock_dir: Option<std::path::PathBuf>,
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
        let mut http = HttpClient {
            provider: provider.to_owned(),
            endpoint,
            client,
            auth,
            api,
            limiter: None,
            policy,
            lock_dir: None,
        };
        http.limiter = http.budget();
        Ok(http)
    }

    /// Keeps zone locks (see [`HttpClient::zone_lock`]) and the request budget's count in
    /// `dir`, where every zonectl on the machine shares them.
    pub fn with_lock_dir(mut self, dir: Option<std::path::PathBuf>) -> HttpClient {
        self.lock_dir = dir;
        self.limiter = self.budget();
        self
    }

    /// The limiter of the API's budget: the account's, or — where the service counts by
    /// client address — the one every account used from this machine shares.
    fn budget(&self) -> Option<Arc<RateLimiter>> {
        let (requests, per) = self.api.rate_limit?;
        let key = match self.api.rate_scope {
            RateScope::Account => format!("budget {}", self.account()),
            RateScope::Address => format!("budget {} from this address", self.endpoint.origin().ascii_serialization()),
        };
        Some(RateLimiter::shared(&key, self.lock_dir.as_deref(), requests, per))
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
            None => ZoneLock::in_process(&self.provider, &key, what).await,
        }
    }

    /// One try; on failure, whether the request may have reached the server.
    pub(super) async fn attempt(&self, url: &Url, request: &Request) -> Result<Response, (reqwest::Error, bool)> {
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

    pub(super) fn url(&self, path: &str, query: &[(String, String)]) -> Result<Url, Error> {
        let mut url = self.endpoint.clone();
        let joined = format!("{}{path}", self.endpoint.path().trim_end_matches('/'));
        url.set_path(&joined);
        url.set_query(None);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use secrecy::SecretString;

    fn response(status: u16, headers: &[(&'static str, &str)]) -> Response {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        Response { status: StatusCode::from_u16(status).unwrap(), headers: map, body: Vec::new() }
    }

    fn test_format() -> ErrorFormat {
        ErrorFormat { message: |_| None, credentials: "X", special: |_| None }
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
        let api =
            Api { rate_limit: None, errors: test_format(), retry_conflicts: false, rate_scope: RateScope::Account };
        let client =
            HttpClient::new("p", "http://me:s3cret@127.0.0.1:1/v1", auth, api, RetryPolicy::default()).unwrap();
        assert!(!format!("{client:?}").contains("s3cret"));
        let sent = client.url("/zones", &[]).unwrap();
        assert_eq!(sent.as_str(), "http://127.0.0.1:1/v1/zones", "the URL sent carries no credentials");
    }

    #[test]
    fn created_ids_from_location() {
        let id = |v: &str| response(201, &[("location", v)]).location_id().map(str::to_owned);
        assert_eq!(id("https://api.domeneshop.no/v0/domains/1/dns/42").as_deref(), Some("42"));
        assert_eq!(id("/v0/domains/1/dns/42/").as_deref(), Some("42"));
        assert_eq!(id("/v0/x/7?y=1").as_deref(), Some("7"));
        assert_eq!(response(201, &[]).location_id(), None);
    }
}

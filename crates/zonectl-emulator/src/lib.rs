//! Stateful emulators of the DNS hosting APIs zonectl supports.
//!
//! Each emulator is an axum app on `127.0.0.1:0` with in-memory state, written from the
//! provider's API document and `PROVIDERS.md` (what the real API does beyond it). They are
//! product code: the tests run every provider against them, and `zonectl emulate` / `zonectl
//! demo` let anyone point zonectl, curl or another client at one.
//!
//! Every emulator shares this framework: a bounded request log, fault injection (latency, a
//! share of 5xx answers, 429 bursts, a connection dropped *after* a change was committed —
//! the hardest case for a client — and writes failed from a point on), a time scale for
//! the service's clocks, a server that closes idle connections and bounds how many it
//! holds, and a control surface under `/_emulator/` (loopback clients only) that is not part
//! of any real API:
//!
//! | request | what it does |
//! |---|---|
//! | `GET /_emulator/log` | the request log: method, path, status, milliseconds, arrival (real and on the service's clock) |
//! | `GET /_emulator/faults`, `PUT /_emulator/faults` | read or set the [`Faults`] (JSON); `{"spend_budget": N}` has another client spend N requests of the budget |
//! | `GET /_emulator/state` | the provider's state as JSON |
//! | `POST /_emulator/reset` | back to the seeded state, log and faults cleared |

#![deny(missing_docs)]

pub mod dns;
pub mod domeneshop;
pub mod luadns;
pub mod mydomainlu;
pub mod vpsorg;
pub mod zoneid;

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use zonectl_core::Name;

/// Every emulator, one per provider kind that has an API to emulate.
pub static EMULATORS: &[&EmulatorKind] =
    &[&luadns::KIND, &domeneshop::KIND, &zoneid::KIND, &vpsorg::KIND, &mydomainlu::KIND];

/// The emulator of the provider kind `kind` (its registry name, not an alias).
pub fn emulator_of(kind: &str) -> Option<&'static EmulatorKind> {
    EMULATORS.iter().copied().find(|e| e.provider == kind)
}

/// An emulator starting, as [`EmulatorKind::start`] returns it.
pub type Starting = Pin<Box<dyn Future<Output = std::io::Result<Emulator>> + Send>>;

/// An emulator the registry can start: the provider kind it stands in for, how to start it,
/// and what the demo says about it.
pub struct EmulatorKind {
    /// The provider kind (`luadns`).
    pub provider: &'static str,
    /// Starts it; with `zones`, the account holds those zones (empty) instead of its
    /// seeded ones.
    pub start: fn(Options, Option<Vec<Name>>) -> Starting,
    /// What `zonectl demo` says of the provider beside the endpoint.
    pub demo_note: &'static str,
}

impl std::fmt::Debug for EmulatorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorKind").field("provider", &self.provider).finish()
    }
}

/// Faults to inject, settable at start and through `PUT /_emulator/faults`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added to every answer, in milliseconds.
    pub latency_ms: u64,
    /// Share (0 to 1) of requests answered 502 or 503 without being processed.
    pub error_rate: f64,
    /// The next this many requests are answered 429, as a burst of rate limiting.
    pub rate_limit_burst: u32,
    /// Share (0 to 1) of changing requests (not GET) that are processed and committed, and
    /// whose connection is then dropped before the answer is complete.
    pub drop_after_commit_rate: f64,
    /// Let this many more changing requests through, then answer every changing request
    /// 500 without processing it (until the faults change): a failure in the middle of an
    /// apply.
    pub fail_writes_after: Option<u64>,
    /// Share (0 to 1) of changing requests answered 409 without being processed: another
    /// request of the account conflicted (ZoneID's "concurrent request").
    pub conflict_rate: f64,
    /// Another client spends this many requests of the service's budget at once, when the
    /// faults are set: of the account's (LuaDNS) or of the loopback address's (ZoneID, which
    /// counts per client address). The service then answers as it would.
    pub spend_budget: u32,
    /// The `Retry-After` of the `rate_limit_burst` 429s, as sent (`1e30`, a date); by
    /// default a second of the service's clock.
    pub retry_after: Option<String>,
    /// Which reading the emulator plays where the API document allows more than one
    /// (`{"zone_list": "bare"}` for VPS.org): each service lists its own in
    /// [`Service::readings`], first reading the default; PROVIDERS.md says which is a guess.
    pub readings: std::collections::BTreeMap<String, String>,
    /// Seed of the fault dice, so a faulty run can be repeated.
    pub seed: u64,
}

impl Faults {
    /// Refuses faults no test needs and a server must not obey: a latency beyond a minute
    /// would hold every request (and a shutdown) for it, a share outside 0 to 1 means
    /// nothing.
    pub fn check(&self) -> Result<(), String> {
        const MOST: u64 = 60_000;
        if self.latency_ms > MOST {
            return Err(format!("latency_ms {} is more than {MOST} (a minute)", self.latency_ms));
        }
        for (name, share) in [
            ("error_rate", self.error_rate),
            ("drop_after_commit_rate", self.drop_after_commit_rate),
            ("conflict_rate", self.conflict_rate),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return Err(format!("{name} {share} is not a share between 0 and 1"));
            }
        }
        if self.rate_limit_burst > 1_000_000 || self.spend_budget > 1_000_000 {
            return Err("rate_limit_burst and spend_budget are at most 1000000".into());
        }
        if self.retry_after.as_ref().is_some_and(|r| r.len() > 64) {
            return Err("retry_after is at most 64 characters".into());
        }
        Ok(())
    }

    /// Checks the readings against what a service offers; a name it does not offer is an
    /// error when `strict` (one emulator asked), else left to the others.
    fn check_readings(&self, offered: &[(&str, &[&str])], strict: bool) -> Result<(), String> {
        for (name, value) in &self.readings {
            let Some((_, values)) = offered.iter().find(|(n, _)| n == name) else {
                if !strict {
                    continue;
                }
                let names: Vec<&str> = offered.iter().map(|(n, _)| *n).collect();
                return Err(format!("no reading '{name}' here (there are: {})", names.join(", ")));
            };
            if !values.contains(&value.as_str()) {
                return Err(format!("reading {name} is one of {}, not '{value}'", values.join(", ")));
            }
        }
        Ok(())
    }
}

/// One request as the emulator saw it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogEntry {
    /// `GET`, `POST`, …
    pub method: String,
    /// Path and query.
    pub path: String,
    /// The status answered (for a dropped connection, the status it would have had).
    pub status: u16,
    /// Time taken, in milliseconds.
    pub millis: u64,
    /// Whether the connection was dropped after the change was committed.
    pub dropped: bool,
    /// When the request arrived, in milliseconds since the emulator started.
    pub at_ms: u64,
    /// When the request arrived on the emulated service's clock (scaled by the time
    /// scale), in milliseconds: requests of one minute of the service's are those with
    /// the same `service_ms / 60000`.
    pub service_ms: u64,
}

/// How an emulator runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to listen; `127.0.0.1:0` picks a free port.
    pub listen: SocketAddr,
    /// Faults from the start.
    pub faults: Faults,
    /// Multiplies every time window of the emulated service (rate-limit windows, order
    /// delays), so that tests need not wait minutes: 0.01 makes 5 minutes 3 seconds.
    pub time_scale: f64,
    /// A connection that sends no complete request head for this long is closed (idle
    /// keep-alive connections included).
    pub idle_timeout: Duration,
    /// Connections held at once; more wait to be accepted.
    pub max_connections: usize,
    /// Requests kept in the log (the oldest go first).
    pub log_capacity: usize,
    /// Where the provider's name servers listen (UDP and TCP on one port; port 0 picks
    /// one); `None` runs no DNS server.
    pub dns: Option<SocketAddr>,
    /// How long after a change the name servers show it, on the service's clock (scaled
    /// by the time scale); zero shows it at once.
    pub propagation_delay: Duration,
    /// The request budget per window, for services that keep one and let it be set
    /// (LuaDNS); `None` keeps the documented one.
    pub rate_limit: Option<u32>,
    /// Serve HTTPS with this certificate chain and key (PEM): for a client that reaches the
    /// vendor's host name only, with a test CA and a name resolved here for the test alone.
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            faults: Faults::default(),
            time_scale: 1.0,
            idle_timeout: Duration::from_secs(30),
            max_connections: 256,
            log_capacity: 100_000,
            dns: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            propagation_delay: Duration::ZERO,
            rate_limit: None,
            tls: None,
        }
    }
}

/// The framework's state shared by all handlers of one emulator.
#[derive(Debug)]
pub struct Shared {
    log: Mutex<Log>,
    faults: Mutex<FaultState>,
    /// The time scale (see [`Options::time_scale`]).
    pub time_scale: f64,
    /// Whether the budget was set (see [`Options::rate_limit`]).
    budget_set: bool,
    started: Instant,
}

/// The request log: the most recent entries, and how many there were in all.
#[derive(Debug)]
struct Log {
    entries: VecDeque<LogEntry>,
    capacity: usize,
}

impl Log {
    fn push(&mut self, entry: LogEntry) {
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }
}

#[derive(Debug)]
struct FaultState {
    faults: Faults,
    dice: fastrand::Rng,
    burst_left: u32,
    writes_seen: u64,
}

impl FaultState {
    fn new(faults: Faults) -> FaultState {
        FaultState {
            dice: fastrand::Rng::with_seed(faults.seed),
            burst_left: faults.rate_limit_burst,
            faults,
            writes_seen: 0,
        }
    }
}

impl Shared {
    fn new(options: &Options) -> Shared {
        Shared {
            log: Mutex::new(Log { entries: VecDeque::new(), capacity: options.log_capacity.max(1) }),
            faults: Mutex::new(FaultState::new(options.faults.clone())),
            time_scale: options.time_scale,
            budget_set: options.rate_limit.is_some(),
            started: Instant::now(),
        }
    }

    /// Scales a duration of the emulated service by the time scale (saturating: a huge
    /// delay times a large scale is the longest duration, not a panic).
    pub fn scaled(&self, real: Duration) -> Duration {
        Duration::try_from_secs_f64(real.as_secs_f64() * self.time_scale).unwrap_or(Duration::MAX)
    }

    /// The reading of `name` the emulator plays now (see [`Faults::readings`]), if set.
    pub fn reading(&self, name: &str) -> Option<String> {
        self.faults.lock().expect("not poisoned").faults.readings.get(name).cloned()
    }

    /// Whole seconds of real time, at least one, until the service's current minute ends:
    /// a `Retry-After` for a per-minute limit.
    pub fn seconds_to_next_minute(&self) -> u64 {
        let left = 60.0 - self.service_seconds() % 60.0;
        self.scaled(Duration::from_secs_f64(left)).as_secs_f64().ceil().max(1.0) as u64
    }

    /// Seconds since the emulator started, on the scaled clock of the emulated service.
    pub fn service_seconds(&self) -> f64 {
        self.started.elapsed().as_secs_f64() / self.time_scale
    }
}

/// What an emulated provider plugs into the framework.
pub trait Service: Send + Sync + 'static {
    /// The provider's routes (the real API's paths).
    fn routes(self: Arc<Self>, shared: Arc<Shared>) -> Router;
    /// The state as JSON, for `GET /_emulator/state`.
    fn dump(&self) -> serde_json::Value;
    /// Back to the seeded state.
    fn reset(&self);
    /// The endpoint path under the server's address (`/v1` for LuaDNS).
    fn base_path(&self) -> &'static str;
    /// The seeded credentials and zones, for `zonectl emulate` to print; `endpoint` is
    /// where the emulator is reached.
    fn describe(&self, endpoint: &str) -> serde_json::Value;
    /// The `[providers.NAME]` table (without `kind`) that points zonectl's provider at
    /// this emulator, reached at `endpoint`.
    fn provider_settings(&self, endpoint: &str) -> toml::Table;
    /// The zones as the provider's name servers serve them now (a change the service has
    /// not completed yet is not there).
    fn dns_zones(&self) -> Vec<dns::DnsZone>;
    /// The provider's name servers, which its zones get where the API keeps no NS records.
    fn nameservers(&self) -> &'static [&'static str];
    /// The request budget the service keeps, on its own clock: requests per period.
    fn rate_limit(&self) -> Option<(u32, Duration)> {
        None
    }
    /// Another client spends `requests` of the budget now (see [`Faults::spend_budget`]).
    fn spend_budget(&self, _shared: &Shared, _requests: u32) {}
    /// The readings of the document the service can play ([`Faults::readings`]): a name and
    /// its values, the default first.
    fn readings(&self) -> &'static [(&'static str, &'static [&'static str])] {
        &[]
    }
}

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    addr: SocketAddr,
    scheme: &'static str,
    service: Arc<dyn ServiceDyn>,
    base_path: &'static str,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
    dns: Option<zonectl_dns::DnsServer>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator").field("addr", &self.addr).field("base_path", &self.base_path).finish()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Emulator {
    /// Starts `service` on a tokio runtime that must be running.
    pub async fn start<S: Service>(service: S, options: Options) -> std::io::Result<Emulator> {
        options
            .faults
            .check()
            .and_then(|()| options.faults.check_readings(service.readings(), false))
            .map_err(|why| std::io::Error::new(std::io::ErrorKind::InvalidInput, why))?;
        let service = Arc::new(service);
        let shared = Arc::new(Shared::new(&options));
        let control = Router::new()
            .route("/_emulator/log", get(control_log))
            .route("/_emulator/faults", get(control_faults_get).put(control_faults_put))
            .route("/_emulator/state", get(control_state))
            .route("/_emulator/reset", post(control_reset))
            .layer(middleware::from_fn(loopback_only))
            .with_state(Control { shared: shared.clone(), service: service.clone() });
        let api = service
            .clone()
            .routes(shared.clone())
            .layer(middleware::from_fn_with_state(shared.clone(), faults_and_log));
        let app = control.merge(api);
        let listener = tokio::net::TcpListener::bind(options.listen).await?;
        let addr = listener.local_addr()?;
        if !addr.ip().is_loopback() {
            tracing::warn!(
                target: "zonectl::notice",
                "warning: the {} emulator listens on {addr}, beyond this machine; its credentials are public and it has no TLS",
                service.describe("")["provider"].as_str().unwrap_or("provider")
            );
        }
        let dns = match options.dns {
            Some(listen) => {
                let zones = service.clone();
                let view: zonectl_dns::View =
                    Arc::new(move || zones.dns_zones().iter().filter_map(dns::DnsZone::typed).collect());
                let delay = shared.scaled(options.propagation_delay);
                let nameservers = service.nameservers().iter().filter_map(|n| Name::parse(n).ok()).collect();
                Some(zonectl_dns::DnsServer::start(listen, view, nameservers, delay).await?)
            }
            None => None,
        };
        let limits = zonectl_http::Limits {
            max_connections: options.max_connections,
            header_timeout: options.idle_timeout,
            ..zonectl_http::Limits::default()
        };
        let tls = match &options.tls {
            Some((cert, key)) => Some(
                zonectl_http::tls_acceptor(cert, key)
                    .map_err(|why| std::io::Error::new(std::io::ErrorKind::InvalidInput, why))?,
            ),
            None => None,
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let server = tokio::spawn(zonectl_http::serve(
            listener,
            app,
            tls,
            limits,
            zonectl_http::CancellationToken::new(),
            Arc::new(|_| {}),
        ));
        Ok(Emulator { addr, scheme, base_path: service.base_path(), service, shared, server, dns })
    }

    /// The API's base URL, as a provider's `endpoint` setting takes it.
    pub fn endpoint(&self) -> String {
        format!("{}://{}{}", self.scheme, self.addr, self.base_path)
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where the provider's name servers answer (UDP and TCP), if they run.
    pub fn dns_addr(&self) -> Option<SocketAddr> {
        self.dns.as_ref().map(zonectl_dns::DnsServer::addr)
    }

    /// The readings of its document the emulator can play (see [`Faults::readings`]).
    pub fn readings(&self) -> &'static [(&'static str, &'static [&'static str])] {
        self.service.readings()
    }

    /// The requests so far (the most recent ones, up to the log's capacity).
    pub fn request_log(&self) -> Vec<LogEntry> {
        self.shared.log.lock().expect("not poisoned").entries.iter().cloned().collect()
    }

    /// Clears the request log.
    pub fn clear_log(&self) {
        self.shared.log.lock().expect("not poisoned").entries.clear();
    }

    /// Sets the faults.
    ///
    /// # Panics
    ///
    /// On faults [`Faults::check`] refuses: a test that asks for them is wrong.
    pub fn set_faults(&self, faults: Faults) {
        if let Err(why) = faults.check().and_then(|()| faults.check_readings(self.service.readings(), true)) {
            panic!("faults refused: {why}");
        }
        let spend = faults.spend_budget;
        *self.shared.faults.lock().expect("not poisoned") = FaultState::new(faults);
        // As through `PUT /_emulator/faults`: another client spends the budget now.
        if spend > 0 {
            self.service.spend_budget(&self.shared, spend);
        }
    }

    /// The provider's state as JSON (as `GET /_emulator/state` shows it).
    pub fn state(&self) -> serde_json::Value {
        self.service.dump()
    }

    /// The seeded credentials and zones, as `zonectl emulate` prints them.
    pub fn describe(&self) -> serde_json::Value {
        let mut d = self.service.describe(&self.endpoint());
        d["endpoint"] = serde_json::Value::String(self.endpoint());
        if let Some(dns) = self.dns_addr() {
            d["dns"] = serde_json::Value::String(dns.to_string());
        }
        d
    }

    /// The `[providers.NAME]` settings that point zonectl at this emulator (`kind` included),
    /// with the service's request budget where it is not the documented one (a faster
    /// clock, a budget set).
    pub fn provider_settings(&self) -> toml::Table {
        let mut table = self.service.provider_settings(&self.endpoint());
        let kind = self.describe()["provider"].as_str().unwrap_or_default().to_owned();
        table.insert("kind".into(), toml::Value::String(kind));
        let other_budget = self.shared.time_scale != 1.0 || self.shared.budget_set;
        if let Some((requests, per)) = self.service.rate_limit().filter(|_| other_budget) {
            let per = self.shared.scaled(per);
            table.insert("rate_limit".into(), toml::Value::String(format!("{requests} per {}ms", per.as_millis())));
        }
        table
    }
}

/// The user and password of an HTTP Basic `Authorization` header.
pub fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    zonectl_core::basic_auth::parse(headers.get("authorization")?.to_str().ok()?)
}

/// The time now as the APIs write it: `2026-11-22T21:48:04Z`.
pub fn timestamp() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[derive(Clone)]
struct Control {
    shared: Arc<Shared>,
    service: Arc<dyn ServiceDyn>,
}

/// The object-safe part of [`Service`] the control surface needs.
trait ServiceDyn: Send + Sync {
    fn rate_limit(&self) -> Option<(u32, Duration)>;
    fn readings(&self) -> &'static [(&'static str, &'static [&'static str])];
    fn spend_budget(&self, shared: &Shared, requests: u32);
    fn dump(&self) -> serde_json::Value;
    fn reset(&self);
    fn provider_settings(&self, endpoint: &str) -> toml::Table;
    fn describe(&self, endpoint: &str) -> serde_json::Value;
}

impl<S: Service> ServiceDyn for S {
    fn rate_limit(&self) -> Option<(u32, Duration)> {
        Service::rate_limit(self)
    }
    fn spend_budget(&self, shared: &Shared, requests: u32) {
        Service::spend_budget(self, shared, requests)
    }
    fn readings(&self) -> &'static [(&'static str, &'static [&'static str])] {
        Service::readings(self)
    }
    fn dump(&self) -> serde_json::Value {
        Service::dump(self)
    }
    fn reset(&self) {
        Service::reset(self)
    }
    fn provider_settings(&self, endpoint: &str) -> toml::Table {
        Service::provider_settings(self, endpoint)
    }
    fn describe(&self, endpoint: &str) -> serde_json::Value {
        Service::describe(self, endpoint)
    }
}

/// The control surface changes and reveals everything: only for this machine.
async fn loopback_only(request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    if peer.is_some_and(|p| p.ip().is_loopback() || p.ip().to_canonical().is_loopback()) {
        return next.run(request).await;
    }
    (StatusCode::FORBIDDEN, "the emulator's control surface answers loopback clients only\n").into_response()
}

async fn control_log(State(c): State<Control>) -> impl IntoResponse {
    axum::Json(c.shared.log.lock().expect("not poisoned").entries.iter().cloned().collect::<Vec<_>>())
}

async fn control_faults_get(State(c): State<Control>) -> impl IntoResponse {
    axum::Json(c.shared.faults.lock().expect("not poisoned").faults.clone())
}

async fn control_faults_put(State(c): State<Control>, axum::Json(faults): axum::Json<Faults>) -> Response {
    if let Err(why) = faults.check().and_then(|()| faults.check_readings(c.service.readings(), true)) {
        return (StatusCode::BAD_REQUEST, format!("{why}\n")).into_response();
    }
    *c.shared.faults.lock().expect("not poisoned") = FaultState::new(faults.clone());
    if faults.spend_budget > 0 {
        c.service.spend_budget(&c.shared, faults.spend_budget);
    }
    axum::Json(faults).into_response()
}

async fn control_state(State(c): State<Control>) -> impl IntoResponse {
    axum::Json(c.service.dump())
}

async fn control_reset(State(c): State<Control>) -> impl IntoResponse {
    c.service.reset();
    c.shared.log.lock().expect("not poisoned").entries.clear();
    *c.shared.faults.lock().expect("not poisoned") = FaultState::new(Faults::default());
    StatusCode::NO_CONTENT
}

/// What the dice decided for one request.
enum Fate {
    Normal,
    ServerError(StatusCode),
    Conflict,
    RateLimited,
    DropAfterCommit,
    WriteRefused,
}

/// Injects the faults and logs every request of the emulated API.
async fn faults_and_log(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let at_ms = shared.started.elapsed().as_millis() as u64;
    let service_ms = (shared.service_seconds() * 1000.0) as u64;
    let method = request.method().to_string();
    let path = request.uri().path_and_query().map_or_else(|| request.uri().path().to_owned(), |p| p.to_string());
    let changes = request.method() != axum::http::Method::GET;
    let (fate, latency) = {
        let mut state = shared.faults.lock().expect("not poisoned");
        let latency = Duration::from_millis(state.faults.latency_ms);
        let fate = if state.burst_left > 0 {
            state.burst_left -= 1;
            Fate::RateLimited
        } else if changes && state.faults.fail_writes_after.is_some_and(|n| state.writes_seen >= n) {
            Fate::WriteRefused
        } else if state.dice.f64() < state.faults.error_rate {
            if state.dice.bool() {
                Fate::ServerError(StatusCode::BAD_GATEWAY)
            } else {
                Fate::ServerError(StatusCode::SERVICE_UNAVAILABLE)
            }
        } else if changes && state.dice.f64() < state.faults.conflict_rate {
            Fate::Conflict
        } else if changes && state.dice.f64() < state.faults.drop_after_commit_rate {
            Fate::DropAfterCommit
        } else {
            Fate::Normal
        };
        if changes && matches!(fate, Fate::Normal | Fate::DropAfterCommit) {
            state.writes_seen += 1;
        }
        (fate, latency)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (response, dropped) = match fate {
        // A proxy's 502 comes with an empty, non-JSON body.
        Fate::ServerError(status) => (status.into_response(), false),
        Fate::WriteRefused => (StatusCode::INTERNAL_SERVER_ERROR.into_response(), false),
        Fate::Conflict => {
            let mut r = (StatusCode::CONFLICT, "[]").into_response();
            r.headers_mut().insert("x-status-message", HeaderValue::from_static("Concurrent request, try again"));
            (r, false)
        }
        Fate::RateLimited => {
            let asked = shared.faults.lock().expect("not poisoned").faults.retry_after.clone();
            let retry = asked.unwrap_or_else(|| shared.scaled(Duration::from_secs(1)).as_secs().max(1).to_string());
            let mut r = (StatusCode::TOO_MANY_REQUESTS, "rate limited").into_response();
            if let Ok(value) = HeaderValue::from_str(&retry) {
                r.headers_mut().insert("retry-after", value);
            }
            (r, false)
        }
        Fate::DropAfterCommit => {
            let committed = next.run(request).await;
            (dropped_after(committed), true)
        }
        Fate::Normal => (next.run(request).await, false),
    };
    let entry = LogEntry {
        method,
        path,
        status: response.status().as_u16(),
        millis: start.elapsed().as_millis() as u64,
        dropped,
        at_ms,
        service_ms,
    };
    shared.log.lock().expect("not poisoned").push(entry);
    response
}

/// The committed answer's head, then a body that fails: the client sees the connection end
/// before the answer is complete, after the server has made the change.
fn dropped_after(committed: Response) -> Response {
    let (mut parts, _) = committed.into_parts();
    parts.headers.insert("content-length", HeaderValue::from(4096));
    let failing = futures_util::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::other("connection dropped after commit"))
    });
    Response::from_parts(parts, Body::from_stream(failing))
}

/// Whether a service takes a record whose target is the root — RFC 7505's null MX (`MX 0 .`),
/// RFC 2782's SRV `.` — where its document is silent (ZoneID, VPS.org): the reading
/// `root_target`, `refused` (as an invalid hostname; the default) or `accepted`. Either is a
/// guess; zonectl refuses to send one there in the plan and reads one made elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RootTarget {
    Refused,
    Accepted,
}

impl RootTarget {
    pub(crate) const READING: (&'static str, &'static [&'static str]) = ("root_target", &["refused", "accepted"]);

    pub(crate) fn of(shared: &Shared) -> RootTarget {
        match shared.reading(Self::READING.0).as_deref() {
            Some("accepted") => RootTarget::Accepted,
            _ => RootTarget::Refused,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_is_read_in_any_case_of_its_scheme() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("basic dTpwOnE="));
        assert_eq!(basic_auth(&headers), Some(("u".into(), "p:q".into())));
        headers.insert("authorization", HeaderValue::from_static("Bearer x"));
        assert_eq!(basic_auth(&headers), None);
    }

    #[test]
    fn the_log_keeps_the_most_recent() {
        let mut log = Log { entries: VecDeque::new(), capacity: 3 };
        for i in 0..5 {
            log.push(LogEntry {
                method: "GET".into(),
                path: format!("/{i}"),
                status: 200,
                millis: 0,
                dropped: false,
                at_ms: i,
                service_ms: i,
            });
        }
        let paths: Vec<&str> = log.entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/2", "/3", "/4"]);
    }

    #[tokio::test]
    async fn the_control_surface_answers_loopback_clients_only() {
        use tower::ServiceExt;
        let app = Router::new()
            .route("/_emulator/state", get(|| async { "state" }))
            .layer(middleware::from_fn(loopback_only));
        let ask = |peer: &str| {
            let mut request = axum::http::Request::builder().uri("/_emulator/state").body(Body::empty()).unwrap();
            request.extensions_mut().insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
            app.clone().oneshot(request)
        };
        assert_eq!(ask("127.0.0.1:5000").await.unwrap().status(), StatusCode::OK);
        assert_eq!(ask("[::1]:5000").await.unwrap().status(), StatusCode::OK);
        assert_eq!(ask("192.0.2.7:5000").await.unwrap().status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn scaling_never_panics() {
        let shared = Shared::new(&Options { time_scale: 1000.0, ..Options::default() });
        assert_eq!(shared.scaled(Duration::MAX), Duration::MAX);
        assert_eq!(shared.scaled(Duration::from_secs(2)), Duration::from_secs(2000));
    }
}

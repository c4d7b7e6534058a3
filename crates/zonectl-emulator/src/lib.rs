//! Stateful emulators of the DNS hosting APIs zonectl supports.
//!
//! Each emulator is an axum app on `127.0.0.1:0` with in-memory state, written from the
//! provider's API document and `PROVIDERS.md` (what the real API does beyond it). They are
//! product code: the tests run every provider against them, and `zonectl emulate` / `zonectl
//! demo` let anyone point zonectl, curl or another client at one.
//!
//! Every emulator shares this framework: a request log, fault injection (latency, a share of
//! 5xx answers, 429 bursts, and a connection dropped *after* a change was committed — the
//! hardest case for a client), a time scale for rate-limit windows, and a control surface
//! under `/_emulator/` that is not part of any real API:
//!
//! | request | what it does |
//! |---|---|
//! | `GET /_emulator/log` | the request log: method, path, status, milliseconds |
//! | `GET /_emulator/faults`, `PUT /_emulator/faults` | read or set the [`Faults`] (JSON) |
//! | `GET /_emulator/state` | the provider's state as JSON |
//! | `POST /_emulator/reset` | back to the seeded state, log and faults cleared |

#![deny(missing_docs)]

pub mod luadns;
pub mod mydomainlu;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

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
    /// Seed of the fault dice, so a faulty run can be repeated.
    pub seed: u64,
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
}

impl Default for Options {
    fn default() -> Options {
        Options { listen: SocketAddr::from(([127, 0, 0, 1], 0)), faults: Faults::default(), time_scale: 1.0 }
    }
}

/// The framework's state shared by all handlers of one emulator.
#[derive(Debug)]
pub struct Shared {
    log: Mutex<Vec<LogEntry>>,
    faults: Mutex<FaultState>,
    /// The time scale (see [`Options::time_scale`]).
    pub time_scale: f64,
    started: Instant,
}

#[derive(Debug)]
struct FaultState {
    faults: Faults,
    rng: u64,
    burst_left: u32,
}

impl FaultState {
    fn new(faults: Faults) -> FaultState {
        FaultState { rng: faults.seed ^ 0x9e37_79b9_7f4a_7c15, burst_left: faults.rate_limit_burst, faults }
    }

    /// A uniform draw in [0, 1) (splitmix64).
    fn draw(&mut self) -> f64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Shared {
    fn new(options: &Options) -> Shared {
        Shared {
            log: Mutex::new(Vec::new()),
            faults: Mutex::new(FaultState::new(options.faults.clone())),
            time_scale: options.time_scale,
            started: Instant::now(),
        }
    }

    /// Scales a duration of the emulated service by the time scale.
    pub fn scaled(&self, real: Duration) -> Duration {
        real.mul_f64(self.time_scale)
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
    /// The seeded credentials and zones, for `zonectl emulate` to print.
    fn describe(&self) -> serde_json::Value;
}

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    addr: SocketAddr,
    service: Arc<dyn ServiceDyn>,
    base_path: &'static str,
    shared: Arc<Shared>,
    describe: serde_json::Value,
    server: tokio::task::JoinHandle<()>,
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
        let service = Arc::new(service);
        let shared = Arc::new(Shared::new(&options));
        let control = Router::new()
            .route("/_emulator/log", get(control_log))
            .route("/_emulator/faults", get(control_faults_get).put(control_faults_put))
            .route("/_emulator/state", get(control_state))
            .route("/_emulator/reset", post(control_reset))
            .with_state(Control { shared: shared.clone(), service: service.clone() });
        let api = service
            .clone()
            .routes(shared.clone())
            .layer(middleware::from_fn_with_state(shared.clone(), faults_and_log));
        let app = control.merge(api);
        let listener = tokio::net::TcpListener::bind(options.listen).await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let describe = service.describe();
        Ok(Emulator { addr, base_path: service.base_path(), service, shared, describe, server })
    }

    /// The API's base URL, as a provider's `endpoint` setting takes it.
    pub fn endpoint(&self) -> String {
        format!("http://{}{}", self.addr, self.base_path)
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The requests so far.
    pub fn request_log(&self) -> Vec<LogEntry> {
        self.shared.log.lock().expect("not poisoned").clone()
    }

    /// Clears the request log.
    pub fn clear_log(&self) {
        self.shared.log.lock().expect("not poisoned").clear();
    }

    /// Sets the faults.
    pub fn set_faults(&self, faults: Faults) {
        *self.shared.faults.lock().expect("not poisoned") = FaultState::new(faults);
    }

    /// The provider's state as JSON (as `GET /_emulator/state` shows it).
    pub fn state(&self) -> serde_json::Value {
        self.service.dump()
    }

    /// The seeded credentials and zones, as `zonectl emulate` prints them.
    pub fn describe(&self) -> serde_json::Value {
        let mut d = self.describe.clone();
        d["endpoint"] = serde_json::Value::String(self.endpoint());
        d
    }
}

#[derive(Clone)]
struct Control {
    shared: Arc<Shared>,
    service: Arc<dyn ServiceDyn>,
}

/// The object-safe part of [`Service`] the control surface needs.
trait ServiceDyn: Send + Sync {
    fn dump(&self) -> serde_json::Value;
    fn reset(&self);
}

impl<S: Service> ServiceDyn for S {
    fn dump(&self) -> serde_json::Value {
        Service::dump(self)
    }
    fn reset(&self) {
        Service::reset(self)
    }
}

async fn control_log(State(c): State<Control>) -> impl IntoResponse {
    axum::Json(c.shared.log.lock().expect("not poisoned").clone())
}

async fn control_faults_get(State(c): State<Control>) -> impl IntoResponse {
    axum::Json(c.shared.faults.lock().expect("not poisoned").faults.clone())
}

async fn control_faults_put(State(c): State<Control>, axum::Json(faults): axum::Json<Faults>) -> impl IntoResponse {
    *c.shared.faults.lock().expect("not poisoned") = FaultState::new(faults.clone());
    axum::Json(faults)
}

async fn control_state(State(c): State<Control>) -> impl IntoResponse {
    axum::Json(c.service.dump())
}

async fn control_reset(State(c): State<Control>) -> impl IntoResponse {
    c.service.reset();
    c.shared.log.lock().expect("not poisoned").clear();
    *c.shared.faults.lock().expect("not poisoned") = FaultState::new(Faults::default());
    StatusCode::NO_CONTENT
}

/// What the dice decided for one request.
enum Fate {
    Normal,
    ServerError(StatusCode),
    RateLimited,
    DropAfterCommit,
}

/// Injects the faults and logs every request of the emulated API.
async fn faults_and_log(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let at_ms = shared.started.elapsed().as_millis() as u64;
    let method = request.method().to_string();
    let path = request.uri().path_and_query().map_or_else(|| request.uri().path().to_owned(), |p| p.to_string());
    let changes = request.method() != axum::http::Method::GET;
    let (fate, latency) = {
        let mut state = shared.faults.lock().expect("not poisoned");
        let latency = Duration::from_millis(state.faults.latency_ms);
        let fate = if state.burst_left > 0 {
            state.burst_left -= 1;
            Fate::RateLimited
        } else if state.draw() < state.faults.error_rate {
            if state.draw() < 0.5 {
                Fate::ServerError(StatusCode::BAD_GATEWAY)
            } else {
                Fate::ServerError(StatusCode::SERVICE_UNAVAILABLE)
            }
        } else if changes && state.draw() < state.faults.drop_after_commit_rate {
            Fate::DropAfterCommit
        } else {
            Fate::Normal
        };
        (fate, latency)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (response, dropped) = match fate {
        // A proxy's 502 comes with an empty, non-JSON body.
        Fate::ServerError(status) => (status.into_response(), false),
        Fate::RateLimited => {
            let retry = shared.scaled(Duration::from_secs(1)).as_secs().max(1);
            let mut r = (StatusCode::TOO_MANY_REQUESTS, "rate limited").into_response();
            r.headers_mut().insert("retry-after", HeaderValue::from(retry));
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

//! `zonectl serve`: the configured providers behind the protocols the software around DNS
//! speaks — external-dns's webhook, lego's httpreq, dyndns2, RFC 2136 — with `/healthz`,
//! `/readyz` and `/metrics` on a listener of their own. Every front end routes through the
//! one router and changes zones through the one edit transaction, as the command line
//! does; there is no second way to a provider.
//!
//! Start: the listeners are up before the providers have answered; the zone lists are
//! asked for in the background, again and again until every provider has answered, and
//! `/readyz` answers 503 until then (`/healthz`, the liveness check, answers 200).
//!
//! Shutdown (SIGTERM, SIGINT): `/healthz` answers 503 at once, the listeners stop taking
//! connections, requests in flight and the changes they started finish, then the process
//! exits 0.

mod auth;
mod dyndns;
mod httpreq;
mod metrics;
mod rfc2136;
mod webhook;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use zonectl_core::acme::Settings;
use zonectl_core::route::Router;

use crate::cli::{LogFormat, ServeArgs};
use crate::config::Config;

/// What every handler shares.
pub struct ServeState {
    router: Arc<Router>,
    acme: Settings,
    httpreq_users: auth::Users,
    dyndns_users: auth::Users,
    dyndns_seen: dyndns::Remembered,
    rfc2136: rfc2136::Gateway,
    metrics: Arc<metrics::Metrics>,
    healthy: AtomicBool,
    /// Changes under way, which shutdown waits for.
    tasks: TaskTracker,
    /// What each change under way is, for a stop that has to cancel it.
    under_way: std::sync::Mutex<std::collections::BTreeMap<u64, String>>,
    next_change: std::sync::atomic::AtomicU64,
}

impl ServeState {
    /// Runs a change in a task of its own — a client that gives up does not cut it short —
    /// known as `what` until it ends, so that a stop past the grace period can say what it
    /// cancelled.
    pub fn spawn_change<F>(self: &Arc<Self>, what: String, change: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let id = self.next_change.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(target: "zonectl::serve", "{what}: under way");
        self.under_way.lock().expect("not poisoned").insert(id, what);
        let state = self.clone();
        self.tasks.spawn(async move {
            let done = change.await;
            state.under_way.lock().expect("not poisoned").remove(&id);
            done
        })
    }
}

/// Checks `[serve]` whole — users, passwords, keys, limits — as every command that loads
/// the configuration does: a mistake there is found by `zonectl plan` in CI, not by the
/// server when it starts.
pub fn check_config(config: &Config) -> anyhow::Result<()> {
    let config_dir = config.file.as_ref().and_then(|f| f.parent()).map(PathBuf::from).unwrap_or_default();
    auth::Users::load("httpreq", &config.serve.httpreq.users, &config_dir, |u| &u.names)?;
    auth::Users::load("dyndns", &config.serve.dyndns.users, &config_dir, |u| &u.hostnames)?;
    rfc2136::Gateway::load(&config.serve.rfc2136, &config_dir)?;
    grace_period(config)?;
    if config.serve.max_connections == Some(0) {
        bail!("[serve] max_connections = 0 would serve nobody");
    }
    Ok(())
}

/// How long a stop waits for the work under way unless `[serve] grace_period` says.
const GRACE_PERIOD: Duration = Duration::from_secs(30);

fn grace_period(config: &Config) -> anyhow::Result<Duration> {
    match &config.serve.grace_period {
        Some(text) => zonectl_core::duration::parse(text)
            .map_err(|e| anyhow::anyhow!("{}: [serve] grace_period: {e}", config.origin)),
        None => Ok(GRACE_PERIOD),
    }
}

use metrics::Metrics;

/// The subscriber for `serve`: one line per event of zonectl (text or JSON) at info level
/// (debug with `--debug`).
pub fn init_logging(format: LogFormat, debug: bool) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt as _;
    let level = if debug { LevelFilter::DEBUG } else { LevelFilter::INFO };
    let shown = Targets::new().with_target("zonectl", level);
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(false);
    let lines = match format {
        LogFormat::Json => fmt.json().flatten_event(true).with_filter(shown).boxed(),
        LogFormat::Text => fmt.with_ansi(false).with_filter(shown).boxed(),
    };
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(lines));
}

/// How long `serve` waits at start for the providers' zone lists before it listens without
/// them (a provider that answers later is taken in the background).
const FIRST_DISCOVERY: Duration = Duration::from_secs(5);

/// Asks the providers that have not answered for their zones until every one has, waiting
/// longer each time (1 s, doubling, at most 30 s).
async fn keep_discovering(router: Arc<Router>, stop: CancellationToken) {
    let mut pause = Duration::from_secs(1);
    loop {
        router.discover().await;
        if router.is_ready() {
            tracing::info!(target: "zonectl::serve", "every provider has answered: ready");
            for (zone, holders) in router.ambiguous() {
                tracing::error!(
                    target: "zonectl::serve",
                    "zone {zone} is held by several providers ({}) and no [[zone]] names its targets: it is not served",
                    holders.join(", ")
                );
            }
            return;
        }
        tracing::warn!(
            target: "zonectl::serve",
            "not ready: {}; asking again in {}",
            router.unreachable().join("; "),
            zonectl_core::duration::show(pause)
        );
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = stop.cancelled() => return,
        }
        pause = (pause * 2).min(Duration::from_secs(30));
    }
}

/// The listen addresses: flags, else the environment variables the existing webhooks read.
struct Listen {
    external_dns: Option<SocketAddr>,
    httpreq: Option<SocketAddr>,
    dyndns: Option<SocketAddr>,
    metrics: Option<SocketAddr>,
}

fn from_env(host: &str, port: &str, default_host: &str) -> anyhow::Result<Option<SocketAddr>> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let Some(port_text) = var(port) else { return Ok(None) };
    let host_text = var(host).unwrap_or_else(|| default_host.to_owned());
    let port: u16 = port_text.trim().parse().with_context(|| format!("{port}='{port_text}' is not a port"))?;
    let ip = match host_text.trim() {
        "localhost" => std::net::IpAddr::from([127, 0, 0, 1]),
        other => {
            other.trim_matches(['[', ']']).parse().with_context(|| format!("{host}='{other}' is not an address"))?
        }
    };
    Ok(Some(SocketAddr::new(ip, port)))
}

pub async fn run(config: Config, only: Option<String>, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let metrics = Arc::new(Metrics::default());
    let listen = Listen {
        external_dns: match args.external_dns {
            Some(a) => Some(a),
            None => from_env("WEBHOOK_HOST", "WEBHOOK_PORT", "127.0.0.1")?,
        },
        httpreq: args.httpreq,
        dyndns: args.dyndns,
        metrics: match args.metrics {
            Some(a) => Some(a),
            None => from_env("METRICS_HOST", "METRICS_PORT", "0.0.0.0")?,
        },
    };
    if listen.external_dns.is_none() && listen.httpreq.is_none() && listen.dyndns.is_none() && args.rfc2136.is_none() {
        bail!(
            "nothing to serve: give --external-dns, --httpreq, --dyndns or --rfc2136 (and --metrics for /healthz and /metrics)"
        );
    }
    // external-dns sends no credentials: its webhook is for the pod's own loopback only.
    if let Some(addr) = listen.external_dns
        && !addr.ip().is_loopback()
    {
        bail!(
            "--external-dns {addr}: the webhook protocol has no authentication, so it listens on loopback only \
             (run zonectl as external-dns's sidecar and use 127.0.0.1:8888)"
        );
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(zonectl_http::tls_acceptor(cert, key).map_err(anyhow::Error::msg)?),
        (None, None) => None,
        _ => bail!("--tls-cert and --tls-key go together"),
    };
    for (flag, addr) in [("--httpreq", listen.httpreq), ("--dyndns", listen.dyndns)] {
        if let Some(addr) = addr
            && !addr.ip().is_loopback()
            && tls.is_none()
            && !args.insecure_listen
        {
            bail!(
                "{flag} {addr}: passwords would cross the network in the clear; give --tls-cert and --tls-key, \
                 or --insecure-listen behind a proxy that terminates TLS"
            );
        }
    }
    let config_dir = config.file.as_ref().and_then(|f| f.parent()).map(PathBuf::from).unwrap_or_default();
    let origin = &config.origin;
    let httpreq_users = auth::Users::load("httpreq", &config.serve.httpreq.users, &config_dir, |u| &u.names)
        .with_context(|| origin.clone())?;
    let dyndns_users = auth::Users::load("dyndns", &config.serve.dyndns.users, &config_dir, |u| &u.hostnames)
        .with_context(|| origin.clone())?;
    if listen.httpreq.is_some() && httpreq_users.is_empty() {
        bail!("--httpreq: {origin} has no [[serve.httpreq.users]]; the front end never answers without authentication");
    }
    if listen.dyndns.is_some() && dyndns_users.is_empty() {
        bail!("--dyndns: {origin} has no [[serve.dyndns.users]]; the front end never answers without authentication");
    }
    let gateway = rfc2136::Gateway::load(&config.serve.rfc2136, &config_dir).with_context(|| origin.clone())?;
    if args.rfc2136.is_some() && !gateway.has_keys() {
        bail!(
            "--rfc2136: {origin} has no [[serve.rfc2136.keys]] (or [serve.rfc2136] allow_unsigned); \
             the gateway takes no update it cannot authenticate"
        );
    }
    let acme = crate::commands::acme_settings(&config, &crate::cli::AcmeArgs::default())?;
    let router = Arc::new(config.router(only.as_deref())?);
    let state = Arc::new(ServeState {
        router: router.clone(),
        acme,
        httpreq_users,
        dyndns_users,
        dyndns_seen: dyndns::Remembered::default(),
        rfc2136: gateway,
        metrics,
        healthy: AtomicBool::new(true),
        tasks: TaskTracker::new(),
        under_way: std::sync::Mutex::default(),
        next_change: std::sync::atomic::AtomicU64::new(0),
    });

    let limits = zonectl_http::Limits {
        max_connections: config.serve.max_connections.unwrap_or(zonectl_http::Limits::default().max_connections),
        ..zonectl_http::Limits::default()
    };
    let grace = grace_period(&config)?;
    let shutdown = CancellationToken::new();
    let mut servers = tokio::task::JoinSet::new();
    let mut bound = Vec::new();
    let routers: [(&str, Option<SocketAddr>, axum::Router, bool); 4] = [
        ("external-dns", listen.external_dns, webhook_router(&state), false),
        ("httpreq", listen.httpreq, httpreq_router(&state), true),
        ("dyndns", listen.dyndns, dyndns_router(&state), true),
        ("metrics", listen.metrics, metrics_router(&state), false),
    ];
    let mut metrics_server = None;
    for (name, addr, router, secured) in routers {
        let Some(addr) = addr else { continue };
        let listener =
            tokio::net::TcpListener::bind(addr).await.with_context(|| format!("{name} listener on {addr}"))?;
        let addr = listener.local_addr()?;
        bound.push((name, addr));
        let router = router.layer(middleware::from_fn_with_state((state.clone(), name), log_request));
        let stop = shutdown.clone();
        let tls = if secured { tls.clone() } else { None };
        let metrics = state.metrics.clone();
        let on_refused: zonectl_http::OnRefused = Arc::new(move |reason| metrics.turned_away(name, reason));
        // The metrics listener stays up to the end: probes see 503, not a refused connection.
        if name == "metrics" {
            let stop = CancellationToken::new();
            let server = zonectl_http::serve(listener, router, None, limits, stop.clone(), on_refused);
            metrics_server = Some((stop, tokio::spawn(server)));
            continue;
        }
        servers.spawn(zonectl_http::serve(listener, router, tls, limits, stop, on_refused));
    }
    let mut gateway_task = None;
    // The zone lists, for a moment: a configuration that routes a zone to several providers
    // is refused at once when they answer in time; one that cannot be reached is asked
    // again in the background while everything else is served.
    let discovery = tokio::spawn(keep_discovering(router.clone(), shutdown.clone()));
    if tokio::time::timeout(FIRST_DISCOVERY, router.discover()).await.is_ok() && router.is_ready() {
        let ambiguous: Vec<String> =
            router.ambiguous().into_iter().map(|(zone, holders)| format!("{zone} ({})", holders.join(", "))).collect();
        if !ambiguous.is_empty() {
            bail!(
                "zones held by several providers with no [[zone]] naming their targets: {}; add a [[zone]] with \
                 targets for each, or serve one provider with --provider",
                ambiguous.join(", ")
            );
        }
    }
    if let Some(addr) = args.rfc2136 {
        let (addr, task) = rfc2136::listen(state.clone(), addr, shutdown.clone())
            .await
            .with_context(|| format!("rfc2136 listener on {addr}"))?;
        bound.push(("rfc2136", addr));
        gateway_task = Some(task);
    }
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        for (name, addr) in &bound {
            writeln!(out, "{}", serde_json::json!({ "listener": name, "address": addr.to_string() }))?;
        }
        out.flush()?;
    }
    tracing::info!(
        target: "zonectl::serve",
        "serving {} provider(s){}",
        router.providers().count(),
        if router.is_ready() { String::new() } else { format!(" (not ready: {})", router.unreachable().join("; ")) }
    );

    wait_for_signal().await?;
    state.healthy.store(false, Ordering::SeqCst);
    tracing::info!(
        target: "zonectl::serve",
        "shutting down: finishing what is under way (at most {})",
        zonectl_core::duration::show(grace)
    );
    shutdown.cancel();
    discovery.abort();
    let finished = tokio::time::timeout(grace, async {
        while servers.join_next().await.is_some() {}
        if let Some(task) = gateway_task {
            let _ = task.await;
        }
        state.tasks.close();
        state.tasks.wait().await;
    })
    .await;
    if finished.is_err() {
        let left: Vec<String> = state.under_way.lock().expect("not poisoned").values().cloned().collect();
        for what in &left {
            tracing::warn!(
                target: "zonectl::serve",
                "shutting down: {} passed: cancelled {what}: it did not finish, and may or may not have been \
                 made (the zone's next read tells)",
                zonectl_core::duration::show(grace)
            );
        }
        tracing::warn!(
            target: "zonectl::serve",
            "shutting down: {} passed: {} change(s) cancelled, the connections still open closed",
            zonectl_core::duration::show(grace),
            left.len()
        );
        servers.abort_all();
    }
    if let Some((stop, server)) = metrics_server {
        stop.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(1), server).await;
    }
    tracing::info!(target: "zonectl::serve", "stopped");
    Ok(ExitCode::SUCCESS)
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = interrupt.recv() => {}
    }
    Ok(())
}

fn webhook_router(state: &Arc<ServeState>) -> axum::Router {
    axum::Router::new()
        .route("/", get(webhook::negotiate))
        .route("/records", get(webhook::records).post(webhook::apply))
        .route("/adjustendpoints", post(webhook::adjust))
        .route("/healthz", get(healthz))
        // external-dns's own client sends at most 32 MiB.
        .layer(DefaultBodyLimit::max(32 << 20))
        .with_state(state.clone())
}

fn httpreq_router(state: &Arc<ServeState>) -> axum::Router {
    axum::Router::new()
        .route("/present", post(httpreq::present))
        .route("/cleanup", post(httpreq::cleanup))
        .layer(DefaultBodyLimit::max(64 << 10))
        .with_state(state.clone())
}

fn dyndns_router(state: &Arc<ServeState>) -> axum::Router {
    axum::Router::new()
        .route("/nic/update", get(dyndns::update).post(dyndns::update))
        .layer(DefaultBodyLimit::max(64 << 10))
        .with_state(state.clone())
}

fn metrics_router(state: &Arc<ServeState>) -> axum::Router {
    axum::Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .with_state(state.clone())
}

/// Liveness: the process serves (503 only once it is shutting down).
async fn healthz(State(state): State<Arc<ServeState>>) -> Response {
    if state.healthy.load(Ordering::SeqCst) {
        (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], "{\"status\":\"ok\"}").into_response()
    } else {
        error(StatusCode::SERVICE_UNAVAILABLE, "shutting down")
    }
}

/// Readiness: every provider has answered once, and no zone is held by several providers
/// with nothing saying which are its targets.
async fn readyz(State(state): State<Arc<ServeState>>) -> Response {
    if !state.healthy.load(Ordering::SeqCst) {
        return error(StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    }
    match not_ready(&state) {
        None => {
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], "{\"status\":\"ready\"}").into_response()
        }
        Some(why) => error(StatusCode::SERVICE_UNAVAILABLE, &why),
    }
}

/// Why the providers cannot be served as a whole yet, if they cannot.
pub fn not_ready(state: &ServeState) -> Option<String> {
    if !state.router.is_ready() {
        return Some(format!("not ready: {}", state.router.unreachable().join("; ")));
    }
    let ambiguous = state.router.ambiguous();
    if !ambiguous.is_empty() {
        let zones: Vec<String> = ambiguous.iter().map(|(z, h)| format!("{z} ({})", h.join(", "))).collect();
        return Some(format!(
            "zones held by several providers with no [[zone]] naming their targets: {}",
            zones.join(", ")
        ));
    }
    None
}

async fn metrics_text(State(state): State<Arc<ServeState>>) -> Response {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], state.metrics.encode()).into_response()
}

/// One log line per target of a change, from its report: what changed where, and at what
/// cost; the metrics are fed from the same report.
pub fn log_report(state: &ServeState, listener: &str, what: &str, report: &zonectl_core::report::ChangeReport) {
    state.metrics.changed(report);
    for target in &report.targets {
        let status = format!("{:?}", target.status()).to_lowercase();
        let requests = target.requests();
        let changes = target.done();
        let why = target.first_error().map_or_else(String::new, |e| format!(": {e}"));
        tracing::info!(
            target: "zonectl::serve",
            listener,
            zone = %report.zone,
            provider = %target.provider,
            status = %status,
            changes,
            requests,
            "{listener}: {what}: {} at {}: {status}, {changes} change(s), {requests} request(s){why}",
            report.zone,
            target.provider,
        );
    }
}

/// Every error is a small JSON body, which every client can drain.
pub fn error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error": message }).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// 401, asking for Basic credentials.
pub fn unauthorized(realm: &str, body: String) -> Response {
    let mut response = (StatusCode::UNAUTHORIZED, body).into_response();
    let challenge = HeaderValue::from_str(&format!("Basic realm=\"zonectl {realm}\"")).expect("ASCII");
    response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
    response
}

/// One line per request: listener, method, path (no query: it may hold a password, as
/// some dyndns clients send one), status, time; counted for `/metrics`.
async fn log_request(
    State((state, listener)): State<(Arc<ServeState>, &'static str)>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let ms = started.elapsed().as_millis() as u64;
    state
        .metrics
        .requests
        .get_or_create(&metrics::RequestLabels { listener: listener.into(), method: method.clone(), status })
        .inc();
    if status >= 400 {
        state.metrics.errors.get_or_create(&metrics::ListenerLabels { listener: listener.into() }).inc();
    }
    if listener != "metrics" {
        tracing::info!(
            target: "zonectl::serve::request",
            listener,
            method = %method,
            path = %path,
            status,
            ms,
            "{listener}: {method} {path} {status} {ms}ms"
        );
    }
    response
}

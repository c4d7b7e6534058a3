//! dyndns2 (`GET /nic/update?hostname=a,b&myip=…`), the protocol routers and ddclient speak:
//! Basic auth mapped to the host names each user may update, one status line per host name
//! in the order asked, always with HTTP 200 (ddclient reads no body of another status).
//! An address that is what the provider already holds answers `nochg`, with no provider
//! call when this server set it within the last ten minutes, and no write in any case.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use zonectl_core::edit::{self, Options, Transaction};
use zonectl_core::plan::TtlPolicy;
use zonectl_core::provider::RecordFilter;
use zonectl_core::{Name, Ttl, ddns};

use super::{ServeState, unauthorized};

/// How long an address this server set is trusted without asking the provider.
const REMEMBERED: Duration = Duration::from_secs(600);
/// The TTL of address records this server creates.
const TTL: u32 = 300;
/// Host names one request may name (Dyn's limit).
const MAX_HOSTS: usize = 20;

/// The addresses last set per host name, and when.
#[derive(Debug, Default)]
pub struct Remembered(Mutex<HashMap<Name, (Vec<IpAddr>, Instant)>>);

#[derive(Debug, serde::Deserialize)]
pub struct Params {
    hostname: Option<String>,
    myip: Option<String>,
    myipv6: Option<String>,
}

pub async fn update(
    State(state): State<Arc<ServeState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Response {
    let Some(user) = state.dyndns_users.check(&headers) else {
        return unauthorized("dyndns", "badauth\n".into());
    };
    let text = |body: String| (StatusCode::OK, [("content-type", "text/plain; charset=utf-8")], body).into_response();
    let hosts: Vec<String> = params
        .hostname
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect();
    if hosts.is_empty() {
        return text("notfqdn\n".into());
    }
    if hosts.len() > MAX_HOSTS {
        return text("numhost\n".into());
    }
    let mut addresses = Vec::new();
    for list in [&params.myip, &params.myipv6].into_iter().flatten() {
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item.parse::<IpAddr>() {
                Ok(ip) if !addresses.contains(&ip.to_canonical()) => addresses.push(ip.to_canonical()),
                Ok(_) => {}
                // Not a status a client knows; an HTTP error it reports as a failure.
                Err(_) => return super::error(StatusCode::BAD_REQUEST, &format!("myip '{item}' is not an address")),
            }
        }
    }
    if addresses.is_empty() {
        addresses.push(peer.ip().to_canonical());
    }
    // An address no one else reaches the host at is never published: one line per host,
    // as for any other error of the request.
    if let Some((address, why)) = addresses.iter().find_map(|a| ddns::unfit(*a).map(|why| (a, why))) {
        tracing::info!(target: "zonectl::serve", "dyndns: {} by {}: {address} is {why}: refused", hosts.join(","), user.name);
        return text(hosts.iter().map(|_| "dnserr\n").collect());
    }
    let mut lines = String::new();
    for host in &hosts {
        let status = match Name::parse(host) {
            Ok(name) if name.label_count() >= 2 => {
                if !user.may(host) {
                    "nohost".to_owned()
                } else {
                    set(&state, &name, &addresses, &user.name).await
                }
            }
            _ => "notfqdn".to_owned(),
        };
        lines.push_str(&status);
        lines.push('\n');
    }
    text(lines)
}

/// Makes `name`'s A and AAAA records hold `addresses` (only the families given), and says
/// how it went as a dyndns2 status.
async fn set(state: &Arc<ServeState>, name: &Name, addresses: &[IpAddr], user: &str) -> String {
    let shown: Vec<String> = addresses.iter().map(ToString::to_string).collect();
    let shown = shown.join(",");
    let mut wanted = addresses.to_vec();
    wanted.sort();
    if let Some((held, at)) = state.dyndns_seen.0.lock().expect("not poisoned").get(name)
        && *held == wanted
        && at.elapsed() < REMEMBERED
    {
        return format!("nochg {shown}");
    }
    let route = match state.router.find(name).await {
        Ok(route) => route,
        Err(e) => {
            tracing::info!(target: "zonectl::serve", "dyndns: {name}: {e}");
            return "nohost".into();
        }
    };
    let options = Options {
        ttl_policy: TtlPolicy::Round,
        default_ttl: Ttl::from_secs(TTL),
        force: true,
        lock: true,
        ..Options::default()
    };
    let filter = RecordFilter { name: Some(name.clone()), rtype: None };
    let transaction = Transaction::edit(route, filter, ddns::ops(name, &wanted, None), options);
    // A task of its own: a client that hangs up does not cut the change short.
    let what = format!("dyndns: {name} by {user}");
    let outcome = state.spawn_change(what, edit::run(transaction)).await;
    let report = match outcome {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => {
            tracing::warn!(target: "zonectl::serve", "dyndns: {name}: {e}");
            return "dnserr".into();
        }
        Err(_) => return "dnserr".into(),
    };
    super::log_report(state, "dyndns", &format!("{name} by {user}"), &report);
    let changed = report.changed();
    if !report.is_ok() {
        return "dnserr".into();
    }
    state.dyndns_seen.0.lock().expect("not poisoned").insert(name.clone(), (wanted, Instant::now()));
    if changed { format!("good {shown}") } else { format!("nochg {shown}") }
}

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
use zonectl_core::plan::{self, ApplyOptions, PlanOptions, TtlPolicy};
use zonectl_core::provider::RecordFilter;
use zonectl_core::{Name, RData, Record, RecordType, Ttl, Zone};

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
    let Ok((zone, provider)) = state.zones.find(name) else { return "nohost".into() };
    let (zone, provider) = (zone.clone(), provider.clone());
    let task_state = state.clone();
    let (task_name, task_wanted) = (name.clone(), wanted.clone());
    let user = user.to_owned();
    let outcome = state
        .tasks
        .spawn(async move {
            let (name, wanted, state) = (task_name, task_wanted, task_state);
            let _lock = provider.lock(&zone).await?;
            let filter = RecordFilter { name: Some(name.clone()), rtype: None };
            let existing = provider.list_records_filtered(&zone, &filter).await?;
            let mut records: Vec<Record> = existing.iter().map(|e| e.record.clone()).collect();
            for rtype in [RecordType::A, RecordType::Aaaa] {
                let of_family: Vec<RData> = wanted.iter().filter(|a| family(a) == rtype).map(data).collect();
                if of_family.is_empty() {
                    continue;
                }
                let kept = records.iter().find(|r| r.name == name && r.rtype() == rtype).map(|r| r.ttl);
                let ttl = kept.unwrap_or_else(|| Ttl::from_secs(TTL).expect("in range"));
                records.retain(|r| !(r.name == name && r.rtype() == rtype));
                records.extend(of_family.into_iter().map(|d| Record::new(name.clone(), ttl, d)));
            }
            let desired = Zone::from_records(zone.clone(), records);
            let options = PlanOptions { ttl_policy: TtlPolicy::Round, ..PlanOptions::default() };
            let planned = plan::plan(provider.name(), provider.capabilities(), &desired, existing, &options)?;
            let changed = !planned.is_empty();
            if changed {
                let applied = plan::apply(provider.as_ref(), &planned, &ApplyOptions::default()).await?;
                if let Some(e) = applied.report.outcomes.into_iter().find_map(|o| match o {
                    zonectl_core::provider::Outcome::Failed(e) | zonectl_core::provider::Outcome::Unknown(e) => Some(e),
                    _ => None,
                }) {
                    return Err(e);
                }
                state
                    .metrics
                    .changes_applied
                    .get_or_create(&super::metrics::ProviderLabels { provider: provider.name().into() })
                    .inc_by(planned.operations.len() as u64);
            }
            tracing::info!(
                target: "zonectl::serve",
                provider = provider.name(),
                zone = %zone,
                user = %user,
                "dyndns: {name} at {} by {user}: {}",
                provider.name(),
                if changed { "updated" } else { "unchanged" }
            );
            Ok(changed)
        })
        .await;
    match outcome {
        Ok(Ok(changed)) => {
            state.dyndns_seen.0.lock().expect("not poisoned").insert(name.clone(), (wanted, Instant::now()));
            if changed { format!("good {shown}") } else { format!("nochg {shown}") }
        }
        Ok(Err(e)) => {
            tracing::warn!(target: "zonectl::serve", "dyndns: {name}: {e}");
            "dnserr".into()
        }
        Err(_) => "dnserr".into(),
    }
}

fn family(address: &IpAddr) -> RecordType {
    if address.is_ipv4() { RecordType::A } else { RecordType::Aaaa }
}

fn data(address: &IpAddr) -> RData {
    match address {
        IpAddr::V4(a) => RData::A(*a),
        IpAddr::V6(a) => RData::Aaaa(*a),
    }
}

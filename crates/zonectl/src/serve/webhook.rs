//! The external-dns webhook provider protocol, version 1, as external-dns's own client
//! (`provider/webhook/webhook.go`) speaks it: negotiation on `GET /` with the exact media
//! type, `GET /records`, `POST /records` (answered 204), `POST /adjustendpoints`.
//!
//! An `Endpoint` is one record set. Changes go through the plan engine of the zone they
//! fall in, under its lock, so that what external-dns asks is checked against the
//! provider's rules like any apply, and concurrent requests never lose a record.
//! TXT targets carry the registry's literal quotes: one surrounding pair is taken off when
//! written (the record holds what every other provider's webhook stores) and matched
//! quote-insensitively when deleted.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use zonectl_core::plan::{self, ApplyOptions, PlanOptions, TtlPolicy};
use zonectl_core::provider::{Provider, TtlRule};
use zonectl_core::{Name, RData, Record, RecordType, Ttl, Txt, Zone};

use super::{ServeState, error};

/// The media type, byte for byte as the client compares it.
pub const MEDIA_TYPE: &str = "application/external.dns.webhook+json;version=1";

/// The record types external-dns plans that the record model holds.
const TYPES: [RecordType; 8] = [
    RecordType::A,
    RecordType::Aaaa,
    RecordType::Cname,
    RecordType::Txt,
    RecordType::Srv,
    RecordType::Ns,
    RecordType::Ptr,
    RecordType::Mx,
];

/// `endpoint.Endpoint`: every field optional, camelCase keys.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub dns_name: String,
    #[serde(default)]
    pub targets: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub record_type: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub set_identifier: String,
    #[serde(default, rename = "recordTTL", skip_serializing_if = "is_zero")]
    pub record_ttl: i64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provider_specific: Vec<ProviderSpecific>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// One `providerSpecific` pair.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProviderSpecific {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub value: String,
}

/// `plan.Changes`; Go decodes keys in any case, and upstream's tests send `Create`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Changes {
    #[serde(default, alias = "Create")]
    pub create: Vec<Endpoint>,
    #[serde(default, alias = "UpdateOld")]
    pub update_old: Vec<Endpoint>,
    #[serde(default, alias = "UpdateNew")]
    pub update_new: Vec<Endpoint>,
    #[serde(default, alias = "Delete")]
    pub delete: Vec<Endpoint>,
}

fn webhook_json(status: StatusCode, body: &impl serde::Serialize) -> Response {
    let mut response = (status, serde_json::to_vec(body).expect("serializable")).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    response
}

/// `GET /`: the zones served, as external-dns's `DomainFilter` (`include`, not the
/// `filters` the OpenAPI document shows).
pub async fn negotiate(State(state): State<Arc<ServeState>>) -> Response {
    let include: Vec<String> = state
        .zones
        .names()
        .map(|z| z.as_str().trim_end_matches('.').to_owned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // No zone at all: the empty filter, as external-dns's own tests send it.
    let filter = if include.is_empty() { serde_json::json!({}) } else { serde_json::json!({ "include": include }) };
    webhook_json(StatusCode::OK, &filter)
}

/// `GET /records`: every record set of every zone, TTLs as the provider keeps them.
pub async fn records(State(state): State<Arc<ServeState>>) -> Response {
    let mut endpoints = Vec::new();
    for (zone, provider) in state.zones.iter() {
        match provider.list_records(zone).await {
            Ok(existing) => {
                let records = existing.into_iter().map(|e| e.record).collect();
                endpoints.extend(to_endpoints(Zone::from_records(zone.clone(), records)));
            }
            Err(e) => {
                return error(StatusCode::INTERNAL_SERVER_ERROR, &format!("{zone}: {e}"));
            }
        }
    }
    webhook_json(StatusCode::OK, &endpoints)
}

/// The record sets of a zone external-dns can hold, as endpoints.
fn to_endpoints(zone: Zone) -> Vec<Endpoint> {
    let mut endpoints = Vec::new();
    for set in zone.record_set_slices() {
        let Some(first) = set.first() else { continue };
        let rtype = first.rtype();
        if !TYPES.contains(&rtype) {
            continue;
        }
        endpoints.push(Endpoint {
            dns_name: first.name.as_str().trim_end_matches('.').to_owned(),
            targets: set.iter().map(|r| target(&r.data)).collect(),
            record_type: rtype.to_string(),
            record_ttl: i64::from(first.ttl.as_secs()),
            ..Endpoint::default()
        });
    }
    endpoints
}

fn bare(name: &Name) -> String {
    name.as_str().trim_end_matches('.').to_owned()
}

/// A record's data as external-dns writes targets: names without the trailing dot (but
/// SRV's, as external-dns leaves it), TXT as its text.
fn target(data: &RData) -> String {
    match data {
        RData::Txt(txt) => txt.value_lossy(),
        RData::Cname(n) | RData::Ns(n) | RData::Ptr(n) => bare(n),
        RData::Mx { preference, exchange } => format!("{preference} {}", bare(exchange)),
        other => other.to_string(),
    }
}

/// What external-dns asks for one record set.
struct SetChange {
    name: Name,
    rtype: RecordType,
    ttl: Option<Ttl>,
    data: Vec<RData>,
}

/// An endpoint read as a record set, with the zone it falls in.
fn read_endpoint(state: &ServeState, endpoint: &Endpoint) -> Result<(Name, SetChange), String> {
    let shown = &endpoint.dns_name;
    let name = Name::parse(shown).map_err(|e| format!("dnsName '{shown}': {e}"))?;
    let rtype: RecordType = endpoint
        .record_type
        .parse()
        .map_err(|_| format!("{shown}: record type '{}' is not known", endpoint.record_type))?;
    if !TYPES.contains(&rtype) {
        return Err(format!("{shown}: {rtype} records are not served through the webhook"));
    }
    let (zone, _) = state.zones.find(&name).map_err(|_| {
        format!(
            "{shown} is in no zone served here; an ownership record of a zone's apex needs external-dns's \
             --txt-prefix (e.g. \"reg-%{{record_type}}.\")"
        )
    })?;
    let ttl = match endpoint.record_ttl {
        ttl if ttl <= 0 => None,
        ttl => Some(
            u32::try_from(ttl)
                .ok()
                .and_then(Ttl::from_secs)
                .ok_or_else(|| format!("{shown}: recordTTL {ttl} is out of range"))?,
        ),
    };
    let data = endpoint
        .targets
        .iter()
        .map(|t| parse_target(rtype, t).map_err(|e| format!("{shown} {rtype} target '{t}': {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((zone.clone(), SetChange { name, rtype, ttl, data }))
}

fn absolute(name: &str) -> String {
    if name.ends_with('.') { name.to_owned() } else { format!("{name}.") }
}

fn parse_target(rtype: RecordType, target: &str) -> Result<RData, String> {
    let text = match rtype {
        RecordType::Txt => return Ok(RData::Txt(Txt::from_value(unquote(target)))),
        RecordType::Cname | RecordType::Ns | RecordType::Ptr => absolute(target.trim()),
        RecordType::Mx | RecordType::Srv => {
            let mut fields: Vec<&str> = target.split_whitespace().collect();
            let last = fields.pop().map(absolute).unwrap_or_default();
            format!("{} {last}", fields.join(" "))
        }
        _ => target.trim().to_owned(),
    };
    RData::parse(rtype, &text, None).map_err(|e| e.to_string())
}

/// The text without one surrounding pair of quotes (the TXT registry's values have them).
fn unquote(text: &str) -> &str {
    text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text)
}

/// Whether a held record is one external-dns names: TXT compared without quotes.
fn same_data(held: &RData, asked: &RData) -> bool {
    match (held, asked) {
        (RData::Txt(a), RData::Txt(b)) => unquote(&a.value_lossy()) == unquote(&b.value_lossy()),
        _ => held == asked,
    }
}

/// `POST /records`: the changes applied, all zones, then 204.
pub async fn apply(State(state): State<Arc<ServeState>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = wrong_media(headers.get(header::CONTENT_TYPE)) {
        return refused;
    }
    let changes: Changes = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("the body is not webhook Changes: {e}")),
    };
    if changes.update_old.len() != changes.update_new.len() {
        return error(StatusCode::BAD_REQUEST, "updateOld and updateNew differ in length");
    }
    // Everything is read before anything is sent: one bad endpoint refuses the request.
    let mut per_zone: BTreeMap<Name, (Vec<SetChange>, Vec<SetChange>)> = BTreeMap::new();
    let removals = changes.delete.iter().chain(&changes.update_old);
    let additions = changes.create.iter().chain(&changes.update_new);
    for (endpoint, adding) in removals.map(|e| (e, false)).chain(additions.map(|e| (e, true))) {
        match read_endpoint(&state, endpoint) {
            Ok((zone, change)) => {
                let entry = per_zone.entry(zone).or_default();
                if adding { entry.1.push(change) } else { entry.0.push(change) }
            }
            Err(message) => return error(StatusCode::BAD_REQUEST, &message),
        }
    }
    // Applied in a task of its own: a client that gives up (external-dns waits 15 s) does
    // not cut an apply short; its next loop sees the result.
    let task_state = state.clone();
    let applied = state
        .tasks
        .spawn(async move {
            for (zone, (remove, add)) in per_zone {
                let provider = task_state.zones.find(&zone).map(|(_, p)| p.clone()).map_err(Failure::from)?;
                apply_zone(&task_state, provider.as_ref(), &zone, remove, add).await?;
            }
            Ok::<(), Failure>(())
        })
        .await;
    match applied {
        Ok(Ok(())) => StatusCode::NO_CONTENT.into_response(),
        // external-dns retries 5xx on its next loop, and logs anything else as final.
        Ok(Err(Failure { retryable, message })) => {
            let status = if retryable { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::UNPROCESSABLE_ENTITY };
            error(status, &message)
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &format!("the change was interrupted: {e}")),
    }
}

/// Why a change failed, and whether trying again may help (a server's trouble) or not
/// (the provider's rules refuse it).
struct Failure {
    retryable: bool,
    message: String,
}

impl From<zonectl_core::Error> for Failure {
    fn from(e: zonectl_core::Error) -> Failure {
        Failure { retryable: e.is_retryable() || e.is_ambiguous(), message: e.to_string() }
    }
}

async fn apply_zone(
    state: &ServeState,
    provider: &dyn Provider,
    zone: &Name,
    remove: Vec<SetChange>,
    add: Vec<SetChange>,
) -> Result<(), Failure> {
    let failed = Failure::from;
    let _lock = provider.lock(zone).await.map_err(failed)?;
    let existing = provider.list_records(zone).await.map_err(failed)?;
    let mut records: Vec<Record> = existing.iter().map(|e| e.record.clone()).collect();
    for change in &remove {
        records.retain(|r| {
            !(r.name == change.name
                && r.rtype() == change.rtype
                && (change.data.is_empty() || change.data.iter().any(|d| same_data(&r.data, d))))
        });
    }
    let default_ttl = match provider.capabilities().ttl {
        TtlRule::Range { default, .. } => Ttl::from_secs(default).unwrap_or(Ttl::MAX),
        TtlRule::None => Ttl::from_secs(3600).expect("in range"),
    };
    for change in add {
        let held_ttl = records.iter().find(|r| r.name == change.name && r.rtype() == change.rtype).map(|r| r.ttl);
        let ttl = change.ttl.or(held_ttl).unwrap_or(default_ttl);
        for record in records.iter_mut().filter(|r| r.name == change.name && r.rtype() == change.rtype) {
            record.ttl = ttl;
        }
        for data in change.data {
            let held =
                records.iter().any(|r| r.name == change.name && r.rtype() == change.rtype && same_data(&r.data, &data));
            if !held {
                records.push(Record::new(change.name.clone(), ttl, data));
            }
        }
    }
    let desired = Zone::from_records(zone.clone(), records);
    let options = PlanOptions { ttl_policy: TtlPolicy::Round, ..PlanOptions::default() };
    let planned = plan::plan(provider.name(), provider.capabilities(), &desired, existing, &options).map_err(failed)?;
    if planned.is_empty() {
        return Ok(());
    }
    // external-dns decides what it owns; the ratio threshold is for people's applies.
    let applied = plan::apply(provider, &planned, &ApplyOptions { force: true, ..ApplyOptions::default() })
        .await
        .map_err(failed)?;
    let done = applied.report.outcomes.iter().filter(|o| matches!(o, zonectl_core::provider::Outcome::Done)).count();
    state
        .metrics
        .changes_applied
        .get_or_create(&super::metrics::ProviderLabels { provider: provider.name().into() })
        .inc_by(done as u64);
    tracing::info!(
        target: "zonectl::serve",
        provider = provider.name(),
        zone = %zone,
        changes = done,
        "external-dns: {zone} at {}: {done} of {} change(s) made",
        provider.name(),
        applied.report.outcomes.len()
    );
    match applied.report.outcomes.into_iter().find_map(|o| match o {
        zonectl_core::provider::Outcome::Failed(e) | zonectl_core::provider::Outcome::Unknown(e) => Some(e),
        _ => None,
    }) {
        Some(e) => Err(Failure::from(e)),
        None => Ok(()),
    }
}

/// `POST /adjustendpoints`: what the provider cannot keep, made as it will read back, so
/// that external-dns does not plan the same update every loop: TTLs on the provider's
/// steps (none at all where it keeps none), no `providerSpecific` (none is kept).
pub async fn adjust(State(state): State<Arc<ServeState>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = wrong_media(headers.get(header::CONTENT_TYPE)) {
        return refused;
    }
    let mut endpoints: Vec<Endpoint> = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("the body is not a list of endpoints: {e}")),
    };
    for endpoint in &mut endpoints {
        endpoint.provider_specific.clear();
        let Ok(name) = Name::parse(&endpoint.dns_name) else { continue };
        let Ok((_, provider)) = state.zones.find(&name) else { continue };
        match provider.capabilities().ttl {
            TtlRule::None => endpoint.record_ttl = 0,
            rule if endpoint.record_ttl > 0 => {
                if let Some(ttl) = u32::try_from(endpoint.record_ttl).ok().and_then(Ttl::from_secs) {
                    endpoint.record_ttl = i64::from(rule.round(ttl).as_secs());
                }
            }
            _ => {}
        }
    }
    webhook_json(StatusCode::OK, &endpoints)
}

/// A request body in neither the webhook's media type nor plain JSON.
fn wrong_media(content_type: Option<&HeaderValue>) -> Option<Response> {
    let given = content_type.and_then(|v| v.to_str().ok()).unwrap_or("");
    let ours =
        given.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/external.dns.webhook+json")
            || given.starts_with("application/json");
    (!ours).then(|| error(StatusCode::UNSUPPORTED_MEDIA_TYPE, &format!("Content-Type must be {MEDIA_TYPE}")))
}

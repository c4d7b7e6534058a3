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
use zonectl_core::edit::{self, Op, Options, Transaction};
use zonectl_core::plan::TtlPolicy;
use zonectl_core::provider::{RecordFilter, TtlRule};
use zonectl_core::route::Route;
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
/// `filters` the OpenAPI document shows). external-dns asks once, at its start, and keeps
/// the answer: until every provider has answered, 503 (it asks again).
pub async fn negotiate(State(state): State<Arc<ServeState>>) -> Response {
    if let Some(why) = super::not_ready(&state) {
        return error(StatusCode::SERVICE_UNAVAILABLE, &why);
    }
    let include: Vec<String> = state
        .router
        .routes()
        .into_iter()
        .flatten()
        .map(|route| route.zone.as_str().trim_end_matches('.').to_owned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // No zone at all: the empty filter, as external-dns's own tests send it.
    let filter = if include.is_empty() { serde_json::json!({}) } else { serde_json::json!({ "include": include }) };
    webhook_json(StatusCode::OK, &filter)
}

/// `GET /records`: every record set of every zone, each once (read at the zone's first
/// target), TTLs as the provider keeps them. Until every provider has answered, 503: a
/// listing without one provider's zones would have external-dns create their records anew.
pub async fn records(State(state): State<Arc<ServeState>>) -> Response {
    if let Some(why) = super::not_ready(&state) {
        return error(StatusCode::SERVICE_UNAVAILABLE, &why);
    }
    let (listed, counts) = zonectl_core::meter::measured(async {
        let mut endpoints = Vec::new();
        for route in state.router.routes() {
            let route = route.map_err(|e| e.to_string())?;
            let records = read_first(&route).await.map_err(|e| format!("{}: {e}", route.zone))?;
            endpoints.extend(to_endpoints(Zone::from_records(route.zone.clone(), records)));
        }
        Ok::<_, String>(endpoints)
    })
    .await;
    state.metrics.cost(&counts);
    match listed {
        Ok(endpoints) => webhook_json(StatusCode::OK, &endpoints),
        Err(message) => error(StatusCode::INTERNAL_SERVER_ERROR, &message),
    }
}

/// The zone's records at its first target that can be read.
pub async fn read_first(route: &Route) -> zonectl_core::Result<Vec<Record>> {
    let mut first_error = None;
    for provider in &route.targets {
        match provider.list_records(&route.zone).await {
            Ok(records) => return Ok(records.into_iter().map(|e| e.record).collect()),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.expect("a route has targets"))
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

/// Why an endpoint cannot be taken: a mistake of the request's (400), or of the
/// configuration's (500, logged).
enum Refusal {
    Request(String),
    Config(String),
}

/// An endpoint read as a record set, with the route of the zone it falls in.
async fn read_endpoint(state: &ServeState, endpoint: &Endpoint) -> Result<(Route, SetChange), Refusal> {
    let shown = &endpoint.dns_name;
    let name = Name::parse(shown).map_err(|e| Refusal::Request(format!("dnsName '{shown}': {e}")))?;
    let rtype: RecordType = endpoint
        .record_type
        .parse()
        .map_err(|_| Refusal::Request(format!("{shown}: record type '{}' is not known", endpoint.record_type)))?;
    if !TYPES.contains(&rtype) {
        return Err(Refusal::Request(format!("{shown}: {rtype} records are not served through the webhook")));
    }
    let route = state.router.find(&name).await.map_err(|e| match e {
        zonectl_core::Error::Routing(message) if message.starts_with("no zone for") => Refusal::Request(format!(
            "{shown} is in no zone served here; an ownership record of a zone's apex needs external-dns's \
             --txt-prefix (e.g. \"reg-%{{record_type}}.\")"
        )),
        other => Refusal::Config(other.to_string()),
    })?;
    let ttl = match endpoint.record_ttl {
        0 => None,
        ttl => Some(
            u32::try_from(ttl)
                .ok()
                .and_then(Ttl::from_secs)
                .ok_or_else(|| Refusal::Request(format!("{shown}: recordTTL {ttl} is not a TTL (0 to 2147483647)")))?,
        ),
    };
    let data = endpoint
        .targets
        .iter()
        .map(|t| parse_target(rtype, t).map_err(|e| Refusal::Request(format!("{shown} {rtype} target '{t}': {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((route, SetChange { name, rtype, ttl, data }))
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
    let mut per_zone: BTreeMap<Name, (Route, Vec<Op>, Vec<Op>)> = BTreeMap::new();
    let removals = changes.delete.iter().chain(&changes.update_old);
    let additions = changes.create.iter().chain(&changes.update_new);
    for (endpoint, adding) in removals.map(|e| (e, false)).chain(additions.map(|e| (e, true))) {
        let (route, change) = match read_endpoint(&state, endpoint).await {
            Ok(read) => read,
            Err(Refusal::Request(message)) => return error(StatusCode::BAD_REQUEST, &message),
            Err(Refusal::Config(message)) => {
                tracing::error!(target: "zonectl::serve", "external-dns: {message}");
                return error(StatusCode::INTERNAL_SERVER_ERROR, &message);
            }
        };
        let entry = per_zone.entry(route.zone.clone()).or_insert_with(|| (route, Vec::new(), Vec::new()));
        if adding { entry.2.extend(additions_of(change)) } else { entry.1.extend(removals_of(change)) }
    }
    let transactions: Vec<Transaction> = per_zone
        .into_values()
        .map(|(route, mut ops, adds)| {
            ops.extend(adds);
            let options = Options {
                ttl_policy: TtlPolicy::Round,
                // external-dns decides what it owns; the ratio threshold is for people's applies.
                force: true,
                lock: true,
                ..Options::default()
            };
            Transaction::edit(route, RecordFilter::default(), ops, options)
        })
        .collect();
    // Applied in a task of its own: a client that gives up (external-dns waits 15 s) does
    // not cut an apply short; its next loop sees the result.
    let task_state = state.clone();
    let zones: Vec<String> = transactions.iter().map(|t| t.route.zone.to_string()).collect();
    let applied = state
        .spawn_change(format!("external-dns: POST /records for {}", zones.join(", ")), async move {
            let prepared = edit::prepare(transactions).await.map_err(Failure::from)?;
            let reports = prepared.apply(None).await;
            let mut failure = None;
            for report in &reports {
                super::log_report(&task_state, "external-dns", "POST /records", report);
                if failure.is_none() && !report.is_ok() {
                    failure = Some(report.first_error().map_or_else(
                        || Failure {
                            retryable: true,
                            message: format!("{}: the change did not complete", report.zone),
                        },
                        |e| Failure::from(e.clone()),
                    ));
                }
            }
            failure.map_or(Ok(()), Err)
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

/// The ops that take an endpoint's values away (the whole set when it names none). TXT
/// values are matched with and without the registry's quotes.
fn removals_of(change: SetChange) -> Vec<Op> {
    let SetChange { name, rtype, data, .. } = change;
    if data.is_empty() {
        return vec![Op::Remove { name, rtype, data: None }];
    }
    data.into_iter()
        .flat_map(|d| {
            let quoted = match &d {
                RData::Txt(txt) => Some(RData::Txt(Txt::from_value(format!("\"{}\"", txt.value_lossy())))),
                _ => None,
            };
            std::iter::once(d).chain(quoted)
        })
        .map(|d| Op::Remove { name: name.clone(), rtype, data: Some(d) })
        .collect()
}

/// The ops that add an endpoint's values, the set taking its TTL.
fn additions_of(change: SetChange) -> Vec<Op> {
    let SetChange { name, ttl, data, .. } = change;
    data.into_iter().map(|d| Op::Add { name: name.clone(), data: d, ttl }).collect()
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
        let Ok(route) = state.router.find(&name).await else { continue };
        // The TTL every target will read back: each target's rule in turn.
        for provider in &route.targets {
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

//! The ZoneID (Zone.eu) API v2, DNS part, from `seeds/004_1c5e4cc570ee303a.txt` and the
//! ZoneID section of `PROVIDERS.md`, served under `/v2`.
//!
//! One endpoint family per record type (`/dns/{zone}/{type}[/{id}]`, the type in lower
//! case); every success body an array, single resources as one element; POST answers 201,
//! PUT 201 (the document's status table), DELETE 204; ids are JSON strings; `resource_url` absolute; names absolute
//! without a trailing dot, the apex being the zone name; no TTL at all; the provider's NS
//! records are system records (`delete: false, modify: false`) that refuse change; a zone
//! with `ipv6: false` refuses AAAA; validation failures are 422 with errors keyed by the
//! resource's own fields, a duplicate 422 `{"name":"zone_conflict"}`; the human message is
//! always in `X-Status-Message`; 60 requests a minute per client address with
//! `X-Ratelimit-Limit` / `X-Ratelimit-Remaining` on every answer and 429 past it (without
//! `Retry-After` by default: whether the real one sends it is unverified, so the reading
//! `throttle=retry_after` sends it and clients are tested under both); pager headers (`x-pager-*`) when the client asks for pages (or always, with
//! [`Seed::page_size`]), and `x-order-by` / `x-order-dir` sorting. A package limit answers
//! 402 ([`Seed::max_records`]); a concurrent request 409 (the framework's `conflict_rate`).

// Handlers answer errors through `?` with the whole answer, built once per request: its
// size does not matter.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};
use zonectl_core::Name;

use crate::dns::{DnsRecord, DnsZone, fqdn};
use crate::{Emulator, EmulatorKind, RootTarget, Service, Shared, basic_auth};

/// The registry's entry.
pub static KIND: EmulatorKind = EmulatorKind {
    provider: "zoneid",
    start: |options, zones| {
        Box::pin(async move {
            let mut seed = Seed::default();
            if let Some(zones) = zones {
                seed.zones = zones.iter().map(|z| (z.as_str().trim_end_matches('.').to_owned(), true)).collect();
            }
            Emulator::start(ZoneId::new(seed), options).await
        })
    },
    demo_note: "one endpoint per type, no TTLs, 60 requests a minute",
};

/// Requests per minute per client address.
const RATE_LIMIT: u32 = 60;
/// The record types, as the paths name them.
pub const TYPES: [&str; 11] = ["a", "aaaa", "cname", "mx", "ns", "txt", "srv", "caa", "tlsa", "sshfp", "url"];
/// The name servers every zone gets, as system records.
const NAME_SERVERS: [&str; 3] = ["ns1.zone.eu", "ns2.zone.ee", "ns3.zonedata.net"];

/// The seeded account.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The ZoneID user name.
    pub user: String,
    /// The API key.
    pub api_key: String,
    /// Zones: (name without a trailing dot, whether IPv6 records are allowed).
    pub zones: Vec<(String, bool)>,
    /// Records a zone may hold beyond its system records; past it, 402 (a package limit).
    pub max_records: Option<usize>,
    /// Page every record list by this many, whether or not the client asks.
    pub page_size: Option<usize>,
}

impl Default for Seed {
    fn default() -> Seed {
        Seed {
            user: "zoneid-user".into(),
            api_key: "emulator-zoneid-key-0123456789".into(),
            zones: vec![("example.com".into(), true), ("example.ee".into(), false)],
            max_records: None,
            page_size: None,
        }
    }
}

/// The type-specific fields of each type, in the API's key order.
fn fields_of(rtype: &str) -> &'static [&'static str] {
    match rtype {
        "mx" => &["priority"],
        "srv" => &["priority", "weight", "port"],
        "caa" => &["flag", "tag"],
        "tlsa" => &["certificate_usage", "selector", "matching_type"],
        "sshfp" => &["algorithm", "type"],
        "url" => &["type"],
        _ => &[],
    }
}

#[derive(Debug, Clone, serde::Serialize)]
struct Rec {
    id: u64,
    rtype: String,
    name: String,
    destination: String,
    /// Numbers, except CAA's tag.
    fields: BTreeMap<String, Value>,
    system: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
struct ZoneState {
    ipv6: bool,
    active: bool,
    records: Vec<Rec>,
}

#[derive(Debug, Default, serde::Serialize)]
struct Account {
    zones: BTreeMap<String, ZoneState>,
    next_id: u64,
    /// Requests per client address in the current minute of the service's clock.
    #[serde(skip)]
    windows: HashMap<IpAddr, (u64, u32)>,
    /// Requests refused with 429 (a client that paces itself keeps this at zero).
    throttled: u32,
}

impl Account {
    /// Counts `requests` more from `address` in the current minute of the service's clock
    /// (a fixed window, as the 60-a-minute reads); returns the minute's count.
    fn count(&mut self, shared: &Shared, address: IpAddr, requests: u32) -> u32 {
        let minute = (shared.service_seconds() / 60.0) as u64;
        let window = self.windows.entry(address).or_insert((minute, 0));
        if window.0 != minute {
            *window = (minute, 0);
        }
        window.1 = window.1.saturating_add(requests);
        window.1
    }
}

/// The emulated ZoneID service.
#[derive(Debug)]
pub struct ZoneId {
    seed: Seed,
    state: Mutex<Account>,
}

impl ZoneId {
    /// The service with the given account.
    pub fn new(seed: Seed) -> ZoneId {
        let service = ZoneId { seed, state: Mutex::new(Account::default()) };
        service.reset_state();
        service
    }

    fn reset_state(&self) {
        let mut account = Account { next_id: 100, ..Account::default() };
        for (zone, ipv6) in &self.seed.zones {
            let mut state = ZoneState { ipv6: *ipv6, active: true, records: Vec::new() };
            for ns in NAME_SERVERS {
                account.next_id += 1;
                state.records.push(Rec {
                    id: account.next_id,
                    rtype: "ns".into(),
                    name: zone.clone(),
                    destination: ns.into(),
                    fields: BTreeMap::new(),
                    system: true,
                });
            }
            account.zones.insert(zone.clone(), state);
        }
        *self.state.lock().expect("not poisoned") = account;
    }
}

/// An answer: status, body, the human message.
struct Answer {
    status: StatusCode,
    body: Option<Value>,
    message: String,
    headers: Vec<(&'static str, String)>,
}

fn answer(status: StatusCode, body: Value, message: &str) -> Result<Answer, Answer> {
    Ok(Answer { status, body: Some(body), message: message.into(), headers: Vec::new() })
}

fn failure(status: StatusCode, body: Value, message: &str) -> Answer {
    Answer { status, body: Some(body), message: message.into(), headers: Vec::new() }
}

/// A 422 with the errors keyed by the resource's own fields.
fn invalid(field: &str, message: &str) -> Answer {
    failure(StatusCode::UNPROCESSABLE_ENTITY, json!({ field: [message] }), message)
}

fn not_found(what: &str) -> Answer {
    failure(StatusCode::NOT_FOUND, json!([]), &format!("{what} not found"))
}

#[derive(Clone)]
struct Ctx {
    service: Arc<ZoneId>,
    shared: Arc<Shared>,
}

impl Ctx {
    /// Authentication, the rate limit, then the handler; every answer carries the rate
    /// headers and `X-Status-Message`.
    fn respond(
        &self,
        headers: &HeaderMap,
        peer: SocketAddr,
        handler: impl FnOnce(&mut Account, &Seed) -> Result<Answer, Answer>,
    ) -> Response {
        let seed = &self.service.seed;
        let mut account = self.service.state.lock().expect("not poisoned");
        let count = account.count(&self.shared, peer.ip(), 1);
        let remaining = RATE_LIMIT.saturating_sub(count);
        let over = count > RATE_LIMIT;
        let answer = if over {
            account.throttled += 1;
            let mut refused = failure(StatusCode::TOO_MANY_REQUESTS, json!([]), "Too many requests");
            // Whether the real service says when to come back is unverified: the reading
            // `throttle` is `bare` (no `Retry-After`, the default) or `retry_after` (what is
            // left of the minute).
            if self.shared.reading("throttle").as_deref() == Some("retry_after") {
                refused.headers.push(("retry-after", self.shared.seconds_to_next_minute().to_string()));
            }
            refused
        } else if basic_auth(headers).is_none_or(|(user, key)| user != seed.user || key != seed.api_key) {
            failure(StatusCode::UNAUTHORIZED, json!([]), "Unauthorized")
        } else {
            handler(&mut account, seed).unwrap_or_else(|e| e)
        };
        drop(account);
        let mut response = match &answer.body {
            Some(body) if answer.status != StatusCode::NO_CONTENT => {
                let mut r = (answer.status, serde_json::to_string(body).expect("JSON")).into_response();
                r.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
                r
            }
            _ => answer.status.into_response(),
        };
        let h = response.headers_mut();
        h.insert("x-ratelimit-limit", HeaderValue::from(RATE_LIMIT));
        h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        if let Ok(message) = HeaderValue::from_str(&answer.message) {
            h.insert("x-status-message", message);
        }
        if answer.status == StatusCode::UNAUTHORIZED {
            h.insert("www-authenticate", HeaderValue::from_static("Basic realm=\"ZoneID API\""));
        }
        for (name, value) in answer.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                h.insert(name, value);
            }
        }
        response
    }
}

/// The base of `resource_url`s, from the request's `Host`.
fn base(headers: &HeaderMap) -> String {
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("api.zone.eu");
    format!("http://{host}/v2")
}

fn record_json(base: &str, zone: &str, r: &Rec) -> Value {
    let mut object = Map::new();
    object.insert("id".into(), json!(r.id.to_string()));
    object.insert("resource_url".into(), json!(format!("{base}/dns/{zone}/{}/{}", r.rtype, r.id)));
    object.insert("name".into(), json!(r.name));
    object.insert("destination".into(), json!(r.destination));
    for field in fields_of(&r.rtype) {
        if let Some(value) = r.fields.get(*field) {
            object.insert((*field).into(), value.clone());
        }
    }
    object.insert("delete".into(), json!(!r.system));
    object.insert("modify".into(), json!(!r.system));
    Value::Object(object)
}

fn zone_json(base: &str, name: &str, zone: &ZoneState) -> Value {
    json!([{ "resource_url": format!("{base}/dns/{name}"), "identificator": name, "active": zone.active, "ipv6": zone.ipv6 }])
}

fn rtype_of(path: &str) -> Result<String, Answer> {
    let rtype = path.to_ascii_lowercase();
    if TYPES.contains(&rtype.as_str()) { Ok(rtype) } else { Err(not_found("resource")) }
}

/// A number the API takes: a JSON number, within `max`.
fn number(object: &Map<String, Value>, field: &str, max: u64, default: Option<u64>) -> Result<Value, Answer> {
    match object.get(field) {
        None | Some(Value::Null) => {
            default.map(|d| json!(d)).ok_or_else(|| invalid(field, &format!("{field} is required")))
        }
        Some(Value::Number(n)) if n.as_u64().is_some_and(|n| n <= max) => Ok(json!(n.as_u64())),
        // Tolerated as the document's examples show numbers in quotes ("301").
        Some(Value::String(s)) if s.parse::<u64>().is_ok_and(|n| n <= max) => Ok(json!(s.parse::<u64>().unwrap_or(0))),
        Some(_) => Err(invalid(field, &format!("{field} must be a number from 0 to {max}"))),
    }
}

/// Reads and checks a record body of `rtype` for `zone`.
/// `root_target`: whether a root target (null MX, SRV `.`) is taken — the emulator's
/// reading `root_target`, `refused` by default. The document is silent; both are guesses.
fn record_input(
    zone_name: &str,
    zone: &ZoneState,
    rtype: &str,
    body: &Bytes,
    root_target: RootTarget,
) -> Result<Rec, Answer> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| failure(StatusCode::BAD_REQUEST, json!([]), &format!("Invalid JSON: {e}")))?;
    let object = value.as_object().ok_or_else(|| failure(StatusCode::BAD_REQUEST, json!([]), "Expected an object"))?;
    let name = object.get("name").and_then(Value::as_str).ok_or_else(|| invalid("name", "name is required"))?;
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if !(name == zone_name || name.ends_with(&format!(".{zone_name}"))) || Name::parse(&name).is_err() {
        return Err(invalid(
            "name",
            &format!("name must be the zone or a name under it, written in full ({zone_name})"),
        ));
    }
    let destination = object
        .get("destination")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("destination", "destination is required"))?;
    let host = |d: &str| {
        if d.is_empty() || d == "." {
            return match (rtype, root_target) {
                ("mx" | "srv", RootTarget::Accepted) => Ok(".".to_owned()),
                _ => Err(invalid("destination", "invalid hostname")),
            };
        }
        Name::parse(d)
            .map(|_| d.trim_end_matches('.').to_owned())
            .map_err(|_| invalid("destination", "invalid hostname"))
    };
    let hex = |d: &str| {
        data_encoding::HEXLOWER_PERMISSIVE
            .decode(d.as_bytes())
            .map(|_| d.to_ascii_lowercase())
            .map_err(|_| invalid("destination", "destination must be hexadecimal"))
    };
    let destination = match rtype {
        "a" => destination
            .parse::<std::net::Ipv4Addr>()
            .map(|a| a.to_string())
            .map_err(|_| invalid("destination", "invalid IPv4 address"))?,
        "aaaa" if !zone.ipv6 => return Err(invalid("destination", "IPv6 records are not allowed in this zone")),
        "aaaa" => destination
            .parse::<std::net::Ipv6Addr>()
            .map(|a| a.to_string())
            .map_err(|_| invalid("destination", "invalid IPv6 address"))?,
        "cname" | "mx" | "ns" | "srv" => host(destination)?,
        "tlsa" | "sshfp" => hex(destination)?,
        "url" => {
            let rest = destination.strip_prefix("https://").or_else(|| destination.strip_prefix("http://"));
            if rest.is_none_or(|r| r.is_empty()) {
                return Err(invalid("destination", "destination must be a URL with its scheme"));
            }
            destination.to_owned()
        }
        "caa" | "txt" => destination.to_owned(),
        _ => return Err(not_found("resource")),
    };
    let mut fields = BTreeMap::new();
    match rtype {
        "mx" => {
            fields.insert("priority".into(), number(object, "priority", 65535, None)?);
        }
        "srv" => {
            for field in ["priority", "weight", "port"] {
                fields.insert(field.into(), number(object, field, 65535, None)?);
            }
        }
        "caa" => {
            fields.insert("flag".into(), number(object, "flag", 255, Some(0))?);
            let tag = object.get("tag").and_then(Value::as_str).ok_or_else(|| invalid("tag", "tag is required"))?;
            if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(invalid("tag", "invalid tag"));
            }
            fields.insert("tag".into(), json!(tag.to_ascii_lowercase()));
        }
        "tlsa" => {
            fields.insert("certificate_usage".into(), number(object, "certificate_usage", 3, None)?);
            fields.insert("selector".into(), number(object, "selector", 1, None)?);
            fields.insert("matching_type".into(), number(object, "matching_type", 2, None)?);
        }
        "sshfp" => {
            fields.insert("algorithm".into(), number(object, "algorithm", 255, None)?);
            fields.insert("type".into(), number(object, "type", 255, None)?);
        }
        "url" => {
            let code = number(object, "type", 999, Some(301))?;
            if code != json!(301) && code != json!(302) {
                return Err(invalid("type", "Accepted values are 301 and 302"));
            }
            fields.insert("type".into(), code);
        }
        _ => {}
    }
    Ok(Rec { id: 0, rtype: rtype.into(), name, destination, fields, system: false })
}

/// A duplicate, or a CNAME beside other data: `zone_conflict`.
fn conflict(zone: &ZoneState, record: &Rec, except: Option<u64>) -> Option<Answer> {
    let at_name = || zone.records.iter().filter(|r| Some(r.id) != except && r.name == record.name);
    let duplicate =
        at_name().any(|r| r.rtype == record.rtype && r.destination == record.destination && r.fields == record.fields);
    let cname = record.rtype == "cname";
    let clash = at_name().any(|r| (r.rtype == "cname") != cname || (cname && r.rtype == "cname"));
    (duplicate || clash).then(|| {
        failure(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "name": "zone_conflict" }),
            "Record conflicts with an existing record",
        )
    })
}

fn zone_of<'a>(account: &'a mut Account, zone: &str) -> Result<&'a mut ZoneState, Answer> {
    account.zones.get_mut(&zone.to_ascii_lowercase()).ok_or_else(|| not_found("Zone"))
}

async fn zone_get(
    State(ctx): State<Ctx>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(zone): Path<String>,
) -> Response {
    let base = base(&headers);
    ctx.respond(&headers, peer, |account, _| {
        let state = zone_of(account, &zone)?;
        answer(StatusCode::OK, zone_json(&base, &zone, state), "OK")
    })
}

async fn zone_put(
    State(ctx): State<Ctx>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(zone): Path<String>,
    body: Bytes,
) -> Response {
    let base = base(&headers);
    ctx.respond(&headers, peer, |account, _| {
        let value: Value = serde_json::from_slice(&body)
            .map_err(|e| failure(StatusCode::BAD_REQUEST, json!([]), &format!("Invalid JSON: {e}")))?;
        let state = zone_of(account, &zone)?;
        if let Some(ipv6) = value.get("ipv6") {
            state.ipv6 = ipv6.as_bool().ok_or_else(|| invalid("ipv6", "ipv6 must be true or false"))?;
        }
        if let Some(active) = value.get("active") {
            state.active = active.as_bool().ok_or_else(|| invalid("active", "active must be true or false"))?;
        }
        answer(StatusCode::CREATED, zone_json(&base, &zone, state), "Zone updated")
    })
}

async fn records_list(
    State(ctx): State<Ctx>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((zone, rtype)): Path<(String, String)>,
) -> Response {
    let base = base(&headers);
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (page, limit, order_by, order_dir) =
        (header("x-pager-page"), header("x-pager-limit"), header("x-order-by"), header("x-order-dir"));
    let page_size = ctx.service.seed.page_size;
    ctx.respond(&headers, peer, |account, _| {
        let rtype = rtype_of(&rtype)?;
        let state = zone_of(account, &zone)?;
        let mut list: Vec<Value> =
            state.records.iter().filter(|r| r.rtype == rtype).map(|r| record_json(&base, &zone, r)).collect();
        if let Some(field) = order_by {
            list.sort_by_key(|r| r[&field].to_string());
            if order_dir.as_deref() == Some("desc") {
                list.reverse();
            }
        }
        let asked = page.is_some() || limit.is_some();
        let limit =
            limit.and_then(|l| l.parse::<usize>().ok()).or(page_size.filter(|_| !asked).or(asked.then_some(10)));
        let Some(limit) = limit.map(|l| l.clamp(1, 100)) else {
            return answer(StatusCode::OK, Value::Array(list), "OK");
        };
        let page = page.and_then(|p| p.parse::<usize>().ok()).unwrap_or(1).max(1);
        let pages = list.len().div_ceil(limit).max(1);
        let items = list.len();
        let shown: Vec<Value> = list.into_iter().skip((page - 1) * limit).take(limit).collect();
        let mut ok = Answer {
            status: StatusCode::OK,
            body: Some(Value::Array(shown)),
            message: "OK".into(),
            headers: Vec::new(),
        };
        ok.headers = vec![
            ("x-pager-enabled", "1".into()),
            ("x-pager-page", page.to_string()),
            ("x-pager-pages", pages.to_string()),
            ("x-pager-limit", limit.to_string()),
            ("x-pager-items", items.to_string()),
        ];
        Ok(ok)
    })
}

async fn record_create(
    State(ctx): State<Ctx>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((zone, rtype)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let base = base(&headers);
    let root_target = RootTarget::of(&ctx.shared);
    ctx.respond(&headers, peer, |account, seed| {
        let rtype = rtype_of(&rtype)?;
        let next = account.next_id + 1;
        let state = zone_of(account, &zone)?;
        let mut record = record_input(&zone, state, &rtype, &body, root_target)?;
        if let Some(refused) = conflict(state, &record, None) {
            return Err(refused);
        }
        if seed.max_records.is_some_and(|max| state.records.iter().filter(|r| !r.system).count() >= max) {
            return Err(failure(StatusCode::PAYMENT_REQUIRED, json!([]), "Package upgrade required for more records"));
        }
        record.id = next;
        let shown = record_json(&base, &zone, &record);
        state.records.push(record);
        account.next_id = next;
        answer(StatusCode::CREATED, json!([shown]), "Record created")
    })
}

fn record_at(state: &ZoneState, rtype: &str, id: &str) -> Result<usize, Answer> {
    let id: u64 = id.parse().map_err(|_| not_found("Record"))?;
    state.records.iter().position(|r| r.id == id && r.rtype == rtype).ok_or_else(|| not_found("Record"))
}

async fn record_get(
    State(ctx): State<Ctx>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((zone, rtype, id)): Path<(String, String, String)>,
) -> Response {
    let base = base(&headers);
    ctx.respond(&headers, peer, |account, _| {
        let rtype = rtype_of(&rtype)?;
        let state = zone_of(account, &zone)?;
        let at = record_at(state, &rtype, &id)?;
        answer(StatusCode::OK, json!([record_json(&base, &zone, &state.records[at])]), "OK")
    })
}

async fn record_put(
    State(ctx): State<Ctx>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((zone, rtype, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let base = base(&headers);
    let root_target = RootTarget::of(&ctx.shared);
    ctx.respond(&headers, peer, |account, _| {
        let rtype = rtype_of(&rtype)?;
        let state = zone_of(account, &zone)?;
        let at = record_at(state, &rtype, &id)?;
        if state.records[at].system {
            return Err(failure(StatusCode::FORBIDDEN, json!([]), "System record can not be modified"));
        }
        let mut record = record_input(&zone, state, &rtype, &body, root_target)?;
        record.id = state.records[at].id;
        if let Some(refused) = conflict(state, &record, Some(record.id)) {
            return Err(refused);
        }
        let shown = record_json(&base, &zone, &record);
        state.records[at] = record;
        answer(StatusCode::CREATED, json!([shown]), "Record updated")
    })
}

async fn record_delete(
    State(ctx): State<Ctx>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((zone, rtype, id)): Path<(String, String, String)>,
) -> Response {
    ctx.respond(&headers, peer, |account, _| {
        let rtype = rtype_of(&rtype)?;
        let state = zone_of(account, &zone)?;
        let at = record_at(state, &rtype, &id)?;
        if state.records[at].system {
            return Err(failure(StatusCode::FORBIDDEN, json!([]), "System record can not be deleted"));
        }
        state.records.remove(at);
        Ok(Answer { status: StatusCode::NO_CONTENT, body: None, message: "Record deleted".into(), headers: Vec::new() })
    })
}

impl Service for ZoneId {
    fn readings(&self) -> &'static [(&'static str, &'static [&'static str])] {
        &[RootTarget::READING, ("throttle", &["bare", "retry_after"])]
    }

    fn dns_zones(&self) -> Vec<DnsZone> {
        let state = self.state.lock().expect("not poisoned");
        let zones = state.zones.iter().filter(|(_, z)| z.active).map(|(name, zone)| {
            let records = zone.records.iter().filter_map(|r| {
                let field = |key: &str| match r.fields.get(key) {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                // ZoneID keeps no TTLs; its name servers serve an hour.
                let (owner, ttl, dest) = (fqdn(&r.name), 3600, &r.destination);
                let data = match r.rtype.as_str() {
                    // A web redirect, served by Zone.eu's web servers, not in DNS.
                    "url" => return None,
                    "txt" => return Some(DnsRecord::txt(owner, ttl, dest)),
                    "mx" => format!("{} {}", field("priority"), fqdn(dest)),
                    "srv" => format!("{} {} {} {}", field("priority"), field("weight"), field("port"), fqdn(dest)),
                    "caa" => format!("{} {} \"{}\"", field("flag"), field("tag"), dest),
                    "tlsa" => {
                        format!(
                            "{} {} {} {dest}",
                            field("certificate_usage"),
                            field("selector"),
                            field("matching_type")
                        )
                    }
                    "sshfp" => format!("{} {} {dest}", field("algorithm"), field("type")),
                    "cname" | "ns" => fqdn(dest),
                    _ => dest.clone(),
                };
                Some(DnsRecord { name: owner, ttl, rtype: r.rtype.to_ascii_uppercase(), data })
            });
            DnsZone { name: fqdn(name), records: records.collect() }
        });
        zones.collect()
    }

    fn nameservers(&self) -> &'static [&'static str] {
        &["ns1.zone.eu.", "ns2.zone.ee.", "ns3.zonedata.net."]
    }

    fn rate_limit(&self) -> Option<(u32, std::time::Duration)> {
        Some((RATE_LIMIT, std::time::Duration::from_secs(60)))
    }

    /// Another client on the loopback address — the one every test client has.
    fn spend_budget(&self, shared: &Shared, requests: u32) {
        let mut account = self.state.lock().expect("not poisoned");
        account.count(shared, IpAddr::from([127, 0, 0, 1]), requests);
    }

    fn routes(self: Arc<Self>, shared: Arc<Shared>) -> Router {
        let ctx = Ctx { service: self, shared };
        Router::new()
            .route("/v2/dns/{zone}", get(zone_get).put(zone_put))
            .route("/v2/dns/{zone}/{rtype}", get(records_list).post(record_create))
            .route("/v2/dns/{zone}/{rtype}/{id}", get(record_get).put(record_put).delete(record_delete))
            .with_state(ctx)
    }

    fn dump(&self) -> Value {
        serde_json::to_value(&*self.state.lock().expect("not poisoned")).expect("serializable")
    }

    fn reset(&self) {
        self.reset_state();
    }

    fn base_path(&self) -> &'static str {
        "/v2"
    }

    fn describe(&self, endpoint: &str) -> Value {
        let zones: Vec<&str> = self.seed.zones.iter().map(|(z, _)| z.as_str()).collect();
        json!({
            "provider": "zoneid",
            "user": self.seed.user,
            "api_key": self.seed.api_key,
            "zones": zones,
            // ZONEEE_ENDPOINT as each lego generation joins it: lego's first zoneee client
            // (Debian's 4.9.1) appends the domain to the DNS root `…/v2/dns/`; the internal
            // client of later releases (`providers/dns/zoneee/internal/client.go`: default
            // `https://api.zone.eu/v2/`, then `JoinPath("dns", domain, "txt")`) wants `…/v2/`.
            "env": { "ZONEEE_API_USER": self.seed.user, "ZONEEE_API_KEY": self.seed.api_key, "ZONEEE_ENDPOINT": format!("{endpoint}/dns/") },
            "env_current_lego": { "ZONEEE_API_USER": self.seed.user, "ZONEEE_API_KEY": self.seed.api_key, "ZONEEE_ENDPOINT": format!("{endpoint}/") },
        })
    }

    fn provider_settings(&self, endpoint: &str) -> toml::Table {
        let mut table = toml::Table::new();
        table.insert("endpoint".into(), endpoint.into());
        table.insert("username".into(), self.seed.user.clone().into());
        table.insert("api_key".into(), self.seed.api_key.clone().into());
        let zones = self.seed.zones.iter().map(|(z, _)| toml::Value::String(z.clone())).collect();
        table.insert("zones".into(), toml::Value::Array(zones));
        table
    }
}

//! The LuaDNS API v1, from `seeds/001_ce28d99003e45070.txt` and the LuaDNS section of
//! `PROVIDERS.md`.
//!
//! What it does that the document leaves out: every success is 200 and a delete answers
//! the deleted object; a request without `Accept: application/json` is 403; validation
//! errors are 400 with a JSON *array*; other errors are `{"status","request_id","message"}`;
//! rate-limit headers on every authenticated answer and 429 with `Retry-After` past 1200
//! requests in 5 minutes; a new zone gets an SOA and four NS records whose TTL cannot be
//! changed; record names are absolute with a trailing dot, content is in presentation form
//! (TXT raw); the bulk endpoints `POST …/records/create_many`, `PATCH …/records` and
//! `POST …/records/delete_many`; both page-count headers.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use zonectl_core::{Name, RData, RecordType};

use crate::dns::{DnsRecord, DnsZone, fqdn};
use crate::{Emulator, EmulatorKind, Service, Shared, basic_auth, timestamp};

/// The registry's entry.
pub static KIND: EmulatorKind = EmulatorKind {
    provider: "luadns",
    start: |options, zones| {
        Box::pin(async move {
            let mut seed = Seed::default();
            if let Some(zones) = zones {
                seed.zones = zones.iter().map(|z| z.as_str().trim_end_matches('.').to_owned()).collect();
            }
            seed.rate_limit = options.rate_limit.unwrap_or(seed.rate_limit);
            Emulator::start(LuaDns::new(seed), options).await
        })
    },
    demo_note: "record sets change in bulk requests, a constant number per sync",
};

/// The window of the rate limit, in seconds of the emulated service.
const RATE_WINDOW: f64 = 300.0;
/// The name servers a new zone gets.
const NAME_SERVERS: [&str; 4] = ["ns1.luadns.net.", "ns2.luadns.net.", "ns3.luadns.net.", "ns4.luadns.net."];
/// Types the API takes.
const TYPES: &[&str] = &["A", "AAAA", "CNAME", "MX", "NS", "TXT", "SRV", "CAA", "SSHFP", "TLSA", "DS", "PTR", "SOA"];

/// The seeded account.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The login (an e-mail address).
    pub email: String,
    /// The API key.
    pub api_key: String,
    /// The account's minimum TTL, reported by `GET /users/me`.
    pub min_ttl: u32,
    /// Zones the account holds from the start.
    pub zones: Vec<String>,
    /// A second API key restricted to one zone (the document: "An API key can be configured
    /// to be global … or restricted to a single zone"): (key, zone).
    pub restricted_key: Option<(String, String)>,
    /// Requests allowed per 5-minute window (1200 at LuaDNS).
    pub rate_limit: u32,
}

impl Default for Seed {
    fn default() -> Seed {
        Seed {
            email: "joe@example.com".into(),
            api_key: "emulator-luadns-key-0123456789".into(),
            min_ttl: 300,
            zones: vec!["example.com".into(), "example.net".into()],
            restricted_key: Some(("emulator-luadns-key-example-net-only".into(), "example.net".into())),
            rate_limit: 1200,
        }
    }
}

/// The emulated LuaDNS service.
#[derive(Debug)]
pub struct LuaDns {
    seed: Seed,
    state: Mutex<Account>,
}

#[derive(Debug, Clone, serde::Serialize)]
struct ZoneRecord {
    id: u64,
    name: String,
    template_id: u64,
    synced: bool,
    queries_count: u64,
    records_count: usize,
    aliases_count: u64,
    redirects_count: u64,
    forwards_count: u64,
    records: Option<Vec<RecordJson>>,
}

/// A record as the API shows it, keys in the real order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
struct RecordJson {
    id: u64,
    name: String,
    #[serde(rename = "type")]
    rtype: String,
    content: String,
    ttl: u32,
    zone_id: u64,
    generated: bool,
    created_at: String,
    updated_at: String,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
struct Account {
    zones: BTreeMap<u64, ZoneState>,
    next_zone: u64,
    next_record: u64,
    #[serde(skip)]
    window_start: f64,
    #[serde(skip)]
    window_count: u32,
    #[serde(skip)]
    requests: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
struct ZoneState {
    name: String,
    records: Vec<RecordJson>,
}

impl Account {
    /// Starts a new window when the last one is over (windows start on 5-minute boundaries
    /// of the service's clock, as the recorded `X-Ratelimit-Reset`s fall); returns now.
    fn roll_window(&mut self, shared: &Shared) -> f64 {
        let now = shared.service_seconds();
        if now - self.window_start >= RATE_WINDOW {
            self.window_start = now - now % RATE_WINDOW;
            self.window_count = 0;
        }
        now
    }
}

impl LuaDns {
    /// The service with the given account.
    pub fn new(seed: Seed) -> LuaDns {
        let service = LuaDns { seed, state: Mutex::new(Account::default()) };
        service.reset_state();
        service
    }

    fn reset_state(&self) {
        let mut account = Account { next_zone: 1, next_record: 1000, ..Account::default() };
        for zone in &self.seed.zones {
            account.create_zone(zone);
        }
        *self.state.lock().expect("not poisoned") = account;
    }
}

impl Account {
    fn create_zone(&mut self, name: &str) -> u64 {
        let id = self.next_zone;
        self.next_zone += 1;
        let apex = format!("{name}.");
        let mut zone = ZoneState { name: name.to_owned(), records: Vec::new() };
        let soa = format!("{} hostmaster.luadns.com. 1 1200 120 604800 3600", NAME_SERVERS[0]);
        zone.records.push(self.record(id, &apex, "SOA", &soa, 3600));
        for ns in NAME_SERVERS {
            zone.records.push(self.record(id, &apex, "NS", ns, 86400));
        }
        self.zones.insert(id, zone);
        id
    }

    fn record(&mut self, zone_id: u64, name: &str, rtype: &str, content: &str, ttl: u32) -> RecordJson {
        let id = self.next_record;
        self.next_record += 1;
        let now = timestamp();
        RecordJson {
            id,
            name: name.to_owned(),
            rtype: rtype.to_owned(),
            content: content.to_owned(),
            ttl,
            zone_id,
            generated: false,
            created_at: now.clone(),
            updated_at: now,
        }
    }
}

#[derive(Clone)]
struct Ctx {
    service: Arc<LuaDns>,
    shared: Arc<Shared>,
}

/// An answer with the rate-limit headers of an authenticated request.
struct Answer {
    status: StatusCode,
    body: Value,
    headers: Vec<(&'static str, String)>,
}

fn object_error(status: StatusCode, message: &str) -> Response {
    let body = json!({
        "status": status.canonical_reason().unwrap_or("Error"),
        "request_id": format!("{:016x}", rand_id()),
        "message": message,
    });
    let mut response = (status, compact(&body)).into_response();
    response.headers_mut().insert("content-type", HeaderValue::from_static("application/json; charset=utf-8"));
    response
}

fn rand_id() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// A 400 with the array body validation errors really have.
fn validation(field: &str, message: &str) -> Answer {
    Answer {
        status: StatusCode::BAD_REQUEST,
        body: json!([{ "fieldNames": [field], "classification": "ValidationError", "message": message }]),
        headers: Vec::new(),
    }
}

fn deserialization(message: &str) -> Answer {
    Answer {
        status: StatusCode::BAD_REQUEST,
        body: json!([{ "classification": "DeserializationError", "message": message }]),
        headers: Vec::new(),
    }
}

fn ok(body: Value) -> Result<Answer, Answer> {
    Ok(Answer { status: StatusCode::OK, body, headers: Vec::new() })
}

fn not_found(what: &str) -> Answer {
    Answer {
        status: StatusCode::NOT_FOUND,
        body: json!({ "status": "Not Found", "request_id": format!("{:016x}", rand_id()), "message": format!("{what} not found") }),
        headers: Vec::new(),
    }
}

/// Compact JSON, keys in struct order (shell clients grep it).
fn compact(value: &Value) -> String {
    serde_json::to_string(value).expect("JSON values serialize")
}

impl Ctx {
    /// The account's minimum TTL: the seed's, or the package the reading `min_ttl` says.
    fn min_ttl(&self) -> u32 {
        self.shared.reading("min_ttl").and_then(|t| t.parse().ok()).unwrap_or(self.service.seed.min_ttl)
    }

    /// Authentication, the Accept check and the rate limit, before any handler runs.
    fn admit(
        &self,
        headers: &HeaderMap,
        path_zone: Option<&str>,
    ) -> Result<Vec<(&'static str, String)>, Box<Response>> {
        let accepts =
            headers.get("accept").and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("application/json"));
        let Some(restricted) = authorized(headers, &self.service.seed) else {
            let mut r = object_error(StatusCode::UNAUTHORIZED, "Invalid API Key");
            r.headers_mut()
                .insert("www-authenticate", HeaderValue::from_static("Basic realm=\"Authorization Required\""));
            return Err(Box::new(r));
        };
        if !accepts {
            return Err(Box::new(object_error(StatusCode::FORBIDDEN, "Invalid 'Accept' header")));
        }
        if let Some(allowed) = &restricted {
            let account = self.service.state.lock().expect("not poisoned");
            let target = path_zone.and_then(parse_id).and_then(|id| account.zones.get(&id)).map(|z| z.name.clone());
            if target.as_ref().is_some_and(|t| t != allowed) {
                return Err(Box::new(object_error(
                    StatusCode::FORBIDDEN,
                    &format!("API key is restricted to zone {allowed}"),
                )));
            }
        }
        let mut account = self.service.state.lock().expect("not poisoned");
        account.requests += 1;
        let now = account.roll_window(&self.shared);
        let window_end = account.window_start + RATE_WINDOW;
        let reset_in = self.shared.scaled(Duration::from_secs_f64(window_end - now));
        let reset_at =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default() + reset_in;
        let reset = reset_at.as_secs_f64().ceil() as u64;
        let limit = self.service.seed.rate_limit;
        if account.window_count >= limit {
            // As luadns-go's recorded answer (`testdata/http/users/me.show:err-too-many`):
            // a JSON body, `Retry-After: 300` whatever is left of the window, and the
            // window's end in `X-Ratelimit-Reset`.
            let mut r = object_error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
            let retry = self.shared.scaled(Duration::from_secs(300)).as_secs_f64().ceil().max(1.0) as u64;
            let h = r.headers_mut();
            h.insert("retry-after", HeaderValue::from(retry));
            h.insert("x-ratelimit-limit", HeaderValue::from(limit));
            h.insert("x-ratelimit-remaining", HeaderValue::from(0));
            h.insert("x-ratelimit-reset", HeaderValue::from(reset));
            return Err(Box::new(r));
        }
        account.window_count += 1;
        Ok(vec![
            ("x-ratelimit-limit", limit.to_string()),
            ("x-ratelimit-remaining", (limit - account.window_count).to_string()),
            ("x-ratelimit-reset", reset.to_string()),
        ])
    }

    fn respond(&self, headers: &HeaderMap, handler: impl FnOnce(&mut Account) -> Result<Answer, Answer>) -> Response {
        self.respond_in(headers, None, handler)
    }

    /// Like [`Ctx::respond_in`] for a bulk request: a JSON array of records for the zone
    /// with this path id.
    fn respond_bulk(
        &self,
        headers: &HeaderMap,
        zone: &str,
        body: &Bytes,
        handler: impl FnOnce(&mut Account, u64, Vec<Value>) -> Result<Answer, Answer>,
    ) -> Response {
        self.respond_in(headers, Some(zone), |account| {
            let zone_id = existing_zone(account, zone)?;
            let values = parse_array(body)?;
            handler(account, zone_id, values)
        })
    }

    /// Like [`Ctx::respond`] for a request on the zone with this path id.
    fn respond_in(
        &self,
        headers: &HeaderMap,
        zone: Option<&str>,
        handler: impl FnOnce(&mut Account) -> Result<Answer, Answer>,
    ) -> Response {
        let rate = match self.admit(headers, zone) {
            Ok(rate) => rate,
            Err(response) => return *response,
        };
        let answer = {
            let mut account = self.service.state.lock().expect("not poisoned");
            // Handlers answer errors through `?`; both sides are answers.
            handler(&mut account).unwrap_or_else(|error| error)
        };
        let mut response = (answer.status, compact(&answer.body)).into_response();
        let h = response.headers_mut();
        h.insert("content-type", HeaderValue::from_static("application/json; charset=utf-8"));
        for (name, value) in rate.into_iter().chain(answer.headers) {
            if let Ok(value) = HeaderValue::from_str(&value) {
                h.insert(name, value);
            }
        }
        response
    }
}

/// Who is calling: `None` when the credentials are wrong, `Some(None)` for the global key,
/// `Some(Some(zone))` for a key restricted to `zone`.
fn authorized(headers: &HeaderMap, seed: &Seed) -> Option<Option<String>> {
    let (user, key) = basic_auth(headers)?;
    if user != seed.email {
        return None;
    }
    if key == seed.api_key {
        return Some(None);
    }
    match &seed.restricted_key {
        Some((restricted, zone)) if key == *restricted => Some(Some(zone.clone())),
        _ => None,
    }
}

#[derive(Debug, Default, serde::Deserialize)]
struct ListQuery {
    query: Option<String>,
    sort_by: Option<String>,
    sort_order: Option<String>,
    limit: Option<String>,
    page: Option<String>,
}

/// Filters, sorts and pages `items`, adding both page-count headers.
fn list<T: serde::Serialize>(
    mut items: Vec<T>,
    q: &ListQuery,
    text: impl Fn(&T) -> String,
    key: impl Fn(&T, &str) -> String,
) -> Result<Answer, Answer> {
    if let Some(query) = q.query.as_deref().filter(|s| !s.is_empty()) {
        items.retain(|item| text(item).contains(query));
    }
    if let Some(column) = q.sort_by.as_deref() {
        items.sort_by_key(|item| key(item, column));
        if q.sort_order.as_deref() == Some("desc") {
            items.reverse();
        }
    }
    let parse = |v: &Option<String>, field: &str, default: usize| -> Result<usize, Answer> {
        match v {
            None => Ok(default),
            Some(s) => s.parse().map_err(|_| validation(field, &format!("invalid {field}"))),
        }
    };
    let limit = parse(&q.limit, "limit", 0)?;
    if limit > 500 {
        return Err(validation("limit", "limit must be between 1 and 500"));
    }
    let page = parse(&q.page, "page", 1)?;
    if page == 0 {
        return Err(validation("page", "page must be 1 or more"));
    }
    let total = items.len();
    let (shown, pages): (Vec<T>, usize) = if limit == 0 {
        (items, 1)
    } else {
        let pages = total.div_ceil(limit).max(1);
        (items.into_iter().skip((page - 1) * limit).take(limit).collect(), pages)
    };
    let headers = vec![
        ("x-page", page.to_string()),
        ("x-limit", limit.to_string()),
        ("x-total-count", total.to_string()),
        ("x-total-pages", pages.to_string()),
        ("x-pages-count", pages.to_string()),
    ];
    Ok(Answer { status: StatusCode::OK, body: serde_json::to_value(shown).expect("serializable"), headers })
}

fn record_key(r: &RecordJson, column: &str) -> String {
    match column {
        "name" => r.name.clone(),
        "type" => r.rtype.clone(),
        "content" => r.content.clone(),
        "ttl" => format!("{:010}", r.ttl),
        _ => format!("{:020}", r.id),
    }
}

fn zone_json(id: u64, zone: &ZoneState, with_records: bool) -> ZoneRecord {
    ZoneRecord {
        id,
        name: zone.name.clone(),
        synced: false,
        queries_count: 0,
        records_count: zone.records.len(),
        aliases_count: 0,
        redirects_count: 0,
        forwards_count: 0,
        template_id: 0,
        records: with_records.then(|| zone.records.clone()),
    }
}

fn parse_id(text: &str) -> Option<u64> {
    text.parse().ok()
}

/// The id of the zone a path names, if the account holds it.
fn existing_zone(account: &Account, id: &str) -> Result<u64, Answer> {
    parse_id(id).filter(|id| account.zones.contains_key(id)).ok_or_else(|| not_found("zone"))
}

/// A record as a client sends it, checked.
struct Input {
    name: String,
    rtype: String,
    content: String,
    ttl: u32,
}

impl Input {
    /// The record this input would become, before it has an id: for checking a zone as it
    /// would be.
    fn candidate(&self, zone_id: u64) -> RecordJson {
        RecordJson {
            id: 0,
            name: self.name.clone(),
            rtype: self.rtype.clone(),
            content: self.content.clone(),
            ttl: self.ttl,
            zone_id,
            generated: false,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }
}

/// Checks one record object of a request body against the zone.
fn check_input(value: &Value, zone: &ZoneState, min_ttl: u32) -> Result<Input, Answer> {
    let Some(object) = value.as_object() else { return Err(deserialization("expected a JSON object")) };
    let string = |field: &str| -> Result<String, Answer> {
        match object.get(field) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(deserialization(&format!("{field}: expected a string"))),
            None => Err(validation(field, &format!("{field} is required"))),
        }
    };
    let name = string("name")?;
    let rtype = string("type")?.to_ascii_uppercase();
    let content = string("content")?;
    let ttl = match object.get("ttl") {
        None | Some(Value::Null) => min_ttl,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(t) if t <= i32::MAX as u64 => t as u32,
            _ => return Err(validation("ttl", "invalid TTL")),
        },
        Some(_) => return Err(deserialization("ttl: expected an integer")),
    };
    if ttl < min_ttl {
        return Err(validation("ttl", &format!("TTL must be at least {min_ttl}")));
    }
    let apex = format!("{}.", zone.name);
    let lower = name.to_ascii_lowercase();
    if !lower.ends_with('.') || !(lower == apex || lower.ends_with(&format!(".{apex}"))) {
        return Err(validation("name", "name must be a fully qualified name inside the zone, with a trailing dot"));
    }
    if !TYPES.contains(&rtype.as_str()) {
        return Err(validation("type", "unsupported record type"));
    }
    if rtype == "SOA" {
        return Err(validation("type", "SOA records are managed by LuaDNS"));
    }
    if rtype != "TXT" {
        let parsed_type: RecordType = rtype.parse().map_err(|_| validation("type", "unsupported record type"))?;
        let data = RData::parse(parsed_type, &content, None).map_err(|_| {
            let message = match rtype.as_str() {
                "A" => "invalid IPv4 address".to_owned(),
                "AAAA" => "invalid IPv6 address".to_owned(),
                other => format!("invalid {other} content"),
            };
            validation("content", &message)
        })?;
        // Hostnames must be absolute: the last field ends with a dot.
        if data.target().is_some() && !content.trim_end().ends_with('.') {
            return Err(validation("content", "hostname must be fully qualified (end with a dot)"));
        }
    }
    Ok(Input { name: lower, rtype, content, ttl })
}

fn is_default_ns(zone: &ZoneState, r: &RecordJson) -> bool {
    r.rtype == "NS" && r.name == format!("{}.", zone.name) && NAME_SERVERS.contains(&r.content.as_str())
}

/// The CNAME rule: a CNAME is alone at its name.
fn cname_conflict(records: &[RecordJson]) -> Option<String> {
    let mut by_name: BTreeMap<&str, (bool, bool)> = BTreeMap::new();
    for r in records {
        let entry = by_name.entry(&r.name).or_default();
        if r.rtype == "CNAME" { entry.0 = true } else { entry.1 = true }
    }
    by_name.into_iter().find(|(_, (c, o))| *c && *o).map(|(name, _)| name.to_owned())
}

fn parse_body(body: &Bytes) -> Result<Value, Answer> {
    serde_json::from_slice(body).map_err(|e| deserialization(&format!("invalid JSON: {e}")))
}

/// The body of a bulk request: a JSON array.
fn parse_array(body: &Bytes) -> Result<Vec<Value>, Answer> {
    match parse_body(body)? {
        Value::Array(values) => Ok(values),
        _ => Err(deserialization("expected a JSON array")),
    }
}

impl Service for LuaDns {
    fn dns_zones(&self) -> Vec<DnsZone> {
        let state = self.state.lock().expect("not poisoned");
        let zones = state.zones.values().map(|zone| DnsZone {
            name: fqdn(&zone.name),
            records: zone
                .records
                .iter()
                .map(|r| match r.rtype.as_str() {
                    // The API keeps TXT raw.
                    "TXT" => DnsRecord::txt(r.name.clone(), r.ttl, &r.content),
                    _ => {
                        DnsRecord { name: r.name.clone(), ttl: r.ttl, rtype: r.rtype.clone(), data: r.content.clone() }
                    }
                })
                .collect(),
        });
        zones.collect()
    }

    fn nameservers(&self) -> &'static [&'static str] {
        &["ns1.luadns.net.", "ns2.luadns.net.", "ns3.luadns.net.", "ns4.luadns.net."]
    }

    fn rate_limit(&self) -> Option<(u32, Duration)> {
        Some((self.seed.rate_limit, Duration::from_secs_f64(RATE_WINDOW)))
    }

    /// `min_ttl`: the account's package. A free one's minimum is 300 (`GET /users/me`
    /// reports it; the seed's default); a paid package allows lower (`60`). Whether a TTL
    /// below it is refused (as here) or raised is not documented.
    fn readings(&self) -> &'static [(&'static str, &'static [&'static str])] {
        &[("min_ttl", &["300", "60"])]
    }

    fn spend_budget(&self, shared: &Shared, requests: u32) {
        let mut account = self.state.lock().expect("not poisoned");
        account.roll_window(shared);
        account.window_count = account.window_count.saturating_add(requests).min(self.seed.rate_limit);
    }

    fn routes(self: Arc<Self>, shared: Arc<Shared>) -> Router {
        let ctx = Ctx { service: self, shared };
        Router::new()
            .route("/v1/users/me", get(users_me))
            .route("/v1/zones", get(zones_list).post(zones_create))
            .route("/v1/zones/{id}", get(zone_get).put(zone_update).delete(zone_delete))
            .route("/v1/zones/{id}/records", get(records_list).post(record_create).patch(records_patch))
            .route("/v1/zones/{id}/records/create_many", post(records_create_many))
            .route("/v1/zones/{id}/records/delete_many", post(records_delete_many))
            .route("/v1/zones/{id}/records/{rid}", get(record_get).put(record_update).delete(record_delete))
            .route("/v1/zones/{id}/ds_records", get(ds_records))
            .with_state(ctx)
    }

    fn dump(&self) -> Value {
        serde_json::to_value(&*self.state.lock().expect("not poisoned")).expect("serializable")
    }

    fn reset(&self) {
        self.reset_state();
    }

    fn base_path(&self) -> &'static str {
        "/v1"
    }

    fn provider_settings(&self, endpoint: &str) -> toml::Table {
        let mut table = toml::Table::new();
        table.insert("endpoint".into(), endpoint.into());
        table.insert("username".into(), self.seed.email.clone().into());
        table.insert("token".into(), self.seed.api_key.clone().into());
        table.insert("min_ttl".into(), i64::from(self.seed.min_ttl).into());
        table
    }

    fn describe(&self, _endpoint: &str) -> Value {
        json!({
            "provider": "luadns",
            "username": self.seed.email,
            "api_key": self.seed.api_key,
            "zones": self.seed.zones,
            "env": { "LUADNS_API_USERNAME": self.seed.email, "LUADNS_API_TOKEN": self.seed.api_key },
        })
    }
}

async fn users_me(State(ctx): State<Ctx>, headers: HeaderMap) -> Response {
    let seed = ctx.service.seed.clone();
    let min_ttl = ctx.min_ttl();
    ctx.respond(&headers, |_| {
        ok(json!({
            "email": seed.email, "name": "Emulated User", "repo_uri": "", "api_enabled": true, "tfa": false,
            "deploy_key": "", "ttl": min_ttl, "package": "Emulated", "name_servers": NAME_SERVERS,
        }))
    })
}

async fn zones_list(State(ctx): State<Ctx>, headers: HeaderMap, Query(q): Query<ListQuery>) -> Response {
    // A key restricted to one zone sees that zone only.
    let only = authorized(&headers, &ctx.service.seed).flatten();
    ctx.respond(&headers, |account| {
        let zones: Vec<ZoneRecord> = account
            .zones
            .iter()
            .filter(|(_, z)| only.as_ref().is_none_or(|o| *o == z.name))
            .map(|(id, z)| zone_json(*id, z, false))
            .collect();
        list(
            zones,
            &q,
            |z| z.name.clone(),
            |z, column| if column == "name" { z.name.clone() } else { format!("{:020}", z.id) },
        )
    })
}

async fn zones_create(State(ctx): State<Ctx>, headers: HeaderMap, body: Bytes) -> Response {
    ctx.respond(&headers, |account| {
        // As luadns-go's recorded exchanges have it (`testdata/http/zones.create*`): a missing
        // name is RequiredError and ValidationError together, a taken one 403 with the
        // object body, and the new zone comes back with its SOA and four NS records.
        let value = parse_body(&body)?;
        if let Some(other) = value.get("name").filter(|n| !n.is_string() && !n.is_null()) {
            let found = match other {
                Value::Number(_) => "number",
                Value::Bool(_) => "bool",
                Value::Array(_) => "array",
                _ => "object",
            };
            return Err(deserialization(&format!(
                "json: cannot unmarshal {found} into Go struct field Zone.name of type string"
            )));
        }
        let Some(name) = value.get("name").and_then(Value::as_str) else {
            return Err(Answer {
                status: StatusCode::BAD_REQUEST,
                body: json!([
                    { "fieldNames": ["name"], "classification": "RequiredError", "message": "Required" },
                    { "fieldNames": ["name"], "classification": "ValidationError", "message": "invalid name" },
                ]),
                headers: Vec::new(),
            });
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if Name::parse(&name).is_err() || !name.contains('.') {
            return Err(validation("name", "invalid name"));
        }
        if account.zones.values().any(|z| z.name == name) {
            return Err(Answer {
                status: StatusCode::FORBIDDEN,
                body: json!({
                    "status": "Forbidden",
                    "request_id": format!("{:016x}", rand_id()),
                    "message": format!("Zone '{name}' is taken already."),
                }),
                headers: Vec::new(),
            });
        }
        let id = account.create_zone(&name);
        ok(serde_json::to_value(zone_json(id, &account.zones[&id], true)).expect("serializable"))
    })
}

async fn zone_get(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    ctx.respond_in(&headers, Some(&id), |account| {
        match parse_id(&id).and_then(|id| account.zones.get(&id).map(|z| (id, z))) {
            Some((id, zone)) => ok(serde_json::to_value(zone_json(id, zone, true)).expect("serializable")),
            None => Err(not_found("zone")),
        }
    })
}

async fn zone_update(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    ctx.respond_in(&headers, Some(&id), |account| {
        let id = existing_zone(account, &id)?;
        parse_body(&body)?;
        ok(serde_json::to_value(zone_json(id, &account.zones[&id], true)).expect("serializable"))
    })
}

async fn zone_delete(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    ctx.respond_in(&headers, Some(&id), |account| {
        match parse_id(&id).and_then(|id| account.zones.remove(&id).map(|z| (id, z))) {
            Some((id, zone)) => ok(serde_json::to_value(zone_json(id, &zone, true)).expect("serializable")),
            None => Err(not_found("zone")),
        }
    })
}

async fn records_list(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    ctx.respond_in(&headers, Some(&id), |account| match parse_id(&id).and_then(|id| account.zones.get(&id)) {
        Some(zone) => list(zone.records.clone(), &q, |r| format!("{} {}", r.name, r.content), record_key),
        None => Err(not_found("zone")),
    })
}

async fn record_get(State(ctx): State<Ctx>, headers: HeaderMap, Path((id, rid)): Path<(String, String)>) -> Response {
    ctx.respond_in(&headers, Some(&id), |account| {
        let record = parse_id(&id)
            .and_then(|id| account.zones.get(&id))
            .and_then(|z| parse_id(&rid).and_then(|rid| z.records.iter().find(|r| r.id == rid)));
        match record {
            Some(r) => ok(serde_json::to_value(r).expect("serializable")),
            None => Err(not_found("record")),
        }
    })
}

/// Adds checked records to a zone, all or none.
fn add_records(account: &mut Account, zone_id: u64, values: &[Value], min_ttl: u32) -> Result<Vec<RecordJson>, Answer> {
    let zone = &account.zones[&zone_id];
    let inputs: Vec<Input> = values.iter().map(|v| check_input(v, zone, min_ttl)).collect::<Result<_, _>>()?;
    let mut records = zone.records.clone();
    for input in &inputs {
        if records.iter().any(|r| r.name == input.name && r.rtype == input.rtype && r.content == input.content) {
            return Err(validation("content", "record already exists"));
        }
        records.push(input.candidate(zone_id));
    }
    if let Some(name) = cname_conflict(&records) {
        return Err(validation("type", &format!("CNAME record at {name} conflicts with other records")));
    }
    let created: Vec<RecordJson> =
        inputs.iter().map(|i| account.record(zone_id, &i.name, &i.rtype, &i.content, i.ttl)).collect();
    account.zones.get_mut(&zone_id).expect("checked").records.extend(created.clone());
    Ok(created)
}

async fn record_create(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    let min_ttl = ctx.min_ttl();
    ctx.respond_in(&headers, Some(&id), |account| {
        let zone_id = existing_zone(account, &id)?;
        let value = parse_body(&body)?;
        let mut created = add_records(account, zone_id, std::slice::from_ref(&value), min_ttl)?;
        ok(serde_json::to_value(created.remove(0)).expect("serializable"))
    })
}

async fn records_create_many(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let min_ttl = ctx.min_ttl();
    ctx.respond_bulk(&headers, &id, &body, |account, zone_id, values| {
        let created = add_records(account, zone_id, &values, min_ttl)?;
        ok(serde_json::to_value(created).expect("serializable"))
    })
}

/// `PATCH /zones/{id}/records`: each name and type pair given is replaced by the records
/// given for it; other records are untouched. All or none.
async fn records_patch(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    let min_ttl = ctx.min_ttl();
    ctx.respond_bulk(&headers, &id, &body, |account, zone_id, values| {
        let zone = &account.zones[&zone_id];
        let inputs: Vec<Input> = values.iter().map(|v| check_input(v, zone, min_ttl)).collect::<Result<_, _>>()?;
        let pairs: std::collections::BTreeSet<(String, String)> =
            inputs.iter().map(|i| (i.name.clone(), i.rtype.clone())).collect();
        for r in zone.records.iter().filter(|r| is_default_ns(zone, r)) {
            if pairs.contains(&(r.name.clone(), r.rtype.clone()))
                && inputs
                    .iter()
                    .any(|i| i.rtype == "NS" && i.name == r.name && i.content == r.content && i.ttl != r.ttl)
            {
                return Err(validation("ttl", "the TTL of the default NS records cannot be changed"));
            }
        }
        let mut kept: Vec<RecordJson> =
            zone.records.iter().filter(|r| !pairs.contains(&(r.name.clone(), r.rtype.clone()))).cloned().collect();
        let mut candidate = kept.clone();
        candidate.extend(inputs.iter().map(|i| i.candidate(zone_id)));
        if let Some(name) = cname_conflict(&candidate) {
            return Err(validation("type", &format!("CNAME record at {name} conflicts with other records")));
        }
        let mut seen = std::collections::BTreeSet::new();
        for i in &inputs {
            if !seen.insert((i.name.clone(), i.rtype.clone(), i.content.clone())) {
                return Err(validation("content", "duplicate record in request"));
            }
        }
        let written: Vec<RecordJson> =
            inputs.iter().map(|i| account.record(zone_id, &i.name, &i.rtype, &i.content, i.ttl)).collect();
        kept.extend(written.clone());
        account.zones.get_mut(&zone_id).expect("checked").records = kept;
        ok(serde_json::to_value(written).expect("serializable"))
    })
}

/// `POST /zones/{id}/records/delete_many`: deletes the records matching each given object
/// (fields left out match anything); answers the deleted records.
async fn records_delete_many(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    ctx.respond_bulk(&headers, &id, &body, |account, zone_id, values| {
        let zone = account.zones.get_mut(&zone_id).expect("checked");
        let matches = |r: &RecordJson, v: &Value| {
            let field = |k: &str, have: &str| {
                v.get(k).and_then(Value::as_str).is_none_or(|want| want.eq_ignore_ascii_case(have))
            };
            let ttl = v.get("ttl").and_then(Value::as_u64).is_none_or(|t| t == u64::from(r.ttl));
            field("name", &r.name)
                && field("type", &r.rtype)
                && v.get("content").and_then(Value::as_str).is_none_or(|c| c == r.content)
                && ttl
        };
        if zone.records.iter().any(|r| r.rtype == "SOA" && values.iter().any(|v| matches(r, v))) {
            return Err(validation("type", "the SOA record cannot be deleted"));
        }
        let (deleted, kept): (Vec<RecordJson>, Vec<RecordJson>) =
            zone.records.drain(..).partition(|r| values.iter().any(|v| matches(r, v)));
        zone.records = kept;
        ok(serde_json::to_value(deleted).expect("serializable"))
    })
}

async fn record_update(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path((id, rid)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let min_ttl = ctx.min_ttl();
    ctx.respond_in(&headers, Some(&id), |account| {
        let zone_id = existing_zone(account, &id)?;
        let zone = &account.zones[&zone_id];
        let Some(at) = parse_id(&rid).and_then(|rid| zone.records.iter().position(|r| r.id == rid)) else {
            return Err(not_found("record"));
        };
        let value = parse_body(&body)?;
        let input = check_input(&value, zone, min_ttl)?;
        let old = &zone.records[at];
        if is_default_ns(zone, old) && input.ttl != old.ttl {
            return Err(validation("ttl", "the TTL of the default NS records cannot be changed"));
        }
        let mut candidate = zone.records.clone();
        candidate[at].name = input.name.clone();
        candidate[at].rtype = input.rtype.clone();
        if let Some(name) = cname_conflict(&candidate) {
            return Err(validation("type", &format!("CNAME record at {name} conflicts with other records")));
        }
        let zone = account.zones.get_mut(&zone_id).expect("checked");
        let r = &mut zone.records[at];
        r.name = input.name;
        r.rtype = input.rtype;
        r.content = input.content;
        r.ttl = input.ttl;
        r.updated_at = timestamp();
        ok(serde_json::to_value(&*r).expect("serializable"))
    })
}

async fn record_delete(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path((id, rid)): Path<(String, String)>,
) -> Response {
    ctx.respond_in(&headers, Some(&id), |account| {
        let Some(zone) = parse_id(&id).and_then(|id| account.zones.get_mut(&id)) else { return Err(not_found("zone")) };
        let Some(at) = parse_id(&rid).and_then(|rid| zone.records.iter().position(|r| r.id == rid)) else {
            return Err(not_found("record"));
        };
        if zone.records[at].rtype == "SOA" {
            return Err(validation("type", "the SOA record cannot be deleted"));
        }
        ok(serde_json::to_value(zone.records.remove(at)).expect("serializable"))
    })
}

async fn ds_records(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    ctx.respond_in(&headers, Some(&id), |account| {
        match parse_id(&id).and_then(|id| account.zones.get(&id).map(|_| id)) {
            // The emulated zones are not signed.
            Some(_) => ok(json!([])),
            None => Err(not_found("zone")),
        }
    })
}

//! The VPS.org DNS API, from `seeds/003_f28fba6e8aa66203.txt` and the VPS.org section of
//! `PROVIDERS.md`, served under `/api/v1` as the Django REST Framework service it is.
//!
//! Every path ends in `/`: without it, a GET is redirected (301) as Django's APPEND_SLASH
//! does and a write is an error, so a client that drops the slash finds out. Bearer tokens
//! of the `vps_…` form carry scopes (`dns:list`, `dns:create`, `dns:update`, `dns:delete`);
//! a missing scope is 403 `{"detail"}` naming it, a bad token 401. The zone list is paged
//! (`{count,next,previous,results}`, `page`, `page_size`, the `domain` filter), or a bare
//! array with [`Seed::bare_lists`]; records are created under their zone and changed at
//! `/dns-records/{uuid}/` (PUT, PATCH, DELETE); `GET /dns-records/?zone=&record_type=` lists
//! across zones. Records are `{uuid, record_type, name, value, ttl, priority, created_at}`,
//! names relative (`@` the apex), TTL 3600 by default, `priority` required for MX and SRV
//! (400 with `detail`, `error_code`, `field`) and null otherwise. A new zone has no records
//! (the document's example; the reading `new_zone=ns` gives it the provider's NS records).
//! Another account's zone or record is 404. A throttle (600 a minute per token, a guess: the
//! document names no limit) answers 429 with `Retry-After`, or without it under the reading
//! `throttle=bare`.

#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Value, json};
use zonectl_core::{Name, RData, RecordType};

use crate::dns::{DnsRecord, DnsZone, fqdn};
use crate::{Emulator, EmulatorKind, RootTarget, Service, Shared, timestamp};

/// The registry's entry.
pub static KIND: EmulatorKind = EmulatorKind {
    provider: "vpsorg",
    start: |options, zones| {
        Box::pin(async move {
            let mut seed = Seed::default();
            if let Some(zones) = zones {
                seed.zones = zones.iter().map(|z| z.as_str().trim_end_matches('.').to_owned()).collect();
            }
            Emulator::start(VpsOrg::new(seed), options).await
        })
    },
    demo_note: "zones made through the API, scoped tokens, MX and SRV priority apart from the value",
};

/// The types the API takes.
const TYPES: [&str; 8] = ["A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV", "CAA"];
/// The name servers a new zone gets.
const NAME_SERVERS: [&str; 2] = ["ns1.vps.org", "ns2.vps.org"];
/// Requests per token per minute of the service's clock before the throttle answers 429.
const THROTTLE: u32 = 600;

/// The seeded account.
#[derive(Debug, Clone)]
pub struct Seed {
    /// A token with every scope.
    pub token: String,
    /// A token that may only read (`dns:list`).
    pub read_only_token: String,
    /// Zones the account holds from the start.
    pub zones: Vec<String>,
    /// Answer zone lists as bare arrays instead of pages.
    pub bare_lists: bool,
    /// Zones per page unless the client asks for another size.
    pub page_size: usize,
}

impl Default for Seed {
    fn default() -> Seed {
        Seed {
            token: "vps_emulator_full_0123456789abcdef".into(),
            read_only_token: "vps_emulator_readonly_0123456789ab".into(),
            zones: vec!["example.com".into(), "example.org".into()],
            bare_lists: false,
            page_size: 20,
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
struct Rec {
    uuid: String,
    record_type: String,
    name: String,
    value: String,
    ttl: u32,
    priority: Option<u32>,
    created_at: String,
}

impl Rec {
    fn json(&self) -> Value {
        json!({
            "uuid": self.uuid, "record_type": self.record_type, "name": self.name, "value": self.value,
            "ttl": self.ttl, "priority": self.priority, "created_at": self.created_at,
        })
    }
}

#[derive(Debug, Clone, serde::Serialize)]
struct Zone {
    uuid: String,
    domain: String,
    created_at: String,
    /// Zones of another account: they exist, and are 404 to this one.
    foreign: bool,
    records: Vec<Rec>,
}

impl Zone {
    fn summary(&self) -> Value {
        json!({ "uuid": self.uuid, "domain": self.domain, "created_at": self.created_at, "record_count": self.records.len() })
    }

    fn detail(&self) -> Value {
        let mut v = self.summary();
        v["records"] = Value::Array(self.records.iter().map(Rec::json).collect());
        v
    }
}

#[derive(Debug, Default, serde::Serialize)]
struct Account {
    zones: Vec<Zone>,
    next: u64,
    #[serde(skip)]
    windows: BTreeMap<String, (u64, u32)>,
}

impl Account {
    /// Counts `requests` against `token`'s minute on the service's clock; its count so far.
    fn count(&mut self, shared: &Shared, token: &str, requests: u32) -> u32 {
        let minute = (shared.service_seconds() / 60.0) as u64;
        let window = self.windows.entry(token.to_owned()).or_insert((minute, 0));
        if window.0 != minute {
            *window = (minute, 0);
        }
        window.1 = window.1.saturating_add(requests);
        window.1
    }

    /// A UUID in canonical form, from a counter (stable from run to run).
    fn uuid(&mut self) -> String {
        self.next += 1;
        let n = self.next;
        let hex = format!("{:032x}", u128::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835));
        format!("{}-{}-4{}-a{}-{}", &hex[..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
    }

    fn new_zone(&mut self, domain: &str, foreign: bool) -> usize {
        let mut zone =
            Zone { uuid: self.uuid(), domain: domain.into(), created_at: timestamp(), foreign, records: Vec::new() };
        for ns in NAME_SERVERS {
            zone.records.push(Rec {
                uuid: self.uuid(),
                record_type: "NS".into(),
                name: "@".into(),
                value: ns.into(),
                ttl: 3600,
                priority: None,
                created_at: timestamp(),
            });
        }
        self.zones.push(zone);
        self.zones.len() - 1
    }

    fn zone(&self, uuid: &str) -> Result<usize, Answer> {
        self.zones.iter().position(|z| z.uuid == uuid && !z.foreign).ok_or_else(not_found)
    }

    /// (zone, record) positions of a record of this account.
    fn record(&self, uuid: &str) -> Result<(usize, usize), Answer> {
        self.zones
            .iter()
            .enumerate()
            .filter(|(_, z)| !z.foreign)
            .find_map(|(zi, z)| z.records.iter().position(|r| r.uuid == uuid).map(|ri| (zi, ri)))
            .ok_or_else(not_found)
    }
}

/// The emulated VPS.org service.
#[derive(Debug)]
pub struct VpsOrg {
    seed: Seed,
    state: Mutex<Account>,
}

impl VpsOrg {
    /// The service with the given account.
    pub fn new(seed: Seed) -> VpsOrg {
        let service = VpsOrg { seed, state: Mutex::new(Account::default()) };
        service.reset_state();
        service
    }

    fn reset_state(&self) {
        let mut account = Account::default();
        for zone in &self.seed.zones {
            account.new_zone(zone, false);
        }
        let other = account.new_zone("other-account.example", true);
        account.zones[other].records.truncate(1);
        *self.state.lock().expect("not poisoned") = account;
    }
}

struct Answer {
    status: StatusCode,
    body: Value,
    headers: Vec<(&'static str, String)>,
}

fn answer(status: StatusCode, body: Value) -> Result<Answer, Answer> {
    Ok(Answer { status, body, headers: Vec::new() })
}

fn detail(status: StatusCode, text: &str) -> Answer {
    Answer { status, body: json!({ "detail": text }), headers: Vec::new() }
}

fn not_found() -> Answer {
    detail(StatusCode::NOT_FOUND, "Not found.")
}

/// A field's error, in the shape the document gives.
fn field_error(field: &str, text: &str) -> Answer {
    Answer {
        status: StatusCode::BAD_REQUEST,
        body: json!({ "detail": text, "error_code": "validation_error", "field": field }),
        headers: Vec::new(),
    }
}

#[derive(Clone)]
struct Ctx {
    service: Arc<VpsOrg>,
    shared: Arc<Shared>,
}

/// The scope a request needs.
fn scope_of(method: &Method) -> &'static str {
    match *method {
        Method::GET | Method::HEAD => "dns:list",
        Method::POST => "dns:create",
        Method::PUT | Method::PATCH => "dns:update",
        _ => "dns:delete",
    }
}

impl Ctx {
    fn respond(
        &self,
        method: &Method,
        headers: &HeaderMap,
        handler: impl FnOnce(&mut Account, &str) -> Result<Answer, Answer>,
    ) -> Response {
        let seed = &self.service.seed;
        let token = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        let answer = match token {
            None => detail(StatusCode::UNAUTHORIZED, "Authentication credentials were not provided."),
            Some(t) if t != seed.token && t != seed.read_only_token => {
                detail(StatusCode::UNAUTHORIZED, "Invalid token.")
            }
            Some(t) => {
                let scope = scope_of(method);
                let mut account = self.service.state.lock().expect("not poisoned");
                if account.count(&self.shared, t, 1) > THROTTLE {
                    // No document word on a limit: DRF's throttle, with `Retry-After`, is a
                    // guess; the reading `throttle=bare` answers the 429 without it.
                    let wait = self.shared.seconds_to_next_minute();
                    let headers = match self.shared.reading("throttle").as_deref() {
                        Some("bare") => Vec::new(),
                        _ => vec![("retry-after", wait.to_string())],
                    };
                    Answer {
                        status: StatusCode::TOO_MANY_REQUESTS,
                        body: json!({ "detail": format!("Request was throttled. Expected available in {wait} seconds.") }),
                        headers,
                    }
                } else if t == seed.read_only_token && scope != "dns:list" {
                    detail(StatusCode::FORBIDDEN, &format!("Token lacks {scope} permission"))
                } else {
                    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("admin.vps.org").to_owned();
                    handler(&mut account, &host).unwrap_or_else(|e| e)
                }
            }
        };
        let mut response = if answer.status == StatusCode::NO_CONTENT {
            StatusCode::NO_CONTENT.into_response()
        } else {
            let mut r = (answer.status, serde_json::to_string(&answer.body).expect("JSON")).into_response();
            r.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
            r
        };
        if answer.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert("www-authenticate", HeaderValue::from_static("Bearer"));
        }
        for (name, value) in answer.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

/// DRF's page of `items`: `{count, next, previous, results}` with absolute links.
fn page(items: Vec<Value>, query: &BTreeMap<String, String>, base: &str, default_size: usize) -> Result<Value, Answer> {
    let size = match query.get("page_size") {
        Some(s) => s.parse::<usize>().map_err(|_| detail(StatusCode::NOT_FOUND, "Invalid page."))?.clamp(1, 100),
        None => default_size,
    };
    let number = match query.get("page") {
        Some(p) => {
            p.parse::<usize>().ok().filter(|&p| p >= 1).ok_or_else(|| detail(StatusCode::NOT_FOUND, "Invalid page."))?
        }
        None => 1,
    };
    let count = items.len();
    let pages = count.div_ceil(size).max(1);
    if number > pages {
        return Err(detail(StatusCode::NOT_FOUND, "Invalid page."));
    }
    let link = |n: usize| {
        let mut q: Vec<String> = query.iter().filter(|(k, _)| *k != "page").map(|(k, v)| format!("{k}={v}")).collect();
        q.push(format!("page={n}"));
        format!("{base}?{}", q.join("&"))
    };
    let results: Vec<Value> = items.into_iter().skip((number - 1) * size).take(size).collect();
    Ok(json!({
        "count": count,
        "next": (number < pages).then(|| link(number + 1)),
        "previous": (number > 1).then(|| link(number - 1)),
        "results": results,
    }))
}

/// Reads and checks a record body: all fields for a create or PUT, any for a PATCH.
fn record_input(domain: &str, old: Option<&Rec>, body: &Bytes, root_target: RootTarget) -> Result<Rec, Answer> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| detail(StatusCode::BAD_REQUEST, &format!("JSON parse error - {e}")))?;
    let object =
        value.as_object().ok_or_else(|| detail(StatusCode::BAD_REQUEST, "Invalid data. Expected a dictionary."))?;
    let text = |field: &str| -> Result<Option<String>, Answer> {
        match object.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(field_error(field, &format!("{field}: Not a valid string."))),
        }
    };
    let rtype = match (text("record_type")?, old) {
        (Some(t), _) => t.to_ascii_uppercase(),
        (None, Some(old)) => old.record_type.clone(),
        (None, None) => return Err(field_error("record_type", "This field is required.")),
    };
    if !TYPES.contains(&rtype.as_str()) {
        return Err(field_error("record_type", &format!("\"{rtype}\" is not a valid choice.")));
    }
    let name = match (text("name")?, old) {
        (Some(n), _) => n,
        (None, Some(old)) => old.name.clone(),
        (None, None) => return Err(field_error("name", "This field is required.")),
    };
    // A full name in the zone is taken too, and kept relative.
    let lower = name.trim_end_matches('.').to_ascii_lowercase();
    let name = if lower == domain {
        "@".to_owned()
    } else if let Some(rel) = lower.strip_suffix(&format!(".{domain}")) {
        rel.to_owned()
    } else {
        lower
    };
    if name != "@" && Name::parse(&format!("{name}.{domain}")).is_err() {
        return Err(field_error("name", "Enter a valid record name."));
    }
    let value = match (text("value")?, old) {
        (Some(v), _) => v,
        (None, Some(old)) => old.value.clone(),
        (None, None) => return Err(field_error("value", "This field is required.")),
    };
    let ttl = match object.get("ttl") {
        None => old.map_or(3600, |o| o.ttl),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(t) if (1..=2_147_483_647).contains(&t) => t as u32,
            _ => return Err(field_error("ttl", "Ensure this value is between 1 and 2147483647.")),
        },
        Some(_) => return Err(field_error("ttl", "A valid integer is required.")),
    };
    let priority = match object.get("priority") {
        None => old.and_then(|o| o.priority),
        Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(
            n.as_u64()
                .filter(|&p| p <= 65535)
                .ok_or_else(|| field_error("priority", "Ensure this value is between 0 and 65535."))?
                as u32,
        ),
        Some(_) => return Err(field_error("priority", "A valid integer is required.")),
    };
    let needs_priority = rtype == "MX" || rtype == "SRV";
    if needs_priority && priority.is_none() {
        return Err(field_error("priority", &format!("{rtype} records require a priority value")));
    }
    check_value(&rtype, &value, root_target)?;
    Ok(Rec {
        uuid: String::new(),
        record_type: rtype,
        name,
        value,
        ttl,
        priority: priority.filter(|_| needs_priority),
        created_at: timestamp(),
    })
}

fn check_value(rtype: &str, value: &str, root_target: RootTarget) -> Result<(), Answer> {
    let bad = |what: &str| Err(field_error("value", &format!("Enter a valid {what}.")));
    // A root target (null MX, SRV `.`) only under the reading that takes one.
    let root_ok = root_target == RootTarget::Accepted && matches!(rtype, "MX" | "SRV");
    let host = |v: &str| !v.is_empty() && (v != "." || root_ok) && Name::parse(v).is_ok();
    match rtype {
        "A" if value.parse::<std::net::Ipv4Addr>().is_err() => bad("IPv4 address"),
        "AAAA" if value.parse::<std::net::Ipv6Addr>().is_err() => bad("IPv6 address"),
        "CNAME" | "MX" | "NS" if !host(value) => bad("hostname"),
        "SRV" => {
            // `weight port target`, or the whole `priority weight port target`.
            let fields: Vec<&str> = value.split_whitespace().collect();
            let ok = (2..=4).contains(&fields.len())
                && fields[..fields.len() - 1].iter().all(|f| f.parse::<u16>().is_ok())
                && host(fields[fields.len() - 1]);
            if ok { Ok(()) } else { bad("SRV value (weight port target)") }
        }
        "CAA" if RData::parse(RecordType::Caa, value, None).is_err() => bad("CAA value (flags tag \"value\")"),
        "TXT" if value.len() > 65_535 => bad("text"),
        _ => Ok(()),
    }
}

/// Every request of the API: the trailing slash checked, then the route.
async fn api(State(ctx): State<Ctx>, Query(query): Query<BTreeMap<String, String>>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let headers = request.headers().clone();
    let body = axum::body::to_bytes(request.into_body(), 1 << 20).await.unwrap_or_default();
    let rest = path.strip_prefix("/api/v1").unwrap_or(&path).to_owned();
    if !rest.ends_with('/') {
        if method == Method::GET {
            // Django's APPEND_SLASH: a permanent redirect to the path with its slash.
            let mut r = StatusCode::MOVED_PERMANENTLY.into_response();
            let location = format!("{path}/{}", query_string(&query));
            if let Ok(v) = HeaderValue::from_str(&location) {
                r.headers_mut().insert("location", v);
            }
            return r;
        }
        return ctx.respond(&method, &headers, |_, _| Err(not_found()));
    }
    let segments: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let base = |host: &str| format!("http://{host}{path}");
    let seed = ctx.service.seed.clone();
    let root_target = RootTarget::of(&ctx.shared);
    ctx.respond(&method, &headers, |account, host| match (&method, segments.as_slice()) {
        (&Method::GET, ["dns-zones"]) => {
            let zones: Vec<Value> = account
                .zones
                .iter()
                .filter(|z| !z.foreign && query.get("domain").is_none_or(|d| z.domain == *d))
                .map(Zone::summary)
                .collect();
            // The document calls the list "paginated" and prints a bare array: both readings.
            if seed.bare_lists || ctx.shared.reading("zone_list").as_deref() == Some("bare") {
                return answer(StatusCode::OK, Value::Array(zones));
            }
            answer(StatusCode::OK, page(zones, &query, &base(host), seed.page_size)?)
        }
        (&Method::POST, ["dns-zones"]) => {
            let value: Value = serde_json::from_slice(&body)
                .map_err(|e| detail(StatusCode::BAD_REQUEST, &format!("JSON parse error - {e}")))?;
            let domain = value
                .get("domain")
                .and_then(Value::as_str)
                .ok_or_else(|| field_error("domain", "This field is required."))?;
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            if Name::parse(&domain).is_err() || !domain.contains('.') {
                return Err(field_error("domain", "Invalid domain name"));
            }
            if account.zones.iter().any(|z| z.domain == domain) {
                return Err(field_error("domain", "dns zone with this domain already exists."));
            }
            let at = account.new_zone(&domain, false);
            // The document shows a new zone with `records: []`; that the provider's NS
            // records come with it is a guess, the other reading.
            if ctx.shared.reading("new_zone").as_deref() != Some("ns") {
                account.zones[at].records.clear();
            }
            answer(StatusCode::CREATED, account.zones[at].detail())
        }
        (&Method::GET, ["dns-zones", uuid]) => answer(StatusCode::OK, account.zones[account.zone(uuid)?].detail()),
        (&Method::DELETE, ["dns-zones", uuid]) => {
            let at = account.zone(uuid)?;
            account.zones.remove(at);
            answer(StatusCode::NO_CONTENT, Value::Null)
        }
        (&Method::GET, ["dns-zones", uuid, "records"]) => {
            let zone = &account.zones[account.zone(uuid)?];
            answer(StatusCode::OK, Value::Array(zone.records.iter().map(Rec::json).collect()))
        }
        (&Method::POST, ["dns-zones", uuid, "records"]) => {
            let at = account.zone(uuid)?;
            let mut record = record_input(&account.zones[at].domain.clone(), None, &body, root_target)?;
            record.uuid = account.uuid();
            let shown = record.json();
            account.zones[at].records.push(record);
            answer(StatusCode::CREATED, shown)
        }
        (&Method::GET, ["dns-records"]) => {
            let records: Vec<Value> = account
                .zones
                .iter()
                .filter(|z| !z.foreign && query.get("zone").is_none_or(|u| z.uuid == *u))
                .flat_map(|z| z.records.iter())
                .filter(|r| query.get("record_type").is_none_or(|t| r.record_type.eq_ignore_ascii_case(t)))
                .map(Rec::json)
                .collect();
            answer(StatusCode::OK, page(records, &query, &base(host), seed.page_size)?)
        }
        (&Method::GET, ["dns-records", uuid]) => {
            let (z, r) = account.record(uuid)?;
            answer(StatusCode::OK, account.zones[z].records[r].json())
        }
        (m, ["dns-records", uuid]) if *m == Method::PUT || *m == Method::PATCH => {
            let (z, r) = account.record(uuid)?;
            let old = account.zones[z].records[r].clone();
            let partial = *m == Method::PATCH;
            let mut record =
                record_input(&account.zones[z].domain.clone(), partial.then_some(&old), &body, root_target)?;
            record.uuid = old.uuid;
            record.created_at = old.created_at;
            let shown = record.json();
            account.zones[z].records[r] = record;
            answer(StatusCode::OK, shown)
        }
        (&Method::DELETE, ["dns-records", uuid]) => {
            let (z, r) = account.record(uuid)?;
            account.zones[z].records.remove(r);
            answer(StatusCode::NO_CONTENT, Value::Null)
        }
        _ => Err(not_found()),
    })
}

fn query_string(query: &BTreeMap<String, String>) -> String {
    if query.is_empty() {
        return String::new();
    }
    format!("?{}", query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"))
}

impl Service for VpsOrg {
    fn dns_zones(&self) -> Vec<DnsZone> {
        let state = self.state.lock().expect("not poisoned");
        let zones = state.zones.iter().filter(|z| !z.foreign).map(|z| {
            let zone = fqdn(&z.domain);
            let records = z.records.iter().map(|r| {
                let name = if r.name == "@" { zone.clone() } else { format!("{}.{zone}", r.name) };
                let priority = r.priority.unwrap_or_default();
                let data = match r.record_type.as_str() {
                    "TXT" => return DnsRecord::txt(name, r.ttl, &r.value),
                    "MX" => format!("{priority} {}", fqdn(&r.value)),
                    // The value is "weight port target".
                    "SRV" => {
                        let mut parts: Vec<String> = r.value.split_whitespace().map(str::to_owned).collect();
                        if let Some(target) = parts.last_mut() {
                            *target = fqdn(target);
                        }
                        format!("{priority} {}", parts.join(" "))
                    }
                    "CNAME" | "NS" => fqdn(&r.value),
                    _ => r.value.clone(),
                };
                DnsRecord { name, ttl: r.ttl, rtype: r.record_type.clone(), data }
            });
            DnsZone { name: zone.clone(), records: records.collect() }
        });
        zones.collect()
    }

    fn nameservers(&self) -> &'static [&'static str] {
        &["ns1.vps.org.", "ns2.vps.org."]
    }

    fn routes(self: Arc<Self>, shared: Arc<Shared>) -> Router {
        let ctx = Ctx { service: self, shared };
        Router::new().route("/api/v1/{*rest}", any(api)).with_state(ctx)
    }

    /// `zone_list`: the document says "a paginated list" and prints a bare array; `paged`
    /// (DRF's `{count,next,previous,results}`) or `bare`. `new_zone`: `empty` as the
    /// document shows a created zone, or `ns` (the provider's NS records come with it).
    fn readings(&self) -> &'static [(&'static str, &'static [&'static str])] {
        &[
            ("zone_list", &["paged", "bare"]),
            ("new_zone", &["empty", "ns"]),
            RootTarget::READING,
            ("throttle", &["retry_after", "bare"]),
        ]
    }

    /// Another client of the full token spends `requests` of its minute.
    fn spend_budget(&self, shared: &Shared, requests: u32) {
        self.state.lock().expect("not poisoned").count(shared, &self.seed.token, requests);
    }

    fn dump(&self) -> Value {
        serde_json::to_value(&*self.state.lock().expect("not poisoned")).expect("serializable")
    }

    fn reset(&self) {
        self.reset_state();
    }

    fn base_path(&self) -> &'static str {
        "/api/v1"
    }

    fn describe(&self, endpoint: &str) -> Value {
        json!({
            "provider": "vpsorg",
            "token": self.seed.token,
            "read_only_token": self.seed.read_only_token,
            "zones": self.seed.zones,
            "env": { "VPS_API_TOKEN": self.seed.token, "VPS_API_URL": endpoint },
        })
    }

    fn provider_settings(&self, endpoint: &str) -> toml::Table {
        let mut table = toml::Table::new();
        table.insert("endpoint".into(), endpoint.into());
        table.insert("token".into(), self.seed.token.clone().into());
        table
    }
}

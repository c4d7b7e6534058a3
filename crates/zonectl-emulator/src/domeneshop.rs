//! The Domeneshop API v0, from `seeds/002_b023e118e118c098.txt` and the Domeneshop section
//! of `PROVIDERS.md`, served under `/v0` (the official library hard-codes that prefix).
//!
//! What it does that the document leaves out: a create answers 201 with `{"id":N}` and a
//! `Location` header ending in the new id (the official library reads the id there); PUT
//! replaces a record whole and answers 204, DELETE 204, a second DELETE 404; a domain id
//! not in the account is 403 `resource:unauthorized`, a missing record or a domain without
//! the DNS service 404 `resource:unknown`; errors are `{"code","help"}`; type-specific
//! numbers are taken as numbers or strings and given back as strings; CAA's `tag` is a
//! numeric code (0 issue, 1 issuewild, 2 iodef); hostnames come back absolute with a
//! trailing dot; TXT is raw; TTLs are 60 to 604800 in steps of 60, 3600 when left out;
//! apex NS records are the domain's `nameservers`, not in `/dns`; ANAME records are listed
//! but cannot be created; `GET /domains?domain=` is a substring filter; forwards live at
//! `/forwards` and `/forwards/` (the vendor's Python and JS libraries send the first; a
//! third-party client the second), a created one is named in `Location`, and they collide with A/AAAA/ANAME/CNAME records and
//! other forwards (409); dynamic DNS answers 204 and gives the records new ids.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};
use zonectl_core::Name;

use crate::dns::{DnsRecord, DnsZone, fqdn};
use crate::{Emulator, EmulatorKind, Service, Shared, basic_auth};

/// The registry's entry.
pub static KIND: EmulatorKind = EmulatorKind {
    provider: "domeneshop",
    start: |options, zones| {
        Box::pin(async move {
            let mut seed = Seed::default();
            if let Some(zones) = zones {
                seed.domains = zones
                    .iter()
                    .map(|z| SeedDomain::new(z.as_str().trim_end_matches('.'), true, Vec::new()))
                    .chain(seed.domains.into_iter().filter(|d| !d.dns))
                    .collect();
            }
            Emulator::start(Domeneshop::new(seed), options).await
        })
    },
    demo_note: "one request per record, TTLs in steps of 60, forwards as URL records",
};

/// The name servers of every domain.
const NAME_SERVERS: [&str; 3] = ["ns1.hyp.net", "ns2.hyp.net", "ns3.hyp.net"];
/// Types `/dns` holds.
const TYPES: [&str; 11] = ["A", "AAAA", "CNAME", "ANAME", "MX", "SRV", "TXT", "NS", "CAA", "TLSA", "DS"];
/// The type-specific fields of each type, in the order the API shows them.
fn fields_of(rtype: &str) -> &'static [&'static str] {
    match rtype {
        "MX" => &["priority"],
        "SRV" => &["priority", "weight", "port"],
        "CAA" => &["flags", "tag"],
        "TLSA" => &["usage", "selector", "dtype"],
        "DS" => &["tag", "alg", "digest"],
        _ => &[],
    }
}

/// A seeded record: host, TTL, type, data, and the type-specific fields.
pub type SeedRecord = (String, u32, String, String, Vec<(String, String)>);

/// A domain of the seeded account.
#[derive(Debug, Clone)]
pub struct SeedDomain {
    /// The domain name, without a trailing dot.
    pub domain: String,
    /// Whether it has the DNS service (only those can be managed).
    pub dns: bool,
    /// Records to start with: (host, ttl, type, data, type-specific fields).
    pub records: Vec<SeedRecord>,
}

impl SeedDomain {
    /// A domain with these records.
    pub fn new(domain: &str, dns: bool, records: Vec<SeedRecord>) -> SeedDomain {
        SeedDomain { domain: domain.to_owned(), dns, records }
    }
}

/// The seeded account.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The API token (the Basic user).
    pub token: String,
    /// The API secret (the Basic password).
    pub secret: String,
    /// The account's domains.
    pub domains: Vec<SeedDomain>,
}

impl Default for Seed {
    fn default() -> Seed {
        let record =
            |host: &str, ttl, rtype: &str, data: &str| (host.into(), ttl, rtype.into(), data.into(), Vec::new());
        Seed {
            token: "emulator-domeneshop-token".into(),
            secret: "emulator-domeneshop-secret-0123456789".into(),
            domains: vec![
                SeedDomain::new(
                    "example.no",
                    true,
                    vec![
                        record("@", 3600, "A", "192.0.2.10"),
                        record("www", 3600, "CNAME", "example.no."),
                        // Listed, never to be created through the API: zonectl leaves it alone.
                        record("shop", 3600, "ANAME", "shops.example.net."),
                    ],
                ),
                SeedDomain::new("example.com", true, Vec::new()),
                SeedDomain::new("parked.example", false, Vec::new()),
            ],
        }
    }
}

/// A record as the service holds it.
#[derive(Debug, Clone, serde::Serialize)]
struct Rec {
    id: u64,
    host: String,
    ttl: u32,
    #[serde(rename = "type")]
    rtype: String,
    data: String,
    /// Type-specific fields, as strings.
    fields: BTreeMap<String, String>,
}

impl Rec {
    /// The record as the API shows it, keys in its order.
    fn json(&self) -> Value {
        let mut object = Map::new();
        object.insert("id".into(), json!(self.id));
        object.insert("host".into(), json!(self.host));
        object.insert("ttl".into(), json!(self.ttl));
        object.insert("type".into(), json!(self.rtype));
        object.insert("data".into(), json!(self.data));
        for field in fields_of(&self.rtype) {
            if let Some(value) = self.fields.get(*field) {
                object.insert((*field).into(), json!(value));
            }
        }
        Value::Object(object)
    }

    /// Whether it is the same record: host, type, data and fields (the TTL is not identity).
    fn same(&self, other: &Rec) -> bool {
        self.host == other.host && self.rtype == other.rtype && self.data == other.data && self.fields == other.fields
    }
}

/// An HTTP forward.
#[derive(Debug, Clone, serde::Serialize)]
struct Forward {
    host: String,
    frame: bool,
    url: String,
}

impl Forward {
    fn json(&self) -> Value {
        json!({ "host": self.host, "frame": self.frame, "url": self.url })
    }
}

#[derive(Debug, Clone, serde::Serialize)]
struct Domain {
    id: u64,
    domain: String,
    dns: bool,
    records: Vec<Rec>,
    forwards: Vec<Forward>,
}

impl Domain {
    fn json(&self) -> Value {
        json!({
            "id": self.id,
            "domain": self.domain,
            "expiry_date": "2027-08-24",
            "registered_date": "2019-08-24",
            "renew": true,
            "registrant": "Ola Nordmann",
            "status": "active",
            "nameservers": NAME_SERVERS,
            "services": { "registrar": true, "dns": self.dns, "email": true, "webhotel": "none" },
        })
    }
}

#[derive(Debug, Default, serde::Serialize)]
struct Account {
    domains: Vec<Domain>,
    next_record: u64,
}

/// The emulated Domeneshop service.
#[derive(Debug)]
pub struct Domeneshop {
    seed: Seed,
    state: Mutex<Account>,
}

impl Domeneshop {
    /// The service with the given account.
    pub fn new(seed: Seed) -> Domeneshop {
        let service = Domeneshop { seed, state: Mutex::new(Account::default()) };
        service.reset_state();
        service
    }

    fn reset_state(&self) {
        let mut account = Account { domains: Vec::new(), next_record: 1 };
        for (i, seeded) in self.seed.domains.iter().enumerate() {
            let mut domain = Domain {
                id: i as u64 + 1,
                domain: seeded.domain.clone(),
                dns: seeded.dns,
                records: Vec::new(),
                forwards: Vec::new(),
            };
            for (host, ttl, rtype, data, fields) in &seeded.records {
                let id = account.next_record;
                account.next_record += 1;
                let fields = fields.iter().cloned().collect();
                domain.records.push(Rec {
                    id,
                    host: host.clone(),
                    ttl: *ttl,
                    rtype: rtype.clone(),
                    data: data.clone(),
                    fields,
                });
            }
            account.domains.push(domain);
        }
        *self.state.lock().expect("not poisoned") = account;
    }
}

/// An answer: status, JSON body (none for 204), extra headers.
struct Answer {
    status: StatusCode,
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
}

fn answer(status: StatusCode, body: Value) -> Result<Answer, Answer> {
    Ok(Answer { status, body: Some(body), headers: Vec::new() })
}

fn no_content() -> Result<Answer, Answer> {
    Ok(Answer { status: StatusCode::NO_CONTENT, body: None, headers: Vec::new() })
}

/// An error answer in the API's shape.
fn error(status: StatusCode, code: &str, help: &str) -> Answer {
    Answer { status, body: Some(json!({ "code": code, "help": help })), headers: Vec::new() }
}

fn bad(help: &str) -> Answer {
    error(StatusCode::BAD_REQUEST, "validation:invalid", help)
}

fn unknown() -> Answer {
    error(StatusCode::NOT_FOUND, "resource:unknown", "See documentation at https://api.domeneshop.no/docs")
}

#[derive(Clone)]
struct Ctx {
    service: Arc<Domeneshop>,
}

impl Ctx {
    /// Authentication, then the handler on the account; every error is an answer.
    fn respond(&self, headers: &HeaderMap, handler: impl FnOnce(&mut Account) -> Result<Answer, Answer>) -> Response {
        let seed = &self.service.seed;
        if basic_auth(headers).is_none_or(|(token, secret)| token != seed.token || secret != seed.secret) {
            let mut r = (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({ "code": "auth:invalid", "help": "Invalid or missing credentials (HTTP Basic token:secret)" })),
            )
                .into_response();
            r.headers_mut().insert("www-authenticate", HeaderValue::from_static("Basic realm=\"Domeneshop API\""));
            return r;
        }
        let answer = {
            let mut account = self.service.state.lock().expect("not poisoned");
            handler(&mut account).unwrap_or_else(|e| e)
        };
        let mut response = match &answer.body {
            Some(body) => {
                let mut r = (answer.status, serde_json::to_string(body).expect("JSON")).into_response();
                r.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
                r
            }
            None => answer.status.into_response(),
        };
        for (name, value) in answer.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

impl Account {
    /// The domain a path id names: 403 for an id not in the account (never 404).
    fn domain(&mut self, id: &str) -> Result<&mut Domain, Answer> {
        let unauthorized = || {
            error(StatusCode::FORBIDDEN, "resource:unauthorized", "You do not have access to the requested resource")
        };
        let id: u64 = id.parse().map_err(|_| unauthorized())?;
        self.domains.iter_mut().find(|d| d.id == id).ok_or_else(unauthorized)
    }

    /// The domain, which must have the DNS service (404 otherwise, as the real API does).
    fn dns_domain(&mut self, id: &str) -> Result<&mut Domain, Answer> {
        let domain = self.domain(id)?;
        if !domain.dns {
            return Err(unknown());
        }
        Ok(domain)
    }
}

/// A number as the API takes it: a JSON number or a string of digits, within `max`.
fn number(value: Option<&Value>, field: &str, max: u64) -> Result<Option<u64>, Answer> {
    let n = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        Some(_) => None,
    };
    match n {
        Some(n) if n <= max => Ok(Some(n)),
        _ => Err(bad(&format!("{field} must be a number from 0 to {max}"))),
    }
}

/// A host as the API takes it: relative to the domain, `@` for the apex.
fn host(value: Option<&Value>) -> Result<String, Answer> {
    let host = value.and_then(Value::as_str).ok_or_else(|| bad("host is required"))?.trim().to_ascii_lowercase();
    if host == "@" {
        return Ok(host);
    }
    if host.is_empty() || host.ends_with('.') || Name::parse(&host).is_err() {
        return Err(bad(&format!("invalid host '{host}': give it relative to the domain, @ for the domain itself")));
    }
    Ok(host)
}

/// A hostname in data: absolute, given back with a trailing dot.
fn hostname(data: &str) -> Result<String, Answer> {
    let name = Name::parse(data.trim()).map_err(|e| bad(&format!("invalid hostname '{data}': {e}")))?;
    Ok(name.to_string())
}

/// Reads and checks a record body.
fn record_input(body: &Bytes) -> Result<Rec, Answer> {
    // Clients may send no Content-Type: the body is JSON whatever the header says.
    let value: Value = serde_json::from_slice(body).map_err(|e| bad(&format!("invalid JSON: {e}")))?;
    let object = value.as_object().ok_or_else(|| bad("expected a JSON object"))?;
    let rtype = object.get("type").and_then(Value::as_str).ok_or_else(|| bad("type is required"))?.to_ascii_uppercase();
    if !TYPES.contains(&rtype.as_str()) {
        return Err(bad(&format!("unsupported record type '{rtype}'")));
    }
    if rtype == "ANAME" {
        return Err(bad("ANAME records cannot be created through the API"));
    }
    let host = host(object.get("host"))?;
    if rtype == "NS" && host == "@" {
        return Err(bad("the domain's own NS records are its name servers, not DNS records"));
    }
    let ttl = number(object.get("ttl"), "ttl", u64::from(u32::MAX))?.unwrap_or(3600);
    if !(60..=604_800).contains(&ttl) || ttl % 60 != 0 {
        return Err(bad(&format!("ttl {ttl} is invalid: it must be from 60 to 604800 and a multiple of 60")));
    }
    let raw = match object.get("data") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(bad("data is required")),
    };
    let data = match rtype.as_str() {
        "A" => {
            raw.parse::<std::net::Ipv4Addr>().map(|_| raw.clone()).map_err(|_| bad("data is not an IPv4 address"))?
        }
        "AAAA" => {
            raw.parse::<std::net::Ipv6Addr>().map(|_| raw.clone()).map_err(|_| bad("data is not an IPv6 address"))?
        }
        "CNAME" | "MX" | "SRV" | "NS" => hostname(&raw)?,
        "TLSA" | "DS" => {
            if raw.is_empty() || data_encoding::HEXLOWER_PERMISSIVE.decode(raw.as_bytes()).is_err() {
                return Err(bad("data must be hexadecimal"));
            }
            raw.to_ascii_lowercase()
        }
        "CAA" if raw.is_empty() => return Err(bad("data is required")),
        _ => raw,
    };
    let mut fields = BTreeMap::new();
    let limits: &[(&str, u64)] = match rtype.as_str() {
        "MX" => &[("priority", 65535)],
        "SRV" => &[("priority", 65535), ("weight", 65535), ("port", 65535)],
        "CAA" => &[("flags", 255), ("tag", 2)],
        "TLSA" => &[("usage", 3), ("selector", 1), ("dtype", 2)],
        "DS" => &[("tag", 65535), ("alg", 255), ("digest", 255)],
        _ => &[],
    };
    for (field, max) in limits {
        let value = number(object.get(*field), field, *max)?.ok_or_else(|| bad(&format!("{field} is required")))?;
        fields.insert((*field).to_owned(), value.to_string());
    }
    Ok(Rec { id: 0, host, ttl: ttl as u32, rtype, data, fields })
}

/// The records and forwards a new or changed record would stand beside; `except` is the
/// record being replaced.
fn collision(domain: &Domain, record: &Rec, except: Option<u64>) -> Option<Answer> {
    let others = || domain.records.iter().filter(|r| Some(r.id) != except && r.host == record.host);
    if others().any(|r| r.same(record)) {
        return Some(error(StatusCode::CONFLICT, "dns:duplicate", "The record already exists"));
    }
    let cname = record.rtype == "CNAME";
    if others().any(|r| (r.rtype == "CNAME") != cname || (cname && r.rtype == "CNAME")) {
        return Some(error(StatusCode::CONFLICT, "dns:conflict", "A CNAME record must be the only record at its host"));
    }
    let web = ["A", "AAAA", "ANAME", "CNAME"].contains(&record.rtype.as_str());
    if web && domain.forwards.iter().any(|f| f.host == record.host) {
        return Some(error(StatusCode::CONFLICT, "dns:conflict", "The host has an HTTP forward"));
    }
    None
}

async fn domains_list(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    ctx.respond(&headers, |account| {
        let filter = q.get("domain").map(|d| d.to_ascii_lowercase());
        let list: Vec<Value> = account
            .domains
            .iter()
            .filter(|d| filter.as_ref().is_none_or(|f| d.domain.contains(f.as_str())))
            .map(Domain::json)
            .collect();
        answer(StatusCode::OK, Value::Array(list))
    })
}

async fn domain_get(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    ctx.respond(&headers, |account| answer(StatusCode::OK, account.domain(&id)?.json()))
}

async fn dns_list(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    ctx.respond(&headers, |account| {
        let domain = account.dns_domain(&id)?;
        let list: Vec<Value> = domain
            .records
            .iter()
            .filter(|r| q.get("host").is_none_or(|h| r.host.eq_ignore_ascii_case(h)))
            .filter(|r| q.get("type").is_none_or(|t| r.rtype.eq_ignore_ascii_case(t)))
            .map(Rec::json)
            .collect();
        answer(StatusCode::OK, Value::Array(list))
    })
}

async fn dns_create(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    let host_header = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("api.domeneshop.no").to_owned();
    ctx.respond(&headers, |account| {
        let next = account.next_record;
        let domain = account.dns_domain(&id)?;
        let mut record = record_input(&body)?;
        if let Some(conflict) = collision(domain, &record, None) {
            return Err(conflict);
        }
        record.id = next;
        let location = format!("http://{host_header}/v0/domains/{}/dns/{next}", domain.id);
        domain.records.push(record);
        account.next_record += 1;
        Ok(Answer {
            status: StatusCode::CREATED,
            body: Some(json!({ "id": next })),
            headers: vec![("location", location)],
        })
    })
}

fn record_at(domain: &mut Domain, record: &str) -> Result<usize, Answer> {
    let id: u64 = record.parse().map_err(|_| unknown())?;
    domain.records.iter().position(|r| r.id == id).ok_or_else(unknown)
}

async fn dns_get(State(ctx): State<Ctx>, headers: HeaderMap, Path((id, rid)): Path<(String, String)>) -> Response {
    ctx.respond(&headers, |account| {
        let domain = account.dns_domain(&id)?;
        let at = record_at(domain, &rid)?;
        answer(StatusCode::OK, domain.records[at].json())
    })
}

async fn dns_put(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path((id, rid)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    ctx.respond(&headers, |account| {
        let domain = account.dns_domain(&id)?;
        let at = record_at(domain, &rid)?;
        if domain.records[at].rtype == "ANAME" {
            return Err(bad("ANAME records cannot be changed through the API"));
        }
        let mut record = record_input(&body)?;
        record.id = domain.records[at].id;
        if let Some(conflict) = collision(domain, &record, Some(record.id)) {
            return Err(conflict);
        }
        domain.records[at] = record;
        no_content()
    })
}

async fn dns_delete(State(ctx): State<Ctx>, headers: HeaderMap, Path((id, rid)): Path<(String, String)>) -> Response {
    ctx.respond(&headers, |account| {
        let domain = account.dns_domain(&id)?;
        let at = record_at(domain, &rid)?;
        domain.records.remove(at);
        no_content()
    })
}

/// Reads and checks a forward body.
fn forward_input(body: &Bytes) -> Result<Forward, Answer> {
    let value: Value = serde_json::from_slice(body).map_err(|e| bad(&format!("invalid JSON: {e}")))?;
    let host = host(value.get("host"))?;
    let frame = match value.get("frame") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("frame must be true or false")),
    };
    let url = value.get("url").and_then(Value::as_str).ok_or_else(|| bad("url is required"))?.to_owned();
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    if !rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/')) {
        return Err(bad("url must include its scheme, e.g. https://www.example.com/"));
    }
    Ok(Forward { host, frame, url })
}

fn forward_collision(domain: &Domain, host: &str, except: Option<&str>) -> Option<Answer> {
    if domain.forwards.iter().any(|f| f.host == host && Some(f.host.as_str()) != except) {
        return Some(error(StatusCode::CONFLICT, "forward:conflict", "The host already has a forward"));
    }
    let web =
        domain.records.iter().any(|r| r.host == host && ["A", "AAAA", "ANAME", "CNAME"].contains(&r.rtype.as_str()));
    web.then(|| error(StatusCode::CONFLICT, "forward:conflict", "The host has A, AAAA, ANAME or CNAME records"))
}

async fn forwards_list(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    ctx.respond(&headers, |account| {
        let domain = account.dns_domain(&id)?;
        answer(StatusCode::OK, Value::Array(domain.forwards.iter().map(Forward::json).collect()))
    })
}

/// Created with `Location` naming the forward (the vendor's JS library throws without
/// one), at `/forwards` or `/forwards/` (the vendor's own libraries send the first).
async fn forwards_create(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    let host_header = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("api.domeneshop.no").to_owned();
    ctx.respond(&headers, |account| {
        let domain = account.dns_domain(&id)?;
        let forward = forward_input(&body)?;
        if let Some(conflict) = forward_collision(domain, &forward.host, None) {
            return Err(conflict);
        }
        let shown = forward.json();
        let location = format!("http://{host_header}/v0/domains/{}/forwards/{}", domain.id, forward.host);
        domain.forwards.push(forward);
        Ok(Answer { status: StatusCode::CREATED, body: Some(shown), headers: vec![("location", location)] })
    })
}

fn forward_at(domain: &Domain, host: &str) -> Result<usize, Answer> {
    domain.forwards.iter().position(|f| f.host.eq_ignore_ascii_case(host)).ok_or_else(unknown)
}

async fn forward_get(State(ctx): State<Ctx>, headers: HeaderMap, Path((id, host)): Path<(String, String)>) -> Response {
    ctx.respond(&headers, |account| {
        let domain = account.dns_domain(&id)?;
        let at = forward_at(domain, &host)?;
        answer(StatusCode::OK, domain.forwards[at].json())
    })
}

async fn forward_put(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path((id, host)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    ctx.respond(&headers, |account| {
        let domain = account.dns_domain(&id)?;
        let at = forward_at(domain, &host)?;
        let forward = forward_input(&body)?;
        if forward.host != domain.forwards[at].host {
            return Err(bad("the host of a forward cannot be changed; delete it and create it for the new host"));
        }
        let shown = forward.json();
        domain.forwards[at] = forward;
        answer(StatusCode::OK, shown)
    })
}

async fn forward_delete(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path((id, host)): Path<(String, String)>,
) -> Response {
    ctx.respond(&headers, |account| {
        let domain = account.dns_domain(&id)?;
        let at = forward_at(domain, &host)?;
        domain.forwards.remove(at);
        no_content()
    })
}

/// `GET /dyndns/update?hostname=…&myip=…`: the hosts' A and AAAA records become the given
/// addresses (the caller's without `myip`), with new ids.
async fn dyndns(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    ctx.respond(&headers, |account| {
        let hostnames = q.get("hostname").ok_or_else(|| bad("hostname is required"))?;
        let addresses: Vec<IpAddr> = match q.get("myip").filter(|m| !m.is_empty()) {
            Some(list) => list
                .split(',')
                .map(|a| a.trim().parse::<IpAddr>().map_err(|_| bad(&format!("invalid address '{a}'"))))
                .collect::<Result<_, _>>()?,
            None => vec![peer.ip().to_canonical()],
        };
        if addresses.len() > 9 {
            return Err(bad("at most 9 addresses"));
        }
        // Every hostname is checked before any is changed.
        let mut targets = Vec::new();
        for hostname in hostnames.split(',').map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase()) {
            let found = account
                .domains
                .iter()
                .enumerate()
                .filter(|(_, d)| d.dns && (hostname == d.domain || hostname.ends_with(&format!(".{}", d.domain))))
                .max_by_key(|(_, d)| d.domain.len());
            let Some((index, domain)) = found else { return Err(unknown()) };
            let host = hostname.strip_suffix(&format!(".{}", domain.domain)).unwrap_or("@").to_owned();
            let blocked = domain.records.iter().any(|r| r.host == host && (r.rtype == "CNAME" || r.rtype == "ANAME"))
                || domain.forwards.iter().any(|f| f.host == host);
            if blocked {
                return Err(error(StatusCode::CONFLICT, "dns:conflict", "The host has a CNAME, ANAME or forward"));
            }
            targets.push((index, host));
        }
        for (index, host) in targets {
            let ttl = account.domains[index]
                .records
                .iter()
                .find(|r| r.host == host && (r.rtype == "A" || r.rtype == "AAAA"))
                .map_or(3600, |r| r.ttl);
            // Only the families given are replaced: an update of the IPv4 address keeps the
            // IPv6 one.
            let v4 = addresses.iter().any(IpAddr::is_ipv4);
            let v6 = addresses.iter().any(IpAddr::is_ipv6);
            account.domains[index]
                .records
                .retain(|r| !(r.host == host && ((v4 && r.rtype == "A") || (v6 && r.rtype == "AAAA"))));
            for address in &addresses {
                let id = account.next_record;
                account.next_record += 1;
                let rtype = if address.is_ipv4() { "A" } else { "AAAA" };
                account.domains[index].records.push(Rec {
                    id,
                    host: host.clone(),
                    ttl,
                    rtype: rtype.into(),
                    data: address.to_string(),
                    fields: BTreeMap::new(),
                });
            }
        }
        no_content()
    })
}

/// The account's invoices, so that every documented endpoint answers.
fn invoices() -> Vec<Value> {
    vec![
        json!({ "id": 1, "type": "invoice", "amount": 120, "currency": "NOK", "due_date": "2026-08-24",
                "issued_date": "2026-08-10", "paid_date": "2026-08-20", "status": "paid",
                "url": "https://www.domeneshop.no/invoice?nr=1&code=emulated" }),
        json!({ "id": 2, "type": "invoice", "amount": 240, "currency": "NOK", "due_date": "2026-12-24",
                "issued_date": "2026-11-10", "paid_date": null, "status": "unpaid",
                "url": "https://www.domeneshop.no/invoice?nr=2&code=emulated" }),
    ]
}

async fn invoices_list(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    ctx.respond(&headers, |_| {
        let list =
            invoices().into_iter().filter(|i| q.get("status").is_none_or(|s| i["status"] == s.as_str())).collect();
        answer(StatusCode::OK, Value::Array(list))
    })
}

async fn invoice_get(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    ctx.respond(&headers, |_| {
        let found = invoices().into_iter().find(|i| i["id"].as_u64().is_some_and(|n| n.to_string() == id));
        found.map_or_else(|| Err(unknown()), |i| answer(StatusCode::OK, i))
    })
}

impl Service for Domeneshop {
    fn dns_zones(&self) -> Vec<DnsZone> {
        let state = self.state.lock().expect("not poisoned");
        let zones = state.domains.iter().filter(|d| d.dns).map(|d| {
            let zone = fqdn(&d.domain);
            let records = d.records.iter().filter_map(|r| {
                let name = if r.host == "@" { zone.clone() } else { format!("{}.{zone}", r.host) };
                let field = |key: &str| r.fields.get(key).cloned().unwrap_or_default();
                let data = match r.rtype.as_str() {
                    // Domeneshop's own type: its name servers answer with the target's
                    // addresses, which this emulator does not look up.
                    "ANAME" => return None,
                    "TXT" => return Some(DnsRecord::txt(name, r.ttl, &r.data)),
                    "MX" => format!("{} {}", field("priority"), fqdn(&r.data)),
                    "SRV" => format!("{} {} {} {}", field("priority"), field("weight"), field("port"), fqdn(&r.data)),
                    "CAA" => format!("{} {} \"{}\"", field("flags"), field("tag"), r.data),
                    "TLSA" => format!("{} {} {} {}", field("usage"), field("selector"), field("dtype"), r.data),
                    "DS" => format!("{} {} {} {}", field("tag"), field("alg"), field("digest"), r.data),
                    "CNAME" | "NS" => fqdn(&r.data),
                    _ => r.data.clone(),
                };
                Some(DnsRecord { name, ttl: r.ttl, rtype: r.rtype.clone(), data })
            });
            DnsZone { name: zone.clone(), records: records.collect() }
        });
        zones.collect()
    }

    fn nameservers(&self) -> &'static [&'static str] {
        &["ns1.hyp.net.", "ns2.hyp.net.", "ns3.hyp.net."]
    }

    fn routes(self: Arc<Self>, _shared: Arc<Shared>) -> Router {
        let ctx = Ctx { service: self };
        Router::new()
            .route("/v0/domains", get(domains_list))
            .route("/v0/domains/{id}", get(domain_get))
            .route("/v0/domains/{id}/dns", get(dns_list).post(dns_create))
            .route("/v0/domains/{id}/dns/{rid}", get(dns_get).put(dns_put).delete(dns_delete))
            .route("/v0/domains/{id}/forwards/", get(forwards_list).post(forwards_create))
            .route("/v0/domains/{id}/forwards", get(forwards_list).post(forwards_create))
            .route("/v0/domains/{id}/forwards/{host}", get(forward_get).put(forward_put).delete(forward_delete))
            .route("/v0/dyndns/update", get(dyndns))
            .route("/v0/invoices", get(invoices_list))
            .route("/v0/invoices/{id}", get(invoice_get))
            .with_state(ctx)
    }

    fn dump(&self) -> Value {
        serde_json::to_value(&*self.state.lock().expect("not poisoned")).expect("serializable")
    }

    fn reset(&self) {
        self.reset_state();
    }

    fn base_path(&self) -> &'static str {
        "/v0"
    }

    fn describe(&self, _endpoint: &str) -> Value {
        let zones: Vec<&str> = self.seed.domains.iter().filter(|d| d.dns).map(|d| d.domain.as_str()).collect();
        json!({
            "provider": "domeneshop",
            "token": self.seed.token,
            "secret": self.seed.secret,
            "zones": zones,
            "env": { "DOMENESHOP_API_TOKEN": self.seed.token, "DOMENESHOP_API_SECRET": self.seed.secret },
        })
    }

    fn provider_settings(&self, endpoint: &str) -> toml::Table {
        let mut table = toml::Table::new();
        table.insert("endpoint".into(), endpoint.into());
        table.insert("token".into(), self.seed.token.clone().into());
        table.insert("secret".into(), self.seed.secret.clone().into());
        table
    }
}

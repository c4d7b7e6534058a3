//! The mydomain.lu DNS API, from `seeds/000_c113ce6a9cd501d3.txt` and the mydomain.lu
//! section of `PROVIDERS.md`.
//!
//! Every change is an *order*: the PATCH answers at once with `code` 1001 ("action
//! pending") and a ticket, and the change is made only when the order completes, some
//! seconds later. Orders are processed one at a time per account; an order sent while
//! another is pending fails. There is no ticket-status endpoint: reading the records is the
//! only way to see that an order completed. Answer codes follow EPP (RFC 5730), which 1001
//! is: 2302 object exists, 2303 object does not exist, 2005 syntax error, 2502 an order is
//! already pending. Failures answer HTTP 400 with the code and a message in `errorMsg`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use serde_json::{Value, json};
use zonectl_core::{Name, RData, RecordType};

use crate::dns::{DnsRecord, DnsZone, fqdn};
use crate::{Emulator, EmulatorKind, Service, Shared, basic_auth};

/// The registry's entry.
pub static KIND: EmulatorKind = EmulatorKind {
    provider: "mydomainlu",
    start: |options, zones| {
        Box::pin(async move {
            let mut seed = Seed::default();
            if let Some(zones) = zones {
                seed.zones = zones
                    .iter()
                    .map(|z| {
                        let apex = z.as_str();
                        (
                            apex.trim_end_matches('.').to_owned(),
                            format!("{apex} 172800 IN NS ns1.pt.lu.\n{apex} 172800 IN NS ns2.pt.lu.\n"),
                        )
                    })
                    .collect();
            }
            Emulator::start(MydomainLu::new(seed), options).await
        })
    },
    demo_note: "each change is an order that completes seconds later, one at a time",
};

/// The seeded account.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The web login.
    pub username: String,
    /// Its password.
    pub password: String,
    /// Zones with their records, in zone-file form (absolute names).
    pub zones: Vec<(String, String)>,
    /// How long an order takes to complete, on the service's clock (scaled by the
    /// emulator's time scale).
    pub order_delay: Duration,
}

impl Default for Seed {
    fn default() -> Seed {
        Seed {
            username: "client@example.lu".into(),
            password: "emulator-mydomainlu-password".into(),
            zones: vec![(
                "example.lu".into(),
                "example.lu. 172800 IN NS ns1.pt.lu.\nexample.lu. 172800 IN NS ns2.pt.lu.\nexample.lu. 172800 IN NS ns3.pt.lu.\n\
                 example.lu. 3600 IN MX 10 mx.hostpack.lu.\nsmtp.example.lu. 3600 IN CNAME outgoing.hostpack.lu.\n\
                 www.example.lu. 3600 IN A 194.154.192.87\nexample.lu. 300 IN A 194.154.192.87\n\
                 example.lu. 0 IN TXT \"v=spf1 include:spf-strict.hostpack.lu -all\"\n"
                    .into(),
            )],
            order_delay: Duration::from_secs(3),
        }
    }
}

/// One record as the service holds it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
struct Rec {
    rtype: String,
    name: String,
    ttl: u32,
    active: bool,
    /// The type's value field: an address, a hostname, a text, `10 mx.example.` for MX.
    value: String,
}

#[derive(Debug, Clone, serde::Serialize)]
struct Order {
    ticket: String,
    domain: String,
    add: bool,
    record: Rec,
    #[serde(skip)]
    completes: Instant,
}

#[derive(Debug, Default, serde::Serialize)]
struct Account {
    zones: BTreeMap<String, Vec<Rec>>,
    pending: Option<Order>,
    /// Orders accepted while another ran, under the reading `busy_order=late`: made one
    /// after the other.
    queued: std::collections::VecDeque<Order>,
    /// Orders accepted and dropped while another ran (`busy_order=dropped`).
    dropped_while_pending: u32,
    completed: Vec<String>,
    /// Orders refused because another was pending: a client that respects the rule keeps
    /// this at zero.
    refused_while_pending: u32,
    next_ticket: u64,
}

/// The emulated mydomain.lu service.
#[derive(Debug)]
pub struct MydomainLu {
    seed: Seed,
    state: Mutex<Account>,
}

impl MydomainLu {
    /// The service with the given account.
    pub fn new(seed: Seed) -> MydomainLu {
        let service = MydomainLu { seed, state: Mutex::new(Account::default()) };
        service.reset_state();
        service
    }

    fn reset_state(&self) {
        let mut account = Account { next_ticket: 2_603_261_350_443_199, ..Account::default() };
        for (domain, records) in &self.seed.zones {
            let mut recs = Vec::new();
            for line in records.lines().filter(|l| !l.trim().is_empty()) {
                let fields: Vec<&str> = line.split_whitespace().collect();
                if fields.len() < 5 {
                    continue;
                }
                let value = fields[4..].join(" ");
                let value = if fields[3] == "TXT" { value.trim_matches('"').to_owned() } else { value };
                recs.push(Rec {
                    rtype: fields[3].to_owned(),
                    name: fields[0].to_owned(),
                    ttl: fields[1].parse().unwrap_or(0),
                    active: true,
                    value,
                });
            }
            account.zones.insert(domain.clone(), recs);
        }
        *self.state.lock().expect("not poisoned") = account;
    }
}

impl Account {
    /// Completes the pending order if its time has come, and the queued ones after it. An
    /// order finds the zone as the ones before it left it: an add of a record there, or a
    /// remove of one gone, changes nothing.
    fn settle(&mut self) {
        while self.pending.as_ref().is_some_and(|o| Instant::now() >= o.completes) {
            let order = self.pending.take().expect("checked");
            if let Some(records) = self.zones.get_mut(&order.domain) {
                let at = records.iter().position(|r| same(r, &order.record));
                match (order.add, at) {
                    (true, None) => records.push(order.record),
                    (false, Some(at)) => {
                        records.remove(at);
                    }
                    _ => {}
                }
            }
            self.completed.push(order.ticket);
            self.pending = self.queued.pop_front();
        }
    }
}

/// The same record: type, name and value (TTL and the active flag are not identity).
fn same(a: &Rec, b: &Rec) -> bool {
    a.rtype == b.rtype && a.name.eq_ignore_ascii_case(&b.name) && a.value == b.value
}

#[derive(Clone)]
struct Ctx {
    service: Arc<MydomainLu>,
    shared: Arc<Shared>,
}

fn failure(code: u32, message: &str, error: String) -> Response {
    let body = json!({ "code": code, "message": message, "ticket": null, "infoMsg": [], "errorMsg": [error] });
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

fn authorized(headers: &HeaderMap, seed: &Seed) -> bool {
    basic_auth(headers).is_some_and(|(user, password)| user == seed.username && password == seed.password)
}

impl Ctx {
    /// Authentication and the completion of a due order, before any handler.
    fn begin(&self, headers: &HeaderMap) -> Result<std::sync::MutexGuard<'_, Account>, Box<Response>> {
        if !authorized(headers, &self.service.seed) {
            return Err(Box::new(
                (StatusCode::UNAUTHORIZED, axum::Json(json!({ "message": "Unauthorized" }))).into_response(),
            ));
        }
        let mut account = self.service.state.lock().expect("not poisoned");
        account.settle();
        Ok(account)
    }
}

fn not_found(domain: &str) -> Response {
    (StatusCode::NOT_FOUND, axum::Json(json!({ "message": format!("Domain {domain} not found") }))).into_response()
}

/// The field that holds each type's value in the records listing and the PATCH bodies.
fn value_field(rtype: &str) -> &'static str {
    match rtype {
        "A" => "hostAddress",
        "TXT" => "text",
        _ => "hostname",
    }
}

fn record_json(r: &Rec) -> Value {
    let mut v = json!({ "name": r.name, "ttl": r.ttl, "active": r.active });
    if r.rtype == "MX" {
        let (preference, host) = r.value.split_once(' ').unwrap_or(("0", &r.value));
        v["preference"] = json!(preference.parse::<u32>().unwrap_or(0));
        v["hostname"] = json!(host);
    } else {
        v[value_field(&r.rtype)] = json!(r.value);
    }
    v
}

async fn zone_info(State(ctx): State<Ctx>, headers: HeaderMap, Path(domain): Path<String>) -> Response {
    let account = match ctx.begin(&headers) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let Some(records) = account.zones.get(&domain) else { return not_found(&domain) };
    let ns: Vec<&str> = records.iter().filter(|r| r.rtype == "NS").map(|r| r.value.as_str()).collect();
    axum::Json(json!({
        "expire": "2027-03-23T14:57:43.279Z",
        "creation": "2021-03-23T14:57:43.279Z",
        "lastChange": "2026-11-22T12:00:00.000Z",
        "domain": domain,
        "contactArray": [],
        "nameserverArray": ns,
        "resourceRecords": records.iter().map(record_json).collect::<Vec<_>>(),
        "domainStatus": ["ok"],
    }))
    .into_response()
}

async fn records(State(ctx): State<Ctx>, headers: HeaderMap, Path(domain): Path<String>) -> Response {
    let account = match ctx.begin(&headers) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let Some(records) = account.zones.get(&domain) else { return not_found(&domain) };
    let mut group = serde_json::Map::new();
    group.insert("group".into(), json!("default"));
    // A, CNAME and TXT are always there; the other types only in zones that hold them.
    for rtype in ["A", "CNAME", "TXT", "MX", "NS"] {
        let of_type: Vec<Value> = records.iter().filter(|r| r.rtype == rtype).map(record_json).collect();
        if !of_type.is_empty() || matches!(rtype, "A" | "CNAME" | "TXT") {
            group.insert(format!("{rtype}ResourceRecord"), Value::Array(of_type));
        }
    }
    axum::Json(json!([group])).into_response()
}

async fn export(State(ctx): State<Ctx>, headers: HeaderMap, Path(domain): Path<String>) -> Response {
    let account = match ctx.begin(&headers) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let Some(records) = account.zones.get(&domain) else { return not_found(&domain) };
    let mut text = String::new();
    for r in records {
        let value = if r.rtype == "TXT" {
            format!("\"{}\"", r.value.replace('\\', "\\\\").replace('"', "\\\""))
        } else {
            r.value.clone()
        };
        text.push_str(&format!("{} {} IN {} {}\n", r.name, r.ttl, r.rtype, value));
    }
    ([("content-type", "text/plain")], text).into_response()
}

/// `PATCH /zones/{domain}/records/{add|remove}/{A|TXT|CNAME}Record`.
async fn modify(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path((domain, action, kind)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let delay = ctx.shared.scaled(ctx.service.seed.order_delay);
    let mut account = match ctx.begin(&headers) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let add = match action.as_str() {
        "add" => true,
        "remove" => false,
        _ => return (StatusCode::NOT_FOUND, axum::Json(json!({ "message": "Not Found" }))).into_response(),
    };
    let rtype = match kind.as_str() {
        "ARecord" => "A",
        "TXTRecord" => "TXT",
        "CNAMERecord" => "CNAME",
        _ => return (StatusCode::NOT_FOUND, axum::Json(json!({ "message": "Not Found" }))).into_response(),
    };
    if !account.zones.contains_key(&domain) {
        return not_found(&domain);
    }
    // The document: an order sent while another runs "will fail". How is not said: refused
    // at once (2502, the default reading), or accepted with a ticket and dropped, or made
    // after the one running (`busy_order` = `refused`, `dropped`, `late`).
    let busy_reading = ctx.shared.reading("busy_order");
    if let Some(pending) = &account.pending {
        match busy_reading.as_deref() {
            Some("dropped") => {
                account.dropped_while_pending += 1;
                account.next_ticket += 1;
                return accepted(&account.next_ticket.to_string());
            }
            Some("late") => {}
            _ => {
                let ticket = pending.ticket.clone();
                account.refused_while_pending += 1;
                return failure(
                    2502,
                    "Domain Zone Modify - Command failed",
                    format!("order {ticket} is still being processed for this account; wait for it to complete"),
                );
            }
        }
    }
    let record = match parse_order(&body, rtype, &domain) {
        Ok(r) => r,
        Err(e) => return failure(2005, "Domain Zone Modify - Parameter value syntax error", e),
    };
    let records = &account.zones[&domain];
    let exists = records.iter().any(|r| same(r, &record));
    if add && exists {
        return failure(
            2302,
            "Domain Zone Modify - Object exists",
            format!("{} {} {} already exists", record.name, rtype, record.value),
        );
    }
    if !add && !exists {
        return failure(
            2303,
            "Domain Zone Modify - Object does not exist",
            format!("{} {} {} does not exist", record.name, rtype, record.value),
        );
    }
    if add {
        let cname_here = records.iter().any(|r| r.rtype == "CNAME" && r.name.eq_ignore_ascii_case(&record.name));
        let other_here = records.iter().any(|r| r.rtype != "CNAME" && r.name.eq_ignore_ascii_case(&record.name));
        // A CNAME is alone at its name: nothing may join one, and one may join nothing.
        let conflict = cname_here || (rtype == "CNAME" && other_here);
        if conflict {
            return failure(
                2306,
                "Domain Zone Modify - Parameter value policy error",
                format!("a CNAME at {} cannot stand beside other records", record.name),
            );
        }
    }
    account.next_ticket += 1;
    let ticket = account.next_ticket.to_string();
    // After the last order before it, when it waits behind one (`busy_order=late`).
    let after = account.queued.back().or(account.pending.as_ref()).map_or_else(Instant::now, |o| o.completes);
    let order = Order {
        ticket: ticket.clone(),
        domain,
        add,
        record,
        completes: after.checked_add(delay).unwrap_or_else(far_future),
    };
    if account.pending.is_some() {
        account.queued.push_back(order);
    } else {
        account.pending = Some(order);
    }
    accepted(&ticket)
}

/// 1001, "action pending", with the order's ticket.
fn accepted(ticket: &str) -> Response {
    axum::Json(json!({
        "code": 1001,
        "message": "Domain Zone Modify - Command completed successfully. Action pending.",
        "ticket": ticket,
        "infoMsg": [],
        "errorMsg": [],
    }))
    .into_response()
}

/// Reads an order's body: string values, as the document shows them.
fn parse_order(body: &Bytes, rtype: &str, domain: &str) -> Result<Rec, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let text = |field: &str| -> Result<String, String> {
        match v.get(field) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(format!("{field} must be a string")),
            None => Err(format!("{field} is missing")),
        }
    };
    let name = text("name")?;
    let apex = format!("{domain}.");
    let lower = name.to_ascii_lowercase();
    if !(lower == apex || lower.ends_with(&format!(".{apex}"))) || Name::parse(&lower).is_err() {
        return Err(format!("name {name} is not an absolute name in {domain} with a trailing dot"));
    }
    let ttl: u32 = text("ttl")?.parse().map_err(|_| "ttl must be a number in a string".to_owned())?;
    let active = match text("active")?.as_str() {
        "true" => true,
        "false" => false,
        other => return Err(format!("active must be \"true\" or \"false\", not {other}")),
    };
    let value = text(value_field(rtype))?;
    match rtype {
        "A" => {
            value.parse::<std::net::Ipv4Addr>().map_err(|_| format!("invalid IPv4 address {value}"))?;
        }
        "CNAME" if !value.ends_with('.') || RData::parse(RecordType::Cname, &value, None).is_err() => {
            return Err(format!("hostname {value} must be absolute, with a trailing dot"));
        }
        _ => {}
    }
    Ok(Rec { rtype: rtype.to_owned(), name: lower, ttl, active, value })
}

impl Service for MydomainLu {
    fn dns_zones(&self) -> Vec<DnsZone> {
        let mut state = self.state.lock().expect("not poisoned");
        // An order whose time has come is served, as the next API request would see it.
        state.settle();
        let zones = state.zones.iter().map(|(domain, records)| DnsZone {
            name: fqdn(domain),
            records: records
                .iter()
                .filter(|r| r.active)
                .map(|r| match r.rtype.as_str() {
                    "TXT" => DnsRecord::txt(r.name.clone(), r.ttl, &r.value),
                    _ => DnsRecord { name: r.name.clone(), ttl: r.ttl, rtype: r.rtype.clone(), data: r.value.clone() },
                })
                .collect(),
        });
        zones.collect()
    }

    /// `busy_order`: what becomes of an order sent while another runs, which the document
    /// leaves open ("will fail"): `refused` at once with 2502 (a guess, the default),
    /// `dropped` (accepted with a ticket, never made) or `late` (made after the other).
    fn readings(&self) -> &'static [(&'static str, &'static [&'static str])] {
        &[("busy_order", &["refused", "dropped", "late"])]
    }

    fn nameservers(&self) -> &'static [&'static str] {
        &["ns1.pt.lu.", "ns2.pt.lu.", "ns3.pt.lu."]
    }

    fn routes(self: Arc<Self>, shared: Arc<Shared>) -> Router {
        let ctx = Ctx { service: self, shared };
        Router::new()
            .route("/zones/{domain}", get(zone_info))
            .route("/zones/{domain}/records", get(records))
            .route("/zones/{domain}/export", get(export))
            .route("/zones/{domain}/records/{action}/{kind}", patch(modify))
            .with_state(ctx)
    }

    fn dump(&self) -> Value {
        let mut account = self.state.lock().expect("not poisoned");
        account.settle();
        serde_json::to_value(&*account).expect("serializable")
    }

    fn reset(&self) {
        self.reset_state();
    }

    fn base_path(&self) -> &'static str {
        ""
    }

    fn provider_settings(&self, endpoint: &str) -> toml::Table {
        let mut table = toml::Table::new();
        table.insert("endpoint".into(), endpoint.into());
        table.insert("username".into(), self.seed.username.clone().into());
        table.insert("password".into(), self.seed.password.clone().into());
        let zones = self.seed.zones.iter().map(|(d, _)| toml::Value::String(d.clone())).collect();
        table.insert("zones".into(), toml::Value::Array(zones));
        table
    }

    fn describe(&self, _endpoint: &str) -> Value {
        json!({
            "provider": "mydomainlu",
            "username": self.seed.username,
            "password": self.seed.password,
            "zones": self.seed.zones.iter().map(|(d, _)| d).collect::<Vec<_>>(),
            "order_delay_ms": self.seed.order_delay.as_millis() as u64,
            "env": { "MYDOMAINLU_USERNAME": self.seed.username, "MYDOMAINLU_PASSWORD": self.seed.password },
        })
    }
}

/// An order that never completes: a delay past what the clock can count.
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(100 * 365 * 86_400)
}

//! LuaDNS (API v1). Sources: `seeds/001_ce28d99003e45070.txt` and the LuaDNS section of
//! `PROVIDERS.md`.
//!
//! Quirks absorbed here: record names are absolute with a trailing dot while zone names
//! have none; content is the presentation form with absolute hostnames, except TXT, which
//! is the raw value (long values are split by the server, invisibly, so only the
//! concatenated value is kept); the SOA and the four default NS records belong to LuaDNS;
//! validation errors come as a 400 with a JSON array, other errors as
//! `{status,request_id,message}`, and a proxy's 502 may have no body at all.
//!
//! Changes are applied with the bulk endpoints the vendor SDK uses: every changed record set
//! in one `PATCH /zones/{id}/records` (it replaces exactly the name and type pairs given),
//! and every removed set in one `POST /zones/{id}/records/delete_many` by name and type.
//! Both are idempotent, so the HTTP layer may repeat them after an ambiguous failure, and
//! applying N changes costs a constant number of requests, not N. A narrow edit (`record
//! add`, a challenge, a dynamic address) creates and deletes single records instead
//! (`POST …/records`, `DELETE …/records/{id}`): a set written whole from what was read
//! would erase a value another writer added since.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};
use zonectl_core::provider::kind::{BuildContext, Credential, EnvVar, ProviderConfig, ProviderKind, parse_settings};
use zonectl_core::provider::{
    ApplyReport, Capabilities, Change, Existing, LeftOut, Outcome, Provider, RateLimit, TtlRule, ZoneLock,
};
use zonectl_core::{Error, Name, RData, Record, RecordType, Ttl, Txt};

use crate::http::{About, Api, Auth, ErrorFormat, HttpClient, Paging, RateScope, Request, RetryPolicy};

/// The real API.
pub const DEFAULT_ENDPOINT: &str = "https://api.luadns.com/v1";

/// The registry's entry: `kind = "luadns"`.
pub static KIND: ProviderKind = ProviderKind {
    name: "luadns",
    aliases: &[],
    about: "LuaDNS (api.luadns.com)",
    env: &[
        EnvVar { name: "LUADNS_API_USERNAME", setting: "username", secret: false },
        EnvVar { name: "LUADNS_API_TOKEN", setting: "token", secret: true },
    ],
    capabilities: || capabilities(300),
    parse: parse_settings::<LuaDnsSettings>,
};

/// The API as the HTTP layer needs to know it.
pub const API: Api = Api {
    rate_limit: Some((1200, Duration::from_secs(300))),
    errors: ErrorFormat {
        message: |r| serde_json::from_slice(&r.body).ok().and_then(|body| error_message(&body)),
        credentials: "LUADNS_API_USERNAME / LUADNS_API_TOKEN",
        special: |_| None,
    },
    retry_conflicts: false,
    rate_scope: RateScope::Account,
};

/// How to reach an account.
#[derive(Debug)]
pub struct LuaDnsConfig {
    /// The account's e-mail address (`LUADNS_API_USERNAME`).
    pub username: String,
    /// The API key (`LUADNS_API_TOKEN`).
    pub token: SecretString,
    /// Another endpoint (an emulator); `https://` unless on loopback.
    pub endpoint: Option<String>,
    /// The account's minimum TTL (300 on the free package; `GET /users/me` reports it).
    pub min_ttl: u32,
    /// Retry timing.
    pub retry: RetryPolicy,
    /// Where zone locks live (see [`Provider::lock`]); none: no cross-process locks.
    pub lock_dir: Option<PathBuf>,
    /// The request budget: 1200 per 5 minutes (an emulator on a faster clock sets another).
    pub rate_limit: RateLimit,
}

impl LuaDnsConfig {
    /// A configuration with the defaults.
    pub fn new(username: String, token: SecretString) -> LuaDnsConfig {
        LuaDnsConfig {
            username,
            token,
            endpoint: None,
            min_ttl: 300,
            retry: RetryPolicy::default(),
            lock_dir: None,
            rate_limit: RATE_LIMIT,
        }
    }
}

/// LuaDNS's documented budget, per account.
pub const RATE_LIMIT: RateLimit = RateLimit { requests: 1200, per: Duration::from_secs(300) };

/// `[providers.NAME]` of kind `luadns`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LuaDnsSettings {
    username: Option<String>,
    username_file: Option<PathBuf>,
    token: Option<SecretString>,
    token_file: Option<PathBuf>,
    endpoint: Option<String>,
    min_ttl: Option<u32>,
    /// The budget, where it is not the documented 1200 per 5 minutes (an emulator on a
    /// faster clock).
    rate_limit: Option<RateLimit>,
}

impl ProviderConfig for LuaDnsSettings {
    fn build(&self, name: &str, ctx: &BuildContext) -> Result<Arc<dyn Provider>, Error> {
        let username =
            crate::login(ctx, "username", &self.username, self.username_file.as_deref(), "LUADNS_API_USERNAME")?;
        let token = ctx.required(Credential {
            what: "API token",
            setting: "token",
            value: self.token.as_ref(),
            file: self.token_file.as_deref(),
            env: "LUADNS_API_TOKEN",
            secret: true,
        })?;
        let mut config = LuaDnsConfig::new(username, token);
        config.endpoint = self.endpoint.clone();
        config.min_ttl = self.min_ttl.unwrap_or(config.min_ttl);
        config.lock_dir = ctx.lock_dir();
        config.rate_limit = self.rate_limit.unwrap_or(config.rate_limit);
        Ok(Arc::new(LuaDns::new(name, config)?))
    }
}

/// A LuaDNS account.
#[derive(Debug)]
pub struct LuaDns {
    http: HttpClient,
    capabilities: Capabilities,
    zone_ids: Mutex<HashMap<Name, u64>>,
    left_out: LeftOut,
}

/// How [`Provider::apply`] groups changes into requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Batch {
    Write,
    Delete,
    Single,
}

/// Types the API takes that the model has.
const TYPES: [RecordType; 13] = [
    RecordType::A,
    RecordType::Aaaa,
    RecordType::Cname,
    RecordType::Mx,
    RecordType::Ns,
    RecordType::Txt,
    RecordType::Srv,
    RecordType::Caa,
    RecordType::Sshfp,
    RecordType::Tlsa,
    RecordType::Ds,
    RecordType::Ptr,
    RecordType::Soa,
];

/// Every list of the API is paged by `page` with the page count in one of two headers.
const PAGING: Paging = Paging::PageQuery { count_headers: &["x-total-pages", "x-pages-count"] };

/// A record as the API sends it.
#[derive(Debug, serde::Deserialize)]
struct WireRecord {
    id: u64,
    name: String,
    #[serde(rename = "type")]
    rtype: String,
    content: String,
    ttl: u32,
}

#[derive(Debug, serde::Deserialize)]
struct WireZone {
    id: u64,
    name: String,
}

/// The message of an error body: a 400's array of `{fieldNames, message}`, or the
/// `message` of `{status,request_id,message}`.
fn error_message(body: &Value) -> Option<String> {
    match body {
        Value::Array(items) => Some(
            items
                .iter()
                .map(|item| {
                    let fields: Vec<&str> = item["fieldNames"]
                        .as_array()
                        .map(|f| f.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    let text = item["message"].as_str().unwrap_or("invalid");
                    if fields.is_empty() { text.to_owned() } else { format!("{}: {text}", fields.join(", ")) }
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Value::Object(o) => o.get("message").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

impl LuaDns {
    /// The provider instance `name` for `config`.
    pub fn new(name: &str, config: LuaDnsConfig) -> Result<LuaDns, Error> {
        let endpoint = config.endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT);
        let auth = Auth::Basic { user: config.username, password: config.token };
        let limit = config.rate_limit;
        let api = Api { rate_limit: Some((limit.requests, limit.per)), ..API };
        let http = HttpClient::new(name, endpoint, auth, api, config.retry)?.with_lock_dir(config.lock_dir);
        let mut capabilities = capabilities(config.min_ttl);
        capabilities.rate_limit = Some(limit);
        Ok(LuaDns { http, capabilities, zone_ids: Mutex::new(HashMap::new()), left_out: LeftOut::default() })
    }

    fn provider(&self) -> &str {
        self.http.provider()
    }

    async fn zone_id(&self, zone: &Name) -> Result<u64, Error> {
        if let Some(id) = self.zone_ids.lock().expect("not poisoned").get(zone) {
            return Ok(*id);
        }
        self.list_zones().await?;
        self.zone_ids
            .lock()
            .expect("not poisoned")
            .get(zone)
            .copied()
            .ok_or_else(|| Error::NotFound { provider: self.provider().to_owned(), what: format!("zone {zone}") })
    }

    /// The API's form of a record.
    fn wire(record: &Record) -> Value {
        json!({
            "name": record.name.as_str(),
            "type": record.rtype().to_string(),
            "content": content(&record.data),
            "ttl": record.ttl.as_secs(),
        })
    }

    /// Sends one record's change: a create, an update or a delete by id.
    async fn send_one(&self, zone: &Name, zone_id: u64, change: &Change) -> Result<(), Error> {
        let id_of = |existing: &Existing| {
            existing.id.clone().ok_or_else(|| Error::Protocol {
                provider: self.provider().to_owned(),
                message: format!("zone {zone}: {} has no id to change it by", existing.record),
            })
        };
        match change {
            Change::Create(record) => {
                let request =
                    Request::json(Method::POST, format!("/zones/{zone_id}/records"), LuaDns::wire(record), false);
                self.http.call(&request, About::record(zone, record)).await.map(|_| ())
            }
            Change::Update { from, to } => {
                let path = format!("/zones/{zone_id}/records/{}", id_of(from)?);
                let request = Request::json(Method::PUT, path, LuaDns::wire(to), true);
                self.http.call(&request, About::record(zone, to)).await.map(|_| ())
            }
            Change::Delete(existing) => {
                let request = Request::delete(format!("/zones/{zone_id}/records/{}", id_of(existing)?));
                match self.http.call(&request, About::record(zone, &existing.record)).await {
                    // Gone already (a retry after a lost answer, another writer's cleanup):
                    // what the delete wanted.
                    Ok(_) | Err(Error::NotFound { .. }) => Ok(()),
                    Err(e) => Err(e),
                }
            }
            Change::ReplaceSet { .. } => unreachable!("sets go in batches"),
        }
    }

    /// Sends one run of writes (one `PATCH`) or of deletes (one `delete_many`).
    async fn send_batch(&self, zone: &Name, zone_id: u64, batch: &[Change]) -> Result<(), Error> {
        let mut records = Vec::new();
        let mut sets = Vec::new();
        for change in batch {
            let Change::ReplaceSet { name, rtype, records: set, .. } = change else {
                return Err(Error::Unsupported {
                    provider: self.provider().to_owned(),
                    message: format!("{change}: LuaDNS takes record-set changes"),
                });
            };
            records.extend(set.iter());
            sets.push(json!({ "name": name.as_str(), "type": rtype.to_string() }));
        }
        let request = if records.is_empty() {
            Request::json(Method::POST, format!("/zones/{zone_id}/records/delete_many"), Value::Array(sets), true)
        } else {
            let body = records.iter().map(|r| LuaDns::wire(r)).collect();
            Request::json(Method::PATCH, format!("/zones/{zone_id}/records"), Value::Array(body), true)
        };
        // A batch of one record can be named in an error; a larger one only as a whole.
        let about = match records.as_slice() {
            [one] => About::record(zone, one),
            _ => About::zone(zone),
        };
        self.http.call(&request, about).await.map(|_| ())
    }
}

/// What LuaDNS can do, for an account whose minimum TTL is `min_ttl`.
pub fn capabilities(min_ttl: u32) -> Capabilities {
    Capabilities {
        record_types: TYPES.to_vec(),
        read_only_types: vec![RecordType::Soa],
        ttl: TtlRule::Range { min: min_ttl, max: i32::MAX as u32, step: 1, default: min_ttl.max(300) },
        bulk: true,
        record_ops: true,
        owns_soa: true,
        owns_apex_ns: true,
        txt_strings_kept: false,
        rate_limit: Some(RATE_LIMIT),
        ..Capabilities::default()
    }
}

/// The API's content for record data.
fn content(data: &RData) -> String {
    match data {
        RData::Txt(txt) => txt.value_lossy(),
        other => other.to_string(),
    }
}

/// A record as the API sent it, in the model; `None` for types the model does not have
/// (they are left alone: no plan can touch what it cannot see).
fn record(wire: &WireRecord) -> Option<Result<Existing, String>> {
    let rtype: RecordType = wire.rtype.parse().ok().filter(|t| TYPES.contains(t))?;
    let parse = || -> Result<Existing, String> {
        let name = Name::parse(&wire.name).map_err(|e| e.to_string())?;
        let data = match rtype {
            RecordType::Txt => RData::Txt(Txt::from_value(&wire.content)),
            _ => RData::parse(rtype, &wire.content, None).map_err(|e| e.to_string())?,
        };
        let ttl = Ttl::from_secs(wire.ttl).ok_or("TTL out of range")?;
        Ok(Existing { record: Record::new(name, ttl, data), id: Some(wire.id.to_string().into()) })
    };
    Some(parse())
}

#[async_trait::async_trait]
impl Provider for LuaDns {
    fn name(&self) -> &str {
        self.provider()
    }

    fn account(&self) -> String {
        self.http.account()
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// The zones, remembering their ids for the requests that need them.
    async fn list_zones(&self) -> Result<Vec<Name>, Error> {
        let zones: Vec<WireZone> = self.http.get_all(&Request::get("/zones"), PAGING, About::default()).await?;
        let named: Vec<(Name, u64)> = zones.iter().filter_map(|z| Some((Name::parse(&z.name).ok()?, z.id))).collect();
        self.zone_ids.lock().expect("not poisoned").extend(named.iter().cloned());
        let mut names: Vec<Name> = named.into_iter().map(|(name, _)| name).collect();
        names.sort();
        Ok(names)
    }

    fn left_out(&self, zone: &Name) -> Vec<String> {
        self.left_out.get(zone)
    }

    async fn list_records(&self, zone: &Name) -> Result<Vec<Existing>, Error> {
        let id = self.zone_id(zone).await?;
        let request = Request::get(format!("/zones/{id}/records"));
        let wire: Vec<WireRecord> = self.http.get_all(&request, PAGING, About::zone(zone)).await?;
        let skipped =
            wire.iter().filter(|w| record(w).is_none()).map(|w| format!("{} {} {}", w.rtype, w.name, w.content));
        self.left_out.set(zone, skipped.collect());
        wire.iter()
            .filter_map(record)
            .map(|r| {
                r.map_err(|message| Error::Protocol {
                    provider: self.provider().to_owned(),
                    message: format!("zone {zone}: a record the API sent cannot be read: {message}"),
                })
            })
            .collect()
    }

    async fn apply(&self, zone: &Name, changes: &[Change]) -> ApplyReport {
        let zone_id = match self.zone_id(zone).await {
            Ok(id) => id,
            Err(e) => return ApplyReport::not_started(e, changes.len()),
        };
        // Runs of set writes and of set deletes, in the engine's order (deletes that must
        // come first, writes, other deletes): one request each. Single records (a narrow
        // edit's) one request each.
        let kind = |c: &Change| match c {
            Change::ReplaceSet { records, .. } if !records.is_empty() => Batch::Write,
            Change::ReplaceSet { .. } => Batch::Delete,
            _ => Batch::Single,
        };
        let mut outcomes = Vec::with_capacity(changes.len());
        let mut stopped = false;
        for batch in changes.chunk_by(|a, b| kind(a) == kind(b)) {
            if kind(&batch[0]) == Batch::Single {
                for change in batch {
                    if stopped {
                        outcomes.push(Outcome::NotAttempted);
                        continue;
                    }
                    match self.send_one(zone, zone_id, change).await {
                        Ok(()) => outcomes.push(Outcome::Done),
                        Err(e) => {
                            stopped = true;
                            outcomes.push(Outcome::from_error(e));
                        }
                    }
                }
                continue;
            }
            if stopped {
                outcomes.extend(batch.iter().map(|_| Outcome::NotAttempted));
                continue;
            }
            match self.send_batch(zone, zone_id, batch).await {
                Ok(()) => outcomes.extend(batch.iter().map(|_| Outcome::Done)),
                Err(e) => {
                    stopped = true;
                    // The batch went as one request: its changes share its fate, unknown
                    // ones included.
                    outcomes.extend(batch.iter().map(|_| Outcome::from_error(e.clone())));
                }
            }
        }
        ApplyReport { outcomes }
    }

    async fn lock(&self, zone: &Name) -> Result<ZoneLock, Error> {
        self.http.zone_lock(zone).await
    }
}

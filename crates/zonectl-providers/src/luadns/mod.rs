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
//! applying N changes costs a constant number of requests, not N.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};
use zonectl_core::provider::{
    ApplyReport, Capabilities, Change, Existing, Outcome, Provider, RateLimit, TtlRule, UpdateStyle,
};
use zonectl_core::{Error, Name, RData, Record, RecordType, Ttl, Txt};

use crate::http::{Auth, HttpClient, Request, Response, RetryPolicy, Trace};

/// The real API.
pub const DEFAULT_ENDPOINT: &str = "https://api.luadns.com/v1";

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
}

impl LuaDnsConfig {
    /// The configuration from `LUADNS_API_USERNAME` and `LUADNS_API_TOKEN` (each also as
    /// `*_FILE`), if both are set.
    pub fn from_env() -> Result<Option<LuaDnsConfig>, Error> {
        let user = crate::env_secret("LUADNS_API_USERNAME")?;
        let token = crate::env_secret("LUADNS_API_TOKEN")?;
        Ok(match (user, token) {
            (Some(user), Some(token)) => {
                use secrecy::ExposeSecret;
                Some(LuaDnsConfig::new(user.expose_secret().to_owned(), token))
            }
            _ => None,
        })
    }

    /// A configuration with the defaults.
    pub fn new(username: String, token: SecretString) -> LuaDnsConfig {
        LuaDnsConfig { username, token, endpoint: None, min_ttl: 300, retry: RetryPolicy::default() }
    }
}

/// A LuaDNS account.
#[derive(Debug)]
pub struct LuaDns {
    http: HttpClient,
    capabilities: Capabilities,
    zone_ids: Mutex<HashMap<Name, u64>>,
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

impl LuaDns {
    /// The provider instance `name` for `config`.
    pub fn new(name: &str, config: LuaDnsConfig, trace: Option<Trace>) -> Result<LuaDns, Error> {
        let endpoint = config.endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT);
        let auth = Auth::Basic { user: config.username, password: config.token };
        let http =
            HttpClient::new(name, endpoint, auth, (1200, Duration::from_secs(300)), config.retry)?.with_trace(trace);
        Ok(LuaDns { http, capabilities: capabilities(config.min_ttl), zone_ids: Mutex::new(HashMap::new()) })
    }

    fn provider(&self) -> &str {
        self.http.provider()
    }

    /// Sends `request` and turns any answer but a 200 into the matching error.
    async fn call(&self, request: &Request, zone: Option<&Name>) -> Result<Response, Error> {
        let response = self.http.send(request).await?;
        if response.status.is_success() {
            return Ok(response);
        }
        Err(self.error(&response, zone))
    }

    /// Maps an error answer: 400 arrays, `{status,request_id,message}` objects, empty bodies.
    fn error(&self, response: &Response, zone: Option<&Name>) -> Error {
        let provider = self.provider().to_owned();
        let message = match serde_json::from_slice::<Value>(&response.body) {
            Ok(Value::Array(items)) => items
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
            Ok(Value::Object(o)) => o.get("message").and_then(Value::as_str).unwrap_or("error").to_owned(),
            _ if response.body.is_empty() => format!("{} with an empty body", response.status),
            _ => format!("{} with a body that is not JSON", response.status),
        };
        let zone_text = zone.map_or_else(String::new, |z| format!("zone {z}: "));
        match response.status.as_u16() {
            400 => match zone {
                Some(zone) => {
                    Error::InvalidRecord { provider, zone: zone.clone(), record: "in the request".into(), message }
                }
                None => Error::Unsupported { provider, message },
            },
            401 => Error::Unauthenticated {
                provider,
                message: format!("{message} (check the username and API key, LUADNS_API_USERNAME / LUADNS_API_TOKEN)"),
            },
            403 => Error::PermissionDenied { provider, message: format!("{zone_text}{message}") },
            404 => {
                Error::NotFound { provider, what: zone.map_or_else(|| "resource".to_owned(), |z| format!("zone {z}")) }
            }
            429 => Error::RateLimited {
                provider,
                retry_after: response.header("retry-after").and_then(|v| v.parse().ok()).map(Duration::from_secs),
            },
            status => {
                Error::Transport { provider, message: format!("{zone_text}HTTP {status}: {message}"), ambiguous: true }
            }
        }
    }

    /// GETs every page of a list (the server may page even when asked for everything).
    async fn list_all<T: serde::de::DeserializeOwned>(&self, path: &str, zone: Option<&Name>) -> Result<Vec<T>, Error> {
        let check = |response: Response| {
            if response.status.is_success() { Ok(response) } else { Err(self.error(&response, zone)) }
        };
        self.http.get_pages(&Request::get(path), &["x-total-pages", "x-pages-count"], check).await
    }

    async fn zone_id(&self, zone: &Name) -> Result<u64, Error> {
        if let Some(id) = self.zone_ids.lock().expect("not poisoned").get(zone) {
            return Ok(*id);
        }
        let zones: Vec<WireZone> = self.list_all("/zones", None).await?;
        let mut ids = self.zone_ids.lock().expect("not poisoned");
        for z in &zones {
            if let Ok(name) = Name::parse(&z.name) {
                ids.insert(name, z.id);
            }
        }
        ids.get(zone)
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

    async fn send_batch(&self, zone: &Name, zone_id: u64, batch: &[Change]) -> Result<(), Error> {
        let writes = batch.iter().all(|c| matches!(c, Change::ReplaceSet { records, .. } if !records.is_empty()));
        let request = if writes {
            let body: Vec<Value> = batch
                .iter()
                .flat_map(|c| match c {
                    Change::ReplaceSet { records, .. } => records.iter().map(LuaDns::wire).collect::<Vec<_>>(),
                    _ => Vec::new(),
                })
                .collect();
            Request::json(Method::PATCH, format!("/zones/{zone_id}/records"), Value::Array(body), true)
        } else {
            let body: Vec<Value> = batch
                .iter()
                .filter_map(|c| match c {
                    Change::ReplaceSet { name, rtype, .. } => {
                        Some(json!({ "name": name.as_str(), "type": rtype.to_string() }))
                    }
                    _ => None,
                })
                .collect();
            Request::json(Method::POST, format!("/zones/{zone_id}/records/delete_many"), Value::Array(body), true)
        };
        self.call(&request, Some(zone)).await.map(|_| ())
    }
}

/// What LuaDNS can do, for an account whose minimum TTL is `min_ttl`.
pub fn capabilities(min_ttl: u32) -> Capabilities {
    Capabilities {
        record_types: TYPES.to_vec(),
        unknown_types: false,
        read_only_types: vec![RecordType::Soa],
        ttl: TtlRule::Range { min: min_ttl, max: i32::MAX as u32, step: 1, default: min_ttl.max(300) },
        updates: UpdateStyle::RecordSet,
        bulk: true,
        asynchronous: false,
        owns_soa: true,
        owns_apex_ns: true,
        txt_strings_kept: false,
        rate_limit: Some(RateLimit { requests: 1200, per: Duration::from_secs(300) }),
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
        Ok(Existing { record: Record::new(name, ttl, data), id: Some(wire.id.to_string()) })
    };
    Some(parse())
}

#[async_trait::async_trait]
impl Provider for LuaDns {
    fn name(&self) -> &str {
        self.provider()
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// The zones, remembering their ids for the requests that need them.
    async fn list_zones(&self) -> Result<Vec<Name>, Error> {
        let zones: Vec<WireZone> = self.list_all("/zones", None).await?;
        let named: Vec<(Name, u64)> = zones.iter().filter_map(|z| Some((Name::parse(&z.name).ok()?, z.id))).collect();
        self.zone_ids.lock().expect("not poisoned").extend(named.iter().cloned());
        let mut names: Vec<Name> = named.into_iter().map(|(name, _)| name).collect();
        names.sort();
        Ok(names)
    }

    async fn list_records(&self, zone: &Name) -> Result<Vec<Existing>, Error> {
        let id = self.zone_id(zone).await?;
        let wire: Vec<WireRecord> = self.list_all(&format!("/zones/{id}/records"), Some(zone)).await?;
        wire.iter()
            .filter_map(record)
            .map(|r| {
                r.map_err(|message| Error::Transport {
                    provider: self.provider().to_owned(),
                    message: format!("zone {zone}: a record the API sent cannot be read: {message}"),
                    ambiguous: false,
                })
            })
            .collect()
    }

    async fn apply(&self, zone: &Name, changes: &[Change]) -> ApplyReport {
        let zone_id = match self.zone_id(zone).await {
            Ok(id) => id,
            Err(e) => {
                let mut outcomes = vec![Outcome::Failed(e)];
                outcomes.resize_with(changes.len(), || Outcome::NotAttempted);
                return ApplyReport { outcomes };
            }
        };
        // Runs of writes and of deletes, in the engine's order (deletes that must come
        // first, writes, other deletes): one request each.
        let is_write = |c: &Change| matches!(c, Change::ReplaceSet { records, .. } if !records.is_empty());
        let mut outcomes = Vec::with_capacity(changes.len());
        let mut failed = false;
        for batch in changes.chunk_by(|a, b| is_write(a) == is_write(b)) {
            if failed {
                outcomes.extend(batch.iter().map(|_| Outcome::NotAttempted));
                continue;
            }
            if let Some(other) = batch.iter().find(|c| !matches!(c, Change::ReplaceSet { .. })) {
                failed = true;
                let e = Error::Unsupported {
                    provider: self.provider().to_owned(),
                    message: format!("{other}: LuaDNS takes record-set changes"),
                };
                outcomes.push(Outcome::Failed(e));
                outcomes.extend(batch[1..].iter().map(|_| Outcome::NotAttempted));
                continue;
            }
            match self.send_batch(zone, zone_id, batch).await {
                Ok(()) => outcomes.extend(batch.iter().map(|_| Outcome::Done)),
                Err(e) => {
                    failed = true;
                    let message = e.to_string();
                    outcomes.push(Outcome::Failed(e));
                    // The batch went as one request: its other changes share the outcome.
                    outcomes.extend(batch[1..].iter().map(|_| {
                        Outcome::Failed(Error::Transport {
                            provider: self.provider().to_owned(),
                            message: message.clone(),
                            ambiguous: false,
                        })
                    }));
                }
            }
        }
        ApplyReport { outcomes }
    }
}

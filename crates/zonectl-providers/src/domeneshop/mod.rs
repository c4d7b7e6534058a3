//! Domeneshop (API v0). Sources: `seeds/002_b023e118e118c098.txt` and the Domeneshop section
//! of `PROVIDERS.md`.
//!
//! Quirks absorbed here: domains are found by id, and only those with the DNS service can
//! be managed (the others are named once, never silently skipped); a domain id not in the
//! account answers 403, which means "no such zone here"; hosts are relative to the domain,
//! `@` for the apex; type-specific fields come back as strings; CAA's tag is a number (0
//! issue, 1 issuewild, 2 iodef: no other tag can be stored); hostname data comes back
//! absolute with a trailing dot, CNAME targets sometimes in Unicode; TXT is raw, one value;
//! TTLs are 60 to 604800 in steps of 60; the apex NS records are the domain's name servers
//! (shown, never changed); ANAME records are not in the model and are left alone.
//!
//! HTTP forwards are records of the model's `URL` type: a forward without a frame reads as
//! a permanent redirect (`URL 301`), one with a frame as `URL frame`; Domeneshop documents
//! no code, and a `URL 302` cannot be made there (refused before anything is sent). A
//! forward and an A, AAAA or CNAME record cannot share a name. Forwards have no TTL.
//!
//! Changes are one request per record (create, PUT, DELETE), several names at a time. A
//! create whose answer is lost is checked by reading the host's records before it is sent
//! again, so a dropped connection never makes a duplicate.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Map, Value, json};
use zonectl_core::provider::kind::{BuildContext, Credential, EnvVar, ProviderConfig, ProviderKind, parse_settings};
use zonectl_core::provider::{
    ApplyReport, Capabilities, Change, Existing, Provider, RecordId, TtlRule, UpdateStyle, ZoneLock, apply_concurrently,
};
use zonectl_core::{Caa, Error, Forward, Name, RData, Record, RecordType, Ttl, Txt};

use crate::http::{About, Api, Auth, ErrorFormat, Exchange, HttpClient, Paging, RateScope, Request, RetryPolicy};

/// The real API.
pub const DEFAULT_ENDPOINT: &str = "https://api.domeneshop.no/v0";

/// Changes sent at once (one name each).
const CONCURRENCY: usize = 8;

/// The TTL forwards and the domain's name servers are shown with: Domeneshop's default.
const DEFAULT_TTL: u32 = 3600;

/// The registry's entry: `kind = "domeneshop"` (also `domainnameshop`, lego's other name).
pub static KIND: ProviderKind = ProviderKind {
    name: "domeneshop",
    aliases: &["domainnameshop"],
    about: "Domeneshop (api.domeneshop.no)",
    env: &[
        EnvVar { name: "DOMENESHOP_API_TOKEN", setting: "token", secret: true },
        EnvVar { name: "DOMENESHOP_API_SECRET", setting: "secret", secret: true },
    ],
    capabilities,
    parse: parse_settings::<DomeneshopSettings>,
};

/// The API as the HTTP layer needs to know it: no documented rate limit.
pub const API: Api = Api {
    rate_limit: None,
    errors: ErrorFormat {
        message: |r| serde_json::from_slice(&r.body).ok().and_then(|body| error_message(&body)),
        credentials: "DOMENESHOP_API_TOKEN / DOMENESHOP_API_SECRET",
        special: foreign_domain,
    },
    retry_conflicts: false,
    rate_scope: RateScope::Account,
};

/// `{"code":"…","help":"…"}`: the help, and the code to look it up by.
fn error_message(body: &Value) -> Option<String> {
    let help = body["help"].as_str()?;
    Some(match body["code"].as_str() {
        Some(code) => format!("{help} ({code})"),
        None => help.to_owned(),
    })
}

/// A 403 `resource:unauthorized` is Domeneshop's answer for a domain that is not in the
/// account: the zone is not found there.
fn foreign_domain(x: &Exchange<'_>) -> Option<Error> {
    let body: Value = serde_json::from_slice(&x.response.body).ok()?;
    if x.response.status.as_u16() != 403 || body["code"] != "resource:unauthorized" {
        return None;
    }
    let what = x.about.zone.map_or_else(|| "domain".to_owned(), |z| format!("zone {z}"));
    Some(Error::NotFound { provider: x.provider.to_owned(), what: format!("{what} (not in this account)") })
}

/// How to reach an account.
#[derive(Debug)]
pub struct DomeneshopConfig {
    /// The API token (`DOMENESHOP_API_TOKEN`).
    pub token: String,
    /// The API secret (`DOMENESHOP_API_SECRET`).
    pub secret: SecretString,
    /// Another endpoint (an emulator); `https://` unless on loopback.
    pub endpoint: Option<String>,
    /// Retry timing.
    pub retry: RetryPolicy,
    /// Where zone locks live; none: no cross-process locks.
    pub lock_dir: Option<PathBuf>,
}

impl DomeneshopConfig {
    /// A configuration with the defaults.
    pub fn new(token: String, secret: SecretString) -> DomeneshopConfig {
        DomeneshopConfig { token, secret, endpoint: None, retry: RetryPolicy::default(), lock_dir: None }
    }
}

/// `[providers.NAME]` of kind `domeneshop`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DomeneshopSettings {
    token: Option<SecretString>,
    token_file: Option<PathBuf>,
    secret: Option<SecretString>,
    secret_file: Option<PathBuf>,
    endpoint: Option<String>,
}

impl ProviderConfig for DomeneshopSettings {
    fn build(&self, name: &str, ctx: &BuildContext) -> Result<Arc<dyn Provider>, Error> {
        use secrecy::ExposeSecret;
        let token = ctx.required(Credential {
            what: "API token",
            setting: "token",
            value: self.token.as_ref(),
            file: self.token_file.as_deref(),
            env: "DOMENESHOP_API_TOKEN",
            secret: true,
        })?;
        let secret = ctx.required(Credential {
            what: "API secret",
            setting: "secret",
            value: self.secret.as_ref(),
            file: self.secret_file.as_deref(),
            env: "DOMENESHOP_API_SECRET",
            secret: true,
        })?;
        let mut config = DomeneshopConfig::new(token.expose_secret().to_owned(), secret);
        config.endpoint = self.endpoint.clone();
        config.lock_dir = ctx.lock_dir();
        Ok(Arc::new(Domeneshop::new(name, config)?))
    }
}

/// What Domeneshop can do.
pub fn capabilities() -> Capabilities {
    use RecordType::*;
    Capabilities {
        record_types: vec![A, Aaaa, Cname, Mx, Srv, Txt, Ns, Caa, Tlsa, Ds, Url],
        ttl: TtlRule::Range { min: 60, max: 604_800, step: 60, default: DEFAULT_TTL },
        updates: UpdateStyle::PerRecord,
        owns_soa: true,
        owns_apex_ns: true,
        txt_strings_kept: false,
        exclusive: vec![(Url, A), (Url, Aaaa)],
        untimed: vec![Url],
        data_rule: Some(data_rule),
        ..Capabilities::default()
    }
}

/// What Domeneshop cannot store, though the type is right.
fn data_rule(data: &RData) -> Option<String> {
    match data {
        RData::Caa(caa) if caa_code(&caa.tag).is_none() => {
            Some(format!("Domeneshop stores only the CAA tags issue, issuewild and iodef, not {}", caa.tag))
        }
        RData::Url { kind: Forward::Temporary, .. } => Some(
            "a Domeneshop forward is a permanent redirect (URL 301) or a frame (URL frame); it cannot answer 302"
                .into(),
        ),
        _ => None,
    }
}

/// CAA tags as Domeneshop numbers them.
fn caa_code(tag: &str) -> Option<u8> {
    match tag.to_ascii_lowercase().as_str() {
        "issue" => Some(0),
        "issuewild" => Some(1),
        "iodef" => Some(2),
        _ => None,
    }
}

/// A domain of the account, as far as zonectl needs it.
#[derive(Debug, Clone)]
struct Domain {
    id: u64,
    nameservers: Vec<String>,
}

/// A Domeneshop account.
#[derive(Debug)]
pub struct Domeneshop {
    http: HttpClient,
    capabilities: Capabilities,
    domains: Mutex<HashMap<Name, Domain>>,
    /// The account's domains without the DNS service.
    parked: Mutex<Vec<Name>>,
    left_out: zonectl_core::provider::LeftOut,
}

impl Domeneshop {
    /// The provider instance `name` for `config`.
    pub fn new(name: &str, config: DomeneshopConfig) -> Result<Domeneshop, Error> {
        let endpoint = config.endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT);
        let auth = Auth::Basic { user: config.token, password: config.secret };
        let http = HttpClient::new(name, endpoint, auth, API, config.retry)?.with_lock_dir(config.lock_dir);
        Ok(Domeneshop {
            http,
            capabilities: capabilities(),
            domains: Mutex::new(HashMap::new()),
            parked: Mutex::new(Vec::new()),
            left_out: Default::default(),
        })
    }

    fn provider(&self) -> &str {
        self.http.provider()
    }

    /// The domain of `zone`, from the listing (read once).
    async fn domain(&self, zone: &Name) -> Result<Domain, Error> {
        if let Some(domain) = self.domains.lock().expect("not poisoned").get(zone) {
            return Ok(domain.clone());
        }
        self.list_zones().await?;
        if self.parked.lock().expect("not poisoned").contains(zone) {
            return Err(Error::Unsupported {
                provider: self.provider().to_owned(),
                message: format!("{zone} has no DNS service at Domeneshop, so its records cannot be managed here"),
            });
        }
        self.domains.lock().expect("not poisoned").get(zone).cloned().ok_or_else(|| Error::NotFound {
            provider: self.provider().to_owned(),
            what: format!("zone {zone} (not a domain with the DNS service in this account)"),
        })
    }

    fn protocol(&self, zone: &Name, message: String) -> Error {
        Error::Protocol { provider: self.provider().to_owned(), message: format!("zone {zone}: {message}") }
    }

    /// One change.
    async fn apply_one(&self, zone: &Name, domain: u64, change: &Change) -> Result<(), Error> {
        match change {
            Change::Create(record) => {
                // A create whose answer is lost is checked by reading the host again; only
                // a record not there is sent again.
                let (path, body) = match record.rtype() {
                    RecordType::Url => (format!("/domains/{domain}/forwards"), forward_wire(zone, record)),
                    _ => (format!("/domains/{domain}/dns"), record_wire(zone, record)),
                };
                let request = Request::json(Method::POST, path, body, false);
                let about = About::record(zone, record);
                let made =
                    crate::create_once(&self.http, &request, about, |_| false, || self.at_host(zone, domain, record));
                // The new record's id is in `Location` (the official library reads it there).
                if let Some(id) = made.await?.as_ref().and_then(|r| r.location_id()) {
                    tracing::debug!(target: "zonectl::http", "{}: created {record} as record {id}", self.provider());
                }
                Ok(())
            }
            Change::Update { from, to } => {
                let id = crate::record_id(self.provider(), zone, from)?;
                let request =
                    Request::json(Method::PUT, format!("/domains/{domain}/dns/{id}"), record_wire(zone, to), true);
                self.http.call(&request, About::record(zone, to)).await.map(drop)
            }
            Change::Delete(existing) => {
                let path = match existing.record.rtype() {
                    RecordType::Url => format!("/domains/{domain}/forwards/{}", host_of(&existing.record.name, zone)),
                    _ => format!("/domains/{domain}/dns/{}", crate::record_id(self.provider(), zone, existing)?),
                };
                crate::delete(&self.http, path, About::record(zone, &existing.record)).await
            }
            Change::ReplaceSet { .. } => Err(Error::Unsupported {
                provider: self.provider().to_owned(),
                message: format!("{change}: Domeneshop takes per-record changes"),
            }),
        }
    }

    /// The records at the host of `record`, of its type (forwards: every forward).
    async fn at_host(&self, zone: &Name, domain: u64, record: &Record) -> Result<Vec<Existing>, Error> {
        if record.rtype() == RecordType::Url {
            let forwards = self.forwards(zone, domain).await?;
            let records = forwards.iter().filter_map(|f| forward_record(zone, f).ok());
            return Ok(records.map(Existing::from).collect());
        }
        let host = host_of(&record.name, zone);
        let request = Request::get(format!("/domains/{domain}/dns")).query("host", &host).query("type", record.rtype());
        let held: Vec<Value> = self.http.get_all(&request, Paging::Single, About::zone(zone)).await?;
        Ok(held.iter().filter_map(|w| wire_record(zone, w)).filter_map(Result::ok).collect())
    }

    async fn forwards(&self, zone: &Name, domain: u64) -> Result<Vec<Value>, Error> {
        self.http.get_all(&Request::get(format!("/domains/{domain}/forwards")), Paging::Single, About::zone(zone)).await
    }
}

/// A name as a host of the domain: relative, `@` for the apex.
fn host_of(name: &Name, zone: &Name) -> String {
    name.relative_to(zone).into_owned()
}

/// The API's form of a record.
fn record_wire(zone: &Name, record: &Record) -> Value {
    let mut object = Map::new();
    object.insert("host".into(), json!(host_of(&record.name, zone)));
    object.insert("ttl".into(), json!(record.ttl.as_secs()));
    object.insert("type".into(), json!(record.rtype().to_string()));
    let data = match &record.data {
        RData::Mx { preference, exchange } => {
            object.insert("priority".into(), json!(preference));
            exchange.to_string()
        }
        RData::Srv { priority, weight, port, target } => {
            object.insert("priority".into(), json!(priority));
            object.insert("weight".into(), json!(weight));
            object.insert("port".into(), json!(port));
            target.to_string()
        }
        RData::Caa(caa) => {
            object.insert("flags".into(), json!(caa.flags));
            object.insert("tag".into(), json!(caa_code(&caa.tag).unwrap_or(0)));
            String::from_utf8_lossy(&caa.value).into_owned()
        }
        RData::Tlsa { usage, selector, matching_type, data } => {
            object.insert("usage".into(), json!(usage));
            object.insert("selector".into(), json!(selector));
            object.insert("dtype".into(), json!(matching_type));
            data_encoding::HEXLOWER.encode(data)
        }
        RData::Ds { key_tag, algorithm, digest_type, digest } => {
            object.insert("tag".into(), json!(key_tag));
            object.insert("alg".into(), json!(algorithm));
            object.insert("digest".into(), json!(digest_type));
            data_encoding::HEXLOWER.encode(digest)
        }
        RData::Txt(txt) => txt.value_lossy(),
        other => other.to_string(),
    };
    object.insert("data".into(), json!(data));
    Value::Object(object)
}

/// The API's form of a `URL` record.
fn forward_wire(zone: &Name, record: &Record) -> Value {
    let (frame, url) = match &record.data {
        RData::Url { kind, target } => (*kind == Forward::Frame, target.to_string()),
        _ => (false, String::new()),
    };
    json!({ "host": host_of(&record.name, zone), "frame": frame, "url": url })
}

/// A number the API sends as a string (or, from older clients' data, as a number).
fn number<T: TryFrom<u64>>(item: &Value, field: &str) -> Result<T, String> {
    let n = match &item[field] {
        Value::String(s) => s.trim().parse::<u64>().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    };
    n.and_then(|n| T::try_from(n).ok()).ok_or_else(|| format!("{field} is not a number in range: {}", item[field]))
}

/// A record as the API sends it, in the model; `None` for a type the model lacks (ANAME).
fn wire_record(zone: &Name, item: &Value) -> Option<Result<Existing, String>> {
    let rtype: RecordType = item["type"].as_str()?.parse().ok().filter(|t| capabilities().record_types.contains(t))?;
    let parse = || -> Result<Existing, String> {
        let host = item["host"].as_str().ok_or("no host")?;
        let name = Name::parse_relative(host, zone).map_err(|e| e.to_string())?;
        let ttl = Ttl::from_secs(number(item, "ttl")?).ok_or("TTL out of range")?;
        let data = item["data"].as_str().ok_or("no data")?;
        let hex = |s: &str| {
            data_encoding::HEXLOWER_PERMISSIVE
                .decode(s.as_bytes())
                .map_err(|_| format!("data '{s}' is not hexadecimal"))
        };
        let host_name = |s: &str| Name::parse(s).map_err(|e| e.to_string());
        let rdata = match rtype {
            RecordType::Mx => RData::Mx { preference: number(item, "priority")?, exchange: host_name(data)? },
            RecordType::Srv => RData::Srv {
                priority: number(item, "priority")?,
                weight: number(item, "weight")?,
                port: number(item, "port")?,
                target: host_name(data)?,
            },
            RecordType::Caa => {
                let tag = match number::<u8>(item, "tag")? {
                    0 => "issue",
                    1 => "issuewild",
                    2 => "iodef",
                    other => return Err(format!("unknown CAA tag code {other}")),
                };
                RData::Caa(Box::new(Caa {
                    flags: number(item, "flags")?,
                    tag: tag.into(),
                    value: data.as_bytes().into(),
                }))
            }
            RecordType::Tlsa => RData::Tlsa {
                usage: number(item, "usage")?,
                selector: number(item, "selector")?,
                matching_type: number(item, "dtype")?,
                data: hex(data)?.into(),
            },
            RecordType::Ds => RData::Ds {
                key_tag: number(item, "tag")?,
                algorithm: number(item, "alg")?,
                digest_type: number(item, "digest")?,
                digest: hex(data)?.into(),
            },
            RecordType::Cname => RData::Cname(host_name(data)?),
            RecordType::Ns => RData::Ns(host_name(data)?),
            RecordType::Txt => RData::Txt(Txt::from_value(data)),
            _ => RData::parse(rtype, data, None).map_err(|e| e.to_string())?,
        };
        let id =
            item["id"].as_u64().map(|id| id.to_string().into()).or_else(|| item["id"].as_str().map(RecordId::from));
        Ok(Existing { record: Record::new(name, ttl, rdata), id })
    };
    Some(parse())
}

/// A forward as a `URL` record.
fn forward_record(zone: &Name, item: &Value) -> Result<Record, String> {
    let host = item["host"].as_str().ok_or("no host")?;
    let name = Name::parse_relative(host, zone).map_err(|e| e.to_string())?;
    let url = item["url"].as_str().ok_or("no url")?;
    let kind = if item["frame"].as_bool().unwrap_or(false) { Forward::Frame } else { Forward::Permanent };
    let ttl = Ttl::from_secs(DEFAULT_TTL).expect("in range");
    Ok(Record::new(name, ttl, RData::Url { kind, target: url.into() }))
}

#[async_trait::async_trait]
impl Provider for Domeneshop {
    fn name(&self) -> &str {
        self.provider()
    }

    fn account(&self) -> String {
        self.http.account()
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// The domains with the DNS service; the others are remembered, for
    /// [`Provider::unmanaged_zones`] and for the error of an edit of one.
    async fn list_zones(&self) -> Result<Vec<Name>, Error> {
        let domains: Vec<Value> =
            self.http.get_all(&Request::get("/domains"), Paging::Single, About::default()).await?;
        let mut zones = Vec::new();
        let mut parked = Vec::new();
        let mut known = self.domains.lock().expect("not poisoned");
        for item in &domains {
            let (Some(name), Some(id)) = (item["domain"].as_str(), item["id"].as_u64()) else { continue };
            let Ok(zone) = Name::parse(name) else { continue };
            if item["services"]["dns"].as_bool() != Some(true) {
                parked.push(zone);
                continue;
            }
            let nameservers = item["nameservers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            known.insert(zone.clone(), Domain { id, nameservers });
            zones.push(zone);
        }
        zones.sort();
        *self.parked.lock().expect("not poisoned") = parked;
        Ok(zones)
    }

    fn left_out(&self, zone: &Name) -> Vec<String> {
        self.left_out.get(zone)
    }

    fn unmanaged_zones(&self) -> Vec<(Name, String)> {
        let parked = self.parked.lock().expect("not poisoned");
        parked
            .iter()
            .map(|z| (z.clone(), "no DNS service at Domeneshop: its records cannot be managed".into()))
            .collect()
    }

    /// The records, the forwards, and the domain's name servers as its apex NS records:
    /// two requests (after the domain list, read once).
    async fn list_records(&self, zone: &Name) -> Result<Vec<Existing>, Error> {
        let domain = self.domain(zone).await?;
        let wire: Vec<Value> = self
            .http
            .get_all(&Request::get(format!("/domains/{}/dns", domain.id)), Paging::Single, About::zone(zone))
            .await?;
        let mut records = Vec::with_capacity(wire.len() + 4);
        let mut skipped = Vec::new();
        for item in &wire {
            match wire_record(zone, item) {
                Some(Ok(existing)) => records.push(existing),
                Some(Err(message)) => {
                    return Err(self.protocol(zone, format!("a record the API sent cannot be read: {message}")));
                }
                None => skipped.push(format!(
                    "{} {} {}",
                    item["type"].as_str().unwrap_or("?"),
                    item["host"].as_str().unwrap_or("?"),
                    item["data"].as_str().unwrap_or("")
                )),
            }
        }
        self.left_out.set(zone, skipped);
        for item in self.forwards(zone, domain.id).await? {
            let record = forward_record(zone, &item)
                .map_err(|m| self.protocol(zone, format!("a forward the API sent cannot be read: {m}")))?;
            records.push(Existing { record, id: None });
        }
        let ttl = Ttl::from_secs(DEFAULT_TTL).expect("in range");
        for server in &domain.nameservers {
            let ns = Name::parse(server).map_err(|e| self.protocol(zone, format!("name server '{server}': {e}")))?;
            records.push(Existing { record: Record::new(zone.clone(), ttl, RData::Ns(ns)), id: None });
        }
        Ok(records)
    }

    async fn apply(&self, zone: &Name, changes: &[Change]) -> ApplyReport {
        let domain = match self.domain(zone).await {
            Ok(domain) => domain,
            Err(e) => return ApplyReport::not_started(e, changes.len()),
        };
        apply_concurrently(changes, CONCURRENCY, |change| self.apply_one(zone, domain.id, change)).await
    }

    async fn lock(&self, zone: &Name) -> Result<ZoneLock, Error> {
        self.http.zone_lock(zone).await
    }

    async fn native_ddns(&self, name: &Name, addresses: &[IpAddr]) -> Result<(), Error> {
        let list: Vec<String> = addresses.iter().map(ToString::to_string).collect();
        let request = Request::get("/dyndns/update")
            .query("hostname", name.as_str().trim_end_matches('.'))
            .query("myip", list.join(","));
        self.http.call(&request, About::default()).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_maps_both_ways() {
        let zone = Name::parse("example.no").unwrap();
        let cases = [
            ("@", "A", "192.0.2.1"),
            ("www", "AAAA", "2001:db8::1"),
            ("alias", "CNAME", "www.example.no."),
            ("@", "MX", "10 mail.example.no."),
            ("_sip._tcp", "SRV", "10 5 5060 sip.example.no."),
            ("@", "TXT", "\"v=spf1 -all\""),
            ("sub", "NS", "ns1.example.net."),
            ("@", "CAA", "0 issuewild \"letsencrypt.org\""),
            ("_443._tcp", "TLSA", "3 1 1 ABCDEF"),
            ("sub", "DS", "12345 13 2 ABCDEF"),
        ];
        for (host, rtype, data) in cases {
            let rtype: RecordType = rtype.parse().unwrap();
            let record = Record::new(
                Name::parse_relative(host, &zone).unwrap(),
                Ttl::from_secs(120).unwrap(),
                RData::parse(rtype, data, Some(&zone)).unwrap(),
            );
            let mut wire = record_wire(&zone, &record);
            // The server answers numbers as strings, and an id.
            for value in wire.as_object_mut().unwrap().values_mut() {
                if let Value::Number(n) = value {
                    *value = Value::String(n.to_string());
                }
            }
            wire["id"] = json!(7);
            let back = wire_record(&zone, &wire).unwrap().unwrap();
            assert_eq!(back.record, record, "{rtype} {data}: {wire}");
            assert_eq!(back.id.as_deref(), Some("7"));
        }
    }

    #[test]
    fn forwards_are_url_records() {
        let zone = Name::parse("example.no").unwrap();
        let plain =
            forward_record(&zone, &json!({"host": "www", "frame": false, "url": "https://example.org/"})).unwrap();
        assert_eq!(plain.to_string(), "www.example.no. 3600 IN URL 301 \"https://example.org/\"");
        let framed =
            forward_record(&zone, &json!({"host": "@", "frame": true, "url": "https://example.org/"})).unwrap();
        assert_eq!(framed.to_string(), "example.no. 3600 IN URL frame \"https://example.org/\"");
        assert_eq!(forward_wire(&zone, &framed), json!({"host": "@", "frame": true, "url": "https://example.org/"}));
        let temporary = RData::parse(RecordType::Url, "302 https://example.org/", None).unwrap();
        assert!(data_rule(&temporary).unwrap().contains("cannot answer 302"));
        let odd_caa = RData::parse(RecordType::Caa, "0 contactemail \"a@example.no\"", None).unwrap();
        assert!(data_rule(&odd_caa).unwrap().contains("not contactemail"));
    }
}

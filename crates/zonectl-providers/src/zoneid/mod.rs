//! ZoneID / Zone.eu (API v2, DNS part). Sources: `seeds/004_1c5e4cc570ee303a.txt` and the
//! ZoneID section of `PROVIDERS.md`.
//!
//! The API whose shape differs most from the model: one endpoint family per record type
//! (`/dns/{zone}/{type}`), every body an array, string ids, names absolute without a dot,
//! no TTL at all, read-only system records (the provider's NS), URL redirect records, and
//! only 60 requests a minute. So: reading a whole zone costs one request per type (eleven,
//! sent together within the minute's budget), and an edit of one name and type reads only
//! that type; a changed record is updated in place (PUT), never deleted and made again;
//! the client-side limiter keeps under 60 a minute, and a 409 ("a concurrent request") is
//! retried. A create whose answer was lost, or that meets a 422 `zone_conflict`, is checked
//! by reading its type again: the record there means done.
//!
//! TTLs: none are kept. Plans compare records without them and say so once; no plan
//! fails to converge over a TTL.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Map, Value, json};
use zonectl_core::duration::show;
use zonectl_core::provider::kind::{
    BuildContext, Credential, EnvVar, Progress, ProviderConfig, ProviderKind, parse_settings,
};
use zonectl_core::provider::{
    ApplyReport, Capabilities, Change, Existing, Provider, RateLimit, RecordFilter, RecordId, TtlRule, UpdateStyle,
    ZoneLock, apply_concurrently,
};
use zonectl_core::{Caa, Error, Forward, Name, RData, Record, RecordType, Ttl, Txt};

use crate::http::{About, Api, Auth, ErrorFormat, HttpClient, Paging, RateScope, Request, Response, RetryPolicy};

/// The real API.
pub const DEFAULT_ENDPOINT: &str = "https://api.zone.eu/v2";

/// The record types, as the API's paths name them, with the model's.
const TYPES: [(&str, RecordType); 11] = [
    ("a", RecordType::A),
    ("aaaa", RecordType::Aaaa),
    ("cname", RecordType::Cname),
    ("mx", RecordType::Mx),
    ("ns", RecordType::Ns),
    ("txt", RecordType::Txt),
    ("srv", RecordType::Srv),
    ("caa", RecordType::Caa),
    ("tlsa", RecordType::Tlsa),
    ("sshfp", RecordType::Sshfp),
    ("url", RecordType::Url),
];

/// Records carry no TTL: they are shown with this one.
const SHOWN_TTL: u32 = 3600;

/// The registry's entry: `kind = "zoneid"` (also `zoneee`, lego's name).
pub static KIND: ProviderKind = ProviderKind {
    name: "zoneid",
    aliases: &["zoneee"],
    about: "ZoneID / Zone.eu (api.zone.eu), 60 requests a minute",
    env: &[
        EnvVar { name: "ZONEEE_API_USER", setting: "username", secret: false },
        EnvVar { name: "ZONEEE_API_KEY", setting: "api_key", secret: true },
        EnvVar { name: "ZONEEE_ENDPOINT", setting: "endpoint", secret: false },
    ],
    capabilities,
    parse: parse_settings::<ZoneIdSettings>,
};

/// The API as the HTTP layer needs to know it.
pub const API: Api = Api {
    rate_limit: Some((60, Duration::from_secs(60))),
    errors: ErrorFormat { message: error_message, credentials: "ZONEEE_API_USER / ZONEEE_API_KEY", special: |_| None },
    retry_conflicts: true,
    rate_scope: RateScope::Address,
};

/// The human message is in `X-Status-Message`; a 422's body keys the errors by field.
fn error_message(response: &Response) -> Option<String> {
    let header = response.header("x-status-message").map(str::to_owned);
    let body: Value = serde_json::from_slice(&response.body).ok()?;
    let fields: Vec<String> = body
        .as_object()
        .into_iter()
        .flatten()
        .map(|(field, problems)| match problems {
            Value::Array(list) => {
                format!("{field}: {}", list.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "))
            }
            Value::String(text) => format!("{field}: {text}"),
            other => format!("{field}: {other}"),
        })
        .collect();
    match (header, fields.is_empty()) {
        (Some(h), true) => Some(h),
        (Some(h), false) => Some(format!("{h} ({})", fields.join("; "))),
        (None, false) => Some(fields.join("; ")),
        (None, true) => None,
    }
}

/// What ZoneID can do.
pub fn capabilities() -> Capabilities {
    Capabilities {
        record_types: TYPES.iter().map(|(_, t)| *t).collect(),
        unknown_types: false,
        read_only_types: Vec::new(),
        ttl: TtlRule::None,
        updates: UpdateStyle::PerRecord,
        bulk: false,
        record_ops: true,
        asynchronous: false,
        owns_soa: true,
        owns_apex_ns: true,
        txt_strings_kept: false,
        rate_limit: Some(RateLimit { requests: 60, per: Duration::from_secs(60) }),
        exclusive: Vec::new(),
        untimed: Vec::new(),
        data_rule: Some(|data| match data {
            RData::Url { kind: Forward::Frame, .. } => {
                Some("a ZoneID URL record redirects (301 or 302); it cannot frame a page".into())
            }
            other => crate::root_target(other),
        }),
        manages_zones: false,
    }
}

/// How to reach an account.
#[derive(Debug)]
pub struct ZoneIdConfig {
    /// The ZoneID user name (`ZONEEE_API_USER`).
    pub username: String,
    /// The API key (`ZONEEE_API_KEY`).
    pub api_key: SecretString,
    /// The API root (`…/v2`) or lego's form of it (`…/v2/dns/`).
    pub endpoint: Option<String>,
    /// The zones `zone list` shows (the API has no list of DNS zones).
    pub zones: Vec<Name>,
    /// Retry timing.
    pub retry: RetryPolicy,
    /// The request budget: 60 a minute (tests on a faster clock set another).
    pub rate_limit: (u32, Duration),
    /// Where zone locks live; none: no cross-process locks.
    pub lock_dir: Option<PathBuf>,
}

impl ZoneIdConfig {
    /// A configuration with the defaults.
    pub fn new(username: String, api_key: SecretString) -> ZoneIdConfig {
        ZoneIdConfig {
            username,
            api_key,
            endpoint: None,
            zones: Vec::new(),
            retry: RetryPolicy::default(),
            rate_limit: (60, Duration::from_secs(60)),
            lock_dir: None,
        }
    }
}

/// `[providers.NAME]` of kind `zoneid`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ZoneIdSettings {
    username: Option<String>,
    username_file: Option<PathBuf>,
    api_key: Option<SecretString>,
    api_key_file: Option<PathBuf>,
    endpoint: Option<String>,
    #[serde(default)]
    zones: Vec<Name>,
    /// The budget, where it is not the documented 60 a minute (an emulator on a faster
    /// clock).
    rate_limit: Option<RateLimit>,
}

impl ProviderConfig for ZoneIdSettings {
    fn build(&self, name: &str, ctx: &BuildContext) -> Result<Arc<dyn Provider>, Error> {
        let username = crate::login(ctx, "username", &self.username, self.username_file.as_deref(), "ZONEEE_API_USER")?;
        let api_key = ctx.required(Credential {
            what: "API key",
            setting: "api_key",
            value: self.api_key.as_ref(),
            file: self.api_key_file.as_deref(),
            env: "ZONEEE_API_KEY",
            secret: true,
        })?;
        let mut config = ZoneIdConfig::new(username, api_key);
        config.endpoint = crate::endpoint(ctx, &self.endpoint, "ZONEEE_ENDPOINT")?;
        config.zones = self.zones.clone();
        config.lock_dir = ctx.lock_dir();
        if let Some(limit) = self.rate_limit {
            config.rate_limit = (limit.requests, limit.per);
        }
        Ok(Arc::new(ZoneId::new(name, config, ctx.progress.clone())?))
    }
}

/// A ZoneID account.
pub struct ZoneId {
    http: HttpClient,
    capabilities: Capabilities,
    zones: Vec<Name>,
    /// Time one request takes from the budget, for estimates.
    per_request: Duration,
    progress: Option<Progress>,
}

impl std::fmt::Debug for ZoneId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZoneId").field("http", &self.http).field("zones", &self.zones).finish()
    }
}

/// The API root from an endpoint in either form users have: `…/v2` or lego's `…/v2/dns/`.
fn api_root(endpoint: &str) -> &str {
    let trimmed = endpoint.trim_end_matches('/');
    trimmed.strip_suffix("/dns").unwrap_or(trimmed)
}

impl ZoneId {
    /// The provider instance `name` for `config`; `progress` hears how an apply goes.
    pub fn new(name: &str, config: ZoneIdConfig, progress: Option<Progress>) -> Result<ZoneId, Error> {
        let endpoint = config.endpoint.as_deref().map_or(DEFAULT_ENDPOINT, api_root);
        let auth = Auth::Basic { user: config.username, password: config.api_key };
        let api = Api { rate_limit: Some(config.rate_limit), ..API };
        let http = HttpClient::new(name, endpoint, auth, api, config.retry)?.with_lock_dir(config.lock_dir);
        let (requests, per) = config.rate_limit;
        let mut capabilities = capabilities();
        capabilities.rate_limit = Some(RateLimit { requests, per });
        Ok(ZoneId { http, capabilities, zones: config.zones, per_request: per / requests.max(1), progress })
    }

    fn provider(&self) -> &str {
        self.http.provider()
    }

    fn zone_path(zone: &Name) -> String {
        format!("/dns/{}", zone.as_str().trim_end_matches('.'))
    }

    /// The records of one type.
    async fn read_type(&self, zone: &Name, path_type: &str) -> Result<Vec<Existing>, Error> {
        let request = Request::get(format!("{}/{path_type}", Self::zone_path(zone)));
        let items: Vec<Value> = self.http.get_all(&request, Paging::PagerHeaders, About::zone(zone)).await?;
        items
            .iter()
            .map(|item| {
                wire_record(path_type, item).map_err(|message| Error::Protocol {
                    provider: self.provider().to_owned(),
                    message: format!("zone {zone}: a {path_type} record the API sent cannot be read: {message}"),
                })
            })
            .collect()
    }

    async fn apply_one(&self, zone: &Name, change: &Change) -> Result<(), Error> {
        match change {
            Change::Create(record) => {
                // After a lost answer or a `zone_conflict`, the type is read again: a record
                // already there is the create done.
                let rtype = path_type(record.rtype());
                let path = format!("{}/{rtype}", Self::zone_path(zone));
                let request = Request::json(Method::POST, path, record_wire(record), false);
                let about = About::record(zone, record);
                crate::create_once(&self.http, &request, about, is_zone_conflict, || self.read_type(zone, rtype))
                    .await
                    .map(drop)
            }
            Change::Update { from, to } => {
                let id = crate::record_id(self.provider(), zone, from)?;
                let path = format!("{}/{}/{id}", Self::zone_path(zone), path_type(to.rtype()));
                let request = Request::json(Method::PUT, path, record_wire(to), true);
                self.http.call(&request, About::record(zone, to)).await.map(drop)
            }
            Change::Delete(existing) => {
                let rtype = path_type(existing.record.rtype());
                let id = crate::record_id(self.provider(), zone, existing)?;
                let path = format!("{}/{rtype}/{id}", Self::zone_path(zone));
                crate::delete(&self.http, path, About::record(zone, &existing.record)).await
            }
            Change::ReplaceSet { .. } => Err(Error::Unsupported {
                provider: self.provider().to_owned(),
                message: format!("{change}: ZoneID takes per-record changes"),
            }),
        }
    }
}

/// Whether the error is ZoneID's 422 `zone_conflict` (a duplicate, or a CNAME beside data).
fn is_zone_conflict(error: &Error) -> bool {
    matches!(error, Error::InvalidRecord { message, .. } if message.contains("name: zone_conflict"))
}

fn path_type(rtype: RecordType) -> &'static str {
    TYPES.iter().find(|(_, t)| *t == rtype).map_or("unknown", |(p, _)| p)
}

/// A name as the API writes it: absolute, without the trailing dot.
fn wire_name(name: &Name) -> String {
    name.as_str().trim_end_matches('.').to_owned()
}

/// The API's form of a record.
fn record_wire(record: &Record) -> Value {
    let mut object = Map::new();
    object.insert("name".into(), json!(wire_name(&record.name)));
    let destination = match &record.data {
        RData::A(a) => a.to_string(),
        RData::Aaaa(a) => a.to_string(),
        RData::Cname(n) | RData::Ns(n) => wire_name(n),
        RData::Mx { preference, exchange } => {
            object.insert("priority".into(), json!(preference));
            wire_name(exchange)
        }
        RData::Srv { priority, weight, port, target } => {
            object.insert("priority".into(), json!(priority));
            object.insert("weight".into(), json!(weight));
            object.insert("port".into(), json!(port));
            wire_name(target)
        }
        RData::Txt(txt) => txt.value_lossy(),
        RData::Caa(caa) => {
            object.insert("flag".into(), json!(caa.flags));
            object.insert("tag".into(), json!(caa.tag.as_ref()));
            String::from_utf8_lossy(&caa.value).into_owned()
        }
        RData::Tlsa { usage, selector, matching_type, data } => {
            object.insert("certificate_usage".into(), json!(usage));
            object.insert("selector".into(), json!(selector));
            object.insert("matching_type".into(), json!(matching_type));
            data_encoding::HEXLOWER.encode(data)
        }
        RData::Sshfp { algorithm, fp_type, fingerprint } => {
            object.insert("algorithm".into(), json!(algorithm));
            object.insert("type".into(), json!(fp_type));
            data_encoding::HEXLOWER.encode(fingerprint)
        }
        RData::Url { kind, target } => {
            object.insert("type".into(), json!(if *kind == Forward::Temporary { 302 } else { 301 }));
            target.to_string()
        }
        other => other.to_string(),
    };
    object.insert("destination".into(), json!(destination));
    Value::Object(object)
}

/// A record as the API sends it, in the model.
fn wire_record(path_type: &str, item: &Value) -> Result<Existing, String> {
    let rtype = TYPES.iter().find(|(p, _)| *p == path_type).map(|(_, t)| *t).ok_or("unknown type")?;
    let name = Name::parse(item["name"].as_str().ok_or("no name")?).map_err(|e| e.to_string())?;
    let destination = item["destination"].as_str().ok_or("no destination")?;
    let number = |field: &str| -> Result<u64, String> {
        item[field]
            .as_u64()
            .or_else(|| item[field].as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| format!("{field} is not a number: {}", item[field]))
    };
    let narrow = |field: &str| -> Result<u8, String> {
        u8::try_from(number(field)?).map_err(|_| format!("{field} out of range"))
    };
    let wide = |field: &str| -> Result<u16, String> {
        u16::try_from(number(field)?).map_err(|_| format!("{field} out of range"))
    };
    let host = |s: &str| Name::parse(s).map_err(|e| e.to_string());
    let hex = |s: &str| {
        data_encoding::HEXLOWER_PERMISSIVE.decode(s.as_bytes()).map_err(|_| format!("'{s}' is not hexadecimal"))
    };
    let data = match rtype {
        RecordType::Cname => RData::Cname(host(destination)?),
        RecordType::Ns => RData::Ns(host(destination)?),
        RecordType::Mx => RData::Mx { preference: wide("priority")?, exchange: host(destination)? },
        RecordType::Srv => RData::Srv {
            priority: wide("priority")?,
            weight: wide("weight")?,
            port: wide("port")?,
            target: host(destination)?,
        },
        RecordType::Txt => RData::Txt(Txt::from_value(destination)),
        RecordType::Caa => RData::Caa(Box::new(Caa {
            flags: narrow("flag")?,
            tag: item["tag"].as_str().ok_or("no tag")?.to_ascii_lowercase().into(),
            value: destination.as_bytes().into(),
        })),
        RecordType::Tlsa => RData::Tlsa {
            usage: narrow("certificate_usage")?,
            selector: narrow("selector")?,
            matching_type: narrow("matching_type")?,
            data: hex(destination)?.into(),
        },
        RecordType::Sshfp => RData::Sshfp {
            algorithm: narrow("algorithm")?,
            fp_type: narrow("type")?,
            fingerprint: hex(destination)?.into(),
        },
        RecordType::Url => {
            let kind = if number("type").unwrap_or(301) == 302 { Forward::Temporary } else { Forward::Permanent };
            RData::Url { kind, target: destination.into() }
        }
        _ => RData::parse(rtype, destination, None).map_err(|e| e.to_string())?,
    };
    let id = item["id"].as_str().map(RecordId::from).or_else(|| item["id"].as_u64().map(|n| n.to_string().into()));
    let ttl = Ttl::from_secs(SHOWN_TTL).expect("in range");
    Ok(Existing { record: Record::new(name, ttl, data), id })
}

#[async_trait::async_trait]
impl Provider for ZoneId {
    fn name(&self) -> &str {
        self.provider()
    }

    fn account(&self) -> String {
        self.http.account()
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// The zones configured: the API has no list of DNS zones.
    async fn list_zones(&self) -> Result<Vec<Name>, Error> {
        Ok(self.zones.clone())
    }

    /// Eleven requests, one per type, sent together (the burst the budget allows).
    async fn list_records(&self, zone: &Name) -> Result<Vec<Existing>, Error> {
        let reads = TYPES.iter().map(|(path, _)| self.read_type(zone, path));
        let all = futures_util::future::try_join_all(reads).await?;
        Ok(all.into_iter().flatten().collect())
    }

    /// One request when the filter names a type.
    async fn list_records_filtered(&self, zone: &Name, filter: &RecordFilter) -> Result<Vec<Existing>, Error> {
        let mut records = match filter.rtype {
            Some(rtype) if self.capabilities.supports(rtype) => self.read_type(zone, path_type(rtype)).await?,
            Some(_) => Vec::new(),
            None => self.list_records(zone).await?,
        };
        records.retain(|e| filter.matches(&e.record));
        Ok(records)
    }

    async fn apply(&self, zone: &Name, changes: &[Change]) -> ApplyReport {
        let done = AtomicUsize::new(0);
        let total = changes.len();
        apply_concurrently(changes, 4, |change| {
            let done = &done;
            async move {
                let result = self.apply_one(zone, change).await;
                let made = done.fetch_add(1, Ordering::SeqCst) + 1;
                if let Some(progress) = &self.progress
                    && (made.is_multiple_of(10) || made == total)
                {
                    let left = self.per_request * (total - made) as u32;
                    progress(&format!(
                        "{}: {made} of {total} changes sent, about {} left",
                        self.provider(),
                        show(left)
                    ));
                }
                result
            }
        })
        .await
    }

    async fn lock(&self, zone: &Name) -> Result<ZoneLock, Error> {
        self.http.zone_lock(zone).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_maps_both_ways() {
        let zone = Name::parse("example.com").unwrap();
        let cases = [
            ("a", "A", "192.0.2.1"),
            ("aaaa", "AAAA", "2001:db8::1"),
            ("cname", "CNAME", "www.example.com."),
            ("mx", "MX", "10 mail.example.com."),
            ("ns", "NS", "ns1.example.net."),
            ("txt", "TXT", "\"v=spf1 -all\""),
            ("srv", "SRV", "10 5 5060 sip.example.com."),
            ("caa", "CAA", "128 issue \"letsencrypt.org\""),
            ("tlsa", "TLSA", "3 1 1 ABCDEF"),
            ("sshfp", "SSHFP", "4 2 ABCDEF"),
            ("url", "URL", "302 \"https://example.org/\""),
        ];
        for (path, rtype, data) in cases {
            let rtype: RecordType = rtype.parse().unwrap();
            assert_eq!(path_type(rtype), path);
            let record = Record::new(
                Name::parse("x.example.com").unwrap(),
                Ttl::from_secs(SHOWN_TTL).unwrap(),
                RData::parse(rtype, data, Some(&zone)).unwrap(),
            );
            let mut wire = record_wire(&record);
            wire["id"] = json!("123");
            let back = wire_record(path, &wire).unwrap();
            assert_eq!(back.record, record, "{rtype} {data}: {wire}");
            assert_eq!(back.id.as_deref(), Some("123"));
        }
    }

    #[test]
    fn endpoints_in_either_form() {
        assert_eq!(api_root("https://api.zone.eu/v2"), "https://api.zone.eu/v2");
        assert_eq!(api_root("https://api.zone.eu/v2/dns/"), "https://api.zone.eu/v2");
        assert_eq!(api_root("http://127.0.0.1:9/v2/dns"), "http://127.0.0.1:9/v2");
    }
}

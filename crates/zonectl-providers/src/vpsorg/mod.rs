//! VPS.org DNS API. Sources: `seeds/003_f28fba6e8aa66203.txt` and the VPS.org section of
//! `PROVIDERS.md`.
//!
//! A Django REST Framework service: every path ends in `/`; errors are `{"detail"}` (or,
//! for a field, `{"detail","error_code","field"}` or `{"field":["…"]}`); zone lists come
//! paged (`next` links, followed to the end) or as a bare array; ids are UUIDs. Records are
//! created under their zone and changed at `/dns-records/{uuid}/`: PATCH for a record that
//! changes in place, DELETE to remove. Names are relative (`@` the apex). MX and SRV carry
//! their priority apart from `value`; SRV's `value` is `weight port target`, read also in
//! the document's other forms (`port target`, or the whole `priority weight port target`).
//! TXT is raw; CAA in presentation form. The provider's NS records are left alone.
//!
//! The one provider whose API makes and deletes zones: `zonectl zone create` and `zone
//! delete`. Tokens carry scopes: a read-only one is found out on the first write (403,
//! naming the scope it lacks), and nothing more is sent.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};
use zonectl_core::provider::kind::{BuildContext, Credential, EnvVar, ProviderConfig, ProviderKind, parse_settings};
use zonectl_core::provider::{
    ApplyReport, Capabilities, Change, Existing, Provider, RecordId, TtlRule, UpdateStyle, ZoneLock, apply_concurrently,
};
use zonectl_core::{Error, Name, RData, Record, RecordType, Ttl, Txt};

use crate::http::{About, Api, Auth, ErrorFormat, Exchange, HttpClient, Paging, RateScope, Request, RetryPolicy};

/// The real API.
pub const DEFAULT_ENDPOINT: &str = "https://admin.vps.org/api/v1";

/// The registry's entry: `kind = "vpsorg"`.
pub static KIND: ProviderKind = ProviderKind {
    name: "vpsorg",
    aliases: &[],
    about: "VPS.org (admin.vps.org), zones made through the API",
    env: &[
        EnvVar { name: "VPS_API_TOKEN", setting: "token", secret: true },
        EnvVar { name: "VPS_API_URL", setting: "endpoint", secret: false },
    ],
    capabilities,
    parse: parse_settings::<VpsOrgSettings>,
};

/// No public client documents a rate limit; a throttle's 429 and Retry-After are honoured.
pub const API: Api = Api {
    rate_limit: None,
    errors: ErrorFormat {
        message: |r| serde_json::from_slice(&r.body).ok().and_then(|body| error_message(&body)),
        credentials: "VPS_API_TOKEN",
        special: read_only_token,
    },
    retry_conflicts: false,
    rate_scope: RateScope::Account,
};

/// DRF's error bodies: `{"detail"}`, with `field` where there is one, or `{"field": [...]}`.
fn error_message(body: &Value) -> Option<String> {
    let object = body.as_object()?;
    if let Some(detail) = object.get("detail").and_then(Value::as_str) {
        return Some(match object.get("field").and_then(Value::as_str) {
            Some(field) if !detail.contains(field) => format!("{field}: {detail}"),
            _ => detail.to_owned(),
        });
    }
    let fields: Vec<String> = object
        .iter()
        .map(|(field, v)| match v {
            Value::Array(list) => {
                format!("{field}: {}", list.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" "))
            }
            other => format!("{field}: {other}"),
        })
        .collect();
    (!fields.is_empty()).then(|| fields.join("; "))
}

/// A 403 on a write is a token without the scope the write needs: say so plainly.
fn read_only_token(x: &Exchange<'_>) -> Option<Error> {
    if x.response.status.as_u16() != 403 || !x.request.is_write() {
        return None;
    }
    Some(Error::PermissionDenied {
        provider: x.provider.to_owned(),
        message: format!(
            "{} (the token may read but not change: make one with the dns:create, dns:update and dns:delete scopes)",
            x.message
        ),
    })
}

/// What VPS.org can do.
pub fn capabilities() -> Capabilities {
    use RecordType::*;
    Capabilities {
        record_types: vec![A, Aaaa, Cname, Mx, Txt, Ns, Srv, Caa],
        ttl: TtlRule::Range { min: 1, max: i32::MAX as u32, step: 1, default: 3600 },
        updates: UpdateStyle::PerRecord,
        owns_soa: true,
        owns_apex_ns: true,
        txt_strings_kept: false,
        manages_zones: true,
        data_rule: Some(crate::root_target),
        ..Capabilities::default()
    }
}

/// How to reach an account.
#[derive(Debug)]
pub struct VpsOrgConfig {
    /// The API token (`VPS_API_TOKEN`), `vps_…`.
    pub token: SecretString,
    /// Another endpoint (`VPS_API_URL`, an emulator).
    pub endpoint: Option<String>,
    /// Retry timing.
    pub retry: RetryPolicy,
    /// Where zone locks live; none: no cross-process locks.
    pub lock_dir: Option<PathBuf>,
}

impl VpsOrgConfig {
    /// A configuration with the defaults.
    pub fn new(token: SecretString) -> VpsOrgConfig {
        VpsOrgConfig { token, endpoint: None, retry: RetryPolicy::default(), lock_dir: None }
    }
}

/// `[providers.NAME]` of kind `vpsorg`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct VpsOrgSettings {
    token: Option<SecretString>,
    token_file: Option<PathBuf>,
    endpoint: Option<String>,
}

impl ProviderConfig for VpsOrgSettings {
    fn build(&self, name: &str, ctx: &BuildContext) -> Result<Arc<dyn Provider>, Error> {
        let token = ctx.required(Credential {
            what: "API token",
            setting: "token",
            value: self.token.as_ref(),
            file: self.token_file.as_deref(),
            env: "VPS_API_TOKEN",
            secret: true,
        })?;
        let mut config = VpsOrgConfig::new(token);
        config.endpoint = crate::endpoint(ctx, &self.endpoint, "VPS_API_URL")?;
        config.lock_dir = ctx.lock_dir();
        Ok(Arc::new(VpsOrg::new(name, config)?))
    }
}

/// A VPS.org account.
#[derive(Debug)]
pub struct VpsOrg {
    http: HttpClient,
    capabilities: Capabilities,
    zones: Mutex<HashMap<Name, String>>,
    left_out: zonectl_core::provider::LeftOut,
}

impl VpsOrg {
    /// The provider instance `name` for `config`.
    pub fn new(name: &str, config: VpsOrgConfig) -> Result<VpsOrg, Error> {
        let endpoint = config.endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT);
        let http = HttpClient::new(name, endpoint, Auth::Bearer(config.token), API, config.retry)?
            .with_lock_dir(config.lock_dir);
        Ok(VpsOrg {
            http,
            capabilities: capabilities(),
            zones: Mutex::new(HashMap::new()),
            left_out: Default::default(),
        })
    }

    fn provider(&self) -> &str {
        self.http.provider()
    }

    /// The UUID of `zone` (its list read once).
    async fn uuid(&self, zone: &Name) -> Result<String, Error> {
        if let Some(uuid) = self.zones.lock().expect("not poisoned").get(zone) {
            return Ok(uuid.clone());
        }
        self.list_zones().await?;
        self.zones
            .lock()
            .expect("not poisoned")
            .get(zone)
            .cloned()
            .ok_or_else(|| Error::NotFound { provider: self.provider().to_owned(), what: format!("zone {zone}") })
    }

    async fn read(&self, zone: &Name, uuid: &str) -> Result<Vec<Existing>, Error> {
        let request = Request::get(format!("/dns-zones/{uuid}/records/"));
        let items: Vec<Value> = self.http.get_all(&request, Paging::NextLink, About::zone(zone)).await?;
        let mut records = Vec::with_capacity(items.len());
        let mut skipped = Vec::new();
        for item in &items {
            match wire_record(zone, item) {
                Some(Ok(existing)) => records.push(existing),
                Some(Err(message)) => {
                    return Err(Error::Protocol {
                        provider: self.provider().to_owned(),
                        message: format!("zone {zone}: a record the API sent cannot be read: {message}"),
                    });
                }
                None => skipped.push(format!(
                    "{} {} {}",
                    item["record_type"].as_str().unwrap_or("?"),
                    item["name"].as_str().unwrap_or("?"),
                    item["value"].as_str().unwrap_or("")
                )),
            }
        }
        self.left_out.set(zone, skipped);
        Ok(records)
    }

    async fn apply_one(&self, zone: &Name, uuid: &str, change: &Change) -> Result<(), Error> {
        match change {
            Change::Create(record) => {
                let path = format!("/dns-zones/{uuid}/records/");
                let request = Request::json(Method::POST, path, record_wire(zone, record), false);
                let about = About::record(zone, record);
                crate::create_once(&self.http, &request, about, |_| false, || self.read(zone, uuid)).await.map(drop)
            }
            Change::Update { from, to } => {
                let path = format!("/dns-records/{}/", crate::record_id(self.provider(), zone, from)?);
                let request = Request::json(Method::PATCH, path, record_wire(zone, to), true);
                self.http.call(&request, About::record(zone, to)).await.map(drop)
            }
            Change::Delete(existing) => {
                let path = format!("/dns-records/{}/", crate::record_id(self.provider(), zone, existing)?);
                crate::delete(&self.http, path, About::record(zone, &existing.record)).await
            }
            Change::ReplaceSet { .. } => Err(Error::Unsupported {
                provider: self.provider().to_owned(),
                message: format!("{change}: VPS.org takes per-record changes"),
            }),
        }
    }
}

/// The API's form of a record.
fn record_wire(zone: &Name, record: &Record) -> Value {
    let name = record.name.relative_to(zone).into_owned();
    // The root stays `.` (trimmed it would be nothing, and the value read back wrong).
    let host = |n: &Name| if n.as_str() == "." { ".".to_owned() } else { n.as_str().trim_end_matches('.').to_owned() };
    let (value, priority) = match &record.data {
        RData::Mx { preference, exchange } => (host(exchange), Some(*preference)),
        RData::Srv { priority, weight, port, target } => (format!("{weight} {port} {}", host(target)), Some(*priority)),
        RData::Cname(n) | RData::Ns(n) => (host(n), None),
        RData::Txt(txt) => (txt.value_lossy(), None),
        other => (other.to_string(), None),
    };
    json!({ "record_type": record.rtype().to_string(), "name": name, "value": value, "ttl": record.ttl.as_secs(), "priority": priority })
}

/// A record as the API sends it, in the model; `None` for a type the model lacks.
fn wire_record(zone: &Name, item: &Value) -> Option<Result<Existing, String>> {
    let rtype: RecordType =
        item["record_type"].as_str()?.parse().ok().filter(|t| capabilities().record_types.contains(t))?;
    let parse = || -> Result<Existing, String> {
        let name = Name::parse_relative(item["name"].as_str().ok_or("no name")?, zone).map_err(|e| e.to_string())?;
        let ttl = Ttl::from_secs(u32::try_from(item["ttl"].as_u64().ok_or("no ttl")?).map_err(|_| "ttl out of range")?)
            .ok_or("ttl out of range")?;
        let value = item["value"].as_str().ok_or("no value")?;
        let priority = || -> Result<u16, String> {
            item["priority"]
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .ok_or_else(|| format!("{rtype} without a priority"))
        };
        let host = |v: &str| Name::parse(v).map_err(|e| e.to_string());
        let data = match rtype {
            RecordType::Mx => RData::Mx { preference: priority()?, exchange: host(value)? },
            RecordType::Srv => {
                // `weight port target`; tolerated: `port target`, and the whole
                // `priority weight port target` (the priority field wins).
                let fields: Vec<&str> = value.split_whitespace().collect();
                let number =
                    |s: &str| s.parse::<u16>().map_err(|_| format!("SRV value '{value}' is not `weight port target`"));
                let (weight, port, target) = match fields.as_slice() {
                    [port, target] => (0, number(port)?, *target),
                    [weight, port, target] => (number(weight)?, number(port)?, *target),
                    [_, weight, port, target] => (number(weight)?, number(port)?, *target),
                    _ => return Err(format!("SRV value '{value}' is not `weight port target`")),
                };
                RData::Srv { priority: priority()?, weight, port, target: host(target)? }
            }
            RecordType::Cname => RData::Cname(host(value)?),
            RecordType::Ns => RData::Ns(host(value)?),
            RecordType::Txt => RData::Txt(Txt::from_value(value)),
            _ => RData::parse(rtype, value, None).map_err(|e| e.to_string())?,
        };
        let id = item["uuid"].as_str().map(RecordId::from);
        Ok(Existing { record: Record::new(name, ttl, data), id })
    };
    Some(parse())
}

#[async_trait::async_trait]
impl Provider for VpsOrg {
    fn name(&self) -> &str {
        self.provider()
    }

    fn account(&self) -> String {
        self.http.account()
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// Every page of the zone list (or the bare array some answers are).
    async fn list_zones(&self) -> Result<Vec<Name>, Error> {
        let items: Vec<Value> =
            self.http.get_all(&Request::get("/dns-zones/"), Paging::NextLink, About::default()).await?;
        let mut known = self.zones.lock().expect("not poisoned");
        let mut zones = Vec::with_capacity(items.len());
        for item in &items {
            let (Some(domain), Some(uuid)) = (item["domain"].as_str(), item["uuid"].as_str()) else { continue };
            let Ok(zone) = Name::parse(domain) else { continue };
            known.insert(zone.clone(), uuid.to_owned());
            zones.push(zone);
        }
        zones.sort();
        Ok(zones)
    }

    fn left_out(&self, zone: &Name) -> Vec<String> {
        self.left_out.get(zone)
    }

    async fn list_records(&self, zone: &Name) -> Result<Vec<Existing>, Error> {
        let uuid = self.uuid(zone).await?;
        self.read(zone, &uuid).await
    }

    async fn apply(&self, zone: &Name, changes: &[Change]) -> ApplyReport {
        let uuid = match self.uuid(zone).await {
            Ok(uuid) => uuid,
            Err(e) => return ApplyReport::not_started(e, changes.len()),
        };
        apply_concurrently(changes, 8, |change| self.apply_one(zone, &uuid, change)).await
    }

    async fn lock(&self, zone: &Name) -> Result<ZoneLock, Error> {
        self.http.zone_lock(zone).await
    }

    async fn create_zone(&self, zone: &Name) -> Result<(), Error> {
        let body = json!({ "domain": zone.as_str().trim_end_matches('.') });
        let response =
            self.http.call(&Request::json(Method::POST, "/dns-zones/", body, false), About::zone(zone)).await?;
        let created: Value = response.json(self.provider())?;
        if let Some(uuid) = created["uuid"].as_str() {
            self.zones.lock().expect("not poisoned").insert(zone.clone(), uuid.to_owned());
        }
        Ok(())
    }

    async fn delete_zone(&self, zone: &Name) -> Result<(), Error> {
        let uuid = self.uuid(zone).await?;
        self.http.call(&Request::delete(format!("/dns-zones/{uuid}/")), About::zone(zone)).await?;
        self.zones.lock().expect("not poisoned").remove(zone);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_maps_both_ways_and_srv_in_every_form() {
        let zone = Name::parse("example.com").unwrap();
        let cases = [
            ("@", "A", "192.0.2.1"),
            ("www", "AAAA", "2001:db8::1"),
            ("alias", "CNAME", "www.example.com."),
            ("@", "MX", "10 mail.example.com."),
            ("@", "TXT", "\"v=spf1 -all\""),
            ("sub", "NS", "ns1.example.net."),
            ("_sip._tcp", "SRV", "10 5 5060 sip.example.com."),
            // A root target stays `.` (it was sent as nothing and read back as `0 0 0 0.`).
            ("_nope._tcp", "SRV", "0 0 0 ."),
            ("@", "MX", "0 ."),
            ("@", "CAA", "0 issue \"letsencrypt.org\""),
        ];
        for (name, rtype, data) in cases {
            let rtype: RecordType = rtype.parse().unwrap();
            let record = Record::new(
                Name::parse_relative(name, &zone).unwrap(),
                Ttl::from_secs(600).unwrap(),
                RData::parse(rtype, data, Some(&zone)).unwrap(),
            );
            let mut wire = record_wire(&zone, &record);
            wire["uuid"] = json!("0e6f2d8a-1b2c-4d3e-a4f5-000000000001");
            let back = wire_record(&zone, &wire).unwrap().unwrap();
            assert_eq!(back.record, record, "{rtype} {data}: {wire}");
        }
        let srv = |value: &str| {
            let item = json!({"uuid": "u", "record_type": "SRV", "name": "_s._tcp", "value": value, "ttl": 60, "priority": 10});
            wire_record(&zone, &item).unwrap().unwrap().record.data.to_string()
        };
        assert_eq!(srv("5 5060 sip.example.com"), "10 5 5060 sip.example.com.");
        assert_eq!(srv("5060 sip.example.com"), "10 0 5060 sip.example.com.");
        assert_eq!(srv("99 5 5060 sip.example.com"), "10 5 5060 sip.example.com.");
    }
}

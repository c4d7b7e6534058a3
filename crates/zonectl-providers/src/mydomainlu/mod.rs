//! mydomain.lu (POST Luxembourg). Sources: `seeds/000_c113ce6a9cd501d3.txt` and the
//! mydomain.lu section of `PROVIDERS.md`; no public client exists.
//!
//! Every change is an asynchronous *order*: the PATCH answers at once with a ticket, and the
//! change happens seconds later. Orders are processed one at a time per account, an order
//! sent while another is pending fails, and there is no way to ask about a ticket: the only
//! proof of completion is reading the records again. So this provider sends one order,
//! reads the records until the change shows (with a bounded backoff), and only then sends
//! the next; a lock per account — in the process and, through a lock file, across
//! processes — keeps every zonectl on the machine in that queue. There is no update: the
//! engine plans remove + add, adding a new A before removing the old one so that the name
//! keeps answering, and removing a CNAME before adding its replacement.
//!
//! Only A, TXT and CNAME can be changed; MX and NS records are shown and read-only. The API
//! has no zone list: the zones are the ones configured. `ttl: 0` is the zone's default.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};
use zonectl_core::duration::show;
use zonectl_core::provider::kind::{
    BuildContext, Credential, EnvVar, Progress, ProviderConfig, ProviderKind, parse_settings,
};
use zonectl_core::provider::{
    ApplyReport, Capabilities, Change, Existing, Provider, TtlRule, UpdateStyle, ZoneLock, apply_each,
};
use zonectl_core::{Error, Name, RData, Record, RecordType, Ttl, Txt};

use crate::http::{About, Api, Auth, ErrorFormat, Exchange, HttpClient, RateScope, Request, RetryPolicy};

/// The real API.
pub const DEFAULT_ENDPOINT: &str = "https://api.mydomain.lu";

/// The registry's entry: `kind = "mydomainlu"`.
pub static KIND: ProviderKind = ProviderKind {
    name: "mydomainlu",
    aliases: &[],
    about: "mydomain.lu (POST Luxembourg), asynchronous orders",
    env: &[
        EnvVar { name: "MYDOMAINLU_USERNAME", setting: "username", secret: false },
        EnvVar { name: "MYDOMAINLU_PASSWORD", setting: "password", secret: true },
    ],
    capabilities,
    parse: parse_settings::<MydomainLuSettings>,
};

/// No documented limit; one order at a time bounds the rate anyway.
const API: Api = Api {
    rate_limit: None,
    errors: ErrorFormat {
        message: |r| serde_json::from_slice(&r.body).ok().and_then(|body| error_message(&body)),
        credentials: "MYDOMAINLU_USERNAME / MYDOMAINLU_PASSWORD; two-factor authentication must be off",
        special: order_refused,
    },
    retry_conflicts: false,
    rate_scope: RateScope::Account,
};

/// The message of an error body: the first of `errorMsg`, else `message`.
fn error_message(body: &Value) -> Option<String> {
    body["errorMsg"]
        .as_array()
        .and_then(|m| m.first())
        .and_then(Value::as_str)
        .or_else(|| body["message"].as_str())
        .map(str::to_owned)
}

/// A refused order (HTTP 400 with an EPP code) is about its record.
fn order_refused(x: &Exchange<'_>) -> Option<Error> {
    if x.response.status.as_u16() != 400 {
        return None;
    }
    let zone = x.about.zone?;
    Some(Error::InvalidRecord {
        provider: x.provider.to_owned(),
        zone: zone.clone(),
        record: x.about.record.map(ToString::to_string),
        message: x.message.clone(),
    })
}

/// How long to wait for an order.
#[derive(Debug, Clone, Copy)]
pub struct WaitPolicy {
    /// The first re-read after an order; doubled up to `max_poll`.
    pub first_poll: Duration,
    /// The longest pause between re-reads.
    pub max_poll: Duration,
    /// Past this, the order is reported unconfirmed (it may still complete).
    pub timeout: Duration,
}

impl Default for WaitPolicy {
    fn default() -> WaitPolicy {
        WaitPolicy {
            first_poll: Duration::from_millis(250),
            max_poll: Duration::from_secs(1),
            timeout: Duration::from_secs(180),
        }
    }
}

/// The shortest pause between re-reads, whatever the policy says: never a busy loop on
/// the API.
const MIN_STEP: Duration = Duration::from_millis(10);

/// How to reach an account.
#[derive(Debug)]
pub struct MydomainLuConfig {
    /// The web login (`MYDOMAINLU_USERNAME`).
    pub username: String,
    /// Its password (`MYDOMAINLU_PASSWORD`).
    pub password: SecretString,
    /// The account's zones (the API cannot list them).
    pub zones: Vec<Name>,
    /// Another endpoint (an emulator).
    pub endpoint: Option<String>,
    /// Retry timing of single requests.
    pub retry: RetryPolicy,
    /// Waiting for orders.
    pub wait: WaitPolicy,
    /// Where the per-account lock file lives, so that zonectl processes take turns; none:
    /// only this process's tasks are ordered.
    pub lock_dir: Option<PathBuf>,
}

impl MydomainLuConfig {
    /// A configuration with the defaults.
    pub fn new(username: String, password: SecretString, zones: Vec<Name>) -> MydomainLuConfig {
        MydomainLuConfig {
            username,
            password,
            zones,
            endpoint: None,
            retry: RetryPolicy::default(),
            wait: WaitPolicy::default(),
            lock_dir: None,
        }
    }
}

/// `[providers.NAME]` of kind `mydomainlu`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MydomainLuSettings {
    username: Option<String>,
    username_file: Option<PathBuf>,
    password: Option<SecretString>,
    password_file: Option<PathBuf>,
    #[serde(default)]
    zones: Vec<Name>,
    endpoint: Option<String>,
}

impl ProviderConfig for MydomainLuSettings {
    fn build(&self, name: &str, ctx: &BuildContext) -> Result<Arc<dyn Provider>, Error> {
        let username =
            crate::login(ctx, "username", &self.username, self.username_file.as_deref(), "MYDOMAINLU_USERNAME")?;
        let password = ctx.required(Credential {
            what: "password",
            setting: "password",
            value: self.password.as_ref(),
            file: self.password_file.as_deref(),
            env: "MYDOMAINLU_PASSWORD",
            secret: true,
        })?;
        let mut config = MydomainLuConfig::new(username, password, self.zones.clone());
        config.endpoint = self.endpoint.clone();
        config.lock_dir = ctx.lock_dir();
        Ok(Arc::new(MydomainLu::new(name, config, ctx.progress.clone())?))
    }
}

/// A mydomain.lu account.
pub struct MydomainLu {
    http: HttpClient,
    capabilities: Capabilities,
    zones: Vec<Name>,
    wait: WaitPolicy,
    progress: Option<Progress>,
    /// How long the last order was seen *not yet* done: a lower bound on the order delay,
    /// so the next order is first re-read then, and closely after.
    learned_delay: Mutex<Option<Duration>>,
}

impl std::fmt::Debug for MydomainLu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MydomainLu").field("http", &self.http).field("zones", &self.zones).finish()
    }
}

/// What mydomain.lu can do.
pub fn capabilities() -> Capabilities {
    Capabilities {
        record_types: vec![RecordType::A, RecordType::Txt, RecordType::Cname, RecordType::Mx, RecordType::Ns],
        read_only_types: vec![RecordType::Mx, RecordType::Ns],
        ttl: TtlRule::Range { min: 0, max: i32::MAX as u32, step: 1, default: 0 },
        updates: UpdateStyle::RemoveAdd,
        asynchronous: true,
        owns_soa: true,
        owns_apex_ns: true,
        txt_strings_kept: false,
        ..Capabilities::default()
    }
}

impl MydomainLu {
    /// The provider instance `name` for `config`; `progress` receives a line per order.
    pub fn new(name: &str, config: MydomainLuConfig, progress: Option<Progress>) -> Result<MydomainLu, Error> {
        let endpoint = config.endpoint.clone().unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        let auth = Auth::Basic { user: config.username, password: config.password };
        let http = HttpClient::new(name, &endpoint, auth, API, config.retry)?.with_lock_dir(config.lock_dir);
        Ok(MydomainLu {
            http,
            capabilities: capabilities(),
            zones: config.zones,
            wait: config.wait,
            progress,
            learned_delay: Mutex::new(None),
        })
    }

    fn provider(&self) -> &str {
        self.http.provider()
    }

    fn domain(zone: &Name) -> &str {
        zone.as_str().trim_end_matches('.')
    }

    async fn read(&self, zone: &Name) -> Result<Vec<Existing>, Error> {
        let request = Request::get(format!("/zones/{}/records", Self::domain(zone)));
        let groups: Vec<Value> = self.http.call(&request, About::zone(zone)).await?.json(self.provider())?;
        let mut records = Vec::new();
        for group in &groups {
            let Some(group) = group.as_object() else { continue };
            for (key, list) in group {
                let Some(rtype) = key.strip_suffix("ResourceRecord").and_then(|t| t.parse::<RecordType>().ok()) else {
                    continue;
                };
                for item in list.as_array().into_iter().flatten() {
                    let record = wire_record(rtype, item).map_err(|message| Error::Protocol {
                        provider: self.provider().to_owned(),
                        message: format!("zone {zone}: a {rtype} record the API sent cannot be read: {message}"),
                    })?;
                    records.push(Existing { record, id: None });
                }
            }
        }
        Ok(records)
    }

    /// Sends one order and waits until the records show it. An order the zone already
    /// reflects (the record exists, or is gone) counts as done: a later apply picks up
    /// after one that timed out.
    async fn order(&self, zone: &Name, add: bool, record: &Record) -> Result<(), Error> {
        let (kind, field) = match record.rtype() {
            RecordType::A => ("ARecord", "hostAddress"),
            RecordType::Txt => ("TXTRecord", "text"),
            RecordType::Cname => ("CNAMERecord", "hostname"),
            other => {
                return Err(Error::Unsupported {
                    provider: self.provider().to_owned(),
                    message: format!("{other} records cannot be changed at mydomain.lu"),
                });
            }
        };
        let value = match &record.data {
            RData::Txt(txt) => txt.value_lossy(),
            other => other.to_string(),
        };
        let body = json!({ "name": record.name.as_str(), "ttl": record.ttl.as_secs().to_string(), "active": "true", field: value });
        let action = if add { "add" } else { "remove" };
        let path = format!("/zones/{}/records/{action}/{kind}", Self::domain(zone));
        let about = About::record(zone, record);
        let started = tokio::time::Instant::now();
        // The document says only that an order sent while another runs "will fail". It may
        // be refused at once (2502), or accepted with a ticket and then never made, or made
        // late: an order that has not shown well past its delay is sent again — safe, since
        // a repeated add is refused as existing and a repeated remove as missing.
        let what = format!("{action} {} {} {value}", record.name, record.rtype());
        let mut earlier: Option<String> = None;
        loop {
            let ticket = loop {
                let request = Request::json(Method::PATCH, path.clone(), body.clone(), true);
                let response = self.http.send(&request).await?;
                let answer: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
                match answer["code"].as_u64() {
                    Some(1000 | 1001) => break answer["ticket"].as_str().unwrap_or("?").to_owned(),
                    Some(2302) if add => return Ok(()),
                    Some(2303) if !add => return Ok(()),
                    // Another order of this account (from another tool) is still running.
                    Some(2502) if started.elapsed() < self.wait.timeout => {
                        tokio::time::sleep(self.wait.first_poll.max(MIN_STEP)).await;
                        continue;
                    }
                    // Sent again and the time is up: the first order may still complete.
                    Some(2502) if earlier.is_some() => {
                        return Err(self.unconfirmed(zone, earlier.as_deref().unwrap_or("?"), &what, started));
                    }
                    _ => return Err(self.http.error(&response, &request, about)),
                }
            };
            if let Some(progress) = &self.progress {
                progress(&format!("order {ticket}: {what}: pending"));
            }
            if self.await_order(zone, add, record, started, &ticket, &what).await? {
                return Ok(());
            }
            tracing::info!(
                target: "zonectl::notice",
                "{}: zone {zone}: order {ticket} ({what}) has not shown well past its delay (an order accepted \
                 while another ran may be dropped); sending it again",
                self.provider()
            );
            earlier = Some(ticket);
        }
    }

    /// An order not seen done by the end of the wait: it may still complete.
    fn unconfirmed(&self, zone: &Name, ticket: &str, what: &str, started: tokio::time::Instant) -> Error {
        Error::Transport {
            provider: self.provider().to_owned(),
            message: format!(
                "zone {zone}: order {ticket} ({what}) not confirmed after {}; it may still complete. The orders \
                 before it are confirmed, the ones after it were not sent; run apply again, which plans from the \
                 zone as it is then",
                show(started.elapsed())
            ),
            ambiguous: true,
            source: None,
        }
    }

    /// Re-reads the zone until the order shows. Until an order's delay is known, re-read
    /// after `first_poll`, doubling the pause; once known, wait about that long and then
    /// re-read in small steps, so that N orders take close to N times the delay.
    async fn await_order(
        &self,
        zone: &Name,
        add: bool,
        record: &Record,
        started: tokio::time::Instant,
        ticket: &str,
        what: &str,
    ) -> Result<bool, Error> {
        let max_poll = self.wait.max_poll.max(MIN_STEP);
        let learned = *self.learned_delay.lock().expect("not poisoned");
        // Past this without the change, the order is taken for dropped: three delays (one
        // order of another tool's may run before it), or a sixth of the whole wait while
        // the delay is not known yet.
        let resend_after = learned.map_or(self.wait.timeout / 6, |delay| (delay * 3).max(MIN_STEP * 10));
        let (mut pause, step) = match learned {
            Some(delay) => (delay, Some((delay / 20).clamp(MIN_STEP, max_poll))),
            None => (self.wait.first_poll.clamp(MIN_STEP, max_poll), None),
        };
        let accepted = tokio::time::Instant::now();
        let mut not_yet: Option<Duration> = None;
        loop {
            tokio::time::sleep(pause).await;
            let held = self.read(zone).await?;
            let present = crate::holds(&held, record);
            if present == add {
                // Done at the first look: the delay may be shorter than thought.
                let bound = not_yet.unwrap_or_else(|| accepted.elapsed().mul_f64(0.8));
                *self.learned_delay.lock().expect("not poisoned") = Some(bound);
                return Ok(true);
            }
            not_yet = Some(accepted.elapsed());
            if accepted.elapsed() >= resend_after && started.elapsed() < self.wait.timeout {
                return Ok(false);
            }
            if started.elapsed() >= self.wait.timeout {
                return Err(self.unconfirmed(zone, ticket, what, started));
            }
            pause = match step {
                Some(step) => step,
                None => (pause * 2).min(max_poll),
            };
        }
    }
}

/// A record from its group in the records listing.
fn wire_record(rtype: RecordType, item: &Value) -> Result<Record, String> {
    let name = Name::parse(item["name"].as_str().ok_or("no name")?).map_err(|e| e.to_string())?;
    let ttl =
        Ttl::from_secs(u32::try_from(item["ttl"].as_u64().unwrap_or(0)).unwrap_or(0)).ok_or("TTL out of range")?;
    let text = |field: &str| item[field].as_str().map(str::to_owned).ok_or_else(|| format!("no {field}"));
    let data = match rtype {
        RecordType::A => RData::parse(rtype, &text("hostAddress")?, None).map_err(|e| e.to_string())?,
        RecordType::Txt => RData::Txt(Txt::from_value(text("text")?)),
        RecordType::Mx => {
            let preference = item["preference"].as_u64().or_else(|| item["priority"].as_u64()).unwrap_or(0);
            RData::parse(rtype, &format!("{preference} {}", text("hostname")?), None).map_err(|e| e.to_string())?
        }
        _ => RData::parse(rtype, &text("hostname")?, None).map_err(|e| e.to_string())?,
    };
    Ok(Record::new(name, ttl, data))
}

#[async_trait::async_trait]
impl Provider for MydomainLu {
    fn name(&self) -> &str {
        self.provider()
    }

    fn account(&self) -> String {
        self.http.account()
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn list_zones(&self) -> Result<Vec<Name>, Error> {
        Ok(self.zones.clone())
    }

    async fn list_records(&self, zone: &Name) -> Result<Vec<Existing>, Error> {
        self.read(zone).await
    }

    async fn apply(&self, zone: &Name, changes: &[Change]) -> ApplyReport {
        // One queue per account: this process's tasks, and other processes.
        let _turn = match self.http.lock_named("orders").await {
            Ok(lock) => lock,
            Err(e) => return ApplyReport::not_started(e, changes.len()),
        };
        apply_each(changes, |change| async move {
            match change {
                Change::Create(record) => self.order(zone, true, record).await,
                Change::Delete(existing) => self.order(zone, false, &existing.record).await,
                other => Err(Error::Unsupported {
                    provider: self.provider().to_owned(),
                    message: format!("{other}: mydomain.lu takes remove + add"),
                }),
            }
        })
        .await
    }

    async fn lock(&self, zone: &Name) -> Result<ZoneLock, Error> {
        self.http.zone_lock(zone).await
    }
}

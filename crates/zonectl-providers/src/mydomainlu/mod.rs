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

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};
use zonectl_core::provider::{ApplyReport, Capabilities, Change, Existing, Outcome, Provider, TtlRule, UpdateStyle};
use zonectl_core::{Error, Name, RData, Record, RecordType, Ttl, Txt};

use crate::http::{Auth, HttpClient, Request, Response, RetryPolicy, Trace};

/// The real API.
pub const DEFAULT_ENDPOINT: &str = "https://api.mydomain.lu";

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

/// The shortest pause between re-reads once the order delay is known.
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

/// A mydomain.lu account.
pub struct MydomainLu {
    http: HttpClient,
    capabilities: Capabilities,
    zones: Vec<Name>,
    wait: WaitPolicy,
    queue: Arc<tokio::sync::Mutex<()>>,
    lock_file: Option<PathBuf>,
    progress: Option<Trace>,
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
        unknown_types: false,
        read_only_types: vec![RecordType::Mx, RecordType::Ns],
        ttl: TtlRule::Range { min: 0, max: i32::MAX as u32, step: 1, default: 0 },
        updates: UpdateStyle::RemoveAdd,
        bulk: false,
        asynchronous: true,
        owns_soa: true,
        owns_apex_ns: true,
        txt_strings_kept: false,
        rate_limit: None,
    }
}

/// The in-process queue of an account, shared by every provider instance on it.
fn account_queue(key: &str) -> Arc<tokio::sync::Mutex<()>> {
    static QUEUES: OnceLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    QUEUES.get_or_init(Default::default).lock().expect("not poisoned").entry(key.to_owned()).or_default().clone()
}

impl MydomainLu {
    /// The provider instance `name` for `config`; `progress` receives a line per order.
    pub fn new(
        name: &str,
        config: MydomainLuConfig,
        trace: Option<Trace>,
        progress: Option<Trace>,
    ) -> Result<MydomainLu, Error> {
        let endpoint = config.endpoint.clone().unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        let account = format!("{} {}", endpoint.trim_end_matches('/'), config.username);
        let lock_file = config.lock_dir.as_ref().map(|dir| {
            let digest =
                account.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
            dir.join(format!("mydomainlu-{digest:016x}.lock"))
        });
        let auth = Auth::Basic { user: config.username, password: config.password };
        // No documented limit; one order at a time bounds the rate anyway.
        let http =
            HttpClient::new(name, &endpoint, auth, (600, Duration::from_secs(60)), config.retry)?.with_trace(trace);
        Ok(MydomainLu {
            http,
            capabilities: capabilities(),
            zones: config.zones,
            wait: config.wait,
            queue: account_queue(&account),
            lock_file,
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

    fn error(&self, response: &Response, zone: &Name) -> Error {
        let provider = self.provider().to_owned();
        let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        let message = body["errorMsg"]
            .as_array()
            .and_then(|m| m.first())
            .and_then(Value::as_str)
            .or_else(|| body["message"].as_str())
            .map_or_else(|| format!("HTTP {}", response.status), str::to_owned);
        match response.status.as_u16() {
            401 => Error::Unauthenticated {
                provider,
                message: format!("{message} (check MYDOMAINLU_USERNAME / MYDOMAINLU_PASSWORD; 2FA must be off)"),
            },
            403 => Error::PermissionDenied { provider, message },
            404 => Error::NotFound { provider, what: format!("zone {zone}") },
            429 => Error::RateLimited { provider, retry_after: None },
            400 => Error::InvalidRecord { provider, zone: zone.clone(), record: "in the order".into(), message },
            status => Error::Transport {
                provider,
                message: format!("zone {zone}: HTTP {status}: {message}"),
                ambiguous: true,
            },
        }
    }

    async fn read(&self, zone: &Name) -> Result<Vec<Existing>, Error> {
        let response = self.http.send(&Request::get(format!("/zones/{}/records", Self::domain(zone)))).await?;
        if !response.status.is_success() {
            return Err(self.error(&response, zone));
        }
        let groups: Vec<Value> = response.json(self.provider())?;
        let mut records = Vec::new();
        for group in &groups {
            let Some(group) = group.as_object() else { continue };
            for (key, list) in group {
                let Some(rtype) = key.strip_suffix("ResourceRecord").and_then(|t| t.parse::<RecordType>().ok()) else {
                    continue;
                };
                for item in list.as_array().into_iter().flatten() {
                    let record = wire_record(rtype, item).map_err(|message| Error::Transport {
                        provider: self.provider().to_owned(),
                        message: format!("zone {zone}: a {rtype} record the API sent cannot be read: {message}"),
                        ambiguous: false,
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
        let started = tokio::time::Instant::now();
        let ticket = loop {
            // Safe to repeat: a repeated add is refused as existing, a repeated remove as
            // missing, and both mean the order went through.
            let response = self.http.send(&Request::json(Method::PATCH, path.clone(), body.clone(), true)).await?;
            let answer: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
            match answer["code"].as_u64() {
                Some(1000 | 1001) => break answer["ticket"].as_str().unwrap_or("?").to_owned(),
                Some(2302) if add => return Ok(()),
                Some(2303) if !add => return Ok(()),
                // Another order of this account (from another tool) is still running.
                Some(2502) if started.elapsed() < self.wait.timeout => {
                    tokio::time::sleep(self.wait.first_poll).await;
                    continue;
                }
                _ => return Err(self.error(&response, zone)),
            }
        };
        let what = format!("{action} {} {} {value}", record.name, record.rtype());
        if let Some(progress) = &self.progress {
            progress(&format!("order {ticket}: {what}: pending"));
        }
        // Until an order's delay is known, re-read after `first_poll`, doubling the pause;
        // once known, wait about that long and then re-read in small steps, so that N
        // orders take close to N times the delay.
        let learned = *self.learned_delay.lock().expect("not poisoned");
        let (mut pause, step) = match learned {
            Some(delay) => (delay, Some((delay / 20).clamp(MIN_STEP, self.wait.max_poll))),
            None => (self.wait.first_poll, None),
        };
        let accepted = tokio::time::Instant::now();
        let mut not_yet: Option<Duration> = None;
        loop {
            tokio::time::sleep(pause).await;
            let held = self.read(zone).await?;
            let present = held.iter().any(|e| e.record.name == record.name && same_data(&e.record.data, &record.data));
            if present == add {
                // Done at the first look: the delay may be shorter than thought.
                let bound = not_yet.unwrap_or_else(|| accepted.elapsed().mul_f64(0.8));
                *self.learned_delay.lock().expect("not poisoned") = Some(bound);
                return Ok(());
            }
            not_yet = Some(accepted.elapsed());
            if started.elapsed() >= self.wait.timeout {
                return Err(Error::Transport {
                    provider: self.provider().to_owned(),
                    message: format!(
                        "zone {zone}: order {ticket} ({what}) not confirmed after {}s; it may still complete. The orders before it \
                         are confirmed, the ones after it were not sent; run apply again, which plans from the zone as it is then",
                        self.wait.timeout.as_secs()
                    ),
                    ambiguous: true,
                });
            }
            pause = match step {
                Some(step) => step,
                None => (pause * 2).min(self.wait.max_poll),
            };
        }
    }

    /// Takes the account's place in the queue across processes: an exclusive lock on the
    /// lock file, held while the returned file lives.
    async fn lock_across_processes(&self) -> Result<Option<std::fs::File>, Error> {
        let Some(path) = self.lock_file.clone() else { return Ok(None) };
        let provider = self.provider().to_owned();
        tokio::task::spawn_blocking(move || {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| Error::Io { path: dir.to_owned(), source: e })?;
            }
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| Error::Io { path: path.clone(), source: e })?;
            file.lock().map_err(|e| Error::Io { path: path.clone(), source: e })?;
            Ok(Some(file))
        })
        .await
        .map_err(|e| Error::Transport {
            provider,
            message: format!("lock task failed: {e}"),
            ambiguous: false,
        })?
    }
}

/// Equal as mydomain.lu stores data: TXT as one value, whatever its split.
fn same_data(held: &RData, sent: &RData) -> bool {
    match (held, sent) {
        (RData::Txt(a), RData::Txt(b)) => a.value() == b.value(),
        (a, b) => a == b,
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
        let fail_all = |e: Error| {
            let mut outcomes = vec![Outcome::Failed(e)];
            outcomes.resize_with(changes.len(), || Outcome::NotAttempted);
            ApplyReport { outcomes }
        };
        // One queue per account: this process's tasks first, then other processes.
        let _in_process = self.queue.lock().await;
        let _across = match self.lock_across_processes().await {
            Ok(file) => file,
            Err(e) => return fail_all(e),
        };
        let mut outcomes = Vec::with_capacity(changes.len());
        let mut failed = false;
        for change in changes {
            if failed {
                outcomes.push(Outcome::NotAttempted);
                continue;
            }
            let result = match change {
                Change::Create(record) => self.order(zone, true, record).await,
                Change::Delete(existing) => self.order(zone, false, &existing.record).await,
                other => Err(Error::Unsupported {
                    provider: self.provider().to_owned(),
                    message: format!("{other}: mydomain.lu takes remove + add"),
                }),
            };
            outcomes.push(match result {
                Ok(()) => Outcome::Done,
                Err(e) => {
                    failed = true;
                    Outcome::Failed(e)
                }
            });
        }
        ApplyReport { outcomes }
    }
}

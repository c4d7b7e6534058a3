//! The provider trait, its capabilities, the registry's view of a provider kind, and the
//! built-in providers.
//!
//! A provider is small: it lists zones, lists a zone's records, and applies changes the plan
//! engine has already checked against its [`Capabilities`]. Everything a provider's API
//! cannot express is refused by the engine before the first request.

pub mod kind;
pub mod memory;
pub mod zonefile;

pub use kind::{BuildContext, EnvVar, ProviderConfig, ProviderKind};

use std::fmt;
use std::time::Duration;

use crate::error::Result;
use crate::name::Name;
use crate::record::Record;
use crate::rtype::RecordType;
use crate::ttl::Ttl;

/// What a provider can do, as data: the engine plans and validates with it, and tests skip
/// by it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Capabilities {
    /// Record types the provider stores.
    pub record_types: Vec<RecordType>,
    /// Whether it also stores types zonectl does not model, in RFC 3597 form (zone files do;
    /// HTTP APIs do not).
    pub unknown_types: bool,
    /// Of those, the types it shows but does not let us change.
    pub read_only_types: Vec<RecordType>,
    /// What TTLs it accepts.
    pub ttl: TtlRule,
    /// How a changed record set is written.
    pub updates: UpdateStyle,
    /// Whether many records can be created or deleted in one request.
    pub bulk: bool,
    /// Whether, besides replacing sets ([`UpdateStyle::RecordSet`]), single records can be
    /// created, updated and deleted (by id): what narrow edits use, so that they never
    /// write a whole set read before another writer added to it.
    pub record_ops: bool,
    /// Whether a change completes some time after the request is accepted (mydomain.lu).
    pub asynchronous: bool,
    /// Whether the provider keeps its own SOA at the apex (and manages its serial).
    pub owns_soa: bool,
    /// Whether the provider keeps its own NS records at the apex.
    pub owns_apex_ns: bool,
    /// Whether TXT character-strings are stored as given; if not, only the concatenated
    /// value is kept and compared.
    pub txt_strings_kept: bool,
    /// The documented request budget, if any.
    pub rate_limit: Option<RateLimit>,
    /// Pairs of types that cannot share a name at this provider, beyond DNS's own CNAME
    /// rule (Domeneshop: a forward and an address record).
    pub exclusive: Vec<(RecordType, RecordType)>,
    /// Types whose records have no TTL here (Domeneshop's forwards): their TTLs are
    /// neither checked nor compared.
    pub untimed: Vec<RecordType>,
    /// A rule of the provider's own on record data, beyond types and TTLs (Domeneshop takes
    /// only three CAA tags): why it refuses `data`, checked before the first request.
    #[serde(skip)]
    pub data_rule: Option<fn(&crate::rdata::RData) -> Option<String>>,
    /// Whether zones are created and deleted through the API (VPS.org), with
    /// [`Provider::create_zone`] and [`Provider::delete_zone`].
    pub manages_zones: bool,
}

/// The TTLs a provider accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TtlRule {
    /// Records have no TTL at all (ZoneID); the provider's default applies.
    None,
    /// `min ≤ ttl ≤ max` and a multiple of `step`; `default` when not given.
    Range {
        /// Lowest accepted.
        min: u32,
        /// Highest accepted.
        max: u32,
        /// TTLs must be a multiple of this (1: any).
        step: u32,
        /// The TTL the provider gives a record created without one.
        default: u32,
    },
}

impl TtlRule {
    /// Any TTL RFC 2181 allows.
    pub const ANY: TtlRule = TtlRule::Range { min: 0, max: i32::MAX as u32, step: 1, default: 3600 };

    /// The accepted TTL nearest to `ttl`: inside the range, and on a multiple of the step
    /// (half-way rounds up). A rule without TTLs keeps `ttl` as it is.
    pub fn round(&self, ttl: Ttl) -> Ttl {
        let TtlRule::Range { min, max, step, .. } = *self else { return ttl };
        let step = step.max(1);
        // The lowest and highest multiples of the step in range.
        let (low, high) = (min.div_ceil(step) * step, max / step * step);
        if low > high {
            return ttl;
        }
        let secs = u64::from(ttl.as_secs());
        let nearest = (secs + u64::from(step) / 2) / u64::from(step) * u64::from(step);
        let rounded = nearest.clamp(u64::from(low), u64::from(high)) as u32;
        Ttl::from_secs(rounded).unwrap_or(ttl)
    }

    /// Why `ttl` is refused, if it is, in words (`TTL 60 is below the minimum of 300`).
    pub fn check(&self, ttl: Ttl) -> Option<String> {
        match *self {
            TtlRule::None => None,
            TtlRule::Range { min, max, step, .. } => {
                let secs = ttl.as_secs();
                if secs < min {
                    Some(format!("TTL {secs} is below the minimum of {min}"))
                } else if secs > max {
                    Some(format!("TTL {secs} is above the maximum of {max}"))
                } else if step > 1 && !secs.is_multiple_of(step) {
                    Some(format!("TTL {secs} is not a multiple of {step}"))
                } else {
                    None
                }
            }
        }
    }
}

/// How changes to a record set reach the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateStyle {
    /// A whole record set is replaced in one operation.
    RecordSet,
    /// Records are created, updated in place and deleted one by one.
    PerRecord,
    /// Records are created and deleted; there is no update (a change is remove + add).
    RemoveAdd,
}

/// A request budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RateLimit {
    /// Requests allowed…
    pub requests: u32,
    /// …per this period.
    #[serde(with = "secs")]
    pub per: Duration,
}

impl RateLimit {
    /// A budget as written in a setting: `60 per 1m`, `1200 per 5m`, `60 per 600ms`.
    pub fn parse(text: &str) -> std::result::Result<RateLimit, String> {
        let wrong = || format!("'{text}' is not a request budget (write it as 60 per 1m)");
        let (requests, per) = text.split_once(" per ").ok_or_else(wrong)?;
        let requests: u32 = requests.trim().parse().map_err(|_| wrong())?;
        let per = crate::duration::parse(per)?;
        if requests == 0 || per.is_zero() {
            return Err(format!("'{text}': a budget allows at least one request in a period longer than zero"));
        }
        Ok(RateLimit { requests, per })
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} per {}", self.requests, crate::duration::show(self.per))
    }
}

impl<'de> serde::Deserialize<'de> for RateLimit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<RateLimit, D::Error> {
        let text = String::deserialize(d)?;
        RateLimit::parse(&text).map_err(serde::de::Error::custom)
    }
}

mod secs {
    pub fn serialize<S: serde::Serializer>(d: &std::time::Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }
}

impl Default for Capabilities {
    /// A provider that stores every modeled type with any TTL RFC 2181 allows, replaces
    /// whole record sets, owns none of the zone's records and has no rules of its own:
    /// providers state only where they differ (`..Capabilities::default()`).
    fn default() -> Capabilities {
        Capabilities {
            record_types: RecordType::MODELED.to_vec(),
            unknown_types: false,
            read_only_types: Vec::new(),
            ttl: TtlRule::ANY,
            updates: UpdateStyle::RecordSet,
            bulk: false,
            record_ops: false,
            asynchronous: false,
            owns_soa: false,
            owns_apex_ns: false,
            txt_strings_kept: true,
            rate_limit: None,
            exclusive: Vec::new(),
            untimed: Vec::new(),
            data_rule: None,
            manages_zones: false,
        }
    }
}

impl Capabilities {
    /// Whether records of types `a` and `b` cannot share a name here: one of them a CNAME
    /// and the other not (RFC 1034), or a pair the provider forbids.
    pub fn conflicting(&self, a: RecordType, b: RecordType) -> bool {
        (a == RecordType::Cname) != (b == RecordType::Cname)
            || self.exclusive.iter().any(|&p| p == (a, b) || p == (b, a))
    }

    /// Whether records of `rtype` keep a TTL here.
    pub fn keeps_ttl(&self, rtype: RecordType) -> bool {
        self.ttl != TtlRule::None && !self.untimed.contains(&rtype)
    }

    /// Whether the provider stores records of `rtype` at all.
    pub fn supports(&self, rtype: RecordType) -> bool {
        self.record_types.contains(&rtype) || (self.unknown_types && !rtype.is_modeled())
    }

    /// Whether records of `rtype` can be created, changed and deleted.
    pub fn can_write(&self, rtype: RecordType) -> bool {
        self.supports(rtype) && !self.read_only_types.contains(&rtype)
    }
}

/// A record as a provider holds it, with the provider's own id beside it (never part of the
/// record's equality).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    /// The record.
    pub record: Record,
    /// The provider's id for it, if the provider has ids.
    pub id: Option<RecordId>,
}

// A record and one word: the size of a record the zone-file reader holds with its line, so
// that the records read from a zone file become a listing in place. With a `String` id
// (72 bytes) the zonefile provider copied a 1M-record listing into a second vector, and a
// plan's memory peaked there, 67 MB above the records themselves.
const _: () = assert!(std::mem::size_of::<Existing>() == std::mem::size_of::<Record>() + 8);

/// A provider's id for a record: its text, behind one pointer (see [`Existing`]'s size).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId(Box<Box<str>>);

impl RecordId {
    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for RecordId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<String> for RecordId {
    fn from(id: String) -> RecordId {
        RecordId(Box::new(id.into_boxed_str()))
    }
}

impl From<&str> for RecordId {
    fn from(id: &str) -> RecordId {
        RecordId(Box::new(id.into()))
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl serde::Serialize for RecordId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }
}

impl From<Record> for Existing {
    fn from(record: Record) -> Existing {
        Existing { record, id: None }
    }
}

/// One operation for a provider, already in the form its [`UpdateStyle`] asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Add one record.
    Create(Record),
    /// Change one record in place.
    Update {
        /// The record as it is.
        from: Existing,
        /// The record as it will be.
        to: Record,
    },
    /// Remove one record.
    Delete(Existing),
    /// Make the record set at (`name`, `rtype`) exactly `records` (empty: remove it).
    ReplaceSet {
        /// The owner.
        name: Name,
        /// The type.
        rtype: RecordType,
        /// The records the set holds now.
        from: Vec<Existing>,
        /// The records it will hold.
        records: Vec<Record>,
    },
}

impl Change {
    /// The owner name the change is at.
    pub fn name(&self) -> &Name {
        match self {
            Change::Create(r) => &r.name,
            Change::Update { from, .. } => &from.record.name,
            Change::Delete(e) => &e.record.name,
            Change::ReplaceSet { name, .. } => name,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Create(r) => write!(f, "create {r}"),
            Change::Update { from, to } => write!(f, "update {} -> {to}", from.record),
            Change::Delete(e) => write!(f, "delete {}", e.record),
            Change::ReplaceSet { name, rtype, records, .. } if records.is_empty() => {
                write!(f, "delete set {name} {rtype}")
            }
            Change::ReplaceSet { name, rtype, records, .. } => {
                write!(f, "replace set {name} {rtype} with {} record(s)", records.len())
            }
        }
    }
}

/// What became of each change sent to [`Provider::apply`], in order.
#[derive(Debug, Default)]
pub struct ApplyReport {
    /// One outcome per change, in the order given.
    pub outcomes: Vec<Outcome>,
}

/// What became of one change.
#[derive(Debug)]
pub enum Outcome {
    /// Done and confirmed.
    Done,
    /// Refused, or failed before the provider could act on it: the zone does not hold it.
    Failed(crate::error::Error),
    /// The request was sent but its answer was lost (a dropped connection, a server error
    /// after a write): the change may or may not have been made. Reading the zone again
    /// tells, and a new plan picks up from there.
    Unknown(crate::error::Error),
    /// Not sent, because an earlier change failed.
    NotAttempted,
}

impl Outcome {
    /// The outcome of a change that met `error`: unknown if the error leaves it open
    /// whether the provider acted, failed otherwise.
    pub fn from_error(error: crate::error::Error) -> Outcome {
        if error.is_ambiguous() { Outcome::Unknown(error) } else { Outcome::Failed(error) }
    }

    /// The error, for a change that failed or whose outcome is unknown.
    pub fn error(&self) -> Option<&crate::error::Error> {
        match self {
            Outcome::Failed(e) | Outcome::Unknown(e) => Some(e),
            Outcome::Done | Outcome::NotAttempted => None,
        }
    }
}

impl ApplyReport {
    /// Whether every change was made.
    pub fn is_complete(&self) -> bool {
        self.outcomes.iter().all(|o| matches!(o, Outcome::Done))
    }

    /// The report of `changes` changes none of which could start: the first carries
    /// `error`, the rest were not attempted.
    pub fn not_started(error: crate::error::Error, changes: usize) -> ApplyReport {
        let mut outcomes = Vec::with_capacity(changes);
        if changes > 0 {
            outcomes.push(Outcome::from_error(error));
        }
        outcomes.resize_with(changes, || Outcome::NotAttempted);
        ApplyReport { outcomes }
    }
}

/// Which records of a zone a caller needs, so that a provider whose API lists records per
/// name or type (ZoneID: one request per type) can read only those.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFilter {
    /// Only records at this name.
    pub name: Option<Name>,
    /// Only records of this type.
    pub rtype: Option<RecordType>,
}

impl RecordFilter {
    /// Whether `record` passes the filter.
    pub fn matches(&self, record: &Record) -> bool {
        self.name.as_ref().is_none_or(|n| record.name == *n) && self.rtype.is_none_or(|t| record.rtype() == t)
    }
}

/// What providers' listings left out (see [`Provider::left_out`]), by zone.
#[derive(Debug, Default)]
pub struct LeftOut(std::sync::Mutex<std::collections::HashMap<Name, Vec<String>>>);

impl LeftOut {
    /// Remembers what the listing of `zone` just left out.
    pub fn set(&self, zone: &Name, lines: Vec<String>) {
        self.0.lock().expect("not poisoned").insert(zone.clone(), lines);
    }

    /// What the last listing of `zone` left out.
    pub fn get(&self, zone: &Name) -> Vec<String> {
        self.0.lock().expect("not poisoned").get(zone).cloned().unwrap_or_default()
    }
}

/// A held lock on a zone (see [`Provider::lock`]); dropping it releases the lock.
#[derive(Debug, Default)]
pub struct ZoneLock {
    _file: Option<crate::lock::FileLock>,
    _process: Option<crate::lock::ProcessLock>,
}

impl ZoneLock {
    /// A lock that holds nothing, for providers that need none.
    pub fn none() -> ZoneLock {
        ZoneLock::default()
    }

    /// The lock called `key` among the tasks of this process only; `what` names it in
    /// messages (`zone example.com.`).
    pub async fn in_process(provider: &str, key: &str, what: &str) -> Result<ZoneLock> {
        let lock = crate::lock::ProcessLock::acquire(key, |who| {
            tracing::info!(
                target: "zonectl::notice",
                "{provider}: waiting for {who} to finish with {what}; giving up after {}",
                crate::duration::show(crate::lock::wait_limit())
            );
        })
        .await
        .map_err(|e| crate::error::Error::Transport {
            provider: provider.to_owned(),
            message: format!("{what}: {e}"),
            ambiguous: false,
            source: None,
        })?;
        Ok(ZoneLock { _file: None, _process: Some(lock) })
    }

    /// Takes the lock file at `path` (see [`crate::lock::FileLock`]), saying once on stderr
    /// through `tracing` that it waits, for whom and for how long at most, when another
    /// process holds it.
    pub async fn file(provider: &str, path: &std::path::Path) -> Result<ZoneLock> {
        let shown = path.display().to_string();
        let lock = crate::lock::FileLock::acquire(path, |who| {
            tracing::info!(
                target: "zonectl::notice",
                "{provider}: waiting for {who} to finish with {shown}; giving up after {}",
                crate::duration::show(crate::lock::wait_limit())
            );
        })
        .await
        .map_err(|e| crate::error::Error::io(path, e))?;
        Ok(ZoneLock { _file: Some(lock), _process: None })
    }
}

/// A DNS hosting provider. Object-safe: the engine holds `Arc<dyn Provider>`.
#[async_trait::async_trait]
pub trait Provider: Send + Sync + fmt::Debug {
    /// The instance name (from the configuration), used in every message.
    fn name(&self) -> &str;

    /// Where the provider writes, as one string: two instances with the same account write
    /// the same zones (`luadns https://api.luadns.com/v1 joe@example.com`, a zone file
    /// directory). Used to refuse a zone targeted twice at one place, and to key locks.
    fn account(&self) -> String {
        self.name().to_owned()
    }

    /// What the provider can do.
    fn capabilities(&self) -> &Capabilities;

    /// The zones the account holds.
    async fn list_zones(&self) -> Result<Vec<Name>>;

    /// Zones the account holds that zonectl cannot manage there, each with why (Domeneshop's
    /// domains without the DNS service), as the last [`Provider::list_zones`] found them:
    /// `zone list` names them rather than leave them out silently.
    fn unmanaged_zones(&self) -> Vec<(Name, String)> {
        Vec::new()
    }

    /// What the last [`Provider::list_records`] of `zone` found that zonectl does not model
    /// (LuaDNS's ALIAS, Domeneshop's ANAME), one line each in the provider's own terms:
    /// never touched, and named by `import` rather than left out silently.
    fn left_out(&self, zone: &Name) -> Vec<String> {
        let _ = zone;
        Vec::new()
    }

    /// Every record of `zone`, with the provider's ids.
    async fn list_records(&self, zone: &Name) -> Result<Vec<Existing>>;

    /// The records of `zone` that pass `filter`. Providers whose API can list a part of a
    /// zone for less than the whole override this; the others filter the whole listing.
    async fn list_records_filtered(&self, zone: &Name, filter: &RecordFilter) -> Result<Vec<Existing>> {
        let mut records = self.list_records(zone).await?;
        records.retain(|e| filter.matches(&e.record));
        Ok(records)
    }

    /// Makes `changes` in order, stopping at the first failure. Each change is in the form
    /// [`Capabilities::updates`] asks for and has passed the capability checks.
    async fn apply(&self, zone: &Name, changes: &[Change]) -> ApplyReport;

    /// Serialises whole edits of `zone` — read, plan, apply — against other tasks and
    /// processes, so that a second edit plans against the first one's result. Hold the
    /// returned lock from before reading the zone until the apply is done. Providers that
    /// need no lock return [`ZoneLock::none`].
    async fn lock(&self, zone: &Name) -> Result<ZoneLock> {
        let _ = zone;
        Ok(ZoneLock::none())
    }

    /// Creates `zone`, empty but for what the provider puts in every zone, where the API
    /// can ([`Capabilities::manages_zones`]).
    async fn create_zone(&self, zone: &Name) -> Result<()> {
        Err(crate::error::Error::Unsupported {
            provider: self.name().to_owned(),
            message: format!("zone create is not supported by {}: create {zone} in its control panel", self.name()),
        })
    }

    /// Deletes `zone` and every record in it, where the API can.
    async fn delete_zone(&self, zone: &Name) -> Result<()> {
        Err(crate::error::Error::Unsupported {
            provider: self.name().to_owned(),
            message: format!("zone delete is not supported by {}: delete {zone} in its control panel", self.name()),
        })
    }

    /// Points the A and AAAA records of `name` at `addresses` through the provider's own
    /// dynamic DNS endpoint (Domeneshop's `/dyndns/update`), for providers that have one.
    async fn native_ddns(&self, name: &Name, addresses: &[std::net::IpAddr]) -> Result<()> {
        let _ = (name, addresses);
        Err(crate::error::Error::Unsupported {
            provider: self.name().to_owned(),
            message: "no dynamic DNS endpoint of its own (zonectl ddns without --native works with every provider)"
                .into(),
        })
    }
}

/// Applies `changes` with `apply_one`, up to `limit` at a time, for providers whose API
/// takes one request per record. The changes at one name stay in order, one after the
/// other (a CNAME's delete before its replacement's create); changes at different names do
/// not wait for each other. The first name's changes go alone, so that what fails every
/// request (a read-only token, a wrong zone) fails once, with nothing else sent. After the
/// first failure no change is started; the ones under way finish.
pub async fn apply_concurrently<'a, F, Fut>(changes: &'a [Change], limit: usize, apply_one: F) -> ApplyReport
where
    F: Fn(&'a Change) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    use futures_util::StreamExt;
    use std::sync::atomic::{AtomicBool, Ordering};
    // The indices of the changes at each name, in order.
    let mut by_name: Vec<Vec<usize>> = Vec::new();
    let mut index: std::collections::HashMap<&Name, usize> = std::collections::HashMap::new();
    for (i, change) in changes.iter().enumerate() {
        let group = *index.entry(change.name()).or_insert_with(|| {
            by_name.push(Vec::new());
            by_name.len() - 1
        });
        by_name[group].push(i);
    }
    drop(index);
    let stopped = AtomicBool::new(false);
    let (stopped, apply_one) = (&stopped, &apply_one);
    let run = |indices: Vec<usize>| async move {
        let mut outcomes = Vec::with_capacity(indices.len());
        for i in indices {
            if stopped.load(Ordering::SeqCst) {
                outcomes.push((i, Outcome::NotAttempted));
                continue;
            }
            match apply_one(&changes[i]).await {
                Ok(()) => outcomes.push((i, Outcome::Done)),
                Err(e) => {
                    stopped.store(true, Ordering::SeqCst);
                    outcomes.push((i, Outcome::from_error(e)));
                }
            }
        }
        outcomes
    };
    let mut groups = by_name.into_iter();
    let mut done: Vec<Vec<(usize, Outcome)>> = Vec::new();
    if let Some(first) = groups.next() {
        done.push(run(first).await);
    }
    done.extend(futures_util::stream::iter(groups).map(run).buffer_unordered(limit.max(1)).collect::<Vec<_>>().await);
    let mut outcomes: Vec<Option<Outcome>> = (0..changes.len()).map(|_| None).collect();
    for (i, outcome) in done.into_iter().flatten() {
        outcomes[i] = Some(outcome);
    }
    ApplyReport { outcomes: outcomes.into_iter().map(|o| o.unwrap_or(Outcome::NotAttempted)).collect() }
}

/// Applies `changes` one at a time with `apply_one`, stopping at the first failure; the
/// shape most providers' `apply` has.
pub async fn apply_each<'a, F, Fut>(changes: &'a [Change], mut apply_one: F) -> ApplyReport
where
    F: FnMut(&'a Change) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut outcomes = Vec::with_capacity(changes.len());
    let mut stopped = false;
    for change in changes {
        if stopped {
            outcomes.push(Outcome::NotAttempted);
            continue;
        }
        match apply_one(change).await {
            Ok(()) => outcomes.push(Outcome::Done),
            Err(e) => {
                stopped = true;
                outcomes.push(Outcome::from_error(e));
            }
        }
    }
    ApplyReport { outcomes }
}

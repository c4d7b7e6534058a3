//! The provider trait, its capabilities, and the built-in providers.
//!
//! A provider is small: it lists zones, lists a zone's records, and applies changes the plan
//! engine has already checked against its [`Capabilities`]. Everything a provider's API
//! cannot express is refused by the engine before the first request.

pub mod memory;
pub mod zonefile;

use std::fmt;
use std::time::Duration;

use crate::error::Result;
use crate::name::Name;
use crate::record::Record;
use crate::rtype::RecordType;
use crate::ttl::Ttl;

/// What a provider can do, as data: the engine plans and validates with it, and tests skip
/// by it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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

    /// Why `ttl` is refused, if it is.
    pub fn check(&self, ttl: Ttl) -> Option<String> {
        match *self {
            TtlRule::None => None,
            TtlRule::Range { min, max, step, .. } => {
                let secs = ttl.as_secs();
                if secs < min || secs > max {
                    Some(format!("TTL {secs} is outside {min}..={max}"))
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

mod secs {
    pub fn serialize<S: serde::Serializer>(d: &std::time::Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }
}

impl Capabilities {
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
    pub id: Option<String>,
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
    /// Refused or failed; the zone may or may not hold it (see the error's kind).
    Failed(crate::error::Error),
    /// Not sent, because an earlier change failed.
    NotAttempted,
}

impl ApplyReport {
    /// Whether every change was made.
    pub fn is_complete(&self) -> bool {
        self.outcomes.iter().all(|o| matches!(o, Outcome::Done))
    }
}

/// A DNS hosting provider. Object-safe: the engine holds `Arc<dyn Provider>`.
#[async_trait::async_trait]
pub trait Provider: Send + Sync + fmt::Debug {
    /// The instance name (from the configuration), used in every message.
    fn name(&self) -> &str;

    /// What the provider can do.
    fn capabilities(&self) -> &Capabilities;

    /// The zones the account holds.
    async fn list_zones(&self) -> Result<Vec<Name>>;

    /// Every record of `zone`, with the provider's ids.
    async fn list_records(&self, zone: &Name) -> Result<Vec<Existing>>;

    /// Makes `changes` in order, stopping at the first failure. Each change is in the form
    /// [`Capabilities::updates`] asks for and has passed the capability checks.
    async fn apply(&self, zone: &Name, changes: &[Change]) -> ApplyReport;
}

/// Applies `changes` one at a time with `apply_one`, stopping at the first failure; the
/// shape most providers' `apply` has.
pub async fn apply_each<F, Fut>(changes: &[Change], mut apply_one: F) -> ApplyReport
where
    F: FnMut(&Change) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut outcomes = Vec::with_capacity(changes.len());
    let mut failed = false;
    for change in changes {
        if failed {
            outcomes.push(Outcome::NotAttempted);
            continue;
        }
        match apply_one(change).await {
            Ok(()) => outcomes.push(Outcome::Done),
            Err(e) => {
                failed = true;
                outcomes.push(Outcome::Failed(e));
            }
        }
    }
    ApplyReport { outcomes }
}

//! The one edit transaction. Every way in changes zones through it — `record add|set|delete`,
//! `ddns`, the ACME hooks, `apply` and `copy`, and each listener of `serve` — so that what
//! one of them does, every other does the same way:
//!
//! 1. the zone is resolved to its targets ([`crate::route::Router`]);
//! 2. the zone is locked at every target, in one global order (account, then zone), so
//!    that two transactions never hold one lock each and wait for the other's;
//! 3. each target is read — narrowly where the edit is narrow (one name, one type);
//! 4. the edit is applied: typed [`Op`]s to each target's records (a narrow edit), or the
//!    desired zone as a whole (`apply`, `copy`); a [`Condition`] (RFC 2136's
//!    prerequisites) is checked against the first target read;
//! 5. each target is planned and the plans checked against the targets' capabilities —
//!    one refusal at any target refuses the whole transaction, before the first request;
//! 6. [`Prepared::apply`] backs each target up and applies, target after target;
//! 7. one [`ChangeReport`] says what happened at each target, with the requests and waits
//!    it cost.
//!
//! A zone with several targets is read from the first one that can be read and written to
//! all; a target that cannot be read, or fails midway, is reported as such and the others
//! are still written — multi-provider DNS exists to survive one provider's outage.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::meter;
use crate::name::Name;
use crate::plan::{self, IgnoreRule, Plan, PlanOptions, Safety, TtlPolicy};
use crate::provider::{ApplyReport, Capabilities, Existing, Outcome, Provider, RecordFilter, TtlRule, ZoneLock};
use crate::rdata::RData;
use crate::record::{Record, Zone};
use crate::report::{ChangeReport, TargetReport};
use crate::route::Route;
use crate::rtype::RecordType;
use crate::saved::ReadDigest;
use crate::ttl::Ttl;

/// One typed change to the records a target holds.
#[derive(Clone)]
pub enum Op {
    /// Add a value to the record set at `name` (of the value's type). With a TTL, the whole
    /// set takes it; without, the value takes the set's (or the edit's default, for a new
    /// set). A value already there is not added twice.
    Add {
        /// The owner.
        name: Name,
        /// The value.
        data: RData,
        /// The set's TTL.
        ttl: Option<Ttl>,
    },
    /// Remove one value from a set, or (without a value) the whole set.
    Remove {
        /// The owner.
        name: Name,
        /// The type.
        rtype: RecordType,
        /// The value; none: every value.
        data: Option<RData>,
    },
    /// Make the set at (`name`, `rtype`) exactly `data` (empty: remove it).
    Replace {
        /// The owner.
        name: Name,
        /// The type.
        rtype: RecordType,
        /// The values.
        data: Vec<RData>,
        /// The TTL; none: the set's, else the edit's default.
        ttl: Option<Ttl>,
    },
    /// A change no typed op says (RFC 2136's update rules, which depend on what is there):
    /// a function of the target's records.
    Custom(CustomEdit),
}

/// A change of a target's records written as a function (see [`Op::Custom`]).
pub type CustomEdit = Arc<dyn Fn(&mut Vec<Record>) + Send + Sync>;

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Op::Add { name, data, ttl } => write!(f, "Add({name} {} {data} ttl {ttl:?})", data.rtype()),
            Op::Remove { name, rtype, data } => write!(f, "Remove({name} {rtype} {data:?})"),
            Op::Replace { name, rtype, data, ttl } => write!(f, "Replace({name} {rtype} {data:?} ttl {ttl:?})"),
            Op::Custom(_) => f.write_str("Custom"),
        }
    }
}

impl Op {
    /// The record set the op touches, for the typed ones.
    fn set(&self) -> Option<(&Name, RecordType)> {
        match self {
            Op::Add { name, data, .. } => Some((name, data.rtype())),
            Op::Remove { name, rtype, .. } | Op::Replace { name, rtype, .. } => Some((name, *rtype)),
            Op::Custom(_) => None,
        }
    }
}

/// A condition on the zone, checked against the first target read before anything is
/// written: `Err` refuses the edit with [`Error::ConditionFailed`].
pub type Condition = Arc<dyn Fn(&[Record]) -> std::result::Result<(), Unmet> + Send + Sync>;

/// Why a [`Condition`] does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmet {
    /// For people.
    pub message: String,
    /// The front door's own code for it (an RFC 2136 rcode).
    pub code: u16,
}

/// What the targets should hold after the transaction.
#[derive(Clone)]
pub enum Desired {
    /// Typed changes to what each target holds (the record commands, the hooks, `serve`).
    Edit {
        /// What to read of each target.
        filter: RecordFilter,
        /// The changes, in order.
        ops: Vec<Op>,
        /// A condition on the first target read.
        condition: Option<Condition>,
    },
    /// The whole zone (`apply`, `copy`): every target made to hold it, but what the
    /// rules leave alone.
    Zone {
        /// The zone as it should be.
        zone: Zone,
        /// Records left alone whatever either side holds.
        ignore: Vec<IgnoreRule>,
    },
}

impl std::fmt::Debug for Desired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Desired::Edit { filter, ops, condition } => f
                .debug_struct("Edit")
                .field("filter", filter)
                .field("ops", ops)
                .field("condition", &condition.is_some())
                .finish(),
            Desired::Zone { zone, ignore } => {
                f.debug_struct("Zone").field("zone", zone.origin()).field("ignore", ignore).finish()
            }
        }
    }
}

/// How a transaction plans and applies.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A TTL a target refuses: refuse the transaction, or round it.
    pub ttl_policy: TtlPolicy,
    /// The TTL of a new set when an op gives none; the target's default when none.
    pub default_ttl: Option<Ttl>,
    /// Apply past the safety thresholds (and change apex NS).
    pub force: bool,
    /// The thresholds.
    pub safety: Safety,
    /// Where to back each target up before its first change; none: no backup.
    pub backup_dir: Option<PathBuf>,
    /// Hold each target's zone lock from the read to the end of the apply (off for a plan
    /// that will not be applied).
    pub lock: bool,
    /// Keep a digest of what each target held (a plan to save, or to compare by checksum).
    pub digest: bool,
    /// Keep only the newest this many backups of a zone at a provider.
    pub backup_keep: Option<usize>,
}

/// One zone's transaction.
#[derive(Debug, Clone)]
pub struct Transaction {
    /// The zone and its targets.
    pub route: Route,
    /// What the targets should hold.
    pub desired: Desired,
    /// How.
    pub options: Options,
}

impl Transaction {
    /// A narrow edit of `route`'s zone: `ops` on the records `filter` reads.
    pub fn edit(route: Route, filter: RecordFilter, ops: Vec<Op>, options: Options) -> Transaction {
        Transaction { route, desired: Desired::Edit { filter, ops, condition: None }, options }
    }
}

/// Transactions read, planned and checked, their locks held, nothing sent yet.
pub struct Prepared {
    zones: Vec<PreparedZone>,
    _locks: Vec<ZoneLock>,
}

struct PreparedZone {
    zone: Name,
    options: Options,
    targets: Vec<(Arc<dyn Provider>, TargetReport)>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let zones: Vec<&Name> = self.zones.iter().map(|z| &z.zone).collect();
        f.debug_struct("Prepared").field("zones", &zones).finish_non_exhaustive()
    }
}

/// Reads, edits, plans and checks every transaction, holding their locks; nothing is sent.
/// An error here (a zone no target can be read of, a condition that does not hold, a plan
/// a target's capabilities refuse) means nothing was sent anywhere.
pub async fn prepare(transactions: Vec<Transaction>) -> Result<Prepared> {
    let locks = lock_all(&transactions).await?;
    let mut zones = Vec::with_capacity(transactions.len());
    let mut problems: Vec<(String, Name, Vec<String>)> = Vec::new();
    for transaction in transactions {
        let prepared = prepare_one(transaction, &mut problems).await?;
        zones.push(prepared);
    }
    if let Some((provider, zone, _)) = problems.first().cloned() {
        let all: Vec<String> = problems.into_iter().flat_map(|(_, _, p)| p).collect();
        return Err(Error::Refused { provider, zone, problems: all });
    }
    Ok(Prepared { zones, _locks: locks })
}

/// [`prepare`] and [`Prepared::apply`] of one transaction, without showing progress.
pub async fn run(transaction: Transaction) -> Result<ChangeReport> {
    let prepared = prepare(vec![transaction]).await?;
    prepared.refuse_unsafe()?;
    Ok(prepared.apply(None).await.pop().expect("one transaction"))
}

/// The locks of every target of every transaction that asks for them, taken in one order.
async fn lock_all(transactions: &[Transaction]) -> Result<Vec<ZoneLock>> {
    let mut order: Vec<(String, &Name, &Arc<dyn Provider>)> = transactions
        .iter()
        .filter(|t| t.options.lock)
        .flat_map(|t| t.route.targets.iter().map(move |p| (p.account(), &t.route.zone, p)))
        .collect();
    order.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    // One account's zone is locked once, however many transactions name it.
    order.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let mut locks = Vec::with_capacity(order.len());
    for (_, zone, provider) in order {
        locks.push(provider.lock(zone).await?);
    }
    Ok(locks)
}

/// Records from which a target's digest is taken on a thread of its own, beside the plan.
const PARALLEL_DIGEST: usize = 1 << 14;

/// One target's records as read, with what reading them cost.
struct Read {
    provider: Arc<dyn Provider>,
    records: Result<Vec<Existing>>,
    counts: meter::Counts,
}

async fn read_targets(route: &Route, filter: Option<&RecordFilter>) -> Vec<Read> {
    let reads = route.targets.iter().map(|provider| async move {
        let (records, counts) = meter::measured(async {
            match filter {
                Some(filter) => provider.list_records_filtered(&route.zone, filter).await,
                None => provider.list_records(&route.zone).await,
            }
        })
        .await;
        Read { provider: provider.clone(), records, counts }
    });
    futures_util::future::join_all(reads).await
}

async fn prepare_one(
    transaction: Transaction,
    problems: &mut Vec<(String, Name, Vec<String>)>,
) -> Result<PreparedZone> {
    let Transaction { route, desired, options } = transaction;
    let zone = route.zone.clone();
    let filter = match &desired {
        Desired::Edit { filter, .. } if *filter != RecordFilter::default() => Some(filter.clone()),
        _ => None,
    };
    let reads = read_targets(&route, filter.as_ref()).await;
    if let Desired::Edit { condition: Some(condition), .. } = &desired {
        // The first target that could be read is the zone as it is.
        let Some(first) = reads.iter().find_map(|r| r.records.as_ref().ok()) else {
            return Err(first_read_error(reads));
        };
        let records: Vec<Record> = first.iter().map(|e| e.record.clone()).collect();
        condition(&records).map_err(|unmet| Error::ConditionFailed {
            zone: zone.clone(),
            message: unmet.message,
            code: unmet.code,
        })?;
    }
    if matches!(desired, Desired::Edit { .. }) && reads.iter().all(|r| r.records.is_err()) {
        return Err(first_read_error(reads));
    }
    let mut targets = Vec::with_capacity(reads.len());
    for Read { provider, records, counts } in reads {
        let existing = match records {
            Ok(existing) => existing,
            Err(error) => {
                let missing = matches!(&error, Error::NotFound { what, .. } if what.starts_with("zone "));
                let mut report = TargetReport::unreadable(provider.name().to_owned(), error, counts);
                // A zone is never made by an edit; where the provider can make zones, say how.
                if missing && provider.capabilities().manages_zones {
                    report.notes.push(format!("`zonectl zone create {zone} --provider {}` makes it", provider.name()));
                }
                targets.push((provider.clone(), report));
                continue;
            }
        };
        let caps = provider.capabilities();
        let (wanted, plan_options, owned) = match &desired {
            Desired::Edit { ops, .. } => {
                let plan_options =
                    PlanOptions { ttl_policy: options.ttl_policy, narrow: true, ..PlanOptions::default() };
                let owned: Vec<String> = ops
                    .iter()
                    .filter_map(Op::set)
                    .filter(|(name, rtype)| !plan_options.manages(caps, &zone, name, *rtype))
                    .map(|(name, rtype)| provider_owned(provider.name(), &zone, name, rtype))
                    .collect();
                let default_ttl = options.default_ttl.unwrap_or_else(|| default_ttl(caps));
                let mut records: Vec<Record> = existing.iter().map(|e| e.record.clone()).collect();
                for op in ops {
                    apply_op(&mut records, op, caps, default_ttl);
                }
                (Cow::Owned(Zone::from_records(zone.clone(), records)), plan_options, owned)
            }
            Desired::Zone { zone: wanted, ignore } => {
                let plan_options =
                    PlanOptions { ignore: ignore.clone(), ttl_policy: options.ttl_policy, ..PlanOptions::default() };
                // Borrowed: a copy of a 1M-record zone per target was 85 ms and 100 MB.
                (Cow::Borrowed(wanted), plan_options, Vec::new())
            }
        };
        if !owned.is_empty() {
            problems.push((provider.name().to_owned(), zone.clone(), owned));
            continue;
        }
        // One sort serves the digest and the plan (each would check the order again).
        let mut existing = existing;
        crate::saved::sort_for_digest(&zone, &mut existing);
        let digest = || managed_digest(&existing, caps, &zone, &plan_options);
        let plan = || plan::plan_in_order(provider.name(), caps, &wanted, &existing, &plan_options);
        let (read_digest, planned) = match options.digest {
            // Both only read the records: a large zone's digest is taken on another core.
            true if existing.len() >= PARALLEL_DIGEST => std::thread::scope(|scope| {
                let digest = scope.spawn(digest);
                let planned = plan();
                (Some(digest.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))), planned)
            }),
            true => (Some(digest()), plan()),
            false => (None, plan()),
        };
        match planned {
            Ok(mut planned) => {
                // The current zone is the backup's; without one it goes now (a plan to be
                // shown: a 1M-record zone's 133 MB, before the plan file is made).
                if options.backup_dir.is_some() {
                    planned.current = plan::current_zone(&zone, existing);
                }
                planned.scope = filter.clone().unwrap_or_default();
                let mut report = TargetReport::planned(provider.name().to_owned(), planned, counts);
                report.read_digest = read_digest;
                targets.push((provider.clone(), report));
            }
            Err(Error::Refused { provider, zone, problems: found }) => problems.push((provider, zone, found)),
            Err(other) => return Err(other),
        }
    }
    Ok(PreparedZone { zone, options, targets })
}

fn first_read_error(reads: Vec<Read>) -> Error {
    reads.into_iter().find_map(|r| r.records.err()).expect("a target that could not be read")
}

/// Why an op on a set the provider keeps for itself does nothing.
fn provider_owned(provider: &str, zone: &Name, name: &Name, rtype: RecordType) -> String {
    let which = if name == zone { "apex ".to_owned() } else { format!("{} ", name.relative_to(zone)) };
    format!("the {which}{rtype} records at {provider} are the provider's: not changed")
}

/// The TTL a provider gives a record created without one.
pub fn default_ttl(caps: &Capabilities) -> Ttl {
    match caps.ttl {
        TtlRule::Range { default, .. } => Ttl::from_secs(default).unwrap_or(Ttl::MAX),
        TtlRule::None => Ttl::from_secs(3600).expect("in range"),
    }
}

/// Whether `held` is `wanted` as the provider keeps data (TXT as one value where it keeps
/// only that).
fn same_value(caps: &Capabilities, held: &RData, wanted: &RData) -> bool {
    match (held, wanted) {
        (RData::Txt(a), RData::Txt(b)) if !caps.txt_strings_kept => a.value() == b.value(),
        (a, b) => a == b,
    }
}

/// Applies one op to a target's records. A set is the records of one name and type, and
/// for RRSIG and SIG of one covered type (each has the TTL of the set it signs, RFC 4034
/// section 3): adding an RRSIG over A sets the TTL of the RRSIGs over A, not of those over
/// NSEC. Removing a type without a value removes all of its sets at the name; replacing
/// with values replaces the sets they cover.
fn apply_op(records: &mut Vec<Record>, op: &Op, caps: &Capabilities, default_ttl: Ttl) {
    let in_type = |r: &Record, name: &Name, rtype: RecordType| r.name == *name && r.rtype() == rtype;
    let in_set_of = |r: &Record, name: &Name, data: &RData| {
        in_type(r, name, data.rtype()) && r.data.covered_type() == data.covered_type()
    };
    match op {
        Op::Add { name, data, ttl } => {
            let ttl = ttl.or_else(|| records.iter().find(|r| in_set_of(r, name, data)).map(|r| r.ttl));
            let ttl = ttl.unwrap_or(default_ttl);
            for r in records.iter_mut().filter(|r| in_set_of(r, name, data)) {
                r.ttl = ttl;
            }
            if !records.iter().any(|r| in_set_of(r, name, data) && same_value(caps, &r.data, data)) {
                records.push(Record::new(name.clone(), ttl, data.clone()));
            }
        }
        Op::Remove { name, rtype, data } => records
            .retain(|r| !(in_type(r, name, *rtype) && data.as_ref().is_none_or(|d| same_value(caps, &r.data, d)))),
        Op::Replace { name, rtype, data, ttl } => {
            // The sets replaced: the type's one set, or for RRSIG and SIG those the values
            // cover (all of them when there are no values).
            let covered: Vec<Option<u16>> = data.iter().map(RData::covered_type).collect();
            let replaced =
                |r: &Record| in_type(r, name, *rtype) && (data.is_empty() || covered.contains(&r.data.covered_type()));
            let held = |d: &RData| records.iter().find(|r| in_set_of(r, name, d)).map(|r| r.ttl);
            let ttls: Vec<Ttl> = data.iter().map(|d| ttl.or_else(|| held(d)).unwrap_or(default_ttl)).collect();
            records.retain(|r| !replaced(r));
            records.extend(data.iter().zip(ttls).map(|(d, ttl)| Record::new(name.clone(), ttl, d.clone())));
        }
        Op::Custom(edit) => edit(records),
    }
}

/// What wraps each target's apply, to show progress: called with the plan when the apply
/// starts; what it returns is dropped when the apply ends.
pub type OnApply<'a> = &'a (dyn Fn(&dyn Provider, &Plan) -> Option<Box<dyn Send>> + Sync);

impl Prepared {
    /// Every target planned, zone after zone: the provider and its report so far.
    pub fn targets(&self) -> impl Iterator<Item = (&Arc<dyn Provider>, &TargetReport)> {
        self.zones.iter().flat_map(|z| z.targets.iter().map(|(p, t)| (p, t)))
    }

    /// The plans, zone after zone, target after target.
    pub fn plans(&self) -> impl Iterator<Item = &Plan> {
        self.zones.iter().flat_map(|z| z.targets.iter().filter_map(|(_, t)| t.plan.as_ref()))
    }

    /// Whether nothing would change anywhere.
    pub fn is_empty(&self) -> bool {
        self.plans().all(Plan::is_empty)
    }

    /// Why applying needs `--force`, for every target of every transaction that does not
    /// have it: the provider, the zone and the problems.
    fn unsafe_targets(&self) -> Vec<(&str, &Name, Vec<String>)> {
        self.zones
            .iter()
            .filter(|z| !z.options.force)
            .flat_map(|z| {
                z.targets
                    .iter()
                    .filter_map(|(_, t)| t.plan.as_ref())
                    .map(|plan| (plan.provider.as_str(), &plan.zone, plan.safety_problems(&z.options.safety)))
            })
            .filter(|(_, _, problems)| !problems.is_empty())
            .collect()
    }

    /// Why applying needs `--force`, each line naming the zone and target.
    pub fn safety_problems(&self) -> Vec<String> {
        self.unsafe_targets()
            .into_iter()
            .flat_map(|(provider, zone, problems)| {
                problems.into_iter().map(move |p| format!("{zone} at {provider}: {p}"))
            })
            .collect()
    }

    /// Fails, naming every problem, when a target's plan needs `--force` its transaction
    /// does not have.
    pub fn refuse_unsafe(&self) -> Result<()> {
        let found = self.unsafe_targets();
        let Some((provider, zone, _)) = found.first() else { return Ok(()) };
        let (provider, zone) = (provider.to_string(), (*zone).clone());
        let problems = found
            .into_iter()
            .enumerate()
            .flat_map(|(i, (p, z, problems))| {
                // The error names the first target; the others' problems name theirs.
                problems.into_iter().map(move |line| if i == 0 { line } else { format!("{z} at {p}: {line}") })
            })
            .collect();
        Err(Error::Refused { provider, zone, problems })
    }

    /// The reports without applying (a dry run: every target planned, nothing sent).
    pub fn into_reports(self) -> Vec<ChangeReport> {
        self.zones
            .into_iter()
            .map(|z| ChangeReport { zone: z.zone, targets: z.targets.into_iter().map(|(_, t)| t).collect() })
            .collect()
    }

    /// Backs each target up and applies its plan, zone after zone, target after target; a
    /// target that fails does not stop the others. The locks are released at the end.
    pub async fn apply(self, on_apply: Option<OnApply<'_>>) -> Vec<ChangeReport> {
        let mut reports = Vec::with_capacity(self.zones.len());
        for zone in self.zones {
            let mut targets = Vec::with_capacity(zone.targets.len());
            for (provider, mut target) in zone.targets {
                if let Some(plan) = target.plan.as_ref().filter(|p| !p.is_empty()) {
                    let shown = on_apply.and_then(|f| f(provider.as_ref(), plan));
                    let backups = zone.options.backup_dir.as_deref().map(|dir| (dir, zone.options.backup_keep));
                    let (applied, counts) = meter::measured(apply_target(provider.as_ref(), plan, backups)).await;
                    drop(shown);
                    let (backup, report) = applied;
                    if let Some((path, pruned)) = backup {
                        target.backup = Some(path);
                        if pruned > 0 {
                            let keep = zone.options.backup_keep.unwrap_or_default();
                            target.notes.push(format!(
                                "removed {pruned} older backup(s) of the zone here, keeping the newest {keep} \
                                 ([backups] keep)"
                            ));
                        }
                    }
                    target.outcomes = report.outcomes;
                    hold_back_rate_limited(&mut target);
                    target.counts.merge(&counts);
                }
                targets.push(target);
            }
            reports.push(ChangeReport { zone: zone.zone, targets });
        }
        reports
    }
}

/// A change the service refused with 429 was not acted on: it is "not attempted", never
/// "FAILED" — running again makes it — and why is said once for the target, not per change.
fn hold_back_rate_limited(target: &mut TargetReport) {
    let mut why = None;
    for outcome in &mut target.outcomes {
        if matches!(outcome, Outcome::Failed(Error::RateLimited { .. }))
            && let Outcome::Failed(error) = std::mem::replace(outcome, Outcome::NotAttempted)
        {
            why.get_or_insert(error);
        }
    }
    if let Some(error) = why {
        let held = target.outcomes.iter().filter(|o| matches!(o, Outcome::NotAttempted)).count();
        target
            .notes
            .push(format!("{held} change(s) not attempted: {error}; running the same command again makes them"));
    }
}

/// The backup (and how many older ones it pruned), then the apply; a backup that cannot
/// be written stops the target.
async fn apply_target(
    provider: &dyn Provider,
    plan: &Plan,
    backups: Option<(&std::path::Path, Option<usize>)>,
) -> (Option<(PathBuf, usize)>, ApplyReport) {
    let backup = match backups.map(|(dir, keep)| crate::backup::write(dir, plan, keep)).transpose() {
        Ok(backup) => backup,
        Err(e) => return (None, ApplyReport::not_started(e, plan.operations.len())),
    };
    (backup, provider.apply(&plan.zone, &plan.operations).await)
}

/// The digest of the records a plan manages, `existing` in the digest's order
/// ([`crate::saved::sort_for_digest`]): a record the plan ignores (an ACME challenge, a
/// provider's own SOA) may change between plan and apply without making the reviewed
/// changes wrong.
fn managed_digest(existing: &[Existing], caps: &Capabilities, zone: &Name, options: &PlanOptions) -> ReadDigest {
    let managed = existing.iter().filter(|e| options.manages(caps, zone, &e.record.name, e.record.rtype()));
    crate::saved::digest_in_order(managed)
}

/// A saved plan's target, to apply as it is (see [`crate::saved`]).
pub struct SavedTarget {
    /// The provider instance.
    pub provider: Arc<dyn Provider>,
    /// The plan, its operations as saved.
    pub plan: Plan,
    /// What the target held when planned (the records it manages).
    pub read: ReadDigest,
    /// The zone's ignore rules now: the records they match are not compared.
    pub ignore: Vec<IgnoreRule>,
    /// How to apply (backups, locking; force: a saved plan was reviewed whole).
    pub options: Options,
}

/// Locks and reads every target of a saved plan, and refuses the whole plan — naming each
/// zone — when one no longer holds what was read when it was made: someone changed it
/// since, and the changes reviewed are not the ones its state needs. Nothing is sent.
pub async fn prepare_saved(saved: Vec<SavedTarget>) -> Result<Prepared> {
    let mut order: Vec<(String, &Name, &Arc<dyn Provider>)> =
        saved.iter().filter(|s| s.options.lock).map(|s| (s.provider.account(), &s.plan.zone, &s.provider)).collect();
    order.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    order.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let mut locks = Vec::with_capacity(order.len());
    for (_, zone, provider) in order {
        locks.push(provider.lock(zone).await?);
    }
    let mut zones: Vec<PreparedZone> = Vec::new();
    let mut changed = Vec::new();
    for target in saved {
        let SavedTarget { provider, mut plan, read, ignore, options } = target;
        let (records, counts) = meter::measured(provider.list_records(&plan.zone)).await;
        let mut records = records?;
        crate::saved::sort_for_digest(&plan.zone, &mut records);
        let compared = PlanOptions { ignore, ttl_policy: options.ttl_policy, ..PlanOptions::default() };
        if managed_digest(&records, provider.capabilities(), &plan.zone, &compared) != read {
            changed.push(format!("{} at {}", plan.zone, plan.provider));
            continue;
        }
        if options.backup_dir.is_some() {
            plan.current = plan::current_zone(&plan.zone, records);
        }
        let report = TargetReport::planned(provider.name().to_owned(), plan, counts);
        match zones.last_mut().filter(|z| z.zone == report.plan.as_ref().expect("planned").zone) {
            Some(zone) => zone.targets.push((provider, report)),
            None => zones.push(PreparedZone {
                zone: report.plan.as_ref().expect("planned").zone.clone(),
                options,
                targets: vec![(provider, report)],
            }),
        }
    }
    if !changed.is_empty() {
        return Err(Error::InvalidConfig(format!(
            "{} changed since the plan was made: nothing was sent; plan again and review the new plan",
            changed.join(", ")
        )));
    }
    Ok(Prepared { zones, _locks: locks })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::memory::InMemory;
    use crate::provider::{Change, Outcome, UpdateStyle};
    use crate::rdata::Txt;
    use crate::report::Status;

    fn name(text: &str) -> Name {
        Name::parse(text).unwrap()
    }

    fn ttl(secs: u32) -> Ttl {
        Ttl::from_secs(secs).unwrap()
    }

    fn txt(value: &str) -> RData {
        RData::Txt(Txt::from_value(value))
    }

    #[test]
    fn changes_refused_with_429_are_not_attempted_and_said_once() {
        let limited = || Error::RateLimited { provider: "zone".into(), retry_after: None, message: String::new() };
        let refused = Error::Conflict { provider: "zone".into(), message: "taken".into() };
        let mut target = TargetReport::unreadable("zone".into(), refused.clone(), crate::meter::Counts::default());
        target.outcomes = vec![
            Outcome::Done,
            Outcome::Failed(limited()),
            Outcome::Failed(limited()),
            Outcome::NotAttempted,
            Outcome::Failed(refused),
        ];
        hold_back_rate_limited(&mut target);
        let kinds: Vec<&str> = target
            .outcomes
            .iter()
            .map(|o| match o {
                Outcome::Done => "done",
                Outcome::NotAttempted => "not attempted",
                Outcome::Failed(_) => "failed",
                Outcome::Unknown(_) => "unknown",
            })
            .collect();
        assert_eq!(kinds, ["done", "not attempted", "not attempted", "not attempted", "failed"]);
        assert_eq!(
            target.notes,
            ["3 change(s) not attempted: zone: rate limited by the service; running the same command again makes them"]
        );
    }

    fn provider(label: &str, records: &[(&str, RData)]) -> Arc<InMemory> {
        let p = InMemory::new(label);
        let origin = name("example.com");
        let records = records.iter().map(|(n, d)| Record::new(name(n), ttl(300), d.clone())).collect();
        p.put_zone(&Zone::from_records(origin, records));
        Arc::new(p)
    }

    fn route(targets: &[Arc<InMemory>]) -> Route {
        Route {
            zone: name("example.com"),
            targets: targets.iter().map(|p| p.clone() as Arc<dyn Provider>).collect(),
            nameservers: Vec::new(),
        }
    }

    async fn values(p: &InMemory, at: &str) -> Vec<String> {
        let mut v: Vec<String> = p
            .list_records(&name("example.com"))
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.record.name == name(at))
            .map(|e| format!("{} {}", e.record.ttl, e.record.data))
            .collect();
        v.sort();
        v
    }

    #[tokio::test]
    async fn an_edit_is_applied_to_each_target_and_reported_per_target() {
        let a = provider("a", &[("x.example.com", txt("one"))]);
        let b = provider("b", &[]);
        let ops = vec![Op::Add { name: name("x.example.com"), data: txt("two"), ttl: None }];
        let filter = RecordFilter { name: Some(name("x.example.com")), rtype: Some(RecordType::Txt) };
        let report =
            run(Transaction::edit(route(&[a.clone(), b.clone()]), filter, ops, Options::default())).await.unwrap();
        assert_eq!(values(&a, "x.example.com").await, ["300 \"one\"", "300 \"two\""]);
        // The op, not a copy of the first target: b gains the value it was asked to add.
        assert_eq!(values(&b, "x.example.com").await, ["3600 \"two\""]);
        let statuses: Vec<Status> = report.targets.iter().map(|t| t.status()).collect();
        assert_eq!(statuses, [Status::Done, Status::Done]);
        assert!(report.targets.iter().all(|t| t.plan.as_ref().unwrap().is_partial()));
    }

    #[tokio::test]
    async fn one_target_failing_midway_leaves_the_other_written_and_says_so() {
        let a = provider("a", &[]);
        let b = provider("b", &[]);
        b.fail_from(Some(0));
        let ops = vec![
            Op::Add { name: name("x.example.com"), data: txt("v"), ttl: Some(ttl(60)) },
            Op::Add { name: name("y.example.com"), data: txt("w"), ttl: Some(ttl(60)) },
        ];
        let report =
            run(Transaction::edit(route(&[a.clone(), b.clone()]), RecordFilter::default(), ops, Options::default()))
                .await
                .unwrap();
        assert_eq!(values(&a, "y.example.com").await, ["60 \"w\""]);
        assert_eq!(report.targets[0].status(), Status::Done);
        assert_eq!(report.targets[1].status(), Status::Failed);
        assert!(matches!(report.targets[1].outcomes[0], Outcome::Failed(_)));
        assert!(!report.is_ok());
    }

    #[tokio::test]
    async fn a_refusal_at_one_target_sends_nothing_anywhere() {
        let a = provider("a", &[]);
        let mut strict = InMemory::with_style("b", UpdateStyle::PerRecord);
        let mut caps = strict.capabilities().clone();
        caps.ttl = TtlRule::Range { min: 300, max: 86400, step: 1, default: 300 };
        strict.set_capabilities(caps);
        strict.put_zone(&Zone::new(name("example.com")));
        let b = Arc::new(strict);
        let ops = vec![Op::Add { name: name("x.example.com"), data: txt("v"), ttl: Some(ttl(60)) }];
        let error = run(Transaction::edit(route(&[a.clone(), b]), RecordFilter::default(), ops, Options::default()))
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Refused { .. }), "{error}");
        assert!(values(&a, "x.example.com").await.is_empty(), "nothing sent to the first target either");
    }

    #[tokio::test]
    async fn a_condition_is_checked_against_the_first_target() {
        let a = provider("a", &[("x.example.com", txt("one"))]);
        let condition: Condition = Arc::new(|records: &[Record]| {
            if records.iter().any(|r| r.name.as_str() == "x.example.com.") {
                Err(Unmet { message: "x is in use".into(), code: 6 })
            } else {
                Ok(())
            }
        });
        let desired = Desired::Edit {
            filter: RecordFilter::default(),
            ops: vec![Op::Remove { name: name("x.example.com"), rtype: RecordType::Txt, data: None }],
            condition: Some(condition),
        };
        let transaction = Transaction { route: route(std::slice::from_ref(&a)), desired, options: Options::default() };
        match run(transaction).await.unwrap_err() {
            Error::ConditionFailed { code: 6, message, .. } => assert_eq!(message, "x is in use"),
            other => panic!("{other}"),
        }
        assert_eq!(values(&a, "x.example.com").await.len(), 1);
    }

    #[tokio::test]
    async fn an_edit_of_the_provider_s_own_records_says_so_and_sends_nothing() {
        let mut owning = InMemory::new("lua");
        let mut caps = owning.capabilities().clone();
        caps.owns_apex_ns = true;
        owning.set_capabilities(caps);
        owning.put_zone(&Zone::new(name("example.com")));
        let ops = vec![Op::Remove { name: name("example.com"), rtype: RecordType::Ns, data: None }];
        let route = Route { zone: name("example.com"), targets: vec![Arc::new(owning)], nameservers: Vec::new() };
        let error = run(Transaction::edit(route, RecordFilter::default(), ops, Options::default())).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "lua: zone example.com.: the apex NS records at lua are the provider's: not changed"
        );
    }

    #[tokio::test]
    async fn ops_keep_one_ttl_per_set_and_match_values_as_the_provider_keeps_them() {
        let mut caps = Capabilities { txt_strings_kept: false, ..Capabilities::default() };
        let mut records = vec![Record::new(name("x.example.com"), ttl(300), RData::Txt(Txt::from_strings(["a", "b"])))];
        apply_op(&mut records, &Op::Add { name: name("x.example.com"), data: txt("ab"), ttl: None }, &caps, ttl(1));
        assert_eq!(records.len(), 1, "\"a\" \"b\" is \"ab\" where only the value is kept");
        apply_op(
            &mut records,
            &Op::Add { name: name("x.example.com"), data: txt("c"), ttl: Some(ttl(60)) },
            &caps,
            ttl(1),
        );
        assert!(records.iter().all(|r| r.ttl == ttl(60)), "the whole set takes the new TTL");
        caps.txt_strings_kept = true;
        apply_op(
            &mut records,
            &Op::Remove { name: name("x.example.com"), rtype: RecordType::Txt, data: Some(txt("ab")) },
            &caps,
            ttl(1),
        );
        assert_eq!(records.len(), 2, "kept strings: \"a\" \"b\" is not \"ab\"");
        apply_op(
            &mut records,
            &Op::Replace { name: name("x.example.com"), rtype: RecordType::Txt, data: vec![], ttl: None },
            &caps,
            ttl(1),
        );
        assert!(records.is_empty());
    }

    /// A plan sorts the records it read once, for its digest and itself, and takes the
    /// digest of a large zone on a thread of its own: the digest is still that of the
    /// records, and the plan still sees them in zone order.
    #[tokio::test]
    async fn a_large_zone_planned_has_the_digest_of_its_records() {
        let zone = name("example.com");
        let p = provider("a", &[]);
        let records: Vec<Record> = (0..PARALLEL_DIGEST + 100)
            .map(|i| Record::new(name(&format!("h{i}.example.com")), ttl(300), txt(&i.to_string())))
            .collect();
        // Created last to first, the records are listed out of zone order.
        let creates: Vec<Change> = records.iter().rev().cloned().map(Change::Create).collect();
        assert!(p.apply(&zone, &creates).await.outcomes.iter().all(|o| matches!(o, Outcome::Done)));
        let listed = p.list_records(&zone).await.unwrap();
        assert!(!listed.is_sorted_by(|a, b| a.record.zone_order(&b.record).is_le()));

        let kept = Zone::from_records(zone.clone(), records[..10].to_vec());
        // The backup directory is not written to: nothing is applied.
        let backup_dir = Some(PathBuf::from("never-written"));
        let transaction = Transaction {
            route: route(std::slice::from_ref(&p)),
            desired: Desired::Zone { zone: kept.clone(), ignore: Vec::new() },
            options: Options { digest: true, backup_dir, ..Options::default() },
        };
        let prepared = prepare(vec![transaction]).await.unwrap();
        let (_, target) = prepared.targets().next().unwrap();
        assert_eq!(target.read_digest, Some(crate::saved::digest(&listed)));
        let plan = target.plan.as_ref().unwrap();
        assert_eq!(plan.summary, crate::plan::Summary { create: 0, update: 0, delete: records.len() - 10 });
        assert_eq!(plan.current.records(), Zone::from_records(zone.clone(), records).records());

        // Without a backup to make, the plan keeps no copy of the zone.
        let transaction = Transaction {
            route: route(std::slice::from_ref(&p)),
            desired: Desired::Zone { zone: kept, ignore: Vec::new() },
            options: Options { digest: true, ..Options::default() },
        };
        let prepared = prepare(vec![transaction]).await.unwrap();
        let plan = prepared.plans().next().unwrap();
        assert_eq!(plan.summary, crate::plan::Summary { create: 0, update: 0, delete: PARALLEL_DIGEST + 90 });
        assert!(plan.current.records().is_empty());
    }

    #[test]
    fn rrsig_sets_are_keyed_by_the_type_they_cover() {
        let caps = Capabilities::default();
        let rrsig = |covered: &str, key_tag: u16| {
            let text = format!("{covered} 8 3 300 20260101000000 20250101000000 {key_tag} example.com. AAAA");
            RData::parse(RecordType::Other(46), &text, None).unwrap()
        };
        let at = name("x.example.com");
        let ttls = |records: &[Record]| {
            let mut found: Vec<(Option<u16>, u32)> =
                records.iter().map(|r| (r.data.covered_type(), r.ttl.as_secs())).collect();
            found.sort();
            found
        };
        let mut records = vec![
            Record::new(at.clone(), ttl(3600), rrsig("A", 1)),
            Record::new(at.clone(), ttl(86400), rrsig("NSEC", 1)),
        ];
        let add = Op::Add { name: at.clone(), data: rrsig("A", 2), ttl: Some(ttl(300)) };
        apply_op(&mut records, &add, &caps, ttl(1));
        assert_eq!(ttls(&records), [(Some(1), 300), (Some(1), 300), (Some(47), 86400)], "NSEC's RRSIG keeps its TTL");
        // Without a TTL, an RRSIG joins its own set's TTL.
        apply_op(&mut records, &Op::Add { name: at.clone(), data: rrsig("NSEC", 2), ttl: None }, &caps, ttl(1));
        assert_eq!(records.iter().filter(|r| r.ttl == ttl(86400)).count(), 2);
        // Replacing with an RRSIG over A replaces only the RRSIGs over A.
        let replace =
            Op::Replace { name: at.clone(), rtype: RecordType::Other(46), data: vec![rrsig("A", 3)], ttl: None };
        apply_op(&mut records, &replace, &caps, ttl(1));
        assert_eq!(ttls(&records), [(Some(1), 300), (Some(47), 86400), (Some(47), 86400)]);
        // Removing the type without a value removes every set of it.
        let remove = Op::Remove { name: at.clone(), rtype: RecordType::Other(46), data: None };
        apply_op(&mut records, &remove, &caps, ttl(1));
        assert!(records.is_empty());
    }
}

//! Plans: the desired zone against what a provider holds, as plain data.
//!
//! A plan is computed per record set (name and type), checked against the provider's
//! [`Capabilities`] before anything is sent, and turned into the operations the provider's
//! API takes ([`UpdateStyle`]), ordered so that names keep answering while it is applied.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::glob;
use crate::name::Name;
use crate::provider::{ApplyReport, Capabilities, Change, Existing, Provider, UpdateStyle};
use crate::rdata::RData;
use crate::record::{Record, Zone};
use crate::rtype::RecordType;
use crate::ttl::Ttl;

/// Records the user does not manage: an owner pattern (relative to the zone or absolute;
/// `*` matches any run of characters, dots included) and an optional type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreRule {
    /// The owner pattern: `_acme-challenge`, `*.dev`, `@`.
    pub name: String,
    /// Only this type; all types when absent.
    #[serde(default, rename = "type")]
    pub rtype: Option<RecordType>,
}

impl IgnoreRule {
    /// Whether the rule covers records of `rtype` at `name` in the zone `origin`.
    pub fn matches(&self, name: &Name, rtype: RecordType, origin: &Name) -> bool {
        if self.rtype.is_some_and(|t| t != rtype) {
            return false;
        }
        let pattern = self.name.to_ascii_lowercase();
        glob::matches(&pattern, &name.relative_to(origin))
            || glob::matches(pattern.trim_end_matches('.'), name.as_str().trim_end_matches('.'))
    }
}

/// How to plan.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Records left alone whatever either side holds.
    pub ignore: Vec<IgnoreRule>,
    /// Also manage the provider's own SOA and apex NS (normally left alone).
    pub manage_provider_records: bool,
    /// What to do with a desired TTL the provider would refuse.
    pub ttl_policy: TtlPolicy,
    /// The plan is an edit of some values, not the owner of whole record sets: where the
    /// provider can change records one by one besides replacing sets
    /// ([`Capabilities::record_ops`]), it does, so that a value another writer added since
    /// the read is not erased by a set written from the read.
    pub narrow: bool,
}

/// What to do with a desired TTL the provider's rule does not allow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TtlPolicy {
    /// Refuse the plan, naming each record (nothing is changed that the user did not ask).
    #[default]
    Refuse,
    /// Use the nearest TTL the provider allows; the plan shows it.
    Round,
}

impl PlanOptions {
    /// Whether the plan manages records of `rtype` at `name`: not ignored, and not the
    /// provider's own SOA or apex NS unless asked.
    pub fn manages(&self, caps: &Capabilities, origin: &Name, name: &Name, rtype: RecordType) -> bool {
        if self.ignore.iter().any(|rule| rule.matches(name, rtype, origin)) {
            return false;
        }
        self.manage_provider_records
            || !((caps.owns_soa && rtype == RecordType::Soa)
                || (caps.owns_apex_ns && rtype == RecordType::Ns && name == origin))
    }
}

/// A current set and the desired set it pairs with (either may be missing).
type SetPair<'a> = (Option<Set<'a, Existing>>, Option<Set<'a, Record>>);

/// What happens to one record set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// A new set.
    Create,
    /// A set whose TTL or values change.
    Update,
    /// A set that goes away.
    Delete,
}

/// A record set's TTL and values.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SetValues {
    /// The TTL.
    pub ttl: Ttl,
    /// The values, in presentation form with absolute names.
    #[serde(serialize_with = "presentation")]
    pub data: Vec<RData>,
}

fn presentation<S: serde::Serializer>(data: &[RData], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(data.iter().map(ToString::to_string))
}

/// A change to one record set.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SetChange {
    /// The owner.
    pub name: Name,
    /// The type.
    #[serde(rename = "type")]
    pub rtype: RecordType,
    /// Create, update or delete.
    pub action: Action,
    /// The set now (absent for a create).
    pub before: Option<SetValues>,
    /// The set after (absent for a delete).
    pub after: Option<SetValues>,
}

/// The changes that take a provider's zone to the desired zone.
///
/// Serialized (JSON) as `{"provider","zone","current_records","changes":[{"name","type",
/// "action","before":{"ttl","data":[…]}|null,"after":…}],"summary":{"create","update","delete"}}`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Plan {
    /// The provider instance.
    pub provider: String,
    /// The zone.
    pub zone: Name,
    /// Records the provider holds that the plan manages (not ignored, not the provider's own).
    pub current_records: usize,
    /// The set changes, in zone order.
    pub changes: Vec<SetChange>,
    /// Counts of `changes` by action.
    pub summary: Summary,
    /// What the user should know of this provider for this plan, one line each: TTLs it
    /// does not keep, how long its request budget makes the apply.
    pub notes: Vec<String>,
    /// The operations to send, in order, in the provider's update style.
    #[serde(skip)]
    pub operations: Vec<Change>,
    /// Everything the provider held when planned, for the backup (empty when the
    /// transaction makes none).
    #[serde(skip)]
    pub current: Zone,
    /// What of the zone was read: all of it, or (an edit of one name) the records the
    /// filter picks, so that `current` and `current_records` are that part.
    #[serde(skip)]
    pub scope: crate::provider::RecordFilter,
}

/// Counts of set changes by action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Sets created.
    pub create: usize,
    /// Sets updated.
    pub update: usize,
    /// Sets deleted.
    pub delete: usize,
}

/// When a plan is too big to apply without `--force`.
#[derive(Debug, Clone, Copy)]
pub struct Safety {
    /// Largest share of existing records a plan may update or delete.
    pub max_change_ratio: f64,
    /// Zones with fewer records than this are not held to the ratio.
    pub min_records: usize,
}

impl Default for Safety {
    /// octoDNS's defaults: 30% of zones with 10 or more records.
    fn default() -> Safety {
        Safety { max_change_ratio: 0.3, min_records: 10 }
    }
}

/// A set, borrowed from the records it groups: owner, type, and its records (the TTL is the
/// lowest among them). Only sets that change are copied into the plan.
struct Set<'a, T> {
    name: &'a Name,
    rtype: RecordType,
    ttl: Ttl,
    records: &'a [T],
}

// By hand: a derive would ask `T: Copy`, and only the borrow is copied.
impl<T> Clone for Set<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Set<'_, T> {}

/// Plans `desired` against the provider's `current` records: the sets are grouped and
/// paired, the changed ones kept, the changes checked against the provider's capabilities,
/// and turned into the provider's operations.
pub fn plan(
    provider: &str,
    caps: &Capabilities,
    desired: &Zone,
    current: Vec<Existing>,
    options: &PlanOptions,
) -> Result<Plan> {
    let mut current = current;
    crate::record::sort_in_zone_order(
        desired.origin(),
        &mut current,
        |e| &e.record.name,
        |a, b| a.record.order_at_name(&b.record),
    );
    let mut plan = plan_in_order(provider, caps, desired, &current, options)?;
    plan.current = current_zone(desired.origin(), current);
    Ok(plan)
}

/// [`plan`] of `current` records already in zone order (as [`crate::saved::sort_for_digest`]
/// leaves them): the sets of both sides stream past each other once, and only those that
/// change are kept. The plan's [`Plan::current`] is left empty: the records move into it
/// ([`current_zone`]) once the caller is done reading them.
pub(crate) fn plan_in_order(
    provider: &str,
    caps: &Capabilities,
    desired: &Zone,
    current: &[Existing],
    options: &PlanOptions,
) -> Result<Plan> {
    let origin = desired.origin().clone();
    let managed = |name: &Name, rtype| options.manages(caps, &origin, name, rtype);
    let (mut current_records, mut desires_records) = (0, false);
    let current_sets = current_sets(current, managed).inspect(|set| current_records += set.records.len());
    let desired_sets = desired_sets(desired, managed).map(|mut set| {
        desires_records = true;
        if options.ttl_policy == TtlPolicy::Round {
            set.ttl = caps.ttl.round(set.ttl);
        }
        set
    });
    let comparable = |data: &RData| comparable(caps, data);
    let (changes, changed) = set_changes(pair_sets(current_sets, desired_sets), caps, &comparable);

    let problems = check_capabilities(provider, caps, &origin, &changes, desired);
    if !problems.is_empty() {
        return Err(Error::Refused { provider: provider.to_owned(), zone: origin, problems });
    }
    let style = if options.narrow && caps.record_ops { UpdateStyle::PerRecord } else { caps.updates };
    let operations = operations(caps, style, &changed, &comparable);
    drop(changed);
    let notes = notes(provider, caps, desires_records, operations.len());
    let count = |action| changes.iter().filter(|c| c.action == action).count();
    let summary =
        Summary { create: count(Action::Create), update: count(Action::Update), delete: count(Action::Delete) };
    Ok(Plan {
        provider: provider.to_owned(),
        zone: origin,
        current_records,
        changes,
        summary,
        notes,
        operations,
        current: Zone::new(desired.origin().clone()),
        scope: crate::provider::RecordFilter::default(),
    })
}

/// The zone of the records a plan was made against, in zone order, for [`Plan::current`]:
/// the backup needs every record as read, and they move, not copy, into it.
pub(crate) fn current_zone(origin: &Name, current: Vec<Existing>) -> Zone {
    Zone::from_sorted(origin.clone(), current.into_iter().map(|e| e.record).collect())
}

/// The plan's notes: a provider without TTLs says so (once: the zone's TTLs go nowhere, and
/// no plan waits on them), and one whose budget makes the apply slow says how slow.
fn notes(provider: &str, caps: &Capabilities, manages_records: bool, operations: usize) -> Vec<String> {
    let mut notes = Vec::new();
    if caps.ttl == crate::provider::TtlRule::None && manages_records {
        notes.push(format!("{provider} keeps no TTLs: the zone's TTLs are not sent there, and not compared"));
    }
    if let Some(rate) = caps.rate_limit.filter(|_| !caps.bulk) {
        let takes = rate.per.mul_f64(operations as f64 / f64::from(rate.requests.max(1)));
        if takes >= std::time::Duration::from_secs(30) {
            notes.push(format!(
                "{provider} allows {} requests per {}: these {operations} changes take about {} to send",
                rate.requests,
                crate::duration::show(rate.per),
                crate::duration::show(takes)
            ));
        }
    }
    notes
}

/// The provider's records (in zone order) grouped into the sets the plan manages.
fn current_sets<'a>(
    current: &'a [Existing],
    managed: impl Fn(&Name, RecordType) -> bool,
) -> impl Iterator<Item = Set<'a, Existing>> {
    current
        .chunk_by(|a, b| a.record.same_set(&b.record))
        .filter(move |set| managed(&set[0].record.name, set[0].record.rtype()))
        .map(|set| Set {
            name: &set[0].record.name,
            rtype: set[0].record.rtype(),
            ttl: set.iter().map(|e| e.record.ttl).min().expect("non-empty"),
            records: set,
        })
}

/// The desired zone's sets the plan manages.
fn desired_sets<'a>(
    desired: &'a Zone,
    managed: impl Fn(&Name, RecordType) -> bool,
) -> impl Iterator<Item = Set<'a, Record>> {
    desired.record_set_slices().filter(move |set| managed(&set[0].name, set[0].rtype())).map(|set| Set {
        name: &set[0].name,
        rtype: set[0].rtype(),
        ttl: set[0].ttl,
        records: set,
    })
}

/// Data as the provider keeps it: TXT strings joined where it keeps only the value, and no
/// SOA serial (the provider's to manage).
fn comparable(caps: &Capabilities, data: &RData) -> RData {
    match data {
        RData::Txt(txt) if !caps.txt_strings_kept => RData::Txt(txt.normalized()),
        RData::Soa(soa) => {
            let mut soa = soa.clone();
            soa.serial = 0;
            RData::Soa(soa)
        }
        // Zone files keep a CAA tag as written (`ISSUE`), providers often in lower case
        // (Domeneshop by number, ZoneID): no change to plan for the case alone.
        RData::Caa(caa) if caa.tag.bytes().any(|b| b.is_ascii_uppercase()) => {
            let mut caa = caa.clone();
            caa.tag = caa.tag.to_ascii_lowercase().into();
            RData::Caa(caa)
        }
        other => other.clone(),
    }
}

trait Covered {
    fn data(&self) -> &RData;
}

impl Covered for Existing {
    fn data(&self) -> &RData {
        &self.record.data
    }
}

impl Covered for Record {
    fn data(&self) -> &RData {
        &self.data
    }
}

impl<T: Covered> Set<'_, T> {
    /// The type the set's RRSIGs (or SIGs) cover: two such sets at one name are two sets.
    fn covered(&self) -> Option<u16> {
        self.records[0].data().covered_type()
    }
}

/// Walks both sorted streams of sets together, pairing the sets of one name and type.
fn pair_sets<'a>(
    current: impl Iterator<Item = Set<'a, Existing>>,
    desired: impl Iterator<Item = Set<'a, Record>>,
) -> impl Iterator<Item = SetPair<'a>> {
    use std::cmp::Ordering;
    let (mut current, mut desired) = (current.peekable(), desired.peekable());
    std::iter::from_fn(move || {
        let order = match (current.peek(), desired.peek()) {
            (Some(c), Some(d)) => c.name.cmp(d.name).then(c.rtype.cmp(&d.rtype)).then(c.covered().cmp(&d.covered())),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => return None,
        };
        Some(match order {
            Ordering::Less => (current.next(), None),
            Ordering::Greater => (None, desired.next()),
            Ordering::Equal => (current.next(), desired.next()),
        })
    })
}

/// The pairs whose sets differ, as set changes for people and as the pairs the operations
/// are made from.
fn set_changes<'a>(
    pairs: impl Iterator<Item = SetPair<'a>>,
    caps: &Capabilities,
    comparable: &dyn Fn(&RData) -> RData,
) -> (Vec<SetChange>, Vec<SetPair<'a>>) {
    let mut changes = Vec::new();
    let mut changed = Vec::new();
    for (before, after) in pairs {
        let (name, rtype, action) = match (before, after) {
            (None, Some(a)) => (a.name, a.rtype, Action::Create),
            (Some(b), None) => (b.name, b.rtype, Action::Delete),
            (Some(b), Some(a)) => {
                if same_values(b.records, a.records, comparable) && (!caps.keeps_ttl(b.rtype) || b.ttl == a.ttl) {
                    continue;
                }
                (b.name, b.rtype, Action::Update)
            }
            (None, None) => continue,
        };
        changes.push(SetChange {
            name: name.clone(),
            rtype,
            action,
            before: before
                .map(|b| SetValues { ttl: b.ttl, data: b.records.iter().map(|e| e.record.data.clone()).collect() }),
            after: after.map(|a| SetValues { ttl: a.ttl, data: a.records.iter().map(|r| r.data.clone()).collect() }),
        });
        changed.push((before, after));
    }
    (changes, changed)
}

/// Whether two sets hold the same values as the provider keeps them, in any order.
fn same_values(held: &[Existing], wanted: &[Record], comparable: &dyn Fn(&RData) -> RData) -> bool {
    if held.len() != wanted.len() {
        return false;
    }
    // Both sides in zone order, the same values meet pairwise: no copy of either is made
    // (a copy of every value was a third of planning a million records).
    if held.iter().zip(wanted).all(|(h, w)| h.record.data == w.data) {
        return true;
    }
    let mut old: Vec<RData> = held.iter().map(|e| comparable(&e.record.data)).collect();
    let mut new: Vec<RData> = wanted.iter().map(|r| comparable(&r.data)).collect();
    old.sort();
    new.sort();
    old == new
}

/// Every way the changes break the provider's rules, one line each.
fn check_capabilities(
    provider: &str,
    caps: &Capabilities,
    origin: &Name,
    changes: &[SetChange],
    desired: &Zone,
) -> Vec<String> {
    let mut problems = Vec::new();
    for change in changes {
        let shown = change.name.relative_to(origin);
        let rtype = change.rtype;
        if !caps.supports(rtype) {
            problems.push(format!("{shown} {rtype}: {provider} does not support {rtype} records"));
            continue;
        }
        if caps.read_only_types.contains(&rtype) {
            let verb = match change.action {
                Action::Create => "create",
                Action::Update => "change",
                Action::Delete => "delete",
            };
            problems.push(format!("{shown} {rtype}: {provider} cannot {verb} {rtype} records (read-only there)"));
            continue;
        }
        if let Some(after) = &change.after {
            if let Some(why) = caps.ttl.check(after.ttl).filter(|_| caps.keeps_ttl(rtype)) {
                let nearest = caps.ttl.round(after.ttl);
                problems.push(format!(
                    "{shown} {rtype}: {why}, which {provider} refuses; the nearest TTL it allows is {nearest} \
                     (--ttl-policy round uses it)"
                ));
            }
            let broken =
                caps.data_rule.into_iter().flat_map(|rule| after.data.iter().filter_map(move |d| Some((d, rule(d)?))));
            for (data, why) in broken {
                problems.push(format!("{shown} {rtype} {}: {why}", data.display_relative(origin)));
            }
        }
    }
    // Zone files are checked when read; zones built in code are checked here: every name
    // inside the zone, and a CNAME alone at its name. Nothing is allocated for a name
    // without a problem (a name shown for each was a tenth of planning a large zone).
    let (mut outside, mut at_names) = (Vec::new(), Vec::new());
    for at_name in desired.records().chunk_by(|a, b| a.name == b.name) {
        let name = &at_name[0].name;
        if !name.is_subdomain_of(origin) {
            outside.extend(at_name.iter().map(|_| format!("{name}: outside the zone {origin}")));
        }
        let has_cname = at_name.iter().any(|r| r.rtype() == RecordType::Cname);
        if has_cname && at_name.iter().any(|r| r.rtype() != RecordType::Cname && !r.rtype().may_accompany_cname()) {
            at_names.push(format!("{}: CNAME and other data at one name", name.relative_to(origin)));
            continue;
        }
        if caps.exclusive.is_empty() {
            continue;
        }
        let mut types: Vec<RecordType> = at_name.iter().map(Record::rtype).collect();
        types.dedup();
        for (i, &a) in types.iter().enumerate() {
            for &b in &types[i + 1..] {
                if caps.exclusive.iter().any(|&p| p == (a, b) || p == (b, a)) {
                    at_names
                        .push(format!("{}: {a} and {b} cannot share a name at {provider}", name.relative_to(origin)));
                }
            }
        }
    }
    problems.extend(outside);
    problems.extend(at_names);
    problems
}

/// The provider's operations for the changed sets, in a safe order: deletes that would
/// block a create at the same name (CNAME against other data, or a pair the provider
/// keeps apart) first, then creates and updates, then the other deletes. Every record
/// carries its set's TTL (rounded, where the plan rounded it).
fn operations<'a>(
    caps: &Capabilities,
    style: UpdateStyle,
    pairs: &[SetPair<'a>],
    comparable: &dyn Fn(&RData) -> RData,
) -> Vec<Change> {
    let name_of = |(before, after): &SetPair<'a>| before.as_ref().map(|b| b.name).or(after.as_ref().map(|a| a.name));
    let (mut first, mut main, mut last) = (Vec::new(), Vec::with_capacity(pairs.len()), Vec::new());
    // The pairs are in zone order, those of one name together: the types created at a
    // name are among its own pairs (a map of them for the whole zone was 2 MB and a hash
    // per change, in a plan of 28k changes).
    for at_name in pairs.chunk_by(|a, b| name_of(a) == name_of(b)) {
        let created = at_name.iter().filter_map(|(_, after)| after.as_ref().map(|a| a.rtype));
        for (before, after) in at_name {
            let (name, rtype) = match (before, after) {
                (Some(b), _) => (b.name, b.rtype),
                (None, Some(a)) => (a.name, a.rtype),
                (None, None) => continue,
            };
            let records: Vec<Record> = after
                .map(|a| a.records.iter().map(|r| Record { ttl: a.ttl, ..r.clone() }).collect())
                .unwrap_or_default();
            let existing: Vec<Existing> = before.map(|b| b.records.to_vec()).unwrap_or_default();
            if after.is_none() {
                let blocks = created.clone().any(|t| caps.conflicting(rtype, t));
                let target = if blocks { &mut first } else { &mut last };
                match style {
                    UpdateStyle::RecordSet => target.push(Change::ReplaceSet {
                        name: name.clone(),
                        rtype,
                        from: existing,
                        records: Vec::new(),
                    }),
                    UpdateStyle::PerRecord | UpdateStyle::RemoveAdd => {
                        target.extend(existing.into_iter().map(Change::Delete))
                    }
                }
                continue;
            }
            match style {
                UpdateStyle::RecordSet => {
                    main.push(Change::ReplaceSet { name: name.clone(), rtype, from: existing, records })
                }
                UpdateStyle::PerRecord | UpdateStyle::RemoveAdd => {
                    record_operations(style, rtype, existing, records, comparable, &mut main)
                }
            }
        }
    }
    // Most plans have no deletes to put first: the creates and updates are not copied.
    if first.is_empty() {
        main.append(&mut last);
        return main;
    }
    first.append(&mut main);
    first.append(&mut last);
    first
}

/// Per-record operations for one set: unchanged records are left alone; a record whose TTL
/// alone changes is updated (or removed and added again); the rest are paired into updates
/// where the provider has them, else created and deleted — new records before old ones, so
/// the name keeps answering, except for a CNAME, which cannot have two values at once.
fn record_operations(
    style: UpdateStyle,
    rtype: RecordType,
    mut existing: Vec<Existing>,
    records: Vec<Record>,
    comparable: &dyn Fn(&RData) -> RData,
    out: &mut Vec<Change>,
) {
    let mut added = Vec::new();
    let (mut removes, mut adds) = (Vec::new(), Vec::new());
    for record in records {
        let wanted = comparable(&record.data);
        match existing.iter().position(|e| comparable(&e.record.data) == wanted) {
            Some(at) => {
                let old = existing.swap_remove(at);
                if old.record.ttl != record.ttl {
                    match style {
                        UpdateStyle::PerRecord => out.push(Change::Update { from: old, to: record }),
                        // Adding the same data again would be a duplicate: remove first.
                        _ => {
                            removes.push(Change::Delete(old));
                            adds.push(Change::Create(record));
                        }
                    }
                }
            }
            None => added.push(record),
        }
    }
    if style == UpdateStyle::PerRecord {
        let pairs = existing.len().min(added.len());
        for (from, to) in existing.drain(..pairs).zip(added.drain(..pairs)) {
            out.push(Change::Update { from, to });
        }
    }
    adds.extend(added.into_iter().map(Change::Create));
    let deletes = existing.into_iter().map(Change::Delete);
    if rtype == RecordType::Cname || !removes.is_empty() {
        out.extend(removes);
        out.extend(deletes);
        out.extend(adds);
    } else {
        out.extend(adds);
        out.extend(deletes);
    }
}

impl Plan {
    /// Whether only a part of the zone was read (see [`Plan::scope`]).
    pub fn is_partial(&self) -> bool {
        self.scope != crate::provider::RecordFilter::default()
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Why applying this plan needs `--force`: too large a share of the zone changes, or
    /// existing apex NS records change or go.
    pub fn safety_problems(&self, safety: &Safety) -> Vec<String> {
        let mut problems = Vec::new();
        // A record is touched when its data goes, or its set's TTL changes; a value added
        // to a set leaves the others as they were.
        let touched: usize = self
            .changes
            .iter()
            .map(|c| match (&c.before, &c.after) {
                (Some(before), Some(after)) if before.ttl != after.ttl => before.data.len(),
                (Some(before), Some(after)) => before.data.iter().filter(|d| !after.data.contains(d)).count(),
                (Some(before), None) => before.data.len(),
                (None, _) => 0,
            })
            .sum();
        // A part of the zone (an edit of one name) says nothing of the zone's size.
        if !self.is_partial()
            && self.current_records >= safety.min_records
            && touched as f64 > safety.max_change_ratio * self.current_records as f64
        {
            problems.push(format!(
                "the plan updates or deletes {touched} of {} records ({:.0}%), more than the {:.0}% allowed without --force",
                self.current_records,
                100.0 * touched as f64 / self.current_records as f64,
                100.0 * safety.max_change_ratio
            ));
        }
        // Creating apex NS where there were none (a new zone) changes no delegation.
        if self.changes.iter().any(|c| c.rtype == RecordType::Ns && c.name == self.zone && c.action != Action::Create) {
            problems.push("the plan changes the apex NS records, which is refused without --force".into());
        }
        problems
    }

    /// The plan for people: `+` create, `-` delete, `~` update, then a summary line.
    /// With `color`, ANSI colours (green, red, yellow).
    pub fn to_text(&self, color: bool) -> String {
        let mut out = String::new();
        self.write_text(color, &mut out).expect("a String takes any text");
        out
    }

    /// [`Plan::to_text`], written into `out` as it is made: a 1M-record plan's text is
    /// megabytes, and the string growing to hold it was the top of `zonectl plan`'s memory.
    pub fn write_text(&self, color: bool, out: &mut impl std::fmt::Write) -> std::fmt::Result {
        let paint = |code: &str, text: String| if color { format!("\x1b[{code}m{text}\x1b[0m") } else { text };
        if self.is_partial() {
            writeln!(out, "zone {} at {}", self.zone, self.provider)?;
        } else {
            writeln!(out, "zone {} at {} ({} managed records)", self.zone, self.provider, self.current_records)?;
        }
        for change in &self.changes {
            let name = change.name.relative_to(&self.zone);
            let line = |values: &SetValues, data: &RData| {
                format!("{name} {} IN {} {}", values.ttl, change.rtype, data.display_relative(&self.zone))
            };
            match (&change.before, &change.after) {
                (None, Some(after)) => {
                    for d in &after.data {
                        writeln!(out, "{}", paint("32", format!("+ {}", line(after, d))))?;
                    }
                }
                (Some(before), None) => {
                    for d in &before.data {
                        writeln!(out, "{}", paint("31", format!("- {}", line(before, d))))?;
                    }
                }
                (Some(before), Some(after)) => {
                    let old: Vec<String> = before.data.iter().map(|d| line(before, d)).collect();
                    let new: Vec<String> = after.data.iter().map(|d| line(after, d)).collect();
                    let text = format!("~ {name} {}: {} → {}", change.rtype, old.join(", "), new.join(", "));
                    writeln!(out, "{}", paint("33", text))?;
                }
                (None, None) => {}
            }
        }
        let s = self.summary;
        if self.is_empty() {
            out.write_str("No changes.\n")?;
        } else {
            writeln!(out, "Plan: {} to create, {} to update, {} to delete.", s.create, s.update, s.delete)?;
        }
        for note in &self.notes {
            writeln!(out, "Note: {note}.")?;
        }
        Ok(())
    }

    /// The plan as Markdown, for a pull-request comment.
    pub fn to_markdown(&self) -> String {
        let mut out = format!("### `{}` at `{}`\n\n", self.zone, self.provider);
        if self.is_empty() {
            out += "No changes.\n";
            return out;
        }
        out += "| | name | type | before | after |\n|---|---|---|---|---|\n";
        let cell = |v: &Option<SetValues>| {
            v.as_ref().map_or(String::new(), |v| {
                let data: Vec<String> = v.data.iter().map(|d| d.display_relative(&self.zone).to_string()).collect();
                format!("{} `{}`", v.ttl, data.join("`<br>`").replace('|', "\\|"))
            })
        };
        for change in &self.changes {
            let sign = match change.action {
                Action::Create => "+",
                Action::Update => "~",
                Action::Delete => "-",
            };
            let _ = writeln!(
                out,
                "| {sign} | `{}` | {} | {} | {} |",
                change.name.relative_to(&self.zone),
                change.rtype,
                cell(&change.before),
                cell(&change.after)
            );
        }
        let s = self.summary;
        let _ = writeln!(out, "\n{} to create, {} to update, {} to delete.", s.create, s.update, s.delete);
        for note in &self.notes {
            let _ = writeln!(out, "\n> {note}.");
        }
        out
    }
}

/// How to apply.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// Apply even past the safety thresholds.
    pub force: bool,
    /// The thresholds.
    pub safety: Safety,
    /// Where to write the backup of the zone before the first change; none: no backup.
    pub backup_dir: Option<PathBuf>,
}

/// What an apply did.
#[derive(Debug)]
pub struct Applied {
    /// The backup written before the first change.
    pub backup: Option<PathBuf>,
    /// One outcome per operation of the plan.
    pub report: ApplyReport,
}

/// Applies `plan` to `provider`: refuses an unsafe plan without `force`, backs the zone up,
/// then sends the operations in order.
pub async fn apply(provider: &dyn Provider, plan: &Plan, options: &ApplyOptions) -> Result<Applied> {
    if plan.is_empty() {
        return Ok(Applied { backup: None, report: ApplyReport::default() });
    }
    if !options.force {
        let problems = plan.safety_problems(&options.safety);
        if !problems.is_empty() {
            return Err(Error::Refused { provider: plan.provider.clone(), zone: plan.zone.clone(), problems });
        }
    }
    let backup = match &options.backup_dir {
        Some(dir) => Some(crate::backup::write(dir, plan, None)?.0),
        None => None,
    };
    let report = provider.apply(&plan.zone, &plan.operations).await;
    Ok(Applied { backup, report })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_rules_match_relative_and_absolute_names_and_types() {
        let origin: Name = "example.com".parse().unwrap();
        let name: Name = "_acme-challenge.www.example.com".parse().unwrap();
        let rule = |pattern: &str, rtype: Option<RecordType>| IgnoreRule { name: pattern.into(), rtype };
        assert!(rule("_acme-challenge*", None).matches(&name, RecordType::Txt, &origin));
        assert!(rule("_acme-challenge.www.example.com.", Some(RecordType::Txt)).matches(
            &name,
            RecordType::Txt,
            &origin
        ));
        assert!(!rule("_acme-challenge*", Some(RecordType::A)).matches(&name, RecordType::Txt, &origin));
        assert!(rule("@", None).matches(&origin, RecordType::Mx, &origin));
    }
}

//! `memory`: zones held in memory, for tests and as the reference behaviour of a provider.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use foldhash::fast::FixedState;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::kind::{BuildContext, ProviderConfig, ProviderKind, parse_settings};
use super::{ApplyReport, Capabilities, Change, Existing, Provider, RecordId, UpdateStyle, apply_each};
use crate::error::{Error, Result};
use crate::name::Name;
use crate::record::{Record, Zone};
use crate::rtype::RecordType;

/// The registry's entry: `kind = "memory"`, zones that live as long as the process.
pub static KIND: ProviderKind = ProviderKind {
    name: "memory",
    aliases: &[],
    about: "zones held in memory for as long as the process runs (tests)",
    env: &[],
    capabilities: || InMemory::new("memory").capabilities,
    parse: parse_settings::<MemorySettings>,
};

/// `[providers.NAME]` of kind `memory`: the zones to start with, empty.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MemorySettings {
    #[serde(default)]
    zones: Vec<Name>,
}

impl ProviderConfig for MemorySettings {
    fn build(&self, name: &str, _: &BuildContext) -> Result<Arc<dyn Provider>> {
        let provider = InMemory::new(name);
        for zone in &self.zones {
            provider.put_zone(&Zone::new(zone.clone()));
        }
        Ok(Arc::new(provider))
    }
}

/// Zones in memory. Ids are assigned on creation, as an HTTP provider would.
#[derive(Debug)]
pub struct InMemory {
    name: String,
    capabilities: Capabilities,
    zones: Mutex<BTreeMap<Name, ZoneState>>,
    next_id: AtomicU64,
    /// Fail every change from this index on (counted over the provider's life), for tests
    /// of partial failure; `usize::MAX`: never.
    fail_from: AtomicUsize,
    changes_seen: AtomicUsize,
}

impl InMemory {
    /// An empty provider named `name` that replaces whole record sets.
    pub fn new(name: impl Into<String>) -> InMemory {
        InMemory::with_style(name, UpdateStyle::RecordSet)
    }

    /// An empty provider that takes changes in the given style.
    pub fn with_style(name: impl Into<String>, updates: UpdateStyle) -> InMemory {
        InMemory {
            name: name.into(),
            capabilities: Capabilities {
                unknown_types: true,
                updates,
                bulk: updates == UpdateStyle::RecordSet,
                ..Capabilities::default()
            },
            zones: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(1),
            fail_from: AtomicUsize::new(usize::MAX),
            changes_seen: AtomicUsize::new(0),
        }
    }

    /// Changes the capabilities (tests of the engine's checks).
    pub fn set_capabilities(&mut self, capabilities: Capabilities) {
        self.capabilities = capabilities;
    }

    /// Adds a zone holding `zone`'s records, replacing any of the same name.
    pub fn put_zone(&self, zone: &Zone) {
        let state = ZoneState::from_records(
            zone.records().iter().map(|r| Existing { record: r.clone(), id: Some(self.new_id()) }),
        );
        self.zones.lock().expect("not poisoned").insert(zone.origin().clone(), state);
    }

    /// Lets `Some(n)` more changes through, then fails every change (a transport error
    /// that leaves the zone untouched) until called with `None`.
    pub fn fail_from(&self, after: Option<usize>) {
        let at = after.map_or(usize::MAX, |n| self.changes_seen.load(Ordering::SeqCst) + n);
        self.fail_from.store(at, Ordering::SeqCst);
    }

    fn new_id(&self) -> RecordId {
        self.next_id.fetch_add(1, Ordering::Relaxed).to_string().into()
    }
}

/// A record set's key: its owner name and type, and the type an RRSIG or SIG set covers.
type SetKey = (Name, RecordType, Option<u16>);

fn key_of(record: &Record) -> SetKey {
    (record.name.clone(), record.rtype(), record.data.covered_type())
}

/// The records of one zone, and the rules every provider enforces on changes to them.
///
/// Records are kept by set, so that each change finds what it touches without a scan: k
/// changes to n records are O(n + k), not O(n·k) (16k changed sets took 2.9 s and 32k took
/// 12.6 s with one list scanned per change). The `zonefile` provider merges a whole plan
/// into the zone in one pass instead (its `merge`), and comes here only for an update that
/// moves a record to another set; the errors below are the same in both.
#[derive(Debug, Default, Clone)]
pub(crate) struct ZoneState {
    sets: HashMap<SetKey, Vec<Existing>, FixedState>,
    /// Each key once, in the order its set first appeared: listings keep the order records
    /// were added in, whatever the hasher does.
    order: Vec<SetKey>,
}

impl ZoneState {
    /// The state holding `records`.
    pub fn from_records(records: impl IntoIterator<Item = Existing>) -> ZoneState {
        let mut state = ZoneState::default();
        for existing in records {
            state.push(existing);
        }
        state
    }

    /// Adds a record to its set.
    pub fn push(&mut self, existing: Existing) {
        let key = key_of(&existing.record);
        match self.sets.entry(key) {
            Entry::Occupied(mut set) => set.get_mut().push(existing),
            Entry::Vacant(vacant) => {
                self.order.push(vacant.key().clone());
                vacant.insert(vec![existing]);
            }
        }
    }

    /// Every record, set by set in the order the sets first appeared.
    pub fn records(&self) -> impl Iterator<Item = &Existing> {
        self.order.iter().flat_map(|key| self.sets.get(key).into_iter().flatten())
    }

    /// Every record, as [`ZoneState::records`] orders them.
    pub fn into_records(mut self) -> Vec<Existing> {
        let mut all = Vec::with_capacity(self.sets.values().map(Vec::len).sum());
        for key in &self.order {
            all.extend(self.sets.remove(key).into_iter().flatten());
        }
        all
    }

    fn set_mut(&mut self, record: &Record) -> Option<&mut Vec<Existing>> {
        // A borrowed key would need the tuple built anyway: a name clone per change is the
        // price of an owned key.
        self.sets.get_mut(&key_of(record))
    }

    /// Applies one change, refusing what a careful provider refuses: a duplicate create, a
    /// delete or update of a record that is not there, and a record set replaced that no
    /// longer holds what the plan read (another edit came between: planning again is the
    /// only safe answer).
    pub fn apply(
        &mut self,
        provider: &str,
        change: &Change,
        mut new_id: impl FnMut() -> Option<RecordId>,
    ) -> Result<()> {
        // Where the record with this name and data is in its set (the TTL is not part of
        // identity).
        let position = |set: &[Existing], record: &Record| set.iter().position(|e| e.record.data == record.data);
        match change {
            Change::Create(record) => {
                let exists = self.set_mut(record).is_some_and(|set| position(set, record).is_some());
                if exists {
                    return Err(exists_already(provider, record));
                }
                self.push(Existing { record: record.clone(), id: new_id() });
            }
            Change::Update { from, to } => {
                let from = &from.record;
                let set = self.set_mut(from).ok_or_else(|| not_found(provider, from))?;
                let at = position(set, from).ok_or_else(|| not_found(provider, from))?;
                if to.same_set(from) {
                    set[at].record = to.clone();
                } else {
                    // Another name or type: the record moves to that set.
                    let mut moved = set.remove(at);
                    moved.record = to.clone();
                    self.push(moved);
                }
            }
            Change::Delete(existing) => {
                let record = &existing.record;
                let set = self.set_mut(record).ok_or_else(|| not_found(provider, record))?;
                let at = position(set, record).ok_or_else(|| not_found(provider, record))?;
                set.remove(at);
            }
            Change::ReplaceSet { name, rtype, from, records } => {
                let key = (name.clone(), *rtype, replaced_covered_type(from, records));
                let held_now = self.sets.get(&key).map_or(&[][..], Vec::as_slice);
                if !same_records(held_now.iter().map(|e| &e.record), from) {
                    return Err(set_changed(provider, *rtype, name));
                }
                if let Some(set) = self.sets.get_mut(&key) {
                    set.clear();
                }
                for record in records {
                    self.push(Existing { record: record.clone(), id: new_id() });
                }
            }
        }
        Ok(())
    }
}

/// A create of a record the set already holds.
pub(crate) fn exists_already(provider: &str, record: &Record) -> Error {
    Error::Conflict { provider: provider.to_owned(), message: format!("{record} exists") }
}

/// An update or delete of a record the set does not hold.
pub(crate) fn not_found(provider: &str, record: &Record) -> Error {
    Error::NotFound { provider: provider.to_owned(), what: format!("record {record}") }
}

/// A replace of a set that no longer holds what the plan read.
pub(crate) fn set_changed(provider: &str, rtype: RecordType, name: &Name) -> Error {
    Error::Conflict {
        provider: provider.to_owned(),
        message: format!("the {rtype} set at {name} changed since it was read; plan again from the zone as it is now"),
    }
}

/// The covered type of the set a [`Change::ReplaceSet`] replaces: an RRSIG set is the
/// RRSIGs over one type, and every record read and written covers it.
pub(crate) fn replaced_covered_type(from: &[Existing], records: &[Record]) -> Option<u16> {
    from.iter().map(|e| &e.record).chain(records).find_map(|r| r.data.covered_type())
}

/// Whether a set holds the records a plan read, in any order.
pub(crate) fn same_records<'a>(held: impl Iterator<Item = &'a Record>, read: &[Existing]) -> bool {
    let mut held: Vec<&Record> = held.collect();
    let mut read: Vec<&Record> = read.iter().map(|e| &e.record).collect();
    held.sort_by(|a, b| a.zone_order(b));
    read.sort_by(|a, b| a.zone_order(b));
    held == read
}

#[async_trait::async_trait]
impl Provider for InMemory {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn list_zones(&self) -> Result<Vec<Name>> {
        Ok(self.zones.lock().expect("not poisoned").keys().cloned().collect())
    }

    async fn list_records(&self, zone: &Name) -> Result<Vec<Existing>> {
        let zones = self.zones.lock().expect("not poisoned");
        let state = zones
            .get(zone)
            .ok_or_else(|| Error::NotFound { provider: self.name.clone(), what: format!("zone {zone}") })?;
        Ok(state.records().cloned().collect())
    }

    async fn apply(&self, zone: &Name, changes: &[Change]) -> ApplyReport {
        apply_each(changes, |change| {
            let result = (|| {
                let index = self.changes_seen.fetch_add(1, Ordering::SeqCst);
                if index >= self.fail_from.load(Ordering::SeqCst) {
                    return Err(Error::Transport {
                        provider: self.name.clone(),
                        message: format!("injected failure at change {index}"),
                        ambiguous: false,
                        source: None,
                    });
                }
                let mut zones = self.zones.lock().expect("not poisoned");
                let state = zones
                    .get_mut(zone)
                    .ok_or_else(|| Error::NotFound { provider: self.name.clone(), what: format!("zone {zone}") })?;
                state.apply(&self.name, change, || Some(self.new_id()))
            })();
            std::future::ready(result)
        })
        .await
    }
}

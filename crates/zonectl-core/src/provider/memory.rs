//! `memory`: zones held in memory, for tests and as the reference behaviour of a provider.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::kind::{BuildContext, ProviderConfig, ProviderKind, parse_settings};
use super::{ApplyReport, Capabilities, Change, Existing, Provider, UpdateStyle, apply_each};
use crate::error::{Error, Result};
use crate::name::Name;
use crate::record::{Record, Zone};

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
        let mut state = ZoneState::default();
        for record in zone.records() {
            state.records.push(Existing { record: record.clone(), id: Some(self.new_id()) });
        }
        self.zones.lock().expect("not poisoned").insert(zone.origin().clone(), state);
    }

    /// Lets `Some(n)` more changes through, then fails every change (a transport error
    /// that leaves the zone untouched) until called with `None`.
    pub fn fail_from(&self, after: Option<usize>) {
        let at = after.map_or(usize::MAX, |n| self.changes_seen.load(Ordering::SeqCst) + n);
        self.fail_from.store(at, Ordering::SeqCst);
    }

    fn new_id(&self) -> String {
        self.next_id.fetch_add(1, Ordering::Relaxed).to_string()
    }
}

/// The records of one zone, and the rules every provider enforces on changes to them.
#[derive(Debug, Default, Clone)]
pub(crate) struct ZoneState {
    pub records: Vec<Existing>,
}

impl ZoneState {
    /// Applies one change, refusing what a careful provider refuses: a duplicate create, a
    /// delete or update of a record that is not there, and a record set replaced that no
    /// longer holds what the plan read (another edit came between: planning again is the
    /// only safe answer).
    pub fn apply(&mut self, provider: &str, change: &Change, mut new_id: impl FnMut() -> Option<String>) -> Result<()> {
        let not_found = |r: &Record| Error::NotFound { provider: provider.to_owned(), what: format!("record {r}") };
        match change {
            Change::Create(record) => {
                if self.position(record).is_some() {
                    return Err(Error::Conflict { provider: provider.to_owned(), message: format!("{record} exists") });
                }
                self.records.push(Existing { record: record.clone(), id: new_id() });
            }
            Change::Update { from, to } => {
                let at = self.position(&from.record).ok_or_else(|| not_found(&from.record))?;
                self.records[at].record = to.clone();
            }
            Change::Delete(existing) => {
                let at = self.position(&existing.record).ok_or_else(|| not_found(&existing.record))?;
                self.records.swap_remove(at);
            }
            Change::ReplaceSet { name, rtype, from, records } => {
                let in_set = |r: &Record| r.name == *name && r.rtype() == *rtype;
                let mut held: Vec<&Record> = self.records.iter().map(|e| &e.record).filter(|r| in_set(r)).collect();
                let mut read: Vec<&Record> = from.iter().map(|e| &e.record).collect();
                held.sort_by(|a, b| a.zone_order(b));
                read.sort_by(|a, b| a.zone_order(b));
                if held != read {
                    return Err(Error::Conflict {
                        provider: provider.to_owned(),
                        message: format!(
                            "the {rtype} set at {name} changed since it was read; plan again from the zone as it is now"
                        ),
                    });
                }
                self.records.retain(|e| !in_set(&e.record));
                for record in records {
                    self.records.push(Existing { record: record.clone(), id: new_id() });
                }
            }
        }
        Ok(())
    }

    /// Where the record with this name and data is (the TTL is not part of identity).
    fn position(&self, record: &Record) -> Option<usize> {
        self.records.iter().position(|e| e.record.name == record.name && e.record.data == record.data)
    }
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
        Ok(state.records.clone())
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

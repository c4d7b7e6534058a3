//! `memory`: zones held in memory, for tests and as the reference behaviour of a provider.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::{ApplyReport, Capabilities, Change, Existing, Provider, TtlRule, UpdateStyle, apply_each};
use crate::error::{Error, Result};
use crate::name::Name;
use crate::record::{Record, Zone};
use crate::rtype::RecordType;

/// Zones in memory. Ids are assigned on creation, as an HTTP provider would.
#[derive(Debug)]
pub struct InMemory {
    name: String,
    capabilities: Capabilities,
    zones: Mutex<BTreeMap<Name, ZoneState>>,
    next_id: AtomicU64,
    /// Fail the change with this index (counted over the provider's life), for tests of
    /// partial failure; `usize::MAX`: never.
    fail_at: AtomicUsize,
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
                record_types: RecordType::MODELED.to_vec(),
                unknown_types: true,
                read_only_types: Vec::new(),
                ttl: TtlRule::ANY,
                updates,
                bulk: true,
                asynchronous: false,
                owns_soa: false,
                owns_apex_ns: false,
                txt_strings_kept: true,
                rate_limit: None,
            },
            zones: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(1),
            fail_at: AtomicUsize::new(usize::MAX),
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

    /// Makes the change with this index, counted from now, fail (a transport error that
    /// leaves the zone untouched).
    pub fn fail_change(&self, index_from_now: usize) {
        let seen = self.changes_seen.load(Ordering::SeqCst);
        self.fail_at.store(seen + index_from_now, Ordering::SeqCst);
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
    /// delete or update of a record that is not there.
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
            Change::ReplaceSet { name, rtype, records, .. } => {
                self.records.retain(|e| !(e.record.name == *name && e.record.rtype() == *rtype));
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
                if index == self.fail_at.load(Ordering::SeqCst) {
                    return Err(Error::Transport {
                        provider: self.name.clone(),
                        message: format!("injected failure at change {index}"),
                        ambiguous: false,
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

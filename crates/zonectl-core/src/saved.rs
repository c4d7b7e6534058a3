//! Saved plans: what `zonectl plan --out FILE` writes and `zonectl apply FILE` applies —
//! exactly the reviewed changes, and only while every target zone still holds what was
//! read when the plan was made.
//!
//! The file is JSON, versioned (`zonectl_plan`), and holds no secret:
//!
//! ```json
//! {"zonectl_plan": 2, "made_by": "zonectl 0.1.0", "made_at": "2026-12-06T12:00:00Z",
//!  "config": {"path": "zonectl.toml", "sha256": "…"},
//!  "sources": [{"path": "zones/example.com.zone", "sha256": "…"}],
//!  "targets": [{"zone": "example.com.", "provider": "lua", "account": "sha256 of the account",
//!               "read": {"records": 12, "sha256": "…"}, "notes": [],
//!               "changes": [{"name", "type", "action", "before": {"ttl", "data"}, "after"}],
//!               "operations": [{"op": "create", "record": "www.example.com. 300 IN A 192.0.2.1"},
//!                              {"op": "update", "from": {"record", "id"}, "to": "…"},
//!                              {"op": "delete", "existing": {"record", "id"}},
//!                              {"op": "replace_set", "name", "type", "from": […], "records": […]}]}],
//!  "checksum": "sha256:…"}
//! ```
//!
//! `read` is a digest of every record the target held when planned, its provider's ids
//! included: a zone that changed since refuses the apply. `checksum` covers everything but
//! `made_by`, `made_at` and itself: a file altered by hand refuses the apply, and two plans of
//! the same inputs against the same zones have the same checksum (`apply --checksum`).

use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::name::Name;
use crate::plan::{Action, Plan, SetChange, SetValues, Summary};
use crate::provider::{Change, Existing, RecordId};
use crate::rdata::RData;
use crate::record::{Record, Zone};
use crate::rtype::RecordType;
use crate::ttl::Ttl;

/// The format this zonectl writes and reads.
pub const VERSION: u32 = 2;

/// A saved plan.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// The format's version.
    pub zonectl_plan: u32,
    /// Which zonectl wrote it (not checked: the format version is).
    pub made_by: String,
    /// When (UTC).
    pub made_at: String,
    /// The configuration it was made from, if any.
    pub config: Option<FileHash>,
    /// The source files of the zones planned.
    pub sources: Vec<FileHash>,
    /// One entry per zone and target.
    pub targets: Vec<SavedTarget>,
    /// `sha256:` and the digest of the file's content (see the module's documentation).
    #[serde(default)]
    pub checksum: String,
}

/// A file an input was read from, and its digest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileHash {
    /// The path, relative to the configuration's directory where it lies below it.
    pub path: String,
    /// Its SHA-256, hex.
    pub sha256: String,
}

impl FileHash {
    /// The digest of `path`, shown as `shown`.
    pub fn of(path: &std::path::Path, shown: String) -> Result<FileHash> {
        // Streamed: a zone file of 90 MB need not be in memory beside its zone.
        let mut hasher = Sha256::new();
        std::fs::File::open(path)
            .and_then(|mut file| std::io::copy(&mut file, &mut hasher))
            .map_err(|e| Error::io(path, e))?;
        Ok(FileHash { path: shown, sha256: hex(&hasher.finalize()) })
    }
}

/// What a target held when planned.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadDigest {
    /// How many records.
    pub records: usize,
    /// SHA-256 of every record and its provider id, in zone order.
    pub sha256: String,
}

/// The digest of what a target holds: the records in zone order with their ids, so that a
/// record deleted and made again (a new id, which a saved update would miss) counts as a
/// change.
///
/// The SHA-256 of the records in zone order (equal ones by TTL, then id), each written as:
/// its owner in presentation form and a zero octet; its type code in two octets (a type
/// without one, `URL`: 0xFFFF, its name and a zero octet); its TTL in four; the length of
/// its data in four and the data in wire form, names uncompressed (`URL`: its presentation
/// form); the length of its id in four and the id (none: 0xFFFFFFFF). Plan format 1 hashed
/// every record's text line, sorted as text: formatting and sorting a million lines was
/// 28% of planning a 1M-record zone.
pub fn digest<'a>(records: impl IntoIterator<Item = &'a Existing>) -> ReadDigest {
    let mut records: Vec<&Existing> = records.into_iter().collect();
    // A provider that lists in zone order (the zonefile provider does) costs one pass here.
    crate::record::sort_in_zone_order(&Name::root(), &mut records, |e| &e.record.name, |a, b| digest_order(a, b));
    digest_in_order(records)
}

/// Zone order, and equal records by TTL, then id: the order [`digest`] reads records in.
fn digest_order(a: &Existing, b: &Existing) -> std::cmp::Ordering {
    let (x, y) = (&a.record, &b.record);
    x.order_at_name(y).then_with(|| x.ttl.cmp(&y.ttl)).then_with(|| a.id.cmp(&b.id))
}

/// Puts `records`, which lie below `origin`, in the order [`digest`] reads them (zone
/// order, then TTL, then id), so that [`digest_in_order`] and a plan can take them as they
/// are: checking an order costs as much as a pass of the sort.
pub(crate) fn sort_for_digest(origin: &Name, records: &mut [Existing]) {
    crate::record::sort_in_zone_order(origin, records, |e| &e.record.name, digest_order);
}

/// [`digest`] of records already in its order ([`sort_for_digest`]).
pub(crate) fn digest_in_order<'a>(records: impl IntoIterator<Item = &'a Existing>) -> ReadDigest {
    let mut hasher = Sha256::new();
    let mut buffer = Vec::with_capacity(1 << 16);
    let mut count = 0;
    for e in records {
        count += 1;
        let record = &e.record;
        buffer.extend_from_slice(record.name.as_str().as_bytes());
        buffer.push(0);
        match record.rtype().code() {
            Some(code) => buffer.extend_from_slice(&code.to_be_bytes()),
            None => {
                buffer.extend_from_slice(&[0xff, 0xff]);
                buffer.extend_from_slice(record.rtype().mnemonic().as_bytes());
                buffer.push(0);
            }
        }
        buffer.extend_from_slice(&record.ttl.as_secs().to_be_bytes());
        let length_at = buffer.len();
        buffer.extend_from_slice(&[0; 4]);
        if !record.data.append_wire(&mut buffer) {
            use std::io::Write as _;
            let _ = write!(buffer, "{}", record.data);
        }
        let length = (buffer.len() - length_at - 4) as u32;
        buffer[length_at..length_at + 4].copy_from_slice(&length.to_be_bytes());
        match &e.id {
            Some(id) => {
                buffer.extend_from_slice(&(id.len() as u32).to_be_bytes());
                buffer.extend_from_slice(id.as_bytes());
            }
            None => buffer.extend_from_slice(&u32::MAX.to_be_bytes()),
        }
        if buffer.len() >= 1 << 15 {
            hasher.update(&buffer);
            buffer.clear();
        }
    }
    hasher.update(&buffer);
    ReadDigest { records: count, sha256: hex(&hasher.finalize()) }
}

/// One zone at one target, planned.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedTarget {
    /// The zone.
    pub zone: Name,
    /// The provider instance, as the configuration names it.
    pub provider: String,
    /// SHA-256 of the instance's account (endpoint and user): the file names no secret,
    /// and an instance that now points elsewhere is refused.
    pub account: String,
    /// What the target held.
    pub read: ReadDigest,
    /// What the plan said of the provider.
    pub notes: Vec<String>,
    /// The record-set changes, for people.
    pub changes: Vec<SavedSetChange>,
    /// What is sent, in order.
    pub operations: Vec<SavedChange>,
}

/// A record-set change as saved.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedSetChange {
    name: Name,
    #[serde(rename = "type")]
    rtype: RecordType,
    action: Action,
    before: Option<SavedSet>,
    after: Option<SavedSet>,
}

/// A set's TTL and values as saved (presentation forms, names absolute).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedSet {
    ttl: Ttl,
    data: Vec<String>,
}

/// A record the provider holds, with its id.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedExisting {
    record: String,
    id: Option<String>,
}

/// An operation as saved.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum SavedChange {
    /// [`Change::Create`].
    Create {
        /// The record.
        record: String,
    },
    /// [`Change::Update`].
    Update {
        /// The record as it is.
        from: SavedExisting,
        /// As it will be.
        to: String,
    },
    /// [`Change::Delete`].
    Delete {
        /// The record.
        existing: SavedExisting,
    },
    /// [`Change::ReplaceSet`].
    ReplaceSet {
        /// The owner.
        name: Name,
        /// The type.
        #[serde(rename = "type")]
        rtype: RecordType,
        /// What the set holds now.
        from: Vec<SavedExisting>,
        /// What it will hold.
        records: Vec<String>,
    },
}

impl SavedTarget {
    /// The target of `plan` at the instance whose account is `account`, which held
    /// `read`.
    pub fn new(plan: &Plan, account: &str, read: ReadDigest) -> SavedTarget {
        let set = |v: &SetValues| SavedSet { ttl: v.ttl, data: v.data.iter().map(ToString::to_string).collect() };
        let existing =
            |e: &Existing| SavedExisting { record: e.record.to_string(), id: e.id.as_deref().map(str::to_owned) };
        SavedTarget {
            zone: plan.zone.clone(),
            provider: plan.provider.clone(),
            account: hex(&Sha256::digest(account.as_bytes())),
            read,
            notes: plan.notes.clone(),
            changes: plan
                .changes
                .iter()
                .map(|c| SavedSetChange {
                    name: c.name.clone(),
                    rtype: c.rtype,
                    action: c.action,
                    before: c.before.as_ref().map(set),
                    after: c.after.as_ref().map(set),
                })
                .collect(),
            operations: plan
                .operations
                .iter()
                .map(|op| match op {
                    Change::Create(r) => SavedChange::Create { record: r.to_string() },
                    Change::Update { from, to } => SavedChange::Update { from: existing(from), to: to.to_string() },
                    Change::Delete(e) => SavedChange::Delete { existing: existing(e) },
                    Change::ReplaceSet { name, rtype, from, records } => SavedChange::ReplaceSet {
                        name: name.clone(),
                        rtype: *rtype,
                        from: from.iter().map(existing).collect(),
                        records: records.iter().map(ToString::to_string).collect(),
                    },
                })
                .collect(),
        }
    }

    /// Whether `account` is the account the plan was made for.
    pub fn is_account(&self, account: &str) -> bool {
        hex(&Sha256::digest(account.as_bytes())) == self.account
    }

    /// The plan again: its changes, operations and notes (what the target holds now is
    /// read when it is applied).
    pub fn plan(&self) -> Result<Plan> {
        let bad =
            |what: String| Error::InvalidConfig(format!("the plan of {} at {}: {what}", self.zone, self.provider));
        let data = |rtype: RecordType, text: &str| {
            RData::parse(rtype, text, None).map_err(|e| bad(format!("{rtype} data '{text}': {e}")))
        };
        let set = |rtype: RecordType, s: &SavedSet| -> Result<SetValues> {
            Ok(SetValues { ttl: s.ttl, data: s.data.iter().map(|d| data(rtype, d)).collect::<Result<_>>()? })
        };
        let record = |text: &str| record_from_line(text).map_err(|e| bad(format!("'{text}': {e}")));
        let existing = |e: &SavedExisting| -> Result<Existing> {
            Ok(Existing { record: record(&e.record)?, id: e.id.as_deref().map(RecordId::from) })
        };
        let changes = self
            .changes
            .iter()
            .map(|c| -> Result<SetChange> {
                Ok(SetChange {
                    name: c.name.clone(),
                    rtype: c.rtype,
                    action: c.action,
                    before: c.before.as_ref().map(|s| set(c.rtype, s)).transpose()?,
                    after: c.after.as_ref().map(|s| set(c.rtype, s)).transpose()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let operations = self
            .operations
            .iter()
            .map(|op| -> Result<Change> {
                Ok(match op {
                    SavedChange::Create { record: r } => Change::Create(record(r)?),
                    SavedChange::Update { from, to } => Change::Update { from: existing(from)?, to: record(to)? },
                    SavedChange::Delete { existing: e } => Change::Delete(existing(e)?),
                    SavedChange::ReplaceSet { name, rtype, from, records } => Change::ReplaceSet {
                        name: name.clone(),
                        rtype: *rtype,
                        from: from.iter().map(existing).collect::<Result<_>>()?,
                        records: records.iter().map(|r| record(r)).collect::<Result<_>>()?,
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let count = |action| changes.iter().filter(|c| c.action == action).count();
        let summary =
            Summary { create: count(Action::Create), update: count(Action::Update), delete: count(Action::Delete) };
        Ok(Plan {
            provider: self.provider.clone(),
            zone: self.zone.clone(),
            current_records: self.read.records,
            changes,
            summary,
            notes: self.notes.clone(),
            operations,
            current: Zone::new(self.zone.clone()),
            scope: crate::provider::RecordFilter::default(),
        })
    }
}

/// A record from its one-line form (`www.example.com. 300 IN A 192.0.2.1`).
fn record_from_line(text: &str) -> std::result::Result<Record, String> {
    let mut rest = text.trim_start();
    let mut token = || -> std::result::Result<&str, String> {
        let end = rest.find(char::is_whitespace).ok_or("too few fields")?;
        let (token, after) = rest.split_at(end);
        rest = after.trim_start();
        Ok(token)
    };
    let name = Name::parse(token()?).map_err(|e| e.to_string())?;
    let ttl = Ttl::parse(token()?).map_err(|e| e.to_string())?;
    if token()? != "IN" {
        return Err("not class IN".into());
    }
    let rtype: RecordType = token()?.parse().map_err(|e: crate::rtype::UnknownRecordType| e.to_string())?;
    let data = RData::parse(rtype, rest, None).map_err(|e| e.to_string())?;
    Ok(Record::new(name, ttl, data))
}

fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

impl PlanFile {
    /// A plan file of `targets`, made now from `config` and `sources`, its checksum set.
    pub fn new(config: Option<FileHash>, sources: Vec<FileHash>, targets: Vec<SavedTarget>) -> PlanFile {
        let mut file = PlanFile {
            zonectl_plan: VERSION,
            made_by: concat!("zonectl ", env!("CARGO_PKG_VERSION")).into(),
            made_at: jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            config,
            sources,
            targets,
            checksum: String::new(),
        };
        file.checksum = checksum_of(&file);
        file
    }

    /// The file's JSON, pretty-printed (one line per field: a plan reviewed in a pull
    /// request diffs well).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("serializable") + "\n"
    }

    /// Reads a plan file: refused, saying why, when it is not one, was made by an
    /// incompatible zonectl, or was altered since it was written.
    pub fn parse(text: &str, shown: &str) -> Result<PlanFile> {
        let refuse = |why: String| Error::InvalidConfig(format!("{shown}: {why}"));
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|_| refuse("not a zonectl plan file (not JSON)".into()))?;
        let version = value.get("zonectl_plan").and_then(serde_json::Value::as_u64).ok_or_else(|| {
            refuse("not a zonectl plan file (no zonectl_plan version); make one with zonectl plan --out".into())
        })?;
        let made_by = value.get("made_by").and_then(|v| v.as_str()).unwrap_or("another zonectl").to_owned();
        if version != u64::from(VERSION) {
            let newer = if version > u64::from(VERSION) { "a newer" } else { "an older" };
            return Err(refuse(format!(
                "made by {made_by}, {newer} zonectl (plan format {version}; this one reads format {VERSION}): \
                 plan again with this zonectl"
            )));
        }
        let written = value.get("checksum").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        if checksum(&value) != written {
            return Err(refuse(
                "altered since it was written (its checksum does not match its content); plan again".into(),
            ));
        }
        serde_json::from_value(value).map_err(|e| refuse(format!("not a plan file this zonectl reads: {e}")))
    }
}

/// The keys a plan file's checksum does not cover.
const UNCOVERED: [&str; 3] = ["made_by", "made_at", "checksum"];

/// `sha256:` and the digest of the canonical JSON of a plan file read back, without the
/// [`UNCOVERED`] keys.
fn checksum(value: &serde_json::Value) -> String {
    let mut bytes = Vec::new();
    // The keys not covered are skipped as it is written: no copy of the plan is made.
    crate::canonical::of(value, &UNCOVERED, &mut bytes).expect("a JSON value serializes");
    format!("sha256:{}", hex(&Sha256::digest(&bytes)))
}

/// [`checksum`] of a plan file being made, from the file itself. The file's two outer
/// levels are written here, their keys in order, and each change and operation below them
/// is made canonical by [`crate::canonical::of`] and hashed one at a time: the canonical
/// JSON of a 1M-record plan's file, made whole to be hashed, was the top of `zonectl
/// plan`'s memory (282 to 300 MiB). The tests compare it with [`checksum`] of the file
/// read back.
fn checksum_of(file: &PlanFile) -> String {
    let mut h = CanonicalHash { hash: Sha256::new(), piece: Vec::new() };
    h.value(r#"{"config":"#, &file.config);
    h.value(r#","sources":"#, &file.sources);
    h.text(r#","targets":["#);
    for (i, target) in file.targets.iter().enumerate() {
        h.value(if i == 0 { r#"{"account":"# } else { r#",{"account":"# }, &target.account);
        h.list(r#","changes":"#, &target.changes);
        h.value(r#","notes":"#, &target.notes);
        h.list(r#","operations":"#, &target.operations);
        h.value(r#","provider":"#, &target.provider);
        h.value(r#","read":"#, &target.read);
        h.value(r#","zone":"#, &target.zone);
        h.text("}");
    }
    h.value(r#"],"zonectl_plan":"#, &file.zonectl_plan);
    h.text("}");
    format!("sha256:{}", hex(&h.hash.finalize()))
}

/// Canonical JSON written into a hash a piece at a time (see [`checksum_of`]).
struct CanonicalHash {
    hash: Sha256,
    /// The canonical JSON of the value being hashed.
    piece: Vec<u8>,
}

impl CanonicalHash {
    fn text(&mut self, json: &str) {
        self.hash.update(json.as_bytes());
    }

    /// `json` (an entry's key, and what comes before it), then `value`'s canonical JSON.
    fn value(&mut self, json: &str, value: &impl serde::Serialize) {
        self.text(json);
        self.piece.clear();
        crate::canonical::of(value, &[], &mut self.piece).expect("a plan file serializes");
        self.hash.update(&self.piece);
    }

    /// `json`, then a JSON array of `items`, written as they come.
    fn list<T: serde::Serialize>(&mut self, json: &str, items: &[T]) {
        self.text(json);
        self.text("[");
        for (i, item) in items.iter().enumerate() {
            self.value(if i == 0 { "" } else { "," }, item);
        }
        self.text("]");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_goes_to_its_line_and_back() {
        for line in [
            "www.example.com. 300 IN A 192.0.2.1",
            "t.example.com. 60 IN TXT \"a b\" \"c\\\"d\"",
            "_sip._tcp.example.com. 60 IN SRV 0 5 5060 sip.example.com.",
            "www.example.com. 3600 IN URL 302 \"https://example.org/\"",
        ] {
            assert_eq!(record_from_line(line).unwrap().to_string(), line);
        }
        assert!(record_from_line("www.example.com. 300 CH A 192.0.2.1").is_err());
    }

    #[test]
    fn the_checksum_covers_the_content_not_the_time() {
        let file = PlanFile::new(None, vec![FileHash { path: "a.zone".into(), sha256: "00".into() }], Vec::new());
        let text = file.to_json();
        assert!(PlanFile::parse(&text, "p.json").is_ok());
        let retimed = text.replace(&file.made_at, "1999-01-01T00:00:00Z");
        assert!(PlanFile::parse(&retimed, "p.json").is_ok(), "the time is not covered");
        let altered = text.replace("a.zone", "b.zone");
        assert_eq!(
            PlanFile::parse(&altered, "p.json").unwrap_err().to_string(),
            "p.json: altered since it was written (its checksum does not match its content); plan again"
        );
        let newer = text.replace("\"zonectl_plan\": 2", "\"zonectl_plan\": 3");
        assert!(PlanFile::parse(&newer, "p.json").unwrap_err().to_string().contains("a newer zonectl (plan format 3"));
        // Format 1 hashed what a target held another way: its plans are made again.
        let older = text.replace("\"zonectl_plan\": 2", "\"zonectl_plan\": 1");
        assert!(PlanFile::parse(&older, "p.json").unwrap_err().to_string().contains("an older zonectl (plan format 1"));
        assert!(PlanFile::parse("{}", "p.json").unwrap_err().to_string().contains("not a zonectl plan file"));
    }

    /// The checksum written piece by piece is the one of the whole file's canonical JSON,
    /// and of the file read back: for two targets, every kind of change and operation.
    #[test]
    fn the_checksum_of_a_file_made_is_the_checksum_of_it_read_back() {
        let name = Name::parse("www.example.com").unwrap();
        let set = |data: &str| Some(SavedSet { ttl: Ttl::from_secs(300).unwrap(), data: vec![data.to_owned()] });
        let held = |record: &str| SavedExisting { record: record.to_owned(), id: Some("id \"7\"".into()) };
        let line = "www.example.com. 300 IN A 192.0.2.1";
        let target = |zone: &str, notes: Vec<String>| SavedTarget {
            zone: Name::parse(zone).unwrap(),
            provider: "files".into(),
            account: "00ff".into(),
            read: ReadDigest { records: 3, sha256: "ab".into() },
            notes,
            changes: vec![
                SavedSetChange {
                    name: name.clone(),
                    rtype: RecordType::A,
                    action: Action::Create,
                    before: None,
                    after: set("192.0.2.1"),
                },
                SavedSetChange {
                    name: name.clone(),
                    rtype: RecordType::Txt,
                    action: Action::Update,
                    before: set("\"é\""),
                    after: set("\"b\""),
                },
            ],
            operations: vec![
                SavedChange::Create { record: line.into() },
                SavedChange::Update { from: held(line), to: line.into() },
                SavedChange::Delete { existing: held(line) },
                SavedChange::ReplaceSet {
                    name: name.clone(),
                    rtype: RecordType::A,
                    from: vec![held(line)],
                    records: vec![line.into()],
                },
            ],
        };
        let config = Some(FileHash { path: "zonectl.toml".into(), sha256: "01".into() });
        let sources = vec![FileHash { path: "a.zone".into(), sha256: "00".into() }];
        let targets = vec![target("example.com", vec!["a note".into()]), target("example.org", Vec::new())];
        let file = PlanFile::new(config, sources, targets);
        let mut whole = Vec::new();
        crate::canonical::of(&file, &UNCOVERED, &mut whole).unwrap();
        assert_eq!(file.checksum, format!("sha256:{}", hex(&Sha256::digest(&whole))));
        assert_eq!(file.checksum, checksum(&serde_json::from_str(&file.to_json()).unwrap()));
        let empty = PlanFile::new(None, Vec::new(), Vec::new());
        assert_eq!(empty.checksum, checksum(&serde_json::to_value(&empty).unwrap()));
    }

    #[test]
    fn the_checksum_is_of_the_content_not_its_layout() {
        let file = PlanFile::new(None, vec![FileHash { path: "a.zone".into(), sha256: "00".into() }], Vec::new());
        // The same content, compact and with its keys in another order (as another build, or
        // an editor, may write them).
        let reordered = format!(
            r#"{{"checksum":"{}","targets":[],"sources":[{{"sha256":"00","path":"a.zone"}}],"config":null,"made_at":"x","made_by":"y","zonectl_plan":2}}"#,
            file.checksum
        );
        assert!(PlanFile::parse(&reordered, "p.json").is_ok());
        let mut bytes = Vec::new();
        let value = serde_json::json!({"b": [1, {"d": null, "c": "é"}], "a": true});
        crate::canonical::of(&value, &[], &mut bytes).unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), r#"{"a":true,"b":[1,{"c":"é","d":null}]}"#);
    }

    /// The digest is the SHA-256 of the records in zone order in the form the function's
    /// documentation gives, written out here by hand.
    #[test]
    fn the_digest_is_of_the_records_in_zone_order() {
        let existing = |line: &str, id: Option<&str>| Existing {
            record: record_from_line(line).unwrap(),
            id: id.map(RecordId::from),
        };
        let records = [
            existing("www.example.com. 300 IN A 192.0.2.1", Some("7")),
            existing("example.com. 3600 IN MX 10 mail.example.com.", None),
            existing("www.example.com. 300 IN A 192.0.2.0", Some("8")),
        ];
        let mut expected = Vec::new();
        // example.com. sorts before www.example.com.; 192.0.2.0 before 192.0.2.1.
        expected.extend_from_slice(b"example.com.\0\x00\x0f\x00\x00\x0e\x10");
        expected.extend_from_slice(&[0, 0, 0, 2 + 18, 0, 10]);
        expected.extend_from_slice(b"\x04mail\x07example\x03com\x00\xff\xff\xff\xff");
        for (last, id) in [(0u8, b'8'), (1, b'7')] {
            expected.extend_from_slice(b"www.example.com.\0\x00\x01\x00\x00\x01\x2c\x00\x00\x00\x04");
            expected.extend_from_slice(&[192, 0, 2, last, 0, 0, 0, 1, id]);
        }
        let sha256 = hex(&Sha256::digest(&expected));
        assert_eq!(digest(&records), ReadDigest { records: 3, sha256 });
        // Listed in another order, the same digest.
        assert_eq!(digest(records.iter().rev()), digest(&records));
        // The TTL counts, and a URL record (no wire form) has one too.
        let ttl = existing("www.example.com. 301 IN A 192.0.2.1", Some("7"));
        assert_ne!(digest(&records[1..]), digest([&records[1], &records[2], &ttl]));
        let url = [existing("www.example.com. 300 IN URL \"https://example.net/\"", None)];
        assert_ne!(digest(&url), digest(&records[..0]));
    }

    #[test]
    fn the_digest_counts_ids() {
        let record = record_from_line("www.example.com. 300 IN A 192.0.2.1").unwrap();
        let a = digest(&[Existing { record: record.clone(), id: Some("1".into()) }]);
        let b = digest(&[Existing { record, id: Some("2".into()) }]);
        assert_ne!(a, b, "a record made again has a new id: a saved update by id would miss it");
    }
}

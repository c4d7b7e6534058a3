//! `zonefile`: a directory holding one `<zone>.zone` file per zone, the provider that needs
//! no account. Files are kept in canonical form; every write goes through a temporary file
//! and a rename, and bumps the SOA serial.
//!
//! Two zonectl processes may work on one directory at once. Two locks per zone, in the
//! directory's `.zonectl/` folder, keep them from losing each other's changes:
//!
//! - the *edit* lock ([`Provider::lock`]), which a whole read → plan → apply holds, so that
//!   a second `apply` plans against the first one's result;
//! - the *write* lock, which every `apply` holds while it reads the file, checks that each
//!   record set it replaces still holds what was planned against, and writes the file back —
//!   so even a caller that takes no edit lock cannot lose another's update (it gets a
//!   conflict and plans again).
//!
//! Reading and writing files runs on tokio's blocking pool, off the async runtime.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::kind::{BuildContext, ProviderConfig, ProviderKind, parse_settings};
use super::memory::ZoneState;
use super::{ApplyReport, Capabilities, Change, Existing, Outcome, Provider, ZoneLock, apply_each};
use crate::error::{Error, Result};
use crate::name::Name;
use crate::rdata::RData;
use crate::record::{Record, Zone};
use crate::rtype::RecordType;
use crate::zonefile::{self, ReadOptions};

/// The registry's entry: `kind = "zonefile"`, `directory = "zones"`.
pub static KIND: ProviderKind = ProviderKind {
    name: "zonefile",
    aliases: &[],
    about: "a directory of zone files, one <zone>.zone per zone (no account)",
    env: &[],
    capabilities,
    parse: parse_settings::<ZoneFilesSettings>,
};

/// `[providers.NAME]` of kind `zonefile`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ZoneFilesSettings {
    /// The directory, relative to the configuration file; `zones` by default.
    directory: Option<PathBuf>,
    /// The most records a zone's file may hold; 1,000,000 by default.
    max_records: Option<usize>,
}

impl ProviderConfig for ZoneFilesSettings {
    fn build(&self, name: &str, ctx: &BuildContext) -> Result<Arc<dyn Provider>> {
        let files = ZoneFiles::new(name, self.dir(ctx));
        Ok(Arc::new(match self.max_records {
            Some(max) => files.with_max_records(max),
            None => files,
        }))
    }

    fn account(&self, ctx: &BuildContext) -> Option<String> {
        Some(account_of(&self.dir(ctx)))
    }
}

impl ZoneFilesSettings {
    fn dir(&self, ctx: &BuildContext) -> PathBuf {
        ctx.path(self.directory.as_deref().unwrap_or(Path::new("zones")))
    }
}

/// A directory in one form whatever way it was written (`zones`, `./zones/`, a link to
/// it): two instances over it are one account, and must not both be a zone's targets.
fn account_of(dir: &Path) -> String {
    // Absolute, without `.` and trailing separators; then the part that exists resolved
    // (links, `..`), so that the form is the same before and after the directory is made.
    let absolute: PathBuf = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned()).components().collect();
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    let canonical = loop {
        if let Ok(real) = std::fs::canonicalize(existing) {
            break rest.iter().rev().fold(real, |path: PathBuf, part| path.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(part)) => {
                rest.push(part.to_owned());
                existing = parent;
            }
            _ => break absolute.clone(),
        }
    };
    format!("zonefile {}", canonical.display())
}

/// What a directory of zone files can hold: everything.
pub fn capabilities() -> Capabilities {
    Capabilities { unknown_types: true, bulk: true, ..Capabilities::default() }
}

/// Zone files in a directory.
#[derive(Debug, Clone)]
pub struct ZoneFiles {
    name: String,
    dir: PathBuf,
    capabilities: Capabilities,
    /// Today as (year, month, day), for date serials; settable so tests need no clock.
    today: fn() -> (i32, u32, u32),
    /// The most records a zone's file may hold.
    max_records: usize,
}

impl ZoneFiles {
    /// The provider over `dir` (created on the first write if missing).
    pub fn new(name: impl Into<String>, dir: impl Into<PathBuf>) -> ZoneFiles {
        ZoneFiles {
            name: name.into(),
            dir: dir.into(),
            capabilities: capabilities(),
            today: utc_today,
            max_records: zonefile::DEFAULT_MAX_RECORDS,
        }
    }

    /// Reads files of up to `max` records (a zone larger than the default's million).
    pub fn with_max_records(mut self, max: usize) -> ZoneFiles {
        self.max_records = max;
        self
    }

    /// Uses `today` instead of the system clock for date-based serials.
    pub fn with_today(mut self, today: fn() -> (i32, u32, u32)) -> ZoneFiles {
        self.today = today;
        self
    }

    /// The file that holds `zone`.
    pub fn path_of(&self, zone: &Name) -> PathBuf {
        self.dir.join(format!("{}.zone", stem(zone)))
    }

    /// The lock file of `zone` for `purpose` (`edit` or `write`).
    fn lock_path(&self, zone: &Name, purpose: &str) -> PathBuf {
        self.dir.join(".zonectl").join(format!("{}.{purpose}.lock", stem(zone)))
    }

    fn read(&self, zone: &Name) -> Result<Zone> {
        let path = self.path_of(zone);
        if !path.exists() {
            // A zone without a file yet is empty; the first apply creates the file.
            return Ok(Zone::new(zone.clone()));
        }
        Ok(zonefile::read_file(&path, &self.read_options(zone))?.zone)
    }

    /// The zone's records as [`ZoneFiles::read`] reads them, listed.
    fn list(&self, zone: &Name) -> Result<Vec<Existing>> {
        let path = self.path_of(zone);
        if !path.exists() {
            return Ok(Vec::new());
        }
        Ok(zonefile::read_file_listing(&path, &self.read_options(zone))?)
    }

    fn read_options(&self, zone: &Name) -> ReadOptions {
        // Applies write the zone back: what a lenient read skipped would be lost.
        ReadOptions {
            origin: Some(zone.clone()),
            allow_empty: true,
            refuse_out_of_zone: true,
            check_glue: false,
            max_records: self.max_records,
            ..ReadOptions::default()
        }
    }

    fn write(&self, zone: &Zone) -> Result<()> {
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let path = self.path_of(zone.origin());
        crate::fs::write_atomically(&path, zonefile::to_string(zone).as_bytes()).map_err(|e| Error::io(&path, e))
    }

    /// The zone as it is before a write: temporaries a killed run left are cleared first
    /// (the caller holds the write lock, so no other writer is at work).
    fn read_for_write(&self, zone: &Name) -> Result<Zone> {
        let path = self.path_of(zone);
        match crate::fs::remove_stale_temporaries(&path) {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                target: "zonectl::notice",
                "{}: removed {n} temporary file(s) an interrupted run left beside {}",
                self.name,
                path.display()
            ),
            Err(e) => return Err(Error::io(&path, e)),
        }
        self.read(zone)
    }

    /// `zone` written, its SOA serial moved on.
    fn write_changed(&self, zone: Zone) -> Result<()> {
        let origin = zone.origin().clone();
        let mut records = zone.into_records();
        for record in &mut records {
            if let RData::Soa(soa) = &mut record.data {
                soa.serial = next_serial(soa.serial, (self.today)());
            }
        }
        // The serial is not part of the order: the zone is as normalized as it was.
        self.write(&Zone::from_normalized(origin, records))
    }
}

/// What [`merge`] made of the changes.
enum Merged {
    /// Every change made: the zone's records after them, in zone order (a set's records
    /// may repeat, or differ in TTL, as [`Zone::from_sorted`] takes them).
    Done(Vec<Record>),
    /// The first change refused, and why; nothing is made.
    Failed((usize, Error)),
    /// A change moves a record to another set, or replaces a set with records of another
    /// (no plan makes either): the zone back, for [`ZoneState`] to apply change by change.
    MovesBetweenSets(Zone),
}

/// The record set a change touches: its name, type and covered type.
type SetOf<'a> = (&'a Name, RecordType, Option<u16>);

fn set_of(change: &Change) -> Option<SetOf<'_>> {
    fn of(r: &Record) -> SetOf<'_> {
        (&r.name, r.rtype(), r.data.covered_type())
    }
    Some(match change {
        Change::Create(record) => of(record),
        Change::Update { from, to } if to.same_set(&from.record) => of(&from.record),
        Change::Update { .. } => return None,
        Change::Delete(existing) => of(&existing.record),
        Change::ReplaceSet { name, rtype, from, records } => {
            let set = (name, *rtype, super::memory::replaced_covered_type(from, records));
            // Records of another set would land out of order: [`ZoneState`] takes those.
            if records.iter().any(|r| of(r) != set) {
                return None;
            }
            set
        }
    })
}

/// Applies the first `count` of `changes` to `zone` in one pass over both: the changes
/// sorted by the set they touch (each set seeing its changes in the order given), then
/// each touched set changed where it streams past among the zone's records. A change
/// touches one set, and whether it can be made depends only on that set, so this is what
/// making them one after another gives — with no map of every set, and the result still in
/// zone order. (Of an apply of 845k changes to a 1M-record zone, building that map was 16%,
/// taking the records back out of it 12% and sorting them again 12%.)
fn merge(provider: &str, zone: Zone, changes: &[Change], count: usize) -> Merged {
    let mut touches: Vec<(SetOf<'_>, usize)> = Vec::with_capacity(count);
    for (index, change) in changes[..count].iter().enumerate() {
        match set_of(change) {
            Some(set) => touches.push((set, index)),
            None => return Merged::MovesBetweenSets(zone),
        }
    }
    // Zone order of the sets, and among the changes to one set the order they were given.
    crate::record::sort_in_zone_order(
        zone.origin(),
        &mut touches,
        |t| t.0.0,
        |a, b| (a.0.1, a.0.2, a.1).cmp(&(b.0.1, b.0.2, b.1)),
    );
    let set_of_record = |r: &Record| (r.rtype(), r.data.covered_type());
    let mut merged = Vec::with_capacity(zone.len() + count);
    let mut records = zone.into_records().into_iter().peekable();
    let mut first_failure: Option<(usize, Error)> = None;
    for at_set in touches.chunk_by(|a, b| a.0 == b.0) {
        let (name, rtype, covered) = at_set[0].0;
        let key = (rtype, covered);
        let before = |r: &Record| r.name.cmp(name).then_with(|| set_of_record(r).cmp(&key));
        while let Some(record) = records.next_if(|r| before(r).is_lt()) {
            merged.push(record);
        }
        // The set is changed where it lands: the end of `merged`.
        let start = merged.len();
        while let Some(record) = records.next_if(|r| before(r).is_eq()) {
            merged.push(record);
        }
        for &(_, index) in at_set {
            if let Err(e) = change_set(provider, &mut merged, start, &changes[index]) {
                if first_failure.as_ref().is_none_or(|(first, _)| index < *first) {
                    first_failure = Some((index, e));
                }
                break;
            }
        }
        merged[start..].sort_by(Record::order_at_name);
    }
    merged.extend(records);
    match first_failure {
        Some(failure) => Merged::Failed(failure),
        None => Merged::Done(merged),
    }
}

/// Makes one change to the records of the set it touches, `records[start..]`, refusing
/// what [`ZoneState::apply`] refuses, with the same errors.
fn change_set(provider: &str, records: &mut Vec<Record>, start: usize, change: &Change) -> Result<()> {
    use super::memory::{exists_already, not_found, same_records, set_changed};
    let position = |records: &[Record], record: &Record| {
        records[start..].iter().position(|r| r.data == record.data).map(|at| start + at)
    };
    match change {
        Change::Create(record) => {
            if position(records, record).is_some() {
                return Err(exists_already(provider, record));
            }
            records.push(record.clone());
        }
        Change::Update { from, to } => {
            let at = position(records, &from.record).ok_or_else(|| not_found(provider, &from.record))?;
            records[at] = to.clone();
        }
        Change::Delete(existing) => {
            let at = position(records, &existing.record).ok_or_else(|| not_found(provider, &existing.record))?;
            records.remove(at);
        }
        Change::ReplaceSet { name, rtype, from, records: replacement } => {
            if !same_records(records[start..].iter(), from) {
                return Err(set_changed(provider, *rtype, name));
            }
            records.truncate(start);
            records.extend_from_slice(replacement);
        }
    }
    Ok(())
}

fn stem(zone: &Name) -> &str {
    let stem = zone.as_str().trim_end_matches('.');
    if stem.is_empty() { "root" } else { stem }
}

/// Runs blocking file work on tokio's blocking pool.
async fn blocking<T: Send + 'static>(provider: &str, work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|e| Error::Transport {
        provider: provider.to_owned(),
        message: format!("file task failed: {e}"),
        ambiguous: true,
        source: None,
    })?
}

#[async_trait::async_trait]
impl Provider for ZoneFiles {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    fn account(&self) -> String {
        account_of(&self.dir)
    }

    async fn list_zones(&self) -> Result<Vec<Name>> {
        let dir = self.dir.clone();
        blocking(&self.name, move || {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(Error::io(&dir, e)),
            };
            let mut zones: Vec<Name> = entries
                .filter_map(|entry| {
                    let file = entry.ok()?.file_name();
                    let stem = file.to_str()?.strip_suffix(".zone")?.to_owned();
                    Name::parse(&stem).ok()
                })
                .collect();
            zones.sort();
            Ok(zones)
        })
        .await
    }

    async fn list_records(&self, zone: &Name) -> Result<Vec<Existing>> {
        let (this, zone) = (self.clone(), zone.clone());
        blocking(&self.name, move || this.list(&zone)).await
    }

    async fn apply(&self, zone: &Name, changes: &[Change]) -> ApplyReport {
        let _write_lock = match ZoneLock::file(&self.name, &self.lock_path(zone, "write")).await {
            Ok(lock) => lock,
            Err(e) => return ApplyReport::not_started(e, changes.len()),
        };
        let (this, owned) = (self.clone(), zone.clone());
        let current = match blocking(&self.name, move || this.read_for_write(&owned)).await {
            Ok(current) => current,
            Err(e) => return ApplyReport::not_started(e, changes.len()),
        };
        let mut count = changes.len();
        let mut refused: Option<(usize, Error)> = None;
        let mut merged = merge(&self.name, current, changes, count);
        // Changes after the first refused one are not made. The file is as it was (the write
        // lock is held; if someone edited it by hand meanwhile, an earlier change may be
        // refused now): read it again and make those before.
        while let Merged::Failed(first) = merged {
            count = first.0;
            refused = Some(first);
            let (this, owned) = (self.clone(), zone.clone());
            let current = match blocking(&self.name, move || this.read(&owned)).await {
                Ok(current) => current,
                Err(e) => return ApplyReport::not_started(e, changes.len()),
            };
            merged = merge(&self.name, current, changes, count);
        }
        let (changed, mut report) = match merged {
            Merged::Done(records) => {
                let outcomes = (0..changes.len()).map(|i| match (i.cmp(&count), &refused) {
                    (std::cmp::Ordering::Less, _) => Outcome::Done,
                    (std::cmp::Ordering::Equal, Some((_, e))) => Outcome::from_error(e.clone()),
                    _ => Outcome::NotAttempted,
                });
                (Zone::from_sorted(zone.clone(), records), ApplyReport { outcomes: outcomes.collect() })
            }
            Merged::Failed(_) => unreachable!("the loop above ends at a merge that did not fail"),
            Merged::MovesBetweenSets(current) => {
                let mut state = ZoneState::from_records(current.into_records().into_iter().map(Existing::from));
                let report =
                    apply_each(changes, |change| std::future::ready(state.apply(&self.name, change, || None))).await;
                let records = state.into_records().into_iter().map(|e| e.record).collect();
                (Zone::from_records(zone.clone(), records), report)
            }
        };
        if !report.outcomes.iter().any(|o| matches!(o, Outcome::Done)) {
            return report;
        }
        // The changes are made in memory; they reach the file together, or not at all.
        let this = self.clone();
        if let Err(e) = blocking(&self.name, move || this.write_changed(changed)).await {
            for outcome in &mut report.outcomes {
                if matches!(outcome, Outcome::Done) {
                    *outcome = Outcome::Failed(e.clone());
                }
            }
        }
        report
    }

    async fn lock(&self, zone: &Name) -> Result<ZoneLock> {
        ZoneLock::file(&self.name, &self.lock_path(zone, "edit")).await
    }
}

/// The serial after a change: date-based (`YYYYMMDDnn`) when the current one looks like a
/// date, else one more (RFC 1982 arithmetic wraps).
pub fn next_serial(current: u32, (year, month, day): (i32, u32, u32)) -> u32 {
    let looks_like_date = {
        let (y, m, d) = (current / 1_000_000, current / 10_000 % 100, current / 100 % 100);
        (1990..=2099).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d)
    };
    if !looks_like_date {
        return current.wrapping_add(1).max(1);
    }
    let today = (year as u32) * 1_000_000 + month * 10_000 + day * 100;
    if current < today { today } else { current + 1 }
}

/// Today's UTC date from the system clock.
fn utc_today() -> (i32, u32, u32) {
    let date = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    (i32::from(date.year()), date.month() as u32, date.day() as u32)
}

#[cfg(test)]
mod account_tests {
    use super::*;

    #[test]
    fn one_directory_is_one_account_however_it_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        std::fs::create_dir(base.join("zones")).unwrap();
        std::os::unix::fs::symlink(base.join("zones"), base.join("link")).unwrap();
        let one = account_of(&base.join("zones"));
        for other in ["zones/", "./zones/.", "link", "sub/../zones"] {
            std::fs::create_dir_all(base.join("sub")).unwrap();
            assert_eq!(account_of(&base.join(other)), one, "{other}");
        }
        assert_ne!(account_of(&base.join("other")), one);
        // A directory not made yet has the form it will have.
        let later = account_of(&base.join("later/zones/"));
        std::fs::create_dir_all(base.join("later/zones")).unwrap();
        assert_eq!(account_of(&base.join("later/zones")), later);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials() {
        let today = (2026, 11, 22);
        assert_eq!(next_serial(2024010101, today), 2026112200);
        assert_eq!(next_serial(2026112200, today), 2026112201);
        assert_eq!(next_serial(2026112299, today), 2026112300, "past nn=99 it runs into tomorrow, as BIND's does");
        assert_eq!(next_serial(2027010100, today), 2027010101, "never goes backwards");
        assert_eq!(next_serial(1, today), 2);
        assert_eq!(next_serial(u32::MAX, today), 1);
    }

    /// Random changes (refused ones among them) to a random zone, in zone order as plans
    /// list them or shuffled, give the same zone and the same outcomes as the change-by-change
    /// apply of the `memory` provider.
    #[tokio::test]
    async fn the_merge_makes_what_changes_one_after_another_make() {
        use crate::provider::memory::InMemory;
        use crate::ttl::Ttl;
        let origin = Name::parse("example.com").unwrap();
        let mut rng = fastrand::Rng::with_seed(23);
        let random_record = |rng: &mut fastrand::Rng| {
            let name = Name::parse_relative(&format!("n{}", rng.u8(0..6)), &origin).unwrap();
            let ttl = Ttl::from_secs([60, 300][rng.usize(0..2)]).unwrap();
            let data = match rng.u8(0..4) {
                0 => RData::A(std::net::Ipv4Addr::new(192, 0, 2, rng.u8(0..4))),
                1 => RData::parse(RecordType::Txt, &format!("\"t{}\"", rng.u8(0..3)), None).unwrap(),
                // RRSIGs over A and over NSEC: two sets at one name.
                _ => {
                    let covered = ["A", "NSEC"][rng.usize(0..2)];
                    let text =
                        format!("{covered} 8 3 300 20260101000000 20250101000000 {} example.com. AAAA", rng.u8(0..3));
                    RData::parse(RecordType::Other(46), &text, None).unwrap()
                }
            };
            Record::new(name, ttl, data)
        };
        let (mut shuffled, mut refused, mut moved) = (0, 0, 0);
        for round in 0..300 {
            let zone =
                Zone::from_records(origin.clone(), (0..rng.usize(0..30)).map(|_| random_record(&mut rng)).collect());
            let held = |rng: &mut fastrand::Rng| match zone.records() {
                [] => random_record(rng),
                records if rng.u8(0..4) > 0 => records[rng.usize(0..records.len())].clone(),
                _ => random_record(rng),
            };
            let mut changes: Vec<Change> = (0..rng.usize(1..12))
                .map(|_| match rng.u8(0..5) {
                    0 => Change::Create(random_record(&mut rng)),
                    1 => Change::Delete(held(&mut rng).into()),
                    2 => {
                        let from = held(&mut rng);
                        let mut to = random_record(&mut rng);
                        if rng.u8(0..8) > 0 {
                            to.name = from.name.clone();
                            if to.rtype() != from.rtype() || to.data.covered_type() != from.data.covered_type() {
                                to.data = from.data.clone();
                                to.ttl = Ttl::from_secs(3600).unwrap();
                            }
                        }
                        Change::Update { from: from.into(), to }
                    }
                    _ => {
                        let one = held(&mut rng);
                        let mut from: Vec<Existing> =
                            zone.records().iter().filter(|r| r.same_set(&one)).cloned().map(Existing::from).collect();
                        if rng.u8(0..4) == 0 {
                            from.pop();
                        }
                        // Now and then a record of another set among them (no plan makes
                        // one; the merge hands such a change to ZoneState).
                        let stray = rng.u8(0..8) == 0;
                        let records = (0..rng.usize(0..3))
                            .map(|_| random_record(&mut rng))
                            .filter(|r| stray || r.same_set(&one))
                            .collect();
                        Change::ReplaceSet { name: one.name.clone(), rtype: one.rtype(), from, records }
                    }
                })
                .collect();
            if round % 2 == 0 {
                rng.shuffle(&mut changes);
                shuffled += 1;
            } else {
                changes.sort_by_key(|c| set_of(c).map(|(n, t, c)| (n.clone(), t, c)));
            }
            moved += usize::from(changes.iter().any(|c| set_of(c).is_none()));

            let memory = InMemory::new("mem");
            memory.put_zone(&zone);
            let expected = memory.apply(&origin, &changes).await;
            let dir = tempfile::tempdir().unwrap();
            let files = ZoneFiles::new("mem", dir.path());
            files.write(&zone).unwrap();
            let got = files.apply(&origin, &changes).await;
            let shown = |report: &ApplyReport| -> Vec<String> {
                report.outcomes.iter().map(|o| format!("{:?}", o.error().map(ToString::to_string))).collect()
            };
            assert_eq!(shown(&got), shown(&expected), "round {round}: {changes:?}");
            refused += usize::from(got.outcomes.iter().any(|o| o.error().is_some()));
            let records =
                |held: Vec<Existing>| Zone::from_records(origin.clone(), held.into_iter().map(|e| e.record).collect());
            let want = records(memory.list_records(&origin).await.unwrap());
            assert_eq!(records(files.list_records(&origin).await.unwrap()), want, "round {round}: {changes:?}");
        }
        // Each path was taken.
        assert!(shuffled > 100 && refused > 50 && moved > 20, "{shuffled} shuffled, {refused} refused, {moved} moved");
    }

    #[test]
    fn the_clock_gives_a_plausible_date() {
        let (y, m, d) = utc_today();
        assert!((2024..2200).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d));
    }
}

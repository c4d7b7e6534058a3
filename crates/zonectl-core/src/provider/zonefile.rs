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
use crate::record::Zone;
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
}

impl ProviderConfig for ZoneFilesSettings {
    fn build(&self, name: &str, ctx: &BuildContext) -> Result<Arc<dyn Provider>> {
        Ok(Arc::new(ZoneFiles::new(name, self.dir(ctx))))
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
}

impl ZoneFiles {
    /// The provider over `dir` (created on the first write if missing).
    pub fn new(name: impl Into<String>, dir: impl Into<PathBuf>) -> ZoneFiles {
        ZoneFiles { name: name.into(), dir: dir.into(), capabilities: capabilities(), today: utc_today }
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
        // Applies write the zone back: what a lenient read skipped would be lost.
        let options = ReadOptions {
            origin: Some(zone.clone()),
            allow_empty: true,
            refuse_out_of_zone: true,
            check_glue: false,
            ..ReadOptions::default()
        };
        Ok(zonefile::read_file(&path, &options)?.zone)
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

    /// `records` as the file's zone, the SOA serial moved on.
    fn write_changed(&self, zone: &Name, mut records: Vec<crate::record::Record>) -> Result<()> {
        for record in &mut records {
            if let RData::Soa(soa) = &mut record.data {
                soa.serial = next_serial(soa.serial, (self.today)());
            }
        }
        self.write(&Zone::from_records(zone.clone(), records))
    }
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
        blocking(&self.name, move || Ok(this.read(&zone)?.into_records().into_iter().map(Existing::from).collect()))
            .await
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
        let mut state = ZoneState::from_records(current.into_records().into_iter().map(Existing::from));
        let mut report =
            apply_each(changes, |change| std::future::ready(state.apply(&self.name, change, || None))).await;
        if !report.outcomes.iter().any(|o| matches!(o, Outcome::Done)) {
            return report;
        }
        // The changes are made in memory; they reach the file together, or not at all.
        let records: Vec<_> = state.into_records().into_iter().map(|e| e.record).collect();
        let (this, owned) = (self.clone(), zone.clone());
        if let Err(e) = blocking(&self.name, move || this.write_changed(&owned, records)).await {
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

    #[test]
    fn the_clock_gives_a_plausible_date() {
        let (y, m, d) = utc_today();
        assert!((2024..2200).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d));
    }
}

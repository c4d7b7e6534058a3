//! `zonefile`: a directory holding one `<zone>.zone` file per zone, the provider that needs
//! no account. Files are kept in canonical form; every write goes through a temporary file
//! and a rename, and bumps the SOA serial.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::memory::ZoneState;
use super::{ApplyReport, Capabilities, Change, Existing, Outcome, Provider, TtlRule, UpdateStyle};
use crate::error::{Error, Result};
use crate::name::Name;
use crate::rdata::RData;
use crate::record::Zone;
use crate::rtype::RecordType;
use crate::zonefile::{self, ReadOptions};

/// Zone files in a directory.
#[derive(Debug)]
pub struct ZoneFiles {
    name: String,
    dir: PathBuf,
    capabilities: Capabilities,
    /// One apply at a time: each rewrites a whole file.
    write_lock: tokio::sync::Mutex<()>,
    /// Today as (year, month, day), for date serials; settable so tests need no clock.
    today: fn() -> (i32, u32, u32),
}

impl ZoneFiles {
    /// The provider over `dir` (created on the first write if missing).
    pub fn new(name: impl Into<String>, dir: impl Into<PathBuf>) -> ZoneFiles {
        ZoneFiles {
            name: name.into(),
            dir: dir.into(),
            capabilities: Capabilities {
                record_types: RecordType::MODELED.to_vec(),
                unknown_types: true,
                read_only_types: Vec::new(),
                ttl: TtlRule::ANY,
                updates: UpdateStyle::RecordSet,
                bulk: true,
                asynchronous: false,
                owns_soa: false,
                owns_apex_ns: false,
                txt_strings_kept: true,
                rate_limit: None,
            },
            write_lock: tokio::sync::Mutex::new(()),
            today: utc_today,
        }
    }

    /// Uses `today` instead of the system clock for date-based serials.
    pub fn with_today(mut self, today: fn() -> (i32, u32, u32)) -> ZoneFiles {
        self.today = today;
        self
    }

    /// The file that holds `zone`.
    pub fn path_of(&self, zone: &Name) -> PathBuf {
        let stem = zone.as_str().trim_end_matches('.');
        self.dir.join(format!("{stem}.zone"))
    }

    fn read(&self, zone: &Name) -> Result<Zone> {
        let path = self.path_of(zone);
        if !path.exists() {
            // A zone without a file yet is empty; the first apply creates the file.
            return Ok(Zone::new(zone.clone()));
        }
        let options = ReadOptions { origin: Some(zone.clone()), strict: false, allow_empty: true };
        Ok(zonefile::read_file(&path, &options)?.zone)
    }

    fn write(&self, zone: &Zone) -> Result<()> {
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let path = self.path_of(zone.origin());
        write_atomically(&path, zonefile::to_string(zone).as_bytes()).map_err(|e| Error::io(&path, e))
    }
}

/// Writes through a temporary file in the same directory and renames it over `path`, so a
/// reader sees the old file or the new one, never half of one. Keeps the permissions of
/// the file it replaces.
pub fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(contents)?;
    temp.as_file().sync_all()?;
    if let Ok(meta) = std::fs::metadata(path) {
        temp.as_file().set_permissions(meta.permissions())?;
    }
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[async_trait::async_trait]
impl Provider for ZoneFiles {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn list_zones(&self) -> Result<Vec<Name>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&self.dir, e)),
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
    }

    async fn list_records(&self, zone: &Name) -> Result<Vec<Existing>> {
        Ok(self.read(zone)?.into_records().into_iter().map(Existing::from).collect())
    }

    async fn apply(&self, zone: &Name, changes: &[Change]) -> ApplyReport {
        let _guard = self.write_lock.lock().await;
        let current = match self.read(zone) {
            Ok(current) => current,
            Err(e) => {
                let mut outcomes = vec![Outcome::Failed(e)];
                outcomes.resize_with(changes.len(), || Outcome::NotAttempted);
                return ApplyReport { outcomes };
            }
        };
        let mut state = ZoneState { records: current.records().iter().cloned().map(Existing::from).collect() };
        let mut report =
            super::apply_each(changes, |change| std::future::ready(state.apply(&self.name, change, || None))).await;
        let made = report.outcomes.iter().filter(|o| matches!(o, Outcome::Done)).count();
        if made == 0 {
            return report;
        }
        let mut records: Vec<_> = state.records.into_iter().map(|e| e.record).collect();
        for record in &mut records {
            if let RData::Soa(soa) = &mut record.data {
                soa.serial = next_serial(soa.serial, (self.today)());
            }
        }
        // The changes are made in memory; they reach the file together, or not at all.
        if let Err(e) = self.write(&Zone::from_records(zone.clone(), records)) {
            let message = e.to_string();
            for outcome in &mut report.outcomes {
                if matches!(outcome, Outcome::Done) {
                    *outcome = Outcome::Failed(Error::Io {
                        path: self.path_of(zone),
                        source: std::io::Error::other(message.clone()),
                    });
                }
            }
        }
        report
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
    let secs = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    civil_date(secs / 86_400)
}

/// The (year, month, day) of a count of days since 1970-01-01 (Howard Hinnant's
/// days-to-civil), so that date serials and timestamps need no date library.
pub fn civil_date(days_since_epoch: u64) -> (i32, u32, u32) {
    let days = days_since_epoch as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
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
    fn civil_dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
        assert_eq!(civil_date(20_779), (2026, 11, 22));
    }

    #[test]
    fn the_clock_gives_a_plausible_date() {
        let (y, m, d) = utc_today();
        assert!((2024..2200).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d));
    }
}

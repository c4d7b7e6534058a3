//! Backups: the zone as it was, written as a zone file before the first change of every
//! apply, listed, read back for a restore, and pruned by a retention setting that says
//! what it removed.
//!
//! A backup is `<dir>/<provider>/<zone>/<UTC time>.zone` (`2026-11-22T21-48-04Z.zone`, so
//! that they sort by time), opening with a header of comments that says what it holds:
//!
//! ```text
//! ; zonectl backup
//! ; zone: example.com.
//! ; provider: lua
//! ; taken: 2026-11-22T21:48:04Z
//! ; scope: whole zone
//! ```
//!
//! An edit of one name reads only that name, and backs up only that: its scope is
//! `name www.example.com. type TXT` (or `name …` alone), and a restore puts back only those
//! record sets. A backup without the header (written by zonectl before 0.1) is read as a
//! whole zone.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::name::Name;
use crate::plan::Plan;
use crate::provider::RecordFilter;
use crate::record::Zone;
use crate::zonefile::{self, ReadOptions};

/// What one backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// The file.
    pub path: PathBuf,
    /// The provider instance it was taken at.
    pub provider: String,
    /// The zone.
    pub zone: Name,
    /// When (UTC, `2026-11-22T21:48:04Z`).
    pub taken: String,
    /// What of the zone it holds: all of it, or the record sets the filter picks.
    pub scope: RecordFilter,
    /// Records in it.
    pub records: usize,
}

impl Backup {
    /// The path below the backup directory, by which `backups restore` takes it.
    pub fn id(&self, dir: &Path) -> String {
        self.path.strip_prefix(dir).unwrap_or(&self.path).display().to_string()
    }
}

/// The scope in the header's words.
pub fn scope_words(scope: &RecordFilter) -> String {
    match (&scope.name, scope.rtype) {
        (None, None) => "whole zone".into(),
        (Some(name), None) => format!("name {name}"),
        (Some(name), Some(rtype)) => format!("name {name} type {rtype}"),
        (None, Some(rtype)) => format!("type {rtype}"),
    }
}

fn parse_scope(words: &str) -> Option<RecordFilter> {
    let mut filter = RecordFilter::default();
    let mut tokens = words.split_whitespace();
    if words.trim() == "whole zone" {
        return Some(filter);
    }
    while let Some(key) = tokens.next() {
        let value = tokens.next()?;
        match key {
            "name" => filter.name = Some(Name::parse(value).ok()?),
            "type" => filter.rtype = Some(value.parse().ok()?),
            _ => return None,
        }
    }
    Some(filter)
}

/// Writes the backup of what `plan` read, never over an earlier one, then keeps only the
/// newest `keep` backups of the zone at that provider. Returns the file and how many older
/// ones were removed.
pub fn write(dir: &Path, plan: &Plan, keep: Option<usize>) -> Result<(PathBuf, usize)> {
    let zone_dir = dir.join(&plan.provider).join(plan.zone.as_str().trim_end_matches('.'));
    std::fs::create_dir_all(&zone_dir).map_err(|e| Error::io(&zone_dir, e))?;
    let now = jiff::Timestamp::now();
    let path = zone_dir.join(format!("{}.zone", now.strftime("%Y-%m-%dT%H-%M-%S%.3fZ")));
    let header = format!(
        "; zonectl backup\n; zone: {}\n; provider: {}\n; taken: {}\n; scope: {}\n",
        plan.zone,
        plan.provider,
        now.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"),
        scope_words(&plan.scope)
    );
    let text = header + &zonefile::to_string(&plan.current);
    let written = crate::fs::write_new(&path, text.as_bytes()).map_err(|e| Error::io(&path, e))?;
    let pruned = match keep {
        Some(keep) => prune(&zone_dir, keep.max(1))?,
        None => 0,
    };
    Ok((written, pruned))
}

/// Removes all but the newest `keep` backups in `zone_dir`; returns how many went.
fn prune(zone_dir: &Path, keep: usize) -> Result<usize> {
    let mut files = backup_files(zone_dir)?;
    files.sort_by_cached_key(|p| taken_order(p));
    let excess = files.len().saturating_sub(keep);
    for old in &files[..excess] {
        std::fs::remove_file(old).map_err(|e| Error::io(old, e))?;
    }
    Ok(excess)
}

fn backup_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    Ok(entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "zone") && p.is_file())
        .collect())
}

/// Every backup under `dir` (of `zone` and at `provider` only, when given), oldest first.
pub fn list(dir: &Path, zone: Option<&Name>, provider: Option<&str>) -> Result<Vec<Backup>> {
    let mut found = Vec::new();
    let providers = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(Error::io(dir, e)),
    };
    for provider_dir in providers.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()) {
        let name = provider_dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        if provider.is_some_and(|p| p != name) {
            continue;
        }
        let zones = std::fs::read_dir(&provider_dir).map_err(|e| Error::io(&provider_dir, e))?;
        for zone_dir in zones.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()) {
            let Ok(zone_name) = Name::parse(&zone_dir.file_name().unwrap_or_default().to_string_lossy()) else {
                continue;
            };
            if zone.is_some_and(|z| *z != zone_name) {
                continue;
            }
            for file in backup_files(&zone_dir)? {
                found.push(describe(&file, &name, &zone_name)?);
            }
        }
    }
    found.sort_by_cached_key(|b| (taken_order(&b.path), b.provider.clone(), b.zone.clone()));
    Ok(found)
}

/// What a backup file holds, from its header (and its place, for one without).
fn describe(path: &Path, provider: &str, zone: &Name) -> Result<Backup> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut backup = Backup {
        path: path.to_owned(),
        provider: provider.to_owned(),
        zone: zone.clone(),
        taken: taken_from_file_name(path),
        scope: RecordFilter::default(),
        records: 0,
    };
    for line in text.lines() {
        if let Some(comment) = line.strip_prefix("; ") {
            match comment.split_once(": ") {
                Some(("zone", value)) => backup.zone = Name::parse(value).unwrap_or(backup.zone),
                Some(("provider", value)) => backup.provider = value.to_owned(),
                Some(("taken", value)) => backup.taken = value.to_owned(),
                Some(("scope", value)) => {
                    backup.scope = parse_scope(value).ok_or_else(|| {
                        Error::InvalidConfig(format!(
                            "{}: the scope '{value}' is not one zonectl writes",
                            path.display()
                        ))
                    })?;
                }
                _ => {}
            }
        } else if !line.is_empty() && !line.starts_with('$') && !line.starts_with(';') {
            backup.records += 1;
        }
    }
    Ok(backup)
}

/// The order backups were taken in, from the file name: its time, then the `-n` that
/// [`crate::fs::write_new`] adds to a second backup of the same millisecond (which sorts
/// before the first as plain text: `-` is before `.`).
fn taken_order(path: &Path) -> (String, u32) {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    match stem.rsplit_once("Z-") {
        Some((stamp, n)) if n.bytes().all(|b| b.is_ascii_digit()) => (format!("{stamp}Z"), n.parse().unwrap_or(0)),
        _ => (stem.into_owned(), 0),
    }
}

/// `2026-11-22T21-48-04.123Z(-n).zone` as `2026-11-22T21:48:04.123Z`.
fn taken_from_file_name(path: &Path) -> String {
    let stamp = taken_order(path).0;
    match stamp.split_once('T') {
        Some((date, time)) => format!("{date}T{}", time.replace('-', ":")),
        None => stamp,
    }
}

/// A backup and the records in it.
pub fn read(path: &Path) -> Result<(Backup, Zone)> {
    let provider = path.parent().and_then(Path::parent).and_then(Path::file_name);
    let zone = path.parent().and_then(Path::file_name).and_then(|z| Name::parse(&z.to_string_lossy()).ok());
    let (Some(provider), Some(zone)) = (provider, zone) else {
        return Err(Error::InvalidConfig(format!(
            "{}: not a backup (backups are <provider>/<zone>/<time>.zone under the backup directory)",
            path.display()
        )));
    };
    let backup = describe(path, &provider.to_string_lossy(), &zone)?;
    // No cap on the records: a backup holds a zone zonectl read (at a provider, or from
    // files under their own `max_records`), and a zone it could back up it must restore.
    let options = ReadOptions {
        origin: Some(backup.zone.clone()),
        allow_empty: true,
        check_glue: false,
        max_records: usize::MAX,
        ..ReadOptions::default()
    };
    let loaded = zonefile::read_file(path, &options)?;
    Ok((backup, loaded.zone))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtype::RecordType;

    /// A backup of a zone larger than a zone file's default cap reads back whole.
    #[test]
    fn a_backup_over_the_default_record_cap_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let at = dir.path().join("files").join("example.com");
        std::fs::create_dir_all(&at).unwrap();
        let path = at.join("2026-11-22T21-48-04.120Z.zone");
        let over = zonefile::DEFAULT_MAX_RECORDS + 1;
        std::fs::write(&path, format!("$ORIGIN example.com.\n$TTL 300\n$GENERATE 1-{over} h$ A 192.0.2.1\n")).unwrap();
        let (_, zone) = read(&path).unwrap();
        assert_eq!(zone.len(), over);
    }

    #[test]
    fn scopes_are_written_and_read_back() {
        for scope in [
            RecordFilter::default(),
            RecordFilter { name: Some(Name::parse("www.example.com").unwrap()), rtype: None },
            RecordFilter { name: Some(Name::parse("www.example.com").unwrap()), rtype: Some(RecordType::Txt) },
        ] {
            assert_eq!(parse_scope(&scope_words(&scope)), Some(scope));
        }
        assert_eq!(parse_scope("half a zone"), None);
        assert_eq!(taken_from_file_name(Path::new("2026-11-22T21-48-04Z-1.zone")), "2026-11-22T21:48:04Z");
        assert_eq!(taken_from_file_name(Path::new("2026-11-22T21-48-04.120Z.zone")), "2026-11-22T21:48:04.120Z");
    }

    #[test]
    fn backups_of_one_moment_keep_the_order_they_were_taken_in() {
        let mut names =
            ["t-04.120Z-10.zone", "t-04.120Z-2.zone", "t-04.120Z.zone", "t-04.119Z-1.zone", "t-05.000Z.zone"]
                .map(|n| PathBuf::from(format!("2026-11-22T21-48-{}", &n[2..])));
        names.sort_by_cached_key(|p| taken_order(p));
        let stems: Vec<String> =
            names.iter().map(|p| p.file_stem().unwrap().to_string_lossy()[17..].to_owned()).collect();
        assert_eq!(stems, ["04.119Z-1", "04.120Z", "04.120Z-2", "04.120Z-10", "05.000Z"]);
    }

    #[test]
    fn pruning_keeps_the_newest_even_within_a_millisecond() {
        let dir = tempfile::tempdir().unwrap();
        for name in
            ["2026-11-22T21-48-04.120Z.zone", "2026-11-22T21-48-04.120Z-1.zone", "2026-11-22T21-48-04.120Z-2.zone"]
        {
            std::fs::write(dir.path().join(name), name).unwrap();
        }
        assert_eq!(prune(dir.path(), 2).unwrap(), 1);
        assert!(!dir.path().join("2026-11-22T21-48-04.120Z.zone").exists(), "the oldest goes");
        assert!(dir.path().join("2026-11-22T21-48-04.120Z-2.zone").exists());
    }
}

//! Files written so that a reader never sees half of one, and files read with a bound.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The prefix of the temporary files [`write_atomically`] makes beside `path`; a run that
/// was killed leaves one behind, which [`remove_stale_temporaries`] clears.
fn temporary_prefix(path: &Path) -> String {
    let name = path.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    format!(".{name}.zonectl-tmp-")
}

fn parent_of(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// A temporary file beside `path`, holding `contents`, synced to disk.
fn temporary_with(path: &Path, contents: &[u8]) -> io::Result<tempfile::NamedTempFile> {
    let mut temp = tempfile::Builder::new().prefix(&temporary_prefix(path)).tempfile_in(parent_of(path))?;
    temp.write_all(contents)?;
    temp.as_file().sync_all()?;
    Ok(temp)
}

/// The file that `path` names once symbolic links are followed; `path` itself when nothing
/// is there yet.
fn link_target(path: &Path) -> io::Result<PathBuf> {
    match std::fs::canonicalize(path) {
        Ok(target) => Ok(target),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(path.to_owned()),
        Err(e) => Err(e),
    }
}

/// Writes through a temporary file in the same directory and renames it over `path`, so a
/// reader sees the old file or the new one, never half of one. Keeps the permissions, owner
/// and group of the file it replaces (failing, with nothing changed, when they cannot be
/// kept), and writes through a symbolic link to its target rather than replacing the link.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let target = link_target(path)?;
    let temp = temporary_with(&target, contents)?;
    if let Ok(meta) = std::fs::metadata(&target) {
        temp.as_file().set_permissions(meta.permissions())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            std::os::unix::fs::fchown(temp.as_file(), Some(meta.uid()), Some(meta.gid())).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot keep the file's owner {}:{}: {e}", meta.uid(), meta.gid()))
            })?;
        }
    }
    temp.persist(&target).map_err(|e| e.error)?;
    Ok(())
}

/// Writes `contents` to `path`, or to `path` with `-1`, `-2`, … before its extension if
/// that exists, never replacing a file (the check and the creation are one step, so two
/// writers cannot both take one name). Returns the path written.
pub fn write_new(path: &Path, contents: &[u8]) -> io::Result<PathBuf> {
    let mut temp = temporary_with(path, contents)?;
    let stem = path.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let extension = path.extension().map(|e| e.to_string_lossy().into_owned());
    for n in 0u32.. {
        let candidate = match (n, &extension) {
            (0, _) => path.to_owned(),
            (n, Some(ext)) => path.with_file_name(format!("{stem}-{n}.{ext}")),
            (n, None) => path.with_file_name(format!("{stem}-{n}")),
        };
        match temp.persist_noclobber(&candidate) {
            Ok(_) => return Ok(candidate),
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => temp = e.file,
            Err(e) => return Err(e.error),
        }
    }
    unreachable!("some name is free")
}

/// Removes the temporary files that runs killed while writing `path` left behind. Call it
/// only while holding the lock that writers of `path` take. Returns how many were removed.
pub fn remove_stale_temporaries(path: &Path) -> io::Result<usize> {
    // The temporaries are made beside the file a link points to.
    let path = &link_target(path)?;
    let prefix = temporary_prefix(path);
    let mut removed = 0;
    let entries = match std::fs::read_dir(parent_of(path)) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Reads a small file whole, refusing one larger than `limit` bytes (a secret file that
/// is really `/dev/zero` or a log must not fill the memory).
pub fn read_limited(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("larger than {limit} bytes")));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_files_never_replace_old_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("2026-11-22T21-48-04Z.zone");
        assert_eq!(write_new(&path, b"one").unwrap(), path);
        let second = write_new(&path, b"two").unwrap();
        assert_eq!(second, dir.path().join("2026-11-22T21-48-04Z-1.zone"));
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        assert_eq!(std::fs::read(&second).unwrap(), b"two");
        assert_eq!(remove_stale_temporaries(&path).unwrap(), 0, "no temporary left");
    }

    #[test]
    fn stale_temporaries_are_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("example.com.zone");
        std::fs::write(dir.path().join(".example.com.zone.zonectl-tmp-abc123"), "half").unwrap();
        std::fs::write(dir.path().join("other.zone"), "keep").unwrap();
        assert_eq!(remove_stale_temporaries(&path).unwrap(), 1);
        assert!(dir.path().join("other.zone").exists());
        write_atomically(&path, b"whole").unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn a_linked_file_is_written_and_cleaned_up_beside_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::write(real.join("db"), "old").unwrap();
        let link = dir.path().join("example.com.zone");
        std::os::unix::fs::symlink(real.join("db"), &link).unwrap();
        std::fs::write(real.join(".db.zonectl-tmp-abc123"), "half").unwrap();
        assert_eq!(remove_stale_temporaries(&link).unwrap(), 1);
        write_atomically(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read(real.join("db")).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(&real).unwrap().count(), 1);
    }

    #[test]
    fn reads_are_bounded() {
        let err = read_limited(Path::new("/dev/zero"), 1024).unwrap_err();
        assert_eq!(err.to_string(), "larger than 1024 bytes");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s"), "secret\n").unwrap();
        assert_eq!(read_limited(&dir.path().join("s"), 1024).unwrap(), b"secret\n");
    }
}

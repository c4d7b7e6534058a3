//! `zonectl fmt`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use zonectl_core::zonefile::{self, ReadOptions};

pub fn run(
    file: &Path,
    options: &ReadOptions,
    write: bool,
    drop_comments: bool,
    force: bool,
) -> anyhow::Result<ExitCode> {
    let loaded = match zonefile::read_file(file, options) {
        Ok(loaded) => loaded,
        Err(err) => {
            super::print_diagnostics(&err.diagnostics);
            return Ok(ExitCode::FAILURE);
        }
    };
    // Only warnings about lines the canonical form changes (merged duplicates, lowered
    // TTLs); the zone-wide ones (no SOA) are `check`'s business.
    for warning in loaded.warnings.iter().filter(|w| w.line != 0) {
        eprintln!("{warning}");
    }
    let canonical = zonefile::to_string(&loaded.zone);
    if !write {
        super::write_stdout(canonical.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    if !drop_comments {
        if loaded.had_comments {
            bail!(
                "{}: has comments, which the canonical form does not keep; add --drop-comments to rewrite it anyway",
                file.display()
            );
        }
        if loaded.files.len() > 1 {
            bail!(
                "{}: uses $INCLUDE, which the canonical form inlines; add --drop-comments to rewrite it anyway",
                file.display()
            );
        }
    }
    let current = std::fs::read(file).with_context(|| format!("{}: cannot read", file.display()))?;
    if current == canonical.as_bytes() {
        return Ok(ExitCode::SUCCESS);
    }
    refuse_unsafe_rewrite(file, force)?;
    zonectl_core::fs::write_atomically(file, canonical.as_bytes())
        .with_context(|| format!("{}: cannot rewrite", file.display()))?;
    eprintln!("{}: rewritten in canonical form", file.display());
    Ok(ExitCode::SUCCESS)
}

/// A rewrite replaces the file by a new one: refused when that would split hard links (the
/// other names would keep the old text) or override a read-only mode without `--force`.
fn refuse_unsafe_rewrite(file: &Path, force: bool) -> anyhow::Result<()> {
    let meta = std::fs::metadata(file).with_context(|| format!("{}: cannot read", file.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.nlink() > 1 {
            bail!(
                "{}: has {} hard links, which a rewrite would split; print it with `zonectl fmt` and copy the text instead",
                file.display(),
                meta.nlink()
            );
        }
    }
    if meta.permissions().readonly() && !force {
        bail!("{}: is read-only; add --force to rewrite it", file.display());
    }
    Ok(())
}

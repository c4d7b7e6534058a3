//! `zonectl fmt`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use zonectl_core::zonefile::{self, ReadOptions};

pub fn run(file: &Path, options: &ReadOptions, write: bool, drop_comments: bool) -> anyhow::Result<ExitCode> {
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
    zonectl_core::fs::write_atomically(file, canonical.as_bytes())
        .with_context(|| format!("{}: cannot rewrite", file.display()))?;
    eprintln!("{}: rewritten in canonical form", file.display());
    Ok(ExitCode::SUCCESS)
}

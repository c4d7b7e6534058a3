//! `zonectl backups list` and `zonectl backups restore`: the zone as a backup holds it,
//! put back through the one edit transaction, with the thresholds and the confirmation of
//! `apply`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use zonectl_core::backup::{self, Backup};
use zonectl_core::edit::{self, Desired, Op, Options, Transaction};
use zonectl_core::route::Route;
use zonectl_core::{RecordType, Zone};

use super::plan::{ApplyHow, apply_prepared};
use super::{Session, parse_zone, write_stdout};
use crate::cli::{BackupsCommand, Output};
use crate::config::backup_dir;

pub async fn run(ctx: &Session, command: BackupsCommand) -> anyhow::Result<ExitCode> {
    let dir = backup_dir()?;
    match command {
        BackupsCommand::List { zone, output } => {
            let zone = zone.map(|z| parse_zone(&z)).transpose()?;
            let found = backup::list(&dir, zone.as_ref(), ctx.provider.as_deref())?;
            write_stdout(listing(&dir, &found, output.output)?.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        BackupsCommand::Restore { backup, force, yes, output } => {
            let path = locate(&dir, &backup)?;
            restore(ctx, &path, ApplyHow { force, yes, output: output.output }).await
        }
    }
}

fn listing(dir: &Path, found: &[Backup], output: Output) -> anyhow::Result<String> {
    if output == Output::Json {
        let list: Vec<_> = found
            .iter()
            .map(|b| {
                serde_json::json!({
                    "id": b.id(dir),
                    "path": b.path,
                    "taken": b.taken,
                    "provider": b.provider,
                    "zone": b.zone,
                    "scope": backup::scope_words(&b.scope),
                    "records": b.records,
                })
            })
            .collect();
        return Ok(serde_json::to_string_pretty(&list)? + "\n");
    }
    let rows: Vec<[String; 6]> = found
        .iter()
        .map(|b| {
            [
                b.taken.clone(),
                b.provider.clone(),
                b.zone.to_string(),
                b.records.to_string(),
                backup::scope_words(&b.scope),
                b.id(dir),
            ]
        })
        .collect();
    let header = ["TAKEN", "PROVIDER", "ZONE", "RECORDS", "SCOPE", "BACKUP"].map(str::to_owned);
    let widths: Vec<usize> =
        (0..5).map(|i| rows.iter().chain([&header]).map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    let mut text = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let _ = writeln!(
            text,
            "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {:<w4$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            row[5],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4]
        );
    }
    Ok(text)
}

/// The backup a user names: a path, or an id below the backup directory.
fn locate(dir: &Path, named: &str) -> anyhow::Result<PathBuf> {
    let as_given = PathBuf::from(named);
    if as_given.is_file() {
        return Ok(as_given);
    }
    let below = dir.join(named);
    if below.is_file() {
        return Ok(below);
    }
    bail!("no backup '{named}' (`zonectl backups list` shows them, with their ids, from {})", dir.display())
}

/// Plans the zone at the backup's provider back to what the backup holds — the whole zone,
/// or only the record sets an edit's backup holds — and applies it as `apply` does.
async fn restore(ctx: &Session, path: &Path, how: ApplyHow) -> anyhow::Result<ExitCode> {
    let (taken, records) = backup::read(path).with_context(|| path.display().to_string())?;
    if ctx.provider.as_ref().is_some_and(|p| *p != taken.provider) {
        bail!(
            "{}: a backup of {} at {}, not at {}",
            path.display(),
            taken.zone,
            taken.provider,
            ctx.provider.as_deref().unwrap_or("")
        );
    }
    let provider =
        ctx.config.provider(&taken.provider).with_context(|| format!("{}: the backup's provider", path.display()))?;
    let zone = taken.zone.clone();
    // What the configuration leaves to others (ACME challenges) stays as it is now, as `apply`
    // leaves it.
    let configured = ctx.config.zones.iter().find(|z| z.name == zone);
    let options = Options {
        force: how.force,
        safety: configured.map(|z| z.safety()).unwrap_or_default(),
        backup_dir: Some(backup_dir()?),
        backup_keep: Some(ctx.config.backups.keep),
        lock: true,
        ..Options::default()
    };
    let route = Route { zone: zone.clone(), targets: vec![provider], nameservers: Vec::new() };
    let desired = if taken.scope == zonectl_core::provider::RecordFilter::default() {
        Desired::Zone { zone: records, ignore: configured.map(|z| z.ignore.clone()).unwrap_or_default() }
    } else {
        // An edit's backup holds the sets of one name (and type): those sets, and no other,
        // go back as they were — a set the backup does not hold was not there.
        Desired::Edit { filter: taken.scope.clone(), ops: set_ops(&records, &taken.scope), condition: None }
    };
    eprintln!(
        "{}: restoring {zone} at {} as it was at {} ({})",
        path.display(),
        taken.provider,
        taken.taken,
        backup::scope_words(&taken.scope)
    );
    let prepared = edit::prepare(vec![Transaction { route, desired, options }]).await?;
    apply_prepared(prepared, how).await
}

/// The ops that make the sets `scope` picks hold what `records` holds of them.
fn set_ops(records: &Zone, scope: &zonectl_core::provider::RecordFilter) -> Vec<Op> {
    let name = scope.name.clone().expect("an edit's backup names its name");
    let mut types: Vec<RecordType> = match scope.rtype {
        Some(rtype) => vec![rtype],
        None => records.records().iter().map(|r| r.rtype()).collect(),
    };
    types.sort_unstable();
    types.dedup();
    let mut ops: Vec<Op> = types
        .iter()
        .map(|&rtype| {
            let set: Vec<_> = records.records().iter().filter(|r| r.rtype() == rtype).collect();
            Op::Replace {
                name: name.clone(),
                rtype,
                data: set.iter().map(|r| r.data.clone()).collect(),
                ttl: set.first().map(|r| r.ttl),
            }
        })
        .collect();
    if scope.rtype.is_none() {
        // Every other set at the name was not there when the backup was taken.
        let kept = types.clone();
        ops.push(Op::Custom(std::sync::Arc::new(move |now: &mut Vec<zonectl_core::Record>| {
            now.retain(|r| r.name != name || kept.contains(&r.rtype()));
        })));
    }
    ops
}

//! `zonectl zone …`, `zonectl record …` and `zonectl export`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use zonectl_core::plan::{self, ApplyOptions, PlanOptions};
use zonectl_core::provider::{RecordFilter, TtlRule};
use zonectl_core::{Name, RData, Record, RecordType, Ttl, Zone, zonefile};

use super::plan::report_applied;
use super::{Session, color, parse_zone, require_output, write_stdout};
use crate::cli::{Output, RecordCommand, ZoneCommand};
use crate::config::backup_dir;

pub async fn zone(ctx: &Session, command: ZoneCommand) -> anyhow::Result<ExitCode> {
    match command {
        ZoneCommand::List => {
            require_output(ctx.output, &[Output::Text, Output::Json], "zone list")?;
            let provider = ctx.provider()?;
            let zones = provider.list_zones().await?;
            let text = if ctx.output == Output::Json {
                serde_json::to_string_pretty(&zones)? + "\n"
            } else {
                zones.iter().map(|z| format!("{z}\n")).collect()
            };
            write_stdout(text.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        ZoneCommand::Create { zone } => {
            let zone = parse_zone(&zone)?;
            let provider = ctx.provider()?;
            provider.create_zone(&zone).await?;
            eprintln!("{zone} at {}: created", provider.name());
            Ok(ExitCode::SUCCESS)
        }
        ZoneCommand::Delete { zone, force } => {
            let zone = parse_zone(&zone)?;
            let provider = ctx.provider()?;
            if !provider.capabilities().manages_zones {
                // Says the provider cannot, before reading anything.
                provider.delete_zone(&zone).await?;
            }
            let _lock = provider.lock(&zone).await?;
            let records = provider.list_records(&zone).await?.len();
            if !force {
                eprintln!(
                    "{zone} at {}: holds {records} record(s), which would go with it; nothing was changed. \
                     Run again with --force to delete the zone.",
                    provider.name()
                );
                return Ok(ExitCode::FAILURE);
            }
            provider.delete_zone(&zone).await?;
            eprintln!("{zone} at {}: deleted, with its {records} record(s)", provider.name());
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub async fn export(ctx: &Session, zone: &str, file: Option<&Path>) -> anyhow::Result<ExitCode> {
    require_output(ctx.output, &[Output::Text, Output::Zone], "export")?;
    let origin = parse_zone(zone)?;
    let records = ctx.provider()?.list_records(&origin).await?;
    let zone = Zone::from_records(origin, records.into_iter().map(|e| e.record).collect());
    let text = zonefile::to_string(&zone);
    match file {
        Some(path) => {
            zonectl_core::fs::write_atomically(path, text.as_bytes())
                .with_context(|| format!("{}: cannot write", path.display()))?;
            eprintln!("{}: {} records of {}", path.display(), zone.len(), zone.origin());
        }
        None => write_stdout(text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn record(ctx: &Session, command: RecordCommand) -> anyhow::Result<ExitCode> {
    match command {
        RecordCommand::List { zone, name, rtype } => {
            require_output(ctx.output, &[Output::Text, Output::Json, Output::Zone], "record list")?;
            let zone = parse_zone(&zone)?;
            let name =
                name.map(|n| Name::parse_relative(&n, &zone).with_context(|| format!("name '{n}'"))).transpose()?;
            let rtype = rtype.map(|t| t.parse::<RecordType>()).transpose()?;
            let existing = ctx.provider()?.list_records(&zone).await?;
            let mut shown: Vec<_> = existing
                .into_iter()
                .filter(|e| {
                    name.as_ref().is_none_or(|n| e.record.name == *n) && rtype.is_none_or(|t| e.record.rtype() == t)
                })
                .collect();
            shown.sort_by(|a, b| a.record.zone_order(&b.record));
            print_records(ctx.output, &zone, &shown)?;
            Ok(ExitCode::SUCCESS)
        }
        RecordCommand::Add { zone, name, rtype, value, ttl } => {
            let (zone, name, rtype, ttl) = parse_target(&zone, &name, &rtype, ttl.as_deref())?;
            let data = parse_value(rtype, &value, &zone)?;
            let filter = RecordFilter { name: Some(name.clone()), rtype: Some(rtype) };
            edit(ctx, &zone, filter, false, move |records, default_ttl| {
                let ttl = ttl.or_else(|| set_ttl(records, &name, rtype)).unwrap_or(default_ttl);
                set_all_ttls(records, &name, rtype, ttl);
                records.push(Record::new(name, ttl, data));
            })
            .await
        }
        RecordCommand::Set { zone, name, rtype, values, ttl } => {
            let (zone, name, rtype, ttl) = parse_target(&zone, &name, &rtype, ttl.as_deref())?;
            let data = values.iter().map(|v| parse_value(rtype, v, &zone)).collect::<anyhow::Result<Vec<_>>>()?;
            let filter = RecordFilter { name: Some(name.clone()), rtype: Some(rtype) };
            edit(ctx, &zone, filter, false, move |records, default_ttl| {
                let ttl = ttl.or_else(|| set_ttl(records, &name, rtype)).unwrap_or(default_ttl);
                records.retain(|r| !(r.name == name && r.rtype() == rtype));
                records.extend(data.into_iter().map(|d| Record::new(name.clone(), ttl, d)));
            })
            .await
        }
        RecordCommand::Delete { zone, name, rtype, value, force } => {
            let (zone, name, rtype, _) = parse_target(&zone, &name, &rtype, None)?;
            let data = value.map(|v| parse_value(rtype, &v, &zone)).transpose()?;
            let filter = RecordFilter { name: Some(name.clone()), rtype: Some(rtype) };
            edit(ctx, &zone, filter, force, move |records, _| {
                records
                    .retain(|r| !(r.name == name && r.rtype() == rtype && data.as_ref().is_none_or(|d| r.data == *d)));
            })
            .await
        }
    }
}

pub type Target = (Name, Name, RecordType, Option<Ttl>);

pub fn parse_target(zone: &str, name: &str, rtype: &str, ttl: Option<&str>) -> anyhow::Result<Target> {
    let zone = parse_zone(zone)?;
    let name = Name::parse_relative(name, &zone).with_context(|| format!("name '{name}'"))?;
    if !name.is_subdomain_of(&zone) {
        anyhow::bail!("name {name} is outside the zone {zone}");
    }
    let rtype: RecordType = rtype.parse()?;
    let ttl = ttl.map(|t| Ttl::parse(t).with_context(|| "--ttl")).transpose()?;
    Ok((zone, name, rtype, ttl))
}

fn parse_value(rtype: RecordType, value: &str, zone: &Name) -> anyhow::Result<RData> {
    RData::parse(rtype, value, Some(zone)).with_context(|| format!("{rtype} value '{value}'"))
}

fn set_ttl(records: &[Record], name: &Name, rtype: RecordType) -> Option<Ttl> {
    records.iter().find(|r| r.name == *name && r.rtype() == rtype).map(|r| r.ttl)
}

fn set_all_ttls(records: &mut [Record], name: &Name, rtype: RecordType, ttl: Ttl) {
    for r in records.iter_mut().filter(|r| r.name == *name && r.rtype() == rtype) {
        r.ttl = ttl;
    }
}

/// Reads the records at `name` (of `rtype`, if given), edits them, and applies the
/// difference through the plan engine, so that a hand edit is checked, backed up and
/// reported like any apply; a provider that lists records per type reads only those.
pub async fn edit(
    ctx: &Session,
    zone: &Name,
    filter: RecordFilter,
    force: bool,
    change: impl FnOnce(&mut Vec<Record>, Ttl),
) -> anyhow::Result<ExitCode> {
    let provider = ctx.provider()?;
    // Read, plan and apply as one edit: another zonectl's edit waits, then starts from
    // this one's result.
    let _lock = provider.lock(zone).await?;
    let existing = provider.list_records_filtered(zone, &filter).await?;
    let mut records: Vec<Record> = existing.iter().map(|e| e.record.clone()).collect();
    let default_ttl = match provider.capabilities().ttl {
        TtlRule::Range { default, .. } => Ttl::from_secs(default).unwrap_or(Ttl::MAX),
        TtlRule::None => Ttl::from_secs(3600).expect("in range"),
    };
    change(&mut records, default_ttl);
    let desired = Zone::from_records(zone.clone(), records);
    let planned = plan::plan(provider.name(), provider.capabilities(), &desired, existing, &PlanOptions::default())?;
    write_stdout(planned.to_text(color()).as_bytes())?;
    if planned.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let options = ApplyOptions { force, backup_dir: Some(backup_dir()?), ..ApplyOptions::default() };
    let applied = plan::apply(provider.as_ref(), &planned, &options).await?;
    Ok(report_applied(&planned, &applied))
}

fn print_records(output: Output, zone: &Name, records: &[zonectl_core::provider::Existing]) -> anyhow::Result<()> {
    let text = match output {
        Output::Json => {
            let list: Vec<_> = records
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "name": e.record.name,
                        "ttl": e.record.ttl,
                        "type": e.record.rtype(),
                        "value": e.record.data.to_string(),
                        "id": e.id,
                    })
                })
                .collect();
            serde_json::to_string_pretty(&list)? + "\n"
        }
        Output::Zone => {
            let zone = Zone::from_records(zone.clone(), records.iter().map(|e| e.record.clone()).collect());
            zonefile::to_string(&zone)
        }
        _ => table(zone, records),
    };
    write_stdout(text.as_bytes())?;
    Ok(())
}

/// The records as an aligned table: name, TTL, type, value.
fn table(zone: &Name, records: &[zonectl_core::provider::Existing]) -> String {
    let rows: Vec<[String; 4]> = records
        .iter()
        .map(|e| {
            let r = &e.record;
            [
                r.name.relative_to(zone).into_owned(),
                r.ttl.to_string(),
                r.rtype().to_string(),
                r.data.display_relative(zone).to_string(),
            ]
        })
        .collect();
    let header = ["NAME".to_string(), "TTL".into(), "TYPE".into(), "VALUE".into()];
    let widths: Vec<usize> =
        (0..3).map(|i| rows.iter().chain([&header]).map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let _ = writeln!(
            out,
            "{:<w0$}  {:>w1$}  {:<w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
    }
    out
}

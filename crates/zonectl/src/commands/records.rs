//! `zonectl zone …`, `zonectl record …` and `zonectl export`. Listings read the zone's
//! first target; changes go through the one edit transaction (`zonectl_core::edit`) to
//! every target.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use zonectl_core::edit::{self, Op, Options, Transaction};
use zonectl_core::plan::TtlPolicy;
use zonectl_core::provider::{Existing, RecordFilter};
use zonectl_core::route::Route;
use zonectl_core::{Name, RData, RecordType, Ttl, Zone, zonefile};

use super::report::{finish, print_plans};
use super::{Session, parse_zone, write_stdout};
use crate::cli::{EditArgs, Output, RecordCommand, ZoneCommand};
use crate::config::backup_dir;

pub async fn zone(ctx: &Session, command: ZoneCommand) -> anyhow::Result<ExitCode> {
    match command {
        ZoneCommand::List { output } => list_zones(ctx, output.output).await,
        ZoneCommand::Create { zone, output } => {
            let zone = parse_zone(&zone)?;
            let provider = ctx.provider()?;
            let (created, counts) = zonectl_core::meter::measured(provider.create_zone(&zone)).await;
            created?;
            zone_change(output.output, &zone, provider.name(), ("create zone", "created"), counts.total_requests())?;
            Ok(ExitCode::SUCCESS)
        }
        ZoneCommand::Delete { zone, force, output } => {
            let zone = parse_zone(&zone)?;
            let provider = ctx.provider()?;
            if !provider.capabilities().manages_zones {
                // Says the provider cannot, before reading anything.
                provider.delete_zone(&zone).await?;
            }
            let _lock = provider.lock(&zone).await?;
            let records = provider.list_records(&zone).await?.len();
            if !force {
                anyhow::bail!(
                    "{zone} at {}: holds {records} record(s), which would go with it; nothing was changed. Run \
                     again with --force to delete the zone",
                    provider.name()
                );
            }
            let (deleted, counts) = zonectl_core::meter::measured(provider.delete_zone(&zone)).await;
            deleted?;
            let done = format!("deleted, with its {records} record(s)");
            zone_change(output.output, &zone, provider.name(), ("delete zone", &done), counts.total_requests())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A zone made or removed (`what`: the operation, and what became of the zone), in the
/// change report's shape.
fn zone_change(output: Output, zone: &Name, provider: &str, what: (&str, &str), requests: u64) -> anyhow::Result<()> {
    let (what, done) = what;
    if output != Output::Json {
        eprintln!("{zone} at {provider}: {done}");
        return Ok(());
    }
    let document = serde_json::json!({
        "version": zonectl_core::report::VERSION,
        "ok": true,
        "zones": [{
            "zone": zone,
            "ok": true,
            "targets": [{
                "provider": provider, "status": "done", "whole_zone": true,
                "summary": {"create": 0, "update": 0, "delete": 0}, "changes": [],
                "operations": [{ "operation": format!("{what} {zone}"), "outcome": "done", "error": null }],
                "requests": requests, "waits": [], "backup": null, "notes": [], "error": null,
            }],
        }],
    });
    write_stdout((serde_json::to_string_pretty(&document)? + "\n").as_bytes())?;
    Ok(())
}

/// Every zone of every provider (or `--provider`'s), with the providers that hold it.
async fn list_zones(ctx: &Session, output: Output) -> anyhow::Result<ExitCode> {
    let router = ctx.router()?;
    router.discover().await;
    let zones = router.holdings();
    // What an account holds but zonectl cannot manage is named, not left out.
    let unmanaged: Vec<(Name, String)> = router
        .providers()
        .flat_map(|p| p.unmanaged_zones().into_iter().map(move |(zone, why)| (zone, format!("{}: {why}", p.name()))))
        .collect();
    let text = if output == Output::Json {
        let mut list: Vec<_> =
            zones.iter().map(|(zone, providers)| serde_json::json!({ "zone": zone, "providers": providers })).collect();
        list.extend(
            unmanaged.iter().map(|(zone, why)| serde_json::json!({ "zone": zone, "providers": [], "unmanaged": why })),
        );
        serde_json::to_string_pretty(&list)? + "\n"
    } else {
        let several = ctx.provider.is_none() && router.providers().count() > 1;
        let width = zones
            .iter()
            .chain(&[])
            .map(|(z, _)| z.as_str().len())
            .chain(unmanaged.iter().map(|(z, _)| z.as_str().len()))
            .max()
            .unwrap_or(0);
        let mut text: String = zones
            .iter()
            .map(|(zone, providers)| match several {
                true => format!("{:<width$}  {}\n", zone.as_str(), providers.join(", ")),
                false => format!("{zone}\n"),
            })
            .collect();
        for (zone, why) in &unmanaged {
            text.push_str(&format!("{:<width$}  (not managed: {why})\n", zone.as_str()));
        }
        text
    };
    write_stdout(text.as_bytes())?;
    match router.unreachable().as_slice() {
        [] => {}
        // The only provider's error is the command's.
        [one] if router.providers().count() == 1 => anyhow::bail!("{one}"),
        several => anyhow::bail!("cannot list the zones of: {}", several.join("; ")),
    }
    Ok(ExitCode::SUCCESS)
}

/// The records `filter` picks at the zone's first target that can be read, in zone order.
async fn read(route: &Route, filter: &RecordFilter) -> anyhow::Result<Vec<Existing>> {
    let mut first_error = None;
    for provider in &route.targets {
        match provider.list_records_filtered(&route.zone, filter).await {
            Ok(mut records) => {
                records.sort_by(|a, b| a.record.zone_order(&b.record));
                return Ok(records);
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.expect("a route has targets").into())
}

pub async fn export(ctx: &Session, zone: &str, file: Option<&Path>, output: Output) -> anyhow::Result<ExitCode> {
    let origin = parse_zone(zone)?;
    let route = ctx.route(&origin).await?;
    let records = read(&route, &RecordFilter::default()).await?;
    let text = if output == Output::Json {
        records_json(&records)?
    } else {
        zonefile::to_string(&Zone::from_records(origin.clone(), records.into_iter().map(|e| e.record).collect()))
    };
    match file {
        Some(path) => {
            zonectl_core::fs::write_atomically(path, text.as_bytes())
                .with_context(|| format!("{}: cannot write", path.display()))?;
            eprintln!("{}: {origin} from {}", path.display(), route.targets[0].name());
        }
        None => write_stdout(text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn record(ctx: &Session, command: RecordCommand) -> anyhow::Result<ExitCode> {
    match command {
        RecordCommand::List { zone, name, rtype, output } => {
            let zone = parse_zone(&zone)?;
            let name =
                name.map(|n| Name::parse_relative(&n, &zone).with_context(|| format!("name '{n}'"))).transpose()?;
            let rtype = rtype.map(|t| t.parse::<RecordType>()).transpose()?;
            let route = ctx.route(&zone).await?;
            let shown = read(&route, &RecordFilter { name, rtype }).await?;
            print_records(output, &zone, &shown)?;
            Ok(ExitCode::SUCCESS)
        }
        RecordCommand::Add { zone, name, rtype, value, ttl, edit } => {
            let (zone, name, rtype, ttl) = parse_target(&zone, &name, &rtype, ttl.as_deref())?;
            let data = parse_value(rtype, &value, &zone)?;
            let filter = RecordFilter { name: Some(name.clone()), rtype: Some(rtype) };
            change(ctx, &zone, filter, vec![Op::Add { name, data, ttl }], false, &edit).await
        }
        RecordCommand::Set { zone, name, rtype, values, ttl, edit } => {
            let (zone, name, rtype, ttl) = parse_target(&zone, &name, &rtype, ttl.as_deref())?;
            let data = values.iter().map(|v| parse_value(rtype, v, &zone)).collect::<anyhow::Result<Vec<_>>>()?;
            let filter = RecordFilter { name: Some(name.clone()), rtype: Some(rtype) };
            change(ctx, &zone, filter, vec![Op::Replace { name, rtype, data, ttl }], false, &edit).await
        }
        RecordCommand::Delete { zone, name, rtype, value, force, output } => {
            let (zone, name, rtype, _) = parse_target(&zone, &name, &rtype, None)?;
            let data = value.map(|v| parse_value(rtype, &v, &zone)).transpose()?;
            let filter = RecordFilter { name: Some(name.clone()), rtype: Some(rtype) };
            let edit = EditArgs { ttl_policy: crate::cli::TtlPolicyArg::Refuse, output };
            change(ctx, &zone, filter, vec![Op::Remove { name, rtype, data }], force, &edit).await
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

/// A hand edit of `zone` through the one edit transaction: planned at every target and
/// shown, checked, backed up, applied and reported like any apply.
pub async fn change(
    ctx: &Session,
    zone: &Name,
    filter: RecordFilter,
    ops: Vec<Op>,
    force: bool,
    args: &EditArgs,
) -> anyhow::Result<ExitCode> {
    let route = ctx.route(zone).await?;
    let options = Options {
        ttl_policy: TtlPolicy::from(args.ttl_policy),
        force,
        backup_dir: Some(backup_dir()?),
        backup_keep: Some(ctx.config.backups.keep),
        lock: true,
        ..Options::default()
    };
    apply_edit(Transaction::edit(route, filter, ops, options), args.output.output).await
}

/// Prepares, shows, checks and applies one transaction, and reports what happened.
pub async fn apply_edit(transaction: Transaction, output: Output) -> anyhow::Result<ExitCode> {
    let prepared = edit::prepare(vec![transaction]).await?;
    if output != Output::Json {
        print_plans(Output::Text, prepared.plans(), None)?;
    }
    prepared.refuse_unsafe()?;
    let reports = prepared.apply(Some(&super::plan::progress)).await;
    finish(output, &reports)
}

fn records_json(records: &[Existing]) -> anyhow::Result<String> {
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
    Ok(serde_json::to_string_pretty(&list)? + "\n")
}

fn print_records(output: Output, zone: &Name, records: &[Existing]) -> anyhow::Result<()> {
    let text = match output {
        Output::Json => records_json(records)?,
        Output::Zone => {
            let zone = Zone::from_records(zone.clone(), records.iter().map(|e| e.record.clone()).collect());
            zonefile::to_string(&zone)
        }
        Output::Markdown => markdown(zone, records),
        Output::Text => table(zone, records),
    };
    write_stdout(text.as_bytes())?;
    Ok(())
}

/// The rows of a listing: name, TTL, type, value.
fn rows(zone: &Name, records: &[Existing]) -> Vec<[String; 4]> {
    records
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
        .collect()
}

const HEADER: [&str; 4] = ["NAME", "TTL", "TYPE", "VALUE"];

/// The records as an aligned table.
fn table(zone: &Name, records: &[Existing]) -> String {
    let rows = rows(zone, records);
    let header = HEADER.map(str::to_owned);
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

/// The records as a Markdown table, for a pull-request comment.
fn markdown(zone: &Name, records: &[Existing]) -> String {
    let mut out = format!("| {} |\n|---|---:|---|---|\n", HEADER.join(" | "));
    for row in rows(zone, records) {
        let cells: Vec<String> = row.iter().map(|c| format!("`{}`", c.replace('|', "\\|"))).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out
}

//! `zonectl plan`, `zonectl apply` and `zonectl copy`: the desired zone (a source file, or
//! another provider's zone) through the one edit transaction, at every target.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use zonectl_core::edit::{self, Desired, Options, Prepared, Transaction};
use zonectl_core::plan::{Plan, PlanOptions, TtlPolicy};
use zonectl_core::provider::Provider;
use zonectl_core::report::ChangeReport;
use zonectl_core::route::Route;
use zonectl_core::saved::{FileHash, PlanFile, SavedTarget};
use zonectl_core::zonefile::{self, ReadOptions};
use zonectl_core::{Name, Zone};

use super::report::{finish, print_plans};
use super::{Session, parse_zone};
use crate::cli::Output;
use crate::config::{ZoneConfig, backup_dir};

/// One transaction per configured zone with a source (or those named), at its targets —
/// only `--provider`'s, if given. Every source is read and checked before anything else.
fn transactions(
    ctx: &Session,
    only: &[String],
    ttl_policy: Option<TtlPolicy>,
    lock: bool,
    force: bool,
) -> anyhow::Result<(Vec<Transaction>, Vec<FileHash>)> {
    let config = &ctx.config;
    let planned: Vec<&ZoneConfig> = config.zones.iter().filter(|z| z.source.is_some()).collect();
    if planned.is_empty() {
        bail!("no zones with a source in {}: add a [[zone]] with name, source and targets", config.origin);
    }
    let wanted: Vec<Name> = only.iter().map(|z| parse_zone(z)).collect::<anyhow::Result<_>>()?;
    for zone in &wanted {
        match config.zones.iter().find(|z| z.name == *zone) {
            None => bail!("zone {zone} is not configured in {}", config.origin),
            Some(z) if z.source.is_none() => bail!("zone {zone} has no source in {}: nothing to plan", config.origin),
            Some(_) => {}
        }
    }
    if let Some(provider) = &ctx.provider {
        config.provider(provider)?;
        if !planned.iter().any(|z| z.targets.contains(provider)) {
            bail!("no zone in {} has '{provider}' among its targets", config.origin);
        }
    }
    let backups = if lock { Some(backup_dir()?) } else { None };
    let mut transactions = Vec::new();
    let mut sources = Vec::new();
    for zone in planned.into_iter().filter(|z| wanted.is_empty() || wanted.contains(&z.name)) {
        let targets: Vec<&String> =
            zone.targets.iter().filter(|t| ctx.provider.as_ref().is_none_or(|p| p == *t)).collect();
        if targets.is_empty() {
            continue;
        }
        let desired = read_source(ctx, zone)?;
        sources.push(source_hash(ctx, zone)?);
        let providers = targets.iter().map(|t| config.provider(t)).collect::<anyhow::Result<Vec<_>>>()?;
        refuse_one_account_twice(&zone.name, &providers)?;
        let options = Options {
            ttl_policy: ttl_policy.or(zone.ttl_policy).unwrap_or_default(),
            force,
            safety: zone.safety(),
            backup_dir: backups.clone(),
            backup_keep: Some(config.backups.keep),
            lock,
            digest: true,
            ..Options::default()
        };
        transactions.push(Transaction {
            route: Route { zone: zone.name.clone(), targets: providers, nameservers: Vec::new() },
            desired: Desired::Zone { zone: desired, ignore: zone.ignore.clone() },
            options,
        });
    }
    Ok((transactions, sources))
}

/// `path` as the plan file shows it: relative to the configuration's directory where it
/// lies below it, so that a plan made in one checkout applies from another.
fn shown_path(ctx: &Session, path: &std::path::Path) -> String {
    let base = match ctx.config.file.as_ref().and_then(|f| f.parent()) {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let absolute = |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    let (path, base) = (absolute(path), absolute(&base));
    path.strip_prefix(&base).map_or_else(|_| path.display().to_string(), |p| p.display().to_string())
}

fn source_hash(ctx: &Session, zone: &ZoneConfig) -> anyhow::Result<FileHash> {
    let path = ctx.config.path(zone.source.as_deref().expect("zones without a source are not planned"));
    Ok(FileHash::of(&path, shown_path(ctx, &path))?)
}

/// The plan of every prepared target, as a plan file: what `plan --out` saves and whose
/// checksum `plan` prints and `apply --checksum` compares.
fn plan_file(ctx: &Session, prepared: &Prepared, sources: Vec<FileHash>) -> anyhow::Result<PlanFile> {
    let config = match &ctx.config.file {
        Some(file) => Some(FileHash::of(file, shown_path(ctx, file))?),
        None => None,
    };
    let targets = prepared
        .targets()
        .filter_map(|(provider, target)| {
            let plan = target.plan.as_ref()?;
            let read = target.read_digest.clone()?;
            Some(SavedTarget::new(plan, &provider.account(), read))
        })
        .collect();
    Ok(PlanFile::new(config, sources, targets))
}

/// The zone's source file, read and checked; its problems are printed.
fn read_source(ctx: &Session, zone: &ZoneConfig) -> anyhow::Result<Zone> {
    let source = ctx.config.path(zone.source.as_deref().expect("zones without a source are not planned"));
    let options = ReadOptions {
        origin: Some(zone.name.clone()),
        max_records: zone.max_records.unwrap_or(zonefile::DEFAULT_MAX_RECORDS),
        ..ReadOptions::default()
    };
    match zonefile::read_file(&source, &options) {
        Ok(loaded) => {
            // Held while the targets are read and planned: a 1M-record plan peaked 6-13
            // MiB lower with the source's list moved into one of its size (its old room
            // then serves the targets' reading).
            let mut zone = loaded.zone;
            zone.shrink_to_fit();
            Ok(zone)
        }
        Err(err) => {
            super::print_diagnostics(&err.diagnostics);
            bail!("{}: not loaded ({} error(s)); nothing was changed", source.display(), err.errors().count());
        }
    }
}

/// Two targets that write to one place would apply every change twice.
fn refuse_one_account_twice(zone: &Name, providers: &[std::sync::Arc<dyn Provider>]) -> anyhow::Result<()> {
    match zonectl_core::route::one_account_twice(zone, providers) {
        Some(why) => bail!(why),
        None => Ok(()),
    }
}

/// Fails, naming each, when a target could not be read.
fn refuse_unreadable(reports: &[ChangeReport]) -> anyhow::Result<()> {
    let unreadable: Vec<String> = reports
        .iter()
        .flat_map(|r| r.targets.iter().filter(|t| t.plan.is_none()).map(|t| unreadable_line(&r.zone, t)))
        .collect();
    if !unreadable.is_empty() {
        bail!("{}", unreadable.join("; "));
    }
    Ok(())
}

fn unreadable_line(zone: &Name, target: &zonectl_core::report::TargetReport) -> String {
    let error = target.error.as_ref().map_or_else(String::new, ToString::to_string);
    let mut line = format!("{zone} at {}: cannot be read: {error}", target.provider);
    for note in &target.notes {
        line.push_str(&format!("; {note}"));
    }
    line
}

pub async fn plan(
    ctx: &Session,
    zones: &[String],
    detailed_exitcode: bool,
    ttl_policy: Option<TtlPolicy>,
    output: Output,
    out: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let (transactions, sources) = transactions(ctx, zones, ttl_policy, false, false)?;
    let prepared = edit::prepare(transactions).await?;
    let file = plan_file(ctx, &prepared, sources)?;
    print_plans(output, prepared.plans(), Some(&file.checksum))?;
    let changes = !prepared.is_empty();
    refuse_unreadable(&prepared.into_reports())?;
    if let Some(out) = out {
        zonectl_core::fs::write_atomically(out, file.to_json().as_bytes())
            .with_context(|| format!("--out {}: cannot write", out.display()))?;
        eprintln!("{}: the plan, for `zonectl apply {}`", out.display(), out.display());
    }
    Ok(if changes && detailed_exitcode { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

/// What `apply` was asked beyond the zones.
pub struct ApplyHow {
    pub force: bool,
    pub yes: bool,
    pub output: Output,
}

/// Plans the configured zones and applies the plans; with `checksum`, only if the plan
/// has it.
pub async fn apply(
    ctx: &Session,
    zones: &[String],
    ttl_policy: Option<TtlPolicy>,
    checksum: Option<&str>,
    how: ApplyHow,
) -> anyhow::Result<ExitCode> {
    let (transactions, sources) = transactions(ctx, zones, ttl_policy, true, how.force)?;
    let prepared = edit::prepare(transactions).await?;
    if let Some(reviewed) = checksum {
        let now = plan_file(ctx, &prepared, sources)?.checksum;
        if now != reviewed.trim() {
            bail!(
                "the plan now is {now}, not the {reviewed} reviewed: the zones, the sources or the configuration \
                 changed since; nothing was changed (plan again and review the new plan)"
            );
        }
    }
    apply_prepared(prepared, how).await
}

/// Shows the plans, checks their safety, asks once, then applies them all.
pub async fn apply_prepared(prepared: Prepared, how: ApplyHow) -> anyhow::Result<ExitCode> {
    if how.output != Output::Json {
        print_plans(how.output, prepared.plans(), None)?;
    }
    let problems = prepared.safety_problems();
    if !problems.is_empty() {
        bail!("{}; --force applies it all the same; nothing was changed", problems.join("; "));
    }
    let pending = prepared.plans().filter(|p| !p.is_empty()).count();
    if pending > 0 && !how.yes && std::io::stdin().is_terminal() && !confirm(pending)? {
        eprintln!("Nothing was changed.");
        return Ok(ExitCode::FAILURE);
    }
    let reports = prepared.apply(Some(&progress)).await;
    finish(how.output, &reports)
}

fn confirm(targets: usize) -> anyhow::Result<bool> {
    eprint!("Apply these changes to {targets} zone target(s)? [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES"))
}

/// A spinner on a terminal once a target's apply has taken longer than a moment (not for
/// providers that print a line per order of their own); it goes when the apply ends.
pub fn progress(provider: &dyn Provider, plan: &Plan) -> Option<Box<dyn Send>> {
    if !std::io::stderr().is_terminal() || provider.capabilities().asynchronous {
        return None;
    }
    let spinner = indicatif::ProgressBar::hidden();
    spinner.set_message(format!("applying {} change(s) to {} at {}", plan.operations.len(), plan.zone, plan.provider));
    let shown = spinner.clone();
    let show = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        shown.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        crate::status::show(&shown);
        shown.enable_steady_tick(Duration::from_millis(100));
    });
    Some(Box::new(Spinner { spinner, show }))
}

struct Spinner {
    spinner: indicatif::ProgressBar,
    show: tokio::task::JoinHandle<()>,
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.show.abort();
        self.spinner.finish_and_clear();
        crate::status::clear();
    }
}

/// `PROVIDER:ZONE`.
fn parse_location(text: &str) -> anyhow::Result<(String, Name)> {
    let (provider, zone) = text.split_once(':').with_context(|| format!("'{text}': expected PROVIDER:ZONE"))?;
    Ok((provider.to_owned(), parse_zone(zone)?))
}

/// What `copy` is asked to do beyond planning.
pub struct CopyOptions {
    pub apply: bool,
    pub force: bool,
    pub yes: bool,
    pub ttl_policy: TtlPolicy,
    pub output: Output,
}

pub async fn copy(ctx: &Session, source: &str, destination: &str, how: CopyOptions) -> anyhow::Result<ExitCode> {
    let CopyOptions { apply, force, yes, ttl_policy, output } = how;
    let (from_name, from_zone) = parse_location(source)?;
    let (to_name, to_zone) = parse_location(destination)?;
    if let Some(only) = ctx.provider.as_deref().filter(|p| *p != to_name) {
        ctx.config.provider(only)?;
        bail!("copy writes to '{to_name}' only; --provider {only} names another provider");
    }
    let from = ctx.config.provider(&from_name)?;
    let to = ctx.config.provider(&to_name)?;
    let records = from.list_records(&from_zone).await?;
    let desired = moved(from.as_ref(), &from_zone, &to_zone, records.into_iter().map(|e| e.record).collect())?;
    let options = Options {
        ttl_policy,
        force,
        backup_dir: if apply { Some(backup_dir()?) } else { None },
        backup_keep: Some(ctx.config.backups.keep),
        lock: apply,
        ..Options::default()
    };
    let transaction = Transaction {
        route: Route { zone: to_zone, targets: vec![to], nameservers: Vec::new() },
        desired: Desired::Zone { zone: desired, ignore: Vec::new() },
        options,
    };
    let prepared = edit::prepare(vec![transaction]).await?;
    if !apply {
        print_plans(output, prepared.plans(), None)?;
        refuse_unreadable(&prepared.into_reports())?;
        return Ok(ExitCode::SUCCESS);
    }
    if output == Output::Markdown {
        print_plans(output, prepared.plans(), None)?;
        return apply_prepared(prepared, ApplyHow { force, yes, output: Output::Text }).await;
    }
    apply_prepared(prepared, ApplyHow { force, yes, output }).await
}

/// The records of `from_zone` as the zone `to_zone` should hold them: the source's own SOA
/// and NS stay behind (the destination keeps its own), and a copy under another name takes
/// its owners and the targets that pointed inside the zone (`www CNAME web`, `@ MX 10 mx`)
/// along; a record that does not fit under the new name is refused, naming it.
fn moved(
    from: &dyn Provider,
    from_zone: &Name,
    to_zone: &Name,
    records: Vec<zonectl_core::Record>,
) -> anyhow::Result<Zone> {
    let caps = from.capabilities();
    let keep = PlanOptions::default();
    let mut moved = Vec::new();
    for record in records {
        if !keep.manages(caps, from_zone, &record.name, record.rtype()) {
            continue;
        }
        let record = record
            .rehome(from_zone, to_zone)
            .with_context(|| format!("cannot copy {record} to {to_zone}; nothing was changed"))?;
        moved.push(record);
    }
    Ok(Zone::from_records(to_zone.clone(), moved))
}

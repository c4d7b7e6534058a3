//! `zonectl plan`, `zonectl apply` and `zonectl copy`.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use zonectl_core::plan::{self, Applied, ApplyOptions, Plan, PlanOptions, Safety, TtlPolicy};
use zonectl_core::provider::{Outcome, Provider, ZoneLock};
use zonectl_core::zonefile::{self, ReadOptions};
use zonectl_core::{Name, Zone};

use super::{Session, color, parse_zone, require_output, write_stdout};
use crate::cli::Output;
use crate::config::{ZoneConfig, backup_dir};

/// One zone at one target, planned (under the zone's lock, for an apply).
struct Target {
    provider: Arc<dyn Provider>,
    plan: Plan,
    safety: Safety,
    _lock: ZoneLock,
}

/// Plans every configured zone (or those named) at every target. Reads and checks all
/// sources and plans everything before anything is applied. With `lock`, each target's
/// zone is locked before it is read, and stays locked in the returned targets, so that a
/// concurrent `apply` waits and then plans against this one's result; locks are taken in
/// one global order (account, then zone), so two runs never hold one each and wait for
/// the other's.
async fn plan_all(
    ctx: &Session,
    only: &[String],
    lock: bool,
    ttl_policy: Option<TtlPolicy>,
) -> anyhow::Result<Vec<Target>> {
    let config = &ctx.config;
    if config.zones.is_empty() {
        bail!("no zones configured in {}: add a [[zone]] with name, source and targets", config.origin);
    }
    let wanted: Vec<Name> = only.iter().map(|z| parse_zone(z)).collect::<anyhow::Result<_>>()?;
    if let Some(missing) = wanted.iter().find(|w| !config.zones.iter().any(|z| z.name == **w)) {
        bail!("zone {missing} is not configured in {}", config.origin);
    }
    let mut work = Vec::new();
    for zone in config.zones.iter().filter(|z| wanted.is_empty() || wanted.contains(&z.name)) {
        let desired = read_source(ctx, zone)?;
        let providers = zone.targets.iter().map(|t| config.provider(t)).collect::<anyhow::Result<Vec<_>>>()?;
        refuse_one_account_twice(zone, &providers)?;
        work.push((zone, desired, providers));
    }
    let mut locks = std::collections::HashMap::new();
    if lock {
        let mut order: Vec<(String, &Name, usize, usize)> = work
            .iter()
            .enumerate()
            .flat_map(|(z, (zone, _, providers))| {
                providers.iter().enumerate().map(move |(p, provider)| (provider.account(), &zone.name, z, p))
            })
            .collect();
        order.sort();
        for (_, name, z, p) in order {
            locks.insert((z, p), work[z].2[p].lock(name).await?);
        }
    }
    let mut targets = Vec::new();
    for (z, (zone, desired, providers)) in work.into_iter().enumerate() {
        let plan_options = PlanOptions {
            ignore: zone.ignore.clone(),
            manage_provider_records: false,
            ttl_policy: ttl_policy.or(zone.ttl_policy).unwrap_or_default(),
        };
        for (p, provider) in providers.into_iter().enumerate() {
            let current =
                provider.list_records(&zone.name).await.map_err(|e| missing_zone(e, provider.as_ref(), &zone.name))?;
            let plan = plan::plan(provider.name(), provider.capabilities(), &desired, current, &plan_options)?;
            let lock = locks.remove(&(z, p)).unwrap_or_default();
            targets.push(Target { provider, plan, safety: zone.safety(), _lock: lock });
        }
    }
    Ok(targets)
}

/// The zone's source file, read and checked; its problems are printed.
fn read_source(ctx: &Session, zone: &ZoneConfig) -> anyhow::Result<Zone> {
    let source = ctx.config.path(&zone.source);
    let options = ReadOptions { origin: Some(zone.name.clone()), ..ReadOptions::default() };
    match zonefile::read_file(&source, &options) {
        Ok(loaded) => Ok(loaded.zone),
        Err(err) => {
            super::print_diagnostics(&err.diagnostics);
            bail!("{}: not loaded ({} error(s)); nothing was changed", source.display(), err.errors().count());
        }
    }
}

/// A zone the account lacks is never made by an apply; where the provider can make zones,
/// the error says how.
fn missing_zone(error: zonectl_core::Error, provider: &dyn Provider, zone: &Name) -> anyhow::Error {
    let missing = matches!(&error, zonectl_core::Error::NotFound { what, .. } if what.starts_with("zone "));
    if missing && provider.capabilities().manages_zones {
        return anyhow::anyhow!("{error}; `zonectl zone create {zone} --provider {}` makes it", provider.name());
    }
    error.into()
}

/// Two targets that write to one place would apply every change twice.
fn refuse_one_account_twice(zone: &ZoneConfig, providers: &[Arc<dyn Provider>]) -> anyhow::Result<()> {
    for (i, a) in providers.iter().enumerate() {
        if let Some(b) = providers[..i].iter().find(|b| b.account() == a.account()) {
            bail!(
                "zone {}: targets '{}' and '{}' are one and the same account ({}); list it once",
                zone.name,
                b.name(),
                a.name(),
                a.account()
            );
        }
    }
    Ok(())
}

fn print_plans(output: Output, targets: &[Target]) -> anyhow::Result<()> {
    let text = match output {
        Output::Json => {
            let plans: Vec<&Plan> = targets.iter().map(|t| &t.plan).collect();
            serde_json::to_string_pretty(&serde_json::json!({ "plans": plans }))? + "\n"
        }
        Output::Markdown => targets.iter().map(|t| t.plan.to_markdown() + "\n").collect(),
        _ => {
            let color = color();
            targets.iter().map(|t| t.plan.to_text(color)).collect()
        }
    };
    write_stdout(text.as_bytes())?;
    Ok(())
}

pub async fn plan(
    ctx: &Session,
    zones: &[String],
    detailed_exitcode: bool,
    ttl_policy: Option<TtlPolicy>,
) -> anyhow::Result<ExitCode> {
    require_output(ctx.output, &[Output::Text, Output::Json, Output::Markdown], "plan")?;
    let targets = plan_all(ctx, zones, false, ttl_policy).await?;
    print_plans(ctx.output, &targets)?;
    let changes = targets.iter().any(|t| !t.plan.is_empty());
    Ok(if changes && detailed_exitcode { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

pub async fn apply(
    ctx: &Session,
    zones: &[String],
    force: bool,
    yes: bool,
    ttl_policy: Option<TtlPolicy>,
) -> anyhow::Result<ExitCode> {
    require_output(ctx.output, &[Output::Text], "apply")?;
    let targets = plan_all(ctx, zones, true, ttl_policy).await?;
    print_plans(ctx.output, &targets)?;
    apply_targets(targets, force, yes).await
}

/// Checks every plan's safety, asks once, then applies them one after another.
async fn apply_targets(targets: Vec<Target>, force: bool, yes: bool) -> anyhow::Result<ExitCode> {
    let pending: Vec<&Target> = targets.iter().filter(|t| !t.plan.is_empty()).collect();
    if pending.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if !force {
        let problems: Vec<String> = pending
            .iter()
            .flat_map(|t| {
                t.plan
                    .safety_problems(&t.safety)
                    .into_iter()
                    .map(|p| format!("{} at {}: {p}", t.plan.zone, t.plan.provider))
            })
            .collect();
        if !problems.is_empty() {
            bail!("{}; nothing was changed", problems.join("; "));
        }
    }
    if !yes && std::io::stdin().is_terminal() && !confirm(pending.len())? {
        eprintln!("Nothing was changed.");
        return Ok(ExitCode::FAILURE);
    }
    let backups = backup_dir()?;
    let mut code = ExitCode::SUCCESS;
    for target in pending {
        let options = ApplyOptions { force: true, safety: target.safety, backup_dir: Some(backups.clone()) };
        let apply = plan::apply(target.provider.as_ref(), &target.plan, &options);
        // An asynchronous provider prints a line per order and its ticket instead.
        let applied = if target.provider.capabilities().asynchronous {
            apply.await?
        } else {
            with_progress(&target.plan, apply).await?
        };
        if report_applied(&target.plan, &applied) != ExitCode::SUCCESS {
            code = ExitCode::FAILURE;
        }
    }
    Ok(code)
}

fn confirm(zones: usize) -> anyhow::Result<bool> {
    eprint!("Apply these changes to {zones} zone target(s)? [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES"))
}

/// Runs `apply`, showing a spinner on a terminal once it has taken longer than a moment.
async fn with_progress<T>(plan: &Plan, apply: impl std::future::Future<Output = T>) -> T {
    if !std::io::stderr().is_terminal() {
        return apply.await;
    }
    tokio::pin!(apply);
    tokio::select! {
        done = &mut apply => return done,
        () = tokio::time::sleep(Duration::from_millis(300)) => {}
    }
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message(format!("applying {} change(s) to {} at {}", plan.operations.len(), plan.zone, plan.provider));
    spinner.enable_steady_tick(Duration::from_millis(100));
    let done = apply.await;
    spinner.finish_and_clear();
    done
}

/// Prints what an apply did; after a failure, each change as done, failed, of unknown
/// outcome, or not attempted, so that the user knows the zone's state. Running `apply`
/// again converges.
pub fn report_applied(plan: &Plan, applied: &Applied) -> ExitCode {
    if let Some(backup) = &applied.backup {
        eprintln!("{} at {}: backup of the zone before the change: {}", plan.zone, plan.provider, backup.display());
    }
    let outcomes = &applied.report.outcomes;
    if applied.report.is_complete() {
        let s = plan.summary;
        eprintln!(
            "{} at {}: applied: {} record set(s) created, {} updated, {} deleted.",
            plan.zone, plan.provider, s.create, s.update, s.delete
        );
        return ExitCode::SUCCESS;
    }
    eprintln!("{} at {}: the apply did not complete:", plan.zone, plan.provider);
    for (change, outcome) in plan.operations.iter().zip(outcomes) {
        match outcome {
            Outcome::Done => eprintln!("  done:            {change}"),
            Outcome::Failed(e) => eprintln!("  FAILED:          {change}: {e}"),
            Outcome::Unknown(e) => eprintln!("  outcome unknown: {change}: {e} (it may have been made)"),
            Outcome::NotAttempted => eprintln!("  not attempted:   {change}"),
        }
    }
    if outcomes.iter().any(|o| matches!(o, Outcome::Unknown(_))) {
        eprintln!("Changes of unknown outcome may or may not be in the zone: the provider's answer was lost.");
    }
    eprintln!("Run `zonectl apply` again to finish; it re-reads the zone and plans from it as it is now.");
    ExitCode::FAILURE
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
}

pub async fn copy(ctx: &Session, source: &str, destination: &str, how: CopyOptions) -> anyhow::Result<ExitCode> {
    let CopyOptions { apply, force, yes, ttl_policy } = how;
    require_output(ctx.output, &[Output::Text, Output::Json, Output::Markdown], "copy")?;
    let (from_name, from_zone) = parse_location(source)?;
    let (to_name, to_zone) = parse_location(destination)?;
    let from = ctx.config.provider(&from_name)?;
    let to = ctx.config.provider(&to_name)?;
    let records = from.list_records(&from_zone).await?;
    let desired = moved(from.as_ref(), &from_zone, &to_zone, records.into_iter().map(|e| e.record).collect())?;
    let lock = if apply { to.lock(&to_zone).await? } else { ZoneLock::none() };
    let current = to.list_records(&to_zone).await?;
    let options = PlanOptions { ttl_policy, ..PlanOptions::default() };
    let plan = plan::plan(to.name(), to.capabilities(), &desired, current, &options)?;
    let target = Target { provider: to, plan, safety: Safety::default(), _lock: lock };
    print_plans(ctx.output, std::slice::from_ref(&target))?;
    if !apply {
        return Ok(ExitCode::SUCCESS);
    }
    apply_targets(vec![target], force, yes).await
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

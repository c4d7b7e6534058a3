//! `zonectl plan`, `zonectl apply` and `zonectl copy`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use zonectl_core::plan::{self, Applied, ApplyOptions, Plan, PlanOptions, Safety};
use zonectl_core::provider::{Outcome, Provider};
use zonectl_core::zonefile::{self, ReadOptions};
use zonectl_core::{Name, Zone};

use super::{Session, color, parse_zone, require_output};
use crate::cli::Output;

/// One zone at one target, planned.
struct Target {
    provider: Arc<dyn Provider>,
    plan: Plan,
    safety: Safety,
}

/// Where backups go: `$ZONECTL_STATE_DIR/backups`, else `$XDG_STATE_HOME/zonectl/backups`,
/// else `~/.local/state/zonectl/backups`.
pub fn backup_dir() -> anyhow::Result<PathBuf> {
    Ok(state_dir()?.join("backups"))
}

/// The state directory: `$ZONECTL_STATE_DIR`, else `$XDG_STATE_HOME/zonectl`, else
/// `~/.local/state/zonectl`. Backups and lock files live there.
pub fn state_dir() -> anyhow::Result<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("ZONECTL_STATE_DIR")
        .or_else(|| var("XDG_STATE_HOME").map(|d| d.join("zonectl")))
        .or_else(|| var("HOME").map(|h| h.join(".local/state/zonectl")))
        .context("no state directory: set ZONECTL_STATE_DIR or HOME")
}

/// Plans every configured zone (or those named) at every target. Reads and checks all
/// sources and plans everything before anything is applied.
async fn plan_all(ctx: &Session, only: &[String]) -> anyhow::Result<Vec<Target>> {
    let config = &ctx.config;
    if config.zones.is_empty() {
        bail!("no zones configured in {}: add a [[zone]] with name, source and targets", config.origin);
    }
    let wanted: Vec<Name> = only.iter().map(|z| parse_zone(z)).collect::<anyhow::Result<_>>()?;
    if let Some(missing) =
        wanted.iter().find(|w| !config.zones.iter().any(|z| Name::parse(&z.name).is_ok_and(|n| n == **w)))
    {
        bail!("zone {missing} is not configured in {}", config.origin);
    }
    let mut targets = Vec::new();
    for zone_config in &config.zones {
        let origin = parse_zone(&zone_config.name)?;
        if !wanted.is_empty() && !wanted.contains(&origin) {
            continue;
        }
        let source = config.path(&zone_config.source);
        let options = ReadOptions { origin: Some(origin.clone()), strict: false, allow_empty: false };
        let desired = match zonefile::read_file(&source, &options) {
            Ok(loaded) => loaded.zone,
            Err(err) => {
                for problem in &err.diagnostics {
                    eprintln!("{problem}");
                }
                bail!("{}: not loaded ({} error(s)); nothing was changed", source.display(), err.errors().count());
            }
        };
        let plan_options = PlanOptions { ignore: zone_config.ignore.clone(), manage_provider_records: false };
        for target in &zone_config.targets {
            let provider = config.provider(target, ctx.trace.clone())?;
            let current = provider.list_records(&origin).await?;
            let plan = plan::plan(provider.name(), provider.capabilities(), &desired, current, &plan_options)?;
            targets.push(Target { provider, plan, safety: zone_config.safety() });
        }
    }
    Ok(targets)
}

fn print_plans(output: Output, targets: &[Target]) -> anyhow::Result<()> {
    match output {
        Output::Json => {
            let plans: Vec<&Plan> = targets.iter().map(|t| &t.plan).collect();
            println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "plans": plans }))?);
        }
        Output::Markdown => {
            for t in targets {
                println!("{}", t.plan.to_markdown());
            }
        }
        _ => {
            let color = color();
            for t in targets {
                print!("{}", t.plan.to_text(color));
            }
        }
    }
    Ok(())
}

pub async fn plan(ctx: &Session, zones: &[String], detailed_exitcode: bool) -> anyhow::Result<ExitCode> {
    require_output(ctx.output, &[Output::Text, Output::Json, Output::Markdown], "plan")?;
    let targets = plan_all(ctx, zones).await?;
    print_plans(ctx.output, &targets)?;
    let changes = targets.iter().any(|t| !t.plan.is_empty());
    Ok(if changes && detailed_exitcode { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

pub async fn apply(ctx: &Session, zones: &[String], force: bool, yes: bool) -> anyhow::Result<ExitCode> {
    require_output(ctx.output, &[Output::Text], "apply")?;
    let targets = plan_all(ctx, zones).await?;
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

/// Prints what an apply did; after a failure, each change as done, failed or not attempted,
/// so that the user knows the zone's state. Running `apply` again converges.
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
            Outcome::Done => eprintln!("  done:          {change}"),
            Outcome::Failed(e) => eprintln!("  FAILED:        {change}: {e}"),
            Outcome::NotAttempted => eprintln!("  not attempted: {change}"),
        }
    }
    eprintln!("Run `zonectl apply` again to finish; it plans from the zone as it is now.");
    ExitCode::FAILURE
}

/// `PROVIDER:ZONE`.
fn parse_location(text: &str) -> anyhow::Result<(String, Name)> {
    let (provider, zone) = text.split_once(':').with_context(|| format!("'{text}': expected PROVIDER:ZONE"))?;
    Ok((provider.to_owned(), parse_zone(zone)?))
}

pub async fn copy(
    ctx: &Session,
    source: &str,
    destination: &str,
    apply: bool,
    force: bool,
    yes: bool,
) -> anyhow::Result<ExitCode> {
    require_output(ctx.output, &[Output::Text, Output::Json, Output::Markdown], "copy")?;
    let (from_name, from_zone) = parse_location(source)?;
    let (to_name, to_zone) = parse_location(destination)?;
    let from = ctx.config.provider(&from_name, ctx.trace.clone())?;
    let to = ctx.config.provider(&to_name, ctx.trace.clone())?;
    let records = from.list_records(&from_zone).await?;
    // The source's own SOA and NS stay behind; the destination keeps its own.
    let caps = from.capabilities();
    let keep = PlanOptions::default();
    let mut moved = Vec::new();
    for existing in records {
        let mut record = existing.record;
        if !keep.manages(caps, &from_zone, &record.name, record.rtype()) {
            continue;
        }
        if from_zone != to_zone {
            let relative = record.name.relative_to(&from_zone).into_owned();
            record.name = Name::parse_relative(&relative, &to_zone)?;
        }
        moved.push(record);
    }
    let desired = Zone::from_records(to_zone.clone(), moved);
    let current = to.list_records(&to_zone).await?;
    let plan = plan::plan(to.name(), to.capabilities(), &desired, current, &PlanOptions::default())?;
    let target = Target { provider: to, plan, safety: Safety::default() };
    print_plans(ctx.output, std::slice::from_ref(&target))?;
    if !apply {
        return Ok(ExitCode::SUCCESS);
    }
    apply_targets(vec![target], force, yes).await
}

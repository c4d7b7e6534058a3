//! Saved plans: `zonectl apply FILE` (or `--plan FILE`) and `zonectl show FILE`. The file
//! format is `zonectl_core::saved`'s.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use zonectl_core::edit::{self, Options, SavedTarget};
use zonectl_core::saved::PlanFile;

use super::Session;
use super::plan::{ApplyHow, apply_prepared};
use super::report::print_plans;
use super::write_stdout;
use crate::cli::Output;
use crate::config::backup_dir;

/// The plan file `apply`'s one argument names, if it names a file that is one (a zone
/// named `example.com` beside a zone file of that name stays a zone).
pub fn named_plan_file(args: &[String]) -> Option<PathBuf> {
    let [one] = args else { return None };
    let path = Path::new(one);
    let looks_like_a_plan = std::fs::read(path).is_ok_and(|bytes| {
        bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
            && String::from_utf8_lossy(&bytes).contains("\"zonectl_plan\"")
    });
    looks_like_a_plan.then(|| path.to_owned())
}

fn load(file: &Path) -> anyhow::Result<PlanFile> {
    let bytes =
        zonectl_core::fs::read_limited(file, 256 << 20).with_context(|| format!("{}: cannot read", file.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{}: not a zonectl plan file", file.display()))?;
    Ok(PlanFile::parse(&text, &file.display().to_string())?)
}

/// Applies exactly the saved plan's changes, each target only while it holds what was
/// read when the plan was made.
pub async fn apply(ctx: &Session, file: &Path, how: ApplyHow) -> anyhow::Result<ExitCode> {
    let saved = load(file)?;
    if saved.targets.is_empty() {
        bail!("{}: the plan has no targets", file.display());
    }
    let options = Options {
        force: how.force,
        backup_dir: Some(backup_dir()?),
        backup_keep: Some(ctx.config.backups.keep),
        lock: true,
        ..Options::default()
    };
    let mut targets = Vec::with_capacity(saved.targets.len());
    for target in &saved.targets {
        if ctx.provider.as_ref().is_some_and(|p| *p != target.provider) {
            continue;
        }
        let provider = ctx
            .config
            .provider(&target.provider)
            .with_context(|| format!("{}: the plan's target {}", file.display(), target.provider))?;
        if !target.is_account(&provider.account()) {
            bail!(
                "{}: the plan was made for another account at '{}' than the one {} names now; nothing was \
                 changed (plan again)",
                file.display(),
                target.provider,
                ctx.config.origin
            );
        }
        let plan = target.plan()?;
        let zone = ctx.config.zones.iter().find(|z| z.name == plan.zone);
        targets.push(SavedTarget {
            provider,
            plan,
            read: target.read.clone(),
            ignore: zone.map(|z| z.ignore.clone()).unwrap_or_default(),
            options: Options { safety: zone.map(|z| z.safety()).unwrap_or_default(), ..options.clone() },
        });
    }
    if targets.is_empty() {
        bail!("{}: no target of the plan is at provider '{}'", file.display(), ctx.provider.as_deref().unwrap_or(""));
    }
    let prepared = edit::prepare_saved(targets).await.with_context(|| file.display().to_string())?;
    apply_prepared(prepared, how).await
}

/// Prints a saved plan: what it was made from, then its plans (text, Markdown), or the
/// file itself (JSON).
pub fn show(file: &Path, output: Output) -> anyhow::Result<ExitCode> {
    let saved = load(file)?;
    if output == Output::Json {
        write_stdout(saved.to_json().as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let plans = saved.targets.iter().map(|t| t.plan()).collect::<zonectl_core::Result<Vec<_>>>()?;
    let mut head = String::new();
    let quote = |text: &str| if output == Output::Markdown { format!("`{text}`") } else { text.to_owned() };
    let _ = writeln!(head, "Plan made by {} at {}", saved.made_by, saved.made_at);
    if let Some(config) = &saved.config {
        let _ = writeln!(head, "from {} (sha256 {})", quote(&config.path), quote(&config.sha256));
    }
    for source in &saved.sources {
        let _ = writeln!(head, "and {} (sha256 {})", quote(&source.path), quote(&source.sha256));
    }
    for target in &saved.targets {
        let _ = writeln!(
            head,
            "{} at {} held {} record(s) (sha256 {})",
            target.zone,
            target.provider,
            target.read.records,
            quote(&target.read.sha256)
        );
    }
    head.push('\n');
    if output == Output::Markdown {
        head = head.lines().map(|l| if l.is_empty() { "\n".to_owned() } else { format!("{l}  \n") }).collect();
    }
    write_stdout(head.as_bytes())?;
    print_plans(output, plans.iter(), Some(&saved.checksum))?;
    Ok(ExitCode::SUCCESS)
}

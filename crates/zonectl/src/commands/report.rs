//! How the command line shows plans and change reports: plans on stdout (text, JSON or
//! Markdown), what an apply did on stderr, or, with `--output json`, the one change-report
//! document (`zonectl_core::report::Document`) on stdout and nothing else there.

use std::fmt::Write as _;
use std::process::ExitCode;

use zonectl_core::plan::Plan;
use zonectl_core::provider::Outcome;
use zonectl_core::report::{ChangeReport, Document, Status, TargetReport};

use super::{color, write_stdout};
use crate::cli::Output;

/// Prints the plans for people (text or Markdown) or as `plan`'s JSON, with the plan's
/// checksum where it has one (`apply --checksum` takes it).
pub fn print_plans<'a>(
    output: Output,
    plans: impl Iterator<Item = &'a Plan>,
    checksum: Option<&str>,
) -> anyhow::Result<()> {
    let plans: Vec<&Plan> = plans.collect();
    let text = match output {
        Output::Json => {
            let mut document = serde_json::json!({ "plans": plans });
            if let Some(sum) = checksum {
                document["checksum"] = sum.into();
            }
            serde_json::to_string_pretty(&document)? + "\n"
        }
        Output::Markdown => {
            let mut text: String = plans.iter().map(|p| p.to_markdown() + "\n").collect();
            if let Some(sum) = checksum {
                text.push_str(&format!("Plan checksum: `{sum}`\n"));
            }
            text
        }
        _ => {
            // Written as it is made, not gathered first (see `Plan::write_text`).
            let color = color();
            let mut out = super::StdoutText::new();
            for plan in &plans {
                let _ = plan.write_text(color, &mut out);
            }
            if let Some(sum) = checksum {
                let _ = writeln!(out, "Plan checksum: {sum}");
            }
            return Ok(out.finish()?);
        }
    };
    write_stdout(text.as_bytes())?;
    Ok(())
}

/// The change-report document on stdout.
pub fn print_json(reports: &[ChangeReport]) -> anyhow::Result<()> {
    write_stdout((serde_json::to_string_pretty(&Document(reports))? + "\n").as_bytes())?;
    Ok(())
}

/// What the reports say, as `--output` asks: the JSON document on stdout, or a line per
/// target on stderr (and each change of a target that did not finish). The exit status is
/// a failure unless every target holds what was asked.
pub fn finish(output: Output, reports: &[ChangeReport]) -> anyhow::Result<ExitCode> {
    if output == Output::Json {
        print_json(reports)?;
    } else {
        eprint!("{}", text(reports));
    }
    Ok(if reports.iter().all(ChangeReport::is_ok) { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The reports for people.
pub fn text(reports: &[ChangeReport]) -> String {
    let mut out = String::new();
    let mut unknown = false;
    let mut unfinished = false;
    for report in reports {
        for target in &report.targets {
            target_text(&mut out, report.zone.as_ref(), target);
            unknown |= target.status() == Status::Unknown;
            unfinished |= !target.status().is_ok();
        }
    }
    if unknown {
        out.push_str("Changes of unknown outcome may or may not be in the zone: the provider's answer was lost.\n");
    }
    if unfinished {
        out.push_str("Run the same command again to finish; it re-reads the zone and plans from it as it is now.\n");
    }
    out
}

fn target_text(out: &mut String, zone: &str, target: &TargetReport) {
    let at = format!("{zone} at {}", target.provider);
    if let Some(backup) = &target.backup {
        let _ = writeln!(out, "{at}: backup of the zone before the change: {}", backup.display());
    }
    for wait in target.waits() {
        let _ = writeln!(out, "{at}: waited {} ({})", zonectl_core::duration::show(wait.duration), wait.reason);
    }
    let Some(plan) = &target.plan else {
        let error = target.error.as_ref().map_or_else(String::new, ToString::to_string);
        let notes: String = target.notes.iter().map(|n| format!("; {n}")).collect();
        let _ = writeln!(out, "{at}: FAILED: cannot be read: {error}{notes}");
        return;
    };
    let s = plan.summary;
    match target.status() {
        Status::Planned | Status::Unchanged => {}
        Status::Done => {
            let _ = writeln!(
                out,
                "{at}: applied: {} record set(s) created, {} updated, {} deleted.",
                s.create, s.update, s.delete
            );
        }
        _ => {
            let _ = writeln!(out, "{at}: the apply did not complete:");
            if let Some(error) = target.error.as_ref().filter(|_| target.outcomes.is_empty()) {
                let _ = writeln!(out, "  FAILED:          {error}");
            }
            for (change, outcome) in plan.operations.iter().zip(&target.outcomes) {
                let _ = match outcome {
                    Outcome::Done => writeln!(out, "  done:            {change}"),
                    Outcome::Failed(e) => writeln!(out, "  FAILED:          {change}: {e}"),
                    Outcome::Unknown(e) => writeln!(out, "  outcome unknown: {change}: {e} (it may have been made)"),
                    Outcome::NotAttempted => writeln!(out, "  not attempted:   {change}"),
                };
            }
        }
    }
    for note in &target.notes {
        let _ = writeln!(out, "{at}: {note}");
    }
}

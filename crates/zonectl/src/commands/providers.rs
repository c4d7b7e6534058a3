//! `zonectl providers`: every kind the registry knows, with its capabilities and the
//! environment variables it reads.

use std::fmt::Write as _;
use std::process::ExitCode;

use zonectl_core::provider::{TtlRule, UpdateStyle};

use super::write_stdout;
use crate::cli::Output;
use crate::registry::entries;

pub fn run(output: Output) -> anyhow::Result<ExitCode> {
    let mut out = String::new();
    if output == Output::Json {
        let list: Vec<_> = entries()
            .map(|e| {
                serde_json::json!({
                    "kind": e.kind.name,
                    "aliases": e.kind.aliases,
                    "about": e.kind.about,
                    "env": e.kind.env,
                    "emulator": e.emulated(),
                    "capabilities": (e.kind.capabilities)(),
                })
            })
            .collect();
        out = serde_json::to_string_pretty(&list)? + "\n";
        write_stdout(out.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let _ = writeln!(out, "{:<10} {:<11} {:<18} {:<6} TYPES", "KIND", "UPDATES", "TTL", "ASYNC");
    for entry in entries() {
        let caps = (entry.kind.capabilities)();
        let ttl = match caps.ttl {
            TtlRule::None => "none".to_string(),
            TtlRule::Range { min, max, step: 1, .. } => format!("{min}..{max}"),
            TtlRule::Range { min, max, step, .. } => format!("{min}..{max} step {step}"),
        };
        let mut types: Vec<String> = caps
            .record_types
            .iter()
            .map(|t| if caps.read_only_types.contains(t) { format!("{t}(read-only)") } else { t.to_string() })
            .collect();
        if caps.unknown_types {
            types.push("(any, RFC 3597)".into());
        }
        let updates = match caps.updates {
            UpdateStyle::RecordSet => "record-set",
            UpdateStyle::PerRecord => "per-record",
            UpdateStyle::RemoveAdd => "remove+add",
        };
        let _ = writeln!(
            out,
            "{:<10} {updates:<11} {ttl:<18} {:<6} {}",
            entry.kind.name,
            if caps.asynchronous { "yes" } else { "no" },
            types.join(" ")
        );
    }
    let _ = writeln!(out, "\nCredentials from the environment (each also as NAME_FILE, a file holding the value):");
    for entry in entries().filter(|e| !e.kind.env.is_empty()) {
        let vars: Vec<&str> = entry.kind.env.iter().map(|v| v.name).collect();
        let _ = writeln!(out, "  {:<10} {}", entry.kind.name, vars.join(" "));
    }
    write_stdout(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

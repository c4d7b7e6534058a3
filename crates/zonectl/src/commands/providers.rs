//! `zonectl providers`.

use std::process::ExitCode;

use zonectl_core::provider::memory::InMemory;
use zonectl_core::provider::zonefile::ZoneFiles;
use zonectl_core::provider::{Capabilities, Provider, TtlRule, UpdateStyle};

use super::require_output;
use crate::cli::Output;

pub fn run(output: Output) -> anyhow::Result<ExitCode> {
    require_output(output, &[Output::Text, Output::Json], "providers")?;
    let providers: Vec<(&str, Capabilities)> = vec![
        ("zonefile", ZoneFiles::new("zonefile", "zones").capabilities().clone()),
        ("memory", InMemory::new("memory").capabilities().clone()),
        ("luadns", zonectl_providers::luadns::capabilities(300)),
        ("mydomainlu", zonectl_providers::mydomainlu::capabilities()),
    ];
    if output == Output::Json {
        let list: Vec<_> =
            providers.iter().map(|(kind, caps)| serde_json::json!({ "kind": kind, "capabilities": caps })).collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:<10} {:<11} {:<18} {:<6} TYPES", "KIND", "UPDATES", "TTL", "ASYNC");
    for (kind, caps) in &providers {
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
        println!(
            "{kind:<10} {updates:<11} {ttl:<18} {:<6} {}",
            if caps.asynchronous { "yes" } else { "no" },
            types.join(" ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

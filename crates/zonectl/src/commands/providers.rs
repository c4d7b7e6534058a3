//! `zonectl providers`.

use std::process::ExitCode;

use zonectl_core::provider::memory::InMemory;
use zonectl_core::provider::zonefile::ZoneFiles;
use zonectl_core::provider::{Provider, TtlRule};

use super::require_output;
use crate::cli::Output;

pub fn run(output: Output) -> anyhow::Result<ExitCode> {
    require_output(output, &[Output::Text, Output::Json], "providers")?;
    let providers: Vec<(&str, Box<dyn Provider>)> = vec![
        ("zonefile", Box::new(ZoneFiles::new("zonefile", "zones"))),
        ("memory", Box::new(InMemory::new("memory"))),
    ];
    if output == Output::Json {
        let list: Vec<_> = providers
            .iter()
            .map(|(kind, p)| serde_json::json!({ "kind": kind, "capabilities": p.capabilities() }))
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:<10} {:<11} {:<18} {:<6} TYPES", "KIND", "UPDATES", "TTL", "ASYNC");
    for (kind, p) in &providers {
        let caps = p.capabilities();
        let ttl = match caps.ttl {
            TtlRule::None => "none".to_string(),
            TtlRule::Range { min, max, step: 1, .. } => format!("{min}..{max}"),
            TtlRule::Range { min, max, step, .. } => format!("{min}..{max} step {step}"),
        };
        let mut types: Vec<String> = caps.record_types.iter().map(ToString::to_string).collect();
        if caps.unknown_types {
            types.push("(any, RFC 3597)".into());
        }
        let updates = format!("{:?}", caps.updates).to_lowercase();
        println!(
            "{kind:<10} {updates:<11} {ttl:<18} {:<6} {}",
            if caps.asynchronous { "yes" } else { "no" },
            types.join(" ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

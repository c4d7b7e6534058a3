//! `zonectl import -p PROVIDER [ZONE…] --dir DIR`: what a provider holds, brought under
//! zonectl in one step — a canonical zone file per zone and a `zonectl.toml` that keeps
//! them as code, so that `zonectl plan` right after is empty.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use zonectl_core::{Name, Zone, zonefile};

use super::{Session, parse_zone, write_stdout};
use crate::cli::Output;

/// One zone read, and where it goes.
struct Imported {
    zone: Zone,
    file: PathBuf,
    left_out: Vec<String>,
}

pub async fn run(ctx: &Session, zones: &[String], dir: &Path, force: bool, output: Output) -> anyhow::Result<ExitCode> {
    let Some(name) = ctx.provider.as_deref() else {
        let configured: Vec<&str> = ctx.config.providers.keys().map(String::as_str).collect();
        bail!("import reads one provider: name it with -p (configured: {})", configured.join(", "));
    };
    let provider = ctx.config.provider(name)?;
    let zones: Vec<Name> = if zones.is_empty() {
        provider.list_zones().await?
    } else {
        zones.iter().map(|z| parse_zone(z)).collect::<anyhow::Result<_>>()?
    };
    if zones.is_empty() {
        bail!("{name} holds no zone to import");
    }
    let config_path = dir.join("zonectl.toml");
    let files: Vec<PathBuf> = zones.iter().map(|z| dir.join(file_name(z))).collect();
    if !force {
        let taken: Vec<String> =
            files.iter().chain([&config_path]).filter(|p| p.exists()).map(|p| p.display().to_string()).collect();
        if !taken.is_empty() {
            bail!("{} exist(s); nothing was written (--force overwrites)", taken.join(", "));
        }
    }
    // Everything is read before anything is written: a zone that cannot be read writes none.
    let mut imported = Vec::with_capacity(zones.len());
    for (zone, file) in zones.into_iter().zip(files) {
        let records = provider.list_records(&zone).await?;
        let left_out = provider.left_out(&zone);
        let zone = Zone::from_records(zone, records.into_iter().map(|e| e.record).collect());
        imported.push(Imported { zone, file, left_out });
    }
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot make the directory", dir.display()))?;
    for one in &imported {
        let mut text = String::new();
        for line in &one.left_out {
            let _ = writeln!(text, "; not imported (zonectl does not model it; {name} keeps it): {line}");
        }
        text.push_str(&zonefile::to_string(&one.zone));
        zonectl_core::fs::write_atomically(&one.file, text.as_bytes())
            .with_context(|| format!("{}: cannot write", one.file.display()))?;
    }
    zonectl_core::fs::write_atomically(&config_path, configuration(ctx, name, &imported)?.as_bytes())
        .with_context(|| format!("{}: cannot write", config_path.display()))?;

    let report = if output == Output::Json {
        let zones: Vec<_> = imported
            .iter()
            .map(|one| {
                serde_json::json!({
                    "zone": one.zone.origin(),
                    "file": one.file,
                    "records": one.zone.len(),
                    "left_out": one.left_out,
                })
            })
            .collect();
        let document = serde_json::json!({ "provider": name, "config": config_path, "zones": zones });
        serde_json::to_string_pretty(&document)? + "\n"
    } else {
        let mut text = String::new();
        for one in &imported {
            let _ = writeln!(
                text,
                "{}: {} record(s) of {} at {name}",
                one.file.display(),
                one.zone.len(),
                one.zone.origin()
            );
            for line in &one.left_out {
                let _ = writeln!(text, "  not imported (zonectl does not model it; {name} keeps it): {line}");
            }
        }
        let _ = writeln!(text, "{}: the provider and {} zone(s)", config_path.display(), imported.len());
        text
    };
    write_stdout(report.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn file_name(zone: &Name) -> String {
    let stem = zone.as_str().trim_end_matches('.');
    format!("{}.zone", if stem.is_empty() { "root" } else { stem })
}

/// The configuration that keeps the imported zones as code: the provider's table as
/// configured, its secrets left to where they came from, and one `[[zone]]` per zone.
fn configuration(ctx: &Session, name: &str, imported: &[Imported]) -> anyhow::Result<String> {
    let entry = &ctx.config.providers[name];
    let mut table = ctx.config.provider_table(name).cloned().unwrap_or_default();
    let secrets: Vec<&str> = entry.kind.env.iter().filter(|v| v.secret).map(|v| v.setting).collect();
    table.retain(|key, _| !secrets.contains(&key));
    // Paths in the table were relative to the configuration it came from.
    for (key, value) in table.iter_mut() {
        if (key.ends_with("_file") || key == "directory")
            && let Some(path) = value.as_str()
        {
            let here = ctx.config.path(Path::new(path));
            let absolute = std::path::absolute(&here).unwrap_or(here);
            *value = toml::Value::String(absolute.display().to_string());
        }
    }
    table.insert("kind".into(), toml::Value::String(entry.kind.name.to_owned()));
    let variables: Vec<String> =
        entry.kind.env.iter().filter(|v| v.secret).map(|v| format!("{} (or {}_FILE)", v.name, v.name)).collect();
    let mut text = format!("# Imported from {name} by `zonectl import`. No secret is written here:\n");
    if !variables.is_empty() {
        let _ = writeln!(text, "# the credentials come from the environment: {}.", variables.join(", "));
    }
    let mut providers = toml::Table::new();
    providers.insert(name.to_owned(), toml::Value::Table(table));
    let mut file = toml::Table::new();
    file.insert("providers".into(), toml::Value::Table(providers));
    text.push_str(&toml::to_string(&file)?);
    for one in imported {
        let _ = write!(
            text,
            "\n[[zone]]\nname = \"{}\"\nsource = \"{}\"\ntargets = [\"{name}\"]\n",
            one.zone.origin().as_str().trim_end_matches('.'),
            one.file.file_name().expect("a file").to_string_lossy()
        );
    }
    Ok(text)
}

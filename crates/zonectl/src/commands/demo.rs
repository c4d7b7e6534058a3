//! `zonectl emulate` and `zonectl demo`, both over the registry's emulators.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use zonectl_core::edit::{self, Desired, Transaction};
use zonectl_core::plan::PlanOptions;
use zonectl_core::provider::kind::Progress;
use zonectl_core::provider::zonefile::ZoneFiles;
use zonectl_core::provider::{BuildContext, Provider};
use zonectl_core::route::Route;
use zonectl_core::zonefile::{self, ReadOptions};
use zonectl_core::{Name, Zone};
use zonectl_emulator::{Emulator, Options};

use super::color;
use crate::registry;

/// The example zone, built in so that `zonectl demo` runs from anywhere.
const EXAMPLE: &str = include_str!("../../../../examples/zones/example.com.zone");

/// How much faster than the real service the demo's emulators run.
const DEMO_TIME_SCALE: f64 = 0.1;

/// Runs the emulators of `kinds`, each with `options` (the listen address's port, where
/// given, counting up), until interrupted.
pub async fn emulate(kinds: &[String], options: Options, write_config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let mut running = Vec::new();
    for (i, kind) in kinds.iter().enumerate() {
        let mut addr = options.listen;
        if addr.port() != 0 {
            let port =
                u16::try_from(usize::from(addr.port()) + i).context("--listen: no port left for every emulator")?;
            addr.set_port(port);
        }
        let emulator =
            zonectl_emulator::emulator_of(kind).with_context(|| format!("no emulator for provider kind '{kind}'"))?;
        let dns = Some(SocketAddr::new(addr.ip(), 0));
        let one = Options { listen: addr, dns, ..options.clone() };
        let running_one = (emulator.start)(one, None).await.with_context(|| format!("{kind} emulator on {addr}"))?;
        running.push(running_one);
    }
    for name in options.faults.readings.keys() {
        if !running.iter().any(|e: &zonectl_emulator::Emulator| e.readings().iter().any(|(n, _)| n == name)) {
            anyhow::bail!("--reading {name}: none of these emulators has that reading");
        }
    }
    // The file first: a program that reads the lines may use it at once.
    if let Some(path) = write_config {
        zonectl_core::fs::write_atomically(path, config_for(&running).as_bytes())
            .with_context(|| format!("--write-config {}", path.display()))?;
        eprintln!("zonectl: wrote {}, which points zonectl at the emulator(s)", path.display());
    }
    let mut out = std::io::stdout().lock();
    for emulator in &running {
        writeln!(out, "{}", serde_json::to_string(&emulator.describe())?)?;
    }
    out.flush()?;
    drop(out);
    eprintln!("zonectl: {} emulator(s) running; Ctrl-C stops them", running.len());
    tokio::signal::ctrl_c().await?;
    Ok(ExitCode::SUCCESS)
}

/// A `zonectl.toml` with a `[providers.KIND]` table for each emulator, each naming its
/// emulator's name server as the `nameservers` of its zones: the ACME hooks ask the
/// servers of the provider that holds the zone, whichever it is.
fn config_for(running: &[Emulator]) -> String {
    let mut providers = toml::Table::new();
    for emulator in running {
        let mut settings = emulator.provider_settings();
        if let Some(dns) = emulator.dns_addr() {
            settings.insert("nameservers".into(), toml::Value::Array(vec![toml::Value::String(dns.to_string())]));
        }
        let kind = settings.get("kind").and_then(toml::Value::as_str).unwrap_or("emulated").to_owned();
        providers.insert(kind, toml::Value::Table(settings));
    }
    let mut file = toml::Table::new();
    file.insert("providers".into(), toml::Value::Table(providers));
    format!(
        "# Written by `zonectl emulate`: the emulators' endpoints and their public test credentials.\n\
         # A zone several emulators hold (example.com) is chosen with --provider.\n{file}"
    )
}

/// One provider of the demo, with what it is and the emulator behind it.
struct Stop {
    provider: Arc<dyn Provider>,
    what: String,
    emulator: Option<Emulator>,
}

pub async fn demo(zone: Option<&Path>) -> anyhow::Result<ExitCode> {
    let desired = load_zone(zone)?;
    let work = tempfile::tempdir()?;
    let stops = providers(&desired, work.path()).await?;
    println!("zonectl demo: {} ({} records) to {} providers\n", desired.origin(), desired.len(), stops.len());
    let mut code = ExitCode::SUCCESS;
    for stop in &stops {
        if !plan_apply_replan(stop, &desired, work.path()).await? {
            code = ExitCode::FAILURE;
        }
    }
    Ok(code)
}

/// The zone file given, or the shipped example.
fn load_zone(zone: Option<&Path>) -> anyhow::Result<Zone> {
    let (text, source) = match zone {
        Some(path) => (
            std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?,
            path.display().to_string(),
        ),
        None => (EXAMPLE.to_owned(), "example.com.zone".to_owned()),
    };
    match zonefile::read_str(&text, &source, &ReadOptions::default()) {
        Ok(loaded) => Ok(loaded.zone),
        Err(err) => {
            super::print_diagnostics(&err.diagnostics);
            bail!("{source}: not loaded");
        }
    }
}

/// The `zonefile` provider in `work`, and every emulated kind of the registry, each
/// emulator holding the zone (empty) and each provider built from the settings that point
/// at it, as a user's configuration would.
async fn providers(desired: &Zone, work: &Path) -> anyhow::Result<Vec<Stop>> {
    let mut stops = vec![Stop {
        provider: Arc::new(ZoneFiles::new("zonefile", work.join("zones"))),
        what: "a directory of zone files, no account".into(),
        emulator: None,
    }];
    let progress: Progress = Arc::new(|line: &str| println!("  {line}"));
    let ctx = BuildContext { config_file: None, state_dir: Some(work.join("state")), progress: Some(progress) };
    let zones: Vec<Name> = vec![desired.origin().clone()];
    for entry in registry::entries() {
        let Some(kind) = entry.emulator else { continue };
        let options = Options { time_scale: DEMO_TIME_SCALE, ..Options::default() };
        let emulator = (kind.start)(options, Some(zones.clone())).await?;
        let mut settings = emulator.provider_settings();
        settings.remove("kind");
        let config = (entry.kind.parse)(settings).map_err(anyhow::Error::msg)?;
        let provider = config.build(entry.kind.name, &ctx)?;
        let what = format!(
            "{}, emulated at {}: {} (the emulator runs {}x faster than the real service)",
            entry.kind.about,
            emulator.endpoint(),
            kind.demo_note,
            (1.0 / DEMO_TIME_SCALE).round()
        );
        stops.push(Stop { provider, what, emulator: Some(emulator) });
    }
    Ok(stops)
}

/// Plans the zone (what the provider can hold of it), applies it through the one edit
/// transaction, and shows that a second plan is empty. Returns whether it was.
async fn plan_apply_replan(stop: &Stop, desired: &Zone, work: &Path) -> anyhow::Result<bool> {
    let provider = stop.provider.as_ref();
    println!("== {}: {}", provider.name(), stop.what);
    if let Some(e) = &stop.emulator {
        e.clear_log();
    }
    let origin = desired.origin();
    // What the provider can hold: a zone kept for several providers has to fit each.
    let caps = provider.capabilities();
    let fits: Vec<_> = desired
        .records()
        .iter()
        .filter(|r| caps.can_write(r.rtype()) || !PlanOptions::default().manages(caps, origin, &r.name, r.rtype()))
        .cloned()
        .collect();
    let left_out = desired.len() - fits.len();
    if left_out > 0 {
        println!("({left_out} records of types {} cannot hold are left out)", provider.name());
    }
    let desired = Zone::from_records(origin.clone(), fits);
    let transaction = |backups: Option<std::path::PathBuf>| Transaction {
        route: Route { zone: origin.clone(), targets: vec![stop.provider.clone()], nameservers: Vec::new() },
        desired: Desired::Zone { zone: desired.clone(), ignore: Vec::new() },
        options: edit::Options { lock: backups.is_some(), backup_dir: backups, ..edit::Options::default() },
    };
    let prepared = edit::prepare(vec![transaction(Some(work.join("backups")))]).await?;
    for plan in prepared.plans() {
        print!("{}", plan.to_text(color()));
    }
    std::io::stdout().flush()?;
    let reports = prepared.apply(None).await;
    eprint!("{}", super::report::text(&reports));
    if !reports.iter().all(|r| r.is_ok()) {
        return Ok(false);
    }
    let again = edit::prepare(vec![transaction(None)]).await?;
    let requests = stop
        .emulator
        .as_ref()
        .map(|e| format!(" ({} HTTP requests in all)", e.request_log().len()))
        .unwrap_or_default();
    let empty = again.is_empty();
    let shown = if empty { "no changes".to_owned() } else { again.plans().map(|p| p.to_text(false)).collect() };
    println!("second plan: {shown}{requests}\n");
    Ok(empty)
}

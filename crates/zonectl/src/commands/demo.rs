//! `zonectl emulate` and `zonectl demo`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use zonectl_core::plan::{self, ApplyOptions, PlanOptions};
use zonectl_core::provider::Provider;
use zonectl_core::provider::zonefile::ZoneFiles;
use zonectl_core::zonefile::{self, ReadOptions};
use zonectl_emulator::luadns::{LuaDns as LuaDnsEmulator, Seed};
use zonectl_emulator::mydomainlu::{MydomainLu as MdlEmulator, Seed as MdlSeed};
use zonectl_emulator::{Emulator, Options};
use zonectl_providers::http::Trace;
use zonectl_providers::luadns::{LuaDns, LuaDnsConfig};
use zonectl_providers::mydomainlu::{MydomainLu, MydomainLuConfig, WaitPolicy};

use super::color;
use super::plan::report_applied;

/// The example zone, built in so that `zonectl demo` runs from anywhere.
const EXAMPLE: &str = include_str!("../../../../examples/zones/example.com.zone");

/// How much faster than the real service the demo's emulators run.
const DEMO_TIME_SCALE: f64 = 0.1;

async fn start(kind: &str, listen: SocketAddr, seed_zones: Vec<String>, time_scale: f64) -> anyhow::Result<Emulator> {
    let options = Options { listen, time_scale, ..Options::default() };
    match kind {
        "luadns" => {
            let seed = Seed { zones: seed_zones, ..Seed::default() };
            Ok(Emulator::start(LuaDnsEmulator::new(seed), options).await?)
        }
        "mydomainlu" => {
            let apex = |z: &String| format!("{z}. 172800 IN NS ns1.pt.lu.\n{z}. 172800 IN NS ns2.pt.lu.\n");
            let seed = if seed_zones == Seed::default().zones {
                MdlSeed::default()
            } else {
                MdlSeed { zones: seed_zones.iter().map(|z| (z.clone(), apex(z))).collect(), ..MdlSeed::default() }
            };
            Ok(Emulator::start(MdlEmulator::new(seed), options).await?)
        }
        other => bail!("no emulator for provider kind '{other}'"),
    }
}

pub async fn emulate(kinds: &[String], listen: SocketAddr, time_scale: f64) -> anyhow::Result<ExitCode> {
    let mut running = Vec::new();
    for (i, kind) in kinds.iter().enumerate() {
        let mut addr = listen;
        if addr.port() != 0 {
            addr.set_port(addr.port() + i as u16);
        }
        let emulator = start(kind, addr, Seed::default().zones, time_scale)
            .await
            .with_context(|| format!("{kind} emulator on {addr}"))?;
        println!("{}", serde_json::to_string(&emulator.describe())?);
        running.push(emulator);
    }
    std::io::stdout().flush()?;
    eprintln!("zonectl: {} emulator(s) running; Ctrl-C stops them", running.len());
    tokio::signal::ctrl_c().await?;
    Ok(ExitCode::SUCCESS)
}

pub async fn demo(zone: Option<&Path>, trace: Option<Trace>) -> anyhow::Result<ExitCode> {
    let (text, source) = match zone {
        Some(path) => (
            std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?,
            path.display().to_string(),
        ),
        None => (EXAMPLE.to_owned(), "example.com.zone".to_owned()),
    };
    let desired = match zonefile::read_str(&text, &source, &ReadOptions::default()) {
        Ok(loaded) => loaded.zone,
        Err(err) => {
            for problem in &err.diagnostics {
                eprintln!("{problem}");
            }
            bail!("{source}: not loaded");
        }
    };
    let origin = desired.origin().clone();
    let work = tempfile::tempdir()?;
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let zone_name = vec![origin.as_str().trim_end_matches('.').to_owned()];
    let lua_emulator = start("luadns", loopback, zone_name.clone(), DEMO_TIME_SCALE).await?;
    let mdl_emulator = start("mydomainlu", loopback, zone_name, DEMO_TIME_SCALE).await?;
    let mut lua_config = LuaDnsConfig::new(Seed::default().email, Seed::default().api_key.into());
    lua_config.endpoint = Some(lua_emulator.endpoint());
    let mut mdl_config =
        MydomainLuConfig::new(MdlSeed::default().username, MdlSeed::default().password.into(), vec![origin.clone()]);
    mdl_config.endpoint = Some(mdl_emulator.endpoint());
    mdl_config.wait = WaitPolicy { first_poll: std::time::Duration::from_millis(50), ..WaitPolicy::default() };
    let progress: Trace = Arc::new(|line: &str| println!("  {line}"));
    let providers: Vec<(Arc<dyn Provider>, String, Option<&Emulator>)> = vec![
        (
            Arc::new(ZoneFiles::new("zonefile", work.path().join("zones"))),
            "a directory of zone files, no account".into(),
            None,
        ),
        (
            Arc::new(LuaDns::new("luadns", lua_config, trace.clone())?),
            format!("the LuaDNS API, emulated at {}", lua_emulator.endpoint()),
            Some(&lua_emulator),
        ),
        (
            Arc::new(MydomainLu::new("mydomainlu", mdl_config, trace, Some(progress))?),
            format!(
                "the mydomain.lu API, emulated at {}: each change is an order that completes seconds later, one at a \
                 time (the emulator runs {}x faster than the real service)",
                mdl_emulator.endpoint(),
                (1.0 / DEMO_TIME_SCALE).round()
            ),
            Some(&mdl_emulator),
        ),
    ];
    println!("zonectl demo: {} ({} records) to {} providers\n", origin, desired.len(), providers.len());
    let mut code = ExitCode::SUCCESS;
    for (provider, what, emulator) in providers {
        println!("== {}: {what}", provider.name());
        if let Some(e) = emulator {
            e.clear_log();
        }
        // What the provider can hold: a zone kept for several providers has to fit each.
        let caps = provider.capabilities();
        let fits: Vec<_> = desired
            .records()
            .iter()
            .filter(|r| caps.can_write(r.rtype()) || !PlanOptions::default().manages(caps, &origin, &r.name, r.rtype()))
            .cloned()
            .collect();
        let left_out = desired.len() - fits.len();
        if left_out > 0 {
            println!("({left_out} records of types {} cannot hold are left out)", provider.name());
        }
        let desired = zonectl_core::Zone::from_records(origin.clone(), fits);
        let current = provider.list_records(&origin).await?;
        let planned = plan::plan(provider.name(), provider.capabilities(), &desired, current, &PlanOptions::default())?;
        print!("{}", planned.to_text(color()));
        let options = ApplyOptions { backup_dir: Some(work.path().join("backups")), ..ApplyOptions::default() };
        let applied = plan::apply(provider.as_ref(), &planned, &options).await?;
        std::io::stdout().flush()?;
        if report_applied(&planned, &applied) != ExitCode::SUCCESS {
            code = ExitCode::FAILURE;
            continue;
        }
        let again = plan::plan(
            provider.name(),
            provider.capabilities(),
            &desired,
            provider.list_records(&origin).await?,
            &PlanOptions::default(),
        )?;
        let requests =
            emulator.map(|e| format!(" ({} HTTP requests in all)", e.request_log().len())).unwrap_or_default();
        println!(
            "second plan: {}{requests}\n",
            if again.is_empty() { "no changes".to_owned() } else { again.to_text(false) }
        );
        if !again.is_empty() {
            code = ExitCode::FAILURE;
        }
    }
    Ok(code)
}

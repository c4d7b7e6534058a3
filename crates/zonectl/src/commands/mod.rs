//! One module per command. Each parses what it was given into core types first, so that bad
//! input fails before any provider is asked anything.

mod acme;
mod backups;
mod check;
mod ddns;
#[cfg(feature = "emulators")]
mod demo;
mod fmt;
mod import;
mod plan;
mod providers;
mod records;
mod report;
mod saved;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::CommandFactory;
use zonectl_core::Name;
use zonectl_core::provider::Provider;
use zonectl_core::route::{Route, Router};

use zonectl_core::zonefile::ReadOptions;

use crate::cli::{Cli, Command, ReadingArgs};
use crate::config::Config;

/// Runs the command; the exit code is the command's own verdict, an error is printed by
/// `main`.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => {
            let config = Config::load(cli.config.as_deref())?;
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let served = runtime.block_on(crate::serve::run(config, cli.provider, args));
            // What the grace period cancelled is not waited for (a file write on the
            // blocking pool included): it was reported, and the process ends now.
            runtime.shutdown_timeout(std::time::Duration::from_millis(200));
            served
        }
        Command::Check { files, reading, strict, output } => {
            check::run(&files, read_options(reading, strict)?, output.output)
        }
        Command::Fmt { file, reading, write, drop_comments, force } => {
            // A rewrite must not drop what a lenient read skips.
            let options = ReadOptions { refuse_out_of_zone: write, ..read_options(reading, false)? };
            fmt::run(&file, &options, write, drop_comments, force)
        }
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "zonectl", &mut out);
            write_stdout(&out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut out)?;
            write_stdout(&out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Providers { output } => providers::run(output.output),
        #[cfg(feature = "emulators")]
        Command::Emulate {
            providers,
            listen,
            time_scale,
            propagation_delay,
            rate_limit,
            readings,
            tls_cert,
            tls_key,
            write_config,
        } => {
            if !(time_scale > 0.0 && time_scale <= 1000.0) {
                anyhow::bail!("--time-scale {time_scale}: must be above 0 and at most 1000");
            }
            let delay = zonectl_core::duration::parse(&propagation_delay)
                .map_err(|e| anyhow::anyhow!("--propagation-delay: {e}"))?;
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let readings = readings
                .iter()
                .map(|r| {
                    r.split_once('=')
                        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                        .ok_or_else(|| anyhow::anyhow!("--reading {r}: write it as NAME=VALUE"))
                })
                .collect::<anyhow::Result<_>>()?;
            let options = zonectl_emulator::Options {
                listen,
                time_scale,
                propagation_delay: delay,
                rate_limit,
                faults: zonectl_emulator::Faults { readings, ..zonectl_emulator::Faults::default() },
                tls: tls_cert.zip(tls_key),
                ..zonectl_emulator::Options::default()
            };
            runtime.block_on(demo::emulate(&providers, options, write_config.as_deref()))
        }
        #[cfg(feature = "emulators")]
        Command::Demo { zone } => {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(demo::demo(zone.as_deref()))
        }
        command => {
            let config = Config::load(cli.config.as_deref())?;
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async move {
                let ctx = Session { config, provider: cli.provider };
                match command {
                    Command::Zone(cmd) => records::zone(&ctx, cmd).await,
                    Command::Record(cmd) => records::record(&ctx, cmd).await,
                    Command::Export { zone, file, output } => {
                        records::export(&ctx, &zone, file.as_deref(), output).await
                    }
                    Command::Ddns { zone, name, ipv4, ipv6, from_interface, from_url, native, ttl, output } => {
                        let request = ddns::Request { zone, name, ipv4, ipv6, from_interface, from_url, native, ttl };
                        ddns::run(&ctx, request, output.output).await
                    }
                    Command::Plan { zones, detailed_exitcode, ttl_policy, output, out } => {
                        let ttl_policy = ttl_policy.map(Into::into);
                        plan::plan(&ctx, &zones, detailed_exitcode, ttl_policy, output, out.as_deref()).await
                    }
                    Command::Apply { zones, plan: plan_file, checksum, force, yes, ttl_policy, output } => {
                        let how = plan::ApplyHow { force, yes, output: output.output };
                        // `zonectl apply FILE`, as Terraform users type it.
                        match plan_file.or_else(|| saved::named_plan_file(&zones)) {
                            Some(file) => saved::apply(&ctx, &file, how).await,
                            None => {
                                plan::apply(&ctx, &zones, ttl_policy.map(Into::into), checksum.as_deref(), how).await
                            }
                        }
                    }
                    Command::Show { file, output } => saved::show(&file, output),
                    Command::Import { zones, dir, force, output } => {
                        import::run(&ctx, &zones, &dir, force, output.output).await
                    }
                    Command::Backups(command) => backups::run(&ctx, command).await,
                    Command::Acme { command, args } => acme::run(&ctx, command, &args).await,
                    Command::Present { args } => acme::lego(&ctx, acme::Step::Present, &args).await,
                    Command::Cleanup { args } => acme::lego(&ctx, acme::Step::Cleanup, &args).await,
                    Command::Copy { source, destination, apply, force, yes, ttl_policy, output } => {
                        let how = plan::CopyOptions { apply, force, yes, ttl_policy: ttl_policy.into(), output };
                        plan::copy(&ctx, &source, &destination, how).await
                    }
                    _ => unreachable!("handled above"),
                }
            })
        }
    }
}

/// The ACME hooks' settings from the configuration, the environment and `args`.
pub fn acme_settings(config: &Config, args: &crate::cli::AcmeArgs) -> anyhow::Result<zonectl_core::acme::Settings> {
    acme::settings(&config.acme, &config.origin, args)
}

/// What every provider command needs: the configuration and `--provider`.
pub struct Session {
    pub config: Config,
    pub provider: Option<String>,
}

impl Session {
    /// The router over the configured providers, or `--provider`'s alone.
    pub fn router(&self) -> anyhow::Result<Router> {
        self.config.router(self.provider.as_deref())
    }

    /// The route of `zone`: its targets (only `--provider`, if given).
    pub async fn route(&self, zone: &Name) -> anyhow::Result<Route> {
        Ok(self.router()?.zone(zone).await?)
    }

    /// The one provider a command about a provider (not a zone) works on: `--provider`'s,
    /// or the only one configured.
    pub fn provider(&self) -> anyhow::Result<Arc<dyn Provider>> {
        let name = match &self.provider {
            Some(name) => name.clone(),
            None => self.config.default_provider_name()?,
        };
        self.config.provider(&name)
    }
}

fn read_options(reading: ReadingArgs, strict: bool) -> anyhow::Result<ReadOptions> {
    let ReadingArgs { origin, max_errors, max_records, allow_include_anywhere } = reading;
    let origin = origin.map(|o| Name::parse(&o).with_context(|| format!("--origin {o}"))).transpose()?;
    Ok(ReadOptions { origin, strict, max_errors, max_records, allow_include_anywhere, ..ReadOptions::default() })
}

/// A zone name from the command line.
pub fn parse_zone(zone: &str) -> anyhow::Result<Name> {
    Name::parse(zone).with_context(|| format!("zone '{zone}'"))
}

/// Whether to colour stdout: a terminal, and `NO_COLOR` unset or empty (no-color.org).
pub fn color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Writes `bytes` to stdout and flushes; a closed stdout is an error `main` ends quietly on.
pub fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

/// Text written to stdout through a buffer as it is made, as [`write_stdout`] writes it:
/// the first error is kept (a `fmt::Error` says nothing) and [`StdoutText::finish`] gives it.
pub struct StdoutText {
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
    error: Option<std::io::Error>,
}

impl StdoutText {
    pub fn new() -> StdoutText {
        StdoutText { out: std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock()), error: None }
    }

    /// Flushes; the first error of any write.
    pub fn finish(mut self) -> std::io::Result<()> {
        use std::io::Write;
        match self.error.take() {
            Some(e) => Err(e),
            None => self.out.flush(),
        }
    }
}

impl std::fmt::Write for StdoutText {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        use std::io::Write;
        if self.error.is_some() {
            return Err(std::fmt::Error);
        }
        self.out.write_all(text.as_bytes()).map_err(|e| {
            self.error = Some(e);
            std::fmt::Error
        })
    }
}

/// Prints diagnostics of a zone file, one line each, to stderr.
pub fn print_diagnostics(diagnostics: &[zonectl_core::zonefile::Diagnostic]) {
    for problem in diagnostics {
        eprintln!("{problem}");
    }
}

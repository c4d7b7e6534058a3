//! `zonectl acme …` and lego's `zonectl present|cleanup`: ACME DNS-01 hooks for the clients
//! people run, each exactly as that client calls its hook. The semantics are the
//! library's (`zonectl_core::acme`); this module reads each client's way of passing the
//! challenge and the settings, and reports one line per challenge on stderr (stdout stays
//! empty: certbot hands it to the cleanup hook as `CERTBOT_AUTH_OUTPUT`).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use zonectl_core::acme::{self, Challenge, Placed, Settings};
use zonectl_core::report::ChangeReport;

use super::Session;
use crate::cli::{AcmeArgs, AcmeCommand, Output};
use crate::config::AcmeConfig;

/// What a hook was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Present,
    Cleanup,
}

/// `zonectl acme …`.
pub async fn run(ctx: &Session, command: AcmeCommand, args: &AcmeArgs) -> anyhow::Result<ExitCode> {
    let (step, challenges) = match command {
        AcmeCommand::Present { fqdn, value } => (Step::Present, vec![Challenge::new(&fqdn, &value)?]),
        AcmeCommand::Cleanup { fqdn, value } => (Step::Cleanup, vec![Challenge::new(&fqdn, &value)?]),
        AcmeCommand::CertbotAuth => (Step::Present, vec![certbot()?]),
        AcmeCommand::CertbotCleanup => (Step::Cleanup, vec![certbot()?]),
        AcmeCommand::Dehydrated { args: hook_args } => match dehydrated(&hook_args)? {
            Some(asked) => asked,
            // Every other handler: nothing to do, and quietly, as dehydrated requires.
            None => return Ok(ExitCode::SUCCESS),
        },
    };
    hooks(ctx, step, &challenges, args).await
}

/// lego's `exec` provider: `present FQDN VALUE`, or in RAW mode `present -- DOMAIN TOKEN
/// KEY_AUTH` (the `--` is taken by the argument parser).
pub async fn lego(ctx: &Session, step: Step, args: &[String]) -> anyhow::Result<ExitCode> {
    let challenge = match args {
        [fqdn, value] => Challenge::new(fqdn, value)?,
        [domain, _token, key_authorization] => Challenge::from_key_authorization(domain, key_authorization)?,
        _ => bail!(
            "lego's exec hook takes FQDN VALUE, or -- DOMAIN TOKEN KEY_AUTH in RAW mode; got {} argument(s)",
            args.len()
        ),
    };
    hooks(ctx, step, &[challenge], &AcmeArgs::default()).await
}

/// certbot's manual hooks: the identifier and value from its environment.
fn certbot() -> anyhow::Result<Challenge> {
    let var = |name: &str| {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty()).with_context(|| {
            format!("{name} is not set: run this as certbot's --manual-auth-hook or --manual-cleanup-hook")
        })
    };
    // certbot 2.x passes CERTBOT_DOMAIN; newer ones also CERTBOT_IDENTIFIER.
    let identifier = var("CERTBOT_DOMAIN").or_else(|missing| var("CERTBOT_IDENTIFIER").map_err(|_| missing))?;
    Ok(Challenge::for_identifier(&identifier, &var("CERTBOT_VALIDATION")?)?)
}

/// dehydrated's hook: `deploy_challenge` / `clean_challenge` with DOMAIN TOKEN_FILE VALUE,
/// repeated for each name with `HOOK_CHAIN=yes`. `None` for any other handler.
fn dehydrated(args: &[String]) -> anyhow::Result<Option<(Step, Vec<Challenge>)>> {
    let (step, rest) = match args.split_first() {
        Some((handler, rest)) if handler == "deploy_challenge" => (Step::Present, rest),
        Some((handler, rest)) if handler == "clean_challenge" => (Step::Cleanup, rest),
        _ => return Ok(None),
    };
    if rest.is_empty() || !rest.len().is_multiple_of(3) {
        bail!("dehydrated's {}: expected DOMAIN TOKEN_FILE VALUE triples, got {} argument(s)", args[0], rest.len());
    }
    let challenges =
        rest.chunks(3).map(|t| Challenge::for_identifier(&t[0], &t[2])).collect::<zonectl_core::Result<Vec<_>>>()?;
    Ok(Some((step, challenges)))
}

/// Places or removes each challenge, and (for present) waits until every authoritative
/// server shows each value; one line per challenge on stderr, or with `--output json` the
/// change report on stdout.
async fn hooks(ctx: &Session, step: Step, challenges: &[Challenge], args: &AcmeArgs) -> anyhow::Result<ExitCode> {
    let settings = settings(&ctx.config.acme, &ctx.config.origin, args)?;
    let router = ctx.router()?;
    let done = match step {
        Step::Present => acme::present(&router, challenges, &settings).await,
        Step::Cleanup => acme::cleanup(&router, challenges, &settings).await,
    };
    // The step and the name lead the line, unless the error names the name itself.
    let done = done.map_err(|e| {
        let text = e.to_string();
        match challenges.iter().find(|c| !text.contains(c.name.as_str())) {
            Some(_) if challenges.len() == 1 => {
                anyhow::Error::new(e).context(format!("{} {}", step_name(step), challenges[0].name))
            }
            Some(_) => anyhow::Error::new(e).context(step_name(step)),
            None => anyhow::Error::new(e),
        }
    })?;
    if args.output == Output::Json {
        let reports: Vec<ChangeReport> = done.into_iter().map(|p| p.report).collect();
        super::report::print_json(&reports)?;
        return Ok(ExitCode::SUCCESS);
    }
    for placed in &done {
        report(step, placed);
    }
    Ok(ExitCode::SUCCESS)
}

fn step_name(step: Step) -> &'static str {
    match step {
        Step::Present => "present",
        Step::Cleanup => "cleanup",
    }
}

fn report(step: Step, placed: &Placed) {
    let here = &placed.located;
    let what = match (step, placed.changed()) {
        (Step::Present, true) => "added",
        (Step::Present, false) => "already there",
        (Step::Cleanup, true) => "removed",
        (Step::Cleanup, false) => "not there; nothing to remove",
    };
    let alias =
        if here.name == here.challenge.name { String::new() } else { format!(" (alias of {})", here.challenge.name) };
    eprintln!(
        "zonectl: {}{alias}: TXT \"{}\" {what} at {} (zone {})",
        here.name,
        here.challenge.value,
        here.route.target_names().join(", "),
        here.route.zone
    );
    if let Some(waited) = placed.propagated {
        eprintln!(
            "zonectl: {}: seen at {} name server(s) after {}",
            here.name,
            here.servers.len(),
            zonectl_core::duration::show(waited)
        );
    }
}

/// The settings: the defaults, then `[acme]` in the configuration, then the environment,
/// then the flags.
pub fn settings(file: &AcmeConfig, origin: &str, args: &AcmeArgs) -> anyhow::Result<Settings> {
    let mut settings = Settings::default();
    let at = |key: &str| format!("{origin}: [acme] {key}");
    if let Some(servers) = &file.nameservers {
        settings.nameservers =
            servers.iter().map(|s| server(s).with_context(|| at("nameservers"))).collect::<Result<_, _>>()?;
    }
    if let Some(text) = &file.propagation_timeout {
        settings.propagation_timeout = duration(text).with_context(|| at("propagation_timeout"))?;
    }
    if let Some(text) = &file.polling_interval {
        settings.polling_interval = duration(text).with_context(|| at("polling_interval"))?;
    }
    if let Some(ttl) = file.ttl {
        settings.ttl = ttl;
    }
    if let Some(wait) = file.wait {
        settings.wait = wait;
    }
    if let Some(follow) = file.follow_cname {
        settings.follow_cname = follow;
    }
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if let Some(list) = env("ZONECTL_ACME_NAMESERVERS") {
        settings.nameservers = list
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| server(s).context("ZONECTL_ACME_NAMESERVERS"))
            .collect::<Result<_, _>>()?;
    }
    if let Some(text) = env("ZONECTL_ACME_PROPAGATION_TIMEOUT") {
        settings.propagation_timeout = duration(&text).context("ZONECTL_ACME_PROPAGATION_TIMEOUT")?;
    }
    if let Some(text) = env("ZONECTL_ACME_POLLING_INTERVAL") {
        settings.polling_interval = duration(&text).context("ZONECTL_ACME_POLLING_INTERVAL")?;
    }
    if !args.nameserver.is_empty() {
        settings.nameservers =
            args.nameserver.iter().map(|s| server(s).context("--nameserver")).collect::<Result<_, _>>()?;
    }
    if let Some(text) = &args.propagation_timeout {
        settings.propagation_timeout = duration(text).context("--propagation-timeout")?;
    }
    if let Some(text) = &args.polling_interval {
        settings.polling_interval = duration(text).context("--polling-interval")?;
    }
    if args.no_wait {
        settings.wait = false;
    }
    if settings.polling_interval.is_zero() {
        bail!("the ACME polling interval must be above zero");
    }
    // One question never waits longer than a round.
    settings.query_timeout = settings.query_timeout.min(settings.propagation_timeout.max(Duration::from_millis(100)));
    Ok(settings)
}

fn server(text: &str) -> anyhow::Result<SocketAddr> {
    zonectl_core::dns::parse_server(text).with_context(|| {
        format!("'{}' is not an address (write it as 192.0.2.53, 192.0.2.53:5353 or [2001:db8::53]:53)", text.trim())
    })
}

fn duration(text: &str) -> anyhow::Result<Duration> {
    zonectl_core::duration::parse(text).map_err(anyhow::Error::msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dehydrated_handlers() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let chain =
            dehydrated(&args(&["deploy_challenge", "a.test", "t1", "v1", "a.test", "t2", "v2"])).unwrap().unwrap();
        assert_eq!(chain.0, Step::Present);
        let names: Vec<(&str, &str)> = chain.1.iter().map(|c| (c.name.as_str(), c.value.as_str())).collect();
        assert_eq!(names, [("_acme-challenge.a.test.", "v1"), ("_acme-challenge.a.test.", "v2")]);
        assert_eq!(dehydrated(&args(&["clean_challenge", "b.test", "t", "v"])).unwrap().unwrap().0, Step::Cleanup);
        for other in [
            "startup_hook",
            "deploy_cert",
            "this_hookscript_is_broken__dehydrated_is_working_fine__please_ignore_unknown_hooks_in_your_script",
        ] {
            assert!(dehydrated(&args(&[other, "x"])).unwrap().is_none(), "{other}");
        }
        assert!(dehydrated(&args(&[])).unwrap().is_none());
        assert!(dehydrated(&args(&["deploy_challenge", "a.test", "t"])).is_err());
    }

    #[test]
    fn settings_come_from_the_file_then_the_flags() {
        let file = AcmeConfig {
            nameservers: Some(vec!["127.0.0.1:5353".into()]),
            propagation_timeout: Some("1m".into()),
            ..AcmeConfig::default()
        };
        let from_file = settings(&file, "zonectl.toml", &AcmeArgs::default()).unwrap();
        assert_eq!(from_file.nameservers, ["127.0.0.1:5353".parse::<SocketAddr>().unwrap()]);
        assert_eq!(from_file.propagation_timeout, Duration::from_secs(60));
        let args = AcmeArgs { nameserver: vec!["::1".into()], no_wait: true, ..AcmeArgs::default() };
        let flagged = settings(&file, "zonectl.toml", &args).unwrap();
        assert_eq!(flagged.nameservers, ["[::1]:53".parse::<SocketAddr>().unwrap()]);
        assert!(!flagged.wait);
        let bad = AcmeConfig { polling_interval: Some("often".into()), ..AcmeConfig::default() };
        let error = format!("{:#}", settings(&bad, "zonectl.toml", &AcmeArgs::default()).unwrap_err());
        assert_eq!(
            error,
            "zonectl.toml: [acme] polling_interval: 'often' is not a duration (write it as 90s, 5m or 1h 30m)"
        );
    }
}

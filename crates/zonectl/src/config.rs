//! `zonectl.toml`: provider instances and zones.
//!
//! ```toml
//! [providers.files]
//! kind = "zonefile"
//! directory = "zones"            # relative to this file
//!
//! [[zone]]
//! name = "example.com"
//! source = "example.com.zone"    # the desired zone, relative to this file
//! targets = ["files"]
//! ignore = [{ name = "_acme-challenge*", type = "TXT" }]
//! max_change_ratio = 0.3         # the safety threshold (default 0.3 of zones of 10+)
//! ```

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use secrecy::{ExposeSecret, SecretString};
use zonectl_core::Name;
use zonectl_core::plan::{IgnoreRule, Safety};
use zonectl_core::provider::Provider;
use zonectl_core::provider::memory::InMemory;
use zonectl_core::provider::zonefile::ZoneFiles;
use zonectl_providers::http::Trace;
use zonectl_providers::luadns::{LuaDns, LuaDnsConfig};
use zonectl_providers::mydomainlu::{MydomainLu, MydomainLuConfig};

/// The provider kinds this build knows, as written in `kind = "…"`.
pub const KINDS: &[&str] = &["zonefile", "memory", "luadns", "mydomainlu"];
/// Kinds the design names that later work adds; a config naming them gets a clear error.
const PLANNED_KINDS: &[&str] = &["domeneshop", "zoneid", "zoneee", "vpsorg"];
/// Kinds with no HTTP endpoint to override.
const LOCAL_KINDS: &[&str] = &["zonefile", "memory"];

/// The whole file.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Provider instances by name.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Zones managed as code.
    #[serde(default, rename = "zone")]
    pub zones: Vec<ZoneConfig>,
    /// The directory relative paths are taken from (the file's own).
    #[serde(skip)]
    pub base: PathBuf,
    /// Where the configuration came from, for messages.
    #[serde(skip)]
    pub origin: String,
}

/// One provider instance. Settings beyond `kind` and `endpoint` belong to the kind.
#[derive(Debug, serde::Deserialize)]
pub struct ProviderConfig {
    /// The provider kind.
    pub kind: String,
    /// Another endpoint than the provider's own (an emulator, a proxy).
    pub endpoint: Option<String>,
    /// Kind-specific settings.
    #[serde(flatten)]
    pub settings: toml::Table,
}

/// One zone kept as code.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneConfig {
    /// The zone's name.
    pub name: String,
    /// The desired zone file.
    pub source: PathBuf,
    /// Provider instances that should hold it.
    pub targets: Vec<String>,
    /// Records left alone.
    #[serde(default)]
    pub ignore: Vec<IgnoreRule>,
    /// Largest share of records a plan may update or delete without `--force`.
    pub max_change_ratio: Option<f64>,
    /// Zones smaller than this are not held to the ratio.
    pub min_records: Option<usize>,
}

impl ZoneConfig {
    /// The safety thresholds for this zone.
    pub fn safety(&self) -> Safety {
        let default = Safety::default();
        Safety {
            max_change_ratio: self.max_change_ratio.unwrap_or(default.max_change_ratio),
            min_records: self.min_records.unwrap_or(default.min_records),
        }
    }
}

impl Config {
    /// Loads `--config`, else `$ZONECTL_CONFIG`, else `./zonectl.toml` if present, else the
    /// default: one `zonefile` provider named `zonefile` over `./zones`.
    pub fn load(flag: Option<&Path>) -> anyhow::Result<Config> {
        let env = std::env::var_os("ZONECTL_CONFIG").map(PathBuf::from);
        let path = match (flag, env) {
            (Some(path), _) => Some(path.to_owned()),
            (None, Some(path)) => Some(path),
            (None, None) => Some(PathBuf::from("zonectl.toml")).filter(|p| p.exists()),
        };
        let Some(path) = path else { return Ok(Config::builtin()) };
        let text = std::fs::read_to_string(&path).with_context(|| format!("{}: cannot read", path.display()))?;
        let mut config: Config = toml::from_str(&text).map_err(|e| {
            // toml's message has the line and column; keep it on one line.
            anyhow::anyhow!("{}: {}", path.display(), e.to_string().lines().next().unwrap_or("invalid TOML").trim())
        })?;
        config.base = path.parent().map(Path::to_owned).unwrap_or_default();
        config.origin = path.display().to_string();
        if config.providers.is_empty() {
            config.providers = Config::builtin().providers;
        }
        config.validate()?;
        Ok(config)
    }

    fn builtin() -> Config {
        let mut settings = toml::Table::new();
        settings.insert("directory".into(), toml::Value::String("zones".into()));
        let mut providers = BTreeMap::new();
        providers.insert("zonefile".to_owned(), ProviderConfig { kind: "zonefile".into(), endpoint: None, settings });
        Config { providers, zones: Vec::new(), base: PathBuf::new(), origin: "built-in defaults".into() }
    }

    fn validate(&self) -> anyhow::Result<()> {
        for (name, provider) in &self.providers {
            let kind = provider.kind.as_str();
            if PLANNED_KINDS.contains(&kind) {
                bail!("{}: provider {name}: kind {kind} is not in this build of zonectl yet", self.origin);
            }
            if !KINDS.contains(&kind) {
                bail!("{}: provider {name}: unknown kind '{kind}' (known: {})", self.origin, KINDS.join(", "));
            }
            if provider.endpoint.is_some() && LOCAL_KINDS.contains(&kind) {
                bail!("{}: provider {name}: kind {kind} has no endpoint to override", self.origin);
            }
        }
        for zone in &self.zones {
            Name::parse(&zone.name).with_context(|| format!("{}: zone '{}'", self.origin, zone.name))?;
            for target in &zone.targets {
                if !self.providers.contains_key(target) {
                    bail!("{}: zone {}: target '{target}' is not a provider in [providers]", self.origin, zone.name);
                }
            }
            if let Some(ratio) = zone.max_change_ratio.filter(|r| !(0.0..=1.0).contains(r)) {
                bail!("{}: zone {}: max_change_ratio {ratio} is not between 0 and 1", self.origin, zone.name);
            }
        }
        Ok(())
    }

    /// A path from the configuration, relative to the file.
    pub fn path(&self, path: &Path) -> PathBuf {
        if path.is_absolute() { path.to_owned() } else { self.base.join(path) }
    }

    /// The provider instance called `name`; `trace` receives `--debug` lines.
    pub fn provider(&self, name: &str, trace: Option<Trace>) -> anyhow::Result<Arc<dyn Provider>> {
        let Some(config) = self.providers.get(name) else {
            let known: Vec<&str> = self.providers.keys().map(String::as_str).collect();
            bail!("no provider named '{name}' in {} (known: {})", self.origin, known.join(", "));
        };
        let setting = |key: &str| config.settings.get(key).and_then(toml::Value::as_str);
        Ok(match config.kind.as_str() {
            "zonefile" => {
                let dir = setting("directory").unwrap_or("zones");
                Arc::new(ZoneFiles::new(name, self.path(Path::new(dir))))
            }
            "memory" => Arc::new(InMemory::new(name)),
            "luadns" => {
                let username = login(self, name, config, "LUADNS_API_USERNAME")?;
                let token = secret(self, config, "token", "LUADNS_API_TOKEN")?.with_context(|| {
                    format!("provider {name}: no API token: set token_file in {} or LUADNS_API_TOKEN", self.origin)
                })?;
                let mut lua = LuaDnsConfig::new(username, token);
                lua.endpoint = config.endpoint.clone();
                if let Some(min) = config.settings.get("min_ttl") {
                    let min = min.as_integer().and_then(|m| u32::try_from(m).ok());
                    lua.min_ttl =
                        min.with_context(|| format!("provider {name}: min_ttl must be a number of seconds"))?;
                }
                Arc::new(LuaDns::new(name, lua, trace)?)
            }
            "mydomainlu" => {
                let username = login(self, name, config, "MYDOMAINLU_USERNAME")?;
                let password = secret(self, config, "password", "MYDOMAINLU_PASSWORD")?.with_context(|| {
                    format!("provider {name}: no password: set password_file in {} or MYDOMAINLU_PASSWORD", self.origin)
                })?;
                let zones = match config.settings.get("zones") {
                    None => Vec::new(),
                    Some(list) => list
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|z| z.as_str().and_then(|z| Name::parse(z).ok()))
                        .collect::<Option<Vec<Name>>>()
                        .with_context(|| format!("provider {name}: zones must be a list of domain names"))?,
                };
                let mut md = MydomainLuConfig::new(username, password, zones);
                md.endpoint = config.endpoint.clone();
                md.lock_dir = Some(crate::commands::state_dir()?.join("locks"));
                let progress: Option<Trace> =
                    std::io::stderr().is_terminal().then(|| -> Trace { Arc::new(|line: &str| eprintln!("  {line}")) });
                Arc::new(MydomainLu::new(name, md, trace, progress)?)
            }
            other => bail!("provider {name}: kind {other} is not in this build of zonectl"),
        })
    }

    /// The only provider, or the one called `zonefile`, when `--provider` is not given.
    pub fn default_provider_name(&self) -> anyhow::Result<String> {
        if self.providers.len() == 1 {
            return Ok(self.providers.keys().next().expect("one").clone());
        }
        if self.providers.contains_key("zonefile") {
            return Ok("zonefile".into());
        }
        let known: Vec<&str> = self.providers.keys().map(String::as_str).collect();
        bail!("several providers in {}; choose one with --provider ({})", self.origin, known.join(", "))
    }
}

/// A provider's login: the `username` setting, else the environment variable `env` (or
/// the file `<env>_FILE` names).
fn login(config: &Config, name: &str, provider: &ProviderConfig, env: &str) -> anyhow::Result<String> {
    match provider.settings.get("username").and_then(toml::Value::as_str) {
        Some(user) => Ok(user.to_owned()),
        None => secret(config, provider, "username", env)?
            .map(|s| s.expose_secret().to_owned())
            .with_context(|| format!("provider {name}: no username: set username in {} or {env}", config.origin)),
    }
}

/// A credential: the setting `key` (a literal, warned about if the file is readable by
/// others), else `<key>_file`, else the environment variable `env`, else `<env>_FILE`.
pub fn secret(
    config: &Config,
    provider: &ProviderConfig,
    key: &str,
    env: &str,
) -> anyhow::Result<Option<SecretString>> {
    if let Some(value) = provider.settings.get(key).and_then(toml::Value::as_str) {
        warn_if_readable(&config.origin, key);
        return Ok(Some(SecretString::from(value.to_owned())));
    }
    let from_file = |path: &Path| -> anyhow::Result<SecretString> {
        let text = std::fs::read_to_string(path).with_context(|| format!("{key}: cannot read {}", path.display()))?;
        Ok(SecretString::from(text.trim_end_matches(['\n', '\r']).to_owned()))
    };
    if let Some(path) = provider.settings.get(&format!("{key}_file")).and_then(toml::Value::as_str) {
        return from_file(&config.path(Path::new(path))).map(Some);
    }
    Ok(zonectl_providers::env_secret(env)?)
}

fn warn_if_readable(config_path: &str, key: &str) {
    use std::os::unix::fs::PermissionsExt;
    let readable = std::fs::metadata(config_path).is_ok_and(|meta| meta.permissions().mode() & 0o077 != 0);
    if readable {
        eprintln!(
            "zonectl: warning: {config_path} holds the secret '{key}' and is readable by group or others; chmod 600 it, or use {key}_file or the environment"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zonectl.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(Some(&path))
    }

    #[test]
    fn a_full_config() {
        let config = parse(
            "[providers.files]\nkind = \"zonefile\"\ndirectory = \"out\"\n\n[[zone]]\nname = \"example.com\"\n\
             source = \"example.com.zone\"\ntargets = [\"files\"]\nignore = [{ name = \"_acme*\", type = \"TXT\" }]\n\
             max_change_ratio = 0.5\n",
        )
        .unwrap();
        assert_eq!(config.zones[0].ignore[0].rtype, Some(zonectl_core::RecordType::Txt));
        assert_eq!(config.zones[0].safety().max_change_ratio, 0.5);
        assert_eq!(config.zones[0].safety().min_records, 10);
        assert!(config.path(Path::new("x")).ends_with("x"));
    }

    #[test]
    fn errors_say_where() {
        let err = parse("[providers.x]\nkind = \"bind\"\n").unwrap_err().to_string();
        assert!(
            err.ends_with(
                "zonectl.toml: provider x: unknown kind 'bind' (known: zonefile, memory, luadns, mydomainlu)"
            ),
            "{err}"
        );
        let err = parse("[providers.x]\nkind = \"domeneshop\"\n").unwrap_err().to_string();
        assert!(err.contains("kind domeneshop is not in this build of zonectl yet"), "{err}");
        let err = parse("[[zone]]\nname = \"a.com\"\nsource = \"a\"\ntargets = [\"nope\"]\n").unwrap_err().to_string();
        assert!(err.ends_with("zone a.com: target 'nope' is not a provider in [providers]"), "{err}");
        let err = parse("[[zone]]\nnam = \"a.com\"\n").unwrap_err().to_string();
        assert!(err.contains("zonectl.toml: TOML parse error at line 2"), "{err}");
    }

    #[test]
    fn secrets_from_settings_files_and_environment() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "from-file\n").unwrap();
        let config = Config { base: dir.path().to_owned(), origin: "test".into(), ..Config::default() };
        let mut settings = toml::Table::new();
        settings.insert("token_file".into(), toml::Value::String("token".into()));
        let provider = ProviderConfig { kind: "zonefile".into(), endpoint: None, settings };
        let got = secret(&config, &provider, "token", "ZONECTL_TEST_UNSET_VARIABLE").unwrap().unwrap();
        assert_eq!(got.expose_secret(), "from-file");
        let empty = ProviderConfig { kind: "zonefile".into(), endpoint: None, settings: toml::Table::new() };
        assert!(secret(&config, &empty, "token", "ZONECTL_TEST_UNSET_VARIABLE").unwrap().is_none());
        // Debug output of a secret does not show it.
        assert!(!format!("{got:?}").contains("from-file"));
    }
}

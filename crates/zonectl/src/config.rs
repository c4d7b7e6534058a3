//! `zonectl.toml`: provider instances and zones, read and checked whole before anything
//! else happens, and where zonectl keeps its state.
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
//!
//! Each provider table is read by its kind's typed settings (see the registry), so a typo
//! (`usrname`), a wrong type (`directory = 5`) or a string where a list belongs
//! (`zones = "x.lu"`) is an error naming the file, the table and the key.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use zonectl_core::Name;
use zonectl_core::plan::{IgnoreRule, Safety};
use zonectl_core::provider::{BuildContext, Provider, ProviderConfig, ProviderKind};
use zonectl_core::route::{Broken, Declared, Router};

use crate::registry;

/// The whole file, as written.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    providers: BTreeMap<String, toml::Table>,
    #[serde(default, rename = "zone")]
    zones: Vec<ZoneConfig>,
    #[serde(default)]
    acme: AcmeConfig,
    #[serde(default)]
    serve: ServeConfig,
    #[serde(default)]
    backups: BackupsConfig,
    #[serde(default)]
    locks: LocksConfig,
}

/// `[locks]`: how long a zonectl waits for another to finish with a zone.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LocksConfig {
    /// `5m` by default; then the wait ends in an error naming the holder.
    wait: Option<String>,
}

/// `[backups]`: how many backups to keep.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupsConfig {
    /// Keep the newest this many backups of a zone at a provider; older ones are removed
    /// after each apply, and the report says how many.
    #[serde(default = "default_keep")]
    pub keep: usize,
}

impl Default for BackupsConfig {
    fn default() -> BackupsConfig {
        BackupsConfig { keep: default_keep() }
    }
}

fn default_keep() -> usize {
    100
}

/// `[serve]`: the users of `zonectl serve`'s authenticated front ends.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// dyndns2 (`/nic/update`).
    #[serde(default)]
    pub dyndns: ServiceUsers,
    /// lego's httpreq (`/present`, `/cleanup`).
    #[serde(default)]
    pub httpreq: ServiceUsers,
    /// The RFC 2136 gateway.
    #[serde(default)]
    pub rfc2136: Rfc2136Config,
    /// Connections each HTTP listener holds at once (256 by default); at the cap the
    /// oldest idle one is closed to make room.
    pub max_connections: Option<usize>,
    /// How long a stop (SIGTERM) lets the work under way finish before cancelling it
    /// (`30s` by default, Kubernetes' `terminationGracePeriodSeconds`).
    pub grace_period: Option<String>,
}

/// `[serve.rfc2136]`: the TSIG keys, and the zones that take unsigned updates from loopback.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rfc2136Config {
    /// `[[serve.rfc2136.keys]]`.
    #[serde(default)]
    pub keys: Vec<TsigKeyConfig>,
    /// Zones that take unsigned updates, from loopback clients only.
    #[serde(default)]
    pub allow_unsigned: Vec<String>,
    /// The most clock difference a signed request may claim (its fudge is capped at this),
    /// in seconds: 300 by default, RFC 8945's recommendation; lower is stricter.
    pub max_fudge: Option<u16>,
    /// Addresses (`192.0.2.7`, `10.0.0.0/8`, `::1`) whose messages the per-address limit
    /// does not count. Empty by default: loopback is limited too.
    #[serde(default)]
    pub unlimited: Vec<String>,
    /// Messages an address may send per second (100 by default), and in a burst (twice
    /// that).
    pub per_address: Option<u32>,
}

/// One TSIG key: who may change what.
#[derive(Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TsigKeyConfig {
    /// The key's name, as clients send it (`acme-key`).
    pub name: String,
    /// `hmac-md5`, `hmac-sha1`, `hmac-sha224`, `hmac-sha256`, `hmac-sha384`, `hmac-sha512`.
    pub algorithm: Option<String>,
    /// The secret, base64.
    pub secret: Option<secrecy::SecretString>,
    /// A file with the secret: base64 alone, or a `tsig-keygen` key statement.
    pub secret_file: Option<PathBuf>,
    /// The zones the key may change and transfer.
    pub zones: Vec<String>,
    /// Names it may change (`*` matches any run of characters); every name when absent.
    #[serde(default)]
    pub names: Vec<String>,
    /// Types it may change (`TXT`); every type when absent.
    #[serde(default)]
    pub types: Vec<String>,
    /// Whether a key limited by `names` or `types` may transfer (AXFR) its zones whole; a
    /// key without such limits may.
    #[serde(default)]
    pub transfer: bool,
}

impl std::fmt::Debug for TsigKeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TsigKeyConfig")
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .field("secret_file", &self.secret_file)
            .field("zones", &self.zones)
            .field("names", &self.names)
            .field("types", &self.types)
            .finish_non_exhaustive()
    }
}

/// `[[serve.NAME.users]]`.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceUsers {
    /// Who may use the front end.
    #[serde(default)]
    pub users: Vec<ServeUser>,
}

/// One user of a front end: the Basic credentials, and the names it may change.
#[derive(Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeUser {
    /// The user name.
    pub name: String,
    /// The password, written here (warned about when the file is readable by others).
    pub password: Option<secrecy::SecretString>,
    /// A file holding the password (relative to the configuration file).
    pub password_file: Option<PathBuf>,
    /// dyndns: the host names the user may update.
    #[serde(default)]
    pub hostnames: Vec<String>,
    /// httpreq: the challenge names the user may present (`*` matches any run of
    /// characters: `_acme-challenge.*.example.com`).
    #[serde(default)]
    pub names: Vec<String>,
}

impl std::fmt::Debug for ServeUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeUser")
            .field("name", &self.name)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("password_file", &self.password_file)
            .field("hostnames", &self.hostnames)
            .field("names", &self.names)
            .finish()
    }
}

/// `[acme]`: how the ACME hooks check propagation. Each key is also an environment variable
/// (`ZONECTL_ACME_NAMESERVERS`, …), which wins, and a flag of `zonectl acme`, which wins
/// over both.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcmeConfig {
    /// The servers to check (`ADDR[:PORT]`) instead of the zone's name servers.
    pub nameservers: Option<Vec<String>>,
    /// How long to wait for them (`5m`).
    pub propagation_timeout: Option<String>,
    /// How long between two rounds of questions (`2s`).
    pub polling_interval: Option<String>,
    /// The TTL of a new challenge record set.
    pub ttl: Option<u32>,
    /// Wait for propagation after present.
    pub wait: Option<bool>,
    /// Follow a CNAME at the challenge name.
    pub follow_cname: Option<bool>,
}

/// The configuration, checked.
#[derive(Debug)]
pub struct Config {
    /// Provider instances by name.
    pub providers: BTreeMap<String, ProviderEntry>,
    /// Zones managed as code.
    pub zones: Vec<ZoneConfig>,
    /// The ACME hooks' settings.
    pub acme: AcmeConfig,
    /// `zonectl serve`'s users.
    pub serve: ServeConfig,
    /// How many backups to keep.
    pub backups: BackupsConfig,
    /// The file it came from (none: the built-in default).
    pub file: Option<PathBuf>,
    /// Where it came from, for messages.
    pub origin: String,
}

/// One provider instance: its kind and its settings, read and checked.
#[derive(Debug)]
pub struct ProviderEntry {
    /// The kind.
    pub kind: &'static ProviderKind,
    /// The settings.
    pub settings: Box<dyn ProviderConfig>,
    /// `nameservers = ["ADDR[:PORT]", …]`: the servers that answer for this instance's
    /// zones, which the ACME hooks ask instead of looking the zones' NS records up.
    pub nameservers: Vec<SocketAddr>,
    /// The table as written (`kind` included), for `import` to carry over.
    pub table: toml::Table,
}

/// One zone kept as code.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneConfig {
    /// The zone's name.
    pub name: Name,
    /// The desired zone file; without one, the table only names the zone's targets (for
    /// the record commands, the hooks and `serve`), and `plan` and `apply` pass it by.
    pub source: Option<PathBuf>,
    /// Provider instances that should hold it.
    pub targets: Vec<String>,
    /// Records left alone.
    #[serde(default)]
    pub ignore: Vec<IgnoreRule>,
    /// Largest share of records a plan may update or delete without `--force`.
    pub max_change_ratio: Option<f64>,
    /// Zones smaller than this are not held to the ratio.
    pub min_records: Option<usize>,
    /// A TTL a target refuses: `refuse` (the default) or `round` to the nearest allowed.
    pub ttl_policy: Option<zonectl_core::plan::TtlPolicy>,
    /// The most records the source file may hold (a bound on what an untrusted file costs;
    /// 1,000,000 by default, as `check --max-records`).
    pub max_records: Option<usize>,
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

/// The state directory: `$ZONECTL_STATE_DIR`, else `$XDG_STATE_HOME/zonectl`, else
/// `~/.local/state/zonectl`. Backups and lock files live there.
pub fn state_dir() -> anyhow::Result<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("ZONECTL_STATE_DIR")
        .or_else(|| var("XDG_STATE_HOME").map(|d| d.join("zonectl")))
        .or_else(|| var("HOME").map(|h| h.join(".local/state/zonectl")))
        .context("no state directory: set ZONECTL_STATE_DIR or HOME")
}

/// Where backups go: `backups/` in the state directory.
pub fn backup_dir() -> anyhow::Result<PathBuf> {
    Ok(state_dir()?.join("backups"))
}

impl Config {
    /// Loads `--config`, else `$ZONECTL_CONFIG`, else `./zonectl.toml` if present, else the
    /// default: one `zonefile` provider named `zonefile` over `./zones`.
    pub fn load(flag: Option<&Path>) -> anyhow::Result<Config> {
        let env = std::env::var_os("ZONECTL_CONFIG").filter(|v| !v.is_empty()).map(PathBuf::from);
        let path = match (flag, env) {
            (Some(path), _) => Some(path.to_owned()),
            (None, Some(path)) => Some(path),
            (None, None) => Some(PathBuf::from("zonectl.toml")).filter(|p| p.exists()),
        };
        let Some(path) = path else { return Config::builtin() };
        let origin = path.display().to_string();
        let bytes =
            zonectl_core::fs::read_limited(&path, 16 << 20).with_context(|| format!("{origin}: cannot read"))?;
        let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{origin}: not UTF-8 text"))?;
        Config::parse(&text, Some(path))
    }

    /// The configuration in `text`, read from `file`.
    pub fn parse(text: &str, file: Option<PathBuf>) -> anyhow::Result<Config> {
        let origin = file.as_ref().map_or_else(|| "built-in defaults".to_owned(), |f| f.display().to_string());
        let parsed: File = toml::from_str(text).map_err(|e| {
            // toml's message has the line and column; keep it on one line.
            let message = e.to_string();
            let mut lines = message.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('|'));
            let head = lines.next().unwrap_or("invalid TOML");
            let detail = lines.next_back().unwrap_or_default();
            anyhow::anyhow!("{origin}: {head}{}", if detail.is_empty() { String::new() } else { format!(": {detail}") })
        })?;
        let mut providers = BTreeMap::new();
        for (name, mut table) in parsed.providers {
            let written = table.clone();
            let at = format!("{origin}: [providers.{name}]");
            let kind = match table.remove("kind") {
                Some(toml::Value::String(kind)) => kind,
                Some(other) => bail!("{at}: kind must be a string, not {}", other.type_str()),
                None => bail!("{at}: no kind (one of {})", registry::kind_names().join(", ")),
            };
            let Some(entry) = registry::find(&kind) else {
                bail!("{at}: unknown kind '{kind}' (known: {})", registry::kind_names().join(", "));
            };
            let nameservers = match table.remove("nameservers") {
                None => Vec::new(),
                Some(toml::Value::Array(list)) => list
                    .iter()
                    .map(|v| match v.as_str().and_then(zonectl_core::dns::parse_server) {
                        Some(addr) => Ok(addr),
                        None => Err(anyhow::anyhow!(
                            "{at}: nameservers: {v} is not an address (write it as \"192.0.2.53\" or \"192.0.2.53:5353\")"
                        )),
                    })
                    .collect::<anyhow::Result<_>>()?,
                Some(other) => bail!("{at}: nameservers must be a list of addresses, not {}", other.type_str()),
            };
            let settings = (entry.parse)(table).map_err(|e| anyhow::anyhow!("{at}: {e}"))?;
            providers.insert(name, ProviderEntry { kind: entry, settings, nameservers, table: written });
        }
        if let Some(wait) = &parsed.locks.wait {
            let limit =
                zonectl_core::duration::parse(wait).map_err(|e| anyhow::anyhow!("{origin}: [locks] wait: {e}"))?;
            zonectl_core::lock::set_wait_limit(limit);
        }
        if parsed.backups.keep == 0 {
            bail!("{origin}: [backups] keep = 0 would remove the backup just written; keep at least 1");
        }
        let mut config = Config {
            providers,
            zones: parsed.zones,
            acme: parsed.acme,
            serve: parsed.serve,
            backups: parsed.backups,
            file,
            origin,
        };
        if config.providers.is_empty() {
            config.providers = Config::builtin()?.providers;
        }
        config.check_zones()?;
        // The hooks' and the server's sections are checked whoever loads the file.
        crate::commands::acme_settings(&config, &crate::cli::AcmeArgs::default())?;
        crate::serve::check_config(&config).map_err(|e| anyhow::anyhow!("{}: {e:#}", config.origin))?;
        Ok(config)
    }

    fn builtin() -> anyhow::Result<Config> {
        let mut table = toml::Table::new();
        table.insert("directory".into(), toml::Value::String("zones".into()));
        let settings = (zonectl_core::provider::zonefile::KIND.parse)(table).map_err(anyhow::Error::msg)?;
        let mut written = toml::Table::new();
        written.insert("kind".into(), toml::Value::String("zonefile".into()));
        written.insert("directory".into(), toml::Value::String("zones".into()));
        let entry = ProviderEntry {
            kind: &zonectl_core::provider::zonefile::KIND,
            settings,
            nameservers: Vec::new(),
            table: written,
        };
        Ok(Config {
            providers: BTreeMap::from([("zonefile".to_owned(), entry)]),
            zones: Vec::new(),
            acme: AcmeConfig::default(),
            serve: ServeConfig::default(),
            backups: BackupsConfig::default(),
            file: None,
            origin: "built-in defaults".into(),
        })
    }

    fn check_zones(&self) -> anyhow::Result<()> {
        let origin = &self.origin;
        let mut seen = BTreeSet::new();
        for zone in &self.zones {
            let name = &zone.name;
            if !seen.insert(name) {
                bail!("{origin}: zone {name} is listed twice; give each zone one [[zone]] table with all its targets");
            }
            if zone.targets.is_empty() {
                bail!("{origin}: zone {name}: targets is empty; name at least one provider from [providers]");
            }
            let mut targets = BTreeSet::new();
            for target in &zone.targets {
                if !self.providers.contains_key(target) {
                    bail!("{origin}: zone {name}: target '{target}' is not a provider in [providers]");
                }
                if !targets.insert(target) {
                    bail!("{origin}: zone {name}: target '{target}' is listed twice");
                }
            }
            // Where the settings alone say where an instance writes (a zone file directory),
            // two targets at one place are refused now, before any command runs.
            let context = self.build_context();
            let mut places: Vec<(&String, String)> = Vec::new();
            for target in &zone.targets {
                let Some(place) = self.providers[target].settings.account(&context) else { continue };
                if let Some((first, _)) = places.iter().find(|(_, p)| *p == place) {
                    bail!(
                        "{origin}: zone {name}: targets '{first}' and '{target}' are one and the same place ({place}); \
                         list it once"
                    );
                }
                places.push((target, place));
            }
            if let Some(ratio) = zone.max_change_ratio.filter(|r| !(0.0..=1.0).contains(r)) {
                bail!("{origin}: zone {name}: max_change_ratio {ratio} is not between 0 and 1");
            }
        }
        Ok(())
    }

    /// A path from the configuration, relative to the file.
    pub fn path(&self, path: &Path) -> PathBuf {
        self.build_context().path(path)
    }

    fn build_context(&self) -> BuildContext {
        let progress: Option<zonectl_core::provider::kind::Progress> =
            std::io::stderr().is_terminal().then(|| -> zonectl_core::provider::kind::Progress {
                Arc::new(|line: &str| crate::status::eprintln(&format!("  {line}")))
            });
        BuildContext { config_file: self.file.clone(), state_dir: state_dir().ok(), progress }
    }

    /// The provider instance called `name`.
    pub fn provider(&self, name: &str) -> anyhow::Result<Arc<dyn Provider>> {
        let (_, entry) = self.entry(name)?;
        tracing::debug!(target: "zonectl::config", "provider {name}: kind {}", entry.kind.name);
        entry
            .settings
            .build(name, &self.build_context())
            .map_err(|e| anyhow::anyhow!("{}: [providers.{name}]: {e}", self.origin))
    }

    /// The router over every provider instance, or only `only` when given (`--provider`,
    /// which must name one), with the zones the `[[zone]]` tables route. An instance that
    /// cannot be built (a missing credential) fails only what is routed to it.
    pub fn router(&self, only: Option<&str>) -> anyhow::Result<Router> {
        let names: Vec<&String> = match only {
            Some(name) => vec![self.entry(name)?.0],
            None => self.providers.keys().collect(),
        };
        let mut built = Vec::new();
        let mut broken = Vec::new();
        for name in names {
            match self.provider(name) {
                Ok(provider) => built.push((provider, self.providers[name].nameservers.clone())),
                // One instance: its error is the command's.
                Err(e) if only.is_some() || self.providers.len() == 1 => return Err(e),
                Err(e) => broken.push(Broken { name: name.clone(), error: format!("{e:#}") }),
            }
        }
        let declared: Vec<Declared> =
            self.zones.iter().map(|z| Declared { zone: z.name.clone(), targets: z.targets.clone() }).collect();
        Ok(Router::new(built, broken, &declared))
    }

    /// The table of the provider called `name`, as written.
    pub fn provider_table(&self, name: &str) -> Option<&toml::Table> {
        self.providers.get(name).map(|e| &e.table)
    }

    /// The entry called `name`, or an error listing the configured ones.
    fn entry(&self, name: &str) -> anyhow::Result<(&String, &ProviderEntry)> {
        self.providers.get_key_value(name).ok_or_else(|| {
            let known: Vec<&str> = self.providers.keys().map(String::as_str).collect();
            anyhow::anyhow!("no provider named '{name}' in {} (configured: {})", self.origin, known.join(", "))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<Config> {
        Config::parse(text, Some(PathBuf::from("zonectl.toml")))
    }

    fn error(text: &str) -> String {
        format!("{:#}", parse(text).unwrap_err())
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
        assert_eq!(config.providers["files"].kind.name, "zonefile");
    }

    #[test]
    fn errors_say_where() {
        assert_eq!(
            error("[providers.x]\nkind = \"bind\"\n"),
            "zonectl.toml: [providers.x]: unknown kind 'bind' (known: zonefile, memory, luadns, domeneshop, zoneid, vpsorg, mydomainlu)"
        );
        assert_eq!(
            error("[[zone]]\nname = \"a.com\"\nsource = \"a\"\ntargets = [\"nope\"]\n"),
            "zonectl.toml: zone a.com.: target 'nope' is not a provider in [providers]"
        );
        assert!(error("[[zone]]\nnam = \"a.com\"\n").starts_with("zonectl.toml: TOML parse error at line 2"));
    }

    #[test]
    fn provider_tables_are_typed() {
        // Each of these was silently accepted before (a typo, a wrong type, a string for a
        // list, a number for a secret), falling back to a default or the environment.
        assert_eq!(
            error("[providers.lua]\nkind = \"luadns\"\nusrname = \"joe\"\n"),
            "zonectl.toml: [providers.lua]: unknown field `usrname`, expected one of `username`, `username_file`, \
             `token`, `token_file`, `endpoint`, `min_ttl`, `rate_limit`"
        );
        assert_eq!(
            error("[providers.files]\nkind = \"zonefile\"\ndirectory = 5\n"),
            "zonectl.toml: [providers.files]: directory: invalid type: integer `5`, expected path string"
        );
        assert_eq!(
            error("[providers.lua]\nkind = \"luadns\"\ntoken = 5\n"),
            "zonectl.toml: [providers.lua]: token: invalid type: integer `5`, expected a string"
        );
        assert_eq!(
            error("[providers.mdl]\nkind = \"mydomainlu\"\nzones = \"x.lu\"\n"),
            "zonectl.toml: [providers.mdl]: zones: invalid type: string \"x.lu\", expected a sequence"
        );
        assert_eq!(
            error("[providers.mdl]\nkind = \"mydomainlu\"\nzones = [\"bad..lu\"]\n"),
            "zonectl.toml: [providers.mdl]: zones[0]: empty label in 'bad..lu'"
        );
        assert_eq!(
            error("[providers.x]\ndirectory = \"z\"\n"),
            "zonectl.toml: [providers.x]: no kind (one of zonefile, memory, luadns, domeneshop, zoneid, vpsorg, mydomainlu)"
        );
    }

    #[test]
    fn zones_are_checked_whole() {
        let files = "[providers.f]\nkind = \"zonefile\"\n";
        let zone = |extra: &str| format!("{files}[[zone]]\nname = \"a.com\"\nsource = \"a\"\n{extra}");
        assert_eq!(
            error(&zone("targets = []\n")),
            "zonectl.toml: zone a.com.: targets is empty; name at least one provider from [providers]"
        );
        assert_eq!(
            error(&format!(
                "{}{}",
                zone("targets = [\"f\"]\n"),
                "[[zone]]\nname = \"A.com.\"\nsource = \"b\"\ntargets = [\"f\"]\n"
            )),
            "zonectl.toml: zone a.com. is listed twice; give each zone one [[zone]] table with all its targets"
        );
        assert!(
            error(&format!("{files}[[zone]]\nname = \"a..com\"\nsource = \"a\"\ntargets = [\"f\"]\n"))
                .contains("empty label")
        );
        assert_eq!(error(&zone("targets = [\"f\", \"f\"]\n")), "zonectl.toml: zone a.com.: target 'f' is listed twice");
    }
}

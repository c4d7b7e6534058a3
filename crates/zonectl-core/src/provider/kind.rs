//! What the provider registry knows of a provider kind: its names, its typed settings (a
//! `[providers.NAME]` table of `zonectl.toml`), its environment variables and its
//! capabilities. Each provider module declares one [`ProviderKind`]; everything that lists
//! providers (configuration, `zonectl providers`, `emulate`, `demo`) reads the registry.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use secrecy::SecretString;

use super::{Capabilities, Provider};
use crate::error::{Error, Result};

/// A provider kind, as the registry lists it.
pub struct ProviderKind {
    /// The name written in `kind = "…"`.
    pub name: &'static str,
    /// Other names accepted for it (`zoneee`, lego's name for ZoneID).
    pub aliases: &'static [&'static str],
    /// One line on what it is.
    pub about: &'static str,
    /// The environment variables it reads, each also as `<NAME>_FILE`.
    pub env: &'static [EnvVar],
    /// What it can do, with default settings.
    pub capabilities: fn() -> Capabilities,
    /// Reads a `[providers.NAME]` table (without its `kind`) into the kind's typed
    /// settings; the error names the key at fault.
    pub parse: fn(toml::Table) -> std::result::Result<Box<dyn ProviderConfig>, String>,
}

impl fmt::Debug for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderKind").field("name", &self.name).field("aliases", &self.aliases).finish()
    }
}

impl ProviderKind {
    /// Whether `kind` names this kind (its name or an alias).
    pub fn is(&self, kind: &str) -> bool {
        self.name == kind || self.aliases.contains(&kind)
    }
}

/// An environment variable a provider reads, and the setting it stands in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct EnvVar {
    /// The variable (`LUADNS_API_TOKEN`); `<NAME>_FILE` names a file holding the value.
    pub name: &'static str,
    /// The setting of the provider's table it stands in for (`token`).
    pub setting: &'static str,
    /// Whether it holds a secret (never shown).
    pub secret: bool,
}

/// A provider kind's settings, read and checked; building the provider resolves what the
/// settings leave to files and the environment.
pub trait ProviderConfig: fmt::Debug + Send + Sync {
    /// The provider instance `name`.
    fn build(&self, name: &str, ctx: &BuildContext) -> Result<Arc<dyn Provider>>;

    /// The instance's [`Provider::account`], where the settings alone say it (a zone file
    /// directory): checked when the configuration is loaded. `None` leaves the check to when
    /// the instance is built.
    fn account(&self, _ctx: &BuildContext) -> Option<String> {
        None
    }
}

/// Reads `table` into the settings type `T`, naming the key at fault on error
/// (`token: invalid type: integer `5`, expected a string`).
pub fn parse_settings<T>(table: toml::Table) -> std::result::Result<Box<dyn ProviderConfig>, String>
where
    T: serde::de::DeserializeOwned + ProviderConfig + 'static,
{
    serde_path_to_error::deserialize::<_, T>(toml::Value::Table(table))
        .map(|settings| Box::new(settings) as Box<dyn ProviderConfig>)
        .map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            let message = message.lines().next().unwrap_or_default().trim().to_owned();
            // An unknown field's message names it already.
            if path.is_empty() || path == "." || message.starts_with("unknown field") {
                message
            } else {
                format!("{path}: {message}")
            }
        })
}

/// Receives progress lines of providers whose changes take time (mydomain.lu's orders).
pub type Progress = Arc<dyn Fn(&str) + Send + Sync>;

/// Secret files are small; anything larger is a mistake (`token_file = "/dev/zero"`).
const SECRET_FILE_LIMIT: u64 = 64 * 1024;

/// What building a provider needs from its surroundings.
#[derive(Clone, Default)]
pub struct BuildContext {
    /// The configuration file the settings came from: relative paths are taken from its
    /// directory, and a secret written in it is warned about if others can read it.
    pub config_file: Option<PathBuf>,
    /// Where zonectl keeps state (lock files under `locks/`); none: no cross-process locks.
    pub state_dir: Option<PathBuf>,
    /// Where slow providers report progress.
    pub progress: Option<Progress>,
}

impl fmt::Debug for BuildContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuildContext")
            .field("config_file", &self.config_file)
            .field("state_dir", &self.state_dir)
            .finish()
    }
}

/// A credential a provider needs, with the places it may come from, in order: the setting
/// itself, a file named by `<setting>_file`, the variable `env`, a file named by `<env>_FILE`.
#[derive(Debug, Clone, Copy)]
pub struct Credential<'a> {
    /// What it is, for messages (`API token`).
    pub what: &'a str,
    /// The setting's key (`token`).
    pub setting: &'a str,
    /// The value written in the configuration.
    pub value: Option<&'a SecretString>,
    /// The file the configuration names.
    pub file: Option<&'a Path>,
    /// The environment variable.
    pub env: &'a str,
    /// Whether it is a secret (a password, a key): one written in a configuration file
    /// that others can read is warned about. A login name is not.
    pub secret: bool,
}

impl BuildContext {
    /// A path from the settings: `~/` is the home directory, a relative path is taken from
    /// the configuration file's directory.
    pub fn path(&self, path: &Path) -> PathBuf {
        if let Ok(rest) = path.strip_prefix("~")
            && let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty())
        {
            return PathBuf::from(home).join(rest);
        }
        if path.is_absolute() {
            return path.to_owned();
        }
        match self.config_file.as_deref().and_then(Path::parent) {
            Some(dir) => dir.join(path),
            None => path.to_owned(),
        }
    }

    /// The directory for lock files, if there is a state directory.
    pub fn lock_dir(&self) -> Option<PathBuf> {
        self.state_dir.as_ref().map(|d| d.join("locks"))
    }

    /// The credential from the first place that has it; `None` when none has.
    pub fn credential(&self, c: Credential<'_>) -> Result<Option<SecretString>> {
        if let Some(value) = c.value {
            if c.secret {
                self.warn_if_readable(c.setting);
            }
            return Ok(Some(value.clone()));
        }
        if let Some(file) = c.file {
            return read_secret(&self.path(file), &format!("{}_file", c.setting)).map(Some);
        }
        if let Some(value) = std::env::var_os(c.env) {
            let value = value.into_string().map_err(|_| Error::InvalidConfig(format!("{}: not valid UTF-8", c.env)))?;
            return Ok(Some(SecretString::from(value)));
        }
        let file_var = format!("{}_FILE", c.env);
        match std::env::var_os(&file_var) {
            Some(path) => read_secret(Path::new(&path), &file_var).map(Some),
            None => Ok(None),
        }
    }

    /// Like [`BuildContext::credential`], but missing is an error that says where to put it.
    pub fn required(&self, c: Credential<'_>) -> Result<SecretString> {
        self.credential(c)?.ok_or_else(|| {
            Error::InvalidConfig(format!(
                "no {}: set {} or {}_file, or {} (or {}_FILE)",
                c.what, c.setting, c.setting, c.env, c.env
            ))
        })
    }

    fn warn_if_readable(&self, key: &str) {
        use std::os::unix::fs::PermissionsExt;
        let Some(file) = &self.config_file else { return };
        if std::fs::metadata(file).is_ok_and(|meta| meta.permissions().mode() & 0o077 != 0) {
            tracing::warn!(
                target: "zonectl::notice",
                "warning: {} holds the secret '{key}' and is readable by group or others; chmod 600 it, or use {key}_file or the environment",
                file.display()
            );
        }
    }
}

/// A secret read from a file: bounded in size, one trailing line break dropped.
fn read_secret(path: &Path, whence: &str) -> Result<SecretString> {
    let bytes = crate::fs::read_limited(path, SECRET_FILE_LIMIT)
        .map_err(|e| Error::InvalidConfig(format!("{whence}: cannot read {}: {e}", path.display())))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::InvalidConfig(format!("{whence}: {} is not UTF-8 text", path.display())))?;
    Ok(SecretString::from(text.trim_end_matches(['\n', '\r']).to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Settings {
        #[allow(dead_code)]
        directory: Option<String>,
        #[allow(dead_code)]
        zones: Option<Vec<String>>,
    }

    impl ProviderConfig for Settings {
        fn build(&self, _: &str, _: &BuildContext) -> Result<Arc<dyn Provider>> {
            unreachable!()
        }
    }

    fn parse(text: &str) -> std::result::Result<Box<dyn ProviderConfig>, String> {
        parse_settings::<Settings>(text.parse::<toml::Table>().unwrap())
    }

    #[test]
    fn settings_errors_name_the_key() {
        assert!(parse("directory = \"zones\"").is_ok());
        assert_eq!(parse("directory = 5").unwrap_err(), "directory: invalid type: integer `5`, expected a string");
        assert_eq!(parse("zones = \"x.lu\"").unwrap_err(), "zones: invalid type: string \"x.lu\", expected a sequence");
        assert_eq!(parse("usrname = \"me\"").unwrap_err(), "unknown field `usrname`, expected `directory` or `zones`");
    }

    #[test]
    fn credentials_in_order_and_bounded_files() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("zonectl.toml");
        std::fs::write(&config, "").unwrap();
        std::fs::write(dir.path().join("key"), "from-file\n").unwrap();
        let ctx = BuildContext { config_file: Some(config), ..BuildContext::default() };
        let literal = SecretString::from("literal".to_owned());
        let c = Credential {
            what: "API token",
            setting: "token",
            value: Some(&literal),
            file: None,
            env: "ZONECTL_TEST_UNSET",
            secret: true,
        };
        assert_eq!(ctx.credential(c).unwrap().unwrap().expose_secret(), "literal");
        let from_file = Credential { value: None, file: Some(Path::new("key")), ..c };
        assert_eq!(ctx.credential(from_file).unwrap().unwrap().expose_secret(), "from-file");
        let none = Credential { value: None, file: None, ..c };
        assert!(ctx.credential(none).unwrap().is_none());
        assert_eq!(
            ctx.required(none).unwrap_err().to_string(),
            "no API token: set token or token_file, or ZONECTL_TEST_UNSET (or ZONECTL_TEST_UNSET_FILE)"
        );
        let zero = Credential { value: None, file: Some(Path::new("/dev/zero")), ..c };
        assert_eq!(
            ctx.credential(zero).unwrap_err().to_string(),
            "token_file: cannot read /dev/zero: larger than 65536 bytes"
        );
    }

    #[test]
    fn paths_from_the_config_directory_and_home() {
        let ctx = BuildContext { config_file: Some(PathBuf::from("/etc/zonectl/zonectl.toml")), ..Default::default() };
        assert_eq!(ctx.path(Path::new("zones")), Path::new("/etc/zonectl/zones"));
        assert_eq!(ctx.path(Path::new("/abs")), Path::new("/abs"));
        if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            assert_eq!(ctx.path(Path::new("~/.key")), Path::new(&home).join(".key"));
        }
    }
}

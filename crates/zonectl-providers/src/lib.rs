//! The HTTP DNS hosting providers of zonectl, one module each, over one shared HTTP layer.
//!
//! Each provider maps its API's wire types to and from the model of `zonectl-core` and
//! absorbs its quirks (see its module's docs); the plan engine has already checked every
//! change against the provider's capabilities before `apply` is called.

#![deny(missing_docs)]

pub mod http;
pub mod luadns;
pub mod mydomainlu;

use secrecy::SecretString;

/// A credential from the environment: `NAME`, else the file named by `NAME_FILE` (the
/// variable names lego uses, so users can reuse them).
pub fn env_secret(name: &str) -> Result<Option<SecretString>, zonectl_core::Error> {
    if let Ok(value) = std::env::var(name) {
        return Ok(Some(SecretString::from(value)));
    }
    match std::env::var_os(format!("{name}_FILE")) {
        Some(path) => std::fs::read_to_string(&path)
            .map(|text| Some(SecretString::from(text.trim_end_matches(['\n', '\r']).to_owned())))
            .map_err(|e| {
                zonectl_core::Error::InvalidConfig(format!("{name}_FILE: cannot read {}: {e}", path.to_string_lossy()))
            }),
        None => Ok(None),
    }
}

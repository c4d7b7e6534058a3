//! The HTTP DNS hosting providers of zonectl, one module each (each behind a cargo feature
//! of its name), over one shared HTTP layer.
//!
//! Each provider maps its API's wire types to and from the model of `zonectl-core` and
//! absorbs its quirks (see its module's docs); the plan engine has already checked every
//! change against the provider's capabilities before `apply` is called. Each module
//! declares its `KIND` for the registry: names, typed settings, environment variables.

#![deny(missing_docs)]

#[cfg(feature = "domeneshop")]
pub mod domeneshop;
pub mod http;
#[cfg(feature = "luadns")]
pub mod luadns;
#[cfg(feature = "mydomainlu")]
pub mod mydomainlu;
#[cfg(feature = "vpsorg")]
pub mod vpsorg;
#[cfg(feature = "zoneid")]
pub mod zoneid;

use std::path::Path;

use secrecy::ExposeSecret;
use zonectl_core::Error;
use zonectl_core::provider::kind::{BuildContext, Credential};

/// A login name (not a secret) from its setting, `<setting>_file`, `env` or `<env>_FILE`.
#[allow(dead_code)]
fn login(
    ctx: &BuildContext,
    setting: &str,
    value: &Option<String>,
    file: Option<&Path>,
    env: &str,
) -> Result<String, Error> {
    let literal = value.clone().map(secrecy::SecretString::from);
    let found =
        ctx.required(Credential { what: setting, setting, value: literal.as_ref(), file, env, secret: false })?;
    Ok(found.expose_secret().to_owned())
}

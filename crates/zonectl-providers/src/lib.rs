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
pub mod registry;
#[cfg(feature = "vpsorg")]
pub mod vpsorg;
#[cfg(feature = "zoneid")]
pub mod zoneid;

use std::path::Path;

use secrecy::ExposeSecret;
use zonectl_core::provider::Existing;
use zonectl_core::provider::kind::{BuildContext, Credential};
use zonectl_core::{Error, Name, RData, Record};

#[allow(unused_imports)]
use crate::http::{About, HttpClient, Request};

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

/// An endpoint from the setting, else the environment variable `env` (or `<env>_FILE`).
#[allow(dead_code)]
fn endpoint(ctx: &BuildContext, setting: &Option<String>, env: &str) -> Result<Option<String>, Error> {
    if setting.is_some() {
        return Ok(setting.clone());
    }
    let found = ctx.credential(Credential {
        what: "endpoint",
        setting: "endpoint",
        value: None,
        file: None,
        env,
        secret: false,
    })?;
    Ok(found.map(|e| e.expose_secret().to_owned()))
}

/// Whether the records a provider holds include `wanted`, for providers that keep TXT as
/// one value (however `wanted` splits it).
#[allow(dead_code)]
fn holds(held: &[Existing], wanted: &Record) -> bool {
    held.iter().any(|e| e.record.name == wanted.name && same_value(&e.record.data, &wanted.data))
}

/// Equal as a provider that keeps TXT as one value stores data.
#[allow(dead_code)]
fn same_value(held: &RData, wanted: &RData) -> bool {
    match (held, wanted) {
        (RData::Txt(a), RData::Txt(b)) => a.value() == b.value(),
        (a, b) => a == b,
    }
}

/// The provider's id of a record it listed.
#[allow(dead_code)]
fn record_id<'e>(provider: &str, zone: &Name, existing: &'e Existing) -> Result<&'e str, Error> {
    existing.id.as_deref().ok_or_else(|| Error::Protocol {
        provider: provider.to_owned(),
        message: format!("zone {zone}: {} has no record id", existing.record),
    })
}

/// Sends a create, which is never repeated blindly: when its answer is lost (or
/// `maybe_made` says the error may mean the record is there already), `read` reads the
/// records again, and only a record still missing is sent again. Returns the answer that
/// made it, if one came back.
#[allow(dead_code)]
async fn create_once<F, Fut>(
    http: &HttpClient,
    request: &Request,
    about: About<'_>,
    maybe_made: fn(&Error) -> bool,
    read: F,
) -> Result<Option<crate::http::Response>, Error>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Vec<Existing>, Error>>,
{
    let record = about.record.expect("a create is about a record");
    let mut tries = 0;
    loop {
        tries += 1;
        match http.call(request, about).await {
            Ok(response) => return Ok(Some(response)),
            Err(e) if (e.is_ambiguous() || maybe_made(&e)) && tries < 3 => {
                if holds(&read().await?, record) {
                    return Ok(None);
                }
                if !e.is_ambiguous() {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Deletes what `path` names; one gone already (a DELETE sent again after its answer was
/// lost) is done.
#[allow(dead_code)]
async fn delete(http: &HttpClient, path: String, about: About<'_>) -> Result<(), Error> {
    match http.call(&Request::delete(path), about).await {
        Err(Error::NotFound { .. }) => Ok(()),
        other => other.map(drop),
    }
}

/// Why a record whose target is the root cannot be sent where the API document does not say
/// the service takes one: RFC 7505's null MX (`MX 0 .`) and RFC 2782's SRV `.` ("no service
/// here"). Refused in the plan, naming the record, rather than met as an apply-time error
/// (or a value read back wrong) halfway through a change.
pub(crate) fn root_target(data: &zonectl_core::RData) -> Option<String> {
    match data {
        zonectl_core::RData::Mx { exchange, .. } if exchange.as_str() == "." => Some(
            "a null MX (MX 0 .) cannot be sent there: the API document does not say the service takes a root target"
                .into(),
        ),
        zonectl_core::RData::Srv { target, .. } if target.as_str() == "." => Some(
            "an SRV with target . cannot be sent there: the API document does not say the service takes a root target"
                .into(),
        ),
        _ => None,
    }
}

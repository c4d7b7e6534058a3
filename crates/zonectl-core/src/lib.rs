//! The core of zonectl: the typed record model, RFC 1035 zone files, the provider trait
//! with the built-in `zonefile` and `memory` providers, and the plan engine.
//!
//! Everything a provider reads or a user writes passes through [`Zone`], [`Record`] and
//! [`RData`]: names are validated once ([`Name`]), data is typed per record type, and
//! anything zonectl does not model is kept in RFC 3597 form, so nothing read is lost.

#![deny(missing_docs)]

pub mod acme;
pub mod backup;
pub mod basic_auth;
mod canonical;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod ddns;
pub mod dns;
pub mod duration;
pub mod edit;
pub mod error;
pub mod fs;
#[cfg(feature = "generate")]
pub mod generate;
pub mod glob;
pub(crate) mod lexer;
pub mod lock;
pub mod meter;
pub mod name;
pub mod plan;
pub mod provider;
pub mod rdata;
pub mod record;
pub mod report;
pub mod route;
pub mod rtype;
pub mod saved;
pub mod ttl;
pub mod zonefile;

pub use error::{Error, Result};
pub use name::{Name, NameError};
pub use rdata::{Caa, Forward, RData, RDataError, Soa, Txt};
pub use record::{Record, RecordSet, Zone};
pub use rtype::{RecordType, UnknownRecordType};
pub use ttl::{Ttl, TtlError};

//! Authoritative DNS from zonectl's typed records: the answers and zone transfers of the
//! emulators' name servers and of `zonectl serve`'s RFC 2136 gateway, in one place.
//!
//! Records cross into DNS messages by one conversion ([`convert`]): the model's wire form
//! (`RData::to_wire`), read by hickory-proto's own decoder, and back. The answering rules
//! — AA, NXDOMAIN and NODATA with the SOA in authority, CNAME chains, referrals — are
//! hickory-server's, over an in-memory catalog built from the records ([`Authority`]).
//! No zone-file text lies anywhere in between.

#![deny(missing_docs)]

mod authority;
pub mod convert;
mod server;

pub use authority::Authority;
pub use server::{DnsServer, View, bind_both};

//! The emulated provider's name servers answer from the same state the HTTP API changes
//! (`zonectl_dns::DnsServer`, with a propagation delay on the service's clock): ACME
//! clients and CAs look a challenge up in DNS, so a test of the whole DNS-01 round trip
//! needs them. Each emulator lists its zones as its API keeps them ([`DnsZone`]: names and
//! data in the provider's own text); they become typed records here, once, and a record
//! the model cannot read (a provider-only type such as ANAME) is left out.

use zonectl_core::{Name, RData, Record, RecordType, Ttl, Zone};

/// One record as the provider's name servers serve it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    /// The owner, absolute with the trailing dot.
    pub name: String,
    /// The TTL in seconds.
    pub ttl: u32,
    /// The type's mnemonic (`TXT`).
    pub rtype: String,
    /// The data in presentation form (`"text"` quoted, names absolute).
    pub data: String,
}

impl DnsRecord {
    /// A record whose data is raw text, as most APIs keep TXT: quoted here.
    pub fn txt(name: String, ttl: u32, raw: &str) -> DnsRecord {
        let data = zonectl_core::RData::Txt(zonectl_core::rdata::Txt::from_value(raw)).to_string();
        DnsRecord { name, ttl, rtype: "TXT".into(), data }
    }
}

/// One zone as the provider's name servers serve it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsZone {
    /// The zone's name, absolute with the trailing dot.
    pub name: String,
    /// Its records; a SOA and NS records are made up where the API keeps none.
    pub records: Vec<DnsRecord>,
}

impl DnsRecord {
    /// The record in the model, if it can be read.
    fn typed(&self) -> Option<Record> {
        let name = Name::parse(&self.name).ok()?;
        let rtype: RecordType = self.rtype.parse().ok()?;
        let data = RData::parse(rtype, &self.data, None).ok()?;
        Some(Record::new(name, Ttl::from_secs(self.ttl)?, data))
    }
}

impl DnsZone {
    /// The zone in the model: the records that can be read.
    pub fn typed(&self) -> Option<Zone> {
        let origin = Name::parse(&self.name).ok()?;
        Some(Zone::from_records(origin, self.records.iter().filter_map(DnsRecord::typed).collect()))
    }
}

/// The name with a trailing dot.
pub(crate) fn fqdn(name: &str) -> String {
    if name.ends_with('.') { name.to_owned() } else { format!("{name}.") }
}

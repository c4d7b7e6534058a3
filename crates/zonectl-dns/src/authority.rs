//! Zones answered with authority: hickory-server's in-memory catalog, built from typed
//! records.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use hickory_proto::rr::{LowerName, Record as DnsRecord, RecordSet, RecordType as DnsType, RrKey};
use hickory_server::net::runtime::{Time, TokioRuntimeProvider};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use zonectl_core::{Name, RData, Record, RecordType, Soa, Ttl, Zone};

use crate::convert;

/// Zones a server answers for with authority, and their records as a transfer sends them.
///
/// A zone without a SOA gets one made up, and one without apex NS records the given name
/// servers, as a provider's servers answer for zones whose API keeps neither. With an
/// address for them, each of those name servers that lies outside every zone answers with
/// that address, so that a client looking the servers up finds this one.
pub struct Authority {
    catalog: Catalog,
    transfers: HashMap<Name, Vec<DnsRecord>>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let zones: Vec<&Name> = self.transfers.keys().collect();
        f.debug_struct("Authority").field("zones", &zones).finish()
    }
}

impl Authority {
    /// The zones, completed as above.
    pub fn new(zones: &[Zone], nameservers: &[Name], nameserver_address: Option<IpAddr>) -> Authority {
        let mut catalog = Catalog::new();
        let mut transfers = HashMap::new();
        let served: Vec<&Name> = zones.iter().map(Zone::origin).collect();
        let mut outside = BTreeSet::new();
        for zone in zones {
            let records = completed(zone, nameservers);
            for record in records.iter().filter(|r| r.name == *zone.origin()) {
                if let RData::Ns(host) = &record.data
                    && !served.iter().any(|z| host.is_subdomain_of(z))
                {
                    outside.insert(host.clone());
                }
            }
            let sets = record_sets(&records);
            transfers.insert(zone.origin().clone(), transfer_order(zone.origin(), &sets));
            if let Some(handler) = handler(zone.origin(), sets) {
                catalog.upsert(handler.0, vec![Arc::new(handler.1)]);
            }
        }
        if let Some(address) = nameserver_address {
            // Each outside name server as a zone of its own holding this server's address.
            for host in outside {
                let records = vec![
                    made_up_soa(&host, &host),
                    Record::new(host.clone(), hour(), RData::Ns(host.clone())),
                    Record::new(host.clone(), hour(), RData::from(address)),
                ];
                if let Some(handler) = handler(&host, record_sets(&records)) {
                    catalog.upsert(handler.0, vec![Arc::new(handler.1)]);
                }
            }
        }
        Authority { catalog, transfers }
    }

    /// The zone's records for a transfer: its SOA first, then every other record (the caller
    /// ends the transfer with the SOA again); `None` for a zone not served.
    pub fn transfer(&self, zone: &Name) -> Option<&[DnsRecord]> {
        self.transfers.get(zone).map(Vec::as_slice)
    }

    /// The zones served.
    pub fn zones(&self) -> impl Iterator<Item = &Name> {
        self.transfers.keys()
    }
}

#[async_trait::async_trait]
impl RequestHandler for Authority {
    async fn handle_request<R: ResponseHandler, T: Time>(&self, request: &Request, response: R) -> ResponseInfo {
        self.catalog.handle_request::<R, T>(request, response).await
    }
}

fn hour() -> Ttl {
    Ttl::from_secs(3600).expect("in range")
}

/// A SOA for a zone whose provider keeps none: its first name server as the primary.
fn made_up_soa(zone: &Name, primary: &Name) -> Record {
    let rname = zone.prepend("hostmaster").unwrap_or_else(|_| zone.clone());
    let soa =
        Soa { mname: primary.clone(), rname, serial: 1, refresh: 7200, retry: 900, expire: 1_209_600, minimum: 60 };
    Record::new(zone.clone(), hour(), RData::Soa(Box::new(soa)))
}

/// The zone's records with a SOA made up where it has none, and `nameservers` where it has
/// no apex NS records.
fn completed(zone: &Zone, nameservers: &[Name]) -> Vec<Record> {
    let origin = zone.origin();
    let mut records = zone.records().to_vec();
    let at_apex =
        |records: &[Record], rtype: RecordType| records.iter().any(|r| r.name == *origin && r.rtype() == rtype);
    if !at_apex(&records, RecordType::Ns) {
        records.extend(nameservers.iter().map(|ns| Record::new(origin.clone(), hour(), RData::Ns(ns.clone()))));
    }
    if !at_apex(&records, RecordType::Soa) {
        let primary = records
            .iter()
            .find_map(|r| match &r.data {
                RData::Ns(ns) if r.name == *origin => Some(ns.clone()),
                _ => None,
            })
            .unwrap_or_else(|| Name::parse("ns.invalid.").expect("a name"));
        records.push(made_up_soa(origin, &primary));
    }
    records
}

/// The records as hickory's record sets; a record with no place in DNS is left out.
fn record_sets(records: &[Record]) -> BTreeMap<RrKey, RecordSet> {
    let mut sets: BTreeMap<RrKey, RecordSet> = BTreeMap::new();
    for record in records {
        let Some(dns) = convert::to_dns(record) else { continue };
        let key = RrKey::new(LowerName::new(&dns.name), dns.record_type());
        sets.entry(key).or_insert_with(|| RecordSet::new(dns.name.clone(), dns.record_type(), 0)).insert(dns, 0);
    }
    sets
}

/// The SOA first, then every other record.
fn transfer_order(origin: &Name, sets: &BTreeMap<RrKey, RecordSet>) -> Vec<DnsRecord> {
    let mut records: Vec<DnsRecord> =
        sets.values().flat_map(|set| set.records_without_rrsigs().cloned().collect::<Vec<_>>()).collect();
    let is_soa =
        |r: &DnsRecord| r.record_type() == DnsType::SOA && convert::name_from_dns(&r.name).as_ref() == Some(origin);
    records.sort_by_key(|r| !is_soa(r));
    records
}

type ZoneHandler = (LowerName, InMemoryZoneHandler<TokioRuntimeProvider>);

fn handler(origin: &Name, sets: BTreeMap<RrKey, RecordSet>) -> Option<ZoneHandler> {
    let name = convert::name_to_dns(origin)?;
    let zone = InMemoryZoneHandler::new(name.clone(), sets, ZoneType::Primary, AxfrPolicy::Deny).ok()?;
    Some((LowerName::new(&name), zone))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(origin: &str, lines: &[(&str, RecordType, &str)]) -> Zone {
        let origin = Name::parse(origin).unwrap();
        let records = lines
            .iter()
            .map(|(n, t, d)| {
                Record::new(
                    Name::parse_relative(n, &origin).unwrap(),
                    hour(),
                    RData::parse(*t, d, Some(&origin)).unwrap(),
                )
            })
            .collect();
        Zone::from_records(origin, records)
    }

    #[test]
    fn a_zone_without_soa_or_ns_gets_them_and_transfers_soa_first() {
        let ns = [Name::parse("ns1.provider.test.").unwrap()];
        let authority = Authority::new(&[zone("example.com", &[("www", RecordType::A, "192.0.2.1")])], &ns, None);
        let records = authority.transfer(&Name::parse("example.com").unwrap()).unwrap();
        assert_eq!(records[0].record_type(), DnsType::SOA);
        let types: BTreeSet<String> = records.iter().map(|r| r.record_type().to_string()).collect();
        assert_eq!(types, BTreeSet::from(["A".to_owned(), "NS".to_owned(), "SOA".to_owned()]));
        assert!(authority.transfer(&Name::parse("example.org").unwrap()).is_none());
    }
}

//! RFC 2136's UPDATE, evaluated against the provider's records: the prerequisites (§3.2),
//! the prescan (§3.4.1) and the four update forms (§3.4.2), applied to a copy of the zone
//! and then, all or nothing, as one plan through the engine.

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{DNSClass, RData as DnsRData, Record as DnsRecord, RecordType as DnsType};
use zonectl_core::{Name, RData, Record, RecordType, Ttl};
use zonectl_dns::convert;

/// A record of the message in the model's terms.
pub struct Entry {
    pub name: Name,
    /// The type, or `None` for ANY.
    pub rtype: Option<RecordType>,
    pub class: DNSClass,
    pub ttl: u32,
    /// The data, `None` when empty.
    pub data: Option<RData>,
}

/// Reads one record of the message, through the one conversion of records
/// (`zonectl_dns::convert`). Data the model cannot hold is REFUSED: no provider behind the
/// gateway could store it.
pub fn entry(record: &DnsRecord) -> Result<Entry, ResponseCode> {
    let name = convert::name_from_dns(&record.name).ok_or(ResponseCode::FormErr)?;
    let rtype = match record.record_type() {
        DnsType::ANY => None,
        other => Some(RecordType::from_code(u16::from(other))),
    };
    let data = match &record.data {
        DnsRData::Update0(_) => None,
        other => Some(convert::data_from_dns(record.record_type(), other).map_err(|_| ResponseCode::Refused)?),
    };
    Ok(Entry { name, rtype, class: record.dns_class, ttl: record.ttl, data })
}

fn is_meta(rtype: Option<RecordType>) -> bool {
    rtype.is_none_or(RecordType::is_meta)
}

/// §3.2: every prerequisite, against the zone as it is.
pub fn check_prerequisites(zone: &Name, records: &[Record], prerequisites: &[Entry]) -> Result<(), ResponseCode> {
    let in_use = |name: &Name| records.iter().any(|r| r.name == *name);
    let set_exists = |name: &Name, rtype: RecordType| records.iter().any(|r| r.name == *name && r.rtype() == rtype);
    // Value-dependent prerequisites, grouped by name and type.
    let mut wanted: Vec<(Name, RecordType, Vec<RData>)> = Vec::new();
    for p in prerequisites {
        if p.ttl != 0 {
            return Err(ResponseCode::FormErr);
        }
        if !p.name.is_subdomain_of(zone) {
            return Err(ResponseCode::NotZone);
        }
        match p.class {
            DNSClass::ANY | DNSClass::NONE if p.data.is_some() => return Err(ResponseCode::FormErr),
            DNSClass::ANY => match p.rtype {
                None if !in_use(&p.name) => return Err(ResponseCode::NXDomain),
                Some(t) if !set_exists(&p.name, t) => return Err(ResponseCode::NXRRSet),
                _ => {}
            },
            DNSClass::NONE => match p.rtype {
                None if in_use(&p.name) => return Err(ResponseCode::YXDomain),
                Some(t) if set_exists(&p.name, t) => return Err(ResponseCode::YXRRSet),
                _ => {}
            },
            DNSClass::IN => {
                let (Some(rtype), Some(data)) = (p.rtype, &p.data) else { return Err(ResponseCode::FormErr) };
                match wanted.iter_mut().find(|(n, t, _)| *n == p.name && *t == rtype) {
                    Some((_, _, list)) => list.push(data.clone()),
                    None => wanted.push((p.name.clone(), rtype, vec![data.clone()])),
                }
            }
            _ => return Err(ResponseCode::FormErr),
        }
    }
    for (name, rtype, mut want) in wanted {
        let mut have: Vec<RData> =
            records.iter().filter(|r| r.name == name && r.rtype() == rtype).map(|r| r.data.clone()).collect();
        want.sort();
        want.dedup();
        have.sort();
        have.dedup();
        if want != have {
            return Err(ResponseCode::NXRRSet);
        }
    }
    Ok(())
}

/// §3.4.1: every update is checked before any is applied.
pub fn prescan(zone: &Name, updates: &[Entry]) -> Result<(), ResponseCode> {
    for u in updates {
        if !u.name.is_subdomain_of(zone) {
            return Err(ResponseCode::NotZone);
        }
        let zone_transfer = |t: Option<RecordType>| t.is_some_and(|t| matches!(t.code(), Some(252..=254)));
        match u.class {
            DNSClass::IN if is_meta(u.rtype) || u.data.is_none() || Ttl::from_secs(u.ttl).is_none() => {
                return Err(ResponseCode::FormErr);
            }
            DNSClass::ANY if u.ttl != 0 || u.data.is_some() || zone_transfer(u.rtype) => {
                return Err(ResponseCode::FormErr);
            }
            DNSClass::NONE if u.ttl != 0 || is_meta(u.rtype) || u.data.is_none() => return Err(ResponseCode::FormErr),
            DNSClass::IN | DNSClass::ANY | DNSClass::NONE => {}
            _ => return Err(ResponseCode::FormErr),
        }
    }
    Ok(())
}

/// §3.4.2: the updates applied in order to `records`. The updates have passed
/// [`prescan`], which refuses every form this does not take.
pub fn apply(zone: &Name, records: &mut Vec<Record>, updates: &[Entry]) {
    let apex_protected =
        |name: &Name, rtype: RecordType| *name == *zone && matches!(rtype, RecordType::Soa | RecordType::Ns);
    for u in updates {
        match (u.class, u.rtype, &u.data) {
            (DNSClass::IN, Some(rtype), Some(data)) => {
                if rtype == RecordType::Soa {
                    // The provider owns the SOA; a client's serial has nothing to move.
                    continue;
                }
                let has_cname = records.iter().any(|r| r.name == u.name && r.rtype() == RecordType::Cname);
                let has_other = records.iter().any(|r| r.name == u.name && r.rtype() != RecordType::Cname);
                if rtype == RecordType::Cname {
                    if has_other {
                        continue;
                    }
                    records.retain(|r| !(r.name == u.name && r.rtype() == RecordType::Cname));
                } else if has_cname {
                    continue;
                }
                let Some(ttl) = Ttl::from_secs(u.ttl) else { continue };
                // A set has one TTL: the newest record's, as a duplicate's replaces it.
                for r in records.iter_mut().filter(|r| r.name == u.name && r.rtype() == rtype) {
                    r.ttl = ttl;
                }
                if !records.iter().any(|r| r.name == u.name && r.rtype() == rtype && r.data == *data) {
                    records.push(Record::new(u.name.clone(), ttl, data.clone()));
                }
            }
            (DNSClass::ANY, None, None) => {
                records.retain(|r| r.name != u.name || apex_protected(&r.name, r.rtype()));
            }
            (DNSClass::ANY, Some(rtype), None) if !apex_protected(&u.name, rtype) => {
                records.retain(|r| !(r.name == u.name && r.rtype() == rtype));
            }
            (DNSClass::NONE, Some(rtype), Some(data)) => {
                if rtype == RecordType::Soa {
                    continue;
                }
                if rtype == RecordType::Ns && u.name == *zone {
                    let apex_ns = records.iter().filter(|r| r.name == *zone && r.rtype() == RecordType::Ns).count();
                    let is_held =
                        records.iter().any(|r| r.name == *zone && r.rtype() == RecordType::Ns && r.data == *data);
                    if is_held && apex_ns <= 1 {
                        continue;
                    }
                }
                records.retain(|r| !(r.name == u.name && r.rtype() == rtype && r.data == *data));
            }
            // Refused by the prescan.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zonectl_core::Txt;

    fn name(text: &str) -> Name {
        Name::parse(text).unwrap()
    }

    fn record(n: &str, ttl: u32, data: RData) -> Record {
        Record::new(name(n), Ttl::from_secs(ttl).unwrap(), data)
    }

    fn txt(v: &str) -> RData {
        RData::Txt(Txt::from_value(v))
    }

    fn entry(n: &str, class: DNSClass, rtype: Option<RecordType>, ttl: u32, data: Option<RData>) -> Entry {
        Entry { name: name(n), rtype, class, ttl, data }
    }

    #[test]
    fn prerequisites_answer_with_the_rcodes_of_the_rfc() {
        let zone = name("example.test");
        let records = vec![record("a.example.test", 60, txt("x")), record("a.example.test", 60, txt("y"))];
        let check = |p: Vec<Entry>| check_prerequisites(&zone, &records, &p);
        assert_eq!(check(vec![entry("a.example.test", DNSClass::ANY, None, 0, None)]), Ok(()));
        assert_eq!(check(vec![entry("b.example.test", DNSClass::ANY, None, 0, None)]), Err(ResponseCode::NXDomain));
        assert_eq!(
            check(vec![entry("a.example.test", DNSClass::ANY, Some(RecordType::A), 0, None)]),
            Err(ResponseCode::NXRRSet)
        );
        assert_eq!(check(vec![entry("a.example.test", DNSClass::NONE, None, 0, None)]), Err(ResponseCode::YXDomain));
        assert_eq!(
            check(vec![entry("a.example.test", DNSClass::NONE, Some(RecordType::Txt), 0, None)]),
            Err(ResponseCode::YXRRSet)
        );
        // Value-dependent: the whole set, as a set.
        let both = vec![
            entry("a.example.test", DNSClass::IN, Some(RecordType::Txt), 0, Some(txt("y"))),
            entry("a.example.test", DNSClass::IN, Some(RecordType::Txt), 0, Some(txt("x"))),
        ];
        assert_eq!(check(both), Ok(()));
        let one = vec![entry("a.example.test", DNSClass::IN, Some(RecordType::Txt), 0, Some(txt("x")))];
        assert_eq!(check(one), Err(ResponseCode::NXRRSet));
        assert_eq!(check(vec![entry("a.example.org", DNSClass::ANY, None, 0, None)]), Err(ResponseCode::NotZone));
        assert_eq!(check(vec![entry("a.example.test", DNSClass::ANY, None, 5, None)]), Err(ResponseCode::FormErr));
    }

    #[test]
    fn updates_follow_section_3_4_2() {
        let zone = name("example.test");
        let mut records = vec![
            record("example.test", 3600, RData::Ns(name("ns1.example.test"))),
            record("www.example.test", 300, RData::A("192.0.2.1".parse().unwrap())),
            record("alias.example.test", 300, RData::Cname(name("www.example.test"))),
        ];
        let updates = vec![
            // A CNAME beside other data, and data beside a CNAME: ignored.
            entry("www.example.test", DNSClass::IN, Some(RecordType::Cname), 60, Some(RData::Cname(name("x.test")))),
            entry("alias.example.test", DNSClass::IN, Some(RecordType::Txt), 60, Some(txt("no"))),
            // A duplicate replaces the TTL.
            entry(
                "www.example.test",
                DNSClass::IN,
                Some(RecordType::A),
                120,
                Some(RData::A("192.0.2.1".parse().unwrap())),
            ),
            // The last apex NS stays; an absent record's delete is ignored.
            entry("example.test", DNSClass::NONE, Some(RecordType::Ns), 0, Some(RData::Ns(name("ns1.example.test")))),
            entry("gone.example.test", DNSClass::NONE, Some(RecordType::Txt), 0, Some(txt("v"))),
            entry("example.test", DNSClass::ANY, None, 0, None),
        ];
        prescan(&zone, &updates).unwrap();
        apply(&zone, &mut records, &updates);
        assert_eq!(records.len(), 3);
        assert_eq!(records[1].ttl.as_secs(), 120);
        assert_eq!(records[2].data, RData::Cname(name("www.example.test")));
        assert_eq!(records[0].rtype(), RecordType::Ns);
        assert_eq!(
            prescan(&zone, &[entry("x.example.test", DNSClass::ANY, Some(RecordType::A), 60, None)]),
            Err(ResponseCode::FormErr)
        );
        assert_eq!(
            prescan(&zone, &[entry("x.example.test", DNSClass::IN, None, 60, None)]),
            Err(ResponseCode::FormErr)
        );
    }
}

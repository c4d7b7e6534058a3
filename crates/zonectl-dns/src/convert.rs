//! The one conversion between the model's records and hickory-proto's: through the wire
//! form of the data, which both sides read and write as the RFCs define it.

use hickory_proto::rr::{Name as DnsName, RData as DnsRData, Record as DnsRecord, RecordType as DnsType};
use hickory_proto::serialize::binary::{BinDecoder, BinEncodable, BinEncoder, Restrict};
use zonectl_core::{Name, RData, Record, RecordType, Ttl};

/// A model name as hickory's.
pub fn name_to_dns(name: &Name) -> Option<DnsName> {
    DnsName::from_ascii(name.as_str()).ok()
}

/// A hickory name as the model's: `None` for one the model refuses (over-long, empty label).
pub fn name_from_dns(name: &DnsName) -> Option<Name> {
    Name::parse(&name.to_ascii()).ok()
}

/// The record as hickory's, class IN; `None` for data with no place in DNS (`URL`) or
/// that hickory cannot read.
pub fn to_dns(record: &Record) -> Option<DnsRecord> {
    let wire = record.data.to_wire()?;
    let rtype = DnsType::from(record.rtype().code()?);
    let mut decoder = BinDecoder::new(&wire);
    let length = Restrict::new(u16::try_from(wire.len()).ok()?);
    let data = DnsRData::read(&mut decoder, rtype, length).ok()?;
    if !decoder.is_empty() {
        return None;
    }
    Some(DnsRecord::from_rdata(name_to_dns(&record.name)?, record.ttl.as_secs(), data))
}

/// Hickory's data as the model's, for a record of `rtype`.
pub fn data_from_dns(rtype: DnsType, data: &DnsRData) -> Result<RData, String> {
    let mut wire = Vec::with_capacity(64);
    let mut encoder = BinEncoder::new(&mut wire);
    // Names in the data stay whole (a message's compression is no part of the data).
    encoder.set_canonical_form(true);
    data.emit(&mut encoder).map_err(|e| format!("{rtype} data cannot be written: {e}"))?;
    RData::from_wire(RecordType::from_code(u16::from(rtype)), &wire).map_err(|e| e.to_string())
}

/// Hickory's record as the model's.
pub fn from_dns(record: &DnsRecord) -> Result<Record, String> {
    let name = name_from_dns(&record.name).ok_or_else(|| format!("'{}' is not a name zonectl takes", record.name))?;
    let ttl = Ttl::from_secs(record.ttl).ok_or_else(|| format!("{name}: TTL {} is out of range", record.ttl))?;
    Ok(Record::new(name, ttl, data_from_dns(record.record_type(), &record.data)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, ttl: u32, rtype: RecordType, text: &str) -> Record {
        Record::new(Name::parse(name).unwrap(), Ttl::from_secs(ttl).unwrap(), RData::parse(rtype, text, None).unwrap())
    }

    #[test]
    fn records_cross_to_hickory_and_back_unchanged() {
        for r in [
            record("example.com.", 3600, RecordType::Soa, "ns1.example.com. h.example.com. 7 7200 900 1209600 300"),
            record("example.com.", 300, RecordType::Mx, "10 mail.example.com."),
            record("_sip._tcp.example.com.", 60, RecordType::Srv, "0 5 5060 ."),
            record("t.example.com.", 60, RecordType::Txt, "\"a;b\" \"c\\\"d\" \"\""),
            record("example.com.", 60, RecordType::Caa, "128 issue \"ca.example; account=1\""),
            record("x.example.com.", 60, RecordType::Sshfp, "4 2 00ff"),
            record("_443._tcp.example.com.", 60, RecordType::Tlsa, "3 1 1 abcd"),
            record("sub.example.com.", 60, RecordType::Ds, "1 8 2 00112233"),
            record("x.example.com.", 60, RecordType::from_code(65534), "\\# 2 0102"),
            record("x.example.com.", 60, RecordType::Aaaa, "2001:db8::1"),
        ] {
            let dns = to_dns(&r).unwrap_or_else(|| panic!("{r}"));
            assert_eq!(dns.ttl, r.ttl.as_secs());
            assert_eq!(from_dns(&dns).unwrap(), r, "{r}");
        }
    }

    #[test]
    fn hickory_reads_the_data_as_the_rfc_has_it() {
        let mx = to_dns(&record("example.com.", 300, RecordType::Mx, "10 mail.example.com.")).unwrap();
        match &mx.data {
            DnsRData::MX(mx) => {
                assert_eq!(mx.preference, 10);
                assert_eq!(mx.exchange.to_ascii(), "mail.example.com.");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn forwards_have_no_place_in_dns() {
        let url = Record::new(
            Name::parse("www.example.com.").unwrap(),
            Ttl::from_secs(60).unwrap(),
            RData::parse(RecordType::Url, "301 \"https://example.org/\"", None).unwrap(),
        );
        assert!(to_dns(&url).is_none());
    }
}

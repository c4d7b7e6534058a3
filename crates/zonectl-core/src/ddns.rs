//! Dynamic DNS, written once for `zonectl ddns` and `serve`'s dyndns2: which addresses a
//! name may be pointed at, and the edit that points it there.

use std::net::IpAddr;

use crate::edit::Op;
use crate::name::Name;
use crate::rdata::RData;
use crate::rtype::RecordType;
use crate::ttl::Ttl;

/// Why `address` cannot be a name's address on the Internet, if it cannot: an address no
/// other host reaches this one at (unspecified, loopback, link-local), or one that names
/// a group (multicast, broadcast). Private ranges are fit: home networks use them.
pub fn unfit(address: IpAddr) -> Option<&'static str> {
    match address.to_canonical() {
        IpAddr::V4(a) if a.is_unspecified() => Some("unspecified"),
        IpAddr::V4(a) if a.is_loopback() => Some("a loopback address"),
        IpAddr::V4(a) if a.is_link_local() => Some("link-local"),
        IpAddr::V4(a) if a.is_multicast() => Some("multicast"),
        IpAddr::V4(a) if a.is_broadcast() => Some("the broadcast address"),
        IpAddr::V6(a) if a.is_unspecified() => Some("unspecified"),
        IpAddr::V6(a) if a.is_loopback() => Some("a loopback address"),
        IpAddr::V6(a) if a.is_unicast_link_local() => Some("link-local"),
        IpAddr::V6(a) if a.is_multicast() => Some("multicast"),
        _ => None,
    }
}

/// The record type an address goes in.
pub fn family(address: IpAddr) -> RecordType {
    if address.to_canonical().is_ipv4() { RecordType::A } else { RecordType::Aaaa }
}

/// The edit that makes `name`'s A and AAAA sets hold `addresses`: one set replaced per
/// family given (a family not given is left alone), keeping the set's TTL unless `ttl` is
/// given.
pub fn ops(name: &Name, addresses: &[IpAddr], ttl: Option<Ttl>) -> Vec<Op> {
    [RecordType::A, RecordType::Aaaa]
        .into_iter()
        .filter_map(|rtype| {
            let mut data: Vec<RData> =
                addresses.iter().filter(|a| family(**a) == rtype).map(|a| RData::from(a.to_canonical())).collect();
            data.sort();
            data.dedup();
            (!data.is_empty()).then(|| Op::Replace { name: name.clone(), rtype, data, ttl })
        })
        .collect()
}

impl From<IpAddr> for RData {
    fn from(address: IpAddr) -> RData {
        match address {
            IpAddr::V4(a) => RData::A(a),
            IpAddr::V6(a) => RData::Aaaa(a),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_no_one_reaches_us_at_are_unfit_private_ones_are_not() {
        for (text, why) in [
            ("0.0.0.0", "unspecified"),
            ("127.0.0.1", "a loopback address"),
            ("::1", "a loopback address"),
            ("::ffff:127.0.0.1", "a loopback address"),
            ("169.254.1.1", "link-local"),
            ("fe80::1", "link-local"),
            ("224.0.0.1", "multicast"),
            ("ff02::1", "multicast"),
            ("255.255.255.255", "the broadcast address"),
        ] {
            assert_eq!(unfit(text.parse().unwrap()), Some(why), "{text}");
        }
        for fit in ["192.168.1.10", "10.0.0.1", "203.0.113.7", "2001:db8::7", "fd00::1"] {
            assert_eq!(unfit(fit.parse().unwrap()), None, "{fit}");
        }
    }

    #[test]
    fn one_set_per_family_given() {
        let name = Name::parse("home.example.com").unwrap();
        let addresses: Vec<IpAddr> =
            ["192.0.2.1", "::ffff:192.0.2.2", "2001:db8::1"].map(|a| a.parse().unwrap()).into();
        let ops = ops(&name, &addresses, None);
        assert_eq!(ops.len(), 2);
        match &ops[0] {
            Op::Replace { rtype: RecordType::A, data, .. } => assert_eq!(data.len(), 2, "a mapped v4 is v4"),
            other => panic!("{other:?}"),
        }
        assert!(ddns_v4_only(&name).iter().all(|op| matches!(op, Op::Replace { rtype: RecordType::A, .. })));
    }

    fn ddns_v4_only(name: &Name) -> Vec<Op> {
        ops(name, &["192.0.2.1".parse().unwrap()], None)
    }
}

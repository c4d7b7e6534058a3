//! Deterministic zones for benchmarks and tests.
//!
//! The same `(records, seed)` always gives the same zone with the locked dependencies: the
//! generator draws from a seeded `fastrand` generator.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::name::Name;
use crate::rdata::{Caa, RData, Soa, Txt};
use crate::record::{Record, Zone};
use crate::rtype::RecordType;
use crate::ttl::Ttl;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The zone's origin.
    pub origin: Name,
    /// About how many records (record sets hold 1 to 3).
    pub records: usize,
    /// The PRNG seed.
    pub seed: u64,
    /// Include `URL` records, which are zonectl's own and which BIND cannot read.
    pub url_records: bool,
}

impl Spec {
    /// `records` records in `bench.example.`, seed 1, with URL records.
    pub fn new(records: usize) -> Spec {
        Spec { origin: Name::parse("bench.example").expect("valid"), records, seed: 1, url_records: true }
    }
}

/// The seeded generator, with the two draws the generator needs.
struct Rng(fastrand::Rng);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(fastrand::Rng::with_seed(seed))
    }

    fn next(&mut self) -> u64 {
        self.0.u64(..)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0.u64(..n)
    }

    fn bytes(&mut self, n: usize) -> Box<[u8]> {
        (0..n).map(|_| self.0.u8(..)).collect()
    }
}

const TTLS: [u32; 6] = [60, 300, 600, 3600, 3600, 86400];
const WORDS: [&str; 8] = ["web", "api", "mail", "db", "cdn", "eu-west", "us_east", "xn--bcher-kva"];

/// Generates a zone: SOA and NS at the apex, then record sets of every modeled type (and
/// an RFC 3597 one) at names one to four labels deep, with varying TTLs and long TXT
/// values holding quotes, backslashes and semicolons.
pub fn zone(spec: &Spec) -> Zone {
    let mut rng = Rng::new(spec.seed);
    let origin = &spec.origin;
    let name = |label: &str| Name::parse_relative(label, origin).expect("generated names are valid");
    let ttl = |secs: u32| Ttl::from_secs(secs).expect("in range");
    let mut records = Vec::with_capacity(spec.records + 8);
    records.push(Record::new(
        origin.clone(),
        ttl(3600),
        RData::Soa(Box::new(Soa {
            mname: name("ns1"),
            rname: name("hostmaster"),
            serial: 2026112201,
            refresh: 7200,
            retry: 900,
            expire: 1_209_600,
            minimum: 300,
        })),
    ));
    for (i, ns) in ["ns1", "ns2"].into_iter().enumerate() {
        records.push(Record::new(origin.clone(), ttl(86400), RData::Ns(name(ns))));
        // In-zone name servers need addresses, or BIND refuses the zone.
        records.push(Record::new(name(ns), ttl(86400), RData::A(Ipv4Addr::new(192, 0, 2, 53 + i as u8))));
    }
    let kinds = if spec.url_records { 15 } else { 14 };
    let mut i = 0u64;
    while records.len() < spec.records {
        i += 1;
        let depth = 1 + rng.below(4);
        let mut owner = format!("h{i}");
        for _ in 1..depth {
            owner.push('.');
            owner.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
        }
        let set_ttl = ttl(TTLS[rng.below(TTLS.len() as u64) as usize]);
        let kind = rng.below(kinds);
        let size = if kind < 3 { 1 + rng.below(3) } else { 1 };
        for j in 0..size {
            let data = match kind {
                0 => RData::A(Ipv4Addr::from(rng.next() as u32)),
                1 => RData::Aaaa(Ipv6Addr::from(u128::from(rng.next()) << 64 | u128::from(rng.next()))),
                2 => RData::Txt(txt(&mut rng, i, j)),
                3 => RData::Cname(name(&format!("target{}.{}", rng.below(1000), WORDS[(i % 8) as usize]))),
                4 => RData::Mx {
                    preference: (rng.below(5) * 10) as u16,
                    exchange: name(&format!("mx{}", rng.below(100))),
                },
                5 => {
                    owner = format!("_sip._tcp.{owner}");
                    RData::Srv {
                        priority: 10,
                        weight: rng.below(100) as u16,
                        port: 5060,
                        target: name(&format!("sip{}", rng.below(50))),
                    }
                }
                6 => RData::Caa(Box::new(Caa {
                    flags: 0,
                    tag: "issue".into(),
                    value: b"letsencrypt.org".to_vec().into(),
                })),
                7 => RData::Sshfp { algorithm: 4, fp_type: 2, fingerprint: rng.bytes(32) },
                8 => {
                    owner = format!("_443._tcp.{owner}");
                    RData::Tlsa { usage: 3, selector: 1, matching_type: 1, data: rng.bytes(32) }
                }
                9 => {
                    owner = format!("zone{i}");
                    records.push(Record::new(name(&owner), set_ttl, RData::Ns(name("ns1"))));
                    RData::Ds { key_tag: rng.below(65536) as u16, algorithm: 13, digest_type: 2, digest: rng.bytes(32) }
                }
                10 => RData::Ptr(name(&format!("host{}.example.net.", rng.below(1000)))),
                11 => RData::Unknown { rtype: 65534, data: rng.bytes(3) },
                12 => RData::Txt(Txt::from_value(format!("v=spf1 include:_spf{i}.example.net ~all"))),
                13 => RData::Txt(Txt::from_strings(["k=rsa; p=\"quoted\" \\ back", "second string"])),
                _ => RData::Url {
                    kind: crate::rdata::Forward::Permanent,
                    target: format!("https://example.org/r/{i}").into(),
                },
            };
            records.push(Record::new(name(&owner), set_ttl, data));
        }
    }
    Zone::from_records(origin.clone(), records)
}

/// `zone` with about `percent`% of its records touched, a third each dropped, changed
/// (TTL), and added (new names), as a plan benchmark's "current" side.
pub fn mutate(zone: &Zone, percent: f64, seed: u64) -> Zone {
    let mut rng = Rng::new(seed);
    let per_mille = (percent * 10.0 / 3.0) as u64;
    let mut records = Vec::with_capacity(zone.len() + zone.len() / 100);
    let mut added = 0u64;
    for r in zone.records() {
        if r.rtype() == RecordType::Soa || r.rtype() == RecordType::Ns {
            records.push(r.clone());
            continue;
        }
        match rng.below(1000) {
            n if n < per_mille => {}
            n if n < 2 * per_mille => {
                let mut changed = r.clone();
                changed.ttl = Ttl::from_secs(r.ttl.as_secs() + 1).expect("in range");
                records.push(changed);
            }
            _ => records.push(r.clone()),
        }
        if rng.below(1000) < per_mille {
            added += 1;
            let name = Name::parse_relative(&format!("added{added}"), zone.origin()).expect("valid");
            records.push(Record::new(
                name,
                Ttl::from_secs(300).expect("in range"),
                RData::A(Ipv4Addr::from(rng.next() as u32)),
            ));
        }
    }
    Zone::from_records(zone.origin().clone(), records)
}

fn txt(rng: &mut Rng, i: u64, j: u64) -> Txt {
    match rng.below(4) {
        // Longer than one character-string: split at 255.
        0 => Txt::from_value(format!(
            "v=DKIM1; k=rsa; p={}{j}",
            "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA".repeat(8)
        )),
        1 => Txt::from_strings([format!("part one {i}"), format!("part \"two\" {j}")]),
        2 => Txt::from_value(format!("semi;colon back\\slash {i}-{j}")),
        _ => Txt::from_value(format!("google-site-verification={i}x{j}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_deterministic_and_covers_every_type() {
        let a = zone(&Spec::new(3000));
        let b = zone(&Spec::new(3000));
        assert_eq!(a, b);
        assert!(a.len() >= 3000);
        let types: std::collections::BTreeSet<_> = a.records().iter().map(Record::rtype).collect();
        for t in crate::rtype::RecordType::MODELED {
            assert!(types.contains(&t), "{t} missing");
        }
        assert!(types.contains(&crate::rtype::RecordType::Other(65534)));
        assert_ne!(zone(&Spec { seed: 2, ..Spec::new(3000) }), a);
    }

    #[test]
    fn mutate_touches_about_the_share_asked() {
        let a = zone(&Spec::new(30_000));
        let b = mutate(&a, 1.0, 7);
        let (in_a, in_b): (std::collections::HashSet<_>, std::collections::HashSet<_>) =
            (a.records().iter().collect(), b.records().iter().collect());
        let differing = in_a.symmetric_difference(&in_b).count();
        // Dropped and added records differ once, changed ones twice: about 1.33% of a.
        assert!((250..550).contains(&differing), "{differing}");
    }
}

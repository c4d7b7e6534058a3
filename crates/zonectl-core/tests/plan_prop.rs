//! Property: for generated zones a and b, applying plan(a → b) to a provider holding a
//! leaves it holding b, and plan(b → b) is empty — for every built-in provider.

use proptest::prelude::*;
use zonectl_core::conformance::{assert_converged, sync};
use zonectl_core::generate::{Spec, zone};
use zonectl_core::plan::PlanOptions;
use zonectl_core::provider::memory::InMemory;
use zonectl_core::provider::zonefile::ZoneFiles;
use zonectl_core::provider::{Provider, UpdateStyle};
use zonectl_core::{Name, RecordType, Ttl, Zone};

/// b: a with some records dropped, some TTLs changed, and records of another generated
/// zone added under a label of their own (so no CNAME lands beside other data).
fn derive(a: &Zone, drop_mask: u64, ttl_mask: u64, seed: u64, extra: usize) -> Zone {
    let mut records: Vec<_> = a
        .records()
        .iter()
        .enumerate()
        .filter(|(i, r)| r.rtype() == RecordType::Soa || drop_mask >> (i % 64) & 1 == 0)
        .map(|(i, r)| {
            let mut r = r.clone();
            if ttl_mask >> (i % 64) & 1 == 1 {
                r.ttl = Ttl::from_secs(r.ttl.as_secs() + 60).unwrap();
            }
            r
        })
        .collect();
    let other = zone(&Spec { seed, ..Spec::new(extra) });
    for mut r in other.into_records() {
        if r.name == *a.origin() {
            continue;
        }
        let relative = r.name.relative_to(a.origin()).into_owned();
        r.name = Name::parse_relative(&format!("{relative}.new"), a.origin()).unwrap();
        records.push(r);
    }
    Zone::from_records(a.origin().clone(), records)
}

async fn check(provider: &dyn Provider, a: &Zone, b: &Zone) {
    sync(provider, a, &PlanOptions::default()).await;
    sync(provider, b, &PlanOptions::default()).await;
    assert_converged(provider, b, &PlanOptions::default()).await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn applying_a_plan_yields_the_desired_zone(
        seed_a in 0u64..1000, size in 5usize..60, drop_mask: u64, ttl_mask: u64, seed_b in 0u64..1000, extra in 0usize..30,
    ) {
        let a = zone(&Spec { seed: seed_a, ..Spec::new(size) });
        let b = derive(&a, drop_mask, ttl_mask, seed_b, extra);
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            for style in [UpdateStyle::RecordSet, UpdateStyle::PerRecord, UpdateStyle::RemoveAdd] {
                let memory = InMemory::with_style("memory", style);
                memory.put_zone(&Zone::new(a.origin().clone()));
                check(&memory, &a, &b).await;
            }
            let dir = tempfile::tempdir().unwrap();
            check(&ZoneFiles::new("files", dir.path()), &a, &b).await;
        });
    }
}

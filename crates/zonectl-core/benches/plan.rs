//! Planning a generated zone against a provider holding it with about 1% of records
//! dropped, changed and added: the engine alone (both zones already in memory), and the
//! whole of `zonectl plan`'s work against a `zonefile` target (reading both files); and the
//! apply of a plan that changes every record set of a `zonefile` target (about a third of the
//! records dropped, changed and added), which must grow with the zone, not its square.

use criterion::{Criterion, criterion_group, criterion_main};
use zonectl_core::generate::{Spec, mutate, zone};
use zonectl_core::plan::{PlanOptions, plan};
use zonectl_core::provider::zonefile::ZoneFiles;
use zonectl_core::provider::{Existing, Provider};
use zonectl_core::zonefile::{self, ReadOptions};

fn plan_benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    for records in [100_000usize, 1_000_000] {
        let desired = zone(&Spec::new(records));
        let current = mutate(&desired, 1.0, 2);
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("desired.zone");
        std::fs::write(&source, zonefile::to_string(&desired)).unwrap();
        let target = ZoneFiles::new("bench", dir.path().join("live"));
        std::fs::create_dir(dir.path().join("live")).unwrap();
        std::fs::write(target.path_of(desired.origin()), zonefile::to_string(&current)).unwrap();
        let existing: Vec<Existing> = current.records().iter().cloned().map(Existing::from).collect();

        let mut group = c.benchmark_group(format!("plan/{records}"));
        group.sample_size(10);
        group.bench_function("engine", |b| {
            b.iter_batched(
                || existing.clone(),
                |existing| plan("bench", target.capabilities(), &desired, existing, &PlanOptions::default()).unwrap(),
                criterion::BatchSize::LargeInput,
            )
        });
        group.bench_function("read_both_and_plan", |b| {
            b.iter(|| {
                let options = ReadOptions { origin: Some(desired.origin().clone()), ..ReadOptions::default() };
                let wanted = zonefile::read_file(&source, &options).unwrap().zone;
                let held = runtime.block_on(target.list_records(wanted.origin())).unwrap();
                plan("bench", target.capabilities(), &wanted, held, &PlanOptions::default()).unwrap()
            })
        });
        group.finish();

        // Every set touched: one read, an in-memory merge, one atomic write.
        let before = mutate(&desired, 100.0, 3);
        let held: Vec<Existing> = before.records().iter().cloned().map(Existing::from).collect();
        let planned = plan("bench", target.capabilities(), &desired, held, &PlanOptions::default()).unwrap();
        let live = target.path_of(desired.origin());
        let before_text = zonefile::to_string(&before);
        let mut group = c.benchmark_group(format!("apply/{records}"));
        group.sample_size(10);
        group.throughput(criterion::Throughput::Elements(planned.operations.len() as u64));
        group.bench_function("zonefile", |b| {
            b.iter_batched(
                || std::fs::write(&live, &before_text).unwrap(),
                |()| {
                    let report = runtime.block_on(target.apply(desired.origin(), &planned.operations));
                    assert!(report.is_complete(), "the apply failed");
                },
                criterion::BatchSize::PerIteration,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, plan_benches);
criterion_main!(benches);

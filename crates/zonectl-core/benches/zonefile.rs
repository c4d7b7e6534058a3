//! Parse, check and write generated zones of 100k and 1M records.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use zonectl_core::generate::{Spec, zone};
use zonectl_core::zonefile::{self, ReadOptions};

fn zonefile_benches(c: &mut Criterion) {
    for records in [100_000usize, 1_000_000] {
        let generated = zone(&Spec::new(records));
        let text = zonefile::to_string(&generated);
        let options = ReadOptions { origin: Some(generated.origin().clone()), ..ReadOptions::default() };
        let mut group = c.benchmark_group(format!("zonefile/{records}"));
        group.sample_size(10);
        group.throughput(Throughput::Elements(generated.len() as u64));
        group.bench_function("read_and_check", |b| {
            b.iter(|| zonefile::read_str(&text, "bench.zone", &options).expect("generated zones are valid"))
        });
        group.bench_function("write", |b| {
            b.iter_batched_ref(
                || Vec::with_capacity(text.len()),
                |out| zonefile::write(&generated, out),
                BatchSize::LargeInput,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, zonefile_benches);
criterion_main!(benches);

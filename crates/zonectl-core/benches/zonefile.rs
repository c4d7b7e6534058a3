//! Parse, check and write generated zones of 100k and 1M records, sorted and shuffled.

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
        // The same records in random order, as a zone edited by hand for years (or written
        // by another tool) comes: the check must not depend on sorted input.
        let shuffled = shuffle_lines(&text);
        group.bench_function("read_and_check_shuffled", |b| {
            b.iter(|| zonefile::read_str(&shuffled, "bench.zone", &options).expect("generated zones are valid"))
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

/// The record lines in a fixed pseudo-random order (Fisher-Yates driven by xorshift64: no
/// need for a dependency, and every run measures the same order); directives stay first.
fn shuffle_lines(text: &str) -> String {
    let (directives, mut records): (Vec<&str>, Vec<&str>) = text.lines().partition(|l| l.starts_with('$'));
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for i in (1..records.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        records.swap(i, (state % (i as u64 + 1)) as usize);
    }
    let mut out = directives.join("\n");
    for line in records {
        out.push('\n');
        out.push_str(line);
    }
    out.push('\n');
    out
}

criterion_group!(benches, zonefile_benches);
criterion_main!(benches);

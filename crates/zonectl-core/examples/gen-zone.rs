//! Writes a generated zone to stdout: `gen-zone RECORDS [SEED] [--no-url] [--mutate PERCENT]`.
//! `--mutate 1` writes the same zone with about 1% of records dropped, changed and added.
//! Used to compare `zonectl check` with `named-checkzone` on the same files.

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let records = args
        .first()
        .and_then(|a| a.parse().ok())
        .expect("usage: gen-zone RECORDS [SEED] [--no-url] [--mutate PERCENT]");
    let seed = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    let mut spec = zonectl_core::generate::Spec::new(records);
    spec.seed = seed;
    spec.url_records = !args.iter().any(|a| a == "--no-url");
    let mut zone = zonectl_core::generate::zone(&spec);
    if let Some(at) = args.iter().position(|a| a == "--mutate") {
        let percent = args.get(at + 1).and_then(|p| p.parse().ok()).expect("--mutate PERCENT");
        zone = zonectl_core::generate::mutate(&zone, percent, seed + 1);
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    zonectl_core::zonefile::write(&zone, &mut out).expect("write to stdout");
    out.flush().expect("write to stdout");
}

//! A seeded mutation test of the zone-file reader, on stable Rust: thousands of files made
//! from the corpus (other projects' zone files and ours) by flipping, cutting, repeating
//! and splicing bytes and lines. A zone file is untrusted input (a pull request): whatever
//! it holds, the reader answers — a zone or errors — without a panic, and within its record
//! budget. The seed is fixed, so a failure repeats; `ZONECTL_MUTATION_SEED` tries others.

use std::path::Path;

use zonectl_core::zonefile::{self, ReadOptions};

/// xorshift64*: small, seedable, good enough to choose mutations.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Every zone file of the corpora, as bytes.
fn seeds() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [root.join("tests/zonefiles"), root.join("../zonectl/tests/corpus")] {
        let mut stack = vec![dir];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "zone" || e == "db" || e == "txt") {
                    files.push(std::fs::read(&path).unwrap());
                }
            }
        }
    }
    files
}

/// Pieces that reach the reader's corners.
const SPLICES: &[&[u8]] = &[
    b"$GENERATE 1-100000 h$ A 10.0.0.1\n",
    b"$GENERATE 0-4294967295 h$ A 10.0.0.1\n",
    b"$INCLUDE /etc/passwd\n",
    b"$INCLUDE .\n",
    b"$ORIGIN .\n",
    b"$TTL 4294967295\n",
    b"( ( ( (\n",
    b")\n",
    b"\"unterminated\n",
    b"\\# 65535 00\n",
    b"@ IN TYPE65535 \\# 3 abcdef\n",
    b"x IN TXT \"\\999\\\"\" ;\n",
    b"\\000\\.\\\\. IN A 192.0.2.1\n",
    b"*.* IN CNAME *.\n",
    b"a IN LOC 90 59 59.999 N 180 0 0 W -100000m 90000000m\n",
    b"a IN SVCB 65535 . key65535=\"x\" mandatory=key65535\n",
];

fn mutate(dice: &mut Dice, seed: &[u8]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..1 + dice.below(4) {
        match dice.below(7) {
            0 if !bytes.is_empty() => {
                let at = dice.below(bytes.len());
                bytes[at] = dice.next() as u8;
            }
            1 if !bytes.is_empty() => bytes.truncate(dice.below(bytes.len())),
            2 => {
                let piece = SPLICES[dice.below(SPLICES.len())];
                let at = dice.below(bytes.len() + 1);
                bytes.splice(at..at, piece.iter().copied());
            }
            3 if !bytes.is_empty() => {
                // A run of the file repeated: long lines, many records.
                let from = dice.below(bytes.len());
                let to = (from + dice.below(200)).min(bytes.len());
                let run = bytes[from..to].to_vec();
                for _ in 0..dice.below(50) {
                    bytes.splice(to..to, run.iter().copied());
                }
            }
            4 if !bytes.is_empty() => {
                let at = dice.below(bytes.len());
                bytes.insert(at, b"()\";\\$@\t\n\r"[dice.below(10)]);
            }
            5 => {
                let at = dice.below(bytes.len() + 1);
                bytes.splice(at..at, (0..dice.below(64)).map(|_| dice.next() as u8));
            }
            _ if !bytes.is_empty() => {
                let at = dice.below(bytes.len());
                bytes.remove(at);
            }
            _ => {}
        }
    }
    bytes
}

#[test]
fn mutated_zone_files_get_answers_not_panics() {
    let seeds = seeds();
    assert!(seeds.len() >= 20, "the corpora are missing: {}", seeds.len());
    let seed = std::env::var("ZONECTL_MUTATION_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_2026u64);
    let mut dice = Dice(seed | 1);
    let dir = tempfile::tempdir().unwrap();
    let budget = 20_000;
    let (mut read, mut refused) = (0, 0);
    for case in 0..4000 {
        let pick = dice.below(seeds.len());
        let input = mutate(&mut dice, &seeds[pick]);
        let options =
            ReadOptions { origin: Some("example.com".parse().unwrap()), max_records: budget, ..ReadOptions::default() };
        // Through a file (so `$INCLUDE` resolves next to it) or as text.
        let outcome = std::panic::catch_unwind(|| {
            if case % 2 == 0 {
                let path = dir.path().join("case.zone");
                std::fs::write(&path, &input).unwrap();
                zonefile::read_file(&path, &options)
            } else {
                zonefile::read_str(&String::from_utf8_lossy(&input), dir.path().join("case.zone"), &options)
            }
        });
        match outcome {
            Ok(Ok(loaded)) => {
                read += 1;
                assert!(loaded.zone.len() <= budget, "case {case}: {} records past the budget", loaded.zone.len());
                // What was read writes, and reads back.
                let text = zonefile::to_string(&loaded.zone);
                let again = zonefile::read_str(&text, "again.zone", &options);
                assert!(again.is_ok(), "case {case}: the written zone does not read back: {again:?}\n{text}");
            }
            Ok(Err(error)) => {
                refused += 1;
                assert!(!error.diagnostics.is_empty(), "case {case}: an error without a diagnostic");
            }
            Err(_) => {
                let kept = dir.path().join(format!("panic-{case}.zone"));
                std::fs::write(&kept, &input).unwrap();
                panic!("case {case} (seed {seed}) panicked; input {}", String::from_utf8_lossy(&input));
            }
        }
    }
    // Both sides were reached: the mutations are neither all harmless nor all fatal.
    assert!(read > 200 && refused > 200, "{read} read, {refused} refused");
    eprintln!("4000 mutated files: {read} read, {refused} refused with diagnostics");
}

//! Zone files from other projects' test suites (`tests/corpus/`, each file's source in
//! `tests/corpus/SOURCES.tsv`), read as a new user would meet them:
//!
//! - where BIND's `named-checkzone` and Knot's `kzonecheck` give the same verdict on a
//!   file, `zonectl check --strict` (the servers' rule: a zone needs its SOA and NS) gives
//!   it too;
//! - where zonectl and BIND both accept a file, `zonectl fmt` keeps its meaning: BIND reads
//!   the formatted file as the same records (`named-checkzone -D`, compared line by line).
//!
//! Files on which the two servers disagree are still read, and must not crash zonectl.

#[allow(dead_code)]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::pebble::have;

/// Files where BIND and Knot agree but zonectl does not, with the reason. Each must
/// still differ: a fix shows up as a failure here, and the entry is removed.
/// Empty since SVCB and HTTPS are read here rather than by `domain` (whose reader refused
/// `key9999` and escaped commas in `alpn`, in BIND's own `good-svcb.db`).
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

struct Entry {
    file: PathBuf,
    shown: String,
    origin: String,
}

fn corpus() -> Vec<Entry> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let sources = std::fs::read_to_string(dir.join("SOURCES.tsv")).unwrap();
    sources
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let fields: Vec<&str> = l.split('\t').collect();
            assert_eq!(fields.len(), 5, "SOURCES.tsv: {l}");
            Entry { file: dir.join(fields[0]), shown: fields[0].to_owned(), origin: fields[1].to_owned() }
        })
        .collect()
}

fn accepted(program: &str, args: &[&str], file: &Path) -> bool {
    let out = Command::new(program).args(args).arg(file).output().unwrap();
    out.status.success()
}

fn zonectl(args: &[&str], file: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zonectl")).args(args).arg(file).output().unwrap()
}

/// `named-checkzone -D` of a file: its records in BIND's canonical form, sorted. Owner
/// names are lower-cased: BIND prints them as written, zonectl keeps names in lower case,
/// and DNS compares them without case.
fn bind_dump(origin: &str, file: &Path) -> Option<Vec<String>> {
    let out = Command::new("named-checkzone").args(["-q", "-D", "-o", "-", origin]).arg(file).output().unwrap();
    if !out.status.success() {
        return None;
    }
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let mut fields: Vec<String> = l.split_whitespace().map(str::to_owned).collect();
            if let Some(owner) = fields.first_mut() {
                owner.make_ascii_lowercase();
            }
            fields.join(" ")
        })
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort();
    Some(lines)
}

#[test]
fn verdicts_and_meaning_agree_with_bind_and_knot() {
    if !have(&["named-checkzone", "kzonecheck"]) {
        return;
    }
    let entries = corpus();
    assert!(entries.len() >= 39, "the corpus is missing files: {}", entries.len());
    let scratch = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    let (mut agreed, mut compared) = (0, 0);
    for entry in &entries {
        let origin = entry.origin.as_str();
        let bind = accepted("named-checkzone", &["-q", origin], &entry.file);
        let knot = accepted("kzonecheck", &["-o", origin], &entry.file);
        let ours = zonectl(&["check", "--strict", "--origin", origin], &entry.file);
        let stderr = String::from_utf8_lossy(&ours.stderr);
        assert!(
            ours.status.code().is_some_and(|c| c <= 2) && !stderr.contains("panicked"),
            "{}: zonectl crashed: {stderr}",
            entry.shown
        );
        let zonectl_accepts = ours.status.success();
        let known = KNOWN_DIFFERENCES.iter().find(|(f, _)| *f == entry.shown);
        if bind == knot {
            agreed += 1;
            match (zonectl_accepts == bind, known) {
                (true, Some((_, why))) => {
                    problems.push(format!("{}: now agrees; remove it from KNOWN_DIFFERENCES ({why})", entry.shown))
                }
                (false, None) => problems.push(format!(
                    "{}: BIND and Knot {} it, zonectl {}: {}",
                    entry.shown,
                    if bind { "accept" } else { "refuse" },
                    if zonectl_accepts { "accepts" } else { "refuses" },
                    stderr.lines().next().unwrap_or("")
                )),
                _ => {}
            }
        }
        if !(zonectl_accepts && bind) {
            continue;
        }
        // The meaning: BIND reads zonectl's canonical form as the same records.
        let formatted = zonectl(&["fmt", "--origin", origin], &entry.file);
        assert!(formatted.status.success(), "{}: fmt failed after check passed", entry.shown);
        let written = scratch.path().join(entry.shown.replace('/', "_"));
        std::fs::write(&written, &formatted.stdout).unwrap();
        compared += 1;
        match (bind_dump(origin, &entry.file), bind_dump(origin, &written)) {
            (Some(before), Some(after)) if before == after => {}
            (Some(before), Some(after)) => {
                let lost: Vec<&String> = before.iter().filter(|l| !after.contains(l)).collect();
                let gained: Vec<&String> = after.iter().filter(|l| !before.contains(l)).collect();
                problems.push(format!("{}: fmt changed the meaning: lost {lost:?}, gained {gained:?}", entry.shown));
            }
            (_, None) => problems.push(format!("{}: BIND refuses what fmt wrote", entry.shown)),
            (None, _) => unreachable!("BIND accepted the file above"),
        }
    }
    eprintln!("{} files: BIND and Knot agree on {agreed}; meaning compared on {compared}", entries.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A zone signed by BIND's own signer (not written here): each RRSIG has the TTL of the
/// set it covers (RFC 4034 section 3) — 518400 over the apex NS, the SOA minimum over
/// NSEC — and `zonectl fmt` keeps every one, as BIND reads both files.
#[test]
fn a_zone_signed_by_dnssec_signzone_keeps_its_meaning() {
    if !have(&["dnssec-keygen", "dnssec-signzone", "named-checkzone"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let zone = dir.path().join("example.zone");
    std::fs::write(
        &zone,
        "$ORIGIN example.\n$TTL 3600\n\
         @ 86400 SOA ns1 hostmaster 1 7200 3600 1209600 300\n\
         @ 518400 NS ns1\n\
         ns1 A 192.0.2.1\n\
         www 300 A 192.0.2.2\n\
         @ MX 10 mail\nmail A 192.0.2.3\n\
         @ CAA 0 ISSUE \"ca.example.net\"\n",
    )
    .unwrap();
    for extra in [&[][..], &["-f", "KSK"][..]] {
        let key = Command::new("dnssec-keygen")
            .args(["-q", "-K"])
            .arg(dir.path())
            .args(["-a", "ECDSAP256SHA256"])
            .args(extra)
            .arg("example.")
            .output()
            .unwrap();
        assert!(key.status.success(), "{}", String::from_utf8_lossy(&key.stderr));
    }
    let signed = dir.path().join("example.zone.signed");
    let sign = Command::new("dnssec-signzone")
        .args(["-q", "-S", "-K"])
        .arg(dir.path())
        .args(["-o", "example.", "-f"])
        .arg(&signed)
        .arg(&zone)
        .output()
        .unwrap();
    assert!(sign.status.success(), "{}", String::from_utf8_lossy(&sign.stderr));
    let before = bind_dump("example", &signed).expect("BIND reads its own signed zone");
    // The case this is about: RRSIGs with different TTLs at one name.
    let apex_rrsig_ttls: std::collections::BTreeSet<&str> = before
        .iter()
        .filter(|l| l.starts_with("example. ") && l.contains(" RRSIG "))
        .map(|l| l.split(' ').nth(1).unwrap())
        .collect();
    assert!(apex_rrsig_ttls.len() >= 2, "{apex_rrsig_ttls:?}");
    let checked = zonectl(&["check", "--strict", "--origin", "example"], &signed);
    assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));
    assert!(!String::from_utf8_lossy(&checked.stderr).contains("differs"), "no TTL warning for RRSIGs");
    let formatted = zonectl(&["fmt", "--origin", "example"], &signed);
    assert!(formatted.status.success());
    let written = dir.path().join("formatted.zone");
    std::fs::write(&written, &formatted.stdout).unwrap();
    assert_eq!(bind_dump("example", &written).expect("BIND reads what fmt wrote"), before);
}

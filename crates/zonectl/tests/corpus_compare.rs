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
         @ CAA 0 ISSUE \"ca.example.net\"\n\
         alias CNAME www\n",
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
    // `-d`: the DS set file goes to the scratch directory, not the working directory.
    let sign = Command::new("dnssec-signzone")
        .args(["-q", "-S", "-K"])
        .arg(dir.path())
        .arg("-d")
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

/// Every type whose presentation form zonectl reads itself (LOC, APL, WKS, CERT, HIP, …),
/// in its RFC's example, read by BIND from the file and from `zonectl fmt`'s output as the
/// same records. (Names in data are in lower case: zonectl folds their case, in PX as in MX.)
#[test]
fn the_types_read_here_mean_to_bind_what_they_meant() {
    if !have(&["named-checkzone"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let zone = dir.path().join("types.zone");
    std::fs::write(
        &zone,
        "$ORIGIN example.com.\n$TTL 3600\n\
         @ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n\
         wks WKS 192.0.2.1 tcp 25 80\n\
         x25 X25 311061700956\n\
         isdn ISDN \"150862028003217\" \"004\"\n\
         nsap NSAP 0x47.0005.80.005a00.0000.0001.e133.ffffff000161.00\n\
         px PX 50 ab.net2.it. o-ab.prmd-net2.admdb.c-it.\n\
         gpos GPOS -32.6882 116.8652 10.0\n\
         loc LOC 42 21 54 N 71 06 18 W -24m 30m\n\
         loc2 LOC 52 S 4 E 0.5 15m 1m 2m\n\
         cert CERT PGP 0 RSASHA256 AAECAwQ=\n\
         apl APL 1:192.168.32.0/21 !1:192.168.38.0/28 2:2001:db8::/32\n\
         dhcid DHCID AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=\n\
         hip HIP 2 200100107B1A74DF365639CC39F1D578 AwEAAbdxyhNuSutc5EMzxTs9LBPCIkOFH8cIvM4p9+LrV4e19WzK00+CI6zBCQTdtWsuxKbWIy87UOoJTwkUs7lBu+Upr1gsNrut79ryra+bSRGQb1slImA8YVJyuIDsj7kwzG7jnERNqnWxZ48AWkskmdHaVDP4BcelrTI3rMXdXF5D rvs.example.net.\n\
         nid NID 10 0014:4fff:ff20:ee64\n\
         l32 L32 10 10.1.2.0\n\
         l64 L64 10 2001:0DB8:1140:1000\n\
         lp LP 10 l64-subnet1.example.com.\n\
         eui48 EUI48 00-00-5e-00-53-2a\n\
         eui64 EUI64 00-00-5E-EF-10-00-00-2A\n\
         uri URI 10 1 \"ftp://ftp1.example.com/public\"\n\
         amt AMTRELAY 128 1 3 amtrelays.example.com.\n\
         amt AMTRELAY 10 0 1 203.0.113.15\n\
         nxt NXT medium.foo.tld. A MX SIG NXT\n\
         a6 A6 0 2345:00C1:CA11:0001:1234:5678:9ABC:DEF0\n\
         a62 A6 64 ::1234:5678:9ABC:DEF0 subnet-1.ip6.a.net.\n",
    )
    .unwrap();
    let before = bind_dump("example.com", &zone).expect("BIND reads the RFCs' examples");
    let formatted = zonectl(&["fmt", "--origin", "example.com"], &zone);
    assert!(formatted.status.success(), "{}", String::from_utf8_lossy(&formatted.stderr));
    let text = String::from_utf8_lossy(&formatted.stdout);
    assert!(!text.contains("\\#"), "every type in its own form: {text}");
    let written = dir.path().join("formatted.zone");
    std::fs::write(&written, text.as_bytes()).unwrap();
    assert_eq!(bind_dump("example.com", &written).expect("BIND reads what fmt wrote"), before);
}

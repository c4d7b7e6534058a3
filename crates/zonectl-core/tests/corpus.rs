//! The zone-file corpus under `tests/zonefiles/`.
//!
//! `roundtrip/NAME.zone` must read cleanly and write exactly `roundtrip/NAME.expected`;
//! reading that back gives the same zone, and writing it again the same bytes.
//! `errors/NAME.zone` must fail with exactly the problems in `errors/NAME.expected`.

use std::fs;
use std::path::{Path, PathBuf};

use zonectl_core::zonefile::{self, ReadOptions};

fn corpus(dir: &str) -> (PathBuf, Vec<String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/zonefiles").join(dir);
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().to_str()?.strip_suffix(".zone").map(str::to_owned))
        .collect();
    names.sort();
    (dir, names)
}

#[test]
fn round_trip_corpus() {
    let (dir, names) = corpus("roundtrip");
    assert!(names.len() >= 8, "the corpus is missing: {names:?}");
    for name in names {
        let input = dir.join(format!("{name}.zone"));
        let expected = fs::read_to_string(dir.join(format!("{name}.expected"))).unwrap();
        let loaded = zonefile::read_file(&input, &ReadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            // txt.zone splits long strings on purpose, which is worth a warning.
            loaded
                .warnings
                .iter()
                .all(|w| w.message.contains("providers supply") || w.message.ends_with("split into 2")),
            "{name}: {:?}",
            loaded.warnings
        );
        let written = zonefile::to_string(&loaded.zone);
        assert_eq!(written, expected, "{name}: canonical form differs");

        let again = zonefile::read_str(&written, dir.join(format!("{name}.expected")), &ReadOptions::default())
            .unwrap_or_else(|e| panic!("{name}: the canonical form does not read back: {e}"));
        assert_eq!(again.zone, loaded.zone, "{name}: read(write(zone)) != zone");
        assert_eq!(zonefile::to_string(&again.zone), written, "{name}: writing twice differs");
    }
}

#[test]
fn error_corpus() {
    let (dir, names) = corpus("errors");
    assert!(names.len() >= 10, "the corpus is missing: {names:?}");
    let prefix = format!("{}/", dir.display());
    for name in names {
        let input = dir.join(format!("{name}.zone"));
        let expected = fs::read_to_string(dir.join(format!("{name}.expected"))).unwrap();
        let err = zonefile::read_file(&input, &ReadOptions::default()).expect_err(&name);
        let got: Vec<String> = err.diagnostics.iter().map(|d| d.to_string().replace(&prefix, "")).collect();
        let want: Vec<&str> = expected.lines().collect();
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn binary_files_are_refused_at_the_nul() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("binary.zone");
    fs::write(&path, b"$ORIGIN example.com.\n\x7fELF\x02\x01\x01\x00\x00\x00\n").unwrap();
    let err = zonefile::read_file(&path, &ReadOptions::default()).unwrap_err();
    assert_eq!(err.diagnostics.len(), 1);
    assert_eq!(err.diagnostics[0].line, 2);
    assert!(err.to_string().ends_with("binary.zone:2: error: binary data (a NUL byte): not a zone file"), "{err}");
}

#[test]
fn unreadable_files_are_named() {
    let err = zonefile::read_file(Path::new("/nonexistent/zone.zone"), &ReadOptions::default()).unwrap_err();
    assert_eq!(err.to_string(), "/nonexistent/zone.zone: error: cannot read: no such file");
}

#[test]
fn include_cycles_stop() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.zone"), "$ORIGIN example.com.\n$TTL 60\nx A 192.0.2.1\n$INCLUDE a.zone\n").unwrap();
    let err = zonefile::read_file(&dir.path().join("a.zone"), &ReadOptions::default()).unwrap_err();
    assert!(err.errors().any(|d| d.message.contains("nested more than 16 deep")), "{err}");
}

#[test]
fn warnings_for_duplicates_ttls_and_alias_targets() {
    let text = "$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n@ NS ns1.example.net.\n\
                a A 192.0.2.1\na A 192.0.2.1\nb 300 A 192.0.2.1\nb 60 A 192.0.2.2\n\
                @ MX 10 alias\nalias CNAME host.example.net.\n_s._tcp SRV 0 0 1 alias\n";
    let loaded = zonefile::read_str(text, "example.com.zone", &ReadOptions::default()).unwrap();
    let got: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "example.com.zone:6: warning: duplicate A record at a (also at line 5); merged",
            "example.com.zone:7: warning: TTL 300 differs from TTL 60 (line 8) in the A set at b; using 60",
            "example.com.zone:9: warning: MX exchange alias of @ is a CNAME",
            "example.com.zone:11: warning: SRV target alias of _s._tcp is a CNAME",
        ]
    );
    // Merged and lowered.
    let b: Vec<u32> =
        loaded.zone.records().iter().filter(|r| r.name.as_str() == "b.example.com.").map(|r| r.ttl.as_secs()).collect();
    assert_eq!(b, [60, 60]);
    assert_eq!(loaded.zone.records().iter().filter(|r| r.name.as_str() == "a.example.com.").count(), 1);
}

#[test]
fn strict_makes_missing_soa_and_ns_errors() {
    let text = "$TTL 300\nwww A 192.0.2.1\n";
    let lenient = zonefile::read_str(text, "example.com.zone", &ReadOptions::default()).unwrap();
    assert_eq!(lenient.warnings.len(), 2);
    let strict = ReadOptions { strict: true, ..ReadOptions::default() };
    let err = zonefile::read_str(text, "example.com.zone", &strict).unwrap_err();
    assert_eq!(err.errors().count(), 2);
    assert_eq!(err.to_string(), "example.com.zone: error: no SOA record at the apex example.com. (and 1 more error)");
}

#[test]
fn origin_comes_from_the_option_then_origin_then_file_name() {
    let text = "www A 192.0.2.1\n";
    let by_name = zonefile::read_str(text, "dir/example.org.db", &ReadOptions::default()).unwrap();
    assert_eq!(by_name.zone.origin().as_str(), "example.org.");
    let with_origin = format!("$ORIGIN example.net.\n{text}");
    let by_directive = zonefile::read_str(&with_origin, "dir/example.org.db", &ReadOptions::default()).unwrap();
    assert_eq!(by_directive.zone.origin().as_str(), "example.net.");
    let option = ReadOptions { origin: Some("example.com".parse().unwrap()), ..ReadOptions::default() };
    let by_option = zonefile::read_str(text, "dir/example.org.db", &option).unwrap();
    assert_eq!(by_option.zone.records()[0].name.as_str(), "www.example.com.");
}

#[test]
fn chunk_boundaries_do_not_change_the_result() {
    // A zone larger than the reader's 1 MiB chunk, with multi-line entries throughout, so
    // that some entry straddles each boundary.
    let mut text = String::from("$ORIGIN example.com.\n$TTL 300\n@ NS ns1.example.net.\n");
    let mut i = 0;
    while text.len() < 3 << 20 {
        text.push_str(&format!("h{i} TXT ( \"part one {i}\"\n    \"part two\" ) ; note\n"));
        i += 1;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("example.com.zone");
    fs::write(&path, &text).unwrap();
    let from_file = zonefile::read_file(&path, &ReadOptions::default()).unwrap();
    assert_eq!(from_file.zone.len(), i + 1);
    let from_str = zonefile::read_str(&text, "example.com.zone", &ReadOptions::default()).unwrap();
    assert_eq!(from_file.zone, from_str.zone);
    // And errors still carry the right line after many chunks.
    text.push_str("bad A 1.2.3\n");
    let lines = text.lines().count() as u32;
    fs::write(&path, &text).unwrap();
    let err = zonefile::read_file(&path, &ReadOptions::default()).unwrap_err();
    assert_eq!(err.diagnostics[0].line, lines);
}

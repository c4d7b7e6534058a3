//! How zone files from elsewhere are read: BIND's reading where the RFCs leave room, and
//! hostile input (a zone file from a pull request) answered with one-line errors.

use std::fs;
use std::path::Path;

use zonectl_core::zonefile::{self, Loaded, ReadOptions, Severity, ZoneFileError};

fn origin() -> ReadOptions {
    ReadOptions { origin: Some("example.com".parse().unwrap()), ..ReadOptions::default() }
}

/// The zone's records as `name ttl TYPE data` lines, blanks collapsed.
fn lines(loaded: &Loaded) -> Vec<String> {
    zonefile::to_string(&loaded.zone)
        .lines()
        .filter(|l| !l.starts_with('$'))
        .map(|l| l.split_whitespace().filter(|w| *w != "IN").collect::<Vec<_>>().join(" "))
        .collect()
}

fn messages(err: &ZoneFileError) -> Vec<String> {
    err.diagnostics.iter().map(|d| format!("{}: {}", d.line, d.message)).collect()
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_relative_origin_is_relative_to_the_origin_in_force() {
    let text = "$ORIGIN example.com.\n$TTL 300\n$ORIGIN sub\nwww A 192.0.2.1\n$ORIGIN @\nmail A 192.0.2.2\n";
    let loaded = zonefile::read_str(text, "t.zone", &ReadOptions::default()).unwrap();
    // `$ORIGIN @` names the origin in force (sub.example.com.), as BIND reads it.
    assert_eq!(lines(&loaded), ["mail.sub 300 A 192.0.2.2", "www.sub 300 A 192.0.2.1"]);
}

#[test]
fn an_origin_outside_the_zone_is_reported_at_the_directive_and_its_records_skipped() {
    let text = "$TTL 300\n@ NS ns1\nns1 A 192.0.2.1\n$ORIGIN example.net.\nwww A 192.0.2.2\n";
    let loaded = zonefile::read_str(text, "t.zone", &origin()).unwrap();
    let warnings: Vec<(u32, &str)> = loaded.warnings.iter().map(|w| (w.line, w.message.as_str())).collect();
    assert!(warnings.iter().any(|(line, m)| *line == 4 && m.starts_with("$ORIGIN example.net. is outside the zone")));
    assert!(warnings.contains(&(5, "www.example.net. is outside the zone example.com.; ignored")), "{warnings:?}");
    assert_eq!(lines(&loaded), ["@ 300 NS ns1", "ns1 300 A 192.0.2.1"]);

    let strict = ReadOptions { strict: true, ..origin() };
    let err = zonefile::read_str(text, "t.zone", &strict).unwrap_err();
    assert!(messages(&err).contains(&"5: www.example.net. is outside the zone example.com.; ignored".to_string()));
}

#[test]
fn a_ttl_set_in_an_included_file_stays_and_its_origin_does_not() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "inc/hosts.zone", "$TTL 60\n$ORIGIN hosts\na A 192.0.2.1\n");
    let main = write(dir.path(), "example.com.zone", "$TTL 300\n$INCLUDE inc/hosts.zone\nb A 192.0.2.2\n");
    let loaded = zonefile::read_file(&main, &ReadOptions::default()).unwrap();
    assert_eq!(lines(&loaded), ["b 60 A 192.0.2.2", "a.hosts 60 A 192.0.2.1"]);
}

#[test]
fn include_reads_only_regular_files_below_the_including_directory() {
    let dir = tempfile::tempdir().unwrap();
    let secret = write(dir.path(), "secret.txt", "hunter2 A 192.0.2.9\n");
    let zone_dir = dir.path().join("zones");
    let main = write(&zone_dir, "example.com.zone", &format!("$TTL 300\n$INCLUDE {}\n", secret.display()));
    let err = zonefile::read_file(&main, &ReadOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("is outside the directory of the file that includes it"), "{text}");
    assert!(!text.contains("hunter2"), "the included file's text must not be echoed: {text}");
    // `..` is outside too, however it is spelled.
    fs::write(&main, "$TTL 300\n$INCLUDE ../secret.txt\n").unwrap();
    assert!(
        zonefile::read_file(&main, &ReadOptions::default()).unwrap_err().to_string().contains("outside the directory")
    );

    let anywhere = ReadOptions { allow_include_anywhere: true, ..ReadOptions::default() };
    let loaded = zonefile::read_file(&main, &anywhere).unwrap();
    assert_eq!(lines(&loaded), ["hunter2 300 A 192.0.2.9"]);

    // A FIFO would block the reading for ever.
    let fifo = zone_dir.join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    fs::write(&main, "$TTL 300\n$INCLUDE pipe\n").unwrap();
    let err = zonefile::read_file(&main, &ReadOptions::default()).unwrap_err();
    assert!(err.to_string().contains("is not a regular file"), "{err}");
}

#[test]
fn a_diagnostic_is_one_line_with_control_bytes_escaped_and_long_tokens_cut() {
    let text = "$TTL 300\nc \x1b[2J\nd 300 A 192.0.2.1\\\n\n";
    let err = zonefile::read_str(text, "t.zone", &origin()).unwrap_err();
    for diagnostic in &err.diagnostics {
        let shown = diagnostic.to_string();
        assert!(!shown.contains('\n') && !shown.contains('\x1b'), "{shown:?}");
    }
    assert!(err.to_string().contains("\\027[2J"), "ESC shown as \\027: {err}");

    let label = "l".repeat(10_000_000);
    let err = zonefile::read_str(&format!("$TTL 300\n{label} A 192.0.2.1\n"), "t.zone", &origin()).unwrap_err();
    let longest = err.diagnostics.iter().map(|d| d.message.len()).max().unwrap();
    assert!(longest < 1000, "a message of {longest} bytes");
}

#[test]
fn reading_stops_after_max_errors() {
    let text: String = (0..10).map(|i| format!("h{i} A not-an-address\n")).collect();
    let options = ReadOptions { max_errors: 3, ..origin() };
    let err = zonefile::read_str(&format!("$TTL 300\n{text}"), "t.zone", &options).unwrap_err();
    let errors: Vec<_> = err.diagnostics.iter().filter(|d| d.severity == Severity::Error).collect();
    assert_eq!(errors.len(), 4, "{err}");
    assert_eq!(errors[3].message, "more than 3 errors; stopping (--max-errors sets how many)");
    // All ten are reported under the default.
    let err = zonefile::read_str(&format!("$TTL 300\n{text}"), "t.zone", &origin()).unwrap_err();
    assert_eq!(err.diagnostics.iter().filter(|d| d.severity == Severity::Error).count(), 10);
}

#[test]
fn class1_is_in_and_an_asterisk_inside_a_name_is_an_ordinary_label() {
    let text = "$TTL 300\nwww CLASS1 A 192.0.2.1\nx.*.y A 192.0.2.2\n";
    let loaded = zonefile::read_str(text, "t.zone", &origin()).unwrap();
    assert_eq!(lines(&loaded), ["www 300 A 192.0.2.1", "x.*.y 300 A 192.0.2.2"]);
    let err = zonefile::read_str("$TTL 300\nwww CLASS3 A 192.0.2.1\n", "t.zone", &origin()).unwrap_err();
    assert!(err.to_string().contains("class CLASS3 is not supported (only IN)"), "{err}");
}

#[test]
fn lines_and_entries_longer_than_the_bound_are_refused_and_reading_goes_on() {
    // One 2.4 MB line of short strings: refused without holding its tokens.
    let text = format!("$TTL 300\nt TXT {}\nbad A x\n", "\"abc\" ".repeat(400_000));
    let err = zonefile::read_str(&text, "t.zone", &origin()).unwrap_err();
    assert_eq!(
        messages(&err),
        [
            "2: a line longer than 1048576 bytes: not a zone file entry",
            "3: bad.example.com. A: invalid IPv4 address 'x'"
        ]
    );
    // Parentheses never closed: without a bound the whole file would become one entry.
    let text = format!("$TTL 300\nt TXT (\n{}", "\"abc\"\n".repeat(400_000));
    let err = zonefile::read_str(&text, "t.zone", &origin()).unwrap_err();
    assert!(err.to_string().contains("an entry longer than 1048576 bytes (unbalanced parentheses?)"), "{err}");
}

#[test]
fn meta_types_are_not_record_data() {
    for (written, shown) in
        [("AXFR", "AXFR"), ("ixfr", "IXFR"), ("OPT", "OPT"), ("TYPE255", "TYPE255"), ("TYPE41", "TYPE41")]
    {
        let err = zonefile::read_str(&format!("$TTL 300\nx {written} \\# 0\n"), "t.zone", &origin()).unwrap_err();
        assert_eq!(messages(&err), [format!("2: {shown} is a meta-type (RFC 6895), which cannot be record data")]);
    }
    // The codes around them are ordinary unknown types.
    for code in [40, 42, 127, 256] {
        let loaded = zonefile::read_str(&format!("$TTL 300\nx TYPE{code} \\# 0\n"), "t.zone", &origin());
        assert!(loaded.is_ok(), "TYPE{code}: {:?}", loaded.err());
    }
}

#[test]
fn txt_strings_over_255_octets_are_split_with_a_warning_and_over_65535_refused() {
    let long = "a".repeat(300);
    let text = format!("$TTL 300\nt TXT \"{long}\" \"b\"\n");
    let loaded = zonefile::read_str(&text, "t.zone", &origin()).unwrap();
    let warnings: Vec<_> = loaded.warnings.iter().map(|w| (w.line, w.message.as_str())).collect();
    assert!(
        warnings.contains(&(2, "t.example.com. TXT: a string of 300 octets is longer than 255; split into 2")),
        "{warnings:?}"
    );
    let written = zonefile::to_string(&loaded.zone);
    assert!(written.contains(&format!("\"{}\" \"{}\" \"b\"", "a".repeat(255), "a".repeat(45))), "{written}");

    let strict = ReadOptions { strict: true, ..origin() };
    assert!(zonefile::read_str(&text, "t.zone", &strict).is_err());

    // 270 strings of 250 octets: 67,770 octets on the wire.
    let many = vec![format!("\"{}\"", "c".repeat(250)); 270].join(" ");
    let err = zonefile::read_str(&format!("$TTL 300\nu TXT ( {many} )\n"), "t.zone", &origin()).unwrap_err();
    assert_eq!(messages(&err), ["2: u.example.com. TXT: 67770 octets of data; a record holds at most 65535"]);
}

#[test]
fn with_no_ttl_anywhere_the_soa_minimum_is_the_default() {
    let text = "@ SOA ns1 hostmaster 1 7200 900 1209600 120\n@ NS ns1\nns1 A 192.0.2.1\n";
    let loaded = zonefile::read_str(text, "t.zone", &origin()).unwrap();
    assert_eq!(
        lines(&loaded),
        ["@ 120 SOA ns1 hostmaster 1 7200 900 1209600 120", "@ 120 NS ns1", "ns1 120 A 192.0.2.1"]
    );
    assert_eq!(loaded.warnings[0].message, "no TTL given and no $TTL; using the SOA minimum 120");
}

#[test]
fn ds_at_the_apex_is_an_error_and_below_it_is_not() {
    let ds = "DS 60485 5 1 2bb183af5f22588179a53b0a98631fad1a292118";
    let err = zonefile::read_str(&format!("$TTL 300\n@ {ds}\n"), "t.zone", &origin()).unwrap_err();
    assert_eq!(messages(&err)[0], "2: DS at the zone apex; it belongs in the parent zone");
    assert_eq!(err.diagnostics.iter().filter(|d| d.severity == Severity::Error).count(), 1);
    assert!(zonefile::read_str(&format!("$TTL 300\nchild {ds}\n"), "t.zone", &origin()).is_ok());
}

#[test]
fn an_soa_below_the_apex_is_an_error() {
    let zone = "$TTL 300\n@ SOA ns1 hostmaster 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n";
    let below = format!("{zone}sub SOA ns1 hostmaster 1 2 3 4 5\n");
    let err = zonefile::read_str(&below, "t.zone", &origin()).unwrap_err();
    assert_eq!(messages(&err), ["5: SOA at sub, which is not the zone apex example.com."]);
    assert!(zonefile::read_str(zone, "t.zone", &origin()).is_ok());
}

#[test]
fn the_order_of_the_lines_does_not_change_the_zone() {
    use zonectl_core::generate::{Spec, zone};
    let generated = zone(&Spec::new(3000));
    let text = zonefile::to_string(&generated);
    let (directives, mut records): (Vec<&str>, Vec<&str>) = text.lines().partition(|l| l.starts_with('$'));
    // A fixed, thorough mix: every 7th line first, then the rest backwards.
    let mut mixed: Vec<&str> = records.iter().step_by(7).copied().collect();
    records.retain(|l| !mixed.contains(l));
    mixed.extend(records.iter().rev());
    let shuffled = format!("{}\n{}\n", directives.join("\n"), mixed.join("\n"));
    assert_ne!(shuffled, text);
    let options = ReadOptions { origin: Some(generated.origin().clone()), ..ReadOptions::default() };
    let loaded = zonefile::read_str(&shuffled, "t.zone", &options).unwrap();
    assert_eq!(loaded.zone, generated);
    assert_eq!(zonefile::to_string(&loaded.zone), text);
}

/// `$GENERATE` as BIND 9.18's `named-checkzone -D` expands the same lines (checked by hand
/// against it; the corpus test compares whole files with `named-checkzone` in CI).
#[test]
fn generate_expands_as_bind_does() {
    let text = "$TTL 300\n\
        $GENERATE 1-3 host$ A 10.0.0.$\n\
        $GENERATE 1-2 mx$ MX \"10 mail${0,2}\"\n\
        $GENERATE 8-9/1 ${0,3,n}.v6 600 IN PTR h${-8,2,x}\n\
        $GENERATE 1-1 a$$b\\$c$ TXT \"v=$ \\$x\"\n";
    let loaded = zonefile::read_str(text, "t.zone", &origin()).unwrap();
    assert_eq!(
        lines(&loaded),
        [
            r"a\$b\$c1 300 TXT v=1 $x",
            "host1 300 A 10.0.0.1",
            "host2 300 A 10.0.0.2",
            "host3 300 A 10.0.0.3",
            "mx1 300 MX 10 mail01",
            "mx2 300 MX 10 mail02",
            "8.0.v6 600 PTR h00",
            "9.0.v6 600 PTR h01",
        ]
        .map(|l| l.replace("v=1 $x", "\"v=1\" \"$x\""))
    );
}

#[test]
fn generate_errors_name_the_line_and_change_nothing() {
    let err = |text: &str| messages(&zonefile::read_str(text, "t.zone", &origin()).unwrap_err());
    assert_eq!(err("$TTL 300\n$GENERATE 5-1 h$ A 10.0.0.$\n"), ["2: bad $GENERATE range '5-1': start is after stop"]);
    assert_eq!(
        err("$TTL 300\n$GENERATE 1-2 h$ MX 10 mail$\n"),
        [
            "2: $GENERATE takes a range, an owner, [TTL] [class] type, and the data as one token (quote data with spaces)"
        ]
    );
    assert_eq!(
        err("$TTL 300\n$GENERATE 250-260 h$ A 10.0.0.$\n"),
        ["2: $GENERATE at 256: h256.example.com. A: invalid IPv4 address '10.0.0.256'"]
    );
    assert_eq!(
        err("$TTL 300\n$GENERATE 0-4294967295 h$ A 10.0.0.1\n"),
        ["2: $GENERATE range '0-4294967295' makes 4294967296 records, more than 1048576"]
    );
}

/// A file from a pull request cannot make the reader hold more than its record budget:
/// 200 `$GENERATE` lines of 65,536 records each (13.1 million, 5 GB and 27 s before) stop at
/// the line that crosses it, and so do plain records and includes.
#[test]
fn a_whole_file_has_a_record_budget() {
    let mut text = String::from("$TTL 300\n");
    for i in 0..200 {
        text.push_str(&format!("$GENERATE 0-65535 h{i}-$ A 10.0.0.1\n"));
    }
    let err = zonefile::read_str(&text, "t.zone", &origin()).unwrap_err();
    assert_eq!(
        messages(&err),
        [
            "17: more than 1000000 records in the file and its includes; stopping (`--max-records`, or `max_records` in zonectl.toml, lifts the cap)"
        ],
        "15 lines of 65,536 fit in a million, the 16th does not"
    );
    let small = ReadOptions { max_records: 3, ..origin() };
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "more.zone", "c A 192.0.2.3\nd A 192.0.2.4\n");
    let main = write(dir.path(), "main.zone", "$TTL 300\na A 192.0.2.1\nb A 192.0.2.2\n$INCLUDE more.zone\n");
    let err = zonefile::read_file(&main, &small).unwrap_err();
    assert_eq!(err.diagnostics.len(), 1, "{:?}", messages(&err));
    assert!(err.diagnostics[0].file.ends_with("more.zone") && err.diagnostics[0].line == 2, "{:?}", err.diagnostics);
    assert!(zonefile::read_file(&main, &ReadOptions { max_records: 4, ..origin() }).is_ok());
}

/// A FIFO as the main file would block the reading forever: refused, as for `$INCLUDE`.
#[test]
fn the_main_file_must_be_a_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.zone");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let err = zonefile::read_file(&fifo, &origin()).unwrap_err();
    assert_eq!(messages(&err), ["0: not a regular file (a FIFO, device or directory)"]);
    let err = zonefile::read_file(dir.path(), &origin()).unwrap_err();
    assert_eq!(messages(&err), ["0: not a regular file (a FIFO, device or directory)"]);
}

/// An NS target inside the zone needs an address, as `named-checkzone` and `kzonecheck`
/// require; a provider reading its own files does not check it, so that a user can still
/// fix such a zone through the provider.
#[test]
fn an_ns_target_in_the_zone_needs_an_address() {
    let err = |text: &str| -> Vec<String> {
        let err = zonefile::read_str(text, "t.zone", &origin()).unwrap_err();
        err.errors().map(|d| format!("{}: {}", d.line, d.message)).collect()
    };
    assert_eq!(
        err("$TTL 300\n@ NS ns1\n@ NS ns2.example.net.\nsub NS ns.sub\nwww A 192.0.2.1\n"),
        [
            "2: NS target ns1 of @ has no address records (A or AAAA)",
            "4: NS target ns.sub of sub has no address records (A or AAAA) (missing glue)",
        ]
    );
    // A CNAME is not an address.
    assert_eq!(
        err("$TTL 300\n@ NS ns1\nns1 CNAME host.example.net.\n"),
        ["2: NS target ns1 of @ has no address records (A or AAAA)"]
    );
    let fine = "$TTL 300\n@ NS ns1\nns1 AAAA 2001:db8::1\nsub NS ns.sub\nns.sub A 192.0.2.2\nout NS ns.example.net.\n";
    assert!(zonefile::read_str(fine, "t.zone", &origin()).is_ok());
    let unchecked = ReadOptions { check_glue: false, ..origin() };
    assert!(zonefile::read_str("$TTL 300\n@ NS ns1\n", "t.zone", &unchecked).is_ok());
}

/// A wildcard's address answers for a target that does not exist, as `kzonecheck` reads
/// it, but not for one that exists with other data (a wildcard never matches an existing
/// name); a target below another delegation needs no address here.
#[test]
fn glue_from_wildcards_and_other_delegations() {
    let read = |text: &str| zonefile::read_str(text, "t.zone", &origin());
    assert!(read("$TTL 300\n@ NS a.ns\n*.ns AAAA ::1\n").is_ok());
    let err = read("$TTL 300\n@ NS a.ns\n*.ns AAAA ::1\na.ns TXT \"here\"\n").unwrap_err();
    assert!(err.to_string().contains("NS target a.ns of @ has no address records"), "{err}");
    assert!(read("$TTL 300\n@ NS ns.d\nd NS ns.example.net.\n").is_ok());
}

/// A signed zone's RRSIGs at one name as NSD, Knot and ldns write them: each has the TTL of
/// the set it covers (RFC 4034 section 3), so the RRSIG over NS keeps 518400 and the one
/// over NSEC 86400 — one RRSIG set per covered type, with no "TTL differs" warning; two
/// RRSIGs over one type still share one TTL, as any set does.
#[test]
fn rrsig_sets_are_keyed_by_the_type_they_cover() {
    let sig = |covered: &str, labels: u8| {
        format!("RRSIG {covered} 8 {labels} 518400 20261231000000 20261201000000 12345 example.com. AAECAwQFBgcICQ==")
    };
    let text = format!(
        "$ORIGIN example.com.\n\
         @ 86400 SOA ns1 hostmaster 1 7200 3600 1209600 86400\n\
         @ 518400 NS ns1\n\
         @ 518400 {}\n\
         @ 86400 NSEC ns1 NS SOA RRSIG NSEC\n\
         @ 86400 {}\n\
         @ 86400 {}\n\
         ns1 3600 A 192.0.2.1\n\
         ns1 3600 {}\n\
         ns1 300 RRSIG A 8 3 3600 20261231000000 20261201000000 54321 example.com. AAECAwQFBgcICQ==\n",
        sig("NS", 2),
        sig("NSEC", 2),
        sig("SOA", 2),
        sig("A", 3)
    );
    let loaded = zonefile::read_str(&text, "signed.zone", &origin()).unwrap();
    let rrsig_ttls: Vec<(String, u32, String)> = loaded
        .zone
        .records()
        .iter()
        .filter(|r| r.rtype().mnemonic() == "RRSIG")
        .map(|r| (r.name.to_string(), r.ttl.as_secs(), r.data.to_string().split(' ').next().unwrap().to_owned()))
        .collect();
    assert_eq!(
        rrsig_ttls,
        [
            ("example.com.".to_owned(), 518400, "NS".to_owned()),
            ("example.com.".to_owned(), 86400, "SOA".to_owned()),
            ("example.com.".to_owned(), 86400, "NSEC".to_owned()),
            ("ns1.example.com.".to_owned(), 300, "A".to_owned()),
            ("ns1.example.com.".to_owned(), 300, "A".to_owned()),
        ]
    );
    let warned: Vec<&str> = loaded.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(warned.iter().filter(|m| m.contains("differs")).count(), 1, "only the two over A at ns1: {warned:?}");
    assert!(warned.iter().any(|m| m.contains("in the RRSIG set at ns1")), "{warned:?}");
    // Written and read again, nothing moves.
    let again = zonefile::read_str(&zonefile::to_string(&loaded.zone), "again.zone", &origin()).unwrap();
    assert_eq!(again.zone, loaded.zone);
}

/// A CAA tag keeps the case it was written in, as BIND keeps it (`ISSUE` stays `ISSUE`).
#[test]
fn caa_tags_keep_their_case() {
    let text = "$ORIGIN example.com.\n$TTL 300\n@ CAA 0 ISSUE \"ca.example.net\"\n@ CAA 0 issueWild \";\"\n";
    let loaded = zonefile::read_str(text, "caa.zone", &origin()).unwrap();
    assert_eq!(lines(&loaded), ["@ 300 CAA 0 ISSUE \"ca.example.net\"", "@ 300 CAA 0 issueWild \";\""]);
}

/// RFC 6672 section 2.4: one DNAME per owner name; BIND and Knot refuse a second.
#[test]
fn a_second_dname_at_a_name_is_refused() {
    let text = "$ORIGIN example.com.\n$TTL 300\nold DNAME new.example.net.\nold DNAME other.example.net.\n";
    let err = zonefile::read_str(text, "dname.zone", &origin()).unwrap_err();
    let errors: Vec<String> = err
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{}: {}", d.line, d.message))
        .collect();
    assert_eq!(errors, ["4: more than one DNAME at old (the other at line 3); a name has one DNAME at most"]);
    // The same DNAME twice is a duplicate, merged with a warning, not a second DNAME.
    let twice = "$ORIGIN example.com.\n$TTL 300\nold DNAME new.example.net.\nold DNAME new.example.net.\n";
    assert!(zonefile::read_str(twice, "dname.zone", &origin()).is_ok());
}

/// In a signed zone a CNAME has its RRSIG and NSEC beside it (RFC 4035 section 2.5); any
/// other type beside it is still an error.
#[test]
fn a_cname_in_a_signed_zone_keeps_its_rrsig_and_nsec() {
    let sig = "RRSIG CNAME 13 3 3600 20261231000000 20261201000000 12345 example.com. AAECAwQFBgcICQ==";
    let text = format!(
        "$ORIGIN example.com.\n$TTL 3600\nwww CNAME web.example.net.\nwww {sig}\nwww NSEC zzz CNAME RRSIG NSEC\n"
    );
    let loaded = zonefile::read_str(&text, "signed.zone", &origin()).unwrap();
    assert_eq!(loaded.zone.len(), 3);
    let err = zonefile::read_str(&format!("{text}www TXT \"no\"\n"), "signed.zone", &origin()).unwrap_err();
    assert!(messages(&err).iter().any(|m| m.contains("CNAME and other data at www (TXT at line 6)")), "{err}");
}

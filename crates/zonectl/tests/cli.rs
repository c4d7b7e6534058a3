//! The `zonectl` binary as a user meets it: exit codes, output formats, files left alone.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn zonectl(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zonectl")).args(args).current_dir(dir).env("NO_COLOR", "1").output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

const GOOD: &str = "$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1.example.net.\nwww A 192.0.2.1\n";
const BAD: &str = "$ORIGIN example.com.\n$TTL 300\n@ NS ns1.example.net.\nwww A 192.0.2.300\nmx MX 10\n";

#[test]
fn check_exit_codes_and_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("good.zone"), GOOD).unwrap();
    fs::write(dir.path().join("bad.zone"), BAD).unwrap();

    let ok = zonectl(&["check", "good.zone"], dir.path());
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert_eq!(text(&ok.stdout), "");
    assert!(text(&ok.stderr).contains("good.zone: zone example.com. OK, 3 records"));

    let bad = zonectl(&["check", "good.zone", "bad.zone"], dir.path());
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(
        text(&bad.stdout),
        "bad.zone:4: error: www.example.com. A: invalid IPv4 address '192.0.2.300'\n\
         bad.zone:5: error: mx.example.com. MX: missing exchange in MX data\n"
    );
}

#[test]
fn check_max_errors_and_include_anywhere_flags() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("bad.zone"), BAD).unwrap();
    let capped = zonectl(&["check", "--max-errors", "1", "bad.zone"], dir.path());
    assert_eq!(capped.status.code(), Some(1));
    assert_eq!(
        text(&capped.stdout),
        "bad.zone:4: error: www.example.com. A: invalid IPv4 address '192.0.2.300'\n\
         bad.zone:5: error: more than 1 error; stopping (--max-errors sets how many)\n"
    );

    let zones = dir.path().join("zones");
    fs::create_dir(&zones).unwrap();
    fs::write(dir.path().join("hosts.inc"), "www A 192.0.2.1\n").unwrap();
    fs::write(zones.join("example.com.zone"), "$TTL 300\n$INCLUDE ../hosts.inc\n").unwrap();
    let refused = zonectl(&["check", "zones/example.com.zone"], dir.path());
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stdout).contains("(--allow-include-anywhere allows it)"), "{}", text(&refused.stdout));
    let allowed = zonectl(&["check", "--allow-include-anywhere", "zones/example.com.zone"], dir.path());
    assert_eq!(allowed.status.code(), Some(0), "{}", text(&allowed.stdout));
}

#[test]
fn check_warnings_alone_exit_zero() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("example.com.zone"), "$TTL 300\nwww A 192.0.2.1\nwww A 192.0.2.1\n").unwrap();
    let out = zonectl(&["check", "example.com.zone"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("example.com.zone:3: warning: duplicate A record at www (also at line 2); merged"),
        "{stdout}"
    );
    let strict = zonectl(&["check", "--strict", "example.com.zone"], dir.path());
    assert_eq!(strict.status.code(), Some(1), "a missing SOA is an error with --strict");
}

#[test]
fn check_json_output() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("bad.zone"), BAD).unwrap();
    let out = zonectl(&["check", "bad.zone", "--output", "json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = &json["files"][0];
    assert_eq!(file["file"], "bad.zone");
    assert_eq!(file["errors"], 2);
    assert_eq!(file["records"], serde_json::Value::Null);
    assert_eq!(file["problems"][0]["line"], 4);
    assert_eq!(file["problems"][0]["severity"], "error");
    assert_eq!(file["problems"][1]["message"], "mx.example.com. MX: missing exchange in MX data");
}

#[test]
fn check_missing_file_and_bad_origin() {
    let dir = tempfile::tempdir().unwrap();
    let out = zonectl(&["check", "nope.zone"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "nope.zone: error: cannot read: no such file\n");

    fs::write(dir.path().join("good.zone"), GOOD).unwrap();
    let out = zonectl(&["check", "good.zone", "--origin", "a..b"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "zonectl: --origin a..b: empty label in 'a..b'\n");
}

#[test]
fn fmt_prints_canonical_form() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("example.com.zone"), "$TTL 60\nwww A 192.0.2.1\n@ NS ns1.example.net.\n").unwrap();
    let out = zonectl(&["fmt", "example.com.zone"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "$ORIGIN example.com.\n$TTL 60\n@   60 IN NS ns1.example.net.\nwww 60 IN A  192.0.2.1\n"
    );
}

#[test]
fn fmt_write_rewrites_in_place_keeping_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("example.com.zone");
    fs::write(&path, "$TTL 60\nwww A 192.0.2.1\n@ NS ns1.example.net.\n").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let out = zonectl(&["fmt", "--write", "example.com.zone"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "$ORIGIN example.com.\n$TTL 60\n@   60 IN NS ns1.example.net.\nwww 60 IN A  192.0.2.1\n"
    );
    assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
    // No temporary file is left behind.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn fmt_write_keeps_links_owner_and_read_only_files() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    const MESSY: &str = "$TTL 60\nwww A 192.0.2.1\n@ NS ns1.example.net.\n";
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    fs::create_dir(&real).unwrap();
    let target = real.join("db.example");
    fs::write(&target, MESSY).unwrap();

    // Through a symbolic link: the target is rewritten, the link stays a link.
    let link = dir.path().join("example.com.zone");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = zonectl(&["fmt", "--write", "example.com.zone"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert!(fs::read_to_string(&target).unwrap().starts_with("$ORIGIN example.com.\n"));

    // A second name for the file: a rewrite would leave it with the old text.
    fs::write(&target, MESSY).unwrap();
    let other = dir.path().join("copy.zone");
    fs::hard_link(&target, &other).unwrap();
    let out = zonectl(&["fmt", "--write", "example.com.zone"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("has 2 hard links, which a rewrite would split"), "{}", text(&out.stderr));
    assert_eq!(fs::read_to_string(&target).unwrap(), MESSY);
    fs::remove_file(&other).unwrap();

    // Read-only: refused, then rewritten with --force and left read-only.
    fs::set_permissions(&target, fs::Permissions::from_mode(0o444)).unwrap();
    let out = zonectl(&["fmt", "--write", "example.com.zone"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "zonectl: example.com.zone: is read-only; add --force to rewrite it\n");
    assert_eq!(fs::read_to_string(&target).unwrap(), MESSY);
    let out = zonectl(&["fmt", "--write", "--force", "example.com.zone"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_ne!(fs::read_to_string(&target).unwrap(), MESSY);
    assert_eq!(fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o444);

    // The owner and group stay (only root can give a file to someone else to test it).
    if fs::metadata(&target).unwrap().uid() == 0 {
        fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(&target, MESSY).unwrap();
        std::os::unix::fs::chown(&target, Some(1), Some(2)).unwrap();
        let out = zonectl(&["fmt", "--write", "example.com.zone"], dir.path());
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let meta = fs::metadata(&target).unwrap();
        assert_ne!(fs::read_to_string(&target).unwrap(), MESSY);
        assert_eq!((meta.uid(), meta.gid()), (1, 2));
    }
}

#[test]
fn fmt_write_changes_nothing_on_error_or_comments() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.zone");
    fs::write(&bad, BAD).unwrap();
    let out = zonectl(&["fmt", "--write", "bad.zone"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("bad.zone:4: error:"));
    assert_eq!(fs::read_to_string(&bad).unwrap(), BAD);

    let commented = dir.path().join("example.com.zone");
    let original = "$TTL 60\nwww A 192.0.2.1 ; the web server\n@ NS ns1.example.net.\n";
    fs::write(&commented, original).unwrap();
    let out = zonectl(&["fmt", "--write", "example.com.zone"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "zonectl: example.com.zone: has comments, which the canonical form does not keep; \
         add --drop-comments to rewrite it anyway\n"
    );
    assert_eq!(fs::read_to_string(&commented).unwrap(), original);
    let out = zonectl(&["fmt", "--write", "--drop-comments", "example.com.zone"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    assert!(!fs::read_to_string(&commented).unwrap().contains(';'));

    // Printing skips data outside the zone with a warning; rewriting would lose it.
    let outside = "$TTL 60\nwww A 192.0.2.1\nwww.example.net. A 192.0.2.2\n";
    fs::write(&commented, outside).unwrap();
    let out = zonectl(&["fmt", "example.com.zone"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("example.com.zone:3: warning: www.example.net. is outside the zone"));
    let out = zonectl(&["fmt", "--write", "example.com.zone"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("example.com.zone:3: error: www.example.net. is outside the zone"));
    assert_eq!(fs::read_to_string(&commented).unwrap(), outside);
}

#[test]
fn the_demo_script_runs_an_installed_zonectl_from_anywhere() {
    // A copy of the script and its zone outside the source tree, as an installed zonectl's
    // user has them; ZONECTL names the binary (else the one on PATH).
    let dir = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    fs::create_dir(dir.path().join("zones")).unwrap();
    fs::copy(repo.join("examples/demo.sh"), dir.path().join("demo.sh")).unwrap();
    fs::copy(repo.join("examples/zones/example.com.zone"), dir.path().join("zones/example.com.zone")).unwrap();
    let out = Command::new("bash")
        .arg(dir.path().join("demo.sh"))
        .current_dir(dir.path())
        .env("ZONECTL", env!("CARGO_BIN_EXE_zonectl"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("$ zonectl plan --detailed-exitcode\nzone example.com. at live"), "{said}");
    assert!(said.contains("No changes."), "the second plan is empty: {said}");
    assert!(said.contains("hand                  3600  TXT   \"added by hand\""), "{said}");
}

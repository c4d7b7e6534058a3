//! plan / apply / record / export / copy through the binary, against the `zonefile`
//! provider in a temporary directory.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    /// A config with two zonefile providers (`live`, `other`) and one zone whose source is
    /// `example.com.zone`.
    fn new(source: &str) -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("zonectl.toml"),
            "[providers.live]\nkind = \"zonefile\"\ndirectory = \"live\"\n\n\
             [providers.other]\nkind = \"zonefile\"\ndirectory = \"other\"\n\n\
             [[zone]]\nname = \"example.com\"\nsource = \"example.com.zone\"\ntargets = [\"live\"]\n\
             ignore = [{ name = \"_acme-challenge*\" }]\n",
        )
        .unwrap();
        fs::write(dir.path().join("example.com.zone"), source).unwrap();
        Workspace { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_zonectl"))
            .args(args)
            .current_dir(self.dir.path())
            .env("ZONECTL_STATE_DIR", self.path("state"))
            .env_remove("ZONECTL_CONFIG")
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    }

    fn live(&self) -> String {
        fs::read_to_string(self.path("live/example.com.zone")).unwrap()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

const SOURCE: &str = "$ORIGIN example.com.\n$TTL 300\n@ NS ns1.example.net.\nwww A 192.0.2.1\nmail A 192.0.2.2\n";

#[test]
fn plan_apply_then_nothing_left() {
    let ws = Workspace::new(SOURCE);
    let plan = ws.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", stderr(&plan));
    let printed = stdout(&plan);
    let (shown, checksum) = printed.split_once("Plan checksum: sha256:").expect("the plan's checksum");
    assert_eq!(
        shown,
        "zone example.com. at live (0 managed records)\n\
         + @ 300 IN NS ns1.example.net.\n\
         + mail 300 IN A 192.0.2.2\n\
         + www 300 IN A 192.0.2.1\n\
         Plan: 3 to create, 0 to update, 0 to delete.\n"
    );
    assert!(checksum.trim_end().len() == 64 && checksum.ends_with('\n'), "{printed}");
    let apply = ws.run(&["apply", "--yes"]);
    assert_eq!(apply.status.code(), Some(0), "{}", stderr(&apply));
    assert!(ws.live().contains("www  300 IN A  192.0.2.1"), "{}", ws.live());
    let again = ws.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(stdout(&again).contains("\nNo changes.\nPlan checksum: sha256:"), "{}", stdout(&again));
    // Without --detailed-exitcode a plan with changes still exits 0.
    fs::write(ws.path("example.com.zone"), format!("{SOURCE}new A 192.0.2.3\n")).unwrap();
    assert_eq!(ws.run(&["plan"]).status.code(), Some(0));
}

#[test]
fn apply_backs_up_and_keeps_ignored_records() {
    let ws = Workspace::new(SOURCE);
    assert!(ws.run(&["apply", "--yes"]).status.success());
    // Another tool adds a challenge record at the provider.
    let added =
        ws.run(&["record", "add", "example.com", "_acme-challenge.www", "TXT", "\"token\"", "--provider", "live"]);
    assert!(added.status.success(), "{}", stderr(&added));
    fs::write(ws.path("example.com.zone"), SOURCE.replace("192.0.2.2", "192.0.2.20")).unwrap();
    let apply = ws.run(&["apply", "--yes"]);
    assert!(apply.status.success(), "{}", stderr(&apply));
    assert!(ws.live().contains("\"token\""), "the ignored record survives: {}", ws.live());
    assert!(ws.live().contains("192.0.2.20"));
    let backups: Vec<_> = fs::read_dir(ws.path("state/backups/live/example.com")).unwrap().collect();
    assert_eq!(backups.len(), 3, "one backup per apply (two applies and one record add)");
    let err = stderr(&apply);
    let backup = err.lines().find_map(|l| l.split("before the change: ").nth(1)).unwrap();
    let saved = fs::read_to_string(backup).unwrap();
    assert!(saved.contains("192.0.2.2\n") && saved.contains("\"token\""), "the backup is the zone before: {saved}");
}

#[test]
fn bad_source_changes_nothing() {
    let ws = Workspace::new(SOURCE);
    assert!(ws.run(&["apply", "--yes"]).status.success());
    let before = ws.live();
    fs::write(ws.path("example.com.zone"), "$ORIGIN example.com.\n$TTL 300\nwww A 192.0.2.999\n").unwrap();
    let apply = ws.run(&["apply", "--yes"]);
    assert_eq!(apply.status.code(), Some(1));
    assert_eq!(
        stderr(&apply),
        "example.com.zone:3: error: www.example.com. A: invalid IPv4 address '192.0.2.999'\n\
         zonectl: example.com.zone: not loaded (1 error(s)); nothing was changed\n"
    );
    assert_eq!(ws.live(), before);
}

/// A source, or a target's file, over its zone's record cap is refused, naming the line and
/// the setting; `max_records` raises the cap for each.
#[test]
fn record_caps_are_set_per_zone_and_per_provider() {
    let ws = Workspace::new(SOURCE);
    assert!(ws.run(&["apply", "--yes"]).status.success());
    let config = fs::read_to_string(ws.path("zonectl.toml")).unwrap();
    let capped = config.replace("directory = \"live\"\n", "directory = \"live\"\nmax_records = 2\n");
    fs::write(ws.path("zonectl.toml"), capped.clone() + "max_records = 2\n").unwrap();
    let plan = ws.run(&["plan"]);
    assert_eq!(plan.status.code(), Some(1));
    assert_eq!(
        stderr(&plan),
        "example.com.zone:5: error: more than 2 records in the file and its includes; stopping \
         (`--max-records`, or `max_records` in zonectl.toml, lifts the cap)\n\
         zonectl: example.com.zone: not loaded (1 error(s)); nothing was changed\n"
    );
    // The source within its cap, the target's file (3 records) is over the provider's.
    fs::write(ws.path("zonectl.toml"), capped.clone() + "max_records = 3\n").unwrap();
    let plan = ws.run(&["plan"]);
    assert_eq!(plan.status.code(), Some(1));
    assert!(stderr(&plan).contains("more than 2 records in the file and its includes"), "{}", stderr(&plan));
    fs::write(ws.path("zonectl.toml"), capped.replace("max_records = 2", "max_records = 3") + "max_records = 3\n")
        .unwrap();
    let plan = ws.run(&["plan"]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    assert!(stdout(&plan).contains("No changes"), "{}", stdout(&plan));
}

#[test]
fn unsafe_applies_need_force() {
    let many: String = (0..20).map(|i| format!("h{i} A 192.0.2.{i}\n")).collect();
    let ws = Workspace::new(&format!("$ORIGIN example.com.\n$TTL 300\n{many}"));
    assert!(ws.run(&["apply", "--yes"]).status.success());
    let before = ws.live();
    fs::write(ws.path("example.com.zone"), "$ORIGIN example.com.\n$TTL 300\nh0 A 192.0.2.0\n").unwrap();
    let refused = ws.run(&["apply", "--yes"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("updates or deletes 19 of 20 records (95%)"), "{}", stderr(&refused));
    assert!(stderr(&refused).ends_with("nothing was changed\n"));
    assert_eq!(ws.live(), before);
    let forced = ws.run(&["apply", "--yes", "--force"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(ws.live().lines().filter(|l| l.contains(" IN A ")).count(), 1);
}

#[test]
fn record_commands_and_their_errors() {
    let ws = Workspace::new(SOURCE);
    assert!(ws.run(&["apply", "--yes"]).status.success());
    let set =
        ws.run(&["record", "set", "example.com", "pool", "A", "192.0.2.10", "192.0.2.11", "--ttl", "1h", "-p", "live"]);
    assert!(set.status.success(), "{}", stderr(&set));
    let list = ws.run(&["record", "list", "example.com", "--name", "pool", "-p", "live", "--output", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);
    assert_eq!(
        json[0],
        serde_json::json!({"name": "pool.example.com.", "ttl": 3600, "type": "A", "value": "192.0.2.10", "id": null})
    );
    let delete = ws.run(&["record", "delete", "example.com", "pool", "A", "192.0.2.10", "-p", "live"]);
    assert!(delete.status.success());
    assert!(!ws.live().contains("192.0.2.10") && ws.live().contains("192.0.2.11"));

    let before = ws.live();
    for (args, message) in [
        (
            &["record", "add", "example.com", "x", "A", "1.2.3", "-p", "live"][..],
            "zonectl: A value '1.2.3': invalid IPv4 address '1.2.3'\n",
        ),
        (
            &["record", "add", "example.com", "x", "BOGUS", "1", "-p", "live"][..],
            "zonectl: unknown record type 'BOGUS'\n",
        ),
        (
            &["record", "add", "example.com", "x", "A", "192.0.2.1", "--ttl", "1x", "-p", "live"][..],
            "zonectl: --ttl: invalid TTL '1x' (expected seconds or units such as 1h30m)\n",
        ),
        (
            &["record", "add", "example.com", "x.example.net.", "A", "192.0.2.1", "-p", "live"][..],
            "zonectl: name x.example.net. is outside the zone example.com.\n",
        ),
        (
            &["record", "list", "example.com", "-p", "nope"][..],
            "zonectl: no provider named 'nope' in zonectl.toml (configured: live, other)\n",
        ),
        (
            &["record", "delete", "example.com", "@", "NS", "-p", "live"][..],
            "zonectl: live: zone example.com.: the plan changes the apex NS records, which is refused without --force\n",
        ),
    ] {
        let out = ws.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).ends_with(message), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(ws.live(), before, "no failed command changed the zone");
}

#[test]
fn export_and_copy() {
    let ws = Workspace::new(SOURCE);
    assert!(ws.run(&["apply", "--yes"]).status.success());
    let export = ws.run(&["export", "example.com", "-p", "live", "--out", "out.zone"]);
    assert!(export.status.success(), "{}", stderr(&export));
    assert_eq!(fs::read_to_string(ws.path("out.zone")).unwrap(), ws.live());
    let printed = ws.run(&["export", "example.com", "-p", "live"]);
    assert_eq!(stdout(&printed), ws.live());

    let plan_only = ws.run(&["copy", "live:example.com", "other:example.com"]);
    assert!(plan_only.status.success(), "{}", stderr(&plan_only));
    assert!(stdout(&plan_only).contains("Plan: 3 to create"));
    assert!(!Path::new(&ws.path("other/example.com.zone")).exists(), "copy without --apply changes nothing");
    let copied = ws.run(&["copy", "live:example.com", "other:example.com", "--apply", "--yes"]);
    assert!(copied.status.success(), "{}", stderr(&copied));
    assert_eq!(fs::read_to_string(ws.path("other/example.com.zone")).unwrap(), ws.live());
    let bad = ws.run(&["copy", "live", "other:example.com"]);
    assert!(stderr(&bad).ends_with("zonectl: 'live': expected PROVIDER:ZONE\n"));
}

#[test]
fn config_and_output_errors_are_one_line() {
    let ws = Workspace::new(SOURCE);
    fs::write(ws.path("bad.toml"), "[providers.x]\nkind = \"zonefile\"\nendpoint = \"http://127.0.0.1:1\"\n").unwrap();
    let out = ws.run(&["--config", "bad.toml", "zone", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "zonectl: bad.toml: [providers.x]: unknown field `endpoint`, expected `directory` or `max_records`\n"
    );
    // A format the command cannot print is the argument parser's refusal, with the list.
    let out = ws.run(&["plan", "--output", "zone"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with(
            "error: invalid value 'zone' for '--output <FORMAT>'\n  [possible values: text, json, markdown]\n"
        ),
        "{}",
        stderr(&out)
    );
    for (command, allowed) in [
        (&["record", "add", "example.com", "x", "A", "192.0.2.1"][..], "text, json"),
        (&["record", "list", "example.com"][..], "text, json, zone, markdown"),
        (&["export", "example.com"][..], "zone, text, json"),
        (&["apply"][..], "text, json"),
        (&["ddns", "example.com", "x", "--ipv4", "192.0.2.1"][..], "text, json"),
        (&["acme", "present", "x.example.com.", "v"][..], "text, json"),
        (&["zone", "list"][..], "text, json"),
        (&["providers"][..], "text, json"),
        (&["check", "a.zone"][..], "text, json"),
        (&["copy", "a:x.com", "b:x.com"][..], "text, json, markdown"),
    ] {
        let out = ws.run(&[command, &["--output", "yaml"]].concat());
        assert_eq!(out.status.code(), Some(2), "{command:?}");
        assert!(stderr(&out).contains(&format!("[possible values: {allowed}]")), "{command:?}: {}", stderr(&out));
    }
    let out = ws.run(&["plan", "nothere.com"]);
    assert_eq!(stderr(&out), "zonectl: zone nothere.com. is not configured in zonectl.toml\n");
}

#[test]
fn json_and_markdown_plans() {
    let ws = Workspace::new(SOURCE);
    let json = ws.run(&["plan", "--output", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["plans"][0]["summary"], serde_json::json!({"create": 3, "update": 0, "delete": 0}));
    assert_eq!(value["plans"][0]["changes"][1]["name"], "mail.example.com.");
    let md = ws.run(&["plan", "--output", "markdown"]);
    assert!(stdout(&md).contains("| + | `www` | A |  | 300 `192.0.2.1` |"), "{}", stdout(&md));
}

#[test]
fn default_provider_without_config_and_tools() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("zones")).unwrap();
    fs::write(dir.path().join("zones/example.org.zone"), "$ORIGIN example.org.\n$TTL 60\nwww A 192.0.2.1\n").unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_zonectl"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("ZONECTL_CONFIG")
            .output()
            .unwrap()
    };
    let zones = run(&["zone", "list"]);
    assert_eq!(stdout(&zones), "example.org.\n");
    let providers = run(&["providers", "--output", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&providers.stdout).unwrap();
    assert_eq!(json[0]["kind"], "zonefile");
    assert_eq!(json[0]["capabilities"]["updates"], "record_set");
    let completions = run(&["completions", "bash"]);
    assert!(stdout(&completions).contains("_zonectl()"));
    let man = run(&["man"]);
    assert!(stdout(&man).starts_with(".ie \\n(.g .ds Aq"), "{}", &stdout(&man)[..40]);
}

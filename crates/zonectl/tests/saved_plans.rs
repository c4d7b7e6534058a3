//! DNS as code a team can review and trust, through the binary, against every emulator and
//! the `zonefile` provider: a saved plan applies exactly its changes and only while every
//! target holds what was read; an import is a configuration whose plan is empty; a backup
//! puts a zone back record by record.

#[allow(dead_code)]
mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::Emulate;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_zonectl");

/// The provider instances and the zone each holds (the emulators' seeded zones, and a zone
/// file directory).
const ZONES: [(&str, &str); 6] = [
    ("files", "files.test"),
    ("luadns", "example.net"),
    ("domeneshop", "example.no"),
    ("zoneid", "example.ee"),
    ("vpsorg", "example.org"),
    ("mydomainlu", "example.lu"),
];

/// What every zone holds before it is imported: what a team has when it starts.
const SEEDED: [(&str, &str, &str); 3] =
    [("team", "A", "192.0.2.1"), ("team", "A", "192.0.2.2"), ("info", "TXT", "\"hello world\"")];

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every emulator, a `zonefile` directory, one configuration naming them all, and the
/// records of [`SEEDED`] in every zone.
struct World {
    dir: tempfile::TempDir,
    emulate: Emulate,
}

impl World {
    fn start() -> World {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("zonectl.toml");
        let mut args: Vec<&str> = ZONES[1..].iter().map(|(p, _)| *p).collect();
        args.extend(["--time-scale", "0.01", "--write-config", config.to_str().unwrap()]);
        let emulate = Emulate::start(&args);
        std::fs::create_dir(dir.path().join("live")).unwrap();
        std::fs::write(
            dir.path().join("live/files.test.zone"),
            "$ORIGIN files.test.\n@ 3600 IN SOA ns1 hostmaster 1 7200 900 1209600 300\n@ 3600 IN NS ns1\nns1 3600 IN A 192.0.2.53\n",
        )
        .unwrap();
        let mut written = std::fs::read_to_string(&config).unwrap();
        written.push_str("\n[providers.files]\nkind = \"zonefile\"\ndirectory = \"live\"\n");
        std::fs::write(&config, written).unwrap();
        let world = World { dir, emulate };
        for (provider, zone) in ZONES {
            for (name, rtype, data) in SEEDED {
                let added = world.run(&["record", "add", zone, name, rtype, data, "-p", provider]);
                assert!(added.status.success(), "{provider}: {}", text(&added));
            }
        }
        world
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Runs zonectl in `dir` (relative to the world), with the emulators' credentials in
    /// its environment as their own clients take them.
    fn run_in(&self, dir: &str, args: &[&str]) -> Output {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .current_dir(self.path(dir))
            .env("ZONECTL_STATE_DIR", self.path("state"))
            .env_remove("ZONECTL_CONFIG")
            .env("NO_COLOR", "1");
        for emulator in &self.emulate.all {
            for (key, value) in emulator["env"].as_object().unwrap() {
                command.env(key, value.as_str().unwrap());
            }
        }
        command.output().unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_in(".", args)
    }

    /// Every secret the emulators hand out.
    fn secrets(&self) -> Vec<String> {
        let mut secrets = Vec::new();
        for emulator in &self.emulate.all {
            for key in ["api_key", "token", "secret", "password", "read_only_token"] {
                if let Some(value) = emulator[key].as_str() {
                    secrets.push(value.to_owned());
                }
            }
        }
        assert!(secrets.len() >= 6, "{secrets:?}");
        secrets
    }

    /// The number of requests each emulator has received, to tell later ones apart.
    fn mark(&self) -> Vec<usize> {
        ZONES[1..].iter().map(|(p, _)| self.emulate.requests(p).len()).collect()
    }

    /// The requests other than reads each emulator received since `mark`.
    fn writes_since(&self, mark: &[usize]) -> Vec<(String, String, String)> {
        let mut writes = Vec::new();
        for ((provider, _), seen) in ZONES[1..].iter().zip(mark) {
            for (method, path) in self.emulate.requests(provider).into_iter().skip(*seen) {
                if method != "GET" {
                    writes.push((provider.to_string(), method, path));
                }
            }
        }
        writes
    }

    /// The records of `zone` at `provider`, one presentation line each; not the SOA, whose
    /// serial a provider counts up on every change (a restore included).
    fn records(&self, provider: &str, zone: &str) -> BTreeSet<String> {
        self.all_records(provider, zone).into_iter().filter(|l| !l.contains(" SOA ")).collect()
    }

    fn all_records(&self, provider: &str, zone: &str) -> BTreeSet<String> {
        let out = self.run(&["export", zone, "-p", provider]);
        assert!(out.status.success(), "{provider}: {}", text(&out));
        stdout(&out)
            .lines()
            .filter(|l| !l.starts_with(['$', ';']) && !l.trim().is_empty())
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    }

    /// Adds one `[[zone]]` per provider to the configuration, its source the zone as the
    /// provider holds it now (`src/ZONE.zone`).
    fn keep_as_code(&self) {
        std::fs::create_dir_all(self.path("src")).unwrap();
        let mut config = std::fs::read_to_string(self.path("zonectl.toml")).unwrap();
        for (provider, zone) in ZONES {
            let source = format!("src/{zone}.zone");
            let exported = self.run(&["export", zone, "-p", provider, "--out", &source]);
            assert!(exported.status.success(), "{provider}: {}", text(&exported));
            config.push_str(&format!(
                "\n[[zone]]\nname = \"{zone}\"\nsource = \"{source}\"\ntargets = [\"{provider}\"]\n\
                 ignore = [{{ name = \"_acme-challenge*\" }}]\n"
            ));
        }
        std::fs::write(self.path("zonectl.toml"), config).unwrap();
    }

    fn append_to_sources(&self, line: &str) {
        for (_, zone) in ZONES {
            let path = self.path(&format!("src/{zone}.zone"));
            let mut source = std::fs::read_to_string(&path).unwrap();
            source.push_str(line);
            source.push('\n');
            std::fs::write(path, source).unwrap();
        }
    }
}

#[test]
fn import_of_every_provider_plans_empty_and_applies_nothing() {
    let world = World::start();
    for (provider, zone) in ZONES {
        let dir = format!("imported-{provider}");
        let import = world.run(&["import", "-p", provider, "--dir", &dir]);
        assert!(import.status.success(), "{provider}: {}", text(&import));
        let source = std::fs::read_to_string(world.path(&format!("{dir}/{zone}.zone"))).unwrap();
        assert!(source.contains("192.0.2.1") && source.contains("hello world"), "{provider}: {source}");
        let config = std::fs::read_to_string(world.path(&format!("{dir}/zonectl.toml"))).unwrap();
        assert!(config.contains(&format!("name = \"{zone}\"")), "{provider}: {config}");
        for secret in world.secrets() {
            assert!(!config.contains(&secret), "{provider}: the imported configuration holds a secret: {config}");
        }

        let mark = world.mark();
        let before = std::fs::read(world.path("live/files.test.zone")).unwrap();
        let plan = world.run_in(&dir, &["plan", "--detailed-exitcode"]);
        assert_eq!(plan.status.code(), Some(0), "{provider}: the plan right after import: {}", text(&plan));
        let apply = world.run_in(&dir, &["apply", "--yes"]);
        assert!(apply.status.success(), "{provider}: {}", text(&apply));
        assert!(stdout(&apply).contains("No changes."), "{provider}: {}", text(&apply));
        assert_eq!(world.writes_since(&mark), Vec::new(), "{provider}: apply after import sent a change");
        assert_eq!(std::fs::read(world.path("live/files.test.zone")).unwrap(), before);

        // The files are not overwritten, unless asked.
        std::fs::write(world.path(&format!("{dir}/{zone}.zone")), "; my edits\n").unwrap();
        let again = world.run(&["import", "-p", provider, "--dir", &dir]);
        assert_eq!(again.status.code(), Some(1), "{provider}: {}", text(&again));
        assert!(text(&again).contains("--force"), "{provider}: {}", text(&again));
        assert_eq!(std::fs::read_to_string(world.path(&format!("{dir}/{zone}.zone"))).unwrap(), "; my edits\n");
        let forced = world.run(&["import", "-p", provider, "--dir", &dir, "--force"]);
        assert!(forced.status.success(), "{provider}: {}", text(&forced));
        assert_eq!(std::fs::read_to_string(world.path(&format!("{dir}/{zone}.zone"))).unwrap(), source);
    }
    // What zonectl does not model is left out of the files, and said so.
    let domeneshop = std::fs::read_to_string(world.path("imported-domeneshop/example.no.zone")).unwrap();
    assert!(domeneshop.contains("; not imported") && domeneshop.contains("ANAME shop"), "{domeneshop}");
}

#[test]
fn a_saved_plan_applies_exactly_its_changes() {
    let world = World::start();
    world.keep_as_code();
    world.append_to_sources("saved 600 IN A 192.0.2.10");
    let plan = world.run(&["plan", "--out", "reviewed.plan"]);
    assert!(plan.status.success(), "{}", text(&plan));
    let printed = stdout(&plan);
    let checksum = printed.lines().find_map(|l| l.strip_prefix("Plan checksum: ")).expect("a checksum").to_owned();
    let file = std::fs::read_to_string(world.path("reviewed.plan")).unwrap();
    for secret in world.secrets() {
        assert!(!file.contains(&secret), "the plan file holds a secret");
    }
    let saved: Value = serde_json::from_str(&file).unwrap();
    assert_eq!(saved["checksum"], checksum);
    assert_eq!(saved["targets"].as_array().unwrap().len(), ZONES.len());

    // `show` prints it in every format: the file itself as JSON, the plan as text and Markdown.
    let json = world.run(&["show", "reviewed.plan", "-o", "json"]);
    assert_eq!(serde_json::from_slice::<Value>(&json.stdout).unwrap(), saved);
    for (format, created) in
        [("text", "+ saved 600 IN A 192.0.2.10"), ("markdown", "| + | `saved` | A |  | 600 `192.0.2.10` |")]
    {
        let shown = world.run(&["show", "reviewed.plan", "-o", format]);
        assert!(shown.status.success(), "{}", text(&shown));
        assert_eq!(stdout(&shown).matches(created).count(), ZONES.len(), "{format}: {}", stdout(&shown));
        assert!(stdout(&shown).contains(&checksum), "{format}");
    }

    // After the review, the sources move on and a challenge comes and goes at a name the
    // zones ignore: the saved plan is still the one applied, and only it.
    world.append_to_sources("later 600 IN A 192.0.2.11");
    let challenge = world.run(&["record", "add", "example.net", "_acme-challenge", "TXT", "token", "-p", "luadns"]);
    assert!(challenge.status.success(), "{}", text(&challenge));
    let mark = world.mark();
    let apply = world.run(&["apply", "reviewed.plan", "--yes", "--output", "json"]);
    assert!(apply.status.success(), "{}", text(&apply));
    let report = common::change_report(&apply);
    let targets: Vec<&Value> =
        report["zones"].as_array().unwrap().iter().flat_map(|z| z["targets"].as_array().unwrap()).collect();
    assert_eq!(targets.len(), ZONES.len(), "{report:#}");
    for target in &targets {
        assert_eq!(target["status"], "done", "{report:#}");
        assert_eq!(target["summary"]["create"], 1, "{report:#}");
    }
    let writes = world.writes_since(&mark);
    for (provider, _) in &ZONES[1..] {
        assert!(writes.iter().any(|(p, _, _)| p == provider), "{provider} was not written: {writes:?}");
    }
    for (provider, zone) in ZONES {
        let records = world.records(provider, zone);
        assert!(
            records.iter().any(|r| r.starts_with("saved ") && r.ends_with("192.0.2.10")),
            "{provider}: {records:?}"
        );
        assert!(!records.iter().any(|r| r.starts_with("later ")), "{provider}: applied what was not reviewed");
    }
    // What the sources say now is left for the next plan: exactly the later record, per zone.
    let next = world.run(&["plan"]);
    assert_eq!(stdout(&next).matches("+ later").count(), ZONES.len(), "{}", stdout(&next));
    assert!(!stdout(&next).contains("saved"), "{}", stdout(&next));

    // The plan was applied: applying it again is refused, the zones having changed since.
    let mark = world.mark();
    let twice = world.run(&["apply", "--plan", "reviewed.plan", "--yes"]);
    assert_eq!(twice.status.code(), Some(1), "{}", text(&twice));
    assert!(text(&twice).contains("changed since the plan was made"), "{}", text(&twice));
    assert_eq!(world.writes_since(&mark), Vec::new());
}

#[test]
fn a_zone_changed_since_the_plan_refuses_the_whole_plan_with_nothing_sent() {
    let world = World::start();
    world.keep_as_code();
    world.append_to_sources("saved 600 IN A 192.0.2.10");
    let plan = world.run(&["plan", "--out", "reviewed.plan"]);
    assert!(plan.status.success(), "{}", text(&plan));
    // Someone changes a record the plan manages, at one provider, by hand.
    let by_hand = world.run(&["record", "set", "example.org", "team", "A", "192.0.2.99", "-p", "vpsorg"]);
    assert!(by_hand.status.success(), "{}", text(&by_hand));
    let files_before = std::fs::read(world.path("live/files.test.zone")).unwrap();
    let mark = world.mark();
    let apply = world.run(&["apply", "reviewed.plan", "--yes"]);
    assert_eq!(apply.status.code(), Some(1), "{}", text(&apply));
    let said = text(&apply);
    assert!(said.contains("example.org. at vpsorg changed since the plan was made"), "{said}");
    assert!(said.contains("nothing was sent"), "{said}");
    assert!(!said.contains("example.net. at luadns changed"), "{said}");
    assert_eq!(world.writes_since(&mark), Vec::new(), "{said}");
    assert_eq!(std::fs::read(world.path("live/files.test.zone")).unwrap(), files_before);
}

#[test]
fn a_bad_apply_is_undone_by_restoring_its_backups_at_every_provider() {
    let world = World::start();
    world.keep_as_code();
    let before: Vec<BTreeSet<String>> = ZONES.iter().map(|(p, z)| world.records(p, z)).collect();
    let held: Vec<usize> = ZONES.iter().map(|(p, z)| world.all_records(p, z).len()).collect();
    // A bad change reaches every zone: most records gone, one wrong one added.
    for (_, zone) in ZONES {
        let path = world.path(&format!("src/{zone}.zone"));
        let source = std::fs::read_to_string(&path).unwrap();
        let kept: String =
            source.lines().filter(|l| !l.contains("team") && !l.contains("hello")).map(|l| format!("{l}\n")).collect();
        std::fs::write(path, format!("{kept}bad 600 IN A 192.0.2.66\n")).unwrap();
    }
    let bad = world.run(&["apply", "--yes", "--force"]);
    assert!(bad.status.success(), "{}", text(&bad));
    for ((provider, zone), before) in ZONES.iter().zip(&before) {
        assert_ne!(&world.records(provider, zone), before, "{provider}: the bad apply changed nothing");
    }

    let list = world.run(&["backups", "list", "-o", "json"]);
    assert!(list.status.success(), "{}", text(&list));
    let listed: Vec<Value> = serde_json::from_slice(&list.stdout).unwrap();
    for (((provider, zone), before), held) in ZONES.iter().zip(&before).zip(held) {
        // The newest whole-zone backup of the zone: the one the bad apply took.
        let taken = listed
            .iter()
            .rfind(|b| b["provider"] == *provider && b["zone"] == format!("{zone}.") && b["scope"] == "whole zone")
            .unwrap_or_else(|| panic!("no backup of {zone} at {provider}: {listed:?}"));
        assert_eq!(taken["records"], held, "{provider}: {taken}");
        let id = taken["id"].as_str().unwrap();
        let restore = world.run(&["backups", "restore", id, "--yes"]);
        assert!(restore.status.success(), "{provider}: {}", text(&restore));
        assert_eq!(&world.records(provider, zone), before, "{provider}: not the zone the backup holds");
    }
    // The text listing names each backup with its time, provider, zone and record count.
    let table = stdout(&world.run(&["backups", "list", "example.lu", "-p", "mydomainlu"]));
    let mut lines = table.lines();
    assert_eq!(
        lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
        ["TAKEN", "PROVIDER", "ZONE", "RECORDS", "SCOPE", "BACKUP"]
    );
    assert!(lines.all(|l| l.contains(" mydomainlu ") && l.contains(" example.lu. ")), "{table}");
}

/// A `zonefile` workspace: a configuration with one zone kept as code in `example.com.zone`
/// and applied to `live/`.
struct Workspace {
    dir: tempfile::TempDir,
}

const SOURCE: &str = "$ORIGIN example.com.\n$TTL 300\nwww A 192.0.2.1\nmail A 192.0.2.2\n";

impl Workspace {
    fn new(extra_config: &str) -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("zonectl.toml"),
            format!(
                "{extra_config}[providers.live]\nkind = \"zonefile\"\ndirectory = \"live\"\n\n\
                 [[zone]]\nname = \"example.com\"\nsource = \"example.com.zone\"\ntargets = [\"live\"]\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.path().join("example.com.zone"), SOURCE).unwrap();
        Workspace { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn run_from(&self, cwd: &Path, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .current_dir(cwd)
            .env("ZONECTL_STATE_DIR", self.path("state"))
            .env_remove("ZONECTL_CONFIG")
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_from(self.dir.path(), args)
    }

    fn live(&self) -> Option<String> {
        std::fs::read_to_string(self.path("live/example.com.zone")).ok()
    }
}

#[test]
fn an_altered_or_foreign_plan_file_is_refused() {
    let ws = Workspace::new("");
    assert!(ws.run(&["plan", "--out", "p.json"]).status.success());
    let file = std::fs::read_to_string(ws.path("p.json")).unwrap();
    let refusals = [
        (file.replace("192.0.2.2", "192.0.2.66"), "altered since it was written"),
        (file.replace("\"zonectl_plan\": 2", "\"zonectl_plan\": 3"), "a newer zonectl (plan format 3"),
        (file.replace("\"zonectl_plan\": 2,", ""), "not a zonectl plan file"),
        (file[..file.len() / 2].to_owned(), "not a zonectl plan file"),
    ];
    assert_ne!(refusals[0].0, file, "the edit changes the file");
    for (altered, why) in refusals {
        std::fs::write(ws.path("altered.json"), &altered).unwrap();
        let apply = ws.run(&["apply", "--plan", "altered.json", "--yes"]);
        assert_eq!(apply.status.code(), Some(1), "{}", text(&apply));
        let said = String::from_utf8_lossy(&apply.stderr);
        assert!(said.contains("altered.json: ") && said.contains(why), "{why}: {said}");
        assert_eq!(said.lines().count(), 1, "{said}");
        assert_eq!(ws.live(), None, "{why}: something was written");
    }
    // The file as written applies.
    let apply = ws.run(&["apply", "p.json", "--yes"]);
    assert!(apply.status.success(), "{}", text(&apply));
    assert!(ws.live().unwrap().contains("192.0.2.2"));
}

#[test]
fn apply_checksum_goes_ahead_only_on_the_reviewed_plan() {
    let ws = Workspace::new("");
    let checksum_of = |out: &Output| {
        assert!(out.status.success(), "{}", text(out));
        stdout(out).lines().find_map(|l| l.strip_prefix("Plan checksum: ")).expect("a checksum").to_owned()
    };
    let reviewed = checksum_of(&ws.run(&["plan"]));
    // The same inputs make the same checksum, from another directory and at another time.
    let elsewhere = tempfile::tempdir().unwrap();
    let config = ws.path("zonectl.toml");
    assert_eq!(checksum_of(&ws.run_from(elsewhere.path(), &["plan", "--config", config.to_str().unwrap()])), reviewed);
    // A checksum of the JSON plan is the one printed.
    let json: Value = serde_json::from_slice(&ws.run(&["plan", "-o", "json"]).stdout).unwrap();
    assert_eq!(json["checksum"], reviewed);

    let wrong = ws.run(&["apply", "--checksum", "sha256:0000", "--yes"]);
    assert_eq!(wrong.status.code(), Some(1), "{}", text(&wrong));
    assert!(text(&wrong).contains("not the sha256:0000 reviewed"), "{}", text(&wrong));
    std::fs::write(ws.path("example.com.zone"), format!("{SOURCE}new A 192.0.2.3\n")).unwrap();
    let moved = ws.run(&["apply", "--checksum", &reviewed, "--yes"]);
    assert_eq!(moved.status.code(), Some(1), "{}", text(&moved));
    assert_eq!(ws.live(), None, "nothing is applied when the plan is not the one reviewed");
    std::fs::write(ws.path("example.com.zone"), SOURCE).unwrap();
    let apply = ws.run(&["apply", "--checksum", &reviewed, "--yes"]);
    assert!(apply.status.success(), "{}", text(&apply));
    assert!(ws.live().unwrap().contains("192.0.2.1"));
}

#[test]
fn backups_are_pruned_as_configured_and_said_so() {
    let ws = Workspace::new("[backups]\nkeep = 2\n\n");
    for (i, address) in ["192.0.2.11", "192.0.2.12", "192.0.2.13"].iter().enumerate() {
        std::fs::write(ws.path("example.com.zone"), SOURCE.replace("192.0.2.1", address)).unwrap();
        let apply = ws.run(&["apply", "--yes"]);
        assert!(apply.status.success(), "{}", text(&apply));
        let pruned = String::from_utf8_lossy(&apply.stderr).contains("removed 1 older backup(s)");
        assert_eq!(pruned, i == 2, "apply {i}: {}", text(&apply));
    }
    let list = ws.run(&["backups", "list", "-o", "json"]);
    let listed: Vec<Value> = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    // The newest backup (the list is oldest first) is the zone before the last apply.
    let newest = listed.last().unwrap();
    let held = std::fs::read_to_string(newest["path"].as_str().unwrap()).unwrap();
    assert!(held.contains("192.0.2.12") && !held.contains("192.0.2.13"), "{held}");

    std::fs::write(
        ws.path("zonectl.toml"),
        std::fs::read_to_string(ws.path("zonectl.toml")).unwrap().replace("keep = 2", "keep = 0"),
    )
    .unwrap();
    let refused = ws.run(&["backups", "list"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused).contains("keep"), "{}", text(&refused));
}

#[test]
fn restoring_an_edit_backup_puts_back_that_name_alone() {
    let ws = Workspace::new("");
    assert!(ws.run(&["apply", "--yes"]).status.success());
    let set = ws.run(&["record", "set", "example.com", "www", "A", "192.0.2.77", "-p", "live"]);
    assert!(set.status.success(), "{}", text(&set));
    let backup = String::from_utf8_lossy(&set.stderr)
        .lines()
        .find_map(|l| l.split("before the change: ").nth(1).map(str::to_owned))
        .expect("the edit's backup");
    // Another change after it, at another name, stays.
    let other = ws.run(&["record", "set", "example.com", "mail", "A", "192.0.2.88", "-p", "live"]);
    assert!(other.status.success(), "{}", text(&other));
    let restore = ws.run(&["backups", "restore", &backup, "--yes"]);
    assert!(restore.status.success(), "{}", text(&restore));
    let live = ws.live().unwrap();
    assert!(live.contains("192.0.2.1\n") && !live.contains("192.0.2.77"), "{live}");
    assert!(live.contains("192.0.2.88") && !live.contains("192.0.2.2\n"), "{live}");
}

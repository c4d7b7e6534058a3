//! Many writers: zonectl processes that share a machine (and a state directory, or not),
//! and other clients that share a provider's budget. Against the emulators on a faster
//! clock, asserting on their request logs: budgets are kept across processes, a 429 is
//! waited out (or refused at once when the wait is beyond the budget), narrow edits from
//! machines that share nothing keep each other's values, and a lock is never waited on in
//! silence or forever.

#[allow(dead_code)]
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use common::Emulate;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_zonectl");

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Emulators with a configuration written for them, in a directory of their own.
struct Site {
    dir: tempfile::TempDir,
    emulate: Emulate,
}

impl Site {
    /// `zonectl emulate ARGS… --write-config`, and `extra` appended to the configuration.
    fn start(args: &[&str], extra: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("zonectl.toml");
        let mut all = args.to_vec();
        all.extend(["--write-config", config.to_str().unwrap()]);
        let emulate = Emulate::start(&all);
        let mut written = std::fs::read_to_string(&config).unwrap();
        written.push_str(extra);
        std::fs::write(&config, written).unwrap();
        Site { dir, emulate }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn command(&self, state: &str, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("ZONECTL_STATE_DIR", self.path(state))
            .env_remove("ZONECTL_CONFIG")
            .env("NO_COLOR", "1");
        command
    }

    /// Runs zonectl with the state directory `state` (relative to the site).
    fn run(&self, state: &str, args: &[&str]) -> Output {
        self.command(state, args).output().unwrap()
    }

    fn spawn(&self, state: &str, args: &[&str]) -> Child {
        self.command(state, args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
    }

    /// Another client spends `n` requests of `kind`'s budget.
    fn spend(&self, kind: &str, n: u32) {
        self.emulate.control(kind, "PUT", "/_emulator/faults", &format!("{{\"spend_budget\": {n}}}"));
    }

    /// The requests `kind`'s emulator received in each window of `window_ms` of its clock.
    fn per_window(&self, kind: &str, window_ms: u64) -> BTreeMap<u64, usize> {
        let mut counts = BTreeMap::new();
        for entry in self.emulate.log(kind) {
            *counts.entry(entry["service_ms"].as_u64().unwrap() / window_ms).or_default() += 1;
        }
        counts
    }

    fn refused(&self, kind: &str) -> usize {
        self.emulate.log(kind).iter().filter(|e| e["status"] == 429).count()
    }
}

/// A zone file of `n` A records.
fn big_zone(origin: &str, n: usize) -> String {
    let mut text = format!("$ORIGIN {origin}.\n$TTL 3600\n");
    for i in 0..n {
        text.push_str(&format!("h{i} A 192.0.2.{}\n", i % 250 + 1));
    }
    text
}

/// The busiest window's count.
fn busiest(counts: &BTreeMap<u64, usize>) -> usize {
    counts.values().copied().max().unwrap_or(0)
}

#[test]
fn another_client_spending_the_zoneid_minute_is_waited_out() {
    // A minute of the service is 3 s here: long enough that a spend and the command after
    // it nearly always fall in one minute (the loop below tries again when they did not).
    let extra =
        "\n[[zone]]\nname = \"example.com\"\nsource = \"big.zone\"\ntargets = [\"zoneid\"]\n\n[acme]\nwait = false\n";
    let site = Site::start(&["zoneid", "--time-scale", "0.05"], extra);
    std::fs::write(site.path("big.zone"), big_zone("example.com", 70)).unwrap();
    let steps: [&[&str]; 3] = [
        &["record", "add", "example.ee", "x1", "A", "192.0.2.1", "-p", "zoneid"],
        &["acme", "present", "_acme-challenge.example.ee.", "challenge-token"],
        &["apply", "--yes"],
    ];
    for step in steps {
        let mut met = false;
        for _ in 0..3 {
            let refused_before = site.refused("zoneid");
            site.spend("zoneid", 60);
            let out = site.run("state", step);
            assert!(out.status.success(), "{step:?}: {}", text(&out));
            assert!(!text(&out).contains("FAILED"), "{step:?}: {}", text(&out));
            if site.refused("zoneid") > refused_before {
                let said = String::from_utf8_lossy(&out.stderr);
                assert!(
                    said.contains("zoneid: rate limited by the service; waiting")
                        && said.contains("another client on this address"),
                    "{step:?}: {said}"
                );
                met = true;
                break;
            }
        }
        assert!(met, "{step:?}: the other client's spend never met a request of ours");
    }
    let listed = site.run("state", &["record", "list", "example.com", "-p", "zoneid", "-o", "json"]);
    let records: Vec<Value> = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(records.iter().filter(|r| r["type"] == "A").count(), 70, "{}", text(&listed));
    // Ours alone (the other client's are not in the log) never pass the budget in a minute,
    // and after each spend only the requests in flight (ZoneID's apply sends 4 at once) met
    // the refusal: every later one waited.
    let counts = site.per_window("zoneid", 60_000);
    assert!(busiest(&counts) <= 60, "{counts:?}");
    assert!(site.refused("zoneid") <= 3 * 4 * 3, "{} refused", site.refused("zoneid"));
}

#[test]
fn two_applies_share_one_zoneid_budget() {
    let extra = "\n[[zone]]\nname = \"example.com\"\nsource = \"com.zone\"\ntargets = [\"zoneid\"]\n\n\
                 [[zone]]\nname = \"example.ee\"\nsource = \"ee.zone\"\ntargets = [\"zoneid\"]\n";
    let site = Site::start(&["zoneid", "--time-scale", "0.02"], extra);
    std::fs::write(site.path("com.zone"), big_zone("example.com", 60)).unwrap();
    std::fs::write(site.path("ee.zone"), big_zone("example.ee", 60)).unwrap();
    let first = site.spawn("state", &["apply", "example.com", "--yes"]);
    let second = site.spawn("state", &["apply", "example.ee", "--yes"]);
    for child in [first, second] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        assert!(!text(&out).contains("FAILED") && !text(&out).contains("not attempted"), "{}", text(&out));
    }
    let counts = site.per_window("zoneid", 60_000);
    assert!(counts.len() >= 2, "the two applies fit in one minute: the budget was never reached: {counts:?}");
    assert!(busiest(&counts) <= 60, "{counts:?}");
    assert_eq!(site.refused("zoneid"), 0, "the two processes together were refused");
}

#[test]
fn two_record_loops_share_one_luadns_budget() {
    // LuaDNS's 5 minutes are 1.5 s here, and its budget 30 requests: two loops of 20
    // `record add` (3 requests each) need four windows.
    let site = Site::start(&["luadns", "--time-scale", "0.005", "--rate-limit", "30"], "");
    let loops: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|tag| {
            let dir = site.dir.path().to_owned();
            std::thread::spawn(move || run_loop(&dir, "state", "luadns", "example.net", tag))
        })
        .collect();
    for handle in loops {
        handle.join().unwrap();
    }
    assert_eq!(values_at(&site, "state", "luadns", "example.net").len(), 40);
    let counts = site.per_window("luadns", 300_000);
    assert!(counts.len() >= 3, "the budget was never reached: {counts:?}");
    assert!(busiest(&counts) <= 30, "{counts:?}");
    assert_eq!(site.refused("luadns"), 0);
}

/// 20 `record add` of `loop2 TXT "TAG-i"` in `zone` at `provider`, one process after another,
/// with the state directory `state`.
fn run_loop(site: &Path, state: &str, provider: &str, zone: &str, tag: &str) {
    for i in 0..20 {
        let out = Command::new(BIN)
            .args(["record", "add", zone, "loop2", "TXT", &format!("{tag}-{i}"), "-p", provider])
            .current_dir(site)
            .env("ZONECTL_STATE_DIR", site.join(state))
            .env_remove("ZONECTL_CONFIG")
            .output()
            .unwrap();
        assert!(out.status.success(), "{provider} {tag}-{i}: {}", text(&out));
    }
}

fn values_at(site: &Site, state: &str, provider: &str, zone: &str) -> Vec<String> {
    let out =
        site.run(state, &["record", "list", zone, "--name", "loop2", "--type", "TXT", "-p", provider, "-o", "json"]);
    assert!(out.status.success(), "{provider}: {}", text(&out));
    let records: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut values: Vec<String> = records.iter().map(|r| r["value"].as_str().unwrap().to_owned()).collect();
    values.sort();
    values
}

/// The providers and a zone each holds.
const ZONES: [(&str, &str); 5] = [
    ("luadns", "example.net"),
    ("domeneshop", "example.no"),
    ("zoneid", "example.ee"),
    ("vpsorg", "example.org"),
    ("mydomainlu", "example.lu"),
];

#[test]
fn machines_that_share_nothing_keep_each_others_values() {
    let kinds: Vec<&str> = ZONES.iter().map(|(p, _)| *p).collect();
    let site = Site::start(&[&kinds[..], &["--time-scale", "0.01"]].concat(), "\n[acme]\nwait = false\n");
    // Two machines: no state directory, so no lock and no budget, in common.
    let loops: Vec<_> = ZONES
        .iter()
        .flat_map(|&(provider, zone)| [(provider, zone, "a", "state-a"), (provider, zone, "b", "state-b")])
        .map(|(provider, zone, tag, state)| {
            let dir = site.dir.path().to_owned();
            std::thread::spawn(move || run_loop(&dir, state, provider, zone, tag))
        })
        .collect();
    for handle in loops {
        handle.join().unwrap();
    }
    for (provider, zone) in ZONES {
        let values = values_at(&site, "state-a", provider, zone);
        assert_eq!(values.len(), 40, "{provider}: {values:?}");
    }

    // The ACME hooks of two machines at once, for one name: both values, then none.
    for phase in ["present", "cleanup"] {
        let children: Vec<(&str, Child)> = ZONES
            .iter()
            .flat_map(|&(provider, zone)| {
                ["a", "b"].map(|tag| {
                    let name = format!("_acme-challenge.{zone}.");
                    (provider, site.spawn(&format!("state-{tag}"), &["acme", phase, &name, &format!("token-{tag}")]))
                })
            })
            .collect();
        for (provider, child) in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{provider} {phase}: {}", text(&out));
        }
        for (provider, zone) in ZONES {
            let out = site.run(
                "state-a",
                &["record", "list", zone, "--name", "_acme-challenge", "--type", "TXT", "-p", provider, "-o", "json"],
            );
            let records: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
            let expected = if phase == "present" { 2 } else { 0 };
            assert_eq!(records.len(), expected, "{provider} after {phase}: {records:?}");
        }
    }
}

#[test]
fn a_wait_longer_than_the_budget_fails_at_once_naming_it() {
    let site = Site::start(&["luadns", "--time-scale", "0.01"], "");
    site.emulate.control("luadns", "PUT", "/_emulator/faults", r#"{"rate_limit_burst": 100, "retry_after": "1e30"}"#);
    let out = site.run("state", &["record", "list", "example.net", "-p", "luadns"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(said.contains("luadns: rate limited by the service: the service asks to wait 5124095576030431h"), "{said}");
    assert!(said.contains("more than the"), "{said}");
    // Asked once, not again after a wait.
    assert_eq!(site.emulate.log("luadns").len(), 1, "{:?}", site.emulate.log("luadns"));
}

#[test]
fn two_names_for_one_directory_are_refused_when_the_configuration_loads() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("zonectl.toml"),
        "[providers.a]\nkind = \"zonefile\"\ndirectory = \"zones\"\n\n\
         [providers.b]\nkind = \"zonefile\"\ndirectory = \"./zones/\"\n\n\
         [[zone]]\nname = \"example.com\"\nsource = \"example.com.zone\"\ntargets = [\"a\", \"b\"]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("example.com.zone"), "$ORIGIN example.com.\nwww 300 A 192.0.2.1\n").unwrap();
    for args in [&["apply", "--yes"][..], &["zone", "list"], &["record", "add", "example.com", "x", "A", "192.0.2.2"]] {
        let out = Command::new(BIN)
            .args(args)
            .current_dir(dir.path())
            .env("ZONECTL_STATE_DIR", dir.path().join("state"))
            .env_remove("ZONECTL_CONFIG")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("targets 'a' and 'b' are one and the same place"), "{args:?}: {said}");
        assert!(!dir.path().join("zones").exists(), "{args:?} wrote something");
    }
}

#[test]
fn a_held_lock_is_announced_and_given_up_on_naming_its_holder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("zonectl.toml"),
        "[locks]\nwait = \"1s\"\n\n[providers.live]\nkind = \"zonefile\"\ndirectory = \"zones\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("zones/.zonectl")).unwrap();
    // Another zonectl, elsewhere, holds the zone's edit lock.
    let lock_path = dir.path().join("zones/.zonectl/example.com.edit.lock");
    let mut held = std::fs::OpenOptions::new().create(true).truncate(true).write(true).open(&lock_path).unwrap();
    held.lock().unwrap();
    use std::io::Write as _;
    writeln!(held, "pid 4242 on build-7 since 2026-12-06T12:00:00Z").unwrap();
    let run = || {
        Command::new(BIN)
            .args(["record", "add", "example.com", "www", "A", "192.0.2.1", "-p", "live"])
            .current_dir(dir.path())
            .env("ZONECTL_STATE_DIR", dir.path().join("state"))
            .env_remove("ZONECTL_CONFIG")
            .output()
            .unwrap()
    };
    let out = run();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stderr);
    let mut lines = said.lines();
    let waiting = lines.next().unwrap();
    assert!(
        waiting.starts_with(
            "zonectl: live: waiting for another zonectl (pid 4242 on build-7 since 2026-12-06T12:00:00Z) to finish with"
        ) && waiting.ends_with("example.com.edit.lock; giving up after 1s"),
        "{said}"
    );
    let error = lines.next().unwrap();
    assert!(error.contains("locked by pid 4242 on build-7") && error.contains("for longer than 1s"), "{said}");
    assert_eq!(lines.next(), None, "{said}");
    assert!(!dir.path().join("zones/example.com.zone").exists());
    // Once it is let go, the same command goes ahead.
    drop(held);
    let out = run();
    assert!(out.status.success(), "{}", text(&out));
}

//! Every way in, one meaning: each front door — the record commands, `ddns`, the ACME
//! hooks, and `serve`'s webhook, httpreq, dyndns2 and RFC 2136 gateway — makes the same
//! change through the one edit transaction, against a zone with two targets of different
//! kinds (a `zonefile` directory and an emulated LuaDNS) and against each provider alone.
//! After each: every target holds the value, a listing shows it once, and the report (the
//! JSON document, or serve's log line per target) names each target's outcome. Then the
//! same with LuaDNS refusing every write: the zone file is still written, and each door
//! says the change did not complete there.

#[allow(dead_code)]
mod common;

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use common::Emulate;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_zonectl");
const TSIG: &str = "Zm9yIHRoZSBmcm9udCBkb29yIHRlc3Qgb25seSwgMzIgYnl0ZXM=";

/// The zone with two targets, and the zone each provider holds alone.
const TWO_TARGETS: (&str, &[&str]) = ("example.com", &["files", "luadns"]);
const ALONE: [(&str, &str); 6] = [
    ("files.test", "files"),
    ("example.net", "luadns"),
    ("example.no", "domeneshop"),
    ("example.ee", "zoneid"),
    ("example.org", "vpsorg"),
    ("example.lu", "mydomainlu"),
];

struct World {
    dir: tempfile::TempDir,
    emulate: Emulate,
    serve: Child,
    listeners: BTreeMap<String, String>,
    http: reqwest::blocking::Client,
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = self.serve.kill();
        let _ = self.serve.wait();
    }
}

impl World {
    fn start() -> World {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("zonectl.toml");
        let providers = ALONE.iter().skip(1).map(|(_, p)| *p).collect::<Vec<_>>();
        let mut args = providers.clone();
        args.extend(["--time-scale", "0.01", "--write-config", config.to_str().unwrap()]);
        let emulate = Emulate::start(&args);
        std::fs::create_dir(dir.path().join("zones")).unwrap();
        std::fs::write(
            dir.path().join("zones/files.test.zone"),
            "$ORIGIN files.test.\n@ 3600 IN SOA ns1 hostmaster 1 7200 900 1209600 300\n@ 3600 IN NS ns1\nns1 3600 IN A 192.0.2.53\n",
        )
        .unwrap();
        let zones: Vec<String> =
            std::iter::once(TWO_TARGETS.0).chain(ALONE.iter().map(|(z, _)| *z)).map(|z| format!("\"{z}\"")).collect();
        let mut text = std::fs::read_to_string(&config).unwrap();
        text.push_str(&format!(
            r#"
[providers.files]
kind = "zonefile"
directory = "zones"

[[zone]]
name = "{zone}"
targets = [{targets}]

[acme]
wait = false

[[serve.dyndns.users]]
name = "router"
password = "router-password-1"
hostnames = ["*"]

[[serve.httpreq.users]]
name = "lego"
password = "lego-password-2"
names = ["*"]

[[serve.rfc2136.keys]]
name = "door-key"
algorithm = "hmac-sha256"
secret = "{TSIG}"
zones = [{zones}]
"#,
            zone = TWO_TARGETS.0,
            targets = TWO_TARGETS.1.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(", "),
            zones = zones.join(", "),
        ));
        std::fs::write(&config, text).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();

        let log = std::fs::File::create(dir.path().join("serve.log")).unwrap();
        let mut serve = World::command_in(dir.path())
            .args(["serve", "--external-dns", "127.0.0.1:0", "--httpreq", "127.0.0.1:0", "--dyndns", "127.0.0.1:0"])
            .args(["--rfc2136", "127.0.0.1:0", "--metrics", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(serve.stdout.take().unwrap());
        let mut listeners = BTreeMap::new();
        while listeners.len() < 5 {
            let mut line = String::new();
            assert!(lines.read_line(&mut line).unwrap() > 0, "serve stopped: {}", read(&dir.path().join("serve.log")));
            let parsed: Value = serde_json::from_str(&line).unwrap();
            listeners.insert(
                parsed["listener"].as_str().unwrap().to_owned(),
                parsed["address"].as_str().unwrap().to_owned(),
            );
        }
        let world = World { dir, emulate, serve, listeners, http: reqwest::blocking::Client::new() };
        // Ready: every provider has answered.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while world.http.get(format!("{}/readyz", world.url("metrics"))).send().unwrap().status() != 200 {
            assert!(std::time::Instant::now() < deadline, "never ready: {}", world.log());
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        world
    }

    fn command_in(dir: &Path) -> Command {
        let mut command = Command::new(BIN);
        command
            .current_dir(dir)
            .env("ZONECTL_CONFIG", dir.join("zonectl.toml"))
            .env("ZONECTL_STATE_DIR", dir.join("state"))
            .env("NO_COLOR", "1")
            .env_remove("WEBHOOK_HOST")
            .env_remove("WEBHOOK_PORT")
            .env_remove("METRICS_HOST")
            .env_remove("METRICS_PORT");
        command
    }

    fn zonectl(&self, args: &[&str]) -> Output {
        World::command_in(self.dir.path()).args(args).output().unwrap()
    }

    fn url(&self, listener: &str) -> String {
        format!("http://{}", self.listeners[listener])
    }

    fn log(&self) -> String {
        read(&self.dir.path().join("serve.log"))
    }

    /// The values of a set as `provider` lists them (`None`: as the zone's route reads it).
    fn held(&self, zone: &str, name: &str, rtype: &str, provider: Option<&str>) -> Vec<String> {
        let absolute = format!("{name}.");
        let mut args = vec!["record", "list", zone, "--name", &absolute, "--type", rtype, "--output", "json"];
        if let Some(p) = provider {
            args.extend(["-p", p]);
        }
        let out = self.zonectl(&args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        let mut values: Vec<String> =
            list.iter().map(|r| r["value"].as_str().unwrap().trim_matches('"').to_owned()).collect();
        values.sort();
        values
    }

    /// Sets the faults of the emulator of `kind`.
    fn faults(&self, kind: &str, faults: &Value) {
        let endpoint = self.emulate.of(kind)["endpoint"].as_str().unwrap().to_owned();
        let base = endpoint.trim_start_matches("http://").split('/').next().unwrap().to_owned();
        let answer = self.http.put(format!("http://{base}/_emulator/faults")).json(faults).send().unwrap();
        assert!(answer.status().is_success());
    }
}

fn read(path: &PathBuf) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A front door, and the record it sets.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Door {
    Record,
    Ddns,
    Acme,
    Webhook,
    Httpreq,
    Dyndns,
    Rfc2136,
}

const DOORS: [Door; 7] =
    [Door::Record, Door::Ddns, Door::Acme, Door::Webhook, Door::Httpreq, Door::Dyndns, Door::Rfc2136];

impl Door {
    fn label(self) -> &'static str {
        match self {
            Door::Record => "record",
            Door::Ddns => "ddns",
            Door::Acme => "acme",
            Door::Webhook => "webhook",
            Door::Httpreq => "httpreq",
            Door::Dyndns => "dyndns",
            Door::Rfc2136 => "rfc2136",
        }
    }

    /// The owner (relative to the zone), the type and the value this door sets, `round`
    /// making each run's value its own.
    fn record(self, round: u8) -> (String, &'static str, String) {
        let label = self.label();
        match self {
            Door::Acme | Door::Httpreq => (format!("_acme-challenge.fd-{label}"), "TXT", format!("{label}-{round}")),
            Door::Record | Door::Rfc2136 => (format!("fd-{label}"), "TXT", format!("{label}-{round}")),
            Door::Ddns => (format!("fd-{label}"), "A", format!("198.51.100.{}", 10 + round)),
            Door::Webhook => (format!("fd-{label}"), "A", format!("198.51.100.{}", 40 + round)),
            Door::Dyndns => (format!("fd-{label}"), "A", format!("198.51.100.{}", 70 + round)),
        }
    }

    /// Whether the door writes a report (JSON) of its own, else serve's log lines.
    fn cli(self) -> bool {
        matches!(self, Door::Record | Door::Ddns | Door::Acme)
    }

    /// Makes the change; `Ok` with the change report (CLI doors: the JSON document;
    /// `Value::Null` for serve's), `Err` with the report (if the door printed one) and what
    /// the door said when it says the change did not complete.
    fn apply(self, world: &World, zone: &str, round: u8) -> Result<Value, (Value, String)> {
        let (owner, rtype, value) = self.record(round);
        let fqdn = format!("{owner}.{zone}");
        let json = |out: Output| -> Result<Value, (Value, String)> {
            let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
            if out.status.success() { Ok(report) } else { Err((report, text(&out))) }
        };
        let failed = |said: String| Err((Value::Null, said));
        let basic = |user: &str, password: &str| (user.to_owned(), Some(password.to_owned()));
        match self {
            Door::Record => json(world.zonectl(&[
                "record",
                "add",
                zone,
                &owner,
                rtype,
                &format!("\"{value}\""),
                "--output",
                "json",
            ])),
            Door::Ddns => json(world.zonectl(&["ddns", zone, &owner, "--ipv4", &value, "--output", "json"])),
            Door::Acme => json(world.zonectl(&["acme", "present", &format!("{fqdn}."), &value, "--output", "json"])),
            Door::Webhook => {
                let body = json!({ "create": [{ "dnsName": fqdn, "recordType": rtype, "targets": [value], "recordTTL": 300 }] });
                let answer = world
                    .http
                    .post(format!("{}/records", world.url("external-dns")))
                    .header("Content-Type", "application/external.dns.webhook+json;version=1")
                    .body(body.to_string())
                    .send()
                    .unwrap();
                if answer.status() == 204 {
                    Ok(Value::Null)
                } else {
                    failed(format!("{}: {}", answer.status(), answer.text().unwrap()))
                }
            }
            Door::Httpreq => {
                let (user, password) = basic("lego", "lego-password-2");
                let answer = world
                    .http
                    .post(format!("{}/present", world.url("httpreq")))
                    .basic_auth(user, password)
                    .json(&json!({ "fqdn": format!("{fqdn}."), "value": value }))
                    .send()
                    .unwrap();
                if answer.status() == 200 {
                    Ok(Value::Null)
                } else {
                    failed(format!("{}: {}", answer.status(), answer.text().unwrap()))
                }
            }
            Door::Dyndns => {
                let (user, password) = basic("router", "router-password-1");
                let answer = world
                    .http
                    .get(format!("{}/nic/update?hostname={fqdn}&myip={value}", world.url("dyndns")))
                    .basic_auth(user, password)
                    .send()
                    .unwrap()
                    .text()
                    .unwrap();
                if answer.starts_with("good") { Ok(Value::Null) } else { failed(answer) }
            }
            Door::Rfc2136 => {
                let port = world.listeners["rfc2136"].rsplit(':').next().unwrap().to_owned();
                let script =
                    format!("server 127.0.0.1 {port}\nzone {zone}\nupdate add {fqdn}. 300 TXT \"{value}\"\nsend\n");
                let (ok, said) = nsupdate(&script);
                if ok { Ok(Value::Null) } else { failed(said) }
            }
        }
    }
}

fn nsupdate(script: &str) -> (bool, String) {
    use std::io::Write as _;
    let mut child = Command::new("nsupdate")
        .args(["-y", &format!("hmac-sha256:door-key:{TSIG}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), text(&out))
}

/// The targets a change report names, each with its status.
fn statuses(report: &Value) -> Vec<(String, String)> {
    report["zones"][0]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["provider"].as_str().unwrap().to_owned(), t["status"].as_str().unwrap().to_owned()))
        .collect()
}

/// What serve's log says of `zone` at each target for a door's listener, since `from`.
fn logged(log: &str, listener: &str, zone: &str, targets: &[&str]) -> Vec<String> {
    targets
        .iter()
        .map(|t| {
            let prefix = format!(" {zone}. at {t}: ");
            log.lines()
                .rev()
                .find(|l| l.contains(&format!("{listener}: ")) && l.contains(&prefix))
                .and_then(|l| l.split(&prefix).nth(1))
                .map(|rest| rest.split(',').next().unwrap().to_owned())
                .unwrap_or_else(|| format!("no line for {zone} at {t}"))
        })
        .collect()
}

fn listener(door: Door) -> &'static str {
    match door {
        Door::Webhook => "external-dns",
        other => other.label(),
    }
}

/// Checks one door's change at `zone` (held by `targets`): every target holds the value,
/// the listings show it once, and the report names each target's outcome.
fn check(world: &World, door: Door, zone: &str, targets: &[&str], round: u8) {
    let (owner, rtype, value) = door.record(round);
    let fqdn = format!("{owner}.{zone}");
    let report = door.apply(world, zone, round).unwrap_or_else(|(_, e)| panic!("{door:?} at {zone}: {e}"));
    for target in targets {
        assert!(
            world.held(zone, &fqdn, rtype, Some(target)).contains(&value),
            "{door:?} at {zone}: {target} does not hold {value}"
        );
    }
    // The listing reads the zone's first target: the value once, not once per target.
    let listed = world.held(zone, &fqdn, rtype, None);
    assert_eq!(listed.iter().filter(|v| **v == value).count(), 1, "{door:?} at {zone}: {listed:?}");
    let expected: Vec<(String, String)> = targets.iter().map(|t| ((*t).to_owned(), "done".to_owned())).collect();
    if door.cli() {
        assert_eq!(statuses(&report), expected, "{door:?} at {zone}: {report:#}");
    } else {
        let said = logged(&world.log(), listener(door), zone, targets);
        assert_eq!(said, vec!["done".to_owned(); targets.len()], "{door:?} at {zone}: {}", world.log());
    }
    // The serve doors' own listings: the webhook's records and the gateway's answers, once.
    if door == Door::Webhook {
        let records: Vec<Value> =
            world.http.get(format!("{}/records", world.url("external-dns"))).send().unwrap().json().unwrap();
        let sets: Vec<&Value> =
            records.iter().filter(|e| e["dnsName"] == fqdn.as_str() && e["recordType"] == rtype).collect();
        assert_eq!(sets.len(), 1, "{zone}: {sets:?}");
        assert_eq!(sets[0]["targets"].as_array().unwrap().iter().filter(|t| **t == value.as_str()).count(), 1);
    }
    if door == Door::Rfc2136 {
        let port = world.listeners["rfc2136"].rsplit(':').next().unwrap().to_owned();
        let dig = Command::new("dig").args(["@127.0.0.1", "-p", &port, "+short", &fqdn, "TXT"]).output().unwrap();
        let answers: Vec<String> = String::from_utf8_lossy(&dig.stdout).lines().map(str::to_owned).collect();
        assert_eq!(answers.iter().filter(|a| a.contains(&value)).count(), 1, "{zone}: {answers:?}");
    }
}

#[test]
fn every_front_door_writes_every_target_and_lists_each_set_once() {
    if !common::pebble::have(&["nsupdate", "dig"]) {
        return;
    }
    let world = World::start();
    for door in DOORS {
        check(&world, door, TWO_TARGETS.0, TWO_TARGETS.1, 1);
        for (zone, provider) in ALONE {
            check(&world, door, zone, &[provider], 1);
        }
    }

    // LuaDNS refuses every write from now on: the zone file is written all the same, and
    // every door says the change did not complete at LuaDNS.
    world.faults("luadns", &json!({ "fail_writes_after": 0 }));
    let (zone, targets) = TWO_TARGETS;
    for door in DOORS {
        let (owner, rtype, value) = door.record(2);
        let fqdn = format!("{owner}.{zone}");
        let (report, said) = match door.apply(&world, zone, 2) {
            Ok(report) => panic!("{door:?}: the failure at luadns went unsaid: {report:#}"),
            Err(failed) => failed,
        };
        let lua = world.held(zone, &fqdn, rtype, Some("luadns"));
        assert!(!lua.contains(&value), "{door:?}: luadns refused the write");
        let files = world.held(zone, &fqdn, rtype, Some("files"));
        match door {
            // A hook that fails takes its own value back, at every target.
            Door::Acme | Door::Httpreq => assert!(!files.contains(&value), "{door:?}: taken back: {files:?}"),
            _ => assert!(files.contains(&value), "{door:?}: the zone file is written: {files:?}"),
        }
        if door == Door::Acme {
            // The hook fails as a whole, naming where; nothing it placed stays.
            assert!(
                said.contains("zonectl: ") && said.contains("luadns"),
                "{door:?}: the error names the target: {said}"
            );
        } else if door.cli() {
            // A 500 after a write leaves it open whether LuaDNS acted: unknown, not done.
            let states = statuses(&report);
            assert_eq!(states[0], ("files".to_owned(), "done".to_owned()), "{door:?}: {said}");
            assert_eq!(states[1].0, "luadns");
            assert!(["failed", "unknown"].contains(&states[1].1.as_str()), "{door:?}: {said}");
        } else {
            match door {
                Door::Webhook => assert!(said.starts_with("500"), "{said}"),
                Door::Httpreq => assert!(said.starts_with("500") && said.contains("luadns"), "{said}"),
                Door::Dyndns => assert_eq!(said.trim(), "dnserr"),
                Door::Rfc2136 => assert!(said.contains("SERVFAIL"), "{said}"),
                _ => unreachable!(),
            }
            if door != Door::Httpreq {
                let states = logged(&world.log(), listener(door), zone, targets);
                assert_eq!(states[0], "done", "{door:?}: {}", world.log());
                assert!(["failed", "unknown"].contains(&states[1].as_str()), "{door:?}: {}", world.log());
            }
        }
    }
}

//! One meaning per flag: `--output json` of every command that changes something prints
//! the one change-report document (`docs/change-report.schema.json`), `-p` narrows every
//! command to that provider, and no error a user can meet quotes a Rust value.

#[allow(dead_code)]
mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::Emulate;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_zonectl");

/// The document on stdout, checked against the schema.
fn report(out: &Output) -> Value {
    common::change_report(out)
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A directory with a configuration; commands run in it with their own state directory.
struct Workspace {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Workspace {
    fn new(config: &str) -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("zonectl.toml");
        std::fs::write(&file, config).unwrap();
        // It may hold a secret: readable by its owner alone, as the README asks.
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::create_dir(dir.path().join("zones")).unwrap();
        Workspace { dir, env: Vec::new() }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("ZONECTL_CONFIG")
            .env("ZONECTL_STATE_DIR", self.path("state"))
            .env("NO_COLOR", "1")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .unwrap()
    }
}

const ZONE: &str =
    "$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\n";

#[test]
fn every_change_prints_the_one_report_document() {
    let ws = Workspace::new(
        "[providers.files]\nkind = \"zonefile\"\ndirectory = \"zones\"\n\n[[zone]]\nname = \"example.com\"\n\
         source = \"example.com.zone\"\ntargets = [\"files\"]\n",
    );
    std::fs::write(ws.path("example.com.zone"), format!("{ZONE}www A 192.0.2.1\n")).unwrap();
    let apply = ws.run(&["apply", "--yes", "--output", "json"]);
    assert!(apply.status.success(), "{}", text(&apply));
    let document = report(&apply);
    assert_eq!(document["zones"][0]["targets"][0]["status"], "done");
    assert_eq!(document["zones"][0]["targets"][0]["whole_zone"], true);
    assert!(document["zones"][0]["targets"][0]["backup"].is_string());

    for (args, status) in [
        (&["record", "add", "example.com", "www", "A", "192.0.2.2"][..], "done"),
        (&["record", "add", "example.com", "www", "A", "192.0.2.2"][..], "unchanged"),
        (&["record", "set", "example.com", "www", "A", "192.0.2.3", "--ttl", "60"][..], "done"),
        (&["record", "delete", "example.com", "www", "A", "192.0.2.3"][..], "done"),
        (&["ddns", "example.com", "home", "--ipv4", "198.51.100.7"][..], "done"),
        (&["plan", "--output", "json"][..], ""),
    ] {
        let args: Vec<&str> = if status.is_empty() { args.to_vec() } else { [args, &["--output", "json"]].concat() };
        let out = ws.run(&args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        if status.is_empty() {
            continue;
        }
        let document = report(&out);
        let target = &document["zones"][0]["targets"][0];
        assert_eq!(target["status"], status, "{args:?}: {document:#}");
        assert_eq!(target["whole_zone"], false, "{args:?}: an edit of one name reads that name");
        assert!(out.stderr.is_empty() || !String::from_utf8_lossy(&out.stderr).contains("zone example.com. at"));
    }
    // A change that fails is a document too, with the status and the error.
    let refused = ws.run(&["record", "delete", "example.com", "@", "NS", "--output", "json"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(refused.stdout.is_empty(), "nothing was done, so no report: {}", text(&refused));
}

#[test]
fn zone_create_and_delete_and_the_hooks_print_it_too() {
    let emulate = Emulate::start(&["vpsorg", "luadns", "--time-scale", "0.01"]);
    let vps = emulate.of("vpsorg");
    let lua = emulate.of("luadns");
    let mut ws = Workspace::new(&format!(
        "[providers.vps]\nkind = \"vpsorg\"\nendpoint = \"{}\"\n\n[providers.lua]\nkind = \"luadns\"\nendpoint = \"{}\"\n\
         nameservers = [\"{}\"]\n",
        vps["endpoint"].as_str().unwrap(),
        lua["endpoint"].as_str().unwrap(),
        lua["dns"].as_str().unwrap(),
    ));
    for (key, value) in vps["env"].as_object().unwrap().iter().chain(lua["env"].as_object().unwrap()) {
        if key != "VPS_API_URL" {
            ws.env.push((key.clone(), value.as_str().unwrap().to_owned()));
        }
    }
    let created = ws.run(&["zone", "create", "fresh.example", "-p", "vps", "--output", "json"]);
    assert!(created.status.success(), "{}", text(&created));
    assert_eq!(report(&created)["zones"][0]["targets"][0]["operations"][0]["outcome"], "done");
    let deleted = ws.run(&["zone", "delete", "fresh.example", "-p", "vps", "--force", "--output", "json"]);
    assert!(deleted.status.success(), "{}", text(&deleted));
    report(&deleted);

    let name = "_acme-challenge.example.net.";
    let present = ws.run(&["acme", "present", name, "value-1", "--output", "json"]);
    assert!(present.status.success(), "{}", text(&present));
    let document = report(&present);
    assert_eq!(document["zones"][0]["zone"], "example.net.");
    assert_eq!(document["zones"][0]["targets"][0]["provider"], "lua");
    let cleanup = ws.run(&["acme", "cleanup", name, "value-1", "--output", "json"]);
    assert!(cleanup.status.success(), "{}", text(&cleanup));
    assert_eq!(report(&cleanup)["zones"][0]["targets"][0]["summary"]["delete"], 1);
}

#[test]
fn provider_narrows_plan_and_apply_to_that_target() {
    let emulate = Emulate::start(&["luadns", "domeneshop", "--time-scale", "0.01"]);
    let (lua, shop) = (emulate.of("luadns"), emulate.of("domeneshop"));
    let mut ws = Workspace::new(&format!(
        "[providers.lua]\nkind = \"luadns\"\nendpoint = \"{}\"\n\n[providers.shop]\nkind = \"domeneshop\"\nendpoint = \"{}\"\n\n\
         [[zone]]\nname = \"example.com\"\nsource = \"example.com.zone\"\ntargets = [\"lua\", \"shop\"]\n",
        lua["endpoint"].as_str().unwrap(),
        shop["endpoint"].as_str().unwrap(),
    ));
    for described in [lua, shop] {
        for (key, value) in described["env"].as_object().unwrap() {
            ws.env.push((key.clone(), value.as_str().unwrap().to_owned()));
        }
    }
    std::fs::write(ws.path("example.com.zone"), "$ORIGIN example.com.\n$TTL 3600\nnarrow TXT \"only lua\"\n").unwrap();
    let shop_before = emulate.requests("domeneshop").len();
    let applied = ws.run(&["apply", "-p", "lua", "--yes", "--output", "json"]);
    assert!(applied.status.success(), "{}", text(&applied));
    let document = report(&applied);
    let targets: Vec<&str> =
        document["zones"][0]["targets"].as_array().unwrap().iter().map(|t| t["provider"].as_str().unwrap()).collect();
    assert_eq!(targets, ["lua"]);
    assert!(emulate.requests("luadns").iter().any(|(m, _)| m != "GET"), "lua was written");
    assert_eq!(emulate.requests("domeneshop").len(), shop_before, "not one request to shop, not even a read");

    let nosuch = ws.run(&["plan", "-p", "nosuch"]);
    assert_eq!(nosuch.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&nosuch.stderr),
        "zonectl: no provider named 'nosuch' in zonectl.toml (configured: lua, shop)\n"
    );
    // Without -p, both targets; shop is planned from its own records.
    let plan = ws.run(&["plan", "--output", "json"]);
    let plans: Value = serde_json::from_slice(&plan.stdout).unwrap();
    let providers: Vec<&str> =
        plans["plans"].as_array().unwrap().iter().map(|p| p["provider"].as_str().unwrap()).collect();
    assert_eq!(providers, ["lua", "shop"]);
    // copy writes to its destination only: -p naming another is refused.
    let copy = ws.run(&["copy", "lua:example.com", "shop:example.com", "-p", "lua"]);
    assert_eq!(copy.status.code(), Some(1));
    assert!(
        text(&copy).contains("copy writes to 'shop' only; --provider lua names another provider"),
        "{}",
        text(&copy)
    );
}

/// Shapes of Rust's `Debug` output that must never reach a person.
const DEBUG_SHAPES: [&str; 9] = ["Query {", "Name(\"", "Some(", "None)", "Ok(", "Err(", "..=", "{ kind:", "\\\""];

#[test]
fn no_error_a_user_meets_quotes_a_rust_value() {
    let emulate = Emulate::start(&["luadns", "--time-scale", "0.01"]);
    let lua = emulate.of("luadns");
    let ws = Workspace::new(&format!(
        "[providers.lua]\nkind = \"luadns\"\nendpoint = \"{}\"\nnameservers = [\"{}\"]\n\n[providers.files]\nkind = \"zonefile\"\n\n\
         [providers.down]\nkind = \"luadns\"\nendpoint = \"http://127.0.0.1:9/v1\"\nusername = \"u\"\ntoken = \"t\"\n",
        lua["endpoint"].as_str().unwrap(),
        lua["dns"].as_str().unwrap(),
    ));
    let mut ws = ws;
    for (key, value) in lua["env"].as_object().unwrap() {
        ws.env.push((key.clone(), value.as_str().unwrap().to_owned()));
    }
    std::fs::write(ws.path("bad.zone"), "$ORIGIN example.com.\nwww A 192.0.2.300\nx 99999999999 A 192.0.2.1\n")
        .unwrap();
    std::fs::write(ws.path("broken.toml"), "[providers.x]\nkind = \"luadns\"\nusername = 5\n").unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["record", "add", "example.com", "www", "A", "192.0.2.300", "-p", "lua"],
        vec!["record", "add", "example.com", "www", "A", "192.0.2.1", "--ttl", "60", "-p", "lua"],
        vec!["record", "add", "example.com", "www", "BOGUS", "x", "-p", "lua"],
        vec!["record", "add", "example.com", "www", "MX", "mail", "-p", "lua"],
        vec!["record", "add", "example.com", "www.example.org.", "A", "192.0.2.1", "-p", "lua"],
        vec!["record", "delete", "example.com", "@", "NS", "-p", "lua"],
        vec!["record", "list", "example.org", "-p", "lua"],
        vec!["record", "list", "example.com", "-p", "down"],
        vec!["record", "list", "example.com", "-p", "nosuch"],
        vec!["record", "list", "bad..name", "-p", "lua"],
        vec!["zone", "create", "x.example", "-p", "lua"],
        vec!["zone", "list", "-p", "down"],
        vec!["export", "example.org", "-p", "lua"],
        vec!["ddns", "example.com", "home", "-p", "lua"],
        vec!["ddns", "example.com", "home", "--from-interface", "nosuch0", "-p", "lua"],
        vec!["acme", "present", "_acme-challenge.example.org.", "v", "-p", "lua"],
        vec!["acme", "present", "_acme-challenge.example.com.", " ", "-p", "lua"],
        vec!["acme", "--propagation-timeout", "often", "present", "_acme-challenge.example.com.", "v", "-p", "lua"],
        vec!["acme", "--nameserver", "not-an-address", "present", "_acme-challenge.example.com.", "v", "-p", "lua"],
        vec!["plan"],
        vec!["apply", "--yes"],
        vec!["copy", "lua:example.com", "nosuch:example.com"],
        vec!["copy", "lua", "files:example.com"],
        vec!["check", "bad.zone"],
        vec!["fmt", "bad.zone"],
        vec!["--config", "broken.toml", "zone", "list"],
        vec!["--config", "missing.toml", "zone", "list"],
        vec!["serve", "--rfc2136", "127.0.0.1:0"],
        vec!["serve", "--external-dns", "0.0.0.0:0"],
        vec!["emulate", "luadns", "--time-scale", "0"],
    ];
    for args in cases {
        let out = ws.run(&args);
        assert_ne!(out.status.code(), Some(0), "{args:?} should fail: {}", text(&out));
        let said = text(&out);
        assert!(!said.trim().is_empty(), "{args:?}: an error says what");
        for shape in DEBUG_SHAPES {
            assert!(!said.contains(shape), "{args:?} quotes a Rust value ({shape}): {said}");
        }
        // One line, naming what went wrong (check and fmt list their problems, one a line;
        // serve's follows its log format).
        if !matches!(args[0], "check" | "fmt" | "serve") {
            assert_eq!(
                String::from_utf8_lossy(&out.stderr).lines().filter(|l| l.starts_with("zonectl: ")).count(),
                1,
                "{args:?}: {said}"
            );
        }
    }
}

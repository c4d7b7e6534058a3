//! VPS.org through the binary: `zone create`, then `apply`, then `export` round-trips a
//! zone; `zone delete` without --force changes nothing; an apply to a zone the account lacks
//! says how to make it; other providers say they cannot make zones.

mod common;

use std::process::Command;

use common::Emulate;

#[test]
fn create_apply_export_delete() {
    let emulator = Emulate::start(&["vpsorg"]);
    assert!(emulator.get("/endpoint").ends_with("/api/v1"));
    assert!(emulator.get("/read_only_token").starts_with("vps_"));
    let dir = tempfile::tempdir().unwrap();
    let source = "$ORIGIN fresh.example.\n$TTL 600\nwww A 192.0.2.1\n@ MX 10 mail\nmail A 192.0.2.2\n\
                  _sip._tcp SRV 10 5 5060 sip.example.net.\n@ TXT \"v=spf1 mx -all\"\n";
    std::fs::write(dir.path().join("fresh.example.zone"), source).unwrap();
    std::fs::write(
        dir.path().join("zonectl.toml"),
        "[providers.vps]\nkind = \"vpsorg\"\n\n[[zone]]\nname = \"fresh.example\"\nsource = \"fresh.example.zone\"\ntargets = [\"vps\"]\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_zonectl"))
            .args(args)
            .current_dir(dir.path())
            .env("ZONECTL_STATE_DIR", dir.path().join("state"))
            .env_remove("ZONECTL_CONFIG")
            .env("NO_COLOR", "1")
            .env("VPS_API_TOKEN", emulator.get("/env/VPS_API_TOKEN"))
            .env("VPS_API_URL", emulator.get("/env/VPS_API_URL"))
            .output()
            .unwrap()
    };
    let text = |o: &std::process::Output| {
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    };

    // The zone is not there: the apply says so, and how to make it; it makes nothing.
    let missing = run(&["apply", "--yes"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing).contains(
            "vps: zone fresh.example. not found; `zonectl zone create fresh.example. --provider vps` makes it"
        ),
        "{}",
        text(&missing)
    );
    let zones = run(&["zone", "list"]);
    assert!(!String::from_utf8_lossy(&zones.stdout).contains("fresh.example"));

    let created = run(&["zone", "create", "fresh.example"]);
    assert!(created.status.success(), "{}", text(&created));
    let applied = run(&["apply", "--yes"]);
    assert!(applied.status.success(), "{}", text(&applied));
    let exported = run(&["export", "fresh.example"]);
    let zone = String::from_utf8_lossy(&exported.stdout).into_owned();
    let lines: Vec<String> = zone.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    for line in [
        "www 600 IN A 192.0.2.1",
        "@ 600 IN MX 10 mail",
        "mail 600 IN A 192.0.2.2",
        "_sip._tcp 600 IN SRV 10 5 5060 sip.example.net.",
        "@ 600 IN TXT \"v=spf1 mx -all\"",
    ] {
        assert!(lines.iter().any(|l| l == line), "{line} missing from:\n{zone}");
    }
    let again = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));

    // Delete without --force: the count (the five applied; a new zone has no records of its
    // own, as the document shows one), and nothing changed.
    let refused = run(&["zone", "delete", "fresh.example"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused).contains("holds 5 record(s), which would go with it; nothing was changed"),
        "{}",
        text(&refused)
    );
    assert!(String::from_utf8_lossy(&run(&["zone", "list"]).stdout).contains("fresh.example."));
    let deleted = run(&["zone", "delete", "fresh.example", "--force"]);
    assert!(deleted.status.success(), "{}", text(&deleted));
    assert!(text(&deleted).contains("deleted, with its 5 record(s)"));
    assert!(!String::from_utf8_lossy(&run(&["zone", "list"]).stdout).contains("fresh.example."));
}

#[test]
fn providers_without_zone_management_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_zonectl"))
        .args(["zone", "create", "x.example"])
        .current_dir(dir.path())
        .env_remove("ZONECTL_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "zonectl: zonefile: unsupported: zone create is not supported by zonefile: create x.example. in its control panel\n"
    );
}

/// `emulate --reading` plays the other reading of the document (the zone list as the bare
/// array it prints), and zonectl reads the zones all the same.
#[test]
fn the_document_reading_is_chosen_at_start() {
    let emulator = Emulate::start(&["vpsorg", "--reading", "zone_list=bare"]);
    let token = emulator.get("/token");
    let listed = reqwest::blocking::Client::new()
        .get(format!("{}/dns-zones/", emulator.get("/endpoint")))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json::<serde_json::Value>()
        .unwrap();
    assert!(listed.is_array(), "{listed}");
    // zonectl, through a configuration naming the emulator.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("zonectl.toml"),
        format!("[providers.vps]\nkind = \"vpsorg\"\nendpoint = \"{}\"\n", emulator.get("/endpoint")),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_zonectl"))
        .args(["zone", "list", "-o", "json"])
        .current_dir(dir.path())
        .env("VPS_API_TOKEN", &token)
        .env("ZONECTL_STATE_DIR", dir.path().join("state"))
        .env_remove("ZONECTL_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("example.com") && text.contains("example.org"), "{text}");
}

//! LuaDNS through the binary: `zonectl emulate`, credentials from the environment, `--debug`
//! without secrets, and `zonectl demo`.

mod common;

use std::process::Command;

use common::Emulate;

fn zonectl() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_zonectl"));
    c.env_remove("ZONECTL_CONFIG")
        .env_remove("LUADNS_API_USERNAME")
        .env_remove("LUADNS_API_TOKEN")
        .env("NO_COLOR", "1");
    c
}

#[test]
fn emulate_then_manage_records_with_lego_variables() {
    let emulator = Emulate::start(&["luadns"]);
    let endpoint = emulator.get("/endpoint");
    let user = emulator.get("/env/LUADNS_API_USERNAME");
    let key = emulator.get("/env/LUADNS_API_TOKEN");
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("zonectl.toml"),
        format!("[providers.lua]\nkind = \"luadns\"\nendpoint = \"{endpoint}\"\n"),
    )
    .unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, format!("{key}\n")).unwrap();
    let run = |args: &[&str]| {
        zonectl()
            .args(args)
            .current_dir(dir.path())
            .env("ZONECTL_STATE_DIR", dir.path().join("state"))
            .env("LUADNS_API_USERNAME", &user)
            .env("LUADNS_API_TOKEN_FILE", &key_file)
            .output()
            .unwrap()
    };
    let zones = run(&["zone", "list"]);
    assert_eq!(
        String::from_utf8_lossy(&zones.stdout),
        "example.com.\nexample.net.\n",
        "{}",
        String::from_utf8_lossy(&zones.stderr)
    );

    let add = run(&["--debug", "record", "add", "example.com", "www", "A", "192.0.2.80"]);
    assert!(add.status.success(), "{}", String::from_utf8_lossy(&add.stderr));
    let list = run(&["record", "list", "example.com", "--type", "A"]);
    assert!(
        String::from_utf8_lossy(&list.stdout).contains("www   300  A     192.0.2.80"),
        "{}",
        String::from_utf8_lossy(&list.stdout)
    );

    // The provider's own NS records are listed but not ours to delete, and it says so.
    let refused = run(&["--debug", "record", "delete", "example.com", "@", "NS", "ns1.luadns.net."]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .ends_with("zonectl: lua: zone example.com.: the apex NS records at lua are the provider's: not changed\n"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let ns = run(&["record", "list", "example.com", "--type", "NS"]);
    assert_eq!(String::from_utf8_lossy(&ns.stdout).lines().count(), 5, "header and the four default NS");
    let debug = format!("{}{}", String::from_utf8_lossy(&add.stderr), String::from_utf8_lossy(&refused.stderr));
    // A narrow edit adds one record (a set written whole would erase another writer's value).
    assert!(debug.contains("debug: lua POST http://127.0.0.1:") && !debug.contains("PATCH"), "{debug}");
    assert!(!debug.contains(&key), "the API key leaked into --debug output:\n{debug}");

    // A wrong key: one line naming the provider, and no key in it.
    std::fs::write(&key_file, "wrong-key\n").unwrap();
    let denied = run(&["--debug", "zone", "list"]);
    assert_eq!(denied.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&denied.stderr);
    assert!(
        stderr.ends_with(
            "zonectl: lua: not authenticated: Invalid API Key (check the credentials, LUADNS_API_USERNAME / LUADNS_API_TOKEN)\n"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong-key"));

    // No credentials at all.
    let missing = zonectl().args(["zone", "list"]).current_dir(dir.path()).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&missing.stderr),
        "zonectl: zonectl.toml: [providers.lua]: no username: set username or username_file, or LUADNS_API_USERNAME \
         (or LUADNS_API_USERNAME_FILE)\n"
    );
}

#[test]
fn http_endpoints_must_be_loopback() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("zonectl.toml"),
        "[providers.lua]\nkind = \"luadns\"\nendpoint = \"http://api.luadns.com/v1\"\nusername = \"a@b.c\"\n",
    )
    .unwrap();
    let out = zonectl().args(["zone", "list"]).current_dir(dir.path()).env("LUADNS_API_TOKEN", "x").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "zonectl: zonectl.toml: [providers.lua]: endpoint 'http://api.luadns.com/v1': plain http:// is only allowed to \
         loopback; use https://\n"
    );
}

#[test]
fn demo_applies_to_every_provider_and_ends_with_empty_plans() {
    let out = zonectl().arg("demo").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let providers: Vec<&str> =
        std::iter::once("zonefile").chain(zonectl_providers::registry::remote().map(|k| k.name)).collect();
    for provider in &providers {
        assert!(stdout.contains(&format!("== {provider}:")), "{provider}: {stdout}");
    }
    assert_eq!(stdout.matches("second plan: no changes").count(), providers.len(), "{stdout}");
    assert!(stdout.contains("Note: zoneid keeps no TTLs"), "{stdout}");
    // mydomain.lu: only A, TXT and CNAME, one order each, each shown with its ticket.
    assert!(stdout.contains("(4 records of types mydomainlu cannot hold are left out)"), "{stdout}");
    assert_eq!(stdout.matches(": pending").count(), 6, "{stdout}");
    assert!(stdout.contains("Plan: 10 to create"), "LuaDNS keeps its own apex NS: {stdout}");
}

/// A password written into the endpoint is neither sent nor shown, not even with --debug;
/// the provider's own credentials are used.
#[test]
fn a_password_in_the_endpoint_never_shows() {
    let emulator = Emulate::start(&["luadns"]);
    let endpoint = emulator.get("/endpoint").replace("http://", "http://joe:s3cret-in-url@");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("zonectl.toml"),
        format!("[providers.lua]\nkind = \"luadns\"\nendpoint = \"{endpoint}\"\n"),
    )
    .unwrap();
    let out = zonectl()
        .args(["--debug", "zone", "list"])
        .current_dir(dir.path())
        .env("LUADNS_API_USERNAME", emulator.get("/env/LUADNS_API_USERNAME"))
        .env("LUADNS_API_TOKEN", emulator.get("/env/LUADNS_API_TOKEN"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("debug: lua GET http://127.0.0.1:"), "{stderr}");
    assert!(!stderr.contains("s3cret-in-url"), "{stderr}");
}

/// `--listen` at the last port with two emulators: an error, not an overflow.
#[test]
fn emulate_refuses_ports_past_the_last() {
    let out = zonectl().args(["emulate", "luadns", "mydomainlu", "--listen", "127.0.0.1:65535"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--listen: no port left for every emulator"), "{stderr}");
}

/// Copying a zone with TTLs LuaDNS refuses: refused whole, naming each record, unless the
/// TTLs are to be rounded, which the plan shows.
#[test]
fn a_copy_rounds_ttls_when_asked() {
    let emulator = Emulate::start(&["luadns"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("zonectl.toml"),
        format!(
            "[providers.files]\nkind = \"zonefile\"\ndirectory = \"zones\"\n\n[providers.lua]\nkind = \"luadns\"\nendpoint = \"{}\"\n",
            emulator.get("/endpoint")
        ),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("zones")).unwrap();
    std::fs::write(
        dir.path().join("zones/example.com.zone"),
        "$ORIGIN example.com.\n$TTL 120\na A 192.0.2.1\nb A 192.0.2.2\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        zonectl()
            .args(args)
            .current_dir(dir.path())
            .env("ZONECTL_STATE_DIR", dir.path().join("state"))
            .env("LUADNS_API_USERNAME", emulator.get("/env/LUADNS_API_USERNAME"))
            .env("LUADNS_API_TOKEN", emulator.get("/env/LUADNS_API_TOKEN"))
            .output()
            .unwrap()
    };
    let refused = run(&["copy", "files:example.com", "lua:example.com", "--apply", "--yes"]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(
            "a A: TTL 120 is below the minimum of 300, which lua refuses; the nearest TTL it allows is 300 \
             (--ttl-policy round uses it) (and 1 more problem)"
        ),
        "{stderr}"
    );
    let rounded = run(&["copy", "files:example.com", "lua:example.com", "--apply", "--yes", "--ttl-policy", "round"]);
    assert!(rounded.status.success(), "{}", String::from_utf8_lossy(&rounded.stderr));
    assert!(String::from_utf8_lossy(&rounded.stdout).contains("+ a 300 IN A 192.0.2.1"));
}

/// An emulator on an address beyond this machine says so: its credentials are public.
#[test]
fn emulate_warns_off_loopback() {
    let mut child = zonectl()
        .args(["emulate", "luadns", "--listen", "0.0.0.0:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stderr.take().unwrap()), &mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.starts_with("zonectl: warning: the luadns emulator listens on 0.0.0.0:"), "{line}");
    assert!(line.contains("beyond this machine; its credentials are public and it has no TLS"), "{line}");
}

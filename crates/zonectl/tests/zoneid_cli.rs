//! ZoneID through the binary: `zonectl emulate zoneid` prints lego's variables, and a
//! configuration that names only the kind (lego's `zoneee`) works from them alone; an edit
//! of one name and type costs one read and one write.

mod common;

use std::io::{Read, Write};
use std::process::Command;

use common::Emulate;

fn http_get(addr: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn lego_variables_alone_reach_the_emulator() {
    let emulator = Emulate::start(&["zoneid"]);
    let endpoint = emulator.get("/endpoint");
    assert!(endpoint.ends_with("/v2"), "{endpoint}");
    let lego_endpoint = emulator.get("/env/ZONEEE_ENDPOINT");
    assert_eq!(lego_endpoint, format!("{endpoint}/dns/"), "lego's form of the endpoint");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("zonectl.toml"), "[providers.zone]\nkind = \"zoneee\"\nzones = [\"example.com\"]\n")
        .unwrap();
    let addr = endpoint.trim_start_matches("http://").split('/').next().unwrap().to_owned();
    let log_length = || http_get(&addr, "/_emulator/log").matches("\"method\"").count();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_zonectl"))
            .args(args)
            .current_dir(dir.path())
            .env("ZONECTL_STATE_DIR", dir.path().join("state"))
            .env_remove("ZONECTL_CONFIG")
            .env("NO_COLOR", "1")
            .env("ZONEEE_API_USER", emulator.get("/env/ZONEEE_API_USER"))
            .env("ZONEEE_API_KEY", emulator.get("/env/ZONEEE_API_KEY"))
            .env("ZONEEE_ENDPOINT", &lego_endpoint)
            .output()
            .unwrap()
    };
    let zones = run(&["zone", "list"]);
    assert_eq!(String::from_utf8_lossy(&zones.stdout), "example.com.\n", "{}", String::from_utf8_lossy(&zones.stderr));
    let before = log_length();
    let add = run(&["record", "add", "example.com", "_acme-challenge", "TXT", "\"token\""]);
    assert!(add.status.success(), "{}", String::from_utf8_lossy(&add.stderr));
    assert_eq!(log_length() - before, 2, "one read of the TXT records and one write");
    let list = run(&["record", "list", "example.com", "--type", "TXT"]);
    assert!(
        String::from_utf8_lossy(&list.stdout).contains("_acme-challenge  3600  TXT   \"token\""),
        "{}",
        String::from_utf8_lossy(&list.stdout)
    );
}

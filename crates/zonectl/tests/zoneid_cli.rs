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

/// Each lego generation joins ZONEEE_ENDPOINT its own way: the first client appends the
/// domain to `…/v2/dns/`; the internal client of later releases
/// (`providers/dns/zoneee/internal/client.go`) joins `dns/{domain}/txt` to `…/v2/`. The line
/// `emulate` prints gives each its value, and zonectl takes both.
#[test]
fn each_lego_generation_gets_its_endpoint() {
    let emulator = Emulate::start(&["zoneid"]);
    let addr = emulator.get("/endpoint").trim_start_matches("http://").split('/').next().unwrap().to_owned();
    let auth = format!("{}:{}", emulator.get("/env/ZONEEE_API_USER"), emulator.get("/env/ZONEEE_API_KEY"));
    let get = |url: &str| {
        let path = url.trim_start_matches("http://").trim_start_matches(&addr);
        let basic = data_encoding_free_base64(&auth);
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {basic}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer.lines().next().unwrap_or_default().to_owned()
    };
    let first = emulator.get("/env/ZONEEE_ENDPOINT");
    let current = emulator.get("/env_current_lego/ZONEEE_ENDPOINT");
    assert!(get(&format!("{first}example.ee/txt")).contains(" 200 "), "the first client's join");
    assert!(get(&format!("{current}dns/example.ee/txt")).contains(" 200 "), "the internal client's join");
    assert!(get(&format!("{first}dns/example.ee/txt")).contains(" 404 "), "the mix the issue met");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("zonectl.toml"), "[providers.zone]\nkind = \"zoneee\"\nzones = [\"example.ee\"]\n")
        .unwrap();
    for endpoint in [&first, &current] {
        let out = Command::new(env!("CARGO_BIN_EXE_zonectl"))
            .args(["record", "list", "example.ee"])
            .current_dir(dir.path())
            .env("ZONECTL_STATE_DIR", dir.path().join("state"))
            .env_remove("ZONECTL_CONFIG")
            .env("ZONEEE_API_USER", emulator.get("/env/ZONEEE_API_USER"))
            .env("ZONEEE_API_KEY", emulator.get("/env/ZONEEE_API_KEY"))
            .env("ZONEEE_ENDPOINT", endpoint)
            .output()
            .unwrap();
        assert!(out.status.success(), "{endpoint}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// Base64 for a Basic header, written here so the test does not lean on the code it checks.
fn data_encoding_free_base64(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

//! `zonectl ddns` against Domeneshop, LuaDNS (their emulators) and the zonefile provider:
//! nothing is sent when the address is current, and a new address converges.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output};

use common::Emulate;

fn zonectl(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_zonectl"));
    c.current_dir(dir).env("ZONECTL_STATE_DIR", dir.join("state")).env_remove("ZONECTL_CONFIG").env("NO_COLOR", "1");
    c
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A plain HTTP GET over a socket, so the test needs no client of its own.
fn http_get(addr: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// The requests an emulator has seen, as `(method, path)`.
fn log(endpoint: &str) -> Vec<(String, String)> {
    let addr = endpoint.trim_start_matches("http://").split('/').next().unwrap();
    let answer = http_get(addr, "/_emulator/log");
    let body = answer.split("\r\n\r\n").nth(1).unwrap();
    let entries: serde_json::Value = serde_json::from_str(body).unwrap();
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["method"].as_str().unwrap().to_owned(), e["path"].as_str().unwrap().to_owned()))
        .collect()
}

/// Runs the same three steps at any provider: set, set again (nothing sent), move.
fn set_then_keep_then_move(
    dir: &Path,
    env: &[(&str, String)],
    writes_since: &dyn Fn(usize) -> usize,
    seen: &dyn Fn() -> usize,
) {
    let run = |args: &[&str]| {
        let out = zonectl(dir).args(args).envs(env.iter().map(|(k, v)| (*k, v.as_str()))).output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        text(&out)
    };
    let first = run(&["ddns", "example.com", "home", "--ipv4", "192.0.2.1", "--ipv6", "2001:db8::1"]);
    assert!(first.contains("+ home 300 IN A 192.0.2.1"), "{first}");
    let before = seen();
    let again = run(&["ddns", "example.com", "home", "--ipv4", "192.0.2.1", "--ipv6", "2001:db8::1"]);
    assert!(again.contains("No changes."), "{again}");
    assert_eq!(writes_since(before), 0, "nothing is sent when the address is current");
    let moved = run(&["ddns", "example.com", "home", "--ipv4", "192.0.2.2"]);
    assert!(moved.contains("~ home A: home 300 IN A 192.0.2.1 → home 300 IN A 192.0.2.2"), "{moved}");
    let listed = run(&["record", "list", "example.com", "--name", "home"]);
    assert!(
        listed.contains("192.0.2.2") && listed.contains("2001:db8::1") && !listed.contains("192.0.2.1\n"),
        "{listed}"
    );
}

#[test]
fn domeneshop_and_luadns() {
    for (kind, user_var, secret_var) in [
        ("domeneshop", "DOMENESHOP_API_TOKEN", "DOMENESHOP_API_SECRET"),
        ("luadns", "LUADNS_API_USERNAME", "LUADNS_API_TOKEN"),
    ] {
        let emulator = Emulate::start(&[kind]);
        let endpoint = emulator.get("/endpoint");
        // The emulator's line: its endpoint, its zones, lego's variables.
        assert!(endpoint.ends_with(if kind == "domeneshop" { "/v0" } else { "/v1" }), "{endpoint}");
        assert!(emulator.described["zones"].as_array().unwrap().iter().any(|z| z == "example.com"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("zonectl.toml"),
            format!("[providers.p]\nkind = \"{kind}\"\nendpoint = \"{endpoint}\"\n"),
        )
        .unwrap();
        let env = [
            (user_var, emulator.get(&format!("/env/{user_var}"))),
            (secret_var, emulator.get(&format!("/env/{secret_var}"))),
        ];
        let seen = || log(&endpoint).len();
        let writes_since = |n: usize| log(&endpoint).into_iter().skip(n).filter(|(m, _)| m != "GET").count();
        set_then_keep_then_move(dir.path(), &env, &writes_since, &seen);
    }
}

#[test]
fn zonefile() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("zonectl.toml"), "[providers.p]\nkind = \"zonefile\"\ndirectory = \"zones\"\n")
        .unwrap();
    let file = dir.path().join("zones/example.com.zone");
    let modified = || std::fs::metadata(&file).map(|m| m.modified().unwrap()).ok();
    let stamp = std::cell::Cell::new(None);
    let seen = || {
        stamp.set(modified());
        0
    };
    let writes_since = |_| usize::from(modified() != stamp.get());
    set_then_keep_then_move(dir.path(), &[], &writes_since, &seen);
}

/// Addresses found rather than given: from a service that answers with the caller's
/// address (a server on loopback here, never a service on the internet), and from an
/// interface. Domeneshop's own endpoint with --native, and only when needed.
#[test]
fn discovered_addresses_and_the_native_endpoint() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let what_is_my_ip = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(1) {
            let mut stream = stream.unwrap();
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let _ =
                stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\n198.51.100.7\n");
        }
    });
    let emulator = Emulate::start(&["domeneshop"]);
    let endpoint = emulator.get("/endpoint");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("zonectl.toml"),
        format!("[providers.p]\nkind = \"domeneshop\"\nendpoint = \"{endpoint}\"\n"),
    )
    .unwrap();
    let env = [
        ("DOMENESHOP_API_TOKEN", emulator.get("/env/DOMENESHOP_API_TOKEN")),
        ("DOMENESHOP_API_SECRET", emulator.get("/env/DOMENESHOP_API_SECRET")),
    ];
    let run = |args: &[&str]| {
        zonectl(dir.path()).args(args).envs(env.iter().map(|(k, v)| (*k, v.as_str()))).output().unwrap()
    };
    let out = run(&["ddns", "example.com", "home", "--from-url", &what_is_my_ip]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("+ home 300 IN A 198.51.100.7"), "{}", text(&out));
    // Loopback addresses are no one else's way to this machine: never published.
    let out = run(&["ddns", "example.com", "lo", "--from-interface", "lo"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "zonectl: --from-interface lo: no address on it that others can reach (loopback and link-local are left out)\n"
    );
    // An interface with an address others reach (eth0 here), as if-addrs lists it.
    let interfaces = if_addrs::get_if_addrs().unwrap();
    let reachable = |i: &&if_addrs::Interface| {
        let ip = i.ip();
        !ip.is_loopback()
            && !matches!(ip, std::net::IpAddr::V4(a) if a.is_link_local())
            && !matches!(ip, std::net::IpAddr::V6(a) if a.is_unicast_link_local())
    };
    if let Some(first) = interfaces.iter().find(reachable) {
        let out = run(&["ddns", "example.com", "nic", "--from-interface", &first.name]);
        assert!(out.status.success(), "{}", text(&out));
        for address in interfaces.iter().filter(|i| i.name == first.name).filter(reachable) {
            let rtype = if address.ip().is_ipv4() { "A" } else { "AAAA" };
            assert!(text(&out).contains(&format!("+ nic 300 IN {rtype} {}", address.ip())), "{}", text(&out));
        }
        for link_local in interfaces.iter().filter(|i| i.name == first.name && !reachable(i)) {
            assert!(!text(&out).contains(&link_local.ip().to_string()), "{}", text(&out));
        }
    }

    let native = run(&["ddns", "example.com", "home", "--native", "--ipv4", "192.0.2.9"]);
    assert!(native.status.success(), "{}", text(&native));
    assert!(
        log(&endpoint).iter().any(|(_, p)| p.starts_with("/v0/dyndns/update?hostname=home.example.com&myip=192.0.2.9"))
    );
    let before = log(&endpoint).len();
    let again = run(&["ddns", "example.com", "home", "--native", "--ipv4", "192.0.2.9"]);
    assert!(text(&again).contains("already 192.0.2.9; nothing sent"), "{}", text(&again));
    assert!(log(&endpoint).iter().skip(before).all(|(m, p)| m == "GET" && !p.contains("dyndns")));

    let none = run(&["ddns", "example.com", "home"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(text(&none).contains("no address to set"), "{}", text(&none));
}

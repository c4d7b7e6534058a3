//! Two zonectl processes applying to one mydomain.lu account at once take turns through
//! the lock file: both complete and the emulator refuses no order.

mod common;

use std::process::{Command, Stdio};

use common::Emulate;

#[test]
fn two_processes_one_account() {
    let emulator = Emulate::start(&["mydomainlu", "--time-scale", "0.05"]);
    let endpoint = emulator.get("/endpoint");
    let addr = endpoint.trim_start_matches("http://").to_owned();

    let dir = tempfile::tempdir().unwrap();
    for (i, host) in ["one", "two"].iter().enumerate() {
        let file = dir.path().join(format!("{host}.zone"));
        let records: String = (0..2).map(|j| format!("{host}{j} 300 A 192.0.2.{}\n", i * 10 + j)).collect();
        std::fs::write(&file, format!("$ORIGIN example.lu.\n{records}")).unwrap();
        std::fs::write(
            dir.path().join(format!("{host}.toml")),
            format!(
                "[providers.mdl]\nkind = \"mydomainlu\"\nendpoint = \"{endpoint}\"\nzones = [\"example.lu\"]\n\n\
                 [[zone]]\nname = \"example.lu\"\nsource = \"{host}.zone\"\ntargets = [\"mdl\"]\n\
                 ignore = [{{ name = \"*\", type = \"MX\" }}, {{ name = \"smtp\" }}, {{ name = \"www\" }}, {{ name = \"@\" }}, {{ name = \"{other}*\" }}]\n",
                other = if *host == "one" { "two" } else { "one" }
            ),
        )
        .unwrap();
    }
    let spawn = |config: &str| {
        Command::new(env!("CARGO_BIN_EXE_zonectl"))
            .args(["--config", config, "apply", "--yes"])
            .current_dir(dir.path())
            .env("ZONECTL_STATE_DIR", dir.path().join("state"))
            .env("MYDOMAINLU_USERNAME", emulator.get("/env/MYDOMAINLU_USERNAME"))
            .env("MYDOMAINLU_PASSWORD", emulator.get("/env/MYDOMAINLU_PASSWORD"))
            .env_remove("ZONECTL_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn("one.toml"), spawn("two.toml"));
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    let state = http_get(&addr, "/_emulator/state");
    assert!(state.contains("\"refused_while_pending\":0"), "{state}");
    // They overlapped: the second waited for the first (so the test proves the queue).
    let said = format!("{}{}", String::from_utf8_lossy(&a.stderr), String::from_utf8_lossy(&b.stderr));
    assert!(said.contains("mdl: waiting for another zonectl"), "{said}");
    // One lock for the zone's edit, one for the account's orders.
    assert_eq!(dir.path().join("state/locks").read_dir().unwrap().count(), 2);
    for host in ["one0", "one1", "two0", "two1"] {
        assert!(state.contains(&format!("\"name\":\"{host}.example.lu.\"")), "{host} missing: {state}");
    }
}

/// A plain HTTP request over a TCP socket, so the test needs no HTTP client of its own.
fn raw(addr: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

fn http_get(addr: &str, path: &str) -> String {
    raw(addr, &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"))
}

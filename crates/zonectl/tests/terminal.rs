//! `apply` on a terminal: it asks before changing anything. `script` (util-linux, part of
//! every Debian system) gives the binary a real pseudo-terminal.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::Emulate;

fn apply_on_a_terminal(dir: &std::path::Path, answer: &str) -> (i32, String) {
    let zonectl = env!("CARGO_BIN_EXE_zonectl");
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &format!("{zonectl} apply"), "/dev/null"])
        .current_dir(dir)
        .env("ZONECTL_STATE_DIR", dir.join("state"))
        .env("NO_COLOR", "1")
        .env_remove("ZONECTL_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux");
    child.stdin.take().unwrap().write_all(answer.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn apply_asks_on_a_terminal_and_no_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("zonectl.toml"),
        "[providers.live]\nkind = \"zonefile\"\ndirectory = \"live\"\n\n[[zone]]\nname = \"example.com\"\nsource = \"example.com.zone\"\ntargets = [\"live\"]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("example.com.zone"), "$ORIGIN example.com.\n$TTL 300\nwww A 192.0.2.1\n").unwrap();

    let (code, screen) = apply_on_a_terminal(dir.path(), "n\n");
    assert!(screen.contains("Apply these changes to 1 zone target(s)? [y/N]"), "{screen}");
    assert!(screen.contains("Nothing was changed."), "{screen}");
    assert_eq!(code, 1);
    assert!(!dir.path().join("live/example.com.zone").exists());

    let (code, screen) = apply_on_a_terminal(dir.path(), "y\n");
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("applied: 1 record set(s) created"), "{screen}");
    assert!(std::fs::read_to_string(dir.path().join("live/example.com.zone")).unwrap().contains("192.0.2.1"));
}

#[test]
fn mydomainlu_orders_and_tickets_show_on_a_terminal() {
    let emulator = Emulate::start(&["mydomainlu", "--time-scale", "0.02"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("zonectl.toml"),
        format!(
            "[providers.mdl]\nkind = \"mydomainlu\"\nendpoint = \"{}\"\nusername = \"{}\"\npassword_file = \"pass\"\nzones = [\"example.lu\"]\n\n\
             [[zone]]\nname = \"example.lu\"\nsource = \"example.lu.zone\"\ntargets = [\"mdl\"]\n\
             ignore = [{{ name = \"@\" }}, {{ name = \"www\" }}, {{ name = \"smtp\" }}]\n",
            emulator.get("/endpoint"),
            emulator.get("/username")
        ),
    )
    .unwrap();
    let pass = dir.path().join("pass");
    std::fs::write(&pass, emulator.get("/password")).unwrap();
    std::fs::write(
        dir.path().join("example.lu.zone"),
        "$ORIGIN example.lu.\n$TTL 300\nnew1 A 192.0.2.1\nnew2 A 192.0.2.2\n",
    )
    .unwrap();
    let (code, screen) = apply_on_a_terminal(dir.path(), "y\n");
    drop(emulator);
    assert_eq!(code, 0, "{screen}");
    // (The answer piped in is not echoed, so the first order line follows the prompt.)
    let orders: Vec<&str> = screen.lines().filter(|l| l.contains("  order ") && l.ends_with(": pending")).collect();
    assert_eq!(orders.len(), 2, "{screen}");
    assert!(orders[0].contains("add new1.example.lu. A 192.0.2.1"), "{screen}");
    assert!(!screen.contains("applying 2 change(s)"), "no spinner over the order lines: {screen}");
}

//! zonectl as two users meet it at once, and in pipelines: two processes on one zone
//! directory never lose an update; a closed stdout ends quietly; copies under another name
//! carry their targets along.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn zonectl(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_zonectl"));
    c.current_dir(dir).env("ZONECTL_STATE_DIR", dir.join("state")).env_remove("ZONECTL_CONFIG").env("NO_COLOR", "1");
    c
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A zone of `n` A records named `{prefix}{i}`.
fn zone(prefix: &str, n: usize) -> String {
    let mut out = String::from(
        "$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 hostmaster 7 7200 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\n",
    );
    for i in 0..n {
        out.push_str(&format!("{prefix}{i} A 10.{}.{}.{}\n", i >> 16 & 255, i >> 8 & 255, i & 255));
    }
    out
}

fn serial(zone_file: &str) -> u32 {
    let soa = zone_file.lines().find(|l| l.contains(" SOA ")).unwrap();
    soa.split_whitespace().nth(6).unwrap().parse().unwrap()
}

/// Two `apply` runs started together on one directory with different sources: before,
/// both reported their changes made and the file held one of them, the serial bumped
/// once. Now the second waits for the first, plans against its result, and both changes
/// are counted: the serial moves twice and the file holds the second source exactly.
#[test]
fn two_applies_on_one_directory_take_turns() {
    let mut overlapped = 0;
    for round in 0..8 {
        let dir = tempfile::tempdir().unwrap();
        for (name, prefix) in [("one", "a"), ("two", "b")] {
            fs::write(dir.path().join(format!("{name}.zone")), zone(prefix, 1000)).unwrap();
            fs::write(
                dir.path().join(format!("{name}.toml")),
                format!(
                    "[providers.live]\nkind = \"zonefile\"\ndirectory = \"live\"\n\n[[zone]]\nname = \"example.com\"\n\
                     source = \"{name}.zone\"\ntargets = [\"live\"]\nmax_change_ratio = 1.0\n"
                ),
            )
            .unwrap();
        }
        fs::create_dir(dir.path().join("live")).unwrap();
        fs::write(dir.path().join("live/example.com.zone"), zone("c", 10)).unwrap();
        let spawn = |config: &str| {
            zonectl(dir.path())
                .args(["--config", config, "apply", "--yes"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn("one.toml"), spawn("two.toml"));
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        assert!(a.status.success() && b.status.success(), "{}{}", text(&a.stderr), text(&b.stderr));
        let said = text(&a.stderr) + &text(&b.stderr);
        let waited = said.contains("live: waiting for another zonectl");
        let live = fs::read_to_string(dir.path().join("live/example.com.zone")).unwrap();
        // The one that went second holds the file, whole.
        let holds = |prefix: &str| (0..1000).all(|i| live.contains(&format!("\n{prefix}{i} ")));
        assert!(holds("a") ^ holds("b"), "round {round}: the file holds a mix of both sources");
        assert!(!live.contains("\nc0 "), "round {round}: the old records survived");
        assert_eq!(serial(&live), 9, "round {round}: two applies, two serials");
        if waited {
            overlapped += 1;
            // The second planned against the first's result: it deleted the first's 1000,
            // not the 10 that were there when both started.
            assert!(said.contains(" 10 deleted.") && said.contains(" 1000 deleted."), "round {round}: {said}");
        }
    }
    assert!(overlapped > 0, "the two processes never overlapped, so nothing was proven");
}

/// Two loops of `record add` on one zone keep every record (they kept 32 of 40 before).
#[test]
fn two_record_add_loops_keep_every_record() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("zonectl.toml"), "[providers.live]\nkind = \"zonefile\"\ndirectory = \"live\"\n")
        .unwrap();
    let loops: Vec<_> = ["x", "y"]
        .iter()
        .map(|prefix| {
            let dir = dir.path().to_owned();
            let prefix = prefix.to_string();
            std::thread::spawn(move || {
                for i in 0..20 {
                    let out = zonectl(&dir)
                        .args(["record", "add", "example.com", &format!("{prefix}{i}"), "A", "192.0.2.1"])
                        .output()
                        .unwrap();
                    assert!(out.status.success(), "{}", text(&out.stderr));
                }
            })
        })
        .collect();
    for l in loops {
        l.join().unwrap();
    }
    let live = fs::read_to_string(dir.path().join("live/example.com.zone")).unwrap();
    let kept = live.lines().filter(|l| l.contains(" IN A ")).count();
    assert_eq!(kept, 40, "{live}");
}

/// `zonectl fmt big.zone | head -1`: the reader goes, zonectl ends quietly with the status
/// a shell shows for a broken pipe, not "zonectl: Broken pipe".
#[test]
fn a_closed_stdout_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("example.com.zone"), zone("h", 20_000)).unwrap();
    let mut child = zonectl(dir.path())
        .args(["fmt", "example.com.zone"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert_eq!(first, "$ORIGIN example.com.\n");
    let out: Output = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(141), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
}

/// A copy to a zone of another name takes the names that pointed inside the zone along;
/// one that cannot fit under the new name is refused, naming it, and nothing changes.
#[test]
fn copies_under_another_name_carry_their_targets() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("zonectl.toml"), "[providers.live]\nkind = \"zonefile\"\ndirectory = \"live\"\n")
        .unwrap();
    fs::create_dir(dir.path().join("live")).unwrap();
    fs::write(
        dir.path().join("live/example.com.zone"),
        "$ORIGIN example.com.\n$TTL 300\nwww CNAME web\nweb A 192.0.2.1\n@ MX 10 mail\nmail A 192.0.2.2\n\
         _sip._tcp SRV 0 5 5060 sip.example.net.\n",
    )
    .unwrap();
    let out = zonectl(dir.path())
        .args(["copy", "live:example.com", "live:example.org", "--apply", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let copied = fs::read_to_string(dir.path().join("live/example.org.zone")).unwrap();
    assert!(copied.contains("www       300 IN CNAME web\n"), "{copied}");
    assert!(copied.contains("@         300 IN MX    10 mail\n"), "{copied}");
    assert!(copied.contains("sip.example.net."), "a target outside the zone stays: {copied}");
    assert!(!copied.contains("example.com"), "{copied}");

    // 246 octets: `www` and `mail` fit under it, `_sip._tcp` does not.
    let long = format!("{}.{}.{}.{}.org", "a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(50));
    let refused = zonectl(dir.path())
        .args(["copy", "live:example.com", &format!("live:{long}"), "--apply", "--yes"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let err = text(&refused.stderr);
    assert!(err.starts_with("zonectl: cannot copy "), "{err}");
    assert!(err.contains("nothing was changed: name longer than 253 octets"), "{err}");
    assert!(!dir.path().join(format!("live/{long}.zone")).exists());
}

//! A zone of edge cases — RFC 7505's null MX, RFC 2782's SRV `.`, CAA with flag 128 and
//! parameters, TXT with quotes, backslashes, semicolons, UTF-8 and more than 255 octets, a
//! wildcard, an IDN label, underscore names — copied from a zone file to each provider with
//! `zonectl copy … --apply`, as a new user would. At every provider either the copy
//! converges (the next plan is empty) or what the provider cannot hold is refused in the
//! plan, naming the record, with nothing sent.

#[allow(dead_code)]
mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::Emulate;

const PROVIDERS: [(&str, &str); 5] = [
    ("luadns", "example.net"),
    ("domeneshop", "example.no"),
    ("zoneid", "example.ee"),
    ("vpsorg", "example.org"),
    ("mydomainlu", "example.lu"),
];

fn edge_zone(origin: &str, root_targets: bool) -> String {
    let long = "x".repeat(300);
    let mut text = format!("$ORIGIN {origin}.\n$TTL 3600\n");
    if root_targets {
        text.push_str("@ MX 0 .\n_nope._tcp SRV 0 0 0 .\n");
    }
    text.push_str(&format!(
        "@ CAA 128 issue \"ca.example.net; account=123\"\n\
         q TXT \"quote \\\" inside\"\n\
         b TXT \"back\\\\slash\"\n\
         s TXT \"semi;colon\"\n\
         u TXT \"ünïcödé\"\n\
         long TXT \"{long}\"\n\
         * A 192.0.2.1\n\
         xn--bcher-kva A 192.0.2.2\n\
         _dmarc TXT \"v=DMARC1; p=none\"\n\
         _sip._tcp SRV 10 5 5060 sip.example.net.\n"
    ));
    text
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zonectl"))
        .args(args)
        .current_dir(dir)
        .env("ZONECTL_STATE_DIR", dir.join("state"))
        .env_remove("ZONECTL_CONFIG")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn the_edge_case_zone_converges_or_is_refused_in_the_plan_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("zonectl.toml");
    let kinds: Vec<&str> = PROVIDERS.iter().map(|(p, _)| *p).collect();
    let emulate =
        Emulate::start(&[&kinds[..], &["--time-scale", "0.01", "--write-config", config.to_str().unwrap()]].concat());
    let mut written = std::fs::read_to_string(&config).unwrap();
    written.push_str("\n[providers.files]\nkind = \"zonefile\"\ndirectory = \"files\"\n");
    std::fs::write(&config, written).unwrap();
    std::fs::create_dir(dir.path().join("files")).unwrap();
    let writes = |kind: &str| emulate.requests(kind).iter().filter(|(m, _)| m != "GET").count();
    let mut converged = Vec::new();
    for (provider, zone) in PROVIDERS {
        std::fs::write(dir.path().join(format!("files/{zone}.zone")), edge_zone(zone, true)).unwrap();
        let before = writes(provider);
        let copy =
            run(dir.path(), &["copy", &format!("files:{zone}"), &format!("{provider}:{zone}"), "--apply", "--yes"]);
        if copy.status.success() {
            let again = run(dir.path(), &["copy", &format!("files:{zone}"), &format!("{provider}:{zone}")]);
            assert!(again.status.success() && text(&again).contains("No changes."), "{provider}: {}", text(&again));
            converged.push(provider);
        } else {
            // Refused in the plan: one line naming a record, and not a request that changes.
            let said = String::from_utf8_lossy(&copy.stderr);
            assert_eq!(copy.status.code(), Some(1), "{provider}: {said}");
            assert!(said.starts_with(&format!("zonectl: {provider}: zone {zone}.: ")), "{provider}: {said}");
            assert_eq!(said.lines().count(), 1, "{provider}: {said}");
            assert_eq!(writes(provider), before, "{provider}: refused, yet something was sent: {said}");
        }
    }
    // The services that take every one of these.
    assert!(converged.contains(&"luadns") && converged.contains(&"domeneshop"), "{converged:?}");
    // Where only the root targets are refused (undocumented there), the rest converges.
    for (provider, zone) in [("zoneid", "example.ee"), ("vpsorg", "example.org")] {
        std::fs::write(dir.path().join(format!("files/{zone}.zone")), edge_zone(zone, false)).unwrap();
        let copy =
            run(dir.path(), &["copy", &format!("files:{zone}"), &format!("{provider}:{zone}"), "--apply", "--yes"]);
        assert!(copy.status.success(), "{provider}: {}", text(&copy));
        let again = run(dir.path(), &["copy", &format!("files:{zone}"), &format!("{provider}:{zone}")]);
        assert!(text(&again).contains("No changes."), "{provider}: {}", text(&again));
    }
}

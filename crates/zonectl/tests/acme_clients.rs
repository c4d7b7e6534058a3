//! Certificates end to end: lego, certbot and dehydrated (Debian's packages) obtain a
//! certificate for a zone's apex and its wildcard from pebble, Let's Encrypt's test CA,
//! through zonectl's hooks in front of each provider's emulator. Pebble validates against
//! the emulator's own name servers (`-dnsserver`), so each run is the whole round trip:
//! client → hook → provider API → name server → CA. Afterwards the challenge records are
//! gone and the zone is byte for byte as before.
//!
//! The clients are installed by `.ci/run`. Where one is missing, its test is skipped with a
//! message, unless `ZONECTL_REQUIRE_CLIENTS=1` (as `.ci/run` sets it), which fails it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::Emulate;
use common::pebble::{Pebble, Tls, have, names_in, pebble, tls};

const BIN: &str = env!("CARGO_BIN_EXE_zonectl");
/// Every provider kind reached over HTTP, from the registry.
fn providers() -> Vec<&'static str> {
    zonectl_providers::registry::remote().map(|k| k.name).collect()
}

/// One provider's emulator, its zonectl.toml, and pebble in front of its name servers.
struct Run {
    emulate: Emulate,
    dir: tempfile::TempDir,
    tls: Tls,
    pebble: Pebble,
}

impl Run {
    fn start(kind: &str) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("zonectl.toml");
        let emulate = Emulate::start(&[kind, "--time-scale", "0.01", "--write-config", config.to_str().unwrap()]);
        let mut file = std::fs::read_to_string(&config).unwrap();
        file = file.replace("[acme]\n", "[acme]\npolling_interval = \"50ms\"\npropagation_timeout = \"60s\"\n");
        std::fs::write(&config, file).unwrap();
        let tls = tls(dir.path());
        let pebble = pebble(dir.path(), &tls, &emulate.get("/dns"));
        Run { emulate, dir, tls, pebble }
    }

    fn zone(&self) -> String {
        self.emulate.get("/zones/0")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A command with zonectl's environment: its configuration and state directory, and
    /// the binary for the scripts that call it. A client is stopped after five minutes, so
    /// that a hang fails the test instead of holding CI.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new("timeout");
        command.arg("300").arg(program);
        command
            .env("ZONECTL_CONFIG", self.path("zonectl.toml"))
            .env("ZONECTL_STATE_DIR", self.path("state"))
            .env("ZONECTL", BIN)
            .current_dir(self.dir.path());
        command
    }

    fn export(&self) -> String {
        let out = self.command(BIN).args(["export", &self.zone()]).output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8(out.stdout).unwrap()
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Runs `obtain` against every provider at once (the clients mostly wait), and checks
/// each: a certificate for the apex and the wildcard, and the zone as it was.
fn every_provider(client: &str, obtain: fn(&Run) -> (Output, PathBuf)) {
    std::thread::scope(|scope| {
        let runs: Vec<_> = providers()
            .into_iter()
            .map(|kind| {
                scope.spawn(move || {
                    let run = Run::start(kind);
                    let before = run.export();
                    let (out, cert) = obtain(&run);
                    assert!(out.status.success(), "{client} at {kind}: {}", text(&out));
                    let zone = run.zone();
                    assert_eq!(names_in(&cert), [format!("*.{zone}"), zone.clone()], "{client} at {kind}");
                    assert_eq!(run.export(), before, "{client} at {kind}: the challenges are gone, nothing else moved");
                })
            })
            .collect();
        for (kind, run) in providers().iter().zip(runs) {
            if let Err(panic) = run.join() {
                eprintln!("{client} at {kind} failed");
                std::panic::resume_unwind(panic);
            }
        }
    });
}

#[test]
fn lego_obtains_a_certificate_through_the_exec_hook_at_every_provider() {
    if !have(&["pebble", "lego"]) {
        return;
    }
    every_provider("lego", |run| {
        let zone = run.zone();
        let out = run
            .command("lego")
            .env("LEGO_CA_CERTIFICATES", &run.tls.ca)
            .env("EXEC_PATH", BIN)
            .env("EXEC_PROPAGATION_TIMEOUT", "60")
            .env("EXEC_POLLING_INTERVAL", "1")
            .env("EXEC_SEQUENCE_INTERVAL", "1")
            .args(["--server", &run.pebble.directory, "--email", "hostmaster@example.org", "--accept-tos"])
            // zonectl's hook waits for the name servers itself; lego's own check would ask
            // port 53 of the servers' addresses, where nothing listens here.
            .args(["--dns", "exec", "--dns.disable-cp", "--dns.resolvers", &run.emulate.get("/dns")])
            .args(["-d", &zone, "-d", &format!("*.{zone}"), "--path"])
            .arg(run.path("lego"))
            .arg("run")
            .output()
            .unwrap();
        (out, run.path("lego").join("certificates").join(format!("{zone}.crt")))
    });
}

#[test]
fn certbot_obtains_a_certificate_through_the_manual_hooks_at_every_provider() {
    if !have(&["pebble", "certbot"]) {
        return;
    }
    every_provider("certbot", |run| {
        let zone = run.zone();
        let out = run
            .command("certbot")
            .env("REQUESTS_CA_BUNDLE", &run.tls.ca)
            .args(["certonly", "--non-interactive", "--agree-tos", "--no-eff-email", "-m", "hostmaster@example.org"])
            .args(["--server", &run.pebble.directory, "--manual", "--preferred-challenges", "dns"])
            .args(["--manual-auth-hook", &format!("{BIN} acme certbot-auth")])
            .args(["--manual-cleanup-hook", &format!("{BIN} acme certbot-cleanup")])
            .arg("--config-dir")
            .arg(run.path("certbot/config"))
            .arg("--work-dir")
            .arg(run.path("certbot/work"))
            .arg("--logs-dir")
            .arg(run.path("certbot/logs"))
            .args(["-d", &zone, "-d", &format!("*.{zone}")])
            .output()
            .unwrap();
        (out, run.path("certbot/config/live").join(&zone).join("cert.pem"))
    });
}

#[test]
fn dehydrated_obtains_a_certificate_through_the_contrib_hook_at_every_provider() {
    if !have(&["pebble", "dehydrated", "curl", "openssl"]) {
        return;
    }
    every_provider("dehydrated", |run| {
        let zone = run.zone();
        let hook = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contrib/dehydrated/hook.sh");
        let config = format!(
            "CA=\"{}\"\nCHALLENGETYPE=\"dns-01\"\nHOOK=\"{}\"\nHOOK_CHAIN=\"yes\"\nBASEDIR=\"{}\"\nCURL_OPTS=\"--cacert {}\"\nCONTACT_EMAIL=\"hostmaster@example.org\"\n",
            run.pebble.directory,
            hook.canonicalize().unwrap().display(),
            run.path("dehydrated").display(),
            run.tls.ca.display()
        );
        std::fs::create_dir_all(run.path("dehydrated")).unwrap();
        std::fs::write(run.path("dehydrated/config"), config).unwrap();
        let register = run
            .command("dehydrated")
            .args(["--register", "--accept-terms", "-f"])
            .arg(run.path("dehydrated/config"))
            .output()
            .unwrap();
        assert!(register.status.success(), "dehydrated --register: {}", text(&register));
        let out = run
            .command("dehydrated")
            .args(["-c", "-f"])
            .arg(run.path("dehydrated/config"))
            .args(["-d", &zone, "-d", &format!("*.{zone}")])
            .output()
            .unwrap();
        (out, run.path("dehydrated/certs").join(&zone).join("cert.pem"))
    });
}

/// lego's own `zoneee` provider (Debian's lego), unchanged, against the ZoneID emulator
/// through the variables `zonectl emulate` prints for it: the certificate is issued, and the
/// challenge records lego made and removed leave the zone as it was. (lego's `luadns` and
/// `domeneshop` providers have no endpoint setting: they reach the vendors' hosts only.)
#[test]
fn legos_own_zoneee_provider_obtains_a_certificate_from_the_emulator() {
    if !have(&["pebble", "lego"]) {
        return;
    }
    let run = Run::start("zoneid");
    let zone = run.zone();
    let before = run.export();
    let out = run
        .command("lego")
        .env("LEGO_CA_CERTIFICATES", &run.tls.ca)
        .env("ZONEEE_API_USER", run.emulate.get("/env/ZONEEE_API_USER"))
        .env("ZONEEE_API_KEY", run.emulate.get("/env/ZONEEE_API_KEY"))
        .env("ZONEEE_ENDPOINT", run.emulate.get("/env/ZONEEE_ENDPOINT"))
        .env("ZONEEE_PROPAGATION_TIMEOUT", "60")
        .env("ZONEEE_POLLING_INTERVAL", "1")
        .args(["--server", &run.pebble.directory, "--email", "hostmaster@example.org", "--accept-tos"])
        .args(["--dns", "zoneee", "--dns.disable-cp", "--dns.resolvers", &run.emulate.get("/dns")])
        .args(["-d", &zone, "--path"])
        .arg(run.path("lego"))
        .arg("run")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let certificate = run.path("lego").join("certificates").join(format!("{zone}.crt"));
    assert!(names_in(&certificate).contains(&zone), "{:?}", names_in(&certificate));
    let writes: Vec<(String, String)> =
        run.emulate.requests("zoneid").into_iter().filter(|(m, _)| m != "GET").collect();
    assert!(writes.iter().any(|(m, p)| m == "POST" && p.ends_with("/txt")), "lego made its record: {writes:?}");
    assert!(writes.iter().any(|(m, _)| m == "DELETE"), "and removed it: {writes:?}");
    assert_eq!(run.export(), before, "the zone is as it was");
}

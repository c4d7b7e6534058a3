//! The ACME hooks as the clients run them: separate `zonectl` processes against `zonectl
//! emulate`, with the hooks' settings in the file `--write-config` writes.

mod common;

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::Emulate;

const BIN: &str = env!("CARGO_BIN_EXE_zonectl");

/// An emulator, the zonectl.toml pointing at it, and a state directory for the locks.
struct Setup {
    emulate: Emulate,
    dir: tempfile::TempDir,
}

impl Setup {
    fn start(kind: &str, extra: &[&str]) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("zonectl.toml");
        let mut args = vec![kind, "--write-config", config.to_str().unwrap()];
        if !extra.contains(&"--time-scale") {
            args.extend(["--time-scale", "0.01"]);
        }
        args.extend_from_slice(extra);
        let emulate = Emulate::start(&args);
        // Quick polling, and a bound on a wait that never ends.
        let mut file = std::fs::read_to_string(&config).unwrap();
        file.push_str("\n[acme]\npolling_interval = \"20ms\"\npropagation_timeout = \"20s\"\n");
        std::fs::write(&config, file).unwrap();
        Setup { emulate, dir }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("zonectl.toml")
    }

    fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        command
            .env("ZONECTL_CONFIG", self.config())
            .env("ZONECTL_STATE_DIR", self.dir.path().join("state"))
            .env_remove("ZONECTL_ACME_NAMESERVERS")
            .env_remove("ZONECTL_ACME_PROPAGATION_TIMEOUT")
            .env_remove("ZONECTL_ACME_POLLING_INTERVAL")
            .current_dir(self.dir.path());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    fn zone(&self) -> String {
        self.emulate.get("/zones/0")
    }

    fn export(&self) -> String {
        let out = self.run(&["export", &self.zone()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// The TXT values at `_acme-challenge.ZONE`, as the provider lists them, sorted.
    fn challenge_values(&self) -> Vec<String> {
        let out = self.run(&[
            "record",
            "list",
            &self.zone(),
            "--name",
            "_acme-challenge",
            "--type",
            "TXT",
            "--output",
            "json",
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        let mut values: Vec<String> =
            list.iter().map(|r| r["value"].as_str().unwrap().trim_matches('"').to_owned()).collect();
        values.sort();
        values
    }

    /// Sets the emulator's faults through its control surface.
    fn faults(&self, json: &str) {
        let endpoint = self.emulate.get("/endpoint");
        let host = endpoint.trim_start_matches("http://").split('/').next().unwrap().to_owned();
        let mut stream = std::net::TcpStream::connect(&host).unwrap();
        write!(
            stream,
            "PUT /_emulator/faults HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
            json.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn two_processes_at_once_both_values_stay_twenty_times_over() {
    let setup = Setup::start("luadns", &[]);
    // Answers slow enough that the two would both read before either writes, unlocked.
    setup.faults(r#"{"latency_ms": 15}"#);
    let name = format!("_acme-challenge.{}.", setup.zone());
    for round in 0..20 {
        let (a, b) = (format!("round-{round}-a"), format!("round-{round}-b"));
        let spawn = |value: &str| {
            let mut command = setup.command();
            command.args(["acme", "present", &name, value]).stdout(Stdio::piped()).stderr(Stdio::piped());
            command.spawn().unwrap()
        };
        let (first, second) = (spawn(&a), spawn(&b));
        for child in [first, second] {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "round {round}: {}", text(&out));
        }
        assert_eq!(setup.challenge_values(), [a.clone(), b.clone()], "round {round}");
        for value in [&a, &b] {
            assert!(setup.run(&["acme", "cleanup", &name, value]).status.success());
        }
    }
}

#[test]
fn cleanup_after_present_leaves_the_zone_byte_identical() {
    for kind in zonectl_providers::registry::remote().map(|k| k.name) {
        let setup = Setup::start(kind, &[]);
        let before = setup.export();
        let name = format!("_acme-challenge.{}.", setup.zone());
        let out = setup.run(&["acme", "present", &name, "the-value"]);
        assert!(out.status.success(), "{kind}: {}", text(&out));
        assert!(text(&out).contains("seen at 1 name server(s)"), "{kind}: {}", text(&out));
        assert_ne!(setup.export(), before, "{kind}: present changed the zone");
        let out = setup.run(&["acme", "cleanup", &name, "the-value"]);
        assert!(out.status.success(), "{kind}: {}", text(&out));
        assert_eq!(setup.export(), before, "{kind}");
    }
}

#[test]
fn a_value_the_name_servers_never_show_fails_after_the_timeout_naming_them() {
    // The emulated name servers show changes an hour after they are made.
    let setup = Setup::start("luadns", &["--propagation-delay", "1h", "--time-scale", "1"]);
    let dns = setup.emulate.get("/dns");
    let name = format!("_acme-challenge.{}.", setup.zone());
    let out = setup.run(&["acme", "--propagation-timeout", "500ms", "present", &name, "never-seen"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let last = String::from_utf8_lossy(&out.stderr).lines().last().unwrap().to_owned();
    assert_eq!(last, format!("zonectl: {name}: TXT value not seen after 500ms at: {dns} (answered NXDOMAIN)"));
    // A hook that fails after writing takes its own value back.
    assert!(setup.challenge_values().is_empty());
}

#[test]
fn no_credential_in_anything_a_hook_prints_even_with_debug() {
    for kind in zonectl_providers::registry::remote().map(|k| k.name) {
        let setup = Setup::start(kind, &[]);
        let secrets: Vec<String> = ["/api_key", "/secret", "/password", "/token", "/read_only_token"]
            .iter()
            .filter_map(|p| setup.emulate.described.pointer(p).and_then(|v| v.as_str()).map(str::to_owned))
            .filter(|s| s.len() > 8)
            .collect();
        assert!(!secrets.is_empty(), "{kind}");
        let name = format!("_acme-challenge.{}.", setup.zone());
        let mut printed = String::new();
        for args in [
            vec!["--debug", "acme", "present", &name, "v1"],
            vec!["--debug", "present", &name, "v2"],
            vec!["--debug", "acme", "cleanup", &name, "v1"],
            vec!["--debug", "cleanup", &name, "v2"],
        ] {
            let out = setup.run(&args);
            assert!(out.status.success(), "{kind}: {}", text(&out));
            printed.push_str(&text(&out));
        }
        assert!(printed.contains("debug: "), "{kind}: --debug traced nothing");
        for secret in &secrets {
            assert!(!printed.contains(secret.as_str()), "{kind}: a credential was printed:\n{printed}");
        }
    }
}

#[test]
fn hooks_work_while_the_challenge_is_in_the_zones_ignore_list() {
    let setup = Setup::start("vpsorg", &[]);
    let zone = setup.zone();
    std::fs::write(setup.dir.path().join("z.zone"), format!("$ORIGIN {zone}.\n@ 3600 IN A 192.0.2.1\n")).unwrap();
    let mut config = std::fs::read_to_string(setup.config()).unwrap();
    config.push_str(&format!(
        "\n[[zone]]\nname = \"{zone}\"\nsource = \"z.zone\"\ntargets = [\"vpsorg\"]\nignore = [{{ name = \"_acme-challenge*\", type = \"TXT\" }}]\n"
    ));
    std::fs::write(setup.config(), config).unwrap();
    let name = format!("_acme-challenge.{zone}.");
    assert!(setup.run(&["acme", "present", &name, "ignored-yet-placed"]).status.success());
    assert_eq!(setup.challenge_values(), ["ignored-yet-placed"]);
    // And an apply of the zone leaves it alone.
    let out = setup.run(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(setup.challenge_values(), ["ignored-yet-placed"]);
}

#[test]
fn lego_raw_mode_computes_the_value_as_lego_does() {
    let setup = Setup::start("luadns", &[]);
    let domain = format!("raw.{}", setup.zone());
    // lego passes `present -- DOMAIN TOKEN KEY_AUTH`; a token may start with '-'.
    let out = setup.run(&["present", "--", &domain, "-tok", "-tok.thumbprint"]);
    assert!(out.status.success(), "{}", text(&out));
    // base64.urlsafe_b64encode(hashlib.sha256(b"-tok.thumbprint").digest()).rstrip(b"=")
    let expected = "aSkb78d6xIebtPB_aY9e9GcckIgMrE0SfS1AuivnMgg";
    let out = setup.run(&["record", "list", &setup.zone(), "--name", "_acme-challenge.raw", "--output", "json"]);
    let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["value"].as_str().unwrap().trim_matches('"'), expected);
    let out = setup.run(&["present", "one-argument"]);
    assert_eq!(out.status.code(), Some(2), "clap refuses a wrong count: {}", text(&out));
}

#[test]
fn certbot_hooks_read_certbots_environment() {
    let setup = Setup::start("domeneshop", &[]);
    let zone = setup.zone();
    for (hook, value) in [("certbot-auth", "apex"), ("certbot-auth", "wild")] {
        let out = setup
            .command()
            .args(["acme", hook])
            .env("CERTBOT_DOMAIN", &zone)
            .env("CERTBOT_VALIDATION", value)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        assert!(out.stdout.is_empty(), "stdout becomes CERTBOT_AUTH_OUTPUT; keep it empty");
    }
    assert_eq!(setup.challenge_values(), ["apex", "wild"]);
    let out = setup
        .command()
        .args(["acme", "certbot-cleanup"])
        .env("CERTBOT_DOMAIN", &zone)
        .env("CERTBOT_VALIDATION", "apex")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(setup.challenge_values(), ["wild"]);
    let out = setup.command().args(["acme", "certbot-auth"]).env_remove("CERTBOT_DOMAIN").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("CERTBOT_DOMAIN is not set"), "{}", text(&out));
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

#[test]
fn the_dehydrated_hook_script_deploys_chains_and_ignores_other_handlers() {
    let setup = Setup::start("zoneid", &[]);
    let zone = setup.zone();
    let hook = repo("contrib/dehydrated/hook.sh");
    // What dehydrated sends first, and the handlers that are not ours: exit 0, silently.
    for handler in [
        "this_hookscript_is_broken__dehydrated_is_working_fine__please_ignore_unknown_hooks_in_your_script",
        "startup_hook",
        "deploy_cert",
        "exit_hook",
    ] {
        let out = {
            let mut c = Command::new(&hook);
            c.arg(handler).env("ZONECTL", BIN).env("ZONECTL_CONFIG", setup.config());
            c.output().unwrap()
        };
        assert!(out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(), "{handler}: {}", text(&out));
    }
    let deploy = Command::new(&hook)
        .args(["deploy_challenge", &zone, "tok1", "value-1", &zone, "tok2", "value-2"])
        .env("ZONECTL", BIN)
        .env("ZONECTL_CONFIG", setup.config())
        .env("ZONECTL_STATE_DIR", setup.dir.path().join("state"))
        .output()
        .unwrap();
    assert!(deploy.status.success(), "{}", text(&deploy));
    assert_eq!(setup.challenge_values(), ["value-1", "value-2"]);
    let clean = Command::new(&hook)
        .args(["clean_challenge", &zone, "tok1", "value-1", &zone, "tok2", "value-2"])
        .env("ZONECTL", BIN)
        .env("ZONECTL_CONFIG", setup.config())
        .env("ZONECTL_STATE_DIR", setup.dir.path().join("state"))
        .output()
        .unwrap();
    assert!(clean.status.success(), "{}", text(&clean));
    assert!(setup.challenge_values().is_empty());
}

#[test]
fn the_acme_sh_script_adds_and_removes_through_zonectl() {
    // acme.sh sources dns_<name>.sh and calls its functions; _info is its logger.
    let setup = Setup::start("mydomainlu", &[]);
    let script = repo("contrib/acme.sh/dns_zonectl.sh");
    let zone = setup.zone();
    let harness = format!(
        "_info() {{ echo \"info: $*\"; }}\n. '{}'\ndns_zonectl_add _acme-challenge.{zone} one && dns_zonectl_add _acme-challenge.{zone} two && \
         echo added && dns_zonectl_rm _acme-challenge.{zone} one",
        script.display()
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(&harness)
        .env("ZONECTL", BIN)
        .env("ZONECTL_CONFIG", setup.config())
        .env("ZONECTL_STATE_DIR", setup.dir.path().join("state"))
        .current_dir(setup.dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("added"));
    assert_eq!(setup.challenge_values(), ["two"]);
}

#[test]
fn the_configuration_emulate_writes_for_every_emulator_serves_the_hooks_at_each() {
    // One `zonectl emulate` of every provider: each emulator's name server is its
    // provider's `nameservers`, so a hook waits at the servers of the provider that holds
    // the zone. A zone only one emulator holds needs no -p; example.com, which four hold,
    // is chosen with it.
    let providers: Vec<&str> = zonectl_providers::registry::remote().map(|k| k.name).collect();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("zonectl.toml");
    let mut args = providers.clone();
    args.extend(["--time-scale", "0.01", "--write-config", config.to_str().unwrap()]);
    let emulate = Emulate::start(&args);
    let mut file = std::fs::read_to_string(&config).unwrap();
    assert!(!file.contains("[acme]"), "no one server for all: {file}");
    file.push_str("\n[acme]\npolling_interval = \"20ms\"\npropagation_timeout = \"20s\"\n");
    std::fs::write(&config, file).unwrap();
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env("ZONECTL_CONFIG", &config)
            .env("ZONECTL_STATE_DIR", dir.path().join("state"))
            .env_remove("ZONECTL_ACME_NAMESERVERS")
            .output()
            .unwrap()
    };
    for kind in &providers {
        let described = emulate.of(kind);
        let zones: Vec<&str> = described["zones"].as_array().unwrap().iter().map(|z| z.as_str().unwrap()).collect();
        let (zone, pick) = match zones.iter().find(|z| **z != "example.com") {
            Some(own) => (*own, vec![]),
            None => ("example.com", vec!["-p", kind]),
        };
        let name = format!("_acme-challenge.{zone}.");
        let out = run(&[&["acme", "present", &name, "every-provider"][..], &pick].concat());
        assert!(out.status.success(), "{kind}: {}", text(&out));
        assert!(text(&out).contains("seen at 1 name server(s)"), "{kind}: {}", text(&out));
        let out = run(&[&["acme", "cleanup", &name, "every-provider"][..], &pick].concat());
        assert!(out.status.success(), "{kind}: {}", text(&out));
    }
    // The zone four emulators hold, without -p: an error naming them, and nothing written.
    let out = run(&["acme", "present", "_acme-challenge.example.com.", "v"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("zone example.com. is held by several providers (domeneshop, luadns, vpsorg, zoneid)"),
        "{}",
        text(&out)
    );
}

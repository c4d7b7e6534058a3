//! The vendors' own client libraries, unmodified, through every operation they have,
//! against the emulators: what a real client sends must be what the emulator takes, and what
//! the emulator answers what the client reads. `.ci/run` installs them (pinned) in a virtual
//! environment under `target/vendor-clients`; a missing one fails CI.

#[allow(dead_code)]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::Emulate;

/// The Python of the vendor clients' environment, if it can import `module`; if not, whether
/// that fails the test.
fn vendor_python(module: &str) -> Option<PathBuf> {
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/vendor-clients/bin/python");
    let found =
        Command::new(&python).args(["-c", &format!("import {module}")]).output().is_ok_and(|o| o.status.success());
    if found {
        return Some(python);
    }
    if std::env::var("ZONECTL_REQUIRE_CLIENTS").is_ok_and(|v| v == "1") {
        panic!("{module} is not installed in target/vendor-clients (.ci/run installs it)");
    }
    eprintln!("skipped: {module} is not installed in target/vendor-clients (.ci/run installs it)");
    None
}

/// Domeneshop's Python library (`domeneshop` 0.4.4 on PyPI), unchanged: domains, records and
/// forwards, each created, read, changed and deleted. It reaches `https://api.domeneshop.no`
/// only, which is the emulator here (see [`vendor_host`]); it trusts certifi's bundle only,
/// so the test points `certifi.where()` at the test CA (a change of trust, not of the
/// client). The library has no dynamic DNS call.
#[test]
fn domeneshops_python_library_does_everything_it_can() {
    let Some(python) = vendor_python("domeneshop") else { return };
    let Some(vendor) = vendor_host("domeneshop", "api.domeneshop.no", "127.0.0.7", &[]) else { return };
    let emulator = &vendor.emulator;
    let program = format!(
        r#"
import domeneshop
client = domeneshop.Client("{token}", "{secret}")
domains = client.get_domains()
print("domains", sorted(d["domain"] for d in domains))
domain = next(d for d in domains if d["domain"] == "example.com")
print("domain", client.get_domain(domain["id"])["domain"])
record_id = client.create_record(domain["id"], {{"host": "vendor", "ttl": 3600, "type": "A", "data": "192.0.2.10"}})
print("created", client.get_record(domain["id"], record_id)["data"])
client.modify_record(domain["id"], record_id, {{"host": "vendor", "ttl": 7200, "type": "A", "data": "192.0.2.11"}})
changed = client.get_record(domain["id"], record_id)
print("changed", changed["data"], changed["ttl"])
mx = client.create_record(domain["id"], {{"host": "@", "ttl": 3600, "type": "MX", "data": "mail.example.com", "priority": 10}})
print("records", sorted(r["host"] + " " + r["type"] for r in client.get_records(domain["id"]) if r["id"] in (record_id, mx)))
client.delete_record(domain["id"], record_id)
client.delete_record(domain["id"], mx)
print("deleted", all(r["id"] not in (record_id, mx) for r in client.get_records(domain["id"])))
client.create_forward(domain["id"], "go", "https://example.org/", False)
print("forward", client.get_forward(domain["id"], "go")["url"])
client.modify_forward(domain["id"], "go", "https://example.net/", True)
forward = client.get_forward(domain["id"], "go")
print("forward changed", forward["url"], forward["frame"])
print("forwards", [f["host"] for f in client.get_forwards(domain["id"])])
client.delete_forward(domain["id"], "go")
print("forwards after", [f["host"] for f in client.get_forwards(domain["id"])])
try:
    client.get_record(domain["id"], 999999)
except domeneshop.client.DomeneshopError as e:
    print("missing", e.status_code)
"#,
        token = emulator.get("/token"),
        secret = emulator.get("/secret"),
    );
    let out = vendor.command(&python).args(["-c", &program]).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "domains ['example.com', 'example.no', 'parked.example']\n\
         domain example.com\n\
         created 192.0.2.10\n\
         changed 192.0.2.11 7200\n\
         records ['@ MX', 'vendor A']\n\
         deleted True\n\
         forward https://example.org/\n\
         forward changed https://example.net/ True\n\
         forwards ['go']\n\
         forwards after []\n\
         missing 404",
        "{text}"
    );
}

/// An emulator standing in for a vendor's API host: HTTPS on port 443 of a loopback
/// address of its own, with the test CA; the clients run in a mount namespace whose
/// `/etc/hosts` names that address for the host — for them alone — and trust the test CA
/// (`REQUESTS_CA_BUNDLE`, `SSL_CERT_FILE`, and certifi's bundle through a `sitecustomize`).
struct VendorHost {
    emulator: Emulate,
    dir: tempfile::TempDir,
    tls: common::pebble::Tls,
    hosts: PathBuf,
}

fn vendor_host(kind: &str, host: &str, address: &str, more: &[&str]) -> Option<VendorHost> {
    if !may_stand_in_for_a_vendor() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let tls = common::pebble::tls(dir.path());
    let (cert, key) = (tls.cert.to_str().unwrap().to_owned(), tls.key.to_str().unwrap().to_owned());
    let listen = format!("{address}:443");
    let mut args = vec![kind, "--listen", &listen, "--tls-cert", &cert, "--tls-key", &key, "--time-scale", "0.01"];
    args.extend(more);
    let emulator = Emulate::start(&args);
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, format!("127.0.0.1 localhost\n{address} {host}\n")).unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir(&site).unwrap();
    std::fs::write(
        site.join("sitecustomize.py"),
        "import os, certifi\ncertifi.where = lambda: os.environ[\"ZONECTL_TEST_CA\"]\n",
    )
    .unwrap();
    Some(VendorHost { emulator, dir, tls, hosts })
}

impl VendorHost {
    /// `program`, with the vendor's host resolved to the emulator and the test CA trusted.
    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new("timeout");
        command
            .args(["300", "unshare", "-m", "sh", "-c", r#"mount --bind "$HOSTS_FILE" /etc/hosts && exec "$@""#, "sh"])
            .arg(program)
            .env("HOSTS_FILE", &self.hosts)
            .env("REQUESTS_CA_BUNDLE", &self.tls.ca)
            .env("SSL_CERT_FILE", &self.tls.ca)
            .env("LEGO_CA_CERTIFICATES", &self.tls.ca)
            .env("ZONECTL_TEST_CA", &self.tls.ca)
            .env("PYTHONPATH", self.dir.path().join("site"));
        command
    }
}

/// Lexicon's LuaDNS provider (`dns-lexicon` 3.25.2 on PyPI), through every operation it has:
/// authenticate (find the zone), create (and not twice), list, update, delete. Its endpoint
/// is a constant of the provider object; the test alone sets it to the emulator's.
#[test]
fn lexicons_luadns_provider_does_everything_it_can() {
    let Some(python) = vendor_python("lexicon") else { return };
    let emulator = Emulate::start(&["luadns"]);
    let program = format!(
        r#"
from lexicon.config import ConfigResolver
from lexicon._private.providers.luadns import Provider
config = ConfigResolver().with_dict({{"provider_name": "luadns", "domain": "example.com", "ttl": 300,
    "luadns": {{"auth_username": "{user}", "auth_token": "{token}"}}}})
provider = Provider(config)
# The test's one change: the endpoint.
provider.api_endpoint = "{endpoint}"
provider.authenticate()
print("created", provider.create_record("TXT", "lexicon", "first"))
records = provider.list_records("TXT", "lexicon")
print("listed", [(r["name"], r["content"], r["ttl"]) for r in records])
provider.create_record("TXT", "lexicon", "first")
print("not twice", len(provider.list_records("TXT", "lexicon")))
print("updated", provider.update_record(records[0]["id"], "TXT", "lexicon", "second"))
print("now", [r["content"] for r in provider.list_records("TXT", "lexicon")])
print("deleted", provider.delete_record(None, "TXT", "lexicon", "second"))
print("left", provider.list_records("TXT", "lexicon"))
"#,
        user = emulator.get("/username"),
        token = emulator.get("/api_key"),
        endpoint = emulator.get("/endpoint"),
    );
    let out = Command::new(&python).args(["-c", &program]).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "created True\n\
         listed [('lexicon.example.com', 'first', 300)]\n\
         not twice 1\n\
         updated True\n\
         now ['second']\n\
         deleted True\n\
         left []",
        "{text}"
    );
}

/// The DNS calls of the `vps-mcp` client (0.1.0 on PyPI, VPS.org's MCP server), unchanged,
/// through `VPS_API_URL`: every DNS tool it has — zones listed, made, read and deleted,
/// records made, changed and deleted.
#[test]
fn the_vps_mcp_clients_dns_tools_do_everything_they_can() {
    let Some(python) = vendor_python("vps_mcp.server") else { return };
    let emulator = Emulate::start(&["vpsorg"]);
    let program = r#"
import asyncio, re
import vps_mcp.server as s
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
async def main():
    listed = await s.list_dns_zones()
    print("zones", sorted(re.findall(r"DNS Zone: (\S+)", listed)))
    made = await s.create_dns_zone("vendor.example")
    zone = re.search(UUID, made).group(0)
    print("made", "DNS zone created." in made)
    a = await s.create_dns_record(zone, "A", "www", "192.0.2.5", 600)
    record = re.search("uuid: (" + UUID + ")", a).group(1)
    mx = await s.create_dns_record(zone, "MX", "@", "mail.vendor.example", 3600, 10)
    print("mx", "priority: 10" in mx)
    changed = await s.update_dns_record(record, value="192.0.2.6", ttl=900)
    print("changed", "value: 192.0.2.6" in changed and "ttl: 900" in changed)
    shown = await s.get_dns_zone(zone)
    print("records", sorted(re.findall(r"^\s+(A|MX)\s+(\S+)\s+-> (\S+)", shown, re.M)))
    print("deleted record", "deleted" in await s.delete_dns_record(record))
    print("deleted zone", "deleted" in await s.delete_dns_zone(zone))
    print("zones after", sorted(re.findall(r"DNS Zone: (\S+)", await s.list_dns_zones())))
asyncio.run(main())
"#;
    let out = Command::new(&python)
        .args(["-c", program])
        .env("VPS_API_TOKEN", emulator.get("/token"))
        .env("VPS_API_URL", emulator.get("/endpoint"))
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "zones ['example.com', 'example.org']\n\
         made True\n\
         mx True\n\
         changed True\n\
         records [('A', 'www', '192.0.2.6'), ('MX', '@', 'mail.vendor.example')]\n\
         deleted record True\n\
         deleted zone True\n\
         zones after ['example.com', 'example.org']",
        "{text}"
    );
}

/// Whether this process may bind port 443 and make a mount namespace (root, as CI is); if
/// not, whether that fails the test.
fn may_stand_in_for_a_vendor() -> bool {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let tools = ["unshare", "mount"].iter().all(|t| {
        Command::new("sh").args(["-c", &format!("command -v {t}")]).output().is_ok_and(|o| o.status.success())
    });
    if root && tools {
        return true;
    }
    if std::env::var("ZONECTL_REQUIRE_CLIENTS").is_ok_and(|v| v == "1") {
        panic!("standing in for a vendor's host needs root, unshare and mount");
    }
    eprintln!("skipped: standing in for a vendor's host needs root, unshare and mount");
    false
}

/// Lexicon's LuaDNS provider with nothing changed at all: it reaches `https://api.luadns.com`,
/// which is the emulator here (see [`vendor_host`]).
#[test]
fn lexicon_reaches_the_luadns_emulator_under_the_vendors_own_name() {
    let Some(python) = vendor_python("lexicon") else { return };
    let Some(vendor) = vendor_host("luadns", "api.luadns.com", "127.0.0.2", &[]) else { return };
    let program = format!(
        r#"
from lexicon.config import ConfigResolver
from lexicon._private.providers.luadns import Provider
config = ConfigResolver().with_dict({{"provider_name": "luadns", "domain": "example.com", "ttl": 300,
    "luadns": {{"auth_username": "{user}", "auth_token": "{token}"}}}})
provider = Provider(config)
print("endpoint", provider.api_endpoint)
provider.authenticate()
provider.create_record("TXT", "vendor-name", "reached")
print("listed", [r["content"] for r in provider.list_records("TXT", "vendor-name")])
provider.delete_record(None, "TXT", "vendor-name", "reached")
print("left", provider.list_records("TXT", "vendor-name"))
"#,
        user = vendor.emulator.get("/username"),
        token = vendor.emulator.get("/api_key"),
    );
    let out = vendor.command(&python).args(["-c", &program]).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "endpoint https://api.luadns.com/v1\nlisted ['reached']\nleft []",
        "{text}"
    );
}

/// certbot with a DNS plugin obtains a certificate for the emulator's first zone from
/// pebble, which checks the challenge at the emulator's name server.
fn certbot_obtains(vendor: &VendorHost, certbot: &Path, plugin: &str, credentials: &str) {
    let pebble = common::pebble::pebble(vendor.dir.path(), &vendor.tls, &vendor.emulator.get("/dns"));
    let ini = vendor.dir.path().join("credentials.ini");
    std::fs::write(&ini, credentials).unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&ini, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let zone = vendor.emulator.get("/zones/0");
    let work = |name: &str| vendor.dir.path().join("certbot").join(name);
    let out = vendor
        .command(certbot)
        .args(["certonly", "--non-interactive", "--agree-tos", "--no-eff-email", "-m", "hostmaster@example.org"])
        .args(["--server", &pebble.directory, "--authenticator", &format!("dns-{plugin}")])
        .arg(format!("--dns-{plugin}-credentials"))
        .arg(&ini)
        .args([&format!("--dns-{plugin}-propagation-seconds"), "1"])
        .arg("--config-dir")
        .arg(work("config"))
        .arg("--work-dir")
        .arg(work("work"))
        .arg("--logs-dir")
        .arg(work("logs"))
        .args(["-d", &zone])
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    let certificate = work("config").join("live").join(&zone).join("cert.pem");
    assert!(common::pebble::names_in(&certificate).contains(&zone), "{text}");
}

/// certbot with LuaDNS's own plugin (`certbot-dns-luadns` 5.8.0, on Lexicon), unchanged.
/// The plugin sends TTL 60 (certbot's Lexicon base), below a free account's minimum of 300:
/// the emulator plays a paid package (`min_ttl=60`).
#[test]
fn certbot_with_the_luadns_plugin_obtains_a_certificate() {
    let Some(python) = vendor_python("certbot_dns_luadns") else { return };
    if !common::pebble::have(&["pebble"]) {
        return;
    }
    let Some(vendor) = vendor_host("luadns", "api.luadns.com", "127.0.0.3", &["--reading", "min_ttl=60"]) else {
        return;
    };
    let credentials = format!(
        "dns_luadns_email = {}\ndns_luadns_token = {}\n",
        vendor.emulator.get("/username"),
        vendor.emulator.get("/api_key")
    );
    certbot_obtains(&vendor, &python.with_file_name("certbot"), "luadns", &credentials);
}

/// certbot with Domeneshop's plugin (`certbot-dns-domeneshop` 0.2.9, on the `domeneshop`
/// library), unchanged.
#[test]
fn certbot_with_the_domeneshop_plugin_obtains_a_certificate() {
    let Some(python) = vendor_python("certbot_dns_domeneshop") else { return };
    if !common::pebble::have(&["pebble"]) {
        return;
    }
    let Some(vendor) = vendor_host("domeneshop", "api.domeneshop.no", "127.0.0.6", &[]) else { return };
    let credentials = format!(
        "dns_domeneshop_client_token = {}\ndns_domeneshop_client_secret = {}\n",
        vendor.emulator.get("/token"),
        vendor.emulator.get("/secret")
    );
    certbot_obtains(&vendor, &python.with_file_name("certbot"), "domeneshop", &credentials);
}

/// Debian's lego with its own DNS provider `provider`, `env` its credentials; the output.
fn lego_run(vendor: &VendorHost, provider: &str, env: &[(&str, String)]) -> (Output, PathBuf) {
    let pebble = common::pebble::pebble(vendor.dir.path(), &vendor.tls, &vendor.emulator.get("/dns"));
    let zone = vendor.emulator.get("/zones/0");
    let mut command = vendor.command(Path::new("lego"));
    command
        .args(["--server", &pebble.directory, "--email", "hostmaster@example.org", "--accept-tos"])
        .args(["--dns", provider, "--dns.disable-cp", "--dns.resolvers", &vendor.emulator.get("/dns")])
        .args(["-d", &zone, "--path"])
        .arg(vendor.dir.path().join("lego"));
    for (key, value) in env {
        command.env(key, value);
    }
    let out = command.arg("run").output().unwrap();
    (out, vendor.dir.path().join("lego/certificates").join(format!("{zone}.crt")))
}

/// lego's own `luadns` provider (Debian's lego, 4.9.1), unchanged, against the emulator under
/// `https://api.luadns.com`: it lists the zones and then fails, "no matching zone found for
/// domain", because that release compares the zone with a trailing dot to LuaDNS's names
/// without one — exactly what its users met at the real service (go-acme/lego#1795, fixed by
/// #1796 after 4.9). The emulator answers as the service did; with this lego, use zonectl's
/// hook (`--dns exec`), which the certificate tests run at every provider.
#[test]
fn debians_lego_luadns_provider_meets_its_known_zone_matching_bug_as_at_the_real_service() {
    if !common::pebble::have(&["pebble", "lego"]) {
        return;
    }
    let Some(vendor) = vendor_host("luadns", "api.luadns.com", "127.0.0.4", &[]) else { return };
    let env = [
        ("LUADNS_API_USERNAME", vendor.emulator.get("/username")),
        ("LUADNS_API_TOKEN", vendor.emulator.get("/api_key")),
    ];
    let (out, certificate) = lego_run(&vendor, "luadns", &env);
    let zone = vendor.emulator.get("/zones/0");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        // A lego with the fix (#1796): the certificate, as from any other provider.
        assert!(common::pebble::names_in(&certificate).contains(&zone), "{text}");
        return;
    }
    assert!(text.contains(&format!("luadns: no matching zone found for domain {zone}")), "{text}");
}

/// lego's own `domeneshop` provider (Debian's lego), unchanged, obtains a certificate through
/// the emulator under `https://api.domeneshop.no`.
#[test]
fn legos_own_domeneshop_provider_obtains_a_certificate_from_the_emulator() {
    if !common::pebble::have(&["pebble", "lego"]) {
        return;
    }
    let Some(vendor) = vendor_host("domeneshop", "api.domeneshop.no", "127.0.0.5", &[]) else { return };
    let env = [
        ("DOMENESHOP_API_TOKEN", vendor.emulator.get("/token")),
        ("DOMENESHOP_API_SECRET", vendor.emulator.get("/secret")),
        ("DOMENESHOP_PROPAGATION_TIMEOUT", "60".to_owned()),
        ("DOMENESHOP_POLLING_INTERVAL", "1".to_owned()),
    ];
    let (out, certificate) = lego_run(&vendor, "domeneshop", &env);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    let zone = vendor.emulator.get("/zones/0");
    assert!(common::pebble::names_in(&certificate).contains(&zone), "{text}");
}

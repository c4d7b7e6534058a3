//! Pebble, Let's Encrypt's test CA, for the certificate tests, and what they check with.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether `program` is installed; if not, whether that fails the test.
pub fn have(programs: &[&str]) -> bool {
    let missing: Vec<&str> = programs
        .iter()
        .copied()
        .filter(|p| {
            Command::new("sh").arg("-c").arg(format!("command -v {p}")).output().map_or(true, |o| !o.status.success())
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("ZONECTL_REQUIRE_CLIENTS").is_ok_and(|v| v == "1") {
        panic!("{} not installed (.ci/run installs them)", missing.join(", "));
    }
    eprintln!("skipped: {} not installed (.ci/run installs them)", missing.join(", "));
    false
}

/// Whether Debian's Python (certbot's, not a pyenv one first on PATH) can import `module`;
/// if not, whether that fails the test.
pub fn have_python(module: &str) -> bool {
    let found = Command::new("/usr/bin/python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return true;
    }
    if std::env::var("ZONECTL_REQUIRE_CLIENTS").is_ok_and(|v| v == "1") {
        panic!("python module {module} not installed (.ci/run installs it)");
    }
    eprintln!("skipped: python module {module} not installed (.ci/run installs it)");
    false
}

/// A CA for pebble's HTTPS listener, which the clients are told to trust.
pub struct Tls {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub fn tls(dir: &Path) -> Tls {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "zonectl test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    // Pebble's name, and the vendors' API hosts, for the emulators that stand in for them
    // where a client reaches only the vendor's host (resolved here for the test alone).
    let names = ["localhost", "127.0.0.1", "api.luadns.com", "api.domeneshop.no"];
    let params = rcgen::CertificateParams::new(names.map(str::to_owned).to_vec()).unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    let paths = Tls { ca: dir.join("ca.pem"), cert: dir.join("cert.pem"), key: dir.join("key.pem") };
    std::fs::write(&paths.ca, ca.pem()).unwrap();
    std::fs::write(&paths.cert, cert.pem()).unwrap();
    std::fs::write(&paths.key, key.serialize_pem()).unwrap();
    paths
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Pebble, validating against `dns`; killed when dropped.
pub struct Pebble {
    child: Child,
    pub directory: String,
}

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn pebble(dir: &Path, tls: &Tls, dns: &str) -> Pebble {
    // A port found free can be taken by another test before pebble binds it; pebble then
    // exits at once, and is started again on other ports.
    for _ in 0..5 {
        if let Some(pebble) = try_pebble(dir, tls, dns) {
            return pebble;
        }
    }
    let log = std::fs::read_to_string(dir.join("pebble.log")).unwrap_or_default();
    panic!("pebble did not start:\n{log}");
}

fn try_pebble(dir: &Path, tls: &Tls, dns: &str) -> Option<Pebble> {
    let port = free_port();
    let config = serde_json::json!({ "pebble": {
        "listenAddress": format!("127.0.0.1:{port}"),
        "managementListenAddress": format!("127.0.0.1:{}", free_port()),
        "certificate": tls.cert, "privateKey": tls.key,
        "httpPort": 5002, "tlsPort": 5001, "ocspResponderURL": "",
        "externalAccountBindingRequired": false,
    }});
    let path = dir.join("pebble.json");
    std::fs::write(&path, config.to_string()).unwrap();
    let log = std::fs::File::create(dir.join("pebble.log")).unwrap();
    let mut child = Command::new("pebble")
        .arg("-config")
        .arg(&path)
        .args(["-dnsserver", dns])
        // Validate at once, never refuse a nonce at random, reuse no authorization: every
        // run proves a fresh challenge.
        .env("PEBBLE_VA_NOSLEEP", "1")
        .env("PEBBLE_WFE_NONCEREJECT", "0")
        .env("PEBBLE_AUTHZREUSE", "0")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if child.try_wait().unwrap().is_some() {
            return None;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "pebble did not start listening in 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pebble = Pebble { child, directory: format!("https://127.0.0.1:{port}/dir") };
    // Whatever answered may be another test's listener that took the port first (pebble
    // prints that it listens before it binds, then exits): only pebble serves its ACME
    // directory with the test CA's certificate. Dropped otherwise, it is killed.
    serves_acme_directory(&pebble.directory, tls).then_some(pebble)
}

/// Whether `url` answers with an ACME directory over TLS that the test CA vouches for.
fn serves_acme_directory(url: &str, tls: &Tls) -> bool {
    let (url, ca) = (url.to_owned(), std::fs::read(&tls.ca).unwrap());
    // On a thread of its own: the blocking client may not run inside a caller's runtime.
    std::thread::spawn(move || {
        let ca = reqwest::Certificate::from_pem(&ca).unwrap();
        let client = reqwest::blocking::Client::builder()
            .add_root_certificate(ca)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        client.get(&url).send().and_then(|r| r.text()).is_ok_and(|body| body.contains("newAccount"))
    })
    .join()
    .unwrap()
}

/// The DNS names a PEM certificate is for, sorted.
pub fn names_in(pem: &Path) -> Vec<String> {
    let bytes = std::fs::read(pem).unwrap_or_else(|e| panic!("{}: {e}", pem.display()));
    let (_, pem) = x509_parser::pem::parse_x509_pem(&bytes).unwrap();
    let cert = pem.parse_x509().unwrap();
    let mut names: Vec<String> = cert
        .subject_alternative_name()
        .unwrap()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    x509_parser::extensions::GeneralName::DNSName(d) => Some((*d).to_owned()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

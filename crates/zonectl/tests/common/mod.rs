//! What the binary's tests share: `zonectl emulate` running in the background.

#[allow(dead_code)]
pub mod pebble;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A `zonectl emulate` process, stopped when dropped, and the JSON line it printed
/// (endpoint, credentials, zones) for its first emulator, and for all of them.
pub struct Emulate {
    child: Child,
    pub described: serde_json::Value,
    #[allow(dead_code)]
    pub all: Vec<serde_json::Value>,
}

impl Emulate {
    /// Starts `zonectl emulate ARGS…` and reads a line per emulator it was asked for.
    pub fn start(args: &[&str]) -> Emulate {
        let mut child = Command::new(env!("CARGO_BIN_EXE_zonectl"))
            .arg("emulate")
            .args(args)
            .env_remove("ZONECTL_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let emulators = args.iter().take_while(|a| !a.starts_with("--")).count().max(1);
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        let mut all = Vec::new();
        for _ in 0..emulators {
            let mut line = String::new();
            lines.read_line(&mut line).unwrap();
            all.push(serde_json::from_str::<serde_json::Value>(&line).unwrap_or_else(|e| panic!("{e}: {line:?}")));
        }
        Emulate { child, described: all[0].clone(), all }
    }

    /// The JSON line of the emulator of `kind`.
    #[allow(dead_code)]
    pub fn of(&self, kind: &str) -> &serde_json::Value {
        self.all.iter().find(|d| d["provider"] == kind).unwrap_or_else(|| panic!("no {kind} emulator"))
    }

    /// The requests the emulator of `kind` received (method and path), from its log.
    #[allow(dead_code)]
    pub fn requests(&self, kind: &str) -> Vec<(String, String)> {
        self.log(kind)
            .iter()
            .map(|e| (e["method"].as_str().unwrap().to_owned(), e["path"].as_str().unwrap().to_owned()))
            .collect()
    }

    /// The request log of the emulator of `kind`: method, path, status, arrival.
    #[allow(dead_code)]
    pub fn log(&self, kind: &str) -> Vec<serde_json::Value> {
        let body = self.control(kind, "GET", "/_emulator/log", "");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
    }

    /// Sends a request to the control surface of the emulator of `kind`; its body.
    #[allow(dead_code)]
    pub fn control(&self, kind: &str, method: &str, path: &str, json: &str) -> String {
        let endpoint = self.of(kind)["endpoint"].as_str().unwrap();
        let host = endpoint.trim_start_matches("http://").split('/').next().unwrap();
        let mut stream = std::net::TcpStream::connect(host).unwrap();
        use std::io::{Read as _, Write as _};
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
            json.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 2"), "{method} {path}: {head}");
        body.to_owned()
    }

    /// A string field of the JSON line, by JSON pointer (`/env/LUADNS_API_TOKEN`).
    pub fn get(&self, pointer: &str) -> String {
        self.described.pointer(pointer).and_then(serde_json::Value::as_str).unwrap().to_owned()
    }
}

impl Drop for Emulate {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Dockerfile's `ENV`, `ENTRYPOINT` and `CMD`, read from the file itself.
#[allow(dead_code)]
pub fn image_definition() -> (Vec<(String, String)>, Vec<String>) {
    let text =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Dockerfile")).unwrap();
    let joined = text.replace("\\\n", " ");
    let last_stage = joined.rsplit("\nFROM ").next().unwrap();
    let mut env = Vec::new();
    let mut argv = Vec::new();
    for line in last_stage.lines() {
        if let Some(rest) = line.strip_prefix("ENV ") {
            for pair in rest.split_whitespace() {
                let (k, v) = pair.split_once('=').unwrap();
                env.push((k.to_owned(), v.to_owned()));
            }
        }
        for directive in ["ENTRYPOINT ", "CMD "] {
            if let Some(rest) = line.strip_prefix(directive) {
                let list: Vec<String> = serde_json::from_str(rest).unwrap();
                argv.extend(list);
            }
        }
    }
    (env, argv)
}

/// The change-report document a command printed on stdout, checked against
/// `docs/change-report.schema.json`.
#[allow(dead_code)]
pub fn change_report(out: &std::process::Output) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/change-report.schema.json");
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let document: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}{}", String::from_utf8_lossy(&out.stderr)));
    let errors: Vec<String> =
        validator.iter_errors(&document).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:?}\n{document:#}");
    document
}

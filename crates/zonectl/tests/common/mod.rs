//! What the binary's tests share: `zonectl emulate` running in the background.

#[allow(dead_code)]
pub mod pebble;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A `zonectl emulate` process, stopped when dropped, and the JSON line it printed
/// (endpoint, credentials, zones).
pub struct Emulate {
    child: Child,
    pub described: serde_json::Value,
}

impl Emulate {
    /// Starts `zonectl emulate ARGS…` and reads its first line.
    pub fn start(args: &[&str]) -> Emulate {
        let mut child = Command::new(env!("CARGO_BIN_EXE_zonectl"))
            .arg("emulate")
            .args(args)
            .env_remove("ZONECTL_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let described = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        Emulate { child, described }
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

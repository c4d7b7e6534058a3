//! `zonectl serve` as its clients use it: an external-dns webhook client that behaves as
//! external-dns's own Go client does (and plans as its planner does), ddclient, lego's
//! httpreq provider with pebble, and plain HTTP for what the clients never send (bad
//! credentials, oversize bodies, a SIGTERM in the middle of a change).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Emulate;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_zonectl");
const MEDIA: &str = "application/external.dns.webhook+json;version=1";

/// A `zonectl serve` process; killed when dropped, unless stopped.
struct Served {
    child: Child,
    listeners: BTreeMap<String, String>,
    log: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    fn url(&self, listener: &str) -> String {
        format!("http://{}", self.listeners[listener])
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A directory with a zonectl.toml and a state directory.
struct Setup {
    dir: tempfile::TempDir,
    emulate: Option<Emulate>,
}

const USERS: &str = r#"
[[serve.dyndns.users]]
name = "router"
password = "router-password-1"
hostnames = ["home.{zone}", "nas.{zone}"]

[[serve.httpreq.users]]
name = "lego"
password_file = "lego.password"
names = ["_acme-challenge.{zone}", "_acme-challenge.*.{zone}"]
"#;

impl Setup {
    /// An emulator of `kind`, sped up, and the configuration pointing at it.
    fn emulated(kind: &str, time_scale: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("zonectl.toml");
        let emulate = Emulate::start(&[kind, "--time-scale", time_scale, "--write-config", config.to_str().unwrap()]);
        let setup = Setup { dir, emulate: Some(emulate) };
        setup.finish();
        setup
    }

    /// The zonefile provider over `zones/`, holding example.com.
    fn zonefile() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("zones")).unwrap();
        std::fs::write(
            dir.path().join("zones/example.com.zone"),
            "$ORIGIN example.com.\n@ 3600 IN SOA ns1 hostmaster 1 7200 900 1209600 300\n@ 3600 IN NS ns1\nns1 3600 IN A 192.0.2.53\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("zonectl.toml"),
            "[providers.files]\nkind = \"zonefile\"\ndirectory = \"zones\"\n",
        )
        .unwrap();
        let setup = Setup { dir, emulate: None };
        setup.finish();
        setup
    }

    fn finish(&self) {
        let config = self.path("zonectl.toml");
        let mut text = std::fs::read_to_string(&config).unwrap();
        text.push_str(&USERS.replace("{zone}", &self.zone()));
        std::fs::write(&config, text).unwrap();
        std::fs::write(self.path("lego.password"), "lego-password-2\n").unwrap();
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn zone(&self) -> String {
        self.emulate.as_ref().map_or_else(|| "example.com".into(), |e| e.get("/zones/0"))
    }

    fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        command
            .env("ZONECTL_CONFIG", self.path("zonectl.toml"))
            .env("ZONECTL_STATE_DIR", self.path("state"))
            .env_remove("WEBHOOK_HOST")
            .env_remove("WEBHOOK_PORT")
            .env_remove("METRICS_HOST")
            .env_remove("METRICS_PORT")
            .current_dir(self.dir.path());
        command
    }

    /// `zonectl serve ARGS`, once it has printed a line for each listener asked for.
    fn serve(&self, args: &[&str]) -> Served {
        let log = self.path(&format!("serve-{}.log", fastrand_suffix()));
        let mut child = self
            .command()
            .arg("serve")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let wanted = args
            .iter()
            .filter(|a| ["--external-dns", "--httpreq", "--dyndns", "--metrics", "--rfc2136"].contains(a))
            .count();
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        let mut listeners = BTreeMap::new();
        while listeners.len() < wanted {
            let mut line = String::new();
            if lines.read_line(&mut line).unwrap() == 0 {
                panic!("zonectl serve stopped: {}", std::fs::read_to_string(&log).unwrap());
            }
            let parsed: Value = serde_json::from_str(&line).unwrap();
            listeners.insert(
                parsed["listener"].as_str().unwrap().to_owned(),
                parsed["address"].as_str().unwrap().to_owned(),
            );
        }
        Served { child, listeners, log }
    }

    /// The emulator's requests that changed something.
    async fn writes(&self) -> usize {
        let Some(emulate) = &self.emulate else { return 0 };
        let endpoint = emulate.get("/endpoint");
        let base = endpoint.trim_start_matches("http://").split('/').next().unwrap().to_owned();
        let log: Vec<Value> = reqwest::get(format!("http://{base}/_emulator/log")).await.unwrap().json().await.unwrap();
        log.iter().filter(|e| e["method"] != "GET").count()
    }

    fn export(&self) -> String {
        let out = self.command().args(["export", &self.zone()]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }
}

fn fastrand_suffix() -> String {
    format!("{:?}", Instant::now()).chars().filter(char::is_ascii_digit).collect()
}

/// external-dns's webhook client: the requests and the status codes it accepts, exactly.
struct Webhook {
    base: String,
    http: reqwest::Client,
}

impl Webhook {
    fn new(served: &Served) -> Webhook {
        Webhook { base: served.url("external-dns"), http: reqwest::Client::new() }
    }

    /// `GET /`: any 2xx, and the media type byte for byte, else negotiation fails.
    async fn negotiate(&self) -> Value {
        let answer = self.http.get(&self.base).header("Accept", MEDIA).send().await.unwrap();
        assert!(answer.status().is_success(), "{}", answer.status());
        assert_eq!(answer.headers()["content-type"].as_bytes(), MEDIA.as_bytes());
        answer.json().await.unwrap()
    }

    /// `GET /records`: exactly 200.
    async fn records(&self) -> Vec<Value> {
        let answer = self.http.get(format!("{}/records", self.base)).header("Accept", MEDIA).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        answer.json().await.unwrap()
    }

    /// `POST /adjustendpoints`: exactly 200.
    async fn adjust(&self, endpoints: &[Value]) -> Vec<Value> {
        let answer = self
            .http
            .post(format!("{}/adjustendpoints", self.base))
            .header("Content-Type", MEDIA)
            .header("Accept", MEDIA)
            .body(serde_json::to_vec(endpoints).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        answer.json().await.unwrap()
    }

    /// `POST /records`; the caller checks for exactly 204.
    async fn apply(&self, changes: &Value) -> (u16, String) {
        let answer = self
            .http
            .post(format!("{}/records", self.base))
            .header("Content-Type", MEDIA)
            .body(serde_json::to_vec(changes).unwrap())
            .send()
            .await
            .unwrap();
        (answer.status().as_u16(), answer.text().await.unwrap())
    }
}

/// What external-dns's planner (plan/plan.go) would change to make `current` hold
/// `desired`: a create for a missing set, an update when a configured TTL differs, the
/// targets differ (case-insensitively) or the providerSpecific set differs.
fn planned(desired: &[Value], current: &[Value]) -> Vec<String> {
    let key = |e: &Value| {
        (
            e["dnsName"].as_str().unwrap_or("").to_ascii_lowercase(),
            e["recordType"].as_str().unwrap_or("").to_owned(),
            e["setIdentifier"].as_str().unwrap_or("").to_owned(),
        )
    };
    let targets = |e: &Value| -> BTreeSet<String> {
        e["targets"].as_array().into_iter().flatten().map(|t| t.as_str().unwrap().to_ascii_lowercase()).collect()
    };
    let specific = |e: &Value| -> BTreeSet<String> {
        e["providerSpecific"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| format!("{}={}", p["name"], p["value"]))
            .collect()
    };
    let mut changes = Vec::new();
    for want in desired {
        match current.iter().find(|c| key(c) == key(want)) {
            None => changes.push(format!("create {:?}", key(want))),
            Some(have) => {
                let ttl = want["recordTTL"].as_i64().unwrap_or(0);
                if ttl > 0 && ttl != have["recordTTL"].as_i64().unwrap_or(0) {
                    changes.push(format!("update ttl {:?}: {ttl} -> {}", key(want), have["recordTTL"]));
                }
                if targets(want) != targets(have) {
                    changes.push(format!("update targets {:?}", key(want)));
                }
                if specific(want) != specific(have) {
                    changes.push(format!("update providerSpecific {:?}", key(want)));
                }
            }
        }
    }
    changes
}

/// The TXT registry's record for an owned endpoint, with its literal quotes.
fn ownership(endpoint: &Value) -> Value {
    let name = endpoint["dnsName"].as_str().unwrap();
    let rtype = endpoint["recordType"].as_str().unwrap().to_ascii_lowercase();
    let (first, rest) = name.split_once('.').unwrap();
    json!({
        "dnsName": format!("{rtype}-{first}.{rest}"),
        "targets": [format!("\"heritage=external-dns,external-dns/owner=test,external-dns/resource=ingress/default/{first}\"")],
        "recordType": "TXT",
        "labels": { "ownedRecord": name },
    })
}

fn endpoint(name: &str, rtype: &str, targets: &[&str], ttl: i64) -> Value {
    json!({ "dnsName": name, "recordType": rtype, "targets": targets, "recordTTL": ttl })
}

/// Create, update and delete through the webhook, each followed by external-dns's next
/// loop, which must plan nothing.
async fn webhook_cycles(setup: &Setup) {
    let served = setup.serve(&["--external-dns", "127.0.0.1:0"]);
    let hook = Webhook::new(&served);
    let zone = setup.zone();
    let filter = hook.negotiate().await;
    assert!(filter.get("filters").is_none(), "{filter}");
    assert!(filter["include"].as_array().unwrap().contains(&json!(zone)), "{filter}");

    // What the cluster wants: a TTL under every provider's minimum, a providerSpecific
    // pair no provider keeps.
    let mut desired = vec![
        endpoint(&format!("app.{zone}"), "A", &["192.0.2.1", "192.0.2.2"], 30),
        endpoint(&format!("alias.{zone}"), "CNAME", &[&format!("app.{zone}")], 600),
        endpoint(&format!("spf.{zone}"), "TXT", &["v=spf1 -all"], 0),
    ];
    desired[0]["providerSpecific"] = json!([{ "name": "webhook/weight", "value": "10" }]);
    let adjusted = hook.adjust(&desired).await;
    assert!(adjusted[0].get("providerSpecific").is_none(), "stripped: {}", adjusted[0]);
    assert_eq!(planned(&adjusted, &hook.records().await).len(), 3);
    let create: Vec<Value> = adjusted.iter().cloned().chain(adjusted.iter().map(ownership)).collect();
    let (status, body) = hook.apply(&json!({ "create": create })).await;
    assert_eq!(status, 204, "{body}");
    let current = hook.records().await;
    assert_eq!(planned(&hook.adjust(&desired).await, &current), Vec::<String>::new(), "the next loop plans nothing");
    let owner = current.iter().find(|e| e["dnsName"] == json!(format!("a-app.{zone}"))).expect("the ownership record");
    assert!(owner["targets"][0].as_str().unwrap().starts_with("heritage=external-dns,"), "{owner}");

    // An update: new targets and TTL, old and new as external-dns pairs them.
    let old = current.iter().find(|e| e["dnsName"] == json!(format!("app.{zone}"))).unwrap().clone();
    desired[0] = endpoint(&format!("app.{zone}"), "A", &["192.0.2.3"], 3600);
    let new = hook.adjust(&desired[..1]).await.remove(0);
    let (status, body) = hook.apply(&json!({ "updateOld": [old], "updateNew": [new] })).await;
    assert_eq!(status, 204, "{body}");
    let current = hook.records().await;
    assert_eq!(planned(&hook.adjust(&desired).await, &current), Vec::<String>::new());
    let app = current.iter().find(|e| e["dnsName"] == json!(format!("app.{zone}"))).unwrap();
    assert_eq!(app["targets"], json!(["192.0.2.3"]));

    // A delete, with the ownership record as external-dns sends it: quoted.
    let alias = current.iter().find(|e| e["dnsName"] == json!(format!("alias.{zone}"))).unwrap().clone();
    let (status, body) = hook.apply(&json!({ "delete": [alias.clone(), ownership(&alias)] })).await;
    assert_eq!(status, 204, "{body}");
    let current = hook.records().await;
    let names: Vec<&str> = current.iter().filter_map(|e| e["dnsName"].as_str()).collect();
    assert!(
        !names.contains(&format!("alias.{zone}").as_str()) && !names.contains(&format!("cname-alias.{zone}").as_str()),
        "{names:?}"
    );
    desired.remove(1);
    assert_eq!(planned(&hook.adjust(&desired).await, &current), Vec::<String>::new());

    // The apex's default ownership name is outside the zone: refused, nothing changed.
    let apex = endpoint(&zone, "A", &["192.0.2.9"], 300);
    let before = hook.records().await;
    let (status, body) = hook.apply(&json!({ "create": [apex.clone(), ownership(&apex)] })).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("--txt-prefix"), "{body}");
    assert_eq!(hook.records().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_cycles_at_luadns() {
    webhook_cycles(&Setup::emulated("luadns", "0.01")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_cycles_at_domeneshop() {
    webhook_cycles(&Setup::emulated("domeneshop", "0.01")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_cycles_at_the_zonefile_provider() {
    webhook_cycles(&Setup::zonefile()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_bodies_are_bounded_and_errors_are_small_json() {
    let setup = Setup::zonefile();
    let served = setup.serve(&["--external-dns", "127.0.0.1:0"]);
    let hook = Webhook::new(&served);
    let big = vec![b' '; 33 << 20];
    // The server answers before reading the body and closes the connection: the client must
    // not pool it for the next request (that request failed once with IncompleteMessage).
    let answer = hook
        .http
        .post(format!("{}/records", hook.base))
        .header("Content-Type", MEDIA)
        .header("Connection", "close")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 413);
    let answer =
        hook.http.post(format!("{}/records", hook.base)).header("Content-Type", MEDIA).body("{").send().await.unwrap();
    assert_eq!(answer.status(), 400);
    let error: Value = answer.json().await.unwrap();
    assert!(error["error"].as_str().unwrap().contains("not webhook Changes"), "{error}");
    // Keys in another case, as upstream's own tests send them.
    let (status, _) = hook.apply(&json!({ "Create": [endpoint("x.example.com", "A", &["192.0.2.4"], 0)] })).await;
    assert_eq!(status, 204);
    assert!(hook.records().await.iter().any(|e| e["dnsName"] == "x.example.com"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_webhook_requests_at_once_lose_and_double_nothing() {
    let setup = Setup::emulated("luadns", "0.001");
    let served = setup.serve(&["--external-dns", "127.0.0.1:0"]);
    let hook = std::sync::Arc::new(Webhook::new(&served));
    let zone = setup.zone();
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(50));
    let requests = (0..200).map(|i| {
        let (hook, slots, zone) = (hook.clone(), slots.clone(), zone.clone());
        tokio::spawn(async move {
            let _slot = slots.acquire().await.unwrap();
            let host = endpoint(&format!("c{i}.{zone}"), "A", &[&format!("192.0.2.{}", i % 250)], 300);
            hook.apply(&json!({ "create": [host.clone(), ownership(&host)] })).await
        })
    });
    for (i, answer) in futures_util::future::join_all(requests).await.into_iter().enumerate() {
        let (status, body) = answer.unwrap();
        assert_eq!(status, 204, "request {i}: {body}");
    }
    let records = hook.records().await;
    for i in 0..200 {
        let name = format!("c{i}.{zone}");
        let held: Vec<&Value> =
            records.iter().filter(|e| e["dnsName"] == json!(name) && e["recordType"] == "A").collect();
        assert_eq!(held.len(), 1, "{name}");
        assert_eq!(held[0]["targets"], json!([format!("192.0.2.{}", i % 250)]), "{name}");
        assert!(records.iter().any(|e| e["dnsName"] == json!(format!("a-{name}"))), "{name}'s ownership record");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_an_apply_finishes_it_and_exits_0() {
    // mydomain.lu orders take 3 s on the service's clock, 300 ms here, one at a time.
    let setup = Setup::emulated("mydomainlu", "0.1");
    let mut served = setup.serve(&["--external-dns", "127.0.0.1:0", "--metrics", "127.0.0.1:0"]);
    let hook = std::sync::Arc::new(Webhook::new(&served));
    let zone = setup.zone();
    let hosts: Vec<Value> =
        (1..=3).map(|i| endpoint(&format!("t{i}.{zone}"), "A", &[&format!("192.0.2.{i}")], 300)).collect();
    let posting = {
        let (hook, hosts) = (hook.clone(), hosts.clone());
        tokio::spawn(async move { hook.apply(&json!({ "create": hosts })).await })
    };
    // Once the first order is in, the signal.
    let emulate = setup.emulate.as_ref().unwrap();
    let state_url = format!("{}/_emulator/state", emulate.get("/endpoint"));
    let started = Instant::now();
    loop {
        let state: Value = reqwest::get(&state_url).await.unwrap().json().await.unwrap();
        if !state["pending"].is_null() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no order came");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = served.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    // While it finishes, the probes see it unhealthy.
    let health = format!("{}/healthz", served.url("metrics"));
    let mut unhealthy = false;
    for _ in 0..100 {
        match reqwest::get(&health).await {
            Ok(r) if r.status() == 503 => {
                unhealthy = true;
                break;
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            Err(_) => break,
        }
    }
    assert!(unhealthy, "/healthz turned 503 during shutdown");
    let (status, body) = posting.await.unwrap();
    assert_eq!(status, 204, "{body}");
    let exit = tokio::task::spawn_blocking(move || served.child.wait().unwrap()).await.unwrap();
    assert_eq!(exit.code(), Some(0), "{}", std::fs::read_to_string(served_log(&setup)).unwrap_or_default());
    let out = setup.command().args(["record", "list", &zone, "--type", "A", "--output", "json"]).output().unwrap();
    let listed: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    for i in 1..=3 {
        assert!(listed.iter().any(|r| r["value"] == json!(format!("192.0.2.{i}"))), "t{i}: {listed:?}");
    }
}

fn served_log(setup: &Setup) -> PathBuf {
    std::fs::read_dir(setup.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("serve-")))
        .unwrap_or_default()
}

#[test]
fn the_webhook_listens_on_loopback_only_and_the_others_need_tls_beyond_it() {
    let setup = Setup::zonefile();
    let out = setup.command().args(["serve", "--external-dns", "0.0.0.0:0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback only"), "{}", String::from_utf8_lossy(&out.stderr));
    for flag in ["--dyndns", "--httpreq"] {
        let out = setup.command().args(["serve", flag, "0.0.0.0:0"]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{flag}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--tls-cert"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = setup.command().args(["serve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to serve"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_without_the_right_credentials_and_nothing_changes() {
    let setup = Setup::emulated("luadns", "0.01");
    let served = setup.serve(&["--httpreq", "127.0.0.1:0", "--dyndns", "127.0.0.1:0"]);
    let http = reqwest::Client::new();
    let zone = setup.zone();
    let before = setup.export();
    let body = json!({ "fqdn": format!("_acme-challenge.{zone}."), "value": "v" });
    for path in ["present", "cleanup"] {
        let url = format!("{}/{path}", served.url("httpreq"));
        for credentials in [None, Some(("lego", "wrong")), Some(("router", "router-password-1"))] {
            let mut request = http.post(&url).json(&body);
            if let Some((user, password)) = credentials {
                request = request.basic_auth(user, Some(password));
            }
            let answer = request.send().await.unwrap();
            assert_eq!(answer.status(), 401, "{path} {credentials:?}");
            assert!(answer.headers().contains_key("www-authenticate"));
        }
        // The right user, a name it may not change.
        let other = json!({ "fqdn": "_acme-challenge.elsewhere.example.", "value": "v" });
        let answer = http.post(&url).basic_auth("lego", Some("lego-password-2")).json(&other).send().await.unwrap();
        assert_eq!(answer.status(), 403, "{path}");
    }
    let update = format!("{}/nic/update?hostname=home.{zone}&myip=192.0.2.77", served.url("dyndns"));
    for credentials in [None, Some(("router", "wrong")), Some(("lego", "lego-password-2"))] {
        let mut request = http.get(&update);
        if let Some((user, password)) = credentials {
            request = request.basic_auth(user, Some(password));
        }
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), 401, "{credentials:?}");
        assert_eq!(answer.text().await.unwrap(), "badauth\n");
    }
    let answer = http
        .get(format!("{}/nic/update?hostname=www.{zone},nodot&myip=192.0.2.77", served.url("dyndns")))
        .basic_auth("router", Some("router-password-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "nohost\nnotfqdn\n");
    assert_eq!(setup.writes().await, 0, "nothing was written");
    assert_eq!(setup.export(), before);
    assert!(!served.log().contains("router-password-1") && !served.log().contains("lego-password-2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ddclient_updates_two_hosts_in_one_request_then_gets_nochg_without_a_write() {
    if !common::pebble::have(&["ddclient"]) {
        return;
    }
    let setup = Setup::emulated("luadns", "0.01");
    let served = setup.serve(&["--dyndns", "127.0.0.1:0"]);
    let zone = setup.zone();
    let conf = setup.path("ddclient.conf");
    std::fs::write(
        &conf,
        format!(
            "daemon=0\nssl=no\nprotocol=dyndns2\nserver={}\nlogin=router\npassword='router-password-1'\nuse=ip, ip=192.0.2.55\nhome.{zone},nas.{zone}\n",
            served.listeners["dyndns"]
        ),
    )
    .unwrap();
    set_mode_600(&conf);
    let ddclient = |force: bool| {
        let mut command = Command::new("ddclient");
        command
            .args(["-daemon=0", "-foreground", "-noquiet", "-file"])
            .arg(&conf)
            .arg("-cache")
            .arg(setup.path("ddclient.cache"));
        if force {
            command.arg("-force");
        }
        command.output().unwrap()
    };
    let first = ddclient(false);
    let text = String::from_utf8_lossy(&first.stdout).to_string() + &String::from_utf8_lossy(&first.stderr);
    assert!(
        text.contains(&format!("updating home.{zone}: good")) && text.contains(&format!("updating nas.{zone}: good")),
        "{text}"
    );
    assert_eq!(served.log().matches("GET /nic/update").count(), 1, "both in one request");
    for host in ["home", "nas"] {
        let out = setup.command().args(["record", "list", &zone, "--name", host, "--output", "json"]).output().unwrap();
        let listed: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(listed.len(), 1, "{host}: {listed:?}");
        assert_eq!(listed[0]["value"], "192.0.2.55");
    }
    let writes = setup.writes().await;
    let again = ddclient(true);
    let text = String::from_utf8_lossy(&again.stdout).to_string() + &String::from_utf8_lossy(&again.stderr);
    assert!(text.contains(&format!("updating home.{zone}: nochg")), "{text}");
    assert_eq!(setup.writes().await, writes, "nochg sends no write to the provider");
}

fn set_mode_600(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dyndns_over_tls() {
    let setup = Setup::zonefile();
    let tls = common::pebble::tls(setup.dir.path());
    let served = setup.serve(&[
        "--dyndns",
        "127.0.0.1:0",
        "--tls-cert",
        tls.cert.to_str().unwrap(),
        "--tls-key",
        tls.key.to_str().unwrap(),
    ]);
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&tls.ca).unwrap()).unwrap();
    let http = reqwest::Client::builder().add_root_certificate(ca).build().unwrap();
    let url = format!("https://{}/nic/update?hostname=home.example.com&myip=2001:db8::7", served.listeners["dyndns"]);
    let answer = http.get(&url).basic_auth("router", Some("router-password-1")).send().await.unwrap();
    assert_eq!(answer.text().await.unwrap(), "good 2001:db8::7\n");
    // Plain HTTP on the TLS port gets nothing.
    assert!(reqwest::get(url.replace("https", "http")).await.is_err());
}

#[test]
fn lego_obtains_a_certificate_through_httpreq() {
    if !common::pebble::have(&["pebble", "lego"]) {
        return;
    }
    let setup = Setup::emulated("luadns", "0.01");
    let served = setup.serve(&["--httpreq", "127.0.0.1:0"]);
    let zone = setup.zone();
    let before = setup.export();
    let dns = setup.emulate.as_ref().unwrap().get("/dns");
    let tls = common::pebble::tls(setup.dir.path());
    let pebble = common::pebble::pebble(setup.dir.path(), &tls, &dns);
    let out = Command::new("timeout")
        .args(["300", "lego"])
        .env("LEGO_CA_CERTIFICATES", &tls.ca)
        .env("HTTPREQ_ENDPOINT", served.url("httpreq"))
        .env("HTTPREQ_USERNAME", "lego")
        .env("HTTPREQ_PASSWORD", "lego-password-2")
        .env("HTTPREQ_PROPAGATION_TIMEOUT", "60")
        .env("HTTPREQ_POLLING_INTERVAL", "1")
        .args(["--server", &pebble.directory, "--email", "hostmaster@example.org", "--accept-tos"])
        .args(["--dns", "httpreq", "--dns.disable-cp", "--dns.resolvers", &dns])
        .args(["-d", &zone, "-d", &format!("*.{zone}"), "--path"])
        .arg(setup.path("lego"))
        .arg("run")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let cert = setup.path("lego").join("certificates").join(format!("{zone}.crt"));
    assert_eq!(common::pebble::names_in(&cert), [format!("*.{zone}"), zone.clone()]);
    assert_eq!(setup.export(), before, "the challenges are gone, nothing else moved");
    assert_eq!(served.log().matches("POST /present 200").count(), 2, "{}", served.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listeners_from_the_environment_json_logs_and_metrics() {
    let setup = Setup::emulated("luadns", "0.01");
    // The variables the existing webhooks read; port 0 picks one.
    let mut command = setup.command();
    command
        .args(["serve", "--log-format", "json"])
        .env("WEBHOOK_HOST", "127.0.0.1")
        .env("WEBHOOK_PORT", "0")
        .env("METRICS_HOST", "127.0.0.1")
        .env("METRICS_PORT", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut listeners = BTreeMap::new();
    for _ in 0..2 {
        let mut line = String::new();
        lines.read_line(&mut line).unwrap();
        let parsed: Value = serde_json::from_str(&line).unwrap();
        listeners
            .insert(parsed["listener"].as_str().unwrap().to_owned(), parsed["address"].as_str().unwrap().to_owned());
    }
    let hook = Webhook { base: format!("http://{}", listeners["external-dns"]), http: reqwest::Client::new() };
    let zone = setup.zone();
    let (status, body) =
        hook.apply(&json!({ "create": [endpoint(&format!("m.{zone}"), "A", &["192.0.2.8"], 300)] })).await;
    assert_eq!(status, 204, "{body}");
    // A CNAME beside other data: the provider's rules refuse it, and retrying will not help.
    let (status, body) =
        hook.apply(&json!({ "create": [endpoint(&format!("m.{zone}"), "CNAME", &["elsewhere.example"], 300)] })).await;
    assert_eq!(status, 422, "{body}");
    let metrics = reqwest::get(format!("http://{}/metrics", listeners["metrics"])).await.unwrap().text().await.unwrap();
    for expected in [
        "zonectl_requests_total{listener=\"external-dns\",method=\"POST\",status=\"204\"} 1",
        "zonectl_changes_applied_total{provider=\"luadns\"} 1",
        "zonectl_errors_total{listener=\"external-dns\"} 1",
    ] {
        assert!(metrics.contains(expected), "{expected} in:\n{metrics}");
    }
    assert!(
        metrics.contains("zonectl_provider_calls_total{provider=\"luadns\",status=\"201\"}")
            || metrics.contains("zonectl_provider_calls_total{provider=\"luadns\",status=\"200\"}"),
        "{metrics}"
    );
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let log = String::from_utf8(out.stderr).unwrap();
    let events: Vec<Value> =
        log.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    assert!(events.iter().any(|e| e["path"] == "/records" && e["status"] == 204), "{log}");
    assert!(
        events.iter().any(|e| e["provider"] == "luadns" && e["changes"] == 1),
        "one line per provider change: {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_runs_as_the_image_runs_it() {
    // The image's command and environment; only the mounts (configuration, secrets,
    // state) and the ports (8888 and 8080 may be taken here) are this test's.
    let (env, argv) = common::image_definition();
    assert_eq!(argv[0], "/usr/local/bin/zonectl");
    assert!(env.contains(&("WEBHOOK_HOST".into(), "127.0.0.1".into())), "{env:?}");
    let setup = Setup::emulated("luadns", "0.01");
    let emulate = setup.emulate.as_ref().unwrap();
    // The configuration holds no secret; the Secret's files do, named by *_FILE.
    let config = setup.path("etc-zonectl.toml");
    std::fs::write(
        &config,
        format!("[providers.luadns]\nkind = \"luadns\"\nendpoint = \"{}\"\n", emulate.get("/endpoint")),
    )
    .unwrap();
    std::fs::write(setup.path("username"), emulate.get("/username")).unwrap();
    std::fs::write(setup.path("token"), emulate.get("/api_key")).unwrap();
    let mut command = Command::new(BIN);
    command.args(&argv[1..]).env_clear().env("PATH", std::env::var("PATH").unwrap());
    for (key, value) in &env {
        command.env(key, value);
    }
    command
        .env("ZONECTL_CONFIG", &config)
        .env("ZONECTL_STATE_DIR", setup.path("state"))
        .env("WEBHOOK_PORT", "0")
        .env("METRICS_PORT", "0")
        .env("LUADNS_API_USERNAME_FILE", setup.path("username"))
        .env("LUADNS_API_TOKEN_FILE", setup.path("token"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut listeners = BTreeMap::new();
    for _ in 0..2 {
        let mut line = String::new();
        lines.read_line(&mut line).unwrap();
        let parsed: Value = serde_json::from_str(&line).unwrap();
        listeners
            .insert(parsed["listener"].as_str().unwrap().to_owned(), parsed["address"].as_str().unwrap().to_owned());
    }
    assert!(listeners["external-dns"].starts_with("127.0.0.1:"), "{listeners:?}");
    assert!(listeners["metrics"].starts_with("0.0.0.0:"), "{listeners:?}");
    let port = listeners["metrics"].rsplit(':').next().unwrap();
    let health = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let hook = Webhook { base: format!("http://{}", listeners["external-dns"]), http: reqwest::Client::new() };
    assert_eq!(hook.negotiate().await["include"], json!(["example.com", "example.net"]));
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

// The RFC 2136 gateway.

const SHA256_SECRET: &str = "c2hhMjU2LWtleS1mb3ItdGhlLWdhdGV3YXktdGVzdHM=";
const MD5_SECRET: &str = "bWQ1LWtleS1mb3ItY2VydGJvdA==";
const SHA1_SECRET: &str = "c2hhMS1rZXktZm9yLWxlZ28=";

impl Setup {
    /// Keys for the gateway: one per algorithm the clients default to, and one allowed
    /// only `_acme-challenge` TXT records.
    fn with_keys(self) -> Setup {
        let zone = self.zone();
        let mut text = std::fs::read_to_string(self.path("zonectl.toml")).unwrap();
        for (name, algorithm, secret) in [
            ("update-key", "hmac-sha256", SHA256_SECRET),
            ("certbot-key", "hmac-md5", MD5_SECRET),
            ("lego-key", "hmac-sha1", SHA1_SECRET),
            ("sha512-key", "hmac-sha512", SHA256_SECRET),
        ] {
            text.push_str(&format!(
                "\n[[serve.rfc2136.keys]]\nname = \"{name}\"\nalgorithm = \"{algorithm}\"\nsecret = \"{secret}\"\nzones = [\"{zone}\"]\n"
            ));
        }
        text.push_str(&format!(
            "\n[[serve.rfc2136.keys]]\nname = \"acme-only\"\nsecret_file = \"acme-only.key\"\nzones = [\"{zone}\"]\nnames = [\"_acme-challenge.*\"]\ntypes = [\"TXT\"]\n"
        ));
        std::fs::write(self.path("zonectl.toml"), text).unwrap();
        // As tsig-keygen writes it.
        std::fs::write(
            self.path("acme-only.key"),
            format!("key \"acme-only\" {{\n\talgorithm hmac-sha256;\n\tsecret \"{SHA256_SECRET}\";\n}};\n"),
        )
        .unwrap();
        self
    }

    /// The records at `name` of `rtype`, as `zonectl record list` shows them.
    fn listed(&self, name: &str, rtype: &str) -> Vec<String> {
        let out = self
            .command()
            .args(["record", "list", &self.zone(), "--name", name, "--type", rtype, "--output", "json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        let mut values: Vec<String> = list.iter().map(|r| r["value"].as_str().unwrap().to_owned()).collect();
        values.sort();
        values
    }
}

/// Runs `program` (nsupdate, knsupdate) with `script` on its stdin.
fn script(program: &str, args: &[&str], script: &str) -> (bool, String) {
    use std::io::Write as _;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn gateway_port(served: &Served) -> String {
    served.listeners["rfc2136"].rsplit(':').next().unwrap().to_owned()
}

#[test]
fn nsupdate_and_knsupdate_add_replace_and_delete_at_three_providers() {
    if !common::pebble::have(&["nsupdate", "knsupdate"]) {
        return;
    }
    for kind in ["luadns", "domeneshop", "mydomainlu"] {
        let setup = Setup::emulated(kind, "0.01").with_keys();
        let served = setup.serve(&["--rfc2136", "127.0.0.1:0"]);
        let (port, zone) = (gateway_port(&served), setup.zone());
        let key = format!("hmac-sha256:update-key:{SHA256_SECRET}");
        let header = format!("server 127.0.0.1 {port}\nzone {zone}\n");
        let nsupdate = |body: &str| script("nsupdate", &["-y", &key], &format!("{header}{body}send\n"));

        // (`www` is taken by a CNAME at some: an add beside it would be ignored, as RFC 2136 says.)
        let (ok, out) =
            nsupdate(&format!("update add gw.{zone} 300 A 192.0.2.10\nupdate add txt.{zone} 300 TXT \"hello\"\n"));
        assert!(ok, "{kind}: {out}");
        assert_eq!(setup.listed("gw", "A"), ["192.0.2.10"], "{kind}");
        assert_eq!(setup.listed("txt", "TXT"), ["\"hello\""], "{kind}");

        // Replace: the set deleted and added again in one message.
        let (ok, out) = nsupdate(&format!("update delete gw.{zone} A\nupdate add gw.{zone} 300 A 192.0.2.11\n"));
        assert!(ok, "{kind}: {out}");
        assert_eq!(setup.listed("gw", "A"), ["192.0.2.11"], "{kind}");

        // A prerequisite that fails changes nothing and says which.
        let writes = tokio_writes(&setup);
        let (ok, out) = nsupdate(&format!("prereq nxdomain gw.{zone}\nupdate delete txt.{zone} TXT\n"));
        assert!(!ok && out.contains("YXDOMAIN"), "{kind}: {out}");
        let (ok, out) = nsupdate(&format!("prereq yxrrset txt.{zone} TXT \"other\"\nupdate delete txt.{zone} TXT\n"));
        assert!(!ok && out.contains("NXRRSET"), "{kind}: {out}");
        assert_eq!(setup.listed("txt", "TXT"), ["\"hello\""], "{kind}");
        assert_eq!(tokio_writes(&setup), writes, "{kind}: nothing was sent");

        // knsupdate: delete one value, add another record.
        let knsupdate = format!(
            "server 127.0.0.1 {port}\nzone {zone}.\nupdate delete txt.{zone}. TXT \"hello\"\nupdate add k.{zone}. 300 A 192.0.2.12\nsend\n"
        );
        let (ok, out) = script("knsupdate", &["-y", &key], &knsupdate);
        assert!(ok, "{kind}: {out}");
        assert!(setup.listed("txt", "TXT").is_empty(), "{kind}");
        assert_eq!(setup.listed("k", "A"), ["192.0.2.12"], "{kind}");
    }
}

fn tokio_writes(setup: &Setup) -> usize {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(setup.writes())
}

#[test]
fn updates_without_the_right_signature_are_refused_and_change_nothing() {
    if !common::pebble::have(&["nsupdate", "dig"]) {
        return;
    }
    let setup = Setup::emulated("luadns", "0.01").with_keys();
    let served = setup.serve(&["--rfc2136", "127.0.0.1:0"]);
    let (port, zone) = (gateway_port(&served), setup.zone());
    let add = format!("server 127.0.0.1 {port}\nzone {zone}\nupdate add x.{zone} 300 A 192.0.2.1\nsend\n");
    let cases = [
        (vec![], "REFUSED"),
        (vec!["-y".to_owned(), format!("hmac-sha256:update-key:{MD5_SECRET}")], "BADSIG"),
        (vec!["-y".to_owned(), format!("hmac-sha256:nobody:{SHA256_SECRET}")], "BADKEY"),
        (vec!["-y".to_owned(), format!("hmac-sha512:update-key:{SHA256_SECRET}")], "BADKEY"),
        // A key allowed only _acme-challenge TXT.
        (vec!["-y".to_owned(), format!("hmac-sha256:acme-only:{SHA256_SECRET}")], "REFUSED"),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, out) = script("nsupdate", &args, &add);
        assert!(!ok && out.contains(expected), "{args:?}: {out}");
    }
    // A zone the gateway does not serve; a TTL the provider refuses (LuaDNS: 300 at least).
    let other = format!("server 127.0.0.1 {port}\nzone example.org\nupdate add x.example.org 300 A 192.0.2.1\nsend\n");
    let (ok, out) = script("nsupdate", &["-y", &format!("hmac-sha256:update-key:{SHA256_SECRET}")], &other);
    assert!(!ok && out.contains("NOTAUTH"), "{out}");
    let short = add.replace(" 300 A ", " 60 A ");
    let (ok, out) = script("nsupdate", &["-y", &format!("hmac-sha256:update-key:{SHA256_SECRET}")], &short);
    assert!(!ok && out.contains("REFUSED"), "{out}");
    assert!(served.log().contains("TTL 60 is below the minimum of 300"), "the reason is logged: {}", served.log());
    assert_eq!(tokio_writes(&setup), 0);
    // hmac-sha512, answered signed.
    let (ok, out) = script("nsupdate", &["-y", &format!("hmac-sha512:sha512-key:{SHA256_SECRET}")], &add);
    assert!(ok, "{out}");
    // The narrow key does what it is for.
    let acme = format!("server 127.0.0.1 {port}\nzone {zone}\nupdate add _acme-challenge.{zone} 300 TXT \"v\"\nsend\n");
    let (ok, out) = script("nsupdate", &["-y", &format!("hmac-sha256:acme-only:{SHA256_SECRET}")], &acme);
    assert!(ok, "{out}");
    // Zone transfer: with the key, the zone; without, REFUSED.
    let signed = Command::new("dig")
        .args(["-p", &port, "@127.0.0.1", &zone, "AXFR", "-y", &format!("hmac-sha256:update-key:{SHA256_SECRET}")])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&signed.stdout);
    assert!(
        text.contains("_acme-challenge") && text.matches("\tSOA\t").count() == 2 && !text.contains("failure"),
        "{text}"
    );
    let unsigned = Command::new("dig").args(["-p", &port, "@127.0.0.1", &zone, "AXFR"]).output().unwrap();
    let text = String::from_utf8_lossy(&unsigned.stdout);
    assert!(text.contains("Transfer failed") || text.contains("REFUSED"), "{text}");
}

#[test]
fn queries_find_the_zone_as_certbot_does_with_authority() {
    if !common::pebble::have(&["dig"]) {
        return;
    }
    let setup = Setup::emulated("domeneshop", "0.01").with_keys();
    let served = setup.serve(&["--rfc2136", "127.0.0.1:0"]);
    let (port, zone) = (gateway_port(&served), setup.zone());
    let dig = |args: &[&str]| {
        let out = Command::new("dig").args(["+norec", "-p", &port, "@127.0.0.1"]).args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // Domeneshop's API keeps no SOA: the gateway makes one up for the apex.
    let soa = dig(&[&zone, "SOA"]);
    assert!(soa.contains("flags: qr aa") && soa.contains("ANSWER: 1"), "{soa}");
    let below = dig(&[&format!("_acme-challenge.x.{zone}"), "SOA"]);
    assert!(below.contains("status: NXDOMAIN") && below.contains("AUTHORITY: 1"), "{below}");
    let elsewhere = dig(&["example.org", "SOA"]);
    assert!(elsewhere.contains("status: REFUSED") || elsewhere.contains("status: SERVFAIL"), "{elsewhere}");
    // Over TCP too.
    assert!(dig(&["+tcp", &zone, "SOA"]).contains("flags: qr aa"));
}

#[test]
fn ten_thousand_malformed_packets_then_a_valid_query() {
    if !common::pebble::have(&["dig"]) {
        return;
    }
    let setup = Setup::zonefile().with_keys();
    let served = setup.serve(&["--rfc2136", "127.0.0.1:0"]);
    let port = gateway_port(&served);
    let target: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    // A valid signed update to mutate, captured from nsupdate's form.
    let seed = {
        let mut message = vec![0x12, 0x34, 0x28, 0x00, 0, 1, 0, 0, 0, 1, 0, 0];
        message.extend_from_slice(b"\x07example\x03com\x00\x00\x06\x00\x01");
        message
            .extend_from_slice(b"\x01x\x07example\x03com\x00\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04\xc0\x00\x02\x01");
        message
    };
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..10_000u32 {
        let mut packet = seed.clone();
        match i % 4 {
            0 => packet.truncate((next() as usize) % packet.len()),
            1 => {
                for _ in 0..1 + next() % 4 {
                    let at = (next() as usize) % packet.len();
                    packet[at] = next() as u8;
                }
            }
            2 => packet = (0..(next() % 64)).map(|_| next() as u8).collect(),
            _ => {
                // Counts that promise more than there is.
                packet[5] = 0xff;
                packet[7] = 0xff;
            }
        }
        let _ = socket.send_to(&packet, target);
    }
    // Some over TCP: a length that lies, then nothing.
    for _ in 0..20 {
        if let Ok(mut stream) = std::net::TcpStream::connect(target) {
            use std::io::Write as _;
            let _ = stream.write_all(&[0xff, 0xff, 1, 2, 3]);
        }
    }
    let out = Command::new("dig")
        .args(["+norec", "+tries=3", "+time=2", "-p", &port, "@127.0.0.1", "example.com", "SOA"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("flags: qr aa"), "{text}");
}

#[test]
fn certbot_and_lego_obtain_certificates_through_the_gateway() {
    if !common::pebble::have(&["pebble", "certbot", "lego"]) || !common::pebble::have_python("certbot_dns_rfc2136") {
        return;
    }
    let setup = Setup::emulated("domeneshop", "0.01").with_keys();
    let served = setup.serve(&["--rfc2136", "127.0.0.1:0"]);
    let (port, zone) = (gateway_port(&served), setup.zone());
    let before = setup.export();
    let tls = common::pebble::tls(setup.dir.path());
    // Pebble asks the gateway, which answers from the provider's records.
    let pebble = common::pebble::pebble(setup.dir.path(), &tls, &served.listeners["rfc2136"]);

    // certbot's rfc2136 plugin: its default algorithm (hmac-md5), TCP.
    let credentials = setup.path("rfc2136.ini");
    std::fs::write(
        &credentials,
        format!("dns_rfc2136_server = 127.0.0.1\ndns_rfc2136_port = {port}\ndns_rfc2136_name = certbot-key\ndns_rfc2136_secret = {MD5_SECRET}\n"),
    )
    .unwrap();
    set_mode_600(&credentials);
    let out = Command::new("timeout")
        .args([
            "300",
            "certbot",
            "certonly",
            "--non-interactive",
            "--agree-tos",
            "--no-eff-email",
            "-m",
            "hostmaster@example.org",
        ])
        .env("REQUESTS_CA_BUNDLE", &tls.ca)
        .args(["--server", &pebble.directory, "--dns-rfc2136", "--dns-rfc2136-propagation-seconds", "1"])
        .arg("--dns-rfc2136-credentials")
        .arg(&credentials)
        .arg("--config-dir")
        .arg(setup.path("certbot/config"))
        .arg("--work-dir")
        .arg(setup.path("certbot/work"))
        .arg("--logs-dir")
        .arg(setup.path("certbot/logs"))
        .args(["-d", &zone, "-d", &format!("*.{zone}")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "certbot: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let cert = setup.path("certbot/config/live").join(&zone).join("cert.pem");
    assert_eq!(common::pebble::names_in(&cert), [format!("*.{zone}"), zone.clone()]);

    // lego's rfc2136 provider: its default algorithm (hmac-sha1), UDP.
    let out = Command::new("timeout")
        .args(["300", "lego"])
        .env("LEGO_CA_CERTIFICATES", &tls.ca)
        .env("RFC2136_NAMESERVER", &served.listeners["rfc2136"])
        .env("RFC2136_TSIG_KEY", "lego-key")
        .env("RFC2136_TSIG_SECRET", SHA1_SECRET)
        .env("RFC2136_PROPAGATION_TIMEOUT", "60")
        .env("RFC2136_POLLING_INTERVAL", "1")
        .env("RFC2136_SEQUENCE_INTERVAL", "1")
        .args(["--server", &pebble.directory, "--email", "hostmaster@example.org", "--accept-tos"])
        // Our answer is checked by pebble; lego's own check would ask port 53 of the NS addresses.
        .args(["--dns", "rfc2136", "--dns.disable-cp", "--dns.resolvers", &served.listeners["rfc2136"]])
        .args(["-d", &zone, "-d", &format!("*.{zone}"), "--path"])
        .arg(setup.path("lego"))
        .arg("run")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "lego: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let cert = setup.path("lego").join("certificates").join(format!("{zone}.crt"));
    assert_eq!(common::pebble::names_in(&cert), [format!("*.{zone}"), zone.clone()]);
    assert_eq!(setup.export(), before, "the challenges are gone, nothing else moved");
}

/// BIND's named, primary for example.com with the same zone file and key, on loopback.
struct Named {
    child: Child,
    port: u16,
}

impl Drop for Named {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn named(dir: &Path, zone_file: &str) -> Named {
    let port = common::pebble::free_port();
    std::fs::write(dir.join("example.com.zone"), zone_file).unwrap();
    let d = dir.display();
    std::fs::write(
        dir.join("named.conf"),
        format!(
            "options {{ directory \"{d}\"; listen-on port {port} {{ 127.0.0.1; }}; listen-on-v6 {{ none; }};\n\
             pid-file \"{d}/named.pid\"; recursion no; dnssec-validation no; }};\n\
             key \"update-key\" {{ algorithm hmac-sha256; secret \"{SHA256_SECRET}\"; }};\n\
             controls {{ }};\n\
             zone \"example.com\" {{ type primary; file \"{d}/example.com.zone\"; \
             allow-update {{ key \"update-key\"; }}; allow-transfer {{ key \"update-key\"; }}; }};\n"
        ),
    )
    .unwrap();
    let child = Command::new("named")
        .args(["-g", "-4", "-n", "1", "-c"])
        .arg(dir.join("named.conf"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("named.log")).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        let out = Command::new("dig")
            .args(["+norec", "+time=1", "+tries=1", "-p", &port.to_string(), "@127.0.0.1", "example.com", "SOA"])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&out.stdout).contains("status: NOERROR") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "named did not start: {}",
            std::fs::read_to_string(dir.join("named.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Named { child, port }
}

/// The zone by AXFR, as sorted lines, SOA left out (each server counts its own serial).
fn transferred(port: &str) -> Vec<String> {
    let out = Command::new("dig")
        .args([
            "+noall",
            "+answer",
            "-p",
            port,
            "@127.0.0.1",
            "example.com",
            "AXFR",
            "-y",
            &format!("hmac-sha256:update-key:{SHA256_SECRET}"),
        ])
        .output()
        .unwrap();
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty() && !l.contains(" SOA ") && !l.contains(" TSIG "))
        .collect();
    lines.sort();
    lines.dedup();
    lines
}

#[test]
fn two_hundred_random_updates_answer_as_bind_does() {
    if !common::pebble::have(&["named", "nsupdate", "dig"]) {
        return;
    }
    let setup = Setup::zonefile().with_keys();
    let zone_file = std::fs::read_to_string(setup.path("zones/example.com.zone")).unwrap();
    let bind_dir = tempfile::tempdir().unwrap();
    let bind = named(bind_dir.path(), &zone_file);
    let served = setup.serve(&["--rfc2136", "127.0.0.1:0"]);
    let ours = gateway_port(&served);
    let theirs = bind.port.to_string();

    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut pick = |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let names = ["a", "b", "c", "d"];
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut largest = 0;
    for step in 0..200 {
        let mut lines = Vec::new();
        for _ in 0..pick(3) {
            let name = format!("{}.example.com", names[pick(4) as usize]);
            lines.push(match pick(5) {
                0 => format!("prereq yxdomain {name}"),
                1 => format!("prereq nxdomain {name}"),
                2 => format!("prereq yxrrset {name} A"),
                3 => format!("prereq nxrrset {name} TXT"),
                _ => format!("prereq yxrrset {name} A 192.0.2.{}", 1 + pick(2)),
            });
        }
        for _ in 0..1 + pick(3) {
            let name = format!("{}.example.com", names[pick(4) as usize]);
            let ttl = if pick(4) == 0 { 600 } else { 300 };
            lines.push(match pick(9) {
                0 | 1 => format!("update add {name} {ttl} A 192.0.2.{}", 1 + pick(2)),
                2 | 3 => format!("update add {name} {ttl} TXT \"t{}\"", pick(3)),
                4 => format!("update add {name} {ttl} CNAME x.example.net."),
                5 => format!("update delete {name} A"),
                6 => format!("update delete {name}"),
                7 => format!("update delete {name} TXT \"t{}\"", pick(3)),
                _ => format!("update delete {name} A 192.0.2.{}", 1 + pick(2)),
            });
        }
        let body = lines.join("\n");
        let outcome = |port: &str| {
            let (ok, out) = script(
                "nsupdate",
                &["-y", &format!("hmac-sha256:update-key:{SHA256_SECRET}")],
                &format!("server 127.0.0.1 {port}\nzone example.com\n{body}\nsend\n"),
            );
            if ok {
                "NOERROR".to_owned()
            } else {
                out.lines().find_map(|l| l.strip_prefix("update failed: ")).unwrap_or(&out).trim().to_owned()
            }
        };
        let (mine, bind) = (outcome(&ours), outcome(&theirs));
        // The end of named's log, shown when the two sides answer differently: in one run
        // nsupdate timed out against BIND, and nothing said why.
        let named_log = || {
            let log = std::fs::read_to_string(bind_dir.path().join("named.log")).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            lines[lines.len().saturating_sub(30)..].join("\n")
        };
        assert_eq!(mine, bind, "step {step}:\n{body}\nnamed's log ends:\n{}", named_log());
        let zone = transferred(&ours);
        assert_eq!(zone, transferred(&theirs), "step {step}:\n{body}");
        *outcomes.entry(mine).or_default() += 1;
        largest = largest.max(zone.len());
    }
    // The sequence exercised both sides of the prerequisites, and the zone grew.
    assert!(outcomes.get("NOERROR").is_some_and(|&n| n > 50), "{outcomes:?}");
    assert!(outcomes.len() >= 4, "several rcodes: {outcomes:?}");
    assert!(largest >= 8, "{largest}");
    eprintln!("rcodes over 200 updates: {outcomes:?}; largest zone {largest} records");
}

#[test]
fn unsigned_updates_only_where_a_zone_allows_them_and_large_zones_transfer_whole() {
    if !common::pebble::have(&["nsupdate", "dig"]) {
        return;
    }
    let setup = Setup::zonefile().with_keys();
    // A zone of 2,000 hosts: a transfer of several messages, each signed.
    let mut zone_file = std::fs::read_to_string(setup.path("zones/example.com.zone")).unwrap();
    for i in 0..2000 {
        zone_file.push_str(&format!("h{i} 300 IN A 192.0.{}.{}\n", i / 250, i % 250));
    }
    std::fs::write(setup.path("zones/example.com.zone"), zone_file).unwrap();
    let mut config = std::fs::read_to_string(setup.path("zonectl.toml")).unwrap();
    config.push_str("\n[serve.rfc2136]\nallow_unsigned = [\"example.com\"]\n");
    std::fs::write(setup.path("zonectl.toml"), config).unwrap();
    let served = setup.serve(&["--rfc2136", "127.0.0.1:0"]);
    let port = gateway_port(&served);
    let add = format!("server 127.0.0.1 {port}\nzone example.com\nupdate add open.example.com 300 A 192.0.2.1\nsend\n");
    let (ok, out) = script("nsupdate", &[], &add);
    assert!(ok, "unsigned, from loopback, to a zone that allows it: {out}");
    let out = Command::new("dig")
        .args([
            "+noall",
            "+answer",
            "-p",
            &port,
            "@127.0.0.1",
            "example.com",
            "AXFR",
            "-y",
            &format!("hmac-sha256:update-key:{SHA256_SECRET}"),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!text.contains("failure") && !stderr.contains("failure"), "{stderr}");
    assert_eq!(text.lines().filter(|l| l.contains("\tA\t")).count(), 2000 + 2, "every host, ns1 and open");
    assert_eq!(text.lines().filter(|l| l.contains("\tSOA\t")).count(), 2);
}

#[test]
fn a_clock_out_of_the_fudge_gets_badtime_signed_with_the_servers_time() {
    // dnspython (Debian's, which certbot's plugin brings) signs an update an hour early and
    // checks the answer's signature.
    if !common::pebble::have_python("dns.tsig") {
        return;
    }
    let setup = Setup::zonefile().with_keys();
    let served = setup.serve(&["--rfc2136", "127.0.0.1:0"]);
    let port = gateway_port(&served);
    let program = format!(
        r#"
import time, dns.message, dns.query, dns.rcode, dns.tsig, dns.tsigkeyring, dns.update
real = time.time
keyring = dns.tsigkeyring.from_text({{"update-key.": ("hmac-sha256", "{SHA256_SECRET}")}})
update = dns.update.UpdateMessage("example.com", keyring=keyring, keyalgorithm="hmac-sha256")
update.add("late", 300, "A", "192.0.2.1")
time.time = lambda: real() - 3600
try:
    dns.query.udp(update, "127.0.0.1", port={port}, timeout=5)
    print("accepted")
except dns.tsig.PeerBadTime:
    print("BADTIME")
"#
    );
    let out = Command::new("/usr/bin/python3").args(["-c", &program]).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(text.trim(), "BADTIME", "{text}");
    assert!(!std::fs::read_to_string(setup.path("zones/example.com.zone")).unwrap().contains("late"));
}

/// A port nothing listens on (yet).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_listens_while_a_provider_is_down_and_is_ready_once_it_answers() {
    // The provider's API is not there at start: in Kubernetes a crash here would be a
    // CrashLoopBackOff on any API hiccup.
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("zonectl.toml"),
        format!(
            "[providers.lua]\nkind = \"luadns\"\nendpoint = \"http://127.0.0.1:{port}/v1\"\n\
             username = \"joe@example.com\"\ntoken = \"emulator-luadns-key-0123456789\"\n"
        ),
    )
    .unwrap();
    let setup = Setup { dir, emulate: None };
    let served = setup.serve(&["--external-dns", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--log-format", "json"]);
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let http = http.clone();
        let url = format!("{}{path}", served.url("metrics"));
        async move { http.get(url).send().await.unwrap() }
    };
    assert_eq!(get("/healthz").await.status(), 200, "alive");
    let not_ready = get("/readyz").await;
    assert_eq!(not_ready.status(), 503);
    let why: Value = not_ready.json().await.unwrap();
    assert!(why["error"].as_str().unwrap().starts_with("not ready: lua: "), "{why}");
    // external-dns asks again while the webhook says it is not ready.
    let negotiated = http.get(served.url("external-dns")).send().await.unwrap();
    assert_eq!(negotiated.status(), 503);

    // The API comes up on that port: zonectl is ready without a restart.
    let _emulator = Emulate::start(&["luadns", "--listen", &format!("127.0.0.1:{port}")]);
    let deadline = Instant::now() + Duration::from_secs(90);
    while get("/readyz").await.status() != 200 {
        assert!(Instant::now() < deadline, "never ready: {}", served.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(Webhook::new(&served).negotiate().await["include"], json!(["example.com", "example.net"]));
    // Every line it printed is JSON, the first failures to reach the provider included.
    let log = served.log();
    assert!(log.contains("not ready: lua: "), "{log}");
    for line in log.lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
}

#[test]
fn a_startup_error_follows_the_log_format() {
    let setup = Setup::zonefile();
    let out = setup.command().args(["serve", "--log-format", "json", "--rfc2136", "127.0.0.1:0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let line: Value = serde_json::from_str(stderr.trim()).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_eq!(line["level"], "ERROR");
    assert!(line["message"].as_str().unwrap().contains("has no [[serve.rfc2136.keys]]"), "{line}");
}

// ---- A hostile network: bounded work per client, no budget spent by strangers. ----

/// A DNS question as the wire has it: `id`, recursion desired, one question.
fn dns_question(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut packet = id.to_be_bytes().to_vec();
    packet.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        packet.push(label.len() as u8);
        packet.extend_from_slice(label.as_bytes());
    }
    packet.push(0);
    packet.extend_from_slice(&qtype.to_be_bytes());
    packet.extend_from_slice(&[0, 1]);
    packet
}

/// Sends the questions at once and collects an answer to each (by id), waiting at most
/// `patience` for the last.
fn ask_all(port: &str, questions: &[Vec<u8>], patience: Duration) -> BTreeMap<u16, Vec<u8>> {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let target = format!("127.0.0.1:{port}");
    for question in questions {
        socket.send_to(question, &target).unwrap();
    }
    let mut answers = BTreeMap::new();
    let until = Instant::now() + patience;
    let mut buffer = [0u8; 4096];
    while answers.len() < questions.len() && Instant::now() < until {
        socket
            .set_read_timeout(Some(until.saturating_duration_since(Instant::now()).max(Duration::from_millis(1))))
            .unwrap();
        if let Ok((n, _)) = socket.recv_from(&mut buffer) {
            answers.insert(u16::from_be_bytes([buffer[0], buffer[1]]), buffer[..n].to_vec());
        }
    }
    answers
}

/// The most memory the process has held, in KiB (`VmHWM`).
fn peak_memory_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .unwrap()
        .trim()
        .trim_end_matches(" kB")
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn a_query_stampede_reads_the_provider_once() {
    let setup = Setup::emulated("luadns", "1").with_keys();
    let served = setup.serve(&["--rfc2136", "127.0.0.1:0"]);
    let port = gateway_port(&served);
    let emulate = setup.emulate.as_ref().unwrap();
    let zone = setup.zone();
    // The zones are known (serve asked for them before it listened); now the provider is slow.
    let reads = || emulate.log("luadns").iter().filter(|e| e["path"].as_str().unwrap().contains("/records")).count();
    emulate.control("luadns", "PUT", "/_emulator/faults", r#"{"latency_ms": 2000}"#);
    let before = reads();
    // 150 questions at once: within the address's burst, every one a cache miss.
    let questions: Vec<Vec<u8>> = (0..150u16).map(|i| dns_question(i, &format!("h{i}.{zone}"), 1)).collect();
    let answers = ask_all(&port, &questions, Duration::from_secs(60));
    assert_eq!(answers.len(), 150, "every question was answered");
    // One read of each zone the provider holds, however many asked.
    let held = emulate.of("luadns")["zones"].as_array().unwrap().len();
    assert_eq!(reads() - before, held, "{:?}", emulate.log("luadns"));
}

#[test]
fn a_flood_is_cut_to_bounds_and_memory_stays_flat() {
    if !common::pebble::have(&["dig"]) {
        return;
    }
    let setup = Setup::zonefile().with_keys();
    // Loopback unlimited here, so that the flood reaches the in-flight bound itself.
    let mut config = std::fs::read_to_string(setup.path("zonectl.toml")).unwrap();
    config.push_str("\n[serve.rfc2136]\nunlimited = [\"127.0.0.0/8\"]\n");
    std::fs::write(setup.path("zonectl.toml"), config).unwrap();
    let served = setup.serve(&["--rfc2136", "127.0.0.1:0", "--metrics", "127.0.0.1:0"]);
    let port = gateway_port(&served);
    let target = format!("127.0.0.1:{port}");
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // Eight rounds of 15,000: questions for names that are and are not there, and the
    // same mutated.
    for round in 0..8u64 {
        for i in 0..15_000u64 {
            let mut packet = dns_question(
                (i % 65_536) as u16,
                &format!("n{}.example.com", next() % 1000),
                1 + (round % 2) as u16 * 15,
            );
            if i % 3 == 0 {
                let at = (next() as usize) % packet.len();
                packet[at] = next() as u8;
            }
            let _ = socket.send_to(&packet, &target);
        }
    }
    let out = Command::new("dig")
        .args(["+norec", "+tries=3", "+time=2", "-p", &port, "@127.0.0.1", "example.com", "SOA"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("flags: qr aa"), "still answering");
    // The stated bound: 100 MiB at the worst moment of 120,000 messages.
    let peak = peak_memory_kib(served.child.id());
    assert!(peak < 100 * 1024, "{peak} KiB");
    eprintln!("peak memory over the flood: {peak} KiB");
}

/// A captured signed UPDATE sent again, and one whose client claims a fudge of 65535 s
/// for a signature 30,000 s old: both refused, the zone as it was.
#[test]
fn replays_and_stretched_fudges_are_refused() {
    if !common::pebble::have_python("dns.tsig") {
        return;
    }
    let setup = Setup::zonefile().with_keys();
    let served = setup.serve(&["--rfc2136", "127.0.0.1:0"]);
    let port = gateway_port(&served);
    let program = format!(
        r#"
import socket, time, dns.message, dns.query, dns.rcode, dns.tsig, dns.tsigkeyring, dns.update
keyring = dns.tsigkeyring.from_text({{"update-key.": ("hmac-sha256", "{SHA256_SECRET}")}})
def rcode(wire):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(wire, ("127.0.0.1", {port}))
    answer = s.recv(4096)
    return dns.rcode.to_text(answer[3] & 0x0f)
add = dns.update.UpdateMessage("example.com", keyring=keyring, keyalgorithm="hmac-sha256")
add.add("replay", 300, "A", "192.0.2.77")
captured = add.to_wire()
print("first", rcode(captured))
delete = dns.update.UpdateMessage("example.com", keyring=keyring, keyalgorithm="hmac-sha256")
delete.delete("replay", "A")
print("delete", rcode(delete.to_wire()))
print("replay", rcode(captured))
real = time.time
time.time = lambda: real() - 30000
old = dns.update.UpdateMessage("example.com", keyring=keyring, keyalgorithm="hmac-sha256")
old.use_tsig(keyring, keyname="update-key.", fudge=65535, algorithm="hmac-sha256")
old.add("stretched", 300, "A", "192.0.2.78")
print("stretched", rcode(old.to_wire()))
"#
    );
    let out = Command::new("/usr/bin/python3").args(["-c", &program]).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(text.trim(), "first NOERROR\ndelete NOERROR\nreplay REFUSED\nstretched NOTAUTH", "{text}");
    let zone = std::fs::read_to_string(setup.path("zones/example.com.zone")).unwrap();
    assert!(!zone.contains("replay") && !zone.contains("stretched"), "{zone}");
}

/// A key for `_acme-challenge.*` TXT records neither transfers the zone nor reads past
/// its names; a key without limits transfers it.
#[test]
fn a_scoped_key_cannot_transfer_or_read_the_rest_of_the_zone() {
    if !common::pebble::have(&["dig"]) {
        return;
    }
    let setup = Setup::zonefile().with_keys();
    let served = setup.serve(&["--rfc2136", "127.0.0.1:0"]);
    let port = gateway_port(&served);
    let dig = |key: &str, question: &[&str]| {
        let out = Command::new("dig")
            .args(["+noall", "+answer", "+comments", "-p", &port, "@127.0.0.1", "-y", key])
            .args(question)
            .output()
            .unwrap();
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    };
    let scoped = format!("hmac-sha256:acme-only:{SHA256_SECRET}");
    let full = format!("hmac-sha256:update-key:{SHA256_SECRET}");
    let refused = dig(&scoped, &["example.com", "AXFR"]);
    assert!(refused.contains("Transfer failed") && !refused.contains("192.0.2.53"), "{refused}");
    let asked = dig(&scoped, &["ns1.example.com", "A"]);
    assert!(asked.contains("status: REFUSED"), "{asked}");
    let allowed = dig(&scoped, &["_acme-challenge.www.example.com", "TXT"]);
    assert!(allowed.contains("status: NXDOMAIN"), "within its names: {allowed}");
    let whole = dig(&full, &["example.com", "AXFR"]);
    assert!(whole.contains("192.0.2.53"), "{whole}");
}

#[test]
fn three_hundred_silent_connections_do_not_keep_a_probe_out() {
    let setup = Setup::zonefile();
    let served = setup.serve(&["--metrics", "127.0.0.1:0", "--dyndns", "127.0.0.1:0"]);
    let address = served.listeners["metrics"].clone();
    let silent: Vec<std::net::TcpStream> =
        (0..300).filter_map(|_| std::net::TcpStream::connect(&address).ok()).collect();
    assert!(silent.len() > 256, "{} connections made", silent.len());
    // The bound only catches the 10 s a silent connection would otherwise hold a place.
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let health = client.get(format!("{}/healthz", served.url("metrics"))).send().unwrap();
    assert_eq!(health.status(), 200);
    drop(silent);
}

/// SIGTERM with a request half sent and an update waiting on a slow provider: the
/// process ends within the grace period, saying what it cancelled.
#[test]
fn a_stop_ends_within_the_grace_period() {
    if !common::pebble::have(&["nsupdate"]) {
        return;
    }
    let setup = Setup::emulated("luadns", "1").with_keys();
    let mut config = std::fs::read_to_string(setup.path("zonectl.toml")).unwrap();
    config.push_str("\n[serve]\ngrace_period = \"2s\"\n");
    std::fs::write(setup.path("zonectl.toml"), config).unwrap();
    let mut served = setup.serve(&["--debug", "--rfc2136", "127.0.0.1:0", "--httpreq", "127.0.0.1:0"]);
    let (port, zone) = (gateway_port(&served), setup.zone());
    let emulate = setup.emulate.as_ref().unwrap();
    emulate.control("luadns", "PUT", "/_emulator/faults", r#"{"latency_ms": 60000}"#);
    // A request that never finishes its body.
    let mut half = std::net::TcpStream::connect(&served.listeners["httpreq"]).unwrap();
    use std::io::Write as _;
    half.write_all(b"POST /present HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"fqdn\":").unwrap();
    // An update that waits for the provider.
    let update = format!("server 127.0.0.1 {port}\nzone {zone}\nupdate add slow.{zone} 300 A 192.0.2.9\nsend\n");
    let mut nsupdate = Command::new("nsupdate")
        .args(["-y", &format!("hmac-sha256:update-key:{SHA256_SECRET}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    nsupdate.stdin.take().unwrap().write_all(update.as_bytes()).unwrap();
    // Once the update is under way (waiting for the provider), the signal.
    let started = Instant::now();
    while !served.log().contains("under way") {
        assert!(started.elapsed() < Duration::from_secs(30), "the update never started: {}", served.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(Command::new("kill").args(["-TERM", &served.child.id().to_string()]).status().unwrap().success());
    // The bound only catches a process that does not end (it did not, before).
    let waited = Instant::now();
    let exit = loop {
        if let Some(status) = served.child.try_wait().unwrap() {
            break status;
        }
        assert!(waited.elapsed() < Duration::from_secs(30), "still running: {}", served.log());
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = nsupdate.kill();
    let _ = nsupdate.wait();
    assert_eq!(exit.code(), Some(0), "{}", served.log());
    let log = served.log();
    assert!(log.contains("shutting down: 2s passed: cancelled rfc2136: update of"), "{log}");
    assert!(log.contains("may or may not have been made"), "{log}");
}

#[test]
fn strangers_inputs_are_refused_at_the_door() {
    let setup = Setup::zonefile();
    let served = setup.serve(&["--dyndns", "127.0.0.1:0", "--external-dns", "127.0.0.1:0"]);
    let client = reqwest::blocking::Client::new();
    for address in ["0.0.0.0", "127.0.0.1", "224.0.0.1", "255.255.255.255", "::", "::1", "ff02::1"] {
        let answer = client
            .get(format!("{}/nic/update?hostname=home.example.com&myip={address}", served.url("dyndns")))
            .basic_auth("router", Some("router-password-1"))
            .send()
            .unwrap();
        assert_eq!(answer.text().unwrap().trim(), "dnserr", "{address}");
    }
    // A private address is a home network's: taken.
    let answer = client
        .get(format!("{}/nic/update?hostname=home.example.com&myip=192.168.1.20", served.url("dyndns")))
        .basic_auth("router", Some("router-password-1"))
        .send()
        .unwrap();
    assert!(answer.text().unwrap().starts_with("good"), "a private address");
    for ttl in [json!(-5), json!(1.5), json!("300")] {
        let body = json!({ "create": [{ "dnsName": "x.example.com", "recordType": "A", "targets": ["192.0.2.1"], "recordTTL": ttl }] });
        let answer = client
            .post(format!("{}/records", served.url("external-dns")))
            .header("content-type", MEDIA)
            .body(body.to_string())
            .send()
            .unwrap();
        assert_eq!(answer.status(), 400, "recordTTL {ttl}: {}", answer.text().unwrap());
    }
    assert!(!std::fs::read_to_string(setup.path("zones/example.com.zone")).unwrap().contains("x "));
}

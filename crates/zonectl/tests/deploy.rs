//! The deployment files, read as Kubernetes and Helm read them: every probe reaches a port
//! the container declares, under the name that port has, at the path zonectl answers
//! there; the ports are the ones the image listens on; nothing is pulled from a registry
//! it was never pushed to.

#[allow(dead_code)]
mod common;

use std::collections::BTreeMap;
use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

fn load(relative: &str) -> Vec<Yaml> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

fn text(y: &Yaml) -> &str {
    y.as_str().unwrap_or_else(|| panic!("not a string: {y:?}"))
}

/// The image's ports, from its ENV: the webhook's and the metrics listener's.
fn image_ports() -> (i64, i64) {
    let (env, _) = common::image_definition();
    let port = |key: &str| env.iter().find(|(k, _)| k == key).unwrap().1.parse::<i64>().unwrap();
    (port("WEBHOOK_PORT"), port("METRICS_PORT"))
}

/// The paths of zonectl's metrics listener the probes ask: alive, and ready (the serve
/// tests ask a running zonectl both).
const PROBED: [&str; 2] = ["/healthz", "/readyz"];

#[test]
fn the_sidecar_manifest_probes_the_ports_it_declares() {
    let documents = load("deploy/kubernetes/external-dns-zonectl.yaml");
    let deployment = documents.iter().find(|d| d["kind"].as_str() == Some("Deployment")).unwrap();
    let containers = deployment["spec"]["template"]["spec"]["containers"].as_vec().unwrap();
    let zonectl = containers.iter().find(|c| c["name"].as_str() == Some("zonectl")).unwrap();
    let (_, metrics_port) = image_ports();

    // An image built here is not in any registry: never pulled on every start.
    assert_eq!(text(&zonectl["imagePullPolicy"]), "IfNotPresent");
    assert!(!text(&zonectl["image"]).ends_with(":latest"), "a :latest tag is pulled every time");

    let ports: BTreeMap<&str, i64> = zonectl["ports"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|p| (text(&p["name"]), p["containerPort"].as_i64().unwrap()))
        .collect();
    assert_eq!(ports, BTreeMap::from([("http-metrics", metrics_port)]), "the port is named for what it serves");
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        let get = &zonectl[probe]["httpGet"];
        assert_eq!(text(&get["path"]), path, "{probe}");
        assert!(ports.contains_key(text(&get["port"])), "{probe} names a port the container has");
    }
    // external-dns asks the webhook where the image serves it.
    let external_dns = containers.iter().find(|c| c["name"].as_str() == Some("external-dns")).unwrap();
    let args: Vec<&str> = external_dns["args"].as_vec().unwrap().iter().map(text).collect();
    let (webhook_port, _) = image_ports();
    assert!(args.contains(&format!("--webhook-provider-url=http://localhost:{webhook_port}").as_str()), "{args:?}");
}

#[test]
fn the_helm_values_fit_the_official_chart() {
    // The chart (kubernetes-sigs/external-dns, templates/deployment.yaml) gives the webhook
    // container the ports `http-webhook` (8888) and `http-wh-metrics` (8080), and points
    // external-dns at http://localhost:8888 unless told otherwise.
    const CHART_PORTS: [(&str, i64); 2] = [("http-webhook", 8888), ("http-wh-metrics", 8080)];
    let (webhook_port, metrics_port) = image_ports();
    assert_eq!(
        (webhook_port, metrics_port),
        (CHART_PORTS[0].1, CHART_PORTS[1].1),
        "the image listens where the chart looks"
    );

    let values = &load("deploy/helm/external-dns-values.yaml")[0];
    assert_eq!(text(&values["provider"]["name"]), "webhook");
    let webhook = &values["provider"]["webhook"];
    assert!(!text(&webhook["image"]["repository"]).is_empty());
    assert!(!text(&webhook["image"]["tag"]).is_empty() && text(&webhook["image"]["tag"]) != "latest");
    assert_eq!(text(&webhook["image"]["pullPolicy"]), "IfNotPresent");

    // The args are what the image runs: zonectl's own arguments parse.
    let args: Vec<&str> = webhook["args"].as_vec().unwrap().iter().map(text).collect();
    let (_, image_argv) = common::image_definition();
    assert_eq!(args, image_argv[1..].iter().map(String::as_str).collect::<Vec<_>>());

    for (probe, path) in [("livenessProbe", PROBED[0]), ("readinessProbe", PROBED[1])] {
        let get = &webhook[probe]["httpGet"];
        assert_eq!(text(&get["path"]), path, "{probe}");
        assert_eq!(text(&get["port"]), CHART_PORTS[1].0, "{probe}: the metrics listener, by the chart's name");
    }
    // Every mount has its volume, and the configuration is where ZONECTL_CONFIG says.
    let volumes: Vec<&str> = values["extraVolumes"].as_vec().unwrap().iter().map(|v| text(&v["name"])).collect();
    let mounts = webhook["extraVolumeMounts"].as_vec().unwrap();
    for mount in mounts {
        assert!(volumes.contains(&text(&mount["name"])), "{mount:?}");
    }
    let env: BTreeMap<&str, &str> =
        webhook["env"].as_vec().unwrap().iter().map(|e| (text(&e["name"]), text(&e["value"]))).collect();
    let config_dir = Path::new(env["ZONECTL_CONFIG"]).parent().unwrap();
    assert!(mounts.iter().any(|m| Path::new(text(&m["mountPath"])) == config_dir));
    for (name, file) in env.iter().filter(|(k, _)| k.ends_with("_FILE")) {
        let dir = Path::new(file).parent().unwrap();
        assert!(mounts.iter().any(|m| Path::new(text(&m["mountPath"])) == dir), "{name}: {file} is mounted");
    }
    // Ownership records of a zone's apex need a prefix (see the README).
    assert!(text(&values["txtPrefix"]).contains("%{record_type}"));
}

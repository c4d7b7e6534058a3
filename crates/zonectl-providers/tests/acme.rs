//! The ACME DNS-01 semantics of the library against every provider's emulator, checked
//! through the emulators' own name servers: values are added and removed one at a time,
//! nothing else moves, concurrent hooks lose nothing, and propagation is waited for.

mod common;

use std::sync::Arc;
use std::time::Duration;

use zonectl_core::acme::{self, Challenge, Settings};
use zonectl_core::provider::{BuildContext, Provider, ProviderKind, RecordFilter};
use zonectl_core::route::{Route, Router};
use zonectl_core::{Name, RecordType, Zone, dns, zonefile};
use zonectl_emulator::{Emulator, EmulatorKind, Options};

/// Every provider of the registry with its emulator.
fn kinds() -> Vec<(&'static ProviderKind, &'static EmulatorKind)> {
    zonectl_providers::registry::remote()
        .map(|kind| (kind, zonectl_emulator::emulator_of(kind.name).expect("every HTTP kind has an emulator")))
        .collect()
}

fn kind(name: &str) -> (&'static ProviderKind, &'static EmulatorKind) {
    kinds().into_iter().find(|k| k.0.name == name).unwrap()
}

/// The router over one provider, as `--provider` makes it.
fn router(provider: &Arc<dyn Provider>) -> Router {
    Router::new(vec![(provider.clone(), Vec::new())], Vec::new(), &[])
}

/// The route of `zone` at the one provider.
fn route(provider: &Arc<dyn Provider>, zone: &Name) -> Route {
    Route { zone: zone.clone(), targets: vec![provider.clone()], nameservers: Vec::new() }
}

struct Running {
    emulator: Emulator,
    provider: Arc<dyn Provider>,
    _state: tempfile::TempDir,
}

/// The emulator, sped up 100 times, and the provider pointed at it as `zonectl emulate`'s
/// settings say, with a state directory for its zone locks.
async fn start(kind: (&'static ProviderKind, &'static EmulatorKind), options: Options) -> Running {
    common::fast_retries();
    let emulator = (kind.1.start)(options, None).await.unwrap();
    let state = tempfile::tempdir().unwrap();
    let provider = build(kind.0, &emulator, state.path());
    Running { emulator, provider, _state: state }
}

fn build(kind: &ProviderKind, emulator: &Emulator, state: &std::path::Path) -> Arc<dyn Provider> {
    let mut table = emulator.provider_settings();
    table.remove("kind");
    let settings = (kind.parse)(table).unwrap();
    let context = BuildContext { config_file: None, state_dir: Some(state.to_owned()), progress: None };
    settings.build(kind.name, &context).unwrap()
}

fn fast() -> Options {
    Options { time_scale: 0.01, ..Options::default() }
}

/// Hooks checking the emulator's name servers, quickly.
fn settings(emulator: &Emulator) -> Settings {
    Settings {
        nameservers: vec![emulator.dns_addr().unwrap()],
        propagation_timeout: Duration::from_secs(20),
        polling_interval: Duration::from_millis(20),
        ..Settings::default()
    }
}

async fn first_zone(provider: &Arc<dyn Provider>) -> Name {
    provider.list_zones().await.unwrap().into_iter().next().unwrap()
}

async fn export(provider: &Arc<dyn Provider>, zone: &Name) -> String {
    let records = provider.list_records(zone).await.unwrap().into_iter().map(|e| e.record).collect();
    zonefile::to_string(&Zone::from_records(zone.clone(), records))
}

/// The TXT values the name servers give for `name`, sorted.
async fn txt_in_dns(emulator: &Emulator, name: &Name) -> Vec<String> {
    let answer =
        dns::query(emulator.dns_addr().unwrap(), name, RecordType::Txt, false, Duration::from_secs(2)).await.unwrap();
    assert!(answer.authoritative, "{name}: the emulator's name server must answer with authority");
    let mut values: Vec<String> = answer.txt.into_iter().map(|t| String::from_utf8(t).unwrap()).collect();
    values.sort();
    values
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn present_adds_cleanup_removes_only_its_own_value_at_every_provider() {
    for kind in kinds() {
        let run = start(kind, fast()).await;
        let zone = first_zone(&run.provider).await;
        let before = export(&run.provider, &zone).await;
        let zones = router(&run.provider);
        let settings = settings(&run.emulator);
        let apex = Challenge::for_identifier(zone.as_str(), "apex-value-0123456789").unwrap();
        let wildcard = Challenge::for_identifier(&format!("*.{zone}"), "wildcard-value-0123456789").unwrap();
        let name = apex.name.clone();

        for challenge in [&apex, &wildcard] {
            // The hook returns once the name servers show it.
            let placed = acme::present(&zones, std::slice::from_ref(challenge), &settings).await.unwrap();
            assert!(placed[0].changed(), "{}: {placed:?}", kind.0.name);
            assert_eq!(placed[0].located.route.zone, zone);
            assert!(placed[0].propagated.is_some());
        }
        assert_eq!(
            txt_in_dns(&run.emulator, &name).await,
            ["apex-value-0123456789", "wildcard-value-0123456789"],
            "{}: both values are live at once",
            kind.0.name
        );
        // Twice is once.
        let once = |c: &Challenge| vec![c.clone()];
        assert!(!acme::present(&zones, &once(&apex), &settings).await.unwrap()[0].changed(), "{}", kind.0.name);

        acme::cleanup(&zones, &once(&apex), &settings).await.unwrap();
        assert_eq!(txt_in_dns(&run.emulator, &name).await, ["wildcard-value-0123456789"], "{}", kind.0.name);
        acme::cleanup(&zones, &once(&wildcard), &settings).await.unwrap();
        assert!(txt_in_dns(&run.emulator, &name).await.is_empty(), "{}", kind.0.name);
        assert!(!acme::cleanup(&zones, &once(&wildcard), &settings).await.unwrap()[0].changed(), "{}", kind.0.name);
        assert_eq!(export(&run.provider, &zone).await, before, "{}: the zone is as it was", kind.0.name);
    }
}

#[tokio::test]
async fn zoneid_answers_a_hook_with_one_read_and_one_write() {
    let run = start(kind("zoneid"), fast()).await;
    let zone = first_zone(&run.provider).await;
    let zones = router(&run.provider);
    // Following a CNAME and waiting ask the name servers, not the API.
    let settings = settings(&run.emulator);
    run.emulator.clear_log();
    let challenge = Challenge::for_identifier(zone.as_str(), "one-read-one-write").unwrap();
    acme::present(&zones, &[challenge], &settings).await.unwrap();
    let log: Vec<String> = run.emulator.request_log().iter().map(|e| format!("{} {}", e.method, e.path)).collect();
    assert_eq!(
        log,
        [
            format!("GET /v2/dns/{}/txt", zone.as_str().trim_end_matches('.')),
            format!("POST /v2/dns/{}/txt", zone.as_str().trim_end_matches('.'))
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mydomainlu_confirms_the_order_before_present_returns() {
    // Orders take 3 s on the service's clock, 300 ms here.
    let run = start(kind("mydomainlu"), Options { time_scale: 0.1, ..Options::default() }).await;
    let zone = first_zone(&run.provider).await;
    let zones = router(&run.provider);
    let settings = Settings { wait: false, ..settings(&run.emulator) };
    let challenge = Challenge::for_identifier(zone.as_str(), "confirmed-before-return").unwrap();
    acme::present(&zones, std::slice::from_ref(&challenge), &settings).await.unwrap();
    assert!(run.emulator.state()["pending"].is_null(), "no order is left pending");
    assert_eq!(txt_in_dns(&run.emulator, &challenge.name).await, ["confirmed-before-return"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_at_once_lose_no_value() {
    // Eight hooks on one name, two for each value (a retried hook), each with its own
    // provider instance as separate processes have, sharing only the state directory (the
    // lock files). Every value ends up there once.
    for kind in [kind("luadns"), kind("domeneshop"), kind("vpsorg")] {
        // Answers slow enough that every hook reads before any writes, were they not locked.
        let faults = zonectl_emulator::Faults { latency_ms: 20, ..Default::default() };
        let run = start(kind, Options { faults, ..fast() }).await;
        let zone = first_zone(&run.provider).await;
        let settings = Settings { wait: false, follow_cname: false, ..settings(&run.emulator) };
        let hooks = (0..8).map(|i| {
            let provider = build(kind.0, &run.emulator, run._state.path());
            let settings = settings.clone();
            let zone = zone.clone();
            tokio::spawn(async move {
                let zones = router(&provider);
                let challenge = Challenge::for_identifier(zone.as_str(), &format!("value-{}", i % 4)).unwrap();
                acme::present(&zones, &[challenge], &settings).await.unwrap();
            })
        });
        for hook in futures_util::future::join_all(hooks).await {
            hook.unwrap();
        }
        let name = Challenge::for_identifier(zone.as_str(), "x").unwrap().name;
        let expected: Vec<String> = (0..4).map(|i| format!("value-{i}")).collect();
        assert_eq!(txt_in_dns(&run.emulator, &name).await, expected, "{}", kind.0.name);
        // Name servers merge duplicates; the provider's listing shows them.
        let filter = RecordFilter { name: Some(name.clone()), rtype: Some(RecordType::Txt) };
        let held = run.provider.list_records_filtered(&zone, &filter).await.unwrap();
        assert_eq!(held.len(), 4, "{}: {held:?}", kind.0.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delegated_challenge_lands_at_the_cname_target() {
    let run = start(kind("luadns"), fast()).await;
    let from = Name::parse("_acme-challenge.example.com.").unwrap();
    let to = Name::parse("_acme-challenge.delegated.example.net.").unwrap();
    let cname = zonectl_core::Record::new(
        from.clone(),
        zonectl_core::Ttl::from_secs(300).unwrap(),
        zonectl_core::RData::Cname(to.clone()),
    );
    let example_com = Name::parse("example.com.").unwrap();
    let mut records: Vec<_> = run.provider.list_records(&example_com).await.unwrap();
    let existing = records.clone();
    records.push(zonectl_core::provider::Existing { record: cname, id: None });
    let desired = Zone::from_records(example_com.clone(), records.into_iter().map(|e| e.record).collect());
    let planned = zonectl_core::plan::plan(
        "luadns",
        run.provider.capabilities(),
        &desired,
        existing,
        &zonectl_core::plan::PlanOptions::default(),
    )
    .unwrap();
    zonectl_core::plan::apply(run.provider.as_ref(), &planned, &Default::default()).await.unwrap();

    let zones = router(&run.provider);
    let settings = settings(&run.emulator);
    let challenge = [Challenge::for_identifier("example.com", "delegated-value").unwrap()];
    let placed = acme::present(&zones, &challenge, &settings).await.unwrap();
    let here = &placed[0].located;
    assert_eq!((here.name.as_str(), here.route.zone.as_str()), (to.as_str(), "example.net."));
    assert_eq!(txt_in_dns(&run.emulator, &to).await, ["delegated-value"]);
    // Without following, the value would go next to the CNAME, which no provider takes.
    acme::cleanup(&zones, &challenge, &settings).await.unwrap();
    assert!(txt_in_dns(&run.emulator, &to).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn present_waits_out_the_propagation_delay() {
    // Changes show after 20 s on the service's clock: 200 ms here.
    let options = Options { time_scale: 0.01, propagation_delay: Duration::from_secs(20), ..Options::default() };
    let run = start(kind("luadns"), options).await;
    let zone = first_zone(&run.provider).await;
    let zones = router(&run.provider);
    let settings = settings(&run.emulator);
    let challenge = Challenge::for_identifier(zone.as_str(), "delayed-value").unwrap();
    acme::present(&zones, std::slice::from_ref(&challenge), &Settings { wait: false, ..settings.clone() })
        .await
        .unwrap();
    // Placed, but not shown yet.
    assert!(txt_in_dns(&run.emulator, &challenge.name).await.is_empty());
    let servers = acme::authoritative_servers(&route(&run.provider, &zone), &settings).await.unwrap();
    let waited = acme::wait_for_propagation(&servers, &challenge.name, &challenge.value, &settings).await.unwrap();
    assert!(waited >= Duration::from_millis(100), "waited only {waited:?}");
    assert_eq!(txt_in_dns(&run.emulator, &challenge.name).await, ["delayed-value"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_never_shown_fails_naming_the_servers_and_is_taken_back() {
    // A delay far beyond the timeout: the value never shows in time.
    let options = Options { propagation_delay: Duration::from_secs(3600), ..Options::default() };
    let run = start(kind("luadns"), options).await;
    let zone = first_zone(&run.provider).await;
    let zones = router(&run.provider);
    let dns = run.emulator.dns_addr().unwrap();
    let settings = Settings {
        propagation_timeout: Duration::from_millis(300),
        query_timeout: Duration::from_millis(200),
        ..settings(&run.emulator)
    };
    let challenge = Challenge::for_identifier(zone.as_str(), "never-shown").unwrap();
    let error = acme::present(&zones, std::slice::from_ref(&challenge), &settings).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("_acme-challenge.{zone}: TXT value not seen after 300ms at: {dns} (answered NXDOMAIN)")
    );
    let filter = RecordFilter { name: Some(challenge.name.clone()), rtype: Some(RecordType::Txt) };
    assert!(run.provider.list_records_filtered(&zone, &filter).await.unwrap().is_empty(), "the value is taken back");
    let writes: Vec<String> =
        run.emulator.request_log().into_iter().filter(|e| e.method != "GET").map(|e| e.method).collect();
    assert_eq!(writes.len(), 2, "one write to place it, one to take it back: {writes:?}");
}

#[tokio::test]
async fn a_name_in_no_zone_is_refused_naming_it() {
    let run = start(kind("luadns"), fast()).await;
    let zones = router(&run.provider);
    let settings = Settings { follow_cname: false, ..settings(&run.emulator) };
    let challenge = [Challenge::for_identifier("example.org", "v").unwrap()];
    let error = acme::present(&zones, &challenge, &settings).await.unwrap_err();
    assert_eq!(error.to_string(), "no zone for _acme-challenge.example.org. at luadns");
    assert!(run.emulator.request_log().iter().all(|e| e.method == "GET"), "nothing was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_answer_is_asked_again_over_tcp() {
    // Fourteen 43-character values make a TXT answer past the 512 octets of plain UDP:
    // the name server sets TC, and only the question again over TCP sees them all.
    let run = start(kind("luadns"), fast()).await;
    let zone = first_zone(&run.provider).await;
    let zones = router(&run.provider);
    let settings = Settings { wait: false, follow_cname: false, ..settings(&run.emulator) };
    let values: Vec<String> = (0..14).map(|i| format!("{i:02}{}", "x".repeat(41))).collect();
    for value in &values {
        acme::present(&zones, &[Challenge::for_identifier(zone.as_str(), value).unwrap()], &settings).await.unwrap();
    }
    let name = Challenge::for_identifier(zone.as_str(), "x").unwrap().name;
    assert_eq!(txt_in_dns(&run.emulator, &name).await, values);
    let servers = acme::authoritative_servers(&route(&run.provider, &zone), &settings).await.unwrap();
    acme::wait_for_propagation(&servers, &name, values.last().unwrap(), &settings).await.unwrap();
}

#[tokio::test]
async fn the_zones_name_servers_resolve_to_the_emulator() {
    let run = start(kind("mydomainlu"), fast()).await;
    let dns = run.emulator.dns_addr().unwrap();
    let zone = first_zone(&run.provider).await;
    let ns = dns::query(dns, &zone, RecordType::Ns, false, Duration::from_secs(2)).await.unwrap();
    assert_eq!(ns.nameservers.len(), 3, "{ns:?}");
    for host in &ns.nameservers {
        let a = dns::query(dns, host, RecordType::A, false, Duration::from_secs(2)).await.unwrap();
        assert_eq!(a.addresses, [dns.ip()], "{host}");
    }
}

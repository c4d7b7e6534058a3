//! ZoneID through its emulator, at its rate limit on a faster clock: the conformance suite
//! (URL, SSHFP, TLSA included), a 100-change sync with no 429 and requests at the floor,
//! faults, system records, and reads of one type.

mod common;

use std::time::Duration;

use common::fast_retries;
use secrecy::SecretString;
use zonectl_core::conformance::{self, assert_converged};
use zonectl_core::plan::{self, ApplyOptions, PlanOptions};
use zonectl_core::provider::{Provider, RecordFilter};
use zonectl_core::{Error, Name, RData, Record, RecordType, Ttl, Zone};
use zonectl_emulator::zoneid::{Seed, ZoneId as Emulated};
use zonectl_emulator::{Emulator, Faults, Options};
use zonectl_providers::zoneid::{ZoneId, ZoneIdConfig};

/// The service's minute lasts 0.6 s here.
const TIME_SCALE: f64 = 0.01;

async fn emulator(seed: Seed, faults: Faults) -> Emulator {
    Emulator::start(Emulated::new(seed), Options { faults, time_scale: TIME_SCALE, ..Options::default() })
        .await
        .unwrap()
}

fn provider(emulator: &Emulator) -> ZoneId {
    provider_at(emulator, TIME_SCALE)
}

/// The client of an emulator whose clock runs at `scale`, its limiter on the same clock.
fn provider_at(emulator: &Emulator, scale: f64) -> ZoneId {
    let seed = Seed::default();
    let mut config = ZoneIdConfig::new(seed.user, SecretString::from(seed.api_key));
    // lego's form of the endpoint, as ZONEEE_ENDPOINT holds it.
    config.endpoint = Some(format!("{}/dns/", emulator.endpoint()));
    config.retry = fast_retries();
    config.rate_limit = (60, Duration::from_secs_f64(60.0 * scale));
    ZoneId::new("zone", config, None).unwrap()
}

fn origin() -> Name {
    Name::parse("example.com").unwrap()
}

fn record(name: &str, rtype: RecordType, data: &str) -> Record {
    Record::new(
        Name::parse_relative(name, &origin()).unwrap(),
        Ttl::from_secs(300).unwrap(),
        RData::parse(rtype, data, Some(&origin())).unwrap(),
    )
}

fn hosts_in(range: std::ops::Range<usize>, third: u8) -> Vec<Record> {
    range.map(|i| record(&format!("h{i}"), RecordType::A, &format!("10.{third}.{}.{}", i / 250, i % 250))).collect()
}

fn throttled(emulator: &Emulator) -> u64 {
    emulator.state()["throttled"].as_u64().unwrap()
}

#[tokio::test]
async fn conformance() {
    let emulator = emulator(Seed::default(), Faults::default()).await;
    let zone = provider(&emulator);
    let fail_from = |after: Option<usize>| {
        emulator.set_faults(Faults { fail_writes_after: after.map(|n| n as u64), ..Faults::default() })
    };
    conformance::run_all(&zone, &origin(), Some(&fail_from)).await;
    let log = emulator.request_log();
    for rtype in ["url", "sshfp", "tlsa"] {
        assert!(log.iter().any(|e| e.method == "POST" && e.path.ends_with(&format!("/{rtype}"))), "{rtype} was made");
    }
    assert_eq!(throttled(&emulator), 0, "the limiter kept under 60 a minute");
}

/// 100 changes at the real rate limit: no 429, at most 100 writes plus the 11 reads of
/// the zone, and the zone converges; the request log proves it.
#[tokio::test]
async fn a_hundred_changes_at_sixty_a_minute() {
    let emulator = emulator(Seed::default(), Faults::default()).await;
    let zone = provider(&emulator);
    let start = Zone::from_records(origin(), hosts_in(0..75, 1));
    conformance::sync(&zone, &start, &PlanOptions::default()).await;
    // 50 updated in place, 25 deleted (h50 to h74), 25 created (n0 to n24).
    let mut desired = hosts_in(0..50, 2);
    desired.extend((0..25).map(|i| record(&format!("n{i}"), RecordType::A, &format!("10.9.0.{i}"))));
    let desired = Zone::from_records(origin(), desired);
    emulator.clear_log();
    let current = zone.list_records(&origin()).await.unwrap();
    let planned =
        plan::plan(zone.name(), zone.capabilities(), &desired, current.clone(), &PlanOptions::default()).unwrap();
    assert_eq!(planned.operations.len(), 100);
    assert!(planned.notes.iter().any(|n| n.contains("keeps no TTLs")), "{:?}", planned.notes);
    // At the real 60 a minute, 100 changes take 100 seconds: the plan says so up front.
    let documented = zonectl_providers::zoneid::capabilities();
    let real = plan::plan(zone.name(), &documented, &desired, current, &PlanOptions::default()).unwrap();
    assert!(
        real.notes.iter().any(|n| n == "zone allows 60 requests per 1m: these 100 changes take about 1m40s to send"),
        "{:?}",
        real.notes
    );
    // On this emulator's faster clock (60 per 0.6 s) they take a second: nothing to say.
    assert!(!planned.notes.iter().any(|n| n.contains("requests per")), "{:?}", planned.notes);
    let applied = plan::apply(&zone, &planned, &ApplyOptions { force: true, ..ApplyOptions::default() }).await.unwrap();
    assert!(applied.report.is_complete(), "{:?}", applied.report.outcomes);
    let log = emulator.request_log();
    let count = |method: &str| log.iter().filter(|e| e.method == method).count();
    assert_eq!((count("PUT"), count("POST"), count("DELETE")), (50, 25, 25), "an update is a PUT, not delete + create");
    assert_eq!(count("GET"), 11, "one read per type");
    assert!(log.iter().all(|e| e.status != 429), "no 429");
    assert_eq!(throttled(&emulator), 0);
    assert_converged(&zone, &desired, &PlanOptions::default()).await;
}

/// With faults — 5xx, 409 "concurrent request", drops after commit — the same sync
/// converges exactly: nothing duplicated, nothing lost.
#[tokio::test]
async fn faults_converge_exactly() {
    let emulator = emulator(Seed::default(), Faults::default()).await;
    let zone = provider(&emulator);
    let mut desired = hosts_in(0..40, 3);
    desired.push(record("mail", RecordType::Mx, "10 mx.example.net."));
    desired.push(record("go", RecordType::Url, "302 https://example.org/"));
    let desired = Zone::from_records(origin(), desired);
    emulator.set_faults(Faults {
        error_rate: 0.2,
        conflict_rate: 0.2,
        drop_after_commit_rate: 0.2,
        seed: 11,
        ..Faults::default()
    });
    for round in 0.. {
        assert!(round < 15, "no convergence");
        let Ok(current) = zone.list_records(&origin()).await else { continue };
        let planned = plan::plan(zone.name(), zone.capabilities(), &desired, current, &PlanOptions::default()).unwrap();
        if planned.is_empty() {
            break;
        }
        plan::apply(&zone, &planned, &ApplyOptions { force: true, ..ApplyOptions::default() }).await.unwrap();
    }
    let log = emulator.request_log();
    assert!(log.iter().any(|e| e.status == 409), "409s happened");
    assert!(log.iter().any(|e| e.dropped) && log.iter().any(|e| e.status >= 500), "the faults happened");
    emulator.set_faults(Faults::default());
    assert_converged(&zone, &desired, &PlanOptions::default()).await;
}

/// The provider's NS are system records: shown, never touched. An edit of one name and type
/// reads only that type: one request, then one write.
#[tokio::test]
async fn system_records_and_reads_of_one_type() {
    let emulator = emulator(Seed::default(), Faults::default()).await;
    let zone = provider(&emulator);
    let records = zone.list_records(&origin()).await.unwrap();
    let ns: Vec<String> =
        records.iter().filter(|e| e.record.rtype() == RecordType::Ns).map(|e| e.record.data.to_string()).collect();
    assert_eq!(ns, ["ns1.zone.eu.", "ns2.zone.ee.", "ns3.zonedata.net."]);
    let desired = Zone::from_records(origin(), vec![record("www", RecordType::A, "192.0.2.1")]);
    conformance::sync(&zone, &desired, &PlanOptions::default()).await;
    assert_eq!(
        zone.list_records(&origin()).await.unwrap().iter().filter(|e| e.record.rtype() == RecordType::Ns).count(),
        3
    );
    emulator.clear_log();
    let filter = RecordFilter { name: Some(Name::parse("www.example.com").unwrap()), rtype: Some(RecordType::A) };
    let one = zone.list_records_filtered(&origin(), &filter).await.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(emulator.request_log().len(), 1, "one read for one type");
}

/// A zone with IPv6 off refuses AAAA: the error names the record.
#[tokio::test]
async fn a_zone_without_ipv6_refuses_aaaa() {
    let emulator = emulator(Seed::default(), Faults::default()).await;
    let zone = provider(&emulator);
    let ee = Name::parse("example.ee").unwrap();
    let aaaa = Record::new(
        Name::parse("www.example.ee").unwrap(),
        Ttl::from_secs(300).unwrap(),
        RData::Aaaa("2001:db8::1".parse().unwrap()),
    );
    let desired = Zone::from_records(ee.clone(), vec![aaaa]);
    let current = zone.list_records(&ee).await.unwrap();
    let planned = plan::plan(zone.name(), zone.capabilities(), &desired, current, &PlanOptions::default()).unwrap();
    let applied = plan::apply(&zone, &planned, &ApplyOptions::default()).await.unwrap();
    let err = applied.report.outcomes[0].error().unwrap().to_string();
    assert!(
        err.starts_with("zone: zone example.ee.: invalid record www.example.ee. 300 IN AAAA 2001:db8::1: "),
        "{err}"
    );
    assert!(err.contains("IPv6 records are not allowed in this zone"), "{err}");
}

/// A server that pages its lists is followed to the end, without asking for pages it does
/// not page.
#[tokio::test]
async fn paged_lists_are_followed() {
    let emulator = emulator(Seed { page_size: Some(3), ..Seed::default() }, Faults::default()).await;
    let zone = provider(&emulator);
    let desired = Zone::from_records(origin(), hosts_in(0..8, 4));
    conformance::sync(&zone, &desired, &PlanOptions::default()).await;
    emulator.clear_log();
    let filter = RecordFilter { name: None, rtype: Some(RecordType::A) };
    assert_eq!(zone.list_records_filtered(&origin(), &filter).await.unwrap().len(), 8);
    assert_eq!(emulator.request_log().len(), 3, "three pages of three");
}

/// A package limit: 402, reported as a permission the account lacks, naming the zone.
#[tokio::test]
async fn a_package_limit_is_payment_required() {
    let emulator = emulator(Seed { max_records: Some(2), ..Seed::default() }, Faults::default()).await;
    let zone = provider(&emulator);
    let desired = Zone::from_records(origin(), hosts_in(0..3, 5));
    let current = zone.list_records(&origin()).await.unwrap();
    let planned = plan::plan(zone.name(), zone.capabilities(), &desired, current, &PlanOptions::default()).unwrap();
    let applied = plan::apply(&zone, &planned, &ApplyOptions::default()).await.unwrap();
    let failed: Vec<String> =
        applied.report.outcomes.iter().filter_map(|o| o.error()).map(ToString::to_string).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(
        failed[0],
        "zone: permission denied: zone example.com.: payment required: Package upgrade required for more records"
    );
}

/// A root target — RFC 7505's null MX, RFC 2782's SRV `.` — on which the document is silent,
/// under both of the emulator's readings (`root_target` = `refused` | `accepted`): zonectl
/// never sends one (the plan refuses it, naming each record), and one that another client
/// made where the service takes it is read as written, kept by a plan that holds it, and
/// deleted by one that does not.
#[tokio::test]
async fn root_targets_under_either_reading() {
    for reading in ["refused", "accepted"] {
        let faults = Faults { readings: [("root_target".into(), reading.into())].into(), ..Faults::default() };
        let emulator = emulator(Seed::default(), faults).await;
        let zone = provider(&emulator);
        let seed = Seed::default();
        // Another client, with the API's own fields.
        let sent = reqwest::Client::new()
            .post(format!("{}/dns/example.com/mx", emulator.endpoint()))
            .basic_auth(&seed.user, Some(&seed.api_key))
            .json(&serde_json::json!({ "name": "example.com", "destination": ".", "priority": 0 }))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        let null_mx = record("@", RecordType::Mx, "0 .");
        let current = zone.list_records(&origin()).await.unwrap();
        let held = current.iter().any(|e| e.record.name == origin() && e.record.data == null_mx.data);
        let expected = if reading == "accepted" { (201, true) } else { (422, false) };
        assert_eq!((sent, held), expected, "{reading}");
        let records = |extra: Vec<Record>| {
            let mut all: Vec<Record> = current.iter().map(|e| e.record.clone()).collect();
            all.extend(extra);
            Zone::from_records(origin(), all)
        };
        // Adding one is refused in the plan, each record named.
        let srv = record("_nope._tcp", RecordType::Srv, "0 0 0 .");
        let adding = if held { vec![srv] } else { vec![null_mx.clone(), srv] };
        let refused =
            plan::plan(zone.name(), zone.capabilities(), &records(adding), current.clone(), &PlanOptions::default())
                .unwrap_err();
        let Error::Refused { problems, .. } = refused else { panic!("{reading}: {refused}") };
        let refused = problems.join("\n");
        assert!(refused.contains("_nope._tcp SRV 0 0 0 .: an SRV with target ."), "{reading}: {refused}");
        assert_eq!(refused.contains("@ MX 0 .: a null MX"), !held, "{reading}: {refused}");
        if held {
            // Kept as read: nothing to do.
            let kept = plan::plan(
                zone.name(),
                zone.capabilities(),
                &records(vec![]),
                current.clone(),
                &PlanOptions::default(),
            );
            assert!(kept.unwrap().is_empty(), "{reading}");
            // Deleted when the zone no longer has it.
            let without: Vec<Record> =
                current.iter().map(|e| e.record.clone()).filter(|r| r.data != null_mx.data).collect();
            let without = Zone::from_records(origin(), without);
            let planned =
                plan::plan(zone.name(), zone.capabilities(), &without, current.clone(), &PlanOptions::default())
                    .unwrap();
            assert_eq!(planned.operations.len(), 1);
            plan::apply(&zone, &planned, &ApplyOptions { force: true, ..ApplyOptions::default() }).await.unwrap();
            assert_converged(&zone, &without, &PlanOptions::default()).await;
        }
    }
}

/// Another client on this address spends the minute, and ZoneID answers 429 — with or
/// without `Retry-After`: whether the real service sends it is unverified, so the emulator
/// plays both (the reading `throttle`). Either way the client waits for the minute and goes
/// through, refused no more often than it had requests in flight.
#[tokio::test]
async fn a_spent_minute_is_waited_out_with_or_without_retry_after() {
    // A minute of 3 s: the spend, the probe and the client's read fall in one minute.
    let scale = 0.05;
    for throttle in ["bare", "retry_after"] {
        let emulator =
            Emulator::start(Emulated::new(Seed::default()), Options { time_scale: scale, ..Options::default() })
                .await
                .unwrap();
        let seed = Seed::default();
        let zone = provider_at(&emulator, scale);
        let http = reqwest::Client::new();
        let probe = || {
            http.get(format!("{}/dns/example.com/a", emulator.endpoint())).basic_auth(&seed.user, Some(&seed.api_key))
        };
        let probed = common::throttled_probe(&emulator, 60, throttle, probe).await;
        assert_eq!(probed, Some(throttle == "retry_after"), "{throttle}: a 429, with Retry-After as the reading says");
        emulator.clear_log();
        let records = zone.list_records(&origin()).await.unwrap();
        assert!(records.iter().any(|e| e.record.rtype() == RecordType::Ns), "{throttle}");
        // A read per type, all in flight when the first 429 came: each refused once at
        // most, and sent again once, after the wait.
        let log = emulator.request_log();
        let refused = log.iter().filter(|e| e.status == 429).count();
        assert!((1..=11).contains(&refused), "{throttle}: {refused} refused");
        assert_eq!(log.len(), 11 + refused, "{throttle}: every refused read sent again once");
    }
}

/// A CAA tag written in upper case in a zone file (`ISSUE`, kept as BIND keeps it) converges
/// at a service that stores tags in lower case: the plan compares tags without case.
#[tokio::test]
async fn a_caa_tag_in_upper_case_converges() {
    let emulator = emulator(Seed::default(), Faults::default()).await;
    let zone = provider(&emulator);
    let desired = Zone::from_records(origin(), vec![record("@", RecordType::Caa, "0 ISSUE \"ca.example.net\"")]);
    let current = zone.list_records(&origin()).await.unwrap();
    let first = plan::plan(zone.name(), zone.capabilities(), &desired, current, &PlanOptions::default()).unwrap();
    plan::apply(&zone, &first, &ApplyOptions { force: true, ..ApplyOptions::default() }).await.unwrap();
    let current = zone.list_records(&origin()).await.unwrap();
    assert!(current.iter().any(|e| e.record.data.to_string() == "0 issue \"ca.example.net\""), "{current:?}");
    let again = plan::plan(zone.name(), zone.capabilities(), &desired, current, &PlanOptions::default()).unwrap();
    assert!(again.is_empty(), "{:?}", again.changes);
}

//! VPS.org through its emulator: the conformance suite, 200 changes under faults, zones made
//! and deleted, paged and bare zone lists, and a read-only token found out on its first
//! write with nothing else sent.

mod common;

use common::fast_retries;
use secrecy::SecretString;
use zonectl_core::conformance::{self, assert_converged};
use zonectl_core::plan::{self, ApplyOptions, PlanOptions};
use zonectl_core::provider::{Outcome, Provider};
use zonectl_core::{Error, Name, RData, Record, RecordType, Ttl, Zone};
use zonectl_emulator::vpsorg::{Seed, VpsOrg as Emulated};
use zonectl_emulator::{Emulator, Faults, Options};
use zonectl_providers::vpsorg::{VpsOrg, VpsOrgConfig};

async fn emulator(seed: Seed) -> Emulator {
    Emulator::start(Emulated::new(seed), Options::default()).await.unwrap()
}

fn provider(emulator: &Emulator, token: &str) -> VpsOrg {
    let mut config = VpsOrgConfig::new(SecretString::from(token.to_owned()));
    config.endpoint = Some(emulator.endpoint());
    config.retry = fast_retries();
    VpsOrg::new("vps", config).unwrap()
}

fn origin() -> Name {
    Name::parse("example.com").unwrap()
}

fn hosts_in(range: std::ops::Range<usize>, third: u8) -> Vec<Record> {
    range
        .map(|i| {
            Record::new(
                Name::parse_relative(&format!("h{i}"), &origin()).unwrap(),
                Ttl::from_secs(300).unwrap(),
                RData::A(std::net::Ipv4Addr::new(10, third, (i / 250) as u8, (i % 250) as u8)),
            )
        })
        .collect()
}

#[tokio::test]
async fn conformance() {
    let emulator = emulator(Seed::default()).await;
    let vps = provider(&emulator, &Seed::default().token);
    let fail_from = |after: Option<usize>| {
        emulator.set_faults(Faults { fail_writes_after: after.map(|n| n as u64), ..Faults::default() })
    };
    conformance::run_all(&vps, &origin(), Some(&fail_from)).await;
    assert!(emulator.request_log().iter().any(|e| e.method == "PATCH"), "changes in place are PATCHes");
}

/// 200 changes with faults on converge with no duplicate and nothing lost; a second plan
/// is empty and costs only reads.
#[tokio::test]
async fn two_hundred_changes_converge_under_faults() {
    let emulator = emulator(Seed::default()).await;
    let vps = provider(&emulator, &Seed::default().token);
    conformance::sync(&vps, &Zone::from_records(origin(), hosts_in(0..100, 1)), &PlanOptions::default()).await;
    let mut desired = hosts_in(0..50, 2);
    desired.extend(hosts_in(100..200, 1));
    let desired = Zone::from_records(origin(), desired);
    emulator.set_faults(Faults {
        error_rate: 0.2,
        drop_after_commit_rate: 0.2,
        latency_ms: 2,
        seed: 21,
        ..Faults::default()
    });
    for round in 0.. {
        assert!(round < 15, "no convergence");
        let Ok(current) = vps.list_records(&origin()).await else { continue };
        let planned = plan::plan(vps.name(), vps.capabilities(), &desired, current, &PlanOptions::default()).unwrap();
        if planned.is_empty() {
            break;
        }
        plan::apply(&vps, &planned, &ApplyOptions { force: true, ..ApplyOptions::default() }).await.unwrap();
    }
    let log = emulator.request_log();
    assert!(log.iter().any(|e| e.dropped) && log.iter().any(|e| e.status >= 500), "the faults happened");
    emulator.set_faults(Faults::default());
    assert_converged(&vps, &desired, &PlanOptions::default()).await;
    emulator.clear_log();
    let current = vps.list_records(&origin()).await.unwrap();
    assert!(plan::plan(vps.name(), vps.capabilities(), &desired, current, &PlanOptions::default()).unwrap().is_empty());
    assert!(emulator.request_log().iter().all(|e| e.method == "GET"), "a second plan only reads");
}

/// A read-only token: the first write answers 403 naming the scope, and nothing else is
/// sent.
#[tokio::test]
async fn a_read_only_token_is_found_out_on_the_first_write() {
    let emulator = emulator(Seed::default()).await;
    let vps = provider(&emulator, &Seed::default().read_only_token);
    let current = vps.list_records(&origin()).await.unwrap();
    let desired = Zone::from_records(origin(), hosts_in(0..20, 3));
    let planned = plan::plan(vps.name(), vps.capabilities(), &desired, current, &PlanOptions::default()).unwrap();
    emulator.clear_log();
    let applied = plan::apply(&vps, &planned, &ApplyOptions::default()).await.unwrap();
    let writes = emulator.request_log().into_iter().filter(|e| e.method != "GET").count();
    assert_eq!(writes, 1, "one write, then nothing");
    let failed: Vec<&Error> = applied.report.outcomes.iter().filter_map(Outcome::error).collect();
    assert_eq!(failed.len(), 1);
    let text = failed[0].to_string();
    assert!(text.contains("permission denied: Token lacks dns:create permission"), "{text}");
    assert!(applied.report.outcomes.iter().filter(|o| matches!(o, Outcome::NotAttempted)).count() == 19);
}

/// Zones made and deleted through the API, under every reading the document allows: the
/// zone list "a paginated list" (DRF pages) or as printed (a bare array), a new zone with
/// `records: []` as printed or with the provider's NS records.
#[tokio::test]
async fn zones_are_made_listed_and_deleted() {
    for (list, new_zone) in [("paged", "empty"), ("bare", "empty"), ("paged", "ns"), ("bare", "ns")] {
        let emulator = emulator(Seed { page_size: 1, ..Seed::default() }).await;
        let readings = [("zone_list", list), ("new_zone", new_zone)].map(|(k, v)| (k.to_owned(), v.to_owned()));
        emulator.set_faults(Faults { readings: readings.into_iter().collect(), ..Faults::default() });
        let vps = provider(&emulator, &Seed::default().token);
        let new = Name::parse("fresh.example").unwrap();
        assert!(matches!(vps.list_records(&new).await, Err(Error::NotFound { .. })));
        vps.create_zone(&new).await.unwrap();
        let zones = vps.list_zones().await.unwrap();
        assert_eq!(zones.len(), 3, "{list}: {zones:?}");
        if list == "paged" {
            let pages =
                emulator.request_log().iter().filter(|e| e.path.starts_with("/api/v1/dns-zones/?page=")).count();
            assert!(pages >= 2, "the next links were followed");
        }
        let records = vps.list_records(&new).await.unwrap();
        let expected = if new_zone == "ns" { 2 } else { 0 };
        assert_eq!(records.len(), expected, "{new_zone}: {records:?}");
        assert!(records.iter().all(|e| e.record.rtype() == RecordType::Ns));
        vps.delete_zone(&new).await.unwrap();
        assert!(!vps.list_zones().await.unwrap().contains(&new));
    }
}

/// A root target — RFC 7505's null MX, RFC 2782's SRV `.` — on which the document is silent,
/// under both of the emulator's readings (`root_target` = `refused` | `accepted`): zonectl
/// never sends one (the plan refuses it, naming each record), and one that another client
/// made where the service takes it is read as written (`.`, not `0 0 0 0.`), kept by a plan
/// that holds it, and deleted by one that does not.
#[tokio::test]
async fn root_targets_under_either_reading() {
    for reading in ["refused", "accepted"] {
        let emulator = emulator(Seed::default()).await;
        emulator.set_faults(Faults { readings: [("root_target".into(), reading.into())].into(), ..Faults::default() });
        let vps = provider(&emulator, &Seed::default().token);
        // Another client, with the API's own fields.
        let http = reqwest::Client::new();
        let token = Seed::default().token;
        let zones: serde_json::Value = http
            .get(format!("{}/dns-zones/?domain=example.com", emulator.endpoint()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let uuid = zones["results"][0]["uuid"].as_str().unwrap().to_owned();
        let mut sent = Vec::new();
        for (rtype, name, value, priority) in [("MX", "@", ".", 0), ("SRV", "_nope._tcp", "0 0 .", 0)] {
            let body = serde_json::json!({ "record_type": rtype, "name": name, "value": value, "priority": priority, "ttl": 3600 });
            let answer = http
                .post(format!("{}/dns-zones/{uuid}/records/", emulator.endpoint()))
                .bearer_auth(&token)
                .json(&body)
                .send();
            sent.push(answer.await.unwrap().status().as_u16());
        }
        let null_mx = record_of("@", RecordType::Mx, "0 .");
        let srv = record_of("_nope._tcp", RecordType::Srv, "0 0 0 .");
        let current = vps.list_records(&origin()).await.unwrap();
        let held: Vec<bool> = [&null_mx, &srv].iter().map(|r| current.iter().any(|e| e.record == **r)).collect();
        let expected = if reading == "accepted" {
            (vec![201, 201], vec![true, true])
        } else {
            (vec![400, 400], vec![false, false])
        };
        assert_eq!((sent, held.clone()), expected, "{reading}: {current:?}");
        let records = |extra: Vec<Record>, drop: Option<&Record>| {
            let mut all: Vec<Record> = current.iter().map(|e| e.record.clone()).filter(|r| Some(r) != drop).collect();
            all.extend(extra);
            Zone::from_records(origin(), all)
        };
        let options = PlanOptions::default();
        if held[0] {
            // Kept as read: nothing to do; deleted when the zone no longer has it.
            assert!(
                plan::plan(vps.name(), vps.capabilities(), &records(vec![], None), current.clone(), &options)
                    .unwrap()
                    .is_empty()
            );
            let without = records(vec![], Some(&null_mx));
            let planned = plan::plan(vps.name(), vps.capabilities(), &without, current.clone(), &options).unwrap();
            assert_eq!(planned.operations.len(), 1);
            plan::apply(&vps, &planned, &ApplyOptions { force: true, ..ApplyOptions::default() }).await.unwrap();
            assert_converged(&vps, &without, &options).await;
        } else {
            // Adding them is refused in the plan, each record named.
            let refused =
                plan::plan(vps.name(), vps.capabilities(), &records(vec![null_mx, srv], None), current, &options)
                    .unwrap_err();
            let Error::Refused { problems, .. } = refused else { panic!("{refused}") };
            let refused = problems.join("\n");
            assert!(
                refused.contains("@ MX 0 .: a null MX") && refused.contains("_nope._tcp SRV 0 0 0 .: an SRV"),
                "{refused}"
            );
        }
    }
}

fn record_of(name: &str, rtype: RecordType, data: &str) -> Record {
    Record::new(
        Name::parse_relative(name, &origin()).unwrap(),
        Ttl::from_secs(3600).unwrap(),
        RData::parse(rtype, data, Some(&origin())).unwrap(),
    )
}

/// The document names no rate limit; the emulator's throttle (DRF's, 429 with
/// `Retry-After`) is a guess, and the reading `throttle=bare` answers the 429 without the
/// header. Either way a client whose token's minute another client spent waits and goes
/// through; told when, it is refused once.
#[tokio::test]
async fn a_throttle_is_waited_out_with_or_without_retry_after() {
    for throttle in ["retry_after", "bare"] {
        let options = Options { time_scale: 0.01, ..Options::default() };
        let emulator = Emulator::start(Emulated::new(Seed::default()), options).await.unwrap();
        let token = Seed::default().token;
        let vps = provider(&emulator, &token);
        let http = reqwest::Client::new();
        let probe = || http.get(format!("{}/dns-zones/", emulator.endpoint())).bearer_auth(&token);
        let probed = common::throttled_probe(&emulator, 600, throttle, probe).await;
        assert_eq!(probed, Some(throttle == "retry_after"), "{throttle}: a 429, with Retry-After as the reading says");
        emulator.clear_log();
        assert_eq!(vps.list_zones().await.unwrap().len(), 2, "{throttle}");
        let refused = emulator.request_log().iter().filter(|e| e.status == 429).count();
        if throttle == "retry_after" {
            assert_eq!(refused, 1, "told when, the client waited that long");
        } else {
            assert!(refused >= 1, "the client met the throttle");
        }
    }
}

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

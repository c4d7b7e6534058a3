//! Domeneshop through its emulator: the conformance suite (URL forwards and the TTL rule
//! included), request counts at the floor, concurrency, faults, and the refusals made
//! before anything is sent.

mod common;

use std::time::Duration;

use common::{capture, fast_retries};
use secrecy::SecretString;
use zonectl_core::conformance::{self, assert_converged};
use zonectl_core::plan::{self, ApplyOptions, PlanOptions, TtlPolicy};
use zonectl_core::provider::Provider;
use zonectl_core::{Error, Name, RData, Record, RecordType, Ttl, Zone};
use zonectl_emulator::domeneshop::{Domeneshop as Emulated, Seed};
use zonectl_emulator::{Emulator, Faults, Options};
use zonectl_providers::domeneshop::{Domeneshop, DomeneshopConfig};

async fn emulator(faults: Faults) -> Emulator {
    Emulator::start(Emulated::new(Seed::default()), Options { faults, ..Options::default() }).await.unwrap()
}

fn provider(emulator: &Emulator, secret: &str) -> Domeneshop {
    let mut config = DomeneshopConfig::new(Seed::default().token, SecretString::from(secret.to_owned()));
    config.endpoint = Some(emulator.endpoint());
    config.retry = fast_retries();
    Domeneshop::new("shop", config).unwrap()
}

fn secret() -> String {
    Seed::default().secret
}

fn origin() -> Name {
    Name::parse("example.com").unwrap()
}

fn record(name: &str, ttl: u32, rtype: RecordType, data: &str) -> Record {
    Record::new(
        Name::parse_relative(name, &origin()).unwrap(),
        Ttl::from_secs(ttl).unwrap(),
        RData::parse(rtype, data, Some(&origin())).unwrap(),
    )
}

/// A records `h{i}` for `i` in `range`, at `10.{third}.…`.
fn hosts_in(range: std::ops::Range<usize>, third: u8) -> Vec<Record> {
    range
        .map(|i| record(&format!("h{i}"), 300, RecordType::A, &format!("10.{third}.{}.{}", i / 250, i % 250)))
        .collect()
}

fn hosts(n: usize, third: u8) -> Zone {
    Zone::from_records(origin(), hosts_in(0..n, third))
}

#[tokio::test]
async fn conformance() {
    let emulator = emulator(Faults::default()).await;
    let shop = provider(&emulator, &secret());
    let fail_from = |after: Option<usize>| {
        emulator.set_faults(Faults { fail_writes_after: after.map(|n| n as u64), ..Faults::default() })
    };
    conformance::run_all(&shop, &origin(), Some(&fail_from)).await;
    let log = emulator.request_log();
    // As the vendor's own libraries send it: `POST /domains/{id}/forwards`, no slash.
    assert!(log.iter().any(|e| e.path.ends_with("/forwards") && e.method == "POST"), "forwards were made");
    assert!(log.iter().any(|e| e.status == 500), "the partial failure happened");
}

/// A sync costs one write per changed record, and one read of records and one of forwards
/// (after the domain list); a second plan costs reads only.
#[tokio::test]
async fn requests_per_change_are_at_the_floor() {
    let emulator = emulator(Faults::default()).await;
    let shop = provider(&emulator, &secret());
    conformance::plan_and_apply(&shop, &hosts(100, 1)).await;
    // 150 changes: 50 updated in place, 50 deleted, 50 created.
    let mut desired = hosts_in(0..50, 2);
    desired.extend(hosts_in(100..150, 1));
    let desired = Zone::from_records(origin(), desired);
    let fresh = provider(&emulator, &secret());
    emulator.clear_log();
    let applied = conformance::plan_and_apply(&fresh, &desired).await;
    assert!(applied.report.is_complete());
    let log = emulator.request_log();
    let count = |method: &str| log.iter().filter(|e| e.method == method).count();
    assert_eq!((count("PUT"), count("DELETE"), count("POST")), (50, 50, 50), "one write per changed record");
    assert_eq!(count("GET"), 3, "the domain list, the records, the forwards: {log:?}");
    emulator.clear_log();
    let current = fresh.list_records(&origin()).await.unwrap();
    assert!(
        plan::plan(fresh.name(), fresh.capabilities(), &desired, current, &PlanOptions::default()).unwrap().is_empty()
    );
    assert_eq!(emulator.request_log().len(), 2, "a second plan reads records and forwards, nothing else");
}

/// A 500-change apply does not take 500 round trips one after another: with every answer
/// 20 ms late, requests overlap, and never more than the limit of eight.
#[tokio::test]
async fn changes_at_different_names_go_several_at_a_time() {
    let emulator = emulator(Faults::default()).await;
    let shop = provider(&emulator, &secret());
    shop.list_records(&origin()).await.unwrap();
    emulator.set_faults(Faults { latency_ms: 20, ..Faults::default() });
    emulator.clear_log();
    let applied = conformance::plan_and_apply(&shop, &hosts(500, 3)).await;
    assert!(applied.report.is_complete());
    let writes: Vec<(u64, u64)> =
        emulator.request_log().iter().filter(|e| e.method == "POST").map(|e| (e.at_ms, e.at_ms + e.millis)).collect();
    assert_eq!(writes.len(), 500);
    let most = writes.iter().map(|&(start, _)| writes.iter().filter(|&&(s, e)| s <= start && start < e).count()).max();
    let most = most.unwrap();
    assert!((2..=8).contains(&most), "{most} requests at once");
}

/// 200 changes with faults on — 5xx, connections dropped after the change was made,
/// latency — converge with no duplicate and nothing lost.
#[tokio::test]
async fn two_hundred_changes_converge_under_faults() {
    let faults = Faults { error_rate: 0.2, drop_after_commit_rate: 0.2, latency_ms: 2, seed: 3, ..Faults::default() };
    let emulator = emulator(Faults::default()).await;
    let shop = provider(&emulator, &secret());
    let start = hosts(100, 4);
    conformance::plan_and_apply(&shop, &start).await;
    // 200 changes: 50 updated, 50 deleted, 100 created (and an MX and a forward).
    let mut desired = hosts_in(0..50, 5);
    desired.extend(hosts_in(100..200, 4));
    desired.push(record("mx", 300, RecordType::Mx, "10 mail.example.net."));
    desired.push(record("go", 300, RecordType::Url, "https://example.org/"));
    let desired = Zone::from_records(origin(), desired);
    emulator.set_faults(faults);
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds <= 15, "no convergence");
        let Ok(current) = shop.list_records(&origin()).await else { continue };
        let planned = plan::plan(shop.name(), shop.capabilities(), &desired, current, &PlanOptions::default()).unwrap();
        if planned.is_empty() {
            break;
        }
        plan::apply(&shop, &planned, &ApplyOptions { force: true, ..ApplyOptions::default() }).await.unwrap();
    }
    let log = emulator.request_log();
    assert!(log.iter().any(|e| e.dropped) && log.iter().any(|e| e.status >= 500), "the faults happened");
    emulator.set_faults(Faults::default());
    // Exactly the desired records: no duplicate, none lost.
    assert_converged(&shop, &desired, &PlanOptions::default()).await;
}

/// A create whose answer was lost is checked before it is sent again: the record is made
/// once, and the apply reports it done.
#[tokio::test]
async fn a_create_whose_answer_was_lost_is_checked_not_repeated() {
    let emulator = emulator(Faults::default()).await;
    let shop = provider(&emulator, &secret());
    let desired = Zone::from_records(origin(), vec![record("once", 300, RecordType::A, "192.0.2.1")]);
    let current = shop.list_records(&origin()).await.unwrap();
    let planned = plan::plan(shop.name(), shop.capabilities(), &desired, current, &PlanOptions::default()).unwrap();
    emulator.set_faults(Faults { drop_after_commit_rate: 1.0, ..Faults::default() });
    emulator.clear_log();
    let applied = plan::apply(&shop, &planned, &ApplyOptions::default()).await.unwrap();
    assert!(applied.report.is_complete(), "{:?}", applied.report.outcomes);
    let log = emulator.request_log();
    assert_eq!(log.iter().filter(|e| e.method == "POST").count(), 1, "{log:?}");
    assert!(log.iter().any(|e| e.method == "GET" && e.path.contains("host=once")), "{log:?}");
    emulator.set_faults(Faults::default());
    assert_converged(&shop, &desired, &PlanOptions::default()).await;
}

/// What Domeneshop would refuse is refused before the first request, naming the record:
/// a TTL off its steps (unless asked to round), a CAA tag it cannot store, a 302 forward,
/// a forward beside an address record.
#[tokio::test]
async fn refusals_before_anything_is_sent() {
    let emulator = emulator(Faults::default()).await;
    let shop = provider(&emulator, &secret());
    let current = shop.list_records(&origin()).await.unwrap();
    emulator.clear_log();
    let refused = |records: Vec<Record>| {
        let desired = Zone::from_records(origin(), records);
        plan::plan(shop.name(), shop.capabilities(), &desired, current.clone(), &PlanOptions::default())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        refused(vec![record("a", 90, RecordType::A, "192.0.2.1")]),
        "shop: zone example.com.: a A: TTL 90 is not a multiple of 60, which shop refuses; the nearest TTL it allows \
         is 120 (--ttl-policy round uses it)"
    );
    assert_eq!(
        refused(vec![record("a", 30, RecordType::A, "192.0.2.1")]),
        "shop: zone example.com.: a A: TTL 30 is below the minimum of 60, which shop refuses; the nearest TTL it \
         allows is 60 (--ttl-policy round uses it)"
    );
    assert_eq!(
        refused(vec![record("@", 300, RecordType::Caa, "0 contactemail \"a@example.com\"")]),
        "shop: zone example.com.: @ CAA 0 contactemail \"a@example.com\": Domeneshop stores only the CAA tags issue, \
         issuewild and iodef, not contactemail"
    );
    assert!(
        refused(vec![record("www", 300, RecordType::Url, "302 https://example.org/")]).contains("cannot answer 302")
    );
    assert_eq!(
        refused(vec![
            record("www", 300, RecordType::Url, "https://example.org/"),
            record("www", 300, RecordType::A, "192.0.2.1")
        ]),
        "shop: zone example.com.: www: A and URL cannot share a name at shop"
    );
    assert!(emulator.request_log().is_empty(), "nothing was sent");
    // Asked to round, 90 becomes 120 and is shown so.
    let desired = Zone::from_records(origin(), vec![record("a", 90, RecordType::A, "192.0.2.1")]);
    let round = PlanOptions { ttl_policy: TtlPolicy::Round, ..PlanOptions::default() };
    let planned = plan::plan(shop.name(), shop.capabilities(), &desired, current, &round).unwrap();
    assert!(planned.to_text(false).contains("+ a 120 IN A 192.0.2.1"), "{}", planned.to_text(false));
}

/// Replacing an address record by a forward deletes the record first: the service would
/// refuse the forward beside it.
#[tokio::test]
async fn an_address_becomes_a_forward() {
    let emulator = emulator(Faults::default()).await;
    let shop = provider(&emulator, &secret());
    let before = Zone::from_records(origin(), vec![record("www", 300, RecordType::A, "192.0.2.1")]);
    assert!(conformance::plan_and_apply(&shop, &before).await.report.is_complete());
    let after = Zone::from_records(origin(), vec![record("www", 300, RecordType::Url, "https://example.org/")]);
    let applied = conformance::plan_and_apply(&shop, &after).await;
    assert!(applied.report.is_complete(), "{:?}", applied.report.outcomes);
    assert_converged(&shop, &after, &PlanOptions::default()).await;
}

#[tokio::test]
async fn zones_errors_and_secrets() {
    let emulator = emulator(Faults::default()).await;
    let (_guard, lines) = capture();
    let shop = provider(&emulator, &secret());
    // The parked domain without the DNS service is named where it matters, not silently
    // skipped: among the zones zonectl cannot manage, and in the error of an edit of it.
    let zones = shop.list_zones().await.unwrap();
    assert_eq!(zones, [Name::parse("example.com").unwrap(), Name::parse("example.no").unwrap()]);
    let parked = Name::parse("parked.example").unwrap();
    assert_eq!(shop.unmanaged_zones().iter().map(|(z, _)| z).collect::<Vec<_>>(), [&parked]);
    assert_eq!(
        shop.list_records(&parked).await.unwrap_err().to_string(),
        "shop: unsupported: parked.example. has no DNS service at Domeneshop, so its records cannot be managed here"
    );
    // The seeded ANAME is left alone; the domain's name servers are its apex NS.
    let records = shop.list_records(&Name::parse("example.no").unwrap()).await.unwrap();
    let shown: Vec<String> = records.iter().map(|e| e.record.to_string()).collect();
    assert!(shown.contains(&"example.no. 3600 IN NS ns1.hyp.net.".to_owned()), "{shown:?}");
    assert!(!shown.iter().any(|r| r.contains("shop.example.no")), "{shown:?}");
    let err = shop.list_records(&Name::parse("not-mine.example").unwrap()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "shop: zone not-mine.example. (not a domain with the DNS service in this account) not found"
    );
    let wrong = provider(&emulator, "wrong-secret");
    let err = wrong.list_zones().await.unwrap_err();
    assert!(matches!(err, Error::Unauthenticated { .. }), "{err:?}");
    assert!(err.to_string().contains("DOMENESHOP_API_TOKEN / DOMENESHOP_API_SECRET"), "{err}");
    let everything = format!("{}\n{err}\n{err:?}\n{shop:?}", lines.lock().unwrap().join("\n"));
    assert!(!everything.contains(&secret()), "{everything}");
}

/// The provider's own dynamic DNS endpoint: both addresses at once, new record ids.
#[tokio::test]
async fn native_dynamic_dns() {
    let emulator = emulator(Faults::default()).await;
    let shop = provider(&emulator, &secret());
    let name = Name::parse("home.example.com").unwrap();
    let addresses = ["192.0.2.77".parse().unwrap(), "2001:db8::77".parse().unwrap()];
    shop.native_ddns(&name, &addresses).await.unwrap();
    let records = shop.list_records(&origin()).await.unwrap();
    let at: Vec<String> = records.iter().filter(|e| e.record.name == name).map(|e| e.record.data.to_string()).collect();
    assert_eq!(at, ["192.0.2.77", "2001:db8::77"]);
    assert!(
        emulator.request_log().iter().any(|e| e.path.starts_with("/v0/dyndns/update?hostname=home.example.com&myip="))
    );
    let _ = Duration::ZERO;
}

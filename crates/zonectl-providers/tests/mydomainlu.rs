//! mydomain.lu through its emulator: one order at a time, waited for, under faults too.

mod common;

use std::time::Duration;

use common::fast_retries;
use secrecy::SecretString;
use zonectl_core::conformance::{self, assert_converged};
use zonectl_core::plan::{self, ApplyOptions, PlanOptions};
use zonectl_core::provider::{Outcome, Provider};
use zonectl_core::{Name, RData, Record, Ttl, Zone};
use zonectl_emulator::mydomainlu::{MydomainLu as Emulated, Seed};
use zonectl_emulator::{Emulator, Faults, Options};
use zonectl_providers::mydomainlu::{MydomainLu, MydomainLuConfig, WaitPolicy};

const APEX_NS: &str = "{z}. 172800 IN NS ns1.pt.lu.\n{z}. 172800 IN NS ns2.pt.lu.\n";

/// An emulator whose orders take `delay` of real time.
async fn emulator(zones: &[&str], delay: Duration, faults: Faults) -> Emulator {
    let seed = Seed {
        zones: zones.iter().map(|z| ((*z).to_owned(), APEX_NS.replace("{z}", z))).collect(),
        // Several seconds on the service's clock, scaled down 100 times.
        order_delay: delay * 100,
        ..Seed::default()
    };
    Emulator::start(Emulated::new(seed), Options { faults, time_scale: 0.01, ..Options::default() }).await.unwrap()
}

fn provider(emulator: &Emulator, zones: &[&str], wait: WaitPolicy, lock_dir: Option<&std::path::Path>) -> MydomainLu {
    let seed = Seed::default();
    let zones = zones.iter().map(|z| Name::parse(z).unwrap()).collect();
    let mut config = MydomainLuConfig::new(seed.username, SecretString::from(seed.password), zones);
    config.endpoint = Some(emulator.endpoint());
    config.retry = fast_retries();
    config.wait = wait;
    config.lock_dir = lock_dir.map(ToOwned::to_owned);
    MydomainLu::new("mdl", config, None).unwrap()
}

fn quick_wait() -> WaitPolicy {
    WaitPolicy {
        first_poll: Duration::from_millis(5),
        max_poll: Duration::from_millis(20),
        timeout: Duration::from_secs(20),
    }
}

fn hosts(zone: &str, n: usize) -> Zone {
    let origin = Name::parse(zone).unwrap();
    let records = (0..n)
        .map(|i| {
            Record::new(
                Name::parse_relative(&format!("h{i}"), &origin).unwrap(),
                Ttl::from_secs(300).unwrap(),
                RData::A(std::net::Ipv4Addr::new(192, 0, 2, i as u8)),
            )
        })
        .collect();
    Zone::from_records(origin, records)
}

fn refused(emulator: &Emulator) -> u64 {
    emulator.state()["refused_while_pending"].as_u64().unwrap()
}

#[tokio::test]
async fn conformance() {
    let emulator = emulator(&["conformance.lu"], Duration::from_millis(10), Faults::default()).await;
    let mdl = provider(&emulator, &["conformance.lu"], quick_wait(), None);
    let fail_from = |after: Option<usize>| {
        emulator.set_faults(Faults { fail_writes_after: after.map(|n| n as u64), ..Faults::default() })
    };
    conformance::run_all(&mdl, &Name::parse("conformance.lu").unwrap(), Some(&fail_from)).await;
    assert_eq!(refused(&emulator), 0);
    assert!(emulator.request_log().iter().any(|e| e.status == 500), "the partial failure happened");
}

#[tokio::test]
async fn read_only_types_are_read_back() {
    let emulator = Emulator::start(
        Emulated::new(Seed { order_delay: Duration::from_millis(1), ..Seed::default() }),
        Options::default(),
    )
    .await
    .unwrap();
    let mdl = provider(&emulator, &["example.lu"], quick_wait(), None);
    let records = mdl.list_records(&Name::parse("example.lu").unwrap()).await.unwrap();
    let shown: Vec<String> = records.iter().map(|e| e.record.to_string()).collect();
    assert!(shown.contains(&"example.lu. 3600 IN MX 10 mx.hostpack.lu.".to_string()), "{shown:?}");
    assert!(shown.contains(&"example.lu. 172800 IN NS ns1.pt.lu.".to_string()));
    assert!(shown.contains(&"example.lu. 0 IN TXT \"v=spf1 include:spf-strict.hostpack.lu -all\"".to_string()));
    assert_eq!(shown.len(), 8);
    // Changing an MX is refused before anything is sent.
    let mut desired: Vec<Record> =
        records.iter().map(|e| e.record.clone()).filter(|r| r.rtype() != zonectl_core::RecordType::Mx).collect();
    desired.push(Record::new(
        Name::parse("example.lu").unwrap(),
        Ttl::from_secs(3600).unwrap(),
        RData::parse(zonectl_core::RecordType::Mx, "20 mx2.example.net.", None).unwrap(),
    ));
    let desired = Zone::from_records(Name::parse("example.lu").unwrap(), desired);
    let err = plan::plan(mdl.name(), mdl.capabilities(), &desired, records, &PlanOptions::default()).unwrap_err();
    assert_eq!(err.to_string(), "mdl: zone example.lu.: @ MX: mdl cannot change MX records (read-only there)");
    assert!(emulator.request_log().iter().all(|e| e.method == "GET"));
}

#[tokio::test]
async fn an_order_sent_without_waiting_fails() {
    let emulator = emulator(&["example.lu"], Duration::from_millis(300), Faults::default()).await;
    let seed = Seed::default();
    let client = reqwest::Client::new();
    let send = |host: &str| {
        client
            .patch(format!("{}/zones/example.lu/records/add/ARecord", emulator.endpoint()))
            .basic_auth(&seed.username, Some(&seed.password))
            .json(&serde_json::json!({"name": format!("{host}.example.lu."), "ttl": "300", "active": "true", "hostAddress": "192.0.2.1"}))
            .send()
    };
    let first: serde_json::Value = send("a").await.unwrap().json().await.unwrap();
    assert_eq!(first["code"], 1001);
    assert!(first["ticket"].is_string());
    let second = send("b").await.unwrap();
    assert_eq!(second.status().as_u16(), 400);
    let second: serde_json::Value = second.json().await.unwrap();
    assert_eq!(second["code"], 2502);
    assert!(second["errorMsg"][0].as_str().unwrap().contains(first["ticket"].as_str().unwrap()));
    assert_eq!(refused(&emulator), 1);
}

/// N changes are N orders, each sent only once the one before shows in the zone, and the
/// zone is re-read only a few times per order once the delay is learned: N orders take
/// about N delays. Checked on the emulator's request log, not on a clock a loaded machine
/// would stretch.
#[tokio::test]
async fn n_changes_are_n_orders_one_at_a_time() {
    let delay = Duration::from_millis(250);
    let emulator = emulator(&["example.lu"], delay, Faults::default()).await;
    // The default waiting, as users get it.
    let mdl = provider(&emulator, &["example.lu"], WaitPolicy::default(), None);
    let applied = conformance::plan_and_apply(&mdl, &hosts("example.lu", 8)).await;
    assert!(applied.report.is_complete());
    let log = emulator.request_log();
    let orders: Vec<usize> = log.iter().enumerate().filter(|(_, e)| e.method == "PATCH").map(|(i, _)| i).collect();
    assert_eq!(orders.len(), 8);
    assert_eq!(refused(&emulator), 0, "never an order while one was pending");
    for pair in orders.windows(2) {
        let (a, b) = (&log[pair[0]], &log[pair[1]]);
        assert!(b.at_ms - a.at_ms >= delay.as_millis() as u64, "an order was sent before the one before could be done");
        let reads = pair[1] - pair[0] - 1;
        // The first order learns the delay (a few doubling re-reads); the others sleep
        // about the delay and then re-read in steps of a twentieth of it, so a handful of
        // reads each (a load that slows the machine makes them fewer, not more). Polling
        // at the shortest step from the start would be some twenty.
        let most = if pair[0] == orders[0] { 6 } else { 8 };
        assert!((1..=most).contains(&reads), "{reads} re-reads between orders {} and {}", pair[0], pair[1]);
    }
}

/// Outside input cannot panic the waiting: a policy whose longest pause is below the
/// shortest step, or whose first pause is zero, still waits in sane steps.
#[tokio::test]
async fn odd_wait_policies_neither_panic_nor_spin() {
    let emulator = emulator(&["example.lu"], Duration::from_millis(30), Faults::default()).await;
    let odd =
        WaitPolicy { first_poll: Duration::ZERO, max_poll: Duration::from_micros(1), timeout: Duration::from_secs(20) };
    let mdl = provider(&emulator, &["example.lu"], odd, None);
    let applied = conformance::plan_and_apply(&mdl, &hosts("example.lu", 3)).await;
    assert!(applied.report.is_complete(), "{:?}", applied.report.outcomes);
    let reads = emulator.request_log().iter().filter(|e| e.method == "GET").count();
    // Orders of 30 ms re-read every 10 ms at the shortest: a few reads each, not thousands.
    assert!(reads < 40, "{reads} reads for 3 orders");
}

#[tokio::test]
async fn two_applies_on_one_account_take_turns() {
    let emulator = emulator(&["one.lu", "two.lu"], Duration::from_millis(40), Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let a = provider(&emulator, &["one.lu", "two.lu"], quick_wait(), Some(dir.path()));
    let b = provider(&emulator, &["one.lu", "two.lu"], quick_wait(), Some(dir.path()));
    let (one, two) = (hosts("one.lu", 5), hosts("two.lu", 5));
    let (ra, rb) = tokio::join!(conformance::plan_and_apply(&a, &one), conformance::plan_and_apply(&b, &two));
    assert!(ra.report.is_complete() && rb.report.is_complete());
    assert_eq!(refused(&emulator), 0);
    assert_converged(&a, &one, &PlanOptions::default()).await;
    assert_converged(&b, &two, &PlanOptions::default()).await;
}

#[tokio::test]
async fn an_order_past_the_wait_names_its_ticket_and_a_later_apply_picks_up() {
    let emulator = emulator(&["example.lu"], Duration::from_millis(200), Faults::default()).await;
    let impatient = WaitPolicy {
        first_poll: Duration::from_millis(5),
        max_poll: Duration::from_millis(10),
        timeout: Duration::from_millis(50),
    };
    let mdl = provider(&emulator, &["example.lu"], impatient, None);
    let desired = hosts("example.lu", 3);
    let applied = conformance::plan_and_apply(&mdl, &desired).await;
    let outcomes = &applied.report.outcomes;
    let Outcome::Unknown(err) = &outcomes[0] else { panic!("{outcomes:?}") };
    let text = err.to_string();
    assert!(text.contains("order 2603261350443200 (add h0.example.lu. A 192.0.2.0) not confirmed after "), "{text}");
    assert!(!text.contains("after 0s"), "the wait is shown as it was, not rounded to nothing: {text}");
    assert!(outcomes[1..].iter().all(|o| matches!(o, Outcome::NotAttempted)));
    // The next apply meets the order still pending, waits its turn, and completes.
    let patient = provider(&emulator, &["example.lu"], quick_wait(), None);
    let applied = conformance::plan_and_apply(&patient, &desired).await;
    assert!(applied.report.is_complete(), "{:?}", applied.report.outcomes);
    assert_converged(&patient, &desired, &PlanOptions::default()).await;
}

#[tokio::test]
async fn thirty_changes_converge_under_faults() {
    let faults = Faults { error_rate: 0.2, drop_after_commit_rate: 0.2, seed: 5, ..Faults::default() };
    let emulator = emulator(&["example.lu"], Duration::from_millis(30), faults).await;
    let mdl = provider(&emulator, &["example.lu"], quick_wait(), None);
    let origin = Name::parse("example.lu").unwrap();
    // 20 creates, then 10 changes (remove + add) and 10 deletes over the first set.
    let first = hosts("example.lu", 20);
    let mut second: Vec<Record> = hosts("example.lu", 10)
        .into_records()
        .into_iter()
        .map(|mut r| {
            r.data =
                RData::A(std::net::Ipv4Addr::new(198, 51, 100, r.name.labels().next().unwrap()[1..].parse().unwrap()));
            r
        })
        .collect();
    second.push(Record::new(
        Name::parse_relative("www", &origin).unwrap(),
        Ttl::from_secs(300).unwrap(),
        RData::Cname(Name::parse("h0.example.lu").unwrap()),
    ));
    let second = Zone::from_records(origin.clone(), second);
    for desired in [first, second] {
        for round in 0.. {
            assert!(round < 15, "no convergence");
            let Ok(current) = mdl.list_records(&origin).await else { continue };
            let planned =
                plan::plan(mdl.name(), mdl.capabilities(), &desired, current, &PlanOptions::default()).unwrap();
            if planned.is_empty() {
                break;
            }
            plan::apply(&mdl, &planned, &ApplyOptions { force: true, ..ApplyOptions::default() }).await.unwrap();
        }
        emulator.set_faults(Faults::default());
        assert_converged(&mdl, &desired, &PlanOptions::default()).await;
        emulator.set_faults(Faults { error_rate: 0.2, drop_after_commit_rate: 0.2, seed: 6, ..Faults::default() });
    }
    let log = emulator.request_log();
    assert!(log.iter().any(|e| e.dropped) && log.iter().any(|e| e.status >= 500), "the faults happened");
}

/// An order the service refuses names its record (it said "in the order" before).
#[tokio::test]
async fn a_refused_order_names_its_record() {
    let emulator = emulator(&["example.lu"], Duration::from_millis(10), Faults::default()).await;
    let mdl = provider(&emulator, &["example.lu"], quick_wait(), None);
    let origin = Name::parse("example.lu").unwrap();
    // A CNAME at the apex, beside its NS records: the service refuses it (EPP 2306). The
    // engine would refuse such a plan itself, so the change goes to the provider directly.
    let cname = Record::new(
        origin.clone(),
        Ttl::from_secs(300).unwrap(),
        RData::Cname(Name::parse("other.example.net").unwrap()),
    );
    let change = zonectl_core::provider::Change::Create(cname);
    let report = mdl.apply(&origin, std::slice::from_ref(&change)).await;
    let Outcome::Failed(err) = &report.outcomes[0] else { panic!("{:?}", report.outcomes) };
    assert!(
        err.to_string()
            .starts_with("mdl: zone example.lu.: invalid record example.lu. 300 IN CNAME other.example.net.: "),
        "{err}"
    );
}

/// The document says only that an order sent while another runs "will fail". Whichever way
/// the service does it — refused at once (2502), accepted with a ticket and dropped, or made
/// after the other — an apply that meets another tool's running order converges.
#[tokio::test]
async fn an_order_meeting_another_tools_order_converges_under_every_reading() {
    for reading in ["refused", "dropped", "late"] {
        let readings = [("busy_order".to_owned(), reading.to_owned())].into_iter().collect();
        // Orders take 500 ms: the apply's first order comes within a few milliseconds of
        // the other tool's (a read in between), and still does on a loaded CI machine (at
        // 60 ms, one full run out of several missed it).
        let emulator =
            emulator(&["busy.lu"], Duration::from_millis(500), Faults { readings, ..Faults::default() }).await;
        // Another tool's order, running as the apply starts.
        let seed = Seed::default();
        let other = reqwest::Client::new()
            .patch(format!("{}/zones/busy.lu/records/add/TXTRecord", emulator.endpoint()))
            .basic_auth(&seed.username, Some(&seed.password))
            .json(&serde_json::json!({"name": "other.busy.lu.", "ttl": "300", "active": "true", "text": "theirs"}))
            .send()
            .await
            .unwrap();
        assert!(other.status().is_success(), "{reading}");
        let wait = WaitPolicy { timeout: Duration::from_secs(20), ..quick_wait() };
        let mdl = provider(&emulator, &["busy.lu"], wait, None);
        let wanted = hosts("busy.lu", 2);
        let applied = conformance::plan_and_apply(&mdl, &wanted).await;
        assert!(applied.report.is_complete(), "{reading}: {:?}", applied.report.outcomes);
        let held = mdl.list_records(&Name::parse("busy.lu").unwrap()).await.unwrap();
        for i in 0..2 {
            let name = format!("h{i}.busy.lu.");
            assert_eq!(held.iter().filter(|e| e.record.name.as_str() == name).count(), 1, "{reading}: {name} once");
        }
        let state = emulator.state();
        match reading {
            "refused" => assert!(state["refused_while_pending"].as_u64().unwrap() >= 1, "{reading}: met the order"),
            "dropped" => assert!(state["dropped_while_pending"].as_u64().unwrap() >= 1, "{reading}: met the order"),
            _ => assert!(state["completed"].as_array().unwrap().len() >= 3, "{reading}: {state}"),
        }
    }
}

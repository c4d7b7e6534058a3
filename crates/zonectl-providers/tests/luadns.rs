//! LuaDNS through its emulator: the conformance suite, request counts, faults, errors,
//! retries, the rate limiter and secrets.

mod common;

use std::time::Duration;

use common::{capture, fast_retries};
use secrecy::SecretString;
use zonectl_core::conformance::{self, assert_converged};
use zonectl_core::generate::{Spec, zone};
use zonectl_core::plan::{self, ApplyOptions, PlanOptions};
use zonectl_core::provider::{Outcome, Provider};
use zonectl_core::{Error, Name, RData, Record, Ttl, Zone};
use zonectl_emulator::luadns::{LuaDns as Emulated, Seed};
use zonectl_emulator::{Emulator, Faults, Options};
use zonectl_providers::http::{Api, Auth, HttpClient, Request, RetryPolicy};
use zonectl_providers::luadns::{API, LuaDns, LuaDnsConfig};

async fn emulator(faults: Faults) -> Emulator {
    let options = Options { faults, time_scale: 0.001, ..Options::default() };
    Emulator::start(Emulated::new(Seed::default()), options).await.unwrap()
}

fn provider(emulator: &Emulator, key: &str) -> LuaDns {
    let mut config = LuaDnsConfig::new(Seed::default().email, SecretString::from(key.to_owned()));
    config.endpoint = Some(emulator.endpoint());
    config.retry = fast_retries();
    LuaDns::new("lua", config).unwrap()
}

/// A bare client of the emulator, as the provider has, with `api` and `retry`.
fn client(emulator: &Emulator, key: &str, api: Api, retry: RetryPolicy) -> HttpClient {
    let auth = Auth::Basic { user: Seed::default().email, password: SecretString::from(key.to_owned()) };
    HttpClient::new("lua", &emulator.endpoint(), auth, api, retry).unwrap()
}

fn good_key() -> String {
    Seed::default().api_key
}

fn origin() -> Name {
    Name::parse("example.com").unwrap()
}

/// `n` A records under `origin`.
fn hosts(n: usize, last_octet_offset: usize) -> Zone {
    let records = (0..n)
        .map(|i| {
            Record::new(
                Name::parse_relative(&format!("h{i}"), &origin()).unwrap(),
                Ttl::from_secs(300).unwrap(),
                RData::A(std::net::Ipv4Addr::new(192, 0, (i / 200) as u8, ((i + last_octet_offset) % 200) as u8)),
            )
        })
        .collect();
    Zone::from_records(origin(), records)
}

#[tokio::test]
async fn conformance() {
    let emulator = emulator(Faults::default()).await;
    let lua = provider(&emulator, &good_key());
    let fail_from = |after: Option<usize>| {
        emulator.set_faults(Faults { fail_writes_after: after.map(|n| n as u64), ..Faults::default() })
    };
    conformance::run_all(&lua, &origin(), Some(&fail_from)).await;
    let log = emulator.request_log();
    let refused = log.iter().filter(|e| e.status == 500).count();
    assert!(refused > 0, "the partial failure happened");
    assert!(log.iter().all(|e| e.status == 200 || e.status == 500), "{:?}", log.iter().find(|e| e.status != 200));
}

#[tokio::test]
async fn request_counts() {
    let emulator = emulator(Faults::default()).await;
    let lua = provider(&emulator, &good_key());
    conformance::plan_and_apply(&lua, &hosts(150, 0)).await;
    // 200 changes: 100 sets changed, 50 deleted, 50 created.
    let mut desired: Vec<Record> = hosts(100, 7).into_records();
    let created = hosts(200, 0)
        .into_records()
        .into_iter()
        .filter(|r| r.name.labels().next().unwrap()[1..].parse::<usize>().unwrap() >= 150);
    desired.extend(created);
    let desired = Zone::from_records(origin(), desired);
    let fresh = provider(&emulator, &good_key());
    emulator.clear_log();
    let applied = conformance::plan_and_apply(&fresh, &desired).await;
    assert!(applied.report.is_complete());
    let planned = &applied.report.outcomes;
    assert_eq!(planned.len(), 200, "200 set changes, in one PATCH and one delete_many");
    let log = emulator.request_log();
    assert!(log.len() <= 6, "{} requests: {log:#?}", log.len());
    emulator.clear_log();
    let again = provider(&emulator, &good_key());
    assert_converged(&again, &desired, &PlanOptions::default()).await;
    // assert_converged reads twice (once to compare, once to plan); a plan alone reads once.
    let reads = emulator.request_log().len();
    assert!(reads <= 3, "{reads}");
    emulator.clear_log();
    let current = again.list_records(&origin()).await.unwrap();
    let planned = plan::plan(again.name(), again.capabilities(), &desired, current, &PlanOptions::default()).unwrap();
    assert!(planned.is_empty());
    assert!(emulator.request_log().len() <= 2, "{:?}", emulator.request_log());
}

/// A generated zone LuaDNS can hold: no SOA or apex NS (LuaDNS's own), no types it lacks,
/// TTLs at or above the account's minimum.
fn luadns_zone(seed: u64, mutation: Option<u64>) -> Zone {
    use zonectl_core::RecordType;
    let mut desired = zone(&Spec { origin: origin(), records: 500, seed, url_records: false });
    if let Some(m) = mutation {
        desired = zonectl_core::generate::mutate(&desired, 5.0, m);
    }
    Zone::from_records(
        origin(),
        desired
            .into_records()
            .into_iter()
            .filter(|r| {
                let t = r.rtype();
                t != RecordType::Soa
                    && !(t == RecordType::Ns && r.name == origin())
                    && t.is_modeled()
                    && t != RecordType::Url
            })
            .map(|mut r| {
                r.ttl = Ttl::from_secs(r.ttl.as_secs().max(300)).unwrap();
                r
            })
            .collect(),
    )
}

/// Applies until nothing is left to do, as a user re-running `apply` would.
async fn converge(lua: &LuaDns, desired: &Zone, seed: u64) {
    for _ in 0..20 {
        let current = match lua.list_records(&origin()).await {
            Ok(c) => c,
            Err(e) if e.is_retryable() => continue,
            Err(e) => panic!("seed {seed}: {e}"),
        };
        let planned = plan::plan(lua.name(), lua.capabilities(), desired, current, &PlanOptions::default()).unwrap();
        if planned.is_empty() {
            return;
        }
        plan::apply(lua, &planned, &ApplyOptions { force: true, ..ApplyOptions::default() }).await.unwrap();
    }
    panic!("seed {seed}: no convergence in 20 applies");
}

#[tokio::test]
async fn faults_converge_without_duplicates_or_losses() {
    let (mut dropped, mut errors, mut limited) = (0, 0, 0);
    for seed in 1..=8u64 {
        let faults =
            Faults { error_rate: 0.2, rate_limit_burst: 3, drop_after_commit_rate: 0.3, seed, ..Faults::default() };
        let emulator = emulator(faults).await;
        let lua = provider(&emulator, &good_key());
        // Three different zones in a row: creates, then changes and deletes.
        for step in [None, Some(seed), Some(seed + 100)] {
            let desired = luadns_zone(seed, step);
            converge(&lua, &desired, seed).await;
            emulator.set_faults(Faults::default());
            // Exactly the desired records: nothing duplicated, nothing lost.
            assert_converged(&lua, &desired, &PlanOptions::default()).await;
            emulator.set_faults(Faults {
                error_rate: 0.2,
                drop_after_commit_rate: 0.3,
                seed: seed * 7 + 1,
                ..Faults::default()
            });
        }
        let log = emulator.request_log();
        dropped += log.iter().filter(|e| e.dropped).count();
        errors += log.iter().filter(|e| e.status >= 500).count();
        limited += log.iter().filter(|e| e.status == 429).count();
    }
    // The faults really happened, so the convergence above proves something.
    assert!(dropped >= 3 && errors >= 3 && limited >= 8, "dropped {dropped}, 5xx {errors}, 429 {limited}");
}

#[tokio::test]
async fn errors_name_provider_zone_and_cause() {
    let emulator = emulator(Faults::default()).await;

    let wrong_key = provider(&emulator, "not-the-key");
    let err = wrong_key.list_records(&origin()).await.unwrap_err();
    assert!(matches!(err, Error::Unauthenticated { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "lua: not authenticated: Invalid API Key (check the credentials, LUADNS_API_USERNAME / LUADNS_API_TOKEN)"
    );

    let lua = provider(&emulator, &good_key());
    let err = lua.list_records(&Name::parse("nothere.example").unwrap()).await.unwrap_err();
    assert_eq!(err.to_string(), "lua: zone nothere.example. not found");

    // A TTL under the account's minimum passes a provider configured with a lower minimum,
    // and the server's 400 array comes back as the record's error.
    let mut config = LuaDnsConfig::new(Seed::default().email, SecretString::from(good_key()));
    config.endpoint = Some(emulator.endpoint());
    config.min_ttl = 60;
    config.retry = fast_retries();
    let low = LuaDns::new("lua", config).unwrap();
    let mut desired = hosts(1, 0);
    desired.insert(Record::new(
        Name::parse("low.example.com").unwrap(),
        Ttl::from_secs(60).unwrap(),
        RData::A("192.0.2.9".parse().unwrap()),
    ));
    let current = low.list_records(&origin()).await.unwrap();
    let planned = plan::plan(low.name(), low.capabilities(), &desired, current, &PlanOptions::default()).unwrap();
    let applied = plan::apply(&low, &planned, &ApplyOptions::default()).await.unwrap();
    let failure = applied.report.outcomes.iter().find_map(|o| match o {
        Outcome::Failed(e) => Some(e.to_string()),
        _ => None,
    });
    // One request carried both sets: the server's answer cannot say which record it meant.
    assert_eq!(failure.unwrap(), "lua: zone example.com.: refused: ttl: TTL must be at least 300");

    // A key restricted to example.net: example.com is not visible, and a request on it by id
    // (learned with the global key) is refused with 403.
    let (restricted_key, _) = Seed::default().restricted_key.unwrap();
    let restricted = provider(&emulator, &restricted_key);
    assert_eq!(restricted.list_zones().await.unwrap(), [Name::parse("example.net").unwrap()]);
    let err = restricted.list_records(&origin()).await.unwrap_err();
    assert_eq!(err.to_string(), "lua: zone example.com. not found");
    let client = client(&emulator, &restricted_key, API, fast_retries());
    let answer = client.send(&Request::get("/zones/1/records")).await.unwrap();
    assert_eq!(answer.status.as_u16(), 403);
    assert!(String::from_utf8_lossy(&answer.body).contains("API key is restricted to zone example.net"));

    emulator.set_faults(Faults { rate_limit_burst: 100, ..Faults::default() });
    let err = lua.list_zones().await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }) && err.is_retryable(), "{err:?}");

    emulator.set_faults(Faults { error_rate: 1.0, ..Faults::default() });
    let err = lua.list_records(&origin()).await.unwrap_err();
    assert!(err.to_string().starts_with("lua: zone example.com.: HTTP 50"), "{err}");
    assert!(err.to_string().ends_with("with an empty body"), "{err}");
}

#[tokio::test]
async fn requests_that_are_not_idempotent_are_never_repeated_blindly() {
    let emulator = emulator(Faults { drop_after_commit_rate: 1.0, ..Faults::default() }).await;
    let client = client(&emulator, &good_key(), API, fast_retries());
    let body = serde_json::json!({"name": "once.example.com.", "type": "A", "content": "192.0.2.1", "ttl": 300});
    let create = Request::json(reqwest::Method::POST, "/zones/1/records", body, false);
    let err = client.send(&create).await.unwrap_err();
    assert!(matches!(err, Error::Transport { ambiguous: true, .. }), "{err:?}");
    assert_eq!(emulator.request_log().len(), 1, "sent once, not retried");
    // The server did commit it: the caller must re-read, as the error says it may have.
    emulator.set_faults(Faults::default());
    let lua = provider(&emulator, &good_key());
    let records = lua.list_records(&origin()).await.unwrap();
    assert_eq!(records.iter().filter(|e| e.record.name.as_str() == "once.example.com.").count(), 1);
    // An idempotent request under the same fault is retried until it gets an answer.
    emulator.set_faults(Faults { drop_after_commit_rate: 0.5, seed: 4, ..Faults::default() });
    let patch = Request::json(
        reqwest::Method::PATCH,
        "/zones/1/records",
        serde_json::json!([{"name": "twice.example.com.", "type": "A", "content": "192.0.2.2", "ttl": 300}]),
        true,
    );
    let answer = client.send(&patch).await.unwrap();
    assert_eq!(answer.status.as_u16(), 200);
}

#[tokio::test]
async fn a_thousand_changes_meet_no_rate_limit() {
    let emulator = emulator(Faults::default()).await;
    let lua = provider(&emulator, &good_key());
    let applied = conformance::plan_and_apply(&lua, &hosts(1000, 0)).await;
    assert!(applied.report.is_complete());
    assert_converged(&lua, &hosts(1000, 0), &PlanOptions::default()).await;
    let log = emulator.request_log();
    assert!(log.iter().all(|e| e.status != 429), "{log:?}");
    assert!(log.len() < 10);
}

#[tokio::test]
async fn no_secret_in_traces_errors_or_debug_output() {
    let emulator = emulator(Faults { error_rate: 0.5, seed: 9, ..Faults::default() }).await;
    let (_guard, lines) = capture();
    let lua = provider(&emulator, &good_key());
    let _ = conformance::plan_and_apply(&lua, &hosts(20, 0)).await;
    let wrong = provider(&emulator, &format!("{}-wrong", good_key()));
    let err = wrong.list_zones().await.unwrap_err();
    let mut everything = lines.lock().unwrap().join("\n");
    assert!(everything.contains("lua GET http://127.0.0.1:"), "the trace has request lines: {everything}");
    assert!(everything.contains("lua: retrying PATCH /zones/1/records in "), "the trace has retries: {everything}");
    assert!(everything.contains(" 50"), "the faults happened: {everything}");
    everything.push_str(&format!("\n{err}\n{err:?}\n{lua:?}\n{wrong:?}"));
    assert!(!everything.contains(&good_key()), "a secret leaked:\n{everything}");
}

/// Under drops after commit, every change whose answer was lost is reported as of unknown
/// outcome — never as failed — and the zone does hold them: a report that called them
/// failed would be a lie (it did, before).
#[tokio::test]
async fn lost_answers_are_unknown_outcomes_not_failures() {
    let emulator = emulator(Faults::default()).await;
    let lua = provider(&emulator, &good_key());
    let desired = hosts(6, 0);
    let planned = plan::plan(
        lua.name(),
        lua.capabilities(),
        &desired,
        lua.list_records(&origin()).await.unwrap(),
        &PlanOptions::default(),
    )
    .unwrap();
    emulator.set_faults(Faults { drop_after_commit_rate: 1.0, ..Faults::default() });
    let applied = plan::apply(&lua, &planned, &ApplyOptions { force: true, ..ApplyOptions::default() }).await.unwrap();
    assert_eq!(applied.report.outcomes.len(), 6);
    for outcome in &applied.report.outcomes {
        let Outcome::Unknown(e) = outcome else { panic!("{outcome:?}") };
        assert!(e.is_ambiguous() && !e.to_string().contains("lua: lua:"), "{e}");
    }
    emulator.set_faults(Faults::default());
    assert_converged(&lua, &desired, &PlanOptions::default()).await;
}

/// A dead API fails within the retry budget, however many attempts the policy allows:
/// each 429 asks for a second, and a budget of two and a half seconds leaves room for
/// three tries at most.
#[tokio::test]
async fn a_dead_api_fails_within_the_retry_budget() {
    let emulator = emulator(Faults { rate_limit_burst: 1000, ..Faults::default() }).await;
    let patient = RetryPolicy {
        attempts: 100,
        max_delay: Duration::from_secs(5),
        budget: Duration::from_millis(2500),
        ..fast_retries()
    };
    let client = client(&emulator, &good_key(), API, patient);
    let err = client.call(&Request::get("/zones"), Default::default()).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    let tries = emulator.request_log().len();
    assert!((1..=3).contains(&tries), "{tries} tries in a budget of 2.5 s with 1 s waits");
}

/// The client-side limiter keeps a burst of requests under the account's budget: 120
/// requests against a limit of 50 per (scaled) window meet no 429. Without the limiter the
/// same requests do, so the limit is really reached.
#[tokio::test]
async fn the_limiter_keeps_a_burst_under_the_budget() {
    let seed = Seed { rate_limit: 50, ..Seed::default() };
    // Windows of 300 s on the service's clock, 0.6 s on ours.
    let options = Options { time_scale: 0.002, ..Options::default() };
    let emulator = Emulator::start(Emulated::new(seed), options).await.unwrap();
    let limited = Api { rate_limit: Some((50, Duration::from_millis(600))), ..API };
    let no_retries = RetryPolicy { attempts: 1, ..fast_retries() };
    let paced = client(&emulator, &good_key(), limited, no_retries);
    for _ in 0..120 {
        let answer = paced.send(&Request::get("/users/me")).await.unwrap();
        assert_eq!(answer.status.as_u16(), 200);
    }
    assert!(emulator.request_log().iter().all(|e| e.status == 200));
    // The control: no limiter (and its own account, so it shares no budget), same requests.
    emulator.clear_log();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let unpaced = client(&emulator, &good_key(), Api { rate_limit: None, ..API }, no_retries);
    for _ in 0..120 {
        unpaced.send(&Request::get("/users/me")).await.unwrap();
    }
    assert!(emulator.request_log().iter().any(|e| e.status == 429), "the control never reached the limit");
}

/// An answer that is not what the API documents is a protocol error: not retried, not
/// retryable, whatever its status.
#[tokio::test]
async fn an_answer_that_cannot_be_read_is_not_retried() {
    use axum::routing::get;
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().route(
        "/v1/zones",
        get(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { "<html>maintenance</html>" }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut config = LuaDnsConfig::new("joe@example.com".into(), SecretString::from("k".to_owned()));
    config.endpoint = Some(format!("http://{addr}/v1"));
    config.retry = fast_retries();
    let lua = LuaDns::new("lua", config).unwrap();
    let err = lua.list_zones().await.unwrap_err();
    assert!(matches!(err, Error::Protocol { .. }) && !err.is_retryable(), "{err:?}");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
}

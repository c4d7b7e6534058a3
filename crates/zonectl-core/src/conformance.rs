//! The provider conformance suite: one set of scenarios, written once, that every provider
//! runs (the built-in ones directly, the HTTP ones through their emulators). Scenarios skip
//! what a provider's [`Capabilities`] say it cannot do.
//!
//! Each scenario plans a desired zone, applies it, then checks the provider's records
//! directly (not only that a second plan is empty, which would trust the planner to judge
//! itself) and that a second plan is empty.

use crate::name::Name;
use crate::plan::{self, ApplyOptions, IgnoreRule, PlanOptions};
use crate::provider::{Capabilities, Change, Existing, Outcome, Provider, TtlRule};
use crate::rdata::{RData, Txt};
use crate::record::{Record, Zone};
use crate::rtype::RecordType;
use crate::ttl::Ttl;

/// A hook that makes the provider's changes fail: `Some(n)` lets `n` more changes (or, for
/// an HTTP provider, requests that change something) through and fails every one after
/// them; `None` ends the failures.
pub type FailFrom<'a> = &'a (dyn Fn(Option<usize>) + Sync);

/// Runs every scenario against `provider` in `zone`, which the scenarios may overwrite.
/// `fail_from`, where the provider's test can inject failures, runs the partial-failure
/// scenario.
pub async fn run_all(provider: &dyn Provider, zone: &Name, fail_from: Option<FailFrom<'_>>) {
    create_and_read_back(provider, zone).await;
    ttl_rules(provider, zone).await;
    update_values_and_ttls(provider, zone).await;
    record_set_semantics(provider, zone).await;
    delete(provider, zone).await;
    txt_edge_cases(provider, zone).await;
    international_names(provider, zone).await;
    ignore_rules_keep_records(provider, zone).await;
    if let Some(fail_from) = fail_from {
        partial_failure_then_converge(provider, zone, fail_from).await;
    }
}

fn ttl(caps: &Capabilities, secs: u32) -> Ttl {
    // Pick a TTL the provider accepts: the nearest multiple of its step within its range.
    let secs = match caps.ttl {
        TtlRule::None => secs,
        TtlRule::Range { min, max, step, .. } => (secs.clamp(min, max) / step.max(1)) * step.max(1),
    };
    Ttl::from_secs(secs).expect("in range")
}

fn record(zone: &Name, name: &str, ttl: Ttl, rtype: RecordType, data: &str) -> Record {
    let name = Name::parse_relative(name, zone).expect("valid name");
    Record::new(name, ttl, RData::parse(rtype, data, Some(zone)).expect("valid data"))
}

/// The zone with only the records the provider can write: of its types, and passing its
/// own rule on data.
fn writable(caps: &Capabilities, zone: &Name, records: Vec<Record>) -> Zone {
    let fits = |r: &Record| caps.can_write(r.rtype()) && caps.data_rule.is_none_or(|rule| rule(&r.data).is_none());
    Zone::from_records(zone.clone(), records.into_iter().filter(fits).collect())
}

/// Plans and applies `desired` with default options and no confirmation, returning what
/// happened for the caller to judge (unlike [`sync`], which asserts success).
pub async fn plan_and_apply(provider: &dyn Provider, desired: &Zone) -> plan::Applied {
    let current = provider.list_records(desired.origin()).await.expect("list records");
    let planned =
        plan::plan(provider.name(), provider.capabilities(), desired, current, &PlanOptions::default()).expect("plan");
    plan::apply(provider, &planned, &ApplyOptions { force: true, ..ApplyOptions::default() }).await.expect("apply")
}

/// Plans and applies `desired`, asserting every operation succeeds and nothing remains.
pub async fn sync(provider: &dyn Provider, desired: &Zone, options: &PlanOptions) {
    let current = provider.list_records(desired.origin()).await.expect("list records");
    let planned = plan::plan(provider.name(), provider.capabilities(), desired, current, options).expect("plan");
    let applied =
        plan::apply(provider, &planned, &ApplyOptions { force: true, ..ApplyOptions::default() }).await.expect("apply");
    assert_eq!(applied.report.outcomes.len(), planned.operations.len(), "{}: one outcome per change", provider.name());
    for (change, outcome) in planned.operations.iter().zip(&applied.report.outcomes) {
        assert!(matches!(outcome, Outcome::Done), "{}: {change}: {outcome:?}", provider.name());
    }
    assert_converged(provider, desired, options).await;
}

/// Whether the provider's records show `change` made (TXT and TTLs compared as the provider
/// keeps them).
fn shows(caps: &Capabilities, held: &[Existing], change: &Change) -> bool {
    let same = |a: &Record, b: &Record| {
        let data = |r: &Record| match &r.data {
            RData::Txt(t) if !caps.txt_strings_kept => RData::Txt(t.normalized()),
            other => other.clone(),
        };
        a.name == b.name && data(a) == data(b) && (!caps.keeps_ttl(a.rtype()) || a.ttl == b.ttl)
    };
    let has = |r: &Record| held.iter().any(|e| same(&e.record, r));
    match change {
        Change::Create(r) => has(r),
        Change::Update { to, .. } => has(to),
        Change::Delete(e) => !has(&e.record),
        Change::ReplaceSet { name, rtype, records, .. } => {
            let set: Vec<&Record> =
                held.iter().map(|e| &e.record).filter(|r| r.name == *name && r.rtype() == *rtype).collect();
            set.len() == records.len() && records.iter().all(has)
        }
    }
}

/// Checks that the provider holds exactly `desired` (managed records, compared as the
/// provider stores them, TTLs as the options round them), and that planning again finds
/// nothing to do.
pub async fn assert_converged(provider: &dyn Provider, desired: &Zone, options: &PlanOptions) {
    let caps = provider.capabilities();
    let origin = desired.origin();
    let current = provider.list_records(origin).await.expect("list records");
    let managed = |r: &Record| options.manages(caps, origin, &r.name, r.rtype());
    let key = |r: &Record| {
        let data = match &r.data {
            RData::Txt(t) if !caps.txt_strings_kept => RData::Txt(t.normalized()),
            RData::Soa(s) => RData::Soa(Box::new(crate::rdata::Soa { serial: 0, ..(**s).clone() })),
            other => other.clone(),
        };
        let ttl = match options.ttl_policy {
            plan::TtlPolicy::Round => caps.ttl.round(r.ttl),
            plan::TtlPolicy::Refuse => r.ttl,
        };
        let ttl = if caps.keeps_ttl(r.rtype()) { ttl.as_secs() } else { 0 };
        (r.name.clone(), data, ttl)
    };
    let mut have: Vec<_> = current.iter().map(|e| &e.record).filter(|r| managed(r)).map(key).collect();
    let mut want: Vec<_> = desired.records().iter().filter(|r| managed(r)).map(key).collect();
    have.sort();
    want.sort();
    assert_eq!(have, want, "{}: the provider does not hold the desired zone", provider.name());
    let again = plan::plan(provider.name(), caps, desired, current, options).expect("plan");
    assert!(again.is_empty(), "{}: a second plan is not empty:\n{}", provider.name(), again.to_text(false));
}

/// Every writable type, created in an empty zone and read back.
pub async fn create_and_read_back(provider: &dyn Provider, zone: &Name) {
    let caps = provider.capabilities();
    let t = ttl(caps, 300);
    let desired = writable(
        caps,
        zone,
        vec![
            record(zone, "www", t, RecordType::A, "192.0.2.1"),
            record(zone, "www", t, RecordType::Aaaa, "2001:db8::1"),
            record(zone, "alias", t, RecordType::Cname, "www"),
            record(zone, "@", t, RecordType::Mx, "10 mail"),
            record(zone, "@", t, RecordType::Txt, "\"v=spf1 -all\""),
            record(zone, "_sip._tcp", t, RecordType::Srv, "10 5 5060 sip"),
            record(zone, "@", t, RecordType::Caa, "0 issue \"letsencrypt.org\""),
            record(
                zone,
                "host",
                t,
                RecordType::Sshfp,
                "4 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            ),
            record(
                zone,
                "_443._tcp.www",
                t,
                RecordType::Tlsa,
                "3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            ),
            record(zone, "sub", t, RecordType::Ns, "ns1.example.net."),
            record(
                zone,
                "sub",
                t,
                RecordType::Ds,
                "12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            ),
            record(zone, "ptr", t, RecordType::Ptr, "host.example.net."),
            record(zone, "go", t, RecordType::Url, "301 https://example.org/"),
            record(zone, "moved", t, RecordType::Url, "302 https://example.org/for-now"),
            record(zone, "framed", t, RecordType::Url, "frame https://example.org/framed"),
        ],
    );
    sync(provider, &desired, &PlanOptions::default()).await;
}

/// A TTL the provider's rule refuses is refused before anything is sent, naming the
/// record; asked to round, the plan uses the nearest allowed TTL and converges on it.
pub async fn ttl_rules(provider: &dyn Provider, zone: &Name) {
    let caps = provider.capabilities();
    let TtlRule::Range { min, step, .. } = caps.ttl else { return };
    // A TTL off the rule: under the minimum, or off the step.
    let off = if min > 0 {
        min - 1
    } else if step > 1 {
        step + 1
    } else {
        return;
    };
    if !caps.can_write(RecordType::A) {
        return;
    }
    let desired = Zone::from_records(
        zone.clone(),
        vec![record(zone, "ttl", Ttl::from_secs(off).expect("in range"), RecordType::A, "192.0.2.33")],
    );
    let current = provider.list_records(zone).await.expect("list records");
    let err = plan::plan(provider.name(), caps, &desired, current.clone(), &PlanOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&format!("ttl A: TTL {off} ")), "{}: {text}", provider.name());
    let round = PlanOptions { ttl_policy: plan::TtlPolicy::Round, ..PlanOptions::default() };
    let planned = plan::plan(provider.name(), caps, &desired, current, &round).expect("a rounded plan");
    let rounded = caps.ttl.round(Ttl::from_secs(off).expect("in range"));
    assert!(caps.ttl.check(rounded).is_none());
    let shown = planned.changes.iter().find(|c| c.name == desired.records()[0].name).and_then(|c| c.after.as_ref());
    assert_eq!(shown.map(|a| a.ttl), Some(rounded), "the plan shows the rounded TTL");
    sync(provider, &desired, &round).await;
    let held = provider.list_records(zone).await.expect("list records");
    assert!(held.iter().any(|e| e.record.name == desired.records()[0].name && e.record.ttl == rounded));
    sync(provider, &Zone::new(zone.clone()), &PlanOptions::default()).await;
}

/// Values and TTLs change; sets that did not change stay.
pub async fn update_values_and_ttls(provider: &dyn Provider, zone: &Name) {
    let caps = provider.capabilities();
    let (t1, t2) = (ttl(caps, 300), ttl(caps, 3600));
    let before = writable(
        caps,
        zone,
        vec![
            record(zone, "a", t1, RecordType::A, "192.0.2.1"),
            record(zone, "b", t1, RecordType::A, "192.0.2.2"),
            record(zone, "c", t1, RecordType::Txt, "\"old\""),
        ],
    );
    sync(provider, &before, &PlanOptions::default()).await;
    let after = writable(
        caps,
        zone,
        vec![
            record(zone, "a", t1, RecordType::A, "192.0.2.1"),
            record(zone, "b", t2, RecordType::A, "192.0.2.20"),
            record(zone, "c", t2, RecordType::Txt, "\"new\""),
        ],
    );
    sync(provider, &after, &PlanOptions::default()).await;
}

/// A set of several values: one added, one removed, the rest untouched.
pub async fn record_set_semantics(provider: &dyn Provider, zone: &Name) {
    let caps = provider.capabilities();
    let t = ttl(caps, 300);
    let set =
        |ips: &[&str]| writable(caps, zone, ips.iter().map(|ip| record(zone, "pool", t, RecordType::A, ip)).collect());
    sync(provider, &set(&["192.0.2.1", "192.0.2.2", "192.0.2.3"]), &PlanOptions::default()).await;
    sync(provider, &set(&["192.0.2.2", "192.0.2.3", "192.0.2.4"]), &PlanOptions::default()).await;
}

/// Everything managed goes away.
pub async fn delete(provider: &dyn Provider, zone: &Name) {
    sync(provider, &Zone::new(zone.clone()), &PlanOptions::default()).await;
}

/// TXT values that break peer tools: empty, 255/256/510 octets, quotes, backslashes,
/// semicolons, non-ASCII, several strings.
pub async fn txt_edge_cases(provider: &dyn Provider, zone: &Name) {
    let caps = provider.capabilities();
    if !caps.can_write(RecordType::Txt) {
        return;
    }
    let t = ttl(caps, 300);
    let txt = |name: &str, txt: Txt| Record::new(Name::parse_relative(name, zone).expect("valid"), t, RData::Txt(txt));
    let desired = Zone::from_records(
        zone.clone(),
        vec![
            txt("empty", Txt::from_value("")),
            txt("t255", Txt::from_value("a".repeat(255))),
            txt("t256", Txt::from_value("b".repeat(256))),
            txt("t510", Txt::from_value("c".repeat(510))),
            txt("quotes", Txt::from_value("say \"hi\"")),
            txt("backslash", Txt::from_value("a\\b\\\\c")),
            txt("semicolon", Txt::from_value("v=DKIM1; k=rsa; p=MIIB")),
            txt("unicode", Txt::from_value("café ✓")),
            txt("multi", Txt::from_strings(["first ", "second"])),
        ],
    );
    sync(provider, &desired, &PlanOptions::default()).await;
}

/// Unicode names go in as A-labels and come back the same.
pub async fn international_names(provider: &dyn Provider, zone: &Name) {
    let caps = provider.capabilities();
    let t = ttl(caps, 300);
    let desired = writable(
        caps,
        zone,
        vec![
            record(zone, "bücher", t, RecordType::A, "192.0.2.7"),
            record(zone, "straße", t, RecordType::Txt, "\"idn\""),
        ],
    );
    assert!(desired.records().iter().all(|r| r.name.as_str().starts_with("xn--")));
    sync(provider, &desired, &PlanOptions::default()).await;
}

/// A record the user does not manage survives a sync that does not mention it.
pub async fn ignore_rules_keep_records(provider: &dyn Provider, zone: &Name) {
    let caps = provider.capabilities();
    if !caps.can_write(RecordType::Txt) {
        return;
    }
    let t = ttl(caps, 300);
    let foreign = record(zone, "_acme-challenge.www", t, RecordType::Txt, "\"token-from-another-tool\"");
    let with_foreign = writable(caps, zone, vec![foreign.clone(), record(zone, "www", t, RecordType::A, "192.0.2.1")]);
    sync(provider, &with_foreign, &PlanOptions::default()).await;

    let options = PlanOptions {
        ignore: vec![IgnoreRule { name: "_acme-challenge*".into(), rtype: None }],
        ..PlanOptions::default()
    };
    let without = writable(caps, zone, vec![record(zone, "www", t, RecordType::A, "192.0.2.9")]);
    sync(provider, &without, &options).await;
    let current: Vec<Existing> = provider.list_records(zone).await.expect("list records");
    assert!(
        current.iter().any(|e| e.record.name == foreign.name && e.record.data == foreign.data),
        "{}: the ignored record was deleted",
        provider.name()
    );
    // Clean up with the rule off.
    sync(provider, &Zone::new(zone.clone()), &PlanOptions::default()).await;
}

/// An apply that fails midway reports what was and was not done — truthfully: every change
/// called done is in the zone, every change called failed is not — and applying the same
/// desired zone again converges.
pub async fn partial_failure_then_converge(provider: &dyn Provider, zone: &Name, fail_from: FailFrom<'_>) {
    let caps = provider.capabilities();
    let t = ttl(caps, 300);
    let desired = writable(
        caps,
        zone,
        (1..=6).map(|i| record(zone, &format!("h{i}"), t, RecordType::A, &format!("192.0.2.{i}"))).collect(),
    );
    let current = provider.list_records(zone).await.expect("list records");
    let planned = plan::plan(provider.name(), caps, &desired, current, &PlanOptions::default()).expect("plan");
    assert!(planned.operations.len() >= 3, "enough operations to fail in the middle");
    // A provider that sends every change in one request can only fail them all.
    fail_from(Some(if caps.bulk { 0 } else { 2 }));
    let applied =
        plan::apply(provider, &planned, &ApplyOptions { force: true, ..ApplyOptions::default() }).await.expect("apply");
    fail_from(None);
    let outcomes = &applied.report.outcomes;
    let name = provider.name();
    assert_eq!(outcomes.len(), planned.operations.len(), "{name}: one outcome per change");
    assert!(!applied.report.is_complete(), "{name}: nothing failed: {outcomes:?}");
    let first = outcomes.iter().position(|o| !matches!(o, Outcome::Done)).expect("a change did not complete");
    assert!(outcomes[first].error().is_some(), "{name}: {:?}", outcomes[first]);
    if caps.bulk {
        // One request carried them all: they share its fate.
        assert!(outcomes.iter().all(|o| !matches!(o, Outcome::Done)), "{name}: {outcomes:?}");
    } else {
        // Two writes got through, whichever changes a provider that works on several names
        // at once sent first.
        let done = outcomes.iter().filter(|o| matches!(o, Outcome::Done)).count();
        assert_eq!(done, 2, "{name}: the first two changes went through: {outcomes:?}");
    }
    let held = provider.list_records(zone).await.expect("list records");
    for (change, outcome) in planned.operations.iter().zip(outcomes) {
        match outcome {
            Outcome::Done => assert!(shows(caps, &held, change), "{name}: {change} reported done but not made"),
            Outcome::Failed(_) | Outcome::NotAttempted => {
                assert!(!shows(caps, &held, change), "{name}: {change} reported {outcome:?} but made");
            }
            // The one outcome that makes no claim.
            Outcome::Unknown(_) => {}
        }
    }
    sync(provider, &desired, &PlanOptions::default()).await;
    sync(provider, &Zone::new(zone.clone()), &PlanOptions::default()).await;
}

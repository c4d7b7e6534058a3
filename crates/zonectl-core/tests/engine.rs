//! The plan engine's guards and orderings, each tested so that removing it fails a test.

use zonectl_core::plan::{self, ApplyOptions, PlanOptions, Safety};
use zonectl_core::provider::memory::InMemory;
use zonectl_core::provider::zonefile::ZoneFiles;
use zonectl_core::provider::{Change, Provider, TtlRule, UpdateStyle};
use zonectl_core::zonefile::{self, ReadOptions};
use zonectl_core::{Error, Name, RData, RecordType, Zone};

fn zone_of(text: &str) -> Zone {
    let text = format!("$ORIGIN example.com.\n$TTL 300\n{text}");
    let options = ReadOptions { allow_empty: true, ..ReadOptions::default() };
    zonefile::read_str(&text, "example.com.zone", &options).unwrap().zone
}

fn hosts(n: usize) -> String {
    (0..n).map(|i| format!("h{i} A 192.0.2.{i}\n")).collect()
}

async fn provider_with(style: UpdateStyle, zone: &Zone) -> InMemory {
    let p = InMemory::with_style("mem", style);
    p.put_zone(zone);
    p
}

async fn plan_for(p: &dyn Provider, desired: &Zone) -> zonectl_core::Result<plan::Plan> {
    let current = p.list_records(desired.origin()).await?;
    plan::plan(p.name(), p.capabilities(), desired, current, &PlanOptions::default())
}

#[tokio::test]
async fn large_deletions_need_force() {
    let current = zone_of(&hosts(20));
    let p = provider_with(UpdateStyle::RecordSet, &current).await;
    // 7 of 20 deleted: 35% > 30%.
    let desired = zone_of(&hosts(13));
    let planned = plan_for(&p, &desired).await.unwrap();
    assert_eq!(planned.summary.delete, 7);
    let err = plan::apply(&p, &planned, &ApplyOptions::default()).await.unwrap_err();
    let Error::Refused { problems, .. } = &err else { panic!("{err}") };
    assert_eq!(problems.len(), 1);
    assert!(problems[0].contains("7 of 20 records (35%)"), "{}", problems[0]);
    assert_eq!(p.list_records(desired.origin()).await.unwrap().len(), 20, "nothing was sent");

    // 6 of 20 (30%) is allowed; a threshold can be set per zone.
    let planned_six = plan_for(&p, &zone_of(&hosts(14))).await.unwrap();
    assert!(planned_six.safety_problems(&Safety::default()).is_empty());
    let strict = Safety { max_change_ratio: 0.1, min_records: 10 };
    assert_eq!(planned_six.safety_problems(&strict).len(), 1);

    let forced = plan::apply(&p, &planned, &ApplyOptions { force: true, ..ApplyOptions::default() }).await.unwrap();
    assert!(forced.report.is_complete());
    assert_eq!(p.list_records(desired.origin()).await.unwrap().len(), 13);
}

#[tokio::test]
async fn a_value_added_to_a_large_set_touches_none_of_the_others() {
    // Twelve TXT values at one name (an ACME name during a busy renewal): adding a
    // thirteenth is no risk to the twelve, however the provider sends it.
    let values = |n: usize| (0..n).map(|i| format!("_acme-challenge TXT \"value-{i}\"\n")).collect::<String>();
    let p = provider_with(UpdateStyle::RecordSet, &zone_of(&values(12))).await;
    let adding = plan_for(&p, &zone_of(&values(13))).await.unwrap();
    assert!(adding.safety_problems(&Safety::default()).is_empty(), "{:?}", adding.safety_problems(&Safety::default()));
    // Taking four away is a third of them.
    let removing = plan_for(&p, &zone_of(&values(8))).await.unwrap();
    let problems = removing.safety_problems(&Safety::default());
    assert!(problems[0].contains("4 of 12 records (33%)"), "{problems:?}");
    // A new TTL for the set touches every record of it.
    let retimed =
        plan_for(&p, &zone_of(&values(12).replace("_acme-challenge TXT", "_acme-challenge 600 TXT"))).await.unwrap();
    assert!(retimed.safety_problems(&Safety::default())[0].contains("12 of 12"));
}

#[tokio::test]
async fn small_zones_are_not_held_to_the_ratio() {
    let p = provider_with(UpdateStyle::RecordSet, &zone_of(&hosts(9))).await;
    let planned = plan_for(&p, &zone_of("")).await.unwrap();
    assert!(planned.safety_problems(&Safety::default()).is_empty());
}

#[tokio::test]
async fn apex_ns_changes_need_force() {
    let p = provider_with(UpdateStyle::RecordSet, &zone_of("@ NS ns1.example.net.\nwww A 192.0.2.1\n")).await;
    let planned = plan_for(&p, &zone_of("@ NS ns2.example.net.\nwww A 192.0.2.1\n")).await.unwrap();
    let problems = planned.safety_problems(&Safety::default());
    assert_eq!(problems, ["the plan changes the apex NS records, which is refused without --force"]);
    assert!(plan::apply(&p, &planned, &ApplyOptions::default()).await.is_err());
    // Deleting them is refused too; creating them in a zone that had none is not.
    let deleting = plan_for(&p, &zone_of("www A 192.0.2.1\n")).await.unwrap();
    assert_eq!(deleting.safety_problems(&Safety::default()).len(), 1);
    let fresh = provider_with(UpdateStyle::RecordSet, &zone_of("")).await;
    let creating = plan_for(&fresh, &zone_of("@ NS ns1.example.net.\n")).await.unwrap();
    assert!(creating.safety_problems(&Safety::default()).is_empty());
}

#[tokio::test]
async fn capability_violations_refuse_the_whole_plan_before_sending() {
    let mut p = InMemory::new("strict");
    let mut caps = p.capabilities().clone();
    caps.ttl = TtlRule::Range { min: 60, max: 604_800, step: 60, default: 3600 };
    caps.record_types.retain(|t| *t != RecordType::Sshfp);
    caps.read_only_types.push(RecordType::Mx);
    p.set_capabilities(caps);
    p.put_zone(&zone_of("@ MX 10 mail\n"));
    let desired = zone_of("ok A 192.0.2.1\nodd 90 A 192.0.2.2\nkey SSHFP 4 2 abcd\n@ MX 20 mail\n");
    let err = plan_for(&p, &desired).await.unwrap_err();
    let Error::Refused { problems, .. } = &err else { panic!("{err}") };
    assert_eq!(
        problems,
        &[
            "@ MX: strict cannot change MX records (read-only there)",
            "key SSHFP: strict does not support SSHFP records",
            "odd A: TTL 90 is not a multiple of 60, which strict refuses; the nearest TTL it allows is 120 \
             (--ttl-policy round uses it)",
        ]
    );
    assert_eq!(
        err.to_string(),
        "strict: zone example.com.: @ MX: strict cannot change MX records (read-only there) (and 2 more problems)"
    );
    // The valid record was not created either.
    assert_eq!(p.list_records(desired.origin()).await.unwrap().len(), 1);
}

#[tokio::test]
async fn zones_built_in_code_are_checked_too() {
    let p = InMemory::new("mem");
    p.put_zone(&zone_of(""));
    let origin: Name = "example.com".parse().unwrap();
    let ttl = zonectl_core::Ttl::from_secs(300).unwrap();
    let a = |name: &str| zonectl_core::Record::new(name.parse().unwrap(), ttl, RData::A("192.0.2.1".parse().unwrap()));
    let cname = zonectl_core::Record::new(
        "www.example.com".parse().unwrap(),
        ttl,
        RData::Cname("x.example.net".parse().unwrap()),
    );
    let desired = Zone::from_records(origin, vec![a("www.example.net"), a("www.example.com"), cname]);
    let err = plan_for(&p, &desired).await.unwrap_err();
    let Error::Refused { problems, .. } = err else { panic!() };
    assert_eq!(problems, ["www.example.net.: outside the zone example.com.", "www: CNAME and other data at one name"]);
}

#[tokio::test]
async fn cname_replacing_other_data_deletes_first() {
    for style in [UpdateStyle::RecordSet, UpdateStyle::PerRecord, UpdateStyle::RemoveAdd] {
        let p = provider_with(style, &zone_of("www A 192.0.2.1\nwww AAAA 2001:db8::1\n")).await;
        let planned = plan_for(&p, &zone_of("www CNAME web.example.net.\n")).await.unwrap();
        let kinds: Vec<&'static str> = planned
            .operations
            .iter()
            .map(|c| match c {
                Change::ReplaceSet { records, .. } if records.is_empty() => "delete",
                Change::Delete(_) => "delete",
                _ => "write",
            })
            .collect();
        let first_write = kinds.iter().position(|k| *k == "write").unwrap();
        assert!(
            kinds[..first_write].len() >= 2 && kinds[first_write..].iter().all(|k| *k == "write"),
            "{style:?}: {kinds:?}"
        );
    }
}

#[tokio::test]
async fn remove_add_adds_before_removing_but_not_for_cnames() {
    let p = provider_with(UpdateStyle::RemoveAdd, &zone_of("www A 192.0.2.1\nalias CNAME old.example.net.\n")).await;
    let planned = plan_for(&p, &zone_of("www A 192.0.2.2\nalias CNAME new.example.net.\n")).await.unwrap();
    let shown: Vec<String> = planned.operations.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "delete alias.example.com. 300 IN CNAME old.example.net.",
            "create alias.example.com. 300 IN CNAME new.example.net.",
            "create www.example.com. 300 IN A 192.0.2.2",
            "delete www.example.com. 300 IN A 192.0.2.1",
        ]
    );
}

#[tokio::test]
async fn per_record_updates_in_place() {
    let p = provider_with(UpdateStyle::PerRecord, &zone_of("www A 192.0.2.1\nttl A 192.0.2.5\n")).await;
    let planned = plan_for(&p, &zone_of("www A 192.0.2.2\nttl 600 A 192.0.2.5\n")).await.unwrap();
    assert!(planned.operations.iter().all(|c| matches!(c, Change::Update { .. })), "{:?}", planned.operations);
    assert_eq!(planned.operations.len(), 2);
}

#[tokio::test]
async fn provider_owned_soa_and_ns_and_txt_splits() {
    let mut p = InMemory::new("owner");
    let mut caps = p.capabilities().clone();
    caps.owns_soa = true;
    caps.owns_apex_ns = true;
    caps.txt_strings_kept = false;
    caps.ttl = TtlRule::None;
    p.set_capabilities(caps);
    p.put_zone(&zone_of("@ SOA ns.provider. host.provider. 7 1 1 1 1\n@ NS ns.provider.\nt TXT \"ab\"\n"));
    // The desired zone has other SOA/NS, a split TXT with the same value, another TTL.
    let desired = zone_of("@ SOA ns1 host 1 2 3 4 5\n@ NS ns1.example.net.\nt 900 TXT \"a\" \"b\"\n");
    let planned = plan_for(&p, &desired).await.unwrap();
    assert!(planned.is_empty(), "{}", planned.to_text(false));
    let managing = plan::plan(
        p.name(),
        p.capabilities(),
        &desired,
        p.list_records(desired.origin()).await.unwrap(),
        &PlanOptions { manage_provider_records: true, ..PlanOptions::default() },
    )
    .unwrap();
    assert_eq!(managing.summary.update, 2);
}

#[tokio::test]
async fn soa_serial_differences_are_not_changes() {
    let p = provider_with(UpdateStyle::RecordSet, &zone_of("@ SOA ns1 host 2026112201 2 3 4 5\n")).await;
    assert!(plan_for(&p, &zone_of("@ SOA ns1 host 1 2 3 4 5\n")).await.unwrap().is_empty());
    assert!(!plan_for(&p, &zone_of("@ SOA ns1 host 1 2 3 4 6\n")).await.unwrap().is_empty());
}

#[tokio::test]
async fn apply_backs_up_first_and_renders() {
    let current = zone_of("www A 192.0.2.1\nold TXT \"gone soon\"\n");
    let p = provider_with(UpdateStyle::RecordSet, &current).await;
    let desired = zone_of("www 600 A 192.0.2.2\nnew MX 10 mail\n");
    let planned = plan_for(&p, &desired).await.unwrap();
    assert_eq!(
        planned.to_text(false),
        "zone example.com. at mem (2 managed records)\n\
         + new 300 IN MX 10 mail\n\
         - old 300 IN TXT \"gone soon\"\n\
         ~ www A: www 300 IN A 192.0.2.1 → www 600 IN A 192.0.2.2\n\
         Plan: 1 to create, 1 to update, 1 to delete.\n"
    );
    let json = serde_json::to_value(&planned).unwrap();
    assert_eq!(json["summary"], serde_json::json!({"create": 1, "update": 1, "delete": 1}));
    assert_eq!(json["changes"][2]["after"], serde_json::json!({"ttl": 600, "data": ["192.0.2.2"]}));
    assert_eq!(json["changes"][0]["action"], "create");
    assert!(planned.to_markdown().contains("| ~ | `www` | A | 300 `192.0.2.1` | 600 `192.0.2.2` |"));

    let dir = tempfile::tempdir().unwrap();
    let options = ApplyOptions { backup_dir: Some(dir.path().to_owned()), ..ApplyOptions::default() };
    let applied = plan::apply(&p, &planned, &options).await.unwrap();
    let backup = applied.backup.unwrap();
    assert!(backup.starts_with(dir.path().join("mem/example.com")));
    let saved = zonefile::read_file(&backup, &ReadOptions::default()).unwrap().zone;
    assert_eq!(saved, current, "the backup holds the zone as it was before the change");
}

#[tokio::test]
async fn zonefile_provider_bumps_the_serial_and_keeps_canonical_form() {
    let dir = tempfile::tempdir().unwrap();
    let p = ZoneFiles::new("files", dir.path()).with_today(|| (2026, 11, 22));
    let desired = zone_of("@ SOA ns1 host 2024010101 2 3 4 5\n@ NS ns1.example.net.\nwww A 192.0.2.1\n");
    let planned = plan_for(&p, &desired).await.unwrap();
    plan::apply(&p, &planned, &ApplyOptions { force: true, ..ApplyOptions::default() }).await.unwrap();
    let text = std::fs::read_to_string(dir.path().join("example.com.zone")).unwrap();
    assert!(text.contains("SOA ns1 host 2026112200 2 3 4 5"), "{text}");
    assert_eq!(text, zonefile::to_string(&zonefile::read_str(&text, "x", &ReadOptions::default()).unwrap().zone));
    assert!(plan_for(&p, &desired).await.unwrap().is_empty(), "the bumped serial is not a change");
    let changed = zone_of("@ SOA ns1 host 2024010101 2 3 4 5\n@ NS ns1.example.net.\nwww A 192.0.2.9\n");
    let planned = plan_for(&p, &changed).await.unwrap();
    plan::apply(&p, &planned, &ApplyOptions::default()).await.unwrap();
    let text = std::fs::read_to_string(dir.path().join("example.com.zone")).unwrap();
    assert!(text.contains("2026112201"), "{text}");
    assert_eq!(p.list_zones().await.unwrap(), [Name::parse("example.com").unwrap()]);
    let www: Vec<RData> = p
        .list_records(desired.origin())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.record.name.as_str() == "www.example.com.")
        .map(|e| e.record.data)
        .collect();
    assert_eq!(www, [RData::A("192.0.2.9".parse().unwrap())]);
}

#[tokio::test]
async fn zonefile_provider_refuses_a_file_with_data_outside_the_zone() {
    // `check` skips such lines with a warning; the provider writes the zone back on apply,
    // so skipping them would delete them.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("example.com.zone");
    let original = "$ORIGIN example.com.\n$TTL 300\nwww A 192.0.2.1\nwww.example.net. A 192.0.2.2\n";
    std::fs::write(&path, original).unwrap();
    let p = ZoneFiles::new("files", dir.path());
    let err = p.list_records(&Name::parse("example.com").unwrap()).await.unwrap_err();
    assert!(err.to_string().contains("www.example.net. is outside the zone example.com."), "{err}");
    let desired = zone_of("www A 192.0.2.9\n");
    assert!(plan_for(&p, &desired).await.is_err());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
}

/// The glue check is for files a user checks; the zonefile provider reads its own files
/// without it, so that a zone missing an address can be fixed through the provider.
#[tokio::test]
async fn zonefile_provider_reads_its_own_file_without_the_glue_check() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("example.com.zone"), "$ORIGIN example.com.\n$TTL 300\n@ NS ns1\n").unwrap();
    let p = ZoneFiles::new("files", dir.path());
    let records = p.list_records(&Name::parse("example.com").unwrap()).await.unwrap();
    assert_eq!(records.len(), 1);
    let fixed = zone_of("@ NS ns1.example.net.\n");
    let planned = plan_for(&p, &fixed).await.unwrap();
    plan::apply(&p, &planned, &ApplyOptions { force: true, ..ApplyOptions::default() }).await.unwrap();
}

/// RRSIG sets are keyed by the type they cover, in the plan and in a `zonefile` apply: a
/// re-signed NS set changes the RRSIG over NS alone, with its own TTL, and the RRSIG over
/// NSEC at the same name stays as it was.
#[tokio::test]
async fn a_re_signed_set_changes_only_its_own_rrsigs() {
    let sig = |covered: &str, ttl: u32, expires: &str| {
        format!("@ {ttl} RRSIG {covered} 8 2 {ttl} {expires} 20261201000000 12345 example.com. AAECAwQFBgcICQ==\n")
    };
    let apex = "@ 86400 SOA ns1 host 1 2 3 4 86400\n@ 518400 NS ns1.example.net.\n@ 86400 NSEC www NS SOA RRSIG NSEC\n";
    let held =
        zone_of(&format!("{apex}{}{}", sig("NS", 518400, "20261231000000"), sig("NSEC", 86400, "20261231000000")));
    let dir = tempfile::tempdir().unwrap();
    let p = ZoneFiles::new("files", dir.path()).with_today(|| (2026, 11, 22));
    let first = plan_for(&p, &held).await.unwrap();
    plan::apply(&p, &first, &ApplyOptions { force: true, ..ApplyOptions::default() }).await.unwrap();
    assert!(plan_for(&p, &held).await.unwrap().is_empty(), "each RRSIG keeps its TTL: nothing to change");
    let resigned =
        zone_of(&format!("{apex}{}{}", sig("NS", 518400, "20270131000000"), sig("NSEC", 86400, "20261231000000")));
    let planned = plan_for(&p, &resigned).await.unwrap();
    let changed: Vec<(String, String)> =
        planned.changes.iter().map(|c| (c.rtype.to_string(), c.after.as_ref().unwrap().data[0].to_string())).collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].1.starts_with("NS 8 2 518400 20270131000000"), "{changed:?}");
    plan::apply(&p, &planned, &ApplyOptions { force: true, ..ApplyOptions::default() }).await.unwrap();
    assert!(plan_for(&p, &resigned).await.unwrap().is_empty());
    let text = std::fs::read_to_string(dir.path().join("example.com.zone")).unwrap();
    let ttls: Vec<&str> = text
        .lines()
        .filter(|l| l.split_whitespace().nth(3) == Some("RRSIG"))
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(ttls, ["518400", "86400"], "{text}");
}

//! The conformance suite against the built-in providers: `memory` in each of the three
//! update styles (so the engine's three ways of writing a change are all exercised), and
//! `zonefile` over a temporary directory.

use std::sync::Arc;

use zonectl_core::Name;
use zonectl_core::conformance;
use zonectl_core::provider::UpdateStyle;
use zonectl_core::provider::memory::InMemory;
use zonectl_core::provider::zonefile::ZoneFiles;

fn zone() -> Name {
    Name::parse("conformance.example").unwrap()
}

async fn memory(style: UpdateStyle) {
    let provider = Arc::new(InMemory::with_style("memory", style));
    provider.put_zone(&zonectl_core::Zone::new(zone()));
    let hook = {
        let provider = provider.clone();
        move |after: Option<usize>| provider.fail_from(after)
    };
    conformance::run_all(provider.as_ref(), &zone(), Some(&hook)).await;
}

#[tokio::test]
async fn memory_record_sets() {
    memory(UpdateStyle::RecordSet).await;
}

#[tokio::test]
async fn memory_per_record() {
    memory(UpdateStyle::PerRecord).await;
}

#[tokio::test]
async fn memory_remove_add() {
    memory(UpdateStyle::RemoveAdd).await;
}

#[tokio::test]
async fn zonefile() {
    let dir = tempfile::tempdir().unwrap();
    let provider = ZoneFiles::new("files", dir.path());
    // A failure every write meets: the lock folder cannot be made, because a file stands
    // where it should be.
    let locks = dir.path().join(".zonectl");
    let fail_from = move |after: Option<usize>| match after {
        Some(_) => {
            let _ = std::fs::remove_dir_all(&locks);
            std::fs::write(&locks, "in the way").unwrap();
        }
        None => std::fs::remove_file(&locks).unwrap(),
    };
    conformance::run_all(&provider, &zone(), Some(&fail_from)).await;
}

/// A temporary file a killed run left beside a zone file is cleared by the next write, and
/// the user is told.
#[tokio::test]
async fn zonefile_clears_what_a_killed_run_left() {
    use zonectl_core::plan::{self, ApplyOptions, PlanOptions};
    use zonectl_core::provider::Provider;
    let dir = tempfile::tempdir().unwrap();
    let provider = ZoneFiles::new("files", dir.path());
    let left = dir.path().join(".conformance.example.zone.zonectl-tmp-Xy12ab");
    std::fs::write(&left, "half a zone").unwrap();
    let desired = zonectl_core::zonefile::read_str(
        "$ORIGIN conformance.example.\n$TTL 300\nwww A 192.0.2.1\n",
        "x.zone",
        &Default::default(),
    )
    .unwrap()
    .zone;
    let current = provider.list_records(&zone()).await.unwrap();
    let planned = plan::plan("files", provider.capabilities(), &desired, current, &PlanOptions::default()).unwrap();
    let applied = plan::apply(&provider, &planned, &ApplyOptions::default()).await.unwrap();
    assert!(applied.report.is_complete());
    assert!(!left.exists(), "the temporary was left");
}

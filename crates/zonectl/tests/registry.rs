//! A provider kind is done when it has everything the README's "Adding a provider" lists:
//! for every kind the registry knows, its emulator, its conformance run and its README
//! section are there.

use std::path::Path;

fn repo(path: &str) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

#[test]
fn every_registered_kind_has_its_emulator_conformance_run_and_readme_section() {
    let readme = repo("README.md");
    let kinds: Vec<&str> = zonectl_providers::registry::remote().map(|k| k.name).collect();
    assert!(!kinds.is_empty());
    for kind in kinds {
        assert!(zonectl_emulator::emulator_of(kind).is_some(), "{kind} has no emulator in zonectl_emulator::EMULATORS");
        let tests = repo(&format!("crates/zonectl-providers/tests/{kind}.rs"));
        assert!(
            tests.contains("conformance::run_all("),
            "crates/zonectl-providers/tests/{kind}.rs runs no conformance suite"
        );
        assert!(readme.contains(&format!("\n### `{kind}`\n")), "the README has no section on {kind}");
    }
    assert!(readme.contains("\n### `zonefile`\n"));
}

#[test]
fn the_readme_links_only_to_files_in_the_repository() {
    let readme = repo("README.md");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut rest = readme.as_str();
    let mut checked = 0;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let target = &rest[..rest.find(')').unwrap()];
        rest = &rest[target.len()..];
        if target.starts_with('#') || target.starts_with("https://") {
            continue;
        }
        let path = target.split('#').next().unwrap();
        assert!(!path.starts_with(".."), "{target} lies outside the repository");
        assert!(root.join(path).exists(), "the README links to {target}, which is not in the repository");
        checked += 1;
    }
    assert!(checked > 0, "the README links to the repository's files");
    // Paths written as code: a file of the repository named from its root, or a page.
    let roots = ["crates/", "examples/", "deploy/", "docs/", "contrib/", "bench/", ".ci/", "tests/", "../"];
    for span in readme.split('`').skip(1).step_by(2) {
        let looks_like_file = roots.iter().any(|r| span.starts_with(r)) || span.ends_with(".md");
        if !looks_like_file || span.contains([' ', '<', '*', '{', '$']) {
            continue;
        }
        assert!(!span.starts_with(".."), "`{span}` lies outside the repository");
        assert!(root.join(span).exists(), "the README names `{span}`, which is not in the repository");
    }
}

//! The provider registry: every provider kind this build knows, one line each. The
//! configuration, `zonectl providers`, `zonectl emulate` and `zonectl demo` all read it.
//!
//! Adding a provider: its module in `zonectl-providers` (declaring `KIND`), its emulator in
//! `zonectl-emulator` (declaring `KIND`), and one line here.

use zonectl_core::provider::ProviderKind;
use zonectl_emulator::EmulatorKind;

/// A provider kind and, for the HTTP ones, its emulator.
#[derive(Debug)]
pub struct Entry {
    /// The provider kind.
    pub kind: &'static ProviderKind,
    /// Its emulator, for `emulate` and `demo`.
    pub emulator: Option<&'static EmulatorKind>,
}

/// Every provider kind, in the order `zonectl providers` lists them.
pub static REGISTRY: &[Entry] = &[
    Entry { kind: &zonectl_core::provider::zonefile::KIND, emulator: None },
    Entry { kind: &zonectl_core::provider::memory::KIND, emulator: None },
    Entry { kind: &zonectl_providers::luadns::KIND, emulator: Some(&zonectl_emulator::luadns::KIND) },
    Entry { kind: &zonectl_providers::domeneshop::KIND, emulator: Some(&zonectl_emulator::domeneshop::KIND) },
    Entry { kind: &zonectl_providers::zoneid::KIND, emulator: Some(&zonectl_emulator::zoneid::KIND) },
    Entry { kind: &zonectl_providers::vpsorg::KIND, emulator: Some(&zonectl_emulator::vpsorg::KIND) },
    Entry { kind: &zonectl_providers::mydomainlu::KIND, emulator: Some(&zonectl_emulator::mydomainlu::KIND) },
];

/// The entry of the kind called `name` (or by an alias).
pub fn find(name: &str) -> Option<&'static Entry> {
    REGISTRY.iter().find(|e| e.kind.is(name))
}

/// The kind names, for messages.
pub fn kind_names() -> Vec<&'static str> {
    REGISTRY.iter().map(|e| e.kind.name).collect()
}

/// The kinds that have an emulator, for `zonectl emulate`'s argument.
pub fn emulated() -> Vec<&'static str> {
    REGISTRY.iter().filter(|e| e.emulator.is_some()).map(|e| e.kind.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_emulator_serves_its_kind() {
        let mut names: Vec<&str> =
            REGISTRY.iter().flat_map(|e| std::iter::once(e.kind.name).chain(e.kind.aliases.iter().copied())).collect();
        let all = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all, "a kind name or alias is taken twice");
        for entry in REGISTRY {
            if let Some(emulator) = entry.emulator {
                assert_eq!(emulator.provider, entry.kind.name);
            }
        }
    }
}

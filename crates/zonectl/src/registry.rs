//! The provider kinds of this build (`zonectl_providers::registry`) with, where the build
//! has the emulators (the default cargo feature `emulators`), each kind's emulator.

use zonectl_core::provider::ProviderKind;
pub use zonectl_providers::registry::{find, names as kind_names};

/// A provider kind and, for the HTTP ones in a build with emulators, its emulator.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// The provider kind.
    pub kind: &'static ProviderKind,
    /// Its emulator, for `emulate` and `demo`.
    #[cfg(feature = "emulators")]
    pub emulator: Option<&'static zonectl_emulator::EmulatorKind>,
}

/// Every provider kind, in the order `zonectl providers` lists them.
pub fn entries() -> impl Iterator<Item = Entry> {
    zonectl_providers::registry::KINDS.iter().map(|&kind| Entry {
        kind,
        #[cfg(feature = "emulators")]
        emulator: zonectl_emulator::emulator_of(kind.name),
    })
}

impl Entry {
    /// Whether this build can emulate the kind.
    pub fn emulated(&self) -> bool {
        #[cfg(feature = "emulators")]
        return self.emulator.is_some();
        #[cfg(not(feature = "emulators"))]
        return false;
    }
}

/// The kinds that have an emulator, for `zonectl emulate`'s argument.
#[cfg(feature = "emulators")]
pub fn emulated() -> Vec<&'static str> {
    entries().filter(Entry::emulated).map(|e| e.kind.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_emulator_serves_a_kind_of_this_build() {
        #[cfg(feature = "emulators")]
        for emulator in zonectl_emulator::EMULATORS {
            assert!(find(emulator.provider).is_some(), "the {} emulator has no provider kind", emulator.provider);
        }
    }
}

//! The provider registry: every provider kind this build knows, one line each, in the order
//! `zonectl providers` lists them. The configuration, `zonectl providers`, `emulate`, `demo`
//! and the tests that run every provider all read it; a provider left out of the build (its
//! cargo feature off) is left out here.

use zonectl_core::provider::ProviderKind;

/// Every provider kind of this build.
pub static KINDS: &[&ProviderKind] = &[
    &zonectl_core::provider::zonefile::KIND,
    &zonectl_core::provider::memory::KIND,
    #[cfg(feature = "luadns")]
    &crate::luadns::KIND,
    #[cfg(feature = "domeneshop")]
    &crate::domeneshop::KIND,
    #[cfg(feature = "zoneid")]
    &crate::zoneid::KIND,
    #[cfg(feature = "vpsorg")]
    &crate::vpsorg::KIND,
    #[cfg(feature = "mydomainlu")]
    &crate::mydomainlu::KIND,
];

/// The kind called `name` (or by an alias).
pub fn find(name: &str) -> Option<&'static ProviderKind> {
    KINDS.iter().copied().find(|k| k.is(name))
}

/// The kind names, for messages.
pub fn names() -> Vec<&'static str> {
    KINDS.iter().map(|k| k.name).collect()
}

/// The kinds reached over HTTP: every kind but the built-in `zonefile` and `memory`.
pub fn remote() -> impl Iterator<Item = &'static ProviderKind> {
    KINDS.iter().copied().filter(|k| !matches!(k.name, "zonefile" | "memory"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_are_unique() {
        let mut names: Vec<&str> =
            KINDS.iter().flat_map(|k| std::iter::once(k.name).chain(k.aliases.iter().copied())).collect();
        let all = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all, "a kind name or alias is taken twice");
        assert_eq!(find("zoneee").map(|k| k.name), Some("zoneid"));
    }
}

//! The one router: which provider instances hold a zone. Every way in — the CLI's record
//! commands, `plan` and `apply`, the ACME hooks, `serve`'s listeners — asks it, so that a zone
//! means the same targets everywhere.
//!
//! A zone's targets are, in order of precedence:
//!
//! 1. the `targets` a `[[zone]]` table gives it (several: multi-provider DNS; the first is
//!    the one read);
//! 2. with one provider configured, that provider (nothing is asked);
//! 3. the one provider whose zone list holds it. A zone that several providers hold, with
//!    no table naming its targets, is an error naming them: never a silent pick, never a
//!    zone written twice by accident.
//!
//! Zone lists are asked of every provider at once, once; a provider that cannot answer is
//! asked again on the next [`Router::discover`] (`serve` keeps trying in the background)
//! and is named in the error for a zone no other provider holds.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use crate::error::{Error, Result};
use crate::name::Name;
use crate::provider::Provider;

/// A zone and the provider instances that hold it: the first is read, all are written.
#[derive(Clone)]
pub struct Route {
    /// The zone.
    pub zone: Name,
    /// Its targets, in order.
    pub targets: Vec<Arc<dyn Provider>>,
    /// The servers that answer for the zone, where the configuration names them for every
    /// target (the ACME hooks ask these instead of looking the zone's NS up).
    pub nameservers: Vec<SocketAddr>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let targets: Vec<&str> = self.targets.iter().map(|p| p.name()).collect();
        f.debug_struct("Route").field("zone", &self.zone).field("targets", &targets).finish()
    }
}

impl Route {
    /// The names of the targets, for messages.
    pub fn target_names(&self) -> Vec<&str> {
        self.targets.iter().map(|p| p.name()).collect()
    }
}

/// A provider instance as the router knows it.
struct Known {
    provider: Arc<dyn Provider>,
    nameservers: Vec<SocketAddr>,
}

/// A configured provider instance that could not be built (a missing credential), by
/// name: routing a zone to it is an error saying why, and discovery names it.
#[derive(Debug, Clone)]
pub struct Broken {
    /// The instance's name.
    pub name: String,
    /// Why it could not be built.
    pub error: String,
}

/// What the zone lists said.
#[derive(Default)]
struct Discovered {
    /// Zone → the providers (indices) whose list holds it.
    held: BTreeMap<Name, Vec<usize>>,
    /// Per provider: its zones, once it has answered.
    listed: Vec<Option<Vec<Name>>>,
    /// Per provider: why its last try failed.
    failed: Vec<Option<Error>>,
}

/// Routes zones and names to their targets (see the module's documentation).
pub struct Router {
    providers: Vec<Known>,
    broken: Vec<Broken>,
    declared: Vec<(Name, Result<Vec<usize>, String>)>,
    discovered: RwLock<Discovered>,
    /// Serialises discoveries, so that concurrent callers ask each provider once.
    discovering: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let providers: Vec<&str> = self.providers.iter().map(|k| k.provider.name()).collect();
        let declared: Vec<&Name> = self.declared.iter().map(|(z, _)| z).collect();
        f.debug_struct("Router").field("providers", &providers).field("declared", &declared).finish()
    }
}

/// A `[[zone]]` table's route: the zone and the names of its targets.
#[derive(Debug, Clone)]
pub struct Declared {
    /// The zone.
    pub zone: Name,
    /// Provider instance names, in order.
    pub targets: Vec<String>,
}

/// Two targets of `zone` that write to one place (one account, one directory however it
/// is written) would apply every change twice, and wait on each other's lock: why not.
pub fn one_account_twice(zone: &Name, targets: &[Arc<dyn Provider>]) -> Option<String> {
    for (i, a) in targets.iter().enumerate() {
        if let Some(b) = targets[..i].iter().find(|b| b.account() == a.account()) {
            return Some(format!(
                "zone {zone}: targets '{}' and '{}' are one and the same account ({}); list it once",
                b.name(),
                a.name(),
                a.account()
            ));
        }
    }
    None
}

impl Router {
    /// A router over `providers`, each with the servers configured for its zones, the
    /// configured instances that could not be built, and the zones whose targets the
    /// configuration names. A declared target that is neither (a `--provider` narrowed it
    /// away) is left out of the zone's targets, and a zone left with none is routed as if it
    /// were not declared; a zone with a broken target cannot be routed.
    pub fn new(
        providers: Vec<(Arc<dyn Provider>, Vec<SocketAddr>)>,
        broken: Vec<Broken>,
        declared: &[Declared],
    ) -> Router {
        let providers: Vec<Known> =
            providers.into_iter().map(|(provider, nameservers)| Known { provider, nameservers }).collect();
        let index = |name: &str| providers.iter().position(|k| k.provider.name() == name);
        let declared = declared
            .iter()
            .filter_map(|d| {
                if let Some(b) = broken.iter().find(|b| d.targets.contains(&b.name)) {
                    return Some((d.zone.clone(), Err(format!("zone {}: target {}: {}", d.zone, b.name, b.error))));
                }
                let targets: Vec<usize> = d.targets.iter().filter_map(|t| index(t)).collect();
                let built: Vec<Arc<dyn Provider>> = targets.iter().map(|&i| providers[i].provider.clone()).collect();
                if let Some(why) = one_account_twice(&d.zone, &built) {
                    return Some((d.zone.clone(), Err(why)));
                }
                (!targets.is_empty()).then(|| (d.zone.clone(), Ok(targets)))
            })
            .collect();
        let count = providers.len();
        Router {
            providers,
            broken,
            declared,
            discovered: RwLock::new(Discovered {
                held: BTreeMap::new(),
                listed: vec![None; count],
                failed: vec![None; count],
            }),
            discovering: tokio::sync::Mutex::new(()),
        }
    }

    /// The provider instances routed to.
    pub fn providers(&self) -> impl Iterator<Item = &Arc<dyn Provider>> {
        self.providers.iter().map(|k| &k.provider)
    }

    /// Asks every provider that has not answered yet for its zones, all at once.
    pub async fn discover(&self) {
        let _one_at_a_time = self.discovering.lock().await;
        let pending: Vec<usize> = {
            let d = self.discovered.read().expect("not poisoned");
            (0..self.providers.len()).filter(|&i| d.listed[i].is_none()).collect()
        };
        if pending.is_empty() {
            return;
        }
        let lists =
            futures_util::future::join_all(pending.iter().map(|&i| self.providers[i].provider.list_zones())).await;
        let mut d = self.discovered.write().expect("not poisoned");
        for (i, listed) in pending.into_iter().zip(lists) {
            match listed {
                Ok(zones) => {
                    for zone in &zones {
                        d.held.entry(zone.clone()).or_default().push(i);
                    }
                    d.listed[i] = Some(zones);
                    d.failed[i] = None;
                }
                Err(e) => d.failed[i] = Some(e),
            }
        }
    }

    /// Whether every provider has answered with its zones once.
    pub fn is_ready(&self) -> bool {
        self.broken.is_empty() && self.discovered.read().expect("not poisoned").listed.iter().all(Option::is_some)
    }

    /// The providers that have not answered (or could not be built), each with why
    /// (`lua: cannot connect …`).
    pub fn unreachable(&self) -> Vec<String> {
        let d = self.discovered.read().expect("not poisoned");
        let broken = self.broken.iter().map(|b| format!("{}: {}", b.name, b.error));
        broken.chain(d.failed.iter().flatten().map(ToString::to_string)).collect()
    }

    /// Zones that several providers hold with no `[[zone]]` table naming their targets, each
    /// with those providers.
    pub fn ambiguous(&self) -> Vec<(Name, Vec<String>)> {
        let d = self.discovered.read().expect("not poisoned");
        d.held
            .iter()
            .filter(|(zone, holders)| holders.len() > 1 && !self.is_declared(zone))
            .map(|(zone, holders)| (zone.clone(), self.names(holders)))
            .collect()
    }

    /// Every zone the providers' lists hold, each with the providers holding it, in DNS
    /// order (after [`Router::discover`]).
    pub fn holdings(&self) -> Vec<(Name, Vec<String>)> {
        let d = self.discovered.read().expect("not poisoned");
        d.held.iter().map(|(zone, holders)| (zone.clone(), self.names(holders))).collect()
    }

    /// The route of `zone` itself (not of a name in it).
    pub async fn zone(&self, zone: &Name) -> Result<Route> {
        if let Some(route) = self.declared_route(zone) {
            return route;
        }
        if self.providers.len() == 1 && self.broken.is_empty() {
            return Ok(self.route(zone.clone(), vec![0]));
        }
        self.discover().await;
        let holders = self.discovered.read().expect("not poisoned").held.get(zone).cloned().unwrap_or_default();
        self.pick(zone, holders, zone)
    }

    /// The route of the zone `name` is in: the longest zone name it ends with, among the
    /// declared zones and the providers' zone lists.
    pub async fn find(&self, name: &Name) -> Result<Route> {
        self.discover().await;
        let (zone, holders) = {
            let d = self.discovered.read().expect("not poisoned");
            let declared = self.declared.iter().map(|(z, _)| z);
            let best =
                declared.chain(d.held.keys()).filter(|z| name.is_subdomain_of(z)).max_by_key(|z| z.label_count());
            match best {
                Some(zone) => (zone.clone(), d.held.get(zone).cloned().unwrap_or_default()),
                None => return Err(self.not_held(name, &d)),
            }
        };
        if let Some(route) = self.declared_route(&zone) {
            return route;
        }
        self.pick(&zone, holders, name)
    }

    /// Every zone known (declared, or in a provider's list) with its route, each once; a
    /// zone several providers hold without a table naming its targets is an error naming
    /// them.
    pub fn routes(&self) -> Vec<Result<Route>> {
        let d = self.discovered.read().expect("not poisoned");
        let mut zones: Vec<&Name> = self.declared.iter().map(|(z, _)| z).chain(d.held.keys()).collect();
        zones.sort();
        zones.dedup();
        zones
            .into_iter()
            .map(|zone| match self.declared_route(zone) {
                Some(route) => route,
                None => self.pick(zone, d.held.get(zone).cloned().unwrap_or_default(), zone),
            })
            .collect()
    }

    fn is_declared(&self, zone: &Name) -> bool {
        self.declared.iter().any(|(z, _)| z == zone)
    }

    fn declared_route(&self, zone: &Name) -> Option<Result<Route>> {
        let (_, targets) = self.declared.iter().find(|(z, _)| z == zone)?;
        Some(match targets {
            Ok(targets) => Ok(self.route(zone.clone(), targets.clone())),
            Err(why) => Err(Error::Routing(why.clone())),
        })
    }

    fn route(&self, zone: Name, targets: Vec<usize>) -> Route {
        // The servers of every target, or none: a target whose servers are not known leaves
        // the question to DNS.
        let nameservers = if targets.iter().all(|&i| !self.providers[i].nameservers.is_empty()) {
            let mut all: Vec<SocketAddr> =
                targets.iter().flat_map(|&i| self.providers[i].nameservers.iter().copied()).collect();
            all.dedup();
            all
        } else {
            Vec::new()
        };
        Route { zone, targets: targets.into_iter().map(|i| self.providers[i].provider.clone()).collect(), nameservers }
    }

    fn names(&self, indices: &[usize]) -> Vec<String> {
        indices.iter().map(|&i| self.providers[i].provider.name().to_owned()).collect()
    }

    fn pick(&self, zone: &Name, holders: Vec<usize>, asked: &Name) -> Result<Route> {
        match holders.as_slice() {
            [_] => Ok(self.route(zone.clone(), holders)),
            [] => Err(self.not_held(asked, &self.discovered.read().expect("not poisoned"))),
            _ => Err(Error::Routing(format!(
                "zone {zone} is held by several providers ({}): name its targets in a [[zone]] table, or choose one \
                 with --provider",
                self.names(&holders).join(", ")
            ))),
        }
    }

    fn not_held(&self, name: &Name, d: &Discovered) -> Error {
        let providers: Vec<&str> = self.providers.iter().map(|k| k.provider.name()).collect();
        let mut message = format!("no zone for {name} at {}", providers.join(", "));
        let broken = self.broken.iter().map(|b| format!("{}: {}", b.name, b.error));
        let failed: Vec<String> = broken.chain(d.failed.iter().flatten().map(ToString::to_string)).collect();
        if !failed.is_empty() {
            message.push_str(&format!(" (could not list the zones of: {})", failed.join("; ")));
        }
        Error::Routing(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::memory::InMemory;
    use crate::record::Zone;

    fn name(text: &str) -> Name {
        Name::parse(text).unwrap()
    }

    fn holding(provider: &str, zones: &[&str]) -> (Arc<dyn Provider>, Vec<SocketAddr>) {
        let p = InMemory::new(provider);
        for zone in zones {
            p.put_zone(&Zone::new(name(zone)));
        }
        (Arc::new(p), Vec::new())
    }

    fn declared(zone: &str, targets: &[&str]) -> Declared {
        Declared { zone: name(zone), targets: targets.iter().map(|t| (*t).to_owned()).collect() }
    }

    #[tokio::test]
    async fn a_zone_goes_to_its_declared_targets_else_its_one_holder() {
        let router = Router::new(
            vec![holding("a", &["example.com", "a.example"]), holding("b", &["example.com", "sub.a.example"])],
            Vec::new(),
            &[declared("example.com", &["b", "a"])],
        );
        let route = router.zone(&name("example.com")).await.unwrap();
        assert_eq!(route.target_names(), ["b", "a"], "declared, in order");
        let found = router.find(&name("_acme-challenge.www.sub.a.example")).await.unwrap();
        assert_eq!((found.zone.as_str(), found.target_names()), ("sub.a.example.", vec!["b"]), "the longest suffix");
        let found = router.find(&name("www.a.example")).await.unwrap();
        assert_eq!(found.target_names(), ["a"]);
        assert!(router.ambiguous().is_empty(), "example.com is declared");
        let all: Vec<String> = router.routes().into_iter().map(|r| r.unwrap().zone.to_string()).collect();
        assert_eq!(all, ["example.com.", "a.example.", "sub.a.example."], "each zone once, in DNS order");
    }

    #[tokio::test]
    async fn a_zone_two_providers_hold_undeclared_is_an_error_naming_them() {
        let router = Router::new(vec![holding("a", &["example.com"]), holding("b", &["example.com"])], Vec::new(), &[]);
        let error = router.zone(&name("example.com")).await.unwrap_err().to_string();
        assert_eq!(
            error,
            "zone example.com. is held by several providers (a, b): name its targets in a [[zone]] table, or \
             choose one with --provider"
        );
        assert!(router.find(&name("www.example.com")).await.is_err());
        assert_eq!(router.ambiguous(), [(name("example.com"), vec!["a".to_owned(), "b".to_owned()])]);
        assert!(router.routes()[0].is_err());
        let missing = router.find(&name("example.org")).await.unwrap_err().to_string();
        assert_eq!(missing, "no zone for example.org. at a, b");
    }

    #[tokio::test]
    async fn narrowing_to_one_provider_drops_the_other_targets() {
        // `--provider a` builds the router over `a` alone.
        let router =
            Router::new(vec![holding("a", &["example.com"])], Vec::new(), &[declared("example.com", &["b", "a"])]);
        assert_eq!(router.zone(&name("example.com")).await.unwrap().target_names(), ["a"]);
        // A zone whose targets are all gone is routed to the provider there is.
        let router = Router::new(vec![holding("c", &[])], Vec::new(), &[declared("example.com", &["b"])]);
        assert_eq!(router.zone(&name("example.com")).await.unwrap().target_names(), ["c"]);
    }

    #[tokio::test]
    async fn a_zone_whose_target_could_not_be_built_says_why() {
        let broken = vec![Broken { name: "shop".into(), error: "no API token: set token …".into() }];
        let router =
            Router::new(vec![holding("a", &["example.org"])], broken, &[declared("example.com", &["a", "shop"])]);
        let error = router.zone(&name("example.com")).await.unwrap_err().to_string();
        assert_eq!(error, "zone example.com.: target shop: no API token: set token …");
        // Zones elsewhere still route; the broken instance is not ready, and is named.
        assert_eq!(router.zone(&name("example.org")).await.unwrap().target_names(), ["a"]);
        assert!(!router.is_ready());
        assert_eq!(router.unreachable(), ["shop: no API token: set token …"]);
    }

    #[tokio::test]
    async fn nameservers_of_every_target_or_none() {
        let ns = |a: &str| vec![a.parse::<SocketAddr>().unwrap()];
        let (a, _) = holding("a", &["example.com"]);
        let (b, _) = holding("b", &[]);
        let router = Router::new(
            vec![(a.clone(), ns("127.0.0.1:53")), (b.clone(), ns("127.0.0.2:53"))],
            Vec::new(),
            &[declared("example.com", &["a", "b"])],
        );
        assert_eq!(router.zone(&name("example.com")).await.unwrap().nameservers.len(), 2);
        let router = Router::new(
            vec![(a, ns("127.0.0.1:53")), (b, Vec::new())],
            Vec::new(),
            &[declared("example.com", &["a", "b"])],
        );
        assert!(router.zone(&name("example.com")).await.unwrap().nameservers.is_empty());
    }
}

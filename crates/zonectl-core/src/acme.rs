//! ACME DNS-01 challenges: put a TXT value at `_acme-challenge.<name>`, wait until every
//! authoritative server shows it, and take it away again.
//!
//! The semantics every ACME front end shares live here once:
//!
//! - [`present`] *adds* the value to the TXT set at the name and [`cleanup`] removes *only*
//!   that value. A certificate for `example.com` and `*.example.com` validates twice at the
//!   same name, often with both values live at once.
//! - The zone is found by the one router ([`Router::find`]: the longest suffix among the
//!   configured zones), after following a CNAME at the challenge name (delegated
//!   validation, as lego and cert-manager do) through DNS — and the servers to ask are
//!   found too, before anything is written.
//! - The change is one edit transaction ([`crate::edit`]) at every target of the zone,
//!   under the zones' locks, so hooks running at once, in one process or several, never
//!   lose a value; an edit has no ignore rules, so hooks work while `_acme-challenge*` is
//!   in a zone's `ignore` list, as it usually is.
//! - A hook that fails after writing takes its own value back.
//! - [`wait_for_propagation`] asks each authoritative server directly, recursion off, until
//!   all of them answer with the value or the time is up.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::dns::{self, QueryError};
use crate::edit::{self, Op, Options, Transaction};
use crate::error::{Error, Result};
use crate::plan::TtlPolicy;
use crate::provider::RecordFilter;
use crate::report::ChangeReport;
use crate::route::{Route, Router};
use crate::{Name, RData, RecordType, Ttl, Txt};

/// The label ACME puts the challenge under.
pub const CHALLENGE_LABEL: &str = "_acme-challenge";

/// One DNS-01 challenge: the value to show at the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Where the TXT record goes (`_acme-challenge.example.com.`).
    pub name: Name,
    /// The TXT value (43 base64url characters for a real challenge).
    pub value: String,
}

impl Challenge {
    /// A challenge at `fqdn` (absolute, as lego and acme.sh pass it).
    pub fn new(fqdn: &str, value: &str) -> Result<Challenge> {
        let name = Name::parse(fqdn).map_err(|e| Error::InvalidConfig(format!("challenge name '{fqdn}': {e}")))?;
        let value = value.trim();
        if value.is_empty() {
            return Err(Error::InvalidConfig(format!("challenge {name}: the value is empty")));
        }
        Ok(Challenge { name, value: value.to_owned() })
    }

    /// The challenge for an ACME identifier (`example.com`, or `*.example.com`, which
    /// validates at the same name), as certbot and dehydrated pass it.
    pub fn for_identifier(identifier: &str, value: &str) -> Result<Challenge> {
        let domain = identifier.trim().trim_start_matches("*.").trim_end_matches('.');
        Challenge::new(&format!("{CHALLENGE_LABEL}.{domain}."), value)
    }

    /// The challenge as lego computes it in RAW mode: the value is the unpadded base64url
    /// SHA-256 of the key authorization.
    pub fn from_key_authorization(identifier: &str, key_authorization: &str) -> Result<Challenge> {
        Challenge::for_identifier(identifier, &key_authorization_digest(key_authorization))
    }
}

/// `base64url(sha256(key_authorization))` without padding (RFC 8555 §8.4).
pub fn key_authorization_digest(key_authorization: &str) -> String {
    use sha2::Digest as _;
    data_encoding::BASE64URL_NOPAD.encode(&sha2::Sha256::digest(key_authorization.as_bytes()))
}

/// How the hooks find servers and how long they wait.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The servers to check instead of the zone's own name servers (found through DNS).
    pub nameservers: Vec<SocketAddr>,
    /// How long to wait for every server to show the value.
    pub propagation_timeout: Duration,
    /// How long between two rounds of questions.
    pub polling_interval: Duration,
    /// How long to wait for one server's answer.
    pub query_timeout: Duration,
    /// The TTL of a new TXT set (rounded to what the provider allows).
    pub ttl: u32,
    /// Wait for propagation after present.
    pub wait: bool,
    /// Follow a CNAME at the challenge name to its target.
    pub follow_cname: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            nameservers: Vec::new(),
            propagation_timeout: Duration::from_secs(300),
            polling_interval: Duration::from_secs(2),
            query_timeout: Duration::from_secs(2),
            ttl: 120,
            wait: true,
            follow_cname: true,
        }
    }
}

/// Where a challenge goes, found before anything is written: the name the TXT record goes
/// at (after following a CNAME), the route of its zone, and the servers that will be asked
/// whether it shows.
#[derive(Debug, Clone)]
pub struct Located {
    /// The challenge as asked.
    pub challenge: Challenge,
    /// The name the TXT record is at: the challenge's, or a CNAME's target.
    pub name: Name,
    /// The zone holding it, and its targets.
    pub route: Route,
    /// The servers to ask (none when no wait is asked for).
    pub servers: Vec<Server>,
}

/// A challenge placed or removed, with what the edit did at each target.
#[derive(Debug)]
pub struct Placed {
    /// Where it went.
    pub located: Located,
    /// What happened at each target.
    pub report: ChangeReport,
    /// How long every server took to show the value, once [`present`] waited for them.
    pub propagated: Option<Duration>,
}

impl Placed {
    /// Whether any target changed (false: the value was there already, or was not there to
    /// remove).
    pub fn changed(&self) -> bool {
        self.report.changed()
    }
}

/// Finds where `challenge` goes, and — when `with_servers` — the servers to ask, before
/// anything is written: a hook that cannot wait for its value must not leave one behind.
pub async fn locate(
    router: &Router,
    challenge: &Challenge,
    settings: &Settings,
    with_servers: bool,
) -> Result<Located> {
    let name =
        if settings.follow_cname { follow_cname(&challenge.name, settings).await } else { challenge.name.clone() };
    let route = router.find(&name).await?;
    let servers = if with_servers { authoritative_servers(&route, settings).await? } else { Vec::new() };
    Ok(Located { challenge: challenge.clone(), name, route, servers })
}

/// Adds each challenge's value to the TXT set at its name (following a CNAME), leaving
/// every other value and record alone, then — when `settings.wait` — waits until every
/// authoritative server shows each value. Every zone and server is found before the first
/// write; a failure after one removes every value this call placed, so nothing is left
/// behind.
pub async fn present(router: &Router, challenges: &[Challenge], settings: &Settings) -> Result<Vec<Placed>> {
    let mut located = Vec::with_capacity(challenges.len());
    for challenge in challenges {
        located.push(locate(router, challenge, settings, settings.wait).await?);
    }
    let mut placed: Vec<Placed> = Vec::with_capacity(located.len());
    for here in located {
        let report = edit::run(transaction(&here, settings, true)).await;
        let failed = match &report {
            Ok(report) if report.is_ok() => None,
            Ok(report) => Some(target_error(report)),
            Err(e) => Some(e.clone()),
        };
        let done = report.ok().map(|report| Placed { located: here.clone(), report, propagated: None });
        placed.extend(done);
        if let Some(error) = failed {
            take_back(&placed, settings).await;
            return Err(error);
        }
    }
    if settings.wait {
        let waits = placed
            .iter()
            .map(|p| wait_for_propagation(&p.located.servers, &p.located.name, &p.located.challenge.value, settings));
        let waited = futures_util::future::join_all(waits).await;
        if let Some(error) = waited.iter().find_map(|w| w.as_ref().err()).cloned() {
            take_back(&placed, settings).await;
            return Err(error);
        }
        for (p, w) in placed.iter_mut().zip(waited) {
            p.propagated = w.ok();
        }
    }
    Ok(placed)
}

/// Removes each challenge's value from the TXT set at its name, and nothing else. Every
/// challenge is tried; the first failure is returned after.
pub async fn cleanup(router: &Router, challenges: &[Challenge], settings: &Settings) -> Result<Vec<Placed>> {
    let mut removed = Vec::with_capacity(challenges.len());
    let mut first_error = None;
    for challenge in challenges {
        let outcome = match locate(router, challenge, settings, false).await {
            Ok(here) => match edit::run(transaction(&here, settings, false)).await {
                Ok(report) if report.is_ok() => Ok(Placed { located: here, report, propagated: None }),
                Ok(report) => Err(target_error(&report)),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        match outcome {
            Ok(placed) => removed.push(placed),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(error) => Err(error),
        None => Ok(removed),
    }
}

/// The edit that adds (or removes) the challenge's value, and nothing else. There are no
/// ignore rules in an edit: hooks work while `_acme-challenge*` is in a zone's `ignore`.
fn transaction(here: &Located, settings: &Settings, add: bool) -> Transaction {
    let data = RData::Txt(Txt::from_value(here.challenge.value.as_bytes()));
    let op = if add {
        Op::Add { name: here.name.clone(), data, ttl: None }
    } else {
        Op::Remove { name: here.name.clone(), rtype: RecordType::Txt, data: Some(data) }
    };
    let filter = RecordFilter { name: Some(here.name.clone()), rtype: Some(RecordType::Txt) };
    let options = Options {
        ttl_policy: TtlPolicy::Round,
        default_ttl: Ttl::from_secs(settings.ttl),
        // The hook decides what it owns: one value at one name.
        force: true,
        lock: true,
        ..Options::default()
    };
    Transaction::edit(here.route.clone(), filter, vec![op], options)
}

/// The error of the first target that did not take the change, naming it.
fn target_error(report: &ChangeReport) -> Error {
    report.first_error().cloned().unwrap_or_else(|| {
        let failed: Vec<&str> =
            report.targets.iter().filter(|t| !t.status().is_ok()).map(|t| t.provider.as_str()).collect();
        Error::Routing(format!("zone {}: the change was not completed at {}", report.zone, failed.join(", ")))
    })
}

/// Removes the values of `placed` again after a failure; what cannot be removed is said.
async fn take_back(placed: &[Placed], settings: &Settings) {
    for p in placed {
        match edit::run(transaction(&p.located, settings, false)).await {
            Ok(report) if report.is_ok() => {}
            Ok(report) => tracing::warn!(
                target: "zonectl::notice",
                "warning: {}: the value could not be taken back: {}",
                p.located.name,
                target_error(&report)
            ),
            Err(e) => tracing::warn!(
                target: "zonectl::notice",
                "warning: {}: the value could not be taken back: {e}",
                p.located.name
            ),
        }
    }
}

/// The end of the CNAME chain at `name` (at most 10 links), as DNS answers it; `name`
/// itself when it is no alias or DNS cannot be asked.
async fn follow_cname(name: &Name, settings: &Settings) -> Name {
    let mut current = name.clone();
    for _ in 0..10 {
        match lookup_cname(&current, settings).await {
            Some(target) if target != current => {
                tracing::debug!(target: "zonectl::acme", "{current} is an alias of {target}");
                current = target;
            }
            _ => break,
        }
    }
    current
}

async fn lookup_cname(name: &Name, settings: &Settings) -> Option<Name> {
    if !settings.nameservers.is_empty() {
        for server in &settings.nameservers {
            match dns::query(*server, name, RecordType::Cname, true, settings.query_timeout).await {
                Ok(answer) => return answer.cnames.into_iter().next(),
                Err(e) => tracing::debug!(target: "zonectl::acme", "CNAME {name} at {server}: {e}"),
            }
        }
        return None;
    }
    let resolver = system_resolver().ok()?;
    let lookup = resolver.lookup(name.as_str(), hickory_proto::rr::RecordType::CNAME).await.ok()?;
    lookup.answers().iter().find_map(|r| match &r.data {
        hickory_proto::rr::RData::CNAME(target) => Name::parse(&target.0.to_ascii()).ok(),
        _ => None,
    })
}

fn system_resolver() -> Result<hickory_resolver::TokioResolver> {
    let unreadable = || {
        Error::InvalidConfig(
            "cannot read the system's DNS configuration (/etc/resolv.conf): give the name servers with --nameserver"
                .into(),
        )
    };
    hickory_resolver::TokioResolver::builder_tokio().map_err(|_| unreadable())?.build().map_err(|_| unreadable())
}

/// One server to ask: how to name it in messages, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// `ns1.example.net. (192.0.2.1)`, or the address alone.
    pub label: String,
    /// Where to ask.
    pub addr: SocketAddr,
}

/// The servers to check for a zone: `settings`' (`--nameserver`, `[acme] nameservers`),
/// else the ones the configuration gives its targets, else the zone's NS records as DNS
/// answers them, each name's IPv4 and IPv6 addresses on port 53.
pub async fn authoritative_servers(route: &Route, settings: &Settings) -> Result<Vec<Server>> {
    let configured = if settings.nameservers.is_empty() { &route.nameservers } else { &settings.nameservers };
    if !configured.is_empty() {
        return Ok(configured.iter().map(|a| Server { label: a.to_string(), addr: *a }).collect());
    }
    let zone = &route.zone;
    let hint = "give them with --nameserver, [acme] nameservers, or nameservers = [\"ADDR\"] in the provider's table";
    let resolver = system_resolver()?;
    let lookup = resolver.ns_lookup(zone.as_str()).await.map_err(|e| {
        Error::InvalidConfig(format!("cannot find the name servers of {zone}: {}; {hint}", resolver_reason(&e)))
    })?;
    let names: Vec<String> = lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            hickory_proto::rr::RData::NS(ns) => Some(ns.0.to_ascii()),
            _ => None,
        })
        .collect();
    let mut servers = Vec::new();
    for ns in names {
        match resolver.lookup_ip(ns.as_str()).await {
            Ok(ips) => servers
                .extend(ips.iter().map(|ip| Server { label: format!("{ns} ({ip})"), addr: SocketAddr::new(ip, 53) })),
            Err(e) => tracing::warn!(
                target: "zonectl::notice",
                "warning: name server {ns} of {zone} has no address: {}",
                resolver_reason(&e)
            ),
        }
    }
    if servers.is_empty() {
        return Err(Error::InvalidConfig(format!(
            "cannot find the name servers of {zone}: none of its NS names has an address; {hint}"
        )));
    }
    Ok(servers)
}

/// A resolver's failure in words (its own text quotes Rust values).
fn resolver_reason(error: &hickory_resolver::net::NetError) -> &'static str {
    if error.is_nx_domain() {
        "it does not exist in DNS"
    } else if error.is_no_records_found() {
        "DNS has no such records for it"
    } else {
        "the system's resolvers gave no answer"
    }
}

/// Waits until every server answers for `name` with a TXT record holding `value`; fails
/// after the timeout naming the servers that did not, and what each answered.
pub async fn wait_for_propagation(
    servers: &[Server],
    name: &Name,
    value: &str,
    settings: &Settings,
) -> Result<Duration> {
    let started = Instant::now();
    let mut waiting: Vec<(Server, String)> = servers.iter().map(|s| (s.clone(), "not asked yet".into())).collect();
    loop {
        let asked = futures_util::future::join_all(
            waiting.iter().map(|(s, _)| dns::query(s.addr, name, RecordType::Txt, false, settings.query_timeout)),
        )
        .await;
        let mut still = Vec::new();
        for ((server, _), answer) in waiting.into_iter().zip(asked) {
            let why = match answer {
                Ok(a) if a.txt.iter().any(|t| t == value.as_bytes()) => continue,
                Ok(a) if a.nxdomain => "answered NXDOMAIN".to_owned(),
                Ok(a) if a.txt.is_empty() => "answered with no TXT record".to_owned(),
                Ok(a) => format!("answered with {} other TXT value(s)", a.txt.len()),
                Err(QueryError::TimedOut(d)) => format!("no answer within {}", crate::duration::show(d)),
                Err(e) => e.to_string(),
            };
            still.push((server, why));
        }
        waiting = still;
        if waiting.is_empty() {
            return Ok(started.elapsed());
        }
        let elapsed = started.elapsed();
        if elapsed >= settings.propagation_timeout {
            let missing: Vec<String> = waiting.iter().map(|(s, why)| format!("{} ({why})", s.label)).collect();
            return Err(Error::NotPropagated {
                name: name.clone(),
                waited: settings.propagation_timeout,
                servers: missing,
            });
        }
        tokio::time::sleep(settings.polling_interval.min(settings.propagation_timeout - elapsed)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_is_computed_as_lego_does() {
        // RFC 8555's digest of a key authorization; the expected value is from Python:
        // base64.urlsafe_b64encode(hashlib.sha256(b"token.thumbprint").digest()).rstrip(b"=")
        assert_eq!(key_authorization_digest("token.thumbprint"), "61rBZ_4knHblO0MNoxFsXZ_eTFUHum0B6IVRbhvUn5I");
    }

    #[test]
    fn a_wildcard_validates_at_its_base_name() {
        let plain = Challenge::for_identifier("example.com", "v").unwrap();
        let wild = Challenge::for_identifier("*.example.com", "v").unwrap();
        assert_eq!(plain.name.as_str(), "_acme-challenge.example.com.");
        assert_eq!(plain, wild);
        assert!(Challenge::new("_acme-challenge.example.com.", " ").is_err());
    }
}

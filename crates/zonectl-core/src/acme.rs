//! ACME DNS-01 challenges: put a TXT value at `_acme-challenge.<name>`, wait until every
//! authoritative server shows it, and take it away again.
//!
//! The semantics every ACME front end shares live here once:
//!
//! - [`present`] *adds* the value to the TXT set at the name and [`cleanup`] removes *only*
//!   that value. A certificate for `example.com` and `*.example.com` validates twice at the
//!   same name, often with both values live at once.
//! - The zone is found among the configured providers' zones by the longest suffix
//!   ([`Zones`]), after following a CNAME at the challenge name (delegated validation, as
//!   lego and cert-manager do) through DNS.
//! - The read and the write happen under the provider's zone lock, so hooks running at once,
//!   in one process or several, never lose a value.
//! - Changes go through the plan engine with no ignore rules: hooks work while
//!   `_acme-challenge*` is in a zone's `ignore` list, as it usually is.
//! - [`wait_for_propagation`] asks each authoritative server directly, recursion off, until
//!   all of them answer with the value or the time is up.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::dns::{self, QueryError};
use crate::error::{Error, Result};
use crate::plan::{self, ApplyOptions, PlanOptions, TtlPolicy};
use crate::provider::{Existing, Provider, RecordFilter};
use crate::{Name, RData, Record, RecordType, Ttl, Txt, Zone};

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

/// The zones of the configured providers, each with the provider holding it.
pub struct Zones {
    zones: Vec<(Name, Arc<dyn Provider>)>,
    /// Providers whose zones could not be listed, with why.
    unreachable: Vec<String>,
}

impl std::fmt::Debug for Zones {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let zones: Vec<String> = self.zones.iter().map(|(z, p)| format!("{z} at {}", p.name())).collect();
        f.debug_struct("Zones").field("zones", &zones).field("unreachable", &self.unreachable).finish()
    }
}

impl Zones {
    /// Lists the zones of every provider, all at once. A provider that cannot list its
    /// zones is remembered, and named if no other holds the zone asked for.
    pub async fn discover(providers: Vec<Arc<dyn Provider>>) -> Zones {
        let listed = futures_util::future::join_all(providers.iter().map(|p| p.list_zones())).await;
        let mut zones = Vec::new();
        let mut unreachable = Vec::new();
        for (provider, result) in providers.into_iter().zip(listed) {
            match result {
                Ok(names) => zones.extend(names.into_iter().map(|z| (z, provider.clone()))),
                Err(e) => unreachable.push(e.to_string()),
            }
        }
        Zones { zones, unreachable }
    }

    /// Zones given as they are, for a caller that knows them.
    pub fn from_list(zones: Vec<(Name, Arc<dyn Provider>)>) -> Zones {
        Zones { zones, unreachable: Vec::new() }
    }

    /// Every zone with its provider.
    pub fn iter(&self) -> impl Iterator<Item = (&Name, &Arc<dyn Provider>)> {
        self.zones.iter().map(|(z, p)| (z, p))
    }

    /// Every zone's name.
    pub fn names(&self) -> impl Iterator<Item = &Name> {
        self.zones.iter().map(|(z, _)| z)
    }

    /// The providers whose zones could not be listed, with why.
    pub fn unreachable(&self) -> &[String] {
        &self.unreachable
    }

    /// The zone `name` is in, and its provider: the longest zone name `name` ends with.
    /// The same zone at two providers is ambiguous; `--provider` chooses.
    pub fn find(&self, name: &Name) -> Result<(&Name, &Arc<dyn Provider>)> {
        let best =
            self.zones.iter().filter(|(zone, _)| name.is_subdomain_of(zone)).max_by_key(|(zone, _)| zone.label_count());
        let Some((zone, provider)) = best else {
            let mut message = format!("no configured provider holds a zone for {name}");
            if !self.unreachable.is_empty() {
                message.push_str(&format!(" (could not list: {})", self.unreachable.join("; ")));
            }
            return Err(Error::InvalidConfig(message));
        };
        let holders: Vec<&str> = self.zones.iter().filter(|(z, _)| z == zone).map(|(_, p)| p.name()).collect();
        if holders.len() > 1 {
            return Err(Error::InvalidConfig(format!(
                "zone {zone} is at several providers ({}); choose one with --provider",
                holders.join(", ")
            )));
        }
        Ok((zone, provider))
    }
}

/// Where a challenge was placed (or removed from).
#[derive(Debug, Clone)]
pub struct Placed {
    /// The challenge as asked.
    pub challenge: Challenge,
    /// The name the TXT record is at: the challenge's, or a CNAME's target.
    pub name: Name,
    /// The zone holding it.
    pub zone: Name,
    /// The provider instance.
    pub provider: String,
    /// Whether the zone changed (false: the value was there already, or was not there to
    /// remove).
    pub changed: bool,
}

/// Adds the challenge's value to the TXT set at its name (following a CNAME), leaving every
/// other value and record alone.
pub async fn present(zones: &Zones, challenge: &Challenge, settings: &Settings) -> Result<Placed> {
    edit(zones, challenge, settings, true).await
}

/// Removes the challenge's value from the TXT set at its name, and nothing else.
pub async fn cleanup(zones: &Zones, challenge: &Challenge, settings: &Settings) -> Result<Placed> {
    edit(zones, challenge, settings, false).await
}

async fn edit(zones: &Zones, challenge: &Challenge, settings: &Settings, add: bool) -> Result<Placed> {
    let name =
        if settings.follow_cname { follow_cname(&challenge.name, settings).await } else { challenge.name.clone() };
    let (zone, provider) = zones.find(&name)?;
    let value = challenge.value.as_bytes();
    // Read and write as one step: a hook running at the same time waits, then reads
    // what this one wrote.
    let _lock = provider.lock(zone).await?;
    let filter = RecordFilter { name: Some(name.clone()), rtype: Some(RecordType::Txt) };
    let existing = provider.list_records_filtered(zone, &filter).await?;
    let holds = |e: &Existing| matches!(&e.record.data, RData::Txt(t) if t.value() == value);
    let present = existing.iter().any(holds);
    let mut placed = Placed {
        challenge: challenge.clone(),
        name: name.clone(),
        zone: zone.clone(),
        provider: provider.name().to_owned(),
        changed: false,
    };
    if present == add {
        return Ok(placed);
    }
    let mut records: Vec<Record> = existing.iter().map(|e| e.record.clone()).collect();
    if add {
        // A set has one TTL: a new value takes the set's.
        let ttl = match records.first() {
            Some(r) => r.ttl,
            None => Ttl::from_secs(settings.ttl)
                .ok_or_else(|| Error::InvalidConfig(format!("acme ttl {} is out of range", settings.ttl)))?,
        };
        records.push(Record::new(name.clone(), ttl, RData::Txt(Txt::from_value(value))));
    } else {
        records.retain(|r| !matches!(&r.data, RData::Txt(t) if t.value() == value));
    }
    let desired = Zone::from_records(zone.clone(), records);
    let options = PlanOptions { ttl_policy: TtlPolicy::Round, ..PlanOptions::default() };
    let planned = plan::plan(provider.name(), provider.capabilities(), &desired, existing, &options)?;
    let applied = plan::apply(provider.as_ref(), &planned, &ApplyOptions::default()).await?;
    if let Some(error) = applied.report.outcomes.into_iter().find_map(|o| match o {
        crate::provider::Outcome::Failed(e) | crate::provider::Outcome::Unknown(e) => Some(e),
        _ => None,
    }) {
        return Err(error);
    }
    placed.changed = true;
    Ok(placed)
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
    hickory_resolver::TokioResolver::builder_tokio()
        .map(|b| b.build())
        .map_err(|e| Error::InvalidConfig(format!("cannot read the system's DNS configuration: {e}")))?
        .map_err(|e| Error::InvalidConfig(format!("cannot read the system's DNS configuration: {e}")))
}

/// One server to ask: how to name it in messages, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// `ns1.example.net. (192.0.2.1)`, or the address alone.
    pub label: String,
    /// Where to ask.
    pub addr: SocketAddr,
}

/// The servers to check for `zone`: the configured ones, else the zone's NS records as
/// DNS answers them, each name's IPv4 and IPv6 addresses on port 53.
pub async fn authoritative_servers(zone: &Name, settings: &Settings) -> Result<Vec<Server>> {
    if !settings.nameservers.is_empty() {
        return Ok(settings.nameservers.iter().map(|a| Server { label: a.to_string(), addr: *a }).collect());
    }
    let resolver = system_resolver()?;
    let lookup = resolver
        .ns_lookup(zone.as_str())
        .await
        .map_err(|e| Error::InvalidConfig(format!("cannot find the name servers of {zone}: {e}")))?;
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
            Err(e) => {
                tracing::warn!(target: "zonectl::notice", "warning: name server {ns} of {zone} has no address: {e}")
            }
        }
    }
    if servers.is_empty() {
        return Err(Error::InvalidConfig(format!(
            "no name server of {zone} could be found in DNS; give them with --nameserver"
        )));
    }
    Ok(servers)
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

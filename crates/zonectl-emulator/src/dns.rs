//! The emulated provider's name servers: an authoritative DNS server on UDP and TCP that
//! answers from the same state the HTTP API changes.
//!
//! ACME clients and CAs look a challenge up in DNS, so a test of the whole DNS-01 round trip
//! (an API change, then the CA's query) needs the provider's name servers too. The wire
//! format and the answering rules (AA, NXDOMAIN and NODATA with the SOA in authority, CNAME
//! chains) are hickory-server's: each view of the state is turned into zone-file text and
//! read by hickory's own zone parser into a [`Catalog`] of in-memory zones.
//!
//! A change becomes visible after the configured propagation delay (on the service's
//! clock), as at a provider whose name servers are refreshed from its database now and then.
//! The name servers a zone's NS records name, when outside every zone served, resolve to the
//! server's own loopback address, so a client that looks the servers up finds this one.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_server::net::runtime::{Time, TokioRuntimeProvider};
use hickory_server::proto::rr::{LowerName, Name as DnsName};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};

/// One record as the provider's name servers serve it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    /// The owner, absolute with the trailing dot.
    pub name: String,
    /// The TTL in seconds.
    pub ttl: u32,
    /// The type's mnemonic (`TXT`).
    pub rtype: String,
    /// The data in presentation form (`"text"` quoted, names absolute).
    pub data: String,
}

impl DnsRecord {
    /// A record whose data is raw text, as most APIs keep TXT: quoted here.
    pub fn txt(name: String, ttl: u32, raw: &str) -> DnsRecord {
        let data = zonectl_core::RData::Txt(zonectl_core::rdata::Txt::from_value(raw)).to_string();
        DnsRecord { name, ttl, rtype: "TXT".into(), data }
    }
}

/// One zone as the provider's name servers serve it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsZone {
    /// The zone's name, absolute with the trailing dot.
    pub name: String,
    /// Its records; a SOA and NS records are made up where the API keeps none.
    pub records: Vec<DnsRecord>,
}

/// What the server needs of the service: a view of its zones now.
pub(crate) type View = Arc<dyn Fn() -> Vec<DnsZone> + Send + Sync>;

/// The zones as text, and the catalog read from it.
struct Snapshot {
    zones: Vec<DnsZone>,
    catalog: Arc<Catalog>,
}

/// What the DNS server answers from: the service's view, through the propagation delay.
pub(crate) struct Answers {
    view: View,
    /// The name servers the provider's zones get when the API keeps no NS records.
    nameservers: &'static [&'static str],
    /// Where this server is reached: the address the name servers resolve to.
    address: std::net::IpAddr,
    delay: Duration,
    /// Views in the order they were seen, with when: the newest one old enough is served.
    history: Mutex<Vec<(Instant, Arc<Snapshot>)>>,
}

impl Answers {
    pub(crate) fn new(
        view: View,
        nameservers: &'static [&'static str],
        address: std::net::IpAddr,
        delay: Duration,
    ) -> Answers {
        let first = Arc::new(snapshot(view(), nameservers, address));
        Answers { view, nameservers, address, delay, history: Mutex::new(vec![(Instant::now(), first)]) }
    }

    /// Records the current view if it changed; the sampler calls this while a delay is set.
    pub(crate) fn sample(&self) {
        let zones = (self.view)();
        let mut history = self.history.lock().expect("not poisoned");
        if history.last().is_some_and(|(_, s)| s.zones == zones) {
            return;
        }
        let now = Instant::now();
        history.push((now, Arc::new(snapshot(zones, self.nameservers, self.address))));
        // Only the newest view old enough to be served, and the newer ones, are needed.
        if let Some(visible) = history.iter().rposition(|(at, _)| now.duration_since(*at) >= self.delay) {
            history.drain(..visible);
        }
    }

    /// The catalog to answer from now.
    fn catalog(&self) -> Arc<Catalog> {
        if self.delay.is_zero() {
            let zones = (self.view)();
            let mut history = self.history.lock().expect("not poisoned");
            let last = history.last_mut().expect("never empty");
            if last.1.zones != zones {
                *last = (Instant::now(), Arc::new(snapshot(zones, self.nameservers, self.address)));
            }
            return last.1.catalog.clone();
        }
        let history = self.history.lock().expect("not poisoned");
        let now = Instant::now();
        let visible = history.iter().rposition(|(at, _)| now.duration_since(*at) >= self.delay).unwrap_or(0);
        history[visible].1.catalog.clone()
    }

    /// How often the sampler looks at the state: a twentieth of the delay, at least every
    /// 10 ms and at most every second.
    pub(crate) fn sampling_interval(&self) -> Option<Duration> {
        (!self.delay.is_zero()).then(|| (self.delay / 20).clamp(Duration::from_millis(10), Duration::from_secs(1)))
    }
}

/// The hickory request handler: the catalog of the moment answers.
pub(crate) struct Handler(pub(crate) Arc<Answers>);

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(&self, request: &Request, response: R) -> ResponseInfo {
        let catalog = self.0.catalog();
        catalog.handle_request::<R, T>(request, response).await
    }
}

/// The zones read into a catalog, with the server's address for the outside name servers.
fn snapshot(zones: Vec<DnsZone>, nameservers: &'static [&'static str], address: std::net::IpAddr) -> Snapshot {
    let catalog = catalog(&zones, nameservers, Some(address));
    Snapshot { zones, catalog: Arc::new(catalog) }
}

/// The zones as a hickory catalog that answers with authority: AA, NXDOMAIN and NODATA
/// with the SOA in authority, CNAME chains. A zone with no SOA gets one made up, and one
/// with no NS records `nameservers`. With `ns_address`, each name server outside every
/// zone is a zone of its own holding that address, so that a client looking the servers up
/// finds this one. A record hickory cannot read (a provider-only type such as ANAME) is left
/// out rather than failing the whole zone.
pub fn catalog(zones: &[DnsZone], nameservers: &[&str], ns_address: Option<std::net::IpAddr>) -> Catalog {
    let mut catalog = Catalog::new();
    let served: BTreeSet<String> = zones.iter().map(|z| z.name.to_ascii_lowercase()).collect();
    let mut hosts = BTreeSet::new();
    for zone in zones {
        let records = completed(zone, nameservers);
        for ns in records.iter().filter(|r| r.rtype.eq_ignore_ascii_case("NS") && same_name(&r.name, &zone.name)) {
            let host = ns.data.to_ascii_lowercase();
            if !served.iter().any(|z| same_name(&host, z) || host.ends_with(&format!(".{z}"))) {
                hosts.insert(host);
            }
        }
        if let Some(handler) = handler(&zone.name, &records) {
            catalog.upsert(handler.0, vec![Arc::new(handler.1)]);
        }
    }
    let Some(address) = ns_address else { return catalog };
    // Each outside name server as a zone of its own holding its address.
    for host in hosts {
        let family = if address.is_ipv4() { "A" } else { "AAAA" };
        let records = [
            DnsRecord {
                name: host.clone(),
                ttl: 3600,
                rtype: "SOA".into(),
                data: format!("{host} hostmaster.{host} 1 7200 900 1209600 60"),
            },
            DnsRecord { name: host.clone(), ttl: 3600, rtype: "NS".into(), data: host.clone() },
            DnsRecord { name: host.clone(), ttl: 3600, rtype: family.into(), data: address.to_string() },
        ];
        if let Some(handler) = handler(&host, &records) {
            catalog.upsert(handler.0, vec![Arc::new(handler.1)]);
        }
    }
    catalog
}

/// The zone's records with a SOA made up where it has none, and `nameservers` where it has
/// no NS records.
fn completed(zone: &DnsZone, nameservers: &[&str]) -> Vec<DnsRecord> {
    let mut records = zone.records.clone();
    let apex = |r: &DnsRecord, rtype: &str| r.rtype.eq_ignore_ascii_case(rtype) && same_name(&r.name, &zone.name);
    if !records.iter().any(|r| apex(r, "NS")) {
        for ns in nameservers {
            records.push(DnsRecord { name: zone.name.clone(), ttl: 3600, rtype: "NS".into(), data: (*ns).into() });
        }
    }
    if !records.iter().any(|r| apex(r, "SOA")) {
        let primary = records.iter().find(|r| apex(r, "NS")).map_or("ns.invalid.", |r| r.data.as_str()).to_owned();
        let data = format!("{primary} hostmaster.{} 1 7200 900 1209600 60", zone.name);
        records.insert(0, DnsRecord { name: zone.name.clone(), ttl: 3600, rtype: "SOA".into(), data });
    }
    records
}

/// The zone as hickory records, its SOA first (made up where it has none), as a zone
/// transfer sends them.
pub fn zone_records(zone: &DnsZone, nameservers: &[&str]) -> Vec<hickory_server::proto::rr::Record> {
    let Ok(origin) = DnsName::from_ascii(&zone.name) else { return Vec::new() };
    let sets = parsed(&origin, &completed(zone, nameservers));
    let mut records: Vec<_> =
        sets.into_values().flat_map(|set| set.records_without_rrsigs().cloned().collect::<Vec<_>>()).collect();
    records.sort_by_key(|r| r.record_type() != hickory_server::proto::rr::RecordType::SOA);
    records
}

type ZoneHandler = (LowerName, InMemoryZoneHandler<TokioRuntimeProvider>);

fn handler(origin: &str, records: &[DnsRecord]) -> Option<ZoneHandler> {
    let origin_name = DnsName::from_ascii(origin).ok()?;
    let sets = parsed(&origin_name, records);
    let zone = InMemoryZoneHandler::new(origin_name.clone(), sets, ZoneType::Primary, AxfrPolicy::Deny).ok()?;
    Some((LowerName::new(&origin_name), zone))
}

/// Hickory's reading of the records as zone-file text; a record it cannot read is left out.
fn parsed(
    origin_name: &DnsName,
    records: &[DnsRecord],
) -> BTreeMap<hickory_server::proto::rr::RrKey, hickory_server::proto::rr::RecordSet> {
    let line = |r: &DnsRecord| format!("{} {} IN {} {}\n", r.name, r.ttl, r.rtype, r.data);
    let whole: String = records.iter().map(line).collect();
    let parse = |text: String| {
        hickory_server::proto::serialize::txt::Parser::new(text, None, Some(origin_name.clone())).parse()
    };
    match parse(whole) {
        Ok((_, sets)) => sets,
        Err(_) => {
            // Keep what can be read, one record at a time.
            let mut sets = BTreeMap::new();
            for record in records {
                if let Ok((_, more)) = parse(line(record)) {
                    for (key, set) in more {
                        merge(&mut sets, key, set);
                    }
                }
            }
            sets
        }
    }
}

fn merge(
    sets: &mut BTreeMap<hickory_server::proto::rr::RrKey, hickory_server::proto::rr::RecordSet>,
    key: hickory_server::proto::rr::RrKey,
    set: hickory_server::proto::rr::RecordSet,
) {
    match sets.get_mut(&key) {
        Some(existing) => {
            for record in set.records_without_rrsigs() {
                existing.insert(record.clone(), 0);
            }
        }
        None => {
            sets.insert(key, set);
        }
    }
}

/// The name with a trailing dot.
pub(crate) fn fqdn(name: &str) -> String {
    if name.ends_with('.') { name.to_owned() } else { format!("{name}.") }
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.').eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// A running DNS server; dropping it stops it.
pub(crate) struct DnsServer {
    pub(crate) addr: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl DnsServer {
    /// Binds UDP and TCP on the same port (`listen`'s, or one free for both) and serves.
    pub(crate) async fn start(
        listen: SocketAddr,
        view: View,
        nameservers: &'static [&'static str],
        delay: Duration,
    ) -> std::io::Result<DnsServer> {
        let (udp, tcp) = bind_both(listen).await?;
        let addr = udp.local_addr()?;
        let answers = Arc::new(Answers::new(view, nameservers, addr.ip(), delay));
        let mut tasks = Vec::new();
        if let Some(every) = answers.sampling_interval() {
            let sampled = answers.clone();
            tasks.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                loop {
                    tick.tick().await;
                    sampled.sample();
                }
            }));
        }
        let mut server = hickory_server::Server::new(Handler(answers));
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(10), 64);
        tasks.push(tokio::spawn(async move {
            let _ = server.block_until_done().await;
        }));
        Ok(DnsServer { addr, tasks })
    }
}

/// A UDP socket and a TCP listener on one port. With port 0, a port free for both is found
/// by binding UDP first and trying TCP on the same port, a few times.
pub async fn bind_both(listen: SocketAddr) -> std::io::Result<(tokio::net::UdpSocket, tokio::net::TcpListener)> {
    let mut last = None;
    for _ in 0..20 {
        let udp = tokio::net::UdpSocket::bind(listen).await?;
        let port = udp.local_addr()?.port();
        match tokio::net::TcpListener::bind(SocketAddr::new(listen.ip(), port)).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) if listen.port() == 0 => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no port free for both UDP and TCP")))
}

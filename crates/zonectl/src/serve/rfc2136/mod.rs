//! The RFC 2136 gateway: DNS UPDATE (with TSIG) on one side, the providers' APIs on the
//! other, so that nsupdate, knsupdate, certbot's and lego's rfc2136 plugins and the like
//! change records at providers that speak only HTTP.
//!
//! UDP and TCP on one port. The wire format is hickory-proto's; queries and transfers are
//! answered by `zonectl_dns::Authority` from the providers' typed records (read at each
//! zone's first target, cached for a few seconds, and dropped after each update the
//! gateway makes). An UPDATE is one edit transaction: its prerequisites a condition on
//! the zone as it is, its updates a change of every target's records, applied all or
//! nothing.

mod tsig;
mod update;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::RecordType as DnsType;
use hickory_server::net::runtime::TokioTime;
use hickory_server::net::xfer::Protocol;
use hickory_server::server::{Request, RequestHandler as _, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponse;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_util::sync::CancellationToken;
use zonectl_core::edit::{self, Condition, CustomEdit, Desired, Op, Options, Transaction, Unmet};
use zonectl_core::plan::TtlPolicy;
use zonectl_core::provider::RecordFilter;
use zonectl_core::{Name, Record, Zone};
use zonectl_dns::Authority;

use self::tsig::{Key, Verdict};
use super::ServeState;
use crate::config::Rfc2136Config;

/// How long the providers' records answer queries before they are read again.
const CACHE_FOR: Duration = Duration::from_secs(10);
/// How long records past [`CACHE_FOR`] may still answer while one read refreshes them (a
/// provider that is down leaves the gateway answering from what it last read, for a while).
const STALE_FOR: Duration = Duration::from_secs(300);
/// Messages an address may send per second unless configured, and twice that in a burst.
const RATE: u32 = 100;
/// Queries (and unsigned or unverified messages) being answered at once; more are dropped.
const QUERIES_IN_FLIGHT: usize = 256;
/// Signed messages being handled at once: their own room, so queries cannot starve them.
const SIGNED_IN_FLIGHT: usize = 64;
/// TCP connections held at once.
const TCP_CONNECTIONS: usize = 128;
/// Signed requests remembered to refuse a replay: far more than a window's worth from any
/// client; when full, the oldest go first.
const REPLAYS_KEPT: usize = 100_000;

/// The gateway's keys, policy and caches.
pub struct Gateway {
    keys: Vec<Key>,
    /// Zones that take unsigned updates from loopback (lowercase, trailing dot).
    unsigned: Vec<String>,
    /// The fudge a request may claim, at most.
    max_fudge: u16,
    /// Addresses the per-address limit does not count.
    unlimited: Vec<(IpAddr, u8)>,
    /// Messages per second per address.
    rate: f64,
    cache: Cache,
    budgets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
    replays: Mutex<Replays>,
    queries: Arc<tokio::sync::Semaphore>,
    signed: Arc<tokio::sync::Semaphore>,
}

/// The answers' source: the zones as last read, and the one read that refreshes them.
#[derive(Default)]
struct Cache {
    current: Mutex<Option<Cached>>,
    refreshing: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Clone)]
struct Cached {
    at: Instant,
    /// The zones, or why they could not be read (remembered too: a provider that is down
    /// is not asked again by every query).
    read: Result<Arc<Authority>, String>,
}

/// The signed requests seen within their time window, by key and MAC.
#[derive(Default)]
struct Replays {
    seen: HashMap<(String, Vec<u8>), u64>,
    order: std::collections::VecDeque<((String, Vec<u8>), u64)>,
}

impl Replays {
    /// Remembers a request signed at `time`; false if it was seen before. Entries older
    /// than `window` before now go (a replay of those fails the time check).
    fn first_time(&mut self, key: &str, mac: &[u8], time: u64, now: u64, window: u64) -> bool {
        while let Some((entry, at)) = self.order.front()
            && (at.saturating_add(window) < now || self.order.len() > REPLAYS_KEPT)
        {
            if self.seen.get(entry) == Some(at) {
                self.seen.remove(entry);
            }
            self.order.pop_front();
        }
        let entry = (key.to_owned(), mac.to_vec());
        if self.seen.contains_key(&entry) {
            return false;
        }
        self.seen.insert(entry.clone(), time);
        self.order.push_back((entry, time));
        true
    }
}

/// `192.0.2.7`, `10.0.0.0/8`, `::1`, `fd00::/8`.
fn network(text: &str) -> anyhow::Result<(IpAddr, u8)> {
    let (addr, prefix) = text.trim().split_once('/').map_or((text.trim(), None), |(a, p)| (a, Some(p)));
    let addr: IpAddr = addr.parse().with_context(|| format!("'{text}' is not an address or network"))?;
    let most = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        Some(p) => p.parse::<u8>().ok().filter(|p| *p <= most).with_context(|| format!("'{text}': bad prefix"))?,
        None => most,
    };
    Ok((addr, prefix))
}

fn in_network(addr: IpAddr, (net, prefix): (IpAddr, u8)) -> bool {
    match (addr.to_canonical(), net.to_canonical()) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

impl Gateway {
    pub fn load(config: &Rfc2136Config, config_dir: &Path) -> anyhow::Result<Gateway> {
        let keys = config.keys.iter().map(|k| Key::load(k, config_dir)).collect::<anyhow::Result<Vec<_>>>()?;
        let unsigned = config
            .allow_unsigned
            .iter()
            .map(|z| format!("{}.", z.trim().trim_end_matches('.').to_ascii_lowercase()))
            .collect();
        let max_fudge = config.max_fudge.unwrap_or(tsig::FUDGE);
        if max_fudge > tsig::FUDGE {
            anyhow::bail!("[serve.rfc2136] max_fudge {max_fudge}: at most {} (RFC 8945)", tsig::FUDGE);
        }
        let unlimited = config
            .unlimited
            .iter()
            .map(|n| network(n).map_err(|e| anyhow::anyhow!("[serve.rfc2136] unlimited: {e}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let rate = config.per_address.unwrap_or(RATE);
        if rate == 0 {
            anyhow::bail!("[serve.rfc2136] per_address = 0 would answer nobody");
        }
        Ok(Gateway {
            keys,
            unsigned,
            max_fudge,
            unlimited,
            rate: f64::from(rate),
            cache: Cache::default(),
            budgets: Mutex::new(HashMap::new()),
            replays: Mutex::new(Replays::default()),
            queries: Arc::new(tokio::sync::Semaphore::new(QUERIES_IN_FLIGHT)),
            signed: Arc::new(tokio::sync::Semaphore::new(SIGNED_IN_FLIGHT)),
        })
    }

    pub fn has_keys(&self) -> bool {
        !self.keys.is_empty() || !self.unsigned.is_empty()
    }

    /// Whether `peer` may send another message now: every address has a budget, loopback
    /// included, but for the configured `unlimited` networks.
    fn admit(&self, peer: IpAddr) -> bool {
        if self.unlimited.iter().any(|&net| in_network(peer, net)) {
            return true;
        }
        let burst = self.rate * 2.0;
        let mut budgets = self.budgets.lock().expect("not poisoned");
        if budgets.len() > 10_000 {
            budgets.retain(|_, (_, at)| at.elapsed() < Duration::from_secs(60));
            if budgets.len() > 10_000 {
                // A flood from many addresses: forget them all rather than grow.
                budgets.clear();
            }
        }
        let (tokens, at) = budgets.entry(peer).or_insert((burst, Instant::now()));
        *tokens = (*tokens + at.elapsed().as_secs_f64() * self.rate).min(burst);
        *at = Instant::now();
        if *tokens < 1.0 {
            return false;
        }
        *tokens -= 1.0;
        true
    }

    /// Drops what was read: the next query reads again (and waits for that read), so that
    /// it sees an update just made.
    fn invalidate(&self) {
        *self.cache.current.lock().expect("not poisoned") = None;
    }
}

/// Binds UDP and TCP on `listen` and serves until `stop`.
pub async fn listen(
    state: Arc<ServeState>,
    listen: SocketAddr,
    stop: CancellationToken,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let (udp, tcp) = zonectl_dns::bind_both(listen).await?;
    let addr = udp.local_addr()?;
    let udp = Arc::new(udp);
    let task = tokio::spawn(async move {
        let udp_loop = serve_udp(state.clone(), udp, stop.clone());
        let tcp_loop = serve_tcp(state, tcp, stop);
        tokio::join!(udp_loop, tcp_loop);
    });
    Ok((addr, task))
}

/// Decides, in the receive loop and before any task is made, whether `raw` from `peer` is
/// worth one: a valid signature earns a place in the signed messages' room (its replays are
/// refused); everything else spends the address's rate and a place in the queries' room.
/// The place is held while the message is handled. Turned away (and counted): dropped, or
/// answered at once (a replay gets REFUSED).
fn admit(
    state: &ServeState,
    raw: &[u8],
    peer: SocketAddr,
) -> Result<tokio::sync::OwnedSemaphorePermit, Option<Vec<u8>>> {
    let gateway = &state.rfc2136;
    let turned_away = |reason: &str| {
        state.metrics.turned_away("rfc2136", reason);
        Err(None)
    };
    if let Ok(message) = Message::from_vec(raw)
        && let Verdict::Signed { key, request_mac, time } =
            tsig::verify(raw, &message, &gateway.keys, gateway.max_fudge)
    {
        let window = u64::from(gateway.max_fudge) * 2;
        let first = gateway.replays.lock().expect("not poisoned").first_time(
            &key.name.to_string(),
            &request_mac,
            time,
            tsig::now(),
            window,
        );
        if !first {
            tracing::info!(
                target: "zonectl::serve",
                "rfc2136: {peer}: a request signed with key {} seen before (a replay, or a resend): REFUSED",
                key.name
            );
            state.metrics.turned_away("rfc2136", "replay");
            return Err(answer_with(raw, ResponseCode::Refused));
        }
        return match gateway.signed.clone().try_acquire_owned() {
            Ok(permit) => Ok(permit),
            Err(_) => turned_away("busy"),
        };
    }
    if !gateway.admit(peer.ip()) {
        return turned_away("rate");
    }
    match gateway.queries.clone().try_acquire_owned() {
        Ok(permit) => Ok(permit),
        Err(_) => turned_away("busy"),
    }
}

async fn serve_udp(state: Arc<ServeState>, socket: Arc<tokio::net::UdpSocket>, stop: CancellationToken) {
    let mut buffer = vec![0u8; 65_535];
    loop {
        let (n, peer) = tokio::select! {
            received = socket.recv_from(&mut buffer) => match received {
                Ok(r) => r,
                Err(_) => continue,
            },
            () = stop.cancelled() => return,
        };
        let raw = buffer[..n].to_vec();
        let permit = match admit(&state, &raw, peer) {
            Ok(permit) => permit,
            Err(answer) => {
                if let Some(answer) = answer {
                    let _ = socket.send_to(&answer, peer).await;
                }
                continue;
            }
        };
        let (state, socket) = (state.clone(), socket.clone());
        tokio::spawn(async move {
            let _permit = permit;
            for answer in handle(&state, &raw, peer, Protocol::Udp).await {
                let _ = socket.send_to(&answer, peer).await;
            }
        });
    }
}

async fn serve_tcp(state: Arc<ServeState>, listener: tokio::net::TcpListener, stop: CancellationToken) {
    let connections = Arc::new(tokio::sync::Semaphore::new(TCP_CONNECTIONS));
    loop {
        let (mut stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(_) => { tokio::time::sleep(Duration::from_millis(50)).await; continue; }
            },
            () = stop.cancelled() => return,
        };
        let Ok(slot) = connections.clone().try_acquire_owned() else {
            state.metrics.turned_away("rfc2136", "connections");
            continue;
        };
        let state = state.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let _slot = slot;
            loop {
                // A connection that sends nothing for ten seconds is closed.
                let length = tokio::select! {
                    read = tokio::time::timeout(Duration::from_secs(10), stream.read_u16()) => match read {
                        Ok(Ok(length)) => usize::from(length),
                        _ => return,
                    },
                    () = stop.cancelled() => return,
                };
                let mut raw = vec![0u8; length];
                if tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut raw)).await.is_err() {
                    return;
                }
                let answers = match admit(&state, &raw, peer) {
                    Ok(permit) => {
                        let answers = handle(&state, &raw, peer, Protocol::Tcp).await;
                        drop(permit);
                        answers
                    }
                    Err(Some(answer)) => vec![answer],
                    Err(None) => return,
                };
                for answer in answers {
                    let Ok(length) = u16::try_from(answer.len()) else { return };
                    let mut framed = length.to_be_bytes().to_vec();
                    framed.extend_from_slice(&answer);
                    if stream.write_all(&framed).await.is_err() {
                        return;
                    }
                }
            }
        });
    }
}

/// One message in, the messages out (several for a zone transfer, none for a packet that
/// is not worth an answer).
async fn handle(state: &Arc<ServeState>, raw: &[u8], peer: SocketAddr, protocol: Protocol) -> Vec<Vec<u8>> {
    let message = match Message::from_vec(raw) {
        Ok(m) if m.metadata.message_type == MessageType::Query => m,
        Ok(_) => return Vec::new(),
        // A header we can read gets FORMERR; anything shorter is dropped.
        Err(_) => return formerr(raw).into_iter().collect(),
    };
    let gateway = &state.rfc2136;
    let verdict = tsig::verify(raw, &message, &gateway.keys, gateway.max_fudge);
    let mut response = Message::response(message.metadata.id, message.metadata.op_code);
    response.queries = message.queries.clone();
    let signer = match verdict {
        Verdict::Failed { error, key_name, algorithm, signed_with } => {
            response.metadata.response_code = ResponseCode::NotAuth;
            tracing::info!(target: "zonectl::serve", "rfc2136: {peer}: TSIG {error:?} with key {key_name}");
            match signed_with {
                Some((key, request_mac)) => {
                    let _ = tsig::sign(&mut response, key, &request_mac, Some(error));
                }
                None => tsig::unsigned_error(&mut response, key_name, algorithm, error),
            }
            return response.to_vec().into_iter().collect();
        }
        Verdict::Signed { key, request_mac, .. } => Some((key, request_mac)),
        Verdict::Unsigned => None,
    };
    let key = signer.as_ref().map(|(k, _)| *k);
    let answers: Vec<Message> = match message.metadata.op_code {
        OpCode::Update => vec![update(state, &message, key, peer, response).await],
        OpCode::Query => {
            let qtype = message.queries.first().map(|q| q.query_type());
            match qtype {
                Some(DnsType::AXFR) => transfer(state, &message, key, protocol, response).await,
                Some(DnsType::IXFR) => {
                    response.metadata.response_code = ResponseCode::NotImp;
                    vec![response]
                }
                _ => query(state, &message, key, protocol, response).await.into_iter().collect(),
            }
        }
        _ => {
            response.metadata.response_code = ResponseCode::NotImp;
            vec![response]
        }
    };
    // The first answer's MAC covers the request's; each later one's (a zone transfer in
    // several messages) the one before it.
    let mut previous: Option<Vec<u8>> = None;
    let mut out = Vec::with_capacity(answers.len());
    for mut answer in answers {
        if let Some((key, request_mac)) = &signer {
            let signed = match &previous {
                None => tsig::sign(&mut answer, key, request_mac, None),
                Some(mac) => tsig::sign_continuation(&mut answer, key, mac),
            };
            if signed.is_err() {
                break;
            }
            previous = Some(tsig::mac_of(&answer));
        }
        match answer.to_vec() {
            Ok(bytes) => out.push(bytes),
            Err(_) => break,
        }
    }
    out
}

/// FORMERR for a message whose header can be read.
fn formerr(raw: &[u8]) -> Option<Vec<u8>> {
    answer_with(raw, ResponseCode::FormErr)
}

/// An answer with `rcode` alone to a request whose header can be read.
fn answer_with(raw: &[u8], rcode: ResponseCode) -> Option<Vec<u8>> {
    if raw.len() < 12 || raw[2] & 0x80 != 0 {
        return None;
    }
    let id = u16::from_be_bytes([raw[0], raw[1]]);
    let op_code = OpCode::from_u8((raw[2] >> 3) & 0x0f);
    Message::error_msg(id, op_code, rcode).to_vec().ok()
}

/// What answers for the providers' zones: read at most once per [`CACHE_FOR`] whatever
/// arrives. Concurrent misses wait for one read; past [`CACHE_FOR`], what was read answers
/// while one read refreshes it in the background.
async fn cached(state: &Arc<ServeState>) -> Result<Arc<Authority>, String> {
    let cache = &state.rfc2136.cache;
    let now = cache.current.lock().expect("not poisoned").clone();
    match now {
        Some(c) if c.at.elapsed() < CACHE_FOR => return c.read,
        Some(Cached { at, read: Ok(authority) }) if at.elapsed() < CACHE_FOR + STALE_FOR => {
            if let Ok(turn) = cache.refreshing.clone().try_lock_owned() {
                let state = state.clone();
                tokio::spawn(async move {
                    let _turn = turn;
                    let _ = read_zones(&state).await;
                });
            }
            return Ok(authority);
        }
        _ => {}
    }
    let _turn = cache.refreshing.lock().await;
    // Whoever held the turn may have read them meanwhile.
    if let Some(c) = cache.current.lock().expect("not poisoned").clone()
        && c.at.elapsed() < CACHE_FOR
    {
        return c.read;
    }
    read_zones(state).await
}

/// Reads every routed zone at its first target, and keeps what it read (or why not).
async fn read_zones(state: &ServeState) -> Result<Arc<Authority>, String> {
    let (read, counts) = zonectl_core::meter::measured(async {
        let mut zones = Vec::new();
        for route in state.router.routes().into_iter().flatten() {
            let records = super::webhook::read_first(&route).await.map_err(|e| e.to_string())?;
            zones.push(Zone::from_records(route.zone.clone(), records));
        }
        Ok::<_, String>(zones)
    })
    .await;
    state.metrics.cost(&counts);
    // A SOA is made up where the API keeps none, so that certbot finds the zone.
    let read = read.map(|zones| Arc::new(Authority::new(&zones, &[], None)));
    *state.rfc2136.cache.current.lock().expect("not poisoned") =
        Some(Cached { at: Instant::now(), read: read.clone() });
    read
}

/// A query, answered with authority.
async fn query(
    state: &Arc<ServeState>,
    message: &Message,
    key: Option<&Key>,
    protocol: Protocol,
    mut response: Message,
) -> Option<Message> {
    // A key's rights are its rights for what it asks, too: a key for `_acme-challenge.*`
    // TXT records does not read the rest of the zone. (Unsigned questions are answered:
    // what is in the zones is public in the DNS.)
    if let (Some(key), Some(question)) = (key, message.queries.first()) {
        let name = question.name().to_ascii().trim_end_matches('.').to_ascii_lowercase();
        let in_zone = key.zones.iter().any(|z| {
            let z = z.trim_end_matches('.');
            name == z || name.ends_with(&format!(".{z}"))
        });
        if !in_zone || !key.may_change(&name, &question.query_type().to_string()) {
            response.metadata.response_code = ResponseCode::Refused;
            return Some(response);
        }
    }
    let authority = match cached(state).await {
        Ok(authority) => authority,
        Err(e) => {
            tracing::warn!(target: "zonectl::serve", "rfc2136: cannot read the zones: {e}");
            response.metadata.response_code = ResponseCode::ServFail;
            return Some(response);
        }
    };
    // The catalog sees the question without its signature (ours goes on the answer).
    let mut unsigned = message.clone();
    unsigned.signature = None;
    let bytes = unsigned.to_vec().ok()?;
    let request = Request::from_bytes(bytes, SocketAddr::from(([127, 0, 0, 1], 0)), protocol).ok()?;
    let capture = Capture::default();
    authority.handle_request::<Capture, TokioTime>(&request, capture.clone()).await;
    let bytes = capture.0.lock().expect("not poisoned").take()?;
    let mut answer = Message::from_vec(&bytes).ok()?;
    let limit = match (&protocol, &message.edns) {
        (Protocol::Udp, Some(edns)) => usize::from(edns.max_payload().max(512)),
        (Protocol::Udp, None) => 512,
        _ => usize::from(u16::MAX),
    };
    // Room for our TSIG, then TC if it does not fit.
    if bytes.len() + 200 > limit {
        answer = answer.truncate();
        answer.metadata.truncation = true;
    }
    Some(answer)
}

/// What the catalog sends, kept.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Option<Vec<u8>>>>);

#[async_trait::async_trait]
impl ResponseHandler for Capture {
    async fn send_response<'a>(
        &mut self,
        response: MessageResponse<
            '_,
            'a,
            impl Iterator<Item = &'a hickory_proto::rr::Record> + Send + 'a,
            impl Iterator<Item = &'a hickory_proto::rr::Record> + Send + 'a,
            impl Iterator<Item = &'a hickory_proto::rr::Record> + Send + 'a,
            impl Iterator<Item = &'a hickory_proto::rr::Record> + Send + 'a,
        >,
    ) -> Result<ResponseInfo, hickory_server::net::NetError> {
        let mut bytes = Vec::with_capacity(512);
        let mut encoder = hickory_proto::serialize::binary::BinEncoder::new(&mut bytes);
        encoder.set_max_size(u16::MAX);
        let info = response.destructive_emit(&mut encoder)?;
        *self.0.lock().expect("not poisoned") = Some(bytes);
        Ok(info)
    }
}

/// Records per message of a zone transfer: well under 64 KiB for ordinary records.
const TRANSFER_CHUNK: usize = 300;

/// AXFR over TCP, to a key allowed the zone: the zone as the provider holds it, SOA first
/// and last, in as many messages as it takes.
async fn transfer(
    state: &Arc<ServeState>,
    message: &Message,
    key: Option<&Key>,
    protocol: Protocol,
    mut response: Message,
) -> Vec<Message> {
    let zone = message.queries.first().and_then(|q| Name::parse(&q.name().to_ascii()).ok());
    // A key limited to some names or types does not get the whole zone, unless granted
    // `transfer = true` (BIND's allow-transfer and Knot's `transfer` action are separate
    // grants too).
    let allowed = zone
        .as_ref()
        .is_some_and(|z| key.is_some_and(|k| k.zones.contains(&z.as_str().to_ascii_lowercase()) && k.may_transfer()));
    if protocol != Protocol::Tcp || !allowed {
        response.metadata.response_code = ResponseCode::Refused;
        return vec![response];
    }
    let zone = zone.expect("checked");
    let records = match cached(state).await {
        Ok(authority) => match authority.transfer(&zone) {
            Some(records) if !records.is_empty() => records.to_vec(),
            _ => {
                response.metadata.response_code = ResponseCode::NotAuth;
                return vec![response];
            }
        },
        Err(_) => {
            response.metadata.response_code = ResponseCode::ServFail;
            return vec![response];
        }
    };
    let mut all = records.clone();
    all.push(records[0].clone());
    response.metadata.authoritative = true;
    all.chunks(TRANSFER_CHUNK)
        .enumerate()
        .map(|(i, chunk)| {
            let mut part = response.clone();
            if i > 0 {
                // Only the first message repeats the question.
                part.queries.clear();
            }
            part.answers = chunk.to_vec();
            part
        })
        .collect()
}

/// An UPDATE: the zone section, the key's rights, then the rest under the zone's lock.
async fn update(
    state: &Arc<ServeState>,
    message: &Message,
    key: Option<&Key>,
    peer: SocketAddr,
    mut response: Message,
) -> Message {
    let rcode = match check_and_apply(state, message, key, peer).await {
        Ok(()) => ResponseCode::NoError,
        Err(rcode) => rcode,
    };
    response.metadata.response_code = rcode;
    response
}

async fn check_and_apply(
    state: &Arc<ServeState>,
    message: &Message,
    key: Option<&Key>,
    peer: SocketAddr,
) -> Result<(), ResponseCode> {
    let [zone_query] = message.queries.as_slice() else { return Err(ResponseCode::FormErr) };
    if zone_query.query_type() != DnsType::SOA {
        return Err(ResponseCode::FormErr);
    }
    let zone = Name::parse(&zone_query.name().to_ascii()).map_err(|_| ResponseCode::FormErr)?;
    // §3.1.1: a zone this server is not authoritative for is NOTAUTH, before any permission.
    let route = match state.router.find(&zone).await {
        Ok(route) if route.zone == zone => route,
        Ok(_) | Err(_) => {
            tracing::info!(target: "zonectl::serve", "rfc2136: {peer}: {zone} is not a zone served here: NOTAUTH");
            return Err(ResponseCode::NotAuth);
        }
    };
    let zone_key = zone.as_str().to_ascii_lowercase();
    let key_name = key.map_or_else(|| "(unsigned)".to_owned(), |k| k.name.to_string());
    let permitted = match key {
        Some(k) => k.zones.contains(&zone_key),
        None => state.rfc2136.unsigned.contains(&zone_key) && peer.ip().to_canonical().is_loopback(),
    };
    if !permitted {
        tracing::info!(target: "zonectl::serve", key = %key_name, zone = %zone, "rfc2136: {peer}: key {key_name} may not update {zone}: REFUSED");
        return Err(ResponseCode::Refused);
    }
    let prerequisites = message.answers.iter().map(update::entry).collect::<Result<Vec<_>, _>>()?;
    let updates = message.authorities.iter().map(update::entry).collect::<Result<Vec<_>, _>>()?;
    let count = updates.len();
    // The key's rights are on the message alone: checked before anything is read.
    if let Some(k) = key {
        for u in &updates {
            let name = u.name.as_str().trim_end_matches('.').to_ascii_lowercase();
            // A delete of every type at a name needs a key for every type.
            let rtype = u.rtype.map_or_else(|| "ANY".to_owned(), |t| t.to_string());
            if !k.may_change(&name, &rtype) {
                tracing::info!(target: "zonectl::serve", "rfc2136: key {key_name} may not change {} {:?}: REFUSED", u.name, u.rtype);
                return Err(ResponseCode::Refused);
            }
        }
    }
    update::prescan(&zone, &updates)?;
    let condition_zone = zone.clone();
    let condition: Condition = Arc::new(move |records: &[Record]| {
        update::check_prerequisites(&condition_zone, records, &prerequisites)
            .map_err(|rcode| Unmet { message: format!("prerequisite not met: {rcode}"), code: u16::from(rcode) })
    });
    let update_zone = zone.clone();
    let updates = Arc::new(updates);
    let apply: CustomEdit = Arc::new(move |records: &mut Vec<Record>| update::apply(&update_zone, records, &updates));
    let transaction = Transaction {
        route,
        desired: Desired::Edit {
            filter: RecordFilter::default(),
            ops: vec![Op::Custom(apply)],
            condition: Some(condition),
        },
        // A TTL the provider refuses is refused here, not changed behind the client's back.
        options: Options { ttl_policy: TtlPolicy::Refuse, force: true, lock: true, ..Options::default() },
    };
    // In a task of its own: a client that goes away does not cut an apply short.
    let what = format!("rfc2136: update of {zone} by {peer} with key {key_name}");
    let outcome = state.spawn_change(what, edit::run(transaction)).await;
    let (rcode, calls) = match outcome {
        Ok(Ok(report)) => {
            super::log_report(state, "rfc2136", &format!("update by {peer} with key {key_name}"), &report);
            if report.changed() {
                state.rfc2136.invalidate();
            }
            let calls = report.targets.iter().map(|t| t.requests()).sum::<u64>();
            match report.first_error() {
                None if report.is_ok() => (ResponseCode::NoError, calls),
                error => {
                    if let Some(e) = error {
                        tracing::warn!(target: "zonectl::serve", "rfc2136: {zone}: {e}");
                    }
                    (ResponseCode::ServFail, calls)
                }
            }
        }
        Ok(Err(zonectl_core::Error::ConditionFailed { code, .. })) => (ResponseCode::from_low(code as u8), 0),
        Ok(Err(e @ zonectl_core::Error::Refused { .. })) => {
            tracing::info!(target: "zonectl::serve", "rfc2136: {zone}: {e}: REFUSED");
            (ResponseCode::Refused, 0)
        }
        Ok(Err(e)) => {
            tracing::warn!(target: "zonectl::serve", "rfc2136: {zone}: {e}");
            (ResponseCode::ServFail, 0)
        }
        Err(_) => (ResponseCode::ServFail, 0),
    };
    tracing::info!(
        target: "zonectl::serve",
        key = %key_name,
        zone = %zone,
        changes = count,
        rcode = %rcode,
        provider_calls = calls,
        "rfc2136: {peer}: update of {zone} with key {key_name}: {count} change(s), {rcode}, {calls} provider call(s)"
    );
    if rcode == ResponseCode::NoError { Ok(()) } else { Err(rcode) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_from_one_address_is_cut_to_the_rate_loopback_included() {
        let config = Rfc2136Config { unlimited: vec!["10.1.0.0/16".into(), "::1".into()], ..Rfc2136Config::default() };
        let gateway = Gateway::load(&config, Path::new(".")).unwrap();
        let flooder: IpAddr = "192.0.2.9".parse().unwrap();
        let admitted = (0..1000).filter(|_| gateway.admit(flooder)).count();
        // The burst, and what the rate refills while the loop runs (well under a second).
        assert!((200..300).contains(&admitted), "{admitted}");
        assert!(gateway.admit("192.0.2.10".parse().unwrap()), "another address has its own budget");
        let loopback = (0..1000).filter(|_| gateway.admit("127.0.0.1".parse().unwrap())).count();
        assert!((200..300).contains(&loopback), "loopback is limited too: {loopback}");
        assert!((0..1000).all(|_| gateway.admit("10.1.200.3".parse().unwrap())), "an unlimited network");
        assert!((0..1000).all(|_| gateway.admit("::1".parse().unwrap())));
        assert!(!(0..1000).all(|_| gateway.admit("10.2.0.1".parse().unwrap())), "outside the network");
    }

    #[test]
    fn networks_and_addresses() {
        let net = |t: &str| network(t).unwrap();
        assert!(in_network("10.1.2.3".parse().unwrap(), net("10.0.0.0/8")));
        assert!(!in_network("11.1.2.3".parse().unwrap(), net("10.0.0.0/8")));
        assert!(in_network("192.0.2.7".parse().unwrap(), net("192.0.2.7")));
        assert!(in_network("::ffff:192.0.2.7".parse().unwrap(), net("192.0.2.0/24")), "a mapped address");
        assert!(in_network("fd00::5".parse().unwrap(), net("fd00::/8")));
        assert!(in_network("203.0.113.1".parse().unwrap(), net("0.0.0.0/0")));
        assert!(!in_network("::1".parse().unwrap(), net("0.0.0.0/0")));
        assert!(network("10.0.0.0/33").is_err() && network("ten").is_err());
    }

    #[test]
    fn a_signed_request_is_taken_once_within_its_window() {
        let mut replays = Replays::default();
        assert!(replays.first_time("k.", b"mac-1", 1000, 1000, 600));
        assert!(!replays.first_time("k.", b"mac-1", 1000, 1001, 600), "a replay");
        assert!(replays.first_time("other.", b"mac-1", 1000, 1001, 600), "another key's MAC is another request");
        assert!(replays.first_time("k.", b"mac-2", 1001, 1002, 600));
        // Past the window the entry goes (the time check refuses such a replay anyway).
        assert!(replays.first_time("k.", b"mac-3", 2000, 2000, 600));
        assert_eq!(replays.seen.len(), 1);
    }
}

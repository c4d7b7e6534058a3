//! An authoritative name server on UDP and TCP over a changing view of zones, showing each
//! change after a propagation delay: the emulated providers' name servers, which ACME
//! clients and CAs ask.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_server::net::runtime::Time;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use zonectl_core::{Name, Zone};

use crate::Authority;

/// The zones as they are now.
pub type View = Arc<dyn Fn() -> Vec<Zone> + Send + Sync>;

/// One view of the zones and what answers from it.
struct Snapshot {
    zones: Vec<Zone>,
    authority: Arc<Authority>,
}

/// What the server answers from: the view, through the propagation delay.
struct Answers {
    view: View,
    /// The name servers the zones get when they have no NS records.
    nameservers: Vec<Name>,
    /// Where this server is reached: the address those name servers resolve to.
    address: IpAddr,
    delay: Duration,
    /// Views in the order they were seen, with when: the newest one old enough is served.
    history: Mutex<Vec<(Instant, Arc<Snapshot>)>>,
}

impl Answers {
    fn snapshot(&self, zones: Vec<Zone>) -> Arc<Snapshot> {
        let authority = Arc::new(Authority::new(&zones, &self.nameservers, Some(self.address)));
        Arc::new(Snapshot { zones, authority })
    }

    /// Records the current view if it changed; the sampler calls this while a delay is set.
    fn sample(&self) {
        let zones = (self.view)();
        if self.history.lock().expect("not poisoned").last().is_some_and(|(_, s)| s.zones == zones) {
            return;
        }
        let snapshot = self.snapshot(zones);
        let mut history = self.history.lock().expect("not poisoned");
        let now = Instant::now();
        history.push((now, snapshot));
        // Only the newest view old enough to be served, and the newer ones, are needed.
        if let Some(visible) = history.iter().rposition(|(at, _)| now.duration_since(*at) >= self.delay) {
            history.drain(..visible);
        }
    }

    /// What answers now.
    fn authority(&self) -> Arc<Authority> {
        if self.delay.is_zero() {
            let zones = (self.view)();
            let unchanged = self.history.lock().expect("not poisoned").last().is_some_and(|(_, s)| s.zones == zones);
            if !unchanged {
                let snapshot = self.snapshot(zones);
                *self.history.lock().expect("not poisoned").last_mut().expect("never empty") =
                    (Instant::now(), snapshot);
            }
            return self.history.lock().expect("not poisoned").last().expect("never empty").1.authority.clone();
        }
        let history = self.history.lock().expect("not poisoned");
        let now = Instant::now();
        let visible = history.iter().rposition(|(at, _)| now.duration_since(*at) >= self.delay).unwrap_or(0);
        history[visible].1.authority.clone()
    }

    /// How often the sampler looks at the view: a twentieth of the delay, at least every
    /// 10 ms and at most every second.
    fn sampling_interval(&self) -> Option<Duration> {
        (!self.delay.is_zero()).then(|| (self.delay / 20).clamp(Duration::from_millis(10), Duration::from_secs(1)))
    }
}

struct Handler(Arc<Answers>);

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(&self, request: &Request, response: R) -> ResponseInfo {
        self.0.authority().handle_request::<R, T>(request, response).await
    }
}

/// A running name server; dropping it stops it.
pub struct DnsServer {
    addr: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for DnsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsServer").field("addr", &self.addr).finish()
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl DnsServer {
    /// Binds UDP and TCP on one port (`listen`'s, or one free for both) and answers from
    /// `view`, each change shown `delay` after it is seen; zones without NS records get
    /// `nameservers`, which resolve to this server.
    pub async fn start(
        listen: SocketAddr,
        view: View,
        nameservers: Vec<Name>,
        delay: Duration,
    ) -> std::io::Result<DnsServer> {
        let (udp, tcp) = bind_both(listen).await?;
        let addr = udp.local_addr()?;
        let first = (view)();
        let answers =
            Arc::new(Answers { view, nameservers, address: addr.ip(), delay, history: Mutex::new(Vec::new()) });
        let snapshot = answers.snapshot(first);
        answers.history.lock().expect("not poisoned").push((Instant::now(), snapshot));
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

    /// Where it answers (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
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

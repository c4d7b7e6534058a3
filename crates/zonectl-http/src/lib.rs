//! The HTTP/1 listener `zonectl serve` and the emulators share, for a network where some
//! clients are hostile: a connection may take only so long to send a request head (and to
//! send the next one: an idle keep-alive connection is closed), a body only so long, and
//! only so many connections are held — when that many are open, the oldest one with no
//! request under way is closed to make room, so that silent connections cannot keep a new
//! client (a health probe) out. On stop the listener accepts no more, and the connections
//! finish the requests under way.

#![deny(missing_docs)]

use std::collections::HashMap;
use std::future::Future as _;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use bytes::Bytes;
pub use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What a listener allows each client.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections held at once.
    pub max_connections: usize,
    /// Time to send a request head, counted from the connection's start or the end of the
    /// previous answer: a silent or idle connection is closed after it.
    pub header_timeout: Duration,
    /// Time to send a whole request body.
    pub body_timeout: Duration,
    /// Time to finish a TLS handshake.
    pub handshake_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 256,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// A TLS acceptor from a PEM certificate chain and key (`--tls-cert`, `--tls-key`); the
/// error says which file is wrong, in words.
pub fn tls_acceptor(cert: &std::path::Path, key: &std::path::Path) -> Result<tokio_rustls::TlsAcceptor, String> {
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("--tls-cert {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("--tls-cert {}: no certificate in it", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("--tls-key {}: {e}", key.display()))?;
    let config = tokio_rustls::rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("--tls-cert and --tls-key do not make a TLS configuration: {e}"))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Called with why a connection was turned away (`connections`: every one open has a
/// request under way), for a metric.
pub type OnRefused = Arc<dyn Fn(&'static str) + Send + Sync>;

/// One open connection, as the listener keeps track of it.
struct Open {
    since: Instant,
    /// Requests under way on it.
    busy: Arc<AtomicUsize>,
    close: CancellationToken,
}

/// Serves `app` on `listener` (through TLS with `tls`) within `limits` until `stop`, then
/// lets the requests under way finish. Handlers see the client's address as
/// [`ConnectInfo<SocketAddr>`].
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limits: Limits,
    stop: CancellationToken,
    on_refused: OnRefused,
) {
    let open: Arc<Mutex<HashMap<u64, Open>>> = Arc::default();
    let next_id = AtomicU64::new(0);
    let connections = TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of descriptors, or a reset before accept: a moment, then go on.
                Err(_) => { tokio::time::sleep(Duration::from_millis(50)).await; continue; }
            },
            () = stop.cancelled() => break,
        };
        let Some(close) = make_room(&open, limits.max_connections) else {
            on_refused("connections");
            drop(stream);
            continue;
        };
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let busy = Arc::new(AtomicUsize::new(0));
        open.lock()
            .expect("not poisoned")
            .insert(id, Open { since: Instant::now(), busy: busy.clone(), close: close.clone() });
        let (app, tls, stop, open) = (app.clone(), tls.clone(), stop.clone(), open.clone());
        connections.spawn(async move {
            tokio::select! {
                () = connection(stream, peer, app, tls, limits, busy, stop) => {}
                () = close.cancelled() => {}
            }
            open.lock().expect("not poisoned").remove(&id);
        });
    }
    connections.close();
    connections.wait().await;
}

/// A token to close the next connection with, once there is room for it: at the cap, the
/// oldest connection with no request under way is closed; `None` when every one is busy.
fn make_room(open: &Mutex<HashMap<u64, Open>>, max: usize) -> Option<CancellationToken> {
    let mut open = open.lock().expect("not poisoned");
    if open.len() >= max.max(1) {
        let idle = open
            .iter()
            .filter(|(_, c)| c.busy.load(Ordering::SeqCst) == 0)
            .min_by_key(|(_, c)| c.since)
            .map(|(id, _)| *id)?;
        if let Some(evicted) = open.remove(&idle) {
            evicted.close.cancel();
        }
    }
    Some(CancellationToken::new())
}

async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: axum::Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limits: Limits,
    busy: Arc<AtomicUsize>,
    stop: CancellationToken,
) {
    match tls {
        Some(acceptor) => {
            let Ok(Ok(stream)) = tokio::time::timeout(limits.handshake_timeout, acceptor.accept(stream)).await else {
                return;
            };
            http1(hyper_util::rt::TokioIo::new(stream), peer, app, limits, busy, stop).await;
        }
        None => http1(hyper_util::rt::TokioIo::new(stream), peer, app, limits, busy, stop).await,
    }
}

async fn http1<I>(
    io: I,
    peer: SocketAddr,
    app: axum::Router,
    limits: Limits,
    busy: Arc<AtomicUsize>,
    stop: CancellationToken,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let request = request.map(|body| axum::body::Body::new(Deadline::new(body, limits.body_timeout)));
        let under_way = Busy::start(&busy);
        let answer = tower::ServiceExt::oneshot(app.clone(), request);
        async move {
            let response = answer.await;
            drop(under_way);
            response
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(io, service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        () = stop.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

/// A request under way on a connection, counted while it lives.
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn start(busy: &Arc<AtomicUsize>) -> Busy {
        busy.fetch_add(1, Ordering::SeqCst);
        Busy(busy.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A request body that must arrive whole within a time: a client that sends a byte now and
/// then cannot hold a handler (and shutdown) for ever.
struct Deadline {
    body: hyper::body::Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
    limit: Duration,
}

impl Deadline {
    fn new(body: hyper::body::Incoming, limit: Duration) -> Deadline {
        Deadline { body, deadline: Box::pin(tokio::time::sleep(limit)), limit }
    }
}

/// The body did not arrive within [`Limits::body_timeout`].
#[derive(Debug)]
pub struct BodyTimedOut(Duration);

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the request body did not arrive within {}s", self.0.as_secs())
    }
}

impl std::error::Error for BodyTimedOut {}

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        if self.deadline.as_mut().poll(cx).is_ready() {
            let limit = self.limit;
            return Poll::Ready(Some(Err(Box::new(BodyTimedOut(limit)))));
        }
        Pin::new(&mut self.body).poll_frame(cx).map_err(|e| Box::new(e) as Self::Error)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    async fn start(limits: Limits) -> (SocketAddr, CancellationToken, Arc<AtomicUsize>) {
        let app = axum::Router::new()
            .route("/", axum::routing::get(|| async { "ok" }))
            .route("/echo", axum::routing::post(|body: String| async move { body }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        let refused = Arc::new(AtomicUsize::new(0));
        let counted = refused.clone();
        let on_refused: OnRefused = Arc::new(move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
        });
        tokio::spawn(serve(listener, app, None, limits, stop.clone(), on_refused));
        (addr, stop, refused)
    }

    async fn get(addr: SocketAddr) -> String {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer).await;
        answer
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn silent_connections_make_room_for_a_new_client() {
        // Silent connections never time out here: only making room closes them.
        let limits = Limits { max_connections: 8, header_timeout: Duration::from_secs(3600), ..Limits::default() };
        let (addr, _stop, refused) = start(limits).await;
        let mut silent = Vec::new();
        for _ in 0..30 {
            silent.push(tokio::net::TcpStream::connect(addr).await.unwrap());
        }
        let answer = get(addr).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert_eq!(refused.load(Ordering::SeqCst), 0, "room was made by closing silent ones");
        // The oldest silent ones were closed: reading them ends (the bound only catches a hang).
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(60), silent[0].read(&mut byte)).await;
        assert_eq!(read.expect("the oldest silent connection was closed").unwrap(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_body_is_cut_off() {
        let limits = Limits { body_timeout: Duration::from_secs(2), ..Limits::default() };
        let (addr, _stop, _) = start(limits).await;
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc").await.unwrap();
        let mut answer = String::new();
        // Paused time runs ahead when the runtime waits: the deadline passes at once.
        let _ = stream.read_to_string(&mut answer).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    }
}

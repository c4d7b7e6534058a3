//! The emulators as servers: idle connections are closed, and a flood of them does not
//! keep a real client out.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use zonectl_emulator::luadns::{LuaDns, Seed};
use zonectl_emulator::{Emulator, Options};

async fn emulator(idle: Duration, max_connections: usize) -> Emulator {
    let options = Options { idle_timeout: idle, max_connections, ..Options::default() };
    Emulator::start(LuaDns::new(Seed::default()), options).await.unwrap()
}

/// A connection that sends nothing is closed by the server (before, it was held forever).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_is_closed() {
    let emulator = emulator(Duration::from_millis(200), 16).await;
    let addr = emulator.addr();
    let closed = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        // A generous bound: the server should close long before; a server that never does
        // makes the read time out and the test fail.
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut buf = [0u8; 16];
        stream.read(&mut buf)
    })
    .await
    .unwrap();
    assert_eq!(closed.unwrap(), 0, "the server closed the connection (end of stream)");
}

/// More idle connections than the server holds: they are dropped in turn and a real
/// request is still answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_idle_connections_does_not_keep_a_client_out() {
    let emulator = emulator(Duration::from_millis(200), 8).await;
    let addr = emulator.addr();
    let answer = tokio::task::spawn_blocking(move || {
        let idle: Vec<TcpStream> = (0..40).map(|_| TcpStream::connect(addr).unwrap()).collect();
        let mut client = TcpStream::connect(addr).unwrap();
        client.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        client.write_all(b"GET /_emulator/faults HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        let _ = client.read_to_string(&mut answer);
        drop(idle);
        answer
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

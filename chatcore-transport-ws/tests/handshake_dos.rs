//! The door of the server under abuse, over real sockets: `TCP_NODELAY` on every accepted
//! socket, and thousands of handshakes that never finish neither lock real clients out nor
//! stay open past the handshake timeout.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use chatcore::Hub;
use chatcore::transport::HandshakeLimit;
use chatcore_testkit::*;
use chatcore_transport_ws::{Listener, WsConfig, serve};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// A plain TCP listener that reports, for every connection it is asked to hand over, whether
/// the server had set `TCP_NODELAY` on it.
struct Watching {
    tcp: TcpListener,
    nodelay: mpsc::UnboundedSender<bool>,
}

impl Listener for Watching {
    type Io = TcpStream;

    fn accept(&mut self) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> + Send {
        self.tcp.accept()
    }

    fn handshake(
        &self,
        tcp: TcpStream,
    ) -> impl Future<Output = io::Result<TcpStream>> + Send + 'static {
        let _ = self.nodelay.send(tcp.nodelay().unwrap_or(false));
        std::future::ready(Ok(tcp))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

/// Issue #16: with Nagle's algorithm and the peer's delayed ACK, small rooms stalled 40 ms
/// per message. The accept loop sets `TCP_NODELAY` before any listener (plain or TLS) sees
/// the connection.
#[tokio::test]
async fn every_accepted_socket_has_nodelay() {
    let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = tcp.local_addr().expect("addr");
    let (tx, mut seen) = mpsc::unbounded_channel();
    let hub = memory_hub().await;
    tokio::spawn(serve(
        Watching { tcp, nodelay: tx },
        hub,
        ws_config(),
        std::future::pending(),
    ));
    assert_eq!(get(addr, "/health").await.status, 200);
    let ws = open(&format!("ws://{addr}/ws?user=ann"), None, &[]).await;
    assert!(ws.is_ok(), "a WebSocket connects");
    for _ in 0..2 {
        assert_eq!(within(seen.recv()).await, Some(true));
    }
}

/// Loopback addresses that play separate peers.
/// A real client gets in and `/health` answers within a second while `sockets` sit open.
async fn real_clients_get_in(server: &TestServer) {
    let health = tokio::time::timeout(Duration::from_secs(1), get(server.addr, "/health"))
        .await
        .expect("/health answers within 1 s");
    assert_eq!(health.status, 200);
    let mut ann = Probe::guest(server, "ann").await;
    ann.join("lobby").await;
    assert_eq!(ann.say("lobby", "still here").await, 1);
}

/// 2,000 sockets from one peer that connect and never finish: the server holds only its
/// per-IP share of them, a real client still connects, `/health` answers within 1 s, and the
/// held ones are closed after the handshake timeout.
#[tokio::test]
async fn one_peer_with_two_thousand_half_open_sockets_locks_no_one_out() {
    let config = ws_config()
        .with_handshake_timeout(Duration::from_secs(2))
        .expect("config");
    let server = TestServer::with(Hub::builder(), config).await;
    let silent = half_open(server.addr, loopback(1), 1000, b"").await;
    let trickled = half_open(
        server.addr,
        loopback(1),
        1000,
        b"GET /ws HTTP/1.1\r\nHost: 127",
    )
    .await;
    real_clients_get_in(&server).await;
    let mut all = silent;
    all.extend(trickled);
    // Over the per-IP cap they were closed at once; the rest when their timeout ran out.
    assert_eq!(
        still_open_after(all, Duration::from_secs(2) + BOUND).await,
        0
    );
}

/// 2,000 half-open sockets from 40 peers, under a total cap that admits them all: the server
/// holds every one, real clients still get in, and all are closed after the timeout.
#[tokio::test]
async fn two_thousand_held_handshakes_close_after_the_timeout() {
    let config = ws_config()
        .with_handshake_timeout(Duration::from_secs(2))
        .expect("config")
        .with_handshake_limit(HandshakeLimit::new(4096, 64).expect("limit"));
    let server = TestServer::with(Hub::builder(), config).await;
    let mut held = Vec::new();
    for n in 0..40 {
        let prefix: &[u8] = if n % 2 == 0 {
            b""
        } else {
            b"GET / HTTP/1.1\r\n"
        };
        held.extend(half_open(server.addr, loopback(10 + n), 50, prefix).await);
    }
    real_clients_get_in(&server).await;
    let started = tokio::time::Instant::now();
    assert_eq!(
        still_open_after(held, Duration::from_secs(2) + BOUND).await,
        0
    );
    assert!(
        started.elapsed() < Duration::from_secs(2) + BOUND,
        "closed by the timeout"
    );
}

/// A kept-alive HTTP connection that goes quiet is closed after the handshake timeout too,
/// and an unfinished request head past the timeout gets no answer but a close.
#[tokio::test]
async fn idle_keep_alive_connections_end() {
    let config = WsConfig::default()
        .with_handshake_timeout(Duration::from_secs(1))
        .expect("config");
    let server = TestServer::with(Hub::builder(), config).await;
    let idle = half_open(
        server.addr,
        loopback(2),
        1,
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    )
    .await;
    assert_eq!(still_open_after(idle, BOUND).await, 0);
}

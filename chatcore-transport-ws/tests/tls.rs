//! [`TlsListener`] on a real socket: clients complete a WebSocket session over TLS while
//! other connections stall or fail their handshakes, and shutdown still drains.

#![cfg(feature = "tls")]

#[path = "../../chatcore-client/tests/tls_pki/mod.rs"]
mod pki;

use std::net::SocketAddr;
use std::time::Duration;

use chatcore::Hub;
use chatcore_transport_ws::{TlsListener, WsConfig, serve};
use futures::StreamExt;
use pki::Pki;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_tungstenite::Connector;
use tokio_tungstenite::tungstenite::Message;

/// Far below the listener's 10 s handshake timeout: a client served within it was not
/// waiting behind a stalled handshake.
const PROMPT: Duration = Duration::from_secs(5);

/// A guest-friendly memory hub served behind a [`TlsListener`].
struct Server {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    async fn start(pki: &Pki) -> Self {
        let hub = Hub::builder().build().await.expect("hub");
        let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = tcp.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let listener = TlsListener::new(tcp, pki.server_config());
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            serve(listener, hub, WsConfig::default(), shutdown)
                .await
                .expect("clean shutdown");
        });
        Self { addr, stop, task }
    }

    /// Shuts the server down and waits for `serve` to return.
    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("shuts down in time")
            .expect("no panic");
    }
}

/// Opens `wss://localhost:PORT/ws` as guest `user` and returns the first frame's text.
async fn welcome(pki: &Pki, addr: SocketAddr, user: &str) -> String {
    let url = format!("wss://localhost:{}/ws?user={user}", addr.port());
    let connector = Connector::Rustls(pki.client_config());
    let (mut ws, _) =
        tokio_tungstenite::connect_async_tls_with_config(url, None, true, Some(connector))
            .await
            .expect("wss handshake");
    match ws.next().await {
        Some(Ok(Message::Text(text))) => text.to_string(),
        other => panic!("expected a welcome frame, got {other:?}"),
    }
}

#[tokio::test]
async fn a_stalled_handshake_does_not_delay_other_clients() {
    let pki = Pki::new();
    let server = Server::start(&pki).await;
    let addr = server.addr;
    // Connects and never says a word: its handshake waits for a ClientHello.
    let _silent = TcpStream::connect(addr).await.expect("connect");
    let first = tokio::time::timeout(PROMPT, welcome(&pki, addr, "ann"))
        .await
        .expect("served while another handshake is stalled");
    assert!(first.contains("\"welcome\""), "{first}");
    server.stop().await;
}

#[tokio::test]
async fn a_failed_handshake_leaves_the_listener_serving() {
    let pki = Pki::new();
    let server = Server::start(&pki).await;
    let addr = server.addr;
    // Plain HTTP to the TLS port: the handshake fails and the connection is dropped.
    let mut plain = TcpStream::connect(addr).await.expect("connect");
    plain
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(PROMPT, plain.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server drops the connection");
    assert!(
        !answer.starts_with(b"HTTP/"),
        "a plain request must not be served: {}",
        String::from_utf8_lossy(&answer)
    );
    let next = welcome(&pki, addr, "bob").await;
    assert!(next.contains("\"bob\""), "{next}");
    server.stop().await;
}

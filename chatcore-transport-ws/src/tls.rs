//! [`TlsListener`]: TLS termination in front of [`serve`](crate::serve) and
//! [`serve_router`](crate::serve_router), for servers that face clients without a
//! TLS-terminating proxy (feature `tls`).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::Listener;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::{AbortHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::server::TlsStream;

/// Handshakes in progress at most. Past it, new connections wait in the kernel's backlog, so
/// a flood of clients that never finish their handshake cannot exhaust memory.
const MAX_HANDSHAKES: usize = 256;
/// A client that has not finished its handshake by then is dropped: a TCP connection that
/// stays silent must not hold a handshake slot forever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Finished handshakes waiting for the HTTP server to pick them up.
const READY_QUEUE: usize = 64;

/// A TCP listener that completes the TLS handshake of each connection before handing it to
/// the HTTP server; pass it to [`serve`](crate::serve) or [`serve_router`](crate::serve_router)
/// where a [`TcpListener`] would go. Graceful shutdown and the connection cap work the same.
///
/// Handshakes run concurrently on their own tasks (at most 256 at once, each within 10 s), so
/// a slow or silent client never delays the others; failed handshakes are logged at `debug`
/// and dropped. The `rustls` [`ServerConfig`] decides certificates, protocol versions and
/// ALPN: offer only `http/1.1`, because WebSockets here upgrade over HTTP/1.1.
///
/// ```no_run
/// # async fn demo(config: std::sync::Arc<chatcore_transport_ws::rustls::ServerConfig>)
/// # -> Result<(), Box<dyn std::error::Error>> {
/// use chatcore::Hub;
/// use chatcore_transport_ws::{TlsListener, WsConfig, serve};
///
/// let hub = Hub::builder().build().await?;
/// let tcp = tokio::net::TcpListener::bind("0.0.0.0:8443").await?;
/// let listener = TlsListener::new(tcp, config);
/// serve(listener, hub, WsConfig::default(), std::future::pending()).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TlsListener {
    /// The TCP address, reported by [`Listener::local_addr`] (`None` if the OS could not
    /// say, which [`Listener::local_addr`] reports as an error).
    local_addr: Option<SocketAddr>,
    /// Connections whose handshake completed, with the peer's address.
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    /// The accept loop. The HTTP server drops the listener when it stops accepting
    /// (shutdown), and the loop and its handshakes in flight end with it.
    accept_loop: AbortHandle,
}

impl TlsListener {
    /// Starts accepting on `listener` (on the current tokio runtime) and terminating TLS with
    /// `config`.
    pub fn new(listener: TcpListener, config: Arc<ServerConfig>) -> Self {
        let local_addr = listener.local_addr().ok();
        let (tx, ready) = mpsc::channel(READY_QUEUE);
        let task = tokio::spawn(accept_loop(listener, TlsAcceptor::from(config), tx));
        Self {
            local_addr,
            ready,
            accept_loop: task.abort_handle(),
        }
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            // The accept loop only ends when this listener is dropped; until then there is
            // simply no next connection.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.local_addr
            .ok_or_else(|| io::Error::other("the TCP listener has no local address"))
    }
}

/// Accepts TCP connections and runs each handshake on its own task; the [`JoinSet`] aborts
/// the handshakes in flight when the loop is aborted.
async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let slots = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    let mut handshakes = JoinSet::new();
    loop {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return; // never closed
        };
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                accept_failed(e).await;
                continue;
            }
        };
        while handshakes.try_join_next().is_some() {}
        let acceptor = acceptor.clone();
        let ready = ready.clone();
        handshakes.spawn(async move {
            let _slot = slot;
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => {
                    // Fails only when the server stopped accepting: the connection just closes.
                    let _ = ready.send((tls, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

/// What a failed `accept` costs: nothing for an aborted connection, a pause for the rest
/// (such as running out of file descriptors), so the loop does not spin.
async fn accept_failed(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

//! [`TlsListener`]: TLS termination in front of [`serve`](crate::serve) and
//! [`serve_router`](crate::serve_router), for servers that face clients without a
//! TLS-terminating proxy (feature `tls`).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::server::TlsStream;

use crate::Listener;

/// A TCP listener whose connections do the TLS handshake before HTTP; pass it to
/// [`serve`](crate::serve) or [`serve_router`](crate::serve_router) where a [`TcpListener`]
/// would go. Graceful shutdown and the connection cap work the same.
///
/// The handshake of each connection runs on that connection's own task, under the server's
/// handshake slots and [`WsConfig::handshake_timeout`](crate::WsConfig::handshake_timeout)
/// (see [`Listener`]), so a slow or silent client never delays the others; failed handshakes
/// are logged at `debug` and dropped. The `rustls` [`ServerConfig`] decides certificates,
/// protocol versions and ALPN: offer only `http/1.1`, because WebSockets here upgrade over
/// HTTP/1.1.
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
pub struct TlsListener {
    /// Where the TCP connections arrive.
    tcp: TcpListener,
    /// The TLS server side, shared by every handshake.
    acceptor: TlsAcceptor,
}

impl TlsListener {
    /// Accepts on `listener` and terminates TLS with `config`.
    pub fn new(listener: TcpListener, config: Arc<ServerConfig>) -> Self {
        Self {
            tcp: listener,
            acceptor: TlsAcceptor::from(config),
        }
    }
}

impl std::fmt::Debug for TlsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsListener")
            .field("tcp", &self.tcp)
            .finish_non_exhaustive()
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;

    fn accept(&mut self) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> + Send {
        self.tcp.accept()
    }

    fn handshake(
        &self,
        tcp: TcpStream,
    ) -> impl Future<Output = io::Result<Self::Io>> + Send + 'static {
        self.acceptor.accept(tcp)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

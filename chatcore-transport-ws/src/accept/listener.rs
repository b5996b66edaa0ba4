//! [`Listener`]: where [`serve`](crate::serve) takes its connections from.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};

/// A source of connections for [`serve`](crate::serve) and
/// [`serve_router`](crate::serve_router): a [`TcpListener`] as is, or the `TlsListener` of
/// the `tls` feature.
///
/// The server's accept loop owns everything between `accept` and HTTP: it sets
/// `TCP_NODELAY`, takes a handshake slot (per peer IP and in total, see
/// [`WsConfig::handshake_limit`](crate::WsConfig::handshake_limit)) and runs
/// [`Listener::handshake`] on the connection's own task within
/// [`WsConfig::handshake_timeout`](crate::WsConfig::handshake_timeout), so a slow or silent
/// client never delays the others and never holds its socket for long.
pub trait Listener: Send + 'static {
    /// The stream HTTP is spoken over once [`Listener::handshake`] is done.
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// The next TCP connection and its peer's address.
    fn accept(&mut self) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> + Send;

    /// What happens on an accepted connection before HTTP: nothing for plain TCP, the TLS
    /// handshake for TLS. Runs on the connection's own task, under the handshake timeout.
    fn handshake(
        &self,
        tcp: TcpStream,
    ) -> impl Future<Output = io::Result<Self::Io>> + Send + 'static;

    /// The address connections arrive at.
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

impl Listener for TcpListener {
    type Io = TcpStream;

    fn accept(&mut self) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> + Send {
        TcpListener::accept(self)
    }

    fn handshake(
        &self,
        tcp: TcpStream,
    ) -> impl Future<Output = io::Result<Self::Io>> + Send + 'static {
        std::future::ready(Ok(tcp))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        TcpListener::local_addr(self)
    }
}

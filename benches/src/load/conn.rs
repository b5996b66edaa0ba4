//! Opening one connection: TCP from an optional source address, then either the WebSocket
//! handshake with a 4 KiB read buffer (tungstenite's 128 KiB default is allocated and
//! zero-filled per read) or, on chatcore's TCP transport, the hello ([`tcp`](crate::load::tcp)).

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use chatcore::protocol::Codec;
use futures::{Sink, Stream};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};

use crate::load::tcp::Framed;

/// Read buffer of every load connection.
pub const READ_BUFFER: usize = 4 * 1024;

/// An open connection: a WebSocket, or chatcore's TCP transport read and written as one.
#[derive(Debug)]
pub enum Socket {
    /// A WebSocket.
    Ws(WebSocketStream<TcpStream>),
    /// chatcore's TCP transport.
    Tcp(Framed),
}

impl Stream for Socket {
    type Item = Result<WsMessage, WsError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.get_mut() {
            Socket::Ws(ws) => Pin::new(ws).poll_next(cx),
            Socket::Tcp(tcp) => Pin::new(tcp).poll_next(cx),
        }
    }
}

impl Sink<WsMessage> for Socket {
    type Error = WsError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        match self.get_mut() {
            Socket::Ws(ws) => Pin::new(ws).poll_ready(cx),
            Socket::Tcp(tcp) => Pin::new(tcp).poll_ready(cx),
        }
    }

    fn start_send(self: Pin<&mut Self>, item: WsMessage) -> Result<(), WsError> {
        match self.get_mut() {
            Socket::Ws(ws) => Pin::new(ws).start_send(item),
            Socket::Tcp(tcp) => Pin::new(tcp).start_send(item),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        match self.get_mut() {
            Socket::Ws(ws) => Pin::new(ws).poll_flush(cx),
            Socket::Tcp(tcp) => Pin::new(tcp).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        match self.get_mut() {
            Socket::Ws(ws) => Pin::new(ws).poll_close(cx),
            Socket::Tcp(tcp) => Pin::new(tcp).poll_close(cx),
        }
    }
}

/// The WebSocket settings of load connections (and of the baseline server).
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(Some(1 << 20))
        .max_frame_size(Some(1 << 20))
}

/// Connects to `server`, from `bind` when given, and upgrades on `path` (with its query),
/// asking for `subprotocol`. Errors are short strings (they are tallied by kind).
pub async fn open(
    server: SocketAddr,
    bind: Option<IpAddr>,
    path: &str,
    subprotocol: Option<&'static str>,
) -> Result<Socket, String> {
    let stream = connect(server, bind).await?;
    let mut request = format!("ws://{server}{path}")
        .into_client_request()
        .map_err(|e| format!("request: {e}"))?;
    if let Some(p) = subprotocol {
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(p));
    }
    let (ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(ws_config()))
        .await
        .map_err(|e| format!("handshake: {}", short(&e.to_string())))?;
    Ok(Socket::Ws(ws))
}

/// Connects to chatcore's TCP transport at `server`, from `bind` when given, and says hello
/// as guest `user` in `codec`.
pub async fn open_tcp(
    server: SocketAddr,
    bind: Option<IpAddr>,
    codec: Codec,
    user: &str,
) -> Result<Socket, String> {
    let stream = connect(server, bind).await?;
    Ok(Socket::Tcp(
        Framed::hello(stream, codec, user, READ_BUFFER).await?,
    ))
}

/// A TCP connection to `server` from `bind` (when given), with `TCP_NODELAY` and a zero
/// linger.
async fn connect(server: SocketAddr, bind: Option<IpAddr>) -> Result<TcpStream, String> {
    let socket = if server.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| format!("socket: {e}"))?;
    // Close with a reset: no TIME_WAIT left on this side, so back-to-back runs of 19,000
    // connections do not run out of ephemeral ports. (Deprecated because a non-zero linger
    // blocks the dropping thread; a zero linger never blocks.)
    #[allow(deprecated)]
    socket
        .set_linger(Some(std::time::Duration::ZERO))
        .map_err(|e| format!("linger: {e}"))?;
    if let Some(ip) = bind {
        socket
            .bind(SocketAddr::new(ip, 0))
            .map_err(|e| format!("bind: {e}"))?;
    }
    let stream = socket
        .connect(server)
        .await
        .map_err(|e| format!("connect: {}", e.kind()))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("nodelay: {e}"))?;
    Ok(stream)
}

/// The first words of an error message (so the tally groups them).
fn short(s: &str) -> String {
    s.chars().take(60).collect()
}

//! Opening one WebSocket: TCP from an optional source address, then the handshake with a
//! 4 KiB read buffer (tungstenite's 128 KiB default is allocated and zero-filled per read).

use std::net::{IpAddr, SocketAddr};

use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Read buffer of every load connection.
pub const READ_BUFFER: usize = 4 * 1024;

/// An open socket.
pub type Socket = WebSocketStream<TcpStream>;

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
    Ok(ws)
}

/// The first words of an error message (so the tally groups them).
fn short(s: &str) -> String {
    s.chars().take(60).collect()
}

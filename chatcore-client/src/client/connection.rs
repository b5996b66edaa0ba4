//! One connection: the WebSocket handshake up to `welcome` (a `tcp://` endpoint opens in
//! [`tcp`](super::tcp)), and the reader and writer tasks of either.

use std::sync::Arc;
use std::time::Duration;

use chatcore::ErrorCode;
use chatcore::protocol::Codec;
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};
use tokio_tungstenite::{
    Connector, MaybeTlsStream, WebSocketStream, connect_async_tls_with_config,
};

use super::link::{FrameSink, FrameStream, Incoming, Opened, session_info};
use super::shared::Shared;
use super::state::Outgoing;
use crate::config::{Auth, ClientConfig};
use crate::error::{DisconnectReason, Error, Result};
use crate::events::ClientEvent;
use crate::types::SessionInfo;

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Most frames the writer feeds before it flushes.
const MAX_BATCH: usize = 64;
/// How long the reader waits for the end of the connection after a close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(3);

/// Connects, authenticates and waits for `welcome`, within `connect_timeout`.
pub(crate) async fn open(config: &ClientConfig) -> Result<Opened> {
    if config.endpoint.is_tcp() {
        return super::tcp::open(config).await;
    }
    let shown = config.socket_url();
    let url = match &config.auth {
        Auth::Guest(name) => config.endpoint.socket_url_with("user", name),
        _ => shown.clone(),
    };
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| Error::Config(format!("bad socket URL {shown}: {e}")))?;
    let headers = request.headers_mut();
    headers.insert(
        "sec-websocket-protocol",
        HeaderValue::from_static(config.codec.subprotocol()),
    );
    if let Auth::Token(token) = &config.auth {
        let value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            Error::Config("the token contains characters not allowed in a header".into())
        })?;
        headers.insert("authorization", value);
    }
    let ws_config = WebSocketConfig::default()
        .read_buffer_size(config.read_buffer_bytes)
        .max_message_size(Some(config.max_message_bytes))
        .max_frame_size(Some(config.max_message_bytes));
    // Only `wss://` needs the roots; tungstenite ignores the connector for `ws://`.
    let connector = if config.endpoint.is_tls() {
        Some(Connector::Rustls(Arc::new(config.tls.rustls_config()?)))
    } else {
        None
    };
    let attempt = async {
        // Boxed: the TLS handshake state would make every caller's future ~24 KiB larger.
        let handshake = connect_async_tls_with_config(request, Some(ws_config), true, connector);
        let (mut ws, response) = Box::pin(handshake)
            .await
            .map_err(|e| handshake_error(&shown, e))?;
        let chosen = response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok());
        if chosen != Some(config.codec.subprotocol()) {
            return Err(Error::Protocol(format!(
                "the server did not accept subprotocol {} (answered {chosen:?}); is it a chatcore server?",
                config.codec.subprotocol()
            )));
        }
        let session = welcome(&mut ws, config.codec).await?;
        let codec = config.codec;
        let (sink, stream) = ws.split();
        Ok(Opened {
            sink: Box::pin(sink),
            stream: Box::pin(stream.map(move |item| incoming(codec, item))),
            session,
        })
    };
    match tokio::time::timeout(config.connect_timeout, attempt).await {
        Ok(result) => result,
        Err(_) => Err(Error::Connect {
            url: shown,
            reason: format!("no welcome within {:?}", config.connect_timeout),
        }),
    }
}

/// Maps a failed handshake to an error: HTTP refusals carry the server's JSON error body, a
/// failed TLS handshake is [`Error::Tls`].
fn handshake_error(url: &str, e: WsError) -> Error {
    match e {
        WsError::Http(response) => {
            let status = response.status().as_u16();
            let (code, message) = error_body(response.body().as_deref().unwrap_or_default())
                .unwrap_or_else(|| (ErrorCode::Unknown, format!("HTTP {status} from {url}")));
            match status {
                401 => Error::Unauthorized(message),
                _ => Error::Refused {
                    status,
                    code,
                    message,
                },
            }
        }
        WsError::Url(e) => Error::Config(format!("bad socket URL {url}: {e}")),
        other => Error::unreachable(url, &other),
    }
}

/// The code and message of a `{"error":{"code":…,"message":…}}` body.
pub(crate) fn error_body(body: &[u8]) -> Option<(ErrorCode, String)> {
    #[derive(serde::Deserialize)]
    struct Body {
        error: Inner,
    }
    #[derive(serde::Deserialize)]
    struct Inner {
        #[serde(default)]
        code: Option<serde_json::Value>,
        message: String,
    }
    let body: Body = serde_json::from_slice(body).ok()?;
    let code = body
        .error
        .code
        .and_then(|c| serde_json::from_value(c).ok())
        .unwrap_or(ErrorCode::Unknown);
    Some((code, body.error.message))
}

/// Reads frames until the server's `welcome`.
async fn welcome(ws: &mut Ws, codec: Codec) -> Result<SessionInfo> {
    loop {
        let bytes = match ws.next().await {
            Some(Ok(WsMessage::Text(t))) => t.as_bytes().to_vec(),
            Some(Ok(WsMessage::Binary(b))) => b.to_vec(),
            Some(Ok(WsMessage::Close(frame))) => {
                let why = frame.map_or_else(String::new, |f| {
                    format!(" ({}: {})", u16::from(f.code), f.reason)
                });
                return Err(Error::Protocol(format!(
                    "the server closed before its welcome{why}"
                )));
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(Error::Protocol(format!("reading the welcome: {e}"))),
            None => {
                return Err(Error::Protocol(
                    "the server closed before its welcome".into(),
                ));
            }
        };
        return match codec.decode_event(&bytes) {
            Ok(event) => session_info(event),
            Err(e) => Err(Error::Protocol(format!(
                "undecodable first frame: {}",
                e.detail
            ))),
        };
    }
}

/// What a WebSocket message is to the reader.
fn incoming(codec: Codec, item: Result<WsMessage, WsError>) -> Incoming {
    let decoded = match item {
        Ok(WsMessage::Text(t)) => codec.decode_event(t.as_bytes()),
        Ok(WsMessage::Binary(b)) => codec.decode_event(&b),
        Ok(WsMessage::Close(frame)) => {
            let (code, reason) = frame.map_or((1005, String::new()), |f| {
                (u16::from(f.code), f.reason.to_string())
            });
            return Incoming::Close { code, reason };
        }
        // Pings are answered by tungstenite; pongs need nothing.
        Ok(_) => return Incoming::Alive,
        Err(e) => return Incoming::Failed(e.to_string()),
    };
    match decoded {
        Ok(event) => Incoming::Event(event),
        Err(e) => Incoming::Undecodable(e.detail),
    }
}

/// A token bucket pacing outgoing data frames.
#[derive(Debug)]
struct Pacer {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Pacer {
    fn new((rate, burst): (u32, u32)) -> Self {
        Self {
            rate: f64::from(rate.max(1)),
            burst: f64::from(burst.max(1)),
            tokens: f64::from(burst.max(1)),
            last: Instant::now(),
        }
    }

    /// Takes a token; how long to wait first when none is left.
    fn take(&mut self) -> Option<Duration> {
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            None
        } else {
            Some(Duration::from_secs_f64(-self.tokens / self.rate))
        }
    }
}

/// The writer task: frames from the channel (batched, one flush per batch, paced), and a
/// ping every `ping_interval`. Ends on a close request, a write error, or a closed channel.
pub(crate) async fn write_loop(
    mut sink: FrameSink,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    ping_interval: Duration,
    rate_limit: Option<(u32, u32)>,
) {
    let mut pacer = rate_limit.map(Pacer::new);
    let mut ping = tokio::time::interval_at(Instant::now() + ping_interval, ping_interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let first = tokio::select! {
            out = rx.recv() => out,
            _ = ping.tick() => {
                if sink.send(WsMessage::Ping(Default::default())).await.is_err() {
                    return;
                }
                continue;
            }
        };
        let mut next = first;
        let mut batch = 0;
        while let Some(out) = next.take() {
            match out {
                Outgoing::Close => {
                    let normal = CloseFrame {
                        code: CloseCode::Normal,
                        reason: "client closed".into(),
                    };
                    let _ = sink.send(WsMessage::Close(Some(normal))).await;
                    return;
                }
                Outgoing::Frame(frame) => {
                    if let Some(wait) = pacer.as_mut().and_then(Pacer::take) {
                        if sink.flush().await.is_err() {
                            return;
                        }
                        tokio::time::sleep(wait).await;
                    }
                    if sink.feed(frame).await.is_err() {
                        return;
                    }
                }
            }
            batch += 1;
            if batch < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if batch == 0 {
            return; // the channel closed: the connection is being dropped
        }
        if sink.flush().await.is_err() {
            return;
        }
    }
}

/// The reader task: decodes events, lets the shared state route them, and hands what the
/// application should see to the event channel (waiting when it is full). Returns why the
/// connection ended.
pub(crate) async fn read_loop(
    mut stream: FrameStream,
    shared: Arc<Shared>,
    events: mpsc::Sender<ClientEvent>,
) -> DisconnectReason {
    let idle = shared.config.idle_timeout;
    let mut closed: Option<DisconnectReason> = None;
    loop {
        let wait = if closed.is_some() { CLOSE_WAIT } else { idle };
        let item = match tokio::time::timeout(wait, stream.next()).await {
            Ok(item) => item,
            Err(_) => return closed.unwrap_or(DisconnectReason::IdleTimeout),
        };
        let event = match item {
            Some(Incoming::Event(event)) => event,
            Some(Incoming::Alive) => continue,
            Some(Incoming::Undecodable(detail)) => {
                // A newer server's event type, or garbage: ignore it, as PROTOCOL.md asks.
                tracing::debug!(%detail, "ignoring an undecodable frame");
                continue;
            }
            Some(Incoming::Close { code, reason }) => {
                tracing::debug!(code, %reason, "the server closed the connection");
                closed = Some(DisconnectReason::ClosedByServer { code, reason });
                continue;
            }
            Some(Incoming::Failed(e)) => {
                return closed.unwrap_or(DisconnectReason::ConnectionLost(e));
            }
            None => {
                return closed.unwrap_or_else(|| {
                    DisconnectReason::ConnectionLost(
                        "the server ended the connection without a close frame".into(),
                    )
                });
            }
        };
        let out = shared.lock().on_event(event);
        for event in out {
            // The application dropped its receiver: events are simply not wanted.
            let _ = events.send(event).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_parsed() {
        let body = br#"{"error":{"code":"unauthorized","message":"guests are not allowed"}}"#;
        assert_eq!(
            error_body(body),
            Some((ErrorCode::Unauthorized, "guests are not allowed".to_owned()))
        );
        let new_code = br#"{"error":{"code":"shiny_new","message":"m"}}"#;
        assert_eq!(error_body(new_code).map(|b| b.0), Some(ErrorCode::Unknown));
        assert_eq!(error_body(b"<html>"), None);
    }

    #[test]
    fn handshake_refusals_are_typed() {
        let response = tokio_tungstenite::tungstenite::http::Response::builder()
            .status(401)
            .body(Some(
                br#"{"error":{"code":"unauthorized","message":"bad token"}}"#.to_vec(),
            ))
            .expect("response");
        let e = handshake_error("ws://h/ws", WsError::Http(Box::new(response)));
        assert_eq!(e, Error::Unauthorized("bad token".into()));
        let response = tokio_tungstenite::tungstenite::http::Response::builder()
            .status(503)
            .body(None)
            .expect("response");
        let e = handshake_error("ws://h/ws", WsError::Http(Box::new(response)));
        assert!(matches!(e, Error::Refused { status: 503, .. }));
    }

    #[tokio::test(start_paused = true)]
    async fn the_pacer_allows_a_burst_then_the_rate() {
        let mut p = Pacer::new((10, 3));
        assert_eq!(p.take(), None);
        assert_eq!(p.take(), None);
        assert_eq!(p.take(), None);
        let wait = p.take().expect("must wait");
        assert!(
            wait <= Duration::from_millis(100) && wait > Duration::ZERO,
            "{wait:?}"
        );
    }
}

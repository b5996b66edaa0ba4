//! [`Probe`]: a protocol client on tokio-tungstenite that sends requests and reads events
//! with bounded waits, plus the raw handshake helpers behind it.

use chatcore::protocol::{Codec, Command, Event, Message as ChatMessage, Request};
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async_with_config};

use crate::events::{push_rising, reply_id, send};
use crate::server::TestServer;
use crate::token::token;
use crate::wait::BOUND;

/// A client WebSocket connection.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a WebSocket to `url` with optional subprotocols and extra headers, within the bound.
pub async fn open(
    url: &str,
    protocols: Option<&str>,
    headers: &[(&str, &str)],
) -> Result<Ws, WsError> {
    let mut request = url.into_client_request()?;
    if let Some(p) = protocols {
        let value = HeaderValue::from_str(p).expect("header");
        request
            .headers_mut()
            .insert("sec-websocket-protocol", value);
    }
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("name");
        request
            .headers_mut()
            .insert(name, HeaderValue::from_str(value).expect("value"));
    }
    // The server reads with small buffers too (see DEPENDENCIES.md, tungstenite).
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (ws, _response) = tokio::time::timeout(
        BOUND,
        connect_async_with_config(request, Some(config), false),
    )
    .await
    .expect("handshake within the bound")?;
    Ok(ws)
}

/// Opens a WebSocket to `url` from the local address `from` (any of `127.0.0.0/8` on Linux,
/// so a test can play several client IPs), within the bound.
pub async fn open_from(url: &str, from: std::net::IpAddr) -> Result<Ws, WsError> {
    let request = url.into_client_request()?;
    let host = request.uri().authority().map(|a| a.as_str().to_owned());
    let addr: std::net::SocketAddr = host
        .as_deref()
        .and_then(|h| h.parse().ok())
        .expect("a ws://IP:PORT url");
    let connect = async {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(std::net::SocketAddr::new(from, 0))?;
        let tcp = socket.connect(addr).await?;
        tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(tcp))
            .await
            .map(|(ws, _)| ws)
    };
    tokio::time::timeout(BOUND, connect)
        .await
        .expect("handshake within the bound")
}

/// The HTTP status and body of a refused handshake; panics if it was not refused.
pub fn refusal(result: Result<Ws, WsError>) -> (u16, String) {
    match result {
        Err(WsError::Http(response)) => {
            let body = response
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            (response.status().as_u16(), body)
        }
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected an HTTP refusal, the handshake succeeded"),
    }
}

/// A protocol client over a real WebSocket.
pub struct Probe {
    /// The connection, for raw frames and closing.
    pub ws: Ws,
    /// The codec both ends speak.
    pub codec: Codec,
    /// The last request id used; ids count up from 1.
    next_id: u64,
}

impl Probe {
    /// A JSON guest (no subprotocol asked for: JSON is the default).
    pub async fn guest(server: &TestServer, name: &str) -> Self {
        Self::open(server, &format!("?user={name}"), Codec::Json, false).await
    }

    /// A JSON client with a [`token`] for `user` in the query string.
    pub async fn with_token(server: &TestServer, user: &str) -> Self {
        let query = format!("?token={}", token(user));
        Self::open(server, &query, Codec::Json, false).await
    }

    /// Connects to `/ws{query}` and reads the welcome frame; `subprotocol` asks for the codec
    /// explicitly (MessagePack is always asked for).
    pub async fn open(server: &TestServer, query: &str, codec: Codec, subprotocol: bool) -> Self {
        let protocol = (subprotocol || codec != Codec::Json).then(|| codec.subprotocol());
        let ws = open(&server.ws_url(query), protocol, &[])
            .await
            .expect("connect");
        Self::from_ws(ws, codec).await
    }

    /// Wraps an open connection and reads its welcome frame.
    pub async fn from_ws(ws: Ws, codec: Codec) -> Self {
        let mut probe = Self {
            ws,
            codec,
            next_id: 0,
        };
        match probe.next().await {
            Ok(Event::Welcome { .. }) => probe,
            other => panic!("expected welcome, got {other:?}"),
        }
    }

    /// Sends a command with a fresh request id and returns the id.
    pub async fn request(&mut self, command: Command) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        let bytes = self.codec.encode(&Request::new(id, command));
        self.send_raw(self.frame(bytes)).await;
        id
    }

    /// The WebSocket message carrying `bytes` in this client's codec.
    pub fn frame(&self, bytes: Vec<u8>) -> Message {
        match self.codec {
            Codec::Json => Message::text(String::from_utf8(bytes).expect("JSON is UTF-8")),
            Codec::MsgPack => Message::binary(bytes),
        }
    }

    /// Sends one WebSocket message as it is.
    pub async fn send_raw(&mut self, message: Message) {
        tokio::time::timeout(BOUND, self.ws.send(message))
            .await
            .expect("send within the bound")
            .expect("send");
    }

    /// The next protocol event (pings skipped), or `Err(close code)`; `Err(None)` when the
    /// stream ended without a close frame.
    pub async fn next(&mut self) -> Result<Event, Option<u16>> {
        loop {
            let item = tokio::time::timeout(BOUND, self.ws.next())
                .await
                .expect("an event within the bound");
            let bytes = match item {
                Some(Ok(Message::Text(t))) => {
                    assert_eq!(self.codec, Codec::Json, "text frame on a MessagePack link");
                    t.as_bytes().to_vec()
                }
                Some(Ok(Message::Binary(b))) => {
                    assert_eq!(self.codec, Codec::MsgPack, "binary frame on a JSON link");
                    b.to_vec()
                }
                Some(Ok(Message::Close(frame))) => {
                    // Reading once more sends our close reply and sees the server end the
                    // connection, as a browser would, so the server need not wait for us.
                    let _ = tokio::time::timeout(BOUND, self.ws.next()).await;
                    return Err(frame.map(|f| u16::from(f.code)));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Err(None),
            };
            return Ok(self.codec.decode_event(&bytes).expect("a valid event"));
        }
    }

    /// Reads events until `f` picks one; panics if the connection closes first.
    pub async fn until<T>(&mut self, mut f: impl FnMut(Event) -> Option<T>) -> T {
        loop {
            match self.next().await {
                Ok(event) => {
                    if let Some(t) = f(event) {
                        return t;
                    }
                }
                Err(code) => panic!("connection closed ({code:?}) while waiting"),
            }
        }
    }

    /// The reply to request `id` (ack, error, joined, history, …).
    pub async fn reply(&mut self, id: u64) -> Event {
        self.until(|ev| (reply_id(&ev) == Some(id)).then_some(ev))
            .await
    }

    /// Joins a room; panics unless it is joined.
    pub async fn join(&mut self, room: &str) -> Event {
        self.join_after(room, None).await
    }

    /// Joins a room resuming after `resume_after`; panics unless it is joined, and panics on
    /// any message of the room that arrives before `joined` (live messages must follow it;
    /// an earlier one is a race at the resume seam, often a duplicate of the history).
    pub async fn join_after(&mut self, room: &str, resume_after: Option<u64>) -> Event {
        let join = Command::Join {
            room: room.into(),
            resume_after,
        };
        let id = self.request(join).await;
        let reply = self
            .until(|ev| {
                if let Event::Message(m) = &ev {
                    assert!(
                        m.room != room,
                        "join {room}: seq {} arrived before joined",
                        m.seq
                    );
                }
                (reply_id(&ev) == Some(id)).then_some(ev)
            })
            .await;
        match reply {
            joined @ Event::Joined { .. } => joined,
            other => panic!("join {room} failed: {other:?}"),
        }
    }

    /// Message events of `room` until `n` have arrived, then a ping round trip that proves
    /// nothing more of the room was sent: panics on a seq that does not rise (a duplicate)
    /// and on any message after the `n`th (a trailing duplicate).
    pub async fn messages(&mut self, room: &str, n: usize) -> Vec<ChatMessage> {
        let mut got: Vec<ChatMessage> = Vec::new();
        while got.len() < n {
            let m = self
                .until(|ev| match ev {
                    Event::Message(m) if m.room == room => Some(m),
                    _ => None,
                })
                .await;
            push_rising(room, &mut got, m);
        }
        self.quiet(room, n).await;
        got
    }

    /// A ping round trip: panics if a message of `room` arrived before the pong (`n` is how
    /// many the caller expected, for the message).
    pub async fn quiet(&mut self, room: &str, n: usize) {
        let id = self.request(Command::Ping {}).await;
        self.until(|ev| match ev {
            Event::Message(m) if m.room == room => {
                panic!("{room}: seq {} arrived after the {n} expected", m.seq)
            }
            ev => (reply_id(&ev) == Some(id)).then_some(()),
        })
        .await;
    }

    /// Sends a message and returns its seq once acknowledged.
    pub async fn say(&mut self, room: &str, text: &str) -> u64 {
        let id = self.request(send(room, text, None)).await;
        match self.reply(id).await {
            Event::Ack { seq, .. } => seq,
            other => panic!("send failed: {other:?}"),
        }
    }

    /// The next room message from `sender`.
    pub async fn message_from(&mut self, sender: &str) -> ChatMessage {
        self.until(|ev| match ev {
            Event::Message(m) if m.sender == sender => Some(m),
            _ => None,
        })
        .await
    }

    /// Reads until the connection ends; the close code, `None` without a close frame.
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            if let Err(code) = self.next().await {
                return code;
            }
        }
    }
}

/// Proves the server still works: a new guest joins, sends and gets its ack.
pub async fn still_serves(server: &TestServer) {
    let mut probe = Probe::guest(server, "probe").await;
    probe.join("probe-room").await;
    probe.say("probe-room", "still here").await;
    let _ = probe.ws.close(None).await;
}

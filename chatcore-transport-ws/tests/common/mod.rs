//! Shared fixtures of the integration tests: a server on `127.0.0.1:0`, a protocol client on
//! tokio-tungstenite, a minimal HTTP/1.1 client, JWT helpers and a bus whose readiness can be
//! switched off. Every wait is bounded by [`BOUND`]; nothing sleeps to assert.

#![allow(dead_code, unreachable_pub)] // each test binary uses a subset

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chatcore::auth::JwtAuthenticator;
use chatcore::bus::{Bus, BusEvent, BusHandler, LocalBus};
use chatcore::protocol::{Codec, Command, Event, Message as ChatMessage, Request};
use chatcore::{Hub, HubBuilder};
use chatcore_transport_ws::{WsConfig, serve};
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async_with_config};

/// Upper bound of every wait in these tests.
pub const BOUND: Duration = Duration::from_secs(20);
/// The JWT secret of test servers that use tokens.
pub const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A transport config with a generous rate limit, so tests that chat fast are not throttled.
pub fn config() -> WsConfig {
    WsConfig::default()
        .with_rate_limit(100_000, 100_000, 1_000)
        .expect("config")
}

/// A JWT authenticator with the test secret.
pub fn jwt(guests: bool) -> JwtAuthenticator {
    JwtAuthenticator::new(SECRET)
        .expect("secret")
        .with_guests(guests)
}

/// A valid token for `user`.
pub fn token(user: &str) -> String {
    jwt(false)
        .sign(user, Duration::from_secs(600))
        .expect("sign")
}

/// A server running [`serve`] on an ephemeral loopback port.
pub struct TestServer {
    pub addr: SocketAddr,
    pub hub: Hub,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<chatcore_transport_ws::Result<()>>>,
}

impl TestServer {
    /// Guests allowed, memory store, [`config`].
    pub async fn start() -> Self {
        Self::with(Hub::builder(), config()).await
    }

    pub async fn with(builder: HubBuilder, config: WsConfig) -> Self {
        let hub = builder.build().await.expect("hub");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async {
            let _ = stopped.await;
        };
        let task = tokio::spawn(serve(listener, hub.clone(), config, shutdown));
        Self {
            addr,
            hub,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// `ws://ADDR/ws` plus `query` (`"?user=ann"`).
    pub fn ws_url(&self, query: &str) -> String {
        format!("ws://{}/ws{query}", self.addr)
    }

    /// Resolves the shutdown future and waits for `serve` to return.
    pub async fn shutdown(&mut self) -> chatcore_transport_ws::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = self.task.take().expect("server running");
        tokio::time::timeout(BOUND, task)
            .await
            .expect("serve returns within the bound")
            .expect("serve task")
    }
}

/// Opens a WebSocket to `/ws{query}` with optional subprotocols and extra headers.
pub async fn open(
    server: &TestServer,
    query: &str,
    protocols: Option<&str>,
    headers: &[(&str, &str)],
) -> Result<Ws, WsError> {
    let mut request = server.ws_url(query).into_client_request()?;
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
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (ws, _response) = tokio::time::timeout(
        BOUND,
        connect_async_with_config(request, Some(config), false),
    )
    .await
    .expect("handshake within the bound")?;
    Ok(ws)
}

/// The HTTP status and body of a refused handshake.
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

/// A protocol client.
pub struct Client {
    pub ws: Ws,
    pub codec: Codec,
    next_id: u64,
}

impl Client {
    /// A JSON guest (no subprotocol asked for: JSON is the default).
    pub async fn guest(server: &TestServer, name: &str) -> Self {
        Self::open(server, &format!("?user={name}"), Codec::Json, false).await
    }

    /// A JSON client with a token in the query string.
    pub async fn with_token(server: &TestServer, user: &str) -> Self {
        Self::open(
            server,
            &format!("?token={}", token(user)),
            Codec::Json,
            false,
        )
        .await
    }

    /// Connects and reads the welcome frame; `subprotocol` asks for the codec explicitly.
    pub async fn open(server: &TestServer, query: &str, codec: Codec, subprotocol: bool) -> Self {
        let protocol = (subprotocol || codec != Codec::Json).then(|| codec.subprotocol());
        let ws = open(server, query, protocol, &[]).await.expect("connect");
        Self::from_ws(ws, codec).await
    }

    pub async fn from_ws(ws: Ws, codec: Codec) -> Self {
        let mut client = Self {
            ws,
            codec,
            next_id: 0,
        };
        match client.next().await {
            Ok(Event::Welcome { .. }) => client,
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

    /// The message carrying `bytes` in this client's codec.
    pub fn frame(&self, bytes: Vec<u8>) -> Message {
        match self.codec {
            Codec::Json => Message::text(String::from_utf8(bytes).expect("JSON is UTF-8")),
            Codec::MsgPack => Message::binary(bytes),
        }
    }

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
                    assert_eq!(
                        self.codec,
                        Codec::Json,
                        "text frame on a MessagePack connection"
                    );
                    t.as_bytes().to_vec()
                }
                Some(Ok(Message::Binary(b))) => {
                    assert_eq!(
                        self.codec,
                        Codec::MsgPack,
                        "binary frame on a JSON connection"
                    );
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

    /// Reads events until `f` picks one.
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

    pub async fn join_after(&mut self, room: &str, resume_after: Option<u64>) -> Event {
        let id = self
            .request(Command::Join {
                room: room.into(),
                resume_after,
            })
            .await;
        match self.reply(id).await {
            joined @ Event::Joined { .. } => joined,
            other => panic!("join {room} failed: {other:?}"),
        }
    }

    /// Sends a message and returns its seq once acknowledged.
    pub async fn say(&mut self, room: &str, text: &str) -> u64 {
        let id = self.request(send(room, text, None)).await;
        match self.reply(id).await {
            Event::Ack { seq, .. } => seq,
            other => panic!("send failed: {other:?}"),
        }
    }

    /// The next room message from someone.
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

/// A `send` command.
pub fn send(room: &str, text: &str, nonce: Option<String>) -> Command {
    Command::Send {
        room: room.into(),
        text: text.into(),
        nonce,
        kind: Default::default(),
        reply_to: None,
    }
}

/// The request id an event answers.
pub fn reply_id(event: &Event) -> Option<u64> {
    match event {
        Event::Ack { id, .. }
        | Event::Error { id, .. }
        | Event::Joined { id, .. }
        | Event::Left { id, .. }
        | Event::Presence { id, .. }
        | Event::History { id, .. }
        | Event::Rooms { id, .. }
        | Event::Pong { id } => *id,
        _ => None,
    }
}

/// The error code of an error event.
pub fn error_code(event: &Event) -> Option<&'static str> {
    match event {
        Event::Error { code, .. } => Some(code.as_str()),
        _ => None,
    }
}

/// Proves the server still works: a new client joins, sends and gets its ack.
pub async fn still_serves(server: &TestServer) {
    let mut c = Client::guest(server, "probe").await;
    c.join("probe-room").await;
    c.say("probe-room", "still here").await;
    let _ = c.ws.close(None).await;
}

/// A response of [`http`].
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `error.code` of a JSON error body.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.body))
            .to_owned()
    }
}

/// One HTTP/1.1 request over a fresh connection (`Connection: close`).
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> HttpResponse {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body.unwrap_or(""));
    // A refused body may be cut short by the server; the response tells what happened.
    let _ = stream.write_all(request.as_bytes()).await;
    let mut raw = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        // A server may answer before reading the whole body and reset the connection after
        // the response: keep what arrived.
        while let Ok(n @ 1..) = stream.read(&mut buf).await {
            raw.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(BOUND, read)
        .await
        .expect("response within the bound");
    parse_response(&raw)
}

pub async fn get(addr: SocketAddr, path: &str) -> HttpResponse {
    http(addr, "GET", path, &[], None).await
}

pub async fn get_as(addr: SocketAddr, path: &str, token: &str) -> HttpResponse {
    let auth = format!("Bearer {token}");
    http(addr, "GET", path, &[("Authorization", &auth)], None).await
}

fn parse_response(raw: &[u8]) -> HttpResponse {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete response");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    HttpResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// Unpadded base64url, to forge tokens by hand.
pub fn b64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// A [`LocalBus`] whose readiness probe can be made to fail.
#[derive(Debug, Clone, Default)]
pub struct FlakyBus {
    inner: LocalBus,
    pub down: Arc<AtomicBool>,
}

#[async_trait::async_trait]
impl Bus for FlakyBus {
    fn node_id(&self) -> &str {
        self.inner.node_id()
    }

    async fn start(&self, handler: Arc<dyn BusHandler>) -> chatcore::Result<()> {
        self.inner.start(handler).await
    }

    async fn subscribe(&self, room: &str) -> chatcore::Result<()> {
        self.inner.subscribe(room).await
    }

    async fn unsubscribe(&self, room: &str) -> chatcore::Result<()> {
        self.inner.unsubscribe(room).await
    }

    fn publish(&self, event: BusEvent) {
        self.inner.publish(event);
    }

    async fn ping(&self) -> chatcore::Result<()> {
        if self.down.load(Ordering::Relaxed) {
            return Err(chatcore::Error::bus("redis: connection refused"));
        }
        self.inner.ping().await
    }

    async fn close(&self) -> chatcore::Result<()> {
        self.inner.close().await
    }
}

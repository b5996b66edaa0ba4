//! A TCP transport on `127.0.0.1:0` and a raw framed client, shared by the integration tests.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use chatcore::protocol::{Codec, Command, Event, Request};
use chatcore::transport::framed::{self, Close, Hello, ServerFrame};
use chatcore::{Hub, HubBuilder};
use chatcore_transport_tcp::{TcpConfig, TcpTransport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// Upper bound on anything a test waits for.
pub const BOUND: Duration = Duration::from_secs(20);

/// A running TCP transport.
pub struct TestServer {
    pub addr: SocketAddr,
    pub hub: Hub,
    pub transport: TcpTransport,
    stop: CancellationToken,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::with(Hub::builder(), TcpConfig::default()).await
    }

    pub async fn with(builder: HubBuilder, config: TcpConfig) -> Self {
        let hub = builder.build().await.expect("hub");
        Self::serving(TcpTransport::new(hub, config)).await
    }

    /// Accepts with `transport` on `127.0.0.1:0`.
    pub async fn serving(transport: TcpTransport) -> Self {
        let hub = transport.hub().clone();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stop = CancellationToken::new();
        let accepting = transport.clone();
        let until = stop.clone().cancelled_owned();
        tokio::spawn(async move { accepting.accept(listener, until).await });
        Self {
            addr,
            hub,
            transport,
            stop,
        }
    }

    /// Stops accepting and shuts the hub down.
    pub async fn shutdown(&self) -> chatcore_transport_tcp::Result<()> {
        self.stop.cancel();
        self.transport.shutdown().await
    }
}

/// How a connection ended, as the client saw it.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// A close frame, then the end of the stream.
    Close(u16, String),
    /// The stream ended without a close frame.
    Eof,
}

/// A raw framed client.
pub struct Client {
    pub stream: TcpStream,
    pub codec: Codec,
    buf: BytesMut,
    next_id: u64,
    /// Keep-alive frames seen so far.
    pub keepalives: usize,
}

impl Client {
    pub async fn connect(server: &TestServer) -> Self {
        let stream = TcpStream::connect(server.addr).await.expect("connect");
        Self {
            stream,
            codec: Codec::Json,
            buf: BytesMut::new(),
            next_id: 0,
            keepalives: 0,
        }
    }

    /// A guest who got its welcome.
    pub async fn guest(server: &TestServer, name: &str, codec: Codec) -> Self {
        let mut hello = Hello::new(codec);
        hello.user = Some(name.into());
        let mut c = Self::connect(server).await;
        c.hello(&hello).await;
        match c.next().await {
            Ok(Event::Welcome { user, .. }) => assert_eq!(user, name),
            other => panic!("expected welcome, got {other:?}"),
        }
        c
    }

    /// Sends a hello; later frames are in its codec.
    pub async fn hello(&mut self, hello: &Hello) {
        self.codec = hello.codec();
        self.send_payload(&hello.to_json()).await;
    }

    pub async fn send_payload(&mut self, payload: &[u8]) {
        let mut out = BytesMut::new();
        framed::encode(payload, &mut out).expect("frame");
        self.stream.write_all(&out).await.expect("write");
    }

    pub async fn request(&mut self, command: Command) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        let bytes = self.codec.encode(&Request::new(id, command));
        self.send_payload(&bytes).await;
        id
    }

    /// The next payload frame (keep-alives counted and skipped); `None` at the end.
    pub async fn frame(&mut self) -> Option<Bytes> {
        loop {
            match framed::decode(&mut self.buf, usize::MAX).expect("no limit") {
                Some(frame) if frame.is_empty() => self.keepalives += 1,
                Some(frame) => return Some(frame),
                None => {
                    let read = tokio::time::timeout(BOUND, self.stream.read_buf(&mut self.buf))
                        .await
                        .expect("a frame in time");
                    match read {
                        Ok(0) | Err(_) => return None,
                        Ok(_) => {}
                    }
                }
            }
        }
    }

    /// The next event; `Err` with how the connection ended.
    pub async fn next(&mut self) -> Result<Event, Ended> {
        let Some(payload) = self.frame().await else {
            return Err(Ended::Eof);
        };
        match framed::decode_server_frame(self.codec, &payload).expect("a server frame") {
            ServerFrame::Event(event) => Ok(event),
            ServerFrame::Close(Close { code, reason }) => {
                assert_eq!(self.frame().await, None, "nothing after the close frame");
                Err(Ended::Close(code, reason))
            }
        }
    }

    /// Skips events until the connection ends.
    pub async fn ended(&mut self) -> Ended {
        loop {
            if let Err(end) = self.next().await {
                return end;
            }
        }
    }

    /// Waits for the event `f` picks; panics if the connection ends first.
    pub async fn until<T>(&mut self, mut f: impl FnMut(Event) -> Option<T>) -> T {
        while let Ok(event) = self.next().await {
            if let Some(picked) = f(event) {
                return picked;
            }
        }
        panic!("the connection ended while waiting for an event")
    }

    /// The reply to request `id`.
    pub async fn reply(&mut self, id: u64) -> Event {
        self.until(|e| (reply_id(&e) == Some(id)).then_some(e))
            .await
    }

    /// Joins `room` and returns the reply; panics on a message of the room before it (live
    /// messages must follow `joined`: an earlier one is a race at the seam).
    pub async fn join(&mut self, room: &str) -> Event {
        let id = self
            .request(Command::Join {
                room: room.into(),
                resume_after: None,
            })
            .await;
        self.until(|e| {
            if let Event::Message(m) = &e {
                assert!(
                    m.room != room,
                    "join {room}: seq {} arrived before joined",
                    m.seq
                );
            }
            (reply_id(&e) == Some(id)).then_some(e)
        })
        .await
    }

    pub async fn say(&mut self, room: &str, text: &str) -> Event {
        let id = self
            .request(Command::Send {
                room: room.into(),
                text: text.into(),
                nonce: None,
                kind: Default::default(),
                reply_to: None,
                data: None,
            })
            .await;
        self.reply(id).await
    }
}

/// The request id an event answers: its numeric `id` (a `message`'s `id` is a string).
pub fn reply_id(event: &Event) -> Option<u64> {
    serde_json::to_value(event).ok()?.get("id")?.as_u64()
}

/// The error code of an error event.
pub fn error_code(event: &Event) -> Option<&'static str> {
    match event {
        Event::Error { code, .. } => Some(code.as_str()),
        _ => None,
    }
}

/// A hub and a transport that take bursts of sends of up to 64 KB of text at full speed (no
/// rate limits), for tests that fill sockets.
pub fn unthrottled() -> (HubBuilder, TcpConfig) {
    let limits = chatcore::Limits::default()
        .without_rate_limits()
        .with_max_text_bytes(64 * 1024)
        .expect("limits");
    let fast = chatcore::transport::RateLimit::new(100_000, 100_000, 1_000).expect("limit");
    (
        Hub::builder().limits(limits),
        TcpConfig::default().with_rate_limit(fast),
    )
}

/// `count` framed JSON `send`s to `room`, request ids from `first_id`, send `i` carrying
/// `body(i)`: to be written at once.
pub fn framed_sends(
    room: &str,
    count: u64,
    first_id: u64,
    body: impl Fn(u64) -> String,
) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..count {
        let send = chatcore_testkit::send(room, &body(i), None);
        let payload = Codec::Json.encode(&Request::new(first_id + i, send));
        framed::encode(&payload, &mut out).expect("frame");
    }
    out
}

//! `chat-server --tcp-listen`: a WebSocket user and a TCP user of one real `chat-server`
//! process chat in one room, and the TCP user resumes after losing its connection, getting
//! exactly the messages it missed, once, in order.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chatcore_client::{Client, ClientConfig, ClientEvent, Codec, ConnectionState, Events};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use common::chat_server;

const BOUND: Duration = Duration::from_secs(20);

/// `chat-server --tcp-listen 127.0.0.1:0`, killed on drop, with the two addresses it printed.
struct Server {
    _child: tokio::process::Child,
    http: SocketAddr,
    tcp: SocketAddr,
}

impl Server {
    async fn start() -> Self {
        let mut child = chat_server(&[
            "--listen",
            "127.0.0.1:0",
            "--tcp-listen",
            "127.0.0.1:0",
            "--store",
            "memory://",
            "--log",
            "warn",
        ]);
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let address = |line: &str, scheme: &str| -> Option<SocketAddr> {
            let rest = line.split(scheme).nth(1)?;
            rest.split('/').next()?.parse().ok()
        };
        let (mut http, mut tcp) = (None, None);
        let printed = async {
            while http.is_none() || tcp.is_none() {
                let line = lines
                    .next_line()
                    .await
                    .expect("read stdout")
                    .expect("a line");
                http = http.or_else(|| address(&line, "http://"));
                tcp = tcp.or_else(|| address(&line, "tcp://"));
            }
        };
        tokio::time::timeout(BOUND, printed)
            .await
            .expect("chat-server prints its addresses");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            _child: child,
            http: http.expect("http address"),
            tcp: tcp.expect("tcp address"),
        }
    }
}

/// A TCP proxy whose connections can be cut, and which refuses new ones while it is down.
struct Proxy {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    pipes: Arc<Mutex<JoinSet<()>>>,
}

impl Proxy {
    async fn start(backend: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let up = Arc::new(AtomicBool::new(true));
        let pipes = Arc::new(Mutex::new(JoinSet::new()));
        let (accept_up, accept_pipes) = (Arc::clone(&up), Arc::clone(&pipes));
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accept_up.load(Ordering::SeqCst) {
                    continue; // dropped: the client sees the connection end
                }
                accept_pipes.lock().await.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(backend).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Self { addr, up, pipes }
    }

    /// Drops every connection and refuses new ones.
    async fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.pipes.lock().await.abort_all();
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

async fn guest(url: &str, user: &str, codec: Codec) -> (Client, Events) {
    let config = ClientConfig::new(url)
        .expect("url")
        .with_guest(user)
        .with_codec(codec)
        .with_backoff(Duration::from_millis(50), Duration::from_millis(200))
        .expect("backoff");
    Client::connect(config).await.expect("connect")
}

/// The next event `f` picks from `events`.
async fn next<T>(events: &mut Events, mut f: impl FnMut(ClientEvent) -> Option<T>) -> T {
    let picked = async {
        while let Some(event) = events.recv().await {
            if let Some(t) = f(event) {
                return t;
            }
        }
        panic!("the event stream ended")
    };
    tokio::time::timeout(BOUND, picked)
        .await
        .expect("the event in time")
}

fn text_in(room: &str) -> impl FnMut(ClientEvent) -> Option<String> {
    let room = room.to_owned();
    move |e| match e {
        ClientEvent::Message(m) if m.room == room => Some(m.text),
        _ => None,
    }
}

#[tokio::test]
async fn websocket_and_tcp_users_chat_and_the_tcp_user_resumes_exactly_once() {
    let server = Server::start().await;
    let proxy = Proxy::start(server.tcp).await;
    let tcp_url = format!("tcp://{}", proxy.addr);
    let (ann, mut ann_events) = guest(&tcp_url, "ann", Codec::MsgPack).await;
    let (bob, mut bob_events) = guest(&format!("http://{}", server.http), "bob", Codec::Json).await;
    ann.join("lobby").await.expect("ann joins");
    bob.join("lobby").await.expect("bob joins");

    ann.send("lobby", "hello from tcp")
        .await
        .expect("ann sends");
    assert_eq!(
        next(&mut bob_events, text_in("lobby")).await,
        "hello from tcp"
    );
    bob.send("lobby", "hello from ws").await.expect("bob sends");
    assert_eq!(
        next(&mut ann_events, text_in("lobby")).await,
        "hello from tcp"
    );
    assert_eq!(
        next(&mut ann_events, text_in("lobby")).await,
        "hello from ws"
    );

    proxy.cut().await;
    next(&mut ann_events, |e| {
        matches!(e, ClientEvent::State(ConnectionState::Disconnected(_))).then_some(())
    })
    .await;
    for n in 1..=3 {
        bob.send("lobby", format!("missed {n}"))
            .await
            .expect("bob sends");
    }
    // Attempts fail while the proxy is down (each connection ends before a welcome): the
    // client keeps trying.
    next(&mut ann_events, |e| {
        matches!(e, ClientEvent::State(ConnectionState::Reconnecting { attempt, .. }) if attempt >= 3)
            .then_some(())
    })
    .await;
    proxy.restore();
    next(&mut ann_events, |e| {
        matches!(e, ClientEvent::State(ConnectionState::Connected(_))).then_some(())
    })
    .await;
    bob.send("lobby", "live again").await.expect("bob sends");

    let mut seen = Vec::new();
    while seen.last().is_none_or(|t| t != "live again") {
        seen.push(next(&mut ann_events, text_in("lobby")).await);
    }
    assert_eq!(seen, ["missed 1", "missed 2", "missed 3", "live again"]);
    // And nothing twice afterwards: a last message arrives right after the live one.
    ann.send("lobby", "bye").await.expect("ann sends");
    assert_eq!(next(&mut ann_events, text_in("lobby")).await, "bye");
}

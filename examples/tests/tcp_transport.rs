//! `chat-server --tcp-listen`: a WebSocket user and a TCP user of one real `chat-server`
//! process chat in one room, and the TCP user resumes after losing its connection, getting
//! exactly the messages it missed, once, in order.

use std::time::Duration;

use chatcore_client::{Client, ClientConfig, ClientEvent, Codec, ConnectionState, Events};
use chatcore_testkit::{ChatServerProcess, Proxy};

const BOUND: Duration = Duration::from_secs(20);

/// `chat-server --tcp-listen 127.0.0.1:0` with a memory store, killed on drop.
async fn start_server() -> ChatServerProcess {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_chat-server"));
    command.args([
        "--listen",
        "127.0.0.1:0",
        "--tcp-listen",
        "127.0.0.1:0",
        "--store",
        "memory://",
        "--log",
        "warn",
    ]);
    ChatServerProcess::spawn(command)
        .await
        .expect("chat-server prints its addresses")
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
    let server = start_server().await;
    let proxy = Proxy::start(server.tcp_addr.expect("a TCP address")).await;
    let tcp_url = format!("tcp://{}", proxy.addr);
    let (ann, mut ann_events) = guest(&tcp_url, "ann", Codec::MsgPack).await;
    let (bob, mut bob_events) = guest(&server.url(), "bob", Codec::Json).await;
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

    proxy.down();
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
    proxy.up();
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

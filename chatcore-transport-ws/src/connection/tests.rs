//! Connection tests over in-memory duplex pipes, most with paused time, so keep-alive and
//! timeouts are exercised deterministically. The real-socket tests live in `tests/`.

use std::time::Duration;

use chatcore::protocol::{Codec, Command, Event, Request};
use chatcore::{ErrorCode, Hub, Limits};
use chatcore_testkit::guest_session;
use futures::{SinkExt, StreamExt};
use tokio::io::DuplexStream;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::*;

mod raw;
mod tcp;

const BOUND: Duration = Duration::from_secs(30);

struct Pair {
    client: WebSocketStream<DuplexStream>,
    server: JoinHandle<()>,
    hub: Hub,
    metrics: Arc<Metrics>,
}

async fn hub(limits: Limits) -> Hub {
    Hub::builder().limits(limits).build().await.expect("hub")
}

/// What a connection shares with the transport, with `config` and metrics of its own.
fn context(config: WsConfig) -> ConnContext {
    ConnContext {
        config: Arc::new(config),
        metrics: Arc::new(Metrics::new()),
    }
}

/// Runs a connection for guest `ann` over an in-memory pipe; returns the client's end.
async fn serve(
    hub: &Hub,
    config: WsConfig,
    pipe: usize,
) -> (DuplexStream, JoinHandle<()>, Arc<Metrics>) {
    let (session, outbound) = guest_session(hub, "ann").await;
    let (server_io, client_io) = tokio::io::duplex(pipe);
    let ctx = context(config);
    let metrics = Arc::clone(&ctx.metrics);
    let server = tokio::spawn(run(server_io, session, outbound, ctx));
    (client_io, server, metrics)
}

async fn pair(hub: &Hub, config: WsConfig, pipe: usize) -> Pair {
    let (client_io, server, metrics) = serve(hub, config, pipe).await;
    let client = WebSocketStream::from_raw_socket(client_io, Role::Client, None).await;
    Pair {
        client,
        server,
        hub: hub.clone(),
        metrics,
    }
}

fn text(req: &Request) -> Message {
    Message::text(String::from_utf8(Codec::Json.encode(req)).expect("utf-8"))
}

/// The next protocol event, skipping pings; `Err` carries the close frame or stream end.
async fn next_event<S: AsyncRead + AsyncWrite + Unpin>(
    client: &mut WebSocketStream<S>,
) -> Result<Event, Option<u16>> {
    loop {
        let item = tokio::time::timeout(BOUND, client.next())
            .await
            .expect("no event in time");
        match item {
            Some(Ok(Message::Text(t))) => {
                return Ok(Codec::Json.decode_event(t.as_bytes()).expect("event"));
            }
            Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| u16::from(f.code))),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Err(None),
        }
    }
}

async fn welcome<S: AsyncRead + AsyncWrite + Unpin>(client: &mut WebSocketStream<S>) {
    let ev = next_event(client).await.expect("welcome");
    assert!(matches!(ev, Event::Welcome { .. }), "{ev:?}");
}

async fn ping(client: &mut WebSocketStream<DuplexStream>, id: u64) {
    client
        .send(text(&Request::new(id, Command::Ping {})))
        .await
        .expect("send");
    loop {
        match next_event(client).await.expect("pong") {
            Event::Pong { id: got } => {
                assert_eq!(got, Some(id));
                return;
            }
            _ => continue,
        }
    }
}

#[tokio::test]
async fn frames_round_trip_and_binary_on_json_is_bad_frame() {
    let hub = hub(Limits::default()).await;
    let mut p = pair(&hub, WsConfig::default(), 64 * 1024).await;
    welcome(&mut p.client).await;
    ping(&mut p.client, 1).await;
    p.client
        .send(Message::binary(vec![0x81, 0xa4]))
        .await
        .expect("send");
    match next_event(&mut p.client).await.expect("error") {
        Event::Error { code, .. } => assert_eq!(code, ErrorCode::BadFrame),
        other => panic!("{other:?}"),
    }
    ping(&mut p.client, 2).await;
}

#[tokio::test]
async fn peer_close_is_answered_and_the_session_ends() {
    let hub = hub(Limits::default()).await;
    let mut p = pair(&hub, WsConfig::default(), 64 * 1024).await;
    welcome(&mut p.client).await;
    p.client.close(None).await.expect("close");
    assert!(next_event(&mut p.client).await.is_err());
    drop(p.client);
    tokio::time::timeout(BOUND, p.server)
        .await
        .expect("server ends")
        .expect("no panic");
    assert_eq!(p.hub.stats().sessions, 0);
}

#[tokio::test(start_paused = true)]
async fn flood_gets_rate_limited_then_closed_with_1008() {
    let hub = hub(Limits::default()).await;
    let config = WsConfig::default()
        .with_rate_limit(1, 3, 5)
        .expect("config");
    let mut p = pair(&hub, config, 64 * 1024).await;
    welcome(&mut p.client).await;
    for id in 0..20 {
        p.client
            .feed(text(&Request::new(id, Command::Ping {})))
            .await
            .expect("send");
    }
    p.client.flush().await.expect("flush");
    let (mut pongs, mut limited) = (0, 0);
    let close = loop {
        match next_event(&mut p.client).await {
            Ok(Event::Pong { .. }) => pongs += 1,
            Ok(Event::Error { code, id, .. }) => {
                assert_eq!(code, ErrorCode::RateLimited);
                assert!(id.is_some(), "rate_limited errors echo the request id");
                limited += 1;
            }
            Ok(other) => panic!("{other:?}"),
            Err(code) => break code,
        }
    };
    assert_eq!((pongs, limited, close), (3, 5, Some(1008)));
}

#[tokio::test(start_paused = true)]
async fn live_peers_are_pinged_and_silent_ones_time_out_with_4000() {
    let hub = hub(Limits::default()).await;
    let config = WsConfig::default()
        .with_keepalive(Duration::from_secs(1), Duration::from_secs(3))
        .expect("config");
    let mut p = pair(&hub, config, 64 * 1024).await;
    welcome(&mut p.client).await;
    // Reading answers pings (tungstenite queues the pong and flushes it on the next read).
    let mut pings = 0;
    let alive = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(m)) = p.client.next().await {
            if m.is_ping() {
                pings += 1;
            }
        }
    })
    .await;
    assert!(
        alive.is_err(),
        "the connection stayed open while pongs flowed"
    );
    assert!(pings >= 8, "pinged every second: {pings}");
    // Now go silent: no reads, so no pongs. The server closes after 3 to 4 silent seconds
    // and waits for the close handshake for up to 3 more; read within that window (a late
    // reader would fail flushing its queued pongs into the closed pipe).
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(next_event(&mut p.client).await.err(), Some(Some(4000)));
}

#[tokio::test]
async fn oversized_message_gets_1009_and_the_close_frame_arrives() {
    let hub = hub(Limits::default()).await;
    let config = WsConfig::default()
        .with_max_message_bytes(1024)
        .expect("config");
    let mut p = pair(&hub, config, 16 * 1024).await;
    welcome(&mut p.client).await;
    // Larger than the pipe, so the server must drain it for the send to finish.
    let big = "x".repeat(64 * 1024);
    p.client.send(Message::text(big)).await.expect("send");
    assert_eq!(next_event(&mut p.client).await.err(), Some(Some(1009)));
    // Reading on sends our close reply and sees the server's FIN; closing our side lets
    // the server's drain finish.
    assert!(p.client.next().await.is_none());
    drop(p.client);
    tokio::time::timeout(BOUND, p.server)
        .await
        .expect("server ends")
        .expect("no panic");
}

#[tokio::test]
async fn invalid_utf8_gets_1007() {
    use tokio_tungstenite::tungstenite::protocol::frame::Frame as WsFrame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    let hub = hub(Limits::default()).await;
    let mut p = pair(&hub, WsConfig::default(), 64 * 1024).await;
    welcome(&mut p.client).await;
    let bad = WsFrame::message(vec![b'{', 0xff, 0xfe, b'}'], OpCode::Data(Data::Text), true);
    p.client.send(Message::Frame(bad)).await.expect("send");
    assert_eq!(next_event(&mut p.client).await.err(), Some(Some(1007)));
}

#[tokio::test(start_paused = true)]
async fn a_stuck_write_drops_the_connection_after_the_write_timeout() {
    let hub = hub(Limits::default()).await;
    let config = WsConfig::default()
        .with_write_timeout(Duration::from_secs(2))
        .expect("config");
    // The welcome frame alone does not fit this pipe, and the client never reads.
    let p = pair(&hub, config, 32).await;
    tokio::time::timeout(BOUND, p.server)
        .await
        .expect("server ends")
        .expect("no panic");
    let text = p.metrics.render(p.hub.stats());
    assert!(
        text.contains("chatcore_ws_write_timeouts_total 1"),
        "{text}"
    );
    assert_eq!(p.hub.stats().sessions, 0);
    drop(p.client);
}

#[tokio::test(start_paused = true)]
async fn a_client_whose_socket_refuses_bytes_gets_its_backlog_then_eof() {
    let limits = Limits::default().with_queue_capacity(8).expect("limits");
    let hub = hub(limits).await;
    let mut p = pair(&hub, WsConfig::default(), 4 * 1024).await;
    welcome(&mut p.client).await;
    let join = Command::Join {
        room: "general".into(),
        resume_after: None,
    };
    p.client
        .send(text(&Request::new(1, join.clone())))
        .await
        .expect("join");
    assert!(matches!(
        next_event(&mut p.client).await,
        Ok(Event::Joined { .. })
    ));

    // A chatty in-process member fills the pipe, then the queue.
    let (mut bob, mut bob_out) = guest_session(&hub, "bob").await;
    bob.handle(Request::new(1, join)).await;
    let drain =
        tokio::spawn(
            async move { while let chatcore::Outgoing::Frame(_) = bob_out.recv().await {} },
        );
    for i in 0..200u64 {
        let send = Command::Send {
            room: "general".into(),
            text: format!("{i:0>200}"),
            nonce: None,
            kind: Default::default(),
            reply_to: None,
            data: None,
        };
        bob.handle(Request::new(i + 2, send)).await;
        tokio::task::yield_now().await;
    }
    // The pipe is full and frames wait: once the stuck write has lasted the hub's
    // `slow_consumer_after` (3 s), the session is a slow consumer.
    let stuck = Instant::now();
    while hub.stats().slow_consumers == 0 {
        assert!(stuck.elapsed() < Duration::from_secs(4), "no slow consumer");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(p.hub.stats().slow_consumers, 1);
    // The close frame cannot get through a full socket: the client reads what the pipe held,
    // then the end of the stream, as PROTOCOL.md says.
    let mut messages = 0;
    let close = loop {
        match next_event(&mut p.client).await {
            Ok(Event::Message(_)) => messages += 1,
            Ok(_) => {}
            Err(code) => break code,
        }
    };
    assert!(messages > 0, "the backlog came first");
    assert_eq!(close, None, "no close frame fits");
    drop(bob);
    drain.abort();
}

#[tokio::test]
async fn the_command_future_is_not_part_of_every_connection_task() {
    // An idle connection's task holds the whole `run` future: the command layer's future
    // (join, history, send …) must be boxed per request, not inlined in it.
    let hub = hub(Limits::default()).await;
    let (mut session, _outbound) = guest_session(&hub, "ann").await;
    let command = std::mem::size_of_val(&session.handle_frame(b"{}"));
    let (session, outbound) = guest_session(&hub, "bob").await;
    let (server_io, _client_io) = tokio::io::duplex(1024);
    let ctx = context(WsConfig::default());
    let connection = std::mem::size_of_val(&run(server_io, session, outbound, ctx.clone()));
    assert!(
        connection < command,
        "connection future {connection} bytes, command future {command} bytes"
    );
    // The same over plain TCP, where the hub may write to the socket.
    let (session, outbound) = guest_session(&hub, "bob").await;
    let (server, _client) = chatcore_testkit::tcp_pair().await;
    let early = Vec::<u8>::new();
    let connection = std::mem::size_of_val(&run_tcp(server, early, session, outbound, ctx));
    assert!(
        connection < command,
        "TCP connection future {connection} bytes, command future {command} bytes"
    );
}

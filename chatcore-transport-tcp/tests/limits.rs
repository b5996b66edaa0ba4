//! Rate limit, connection cap, keep-alive, slow consumers and shutdown over real sockets.

mod common;

use std::time::Duration;

use chatcore::protocol::{Codec, Command, Event};
use chatcore::transport::{Keepalive, RateLimit};
use chatcore::{Hub, Limits};
use chatcore_transport_tcp::TcpConfig;
use common::*;

#[tokio::test]
async fn a_flood_gets_rate_limited_then_closed_with_1008() {
    let limit = RateLimit::new(1, 5, 3).expect("limit");
    let config = TcpConfig::default().with_rate_limit(limit);
    let server = TestServer::with(Hub::builder(), config).await;
    let mut c = Client::guest(&server, "ann", Codec::Json).await;
    for _ in 0..20 {
        c.request(Command::Ping {}).await;
    }
    let (mut pongs, mut limited) = (0, 0);
    let end = loop {
        match c.next().await {
            Ok(Event::Pong { .. }) => pongs += 1,
            Ok(e) if error_code(&e) == Some("rate_limited") => {
                assert!(reply_id(&e).is_some(), "the refusal echoes the id");
                limited += 1;
            }
            Ok(other) => panic!("{other:?}"),
            Err(end) => break end,
        }
    };
    assert_eq!(pongs, 5, "the burst is handled");
    assert_eq!(limited, 3, "then rejections, up to the limit");
    assert_eq!(
        end,
        Ended::Close(1008, "rate limit exceeded repeatedly".into())
    );
}

#[tokio::test]
async fn over_the_connection_cap_is_1013_until_a_slot_frees() {
    let config = TcpConfig::default()
        .with_max_connections(1)
        .expect("config");
    let server = TestServer::with(Hub::builder(), config).await;
    let first = Client::guest(&server, "ann", Codec::Json).await;
    let mut refused = Client::connect(&server).await;
    match refused.ended().await {
        Ended::Close(1013, reason) => assert!(reason.contains("limit of 1"), "{reason}"),
        other => panic!("{other:?}"),
    }
    drop(first);
    let mut bob = admitted_in_time(&server, "bob").await;
    bob.join("general").await;
}

/// `hello` as guest `name`, then the welcome or how the connection ended.
async fn try_guest(server: &TestServer, name: &str) -> Result<Client, Ended> {
    let mut c = Client::connect(server).await;
    let mut hello = chatcore::transport::framed::Hello::new(Codec::Json);
    hello.user = Some(name.into());
    c.hello(&hello).await;
    match c.next().await {
        Ok(Event::Welcome { .. }) => Ok(c),
        Ok(other) => panic!("expected welcome or an end, got {other:?}"),
        Err(end) => Err(end),
    }
}

/// Tries `hello` as `name` every 20 ms until the server admits it, within [`BOUND`].
async fn admitted_in_time(server: &TestServer, name: &str) -> Client {
    let retry = async {
        loop {
            if let Ok(c) = try_guest(server, name).await {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(BOUND, retry)
        .await
        .expect("a place frees")
}

#[tokio::test]
async fn one_address_over_its_session_cap_is_4429_until_one_leaves() {
    let limits = Limits::default()
        .with_max_connections_per_ip(Some(2))
        .expect("limits");
    let server = TestServer::with(Hub::builder().limits(limits), TcpConfig::default()).await;
    let first = Client::guest(&server, "ann", Codec::Json).await;
    let mut second = Client::guest(&server, "bob", Codec::Json).await;
    match try_guest(&server, "cat").await {
        Err(Ended::Close(4429, reason)) => assert!(reason.contains("at most 2"), "{reason}"),
        other => panic!("expected close 4429, got {:?}", other.err()),
    }
    // The refused hello left nothing behind: the two sessions work, and a place frees when
    // one of them ends.
    second.join("general").await;
    drop(first);
    let mut cat = admitted_in_time(&server, "cat").await;
    cat.join("general").await;
}

#[tokio::test]
async fn keepalives_flow_and_a_silent_client_is_closed_with_4000() {
    let keepalive = Keepalive::new(Duration::from_millis(100), Duration::from_millis(350));
    let config = TcpConfig::default().with_keepalive(keepalive.expect("keepalive"));
    let server = TestServer::with(Hub::builder(), config).await;
    let mut c = Client::guest(&server, "ann", Codec::MsgPack).await;
    let end = c.ended().await;
    assert!(c.keepalives >= 2, "{} keep-alives", c.keepalives);
    assert!(matches!(end, Ended::Close(4000, _)), "{end:?}");

    // A client that sends keep-alives stays.
    let mut alive = Client::guest(&server, "bob", Codec::Json).await;
    for _ in 0..8 {
        alive.send_payload(b"").await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let id = alive.request(Command::Ping {}).await;
    assert_eq!(alive.reply(id).await, Event::Pong { id: Some(id) });
}

#[tokio::test]
async fn shutdown_delivers_queued_frames_then_1001() {
    let server = TestServer::start().await;
    let mut c = Client::guest(&server, "ann", Codec::Json).await;
    c.join("general").await;
    let id = c
        .request(Command::Send {
            room: "general".into(),
            text: "last words".into(),
            nonce: None,
            kind: Default::default(),
            reply_to: None,
            data: None,
        })
        .await;
    // Once the message is stored, its ack is queued or in flight: shut down right then.
    c.until(|e| matches!(e, Event::Message(_)).then_some(()))
        .await;
    let shutdown = tokio::spawn(async move { server.shutdown().await });
    let mut acked = false;
    let end = loop {
        match c.next().await {
            Ok(e) if reply_id(&e) == Some(id) => acked = matches!(e, Event::Ack { .. }),
            Ok(_) => {}
            Err(end) => break end,
        }
    };
    assert!(
        acked,
        "the send in flight was acknowledged before the close"
    );
    assert!(matches!(end, Ended::Close(1001, _)), "{end:?}");
    drop(c);
    shutdown.await.expect("no panic").expect("clean shutdown");
}

#[tokio::test]
async fn a_slow_consumer_gets_its_backlog_then_the_end_of_the_stream() {
    let limits = Limits::default()
        .with_queue_capacity(8)
        .and_then(|l| l.with_slow_consumer_after(Duration::from_millis(300)))
        .expect("limits")
        .without_rate_limits();
    let fast = RateLimit::new(100_000, 100_000, 1_000).expect("limit");
    let config = TcpConfig::default().with_rate_limit(fast);
    let server = TestServer::with(Hub::builder().limits(limits), config).await;
    let mut slow = Client::guest(&server, "slow", Codec::Json).await;
    slow.join("firehose").await;
    let mut sender = Client::guest(&server, "sender", Codec::MsgPack).await;
    sender.join("firehose").await;

    // Big messages fill the slow client's socket buffers, then its 8-frame queue.
    let text = "y".repeat(8 * 1024);
    let mut sent = 0;
    while server.hub.stats().slow_consumers == 0 {
        assert!(sent < 5_000, "the slow consumer was never disconnected");
        let ack = sender.say("firehose", &text).await;
        assert!(matches!(ack, Event::Ack { .. }), "{ack:?}");
        sent += 1;
    }
    // Its socket refused bytes while frames waited: reading at last, it gets what the
    // kernel held, then the end of the stream (no close frame fits a full socket).
    let end = slow.ended().await;
    assert!(matches!(end, Ended::Eof), "{end:?}");
    let ack = sender.say("firehose", "after").await;
    assert!(
        matches!(ack, Event::Ack { .. }),
        "the sender is unaffected: {ack:?}"
    );
}

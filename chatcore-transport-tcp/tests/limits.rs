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
    let retry = async {
        loop {
            let mut c = Client::connect(&server).await;
            let mut hello = chatcore::transport::framed::Hello::new(Codec::Json);
            hello.user = Some("bob".into());
            c.hello(&hello).await;
            if let Ok(Event::Welcome { .. }) = c.next().await {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let mut bob = tokio::time::timeout(BOUND, retry)
        .await
        .expect("a slot frees");
    bob.join("general").await;
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

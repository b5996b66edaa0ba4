//! Connection cap, origin policy, subprotocol negotiation and the slow consumer, over real
//! sockets.

use std::time::{Duration, Instant};

use chatcore::protocol::{Codec, Event};
use chatcore::{Hub, Limits};
use chatcore_testkit::*;

#[tokio::test]
async fn over_the_connection_cap_is_503_until_a_slot_frees() {
    let config = ws_config().with_max_connections(2).expect("config");
    let server = TestServer::with(Hub::builder(), config).await;
    let a = Probe::guest(&server, "a").await;
    let _b = Probe::guest(&server, "b").await;
    let (status, body) = refusal(open(&server.ws_url("?user=c"), None, &[]).await);
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("\"unavailable\"") && body.contains("limit of 2"),
        "{body}"
    );

    drop(a);
    // The slot frees once the server has finished with the old connection.
    let retry = async {
        loop {
            match open(&server.ws_url("?user=c"), None, &[]).await {
                Ok(ws) => return Probe::from_ws(ws, Codec::Json).await,
                Err(_) => tokio::task::yield_now().await,
            }
        }
    };
    let mut c = tokio::time::timeout(BOUND, retry)
        .await
        .expect("a slot frees");
    c.join("room").await;
}

#[tokio::test]
async fn origins_are_checked() {
    let server = TestServer::start().await;
    let (status, body) = refusal(
        open(
            &server.ws_url("?user=ann"),
            None,
            &[("Origin", "https://evil.example")],
        )
        .await,
    );
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("evil.example"), "{body}");
    let same_host = format!("http://{}", server.addr);
    for origin in [same_host.as_str(), "http://localhost:5173"] {
        let ws = open(&server.ws_url("?user=ann"), None, &[("Origin", origin)]).await;
        assert!(ws.is_ok(), "{origin} is allowed");
    }

    let listed = ws_config()
        .with_allowed_origins(["https://app.example"])
        .expect("config");
    let server = TestServer::with(Hub::builder(), listed.with_loopback_origins(false)).await;
    assert!(
        open(
            &server.ws_url("?user=ann"),
            None,
            &[("Origin", "https://app.example")]
        )
        .await
        .is_ok()
    );
    let (status, _) = refusal(
        open(
            &server.ws_url("?user=ann"),
            None,
            &[("Origin", "http://localhost:5173")],
        )
        .await,
    );
    assert_eq!(status, 403);
    still_serves(&server).await;
}

#[tokio::test]
async fn subprotocols_are_negotiated_or_refused() {
    let server = TestServer::start().await;
    let (status, body) = refusal(open(&server.ws_url("?user=ann"), Some("graphql-ws"), &[]).await);
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("chatcore.v1.json") && body.contains("chatcore.v1.msgpack"),
        "{body}"
    );
    // The first known one offered wins (tungstenite checks that it is echoed).
    let ws = open(
        &server.ws_url("?user=ann"),
        Some("chatcore.v2.json, chatcore.v1.msgpack"),
        &[],
    )
    .await
    .expect("msgpack");
    let mut c = Probe::from_ws(ws, Codec::MsgPack).await;
    c.join("general").await;
    let r = get(server.addr, "/ws?user=ann").await;
    assert_eq!(r.status, 426, "a plain GET is told to upgrade: {}", r.body);
    still_serves(&server).await;
}

/// The tests that flood a server take turns: one measures the process's memory, and the
/// other's flood (megabytes in flight in the same process) would be counted in it.
static FLOODS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test]
async fn a_slow_consumer_is_disconnected_and_nobody_else_slows_down() {
    let _turn = FLOODS.lock().await;
    let limits = Limits::default()
        .with_queue_capacity(8)
        .and_then(|l| l.with_slow_consumer_after(Duration::from_millis(300)))
        .expect("limits")
        .without_rate_limits();
    let server = TestServer::with(Hub::builder().limits(limits), ws_config()).await;
    let mut slow = Probe::guest(&server, "slow").await;
    slow.join("firehose").await;
    let mut reader = Probe::guest(&server, "reader").await;
    reader.join("firehose").await;
    let mut sender = Probe::guest(&server, "sender").await;
    sender.join("firehose").await;

    // The reader keeps up and must see every message in order, and the slow client leave
    // (`None`). Presence and messages are separate streams: the slow client's `user_left`
    // may come before the message whose fan-out cut it off.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let reading = tokio::spawn(async move {
        loop {
            let seen = match reader.next().await {
                Ok(Event::Message(m)) => Some(m.seq),
                Ok(Event::UserLeft { user, .. }) if user == "slow" => None,
                Ok(_) => continue,
                Err(code) => panic!("reader closed: {code:?}"),
            };
            if tx.send(seen).is_err() {
                return reader;
            }
        }
    });

    // Big messages fill the slow client's socket buffers, then its 8-frame queue.
    let text = "y".repeat(8 * 1024);
    let mut sent = 0u64;
    while server.hub.stats().slow_consumers == 0 {
        assert!(sent < 5_000, "the slow consumer was never disconnected");
        let seq = sender.say("firehose", &text).await;
        sent += 1;
        assert_eq!(seq, sent, "the sender's acks keep coming");
    }
    let mut seqs = Vec::new();
    let mut slow_left = false;
    while seqs.len() < sent as usize || !slow_left {
        match tokio::time::timeout(BOUND, rx.recv())
            .await
            .expect("reader keeps up, and presence is updated")
            .expect("reader running")
        {
            Some(seq) => seqs.push(seq),
            None => slow_left = true,
        }
    }
    assert_eq!(
        seqs,
        (1..=sent).collect::<Vec<_>>(),
        "the reader got everything in order"
    );

    // The slow client's socket refused bytes while frames waited: it reads the backlog its
    // kernel held, then the end of the stream (no close frame fits a full socket).
    assert_eq!(slow.close_code().await, None);
    drop(rx);
    sender.say("firehose", "after").await;
    let _reader = tokio::time::timeout(BOUND, reading)
        .await
        .expect("the reader stops once nobody listens")
        .expect("reader");
}

#[tokio::test]
async fn the_101_answer_follows_rfc_6455() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start().await;
    let mut tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let request = format!(
        "GET /ws?user=ann HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Protocol: chatcore.v1.json\r\n\r\n",
        server.addr
    );
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(BOUND, tcp.read(&mut byte))
            .await
            .expect("answer")
            .expect("read");
        assert_eq!(
            n,
            1,
            "connection closed early: {}",
            String::from_utf8_lossy(&head)
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    // The accept key of the RFC's own example.
    assert!(
        head.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{head}"
    );
    assert!(
        head.contains("sec-websocket-protocol: chatcore.v1.json"),
        "{head}"
    );
    assert!(head.contains("upgrade: websocket"), "{head}");
}

/// PROTOCOL.md, "A client that stops reading": with the default limits, once the client's
/// socket refuses bytes the server cuts it off `slow_consumer_after` (3 s) later, not when
/// a write times out (10 s) and not never; the client then reads what its kernel held and the
/// end of the stream. Meanwhile the server's memory stays flat and the sender is unaffected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_cut_off_seconds_after_its_socket_fills() {
    let _turn = FLOODS.lock().await;
    // The sender outpaces a person's message rate on purpose: the per-user limit is off.
    let limits = Limits::default().without_rate_limits();
    let server = TestServer::with(Hub::builder().limits(limits), ws_config()).await;
    let mut stopped = Probe::guest(&server, "stopped").await;
    stopped.join("firehose").await;
    let mut sender = Probe::guest(&server, "sender").await;
    sender.join("firehose").await;
    let rss_before = rss_kib();
    // 8 KiB messages: the kernel buffers (a few MB on loopback) fill within a second.
    let text = "z".repeat(8 * 1024);
    let started = Instant::now();
    let mut sent = 0u64;
    while server.hub.stats().slow_consumers == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "not cut off within 8 s of flooding ({sent} messages)"
        );
        sender.say("firehose", &text).await;
        sent += 1;
    }
    let decided = started.elapsed();
    let grew = rss_kib().saturating_sub(rss_before);
    eprintln!(
        "cut off {decided:?} after the flood began ({sent} messages of 8 KiB); \
         server RSS grew {grew} KiB"
    );
    // The rule is the stuck write (3 s), not the queue filling up.
    assert!(decided >= Duration::from_secs(3), "{decided:?}");
    // The memory store keeps every message (about 8.3 KiB each here) and the stopped
    // client's queue holds at most its capacity of shared frames; a queue without a bound
    // would also keep every frame sent, 8.2 KiB more per message. 16 KiB per message sent
    // (plus 8 MiB for buffers) lies between the two, whatever the machine's flood rate.
    assert!(
        grew < sent * 16 + 8 * 1024,
        "server memory grew {grew} KiB for {sent} messages of 8 KiB"
    );
    let mut messages = 0u64;
    let end = loop {
        match stopped.next().await {
            Ok(Event::Message(_)) => messages += 1,
            Ok(_) => {}
            Err(code) => break code,
        }
    };
    assert_eq!(end, None, "the end of the stream, no close frame");
    assert!(messages > 0 && messages < sent, "{messages} of {sent}");
    sender.say("firehose", "after").await;
}

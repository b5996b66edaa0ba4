//! Direct writes over real TCP sockets: a whole connection whose corked replies outrun a
//! client that stops reading for a while (the sink's own partial writes are tested in
//! `chatcore::transport`).

use chatcore::transport::Split;
use chatcore_testkit::{SentBack, tcp_pair};

use super::*;

/// A room of one: each `send` is answered with the sender's own copy and the ack, corked
/// and written by the connection's reader while the socket takes them.
#[tokio::test]
async fn corked_replies_that_outrun_a_stalled_client_arrive_whole_and_in_order() {
    const SENDS: u64 = 200;
    let limits = Limits::default()
        .without_rate_limits()
        .with_max_text_bytes(64 * 1024)
        .expect("limits");
    let hub = hub(limits).await;
    let (session, outbound) = guest_session(&hub, "ann").await;
    let (server, client) = tcp_pair().await;
    let config = WsConfig::default().with_rate_limit(100_000, 100_000, 1_000);
    let ctx = context(config.expect("config"));
    let server = tokio::spawn(run_tcp(server, Vec::<u8>::new(), session, outbound, ctx));
    let mut client = WebSocketStream::from_raw_socket(client, Role::Client, None).await;
    welcome(&mut client).await;
    let join = Command::Join {
        room: "r".into(),
        resume_after: None,
    };
    client
        .send(text(&Request::new(1, join)))
        .await
        .expect("join");
    while !matches!(next_event(&mut client).await, Ok(Event::Joined { .. })) {}
    let (mut sink, mut stream) = client.split();
    let body = |i: u64| format!("{i:08}{}", "y".repeat(50_000));
    let sending = tokio::spawn(async move {
        for i in 0..SENDS {
            let send = chatcore_testkit::send("r", &body(i), None);
            sink.send(text(&Request::new(100 + i, send)))
                .await
                .expect("send");
        }
        sink
    });
    // The client reads nothing for a while: 10 MB of copies fill both sockets' buffers, so
    // direct writes are cut short or refused and the writer takes over.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut back = SentBack::new();
    while !back.has(SENDS) {
        let item = tokio::time::timeout(BOUND, stream.next()).await;
        let Ok(Some(Ok(Message::Text(t)))) = item else {
            panic!("not a text frame in time: {item:?}");
        };
        back.take(Codec::Json.decode_event(t.as_bytes()).expect("an event"));
    }
    back.assert_in_order(SENDS, 100, body);
    let sink = sending.await.expect("no panic");
    drop(sink.reunite(stream));
    server.abort();
}

/// Each idle connection holds its writer task: writing to the shared TCP socket must cost it
/// nothing over writing to a split half.
#[tokio::test]
async fn the_tcp_writer_task_is_no_bigger_than_the_split_one() {
    let hub = hub(Limits::default()).await;
    let ctx = context(WsConfig::default());
    let (_s1, first) = guest_session(&hub, "bob").await;
    let (_s2, second) = guest_session(&hub, "bob").await;
    let mut outbounds = [second, first].into_iter();
    let mut writer = || {
        let outbound = outbounds.next().expect("two");
        let (_, to_reader) = chatcore::transport::link(WriterState::Running, CONTROL_QUEUE);
        writer::Writer::new(outbound, to_reader, Arc::new(Activity::new()), ctx.clone())
    };
    let (server, _client) = tcp_pair().await;
    let (_read, write) = server.into_split();
    let tcp = std::mem::size_of_val(&writer().run(Arc::new(direct::TcpWrite(write))));
    let (pipe, _other) = tokio::io::duplex(64);
    let (_read, write) = tokio::io::split(pipe);
    let split = std::mem::size_of_val(&writer().run(Split(write)));
    assert!(
        tcp <= split,
        "writer over TCP {tcp} bytes, over a split half {split}"
    );
}

//! Direct writes over real TCP sockets: the sink's rest when the socket fills, and a whole
//! connection whose corked replies outrun a client that stops reading for a while.

use chatcore::protocol::Message as ChatMessage;
use chatcore::transport::{Direct, DirectSink};
use tokio::net::{TcpListener, TcpSocket};

use super::*;

/// A connected pair of real loopback sockets: (server side, client side), the client's
/// receive buffer fixed at 64 KiB so that a client that does not read fills it soon.
pub(super) async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(64 * 1024).expect("SO_RCVBUF");
    let client = socket.connect(listener.local_addr().expect("addr"));
    let (client, accepted) = tokio::join!(client, listener.accept());
    (accepted.expect("accept").0, client.expect("connect"))
}

#[tokio::test]
async fn a_sink_cut_short_by_a_full_socket_hands_back_exactly_the_rest() {
    let (server, mut client) = tcp_pair().await;
    let (_read, write) = server.into_split();
    let write = Arc::new(write);
    let sink = direct::TcpSink::new(Arc::clone(&write), Arc::new(Metrics::new()));
    // An odd size, so a nearly full socket takes part of a frame rather than none of it.
    let frame = Frame::new(Event::error(None, ErrorCode::BadFrame, "x".repeat(100_003)));
    let mut framed = Vec::new();
    wire::push_data(&mut framed, &frame, Codec::Json);
    let mut expected = Vec::new();
    let mut rest = None;
    for _ in 0..10_000 {
        match sink.try_write(&[Arc::clone(&frame)], Codec::Json) {
            Direct::Written => expected.extend_from_slice(&framed),
            Direct::Partial(left) => {
                expected.extend_from_slice(&framed);
                rest = Some(left);
                break;
            }
            Direct::Refused => panic!("a full socket took nothing: no partial write to test"),
        }
    }
    let rest = rest.expect("the socket filled up");
    assert!(
        !rest.is_empty() && rest.len() < framed.len(),
        "{}",
        rest.len()
    );
    assert_eq!(
        sink.try_write(&[Arc::clone(&frame)], Codec::Json),
        Direct::Refused,
        "a full socket takes nothing more"
    );
    let reading = tokio::spawn(async move {
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.expect("read");
        got
    });
    let mut shared = Arc::clone(&write);
    direct::Sink::write_all(&mut shared, &rest)
        .await
        .expect("the rest");
    drop((sink, shared));
    drop(Arc::try_unwrap(write).expect("the last reference")); // FIN
    let got = tokio::time::timeout(BOUND, reading)
        .await
        .expect("read in time")
        .expect("no panic");
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "the bytes, whole and in order");
}

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
    let (mut acks, mut copies) = (Vec::new(), Vec::<ChatMessage>::new());
    while (acks.len() as u64) < SENDS || (copies.len() as u64) < SENDS {
        let item = tokio::time::timeout(BOUND, stream.next()).await;
        let Ok(Some(Ok(Message::Text(t)))) = item else {
            panic!("not a text frame in time: {item:?}");
        };
        match Codec::Json.decode_event(t.as_bytes()).expect("an event") {
            Event::Ack { id, .. } => acks.push(id.expect("an id")),
            Event::Message(m) => copies.push(m),
            _ => {}
        }
    }
    let expected: Vec<u64> = (0..SENDS).map(|i| 100 + i).collect();
    assert_eq!(acks, expected, "acks in order");
    for (i, m) in (0..SENDS).zip(&copies) {
        assert_eq!(m.seq, i + 1);
        assert!(m.text == body(i), "copy {i} whole");
    }
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
    let tcp = std::mem::size_of_val(&writer().run(Arc::new(write)));
    let (pipe, _other) = tokio::io::duplex(64);
    let (_read, write) = tokio::io::split(pipe);
    let split = std::mem::size_of_val(&writer().run(write));
    assert!(
        tcp <= split,
        "writer over TCP {tcp} bytes, over a split half {split}"
    );
}

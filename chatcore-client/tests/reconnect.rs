//! Reconnect and resume against a real server: connections cut by a proxy while other
//! clients keep sending; every message must arrive exactly once, in order; sends whose acks
//! were lost are retried with their nonce and stored once.

mod common;

use std::time::Duration;

use chatcore::{Hub, Limits};
use chatcore_client::{Client, ClientEvent, ConnectionState, Message, OutgoingMessage};
use chatcore_testkit::*;
use common::*;
use futures::future::join_all;

/// Small resume and page limits, so a short outage already needs paging after the rejoin.
fn paging_hub() -> chatcore::HubBuilder {
    let limits = Limits::default()
        .with_max_history_page(7)
        .and_then(|l| l.with_history_on_join(5))
        .and_then(|l| l.with_resume_limit(5))
        .expect("limits");
    Hub::builder().limits(limits)
}

/// Collects `n` messages of `room` from the stream, counting reconnects on the way.
async fn collect(
    events: &mut chatcore_client::Events,
    room: &str,
    n: usize,
) -> (Vec<Message>, usize) {
    let mut got = Vec::new();
    let mut reconnects = 0;
    within(async {
        while got.len() < n {
            match events.recv().await.expect("stream ended") {
                ClientEvent::Message(m) if m.room == room => got.push(m),
                ClientEvent::State(ConnectionState::Reconnecting { .. }) => reconnects += 1,
                _ => {}
            }
        }
    })
    .await;
    (got, reconnects)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_exactly_once_in_order_across_repeated_drops() {
    let server = TestServer::with(paging_hub(), ws_config()).await;
    let proxy = Proxy::start(server.addr).await;
    let (reader, mut events) = Client::connect(config(&proxy.url(), "reader"))
        .await
        .expect("reader");
    reader.join("general").await.expect("join");

    const SENDERS: usize = 3;
    const EACH: usize = 60;
    let mut senders = Vec::new();
    for i in 0..SENDERS {
        let (client, _events) = Client::connect(config(&server.url(""), &format!("s{i}")))
            .await
            .expect("sender");
        client.join("general").await.expect("sender joins");
        senders.push(tokio::spawn(async move {
            for n in 0..EACH {
                client
                    .send("general", format!("s{i}-{n}"))
                    .await
                    .expect("send");
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }));
    }
    // Cut the reader's connection every 25 messages it receives, while the senders go on.
    let mut got: Vec<Message> = Vec::new();
    let mut reconnects = 0;
    within(async {
        while got.len() < SENDERS * EACH {
            match events.recv().await.expect("stream ended") {
                ClientEvent::Message(m) => {
                    got.push(m);
                    if got.len() % 25 == 0 {
                        proxy.cut();
                    }
                }
                ClientEvent::State(ConnectionState::Reconnecting { .. }) => reconnects += 1,
                _ => {}
            }
        }
    })
    .await;
    for s in senders {
        within(s).await.expect("sender task");
    }
    let seqs: Vec<u64> = got.iter().map(|m| m.seq).collect();
    let expected: Vec<u64> = (1..=(SENDERS * EACH) as u64).collect();
    assert_eq!(seqs, expected, "every seq exactly once, in order");
    assert!(
        reconnects >= 3,
        "the proxy must have forced reconnects: {reconnects}"
    );
    assert_eq!(
        got,
        server.stored("general").await,
        "exactly what the store holds"
    );
    // Nothing more arrives: no duplicate after the last message.
    reader.ping().await.expect("ping");
    assert!(
        events
            .try_recv()
            .is_none_or(|e| !matches!(e, ClientEvent::Message(_)))
    );
    assert_eq!(
        reader.joined_rooms(),
        [("general".to_owned(), (SENDERS * EACH) as u64)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_ack_is_recovered_with_the_same_nonce() {
    let server = TestServer::start().await;
    let proxy = Proxy::start(server.addr).await;
    let (ann, mut events) = Client::connect(config(&proxy.url(), "ann"))
        .await
        .expect("connect");
    ann.join("general").await.expect("join");

    // The server stores the message, but its ack (and the echo) never reach the client.
    proxy.swallow(true);
    let message = OutgoingMessage::new("general", "ack me");
    let nonce = message.nonce.clone();
    let sending = tokio::spawn({
        let ann = ann.clone();
        async move { ann.send_message(message).await }
    });
    eventually(|| async { server.stored("general").await.len() == 1 }).await;
    proxy.swallow(false);
    proxy.cut();

    let ack = within(sending).await.expect("task").expect("send");
    assert!(
        ack.duplicate,
        "the retry must be answered with the original ack"
    );
    assert_eq!((ack.seq, ack.nonce.as_str()), (1, nonce.as_str()));
    let stored = server.stored("general").await;
    assert_eq!(stored.len(), 1, "stored once");
    assert_eq!(stored[0].id, ack.msg_id);
    // The message itself comes back through the resume, once.
    let m = next_message(&mut events).await;
    assert_eq!((m.seq, m.nonce.as_deref()), (1, Some(nonce.as_str())));
    ann.send("general", "next").await.expect("send");
    assert_eq!(next_message(&mut events).await.seq, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_in_flight_during_drops_are_stored_exactly_once() {
    let server = TestServer::start().await;
    let proxy = Proxy::start(server.addr).await;
    let (ann, _events) = Client::connect(config(&proxy.url(), "ann"))
        .await
        .expect("connect");
    ann.join("general").await.expect("join");

    const N: usize = 80;
    // Acks are lost while the burst is processed; the connection drops half-way.
    proxy.swallow(true);
    let sends = join_all((0..N).map(|i| {
        let ann = ann.clone();
        async move { ann.send("general", format!("m{i}")).await }
    }));
    let cutter = async {
        eventually(|| async { server.stored("general").await.len() >= N / 2 }).await;
        let stored_at_cut = server.stored("general").await.len();
        proxy.swallow(false);
        proxy.cut();
        stored_at_cut
    };
    let (acks, stored_at_cut) = within(async { tokio::join!(sends, cutter) }).await;
    let acks: Vec<_> = acks
        .into_iter()
        .map(|a| a.expect("every send succeeds"))
        .collect();
    let mut seqs: Vec<u64> = acks.iter().map(|a| a.seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=N as u64).collect::<Vec<_>>(), "one seq per send");
    let stored = server.stored("general").await;
    let mut texts: Vec<&str> = stored.iter().map(|m| m.text.as_str()).collect();
    texts.sort_unstable();
    texts.dedup();
    assert_eq!(
        (stored.len(), texts.len()),
        (N, N),
        "each message stored exactly once"
    );
    let duplicates = acks.iter().filter(|a| a.duplicate).count();
    assert!(
        duplicates >= stored_at_cut,
        "sends stored before the cut were retried and answered as duplicates: {duplicates} < {stored_at_cut}"
    );
}

#[tokio::test]
async fn join_after_pages_a_long_backlog_then_goes_live() {
    let server = TestServer::with(paging_hub(), ws_config()).await;
    let (writer, _w) = Client::connect(config(&server.url(""), "writer"))
        .await
        .expect("writer");
    writer.join("general").await.expect("join");
    for i in 1..=30 {
        writer.send("general", format!("m{i}")).await.expect("send");
    }
    let (reader, mut events) = Client::connect(config(&server.url(""), "reader"))
        .await
        .expect("reader");
    let joined = reader.join_after("general", 3).await.expect("join_after");
    assert!(joined.history.is_empty());
    assert_eq!(joined.last_seq, 30);
    writer.send("general", "live").await.expect("send");
    let (got, _) = collect(&mut events, "general", 28).await;
    assert_eq!(
        got.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (4..=31).collect::<Vec<_>>()
    );
    assert_eq!(got.last().map(|m| m.text.as_str()), Some("live"));
}

//! The host's durable event stream: every committed event once per consumer group, in seq
//! order per room, across a consumer killed mid-stream and restarted, and across two nodes;
//! a consumer that stops reading holds one page at most.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use chatcore::bus::LocalNetwork;
use chatcore::events::{StreamConfig, StreamFilter};
use chatcore::protocol::{Message, RoomKind};
use chatcore::store::{HistoryPage, MemoryStore, Store};
use chatcore::{ErrorCode, HostPost, Hub};
use chatcore_testkit::{HookedStore, StoreHook, node};
use tokio::sync::mpsc;

const ROOMS: [&str; 3] = ["order-1", "order-2", "order-3"];

async fn post_many(hub: &Hub, from: usize, n: usize) {
    for i in from..from + n {
        let room = ROOMS[i % ROOMS.len()];
        hub.post(HostPost::as_user(room, "ann", format!("m{i}")))
            .await
            .expect("post");
    }
}

/// Runs a consumer that commits each event right after handing it on.
fn consume(
    hub: &Hub,
    config: StreamConfig,
    tag: &'static str,
    out: mpsc::Sender<(&'static str, Message)>,
) -> tokio::task::JoinHandle<()> {
    let mut stream = hub.event_stream(config).expect("stream");
    tokio::spawn(async move {
        loop {
            let event = stream.next().await.expect("next");
            if out.send((tag, event.clone())).await.is_err() {
                return;
            }
            stream.commit(&event).await.expect("commit");
        }
    })
}

async fn take(
    rx: &mut mpsc::Receiver<(&'static str, Message)>,
    n: usize,
) -> Vec<(&'static str, Message)> {
    let mut got = Vec::new();
    while got.len() < n {
        match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
            Ok(Some(e)) => got.push(e),
            _ => panic!("only {} of {n} events arrived within 5 s", got.len()),
        }
    }
    got
}

fn key(m: &Message) -> (String, u64) {
    (m.room.clone(), m.seq)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_once_across_a_consumer_killed_mid_stream() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let net = LocalNetwork::new();
    let hub = node(Arc::clone(&store), &net, "a").await;
    for room in ROOMS {
        hub.create_room(room, RoomKind::Public).await.expect("room");
    }
    post_many(&hub, 0, 60).await;
    let config = StreamConfig::new("counter").with_page(7);
    // A channel of one: the consumer cannot run ahead of the test, so the kill lands
    // mid-stream.
    let (tx, mut rx) = mpsc::channel(1);
    let first = consume(&hub, config.clone(), "first", tx.clone());
    // Live posts go on while the first consumer works through the backlog.
    let poster = {
        let hub = hub.clone();
        tokio::spawn(async move { post_many(&hub, 60, 60).await })
    };
    let mut before_kill = take(&mut rx, 45).await;
    first.abort();
    let _ = first.await;
    poster.await.expect("poster");
    // What the first consumer handed on before it died (the last one perhaps uncommitted).
    while let Ok(e) = rx.try_recv() {
        before_kill.push(e);
    }
    let committed: BTreeMap<String, u64> = store
        .cursors("counter")
        .await
        .expect("cursors")
        .into_iter()
        .collect();
    assert!(
        committed.values().sum::<u64>() < 120,
        "the first consumer was killed mid-stream: {committed:?}"
    );
    let second = consume(&hub, config, "second", tx);
    let expected_rest: usize = ROOMS
        .iter()
        .map(|r| 40 - committed.get(*r).copied().unwrap_or(0) as usize)
        .sum();
    let after = take(&mut rx, expected_rest).await;
    second.abort();
    // The restart began exactly after the committed cursor of each room, in seq order.
    for room in ROOMS {
        let seqs: Vec<u64> = after
            .iter()
            .filter(|(_, m)| m.room == room)
            .map(|(_, m)| m.seq)
            .collect();
        let from = committed.get(room).copied().unwrap_or(0);
        assert_eq!(seqs, (from + 1..=40).collect::<Vec<_>>(), "{room}");
    }
    // Every event was delivered; the only repeats are events handed on but not yet
    // committed at the kill (at most one per consumer, the one in flight).
    let mut all: Vec<(String, u64)> = before_kill
        .iter()
        .chain(&after)
        .map(|(_, m)| key(m))
        .collect();
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 120, "every committed event was delivered");
    assert!(total - all.len() <= 1, "{} repeats", total - all.len());
    for (room, seq) in before_kill.iter().map(|(_, m)| key(m)) {
        if seq <= committed.get(&room).copied().unwrap_or(0) {
            assert!(
                !after.iter().any(|(_, m)| key(m) == (room.clone(), seq)),
                "{room} #{seq} was committed and came again"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_one_group_each_event_once_and_the_standby_takes_over() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let net = LocalNetwork::new();
    let a = node(Arc::clone(&store), &net, "a").await;
    let b = node(Arc::clone(&store), &net, "b").await;
    for room in ROOMS {
        a.create_room(room, RoomKind::Public).await.expect("room");
    }
    let config = StreamConfig::new("indexer")
        .with_lease_ttl(Duration::from_millis(300))
        .with_poll(Duration::from_millis(20));
    let (tx, mut rx) = mpsc::channel(1000);
    let on_a = consume(&a, config.clone(), "a", tx.clone());
    let on_b = consume(&b, config, "b", tx);
    post_many(&a, 0, 30).await;
    post_many(&b, 30, 30).await;
    let got = take(&mut rx, 60).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(rx.try_recv().is_err(), "nothing is delivered twice");
    let keys: BTreeSet<(String, u64)> = got.iter().map(|(_, m)| key(m)).collect();
    assert_eq!(keys.len(), 60);
    let deliverers: BTreeSet<&str> = got.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        deliverers.len(),
        1,
        "one node of the group delivers: {deliverers:?}"
    );
    // The active node dies; the standby takes over from the committed cursors.
    let (dead, survivor) = if deliverers.contains("a") {
        (on_a, on_b)
    } else {
        (on_b, on_a)
    };
    dead.abort();
    post_many(&a, 60, 15).await;
    let more = take(&mut rx, 15).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        rx.try_recv().is_err(),
        "nothing is delivered twice after the take-over"
    );
    let later: BTreeSet<(String, u64)> = more.iter().map(|(_, m)| key(m)).collect();
    assert_eq!(later.len(), 15);
    assert!(later.is_disjoint(&keys));
    survivor.abort();
}

#[tokio::test]
async fn filters_and_bad_configs() {
    let hub = Hub::builder().build().await.expect("hub");
    for room in ["order-1", "lobby"] {
        hub.create_room(room, RoomKind::Public).await.expect("room");
        hub.post(HostPost::system(room, "hi")).await.expect("post");
    }
    let mut orders = hub
        .event_stream(
            StreamConfig::new("o").with_filter(StreamFilter::default().room_prefix("order-")),
        )
        .expect("stream");
    let e = orders.next().await.expect("next");
    assert_eq!(e.room, "order-1");
    orders.commit(&e).await.expect("commit");
    assert!(
        tokio::time::timeout(Duration::from_millis(300), orders.next())
            .await
            .is_err(),
        "the lobby is filtered out"
    );
    for bad in [StreamConfig::new(""), StreamConfig::new("g").with_page(0)] {
        assert!(hub.event_stream(bad).is_err());
    }
}

#[tokio::test]
async fn a_commit_after_losing_the_lease_is_refused() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let hub = Hub::builder()
        .shared_store(Arc::clone(&store))
        .build()
        .await
        .expect("hub");
    hub.create_room("r", RoomKind::Public).await.expect("room");
    hub.post(HostPost::system("r", "one")).await.expect("post");
    let mut stream = hub
        .event_stream(StreamConfig::new("g").with_lease_ttl(Duration::from_millis(60)))
        .expect("stream");
    let e = stream.next().await.expect("next");
    tokio::time::sleep(Duration::from_millis(100)).await;
    store
        .acquire_lease("g", "usurper", Duration::from_secs(10))
        .await
        .expect("lease")
        .expect("lapsed lease taken");
    let err = stream.commit(&e).await.expect_err("fenced");
    assert_eq!(err.code(), ErrorCode::Unavailable);
    assert!(!stream.is_active());
    assert_eq!(store.cursors("g").await.expect("cursors"), []);
}

/// Counts the messages the stream reads from the store.
#[derive(Default)]
struct CountReads(AtomicU64);

impl StoreHook for CountReads {
    fn history_read(&self, page: &HistoryPage) {
        self.0.fetch_add(page.messages.len() as u64, Relaxed);
    }
}

#[tokio::test]
async fn a_consumer_that_stops_reading_holds_a_page_and_catches_up_later() {
    let store = Arc::new(HookedStore::new(
        Arc::new(MemoryStore::new()),
        CountReads::default(),
    ));
    let hub = Hub::builder()
        .shared_store(store.clone())
        .build()
        .await
        .expect("hub");
    hub.create_room("busy", RoomKind::Public)
        .await
        .expect("room");
    let mut stream = hub
        .event_stream(StreamConfig::new("slow").with_page(50))
        .expect("stream");
    post_many_in(&hub, "busy", 10).await;
    assert_eq!(stream.next().await.expect("next").seq, 1);
    // The consumer stops reading while 2 000 more are committed.
    post_many_in(&hub, "busy", 2000).await;
    assert!(
        store.hook().0.load(Relaxed) <= 50,
        "a consumer that does not read holds at most one page, read {}",
        store.hook().0.load(Relaxed)
    );
    // It reads again and catches up from the store, in order, with nothing lost.
    let mut last = None;
    for expected in 2..=2010 {
        let e = stream.next().await.expect("next");
        assert_eq!(e.seq, expected);
        last = Some(e);
    }
    stream.commit(&last.expect("events")).await.expect("commit");
    assert_eq!(
        store.cursors("slow").await.expect("cursors"),
        [("busy".to_owned(), 2010)]
    );
}

async fn post_many_in(hub: &Hub, room: &str, n: usize) {
    for i in 0..n {
        hub.post(HostPost::system(room, format!("m{i}")))
            .await
            .expect("post");
    }
}

/// A host that commits a cursor past its room's newest seq, or for a room that does not
/// exist (rooms are never deleted, so a cursor can only name a room that never was), gets
/// the exact error, the group's cursors do not move, and the stream goes on.
#[tokio::test]
async fn cursors_past_the_head_or_for_no_room_are_refused() {
    let hub = Hub::builder().build().await.expect("hub");
    hub.create_room("r", RoomKind::Public).await.expect("room");
    for text in ["one", "two"] {
        hub.post(HostPost::system("r", text)).await.expect("post");
    }
    let mut stream = hub.event_stream(StreamConfig::new("g")).expect("stream");
    let first = stream.next().await.expect("next");
    stream.commit(&first).await.expect("commit");
    let past = Message {
        seq: 3,
        ..first.clone()
    };
    let err = stream.commit(&past).await.expect_err("past the head");
    assert_eq!(err.code(), ErrorCode::BadCursor, "{err}");
    let nowhere = Message {
        room: "nowhere".into(),
        ..first.clone()
    };
    let err = stream.commit(&nowhere).await.expect_err("no such room");
    assert_eq!(err.code(), ErrorCode::UnknownRoom, "{err}");
    assert_eq!(
        hub.store().cursors("g").await.expect("cursors"),
        [("r".to_owned(), 1)],
        "refused commits moved nothing"
    );
    let second = stream.next().await.expect("the stream goes on");
    assert_eq!((second.seq, second.text.as_str()), (2, "two"));
    stream.commit(&second).await.expect("commit");
}

//! The host's event stream on PostgreSQL with two nodes (two stores, two hubs, one schema):
//! one lease holder however the nodes race, each event once per consumer group, and the
//! standby taking over from the committed cursors when the active node dies.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chatcore::bus::LocalNetwork;
use chatcore::events::StreamConfig;
use chatcore::protocol::{Message, RoomKind};
use chatcore::store::Store;
use chatcore::{HostPost, Hub};
use common::PgFactory;
use tokio::sync::mpsc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_nodes_get_one_lease() {
    let Some(f) = PgFactory::new().await else {
        return;
    };
    let a: Arc<dyn Store> = Arc::new(f.store().await);
    let b: Arc<dyn Store> = Arc::new(f.store().await);
    let tries: Vec<_> = (0..8)
        .map(|i| {
            let s = if i % 2 == 0 {
                Arc::clone(&a)
            } else {
                Arc::clone(&b)
            };
            tokio::spawn(async move {
                s.acquire_lease("race", &format!("node-{i}"), Duration::from_secs(30))
                    .await
                    .expect("lease")
            })
        })
        .collect();
    let mut granted = Vec::new();
    for t in tries {
        granted.extend(t.await.expect("task"));
    }
    assert_eq!(
        granted,
        [1],
        "exactly one of eight racing holders gets the lease"
    );
    f.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_one_group_each_event_once() {
    let Some(f) = PgFactory::new().await else {
        return;
    };
    let net = LocalNetwork::new();
    let mut hubs = Vec::new();
    for node in ["a", "b"] {
        hubs.push(
            Hub::builder()
                .store(f.store().await)
                .bus(net.node(node))
                .build()
                .await
                .expect("hub"),
        );
    }
    for room in ["order-1", "order-2"] {
        hubs[0]
            .create_room(room, RoomKind::Public)
            .await
            .expect("room");
    }
    let config = StreamConfig::new("indexer")
        .with_lease_ttl(Duration::from_millis(600))
        .with_poll(Duration::from_millis(20));
    let (tx, mut rx) = mpsc::channel::<(&'static str, Message)>(1000);
    let mut tasks = Vec::new();
    for (hub, name) in hubs.iter().zip(["a", "b"]) {
        let mut stream = hub.event_stream(config.clone()).expect("stream");
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let e = stream.next().await.expect("next");
                tx.send((name, e.clone())).await.expect("send");
                stream.commit(&e).await.expect("commit");
            }
        }));
    }
    let post = |hub: &Hub, from: usize, n: usize| {
        let hub = hub.clone();
        async move {
            for i in from..from + n {
                let room = if i % 2 == 0 { "order-1" } else { "order-2" };
                hub.post(HostPost::system(room, format!("m{i}")))
                    .await
                    .expect("post");
            }
        }
    };
    post(&hubs[0], 0, 20).await;
    post(&hubs[1], 20, 20).await;
    let mut got = Vec::new();
    while got.len() < 40 {
        let e = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("events within 10 s")
            .expect("open");
        got.push(e);
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(rx.try_recv().is_err(), "nothing delivered twice");
    let keys: BTreeSet<(String, u64)> = got.iter().map(|(_, m)| (m.room.clone(), m.seq)).collect();
    assert_eq!(keys.len(), 40);
    let nodes: BTreeSet<&str> = got.iter().map(|(n, _)| *n).collect();
    assert_eq!(nodes.len(), 1, "one node delivers for the group: {nodes:?}");
    // The active node dies; the other takes over after the lease lapses.
    let active = usize::from(nodes.contains("b"));
    tasks[active].abort();
    post(&hubs[1 - active], 40, 10).await;
    let mut later = BTreeSet::new();
    while later.len() < 10 {
        let (node, m) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("the standby takes over within 10 s")
            .expect("open");
        assert_ne!(node, ["a", "b"][active]);
        assert!(later.insert((m.room.clone(), m.seq)), "delivered once");
        assert!(
            !keys.contains(&(m.room, m.seq)),
            "committed events do not come again"
        );
    }
    for t in &tasks {
        t.abort();
    }
    f.drop_schema().await;
}

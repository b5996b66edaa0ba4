//! Changes to messages across real nodes and a Redis restart: edits, deletes and reactions
//! made on one node reach the other node's members exactly once and in seq order, also
//! those made while Redis was down (gap repair), no session is closed, and afterwards a
//! history page on the other node shows every message as it now is.

use std::collections::BTreeMap;
use std::time::Duration;

use chatcore::protocol::{Codec, MessageKind};
use chatcore_client::Ack;
use chatcore_testkit::{PrivateRedis, Probe, open};
use tokio::time::Instant;

use super::fixture::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_reach_the_other_node_once_in_order_across_a_redis_restart() {
    let Some((_, pg)) = Cluster::services() else {
        return;
    };
    let mut redis = PrivateRedis::start().await.expect("a private redis-server");
    let cluster = Cluster::start("changes", 2, redis.url(), pg).await;
    let (n1, n2) = (cluster.node("n1"), cluster.node("n2"));
    let room = "notes";
    let (ann, _ann_inbox) = client(&n1.url(), "ann").await;
    let (bob, _bob_inbox) = client(&n2.url(), "bob").await;
    // ben on n2 reads raw frames: nothing on the client side can hide a duplicate or a gap.
    let ws = open(&format!("ws://{}/ws?user=ben", n2.addr), None, &[])
        .await
        .expect("websocket");
    let mut ben = Probe::from_ws(ws, Codec::Json).await;
    ben.join(room).await;
    ann.join(room).await.expect("join");
    bob.join(room).await.expect("join");

    let mut acks: Vec<Ack> = Vec::new();
    for text in ["plan A", "typo here", "plan C"] {
        acks.push(ann.send(room, text).await.expect("send"));
    }
    // With Redis up: an edit and a delete on n1, a reaction on n2.
    acks.push(ann.edit(room, 1, "plan A, revised").await.expect("edit"));
    acks.push(bob.react(room, 1, "👍").await.expect("react"));
    acks.push(ann.delete(room, 2).await.expect("delete"));

    redis.stop().await;
    wait_until!(PATIENCE, "n1 to notice the bus is down", {
        !ready(n1.addr).await
    });
    // While Redis is down: the store acks changes on both nodes; the bus carries nothing.
    acks.push(ann.edit(room, 3, "plan C, final").await.expect("edit"));
    acks.push(ann.react(room, 3, "🎉").await.expect("react"));
    acks.push(ann.react(room, 1, "👍").await.expect("react"));
    redis.restart().await.expect("restart redis-server");
    wait_until!(PATIENCE, "both nodes ready again", {
        ready(n1.addr).await && ready(n2.addr).await
    });
    acks.push(ann.unreact(room, 3, "🎉").await.expect("unreact"));
    acks.push(ann.send(room, "the end").await.expect("send"));

    let expected: BTreeMap<u64, String> = acks.iter().map(|a| (a.seq, a.msg_id.clone())).collect();
    assert_eq!(
        expected.keys().copied().collect::<Vec<_>>(),
        (1..=11).collect::<Vec<u64>>(),
        "one gapless seq for messages and changes"
    );
    let seen = ben.messages(room, expected.len()).await;
    assert_exactly_once_in_order("ben", &seen, &expected);
    let kinds: Vec<MessageKind> = seen.iter().map(|m| m.kind.clone()).collect();
    use MessageKind::*;
    assert_eq!(
        kinds,
        [
            Text, Text, Text, Edit, React, Delete, Edit, React, React, Unreact, Text
        ]
    );
    let targets: Vec<Option<u64>> = seen.iter().map(|m| m.target).collect();
    assert_eq!(
        &targets[3..10],
        [
            Some(1),
            Some(1),
            Some(2),
            Some(3),
            Some(3),
            Some(1),
            Some(3)
        ]
    );

    // The other node's history shows the current state: edits applied, the deleted text
    // gone, reactions counted (the 🎉 taken back).
    let history = rest_history(n2, room).await;
    let by_seq = |seq: u64| {
        history
            .iter()
            .find(|m| m.seq == seq)
            .unwrap_or_else(|| panic!("#{seq} in history"))
    };
    let first = by_seq(1);
    assert_eq!(first.text, "plan A, revised");
    assert!(first.edited_ts.is_some());
    let counts: Vec<(&str, u64)> = first
        .reactions
        .iter()
        .map(|r| (r.emoji.as_str(), r.count))
        .collect();
    assert_eq!(counts, [("👍", 2)]);
    let second = by_seq(2);
    assert_eq!(second.text, "");
    assert_eq!(second.deleted.as_ref().map(|d| d.by.as_str()), Some("ann"));
    let third = by_seq(3);
    assert_eq!(third.text, "plan C, final");
    assert!(third.reactions.is_empty(), "{:?}", third.reactions);
    cluster.finish().await;
    redis.stop().await;
}

//! Several nodes (stores with pools and pipelines of their own) on one schema: each room's
//! seq stays gapless, a nonce raced through several nodes is stored once, and change events
//! keep their rules across nodes.
//!
//! Needs `CHATCORE_TEST_POSTGRES_URL`.

#[macro_use]
mod common;

use std::collections::HashMap;
use std::sync::Arc;

use chatcore::store::{HistoryQuery, MAX_PAGE, Store};
use chatcore_store_postgres::PostgresStore;
use chatcore_testkit::fixtures::new_message as msg;
use common::{PgFactory, room};

/// Three nodes (separate stores and pools) write the same rooms at once, many appends in
/// flight each: every room still gets 1..=n, and each writer's messages keep their order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_share_one_gapless_sequence() {
    let f = factory!();
    let nodes: Vec<Arc<PostgresStore>> = vec![
        Arc::new(f.store().await),
        Arc::new(f.store().await),
        Arc::new(f.store().await),
    ];
    let rooms = ["r0", "r1", "r2"];
    for r in rooms {
        room(&*nodes[0], r).await;
    }
    let writers_per_node = 4;
    let each = 150;
    let mut tasks = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        for w in 0..writers_per_node {
            let node = Arc::clone(node);
            tasks.push(tokio::spawn(async move {
                let sender = format!("n{n}w{w}");
                // Queue everything first (many in flight), then await in order.
                let pending: Vec<_> = (0..each)
                    .map(|i| {
                        node.append(msg(rooms[i % rooms.len()], &sender, &i.to_string(), None))
                    })
                    .collect();
                let mut got = Vec::new();
                for p in pending {
                    let m = p.await.expect("append").message;
                    got.push((m.room, m.seq));
                }
                got
            }));
        }
    }
    let mut per_room: HashMap<String, Vec<u64>> = HashMap::new();
    for t in tasks {
        let got = t.await.expect("writer");
        let mut last: HashMap<&str, u64> = HashMap::new();
        for (r, seq) in &got {
            let prev = last.insert(r, *seq).unwrap_or(0);
            assert!(*seq > prev, "a writer's messages to {r} keep their order");
        }
        for (r, seq) in got {
            per_room.entry(r).or_default().push(seq);
        }
    }
    let total: usize = per_room.values().map(Vec::len).sum();
    assert_eq!(total, nodes.len() * writers_per_node * each);
    for (r, mut seqs) in per_room {
        seqs.sort_unstable();
        let n = seqs.len() as u64;
        assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "room {r} is gapless");
        for node in &nodes {
            assert_eq!(node.last_seq(&r).await.expect("last_seq"), n);
        }
        let page = nodes[1]
            .history(&r, HistoryQuery::after(0, MAX_PAGE))
            .await
            .expect("history");
        assert_eq!(page.messages.len() as u64, n);
        assert!(page.messages.iter().zip(1..).all(|(m, s)| m.seq == s));
    }
    for node in &nodes {
        node.close().await.expect("close");
    }
}

/// The same (sender, nonce) sent through several nodes to different rooms at once is stored
/// once; everyone gets the original, and no seq is burned anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonce_races_across_nodes_store_once() {
    let f = factory!();
    let nodes = [f.store().await, f.store().await, f.store().await];
    let rooms = ["a", "b", "c", "d"];
    for r in rooms {
        room(&nodes[0], r).await;
    }
    for round in 0..10 {
        let nonce = format!("retry-{round}");
        let pending: Vec<_> = (0..12)
            .map(|i| {
                nodes[i % nodes.len()].append(msg(rooms[i % rooms.len()], "ann", "x", Some(&nonce)))
            })
            .collect();
        let mut originals = 0;
        let mut stored = Vec::new();
        for p in pending {
            let a = p.await.expect("append");
            originals += usize::from(!a.duplicate);
            stored.push((a.message.room, a.message.seq, a.message.id));
        }
        assert_eq!(originals, 1, "round {round}: exactly one original");
        stored.dedup();
        assert_eq!(stored.len(), 1, "round {round}: everyone sees the original");
    }
    let mut total = 0;
    for r in rooms {
        let last = nodes[2].last_seq(r).await.expect("last_seq");
        let page = nodes[2]
            .history(r, HistoryQuery::after(0, 100))
            .await
            .expect("history");
        assert!(page.messages.iter().zip(1..).all(|(m, s)| m.seq == s));
        assert_eq!(page.messages.len() as u64, last, "room {r} has no gap");
        total += last;
    }
    assert_eq!(total, 10, "one message per round");
}

/// Two nodes (two stores on one database) writing changes to one room at once: the room's
/// seq stays gapless, and the rules hold across the nodes (of one user's identical
/// reactions sent through both, exactly one is stored; of two deletes of one message, one).
#[tokio::test]
async fn two_nodes_changing_one_room_keep_seq_gapless_and_rules() {
    use chatcore::protocol::MessageKind;
    let f = factory!();
    let (a, b) = (Arc::new(f.store().await), Arc::new(f.store().await));
    room(a.as_ref(), "r").await;
    for i in 0..10 {
        a.append(msg("r", "ann", &format!("message {i}"), None))
            .await
            .expect("append");
    }
    let change = |sender: &str, kind: MessageKind, target: u64, text: &str| {
        let mut m = msg("r", sender, text, None);
        m.kind = kind;
        m.target = Some(target);
        m
    };
    let mut tasks = Vec::new();
    for i in 0..40u64 {
        let node = if i % 2 == 0 {
            Arc::clone(&a)
        } else {
            Arc::clone(&b)
        };
        let target = i % 10 + 1;
        let same = change("dup", MessageKind::React, 1, "👍");
        let mine = change(&format!("u{i}"), MessageKind::React, target, "🎉");
        let gone = change("ann", MessageKind::Delete, 10, "");
        tasks.push(tokio::spawn(async move {
            let (same, mine, gone) =
                tokio::join!(node.append(same), node.append(mine), node.append(gone));
            // A refusal is the rule's `invalid`, never a failed write.
            for refused in [&same, &mine, &gone]
                .into_iter()
                .filter_map(|r| r.as_ref().err())
            {
                assert_eq!(refused.code(), chatcore::ErrorCode::Invalid, "{refused}");
            }
            (same.is_ok(), (target, mine.is_ok()), gone.is_ok())
        }));
    }
    let (mut same, mut gone, mut mine) = (0, 0, 0);
    for t in tasks {
        let (s, (target, m), g) = t.await.expect("task");
        // Message 10 is deleted meanwhile: a reaction to it may come before or after.
        assert!(m || target == 10, "a user's first reaction is stored");
        same += usize::from(s);
        gone += usize::from(g);
        mine += u64::from(m);
    }
    assert_eq!((same, gone), (1, 1), "one identical reaction, one delete");
    let page = a
        .history("r", HistoryQuery::after(0, 1000))
        .await
        .expect("history");
    let seqs: Vec<u64> = page.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=10 + mine + 2).collect::<Vec<u64>>(), "gapless");
    let current = b
        .history_current("r", HistoryQuery::after(0, 10), None)
        .await
        .expect("current");
    let reacted: u64 = current
        .messages
        .iter()
        .flat_map(|m| m.reactions.iter())
        .filter(|r| r.emoji == "🎉")
        .map(|r| r.count)
        .sum();
    assert_eq!(
        reacted, 36,
        "message 10's reactions went with it, or were refused"
    );
}

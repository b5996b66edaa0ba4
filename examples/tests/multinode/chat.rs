//! Chat, DMs, presence, typing and history across nodes; one order under concurrent senders.

use std::collections::BTreeMap;
use std::time::Duration;

use chatcore_client::{ClientEvent, HistoryQuery};
use chatcore_testkit::{HttpResponse, get};
use tokio::time::Instant;

use super::fixture::*;

/// Clients of two nodes chat in a room and in a DM, see each other's presence and
/// typing, and read the same history from either node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_dm_presence_typing_and_history_across_nodes() {
    let Some((redis, pg)) = Cluster::services() else {
        return;
    };
    let cluster = Cluster::start("chat", 2, redis, pg).await;
    let (n1, n2) = (cluster.node("n1"), cluster.node("n2"));
    let (ann, ann_in) = client(&n1.url(), "ann").await;
    let (bob, bob_in) = client(&n2.url(), "bob").await;

    ann.join("lobby").await.expect("join");
    bob.join("lobby").await.expect("join");
    // Presence: each sees the other online (bob's node learns of ann from her node's
    // roster within its 3 s period, ann's from bob's join).
    wait_until!(PATIENCE, "ann to see bob online", {
        ann.who("lobby")
            .await
            .expect("who")
            .contains(&"bob".to_owned())
    });
    wait_until!(PATIENCE, "bob to see ann online", {
        bob.who("lobby").await.expect("who") == ["ann", "bob"]
    });
    assert!(
        ann_in.any(user_joined("lobby", "bob")),
        "ann got bob's join notice"
    );

    // Chat both ways.
    let hi = ann.send("lobby", "hi bob").await.expect("send");
    let yo = bob.send("lobby", "yo ann").await.expect("send");
    assert_eq!((hi.seq, yo.seq), (1, 2));
    for (who, inbox) in [("ann", &ann_in), ("bob", &bob_in)] {
        wait_until!(PATIENCE, format!("{who} to have both messages"), {
            inbox.messages("lobby").len() == 2
        });
        let texts: Vec<String> = inbox
            .messages("lobby")
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert_eq!(texts, ["hi bob", "yo ann"], "{who}");
    }

    // Typing crosses nodes.
    ann.typing("lobby", true).expect("typing");
    wait_until!(PATIENCE, "bob to see ann typing", {
        bob_in.any(|e| {
            matches!(e, ClientEvent::Typing { room, user, on: true } if room == "lobby" && user == "ann")
        })
    });

    // A DM from ann (n1) to bob (n2): n1 invites over the bus and n2 joins bob's session
    // to the conversation by itself, first message included; then both directions are
    // live.
    let first = ann.dm("bob", "psst").await.expect("dm");
    let dm_room = first.room.clone();
    wait_until!(PATIENCE, "bob, on another node, to be joined to the DM", {
        bob_in.any(|e| {
            matches!(e, ClientEvent::Joined(j)
                if j.room == dm_room && j.history.iter().any(|m| m.text == "psst"))
        }) || bob_in.messages(&dm_room).iter().any(|m| m.text == "psst")
    });
    let second = ann.dm("bob", "still there?").await.expect("dm");
    let reply = bob.dm("ann", "yes").await.expect("dm");
    assert_eq!(
        (second.room.as_str(), reply.room.as_str()),
        (dm_room.as_str(), dm_room.as_str())
    );
    wait_until!(PATIENCE, "bob to get the live DM", {
        bob_in
            .messages(&dm_room)
            .iter()
            .any(|m| m.text == "still there?")
    });
    wait_until!(PATIENCE, "ann to get bob's reply", {
        ann_in.messages(&dm_room).iter().any(|m| m.text == "yes")
    });
    let ann_dm: Vec<String> = ann_in
        .messages(&dm_room)
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(ann_dm, ["psst", "still there?", "yes"]);

    // History is the same from either node, over REST and over the socket.
    let h1 = rest_history(n1, "lobby").await;
    let h2 = rest_history(n2, "lobby").await;
    assert_eq!(ids(&h1), ids(&h2));
    assert_eq!(ids(&h1), ids(&bob_in.messages("lobby")));
    let page = bob
        .history(dm_room.clone(), HistoryQuery::latest())
        .await
        .expect("history");
    let via_ann = ann
        .history(dm_room, HistoryQuery::latest())
        .await
        .expect("history");
    assert_eq!(ids(&page.messages), ids(&via_ann.messages));
    assert_eq!(page.messages.len(), 3);

    // Leaving is seen across nodes.
    bob.leave("lobby").await.expect("leave");
    wait_until!(
        PATIENCE,
        "ann to see bob leave",
        ann_in.any(user_left("lobby", "bob"))
    );
    // The bus metrics are exported.
    let HttpResponse {
        status,
        body: metrics,
        ..
    } = get(n1.addr, "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains("chatcore_redis_published_total"),
        "{metrics}"
    );
    assert!(metrics.contains("chatcore_redis_connected 1"), "{metrics}");
    cluster.finish().await;
}

/// Two senders on each of three nodes send at once: every client sees every message
/// exactly once, in one order (seq), the same order the store holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_senders_on_every_node_see_one_order() {
    let Some((redis, pg)) = Cluster::services() else {
        return;
    };
    const PER_SENDER: usize = 40;
    let cluster = Cluster::start("order", 3, redis, pg).await;
    let mut clients = Vec::new();
    for (i, node) in cluster.nodes.iter().enumerate() {
        for j in 0..2 {
            let user = format!("u{i}{j}");
            let (c, inbox) = client(&node.url(), &user).await;
            c.join("busy").await.expect("join");
            clients.push((user, c, inbox));
        }
    }
    let senders: Vec<_> = clients
        .iter()
        .map(|(user, c, _)| {
            let (user, c) = (user.clone(), c.clone());
            tokio::spawn(async move {
                let mut acks = Vec::new();
                for k in 0..PER_SENDER {
                    let ack = c.send("busy", format!("{user} #{k}")).await.expect("send");
                    acks.push((ack.seq, ack.msg_id));
                }
                acks
            })
        })
        .collect();
    let mut expected = BTreeMap::new();
    for sender in senders {
        for (seq, id) in sender.await.expect("sender") {
            assert!(expected.insert(seq, id).is_none(), "seq {seq} acked twice");
        }
    }
    let total = PER_SENDER * clients.len();
    assert_eq!(expected.len(), total);
    assert_eq!(
        expected.keys().copied().collect::<Vec<_>>(),
        (1..=total as u64).collect::<Vec<_>>()
    );
    for (user, _, inbox) in &clients {
        settle(|| inbox.messages("busy").len() >= total).await;
        assert_exactly_once_in_order(user, &inbox.messages("busy"), &expected);
    }
    let stored = rest_history(cluster.node("n3"), "busy").await;
    assert_eq!(ids(&stored), expected.into_iter().collect::<Vec<_>>());
    cluster.finish().await;
}
